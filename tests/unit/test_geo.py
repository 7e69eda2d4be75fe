"""The geo core against brute force: keys, exact cell distances, coverings and plans. No AWS."""
from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import geo

R = geo.EARTH_RADIUS_M

# Centres anywhere, with extra weight where coverings go wrong: near the antimeridian, near the
# poles and exactly on them.
latitudes = st.one_of(
    st.floats(-90, 90),
    st.floats(88, 90),
    st.floats(-90, -88),
    st.sampled_from([90.0, -90.0, 0.0, 52.4862]),
)
longitudes = st.one_of(
    st.floats(-180, 180),
    st.floats(179, 180),
    st.floats(-180, -179),
    st.sampled_from([180.0, -180.0, 0.0]),
)
radii = st.floats(10, geo.BUDGETED_RADIUS_M)
# A point as (distance as a share of the radius, bearing in degrees).
offsets = st.lists(st.tuples(st.floats(0, 1.3), st.floats(0, 360)), min_size=1, max_size=40)


def destination(lat: float, lon: float, distance_m: float, bearing_deg: float):
    """The point ``distance_m`` from (lat, lon) along a bearing, on the sphere."""
    phi, lmb, delta, theta = math.radians(lat), math.radians(lon), distance_m / R, math.radians(bearing_deg)
    phi2 = math.asin(min(1.0, max(-1.0, math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta))))
    lmb2 = lmb + math.atan2(math.sin(theta) * math.sin(delta) * math.cos(phi), math.cos(delta) - math.sin(phi) * math.sin(phi2))
    lon2 = (math.degrees(lmb2) + 540.0) % 360.0 - 180.0
    return max(-90.0, min(90.0, math.degrees(phi2))), lon2


def found_by(plan: geo.SearchPlan, lat: float, lon: float) -> bool:
    partition, position = geo.index_keys(lat, lon, "r1")
    return any(key_range.holds(partition, position) for key_range in plan.ranges)


def in_covering(cells, lat: float, lon: float) -> bool:
    partition, position = geo.index_keys(lat, lon, "r1")
    value = geo.geohash_bits(position.split("#")[0])
    return any(c.partition == partition and c.first <= value <= c.last for c in cells)


# --- keys ---------------------------------------------------------------------------------------


def test_index_keys_in_birmingham_are_a_23_bit_geohash_cell_and_the_full_geohash():
    partition, position = geo.index_keys(52.4862, -1.8904, "reg1")
    assert partition == "gcqd.110"
    assert position == f"{geo.encode(52.4862, -1.8904)}#reg1"
    south, north, west, east = geo.PARTITIONS.bounds(geo.PARTITIONS.partition_of(geo.geohash_bits(position[:12])))
    assert south <= 52.4862 <= north and west <= -1.8904 <= east
    assert (north - south, east - west) == (180 / 2**11, 360 / 2**12)


def test_partitions_widen_towards_the_poles_and_each_pole_is_one_partition():
    assert geo.index_keys(89.99, 3.0, "a")[0] == geo.index_keys(89.99, -177.0, "b")[0]
    assert geo.index_keys(-89.99, 3.0, "a")[0] == geo.index_keys(-89.99, -177.0, "b")[0]
    widths = [geo.PARTITIONS.column_bits(row) for row in range(1 << geo.PARTITIONS.lat_bits)]
    assert widths[0] == widths[-1] == 0
    assert max(widths) == geo.PARTITIONS.lon_bits
    for row, bits in enumerate(widths):
        south, north = (-90 + 180 * row / 2048, -90 + 180 * (row + 1) / 2048)
        poleward = max(abs(south), abs(north))
        if bits:
            assert 2 * math.pi * R * math.cos(math.radians(poleward)) / 2**bits >= geo.PARTITIONS.min_width_m


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(-90, 90), lon=st.floats(-180, 180))
def test_a_point_lies_in_its_partition_and_its_sort_key_is_its_geohash(lat, lon):
    partition_key, position = geo.index_keys(lat, lon, "r1")
    partition = geo.PARTITIONS.partition_of(geo.geohash_bits(position[:12]))
    assert partition.key == partition_key
    south, north, west, east = geo.PARTITIONS.bounds(partition)
    assert south <= lat <= north and west <= lon <= east
    assert geo.bits_geohash(geo.geohash_bits(position[:12])) == position[:12]


