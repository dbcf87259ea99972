"""Building a migration plan: read both sides (reading.py), match, translate, diff. No writes happen here.

The target and the source are read at the same time (two systems, two rate budgets). While the
source pages come in, each person it sends is looked at against the target's listing, and the full
reads of matched records the plan will need start at once (full_reads.py), on the target's budget
that would otherwise idle. Only then, with everyone read, is each person planned: a later source
record can still make an earlier one a conflict, and deletes need the whole source. A source read
that stopped midway leaves the plan *incomplete*: what was read is still planned, but nothing is
deleted, and the plan says why.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from staffbridge.jobs.migration.deletes import DeleteScope, delete_limit
from staffbridge.jobs.migration.full_reads import FullReads
from staffbridge.jobs.migration.plan import Plan
from staffbridge.jobs.migration.reading import BothSides
from staffbridge.jobs.migration.sight import Sight, WhoIsWho
from staffbridge.jobs.migration.steps import Step
from staffbridge.jobs.sync.read import everyone_filters
from staffbridge.model.person import Person
from staffbridge.sdk.adapter import Adapter

log = logging.getLogger("staffbridge.migrate")

__all__ = ["build_plan"]


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
    with BothSides(source, target, filters, report) as sides, FullReads(target, plan.workers) as full_reads:
        targets = sides.read_target()
        sight = Sight(target, targets, keys, written)
        plan.translator = sight.translator
        who = WhoIsWho(sight, keys)
        for person in sides.arrivals():
            # the source is still being read: match its people as they come, and start the full
            # reads they already need (unless an earlier source record is a duplicate: a conflict)
            key, match = who.add(person)
            wanted = sight.full_read_wanted(person, key, match) if sight.listing_may_hide else None
            if wanted is not None and who.duplicate(person) is None:  # among the people so far
                full_reads.start(wanted)
        people, read_error = sides.source_people()
        assert len(who.people) == len(people), "every person read arrives"
        plan.source_complete = read_error is None
        plan.read_error = read_error
        plan.source_count, plan.target_count = len(people), len(targets)
        decided, unsure = plan_people(plan, sight, who)
        full_reads.confirm(unsure, sight.translator, report)
        log.debug("full reads: %d started, %d used", full_reads.started, len(unsure))
    for step in decided:
        plan.add(step)  # after the full reads: they may turn an update into unchanged

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
            unmatched = [t for t in targets if t.id is not None and t.id not in who.protected]
            plan_deletes(plan, unmatched, scope)
    plan.max_delete = delete_limit(max_delete, len(targets))
    if len(plan.deletes) > plan.max_delete:
        plan.notes.append(
            f"apply refuses: {len(plan.deletes)} deletes, over the limit of {plan.max_delete} (max_delete, "
            "--max-delete; by default 10 people or 5% of the target, whichever is larger): check the source "
            f"and its filters, or allow them with max_delete={len(plan.deletes)}"
        )


def plan_people(plan: Plan, sight: Sight, who: WhoIsWho) -> tuple[list[Step], list[Step]]:
    """Pass 2: a step for each source person, and among them the updates only a full read can confirm."""
    translator, claims = sight.translator, who.claims
    # pass 2: what to do with each
    dropped: Counter[str] = Counter()
    decided: list[Step] = []
    unsure: list[Step] = []  # updates that may only be gaps in the target's listing
    for person, (key, match) in zip(who.people, who.found, strict=True):
        step = Step("conflict", source=person, key=key)
        duplicate_reason = who.duplicate(person)
        decided.append(step)
        if duplicate_reason or match.conflict:
            step.reason = duplicate_reason or f"several {plan.target.name} records may be this person: {match.reason}"
            step.candidates = list(match.candidates)
            continue
        current = match.found
        if current is not None and current.id is not None and claims[current.id] > 1:
            step.target = current
            step.reason = f"{claims[current.id]} source records match {plan.target.name} record {current.label}"
            continue
        step.target = current
        if person.problems:
            step.action, step.reason = (
                "cannot_migrate",
                "the source record could not be read: " + "; ".join(person.problems),
            )
            continue
        look = sight.look(person, key, current)
        carried = look.carried
        dropped.update(carried.dropped)
        if carried.invalid:
            step.action, step.reason = "cannot_migrate", f"invalid: {carried.invalid}"
            continue
        step.wanted, step.digest = carried.wanted, look.digest
        if current is None:
            missing = translator.missing_for_create(carried)
            if missing:
                step.action, step.reason = "cannot_migrate", missing
                continue
            step.action = "create"
            step.notes = [f"{why}; created without it" for why in carried.unresolved.values()]
            continue
        step.notes = [f"{why}; left as it is" for why in carried.unresolved.values()]
        step.changes = look.changes
        if look.needs_full_read:
            unsure.append(step)
        step.action = "update" if step.changes else "unchanged"
    plan.not_carried = dict(dropped.most_common())
    if dropped:
        plan.notes.append(
            f"{plan.target.name} cannot store: "
            + ", ".join(f"{name} ({count} people)" for name, count in dropped.most_common())
        )
    return decided, unsure


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


def source_label(source: Adapter) -> str:
    return f"the {source.name} source"
