"""Footage requests, uploads, evidence ingest and downloads, through the API on moto."""
import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from chalicelib import geo
from chalicelib.base.audit import AuditEntry
from chalicelib.base.config import get_config
from chalicelib.footage.tables import EvidenceItem, FootageRequest
from chalicelib.registry.tables import AddressAttribute, GeoIndexEntry, PointAttribute, Registration
from chalicelib.registry.identity import owner_of
from tests.conftest import REGION, bearer, give_statement, open_case, post_json

pytestmark = pytest.mark.usefixtures("footage")


@pytest.fixture(autouse=True)
def _case(client, footage):
    """The case the requests here are made in, in pc.jones's charge."""
    return open_case(client, "20/777/26")

NOW = datetime.now(timezone.utc)
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 40
EXE = b"MZ\x90\x00" + b"\x00" * 500


def body_of(response):
    return json.loads(response.body or b"null")


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def place(registration_id, retention_days=30, email=None):
    lat, lon = 52.4812, -1.8984
    Registration(
        registration_id, owner=owner_of(email or f"{registration_id}@example.org"), claim=f"claim-{registration_id}",
        email=email or f"{registration_id}@example.org",
        name=f"Owner {registration_id}", address=AddressAttribute(line1="1 Colmore Row", town="Birmingham", postcode="B3 2BJ"),
        location=PointAttribute(lat=lat, lon=lon), geohash=geo.encode(lat, lon), camera_count=1, cameras=[],
        retention_days=retention_days, status="active", consented_at=NOW, created_at=NOW, updated_at=NOW,
    ).save()
    GeoIndexEntry(*geo.index_keys(lat, lon, registration_id), registration_id=registration_id, lat=lat, lon=lon).save()


def request_body(*registration_ids, **overrides):
    body = {
        "case_ref": "20/777/26",
        "registration_ids": list(registration_ids),
        "incident": {
            "lat": 52.4814, "lon": -1.8990,
            "from": iso(NOW - timedelta(hours=3)), "to": iso(NOW - timedelta(hours=2)),
            "summary": "A car was damaged outside the bank on Colmore Row.",
        },
        "reason": "Looking for the vehicle that hit it",
    }
    body.update(overrides)
    return body


def ask(client, *registration_ids, user="pc.jones", **overrides):
    return post_json(client, "/officer/requests", request_body(*registration_ids, **overrides), headers=bearer(user))


def respond_session(client, outbox, owner_email):
    outbox.pump()
    token = outbox.last_link(owner_email, "respond.html")
    response = post_json(client, "/owner/sessions", {"token": token})
    assert response.status_code == 200, response.body
    session = body_of(response)
    assert session["scope"] == "request"
    return session["request_id"], {"Authorization": f"Bearer {session['session']}"}


def upload(client, request_id, headers, content, filename="front-door.mp4", content_type="video/mp4"):
    """Ask for a presigned POST, then store the object as S3 would on that POST."""
    response = post_json(client, f"/owner/requests/{request_id}/uploads",
                         {"filename": filename, "content_type": content_type, "size": len(content)}, headers=headers)
    assert response.status_code == 201, response.body
    target = body_of(response)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=get_config().evidence_bucket, Key=target["fields"]["key"], Body=content,
        ContentType=target["fields"]["Content-Type"],
        Metadata={"original-filename": target["fields"]["x-amz-meta-original-filename"]},
    )
    return target


def ingest(client, outbox):
    return outbox.pump(queue=get_config().ingest_queue, handler="ingest_evidence")


# -- asking ------------------------------------------------------------------------------------


