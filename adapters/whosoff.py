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
- Errors: any non-empty `Errors` is a refusal, even under HTTP 200 (codes in `warning_codes` are
  logged and noted in `person.problems` instead). HTTP 400 -> VendorValidationError, or
  AuthenticationError / NotFound by code; an unreadable answer (HTML, broken JSON) -> ResponseError.
- After an AuthenticationError on a data call the token is replaced and the call sent once more
  (not for `permission_codes`: a new token does not raise the user level). A refused handshake is
  never retried: WhosOff locks accounts after failed log-ins.
- list() streams retrieve's single answer record by record. When `Errors` follow the records in
  the answer, the records already yielded stand and the error is raised at the end.
- create() answers only user_id and image URLs: the Person returned is what was sent plus those
  (no second request; `reread=True` asks for one).
- update() sends a full body, as WhosOff requires: it reads the record (get-by-id), lays the
  changes over it and PUTs it (read-merge-write; not atomic against concurrent edits). The
  password is sent only when given.
- delete(): DELETE /v4/user/del/{id}. Disabling (`update(id, {"active": False})`) is the softer way.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import logging
import secrets
import string
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping as MappingABC

import requests
from marshmallow import ValidationError, fields, validate, validates_schema

from staffbridge.adapter import HTTPAdapter, HTTPSettings, secret_setting
from staffbridge.converters import Converter, Date
from staffbridge.errors import (AuthenticationError, ConfigError, MissingReference, NotFound,
                                PersonValidationError, ResponseError, TransportError, VendorAPIError,
                                VendorMessage)
from staffbridge.person import Person, Ref, person_changes, validate_changes, validate_person
from staffbridge.redaction import scrub_text

from .whosoff_auth import SECRET_ENCODINGS, Credentials, HandshakeRefused, TokenManager
from .whosoff_envelope import Malformed, error_class, iter_records, parse_text, unwrap

log = logging.getLogger("staffbridge.adapters.whosoff")

MAX_INT32 = 2_147_483_647
# Codes the bundled sandbox uses (WhosOff publishes none for these cases); all are settings.
AUTH_CODES = ("0401", "0402", "0403", "0405", "0406", "0407", "0408", "0410", "0411", "0412", "0413")
PERMISSION_CODES = ("0406", "0407", "0408", "0413")
NOT_FOUND_CODES = ("0300", "0404")

# The update model (the update sample plus the dated fields of the parameter table).
UPDATE_FIELDS = (
    "staff_code", "title", "first_name", "middle_name", "last_name", "user_type_id", "default_view_type_id",
    "default_view_id", "default_sorting_id", "department_id", "region_id", "approver_id", "approver_role_id",
    "notifier_2_id", "notifier_2_role_id", "notifier_3_id", "notifier_3_role_id", "email_contact",
    "email_type_id", "status_id", "work_telephone", "mobile_telephone", "active_directory_username",
    "employment_started_date", "employment_ended_date")
CREATE_ONLY_FIELDS = ("allowance_type_id", "password")
ROLE_IDS = ("0", "1", "2", "3", "4", "5", "6")
ENUMS = {"user_type_id": ("100", "200", "210", "220", "300", "310"), "status_id": ("0", "1"),
         "email_type_id": ("0", "1", "2"), "allowance_type_id": ("0", "1"), "default_view_type_id": ("1", "2"),
         "default_sorting_id": ("0", "1", "2", "3", "4"), "approver_role_id": ROLE_IDS,
         "notifier_2_role_id": ROLE_IDS, "notifier_3_role_id": ROLE_IDS}
# Documented length limits (api-user page), checked before sending: vendor field -> canonical field.
MAX_LENGTHS = {"email_contact": (255, "email"), "work_telephone": (60, "work_phone"),
               "mobile_telephone": (30, "mobile_phone"), "active_directory_username": (50, "username"),
               "password": (50, "password")}
STATUS_FILTER = {"active": "1", "disabled": "0", "inactive": "0", "both": "99", "all": "99",
                 "1": "1", "0": "0", "99": "99"}


# ------------------------------------------------------------------ settings

