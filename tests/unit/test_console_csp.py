"""The officers' console's Content-Security-Policy: strict, and open only to the sign-in service."""
from infrastructure.sightline_infra.security_headers import console_content_security_policy, security_headers


def directives(csp: str) -> dict:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in csp.split("; ") if " " in part}


def test_the_console_connects_to_its_own_origin_and_the_cognito_endpoint_only():
    # Given the deployed Cognito endpoint
    csp = console_content_security_policy(cognito_endpoint="https://cognito-idp.eu-west-2.amazonaws.com/")
    # Then nothing else is reachable, nothing inline runs, and nothing may frame the console
    parts = directives(csp)
    assert parts["connect-src"] == "'self' https://cognito-idp.eu-west-2.amazonaws.com"
    assert parts["default-src"] == "'none'" and parts["script-src"] == "'self'" and parts["style-src"] == "'self'"
    assert parts["frame-ancestors"] == "'none'" and parts["object-src"] == "'none'"
    assert "unsafe" not in csp


def test_map_tiles_are_allowed_only_when_configured():
    bare = directives(console_content_security_policy(cognito_endpoint="http://127.0.0.1:5000"))
    tiled = directives(console_content_security_policy(
        cognito_endpoint="http://127.0.0.1:5000", tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png"))
    assert bare["img-src"] == "'self' data:"
    assert tiled["img-src"] == "'self' data: https://*.tile.example.org"


def test_the_console_policy_replaces_the_sites_in_the_same_header_set():
    csp = console_content_security_policy(cognito_endpoint="http://127.0.0.1:5000")
    headers = security_headers(csp=csp)
    assert headers["Content-Security-Policy"] == csp
    assert headers["X-Frame-Options"] == "DENY"
    assert set(headers) == set(security_headers())


def test_a_geocoder_is_reachable_only_when_the_force_names_one():
    bare = directives(console_content_security_policy(cognito_endpoint="http://127.0.0.1:5000"))
    named = directives(console_content_security_policy(
        cognito_endpoint="http://127.0.0.1:5000", geocoder_url="https://geocode.force.example/search?q={query}"))
    assert bare["connect-src"] == "'self' http://127.0.0.1:5000"
    assert named["connect-src"] == "'self' http://127.0.0.1:5000 https://geocode.force.example"
