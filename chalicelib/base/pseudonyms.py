"""Keyed hashes: how Sightline recognises an email address or a premises without holding it.

``pseudonym("owner", key)`` is HMAC-SHA256 under a secret only the functions hold, so a copy of
a table (a backup, an export, a leaked scan) cannot be reversed by hashing a list of likely
addresses, as a plain SHA-256 could. Used where something must be matched later but must not be
readable: the owner of a set of registrations (their sessions and links name the pseudonym, not
the email), the premises a registration is for (duplicate detection), and an email address's
count of emails sent (per-recipient limits).

The key is read once per process: from ``SIGHTLINE_PSEUDONYM_KEY`` where it is set (tests, the
local stack, which keeps its own in ``var/``), otherwise from the Secrets Manager secret named by
``SIGHTLINE_PSEUDONYM_KEY_SECRET`` (the CDK app creates it). Changing the key makes every owner's
existing pseudonym unrecognisable: it is generated once per deployment and never rotated in
place (``docs/decisions.md``).
"""
from __future__ import annotations

import hashlib
import hmac

from chalicelib.base import clients
from chalicelib.base.config import get_config
from chalicelib.base.lazy import Lazy

# What each pseudonym is of; a purpose is mixed into the hash, so that the same text hashed for
# two purposes gives two unrelated values.
OWNER = "owner"
PREMISES = "premises"
RECIPIENT = "recipient"

MIN_KEY_BYTES = 32


class MissingKey(RuntimeError):
    pass


def pseudonym(purpose: str, *parts: str) -> str:
    """Hex HMAC-SHA256 of ``parts`` (joined by NUL) for ``purpose``: 64 characters."""
    message = "\0".join((purpose, *parts)).encode("utf-8")
    return hmac.new(get_key(), message, hashlib.sha256).hexdigest()


def _read_key() -> bytes:
    config = get_config()
    if config.pseudonym_key:
        key = config.pseudonym_key.encode("utf-8")
    elif config.pseudonym_key_secret:
        response = clients.client("secretsmanager").get_secret_value(SecretId=config.pseudonym_key_secret)
        key = response["SecretString"].encode("utf-8")
    else:
        raise MissingKey("Set SIGHTLINE_PSEUDONYM_KEY or SIGHTLINE_PSEUDONYM_KEY_SECRET.")
    if len(key) < MIN_KEY_BYTES:
        raise MissingKey(f"The pseudonym key must be at least {MIN_KEY_BYTES} bytes.")
    return key


get_key: Lazy[bytes] = Lazy(_read_key)
