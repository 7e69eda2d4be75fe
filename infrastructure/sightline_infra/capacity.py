"""What the API must carry when a force appeals to many camera owners at once, and the limits
that follow from it. The arithmetic, with the AWS limits it was checked against, is in
docs/decisions.md (2026-12-02, "Under a big appeal"); change a premise here and every limit
moves with it. Pure Python: the infrastructure tests check the template against these numbers.
"""
from __future__ import annotations

import math
from typing import Dict, Tuple

# ---------------------------------------------------------------- premises

# An appeal sends one footage request to this many owners, and they all open the page
# within this time (the worst case we size for: in practice emails arrive over minutes).
APPEAL_OWNERS = 2_000
ARRIVAL_S = 60
# Files one owner sends; each costs two API calls (start the upload, say it is complete:
# multipart parts and the bytes of a single POST go straight to S3).
FILES_PER_OWNER = 5
CALLS_PER_FILE = 2
# The page's schedule while a file is checked (site/js/poll.js, with the jitter's shortest
# waits): 3 s, x1.6, at most 60 s, nothing after 5 minutes. The e2e test holds it to these.
LOOKS_FIRST_MINUTE = 5
LOOKS_PER_WINDOW = 11
# Owners behind one public IPv4 address. A household's NAT is 1-3; a mobile carrier's
# carrier-grade NAT shares one address among many subscribers, and an appeal goes to one
# neighbourhood, often on the same network: 2 % of the appeal behind one address.
OWNERS_PER_IP = 40
# Warm Lambda time per request (p99, assumed, not yet measured in AWS): a read is one or two
# DynamoDB calls; a write is a conditional write, or a presigned target and a write.
READ_S = 0.1
WRITE_S = 0.25
# Concurrent executions kept for officers whatever residents do (searches, cases, downloads).
OFFICER_CONCURRENCY = 50

# ---------------------------------------------------------------- AWS's own limits (documented)

# API Gateway: 10,000 requests/s per account and Region across all APIs (2,500 in the newer
# Regions), a burst of 5,000. Throttling settings apply to each method separately.
ACCOUNT_RPS_SMALLEST_REGION = 2_500
# WAF rate-based rules: limit at least 10 per evaluation window of 60, 120, 300 or 600 s.
WAF_MIN_LIMIT = 10
WAF_WINDOW_S = 300

# ---------------------------------------------------------------- derived

OWNERS_PER_S = APPEAL_OWNERS / ARRIVAL_S  # 33.3
# Method limits in requests per second; a burst of two seconds' worth.
PUBLIC_RATE_LIMIT = 10  # public routes an appeal does not use (registering, managing)
STAGE_RATE_LIMIT = 50  # the stage's default: every officer method, each on its own
HEALTH_RATE_LIMIT = 5  # a few monitors; /health keeps no AWS call off for more than 5 min
BURST_SECONDS = 2

# (method, path as API Gateway names it) -> requests/s, and the Lambda time each takes.
APPEAL_ROUTES: Dict[Tuple[str, str], Tuple[int, float]] = {
    # exchanging the emailed link for a session: once per owner
    ("POST", "/owner/sessions"): (math.ceil(OWNERS_PER_S), READ_S),
    # the page's first load and its looks while files are checked, all in one minute
    ("GET", "/owner/requests/{request_id}"): (math.ceil(OWNERS_PER_S * (1 + LOOKS_FIRST_MINUTE)), READ_S),
    ("POST", "/owner/requests/{request_id}/uploads"): (math.ceil(OWNERS_PER_S * FILES_PER_OWNER), WRITE_S),
    ("POST", "/owner/requests/{request_id}/uploads/{upload_id}/complete"): (
        math.ceil(OWNERS_PER_S * FILES_PER_OWNER), WRITE_S),
    # finishing or declining: once per owner
    ("POST", "/owner/requests/{request_id}/complete"): (math.ceil(OWNERS_PER_S), WRITE_S),
    ("POST", "/owner/requests/{request_id}/decline"): (math.ceil(OWNERS_PER_S), WRITE_S),
}


# Public routes quieter than the default: the yearly re-confirmation (issue 13). Housekeeping
# asks at most reconfirm_steps_per_run owners an hour, who answer over the following days.
QUIET_ROUTES: Dict[Tuple[str, str], Tuple[int, float]] = {
    ("POST", "/owner/confirmations/preview"): (2, READ_S),
    ("POST", "/owner/confirmations"): (2, WRITE_S),
}


def _route(method: Tuple[str, str]) -> Tuple[int, float]:
    return APPEAL_ROUTES.get(method) or QUIET_ROUTES.get(method) or (PUBLIC_RATE_LIMIT, WRITE_S)


def burst(rate: int) -> int:
    return rate * BURST_SECONDS


def method_rate(method: str, path: str) -> int:
    """The throttle of a public method (``/registrations...`` or ``/owner...``)."""
    return _route((method, path))[0]


def resident_concurrency(public_methods) -> int:
    """Lambda executions residents can hold at most: each public method's throttle times its
    time (those not in an appeal counted as writes)."""
    return math.ceil(sum(rate * seconds for rate, seconds in (_route(m) for m in public_methods)))


# WAF, per IP address and 5-minute window. An owner in one window: 1 page load, the looks,
# the files, finishing (the /owner/requests/ paths), and the link exchange plus a reload or
# two on the other public paths.
OWNER_REQUEST_CALLS_PER_WINDOW = 1 + LOOKS_PER_WINDOW + FILES_PER_OWNER * CALLS_PER_FILE + 1  # 23
PUBLIC_CALLS_PER_WINDOW = 2


def round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


OWNER_REQUESTS_PER_IP = round_up(OWNERS_PER_IP * OWNER_REQUEST_CALLS_PER_WINDOW, 100)  # 1,000
PUBLIC_PER_IP = round_up(OWNERS_PER_IP * PUBLIC_CALLS_PER_WINDOW, 50)  # 100
# A monitor every 10 s is 30 a window; two of them behind one address fit.
HEALTH_PER_IP = 2 * WAF_WINDOW_S // 10  # 60
