"""Geographic maths: geohash keys, great-circle distance and the search covering.

Pure: no AWS imports. ``chalicelib.registry.index`` runs the plans made here against DynamoDB.

The geo index (``models.GeoIndexEntry``) keeps every active registration under a *partition*
(the hash key) and a sort key ``<12-char geohash>#<registration id>``, so that inside one
partition the entries are in geohash (Z-order) order and any run of adjacent geohash cells is
one ``BETWEEN`` on the sort key.

Partitions (:class:`PartitionGrid`) are geohash cells of 23 bits (12 longitude bits,
11 latitude bits): 0.088° × 0.088°, about 6.0 km × 9.8 km at 52°N. Towards the poles, where
those cells shrink to slivers, a row's cells are merged in longitude (fewer longitude bits) so
that no partition is narrower than ``min_width_m``; the row around each pole is a single
partition. A 5 km circle then touches at most 7 partitions in England (8 anywhere measured), so
a search always fits the query budget with room to split ranges. ``docs/decisions.md`` has the
measurements behind the choice (``python -m bench.partition_sweep``).

A search (:func:`plan_search`) covers the circle, partition by partition, with geohash cells
refined along the circle's edge, keeps only cells that intersect it (exact distance from the
centre to the cell's rectangle on the sphere), and merges runs of adjacent cells into
sort-key ranges, closing the gaps that waste the least area first: always those under
``NEGLIGIBLE_GAP`` of the circle (a query costs about as much as reading a few entries), then
more until the plan fits the budget.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, Iterator, List, Sequence, Tuple

import geohash2

# Mean Earth radius (IUGG), the one every distance in Sightline uses.
EARTH_RADIUS_M = 6_371_008.8

# Sort key precision: about 3.7 cm, far below any radius a search asks for.
FULL_PRECISION = 12
_FULL_BITS = 5 * FULL_PRECISION
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_DECODE = {char: value for value, char in enumerate(_BASE32)}

# A search makes at most this many DynamoDB queries (pages included) for radii up to
# BUDGETED_RADIUS_M, anywhere on Earth; larger circles make one query per partition touched.
MAX_QUERIES = 12
BUDGETED_RADIUS_M = 5_000.0

# Covering rule. Cells crossing the circle's edge are split until their larger side is at most
# REFINE × radius; a gap between two runs of cells is left open (costing a query) only when it
# is at least NEGLIGIBLE_GAP × the circle's area. See docs/decisions.md for the measurements.
REFINE = 1 / 8
NEGLIGIBLE_GAP = 0.05

# Float error in the distance arithmetic is ~1e-9 m; a cell is only ruled out when it is
# clearly farther than the radius, so rounding can never drop a registration on the edge.
_MARGIN_RELATIVE = 1e-7
_MARGIN_M = 1e-3


def encode(lat: float, lon: float, precision: int = FULL_PRECISION) -> str:
    return geohash2.encode(lat, lon, precision=precision)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def initial_bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle course from point 1 towards point 2, clockwise from true north, in [0, 360).

    Undefined for coincident points (and from a pole); those return 0.0: callers that care
    check the distance first.
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlmb = math.radians(lon2 - lon1)
    y = math.sin(dlmb) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlmb)
    bearing = math.degrees(math.atan2(y, x)) % 360.0
    return 0.0 if bearing >= 360.0 else bearing  # -1e-17 % 360 rounds to 360.0


def angle_between_deg(a: float, b: float) -> float:
    """The smaller angle between two compass directions, in [0, 180]."""
    difference = abs(a - b) % 360.0
    return min(difference, 360.0 - difference)


# --- geohash bits -----------------------------------------------------------------------------
# A cell is a prefix of the 60-bit geohash: bits alternate longitude, latitude, longitude, ...
# Its bounds are dyadic fractions of the globe, exact in floating point, and a point on a
# boundary belongs to the closed cell on either side, so bounds need no rounding allowance.


def geohash_bits(geohash: str) -> int:
    """The 60-bit integer of a full-precision geohash (string order == integer order)."""
    value = 0
    for char in geohash:
        value = (value << 5) | _DECODE[char]
    return value << (_FULL_BITS - 5 * len(geohash))


def bits_geohash(value: int) -> str:
    """The 12-character geohash of a 60-bit integer."""
    return "".join(_BASE32[(value >> shift) & 31] for shift in range(_FULL_BITS - 5, -1, -5))


def _split(value: int, nbits: int) -> Tuple[int, int]:
    """(longitude bits, latitude bits) of an ``nbits`` geohash prefix."""
    lon = lat = 0
    for position in range(nbits):
        bit = (value >> (nbits - 1 - position)) & 1
        if position % 2 == 0:
            lon = (lon << 1) | bit
        else:
            lat = (lat << 1) | bit
    return lon, lat


def _interleave(lon: int, lon_bits: int, lat: int, lat_bits: int, nbits: int) -> int:
    value = 0
    for position in range(nbits):
        if position % 2 == 0:
            index, source, width = position // 2, lon, lon_bits
        else:
            index, source, width = position // 2, lat, lat_bits
        value = (value << 1) | ((source >> (width - 1 - index)) & 1)
    return value


def _bits_text(value: int, nbits: int) -> str:
    """A bit-precision geohash as text: whole characters, then any leftover bits in binary."""
    whole, rest = divmod(nbits, 5)
    text = "".join(_BASE32[(value >> (nbits - 5 * (i + 1))) & 31] for i in range(whole))
    if rest:
        text += "." + format(value & ((1 << rest) - 1), f"0{rest}b")
    return text


def _lat_bounds(value: int, nbits: int) -> Tuple[float, float]:
    return math.ldexp(180.0 * value, -nbits) - 90.0, math.ldexp(180.0 * (value + 1), -nbits) - 90.0


def _lon_bounds(value: int, nbits: int) -> Tuple[float, float]:
    return math.ldexp(360.0 * value, -nbits) - 180.0, math.ldexp(360.0 * (value + 1), -nbits) - 180.0


def cell_bounds(geohash: str) -> Tuple[float, float, float, float]:
    """(south, north, west, east) of a geohash cell, exactly."""
    nbits = 5 * len(geohash)
    lon, lat = _split(geohash_bits(geohash) >> (_FULL_BITS - nbits), nbits)
    south, north = _lat_bounds(lat, nbits // 2)
    west, east = _lon_bounds(lon, (nbits + 1) // 2)
    return south, north, west, east


# --- the partition grid -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Partition:
    """One partition of the geo index: a latitude row and a longitude column of the grid."""

    key: str
    row: int
    column: int
    column_bits: int


@dataclasses.dataclass(frozen=True)
class PartitionGrid:
    """How the geo index is split into partition keys.

    Rows are geohash latitude prefixes of ``lat_bits``; each row is cut into ``2**k`` columns
    (geohash longitude prefixes of ``k`` bits) with ``k`` at most ``lon_bits`` and small enough
    that a column is at least ``min_width_m`` wide at the row's poleward edge. Where
    ``k == lon_bits == lat_bits + 1`` (everywhere below 62°) a partition is exactly a geohash
    cell of ``lat_bits + lon_bits`` bits and its key is that geohash (``"gcqd.110"``: four
    characters and three bits). Wider polar partitions are keyed by the geohash of their
    ``2k`` leading bits plus their remaining latitude bits (``"bp.01+11000"``).
    """

    lat_bits: int = 11
    lon_bits: int = 12
    min_width_m: float = 4_500.0
    _row_columns: Tuple[int, ...] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 < self.lat_bits <= self.lon_bits <= self.lat_bits + 1:
            raise ValueError("a partition grid needs lat_bits <= lon_bits <= lat_bits + 1")
        columns = []
        for row in range(1 << self.lat_bits):
            south, north = _lat_bounds(row, self.lat_bits)
            circumference = 2 * math.pi * EARTH_RADIUS_M * math.cos(math.radians(max(abs(south), abs(north))))
            bits = self.lon_bits
            while bits > 0 and circumference / (1 << bits) < self.min_width_m:
                bits -= 1
            columns.append(bits)
        object.__setattr__(self, "_row_columns", tuple(columns))

    def column_bits(self, row: int) -> int:
        return self._row_columns[row]

    def partition(self, row: int, column: int) -> Partition:
        bits = self._row_columns[row]
        return Partition(self._key(row, column, bits), row, column, bits)

    def partition_of(self, position: int) -> Partition:
        """The partition holding a point whose 60-bit geohash is ``position``."""
        lon, lat = _split(position, _FULL_BITS)
        row = lat >> (_FULL_BITS // 2 - self.lat_bits)
        bits = self._row_columns[row]
        return self.partition(row, lon >> (_FULL_BITS // 2 - bits))

    def partitions_of_cell(self, geohash: str) -> List[Partition]:
        """The partitions that hold part of a geohash cell (one, unless the cell is coarser)."""
        nbits = 5 * len(geohash)
        first = geohash_bits(geohash)
        last = first + (1 << (_FULL_BITS - nbits)) - 1
        low, high = self.partition_of(first), self.partition_of(last)
        if low == high:
            return [low]
        lon_first, _ = _split(first, _FULL_BITS)
        lon_last, _ = _split(last, _FULL_BITS)
        found = []
        for row in range(low.row, high.row + 1):
            bits = self._row_columns[row]
            for column in range(lon_first >> (_FULL_BITS // 2 - bits), (lon_last >> (_FULL_BITS // 2 - bits)) + 1):
                found.append(self.partition(row, column))
        return found

    def bounds(self, partition: Partition) -> Tuple[float, float, float, float]:
        """(south, north, west, east) in degrees."""
        south, north = _lat_bounds(partition.row, self.lat_bits)
        west, east = _lon_bounds(partition.column, partition.column_bits)
        return south, north, west, east

    def _key(self, row: int, column: int, bits: int) -> str:
        if bits == self.lat_bits + 1:
            nbits = 2 * self.lat_bits + 1
            return _bits_text(_interleave(column, bits, row, self.lat_bits, nbits), nbits)
        # bits <= lat_bits: a geohash of 2 * bits, then the rest of the row's latitude bits.
        extra = self.lat_bits - bits
        prefix = _bits_text(_interleave(column, bits, row >> extra, bits, 2 * bits), 2 * bits)
        if not extra:
            return prefix
        return prefix + "+" + format(row & ((1 << extra) - 1), f"0{extra}b")


PARTITIONS = PartitionGrid()


def index_keys(lat: float, lon: float, registration_id: str, grid: PartitionGrid = PARTITIONS) -> Tuple[str, str]:
    """(partition key, sort key) of a registration's entry in the geo index."""
    full = geohash2.encode(lat, lon, precision=FULL_PRECISION)
    return grid.partition_of(geohash_bits(full)).key, f"{full}#{registration_id}"


