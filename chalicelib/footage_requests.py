"""Footage requests: an officer asks owners near an incident for footage; owners answer.

A request's status moves ``sent → uploading → responded | declined | expired``; every move out
of an open status is a conditional update, so a late answer and the expiry cannot both win.
The deadline is when the owner's recorder would overwrite the footage (end of the incident
window + the owner's retention days) less a safety margin, or the officer's reply-by if sooner.
"""
from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple

from pydantic import Field, field_validator
from pynamodb.exceptions import PutError, UpdateError

from chalicelib import audit
from chalicelib.auth import Officer
from chalicelib.config import Config
from chalicelib.errors import Conflict, Gone, NotFound, ValidationError
from chalicelib.models import EvidenceItem, FootageRequest, Registration, condition_failed
from chalicelib.registrations import ACTIVE, Notify, iso
from chalicelib.validation import CASE_REF_PATTERN, Schema, check_case_ref, check_time, clean_text, parse, parse_time

SENT = "sent"
UPLOADING = "uploading"
RESPONDED = "responded"
DECLINED = "declined"
EXPIRED = "expired"
OPEN = (SENT, UPLOADING)

MAX_REGISTRATIONS_PER_CALL = 100
MAX_WINDOW = timedelta(hours=72)


class IncidentIn(Schema):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    from_: str = Field(alias="from", max_length=40)
    to: str = Field(max_length=40)
    summary: str = Field(min_length=10, max_length=1000)

    _summary = field_validator("summary")(clean_text)
    _times = field_validator("from_", "to")(check_time)


class FootageRequestIn(Schema):
    case_ref: str = Field(min_length=1, max_length=64)
    registration_ids: List[str] = Field(min_length=1, max_length=MAX_REGISTRATIONS_PER_CALL)
    incident: IncidentIn
    reply_by: Optional[str] = Field(default=None, max_length=40)
    reason: str = Field(min_length=3, max_length=500)

    _reason = field_validator("reason")(clean_text)
    _case_ref = field_validator("case_ref")(check_case_ref)
    _reply_by = field_validator("reply_by")(check_time)


class DeclineIn(Schema):
    reason: Optional[str] = Field(default=None, max_length=500)

    _reason = field_validator("reason")(lambda value: clean_text(value) or None)  # blank: none given


class CompleteIn(Schema):
    pass


def request_id_for(case_ref: str, registration_id: str) -> str:
    """Asking twice for the same case and registration names the same request."""
    digest = hashlib.sha256(f"footage-request\0{case_ref}\0{registration_id}".encode()).digest()
    return "q" + base64.b32encode(digest[:15]).decode("ascii").lower()


def deadline_for(registration: Registration, incident_to: datetime, reply_by: Optional[datetime], config: Config) -> datetime:
    retention = registration.retention_days or config.default_retention_days
    overwritten = incident_to + timedelta(days=int(retention))
    deadline = overwritten - timedelta(hours=config.request_safety_margin_hours)
    return min(deadline, reply_by) if reply_by else deadline


# ---------------------------------------------------------------------------------------------
# Officer side


def create_requests(payload: Any, officer: Officer, *, config: Config, notify: Notify, workflow: Any, now: datetime) -> Tuple[int, Dict[str, Any]]:
    """One request per registration. Returns (HTTP status, body): 201 if any request stands."""
    data = parse(FootageRequestIn, payload)
    incident_from, incident_to = parse_time(data.incident.from_), parse_time(data.incident.to)
    reply_by = parse_time(data.reply_by) if data.reply_by else None
    _check_window(incident_from, incident_to, reply_by, now)
    wanted = list(dict.fromkeys(data.registration_ids))
    found = {item.registration_id: item for item in Registration.batch_get(wanted) if item.status == ACTIVE} if wanted else {}
    audit.record(
        officer, "request_footage", case_ref=data.case_ref, reason=data.reason, now=now,
        registration_ids=sorted(found), detail={"incident": {"lat": data.incident.lat, "lon": data.incident.lon, "from": iso(incident_from), "to": iso(incident_to)}},
    )
    created: List[Dict[str, Any]] = []
    refused: List[Dict[str, Any]] = []
    for registration_id in wanted:
        registration = found.get(registration_id)
        if registration is None:
            refused.append(_refusal(registration_id, 404, "not_found", "There is no active registration with this id."))
            continue
        deadline = deadline_for(registration, incident_to, reply_by, config)
        if deadline <= now:
            refused.append(_refusal(
                registration_id, 409, "conflict",
                f"Too late: this owner's recorder keeps footage for {registration.retention_days or config.default_retention_days} "
                f"days, so footage of this incident has probably been overwritten (deadline {iso(deadline)}).",
            ))
            continue
        item = _create_one(data, officer, registration, incident_from, incident_to, reply_by, deadline, now, config)
        _send_and_start(item, notify, workflow, now)
        created.append(officer_view(item))
    status = 201 if created else 409
    return status, {"case_ref": data.case_ref, "requests": created, "refused": refused}


