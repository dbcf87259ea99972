"""The v2 field-service users API (a Mintlify/OpenAPI-documented NestJS + MongoDB backend).

    fs = staffbridge.connect("fieldservice", base_url="https://fs.example.com", api_key=KEY)

Settings: `base_url` (required: the docs only show their dev server, so no public host is known);
`api_key` (sent as the `x-API-Key` header on every request); `timeout`; `rate_limit` / `rate_period`
(no budget is documented, so none by default); `max_retries`.

**Only `POST /v2/users/` is documented** (it answers `{"_id": ...}` and nothing else). List, get,
update and delete are NOT publicly documented: this adapter calls the conventional routes

    list    GET    /v2/users/          get     GET    /v2/users/{id}
    update  PATCH  /v2/users/{id}      delete  DELETE /v2/users/{id}

and every one of those guesses is a setting, so a real server that differs needs configuration, not
code: `routes={"list": "/v2/users/", "get": "/v2/users/{id}", ...}` (any subset; `{id}` is the
user's `_id`), `update_verb="PATCH"` or `"PUT"`, `pagination="none"` (one request answers the whole
array; the default), `"page"` (`?page=N&limit=M`, first page `first_page`) or `"skip"`
(`?skip=N&limit=M`), with `page_size`, and the query names `page_param` / `skip_param` /
`limit_param`. A list answer may be a bare array or an object holding it (`list_key`, else the first
of data/users/items/results/docs).

Behaviour chosen where the docs are silent:
- `create(person, reread=False, password=None)` returns the Person built from the body it sent plus
  the new `_id`, without a second request; `reread=True` GETs the stored user instead. `password` goes
  to `access.password`; it is masked wherever a request is described and never logged.
- A PATCH sends only the changed fields, as nested objects (the server is taken to merge them); an
  updated address is sent whole, with absent parts as null, so old parts do not survive.
  `patch_objects=True` sends every touched object whole (read-merged), for servers that replace
  nested objects. A PUT sends the full document: the stored user read again, the changes merged in,
  read-only fields removed. After an update the user is read again unless the answer already shows
  the changes (servers commonly answer the document as it was before the update).
- `_id` is documented as an ObjectId: an id that is not 24 hex digits raises NotFound without any
  request. A GET answering 200 with an empty body or `null` (how NestJS renders a missing document)
  is NotFound too.
- References: `department` is `contract.department`, a name. `role` is `accessGroupId`, a slug id
  with no lookup endpoint: name the slugs with a value map in a mapping file laid over the shipped
  one; a role given only by name is then resolved through the map (MissingReference when unknown),
  and without a map the name is sent as the slug. Reference ids from another system (a Person whose
  `system` is not "fieldservice") mean nothing here: only their names are used.
- `id` (the login id, declared a number, documented as "36920") reads as canonical `username`, a
  string, from either form; it is written as a number and must be digits.
- Errors are read as NestJS bodies, `{"statusCode", "message": str | [str], "error"}`.
"""

from __future__ import annotations

import copy
import logging
import re
from collections import abc
from collections.abc import Iterator
from collections.abc import Mapping as MappingABC
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from staffbridge.mapping.engine import deep_merge, delete_path, get_path, set_path
from staffbridge.model.errors import NotFound, PersonValidationError, ResponseError, StaffbridgeError
from staffbridge.model.person import Address, Person, Ref
from staffbridge.sdk.adapter import HTTPAdapter, HTTPSettings, secret_setting

log = logging.getLogger("staffbridge.adapters.fieldservice")

ROUTES = {
    "list": "/v2/users/",
    "create": "/v2/users/",
    "get": "/v2/users/{id}",
    "update": "/v2/users/{id}",
    "delete": "/v2/users/{id}",
}
ROUTES_WITH_ID = ("get", "update", "delete")
PAGINATIONS = ("none", "page", "skip")
LIST_KEYS = ("data", "users", "items", "results", "docs")
OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}\Z")


