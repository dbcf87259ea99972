"""Applying a migration plan: the writes, in parallel, journalled, one report row per record.

`Plan.apply()` hands its steps to an `Applier`; this module knows steps, not plans, so imports go one
way (run -> plan -> apply -> steps).

Each write is journalled before it is sent and after it is answered (see journal.py). A create whose
journal entry is still "creating" from a run that was killed is looked up in the target first: by
`adapter.find_existing`, else by the match keys over a fresh listing. Failures never stop the run:
each becomes a failed row with its reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from staffbridge.jobs.migration.report import Report, Row
from staffbridge.jobs.migration.steps import Step
from staffbridge.jobs.migration.translate import Translator
from staffbridge.jobs.progress import ProgressGuard
from staffbridge.jobs.sync.matching import Key, Matcher
from staffbridge.jobs.sync.read import list_everyone
from staffbridge.model.errors import (
    AuthenticationError,
    MappingError,
    NotFound,
    PersonValidationError,
    RateLimited,
    StaffbridgeError,
    UnsupportedOperation,
    VendorValidationError,
)
from staffbridge.model.person import Person
from staffbridge.model.redaction import scrub_text
from staffbridge.sdk.adapter import Adapter
from staffbridge.sdk.passwords import OneTimePasswords
from staffbridge.sdk.waits import Interrupted
from staffbridge.store.journal import Journal

log = logging.getLogger("staffbridge.migrate")

# the vendor certainly did not act on these: a create that failed so is not "in flight"
NOT_WRITTEN = (
    PersonValidationError,
    MappingError,
    VendorValidationError,
    UnsupportedOperation,
    AuthenticationError,
    NotFound,
    RateLimited,
)


class MigrationInterrupted(KeyboardInterrupt):
    """The run was stopped (Ctrl-C) before it finished: `report` has a row for each record written
    (or found failed) before that; the journal knows the rest, so a rerun with it resumes."""

    def __init__(self, report: Report) -> None:
        super().__init__("interrupted")
        self.report = report


class Applier:
    """Writes steps into `target`, journalled in `journal`, `workers` at a time. `translator` diffs a
    record an interrupted run created; `keys` find such a record when the adapter cannot."""

    def __init__(
        self,
        target: Adapter,
        journal: Journal,
        *,
        translator: Translator | None,
        keys: Sequence[Key],
        workers: int,
        progress: ProgressGuard,
        welcome_email: bool | None,
    ) -> None:
        self.target = target
        self.journal = journal
        self.translator = translator
        self.keys = keys
        self.workers = workers
        self.progress = progress
        self.welcome_email = welcome_email
        self.passwords = OneTimePasswords(target)
        self._fresh: Matcher[Person] | None = None
        self._fresh_lock = threading.Lock()

    # ------------------------------------------------------------------ the run
    def run(
        self, steps: list[Step], notes: Sequence[str] = (), read_error: str | None = None, pair: str = ""
    ) -> Report:
        """Writes `steps` (a plan's, in order); `notes` and the source's `read_error` go in the report."""
        started = time.perf_counter()
        sent_before = self._requests_sent()
        rows: list[Row | None] = [None] * len(steps)
        notes = list(notes)
        if "welcome_email" not in self.passwords.options and self.welcome_email:
            notes.append(f"{self.target.name} cannot send a welcome email; none was asked for")

        writes, deletes, settled = [], [], []
        for index, step in enumerate(steps):
            if step.action in ("create", "update"):
                writes.append(index)
            elif step.action == "delete":
                deletes.append(index)
            elif step.action == "unchanged":
                rows[index] = step.row("ok")
                settled.append((step.key, "done", step.source_id, step.target_id, "unchanged", None, step.digest))
            else:  # conflict, cannot_migrate: nothing is written for them
                rows[index] = step.row("failed")
        self.journal.mark_many(settled)
        done = len(steps) - len(writes) - len(deletes)
        self.progress(done, len(steps), "writing")
        interrupted = False
        try:
            done = self._run_all(steps, writes, rows, done, len(steps), "writing")
            self._run_all(steps, deletes, rows, done, len(steps), "deleting")
        except KeyboardInterrupt:
            interrupted = True
            left = sum(1 for index in (*writes, *deletes) if rows[index] is None)
            notes.append(f"stopped (Ctrl-C) with {left} of {len(writes) + len(deletes)} writes not done")

        creates = any(step.action == "create" for step in steps)
        if self.passwords.required and creates:  # known for sure only now
            notes.append(
                f"{self.target.name} needs a password on create: each new person got a random one, "
                "stored nowhere; they set their own with the vendor's password reset"
            )
        result = [row for row in rows if row is not None]
        if read_error:
            result.insert(
                0,
                Row(
                    None,
                    None,
                    "read",
                    "failed",
                    f"the source could not be read completely ({read_error}); "
                    "what was read is migrated, nothing is deleted",
                ),
            )
        stats = {
            "seconds": round(time.perf_counter() - started, 3),
            "target_requests": self._requests_sent() - sent_before,
            "workers": self.workers,
        }
        report = Report(result, source_complete=read_error is None, notes=notes, stats=stats)
        if interrupted:
            log.info("migration %s stopped: %s", pair, report.totals)
            raise MigrationInterrupted(report)
        log.info("migration %s finished: %s", pair, report.totals)
        return report

    def _run_all(
        self, steps: list[Step], indexes: list[int], rows: list[Row | None], done: int, total: int, label: str
    ) -> int:
        if not indexes:
            return done
        work: Callable[[Step], Row] = self.delete if label == "deleting" else self.write
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="staffbridge-migrate") as pool:
            pending: dict[Future[Row], int] = {}
            queue = iter(indexes)
            try:
                # keep a few more tasks queued than workers, not 10,000 futures at once
                for index in queue:
                    pending[pool.submit(self._guarded, work, steps[index])] = index
                    if len(pending) >= self.workers * 4:
                        break
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        rows[pending.pop(future)] = future.result()
                        done += 1
                        self.progress(done, total, label)
                        following = next(queue, None)
                        if following is not None:
                            pending[pool.submit(self._guarded, work, steps[following])] = following
            except BaseException:
                # Ctrl-C (or a bug): wake every worker waiting for the vendor's rate limit or a retry,
                # so none sends anything new; what is in flight finishes and is journalled and reported
                with self.target.waits.stopping():
                    pool.shutdown(wait=True, cancel_futures=True)
                for future, index in pending.items():
                    if future.done() and not future.cancelled() and future.exception() is None:
                        rows[index] = future.result()
                raise
        return done

    def _guarded(self, work: Callable[[Step], Row], step: Step) -> Row:
        try:
            return work(step)
        except Exception as exc:  # an adapter's bug must not take the rest of the run down with it
            log.warning("%s of %s failed unexpectedly: %s", step.action, step.label, type(exc).__name__)
            return step.row("failed", f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ one record
    def write(self, step: Step) -> Row:
        if step.action == "update":
            return self.update(step, step.target_id or "")
        return self.create(step)

    def create(self, step: Step) -> Row:
        assert step.wanted is not None and step.key is not None
        entry = self.journal.get(step.key)
        if entry is not None and entry.in_flight:
            try:
                existing = self.existing(step.wanted)
            except StaffbridgeError as exc:
                return self._failed(
                    step, "failed", f"could not check whether an interrupted run created this person already: {exc}"
                )
            if existing is not None:
                log.info("%s: an interrupted run had created it as %s; not creating again", step.label, existing.id)
                return self.catch_up(step, existing)
        self.journal.mark(step.key, "creating", source_id=step.source_id, action="create")
        return self._create(step)

    def _create(self, step: Step) -> Row:
        with self.passwords.for_create() as password:
            return self._send_create(step, password)

    def _send_create(self, step: Step, password: str | None) -> Row:
        assert step.wanted is not None and step.key is not None
        options: dict[str, Any] = {"password": password} if password is not None else {}
        if self.welcome_email is not None and "welcome_email" in self.passwords.options:
            options["welcome_email"] = self.welcome_email
        try:
            created = self.target.create(step.wanted, **options)
        except Interrupted:  # raised only before the create went out: nothing to look for next time
            self.journal.mark(step.key, "failed", source_id=step.source_id, reason="stopped before it was sent")
            raise
        except PersonValidationError as exc:
            if self.passwords.learn(exc, password):  # the signature said optional, the adapter required
                return self._create(step)
            return self._failed(step, "failed", scrub_text(_reason(exc), [password] if password else []))
        except Exception as exc:
            reason = scrub_text(_reason(exc), [password] if password else [])
            # an answer that never came may hide a record that was made: keep it "creating" to look first
            state = "failed" if isinstance(exc, NOT_WRITTEN) else "creating"
            return self._failed(step, state, reason)
        self.journal.mark(step.key, "done", target_id=created.id, action="create", digest=step.digest)
        log.debug("created %s as %s#%s", step.label, self.target.name, created.id)
        return step.row("ok", target_id=created.id)

    def catch_up(self, step: Step, existing: Person) -> Row:
        """The record an interrupted run created: journal it, and update whatever still differs."""
        assert step.wanted is not None and step.key is not None and self.translator is not None
        changes = self.translator.changes(existing, step.wanted)
        if changes:
            try:
                self.target.update(existing.id or "", {c.field: c.after for c in changes})
            except Exception as exc:
                self.journal.mark(step.key, "failed", target_id=existing.id, reason=_reason(exc))
                return step.row(
                    "failed",
                    f"created by an interrupted run as {existing.id}; its update failed: {_reason(exc)}",
                    target_id=existing.id,
                )
        self.journal.mark(step.key, "done", target_id=existing.id, action="create", digest=step.digest)
        return step.row(
            "ok", "created by an interrupted run; found in the target, not created again", target_id=existing.id
        )

    def update(self, step: Step, target_id: str) -> Row:
        assert step.key is not None
        self.journal.mark(step.key, "updating", source_id=step.source_id, target_id=target_id, action="update")
        try:
            self.target.update(target_id, {change.field: change.after for change in step.changes})
        except Exception as exc:
            return self._failed(step, "failed", _reason(exc))
        self.journal.mark(step.key, "done", target_id=target_id, action="update", digest=step.digest)
        return step.row("ok")

    def delete(self, step: Step) -> Row:
        assert step.key is not None and step.target_id is not None
        self.journal.mark(step.key, "deleting", target_id=step.target_id, action="delete")
        try:
            self.target.delete(step.target_id)
        except NotFound:
            pass  # already gone: what was wanted
        except Exception as exc:
            return self._failed(step, "failed", _reason(exc))
        self.journal.mark(step.key, "deleted", target_id=step.target_id, action="delete")
        return step.row("ok")

    def _failed(self, step: Step, state: str, reason: str) -> Row:
        assert step.key is not None
        self.journal.mark(step.key, state, source_id=step.source_id, reason=reason)
        log.info("%s of %s failed: %s", step.action, step.label, reason)
        return step.row("failed", reason)

    # ------------------------------------------------------------------ looking before creating again
    def existing(self, wanted: Person) -> Person | None:
        """The target's record for `wanted`, if an earlier run made it."""
        found = self.target.find_existing(wanted)
        if found is not None:
            return found
        with self._fresh_lock:
            if self._fresh is None:
                self._fresh = Matcher(self.keys).extend(list_everyone(self.target))
        match = self._fresh.match(wanted)
        if match.conflict:
            raise StaffbridgeError(f"several {self.target.name} records may be this person ({match.reason})")
        return match.found

    def _requests_sent(self) -> int:
        transport = getattr(self.target, "transport", None)
        return int(getattr(transport, "requests_sent", 0) or 0)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, StaffbridgeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
