"""Delivers the local stack's events to the app's handlers the way Lambda would.

- Every ``@app.on_sqs_message`` queue: long-polls, hands batches (up to the handler's batch
  size) to the handler in Lambda's SQS event format, deletes what succeeded, and makes what
  failed (a raised error, or ``batchItemFailures``) visible again after a short back-off; the
  queue's redrive policy moves a message to its dead-letter queue after repeated failure.
- Every ``@app.schedule`` handler: invoked at a local interval.
- Every email SES accepted: written, rendered, as one ``.eml`` file in the outbox folder.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import boto3

ACCOUNT = "123456789012"
CHALICE_CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"


def function_timeout_s(name: str, default: int = 60) -> int:
    """The deployed function's timeout (.chalice/config.json): the export worker plans its
    continuations by the time its context says is left, as it does in Lambda."""
    try:
        functions = json.loads(CHALICE_CONFIG.read_text())["stages"]["prod"]["lambda_functions"]
        return int(functions[name]["lambda_timeout"])
    except (OSError, ValueError, KeyError):
        return default


class LambdaContext:
    """Enough of Lambda's context object for Powertools and Chalice."""

    def __init__(self, function_name: str, timeout_s: int = 60):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-2:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Pump:
    def __init__(
        self,
        outbox_dir: Path,
        stopping: threading.Event,
        app_module: str = "app",
        sqs: Any = None,
        max_backoff_s: int = 30,
    ):
        self.outbox_dir = Path(outbox_dir)
        self.stopping = stopping
        self.module = importlib.import_module(app_module)
        self.app = self.module.app
        self.region = os.environ["AWS_REGION"]
        self.sqs = sqs or boto3.session.Session().client(
            "sqs", region_name=self.region, endpoint_url=os.environ["SIGHTLINE_AWS_ENDPOINT_URL"]
        )
        self.max_backoff_s = max_backoff_s
        self.housekeeping_interval_s = float(os.environ.get("SIGHTLINE_HOUSEKEEPING_INTERVAL_S", "3600"))

    def _handler(self, source: Any):
        return getattr(self.module, source.handler_string.rsplit(".", 1)[1])

    # -- SQS ------------------------------------------------------------------------------------
    def deliver_forever(self) -> None:
        from chalice.app import SQSEventConfig

        sources = [s for s in self.app.event_sources if isinstance(s, SQSEventConfig)]
        threads = [
            threading.Thread(target=self._deliver_queue, args=(source,), daemon=True, name=source.name)
            for source in sources
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _deliver_queue(self, source: Any) -> None:
        handler = self._handler(source)
        url = self.sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:{ACCOUNT}:{source.queue}"
        while not self.stopping.is_set():
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=min(10, source.batch_size),
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception:  # the emulator is going away, or a hiccup: try again
                if self.stopping.wait(1):
                    return
                continue
            if messages:
                self.deliver_batch(handler, source.name, url, arn, messages)

    def deliver_batch(self, handler: Any, name: str, url: str, arn: str, messages: List[Dict[str, Any]]) -> None:
        """Hand one received batch to ``handler`` and settle each message as Lambda would."""
        event = {"Records": [sqs_record(m, arn, self.region) for m in messages]}
        try:
            result = handler(event, LambdaContext(name, function_timeout_s(name))) or {}
            failed_ids = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:
            traceback.print_exc()
            failed_ids = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])],
            )
        for message in messages:
            if message["MessageId"] in failed_ids:
                receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                self.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=min(self.max_backoff_s, 2 * receives)
                )

    # -- schedules ------------------------------------------------------------------------------
    def housekeeping_forever(self) -> None:
        from chalice.app import ScheduledEventConfig

        sources = [s for s in self.app.event_sources if isinstance(s, ScheduledEventConfig)]
        while not self.stopping.wait(self.housekeeping_interval_s):
            for source in sources:
                try:
                    self._handler(source)(scheduled_event(self.region), LambdaContext(source.name))
                except Exception:
                    traceback.print_exc()

    # -- outbox ---------------------------------------------------------------------------------
    def write_outbox_forever(self) -> None:
        written = 0
        while not self.stopping.wait(0.2):
            for message in sent_emails()[written:]:
                write_eml(self.outbox_dir, written, message)
                written += 1


def sqs_record(message: Dict[str, Any], arn: str, region: str) -> Dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def scheduled_event(region: str) -> Dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {},
    }


def sent_emails() -> List[bytes]:
    """Raw MIME of every email moto's SES (running in this process) accepted, oldest first."""
    from moto.ses.models import ses_backends

    messages: List[bytes] = []
    for region_backends in ses_backends.values():
        for backend in region_backends.values():
            for sent in backend.sent_messages:
                raw = getattr(sent, "raw_data", None)
                if raw is not None:
                    messages.append(raw.encode() if isinstance(raw, str) else raw)
    return messages


def write_eml(outbox_dir: Path, number: int, raw: bytes) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    path = outbox_dir / f"{stamp}-{number:05d}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(raw)
    tmp.replace(path)
    return path
