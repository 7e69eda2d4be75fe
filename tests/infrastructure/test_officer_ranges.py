"""The optional allow-list of the force's address ranges on the officer routes (API WAF)."""
from __future__ import annotations

import sys

import pytest

from .conftest import CONTEXT, INFRASTRUCTURE, only, resources

sys.path.insert(0, str(INFRASTRUCTURE))

from sightline_infra.settings import Settings, SettingsError  # noqa: E402


def _rule(cfn):
    _, acl = only(cfn, "AWS::WAFv2::WebACL")
    return {r["Name"]: r for r in acl["Properties"]["Rules"]}.get("officer-routes-from-force-ranges")


def test_with_ranges_officer_routes_are_blocked_from_anywhere_else(cfn):
    # Given the session's context, which lists two IPv4 ranges and one IPv6 range
    ip_sets = {props["Properties"]["IPAddressVersion"]: (logical_id, props["Properties"])
               for logical_id, props in resources(cfn, "AWS::WAFv2::IPSet").items()}
    assert set(ip_sets) == {"IPV4", "IPV6"}
    assert ip_sets["IPV4"][1]["Addresses"] == ["203.0.113.0/24", "198.51.100.16/28"]
    assert ip_sets["IPV6"][1]["Addresses"] == ["2001:db8:1234::/48"]
    assert all(props["Scope"] == "REGIONAL" for _, props in ip_sets.values())
    # Then one rule blocks /officer/* (with and without the stage) unless the source is in a set
    rule = _rule(cfn)
    assert rule["Action"] == {"Block": {}}
    paths, outside = rule["Statement"]["AndStatement"]["Statements"]
    matches = paths["OrStatement"]["Statements"]
    assert {m["ByteMatchStatement"]["SearchString"] for m in matches} == {"/officer/", "/api/officer/"}
    assert [t["Type"] for t in matches[0]["ByteMatchStatement"]["TextTransformations"]] == [
        "URL_DECODE", "NORMALIZE_PATH", "LOWERCASE"]
    # Outside means: sent straight to API Gateway from outside the ranges, or through the apps'
    # CloudFront by a viewer outside them (the viewer's address is in the header edge.py sets)
    direct, via_site = outside["NotStatement"]["Statement"]["OrStatement"]["Statements"]
    for route, forwarded in ((direct, False), (via_site, True)):
        origin_check, referenced = route["AndStatement"]["Statements"]
        assert ("NotStatement" in origin_check) != forwarded
        references = [s["IPSetReferenceStatement"] for s in referenced["OrStatement"]["Statements"]]
        assert {r["Arn"]["Fn::GetAtt"][0] for r in references} == {ip_sets["IPV4"][0], ip_sets["IPV6"][0]}
        for reference in references:
            assert (reference.get("IPSetForwardedIPConfig", {}).get("HeaderName") == "x-sightline-viewer-ip") == forwarded
    # And the rule's priority is its own (WAF refuses two rules with one priority)
    _, acl = only(cfn, "AWS::WAFv2::WebACL")
    priorities = [r["Priority"] for r in acl["Properties"]["Rules"]]
    assert len(priorities) == len(set(priorities))


def _allow_list(ranges):
    """The rule and the stack's template for ``ranges``, built in a bare stack (no synthesis)."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from sightline_infra.api import officer_allow_list

    stack = cdk.Stack(cdk.App(), "T", env=cdk.Environment(region="eu-west-2"))
    rule = officer_allow_list(stack, Settings(officer_ip_ranges=ranges).validate(), priority=3)
    return (stack.resolve(rule) if rule else None), Template.from_stack(stack).to_json().get("Resources", {})


def test_without_ranges_there_is_no_rule_and_no_ip_set():
    assert Settings().officer_ip_ranges == ""
    assert _allow_list("") == (None, {})


def test_one_ip_version_alone_makes_one_ip_set():
    rule, made = _allow_list("203.0.113.0/24")
    assert [r["Properties"]["IPAddressVersion"] for r in made.values()] == ["IPV4"]
    outside = rule["statement"]["andStatement"]["statements"][1]["notStatement"]["statement"]
    for route in outside["orStatement"]["statements"]:
        assert "ipSetReferenceStatement" in route["andStatement"]["statements"][1]


def test_ranges_are_read_from_a_list_or_text_and_written_canonically():
    listed = Settings.from_context({**CONTEXT, "officer_ip_ranges": ["203.0.113.7", "2001:DB8::/32"]}.get)
    assert listed.officer_ranges_by_version == {4: ["203.0.113.7/32"], 6: ["2001:db8::/32"]}


@pytest.mark.parametrize("ranges", ["203.0.113.0/33", "10.0.0.1/8", "not-a-range", "0.0.0.0/0", "::/0",
                                    "203.0.113.0/24;198.51.100.0/24"])
def test_an_invalid_range_is_refused_naming_the_setting_and_the_range(ranges):
    with pytest.raises(SettingsError, match=r"officer_ip_ranges: .*"):
        Settings.from_context({**CONTEXT, "officer_ip_ranges": ranges}.get)
