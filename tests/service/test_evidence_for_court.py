"""Footage fit for court: the owner's statement and clock check, the owner's own SHA-256,
exhibit references, each exhibit's custody log, receipts, and retention with a supervisor's hold."""
from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.base.audit import AuditEntry
from chalicelib.base.config import get_config
from chalicelib.footage.tables import EvidenceItem, Exhibit, FootageRequest
from tests.conftest import REGION, bearer, give_statement, post_json, statement_body
from tests.service.test_footage_requests import (
    MP4, ask, body_of, ingest, place, respond_session, tag_scan, upload,
)


@pytest.fixture(autouse=True)
def _case(client, footage):
    from tests.conftest import open_case

    return open_case(client, "20/777/26")


def owner(client, outbox, registration_id):
    place(registration_id)
    ask(client, registration_id)
    return respond_session(client, outbox, f"{registration_id}@example.org")


def put_statement(client, request_id, headers, body):
    return client.http.put(f"/owner/requests/{request_id}/statement",
                           headers={"Content-Type": "application/json", **headers}, body=__import__("json").dumps(body))


def sent(client, request_id, headers, target, content):
    """The page's call after sending a file: the SHA-256 it computed."""
    return post_json(client, f"/owner/requests/{request_id}/uploads/{target['upload_id']}/complete",
                     {"sha256": hashlib.sha256(content).hexdigest()}, headers=headers)


def now_iso():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


# -- the statement -------------------------------------------------------------------------


def test_the_clock_check_stores_a_signed_offset_with_how_it_was_measured(client, outbox):
    request_id, headers = owner(client, outbox, "rclock")
    page = body_of(client.http.get(f"/owner/requests/{request_id}", headers=headers))
    assert page["statement"] is None and page["declaration_text"].startswith("What I have said here is true")
    assert page["cameras"] == [{"number": 1, "description": None, "direction_deg": None}]
    assert page["force_timezone"] == "Europe/London"
    assert abs(datetime.fromisoformat(page["server_time"].replace("Z", "+00:00")) - datetime.now(timezone.utc)) < timedelta(seconds=5)

    fast = give_statement(client, request_id, headers, fast_by_s=18)
    assert fast["clock"]["offset_seconds"] == 18 and fast["clock"]["offset_words"] == "18 seconds fast"
    assert "half the network round trip" in fast["clock"]["method"] and fast["clock"]["timezone"] == "Europe/London"
    slow = give_statement(client, request_id, headers, fast_by_s=-125)  # replaced while open
    assert slow["clock"]["offset_words"] == "2 minutes 5 seconds slow"
    stored = FootageRequest.get(request_id).statement.as_dict()
    assert stored["clock"]["offset_seconds"] == -125 and stored["declaration"] is True
    assert stored["declaration_text"] == page["declaration_text"]


def test_an_owner_who_cannot_check_the_clock_says_why(client, outbox):
    request_id, headers = owner(client, outbox, "rnoclock")
    body = statement_body(now_iso(), "2026-01-01T00:00:00", clock={"checked": False, "reason": "The recorder is in a locked cupboard"})
    response = put_statement(client, request_id, headers, body)
    assert response.status_code == 200, response.body
    assert body_of(response)["clock"] == {"checked": False, "reason": "The recorder is in a locked cupboard"}


@pytest.mark.parametrize("change, field", [
    ({"operator": "managing_agent"}, "operator_name"),
    ({"source": "re_recording"}, "source_note"),
    ({"gaps_or_edits": True}, "gaps_note"),
    ({"declaration": False}, "declaration"),
    ({"cameras": []}, "cameras"),
    ({"cameras": [3]}, "cameras"),
    ({"witness_statement": "maybe"}, "witness_statement"),
    ({"clock": {"checked": True, "recorder_shows": "2026-12-02T18:05:30"}}, "clock.observed_at"),
    ({"clock": {"checked": True, "recorder_shows": "yesterday", "observed_at": "x"}}, "clock.recorder_shows"),
    ({"clock": {"checked": False}}, "clock.reason"),
    ({"name": ""}, "name"),
    ({"nickname": "J"}, "nickname"),
])
def test_each_missing_or_wrong_answer_is_named(client, outbox, change, field):
    request_id, headers = owner(client, outbox, "rbad")
    body = {**statement_body(now_iso(), datetime.now().strftime("%Y-%m-%dT%H:%M:%S")), **change}
    response = put_statement(client, request_id, headers, body)
    assert response.status_code == 400, response.body
    assert field in body_of(response)["error"]["fields"]
    assert FootageRequest.get(request_id).statement is None


