"""The migration journal: per record of one migration, how far the work got, kept in a store.

Each write is bracketed: the state before the request ("creating", "updating", "deleting") is
committed *before* the request goes out, and "done" (with the target id) right after the answer. A
run killed at any moment therefore leaves either nothing, or a record in a "...ing" state whose
write may or may not have reached the vendor; the next run looks such a record up in the target
before writing again, so a create is never sent twice.

    journal = Journal("migration.sqlite", pair="moco->whosoff")
    journal.mark("933662733", "creating")
    journal.mark("933662733", "done", target_id="1000001", action="create")

Nothing else is stored: no record bodies, never a password; `digest` is a hash of the canonical
values last written for a record, so a rerun can tell "we wrote exactly this" from "this changed".
The worker threads of a migration share one journal (see `Store`: each mark is committed at once).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from staffbridge.store.backends import open_store
from staffbridge.store.base import Store
from staffbridge.store.records import Entry, Mark

__all__ = ["Journal"]


class Journal:
    """The journal of one pair ("source->target") in a store: a location (a SQLite file, or ":memory:"
    for a run that need not resume), or a Store opened for a scope. One store may journal several
    pairs, and hold unify's sync state too."""

    def __init__(self, location: str | os.PathLike[str] | Store = ":memory:", pair: str = "migration") -> None:
        self._owns_store = not isinstance(location, Store)
        self.store = location if isinstance(location, Store) else open_store(location)
        self.pair = pair

    def __repr__(self) -> str:
        return f"<Journal {self.store.location} pair={self.pair!r}>"

    # ------------------------------------------------------------------ writing
    def mark(
        self,
        key: str,
        state: str,
        *,
        source_id: str | None = None,
        target_id: str | None = None,
        action: str | None = None,
        reason: str | None = None,
        digest: str | None = None,
    ) -> None:
        """Records the state of `key`, committed before this returns. A missing target id or action
        keeps the one recorded earlier; the digest is kept only with "done"."""
        self.store.journal_mark(self.pair, [Mark(key, state, source_id, target_id, action, reason, digest)])

    def mark_many(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Several (key, state, source_id, target_id, action, reason[, digest]) in one transaction."""
        self.store.journal_mark(self.pair, [Mark(*row) for row in rows])

    # ------------------------------------------------------------------ reading
    def get(self, key: str) -> Entry | None:
        return self.store.journal_entry(self.pair, key)

    def entries(self) -> list[Entry]:
        return self.store.journal_entries(self.pair)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def written(self) -> dict[str, tuple[str, str | None]]:
        """source key -> (target id, digest) for every record last seen done."""
        return self.store.journal_written(self.pair)

    def counts(self) -> dict[str, int]:
        return self.store.journal_counts(self.pair)

    def close(self) -> None:
        """Closes the store this journal opened (a Store handed in stays open: its owner closes it)."""
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
