"""The benchmark's fixed data and searches, and the brute-force answer they are checked against."""
from __future__ import annotations

import bisect
import dataclasses
import math
import random
from typing import Dict, List, Sequence, Tuple

from chalicelib import geo
from local.seed import OTHER_TOWNS, WEST_MIDLANDS, synthetic_points

BASE_COUNT = 10_000
GROWN_COUNT = 200_000

# Radius bands (metres); the targets on read amplification apply to the bands up to 2 km.
BANDS: Tuple[Tuple[float, float], ...] = ((100, 250), (250, 500), (500, 1_000), (1_000, 2_000), (2_000, 5_000))
AMPLIFICATION_BANDS = 4


@dataclasses.dataclass(frozen=True)
class Point:
    registration_id: str
    lat: float
    lon: float


@dataclasses.dataclass(frozen=True)
class Search:
    band: int
    lat: float
    lon: float
    radius_m: float


def band_label(band: int) -> str:
    low, high = BANDS[band]
    text = lambda m: f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m"  # noqa: E731
    return f"{text(low)}-{text(high)}"


def base_points(count: int = BASE_COUNT) -> List[Point]:
    """The West Midlands: Birmingham and Coventry, where every search happens."""
    return [Point(f"rwm{n:07d}", lat, lon) for n, (_town, lat, lon) in enumerate(synthetic_points(count, WEST_MIDLANDS, seed=7))]


def growth_points(count: int = GROWN_COUNT - BASE_COUNT) -> List[Point]:
    """More towns at the same density, all far from the West Midlands."""
    return [Point(f"ruk{n:07d}", lat, lon) for n, (_town, lat, lon) in enumerate(synthetic_points(count, OTHER_TOWNS, seed=8))]


def searches(per_band: int, seed: int = 11) -> List[Search]:
    """Random incidents where people live (drawn like the registrations), radii log-uniform."""
    rng = random.Random(seed)
    centres = list(synthetic_points(per_band * len(BANDS), WEST_MIDLANDS, seed=seed))
    found: List[Search] = []
    for band, (low, high) in enumerate(BANDS):
        for _town, lat, lon in centres[band * per_band : (band + 1) * per_band]:
            radius = math.exp(rng.uniform(math.log(low), math.log(high)))
            found.append(Search(band, lat, lon, radius))
    return found


class BruteForce:
    """Every registration within the radius by haversine, the answer a search must give.

    Checks every point of the latitude strip that could hold an answer (a point farther in
    latitude than the radius is farther in distance too), so it stays exact and fast.
    """

    def __init__(self, points: Sequence[Point]) -> None:
        self._points = sorted(points, key=lambda p: p.lat)
        self._lats = [p.lat for p in self._points]

    def within(self, lat: float, lon: float, radius_m: float) -> Dict[str, float]:
        strip = math.degrees(radius_m / geo.EARTH_RADIUS_M) * (1 + 1e-9) + 1e-9
        low = bisect.bisect_left(self._lats, lat - strip)
        high = bisect.bisect_right(self._lats, lat + strip)
        found: Dict[str, float] = {}
        for point in self._points[low:high]:
            distance = geo.haversine_m(lat, lon, point.lat, point.lon)
            if distance <= radius_m:
                found[point.registration_id] = distance
        return found
