"""Per-recipient limits on the emails anyone can trigger without signing in.

Verification, "already registered" and manage-link emails can be asked for by anyone who knows
an address; each counts, before it is sent, against the recipient's allowance for the hour and
for the day (``public_emails_per_hour``, ``public_emails_per_day``). Counts are kept under a
keyed hash of the recipient's address (``base.pseudonyms``), one item per window, which expires
with its window. Over the limit the email is not sent; the public answer was given before this
was known, and is the same either way. Emails that follow an officer's request, or an owner's
own signed-in action, are not counted here.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Tuple

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.base.config import Config
from chalicelib.base.pseudonyms import RECIPIENT, pseudonym
from chalicelib.base.store import Table, TableMeta, condition_failed, table
from chalicelib.registry.identity import owner_key


@table
class EmailCount(Table):
    """How many public emails one recipient was sent in one window.

    PK: ``window_key`` = ``<keyed hash of the address>#<h|d>#<window start>``
    (``…#h#2026-12-02T14``, ``…#d#2026-12-02``). ``expires_at`` is the window's end (TTL).
    """

    class Meta(metaclass=TableMeta):
        table = "email-counts"

    window_key = UnicodeAttribute(hash_key=True)
    sent = NumberAttribute(default=0)
    expires_at = TTLAttribute()


def allow(address: str, now: datetime, config: Config) -> bool:
    """Count one email to ``address`` against its hourly and daily allowance: False (and
    nothing sent) if either is used up."""
    recipient = pseudonym(RECIPIENT, owner_key(address))
    for window, limit in ((_hour(now), config.public_emails_per_hour), (_day(now), config.public_emails_per_day)):
        label, start, end = window
        if not _count(f"{recipient}#{label}#{start}", limit, end):
            return False
    return True


def _count(window_key: str, limit: int, end: datetime) -> bool:
    try:
        EmailCount(window_key).update(
            actions=[EmailCount.sent.add(1), EmailCount.expires_at.set(end)],
            condition=EmailCount.sent.does_not_exist() | (EmailCount.sent < limit),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _hour(now: datetime) -> Tuple[str, str, datetime]:
    start = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return "h", start.strftime("%Y-%m-%dT%H"), start + timedelta(hours=1)


def _day(now: datetime) -> Tuple[str, str, datetime]:
    start = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return "d", start.strftime("%Y-%m-%d"), start + timedelta(days=1)
