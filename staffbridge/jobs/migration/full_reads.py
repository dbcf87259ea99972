"""Full reads of matched target records, for vendors whose listing shows less than they store
(WhosOff's has no phones): only a read can tell whether such a field already holds the value.

A read starts as soon as the plan knows it wants one, in a pool of `workers` threads on the target's
budget, and each record is read at most once. build.py starts them while the source is still being
read (a matched person's source record and the target's listing are all a read needs), so the
target's budget is not idle while the source pages come in; `confirm` then diffs against what was
read. A read started for a person the rest of the source turns into a conflict (a later record with
the same email) is not used: a read, never a write.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from staffbridge.jobs.migration.steps import Step
from staffbridge.jobs.migration.translate import Translator
from staffbridge.jobs.progress import ProgressGuard
from staffbridge.model.person import Person
from staffbridge.sdk.adapter import Adapter

__all__ = ["FullReads"]


class FullReads:
    """Target records read in full, by id. Used as a context: leaving it on an error (Ctrl-C, a
    failing source) drops the reads not yet started and wakes those waiting for the rate limit."""

    def __init__(self, target: Adapter, workers: int) -> None:
        self.target = target
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="staffbridge-plan")
        self._reads: dict[str, Future[Person]] = {}

    def __enter__(self) -> FullReads:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None:
            self._pool.shutdown(wait=True)
            return
        with self.target.waits.stopping():
            self._pool.shutdown(wait=True, cancel_futures=True)

    def start(self, target_id: str) -> None:
        """Starts reading `target_id` in full, unless it is read already."""
        if target_id not in self._reads:
            self._reads[target_id] = self._pool.submit(self.target.get, target_id)

    @property
    def started(self) -> int:
        return len(self._reads)

    def confirm(self, steps: list[Step], translator: Translator, report: ProgressGuard) -> None:
        """Diffs each step against its target record read in full instead of the listing."""
        for step in steps:
            assert step.target is not None and step.target.id is not None
            self.start(step.target.id)
        for done, step in enumerate(steps, 1):
            self._settle(step, translator)
            report(done, len(steps), "checking target")

    def _settle(self, step: Step, translator: Translator) -> None:
        assert step.target is not None and step.target.id is not None and step.wanted is not None
        try:
            full = self._reads[step.target.id].result()
        except Exception as exc:  # the listing's diff stands; the write will tell
            step.notes.append(
                f"could not read {self.target.name} record {step.target.id} in full "
                f"({type(exc).__name__}); planned from the listing"
            )
            return
        step.target = full
        step.changes = translator.changes(full, step.wanted)
        step.action = "update" if step.changes else "unchanged"
