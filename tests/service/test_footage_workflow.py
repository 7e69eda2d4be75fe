"""The footage-request state machine, as deployed, executed by moto with deadlines seconds away."""
import json
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.base.config import get_config
from chalicelib.footage.tables import FootageRequest
from tests.conftest import REGION, bearer, give_statement, open_case, post_json
from tests.service.test_footage_requests import MP4, iso, place, request_body, respond_session, upload

pytestmark = pytest.mark.usefixtures("footage")

OFFICER_EMAIL = "pc.jones@police.example"



@pytest.fixture(autouse=True)
def _case(client, footage):
    return open_case(client, "20/777/26")

class Timeline:
    """Delivers workflow and notification messages as they appear, until a condition holds."""

    def __init__(self, client, outbox):
        self.client = client
        self.outbox = outbox

    def run_until(self, condition, timeout_s=15.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.outbox.pump(queue=get_config().workflow_queue, handler="workflow_events")
            self.outbox.pump()
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError("timed out waiting for the workflow")


def ask_with_deadline_in(client, registration_id, seconds):
    reply_by = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    response = post_json(client, "/officer/requests", request_body(registration_id, reply_by=iso(reply_by)), headers=bearer("pc.jones"))
    assert response.status_code == 201, response.body
    return json.loads(response.body)["requests"][0]["request_id"]


def execution(request_id):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = get_config().state_machine_arn.replace(":stateMachine:", ":execution:") + f":{request_id}"
    return sfn.describe_execution(executionArn=arn)


def subjects(outbox, address):
    return [m["Subject"] for m in outbox.to(address)]


def test_unanswered_request_is_reminded_then_expires_and_the_officer_is_told(client, outbox):
    place("rsilent")
    request_id = ask_with_deadline_in(client, "rsilent", 4)
    timeline = Timeline(client, outbox)

    timeline.run_until(lambda: FootageRequest.get(request_id).status == "expired")
    timeline.run_until(lambda: any("expired unanswered" in s for s in subjects(outbox, OFFICER_EMAIL)))

    owner = subjects(outbox, "rsilent@example.org")
    assert owner[0].startswith("Police are asking") and owner[1].startswith("Reminder:")
    assert len(owner) == 2
    timeline.run_until(lambda: execution(request_id)["status"] == "SUCCEEDED")
    assert json.loads(execution(request_id)["output"])["outcome"] == "expired"


def test_an_answer_before_the_reminder_ends_the_execution_with_neither(client, outbox):
    place("rquick")
    request_id = ask_with_deadline_in(client, "rquick", 6)
    timeline = Timeline(client, outbox)
    timeline.run_until(lambda: FootageRequest.get(request_id).task_token is not None)
    _, headers = respond_session(client, outbox, "rquick@example.org")

    assert post_json(client, f"/owner/requests/{request_id}/decline", {}, headers=headers).status_code == 200

    timeline.run_until(lambda: execution(request_id)["status"] == "SUCCEEDED")
    assert json.loads(execution(request_id)["output"])["outcome"] == "answered"
    time.sleep(6.5)  # past the reminder and the deadline: neither may happen now
    timeline.run_until(lambda: True)
    assert FootageRequest.get(request_id).status == "declined"
    assert not any(s.startswith("Reminder:") for s in subjects(outbox, "rquick@example.org"))
    assert not any("expired" in s for s in subjects(outbox, OFFICER_EMAIL))


def test_an_answer_before_the_timer_has_its_token_still_ends_it(client, outbox):
    # The owner answers before the workflow's first message is handled: the handler then
    # finds the request answered and completes the token itself.
    place("rfirst")
    request_id = ask_with_deadline_in(client, "rfirst", 6)
    _, headers = respond_session(client, outbox, "rfirst@example.org")
    assert post_json(client, f"/owner/requests/{request_id}/decline", {}, headers=headers).status_code == 200
    assert FootageRequest.get(request_id).task_token is None
    timeline = Timeline(client, outbox)
    timeline.run_until(lambda: execution(request_id)["status"] == "SUCCEEDED")
    assert json.loads(execution(request_id)["output"])["outcome"] == "answered"


def test_an_answer_between_reminder_and_deadline_stops_the_expiry(client, outbox):
    place("rlater")
    request_id = ask_with_deadline_in(client, "rlater", 6)
    timeline = Timeline(client, outbox)
    timeline.run_until(lambda: any(s.startswith("Reminder:") for s in subjects(outbox, "rlater@example.org")))
    _, headers = respond_session(client, outbox, "rlater@example.org")
    upload(client, request_id, headers, MP4)
    give_statement(client, request_id, headers)

    assert post_json(client, f"/owner/requests/{request_id}/complete", {}, headers=headers).status_code == 200

    timeline.run_until(lambda: execution(request_id)["status"] == "SUCCEEDED")
    assert json.loads(execution(request_id)["output"])["outcome"] == "answered"
    time.sleep(3.5)
    timeline.run_until(lambda: True)
    assert FootageRequest.get(request_id).status == "responded"
    assert not any("expired" in s for s in subjects(outbox, OFFICER_EMAIL))


def test_a_late_answer_loses_to_the_expiry(client, outbox):
    place("rtoolate")
    request_id = ask_with_deadline_in(client, "rtoolate", 3)
    _, headers = respond_session(client, outbox, "rtoolate@example.org")
    timeline = Timeline(client, outbox)
    timeline.run_until(lambda: FootageRequest.get(request_id).status == "expired")
    assert post_json(client, f"/owner/requests/{request_id}/decline", {}, headers=headers).status_code in (401, 410)
    assert FootageRequest.get(request_id).status == "expired"


def test_a_retried_start_is_harmless(client, outbox):
    place("rtwice")
    request_id = ask_with_deadline_in(client, "rtwice", 60)
    from chalicelib.footage import workflow

    workflow.get_workflow().start(FootageRequest.get(request_id), datetime.now(timezone.utc))
    assert execution(request_id)["status"] == "RUNNING"
