"""The state of incremental unify runs: per system, where to read from next time and who is known.

Per system a `SystemState`: its `cursor` is the newest `updated_at` any read of that system has seen,
minus a safety overlap while that change is recent (records written while a read was under way, or
committed with an older timestamp, are read again rather than missed; see `sync.read.next_cursor`).
It comes from the vendor's own timestamps, not the client's clock. `people` is the snapshot: every
person last known to that system, so people who did not change are still in the directory after an
incremental read. `ids` (the crosswalk) keeps each unified person's id stable across runs.

Where it is kept (`SyncState.load` / `save`):

- a Store (`staffbridge.store`), or a path that is a SQLite store (any name not ending in ".json"):
  the cursors and the crosswalk, saved in one transaction; the same file may hold migration journals;
- a path ending in ".json": the JSON document of earlier versions, kept as it was (README examples,
  scripts reading it), written atomically (a temporary file, then a rename):

      {"version": 1,
       "systems": {"moco": {"adapter": "moco", "runs": 3, "runs_since_full": 2,
                            "last_run": "2024-05-01T10:00:00Z", "last_full": "2024-04-30T09:00:00Z",
                            "max_updated_at": "2024-05-01T09:58:12Z", "cursor": "2024-05-01T09:53:12Z",
                            "people": {"933662733": {...Person.to_dict()...}, ...}}},
       "ids": {"moco:933662733": "moco:933662733", ...}}

An existing file is read in whatever format it holds. A JSON state file under another name (one an
earlier version wrote for `--state unify.state`) is read once and carried over: the next save
replaces it, atomically, with a SQLite store holding the same state.

Either way the state holds canonical fields only (never `raw`, never a setting), but those include
personal data (names, emails, phones, IBANs where a vendor has them): keep it where the directory
itself may be. A run killed midway leaves the last good state behind.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staffbridge.model.errors import ConfigError
from staffbridge.store.backends import open_store
from staffbridge.store.base import Crosswalk, Store
from staffbridge.store.records import SystemState

__all__ = ["STATE_VERSION", "SyncState"]

log = logging.getLogger("staffbridge.store")

STATE_VERSION = 1  # of the JSON document
SQLITE_HEADER = b"SQLite format 3\x00"

Location = str | os.PathLike[str] | Store


@dataclass
class SyncState:
    """Every system's SystemState by name, and the unified ids handed out ("system:id" -> unified id)."""

    location: Path | Store | None = None
    systems: dict[str, SystemState] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def system(self, name: str) -> SystemState:
        return self.systems.setdefault(name, SystemState())

    @classmethod
    def load(cls, location: Location | None) -> SyncState:
        """The state kept at `location`; an empty state when nothing is kept there yet. A file that is
        not a state file is a ConfigError (never silently replaced: it may be someone else's file)."""
        if location is None:
            return cls()
        if isinstance(location, Store):
            return cls(location, *_from_store(location))
        path = Path(location)
        if not path.exists():
            return cls(path)
        if _holds(path) == "json":
            return cls(path, *_read_json(path))
        with open_store(path) as store:
            return cls(path, *_from_store(store))

    def save(self, location: Location | None = None) -> None:
        """Keeps the state at `location` (default: where it was loaded from; nowhere if neither)."""
        target = location if location is not None else self.location
        if target is None:
            return
        if isinstance(target, Store):
            _to_store(self, target)
            return
        path = Path(target)
        held = _holds(path)
        if path.suffix.lower() == ".json" and held != "sqlite":
            _replace(path, lambda temporary: temporary.write_text(_json_text(self), "utf-8"))
        elif held == "json":  # an earlier version's JSON under another name: carried over into SQLite
            _read_json(path)  # a file that is no state file is refused, never replaced
            _replace(path, lambda temporary: _write_store(self, temporary))
            log.info("carried the JSON state file %s over into a SQLite store", path)
        else:
            _write_store(self, path)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (version 1)."""
        return {
            "version": STATE_VERSION,
            "systems": {name: s.to_dict() for name, s in self.systems.items()},
            "ids": dict(self.ids),
        }

    def crosswalk(self) -> Crosswalk:
        """`ids` as (system, record id) -> unified id. A reference "system:id" is split after the
        longest system name it starts with, so a record id (or a system name) may hold ":" too."""
        names = sorted(self.systems, key=len, reverse=True)
        links: Crosswalk = {}
        for reference, unified_id in self.ids.items():
            system = next((name for name in names if reference.startswith(f"{name}:")), reference.partition(":")[0])
            if reference.startswith(f"{system}:"):  # a reference without a system can never match
                links[(system, reference[len(system) + 1 :])] = unified_id
        return links


def _holds(path: Path) -> str | None:
    """What an existing file holds: "sqlite", "json" (or anything else that is not SQLite), or None
    when there is no file yet or it is empty."""
    try:
        with path.open("rb") as stream:
            head = stream.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the state file {path}: {exc.strerror}", setting="state", source=str(path)
        ) from None
    if not head:
        return None
    return "sqlite" if head == SQLITE_HEADER else "json"


def _from_store(store: Store) -> tuple[dict[str, SystemState], dict[str, str]]:
    return store.cursors(), {
        f"{system}:{record_id}": unified for (system, record_id), unified in store.crosswalk().items()
    }


def _to_store(state: SyncState, store: Store) -> None:
    store.save_sync(state.systems, state.crosswalk())


def _write_store(state: SyncState, path: Path) -> None:
    with open_store(path) as store:
        _to_store(state, store)


def _read_json(path: Path) -> tuple[dict[str, SystemState], dict[str, str]]:
    where = str(path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the state file {path}: {exc.strerror}", setting="state", source=where) from None
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(
            f"{path} is not a staffbridge state file (not JSON); give a new path or remove it",
            setting="state",
            source=where,
        ) from None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION or not isinstance(data.get("systems"), dict):
        raise ConfigError(
            f"{path} is not a staffbridge state file (version {STATE_VERSION}); give a new path or remove it",
            setting="state",
            source=where,
        )
    systems = {str(name): SystemState.from_dict(value, f"{path} [{name}]") for name, value in data["systems"].items()}
    ids = data.get("ids") or {}
    return systems, {str(k): str(v) for k, v in ids.items()} if isinstance(ids, dict) else {}


def _json_text(state: SyncState) -> str:
    return json.dumps(state.to_dict(), ensure_ascii=False, indent=1, default=str) + "\n"


def _replace(target: Path, write: Callable[[Path], object]) -> None:
    """Writes a file beside `target` with `write(path)`, then renames it over `target`: a run killed
    midway leaves the old file whole."""
    directory = target.parent if str(target.parent) else Path(".")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the state file {target}: {exc.strerror}", setting="state", source=str(target)
        ) from None
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.replace(temporary, target)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the state file {target}: {exc.strerror}", setting="state", source=str(target)
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
