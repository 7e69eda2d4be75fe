"""The HTTP edge: request bodies, bearer credentials, and the one mapping from domain errors
to HTTP answers (loaded by the API function only).

Every error body has the same shape::

    {"error": {"code": "validation_error", "message": "…", "fields": {"email": "…"}}}
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Type

from chalicelib.base.errors import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    SightlineError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationError,
)

if TYPE_CHECKING:  # only the type: loading it would bring the officers' modules into every request
    from chalicelib.investigations.footage import Asked

STATUS: Dict[Type[SightlineError], int] = {
    ValidationError: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    ServiceUnavailable: 503,
}

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

MAX_BODY_BYTES = 32 * 1024

OWNER_SIGN_IN = "Sign in with the link we emailed you (no session was sent)."
OFFICER_SIGN_IN = "Sign in and send 'Authorization: Bearer <access token>'."


def status_of(err: SightlineError) -> int:
    for kind in type(err).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def error_body(code: str, message: str, fields: Optional[Dict[str, str]] = None) -> dict:
    error: dict = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def http_error(err: SightlineError) -> Tuple[int, dict]:
    """(status, body) for a domain error."""
    return status_of(err), error_body(err.code, err.message, err.fields)


def asked_answer(asked: Asked) -> Tuple[int, Dict[str, Any]]:
    """A batch of footage requests: 201 if any request stands, 409 if none; each refusal with
    the status it would have had alone."""
    refused = [
        {"registration_id": r.registration_id, "status": status_of(r.error), "error": {"code": r.error.code, "message": r.error.message}}
        for r in asked.refused
    ]
    return (201 if asked.created else 409), {"case_ref": asked.case_ref, "requests": asked.created, "refused": refused}


def json_body(raw: Optional[bytes], content_type: Optional[str]) -> Any:
    """The parsed JSON of a request body, after the size and content-type checks."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            "Send the request body as JSON with 'Content-Type: application/json'."
        )
    raw = raw or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body must be at most {MAX_BODY_BYTES} bytes.")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValidationError("The request body is not valid JSON.") from None


def bearer(authorization: Optional[str], missing: str) -> str:
    """The credentials of an ``Authorization: Bearer …`` header; Unauthorized(missing) if none."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized(missing)
    return credentials.strip()


def normalise_chalice_error(body: object) -> Optional[dict]:
    """Our body shape for one of Chalice's own error bodies, or None if it is not one."""
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(str(body["Code"]), "error")
        message = str(body["Message"])
        if code == "internal_error":
            message = "Something went wrong on our side. Please try again in a moment."
        return error_body(code, message)
    return None
