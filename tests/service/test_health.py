"""/health under load: the deep check (every table and the queue) is asked of AWS once per
container per few minutes; a failure is never remembered."""
from __future__ import annotations

import json
from unittest import mock

import boto3
from botocore.endpoint import Endpoint

from chalicelib.base.config import get_config
from tests.conftest import REGION


def _aws_calls():
    """Counts every request botocore sends (moto answers them in this process)."""
    return mock.patch.object(Endpoint, "make_request", autospec=True, side_effect=Endpoint.make_request)


def test_health_asks_aws_once_then_answers_from_the_container(client):
    # Given a container that has not checked yet
    with _aws_calls() as sent:
        # When /health is asked once, then 50 more times (a monitor, or a flood)
        first = client.http.get("/health")
        deep_check = sent.call_count
        later = [client.http.get("/health").status_code for _ in range(50)]
    # Then the first request ran the deep check and the others asked AWS nothing
    assert first.status_code == 200 and set(later) == {200}
    assert deep_check >= 2  # every table and the queue, today 8 calls
    assert sent.call_count == deep_check


def test_health_never_remembers_a_failure(client):
    # Given the notifications queue is missing (a stack still starting, or a broken one)
    sqs = boto3.client("sqs", region_name=REGION)
    name = get_config().notifications_queue
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    # When /health is asked, then asked again once the queue exists
    missing = client.http.get("/health")
    sqs.create_queue(QueueName=name)
    present = client.http.get("/health")
    # Then it reports not ready, then ready: the local stack's start-up wait still works
    assert missing.status_code == 503
    assert json.loads(missing.body)["error"]["code"] == "unavailable"
    assert present.status_code == 200
