"""Migrate people from one directory to another: plan (match, translate, diff), then apply.

    plan = staffbridge.migrate(moco, whosoff, match=("email", "employee_number"))   # a dry run
    print(plan.summary())        # {"create": 40, "update": 3, "unchanged": 7, "conflict": 1, ...}
    for step in plan.updates:
        print(step.label, [(c.field, c.before, c.after) for c in step.changes])
    report = plan.apply()        # or migrate(..., dry_run=False): plans and applies at once
    report.to_csv("migration.csv")

What it does, and what it never does:

- Matching: `match` is an ordered list of keys (see `staffbridge.matching`), compared normalised. A
  person who may be several target records, or a target record several source people claim, is a
  *conflict*: reported, never guessed at, never written.
- References: department and role travel by name. The source's ids are dropped and the name is
  looked up in the target (its units/departments/roles lists) or in the value map of `mapping`, a
  user mapping overlay (a dict or a TOML path, in the mapping-file format) laid over the *target's*
  mapping, e.g. ``{"fields": {"department": {"values": {"123456": "Geschäftsleitung"}}}}`` (target id
  = name). A required reference that does not translate puts the person under `cannot_migrate`
  with the reason; an optional one is left out with a note.
- Writes: creates the missing, updates only the fields that differ, and deletes target records no
  source person matches only with `delete_missing=True`, and never when the source could not be
  read completely (`plan.source_complete`) or returned nobody. Records the source side never read
  are left alone: inactive ones when the source holds no inactive people, those outside
  `source_filters` (see deletes.py); the plan's notes count them and say why. The brake: `apply()`
  refuses a plan deleting more than `max_delete` records (`TooManyDeletes`), before any write.
- Notes: what a write will leave out ("no role named 'X' in moco; ... created without it") is on each
  step (`step.notes`), counted in `plan.summary()["notes"]` and grouped by `plan.note_counts()`.
- Passwords: where the target's `create` requires one (WhosOff), each new person gets a random one
  from `secrets`, used in that one request and never logged, journalled or reported; with
  `welcome_email=True` the target is asked to send its welcome email where it can (MOCO).
- Journal: `journal` (a path, a `Journal`, or a `Store` opened for a scope) records each record's state
  before and after every write. A migration killed at any point and run again with the same journal
  creates no duplicates and finishes the rest; run again with nothing changed, it writes nothing.
- Concurrency: `workers` threads write at once, all through the target's one rate limiter.
- `progress(done, total, label)` is called as work goes on; while reading, `total` is None (not
  known yet). Labels: "reading target", "reading source", "writing", "deleting".

A target that cannot be read, or a source that fails before its first record, raises (a typed
StaffbridgeError): there is nothing to plan with. `dry_run=True` (the default) only plans;
`dry_run=False` plans and applies at once and returns the plan with `.report` set. Bad records never
stop a run: each is a row of the report with its reason, and `report.ok` is False.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping as MappingABC
from pathlib import Path
from typing import Any

from staffbridge.jobs.migration.build import build_plan
from staffbridge.jobs.migration.deletes import delete_limit
from staffbridge.jobs.migration.plan import Plan
from staffbridge.jobs.progress import Progress
from staffbridge.jobs.sync.matching import parse_keys
from staffbridge.model.errors import ConfigError
from staffbridge.sdk.adapter import Adapter
from staffbridge.store.base import Store
from staffbridge.store.journal import Journal

__all__ = ["migrate", "with_mapping"]


def migrate(
    source: Adapter,
    target: Adapter,
    match: Any = ("email", "employee_number"),
    mapping: str | Path | MappingABC[str, Any] | None = None,
    dry_run: bool = True,
    delete_missing: bool = False,
    journal: Journal | Store | str | Path | None = None,
    workers: int = 4,
    progress: Progress | None = None,
    welcome_email: bool | None = None,
    source_filters: dict[str, Any] | None = None,
    max_delete: int | None = None,
) -> Plan:
    """Plans a migration from `source` to `target` (see the module docstring); applies it too when
    `dry_run` is False. `source_filters` narrows the source listing (default: everybody, deactivated
    people included). `max_delete` is the most deletes `apply()` makes (default: 10 people or 5% of
    the target, whichever is larger); a plan over it is refused with `TooManyDeletes`."""
    keys = parse_keys(match)
    delete_limit(max_delete, 0)  # a bad limit is a bad argument: say so before reading anyone
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"migrate: workers must be a whole number of at least 1, not {workers!r}", setting="workers")
    target = with_mapping(target, mapping)
    plan = Plan(
        source,
        target,
        keys=keys,
        journal=journal,
        workers=workers,
        progress=progress,
        welcome_email=welcome_email,
        delete_missing=delete_missing,
    )
    build_plan(plan, plan.journal_written(), source_filters, max_delete)
    if not dry_run:
        plan.apply()
    return plan


def with_mapping(target: Adapter, overlay: str | Path | MappingABC[str, Any] | None) -> Adapter:
    """`target` with the user's mapping laid over its own. A shallow copy: the caller's adapter is
    left as it was, while the copy shares its connection and rate limiter."""
    if overlay is None:
        return target
    clone = copy.copy(target)
    clone.mapping = target.mapping.overlaid(overlay)  # (WhosOff's tuned converters and defaults stay)
    clone._refs = {}  # names resolved under the old value maps
    return clone
