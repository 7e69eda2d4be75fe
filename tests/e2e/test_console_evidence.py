"""Evidence fit for court in the officers' console (issue 12), on the local stack, at 360 px.

An owner makes a statement (with a recorder clock 18 s fast) and uploads a file through the API;
a second owner declines. The demo officer, in the browser, opens the request and reads the
statement, the exhibit reference and the SHA-256; opens the exhibit's chain of custody; asks for
an export for the CPS, waits for it to be built, and gets its download links. The test then
downloads every file, runs ``sha256sum -c SHA256SUMS`` over them and checks the manifest's
exhibits against what was uploaded. axe checks the request, custody and exports views.
A supervisor holds a case's evidence indefinitely, and lifts the hold, by keyboard.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Dict
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.test_footage_journey import FRONT_DOOR, iso
from tests.e2e.test_officer_console import no_violations, sign_in
from tests.e2e.test_officer_search import call, token_for

pytestmark = pytest.mark.e2e

# Great Charles Street, away from the other tests' owners.
POINT = (52.48390, -1.90240)
CLOCK_FAST_S = 18


def registered_owner(api: str, outbox, email: str, name: str, lat: float, lon: float) -> None:
    sent_before = len(outbox.messages())
    assert call(f"{api}/registrations", "POST", {
        "name": name, "email": email,
        "address": {"line1": "3 Great Charles Street", "town": "Birmingham", "postcode": "B3 3JY"},
        "location": {"lat": lat, "lon": lon}, "camera_count": 2, "retention_days": 14, "consent": True,
    })[0] == 202
    link = outbox.wait_for_link(email, "verify.html", after=sent_before)
    assert call(f"{api}/registrations/verify", "POST", {"token": link.split("#token=")[1]})[0] == 200


def owner_session(api: str, outbox, email: str, after: int) -> str:
    link = outbox.wait_for_link(email, "respond.html", after=after)
    status, opened = call(f"{api}/owner/sessions", "POST", {"token": link.split("#token=")[1]})
    assert status == 200, opened
    return opened["session"]


def statement(now: datetime, timezone_name: str) -> Dict:
    """The owner's statement: their recorder shows 18 s more than the true time."""
    now = now.replace(microsecond=0)  # the recorder shows whole seconds
    recorder = (now + timedelta(seconds=CLOCK_FAST_S)).astimezone(ZoneInfo(timezone_name))
    return {
        "name": "Jane Smith", "operator": "my_business", "operator_name": "Smith's Bakery",
        "system": "Hikvision DS-7608NI", "cameras": [1], "source": "recorder_export", "gaps_or_edits": False,
        "clock": {"checked": True, "recorder_shows": recorder.strftime("%Y-%m-%dT%H:%M:%S"),
                  "observed_at": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
                  "uncertainty_ms": 850},
        "witness_statement": "yes", "declaration": True,
    }


