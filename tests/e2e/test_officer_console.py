"""The officers' console (console/) on the local stack: an officer signs in with a password and
a real TOTP code against moto's Cognito, searches the 20,000 seeded registrations, filters,
selects and asks owners; refusals; the same journey by keyboard alone at 360 px; axe on every view."""
from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from local.officer_sign_in import _totp, totp_code
from tests.e2e.conftest import WCAG_22_AA, axe_violations
from tests.e2e.test_footage_journey import FRONT_DOOR
from tests.e2e.test_respond_statement import fill_statement

pytestmark = pytest.mark.e2e

# Colmore Row, in the seeded centre of Birmingham.
POINT = (52.4814, -1.8990)
REQUEST_SUBJECT = "Police are asking whether your cameras recorded an incident"


def no_violations(page, view: str) -> None:
    violations = axe_violations(page, WCAG_22_AA)
    assert violations == [], f"{view}: {violations}"


def local_time(delta: timedelta) -> str:
    return (datetime.now() + delta).strftime("%Y-%m-%d %H:%M")


def wrong_code(secret: str) -> str:
    """A six-digit code that is not the current one (nor the previous or next step's)."""
    now = int(time.time())
    valid = {_totp(secret).generate(now + step).decode() for step in (-30, 0, 30)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def sign_in(page, local_stack, check_axe: bool = False, who: str = "demo_officer",
            lands_on: str = "Find cameras near an incident") -> None:
    user = local_stack[who]
    page.goto(local_stack["console_url"])
    page.get_by_label("Email address or username").fill(user["username"])
    page.get_by_label("Password", exact=True).fill(user["password"])
    if check_axe:
        no_violations(page, "sign-in")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app").wait_for()
    if check_axe:
        no_violations(page, "code")
    page.get_by_label("Code from your authenticator app").fill(totp_code(local_stack["demo_totp_secret"]))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name=lands_on).wait_for()


