"""The sample events in events/ drive the deployed handlers' code paths."""
import json
from pathlib import Path

from tests.conftest import post_json, registration_body

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name):
    return json.loads((EVENTS / name).read_text())


def test_the_sample_sqs_event_sends_a_manage_link(client, outbox):
    post_json(client, "/registrations", registration_body())
    result = client.lambda_.invoke("deliver_notifications", load("sqs_notification_manage_link.json")).payload
    assert result == {"batchItemFailures": []}
    assert outbox.last_link("ada@example.org", "manage.html")


def test_the_sample_schedule_event_runs_housekeeping(client):
    result = client.lambda_.invoke("housekeeping", load("schedule_housekeeping.json")).payload
    assert result == {"expired_registrations": 0, "expired_tokens": 0}
