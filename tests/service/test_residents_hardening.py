"""The residents' holes a security review found, each closed (issue 10), on moto.

Owners' identity (addresses that may be two mailboxes are two owners); emails anyone can
trigger (no requester text to an unproven address, per-recipient limits under a keyed hash);
complete deletion (nothing personal left in any table, queue or log; random ids; requests
pseudonymised); the geo index reconciled after a failure at every step of every ordered write;
officers' notices never lost.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import housekeeping
from chalicelib.base import clients, tokens
from chalicelib.base.config import get_config
from chalicelib.base.pseudonyms import RECIPIENT, pseudonym
from chalicelib.footage import requests as footage_requests
from chalicelib.footage import workflow
from chalicelib.footage.tables import FootageRequest
from chalicelib.mail import deliveries, limits
from chalicelib.mail.sending import get_mailer
from chalicelib.registry import index, registrations
from chalicelib.registry.identity import owner_key, owner_of
from chalicelib.registry.tables import GeoIndexEntry, Registration, RegistrationClaim
from chalicelib.tables import ALL_MODELS
from tests.conftest import REGION, open_case, post_json, registration_body
from tests.service.test_registration_api import body_of, owner_session, register_and_verify

EMAIL = "ada@example.org"


# -- owners' identity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, second",
    [
        ("straße@example.de", "STRASSE@example.de"),
        ("İda@example.org", "ida@example.org"),
        ("ıan@example.org", "IAN@example.org"),
        ("ada@faß.de", "ada@fass.de"),
    ],
)
def test_addresses_that_may_be_two_mailboxes_never_share_an_owner(client, outbox, first, second):
    # Given two verified registrations, one from each address
    mine = register_and_verify(client, outbox, email=first)
    theirs = register_and_verify(
        client, outbox, email=second, address={"line1": "9 Other Road", "town": "Birmingham", "postcode": "B1 2HF"},
        location={"lat": 52.47, "lon": -1.90},
    )
    # When the first address's owner opens a manage session
    headers = owner_session(client, outbox, email=first)
    # Then they see, change and delete only their own registration
    listed = [r["registration_id"] for r in body_of(client.http.get("/owner/registrations", headers=headers))["registrations"]]
    assert listed == [mine]
    assert client.http.get(f"/owner/registrations/{theirs}", headers=headers).status_code == 404
    assert client.http.delete(f"/owner/registrations/{theirs}", headers=headers).status_code == 404
    assert Registration.get(theirs).status == "active"


# -- emails anyone can trigger ------------------------------------------------------------------


def _bodies(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content() + message.get_body(preferencelist=("html",)).get_content()


def test_an_unproven_address_gets_no_text_the_requester_typed(client, outbox):
    body = registration_body(name="Click http://evil.example now", address={
        "line1": "Your account is locked, call 0900 000", "town": "Birmingham", "postcode": "B3 2BJ"})
    assert post_json(client, "/registrations", body).status_code == 202
    outbox.pump()
    [message] = outbox.to(EMAIL)
    text = _bodies(message)
    assert "evil.example" not in text and "account is locked" not in text and "B3 2BJ" not in text
    assert outbox.last_link(EMAIL, "verify.html")


def test_23_public_requests_naming_one_address_send_it_3_emails_and_the_same_answer(client, outbox):
    answers = set()
    for number in range(23):
        body = registration_body(address={"line1": f"{number} Any Street", "town": "Birmingham", "postcode": "B3 2BJ"})
        response = post_json(client, "/registrations", body)
        answers.add((response.status_code, response.body))
    for _ in range(10):
        response = post_json(client, "/owner/links", {"email": EMAIL})
        answers.add((response.status_code, response.body))
    outbox.pump()
    assert len(outbox.to(EMAIL)) == get_config().public_emails_per_hour == 3
    assert len(answers) == 2  # one answer for registering, one for links, whether sent or not


def test_the_daily_limit_holds_across_hours_and_counts_are_keyed_hashes_that_expire(aws):
    config = get_config()
    start = datetime(2026, 12, 2, 0, 5, tzinfo=timezone.utc)
    sent = [limits.allow("Ada@Example.org", start + timedelta(hours=hour), config) for hour in range(12) for _ in range(2)]
    assert sum(sent) == config.public_emails_per_day == 10
    # Another address is counted on its own
    assert limits.allow("bob@example.org", start, config)
    items = list(limits.EmailCount.scan())
    keys = " ".join(item.window_key for item in items)
    assert "ada" not in keys.lower() and hashlib.sha256(b"ada@example.org").hexdigest() not in keys
    assert any(item.window_key.startswith(pseudonym(RECIPIENT, owner_key("ada@example.org"))) for item in items)
    assert all(item.expires_at <= start + timedelta(days=1) for item in items)


def test_emails_that_follow_an_officers_request_are_not_limited(client, outbox, footage):
    register_and_verify(client, outbox)  # a verification email, counted
    [item] = list(Registration.scan())
    for number in range(5):
        case_ref = f"20/{number}/26"
        open_case(client, case_ref)
        from tests.service.test_footage_requests import ask

        assert ask(client, item.registration_id, case_ref=case_ref).status_code == 201
    outbox.pump()
    asked = [m for m in outbox.to(EMAIL) if m["Subject"].startswith("Police are asking")]
    assert len(asked) == 5


# -- deletion is complete ------------------------------------------------------------------------


def _everything_stored() -> str:
    """Every item of every table, and every message waiting in every queue, as text."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    texts = []
    for model in ALL_MODELS:
        for page in dynamodb.get_paginator("scan").paginate(TableName=model.Meta.table_name):
            texts.append(json.dumps(page["Items"], ensure_ascii=False))
    sqs = boto3.client("sqs", region_name=REGION)
    for url in sqs.list_queues().get("QueueUrls", []):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []):
            texts.append(message["Body"])
    return "\n".join(texts)


