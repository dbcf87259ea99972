"""`Adapter`: the base class every vendor subclasses.

The base class owns the public API (list / get / create / update / delete) and the path
HTTP -> mapping -> schema; a vendor adapter sets class attributes and fills in a few hooks:

    fetch_records(**filters)        -> iterator of vendor records (streams page by page)
    fetch_record(id)                -> one vendor record
    create_record(body, person, **options) -> the vendor's answer (a record, or just the new id)
    update_record(id, body, changes, **options) -> the vendor's answer
    delete_record(id)
    find_existing(person)           -> the person if the vendor already has them (create recovery)
    lookup_refs(field)              -> {name: Ref} for departments/roles, to resolve names to ids
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from staffbridge.mapping.engine import Mapping
from staffbridge.model.errors import (
    ConfigError,
    MissingReference,
    PersonValidationError,
    ServerError,
    TransportError,
    UnsupportedOperation,
    VendorValidationError,
)
from staffbridge.model.person import Person, Ref, person_changes, validate_changes, validate_person
from staffbridge.sdk.transport import RetryPolicy, Transport

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
    incremental: bool = False  # list(updated_after=...) fetches only what changed
    extras: tuple[str, ...] = ()  # adapter-specific methods, e.g. "performance_report"
    notes: tuple[str, ...] = ()

    def supports(self, operation: str) -> bool:
        return operation in self.operations or operation in self.extras

    def __contains__(self, name: object) -> bool:
        """`"update" in adapter.capabilities`: an operation, extra or filter the adapter has."""
        return name in self.operations or name in self.extras or name in self.filters

    def __getitem__(self, name: str) -> Any:
        """Dict-style access for code that treats capabilities as data: `capabilities["filters"]`."""
        if name not in self.__dataclass_fields__:
            raise KeyError(name)
        return getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def secret_setting(**kwargs: Any) -> fields.String:
    """A setting that is a secret: masked in reprs, errors and logs."""
    return fields.String(metadata={"secret": True}, **kwargs)


class AdapterSettings(Schema):
    """Settings every adapter takes. Subclasses add their own fields."""

    mapping = fields.Raw(load_default=None)  # a user mapping file (path) or dict laid over the shipped one

    class Meta:
        unknown = RAISE


class HTTPSettings(AdapterSettings):
    base_url = fields.Url(require_tld=False, schemes={"http", "https"})
    timeout = fields.Float(load_default=30.0, validate=validate.Range(min=0, min_inclusive=False))
    rate_limit = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    rate_period = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, min_inclusive=False))
    max_retries = fields.Integer(load_default=4, validate=validate.Range(min=0, max=20))
    # HTTP statuses retried for idempotent requests (default 429, 500, 502, 503, 504); 429 always is
    retry_statuses = fields.List(
        fields.Integer(validate=validate.Range(min=400, max=599)), load_default=None, allow_none=True
    )
    pool_size = fields.Integer(load_default=16, validate=validate.Range(min=1, max=256))


class Adapter:
    """Base of every adapter. Subclass, set the class attributes, fill in the hooks."""

    name: ClassVar[str] = "adapter"
    Settings: ClassVar[type[Schema]] = AdapterSettings
    filters: ClassVar[tuple[str, ...]] = ()
    operations: ClassVar[tuple[str, ...]] = CRUD
    extras: ClassVar[tuple[str, ...]] = ()
    pagination: ClassVar[str] = "none"
    incremental: ClassVar[bool] = False
    notes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **settings: Any) -> None:
        self.settings = self.check_settings(settings)
        self.mapping = Mapping.load(self.mapping_name(), self.settings.get("mapping"))
        self._refs: dict[str, dict[str, Ref]] = {}

    # ------------------------------------------------------------------ settings
    @classmethod
    def mapping_name(cls) -> str:
        return cls.name

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

    # ------------------------------------------------------------------ capabilities
    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            operations=self.operations,
            filters=self.filters,
            read_fields=tuple(self.mapping.readable),
            write_fields=tuple(self.mapping.writable),
            required_on_create=tuple(self.mapping.required),
            pagination=self.pagination,
            rate_limit=self.rate_limit_text(),
            incremental=self.incremental,
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
        """Every person matching `filters`, streamed as the vendor delivers them."""
        self._require("list")
        self.check_filters(filters)
        for record in self.fetch_records(**filters):
            yield self.to_person(record)

    def check_filters(self, filters: MappingABC[str, Any]) -> None:
        unknown = sorted(set(filters) - set(self.filters))
        if unknown:
            raise ConfigError(
                f"{self.name}: unknown filter {unknown[0]!r}; supported: {', '.join(self.filters) or 'none'}",
                setting=unknown[0],
            )

    def get(self, id: str) -> Person:
        """One person; raises NotFound."""
        self._require("get")
        return self.to_person(self.fetch_record(str(id)))

    def create(self, person: Person, **options: Any) -> Person:
        """Creates `person`; raises PersonValidationError before any HTTP call when it is invalid."""
        self._require("create")
        person = self.prepare(person)
        body = self.mapping.from_person(person, create=True)
        answer = self._create_once(body, person, options)
        return self.created_person(answer, person, body)

    def update(self, id: str, changes: MappingABC[str, Any] | Person, **options: Any) -> Person:
        """Applies canonical `changes` (a dict, or a Person whose differing fields are sent)."""
        self._require("update")
        id = str(id)
        if isinstance(changes, Person):
            current = self.get(id)
            checked = self.portable(validate_person(changes, record=f"{self.name}#{id}"))
            delta = person_changes(current, checked)
            if not delta and not options:
                return current
        else:
            delta = validate_changes(changes, record=f"{self.name}#{id}")
        delta = self.resolve_refs(delta, record=f"{self.name}#{id}")
        body = self.mapping.to_vendor(delta, record=f"{self.name}#{id}")
        answer = self.update_record(id, body, delta, **options)
        return self.updated_person(id, answer, delta)

    def delete(self, id: str) -> None:
        self._require("delete")
        self.delete_record(str(id))

    def close(self) -> None:
        pass

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ shared steps
    def to_person(self, record: Any) -> Person:
        return self.mapping.to_person(record, system=self.name)

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
                portable[field] = Ref(name=ref.name) if ref.name else None
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
                found = self.find_ref(name, ref.name)
                if found is None:
                    known = ", ".join(sorted(r.name or r.id or "" for r in self.lookup_refs(name).values()))
                    raise MissingReference(
                        {name: [f"no {name} named {ref.name!r} in {self.name}; known: {known}"]}, record=record
                    )
                values[name] = found
        return values

    def has_lookup(self, field: str) -> bool:
        return False

    def find_ref(self, field: str, name: str) -> Ref | None:
        spec = self.mapping.spec(field)
        if spec is not None:  # a user value map wins over the vendor's own list
            for code, mapped in spec.converter.values.items():
                if str(mapped).casefold() == name.casefold():
                    return Ref(str(code), name)
        if field not in self._refs:
            self._refs[field] = {key.casefold(): ref for key, ref in self.lookup_refs(field).items()}
        return self._refs[field].get(name.casefold())

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
        """The Person to return from create. Default: the vendor answered with the full record."""
        if isinstance(answer, Person):
            return answer
        return self.to_person(answer)

    def updated_person(self, id: str, answer: Any, changes: dict[str, Any]) -> Person:
        if isinstance(answer, Person):
            return answer
        return self.to_person(answer)

    # ------------------------------------------------------------------ hooks
    def fetch_records(self, **filters: Any) -> Iterator[Any]:
        raise UnsupportedOperation(f"{self.name} does not list")

    def fetch_record(self, id: str) -> Any:
        raise UnsupportedOperation(f"{self.name} does not get")

    def create_record(self, body: dict[str, Any], person: Person, **options: Any) -> Any:
        raise UnsupportedOperation(f"{self.name} does not create")

    def update_record(self, id: str, body: dict[str, Any], changes: dict[str, Any], **options: Any) -> Any:
        raise UnsupportedOperation(f"{self.name} does not update")

    def delete_record(self, id: str) -> None:
        raise UnsupportedOperation(f"{self.name} does not delete")

    def find_existing(self, person: Person) -> Person | None:
        return None

    def lookup_refs(self, field: str) -> dict[str, Ref]:
        return {}


class HTTPAdapter(Adapter):
    """An adapter that talks HTTP through a `Transport`. Subclasses give `default_rate` and `auth`."""

    Settings: ClassVar[type[Schema]] = HTTPSettings
    default_rate: ClassVar[tuple[int, float] | None] = None  # (requests, per seconds)

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        limit, period = self.default_rate or (None, 1.0)
        self.transport = Transport(
            self.base_url(),
            vendor=self.name,
            auth=self.auth,
            timeout=self.settings["timeout"],
            rate_limit=self.settings.get("rate_limit") or limit,
            rate_period=self.settings.get("rate_period") or period,
            retry=self.retry_policy(),
            error_parser=self.parse_errors,
            secrets=self.secret_values(),
            pool_size=self.settings["pool_size"],
        )

    def retry_policy(self) -> RetryPolicy:
        policy = RetryPolicy(max_retries=self.settings["max_retries"])
        if self.settings.get("retry_statuses") is not None:
            policy.statuses = frozenset(self.settings["retry_statuses"])
        return policy

    def base_url(self) -> str:
        url = self.settings.get("base_url")
        if not url:
            raise ConfigError(f"{self.name}: setting 'base_url' is required", setting="base_url")
        return url

    def auth(self, headers: dict[str, str]) -> None:
        """Adds credentials to the headers of each request."""

    def parse_errors(self, response: Any) -> list[Any]:
        from staffbridge.sdk.transport import default_error_parser

        return default_error_parser(response)

    def rate_limit_text(self) -> str | None:
        limiter = self.transport.limiter
        return f"{limiter.limit} requests per {limiter.per:g} s" if limiter.limit else None

    def close(self) -> None:
        self.transport.close()


__all__ = [
    "Adapter",
    "AdapterSettings",
    "Capabilities",
    "HTTPAdapter",
    "HTTPSettings",
    "PersonValidationError",
    "secret_setting",
]
