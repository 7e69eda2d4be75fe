"""The append-only audit log: who consulted or disclosed personal data, when, and why.

Every officer look at personal data is written here *before* the data is returned; if the
write fails, the look fails (nobody sees personal data without a trace).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional

from pydantic import Field, field_validator
from pynamodb.exceptions import PynamoDBException

from chalicelib.auth import Officer
from chalicelib.errors import ServiceUnavailable, ValidationError
from chalicelib.models import AuditEntry
from chalicelib.validation import Schema, parse

MAX_DAYS_WITHOUT_FILTER = 31
MAX_LIMIT = 1000


def record(
    officer: Officer,
    action: str,
    *,
    case_ref: str,
    reason: str,
    now: datetime,
    registration_ids: Iterable[str] = (),
    detail: Optional[Dict[str, Any]] = None,
) -> str:
    """Append one entry; raises ServiceUnavailable (and so fails the caller) if it cannot."""
    entry_id = secrets.token_hex(10)
    entry = AuditEntry(
        officer.username,
        f"{_key(now)}#{entry_id}",
        entry_id=entry_id,
        at=now,
        day=now.strftime("%Y-%m-%d"),
        action=action,
        officer_sub=officer.sub,
        case_ref=case_ref,
        reason=reason,
        detail=detail or {},
        registration_ids=list(registration_ids),
    )
    try:
        entry.save(condition=AuditEntry.entry_key.does_not_exist())
    except PynamoDBException:
        raise ServiceUnavailable(
            "The audit log cannot be written right now, so nothing was shown. Please try again."
        ) from None
    return entry_id


class AuditQuery(Schema):
    """Query-string filters (all text): at least an officer, a case reference or a time range."""

    model_config = Schema.model_config | {"strict": False}

    officer: Optional[str] = Field(default=None, min_length=1, max_length=128)
    case_ref: Optional[str] = Field(default=None, min_length=1, max_length=64)
    from_: Optional[datetime] = Field(default=None, alias="from")
    to: Optional[datetime] = None
    limit: int = Field(default=200, ge=1, le=MAX_LIMIT)

    @field_validator("from_", "to")
    @classmethod
    def _aware(cls, value: Optional[datetime]) -> Optional[datetime]:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-11-21T09:00:00Z")
        return value


def search_log(params: Optional[Dict[str, str]], supervisor: Officer, now: datetime) -> Dict[str, Any]:
    """Entries matching the filters, newest first. Reading the log is itself logged."""
    query = parse(AuditQuery, dict(params or {}))
    start = query.from_ or (now - timedelta(days=MAX_DAYS_WITHOUT_FILTER))
    end = query.to or now
    if end < start:
        raise ValidationError("The time range is back to front.", {"to": "Must be after 'from'."})
    low, high = _key(start), _key(end) + "~"
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
        "read_audit",
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
    }


def _key(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _take(items: Iterable[AuditEntry], limit: int) -> List[AuditEntry]:
    taken: List[AuditEntry] = []
    for item in items:
        taken.append(item)
        if len(taken) > limit:
            break
    return taken
