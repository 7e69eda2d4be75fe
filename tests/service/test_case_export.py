"""Case exports for the force's evidence system, through the API and the worker on moto.

Given a case with two owners' uploads (ingested, scanned) and an owner who declined, when an
officer on the case asks for an export and the worker runs, then the export is built in the
exports bucket by server-side copies, and the downloaded folder passes ``sha256sum -c``.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from chalicelib import geo
from chalicelib.base.audit import AuditEntry
from chalicelib.base.config import get_config
from chalicelib.footage import custody
from chalicelib.footage.tables import EvidenceItem, FootageRequest
from chalicelib.registry.identity import owner_of
from chalicelib.registry.tables import AddressAttribute, GeoIndexEntry, PointAttribute, Registration
from tests.conftest import REGION, bearer, open_case, post_json

pytestmark = pytest.mark.usefixtures("footage")

CASE_REF = "20/888/26"
NOW = datetime.now(timezone.utc)
MP4_A = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 300
MP4_B = b"\x00\x00\x00\x20ftypmp42\x00\x00\x00\x00mp42isomavc1" + bytes(reversed(range(256))) * 500
STATEMENT = {
    "name": "Jane Smith", "operator": "my_business", "operator_name": "Smith's Bakery <Ltd>",
    "system": "Hikvision DS-7608NI", "cameras": [1], "source": "recorder_export", "gaps_or_edits": False,
    "clock": {"checked": True, "recorder_shows": "2026-12-02T18:05:30", "observed_at": "2026-12-02T18:05:12.345Z",
              "uncertainty_ms": 850, "offset_seconds": 17.655, "timezone": "Europe/London",
              "method": "The owner read the recorder's clock against the page's corrected clock."},
    "witness_statement": "yes", "declaration": True, "saved_at": "2026-12-02T18:06:00Z",
}


def body_of(response) -> Any:
    return json.loads(response.body or b"null")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# -- given -------------------------------------------------------------------------------------


def place(registration_id: str) -> None:
    lat, lon = 52.4812, -1.8984
    email = f"{registration_id}@example.org"
    Registration(
        registration_id, owner=owner_of(email), claim=f"claim-{registration_id}", email=email,
        name=f"Owner {registration_id}", address=AddressAttribute(line1="1 Colmore Row", town="Birmingham", postcode="B3 2BJ"),
        location=PointAttribute(lat=lat, lon=lon), geohash=geo.encode(lat, lon), camera_count=1, cameras=[],
        retention_days=30, status="active", consented_at=NOW, created_at=NOW, updated_at=NOW,
    ).save()
    GeoIndexEntry(*geo.index_keys(lat, lon, registration_id), registration_id=registration_id, lat=lat, lon=lon).save()


def ask(client, *registration_ids: str) -> None:
    body = {
        "case_ref": CASE_REF, "registration_ids": list(registration_ids),
        "incident": {"lat": 52.4814, "lon": -1.8990, "from": iso(NOW - timedelta(hours=3)),
                     "to": iso(NOW - timedelta(hours=2)), "summary": "A car was damaged outside the bank."},
        "reason": "Looking for the vehicle that hit it",
    }
    response = post_json(client, "/officer/requests", body, headers=bearer("pc.jones"))
    assert response.status_code == 201, response.body


def respond_session(client, outbox, email: str):
    outbox.pump()
    response = post_json(client, "/owner/sessions", {"token": outbox.last_link(email, "respond.html")})
    assert response.status_code == 200, response.body
    session = body_of(response)
    return session["request_id"], {"Authorization": f"Bearer {session['session']}"}


def upload(client, request_id: str, headers: dict, content: bytes, filename: str) -> None:
    response = post_json(client, f"/owner/requests/{request_id}/uploads",
                         {"filename": filename, "content_type": "video/mp4", "size": len(content)}, headers=headers)
    assert response.status_code == 201, response.body
    fields = body_of(response)["fields"]
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=get_config().evidence_bucket, Key=fields["key"], Body=content, ContentType=fields["Content-Type"],
        Metadata={"original-filename": fields["x-amz-meta-original-filename"]},
    )


def tag_scan(item: EvidenceItem, verdict: str) -> None:
    """Tag the item's object as GuardDuty (or the local scanner) would."""
    where = {"Bucket": get_config().evidence_bucket, "Key": item.key, "VersionId": item.version_id}
    s3 = boto3.client("s3", region_name=REGION)
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(**where)["TagSet"]}
    tags["GuardDutyMalwareScanStatus"] = verdict
    s3.put_object_tagging(**where, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


def record_version(item: EvidenceItem) -> None:
    """The object version the item was made from. AWS's S3 events carry it (``versionId``) and the
    ingest keeps it; moto's events leave it out, so it is recorded here as the ingest would."""
    if item.version_id is None:
        head = boto3.client("s3", region_name=REGION).head_object(Bucket=get_config().evidence_bucket, Key=item.key)
        item.update(actions=[EvidenceItem.version_id.set(head["VersionId"])])


def item_of(request_id: str) -> EvidenceItem:
    [item] = list(EvidenceItem.by_request.query(request_id))
    return item


@pytest.fixture
def case(client, outbox) -> Dict[str, Any]:
    """Two owners each uploaded a file (ingested and scanned clean; the first with a statement,
    a clock offset and an exhibit reference, as the core records them), and a third declined."""
    opened = open_case(client, CASE_REF)
    for registration_id in ("rjane", "rbob", "rnone"):
        place(registration_id)
    ask(client, "rjane", "rbob", "rnone")
    jane, jane_headers = respond_session(client, outbox, "rjane@example.org")
    upload(client, jane, jane_headers, MP4_A, "Front door 20 Nov.mp4")
    bob, bob_headers = respond_session(client, outbox, "rbob@example.org")
    upload(client, bob, bob_headers, MP4_B, "drive.mp4")
    none, none_headers = respond_session(client, outbox, "rnone@example.org")
    assert post_json(client, f"/owner/requests/{none}/decline", {"reason": "My camera faces the garden"},
                     headers=none_headers).status_code == 200
    assert outbox.pump(queue=get_config().ingest_queue, handler="ingest_evidence") >= 2
    for request_id in (jane, bob):
        record_version(item_of(request_id))
    FootageRequest(jane).update(actions=[FootageRequest.statement.set(STATEMENT)])
    item_of(jane).update(actions=[EvidenceItem.exhibit_ref.set("JS/1"), EvidenceItem.owner_sha256.set(hashlib.sha256(MP4_A).hexdigest()),
                                  EvidenceItem.hash_check.set("matched")])
    for request_id in (jane, bob):
        tag_scan(item_of(request_id), "NO_THREATS_FOUND")
    return {"case_id": opened["case_id"], "jane": jane, "bob": bob, "none": none}


# -- helpers -----------------------------------------------------------------------------------


def ask_export(client, case_id: str, user: str = "pc.jones", **body) -> Any:
    payload = {"recipient": "CPS West Midlands", "reason": "File for the charging decision", **body}
    return post_json(client, f"/officer/cases/{case_id}/exports", payload, headers=bearer(user))


def run_worker(timeout_s: float = 900, wait_s: float = 6.0) -> int:
    """Deliver the exports queue's messages to the ``build_exports`` handler as Lambda would
    (its context says how long is left), until no message has come for ``wait_s`` seconds
    (continuations are delayed a couple of seconds). Delivered messages, failed ones included."""
    import app as sightline_app
    from local.pump import LambdaContext, sqs_record

    sqs = boto3.client("sqs", region_name=REGION)
    queue = get_config().exports_queue
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:123456789012:{queue}"
    delivered, quiet_since = 0, time.monotonic()
    while time.monotonic() - quiet_since < wait_s:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]).get("Messages", [])
        if not messages:
            time.sleep(0.25)
            continue
        quiet_since = time.monotonic()
        event = {"Records": [sqs_record(m, arn, REGION) for m in messages]}
        result = sightline_app.build_exports(event, LambdaContext("build_exports", timeout_s))
        delivered += 1
        if not result["batchItemFailures"]:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    return delivered


