"""Scheduled clean-up: what DynamoDB's TTL removes only eventually (and the local engine never),
and the backstop for a footage-request timer that failed. Each package purges its own."""
from __future__ import annotations

from datetime import datetime
from typing import Dict

from chalicelib.base import tokens
from chalicelib.base.messages import Notify
from chalicelib.footage import requests
from chalicelib.registry import records


def run(now: datetime, notify: Notify) -> Dict[str, int]:
    return {
        "expired_registrations": records.purge_expired(now),
        "expired_tokens": tokens.purge_expired(now),
        "expired_requests": requests.expire_overdue(now, notify),
    }
