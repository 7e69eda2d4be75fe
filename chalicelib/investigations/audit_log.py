"""Reading the audit log: supervisors' and auditors' review of who looked at what, page by page
or as a CSV export, itself audited."""
from __future__ import annotations

import base64
import csv
import dataclasses
import io
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from chalicelib.base.audit import CHAIN, SEQ_DIGITS, Action, AuditEntry, AuditRegistration, record
from chalicelib.base.config import get_config
from chalicelib.base.errors import ValidationError
from chalicelib.base.ids import iso_micro
from chalicelib.base.officers import Officer
from chalicelib.base.store import BATCH_GET_KEYS
from chalicelib.base.validation import parse
from chalicelib.investigations.schemas import MAX_AUDIT_ENTRIES, AuditExport, AuditPage, AuditQuery

MAX_DAYS_WITHOUT_FILTER = 31
# An export holds every matching entry, at most this many (more is a 400: narrow the filters).
MAX_EXPORT_ROWS = MAX_AUDIT_ENTRIES
# Lambda answers at most 6 MB; keep the CSV well under it (an entry may name 500 registrations).
MAX_EXPORT_BYTES = 5_000_000
CSV_COLUMNS = ("entry_id", "at", "officer", "action", "case_ref", "reason",
               "registration_ids", "request_ids", "evidence_ids", "detail")
# OWASP "CSV Injection": a cell starting with one of these is run as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A page cursor decodes to an index sort key: <ISO 8601 UTC time>#<entry id or seq>.
_SORT_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[0-9a-f]{1,64}$")


@dataclasses.dataclass(frozen=True)
class Export:
    """A CSV export of the audit log: its file name and its text."""

    filename: str
    text: str
    rows: int


def search_log(params: Optional[Dict[str, str]], supervisor: Officer, now: datetime) -> Dict[str, Any]:
    """Entries matching the filters, newest first, a page of ``limit``; ``next`` (when more
    match) is the ``before`` of the next page. Reading the log is itself logged."""
    query = parse(AuditPage, dict(params or {}))
    entries, truncated = _select(query, query.limit, _cursor(query.before), now)
    record(
        supervisor,
        Action.READ_AUDIT,
        case_ref=query.case_ref or "-",
        reason="audit review",
        now=now,
        detail={"filters": {k: v for k, v in dict(params or {}).items()}},
    )
    page: Dict[str, Any] = {"entries": [view(e) for e in entries], "truncated": truncated}
    if truncated:
        page["next"] = _encode_cursor(_sort_key(entries[-1], by_registration=bool(query.registration_id)))
    return page


def export_log(params: Optional[Dict[str, str]], supervisor: Officer, now: datetime) -> Export:
    """Every entry matching the filters (the same as :func:`search_log` pages through), as CSV,
    newest first; at most ``MAX_EXPORT_ROWS``, else a 400 asking for narrower filters. The
    export is written to the log, with its filters and its row count, before it is returned."""
    filters = dict(params or {})
    query = parse(AuditExport, filters)
    entries, truncated = _select(query, MAX_EXPORT_ROWS, None, now)
    if truncated:
        raise _too_many(f"More than {MAX_EXPORT_ROWS} entries match")
    text = csv_of([view(e) for e in entries])
    if len(text.encode("utf-8")) > MAX_EXPORT_BYTES:
        raise _too_many("The matching entries make too large a file")
    record(
        supervisor,
        Action.EXPORT_AUDIT,
        case_ref=query.case_ref or "-",
        reason="audit export",
        now=now,
        detail={"filters": filters, "rows": len(entries)},
    )
    return Export(filename=f"sightline-audit-{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}.csv",
                  text=text, rows=len(entries))


def csv_of(rows: List[Dict[str, Any]]) -> str:
    """The rows as CSV (RFC 4180, every cell quoted, CRLF), one column per ``CSV_COLUMNS``; lists
    are space-separated, ``detail`` is JSON; every cell a spreadsheet would run is neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([neutralised(_cell(row[column])) for column in CSV_COLUMNS])
    return out.getvalue()


def neutralised(cell: str) -> str:
    """A cell a spreadsheet shows as text: one starting with ``= + - @``, a tab or a carriage
    return gets a leading single quote (OWASP), which spreadsheets do not display."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else str(value)


