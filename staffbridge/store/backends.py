"""Which backend keeps the state at a location.

A file path (or ":memory:") is a SQLite file, the embedded default. The platform's PostgreSQL backend
will answer for `postgresql://` locations here, so that every caller (the journal, the sync state,
the CLI's --journal and --state) takes it without changing.
"""

from __future__ import annotations

import os

from staffbridge.store.base import DEFAULT_SCOPE, Store
from staffbridge.store.sqlite import SQLiteStore

__all__ = ["open_store"]


def open_store(location: str | os.PathLike[str], *, scope: str = DEFAULT_SCOPE) -> Store:
    """The store at `location`, seeing only the rows of `scope`; created when it does not exist yet."""
    return SQLiteStore(location, scope=scope)