def download(client, export_id: str, into: Path, user: str = "pc.jones") -> Dict[str, Any]:
    """Fetch every file through the links, as a browser saves them, into ``into``."""
    response = post_json(client, f"/officer/exports/{export_id}/links", {"reason": "Send to CPS"}, headers=bearer(user))
    assert response.status_code == 200, response.body
    answer = body_of(response)
    s3 = boto3.client("s3", region_name=REGION)
    for entry in answer["files"]:
        url = urlparse(entry["url"])
        query = parse_qs(url.query)
        assert query["response-content-disposition"][0].startswith("attachment; filename=")
        bucket, _, key = url.path.lstrip("/").partition("/")
        if bucket != get_config().exports_bucket:  # virtual-hosted style
            bucket, key = url.netloc.split(".", 1)[0], url.path.lstrip("/")
        assert bucket == get_config().exports_bucket
        target = into / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=bucket, Key=unquote(key))["Body"].read())
        assert target.stat().st_size == entry["size"]
    return answer


class CountingS3:
    """The S3 client, counting the server-side copies made (CopyObject, or a multipart upload
    of UploadPartCopy parts), by target key, and failing the ``fail_on``-th."""

    def __init__(self, fail_on: int = 0):
        self._s3 = boto3.client("s3", region_name=REGION)
        self.copies: List[str] = []
        self._fail_on = fail_on

    def _count(self, key: str) -> None:
        if len(self.copies) + 1 == self._fail_on:
            self._fail_on = 0
            raise RuntimeError("the function was killed mid-build")
        self.copies.append(key)

    def copy_object(self, **kwargs):
        self._count(kwargs["Key"])
        return self._s3.copy_object(**kwargs)

    def create_multipart_upload(self, **kwargs):
        self._count(kwargs["Key"])
        return self._s3.create_multipart_upload(**kwargs)

    def get_object(self, **kwargs):
        raise AssertionError("the worker must not read footage")

    def __getattr__(self, name):
        return getattr(self._s3, name)


