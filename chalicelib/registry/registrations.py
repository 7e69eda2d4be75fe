"""Resident registrations: create, verify, read, change and delete (the residents' routes).

Writes are ordered, not transactional (the local engine has no transactions): the geo index
is written before a registration becomes active and cleared after it stops being active, so
the index is always a superset of the active registrations and a crash between the two writes
can hide nothing that should be found; readers check the registration's status. What a crash
leaves behind (an entry where a registration no longer is, a claim whose registration is gone)
is removed by a retry of the same request or by housekeeping's ``records.reconcile``.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Dict, Iterator, List, Optional

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from chalicelib import geo
from chalicelib.base import tokens
from chalicelib.base.config import Config
from chalicelib.base.errors import Conflict, Gone, NotFound, ValidationError
from chalicelib.base.ids import REGISTRATION
from chalicelib.base.messages import Notify
from chalicelib.base.store import condition_failed, put_once
from chalicelib.base.validation import PointIn, Schema, TokenIn, parse
from chalicelib.registry import currency, identity, index, records
from chalicelib.registry.schemas import CameraIn, Details, RegistrationIn, RegistrationPatch
from chalicelib.registry.tables import (
    ACTIVE,
    DELETED,
    PENDING,
    AddressAttribute,
    CameraAttribute,
    PointAttribute,
    Registration,
    RegistrationClaim,
)
from chalicelib.registry.views import owner_view

# A camera placed further than this from its premises is almost certainly a slip of the pin.
MAX_CAMERA_DISTANCE_M = 1000.0


def register(payload: Any, *, config: Config, notify: Notify, now: datetime) -> None:
    """Store a pending registration and queue its verification email.

    Answers the same whether or not the owner or premises is already known: a known, verified
    registration is left alone and its owner is emailed a manage link instead; an unverified
    one takes the latest details and a fresh link. The premises are recognised by their claim
    (``identity.premises_claim``), written before a new registration and taken over when it
    points at one that is gone, so a retry after a crash between the two writes, or a double
    submission, still makes one registration.
    """
    data = parse(RegistrationIn, payload, {"postcode_format": config.postcode_format})
    _check_cameras(data.camera_count, data.cameras, data.location)
    claim_key = identity.premises_claim(data.email, data.address.postcode, data.address.line1)
    expires_at = now + timedelta(hours=config.verification_ttl_hours)
    for _attempt in range(3):
        claim = records.find_claim(claim_key)
        holder = records.find(claim.registration_id) if claim is not None else None
        if holder is not None and not records.gone(holder, now):
            if holder.status != PENDING:
                notify({"type": "already_registered", "registration_id": holder.registration_id})
                return
            # Unverified: the latest details win, and a fresh verification link goes out.
            _apply_details(holder, data, now)
            holder.email = data.email
            holder.consented_at = now
            holder.expires_at = expires_at
            try:
                holder.save()
            except PutError as exc:
                if not condition_failed(exc):
                    raise
                continue
            notify({"type": "verify_registration", "registration_id": holder.registration_id})
            return
        registration_id = REGISTRATION.random()
        if not _take_claim(claim_key, claim, registration_id, now):
            continue
        item = Registration(
            registration_id,
            owner=identity.owner_of(data.email),
            claim=claim_key,
            email=data.email,
            consented_at=now,
            created_at=now,
            status=PENDING,
            expires_at=expires_at,
        )
        _apply_details(item, data, now)
        item.save(condition=Registration.registration_id.does_not_exist())
        notify({"type": "verify_registration", "registration_id": registration_id})
        return
    raise Conflict("This registration is being changed by another request. Please try again.")


def _take_claim(claim_key: str, claim: Optional[RegistrationClaim], registration_id: str, now: datetime) -> bool:
    """Point the premises' claim at a new registration: a new claim, or one whose registration
    is gone. False if another request changed it first."""
    if claim is None:
        return put_once(RegistrationClaim(claim_key, registration_id=registration_id, created_at=now), RegistrationClaim.claim)
    try:
        claim.update(
            actions=[RegistrationClaim.registration_id.set(registration_id), RegistrationClaim.created_at.set(now)],
            condition=RegistrationClaim.registration_id == claim.registration_id,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return False
    return True


def verify(payload: Any, *, now: datetime) -> Dict[str, str]:
    """Activate the registration a verification link was sent for; put it in the geo index."""
    token = parse(TokenIn, payload).token
    grant = tokens.peek(token, tokens.VERIFY, now)
    expired = Gone(
        "This verification link has expired or has already been used. "
        "Register again to get a new link."
    )
    item = records.find(grant.subject) if grant is not None else None
    if item is None or item.status == DELETED:
        raise expired
    if item.status == PENDING:
        if records.lapsed(item, now):
            raise expired
        index.add(item)
        try:
            item.update(
                actions=[
                    Registration.status.set(ACTIVE),
                    Registration.verified_at.set(now),
                    Registration.confirmed_at.set(now),
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


def list_for_owner(owner: str, now: datetime) -> List[Dict[str, Any]]:
    return [owner_view(item) for item in records.owned(owner, now)]


def get_for_owner(owner: str, registration_id: str, now: datetime) -> Dict[str, Any]:
    return owner_view(_owned(owner, registration_id, now))


def update_for_owner(owner: str, registration_id: str, payload: Any, *, config: Config, now: datetime) -> Dict[str, Any]:
    patch = parse(RegistrationPatch, payload, {"postcode_format": config.postcode_format})
    changes = patch.model_fields_set
    if not changes:
        raise ValidationError("Send at least one field to change.")
    required = {"name", "address", "location", "camera_count"} & changes
    nulls = {name: "This is required." for name in required if getattr(patch, name) is None}
    if nulls:
        raise ValidationError("Some of the details need correcting.", nulls)

    item = _owned(owner, registration_id, now)
    was_active = item.status == ACTIVE
    old_keys = index.keys(item)
    if "status" in changes and patch.status is not None:
        if item.status == PENDING:
            raise Conflict(
                "Confirm your email address first: use the link we sent you.",
                {"status": "This registration has not been verified yet."},
            )
        item.status = patch.status
    elif item.reconfirm_paused_at is not None:
        item.status = ACTIVE  # paused for want of re-confirmation: an owner's change answers it
    _mark_confirmed(item, now)
    _apply_details(item, patch, now, only=changes - {"status"})
    _check_cameras(
        int(item.camera_count),
        [CameraIn.model_validate(c.as_dict()) for c in item.cameras],
        PointIn(lat=item.location.lat, lon=item.location.lon),
    )
    if item.status == ACTIVE:
        index.add(item)  # before the save: the index stays a superset of the active set
    with _unless_changed_elsewhere():
        item.save()
    if was_active and (item.status != ACTIVE or index.keys(item) != old_keys):
        index.remove(old_keys)
    return owner_view(item)


def delete_for_owner(owner: str, registration_id: str, *, notify: Notify, now: datetime) -> None:
    """Delete a registration: at once, nobody can find or open it; then the notifications
    handler emails the owner a confirmation and removes it, with everything that names it
    (``mail.deliveries``). Nothing personal travels in the queue: the message names the
    registration, whose tombstone holds the address until the confirmation is sent.

    A retry (after a failure at any step) finds the tombstone and redoes what follows it.
    """
    item = _owned(owner, registration_id, now, deleted_too=True)
    if item.status != DELETED:
        item.status = DELETED
        item.updated_at = now
        item.expires_at = None
        with _unless_changed_elsewhere():
            item.save()
    index.remove(index.keys(item))
    notify({"type": "registration_deleted", "registration_id": registration_id})


def preview_confirmation(payload: Any, *, config: Config, now: datetime) -> Dict[str, Any]:
    """The yearly re-confirmation page's view of its registration; changes nothing."""
    return currency.preview(parse(TokenIn, payload).token, config=config, now=now)


