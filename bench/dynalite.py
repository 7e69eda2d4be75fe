"""A private, in-memory dynalite server for one benchmark run, on a free local port."""
from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "node_modules" / "dynalite" / "cli.js"


def version() -> str:
    return json.loads((CLI.parent / "package.json").read_text())["version"]


class Dynalite:
    """``with Dynalite() as engine: engine.endpoint`` starts dynalite and always stops it."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self.endpoint = f"http://{host}:{self.port}"
        self._process: Optional[subprocess.Popen] = None

    def __enter__(self) -> "Dynalite":
        if not CLI.exists():
            raise SystemExit("dynalite is not installed: run 'make deps' (it runs 'npm ci').")
        self._process = subprocess.Popen(
            ["node", str(CLI), "--host", self.host, "--port", str(self.port), "--createTableMs", "0", "--deleteTableMs", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SystemExit(f"dynalite exited with status {self._process.returncode}")
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)
                return self
            except urllib.error.HTTPError:
                return self  # it answers (400 to a bare GET): ready
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise SystemExit("dynalite did not start within 20 s")

    def __exit__(self, *exc_info: object) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def free_port(host: str) -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
