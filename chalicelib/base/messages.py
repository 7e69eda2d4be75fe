"""The one way a domain says something should happen elsewhere: a message on a queue.

Domains call a :data:`Notify` with a small dict (``{"type": "footage_request", "request_id":
…}``): never a token, and only what the handler cannot read afresh. Messages go to the
notifications queue, whose handler (``chalicelib.mail``, above every domain) renders and sends
emails, so effects that cross domains upwards (evidence arriving must reach the officer; an
owner's deletion must reach what was asked of them) travel as messages, not as imports.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, Optional

from chalicelib.base import clients
from chalicelib.base.config import get_config
from chalicelib.base.lazy import Lazy

Notify = Callable[[Dict[str, Any]], None]


class NotificationQueue:
    """Queues a message for the notifications handler. The SQS client and the queue's URL are
    found when the first message is sent: an event that sends nothing builds neither."""

    def __init__(self, queue_name: str, queue_url: str = ""):
        self._queue_name = queue_name
        self._url: Optional[str] = queue_url or None

    def __call__(self, message: Dict[str, Any]) -> None:
        clients.client("sqs").send_message(QueueUrl=self.url(), MessageBody=json.dumps(message))

    def url(self) -> str:
        if self._url is None:
            self._url = self.find_url()
        return self._url

    def find_url(self) -> str:
        """Ask SQS for the queue's URL (raises if there is no such queue: the health check)."""
        return clients.client("sqs").get_queue_url(QueueName=self._queue_name)["QueueUrl"]


def _queue() -> NotificationQueue:
    config = get_config()
    return NotificationQueue(config.notifications_queue, config.notifications_queue_url)


get_queue: Lazy[NotificationQueue] = Lazy(_queue)