def test_after_delete_no_table_queue_or_log_holds_the_owners_details(client, outbox, footage, caplog, capsys):
    # Our own loggers at their most verbose (the SDK's DEBUG output, which prints request
    # bodies, is never switched on in a deployment)
    caplog.set_level(logging.DEBUG, logger="chalicelib")
    caplog.set_level(logging.DEBUG, logger="sightline")
    personal = {
        "email": "zoë.owner@example.org", "name": "Zoë Distinctive", "phone": "07700 900123",
        "line1": "77 Unmistakable Lane", "postcode": "B15 2TT",
    }
    body = registration_body(
        email=personal["email"], name=personal["name"], phone=personal["phone"],
        address={"line1": personal["line1"], "town": "Birmingham", "postcode": personal["postcode"]},
    )
    registration_id = register_and_verify(client, outbox, **{k: v for k, v in body.items() if k != "consent"})
    # An officer asks them for footage and they decline, in their own words
    open_case(client, "20/999/26")
    from tests.service.test_footage_requests import ask, respond_session

    ask(client, registration_id, case_ref="20/999/26")
    request_id, request_headers = respond_session(client, outbox, personal["email"])
    post_json(client, f"/owner/requests/{request_id}/decline", {"reason": "Zoë Distinctive was away"}, headers=request_headers)
    # When they delete their registration
    headers = owner_session(client, outbox, email=personal["email"])
    assert client.http.delete(f"/owner/registrations/{registration_id}", headers=headers).status_code == 200
    outbox.pump()
    # Then they were told, and nothing holds their details, in any table, queue or log
    assert outbox.to(personal["email"])[-1]["Subject"] == "Your camera registration has been deleted"
    stored = _everything_stored()
    logged = caplog.text + capsys.readouterr().out
    for value in (*personal.values(), owner_key(personal["email"]), "Unmistakable", "B152TT"):
        assert value not in stored, value
        assert value not in logged, value
    # What survives: the request, pseudonymised (status and times kept, their words and area gone)
    request = FootageRequest.get(request_id)
    assert request.status == "declined" and request.owner_deleted_at is not None
    assert request.area is None and request.decline_reason is None
    assert list(Registration.scan()) == [] and list(RegistrationClaim.scan()) == []


def test_registering_again_after_deleting_starts_a_new_history(client, outbox):
    first = register_and_verify(client, outbox)
    headers = owner_session(client, outbox)
    client.http.delete(f"/owner/registrations/{first}", headers=headers)
    outbox.pump()
    limits.EmailCount.delete_table()  # a new hour, as far as the allowance goes
    limits.EmailCount.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    second = register_and_verify(client, outbox)
    assert second != first
    assert Registration.get(second).owner == owner_of(EMAIL)


