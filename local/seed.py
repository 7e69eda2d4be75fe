"""Synthetic active registrations at a real force's density, for the local stack and benchmarks.

Points are drawn around town centres: most within a few kilometres of the centre (dense
terraces and flats), the rest spread over the suburbs. Deterministic for a given seed.

A town's share of the points is proportional to its spread squared, so every town has the
same density profile as Birmingham at the same number of points per town-area:
``WEST_MIDLANDS`` at 10,000 points and ``OTHER_TOWNS`` at 190,000 have the same density
(about 238 points per km² of spread², i.e. ~120 registrations per km² in a city centre).
The other towns are all more than 50 km from Birmingham and Coventry, so searches there never
reach them: the benchmark grows the table with them to show that a search's cost does not
depend on the size of the table.

Each registration also gets what officers filter on, drawn from a second random stream (so the
points stay the ones the benchmarks measured): one to four cameras, about 60% of them with a
direction and 30% with their own location a few metres from the premises; a retention period
(mostly a DVR's usual 7, 14, 30 or 31 days, some anything from 7 to 31, one in ten not given);
a business name for about a third of central premises and a tenth of suburban ones; and a
postcode of the real form for the town's districts (B1-B48, B60-B80, B90-B99; CV1-CV6),
central districts near the centre.
"""
from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from typing import Iterator, List, Optional, Sequence, Tuple

from chalicelib import geo
from chalicelib.registry.tables import AddressAttribute, CameraAttribute, GeoIndexEntry, PointAttribute, Registration
from chalicelib.registry.identity import owner_of, premises_claim

# (name, lat, lon, share of the registrations, spread in km)
WEST_MIDLANDS: Sequence[Tuple[str, float, float, float, float]] = (
    ("Birmingham", 52.4862, -1.8904, 0.72, 5.5),
    ("Coventry", 52.4068, -1.5197, 0.28, 3.5),
)


