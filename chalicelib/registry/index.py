"""The geo index on DynamoDB: kept in step with active registrations, and read exactly.

Writing: :func:`add` puts a registration's entry, :func:`remove` deletes it (the callers order
these around the registration's own writes, see ``registrations``).

Reading: every index entry within a radius, exactly, at a measured cost.

``geo.plan_search`` says which key ranges to read; this module reads them concurrently (each
range to its last page), keeps the entries whose great-circle distance is within the radius
and sorts them by distance. Every search reports what it cost: DynamoDB Query calls (pages
included) and items read (the sum of ``ScannedCount``), so over-read is measured, not guessed.

The index is a superset of the active registrations; the caller checks each hit's status.
"""
from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from chalicelib import geo
from chalicelib.base import pools
from chalicelib.registry.tables import GeoIndexEntry, Registration

_REGISTRATION_ID = GeoIndexEntry.registration_id.attr_name
_LAT = GeoIndexEntry.lat.attr_name
_LON = GeoIndexEntry.lon.attr_name


def add(item: Registration) -> None:
    cell, position = geo.index_keys(item.location.lat, item.location.lon, item.registration_id)
    GeoIndexEntry(
        cell,
        position,
        registration_id=item.registration_id,
        lat=item.location.lat,
        lon=item.location.lon,
    ).save()


def remove(entry_keys: Tuple[str, str]) -> None:
    """Delete the entry with these keys (``keys(item)`` of a registration as it was)."""
    GeoIndexEntry(*entry_keys).delete()


def keys(item: Registration) -> Tuple[str, str]:
    """The keys of the registration's entry, for where it is in ``item``."""
    return geo.index_keys(item.location.lat, item.location.lon, item.registration_id)


class IndexHit(NamedTuple):
    registration_id: str
    lat: float
    lon: float
    distance_m: float


def find_within(
    lat: float,
    lon: float,
    radius_m: float,
    *,
    max_queries: int = geo.MAX_QUERIES,
    page_size: Optional[int] = None,
) -> Tuple[List[IndexHit], Dict[str, int]]:
    """Index entries within ``radius_m`` of (lat, lon), nearest first, and what finding them cost.

    Stats: ``queries`` (DynamoDB Query calls, pages included), ``items_read`` (entries DynamoDB
    read, i.e. ScannedCount), ``ranges`` (key ranges in the plan), ``cells`` (geohash cells in
    the covering) and ``partitions`` (partition keys touched). ``page_size`` limits the items per
    page (tests use it to exercise pagination; DynamoDB pages at 1 MB anyway).
    """
    plan = geo.plan_search(lat, lon, radius_m, max_queries)
    hits, stats = find_in_ranges(lat, lon, radius_m, plan.ranges, page_size=page_size)
    stats.update(cells=plan.cells, partitions=plan.partitions)
    return hits, stats


def find_in_ranges(
    lat: float, lon: float, radius_m: float, ranges: Sequence[geo.KeyRange], *, page_size: Optional[int] = None
) -> Tuple[List[IndexHit], Dict[str, int]]:
    """Entries of these key ranges within ``radius_m``, nearest first; ranges read concurrently.

    Exact only if the ranges cover the circle (``find_within`` makes sure of it); the benchmark
    also runs other covering rules through here, so that they are measured the same way.
    """
    if len(ranges) == 1:
        results = [_read_range(ranges[0], page_size)]
    else:
        pool = pools.reads()
        futures = [pool.submit(_read_range, key_range, page_size) for key_range in ranges]
        results = [future.result() for future in futures]
    hits: List[IndexHit] = []
    queries = items_read = 0
    for pages, scanned, items in results:
        queries += pages
        items_read += scanned
        for item in items:
            item_lat, item_lon = float(item[_LAT]["N"]), float(item[_LON]["N"])
            distance = geo.haversine_m(lat, lon, item_lat, item_lon)
            if distance <= radius_m:
                hits.append(IndexHit(item[_REGISTRATION_ID]["S"], item_lat, item_lon, distance))
    hits.sort(key=lambda hit: (hit.distance_m, hit.registration_id))
    return hits, {"queries": queries, "items_read": items_read, "ranges": len(ranges)}


def _read_range(key_range: geo.KeyRange, page_size: Optional[int]) -> Tuple[int, int, List[Dict[str, Any]]]:
    """(pages, items read, raw items) of one key range, following pagination to the end."""
    result = GeoIndexEntry.query(
        key_range.partition,
        GeoIndexEntry.position.between(key_range.low, key_range.high),
        attributes_to_get=[_REGISTRATION_ID, _LAT, _LON],
        page_size=page_size,
    )
    pages = 0
    items: List[Dict[str, Any]] = []
    # Raw pages rather than model instances: a 5 km search can read thousands of entries, and
    # only three attributes of each are needed.
    for page in result.page_iter:
        pages += 1
        items.extend(page.get("Items", []))
    return pages, result.page_iter.total_scanned_count, items
