"""What residents send: registrations, changes to them, and manage-link requests."""
from __future__ import annotations

import re
from typing import Any, List, Literal, Optional

from pydantic import Field, field_validator

from chalicelib.base.validation import PointIn, Schema, clean_text, optional_text

_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_ANY_POSTCODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,14}[A-Z0-9]$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,24}[0-9]$")


def normalise_postcode(value: str, postcode_format: str) -> str:
    compact = re.sub(r"\s+", "", value.upper())
    if postcode_format == "uk":
        match = _UK_POSTCODE.match(compact)
        if not match:
            raise ValueError("enter a full UK postcode, like B1 1AA")
        return f"{match.group(1)} {match.group(2)}"
    spaced = re.sub(r"\s+", " ", value.upper().strip())
    if not _ANY_POSTCODE.match(spaced):
        raise ValueError("enter a postcode of letters and digits")
    return spaced


def check_phone(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    if not _PHONE.match(value):
        raise ValueError("enter a phone number of digits, like 0121 496 0000")
    return value


def normalise_email(value: str) -> str:
    import email_validator  # its IDNA tables are heavy; only routes that take an email load it

    try:
        return email_validator.validate_email(value, check_deliverability=False).normalized
    except email_validator.EmailNotValidError:
        raise ValueError("enter an email address like name@example.com") from None


class AddressIn(Schema):
    line1: str = Field(min_length=1, max_length=200)
    line2: Optional[str] = Field(default=None, max_length=200)
    town: str = Field(min_length=1, max_length=100)
    postcode: str = Field(min_length=1, max_length=16)

    _text = field_validator("line1", "town")(clean_text)
    _optional = field_validator("line2")(optional_text)

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str, info: Any) -> str:
        return normalise_postcode(value, (info.context or {}).get("postcode_format", "uk"))


class CameraIn(Schema):
    location: Optional[PointIn] = None
    direction_deg: Optional[int] = Field(default=None, ge=0, le=359)
    description: Optional[str] = Field(default=None, max_length=500)

    _optional = field_validator("description")(optional_text)


class Details(Schema):
    """Fields a resident may give at registration and change later."""

    name: str = Field(min_length=1, max_length=200)
    phone: Optional[str] = Field(default=None, max_length=30)
    business_name: Optional[str] = Field(default=None, max_length=200)
    address: AddressIn
    location: PointIn
    camera_count: int = Field(ge=1, le=50)
    cameras: List[CameraIn] = Field(default_factory=list, max_length=50)
    retention_days: Optional[int] = Field(default=None, ge=1, le=90)

    _text = field_validator("name")(clean_text)
    _optional = field_validator("business_name")(optional_text)
    _phone = field_validator("phone")(check_phone)


class RegistrationIn(Details):
    email: str = Field(min_length=3, max_length=254)
    consent: bool

    _email = field_validator("email")(normalise_email)

    @field_validator("consent")
    @classmethod
    def _consent(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("you must agree to the privacy notice to register")
        return value


class RegistrationPatch(Schema):
    """A partial change; ``None`` clears an optional field. The email cannot change."""

    name: Optional[str] = Field(default=None, min_length=1, max_length=200)
    phone: Optional[str] = Field(default=None, max_length=30)
    business_name: Optional[str] = Field(default=None, max_length=200)
    address: Optional[AddressIn] = None
    location: Optional[PointIn] = None
    camera_count: Optional[int] = Field(default=None, ge=1, le=50)
    cameras: Optional[List[CameraIn]] = Field(default=None, max_length=50)
    retention_days: Optional[int] = Field(default=None, ge=1, le=90)
    status: Optional[Literal["active", "paused"]] = None

    _text = field_validator("name")(clean_text)
    _optional = field_validator("business_name")(optional_text)
    _phone = field_validator("phone")(check_phone)


class ManageLinkIn(Schema):
    email: str = Field(min_length=3, max_length=254)

    _email = field_validator("email")(normalise_email)
