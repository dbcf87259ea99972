"""The platform's store: PostgreSQL through psycopg 3 and a connection pool, many tenants in one database.

A location is a libpq URL (`postgresql://user@host:5432/db`); a store is opened for one scope (the
tenant id) and every statement filters by it, with the scope passed as a bound parameter, never
spliced into SQL. The schema is created (or upgraded) on first open, under an advisory lock so that
workers starting together do not race. Tables carry the `staffbridge_` prefix, so the platform may
share a database with other software.

Connections come from one pool per process and location (`STAFFBRIDGE_PG_POOL` connections at most,
8 by default), shared by every store opened there: a worker serving hundreds of tenants keeps a few
connections, not one per tenant. A pool is never carried across a fork (Celery's prefork workers):
a child opens its own.

Each read is one statement, each write one transaction; `queries` counts the statements a store sent
(for the benchmark's "database queries per sync").

What is stored is what the SQLite store keeps (ids, states, digests, the canonical people last seen;
never `raw`, never a setting); the location's password, if it has one, is masked in every repr and error.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from staffbridge.model.errors import ConfigError
from staffbridge.store.base import DEFAULT_SCOPE, Crosswalk, Store, checked_scope
from staffbridge.store.records import Entry, Mark, SystemState

__all__ = ["SCHEMA_VERSION", "PostgresStore", "close_pool", "close_pools", "masked", "pool_for"]

SCHEMA_VERSION = 1
_SCHEMA_LOCK = 0x53425247  # pg_advisory_xact_lock key: one process creates or upgrades the schema at a time
_CURSOR_FIELDS = ("adapter", "runs", "runs_since_full", "last_run", "last_full", "max_updated_at", "cursor")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS staffbridge_schema (
        id      INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS staffbridge_journal (
        seq        BIGSERIAL,                -- the order keys were first marked (an upsert keeps it)
        scope      TEXT NOT NULL,
        pair       TEXT NOT NULL,
        key        TEXT NOT NULL,
        source_id  TEXT,
        target_id  TEXT,
        state      TEXT NOT NULL,
        action     TEXT,
        reason     TEXT,
        digest     TEXT,
        changed_at TEXT NOT NULL,
        PRIMARY KEY (scope, pair, key))""",
    """CREATE TABLE IF NOT EXISTS staffbridge_cursors (
        scope           TEXT NOT NULL,
        system          TEXT NOT NULL,
        position        INTEGER NOT NULL,
        adapter         TEXT,
        runs            INTEGER NOT NULL,
        runs_since_full INTEGER NOT NULL,
        last_run        TEXT,
        last_full       TEXT,
        max_updated_at  TEXT,
        cursor          TEXT,
        people          TEXT NOT NULL,       -- JSON [[key, person], ...]: text keeps the order, jsonb would not
        PRIMARY KEY (scope, system))""",
    """CREATE TABLE IF NOT EXISTS staffbridge_crosswalk (
        scope      TEXT NOT NULL,
        system     TEXT NOT NULL,
        record_id  TEXT NOT NULL,
        unified_id TEXT NOT NULL,
        position   INTEGER NOT NULL,
        PRIMARY KEY (scope, system, record_id))""",
    "CREATE INDEX IF NOT EXISTS staffbridge_crosswalk_by_unified_id ON staffbridge_crosswalk (scope, unified_id)",
)
_ENTRY = "SELECT key, source_id, target_id, state, action, reason, changed_at FROM staffbridge_journal"

_pools: dict[tuple[int, str], Any] = {}
_pools_lock = threading.Lock()
_prepared: set[tuple[int, str]] = set()


def masked(location: str) -> str:
    """The location with its password replaced by ***, in URL and key=value form alike."""
    location = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", location)
    return re.sub(r"(password\s*=\s*)(\S+)", r"\1***", location, flags=re.IGNORECASE)


def pool_for(location: str) -> Any:
    """This process's connection pool for `location` (made, and waited for, on first use)."""
    from psycopg_pool import ConnectionPool, PoolTimeout

    key = (os.getpid(), location)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            size = int(os.environ.get("STAFFBRIDGE_PG_POOL", "8"))
            pool = ConnectionPool(
                location, min_size=1, max_size=max(1, size), open=False, kwargs={"autocommit": True}, name="staffbridge"
            )
            pool.open()
            try:
                pool.wait(timeout=float(os.environ.get("STAFFBRIDGE_PG_CONNECT_TIMEOUT", "10")))
            except PoolTimeout:
                pool.close()
                raise ConfigError(
                    f"cannot connect to the PostgreSQL store at {masked(location)}",
                    setting="store",
                    source=masked(location),
                ) from None
            _pools[key] = pool
        return pool


