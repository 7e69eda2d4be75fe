"""The product's loop on the local stack, in Debian's Chromium.

An officer searches and asks for footage; the owner opens the emailed link, uploads two files
straight to S3 (presigned POSTs) and says they are done; the ingest handler hashes both; the
officer sees both with SHA-256 values equal to the files' and downloads one byte-identical, once
the local malware scanner (GuardDuty's stand-in) has tagged it clean, under a neutral name. A
third file, a recorder export holding the EICAR test string, is refused at download and
quarantined (issue 10, "scanned", end to end).
"""
import hashlib
import json
import re
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from local.scanner import EICAR
from tests.e2e.conftest import axe_violations
from tests.e2e.test_officer_search import call, token_for
from tests.e2e.test_respond_statement import fill_statement

pytestmark = pytest.mark.e2e

OWNER = "priya.e2e@example.org"
FRONT_DOOR = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 800
DRIVEWAY = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + hashlib.sha512(b"driveway").digest() * 300
INFECTED = b"DVR1" + EICAR + bytes(200)  # a DVR export is opaque bytes: only the scan can tell


def download_when_scanned(api, evidence_id, token, timeout_s=20):
    """Ask for a download until the scan has answered (409 "still being scanned" until then)."""
    deadline = time.monotonic() + timeout_s
    while True:
        status, body = call(f"{api}/officer/evidence/{evidence_id}/downloads", "POST",
                            {"reason": "Review the footage for the suspect's vehicle"}, token=token)
        if not (status == 409 and "still being scanned" in body["error"]["message"]) or time.monotonic() > deadline:
            return status, body
        time.sleep(0.5)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def assert_accessible(page, where):
    violations = axe_violations(page)
    assert violations == [], f"{where}: {json.dumps(violations, indent=1)}"


def test_officer_asks_owner_uploads_officer_downloads(local_stack, outbox, page, capsys, tmp_path):
    api = local_stack["api_url"]

    # Given a verified registration on Newhall Street, found by an officer's search
    sent_before = len(outbox.messages())
    assert call(f"{api}/registrations", "POST", {
        "name": "Priya Shah", "email": OWNER,
        "address": {"line1": "21 Newhall Street", "town": "Birmingham", "postcode": "B3 3PU"},
        "location": {"lat": 52.48247, "lon": -1.90309}, "camera_count": 2, "retention_days": 14, "consent": True,
    })[0] == 202
    link = outbox.wait_for_link(OWNER, "verify.html", after=sent_before)
    assert call(f"{api}/registrations/verify", "POST", {"token": link.split("#token=")[1]})[0] == 200
    token = token_for(local_stack, capsys)
    status, found = call(f"{api}/officer/searches", "POST", {
        "lat": 52.4823, "lon": -1.9030, "radius_m": 150, "case_ref": "E2E/FOOTAGE/1", "reason": "Theft from a car", "category": "Theft offences",
    }, token=token)
    assert status == 200
    priya = next(r for r in found["registrations"] if r["name"] == "Priya Shah")

    # When the officer asks for footage of the last hour
    now = datetime.now(timezone.utc)
    sent_before = len(outbox.messages())
    status, asked = call(f"{api}/officer/requests", "POST", {
        "case_ref": "E2E/FOOTAGE/1", "registration_ids": [priya["registration_id"]],
        "incident": {"lat": 52.4823, "lon": -1.9030, "from": iso(now - timedelta(hours=1)), "to": iso(now - timedelta(minutes=30)),
                     "summary": "A car was broken into on Newhall Street."},
        "reason": "Theft from a car",
    }, token=token)
    assert status == 201, asked
    [request] = asked["requests"]

    # Then the owner opens the emailed link and uploads two files
    respond_link = outbox.wait_for_link(OWNER, "respond.html", after=sent_before)
    page.goto(respond_link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Footage request")
    expect(page.get_by_text("A car was broken into on Newhall Street.")).to_be_visible()
    assert "token" not in page.url
    assert_accessible(page, "respond page")
    files = {"front-door.mp4": ("video/mp4", FRONT_DOOR), "driveway.jpg": ("image/jpeg", DRIVEWAY),
             "night.dav": ("application/octet-stream", INFECTED)}
    page.get_by_label("Choose video or photo files").set_input_files([
        {"name": name, "mimeType": mime, "buffer": data} for name, (mime, data) in files.items()
    ])
    page.get_by_role("button", name="Upload files").click()
    for name in files:
        expect(page.locator(f'[data-filename="{name}"] [data-upload-status]')).to_have_text(
            "Received and checked", timeout=30_000
        )
    assert_accessible(page, "respond page, uploaded")
    fill_statement(page)
    expect(page.locator("[data-statement-status]")).to_contain_text("Saved.")
    page.get_by_role("button", name="I've finished uploading").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert_accessible(page, "respond page, done")

    # And the officer sees both, with the files' SHA-256 values, and downloads one unchanged
    status, detail = call(f"{api}/officer/requests/{request['request_id']}", token=token)
    assert status == 200 and detail["status"] == "responded"
    by_name = {e["filename"]: e for e in detail["evidence"]}
    assert {name: e["sha256"] for name, e in by_name.items()} == {
        name: hashlib.sha256(data).hexdigest() for name, (_, data) in files.items()
    }
    front_door = by_name["front-door.mp4"]["evidence_id"]
    status, download = download_when_scanned(api, front_door, token)
    assert status == 200, download
    with urllib.request.urlopen(download["url"], timeout=30) as response:
        assert response.read() == FRONT_DOOR
        assert response.headers["Content-Disposition"] == f'attachment; filename="{front_door}.mp4"'
        assert response.headers["Content-Type"] == "video/mp4"

    # But the export with the EICAR string is refused, and quarantined
    status, refused = download_when_scanned(api, by_name["night.dav"]["evidence_id"], token)
    assert status == 409 and "threat" in refused["error"]["message"], refused
    status, detail = call(f"{api}/officer/requests/{request['request_id']}", token=token)
    assert sorted(e["filename"] for e in detail["evidence"]) == ["driveway.jpg", "front-door.mp4"]
    outbox.wait_for_subject("demo.officer@police.localhost", "Footage received for case E2E/FOOTAGE/1")
    assert re.search(r"X-Amz-Expires=(\d+)", download["url"]) and int(re.search(r"X-Amz-Expires=(\d+)", download["url"]).group(1)) <= 900
