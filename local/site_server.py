"""Serves ``site/`` on loopback, with ``/config.js`` generated for this stack."""
from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict


class _SiteHandler(SimpleHTTPRequestHandler):
    config_js = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.split("?", 1)[0] == "/config.js":
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(self.config_js)))
            self.end_headers()
            self.wfile.write(self.config_js)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the API logs requests
        pass


def config_js(site_config: Dict[str, Any]) -> bytes:
    return f"window.SIGHTLINE_CONFIG = {json.dumps(site_config)};\n".encode()


def serve_site(root: Path, host: str, port: int, site_config: Dict[str, Any]) -> ThreadingHTTPServer:
    handler = type("SiteHandler", (_SiteHandler,), {"config_js": config_js(site_config)})
    server = ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True, name="site").start()
    return server