def build_directly(export_id: str, s3: Any, now: datetime = None) -> str:
    from chalicelib.base.messages import get_queue
    from chalicelib.investigations import exports

    return exports.build(export_id, s3=s3, config=get_config(), notify=get_queue(), queue=exports.get_export_queue(),
                         now=now or datetime.now(timezone.utc))


def drain_exports_queue() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=get_config().exports_queue)["QueueUrl"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# -- the whole journey -------------------------------------------------------------------------


def test_an_export_is_built_by_server_side_copies_and_verifies_with_sha256sum(client, outbox, case, tmp_path):
    # Given the first owner's object overwritten after ingest (a new version under the same key)
    jane_item, bob_item = item_of(case["jane"]), item_of(case["bob"])
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=get_config().evidence_bucket, Key=jane_item.key, Body=b"not the original", ContentType="video/mp4")

    # When the officer asks for an export
    response = ask_export(client, case["case_id"])
    assert response.status_code == 202, response.body
    made = body_of(response)
    assert made["status"] == "building" and made["export_id"].startswith("x") and made["recipient"] == "CPS West Midlands"
    [asked] = [e for e in AuditEntry.by_officer.query("pc.jones") if e.action == "export_case"]
    assert asked.detail.as_dict() == {"export_id": made["export_id"], "recipient": "CPS West Midlands"}
    assert asked.reason == "File for the charging decision"

    # Then links are refused while it builds
    building = post_json(client, f"/officer/exports/{made['export_id']}/links", {"reason": "Send to CPS"},
                         headers=bearer("pc.jones"))
    assert building.status_code == 409 and body_of(building)["error"]["code"] == "conflict"

    # When the worker runs
    assert run_worker() >= 1
    shown = body_of(client.http.get(f"/officer/exports/{made['export_id']}", headers=bearer("pc.jones")))
    assert shown["status"] == "ready" and shown["expires_at"] and shown["ready_at"]
    folder = "20-888-26"
    jane_path = f"exhibits/JS-1_{jane_item.evidence_id}.mp4"
    bob_path = f"exhibits/{bob_item.evidence_id}.mp4"
    paths = [f["path"] for f in shown["files"]]
    assert paths == [jane_path, bob_path, f"continuity/JS-1_{jane_item.evidence_id}.html",
                     f"continuity/{bob_item.evidence_id}.html", "manifest.json", "SHA256SUMS"]
    listed = body_of(client.http.get(f"/officer/cases/{case['case_id']}/exports", headers=bearer("pc.jones")))
    assert [e["export_id"] for e in listed["exports"]] == [made["export_id"]]

    # And the officer is emailed, with no file links
    outbox.pump()
    [ready] = [m for m in outbox.to("pc.jones@police.example") if m["Subject"].startswith("Case export ready")]
    text = ready.get_body(preferencelist=("plain",)).get_content()
    assert made["export_id"] in text and "CPS West Midlands" in text and "X-Amz" not in text

    # When the officer downloads every file through the links (audited as a disclosure)
    into = tmp_path / folder
    links = download(client, made["export_id"], into)
    assert links["expires_in"] == get_config().download_url_ttl_s
    [disclosed] = [e for e in AuditEntry.by_officer.query("pc.jones") if e.action == "download_export"]
    assert sorted(disclosed.evidence_ids) == sorted([jane_item.evidence_id, bob_item.evidence_id])
    assert sorted(disclosed.registration_ids) == ["rbob", "rjane"]
    assert disclosed.reason == "Send to CPS"

    # Then sha256sum -c verifies the folder, every file but itself
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=into, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ok_lines = [line for line in checked.stdout.splitlines() if line.endswith(": OK")]
    assert sorted(line.rsplit(":", 1)[0] for line in ok_lines) == sorted(p for p in paths if p != "SHA256SUMS")

    # And the footage is the original bytes, of the version ingested (not the overwrite)
    assert (into / jane_path).read_bytes() == MP4_A and (into / bob_path).read_bytes() == MP4_B

    # And the manifest matches what was uploaded
    manifest = json.loads((into / "manifest.json").read_text())
    assert manifest["export_id"] == made["export_id"] and manifest["recipient"] == "CPS West Midlands"
    assert manifest["case"] == {"case_ref": CASE_REF, "category": "Criminal damage and arson",
                                "officer_in_charge": "pc.jones", "status": "open"}
    by_id = {e["evidence_id"]: e for e in manifest["exhibits"]}
    jane = by_id[jane_item.evidence_id]
    assert jane["exhibit_ref"] == "JS/1" and jane["path"] == jane_path and jane["size"] == len(MP4_A)
    assert jane["sha256"] == jane["owner_sha256"] == hashlib.sha256(MP4_A).hexdigest() and jane["hash_check"] == "matched"
    assert jane["original_filename"] == "Front door 20 Nov.mp4" and jane["scan_result"] == "clean"
    assert jane["statement"]["clock"]["offset_seconds"] == 17.655 and jane["statement"]["name"] == "Jane Smith"
    assert "18 seconds fast" in jane["clock"]
    assert jane["custody"]["chain"]["intact"] and "exported" not in [e["event"] for e in jane["custody"]["events"]]
    bob = by_id[bob_item.evidence_id]
    assert bob["exhibit_ref"] is None and bob["statement"] is None and bob["sha256"] == hashlib.sha256(MP4_B).hexdigest()
    [unused] = manifest["unused_material"]
    assert unused["request_id"] == case["none"] and unused["status"] == "declined"
    assert unused["decline_reason"] == "My camera faces the garden" and unused["answered_at"]
    assert manifest["withheld"] == []
    schedules = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert schedules == {p: hashlib.sha256((into / p).read_bytes()).hexdigest() for p in paths if p.startswith("continuity/")}

    # And the continuity schedule is printable, marked, and shows the owner's words as text
    schedule = (into / f"continuity/JS-1_{jane_item.evidence_id}.html").read_text()
    assert schedule.count("OFFICIAL-SENSITIVE") >= 3 and "<thead><tr><td><div class=\"marking\">OFFICIAL-SENSITIVE" in schedule
    assert "<tfoot><tr><td><div class=\"marking\">OFFICIAL-SENSITIVE" in schedule and "JS/1" in schedule and jane_item.sha256 in schedule
    assert "Smith&#39;s Bakery &lt;Ltd&gt;" in schedule and "<Ltd>" not in schedule
    assert "18 seconds fast" in schedule and "<script" not in schedule and "http" not in schedule.split("<body>")[1]

    # And each exhibit's custody log records the export once
    for item in (jane_item, bob_item):
        exported = [e for e in custody.events(item.evidence_id) if e.event == "exported"]
        assert len(exported) == 1 and exported[0].actor == "pc.jones"
        assert exported[0].detail.as_dict() == {"export_id": made["export_id"], "recipient": "CPS West Midlands"}