# --- distance from a point to a cell ----------------------------------------------------------


class Circle:
    """A search circle, with the exact nearest and farthest distance to a lat/lon rectangle.

    Distances are compared as haversines (sin²(d/2R)), which are well conditioned for the short
    distances searches use.
    """

    def __init__(self, lat: float, lon: float, radius_m: float) -> None:
        self.lat, self.lon, self.radius_m = lat, lon, radius_m
        self.phi, self.lmb = math.radians(lat), math.radians(lon)
        self.sin_phi, self.cos_phi = math.sin(self.phi), math.cos(self.phi)
        reach = radius_m * (1 + _MARGIN_RELATIVE) + _MARGIN_M
        self.reach_h = _hav_of_distance(reach)
        self.radius_h = _hav_of_distance(radius_m)

    def _h(self, phi: float, lmb: float) -> float:
        return math.sin((phi - self.phi) / 2) ** 2 + self.cos_phi * math.cos(phi) * math.sin((lmb - self.lmb) / 2) ** 2

    def _lon_gap(self, lmb: float) -> float:
        """Longitude difference from the centre, wrapped to [0, π]."""
        gap = (lmb - self.lmb) % (2 * math.pi)
        return min(gap, 2 * math.pi - gap)

    def nearest_h(self, south: float, north: float, west: float, east: float) -> float:
        """Haversine of the distance from the centre to the closest point of the rectangle."""
        s, n, w, e = math.radians(south), math.radians(north), math.radians(west), math.radians(east)
        if (self.lmb - w) % (2 * math.pi) <= e - w:
            if s <= self.phi <= n:
                return 0.0
            # Latitude difference is a lower bound on distance, reached along the meridian.
            return self._h(min(max(self.phi, s), n), self.lmb)
        # Otherwise, at every latitude the closest longitude is the nearer meridian edge; on it
        # the closest point is a corner or the foot of the perpendicular from the centre.
        edge = w if self._lon_gap(w) <= self._lon_gap(e) else e
        foot = math.atan2(self.sin_phi, self.cos_phi * math.cos(edge - self.lmb))
        best = min(self._h(s, edge), self._h(n, edge))
        if s < foot < n:
            best = min(best, self._h(foot, edge))
        return best

    def farthest_h(self, south: float, north: float, west: float, east: float) -> float:
        """Haversine of the distance from the centre to the farthest point of the rectangle."""
        s, n, w, e = math.radians(south), math.radians(north), math.radians(west), math.radians(east)
        antipode = self.lmb + math.pi
        if (antipode - w) % (2 * math.pi) <= e - w:
            edge = antipode
        else:
            edge = w if self._lon_gap(w) >= self._lon_gap(e) else e
        foot = math.atan2(self.sin_phi, self.cos_phi * math.cos(edge - self.lmb))
        far = foot - math.pi if foot > 0 else foot + math.pi
        worst = max(self._h(s, edge), self._h(n, edge))
        if s < far < n:
            worst = max(worst, self._h(far, edge))
        return worst

    def touches(self, south: float, north: float, west: float, east: float) -> bool:
        """Whether any point of the rectangle may lie within the radius (never a false no)."""
        return self.nearest_h(south, north, west, east) <= self.reach_h

    def nearest_m(self, south: float, north: float, west: float, east: float) -> float:
        return _distance_of_hav(self.nearest_h(south, north, west, east))

    def farthest_m(self, south: float, north: float, west: float, east: float) -> float:
        return _distance_of_hav(self.farthest_h(south, north, west, east))


