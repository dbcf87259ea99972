"""Building a migration plan: read both sides (`jobs.sync.read`), match, translate, diff. No writes happen here.

The target and the source are read at the same time (two systems, two rate budgets). The target is
read whole (a plan cannot be made without it: that failure is raised). A source read that raises
midway leaves the plan *incomplete*: what was read is still planned, but nothing is deleted, and the
plan says why. A source that fails before its first record (wrong credentials, unreachable, a bad
filter) raises: there is nothing to plan.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from staffbridge.jobs.migration.deletes import DeleteScope, delete_limit
from staffbridge.jobs.migration.plan import Plan
from staffbridge.jobs.migration.steps import Step
from staffbridge.jobs.migration.translate import Translator, digest
from staffbridge.jobs.progress import Progress, ProgressGuard
from staffbridge.jobs.sync.matching import Match, Matcher, describe_key
from staffbridge.jobs.sync.read import everyone_filters, read_everyone
from staffbridge.model.errors import ConfigError
from staffbridge.model.person import Person
from staffbridge.sdk.adapter import Adapter

log = logging.getLogger("staffbridge.migrate")

__all__ = ["build_plan"]


def source_key(person: Person, matcher: Matcher[Any], index: int) -> str:
    """The journal key of a source record: its id, else its first match-key value, else its position."""
    if person.id:
        return str(person.id)
    for key, value in matcher.values(person).items():
        return f"{describe_key(key)}:{'+'.join(value)}"
    return f"#{index}"


def build_plan(
    plan: Plan,
    written: dict[str, tuple[str, str | None]],
    source_filters: dict[str, Any] | None = None,
    max_delete: int | None = None,
) -> None:
    """Fills in `plan`: its step lists, completeness, notes. `written` is the journal's word on
    earlier runs: source key -> (target id, digest of what was written). `source_filters` narrow the
    source's everyone-listing; `max_delete` is the brake on deletes (deletes.py)."""
    source, target, keys, report = plan.source, plan.target, plan.keys, plan.progress
    filters = source.check_filters({**everyone_filters(source), **(source_filters or {})})  # typed: "yes" is True
    targets, (people, read_error) = read_both(source, target, filters, report)
    plan.source_complete = read_error is None
    plan.read_error = read_error
    plan.source_count, plan.target_count = len(people), len(targets)

    target_matcher: Matcher[Person] = Matcher(keys).extend(targets)
    by_id = {t.id: t for t in targets if t.id is not None}
    source_matcher: Matcher[Person] = Matcher(keys).extend(people)
    translator = Translator(target)
    translator.learn_refs(targets)
    plan.translator = translator

    links = {key: target_id for key, (target_id, _) in written.items()}

    # pass 1: who is who
    found: list[tuple[str, Match[Person], str | None]] = []
    claims: Counter[str] = Counter()  # target id -> source people matching it (and only it)
    protected: set[str] = set()  # every target record some source person may be: never deleted
    for index, person in enumerate(people):
        key = source_key(person, source_matcher, index)
        linked = by_id.get(links.get(key, ""))
        match = Match([linked], None, None) if linked is not None else target_matcher.match(person)
        duplicate = source_matcher.match(person, exclude=person)
        why = None
        if duplicate:
            label = f"{describe_key(duplicate.key or ())} {'+'.join(duplicate.value or ())!r}"
            others = ", ".join(d.label for d in duplicate.candidates[:3])
            why = f"source has another record with {label}: {others}"
        found.append((key, match, why))
        protected.update(c.id for c in match.candidates if c.id is not None)
        if match.unique and match.found is not None and match.found.id is not None:
            claims[match.found.id] += 1

    # pass 2: what to do with each
    dropped: Counter[str] = Counter()
    decided: list[Step] = []
    unsure: list[Step] = []  # updates that may only be gaps in the target's listing
    for person, (key, match, duplicate_reason) in zip(people, found, strict=False):
        step = Step("conflict", source=person, key=key)
        decided.append(step)
        if duplicate_reason or match.conflict:
            step.reason = duplicate_reason or f"several {target.name} records may be this person: {match.reason}"
            step.candidates = list(match.candidates)
            continue
        current = match.found
        if current is not None and current.id is not None and claims[current.id] > 1:
            step.target = current
            step.reason = f"{claims[current.id]} source records match {target.name} record {current.label}"
            continue
        step.target = current
        if person.problems:
            step.action, step.reason = (
                "cannot_migrate",
                "the source record could not be read: " + "; ".join(person.problems),
            )
            continue
        carried = translator.carry(person)
        dropped.update(carried.dropped)
        if carried.invalid:
            step.action, step.reason = "cannot_migrate", f"invalid: {carried.invalid}"
            continue
        step.wanted, step.digest = carried.wanted, digest(carried.wanted)
        if current is None:
            missing = translator.missing_for_create(carried)
            if missing:
                step.action, step.reason = "cannot_migrate", missing
                continue
            step.action = "create"
            step.notes = [f"{why}; created without it" for why in carried.unresolved.values()]
            continue
        step.notes = [f"{why}; left as it is" for why in carried.unresolved.values()]
        step.changes = translator.changes(current, carried.wanted)
        if any(translator.unseen(c) for c in step.changes):
            # Some vendors list less than they store (WhosOff's list has no phones): the listing
            # cannot say whether such a field already holds the value. What this migration wrote last
            # time (same record, same values) needs no second look; anything else is read in full.
            if written.get(key) == (current.id, step.digest):
                step.changes = [c for c in step.changes if not translator.unseen(c)]
            else:
                unsure.append(step)
        step.action = "update" if step.changes else "unchanged"
    confirm(unsure, target, translator, plan.workers, report)
    for step in decided:
        plan.add(step)
    plan.not_carried = dict(dropped.most_common())
    if dropped:
        plan.notes.append(
            f"{target.name} cannot store: "
            + ", ".join(f"{name} ({count} people)" for name, count in dropped.most_common())
        )

    if plan.delete_missing:
        if read_error is not None:
            plan.notes.append(f"no deletes: the source could not be read completely ({read_error})")
        elif not people:
            plan.notes.append(
                "no deletes: the source returned nobody, which looks like a wrong filter "
                "or account rather than an empty company"
            )
        else:
            scope = DeleteScope(filters, people, everyone_filters(source))
            plan_deletes(plan, [t for t in targets if t.id is not None and t.id not in protected], scope)
    plan.max_delete = delete_limit(max_delete, len(targets))
    if len(plan.deletes) > plan.max_delete:
        plan.notes.append(
            f"apply refuses: {len(plan.deletes)} deletes, over the limit of {plan.max_delete} (max_delete, "
            "--max-delete; by default 10 people or 5% of the target, whichever is larger): check the source "
            f"and its filters, or allow them with max_delete={len(plan.deletes)}"
        )


