"""Officer authentication, incident searches and the audit log, through the API on moto."""
import json
import time
from datetime import datetime, timedelta, timezone

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib import geo
from chalicelib.base import officers as auth
from chalicelib.base.audit import AuditEntry
from chalicelib.base.config import get_config
from chalicelib.base.errors import Unauthorized
from chalicelib.registry.tables import AddressAttribute, GeoIndexEntry, PointAttribute, Registration
from chalicelib.registry.identity import owner_of
from tests.conftest import REGION, bearer, moto_jwks, post_json

CENTRE = (52.4862, -1.8904)


@pytest.fixture(autouse=True)
def _officer_pool(officers):
    """Every test here runs with the officers' pool."""


def body_of(response):
    return json.loads(response.body or b"null")


def place(registration_id, lat, lon, status="active", retention_days=14, indexed=True, cameras=(), business_name=None):
    """A registration as the registration flow leaves it (indexed when active)."""
    now = datetime.now(timezone.utc)
    Registration(
        registration_id,
        owner=owner_of(f"{registration_id}@example.org"),
        claim=f"claim-{registration_id}",
        email=f"{registration_id}@example.org",
        name=f"Owner {registration_id}",
        address=AddressAttribute(line1="1 Test Street", town="Birmingham", postcode="B1 1AA"),
        location=PointAttribute(lat=lat, lon=lon),
        geohash=geo.encode(lat, lon),
        camera_count=max(2, len(cameras)),
        cameras=list(cameras),
        business_name=business_name,
        retention_days=retention_days,
        status=status,
        consented_at=now,
        created_at=now,
        updated_at=now,
    ).save()
    if indexed:
        cell, position = geo.index_keys(lat, lon, registration_id)
        GeoIndexEntry(cell, position, registration_id=registration_id, lat=lat, lon=lon).save()


def offset(lat, lon, north_m, east_m):
    import math

    return lat + north_m / 111_195.0, lon + east_m / (111_195.0 * math.cos(math.radians(lat)))


def search_body(**overrides):
    body = {"lat": CENTRE[0], "lon": CENTRE[1], "radius_m": 500, "case_ref": "20/123456/26",
            "reason": "Burglary at a shop; looking for cameras facing the street", "category": "Theft offences"}
    body.update(overrides)
    return body


def search(client, user="pc.jones", **overrides):
    return post_json(client, "/officer/searches", search_body(**overrides), headers=bearer(user))


# -- authentication ----------------------------------------------------------------------------


def sign(claims, key=None, kid="dummy"):
    private = key or jwt.PyJWK.from_dict(moto_jwks(private=True)).key
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


def good_claims(**overrides):
    config = get_config()
    now = int(time.time())
    claims = {
        "iss": config.user_pool_issuer, "sub": "0000-sub", "client_id": config.user_pool_client_id,
        "token_use": "access", "iat": now, "exp": now + 600, "username": "pc.jones",
        "cognito:groups": ["officer"],
    }
    claims.update(overrides)
    return claims


def test_a_token_we_sign_like_cognito_is_accepted(client):
    # Guards the failure cases below: they fail for the reason they name, not for another.
    response = post_json(client, "/officer/searches", search_body(), headers={"Authorization": f"Bearer {sign(good_claims())}"})
    assert response.status_code == 200, response.body


