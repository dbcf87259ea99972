"""`Adapter`: the base class every vendor subclasses.

The base class alone implements the public API (list / get / create / update / delete): it checks
and maps the Person, resolves department and role names to the vendor's ids, and keeps ids of
another system out. A vendor adapter declares the rest as class attributes and fills a few hooks:

    fetch_records(**filters)        -> iterator of vendor records (streams page by page)
    fetch_record(id)                -> one vendor record
    create_record(body, person, **options) -> the vendor's answer (a record, or just the new id)
    update_record(id, body, changes, current, **options) -> the vendor's answer; `current` is the
                                       record read to compare a Person with (None for a dict of changes)
    delete_record(id)
    record_id(id)                   -> the id as the vendor spells it (NotFound when it cannot be one)
    find_existing(person)           -> the person if the vendor already has them (create recovery)
    lookup_refs(field)              -> {name: Ref} for departments/roles, to resolve names to ids
    writing()                       -> held around every write (a file adapter's lock)

`HTTPAdapter` (sdk.http_adapter) implements the record hooks from declarations: `paths`,
`records_key` (where records sit in a list answer), `paginator`, `auth`, `cursor`, `write_options`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import re
import time
from collections.abc import Iterator
from collections.abc import Mapping as MappingABC
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError

from staffbridge.mapping.converters import Date
from staffbridge.mapping.engine import FieldSpec, Mapping, deep_merge, set_path
from staffbridge.model.compare import name_key, same_value
from staffbridge.model.errors import (
    ConfigError,
    MissingReference,
    NotFound,
    ServerError,
    TransportError,
    UnsupportedOperation,
    VendorValidationError,
)
from staffbridge.model.person import Person, Ref, person_changes, validate_changes, validate_person
from staffbridge.sdk.cursor import Cursor
from staffbridge.sdk.filters import FilterKind, parse_filters
from staffbridge.sdk.passwords import check_password, with_password
from staffbridge.sdk.settings import AdapterSettings
from staffbridge.sdk.transport import RetryPolicy
from staffbridge.sdk.waits import Waits

log = logging.getLogger("staffbridge.adapter")

CRUD = ("list", "get", "create", "update", "delete")
REF_FIELDS = ("department", "role")


@dataclass(frozen=True)
class Capabilities:
    """What an adapter can do, so callers (and the migration) can ask instead of trying."""

    operations: tuple[str, ...]
    filters: tuple[str, ...]
    read_fields: tuple[str, ...]
    write_fields: tuple[str, ...]
    required_on_create: tuple[str, ...]
    pagination: str
    rate_limit: str | None = None
    cursor: Cursor | None = None  # how list() reads only what changed (sdk.cursor), if it can
    extras: tuple[str, ...] = ()  # adapter-specific methods, e.g. "performance_report"
    notes: tuple[str, ...] = ()

    @property
    def incremental(self) -> bool:
        return self.cursor is not None

    def __contains__(self, name: object) -> bool:
        """`"update" in adapter.capabilities`: an operation, extra or filter the adapter has."""
        return name in self.operations or name in self.extras or name in self.filters

    def __getitem__(self, name: str) -> Any:
        """Dict-style access for code that treats capabilities as data: `capabilities["filters"]`."""
        if name not in self.__dataclass_fields__ and name != "incremental":
            raise KeyError(name)
        return getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        return {**{name: getattr(self, name) for name in self.__dataclass_fields__}, "incremental": self.incremental}


class Adapter:
    """Base of every adapter. Subclass, set the class attributes, fill in the hooks."""

    name: ClassVar[str] = "adapter"
    Settings: ClassVar[type[Schema]] = AdapterSettings
    # list filters and the kind of value each takes (sdk.filters), e.g. {"active": BOOLEAN}; plain
    # names (a tuple) take their values as given
    filters: ClassVar[MappingABC[str, FilterKind] | tuple[str, ...]] = ()
    operations: ClassVar[tuple[str, ...]] = CRUD
    extras: ClassVar[tuple[str, ...]] = ()
    pagination: str = "none"  # an instance whose paging is a setting says so here (not a ClassVar)
    cursor: ClassVar[Cursor | None] = None
    incremental: ClassVar[bool] = False  # derived from `cursor`: never set it yourself
    # create/update options and where they go in the body, e.g. {"password": "access.password"}
    write_options: ClassVar[MappingABC[str, str]] = {}
    password_max_length: ClassVar[int | None] = None  # the vendor's limit, checked before any request
    id_pattern: ClassVar[str | None] = None  # what a record id looks like, e.g. r"\d+"
    create_answers_id_only: ClassVar[bool] = False  # the vendor answers a create with the new id only
    # canonical fields list() does not show (get() does): an empty value there says nothing. None: not
    # declared, so any empty value in a listing may hide a stored one (a migration reads such records in full)
    unlisted_fields: ClassVar[frozenset[str] | None] = None
    notes: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.incremental = cls.cursor is not None  # class-level, for listings that do not connect

    def __init__(self, **settings: Any) -> None:
        self.settings = self.check_settings(settings)
        self.mapping = Mapping.load(self.name, self.settings.get("mapping"))
        self._refs: dict[str, dict[str, Ref]] = {}
        # every wait of this adapter (rate limit, retries): a job stopping on Ctrl-C interrupts them
        self.waits = Waits(self.name)

    # ------------------------------------------------------------------ settings
    @classmethod
    def check_settings(cls, settings: MappingABC[str, Any]) -> dict[str, Any]:
        """Validated settings; ConfigError names the first bad or missing setting."""
        try:
            return cls.Settings().load(dict(settings))
        except ValidationError as exc:
            messages = exc.normalized_messages()
            name = next(iter(messages))
            problem = messages[name]
            if problem == ["Unknown field."]:
                known = ", ".join(sorted(cls.Settings().fields))
                raise ConfigError(f"{cls.name}: unknown setting {name!r}; known: {known}", setting=name) from None
            text = "; ".join(problem) if isinstance(problem, list) else str(problem)
            raise ConfigError(f"{cls.name}: setting {name!r}: {text}", setting=name) from None

    def secret_values(self) -> list[str]:
        schema = self.Settings()
        return [
            str(self.settings[name])
            for name, f in schema.fields.items()
            if f.metadata.get("secret") and self.settings.get(name)
        ]

    def __repr__(self) -> str:
        schema = self.Settings()
        shown = ", ".join(
            f"{k}={'***' if schema.fields[k].metadata.get('secret') else v!r}"
            for k, v in self.settings.items()
            if v is not None and k in schema.fields
        )
        return f"<{type(self).__name__} {shown}>"

    def reshape_mapping(self, defaults: MappingABC[str, Any], date_format: str | None = None) -> None:
        """Settings that shape the mapping: `defaults` (vendor field -> value) laid over the mapping's,
        so a required field whose vendor field now has a default is required no more; `date_format`
        replaces the format of every plain date converter."""
        defaults = {**self.mapping.defaults, **{name: str(value) for name, value in defaults.items()}}
        required = [name for name in self.mapping.required if _write_path(self.mapping.spec(name)) not in defaults]
        specs = [
            dataclasses.replace(spec, converter=Date(date_format))
            if date_format and type(spec.converter) is Date
            else spec
            for spec in self.mapping.fields
        ]
        # a new Mapping, not edits to the loaded one: it compiles its readers when built
        self.mapping = dataclasses.replace(self.mapping, fields=specs, defaults=defaults, required=required)

    # ------------------------------------------------------------------ capabilities
    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            operations=self.operations,
            filters=tuple(self.filters),
            read_fields=tuple(self.mapping.readable),
            write_fields=tuple(self.mapping.writable),
            required_on_create=tuple(self.mapping.required),
            pagination=self.pagination,
            rate_limit=self.rate_limit_text(),
            cursor=self.cursor,
            extras=self.extras,
            notes=self.notes,
        )

    def rate_limit_text(self) -> str | None:
        return None

    def _require(self, operation: str) -> None:
        if operation not in self.operations:
            raise UnsupportedOperation(f"{self.name} does not support {operation}")

    # ------------------------------------------------------------------ public API
    def list(self, **filters: Any) -> Iterator[Person]:
        """Every person matching `filters`, streamed as the vendor delivers them. The filters are
        checked here, before the first request: a bad one raises ConfigError at the call."""
        self._require("list")
        return self._stream(self.check_filters(filters))

    def _stream(self, filters: dict[str, Any]) -> Iterator[Person]:
        yield from map(self.to_person, self.fetch_records(**filters))  # the loop in C: this is every listing

    def check_filters(self, filters: MappingABC[str, Any]) -> dict[str, Any]:
        """`filters` parsed by their declared kinds (sdk.filters): `active="yes"` is True here, for
        every adapter; ConfigError names an unknown filter or a value of the wrong form."""
        return parse_filters(self.name, self.filters, filters)

    def check_source(self) -> None:
        """Raises ConfigError when there is no directory to read from at all. Jobs call it for each
        system they read people from (a migration's source, every system unify reads), never for a
        migration's target, whose first write may make it. Only a file adapter can tell (a missing
        file); a vendor account that is wrong fails when it is read."""

    def get(self, id: str) -> Person:
        """One person; raises NotFound."""
        self._require("get")
        return self.to_person(self.fetch_record(self.record_id(id)))

    def create(self, person: Person, **options: Any) -> Person:
        """Creates `person`; raises PersonValidationError before any HTTP call when it is invalid.
        `reread=True` reads the stored record back instead of building it from the answer."""
        self._require("create")
        reread = options.pop("reread", False)
        options = self.check_options(options, person.label, create=True)
        with self.writing():
            person = self.prepare(person)
            body = self.create_body(person)
            self.check_body(body, person.label)
            answer = self._create_once(body, person, options)
            created = self.created_person(answer, person, body)
        return self.get(created.id) if reread and created.id else created

    def update(self, id: str, changes: MappingABC[str, Any] | Person, **options: Any) -> Person:
        """Applies canonical `changes` (a dict, or a Person whose differing fields are sent)."""
        self._require("update")
        reread = options.pop("reread", False)
        id = self.record_id(id)
        label = f"{self.name}#{id}"
        options = self.check_options(options, label)
        with self.writing():
            current = None
            if isinstance(changes, Person):
                current = self.fetch_record(id)
                before = self.to_person(current)
                delta = person_changes(before, self.portable(validate_person(changes, record=label)))
                if not delta and not options:
                    return before
            else:
                delta = validate_changes(changes, record=label)
            delta = self.resolve_refs(delta, record=label)
            body = self.update_body(delta, label)
            self.check_body(body, label)
            answer = self.update_record(id, body, delta, current, **options)
            updated = self.updated_person(id, answer, delta)
        return self.get(id) if reread else updated

    def check_options(self, options: MappingABC[str, Any], record: str, create: bool = False) -> dict[str, Any]:
        """The write options given (None is not given), the password checked (sdk.passwords) before any
        request. A create refuses options its adapter does not declare in `write_options`, as a
        signature refuses an unknown keyword (a file adapter declares none and ignores them all)."""
        unknown = sorted(set(options) - set(self.write_options))
        if create and self.write_options and unknown:
            raise TypeError(f"{type(self).__name__}.create() got an unexpected keyword argument {unknown[0]!r}")
        given = {name: value for name, value in options.items() if value is not None}
        if "password" in given:
            check_password(given["password"], self.password_max_length, record=record)
        return given

    def delete(self, id: str) -> None:
        self._require("delete")
        with self.writing():
            self.delete_record(self.record_id(id))

    def close(self) -> None:
        pass

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ shared steps
    def to_person(self, record: Any) -> Person:
        return self.mapping.to_person(record, self.name)

    def portable(self, person: Person) -> Person:
        """A Person read from another system keeps its references by name only: that system's
        department and role ids mean nothing here (a MOCO unit id is no WhosOff department id)."""
        if person.system in (None, self.name):
            return person
        portable = {}
        for field in REF_FIELDS:
            ref = getattr(person, field)
            if isinstance(ref, Ref) and ref.id is not None:
                if not ref.name:
                    log.warning("%s: %s of %s is only a %s id; not sent", self.name, field, person.label, person.system)
                portable[field] = ref.portable()
        return person.replace(**portable) if portable else person

    def prepare(self, person: Person) -> Person:
        """Validated, with references resolved to this vendor's ids; raises before any write."""
        checked = validate_person(self.portable(person), required=self.mapping.required)
        values = {name: getattr(checked, name) for name in REF_FIELDS}
        resolved = self.resolve_refs(values, record=checked.label, required=self.mapping.required)
        return checked.replace(**resolved)

    def resolve_refs(self, values: dict[str, Any], record: str | None = None, required: Any = ()) -> dict[str, Any]:
        """Department/role given by name (or by a value map) become this vendor's ids."""
        values = dict(values)
        for name in REF_FIELDS:
            ref = values.get(name)
            if isinstance(ref, Ref) and ref.id is None and ref.name and self.has_lookup(name):
                values[name] = self.resolve_ref(name, ref.name, record)
        return values

    def resolve_ref(self, field: str, name: str, record: str | None = None) -> Ref:
        """This vendor's department/role called `name`; MissingReference names the ones it knows."""
        found = self.find_ref(field, name)
        if found is None:
            known = ", ".join(sorted(r.name or r.id or "" for r in self.listed_refs(field)))
            raise MissingReference(
                {field: [f"no {field} named {name!r} in {self.name}; known: {known}"]}, record=record
            )
        return found

    def has_lookup(self, field: str) -> bool:
        return bool(self.value_map(field))

    def value_map(self, field: str) -> MappingABC[Any, Any]:
        """The mapping's values map of `field` ({vendor id: name}), e.g. role slugs named by a user."""
        spec = self.mapping.spec(field)
        return spec.converter.values if spec is not None else {}

    def find_ref(self, field: str, name: str) -> Ref | None:
        """The Ref named `name` (as model.compare compares names): a user value map wins over the
        vendor's own list, which is read once."""
        key = name_key(name)
        for code, mapped in self.value_map(field).items():
            if name_key(str(mapped)) == key:
                return Ref(str(code), name)
        return self._listed_refs(field).get(key)

    def listed_refs(self, field: str) -> tuple[Ref, ...]:
        """Every Ref of `field` in the vendor's own list, which is read once (find_ref reads the same)."""
        return tuple(self._listed_refs(field).values())

    def _listed_refs(self, field: str) -> dict[str, Ref]:
        if field not in self._refs:
            self._refs[field] = {name_key(found): ref for found, ref in self.lookup_refs(field).items()}
        return self._refs[field]

    def create_body(self, person: Person) -> dict[str, Any]:
        return self.mapping.from_person(person, create=True)

    def update_body(self, changes: dict[str, Any], record: str) -> dict[str, Any]:
        return self.mapping.to_vendor(changes, record=record)

    def check_body(self, body: dict[str, Any], record: str) -> None:
        """Raises PersonValidationError for what the vendor is known to refuse (e.g. length limits)."""

    def with_options(self, body: dict[str, Any], options: MappingABC[str, Any]) -> dict[str, Any]:
        """`body` plus the given `write_options`; the password goes in through sdk.passwords, so it is
        masked wherever a request is shown."""
        given = {name: options[name] for name in self.write_options if options.get(name) is not None}
        password = given.pop("password", None)
        if given:
            body = copy.deepcopy(body)
            for name, value in given.items():
                set_path(body, self.write_options[name], value)
        return with_password(body, password, self, self.write_options.get("password", "password"))

    def add_secret(self, value: str) -> None:
        """A value to mask wherever a request is described (HTTP adapters have somewhere to show it)."""

    def _create_once(self, body: dict[str, Any], person: Person, options: MappingABC[str, Any]) -> Any:
        """POST at most once per try: when the answer is lost, look before sending again.

        A lost answer may belong to a request the vendor is still working on (it answered after our
        timeout): the look finds nothing, the create goes again, and the vendor refuses it as a
        duplicate once the first one lands. So a refusal of a create sent *again* is looked up once
        more before it counts."""
        tries = getattr(self, "max_create_tries", 3)
        policy = getattr(getattr(self, "transport", None), "retry", None) or RetryPolicy()
        for attempt in range(tries):
            try:
                return self.create_record(body, person, **options)
            except VendorValidationError:
                existing = self.find_existing(person) if attempt else None
                if existing is None:
                    raise
                log.info(
                    "%s: create of %s sent again was refused, but the first one had landed; not sending again",
                    self.name,
                    person.label,
                )
                return existing
            except (TransportError, ServerError) as exc:
                if attempt + 1 >= tries:
                    raise
                existing = self.find_existing(person)
                if existing is not None:
                    log.info(
                        "%s: create of %s got no answer but the record exists; not sending again",
                        self.name,
                        person.label,
                    )
                    return existing
                log.info(
                    "%s: create of %s failed (%s); the record does not exist, sending again",
                    self.name,
                    person.label,
                    type(exc).__name__,
                )
                time.sleep(policy.delay(attempt))
        raise AssertionError("unreachable")

    def created_person(self, answer: Any, sent: Person, body: dict[str, Any]) -> Person:
        """The Person to return from create: the vendor's answer, or (`create_answers_id_only`) the body
        sent with the answer laid over it, so an answer holding only the new id needs no second request."""
        if isinstance(answer, Person):
            return answer
        return self.to_person(deep_merge(body, answer) if self.create_answers_id_only else answer)

    def updated_person(self, id: str, answer: Any, changes: dict[str, Any]) -> Person:
        if isinstance(answer, Person):
            return answer
        return self.to_person(answer)

    # ------------------------------------------------------------------ hooks
    def record_id(self, id: Any) -> str:
        """`id` as the vendor spells it; an id not matching `id_pattern` cannot exist: NotFound, no request."""
        text = str(id).strip() if self.id_pattern else str(id)
        if self.id_pattern and not re.fullmatch(self.id_pattern, text):
            raise NotFound(f"{self.name}: {str(id)[:40]!r} is not a {self.name} user id", vendor=self.name)
        return text

    def writing(self) -> ContextManager[Any]:
        return contextlib.nullcontext()

    def fetch_records(self, **filters: Any) -> Iterator[Any]:
        raise UnsupportedOperation(f"{self.name} does not list")

    def fetch_record(self, id: str) -> Any:
        raise UnsupportedOperation(f"{self.name} does not get")

    def create_record(self, body: dict[str, Any], person: Person, **options: Any) -> Any:
        raise UnsupportedOperation(f"{self.name} does not create")

    def update_record(
        self, id: str, body: dict[str, Any], changes: dict[str, Any], current: Any, **options: Any
    ) -> Any:
        raise UnsupportedOperation(f"{self.name} does not update")

    def delete_record(self, id: str) -> None:
        raise UnsupportedOperation(f"{self.name} does not delete")

    def find_existing(self, person: Person) -> Person | None:
        """The person with this email when the vendor has them already, looked for with list() and
        `existing_filters`; None when those are None (no way to look)."""
        filters = self.existing_filters(person) if person.email else None
        if filters is None:
            return None
        return next((found for found in self.list(**filters) if same_value("email", found.email, person.email)), None)

    def existing_filters(self, person: Person) -> dict[str, Any] | None:
        return None

    def lookup_refs(self, field: str) -> dict[str, Ref]:
        return {str(name): Ref(str(code), str(name)) for code, name in self.value_map(field).items()}


def _write_path(spec: FieldSpec | None) -> str | None:
    return spec.write if spec is not None and isinstance(spec.write, str) else None


__all__ = ["Adapter", "Capabilities"]
