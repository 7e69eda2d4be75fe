"""Officers' search filters (towards the point, footage still held, business or home), on moto.

Each filter is applied before results are counted, capped, audited and shown.
"""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.base.audit import AuditEntry
from chalicelib.registry.tables import CameraAttribute, PointAttribute
from tests.conftest import bearer
from tests.service.test_officer_search import CENTRE, body_of, offset, place, search


@pytest.fixture(autouse=True)
def _officer_pool(officers):
    """Every test here runs with the officers' pool."""


def camera(direction_deg=None, at=None):
    location = PointAttribute(lat=at[0], lon=at[1]) if at else None
    return CameraAttribute(direction_deg=direction_deg, location=location)


def north(metres):
    return offset(*CENTRE, metres, 0)


def ids(result):
    return [r["registration_id"] for r in result["registrations"]]


def by_id(result):
    return {r["registration_id"]: r for r in result["registrations"]}


def searched_registration_ids():
    return [e.registration_ids for e in AuditEntry.scan() if e.action == "search"]


# -- towards the incident point ------------------------------------------------------------------


def place_facing():
    """North of the point: one camera facing it, one facing away, one of unknown direction, one
    registration with no camera described, one whose camera sits west of the point facing east
    (towards it from there, though its premises are north), one facing 60° off the point."""
    place("rfacing", *north(100), cameras=[camera(180)])
    place("raway", *north(120), cameras=[camera(0), camera(90)])
    place("runknown", *north(140), cameras=[camera(0), camera(None)])
    place("rundescribed", *north(160))
    place("rowncamera", *north(180), cameras=[camera(90, at=offset(*CENTRE, 0, -200))])
    place("rsixty", *north(200), cameras=[camera(240)])


def test_towards_keeps_cameras_pointing_at_the_point_and_those_of_unknown_direction(client):
    # Given cameras north of the point, facing various ways
    place_facing()
    # When an officer searches without, then with, the filter
    everything = body_of(search(client, radius_m=300))
    facing = body_of(search(client, radius_m=300, filters={"towards": True}))
    # Then the filter drops only the registrations whose every camera faces away
    assert ids(everything) == ["rfacing", "raway", "runknown", "rundescribed", "rowncamera", "rsixty"]
    assert ids(facing) == ["rfacing", "runknown", "rundescribed", "rowncamera"]
    assert facing["total"] == 4 and facing["total_exact"] is True
    assert facing["filters"] == {"towards": True, "towards_within_deg": 45, "held_at_incident": False, "premises": None}
    # And each camera and registration is marked, unknown directions as null
    marks = by_id(everything)
    assert [c["towards"] for c in marks["rfacing"]["cameras"]] == [True]
    assert marks["rfacing"]["towards"] is True
    assert [c["towards"] for c in marks["raway"]["cameras"]] == [False, False] and marks["raway"]["towards"] is False
    assert [c["towards"] for c in marks["runknown"]["cameras"]] == [False, None] and marks["runknown"]["towards"] is None
    assert marks["rundescribed"]["cameras"] == [] and marks["rundescribed"]["towards"] is None
    assert marks["rowncamera"]["towards"] is True  # measured from the camera, not the premises
    # And only what was shown is audited
    assert ids(facing) in searched_registration_ids()


def test_the_angle_is_the_forces_setting_unless_the_search_gives_one(client):
    place_facing()
    wide = body_of(search(client, radius_m=300, filters={"towards": True, "towards_within_deg": 70}))
    assert "rsixty" in ids(wide) and "raway" not in ids(wide)
    assert wide["filters"]["towards_within_deg"] == 70
    assert by_id(wide)["rsixty"]["towards"] is True


def test_an_earlier_search_is_marked_again_with_its_own_angle(client):
    place_facing()
    search_id = body_of(search(client, radius_m=300, filters={"towards": True, "towards_within_deg": 70}))["search_id"]
    again = body_of(client.http.get(f"/officer/searches/{search_id}?reason=Looking+again", headers=bearer("pc.jones")))
    assert again["filters"]["towards_within_deg"] == 70
    assert by_id(again)["rsixty"]["towards"] is True and "raway" not in ids(again)


# -- footage still held at the incident time -----------------------------------------------------


