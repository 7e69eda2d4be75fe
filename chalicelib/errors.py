"""Domain errors, and the one place that turns them into HTTP answers.

Every error body has the same shape::

    {"error": {"code": "validation_error", "message": "…", "fields": {"email": "…"}}}

``fields`` names each bad field by its dotted path (``address.postcode``, ``cameras.0.direction_deg``)
so a page can put the message next to the field.
"""
from __future__ import annotations

from typing import Dict, Optional


class SightlineError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: Optional[Dict[str, str]] = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(SightlineError):
    status = 400
    code = "validation_error"


class Unauthorized(SightlineError):
    status = 401
    code = "unauthorized"


class Forbidden(SightlineError):
    status = 403
    code = "forbidden"


class NotFound(SightlineError):
    status = 404
    code = "not_found"


class Conflict(SightlineError):
    status = 409
    code = "conflict"


class Gone(SightlineError):
    status = 410
    code = "gone"


class PayloadTooLarge(SightlineError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(SightlineError):
    status = 415
    code = "unsupported_media_type"


class ServiceUnavailable(SightlineError):
    status = 503
    code = "unavailable"


# Chalice answers some requests itself (unknown method, unlisted content type, a crash) with
# {"Code": …, "Message": …}; these are the codes we give those answers instead.
_CHALICE_CODES = {
    "UnsupportedMediaType": UnsupportedMediaType.code,
    "MethodNotAllowedError": "method_not_allowed",
    "BadRequest": "bad_request",
    "BadRequestError": "bad_request",
    "NotFoundError": "not_found",
    "InternalServerError": "internal_error",
}


def error_body(code: str, message: str, fields: Optional[Dict[str, str]] = None) -> dict:
    error: dict = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def http_error(err: SightlineError) -> tuple[int, dict]:
    """(status, body) for a domain error."""
    return err.status, error_body(err.code, err.message, err.fields)


def normalise_chalice_error(body: object) -> Optional[dict]:
    """Our body shape for one of Chalice's own error bodies, or None if it is not one."""
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(str(body["Code"]), "error")
        message = str(body["Message"])
        if code == "internal_error":
            message = "Something went wrong on our side. Please try again in a moment."
        return error_body(code, message)
    return None