def test_officer_signs_in_with_totp_searches_filters_and_asks_three_owners(page, local_stack, outbox):
    # Given the demo officer, with TOTP registered, signed in with a real code
    sign_in(page, local_stack, check_axe=True)
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert "token" not in page.url.lower()

    # When they place the incident on the map, then type its exact coordinates, and search
    page.locator("#map").click(position={"x": 200, "y": 150})
    assert page.get_by_label("Latitude").input_value() != ""
    page.get_by_label("Latitude").fill(str(POINT[0]))
    page.get_by_label("Longitude").fill(str(POINT[1]))
    page.get_by_label("Radius in metres").fill("300")
    page.locator("#search-form").get_by_label("Case reference").fill("CONSOLE/1/26")
    page.get_by_label("Offence category").select_option("Theft offences")
    page.get_by_label("Reason for searching").fill("Burglary on Colmore Row")
    page.get_by_label("Incident time (optional)").fill(local_time(timedelta(hours=-3)))
    with page.expect_response("**/api/officer/searches") as answer:
        page.get_by_role("button", name="Search", exact=True).click()
    everything = answer.value.json()

    # Then the seed's registrations near the point are listed nearest first and drawn on the map
    assert answer.value.status == 200 and everything["registrations"], everything
    shown = page.locator("#result-list > li")
    expect(shown).to_have_count(len(everything["registrations"]))
    assert shown.first.inner_text().startswith(f"{round(everything['registrations'][0]['distance_m'])} m")
    assert page.locator(".camera-dot, .marker-cluster").count() > 0
    no_violations(page, "results")

    # When they keep only cameras pointing towards the point
    page.get_by_label("Cameras pointing towards the point (or direction unknown)").check()
    with page.expect_response("**/api/officer/searches") as answer:
        page.get_by_role("button", name="Search", exact=True).click()
    towards = answer.value.json()
    assert json.loads(answer.value.request.post_data)["filters"] == {"towards": True}
    assert towards["registrations"] and all(r["towards"] in (True, None) for r in towards["registrations"])
    assert towards["total"] < everything["total"]
    expect(page.locator("#result-list > li")).to_have_count(len(towards["registrations"]))
    assert "not pointing towards" not in page.locator("#result-list").inner_text()

    # And select three and ask their owners, after reading the email's preview
    sent_before = len([m for m in outbox.messages() if m["Subject"] == REQUEST_SUBJECT])
    boxes = page.locator("#result-list input[type=checkbox]")
    for index in range(3):
        boxes.nth(index).check()
    expect(page.locator("#ask-count")).to_have_text("3 owners selected.")
    page.get_by_label("What happened, as the owner will read it").fill("A burglary at a shop on Colmore Row.")
    page.get_by_text("Preview the email an owner receives").click()
    assert "What happened: A burglary at a shop on Colmore Row." in page.locator("#ask-preview").inner_text()
    no_violations(page, "ask form")
    with page.expect_response("**/api/officer/requests") as answer:
        page.get_by_role("button", name="Ask the selected owners").click()

    # Then three requests are made and the three owners are emailed
    assert answer.value.status == 201
    expect(page.locator("#ask-result-summary")).to_have_text("3 owners were asked for footage.")
    no_violations(page, "asked")
    deadline = time.monotonic() + 20
    while len(emailed := [m for m in outbox.messages() if m["Subject"] == REQUEST_SUBJECT]) < sent_before + 3:
        assert time.monotonic() < deadline, "the three owners were not emailed"
        time.sleep(0.2)

    # When two owners upload a file through their emailed links, and the third declines
    owners = [m["To"] for m in emailed[-3:]]
    for owner in owners[:2]:
        respond = page.context.new_page()
        respond.goto(outbox.wait_for_link(owner, "respond.html"))
        respond.get_by_label("Choose video or photo files").set_input_files(
            [{"name": "shop-door.mp4", "mimeType": "video/mp4", "buffer": FRONT_DOOR}])
        respond.get_by_role("button", name="Upload files").click()
        respond.locator('[data-filename="shop-door.mp4"] [data-upload-status]').get_by_text("Received and checked").wait_for(timeout=30_000)
        fill_statement(respond)
        expect(respond.locator("[data-statement-status]")).to_contain_text("Saved.")
        respond.get_by_role("button", name="I've finished uploading").click()
        respond.get_by_role("heading", name="Thank you").wait_for()
        respond.close()
    respond = page.context.new_page()
    respond.goto(outbox.wait_for_link(owners[2], "respond.html"))
    respond.get_by_role("button", name="I have no footage to share").click()
    respond.get_by_label("Reason (optional)").fill("My camera was off that night")
    with respond.expect_response("**/api/owner/requests/*/decline") as declined:
        respond.get_by_role("button", name="Send my answer").click()
    assert declined.value.status == 200
    respond.close()

    # Then My cases shows the case's requests by status, the file with its SHA-256, and downloads it for a reason
    page.get_by_role("button", name="My cases").click()
    page.get_by_role("button", name="CONSOLE/1/26: Theft offences (open)").click()
    detail = page.locator("#case-detail")
    detail.get_by_text("3 asked:").wait_for()
    assert "Footage received (2)" in detail.inner_text() and "Declined (1)" in detail.inner_text()
    no_violations(page, "case")
    detail.locator("section", has_text="Footage received").get_by_role("button", name="Show the request from registration").first.click()
    files = detail.locator(".exhibit-list").first
    files.wait_for()
    assert hashlib.sha256(FRONT_DOOR).hexdigest() in files.inner_text() and "shop-door.mp4" in files.inner_text()
    detail.get_by_label("Reason for downloading shop-door.mp4").fill("Check the shop door camera")
    link = detail.locator("a.evidence-link")
    deadline = time.monotonic() + 20
    while not link.count():  # the local malware scan tags the object within a few seconds
        assert time.monotonic() < deadline, detail.inner_text()
        detail.get_by_role("button", name="Download shop-door.mp4").click()
        page.wait_for_timeout(700)
    with urllib.request.urlopen(link.get_attribute("href"), timeout=30) as answer:
        assert answer.read() == FRONT_DOOR
    no_violations(page, "evidence")

    # And the officer in charge adds a colleague to the team and removes them
    detail.get_by_label("Add an officer by username").fill("demo.supervisor")
    detail.get_by_role("button", name="Add to the team").click()
    detail.get_by_role("button", name="Remove demo.supervisor").click()
    expect(detail.get_by_role("button", name="Remove demo.supervisor")).to_have_count(0)
    expect(detail.get_by_role("listitem").filter(has_text="demo.supervisor")).to_have_count(0)

    # And signing out forgets the tokens: the console is back at the password
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You have signed out.").wait_for()
    assert page.get_by_label("Password", exact=True).is_visible()

    # And the demo supervisor reads the case's audit log and exports it
    sign_in(page, local_stack, who="demo_supervisor")
    page.get_by_role("button", name="Audit log").click()
    page.locator("#view-audit").get_by_label("Case reference").fill("CONSOLE/1/26")
    page.get_by_role("button", name="Show entries").click()
    expect(page.locator("#audit-status")).to_contain_text("shown, newest first")
    logged = page.locator("#audit-rows").inner_text()
    assert "demo.officer" in logged and "search" in logged.lower()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export these entries as CSV").click()
    exported = open(download.value.path(), encoding="utf-8").read()
    assert "CONSOLE/1/26" in exported and "request_footage" in exported and "download_evidence" in exported


