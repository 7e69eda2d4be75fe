"""The DynamoDB tables, as PynamoDB models. Each docstring documents its key shape.

Table names, endpoint and timeouts are bound from :class:`~chalicelib.config.Config` by
:func:`bind_models`, called once by the lazy getters before first use. The same models create
the local tables (``create_tables``) and are compared with the CDK app's definitions in tests.

No model relies on DynamoDB transactions: the local engine (dynalite) has none, and every
multi-item change is ordered so that a crash between two writes leaves a state the next
retry or the housekeeping job repairs (see ``docs/decisions.md``).
"""
from __future__ import annotations

from typing import Iterable, List, Type

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
from pynamodb.models import Model

from chalicelib.config import Config


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


class Registration(Model):
    """One owner's cameras at one premises.

    PK: ``registration_id``, derived from the owner's normalised email and the premises
    (``chalicelib.registrations.registration_id_for``), so the same owner registering the same
    premises twice lands on the same item and a conditional put cannot duplicate it.

    ``status``: ``pending`` (until the email is verified; ``expires_at`` set, purged after it)
    → ``active`` (in the geo index) ⇄ ``paused``. Deleting removes the item.
    """

    class Meta:
        table_name = "sightline-registrations"

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


class GeoIndexEntry(Model):
    """Sparse search index of active registrations.

    PK: ``cell``, the premises' geohash at ``geo.PARTITION_PRECISION``.
    SK: ``position`` = ``<geohash at geo.FULL_PRECISION>#<registration_id>``, so a range of
    adjacent cells is one ``BETWEEN`` on the sort key.

    The index may briefly hold an entry whose registration is no longer active (writes are
    ordered so that it is a superset of the active registrations, never a subset); readers
    check the registration's status.
    """

    class Meta:
        table_name = "sightline-geo-index"

    cell = UnicodeAttribute(hash_key=True)
    position = UnicodeAttribute(range_key=True)
    registration_id = UnicodeAttribute()
    lat = NumberAttribute()
    lon = NumberAttribute()


class LinkToken(Model):
    """A single-use link or an owner session. Only the token's SHA-256 is stored.

    PK: ``token_hash`` (hex SHA-256 of the token). ``purpose`` says what it opens
    (``verify``: one registration; ``manage``: an owner's email; ``owner_session``: the
    session that a manage link is exchanged for), ``subject`` what it opens it to.
    ``expires_at`` is a TTL attribute; readers ignore expired items themselves, since DynamoDB
    deletes them only eventually.
    """

    class Meta:
        table_name = "sightline-tokens"

    token_hash = UnicodeAttribute(hash_key=True)
    purpose = UnicodeAttribute()
    subject = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


ALL_MODELS: List[Type[Model]] = [Registration, GeoIndexEntry, LinkToken]


def bind_models(config: Config) -> None:
    """Point every model at the configured tables and endpoint, with API-friendly timeouts."""
    names = {
        Registration: config.registrations_table,
        GeoIndexEntry: config.geo_index_table,
        LinkToken: config.tokens_table,
    }
    for model, table_name in names.items():
        meta = model.Meta
        meta.table_name = table_name
        meta.region = config.region
        meta.host = config.dynamodb_endpoint_url
        meta.connect_timeout_seconds = config.dynamodb_connect_timeout_s
        meta.read_timeout_seconds = config.dynamodb_read_timeout_s
        meta.max_retry_attempts = config.dynamodb_max_retries
        model._connection = None


def create_tables(models: Iterable[Type[Model]] = ALL_MODELS) -> None:
    """Create the tables off AWS (local stack, tests). In AWS the CDK app owns them."""
    for model in models:
        if not model.exists():
            # dynalite has no UpdateTimeToLive; expiry is enforced on read and by housekeeping.
            model.create_table(
                billing_mode="PAY_PER_REQUEST", wait=True, ignore_update_ttl_errors=True
            )
