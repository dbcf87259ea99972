"""The canonical model: `Person` (a plain dataclass) and `PersonSchema` (its marshmallow validation).

Everything vendor-specific is translated into and out of these by the mapping files; nothing here
knows a vendor. `raw` keeps the vendor record as received, so a field without a canonical home is
never lost.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

from staffbridge.model.compare import is_empty, same_value
from staffbridge.model.errors import PersonValidationError
from staffbridge.model.render import json_value
from staffbridge.model.values import Address, Ref

__all__ = ["Address", "Person", "PersonSchema", "Ref", "load_person", "validate_changes", "validate_person"]


@dataclass(eq=True)
class Person:
    """One member of staff, in canonical form. Every field is optional until a vendor needs it."""

    id: str | None = None
    system: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    email: str | None = None
    work_phone: str | None = None
    mobile_phone: str | None = None
    active: bool | None = None
    external: bool | None = None
    birthday: dt.date | None = None
    gender: str | None = None
    language: str | None = None
    address: Address | None = None
    department: Ref | None = None
    role: Ref | None = None
    employee_number: str | None = None
    username: str | None = None
    manager_id: str | None = None
    employment_start: dt.date | None = None
    employment_end: dt.date | None = None
    iban: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    notes: str | None = None
    avatar_url: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    # The vendor record as received. Not compared and not shown: it is bulky and may hold
    # vendor-side secrets an adapter could not strip.
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # What could not be read from `raw` ("general.birthDate: not a DD.MM.YYYY date"), never a crash.
    problems: list[str] = field(default_factory=list, compare=False, repr=False)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if f.repr and getattr(self, f.name) not in (None, [], {})
        )
        return f"Person({shown})"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)

    @property
    def label(self) -> str:
        """How to name this person in a message: the id and the name or email, never a secret."""
        who = self.full_name or self.email or "?"
        return f"{self.system or ''}#{self.id} {who}" if self.id else who

    def replace(self, **changes: Any) -> Person:
        return dataclasses.replace(self, **changes)

    def to_dict(self, include_raw: bool = False) -> dict[str, Any]:
        """JSON-ready dict (values in their `render.json_value` form: dates as ISO strings...)."""
        data = _SCHEMA.dump(self)  # one schema for all: building one costs more than a dump
        if include_raw:
            data["raw"] = self.raw
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], record: str | None = None) -> Person:
        """Validate and build; raises PersonValidationError naming each bad field."""
        return load_person(data, record=record)


CANONICAL_FIELDS = tuple(f.name for f in dataclasses.fields(Person) if f.name not in ("raw", "problems"))
WRITABLE_FIELDS = tuple(n for n in CANONICAL_FIELDS if n not in ("id", "system", "created_at", "updated_at"))

# BCP 47 as vendors use it: "de", "de-CH", "en-GB", "zh-Hant"
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class RefField(fields.Field):
    # marshmallow runs str.format over messages: literal braces are doubled
    default_error_messages = {  # noqa: RUF012 (marshmallow's own convention: a plain class dict)
        "invalid": "Not a reference: give {{'id': ..., 'name': ...}}, an id or a name."
    }

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return json_value(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Ref:
        if isinstance(value, Ref):
            return value
        if isinstance(value, Mapping) and set(value) <= {"id", "name"}:
            return Ref(id=value.get("id"), name=value.get("name"))
        if isinstance(value, int) and not isinstance(value, bool):
            return Ref(id=str(value))
        if isinstance(value, str) and value.strip():
            return Ref(name=value.strip())
        raise self.make_error("invalid")


class AddressField(fields.Field):
    # marshmallow runs str.format over messages: literal braces are doubled
    default_error_messages = {  # noqa: RUF012 (marshmallow's own convention: a plain class dict)
        "invalid": "Not an address: give text or {{street, zip, city, state, country, co}}."
    }

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return json_value(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Address:
        if isinstance(value, Address):
            return value
        if isinstance(value, str):
            return Address(formatted=value)
        if isinstance(value, Mapping):
            unknown = set(value) - {*Address.PARTS, "formatted"}
            if not unknown and all(v is None or isinstance(v, str) for v in value.values()):
                return Address(**value)
        raise self.make_error("invalid")


class _DateField(fields.Date):
    """Accepts a date object as it is (a Person built in Python), or an ISO string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        if isinstance(value, dt.date):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class _DateTimeField(fields.AwareDateTime):
    def __init__(self, **kwargs: Any):
        super().__init__(default_timezone=dt.UTC, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return super()._deserialize(value, attr, data, **kwargs)


def _text(**kwargs: Any) -> fields.String:
    return fields.String(allow_none=True, **kwargs)


class PersonSchema(Schema):
    """Validates a Person given as a dict (or dumps one). Unknown keys are refused, so a typo'd field
    name is an error rather than a silent loss."""

    id = _text()
    system = _text()
    first_name = _text(validate=validate.Length(max=255))
    middle_name = _text(validate=validate.Length(max=255))
    last_name = _text(validate=validate.Length(max=255))
    title = _text(validate=validate.Length(max=255))
    email = fields.Email(allow_none=True)
    work_phone = _text(validate=validate.Length(max=100))
    mobile_phone = _text(validate=validate.Length(max=100))
    active = fields.Boolean(allow_none=True)
    external = fields.Boolean(allow_none=True)
    birthday = _DateField(allow_none=True)
    gender = _text()
    language = _text(validate=validate.Regexp(LANGUAGE, error="Not a language code like 'de' or 'de-CH'."))
    address = AddressField(allow_none=True)
    department = RefField(allow_none=True)
    role = RefField(allow_none=True)
    employee_number = _text()
    username = _text()
    manager_id = _text()
    employment_start = _DateField(allow_none=True)
    employment_end = _DateField(allow_none=True)
    iban = _text()
    tags = fields.List(fields.String(), load_default=list)
    custom_fields = fields.Dict(keys=fields.String(), load_default=dict)
    notes = _text()
    avatar_url = _text()
    created_at = _DateTimeField(allow_none=True)
    updated_at = _DateTimeField(allow_none=True)

    class Meta:
        ordered = True

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Person:
        return Person(**data)


_SCHEMA = PersonSchema()
_PARTIAL_SCHEMA = PersonSchema(partial=True)


def load_person(data: Mapping[str, Any], record: str | None = None) -> Person:
    try:
        return _SCHEMA.load(dict(data))
    except ValidationError as exc:
        raise PersonValidationError(exc.normalized_messages(), record=record) from None


def _plain(person: Person, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(person, name) for name in names}


def validate_person(person: Person, required: Iterable[str] = (), record: str | None = None) -> Person:
    """A checked copy of `person` (ISO strings become dates); raises PersonValidationError naming
    every invalid field and every field in `required` that is empty."""
    errors: dict[str, Any] = {}
    try:
        checked = _SCHEMA.load(_plain(person, CANONICAL_FIELDS))
    except ValidationError as exc:
        errors.update(exc.normalized_messages())
        checked = person
    for name in required:
        if is_empty(getattr(person, name, None)):
            errors.setdefault(name, ["Missing data for required field."])
    if errors:
        raise PersonValidationError(errors, record=record or person.label)
    checked.raw, checked.problems = person.raw, person.problems
    return checked


def validate_changes(changes: Mapping[str, Any], record: str | None = None) -> dict[str, Any]:
    """Checked canonical changes for an update: known field names, valid values."""
    unknown = [name for name in changes if name not in WRITABLE_FIELDS]
    if unknown:
        raise PersonValidationError({name: ["Unknown or read-only field."] for name in unknown}, record=record)
    try:
        loaded = _PARTIAL_SCHEMA.load(dict(changes))
    except ValidationError as exc:
        raise PersonValidationError(exc.normalized_messages(), record=record) from None
    return {name: getattr(loaded, name) for name in changes}


def person_changes(current: Person, wanted: Person, fields: Iterable[str] = WRITABLE_FIELDS) -> dict[str, Any]:
    """The canonical fields where `wanted` says something `current` does not already say
    (`compare.same_value` decides, so a plan agrees with matching and unify).

    An empty field in `wanted` means "not known", never "clear it": a partial source must not wipe
    a complete target. Custom fields are compared key by key and sent merged for the same reason.
    """
    changes: dict[str, Any] = {}
    for name in fields:
        want = getattr(wanted, name)
        if is_empty(want):
            continue
        have = getattr(current, name)
        if name == "custom_fields":
            have = have or {}
            known = {key: value for key, value in want.items() if not is_empty(value)}
            if any(not same_value(f"custom_fields.{key}", have.get(key), value) for key, value in known.items()):
                changes[name] = {**have, **known}
        elif not same_value(name, have, want):
            changes[name] = want
    return changes
