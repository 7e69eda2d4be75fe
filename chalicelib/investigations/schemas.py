"""What officers and supervisors send."""
from __future__ import annotations

from datetime import datetime
from typing import List, Literal, Optional

from pydantic import Field, field_validator

from chalicelib.base.validation import (
    CASE_REF_MAX,
    Latitude,
    Longitude,
    Schema,
    check_case_ref,
    check_time,
    clean_text,
    optional_text,
)

MAX_RESULTS = 2000
DEFAULT_RESULTS = 500
MAX_REGISTRATIONS_PER_CALL = 100
MAX_AUDIT_ENTRIES = 1000


class SearchFilters(Schema):
    """What an officer narrows a search to; applied before the results are counted, capped and shown."""

    # Only cameras pointing towards the incident point (cameras of unknown direction are kept).
    towards: bool = False
    # Either side of the bearing to the point; the force's setting when not given.
    towards_within_deg: Optional[int] = Field(default=None, ge=1, le=180)
    # Only registrations whose footage of the incident time is still held now.
    held_at_incident: bool = False
    premises: Optional[Literal["business", "home"]] = None


class SearchIn(Schema):
    lat: Latitude
    lon: Longitude
    radius_m: float = Field(ge=10, le=5000, allow_inf_nan=False)
    case_ref: str = Field(min_length=1, max_length=CASE_REF_MAX)
    reason: str = Field(min_length=3, max_length=500)
    incident_time: Optional[str] = Field(default=None, max_length=40)
    limit: int = Field(default=DEFAULT_RESULTS, ge=1, le=MAX_RESULTS)
    # Only for a reference that is not a case yet: the search opens it, in the officer's charge.
    category: Optional[str] = Field(default=None, min_length=1, max_length=100)
    case_summary: Optional[str] = Field(default=None, max_length=500)
    filters: Optional[SearchFilters] = None

    _case_summary = field_validator("case_summary")(optional_text)

    _reason = field_validator("reason")(clean_text)
    _case_ref = field_validator("case_ref")(check_case_ref)
    _incident_time = field_validator("incident_time")(check_time)


class IncidentIn(Schema):
    lat: Latitude
    lon: Longitude
    from_: str = Field(alias="from", max_length=40)
    to: str = Field(max_length=40)
    summary: str = Field(min_length=10, max_length=1000)

    _summary = field_validator("summary")(clean_text)
    _times = field_validator("from_", "to")(check_time)


class FootageRequestIn(Schema):
    case_ref: str = Field(min_length=1, max_length=CASE_REF_MAX)
    registration_ids: List[str] = Field(min_length=1, max_length=MAX_REGISTRATIONS_PER_CALL)
    incident: IncidentIn
    reply_by: Optional[str] = Field(default=None, max_length=40)
    reason: str = Field(min_length=3, max_length=500)

    _reason = field_validator("reason")(clean_text)
    _case_ref = field_validator("case_ref")(check_case_ref)
    _reply_by = field_validator("reply_by")(check_time)


class ReasonQuery(Schema):
    """Why an officer opens something again (a query string)."""

    model_config = Schema.model_config | {"strict": False}

    reason: str = Field(min_length=3, max_length=500)

    _reason = field_validator("reason")(clean_text)


class DownloadIn(Schema):
    reason: str = Field(min_length=3, max_length=500)

    _reason = field_validator("reason")(clean_text)


class AuditQuery(Schema):
    """Query-string filters (all text): an officer, a case reference or a registration, and a time range."""

    model_config = Schema.model_config | {"strict": False}

    officer: Optional[str] = Field(default=None, min_length=1, max_length=128)
    case_ref: Optional[str] = Field(default=None, min_length=1, max_length=CASE_REF_MAX)
    # The entries that showed this registration (ids are lowercase letters and digits).
    registration_id: Optional[str] = Field(default=None, pattern=r"^[a-z0-9]{1,64}$")
    from_: Optional[datetime] = Field(default=None, alias="from")
    to: Optional[datetime] = None
    limit: int = Field(default=200, ge=1, le=MAX_AUDIT_ENTRIES)

    @field_validator("from_", "to")
    @classmethod
    def _aware(cls, value: Optional[datetime]) -> Optional[datetime]:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-11-21T09:00:00Z")
        return value


class CaseIn(Schema):
    case_ref: str = Field(min_length=1, max_length=CASE_REF_MAX)
    category: str = Field(min_length=1, max_length=100)
    summary: Optional[str] = Field(default=None, max_length=500)

    _case_ref = field_validator("case_ref")(check_case_ref)
    _summary = field_validator("summary")(optional_text)


class CasePatch(Schema):
    category: Optional[str] = Field(default=None, min_length=1, max_length=100)
    summary: Optional[str] = Field(default=None, max_length=500)
    status: Optional[Literal["open", "closed"]] = None
    hold: Optional[bool] = None

    _summary = field_validator("summary")(optional_text)


class TeamMemberIn(Schema):
    username: str = Field(min_length=1, max_length=128, pattern=r"^[\w.@+-]+$")


class AuditPage(AuditQuery):
    """The audit log's filters, and ``before``: the ``next`` of the previous page (opaque)."""

    before: Optional[str] = Field(default=None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")


class AuditExport(AuditQuery):
    """The filters of a CSV export: every matching entry, so no page size and no cursor."""

    limit: Literal[None] = None


class ExportIn(Schema):
    """An officer's request for a case export: who it is for (e.g. "CPS West Midlands"), and why."""

    recipient: str = Field(min_length=2, max_length=200)
    reason: str = Field(min_length=3, max_length=500)

    _text = field_validator("recipient", "reason")(clean_text)


class ExportLinksIn(Schema):
    reason: str = Field(min_length=3, max_length=500)

    _reason = field_validator("reason")(clean_text)
