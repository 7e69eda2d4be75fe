"""How a registration is shown: to its owner in full, and the parts officers see."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Optional

from chalicelib.base.ids import iso
from chalicelib.registry.tables import PENDING, CameraAttribute, Registration


def owner_view(item: Registration) -> Dict[str, Any]:
    return {
        "registration_id": item.registration_id,
        "status": item.status,
        "name": item.name,
        "email": item.email,
        "phone": item.phone,
        "business_name": item.business_name,
        "address": address_view(item),
        "location": point_view(item.location),
        "camera_count": int(item.camera_count),
        "cameras": [camera_view(camera) for camera in item.cameras],
        "retention_days": retention_days(item),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "verified_at": iso(item.verified_at) if item.verified_at else None,
        "consented_at": iso(item.consented_at),
        "confirmed_at": iso(last_confirmed(item)) if item.status != PENDING else None,
        "reconfirmation": reconfirmation_view(item),
    }


def last_confirmed(item: Registration) -> datetime:
    """When the owner last said the details are right; items from before ``confirmed_at``
    existed count from their verification (or, failing that, their creation)."""
    return item.confirmed_at or item.verified_at or item.created_at


def reconfirmation_view(item: Registration) -> Dict[str, Any]:
    """Where the yearly re-confirmation stands: ``current``, ``asked`` (an email went out),
    ``paused`` (paused for want of an answer; confirming resumes it)."""
    state = "paused" if item.reconfirm_paused_at else "asked" if item.reconfirm_asked_at else "current"
    return {
        "state": state,
        "asked_at": iso(item.reconfirm_asked_at) if item.reconfirm_asked_at else None,
        "paused_at": iso(item.reconfirm_paused_at) if item.reconfirm_paused_at else None,
    }


def address_view(item: Registration) -> Dict[str, Any]:
    address = item.address
    return {"line1": address.line1, "line2": address.line2, "town": address.town, "postcode": address.postcode}


def camera_view(camera: CameraAttribute) -> Dict[str, Any]:
    return {
        "location": point_view(camera.location) if camera.location is not None else None,
        "direction_deg": None if camera.direction_deg is None else int(camera.direction_deg),
        "description": camera.description,
    }


def point_view(point: Any) -> Dict[str, float]:
    return {"lat": float(point.lat), "lon": float(point.lon)}


def retention_days(item: Registration) -> Optional[int]:
    return None if item.retention_days is None else int(item.retention_days)


def rough_area(item: Registration) -> str:
    """Where the premises are, roughly, for an owner's page: never the exact address."""
    district = item.address.postcode.split(" ")[0]
    return f"near {item.address.town}, {district}"
