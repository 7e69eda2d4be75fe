"""The owner's page under a big appeal: how often it asks the API while files are checked.

No local stack: the page is served from site/ and the API answered by the test, with
Playwright's clock standing in for the minutes. Each look is one GET /owner/requests/{id}.
"""
from __future__ import annotations

import json
from typing import Dict, List


from tests.e2e.conftest import ROOT

ORIGIN = "http://sightline.test"
REQUEST_ID = "req-1"
LOOK = f"/api/owner/requests/{REQUEST_ID}"
CONFIG_JS = "window.SIGHTLINE_CONFIG = " + json.dumps({"apiUrl": f"{ORIGIN}/api", "forceName": "Example Police"})
REQUEST = {
    "request_id": REQUEST_ID,
    "status": "uploading",
    "force_name": "Example Police",
    "case_ref": "WM/1/26",
    "incident": {"from": "2026-11-20T21:00:00Z", "to": "2026-11-20T22:00:00Z", "area": "High St", "summary": "x"},
    "deadline": "2026-12-20T12:00:00Z",
    "max_file_bytes": 1024,
    "uploads": [{"evidence_id": "ev-1", "filename": "door.mp4", "size": 100, "status": "pending"}],
}
# Counting stays in the page: the fake clock decides when a look happens, the page's
# in-flight count says when its answer has been handled.
COUNT_FETCHES = """
Math.random = () => 0;  // the jitter's shortest waits: the most looks the page can make
window.__inflight = 0;
const realFetch = window.fetch;
window.fetch = (...args) => {
  window.__inflight++;
  return realFetch(...args).finally(() => setTimeout(() => { window.__inflight--; }, 0));
};
"""


class FakeApi:
    """Answers the page's API calls; ``statuses`` are used, in order, for the looks."""

    def __init__(self, page):
        self.page = page
        self.looks: List[int] = []  # fake-clock ms of each look after the first load
        self.statuses: List[int] = []
        self.loaded = False
        page.route(f"{ORIGIN}/**", self.handle)

    def now(self) -> int:
        return self.page.evaluate("Date.now()")

    def handle(self, route):
        path = route.request.url[len(ORIGIN):].split("?")[0]
        if path == "/config.js":
            return route.fulfill(body=CONFIG_JS, content_type="text/javascript")
        if path == "/api/owner/sessions":
            return self.json(route, {"session": "s", "request_id": REQUEST_ID, "scope": "request",
                                     "expires_at": "2026-12-20T12:00:00Z"})
        if path == LOOK:
            if not self.loaded:
                self.loaded = True
                return self.json(route, REQUEST)
            self.looks.append(self.now())
            status = self.statuses.pop(0) if self.statuses else 200
            if status != 200:
                return self.json(route, {"error": {"code": "throttled", "message": "Too many requests"}}, status)
            return self.json(route, REQUEST)
        file = ROOT / "site" / path.lstrip("/")
        if file.is_file():
            return route.fulfill(path=str(file))
        return route.fulfill(status=404, body="")

    @staticmethod
    def json(route, body: Dict, status: int = 200):
        route.fulfill(status=status, body=json.dumps(body), content_type="application/json")


def _open(page) -> FakeApi:
    api = FakeApi(page)
    page.add_init_script(COUNT_FETCHES)
    page.clock.install()
    page.goto(f"{ORIGIN}/respond.html#token=abc")
    page.get_by_text("Uploaded. Checking the file").wait_for()
    api.start = api.now()
    return api


def _advance(page, seconds: int) -> None:
    """Move the page's clock on a second at a time, letting each look's answer land."""
    for _ in range(seconds):
        page.clock.run_for(1000)
        page.wait_for_function("window.__inflight === 0", polling=20)


def _looks_within(api: FakeApi, seconds: int) -> int:
    return sum(1 for at in api.looks if at - api.start <= seconds * 1000)


def test_page_backs_off_while_a_file_is_checked_and_stops_after_five_minutes(page):
    # Given an owner's page showing a file the server is still checking
    api = _open(page)
    # When the check takes longer than the page waits (ten minutes of the page's clock)
    _advance(page, 600)
    # Then it looked a few times in the first minute (it used to look every 2 s: 30 times),
    # ever more slowly, and not at all after five minutes, when it says checking is slow
    assert 1 <= _looks_within(api, 60) <= 5, api.looks
    assert _looks_within(api, 300) == len(api.looks) <= 11, api.looks
    gaps = [b - a for a, b in zip(api.looks, api.looks[1:])]
    assert all(gap >= 2400 for gap in gaps) and gaps[-1] > 3 * gaps[0], gaps
    page.get_by_text("Checking is taking longer than usual").wait_for()


def test_page_pauses_while_hidden_and_waits_a_minute_when_the_api_is_busy(page):
    # Given an owner's page showing a file being checked, and an API that answers 429 once
    api = _open(page)
    api.statuses = [429]
    # When the first look is refused
    _advance(page, 80)
    # Then the page waits at least a minute before it looks again
    assert len(api.looks) >= 2 and api.looks[1] - api.looks[0] >= 60_000, api.looks
    looked = len(api.looks)
    # When the owner switches to another tab for two minutes, nothing is asked
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    _advance(page, 120)
    assert len(api.looks) == looked, api.looks
    # And when the tab is shown again, the page looks soon
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    _advance(page, 5)
    assert len(api.looks) == looked + 1, api.looks