def test_a_new_officer_sets_a_password_and_enrols_an_authenticator_from_the_qr_page(page, local_stack):
    import boto3

    # Given an officer just created with a temporary password, as an administrator does
    username = f"new.officer.{int(time.time() * 1000)}"
    cognito = boto3.client("cognito-idp", endpoint_url=local_stack["aws_endpoint"], region_name=local_stack["region"],
                           aws_access_key_id="local", aws_secret_access_key="local")
    cognito.admin_create_user(UserPoolId=local_stack["user_pool_id"], Username=username,
                              TemporaryPassword="Temporary-Passw0rd-1!", MessageAction="SUPPRESS")
    cognito.admin_add_user_to_group(UserPoolId=local_stack["user_pool_id"], Username=username, GroupName="officer")

    # When they sign in with it, they choose a new password
    page.goto(local_stack["console_url"])
    page.get_by_label("Email address or username").fill(username)
    page.get_by_label("Password", exact=True).fill("Temporary-Passw0rd-1!")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("New password").fill("Brand-New-Officer-Passw0rd-2!")
    no_violations(page, "new password")
    page.get_by_role("button", name="Save and continue").click()

    # Then they see the authenticator's key as a QR code and as text, and enrol with its code
    page.get_by_role("heading", name="Set up your authenticator app").wait_for()
    assert page.get_by_role("img", name="QR code of your authenticator key").get_attribute("src").startswith("data:image/gif")
    secret = page.locator("#enrol-secret").inner_text().replace(" ", "")
    assert secret == local_stack["demo_totp_secret"]  # moto gives every user its one fixed secret
    no_violations(page, "enrol")
    page.get_by_label("The six-digit code your app shows").fill(totp_code(secret))
    page.get_by_role("button", name="Verify and sign in").click()
    page.get_by_role("heading", name="Find cameras near an incident").wait_for()
    assert page.locator("[data-who]").inner_text() == f"Signed in as {username}"


def test_fifteen_idle_minutes_sign_the_officer_out(page, local_stack):
    # Given a signed-in officer, on a page whose clock the test controls
    page.clock.install()
    sign_in(page, local_stack)
    calls = []
    page.on("request", lambda r: calls.append((r.headers.get("x-amz-target", ""), r.post_data or "")))
    # When fourteen minutes pass, the access token is renewed in the background and they stay in
    page.clock.fast_forward("14:00")
    page.wait_for_timeout(500)
    assert any("REFRESH_TOKEN_AUTH" in body for target, body in calls if target.endswith(".InitiateAuth"))
    assert page.get_by_role("heading", name="Find cameras near an incident").is_visible()
    # But after fifteen without a key press or click, they are signed out (GlobalSignOut) and the tokens forgotten
    page.clock.fast_forward("01:30")
    page.get_by_text("You were signed out after 15 minutes without activity.").wait_for()
    assert any(target.endswith(".GlobalSignOut") for target, _ in calls)
    assert page.get_by_label("Password", exact=True).is_visible()
    assert not page.get_by_role("button", name="Sign out").is_visible()