def _hav_of_distance(distance_m: float) -> float:
    return math.sin(min(distance_m / EARTH_RADIUS_M, math.pi) / 2) ** 2


def _distance_of_hav(h: float) -> float:
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _area_m2(south: float, north: float, west: float, east: float) -> float:
    return EARTH_RADIUS_M**2 * math.radians(east - west) * (math.sin(math.radians(north)) - math.sin(math.radians(south)))


# --- the covering -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CoveringCell:
    """A geohash cell of the covering, clipped to one partition.

    ``first``/``last``: the cell's 60-bit geohash range; ``bounds``: (south, north, west, east)
    of the part of it inside the partition.
    """

    partition: str
    first: int
    last: int
    bounds: Tuple[float, float, float, float]


@dataclasses.dataclass(frozen=True)
class KeyRange:
    """One DynamoDB query: ``cell = partition AND position BETWEEN low AND high``."""

    partition: str
    low: str
    high: str

    def holds(self, partition: str, position: str) -> bool:
        return partition == self.partition and self.low <= position <= self.high


@dataclasses.dataclass(frozen=True)
class SearchPlan:
    lat: float
    lon: float
    radius_m: float
    ranges: Tuple[KeyRange, ...]
    cells: int
    partitions: int


def touched_partitions(lat: float, lon: float, radius_m: float, grid: PartitionGrid = PARTITIONS) -> List[Partition]:
    """Every partition whose rectangle comes within ``radius_m`` of the centre."""
    circle = Circle(lat, lon, radius_m)
    return [p for p in _candidate_partitions(circle, grid) if circle.touches(*grid.bounds(p))]


