"""Scheduled clean-up: what DynamoDB's TTL removes only eventually (and the local engine never)."""
from __future__ import annotations

from datetime import datetime
from typing import Dict

from chalicelib import registrations, tokens


def run(now: datetime) -> Dict[str, int]:
    return {
        "expired_registrations": registrations.purge_expired(now),
        "expired_tokens": tokens.purge_expired(now),
    }
