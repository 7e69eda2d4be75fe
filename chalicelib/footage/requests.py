"""Footage requests as records: made, found, timed out, and shown.

A request's status moves ``sent → uploading → responded | declined | expired``; every move out
of an open status is a conditional update, so a late answer and the expiry cannot both win.
The deadline is when the owner's recorder would overwrite the footage (end of the incident
window + the owner's retention days) less a safety margin, or the officer's reply-by if sooner.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Protocol

from pynamodb.exceptions import UpdateError

from chalicelib.base.config import Config
from chalicelib.base.errors import Gone, NotFound
from chalicelib.base.ids import FOOTAGE_REQUEST, iso
from chalicelib.base.messages import Notify
from chalicelib.base.officers import Officer
from chalicelib.base.store import condition_failed, put_once
from chalicelib.footage import statements
from chalicelib.footage.tables import (
    ACCEPTED,
    DECLINED,
    EXPIRED,
    OPEN,
    RESPONDED,
    SENT,
    UPLOADING,
    EvidenceItem,
    FootageRequest,
)
from chalicelib.registry.tables import Registration
from chalicelib.registry.views import rough_area


class Timer(Protocol):
    """What a request needs of the workflow (``footage.workflow.Workflow``)."""

    def start(self, item: FootageRequest, now: datetime) -> None: ...

    def answered(self, item: FootageRequest) -> None: ...


@dataclass(frozen=True)
class Incident:
    lat: float
    lon: float
    start: datetime
    end: datetime
    summary: str


def request_id_for(case_ref: str, registration_id: str) -> str:
    """Asking twice for the same case and registration names the same request."""
    return FOOTAGE_REQUEST.derived("footage-request", case_ref, registration_id)


def retention_days(registration: Registration, config: Config) -> int:
    return int(registration.retention_days or config.default_retention_days)


def deadline_for(registration: Registration, incident_to: datetime, reply_by: Optional[datetime], config: Config) -> datetime:
    overwritten = incident_to + timedelta(days=retention_days(registration, config))
    deadline = overwritten - timedelta(hours=config.request_safety_margin_hours)
    return min(deadline, reply_by) if reply_by else deadline


def create(
    *, case_ref: str, registration: Registration, officer: Officer, incident: Incident, reason: str,
    reply_by: Optional[datetime], deadline: datetime, now: datetime, config: Config,
) -> FootageRequest:
    """The request for this case and registration: made now, or as made before."""
    request_id = request_id_for(case_ref, registration.registration_id)
    item = FootageRequest(
        request_id,
        case_ref=case_ref,
        registration_id=registration.registration_id,
        officer=officer.username,
        officer_sub=officer.sub,
        incident_from=incident.start,
        incident_to=incident.end,
        summary=incident.summary,
        lat=incident.lat,
        lon=incident.lon,
        area=rough_area(registration),
        reason=reason,
        reply_by=reply_by,
        deadline=deadline,
        reminder_at=now + (deadline - now) * config.reminder_fraction,
        status=SENT,
        created_at=now,
        updated_at=now,
    )
    put_once(item, FootageRequest.request_id)
    return item


def send_and_start(item: FootageRequest, notify: Notify, timer: Timer, now: datetime) -> None:
    """Email the owner and start the timer, each once: a retried request redoes only what a
    crash left undone."""
    if not item.owner_notified:
        notify({"type": "footage_request", "request_id": item.request_id})
        item.update(actions=[FootageRequest.owner_notified.set(True)])
    if not item.workflow_started and item.status in OPEN:
        timer.start(item, now)
        item.update(actions=[FootageRequest.workflow_started.set(True)])


def find(request_id: str) -> Optional[FootageRequest]:
    try:
        return FootageRequest.get(request_id, consistent_read=True)
    except FootageRequest.DoesNotExist:
        return None


def get(request_id: str) -> FootageRequest:
    """The request, or NotFound (without a read for an id of the wrong shape)."""
    item = find(request_id) if FOOTAGE_REQUEST.matches(request_id) else None
    if item is None:
        raise NotFound("There is no such request.")
    return item


def for_case(case_ref: str) -> List[FootageRequest]:
    return list(FootageRequest.by_case.query(case_ref))


def for_registration(registration_id: str) -> List[FootageRequest]:
    return list(FootageRequest.by_registration.query(registration_id))


def evidence_of(request_id: str) -> List[EvidenceItem]:
    return list(EvidenceItem.by_request.query(request_id))


def answer(item: FootageRequest, status: str, now: datetime, decline_reason: Optional[str] = None) -> None:
    """The owner's answer, unless the request closed first (then Gone, saying why)."""
    actions = [
        FootageRequest.status.set(status),
        FootageRequest.answered_at.set(now),
        FootageRequest.updated_at.set(now),
        FootageRequest.officer_told.set(False),
    ]
    if decline_reason:
        actions.append(FootageRequest.decline_reason.set(decline_reason))
    try:
        item.update(actions=actions, condition=FootageRequest.status.is_in(*OPEN) & (FootageRequest.deadline > now))
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        item.refresh(consistent_read=True)
        raise Gone(closed_message(effective_status(item, now))) from None