def test_a_retried_build_after_a_crash_copies_nothing_twice(client, outbox, case, tmp_path):
    made = body_of(ask_export(client, case["case_id"]))
    drain_exports_queue()  # the worker is driven by hand here
    s3 = CountingS3(fail_on=2)

    # Given the function killed while copying the second file
    with pytest.raises(RuntimeError):
        build_directly(made["export_id"], s3)
    assert len(s3.copies) == 1

    # When the message is redelivered (twice: SQS delivers at least once)
    assert build_directly(made["export_id"], s3) == "ready"
    assert build_directly(made["export_id"], s3) == "ready"

    # Then each file was copied once, each exhibit exported once, and the folder verifies
    assert len(s3.copies) == len(set(s3.copies)) == 2
    for request_id in (case["jane"], case["bob"]):
        assert [e.event for e in custody.events(item_of(request_id).evidence_id)].count("exported") == 1
    first = tmp_path / "first"
    download(client, made["export_id"], first)
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=first).returncode == 0

    # And an export built without a crash lists the same footage with the same hashes
    again = body_of(ask_export(client, case["case_id"]))
    drain_exports_queue()
    assert build_directly(again["export_id"], CountingS3()) == "ready"
    second = tmp_path / "second"
    download(client, again["export_id"], second)
    footage_lines = lambda folder: sorted(l for l in (folder / "SHA256SUMS").read_text().splitlines() if "exhibits/" in l)  # noqa: E731
    assert footage_lines(first) == footage_lines(second) and len(footage_lines(first)) == 2

    # And building the crashed export again from the start writes the very same SHA256SUMS,
    # copying nothing (every copy is in place)
    from chalicelib.investigations.tables import CaseExport

    CaseExport(made["export_id"]).update(actions=[CaseExport.status.set("building"), CaseExport.files.set([])])
    before = len(s3.copies)
    assert build_directly(made["export_id"], s3) == "ready" and len(s3.copies) == before
    third = tmp_path / "third"
    download(client, made["export_id"], third)
    assert (third / "SHA256SUMS").read_bytes() == (first / "SHA256SUMS").read_bytes()


