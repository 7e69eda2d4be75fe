"""Each exhibit's chain of custody: an append-only, hash-chained log of what happened to it.

From the owner's upload to its deletion, every step is one :class:`CustodyEvent`: who (the
owner, Sightline itself, the malware scan, or an officer by username), when it happened, when it
was recorded, and what (``detail``). Events are numbered per exhibit and each carries the hash
of the one before, so a removed, reordered or edited event shows (:func:`verify`). An event
given a ``once`` key is recorded once however often its cause is retried.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional

from pynamodb.exceptions import PutError

# Hashed, chained and retried as the audit log's entries are (the same canonical JSON and back-off).
from chalicelib.base.audit import BASE_BACKOFF_S, GENESIS, MAX_ATTEMPTS, MAX_BACKOFF_S, entry_hash, normalised
from chalicelib.base.ids import iso_micro
from chalicelib.base.store import condition_failed
from chalicelib.footage.tables import CustodyEvent

# Who did it, when it was not an officer.
OWNER = "owner"
SIGHTLINE = "sightline"
MALWARE_SCAN = "malware-scan"

# What happened, in the order an exhibit usually meets them.
UPLOAD_STARTED = "upload_started"
UPLOAD_FINISHED = "upload_finished"
HASHED = "hashed"
TYPE_VERIFIED = "type_verified"
OWNER_HASH_MATCHED = "owner_hash_matched"
OWNER_HASH_MISMATCH = "owner_hash_mismatch"
ACCEPTED = "accepted"
QUARANTINED = "quarantined"
EXHIBIT_ASSIGNED = "exhibit_assigned"
SCANNED = "scanned"
DOWNLOADED = "downloaded"
EXPORTED = "exported"
RETENTION_CHANGED = "retention_changed"
HOLD_LIFTED = "hold_lifted"
DELETED = "deleted"

# Plain words for each event, for the console and the printed continuity schedule.
DESCRIPTIONS = {
    UPLOAD_STARTED: "The owner started uploading the file.",
    UPLOAD_FINISHED: "The file finished arriving in the evidence store.",
    HASHED: "Sightline computed the file's SHA-256 fingerprint.",
    TYPE_VERIFIED: "Sightline checked the file's contents match its type.",
    OWNER_HASH_MATCHED: "The fingerprint the owner's browser computed matches Sightline's.",
    OWNER_HASH_MISMATCH: "The fingerprint the owner's browser computed differs from Sightline's.",
    ACCEPTED: "The file was accepted as evidence and put under legal hold.",
    QUARANTINED: "The file was quarantined and is not released to officers.",
    EXHIBIT_ASSIGNED: "The exhibit reference was assigned.",
    SCANNED: "The malware scan gave its verdict.",
    DOWNLOADED: "An officer downloaded the file.",
    EXPORTED: "The file was copied into a case export.",
    RETENTION_CHANGED: "The file's retention changed.",
    HOLD_LIFTED: "The legal hold on the file was lifted at the end of its retention.",
    DELETED: "The file was deleted at the end of its retention.",
}


@dataclass(frozen=True)
class Verification:
    intact: bool
    events: int
    problem: Optional[str] = None


def record(
    evidence_id: str, event: str, *, at: datetime, actor: str, now: datetime,
    detail: Optional[Mapping[str, Any]] = None, once: Optional[str] = None,
) -> CustodyEvent:
    """Append one event to the exhibit's log (or return the one already recorded under ``once``)."""
    fields = {
        "evidence_id": evidence_id,
        "event": event,
        "at": iso_micro(at),
        "recorded_at": iso_micro(now),
        "actor": actor,
        "detail": normalised(dict(detail or {})),
        "once": once,
    }
    for attempt in range(MAX_ATTEMPTS):
        logged = events(evidence_id)
        if once is not None:
            for existing in logged:
                if existing.once == once:
                    return existing
        last = logged[-1] if logged else None
        linked = dict(fields, seq=int(last.seq) + 1 if last else 1, prev_hash=last.hash if last else GENESIS)
        linked["hash"] = entry_hash(linked)
        item = CustodyEvent(**linked)
        try:
            item.save(condition=CustodyEvent.seq.does_not_exist())
            return item
        except PutError as exc:
            if not condition_failed(exc):
                raise
        time.sleep(random.uniform(0, min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2**attempt)))
    raise RuntimeError(f"could not append to the custody log of {evidence_id}")  # retried by the caller's queue


def events(evidence_id: str) -> List[CustodyEvent]:
    """The exhibit's events, oldest first (strongly consistent)."""
    return list(CustodyEvent.query(evidence_id, consistent_read=True))


def fields_of(item: CustodyEvent) -> Dict[str, Any]:
    detail = item.detail.as_dict() if hasattr(item.detail, "as_dict") else dict(item.detail or {})
    return {
        "evidence_id": item.evidence_id,
        "seq": int(item.seq),
        "event": item.event,
        "at": item.at,
        "recorded_at": item.recorded_at,
        "actor": item.actor,
        "detail": normalised(detail),
        "once": item.once,
        "prev_hash": item.prev_hash,
        "hash": item.hash,
    }


def verify(logged: List[CustodyEvent]) -> Verification:
    """Whether the events are numbered 1…n without a gap and each hash links to the last."""
    previous = GENESIS
    for expected, item in enumerate(logged, start=1):
        fields = fields_of(item)
        if fields["seq"] != expected:
            return Verification(False, len(logged), f"Event {expected} is missing.")
        if fields["prev_hash"] != previous or entry_hash(fields) != fields["hash"]:
            return Verification(False, len(logged), f"Event {expected} has been changed.")
        previous = fields["hash"]
    return Verification(True, len(logged))


def view_event(item: CustodyEvent) -> Dict[str, Any]:
    fields = fields_of(item)
    return {
        "seq": fields["seq"],
        "event": fields["event"],
        "description": DESCRIPTIONS.get(fields["event"], fields["event"]),
        "at": fields["at"],
        "recorded_at": fields["recorded_at"],
        "actor": fields["actor"],
        "detail": fields["detail"],
        "hash": fields["hash"],
    }


def view(evidence_id: str) -> Dict[str, Any]:
    """The log as the API and the export show it, with whether its chain is intact."""
    logged = events(evidence_id)
    checked = verify(logged)
    return {
        "chain": {"intact": checked.intact, "events": checked.events, "problem": checked.problem},
        "events": [view_event(item) for item in logged],
    }
