"""The append-only audit log's writer: who consulted or disclosed personal data, when, and why.

Every officer look at personal data is written here *before* the data is returned; if the
write fails, the look fails (nobody sees personal data without a trace). Supervisors read the
log through ``chalicelib.investigations.audit_log``.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from enum import Enum
from typing import Any, Dict, Iterable, Optional

from pynamodb.attributes import ListAttribute, MapAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.base.errors import ServiceUnavailable
from chalicelib.base.ids import iso_micro
from chalicelib.base.officers import Officer
from chalicelib.base.store import Table, TableMeta, table


class Action(str, Enum):
    """Every kind of entry the log holds (the value is what is stored)."""

    SEARCH = "search"
    VIEW_SEARCH = "view_search"
    REQUEST_FOOTAGE = "request_footage"
    LIST_REQUESTS = "list_requests"
    VIEW_REQUEST = "view_request"
    DOWNLOAD_EVIDENCE = "download_evidence"
    OPEN_CASE = "open_case"
    LIST_CASES = "list_cases"
    VIEW_CASE = "view_case"
    CHANGE_CASE = "change_case"
    ADD_TEAM_MEMBER = "add_team_member"
    REMOVE_TEAM_MEMBER = "remove_team_member"
    READ_AUDIT = "read_audit"


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
    """Append-only record of one consultation or disclosure of personal data.

    PK: ``officer`` (Cognito username); SK: ``entry_key`` = ``<ISO 8601 UTC time>#<entry_id>``,
    so an officer's entries read in time order and a time range is one ``BETWEEN``.
    Entries are only ever put with ``attribute_not_exists``; nothing updates or deletes them
    (the deployed functions' IAM policies grant no UpdateItem or DeleteItem on this table).
    """

    class Meta(metaclass=TableMeta):
        table = "audit"

    officer = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
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

    by_case = AuditByCase()
    by_day = AuditByDay()


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
    """Append one entry naming every registration, request and evidence item the answer shows;
    raises ServiceUnavailable (and so fails the caller) if it cannot."""
    entry_id = secrets.token_hex(10)
    entry = AuditEntry(
        officer.username,
        f"{iso_micro(now)}#{entry_id}",
        entry_id=entry_id,
        at=now,
        day=now.strftime("%Y-%m-%d"),
        action=Action(action).value,
        officer_sub=officer.sub,
        case_ref=case_ref,
        reason=reason,
        detail=detail or {},
        registration_ids=list(registration_ids),
        request_ids=list(request_ids),
        evidence_ids=list(evidence_ids),
    )
    try:
        entry.save(condition=AuditEntry.entry_key.does_not_exist())
    except PynamoDBException:
        raise ServiceUnavailable(
            "The audit log cannot be written right now, so nothing was shown. Please try again."
        ) from None
    return entry_id
