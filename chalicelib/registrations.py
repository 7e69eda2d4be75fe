"""Resident registrations: create, verify, read, change, delete and export.

Writes are ordered, not transactional (the local engine has no transactions): the geo index
is written before a registration becomes active and cleared after it stops being active, so
the index is always a superset of the active registrations and a crash between the two writes
can hide nothing that should be found; readers check the registration's status.
"""
from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Literal, Optional

import email_validator
from pydantic import Field, field_validator
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from chalicelib import geo, tokens
from chalicelib.config import Config
from chalicelib.errors import Conflict, Gone, NotFound, ValidationError
from chalicelib.models import (
    AddressAttribute,
    CameraAttribute,
    GeoIndexEntry,
    PointAttribute,
    Registration,
    condition_failed,
)
from chalicelib.validation import Schema, clean_text, parse

PENDING = "pending"
ACTIVE = "active"
PAUSED = "paused"

Notify = Callable[[Dict[str, Any]], None]

# A camera placed further than this from its premises is almost certainly a slip of the pin.
MAX_CAMERA_DISTANCE_M = 1000.0

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


def _blank_to_none(value: Optional[str]) -> Optional[str]:
    return clean_text(value) or None


def check_phone(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    if not _PHONE.match(value):
        raise ValueError("enter a phone number of digits, like 0121 496 0000")
    return value


class PointIn(Schema):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class AddressIn(Schema):
    line1: str = Field(min_length=1, max_length=200)
    line2: Optional[str] = Field(default=None, max_length=200)
    town: str = Field(min_length=1, max_length=100)
    postcode: str = Field(min_length=1, max_length=16)

    _text = field_validator("line1", "town")(clean_text)
    _optional = field_validator("line2")(_blank_to_none)

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str, info: Any) -> str:
        return normalise_postcode(value, (info.context or {}).get("postcode_format", "uk"))


class CameraIn(Schema):
    location: Optional[PointIn] = None
    direction_deg: Optional[int] = Field(default=None, ge=0, le=359)
    description: Optional[str] = Field(default=None, max_length=500)

    _optional = field_validator("description")(_blank_to_none)


class _Details(Schema):
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
    _optional = field_validator("business_name")(_blank_to_none)

    _phone = field_validator("phone")(check_phone)


class RegistrationIn(_Details):
    email: str = Field(min_length=3, max_length=254)
    consent: bool

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)

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
    _optional = field_validator("business_name")(_blank_to_none)
    _phone = field_validator("phone")(check_phone)


class TokenIn(Schema):
    token: str = Field(min_length=1, max_length=256)


def normalise_email(value: str) -> str:
    try:
        return email_validator.validate_email(value, check_deliverability=False).normalized
    except email_validator.EmailNotValidError:
        raise ValueError("enter an email address like name@example.com") from None


def owner_key(email: str) -> str:
    """The form of an email address that identifies its owner across registrations."""
    return email.casefold()


def registration_id_for(owner_email: str, address: AddressIn) -> str:
    """A stable id for (owner, premises): resubmitting the same form cannot duplicate it."""
    premises = re.sub(r"[\W_]+", " ", address.line1.casefold()).strip()
    postcode = address.postcode.replace(" ", "")
    digest = hashlib.sha256(f"registration\0{owner_email}\0{postcode}\0{premises}".encode()).digest()
    return "r" + base64.b32encode(digest[:15]).decode("ascii").lower()


# ---------------------------------------------------------------------------------------------
# Domain operations


def register(payload: Any, *, config: Config, notify: Notify, now: datetime) -> None:
    """Store a pending registration and queue its verification email.

    Answers the same whether or not the owner or premises is already known: a known, verified
    registration is left alone and its owner is emailed a manage link instead.
    """
    data = parse(RegistrationIn, payload, {"postcode_format": config.postcode_format})
    _check_cameras(data.camera_count, data.cameras, data.location)
    email = owner_key(data.email)
    registration_id = registration_id_for(email, data.address)
    expires_at = now + timedelta(hours=config.verification_ttl_hours)
    item = Registration(
        registration_id,
        owner_email=email,
        email=data.email,
        consented_at=now,
        created_at=now,
        status=PENDING,
        expires_at=expires_at,
    )
    _apply_details(item, data, now)
    for _attempt in range(3):
        try:
            item.save(condition=Registration.registration_id.does_not_exist())
            notify({"type": "verify_registration", "registration_id": registration_id})
            return
        except PutError as exc:
            if not condition_failed(exc):
                raise
        try:
            existing = Registration.get(registration_id, consistent_read=True)
        except Registration.DoesNotExist:
            item.version = None  # deleted in between: try the create again
            continue
        if existing.status != PENDING:
            notify({"type": "already_registered", "registration_id": registration_id})
            return
        # Unverified: the latest details win, and a fresh verification link goes out.
        item.created_at = existing.created_at
        item.version = existing.version
        try:
            item.save()
        except PutError as exc:
            if not condition_failed(exc):
                raise
            item.version = None
            continue
        notify({"type": "verify_registration", "registration_id": registration_id})
        return
    raise Conflict("This registration is being changed by another request. Please try again.")


