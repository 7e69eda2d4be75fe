"""What owners see and do with the footage requests made to them, and everything held about
them: sessions opened from an emailed link, the request page, answers, and the data export.

An owner's link opens either all their registrations (a manage link, ``registry.owners``) or
one footage request (a respond link, reusable until the request's deadline): exchanging a link
for a session is decided here, the lowest package that knows both.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

from pynamodb.exceptions import UpdateError

from chalicelib.base import tokens
from chalicelib.base.config import Config
from chalicelib.base.errors import Conflict, Gone, NotFound, Unauthorized
from chalicelib.base.ids import iso, iso_ms
from chalicelib.base.store import condition_failed
from chalicelib.base.messages import Notify
from chalicelib.base.validation import TokenIn, parse
from chalicelib.footage import exhibits, requests, statements
from chalicelib.footage.requests import Timer
from chalicelib.footage.schemas import CompleteIn, DeclineIn
from chalicelib.footage.tables import DECLINED, EXPIRED, OPEN, RESPONDED, FootageRequest
from chalicelib.registry import index, owners, records
from chalicelib.registry.tables import ACTIVE
from chalicelib.registry.views import owner_view as registration_view


def open_session(payload: Any, *, config: Config, now: datetime) -> Dict[str, Any]:
    """Exchange an emailed link's token for a short session.

    A manage link (single use) opens the owner's registrations; a footage request's link
    (reusable until the request's deadline) opens that one request, until its deadline.
    """
    token = parse(TokenIn, payload).token
    session = owners.open_session(token, config=config, now=now)
    if session is not None:
        return session
    grant = tokens.peek(token, tokens.RESPOND, now)
    if grant is not None:
        request = check_session_open(grant.subject, now)
        session, expires_at = tokens.mint(tokens.REQUEST_SESSION, grant.subject, request.deadline - now, now)
        return {"session": session, "expires_at": iso(expires_at), "scope": "request", "request_id": grant.subject}
    raise Gone("This link has expired or has already been used. Ask for a new one.")


def request_for(session: str, request_id: str, now: datetime) -> str:
    """The footage request a request session opens; Unauthorized without one, NotFound for
    another request.

    Whether the request is still open (Gone if not) is for the operation to say: each reads the
    request anyway, so checking here too would read it twice.
    """
    grant = tokens.peek(session, tokens.REQUEST_SESSION, now)
    if grant is None:
        raise Unauthorized("Your session has ended. Open the link in your email again.")
    if grant.subject != request_id:
        raise NotFound("There is no such request.")
    return request_id


def check_session_open(request_id: str, now: datetime) -> FootageRequest:
    """A request session works until the deadline, expiry or decline (Gone after)."""
    item = requests.get(request_id)
    status = requests.effective_status(item, now)
    if status in (DECLINED, EXPIRED):
        raise Gone(requests.closed_message(status))
    return item


def request_page(request_id: str, config: Config, now: datetime) -> Dict[str, Any]:
    """What the owner's page shows of the request and of what they have uploaded."""
    item = check_session_open(request_id, now)
    registration = records.find(item.registration_id)
    return {
        "request_id": item.request_id,
        "status": requests.effective_status(item, now),
        "force_name": config.force_name,
        "case_ref": item.case_ref,
        "incident": {"from": iso(item.incident_from), "to": iso(item.incident_to), "summary": item.summary, "area": item.area},
        "deadline": iso(item.deadline),
        "max_file_bytes": config.max_multipart_bytes,
        "allowed_content_types": list(config.allowed_content_types),
        "uploads": [requests.evidence_view(e) for e in requests.evidence_of(request_id)],
        "server_time": iso_ms(now),
        "force_timezone": config.force_timezone,
        "cameras": statements.cameras_of(registration),
        "statement": statements.view(item.statement),
        "declaration_text": statements.DECLARATION_TEXT,
        "receipt_sent": bool(item.receipt_sent),
    }


def save_statement(request_id: str, payload: Any, *, config: Config, now: datetime) -> Dict[str, Any]:
    """The owner's statement, kept with the request (replacing an earlier one while it is open);
    files accepted before it are given their exhibit references now."""
    item = open_for_upload(request_id, now)
    registration = records.find(item.registration_id)
    stored = statements.build(payload, camera_count=len(statements.cameras_of(registration)), config=config, now=now)
    try:
        item.update(
            actions=[FootageRequest.statement.set(stored), FootageRequest.statement_at.set(now),
                     FootageRequest.updated_at.set(now)],
            condition=FootageRequest.status.is_in(*OPEN),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        open_for_upload(request_id, now)  # closed meanwhile: say how
        raise
    for evidence_item in requests.evidence_of(request_id):
        exhibits.assign(evidence_item, stored["name"], config=config, now=now)
    return statements.view(stored)


def open_for_upload(request_id: str, now: datetime, item: Optional[FootageRequest] = None) -> FootageRequest:
    """The request, if its owner may still upload to it; Gone (or Conflict) otherwise."""
    item = item if item is not None else requests.get(request_id)
    status = requests.effective_status(item, now)
    if status == RESPONDED:
        raise Conflict(requests.closed_message(RESPONDED))
    if status not in OPEN:
        raise Gone(requests.closed_message(status))
    return item


def complete(request_id: str, payload: Any, *, notify: Notify, timer: Timer, now: datetime) -> Dict[str, str]:
    """The owner has finished uploading. Saying so again after a failure redoes only what the
    failure left undone (ending the timer, telling the officer); once all is done it is 409."""
    parse(CompleteIn, payload or {})
    item = requests.get(request_id)
    if item.status != RESPONDED or item.officer_told is not False:
        item = open_for_upload(request_id, now, item)
        if not item.uploads_started and not requests.evidence_of(request_id):
            raise Conflict("Upload at least one file, or tell us you have no footage.")
        if item.statement is None:
            raise Conflict("Fill in 'About your footage' and save it before you finish.",
                           {"statement": "Tell us about your footage and check your recorder's clock first."})
        requests.answer(item, RESPONDED, now)
    timer.answered(item)
    requests.tell_officer(item, notify)
    _send_receipt(item, notify)
    return {"status": RESPONDED}


def _send_receipt(item: FootageRequest, notify: Notify) -> None:
    """The owner's emailed receipt of every accepted file, queued once (a file checked after
    this gets its own, from the ingest)."""
    if item.receipt_sent:
        return
    notify({"type": "receipt", "request_id": item.request_id})
    item.update(actions=[FootageRequest.receipt_sent.set(True)])


def decline(request_id: str, payload: Any, *, notify: Notify, timer: Timer, now: datetime) -> Dict[str, str]:
    """The owner has no footage to share. Saying so again after a failure redoes only what
    the failure left undone; once all is done the request is closed (410)."""
    data = parse(DeclineIn, payload or {})
    item = requests.get(request_id)
    if item.status != DECLINED or item.officer_told is not False:
        status = requests.effective_status(item, now)
        if status not in OPEN:
            raise Gone(requests.closed_message(status))
        requests.answer(item, DECLINED, now, decline_reason=data.reason)
    timer.answered(item)
    requests.tell_officer(item, notify)
    return {"status": DECLINED}


def export(owner: str, now: datetime, config: Config) -> Dict[str, Any]:
    """Everything Sightline holds about the owner (``owner``: the keyed hash of their email)."""
    items = records.owned(owner, now)
    return {
        "email": sorted({item.email for item in items}),
        "generated_at": iso(now),
        "registrations": [registration_view(item) for item in items],
        "search_index": [
            {
                "registration_id": item.registration_id,
                "cell": index.keys(item)[0],
                "location": {"lat": float(item.location.lat), "lon": float(item.location.lon)},
            }
            for item in items
            if item.status == ACTIVE
        ],
        "footage_requests": _requests_made_to([item.registration_id for item in items]),
        "pseudonyms": {
            "owner": owner,
            "note": (
                "Your sign-in links, sessions and registrations name you by this code, made from "
                "your email address with a secret key; it cannot be turned back into your address. "
                "Each registration also holds a code made the same way from your email address "
                "and its address, so that registering the same premises twice makes one "
                "registration; and we count the emails we send you that anyone could ask for "
                f"(at most {config.public_emails_per_hour} an hour and {config.public_emails_per_day} "
                "a day) under such a code, kept for a day."
            ),
        },
        "note": (
            "Sightline also keeps short-lived sign-in links and sessions for you, stored only as "
            "scrambled (hashed) copies that cannot be turned back into a working link; they "
            "expire on their own. The police audit log keeps your registrations' reference "
            "numbers (not your name, address or contact details) for "
            f"{config.audit_retention_days // 365} years, as the record of every time an officer "
            "looked at them. Footage you upload, your statement about it (under footage_requests) "
            "and each file's chain of custody are police evidence: kept while the case is open and "
            f"for {config.evidence_retention_days // 365} years after it closes, even if you delete "
            "your registration."
        ),
    }


def _requests_made_to(registration_ids: List[str]) -> List[Dict[str, Any]]:
    """The requests made to these registrations and what was uploaded."""
    return [
        {
            "request_id": item.request_id,
            "registration_id": registration_id,
            "case_ref": item.case_ref,
            "status": item.status,
            "incident": {"from": iso(item.incident_from), "to": iso(item.incident_to), "summary": item.summary},
            "deadline": iso(item.deadline),
            "answered_at": iso(item.answered_at) if item.answered_at else None,
            "decline_reason": item.decline_reason,
            "statement": statements.view(item.statement),
            "uploads": [requests.evidence_view(e) for e in requests.evidence_of(item.request_id)],
        }
        for registration_id in registration_ids
        for item in requests.for_registration(registration_id)
    ]