def test_a_failed_deletion_message_is_redone_by_a_retry_or_by_housekeeping(client, outbox):
    registration_id = register_and_verify(client, outbox)
    owner = owner_of(EMAIL)
    now = datetime.now(timezone.utc)
    sent: List[Dict[str, Any]] = []

    def failing(message):
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendMessage")

    with pytest.raises(ClientError):
        registrations.delete_for_owner(owner, registration_id, notify=failing, now=now)
    # Already invisible: no index entry, not listed
    assert list(GeoIndexEntry.scan()) == [] and registrations.list_for_owner(owner, now) == []
    # Housekeeping, once the retry period has passed, asks again; the handler finishes it
    later = now + timedelta(minutes=get_config().deletion_retry_minutes + 1)
    result = housekeeping.run(later, sent.append, get_config())
    assert result["deletions_retried"] == 1 and sent == [{"type": "registration_deleted", "registration_id": registration_id}]
    deliveries.deliver(sent[0], mailer=get_mailer(), config=get_config(), now=later)
    deliveries.deliver(sent[0], mailer=get_mailer(), config=get_config(), now=later)  # redelivered: no second email
    assert list(Registration.scan()) == []
    confirmations = [m for m in outbox.to(EMAIL) if m["Subject"] == "Your camera registration has been deleted"]
    assert len(confirmations) == 1


def test_a_deletion_whose_confirmation_never_goes_is_finished_after_a_day(client, outbox):
    registration_id = register_and_verify(client, outbox)
    now = datetime.now(timezone.utc)
    registrations.delete_for_owner(owner_of(EMAIL), registration_id, notify=lambda message: None, now=now)
    result = housekeeping.run(now + timedelta(hours=25), lambda message: None, get_config())
    assert result["deletions_finished_unconfirmed"] == 1
    assert list(Registration.scan()) == [] and list(RegistrationClaim.scan()) == []


# -- the geo index after a failure at every step of every ordered write --------------------------


class FailingWrites:
    """Fails the n-th write (a DynamoDB write or a queued message) of whatever runs next."""

    WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}

    def __init__(self, monkeypatch):
        self.dynamodb = clients.client("dynamodb")
        self._call = self.dynamodb._make_api_call
        self.fail_at = 0
        self.count = 0
        monkeypatch.setattr(self.dynamodb, "_make_api_call", self._make_api_call)

    def arm(self, fail_at: int) -> None:
        self.fail_at, self.count = fail_at, 0

    def step(self, what: str) -> None:
        self.count += 1
        if self.count == self.fail_at:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": f"injected at {what}"}}, what)

    def _make_api_call(self, operation: str, params: Dict[str, Any]) -> Any:
        if operation in self.WRITES:
            self.step(operation)
        return self._call(operation, params)

    def notify(self, message: Dict[str, Any]) -> None:
        self.step("SendMessage")

    def each_step(self, make: Callable[[], Callable[[], Any]]) -> int:
        """Make a request and run it failing at step 1, then retry it with nothing failing;
        then a new one failing at step 2, ... until one runs without reaching the failing
        step. Returns how many steps were made to fail."""
        fail_at = 1
        while True:
            operation = make()
            self.arm(fail_at)
            try:
                operation()
            except Exception:  # noqa: BLE001 (the injected failure, as a route would see it)
                self.arm(0)
                operation()  # the same request, retried
                fail_at += 1
                continue
            finally:
                self.arm(0)
            return fail_at - 1


def _exactly_one_entry_per_active_registration() -> None:
    entries = sorted((entry.cell, entry.position) for entry in GeoIndexEntry.scan())
    active = sorted(index.keys(item) for item in Registration.scan() if item.status == "active")
    assert entries == active