def _candidate_partitions(circle: Circle, grid: PartitionGrid) -> Iterator[Partition]:
    """Partitions overlapping the circle's bounding box (a superset of those it touches)."""
    angle = min(math.pi, circle.radius_m * (1 + _MARGIN_RELATIVE) / EARTH_RADIUS_M + 1e-9)
    south = max(-90.0, math.degrees(circle.phi - angle) - 1e-9)
    north = min(90.0, math.degrees(circle.phi + angle) + 1e-9)
    spans: List[Tuple[float, float]]
    if north >= 90.0 or south <= -90.0 or math.sin(angle) >= circle.cos_phi:
        spans = [(-180.0, 180.0)]  # the circle reaches or contains a pole
    else:
        half = math.degrees(math.asin(math.sin(angle) / circle.cos_phi)) + 1e-9
        west, east = circle.lon - half, circle.lon + half
        spans = [(max(west, -180.0), min(east, 180.0))]
        if west < -180.0:
            spans.append((west + 360.0, 180.0))
        if east > 180.0:
            spans.append((-180.0, east - 360.0))
    rows = 1 << grid.lat_bits
    first_row = max(0, min(rows - 1, int((south + 90.0) / 180.0 * rows)))
    last_row = max(0, min(rows - 1, int((north + 90.0) / 180.0 * rows)))
    for row in range(first_row, last_row + 1):
        count = 1 << grid.column_bits(row)
        columns = set()
        for west, east in spans:
            first = max(0, min(count - 1, int((west + 180.0) / 360.0 * count)))
            last = max(0, min(count - 1, int((east + 180.0) / 360.0 * count)))
            columns.update(range(first, last + 1))
        for column in sorted(columns):
            yield grid.partition(row, column)


