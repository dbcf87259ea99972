"""What a migration did: totals plus one row per record, as JSON or CSV.

    report = plan.apply()
    report.ok                   # False when any record failed or the source could not be read whole
    report.totals               # {"create": 12, "update": 3, "unchanged": 40, "failed": 1, ...}
    report.to_json("report.json"); report.to_csv(sys.stdout)

A row names the record (source id, target id, name, email), the action, `ok` or `failed`, and the
reason. Rows carry no record bodies and never a password.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from staffbridge.model.output import write_text
from staffbridge.model.render import json_text, text_value

__all__ = ["ACTIONS", "Report", "Row"]

# create, update, unchanged, delete: writes (or none) that were planned; conflict, cannot_migrate:
# records nothing was written for; read: the source listing itself
ACTIONS = ("create", "update", "unchanged", "delete", "conflict", "cannot_migrate", "read")
COLUMNS = ("source_id", "target_id", "name", "email", "action", "status", "reason", "fields")


@dataclass
class Row:
    source_id: str | None
    target_id: str | None
    action: str
    status: str  # "ok" | "failed" | "planned" (a dry run's rows)
    reason: str | None = None
    name: str | None = None
    email: str | None = None
    fields: list[str] = field(default_factory=list)  # the fields an update changes

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def totals_of(rows: Iterable[Row]) -> dict[str, int]:
    rows = list(rows)
    counts: Counter[str] = Counter()
    for row in rows:
        if row.action == "read":
            continue
        counts["records"] += 1
        counts[row.action] += 1
        counts[row.status] += 1
    return {
        "records": counts["records"],
        **{a: counts[a] for a in ACTIONS if a != "read"},
        "ok": counts["ok"],
        "failed": counts["failed"],
        "planned": counts["planned"],
    }


class Report:
    """The outcome of `plan.apply()` (or, with status "planned", of a dry run)."""

    def __init__(
        self,
        rows: list[Row],
        *,
        source_complete: bool = True,
        notes: Iterable[str] = (),
        stats: dict[str, Any] | None = None,
    ) -> None:
        self.rows = rows
        self.source_complete = source_complete
        self.notes = list(notes)
        self.stats = dict(stats or {})  # requests sent, seconds taken

    @property
    def totals(self) -> dict[str, int]:
        return totals_of(self.rows)

    @property
    def ok(self) -> bool:
        return self.source_complete and all(row.ok for row in self.rows)

    @property
    def failures(self) -> list[Row]:
        return [row for row in self.rows if not row.ok]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.totals.items() if v)
        return f"<Report ok={self.ok} {shown}>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source_complete": self.source_complete,
            "totals": self.totals,
            "notes": self.notes,
            "stats": self.stats,
            "rows": [row.to_dict() for row in self.rows],
        }

    def to_json(self, path_or_file: str | Path | IO[str]) -> None:
        write_text(json_text(self.to_dict()), path_or_file)

    def to_csv(self, path_or_file: str | Path | IO[str]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            data = row.to_dict()
            data["fields"] = " ".join(row.fields)
            writer.writerow({name: text_value(data[name]) for name in COLUMNS})
        write_text(buffer.getvalue(), path_or_file)
