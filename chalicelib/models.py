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


class AuditByCase(GlobalSecondaryIndex):
    """GSI ``by-case``. PK: ``case_ref``; SK: ``entry_key``."""

    class Meta:
        index_name = "by-case"
        projection = AllProjection()

    case_ref = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)


class AuditByDay(GlobalSecondaryIndex):
    """GSI ``by-day``. PK: ``day`` (``YYYY-MM-DD``, UTC); SK: ``entry_key``."""

    class Meta:
        index_name = "by-day"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)


class AuditEntry(Model):
    """Append-only record of one consultation or disclosure of personal data.

    PK: ``officer`` (Cognito username); SK: ``entry_key`` = ``<ISO 8601 UTC time>#<entry_id>``,
    so an officer's entries read in time order and a time range is one ``BETWEEN``.
    Entries are only ever put with ``attribute_not_exists``; nothing updates or deletes them
    (the deployed functions' IAM policies grant no UpdateItem or DeleteItem on this table).
    """

    class Meta:
        table_name = "sightline-audit"

    officer = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
    entry_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    day = UnicodeAttribute()
    action = UnicodeAttribute()
    officer_sub = UnicodeAttribute()
    case_ref = UnicodeAttribute()
    reason = UnicodeAttribute()
    detail = MapAttribute(default=dict)
    registration_ids = ListAttribute(of=UnicodeAttribute, default=list)

    by_case = AuditByCase()
    by_day = AuditByDay()


class SearchResultAttribute(MapAttribute):
    registration_id = UnicodeAttribute()
    distance_m = NumberAttribute()


class SavedSearch(Model):
    """An officer's search and the registrations it returned, for ``GET /officer/searches/{id}``.

    PK: ``search_id`` (random). Holds ids and distances only: personal data is read afresh
    (and audited again) when the search is opened, so a deleted registration never reappears.
    """

    class Meta:
        table_name = "sightline-searches"

    search_id = UnicodeAttribute(hash_key=True)
    officer = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    case_ref = UnicodeAttribute()
    reason = UnicodeAttribute()
    lat = NumberAttribute()
    lon = NumberAttribute()
    radius_m = NumberAttribute()
    incident_time = UTCDateTimeAttribute(null=True)
    results = ListAttribute(of=SearchResultAttribute, default=list)
    total = NumberAttribute()
    stats = MapAttribute(default=dict)
    expires_at = TTLAttribute()


# --- Footage requests and evidence --------------------------------------------------------


class RequestsByCase(GlobalSecondaryIndex):
    """GSI ``by-case``. PK: ``case_ref``; SK: ``request_id``."""

    class Meta:
        index_name = "by-case"
        projection = AllProjection()

    case_ref = UnicodeAttribute(hash_key=True)
    request_id = UnicodeAttribute(range_key=True)


class RequestsByRegistration(GlobalSecondaryIndex):
    """GSI ``by-registration``. PK: ``registration_id``; SK: ``request_id`` (an owner's export)."""

    class Meta:
        index_name = "by-registration"
        projection = AllProjection()

    registration_id = UnicodeAttribute(hash_key=True)
    request_id = UnicodeAttribute(range_key=True)


class FootageRequest(Model):
    """An officer's request to one registration's owner for footage of an incident.

    PK: ``request_id``, derived from the case reference and the registration
    (``footage_requests.request_id_for``): asking twice lands on the same item.
    ``status``: ``sent`` → ``uploading`` → ``responded`` | ``declined`` | ``expired``; moves out
    of ``sent``/``uploading`` are conditional updates. ``task_token`` is the workflow
    execution's current token, completed when the owner answers.
    """

    class Meta:
        table_name = "sightline-requests"

    request_id = UnicodeAttribute(hash_key=True)
    case_ref = UnicodeAttribute()
    registration_id = UnicodeAttribute()
    officer = UnicodeAttribute()
    officer_sub = UnicodeAttribute()
    incident_from = UTCDateTimeAttribute()
    incident_to = UTCDateTimeAttribute()
    summary = UnicodeAttribute()
    lat = NumberAttribute()
    lon = NumberAttribute()
    area = UnicodeAttribute()
    reason = UnicodeAttribute()
    reply_by = UTCDateTimeAttribute(null=True)
    deadline = UTCDateTimeAttribute()
    reminder_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    answered_at = UTCDateTimeAttribute(null=True)
    decline_reason = UnicodeAttribute(null=True)
    task_token = UnicodeAttribute(null=True)
    uploads_started = NumberAttribute(default=0)
    owner_notified = BooleanAttribute(default=False)
    workflow_started = BooleanAttribute(default=False)

    by_case = RequestsByCase()
    by_registration = RequestsByRegistration()


class EvidenceByRequest(GlobalSecondaryIndex):
    """GSI ``by-request``. PK: ``request_id``; SK: ``evidence_id``."""

    class Meta:
        index_name = "by-request"
        projection = AllProjection()

    request_id = UnicodeAttribute(hash_key=True)
    evidence_id = UnicodeAttribute(range_key=True)


class EvidenceItem(Model):
    """One uploaded object version, verified on arrival.

    PK: ``evidence_id``, derived from bucket, key and version (``evidence.evidence_id_for``),
    so a redelivered S3 event finds the item it made. ``status``: ``accepted`` (shown to
    officers, under legal hold) or ``quarantined`` (with ``problem``; never shown to officers).
    """

    class Meta:
        table_name = "sightline-evidence"

    evidence_id = UnicodeAttribute(hash_key=True)
    request_id = UnicodeAttribute()
    key = UnicodeAttribute()
    version_id = UnicodeAttribute(null=True)
    filename = UnicodeAttribute()
    size = NumberAttribute()
    content_type = UnicodeAttribute()
    sha256 = UnicodeAttribute()
    uploaded_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    problem = UnicodeAttribute(null=True)
    officer_notified = BooleanAttribute(default=False)

    by_request = EvidenceByRequest()


ALL_MODELS: List[Type[Model]] = [
    Registration, GeoIndexEntry, LinkToken, AuditEntry, SavedSearch, FootageRequest, EvidenceItem,
]


def condition_failed(exc: Exception) -> bool:
    """Whether a PynamoDB write error is a failed condition (someone else got there first)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def bind_models(config: Config) -> None:
    """Point every model at the configured tables and endpoint, with API-friendly timeouts."""
    names = {
        Registration: config.registrations_table,
        GeoIndexEntry: config.geo_index_table,
        LinkToken: config.tokens_table,
        AuditEntry: config.audit_table,
        SavedSearch: config.searches_table,
        FootageRequest: config.requests_table,
        EvidenceItem: config.evidence_table,
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
