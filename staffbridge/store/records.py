"""What the store keeps, as plain data: journal entries and marks, and each system's sync cursor.

Every backend hands these out and takes them in, so the jobs never see a row, a column or SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from staffbridge.model.errors import ConfigError, PersonValidationError
from staffbridge.model.person import Person

__all__ = ["IN_FLIGHT", "STATES", "Entry", "Mark", "SystemState"]

# ------------------------------------------------------------------ the migration journal

STATES = ("creating", "updating", "deleting", "done", "deleted", "failed")
IN_FLIGHT = ("creating", "updating", "deleting")


class Mark(NamedTuple):
    """One state change of one journal key. A missing source id, target id or action keeps the one
    recorded earlier; `digest` (a hash of what was written: no values, no secrets) is kept only with
    "done"."""

    key: str  # the source id (or "delete:<target id>")
    state: str
    source_id: str | None = None
    target_id: str | None = None
    action: str | None = None
    reason: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class Entry:
    """The last recorded state of one journal key."""

    key: str
    source_id: str | None
    target_id: str | None
    state: str
    action: str | None
    reason: str | None
    changed_at: str

    @property
    def in_flight(self) -> bool:
        """The write was started and its outcome never recorded: look before writing again."""
        return self.state in IN_FLIGHT


# ------------------------------------------------------------------ the sync cursors


@dataclass
class SystemState:
    """What the last good run knew about one system: where its next incremental read starts (`cursor`,
    from the vendor's own `updated_at` stamps), and who was seen (`people`, the snapshot that tells an
    unchanged person from a removed one)."""

    adapter: str | None = None
    runs: int = 0
    runs_since_full: int = 0
    last_run: dt.datetime | None = None
    last_full: dt.datetime | None = None
    max_updated_at: dt.datetime | None = None
    cursor: dt.datetime | None = None
    people: dict[str, Person] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        """Whether a complete read of this system has been recorded (an incremental read needs one)."""
        return self.last_full is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "runs": self.runs,
            "runs_since_full": self.runs_since_full,
            "last_run": utc_stamp(self.last_run),
            "last_full": utc_stamp(self.last_full),
            "max_updated_at": utc_stamp(self.max_updated_at),
            "cursor": utc_stamp(self.cursor),
            "people": {key: person.to_dict() for key, person in self.people.items()},
        }

    @classmethod
    def from_dict(cls, data: Any, where: str) -> SystemState:
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: not an object", setting="state", source=where)
        people_data = data.get("people") or {}
        if not isinstance(people_data, dict):
            raise ConfigError(f"{where}: people must be an object of id -> person", setting="state", source=where)
        people = {}
        for key, person in people_data.items():
            try:
                people[str(key)] = Person.from_dict(person if isinstance(person, dict) else {}, record=str(key))
            except PersonValidationError as exc:
                raise ConfigError(f"{where}: person {key}: {exc}", setting="state", source=where) from None
        return cls(
            adapter=data.get("adapter"),
            runs=_count(data.get("runs")),
            runs_since_full=_count(data.get("runs_since_full")),
            last_run=_moment(data.get("last_run"), where),
            last_full=_moment(data.get("last_full"), where),
            max_updated_at=_moment(data.get("max_updated_at"), where),
            cursor=_moment(data.get("cursor"), where),
            people=people,
        )


def utc_stamp(moment: dt.datetime | None) -> str | None:
    """How the store writes a moment: UTC, whole seconds, with a Z."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(value: Any, where: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a timestamp", setting="state", source=where) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
