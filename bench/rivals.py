"""What our covering is measured against, on the same data.

- ``naive_ranges``: the naive 3×3 rule: the geohash cell holding the centre, at the finest
  precision whose cells are at least the radius wide and tall, and its eight neighbours.
- ``plain_ranges``: the plain covering: cells one precision finer than that, kept when they
  touch the circle, adjacent cells merged, no budget.
- ``DynamodbGeo``: the ``dynamodbgeo`` package (Python port of AWS's dynamodb-geo), run as it
  ships, on its own table layout, with two minimal wraps documented on the class.

The first two produce key ranges on Sightline's own index, so they read the same table.
"""
from __future__ import annotations

import math
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple

from chalicelib import geo

# --- geohash cells as key ranges of our index -------------------------------------------------


def _cell_ranges(cell: str, grid: geo.PartitionGrid) -> List[Tuple[str, int, int]]:
    """(partition, first, last) for a geohash cell, one per partition it spans."""
    first = geo.geohash_bits(cell)
    last = first + (1 << (5 * (geo.FULL_PRECISION - len(cell)))) - 1
    return [(partition.key, first, last) for partition in grid.partitions_of_cell(cell)]


def _as_ranges(spans: Sequence[Tuple[str, int, int]]) -> List[geo.KeyRange]:
    """Merge spans adjacent in a partition's sort order, then turn them into key ranges."""
    merged: Dict[str, List[List[int]]] = {}
    for key, first, last in sorted(spans):
        own = merged.setdefault(key, [])
        if own and first <= own[-1][1] + 1:
            own[-1][1] = max(own[-1][1], last)
        else:
            own.append([first, last])
    return [
        geo.KeyRange(key, geo.bits_geohash(first), geo.bits_geohash(last) + "$")
        for key, own in merged.items()
        for first, last in own
    ]


def _cell_size_m(precision: int, lat: float) -> Tuple[float, float]:
    south, north, west, east = geo.cell_bounds(geo.encode(lat, 0.0, precision))
    height = math.radians(north - south) * geo.EARTH_RADIUS_M
    width = math.radians(east - west) * geo.EARTH_RADIUS_M * math.cos(math.radians(lat))
    return width, height


def naive_precision(lat: float, radius_m: float) -> int:
    """The finest precision whose cells are at least ``radius_m`` wide and tall at ``lat``."""
    precision = 1
    while precision < geo.FULL_PRECISION and min(_cell_size_m(precision + 1, lat)) >= radius_m:
        precision += 1
    return precision


def _neighbours(cell: str) -> List[str]:
    south, north, west, east = geo.cell_bounds(cell)
    height, width = north - south, east - west
    lat0, lon0 = (south + north) / 2, (west + east) / 2
    found = []
    for dlat in (-1, 0, 1):
        lat = lat0 + dlat * height
        if not -90 < lat < 90:
            continue
        for dlon in (-1, 0, 1):
            lon = (lon0 + dlon * width + 540.0) % 360.0 - 180.0
            found.append(geo.encode(lat, lon, len(cell)))
    return sorted(set(found))


def naive_ranges(lat: float, lon: float, radius_m: float, grid: geo.PartitionGrid = geo.PARTITIONS) -> List[geo.KeyRange]:
    cells = _neighbours(geo.encode(lat, lon, naive_precision(lat, radius_m)))
    return _as_ranges([span for cell in cells for span in _cell_ranges(cell, grid)])


def plain_ranges(lat: float, lon: float, radius_m: float, grid: geo.PartitionGrid = geo.PARTITIONS) -> List[geo.KeyRange]:
    precision = min(geo.FULL_PRECISION, naive_precision(lat, radius_m) + 1)
    circle = geo.Circle(lat, lon, radius_m)
    dlat = math.degrees(radius_m / geo.EARTH_RADIUS_M)
    dlon = dlat / max(1e-9, math.cos(math.radians(lat)))
    south, north, west, east = geo.cell_bounds(geo.encode(lat, lon, precision))
    step_lat, step_lon = north - south, east - west
    rows = int(dlat / step_lat) + 2
    columns = int(dlon / step_lon) + 2
    cells = set()
    for i in range(-rows, rows + 1):
        cell_lat = (south + north) / 2 + i * step_lat
        if not -90 < cell_lat < 90:
            continue
        for j in range(-columns, columns + 1):
            cell_lon = ((west + east) / 2 + j * step_lon + 540.0) % 360.0 - 180.0
            cell = geo.encode(cell_lat, cell_lon, precision)
            if cell not in cells and circle.touches(*geo.cell_bounds(cell)):
                cells.add(cell)
    return _as_ranges([span for cell in cells for span in _cell_ranges(cell, grid)])