def test_partition_keys_are_distinct_across_the_grid():
    grid = geo.PARTITIONS
    rows = range(0, 1 << grid.lat_bits, 7)
    keys = [grid.partition(row, column).key for row in rows for column in range(0, 1 << grid.column_bits(row), 97)]
    assert len(keys) == len(set(keys))


# --- exact distance from a centre to a cell -----------------------------------------------------

cells = st.tuples(st.floats(-90, 90), st.floats(-90, 90), st.floats(-180, 180), st.floats(-180, 180)).map(
    lambda t: (min(t[0], t[1]), max(t[0], t[1]), min(t[2], t[3]), max(t[2], t[3]))
)


@settings(max_examples=200, deadline=None)
@given(lat=latitudes, lon=longitudes, bounds=cells, samples=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=20))
def test_no_point_of_a_cell_is_nearer_or_farther_than_the_cell_distances_say(lat, lon, bounds, samples):
    south, north, west, east = bounds
    circle = geo.Circle(lat, lon, 1000.0)
    nearest, farthest = circle.nearest_m(*bounds), circle.farthest_m(*bounds)
    for u, v in samples + [(0, 0), (0, 1), (1, 0), (1, 1)]:
        d = geo.haversine_m(lat, lon, south + u * (north - south), west + v * (east - west))
        assert nearest - 1e-6 <= d <= farthest + 1e-6


def test_nearest_point_of_a_cell_can_be_inside_an_edge():
    # West of the cell, at high latitude: the nearest point is where the great circle from the
    # centre meets the meridian edge at a right angle, north of the centre's latitude.
    circle = geo.Circle(60.0, 0.0, 1.0)
    nearest = circle.nearest_m(59.0, 62.0, 10.0, 11.0)
    assert nearest < geo.haversine_m(60.0, 0.0, 60.0, 10.0)
    best = min(geo.haversine_m(60.0, 0.0, 59.0 + i * 3e-4, 10.0) for i in range(10001))
    assert nearest == pytest.approx(best, abs=1.0)


def test_the_nearest_point_of_a_cell_beyond_the_pole_is_the_pole():
    circle = geo.Circle(89.9, 0.0, 1.0)
    degree = math.pi / 180 * R
    assert circle.nearest_m(89.95, 90.0, -10.0, 10.0) == pytest.approx(0.05 * degree, rel=1e-9)
    assert circle.nearest_m(89.95, 90.0, 170.0, 180.0) == pytest.approx(0.1 * degree, rel=1e-9)
    assert circle.farthest_m(89.95, 90.0, 170.0, 180.0) == pytest.approx(0.15 * degree, rel=1e-9)
    assert circle.nearest_m(89.8, 90.0, -180.0, 180.0) == 0.0


# --- coverings and plans against brute force -----------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lat=latitudes, lon=longitudes, radius=radii, points=offsets)
def test_the_plan_finds_every_point_within_the_radius_anywhere(lat, lon, radius, points):
    plan = geo.plan_search(lat, lon, radius)
    assert len(plan.ranges) <= geo.MAX_QUERIES
    for share, bearing in points + [(1.0, b) for b in (0, 90, 180, 270)]:
        p_lat, p_lon = destination(lat, lon, share * radius, bearing)
        if geo.haversine_m(lat, lon, p_lat, p_lon) <= radius:
            assert found_by(plan, p_lat, p_lon), (p_lat, p_lon)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lat=latitudes, lon=longitudes, radius=radii, points=offsets)
