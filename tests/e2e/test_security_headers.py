"""The deployed CSP applies on the local stack, and every error of the API or its gateway reaches
the page readable through the same-origin ``/api`` proxy."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from local.site_server import serve_static_app

from .conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_csp_blocks_an_inline_script_on_the_local_site(local_stack, page):
    """Given the site served locally, when a script element with inline code is added to the
    page, then it does not run and the browser reports a CSP violation."""
    page.goto(local_stack["site_url"] + "/index.html")
    result = page.evaluate(
        """() => new Promise(resolve => {
            const violations = [];
            document.addEventListener("securitypolicyviolation",
                e => violations.push(e.violatedDirective));
            const script = document.createElement("script");
            script.textContent = "window.__injected = true;";
            document.body.appendChild(script);
            setTimeout(() => resolve({ran: window.__injected === true, violations}), 200);
        })"""
    )
    assert result["ran"] is False
    assert any(v.startswith("script-src") for v in result["violations"]), result


def test_the_site_calls_the_api_on_its_own_origin(local_stack, page):
    page.goto(local_stack["site_url"] + "/index.html")
    assert page.evaluate("Sightline.config.apiUrl") == "/api"
    assert page.evaluate("Sightline.api.request('GET', '/health').then(b => b !== null)") is True


# ------------------------------------------------------------------ gateway-style errors


class _Gateway(BaseHTTPRequestHandler):
    """Answers as API Gateway and WAF do when they, not our code, refuse a request."""

    answers = {
        "/registrations": (429, {"Retry-After": "30", "Content-Type": "application/json"},
                           json.dumps({"message": "Too Many Requests"}).encode()),
        "/owner/session": (403, {"Content-Type": "text/html"}, b"<html><body>Forbidden</body></html>"),
        "/broken": (502, {"Content-Type": "application/json"}, json.dumps({"message": "Internal server error"}).encode()),
    }

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, body = self.answers[self.path]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def site_before_a_refusing_gateway() -> Iterator[str]:
    gateway = ThreadingHTTPServer(("127.0.0.1", free_port()), _Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    port = free_port()
    site = serve_static_app(ROOT / "site", "127.0.0.1", port, {"apiUrl": "/api"},
                            api_url=f"http://127.0.0.1:{gateway.server_address[1]}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for server in (site, gateway):
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/registrations", (429, "Something went wrong. Please try again.", 30)),
        ("/owner/session", (403, "Something went wrong. Please try again.", None)),
        ("/broken", (502, "Something went wrong on our side. Please try again in a few minutes.", None)),
    ],
)
def test_gateway_errors_without_our_shape_reach_the_page_readable(site_before_a_refusing_gateway, page, path,
                                                                   expected: Tuple):
    """Given the gateway refuses with its own body (not our JSON error), when the page calls the
    API, then it gets an ApiError with the status, a message for people and, for a 429, the
    Retry-After: nothing is hidden from it as a cross-origin answer would be."""
    page.goto(site_before_a_refusing_gateway + "/index.html")
    error = page.evaluate(
        """path => Sightline.api.request("POST", path, {body: {}}).then(
            () => null,
            e => ({status: e.status, message: e.message, retryAfterS: e.retryAfterS || null}))""",
        path,
    )
    assert (error["status"], error["message"], error["retryAfterS"]) == expected
