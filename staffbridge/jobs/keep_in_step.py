"""Keep one tenant's systems in step: unify them, then push what the authority says to the receivers.

    report = keep_in_step(tenant, store)          # a plain function: Celery, a cron job or a test call it

1. Read: `unify` over every system of the tenant, its state (cursors, snapshots, crosswalk) in the
   tenant's scoped `store`, so systems that can are read incrementally and unified ids stay put.
2. Plan, per receiver, from the unified directory (the migration's `Plan`/`Step`, so the writes are
   the migration's): a person the authority has and the receiver lacks is created (a new hire); a
   person both have gets the fields that differ (the merged values: the authority's, or a field's own
   authority per `authority_per_field`); a leaver (inactive in the authority, or gone from a whole
   read of it) is deactivated, or deleted where the rules allow deletes. Nothing is written to a
   receiver whose read failed, and nothing at all when the authority's read failed.
3. Delete brake: a run that would treat more than `delete_brake` people of one receiver as leavers
   touches none of them and says so (a wrong filter or a broken account looks like mass leaving).
4. Write: `Plan.apply`, journalled per receiver in the tenant's store ("moco->whosoff"), so a run
   killed at any point and run again sends no create twice (an in-flight create is looked up first),
   and the fresh read of the rerun shows what already landed.

An exception that is not a `StaffbridgeError` of one record (e.g. a spent rate budget, see
`staffbridge.faces.platform.budget`) stops the run where it is; the state and journal hold what was
done, and the next run goes on from there.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from staffbridge.jobs.migration.plan import Plan
from staffbridge.jobs.migration.report import Report
from staffbridge.jobs.migration.steps import Step
from staffbridge.jobs.migration.translate import Change, Translator
from staffbridge.jobs.sync.matching import parse_keys
from staffbridge.jobs.unification.directory import REMOVED, Directory, UnifiedPerson
from staffbridge.jobs.unification.run import unify
from staffbridge.model.compare import is_empty
from staffbridge.model.person import Person, person_changes
from staffbridge.sdk.adapter import Adapter
from staffbridge.store.base import Store
from staffbridge.store.journal import Journal
from staffbridge.store.tenants import SyncRules, Tenant

__all__ = ["SyncReport", "keep_in_step", "plan_receiver"]

log = logging.getLogger("staffbridge.keep_in_step")


@dataclass
class SyncReport:
    """What one sync of one tenant did (counts only: no personal data, no settings)."""

    tenant: str
    people: int = 0
    conflicts: int = 0
    reads: dict[str, str] = field(default_factory=dict)  # system -> full | incremental | failed
    written: dict[str, dict[str, int]] = field(default_factory=dict)  # receiver -> action -> records written
    failures: list[str] = field(default_factory=list)  # why a read or a write failed, one line each
    braked: list[str] = field(default_factory=list)  # receivers the delete brake stopped
    notes: list[str] = field(default_factory=list)  # what could not be done and never will (no active flag)
    requests: int = 0  # HTTP requests sent to the vendors in this run

    @property
    def counts(self) -> dict[str, int]:
        totals = {"people": self.people, "created": 0, "updated": 0, "deactivated": 0, "deleted": 0}
        for actions in self.written.values():
            for action, count in actions.items():
                totals[action] = totals.get(action, 0) + count
        return totals

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "counts": self.counts,
            "conflicts": self.conflicts,
            "reads": self.reads,
            "written": self.written,
            "failures": self.failures,
            "braked": self.braked,
            "notes": self.notes,
            "requests": self.requests,
        }


def keep_in_step(
    tenant: Tenant,
    store: Store,
    *,
    connect: Callable[[str], Adapter] | None = None,
    full_every: int | None = None,
    workers: int = 2,
    deleted: Mapping[str, Collection[str]] | None = None,
) -> SyncReport:
    """Runs one sync of `tenant` (see the module docstring). `connect(system name)` makes the adapters
    (default: `tenant.connect`; the platform hands in adapters sharing a rate budget)."""
    rules = tenant.rules
    adapters = {name: (connect or tenant.connect)(name) for name in tenant.systems}
    report = SyncReport(tenant.id)
    try:
        directory = unify(
            adapters,
            match=rules.match,
            authority={"default": rules.authority, **rules.authority_per_field},
            state=store,
            full_every=full_every,
            deleted=deleted,
        )
        report.people, report.conflicts = len(directory.current), len(directory.conflicts)
        report.reads = {name: read.mode for name, read in directory.reads.items()}
        report.failures += [f"read {name}: {why}" for name, why in directory.failed.items()]
        if rules.authority in directory.failed:
            report.failures.append(f"nothing pushed: the authority {rules.authority} could not be read")
            return report
        for receiver in rules.receivers:
            if receiver in directory.failed:
                continue
            plan = plan_receiver(
                directory,
                rules,
                adapters[rules.authority],
                adapters[receiver],
                receiver,
                Journal(store, pair=f"{rules.authority}->{receiver}"),
                workers,
                report,
            )
            _tally(receiver, plan, plan.apply(), report)
        return report
    finally:
        report.requests = sum(
            int(getattr(getattr(a, "transport", None), "requests_sent", 0) or 0) for a in adapters.values()
        )
        for adapter in adapters.values():
            adapter.close()


def plan_receiver(
    directory: Directory,
    rules: SyncRules,
    authority: Adapter,
    target: Adapter,
    receiver: str,
    journal: Journal,
    workers: int,
    report: SyncReport,
) -> Plan:
    """The migration plan that brings `receiver` in step with the authority's people."""
    plan = Plan(
        authority,
        target,
        keys=parse_keys(rules.match),
        journal=journal,
        workers=workers,
        progress=None,
        welcome_email=None,
        delete_missing=rules.deletes,
    )
    translator = plan.translator = Translator(target)
    written = journal.written()
    leavers: list[Step] = []
    can_deactivate = "active" in translator.comparable
    for unified in directory.people:
        if unified.ambiguity is not None or rules.authority not in unified.records:
            continue  # a guess is never written; people only the receivers hold are theirs
        source = unified.records[rules.authority]
        gone = unified.status[rules.authority] == REMOVED or source.active is False
        current = unified.records.get(receiver) if unified.status.get(receiver) not in (None, REMOVED) else None
        if gone:
            if current is not None and current.active is not False and (rules.deletes or can_deactivate):
                leavers.append(_leaver(source, current, rules))
            elif current is not None and not can_deactivate:
                report.notes.append(
                    f"{receiver} has no active flag: leaver {current.id} stays until deletes are allowed"
                )
            continue
        wanted = unified.person.replace(manager_id=_manager_in(directory, unified, receiver))
        step = _hire_or_change(wanted, source, current, translator, written, rules)
        if step is not None:
            plan.add(step)
    if len(leavers) > rules.delete_brake:
        report.braked.append(receiver)
        report.failures.append(
            f"{receiver}: {len(leavers)} leavers at once is more than the delete brake "
            f"({rules.delete_brake}); none was touched"
        )
        log.warning("tenant %s, %s: delete brake (%d leavers)", report.tenant, receiver, len(leavers))
    elif rules.deactivations or rules.deletes:
        for step in leavers:
            plan.add(step)
    return plan


