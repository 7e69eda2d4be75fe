"""The registry's tables. Each docstring documents its key shape."""
from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.base.store import Table, TableMeta, table

PENDING = "pending"
ACTIVE = "active"
PAUSED = "paused"


class AddressAttribute(MapAttribute):
    line1 = UnicodeAttribute()
    line2 = UnicodeAttribute(null=True)
    town = UnicodeAttribute()
    postcode = UnicodeAttribute()


class PointAttribute(MapAttribute):
    lat = NumberAttribute()
    lon = NumberAttribute()


class CameraAttribute(MapAttribute):
    location = PointAttribute(null=True)
    direction_deg = NumberAttribute(null=True)
    description = UnicodeAttribute(null=True)


class OwnerEmailIndex(GlobalSecondaryIndex):
    """GSI ``by-owner-email``. PK: ``owner_email`` (normalised); SK: ``registration_id``."""

    class Meta:
        index_name = "by-owner-email"
        projection = AllProjection()

    owner_email = UnicodeAttribute(hash_key=True)
    registration_id = UnicodeAttribute(range_key=True)


@table
class Registration(Table):
    """One owner's cameras at one premises.

    PK: ``registration_id``, derived from the owner's normalised email and the premises
    (``registrations.registration_id_for``), so the same owner registering the same premises
    twice lands on the same item and a conditional put cannot duplicate it.

    ``status``: ``pending`` (until the email is verified; ``expires_at`` set, purged after it)
    → ``active`` (in the geo index) ⇄ ``paused``. Deleting removes the item.
    """

    class Meta(metaclass=TableMeta):
        table = "registrations"

    registration_id = UnicodeAttribute(hash_key=True)
    owner_email = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    business_name = UnicodeAttribute(null=True)
    address = AddressAttribute()
    location = PointAttribute()
    geohash = UnicodeAttribute()
    camera_count = NumberAttribute()
    cameras = ListAttribute(of=CameraAttribute, default=list)
    retention_days = NumberAttribute(null=True)
    status = UnicodeAttribute()
    consented_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    verified_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    version = VersionAttribute()

    by_owner_email = OwnerEmailIndex()


@table
class GeoIndexEntry(Table):
    """Sparse search index of active registrations.

    PK: ``cell``, the premises' partition in ``geo.PARTITIONS``: a 23-bit geohash cell
    (0.088° × 0.088°, about 6 km × 9.8 km in the UK), written as its geohash with the bits past
    the last whole character in binary (``gcqd.110``); towards the poles cells are merged in
    longitude (``bp.01+11000``, ``+11111111111``). ``geo.index_keys`` is the only place that
    makes it.
    SK: ``position`` = ``<geohash at geo.FULL_PRECISION>#<registration_id>``, so a range of
    adjacent cells is one ``BETWEEN`` on the sort key.

    The index may briefly hold an entry whose registration is no longer active (writes are
    ordered so that it is a superset of the active registrations, never a subset); readers
    check the registration's status.
    """

    class Meta(metaclass=TableMeta):
        table = "geo-index"

    cell = UnicodeAttribute(hash_key=True)
    position = UnicodeAttribute(range_key=True)
    registration_id = UnicodeAttribute()
    lat = NumberAttribute()
    lon = NumberAttribute()
