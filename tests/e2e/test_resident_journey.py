"""A resident's whole journey on the local stack, in Debian's Chromium, checked by axe-core.

Register → verification email (outbox) → verify → ask for a manage link → edit → export →
delete; every page (and its error states) must have no WCAG 2.1 AA violation.
"""
import json
import re
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations

pytestmark = pytest.mark.e2e

EMAIL = "zoe.e2e@example.org"


def assert_accessible(page, where):
    violations = axe_violations(page)
    assert violations == [], f"{where}: {json.dumps(violations, indent=1)}"


def test_health_answers_once_the_stack_is_ready(local_stack):
    with urllib.request.urlopen(f"{local_stack['api_url']}/health", timeout=5) as response:
        assert response.status == 200
    for key in ("api_url", "site_url", "aws_endpoint", "region", "outbox_dir", "user_pool_id",
                "user_pool_client_id", "demo_officer"):
        assert local_stack[key], key
    assert set(local_stack["demo_officer"]) == {"username", "password"}


def test_register_verify_manage_export_delete(local_stack, outbox, page, record_property):
    site = local_stack["site_url"]
    sent_before = len(outbox.messages())

    # -- the registration form, empty: errors next to the fields and in a summary -------------
    started = time.monotonic()
    page.goto(f"{site}/index.html")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Register")
    assert_accessible(page, "register page")
    page.get_by_role("button", name="Register my cameras").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert_accessible(page, "register page with errors")

    # -- a resident registers, setting the location without typing coordinates ---------------
    page.get_by_label("Full name").fill("Zoë Ångström")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Address line 1").fill("7 Newhall Street")
    page.get_by_label("Town or city").fill("Birmingham")
    page.get_by_label("Postcode").fill("b3 3ns")
    page.get_by_label("How many cameras?").fill("2")
    page.get_by_role("button", name="Use my current location").click()
    expect(page.locator("[data-location-status]").first).to_contain_text(re.compile("set", re.I))
    page.get_by_label(re.compile("^I agree")).check()
    page.get_by_role("button", name="Register my cameras").click()
    expect(page.get_by_role("heading", name="Nearly done")).to_be_visible()
    assert_accessible(page, "register page, submitted")

    # -- the verification email, then the link in it ------------------------------------------
    verify_link = outbox.wait_for_link(EMAIL, "verify.html", after=sent_before)
    page.goto(verify_link)
    expect(page.get_by_role("heading", name="Your registration is confirmed")).to_be_visible()
    registration_seconds = time.monotonic() - started
    record_property("browser_registration_seconds", round(registration_seconds, 2))
    print(f"\nscripted browser registration, page load to verified: {registration_seconds:.2f} s")
    assert "token" not in page.url  # the token is cleared from the address bar and history
    assert_accessible(page, "verify page")

    # -- asking for a manage link -------------------------------------------------------------
    sent_before = len(outbox.messages())
    page.goto(f"{site}/manage.html")
    assert_accessible(page, "manage page, request a link")
    page.get_by_label("Email address").fill(EMAIL.upper())
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    manage_link = outbox.wait_for_link(EMAIL, "manage.html", after=sent_before)

    page.goto(manage_link)
    expect(page.get_by_role("heading", name="Your registrations")).to_be_visible()
    expect(page.get_by_text("7 Newhall Street")).to_be_visible()
    assert "token" not in page.url
    assert_accessible(page, "manage page, registrations")

    # -- edit ---------------------------------------------------------------------------------
    page.get_by_role("button", name="Edit").first.click()
    expect(page.get_by_role("heading", name="Change your registration")).to_be_visible()
    assert_accessible(page, "manage page, edit form")
    page.get_by_label("How many cameras?").fill("3")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Your registrations")).to_be_visible()
    expect(page.locator("#manage-message")).to_contain_text(re.compile("saved|updated|changed", re.I))
    expect(page.get_by_text(re.compile(r"\b3 cameras\b"))).to_be_visible()

    # -- export -------------------------------------------------------------------------------
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export my data").click()
    exported = json.loads(open(download_info.value.path(), encoding="utf-8").read())
    [registration] = exported["registrations"]
    assert registration["name"] == "Zoë Ångström"
    assert registration["camera_count"] == 3
    assert registration["address"]["postcode"] == "B3 3NS"
    assert registration["status"] == "active"

    # -- delete -------------------------------------------------------------------------------
    page.get_by_role("button", name="Delete").first.click()
    expect(page.get_by_role("heading", name="Delete this registration?")).to_be_visible()
    assert_accessible(page, "manage page, delete confirmation")
    page.get_by_role("button", name="Yes, delete permanently").click()
    expect(page.locator("#manage-message")).to_contain_text(re.compile("deleted", re.I))
    outbox.wait_for_subject(EMAIL, "Your camera registration has been deleted")


def test_the_privacy_notice_is_accessible(local_stack, page):
    page.goto(f"{local_stack['site_url']}/privacy.html")
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    assert_accessible(page, "privacy notice")


def test_a_used_verification_link_says_so(local_stack, page):
    page.goto(f"{local_stack['site_url']}/verify.html#token=" + "x" * 43)
    expect(page.get_by_role("heading", level=2).filter(has_text=re.compile("expired|used|not work", re.I))).to_be_visible()
    assert_accessible(page, "verify page, failed")