def test_a_wrong_password_and_a_wrong_code_are_refused(page, local_stack):
    user = local_stack["demo_officer"]
    page.goto(local_stack["console_url"])
    page.get_by_label("Email address or username").fill(user["username"])
    page.get_by_label("Password", exact=True).fill(user["password"] + "x")
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("Wrong email address or password").wait_for()
    assert not page.get_by_label("Code from your authenticator app").is_visible()

    page.get_by_label("Password", exact=True).fill(user["password"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app").fill(wrong_code(local_stack["demo_totp_secret"]))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("That code is not right").wait_for()
    assert not page.get_by_role("heading", name="Find cameras near an incident").is_visible()


def tab_to(page, selector: str, limit: int = 80, key: str = "Tab") -> None:
    """Press Tab (or ``key``) until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_at_360px_sign_in_search_select_and_ask(browser, local_stack):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    page = context.new_page()
    try:
        user = local_stack["demo_officer"]
        page.goto(local_stack["console_url"])
        tab_to(page, "#username")
        page.keyboard.type(user["username"])
        page.keyboard.press("Tab")
        page.keyboard.type(user["password"])
        page.keyboard.press("Enter")
        page.locator("#code:focus").wait_for()
        page.keyboard.type(totp_code(local_stack["demo_totp_secret"]))
        page.keyboard.press("Enter")
        page.locator("#search-heading:focus").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        for selector, text in [
            ("#lat", str(POINT[0])), ("#lon", str(POINT[1])), ("#case-ref", "CONSOLE/2/26"),
            ("#reason", "Robbery near Colmore Row"), ("#incident-time", local_time(timedelta(hours=-2))),
        ]:
            tab_to(page, selector)
            page.keyboard.type(text)
        tab_to(page, "#category")
        page.keyboard.press("ArrowDown")  # the first offence group opens the case
        tab_to(page, "#incident-time")
        page.keyboard.press("Enter")
        page.locator("#results-heading:focus").wait_for()
        assert page.locator("#result-list > li").count() > 3

        for index in range(3):
            tab_to(page, f"#result-list > li:nth-child({index + 1}) input")
            page.keyboard.press("Space")
        expect(page.locator("#ask-count")).to_have_text("3 owners selected.")
        tab_to(page, "#to-ask", key="Shift+Tab")
        page.keyboard.press("Enter")
        tab_to(page, "#ask-summary")
        page.keyboard.type("A robbery outside a shop on Colmore Row.")
        tab_to(page, "#ask-reason")
        page.keyboard.press("Enter")
        page.locator("#ask-result-heading:focus").wait_for()
        expect(page.locator("#ask-result-summary")).to_have_text("3 owners were asked for footage.")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        no_violations(page, "asked, 360 px")
    finally:
        context.close()


def test_an_auditor_reads_the_audit_log_filtered_and_exports_it(page, local_stack, tmp_path):
    # Given the demo auditor signed in: they land on the audit log, and see nothing else
    sign_in(page, local_stack, who="demo_auditor", lands_on="Audit log")
    assert not page.get_by_role("button", name="Find cameras").is_visible()
    assert not page.get_by_role("button", name="My cases").is_visible()

    # When they read their own entries twice (reading the log is itself logged, after the read)
    page.get_by_label("Officer's username").fill("demo.auditor")
    page.get_by_role("button", name="Show entries").click()
    expect(page.locator("#audit-status")).to_contain_text("shown, newest first")
    page.get_by_role("button", name="Show entries").click()

    # Then the entries are listed, and the export holds the same rows as CSV
    rows = page.locator("#audit-rows tr")
    expect(rows.first).to_contain_text("read audit")
    assert all("demo.auditor" in text for text in rows.all_inner_texts())
    no_violations(page, "audit log")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export these entries as CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("sightline-audit-") and saved.suffix == ".csv"
    assert "read_audit" in saved.read_text() and "demo.auditor" in saved.read_text()

    # But a time that is not one is refused in plain words
    page.get_by_label("From", exact=True).fill("yesterday")
    page.get_by_role("button", name="Show entries").click()
    expect(page.locator("#audit-error")).to_contain_text("for example 2026-11-20 22:15")


def test_the_console_is_served_with_its_own_csp_and_the_api_on_its_origin(local_stack):
    import urllib.request

    with urllib.request.urlopen(local_stack["console_url"] + "/", timeout=10) as answer:
        csp = answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in csp
    assert f"connect-src 'self' {local_stack['cognito_endpoint'].rstrip('/')}" in csp
    with urllib.request.urlopen(local_stack["console_url"] + "/api/health", timeout=10) as answer:
        assert answer.status == 200


def test_an_address_places_the_incident_through_the_forces_geocoder(page, local_stack):
    sign_in(page, local_stack)
    asked = []

    def answer(route):
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", headers={"Access-Control-Allow-Origin": "*"},
                      body=json.dumps([{"lat": "52.48130", "lon": "-1.89870", "display_name": "10 Colmore Row, Birmingham"}]))

    page.route("https://geocoder.sightline.test/**", answer)
    page.get_by_label("Address or place").fill("10 Colmore Row")
    page.get_by_label("Address or place").press("Enter")  # finds the place; does not search
    page.get_by_role("button", name="10 Colmore Row, Birmingham").click()
    expect(page.get_by_label("Latitude")).to_have_value("52.481300")
    expect(page.get_by_label("Longitude")).to_have_value("-1.898700")
    assert "q=10%20Colmore%20Row" in asked[0]
    expect(page.locator("#place-status")).to_have_text("Placed at 10 Colmore Row, Birmingham.")
    no_violations(page, "address search")

    # A geocoder that cannot be reached: plain words, and the pin and coordinates still work
    page.unroute("https://geocoder.sightline.test/**")
    page.route("https://geocoder.sightline.test/**", lambda route: route.abort())
    page.get_by_label("Address or place").fill("Anywhere at all")
    page.get_by_role("button", name="Find the place").click()
    expect(page.locator("#place-status")).to_contain_text("not available now")
    page.get_by_label("Latitude").fill("52.4800")
    expect(page.get_by_label("Latitude")).to_have_value("52.4800")
