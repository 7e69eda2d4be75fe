"""Domain errors: plain classes, each with a stable ``code`` and a message a person can act on.

``fields`` names each bad field by its dotted path (``address.postcode``,
``cameras.0.direction_deg``) so a page can put the message next to the field. Which HTTP status
each error becomes is decided in one place, ``chalicelib.web``.
"""
from __future__ import annotations

from typing import Dict, Optional


class SightlineError(Exception):
    code = "bad_request"

    def __init__(self, message: str, fields: Optional[Dict[str, str]] = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(SightlineError):
    code = "validation_error"


class Unauthorized(SightlineError):
    code = "unauthorized"


class Forbidden(SightlineError):
    code = "forbidden"


class NotFound(SightlineError):
    code = "not_found"


class Conflict(SightlineError):
    code = "conflict"


class Gone(SightlineError):
    code = "gone"


class PayloadTooLarge(SightlineError):
    code = "payload_too_large"


class UnsupportedMediaType(SightlineError):
    code = "unsupported_media_type"


class ServiceUnavailable(SightlineError):
    code = "unavailable"
