"""The migration journal: a SQLite file saying, per record, how far the work got.

Each write is bracketed: the state before the request ("creating", "updating", "deleting") is
committed *before* the request goes out, and "done" (with the target id) right after the answer. A
run killed at any moment therefore leaves either nothing, or a record in a "...ing" state whose
write may or may not have reached the vendor; the next run looks such a record up in the target
before writing again, so a create is never sent twice.

    journal = Journal("migration.sqlite", pair="moco->whosoff")
    journal.mark("933662733", "creating")
    journal.mark("933662733", "done", target_id="1000001", action="create")

Nothing else is stored: no record bodies, never a password; `digest` is a hash of the canonical
values last written for a record, so a rerun can tell "we wrote exactly this" from "this changed". One connection serves every worker
thread behind a lock; each state change is its own committed transaction (WAL, so a reader such as
a progress display or a test can look in while a migration runs).
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

__all__ = ["Entry", "Journal", "STATES"]

STATES = ("creating", "updating", "deleting", "done", "deleted", "failed")
IN_FLIGHT = ("creating", "updating", "deleting")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    pair       TEXT NOT NULL,            -- "source->target": one file may journal several migrations
    key        TEXT NOT NULL,            -- the source id (or "delete:<target id>")
    source_id  TEXT,
    target_id  TEXT,
    state      TEXT NOT NULL,
    action     TEXT,
    reason     TEXT,
    digest     TEXT,                     -- a hash of what was last written (no values, no secrets)
    changed_at TEXT NOT NULL,
    PRIMARY KEY (pair, key)
);
"""


@dataclass(frozen=True)
class Entry:
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


class Journal:
    """Per-record migration state in SQLite (`path`, or ":memory:" for a run that need not resume)."""

    def __init__(self, path: str | Path = ":memory:", pair: str = "migration") -> None:
        self.path = str(path)
        self.pair = pair
        self._lock = threading.Lock()
        # the lock serialises access, so the connection may be shared by the worker threads
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            # a killed process loses nothing committed in WAL mode with NORMAL; only an OS crash could
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"<Journal {self.path} pair={self.pair!r}>"

    # ------------------------------------------------------------------ writing
    def mark(self, key: str, state: str, *, source_id: str | None = None, target_id: str | None = None,
             action: str | None = None, reason: str | None = None, digest: str | None = None) -> None:
        """Records the state of `key`, committed before this returns. A missing target id or action
        keeps the one recorded earlier; the digest is kept only with "done"."""
        self.mark_many([(key, state, source_id, target_id, action, reason, digest)])

    def mark_many(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Several (key, state, source_id, target_id, action, reason[, digest]) in one transaction."""
        now = _now()
        batch = []
        for key, state, source_id, target_id, action, reason, *rest in rows:
            if state not in STATES:
                raise ValueError(f"unknown journal state {state!r}")
            digest = rest[0] if rest and state == "done" else None
            batch.append((self.pair, key, source_id, target_id, state, action, reason, digest, now))
        if not batch:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT INTO records (pair, key, source_id, target_id, state, action, reason, digest, "
                    "changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pair, key) DO UPDATE SET "
                    "source_id = COALESCE(excluded.source_id, source_id), "
                    "target_id = COALESCE(excluded.target_id, target_id), state = excluded.state, "
                    "action = COALESCE(excluded.action, action), reason = excluded.reason, digest = excluded.digest, "
                    "changed_at = excluded.changed_at", batch)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ------------------------------------------------------------------ reading
    def get(self, key: str) -> Entry | None:
        with self._lock:
            row = self._db.execute("SELECT key, source_id, target_id, state, action, reason, changed_at "
                                   "FROM records WHERE pair = ? AND key = ?", (self.pair, key)).fetchone()
        return Entry(*row) if row else None

    def entries(self) -> list[Entry]:
        with self._lock:
            rows = self._db.execute("SELECT key, source_id, target_id, state, action, reason, changed_at "
                                    "FROM records WHERE pair = ? ORDER BY rowid", (self.pair,)).fetchall()
        return [Entry(*row) for row in rows]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def links(self) -> dict[str, str]:
        """source key -> target id for every record the journal knows reached the target."""
        with self._lock:
            rows = self._db.execute("SELECT key, target_id FROM records WHERE pair = ? AND state = 'done' "
                                    "AND target_id IS NOT NULL AND key NOT LIKE 'delete:%'",
                                    (self.pair,)).fetchall()
        return dict(rows)

    def written(self) -> dict[str, tuple[str, str | None]]:
        """source key -> (target id, digest) for every record last seen done."""
        with self._lock:
            rows = self._db.execute("SELECT key, target_id, digest FROM records WHERE pair = ? AND state = 'done' "
                                    "AND target_id IS NOT NULL AND key NOT LIKE 'delete:%'",
                                    (self.pair,)).fetchall()
        return {key: (target_id, digest) for key, target_id, digest in rows}

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM records WHERE pair = ? GROUP BY state",
                                    (self.pair,)).fetchall()
        return dict(rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
