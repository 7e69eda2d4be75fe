"""Registrations as records: found, listed for their owner, read in bulk, purged.

What every function may need of the registry, without the residents' schemas (pydantic): the
queue handlers and the housekeeping job load this, the API's resident routes load
``registrations``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, List, Optional

from pynamodb.exceptions import DeleteError, PynamoDBException

from chalicelib.base import pools
from chalicelib.base.errors import ServiceUnavailable
from chalicelib.base.store import BATCH_GET_KEYS, condition_failed
from chalicelib.registry import index
from chalicelib.registry.tables import ACTIVE, PENDING, Registration

def find(registration_id: str) -> Optional[Registration]:
    try:
        return Registration.get(registration_id, consistent_read=True)
    except Registration.DoesNotExist:
        return None


def owned(owner_email: str, now: datetime) -> List[Registration]:
    """The owner's registrations, but for pending ones whose verification window has passed."""
    return [item for item in Registration.by_owner_email.query(owner_email) if not lapsed(item, now)]


def read_active(ids: Iterable[str]) -> List[Registration]:
    """The active ones among these registrations, read in concurrent 100-key batches."""
    unique = list(dict.fromkeys(ids))
    batches = [unique[i : i + BATCH_GET_KEYS] for i in range(0, len(unique), BATCH_GET_KEYS)]
    try:
        if len(batches) <= 1:
            found = [list(Registration.batch_get(batch)) for batch in batches]
        else:
            found = list(pools.reads().map(lambda batch: list(Registration.batch_get(batch)), batches))
    except PynamoDBException:
        raise ServiceUnavailable("The registry cannot be read right now. Please try again.") from None
    return [item for items in found for item in items if item.status == ACTIVE]


def purge_expired(now: datetime) -> int:
    """Delete pending registrations whose verification window has passed (and any stray
    index entry a crash mid-verification left). DynamoDB's TTL does this too, eventually."""
    purged = 0
    for item in Registration.scan(
        (Registration.status == PENDING) & (Registration.expires_at < now)
    ):
        try:
            item.delete(condition=(Registration.status == PENDING) & (Registration.expires_at < now))
        except DeleteError as exc:
            if not condition_failed(exc):
                raise
            continue
        index.remove(index.keys(item))
        purged += 1
    return purged


def lapsed(item: Registration, now: datetime) -> bool:
    """A pending registration whose verification window has passed (gone but for the purge)."""
    return item.status == PENDING and item.expires_at is not None and item.expires_at <= now
