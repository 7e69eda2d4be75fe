"""Under a big appeal: the limits in the template carry 2,000 owners answering at once, keep
officers' share of the API function, stay inside the account's limits, and keep /health cheap.
The arithmetic is in docs/decisions.md (2026-12-02, "Under a big appeal")."""
from __future__ import annotations

import sys
from typing import Any, Dict, Tuple

from .conftest import INFRASTRUCTURE, only, resources

sys.path.insert(0, str(INFRASTRUCTURE))

from sightline_infra import capacity as c  # noqa: E402

LOOK = ("/~1owner~1requests~1{request_id}", "GET")


def _throttles(cfn) -> Dict[Tuple[str, str], Dict[str, Any]]:
    api = cfn["Resources"]["RestAPI"]["Properties"]
    return {(s["ResourcePath"], s["HttpMethod"]): s for s in api["MethodSettings"]}


def _methods(cfn):
    paths = cfn["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    return [("/" + path.replace("/", "~1"), m.upper()) for path, methods in paths.items() for m in methods if m != "options"]


def _rate(cfn, method) -> float:
    throttles = _throttles(cfn)
    return (throttles.get(method) or throttles[("/*", "*")])["ThrottlingRateLimit"]


def _waf_rules(cfn) -> Dict[str, Dict[str, Any]]:
    _, acl = only(cfn, "AWS::WAFv2::WebACL")
    return {r["Name"]: r["Statement"]["RateBasedStatement"] for r in acl["Properties"]["Rules"]
            if "RateBasedStatement" in r["Statement"]}


def test_an_appeal_to_2000_owners_fits_every_owner_route(cfn):
    # Given 2,000 owners opening the page within a minute, each sending five files while the
    # page looks at their checks (5 looks in its first minute, site/js/poll.js)
    owners_per_s = c.APPEAL_OWNERS / c.ARRIVAL_S
    needed = {
        ("/~1owner~1sessions", "POST"): owners_per_s,
        LOOK: owners_per_s * (1 + c.LOOKS_FIRST_MINUTE),
        ("/~1owner~1requests~1{request_id}~1uploads", "POST"): owners_per_s * c.FILES_PER_OWNER,
        ("/~1owner~1requests~1{request_id}~1uploads~1{upload_id}~1complete", "POST"): owners_per_s * c.FILES_PER_OWNER,
        ("/~1owner~1requests~1{request_id}~1complete", "POST"): owners_per_s,
        ("/~1owner~1requests~1{request_id}~1decline", "POST"): owners_per_s,
    }
    throttles = _throttles(cfn)
    # Then API Gateway lets each route carry it (one 10 requests/s limit locked 95 % out)
    for method, rate in needed.items():
        assert throttles[method]["ThrottlingRateLimit"] >= rate, method
        assert throttles[method]["ThrottlingBurstLimit"] >= 2 * rate, method
    assert throttles[LOOK]["ThrottlingRateLimit"] >= 200


def test_waf_lets_a_carrier_grade_nat_of_owners_through(cfn):
    # Given 40 owners behind one address, each making 23 owner-request calls and 2 link
    # exchanges or reloads in WAF's 5-minute window
    rules = _waf_rules(cfn)
    owner, public = rules["owner-requests-per-ip"], rules["public-endpoints-per-ip"]
    per_owner = 1 + c.LOOKS_PER_WINDOW + c.FILES_PER_OWNER * c.CALLS_PER_FILE + 1
    # Then neither per-IP rule blocks them, and both stay rules WAF accepts
    assert owner["Limit"] >= c.OWNERS_PER_IP * per_owner
    assert public["Limit"] >= c.OWNERS_PER_IP * 2
    for rule in rules.values():
        assert rule["EvaluationWindowSec"] in (60, 120, 300, 600) and rule["Limit"] >= c.WAF_MIN_LIMIT


def test_health_is_rate_limited_at_the_gateway_and_per_address(cfn):
    throttle = _throttles(cfn)[("/~1health", "GET")]
    assert throttle["ThrottlingRateLimit"] <= 5 and throttle["ThrottlingBurstLimit"] <= 10
    for name, key in (("health-per-ip", "IP"), ("health-per-ip-via-site", "FORWARDED_IP")):
        health = _waf_rules(cfn)[name]
        assert 10 <= health["Limit"] <= 100 and health["AggregateKeyType"] == key
        paths = health["ScopeDownStatement"]["AndStatement"]["Statements"][0]
        searched = {s["ByteMatchStatement"]["SearchString"] for s in paths["OrStatement"]["Statements"]}
        assert searched == {"/health", "/api/health"}


def test_residents_cannot_take_officers_share_of_the_api_function(cfn):
    # Every public method at its throttle, each request holding an execution for its time
    public = [m for m in _methods(cfn) if m[0].startswith(("/~1registrations", "/~1owner"))]
    residents = sum(_rate(cfn, m) * (c.READ_S if m[1] == "GET" or m == ("/~1owner~1sessions", "POST") else c.WRITE_S)
                    for m in public)
    api_handler = resources(cfn, "AWS::Serverless::Function")["APIHandler"]
    assert api_handler["Properties"]["ReservedConcurrentExecutions"] >= residents + c.OFFICER_CONCURRENCY
    # Officers' methods are not public: only the stage's default applies to them
    assert not any(path.startswith("/~1officer") for path, _ in _throttles(cfn))


def test_the_whole_api_fits_the_smallest_account_quota(cfn):
    # API Gateway applies a method's throttle to that method alone: the API's ceiling is the
    # sum, which must leave room in 2,500 requests/s (the default in AWS's newer Regions)
    total = sum(_rate(cfn, m) for m in _methods(cfn))
    assert total <= c.ACCOUNT_RPS_SMALLEST_REGION
