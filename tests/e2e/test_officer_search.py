"""An officer signs in to the local stack's Cognito as the demo officer and searches."""
import json
import time
import urllib.error
import urllib.request

import pytest

from local import officer_token

pytestmark = pytest.mark.e2e


def call(url, method="GET", body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def token_for(local_stack, capsys, who="demo_officer"):
    user = local_stack[who]
    assert officer_token.main([
        "--var-dir", str(local_stack["var_dir"]), "--username", user["username"], "--password", user["password"],
    ]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_the_demo_officer_signs_in_and_finds_a_verified_registration(local_stack, outbox, capsys):
    api = local_stack["api_url"]
    # Given a resident who registered and verified near Birmingham's Colmore Row
    sent_before = len(outbox.messages())
    status, _ = call(f"{api}/registrations", "POST", {
        "name": "Olu Adeyemi", "email": "olu.e2e@example.org",
        "address": {"line1": "55 Colmore Row", "town": "Birmingham", "postcode": "B3 2AA"},
        "location": {"lat": 52.48125, "lon": -1.89895}, "camera_count": 1, "retention_days": 10, "consent": True,
    })
    assert status == 202
    link = outbox.wait_for_link("olu.e2e@example.org", "verify.html", after=sent_before)
    assert call(f"{api}/registrations/verify", "POST", {"token": link.split("#token=")[1]})[0] == 200

    # When the demo officer signs in (Cognito, USER_PASSWORD_AUTH) and searches 300 m around it
    token = token_for(local_stack, capsys)
    started = time.monotonic()
    status, result = call(f"{api}/officer/searches", "POST", {
        "lat": 52.4814, "lon": -1.8990, "radius_m": 300, "case_ref": "E2E/1", "reason": "End-to-end check",
        "category": "Theft offences", "incident_time": "2026-11-20T21:00:00Z",
    }, token=token)
    elapsed = time.monotonic() - started

    # Then the registration is found, with its distance and when its footage is overwritten
    assert status == 200, result
    found = {r["registration_id"]: r for r in result["registrations"]}
    olu = next(r for r in found.values() if r["name"] == "Olu Adeyemi")
    assert olu["distance_m"] < 300 and olu["footage_overwritten_at"] == "2026-11-30T21:00:00Z"
    print(f"\nofficer search, 300 m in central Birmingham over {local_stack['seeded']} seeded registrations: "
          f"{elapsed * 1000:.0f} ms, {result['total']} found, stats {result['stats']}")

    # And it can be opened again, and a supervisor sees it in the audit log
    assert call(f"{api}/officer/searches/{result['search_id']}?reason=Checking+again", token=token)[0] == 200
    status, log = call(f"{api}/officer/audit?case_ref=E2E/1", token=token_for(local_stack, capsys, "demo_auditor"))
    assert status == 200
    assert [e["action"] for e in log["entries"] if e["action"] != "open_case"] == ["view_search", "search"]


def test_a_forged_token_is_refused_by_the_local_api(local_stack):
    status, body = call(f"{local_stack['api_url']}/officer/searches", "POST", {
        "lat": 52.48, "lon": -1.9, "radius_m": 100, "case_ref": "X", "reason": "forged",
    }, token="eyJhbGciOiJSUzI1NiIsImtpZCI6ImR1bW15In0.eyJzdWIiOiJ4In0.c2ln")
    assert status == 401 and body["error"]["code"] == "unauthorized"
