"""The yearly re-confirmation in the browser, on the local stack (issue 13).

The ask is made as housekeeping makes it a year on (the registration's step marked, the message
queued; the sweep itself is tested on moto, tests/service/test_reconfirm.py); the stack's
notifications handler sends the email. The owner opens the link, sees their details, presses
the button, and sees the confirmation; each view is checked by axe-core.
"""
import json
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from playwright.sync_api import expect

from local.stack import PREFIX
from tests.conftest import registration_body
from tests.e2e.conftest import axe_violations

pytestmark = pytest.mark.e2e

EMAIL = "rene.reconfirm@example.org"
STAMP = "%Y-%m-%dT%H:%M:%S.%f+0000"  # PynamoDB's UTCDateTimeAttribute


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def a_year_on_the_owner_is_asked(local_stack, registration_id):
    """What housekeeping's ask step does, 400 days after the owner last confirmed."""
    options = {"region_name": local_stack["region"], "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    now = datetime.now(timezone.utc)
    boto3.client("dynamodb", endpoint_url=local_stack["dynamodb_endpoint"], **options).update_item(
        TableName=f"{PREFIX}-registrations",
        Key={"registration_id": {"S": registration_id}},
        UpdateExpression="SET confirmed_at = :confirmed, reconfirm_asked_at = :asked",
        ExpressionAttributeValues={":confirmed": {"S": (now - timedelta(days=400)).strftime(STAMP)},
                                   ":asked": {"S": now.strftime(STAMP)}},
    )
    sqs = boto3.client("sqs", endpoint_url=local_stack["aws_endpoint"], **options)
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-notifications")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"type": "reconfirm_registration", "registration_id": registration_id}))


def test_the_owner_confirms_from_the_emailed_link(local_stack, outbox, page):
    api = local_stack["api_url"]
    sent_before = len(outbox.messages())
    body = registration_body(email=EMAIL, name="René Reconfirm",
                             address={"line1": "3 Waterloo Street", "town": "Birmingham", "postcode": "B2 5PG"})
    post(f"{api}/registrations", body)
    token = outbox.wait_for_link(EMAIL, "verify.html", after=sent_before).split("#token=")[1]
    registration_id = post(f"{api}/registrations/verify", {"token": token})["registration_id"]

    sent_before = len(outbox.messages())
    a_year_on_the_owner_is_asked(local_stack, registration_id)
    link = outbox.wait_for_link(EMAIL, "confirm.html", after=sent_before)

    # Opening the link shows the details and changes nothing
    page.goto(link)
    expect(page.get_by_role("heading", name="Check your details")).to_be_visible()
    details = page.locator("#confirm-details")
    expect(details).to_contain_text("3 Waterloo Street")
    expect(details).to_contain_text("René Reconfirm")
    expect(details).to_contain_text("2 cameras")
    assert "token" not in page.url
    assert axe_violations(page) == []

    # Pressing the button confirms
    page.get_by_role("button", name="Yes, this is still right").click()
    expect(page.get_by_role("heading", name="Thank you: your registration is confirmed")).to_be_visible()
    expect(page.locator("#confirm-done")).to_contain_text("We will ask you again in a year")
    assert axe_violations(page) == []

    # The link worked once: opened again, it says so clearly
    page.goto(link)
    expect(page.get_by_role("heading", name="This link has expired or has already been used")).to_be_visible()
    assert axe_violations(page) == []

    # Asked again, the owner chooses to change their details: a manage link is emailed
    sent_before = len(outbox.messages())
    a_year_on_the_owner_is_asked(local_stack, registration_id)
    page.goto(outbox.wait_for_link(EMAIL, "confirm.html", after=sent_before))
    page.get_by_role("button", name="Change my details").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert outbox.wait_for_link(EMAIL, "manage.html", after=sent_before)
