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
`limit_param` (a record read on an earlier page is not yielded again). A list answer may be a bare
array or an object holding it (`list_key`, else the first of data/users/items/results/docs).

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
  and without a map the name is sent as the slug.
- `id` (the login id, declared a number, documented as "36920") reads as canonical `username`, a
  string, from either form; it is written as a number and must be digits.
- Errors are read as NestJS bodies, `{"statusCode", "message": str | [str], "error"}`.
"""

from __future__ import annotations

import logging
import re
from collections import abc
from collections.abc import Mapping as MappingABC
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from staffbridge.mapping.engine import delete_path, get_path, set_path
from staffbridge.model.errors import PersonValidationError, ResponseError, StaffbridgeError
from staffbridge.model.person import Address, Person, Ref
from staffbridge.sdk.auth import HeaderAuth
from staffbridge.sdk.http_adapter import HTTPAdapter
from staffbridge.sdk.paginators import Offset, PageNumber, Paginator, SingleAnswer
from staffbridge.sdk.settings import HTTPSettings, secret_setting
from staffbridge.sdk.shapes import expect_found, shows

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
LIST_KEYS: tuple[str, ...] = ("data", "users", "items", "results", "docs")
OBJECT_ID = r"[0-9a-fA-F]{24}"
_OBJECT_ID = re.compile(OBJECT_ID + r"\Z")


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
    paths = ROUTES
    records_key = LIST_KEYS
    auth = HeaderAuth("x-API-Key")
    id_pattern = OBJECT_ID
    write_options = {"password": "access.password"}  # create(..., password=...), update(..., password=...)
    create_answers_id_only = True  # {"_id": ...}
    filters = ()  # no list filters are documented
    notes = (
        "only POST /v2/users/ is documented; list/get/update/delete use configurable conventional routes",
        "create answers only the new _id: the Person returned is built from what was sent",
        "an address given only as formatted text cannot be stored: the vendor keeps parts",
        "employee_number (number), created_at and updated_at (status) are server-assigned",
    )

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        s = self.settings
        self.paths = self.routes = {**ROUTES, **(s.get("routes") or {})}
        self.update_method = self.update_verb = s["update_verb"].upper()
        self.records_key = (s["list_key"],) if s.get("list_key") else LIST_KEYS
        paginators: dict[str, Paginator] = {
            "none": SingleAnswer(),
            "page": PageNumber(s["page_size"], s["page_param"], s["limit_param"], s["first_page"], key="_id"),
            "skip": Offset(s["page_size"], s["skip_param"], s["limit_param"], key="_id"),
        }
        self.paginator = paginators[s["pagination"]]
        self.pagination = self.paginator.kind  # shadows the class default in capabilities

    # ------------------------------------------------------------------ reading
    def fetch_record(self, id: str) -> dict[str, Any]:
        response = self.transport.request("GET", self.path("get", id))
        return expect_found(self.transport.json_or_none(response), self.transport, response, f"user {id}")

    def to_person(self, record: Any) -> Person:
        person = super().to_person(record)
        # a plain dict (parsed JSON) is tested first: an isinstance against collections.abc.Mapping
        # costs ~0.2 us, six of them per record were a fifth of a record's translation
        if type(record) is dict or isinstance(record, abc.Mapping):
            raw_id = record.get("_id")
            if type(raw_id) is not str and isinstance(raw_id, abc.Mapping) and isinstance(raw_id.get("$oid"), str):
                raw_id = raw_id["$oid"]  # MongoDB extended JSON
                person.id = raw_id
            if raw_id is None:
                person.problems.append("_id: missing")
            elif not (isinstance(raw_id, str) and _OBJECT_ID.match(raw_id)):
                person.problems.append(f"_id: not an ObjectId: {raw_id!r}")
            for name in self._nested_objects():
                value = record.get(name)
                if value is not None and type(value) is not dict and not isinstance(value, abc.Mapping):
                    person.problems.append(f"{name}: expected an object, got {type(value).__name__}")
        return person

    def _nested_objects(self) -> list[str]:
        cached = self.__dict__.get("_nested_cache")
        if cached is None or cached[0] is not self.mapping:  # once per mapping, not once per record
            paths = [spec.read for spec in self.mapping.fields if isinstance(spec.read, str)]
            cached = self._nested_cache = (self.mapping, sorted({p.split(".", 1)[0] for p in paths if "." in p}))
        return cached[1]

    # ------------------------------------------------------------------ writing
    def create(self, person: Person, reread: bool = False, password: str | None = None, **options: Any) -> Person:
        """Creates the user; returns what was sent plus the new `_id` (or, with reread, the stored user)."""
        return super().create(person, reread=reread, password=password, **options)

    def prepare(self, person: Person) -> Person:
        if person.username is not None and not str(person.username).strip().isdigit():
            raise PersonValidationError(
                {"username": ["The login id (id) is a number: digits only."]}, record=person.label
            )
        return super().prepare(person)

    def create_record(self, body: dict[str, Any], person: Person, **options: Any) -> Any:
        sent = self.with_options(body, options)
        response = self.transport.request("POST", self.path("create"), json_body=sent, idempotent=False)
        answer = self.transport.json_or_none(response)
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

    def update_record(
        self, id: str, body: dict[str, Any], changes: dict[str, Any], current: Any, **options: Any
    ) -> Any:
        body = self._whole_address(id, body, changes)
        if not body and not options:  # only fields this vendor cannot hold changed
            return self.fetch_record(id)
        if self.update_verb == "PUT":
            body = self.whole_document(id, body)
        elif self.settings["patch_objects"] and body:
            merged = self.whole_document(id, body)
            body = {key: merged[key] for key in body if key in merged}
        sent = self.with_options(body, options)
        # PATCH is not idempotent in general, but this one is: it sets values (a merge), so sending it
        # again after a lost answer (5xx, reset, timeout) leaves the same document
        response = self.transport.request(self.update_verb, self.path("update", id), json_body=sent, idempotent=True)
        answer = self.transport.json_or_none(response)
        if isinstance(answer, dict) and str(answer.get("_id", "")).lower() == id.lower() and shows(answer, body):
            return answer
        return self.fetch_record(id)

    def existing_filters(self, person: Person) -> dict[str, Any]:
        return {}  # no search is documented: the whole list is read

    def find_existing(self, person: Person) -> Person | None:
        try:
            return super().find_existing(person)
        except StaffbridgeError as exc:
            log.info("fieldservice: cannot look for %s in the list (%s)", person.label, type(exc).__name__)
            return None

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

    # ------------------------------------------------------------------ what the vendor can hold
    def portable(self, person: Person) -> Person:
        """Besides references by name: no text-only address (the vendor keeps address parts)."""
        if _text_only(person.address):
            _warn_text_address(person.label)
            person = person.replace(address=None)
        return super().portable(person)

    def resolve_refs(self, values: dict[str, Any], record: str | None = None, required: Any = ()) -> dict[str, Any]:
        values = super().resolve_refs(values, record=record, required=required)
        role = values.get("role")
        if isinstance(role, Ref) and role.id is None and role.name:  # no map: the name is the slug
            values["role"] = Ref(role.name, role.name)
        return values


def _one_of(value: str, allowed: tuple[str, ...]) -> None:
    if value.upper() not in allowed:
        raise ValidationError(f"Must be one of: {', '.join(allowed)}.")


def _text_only(address: Any) -> bool:
    return isinstance(address, Address) and not any(getattr(address, part) for part in Address.PARTS)


def _warn_text_address(who: str) -> None:
    log.warning(
        "fieldservice: the address of %s is only a formatted text; the vendor keeps address parts, so it is not sent",
        who,
    )
