"""Registrations as records: found, listed for their owner, read in bulk, removed, reconciled.

What every function may need of the registry, without the residents' schemas (pydantic): the
queue handlers and the housekeeping job load this, the API's resident routes load
``registrations``.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Dict, Iterable, List, Optional, Set, Tuple

from pynamodb.exceptions import DeleteError, PynamoDBException

from chalicelib.base import pools
from chalicelib.base.errors import ServiceUnavailable
from chalicelib.base.store import BATCH_GET_KEYS, condition_failed
from chalicelib.registry import index
from chalicelib.registry.tables import ACTIVE, DELETED, PENDING, GeoIndexEntry, Registration, RegistrationClaim


def find(registration_id: str) -> Optional[Registration]:
    try:
        return Registration.get(registration_id, consistent_read=True)
    except Registration.DoesNotExist:
        return None


def owned(owner: str, now: datetime) -> List[Registration]:
    """The owner's registrations (``owner``: their keyed hash), but for pending ones whose
    verification window has passed and deleted ones awaiting removal."""
    return [item for item in Registration.by_owner.query(owner) if not gone(item, now)]


def read_active(ids: Iterable[str]) -> List[Registration]:
    """The active ones among these registrations, read in concurrent 100-key batches."""
    return [item for item in read_many(ids) if item.status == ACTIVE]


def read_many(ids: Iterable[str]) -> List[Registration]:
    """These registrations, those that exist, read in concurrent 100-key batches."""
    unique = list(dict.fromkeys(ids))
    batches = [unique[i : i + BATCH_GET_KEYS] for i in range(0, len(unique), BATCH_GET_KEYS)]
    try:
        if len(batches) <= 1:
            found = [list(Registration.batch_get(batch)) for batch in batches]
        else:
            found = list(pools.reads().map(lambda batch: list(Registration.batch_get(batch)), batches))
    except PynamoDBException:
        raise ServiceUnavailable("The registry cannot be read right now. Please try again.") from None
    return [item for items in found for item in items]


def find_claim(claim: str) -> Optional[RegistrationClaim]:
    try:
        return RegistrationClaim.get(claim, consistent_read=True)
    except RegistrationClaim.DoesNotExist:
        return None


def remove(item: Registration) -> None:
    """Remove a registration for good, in the order that leaves nothing findable: its index
    entry, the item (personal data and all), then its claim. A crash part-way leaves a stray
    entry or claim that :func:`reconcile` removes."""
    index.remove(index.keys(item))
    try:
        item.delete(condition=Registration.version == item.version)
    except DeleteError as exc:
        if not condition_failed(exc):
            raise
        return  # changed meanwhile (taken over by a new registration, or already gone)
    release_claim(item)


def release_claim(item: Registration) -> None:
    try:
        RegistrationClaim(item.claim).delete(condition=RegistrationClaim.registration_id == item.registration_id)
    except DeleteError as exc:
        if not condition_failed(exc):
            raise  # otherwise the claim is already gone, or a newer registration holds it


def purge_expired(now: datetime) -> int:
    """Delete pending registrations whose verification window has passed (with any stray
    index entry a crash mid-verification left, and their claims). DynamoDB's TTL removes the
    item too, eventually; :func:`reconcile` then removes the claim."""
    purged = 0
    for item in Registration.scan((Registration.status == PENDING) & (Registration.expires_at < now)):
        remove(item)
        purged += 1
    return purged


def stale_deletions(now: datetime, older_than: timedelta) -> List[Registration]:
    """Deleted registrations still waiting, after ``older_than``, for their confirmation."""
    cutoff = now - older_than
    return list(Registration.scan((Registration.status == DELETED) & (Registration.updated_at < cutoff)))


def gone(item: Registration, now: datetime) -> bool:
    """Not there for its owner or anyone else: deleted, or pending past its window."""
    return item.status == DELETED or lapsed(item, now)


def lapsed(item: Registration, now: datetime) -> bool:
    """A pending registration whose verification window has passed (gone but for the purge)."""
    return item.status == PENDING and item.expires_at is not None and item.expires_at <= now


# --- Reconciliation ---------------------------------------------------------------------------


# A claim is written just before its registration: younger claims may be mid-registration.
CLAIM_GRACE = timedelta(hours=1)


def reconcile(now: datetime) -> Dict[str, int]:
    """Make the geo index hold exactly one entry per active registration, at its place, and
    remove claims whose registration is gone. The backstop for every ordered write that a crash
    interrupted (``registrations`` orders them so that such a crash can hide nothing, but it can
    leave an entry that points at a place a registration no longer is).

    Each entry is checked against its registration read afresh; entries found wanting are
    deleted first, then every active registration's entry is written if it is missing, so an
    entry deleted while a concurrent edit re-activated its registration is put back in the same
    run. Pending registrations' entries are left alone: verification writes the entry just
    before it activates, and the purge removes what lapses. Claims younger than
    :data:`CLAIM_GRACE` are left alone (their registration may be being written).
    """
    present: Set[Tuple[str, str]] = set()
    removed = added = claims_removed = 0
    entries = [(entry.cell, entry.position, entry.registration_id) for entry in GeoIndexEntry.scan()]
    for start in range(0, len(entries), BATCH_GET_KEYS * 10):
        chunk = entries[start : start + BATCH_GET_KEYS * 10]
        registrations = {item.registration_id: item for item in read_many(rid for _, _, rid in chunk)}
        for cell, position, registration_id in chunk:
            item = registrations.get(registration_id)
            wanted = item is not None and (
                item.status == PENDING or (item.status == ACTIVE and index.keys(item) == (cell, position))
            )
            if wanted:
                present.add((cell, position))
            else:
                index.remove((cell, position))
                removed += 1
    for item in Registration.scan(Registration.status == ACTIVE):
        if index.keys(item) not in present:
            index.add(item)
            added += 1
    for claim in RegistrationClaim.scan(RegistrationClaim.created_at < now - CLAIM_GRACE):
        holder = find(claim.registration_id)
        if holder is None or holder.claim != claim.claim:
            try:
                claim.delete(condition=RegistrationClaim.registration_id == claim.registration_id)
            except DeleteError as exc:
                if not condition_failed(exc):
                    raise
                continue
            claims_removed += 1
    return {"index_entries_removed": removed, "index_entries_added": added, "claims_removed": claims_removed}
