"""Who owns a registration, and which premises it is for, as keyed hashes (``base.pseudonyms``).

An owner is recognised by their email address in one normal form (:func:`owner_key`); what the
tables, links and sessions hold is its keyed hash (:func:`owner_of`), so the owner's address is
held in one place only, their registrations, and leaves with them.
"""
from __future__ import annotations

import re
import unicodedata

from chalicelib.base.pseudonyms import OWNER, PREMISES, pseudonym

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def owner_key(email: str) -> str:
    """The form of an email address that identifies its owner across registrations.

    Two addresses that may be different mailboxes never share a key: the domain is lowercased
    (domains are case-insensitive; ``faß.de`` and ``fass.de`` stay two domains), the local part
    has only its ASCII letters folded (mail servers commonly treat ``Ada`` and ``ada`` as one
    mailbox, but nothing says ``straße`` and ``STRASSE``, ``İ`` and ``i`` or ``ı`` and ``I`` are),
    and the whole is in Unicode NFC, so one address typed two ways is one key.
    """
    local, at, domain = unicodedata.normalize("NFC", email.strip()).rpartition("@")
    return unicodedata.normalize("NFC", local.translate(_ASCII_LOWER) + at + domain.lower())


def owner_of(email: str) -> str:
    """The keyed hash that stands for this email's owner in tables, links and sessions."""
    return pseudonym(OWNER, owner_key(email))


def premises_claim(email: str, postcode: str, line1: str) -> str:
    """One owner's one premises: the same form spelled differently is the same claim."""
    premises = re.sub(r"[\W_]+", " ", line1.casefold()).strip()
    return pseudonym(PREMISES, owner_key(email), postcode.replace(" ", "").upper(), premises)