class WhosOffSettings(HTTPSettings):
    base_url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    app_id = secret_setting(required=True, validate=validate.Length(min=1))
    access_token = secret_setting(load_default=None, allow_none=True)
    username = fields.String(load_default=None, allow_none=True)
    password = secret_setting(load_default=None, allow_none=True)
    client_secret = secret_setting(load_default=None, allow_none=True)
    ip_address = fields.String(load_default=None, allow_none=True)
    secret_encoding = fields.String(load_default="hex", validate=validate.OneOf(SECRET_ENCODINGS))
    token_margin = fields.Float(load_default=60.0, validate=validate.Range(min=0))
    token_lifetime = fields.Float(load_default=300.0, validate=validate.Range(min=1))
    defaults = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)
    map_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_INT32))
    retrieve_version = fields.String(load_default="v4", validate=validate.OneOf(("v4", "v4.1")))
    authenticate_path = fields.String(load_default="/v4/authenticate/with-credentials",
                                      validate=validate.Regexp(r"^/", error="Must start with '/'."))
    trailing_slash = fields.Boolean(load_default=False)
    date_format = fields.String(load_default=None, allow_none=True)
    generate_password = fields.Boolean(load_default=True)
    auth_codes = fields.List(fields.String(), load_default=lambda: list(AUTH_CODES))
    permission_codes = fields.List(fields.String(), load_default=lambda: list(PERMISSION_CODES))
    not_found_codes = fields.List(fields.String(), load_default=lambda: list(NOT_FOUND_CODES))
    warning_codes = fields.List(fields.String(), load_default=list)

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        credentials = {name: data.get(name) for name in ("username", "password", "client_secret")}
        given = [name for name, value in credentials.items() if value]
        if given and len(given) < 3:
            missing = next(name for name in credentials if name not in given)
            raise ValidationError(f"the credentials handshake needs username, password and client_secret "
                                  f"together; {missing!r} is missing", missing)
        if not given and not data.get("access_token"):
            raise ValidationError("give access_token, or username, password and client_secret", "access_token")
        if data.get("ip_address"):
            try:
                ipaddress.ip_address(data["ip_address"])
            except ValueError:
                raise ValidationError("Not an IP address.", "ip_address") from None
        if data.get("date_format"):
            try:
                sample = dt.date(2001, 2, 3)
                ok = dt.datetime.strptime(sample.strftime(data["date_format"]), data["date_format"]).date() == sample
            except ValueError:
                ok = False
            if not ok:
                raise ValidationError("Not a date format that writes and reads back a date, e.g. '%d/%m/%Y'.",
                                      "date_format")
        for name, value in (data.get("defaults") or {}).items():
            if name not in UPDATE_FIELDS + CREATE_ONLY_FIELDS or name == "password":
                raise ValidationError(f"{name!r} is not a WhosOff user field that can have a default", "defaults")
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise ValidationError(f"{name}: give a string (or a whole number)", "defaults")
            if name in ENUMS and str(value) not in ENUMS[name]:
                raise ValidationError(f"{name}: {value!r} is not one of {', '.join(ENUMS[name])}", "defaults")


# ------------------------------------------------------------------ small value types

class WhosOffDate(Converter):
    """Employment dates. Default ISO: reads "YYYY-MM-DD" or an ISO timestamp's date, writes "YYYY-MM-DD"."""

    def read(self, value: Any) -> dt.date | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError(f"expected a date string, got {type(value).__name__}")
        text = value.strip()
        try:
            if self.arg:
                return dt.datetime.strptime(text, self.arg).date()
            if len(text) >= 10 and text[10:11] in ("", "T", " "):
                return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
        raise ValueError(f"not a date in the form {self.arg or 'YYYY-MM-DD'}: {value!r}")

    def write(self, value: Any) -> Any:
        return value.strftime(self.arg or "%Y-%m-%d") if isinstance(value, dt.date) else value


@dataclass
class MyStaff:
    """get my-staff: the caller's staff (light Persons) and WhosOff's leave overview, as sent."""

    people: list[Person]
    overview: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


class _Refused(Exception):
    def __init__(self, messages: list[VendorMessage]):
        self.messages = messages


def generate_password(length: int = 24) -> str:
    """A random password with every character class (WhosOff's policy is not published)."""
    alphabet = string.ascii_letters + string.digits + "!#%+-_=?"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if (any(c.islower() for c in password) and any(c.isupper() for c in password)
                and any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)):
            return password


