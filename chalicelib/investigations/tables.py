"""The investigations' own table. Its docstring documents its key shape."""
from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

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
    results = ListAttribute(of=SearchResultAttribute, default=list)
    total = NumberAttribute()
    stats = MapAttribute(default=dict)
    expires_at = TTLAttribute()
