"""Benchmark of the officer search's geo core: exactness and cost, against two rivals.

    make bench          (or: .venv/bin/python -m bench.search_bench [--per-band 100])

Starts a private in-memory dynalite, loads 10,000 synthetic registrations around Birmingham
and Coventry, runs a fixed set of random searches (radii 100 m to 5 km) three ways, grows the
table to 200,000 with other towns at the same density and runs the same searches again.
Prints the figures per radius band and writes them to ``var/bench/search.json``.
See ``bench/README.md`` for what each figure means.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Set, Tuple

from chalicelib import geo

from bench import dynalite, rivals
from bench.report import Outcome, growth_table, method_table, percentile, targets, with_totals
from bench.workload import (
    AMPLIFICATION_BANDS,
    BANDS,
    BASE_COUNT,
    GROWN_COUNT,
    BruteForce,
    Point,
    Search,
    base_points,
    growth_points,
    searches,
)

ROOT = Path(__file__).resolve().parent.parent
OURS, NAIVE, DYNAMODBGEO = "sightline", "naive 3x3", "dynamodbgeo"
REGION = "eu-west-2"
GEO_TABLE = "bench-geo-index"
DYNAMODBGEO_TABLE = "bench-dynamodbgeo"

# A method runs one search: (registration ids returned, queries, items read).
Method = Callable[[Search], Tuple[Set[str], int, int]]


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description="Benchmark of the geo search core.")
    parser.add_argument("--per-band", type=int, default=150, help="searches per radius band (default 150)")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench" / "search.json"))
    parser.add_argument("--threads", type=int, default=4, help="loader threads (default 4)")
    args = parser.parse_args(list(argv) or None)

    started = time.monotonic()
    work = searches(args.per_band)
    base, growth = base_points(BASE_COUNT), growth_points(GROWN_COUNT - BASE_COUNT)
    timings: Dict[str, float] = {}
    sizes: Dict[str, Dict[str, Any]] = {}
    with dynalite.Dynalite() as engine:
        client = _bind(engine.endpoint)
        theirs = rivals.DynamodbGeo(client, DYNAMODBGEO_TABLE)
        theirs.create_table()
        methods: Dict[str, Method] = {
            OURS: _ours,
            NAIVE: _naive,
            DYNAMODBGEO: lambda s: _dynamodbgeo(theirs, s),
        }
        loaded: List[Point] = []
        for extra in (base, growth):
            t0 = time.monotonic()
            _load(client, GEO_TABLE, [_our_item(p) for p in extra], args.threads)
            _load(client, DYNAMODBGEO_TABLE, [theirs.item(p.registration_id, p.lat, p.lon) for p in extra], args.threads)
            loaded.extend(extra)
            label = f"{len(loaded):,}"
            timings[f"load to {label} (both tables)"] = time.monotonic() - t0
            _log(f"loaded {label} registrations into both tables in {timings[f'load to {label} (both tables)']:.0f} s")
            truth = BruteForce(loaded)
            answers = [truth.within(s.lat, s.lon, s.radius_m) for s in work]
            results: Dict[str, Any] = {}
            latency: Dict[str, Dict[str, float]] = {}
            for name, method in methods.items():
                t0 = time.monotonic()
                outcomes, millis = _run(method, work, answers)
                timings[f"{name} searches on {label}"] = time.monotonic() - t0
                results[name] = with_totals(outcomes)
                latency[name] = {"median_ms": statistics.median(millis), "p95_ms": percentile(millis, 0.95)}
                _log(f"{name}: {len(work)} searches on {label} in {timings[f'{name} searches on {label}']:.0f} s")
            sizes[label] = {
                "registrations": len(loaded),
                "methods": results,
                "latency": latency,
                "largest_partition": {
                    OURS: _largest_share(geo.index_keys(p.lat, p.lon, p.registration_id)[0] for p in loaded),
                    DYNAMODBGEO: _largest_share(str(theirs.hash_key(p.lat, p.lon)) for p in loaded),
                },
            }
    small, large = sizes[f"{BASE_COUNT:,}"], sizes[f"{GROWN_COUNT:,}"]
    checks = targets(large["methods"], AMPLIFICATION_BANDS, DYNAMODBGEO, OURS)
    for label in (f"{BASE_COUNT:,}",):
        overall = sizes[label]["methods"][OURS]["overall"]
        ok = overall["recall"] == 1.0 and overall["precision"] == 1.0 and overall["queries_max"] <= 12
        checks.append(f"[{'met' if ok else 'MISSED'}] on {label} too: recall {overall['recall']}, precision {overall['precision']}, at most {overall['queries_max']} queries")
    growth_change = _growth_change(small["methods"][OURS], large["methods"][OURS])
    checks.append(
        f"[{'met' if growth_change <= 0.10 else 'MISSED'}] items read per search, {BASE_COUNT:,} vs {GROWN_COUNT:,} registrations: "
        f"largest change over medians, p95s and totals of all bands {growth_change:.1%} (target within 10%)"
    )
    elapsed = time.monotonic() - started
    engine_name = f"dynalite {dynalite.version()} (in memory, node {_node_version()})"
    text = _render(work, sizes, small, large, checks, engine_name, elapsed)
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "engine": engine_name,
                "python": platform.python_version(),
                "searches": len(work),
                "per_band": args.per_band,
                "bands_m": BANDS,
                "covering": {
                    "partition_grid": f"{geo.PARTITIONS.lat_bits + geo.PARTITIONS.lon_bits}-bit geohash cells "
                    f"({geo.PARTITIONS.lon_bits} lon x {geo.PARTITIONS.lat_bits} lat bits), "
                    f"widened poleward to >= {geo.PARTITIONS.min_width_m:g} m",
                    "max_queries": geo.MAX_QUERIES,
                    "refine": geo.REFINE,
                    "negligible_gap": geo.NEGLIGIBLE_GAP,
                },
                "sizes": sizes,
                "growth_change": growth_change,
                "targets": checks,
                "timings_s": timings,
                "elapsed_s": elapsed,
            },
            indent=2,
            default=float,
        )
    )
    print(f"\nJSON: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


# --- the three methods ------------------------------------------------------------------------


def _ours(search: Search) -> Tuple[Set[str], int, int]:
    from chalicelib.registry.index import find_within

    hits, stats = find_within(search.lat, search.lon, search.radius_m)
    return {h.registration_id for h in hits}, stats["queries"], stats["items_read"]


def _naive(search: Search) -> Tuple[Set[str], int, int]:
    from chalicelib.registry.index import find_in_ranges

    ranges = rivals.naive_ranges(search.lat, search.lon, search.radius_m)
    hits, stats = find_in_ranges(search.lat, search.lon, search.radius_m, ranges)
    return {h.registration_id for h in hits}, stats["queries"], stats["items_read"]


def _dynamodbgeo(theirs: rivals.DynamodbGeo, search: Search) -> Tuple[Set[str], int, int]:
    found, queries, read = theirs.search(search.lat, search.lon, search.radius_m)
    return set(found), queries, read


def _run(method: Method, work: Sequence[Search], answers: Sequence[Dict[str, float]]) -> Tuple[List[Outcome], List[float]]:
    outcomes, millis = [], []
    for search, expected in zip(work, answers):
        t0 = time.perf_counter()
        returned, queries, read = method(search)
        millis.append((time.perf_counter() - t0) * 1000)
        outcomes.append(
            Outcome(search.band, search.radius_m, queries, read, len(returned), len(expected), len(returned & expected.keys()))
        )
    return outcomes, millis


# --- loading ----------------------------------------------------------------------------------


def _bind(endpoint: str) -> Any:
    """Point Sightline's models at the benchmark's dynalite; return a raw client for loading."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "SIGHTLINE_DYNAMODB_ENDPOINT_URL": endpoint,
            "SIGHTLINE_GEO_INDEX_TABLE": GEO_TABLE,
        }
    )
    import boto3

    from chalicelib.base.lazy import reset_all
    from chalicelib.base.store import create_tables
    from chalicelib.registry.tables import GeoIndexEntry

    reset_all()
    create_tables([GeoIndexEntry])
    return boto3.session.Session().client("dynamodb", region_name=REGION, endpoint_url=endpoint)


