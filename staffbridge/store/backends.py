"""Which backend keeps the state at a location.

A file path (or ":memory:") is a SQLite file, the embedded default. A `postgresql://` (or
`postgres://`) URL is the platform's PostgreSQL database (`staffbridge.store.postgres`, which needs
the `platform` extra), so every caller (the journal, the sync state, the CLI's --journal and --state)
takes it without changing.
"""

from __future__ import annotations

import os

from staffbridge.store.base import DEFAULT_SCOPE, Store
from staffbridge.store.sqlite import SQLiteStore

__all__ = ["POSTGRES_SCHEMES", "open_store"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(location: str | os.PathLike[str], *, scope: str = DEFAULT_SCOPE) -> Store:
    """The store at `location`, seeing only the rows of `scope`; created when it does not exist yet."""
    text = os.fspath(location)
    if isinstance(text, str) and text.startswith(POSTGRES_SCHEMES):
        from staffbridge.store.postgres import PostgresStore  # psycopg loads only for a PostgreSQL store

        return PostgresStore(text, scope=scope)
    return SQLiteStore(location, scope=scope)