def upload(api: str, session: str, request_id: str, name: str, data: bytes) -> None:
    """The respond page's steps for one small file: a presigned POST to S3, then its SHA-256."""
    status, started = call(f"{api}/owner/requests/{request_id}/uploads", "POST",
                           {"filename": name, "content_type": "video/mp4", "size": len(data)}, token=session)
    assert status == 201 and started["method"] == "post", started
    sent = requests.post(started["url"], data=started["fields"], files={"file": (name, data, "video/mp4")}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    status, recorded = call(f"{api}/owner/requests/{request_id}/uploads/{started['upload_id']}/complete", "POST",
                            {"sha256": hashlib.sha256(data).hexdigest()}, token=session)
    assert status == 200, recorded


def a_case_with_a_statement_an_exhibit_and_a_decline(local_stack, outbox, capsys) -> Dict:
    """Set up through the API, as an officer and two owners would; returns what the browser should show."""
    api = local_stack["api_url"]
    stamp = int(time.time() * 1000)
    jane, omar = f"jane.{stamp}@example.org", f"omar.{stamp}@example.org"
    registered_owner(api, outbox, jane, "Jane Smith", POINT[0], POINT[1])
    registered_owner(api, outbox, omar, "Omar Farouk", POINT[0] + 0.0002, POINT[1])
    token = token_for(local_stack, capsys)
    case_ref = f"EVIDENCE/{stamp % 100000}/26"
    status, found = call(f"{api}/officer/searches", "POST", {
        "lat": POINT[0], "lon": POINT[1], "radius_m": 100, "case_ref": case_ref, "reason": "Theft from a shop",
        "category": "Theft offences",
    }, token=token)
    assert status == 200, found
    ids = {r["name"]: r["registration_id"] for r in found["registrations"] if r["name"] in ("Jane Smith", "Omar Farouk")}
    now = datetime.now(timezone.utc)
    sent_before = len(outbox.messages())
    status, asked = call(f"{api}/officer/requests", "POST", {
        "case_ref": case_ref, "registration_ids": [ids["Jane Smith"], ids["Omar Farouk"]],
        "incident": {"lat": POINT[0], "lon": POINT[1], "from": iso(now - timedelta(hours=1)),
                     "to": iso(now - timedelta(minutes=30)), "summary": "A shop's window was smashed."},
        "reason": "Theft from a shop",
    }, token=token)
    assert status == 201, asked
    by_registration = {r["registration_id"]: r["request_id"] for r in asked["requests"]}
    jane_request, omar_request = by_registration[ids["Jane Smith"]], by_registration[ids["Omar Farouk"]]

    # Jane states what her system is and how far its clock is out, uploads a file, and finishes
    session = owner_session(api, outbox, jane, sent_before)
    status, page = call(f"{api}/owner/requests/{jane_request}", token=session)
    assert status == 200, page
    status, stated = call(f"{api}/owner/requests/{jane_request}/statement", "PUT",
                          statement(datetime.now(timezone.utc), page["force_timezone"]), token=session)
    assert status == 200, stated
    upload(api, session, jane_request, "shop-window.mp4", FRONT_DOOR)
    deadline = time.monotonic() + 30
    while True:  # ingest hashes the file and gives it its exhibit reference
        status, shown = call(f"{api}/officer/requests/{jane_request}", token=token)
        if status == 200 and shown["evidence"] and shown["evidence"][0].get("exhibit_ref"):
            break
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)
    status, done = call(f"{api}/owner/requests/{jane_request}/complete", "POST", {}, token=session)
    assert status == 200, done

    # Omar had nothing, and says why
    session = owner_session(api, outbox, omar, sent_before)
    status, declined = call(f"{api}/owner/requests/{omar_request}/decline", "POST",
                            {"reason": "My camera points the other way"}, token=session)
    assert status == 200, declined
    return {"case_ref": case_ref, "jane": ids["Jane Smith"], "omar": ids["Omar Farouk"],
            "exhibit": shown["evidence"][0]}


