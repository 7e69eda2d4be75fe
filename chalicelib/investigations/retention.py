"""How long a case's evidence is kept, and its deletion when that time is up.

Evidence is kept while its case is open and ``config.evidence_retention_days`` after it closes;
a supervisor can hold a case indefinitely. Each change to that is written to the custody log of
every exhibit of the case. A daily job in its own function (:func:`sweep`; its role is the only
one that may lift a legal hold or delete an evidence version) finds closed cases past their time,
lifts each object's legal hold and deletes its exact version (the evidence bucket is versioned:
deleting by version removes the bytes, not just the current pointer), each step in the custody
log first, then marks the item deleted (kept, as the record that it existed). A failure part way
is finished by the next run: every step is idempotent.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Iterator, Optional

from chalicelib.base import clients
from chalicelib.base.config import Config
from chalicelib.base.ids import iso
from chalicelib.footage import custody, requests
from chalicelib.footage.tables import ACCEPTED, DELETED, QUARANTINED, EvidenceItem
from chalicelib.investigations.tables import CLOSED, Case


def delete_after(case: Case, config: Config) -> Optional[datetime]:
    """When the case's evidence is deleted, or None (open, or held)."""
    if case.hold or case.status != CLOSED or case.closed_at is None:
        return None
    return case.closed_at + timedelta(days=config.evidence_retention_days)


def kept_words(case: Case, config: Config) -> str:
    if case.hold:
        return "indefinitely: a supervisor has held the case"
    after = delete_after(case, config)
    return f"until {iso(after)}" if after else "while the case is open"


def log_change(case: Case, actor: str, config: Config, now: datetime) -> int:
    """A retention change (closed, reopened, held, released) in every exhibit's custody log."""
    detail = {"kept": kept_words(case, config), "case_status": case.status, "hold": bool(case.hold)}
    logged = 0
    for item in _evidence_of(case):
        if item.status in (ACCEPTED, QUARANTINED):
            custody.record(item.evidence_id, custody.RETENTION_CHANGED, at=now, actor=actor, now=now, detail=detail)
            logged += 1
    return logged


def sweep(now: datetime, config: Config, s3: Optional[Any] = None) -> Dict[str, int]:
    """Delete the evidence of every closed case past its retention (daily, ``evidence_retention``)."""
    s3 = s3 or clients.client("s3")
    cases = deleted = 0
    due = Case.scan(
        (Case.status == CLOSED) & Case.evidence_deleted_at.does_not_exist()
        & (Case.closed_at < now - timedelta(days=config.evidence_retention_days))
    )
    for case in due:
        if case.hold:  # read here, not filtered: an item without the attribute is not held
            continue
        for item in _evidence_of(case):
            if item.status != DELETED:
                _delete(item, s3, config, now)
                deleted += 1
        case.update(actions=[Case.evidence_deleted_at.set(now)])
        cases += 1
    return {"cases_past_retention": cases, "evidence_deleted": deleted}


def _delete(item: EvidenceItem, s3: Any, config: Config, now: datetime) -> None:
    where = {"Bucket": config.evidence_bucket, "Key": item.key, **({"VersionId": item.version_id} if item.version_id else {})}
    if item.status == ACCEPTED:
        try:
            s3.put_object_legal_hold(**where, LegalHold={"Status": "OFF"})
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("InvalidRequest", "NotImplemented", "NoSuchKey", "NoSuchVersion"):
                raise
        custody.record(item.evidence_id, custody.HOLD_LIFTED, at=now, actor=custody.SIGHTLINE, now=now,
                       detail={"reason": "retention ended"}, once="hold_lifted")
    s3.delete_object(**where)  # by version: the bytes go (deleting a version already gone succeeds)
    custody.record(item.evidence_id, custody.DELETED, at=now, actor=custody.SIGHTLINE, now=now,
                   detail={"key": item.key, "version_id": item.version_id}, once="deleted")
    item.update(actions=[EvidenceItem.status.set(DELETED), EvidenceItem.deleted_at.set(now)])


def _evidence_of(case: Case) -> Iterator[EvidenceItem]:
    for request in requests.for_case(case.case_ref):
        yield from requests.evidence_of(request.request_id)