def test_every_covering_cell_touches_the_circle_and_the_covering_holds_every_point(lat, lon, radius, points):
    covering = geo.cover_circle(lat, lon, radius)
    circle = geo.Circle(lat, lon, radius)
    assert covering
    assert all(circle.touches(*cell.bounds) for cell in covering)
    for share, bearing in points:
        p_lat, p_lon = destination(lat, lon, share * radius, bearing)
        if geo.haversine_m(lat, lon, p_lat, p_lon) <= radius:
            assert in_covering(covering, p_lat, p_lon)


@settings(max_examples=200, deadline=None)
@given(lat=latitudes, lon=longitudes, radius=st.floats(10, geo.BUDGETED_RADIUS_M), budget=st.integers(1, 12))
def test_a_plan_never_exceeds_its_budget_up_to_5_km(lat, lon, radius, budget):
    partitions = geo.touched_partitions(lat, lon, radius)
    assert len(partitions) <= geo.MAX_QUERIES
    plan = geo.plan_search(lat, lon, radius, max_queries=budget)
    assert len(plan.ranges) <= max(budget, len(partitions))
    assert {r.partition for r in plan.ranges} == {p.key for p in partitions}


def test_partitions_touched_by_5_km_circles_stay_within_budget_at_every_latitude():
    rng = random.Random(1)
    for band in range(0, 90, 2):
        for _ in range(40):
            lat = rng.choice((1, -1)) * rng.uniform(band, band + 2)
            assert len(geo.touched_partitions(lat, rng.uniform(-180, 180), 5_000)) <= geo.MAX_QUERIES


def test_key_ranges_are_ordered_and_disjoint_within_a_partition():
    plan = geo.plan_search(52.4862, -1.8904, 5_000)
    by_partition = {}
    for key_range in plan.ranges:
        assert key_range.low < key_range.high
        by_partition.setdefault(key_range.partition, []).append(key_range)
    for ranges in by_partition.values():
        ranges.sort(key=lambda r: r.low)
        assert all(a.high < b.low for a, b in zip(ranges, ranges[1:]))


# --- explicit edge cases ---------------------------------------------------------------------------


def brute_force_check(lat: float, lon: float, radius: float, points) -> int:
    plan = geo.plan_search(lat, lon, radius)
    inside = 0
    for p_lat, p_lon in points:
        if geo.haversine_m(lat, lon, p_lat, p_lon) <= radius:
            inside += 1
            assert found_by(plan, p_lat, p_lon), (p_lat, p_lon)
    return inside


def test_points_exactly_on_partition_and_cell_edges_are_found():
    # A partition corner near Birmingham: lat and lon on exact 23-bit boundaries.
    corner_lat = -90 + 180 * 1621 / 2**11
    corner_lon = -180 + 360 * 2026 / 2**12
    points = [
        (corner_lat + dlat, corner_lon + dlon)
        for dlat in (-1e-4, -1e-12, 0.0, 1e-12, 1e-4)
        for dlon in (-1e-4, -1e-12, 0.0, 1e-12, 1e-4)
    ]
    for centre in ((corner_lat, corner_lon), (corner_lat + 0.001, corner_lon - 0.001)):
        assert brute_force_check(*centre, 200.0, points) >= 1


def test_a_circle_across_the_antimeridian_finds_both_sides():
    points = [(10.0, 179.9995), (10.0, -179.9995), (10.0, 180.0), (10.0, -180.0), (10.0005, 179.99999)]
    assert brute_force_check(10.0, 180.0, 500.0, points) == 5
    assert brute_force_check(10.0, -179.999, 500.0, points) == 5


def test_a_circle_containing_the_north_pole_finds_points_at_every_longitude():
    points = [(89.99, lon) for lon in range(-180, 181, 15)] + [(90.0, 0.0), (89.999, 123.0)]
    assert brute_force_check(89.995, 45.0, 2_000.0, points) == len(points)