def test_a_recorder_date_a_year_out_or_a_stale_noted_time_is_refused(client, outbox):
    request_id, headers = owner(client, outbox, "rstale")
    old = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat().replace("+00:00", "Z")
    stale = put_statement(client, request_id, headers, statement_body(old, "2026-12-02T18:00:00"))
    assert "clock.observed_at" in body_of(stale)["error"]["fields"]
    wrong_year = put_statement(client, request_id, headers, statement_body(now_iso(), "2014-01-01T12:00:00"))
    assert body_of(wrong_year)["error"]["fields"] == {"clock.recorder_shows": "This is more than a year from today: check the date you entered."}


def test_finishing_needs_the_statement_and_a_closed_request_takes_none(client, outbox):
    request_id, headers = owner(client, outbox, "rneeds")
    upload(client, request_id, headers, MP4)
    refused = post_json(client, f"/owner/requests/{request_id}/complete", {}, headers=headers)
    assert refused.status_code == 409 and "statement" in body_of(refused)["error"]["fields"]
    give_statement(client, request_id, headers)
    assert post_json(client, f"/owner/requests/{request_id}/complete", {}, headers=headers).status_code == 200
    late = put_statement(client, request_id, headers, statement_body(now_iso(), "2026-12-02T18:00:00"))
    assert late.status_code == 409


def test_the_api_clock_is_public_and_never_cached(client):
    response = client.http.get("/time")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    told = datetime.fromisoformat(body_of(response)["now"].replace("Z", "+00:00"))
    assert abs(told - datetime.now(timezone.utc)) < timedelta(seconds=2) and body_of(response)["now"].count(".") == 1


# -- the owner's own SHA-256 ---------------------------------------------------------------


def test_the_owners_hash_given_before_ingest_is_compared_and_a_mismatch_quarantines(client, outbox):
    request_id, headers = owner(client, outbox, "rhash")
    good = upload(client, request_id, headers, MP4, filename="good.mp4")
    assert sent(client, request_id, headers, good, MP4).status_code == 200
    bad = upload(client, request_id, headers, MP4 + b"x", filename="damaged.mp4")
    assert sent(client, request_id, headers, bad, MP4).status_code == 200  # the browser hashed other bytes
    ingest(client, outbox)
    items = {i.filename: i for i in EvidenceItem.scan()}
    assert items["good.mp4"].status == "accepted" and items["good.mp4"].hash_check == "matched"
    assert items["damaged.mp4"].status == "quarantined" and items["damaged.mp4"].hash_check == "mismatch"
    page = body_of(client.http.get(f"/owner/requests/{request_id}", headers=headers))
    shown = {u["filename"]: u for u in page["uploads"]}
    assert "Please upload it again" in shown["damaged.mp4"]["problem"]
    assert shown["good.mp4"]["owner_sha256"] == hashlib.sha256(MP4).hexdigest()


def test_the_owners_hash_given_after_ingest_is_compared_then(client, outbox):
    request_id, headers = owner(client, outbox, "rafter")
    target = upload(client, request_id, headers, MP4)
    ingest(client, outbox)  # the POST's object was ingested before the page's call came
    [item] = EvidenceItem.scan()
    assert item.status == "accepted" and item.hash_check is None
    wrong = post_json(client, f"/owner/requests/{request_id}/uploads/{target['upload_id']}/complete",
                      {"sha256": "0" * 64}, headers=headers)
    assert wrong.status_code == 200
    item.refresh()
    assert item.status == "quarantined" and item.hash_check == "mismatch"
    where = {"Bucket": get_config().evidence_bucket, "Key": item.key, **({"VersionId": item.version_id} if item.version_id else {})}
    tags = boto3.client("s3", region_name=REGION).get_object_tagging(**where)["TagSet"]
    assert {"Key": "sightline-quarantine", "Value": "true"} in tags
    again = post_json(client, f"/owner/requests/{request_id}/uploads/{target['upload_id']}/complete",
                      {"sha256": "1" * 64}, headers=headers)
    assert again.status_code == 409
    shape = post_json(client, f"/owner/requests/{request_id}/uploads/{target['upload_id']}/complete",
                      {"sha256": "not-a-hash"}, headers=headers)
    assert shape.status_code == 400 and "sha256" in body_of(shape)["error"]["fields"]


# -- exhibits, custody, receipts -----------------------------------------------------------