def plan_deletes(plan: Plan, unmatched: list[Person], scope: DeleteScope) -> None:
    """Plans deleting each target record no source person matches, unless the source never read it:
    those are left alone, counted, and the plan says why."""
    left_alone: Counter[tuple[str, str]] = Counter()
    for candidate in unmatched:
        untouched = scope.why_left_alone(candidate)
        if untouched is not None:
            left_alone[untouched] += 1
            continue
        plan.add(
            Step("delete", target=candidate, key=f"delete:{candidate.id}", reason=f"not in {source_label(plan.source)}")
        )
    plan.left_alone = sum(left_alone.values())
    for (kind, reason), count in left_alone.items():
        records = f"{count} {kind + ' ' if kind else ''}{plan.target.name} records"
        plan.notes.append(f"left alone: {records} no source person matches: {reason}")


def read_both(
    source: Adapter, target: Adapter, filters: dict[str, Any], report: ProgressGuard
) -> tuple[list[Person], tuple[list[Person], str | None]]:
    """The whole target and the source's people, read at the same time: two systems, two rate
    budgets, so neither waits for the other. The source is read in a second thread; the progress
    shows the target's count first, then the source's. A target that fails stops the source read
    (its waits are woken) and is raised; so is Ctrl-C."""
    target_read = threading.Event()

    def told(done: int, total: int | None, label: str) -> None:
        if target_read.is_set():
            report(done, total, label)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="staffbridge-read") as pool:
        reading = pool.submit(read_source, source, filters, told)
        try:
            targets = read_target(target, report)
        except BaseException:
            source.waits.interrupt()  # a source waiting for its rate limit stops now, not pages later
            try:
                wait([reading])
            finally:
                source.waits.clear()
            raise
        target_read.set()
        people, read_error = reading.result()
    report(len(people), None, "reading source")  # the count held back while the target was shown
    return targets, (people, read_error)


def read_target(target: Adapter, report: ProgressGuard) -> list[Person]:
    """The whole target: without it there is nothing to plan with, so a failure is raised."""
    listing = read_everyone(target, "reading target", report)
    if listing.error is not None:
        raise listing.error
    return listing.people


def read_source(
    source: Adapter, filters: dict[str, Any], report: ProgressGuard | Progress
) -> tuple[list[Person], str | None]:
    """The source's people, and why the read stopped early (None: read whole)."""
    source.check_source()  # a missing source file is an error, not nobody (the target may be made)
    listing = read_everyone(source, "reading source", report, filters)
    exc = listing.error
    if exc is None:
        return listing.people, None
    if not listing.people or isinstance(exc, ConfigError):
        raise exc  # nothing read at all (or a wrong filter): the run cannot start, say so loudly
    reason = f"stopped after {len(listing.people)} records: {type(exc).__name__}: {exc}"
    log.warning("source read incomplete: %s", reason)
    return listing.people, reason


def confirm(steps: list[Step], target: Adapter, translator: Translator, workers: int, report: ProgressGuard) -> None:
    """Reads each step's target record in full (in parallel) and diffs against that instead."""
    if not steps:
        return

    def reread(step: Step) -> None:
        assert step.target is not None and step.target.id is not None and step.wanted is not None
        try:
            full = target.get(step.target.id)
        except Exception as exc:  # the listing's diff stands; the write will tell
            step.notes.append(
                f"could not read {target.name} record {step.target.id} in full "
                f"({type(exc).__name__}); planned from the listing"
            )
            return
        step.target = full
        step.changes = translator.changes(full, step.wanted)
        step.action = "update" if step.changes else "unchanged"

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="staffbridge-plan") as pool:
        for done, _ in enumerate(pool.map(reread, steps), 1):
            report(done, len(steps), "checking target")


def source_label(source: Adapter) -> str:
    return f"the {source.name} source"