class FieldServiceSettings(HTTPSettings):
    base_url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    api_key = secret_setting(required=True, validate=validate.Length(min=1))
    routes = fields.Dict(
        keys=fields.String(validate=validate.OneOf(ROUTES)),
        values=fields.String(validate=validate.Length(min=1)),
        load_default=None,
    )
    update_verb = fields.String(load_default="PATCH", validate=lambda verb: _one_of(verb, ("PATCH", "PUT")))
    patch_objects = fields.Boolean(load_default=False)
    pagination = fields.String(load_default="none", validate=validate.OneOf(PAGINATIONS))
    page_size = fields.Integer(load_default=100, validate=validate.Range(min=1, max=10_000))
    first_page = fields.Integer(load_default=1, validate=validate.Range(min=0, max=1))
    page_param = fields.String(load_default="page", validate=validate.Length(min=1))
    skip_param = fields.String(load_default="skip", validate=validate.Length(min=1))
    limit_param = fields.String(load_default="limit", validate=validate.Length(min=1))
    list_key = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def _routes_name_the_id(self, data: dict[str, Any], **kwargs: Any) -> None:
        for name, path in (data.get("routes") or {}).items():
            if name in ROUTES_WITH_ID and "{id}" not in path:
                raise ValidationError(f"the {name} route must contain {{id}}, e.g. /v2/users/{{id}}", "routes")


