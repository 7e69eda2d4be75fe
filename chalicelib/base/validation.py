"""Turning untrusted JSON into typed input, with messages a resident can act on.

Schemas are pydantic models (strict types, unknown fields forbidden) declared next to the
domain code that uses them; :func:`parse` runs one and turns every failure into a single
:class:`~chalicelib.base.errors.ValidationError` naming each bad field by its dotted path.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from typing import Annotated, Any, Dict, Optional, Type, TypeVar

import pydantic

from chalicelib.base.errors import ValidationError

M = TypeVar("M", bound=pydantic.BaseModel)


class Schema(pydantic.BaseModel):
    """Base for request bodies: strict JSON types, no unknown fields, trimmed strings."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


Latitude = Annotated[float, pydantic.Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, pydantic.Field(ge=-180, le=180, allow_inf_nan=False)]


class PointIn(Schema):
    lat: Latitude
    lon: Longitude


class TokenIn(Schema):
    """A link's token, posted by the page the link opened."""

    token: str = pydantic.Field(min_length=1, max_length=256)


def parse(schema: Type[M], payload: Any, context: Optional[Dict[str, Any]] = None) -> M:
    if not isinstance(payload, dict):
        raise ValidationError("The request body must be a JSON object.")
    try:
        return schema.model_validate(payload, context=context or {})
    except pydantic.ValidationError as exc:
        fields: Dict[str, str] = {}
        for error in exc.errors(include_url=False):
            path = ".".join(str(part) for part in error["loc"]) or "body"
            fields.setdefault(path, _message(error))
        raise ValidationError("Some of the details need correcting.", fields) from None


def clean_text(value: Optional[str]) -> Optional[str]:
    """NFC-normalise free text and refuse control characters (any script is welcome)."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _message(error: Dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "This is required."
    if kind == "extra_forbidden":
        return "This field is not recognised."
    if kind == "string_too_short":
        return "This is required." if ctx.get("min_length") == 1 else (
            f"Must be at least {ctx.get('min_length')} characters."
        )
    if kind == "string_too_long":
        return f"Must be at most {ctx.get('max_length')} characters."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "Must be a whole number."
    if kind in ("float_type", "float_parsing"):
        return "Must be a number."
    if kind in ("string_type",):
        return "Must be text."
    if kind in ("bool_type", "bool_parsing"):
        return "Must be true or false."
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "Must be an object."
    if kind == "list_type":
        return "Must be a list."
    if kind == "too_long":
        return f"Must have at most {ctx.get('max_length')} items."
    if kind == "greater_than_equal":
        return f"Must be at least {ctx.get('ge')}."
    if kind == "less_than_equal":
        return f"Must be at most {ctx.get('le')}."
    if kind == "literal_error":
        return f"Must be {ctx.get('expected')}."
    if kind == "value_error":
        message = str(ctx.get("error") or error.get("msg", "Is not valid."))
        return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
    return str(error.get("msg", "Is not valid."))


# A force's crime or incident reference: letters, digits, spaces and / . _ : -
CASE_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 /._:-]*$"
CASE_REF_MAX = 64


def check_case_ref(value: str) -> str:
    if not re.match(CASE_REF_PATTERN, value):
        raise ValueError("use the force's reference: letters, digits, spaces and / . _ : -")
    return value


def is_case_ref(value: Optional[str]) -> bool:
    return bool(value) and len(value) <= CASE_REF_MAX and re.fullmatch(CASE_REF_PATTERN, value) is not None


def optional_text(value: Optional[str]) -> Optional[str]:
    """Field validator for optional free text: blank means not given."""
    return clean_text(value) or None


def parse_time(value: str) -> datetime:
    """An ISO 8601 time with a zone, as UTC; ValueError (a field message) otherwise."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError("give a date and time in ISO 8601, e.g. 2026-11-21T18:30:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-11-21T18:30:00Z")
    return moment.astimezone(timezone.utc)


def check_time(value: Optional[str]) -> Optional[str]:
    """Field validator: the text must be a time ``parse_time`` accepts (kept as text)."""
    if value is not None:
        parse_time(value)
    return value