def _our_item(point: Point) -> Dict[str, Any]:
    from chalicelib.registry.tables import GeoIndexEntry

    cell, position = geo.index_keys(point.lat, point.lon, point.registration_id)
    # Serialised exactly as PynamoDB would (numbers as json.dumps of the float).
    return GeoIndexEntry(cell, position, registration_id=point.registration_id, lat=point.lat, lon=point.lon).serialize()


def _load(client: Any, table: str, items: Sequence[Dict[str, Any]], threads: int) -> None:
    """batch_write_item, 25 items a call, from a few threads (dynalite is the bottleneck)."""

    def write(batch: Sequence[Dict[str, Any]]) -> None:
        requests = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        for attempt in range(10):
            unprocessed = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not unprocessed:
                return
            requests = unprocessed
            time.sleep(0.05 * (attempt + 1))
        raise RuntimeError("batch_write_item kept leaving items unprocessed")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, [items[i : i + 25] for i in range(0, len(items), 25)]))


# --- figures ----------------------------------------------------------------------------------


def _largest_share(keys) -> Dict[str, Any]:
    counts = Counter(keys)
    key, count = counts.most_common(1)[0]
    total = sum(counts.values())
    return {"key": key, "items": count, "share": count / total, "keys": len(counts)}


def _growth_change(small: Dict[str, Dict[str, float]], large: Dict[str, Dict[str, float]]) -> float:
    worst = 0.0
    for band, a in small.items():
        b = large[band]
        for figure in ("items_read_median", "items_read_p95", "items_read_total"):
            if a[figure]:
                worst = max(worst, abs(b[figure] - a[figure]) / a[figure])
    return worst


