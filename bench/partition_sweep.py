"""Measure partition grids and covering rules in memory, to choose them (docs/decisions.md).

    .venv/bin/python -m bench.partition_sweep [--per-band 100]

Every candidate runs on the same 10,000 West Midlands registrations and the same kind of
searches as the benchmark (another seed); "items read" is exactly what DynamoDB would scan for
the plan's key ranges. Read units are estimated (see ``memory_index.read_units``).
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from typing import Callable, Dict, List, Sequence, Tuple

from chalicelib import geo

from bench import rivals
from bench.memory_index import MemoryIndex, read_units
from bench.report import Outcome, by_band
from bench.workload import AMPLIFICATION_BANDS, BANDS, BruteForce, Search, base_points, searches

Planner = Callable[[Search], Sequence[geo.KeyRange]]


def _grid(lat_bits: int, lon_bits: int) -> geo.PartitionGrid:
    # Widen columns only north of Shetland, so that every UK partition is a true geohash cell.
    min_width = 2 * math.pi * geo.EARTH_RADIUS_M * math.cos(math.radians(61.5)) / (1 << lon_bits)
    return geo.PartitionGrid(lat_bits, lon_bits, min_width)


def _run(index: MemoryIndex, truth: BruteForce, plans: Planner, work: Sequence[Search]) -> Tuple[List[Outcome], float]:
    outcomes = []
    started = time.perf_counter()
    for search in work:
        ranges = plans(search)
        counts, items = index.read(ranges)
        expected = truth.within(search.lat, search.lon, search.radius_m)
        returned = {p.registration_id for p in items if geo.haversine_m(search.lat, search.lon, p.lat, p.lon) <= search.radius_m}
        outcomes.append(
            Outcome(search.band, search.radius_m, len(ranges), sum(counts), len(returned), len(expected),
                    len(returned & expected.keys()), read_units(counts))
        )
    return outcomes, (time.perf_counter() - started) / len(work) * 1000


def _worst_partitions(grid: geo.PartitionGrid, south: float, north: float, samples: int = 3000) -> int:
    """Most partitions a 5 km circle touches, over random centres in a latitude band."""
    rng = random.Random(5)
    return max(
        len(geo.touched_partitions(rng.uniform(south, north), rng.uniform(-8.0, 2.0), geo.BUDGETED_RADIUS_M, grid))
        for _ in range(samples)
    )


def _header(first: str, width: int, extra: str = "") -> str:
    bands = " ".join(f"{'amp b' + str(b):>6} {'p95':>5}" for b in range(AMPLIFICATION_BANDS + 1))
    return f"{first:<{width}} {extra}{'q med/max':>9} {bands} {'RU/search':>9} {'ms/plan':>7}"


def _row(name: str, width: int, outcomes: List[Outcome], ms: float, extra: str = "") -> str:
    bands = by_band(outcomes)
    assert bands["overall"]["recall"] == 1.0, name
    cells = " ".join(
        f"{f['amplification_pooled']:>6.2f} {f['amplification_p95_10plus']:>5.2f}" for f in list(bands.values())[: AMPLIFICATION_BANDS + 1]
    )
    queries = f"{bands['overall']['queries_median']:g}/{bands['overall']['queries_max']}"
    units = statistics.mean(o.read_units for o in outcomes)
    return f"{name:<{width}} {extra}{queries:>9} {cells} {units:>9.2f} {ms:>7.1f}"


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description="Partition grids and covering rules, measured in memory.")
    parser.add_argument("--per-band", type=int, default=100)
    args = parser.parse_args(list(argv) or None)
    points = base_points()
    truth = BruteForce(points)
    work = searches(args.per_band, seed=23)  # not the benchmark's own searches
    print(f"{len(work)} searches on {len(points):,} West Midlands registrations; bands b0..b4 = "
          + ", ".join(f"{low:g}-{high:g} m" for low, high in BANDS))
    print("amp = pooled items read / items returned; p95 = over searches with >= 10 hits; RU = est. read units\n")

    grids: Dict[str, geo.PartitionGrid] = {
        "20 bits (p4)": _grid(10, 10),
        "21 bits": _grid(10, 11),
        "22 bits": _grid(11, 11),
        "23 bits": _grid(11, 12),
        "24 bits": _grid(12, 12),
        "25 bits (p5)": _grid(12, 13),
    }
    print(f"Partition grids (covering as chosen: refine 1/{round(1 / geo.REFINE)}, {geo.MAX_QUERIES} queries, "
          f"gaps < {geo.NEGLIGIBLE_GAP:.0%} merged)")
    extra_head = f"{'largest key':>11} {'5 km parts: here':>16} {'50-55N':>6} {'55-61N':>6} "
    print(_header("grid", 13, extra_head))
    for name, grid in grids.items():
        index = MemoryIndex(points, grid)
        here = max(len(geo.touched_partitions(s.lat, s.lon, s.radius_m, grid)) for s in work)
        extra = (f"{index.largest_partition_share():>11.1%} {here:>16} {_worst_partitions(grid, 50, 55):>6} "
                 f"{_worst_partitions(grid, 55, 61):>6} ")
        outcomes, ms = _run(index, truth, lambda s, g=grid: geo.plan_search(s.lat, s.lon, s.radius_m, grid=g).ranges, work)
        print(_row(name, 13, outcomes, ms, extra))
    print()

    grid = geo.PARTITIONS
    index = MemoryIndex(points, grid)
    print(f"Covering rules on the chosen grid ({grid.lat_bits + grid.lon_bits} bits)")
    print(_header("rule", 34))
    rules: Dict[str, Planner] = {
        "naive 3x3": lambda s: rivals.naive_ranges(s.lat, s.lon, s.radius_m, grid),
        "plain: one precision finer": lambda s: rivals.plain_ranges(s.lat, s.lon, s.radius_m, grid),
    }
    for refine in (1 / 4, 1 / 8, 1 / 16, 1 / 32):
        rules[f"refine 1/{round(1 / refine)}, q12, gaps < 1%"] = (
            lambda s, r=refine: geo.plan_search(s.lat, s.lon, s.radius_m, 12, grid, r, 0.01).ranges
        )
    for budget in (8, 12):
        for negligible in (0.0, 0.03, 0.05, 0.1):
            rules[f"refine 1/8, q{budget}, gaps < {negligible:.0%}"] = (
                lambda s, q=budget, n=negligible: geo.plan_search(s.lat, s.lon, s.radius_m, q, grid, 1 / 8, n).ranges
            )
    for name, plans in rules.items():
        outcomes, ms = _run(index, truth, plans, work)
        print(_row(name, 34, outcomes, ms))


if __name__ == "__main__":
    main()
