"""The owner's statement and the fingerprints of their files, in Debian's Chromium (issue 12).

On the local stack: the owner checks their recorder's clock against the true time (the recorder
18 seconds fast), says where the footage came from, uploads two files whose SHA-256 the page
works out while they upload, sees each file's exhibit reference, and finishes; the officer's API
holds the statement, the offset and the matched fingerprints. The site's CSP (the deployed one,
which the local server sends) lets the page compile hash-wasm's WebAssembly and nothing breaks it.

Without the stack (the API answered by the test): the page's own checks, a fingerprint that does
not match, and axe on the open form.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Dict, List
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from infrastructure.sightline_infra.security_headers import security_headers
from tests.e2e.conftest import ROOT, axe_violations
from tests.e2e.test_officer_search import call, token_for

pytestmark = pytest.mark.e2e

OWNER = "dev.statement.e2e@example.org"
PORCH = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + hashlib.sha512(b"porch").digest() * 900
YARD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + hashlib.sha512(b"yard").digest() * 500
RECORDER_FAST_S = 18
A_TIME = re.compile(r"^\d\d:\d\d:\d\d$")
# Listens from the first script on: CSP violations and uncaught errors, kept for the test to read.
WATCH_PAGE = """
window.__problems = [];
document.addEventListener("securitypolicyviolation",
  e => window.__problems.push("CSP " + e.violatedDirective + " " + e.blockedURI));
