"""Reading everyone in a system, for both jobs: `read_everyone` (a migration's source and target, and
each unify read), and `read_system` for a unify run: incrementally where the vendor can, else whole;
never guessing.

- Incremental (the adapter declares a `Cursor`, sdk.cursor; e.g. MOCO's `updated_after`): once a
  complete read is on record, later runs ask only for what changed since the state's cursor (the
  cursor's filter) and lay it over the snapshot, so people who did not change are still there. The
  cursor is the newest value of the cursor's field seen, minus a safety overlap (`overlap`, else the
  cursor's own) while that change is recent (see `next_cursor`); records read again in the overlap
  are compared with the snapshot, not counted as changes.
- Whole: every other adapter, the first run, `full=True`, and every `full_every`-th run.
- Deletes: a person in the snapshot but missing from a *complete whole* read is removed. An
  `updated_after` read cannot show deletes (a deleted record simply stops appearing); MOCO's docs
  recommend a DELETE webhook subscription for those, and a periodic whole read (`full_every`, or
  `full=True` now and then) catches them here.
- A read that fails midway removes nobody: its people (the snapshot, with whatever was read before
  the failure laid over it) are *unknown*, and the state of that system stays as it was, so the next
  run starts from the same cursor.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from staffbridge.jobs.progress import Progress, ProgressGuard, guarded
from staffbridge.model.person import Person
from staffbridge.sdk.adapter import Adapter
from staffbridge.store.records import SystemState

log = logging.getLogger("staffbridge.unify")

DEFAULT_OVERLAP = dt.timedelta(minutes=5)

FULL, INCREMENTAL, FAILED = "full", "incremental", "failed"


@dataclass
class SystemRead:
    """What reading one system gave: its people now, and how that was found out."""

    name: str
    adapter: str
    mode: str  # full | incremental | failed
    people: dict[str, Person] = field(default_factory=dict)  # key (the vendor id) -> person
    fetched: int = 0  # records the vendor sent in this run
    added: list[str] = field(default_factory=list)  # keys new since the last run
    changed: list[str] = field(default_factory=list)  # keys whose person differs from the last run
    removed: dict[str, Person] = field(default_factory=dict)  # key -> last known person
    since: dt.datetime | None = None  # the cursor's value sent (incremental reads)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.mode != FAILED

    def status(self) -> str:
        return "unknown" if self.mode == FAILED else "present"

    def to_dict(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "mode": self.mode,
            "complete": self.complete,
            "fetched": self.fetched,
            "people": len(self.people),
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "since": self.since.strftime("%Y-%m-%dT%H:%M:%SZ") if self.since else None,
            "error": self.error,
            "notes": list(self.notes),
        }


def can_read_incrementally(adapter: Adapter) -> bool:
    return adapter.capabilities.cursor is not None


def everyone_filters(adapter: Adapter) -> dict[str, Any]:
    """The filters that list everybody, deactivated people included where that takes a filter (MOCO)."""
    return {"include_archived": True} if "include_archived" in adapter.filters else {}


def list_everyone(adapter: Adapter, filters: dict[str, Any] | None = None) -> Iterator[Person]:
    """Every person `adapter` holds (`everyone_filters`), or those `filters` ask for when given."""
    return adapter.list(**(everyone_filters(adapter) if filters is None else filters))


@dataclass
class Listing:
    """What listing a system gave: the people read, and the error that stopped the read (None: whole)."""

    people: list[Person]
    error: Exception | None = None


def read_everyone(
    adapter: Adapter,
    label: str,
    progress: Progress | ProgressGuard | None = None,
    filters: dict[str, Any] | None = None,
    each: Callable[[Person], object] | None = None,
) -> Listing:
    """Reads `list_everyone(adapter, filters)`, telling `progress(count, None, label)` and `each(person)`
    as people come.
    A failure midway does not raise: the listing keeps what was read and the error, and the caller
    says what an incomplete read means (a migration deletes nobody, unify removes nobody)."""
    tell = guarded(progress)
    people: list[Person] = []
    try:
        for person in list_everyone(adapter, filters):
            people.append(person)
            tell(len(people), None, label)
            if each is not None:
                each(person)
    except Exception as exc:  # the caller decides; nothing read so far is lost
        return Listing(people, exc)
    return Listing(people)


def person_key(person: Person, position: int) -> str:
    return str(person.id) if person.id not in (None, "") else f"#{position}"


def read_system(
    name: str,
    adapter: Adapter,
    state: SystemState,
    *,
    full: bool = False,
    full_every: int | None = None,
    overlap: dt.timedelta | None = None,
    progress: Progress | ProgressGuard | None = None,
    now: dt.datetime | None = None,
    deleted: Collection[str] = (),
) -> SystemRead:
    """Reads `adapter`; on success updates `state` (cursor, snapshot, counters), on failure leaves it.

    `deleted`: record ids the vendor reported deleted (MOCO's DELETE webhook) since the last run. An
    incremental read cannot see a delete; these people are removed on this read all the same, unless
    the read just returned them (then they are back)."""
    now = now or dt.datetime.now(dt.UTC)  # when this read started
    cursor = adapter.capabilities.cursor
    if overlap is None:
        overlap = cursor.overlap if cursor is not None else DEFAULT_OVERLAP
    incremental = (
        can_read_incrementally(adapter)
        and state.known
        and state.cursor is not None
        and not full
        and not (full_every and state.runs_since_full + 1 >= full_every)
    )
    filters = everyone_filters(adapter)
    read = SystemRead(name, adapter.name, INCREMENTAL if incremental else FULL)
    if incremental and cursor is not None:
        read.since = state.cursor
        filters[cursor.param] = state.cursor
        read.notes.append(
            f"read only what changed since the last run ({cursor.param}); deletes are not seen "
            "that way: a whole read (full, or full_every) finds them"
        )
    listing = read_everyone(adapter, f"reading {name}", progress, filters)
    fetched: dict[str, Person] = {}
    for person in listing.people:
        fetched[person_key(person, len(fetched))] = person
    read.fetched = len(listing.people)
    if listing.error is not None:  # any failure midway: nobody is removed, the state stays as it was
        exc = listing.error
        read.mode = FAILED
        read.error = f"read failed after {read.fetched} records: {type(exc).__name__}: {exc}"
        read.people = {**state.people, **fetched}
        log.info("%s: %s; its people are unknown this run", name, read.error)  # the directory says so
        return read
    previous = state.people
    read.people = {**previous, **fetched} if incremental else fetched
    read.added = [key for key in fetched if key not in previous]
    read.changed = [key for key, person in fetched.items() if key in previous and previous[key] != person]
    if not incremental and previous and state.known:
        read.removed = {key: person for key, person in previous.items() if key not in fetched}
    gone = {str(id) for id in deleted}
    for key, person in list(read.people.items()):
        if key not in fetched and str(person.id) in gone:
            read.removed[key] = read.people.pop(key)
    _advance(state, read, adapter, fetched, overlap, now)
    return read


def _advance(
    state: SystemState,
    read: SystemRead,
    adapter: Adapter,
    fetched: dict[str, Person],
    overlap: dt.timedelta,
    now: dt.datetime,
) -> None:
    field = adapter.capabilities.cursor.field if adapter.capabilities.cursor is not None else "updated_at"
    stamps = [_aware(stamp) for stamp in (getattr(p, field) for p in fetched.values()) if stamp is not None]
    if state.max_updated_at is not None and read.mode == INCREMENTAL:
        stamps.append(state.max_updated_at)
    newest = max(stamps, default=None)
    state.adapter = adapter.name
    state.runs += 1
    state.last_run = now
    state.people = read.people
    if read.mode == FULL:
        state.last_full, state.runs_since_full = now, 0
    else:
        state.runs_since_full += 1
    state.max_updated_at = newest
    state.cursor = next_cursor(newest, now, overlap) if can_read_incrementally(adapter) else None


def next_cursor(newest: dt.datetime | None, started: dt.datetime, overlap: dt.timedelta) -> dt.datetime | None:
    """Where the next incremental read starts: the newest `updated_at` the vendor sent (its clock, not
    ours), minus `overlap` while that is recent. A record saved while we read, or committed just after
    with a stamp as old as the newest we saw (MOCO stamps whole seconds, and `updated_after` is
    strictly after), is then read again instead of missed. When the newest change is older than the
    overlap at the start of this read, everything stamped up to it had long been committed, so the
    cursor is the newest stamp itself, and the next run fetches only what changed since."""
    if newest is None:
        return None
    return newest if newest <= started - overlap else newest - overlap


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
