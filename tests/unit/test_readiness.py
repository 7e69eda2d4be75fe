"""Readiness: a success is kept for a while, a failure never."""
from __future__ import annotations

from chalicelib.base.readiness import Readiness


class Probe:
    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.answers.pop(0)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_success_is_kept_until_the_recheck_time_then_asked_again():
    probe, clock = Probe([True, True]), Clock()
    readiness = Readiness(probe, recheck_after_s=300, clock=clock)
    assert all(readiness.ready() for _ in range(100))
    clock.now += 299
    assert readiness.ready() and probe.calls == 1
    clock.now += 1
    assert readiness.ready() and probe.calls == 2


def test_failure_is_asked_again_at_once():
    probe, clock = Probe([False, False, True]), Clock()
    readiness = Readiness(probe, recheck_after_s=300, clock=clock)
    assert [readiness.ready() for _ in range(4)] == [False, False, True, True]
    assert probe.calls == 3
