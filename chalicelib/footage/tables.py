"""The footage tables. Each docstring documents its key shape."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.base.store import Table, TableMeta, table

# A request's statuses; moves out of an open one are conditional updates.
SENT = "sent"
UPLOADING = "uploading"
RESPONDED = "responded"
DECLINED = "declined"
EXPIRED = "expired"
OPEN = (SENT, UPLOADING)

# An evidence item's statuses.
ACCEPTED = "accepted"
QUARANTINED = "quarantined"
# Deleted at the end of its retention (the item stays, as the record that it existed).
DELETED = "deleted"

# How the owner's own SHA-256 of a file (computed in their browser) compared with ours.
HASH_MATCHED = "matched"
HASH_MISMATCH = "mismatch"

# What the malware scan said of an evidence item's object (``scan_result``), once it said it.
SCAN_CLEAN = "clean"


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


@table
class FootageRequest(Table):
    """An officer's request to one registration's owner for footage of an incident.

    PK: ``request_id``, derived from the case reference and the registration
    (``requests.request_id_for``): asking twice lands on the same item.
    ``status``: ``sent`` → ``uploading`` → ``responded`` | ``declined`` | ``expired``; moves out
    of ``sent``/``uploading`` are conditional updates. ``task_token`` is the workflow
    execution's current token, completed when the owner answers.

    When the owner deletes their registration the request stays, as the record that it was
    made and how it was answered, pseudonymised: ``area`` (from the owner's address) and the
    owner's own words (``decline_reason``) are removed, and ``registration_id`` names nothing.
    """

    class Meta(metaclass=TableMeta):
        table = "requests"

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
    area = UnicodeAttribute(null=True)
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
    # The request's quota, spent when an upload starts (a conditional update, uploads.py):
    # files started and the bytes they declared.
    uploads_started = NumberAttribute(default=0)
    upload_bytes = NumberAttribute(null=True)
    owner_notified = BooleanAttribute(default=False)
    workflow_started = BooleanAttribute(default=False)
    # Set to False by the move that closes the request, to True once the officer's notice of it
    # is queued: a retry, or housekeeping, queues one still False (never for older items,
    # which lack it).
    officer_told = BooleanAttribute(null=True)
    # When the owner deleted their registration: what identified them here is gone since.
    owner_deleted_at = UTCDateTimeAttribute(null=True)
    # The owner's statement about the footage (``footage.statements``): kept with the evidence.
    statement = MapAttribute(null=True)
    statement_at = UTCDateTimeAttribute(null=True)
    # Set to False when the owner finishes, to True once their receipt email is queued.
    receipt_sent = BooleanAttribute(null=True)

    by_case = RequestsByCase()
    by_registration = RequestsByRegistration()


class EvidenceByRequest(GlobalSecondaryIndex):
    """GSI ``by-request``. PK: ``request_id``; SK: ``evidence_id``."""

    class Meta:
        index_name = "by-request"
        projection = AllProjection()

    request_id = UnicodeAttribute(hash_key=True)
    evidence_id = UnicodeAttribute(range_key=True)


@table
class EvidenceItem(Table):
    """One uploaded object version, verified on arrival.

    PK: ``evidence_id``, derived from bucket, key and version (``ids.evidence_id_for``),
    so a redelivered S3 event finds the item it made. ``status``: ``accepted`` (shown to
    officers, under legal hold) or ``quarantined`` (with ``problem``; never shown to officers).
    """

    class Meta(metaclass=TableMeta):
        table = "evidence"

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
    scan_result = UnicodeAttribute(null=True)
    # The upload it came from (``u…``), its case, and the SHA-256 the owner's browser computed.
    upload_id = UnicodeAttribute(null=True)
    case_ref = UnicodeAttribute(null=True)
    owner_sha256 = UnicodeAttribute(null=True)
    hash_check = UnicodeAttribute(null=True)
    # Its exhibit reference within the case (``footage.exhibits``), once assigned.
    exhibit_ref = UnicodeAttribute(null=True)
    # Whether the owner has been emailed a receipt naming it.
    receipted = BooleanAttribute(null=True)
    deleted_at = UTCDateTimeAttribute(null=True)

    by_request = EvidenceByRequest()


@table
class UploadRecord(Table):
    """One upload the server started, and what the owner declared for it.

    PK: ``upload_id`` (``u…``, also the object key's third part). ``size``: the declared bytes,
    which a multipart upload's parts must add up to and an arriving object must match;
    ``part_size`` and ``s3_upload_id`` for multipart uploads. ``expires_at`` (TTL): a day after
    its last URL expires, when the bucket's lifecycle rule has aborted anything unfinished.
    """

    class Meta(metaclass=TableMeta):
        table = "uploads"

    upload_id = UnicodeAttribute(hash_key=True)
    request_id = UnicodeAttribute()
    key = UnicodeAttribute()
    method = UnicodeAttribute()
    size = NumberAttribute()
    part_size = NumberAttribute(null=True)
    s3_upload_id = UnicodeAttribute(null=True)
    # The SHA-256 the owner's browser computed while sending the file.
    owner_sha256 = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


@table
class Exhibit(Table):
    """An exhibit reference taken within a case: the claim that makes it unique.

    PK: ``case_ref``; SK: ``exhibit_ref`` (``JS/1``). Created once (a conditional put) before the
    evidence item is given the reference, so two items can never share one; a crash between the
    two is repaired by the next attempt finding the claim that names its item.
    ``stem``: the reference without its number (what numbers are counted within).
    """

    class Meta(metaclass=TableMeta):
        table = "exhibits"

    case_ref = UnicodeAttribute(hash_key=True)
    exhibit_ref = UnicodeAttribute(range_key=True)
    stem = UnicodeAttribute()
    number = NumberAttribute()
    evidence_id = UnicodeAttribute()
    assigned_at = UTCDateTimeAttribute()


@table
class CustodyEvent(Table):
    """One event in an exhibit's chain of custody. Append-only: created with a conditional put,
    never updated or deleted (the functions' IAM grants no UpdateItem or DeleteItem on it).

    PK: ``evidence_id``; SK: ``seq`` (1, 2, …). ``hash`` is the SHA-256 of the event's fields
    with ``prev_hash``, the previous event's ``hash``: a changed or missing event breaks the
    chain (``custody.verify``). ``once``: what makes an event happen once (a redelivered message
    finds it recorded).
    """

    class Meta(metaclass=TableMeta):
        table = "custody"

    evidence_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    event = UnicodeAttribute()
    at = UnicodeAttribute()
    recorded_at = UnicodeAttribute()
    actor = UnicodeAttribute()
    detail = MapAttribute(default=dict)
    once = UnicodeAttribute(null=True)
    prev_hash = UnicodeAttribute()
    hash = UnicodeAttribute()
