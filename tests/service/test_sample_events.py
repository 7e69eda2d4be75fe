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
    assert result["expired_registrations"] == result["expired_tokens"] == result["expired_requests"] == 0
    assert result["index_entries_removed"] == result["index_entries_added"] == 0


def test_the_sample_s3_event_is_ingested_from_its_key(client, footage):
    # Given the object the sample event names, stored for no request we know of
    import boto3

    from chalicelib.base.config import get_config
    from chalicelib.footage.tables import EvidenceItem
    from tests.conftest import REGION

    event = load("sqs_s3_object_created.json")
    s3_record = json.loads(event["Records"][0]["body"])["Records"][0]
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=get_config().evidence_bucket, Key=s3_record["s3"]["object"]["key"], Body=b"\x00\x00\x00\x20ftypisom" + b"\x00" * 64,
        ContentType="video/mp4",
    )
    # When it is delivered
    assert client.lambda_.invoke("ingest_evidence", event).payload == {"batchItemFailures": []}
    # Then it is hashed, recorded and quarantined (never shown to an officer)
    [item] = list(EvidenceItem.scan())
    assert item.status == "quarantined" and item.problem == "This file does not belong to any request."
    assert item.filename == "front-door.mp4" and len(item.sha256) == 64


def test_the_sample_state_machine_input_is_what_a_request_starts_with():
    sample = load("state_machine_input.json")
    assert set(sample) == {"request_id", "reminder_after_s", "deadline_after_reminder_s"}
    asl = json.loads((EVENTS.parent / "infrastructure" / "state_machines" / "footage_request.asl.json").read_text())
    paths = {state.get("TimeoutSecondsPath") for state in asl["States"].values()} - {None}
    assert paths == {"$.reminder_after_s", "$.deadline_after_reminder_s"}


def test_the_sample_api_gateway_event_runs_an_officer_search(client, officers):
    # Given the sample API Gateway event, carrying a real officer's access token
    import app as sightline_app
    from local.pump import LambdaContext
    from tests.conftest import officer_token

    event = load("apigateway_officer_search.json")
    event["headers"]["Authorization"] = f"Bearer {officer_token('pc.jones')}"
    # When API Gateway hands it to the function, as it does in AWS
    response = sightline_app.app(event, LambdaContext("api_handler"))
    # Then it is a search of the sample's circle (empty here)
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert body["circle"] == {"lat": 52.4814, "lon": -1.899, "radius_m": 1000} and body["total"] == 0


def test_the_sample_workflow_event_is_the_reminder_the_state_machine_sends(client):
    event = load("sqs_workflow_remind.json")
    body = json.loads(event["Records"][0]["body"])
    asl = json.loads((EVENTS.parent / "infrastructure" / "state_machines" / "footage_request.asl.json").read_text())
    sent = asl["States"]["SendReminder"]["Parameters"]["MessageBody"]
    assert set(body) == {key.removesuffix(".$") for key in sent} and body["stage"] == sent["stage"]
    # A reminder for a request that no longer exists is consumed, not retried
    assert client.lambda_.invoke("workflow_events", event).payload == {"batchItemFailures": []}
