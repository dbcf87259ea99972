"""What `staffbridge.unify` returns: a `Directory` of `UnifiedPerson`s, with their crosswalks and conflicts.

    directory = staffbridge.unify([moco, whosoff, fieldservice])
    for person in directory:
        person.crosswalk            # {"moco": "933662733", "whosoff": "1000001"}
        person.person               # the merged Person (id = the unified id, system = "unified")
        person.sources              # {"email": "moco", "work_phone": "fieldservice", ...}
        person.conflicts            # [Conflict(field="work_phone", values={"moco": ..., "fieldservice": ...})]
        person.status               # {"moco": "present", "whosoff": "unknown"}: see below
    directory.only_in("whosoff")    # people no other system has
    directory.ambiguous             # records that match several people: reported, never merged
    directory.summary()

A record's status in its system: "present" (read this run, or unchanged since an incremental read),
"unknown" (the system's read failed: this is what was last known), "removed" (missing from a complete
read of a system that had it last run).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from staffbridge.jobs.sync.read import SystemRead
from staffbridge.model.output import write_text
from staffbridge.model.person import Person
from staffbridge.model.render import json_text, json_value, text_value

__all__ = ["Ambiguity", "Conflict", "Directory", "UnifiedPerson"]

PRESENT, UNKNOWN, REMOVED = "present", "unknown", "removed"
CSV_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "email",
    "work_phone",
    "mobile_phone",
    "active",
    "department",
    "role",
    "employee_number",
    "manager_id",
    "username",
    "title",
    "language",
    "birthday",
    "employment_start",
    "employment_end",
    "address",
)


@dataclass
class Conflict:
    """The same person holds different values for `field` in different systems."""

    field: str
    values: dict[str, Any]  # system -> its value
    chosen: str | None  # the system whose value the unified person kept
    rule: str  # the survivorship rule that chose it

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "values": {k: json_value(v) for k, v in self.values.items()},
            "chosen": self.chosen,
            "rule": self.rule,
        }

    def __str__(self) -> str:
        shown = ", ".join(f"{system}={text_value(value)!r}" for system, value in self.values.items())
        return f"{self.field}: {shown} (kept {self.chosen}, {self.rule})"


@dataclass(eq=False)
class Ambiguity:
    """A record that matches several people (or that several records of its system claim): not merged."""

    system: str
    id: str
    label: str
    reason: str
    candidates: list[str] = field(default_factory=list)  # unified ids it might be

    def to_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "id": self.id,
            "label": self.label,
            "reason": self.reason,
            "candidates": list(self.candidates),
        }


@dataclass(eq=False)
class UnifiedPerson:
    """One person across every system that holds them."""

    id: str
    person: Person
    crosswalk: dict[str, str]  # system -> that system's id
    records: dict[str, Person]  # system -> that system's record
    status: dict[str, str]  # system -> present | unknown | removed
    sources: dict[str, str] = field(default_factory=dict)  # field -> the system its value came from
    conflicts: list[Conflict] = field(default_factory=list)
    ambiguity: Ambiguity | None = None

    @property
    def systems(self) -> list[str]:
        """The systems that hold this person now (present or unknown; not removed)."""
        return [s for s, state in self.status.items() if state != REMOVED]

    @property
    def single_system(self) -> bool:
        return len(self.systems) == 1

    @property
    def removed(self) -> bool:
        """Gone from every system that had them."""
        return bool(self.status) and all(state == REMOVED for state in self.status.values())

    @property
    def label(self) -> str:
        return f"{self.id} {self.person.full_name or self.person.email or '?'}"

    def conflict(self, field_name: str) -> Conflict | None:
        return next((c for c in self.conflicts if c.field == field_name), None)

    def __repr__(self) -> str:
        extra = f" conflicts={[c.field for c in self.conflicts]}" if self.conflicts else ""
        return f"<UnifiedPerson {self.label} {self.crosswalk}{extra}>"

    def to_dict(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "crosswalk": dict(self.crosswalk),
            "status": dict(self.status),
            "single_system": self.single_system,
            "person": self.person.to_dict(),
            "sources": dict(self.sources),
            "conflicts": [c.to_dict() for c in self.conflicts],
        }
        if self.ambiguity is not None:
            data["ambiguity"] = self.ambiguity.to_dict()
        problems = [f"{s}: {p}" for s, r in self.records.items() for p in r.problems]
        if problems:
            data["problems"] = problems
        return data


class Directory:
    """The unified people of several systems, and how each system was read."""

    def __init__(
        self,
        people: list[UnifiedPerson],
        systems: Sequence[str],
        reads: dict[str, SystemRead],
        ambiguous: list[Ambiguity],
        keys: Sequence[Any],
        rules: dict[str, str],
        state: Any = None,
    ) -> None:
        self.people = people
        self.state = state  # the SyncState after this run (saved already when unify was given a path)
        self.systems = list(systems)
        self.reads = reads
        self.ambiguous = ambiguous
        self.keys = [("+".join(k) if isinstance(k, tuple) else k) for k in keys]
        self.rules = rules
        self._by_id = {p.id: p for p in people}
        self._by_record = {(s, i): p for p in people for s, i in p.crosswalk.items()}

    def __iter__(self) -> Iterator[UnifiedPerson]:
        return iter(self.people)

    def __len__(self) -> int:
        return len(self.people)

    def __getitem__(self, unified_id: str) -> UnifiedPerson:
        return self._by_id[unified_id]

    def find(self, system: str, record_id: Any) -> UnifiedPerson | None:
        """The unified person holding `system`'s record `record_id`."""
        return self._by_record.get((system, str(record_id)))

    # ------------------------------------------------------------------ views
    @property
    def current(self) -> list[UnifiedPerson]:
        """Everybody still held by some system (the removed left out)."""
        return [p for p in self.people if not p.removed]

    @property
    def matched(self) -> list[UnifiedPerson]:
        """People found in two or more systems."""
        return [p for p in self.people if len(p.systems) > 1]

    def only_in(self, system: str) -> list[UnifiedPerson]:
        """People found in `system` and in no other."""
        return [p for p in self.people if p.systems == [system]]

    @property
    def single_system(self) -> dict[str, list[UnifiedPerson]]:
        return {system: self.only_in(system) for system in self.systems}

    @property
    def conflicts(self) -> list[tuple[UnifiedPerson, Conflict]]:
        return [(p, c) for p in self.people for c in p.conflicts]

    @property
    def removed(self) -> list[UnifiedPerson]:
        """People with a record removed this run (from one system, or from all)."""
        return [p for p in self.people if REMOVED in p.status.values()]

    @property
    def unknown(self) -> list[UnifiedPerson]:
        """People with a record in a system whose read failed: neither confirmed nor removed."""
        return [p for p in self.people if UNKNOWN in p.status.values()]

    @property
    def failed(self) -> dict[str, str]:
        """System -> why its read failed."""
        return {name: read.error or "failed" for name, read in self.reads.items() if not read.complete}

    @property
    def complete(self) -> bool:
        return not self.failed

    def summary(self) -> dict[str, Any]:
        spread = Counter(len(p.systems) for p in self.current)
        return {
            "people": len(self.current),
            "systems": {n: r.to_dict() for n, r in self.reads.items()},
            "in_all": spread.get(len(self.systems), 0) if len(self.systems) > 1 else 0,
            "matched": len(self.matched),
            "single_system": {s: len(people) for s, people in self.single_system.items()},
            "conflicts": dict(Counter(c.field for _, c in self.conflicts).most_common()),
            "people_with_conflicts": sum(1 for p in self.people if p.conflicts),
            "ambiguous": len(self.ambiguous),
            "removed": len(self.removed),
            "unknown": len(self.unknown),
            "complete": self.complete,
        }

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        return {
            "systems": self.systems,
            "match": self.keys,
            "rules": self.rules,
            "summary": self.summary(),
            "people": [p.to_dict() for p in self.people],
            "ambiguous": [a.to_dict() for a in self.ambiguous],
        }

    def to_json(self, path_or_file: str | Path | IO[str] | None = None) -> str:
        text = json_text(self.to_dict())
        if path_or_file is not None:
            write_text(text, path_or_file)
        return text

    def to_csv(self, path_or_file: str | Path | IO[str] | None = None) -> str:
        """One row per unified person: id, status, a column of ids per system, the merged fields, and
        its conflicts as `field: system=value, ...; ...`."""
        stream = io.StringIO()
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["id", "status", *(f"{s}_id" for s in self.systems), *CSV_FIELDS, "conflicts", "note"])
        for p in self.people:
            status = (
                "removed"
                if p.removed
                else ("ambiguous" if p.ambiguity else "unknown" if UNKNOWN in p.status.values() else "ok")
            )
            ids = [
                (p.crosswalk.get(s, "") + (f" ({p.status[s]})" if p.status.get(s) not in (None, PRESENT) else ""))
                for s in self.systems
            ]
            values = [text_value(getattr(p.person, name)) for name in CSV_FIELDS]
            note = p.ambiguity.reason if p.ambiguity else ""
            writer.writerow([p.id, status, *ids, *values, "; ".join(str(c) for c in p.conflicts), note])
        if path_or_file is not None:
            write_text(stream.getvalue(), path_or_file)
        return stream.getvalue()

    def to_scim(self, extension: bool = True) -> dict[str, Any]:
        """A SCIM 2.0 ListResponse of the current people (see staffbridge.scim)."""
        from staffbridge.mapping.scim import to_scim

        return to_scim(self, extension=extension)

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<Directory {len(self)} people from {', '.join(self.systems)}: {s['matched']} matched, "
            f"{s['people_with_conflicts']} with conflicts, {s['ambiguous']} ambiguous>"
        )