def test_a_long_build_continues_in_later_invocations(client, outbox, case):
    # Given an invocation with barely any time left: one file each, then a continuation
    made = body_of(ask_export(client, case["case_id"]))
    delivered = run_worker(timeout_s=5)
    # Then it took three invocations (a file, a file, the rest) and ended ready
    assert delivered == 3
    shown = body_of(client.http.get(f"/officer/exports/{made['export_id']}", headers=bearer("pc.jones")))
    assert shown["status"] == "ready" and len(shown["files"]) == 6


def test_items_not_scanned_clean_are_withheld_and_not_copied(client, outbox, case, tmp_path):
    from chalicelib.investigations.tables import CaseExport

    # Given the second owner's file found to hold a threat, and a third file never scanned
    bob_item = item_of(case["bob"])
    tag_scan(bob_item, "THREATS_FOUND")
    EvidenceItem(bob_item.evidence_id).update(actions=[EvidenceItem.scan_result.remove()])
    jane = case["jane"]
    place("rlate")
    ask(client, "rlate")
    late, late_headers = respond_session(client, outbox, "rlate@example.org")
    upload(client, late, late_headers, MP4_A + b"late", "late.mp4")
    outbox.pump(queue=get_config().ingest_queue, handler="ingest_evidence")
    late_item = item_of(late)
    record_version(late_item)

    made = body_of(ask_export(client, case["case_id"]))
    drain_exports_queue()
    s3 = CountingS3()
    # When the worker runs before the scan: it copies what it can and waits for the rest
    assert build_directly(made["export_id"], s3) == "waiting"
    assert CaseExport.get(made["export_id"]).status == "building"
    # And an hour later, still unscanned, the file is withheld
    assert build_directly(made["export_id"], s3, now=datetime.now(timezone.utc) + timedelta(hours=1, minutes=1)) == "ready"

    shown = body_of(client.http.get(f"/officer/exports/{made['export_id']}", headers=bearer("pc.jones")))
    withheld = {w["evidence_id"]: w["reason"] for w in shown["withheld"]}
    assert "threat" in withheld[bob_item.evidence_id] and "had not checked" in withheld[late_item.evidence_id]
    assert [k.rsplit("/", 1)[1] for k in s3.copies] == [f"JS-1_{item_of(jane).evidence_id}.mp4"]
    assert not [f for f in shown["files"] if bob_item.evidence_id in f["path"] or late_item.evidence_id in f["path"]]
    assert EvidenceItem.get(bob_item.evidence_id).status == "quarantined"
    into = tmp_path / "x"
    download(client, made["export_id"], into)
    assert {w["evidence_id"] for w in json.loads((into / "manifest.json").read_text())["withheld"]} == set(withheld)


