"""The officers' console in AWS: its own private bucket and CloudFront distribution, a strict
CSP that names only our origin and Cognito's API and forbids framing, and the API on its origin
under /api with the viewer's address for the WAF."""
from __future__ import annotations

from infrastructure.sightline_infra import edge
from tests.infrastructure.conftest import resources


def _console(cfn):
    (distribution,) = [d for d in resources(cfn, "AWS::CloudFront::Distribution").values()
                       if "console" in d["Properties"]["DistributionConfig"]["Comment"]]
    return distribution["Properties"]["DistributionConfig"]


def _policy(cfn, ref):
    return cfn["Resources"][ref["Ref"]]["Properties"]["ResponseHeadersPolicyConfig"]


def test_the_console_has_its_own_distribution_and_strict_csp(cfn):
    config = _console(cfn)
    assert config["DefaultRootObject"] == "index.html"
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    policy = _policy(cfn, default["ResponseHeadersPolicyId"])
    csp = policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if " " in d.strip())
    assert directives["frame-ancestors"] == "'none'" and directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    # Our origin and Cognito's API (the session's context names no geocoder), nothing else
    self_origin, cognito = directives["connect-src"].split()
    assert self_origin == "'self'" and cognito.startswith("https://cognito-idp.") and "execute-api" not in csp
    assert policy["SecurityHeadersConfig"]["FrameOptions"]["FrameOption"] == "DENY"
    # Not the site's policy
    site_policies = [p for p in resources(cfn, "AWS::CloudFront::ResponseHeadersPolicy").values()
                     if p["Properties"]["ResponseHeadersPolicyConfig"]["Name"].endswith("-site-security-headers")]
    assert len(site_policies) == 1 and policy["Name"].endswith("-console-security-headers")


def test_the_console_reaches_the_api_on_its_own_origin_with_the_viewers_address(cfn):
    config = _console(cfn)
    (api,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    assert api["AllowedMethods"] == ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
    assert api["FunctionAssociations"][0]["EventType"] == "viewer-request"
    (origin,) = [o for o in config["Origins"] if o["Id"] == api["TargetOriginId"]]
    assert origin["OriginCustomHeaders"][0]["HeaderName"] == edge.ORIGIN_VERIFY_HEADER


def test_the_console_bucket_is_private_and_logged(cfn):
    (bucket,) = [b for b in resources(cfn, "AWS::S3::Bucket").values()
                 if "-console-" in str(b["Properties"].get("BucketName", ""))]
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "console/"