def test_one_request_per_registration_with_the_overwrite_deadline(client, outbox):
    place("rone", retention_days=30)
    place("rtwo", retention_days=3)
    reply_by = NOW + timedelta(days=5)

    response = ask(client, "rone", "rtwo", reply_by=iso(reply_by))

    assert response.status_code == 201, response.body
    by_registration = {r["registration_id"]: r for r in body_of(response)["requests"]}
    incident_to = NOW - timedelta(hours=2)
    # 30 days' retention: the officer's reply-by is sooner; 3 days: overwritten sooner
    rone = FootageRequest.get(by_registration["rone"]["request_id"])
    rtwo = FootageRequest.get(by_registration["rtwo"]["request_id"])
    assert abs((rone.deadline - reply_by).total_seconds()) < 1
    assert abs((rtwo.deadline - (incident_to + timedelta(days=3) - timedelta(hours=12))).total_seconds()) < 1
    assert rone.status == "sent" and rone.reminder_at < rone.deadline
    outbox.pump()
    assert outbox.to("rone@example.org")[-1]["Subject"] == "Police are asking whether your cameras recorded an incident"
    assert sorted(e.action for e in AuditEntry.by_officer.query("pc.jones")) == ["open_case", "request_footage"]


def test_asking_twice_returns_the_existing_request_and_sends_one_email(client, outbox):
    place("ronce")
    first = body_of(ask(client, "ronce"))["requests"][0]
    second = body_of(ask(client, "ronce"))["requests"][0]
    assert first["request_id"] == second["request_id"]
    outbox.pump()
    assert len(outbox.to("ronce@example.org")) == 1
    assert len(list(FootageRequest.scan())) == 1


def test_a_request_too_late_for_the_recorder_is_refused_with_409(client):
    place("rshort", retention_days=1)
    old = {"lat": 52.48, "lon": -1.9, "from": iso(NOW - timedelta(days=3, hours=1)), "to": iso(NOW - timedelta(days=3)),
           "summary": "Something happened three days ago."}
    place("rlong", retention_days=30)
    response = ask(client, "rshort", "rlong", incident=old)
    assert response.status_code == 201
    result = body_of(response)
    assert [r["registration_id"] for r in result["requests"]] == ["rlong"]
    [refused] = result["refused"]
    assert refused["registration_id"] == "rshort" and refused["status"] == 409
    assert "overwritten" in refused["error"]["message"]
    only_late = ask(client, "rshort", incident=old)
    assert only_late.status_code == 409


@pytest.mark.parametrize(
    "change, field",
    [
        ({"registration_ids": []}, "registration_ids"),
        ({"case_ref": ""}, "case_ref"),
        ({"reason": ""}, "reason"),
        ({"reply_by": "soon"}, "reply_by"),
        ({"incident": {"lat": 52.4, "lon": -1.9, "from": "2026-11-20T22:00:00Z", "to": "2026-11-20T21:00:00Z", "summary": "Backwards window here."}}, "incident.to"),
        ({"incident": {"lat": 52.4, "lon": -1.9, "from": "2026-11-10T22:00:00Z", "to": "2026-11-20T21:00:00Z", "summary": "A very long window here."}}, "incident.to"),
        ({"incident": {"lat": 52.4, "lon": -1.9, "from": "2026-11-20T21:00:00Z", "to": "2026-11-20T22:00:00Z", "summary": "short"}}, "incident.summary"),
    ],
)
def test_bad_requests_name_the_field_and_send_nothing(client, outbox, change, field):
    place("rbad")
    response = ask(client, "rbad", **change)
    assert response.status_code == 400, response.body
    assert field in body_of(response)["error"]["fields"]
    assert list(FootageRequest.scan()) == [] and outbox.pump() == 0


def test_unknown_registrations_are_refused_and_only_officers_may_ask(client):
    assert ask(client, "rnobody").status_code == 409
    assert ask(client, "rnobody", user="civilian.smith").status_code == 403
    assert post_json(client, "/officer/requests", request_body("rnobody")).status_code == 401


# -- the owner's side --------------------------------------------------------------------------


