"""Named value converters, as mapping files name them: `converter = "date:%d.%m.%Y"`.

A converter turns a vendor value into a canonical one (`read`) and back (`write`). A value it cannot
read raises ValueError with a message fit for a person; the mapping engine turns that into a problem
noted on the Person (with the field path) instead of a crash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from staffbridge.model.compare import name_key
from staffbridge.model.errors import MappingError
from staffbridge.model.values import Address, Ref

_REFS: dict[tuple[str | None, str | None], Ref] = {}


def shared_ref(ident: str | None, name: str | None) -> Ref:
    """Ref(ident, name), one object per distinct pair: Refs are immutable, and a directory of
    100,000 people names a few dozen departments and roles (building each anew was a tenth of a list)."""
    ref = _REFS.get((ident, name))
    if ref is None:
        if len(_REFS) >= 4096:  # an unusual vendor with a reference per person: stay small
            _REFS.clear()
        ref = _REFS[ident, name] = Ref(ident, name)
    return ref


class Converter:
    """Identity; subclasses override read and/or write. `arg` is what follows the colon in the name."""

    def __init__(self, arg: str | None = None, values: Mapping[str, Any] | None = None):
        self.arg = arg
        self.values = dict(values or {})

    def read(self, value: Any) -> Any:
        return value

    def write(self, value: Any) -> Any:
        return value


class Text(Converter):
    """Strings; vendors send "" for unset text, which reads as None."""

    def read(self, value: Any) -> str | None:
        if type(value) is str:  # the common case first: this runs for every text field of every record
            return value or None
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(f"expected text, got {type(value).__name__}")
        return str(value)


_TEXT = Text()


class Lower(Text):
    def read(self, value: Any) -> str | None:
        text = super().read(value)
        return text.lower() if text else text


class Boolean(Converter):
    """true/false; also the strings vendors use for them. `bool:1/0` writes those two strings."""

    TRUE = frozenset({"true", "1", "yes", "y", "on"})
    FALSE = frozenset({"false", "0", "no", "n", "off"})

    def read(self, value: Any) -> bool | None:
        if value is True or value is False:
            return value
        if value is None or value == "":
            return None
        if isinstance(value, (int, str)):
            word = str(value).strip().lower()
            if word in self.TRUE:
                return True
            if word in self.FALSE:
                return False
        raise ValueError(f"not a yes/no value: {value!r}")

    def write(self, value: Any) -> Any:
        if value is None or not self.arg:
            return value
        true, false = self.arg.split("/")
        return true if value else false


class Date(Converter):
    """A date in a strftime format. Plain `date` is ISO and also takes the date of an ISO timestamp
    ("2024-03-01T00:00:00Z"), for vendors that document only "Date"; `date:%Y-%m-%d` is strict."""

    def __init__(self, arg: str | None = None, values: Mapping[str, Any] | None = None):
        super().__init__(arg, values)
        self._digits = _digit_slices(arg)

    def read(self, value: Any) -> dt.date | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError(f"expected a date string, got {type(value).__name__}")
        if self.arg is None and value[10:11] in ("T", " "):
            value = value[:10]
        if self.arg in (None, "%Y-%m-%d") and len(value) == 10:  # ISO, without strptime's cost
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        elif self._digits and len(value) == 10:  # DD.MM.YYYY and the like, without strptime's cost
            (year, month, day), separators = self._digits
            parts = value[year], value[month], value[day]
            if all(value[at] == char for at, char in separators) and all(p.isascii() and p.isdigit() for p in parts):
                try:
                    return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
                except ValueError:
                    pass
        try:
            return dt.datetime.strptime(value.strip(), self.arg or "%Y-%m-%d").date()
        except ValueError:
            raise ValueError(f"not a date in the form {_example(self.arg)}: {value!r}") from None

    def write(self, value: Any) -> Any:
        return value.strftime(self.arg or "%Y-%m-%d") if isinstance(value, dt.date) else value


class DateTime(Converter):
    """An ISO-8601 timestamp; written in UTC with a Z, as MOCO and the v2 API send them."""

    def read(self, value: Any) -> dt.datetime | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError(f"expected an ISO timestamp, got {type(value).__name__}")
        try:
            stamp = dt.datetime.fromisoformat(value.strip())  # Python 3.11 reads the "Z" itself
        except ValueError:
            raise ValueError(f"not an ISO timestamp: {value!r}") from None
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)

    def write(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
            return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return value


class DateFromDateTime(Converter):
    """A canonical date the vendor keeps as a timestamp (contract.startDate): midnight UTC on write."""

    def __init__(self, arg: str | None = None, values: Mapping[str, Any] | None = None):
        super().__init__(arg, values)
        self.stamps = DateTime(arg, values)

    def read(self, value: Any) -> dt.date | None:
        if isinstance(value, str) and len(value.strip()) == 10:  # a plain date is still a date
            return Date().read(value)
        stamp = self.stamps.read(value)
        try:
            return stamp.astimezone(dt.UTC).date() if stamp else None
        except OverflowError:  # "0001-01-01T00:00:00+01:00" is a day before year 1 in UTC
            raise ValueError(f"a timestamp out of range: {value!r}") from None

    def write(self, value: Any) -> Any:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%dT00:00:00Z")
        return self.stamps.write(value)


class _Ids(Converter):
    """How ids read and write, shared by plain ids and references (which wrap them in a Ref)."""

    def read_id(self, value: Any) -> str | None:
        if value is None or value == "" or isinstance(value, bool):
            return None
        if not isinstance(value, (str, int)):
            raise ValueError(f"expected an id, got {type(value).__name__}")
        if (self.arg or "").endswith("0") and str(value) == "0":
            return None
        return str(value)

    def write_id(self, value: Any) -> Any:
        if value is None:
            return "0" if self.arg == "str0" else (0 if self.arg == "int0" else None)
        if (self.arg or "").startswith("int") and str(value).isdigit():
            return int(value)
        return str(value)


class Identifier(_Ids):
    """An id: canonical ids are strings. `id:int` writes digits as a number, `id:str` as a string.
    `id:int0` / `id:str0` also read 0 as "none" (WhosOff's approver_id 0)."""

    def read(self, value: Any) -> str | None:
        return self.read_id(value)

    def write(self, value: Any) -> Any:
        return self.write_id(value)


class Reference(_Ids):
    """A department/role: read {id, name} (or an id with `values` naming it); write the id.

    `ref:int` / `ref:str` choose how the id goes on the wire. `values` maps vendor id -> name, so a
    user mapping file can name ids for vendors that send only ids (and resolve names on write).
    """

    def read(self, value: Any) -> Ref | None:
        if type(value) is dict:
            ident, name = value.get("id"), value.get("name")
            ident = str(ident) if type(ident) is int else self.read_id(ident)
            name = (name or None) if type(name) is str else _TEXT.read(name)
            if name is None and self.values and ident:
                name = self.values.get(ident)
            return shared_ref(ident, name) if ident or name else None
        if value is None or value == "":
            return None
        ident = self.read_id(value)
        return shared_ref(ident, self.values.get(ident)) if ident else None

    def write(self, value: Any) -> Any:
        if value is None:
            return self.write_id(None)
        ident = value.id if isinstance(value, Ref) else value
        if ident is None and isinstance(value, Ref) and value.name:
            ident = _invert(self.values).get(name_key(value.name))
        return self.write_id(ident)


class ReferenceName(Converter):
    """A reference the vendor keeps by name only (the v2 API's contract.department)."""

    def read(self, value: Any) -> Ref | None:
        text = _TEXT.read(value)
        return shared_ref(None, self.values.get(text, text)) if text else None

    def write(self, value: Any) -> Any:
        if value is None:
            return None
        name = value.name if isinstance(value, Ref) else str(value)
        return _invert(self.values).get(name_key(name or ""), name)


class Enum(Converter):
    """A closed set of vendor codes, named by `values` (code -> name); read gives a Ref(code, name).

    An unknown code is kept (as Ref(code)) and reported, so nothing is lost and nothing crashes.
    """

    def read(self, value: Any) -> Ref | None:
        if value is None or value == "":
            return None
        code = str(value)
        if code not in self.values:
            raise ValueError(f"unknown code {code!r}; known: {', '.join(self.values)}")
        return shared_ref(code, self.values[code])

    def write(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Ref):
            if value.id is not None and str(value.id) in self.values:
                return str(value.id)
            found = _invert(self.values).get(name_key(value.name or ""))
            if found is None:
                raise ValueError(f"no code for {value.name or value.id!r}; known: {', '.join(self.values.values())}")
            return found
        return str(value)


class TextList(Converter):
    """A list of strings; null reads as []."""

    def read(self, value: Any) -> list[str]:
        if type(value) is list and all(type(v) is str for v in value):
            return list(value)  # a copy: changing person.tags must not change person.raw
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            raise ValueError(f"expected a list of strings, got {type(value).__name__}")
        return [str(v) for v in value]

    def write(self, value: Any) -> Any:
        return list(value) if value is not None else None


class Object(Converter):
    """A free-form object (custom properties); null reads as {}."""

    def read(self, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(f"expected an object, got {type(value).__name__}")
        return dict(value)

    def write(self, value: Any) -> Any:
        return dict(value) if value is not None else None


class AddressText(Converter):
    """An address the vendor keeps as one text (MOCO's home_address, lines split by \\n)."""

    def read(self, value: Any) -> Address | None:
        text = _TEXT.read(value)
        return Address(formatted=text) if text else None

    def write(self, value: Any) -> Any:
        if isinstance(value, Address):
            return value.as_text()
        return value


class AddressParts(Converter):
    """An address the vendor structures: read a {street, zip, ...} object, write one back."""

    def read(self, value: Any) -> Address | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError(f"expected an address object, got {type(value).__name__}")
        parts = {name: _TEXT.read(value.get(name)) for name in Address.PARTS if name in value}
        address = Address(**parts)
        return address or None

    def write(self, value: Any) -> Any:
        if not isinstance(value, Address):
            return value
        return {k: v for k, v in asdict(value).items() if k != "formatted" and v is not None}


def _digit_slices(fmt: str | None) -> tuple[tuple[slice, slice, slice], list[tuple[int, str]]] | None:
    """Where year, month and day sit in a 10-character date of `fmt` (%Y, %m, %d and one-character
    separators, e.g. %d.%m.%Y), and the separators' places; None for any other format."""
    if not fmt:
        return None
    widths = {"%Y": 4, "%m": 2, "%d": 2}
    at, places, separators, rest = 0, {}, [], fmt
    while rest:
        if rest[:2] in widths:
            places[rest[:2]] = slice(at, at + widths[rest[:2]])
            at, rest = at + widths[rest[:2]], rest[2:]
        elif rest[0] != "%":
            separators.append((at, rest[0]))
            at, rest = at + 1, rest[1:]
        else:
            return None
    if at != 10 or len(places) != 3:
        return None
    return (places["%Y"], places["%m"], places["%d"]), separators


def _invert(values: Mapping[str, Any]) -> dict[str, str]:
    """Name -> vendor code, keyed as reference names compare (`compare.name_key`)."""
    return {name_key(str(name)): code for code, name in values.items()}


def _example(fmt: str | None) -> str:
    return (fmt or "%Y-%m-%d").replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")


CONVERTERS: dict[str, Callable[..., Converter]] = {
    "identity": Converter,
    "text": Text,
    "lower": Lower,
    "bool": Boolean,
    "date": Date,
    "datetime": DateTime,
    "date_from_datetime": DateFromDateTime,
    "id": Identifier,
    "ref": Reference,
    "ref_name": ReferenceName,
    "enum": Enum,
    "list": TextList,
    "object": Object,
    "address_text": AddressText,
    "address": AddressParts,
}


def get_converter(spec: str | None, values: Mapping[str, Any] | None = None) -> Converter:
    """`"date:%d.%m.%Y"` -> a Date converter with that format."""
    name, _, arg = (spec or "identity").partition(":")
    try:
        factory = CONVERTERS[name]
    except KeyError:
        raise MappingError(f"unknown converter {name!r}; known: {', '.join(sorted(CONVERTERS))}") from None
    return factory(arg or None, values)
