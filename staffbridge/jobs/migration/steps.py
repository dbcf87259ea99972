"""One record's part in a migration plan: a `Step` (what happens to it, and why)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from staffbridge.jobs.migration.report import Row
from staffbridge.jobs.migration.translate import Change
from staffbridge.model.person import Person

__all__ = ["Step"]


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
        return Row(
            source_id=self.source_id,
            target_id=target_id or self.target_id,
            action=self.action,
            status=status,
            reason=reason if reason is not None else self.reason or _notes(self.notes),
            name=person.full_name or None if person else None,
            email=person.email if person else None,
            fields=[c.field for c in self.changes],
        )

    def to_dict(self) -> dict[str, Any]:
        data = self.row("planned").to_dict()
        data["changes"] = [c.to_dict() for c in self.changes]
        data["candidates"] = [c.id for c in self.candidates]
        data["notes"] = list(self.notes)
        return data


def _notes(notes: Sequence[str]) -> str | None:
    return "; ".join(notes) or None