def _user_id(id: Any) -> str:
    # user ids are Int32: anything else can only be a 404, so say so without a request
    text = str(id).strip()
    if not text.isdigit() or int(text) > MAX_INT32:
        raise NotFound(f"whosoff: {id!r} is not a WhosOff user id", vendor="whosoff")
    return text


def _wire(value: Any) -> Any:
    """A value read back, as the write model wants it: numbers as strings, like the samples."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


# ------------------------------------------------------------------ the adapter

class WhosOffAdapter(HTTPAdapter):
    name = "whosoff"
    Settings = WhosOffSettings
    default_rate = None  # WhosOff: "does not operate rate limiting"
    pagination = "none"
    filters = ("active", "status", "department", "last_name", "tag", "manager_id")
    extras = ("unlock", "approvers", "me", "my_staff", "departments")
    notes = ("one retrieve answer holds every user (no pagination); list() streams it",
             "create answers only user_id and image URLs: the Person returned is what was sent plus those",
             "update reads the record and sends it whole with the changes (WhosOff requires the full body)",
             "password is write-only; create() without one sends a random password",
             "get() gives the department id; its name is filled in once departments were looked up")

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._local = threading.local()
        self._department_names: dict[str, str] = {}
        self._configure_mapping()
        s = self.settings
        credentials = None
        if s.get("username"):
            credentials = Credentials(s["app_id"], s["username"], s["password"], s["client_secret"],
                                      s.get("ip_address"), s["secret_encoding"])
        self.tokens = TokenManager(self._handshake if credentials else None, credentials,
                                   access_token=s.get("access_token"), margin=s["token_margin"],
                                   fallback_lifetime=s["token_lifetime"], on_new_secret=self.transport.add_secret)

    def _configure_mapping(self) -> None:
        """Settings that shape the mapping: create defaults and the employment date format."""
        defaults = {**self.mapping.defaults,
                    **{name: str(value) for name, value in self.settings["defaults"].items()}}
        required = [name for name in self.mapping.required
                    if not (name == "department" and "department_id" in defaults)]
        date_format = self.settings.get("date_format")
        specs = []
        for spec in self.mapping.fields:
            # the shipped "date" (ISO) becomes the lenient WhosOff date; a user's own format is kept
            if type(spec.converter) is Date and (spec.converter.arg is None or date_format):
                spec = dataclasses.replace(spec, converter=WhosOffDate(date_format))
            specs.append(spec)
        # a new Mapping, not edits to the loaded one: it compiles its readers when built
        self.mapping = dataclasses.replace(self.mapping, fields=specs, defaults=defaults, required=required)

    @property
    def authenticated_user(self) -> dict[str, Any]:
        """Who the handshake logged in as (user_id, names, user_type_id); {} before it ran."""
        return dict(self.tokens.user)

    # ------------------------------------------------------------------ HTTP plumbing
    def auth(self, headers: dict[str, str]) -> None:
        headers["app-id"] = self.settings["app_id"]
        if getattr(self._local, "handshaking", False):
            return
        token = self.tokens.token()
        self._local.token = token
        headers["Authorization"] = f"Bearer {token}"

    def parse_errors(self, response: Any) -> list[VendorMessage]:
        """Messages of a 401/403/404/5xx answer: the envelope's Errors, else the text."""
        try:
            data, messages = unwrap(parse_text(response.content))
        except (Malformed, requests.RequestException):
            return super().parse_errors(response)
        return messages or super().parse_errors(response)

    def _path(self, path: str) -> str:
        return path.rstrip("/") + "/" if self.settings["trailing_slash"] else path

    def _handshake(self, body: dict[str, Any]) -> Any:
        """POST the credentials; the answer's Data, or HandshakeRefused."""
        path = self._path(self.settings["authenticate_path"])
        self._local.handshaking = True
        try:
            response = self.transport.request("POST", path, json_body=body, idempotent=False, ok=(400,))
            data, messages = self._read(response, body)
        except (AuthenticationError, NotFound) as exc:
            hint = " (check base_url and authenticate_path)" if isinstance(exc, NotFound) else ""
            raise HandshakeRefused(f"whosoff refused the authentication{hint}", status=exc.status,
                                   request=exc.request, messages=exc.messages, vendor=self.name,
                                   body=exc.body) from None
        finally:
            self._local.handshaking = False
        if messages or response.status_code == 400:
            raise HandshakeRefused("whosoff refused the authentication", status=response.status_code,
                                   request=self._describe(response, body),
                                   messages=self._scrubbed(messages), vendor=self.name)
        return data

    def _describe(self, response: Any, body: Any = None) -> Any:
        request = response.request
        return self.transport.describe(request.method or "GET", response.url, dict(request.headers), body)

    def _scrubbed(self, messages: list[VendorMessage]) -> list[VendorMessage]:
        return [VendorMessage(scrub_text(m.message, self.transport.secrets), m.code) for m in messages]

    def _read(self, response: Any, sent: Any = None) -> tuple[Any, list[VendorMessage]]:
        try:
            raw = response.content
        except requests.RequestException as exc:
            raise TransportError(f"whosoff: the answer broke off ({type(exc).__name__})",
                                 self._describe(response, sent)) from None
        try:
            return unwrap(parse_text(raw))
        except Malformed as exc:
            raise self._unreadable(response, str(exc), sent, raw) from None

    def _unreadable(self, response: Any, why: str, sent: Any = None, raw: bytes | None = None) -> ResponseError:
        kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
        text = " ".join(raw.decode("utf-8", "replace").split())[:300] if raw else None
        return ResponseError(f"whosoff: unreadable answer ({kind}): {why}", status=response.status_code,
                             request=self._describe(response, sent), vendor=self.name,
                             body=scrub_text(text, self.transport.secrets) if text else None)

    def _refusal(self, response: Any, messages: list[VendorMessage], sent: Any, about_id: bool) -> VendorAPIError:
        s = self.settings
        kind = error_class(messages, auth_codes=s["auth_codes"], not_found_codes=s["not_found_codes"],
                           about_id=about_id)
        text = {AuthenticationError: "whosoff refused the credentials", NotFound: "whosoff: not found"}.get(
            kind, "whosoff rejected the request")
        return kind(text, status=response.status_code, request=self._describe(response, sent),
                    messages=self._scrubbed(messages), vendor=self.name)

    def _split_warnings(self, messages: list[VendorMessage]) -> list[VendorMessage]:
        """The refusals among `messages`; configured warning codes are logged and remembered."""
        warn = set(self.settings["warning_codes"])
        warnings = [m for m in messages if m.code in warn]
        for message in self._scrubbed(warnings):
            log.warning("whosoff: %s", message)
        self._local.warnings = getattr(self._local, "warnings", []) + [str(m) for m in self._scrubbed(warnings)]
        return [m for m in messages if m.code not in warn]

    def _send(self, method: str, path: str, body: Any = None, *, stream: bool = False,
              idempotent: bool | None = None, about_id: bool = False) -> Any:
        response = self.transport.request(method, self._path(path), json_body=body, stream=stream,
                                          idempotent=idempotent, ok=(400,))
        if response.status_code == 400:
            try:
                _, messages = self._read(response, body)
            finally:
                response.close()
            raise self._refusal(response, messages or [VendorMessage("request rejected (HTTP 400)")],
                                body, about_id)
        return response

    def _retry_auth(self, error: AuthenticationError) -> bool:
        """After a refused token: True when a new one was arranged and the call may go again."""
        if isinstance(error, HandshakeRefused) or set(error.codes) & set(self.settings["permission_codes"]):
            return False
        return self.tokens.refused(getattr(self._local, "token", None))

    def call(self, method: str, path: str, body: Any = None, *, idempotent: bool | None = None,
             about_id: bool = False) -> Any:
        """One API call: the answer's Data, or the typed error. A refused token is replaced once."""
        self._local.warnings = []
        for attempt in range(2):
            try:
                response = self._send(method, path, body, idempotent=idempotent, about_id=about_id)
                data, messages = self._read(response, body)
                refusals = self._split_warnings(messages)
                if refusals:
                    error = self._refusal(response, refusals, body, about_id)
                    error.data = data  # e.g. a create that happened but was answered with errors
                    raise error
                return data
            except AuthenticationError as error:
                if attempt == 0 and self._retry_auth(error):
                    log.info("whosoff: token refused; authenticating again")
                    continue
                raise
        raise AssertionError("unreachable")

    def stream(self, path: str, body: Any) -> Iterator[Any]:
        """The records of a list answer, one at a time (POST; a refused token is replaced once)."""
        for attempt in range(2):
            try:
                response = self._send("POST", path, body, stream=True, idempotent=True)
            except AuthenticationError as error:
                if attempt == 0 and self._retry_auth(error):
                    continue
                raise
            started = False
            try:
                for record in iter_records(self._chunks(response, body), self._on_errors):
                    started = True
                    yield record
                return
            except _Refused as refused:
                error = self._refusal(response, refused.messages, body, about_id=False)
                if isinstance(error, AuthenticationError) and not started and attempt == 0 \
                        and self._retry_auth(error):
                    continue
                raise error from None
            except Malformed as exc:
                raise self._unreadable(response, str(exc), body) from None
            finally:
                response.close()

    def _on_errors(self, messages: list[VendorMessage]) -> None:
        refusals = self._split_warnings(messages)
        if refusals:
            raise _Refused(refusals)

    def _chunks(self, response: Any, sent: Any) -> Iterator[bytes]:
        try:
            yield from response.iter_content(chunk_size=65536)
        except requests.RequestException as exc:
            raise TransportError(f"whosoff: the list answer broke off ({type(exc).__name__}); "
                                 "records already read were delivered", self._describe(response, sent)) from None

    # ------------------------------------------------------------------ reading
    def fetch_records(self, active: bool | None = None, status: str | None = None, department: Any = None,
                      last_name: str | None = None, tag: Any = None, manager_id: Any = None) -> Iterator[Any]:
        body = self.retrieve_body(active=active, status=status, department=department, last_name=last_name,
                                  tag=tag, manager_id=manager_id)
        yield from self.stream(f"/{self.settings['retrieve_version']}/user/retrieve", body)

    def retrieve_body(self, active: bool | None = None, status: str | None = None, department: Any = None,
                      last_name: str | None = None, tag: Any = None, manager_id: Any = None) -> dict[str, str]:
        """The retrieve filter: the whole company in both statuses unless told otherwise."""
        body = {"map_type_id": "0", "map_id": str(self.settings["map_id"]),
                "status_id": self._status_filter(active, status)}
        chosen = [(name, value) for name, value in (("department", department), ("tag", tag),
                                                    ("manager_id", manager_id)) if value not in (None, "")]
        if len(chosen) > 1:
            raise ConfigError("whosoff: retrieve filters by one of department, tag and manager_id at a time",
                              setting=chosen[1][0])
        if chosen:
            name, value = chosen[0]
            map_type = {"department": "1", "tag": "2", "manager_id": "5"}[name]
            map_id = self._department_id(value) if name == "department" else self._filter_id(name, value)
            body.update(map_type_id=map_type, map_id=map_id)
        if last_name not in (None, ""):
            if not isinstance(last_name, str) or len(last_name) > 250:
                raise ConfigError("whosoff: last_name filter must be text of at most 250 characters",
                                  setting="last_name")
            body["last_name"] = last_name
        return body

    @staticmethod
    def _status_filter(active: bool | None, status: str | None) -> str:
        by_active = None if active is None else ("1" if active else "0")
        if status is None:
            return by_active or "99"
        code = STATUS_FILTER.get(str(status).strip().lower())
        if code is None:
            raise ConfigError(f"whosoff: status filter {status!r}: use 'active', 'disabled' or 'both'",
                              setting="status")
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
        found = self.find_ref("department", value.strip())
        if found is None or found.id is None:
            known = ", ".join(sorted(self.lookup_refs("department")))
            raise MissingReference({"department": [f"no department named {value!r} in whosoff; known: {known}"]})
        return found.id

    def fetch_record(self, id: str) -> dict[str, Any]:
        data = self.call("GET", f"/v4/user/get-by-id/{_user_id(id)}", about_id=True)
        return self._one(data, f"user {id}")

    def _one(self, data: Any, what: str) -> dict[str, Any]:
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
        if data in (None, [], {}):
            raise NotFound(f"whosoff: {what} not found (empty answer)", vendor=self.name)
        if not isinstance(data, dict):
            raise ResponseError(f"whosoff: expected one user record, got {type(data).__name__}", vendor=self.name)
        return data

    def to_person(self, record: Any) -> Person:
        person = super().to_person(record)
        ref = person.department
        if ref is not None and ref.id is not None and not ref.name and ref.id in self._department_names:
            person.department = Ref(ref.id, self._department_names[ref.id])
        return person

    # ------------------------------------------------------------------ writing
    def create(self, person: Person, password: str | None = None, reread: bool = False,
               allowances: list[dict[str, Any]] | None = None) -> Person:
        """Creates the user. WhosOff requires a password: without one, a random one is sent (and
        forgotten) unless `generate_password=False`. `allowances`: [{start_date, opening, remaining}],
        quantities in minutes, sent as given. `reread=True` reads the stored record back."""
        if password is None:
            if not self.settings["generate_password"]:
                raise PersonValidationError({"password": ["WhosOff requires a password on create; give "
                                                          "create(person, password=...)"]}, record=person.label)
            password = generate_password()
        if not isinstance(password, str) or len(password) > 50:
            raise PersonValidationError({"password": ["Must be text of at most 50 characters."]},
                                        record=person.label)
        self.transport.add_secret(password)
        created = super().create(person, password=password, allowances=allowances)
        return self.get(created.id) if reread and created.id else created

    def create_record(self, body: dict[str, Any], person: Person, password: str | None = None,
                      allowances: list[dict[str, Any]] | None = None) -> Any:
        body = dict(body)
        if body.get("default_view_type_id") == "1" and "default_view_id" not in body and body.get("department_id"):
            body["default_view_id"] = body["department_id"]  # the department view shows their own department
        self._check_lengths(body, person.label)
        body["password"] = password
        if allowances is not None:
            body["allowances"] = list(allowances)
        return self.call("POST", "/v4/user/create", body, idempotent=False)

    def created_person(self, answer: Any, sent: Person, body: dict[str, Any]) -> Person:
        if isinstance(answer, Person):  # found after a lost answer
            return answer
        answer = self._one(answer, "the created user")
        if answer.get("user_id") in (None, ""):
            raise ResponseError("whosoff: the create answer holds no user_id", vendor=self.name)
        record = {k: v for k, v in body.items() if k not in ("password", "allowances")}
        if sent.department is not None and sent.department.name:
            record["department_name"] = sent.department.name
        record.update(answer)
        person = self.to_person(record)
        person.problems.extend(getattr(self._local, "warnings", []))
        return person

    def update(self, id: str, changes: MappingABC[str, Any] | Person, password: str | None = None,
               reread: bool = False) -> Person:
        """Applies canonical `changes`: reads the record, lays the changes over it, sends it whole."""
        self._require("update")
        id = _user_id(id)
        label = f"{self.name}#{id}"
        if isinstance(changes, Person):
            wanted = validate_person(changes, record=label)
            current_record = self.fetch_record(id)
            delta = person_changes(self.to_person(current_record), wanted)
            if not delta and password is None:
                return self.to_person(current_record)
        else:
            delta = validate_changes(changes, record=label)
            current_record = None
        delta = self.resolve_refs(delta, record=label)
        body = self.mapping.to_vendor(delta, record=label)
        self._check_lengths(body, label)
        answer = self.update_record(id, body, delta, current=current_record, password=password)
        person = self.updated_person(id, answer, delta)
        return self.get(id) if reread else person

    def update_record(self, id: str, body: dict[str, Any], changes: dict[str, Any],
                      current: dict[str, Any] | None = None, password: str | None = None) -> dict[str, Any]:
        current = current if current is not None else self.fetch_record(id)
        full: dict[str, Any] = {"user_id": id}
        full.update({name: _wire(current[name]) for name in UPDATE_FIELDS if name in current})
        for name, value in self.mapping.defaults.items():  # a required field the read lacked
            if name in UPDATE_FIELDS:
                full.setdefault(name, value)
        full.update(body)
        if password is not None:
            if not isinstance(password, str) or len(password) > 50:
                raise PersonValidationError({"password": ["Must be text of at most 50 characters."]},
                                            record=f"{self.name}#{id}")
            self.transport.add_secret(password)
            full["password"] = password
        answer = self.call("PUT", "/v4/user/update", full, about_id=True)
        merged = {**current, **{k: v for k, v in full.items() if k != "password"}}
        if isinstance(answer, dict):
            merged.update(answer)
        return merged

    def updated_person(self, id: str, answer: Any, changes: dict[str, Any]) -> Person:
        record = dict(answer)
        department = changes.get("department")
        if isinstance(department, Ref) and department.name:
            record["department_name"] = department.name
        person = self.to_person(record)
        person.problems.extend(getattr(self._local, "warnings", []))
        return person

    def delete_record(self, id: str) -> None:
        self.call("DELETE", f"/v4/user/del/{_user_id(id)}", about_id=True)

    def find_existing(self, person: Person) -> Person | None:
        if not person.email or not person.last_name:
            return None
        for found in self.list(last_name=person.last_name):
            if (found.email or "").casefold() == person.email.casefold():
                return found
        return None

    def _check_lengths(self, body: dict[str, Any], label: str) -> None:
        errors = {canonical: [f"Longer than {limit} characters, WhosOff's limit for {name}."]
                  for name, (limit, canonical) in MAX_LENGTHS.items()
                  if isinstance(body.get(name), str) and len(body[name]) > limit}
        if errors:
            raise PersonValidationError(errors, record=label)

    # ------------------------------------------------------------------ references
    def has_lookup(self, field: str) -> bool:
        return field in ("department", "role")

    def lookup_refs(self, field: str) -> dict[str, Ref]:
        if field == "role":
            spec = self.mapping.spec("role")
            return {str(name): Ref(str(code), str(name)) for code, name in (spec.converter.values if spec else {}).items()}
        if field == "department":
            return {ref.name: ref for ref in self.departments() if ref.name}
        return {}

    def departments(self) -> list[Ref]:
        """The departments seen on users (WhosOff's user API has no department list), by name."""
        seen: dict[str, str] = {}
        for record in self.stream(f"/{self.settings['retrieve_version']}/user/retrieve", self.retrieve_body()):
            if isinstance(record, dict) and record.get("department_id") not in (None, ""):
                name = record.get("department_name")
                seen.setdefault(str(record["department_id"]), name if isinstance(name, str) else "")
        self._department_names.update({ident: name for ident, name in seen.items() if name})
        self._refs["department"] = {name.casefold(): Ref(ident, name) for ident, name in seen.items() if name}
        return sorted((Ref(ident, name or None) for ident, name in seen.items()),
                      key=lambda ref: (ref.name or "", ref.id or ""))

    # ------------------------------------------------------------------ adapter-specific calls
    def unlock(self, id: str) -> None:
        """Clears a lock-out (too many failed log-ins). SUPER USER level."""
        self.call("POST", f"/v4/user/unlock/{_user_id(id)}", idempotent=True, about_id=True)

    def approvers(self) -> list[Person]:
        """Users who can approve (get-approvers): light Persons with id, names, role and email."""
        data = self.call("GET", "/v4/user/get-approvers")
        records = data if isinstance(data, list) else [] if data is None else [data]
        return [self.to_person(record) for record in records]

    def me(self) -> Person:
        """The authenticated user (get-my-details)."""
        return self.to_person(self._one(self.call("GET", "/v4/user/get-my-details"), "my details"))

    def my_staff(self, staff_filter: str | int = "0") -> MyStaff:
        """The caller's staff and leave overview (APPROVER level); `staff_filter` as WhosOff takes it."""
        data = self.call("POST", "/v4/user/my-staff", {"staff_filter": str(staff_filter)}, idempotent=True)
        if not isinstance(data, dict):
            raise ResponseError(f"whosoff: my-staff answered a {type(data).__name__}, not an object",
                                vendor=self.name)
        entries = data.get("staff_overview")
        people = [self.to_person(e) for e in entries] if isinstance(entries, list) else []
        overview = data.get("overview") if isinstance(data.get("overview"), dict) else {}
        return MyStaff(people, overview, data)
