"""Owners' access without an account: an emailed single-use link exchanged for a short session
over all the registrations of one email address."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Optional

from chalicelib.base import tokens
from chalicelib.base.config import Config
from chalicelib.base.errors import Unauthorized
from chalicelib.base.ids import iso
from chalicelib.base.messages import Notify
from chalicelib.base.validation import parse
from chalicelib.registry import identity
from chalicelib.registry.schemas import ManageLinkIn


def request_manage_link(payload: Any, *, notify: Notify) -> None:
    """Queue a manage link for this email. The answer, and its timing, do not depend on
    whether the email is registered: the queue's handler decides whether to send anything.
    The message names the owner by their keyed hash: no address waits in the queue."""
    data = parse(ManageLinkIn, payload)
    notify({"type": "manage_link", "owner": identity.owner_of(data.email)})


def open_session(token: str, *, config: Config, now: datetime) -> Optional[Dict[str, Any]]:
    """Exchange a manage link's token (single use) for a session; None if it is not one."""
    grant = tokens.consume(token, tokens.MANAGE, now)
    if grant is None:
        return None
    session, expires_at = tokens.mint(
        tokens.OWNER_SESSION, grant.subject, timedelta(minutes=config.owner_session_ttl_minutes), now
    )
    return {"session": session, "expires_at": iso(expires_at), "scope": "owner"}


def owner_for(session: str, now: datetime) -> str:
    """The owner a session stands for (the keyed hash of their email, ``identity.owner_of``)."""
    grant = tokens.peek(session, tokens.OWNER_SESSION, now)
    if grant is None:
        raise Unauthorized("Your session has ended or is not valid. Ask for a new link by email.")
    return grant.subject


def close_session(session: str, now: datetime) -> None:
    owner_for(session, now)
    tokens.revoke(session)
