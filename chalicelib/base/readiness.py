"""Whether the API can serve: its tables and queue exist. Asked of AWS rarely, answered often.

The deep check costs one DescribeTable per table and one GetQueueUrl (8 AWS calls today). A
container that has seen everything exist keeps saying so for ``recheck_after_s`` without asking
again: a table or queue does not vanish between two requests, and a monitor polling /health
(or a flood of it) must not turn into a flood of control-plane calls, which AWS throttles
account-wide (docs/decisions.md, 2026-12-02 "Under a big appeal"). A failure is never kept:
the next request checks again, so the local stack's start-up wait still sees the moment the
last table appears.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

# Five minutes: the same window as the WAF's per-IP counts, and short enough that a container
# started before a broken deployment reports it within one monitoring interval or two.
RECHECK_AFTER_S = 300.0


class Readiness:
    """``probe()`` returns True when everything the API needs exists (and may raise)."""

    def __init__(self, probe: Callable[[], bool], *, recheck_after_s: float = RECHECK_AFTER_S,
                 clock: Callable[[], float] = time.monotonic):
        self._probe = probe
        self._recheck_after_s = recheck_after_s
        self._clock = clock
        self._ready_until = float("-inf")
        self._lock = threading.Lock()

    def ready(self) -> bool:
        if self._clock() < self._ready_until:
            return True
        # One probe at a time: requests that arrive meanwhile wait for its answer.
        with self._lock:
            if self._clock() < self._ready_until:
                return True
            if not self._probe():
                return False
            self._ready_until = self._clock() + self._recheck_after_s
            return True
