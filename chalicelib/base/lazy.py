"""Collaborators built once per process, on first use, never at import.

A Lambda container serves many events; its clients, queues and key sets are built by the first
event that needs them and kept. Tests and the local stack change the environment between runs
and call :func:`reset_all` (or ``set`` a fake) instead of reaching into module globals.
"""
from __future__ import annotations

import threading
from typing import Callable, Generic, List, Optional, TypeVar

T = TypeVar("T")

_ALL: List["Lazy"] = []
_RESET_HOOKS: List[Callable[[], None]] = []


class Lazy(Generic[T]):
    """``get()`` builds the value with ``build`` once (thread-safe) and keeps it."""

    def __init__(self, build: Callable[[], T]):
        self._build = build
        self._value: Optional[T] = None
        self._lock = threading.Lock()
        _ALL.append(self)

    def __call__(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
                value = self._value
        return value

    def peek(self) -> Optional[T]:
        """The value if it has been built, without building it."""
        return self._value

    def set(self, value: Optional[T]) -> None:
        """Use ``value`` instead of building one (tests); ``None`` builds afresh on next use."""
        with self._lock:
            self._value = value

    def reset(self) -> None:
        self.set(None)


def on_reset(hook: Callable[[], None]) -> Callable[[], None]:
    """Run ``hook`` on :func:`reset_all` (for caches that are not a single value)."""
    _RESET_HOOKS.append(hook)
    return hook


def reset_all() -> None:
    """Forget everything built so far: the next use reads the configuration afresh."""
    for lazy in _ALL:
        lazy.reset()
    for hook in _RESET_HOOKS:
        hook()
