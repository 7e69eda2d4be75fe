"""SQS batches handled as Lambda expects: each message on its own, failures reported back.

Only the messages that failed are retried (the event source mapping must have
``ReportBatchItemFailures`` on; the CDK app sets it and a test checks it).
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict


def each_message(event: Dict[str, Any], handle: Callable[[Dict[str, Any]], None]) -> Dict[str, Any]:
    """Call ``handle`` with each record's JSON body; ``{"batchItemFailures": [...]}``."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    return process_partial_response(
        event=event,
        record_handler=lambda record: handle(json.loads(record.body)),
        processor=BatchProcessor(EventType.SQS),
    )