# --- dynamodbgeo ------------------------------------------------------------------------------


class _CountingClient:
    """A boto3 DynamoDB client that counts Query calls and ScannedCount.

    Also drops an ``ExclusiveStartKey`` left over from the previous key range: dynamodbgeo
    reuses one parameter dict for all the ranges of a search, so after a range that needed a
    second page, the next range would otherwise start from the old range's last key.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def reset(self) -> None:
        self._local.queries = 0
        self._local.scanned = 0
        self._local.last_values = None

    @property
    def queries(self) -> int:
        return self._local.queries

    @property
    def scanned(self) -> int:
        return self._local.scanned

    def query(self, **params: Any) -> Dict[str, Any]:
        values = dict(params.get("ExpressionAttributeValues", {}))
        if values != self._local.last_values:
            params.pop("ExclusiveStartKey", None)
        self._local.last_values = values
        response = self._client.query(**params)
        self._local.queries += 1
        self._local.scanned += response["ScannedCount"]
        return response


class DynamodbGeo:
    """``dynamodbgeo`` 0.0.3 with its defaults (S2 cells, hash key length 2, 8-cell covering).

    Two wraps, both outside the package: points are loaded with ``batch_write_item`` in the
    package's own item layout (``put_Point`` writes one item per request, minutes for 200,000),
    and its client is wrapped by ``_CountingClient``. Each search passes a fresh query dict (the
    package's default argument is a shared mutable dict). It imports fine on Python 3.11.
    """

    def __init__(self, client: Any, table_name: str) -> None:
        import dynamodbgeo  # deferred: bench-only dependency with a sys.path side effect

        self._dynamodbgeo = dynamodbgeo
        self.client = _CountingClient(client)
        self.config = dynamodbgeo.GeoDataManagerConfiguration(self.client, table_name)
        self.manager = dynamodbgeo.GeoDataManager(self.config)
        self._s2 = dynamodbgeo.S2Manager()

    def create_table(self) -> None:
        request = self._dynamodbgeo.GeoTableUtil(self.config).getCreateTableRequest()
        self.client.create_table(**request)
        self.client.get_waiter("table_exists").wait(TableName=self.config.tableName)

    def item(self, registration_id: str, lat: float, lon: float) -> Dict[str, Any]:
        """The item ``put_Point`` would write for this registration."""
        point = self._dynamodbgeo.GeoPoint(lat, lon)
        cell = self._s2.generateGeohash(point)
        return {
            self.config.hashKeyAttributeName: {"N": str(self._s2.generateHashKey(cell, self.config.hashKeyLength))},
            self.config.rangeKeyAttributeName: {"S": registration_id},
            self.config.geohashAttributeName: {"N": str(cell)},
            self.config.geoJsonAttributeName: {"S": f"{lat},{lon}"},
        }

    def hash_key(self, lat: float, lon: float) -> int:
        return self._s2.generateHashKey(self._s2.generateGeohash(self._dynamodbgeo.GeoPoint(lat, lon)), self.config.hashKeyLength)

    def search(self, lat: float, lon: float, radius_m: float) -> Tuple[List[str], int, int]:
        """(registration ids returned, queries, items read)."""
        self.client.reset()
        request = self._dynamodbgeo.QueryRadiusRequest(self._dynamodbgeo.GeoPoint(lat, lon), radius_m, {}, sort=False)
        items = self.manager.queryRadius(request)
        found = [item[self.config.rangeKeyAttributeName]["S"] for item in items]
        return found, self.client.queries, self.client.scanned


def read_ranges_on_dynamodb(connection: Any, table: str, ranges: Sequence[geo.KeyRange], page_size: Optional[int] = None) -> Tuple[int, int, List[Dict[str, Any]]]:
    """(queries, items read, raw items) for key ranges on our table layout, sequentially."""
    queries = scanned = 0
    items: List[Dict[str, Any]] = []
    for key_range in ranges:
        start = None
        while True:
            params: Dict[str, Any] = {
                "TableName": table,
                "KeyConditionExpression": "#c = :c AND #p BETWEEN :low AND :high",
                "ExpressionAttributeNames": {"#c": "cell", "#p": "position"},
                "ExpressionAttributeValues": {
                    ":c": {"S": key_range.partition},
                    ":low": {"S": key_range.low},
                    ":high": {"S": key_range.high},
                },
            }
            if start:
                params["ExclusiveStartKey"] = start
            response = connection.query(**params)
            queries += 1
            scanned += response["ScannedCount"]
            items.extend(response["Items"])
            start = response.get("LastEvaluatedKey")
            if not start:
                break
    return queries, scanned, items