def test_an_officer_not_on_the_case_finds_no_export(client, outbox, case):
    made = body_of(ask_export(client, case["case_id"]))
    run_worker()
    export_id = made["export_id"]
    for response in (
        ask_export(client, case["case_id"], user="pc.other"),
        client.http.get(f"/officer/cases/{case['case_id']}/exports", headers=bearer("pc.other")),
        client.http.get(f"/officer/exports/{export_id}", headers=bearer("pc.other")),
        post_json(client, f"/officer/exports/{export_id}/links", {"reason": "Curious about it"}, headers=bearer("pc.other")),
        client.http.get("/officer/exports/x000000000000000000000000", headers=bearer("pc.jones")),
        client.http.get("/officer/exports/not-an-id", headers=bearer("pc.jones")),
    ):
        assert response.status_code == 404, response.body
        assert body_of(response)["error"]["code"] == "not_found"
    assert not [e for e in AuditEntry.by_officer.query("pc.other") if "export" in e.action]
    # A supervisor may (as for every case); an auditor may not
    assert client.http.get(f"/officer/exports/{export_id}", headers=bearer("sgt.patel")).status_code == 200
    assert client.http.get(f"/officer/exports/{export_id}", headers=bearer("auditor.khan")).status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reason": "File for the charging decision"}, "recipient"),
        ({"recipient": "C", "reason": "File for the charging decision"}, "recipient"),
        ({"recipient": "x" * 201, "reason": "File for the charging decision"}, "recipient"),
        ({"recipient": "CPS West Midlands"}, "reason"),
        ({"recipient": 42, "reason": "File for the charging decision"}, "recipient"),
        ({"recipient": "CPS\u0000", "reason": "File for the charging decision"}, "recipient"),
        ({"recipient": "CPS", "reason": "File", "extra": True}, "extra"),
    ],
)
def test_bad_export_requests_name_the_field_and_write_nothing(client, outbox, case, body, field):
    from chalicelib.investigations.tables import CaseExport

    response = post_json(client, f"/officer/cases/{case['case_id']}/exports", body, headers=bearer("pc.jones"))
    assert response.status_code == 400, response.body
    assert field in body_of(response)["error"]["fields"]
    assert list(CaseExport.scan()) == []
    not_json = client.http.post(f"/officer/cases/{case['case_id']}/exports",
                                headers={"Content-Type": "application/json", **bearer("pc.jones")}, body="{")
    assert not_json.status_code == 400
    assert post_json(client, "/officer/exports/x000000000000000000000000/links", [], headers=bearer("pc.jones")).status_code in (400, 404)


