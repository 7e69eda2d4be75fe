"""The local static server sends the headers CloudFront's response headers policy sends, and the
site reaches the API through CloudFront on its own origin."""
from __future__ import annotations

import socket
import urllib.request
from pathlib import Path
from typing import Dict

from infrastructure.sightline_infra.api import API_GATEWAY_STAGE
from infrastructure.sightline_infra.security_headers import API_PREFIX
from local.site_server import serve_static_app

from .conftest import CONTEXT, refs, site_distribution, site_headers_policy

ROOT = Path(__file__).resolve().parents[2]
# CloudFront's managed policies (ids are fixed by AWS).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _text(value) -> str:
    if isinstance(value, str):
        return value
    return "".join(p if isinstance(p, str) else "{token}" for p in value["Fn::Join"][1])


def cloudfront_headers(cfn) -> Dict[str, str]:
    """What a browser receives from the deployed policy (tokens shown as {token})."""
    _, policy = site_headers_policy(cfn)
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    hsts = security["StrictTransportSecurity"]
    headers = {
        "Content-Security-Policy": _text(security["ContentSecurityPolicy"]["ContentSecurityPolicy"]),
        "Strict-Transport-Security": f"max-age={hsts['AccessControlMaxAgeSec']}"
        + ("; includeSubDomains" if hsts.get("IncludeSubdomains") else "")
        + ("; preload" if hsts.get("Preload") else ""),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
    }
    for custom in config["CustomHeadersConfig"]["Items"]:
        headers[custom["Header"]] = custom["Value"]
    return headers


def _directives(csp: str) -> Dict[str, str]:
    return dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";"))


def test_the_local_server_sends_cloudfronts_headers(cfn):
    """Given the local site server, when it serves a page, a config.js and an error, then each
    carries the header set of the CloudFront policy, with the same CSP directives."""
    port = _free_port()
    server = serve_static_app(ROOT / "site", "127.0.0.1", port, {}, api_url="http://127.0.0.1:9",
                              connect_origins=["http://127.0.0.1:5000"], tile_url=CONTEXT["tile_url"])
    try:
        deployed = cloudfront_headers(cfn)
        for path in ("/index.html", "/config.js", "/no-such-page.html", "/api/health"):
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
            except urllib.error.HTTPError as error:  # 404, and 502: nothing listens on :9
                response = error
            local = {name: response.headers[name] for name in deployed}
            assert all(local.values()), (path, local)
            local_csp, deployed_csp = local.pop("Content-Security-Policy"), deployed["Content-Security-Policy"]
            assert local == {k: v for k, v in deployed.items() if k != "Content-Security-Policy"}, path
            local_d, deployed_d = _directives(local_csp), _directives(deployed_csp)
            assert local_d.keys() == deployed_d.keys()
            # Origins differ (moto's S3 locally, the evidence bucket deployed); the rest may not.
            for name in local_d.keys() - {"connect-src"}:
                assert local_d[name] == deployed_d[name], name
            assert local_d["connect-src"].split()[0] == deployed_d["connect-src"].split()[0] == "'self'"
    finally:
        server.shutdown()
        server.server_close()



def test_api_is_routed_on_the_sites_origin(cfn):
    """/api/* goes to API Gateway uncached, with every method, Authorization and the query."""
    _, distribution = site_distribution(cfn)
    config = distribution["Properties"]["DistributionConfig"]
    (behaviour,) = config["CacheBehaviors"]
    assert behaviour["PathPattern"] == f"{API_PREFIX}/*"
    assert behaviour["CachePolicyId"] == CACHING_DISABLED
    assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert sorted(behaviour["AllowedMethods"]) == sorted(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"])
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert behaviour["ResponseHeadersPolicyId"] == config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    origin = next(o for o in config["Origins"] if o["Id"] == behaviour["TargetOriginId"])
    assert "RestAPI" in set(refs(origin["DomainName"]))
    assert origin.get("OriginPath", "") == ""
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    # CloudFront passes /api/x on unchanged: the stage's name is what takes the prefix off.
    assert f"/{API_GATEWAY_STAGE}" == API_PREFIX


def test_site_config_points_at_the_same_origin_api_and_csp_names_no_api(cfn):
    import json

    value = cfn["Outputs"]["SiteConfig"]["Value"]
    text = value if isinstance(value, str) else _text(value)
    assert json.loads(text.replace("{token}", "x"))["apiUrl"] == API_PREFIX
    csp = cloudfront_headers(cfn)["Content-Security-Policy"]
    assert "execute-api" not in csp


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
