"""Scheduled clean-up: what DynamoDB's TTL removes only eventually (and the local engine never)."""
from __future__ import annotations

from datetime import datetime
from typing import Dict

from chalicelib import footage_requests, registrations, tokens
from chalicelib.registrations import Notify


def run(now: datetime, notify: Notify) -> Dict[str, int]:
    return {
        "expired_registrations": registrations.purge_expired(now),
        "expired_tokens": tokens.purge_expired(now),
        "expired_requests": expire_overdue_requests(now, notify),
    }


def expire_overdue_requests(now: datetime, notify: Notify) -> int:
    """A backstop for a workflow execution that failed: expire what is past its deadline."""
    expired = 0
    for request_id in footage_requests.overdue(now):
        if footage_requests.expire(request_id, now):
            notify({"type": "footage_expired", "request_id": request_id})
            expired += 1
    return expired
