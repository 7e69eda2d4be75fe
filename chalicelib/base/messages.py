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

    def __init__(self, queue_name: str):
        self._queue_name = queue_name
        self._url: Optional[str] = None

    def __call__(self, message: Dict[str, Any]) -> None:
        clients.client("sqs").send_message(QueueUrl=self.url(), MessageBody=json.dumps(message))

    def url(self) -> str:
        """The queue's URL (raises if there is no such queue: the health check asks)."""
        if self._url is None:
            self._url = clients.client("sqs").get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._url


get_queue: Lazy[NotificationQueue] = Lazy(lambda: NotificationQueue(get_config().notifications_queue))