def confirm(payload: Any, *, now: datetime) -> Dict[str, Any]:
    """The owner's "Yes, this is still right" (``registry.currency``)."""
    return currency.confirm(parse(TokenIn, payload).token, now=now)


# ---------------------------------------------------------------------------------------------


def _mark_confirmed(item: Registration, now: datetime) -> None:
    """Any change the owner makes says the registration is theirs and current: the yearly
    re-confirmation starts again from now."""
    item.confirmed_at = now
    item.reconfirm_asked_at = None
    item.reconfirm_paused_at = None


def _apply_details(item: Registration, data: Schema, now: datetime, only: Optional[set] = None) -> None:
    fields = only if only is not None else set(Details.model_fields)
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


@contextmanager
def _unless_changed_elsewhere() -> Iterator[None]:
    """A versioned write that lost to another change becomes a Conflict the owner can act on."""
    try:
        yield
    except (PutError, DeleteError) as exc:
        if not condition_failed(exc):
            raise
        raise Conflict("This registration was changed elsewhere. Reload it and try again.") from None


def _owned(owner: str, registration_id: str, now: datetime, deleted_too: bool = False) -> Registration:
    missing = NotFound("There is no such registration for your email address.")
    if not REGISTRATION.matches(registration_id):
        raise missing
    item = records.find(registration_id)
    if item is None or item.owner != owner or records.lapsed(item, now):
        raise missing
    if item.status == DELETED and not deleted_too:
        raise missing
    return item
