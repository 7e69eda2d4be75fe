"""How a registration is shown: to its owner in full, and the parts officers see."""
from __future__ import annotations

from typing import Any, Dict, Optional

from chalicelib.base.ids import iso
from chalicelib.registry.tables import CameraAttribute, Registration


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
