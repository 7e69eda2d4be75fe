"""The local stack's pump settles SQS messages as Lambda's event source mapping would."""
import json
import threading

import boto3

from local.provision import QUEUE_MAX_RECEIVES, create_queue_with_dlq
from local.pump import Pump, sqs_record
from tests.conftest import REGION


def test_batches_partial_failures_retries_and_the_dead_letter_queue(aws, tmp_path):
    # Given a queue with a dead-letter queue, and a handler that always fails one message
    sqs = boto3.client("sqs", region_name=REGION)
    url = create_queue_with_dlq(sqs, "pump-test")
    dlq_url = sqs.get_queue_url(QueueName="pump-test-dlq")["QueueUrl"]
    for body in ("good-1", "bad", "good-2"):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    seen = []

    def handler(event, context):
        assert context.get_remaining_time_in_millis() > 0
        seen.append([json.loads(r["body"]) for r in event["Records"]])
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == '"bad"']}

    pump = Pump(tmp_path, threading.Event(), sqs=sqs, max_backoff_s=0)

    # When the pump delivers until the queue is empty
    for _ in range(QUEUE_MAX_RECEIVES + 3):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if messages:
            pump.deliver_batch(handler, "pump-test", url, "arn:aws:sqs:eu-west-2:123456789012:pump-test", messages)

    # Then the good messages were delivered once, in one batch, and deleted
    assert sorted(seen[0]) == ["bad", "good-1", "good-2"]
    assert sum(batch.count("good-1") for batch in seen) == 1
    # And the failing one was retried until the redrive policy moved it to the dead-letter queue
    assert sum(batch.count("bad") for batch in seen) == QUEUE_MAX_RECEIVES
    dead = sqs.receive_message(QueueUrl=dlq_url).get("Messages", [])
    assert [json.loads(m["Body"]) for m in dead] == ["bad"]


def test_a_crashing_handler_fails_the_whole_batch(aws, tmp_path):
    sqs = boto3.client("sqs", region_name=REGION)
    url = create_queue_with_dlq(sqs, "crash-test")
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    pump = Pump(tmp_path, threading.Event(), sqs=sqs, max_backoff_s=0)

    def handler(event, context):
        raise RuntimeError("boom")

    [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    pump.deliver_batch(handler, "crash-test", url, "arn", [message])
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert again[0]["MessageId"] == message["MessageId"]


def test_records_have_lambdas_shape():
    record = sqs_record({"MessageId": "m", "ReceiptHandle": "r", "Body": "{}"}, "arn:x", "eu-west-2")
    assert record["eventSource"] == "aws:sqs" and record["messageId"] == "m" and record["md5OfBody"]
