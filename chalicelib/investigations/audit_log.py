"""Reading the audit log: supervisors' review of who looked at what, itself audited."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional

from chalicelib.base.audit import Action, AuditEntry, record
from chalicelib.base.errors import ValidationError
from chalicelib.base.ids import iso_micro
from chalicelib.base.officers import Officer
from chalicelib.base.validation import parse
from chalicelib.investigations.schemas import AuditQuery

MAX_DAYS_WITHOUT_FILTER = 31


def search_log(params: Optional[Dict[str, str]], supervisor: Officer, now: datetime) -> Dict[str, Any]:
    """Entries matching the filters, newest first. Reading the log is itself logged."""
    query = parse(AuditQuery, dict(params or {}))
    start = query.from_ or (now - timedelta(days=MAX_DAYS_WITHOUT_FILTER))
    end = query.to or now
    if end < start:
        raise ValidationError("The time range is back to front.", {"to": "Must be after 'from'."})
    low, high = iso_micro(start), iso_micro(end) + "~"
    if query.officer:
        condition = AuditEntry.entry_key.between(low, high)
        filter_ = (AuditEntry.case_ref == query.case_ref) if query.case_ref else None
        items = AuditEntry.query(query.officer, condition, filter_condition=filter_, scan_index_forward=False)
        entries = _take(items, query.limit)
    elif query.case_ref:
        items = AuditEntry.by_case.query(
            query.case_ref, AuditEntry.entry_key.between(low, high), scan_index_forward=False
        )
        entries = _take(items, query.limit)
    else:
        if end - start > timedelta(days=MAX_DAYS_WITHOUT_FILTER):
            raise ValidationError(
                f"Without an officer or case reference, ask for at most {MAX_DAYS_WITHOUT_FILTER} days.",
                {"from": f"Must be within {MAX_DAYS_WITHOUT_FILTER} days of 'to'."},
            )
        entries = []
        day = end.date()
        while day >= start.date() and len(entries) <= query.limit:
            items = AuditEntry.by_day.query(
                day.isoformat(), AuditEntry.entry_key.between(low, high), scan_index_forward=False
            )
            entries.extend(_take(items, query.limit + 1 - len(entries)))
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


def _take(items: Iterable[AuditEntry], limit: int) -> List[AuditEntry]:
    taken: List[AuditEntry] = []
    for item in items:
        taken.append(item)
        if len(taken) > limit:
            break
    return taken
