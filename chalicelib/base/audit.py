"""The append-only audit log's writer: who consulted or disclosed personal data, when, and why.

Every officer look at personal data is written here *before* the data is returned; if the
write fails, the look fails (nobody sees personal data without a trace). Supervisors and
auditors read the log through ``chalicelib.investigations.audit_log``.

The log is one hash chain. Entry ``seq`` carries ``prev_hash`` (the ``hash`` of entry
``seq - 1``) and ``hash`` = SHA-256 of its own canonical serialisation (:func:`canonical`: every
attribute but ``hash``, as sorted-key JSON). A writer reads the head with a strongly consistent
read and puts ``seq + 1`` on condition that no entry holds that key: of two writers racing for
the same number one wins and the other reads the new head and tries again, so the chain can
neither fork nor skip a number, without transactions (``docs/decisions.md``, 2026-12-02 "The
audit log is a hash chain"). Each entry's canonical bytes are then copied to an S3 bucket under
Object Lock (compliance mode), and one index item per registration shown is written so that
the log can be read by registration. :func:`verify_chain` checks table and copies agree
(``python -m tools.verify_audit``).
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import random
import secrets
import time
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from botocore.exceptions import BotoCoreError, ClientError  # loaded with PynamoDB anyway
from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.base import clients, pools
from chalicelib.base.config import get_config
from chalicelib.base.errors import ServiceUnavailable
from chalicelib.base.ids import iso_micro
from chalicelib.base.officers import Officer
from chalicelib.base.store import Table, TableMeta, condition_failed, table

# One chain for the whole log (one DynamoDB partition: see the decision for its throughput).
CHAIN = "main"
# prev_hash of the first entry ever written.
GENESIS = "0" * 64
# S3 keys and index sort keys carry seq zero-padded, so they sort as numbers.
SEQ_DIGITS = 12
COPY_PREFIX = "audit/"
# A writer that loses the race for the next number this many times gives up (fails closed).
MAX_ATTEMPTS = 10
BASE_BACKOFF_S = 0.01
MAX_BACKOFF_S = 0.2
# BatchWriteItem takes at most 25 puts.
INDEX_BATCH = 25


class Action(str, Enum):
    """Every kind of entry the log holds (the value is what is stored)."""

    SEARCH = "search"
    VIEW_SEARCH = "view_search"
    REQUEST_FOOTAGE = "request_footage"
    LIST_REQUESTS = "list_requests"
    VIEW_REQUEST = "view_request"
    DOWNLOAD_EVIDENCE = "download_evidence"
    VIEW_CUSTODY = "view_custody"
    OPEN_CASE = "open_case"
    LIST_CASES = "list_cases"
    VIEW_CASE = "view_case"
    CHANGE_CASE = "change_case"
    ADD_TEAM_MEMBER = "add_team_member"
    REMOVE_TEAM_MEMBER = "remove_team_member"
    READ_AUDIT = "read_audit"
    EXPORT_AUDIT = "export_audit"
    EXPORT_CASE = "export_case"
    DOWNLOAD_EXPORT = "download_export"


class AuditByOfficer(GlobalSecondaryIndex):
    """GSI ``by-officer``. PK: ``officer`` (Cognito username); SK: ``entry_key``."""

    class Meta:
        index_name = "by-officer"
        projection = AllProjection()

    officer = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)


class AuditByCase(GlobalSecondaryIndex):
    """GSI ``by-case``. PK: ``case_ref``; SK: ``entry_key``."""

    class Meta:
        index_name = "by-case"
        projection = AllProjection()

    case_ref = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)


class AuditByDay(GlobalSecondaryIndex):
    """GSI ``by-day``. PK: ``day`` (``YYYY-MM-DD``, UTC); SK: ``entry_key``."""

    class Meta:
        index_name = "by-day"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)


@table
class AuditEntry(Table):
    """Append-only record of one consultation or disclosure of personal data, a link of the chain.

    PK: ``chain`` (always ``main``); SK: ``seq`` (1, 2, 3, …): the put's not-exists condition on
    this key is what claims a number. ``entry_key`` = ``<ISO 8601 UTC time>#<entry_id>`` sorts
    the indexes by time: ``by-officer``, ``by-case`` and ``by-day``. ``expires_at`` is a TTL
    attribute (``SIGHTLINE_AUDIT_RETENTION_DAYS`` after ``at``). Nothing updates or deletes an
    entry (the deployed functions' IAM policies grant no UpdateItem or DeleteItem on this table).
    """

    class Meta(metaclass=TableMeta):
        table = "audit"

    chain = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()
    officer = UnicodeAttribute()
    entry_key = UnicodeAttribute()
    entry_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    day = UnicodeAttribute()
    action = UnicodeAttribute()
    officer_sub = UnicodeAttribute()
    case_ref = UnicodeAttribute()
    reason = UnicodeAttribute()
    detail = MapAttribute(default=dict)
    registration_ids = ListAttribute(of=UnicodeAttribute, default=list)
    request_ids = ListAttribute(of=UnicodeAttribute, default=list)
    evidence_ids = ListAttribute(of=UnicodeAttribute, default=list)
    expires_at = TTLAttribute()

    by_officer = AuditByOfficer()
    by_case = AuditByCase()
    by_day = AuditByDay()


@table
class AuditRegistration(Table):
    """Which entries showed a registration: one small item per (registration, entry).

    PK: ``registration_id``; SK: ``entry_key`` = ``<ISO 8601 UTC time>#<seq, 12 digits>``, so a
    registration's entries read newest first with a time range as one ``BETWEEN``; ``seq``
    names the entry. DynamoDB cannot index the elements of a list, hence this table. Same TTL
    as the entry it points to.
    """

    class Meta(metaclass=TableMeta):
        table = "audit-registrations"

    registration_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
    seq = NumberAttribute()
    expires_at = TTLAttribute()


def record(
    officer: Officer,
    action: Action,
    *,
    case_ref: str,
    reason: str,
    now: datetime,
    registration_ids: Iterable[str] = (),
    request_ids: Iterable[str] = (),
    evidence_ids: Iterable[str] = (),
    detail: Optional[Dict[str, Any]] = None,
) -> str:
    """Append one entry naming every registration, request and evidence item the answer shows,
    copy it to the locked bucket and index it by registration; raises ServiceUnavailable (and
    so fails the caller) if any of that cannot be done."""
    config = get_config()
    at = now.astimezone(timezone.utc)
    entry_id = secrets.token_hex(10)
    expires_at = int((at + timedelta(days=config.audit_retention_days)).timestamp())
    registrations = list(dict.fromkeys(registration_ids))
    fields: Dict[str, Any] = {
        "chain": CHAIN,
        "officer": officer.username,
        "entry_key": f"{iso_micro(at)}#{entry_id}",
        "entry_id": entry_id,
        "at": iso_micro(at),
        "day": at.strftime("%Y-%m-%d"),
        "action": Action(action).value,
        "officer_sub": officer.sub,
        "case_ref": case_ref,
        "reason": reason,
        "detail": normalised(detail or {}),
        "registration_ids": registrations,
        "request_ids": list(request_ids),
        "evidence_ids": list(evidence_ids),
        "expires_at": expires_at,
    }
    try:
        entry, linked = _append(fields)
        # The index items fan out on the shared pool while this thread puts the copy (record()
        # is never called from a pool task, so waiting on the pool here cannot starve it).
        batches = [registrations[i : i + INDEX_BATCH] for i in range(0, len(registrations), INDEX_BATCH)]
        indexed = [pools.reads().submit(_index_registrations, entry, batch) for batch in batches]
        _copy(linked, config.audit_bucket)
        for future in indexed:
            future.result()
    except (PynamoDBException, BotoCoreError, ClientError):  # the entry, its index or its copy
        raise _unavailable() from None
    return entry_id


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash is taken over (and its S3 copy holds): every field but
    ``hash``, as JSON with sorted keys, no spaces, ASCII only."""
    body = {k: v for k, v in fields.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def entry_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def fields_of(entry: AuditEntry) -> Dict[str, Any]:
    """An entry as stored, in the form that is hashed (times as text, TTL as epoch seconds)."""
    detail = entry.detail.as_dict() if hasattr(entry.detail, "as_dict") else dict(entry.detail or {})
    return {
        "chain": entry.chain,
        "seq": int(entry.seq),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "officer": entry.officer,
        "entry_key": entry.entry_key,
        "entry_id": entry.entry_id,
        "at": iso_micro(entry.at),
        "day": entry.day,
        "action": entry.action,
        "officer_sub": entry.officer_sub,
        "case_ref": entry.case_ref,
        "reason": entry.reason,
        "detail": normalised(detail),
        "registration_ids": list(entry.registration_ids or []),
        "request_ids": list(entry.request_ids or []),
        "evidence_ids": list(entry.evidence_ids or []),
        "expires_at": int(entry.expires_at.timestamp()) if entry.expires_at else None,
    }


def normalised(value: Any) -> Any:
    """``value`` as it reads back from DynamoDB, which keeps numbers as decimal text: a float
    with no fraction comes back an int (500.0 → 500), so it is stored as one; else the hash of
    what was written would differ from the hash of what is read."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): normalised(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalised(v) for v in value]
    return value


def copy_key(seq: int) -> str:
    return f"{COPY_PREFIX}{seq:0{SEQ_DIGITS}d}.json"


def head() -> Optional[AuditEntry]:
    """The newest entry (strongly consistent), or None for an empty log."""
    for entry in AuditEntry.query(CHAIN, scan_index_forward=False, limit=1, consistent_read=True):
        return entry
    return None


def _append(fields: Dict[str, Any]) -> "tuple[AuditEntry, Dict[str, Any]]":
    """Put ``fields`` as the entry after the current head; on a lost race read the new head
    and try again, a bounded number of times. The entry, and its fields as hashed."""
    for attempt in range(MAX_ATTEMPTS):
        last = head()
        linked = dict(fields, seq=(int(last.seq) + 1) if last else 1, prev_hash=last.hash if last else GENESIS)
        linked["hash"] = entry_hash(linked)
        entry = _model(linked)
        try:
            entry.save(condition=AuditEntry.seq.does_not_exist())
            return entry, linked
        except PynamoDBException as exc:
            if not condition_failed(exc):
                raise
        # Another writer took this number: back off (exponential, full jitter, at most 0.2 s, so
        # ten tries span about a second) and read the head again. Linear steps of a few
        # milliseconds kept eight racing writers in step, and one ran out of tries.
        time.sleep(random.uniform(0, min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2**attempt)))
    raise _unavailable()


def _model(fields: Mapping[str, Any]) -> AuditEntry:
    values = dict(fields)
    chain, seq = values.pop("chain"), values.pop("seq")
    values["at"] = datetime.fromisoformat(values["at"].replace("Z", "+00:00"))
    values["expires_at"] = datetime.fromtimestamp(values["expires_at"], timezone.utc)
    return AuditEntry(chain, seq, **values)


def _index_registrations(entry: AuditEntry, registration_ids: Sequence[str]) -> None:
    """Index items for up to 25 registrations: one BatchWriteItem (PynamoDB retries the
    unprocessed ones, and raises if some stay unwritten)."""
    sort_key = f"{iso_micro(entry.at)}#{int(entry.seq):0{SEQ_DIGITS}d}"
    with AuditRegistration.batch_write() as batch:
        for registration_id in registration_ids:
            batch.save(AuditRegistration(registration_id, sort_key, seq=int(entry.seq), expires_at=entry.expires_at))


def _copy(fields: Mapping[str, Any], bucket: str) -> None:
    """Put the entry's canonical bytes, which S3 checks against the entry's hash (the checksum
    header): the copy is the very bytes that were hashed. The bucket's default retention locks
    it (compliance mode) until the audit log's retention ends."""
    clients.client("s3").put_object(
        Bucket=bucket,
        Key=copy_key(int(fields["seq"])),
        Body=canonical(fields),
        ContentType="application/json",
        # Object Lock's default retention makes S3 require a checksum header.
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=base64.b64encode(bytes.fromhex(fields["hash"])).decode("ascii"),
    )


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("The audit log cannot be written right now, so nothing was shown. Please try again.")


# ------------------------------------------------------------------------------- verification

Copy = Union[bytes, Sequence[bytes]]


@dataclasses.dataclass
class Verification:
    """What :func:`verify_chain` found; seq numbers in each list."""

    entries: int = 0
    copies: int = 0
    first_seq: Optional[int] = None
    last_seq: Optional[int] = None
    # Entries before the oldest remaining one, or in gaps, whose retention had ended.
    expired: int = 0
    broken_links: List[int] = dataclasses.field(default_factory=list)
    tampered: List[int] = dataclasses.field(default_factory=list)
    gaps: List[int] = dataclasses.field(default_factory=list)
    missing_copies: List[int] = dataclasses.field(default_factory=list)
    differing_copies: List[int] = dataclasses.field(default_factory=list)
    overwritten_copies: List[int] = dataclasses.field(default_factory=list)

    PROBLEMS = ("broken_links", "tampered", "gaps", "missing_copies", "differing_copies", "overwritten_copies")

    @property
    def ok(self) -> bool:
        return not any(getattr(self, name) for name in self.PROBLEMS)

    def summary(self) -> str:
        span = f"seq {self.first_seq}..{self.last_seq}" if self.entries else "no entries"
        expired = (
            f"; the chain starts at the oldest remaining entry, {self.expired} older entries expired"
            if self.expired
            else ""
        )
        problems = ", ".join(f"{name.replace('_', ' ')}: {len(getattr(self, name))}"
                             for name in self.PROBLEMS if getattr(self, name))
        verdict = f"PROBLEMS ({problems})" if problems else "OK"
        return f"audit log {verdict}: {self.entries} entries ({span}), {self.copies} copies{expired}"


def verify_chain(
    entries: Iterable[Mapping[str, Any]], copies: Mapping[int, Copy], *, now: Optional[datetime] = None
) -> Verification:
    """Check the chain (``entries``: each entry's fields as :func:`fields_of` gives them) and its
    copies (``copies``: seq → the object's bytes, or every version's bytes, oldest first).

    Reports links whose ``prev_hash`` is not the previous entry's ``hash``, entries whose hash
    is not the hash of their fields (tampered), numbers missing from the table (gaps: between
    entries, or after the last one when a copy shows one was written), entries without a copy,
    copies that differ from their entry, and copies written more than once. Entries whose
    retention has ended may be gone: numbers before the oldest remaining entry, and missing
    numbers whose copy (or the entry before them) had expired, are counted as expired.
    """
    moment = int((now or datetime.now(timezone.utc)).timestamp())
    chain = sorted(entries, key=lambda e: int(e["seq"]))
    versions = {int(seq): ([body] if isinstance(body, (bytes, bytearray)) else list(body)) for seq, body in copies.items()}
    found = Verification(entries=len(chain), copies=len(versions))
    if chain:
        found.first_seq, found.last_seq = int(chain[0]["seq"]), int(chain[-1]["seq"])

    def copy_expired(seq: int) -> Optional[bool]:
        bodies = versions.get(seq)
        if not bodies:
            return None
        try:
            return int(json.loads(bodies[0])["expires_at"]) <= moment
        except (ValueError, KeyError, TypeError):
            return False

    by_seq = {int(e["seq"]): e for e in chain}
    previous: Optional[Mapping[str, Any]] = None
    for entry in chain:
        seq = int(entry["seq"])
        if entry_hash(entry) != entry["hash"]:
            found.tampered.append(seq)
        if previous is not None and int(previous["seq"]) == seq - 1 and entry["prev_hash"] != previous["hash"]:
            found.broken_links.append(seq)
        if previous is None and seq == 1 and entry["prev_hash"] != GENESIS:
            found.broken_links.append(seq)
        if previous is not None:
            for missing in range(int(previous["seq"]) + 1, seq):
                expired = copy_expired(missing)
                if expired or (expired is None and (previous.get("expires_at") or moment + 1) <= moment):
                    found.expired += 1
                else:
                    found.gaps.append(missing)
        bodies = versions.get(seq)
        if not bodies:
            found.missing_copies.append(seq)
        else:
            if bodies[0] != canonical(entry) or hashlib.sha256(bodies[0]).hexdigest() != entry["hash"]:
                found.differing_copies.append(seq)
            if len(bodies) > 1:
                found.overwritten_copies.append(seq)
        previous = entry
    # Copies of numbers the table no longer holds, outside the span judged above: before the
    # oldest remaining entry they may have expired; after the newest, an entry was deleted.
    for seq in sorted(versions):
        if seq in by_seq or (chain and int(chain[0]["seq"]) < seq < int(chain[-1]["seq"])):
            continue
        if copy_expired(seq):
            found.expired += 0 if chain and seq < int(chain[0]["seq"]) else 1
        else:
            found.gaps.append(seq)
    if chain and int(chain[0]["seq"]) > 1:
        first = int(chain[0]["seq"])
        found.expired += (first - 1) - sum(1 for seq in found.gaps if seq < first)
    found.gaps.sort()
    return found
