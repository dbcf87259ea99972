"""WhosOff API v4 users (https://www.whosoff.com/features/api/).

    whosoff = staffbridge.connect("whosoff", base_url="https://<your WhosOff API root>", app_id=APP_ID,
                                  username="admin@example.com", password=PASSWORD, client_secret=SECRET)
    for person in whosoff.list(active=True): ...

Settings
- `base_url` (required): the `{root}` the docs write before `/v4/...`; WhosOff publishes no host.
- `app_id` (required): sent as the `app-id` header on every call, and in the handshake body.
- Either `access_token` (a ready token), or `username` + `password` + `client_secret` (+ optional
  `ip_address`) for the credentials handshake; both together: the token first, the handshake once
  it is refused. `secret_encoding`: how SHA-512(nonce + client_secret) is written, "hex" (default),
  "hex_upper" or "base64" - the docs do not say.
- `timeout`, `max_retries`, `pool_size`; `rate_limit` / `rate_period`: none by default, as WhosOff
  documents no rate limit.
- `defaults`: values for fields WhosOff requires but a Person has no word for (user_type_id,
  default_view_type_id, email_type_id, allowance_type_id, approver / notifier ids and role ids, ...),
  laid over the mapping's [defaults]; e.g. `defaults={"user_type_id": "200", "department_id": "7"}`
  (a default department_id also makes `department` optional on create).
- `map_id` (default 0): the map_id sent with a company-wide retrieve (map_type_id 0), where the
  docs require a map_id but do not say which.
- `retrieve_version` "v4" (default) or "v4.1" (adds role fields and image URLs to list records);
  `authenticate_path` (default "/v4/authenticate/with-credentials", the docs' Route line; the
  cURL sample lacks the "/v4"); `trailing_slash` (the samples end paths with "/"; default off).
- `department_lookup`: how department names become ids: "auto" (default) asks the department
  controller (GET /v4/department/retrieve, documented on the api-department page; its answer's
  fields are not, so department_id + name are assumed) and falls back to the departments named on
  users; "department_api" or "users" use only one. A mapping `values` map wins over both.
- `date_format`: employment dates' format; default ISO: reads "YYYY-MM-DD" (also the date part of an
  ISO timestamp), writes "YYYY-MM-DD". The docs say only "Date".
- `token_margin` (60 s): refresh this long before token_expiry_date. `token_lifetime` (300 s): how
  long to trust a token whose answer has no readable expiry; a refused token is replaced anyway.
- `generate_password` (default True): create() without a password sends a random one (never logged
  or returned; the person sets their own through WhosOff). False: such a create is refused.
- `auth_codes`, `permission_codes`, `not_found_codes`, `warning_codes`: WhosOff publishes only two
  error codes ("004a", "00422"), so which codes mean what is configurable. Defaults follow the
  bundled sandbox; without a known code the message wording decides (token/authorisation words ->
  AuthenticationError; "not found" on a call about one id -> NotFound).

Behaviour where the docs are silent
- Errors: any non-empty `Errors` is a refusal, even under HTTP 200, carrying every code and message
  (`error.codes`, `error.messages`; under 200 also `error.data`, e.g. the id of a create that
  happened). Codes in `warning_codes` are logged and noted in `person.problems` instead. HTTP 400
  -> VendorValidationError, or AuthenticationError / NotFound by code; a 400 without the envelope
  is still read (`message`, ASP.NET's `errors: {field: [...]}`); an unreadable answer (HTML page,
  broken or empty JSON) -> ResponseError; 5xx after the retries -> ServerError.
- The handshake: any refusal -> HandshakeRefused (an AuthenticationError); an answer without an
  access token -> ResponseError; a lost answer (5xx, reset) is tried again with a fresh nonce.
- A create without a department (and no default department_id) raises MissingReference naming
  it, with every other invalid field, before any request.
- After an AuthenticationError on a data call the token is replaced and the call sent once more
  (not for `permission_codes`: a new token does not raise the user level). A refused handshake is
  never retried: WhosOff locks accounts after failed log-ins.
- list() streams retrieve's single answer record by record. When `Errors` follow the records in
  the answer, the records already yielded stand and the error is raised at the end.
- create() answers only user_id and image URLs: the Person returned is what was sent plus those
  (no second request; `reread=True` asks for one).
- update() sends a full body, as WhosOff requires: `update_record` reads the record (get-by-id)
  unless the Adapter base already did, lays the changes over it and PUTs it (read-merge-write; not
  atomic against concurrent edits). The password is sent only when given.
- A list answer that breaks off mid-stream raises TransportError after the records already
  yielded (the one answer cannot be resumed); a reset before the answer starts is retried.
- delete(): DELETE /v4/user/del/{id}. Disabling (`update(id, {"active": False})`) is the softer way.

Modules: whosoff_settings (settings, field tables), whosoff_auth (the handshake: a hook of the
SDK's BearerTokenAuth), whosoff_envelope (the envelope), whosoff_http (calls, errors, refresh).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from staffbridge.adapters.whosoff_http import WhosOffHTTP
from staffbridge.adapters.whosoff_settings import (
    MAX_INT32,
    MAX_LENGTHS,
    STATUS_FILTER,
    UPDATE_FIELDS,
    MyStaff,
    WhosOffSettings,
    user_id,
    wire_value,
)
from staffbridge.model.compare import name_key
from staffbridge.model.errors import ConfigError, MissingReference, PersonValidationError, ResponseError, VendorAPIError
from staffbridge.model.person import Person, Ref
from staffbridge.sdk.filters import BOOLEAN, TEXT
from staffbridge.sdk.passwords import new_password, with_password
from staffbridge.sdk.shapes import as_records, names_by_id, one_record

log = logging.getLogger("staffbridge.adapters.whosoff")

__all__ = ["MyStaff", "WhosOffAdapter", "WhosOffSettings"]


class WhosOffAdapter(WhosOffHTTP):
    name = "whosoff"
    Settings = WhosOffSettings
    default_rate = None  # WhosOff: "does not operate rate limiting"
    # department: an id or a name; tag and manager_id: numeric ids
    filters = {
        "active": BOOLEAN,
        "status": TEXT,
        "department": TEXT,
        "last_name": TEXT,
        "tag": TEXT,
        "manager_id": TEXT,
    }
    extras = ("unlock", "approvers", "me", "my_staff", "departments")
    password_on_create = "required"  # WhosOff's rule; create() makes one up when none is given
    write_options = {"password": "password", "allowances": "allowances"}  # update(..., password=...) too
    password_max_length = 50
    create_answers_id_only = True  # user_id and image URLs
    # retrieve's field list (api-user page) lacks these; get-by-id has them
    unlisted_fields = frozenset(
        ("middle_name", "work_phone", "mobile_phone", "username", "employment_start", "employment_end")
    )
    notes = (
        "one retrieve answer holds every user (no pagination); list() streams it",
        "create answers only user_id and image URLs: the Person returned is what was sent plus those",
        "update reads the record and sends it whole with the changes (WhosOff requires the full body)",
        "password is write-only; create() without one sends a random password",
        "get() gives the department id; its name is filled in once departments were looked up",
    )

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._department_names: dict[str, str] = {}
        self._named_on_users: dict[str, str] | None = None
        # the docs say only "Date": the date_format setting replaces the shipped ISO "date"
        self.reshape_mapping(self.settings["defaults"], self.settings.get("date_format"))

    # ------------------------------------------------------------------ reading
    def fetch_records(self, **filters: Any) -> Iterator[Any]:
        named: dict[str, str] = {}  # the departments the users of a whole listing are in
        for record in self.stream(self.retrieve_path(), self.retrieve_body(**filters)):
            if type(record) is dict and record.get("department_name"):
                named[str(record.get("department_id"))] = record["department_name"]
            yield record
        if not filters:  # read whole: a department lookup by users needs no second listing
            self._named_on_users = named

    def retrieve_path(self) -> str:
        return f"/{self.settings['retrieve_version']}/user/retrieve"

    def retrieve_body(
        self,
        active: bool | None = None,
        status: str | None = None,
        department: Any = None,
        last_name: str | None = None,
        tag: Any = None,
        manager_id: Any = None,
    ) -> dict[str, str]:
        """The retrieve filter: the whole company in both statuses unless told otherwise."""
        body = {
            "map_type_id": "0",
            "map_id": str(self.settings["map_id"]),
            "status_id": self._status_filter(active, status),
        }
        chosen = [
            (name, value)
            for name, value in (("department", department), ("tag", tag), ("manager_id", manager_id))
            if value not in (None, "")
        ]
        if len(chosen) > 1:
            raise ConfigError(
                "whosoff: retrieve filters by one of department, tag and manager_id at a time", setting=chosen[1][0]
            )
        if chosen:
            name, value = chosen[0]
            map_type = {"department": "1", "tag": "2", "manager_id": "5"}[name]
            map_id = self._department_id(value) if name == "department" else self._filter_id(name, value)
            body.update(map_type_id=map_type, map_id=map_id)
        if last_name not in (None, ""):
            if not isinstance(last_name, str) or len(last_name) > 250:
                raise ConfigError(
                    "whosoff: last_name filter must be text of at most 250 characters", setting="last_name"
                )
            body["last_name"] = last_name
        return body

    @staticmethod
    def _status_filter(active: bool | None, status: str | None) -> str:
        by_active = None if active is None else ("1" if active else "0")
        if status is None:
            return by_active or "99"
        code = STATUS_FILTER.get(str(status).strip().lower())
        if code is None:
            raise ConfigError(
                f"whosoff: status filter {status!r}: use 'active', 'disabled' or 'both'", setting="status"
            )
        if by_active is not None and code != by_active:
            raise ConfigError(f"whosoff: active={active} contradicts status={status!r}", setting="status")
        return code

    @staticmethod
    def _filter_id(name: str, value: Any) -> str:
        ident = value.id if isinstance(value, Ref) else value
        text = str(ident).strip() if ident is not None and not isinstance(ident, bool) else ""
        if not text.isdigit() or int(text) > MAX_INT32:
            raise ConfigError(f"whosoff: {name} filter must be a numeric id, got {value!r}", setting=name)
        return text

    def _department_id(self, value: Any) -> str:
        if isinstance(value, Ref):
            if value.id is not None:
                return self._filter_id("department", value.id)
            value = value.name
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            return self._filter_id("department", value)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"whosoff: department filter {value!r}: give an id or a name", setting="department")
        return self.resolve_ref("department", value).id or ""

    def record_id(self, id: Any) -> str:
        return user_id(id)

    def fetch_record(self, id: str) -> dict[str, Any]:
        return one_record(self.call("GET", f"/v4/user/get-by-id/{id}", about_id=True), self.name, f"user {id}")

    def to_person(self, record: Any) -> Person:
        person = super().to_person(record)
        ref = person.department
        if ref is not None and ref.id is not None and not ref.name and ref.id in self._department_names:
            person.department = Ref(ref.id, self._department_names[ref.id])
        return person

    # ------------------------------------------------------------------ writing
    def create(
        self,
        person: Person,
        password: str | None = None,
        reread: bool = False,
        allowances: list[dict[str, Any]] | None = None,
        **options: Any,
    ) -> Person:
        """Creates the user. WhosOff requires a password: without one, a random one is sent (and
        forgotten) unless `generate_password=False`. `allowances`: [{start_date, opening, remaining}],
        quantities in minutes, sent as given. `reread=True` reads the stored record back."""
        if password is None and not self.settings["generate_password"]:
            raise PersonValidationError(
                {"password": ["WhosOff requires a password on create; give create(person, password=...)"]},
                record=person.label,
            )
        password = new_password() if password is None else password
        return super().create(person, password=password, allowances=allowances, reread=reread, **options)

    def prepare(self, person: Person) -> Person:
        try:
            return super().prepare(person)
        except PersonValidationError as exc:
            if isinstance(exc, MissingReference) or "department" not in exc.errors:
                raise
            # the one required field people forget: say what WhosOff wants and how to give it
            errors = {
                **exc.errors,
                "department": [
                    "WhosOff requires a department (department_id) on create: give person.department "
                    "(an id or a name) or the setting defaults={'department_id': ...}"
                ],
            }
            raise MissingReference(errors, record=exc.record) from None

    def create_record(self, body: dict[str, Any], person: Person, **options: Any) -> Any:
        body = dict(self.with_options(body, options))
        if body.get("default_view_type_id") == "1" and "default_view_id" not in body and body.get("department_id"):
            body["default_view_id"] = body["department_id"]  # the department view shows their own department
        return self.call("POST", "/v4/user/create", body, idempotent=False)

    def created_person(self, answer: Any, sent: Person, body: dict[str, Any]) -> Person:
        if isinstance(answer, Person):  # found after a lost answer
            return answer
        if isinstance(answer, list) and len(answer) == 1:
            answer = answer[0]
        if not isinstance(answer, dict) or answer.get("user_id") in (None, ""):
            raise ResponseError("whosoff: the create answer holds no user_id", vendor=self.name)
        return self._noted(super().created_person(answer, sent, {**body, **_department_name(sent.department)}))

    def update_record(
        self, id: str, body: dict[str, Any], changes: dict[str, Any], current: Any, password: str | None = None
    ) -> dict[str, Any]:
        current = current if current is not None else self.fetch_record(id)
        full: dict[str, Any] = {"user_id": id}
        full.update({name: wire_value(current[name]) for name in UPDATE_FIELDS if name in current})
        for name, value in self.mapping.defaults.items():  # a required field the read lacked
            if name in UPDATE_FIELDS:
                full.setdefault(name, value)
        full.update(body)
        # the password was checked by Adapter.update; the record returned never holds it
        answer = self.call("PUT", "/v4/user/update", with_password(full, password, self.transport), about_id=True)
        merged = {**current, **full}
        if isinstance(answer, dict):
            merged.update(answer)
        return merged

    def updated_person(self, id: str, answer: Any, changes: dict[str, Any]) -> Person:
        return self._noted(self.to_person({**answer, **_department_name(changes.get("department"))}))

    def _noted(self, person: Person) -> Person:
        """`person` with the warnings (`warning_codes`) WhosOff gave on the write."""
        person.problems.extend(self.warnings())
        return person

    def delete_record(self, id: str) -> None:
        self.call("DELETE", f"/v4/user/del/{id}", about_id=True)

    def existing_filters(self, person: Person) -> dict[str, Any] | None:
        return {"last_name": person.last_name} if person.last_name else None

    def check_body(self, body: dict[str, Any], label: str) -> None:
        errors = {
            canonical: [f"Longer than {limit} characters, WhosOff's limit for {name}."]
            for name, (limit, canonical) in MAX_LENGTHS.items()
            if isinstance(body.get(name), str) and len(body[name]) > limit
        }
        if errors:
            raise PersonValidationError(errors, record=label)

    # ------------------------------------------------------------------ references
    def has_lookup(self, field: str) -> bool:
        return field in ("department", "role")

    def lookup_refs(self, field: str) -> dict[str, Ref]:
        if field == "department":
            return {ref.name: ref for ref in self.departments() if ref.name}
        return super().lookup_refs(field)  # role: the user types named in the mapping

    def departments(self) -> list[Ref]:
        """Every department, by name. `department_lookup` "auto" asks WhosOff's department
        controller (GET /v4/department/retrieve) and, where it is refused or missing, collects the
        departments named on users (which misses departments nobody is in yet)."""
        source = self.settings["department_lookup"]
        seen: dict[str, str] | None = None
        if source in ("auto", "department_api"):
            try:
                seen = self._departments_from_api()
            except VendorAPIError as exc:
                if source == "department_api":
                    raise
                log.info("whosoff: no department list (%s); collecting departments from users", type(exc).__name__)
        if seen is None:
            seen = self._departments_from_users()
        self._department_names.update({ident: name for ident, name in seen.items() if name})
        self._refs["department"] = {name_key(name): Ref(ident, name) for ident, name in seen.items() if name}
        return sorted(
            (Ref(ident, name or None) for ident, name in seen.items()), key=lambda ref: (ref.name or "", ref.id or "")
        )

    def _departments_from_api(self) -> dict[str, str]:
        # the response fields are not documented: department_id (or id) + name assumed
        records = as_records(self.call("GET", "/v4/department/retrieve"))
        return names_by_id(records, ("department_id", "id"), ("name", "department_name"))

    def _departments_from_users(self) -> dict[str, str]:
        if self._named_on_users is not None:  # a whole listing was just read (a migration's plan)
            return dict(self._named_on_users)
        users = self.stream(self.retrieve_path(), self.retrieve_body())
        return names_by_id(users, ("department_id",), ("department_name",))

    # ------------------------------------------------------------------ adapter-specific calls
    def unlock(self, id: str) -> None:
        """Clears a lock-out (too many failed log-ins). SUPER USER level."""
        self.call("POST", f"/v4/user/unlock/{user_id(id)}", idempotent=True, about_id=True)

    def approvers(self) -> list[Person]:
        """Users who can approve (get-approvers): light Persons with id, names, role and email."""
        return [self.to_person(record) for record in as_records(self.call("GET", "/v4/user/get-approvers"))]

    def me(self) -> Person:
        """The authenticated user (get-my-details)."""
        return self.to_person(one_record(self.call("GET", "/v4/user/get-my-details"), self.name, "my details"))

    def my_staff(self, staff_filter: str | int = "0") -> MyStaff:
        """The caller's staff and leave overview (APPROVER level); `staff_filter` as WhosOff takes it."""
        data = self.call("POST", "/v4/user/my-staff", {"staff_filter": str(staff_filter)}, idempotent=True)
        if not isinstance(data, dict):
            raise ResponseError(f"whosoff: my-staff answered a {type(data).__name__}, not an object", vendor=self.name)
        entries = data.get("staff_overview")
        people = [self.to_person(e) for e in entries] if isinstance(entries, list) else []
        overview = data.get("overview") if isinstance(data.get("overview"), dict) else {}
        return MyStaff(people, overview, data)


def _department_name(department: Any) -> dict[str, str]:
    """The name of a department written by id, for the Person returned (WhosOff answers only ids)."""
    return {"department_name": department.name} if isinstance(department, Ref) and department.name else {}
