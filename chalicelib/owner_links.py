"""Owners' access without an account: emailed single-use links exchanged for short sessions."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Optional

from pydantic import Field, field_validator

from chalicelib import tokens
from chalicelib.config import Config
from chalicelib.errors import Gone, NotFound, Unauthorized
from chalicelib.registrations import Notify, TokenIn, iso, normalise_email, owner_key
from chalicelib.validation import Schema, parse


class ManageLinkIn(Schema):
    email: str = Field(min_length=3, max_length=254)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)


def request_manage_link(payload: Any, *, notify: Notify) -> None:
    """Queue a manage link for this email. The answer, and its timing, do not depend on
    whether the email is registered: the queue's handler decides whether to send anything."""
    data = parse(ManageLinkIn, payload)
    notify({"type": "manage_link", "email": owner_key(data.email)})


def open_session(payload: Any, *, config: Config, now: datetime) -> Dict[str, Any]:
    """Exchange an emailed link's token for a short session.

    A manage link (single use) opens the owner's registrations; a footage request's link
    (reusable until the request's deadline) opens that one request, until its deadline.
    """
    token = parse(TokenIn, payload).token
    grant = tokens.consume(token, tokens.MANAGE, now)
    if grant is not None:
        session, expires_at = tokens.mint(
            tokens.OWNER_SESSION, grant.subject, timedelta(minutes=config.owner_session_ttl_minutes), now
        )
        return {"session": session, "expires_at": iso(expires_at), "scope": "owner"}
    grant = tokens.peek(token, tokens.RESPOND, now)
    if grant is not None:
        from chalicelib import footage_requests

        request = footage_requests.check_session_open(grant.subject, now)
        session, expires_at = tokens.mint(tokens.REQUEST_SESSION, grant.subject, request.deadline - now, now)
        return {"session": session, "expires_at": iso(expires_at), "scope": "request", "request_id": grant.subject}
    raise Gone("This link has expired or has already been used. Ask for a new one.")


def request_for(authorization: Optional[str], request_id: str, now: datetime) -> str:
    """The footage request a request session opens; 401 without one, 404 for another request.

    Whether the request is still open (410 if not) is for the operation to say: each reads the
    request anyway, so checking here too would read it twice.
    """
    grant = tokens.peek(_bearer(authorization), tokens.REQUEST_SESSION, now)
    if grant is None:
        raise Unauthorized("Your session has ended. Open the link in your email again.")
    if grant.subject != request_id:
        raise NotFound("There is no such request.")
    return request_id


def owner_for(authorization: Optional[str], now: datetime) -> str:
    """The owner email an ``Authorization: Bearer <session>`` header stands for."""
    grant = tokens.peek(_bearer(authorization), tokens.OWNER_SESSION, now)
    if grant is None:
        raise Unauthorized("Your session has ended or is not valid. Ask for a new link by email.")
    return grant.subject


def close_session(authorization: Optional[str], now: datetime) -> None:
    owner_for(authorization, now)
    tokens.revoke(_bearer(authorization))


def _bearer(authorization: Optional[str]) -> str:
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("Sign in with the link we emailed you (no session was sent).")
    return credentials.strip()