def test_the_owner_sees_what_is_asked_and_nothing_about_others(client, outbox):
    place("rmine")
    place("rother")
    ask(client, "rmine", "rother")
    request_id, headers = respond_session(client, outbox, "rmine@example.org")
    response = client.http.get(f"/owner/requests/{request_id}", headers=headers)
    assert response.status_code == 200
    view = body_of(response)
    assert view["case_ref"] == "20/777/26" and view["incident"]["summary"].startswith("A car")
    assert view["incident"]["area"] == "near Birmingham, B3"
    assert view["force_name"] == "West Midlands Police" and view["status"] == "sent"
    text = response.body.decode()
    assert "rother" not in text and "Owner" not in text and "registration_id" not in text
    other = FootageRequest.get(body_of(ask(client, "rother"))["requests"][0]["request_id"])
    assert client.http.get(f"/owner/requests/{other.request_id}", headers=headers).status_code == 404


def test_the_presigned_post_carries_the_right_conditions(client, outbox):
    place("rpost")
    ask(client, "rpost")
    request_id, headers = respond_session(client, outbox, "rpost@example.org")
    response = post_json(client, f"/owner/requests/{request_id}/uploads",
                         {"filename": "../../Front door (1).MP4", "content_type": "video/mp4", "size": 12_000_000}, headers=headers)
    assert response.status_code == 201
    target = body_of(response)
    assert target["method"] == "post"
    key = target["fields"]["key"]
    assert key.startswith(f"requests/{request_id}/u") and key.endswith("/Front-door-1-.MP4")
    policy = json.loads(base64.b64decode(target["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 12_000_000] in conditions
    assert {"Content-Type": "video/mp4"} in conditions
    assert {"key": key} in conditions and {"bucket": get_config().evidence_bucket} in conditions
    expiry = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(0) < expiry - datetime.now(timezone.utc) <= timedelta(minutes=15)


def test_large_files_get_a_presigned_multipart_upload(client, outbox):
    place("rbig")
    ask(client, "rbig")
    request_id, headers = respond_session(client, outbox, "rbig@example.org")
    size = 6 * 2**30
    response = post_json(client, f"/owner/requests/{request_id}/uploads",
                         {"filename": "whole-night.dav", "content_type": "application/octet-stream", "size": size}, headers=headers)
    assert response.status_code == 201
    target = body_of(response)
    assert target["method"] == "multipart"
    assert target["part_size"] * len(target["parts"]) >= size
    query = parse_qs(urlparse(target["parts"][0]["url"]).query)
    # Part URLs outlive a slow upload of the whole file: 6 GiB at 256 KiB/s (under 12 hours)
    assert query["partNumber"] == ["1"] and int(query["X-Amz-Expires"][0]) == size // (256 * 1024)


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"filename": "x.exe", "content_type": "application/x-msdownload", "size": 10}, 400, "content_type"),
        ({"filename": "x.mp4", "content_type": "video/mp4", "size": 0}, 400, "size"),
        ({"filename": "x.mp4", "content_type": "video/mp4", "size": 17 * 2**30}, 413, None),
        ({"filename": "", "content_type": "video/mp4", "size": 10}, 400, "filename"),
    ],
)
def test_bad_uploads_are_refused(client, outbox, body, status, field):
    place("rup")
    ask(client, "rup")
    request_id, headers = respond_session(client, outbox, "rup@example.org")
    response = post_json(client, f"/owner/requests/{request_id}/uploads", body, headers=headers)
    assert response.status_code == status
    if field:
        assert field in body_of(response)["error"]["fields"]