class FieldServiceAdapter(HTTPAdapter):
    name = "fieldservice"
    Settings = FieldServiceSettings
    default_rate = None  # no budget is documented
    filters = ()  # no list filters are documented
    notes = (
        "only POST /v2/users/ is documented; list/get/update/delete use configurable conventional routes",
        "create answers only the new _id: the Person returned is built from what was sent",
        "an address given only as formatted text cannot be stored: the vendor keeps parts",
        "employee_number (number), created_at and updated_at (status) are server-assigned",
    )

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.routes = {**ROUTES, **(self.settings.get("routes") or {})}
        self.update_verb = self.settings["update_verb"].upper()
        self.pagination = self.settings["pagination"]  # shadows the class default in capabilities

    def auth(self, headers: dict[str, str]) -> None:
        headers["x-API-Key"] = self.settings["api_key"]

    def _path(self, route: str, id: str | None = None) -> str:
        path = self.routes[route]
        return path.replace("{id}", object_id(id)) if id is not None else path

    # ------------------------------------------------------------------ reading
    def fetch_records(self) -> Iterator[Any]:
        if self.pagination == "none":
            yield from self._items(self.transport.request("GET", self._path("list")))
            return
        size, seen = self.settings["page_size"], set()
        page, offset = self.settings["first_page"], 0
        while True:
            where = (
                {self.settings["page_param"]: page}
                if self.pagination == "page"
                else {self.settings["skip_param"]: offset}
            )
            response = self.transport.request(
                "GET", self._path("list"), params={**where, self.settings["limit_param"]: size}
            )
            items = self._items(response)
            fresh = 0
            for item in items:
                key = str(item.get("_id")) if isinstance(item, dict) and item.get("_id") else None
                if key in seen:  # a record moved pages while we read, or the server ignores paging
                    continue
                if key:
                    seen.add(key)
                fresh += 1
                yield item
            offset += len(items)
            page += 1
            total = _int(response.headers.get("X-Total-Count"))
            if len(items) < size or not fresh or (total is not None and offset >= total):
                return

    def _items(self, response: Any) -> list[Any]:
        data = self.transport.json(response)
        if isinstance(data, dict):
            key = self.settings.get("list_key")
            keys = (key,) if key else LIST_KEYS
            data = next((data[k] for k in keys if isinstance(data.get(k), list)), data)
        if not isinstance(data, list):
            raise ResponseError(
                f"fieldservice: expected a list of users, got {type(data).__name__}",
                status=response.status_code,
                vendor=self.name,
                request=self.transport.describe("GET", response.url),
            )
        return data

    def fetch_record(self, id: str) -> dict[str, Any]:
        response = self.transport.request("GET", self._path("get", id))
        data = self._answer(response)
        if data is None:  # NestJS renders a missing document as 200 with nothing
            raise NotFound(
                f"fieldservice: user {id} not found (empty answer)",
                status=response.status_code,
                vendor=self.name,
                request=self.transport.describe("GET", response.url),
            )
        if not isinstance(data, dict):
            raise ResponseError(
                f"fieldservice: expected a user object, got {type(data).__name__}",
                status=response.status_code,
                vendor=self.name,
                request=self.transport.describe("GET", response.url),
            )
        return data

    def _answer(self, response: Any) -> Any:
        return self.transport.json(response) if response.content.strip() else None

    def to_person(self, record: Any) -> Person:
        person = super().to_person(record)
        # collections.abc, not typing: typing's isinstance costs several times more, per record
        if isinstance(record, abc.Mapping):
            raw_id = record.get("_id")
            if isinstance(raw_id, abc.Mapping) and isinstance(raw_id.get("$oid"), str):
                raw_id = raw_id["$oid"]  # MongoDB extended JSON
                person.id = raw_id
            if raw_id is None:
                person.problems.append("_id: missing")
            elif not (isinstance(raw_id, str) and OBJECT_ID.match(raw_id)):
                person.problems.append(f"_id: not an ObjectId: {raw_id!r}")
            for name in self._nested_objects():
                value = record.get(name)
                if value is not None and not isinstance(value, abc.Mapping):
                    person.problems.append(f"{name}: expected an object, got {type(value).__name__}")
        return person

    def _nested_objects(self) -> list[str]:
        cached = self.__dict__.get("_nested_cache")
        if cached is None or cached[0] is not self.mapping:  # once per mapping, not once per record
            paths = [spec.read for spec in self.mapping.fields if isinstance(spec.read, str)]
            cached = self._nested_cache = (self.mapping, sorted({p.split(".", 1)[0] for p in paths if "." in p}))
        return cached[1]

    # ------------------------------------------------------------------ writing
    def create(self, person: Person, reread: bool = False, password: str | None = None) -> Person:
        """Creates the user; returns what was sent plus the new `_id` (or, with reread, the stored user)."""
        created = super().create(person, password=password)
        return self.get(created.id) if reread and created.id else created

    def prepare(self, person: Person) -> Person:
        person = self._storable(person)
        if person.username is not None and not str(person.username).strip().isdigit():
            raise PersonValidationError(
                {"username": ["The login id (id) is a number: digits only."]}, record=person.label
            )
        return super().prepare(person)

    def create_record(self, body: dict[str, Any], person: Person, password: str | None = None) -> Any:
        sent = self._with_password(body, password)
        response = self.transport.request("POST", self._path("create"), json_body=sent, idempotent=False)
        answer = self._answer(response)
        if isinstance(answer, str):
            answer = {"_id": answer}
        if isinstance(answer, dict) and isinstance(answer.get("_id"), str) and answer["_id"]:
            return answer
        existing = self.find_existing(person)  # created, but the answer does not say which id
        if existing is not None:
            return existing
        raise ResponseError(
            "fieldservice: create answered without an _id; the user may exist all the same",
            status=response.status_code,
            vendor=self.name,
            request=self.transport.describe("POST", response.url),
        )

    def created_person(self, answer: Any, sent: Person, body: dict[str, Any]) -> Person:
        if isinstance(answer, Person):
            return answer
        return self.to_person(deep_merge(body, answer))  # the body never holds the password

    def update(self, id: str, changes: MappingABC[str, Any] | Person, password: str | None = None) -> Person:
        """PATCH the changed fields (or PUT the read-merged document); a new password may be set too."""
        if isinstance(changes, Person):
            changes = self._storable(changes)
        return super().update(id, changes, **({"password": password} if password else {}))

    def update_record(self, id: str, body: dict[str, Any], changes: dict[str, Any], password: str | None = None) -> Any:
        path = self._path("update", id)
        body = self._whole_address(id, body, changes)
        if not body and not password:  # only fields this vendor cannot hold changed
            return self.fetch_record(id)
        if self.update_verb == "PUT":
            body = self._without_read_only(deep_merge(self.fetch_record(id), body))
        elif self.settings["patch_objects"] and body:
            merged = deep_merge(self.fetch_record(id), body)
            body = self._without_read_only({key: merged[key] for key in body})
        sent = self._with_password(body, password)
        # PATCH is not idempotent in general, but this one is: it sets values (a merge), so sending it
        # again after a lost answer (5xx, reset, timeout) leaves the same document
        answer = self._answer(self.transport.request(self.update_verb, path, json_body=sent, idempotent=True))
        if isinstance(answer, dict) and _shows(answer, id, body):
            return answer
        return self.fetch_record(id)

    def delete_record(self, id: str) -> None:
        self.transport.request("DELETE", self._path("delete", id))

    def find_existing(self, person: Person) -> Person | None:
        """The user with this login email, found by reading the list (no search is documented)."""
        spec = self.mapping.spec("email")
        if not person.email or spec is None or not isinstance(spec.read, str):
            return None
        try:
            for record in self.fetch_records():
                found = get_path(record, spec.read, None) if isinstance(record, dict) else None
                if isinstance(found, str) and found.casefold() == person.email.casefold():
                    return self.to_person(record)
        except StaffbridgeError as exc:
            log.info("fieldservice: cannot look for %s in the list (%s)", person.label, type(exc).__name__)
        return None

    def _with_password(self, body: dict[str, Any], password: str | None) -> dict[str, Any]:
        if not password:
            return body
        self.transport.add_secret(password)
        sent = copy.deepcopy(body)
        set_path(sent, "access.password", password)
        return sent

    def _whole_address(self, id: str, body: dict[str, Any], changes: MappingABC[str, Any]) -> dict[str, Any]:
        """A changed address replaces the old one: parts it lacks are sent as null, not left stale."""
        spec = self.mapping.spec("address")
        if not isinstance(changes.get("address"), Address) or spec is None or not isinstance(spec.write, str):
            return body
        parts = get_path(body, spec.write, None)
        if not parts:  # only a formatted text: nothing the vendor can hold, so nothing is blanked
            _warn_text_address(f"fieldservice#{id}")
            delete_path(body, spec.write)
        elif isinstance(parts, dict):
            set_path(body, spec.write, {**{name: None for name in Address.PARTS}, **parts})
        return body

    def _without_read_only(self, document: dict[str, Any]) -> dict[str, Any]:
        for path in self.mapping.read_only:
            delete_path(document, path)
        return document

    # ------------------------------------------------------------------ what the vendor can hold
    def _storable(self, person: Person) -> Person:
        """`person` as this vendor can take it: no text-only address (portable refs: Adapter.portable)."""
        if _text_only(person.address):
            _warn_text_address(person.label)
            person = person.replace(address=None)
        return person

    def _role_names(self) -> dict[str, Any]:
        spec = self.mapping.spec("role")
        return spec.converter.values if spec is not None else {}

    def has_lookup(self, field: str) -> bool:
        return field == "role" and bool(self._role_names())

    def lookup_refs(self, field: str) -> dict[str, Ref]:
        if field != "role":
            return {}
        return {str(name): Ref(str(code), str(name)) for code, name in self._role_names().items()}

    def resolve_refs(self, values: dict[str, Any], record: str | None = None, required: Any = ()) -> dict[str, Any]:
        values = super().resolve_refs(values, record=record, required=required)
        role = values.get("role")
        if isinstance(role, Ref) and role.id is None and role.name:  # no map: the name is the slug
            values["role"] = Ref(role.name, role.name)
        return values


