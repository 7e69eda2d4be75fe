"""The security headers of every response from a Sightline static app (the residents' site;
the officers' console later), defined once. The CDK turns them into the CloudFront response
headers policy (site.py) and ``local/site_server.py`` sends them as they are, so a browser test
on the local stack meets the CSP the deployed site has. Pure Python: the local server imports
it without the CDK."""
from __future__ import annotations

from typing import Dict, List, Sequence

# Pages reach the API on their own origin, under this prefix: CloudFront routes it to API
# Gateway (whose stage is named to match, see api.API_GATEWAY_STAGE), the local server proxies it
# to `chalice local`. Same origin: no CORS, and every gateway error is readable by the page.
API_PREFIX = "/api"

HSTS_MAX_AGE_S = 730 * 24 * 3600
FRAME_OPTIONS = "DENY"
REFERRER_POLICY = "strict-origin-when-cross-origin"
PERMISSIONS_POLICY = "camera=(), microphone=(), payment=(), usb=(), geolocation=(self)"
CROSS_ORIGIN_OPENER_POLICY = "same-origin"


def content_security_policy(*, connect_origins: Sequence[str] = (), tile_url: str = "") -> str:
    """No inline script or style, nothing framed; network access to our own origin (pages and
    ``/api``) and ``connect_origins`` (the evidence bucket, for presigned uploads) only; images
    may come from the configured map tile server. Scripts may compile WebAssembly
    (``'wasm-unsafe-eval'``, not ``'unsafe-eval'``: no ``eval`` of strings): the respond page
    fingerprints footage with hash-wasm's SHA-256 while it uploads."""
    tile_origin = tile_origin_of(tile_url) if tile_url else ""
    directives: List[str] = [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        f"img-src 'self' data:{' ' + tile_origin if tile_origin else ''}",
        " ".join(["connect-src 'self'", *connect_origins]),
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "upgrade-insecure-requests",
    ]
    return "; ".join(directives)


def console_content_security_policy(*, cognito_endpoint: str, tile_url: str = "", geocoder_url: str = "") -> str:
    """The officers' console: stricter than the site. Nothing but our own origin (pages and
    ``/api``) and the Cognito user pool's API, which the page signs in through; no geolocation
    and no evidence bucket (downloads are links the browser follows, not fetches)."""
    tile_origin = tile_origin_of(tile_url) if tile_url else ""
    directives: List[str] = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data:{' ' + tile_origin if tile_origin else ''}",
        f"connect-src 'self' {origin_of(cognito_endpoint)}{' ' + origin_of(geocoder_url) if geocoder_url else ''}",
        "font-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "upgrade-insecure-requests",
    ]
    return "; ".join(directives)


def origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def tile_origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    # Tile URL templates put subdomains in braces ("{s}.tile.example.org"): allow them all.
    if "{" in host:
        host = "*." + host.split(".", 1)[1]
    return f"{scheme}://{host}"


def security_headers(*, connect_origins: Sequence[str] = (), tile_url: str = "", csp: str = "") -> Dict[str, str]:
    """Header name to value, exactly as the browser receives them (``csp`` replaces the site's
    policy: the console's is :func:`console_content_security_policy`)."""
    return {
        "Content-Security-Policy": csp or content_security_policy(connect_origins=connect_origins, tile_url=tile_url),
        "Strict-Transport-Security": f"max-age={HSTS_MAX_AGE_S}; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": FRAME_OPTIONS,
        "Referrer-Policy": REFERRER_POLICY,
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": CROSS_ORIGIN_OPENER_POLICY,
    }