def test_uploaded_footage_is_hashed_recorded_once_and_the_officer_told(client, outbox):
    place("ringest")
    ask(client, "ringest")
    request_id, headers = respond_session(client, outbox, "ringest@example.org")
    upload(client, request_id, headers, MP4, filename="Front door – 20 Nov.mp4")

    # The S3 notification reaches the ingest handler, twice (SQS delivers at least once)
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=get_config().ingest_queue)["QueueUrl"]
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert any("ObjectCreated" in body for body in bodies)
    for _ in range(2):
        event = client.events.generate_sqs_event(message_bodies=bodies, queue_name=get_config().ingest_queue)
        assert client.lambda_.invoke("ingest_evidence", event).payload == {"batchItemFailures": []}

    # Then one evidence item, hashed, and one email to the officer
    [item] = list(EvidenceItem.scan())
    assert item.sha256 == hashlib.sha256(MP4).hexdigest() and item.size == len(MP4)
    assert item.status == "accepted" and item.filename == "Front door – 20 Nov.mp4"
    assert FootageRequest.get(request_id).status == "uploading"
    outbox.pump()
    received = [m for m in outbox.to("pc.jones@police.example") if m["Subject"].startswith("Footage received")]
    assert len(received) == 1 and item.sha256 in received[0].get_body(preferencelist=("plain",)).get_content()

    # Verified footage is under legal hold, and a redelivery restores a hold a crash left unset
    s3 = boto3.client("s3", region_name=REGION)
    where = {"Bucket": get_config().evidence_bucket, "Key": item.key, **({"VersionId": item.version_id} if item.version_id else {})}
    assert s3.get_object_legal_hold(**where)["LegalHold"]["Status"] == "ON"
    s3.put_object_legal_hold(**where, LegalHold={"Status": "OFF"})
    event = client.events.generate_sqs_event(message_bodies=bodies, queue_name=get_config().ingest_queue)
    assert client.lambda_.invoke("ingest_evidence", event).payload == {"batchItemFailures": []}
    assert s3.get_object_legal_hold(**where)["LegalHold"]["Status"] == "ON"

    # The officer sees it, with its SHA-256
    officer_view = body_of(client.http.get(f"/officer/requests/{request_id}", headers=bearer("pc.jones")))
    assert [e["sha256"] for e in officer_view["evidence"]] == [item.sha256]
    assert officer_view["evidence_count"] == 1


def test_files_that_fail_the_checks_are_quarantined_and_the_owner_told(client, outbox):
    place("rbadfile")
    ask(client, "rbadfile")
    request_id, headers = respond_session(client, outbox, "rbadfile@example.org")
    upload(client, request_id, headers, EXE, filename="video.mp4")
    ingest(client, outbox)
    [item] = list(EvidenceItem.scan())
    assert item.status == "quarantined" and item.problem
    officer_view = body_of(client.http.get(f"/officer/requests/{request_id}", headers=bearer("pc.jones")))
    assert officer_view["evidence"] == [] and officer_view["quarantined_count"] == 1
    owner_view = body_of(client.http.get(f"/owner/requests/{request_id}", headers=headers))
    assert owner_view["uploads"][0]["status"] == "quarantined" and owner_view["uploads"][0]["problem"]
    tags = boto3.client("s3", region_name=REGION).get_object_tagging(Bucket=get_config().evidence_bucket, Key=item.key)
    assert {"Key": "sightline-quarantine", "Value": "true"} in tags["TagSet"]
    assert FootageRequest.get(request_id).status == "sent"


def test_downloads_are_audited_before_the_short_lived_link(client, outbox):
    place("rdl")
    ask(client, "rdl")
    request_id, headers = respond_session(client, outbox, "rdl@example.org")
    upload(client, request_id, headers, MP4)
    ingest(client, outbox)
    [item] = list(EvidenceItem.scan())
    tag_scan(item, "NO_THREATS_FOUND")
    path = f"/officer/evidence/{item.evidence_id}/downloads"

    assert post_json(client, path, {}, headers=bearer("pc.jones")).status_code == 400  # a reason is required
    response = post_json(client, path, {"reason": "Review for the file"}, headers=bearer("sgt.patel"))

    assert response.status_code == 200
    result = body_of(response)
    assert result["sha256"] == item.sha256
    query = parse_qs(urlparse(result["url"]).query)
    assert int(query["X-Amz-Expires"][0]) <= 900
    [entry] = [e for e in AuditEntry.by_officer.query("sgt.patel") if e.action == "download_evidence"]
    assert entry.case_ref == "20/777/26" and entry.reason == "Review for the file"
    assert entry.detail.as_dict()["evidence_id"] == item.evidence_id
    assert post_json(client, "/officer/evidence/e000000000000000000000000/downloads", {"reason": "x" * 5},
                     headers=bearer("pc.jones")).status_code == 404