def _one_of(value: str, allowed: tuple[str, ...]) -> None:
    if value.upper() not in allowed:
        raise ValidationError(f"Must be one of: {', '.join(allowed)}.")


def object_id(id: Any) -> str:
    """`id` as a path segment; anything but an ObjectId cannot exist, so NotFound without a request."""
    text = str(id).strip()
    if not OBJECT_ID.match(text):
        raise NotFound(f"fieldservice: {str(id)[:40]!r} is not a user id (24 hex digits)", vendor="fieldservice")
    return text


def _text_only(address: Any) -> bool:
    return isinstance(address, Address) and not any(getattr(address, part) for part in Address.PARTS)


def _warn_text_address(who: str) -> None:
    log.warning(
        "fieldservice: the address of %s is only a formatted text; the vendor keeps address parts, so it is not sent",
        who,
    )


def _shows(answer: MappingABC[str, Any], id: str, body: MappingABC[str, Any]) -> bool:
    """Whether an update's answer is the user *after* the update (else it is read again)."""
    if str(answer.get("_id", "")).lower() != id.strip().lower():
        return False
    return all(get_path(answer, path, None) == value for path, value in _leaves(body))


def _leaves(body: MappingABC[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in body.items():
        path = f"{prefix}{key}"
        if isinstance(value, MappingABC) and value:
            yield from _leaves(value, path + ".")
        else:
            yield path, value


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
