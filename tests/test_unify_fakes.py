"""Plain-data stand-ins for unify tests: an in-memory adapter, no HTTP (imported by the test_unify* and
test_sync* modules; its own test checks the stand-in behaves like an adapter)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from staffbridge import Person
from staffbridge.sdk.adapter import Adapter, Capabilities
from staffbridge.sdk.cursor import Cursor

UTC = dt.UTC


def at(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2024, 1, day, hour, tzinfo=UTC)


class Broken(RuntimeError):
    pass


class MemoryAdapter(Adapter):
    """Holds Persons; lists them (with `updated_after` when `incremental`), fails after `fail_after`."""

    def __init__(
        self, name: str, people: list[Person], incremental: bool = False, fail_after: int | None = None
    ) -> None:
        self.name = name
        self.settings = {}
        self._refs = {}
        self.people = {p.id: p for p in people}
        self.incremental = incremental
        self.filters = ("include_archived", "updated_after") if incremental else ()
        self.fail_after = fail_after
        self.calls: list[dict[str, Any]] = []  # the filters of every list()
        self.sent = 0  # records handed out, over all calls

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            operations=("list",),
            filters=self.filters,
            read_fields=(),
            write_fields=(),
            required_on_create=(),
            pagination="none",
            cursor=Cursor() if self.incremental else None,
        )

    def fetch_records(self, **filters: Any) -> Iterator[Person]:
        self.calls.append(filters)
        since = filters.get("updated_after")
        for count, person in enumerate(list(self.people.values())):
            if self.fail_after is not None and count >= self.fail_after:
                raise Broken(f"{self.name} broke off")
            if since is not None and not (person.updated_at and person.updated_at > since):
                continue
            self.sent += 1
            yield person

    def to_person(self, record: Person) -> Person:
        return record.replace(system=self.name)

    def put(self, person: Person) -> None:
        self.people[person.id] = person


def staff(n: int, system_id: str | None = None, **changes: Any) -> Person:
    """Sample person n: the same name and email wherever it appears."""
    values = dict(
        id=system_id or str(n),
        first_name=f"First{n}",
        last_name=f"Last{n}",
        email=f"person.{n}@example.com",
        work_phone=f"+49 40 {1000 + n}",
        updated_at=at(1),
    )
    values.update(changes)
    return Person(**values)


def test_memory_adapter_lists_filters_and_fails_like_an_adapter() -> None:
    adapter = MemoryAdapter("a", [staff(1, updated_at=at(1)), staff(2, updated_at=at(3))], incremental=True)
    assert [p.id for p in adapter.list(updated_after=at(2))] == ["2"]
    assert adapter.capabilities.incremental and adapter.calls == [{"updated_after": at(2)}]
    broken = MemoryAdapter("b", [staff(1), staff(2)], fail_after=1)
    seen = []
    try:
        for person in broken.list():
            seen.append(person.id)
    except Broken:
        pass
    assert seen == ["1"] and next(iter(adapter.list())).system == "a"