def verify(payload: Any, *, now: datetime) -> Dict[str, str]:
    """Activate the registration a verification link was sent for; put it in the geo index."""
    token = parse(TokenIn, payload).token
    grant = tokens.peek(token, tokens.VERIFY, now)
    expired = Gone(
        "This verification link has expired or has already been used. "
        "Register again to get a new link."
    )
    if grant is None:
        raise expired
    try:
        item = Registration.get(grant.subject, consistent_read=True)
    except Registration.DoesNotExist:
        raise expired from None
    if item.status == PENDING:
        if item.expires_at is not None and item.expires_at <= now:
            raise expired
        _index(item)
        try:
            item.update(
                actions=[
                    Registration.status.set(ACTIVE),
                    Registration.verified_at.set(now),
                    Registration.updated_at.set(now),
                    Registration.expires_at.remove(),
                ],
                condition=Registration.status == PENDING,
            )
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            item.refresh(consistent_read=True)
    tokens.consume(token, tokens.VERIFY, now)
    return {"status": item.status, "registration_id": item.registration_id}



def list_for_owner(owner_email: str, now: datetime) -> List[Dict[str, Any]]:
    return [owner_view(item) for item in _owned_registrations(owner_email, now)]


def get_for_owner(owner_email: str, registration_id: str, now: datetime) -> Dict[str, Any]:
    return owner_view(_owned(owner_email, registration_id, now))


def update_for_owner(
    owner_email: str, registration_id: str, payload: Any, *, config: Config, now: datetime
) -> Dict[str, Any]:
    patch = parse(RegistrationPatch, payload, {"postcode_format": config.postcode_format})
    changes = patch.model_fields_set
    if not changes:
        raise ValidationError("Send at least one field to change.")
    required = {"name", "address", "location", "camera_count"} & changes
    nulls = {name: "This is required." for name in required if getattr(patch, name) is None}
    if nulls:
        raise ValidationError("Some of the details need correcting.", nulls)

    item = _owned(owner_email, registration_id, now)
    was_active = item.status == ACTIVE
    old_keys = geo.index_keys(item.location.lat, item.location.lon, item.registration_id)
    if "status" in changes and patch.status is not None:
        if item.status == PENDING:
            raise Conflict(
                "Confirm your email address first: use the link we sent you.",
                {"status": "This registration has not been verified yet."},
            )
        item.status = patch.status
    _apply_details(item, patch, now, only=changes - {"status"})
    _check_cameras(
        int(item.camera_count),
        [CameraIn.model_validate(c.as_dict()) for c in item.cameras],
        PointIn(lat=item.location.lat, lon=item.location.lon),
    )
    new_keys = geo.index_keys(item.location.lat, item.location.lon, item.registration_id)
    if item.status == ACTIVE:
        _index(item)  # before the save: the index stays a superset of the active set
    try:
        item.save()
    except PutError as exc:
        if not condition_failed(exc):
            raise
        raise Conflict("This registration was changed elsewhere. Reload it and try again.") from None
    if was_active and (item.status != ACTIVE or new_keys != old_keys):
        GeoIndexEntry(*old_keys).delete()
    return owner_view(item)


def delete_for_owner(owner_email: str, registration_id: str, *, notify: Notify, now: datetime) -> None:
    """Remove the registration's personal data and its index entry for good; confirm by email."""
    item = _owned(owner_email, registration_id, now)
    try:
        item.delete()
    except DeleteError as exc:
        if not condition_failed(exc):
            raise
        raise Conflict("This registration was changed elsewhere. Reload it and try again.") from None
    GeoIndexEntry(*geo.index_keys(item.location.lat, item.location.lon, item.registration_id)).delete()
    notify(
        {
            "type": "registration_deleted",
            "email": item.email,
            "name": item.name,
            "postcode": item.address.postcode,
        }
    )


def export_for_owner(owner_email: str, now: datetime) -> Dict[str, Any]:
    """Everything Sightline holds about the owner of this email address."""
    from chalicelib import footage_requests  # it builds on this module

    items = _owned_registrations(owner_email, now)
    return {
        "email": owner_email,
        "generated_at": iso(now),
        "registrations": [owner_view(item) for item in items],
        "search_index": [
            {
                "registration_id": item.registration_id,
                "cell": geo.index_keys(item.location.lat, item.location.lon, item.registration_id)[0],
                "location": {"lat": float(item.location.lat), "lon": float(item.location.lon)},
            }
            for item in items
            if item.status == ACTIVE
        ],
        "footage_requests": footage_requests.for_owner_export([item.registration_id for item in items]),
        "note": (
            "Sightline also keeps short-lived, hashed sign-in links and sessions for your "
            "email address; they expire on their own and cannot be read back."
        ),
    }


