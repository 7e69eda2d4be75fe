"""The officers' console, measured: the API's time and the page's drawing time for about 50, 500
and 2,000 results, and what the console's first load weighs, compressed.

    python -m bench.console [--repeat 5] [--seed 20000]

Starts the local stack on free loopback ports with the synthetic seed (20,000 registrations
around Birmingham and Coventry), signs the demo officer in through the console in Debian's
Chromium (a real TOTP code), and, for each target, searches at a radius found to return about
that many registrations (searched for through the API first). Per run it reads, in the page:

- API: the search request's Resource Timing, request start to response end (the proxy, the API
  and the network of this machine: not AWS's figures);
- drawing: from the response's end to the first animation frame after which the map's markers,
  clusters and direction lines stop changing (the list is written by ``show()`` before the
  results summary; the cluster layer adds markers in chunks after it, so the frames are watched
  until five in a row, over 300 ms, change nothing).

Each figure is the median of ``--repeat`` runs. First load: every response the console's first
load asks for (sign-in page), each body gzip-compressed at level 6 as CloudFront would serve it
(the local server does not compress), map tiles aside (none are configured locally).

Targets on this machine: drawing 2,000 results in at most 0.5 s after the answer; first load at
most 300 KB compressed. Prints its figures; it is not a test and asserts nothing.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
CENTRE = (52.4862, -1.8904)
TARGETS = (50, 500, 2000)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

_WAIT_FOR_DRAWING = """() => { window.__drawn = new Promise((resolve) => {
  const target = document.querySelector('#results-summary');
  const observer = new MutationObserver(() => {
    // The summary says "Searching" first; the answer's summary says what was shown.
    if (!/shown|No registered cameras/.test(target.textContent)) return;
    observer.disconnect();
    // Markers are clustered in chunks after show() returns: drawn is the frame after which
    // the map's markers and lines stopped changing (5 frames and 300 ms without a change).
    let last = -1, lastChange = performance.now(), still = 0;
    const tick = () => {
      const count = document.querySelectorAll('#map .leaflet-marker-icon, #map path').length;
      const now = performance.now();
      if (count !== last) { last = count; lastChange = now; still = 0; } else { still += 1; }
      if (still >= 5 && now - lastChange > 300) resolve(lastChange); else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  observer.observe(target, { childList: true, characterData: true, subtree: true });
}); }"""

_TIMINGS = """async () => {
  const drawn = await window.__drawn;
  const searches = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/officer/searches'));
  const entry = searches[searches.length - 1];
  return { api_ms: entry.responseEnd - entry.requestStart, draw_ms: drawn - entry.responseEnd };
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stack(seed: int, var_dir: Path) -> Tuple[subprocess.Popen, Dict]:
    ports = {name: free_port() for name in ("api", "site", "console", "aws", "dynamodb")}
    command = [
        sys.executable, "-m", "local.stack",
        "--api-port", str(ports["api"]), "--site-port", str(ports["site"]), "--console-port", str(ports["console"]),
        "--aws-port", str(ports["aws"]), "--dynamodb-port", str(ports["dynamodb"]),
        "--var-dir", str(var_dir), "--seed", str(seed),
    ]
    log = open(var_dir / "stack.log", "wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    deadline = time.monotonic() + 300
    while not (var_dir / "local.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the local stack did not start:\n" + (var_dir / "stack.log").read_text()[-3000:])
        time.sleep(0.2)
    return process, json.loads((var_dir / "local.json").read_text())


def stop_stack(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def access_token(local: Dict) -> str:
    import boto3

    from local.officer_sign_in import sign_in, totp_code

    cognito = boto3.session.Session().client(
        "cognito-idp", region_name=local["region"], endpoint_url=local["aws_endpoint"],
        aws_access_key_id="local", aws_secret_access_key="local",
    )
    demo = local["demo_officer"]
    return sign_in(cognito, local["user_pool_client_id"], demo["username"], demo["password"],
                   code=lambda: totp_code(local["demo_totp_secret"]))["AccessToken"]


def total_within(local: Dict, token: str, radius_m: int) -> int:
    body = {"lat": CENTRE[0], "lon": CENTRE[1], "radius_m": radius_m, "case_ref": "BENCH/1/26",
            "category": "Theft offences", "reason": "benchmark of the console", "limit": 1}
    request = urllib.request.Request(
        f"{local['api_url']}/officer/searches", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(json.loads(response.read())["total"])


def radius_for(local: Dict, token: str, wanted: int) -> Tuple[int, int]:
    """The radius (10 m to 5 km) whose search holds about ``wanted`` registrations."""
    low, high = 10, 5000
    best = (high, total_within(local, token, high))
    while high - low > 5:
        middle = (low + high) // 2
        found = total_within(local, token, middle)
        if abs(found - wanted) < abs(best[1] - wanted):
            best = (middle, found)
        if found < wanted:
            low = middle
        else:
            high = middle
    return best


def sign_in_page(page, local: Dict) -> None:
    from local.officer_sign_in import totp_code

    demo = local["demo_officer"]
    page.goto(local["console_url"])
    page.get_by_label("Email address or username").fill(demo["username"])
    page.get_by_label("Password", exact=True).fill(demo["password"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app").fill(totp_code(local["demo_totp_secret"]))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Find cameras near an incident").wait_for()


def first_load_bytes(browser, local: Dict) -> Tuple[int, int, List[Tuple[str, int, int]]]:
    """(raw bytes, gzip bytes, per file) of everything the sign-in page loads."""
    context = browser.new_context()
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(local["console_url"], wait_until="networkidle")
    files = []
    for response in responses:
        try:
            body = response.body()
        except Exception:  # noqa: BLE001 (a redirect or an aborted request has no body)
            continue
        files.append((response.url.replace(local["console_url"], ""), len(body), len(gzip.compress(body, 6))))
    context.close()
    return sum(f[1] for f in files), sum(f[2] for f in files), files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20000)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as var:
        process, local = start_stack(args.seed, Path(var))
        try:
            token = access_token(local)
            radii = {wanted: radius_for(local, token, wanted) for wanted in TARGETS}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                raw, compressed, files = first_load_bytes(browser, local)
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                sign_in_page(page, local)
                page.get_by_label("Latitude").fill(str(CENTRE[0]))
                page.get_by_label("Longitude").fill(str(CENTRE[1]))
                page.locator("#search-form").get_by_label("Case reference").fill("BENCH/1/26")
                page.get_by_label("Offence category").select_option("Theft offences")
                page.get_by_label("Reason for searching").fill("benchmark of the console")
                rows = []
                for wanted in TARGETS:
                    radius, total = radii[wanted]
                    page.get_by_label("Radius in metres").fill(str(radius))
                    api, draw, shown = [], [], 0
                    for _ in range(args.repeat):
                        page.evaluate(_WAIT_FOR_DRAWING)
                        with page.expect_response("**/api/officer/searches") as answer:
                            page.get_by_role("button", name="Search", exact=True).click()
                        shown = len(answer.value.json()["registrations"])
                        timings = page.evaluate(_TIMINGS)
                        api.append(timings["api_ms"])
                        draw.append(timings["draw_ms"])
                    rows.append((wanted, radius, total, shown, statistics.median(api), statistics.median(draw)))
                browser.close()
        finally:
            stop_stack(process)

    print(f"Console on the local stack, {args.seed:,} seeded registrations, centre {CENTRE}, "
          f"median of {args.repeat} runs (python -m bench.console --repeat {args.repeat})")
    print(f"{'target':>7} {'radius m':>9} {'in radius':>10} {'shown':>6} {'API ms':>8} {'draw ms':>8}")
    for wanted, radius, total, shown, api_ms, draw_ms in rows:
        print(f"{wanted:>7,} {radius:>9,} {total:>10,} {shown:>6,} {api_ms:>8.0f} {draw_ms:>8.0f}")
    print(f"first load: {len(files)} files, {raw / 1024:.0f} KB raw, {compressed / 1024:.0f} KB gzip-compressed "
          f"(target at most 300 KB compressed)")
    for name, size, packed in sorted(files, key=lambda f: -f[2])[:8]:
        print(f"  {packed / 1024:7.1f} KB  {name}")
    draw_2000 = rows[-1][5]
    print(f"drawing {rows[-1][3]:,} results: {draw_2000:.0f} ms after the answer (target at most 500 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
