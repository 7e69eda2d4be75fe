"""find_within on DynamoDB (moto): the same set as brute force, with its cost counted."""
from __future__ import annotations

import math
import random
from typing import List, Tuple

import pytest

from chalicelib import geo

Entry = Tuple[str, float, float]
BIRMINGHAM = (52.4862, -1.8904)


def index(entries: List[Entry]) -> None:
    """Given these entries in the geo index, written the way registrations are."""
    from chalicelib.registry.tables import GeoIndexEntry

    with GeoIndexEntry.batch_write() as batch:
        for registration_id, lat, lon in entries:
            cell, position = geo.index_keys(lat, lon, registration_id)
            batch.save(GeoIndexEntry(cell, position, registration_id=registration_id, lat=lat, lon=lon))


def brute_force(entries: List[Entry], lat: float, lon: float, radius_m: float) -> List[str]:
    found = [(geo.haversine_m(lat, lon, e_lat, e_lon), rid) for rid, e_lat, e_lon in entries]
    return [rid for distance, rid in sorted(found) if distance <= radius_m]


def scatter(count: int, lat: float, lon: float, spread_m: float, seed: int, prefix: str) -> List[Entry]:
    rng = random.Random(seed)
    entries = []
    for n in range(count):
        d_lat = rng.uniform(-1, 1) * spread_m / 111_195
        d_lon = rng.uniform(-1, 1) * spread_m / (111_195 * max(0.01, math.cos(math.radians(lat))))
        entries.append((f"{prefix}{n:04d}", max(-90.0, min(90.0, lat + d_lat)), (lon + d_lon + 540.0) % 360.0 - 180.0))
    return entries


def test_find_within_returns_exactly_the_brute_force_set_nearest_first(aws):
    from chalicelib.registry.index import find_within

    # Given 400 entries around central Birmingham, across several partitions
    entries = scatter(400, *BIRMINGHAM, spread_m=6_000, seed=1, prefix="r")
    index(entries)
    for radius in (150.0, 800.0, 2_500.0, 5_000.0):
        # When an officer's search runs
        hits, stats = find_within(*BIRMINGHAM, radius)
        # Then it returns exactly what brute force returns, nearest first, with distances
        assert [h.registration_id for h in hits] == brute_force(entries, *BIRMINGHAM, radius)
        assert all(h.distance_m <= radius for h in hits)
        assert [h.distance_m for h in hits] == sorted(h.distance_m for h in hits)
        # And it says what it cost
        assert stats["queries"] == stats["ranges"] <= geo.MAX_QUERIES
        assert len(hits) <= stats["items_read"] <= len(entries)
        assert stats["cells"] >= stats["ranges"] and stats["partitions"] >= 1


def test_entries_on_partition_and_cell_edges_are_found(aws):
    from chalicelib.registry.index import find_within

    # Given entries exactly on, and a hair either side of, a partition corner
    corner_lat, corner_lon = -90 + 180 * 1621 / 2**11, -180 + 360 * 2026 / 2**12
    entries = [
        (f"edge{i}", corner_lat + d_lat, corner_lon + d_lon)
        for i, (d_lat, d_lon) in enumerate((a, b) for a in (-1e-9, 0.0, 1e-9, 5e-4) for b in (-1e-9, 0.0, 1e-9, -5e-4))
    ]
    index(entries)
    partitions = {geo.index_keys(lat, lon, rid)[0] for rid, lat, lon in entries}
    assert len(partitions) == 4
    for centre in ((corner_lat, corner_lon), (corner_lat + 0.0003, corner_lon - 0.0004)):
        hits, _ = find_within(*centre, 60.0)
        assert [h.registration_id for h in hits] == brute_force(entries, *centre, 60.0)
        assert hits


def test_a_search_across_the_antimeridian_finds_both_sides(aws):
    from chalicelib.registry.index import find_within

    entries = scatter(60, -17.0, 180.0, spread_m=1_500, seed=2, prefix="fiji") + [("east", -17.0, 180.0), ("west", -17.0, -180.0)]
    index(entries)
    hits, _ = find_within(-17.0, 179.999, 1_000.0)
    expected = brute_force(entries, -17.0, 179.999, 1_000.0)
    assert [h.registration_id for h in hits] == expected
    assert {"east", "west"} <= set(expected)
    assert {h.lon > 0 for h in hits} == {True, False}


def test_a_search_around_the_pole_finds_every_longitude(aws):
    from chalicelib.registry.index import find_within

    entries = [(f"p{lon + 180:03d}", 89.99, float(lon)) for lon in range(-180, 180, 20)] + [("pole", 90.0, 0.0)]
    index(entries)
    hits, stats = find_within(89.995, 100.0, 2_000.0)
    assert [h.registration_id for h in hits] == brute_force(entries, 89.995, 100.0, 2_000.0)
    assert len(hits) == len(entries)
    assert stats["queries"] <= geo.MAX_QUERIES


def test_pages_are_followed_and_counted_as_queries(aws):
    from chalicelib.registry.index import find_within

    # Given 120 entries in one small cell, read in pages of 7 items
    entries = scatter(120, *BIRMINGHAM, spread_m=80, seed=3, prefix="dense")
    index(entries)
    whole, whole_stats = find_within(*BIRMINGHAM, 100.0)
    paged, paged_stats = find_within(*BIRMINGHAM, 100.0, page_size=7)
    # Then the pages hold the same hits, and every page is a Query
    assert paged == whole
    assert [h.registration_id for h in whole] == brute_force(entries, *BIRMINGHAM, 100.0)
    assert paged_stats["items_read"] == whole_stats["items_read"]
    assert paged_stats["queries"] >= math.ceil(paged_stats["items_read"] / 7)
    assert paged_stats["queries"] > whole_stats["queries"]


def test_a_range_over_one_megabyte_is_read_to_its_last_page(aws):
    from chalicelib.registry.index import find_within

    # Given ~1.3 MB of entries in one range (long ids make each entry ~1.9 KB)
    entries = scatter(700, *BIRMINGHAM, spread_m=20, seed=4, prefix="x" * 900)
    index(entries)
    hits, stats = find_within(*BIRMINGHAM, 50.0)
    # Then DynamoDB's 1 MB page limit is followed, and the extra page is counted
    assert [h.registration_id for h in hits] == brute_force(entries, *BIRMINGHAM, 50.0)
    assert stats["queries"] > stats["ranges"]


def test_an_empty_area_costs_queries_but_reads_nothing(aws):
    from chalicelib.registry.index import find_within

    index(scatter(20, *BIRMINGHAM, spread_m=500, seed=5, prefix="r"))
    hits, stats = find_within(51.5074, -0.1278, 2_000.0)
    assert hits == [] and stats["items_read"] == 0 and 1 <= stats["queries"] <= geo.MAX_QUERIES


@pytest.mark.parametrize("radius", [0.0, -5.0])
def test_a_search_needs_a_positive_radius(radius):
    from chalicelib.registry.index import find_within

    with pytest.raises(ValueError):
        find_within(*BIRMINGHAM, radius)
