"""The registry's tables. Each docstring documents its key shape."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
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
# Deleted by its owner: a tombstone that officers and the owner no longer see, kept only until
# its confirmation email is sent (``deliveries``), then removed.
DELETED = "deleted"
# Why housekeeping deleted a registration (an owner's own deletion names no reason).
NOT_RECONFIRMED = "not_reconfirmed"


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


class OwnerIndex(GlobalSecondaryIndex):
    """GSI ``by-owner``. PK: ``owner`` (the keyed hash of the owner's email); SK:
    ``registration_id``."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    registration_id = UnicodeAttribute(range_key=True)


@table
class Registration(Table):
    """One owner's cameras at one premises.

    PK: ``registration_id``, random: nothing about the owner can be read from it, and
    registering again after a deletion starts a new history. The same owner registering the same
    premises twice is found through :class:`RegistrationClaim`.

    ``owner`` is the keyed hash of the owner's normalised email (``base.pseudonyms``): what their
    sessions and links name. ``claim`` is the key of its :class:`RegistrationClaim`. ``email``
    is the address as typed, to write to.

    ``status``: ``pending`` (until the email is verified; ``expires_at`` set, purged after it)
    → ``active`` (in the geo index) ⇄ ``paused`` → ``deleted`` (a tombstone until the owner's
    confirmation is sent, then removed with its claim).

    Re-confirmation (``registry.currency``): ``confirmed_at`` is when the owner last said the
    details are right (verification, any change they make, a re-confirmation; older items have
    none and count from ``verified_at``). ``reconfirm_asked_at`` is set when housekeeping asks
    them again, ``reconfirm_paused_at`` when it paused the registration for want of an answer
    (a pause the owner chose has none); ``deleted_because`` is ``not_reconfirmed`` on a
    tombstone housekeeping made. Confirming clears both steps.
    """

    class Meta(metaclass=TableMeta):
        table = "registrations"

    registration_id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    claim = UnicodeAttribute()
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
    deletion_notice_sent = BooleanAttribute(null=True)
    confirmed_at = UTCDateTimeAttribute(null=True)
    reconfirm_asked_at = UTCDateTimeAttribute(null=True)
    reconfirm_paused_at = UTCDateTimeAttribute(null=True)
    deleted_because = UnicodeAttribute(null=True)
    version = VersionAttribute()

    by_owner = OwnerIndex()


@table
class RegistrationClaim(Table):
    """Which registration holds one owner's premises: duplicate detection without an id derived
    from the owner's email and address.

    PK: ``claim``, the keyed hash of (owner's normalised email, postcode, first address line
    folded to its letters and digits). Written before its registration and deleted after it, so a
    claim may point at a registration that is gone (a crash between the writes, or a deletion
    whose last step failed): the next registration of those premises takes such a claim over,
    and housekeeping removes the rest.
    """

    class Meta(metaclass=TableMeta):
        table = "registration-claims"

    claim = UnicodeAttribute(hash_key=True)
    registration_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


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