def test_every_failure_of_every_ordered_write_leaves_one_entry_per_active_registration(aws, monkeypatch):
    """Each ordered write, from the same starting state, failed at its 1st, 2nd, ... step and
    retried; after the retry and the next sweep the index holds exactly one entry per active
    registration, and no premises has two registrations."""
    config = get_config()
    faults = FailingWrites(monkeypatch)
    owner = owner_of(EMAIL)
    now = datetime.now(timezone.utc)
    numbers = iter(range(1000))

    def body(number: int) -> Dict[str, Any]:
        return registration_body(
            address={"line1": f"{number} Fault Street", "town": "Birmingham", "postcode": "B3 2BJ"},
            location={"lat": 52.30 + number / 500, "lon": -1.90 + number / 700},
        )

    def pending(number: int) -> str:
        registrations.register(body(number), config=config, notify=lambda m: None, now=now)
        [item] = [r for r in Registration.scan() if r.address.line1 == f"{number} Fault Street"]
        return item.registration_id

    def active(number: int) -> str:
        rid = pending(number)
        token, _ = tokens.mint(tokens.VERIFY, rid, timedelta(hours=1), now)
        registrations.verify({"token": token}, now=now)
        return rid

    def paused(number: int) -> str:
        rid = active(number)
        registrations.update_for_owner(owner, rid, {"status": "paused"}, config=config, now=now)
        return rid

    def deleted(number: int) -> str:
        rid = active(number)
        registrations.delete_for_owner(owner, rid, notify=lambda m: None, now=now)
        return rid

    def lapsed_mid_verification(number: int) -> str:
        rid = pending(number)
        item = Registration.get(rid)
        index.add(item)  # verification crashed after writing the entry
        item.update(actions=[Registration.expires_at.set(now - timedelta(seconds=1))])
        return rid

    def change(patch: Callable[[int], Dict[str, Any]]) -> Callable[[int, str], Callable[[], Any]]:
        return lambda number, rid: lambda: registrations.update_for_owner(owner, rid, patch(number), config=config, now=now)

    def verify(number: int, rid: str) -> Callable[[], Any]:
        token, _ = tokens.mint(tokens.VERIFY, rid, timedelta(hours=1), now)
        return lambda: registrations.verify({"token": token}, now=now)

    message = lambda rid: {"type": "registration_deleted", "registration_id": rid}  # noqa: E731
    scenarios = {
        "register": (lambda number: "", lambda number, rid: lambda: registrations.register(
            body(number), config=config, notify=faults.notify, now=now)),
        "register again, unverified": (pending, lambda number, rid: lambda: registrations.register(
            body(number), config=config, notify=faults.notify, now=now)),
        "verify": (pending, verify),
        "move": (active, change(lambda number: {"location": {"lat": 52.60 + number / 500, "lon": -1.70}})),
        "move while paused": (paused, change(lambda number: {"location": {"lat": 52.60 + number / 500, "lon": -1.70}})),
        "pause": (active, change(lambda number: {"status": "paused"})),
        "resume": (paused, change(lambda number: {"status": "active"})),
        "delete": (active, lambda number, rid: lambda: registrations.delete_for_owner(
            owner, rid, notify=faults.notify, now=now)),
        "finish deletion": (deleted, lambda number, rid: lambda: deliveries.deliver(
            message(rid), mailer=get_mailer(), config=config, now=now)),
        "purge": (lapsed_mid_verification, lambda number, rid: lambda: housekeeping.records.purge_expired(now)),
    }
    steps: Dict[str, int] = {}
    for name, (setup, make) in scenarios.items():
        fail_at = 1
        while True:
            number = next(numbers)
            operation = make(number, setup(number))
            faults.arm(fail_at)
            try:
                operation()
                reached = faults.count >= fail_at
            except Exception:  # noqa: BLE001 (the injected failure, as a route or handler sees it)
                reached = True
                faults.arm(0)
                operation()  # the same request or message, retried
            finally:
                faults.arm(0)
            housekeeping.run(now, lambda m: None, config)
            _exactly_one_entry_per_active_registration()
            premises = [r.address.line1 for r in Registration.scan()]
            assert len(premises) == len(set(premises)), name
            if not reached:
                break
            fail_at += 1
        steps[name] = fail_at - 1
    # Every step of every ordered write was made to fail (a paused move is a single write)
    assert steps["move while paused"] == 1
    assert all(count >= 2 for name, count in steps.items() if name != "move while paused"), steps


