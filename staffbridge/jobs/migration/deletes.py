"""What a migration may delete: only target records the source side could have read, and no more of
them than the brake allows.

A target record no source person matches is deleted (with `delete_missing`) only when the source was
read in a way that would have shown that person:

- *Inactive* records are left alone unless the source read included inactive people: it holds some,
  or it was read with its adapter's everyone-filter (MOCO's `include_archived`). A CSV written by
  `list moco --filter active=true` holds no archived people; its migration must not delete them.
- *Outside a filter*: a source read with filters is compared with each target record on the canonical
  fields the filters name (`active`, `department` by name, `email`, `tags`, ...). A record the filter
  would leave out is left alone; so is every record when a filter names no canonical field (MOCO's
  `ids`, `updated_after`): what it leaves out cannot be known.

The brake: a plan deleting more than `max_delete` records (default: 10, or 5% of the target,
whichever is larger) is refused before any write, with `TooManyDeletes`. A filter change that
empties a source must not empty the target.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from staffbridge.model.compare import is_empty, name_key, same_value
from staffbridge.model.errors import ConfigError, TooManyDeletes
from staffbridge.model.person import CANONICAL_FIELDS, Person
from staffbridge.model.values import Ref

__all__ = ["DEFAULT_MAX_DELETE", "DeleteScope", "check_delete_limit", "delete_limit", "describe_filters"]

DEFAULT_MAX_DELETE = (10, 5)  # people, percent of the target: whichever allows more


def delete_limit(max_delete: int | None, target_count: int) -> int:
    """The most deletes a plan may hold: `max_delete` as given, else the default for this target."""
    if max_delete is None:
        people, percent = DEFAULT_MAX_DELETE
        return max(people, target_count * percent // 100)
    if not isinstance(max_delete, int) or isinstance(max_delete, bool) or max_delete < 0:
        raise ConfigError(f"migrate: max_delete must be a whole number, 0 or more, not {max_delete!r}", "max_delete")
    return max_delete


def check_delete_limit(deletes: int, limit: int, target: str) -> None:
    """Raises `TooManyDeletes` when a plan's deletes are over its limit; called before any write."""
    if deletes > limit:
        raise TooManyDeletes(deletes, limit, target)


def describe_filters(filters: Mapping[str, Any]) -> str:
    return " ".join(f"{key}={_text(value)}" for key, value in filters.items())


class DeleteScope:
    """Which target records the source side could have read: `why_left_alone(record)` says why not.

    `filters` are the filters the source was read with, `everyone` its adapter's everyone-filter
    (which narrows nothing); `read_inactive` says whether the read included inactive people."""

    def __init__(self, filters: Mapping[str, Any], people: Iterable[Person], everyone: Mapping[str, Any]) -> None:
        self.filters = {key: value for key, value in filters.items() if key not in everyone or everyone[key] != value}
        self.read_inactive = any(p.active is False for p in people) or (
            bool(everyone) and not any(key in self.filters for key in everyone)
        )
        self.unchecked = [key for key in self.filters if key not in CANONICAL_FIELDS]

    def why_left_alone(self, record: Person) -> tuple[str, str] | None:
        """None when a delete of `record` may be planned, else what kind of record it is ("inactive",
        or "") and why it is left alone: records left alone for one reason share it word for word."""
        if self.unchecked:
            return "", (
                f"the source was read with the filter {describe_filters(self.filters)}, which cannot be checked "
                f"on target records ({', '.join(self.unchecked)}: not a person field)"
            )
        if not all(_fits(record, key, value) for key, value in self.filters.items()):
            return "", f"outside the source filter {describe_filters(self.filters)}"
        if record.active is False and not self.read_inactive:
            return "inactive", (
                "the source holds no inactive people, so it was likely read or exported without them "
                "(e.g. by `list --filter active=true`)"
            )
        return None


def _fits(record: Person, key: str, wanted: Any) -> bool:
    """Whether `record` is one the source filter `key=wanted` lets through. When in doubt, no: a
    record that does not fit is left alone, and leaving one alone too many is the safe mistake."""
    if isinstance(wanted, (list, tuple, set)):
        return any(_fits(record, key, one) for one in wanted)
    have = getattr(record, key, None)
    if is_empty(have) or is_empty(wanted):
        return False
    if isinstance(have, bool):
        return wanted is have  # filters arrive typed (Adapter.check_filters): "yes" is True by then
    if isinstance(have, Ref):
        return have.name is not None and name_key(have.name) == name_key(str(wanted))
    if isinstance(have, (list, tuple, set)):  # tags: every one named (a filter of several may mean any)
        held = {name_key(str(tag)) for tag in have}
        return all(name_key(tag) in held for tag in str(wanted).split(",") if tag.strip())
    return same_value(key, have, wanted)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set)):
        return ",".join(_text(v) for v in value)
    return str(value)
