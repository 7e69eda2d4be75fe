"""The registry stays current: yearly re-confirmation, pause, deletion (issue 13), on moto.

The app's clock is moved (``app._now``): housekeeping, the notifications handler and the
owner's routes all read it, as they would a year on.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.base.config import get_config
from chalicelib.footage.tables import FootageRequest
from chalicelib.registry import currency
from chalicelib.registry.tables import GeoIndexEntry, Registration, RegistrationClaim
from tests.conftest import post_json
from tests.service.test_registration_api import body_of, owner_session, register_and_verify

EMAIL = "ada@example.org"
ASKED = "Is your camera registration still right?"
REMINDED = "Your camera registration is paused: please confirm it"
DELETED = "Camera registration deleted: it was not confirmed"


class Clock:
    def __init__(self) -> None:
        self.start = datetime.now(timezone.utc)
        self.now = self.start

    def days_on(self, days: float) -> datetime:
        self.now = self.start + timedelta(days=days)
        return self.now


@pytest.fixture
def clock(client, monkeypatch) -> Clock:
    import app as sightline_app

    clock = Clock()
    monkeypatch.setattr(sightline_app, "_now", lambda: clock.now)
    return clock


def housekeeping(client) -> dict:
    return client.lambda_.invoke("housekeeping", client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[], region="eu-west-2",
    )).payload


def subjects(outbox, email=EMAIL):
    return [m["Subject"] for m in outbox.to(email)]


def the_registration() -> Registration:
    [item] = list(Registration.scan())
    return item


def confirm(client, token):
    return post_json(client, "/owner/confirmations", {"token": token})


# -- asking ------------------------------------------------------------------------------------


def test_an_owner_is_asked_once_a_year_after_they_confirmed(client, outbox, clock):
    # Given a registration verified today
    register_and_verify(client, outbox)
    assert the_registration().confirmed_at == clock.start
    # When housekeeping runs a day short of a year on, nothing is asked
    clock.days_on(364)
    assert housekeeping(client)["reconfirm_asked"] == 0
    # When it runs a year on, the owner is asked once, with a link to the confirm page
    clock.days_on(365)
    assert housekeeping(client)["reconfirm_asked"] == 1
    assert housekeeping(client)["reconfirm_asked"] == 0  # a re-run asks nothing again
    outbox.pump()
    assert subjects(outbox).count(ASKED) == 1
    assert outbox.last_link(EMAIL, "confirm.html")
    item = the_registration()
    assert item.reconfirm_asked_at == clock.now and item.status == "active"


def test_two_concurrent_runs_ask_once(client, outbox, clock):
    # Given a registration due, read by two runs at the same moment
    register_and_verify(client, outbox)
    now = clock.days_on(366)
    sent = []
    first, second = Registration.get(the_registration().registration_id), Registration.get(the_registration().registration_id)
    # When both take the step
    assert currency._STEPS["asked"](first, now, sent.append) is True
    assert currency._STEPS["asked"](second, now, sent.append) is False
    # Then one email is queued
    assert len(sent) == 1


def test_items_from_before_confirmed_at_count_from_their_verification(client, outbox, clock):
    register_and_verify(client, outbox)
    item = the_registration()
    item.update(actions=[Registration.confirmed_at.remove(), Registration.verified_at.set(clock.start - timedelta(days=400))])
    assert housekeeping(client)["reconfirm_asked"] == 1


def test_a_registration_its_owner_paused_is_not_asked(client, outbox, clock):
    registration_id = register_and_verify(client, outbox)
    headers = owner_session(client, outbox)
    assert client.http.patch(f"/owner/registrations/{registration_id}", headers={**headers, "Content-Type": "application/json"},
                             body='{"status": "paused"}').status_code == 200
    clock.days_on(365 + 30 + 90 + 1)
    result = housekeeping(client)
    assert result["reconfirm_asked"] == result["reconfirm_paused"] == result["reconfirm_deleted"] == 0
    assert the_registration().status == "paused"


# -- the confirm page --------------------------------------------------------------------------


def test_opening_the_link_changes_nothing_and_the_button_confirms(client, outbox, clock):
    # Given an owner asked a year on
    register_and_verify(client, outbox)
    clock.days_on(365)
    housekeeping(client)
    outbox.pump()
    token = outbox.last_link(EMAIL, "confirm.html")
    before = the_registration()
    # When the page is opened (twice: a mail scanner, then the owner)
    for _ in range(2):
        response = post_json(client, "/owner/confirmations/preview", {"token": token})
        assert response.status_code == 200, response.body
    # Then it shows the registration as the manage page does, and nothing changed
    shown = body_of(response)
    assert shown["registration"]["address"]["postcode"] == "B3 2BJ"
    assert shown["registration"]["reconfirmation"]["state"] == "asked"
    assert shown["paused_for_reconfirmation"] is False
    after = the_registration()
    assert after.version == before.version and after.reconfirm_asked_at is not None
    # When the owner presses "Yes, this is still right" a week later
    now = clock.days_on(372)
    response = confirm(client, token)
    assert response.status_code == 200, response.body
    assert body_of(response)["status"] == "active"
    # Then confirmed_at is now and the process has stopped
    item = the_registration()
    assert item.confirmed_at == now and item.reconfirm_asked_at is None
    clock.days_on(372 + 200)
    result = housekeeping(client)
    assert result["reconfirm_paused"] == result["reconfirm_asked"] == 0 and the_registration().status == "active"
    # And it is asked again a year after the confirmation
    clock.days_on(372 + 365)
    assert housekeeping(client)["reconfirm_asked"] == 1


def test_a_used_or_expired_link_gets_the_same_clear_410(client, outbox, clock):
    register_and_verify(client, outbox)
    clock.days_on(365)
    housekeeping(client)
    outbox.pump()
    token = outbox.last_link(EMAIL, "confirm.html")
    assert confirm(client, token).status_code == 200
    used = [confirm(client, token), post_json(client, "/owner/confirmations/preview", {"token": token})]
    # A second ask's link, left until after its deadline
    clock.days_on(365 * 2 + 1)
    housekeeping(client)
    outbox.pump()
    late = outbox.last_link(EMAIL, "confirm.html")
    assert late != token
    clock.days_on(365 * 2 + 1 + 30)
    expired = [confirm(client, late), post_json(client, "/owner/confirmations/preview", {"token": late}),
               confirm(client, "x" * 43)]
    for response in used + expired:
        assert response.status_code == 410, response.body
        assert body_of(response)["error"] == {"code": "gone", "message": currency.LINK_GONE}
    # A manage link's token does not confirm
    headers = owner_session(client, outbox)
    assert confirm(client, headers["Authorization"].split()[1]).status_code == 410
    # Nor is a missing token a 500
    response = post_json(client, "/owner/confirmations", {})
    assert response.status_code == 400 and "token" in body_of(response)["error"]["fields"]


def test_a_change_through_the_manage_page_confirms(client, outbox, clock):
    registration_id = register_and_verify(client, outbox)
    clock.days_on(365)
    housekeeping(client)
    now = clock.days_on(370)
    headers = owner_session(client, outbox)
    response = client.http.patch(f"/owner/registrations/{registration_id}", headers={**headers, "Content-Type": "application/json"},
                                 body='{"camera_count": 3}')
    assert response.status_code == 200, response.body
    assert body_of(response)["confirmed_at"] == now.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert body_of(response)["reconfirmation"]["state"] == "current"
    clock.days_on(500)
    assert housekeeping(client)["reconfirm_paused"] == 0


# -- pause, reminder, resume ---------------------------------------------------------------------


def test_unanswered_for_30_days_it_is_paused_and_the_owner_reminded_and_a_confirm_resumes_it(client, outbox, clock):
    # Given an owner asked a year on, who does not answer
    register_and_verify(client, outbox)
    clock.days_on(365)
    housekeeping(client)
    outbox.pump()
    first = outbox.last_link(EMAIL, "confirm.html")
    clock.days_on(365 + 29)
    assert housekeeping(client)["reconfirm_paused"] == 0
    # When housekeeping runs 30 days after asking (twice)
    clock.days_on(365 + 30)
    assert housekeeping(client)["reconfirm_paused"] == 1
    assert housekeeping(client)["reconfirm_paused"] == 0
    outbox.pump()
    # Then it is paused, out of the search index, and one reminder went with a fresh link
    item = the_registration()
    assert item.status == "paused" and item.reconfirm_paused_at == clock.now
    assert list(GeoIndexEntry.scan()) == []
    assert subjects(outbox).count(REMINDED) == 1
    fresh = outbox.last_link(EMAIL, "confirm.html")
    assert fresh != first
    assert confirm(client, first).status_code == 410  # the first link ran until the pause
    # When the owner confirms from the reminder
    preview = body_of(post_json(client, "/owner/confirmations/preview", {"token": fresh}))
    assert preview["paused_for_reconfirmation"] is True
    response = confirm(client, fresh)
    # Then it is active and findable again
    assert response.status_code == 200 and body_of(response)["status"] == "active"
    item = the_registration()
    assert item.status == "active" and item.reconfirm_paused_at is None and item.reconfirm_asked_at is None
    assert len(list(GeoIndexEntry.scan())) == 1
    clock.days_on(365 + 30 + 91)
    assert housekeeping(client)["reconfirm_deleted"] == 0


# -- deletion ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("footage")
def test_unanswered_for_90_more_days_it_is_deleted_as_an_owners_deletion_is(client, outbox, clock):
    # Given a registration an officer asked for footage, whose owner never re-confirms
    from tests.conftest import open_case
    from tests.service.test_footage_requests import ask

    registration_id = register_and_verify(client, outbox)
    open_case(client, "20/777/26")
    assert ask(client, registration_id).status_code in (200, 201, 202)
    [request] = list(FootageRequest.scan())
    clock.days_on(365)
    housekeeping(client)
    outbox.pump()
    clock.days_on(395)
    housekeeping(client)
    outbox.pump()
    clock.days_on(395 + 89)
    assert housekeeping(client)["reconfirm_deleted"] == 0
    # When housekeeping runs 90 days after the pause (twice)
    clock.days_on(395 + 90)
    assert housekeeping(client)["reconfirm_deleted"] == 1
    assert housekeeping(client)["reconfirm_deleted"] == 0
    outbox.pump()
    # Then the owner has one notice saying why, and the registration and its claim are gone
    assert subjects(outbox).count(DELETED) == 1
    assert "because it was not confirmed" in outbox.to(EMAIL)[-1].get_body(preferencelist=("plain",)).get_content()
    assert list(Registration.scan()) == [] and list(RegistrationClaim.scan()) == []
    assert list(GeoIndexEntry.scan()) == []
    # And the request made to them is pseudonymised, as after an owner's own deletion
    request = FootageRequest.get(request.request_id)
    assert request.owner_deleted_at is not None and request.area is None
    # And every step sent one email, even with housekeeping run again
    housekeeping(client)
    outbox.pump()
    assert [s for s in subjects(outbox) if s in (ASKED, REMINDED, DELETED)] == [ASKED, REMINDED, DELETED]


def test_periods_come_from_config():
    config = get_config()
    assert (config.reconfirm_after_days, config.reconfirm_pause_after_days, config.reconfirm_delete_after_days) == (365, 30, 90)


def test_the_owners_export_shows_when_they_confirmed_and_where_re_confirmation_stands(client, outbox, clock):
    register_and_verify(client, outbox)
    clock.days_on(365)
    housekeeping(client)  # asked
    clock.days_on(395)
    housekeeping(client)  # paused
    headers = owner_session(client, outbox)
    response = client.http.get("/owner/export", headers=headers)
    [registration] = body_of(response)["registrations"]
    assert registration["confirmed_at"] == clock.start.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert registration["reconfirmation"]["state"] == "paused" and registration["status"] == "paused"
    assert registration["reconfirmation"]["asked_at"] and registration["reconfirmation"]["paused_at"]


def test_a_run_takes_at_most_the_configured_number_of_steps(client, outbox, clock):
    # Given three owners who all registered on the same day
    for number in range(3):
        register_and_verify(client, outbox, email=f"owner{number}@example.org",
                            address={"line1": f"{number + 1} Colmore Row", "town": "Birmingham", "postcode": "B3 2BJ"})
    config = dataclasses.replace(get_config(), reconfirm_steps_per_run=2)
    now = clock.days_on(365)
    # When housekeeping runs a year on with room for two steps, then again
    first = currency.sweep(now, lambda message: None, config)
    second = currency.sweep(now + timedelta(hours=1), lambda message: None, config)
    # Then two are asked in the first run and the third in the next
    assert (first["reconfirm_asked"], second["reconfirm_asked"]) == (2, 1)


def test_an_ask_the_queue_refused_is_taken_back_and_made_by_the_next_run(client, outbox, clock):
    register_and_verify(client, outbox)
    now = clock.days_on(365)

    def refusing(message):
        raise RuntimeError("queue unavailable")

    with pytest.raises(RuntimeError):
        currency.sweep(now, refusing, get_config())
    assert the_registration().reconfirm_asked_at is None
    sent = []
    assert currency.sweep(now + timedelta(hours=1), sent.append, get_config())["reconfirm_asked"] == 1
    assert sent == [{"type": "reconfirm_registration", "registration_id": the_registration().registration_id}]
