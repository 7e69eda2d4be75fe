"""Geographic maths: geohash keys and great-circle distance. Pure: no AWS imports."""
from __future__ import annotations

import math
from typing import Tuple

import geohash2

# Mean Earth radius (IUGG), the one every distance in Sightline uses.
EARTH_RADIUS_M = 6_371_008.8

# Partition key precision of the geo index: a precision-5 cell is about 4.9 km x 4.9 km at the
# equator (3.0 km wide at 52°N), so a city spreads over dozens of partitions, none hot.
PARTITION_PRECISION = 5
# Sort key precision: about 3.7 cm, far below any radius a search asks for.
FULL_PRECISION = 12


def index_keys(lat: float, lon: float, registration_id: str) -> Tuple[str, str]:
    """(partition cell, sort key) of a registration's entry in the geo index."""
    full = geohash2.encode(lat, lon, precision=FULL_PRECISION)
    return full[:PARTITION_PRECISION], f"{full}#{registration_id}"


def encode(lat: float, lon: float, precision: int = FULL_PRECISION) -> str:
    return geohash2.encode(lat, lon, precision=precision)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