# (name, lat, lon, share = spread², spread in km); all at least 50 km from the West Midlands.
OTHER_TOWNS: Sequence[Tuple[str, float, float, float, float]] = tuple(
    (name, lat, lon, spread_km**2, spread_km)
    for name, lat, lon, spread_km in (
        ("London", 51.5074, -0.1278, 11.0),
        ("Manchester", 53.4808, -2.2426, 7.5),
        ("Glasgow", 55.8642, -4.2518, 6.5),
        ("Leeds", 53.8008, -1.5491, 6.5),
        ("Liverpool", 53.4084, -2.9916, 6.0),
        ("Sheffield", 53.3811, -1.4701, 6.0),
        ("Bristol", 51.4545, -2.5879, 6.0),
        ("Newcastle", 54.9783, -1.6178, 5.5),
        ("Nottingham", 52.9548, -1.1581, 5.5),
        ("Edinburgh", 55.9533, -3.1883, 5.5),
        ("Belfast", 54.5973, -5.9301, 5.5),
        ("Cardiff", 51.4816, -3.1791, 5.0),
        ("Southampton", 50.9097, -1.4044, 5.0),
        ("Hull", 53.7676, -0.3274, 5.0),
        ("Portsmouth", 50.8198, -1.0880, 4.5),
        ("Plymouth", 50.3755, -4.1427, 4.5),
        ("Norwich", 52.6309, 1.2974, 4.5),
        ("Brighton", 50.8225, -0.1372, 4.5),
        ("Aberdeen", 57.1497, -2.0943, 4.5),
        ("Swansea", 51.6214, -3.9436, 4.5),
        ("Stoke-on-Trent", 53.0027, -2.1794, 4.5),
        ("Exeter", 50.7184, -3.5339, 4.0),
        ("York", 53.9600, -1.0873, 4.0),
        ("Oxford", 51.7520, -1.2577, 4.0),
        ("Cambridge", 52.2053, 0.1218, 4.0),
        ("Inverness", 57.4778, -4.2247, 3.5),
        ("Derby", 52.9225, -1.4746, 3.5),
        ("Lerwick", 60.1546, -1.1494, 2.0),
    )
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


# Postcode districts by town: (central districts, all districts).
POSTCODE_DISTRICTS = {
    "Birmingham": ("B", (1, 2, 3, 4, 5), tuple(range(1, 49)) + tuple(range(60, 81)) + tuple(range(90, 100))),
    "Coventry": ("CV", (1,), (1, 2, 3, 4, 5, 6)),
}
# The letters a UK inward code uses (never C, I, K, M, O or V).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
CENTRAL_KM = 1.5
STREETS = ("High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane",
           "Queens Road", "Albert Street", "Grove Road", "Moseley Road", "Stratford Road", "Warwick Road")
BUSINESSES = ("Stores", "Motors", "Pharmacy", "Kebab House", "Barbers", "Dental Practice", "Off Licence",
              "Hardware", "Cafe", "Car Wash", "Tyres", "Bakery")
CAMERA_PLACES = ("Front door", "Driveway", "Shop front", "Rear yard", "Side passage", "Garage", "Car park")


def premises_details(rng: random.Random, town: str, distance_km: float) -> Tuple[str, str, Optional[str]]:
    """(line1, postcode, business name or None) for premises ``distance_km`` from the town centre."""
    area, central, districts = POSTCODE_DISTRICTS.get(town, POSTCODE_DISTRICTS["Birmingham"])
    district = rng.choice(central if distance_km < CENTRAL_KM else districts)
    postcode = f"{area}{district} {rng.randint(0, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
    street = rng.choice(STREETS)
    business = None
    if rng.random() < (0.35 if distance_km < CENTRAL_KM else 0.10):
        business = f"{street.split()[0]} {rng.choice(BUSINESSES)}"
    return f"{rng.randint(1, 300)} {street}", postcode, business


def cameras_at(rng: random.Random, lat: float, lon: float) -> List[CameraAttribute]:
    cameras = []
    for _ in range(rng.choices((1, 2, 3, 4), (40, 30, 15, 15))[0]):
        location = None
        if rng.random() < 0.3:  # mounted a few metres from the premises' point
            metres, angle = rng.uniform(3, 15), rng.uniform(0, 2 * math.pi)
            location = PointAttribute(
                lat=lat + metres * math.cos(angle) / 111_195.0,
                lon=lon + metres * math.sin(angle) / (111_195.0 * math.cos(math.radians(lat))),
            )
        cameras.append(
            CameraAttribute(
                location=location,
                direction_deg=rng.randrange(360) if rng.random() < 0.6 else None,
                description=rng.choice(CAMERA_PLACES) if rng.random() < 0.5 else None,
            )
        )
    return cameras


def retention(rng: random.Random) -> Optional[int]:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.7:
        return rng.choice((7, 14, 30, 31))
    return rng.randint(7, 31)


def seed_registrations(count: int, seed: int = 7) -> int:
    now = datetime.now(timezone.utc)
    registrations: List[Registration] = []
    entries: List[GeoIndexEntry] = []
    centres = {t[0]: (t[1], t[2]) for t in WEST_MIDLANDS}
    rng = random.Random(seed * 7919 + 1)  # its own stream: the points stay those benchmarked
    for number, (town, lat, lon) in enumerate(synthetic_points(count, seed=seed)):
        registration_id = f"rseed{number:07d}"
        email = f"seed-{number}@example.invalid"
        line1, postcode, business = premises_details(rng, town, geo.haversine_m(*centres[town], lat, lon) / 1000)
        cameras = cameras_at(rng, lat, lon)
        registrations.append(
            Registration(
                registration_id,
                owner=owner_of(email),
                claim=premises_claim(email, postcode, line1),
                email=email,
                name=f"Synthetic Resident {number}",
                business_name=business,
                address=AddressAttribute(line1=line1, town=town, postcode=postcode),
                location=PointAttribute(lat=lat, lon=lon),
                geohash=geo.encode(lat, lon),
                camera_count=len(cameras),
                cameras=cameras,
                retention_days=retention(rng),
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
