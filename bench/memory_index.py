"""The geo index held in memory: counts what a plan would read, exactly as DynamoDB's ScannedCount.

Used by the partition sweep to compare grids and covering rules without loading DynamoDB
once per candidate.
"""
from __future__ import annotations

import bisect
import math
from collections import defaultdict
from typing import Dict, Iterable, List, Tuple

from chalicelib import geo

from bench.workload import Point


# A real entry's size as DynamoDB counts it: names and values of cell (12 B), position (45 B with
# a 24-character registration id), registration_id (39 B) and two numbers (~13 B each).
ENTRY_BYTES = 122


def read_units(items_per_query: Iterable[int]) -> float:
    """Eventually consistent read units: each Query's bytes rounded up to 4 KB, half a unit each
    (assuming a Query that reads nothing still costs half a unit)."""
    return sum(max(1, math.ceil(count * ENTRY_BYTES / 4096)) * 0.5 for count in items_per_query)


class MemoryIndex:
    def __init__(self, points: Iterable[Point], grid: geo.PartitionGrid = geo.PARTITIONS) -> None:
        partitions: Dict[str, List[Tuple[str, Point]]] = defaultdict(list)
        for point in points:
            key, position = geo.index_keys(point.lat, point.lon, point.registration_id, grid)
            partitions[key].append((position, point))
        self._positions: Dict[str, List[str]] = {}
        self._points: Dict[str, List[Point]] = {}
        for key, entries in partitions.items():
            entries.sort(key=lambda entry: entry[0])
            self._positions[key] = [position for position, _ in entries]
            self._points[key] = [point for _, point in entries]

    def read(self, ranges: Iterable[geo.KeyRange]) -> Tuple[List[int], List[Point]]:
        """(items read by each range, all the items) for a set of key ranges."""
        read: List[Point] = []
        counts: List[int] = []
        for key_range in ranges:
            positions = self._positions.get(key_range.partition, [])
            low = bisect.bisect_left(positions, key_range.low)
            high = bisect.bisect_right(positions, key_range.high)
            read.extend(self._points.get(key_range.partition, [])[low:high])
            counts.append(high - low)
        return counts, read

    def largest_partition_share(self) -> float:
        total = sum(len(p) for p in self._positions.values())
        return max(len(p) for p in self._positions.values()) / total if total else 0.0
