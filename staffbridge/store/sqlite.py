"""The embedded store: one SQLite file (or ":memory:" for a run that need not resume), nothing to install.

One connection serves every thread behind a lock; each write is its own committed transaction, in WAL
mode, so a reader (a progress display, a test, a second process) can look in while a job runs, and a
killed process loses nothing committed. Rows carry their scope; every statement filters by it.

The file says what it is: SQLite's `application_id` is staffbridge's and `user_version` the schema
version. A journal written before the store existed (one `records` table, no scope, no id) is
upgraded in place on first open, its records kept in the "default" scope; any other database is
refused rather than written into.

Nothing secret is stored: journal rows hold ids, states and a digest; cursors hold timestamps and the
people last seen (canonical fields, never `raw`, never a setting), which are personal data: keep the
file where the directory itself may be.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from staffbridge.model.errors import ConfigError
from staffbridge.store.base import DEFAULT_SCOPE, Crosswalk, Store, checked_scope
from staffbridge.store.records import Entry, Mark, SystemState

__all__ = ["SQLiteStore"]

APPLICATION_ID = 0x53425247  # "SBRG": marks a staffbridge state file
SCHEMA_VERSION = 2  # 1: the journal-only file of earlier versions (no application id, no scope)

_TABLES = (
    """CREATE TABLE records (
        scope      TEXT NOT NULL,
        pair       TEXT NOT NULL,            -- "source->target": one file may journal several migrations
        key        TEXT NOT NULL,            -- the source id (or "delete:<target id>")
        source_id  TEXT,
        target_id  TEXT,
        state      TEXT NOT NULL,
        action     TEXT,
        reason     TEXT,
        digest     TEXT,                     -- a hash of what was last written (no values, no secrets)
        changed_at TEXT NOT NULL,
        PRIMARY KEY (scope, pair, key))""",
    """CREATE TABLE cursors (
        scope           TEXT NOT NULL,
        system          TEXT NOT NULL,
        adapter         TEXT,
        runs            INTEGER NOT NULL,
        runs_since_full INTEGER NOT NULL,
        last_run        TEXT,
        last_full       TEXT,
        max_updated_at  TEXT,                -- the vendor's newest updated_at seen
        cursor          TEXT,                -- where the next incremental read starts
        PRIMARY KEY (scope, system))""",
    """CREATE TABLE seen (
        scope  TEXT NOT NULL,
        system TEXT NOT NULL,
        key    TEXT NOT NULL,                -- the vendor's record id
        person TEXT NOT NULL,                -- the canonical person as JSON (never raw)
        PRIMARY KEY (scope, system, key))""",
    """CREATE TABLE crosswalk (
        scope      TEXT NOT NULL,
        system     TEXT NOT NULL,
        record_id  TEXT NOT NULL,
        unified_id TEXT NOT NULL,
        PRIMARY KEY (scope, system, record_id))""",
    "CREATE INDEX crosswalk_by_unified_id ON crosswalk (scope, unified_id)",
)
_ENTRY = "SELECT key, source_id, target_id, state, action, reason, changed_at FROM records"
_CURSOR_FIELDS = ("adapter", "runs", "runs_since_full", "last_run", "last_full", "max_updated_at", "cursor")


class SQLiteStore(Store):
    """State of one scope in a SQLite file at `path`."""

    def __init__(self, path: str | os.PathLike[str] = ":memory:", scope: str = DEFAULT_SCOPE) -> None:
        self.scope = checked_scope(scope)
        self.location = os.fspath(path)
        self._lock = threading.Lock()
        try:
            # the lock serialises access, so the connection may be shared by the worker threads
            self._db = sqlite3.connect(self.location, check_same_thread=False, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
        try:
            with self._transaction() as db:  # first: a file that is not ours is refused untouched
                self._prepare(db)
            if self.location != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                # a killed process loses nothing committed in WAL mode with NORMAL; only an OS crash could
                self._db.execute("PRAGMA synchronous=NORMAL")
        except BaseException as exc:
            self._db.close()
            if isinstance(exc, sqlite3.Error):
                raise self._unusable(exc) from None
            raise

    def _unusable(self, exc: sqlite3.Error) -> ConfigError:
        return ConfigError(
            f"cannot use {self.location} as a staffbridge state file: {exc}", setting="store", source=self.location
        )

    def _prepare(self, db: sqlite3.Connection) -> None:
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if application_id == APPLICATION_ID:
            if version > SCHEMA_VERSION:
                raise ConfigError(
                    f"{self.location} was written by a newer staffbridge (state schema {version}); "
                    "upgrade staffbridge to use it",
                    setting="store",
                    source=self.location,
                )
            return
        if tables and (application_id or tables != {"records"}):
            raise ConfigError(
                f"{self.location} is a database of something else, not a staffbridge state file; give a new path",
                setting="store",
                source=self.location,
            )
        old_journal = tables == {"records"}
        if old_journal:
            db.execute("ALTER TABLE records RENAME TO records_v1")
        for statement in _TABLES:
            db.execute(statement)
        if old_journal:
            columns = {row[1] for row in db.execute("PRAGMA table_info(records_v1)")}
            digest = "digest" if "digest" in columns else "NULL"
            db.execute(
                "INSERT INTO records (scope, pair, key, source_id, target_id, state, action, reason, digest, "
                f"changed_at) SELECT ?, pair, key, source_id, target_id, state, action, reason, {digest}, "
                "changed_at FROM records_v1 ORDER BY rowid",
                (DEFAULT_SCOPE,),
            )
            db.execute("DROP TABLE records_v1")
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            # IMMEDIATE takes the write lock at once: two processes never deadlock upgrading a read
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, *parameters: Any) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, (self.scope, *parameters)).fetchall()

    # ------------------------------------------------------------------ the migration journal
    def _journal_write(self, pair: str, marks: list[Mark], changed_at: str) -> None:
        rows = [
            (self.scope, pair, m.key, m.source_id, m.target_id, m.state, m.action, m.reason, m.digest, changed_at)
            for m in marks
        ]
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO records (scope, pair, key, source_id, target_id, state, action, reason, digest, "
                "changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, pair, key) DO UPDATE SET "
                "source_id = COALESCE(excluded.source_id, source_id), "
                "target_id = COALESCE(excluded.target_id, target_id), state = excluded.state, "
                "action = COALESCE(excluded.action, action), reason = excluded.reason, digest = excluded.digest, "
                "changed_at = excluded.changed_at",
                rows,
            )

    def journal_entry(self, pair: str, key: str) -> Entry | None:
        rows = self._rows(f"{_ENTRY} WHERE scope = ? AND pair = ? AND key = ?", pair, key)
        return Entry(*rows[0]) if rows else None

    def journal_entries(self, pair: str) -> list[Entry]:
        return [Entry(*row) for row in self._rows(f"{_ENTRY} WHERE scope = ? AND pair = ? ORDER BY rowid", pair)]

    def journal_written(self, pair: str) -> dict[str, tuple[str, str | None]]:
        rows = self._rows(
            "SELECT key, target_id, digest FROM records WHERE scope = ? AND pair = ? AND state = 'done' "
            "AND target_id IS NOT NULL AND key NOT LIKE 'delete:%' ORDER BY rowid",
            pair,
        )
        return {key: (target_id, digest) for key, target_id, digest in rows}

    def journal_counts(self, pair: str) -> dict[str, int]:
        return dict(self._rows("SELECT state, COUNT(*) FROM records WHERE scope = ? AND pair = ? GROUP BY state", pair))

    def journal_pairs(self) -> list[str]:
        rows = self._rows("SELECT pair FROM records WHERE scope = ? GROUP BY pair ORDER BY MIN(rowid)")
        return [pair for (pair,) in rows]

    # ------------------------------------------------------------------ sync cursors and crosswalk
    def cursors(self) -> dict[str, SystemState]:
        people: dict[str, dict[str, Any]] = {}
        for system, key, person in self._rows("SELECT system, key, person FROM seen WHERE scope = ? ORDER BY rowid"):
            try:
                people.setdefault(system, {})[key] = json.loads(person)
            except ValueError:
                raise ConfigError(
                    f"{self.location} [{system}]: person {key} is not JSON", setting="store", source=self.location
                ) from None
        rows = self._rows(f"SELECT system, {', '.join(_CURSOR_FIELDS)} FROM cursors WHERE scope = ? ORDER BY rowid")
        return {
            system: SystemState.from_dict(
                {**dict(zip(_CURSOR_FIELDS, values, strict=True)), "people": people.get(system, {})},
                f"{self.location} [{system}]",
            )
            for system, *values in rows
        }

    def crosswalk(self) -> Crosswalk:
        rows = self._rows("SELECT system, record_id, unified_id FROM crosswalk WHERE scope = ? ORDER BY rowid")
        return {(system, record_id): unified_id for system, record_id, unified_id in rows}

    def save_sync(self, cursors: Mapping[str, SystemState], crosswalk: Mapping[tuple[str, str], str]) -> None:
        with self._transaction() as db:
            for table in ("cursors", "seen", "crosswalk"):
                db.execute(f"DELETE FROM {table} WHERE scope = ?", (self.scope,))
            for system, state in cursors.items():
                data = state.to_dict()
                db.execute(
                    f"INSERT INTO cursors (scope, system, {', '.join(_CURSOR_FIELDS)}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (self.scope, system, *(data[name] for name in _CURSOR_FIELDS)),
                )
                db.executemany(
                    "INSERT INTO seen (scope, system, key, person) VALUES (?, ?, ?, ?)",
                    [
                        (self.scope, system, key, json.dumps(person, ensure_ascii=False, default=str))
                        for key, person in data["people"].items()
                    ],
                )
            db.executemany(
                "INSERT INTO crosswalk (scope, system, record_id, unified_id) VALUES (?, ?, ?, ?)",
                [(self.scope, system, record_id, unified_id) for (system, record_id), unified_id in crosswalk.items()],
            )

    def link(self, system: str, record_id: str, unified_id: str | None) -> None:
        with self._transaction() as db:
            if unified_id is None:
                db.execute(
                    "DELETE FROM crosswalk WHERE scope = ? AND system = ? AND record_id = ?",
                    (self.scope, system, record_id),
                )
            else:
                db.execute(
                    "INSERT INTO crosswalk (scope, system, record_id, unified_id) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (scope, system, record_id) DO UPDATE SET unified_id = excluded.unified_id",
                    (self.scope, system, record_id, unified_id),
                )

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        with self._lock:
            self._db.close()
