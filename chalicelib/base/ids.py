"""Identifiers and times: every id's shape is declared here once.

Derived ids (a hash of what identifies the thing) make retries idempotent without transactions:
the same owner and premises, or the same case and registration, always name the same item.
Random ids come from the OS CSPRNG. ``IdKind.matches`` is checked before any lookup, so a
malformed id is "not found" without a database read.
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class IdKind:
    prefix: str
    pattern: str

    def matches(self, value: object) -> bool:
        return isinstance(value, str) and re.fullmatch(self.pattern, value) is not None

    def derived(self, *parts: str) -> str:
        """An id derived from ``parts``: base32 of 15 bytes of SHA-256 (24 characters)."""
        digest = hashlib.sha256("\0".join(parts).encode()).digest()
        return self.prefix + base64.b32encode(digest[:15]).decode("ascii").lower()

    def random(self) -> str:
        return self.prefix + secrets.token_hex(12)


# Seeded and older registrations may have other lowercase ids: any 1-64 letters and digits.
REGISTRATION = IdKind("r", r"[a-z0-9]{1,64}")
FOOTAGE_REQUEST = IdKind("q", r"q[a-z0-9]{24}")
UPLOAD = IdKind("u", r"u[0-9a-f]{24}")
SEARCH = IdKind("s", r"s[0-9a-f]{24}")
EVIDENCE = IdKind("e", r"e[0-9a-f]{24}")
CASE = IdKind("c", r"c[a-z0-9]{24}")
EXPORT = IdKind("x", r"x[0-9a-f]{24}")


def evidence_id_for(bucket: str, key: str, version: str) -> str:
    """One evidence item per object version (hex, unlike the other derived ids, since its
    first items were made that way)."""
    return EVIDENCE.prefix + hashlib.sha256(f"{bucket}/{key}#{version}".encode()).hexdigest()[:24]


def iso(moment: datetime) -> str:
    """A UTC time to the second, as the API shows times: ``2026-11-21T18:30:00Z``."""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_ms(moment: datetime) -> str:
    """A UTC time to the millisecond (the clock the owner's page corrects its own by)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_micro(moment: datetime) -> str:
    """A UTC time to the microsecond (sort keys: they order by time as text)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