def tag_scan(item, verdict):
    """Tag the item's object as GuardDuty (or the local scanner) would."""
    where = {"Bucket": get_config().evidence_bucket, "Key": item.key, **({"VersionId": item.version_id} if item.version_id else {})}
    s3 = boto3.client("s3", region_name=REGION)
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(**where)["TagSet"]}
    tags["GuardDutyMalwareScanStatus"] = verdict
    s3.put_object_tagging(**where, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


def test_complete_needs_an_upload_and_decline_closes_the_link(client, outbox):
    place("ranswer")
    ask(client, "ranswer")
    request_id, headers = respond_session(client, outbox, "ranswer@example.org")
    nothing = post_json(client, f"/owner/requests/{request_id}/complete", {}, headers=headers)
    assert nothing.status_code == 409

    declined = post_json(client, f"/owner/requests/{request_id}/decline", {"reason": "Camera was off"}, headers=headers)
    assert declined.status_code == 200 and body_of(declined) == {"status": "declined"}
    item = FootageRequest.get(request_id)
    assert item.status == "declined" and item.decline_reason == "Camera was off"
    for path in ("", "/uploads", "/complete", "/decline"):
        method = client.http.get if path == "" else (lambda p, headers: post_json(client, p, {}, headers=headers))
        response = method(f"/owner/requests/{request_id}{path}", headers=headers)
        assert response.status_code == 410, (path, response.body)
    outbox.pump()
    assert any(m["Subject"].startswith("An owner has no footage") for m in outbox.to("pc.jones@police.example"))


def test_completing_tells_the_officer(client, outbox):
    place("rdone")
    ask(client, "rdone")
    request_id, headers = respond_session(client, outbox, "rdone@example.org")
    upload(client, request_id, headers, MP4)
    give_statement(client, request_id, headers)
    response = post_json(client, f"/owner/requests/{request_id}/complete", {}, headers=headers)
    assert response.status_code == 200 and FootageRequest.get(request_id).status == "responded"
    outbox.pump()
    assert any(m["Subject"].startswith("An owner has finished") for m in outbox.to("pc.jones@police.example"))


def test_after_the_deadline_the_link_stops_working(client, outbox):
    place("rlate")
    ask(client, "rlate")
    request_id, headers = respond_session(client, outbox, "rlate@example.org")
    FootageRequest(request_id).update(actions=[FootageRequest.deadline.set(datetime.now(timezone.utc) - timedelta(seconds=1))])
    assert client.http.get(f"/owner/requests/{request_id}", headers=headers).status_code == 410
    token = outbox.last_link("rlate@example.org", "respond.html")
    assert post_json(client, "/owner/sessions", {"token": token}).status_code == 410


def test_housekeeping_expires_overdue_requests_once(client, outbox):
    place("rover")
    request_id = body_of(ask(client, "rover"))["requests"][0]["request_id"]
    FootageRequest(request_id).update(actions=[FootageRequest.deadline.set(datetime.now(timezone.utc) - timedelta(seconds=1))])
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
    assert client.lambda_.invoke("housekeeping", event).payload["expired_requests"] == 1
    assert client.lambda_.invoke("housekeeping", event).payload["expired_requests"] == 0
    assert FootageRequest.get(request_id).status == "expired"


def test_the_owners_export_includes_requests_and_uploads(client, outbox):
    place("rexport", email="ada@example.org")
    ask(client, "rexport")
    request_id, headers = respond_session(client, outbox, "ada@example.org")
    upload(client, request_id, headers, MP4)
    ingest(client, outbox)
    post_json(client, "/owner/links", {"email": "ada@example.org"})
    outbox.pump()
    token = outbox.last_link("ada@example.org", "manage.html")
    session = body_of(post_json(client, "/owner/sessions", {"token": token}))["session"]
    exported = body_of(client.http.get("/owner/export", headers={"Authorization": f"Bearer {session}"}))
    [request] = exported["footage_requests"]
    assert request["request_id"] == request_id and request["case_ref"] == "20/777/26"
    assert request["uploads"][0]["sha256"] == hashlib.sha256(MP4).hexdigest()
