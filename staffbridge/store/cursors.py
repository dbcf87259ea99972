"""The state file of incremental unify runs: per system, where to read from next time and who is known.

    {"version": 1,
     "systems": {"moco": {"adapter": "moco", "runs": 3, "runs_since_full": 2,
                          "last_run": "2024-05-01T10:00:00Z", "last_full": "2024-04-30T09:00:00Z",
                          "max_updated_at": "2024-05-01T09:58:12Z", "cursor": "2024-05-01T09:53:12Z",
                          "people": {"933662733": {...Person.to_dict()...}, ...}}},
     "ids": {"moco:933662733": "moco:933662733", ...}}

`cursor` is the newest `updated_at` any read of that system has seen, minus a safety overlap while
that change is recent (records written while a read was under way, or committed with an older
timestamp, are read again rather than missed; see `sync_read.next_cursor`). It comes from the
vendor's own timestamps, not the client's clock. `people`
is the snapshot: every person last known to that system, so people who did not change are still in
the directory after an incremental read. `ids` keeps each unified person's id stable across runs.

The file holds canonical fields only (never `raw`, never a setting), but those include personal data
(names, emails, phones, IBANs where a vendor has them): keep it where the directory itself may be.
It is written atomically (a temporary file, then a rename), so a run killed midway leaves the last
good state behind.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staffbridge.model.errors import ConfigError, PersonValidationError
from staffbridge.model.person import Person

__all__ = ["STATE_VERSION", "SyncState", "SystemState"]

STATE_VERSION = 1


@dataclass
class SystemState:
    """What the last good run knew about one system."""

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
        return {"adapter": self.adapter, "runs": self.runs, "runs_since_full": self.runs_since_full,
                "last_run": _stamp(self.last_run), "last_full": _stamp(self.last_full),
                "max_updated_at": _stamp(self.max_updated_at), "cursor": _stamp(self.cursor),
                "people": {key: person.to_dict() for key, person in self.people.items()}}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "SystemState":
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
        return cls(adapter=data.get("adapter"), runs=_count(data.get("runs")),
                   runs_since_full=_count(data.get("runs_since_full")),
                   last_run=_moment(data.get("last_run"), where), last_full=_moment(data.get("last_full"), where),
                   max_updated_at=_moment(data.get("max_updated_at"), where),
                   cursor=_moment(data.get("cursor"), where), people=people)


@dataclass
class SyncState:
    """The whole state file: one SystemState per system name, and the unified ids handed out."""

    path: Path | None = None
    systems: dict[str, SystemState] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # "system:id" -> unified id

    def system(self, name: str) -> SystemState:
        return self.systems.setdefault(name, SystemState())

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None) -> "SyncState":
        """The state in `path`; an empty state when the file does not exist yet. A file that is not a
        state file is a ConfigError (never silently replaced: it may be someone else's file)."""
        if path is None:
            return cls()
        path = Path(path)
        if not path.exists():
            return cls(path)
        where = str(path)
        try:
            data = json.loads(path.read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read the state file {path}: {exc.strerror}", setting="state",
                              source=where) from None
        except (ValueError, UnicodeDecodeError):
            raise ConfigError(f"{path} is not a staffbridge state file (not JSON); give a new path or remove it",
                              setting="state", source=where) from None
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION or not isinstance(
                data.get("systems"), dict):
            raise ConfigError(f"{path} is not a staffbridge state file (version {STATE_VERSION}); give a new "
                              "path or remove it", setting="state", source=where)
        systems = {str(name): SystemState.from_dict(value, f"{path} [{name}]")
                   for name, value in data["systems"].items()}
        ids = data.get("ids") or {}
        return cls(path, systems, {str(k): str(v) for k, v in ids.items()} if isinstance(ids, dict) else {})

    def to_dict(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "systems": {name: s.to_dict() for name, s in self.systems.items()},
                "ids": dict(self.ids)}

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        target = Path(path) if path is not None else self.path
        if target is None:
            return
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1, default=str) + "\n"
        directory = target.parent if str(target.parent) else Path(".")
        try:
            handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, target)
        except OSError as exc:
            raise ConfigError(f"cannot write the state file {target}: {exc.strerror}", setting="state",
                              source=str(target)) from None


def _stamp(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(value: Any, where: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a timestamp", setting="state", source=where) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
