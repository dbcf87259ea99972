"""Progress callbacks, guarded once for every job: a broken progress bar must never break the run it shows.

A job calls `progress(done, total, label)` as work goes on; `total` is None while it is not known
yet (reading a listing). `guarded(progress)` wraps the caller's callback: an exception from it is
logged once, as a warning, and the run carries on without it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["Progress", "ProgressGuard", "guarded"]

log = logging.getLogger("staffbridge.progress")

Progress = Callable[[int, "int | None", str], None]


class ProgressGuard:
    """Calls a progress callback (or nothing, for None) without letting it fail the caller."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self._warned = False

    def __call__(self, done: int, total: int | None, label: str) -> None:
        if self.progress is None:
            return
        try:
            self.progress(done, total, label)
        except Exception as exc:  # a progress bar must never break the work it shows
            if not self._warned:
                log.warning("progress callback failed (%s: %s); carrying on without it", type(exc).__name__, exc)
                self._warned = True


def guarded(progress: Progress | ProgressGuard | None) -> ProgressGuard:
    """`progress` guarded (a guard already is one: wrapping twice would warn twice)."""
    return progress if isinstance(progress, ProgressGuard) else ProgressGuard(progress)
