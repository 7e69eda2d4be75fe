"""The one way a domain says something should happen elsewhere: a message on a queue.

Domains call a :data:`Notify` with a small dict (``{"type": "footage_request", "request_id":
…}``): never a token, and only what the handler cannot read afresh. Messages go to the
notifications queue, whose handler (``chalicelib.mail``, above every domain) renders and sends
emails, so effects that cross domains upwards (evidence arriving must reach the officer; an
owner's deletion must reach what was asked of them) travel as messages, not as imports.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict

from chalicelib.base import clients
from chalicelib.base.config import get_config
from chalicelib.base.lazy import Lazy

Notify = Callable[[Dict[str, Any]], None]


class NotificationQueue:
    """Queues a message for the notifications handler."""

    def __init__(self, sqs: Any, queue_url: str):
        self._sqs = sqs
        self._queue_url = queue_url

    def __call__(self, message: Dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(message))


def _queue() -> NotificationQueue:
    sqs = clients.client("sqs")
    return NotificationQueue(sqs, sqs.get_queue_url(QueueName=get_config().notifications_queue)["QueueUrl"])


get_queue: Lazy[NotificationQueue] = Lazy(_queue)
