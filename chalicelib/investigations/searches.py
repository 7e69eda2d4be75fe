"""Officers' incident searches: the registered cameras near a point, exactly, with a trace.

The geo index (``registry.index``) finds candidate registrations within the circle; this module
reads the registrations themselves, keeps the active ones whose premises really are within the
radius (the index may briefly hold stale entries, see ``registry.registrations``), writes the
audit entry, saves the result for the officer, and only then returns it.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple

from pynamodb.exceptions import PynamoDBException

from chalicelib import geo
from chalicelib.base import audit
from chalicelib.base.audit import Action
from chalicelib.base.config import Config
from chalicelib.base.errors import NotFound, ServiceUnavailable
from chalicelib.base.ids import SEARCH, iso
from chalicelib.base.officers import Officer
from chalicelib.base.store import BATCH_GET_KEYS
from chalicelib.base.validation import parse, parse_time
from chalicelib.investigations import cases
from chalicelib.investigations.schemas import ReasonQuery, SearchIn
from chalicelib.investigations.tables import SavedSearch, SearchResultAttribute
from chalicelib.registry import index, records
from chalicelib.registry.tables import Registration
from chalicelib.registry.views import address_view, camera_view, point_view, retention_days

SAVED_SEARCH_DAYS = 90
# Registrations are read nearest first, this many at a time, until the limit is reached.
READ_STEP = 4 * BATCH_GET_KEYS


def run_search(payload: Any, officer: Officer, *, config: Config, now: datetime) -> Dict[str, Any]:
    """A search within a case the officer is on (the first search under a reference opens it)."""
    query = parse(SearchIn, payload)
    case = cases.for_search(
        query.case_ref, officer, category=query.category, summary=query.case_summary, config=config, now=now
    )
    incident_time = parse_time(query.incident_time) if query.incident_time else None
    hits, stats = index.find_within(query.lat, query.lon, query.radius_m)
    shown, total = _nearest_active(hits, query, query.limit)
    search_id = SEARCH.random()
    circle = {"lat": query.lat, "lon": query.lon, "radius_m": query.radius_m}
    audit.record(
        officer,
        Action.SEARCH,
        case_ref=case.case_ref,
        reason=query.reason,
        now=now,
        registration_ids=[item.registration_id for item, _ in shown],
        detail={"search_id": search_id, "circle": circle, "incident_time": query.incident_time},
    )
    try:
        SavedSearch(
            search_id,
            officer=officer.username,
            created_at=now,
            case_ref=case.case_ref,
            reason=query.reason,
            lat=query.lat,
            lon=query.lon,
            radius_m=query.radius_m,
            incident_time=incident_time,
            results=[SearchResultAttribute(registration_id=r.registration_id, distance_m=round(d, 1)) for r, d in shown],
            total=total,
            stats=stats,
            expires_at=now + timedelta(days=SAVED_SEARCH_DAYS),
        ).save()
    except PynamoDBException:
        raise ServiceUnavailable("The search could not be saved. Please try again.") from None
    return {
        "search_id": search_id,
        "created_at": iso(now),
        "case_ref": case.case_ref,
        "case_id": case.case_id,
        "circle": circle,
        "incident_time": query.incident_time,
        "total": total,
        "truncated": total > len(shown),
        "registrations": [officer_view(item, distance, incident_time) for item, distance in shown],
        "stats": stats,
    }


def get_search(search_id: str, params: Optional[Dict[str, str]], officer: Officer, now: datetime) -> Dict[str, Any]:
    """An earlier search of a case the officer is on, its registrations as they are now; the
    officer says again why they look (``?reason=``)."""
    reason = parse(ReasonQuery, dict(params or {})).reason
    missing = "There is no such search of yours."
    if not SEARCH.matches(search_id):
        raise NotFound(missing)
    try:
        saved = SavedSearch.get(search_id)
    except SavedSearch.DoesNotExist:
        raise NotFound(missing) from None
    if saved.expires_at <= now:
        raise NotFound(missing)
    cases.readable(saved.case_ref, officer, missing)
    wanted = [r.registration_id for r in saved.results]
    current = _within(records.read_active(wanted), float(saved.lat), float(saved.lon), float(saved.radius_m))
    audit.record(
        officer,
        Action.VIEW_SEARCH,
        case_ref=saved.case_ref,
        reason=reason,
        now=now,
        registration_ids=[item.registration_id for item, _ in current],
        detail={"search_id": search_id},
    )
    return {
        "search_id": search_id,
        "created_at": iso(saved.created_at),
        "case_ref": saved.case_ref,
        "circle": {"lat": float(saved.lat), "lon": float(saved.lon), "radius_m": float(saved.radius_m)},
        "incident_time": iso(saved.incident_time) if saved.incident_time else None,
        "total": int(saved.total),
        "no_longer_available": len(wanted) - len(current),
        "registrations": [officer_view(item, distance, saved.incident_time) for item, distance in current],
        "stats": saved.stats.as_dict() if hasattr(saved.stats, "as_dict") else dict(saved.stats),
    }


def officer_view(item: Registration, distance_m: float, incident_time: Optional[datetime]) -> Dict[str, Any]:
    retention = retention_days(item)
    overwritten = None
    if incident_time is not None and retention is not None:
        overwritten = iso(incident_time + timedelta(days=retention))
    return {
        "registration_id": item.registration_id,
        "location": point_view(item.location),
        "distance_m": round(distance_m, 1),
        "camera_count": int(item.camera_count),
        "cameras": [camera_view(c) for c in item.cameras],
        "retention_days": retention,
        "footage_overwritten_at": overwritten,
        "name": item.name,
        "business_name": item.business_name,
        "address": address_view(item),
    }


def _nearest_active(hits: List[Any], query: SearchIn, limit: int) -> Tuple[List[Tuple[Registration, float]], int]:
    """The ``limit`` nearest active registrations within the circle, and how many there are.

    Registrations are read nearest first, a few batches at a time, only until ``limit`` are
    found: a 5 km search in a city centre finds thousands, and officers see the nearest. Index
    entries beyond those read are counted in the total as they stand (the index can briefly
    hold an entry whose registration is being paused; the returned set is always exact).
    """
    found: List[Tuple[Registration, float]] = []
    read = 0
    while read < len(hits) and len(found) < limit:
        chunk = hits[read : read + READ_STEP]
        read += len(chunk)
        found.extend(_within(records.read_active(h.registration_id for h in chunk), query.lat, query.lon, query.radius_m))
    found.sort(key=lambda pair: (pair[1], pair[0].registration_id))
    return found[:limit], len(found) + (len(hits) - read)


def _within(items: List[Registration], lat: float, lon: float, radius_m: float) -> List[Tuple[Registration, float]]:
    """Registrations whose premises, as they are now, lie within the circle; nearest first."""
    measured = [
        (item, geo.haversine_m(lat, lon, float(item.location.lat), float(item.location.lon))) for item in items
    ]
    return sorted(
        [(item, distance) for item, distance in measured if distance <= radius_m],
        key=lambda pair: (pair[1], pair[0].registration_id),
    )
