"""Turning a person read from one directory into what another directory can take.

Only fields the target can write are carried; the rest are counted, not silently lost. References
(department, role) travel by name: the source's ids mean nothing in the target, so they are stripped
and the name is looked up in the target (its own lists, or a value map in the user's mapping). A
name the target does not know is "unresolved": fatal for a create when the target requires the
field, a note otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from staffbridge.model.compare import is_empty, name_key
from staffbridge.model.errors import PersonValidationError
from staffbridge.model.person import CANONICAL_FIELDS, WRITABLE_FIELDS, Person, Ref, person_changes, validate_person
from staffbridge.model.render import json_value
from staffbridge.sdk.adapter import REF_FIELDS, Adapter

__all__ = ["IDENTIFYING", "Carried", "Change", "Translator", "digest"]

# The fields that say who a person is (a name, an email, a login): a create needs one of them.
IDENTIFYING = ("first_name", "last_name", "email", "username")


@dataclass(frozen=True)
class Change:
    """One field an update changes, as the target has it and as it will be."""

    field: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": json_value(self.before), "after": json_value(self.after)}


@dataclass
class Carried:
    """A source person translated for the target."""

    wanted: Person
    unresolved: dict[str, str] = field(default_factory=dict)  # field -> why its reference did not translate
    dropped: list[str] = field(default_factory=list)  # fields with a value the target cannot store
    invalid: str | None = None  # why the person cannot be written at all


class Translator:
    """Knows what `target` can store and translates people for it. Used from one thread (planning)."""

    def __init__(self, target: Adapter) -> None:
        self.target = target
        specs = target.mapping.fields
        self.writable = _fields(s.name for s in specs if s.write)
        self.readable = _fields(s.name for s in specs if s.read)
        self.custom_write = _custom_keys(s.name for s in specs if s.write)
        self.custom_read = _custom_keys(s.name for s in specs if s.read)
        # fields an update can compare: a write-only field (MOCO's language) reads back empty every time
        self.comparable = tuple(f for f in WRITABLE_FIELDS if f in self.writable and f in self.readable)
        self.required = tuple(r for r in target.mapping.required if r.split(".")[0] in CANONICAL_FIELDS)
        self.identifying = tuple(name for name in IDENTIFYING if name in self.writable)
        # fields whose empty value in the target's listing may hide a stored one (None: any field)
        self.unlisted = target.unlisted_fields
        self._refs: dict[tuple[str, str], Ref | None] = {}
        self._known: dict[str, list[str]] = {}
        self._listed: dict[tuple[str, str], Ref | None] = {}  # references seen on the target's records

    def learn_refs(self, listed: Iterable[Person]) -> None:
        """Notes the references (id and name) the target's own records show, so a name one of them
        shows needs no lookup request (a rerun with nothing new makes none). A name shown with two
        ids is left to the lookup."""
        for person in listed:
            for name in REF_FIELDS:
                ref = getattr(person, name)
                if isinstance(ref, Ref) and ref.id is not None and ref.name:
                    key = (name, name_key(ref.name))
                    seen = self._listed.setdefault(key, ref)
                    if seen is not None and seen.id != ref.id:
                        self._listed[key] = None

    # ------------------------------------------------------------------ one person
    def carry(self, person: Person) -> Carried:
        values: dict[str, Any] = {}
        dropped: list[str] = []
        unresolved: dict[str, str] = {}
        for name in WRITABLE_FIELDS:
            value = getattr(person, name)
            if is_empty(value):
                continue
            if name not in self.writable:
                dropped.append(name)
                continue
            if name == "custom_fields":
                kept = {k: v for k, v in value.items() if _keeps(self.custom_write, k)}
                dropped += [f"custom_fields.{k}" for k in value if k not in kept]
                if kept:
                    values[name] = kept
                continue
            if name in REF_FIELDS and isinstance(value, Ref):
                ref, why = self.translate_ref(name, value)
                if ref is None:
                    unresolved[name] = why
                    continue
                value = ref
            elif not self.holds(name, value):
                # e.g. an address that is only a formatted text, for a vendor that keeps parts: it
                # would be diffed as a change on every run and never arrive
                dropped.append(name)
                continue
            values[name] = value
        wanted = Person(**values)
        carried = Carried(wanted, unresolved, dropped)
        try:
            carried.wanted = validate_person(wanted, record=person.label)
        except PersonValidationError as exc:
            carried.invalid = exc.details
        return carried

    def holds(self, name: str, value: Any) -> bool:
        """Whether the target's converter turns `value` into something it can store. A value it
        refuses outright is kept: the write then fails with the vendor's (or converter's) reason."""
        spec = self.target.mapping.spec(name)
        if spec is None:
            return True
        try:
            wire = spec.converter.write(value)
        except (ValueError, TypeError):
            return True
        if isinstance(wire, dict):
            return any(not is_empty(v) for v in wire.values())
        return not is_empty(wire)

    def missing_for_create(self, carried: Carried) -> str | None:
        """Why `carried` cannot be created (no identifying field, a required field empty or
        unresolved), else None. A person with no name, email or login would be a blank record
        nobody can find again (a file read with the wrong delimiter makes such people)."""
        reasons = []
        if self.identifying and all(is_empty(getattr(carried.wanted, name)) for name in self.identifying):
            reasons.append(
                f"nothing says who this is: none of {self.target.name}'s identifying fields "
                f"({', '.join(self.identifying)}) has a value"
            )
        for name in self.required:
            if name in carried.unresolved:
                reasons.append(carried.unresolved[name])
            elif is_empty(getattr(carried.wanted, name.split(".")[0], None)):
                reasons.append(f"{name} is required by {self.target.name} and the source has none")
        return "; ".join(reasons) or None

    def unseen(self, change: Change) -> bool:
        """Whether the target's listing may not show what `change` is about (a full read would):
        the target's declared unlisted fields, else any empty value."""
        return change.field in self.unlisted if self.unlisted is not None else is_empty(change.before)

    def changes(self, current: Person, wanted: Person) -> list[Change]:
        """The fields where `wanted` says something the target's `current` record does not."""
        if wanted.custom_fields:
            readable = {k: v for k, v in wanted.custom_fields.items() if _keeps(self.custom_read, k)}
            wanted = wanted.replace(custom_fields=readable)
        delta = person_changes(current, wanted, fields=self.comparable)
        for name in REF_FIELDS:
            have, want = getattr(current, name), delta.get(name)
            # a reference resolved to the target's own id is the same one, whatever the label says
            if isinstance(want, Ref) and isinstance(have, Ref) and want.id is not None and want.id == have.id:
                del delta[name]
        return [Change(name, getattr(current, name), value) for name, value in delta.items()]

    # ------------------------------------------------------------------ references
    def translate_ref(self, field_name: str, ref: Ref) -> tuple[Ref | None, str]:
        """The target's reference for the source's `ref` (matched by name), or None and why not."""
        if not ref.name:
            return None, (
                f"{field_name} is only the source id {ref.id!r}, without a name to look up in "
                f"{self.target.name}; name the source's ids in a mapping file"
            )
        key = (field_name, name_key(ref.name))
        if key not in self._refs:
            self._refs[key] = self._resolve(field_name, ref.name)
        found = self._refs[key]
        if found is not None:
            return found, ""
        known = self._known_names(field_name)
        return None, (
            f"no {field_name} named {ref.name!r} in {self.target.name}"
            + (f" (known: {', '.join(known)})" if known else "")
            + "; add it there or map it in a mapping file"
        )

    def _resolve(self, field_name: str, name: str) -> Ref | None:
        found = None if self.target.value_map(field_name) else self._listed.get((field_name, name_key(name)))
        if found is None:
            found = self.target.find_ref(field_name, name)  # the user's value map first, then the vendor's list
        spec = self.target.mapping.spec(field_name)
        if found is not None:
            mapped = spec.converter.values.get(found.id) if spec is not None and found.id is not None else None
            return Ref(found.id, str(mapped) if mapped else found.name or name)  # the target's spelling
        if spec is None or self.target.has_lookup(field_name):
            return None
        try:  # a vendor that keeps this reference by name (or by a closed set of codes the converter knows)
            wire = spec.converter.write(Ref(name=name))
        except (ValueError, TypeError):
            return None
        return Ref(name=name) if wire not in (None, "", {}) else None

    def _known_names(self, field_name: str) -> list[str]:
        if field_name not in self._known:
            names: list[str] = []
            spec = self.target.mapping.spec(field_name)
            if spec is not None:
                names += [str(v) for v in spec.converter.values.values()]
            if self.target.has_lookup(field_name):
                with contextlib.suppress(Exception):  # only decorates a message; the plan goes on without it
                    names += [r.name or r.id or "" for r in self.target.listed_refs(field_name)]
            self._known[field_name] = sorted(set(n for n in names if n))
        return self._known[field_name]


def digest(person: Person) -> str:
    """A short hash of the person's canonical values: the journal keeps it to know what it wrote."""
    text = json.dumps(person.to_dict(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _fields(names: Any) -> frozenset[str]:
    return frozenset(name.split(".", 1)[0] for name in names)


def _custom_keys(names: Any) -> frozenset[str] | None:
    """None: every custom field (the whole object is mapped); else the mapped keys."""
    names = list(names)
    if "custom_fields" in names:
        return None
    return frozenset(n.split(".", 1)[1] for n in names if n.startswith("custom_fields."))


def _keeps(keys: frozenset[str] | None, key: str) -> bool:
    return keys is None or key in keys
