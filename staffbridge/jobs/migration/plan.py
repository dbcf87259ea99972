"""What a migration will do: a `Plan` of `Step`s to inspect, then `apply()`.

`migrate()` (run.py) builds one (build.py fills it in); `apply()` hands its steps to the Applier
(apply.py). Imports go one way: run -> build -> plan -> apply -> steps; build also uses reading, sight
and full_reads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from staffbridge.jobs.migration.apply import Applier
from staffbridge.jobs.migration.deletes import check_delete_limit, delete_limit
from staffbridge.jobs.migration.report import Report, Row
from staffbridge.jobs.migration.steps import Step
from staffbridge.jobs.migration.translate import Translator
from staffbridge.jobs.progress import Progress, guarded
from staffbridge.jobs.sync.matching import Key
from staffbridge.model.errors import StaffbridgeError
from staffbridge.model.output import write_text
from staffbridge.model.render import json_text
from staffbridge.sdk.adapter import Adapter
from staffbridge.store.base import Store
from staffbridge.store.journal import Journal

__all__ = ["Plan"]


class Plan:
    """What a migration will do. Inspect the step lists, then `apply()`."""

    def __init__(
        self,
        source: Adapter,
        target: Adapter,
        *,
        keys: tuple[Key, ...],
        journal: Journal | Store | str | Path | None,
        workers: int,
        progress: Progress | None,
        welcome_email: bool | None,
        delete_missing: bool,
    ) -> None:
        self.source, self.target = source, target
        self.keys = keys
        self.workers = workers
        self.welcome_email = welcome_email
        self.delete_missing = delete_missing
        self.progress = guarded(progress)
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
        # what the plan may delete (deletes.py): build_plan sets the limit; None is the default one
        self.max_delete: int | None = None
        self.left_alone = 0  # target records no source person matches, never read by the source side

    @property
    def pair(self) -> str:
        return f"{self.source.name}->{self.target.name}"

    def journal(self) -> Journal:
        """The journal, opened on first need (a dry run against a new path creates no file)."""
        if self._journal is None:
            spec = self._journal_spec
            self._journal = spec if isinstance(spec, Journal) else Journal(spec or ":memory:", pair=self.pair)
        return self._journal

    def journal_written(self) -> dict[str, tuple[str, str | None]]:
        spec = self._journal_spec
        if self._journal is None and isinstance(spec, (str, Path)) and not os.path.exists(spec):
            return {}
        return self.journal().written() if spec is not None else {}

    # ------------------------------------------------------------------ inspecting
    def add(self, step: Step) -> None:
        lists = {
            "create": self.creates,
            "update": self.updates,
            "unchanged": self.unchanged,
            "conflict": self.conflicts,
            "cannot_migrate": self.cannot_migrate,
            "delete": self.deletes,
        }
        lists[step.action].append(step)
        self._order.append(step)

    def steps(self) -> list[Step]:
        """Every step: the source records in source order, then the deletes."""
        return [s for s in self._order if s.action != "delete"] + [s for s in self._order if s.action == "delete"]

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source_count,
            "target": self.target_count,
            "create": len(self.creates),
            "update": len(self.updates),
            "unchanged": len(self.unchanged),
            "conflict": len(self.conflicts),
            "cannot_migrate": len(self.cannot_migrate),
            "delete": len(self.deletes),
            "source_complete": self.source_complete,
            **self._noted(),
        }

    def _noted(self) -> dict[str, int]:
        """The summary's counts of what plain numbers above do not show, when there is any: people
        whose write carries a note, and target records left alone."""
        counts = {"notes": sum(1 for step in self._order if step.notes), "left_alone": self.left_alone}
        return {key: count for key, count in counts.items() if count}

    def note_counts(self) -> dict[str, int]:
        """Each note the steps carry (what their writes will leave out, and why) -> how many people."""
        counts: dict[str, int] = {}
        for step in self.steps():
            for note in step.notes:
                counts[note] = counts.get(note, 0) + 1
        return counts

    def rows(self) -> list[Row]:
        rows = [step.row("planned") for step in self.steps()]
        return ([Row(None, None, "read", "failed", self.read_error)] if self.read_error else []) + rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "pair": self.pair,
            "summary": self.summary(),
            "read_error": self.read_error,
            "notes": self.notes,
            "not_carried": self.not_carried,
            "steps": [step.to_dict() for step in self.steps()],
        }

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
        check_delete_limit(len(self.deletes), delete_limit(self.max_delete, self.target_count), self.target.name)
        applier = Applier(
            self.target,
            self.journal(),
            translator=self.translator,
            keys=self.keys,
            workers=self.workers,
            progress=self.progress,
            welcome_email=self.welcome_email,
        )
        self.report = applier.run(self.steps(), notes=self.notes, read_error=self.read_error, pair=self.pair)
        return self.report
