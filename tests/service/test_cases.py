"""Officers work in cases: the rules a force's data protection officer reads, one test each."""
from __future__ import annotations

import json

import pytest

from chalicelib.base.audit import AuditEntry
from chalicelib.base.config import get_config
from chalicelib.footage.tables import EvidenceItem
from tests.conftest import bearer, open_case, post_json
from tests.service.test_footage_requests import MP4, ask, ingest, place, respond_session, upload

pytestmark = pytest.mark.usefixtures("footage")
CASE = "20/777/26"


def body_of(response):
    return json.loads(response.body or b"null")


def search(client, user="pc.jones", case_ref=CASE, **extra):
    body = {"lat": 52.4814, "lon": -1.8990, "radius_m": 300, "case_ref": case_ref,
            "reason": "Criminal damage on Colmore Row", **extra}
    return post_json(client, "/officer/searches", body, headers=bearer(user))


def entries(user, action):
    return [e for e in AuditEntry.by_officer.query(user) if e.action == action]


@pytest.fixture
def evidence_in_case(client, outbox):
    """Case 20/777/26 (pc.jones in charge) with one answered request and one verified file."""
    case = open_case(client, CASE)
    place("rcase")
    assert ask(client, "rcase").status_code == 201
    request_id, headers = respond_session(client, outbox, "rcase@example.org")
    upload(client, request_id, headers, MP4)
    ingest(client, outbox)
    [item] = list(EvidenceItem.scan())
    return case, request_id, item.evidence_id


def test_the_first_search_under_a_reference_opens_the_case_in_the_officers_charge(client):
    refused = search(client)
    assert refused.status_code == 400
    assert "category" in body_of(refused)["error"]["fields"]  # a new case needs its offence group
    wrong = search(client, category="Shoplifting")
    assert wrong.status_code == 400 and "Choose one of" in body_of(wrong)["error"]["fields"]["category"]

    found = search(client, category="Criminal damage and arson", case_summary="Smashed windows")
    assert found.status_code == 200, found.body
    case = body_of(client.http.get(f"/officer/cases/{body_of(found)['case_id']}", headers=bearer("pc.jones")))
    assert (case["case_ref"], case["category"], case["summary"]) == (CASE, "Criminal damage and arson", "Smashed windows")
    assert case["officer_in_charge"] == "pc.jones" and case["team"] == ["pc.jones"] and case["status"] == "open"
    # The same reference, spaced differently, is the same case: no second one, no category needed
    assert search(client, case_ref=" 20/777/26 ").status_code == 200


def test_a_reference_not_in_the_forces_format_opens_no_case(client, monkeypatch):
    monkeypatch.setenv("SIGHTLINE_CASE_REF_PATTERN", r"^\d{2}/\d{6}/\d{2}$")
    get_config.reset()
    typo = search(client, case_ref="20/12345/26", category="Robbery")
    assert typo.status_code == 400 and "typo" in body_of(typo)["error"]["fields"]["case_ref"]
    assert search(client, case_ref="20/123456/26", category="Robbery").status_code == 200
    get_config.reset()


def test_an_officer_off_the_team_is_told_whom_to_ask_and_can_search_once_added(client):
    case = open_case(client, CASE)
    refused = search(client, user="pc.other")
    assert refused.status_code == 403
    assert "pc.jones" in body_of(refused)["error"]["message"]
    assert not entries("pc.other", "search")  # nothing shown, nothing to log

    added = post_json(client, f"/officer/cases/{case['case_id']}/team", {"username": "pc.other"}, headers=bearer("pc.jones"))
    assert added.status_code == 200 and body_of(added)["team"] == ["pc.jones", "pc.other"]
    assert search(client, user="pc.other").status_code == 200
    mine = body_of(client.http.get("/officer/cases", headers=bearer("pc.other")))["cases"]
    assert [c["case_ref"] for c in mine] == [CASE]

    removed = client.http.delete(f"/officer/cases/{case['case_id']}/team/pc.other", headers=bearer("pc.jones"))
    assert removed.status_code == 200
    assert search(client, user="pc.other").status_code == 403
    assert body_of(client.http.get("/officer/cases", headers=bearer("pc.other")))["cases"] == []