def expire(request_id: str, now: datetime) -> bool:
    """Mark an unanswered request expired; False if the owner answered first."""
    try:
        FootageRequest(request_id).update(
            actions=[
                FootageRequest.status.set(EXPIRED),
                FootageRequest.updated_at.set(now),
                FootageRequest.officer_told.set(False),
            ],
            condition=FootageRequest.status.is_in(*OPEN),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def mark_uploading(request_id: str, now: datetime) -> Optional[FootageRequest]:
    """The first accepted file moves a request from ``sent`` to ``uploading``; the request."""
    item = find(request_id)
    if item is None or item.status != SENT:
        return item
    try:
        item.update(
            actions=[FootageRequest.status.set(UPLOADING), FootageRequest.updated_at.set(now)],
            condition=FootageRequest.status == SENT,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        item.refresh(consistent_read=True)
    return item


def expire_overdue(now: datetime, notify: Notify) -> int:
    """A backstop for a workflow execution that failed: expire what is past its deadline."""
    expired = 0
    overdue = FootageRequest.scan(FootageRequest.status.is_in(*OPEN) & (FootageRequest.deadline < now))
    for request_id in [item.request_id for item in overdue]:
        if expire(request_id, now):
            expired += 1
        tell_officer(find(request_id), notify)
    return expired


# What the officer is told when a request closes, by how it closed.
_NOTICES = {RESPONDED: "footage_complete", DECLINED: "footage_declined", EXPIRED: "footage_expired"}


def tell_officer(item: Optional[FootageRequest], notify: Notify) -> bool:
    """Queue the officer's notice that the request closed, unless it has been queued already.

    The move that closes a request sets ``officer_told`` False in the same conditional update,
    so a retry after a failure between that move and this (the answer's route again, the timer's
    message redelivered, or housekeeping's :func:`tell_officers`) still tells the officer; a
    crash after the notice is queued and before it is marked may tell them twice, never not.
    """
    if item is None or item.officer_told is not False or item.status not in _NOTICES:
        return False
    notify({"type": _NOTICES[item.status], "request_id": item.request_id})
    try:
        item.update(actions=[FootageRequest.officer_told.set(True)], condition=FootageRequest.officer_told == False)  # noqa: E712
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
    return True


def tell_officers(now: datetime, notify: Notify, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Housekeeping's backstop: queue every closed request's notice still not queued after
    ``older_than`` (the route or handler that closed it failed after the move)."""
    waiting = FootageRequest.scan((FootageRequest.officer_told == False) & (FootageRequest.updated_at < now - older_than))  # noqa: E712
    return sum(1 for item in waiting if tell_officer(item, notify))


def forget_registration(registration_id: str, now: datetime) -> int:
    """The owner deleted their registration: keep the record of each request made to them and
    how it was answered, without what identified them (the area of their premises and their
    own words). A statement about accepted footage stays with it, as evidence."""
    forgotten = 0
    for item in for_registration(registration_id):
        if item.owner_deleted_at is not None:
            continue
        actions = [FootageRequest.area.remove(), FootageRequest.decline_reason.remove(), FootageRequest.owner_deleted_at.set(now)]
        if not any(e.status == ACCEPTED for e in evidence_of(item.request_id)):
            # A statement about footage that never became evidence is only the owner's words.
            actions.append(FootageRequest.statement.remove())
        item.update(actions=actions)
        forgotten += 1
    return forgotten


def effective_status(item: FootageRequest, now: datetime) -> str:
    if item.status in OPEN and item.deadline <= now:
        return EXPIRED
    return item.status


def closed_message(status: str) -> str:
    return {
        DECLINED: "You told us you have no footage to share, so this request has closed.",
        EXPIRED: "This request has closed: its deadline has passed.",
        RESPONDED: "You have already told the officer your footage is ready.",
    }.get(status, "This request has closed.")


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
        "statement": statements.view(item.statement),
        # Declined, expired or "nothing recorded": kept on the case as relevant unused material.
        "unused_material": item.status in (DECLINED, EXPIRED),
        "owner_deleted": item.owner_deleted_at is not None,
    }
    if evidence is not None:
        view["evidence_count"] = sum(1 for e in evidence if e.status == ACCEPTED)
        view["quarantined_count"] = sum(1 for e in evidence if e.status != ACCEPTED)
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
        "exhibit_ref": item.exhibit_ref,
        "owner_sha256": item.owner_sha256,
        "hash_check": item.hash_check,
    }
