"""The store: one interface for every kind of state a job keeps, whatever holds it.

Three kinds, each a few methods:

- the migration journal, per pair ("source->target") and key: each write's state before the request
  and again after the answer, so a killed run resumes without duplicates;
- the sync cursors, per system: where the next incremental read starts, and who was seen (so a
  person missing from a later whole read is known to be removed);
- the crosswalk: which unified person each system's record belongs to, so unified ids stay put.

A store is opened for one `scope` (a tenant, a namespace; "default" unless told): every row it
writes belongs to that scope, and it never sees another scope's rows, so many tenants can share one
database. Writes are committed before the method returns, and a store may be shared by threads
(the migration writes from its workers). The SQLite backend (`staffbridge.store.sqlite`) is the
embedded default; `staffbridge.store.backends.open_store` picks the backend for a location.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterable, Mapping

from staffbridge.model.errors import ConfigError
from staffbridge.store.records import STATES, Entry, Mark, SystemState

__all__ = ["DEFAULT_SCOPE", "Crosswalk", "Store", "checked_scope"]

DEFAULT_SCOPE = "default"

Crosswalk = dict[tuple[str, str], str]  # (system, record id) -> unified person id


def checked_scope(scope: object) -> str:
    """The scope a store is opened for: any non-empty name (a tenant id, a namespace)."""
    if not isinstance(scope, str) or not scope:
        raise ConfigError(f"a store scope is a non-empty name, not {scope!r}", setting="scope")
    return scope


class Store(abc.ABC):
    """State of one scope at one location. Subclasses fill the `_journal_write` hook and the readers."""

    location: str
    scope: str

    def __repr__(self) -> str:  # a backend whose location holds a password masks it here
        return f"<{type(self).__name__} {self.location} scope={self.scope!r}>"

    # ------------------------------------------------------------------ the migration journal
    def journal_mark(self, pair: str, marks: Iterable[Mark]) -> None:
        """Records every mark in one transaction, committed before this returns; an unknown state
        raises ValueError and records none of them."""
        batch = []
        for mark in marks:
            if mark.state not in STATES:
                raise ValueError(f"unknown journal state {mark.state!r}")
            batch.append(mark if mark.state == "done" else mark._replace(digest=None))
        if batch:
            self._journal_write(pair, batch, dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"))

    @abc.abstractmethod
    def _journal_write(self, pair: str, marks: list[Mark], changed_at: str) -> None:
        """Upserts the (checked) marks in one transaction; None keeps an earlier source id, target id
        and action, while state, reason and digest are always replaced."""

    @abc.abstractmethod
    def journal_entry(self, pair: str, key: str) -> Entry | None:
        """The last state of `key`, or None when it was never marked."""

    @abc.abstractmethod
    def journal_entries(self, pair: str) -> list[Entry]:
        """Every entry of the pair, in the order the keys were first marked."""

    @abc.abstractmethod
    def journal_written(self, pair: str) -> dict[str, tuple[str, str | None]]:
        """source key -> (target id, digest) for every record last seen done (deletes left out)."""

    @abc.abstractmethod
    def journal_counts(self, pair: str) -> dict[str, int]:
        """state -> how many keys of the pair are in it."""

    @abc.abstractmethod
    def journal_pairs(self) -> list[str]:
        """Every pair ("source->target") the scope journals, in the order first marked."""

    # ------------------------------------------------------------------ sync cursors and crosswalk
    @abc.abstractmethod
    def cursors(self) -> dict[str, SystemState]:
        """system name -> its state (cursor, counters, the people seen), in the order saved."""

    @abc.abstractmethod
    def crosswalk(self) -> Crosswalk:
        """(system, record id) -> unified person id, in the order saved."""

    @abc.abstractmethod
    def save_sync(self, cursors: Mapping[str, SystemState], crosswalk: Mapping[tuple[str, str], str]) -> None:
        """Replaces the scope's cursors and crosswalk with these, in one transaction: a run killed
        midway leaves the last good state whole."""

    @abc.abstractmethod
    def link(self, system: str, record_id: str, unified_id: str | None) -> None:
        """Sets (or with None removes) one crosswalk row at once, committed before this returns: for a
        caller that learns one link at a time (the SCIM gateway keeps an identity provider's
        externalId of each vendor record), where `save_sync` would rewrite them all."""

    # ------------------------------------------------------------------ lifetime
    @abc.abstractmethod
    def close(self) -> None:
        """Releases the location; closing twice is harmless."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