def _render(work, sizes, small, large, checks, engine_name: str, elapsed: float) -> str:
    lines = [
        f"Geo search benchmark: {len(work)} searches ({len(work) // len(BANDS)} per band), engine {engine_name}",
        f"Partitions: {geo.PARTITIONS.lat_bits + geo.PARTITIONS.lon_bits}-bit geohash cells; covering refine 1/{round(1 / geo.REFINE)}, "
        f"<= {geo.MAX_QUERIES} queries, gaps under {geo.NEGLIGIBLE_GAP:.0%} of the circle merged",
        "q = DynamoDB Query calls per search (pages included); read = items read (ScannedCount); hits = items brute force returns;",
        "amp = items read / items returned (pool: over the band's searches that return something; p95 10+: over searches with >= 10 hits)",
        "",
        method_table(f"On {GROWN_COUNT:,} registrations", large["methods"]),
        growth_table(
            f"Items read per search: {BASE_COUNT:,} vs {GROWN_COUNT:,} registrations (same searches, table grown with other towns)",
            small["methods"],
            large["methods"],
            "10k",
            "200k",
        ),
        "Largest partition key (share of all items in the table)",
    ]
    for label, size in sizes.items():
        for name, share in size["largest_partition"].items():
            lines.append(
                f"  {label:>8} registrations  {name:<12} key {share['key']!r:<16} {share['items']:>7,} items = {share['share']:6.1%} "
                f"of the table ({share['keys']:,} keys)"
            )
    lines.append("")
    lines.append("Latency per search on this machine (indicative: dynalite, ms, median / p95)")
    for label, size in sizes.items():
        lines.append(
            f"  {label:>8}  " + "   ".join(f"{name} {v['median_ms']:.0f} / {v['p95_ms']:.0f}" for name, v in size["latency"].items())
        )
    lines.append("")
    lines.append("Targets")
    lines.extend(f"  {line}" for line in checks)
    lines.append(f"\nTotal time {elapsed:.0f} s")
    return "\n".join(lines)


def _node_version() -> str:
    import subprocess

    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return "?"


def _log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


if __name__ == "__main__":
    main()
