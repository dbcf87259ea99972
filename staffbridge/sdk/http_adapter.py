"""`HTTPAdapter`: an Adapter whose record hooks are built from declarations, over one `Transport`."""

from __future__ import annotations

import string
from collections.abc import Iterator
from collections.abc import Mapping as MappingABC
from typing import Any, ClassVar, TypeVar

import requests
from marshmallow import Schema

from staffbridge.mapping.engine import deep_merge, delete_path
from staffbridge.model.errors import ConfigError, DeleteRefused, NotFound, VendorAPIError, VendorValidationError
from staffbridge.model.person import Person, Ref
from staffbridge.sdk.adapter import Adapter
from staffbridge.sdk.auth import Auth
from staffbridge.sdk.paginators import Paginator, SingleAnswer
from staffbridge.sdk.settings import HTTPSettings
from staffbridge.sdk.shapes import Malformed, expect_list, expect_object, names_by_id, records_at
from staffbridge.sdk.streaming import JsonReader, records_in
from staffbridge.sdk.transport import RetryPolicy, Transport, default_error_parser

E = TypeVar("E", bound=VendorAPIError)


class HTTPAdapter(Adapter):
    """An adapter that talks HTTP through a `Transport`, its record hooks built from declarations:

    base_url_template = "https://{domain}.mocoapp.com/api/v1"   # filled from settings
    paths = {"list": "/users", "get": "/users/{id}", ...}       # create, update, delete too
    records_key = ("data", "users")     # where records sit in a list answer (else the answer)
    paginator = LinkHeader()            # sdk.paginators
    auth = HeaderAuth("x-API-Key")      # sdk.auth; make_auth() for one with state
    lookups = {"department": "/units"}  # where names of departments and roles are resolved
    cursor = Cursor()                   # sdk.cursor: its filter is sent as a request parameter
    default_rate = (120, 120.0)         # requests per seconds, unless settings say otherwise
    """

    Settings: ClassVar[type[Schema]] = HTTPSettings
    default_rate: ClassVar[tuple[int, float] | None] = None
    base_url_template: ClassVar[str | None] = None
    # declared on the class; not ClassVars, as an adapter whose routes or paging are settings sets
    # them per instance (the field-service API)
    paths: MappingABC[str, str] = {}
    records_key: tuple[str, ...] = ()
    paginator: Paginator = SingleAnswer()
    update_method: str = "PUT"
    auth: ClassVar[Auth | None] = None
    lookups: ClassVar[MappingABC[str, str]] = {}  # department/role -> the endpoint listing {id, name}
    delete_refused_hint: ClassVar[str] = ""  # why a vendor refuses a delete, e.g. " (hours already billed?)"
    base_path: ClassVar[str | None] = None  # where the API sits below a host (MOCO: "/api/v1"), for hints

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.pagination = cls.paginator.kind

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        limit, period = self.default_rate or (None, 1.0)
        self.transport = Transport(
            self.base_url(),
            vendor=self.name,
            auth=self._authenticate,
            timeout=self.settings["timeout"],
            rate_limit=self.settings.get("rate_limit") or limit,
            rate_period=self.settings.get("rate_period") or period,
            retry=self.retry_policy(),
            error_parser=self.parse_errors,
            secrets=self.secret_values(),
            pool_size=self.settings["pool_size"],
            waits=self.waits,
        )
        self.authenticator = self.make_auth()

    def retry_policy(self) -> RetryPolicy:
        policy = RetryPolicy(max_retries=self.settings["max_retries"])
        if self.settings.get("retry_statuses") is not None:
            policy.statuses = frozenset(self.settings["retry_statuses"])
        return policy

    def base_url(self) -> str:
        url = self.settings.get("base_url")
        if url:
            return str(url)
        template = self.base_url_template
        missing = (
            "base_url"
            if template is None
            else next((name for name in _placeholders(template) if not self.settings.get(name)), None)
        )
        if template is None or missing is not None:
            also = f"setting {missing!r} or 'base_url'" if template else "setting 'base_url'"
            raise ConfigError(f"{self.name}: the {also} is required", setting=missing or "base_url")
        return template.format(**self.settings)

    def make_auth(self) -> Auth | None:
        """The auth object this adapter's requests carry; override for one holding state (a token)."""
        return self.auth

    def _authenticate(self, headers: dict[str, str]) -> None:
        if self.authenticator is not None:
            self.authenticator(headers, self.settings)

    def add_secret(self, value: str) -> None:
        self.transport.add_secret(value)

    def parse_errors(self, response: Any) -> list[Any]:
        return default_error_parser(response)

    def rate_limit_text(self) -> str | None:
        limiter = self.transport.limiter
        return f"{limiter.limit} requests per {limiter.per:g} s" if limiter.limit else None

    def close(self) -> None:
        self.transport.close()

    # ------------------------------------------------------------------ the record hooks, declared
    def path(self, operation: str, id: str | None = None) -> str:
        path = self.paths[operation]
        return path.replace("{id}", id) if id is not None else path

    def query(self, **filters: Any) -> dict[str, Any]:
        """Request parameters for list filters (the cursor's already written as the vendor takes it)."""
        return {name: value for name, value in filters.items() if value is not None}

    def fetch_records(self, **filters: Any) -> Iterator[Any]:
        if self.cursor is not None and filters.get(self.cursor.param) is not None:
            filters[self.cursor.param] = self.cursor.request_value(filters[self.cursor.param])
        return self.read_all(self.path("list"), self.query(**filters))

    def read_all(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every record of a list endpoint, through the paginator, one page in memory at a time."""
        try:
            yield from self.paginator.items(self.transport, path, params, self)
        except NotFound as exc:
            raise self.with_base_url_hint(exc) from None

    def with_base_url_hint(self, error: NotFound) -> NotFound:
        """A 404 of a listing, when `base_url` does not end in the vendor's `base_path`: most likely
        the path is missing from the setting (a `base_url` of "https://acme.mocoapp.com"), so say so."""
        url = self.transport.base_url
        if not self.base_path or not url or url.endswith(self.base_path.rstrip("/")):
            return error
        return recast(
            error,
            NotFound,
            f"{error.args[0] if error.args else 'not found'} (check base_url: {url} does not end in "
            f"{self.base_path}, where {self.name}'s API sits, e.g. {url}{self.base_path})",
        )

    def records(self, response: requests.Response) -> list[Any]:
        """The records of one page: the answer's list, or the list under the first of `records_key`."""
        return expect_list(records_at(self.transport.json(response), self.records_key), self.transport, response)

    def stream_records(self, response: requests.Response) -> Iterator[Any]:
        """The records of an answer holding them all, parsed one by one as they arrive."""
        try:
            yield from records_in(JsonReader(self.transport.chunks(response)), self.records_key)
        except Malformed as exc:
            raise self.transport.unreadable(response, str(exc)) from None
        finally:
            response.close()

    def answer(self, response: requests.Response) -> dict[str, Any]:
        """The JSON object the vendor answered."""
        return expect_object(self.transport.json(response), self.transport, response)

    def fetch_record(self, id: str) -> Any:
        try:
            return self.answer(self.transport.request("GET", self.path("get", id)))
        except NotFound as exc:
            raise self.with_base_url_hint(exc) from None

    def create_record(self, body: dict[str, Any], person: Person, **options: Any) -> Any:
        sent = self.with_options(body, options)
        return self.answer(self.transport.request("POST", self.path("create"), json_body=sent, idempotent=False))

    def update_record(
        self, id: str, body: dict[str, Any], changes: dict[str, Any], current: Any, **options: Any
    ) -> Any:
        sent = self.with_options(body, options)
        return self.answer(self.transport.request(self.update_method, self.path("update", id), json_body=sent))

    def has_lookup(self, field: str) -> bool:
        return field in self.lookups or super().has_lookup(field)

    def lookup_refs(self, field: str) -> dict[str, Ref]:
        if field not in self.lookups:
            return super().lookup_refs(field)
        return {ref.name: ref for ref in self.lookup(self.lookups[field]) if ref.name}

    def lookup(self, path: str) -> list[Ref]:
        """The {id, name} records of a lookup endpoint (units, departments, roles) as Refs."""
        return [Ref(ident, name or None) for ident, name in names_by_id(self.read_all(path)).items()]

    def whole_document(self, id: str, body: dict[str, Any]) -> dict[str, Any]:
        """The stored record read again with `body` laid over it, read-only fields removed: for
        vendors whose update replaces the whole document (or each object it names)."""
        document = deep_merge(self.fetch_record(id), body)
        for path in self.mapping.read_only:
            delete_path(document, path)
        return document

    def delete_record(self, id: str) -> None:
        try:
            self.transport.request("DELETE", self.path("delete", id))
        except VendorValidationError as exc:
            hint = f"{self.delete_refused_hint}; deactivate instead with update(id, {{'active': False}})"
            raise recast(exc, DeleteRefused, f"{self.name} refused to delete user {id}{hint}") from None


def recast(error: VendorAPIError, kind: type[E], message: str) -> E:
    """`error` as another kind of error with the same status, request, vendor messages and body: what
    it means in its place (a refused delete, a refused log-in)."""
    return kind(
        message,
        status=error.status,
        request=error.request,
        messages=error.messages,
        vendor=error.vendor,
        body=error.body,
    )


def _placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


__all__ = ["HTTPAdapter", "recast"]