def test_a_move_interrupted_after_its_save_leaves_a_stray_entry_that_the_sweep_removes(aws, monkeypatch):
    """The hole as reported: a retried edit cannot remove the old entry; housekeeping does."""
    config = get_config()
    now = datetime.now(timezone.utc)
    registrations.register(registration_body(), config=config, notify=lambda m: None, now=now)
    [item] = list(Registration.scan())
    token, _ = tokens.mint(tokens.VERIFY, item.registration_id, timedelta(hours=1), now)
    registrations.verify({"token": token}, now=now)
    faults = FailingWrites(monkeypatch)
    faults.arm(3)  # index.add (new), the save, then index.remove (old): fails
    move = {"location": {"lat": 52.49, "lon": -1.89}}
    with pytest.raises(Exception):
        registrations.update_for_owner(owner_of(EMAIL), item.registration_id, move, config=config, now=now)
    faults.arm(0)
    registrations.update_for_owner(owner_of(EMAIL), item.registration_id, move, config=config, now=now)
    assert len(list(GeoIndexEntry.scan())) == 2  # the old place is still in the index
    result = housekeeping.run(now, lambda m: None, config)
    assert result["index_entries_removed"] == 1
    _exactly_one_entry_per_active_registration()


# -- officers' notices are never lost ------------------------------------------------------------


def _failing_notify(message: Dict[str, Any]) -> None:
    raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendMessage")


def _asked_request(client, outbox) -> str:
    from tests.service.test_footage_requests import ask, place

    open_case(client, "20/555/26")
    place("rnotice")
    response = ask(client, "rnotice", case_ref="20/555/26")
    assert response.status_code == 201, response.body
    return body_of(response)["requests"][0]["request_id"]


@pytest.mark.parametrize("answer", ["decline", "complete"])
def test_an_owners_answer_whose_notice_failed_still_tells_the_officer_on_retry(client, outbox, footage, answer):
    from chalicelib.footage import owners

    request_id = _asked_request(client, outbox)
    if answer == "complete":
        FootageRequest(request_id).update(actions=[
            FootageRequest.uploads_started.add(1), FootageRequest.statement.set({"name": "Jane Smith"}),
        ])
    act = getattr(owners, answer)
    now = datetime.now(timezone.utc)
    timer = workflow.get_workflow()
    with pytest.raises(ClientError):
        act(request_id, {}, notify=_failing_notify, timer=timer, now=now)
    sent: List[Dict[str, Any]] = []
    assert act(request_id, {}, notify=sent.append, timer=timer, now=now)["status"] in ("declined", "responded")
    told = [{"type": f"footage_{'declined' if answer == 'decline' else 'complete'}", "request_id": request_id}]
    receipt = [{"type": "receipt", "request_id": request_id}] if answer == "complete" else []
    assert sent == told + receipt
    # Once told, saying it again is refused as before, and tells nobody twice
    with pytest.raises(Exception):
        act(request_id, {}, notify=sent.append, timer=timer, now=now)
    assert sent == told + receipt


def test_an_expiry_whose_notice_failed_is_told_on_redelivery_or_by_housekeeping(client, outbox, footage):
    request_id = _asked_request(client, outbox)
    now = datetime.now(timezone.utc)
    timer = workflow.get_workflow()
    message = {"request_id": request_id, "stage": "expire"}
    with pytest.raises(ClientError):
        workflow.handle(message, workflow=timer, notify=_failing_notify, now=now)
    assert FootageRequest.get(request_id).status == "expired"
    sent: List[Dict[str, Any]] = []
    workflow.handle(message, workflow=timer, notify=sent.append, now=now)  # SQS redelivers it
    workflow.handle(message, workflow=timer, notify=sent.append, now=now)  # and again: told once
    assert sent == [{"type": "footage_expired", "request_id": request_id}]

    # A request closed without its notice, never retried: housekeeping queues it
    other = footage_requests.find(request_id)
    other.update(actions=[FootageRequest.officer_told.set(False)])
    later: List[Dict[str, Any]] = []
    assert footage_requests.tell_officers(now + timedelta(minutes=11), later.append) == 1
    assert later == [{"type": "footage_expired", "request_id": request_id}]