def owner_has_registrations(owner_email: str, now: datetime) -> Optional[Registration]:
    """One of the owner's current registrations (for addressing a link), or None."""
    for item in _owned_registrations(owner_email, now):
        return item
    return None


def purge_expired(now: datetime) -> int:
    """Delete pending registrations whose verification window has passed (and any stray
    index entry a crash mid-verification left). DynamoDB's TTL does this too, eventually."""
    purged = 0
    for item in Registration.scan(
        (Registration.status == PENDING) & (Registration.expires_at < now)
    ):
        try:
            item.delete(condition=(Registration.status == PENDING) & (Registration.expires_at < now))
        except DeleteError as exc:
            if not condition_failed(exc):
                raise
            continue
        GeoIndexEntry(*geo.index_keys(item.location.lat, item.location.lon, item.registration_id)).delete()
        purged += 1
    return purged


def owner_view(item: Registration) -> Dict[str, Any]:
    return {
        "registration_id": item.registration_id,
        "status": item.status,
        "name": item.name,
        "email": item.email,
        "phone": item.phone,
        "business_name": item.business_name,
        "address": address_view(item),
        "location": {"lat": float(item.location.lat), "lon": float(item.location.lon)},
        "camera_count": int(item.camera_count),
        "cameras": [camera_view(camera) for camera in item.cameras],
        "retention_days": None if item.retention_days is None else int(item.retention_days),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "verified_at": iso(item.verified_at) if item.verified_at else None,
        "consented_at": iso(item.consented_at),
    }


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------


def address_view(item: Registration) -> Dict[str, Any]:
    address = item.address
    return {"line1": address.line1, "line2": address.line2, "town": address.town, "postcode": address.postcode}


def camera_view(camera: CameraAttribute) -> Dict[str, Any]:
    return {
        "location": (
            {"lat": float(camera.location.lat), "lon": float(camera.location.lon)}
            if camera.location is not None
            else None
        ),
        "direction_deg": None if camera.direction_deg is None else int(camera.direction_deg),
        "description": camera.description,
    }


def _apply_details(item: Registration, data: Schema, now: datetime, only: Optional[set] = None) -> None:
    fields = only if only is not None else set(_Details.model_fields)
    if "name" in fields:
        item.name = data.name
    if "phone" in fields:
        item.phone = data.phone
    if "business_name" in fields:
        item.business_name = data.business_name
    if "address" in fields:
        item.address = AddressAttribute(**data.address.model_dump())
    if "location" in fields:
        item.location = PointAttribute(lat=data.location.lat, lon=data.location.lon)
        item.geohash = geo.encode(data.location.lat, data.location.lon)
    if "camera_count" in fields:
        item.camera_count = data.camera_count
    if "cameras" in fields:
        item.cameras = [
            CameraAttribute(
                location=PointAttribute(**camera.location.model_dump()) if camera.location else None,
                direction_deg=camera.direction_deg,
                description=camera.description,
            )
            for camera in (data.cameras or [])
        ]
    if "retention_days" in fields:
        item.retention_days = data.retention_days
    item.updated_at = now


def _check_cameras(camera_count: int, cameras: List[CameraIn], premises: PointIn) -> None:
    fields: Dict[str, str] = {}
    if len(cameras) > camera_count:
        fields["cameras"] = (
            f"You described {len(cameras)} cameras but said you have {camera_count}."
        )
    for number, camera in enumerate(cameras):
        if camera.location is None:
            continue
        distance = geo.haversine_m(premises.lat, premises.lon, camera.location.lat, camera.location.lon)
        if distance > MAX_CAMERA_DISTANCE_M:
            fields[f"cameras.{number}.location"] = (
                f"This camera is placed {distance / 1000:.1f} km from the premises; "
                "put it where the camera is."
            )
    if fields:
        raise ValidationError("Some of the details need correcting.", fields)


def _index(item: Registration) -> None:
    cell, position = geo.index_keys(item.location.lat, item.location.lon, item.registration_id)
    GeoIndexEntry(
        cell,
        position,
        registration_id=item.registration_id,
        lat=item.location.lat,
        lon=item.location.lon,
    ).save()


def _owned_registrations(owner_email: str, now: datetime) -> List[Registration]:
    return [
        item
        for item in Registration.by_owner_email.query(owner_email)
        if not (item.status == PENDING and item.expires_at is not None and item.expires_at <= now)
    ]


def _owned(owner_email: str, registration_id: str, now: datetime) -> Registration:
    missing = NotFound("There is no such registration for your email address.")
    if not re.fullmatch(r"[a-z0-9]{1,64}", registration_id or ""):
        raise missing
    try:
        item = Registration.get(registration_id, consistent_read=True)
    except Registration.DoesNotExist:
        raise missing from None
    if item.owner_email != owner_email:
        raise missing
    if item.status == PENDING and item.expires_at is not None and item.expires_at <= now:
        raise missing
    return item
