"""The investigations' own tables. Each docstring documents its key shape."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.base.store import Table, TableMeta, table


class SearchResultAttribute(MapAttribute):
    registration_id = UnicodeAttribute()
    distance_m = NumberAttribute()


@table
class SavedSearch(Table):
    """An officer's search and the registrations it returned, for ``GET /officer/searches/{id}``.

    PK: ``search_id`` (random). Holds ids and distances only: personal data is read afresh
    (and audited again) when the search is opened, so a deleted registration never reappears.
    """

    class Meta(metaclass=TableMeta):
        table = "searches"

    search_id = UnicodeAttribute(hash_key=True)
    officer = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    case_ref = UnicodeAttribute()
    reason = UnicodeAttribute()
    lat = NumberAttribute()
    lon = NumberAttribute()
    radius_m = NumberAttribute()
    incident_time = UTCDateTimeAttribute(null=True)
    # The filters applied (``searches.Filters.as_dict``), so that opening it again marks the
    # same cameras as pointing towards the point; absent on searches saved before filters.
    filters = MapAttribute(null=True)
    results = ListAttribute(of=SearchResultAttribute, default=list)
    total = NumberAttribute()
    stats = MapAttribute(default=dict)
    expires_at = TTLAttribute()


OPEN = "open"
CLOSED = "closed"


@table
class Case(Table):
    """A case officers work in: the force's reference, what it is about, who works on it.

    PK: ``case_id``, derived from the normalised reference (``cases.case_id_for``), so the
    first search under a reference and a retry of it land on the same item.
    ``team`` holds the usernames of the officers on the case, the officer in charge among them:
    it is what every access check reads. ``status``: ``open`` → ``closed`` (no new searches or
    requests) and back, by the officer in charge or a supervisor. Never deleted.
    """

    class Meta(metaclass=TableMeta):
        table = "cases"

    case_id = UnicodeAttribute(hash_key=True)
    case_ref = UnicodeAttribute()
    category = UnicodeAttribute()
    summary = UnicodeAttribute(null=True)
    officer_in_charge = UnicodeAttribute()
    team = UnicodeSetAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()
    # Retention (``retention``): evidence is kept while the case is open and the force's period
    # after ``closed_at``, unless a supervisor ``hold``s it; ``evidence_deleted_at`` once done.
    closed_at = UTCDateTimeAttribute(null=True)
    hold = BooleanAttribute(null=True)
    evidence_deleted_at = UTCDateTimeAttribute(null=True)


@table
class CaseMembership(Table):
    """An officer's place on a case's team, so "my cases" is one query.

    PK: ``username``; SK: ``case_id``. Written before the officer is added to ``Case.team`` and
    deleted after they are removed, so memberships are a superset of the teams; "my cases"
    keeps only the cases whose team still names the officer.
    """

    class Meta(metaclass=TableMeta):
        table = "case-memberships"

    username = UnicodeAttribute(hash_key=True)
    case_id = UnicodeAttribute(range_key=True)
    added_at = UTCDateTimeAttribute()


# A case export's statuses (``exports.py``); "expired" is also how a ready one reads after
# ``expires_at``, before DynamoDB's TTL removes it.
BUILDING = "building"
READY = "ready"
FAILED = "failed"
EXPIRED = "expired"


class ExportFileAttribute(MapAttribute):
    """One file of an export: its path inside the export's folder, size and SHA-256."""

    path = UnicodeAttribute()
    size = NumberAttribute()
    sha256 = UnicodeAttribute()


class ExportsByCase(GlobalSecondaryIndex):
    """GSI ``by-case``. PK: ``case_id``; SK: ``export_id``."""

    class Meta:
        index_name = "by-case"
        projection = AllProjection()

    case_id = UnicodeAttribute(hash_key=True)
    export_id = UnicodeAttribute(range_key=True)


@table
class CaseExport(Table):
    """A case's export for the force's evidence system, built in the exports bucket under
    ``exports/<export_id>/<folder>/`` by the ``build_exports`` worker.

    PK: ``export_id`` (``x…``, random). ``status``: ``building`` → ``ready`` | ``failed``.
    ``queued``: False until the build's first message is on the exports queue (a POST that
    failed after the put is re-queued by housekeeping). ``files``: the exhibits copied so far
    while building (a continued or retried build skips them), every file once ready.
    ``withheld``: what was left out and why. ``expires_at`` (TTL): when its links stop
    (``export_ttl_days`` after it is ready); the bucket's lifecycle removes the objects a day
    later. ``officer_told``: False once ready until the officer's email is queued.
    """

    class Meta(metaclass=TableMeta):
        table = "exports"

    export_id = UnicodeAttribute(hash_key=True)
    case_id = UnicodeAttribute()
    case_ref = UnicodeAttribute()
    folder = UnicodeAttribute()
    recipient = UnicodeAttribute()
    reason = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    requested_by_sub = UnicodeAttribute()
    status = UnicodeAttribute()
    queued = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # Fixed when the build first runs, so a retried build writes the same manifest.
    generated_at = UnicodeAttribute(null=True)
    ready_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    files = ListAttribute(of=ExportFileAttribute, default=list)
    withheld = ListAttribute(default=list)
    evidence_ids = ListAttribute(of=UnicodeAttribute, default=list)
    request_ids = ListAttribute(of=UnicodeAttribute, default=list)
    officer_told = BooleanAttribute(null=True)
    problem = UnicodeAttribute(null=True)

    by_case = ExportsByCase()