def test_officer_reads_the_statement_and_custody_and_exports_the_case(browser, local_stack, outbox, capsys, tmp_path):
    # Given a case with Jane's statement and file, and Omar's decline
    given = a_case_with_a_statement_an_exhibit_and_a_decline(local_stack, outbox, capsys)
    exhibit = given["exhibit"]
    assert exhibit["sha256"] == hashlib.sha256(FRONT_DOOR).hexdigest()

    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB", accept_downloads=True,
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        # When the demo officer opens the case on a phone
        sign_in(page, local_stack)
        page.get_by_role("button", name="My cases").click()
        page.get_by_role("button", name=f"{given['case_ref']}: Theft offences (open)").click()
        detail = page.locator("#case-detail")
        expect(detail).to_contain_text("Kept while the case is open")

        # Then Omar's decline is unused material, with his reason
        omar = detail.locator("li", has_text=f"Registration {given['omar']}")
        expect(omar).to_contain_text("Unused material")
        expect(omar).to_contain_text("My camera points the other way")

        # And Jane's request shows her statement, the exhibit reference and the SHA-256
        detail.get_by_role("button", name=f"Show the request from registration {given['jane']}").click()
        request = detail.locator(".request-detail").filter(has_text="Owner's statement")
        expect(request).to_contain_text(f"Recorder clock {CLOCK_FAST_S} seconds fast (checked ")
        expect(request).to_contain_text("Smith's Bakery")
        expect(request).to_contain_text("Willing to make a witness statement")
        expect(request.locator(".exhibit__ref")).to_contain_text(exhibit["exhibit_ref"])
        expect(request.locator(".sha256")).to_have_text(exhibit["sha256"])
        expect(request).to_contain_text("Owner's fingerprint matches")
        request.get_by_role("button", name=f"Copy the SHA-256 of exhibit {exhibit['exhibit_ref']}").click()
        expect(request.locator(".copy-status")).to_have_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == exhibit["sha256"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        no_violations(page, "request view, 360 px")

        # When they open the exhibit's chain of custody
        request.get_by_role("button", name=f"Chain of custody of exhibit {exhibit['exhibit_ref']}").click()
        custody = page.locator("#view-custody")
        expect(custody.locator(".chain-status")).to_contain_text("Chain intact:")
        events = custody.locator("tbody tr")
        assert events.count() >= 3
        expect(custody).to_contain_text("The owner started uploading the file.")
        no_violations(page, "custody view, 360 px")
        custody.get_by_role("button", name="Back to the case").click()
        opener = request.get_by_role("button", name=f"Chain of custody of exhibit {exhibit['exhibit_ref']}")
        expect(opener).to_be_focused()
        # by keyboard alone: Enter opens it again, Tab and Enter come back
        page.keyboard.press("Enter")
        expect(page.locator("#custody-heading")).to_be_focused()
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(opener).to_be_focused()

        # And ask for an export for the CPS; it builds, and they get its links for a reason
        exports = page.locator("#case-exports")
        exports.get_by_label("Recipient").fill("CPS West Midlands")
        exports.get_by_label("Reason for exporting").fill("File for charging decision")
        exports.get_by_role("button", name="Ask for an export").click()
        exports.get_by_role("button", name="Download the export for CPS West Midlands").wait_for(timeout=60_000)
        expect(exports.locator("#export-list")).to_contain_text("Ready")
        exports.get_by_role("button", name="Download the export for CPS West Midlands").click()
        exports.get_by_label("Reason for downloading the export").fill("Send to the CPS")
        exports.get_by_role("button", name="Get the download links").click()
        links = exports.locator("a.export-file")
        links.first.wait_for()
        expect(exports.locator("#export-files-expiry")).to_contain_text("These links expire in")
        no_violations(page, "exports view, 360 px")
        files = {link.get_attribute("data-path"): link.get_attribute("href") for link in links.all()}

        # And "Download all" has the browser save each file in turn, named after its path
        saved = []
        page.on("download", lambda download: saved.append(download.suggested_filename))
        exports.get_by_role("button", name="Download all").click()
        expect(exports.locator("#export-download-status")).to_contain_text(f"All {len(files)} downloads started", timeout=30_000)
        deadline = time.monotonic() + 10
        while len(saved) < len(files) and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert sorted(saved) == sorted(path.replace("/", "_") for path in files), saved
    finally:
        context.close()

    # Then every file downloads, sha256sum checks them all, and the manifest names the exhibit
    assert {"manifest.json", "SHA256SUMS"} <= set(files), files
    folder = tmp_path / "export"
    for path, url in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=30) as answer:
            target.write_bytes(answer.read())
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    [listed] = manifest["exhibits"]
    assert listed["exhibit_ref"] == exhibit["exhibit_ref"]
    assert listed["sha256"] == hashlib.sha256(FRONT_DOOR).hexdigest() and listed["size"] == len(FRONT_DOOR)
    assert (folder / listed["path"]).read_bytes() == FRONT_DOOR


def test_a_supervisor_holds_a_case_indefinitely_and_lifts_the_hold(page, local_stack, capsys):
    # Given a case of the demo officer's, with the demo supervisor on its team
    api = local_stack["api_url"]
    token = token_for(local_stack, capsys)
    case_ref = f"HOLD/{int(time.time() * 1000) % 100000}/26"
    status, case = call(f"{api}/officer/cases", "POST", {"case_ref": case_ref, "category": "Theft offences"}, token=token)
    assert status == 201, case
    assert call(f"{api}/officer/cases/{case['case_id']}/team", "POST", {"username": "demo.supervisor"}, token=token)[0] == 200

    # When the supervisor opens it, its evidence is kept while it is open, and they hold it
    sign_in(page, local_stack, who="demo_supervisor")
    page.get_by_role("button", name="My cases").click()
    page.get_by_role("button", name=f"{case_ref}: Theft offences (open)").click()
    expect(page.locator("#case-retention")).to_have_text("Kept while the case is open")
    hold = page.get_by_role("button", name="Hold indefinitely")
    expect(hold).to_have_attribute("aria-pressed", "false")
    hold.click()

    # Then the case says so, the toggle is pressed and keeps the focus; pressing it again lifts the hold
    expect(page.locator("#case-retention")).to_have_text("Held indefinitely")
    expect(hold).to_have_attribute("aria-pressed", "true")
    expect(hold).to_be_focused()
    no_violations(page, "case on hold")
    page.keyboard.press("Enter")
    expect(page.locator("#case-retention")).to_have_text("Kept while the case is open")
    status, shown = call(f"{api}/officer/cases/{case['case_id']}", token=token)
    assert status == 200 and shown["hold"] is False
