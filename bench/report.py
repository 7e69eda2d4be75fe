"""Figures per radius band, and the tables the benchmark prints."""
from __future__ import annotations

import dataclasses
import math
import statistics
from typing import Dict, Iterable, List, Optional, Sequence

from bench.workload import BANDS, band_label


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One search by one method."""

    band: int
    radius_m: float
    queries: int
    items_read: int
    returned: int  # items the method returned
    expected: int  # items brute force returns
    correct: int  # returned items that brute force also returns
    read_units: float = 0.0  # estimated eventually consistent read units (partition sweep only)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (the value below which ``share`` of the values fall)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(outcomes: Iterable[Outcome]) -> Dict[str, float]:
    outcomes = list(outcomes)
    if not outcomes:
        return {}
    queries = [o.queries for o in outcomes]
    read = [o.items_read for o in outcomes]
    with_hits = [o for o in outcomes if o.returned]
    per_search = [o.items_read / o.returned for o in with_hits]
    busy = [o.items_read / o.returned for o in outcomes if o.returned >= 10]
    returned = sum(o.returned for o in outcomes)
    expected = sum(o.expected for o in outcomes)
    correct = sum(o.correct for o in outcomes)
    return {
        "searches": len(outcomes),
        "queries_median": statistics.median(queries),
        "queries_p95": percentile(queries, 0.95),
        "queries_max": max(queries),
        "items_read_median": statistics.median(read),
        "items_read_p95": percentile(read, 0.95),
        "items_returned_median": statistics.median([o.expected for o in outcomes]),
        "amplification_pooled": sum(o.items_read for o in with_hits) / sum(o.returned for o in with_hits) if with_hits else float("nan"),
        "amplification_median": statistics.median(per_search) if per_search else float("nan"),
        "amplification_p95": percentile(per_search, 0.95),
        "amplification_p95_10plus": percentile(busy, 0.95),
        "recall": correct / expected if expected else 1.0,
        "precision": correct / returned if returned else 1.0,
    }


def by_band(outcomes: Sequence[Outcome]) -> Dict[str, Dict[str, float]]:
    found = {band_label(band): figures(o for o in outcomes if o.band == band) for band in range(len(BANDS))}
    found["overall"] = figures(outcomes)
    return found


def _number(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _precise(value: float) -> str:
    return "1.0" if value == 1.0 else f"{value:.6f}"


def method_table(title: str, results: Dict[str, Dict[str, Dict[str, float]]]) -> str:
    """One row per method and band: queries, items read, amplification, recall, precision."""
    head = (
        f"{'method':<12} {'band':<13} {'n':>4} {'q med':>5} {'q p95':>5} {'q max':>5} "
        f"{'read med':>8} {'read p95':>8} {'hits med':>8} {'amp pool':>8} {'amp med':>7} "
        f"{'amp p95':>7} {'p95 10+':>7} {'recall':>8} {'precision':>9}"
    )
    lines = [title, head, "-" * len(head)]
    for method, bands in results.items():
        for band, f in bands.items():
            lines.append(
                f"{method:<12} {band:<13} {f['searches']:>4} {_number(f['queries_median']):>5} "
                f"{_number(f['queries_p95']):>5} {_number(f['queries_max']):>5} "
                f"{_number(f['items_read_median']):>8} {_number(f['items_read_p95']):>8} "
                f"{_number(f['items_returned_median']):>8} {_number(f['amplification_pooled']):>8} "
                f"{_number(f['amplification_median']):>7} {_number(f['amplification_p95']):>7} "
                f"{_number(f['amplification_p95_10plus']):>7} {_precise(f['recall']):>8} {_precise(f['precision']):>9}"
            )
        lines.append("")
    return "\n".join(lines)


def growth_table(title: str, small: Dict[str, Dict[str, Dict[str, float]]], large: Dict[str, Dict[str, Dict[str, float]]], small_label: str, large_label: str) -> str:
    """Items read per search on the small and the large table, per method and band."""
    head = (
        f"{'method':<12} {'band':<13} {'read med ' + small_label:>16} {'read med ' + large_label:>16} "
        f"{'read p95 ' + small_label:>16} {'read p95 ' + large_label:>16} {'total change':>12}"
    )
    lines = [title, head, "-" * len(head)]
    for method in large:
        for band in large[method]:
            a, b = small[method][band], large[method][band]
            change = _change(a, b)
            lines.append(
                f"{method:<12} {band:<13} {_number(a['items_read_median']):>16} {_number(b['items_read_median']):>16} "
                f"{_number(a['items_read_p95']):>16} {_number(b['items_read_p95']):>16} {change:>11.1%} "
            )
        lines.append("")
    return "\n".join(lines)


def _change(a: Dict[str, float], b: Dict[str, float]) -> float:
    return (b["items_read_total"] - a["items_read_total"]) / a["items_read_total"] if a.get("items_read_total") else 0.0


def with_totals(outcomes: Sequence[Outcome]) -> Dict[str, Dict[str, float]]:
    found = by_band(outcomes)
    for band in range(len(BANDS)):
        found[band_label(band)]["items_read_total"] = sum(o.items_read for o in outcomes if o.band == band)
    found["overall"]["items_read_total"] = sum(o.items_read for o in outcomes)
    return found


def targets(results: Dict[str, Dict[str, Dict[str, float]]], amplification_bands: int, dynamodbgeo: Optional[str] = "dynamodbgeo", ours: str = "sightline") -> List[str]:
    """The issue's targets, each with its measured value and whether it is met."""
    mine = results[ours]
    lines: List[str] = []

    def line(ok: bool, text: str) -> None:
        lines.append(f"[{'met' if ok else 'MISSED'}] {text}")

    overall = mine["overall"]
    line(overall["recall"] == 1.0 and overall["precision"] == 1.0, f"recall {overall['recall']} and precision {overall['precision']} (target exactly 1.0)")
    for band in list(mine)[:amplification_bands]:
        f = mine[band]
        line(f["amplification_pooled"] <= 1.5, f"{band}: pooled read amplification {f['amplification_pooled']:.3f} (target <= 1.5)")
        line(f["amplification_p95_10plus"] <= 2.5, f"{band}: p95 amplification over searches with >= 10 hits {f['amplification_p95_10plus']:.3f} (target <= 2.5)")
    line(overall["queries_max"] <= 12, f"at most {overall['queries_max']} queries per search (target <= 12)")
    if dynamodbgeo and dynamodbgeo in results:
        theirs = results[dynamodbgeo]
        for band in [b for b in mine if b != "overall"]:
            a, b = mine[band], theirs[band]
            line(
                a["items_read_median"] < b["items_read_median"] and a["items_read_p95"] < b["items_read_p95"],
                f"{band}: items read median {_number(a['items_read_median'])} vs dynamodbgeo {_number(b['items_read_median'])}, "
                f"p95 {_number(a['items_read_p95'])} vs {_number(b['items_read_p95'])} (target: fewer)",
            )
    return lines
