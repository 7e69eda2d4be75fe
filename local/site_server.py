"""Serves ``site/`` on loopback as CloudFront serves it: ``/config.js`` generated for this stack,
the deployed security headers (CSP included) on every response, and ``/api/*`` proxied to
``chalice local`` so pages and API share one origin. Reusable for the officers' console: give
``serve_static_app`` another root and config."""
from __future__ import annotations

import functools
import http.client
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Mapping, Sequence
from urllib.parse import urlsplit

from infrastructure.sightline_infra.security_headers import API_PREFIX, security_headers

# Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own business, never passed on.
_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "host",
}
_CHUNK = 64 * 1024
_PROXY_TIMEOUT_S = 35  # API Gateway gives up at 29 s; chalice local has no limit of its own


class _StaticAppHandler(SimpleHTTPRequestHandler):
    config_js = b""
    headers_to_send: Mapping[str, str] = {}
    api_host = ""
    api_port = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self._is_api():
            return self._proxy()
        if self.path.split("?", 1)[0] == "/config.js":
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(self.config_js)))
            self.end_headers()
            self.wfile.write(self.config_js)
            return
        super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        if self._is_api():
            return self._proxy()
        super().do_HEAD()

    def _api_only(self) -> None:
        if self._is_api():
            return self._proxy()
        # CloudFront's S3 behaviour allows GET and HEAD only.
        self.send_error(403)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _api_only  # noqa: N815

    def end_headers(self) -> None:
        for name, value in self.headers_to_send.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the API logs requests
        pass

    # ------------------------------------------------------------------ /api/* -> chalice local

    def _is_api(self) -> bool:
        path = self.path.split("?", 1)[0]
        return path == API_PREFIX or path.startswith(API_PREFIX + "/")

    def _proxy(self) -> None:
        """Forward as CloudFront does: the viewer's headers but Host, the body, the query; then
        stream the answer back, whatever its status and shape. ``/api/x`` becomes ``/x``:
        deployed, the stage named ``api`` takes that prefix off."""
        upstream_path = self.path[len(API_PREFIX):]
        if not upstream_path.startswith("/"):
            upstream_path = "/" + upstream_path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["X-Forwarded-For"] = self.client_address[0]
        connection = http.client.HTTPConnection(self.api_host, self.api_port, timeout=_PROXY_TIMEOUT_S)
        try:
            try:
                connection.request(self.command, upstream_path, body=body, headers=headers)
                answer = connection.getresponse()
            except OSError:
                # CloudFront's answer when the origin cannot be reached.
                self.send_response(502)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP and name.lower() not in _LOWER_SECURITY:
                    self.send_header(name, value)
            chunked = answer.getheader("Content-Length") is None and self.command != "HEAD"
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if self.command == "HEAD":
                return
            while True:
                chunk = answer.read1(_CHUNK) if hasattr(answer, "read1") else answer.read(_CHUNK)
                if not chunk:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        finally:
            connection.close()


# The policy's headers override the origin's, as CloudFront's `override=True` does.
_LOWER_SECURITY = {name.lower() for name in security_headers()}


def config_js(site_config: Dict[str, Any]) -> bytes:
    return f"window.SIGHTLINE_CONFIG = {json.dumps(site_config)};\n".encode()


def serve_static_app(
    root: Path,
    host: str,
    port: int,
    app_config: Dict[str, Any],
    *,
    api_url: str,
    connect_origins: Sequence[str] = (),
    tile_url: str = "",
    csp: str = "",
) -> ThreadingHTTPServer:
    """Serve ``root`` on ``host:port``; ``/api/*`` goes to ``api_url`` (loopback only). ``csp``
    replaces the site's Content-Security-Policy (the console has its own)."""
    api = urlsplit(api_url)
    if api.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the local proxy only forwards to loopback, not {api_url!r}")
    handler = type(
        "StaticAppHandler",
        (_StaticAppHandler,),
        {
            "config_js": config_js(app_config),
            "headers_to_send": security_headers(connect_origins=connect_origins, tile_url=tile_url, csp=csp),
            "api_host": api.hostname,
            "api_port": api.port or 80,
            "protocol_version": "HTTP/1.1",
        },
    )
    server = ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name=f"static:{root.name}").start()
    return server
