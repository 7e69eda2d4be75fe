"""The synthetic seed gives filters something to filter: directions, retentions, businesses, postcodes."""
from __future__ import annotations

import random

from chalicelib.registry.schemas import normalise_postcode
from local import seed


def test_seeded_premises_have_real_looking_postcodes_and_a_share_of_businesses():
    rng = random.Random(1)
    central = [seed.premises_details(rng, "Birmingham", 0.5) for _ in range(2000)]
    suburban = [seed.premises_details(rng, "Coventry", 4.0) for _ in range(2000)]
    for _line1, postcode, _business in central + suburban:
        assert normalise_postcode(postcode, "uk") == postcode
    assert {p.split()[0] for _l, p, _b in central} <= {"B1", "B2", "B3", "B4", "B5"}
    assert {p.split()[0] for _l, p, _b in suburban} == {f"CV{n}" for n in range(1, 7)}
    business_share = sum(b is not None for _l, _p, b in central) / len(central)
    assert 0.25 < business_share < 0.45
    assert 0.05 < sum(b is not None for _l, _p, b in suburban) / len(suburban) < 0.15


def test_seeded_cameras_mostly_have_directions_and_retention_spreads_over_a_month():
    rng = random.Random(2)
    cameras = [c for _ in range(2000) for c in seed.cameras_at(rng, 52.48, -1.89)]
    directed = [c.direction_deg for c in cameras if c.direction_deg is not None]
    assert 0.5 < len(directed) / len(cameras) < 0.7 and set(directed) <= set(range(360))
    assert 0.2 < sum(c.location is not None for c in cameras) / len(cameras) < 0.4
    retentions = [seed.retention(rng) for _ in range(2000)]
    given = [r for r in retentions if r is not None]
    assert 0.05 < retentions.count(None) / len(retentions) < 0.15
    assert min(given) == 7 and max(given) == 31 and len(set(given)) > 20
