"""Officers' incident searches: the registered cameras near a point, exactly, with a trace.

The geo index (``registry.index``) finds candidate registrations within the circle; this module
reads the registrations themselves, keeps the active ones whose premises really are within the
radius (the index may briefly hold stale entries, see ``registry.registrations``), writes the
audit entry, saves the result for the officer, and only then returns it.

Filters (``SearchIn.filters``) are applied to the registrations as they are read, before they
are counted, capped, audited or shown: a capped search returns the nearest registrations that
pass them, never the nearest registrations thinned out afterwards. A camera *points towards*
the incident point when its direction is within ``towards_within_deg`` of the initial bearing
from the camera (its own location, else the premises) to the point; a camera of unknown
direction is never dropped by that filter, and is marked ``towards: null``.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Tuple

from pynamodb.exceptions import PynamoDBException

from chalicelib import geo
from chalicelib.base import audit
from chalicelib.base.audit import Action
from chalicelib.base.config import Config
from chalicelib.base.errors import NotFound, ServiceUnavailable, ValidationError
from chalicelib.base.ids import SEARCH, iso
from chalicelib.base.officers import Officer
from chalicelib.base.store import BATCH_GET_KEYS
from chalicelib.base.validation import parse, parse_time
from chalicelib.footage import requests
from chalicelib.investigations import cases
from chalicelib.investigations.schemas import ReasonQuery, SearchIn
from chalicelib.investigations.tables import SavedSearch, SearchResultAttribute
from chalicelib.registry import index, records
from chalicelib.registry.tables import CameraAttribute, Registration
from chalicelib.registry.views import address_view, camera_view, point_view, retention_days

SAVED_SEARCH_DAYS = 90
# Registrations are read nearest first, this many at a time, until the limit is reached.
READ_STEP = 4 * BATCH_GET_KEYS
# A camera this close to the incident point sees it whichever way it points.
AT_THE_POINT_M = 1.0


@dataclasses.dataclass(frozen=True)
class Filters:
    """The filters a search applied, with the angle resolved (the request's or the force's)."""

    towards: bool
    towards_within_deg: int
    held_at_incident: bool
    premises: Optional[str]

    def as_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def any(self) -> bool:
        return self.towards or self.held_at_incident or self.premises is not None


@dataclasses.dataclass(frozen=True)
class _Looking:
    """What each registration is judged and shown against: the point, the time, the filters."""

    lat: float
    lon: float
    incident_time: Optional[datetime]
    filters: Filters
    config: Config
    now: datetime


def run_search(payload: Any, officer: Officer, *, config: Config, now: datetime) -> Dict[str, Any]:
    """A search within a case the officer is on (the first search under a reference opens it)."""
    query = parse(SearchIn, payload)
    filters = _filters(query, config)
    case = cases.for_search(
        query.case_ref, officer, category=query.category, summary=query.case_summary, config=config, now=now
    )
    incident_time = parse_time(query.incident_time) if query.incident_time else None
    looking = _Looking(query.lat, query.lon, incident_time, filters, config, now)
    hits, stats = index.find_within(query.lat, query.lon, query.radius_m)
    shown, total, exact = _nearest_active(hits, query, query.limit, lambda item: _passes(item, looking))
    search_id = SEARCH.random()
    circle = {"lat": query.lat, "lon": query.lon, "radius_m": query.radius_m}
    audit.record(
        officer,
        Action.SEARCH,
        case_ref=case.case_ref,
        reason=query.reason,
        now=now,
        registration_ids=[item.registration_id for item, _ in shown],
        detail={
            "search_id": search_id,
            "circle": circle,
            "incident_time": query.incident_time,
            "filters": filters.as_dict(),
        },
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
            filters=filters.as_dict(),
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
        "filters": filters.as_dict(),
        "total": total,
        "total_exact": exact,
        "truncated": total > len(shown),
        "registrations": _views(shown, looking),
        "stats": stats,
    }


def get_search(
    search_id: str, params: Optional[Dict[str, str]], officer: Officer, *, config: Config, now: datetime
) -> Dict[str, Any]:
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
    filters = _saved_filters(saved, config)
    looking = _Looking(
        float(saved.lat), float(saved.lon), saved.incident_time, filters, config, now
    )
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
        "filters": filters.as_dict(),
        "total": int(saved.total),
        "no_longer_available": len(wanted) - len(current),
        # Shown as they are now (a direction or retention may have changed); not filtered again,
        # so that an officer sees again what the search showed, less what is no longer there.
        "registrations": _views(current, looking),
        "stats": saved.stats.as_dict() if hasattr(saved.stats, "as_dict") else dict(saved.stats),
    }


def officer_view(item: Registration, distance_m: float, looking: _Looking) -> Dict[str, Any]:
    """What an officer sees of a registration in a search: nothing beyond what officers saw
    before filters, plus facts derived from it (business or home, which cameras point towards
    the point, when the incident's footage is overwritten)."""
    retention = retention_days(item)
    overwritten = _overwritten_at(item, looking)
    cameras = [{**camera_view(c), "towards": _towards(item, c, looking)} for c in item.cameras]
    return {
        "registration_id": item.registration_id,
        "location": point_view(item.location),
        "distance_m": round(distance_m, 1),
        "camera_count": int(item.camera_count),
        "cameras": cameras,
        "towards": _any_towards([c["towards"] for c in cameras]),
        "retention_days": retention,
        # The force's default stands in for a retention the owner did not give.
        "retention_assumed": retention is None,
        "footage_overwritten_at": iso(overwritten) if overwritten else None,
        "footage_held": None if overwritten is None else overwritten > looking.now,
        "most_urgent": False,
        "business": _is_business(item),
        "name": item.name,
        "business_name": item.business_name,
        "address": address_view(item),
    }


def _views(found: List[Tuple[Registration, float]], looking: _Looking) -> List[Dict[str, Any]]:
    """Officers' views, the registration(s) whose held footage is overwritten first marked most urgent."""
    views = [officer_view(item, distance, looking) for item, distance in found]
    overwritten = [_overwritten_at(item, looking) for item, _ in found]
    held = [when for when in overwritten if when is not None and when > looking.now]
    if held:
        first = min(held)
        for view, when in zip(views, overwritten):
            view["most_urgent"] = when == first
    return views


def _filters(query: SearchIn, config: Config) -> Filters:
    given = query.filters
    if given is None:
        return Filters(False, config.towards_within_deg, False, None)
    if given.held_at_incident and query.incident_time is None:
        raise ValidationError(
            "Some of the details need correcting.",
            {"filters.held_at_incident": "Give incident_time to keep only footage still held at that time."},
        )
    within = given.towards_within_deg if given.towards_within_deg is not None else config.towards_within_deg
    return Filters(given.towards, within, given.held_at_incident, given.premises)


def _saved_filters(saved: SavedSearch, config: Config) -> Filters:
    raw = saved.filters.as_dict() if hasattr(saved.filters, "as_dict") else dict(saved.filters or {})
    return Filters(
        bool(raw.get("towards", False)),
        int(raw.get("towards_within_deg") or config.towards_within_deg),
        bool(raw.get("held_at_incident", False)),
        raw.get("premises"),
    )


def _passes(item: Registration, looking: _Looking) -> bool:
    filters = looking.filters
    if filters.premises is not None and _is_business(item) != (filters.premises == "business"):
        return False
    if filters.held_at_incident:
        overwritten = _overwritten_at(item, looking)
        if overwritten is None or overwritten <= looking.now:
            return False
    if filters.towards:
        # Kept when any camera points towards the point or its direction is unknown.
        if _any_towards([_towards(item, c, looking) for c in item.cameras]) is False:
            return False
    return True


def _is_business(item: Registration) -> bool:
    return bool(item.business_name and item.business_name.strip())


def _overwritten_at(item: Registration, looking: _Looking) -> Optional[datetime]:
    if looking.incident_time is None:
        return None
    # The owner's retention, or the force's default, as a footage request's deadline counts it.
    return looking.incident_time + timedelta(days=requests.retention_days(item, looking.config))


def _towards(item: Registration, camera: CameraAttribute, looking: _Looking) -> Optional[bool]:
    """Whether the camera points towards the incident point; None when its direction is unknown."""
    if camera.direction_deg is None:
        return None
    where = camera.location if camera.location is not None else item.location
    lat, lon = float(where.lat), float(where.lon)
    if geo.haversine_m(lat, lon, looking.lat, looking.lon) <= AT_THE_POINT_M:
        return True
    bearing = geo.initial_bearing_deg(lat, lon, looking.lat, looking.lon)
    return geo.angle_between_deg(float(camera.direction_deg), bearing) <= looking.filters.towards_within_deg


def _any_towards(marks: List[Optional[bool]]) -> Optional[bool]:
    """A registration's mark: True if a camera points towards the point, None if none does but
    some direction is unknown (or no camera is described), False if every camera points away."""
    if any(mark is True for mark in marks):
        return True
    if not marks or any(mark is None for mark in marks):
        return None
    return False


def _nearest_active(
    hits: List[Any], query: SearchIn, limit: int, keep: Callable[[Registration], bool]
) -> Tuple[List[Tuple[Registration, float]], int, bool]:
    """The ``limit`` nearest active registrations within the circle that ``keep`` accepts, how
    many there are, and whether that count is exact.

    Registrations are read nearest first, a few batches at a time, only until ``limit`` are
    found: a 5 km search in a city centre finds thousands, and officers see the nearest. Index
    entries beyond those read are counted in the total as they stand (the index can briefly
    hold an entry whose registration is being paused; the returned set is always exact). Those
    unread entries were not filtered, so with filters the total is then an upper bound.
    """
    found: List[Tuple[Registration, float]] = []
    read = 0
    while read < len(hits) and len(found) < limit:
        chunk = hits[read : read + READ_STEP]
        read += len(chunk)
        within = _within(records.read_active(h.registration_id for h in chunk), query.lat, query.lon, query.radius_m)
        found.extend(pair for pair in within if keep(pair[0]))
    found.sort(key=lambda pair: (pair[1], pair[0].registration_id))
    unread = len(hits) - read
    return found[:limit], len(found) + unread, unread == 0


def _within(items: List[Registration], lat: float, lon: float, radius_m: float) -> List[Tuple[Registration, float]]:
    """Registrations whose premises, as they are now, lie within the circle; nearest first."""
    measured = [
        (item, geo.haversine_m(lat, lon, float(item.location.lat), float(item.location.lon))) for item in items
    ]
    return sorted(
        [(item, distance) for item, distance in measured if distance <= radius_m],
        key=lambda pair: (pair[1], pair[0].registration_id),
    )