def close_pool(location: str) -> None:
    """Closes this process's pool for `location` (a test dropping its database, a worker shutting down)."""
    with _pools_lock:
        pool = _pools.pop((os.getpid(), location), None)
        _prepared.discard((os.getpid(), location))
    if pool is not None:
        pool.close()


@atexit.register
def close_pools() -> None:
    """Closes every pool this process opened."""
    with _pools_lock:
        mine = [(key, pool) for key, pool in _pools.items() if key[0] == os.getpid()]
    for (_, location), _pool in mine:
        close_pool(location)


class PostgresStore(Store):
    """State of one scope (a tenant) in the PostgreSQL database at `location`."""

    def __init__(self, location: str, scope: str = DEFAULT_SCOPE) -> None:
        self.scope = checked_scope(scope)
        self._dsn = location
        self.location = masked(location)
        self.queries = 0
        self._pool = pool_for(location)
        key = (os.getpid(), location)
        if key not in _prepared:
            self._prepare()
            _prepared.add(key)

    def _prepare(self) -> None:
        import psycopg

        try:
            with self._pool.connection() as db, db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for statement in _SCHEMA:
                    db.execute(statement)
                row = db.execute("SELECT version FROM staffbridge_schema").fetchone()
                if row is None:
                    db.execute("INSERT INTO staffbridge_schema (id, version) VALUES (1, %s)", (SCHEMA_VERSION,))
                elif row[0] > SCHEMA_VERSION:
                    raise ConfigError(
                        f"{self.location} was written by a newer staffbridge (state schema "
                        f"{row[0]}); upgrade staffbridge to use it",
                        setting="store",
                        source=self.location,
                    )
        except psycopg.Error as exc:
            raise ConfigError(
                f"cannot prepare the PostgreSQL store at {self.location}: {type(exc).__name__}",
                setting="store",
                source=self.location,
            ) from None

    def _rows(self, sql: str, *parameters: Any) -> list[Any]:
        self.queries += 1
        with self._pool.connection() as db:
            return db.execute(sql, (self.scope, *parameters)).fetchall()

    def _write(self, statements: Iterator[tuple[str, Any]] | list[tuple[str, Any]]) -> None:
        """Runs (sql, parameters) pairs in one transaction; a list of parameter tuples is executemany."""
        with self._pool.connection() as db, db.transaction():
            cursor = db.cursor()
            for sql, parameters in statements:
                self.queries += 1
                if isinstance(parameters, list):
                    cursor.executemany(sql, parameters)
                else:
                    cursor.execute(sql, parameters)

    # ------------------------------------------------------------------ the migration journal
    def _journal_write(self, pair: str, marks: list[Mark], changed_at: str) -> None:
        rows = [
            (self.scope, pair, m.key, m.source_id, m.target_id, m.state, m.action, m.reason, m.digest, changed_at)
            for m in marks
        ]
        self._write(
            [
                (
                    "INSERT INTO staffbridge_journal AS j (scope, pair, key, source_id, target_id, state, action, "
                    "reason, digest, changed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (scope, pair, key) "
                    "DO UPDATE SET source_id = COALESCE(excluded.source_id, j.source_id), "
                    "target_id = COALESCE(excluded.target_id, j.target_id), state = excluded.state, "
                    "action = COALESCE(excluded.action, j.action), reason = excluded.reason, digest = excluded.digest, "
                    "changed_at = excluded.changed_at",
                    rows,
                )
            ]
        )

    def journal_entry(self, pair: str, key: str) -> Entry | None:
        rows = self._rows(f"{_ENTRY} WHERE scope = %s AND pair = %s AND key = %s", pair, key)
        return Entry(*rows[0]) if rows else None

    def journal_entries(self, pair: str) -> list[Entry]:
        return [Entry(*row) for row in self._rows(f"{_ENTRY} WHERE scope = %s AND pair = %s ORDER BY seq", pair)]

    def journal_written(self, pair: str) -> dict[str, tuple[str, str | None]]:
        rows = self._rows(
            "SELECT key, target_id, digest FROM staffbridge_journal WHERE scope = %s AND pair = %s "
            "AND state = 'done' AND target_id IS NOT NULL AND NOT starts_with(key, 'delete:') "
            "ORDER BY seq",
            pair,
        )
        return {key: (target_id, digest) for key, target_id, digest in rows}

    def journal_counts(self, pair: str) -> dict[str, int]:
        return dict(
            self._rows(
                "SELECT state, COUNT(*) FROM staffbridge_journal WHERE scope = %s AND pair = %s GROUP BY state", pair
            )
        )

    def journal_pairs(self) -> list[str]:
        rows = self._rows("SELECT pair FROM staffbridge_journal WHERE scope = %s GROUP BY pair ORDER BY MIN(seq)")
        return [pair for (pair,) in rows]

    # ------------------------------------------------------------------ sync cursors and crosswalk
    def cursors(self) -> dict[str, SystemState]:
        rows = self._rows(
            f"SELECT system, {', '.join(_CURSOR_FIELDS)}, people FROM staffbridge_cursors "
            "WHERE scope = %s ORDER BY position"
        )
        states = {}
        for system, *values, people in rows:
            where = f"{self.location} [{system}]"
            try:
                pairs = json.loads(people)
            except ValueError:
                raise ConfigError(f"{where}: the people seen are not JSON", setting="store", source=where) from None
            states[system] = SystemState.from_dict(
                {**dict(zip(_CURSOR_FIELDS, values, strict=False)), "people": dict(pairs)}, where
            )
        return states

    def crosswalk(self) -> Crosswalk:
        rows = self._rows(
            "SELECT system, record_id, unified_id FROM staffbridge_crosswalk WHERE scope = %s ORDER BY position"
        )
        return {(system, record_id): unified_id for system, record_id, unified_id in rows}

    def save_sync(self, cursors: Mapping[str, SystemState], crosswalk: Mapping[tuple[str, str], str]) -> None:
        rows = []
        for position, (system, state) in enumerate(cursors.items()):
            data = state.to_dict()
            people = json.dumps(list(data["people"].items()), ensure_ascii=False, default=str)
            rows.append((self.scope, system, position, *(data[name] for name in _CURSOR_FIELDS), people))
        links = list(crosswalk.items())
        self._write(
            [
                ("DELETE FROM staffbridge_cursors WHERE scope = %s", (self.scope,)),
                ("DELETE FROM staffbridge_crosswalk WHERE scope = %s", (self.scope,)),
                (
                    f"INSERT INTO staffbridge_cursors (scope, system, position, {', '.join(_CURSOR_FIELDS)}, people) "
                    "SELECT %s, * FROM unnest(%s::text[], %s::int[], %s::text[], %s::int[], %s::int[], %s::text[], "
                    "%s::text[], %s::text[], %s::text[], %s::text[])",
                    (self.scope, *_columns([row[1:] for row in rows], 10)),
                ),
                (
                    "INSERT INTO staffbridge_crosswalk (scope, system, record_id, unified_id, position) "
                    "SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[])",
                    (
                        self.scope,
                        [s for (s, _), _ in links],
                        [r for (_, r), _ in links],
                        [u for _, u in links],
                        list(range(len(links))),
                    ),
                ),
            ]
        )

    def link(self, system: str, record_id: str, unified_id: str | None) -> None:
        statement: tuple[str, tuple[str, ...]]
        if unified_id is None:
            statement = (
                "DELETE FROM staffbridge_crosswalk WHERE scope = %s AND system = %s AND record_id = %s",
                (self.scope, system, record_id),
            )
        else:  # a new row goes last, as save_sync orders them
            statement = (
                "INSERT INTO staffbridge_crosswalk (scope, system, record_id, unified_id, position) "
                "SELECT %s, %s, %s, %s, coalesce(max(position), -1) + 1 FROM staffbridge_crosswalk WHERE scope = %s "
                "ON CONFLICT (scope, system, record_id) DO UPDATE SET unified_id = excluded.unified_id",
                (self.scope, system, record_id, unified_id, self.scope),
            )
        self._write([statement])

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Nothing to release: the pool stays open for the other stores of this process (closed at exit)."""


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as columns, for one INSERT ... SELECT FROM unnest(...) instead of a statement per row."""
    return [list(column) for column in zip(*rows, strict=False)] if rows else [[] for _ in range(width)]