def list_for_case(case_ref: Optional[str]) -> Dict[str, Any]:
    if not case_ref or not re.fullmatch(CASE_REF_PATTERN, case_ref) or len(case_ref) > 64:
        raise ValidationError("Give the case reference.", {"case_ref": "This is required."})
    items = list(FootageRequest.by_case.query(case_ref))
    return {"case_ref": case_ref, "requests": [officer_view(item, _evidence(item.request_id)) for item in items]}


def get_for_officer(request_id: str) -> Dict[str, Any]:
    item = _find(request_id)
    evidence = _evidence(request_id)
    return {**officer_view(item, evidence), "evidence": [evidence_view(e) for e in evidence if e.status == "accepted"]}


def officer_view(item: FootageRequest, evidence: Optional[List[EvidenceItem]] = None) -> Dict[str, Any]:
    view = {
        "request_id": item.request_id,
        "registration_id": item.registration_id,
        "case_ref": item.case_ref,
        "status": item.status,
        "deadline": iso(item.deadline),
        "reminder_at": iso(item.reminder_at),
        "incident": {"from": iso(item.incident_from), "to": iso(item.incident_to), "summary": item.summary,
                     "lat": float(item.lat), "lon": float(item.lon)},
        "officer": item.officer,
        "created_at": iso(item.created_at),
        "answered_at": iso(item.answered_at) if item.answered_at else None,
        "decline_reason": item.decline_reason,
    }
    if evidence is not None:
        view["evidence_count"] = sum(1 for e in evidence if e.status == "accepted")
        view["quarantined_count"] = sum(1 for e in evidence if e.status != "accepted")
    return view


def evidence_view(item: EvidenceItem) -> Dict[str, Any]:
    return {
        "evidence_id": item.evidence_id,
        "filename": item.filename,
        "size": int(item.size),
        "content_type": item.content_type,
        "sha256": item.sha256,
        "uploaded_at": iso(item.uploaded_at),
        "status": item.status,
        "problem": item.problem,
    }


# ---------------------------------------------------------------------------------------------
# Owner side


def owner_view(request_id: str, config: Config, now: datetime) -> Dict[str, Any]:
    item = check_session_open(request_id, now)
    return {
        "request_id": item.request_id,
        "status": _effective_status(item, now),
        "force_name": config.force_name,
        "case_ref": item.case_ref,
        "incident": {"from": iso(item.incident_from), "to": iso(item.incident_to), "summary": item.summary, "area": item.area},
        "deadline": iso(item.deadline),
        "max_file_bytes": config.max_multipart_bytes,
        "allowed_content_types": list(config.allowed_content_types),
        "uploads": [evidence_view(e) for e in _evidence(request_id)],
    }


def for_owner_export(registration_ids: List[str]) -> List[Dict[str, Any]]:
    """The requests made to these registrations and what was uploaded, for the owner's export."""
    exported = []
    for registration_id in registration_ids:
        for item in FootageRequest.by_registration.query(registration_id):
            exported.append({
                "request_id": item.request_id,
                "registration_id": registration_id,
                "case_ref": item.case_ref,
                "status": item.status,
                "incident": {"from": iso(item.incident_from), "to": iso(item.incident_to), "summary": item.summary},
                "deadline": iso(item.deadline),
                "answered_at": iso(item.answered_at) if item.answered_at else None,
                "decline_reason": item.decline_reason,
                "uploads": [evidence_view(e) for e in _evidence(item.request_id)],
            })
    return exported


def open_for_upload(request_id: str, now: datetime) -> FootageRequest:
    """The request, if its owner may still upload to it; 410 otherwise."""
    item = _find(request_id)
    status = _effective_status(item, now)
    if status == RESPONDED:
        raise Conflict("You have already told the officer your footage is ready.")
    if status not in OPEN:
        raise Gone(_closed_message(status))
    return item


def note_upload_started(item: FootageRequest, now: datetime) -> None:
    item.update(actions=[FootageRequest.uploads_started.add(1), FootageRequest.updated_at.set(now)])


def complete(request_id: str, payload: Any, *, notify: Notify, workflow: Any, now: datetime) -> Dict[str, str]:
    parse(CompleteIn, payload or {})
    item = open_for_upload(request_id, now)
    if not item.uploads_started and not _evidence(request_id):
        raise Conflict("Upload at least one file, or tell us you have no footage.")
    _answer(item, RESPONDED, now)
    workflow.answered(item)
    notify({"type": "footage_complete", "request_id": request_id})
    return {"status": RESPONDED}


def decline(request_id: str, payload: Any, *, notify: Notify, workflow: Any, now: datetime) -> Dict[str, str]:
    data = parse(DeclineIn, payload or {})
    item = _find(request_id)
    status = _effective_status(item, now)
    if status not in OPEN:
        raise Gone(_closed_message(status))
    _answer(item, DECLINED, now, decline_reason=data.reason)
    workflow.answered(item)
    notify({"type": "footage_declined", "request_id": request_id})
    return {"status": DECLINED}


def check_session_open(request_id: str, now: datetime) -> FootageRequest:
    """A request session works until the deadline, expiry or decline (410 after)."""
    item = _find(request_id)
    status = _effective_status(item, now)
    if status in (DECLINED, EXPIRED):
        raise Gone(_closed_message(status))
    return item