# A leaf of the covering walk: (accepted, first, last, area in m² if rejected, bounds).
_Leaf = Tuple[bool, int, int, float, Tuple[float, float, float, float]]
# A cell being refined: (partition key, geohash bits, bit count, longitude bits and count,
# latitude bits and count). Longitude/latitude are the finer of the cell's and its partition's.
_Node = Tuple[str, int, int, int, int, int, int]

# Geohash cells near the poles are slivers (a cell 1 m tall may be 1 mm wide), so splitting
# them down to a size would take millions of cells. Refinement stops, leaving the edge cells
# as they are, when a level would hold more cells than this.
MAX_EDGE_CELLS = 512


def _walk(
    circle: Circle, grid: PartitionGrid, partitions: Sequence[Partition], finest_m: float
) -> Dict[str, List[_Leaf]]:
    """Tile each partition with geohash cells in Z-order, each accepted or rejected.

    Cells are split, breadth first, while they cross the circle's edge and are larger than
    ``finest_m``. Cells coarser than a partition are clipped to it: within one partition, the
    entries under a geohash prefix are still one contiguous run of sort keys.
    """
    leaves: Dict[str, List[_Leaf]] = {p.key: [] for p in partitions}
    level: List[_Node] = []
    for p in partitions:
        # The geohash prefix common to every point of the partition.
        nbits = min(2 * p.column_bits, 2 * grid.lat_bits + 1)
        value = _interleave(p.column, p.column_bits, p.row, grid.lat_bits, nbits)
        level.append((p.key, value, nbits, p.column, p.column_bits, p.row, grid.lat_bits))
    while level:
        edge: List[_Node] = []
        for node in level:
            key, value, nbits, lon, lon_n, lat, lat_n = node
            south, north = _lat_bounds(lat, lat_n)
            west, east = _lon_bounds(lon, lon_n)
            first = value << (_FULL_BITS - nbits)
            last = ((value + 1) << (_FULL_BITS - nbits)) - 1
            bounds = (south, north, west, east)
            if circle.nearest_h(south, north, west, east) > circle.reach_h:
                leaves[key].append((False, first, last, _area_m2(south, north, west, east), bounds))
                continue
            height = math.radians(north - south) * EARTH_RADIUS_M
            equatorward = 0.0 if south < 0.0 < north else min(abs(south), abs(north))
            width = math.radians(east - west) * EARTH_RADIUS_M * math.cos(math.radians(equatorward))
            if (
                nbits == _FULL_BITS
                or max(height, width) <= finest_m
                or circle.farthest_h(south, north, west, east) <= circle.radius_h
            ):
                leaves[key].append((True, first, last, 0.0, bounds))
            else:
                edge.append(node)
        children = [child for node in edge for child in _children(node)]
        if len(children) > MAX_EDGE_CELLS:
            for key, value, nbits, lon, lon_n, lat, lat_n in edge:
                first, last = value << (_FULL_BITS - nbits), ((value + 1) << (_FULL_BITS - nbits)) - 1
                leaves[key].append((True, first, last, 0.0, _lat_bounds(lat, lat_n) + _lon_bounds(lon, lon_n)))
            break
        level = children
    for own in leaves.values():
        own.sort(key=lambda leaf: leaf[1])
    return leaves