def test_expired_exports_refuse_links_and_the_bucket_forgets_them(client, outbox, case):
    from chalicelib.investigations.tables import CaseExport

    made = body_of(ask_export(client, case["case_id"]))
    run_worker()
    item = CaseExport.get(made["export_id"])
    ttl = timedelta(days=get_config().export_ttl_days)
    assert abs(item.expires_at - item.ready_at - ttl) < timedelta(seconds=1)
    item.update(actions=[CaseExport.expires_at.set(datetime.now(timezone.utc) - timedelta(seconds=1))])
    response = post_json(client, f"/officer/exports/{made['export_id']}/links", {"reason": "Send to CPS"},
                         headers=bearer("pc.jones"))
    assert response.status_code == 410 and body_of(response)["error"]["code"] == "gone"
    assert body_of(client.http.get(f"/officer/exports/{made['export_id']}", headers=bearer("pc.jones")))["status"] == "expired"
    rules = boto3.client("s3", region_name=REGION).get_bucket_lifecycle_configuration(
        Bucket=get_config().exports_bucket)["Rules"]
    assert [r["Expiration"]["Days"] for r in rules] == [get_config().export_ttl_days + 1]


def test_an_export_whose_message_was_lost_is_queued_by_housekeeping(client, outbox, case):
    from chalicelib import housekeeping
    from chalicelib.base.messages import get_queue
    from chalicelib.investigations import exports
    from chalicelib.investigations.tables import CaseExport

    # Given the queue refusing the POST's message after the export was recorded
    def refuse(message, delay_s=0):
        raise EndpointConnectionError(endpoint_url="https://sqs.eu-west-2.amazonaws.com")

    exports.get_export_queue.set(refuse)
    try:
        response = ask_export(client, case["case_id"])
    finally:
        exports.get_export_queue.reset()
    # Then the officer is told it is being built: it is recorded, and will be queued
    assert response.status_code == 202, response.body
    [item] = list(CaseExport.scan())
    assert item.status == "building" and item.queued is False

    # When housekeeping runs ten minutes later, the export is queued and then built
    assert housekeeping.run(datetime.now(timezone.utc) + timedelta(minutes=11), get_queue(), get_config())["exports_requeued"] == 1
    assert CaseExport.get(item.export_id).queued is True
    run_worker()
    assert CaseExport.get(item.export_id).status == "ready"
    assert housekeeping.run(datetime.now(timezone.utc) + timedelta(minutes=11), get_queue(), get_config())["exports_requeued"] == 0


def test_a_build_that_stopped_making_progress_is_marked_failed(client, outbox, case):
    from chalicelib import housekeeping
    from chalicelib.base.messages import get_queue
    from chalicelib.investigations.tables import CaseExport

    # Given an export whose message went to the dead-letter queue (the worker never ran)
    made = body_of(ask_export(client, case["case_id"]))
    drain_exports_queue()
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert housekeeping.run(later, get_queue(), get_config())["exports_failed"] == 0
    # When housekeeping runs six hours on
    much_later = datetime.now(timezone.utc) + timedelta(hours=6, minutes=1)
    assert housekeeping.run(much_later, get_queue(), get_config())["exports_failed"] == 1
    # Then the officer sees it failed, with what to do, and its links are refused
    shown = body_of(client.http.get(f"/officer/exports/{made['export_id']}", headers=bearer("pc.jones")))
    assert shown["status"] == "failed" and "Ask for a new one" in shown["problem"]
    refused = post_json(client, f"/officer/exports/{made['export_id']}/links", {"reason": "Send to CPS"}, headers=bearer("pc.jones"))
    assert refused.status_code == 409
    # And a late delivery of its message builds nothing
    assert build_directly(made["export_id"], CountingS3()) == "failed"
    assert CaseExport.get(made["export_id"]).files == []


