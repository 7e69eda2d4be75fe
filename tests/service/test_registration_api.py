"""Registration, verification and the owner's own data, through the API on moto."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import geo
from chalicelib.base.tokens import LinkToken
from chalicelib.registry.tables import GeoIndexEntry, Registration, RegistrationClaim
from tests.conftest import post_json, registration_body

EMAIL = "ada@example.org"


def body_of(response):
    return json.loads(response.body or b"null")


def register_and_verify(client, outbox, **overrides):
    body = registration_body(**overrides)
    assert post_json(client, "/registrations", body).status_code == 202
    outbox.pump()
    token = outbox.last_link(body["email"], "verify.html")
    response = post_json(client, "/registrations/verify", {"token": token})
    assert response.status_code == 200, response.body
    return body_of(response)["registration_id"]


def owner_session(client, outbox, email=EMAIL):
    assert post_json(client, "/owner/links", {"email": email}).status_code == 202
    outbox.pump()
    token = outbox.last_link(email, "manage.html")
    response = post_json(client, "/owner/sessions", {"token": token})
    assert response.status_code == 200, response.body
    return {"Authorization": f"Bearer {body_of(response)['session']}"}


def index_entries():
    return list(GeoIndexEntry.scan())


# -- registering -------------------------------------------------------------------------------


def test_a_new_registration_waits_for_email_verification(client, outbox):
    # When a resident registers
    response = post_json(client, "/registrations", registration_body())
    # Then the answer says to check email, the registration is pending and not searchable
    assert response.status_code == 202
    assert body_of(response) == {"status": "pending_verification"}
    [item] = list(Registration.scan())
    assert item.status == "pending" and item.expires_at is not None
    assert index_entries() == []
    # And one verification email goes out with a link to the site's verify page
    assert outbox.pump() == 1
    [message] = outbox.to(EMAIL)
    assert message["Subject"] == "Confirm your camera registration"
    assert outbox.last_link(EMAIL, "verify.html")
    assert message.get_body(preferencelist=("html",)) is not None


def test_verifying_activates_and_indexes_the_registration_once(client, outbox):
    assert post_json(client, "/registrations", registration_body()).status_code == 202
    outbox.pump()
    token = outbox.last_link(EMAIL, "verify.html")

    response = post_json(client, "/registrations/verify", {"token": token})

    assert response.status_code == 200
    assert body_of(response)["status"] == "active"
    [item] = list(Registration.scan())
    assert item.status == "active" and item.expires_at is None and item.verified_at is not None
    [entry] = index_entries()
    assert (entry.cell, entry.position) == geo.index_keys(52.4812, -1.8984, item.registration_id)
    # A link works once
    again = post_json(client, "/registrations/verify", {"token": token})
    assert again.status_code == 410
    assert body_of(again)["error"]["code"] == "gone"


@pytest.mark.parametrize("token", ["", "x" * 43, "not a token at all", "A" * 300])
def test_unknown_or_malformed_verification_tokens_are_refused_cleanly(client, token):
    response = post_json(client, "/registrations/verify", {"token": token})
    assert response.status_code in (400, 410)
    assert "error" in body_of(response)


def test_an_expired_verification_link_is_refused(client, outbox):
    post_json(client, "/registrations", registration_body())
    outbox.pump()
    token = outbox.last_link(EMAIL, "verify.html")
    for item in LinkToken.scan():
        item.update(actions=[LinkToken.expires_at.set(datetime.now(timezone.utc) - timedelta(seconds=1))])

    assert post_json(client, "/registrations/verify", {"token": token}).status_code == 410
    assert list(Registration.scan())[0].status == "pending"


def test_the_same_answer_whether_or_not_the_email_is_known(client, outbox):
    register_and_verify(client, outbox)
    first = post_json(client, "/registrations", registration_body(email="new@example.org"))
    known = post_json(client, "/registrations", registration_body())
    assert (first.status_code, first.body) == (known.status_code, known.body)


def test_registering_the_same_premises_again_duplicates_nothing(client, outbox):
    registration_id = register_and_verify(client, outbox)
    # When the owner submits the same premises again (spelled a little differently)
    again = registration_body(address={"line1": "12 COLMORE ROW", "town": "Birmingham", "postcode": "b32bj"}, name="Someone Else")
    assert post_json(client, "/registrations", again).status_code == 202
    outbox.pump()
    # Then there is still one registration, unchanged, and the owner is sent a manage link
    [item] = list(Registration.scan())
    assert item.registration_id == registration_id and item.name == "Ada Lovelace"
    assert outbox.to(EMAIL)[-1]["Subject"] == "Your cameras are already registered"
    assert outbox.last_link(EMAIL, "manage.html")


def test_an_unverified_resubmission_updates_the_details_and_resends_the_link(client, outbox):
    post_json(client, "/registrations", registration_body(camera_count=1, cameras=[]))
    post_json(client, "/registrations", registration_body(camera_count=3, cameras=[]))
    outbox.pump()
    [item] = list(Registration.scan())
    assert item.camera_count == 3 and item.status == "pending"
    assert len(outbox.to(EMAIL)) == 2


def test_one_email_may_register_several_premises(client, outbox):
    register_and_verify(client, outbox)
    register_and_verify(
        client, outbox, address={"line1": "Unit 4, Fort Parkway", "town": "Birmingham", "postcode": "B24 9FD"},
        location={"lat": 52.5163, "lon": -1.8056}, business_name="Fort Motors",
    )
    assert len(list(Registration.scan())) == 2
    assert len(index_entries()) == 2


def test_unicode_is_kept_and_escaped_in_emails(client, outbox):
    name = "Zoë <b>Ångström</b> & 王秀英"
    register_and_verify(client, outbox, name=name, address={"line1": "Straße 5 «Nord»", "town": "Coventry", "postcode": "CV1 1AA"})
    [item] = list(Registration.scan())
    assert item.name == name
    # The manage link goes to the proven address, and shows the owner's own details, escaped
    assert post_json(client, "/owner/links", {"email": EMAIL}).status_code == 202
    outbox.pump()
    message = outbox.to(EMAIL)[-1]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Zoë &lt;b&gt;Ångström&lt;/b&gt; &amp; 王秀英" in html
    assert "<b>Ångström</b>" not in html
    assert name in message.get_body(preferencelist=("plain",)).get_content()


# -- bad input: a clear 4xx naming the field, and nothing written ----------------------------

BAD_BODIES = [
    ("missing name", {"name": None}, "name"),
    ("empty name", {"name": "   "}, "name"),
    ("bad email", {"email": "ada@"}, "email"),
    ("no consent", {"consent": False}, "consent"),
    ("consent as text", {"consent": "yes"}, "consent"),
    ("too many cameras", {"camera_count": 51}, "camera_count"),
    ("no cameras", {"camera_count": 0}, "camera_count"),
    ("cameras beyond the count", {"camera_count": 1, "cameras": [{}, {}]}, "cameras"),
    ("camera direction", {"cameras": [{"direction_deg": 360}]}, "cameras.0.direction_deg"),
    ("camera far away", {"cameras": [{"location": {"lat": 52.6, "lon": -1.9}}]}, "cameras.0.location"),
    ("retention too long", {"retention_days": 91}, "retention_days"),
    ("retention zero", {"retention_days": 0}, "retention_days"),
    ("latitude", {"location": {"lat": 95, "lon": 0}}, "location.lat"),
    ("longitude as text", {"location": {"lat": 52.4, "lon": "-1.9"}}, "location.lon"),
    ("no location", {"location": None}, "location"),
    ("postcode", {"address": {"line1": "1 A St", "town": "Brum", "postcode": "B"}}, "address.postcode"),
    ("no town", {"address": {"line1": "1 A St", "postcode": "B1 1AA"}}, "address.town"),
    ("unknown field", {"password": "hunter2"}, "password"),
    ("unknown address field", {"address": {"line1": "1", "town": "B", "postcode": "B1 1AA", "flat": 2}}, "address.flat"),
    ("phone", {"phone": "call me"}, "phone"),
    ("control characters", {"name": "Ada\u0007"}, "name"),
    ("name too long", {"name": "A" * 201}, "name"),
]


@pytest.mark.parametrize("label, change, field", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_registrations_are_refused_naming_the_field(client, outbox, label, change, field):
    body = registration_body()
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = post_json(client, "/registrations", body)
    assert response.status_code == 400, response.body
    error = body_of(response)["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert list(Registration.scan()) == [] and outbox.pump() == 0


def test_non_object_bodies_invalid_json_size_and_type(client):
    assert post_json(client, "/registrations", [1, 2]).status_code == 400
    bad_json = client.http.post("/registrations", headers={"Content-Type": "application/json"}, body="{oops")
    assert bad_json.status_code == 400 and "JSON" in body_of(bad_json)["error"]["message"]
    huge = registration_body(name="A" * 40000)
    assert post_json(client, "/registrations", huge).status_code == 413
    form = client.http.post("/registrations", headers={"Content-Type": "text/plain"}, body="name=Ada")
    assert form.status_code == 415 and body_of(form)["error"]["code"] == "unsupported_media_type"
    assert list(Registration.scan()) == []


# -- owner links and sessions ------------------------------------------------------------------


def test_manage_links_go_only_to_registered_emails_and_the_answer_is_the_same(client, outbox):
    register_and_verify(client, outbox)
    sent_before = len(outbox.messages())
    unknown = post_json(client, "/owner/links", {"email": "stranger@example.org"})
    known = post_json(client, "/owner/links", {"email": "ADA@example.org"})
    outbox.pump()
    assert (unknown.status_code, unknown.body) == (known.status_code, known.body)
    assert known.status_code == 202
    assert [m["To"] for m in outbox.messages()[sent_before:]] == [EMAIL]
    assert post_json(client, "/owner/links", {"email": "nope"}).status_code == 400


def test_a_manage_link_opens_one_session_once(client, outbox):
    register_and_verify(client, outbox)
    post_json(client, "/owner/links", {"email": EMAIL})
    outbox.pump()
    token = outbox.last_link(EMAIL, "manage.html")
    first = post_json(client, "/owner/sessions", {"token": token})
    assert first.status_code == 200
    session = body_of(first)
    assert len(session["session"]) >= 43 and session["expires_at"].endswith("Z")
    assert post_json(client, "/owner/sessions", {"token": token}).status_code == 410


def test_tokens_are_stored_only_as_hashes(client, outbox):
    register_and_verify(client, outbox)
    headers = owner_session(client, outbox)
    session = headers["Authorization"].split()[1]
    stored = json.dumps([item.attribute_values for item in LinkToken.scan()], default=str)
    assert session not in stored
    assert all(len(item.token_hash) == 64 for item in LinkToken.scan())


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer nope", "Basic abc", "Bearer " + "A" * 43])
def test_owner_routes_need_a_valid_session(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in [("get", "/owner/registrations"), ("get", "/owner/export"), ("delete", "/owner/registrations/rabc")]:
        response = getattr(client.http, method)(path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert body_of(response)["error"]["code"] == "unauthorized"


def test_an_expired_session_is_refused(client, outbox):
    register_and_verify(client, outbox)
    headers = owner_session(client, outbox)
    for item in LinkToken.scan(LinkToken.purpose == "owner_session"):
        item.update(actions=[LinkToken.expires_at.set(datetime.now(timezone.utc) - timedelta(seconds=1))])
    assert client.http.get("/owner/registrations", headers=headers).status_code == 401


def test_signing_out_ends_the_session(client, outbox):
    register_and_verify(client, outbox)
    headers = owner_session(client, outbox)
    assert client.http.delete("/owner/sessions", headers=headers).status_code == 204
    assert client.http.get("/owner/registrations", headers=headers).status_code == 401


def test_owners_see_only_their_own_registrations(client, outbox):
    mine = register_and_verify(client, outbox)
    theirs = register_and_verify(
        client, outbox, email="bob@example.org",
        address={"line1": "3 Broad St", "town": "Birmingham", "postcode": "B1 2HF"},
    )
    headers = owner_session(client, outbox)
    listed = body_of(client.http.get("/owner/registrations", headers=headers))["registrations"]
    assert [r["registration_id"] for r in listed] == [mine]
    assert listed[0]["name"] == "Ada Lovelace" and listed[0]["cameras"][0]["direction_deg"] == 90
    for method in ("get", "delete"):
        response = getattr(client.http, method)(f"/owner/registrations/{theirs}", headers=headers)
        assert response.status_code == 404
    patch = client.http.patch(
        f"/owner/registrations/{theirs}", headers={**headers, "Content-Type": "application/json"}, body='{"name": "X"}'
    )
    assert patch.status_code == 404
    assert Registration.get(theirs).name == "Ada Lovelace"


def patch(client, headers, registration_id, body):
    return client.http.patch(
        f"/owner/registrations/{registration_id}",
        headers={**headers, "Content-Type": "application/json"},
        body=json.dumps(body),
    )


def test_owners_edit_pause_resume_and_move(client, outbox):
    registration_id = register_and_verify(client, outbox)
    headers = owner_session(client, outbox)

    edited = patch(client, headers, registration_id, {"camera_count": 4, "phone": None, "retention_days": 14})
    assert edited.status_code == 200, edited.body
    assert body_of(edited)["camera_count"] == 4 and body_of(edited)["phone"] is None

    paused = patch(client, headers, registration_id, {"status": "paused"})
    assert body_of(paused)["status"] == "paused"
    assert index_entries() == []

    resumed = patch(client, headers, registration_id, {"status": "active"})
    assert body_of(resumed)["status"] == "active"
    assert len(index_entries()) == 1

    moved = patch(client, headers, registration_id, {"location": {"lat": 52.4068, "lon": -1.5197}})
    assert moved.status_code == 200
    [entry] = index_entries()
    assert (entry.cell, entry.position) == geo.index_keys(52.4068, -1.5197, registration_id)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"email": "x@example.org"}, "email"),
        ({"name": None}, "name"),
        ({"status": "deleted"}, "status"),
        ({"camera_count": 0}, "camera_count"),
        ({"camera_count": 1, "cameras": [{}, {}]}, "cameras"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(client, outbox, change, field):
    registration_id = register_and_verify(client, outbox)
    headers = owner_session(client, outbox)
    before = Registration.get(registration_id).serialize()
    response = patch(client, headers, registration_id, change)
    assert response.status_code == 400
    assert field in body_of(response)["error"]["fields"]
    assert Registration.get(registration_id).serialize() == before


def test_deleting_removes_the_data_and_index_for_good_and_confirms(client, outbox):
    registration_id = register_and_verify(client, outbox)
    headers = owner_session(client, outbox)

    response = client.http.delete(f"/owner/registrations/{registration_id}", headers=headers)

    # At once, nobody can find or open it
    assert response.status_code == 200
    assert index_entries() == []
    assert client.http.get(f"/owner/registrations/{registration_id}", headers=headers).status_code == 404
    assert body_of(client.http.get("/owner/registrations", headers=headers))["registrations"] == []
    # Once the confirmation is sent, the registration and its claim are gone
    outbox.pump()
    assert outbox.to(EMAIL)[-1]["Subject"] == "Your camera registration has been deleted"
    assert list(Registration.scan()) == [] and list(RegistrationClaim.scan()) == []


def test_export_holds_everything_about_the_owner(client, outbox):
    registration_id = register_and_verify(client, outbox)
    headers = owner_session(client, outbox)
    response = client.http.get("/owner/export", headers=headers)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = body_of(response)
    assert data["email"] == [EMAIL]
    [registration] = data["registrations"]
    assert registration["registration_id"] == registration_id
    assert registration["address"]["postcode"] == "B3 2BJ" and registration["phone"] == "0121 496 0000"
    assert data["search_index"][0]["registration_id"] == registration_id


def test_pending_registrations_cannot_be_resumed_before_verification(client, outbox):
    post_json(client, "/registrations", registration_body())
    outbox.pump()
    headers = owner_session(client, outbox)
    [listed] = body_of(client.http.get("/owner/registrations", headers=headers))["registrations"]
    assert listed["status"] == "pending"
    response = patch(client, headers, listed["registration_id"], {"status": "active"})
    assert response.status_code == 409
    assert index_entries() == []


# -- housekeeping and the notification handler -------------------------------------------------


def test_housekeeping_purges_expired_unverified_registrations_and_tokens(client, outbox):
    post_json(client, "/registrations", registration_body())
    register_and_verify(client, outbox, email="bob@example.org", address={"line1": "3 Broad St", "town": "Birmingham", "postcode": "B1 2HF"})
    outbox.pump()
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    for item in Registration.scan(Registration.status == "pending"):
        item.update(actions=[Registration.expires_at.set(past)])
    for item in LinkToken.scan():
        item.update(actions=[LinkToken.expires_at.set(past)])

    result = client.lambda_.invoke("housekeeping", client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )).payload

    # Ada's unverified registration and its unused link go; Bob's verified one stays
    assert {key: result[key] for key in ("expired_registrations", "expired_tokens", "expired_requests")} == {
        "expired_registrations": 1, "expired_tokens": 1, "expired_requests": 0,
    }
    assert [r.status for r in Registration.scan()] == ["active"]
    assert list(LinkToken.scan()) == []


def test_a_failing_notification_is_reported_alone_for_retry(client, outbox):
    post_json(client, "/registrations", registration_body())
    event = client.events.generate_sqs_event(
        message_bodies=[json.dumps({"type": "no_such_thing"}), json.dumps({"type": "manage_link", "email": EMAIL})],
        queue_name="sightline-notifications",
    )
    result = client.lambda_.invoke("deliver_notifications", event).payload
    failed = result["batchItemFailures"]
    assert len(failed) == 1
    assert failed[0]["itemIdentifier"] == event["Records"][0]["messageId"]
    assert outbox.to(EMAIL)  # the good message in the same batch was delivered


def test_health_reports_ready(client):
    response = client.http.get("/health")
    assert response.status_code == 200 and body_of(response) == {"status": "ok"}


def test_cors_allows_only_the_sites_origin(client):
    response = client.http.get("/health")
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