def test_exhibit_references_are_the_producers_initials_numbered_within_the_case(client, outbox):
    first, first_headers = owner(client, outbox, "rjs1")
    upload(client, first, first_headers, MP4, filename="before-statement.mp4")
    ingest(client, outbox)
    assert [i.exhibit_ref for i in EvidenceItem.scan()] == [None]  # no producer yet
    give_statement(client, first, first_headers)  # Jane Smith
    upload(client, first, first_headers, MP4, filename="after-statement.mp4")
    ingest(client, outbox)
    ingest(client, outbox)
    second, second_headers = owner(client, outbox, "rjs2")
    give_statement(client, second, second_headers, name="John Sykes")
    upload(client, second, second_headers, MP4, filename="other-owner.mp4")
    ingest(client, outbox)
    refs = {i.filename: i.exhibit_ref for i in EvidenceItem.scan()}
    assert refs == {"before-statement.mp4": "JS/1", "after-statement.mp4": "JS/2", "other-owner.mp4": "JS/3"}
    assert sorted(e.exhibit_ref for e in Exhibit.query("20/777/26")) == ["JS/1", "JS/2", "JS/3"]


def test_concurrent_files_never_share_a_reference(client, outbox):
    from chalicelib.footage import exhibits

    now = datetime.now(timezone.utc)
    items = []
    for n in range(8):
        item = EvidenceItem(f"e{n:024x}", request_id="q", key=f"k{n}", filename="f", size=1, content_type="video/mp4",
                            sha256="0" * 64, uploaded_at=now, status="accepted", case_ref="20/777/26")
        item.save()
        items.append(item)
    threads = [threading.Thread(target=exhibits.assign, args=(item, "Ann Lee"), kwargs={"config": get_config(), "now": now})
               for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refs = sorted(EvidenceItem.get(item.evidence_id).exhibit_ref for item in items)
    assert refs == sorted(f"AL/{n}" for n in range(1, 9))


def test_each_exhibit_has_a_custody_log_from_upload_to_download(client, outbox):
    request_id, headers = owner(client, outbox, "rcustody")
    give_statement(client, request_id, headers)
    target = upload(client, request_id, headers, MP4)
    sent(client, request_id, headers, target, MP4)
    ingest(client, outbox)
    [item] = EvidenceItem.scan()
    tag_scan(item, "NO_THREATS_FOUND")
    response = post_json(client, f"/officer/evidence/{item.evidence_id}/downloads", {"reason": "Review for the file"},
                         headers=bearer("pc.jones"))
    assert response.status_code == 200, response.body

    log = body_of(client.http.get(f"/officer/evidence/{item.evidence_id}/custody", headers=bearer("pc.jones")))
    assert [e["event"] for e in log["events"]] == [
        "upload_started", "upload_finished", "hashed", "type_verified", "owner_hash_matched", "accepted",
        "exhibit_assigned", "scanned", "downloaded",
    ]
    assert log["chain"] == {"intact": True, "events": 9, "problem": None} and log["exhibit_ref"] == "JS/1"
    assert log["events"][-1]["actor"] == "pc.jones" and log["events"][-1]["detail"]["reason"] == "Review for the file"
    assert log["events"][0]["actor"] == "owner" and log["events"][2]["detail"]["sha256"] == hashlib.sha256(MP4).hexdigest()
    assert [e.action for e in AuditEntry.by_officer.query("pc.jones")][-1] == "view_custody"
    # A redelivered S3 event records nothing twice
    from chalicelib.footage import custody, evidence

    record = {"s3": {"bucket": {"name": get_config().evidence_bucket},
                     "object": {"key": item.key, "versionId": item.version_id}}, "eventTime": now_iso()}
    evidence.ingest_record(record, s3=boto3.client("s3", region_name=REGION), config=get_config(), notify=lambda m: None,
                           now=datetime.now(timezone.utc))
    assert len(custody.events(item.evidence_id)) == 9
    # Nobody off the case sees it
    assert client.http.get(f"/officer/evidence/{item.evidence_id}/custody", headers=bearer("pc.other")).status_code == 404


def test_the_owner_is_emailed_a_receipt_naming_each_file(client, outbox):
    request_id, headers = owner(client, outbox, "rreceipt")
    give_statement(client, request_id, headers)
    target = upload(client, request_id, headers, MP4)
    sent(client, request_id, headers, target, MP4)
    ingest(client, outbox)
    late = upload(client, request_id, headers, MP4 + b"late", filename="late.mp4")
    assert post_json(client, f"/owner/requests/{request_id}/complete", {}, headers=headers).status_code == 200
    outbox.pump()
    [receipt] = [m for m in outbox.to("rreceipt@example.org") if m["Subject"].startswith("Your receipt")]
    text = receipt.get_body(("plain",)).get_content()
    assert "Exhibit JS/1: front-door.mp4" in text and hashlib.sha256(MP4).hexdigest() in text
    ingest(client, outbox)  # checked after the owner finished: its own receipt
    outbox.pump()
    receipts = [m for m in outbox.to("rreceipt@example.org") if m["Subject"].startswith("Your receipt")]
    second = receipts[-1].get_body(("plain",)).get_content()
    assert len(receipts) == 2 and "late.mp4" in second and "front-door.mp4" not in second
    assert late


def test_officers_see_the_statement_and_unused_material(client, outbox):
    request_id, headers = owner(client, outbox, "rseen")
    give_statement(client, request_id, headers)
    upload(client, request_id, headers, MP4)
    ingest(client, outbox)
    view = body_of(client.http.get(f"/officer/requests/{request_id}", headers=bearer("pc.jones")))
    assert view["statement"]["clock"]["offset_seconds"] == 18 and view["statement"]["name"] == "Jane Smith"
    assert view["evidence"][0]["exhibit_ref"] == "JS/1" and view["unused_material"] is False
    assert view["evidence"][0]["scan_result"] is None  # not read yet: no download or export so far
    other, other_headers = owner(client, outbox, "rnothing")
    post_json(client, f"/owner/requests/{other}/decline", {"reason": "Nothing recorded then"}, headers=other_headers)
    declined = body_of(client.http.get(f"/officer/requests/{other}", headers=bearer("pc.jones")))
    assert declined["unused_material"] is True and declined["decline_reason"] == "Nothing recorded then"


# -- retention -----------------------------------------------------------------------------


def test_closed_evidence_is_deleted_after_its_period_unless_held(client, outbox):
    from chalicelib.footage import custody
    from chalicelib.investigations import retention

    request_id, headers = owner(client, outbox, "rkeep")
    give_statement(client, request_id, headers)
    upload(client, request_id, headers, MP4)
    ingest(client, outbox)
    [item] = EvidenceItem.scan()
    case = body_of(client.http.get("/officer/cases", headers=bearer("pc.jones")))["cases"][0]
    path = f"/officer/cases/{case['case_id']}"
    patch = lambda body, user: client.http.patch(path, headers={"Content-Type": "application/json", **bearer(user)},
                                                 body=__import__("json").dumps(body))
    assert patch({"hold": True}, "pc.jones").status_code == 403  # supervisors only
    closed = body_of(patch({"status": "closed"}, "pc.jones"))
    assert closed["evidence_delete_after"] is not None and closed["hold"] is False
    held = body_of(patch({"hold": True}, "sgt.patel"))
    assert held["hold"] is True and held["evidence_delete_after"] is None

    later = datetime.now(timezone.utc) + timedelta(days=get_config().evidence_retention_days + 1)
    assert retention.sweep(later, get_config())["evidence_deleted"] == 0  # held
    patch({"hold": False}, "sgt.patel")
    assert retention.sweep(later, get_config()) == {"cases_past_retention": 1, "evidence_deleted": 1}
    assert retention.sweep(later, get_config())["cases_past_retention"] == 0  # done once
    item.refresh()
    assert item.status == "deleted"
    s3 = boto3.client("s3", region_name=REGION)
    versions = s3.list_object_versions(Bucket=get_config().evidence_bucket, Prefix=item.key).get("Versions", [])
    assert versions == [] if item.version_id is None else all(v["VersionId"] != item.version_id for v in versions)
    events = [e.event for e in custody.events(item.evidence_id)]
    assert events[-5:] == ["retention_changed", "retention_changed", "retention_changed", "hold_lifted", "deleted"]


def test_a_deleted_owners_statement_stays_only_with_evidence(client, outbox):
    from chalicelib.footage import requests

    kept, kept_headers = owner(client, outbox, "rkeptst")
    give_statement(client, kept, kept_headers)
    upload(client, kept, kept_headers, MP4)
    ingest(client, outbox)
    dropped, dropped_headers = owner(client, outbox, "rdropst")
    give_statement(client, dropped, dropped_headers)
    post_json(client, f"/owner/requests/{dropped}/decline", {"reason": "Changed my mind"}, headers=dropped_headers)
    now = datetime.now(timezone.utc)
    requests.forget_registration("rkeptst", now)
    requests.forget_registration("rdropst", now)
    assert FootageRequest.get(kept).statement.as_dict()["name"] == "Jane Smith"
    assert FootageRequest.get(dropped).statement is None and FootageRequest.get(dropped).decline_reason is None