def test_held_at_incident_keeps_footage_not_yet_overwritten_and_marks_the_most_urgent(client):
    # Given an incident ten days ago and cameras keeping 7, 14, 20 days and one unknown (the default, 7)
    incident = (datetime.now(timezone.utc) - timedelta(days=10)).replace(microsecond=0)
    place("rweek", *north(50), retention_days=7)
    place("rfortnight", *north(100), retention_days=14)
    place("rtwenty", *north(150), retention_days=20)
    place("rdefault", *north(200), retention_days=None)
    when = incident.isoformat()
    # When searched without, then with, the filter
    everything = body_of(search(client, radius_m=300, incident_time=when))
    held = body_of(search(client, radius_m=300, incident_time=when, filters={"held_at_incident": True}))
    # Then only footage still held at the incident time is kept
    assert ids(everything) == ["rweek", "rfortnight", "rtwenty", "rdefault"]
    assert ids(held) == ["rfortnight", "rtwenty"]
    # And every result says when its footage is overwritten, the soonest still held marked
    views = by_id(everything)
    assert views["rfortnight"]["footage_overwritten_at"] == (incident + timedelta(days=14)).isoformat().replace("+00:00", "Z")
    assert [views[r]["footage_held"] for r in ids(everything)] == [False, True, True, False]
    assert [views[r]["most_urgent"] for r in ids(everything)] == [False, True, False, False]
    assert views["rdefault"]["retention_days"] is None and views["rdefault"]["retention_assumed"] is True
    assert views["rdefault"]["footage_overwritten_at"] == (incident + timedelta(days=7)).isoformat().replace("+00:00", "Z")
    assert searched_registration_ids()[-1] == ["rfortnight", "rtwenty"]


def test_without_an_incident_time_nothing_is_marked_urgent(client):
    place("rplain", *north(50))
    [view] = body_of(search(client, radius_m=100))["registrations"]
    assert view["footage_overwritten_at"] is None and view["footage_held"] is None and view["most_urgent"] is False


# -- business or home ----------------------------------------------------------------------------


def test_premises_filter_keeps_businesses_or_homes(client):
    place("rshop", *north(50), business_name="Corner Shop Ltd")
    place("rhome", *north(100))
    place("rblank", *north(150), business_name="  ")  # a blank name is a home
    assert ids(body_of(search(client, radius_m=300, filters={"premises": "business"}))) == ["rshop"]
    homes = body_of(search(client, radius_m=300, filters={"premises": "home"}))
    assert ids(homes) == ["rhome", "rblank"]
    everything = by_id(body_of(search(client, radius_m=300)))
    assert everything["rshop"]["business"] is True and everything["rhome"]["business"] is False
    assert "email" not in everything["rshop"] and "phone" not in everything["rshop"]


# -- filters come before the cap -----------------------------------------------------------------


def test_the_cap_applies_after_filtering(client):
    # Given the nearest registrations all facing away, and farther ones facing the point
    for number in range(5):
        place(f"raway{number}", *north(20 + number * 10), cameras=[camera(0)])
    for number in range(3):
        place(f"rtowards{number}", *north(200 + number * 10), cameras=[camera(180)])
    # When the officer asks for the two nearest facing the point
    capped = body_of(search(client, radius_m=300, limit=2, filters={"towards": True}))
    # Then they get the two nearest of those, not an empty list, and the count of all that pass
    assert ids(capped) == ["rtowards0", "rtowards1"]
    assert capped["total"] == 3 and capped["truncated"] is True
    assert searched_registration_ids()[-1] == ["rtowards0", "rtowards1"]
    unfiltered = body_of(search(client, radius_m=300, limit=2))
    assert ids(unfiltered) == ["raway0", "raway1"] and unfiltered["total"] == 8


# -- bad filters ---------------------------------------------------------------------------------

BAD_FILTERS = [
    ({"filters": {"premises": "shop"}}, "filters.premises"),
    ({"filters": {"towards": "yes"}}, "filters.towards"),
    ({"filters": {"towards_within_deg": 0}}, "filters.towards_within_deg"),
    ({"filters": {"towards_within_deg": 181}}, "filters.towards_within_deg"),
    ({"filters": {"towards_within_deg": 22.5}}, "filters.towards_within_deg"),
    ({"filters": {"held_at_incident": True}}, "filters.held_at_incident"),  # no incident_time
    ({"filters": {"colour": "blue"}}, "filters.colour"),
    ({"filters": ["towards"]}, "filters"),
]


@pytest.mark.parametrize("change, field", BAD_FILTERS, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD_FILTERS)])
def test_bad_filters_name_the_field_and_leave_no_trace(client, change, field):
    response = search(client, **change)
    assert response.status_code == 400, response.body
    assert field in body_of(response)["error"]["fields"]
    assert list(AuditEntry.scan()) == []
