"""List filters with declared kinds, parsed one way for every adapter.

An adapter declares its filters with the kind of value each takes:

    class MocoAdapter(HTTPAdapter):
        filters = {"active": BOOLEAN, "tags": LIST, "updated_after": TIMESTAMP, "email": TEXT}

and the Adapter base parses every value before a vendor hook sees it, so `list(active="yes")`,
`list(active="1")`, the CLI's `--filter active=true` and `list(active=True)` all mean the same in
every adapter. A value that is none of a kind's accepted forms raises ConfigError naming the filter
and those forms, instead of silently matching nobody. None means "not given" and passes as it is.
An adapter may still list plain names (a tuple): those filters take their values as given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from staffbridge.mapping import converters
from staffbridge.model.errors import ConfigError

__all__ = ["BOOLEAN", "LIST", "TEXT", "TIMESTAMP", "FilterKind", "parse_filters"]


class FilterKind:
    """How one kind of filter value is read. `accepted` says which forms it takes, for error messages."""

    accepted = "any value"

    def parse(self, value: Any) -> Any:
        return value


class Boolean(FilterKind):
    accepted = "true/false, yes/no, 1/0, on/off"
    words = converters.Boolean()  # the yes/no words mappings read from vendors: one list of them

    def parse(self, value: Any) -> bool:
        flag = self.words.read(value)  # ValueError for anything that is not one of those words
        if flag is None:  # "" reads as "not given" in a record; as a filter value it says nothing
            raise ValueError(value)
        return flag


class Timestamp(FilterKind):
    """A moment; a date alone stays a date (its midnight, as the vendor is asked)."""

    accepted = "an ISO 8601 date or timestamp (2024-05-01, 2024-05-01T09:30:00Z)"

    def parse(self, value: Any) -> dt.date:
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str):
            raise ValueError(value)
        text = value.strip()
        if "T" not in text.upper() and " " not in text:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text)


class Items(FilterKind):
    """Several values: a list (or tuple, set), or text separated by commas."""

    accepted = "a list, or values separated by commas (a,b)"

    def parse(self, value: Any) -> list[Any]:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, (list, tuple, set, frozenset)):
            return list(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return [value]
        raise ValueError(value)


BOOLEAN = Boolean()
TIMESTAMP = Timestamp()
LIST = Items()
TEXT = FilterKind()  # passed to the adapter as given (a name, an id, a Ref, a dict of properties)


def kind_of(declared: Mapping[str, FilterKind] | Iterable[str], name: str) -> FilterKind:
    return declared.get(name, TEXT) if isinstance(declared, Mapping) else TEXT


def parse_filters(
    adapter: str, declared: Mapping[str, FilterKind] | Iterable[str], given: Mapping[str, Any]
) -> dict[str, Any]:
    """`given` with every value parsed by its declared kind. ConfigError names an unknown filter
    (and the supported ones), or a value that is none of its kind's accepted forms."""
    names = list(declared)
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ConfigError(
            f"{adapter}: unknown filter {unknown[0]!r}; supported: {', '.join(names) or 'none'}", setting=unknown[0]
        )
    parsed: dict[str, Any] = {}
    for name, value in given.items():
        kind = kind_of(declared, name)
        try:
            parsed[name] = None if value is None else kind.parse(value)
        except (ValueError, TypeError):
            raise ConfigError(
                f"{adapter}: filter {name!r}: {str(value)[:60]!r} is not {kind.accepted}", setting=name
            ) from None
    return parsed