window.addEventListener("error", e => window.__problems.push("error " + e.message));
window.addEventListener("unhandledrejection", e => window.__problems.push("rejection " + e.reason));
"""


def watch(page) -> List[str]:
    """Console errors and failed loads (but the browser's own look for a favicon), from the
    moment the page loads, with WATCH_PAGE's listeners."""
    errors: List[str] = []

    def console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def response(answer):
        if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
            errors.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("response", response)
    page.add_init_script(WATCH_PAGE)
    return errors


def problems(page, console_errors: List[str]) -> List[str]:
    return page.evaluate("window.__problems") + console_errors


def fill_statement(page, *, recorder_fast_s: int = RECORDER_FAST_S, zone: str = "Europe/London") -> None:
    """Answer "About your footage" as an owner who runs their own cameras and exported the files,
    with the recorder's clock ``recorder_fast_s`` seconds ahead of the page's true time."""
    page.get_by_label("Your full name").fill("Dev Patel")
    page.get_by_label("I do", exact=True).check()
    page.get_by_label("What recorder or app do the cameras use?").fill("Hikvision DS-7608NI")
    page.get_by_label("Camera 1", exact=False).check()
    page.get_by_label("I saved (exported) them from the recorder or app").check()
    page.get_by_role("group", name="Is anything missing from the footage").get_by_label("No", exact=True).check()
    expect(page.locator("[data-clock-time]")).to_have_text(A_TIME, timeout=10_000)
    page.get_by_role("button", name="Note the time now").click()
    observed = datetime.fromisoformat(
        page.locator("[data-clock-noted]").get_attribute("data-observed-at").replace("Z", "+00:00")
    )
    # The recorder shows whole seconds: the nearest one to the noted instant, plus its error.
    shows = (observed + timedelta(milliseconds=500)).replace(microsecond=0) + timedelta(seconds=recorder_fast_s)
    shows = shows.astimezone(ZoneInfo(zone))
    page.get_by_label("Date", exact=True).fill(shows.strftime("%Y-%m-%d"))
    page.get_by_label("Time", exact=True).fill(shows.strftime("%H:%M:%S"))
    page.get_by_role("group", name="Would you be willing to make a witness statement").get_by_label("Yes", exact=True).check()
    page.locator("#statement-declaration").check()
    page.get_by_role("button", name="Save these details").click()


def assert_accessible(page, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{where}: {json.dumps(violations, indent=1)}"


def upload(page, files: Dict[str, tuple]) -> None:
    page.get_by_label("Choose video or photo files").set_input_files([
        {"name": name, "mimeType": mime, "buffer": data} for name, (mime, data) in files.items()
    ])
    page.get_by_role("button", name="Upload files").click()


def fact(page, filename: str, name: str):
    return page.locator(f'#uploads [data-filename="{filename}"] [data-fact="{name}"] dd')


# ------------------------------------------------------------------ on the local stack


def _ask_for_footage(api: str, outbox, capsys, local_stack) -> Dict:
    """A verified registration with two cameras, and an officer's request to its owner."""
    sent_before = len(outbox.messages())
    assert call(f"{api}/registrations", "POST", {
        "name": "Dev Patel", "email": OWNER,
        "address": {"line1": "3 Brindley Place", "town": "Birmingham", "postcode": "B1 2JB"},
        "location": {"lat": 52.47763, "lon": -1.91253}, "camera_count": 2, "retention_days": 14, "consent": True,
    })[0] == 202
    link = outbox.wait_for_link(OWNER, "verify.html", after=sent_before)
    assert call(f"{api}/registrations/verify", "POST", {"token": link.split("#token=")[1]})[0] == 200
    token = token_for(local_stack, capsys)
    status, found = call(f"{api}/officer/searches", "POST", {
        "lat": 52.4776, "lon": -1.9125, "radius_m": 100, "case_ref": "E2E/STATEMENT/1", "reason": "Criminal damage",
        "category": "Criminal damage and arson",
    }, token=token)
    assert status == 200, found
    dev = next(r for r in found["registrations"] if r["name"] == "Dev Patel")
    now = datetime.now(timezone.utc)
    sent_before = len(outbox.messages())
    status, asked = call(f"{api}/officer/requests", "POST", {
        "case_ref": "E2E/STATEMENT/1", "registration_ids": [dev["registration_id"]],
        "incident": {"lat": 52.4776, "lon": -1.9125, "from": _iso(now - timedelta(hours=2)),
                     "to": _iso(now - timedelta(hours=1)), "summary": "A window was smashed on Brindley Place."},
        "reason": "Criminal damage",
    }, token=token)
    assert status == 201, asked
    [request] = asked["requests"]
    return {"token": token, "request_id": request["request_id"],
            "link": outbox.wait_for_link(OWNER, "respond.html", after=sent_before)}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_owner_states_a_fast_clock_and_sees_the_fingerprints_and_exhibits(local_stack, outbox, page, capsys):
    api = local_stack["api_url"]
    asked = _ask_for_footage(api, outbox, capsys, local_stack)
    console_errors = watch(page)

    # Given the owner's page, with the statement form open
    page.goto(asked["link"])
    expect(page.get_by_role("heading", name="About your footage")).to_be_visible()
    expect(page.get_by_label("Camera 2", exact=False)).to_be_visible()
    assert_accessible(page, "respond page, statement form open")

    # When they fill in the statement with their recorder 18 seconds fast, and save it
    fill_statement(page)
    # Then the page says it is saved, and how far out the recorder's clock is
    expect(page.locator("[data-statement-status]")).to_have_text(
        "Saved. You can change these details until you tell us you have finished.")
    expect(page.locator("[data-statement-offset]")).to_have_text("Your recorder's clock is 18 seconds fast.")

    # When they upload two files
    files = {"porch.mp4": ("video/mp4", PORCH), "yard.jpg": ("image/jpeg", YARD)}
    upload(page, files)
    # Then the page shows each file's SHA-256, worked out in the browser, and what the server
    # made of it: accepted, the same fingerprint, and an exhibit reference
    for name, (_, data) in files.items():
        expect(page.locator(f'#uploads [data-filename="{name}"] [data-upload-status]')).to_have_text(
            "Received and checked", timeout=30_000)
        expect(fact(page, name, "sha256")).to_have_text(hashlib.sha256(data).hexdigest())
        expect(fact(page, name, "hash-check")).to_contain_text("It matches the file we received")
        expect(fact(page, name, "exhibit-ref")).to_have_text(re.compile(r"^[A-Z]+/\d+$"))
    assert_accessible(page, "respond page, uploaded")

    # And finish
    page.get_by_role("button", name="I've finished uploading").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("We are emailing you a receipt")).to_be_visible()
    receipt = page.locator("[data-receipt-list]")
    for name, (_, data) in files.items():
        expect(receipt.locator(f'[data-filename="{name}"]')).to_contain_text(hashlib.sha256(data).hexdigest())

    # Then the officer sees the statement, the offset the server worked out and the exhibits
    status, detail = call(f"{api}/officer/requests/{asked['request_id']}", token=asked["token"])
    assert status == 200 and detail["status"] == "responded", detail
    statement = detail["statement"]
    assert statement["name"] == "Dev Patel" and statement["operator"] == "me"
    assert statement["cameras"] == [1] and statement["source"] == "recorder_export"
    assert statement["witness_statement"] == "yes" and statement["declaration"] is True
    assert statement["clock"]["checked"] is True
    assert abs(statement["clock"]["offset_seconds"] - RECORDER_FAST_S) <= 0.5, statement["clock"]
    assert statement["clock"]["timezone"] == "Europe/London"
    assert 0 <= statement["clock"]["uncertainty_ms"] < 5000
    by_name = {e["filename"]: e for e in detail["evidence"]}
    for name, (_, data) in files.items():
        digest = hashlib.sha256(data).hexdigest()
        assert by_name[name]["owner_sha256"] == digest == by_name[name]["sha256"]
        assert by_name[name]["hash_check"] == "matched"
        assert receipt.locator(f'[data-filename="{name}"]').inner_text().count(by_name[name]["exhibit_ref"]) == 1
    # And the receipt the page promised is in the owner's inbox, with the same fingerprints
    mail = outbox.wait_for_subject(OWNER, "Your receipt: the footage you sent for case E2E/STATEMENT/1")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    for name, (_, data) in files.items():
        assert hashlib.sha256(data).hexdigest() in text and by_name[name]["exhibit_ref"] in text
    assert problems(page, console_errors) == []


# Run as the page's own code runs: from a task of its own, not inside Playwright's evaluate, to
# which DevTools grants eval and WebAssembly whatever the CSP says.
HASH_AND_EVAL_LATER = """() => new Promise(resolve => setTimeout(() => {
  let evaluated;
  try { eval("1"); evaluated = "ran"; } catch (e) { evaluated = e.name; }
  Sightline.hashing.sha256(new Blob([new Uint8Array(9 * 1024 * 1024).fill(7)]))
    .then(hex => resolve({hex, evaluated}), e => resolve({hex: "failed: " + e, evaluated}));
}, 0))"""
NINE_MIB_OF_SEVENS = hashlib.sha256(bytes([7]) * (9 * 1024 * 1024)).hexdigest()


def test_the_site_csp_lets_the_page_hash_with_webassembly_and_still_refuses_eval(local_stack, page):
    console_errors = watch(page)
    page.goto(local_stack["site_url"] + "/respond.html")
    csp = page.evaluate("fetch('/respond.html').then(r => r.headers.get('content-security-policy'))")
    assert "'wasm-unsafe-eval'" in csp.split("script-src", 1)[1].split(";")[0]
    # 9 MiB: three 4 MiB slices, the last one short
    assert page.evaluate(HASH_AND_EVAL_LATER) == {"hex": NINE_MIB_OF_SEVENS, "evaluated": "EvalError"}
    # The one refusal: the eval() above
    assert problems(page, console_errors) == ["CSP script-src eval"]


def test_without_wasm_unsafe_eval_the_page_could_not_hash(page):
    """The check above can fail: the same page under the CSP as it was before issue 12."""
    old_csp = security_headers()["Content-Security-Policy"].replace(" 'wasm-unsafe-eval'", "")

    def serve(route):
        path = route.request.url[len(ORIGIN):].split("?")[0]
        file = ROOT / "site" / path.lstrip("/")
        if path == "/config.js" or not file.is_file():
            return route.fulfill(body="", content_type="text/javascript")
        route.fulfill(path=str(file), headers={"Content-Security-Policy": old_csp.replace("; upgrade-insecure-requests", "")})

    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/respond.html")
    result = page.evaluate(HASH_AND_EVAL_LATER)
    assert result["hex"].startswith("failed") and result["evaluated"] == "EvalError", result


# ------------------------------------------------------------------ the page alone, the API answered here

ORIGIN = "http://sightline.test"
STORE = "http://evidence.sightline.test"
REQUEST_ID = "req-1"
DECLARATION = "I declare that the details I have given are true to the best of my knowledge."


class FakeApi:
    """The API's side of the contract (notes: spec 12), with a server clock 5 minutes ahead of
    the browser's: the page must show the server's time, not the device's."""

    SERVER_AHEAD = timedelta(minutes=5)
    PART_BYTES = 4096

    def __init__(self, page):
        self.uploads: List[Dict] = []
        self.statement = None
        self.completed: Dict[str, Dict] = {}
        # The deployed CSP, less the upgrade to https (this test's made-up origin is plain http).
        csp = security_headers(connect_origins=[STORE])["Content-Security-Policy"]
        self.headers = {"Content-Security-Policy": csp.replace("; upgrade-insecure-requests", "")}
        page.route(f"{ORIGIN}/**", self.handle)
        page.route(f"{STORE}/**", lambda route: route.fulfill(status=204, headers={
            "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, PUT"}))

    def request(self) -> Dict:
        return {
            "request_id": REQUEST_ID, "status": "uploading", "force_name": "Example Police", "case_ref": "EX/1/26",
            "incident": {"from": "2026-11-20T21:00:00Z", "to": "2026-11-20T22:00:00Z", "area": "High St", "summary": "x"},
            "deadline": "2026-12-30T12:00:00Z", "max_file_bytes": 2 ** 30, "force_timezone": "Europe/London",
            "server_time": _server_now(self.SERVER_AHEAD),
            "cameras": [{"number": 1, "description": "Front door", "direction_deg": 90},
                        {"number": 2, "description": None, "direction_deg": None}],
            "statement": self.statement, "declaration_text": DECLARATION, "receipt_sent": False,
            "uploads": self.uploads,
        }

    def handle(self, route):
        request = route.request
        path = request.url[len(ORIGIN):].split("?")[0]
        if path == "/config.js":
            body = "window.SIGHTLINE_CONFIG = " + json.dumps({"apiUrl": "/api", "forceName": "Example Police"})
            return route.fulfill(body=body, content_type="text/javascript")
        if path == "/api/time":
            return self.json(route, {"now": _server_now(self.SERVER_AHEAD)})
        if path == "/api/owner/sessions":
            return self.json(route, {"session": "s", "request_id": REQUEST_ID, "scope": "request",
                                     "expires_at": "2026-12-30T12:00:00Z"})
        base = f"/api/owner/requests/{REQUEST_ID}"
        if path == base:
            return self.json(route, self.request())
        if path == base + "/uploads":
            body = request.post_data_json
            upload_id = f"u{len(self.completed) + 1}"
            self.completed[upload_id] = {"filename": body["filename"], "size": body["size"]}
            start = {"upload_id": upload_id, "key": f"requests/{REQUEST_ID}/{upload_id}/x"}
            if body["filename"].endswith(".dav"):  # a recorder's export, sent in parts
                count = -(-body["size"] // self.PART_BYTES)
                return self.json(route, {**start, "method": "multipart", "part_size": self.PART_BYTES,
                                         "parts": [{"part_number": n, "url": f"{STORE}/part/{n}"} for n in range(1, count + 1)],
                                         "complete_url_path": f"{base[4:]}/uploads/{upload_id}/complete"})
            return self.json(route, {**start, "method": "post", "url": STORE + "/bucket", "fields": {"key": "x"}})
        if path.startswith(base + "/uploads/") and path.endswith("/complete"):
            upload_id = path.split("/")[-2]
            sent = self.completed[upload_id]
            owner_sha = request.post_data_json.get("sha256")
            # The first file arrives changed (the server's fingerprint differs); the rest intact.
            changed = not self.uploads
            server_sha = hashlib.sha256(b"changed on the way").hexdigest() if changed else owner_sha
            self.uploads.append({
                "evidence_id": f"ev-{upload_id}", "filename": sent["filename"], "size": sent["size"],
                "sha256": server_sha, "owner_sha256": owner_sha,
                "hash_check": "mismatch" if changed else "matched",
                "status": "quarantined" if changed else "accepted",
                "problem": "The file we received is not the file you sent. Please upload it again." if changed else None,
                "exhibit_ref": None if changed else f"DP/{len(self.uploads)}",
            })
            return self.json(route, {"status": "recorded", "key": "x"})
        if path == base + "/statement":
            body = request.post_data_json
            clock = dict(body["clock"])
            if clock.get("checked"):
                shows = datetime.fromisoformat(clock["recorder_shows"]).replace(tzinfo=ZoneInfo("Europe/London"))
                observed = datetime.fromisoformat(clock["observed_at"].replace("Z", "+00:00"))
                clock.update(offset_seconds=round((shows - observed).total_seconds(), 3), timezone="Europe/London")
            self.statement = {**body, "clock": clock, "declaration_text": DECLARATION, "saved_at": _server_now(timedelta())}
            return self.json(route, self.statement)
        if path == base + "/complete":
            return self.json(route, {"status": "responded"})
        file = ROOT / "site" / path.lstrip("/")
        if file.is_file():
            return route.fulfill(path=str(file), headers=self.headers)
        return route.fulfill(status=404, body="")

    @staticmethod
    def json(route, body, status: int = 200):
        route.fulfill(status=status, body=json.dumps(body), content_type="application/json")


def _server_now(ahead: timedelta) -> str:
    return (datetime.now(timezone.utc) + ahead).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_the_page_checks_the_statement_and_offers_a_changed_file_again(page):
    api = FakeApi(page)
    console_errors = watch(page)
    page.goto(f"{ORIGIN}/respond.html#token=abc")
    expect(page.get_by_role("heading", name="About your footage")).to_be_visible()
    expect(page.get_by_label(DECLARATION)).to_be_visible()
    expect(page.get_by_label("Camera 1: Front door (points east)")).to_be_visible()

    # The true time is the server's (5 minutes ahead of this browser), in the force's zone
    expect(page.locator("[data-clock-time]")).to_have_text(A_TIME, timeout=10_000)
    shown = page.locator("[data-clock-time]").inner_text()
    server = (datetime.now(timezone.utc) + FakeApi.SERVER_AHEAD).astimezone(ZoneInfo("Europe/London"))
    shown_at = datetime.combine(server.date(), datetime.strptime(shown, "%H:%M:%S").time(), server.tzinfo)
    assert abs((shown_at - server).total_seconds()) < 5, (shown, server)
    assert_accessible(page, "respond page, statement form open")

    # Saving an empty form names each question to answer, linked to it
    page.get_by_role("button", name="Save these details").click()
    summary = page.locator("#statement-errors")
    expect(summary).to_be_focused()
    for words in ["Enter your full name", "Select who runs the camera system", "Select the cameras",
                  "Select 'Note the time now'", "Select the box to confirm the declaration"]:
        expect(summary).to_contain_text(words)
    summary.get_by_role("link", name="Enter your full name").click()
    expect(page.get_by_label("Your full name")).to_be_focused()
    # A re-recording needs a description; an agent needs a name
    page.get_by_label("A managing agent or landlord").check()
    page.get_by_label("I recorded them another way").check()
    page.get_by_role("button", name="Save these details").click()
    expect(summary).to_contain_text("Enter the name of the business or agent")
    expect(summary).to_contain_text("Describe how you recorded the files")
    assert_accessible(page, "respond page, statement errors")
    page.get_by_label("I do", exact=True).check()
    page.get_by_label("I saved (exported) them from the recorder or app").check()

    # Files: the first arrives changed; the page says so and offers to send it again
    first, second, export = b"first file" * 1000, b"second file" * 1000, bytes(range(256)) * 50
    upload(page, {"a.mp4": ("video/mp4", first), "b.mp4": ("video/mp4", second),
                  "c.dav": ("application/octet-stream", export)})
    expect(fact(page, "b.mp4", "exhibit-ref")).to_have_text("DP/1", timeout=15_000)
    expect(fact(page, "b.mp4", "sha256")).to_have_text(hashlib.sha256(second).hexdigest())
    # The export went in 4 parts, and its completion carried the whole file's SHA-256
    expect(fact(page, "c.dav", "exhibit-ref")).to_have_text("DP/2", timeout=15_000)
    assert api.uploads[2]["owner_sha256"] == hashlib.sha256(export).hexdigest()
    changed = page.locator('#uploads [data-filename="a.mp4"]').first
    expect(changed.locator("[data-upload-status]")).to_contain_text("not the file you sent")
    expect(fact(page, "a.mp4", "sha256").first).to_have_text(hashlib.sha256(first).hexdigest())
    expect(fact(page, "a.mp4", "hash-check").first).to_contain_text("does not match")
    assert api.uploads[0]["owner_sha256"] == hashlib.sha256(first).hexdigest()
    changed.get_by_role("button", name="Upload this file again").click()
    expect(page.locator('#uploads [data-filename="a.mp4"]')).to_have_count(2)
    expect(fact(page, "a.mp4", "exhibit-ref").last).to_have_text("DP/3", timeout=15_000)

    # Finishing needs the statement saved
    page.get_by_role("button", name="I've finished uploading").click()
    expect(page.locator("#respond-errors")).to_contain_text("Save these details")
    page.locator("#respond-errors").get_by_role("link").click()
    expect(page.locator("#statement-status")).to_be_focused()

    fill_statement(page, recorder_fast_s=-75)
    expect(page.locator("[data-statement-offset]")).to_have_text("Your recorder's clock is 1 minute 15 seconds slow.")
    assert api.statement["clock"]["uncertainty_ms"] >= 0 and api.statement["cameras"] == [1]
    assert "operator_name" not in api.statement and "source_note" not in api.statement
    # Changed after saving: the page asks for another save before finishing
    page.get_by_label("What recorder or app do the cameras use?").fill("Ring app")
    expect(page.locator("[data-statement-status]")).to_contain_text("You have changed these details")
    page.get_by_role("button", name="I've finished uploading").click()
    expect(page.locator("#respond-errors")).to_contain_text("You changed 'About your footage'")
    page.get_by_role("button", name="Save these details").click()
    expect(page.locator("[data-statement-status]")).to_contain_text("Saved.")
    page.get_by_role("button", name="I've finished uploading").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.locator("[data-receipt-list] li")).to_have_count(3)
    assert_accessible(page, "respond page, thank you")
    assert problems(page, console_errors) == []