def _children(node: _Node) -> List[_Node]:
    key, value, nbits, lon, lon_n, lat, lat_n = node
    index = nbits // 2
    if nbits % 2 == 0:  # the next bit is a longitude bit
        if index < lon_n:  # fixed by the partition's column
            return [(key, (value << 1) | ((lon >> (lon_n - 1 - index)) & 1), nbits + 1, lon, lon_n, lat, lat_n)]
        return [(key, (value << 1) | bit, nbits + 1, (lon << 1) | bit, lon_n + 1, lat, lat_n) for bit in (0, 1)]
    if index < lat_n:  # fixed by the partition's row
        return [(key, (value << 1) | ((lat >> (lat_n - 1 - index)) & 1), nbits + 1, lon, lon_n, lat, lat_n)]
    return [(key, (value << 1) | bit, nbits + 1, lon, lon_n, (lat << 1) | bit, lat_n + 1) for bit in (0, 1)]


def _check(lat: float, lon: float, radius_m: float) -> None:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError("latitude must be within ±90 and longitude within ±180")
    if not (radius_m > 0 and math.isfinite(radius_m)):
        raise ValueError("radius must be a positive number of metres")


def cover_circle(
    lat: float, lon: float, radius_m: float, grid: PartitionGrid = PARTITIONS, refine: float = REFINE
) -> List[CoveringCell]:
    """Geohash cells, partition by partition, that together contain every point of the circle."""
    _check(lat, lon, radius_m)
    circle = Circle(lat, lon, radius_m)
    cells: List[CoveringCell] = []
    partitions = touched_partitions(lat, lon, radius_m, grid)
    for key, leaves in _walk(circle, grid, partitions, radius_m * refine).items():
        for accepted, first, last, _area, bounds in leaves:
            if accepted:
                cells.append(CoveringCell(key, first, last, bounds))
    return cells


def plan_search(
    lat: float,
    lon: float,
    radius_m: float,
    max_queries: int = MAX_QUERIES,
    grid: PartitionGrid = PARTITIONS,
    refine: float = REFINE,
    negligible_gap: float = NEGLIGIBLE_GAP,
) -> SearchPlan:
    """The key ranges to query for every index entry within ``radius_m`` of (lat, lon).

    At most ``max_queries`` ranges, unless the circle touches more partitions than that (only
    possible for radii above ``BUDGETED_RADIUS_M``): each partition needs a query of its own.
    """
    _check(lat, lon, radius_m)
    circle = Circle(lat, lon, radius_m)
    disc_area = 2 * math.pi * EARTH_RADIUS_M**2 * (1 - math.cos(min(radius_m / EARTH_RADIUS_M, math.pi)))
    # Per partition: runs of accepted cells [first, last] and the wasted area between them.
    runs: Dict[str, List[List[int]]] = {}
    gaps: List[Tuple[float, str, int]] = []
    cells = 0
    partitions = touched_partitions(lat, lon, radius_m, grid)
    for key, leaves in _walk(circle, grid, partitions, radius_m * refine).items():
        own: List[List[int]] = []
        waste = 0.0
        for accepted, first, last, area, _bounds in leaves:
            if not accepted:
                waste += area
                continue
            cells += 1
            if own and waste == 0.0:
                own[-1][1] = last  # adjacent in this partition's sort order
            else:
                if own:
                    gaps.append((waste, key, len(own) - 1))
                own.append([first, last])
            waste = 0.0
        runs[key] = own
    # Close the cheapest gaps first: negligible ones always, the rest until within budget.
    gaps.sort()
    total = sum(len(own) for own in runs.values())
    closed: Dict[str, set] = {}
    for waste, key, index in gaps:
        if total <= max_queries and waste >= negligible_gap * disc_area:
            break
        closed.setdefault(key, set()).add(index)
        total -= 1
    ranges: List[KeyRange] = []
    for key, own in runs.items():
        shut = closed.get(key, set())
        merged: List[List[int]] = []
        for index, (first, last) in enumerate(own):
            if merged and index - 1 in shut:
                merged[-1][1] = last
            else:
                merged.append([first, last])
        for first, last in merged:
            # '$' sorts after '#', so the high key is above every "<geohash>#<id>" of the cell.
            ranges.append(KeyRange(key, bits_geohash(first), bits_geohash(last) + "$"))
    return SearchPlan(lat, lon, radius_m, tuple(ranges), cells, len(partitions))
