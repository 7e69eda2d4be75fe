"""Behind the apps' CloudFront, the API's WAF counts and admits callers by the viewer's address,
and a direct caller cannot choose the address it is counted under (infrastructure edge.py)."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from infrastructure.sightline_infra import edge
from tests.infrastructure.conftest import only, site_distribution


def _api_behaviour(cfn):
    _, distribution = site_distribution(cfn)
    config = distribution["Properties"]["DistributionConfig"]
    (behaviour,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    (origin,) = [o for o in config["Origins"] if o["Id"] == behaviour["TargetOriginId"]]
    return behaviour, origin


def test_requests_through_the_site_carry_the_viewers_address_and_the_origins_mark(cfn):
    behaviour, origin = _api_behaviour(cfn)
    (association,) = behaviour["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    function_id = association["FunctionARN"]["Fn::GetAtt"][0]
    assert cfn["Resources"][function_id]["Properties"]["FunctionCode"] == edge.VIEWER_IP_FUNCTION_CODE
    (mark,) = origin["OriginCustomHeaders"]
    assert mark["HeaderName"] == edge.ORIGIN_VERIFY_HEADER
    assert mark["HeaderValue"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the CloudFront function's code")
def test_the_function_replaces_whatever_address_the_viewer_sent():
    script = edge.VIEWER_IP_FUNCTION_CODE + """
var out = handler({viewer: {ip: '198.51.100.7'}, request: {headers: {'x-sightline-viewer-ip': {value: '10.0.0.1'}, 'host': {value: 'x'}}}});
console.log(JSON.stringify(out.headers));
"""
    headers = json.loads(subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout)
    assert headers[edge.VIEWER_IP_HEADER] == {"value": "198.51.100.7"} and headers["host"] == {"value": "x"}


def test_a_viewer_address_on_a_request_that_skipped_cloudfront_is_blocked(cfn):
    _, acl = only(cfn, "AWS::WAFv2::WebACL")
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    forged = rules["forged-viewer-address"]
    assert forged["Priority"] == 0 and forged["Action"] == {"Block": {}}
    names, skipped = forged["Statement"]["AndStatement"]["Statements"]
    assert names["SizeConstraintStatement"]["FieldToMatch"] == {"SingleHeader": {"Name": edge.VIEWER_IP_HEADER}}
    mark = skipped["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert mark["FieldToMatch"] == {"SingleHeader": {"Name": edge.ORIGIN_VERIFY_HEADER}}
    assert mark["PositionalConstraint"] == "EXACTLY"
    # And every per-caller rule through the site counts by the viewer's address, only there
    for name, rule in rules.items():
        rate = rule["Statement"].get("RateBasedStatement")
        if rate is None:
            continue
        origin_check = rate["ScopeDownStatement"]["AndStatement"]["Statements"][1]
        if name.endswith("-via-site"):
            assert rate["ForwardedIPConfig"] == {"HeaderName": edge.VIEWER_IP_HEADER, "FallbackBehavior": "MATCH"}
            assert origin_check["ByteMatchStatement"]["FieldToMatch"] == mark["FieldToMatch"]
        else:
            assert origin_check["NotStatement"]["Statement"]["ByteMatchStatement"]["FieldToMatch"] == mark["FieldToMatch"]