def test_an_officer_outside_a_case_is_refused_on_every_officer_route(client, evidence_in_case):
    case, request_id, evidence_id = evidence_in_case
    search_id = body_of(search(client))["search_id"]
    other = bearer("pc.other")
    case_path = f"/officer/cases/{case['case_id']}"
    answers = {
        "list requests": client.http.get(f"/officer/requests?case_ref={CASE}", headers=other),
        "read a request": client.http.get(f"/officer/requests/{request_id}", headers=other),
        "ask for footage": post_json(client, "/officer/requests", {
            "case_ref": CASE, "registration_ids": ["rcase"], "reason": "Looking for the vandal",
            "incident": {"lat": 52.48, "lon": -1.89, "from": "2026-11-30T10:00:00Z", "to": "2026-11-30T11:00:00Z",
                         "summary": "Windows smashed on Colmore Row"}}, headers=other),
        "download evidence": post_json(client, f"/officer/evidence/{evidence_id}/downloads",
                                       {"reason": "For the file"}, headers=other),
        "reopen a search": client.http.get(f"/officer/searches/{search_id}?reason=Checking", headers=other),
        "read the case": client.http.get(case_path, headers=other),
        "change the case": client.http.patch(case_path, headers={**other, "Content-Type": "application/json"},
                                             body=json.dumps({"status": "closed"})),
        "add to the team": post_json(client, f"{case_path}/team", {"username": "pc.other"}, headers=other),
        "remove from the team": client.http.delete(f"{case_path}/team/pc.jones", headers=other),
    }
    assert {name: r.status_code for name, r in answers.items()} == {name: 404 for name in answers}
    # The same answer as for something that does not exist: nothing tells them the case is there
    assert all(body_of(r)["error"]["code"] == "not_found" for r in answers.values())
    assert all(CASE not in r.body.decode() for r in answers.values())
    assert search(client, user="pc.other").status_code == 403  # a search names the case: whom to ask


def test_a_read_by_the_officer_in_charge_is_logged_with_the_ids_shown(client, evidence_in_case):
    _case, request_id, evidence_id = evidence_in_case

    assert client.http.get(f"/officer/requests/{request_id}", headers=bearer("pc.jones")).status_code == 200
    [viewed] = entries("pc.jones", "view_request")
    assert (viewed.case_ref, list(viewed.request_ids)) == (CASE, [request_id])
    assert list(viewed.registration_ids) == ["rcase"] and list(viewed.evidence_ids) == [evidence_id]

    assert client.http.get(f"/officer/requests?case_ref={CASE}", headers=bearer("pc.jones")).status_code == 200
    [listed] = entries("pc.jones", "list_requests")
    assert list(listed.request_ids) == [request_id] and list(listed.registration_ids) == ["rcase"]


def test_a_closed_case_takes_no_new_searches_or_requests_but_can_be_read(client, evidence_in_case):
    case, request_id, _ = evidence_in_case
    path = f"/officer/cases/{case['case_id']}"
    member = post_json(client, f"{path}/team", {"username": "pc.other"}, headers=bearer("pc.jones"))
    assert member.status_code == 200
    not_in_charge = client.http.patch(path, headers={**bearer("pc.other"), "Content-Type": "application/json"},
                                      body=json.dumps({"status": "closed"}))
    assert not_in_charge.status_code == 403  # on the team, but not in charge

    closed = client.http.patch(path, headers={**bearer("pc.jones"), "Content-Type": "application/json"},
                               body=json.dumps({"status": "closed"}))
    assert closed.status_code == 200 and body_of(closed)["status"] == "closed"
    assert search(client).status_code == 409
    place("rlater")
    assert ask(client, "rlater").status_code == 409
    assert client.http.get(f"/officer/requests/{request_id}", headers=bearer("pc.jones")).status_code == 200


def test_supervisors_see_every_case_and_auditors_only_the_log(client, evidence_in_case):
    case, request_id, _ = evidence_in_case
    supervisor, auditor = bearer("sgt.patel"), bearer("auditor.khan")
    assert client.http.get(f"/officer/requests/{request_id}", headers=supervisor).status_code == 200
    detail = body_of(client.http.get(f"/officer/cases/{case['case_id']}", headers=supervisor))
    assert [r["request_id"] for group in detail["requests_by_status"].values() for r in group] == [request_id]
    assert detail["evidence_count"] == 1
    assert entries("sgt.patel", "view_case")  # a supervisor's reads are logged like anyone's

    assert client.http.get(f"/officer/requests/{request_id}", headers=auditor).status_code == 403
    assert search(client, user="auditor.khan").status_code == 403
    assert client.http.get(f"/officer/cases/{case['case_id']}", headers=auditor).status_code == 403
    assert client.http.get("/officer/audit?case_ref=" + CASE, headers=auditor).status_code == 200
    assert entries("auditor.khan", "read_audit")


def test_only_officers_join_a_team(client):
    case = open_case(client, CASE)
    path = f"/officer/cases/{case['case_id']}/team"
    for username in ("civilian.smith", "nobody.at.all"):
        refused = post_json(client, path, {"username": username}, headers=bearer("pc.jones"))
        assert refused.status_code == 400 and "username" in body_of(refused)["error"]["fields"]
    assert post_json(client, path, {"username": "sgt.patel"}, headers=bearer("pc.jones")).status_code == 200
    assert client.http.delete(f"{path}/pc.jones", headers=bearer("sgt.patel")).status_code == 409  # stays in charge


def test_opening_a_case_twice_is_a_conflict(client):
    open_case(client, CASE)
    again = post_json(client, "/officer/cases", {"case_ref": CASE, "category": "Robbery"}, headers=bearer("pc.other"))
    assert again.status_code == 409
    assert body_of(client.http.get("/officer/cases", headers=bearer("pc.other")))["cases"] == []
