"""Link tokens and owner sessions: 256-bit random, stored only as SHA-256, single use.

A token travels in a URL fragment (``#token=…``) so it never reaches a server log; the page
posts it to the API, which looks up its hash.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError

from chalicelib.base.store import Table, TableMeta, table

TOKEN_BYTES = 32  # 256 bits from the OS CSPRNG

VERIFY = "verify"
MANAGE = "manage"
OWNER_SESSION = "owner_session"
RESPOND = "respond"  # a footage request's link: reusable until the request's deadline
REQUEST_SESSION = "request_session"
RECONFIRM = "reconfirm"  # one registration's yearly re-confirmation: single use, until its deadline


@table
class LinkToken(Table):
    """A single-use link or an owner session. Only the token's SHA-256 is stored.

    PK: ``token_hash`` (hex SHA-256 of the token). ``purpose`` says what it opens
    (``verify``: one registration; ``manage``: an owner's email; ``owner_session``: the
    session that a manage link is exchanged for; ``respond`` and ``request_session``: one
    footage request; ``reconfirm``: one registration's yearly re-confirmation), ``subject``
    what it opens it to.
    ``expires_at`` is a TTL attribute; readers ignore expired items themselves, since DynamoDB
    deletes them only eventually.
    """

    class Meta(metaclass=TableMeta):
        table = "tokens"

    token_hash = UnicodeAttribute(hash_key=True)
    purpose = UnicodeAttribute()
    subject = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


@dataclass(frozen=True)
class Grant:
    """What a valid token opens: its purpose, its subject and until when."""

    purpose: str
    subject: str
    expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def mint(purpose: str, subject: str, ttl: timedelta, now: datetime) -> tuple[str, datetime]:
    """A new token for ``subject``; only its hash is stored. Returns (token, expires_at)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + ttl
    LinkToken(
        hash_token(token),
        purpose=purpose,
        subject=subject,
        created_at=now,
        expires_at=expires_at,
    ).save(condition=LinkToken.token_hash.does_not_exist())
    return token, expires_at


def peek(token: str, purpose: str, now: datetime) -> Optional[Grant]:
    """The grant of a valid, unexpired token of this purpose, without using it up."""
    item = _find(token, purpose, now)
    return None if item is None else Grant(item.purpose, item.subject, item.expires_at)


def consume(token: str, purpose: str, now: datetime) -> Optional[Grant]:
    """Use a single-use token: of two concurrent callers, only one gets the grant."""
    item = _find(token, purpose, now)
    if item is None:
        return None
    try:
        item.delete(condition=LinkToken.token_hash.exists())
    except DeleteError:
        return None
    return Grant(item.purpose, item.subject, item.expires_at)


def revoke(token: str) -> None:
    LinkToken(hash_token(token)).delete()


def _find(token: str, purpose: str, now: datetime) -> Optional[LinkToken]:
    if not isinstance(token, str) or not 20 <= len(token) <= 128:
        return None
    token_hash = hash_token(token)
    try:
        item = LinkToken.get(token_hash, consistent_read=True)
    except LinkToken.DoesNotExist:
        return None
    # The lookup is by hash already; the constant-time comparison keeps the check honest
    # should the store ever match loosely.
    if not hmac.compare_digest(item.token_hash, token_hash):
        return None
    if not hmac.compare_digest(item.purpose, purpose) or item.expires_at <= now:
        return None
    return item


def purge_expired(now: datetime) -> int:
    """Delete expired tokens (DynamoDB's TTL does too, eventually; the local engine never)."""
    purged = 0
    for item in LinkToken.scan(LinkToken.expires_at < now):
        item.delete()
        purged += 1
    return purged
