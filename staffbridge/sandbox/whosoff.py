"""WhosOff API v4 user endpoints, emulated: the nonce/SHA-512 handshake, then Bearer + `app-id` calls.

Routes sit right below the root the adapter is given (`base_url=sb.url`), trailing slash optional:

    POST   /v4/authenticate/with-credentials     (also /authenticate/with-credentials, as the cURL shows)
    POST   /v4/user/create                       GET  /v4/user/get-by-id/{user_id}
    POST   /v4/user/retrieve, /v4.1/user/retrieve GET  /v4/user/get-my-details
    PUT    /v4/user/update   (user_id in the body) DELETE /v4/user/del/{user_id}
    POST   /v4/user/unlock/{user_id}             GET  /v4/user/get-approvers
    POST   /v4/user/my-staff

Every answer is the standard envelope `{"Data": ..., "Errors": [{"Code": "...", "Message": "..."}]}`.
The docs document only 200, 400 ("rejected, error message via JSON") and 404 ("endpoint not valid"),
so every refusal here is a 400 with a code, and 404 is kept for unknown endpoints (also for a known
path with the wrong method). Codes are strings; "004a" and "00422" are WhosOff's own, the rest are
the sandbox's invention:

    0400 authenticate body malformed or a field missing   0410 no `Authorization: Bearer` header
    0401 username or password wrong                       0411 access token unknown
    0402 secret is not sha512(nonce + client_secret)      0412 access token expired
    0403 nonce already used                               0413 user level too low for this call
    0405 app-id header missing or wrong                   0404 endpoint not valid (HTTP 404)
    0406 ip_address not in the allowed list               0429 too many requests (test-only limit)
    0407 account locked (too many failed log-ins)         0408 account disabled
    0200 body is not a JSON object                        0204 text length out of range
    0201 required field missing                           0205 referenced record does not exist
    0202 wrong type (not a whole number / a date)         0206 email_contact already in use
    0203 value not allowed (enum or range)                0300 user not found, 0301 cannot delete yourself
    00422 user limit reached (`backend.user_limit`)       004a no allowances set: a warning beside
                                                               200 Data, only if `backend.warn_missing_allowances`

Where the docs are silent, the sandbox decides (and an adapter must cope with exactly this):
- Wire types follow the read schemas: `Int32`/`Int16`/`[Byte]` fields (user_id, department_id,
  region_id, approver_id, notifier_*_id, default_view_id, default_sorting_id, mfa_method_id,
  allowance minutes) are JSON numbers; "custom" enums (status_id, user_type_id, email_type_id,
  allowance_type_id, default_view_type_id, *_role_id) are strings ("100", "1"). Requests may send
  either "123456" or 123456, as the samples send strings.
- Dates are "YYYY-MM-DD" (input also accepts a full ISO datetime); DateTimes (token_expiry_date,
  login_date, lockout_date) are UTC "YYYY-MM-DDTHH:MM:SSZ". Unset dates are null, despite the
  boilerplate `is_nullable: false`.
- The secret is sha512(nonce + client_secret), lower-case hex by default (`secret_encoding`: "hex",
  "HEX" or "base64"), compared exactly. A nonce is spent as soon as it is seen, even if the handshake
  then fails. Tokens from the handshake expire after `token_lifetime`; a fixed `access_token` given to
  the constructor (the "ready access token" way) belongs to the admin and does not expire.
- The authenticating admin (`username`) is a real super user (type "300") in the directory, so
  retrieve lists `seed_people + 1` users. Sample person n has user_id 1000001 + n.
  Users created through the API can log in with their email_contact and password; seeded staff
  cannot. Departments are people.DEPARTMENTS as 123456.., regions 2001-2003 (DE, CH, AT), tags
  3001.. (people.TAGS, for retrieve map_type 2). user_type_id comes from the sample role
  (Teamleitung "200", Administrator "300", else "100"); the first team lead of each department
  approves it, the admin approves the team leads.
- Create requires first_name, last_name (1-100 chars; the docs' table is cut there), user_type_id,
  default_view_type_id, department_id, approver_id, notifier_2_id, notifier_3_id (0 = none),
  email_contact, password, email_type_id and allowance_type_id; region_id and the *_role_id fields
  are optional (default 0), as in the docs' parameter table.
- Update is a full replace of the update model (the create fields minus allowance_type_id and
  allowances, as in the update sample): required fields must be there, and an optional field left
  out is reset to its default. Password alone is kept when absent (no read returns it, so a
  read-merge-write client cannot resend it). Unknown fields (a merged get-by-id record) are ignored.
- retrieve: `last_name` is a case-insensitive prefix filter; map_type 0 ignores map_id, 4 ("my
  staff") uses the caller; results are ordered by user_id. get-approvers lists active users of type
  200 and up. Deleting a user resets references to them (approver/notifier ids) to 0.
- Five failed log-ins lock an account (`lockout_date`); unlock clears it. Seeded person n is locked
  when n % 40 == 39, so unlock has something to do.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from staffbridge.sandbox.people import DEPARTMENTS, TAGS, SamplePerson, gc_paused, sample_person
from staffbridge.sandbox.server import Request, Response, Sandbox, json_response

USER_TYPES = ("100", "200", "210", "220", "300", "310")
APPROVER_TYPES = frozenset(USER_TYPES[1:])
SUPER_USER_TYPES = frozenset({"300", "310"})
ROLE_IDS = ("0", "1", "2", "3", "4", "5", "6")
ADMIN_USER_ID = 1_000_000
FIRST_DEPARTMENT_ID = 123456
REGIONS = {2001: "Deutschland", 2002: "Schweiz", 2003: "Österreich"}
REGION_BY_COUNTRY = {"DE": 2001, "CH": 2002, "AT": 2003}
TAG_IDS = {name: 3001 + index for index, name in enumerate(TAGS)}
ROLE_TO_USER_TYPE = {"Teamleitung": "200", "Administrator": "300"}
MINUTES_PER_DAY = 450  # a 7.5 hour working day: allowances travel in minutes
MAX_INT32 = 2_147_483_647
Errors = list[tuple[str, str]]  # (Code, Message) pairs, as the envelope's Errors array carries them


class WhosOffError(Exception):
    """A refusal in WhosOff's terms: one or more (Code, Message) pairs, answered as HTTP 400."""

    def __init__(self, *errors: tuple[str, str]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{code} {message}" for code, message in errors))


def envelope(data: Any, errors: Sequence[tuple[str, str]] = (), status: int = 200) -> Response:
    return json_response({"Data": data, "Errors": [{"Code": c, "Message": m} for c, m in errors]}, status)


def utc_stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class User:
    """One WhosOff user as stored: enums as the wire strings, ids and minutes as ints."""

    user_id: int
    first_name: str
    last_name: str
    email_contact: str
    department_id: int
    user_type_id: str = "100"
    status_id: str = "1"
    staff_code: str = ""
    title: str = ""
    middle_name: str = ""
    default_view_type_id: str = "1"
    default_view_id: int = 0
    default_sorting_id: int = 0
    region_id: int = 0
    approver_id: int = 0
    approver_role_id: str = "0"
    notifier_2_id: int = 0
    notifier_2_role_id: str = "0"
    notifier_3_id: int = 0
    notifier_3_role_id: str = "0"
    password: str | None = None  # None: cannot log in (seeded staff)
    email_type_id: str = "2"
    allowance_type_id: str = "0"
    active_directory_username: str = ""
    employment_started_date: str | None = None
    employment_ended_date: str | None = None
    work_telephone: str = ""
    mobile_telephone: str = ""
    tags: tuple[int, ...] = ()
    allowances: tuple[tuple[str, int, int], ...] = ()  # (start_date, opening, remaining) minutes
    last_logins: tuple[tuple[str, str], ...] = ()  # (login_date, device), newest first
    lockout_date: str | None = None
    failed_logins: int = 0


@dataclass(slots=True)
class Token:
    user_id: int
    expires_at: float | None  # None: never (the fixed access token)


# ------------------------------------------------------------------------------------- validation

def _as_int(name: str, value: Any, errors: Errors) -> int | None:
    if isinstance(value, bool):
        errors.append(("0202", f"{name} must be a whole number"))
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        number = int(value)
    else:
        errors.append(("0202", f"{name} must be a whole number"))
        return None
    if not -MAX_INT32 <= number <= MAX_INT32:
        errors.append(("0203", f"{name} is out of range"))
        return None
    return number


def _as_date(name: str, value: Any, errors: Errors) -> str | None:
    if value == "":
        return None  # as a nullable .NET date binds it: "no date"
    try:
        if isinstance(value, str):
            return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        pass
    errors.append(("0202", f"{name} must be a date (YYYY-MM-DD)"))
    return None


@dataclass(frozen=True)
class Spec:
    """One writable field: `kind` is str, int, enum or date; `required` on create."""

    name: str
    kind: str
    required: bool = False
    default: Any = ""
    choices: tuple[str, ...] = ()
    length: tuple[int, int] = (0, 255)
    ref: str | None = None  # "department", "region" or "user": must exist unless 0

    def parse(self, value: Any, errors: Errors) -> Any:
        if self.kind == "int":
            number = _as_int(self.name, value, errors)
            if number is not None and number < 0:
                errors.append(("0203", f"{self.name} must not be negative"))
            return number
        if self.kind == "enum":
            text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
            if text not in self.choices:
                errors.append(("0203", f"{self.name} must be one of {', '.join(self.choices)}"))
                return None
            # written as a "custom" enum, but the read schema types it [Byte]: stored as the number
            return int(text) if self.name == "default_sorting_id" else text
        if self.kind == "date":
            return _as_date(self.name, value, errors)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # .NET binds a JSON number into a string property
        if not isinstance(value, str):
            errors.append(("0202", f"{self.name} must be text"))
            return None
        low, high = self.length
        if not low <= len(value) <= high:
            errors.append(("0204", f"{self.name} must be between {low} and {high} characters"))
            return None
        return value


def _text(name: str, required: bool = False, low: int = 0, high: int = 100) -> Spec:
    return Spec(name, "str", required, "", length=(low, high))


def _enum(name: str, choices: tuple[str, ...], required: bool = False, default: Any = "0") -> Spec:
    return Spec(name, "enum", required, default, choices)


def _ref(name: str, ref: str, required: bool = True) -> Spec:
    return Spec(name, "int", required, 0, ref=ref)


WRITE_SPECS = (
    _text("staff_code", high=50), _text("title", high=50), _text("first_name", True, 1),
    _text("middle_name"), _text("last_name", True, 1),
    _enum("user_type_id", USER_TYPES, True, "100"),
    _enum("default_view_type_id", ("1", "2"), True, "1"),
    Spec("default_view_id", "int", default=0),
    _enum("default_sorting_id", ("0", "1", "2", "3", "4"), default=0),
    _ref("department_id", "department"), _ref("region_id", "region", required=False),
    _ref("approver_id", "user"), _enum("approver_role_id", ROLE_IDS),
    _ref("notifier_2_id", "user"), _enum("notifier_2_role_id", ROLE_IDS),
    _ref("notifier_3_id", "user"), _enum("notifier_3_role_id", ROLE_IDS),
    _text("email_contact", True, 5, 255), _text("password", True, 0, 50),
    _enum("email_type_id", ("0", "1", "2"), True),
    _enum("allowance_type_id", ("0", "1"), True),
    _enum("status_id", ("0", "1"), default="1"),
    Spec("employment_started_date", "date", default=None), Spec("employment_ended_date", "date", default=None),
    _text("work_telephone", high=60), _text("mobile_telephone", high=30),
    _text("active_directory_username", high=50),
)
NOT_UPDATABLE = frozenset({"allowance_type_id"})  # not in the update model (the update sample lacks it)


# ---------------------------------------------------------------------------------------- backend

class WhosOffBackend:
    """The account's state: users, departments, regions, tags, tokens and spent nonces. No HTTP."""

    def __init__(self, seed_people: int = 50, app_id: str = "sandbox-app",
                 client_secret: str = "sandbox-client-secret", username: str = "admin@example.com",
                 password: str = "sandbox-password", access_token: str | None = None,
                 token_lifetime: float = 3600.0, secret_encoding: str = "hex") -> None:
        if secret_encoding not in ("hex", "HEX", "base64"):
            raise ValueError("secret_encoding must be 'hex', 'HEX' or 'base64'")
        self.app_id, self.client_secret = app_id, client_secret
        self.token_lifetime, self.secret_encoding = token_lifetime, secret_encoding
        self.departments = {FIRST_DEPARTMENT_ID + i: name for i, name in enumerate(DEPARTMENTS)}
        self.regions = dict(REGIONS)
        self.tags = {tag_id: name for name, tag_id in TAG_IDS.items()}
        self.users: dict[int, User] = {}
        self._emails: dict[str, int] = {}
        self.tokens: dict[str, Token] = {}
        self.used_nonces: set[str] = set()
        self.allowed_ips: set[str] | None = None  # set it to restrict the handshake by ip_address
        self.user_limit: int | None = None
        self.warn_missing_allowances = False
        self.lockout_after = 5
        self.admin_user_id = ADMIN_USER_ID
        self._next_id = ADMIN_USER_ID + 1
        self._add(User(ADMIN_USER_ID, "Sandbox", "Admin", username, FIRST_DEPARTMENT_ID, "300",
                       staff_code="API-ADMIN", password=password, default_view_id=FIRST_DEPARTMENT_ID))
        if access_token:
            self.tokens[access_token] = Token(ADMIN_USER_ID, None)
        self.seed(seed_people)

    # -- seeding: cheap per person, shared values cached, so 100,000 people take seconds
    def seed(self, count: int, start: int = 0) -> None:
        """Add sample people start .. start+count-1 (see people.py), each as user 1000001 + n."""
        with gc_paused():
            self._seed(count, start)

    def _seed(self, count: int, start: int) -> None:
        year = dt.date.today().year
        allowance_variants = [((f"{year}-01-01", 25 * MINUTES_PER_DAY, (25 - k) * MINUTES_PER_DAY),
                               (f"{year + 1}-01-01", 25 * MINUTES_PER_DAY, 25 * MINUTES_PER_DAY))
                              for k in range(10)]
        shared: dict[Any, Any] = {}
        department_approver: dict[int, int] = {}
        new_users = []
        for number in range(start, start + count):
            user = self._render_person(sample_person(number), shared)
            user.allowances = allowance_variants[number % 10]
            if number % 40 == 39:
                user.lockout_date = utc_stamp(time.time() - 3600)
            if user.user_type_id == "200":
                department_approver.setdefault(user.department_id, user.user_id)
            self._add(user)
            new_users.append(user)
        for user in new_users:  # second pass: the first team lead of each department approves it
            approver = department_approver.get(user.department_id, ADMIN_USER_ID)
            user.approver_id = ADMIN_USER_ID if approver == user.user_id else approver
            user.approver_role_id = "1"
        self._next_id = max(self._next_id, max(self.users) + 1)

    def _render_person(self, person: SamplePerson, shared: dict) -> User:
        def once(value: Any) -> Any:  # one object per distinct value: 100,000 users share dates/tags
            return shared.setdefault(value, value)
        department_id = FIRST_DEPARTMENT_ID + DEPARTMENTS.index(person.department)
        return User(
            ADMIN_USER_ID + 1 + person.number, person.first_name, person.last_name, person.email,
            department_id, ROLE_TO_USER_TYPE.get(person.role, "100"),
            status_id="1" if person.active else "0", staff_code=person.employee_number,
            default_view_id=department_id, region_id=REGION_BY_COUNTRY.get(person.country, 0),
            employment_started_date=once(person.employment_start.isoformat()),
            work_telephone=person.work_phone, mobile_telephone=person.mobile_phone,
            tags=once(tuple(TAG_IDS[t] for t in person.tags)),
        )

    def _add(self, user: User) -> None:
        self.users[user.user_id] = user
        self._emails[user.email_contact.lower()] = user.user_id

    # -- authentication
    def expected_secret(self, nonce: str) -> str:
        digest = hashlib.sha512((nonce + self.client_secret).encode("utf-8")).digest()
        if self.secret_encoding == "base64":
            return base64.b64encode(digest).decode("ascii")
        return digest.hex().upper() if self.secret_encoding == "HEX" else digest.hex()

    def authenticate(self, app_id_header: str | None, body: Any) -> dict:
        if app_id_header != self.app_id:
            raise WhosOffError(("0405", "app-id header is missing or not valid"))
        if not isinstance(body, dict):
            raise WhosOffError(("0400", "request body must be a JSON object"))
        missing = [name for name in ("username", "password", "nonce", "secret") if not isinstance(body.get(name), str)]
        if missing:
            raise WhosOffError(*[("0400", f"{name} is required") for name in missing])
        if body.get("app_id") not in (None, self.app_id):
            raise WhosOffError(("0405", "app_id is not valid"))
        nonce = body["nonce"]
        if nonce in self.used_nonces:
            raise WhosOffError(("0403", "nonce has already been used"))
        self.used_nonces.add(nonce)
        if not hmac.compare_digest(body["secret"].encode(), self.expected_secret(nonce).encode()):
            raise WhosOffError(("0402", "secret is not valid"))
        if self.allowed_ips is not None and body.get("ip_address") not in self.allowed_ips:
            raise WhosOffError(("0406", "ip_address is not permitted"))
        user = self.users.get(self._emails.get(body["username"].lower(), -1))
        if user is None or user.password is None:
            raise WhosOffError(("0401", "username or password is incorrect"))
        if user.lockout_date:
            raise WhosOffError(("0407", "account is locked"))
        if user.password != body["password"]:
            user.failed_logins += 1
            if user.failed_logins >= self.lockout_after:
                user.lockout_date = utc_stamp(time.time())
            raise WhosOffError(("0401", "username or password is incorrect"))
        if user.status_id != "1":
            raise WhosOffError(("0408", "account is disabled"))
        user.failed_logins = 0
        token, expires_at = self.issue_token(user.user_id)
        user.last_logins = ((utc_stamp(time.time()), "API"),) + user.last_logins[:4]
        return {"token": {"access_token": token, "token_expiry_date": utc_stamp(expires_at)},
                "user": {"user_id": user.user_id, "first_name": user.first_name, "last_name": user.last_name,
                         "email_address": user.email_contact, "user_type_id": user.user_type_id}}

    def issue_token(self, user_id: int) -> tuple[str, float]:
        """A fresh bearer token for `user_id` (tests use it to act as a staff-level user)."""
        token, expires_at = secrets.token_urlsafe(32), time.time() + self.token_lifetime
        self.tokens[token] = Token(user_id, expires_at)
        return token, expires_at

    def expire_tokens(self, include_fixed: bool = False) -> None:
        """Let every issued token run out now, as if the clock had passed token_expiry_date."""
        for token in self.tokens.values():
            if token.expires_at is not None or include_fixed:
                token.expires_at = time.time() - 1

    def caller(self, authorization: str | None) -> User:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise WhosOffError(("0410", "Authorization: Bearer token is required"))
        found = self.tokens.get(token.strip())
        if found is None or found.user_id not in self.users:
            raise WhosOffError(("0411", "access token is not valid"))
        if found.expires_at is not None and found.expires_at <= time.time():
            raise WhosOffError(("0412", "access token has expired"))
        return self.users[found.user_id]

    # -- users
    def get(self, user_id: Any) -> User:
        errors: Errors = []
        number = _as_int("user_id", user_id, errors)
        if errors:
            raise WhosOffError(*errors)
        if number not in self.users:
            raise WhosOffError(("0300", f"user {number} not found"))
        return self.users[number]

    def create(self, body: Any) -> tuple[User, list[tuple[str, str]]]:
        values = self._validate(body, None)
        if self.user_limit is not None and len(self.users) >= self.user_limit:
            raise WhosOffError(("00422", "User limit reached"))
        user = User(self._next_id, **values)
        self._next_id += 1
        self._add(user)
        warnings = [("004a", "No allowances set")] if not user.allowances and self.warn_missing_allowances else []
        return user, warnings

    def update(self, body: Any) -> User:
        if not isinstance(body, dict) or body.get("user_id") in (None, ""):
            raise WhosOffError(("0201", "user_id is required"))
        user = self.get(body["user_id"])
        values = self._validate(body, user)
        self._emails.pop(user.email_contact.lower(), None)
        for name, value in values.items():
            setattr(user, name, value)
        self._emails[user.email_contact.lower()] = user.user_id
        return user

    def delete(self, user_id: Any, caller: User) -> User:
        user = self.get(user_id)
        if user.user_id == caller.user_id:
            raise WhosOffError(("0301", "you cannot delete your own user"))
        del self.users[user.user_id]
        self._emails.pop(user.email_contact.lower(), None)
        for other in self.users.values():  # nobody may point at a user that is gone
            for name in ("approver_id", "notifier_2_id", "notifier_3_id"):
                if getattr(other, name) == user.user_id:
                    setattr(other, name, 0)
        self.tokens = {k: t for k, t in self.tokens.items() if t.user_id != user.user_id}
        return user

    def unlock(self, user_id: Any) -> User:
        user = self.get(user_id)
        user.lockout_date, user.failed_logins = None, 0
        return user

    def retrieve(self, body: Any, caller: User) -> list[User]:
        if not isinstance(body, dict):
            raise WhosOffError(("0200", "request body must be a JSON object"))
        errors: Errors = []
        specs = {"map_type_id": _enum("map_type_id", ("0", "1", "2", "3", "4", "5"), True),
                 "map_id": Spec("map_id", "int", True), "status_id": _enum("status_id", ("0", "1", "99"), True),
                 "last_name": _text("last_name", high=250)}
        got = {}
        for name, spec in specs.items():
            if body.get(name) is None:
                if spec.required:
                    errors.append(("0201", f"{name} is required"))
                continue
            got[name] = spec.parse(body[name], errors)
        if errors:
            raise WhosOffError(*errors)
        keep = self._map_filter(got["map_type_id"], got["map_id"], caller)
        status, prefix = got["status_id"], (got.get("last_name") or "").lower()
        return [u for u in self.users.values()
                if keep(u) and (status == "99" or u.status_id == status)
                and (not prefix or u.last_name.lower().startswith(prefix))]

    @staticmethod
    def _map_filter(map_type: str, map_id: int, caller: User) -> Callable[[User], bool]:
        return {
            "0": lambda u: True,
            "1": lambda u: u.department_id == map_id,
            "2": lambda u: map_id in u.tags,
            "3": lambda u: u.user_id == map_id,
            "4": lambda u: u.approver_id == caller.user_id,
            "5": lambda u: u.approver_id == map_id,
        }[map_type]

    def approvers(self) -> list[User]:
        return [u for u in self.users.values() if u.user_type_id in APPROVER_TYPES and u.status_id == "1"]

    def my_staff(self, caller: User) -> list[User]:
        return [u for u in self.users.values() if u.approver_id == caller.user_id]

    def _validate(self, body: Any, existing: User | None) -> dict[str, Any]:
        """The write model's values, or every field's failure at once."""
        if not isinstance(body, dict):
            raise WhosOffError(("0200", "request body must be a JSON object"))
        errors: Errors = []
        values: dict[str, Any] = {}
        for spec in WRITE_SPECS:
            if existing is not None and spec.name in NOT_UPDATABLE:
                continue
            raw = body.get(spec.name)
            if raw is None:
                if existing is not None and spec.name == "password":
                    continue  # not readable, so a read-merge-write client cannot resend it
                if spec.required:
                    errors.append(("0201", f"{spec.name} is required"))
                else:
                    values[spec.name] = spec.default
                continue
            value = spec.parse(raw, errors)
            if value is not None and spec.ref and value != 0 and not self._exists(spec.ref, value):
                errors.append(("0205", f"{spec.name}: {spec.ref} {value} does not exist"))
            values[spec.name] = value
        email = values.get("email_contact")
        if email and self._emails.get(email.lower(), None) not in (None, existing and existing.user_id):
            errors.append(("0206", f"email_contact {email} is already in use"))
        if existing is None:
            values["allowances"] = self._allowances(body.get("allowances"), errors)
        if errors:
            raise WhosOffError(*errors)
        return values

    def _exists(self, kind: str, record_id: int) -> bool:
        return record_id in {"department": self.departments, "region": self.regions, "user": self.users}[kind]

    @staticmethod
    def _allowances(raw: Any, errors: Errors) -> tuple[tuple[str, int, int], ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            errors.append(("0202", "allowances must be a list"))
            return ()
        parsed = []
        for index, item in enumerate(raw):
            where = f"allowances[{index}]"
            if not isinstance(item, dict):
                errors.append(("0202", f"{where} must be an object"))
                continue
            missing = [k for k in ("start_date", "opening", "remaining") if item.get(k) is None]
            errors.extend(("0201", f"{where}.{k} is required") for k in missing)
            if missing:
                continue
            start = _as_date(f"{where}.start_date", item["start_date"], errors)
            opening = _as_int(f"{where}.opening", item["opening"], errors)
            remaining = _as_int(f"{where}.remaining", item["remaining"], errors)
            if start and opening is not None and remaining is not None:
                parsed.append((start, opening, remaining))
        return tuple(sorted(parsed))


# ----------------------------------------------------------------------------------------- render

def remaining_minutes(user: User, year: int) -> int:
    return sum(remaining for start, _, remaining in user.allowances if start.startswith(str(year)))


def image_urls(user: User, root: str) -> dict[str, str]:
    return {"image_url_small": f"{root}/images/user/{user.user_id}/small.png",
            "image_url_large": f"{root}/images/user/{user.user_id}/large.png"}


def full_record(user: User, root: str) -> dict[str, Any]:
    """get-by-id / get-my-details: every field of the read schema, in its order."""
    u = user
    return {
        "user_id": u.user_id, "status_id": u.status_id, "staff_code": u.staff_code, "title": u.title,
        "first_name": u.first_name, "middle_name": u.middle_name, "last_name": u.last_name,
        "user_type_id": u.user_type_id, "default_view_type_id": u.default_view_type_id,
        "default_view_id": u.default_view_id, "default_sorting_id": u.default_sorting_id,
        "department_id": u.department_id, "region_id": u.region_id, "approver_id": u.approver_id,
        "approver_role_id": u.approver_role_id, "email_contact": u.email_contact,
        "notifier_2_id": u.notifier_2_id, "notifier_2_role_id": u.notifier_2_role_id,
        "notifier_3_id": u.notifier_3_id, "notifier_3_role_id": u.notifier_3_role_id,
        "email_type_id": u.email_type_id, "allowance_type_id": u.allowance_type_id,
        "active_directory_username": u.active_directory_username,
        "employment_started_date": u.employment_started_date, "employment_ended_date": u.employment_ended_date,
        "work_telephone": u.work_telephone, "mobile_telephone": u.mobile_telephone,
        "last_logins": [{"login_date": when, "device": device} for when, device in u.last_logins],
        **image_urls(u, root), "google_unique_id": "", "mfa_method_id": 0, "password_policy": False,
        "lockout_date": u.lockout_date,
    }


def summary_record(user: User, backend: WhosOffBackend, root: str, v41: bool, year: int) -> dict[str, Any]:
    """retrieve: the list shape, with names of department, region and approver filled in."""
    u, users = user, backend.users
    approver = users.get(u.approver_id)
    record: dict[str, Any] = {}
    if v41:
        notifier_2, notifier_3 = users.get(u.notifier_2_id), users.get(u.notifier_3_id)
        record.update({
            "approver_role_id": u.approver_role_id, "notifier_2_role_id": u.notifier_2_role_id,
            "notifier_2_first_name": notifier_2.first_name if notifier_2 else "",
            "notifier_2_last_name": notifier_2.last_name if notifier_2 else "",
            "notifier_3_role_id": u.notifier_3_role_id,
            "notifier_3_first_name": notifier_3.first_name if notifier_3 else "",
            "notifier_3_last_name": notifier_3.last_name if notifier_3 else "",
            **image_urls(u, root)})
    record.update({
        "user_id": u.user_id, "status_id": u.status_id, "staff_code": u.staff_code, "title": u.title,
        "first_name": u.first_name, "last_name": u.last_name, "email_contact": u.email_contact,
        "email_type_id": u.email_type_id, "approver_id": u.approver_id,
        "approver_first_name": approver.first_name if approver else "",
        "approver_last_name": approver.last_name if approver else "",
        "department_id": u.department_id, "department_name": backend.departments.get(u.department_id, ""),
        "region_id": u.region_id, "region_name": backend.regions.get(u.region_id, ""),
        "user_type_id": u.user_type_id, "notifier_2_id": u.notifier_2_id, "notifier_3_id": u.notifier_3_id,
        "allowance_type_id": u.allowance_type_id,
        "this_year_remaining": remaining_minutes(u, year), "next_year_remaining": remaining_minutes(u, year + 1),
    })
    return record


def staff_overview(user: User) -> dict[str, Any]:
    year = dt.date.today().year
    entry: dict[str, Any] = {"user_id": user.user_id, "first_name": user.first_name,
                             "last_name": user.last_name, "pending_request": 0, "pending_overtime": 0}
    for label, when in (("this_year", year), ("next_year", year + 1)):
        opening = sum(o for start, o, _ in user.allowances if start.startswith(str(when)))
        entry.update({f"allowance_type_id_{label}": int(user.allowance_type_id), f"opening_{label}": opening,
                      f"remaining_{label}": remaining_minutes(user, when), f"pending_{label}": 0,
                      f"carryover_opening_{label}": 0, f"carryover_remaining_{label}": 0,
                      f"carryover_expiry_date_{label}": None})
    entry["approver_role_id"] = user.approver_role_id
    return entry


def empty_overview(staff_total: int) -> dict[str, Any]:
    """my-staff's leave statistics: the sandbox records no leave, so everything is zero or empty."""
    overview: dict[str, Any] = {"staff_total": staff_total, "staff_with_leave_total": 0,
                                "absence_record_total": 0, "most_popular_leave_type_name": "",
                                "most_popular_leave_type_total": 0}
    for metric in ("most_occurrences", "most_accumulated_days", "most_accumulated_hours",
                   "longest_absence_days", "longest_absence_hours"):
        overview.update({f"{metric}_first_name": "", f"{metric}_last_name": "", f"{metric}_total": 0})
    return overview


# ----------------------------------------------------------------------------------------- routes

class WhosOffSandbox(Sandbox):
    """WhosOff v4 on loopback: `with WhosOffSandbox() as sb: connect("whosoff", base_url=sb.url, ...)`."""

    name = "whosoff"
    url_prefix = ""

    def __init__(self, port: int = 0, seed_people: int = 50, app_id: str = "sandbox-app",
                 client_secret: str = "sandbox-client-secret", username: str = "admin@example.com",
                 password: str = "sandbox-password", access_token: str | None = None,
                 token_lifetime: float = 3600.0, secret_encoding: str = "hex", rate_limit: int | None = None,
                 rate_window: float = 60.0, retry_after: bool = False) -> None:
        super().__init__(port, rate_limit, rate_window, retry_after)
        self.backend = WhosOffBackend(seed_people, app_id, client_secret, username, password, access_token,
                                      token_lifetime, secret_encoding)
        add = self.routes.add
        add("POST", r"(?:/v4)?/authenticate/with-credentials", self._guard(self.handshake))
        add("POST", r"/v4/user/create", self._guard(self.create, SUPER_USER_TYPES))
        add("POST", r"/(?P<version>v4|v4\.1)/user/retrieve", self._guard(self.retrieve))
        add("GET", r"/v4/user/get-by-id/(?P<user_id>[^/]+)", self._guard(self.get_by_id))
        add("GET", r"/v4/user/get-my-details", self._guard(self.get_my_details))
        add("PUT", r"/v4/user/update", self._guard(self.update))
        add("DELETE", r"/v4/user/del/(?P<user_id>[^/]+)", self._guard(self.delete, SUPER_USER_TYPES))
        add("POST", r"/v4/user/unlock/(?P<user_id>[^/]+)", self._guard(self.unlock, SUPER_USER_TYPES))
        add("GET", r"/v4/user/get-approvers", self._guard(self.get_approvers, SUPER_USER_TYPES))
        add("POST", r"/v4/user/my-staff", self._guard(self.my_staff, APPROVER_TYPES))

    def _guard(self, handler: Callable[[Request, User | None], Response],
               levels: frozenset[str] | None = None) -> Callable[[Request], Response]:
        """Turns WhosOffErrors into 400 envelopes and hands the handler its caller (None: handshake)."""
        def route(request: Request) -> Response:
            try:
                caller = None if "/authenticate/" in request.path else self.backend.caller(
                    request.headers.get("authorization"))
                if caller is not None and levels is not None and caller.user_type_id not in levels:
                    raise WhosOffError(("0413", "your user level does not allow this call"))
                return handler(request, caller)
            except WhosOffError as refusal:
                return envelope(None, refusal.errors, 400)
        return route

    # -- hooks: the app-id check runs before routing, so every data call needs it
    def authenticate(self, request: Request) -> Response | None:
        if "/authenticate/" in request.path:
            return None  # the handshake checks app-id itself, with its own message
        if request.headers.get("app-id") != self.backend.app_id:
            return envelope(None, [("0405", "app-id header is missing or not valid")], 400)
        return None

    def not_found(self, request: Request) -> Response:
        return envelope(None, [("0404", "Endpoint not valid")], 404)

    def method_not_allowed(self, request: Request) -> Response:
        return self.not_found(request)  # the docs know no 405: a wrong method is "endpoint not valid"

    def bad_request(self, request: Request, message: str) -> Response:
        return envelope(None, [("0200", message)], 400)

    def too_many_requests(self, headers: dict[str, str]) -> Response:
        response = envelope(None, [("0429", "Too many requests")], 429)
        response.headers.update(headers)
        return response

    # -- handlers
    def handshake(self, request: Request, caller: User | None) -> Response:
        return envelope(self.backend.authenticate(request.headers.get("app-id"), request.json()))

    def _saved(self, user: User, warnings: Errors | None = None) -> Response:
        return envelope({"user_id": user.user_id, **image_urls(user, self.root), "forceMFA": False}, warnings or [])

    def create(self, request: Request, caller: User | None) -> Response:
        return self._saved(*self.backend.create(request.json()))

    def update(self, request: Request, caller: User | None) -> Response:
        return self._saved(self.backend.update(request.json()))

    def retrieve(self, request: Request, caller: User | None) -> Response:
        assert caller is not None
        v41 = request.params["version"] == "v4.1"
        users = self.backend.retrieve(request.json(), caller)
        year = dt.date.today().year
        return envelope([summary_record(u, self.backend, self.root, v41, year) for u in users])

    def get_by_id(self, request: Request, caller: User | None) -> Response:
        return envelope(full_record(self.backend.get(request.params["user_id"]), self.root))

    def get_my_details(self, request: Request, caller: User | None) -> Response:
        assert caller is not None
        return envelope(full_record(caller, self.root))

    def delete(self, request: Request, caller: User | None) -> Response:
        assert caller is not None
        user = self.backend.delete(request.params["user_id"], caller)
        return envelope({"Record_ID": str(user.user_id)})

    def unlock(self, request: Request, caller: User | None) -> Response:
        return envelope({"Record_ID": str(self.backend.unlock(request.params["user_id"]).user_id)})

    def get_approvers(self, request: Request, caller: User | None) -> Response:
        return envelope([{"user_id": u.user_id, "first_name": u.first_name, "last_name": u.last_name,
                          "user_type_id": u.user_type_id, "email_contact": u.email_contact}
                         for u in self.backend.approvers()])

    def my_staff(self, request: Request, caller: User | None) -> Response:
        assert caller is not None
        body = request.json() or {}
        if not isinstance(body, dict):
            raise WhosOffError(("0200", "request body must be a JSON object"))
        if body.get("staff_filter") is not None:
            errors: Errors = []
            _as_int("staff_filter", body["staff_filter"], errors)
            if errors:
                raise WhosOffError(*errors)
        staff = self.backend.my_staff(caller)
        return envelope({"staff_overview": [staff_overview(u) for u in staff],
                         "overview": empty_overview(len(staff)), "leave_type_overview": [],
                         "breakdown_by_leave_type": [], "occurrences_by_duration": []})
