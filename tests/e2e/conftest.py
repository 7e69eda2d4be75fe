"""End-to-end fixtures: the real local stack on free loopback ports, and Debian's Chromium."""
from __future__ import annotations

import email
import email.policy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
GEOCODER_URL = "https://geocoder.sightline.test/search?format=jsonv2&q={query}"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WCAG_22_AA = WCAG_21_AA + ["wcag22aa"]
# The stack runs at a real force's size, as `SIGHTLINE_SEED=20000 make run` does.
SEEDED = 20000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens there (closed connections lingering in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Outbox:
    """The local stack's outbox folder: every email sent, as an .eml file."""

    def __init__(self, folder: Path):
        self.folder = folder

    def messages(self) -> List[email.message.EmailMessage]:
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(self.folder.glob("*.eml"))
        ]

    def wait_for_link(self, to: str, page: str, after: int = 0, timeout_s: float = 20) -> str:
        """The newest link to ``page`` in an email to ``to`` beyond the first ``after`` emails."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for message in reversed(self.messages()[after:]):
                if message["To"] != to:
                    continue
                text = message.get_body(preferencelist=("plain",)).get_content()
                match = re.search(rf"(http://\S+/{re.escape(page)}#token=[A-Za-z0-9_-]+)", text)
                if match:
                    return match.group(1)
            time.sleep(0.1)
        raise AssertionError(f"no email to {to} with a {page} link within {timeout_s} s")

    def wait_for_subject(self, to: str, subject: str, timeout_s: float = 20) -> email.message.EmailMessage:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for message in self.messages():
                if message["To"] == to and message["Subject"] == subject:
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no email to {to} about {subject!r} within {timeout_s} s")


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory) -> Iterator[Dict]:
    """`python -m local.stack` on free ports; stopped (Ctrl-C) by this fixture at the end."""
    var_dir = tmp_path_factory.mktemp("var")
    ports = {name: free_port() for name in ("api", "site", "console", "aws", "dynamodb")}
    command = [
        sys.executable, "-m", "local.stack",
        "--api-port", str(ports["api"]), "--site-port", str(ports["site"]), "--console-port", str(ports["console"]),
        "--aws-port", str(ports["aws"]), "--dynamodb-port", str(ports["dynamodb"]),
        "--var-dir", str(var_dir), "--seed", str(SEEDED),
    ]
    log = open(var_dir / "stack.log", "wb")
    # The console's address search names a geocoder no test reaches: tests answer it in the page.
    env = {**os.environ, "SIGHTLINE_GEOCODER_URL": GEOCODER_URL}
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    local_json = var_dir / "local.json"
    deadline = time.monotonic() + 120
    while not local_json.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the local stack did not start:\n" + (var_dir / "stack.log").read_text()[-4000:])
        time.sleep(0.2)
    info = json.loads(local_json.read_text())
    info["ports"] = ports
    info["var_dir"] = var_dir
    info["seeded"] = SEEDED
    info["process"] = process
    try:
        yield info
    finally:
        # Ctrl-C must stop every process the stack started and free every port it took.
        stopped_cleanly = False
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                stopped_cleanly = process.wait(timeout=20) == 0
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        time.sleep(0.5)
        busy = [name for name, port in ports.items() if not port_is_free(port)]
        assert stopped_cleanly and not busy, f"after Ctrl-C: exit ok={stopped_cleanly}, ports still taken: {busy}"


@pytest.fixture(scope="session")
def outbox(local_stack) -> Outbox:
    return Outbox(Path(local_stack["outbox_dir"]))


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: 'make test' installs Debian's chromium package")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        geolocation={"latitude": 52.4796, "longitude": -1.9026},
        permissions=["geolocation"],
        accept_downloads=True,
        locale="en-GB",
    )
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page, tags: List[str] = WCAG_22_AA) -> List[Dict]:
    """WCAG A and AA violations (2.1 unless ``tags`` say otherwise) axe-core finds on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated, not added as a <script> tag: the site's CSP (rightly) blocks inline scripts.
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
