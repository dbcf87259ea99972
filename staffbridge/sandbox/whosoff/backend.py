"""The WhosOff account's state and rules: users, departments, regions, tags, tokens, spent nonces.

Plain data, no HTTP and no JSON: routes.py parses requests, calls these methods and renders the
answers. Refusals are WhosOffErrors, which the routes answer as 400 envelopes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from staffbridge.sandbox.people import DEPARTMENTS, TAGS, SamplePerson, gc_paused, sample_person
from staffbridge.sandbox.whosoff.validation import (
    NOT_UPDATABLE,
    USER_TYPES,
    WRITE_SPECS,
    Errors,
    Spec,
    WhosOffError,
    as_date,
    as_int,
    enum_spec,
    text_spec,
)

APPROVER_TYPES = frozenset(USER_TYPES[1:])
SUPER_USER_TYPES = frozenset({"300", "310"})
ADMIN_USER_ID = 1_000_000
FIRST_DEPARTMENT_ID = 123456
REGIONS = {2001: "Deutschland", 2002: "Schweiz", 2003: "Österreich"}
REGION_BY_COUNTRY = {"DE": 2001, "CH": 2002, "AT": 2003}
TAG_IDS = {name: 3001 + index for index, name in enumerate(TAGS)}
ROLE_TO_USER_TYPE = {"Teamleitung": "200", "Administrator": "300"}
MINUTES_PER_DAY = 450  # a 7.5 hour working day: allowances travel in minutes


def utc_stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


@dataclass(frozen=True, slots=True)
class Login:
    """A successful handshake: who logged in, and the bearer token they got until `expires_at`."""

    user: User
    token: str
    expires_at: float


class WhosOffBackend:
    """The account's state: users, departments, regions, tags, tokens and spent nonces. No HTTP."""

    def __init__(
        self,
        seed_people: int = 50,
        app_id: str = "sandbox-app",
        client_secret: str = "sandbox-client-secret",
        username: str = "admin@example.com",
        password: str = "sandbox-password",
        access_token: str | None = None,
        token_lifetime: float = 3600.0,
        secret_encoding: str = "hex",
    ) -> None:
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
        self._add(
            User(
                ADMIN_USER_ID,
                "Sandbox",
                "Admin",
                username,
                FIRST_DEPARTMENT_ID,
                "300",
                staff_code="API-ADMIN",
                password=password,
                default_view_id=FIRST_DEPARTMENT_ID,
            )
        )
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
        allowance_variants = [
            (
                (f"{year}-01-01", 25 * MINUTES_PER_DAY, (25 - k) * MINUTES_PER_DAY),
                (f"{year + 1}-01-01", 25 * MINUTES_PER_DAY, 25 * MINUTES_PER_DAY),
            )
            for k in range(10)
        ]
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
            ADMIN_USER_ID + 1 + person.number,
            person.first_name,
            person.last_name,
            person.email,
            department_id,
            ROLE_TO_USER_TYPE.get(person.role, "100"),
            status_id="1" if person.active else "0",
            staff_code=person.employee_number,
            default_view_id=department_id,
            region_id=REGION_BY_COUNTRY.get(person.country, 0),
            employment_started_date=once(person.employment_start.isoformat()),
            work_telephone=person.work_phone,
            mobile_telephone=person.mobile_phone,
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

    def authenticate(self, app_id_header: str | None, body: Any) -> Login:
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
        user.last_logins = ((utc_stamp(time.time()), "API"), *user.last_logins[:4])
        return Login(user, token, expires_at)

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
        number = as_int("user_id", user_id, errors)
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
        specs = {
            "map_type_id": enum_spec("map_type_id", ("0", "1", "2", "3", "4", "5"), True),
            "map_id": Spec("map_id", "int", True),
            "status_id": enum_spec("status_id", ("0", "1", "99"), True),
            "last_name": text_spec("last_name", high=250),
        }
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
        return [
            u
            for u in self.users.values()
            if keep(u)
            and (status == "99" or u.status_id == status)
            and (not prefix or u.last_name.lower().startswith(prefix))
        ]

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
        tables: dict[str, Mapping[int, Any]] = {
            "department": self.departments,
            "region": self.regions,
            "user": self.users,
        }
        return record_id in tables[kind]

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
            start = as_date(f"{where}.start_date", item["start_date"], errors)
            opening = as_int(f"{where}.opening", item["opening"], errors)
            remaining = as_int(f"{where}.remaining", item["remaining"], errors)
            if start and opening is not None and remaining is not None:
                parsed.append((start, opening, remaining))
        return tuple(sorted(parsed))
