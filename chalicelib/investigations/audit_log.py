"""Reading the audit log: supervisors' review of who looked at what, itself audited."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional

from chalicelib.base.audit import CHAIN, Action, AuditEntry, AuditRegistration, record
from chalicelib.base.config import get_config
from chalicelib.base.errors import ValidationError
from chalicelib.base.ids import iso_micro
from chalicelib.base.officers import Officer
from chalicelib.base.store import BATCH_GET_KEYS
from chalicelib.base.validation import parse
from chalicelib.investigations.schemas import AuditQuery

MAX_DAYS_WITHOUT_FILTER = 31


def search_log(params: Optional[Dict[str, str]], supervisor: Officer, now: datetime) -> Dict[str, Any]:
    """Entries matching the filters, newest first. Reading the log is itself logged."""
    query = parse(AuditQuery, dict(params or {}))
    start = query.from_ or (now - timedelta(days=MAX_DAYS_WITHOUT_FILTER))
    if query.registration_id and not query.from_:
        start = now - timedelta(days=get_config().audit_retention_days)
    end = query.to or now
    if end < start:
        raise ValidationError("The time range is back to front.", {"to": "Must be after 'from'."})
    low, high = iso_micro(start), iso_micro(end) + "~"
    if query.registration_id:
        entries = _showing(query.registration_id, low, high, query, now)
    elif query.officer:
        condition = AuditEntry.entry_key.between(low, high)
        filter_ = (AuditEntry.case_ref == query.case_ref) if query.case_ref else None
        items = AuditEntry.by_officer.query(query.officer, condition, filter_condition=filter_, scan_index_forward=False)
        entries = _take(items, query.limit, now)
    elif query.case_ref:
        items = AuditEntry.by_case.query(
            query.case_ref, AuditEntry.entry_key.between(low, high), scan_index_forward=False
        )
        entries = _take(items, query.limit, now)
    else:
        if end - start > timedelta(days=MAX_DAYS_WITHOUT_FILTER):
            raise ValidationError(
                f"Without an officer, case reference or registration, ask for at most {MAX_DAYS_WITHOUT_FILTER} days.",
                {"from": f"Must be within {MAX_DAYS_WITHOUT_FILTER} days of 'to'."},
            )
        entries = []
        day = end.date()
        while day >= start.date() and len(entries) <= query.limit:
            items = AuditEntry.by_day.query(
                day.isoformat(), AuditEntry.entry_key.between(low, high), scan_index_forward=False
            )
            entries.extend(_take(items, query.limit + 1 - len(entries), now))
            day -= timedelta(days=1)
    truncated = len(entries) > query.limit
    record(
        supervisor,
        Action.READ_AUDIT,
        case_ref=query.case_ref or "-",
        reason="audit review",
        now=now,
        detail={"filters": {k: v for k, v in dict(params or {}).items()}},
    )
    return {"entries": [view(e) for e in entries[: query.limit]], "truncated": truncated}


def view(entry: AuditEntry) -> Dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "at": entry.at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "officer": entry.officer,
        "action": entry.action,
        "case_ref": entry.case_ref,
        "reason": entry.reason,
        "detail": entry.detail.as_dict() if hasattr(entry.detail, "as_dict") else dict(entry.detail),
        "registration_ids": list(entry.registration_ids),
        "request_ids": list(entry.request_ids or []),
        "evidence_ids": list(entry.evidence_ids or []),
    }


def _showing(registration_id: str, low: str, high: str, query: AuditQuery, now: datetime) -> List[AuditEntry]:
    """Entries that showed a registration, newest first: its index items (one per entry), then
    the entries themselves, 100 keys per BatchGetItem. Officer and case filters apply to those
    (at most ``limit + 1`` are read)."""
    pointers = AuditRegistration.query(
        registration_id, AuditRegistration.entry_key.between(low, high), scan_index_forward=False
    )
    entries: List[AuditEntry] = []
    seqs: List[int] = []
    for pointer in pointers:
        if pointer.expires_at is not None and pointer.expires_at <= now:
            continue
        seqs.append(int(pointer.seq))
        if len(seqs) == BATCH_GET_KEYS:
            entries.extend(_matching(seqs, query))
            seqs = []
        if len(entries) > query.limit:
            break
    entries.extend(_matching(seqs, query))
    entries.sort(key=lambda e: int(e.seq), reverse=True)
    return _take(entries, query.limit, now)


def _matching(seqs: List[int], query: AuditQuery) -> List[AuditEntry]:
    found = AuditEntry.batch_get([(CHAIN, seq) for seq in seqs]) if seqs else []
    return [e for e in found if (not query.officer or e.officer == query.officer)
            and (not query.case_ref or e.case_ref == query.case_ref)]


def _take(items: Iterable[AuditEntry], limit: int, now: datetime) -> List[AuditEntry]:
    """Up to ``limit + 1`` entries (one more says the answer is truncated), leaving out those
    whose retention has ended and that DynamoDB's TTL has not deleted yet."""
    taken: List[AuditEntry] = []
    for item in items:
        if item.expires_at is not None and item.expires_at <= now:
            continue
        taken.append(item)
        if len(taken) > limit:
            break
    return taken
