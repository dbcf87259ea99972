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
  read completely (`plan.source_complete`) or returned nobody.
- Passwords: where the target's `create` requires one (WhosOff), each new person gets a random one
  from `secrets`, used in that one request and never logged, journalled or reported; with
  `welcome_email=True` the target is asked to send its welcome email where it can (MOCO).
- Journal: `journal` (a path, or a `Journal`) records each record's state before and after every
  write. A migration killed at any point and run again with the same journal creates no duplicates
  and finishes the rest; run again with nothing changed, it writes nothing.
- Concurrency: `workers` threads write at once, all through the target's one rate limiter.
- `progress(done, total, label)` is called as work goes on; while reading, `total` is None (not
  known yet). Labels: "reading target", "reading source", "writing", "deleting".

A target that cannot be read, or a source that fails before its first record, raises (a typed
StaffbridgeError): there is nothing to plan with. `dry_run=True` (the default) only plans; `dry_run=False` plans and applies at once and returns the
plan with `.report` set. Bad records never stop a run: each is a row of the report with its reason,
and `report.ok` is False.
"""
from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Mapping as MappingABC, Sequence

from staffbridge.sdk.adapter import Adapter
from staffbridge.model.errors import ConfigError, MappingError, StaffbridgeError
from staffbridge.store.journal import Journal
from staffbridge.mapping.engine import Mapping, deep_merge, read_toml
from staffbridge.jobs.sync.matching import parse_keys
from staffbridge.model.person import Person
from staffbridge.jobs.migration.plan import Progress, Reporter, build_plan
from staffbridge.jobs.migration.report import Report, Row
from staffbridge.jobs.migration.translate import Change, Translator
from staffbridge.model.output import write_text
from staffbridge.model.render import json_text

__all__ = ["Plan", "Step", "migrate"]


@dataclass(eq=False)
class Step:
    """One record's part in a plan: what happens to it and why."""

    action: str  # create | update | unchanged | conflict | cannot_migrate | delete
    source: Person | None = None  # the source record (None for a delete)
    target: Person | None = None  # the target record it matched (None for a create)
    wanted: Person | None = None  # the source person as the target will get it
    changes: list[Change] = field(default_factory=list)  # an update's fields, before and after
    reason: str | None = None  # why a conflict / cannot_migrate / delete
    candidates: list[Person] = field(default_factory=list)  # a conflict's possible target records
    notes: list[str] = field(default_factory=list)  # what was left out, and why
    key: str | None = None  # the journal key
    digest: str | None = None  # a hash of `wanted`, journalled once written

    @property
    def source_id(self) -> str | None:
        return self.source.id if self.source is not None else None

    @property
    def target_id(self) -> str | None:
        return self.target.id if self.target is not None else None

    @property
    def person(self) -> Person | None:
        return self.source or self.target

    @property
    def label(self) -> str:
        return self.person.label if self.person is not None else "?"

    def __repr__(self) -> str:
        extra = f" {[c.field for c in self.changes]}" if self.changes else ""
        why = f" ({self.reason})" if self.reason else ""
        return f"<Step {self.action} {self.label}{extra}{why}>"

    def row(self, status: str, reason: str | None = None, target_id: str | None = None) -> Row:
        person = self.person
        return Row(source_id=self.source_id, target_id=target_id or self.target_id, action=self.action,
                   status=status, reason=reason if reason is not None else self.reason or _notes(self.notes),
                   name=person.full_name or None if person else None, email=person.email if person else None,
                   fields=[c.field for c in self.changes])

    def to_dict(self) -> dict[str, Any]:
        data = self.row("planned").to_dict()
        data["changes"] = [c.to_dict() for c in self.changes]
        data["candidates"] = [c.id for c in self.candidates]
        data["notes"] = list(self.notes)
        return data


