"""Finding the same person in another directory: ordered match keys, normalised values, no guessing.

    matcher = Matcher(keys=("email", "employee_number"))
    matcher.extend(target_people)
    found = matcher.match(source_person)
    if found.unique: ...            # exactly one candidate
    elif found.conflict: ...        # several: tell the user, never pick one
    else: ...                       # nobody: a new person

A key is a canonical field name (`"email"`), a dotted custom field (`"custom_fields.Personalnummer"`)
or a tuple of fields that only together identify someone (`("first_name", "last_name", "birthday")`).
Keys are tried in order; the first key that finds anybody decides. When it finds several people,
or a later key points at somebody else than the one it found, that is a conflict: the keys disagree
about who this is, and only a human can say.

Values are compared in their normal form (`staffbridge.model.compare.normalise`: email and username
ignore case, phones keep only their digits, text its spacing), the same rules the migration's diffs
and unify's conflicts use. Used by the migration and the unify job, so both agree on who is the
same person, and neither calls two values of a person a change or a conflict that matched them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from staffbridge.model.compare import normalise
from staffbridge.model.errors import ConfigError
from staffbridge.model.person import CANONICAL_FIELDS, Person

__all__ = ["Key", "Match", "Matcher", "describe_key", "key_value", "parse_keys"]

Key = tuple[str, ...]
Item = TypeVar("Item")


def parse_keys(keys: str | Iterable[str | Sequence[str]]) -> tuple[Key, ...]:
    """`"email"`, `["email", "employee_number"]`, `[("first_name", "last_name")]` or
    `"first_name+last_name"` -> a tuple of keys; ConfigError names an unknown field."""
    if isinstance(keys, str):
        keys = [keys]
    parsed: list[Key] = []
    for key in keys:
        parts = tuple(key.split("+")) if isinstance(key, str) else tuple(key)
        parts = tuple(p.strip() for p in parts if p and p.strip())
        if not parts:
            raise ConfigError("match: an empty key", setting="match")
        for part in parts:
            base, _, sub = part.partition(".")
            if base not in CANONICAL_FIELDS or base in ("raw", "problems") or (sub and base != "custom_fields"):
                raise ConfigError(f"match: {part!r} is not a Person field (or custom_fields.<name>)", setting="match")
        parsed.append(parts)
    if not parsed:
        raise ConfigError("match: give at least one key, e.g. ('email',)", setting="match")
    return tuple(parsed)


def describe_key(key: Key) -> str:
    return "+".join(key)


def field_value(person: Person, name: str) -> Any:
    base, _, sub = name.partition(".")
    value = getattr(person, base, None)
    if sub:
        return (value or {}).get(sub) if isinstance(value, dict) else None
    return value


def key_value(person: Person, key: Key) -> tuple[str, ...] | None:
    """The normalised values of `key` for `person`; None when any part is empty (no match on it)."""
    values = []
    for name in key:
        value = normalise(name, field_value(person, name))
        if value is None:
            return None
        values.append(value)
    return tuple(values)


@dataclass
class Match(Generic[Item]):
    """What the matcher found for one person."""

    candidates: list[Item] = field(default_factory=list)
    key: Key | None = None  # the key that decided
    value: tuple[str, ...] | None = None  # its normalised value
    reason: str | None = None  # why this is a conflict

    @property
    def unique(self) -> bool:
        return len(self.candidates) == 1 and self.reason is None

    @property
    def conflict(self) -> bool:
        return self.reason is not None

    @property
    def found(self) -> Item | None:
        return self.candidates[0] if self.unique else None

    def __bool__(self) -> bool:
        return bool(self.candidates)


class Matcher(Generic[Item]):
    """An index of people by every key, asked one person at a time. Not thread-safe while adding.

    `add(person, item)` indexes `item` (default: the person itself) under the person's key values;
    `match(person)` answers with the items found. Identity, not equality, tells items apart.
    """

    def __init__(self, keys: str | Iterable[str | Sequence[str]] = ("email", "employee_number")) -> None:
        self.keys = parse_keys(keys)
        self._index: dict[Key, dict[tuple[str, ...], list[Any]]] = {key: {} for key in self.keys}
        self.count = 0

    def add(self, person: Person, item: Any = None) -> None:
        item = person if item is None else item
        for key in self.keys:
            value = key_value(person, key)
            if value is not None:
                self._index[key].setdefault(value, []).append(item)
        self.count += 1

    def extend(self, people: Iterable[Person]) -> Matcher[Item]:
        for person in people:
            self.add(person)
        return self

    def lookup(self, key: Key, value: tuple[str, ...] | None) -> list[Item]:
        return list(self._index.get(key, {}).get(value, ())) if value is not None else []

    def values(self, person: Person) -> dict[Key, tuple[str, ...]]:
        """The person's normalised value for each key that has one."""
        found = {}
        for key in self.keys:
            value = key_value(person, key)
            if value is not None:
                found[key] = value
        return found

    def match(self, person: Person, exclude: Any = None) -> Match[Item]:
        """The candidates for `person`. `exclude` is an item to leave out (the person itself, when
        looking for duplicates inside one directory)."""
        decided: Match[Item] | None = None
        for key, value in self.values(person).items():
            hits = _unique(h for h in self.lookup(key, value) if h is not exclude)
            if not hits:
                continue
            label = f"{describe_key(key)} {'+'.join(value)!r}"
            if decided is None:
                decided = Match(hits, key, value)
                if len(hits) > 1:
                    decided.reason = f"{len(hits)} records share {label}"
                    return decided
                continue
            if not any(h is decided.candidates[0] for h in hits):
                # an earlier key found one person, this key finds somebody else: which is it?
                decided.candidates = _unique([*decided.candidates, *hits])
                decided.reason = (
                    f"{describe_key(decided.key or ())} {'+'.join(decided.value or ())!r} "
                    f"finds one record, {label} another"
                )
                return decided
        return decided or Match()


def _unique(items: Iterable[Any]) -> list[Any]:
    seen: set[int] = set()
    kept = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            kept.append(item)
    return kept
