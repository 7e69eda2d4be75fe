"""The base layer's rules: configuration read once from the environment, ids that never change
shape, collaborators built once, and the one mapping from domain errors to HTTP."""
from __future__ import annotations

import base64
import hashlib

import pytest

from chalicelib.base import errors
from chalicelib.base.config import Config
from chalicelib.base.ids import FOOTAGE_REQUEST, REGISTRATION, SEARCH, UPLOAD, evidence_id_for
from chalicelib.base.lazy import Lazy, reset_all
from chalicelib.footage.requests import request_id_for
from chalicelib.investigations.footage import Asked, Refusal
from chalicelib.web import asked_answer, bearer, http_error, status_of


def _old_derived(prefix: str, text: str) -> str:
    """How ids were derived before the domain packages (stored ids must still match)."""
    return prefix + base64.b32encode(hashlib.sha256(text.encode()).digest()[:15]).decode("ascii").lower()


def test_derived_ids_are_the_ones_already_stored():
    assert request_id_for("20/777/26", "rabc") == _old_derived("q", "\x00".join(["footage-request", "20/777/26", "rabc"]))
    assert evidence_id_for("b", "k", "v") == "e" + hashlib.sha256(b"b/k#v").hexdigest()[:24]


def test_id_shapes_are_checked_before_any_read():
    assert FOOTAGE_REQUEST.matches(request_id_for("c", "r")) and not FOOTAGE_REQUEST.matches("q" + "A" * 24)
    assert SEARCH.matches(SEARCH.random()) and UPLOAD.matches(UPLOAD.random())
    assert REGISTRATION.matches("rseed0000001") and not REGISTRATION.matches("r/../x")
    assert not FOOTAGE_REQUEST.matches(None)


def test_configuration_names_tables_by_suffix_and_defaults_by_prefix():
    config = Config.from_environ({
        "SIGHTLINE_RESOURCE_PREFIX": "wmp",
        "SIGHTLINE_GEO_INDEX_TABLE": "custom-geo",
        "SIGHTLINE_INGEST_QUEUE": "",  # blank counts as unset
        "SIGHTLINE_AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "SIGHTLINE_MAX_UPLOAD_BYTES": "1024",
    })
    assert config.table_name("geo-index") == "custom-geo"
    assert config.table_name("registrations") == "wmp-registrations"
    assert (config.notifications_queue, config.ingest_queue, config.evidence_bucket) == (
        "wmp-notifications", "wmp-ingest", "wmp-evidence")
    assert config.dynamodb_endpoint_url == "http://127.0.0.1:5000"  # one emulator for everything
    assert config.region == "eu-west-1" and config.max_upload_bytes == 1024
    assert Config.from_environ({}).table_name("audit") == "sightline-audit"


def test_lazy_values_are_built_once_until_reset():
    built = []
    value: Lazy[object] = Lazy(lambda: built.append(1) or object())
    first = value()
    assert value() is first and built == [1]
    value.set("fake")
    assert value() == "fake"
    reset_all()
    assert value.peek() is None and value() is not first and built == [1, 1]


@pytest.mark.parametrize("error, status", [
    (errors.ValidationError("x"), 400), (errors.Unauthorized("x"), 401), (errors.Forbidden("x"), 403),
    (errors.NotFound("x"), 404), (errors.Conflict("x"), 409), (errors.Gone("x"), 410),
    (errors.PayloadTooLarge("x"), 413), (errors.UnsupportedMediaType("x"), 415),
    (errors.ServiceUnavailable("x"), 503), (errors.SightlineError("x"), 400),
])
def test_each_domain_error_has_one_status(error, status):
    assert status_of(error) == status
    assert http_error(error) == (status, {"error": {"code": error.code, "message": "x"}})


def test_a_batch_of_requests_is_201_if_any_stands_and_each_refusal_keeps_its_status():
    refused = [Refusal("r1", errors.NotFound("gone")), Refusal("r2", errors.Conflict("too late"))]
    status, body = asked_answer(Asked("20/1/26", created=[], refused=refused))
    assert status == 409
    assert [(r["registration_id"], r["status"], r["error"]["code"]) for r in body["refused"]] == [
        ("r1", 404, "not_found"), ("r2", 409, "conflict")]
    assert asked_answer(Asked("20/1/26", created=[{"request_id": "q"}], refused=refused))[0] == 201


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "token"])
def test_a_missing_bearer_credential_is_unauthorized_with_the_given_message(header):
    with pytest.raises(errors.Unauthorized, match="sign in"):
        bearer(header, "sign in")
    assert bearer("bearer  abc ", "sign in") == "abc"
