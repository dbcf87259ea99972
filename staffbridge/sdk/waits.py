"""Waits a person can see and stop: the rate limiter's, the retry backoff's and a vendor's Retry-After.

Every wait of an adapter goes through its `Waits`: `waits.sleep(seconds, why)` sleeps on an event, so
`waits.interrupt()` (a job stopping on Ctrl-C) wakes every thread at once and each raises `Interrupted`
instead of sleeping out a two-minute vendor window. While a wait is on, `current_waits()` names it and
says until when, for a progress line ("waiting 48 s for moco (rate limit)"). A second of waiting or
less is not shown: that is the ordinary pace of a rate limit, not news.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Interrupted", "Wait", "Waits", "current_waits"]

SHOWN_AFTER = 1.0  # seconds: shorter waits are not reported to progress lines


class Interrupted(KeyboardInterrupt):
    """A wait was cut short because the run is stopping (Ctrl-C): nothing more is sent."""


@dataclass(frozen=True)
class Wait:
    who: str  # the vendor, e.g. "moco"
    why: str  # "rate limit", "retry", "Retry-After"
    until: float  # time.monotonic() when it ends

    def text(self, now: float | None = None) -> str:
        left = max(0.0, self.until - (time.monotonic() if now is None else now))
        return f"waiting {left:.0f} s for {self.who} ({self.why})"


_current: dict[int, Wait] = {}  # thread id -> the wait it is in, for every adapter of the process
_current_lock = threading.Lock()


def current_waits() -> list[Wait]:
    """The waits going on now (longer than a second), longest first."""
    with _current_lock:
        waits = list(_current.values())
    return sorted(waits, key=lambda wait: wait.until, reverse=True)


class Waits:
    """The waits of one adapter (shared by its copies and threads)."""

    def __init__(self, who: str = "vendor") -> None:
        self.who = who
        self._stop = threading.Event()

    def sleep(self, seconds: float, why: str = "retry") -> None:
        """Sleeps `seconds`, or raises Interrupted as soon as `interrupt()` is called."""
        if seconds <= 0:
            self.check()
            return
        shown = seconds > SHOWN_AFTER
        if shown:
            with _current_lock:
                _current[threading.get_ident()] = Wait(self.who, why, time.monotonic() + seconds)
        try:
            if self._stop.wait(seconds):
                raise Interrupted(f"{self.who}: stopped while waiting for its {why}")
        finally:
            if shown:
                with _current_lock:
                    _current.pop(threading.get_ident(), None)

    def check(self) -> None:
        """Raises Interrupted when the run is stopping: nothing new is sent."""
        if self._stop.is_set():
            raise Interrupted(f"{self.who}: stopped")

    def interrupt(self) -> None:
        """Every wait of this adapter, now and later, raises Interrupted until `clear()`."""
        self._stop.set()

    def clear(self) -> None:
        self._stop.clear()

    @contextmanager
    def stopping(self) -> Iterator[None]:
        """Every wait raises Interrupted while the block runs, and not after it: a job on Ctrl-C (or a
        failure) winds down its threads inside, so none sleeps out a vendor window or sends anything
        new, and the adapter is usable again afterwards."""
        self.interrupt()
        try:
            yield
        finally:
            self.clear()

    @property
    def interrupted(self) -> bool:
        return self._stop.is_set()
