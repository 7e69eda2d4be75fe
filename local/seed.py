"""Synthetic active registrations at a real force's density, for the local stack and benchmarks.

Points are drawn around town centres: most within a few kilometres of the centre (dense
terraces and flats), the rest spread over the suburbs. Deterministic for a given seed.
"""
from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from typing import Iterator, List, Sequence, Tuple

from chalicelib import geo
from chalicelib.models import GeoIndexEntry, PointAttribute, AddressAttribute, Registration

# (name, lat, lon, share of the registrations, spread in km)
WEST_MIDLANDS: Sequence[Tuple[str, float, float, float, float]] = (
    ("Birmingham", 52.4862, -1.8904, 0.72, 5.5),
    ("Coventry", 52.4068, -1.5197, 0.28, 3.5),
)


def synthetic_points(count: int, towns=WEST_MIDLANDS, seed: int = 7) -> Iterator[Tuple[str, float, float]]:
    rng = random.Random(seed)
    names = [t[0] for t in towns]
    weights = [t[3] for t in towns]
    by_name = {t[0]: t for t in towns}
    for _ in range(count):
        name, lat0, lon0, _share, spread_km = by_name[rng.choices(names, weights)[0]]
        # Urban core (normal) and suburbs (wider, flatter): a realistic falling density.
        sigma_km = spread_km * (0.45 if rng.random() < 0.65 else 1.1)
        dx, dy = rng.gauss(0, sigma_km), rng.gauss(0, sigma_km)
        lat = lat0 + dy / 111.2
        lon = lon0 + dx / (111.2 * math.cos(math.radians(lat0)))
        yield name, lat, lon


def seed_registrations(count: int, seed: int = 7) -> int:
    now = datetime.now(timezone.utc)
    registrations: List[Registration] = []
    entries: List[GeoIndexEntry] = []
    for number, (town, lat, lon) in enumerate(synthetic_points(count, seed=seed)):
        registration_id = f"rseed{number:07d}"
        email = f"seed-{number}@example.invalid"
        registrations.append(
            Registration(
                registration_id,
                owner_email=email,
                email=email,
                name=f"Synthetic Resident {number}",
                address=AddressAttribute(line1=f"{number % 300 + 1} Example Road", town=town, postcode="B1 1AA"),
                location=PointAttribute(lat=lat, lon=lon),
                geohash=geo.encode(lat, lon),
                camera_count=1 + number % 4,
                cameras=[],
                retention_days=7 + number % 31,
                status="active",
                consented_at=now,
                created_at=now,
                updated_at=now,
                verified_at=now,
                version=1,
            )
        )
        cell, position = geo.index_keys(lat, lon, registration_id)
        entries.append(GeoIndexEntry(cell, position, registration_id=registration_id, lat=lat, lon=lon))
    with Registration.batch_write() as batch:
        for item in registrations:
            batch.save(item)
    with GeoIndexEntry.batch_write() as batch:
        for item in entries:
            batch.save(item)
    return count
