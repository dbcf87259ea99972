"""Reading a migration's two sides at the same time: two systems, two rate budgets, so neither waits
for the other.

`BothSides` reads the source in a thread while the caller reads the target. The caller may look at
the source's people as they arrive (`arrivals`) and start work the target's budget allows before the
source is read through (build.py starts the full reads of matched records that way). The target is
read whole: a plan cannot be made without it, so that failure is raised. A source read that raises
midway leaves the plan *incomplete*: what was read is still planned, and the plan says why. A
source that fails before its first record (wrong credentials, unreachable, a bad filter) raises.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any

from staffbridge.jobs.progress import Progress, ProgressGuard
from staffbridge.jobs.sync.read import read_everyone
from staffbridge.model.errors import ConfigError
from staffbridge.model.person import Person
from staffbridge.sdk.adapter import Adapter

log = logging.getLogger("staffbridge.migrate")

__all__ = ["BothSides"]

_END = None  # what `arrivals` gets when the source read has ended, however it ended


class BothSides:
    """The source read in a thread, the target in the caller's (`read_target`). Used as a context:
    leaving it on an error (a failing target, Ctrl-C) wakes the source's waits and waits for its
    thread, so a source waiting for its rate limit stops now, not pages later.

    The progress shows the target's count first, then the source's."""

    def __init__(self, source: Adapter, target: Adapter, filters: dict[str, Any], report: ProgressGuard) -> None:
        self.source, self.target = source, target
        self.filters, self.report = filters, report
        self._target_read = threading.Event()
        self._arrived: queue.SimpleQueue[Person | None] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="staffbridge-read")
        self._reading: Future[tuple[list[Person], str | None]] | None = None

    def __enter__(self) -> BothSides:
        self._reading = self._pool.submit(self._read_source)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is not None and self._reading is not None:
            with self.source.waits.stopping():
                wait([self._reading])
        self._pool.shutdown(wait=True)

    def read_target(self) -> list[Person]:
        """The whole target: without it there is nothing to plan with, so a failure is raised."""
        listing = read_everyone(self.target, "reading target", self.report)
        if listing.error is not None:
            raise listing.error
        self._target_read.set()
        return listing.people

    def arrivals(self) -> Iterator[Person]:
        """The source's people in the order they are read, as they arrive; ends with the source read
        (however it ends: `source_people` says how). Read it once, from one thread."""
        yield from iter(self._arrived.get, _END)

    def source_people(self) -> tuple[list[Person], str | None]:
        """The source's people, and why the read stopped early (None: read whole). Waits for it."""
        assert self._reading is not None, "BothSides is used as a context"
        people, read_error = self._reading.result()
        self.report(len(people), None, "reading source")  # the count held back while the target was shown
        return people, read_error

    def _told(self, done: int, total: int | None, label: str) -> None:
        if self._target_read.is_set():
            self.report(done, total, label)

    def _read_source(self) -> tuple[list[Person], str | None]:
        # handed over one person at a time: a batch would sit unseen while a slow source fetches its
        # next page (measured: no dearer than batches of 100 for 10,000 people)
        try:
            return read_source(self.source, self.filters, self._told, self._arrived.put)
        finally:
            self._arrived.put(_END)


def read_source(
    source: Adapter,
    filters: dict[str, Any],
    report: ProgressGuard | Progress,
    each: Callable[[Person], object] | None = None,
) -> tuple[list[Person], str | None]:
    """The source's people, and why the read stopped early (None: read whole). `each(person)` is
    told of each person as it is read."""
    source.check_source()  # a missing source file is an error, not nobody (the target may be made)
    listing = read_everyone(source, "reading source", report, filters, each=each)
    exc = listing.error
    if exc is None:
        return listing.people, None
    if not listing.people or isinstance(exc, ConfigError):
        raise exc  # nothing read at all (or a wrong filter): the run cannot start, say so loudly
    reason = f"stopped after {len(listing.people)} records: {type(exc).__name__}: {exc}"
    log.warning("source read incomplete: %s", reason)
    return listing.people, reason