def _select(query: AuditQuery, limit: int, before: Optional[str], now: datetime) -> Tuple[List[AuditEntry], bool]:
    """Up to ``limit`` entries matching ``query``, newest first, older than the cursor
    ``before`` (an index sort key) if given, and whether more match."""
    now = now.astimezone(timezone.utc)
    start = (query.from_ or (now - timedelta(days=MAX_DAYS_WITHOUT_FILTER))).astimezone(timezone.utc)
    if query.registration_id and not query.from_:
        start = now - timedelta(days=get_config().audit_retention_days)
    end = (query.to or now).astimezone(timezone.utc)
    if end < start:
        raise ValidationError("The time range is back to front.", {"to": "Must be after 'from'."})
    if not (query.registration_id or query.officer or query.case_ref) and end - start > timedelta(
        days=MAX_DAYS_WITHOUT_FILTER
    ):
        raise ValidationError(
            f"Without an officer, case reference or registration, ask for at most {MAX_DAYS_WITHOUT_FILTER} days.",
            {"from": f"Must be within {MAX_DAYS_WITHOUT_FILTER} days of 'to'."},
        )
    low, high = iso_micro(start), iso_micro(end) + "~"
    if before is not None:
        high = min(high, before)  # inclusive in the query; the cursor's own entry is skipped
    if high < low:
        return [], False
    if query.registration_id:
        entries = _showing(query.registration_id, low, high, before, query, limit, now)
    elif query.officer:
        condition = AuditEntry.entry_key.between(low, high)
        filter_ = (AuditEntry.case_ref == query.case_ref) if query.case_ref else None
        items = AuditEntry.by_officer.query(query.officer, condition, filter_condition=filter_, scan_index_forward=False)
        entries = _take(items, limit, before, now)
    elif query.case_ref:
        items = AuditEntry.by_case.query(
            query.case_ref, AuditEntry.entry_key.between(low, high), scan_index_forward=False
        )
        entries = _take(items, limit, before, now)
    else:
        entries = []
        day = min(end.date(), datetime.fromisoformat(high[:10]).date())
        while day >= start.date() and len(entries) <= limit:
            items = AuditEntry.by_day.query(
                day.isoformat(), AuditEntry.entry_key.between(low, high), scan_index_forward=False
            )
            entries.extend(_take(items, limit + 1 - len(entries), before, now))
            day -= timedelta(days=1)
    return entries[:limit], len(entries) > limit


def _sort_key(entry: AuditEntry, *, by_registration: bool) -> str:
    """The entry's sort key in the index its page was read from (the cursor past it)."""
    if by_registration:
        return f"{iso_micro(entry.at)}#{int(entry.seq):0{SEQ_DIGITS}d}"
    return entry.entry_key


def _encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("ascii")).decode("ascii").rstrip("=")


def _cursor(before: Optional[str]) -> Optional[str]:
    if before is None:
        return None
    try:
        key = base64.urlsafe_b64decode(before + "=" * (-len(before) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        key = ""
    if not _SORT_KEY.match(key):
        raise ValidationError("Some of the details need correcting.",
                              {"before": "Must be the 'next' of a previous page."})
    return key


def _too_many(what: str) -> ValidationError:
    return ValidationError(
        f"{what}: narrow the filters or the time range of the export, or read the log page by page.",
        {"from": f"Narrow the time range so that at most {MAX_EXPORT_ROWS} entries match."},
    )


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


def _showing(registration_id: str, low: str, high: str, before: Optional[str], query: AuditQuery,
             limit: int, now: datetime) -> List[AuditEntry]:
    """Entries that showed a registration, newest first: its index items (one per entry), then
    the entries themselves, 100 keys per BatchGetItem. Officer and case filters apply to those
    (at most ``limit + 1`` are read)."""
    pointers = AuditRegistration.query(
        registration_id, AuditRegistration.entry_key.between(low, high), scan_index_forward=False
    )
    entries: List[AuditEntry] = []
    seqs: List[int] = []
    for pointer in pointers:
        if (pointer.expires_at is not None and pointer.expires_at <= now) or pointer.entry_key == before:
            continue
        seqs.append(int(pointer.seq))
        if len(seqs) == BATCH_GET_KEYS:
            entries.extend(_matching(seqs, query))
            seqs = []
        if len(entries) > limit:
            break
    entries.extend(_matching(seqs, query))
    # The index's order (time, then number), so that a page's cursor is the last one's key.
    entries.sort(key=lambda e: _sort_key(e, by_registration=True), reverse=True)
    return _take(entries, limit, None, now)


def _matching(seqs: List[int], query: AuditQuery) -> List[AuditEntry]:
    found = AuditEntry.batch_get([(CHAIN, seq) for seq in seqs]) if seqs else []
    return [e for e in found if (not query.officer or e.officer == query.officer)
            and (not query.case_ref or e.case_ref == query.case_ref)]


def _take(items: Iterable[AuditEntry], limit: int, before: Optional[str], now: datetime) -> List[AuditEntry]:
    """Up to ``limit + 1`` entries (one more says the answer is truncated), leaving out the
    cursor's own entry and those whose retention has ended and that DynamoDB's TTL has not
    deleted yet."""
    taken: List[AuditEntry] = []
    for item in items:
        if (item.expires_at is not None and item.expires_at <= now) or item.entry_key == before:
            continue
        taken.append(item)
        if len(taken) > limit:
            break
    return taken
