"""SQS batches handled as Lambda expects: each message on its own, failures reported back.

Only the messages that failed are retried (the event source mapping must have
``ReportBatchItemFailures`` on; the CDK app sets it and a test checks it). This is Powertools'
``BatchProcessor`` contract in a dozen lines: importing that utility costs every SQS function
about 55 ms of cold start (it loads asyncio and all its event classes) for this loop.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Dict, List

_LOG = logging.getLogger(__name__)


def each_message(event: Dict[str, Any], handle: Callable[[Dict[str, Any]], None]) -> Dict[str, Any]:
    """Call ``handle`` with each record's JSON body; ``{"batchItemFailures": [...]}``."""
    failures: List[Dict[str, str]] = []
    for record in event.get("Records", []):
        try:
            handle(json.loads(record["body"]))
        except Exception:  # noqa: BLE001 (any failure sends this message back to the queue)
            _LOG.exception("message %s failed; it will be retried", record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