class Plan:
    """What a migration will do. Inspect the step lists, then `apply()`."""

    def __init__(self, source: Adapter, target: Adapter, *, keys: Any, journal: Journal | str | Path | None,
                 workers: int, progress: Progress | None, welcome_email: bool | None,
                 delete_missing: bool) -> None:
        self.source, self.target = source, target
        self.keys = keys
        self.workers = workers
        self.welcome_email = welcome_email
        self.delete_missing = delete_missing
        self.progress = Reporter(progress)
        self._journal_spec = journal
        self._journal: Journal | None = journal if isinstance(journal, Journal) else None
        self.creates: list[Step] = []
        self.updates: list[Step] = []
        self.unchanged: list[Step] = []
        self.conflicts: list[Step] = []
        self.cannot_migrate: list[Step] = []
        self.deletes: list[Step] = []
        self.source_complete = True
        self.read_error: str | None = None
        self.notes: list[str] = []
        self.not_carried: dict[str, int] = {}  # field -> people whose value the target cannot store
        self.source_count = self.target_count = 0
        self.translator: Translator | None = None
        self.report: Report | None = None
        self._order: list[Step] = []

    @property
    def pair(self) -> str:
        return f"{self.source.name}->{self.target.name}"

    def journal(self) -> Journal:
        """The journal, opened on first need (a dry run against a new path creates no file)."""
        if self._journal is None:
            self._journal = Journal(self._journal_spec or ":memory:", pair=self.pair)
        return self._journal

    def journal_written(self) -> dict[str, tuple[str, str | None]]:
        spec = self._journal_spec
        if self._journal is None and isinstance(spec, (str, Path)) and not os.path.exists(spec):
            return {}
        return self.journal().written() if spec is not None else {}

    # ------------------------------------------------------------------ inspecting
    def add(self, step: Step) -> None:
        lists = {"create": self.creates, "update": self.updates, "unchanged": self.unchanged,
                 "conflict": self.conflicts, "cannot_migrate": self.cannot_migrate, "delete": self.deletes}
        lists[step.action].append(step)
        self._order.append(step)

    def steps(self) -> list[Step]:
        """Every step: the source records in source order, then the deletes."""
        return [s for s in self._order if s.action != "delete"] + [s for s in self._order if s.action == "delete"]

    def summary(self) -> dict[str, Any]:
        return {"source": self.source_count, "target": self.target_count, "create": len(self.creates),
                "update": len(self.updates), "unchanged": len(self.unchanged), "conflict": len(self.conflicts),
                "cannot_migrate": len(self.cannot_migrate), "delete": len(self.deletes),
                "source_complete": self.source_complete}

    def rows(self) -> list[Row]:
        rows = [step.row("planned") for step in self.steps()]
        return ([Row(None, None, "read", "failed", self.read_error)] if self.read_error else []) + rows

    def to_dict(self) -> dict[str, Any]:
        return {"pair": self.pair, "summary": self.summary(), "read_error": self.read_error,
                "notes": self.notes, "not_carried": self.not_carried,
                "steps": [step.to_dict() for step in self.steps()]}

    def to_json(self, path_or_file: str | Path | IO[str]) -> None:
        write_text(json_text(self.to_dict()), path_or_file)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.summary().items())
        return f"<Plan {self.pair} {shown}>"

    # ------------------------------------------------------------------ doing
    def apply(self) -> Report:
        """Writes the plan; returns (and keeps in `.report`) the report. A plan applies once."""
        if self.report is not None:
            raise StaffbridgeError("this plan has been applied; plan again (migrate(...)) to go on")
        from staffbridge.jobs.migration.apply import Applier
        self.report = Applier(self).run()
        return self.report


def migrate(source: Adapter, target: Adapter, match: Any = ("email", "employee_number"),
            mapping: str | Path | MappingABC[str, Any] | None = None, dry_run: bool = True,
            delete_missing: bool = False, journal: Journal | str | Path | None = None, workers: int = 4,
            progress: Progress | None = None, welcome_email: bool | None = None,
            source_filters: dict[str, Any] | None = None) -> Plan:
    """Plans a migration from `source` to `target` (see the module docstring); applies it too when
    `dry_run` is False. `source_filters` narrows the source listing (default: everybody, deactivated
    people included)."""
    keys = parse_keys(match)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"migrate: workers must be a whole number of at least 1, not {workers!r}",
                          setting="workers")
    target = with_mapping(target, mapping)
    plan = Plan(source, target, keys=keys, journal=journal, workers=workers, progress=progress,
                welcome_email=welcome_email, delete_missing=delete_missing)
    build_plan(plan, source, target, keys, plan.journal_written(), delete_missing, source_filters, plan.progress)
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


def _notes(notes: Sequence[str]) -> str | None:
    return "; ".join(notes) or None