def test_a_closed_case_can_be_exported(client, outbox, case):
    assert client.http.patch(f"/officer/cases/{case['case_id']}", headers={"Content-Type": "application/json", **bearer("pc.jones")},
                             body=json.dumps({"status": "closed"})).status_code == 200
    made = ask_export(client, case["case_id"])
    assert made.status_code == 202
    run_worker()
    shown = body_of(client.http.get(f"/officer/exports/{body_of(made)['export_id']}", headers=bearer("pc.jones")))
    assert shown["status"] == "ready"


def test_the_sample_event_builds_its_export(client, outbox, case):
    """events/sqs_build_export.json (for ``chalice invoke``) names an export: built when it exists."""
    from chalicelib.investigations import exports
    from chalicelib.investigations.tables import CaseExport

    event = json.loads((Path(__file__).resolve().parents[2] / "events" / "sqs_build_export.json").read_text())
    export_id = json.loads(event["Records"][0]["body"])["export_id"]
    # Unknown: nothing to do, and nothing to retry
    assert client.lambda_.invoke("build_exports", event).payload == {"batchItemFailures": []}
    made = body_of(ask_export(client, case["case_id"]))
    drain_exports_queue()
    item = CaseExport.get(made["export_id"])
    CaseExport(export_id, **{k: v for k, v in item.attribute_values.items() if k != "export_id"}).save()
    # Known: built (the test client's context says 3 s are left: it continues after each copy)
    assert client.lambda_.invoke("build_exports", event).payload == {"batchItemFailures": []}
    assert CaseExport.get(export_id).files and exports.effective_status(CaseExport.get(export_id), datetime.now(timezone.utc)) in ("building", "ready")


def test_a_file_above_the_copy_threshold_is_copied_in_parts_of_its_exact_version(client, outbox, case, tmp_path):
    from chalicelib.investigations import exports

    # Given an owner's file larger than one CopyObject is used for, overwritten after ingest
    big = MP4_A + bytes(range(256)) * ((exports.COPY_THRESHOLD_BYTES + 5 * 2**20) // 256)
    place("rbig")
    ask(client, "rbig")
    request_id, headers = respond_session(client, outbox, "rbig@example.org")
    upload(client, request_id, headers, big, "whole-night.mp4")
    outbox.pump(queue=get_config().ingest_queue, handler="ingest_evidence")
    item = item_of(request_id)
    record_version(item)
    tag_scan(item, "NO_THREATS_FOUND")
    boto3.client("s3", region_name=REGION).put_object(Bucket=get_config().evidence_bucket, Key=item.key, Body=b"later")

    class PartCounting(CountingS3):
        parts: List[dict] = []

        def upload_part_copy(self, **kwargs):
            self.parts.append(kwargs)
            return self._s3.upload_part_copy(**kwargs)

    s3 = PartCounting()
    made = body_of(ask_export(client, case["case_id"]))
    drain_exports_queue()
    assert build_directly(made["export_id"], s3) == "ready"

    # Then S3 copied it in parts (UploadPartCopy), each from the ingested version
    assert len(s3.parts) == 2
    assert {p["CopySource"]["VersionId"] for p in s3.parts} == {item.version_id}
    into = tmp_path / "big"
    download(client, made["export_id"], into)
    [path] = [p for p in (into / "exhibits").iterdir() if item.evidence_id in p.name]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(big).hexdigest() == item.sha256
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=into).returncode == 0