def _manager_in(directory: Directory, unified: UnifiedPerson, receiver: str) -> str | None:
    """The receiver's own id of the person's manager (the directory speaks unified ids), or None
    (not known there: nothing is sent)."""
    manager = unified.person.manager_id
    if not manager:
        return None
    try:
        return directory[str(manager)].crosswalk.get(receiver)
    except KeyError:
        return None


def _hire_or_change(
    merged: Person,
    source: Any,
    current: Any,
    translator: Translator,
    written: dict[str, tuple[str, str | None]],
    rules: SyncRules,
) -> Step | None:
    """A create, an update, an "unchanged" to journal, or None (nothing to do or journal).

    The journal's digest for a person is two halves: what the authority said (the merged values,
    before translation into the receiver's ids) and what the receiver's listing showed then. Some
    vendors list less than they store (WhosOff's list has no phones) and name things their own way
    (a role is a user type id there), so "differs" on the untranslated values is not "must write".
    Both halves as journalled: decided without `carry`, which would look up the receiver's
    departments and roles (requests) only to find nothing to send. The authority's half alone: the
    fields the listing leaves empty hold what was written; only the others are compared."""
    key = str(source.id)
    said = _digest(merged, translator.comparable)
    if current is None and not rules.creates:
        return None
    if current is not None:
        if not rules.updates or not person_changes(current, merged, fields=translator.comparable):
            return None  # the common case: in step already, and no reference needs looking up
        seen = said + _digest(current, translator.comparable)
        last = written.get(key)
        if last == (current.id, seen):
            return None  # as it was after the last run that journalled it: nothing new on either side
    carried = translator.carry(merged)
    if carried.invalid:
        return Step("cannot_migrate", source=source, target=current, key=key, reason=f"invalid: {carried.invalid}")
    if current is None:
        step = Step("create", source=source, wanted=carried.wanted, key=key, digest=said + said)
        missing = translator.missing_for_create(carried)
        if missing:
            step.action, step.reason = "cannot_migrate", missing
        return step
    step = Step("update", source=source, target=current, wanted=carried.wanted, key=key, digest=seen)
    step.changes = translator.changes(current, carried.wanted)
    if last is not None and last[0] == current.id and (last[1] or "")[:32] == said:
        step.changes = [c for c in step.changes if not is_empty(c.before)]
    if step.changes:
        return step
    step.action = "unchanged"  # journalled with this digest: the next run decides without `carry`
    return step


def _digest(person: Person, fields: Iterable[str]) -> str:
    """A short hash of the person's values in `fields`, as read (Refs with their ids and names)."""
    values = {name: getattr(person, name) for name in fields}
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _leaver(source: Any, current: Any, rules: SyncRules) -> Step:
    if rules.deletes:
        return Step("delete", target=current, key=f"delete:{current.id}", reason="left (the authority says so)")
    return Step(
        "update",
        source=source,
        target=current,
        wanted=current.replace(active=False),
        key=str(source.id),
        changes=[Change("active", current.active, False)],
        reason="left: deactivated",
    )


def _tally(receiver: str, plan: Plan, result: Report, report: SyncReport) -> None:
    actions: dict[str, int] = {}
    for step, row in zip(plan.steps(), result.rows, strict=False):
        if not row.ok:
            report.failures.append(f"{receiver}: {step.action} {row.source_id or row.target_id}: {row.reason}")
            continue
        action: str | None
        if step.action == "delete":
            action = "deleted"
        elif step.reason == "left: deactivated":
            action = "deactivated"
        else:
            action = {"create": "created", "update": "updated"}.get(step.action)
        if action:
            actions[action] = actions.get(action, 0) + 1
    if actions:
        report.written[receiver] = actions