# ---------------------------------------------------------------------------------------------
# Workflow side (called by the workflow handler and housekeeping)


def expire(request_id: str, now: datetime) -> bool:
    """Mark an unanswered request expired; False if the owner answered first."""
    try:
        FootageRequest(request_id).update(
            actions=[FootageRequest.status.set(EXPIRED), FootageRequest.updated_at.set(now)],
            condition=FootageRequest.status.is_in(*OPEN),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def mark_uploading(request_id: str, now: datetime) -> None:
    try:
        FootageRequest(request_id).update(
            actions=[FootageRequest.status.set(UPLOADING), FootageRequest.updated_at.set(now)],
            condition=FootageRequest.status == SENT,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def overdue(now: datetime) -> List[str]:
    """Open requests past their deadline (a backstop should a workflow execution fail)."""
    return [
        item.request_id
        for item in FootageRequest.scan(FootageRequest.status.is_in(*OPEN) & (FootageRequest.deadline < now))
    ]


def find(request_id: str) -> Optional[FootageRequest]:
    try:
        return FootageRequest.get(request_id, consistent_read=True)
    except FootageRequest.DoesNotExist:
        return None


# ---------------------------------------------------------------------------------------------


def _check_window(incident_from: datetime, incident_to: datetime, reply_by: Optional[datetime], now: datetime) -> None:
    fields = {}
    if incident_to <= incident_from:
        fields["incident.to"] = "Must be after 'from'."
    elif incident_to - incident_from > MAX_WINDOW:
        fields["incident.to"] = "Ask for at most 72 hours of footage at a time."
    if incident_from > now + timedelta(minutes=5):
        fields["incident.from"] = "Must not be in the future."
    if reply_by is not None and reply_by <= now:
        fields["reply_by"] = "Must be in the future."
    if fields:
        raise ValidationError("Some of the details need correcting.", fields)


def _create_one(data, officer, registration, incident_from, incident_to, reply_by, deadline, now, config) -> FootageRequest:
    request_id = request_id_for(data.case_ref, registration.registration_id)
    reminder_at = now + (deadline - now) * config.reminder_fraction
    item = FootageRequest(
        request_id,
        case_ref=data.case_ref,
        registration_id=registration.registration_id,
        officer=officer.username,
        officer_sub=officer.sub,
        incident_from=incident_from,
        incident_to=incident_to,
        summary=data.incident.summary,
        lat=data.incident.lat,
        lon=data.incident.lon,
        area=_area(registration),
        reason=data.reason,
        reply_by=reply_by,
        deadline=deadline,
        reminder_at=reminder_at,
        status=SENT,
        created_at=now,
        updated_at=now,
    )
    try:
        item.save(condition=FootageRequest.request_id.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise
        item = FootageRequest.get(request_id, consistent_read=True)
    return item


def _send_and_start(item: FootageRequest, notify: Notify, workflow: Any, now: datetime) -> None:
    """Email the owner and start the timer, each once: a retried request redoes only what a
    crash left undone."""
    if not item.owner_notified:
        notify({"type": "footage_request", "request_id": item.request_id})
        item.update(actions=[FootageRequest.owner_notified.set(True)])
    if not item.workflow_started and item.status in OPEN:
        workflow.start(item, now)
        item.update(actions=[FootageRequest.workflow_started.set(True)])


def _answer(item: FootageRequest, status: str, now: datetime, decline_reason: Optional[str] = None) -> None:
    actions = [FootageRequest.status.set(status), FootageRequest.answered_at.set(now), FootageRequest.updated_at.set(now)]
    if decline_reason:
        actions.append(FootageRequest.decline_reason.set(decline_reason))
    try:
        item.update(actions=actions, condition=FootageRequest.status.is_in(*OPEN) & (FootageRequest.deadline > now))
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        item.refresh(consistent_read=True)
        raise Gone(_closed_message(_effective_status(item, now))) from None


def _effective_status(item: FootageRequest, now: datetime) -> str:
    if item.status in OPEN and item.deadline <= now:
        return EXPIRED
    return item.status


def _closed_message(status: str) -> str:
    return {
        DECLINED: "You told us you have no footage to share, so this request has closed.",
        EXPIRED: "This request has closed: its deadline has passed.",
        RESPONDED: "You have already told the officer your footage is ready.",
    }.get(status, "This request has closed.")


def _refusal(registration_id: str, status: int, code: str, message: str) -> Dict[str, Any]:
    return {"registration_id": registration_id, "status": status, "error": {"code": code, "message": message}}


def _area(registration: Registration) -> str:
    """A rough area for the owner's page: the postcode district, never the exact address."""
    district = registration.address.postcode.split(" ")[0]
    return f"near {registration.address.town}, {district}"


def _evidence(request_id: str) -> List[EvidenceItem]:
    return list(EvidenceItem.by_request.query(request_id))


def _find(request_id: str) -> FootageRequest:
    missing = NotFound("There is no such request.")
    if not re.fullmatch(r"q[a-z0-9]{24}", request_id or ""):
        raise missing
    item = find(request_id)
    if item is None:
        raise missing
    return item