FORGED_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic cGM6cGFzcw==",
        "Bearer not.a.jwt",
        "Bearer " + "e30." * 3,
        "Bearer " + sign(good_claims(), key=FORGED_KEY),
        "Bearer " + sign(good_claims(), kid="another-key"),
        "Bearer " + sign(good_claims(exp=int(time.time()) - 60)),
        # moto's tokens last an hour: one 16 minutes old is refused although its exp is ahead
        "Bearer " + sign(good_claims(iat=int(time.time()) - 16 * 60, exp=int(time.time()) + 44 * 60)),
        "Bearer " + sign(good_claims(token_use="id")),
        "Bearer " + sign(good_claims(client_id="someone-elses-app")),
        "Bearer " + sign(good_claims(iss="https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_other")),
        "Bearer " + jwt.encode(good_claims(), "secret", algorithm="HS256", headers={"kid": "dummy"}),
    ],
    ids=["missing", "empty", "no-token", "basic", "malformed", "garbage", "forged", "unknown-kid",
         "expired", "older-than-15-minutes", "id-token", "other-client", "other-pool", "hs256"],
)
def test_bad_officer_credentials_get_401_never_500(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = post_json(client, "/officer/searches", search_body(), headers=headers)
    assert response.status_code == 401, response.body
    assert body_of(response)["error"]["code"] == "unauthorized"
    assert response.headers.get("WWW-Authenticate") == "Bearer"
    assert list(AuditEntry.scan()) == []


def test_cognitos_id_token_is_refused(client):
    from tests.conftest import PASSWORD

    result = boto3.client("cognito-idp", region_name=REGION).initiate_auth(
        ClientId=get_config().user_pool_client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "pc.jones", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    response = post_json(client, "/officer/searches", search_body(), headers={"Authorization": f"Bearer {result['IdToken']}"})
    assert response.status_code == 401


@pytest.mark.parametrize("user", ["civilian.smith", "auditor.khan"])
def test_signed_in_users_outside_the_officer_group_get_403(client, user):
    response = search(client, user=user)
    assert response.status_code == 403
    assert body_of(response)["error"]["code"] == "forbidden"


def test_an_unreachable_key_set_is_503_not_500(client):
    def unreachable(url):
        raise OSError("connection refused")

    config = get_config()
    auth.get_authenticator.set(auth.Authenticator(config, auth.KeySet(config.jwks_url, fetch=unreachable)))
    response = search(client)
    assert response.status_code == 503


def test_keys_are_cached_and_refetched_for_a_new_key_id():
    calls = []

    def fetch(url):
        calls.append(url)
        return moto_jwks()

    keys = auth.KeySet("https://example.invalid/jwks.json", fetch=fetch, min_refresh_s=0)
    keys.key("dummy")
    keys.key("dummy")
    assert len(calls) == 1
    with pytest.raises(Unauthorized):
        keys.key("rotated-key")
    assert len(calls) == 2


# -- search ------------------------------------------------------------------------------------


def test_search_returns_exactly_the_active_registrations_within_the_radius(client):
    # Given registrations at known distances, some not active
    for number, distance in enumerate([0, 120, 250, 499, 501, 800, 2000]):
        lat, lon = offset(*CENTRE, distance * 0.6, distance * 0.8)
        place(f"ractive{number}", lat, lon)
    place("rpending", *offset(*CENTRE, 50, 0), status="pending", indexed=False)
    place("rpaused", *offset(*CENTRE, 60, 0), status="paused", indexed=False)
    place("rstale", *offset(*CENTRE, 70, 0), status="paused", indexed=True)  # index not yet cleaned
    gone = offset(*CENTRE, 80, 0)  # an index entry whose registration was deleted
    GeoIndexEntry(*geo.index_keys(*gone, "rdeleted"), registration_id="rdeleted", lat=gone[0], lon=gone[1]).save()

    response = search(client, radius_m=500, incident_time="2026-11-20T22:15:00+00:00")

    assert response.status_code == 200, response.body
    result = body_of(response)
    ids = [r["registration_id"] for r in result["registrations"]]
    assert ids == ["ractive0", "ractive1", "ractive2", "ractive3"]
    distances = [r["distance_m"] for r in result["registrations"]]
    assert distances == sorted(distances) and 498 < distances[-1] <= 500
    first = result["registrations"][0]
    assert first["name"] == "Owner ractive0" and first["address"]["postcode"] == "B1 1AA"
    assert first["camera_count"] == 2 and first["retention_days"] == 14
    assert first["footage_overwritten_at"] == "2026-12-04T22:15:00Z"
    assert "email" not in first and "phone" not in first
    assert set(result["stats"]) >= {"queries", "items_read", "cells"}
    assert result["search_id"].startswith("s")


def test_search_matches_brute_force_on_random_points(client):
    import random

    rng = random.Random(3)
    points = {}
    for number in range(300):
        lat, lon = offset(*CENTRE, rng.uniform(-1500, 1500), rng.uniform(-1500, 1500))
        points[f"rrand{number}"] = (lat, lon)
        place(f"rrand{number}", lat, lon)
    for radius in (80, 333, 1000):
        result = body_of(search(client, radius_m=radius))
        expected = {rid for rid, (lat, lon) in points.items() if geo.haversine_m(*CENTRE, lat, lon) <= radius}
        assert {r["registration_id"] for r in result["registrations"]} == expected
        assert result["total"] == len(expected)


BAD_SEARCHES = [
    ({"radius_m": 5}, "radius_m"),
    ({"radius_m": 5001}, "radius_m"),
    ({"lat": 91}, "lat"),
    ({"lon": "x"}, "lon"),
    ({"case_ref": ""}, "case_ref"),
    ({"case_ref": "<script>"}, "case_ref"),
    ({"reason": ""}, "reason"),
    ({"incident_time": "yesterday"}, "incident_time"),
    ({"incident_time": "2026-11-20T22:15:00"}, "incident_time"),
    ({"colour": "blue"}, "colour"),
]


@pytest.mark.parametrize("change, field", BAD_SEARCHES, ids=[b[1] + str(i) for i, b in enumerate(BAD_SEARCHES)])
def test_bad_searches_name_the_field_and_leave_no_trace(client, change, field):
    response = search(client, **change)
    assert response.status_code == 400
    assert field in body_of(response)["error"]["fields"]
    assert list(AuditEntry.scan()) == []


def test_missing_case_reference_or_reason_is_refused(client):
    for missing in ("case_ref", "reason"):
        body = search_body()
        body.pop(missing)
        response = post_json(client, "/officer/searches", body, headers=bearer("pc.jones"))
        assert response.status_code == 400 and missing in body_of(response)["error"]["fields"]


# -- accountability ----------------------------------------------------------------------------


def test_every_search_is_audited_before_it_is_returned(client):
    place("raudited", *offset(*CENTRE, 10, 10))
    result = body_of(search(client, radius_m=100))
    [entry] = [e for e in AuditEntry.scan() if e.action != "open_case"]
    assert entry.officer == "pc.jones" and entry.action == "search"
    assert entry.case_ref == "20/123456/26" and entry.reason.startswith("Burglary")
    assert entry.registration_ids == ["raudited"]
    assert entry.detail.as_dict()["circle"] == {"lat": CENTRE[0], "lon": CENTRE[1], "radius_m": 100}
    assert entry.detail.as_dict()["search_id"] == result["search_id"]
    assert abs((datetime.now(timezone.utc) - entry.at).total_seconds()) < 60


def test_if_the_audit_log_cannot_be_written_nobody_sees_the_result(client):
    place("rsecret", *offset(*CENTRE, 10, 10))
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=get_config().table_name("audit"))
    response = search(client, radius_m=100)
    assert response.status_code == 503
    assert "rsecret" not in response.body.decode()
    assert "Owner" not in response.body.decode()


def test_an_earlier_search_is_shown_again_only_within_its_case_and_with_a_reason(client):
    place("rkept", *offset(*CENTRE, 10, 10))
    place("rgone", *offset(*CENTRE, 20, 10))
    search_id = body_of(search(client, radius_m=100))["search_id"]
    Registration.get("rgone").delete()
    again = f"/officer/searches/{search_id}?reason=Checking+before+asking"

    assert client.http.get(f"/officer/searches/{search_id}", headers=bearer("pc.jones")).status_code == 400
    mine = client.http.get(again, headers=bearer("pc.jones"))
    assert mine.status_code == 200
    result = body_of(mine)
    assert [r["registration_id"] for r in result["registrations"]] == ["rkept"]
    assert result["no_longer_available"] == 1
    assert [(e.action, e.reason) for e in AuditEntry.by_officer.query("pc.jones") if e.action != "open_case"] == [
        ("search", search_body()["reason"]), ("view_search", "Checking before asking")]

    assert client.http.get(again, headers=bearer("pc.other")).status_code == 404  # not on the case
    assert client.http.get(again, headers=bearer("auditor.khan")).status_code == 403  # the log only
    assert client.http.get(again, headers=bearer("sgt.patel")).status_code == 200  # a supervisor
    assert client.http.get("/officer/searches/s" + "0" * 24 + "?reason=look", headers=bearer("pc.jones")).status_code == 404
    assert client.http.get("/officer/searches/../../etc", headers=bearer("pc.jones")).status_code in (403, 404)


def test_supervisors_read_the_audit_log_by_officer_case_and_time(client):
    search(client, user="pc.jones", case_ref="CASE-1")
    search(client, user="pc.jones", case_ref="CASE-2")
    search(client, user="sgt.patel", case_ref="CASE-2")  # a supervisor: every case
    headers = bearer("auditor.khan")

    def read(**params):
        from urllib.parse import urlencode

        response = client.http.get("/officer/audit?" + urlencode(params), headers=headers)
        assert response.status_code == 200, response.body
        return [(e["officer"], e["case_ref"]) for e in body_of(response)["entries"] if e["action"] == "search"]

    assert read(officer="pc.jones") == [("pc.jones", "CASE-2"), ("pc.jones", "CASE-1")]
    assert read(case_ref="CASE-2") == [("sgt.patel", "CASE-2"), ("pc.jones", "CASE-2")]
    assert read(officer="pc.jones", case_ref="CASE-1") == [("pc.jones", "CASE-1")]
    since = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    everything = read(**{"from": since})
    assert ("sgt.patel", "CASE-2") in everything and ("pc.jones", "CASE-1") in everything
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert read(**{"from": future, "to": future}) == []
    # Reading the log is itself logged
    assert any(e.action == "read_audit" for e in AuditEntry.by_officer.query("auditor.khan"))


def test_officers_cannot_read_the_audit_log(client):
    assert client.http.get("/officer/audit", headers=bearer("pc.jones")).status_code == 403
    assert client.http.get("/officer/audit").status_code == 401


def test_bad_audit_filters_are_400(client):
    headers = bearer("auditor.khan")
    assert client.http.get("/officer/audit?from=yesterday", headers=headers).status_code == 400
    assert client.http.get("/officer/audit?from=2026-01-01T00:00:00", headers=headers).status_code == 400
    assert client.http.get("/officer/audit?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", headers=headers).status_code == 400
    assert client.http.get("/officer/audit?limit=0", headers=headers).status_code == 400


def test_a_limited_search_returns_the_nearest_and_counts_the_rest(client):
    for number in range(7):
        place(f"rnear{number}", *offset(*CENTRE, 20 + number * 30, 0))
    place("rnearpaused", *offset(*CENTRE, 5, 0), status="paused", indexed=True)
    result = body_of(search(client, radius_m=500, limit=3))
    assert [r["registration_id"] for r in result["registrations"]] == ["rnear0", "rnear1", "rnear2"]
    assert result["truncated"] is True and result["total"] == 7