def test_a_circle_centred_on_the_south_pole_finds_points_at_every_longitude():
    points = [(-89.98, lon) for lon in range(-180, 181, 30)] + [(-90.0, 10.0)]
    assert brute_force_check(-90.0, 0.0, 5_000.0, points) == len(points)


def test_high_latitude_circles_are_exact():
    rng = random.Random(4)
    for lat in (60.0, 70.0, 78.2, 85.0, 88.5, 89.9):
        points = [destination(lat, 15.0, rng.uniform(0, 1.2) * 3_000, rng.uniform(0, 360)) for _ in range(300)]
        assert brute_force_check(lat, 15.0, 3_000.0, points) > 0


def test_a_point_exactly_at_the_radius_is_found():
    lat, lon = destination(52.4862, -1.8904, 1_000.0, 37.0)
    radius = geo.haversine_m(52.4862, -1.8904, lat, lon)
    assert brute_force_check(52.4862, -1.8904, radius, [(lat, lon)]) == 1


def test_small_circles_read_little_beyond_the_circle():
    # The plan's cells, not counting merged gaps, are within a few percent of the circle.
    lat, lon, radius = 52.4862, -1.8904, 300.0
    covering = geo.cover_circle(lat, lon, radius)
    area = sum(
        R**2 * math.radians(c.bounds[3] - c.bounds[2]) * (math.sin(math.radians(c.bounds[1])) - math.sin(math.radians(c.bounds[0])))
        for c in covering
    )
    assert area < 1.25 * math.pi * radius**2


@pytest.mark.parametrize("lat, lon, radius", [(91.0, 0.0, 100.0), (0.0, 181.0, 100.0), (0.0, 0.0, 0.0), (0.0, 0.0, float("nan"))])
def test_impossible_searches_are_refused(lat, lon, radius):
    with pytest.raises(ValueError):
        geo.plan_search(lat, lon, radius)


# --- bearings -----------------------------------------------------------------------------------


def test_bearings_to_the_four_compass_points():
    lat, lon = 52.4862, -1.8904
    assert geo.initial_bearing_deg(lat, lon, lat + 0.01, lon) == pytest.approx(0.0, abs=1e-9)
    assert geo.initial_bearing_deg(lat, lon, lat, lon + 0.01) == pytest.approx(90.0, abs=0.01)
    assert geo.initial_bearing_deg(lat, lon, lat - 0.01, lon) == pytest.approx(180.0, abs=1e-9)
    assert geo.initial_bearing_deg(lat, lon, lat, lon - 0.01) == pytest.approx(270.0, abs=0.01)


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(-80, 80), lon=st.floats(-180, 180), distance=st.floats(1, 20_000), bearing=st.floats(0, 360, exclude_max=True))
def test_the_bearing_towards_a_point_is_the_course_that_reaches_it(lat, lon, distance, bearing):
    # Given a point reached by walking `distance` along `bearing`
    lat2, lon2 = destination(lat, lon, distance, bearing)
    # Then the initial bearing from the start towards it is that course
    found = geo.initial_bearing_deg(lat, lon, lat2, lon2)
    assert 0.0 <= found < 360.0
    assert geo.angle_between_deg(found, bearing) < 1e-4


@settings(max_examples=300, deadline=None)
@given(a=st.floats(-1000, 1000), b=st.floats(-1000, 1000), turns=st.integers(-3, 3))
def test_the_angle_between_directions_is_symmetric_bounded_and_ignores_whole_turns(a, b, turns):
    angle = geo.angle_between_deg(a, b)
    assert 0.0 <= angle <= 180.0
    assert angle == pytest.approx(geo.angle_between_deg(b, a), abs=1e-9)
    assert angle == pytest.approx(geo.angle_between_deg(a + 360.0 * turns, b), abs=1e-9)


def test_angles_across_north():
    assert geo.angle_between_deg(350, 10) == pytest.approx(20)
    assert geo.angle_between_deg(0, 180) == pytest.approx(180)
    assert geo.angle_between_deg(90, 90) == 0
