"""MOCO users API emulator (https://{domain}.mocoapp.com/api/v1): a backend (state) plus routes.

What it serves, below `sb.url` (= `http://127.0.0.1:PORT/api/v1`):

    GET /session                         {id, uuid} for a valid key
    GET /users, POST /users              list (paginated, filtered) / create
    GET|PUT|DELETE /users/{id}           one user; DELETE refused while hours are billed
    GET /users/{id}/performance_report   ?year=
    GET /users/roles                     permission roles
    GET|POST /users/employments, GET|PUT|DELETE /users/employments/{id}
    GET|POST /units, GET|PUT|DELETE /units/{id}

Faithful to the documentation and to real recordings (see VENDORS.md §1):
- Auth `Authorization: Token token=KEY` (quoted or not) or `Bearer KEY`; anything else is 401.
- Read and write names differ: read `extern`, `birthday`, `unit{id,name}`, `role{id,name}`, `avatar_url`;
  write `external`, `bday`, `unit_id`, `role_id`, `avatar{filename,base64}`. Read names sent on a write are
  ignored, as Rails ignores unpermitted params, so a client using the wrong name silently loses the value.
  `password`, `language` and `welcome_email` are write-only.
- POST /users answers 200 (not 201) with the full user; the email is lower-cased. Unset text fields read
  as "", `birthday`/`avatar_url` as null, `tags` as [], `custom_properties` as {}.
- DELETE answers 204 with an empty body. Timestamps are UTC, second precision, "2018-10-17T09:33:46Z".
- Pagination: 100 per page, `page` param, `X-Page`/`X-Per-Page`/`X-Total`, and
  `Link: <...users.json?...&page=N+1>; rel="next"` only when a next page exists. The link is absolute
  and carries `.json` and every other query param, like the documented example; every route therefore
  also answers with a `.json` suffix, as a Rails route does. A page past the end is an empty array.
  `lowercase_headers=True` sends all header names lower-case, as the 2023 recordings (HTTP/2) show.
- Employments: POST answers 200; `weekly_target_hours` is computed; pattern values come back as floats.
- Units embed every assigned user (deactivated ones too), ordered by lastname, firstname, as recorded.

Where MOCO is silent, the plausible choice (clients must not depend on these):
- Every error body is `{"message": "..."}` (the format is undocumented; moco-ruby reads `message`).
- A POST/PUT body without `Content-Type: application/json` is refused with 415; a body that is not a
  JSON object is 400.
- Validation failures are 422 naming the fields: "firstname can't be blank, email has already been taken".
  Booleans are cast as Rails casts them ("false", "0", "f", "off", 0 are false).
- Deleting a user with billed hours (`backend.mark_billed(id)`) is 422; deleting a unit with users is 422.
- `tags` filter: comma-separated, a user matches when it has ANY of them (case-insensitive).
- `updated_after` is strictly after; an unparsable value is 422. `ids` ignores non-numeric entries.
- `custom_properties[Name]=v` matches exactly (MultiSelect lists: contains; booleans: "true"/"false");
  `custom_properties[Name][]=a&...[]=b` needs all values; an unknown property name gives an empty list.
  Custom fields are "defined" by first use on any user (a real account defines them in its settings).
  Writing `custom_properties` merges into the stored ones; a null value removes that field.
- `sort_by=field [asc|desc]` sorts by any read field (unit/role by name, nulls last ascending); an
  unknown field is ignored. Without it, lists are in id order (MOCO's own default order is unspecified).
- `per_page`/`limit` query params are ignored (undocumented); the constructor's `per_page` exists for tests.
- PATCH is accepted wherever PUT is (Rails `resources` routes both); an unknown method is 404, as Rails.
- Employment list `from`/`to` select employments overlapping that range; neither is required (the real
  API answered without `from` in a recording, although the docs say it is required).
- The API key belongs to an account-level key holder that is not listed in /users.
- Performance reports are derived from the user's employments and fixed public holidays (Jan 1,
  May 1, Oct 3, Dec 25/26); tracked and billable hours are deterministic per user, month and year.
- `avatar_url` points at `{sandbox root}/system/avatars/{id}/{filename}`, which is not served.

State changes go through MocoBackend methods, which bump `backend.version`; list results are cached
per query and version, so paging through 100,000 users does not rescan them for every page.
"""
from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import itertools
import random
import re
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import urlencode

from staffbridge.sandbox.people import DEPARTMENTS, ROLES, SamplePerson, gc_paused, sample_people
from staffbridge.sandbox.server import Request, Response, Sandbox, json_response

USER_ID_BASE = 933662733  # ids of the size MOCO hands out (recordings: 933 662 733)
UNIT_ID_BASE = 909175374
ROLE_ID_BASE = 4242
PERMISSION_ID_BASE = 555
EMPLOYMENT_ID_BASE = 982237015
KEY_HOLDER_ID = 933600001  # the account key's holder, not a listed staff member

LANGUAGES = ("de", "de-AT", "de-CH", "en", "it", "fr")
TEXT_FIELDS = ("mobile_phone", "work_phone", "home_address", "info", "iban")
PUBLIC_HOLIDAYS = ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26))
PERMISSION_AREAS = ("report", "companies", "contacts", "people", "purchases", "settings", "sales",
                    "projects", "calendar", "time_tracking", "invoicing")
FALSE_STRINGS = {"false", "0", "f", "off", "no", "n", ""}
FULL_TIME = (4.0, 4.0, 4.0, 4.0, 4.0)
NO_TIME = (0.0, 0.0, 0.0, 0.0, 0.0)
SEED_UNITS_CREATED = dt.datetime(2010, 1, 4, 8, 0, tzinfo=dt.timezone.utc)
_BACKEND_SERIALS = itertools.count(1)  # tells list caches one backend from its replacement
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------- state

@dataclass(slots=True)
class User:
    id: int
    firstname: str
    lastname: str
    email: str
    unit_id: int
    role_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    active: bool = True
    extern: bool = False
    mobile_phone: str = ""
    work_phone: str = ""
    home_address: str = ""
    info: str = ""
    iban: str = ""
    birthday: str | None = None  # "YYYY-MM-DD"
    avatar_filename: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_properties: dict[str, Any] = field(default_factory=dict)
    # write-only: stored, never rendered
    language: str = "de"
    password: str | None = None
    welcome_email: bool = False


@dataclass(slots=True)
class Unit:
    id: int
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(slots=True)
class Role:
    id: int
    name: str
    is_default: bool
    is_admin: bool
    permission: dict[str, Any]


@dataclass(slots=True)
class Employment:
    id: int
    user_id: int
    am: tuple[float, ...]
    pm: tuple[float, ...]
    from_: dt.date
    to: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def weekly_target_hours(self) -> float:
        return round(sum(self.am) + sum(self.pm), 2)

    def covers(self, day: dt.date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)


class RecordNotFound(LookupError):
    """The record does not exist (404)."""


class RecordInvalid(Exception):
    """The write was refused (422); `errors` are human-readable, each naming its field."""

    def __init__(self, *errors: str) -> None:
        super().__init__(", ".join(errors))
        self.errors = list(errors)


def _permissions(role: str, role_id: int) -> dict[str, Any]:
    level = {"Administrator": "full", "Teamleitung": "full"}.get(role, "none")
    own = "full" if role != "Mitarbeiter" else "own"
    perms: dict[str, Any] = {"id": PERMISSION_ID_BASE + role_id - ROLE_ID_BASE}
    for area in PERMISSION_AREAS:
        perms[area] = own if area in ("projects", "calendar", "time_tracking") else level
    return perms


class MocoBackend:
    """MOCO's staff state: users, units (teams), permission roles, employments, billed-hours flags.

    Plain data, no HTTP. `clock` returns the current UTC time (tests may replace it)."""

    def __init__(self, seed_people: int = 0, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.clock = clock
        self.users: dict[int, User] = {}
        self.units: dict[int, Unit] = {}
        self.roles: dict[int, Role] = {}
        self.employments: dict[int, Employment] = {}
        self.billed: set[int] = set()  # user ids with billed hours: they cannot be deleted
        self.custom_fields: set[str] = set()  # names of the account's user custom fields
        self.origin = "http://127.0.0.1"  # where avatar URLs point; the sandbox sets its own root
        self.version = 0  # bumped on every change; list caches key on it
        self.serial = next(_BACKEND_SERIALS)
        self._emails: dict[str, int] = {}
        self._next_user_id = USER_ID_BASE
        self._next_unit_id = UNIT_ID_BASE
        self._next_employment_id = EMPLOYMENT_ID_BASE
        for index, name in enumerate(ROLES):
            role_id = ROLE_ID_BASE + index
            self.roles[role_id] = Role(role_id, name, name == "Mitarbeiter", name == "Administrator",
                                       _permissions(name, role_id))
        for name in DEPARTMENTS:
            self.add_unit(name, created_at=SEED_UNITS_CREATED)
        if seed_people:
            with gc_paused():  # a cyclic GC pass per few hundred new objects triples seeding time
                self.seed(sample_people(seed_people))

    # -- seeding
    def seed(self, people: Iterable[SamplePerson]) -> None:
        """Add sample people as users, person n getting id USER_ID_BASE + n, with one employment each."""
        unit_ids = {unit.name: unit.id for unit in self.units.values()}
        role_ids = {role.name: role.id for role in self.roles.values()}
        created_on: dict[dt.date, dt.datetime] = {}  # few distinct start dates: share the timestamps
        users, employments, emails = self.users, self.employments, self._emails
        last_number = -1
        for person in people:
            start = person.employment_start
            created = created_on.get(start)
            if created is None:  # the account entry was made two weeks before the first day
                created = created_on[start] = dt.datetime(start.year, start.month, start.day, 8, 0,
                                                          tzinfo=dt.timezone.utc) - dt.timedelta(days=14)
            user_id = USER_ID_BASE + person.number
            email = person.email.lower()
            users[user_id] = User(
                id=user_id, firstname=person.first_name, lastname=person.last_name, email=email,
                unit_id=unit_ids[person.department], role_id=role_ids.get(person.role),
                created_at=created, updated_at=created, active=person.active, extern=person.external,
                mobile_phone=person.mobile_phone, work_phone=person.work_phone,
                home_address=person.address_lines, info=person.notes,
                birthday=person.birthday.isoformat(), tags=list(person.tags),
                custom_properties={"Personalnummer": person.employee_number},
                language=person.language if person.language in LANGUAGES else "de")
            emails[email] = user_id
            employment_id = EMPLOYMENT_ID_BASE + person.number
            afternoons = NO_TIME if "Teilzeit" in person.tags else FULL_TIME
            employments[employment_id] = Employment(employment_id, user_id, FULL_TIME, afternoons, start, None,
                                                    created, created)
            last_number = max(last_number, person.number)
        self._next_user_id = max(self._next_user_id, USER_ID_BASE + last_number + 1)
        self._next_employment_id = max(self._next_employment_id, EMPLOYMENT_ID_BASE + last_number + 1)
        self.custom_fields.add("Personalnummer")
        self.version += 1

    def _now(self) -> dt.datetime:
        return self.clock().astimezone(dt.timezone.utc).replace(microsecond=0)

    # -- users
    def get_user(self, user_id: int) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise RecordNotFound(f"user {user_id} not found") from None

    def create_user(self, data: dict[str, Any]) -> User:
        now = self._now()
        user = User(id=0, firstname="", lastname="", email="", unit_id=0, role_id=None,
                    created_at=now, updated_at=now)
        default_role = next((r.id for r in self.roles.values() if r.is_default), None)
        self._assign_user(user, {"role_id": default_role, **data}, creating=True)
        user.id = self._next_user_id
        self._next_user_id += 1
        self.users[user.id] = user
        self._emails[user.email] = user.id
        self.version += 1
        return user

    def update_user(self, user_id: int, data: dict[str, Any]) -> User:
        user = self.get_user(user_id)
        old_email = user.email
        if self._assign_user(user, data, creating=False):
            user.updated_at = self._now()  # Rails touches updated_at only when something changed
            if user.email != old_email:
                del self._emails[old_email]
                self._emails[user.email] = user.id
            self.version += 1
        return user

    def delete_user(self, user_id: int) -> None:
        user = self.get_user(user_id)
        if user_id in self.billed:
            raise RecordInvalid("user cannot be deleted: hours have already been billed")
        del self.users[user_id]
        del self._emails[user.email]
        for employment_id in [e.id for e in self.employments.values() if e.user_id == user_id]:
            del self.employments[employment_id]
        self.version += 1

    def mark_billed(self, user_id: int, billed: bool = True) -> None:
        """Record that (no longer) some of this user's hours are billed; billed users cannot be deleted."""
        self.get_user(user_id)
        (self.billed.add if billed else self.billed.discard)(user_id)

    def find_users(self, *, include_archived: bool = False, tags: Sequence[str] = (), email: str | None = None,
                   ids: Iterable[int] | None = None, updated_after: dt.datetime | None = None,
                   custom_properties: dict[str, list[str]] | None = None,
                   sort_by: str | None = None) -> list[User]:
        wanted_tags = {t.strip().lower() for t in tags if t.strip()}
        if custom_properties and not set(custom_properties) <= self.custom_fields:
            return []  # MOCO: filtering on an unknown custom field gives an empty result
        candidates: Iterable[User]
        if email is not None:
            found = self._emails.get(email.strip().lower())
            candidates = [self.users[found]] if found is not None else []
        elif ids is not None:
            candidates = [self.users[i] for i in sorted(set(ids)) if i in self.users]
        else:
            candidates = self.users.values()
        id_set = set(ids) if ids is not None else None
        result = []
        for user in candidates:
            if not (include_archived or user.active):
                continue
            if id_set is not None and user.id not in id_set:
                continue
            if updated_after and not user.updated_at > updated_after:
                continue
            if wanted_tags and not wanted_tags & {t.lower() for t in user.tags}:
                continue
            if custom_properties and not all(_custom_matches(user.custom_properties.get(name), values)
                                             for name, values in custom_properties.items()):
                continue
            result.append(user)
        return _sorted(result, sort_by, self._user_sort_value)

    def _user_sort_value(self, user: User, name: str) -> Any:
        if name == "unit":
            return self.units[user.unit_id].name if user.unit_id in self.units else None
        if name == "role":
            return self.roles[user.role_id].name if user.role_id in self.roles else None
        if name in ("id", "firstname", "lastname", "active", "extern", "email", "birthday", "created_at",
                    "updated_at", *TEXT_FIELDS):
            return getattr(user, name)
        raise AttributeError(name)

    def _assign_user(self, user: User, data: dict[str, Any], creating: bool) -> bool:
        """Validate write fields and apply them all or none; True when anything changed."""
        errors: list[str] = []
        changes: dict[str, Any] = {}

        def present(name: str) -> bool:
            return name in data or creating

        for name in ("firstname", "lastname"):
            if present(name):
                value = _text(data.get(name), name, errors)
                if not (value or "").strip():
                    errors.append(f"{name} can't be blank")
                changes[name] = value
        if present("email"):
            value = (_text(data.get("email"), "email", errors) or "").strip().lower()
            if not value:
                errors.append("email can't be blank")
            elif not EMAIL_PATTERN.match(value):
                errors.append("email is invalid")
            elif self._emails.get(value, user.id) != user.id:
                errors.append("email has already been taken")
            changes["email"] = value
        if present("unit_id"):
            unit_id = _integer(data.get("unit_id"))
            if data.get("unit_id") in (None, ""):
                errors.append("unit_id can't be blank")
            elif unit_id not in self.units:
                errors.append("unit_id is invalid: no such unit")
            changes["unit_id"] = unit_id
        if "role_id" in data and data["role_id"] not in (None, ""):
            role_id = _integer(data["role_id"])
            if role_id not in self.roles:
                errors.append("role_id is invalid: no such role")
            changes["role_id"] = role_id
        for name, target in (("active", "active"), ("external", "extern"), ("welcome_email", "welcome_email")):
            if data.get(name) is not None:
                changes[target] = _boolean(data[name])
        if "language" in data and data["language"] is not None:
            if data["language"] not in LANGUAGES:
                errors.append(f"language is not included in the list ({', '.join(LANGUAGES)})")
            changes["language"] = data["language"]
        for name in TEXT_FIELDS:
            if name in data:
                changes[name] = _text(data[name], name, errors) or ""
        if changes.get("iban") and not _valid_iban(changes["iban"]):
            errors.append("iban is invalid")
        if "password" in data:
            changes["password"] = _text(data["password"], "password", errors)
        if "bday" in data:
            changes["birthday"] = _date_text(data["bday"], "bday", errors)
        if "tags" in data:
            tags = data["tags"] if data["tags"] is not None else []
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                errors.append("tags must be an array of strings")
            else:
                changes["tags"] = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
        if "custom_properties" in data:
            props = data["custom_properties"] if data["custom_properties"] is not None else {}
            if not isinstance(props, dict):
                errors.append("custom_properties must be an object")
            else:
                merged = {**user.custom_properties, **props}  # a partial object keeps the other fields
                changes["custom_properties"] = {k: v for k, v in merged.items() if v is not None}
        if "avatar" in data and data["avatar"] is not None:
            changes["avatar_filename"] = _avatar_filename(data["avatar"], errors)
        if errors:
            raise RecordInvalid(*errors)
        changed = False
        for name, value in changes.items():
            if getattr(user, name) != value:
                setattr(user, name, value)
                changed = True
        if "custom_properties" in changes:
            self.custom_fields.update(changes["custom_properties"])
        return changed

    # -- units
    def add_unit(self, name: str, created_at: dt.datetime | None = None) -> Unit:
        moment = created_at or self._now()
        unit = Unit(self._next_unit_id, name, moment, moment)
        self._next_unit_id += 1
        self.units[unit.id] = unit
        self.version += 1
        return unit

    def get_unit(self, unit_id: int) -> Unit:
        try:
            return self.units[unit_id]
        except KeyError:
            raise RecordNotFound(f"unit {unit_id} not found") from None

    def create_unit(self, data: dict[str, Any]) -> Unit:
        errors: list[str] = []
        name = _text(data.get("name"), "name", errors)
        if not errors and not (name or "").strip():
            errors.append("name can't be blank")
        if errors:
            raise RecordInvalid(*errors)
        return self.add_unit(str(name).strip())

    def update_unit(self, unit_id: int, data: dict[str, Any]) -> Unit:
        unit = self.get_unit(unit_id)
        if "name" in data:
            errors: list[str] = []
            name = _text(data["name"], "name", errors)
            if not errors and not (name or "").strip():
                errors.append("name can't be blank")
            if errors:
                raise RecordInvalid(*errors)
            if name != unit.name:
                unit.name, unit.updated_at = str(name), self._now()
                self.version += 1
        return unit

    def delete_unit(self, unit_id: int) -> None:
        self.get_unit(unit_id)
        if any(user.unit_id == unit_id for user in self.users.values()):
            raise RecordInvalid("unit cannot be deleted while users are assigned to it")
        del self.units[unit_id]
        self.version += 1

    def unit_members(self) -> dict[int, list[User]]:
        """Users per unit id, deactivated ones included, by lastname then firstname (as recorded)."""
        members: dict[int, list[User]] = {unit_id: [] for unit_id in self.units}
        for user in self.users.values():
            members.setdefault(user.unit_id, []).append(user)
        for users in members.values():
            users.sort(key=lambda u: (u.lastname, u.firstname, u.id))
        return members

    def find_units(self, *, ids: Iterable[int] | None = None, updated_after: dt.datetime | None = None,
                   sort_by: str | None = None) -> list[Unit]:
        id_set = set(ids) if ids is not None else None
        result = [u for u in self.units.values() if (id_set is None or u.id in id_set)
                  and (updated_after is None or u.updated_at > updated_after)]
        return _sorted(result, sort_by, _plain_sort_value)

    # -- employments
    def get_employment(self, employment_id: int) -> Employment:
        try:
            return self.employments[employment_id]
        except KeyError:
            raise RecordNotFound(f"employment {employment_id} not found") from None

    def create_employment(self, data: dict[str, Any]) -> Employment:
        now = self._now()
        employment = Employment(0, 0, NO_TIME, NO_TIME, now.date(), None, now, now)
        self._assign_employment(employment, data, creating=True)
        employment.id = self._next_employment_id
        self._next_employment_id += 1
        self.employments[employment.id] = employment
        self.version += 1
        return employment

    def update_employment(self, employment_id: int, data: dict[str, Any]) -> Employment:
        employment = self.get_employment(employment_id)
        if self._assign_employment(employment, data, creating=False):
            employment.updated_at = self._now()
            self.version += 1
        return employment

    def delete_employment(self, employment_id: int) -> None:
        self.get_employment(employment_id)
        del self.employments[employment_id]
        self.version += 1

    def find_employments(self, *, from_: dt.date | None = None, to: dt.date | None = None,
                         user_id: int | None = None, ids: Iterable[int] | None = None,
                         updated_after: dt.datetime | None = None, sort_by: str | None = None) -> list[Employment]:
        id_set = set(ids) if ids is not None else None
        result = []
        for employment in self.employments.values():
            if user_id is not None and employment.user_id != user_id:
                continue
            if id_set is not None and employment.id not in id_set:
                continue
            if updated_after and not employment.updated_at > updated_after:
                continue
            if from_ and employment.to is not None and employment.to < from_:
                continue
            if to and employment.from_ > to:
                continue
            result.append(employment)
        return _sorted(result, sort_by, _employment_sort_value)

    def _assign_employment(self, employment: Employment, data: dict[str, Any], creating: bool) -> bool:
        errors: list[str] = []
        changes: dict[str, Any] = {}
        if creating or "user_id" in data:
            user_id = _integer(data.get("user_id"))
            if data.get("user_id") in (None, ""):
                errors.append("user_id can't be blank")
            elif user_id not in self.users:
                errors.append("user_id is invalid: no such user")
            changes["user_id"] = user_id
        if creating or "pattern" in data:
            pattern = _pattern(data.get("pattern"), errors)
            if pattern:
                changes["am"], changes["pm"] = pattern
        for name, target in (("from", "from_"), ("to", "to")):
            if name in data:
                text = _date_text(data[name], name, errors)
                if text is None and name == "from":
                    errors.append("from can't be blank")
                changes[target] = dt.date.fromisoformat(text) if text else None
        start = changes.get("from_", employment.from_)
        end = changes.get("to", employment.to)
        if start and end and end < start:
            errors.append("to must be on or after from")
        if errors:
            raise RecordInvalid(*errors)
        changed = False
        for name, value in changes.items():
            if getattr(employment, name) != value:
                setattr(employment, name, value)
                changed = True
        return changed

    # -- reports and session
    def performance_report(self, user_id: int, year: int) -> dict[str, Any]:
        """Target hours from the user's employments; tracked/billable hours invented, deterministically."""
        self.get_user(user_id)
        employments = [e for e in self.employments.values() if e.user_id == user_id]
        today = self._now().date()
        holidays = {dt.date(year, month, day) for month, day in PUBLIC_HOLIDAYS}
        employment_hours = target_until_today = 0.0
        monthly = []
        for month in range(1, 13):
            target = tracked_target = 0.0
            for day_number in range(1, calendar.monthrange(year, month)[1] + 1):
                day = dt.date(year, month, day_number)
                if day.weekday() > 4:
                    continue
                hours = next((e.am[day.weekday()] + e.pm[day.weekday()]
                              for e in employments if e.covers(day)), 0.0)
                employment_hours += hours
                if day in holidays:
                    continue
                target += hours
                if day <= today:
                    tracked_target += hours
                    target_until_today += hours
            rnd = random.Random(user_id * 10007 + year * 13 + month)
            tracked = round(tracked_target * (0.85 + rnd.random() * 0.25), 2)
            billable = round(tracked * (0.5 + rnd.random() * 0.4), 2)
            monthly.append({"year": year, "month": month, "target_hours": round(target, 2),
                            "hours_tracked_total": tracked, "variation": round(tracked - target, 2),
                            "hours_billable_total": billable})
        target_total = sum(m["target_hours"] for m in monthly)
        tracked_total = sum(m["hours_tracked_total"] for m in monthly)
        annually = {"year": year, "employment_hours": round(employment_hours, 2),
                    "target_hours": round(target_total, 2), "hours_tracked_total": round(tracked_total, 2),
                    "variation": round(tracked_total - target_total, 2),
                    "variation_until_today": round(tracked_total - target_until_today, 2),
                    "hours_billable_total": round(sum(m["hours_billable_total"] for m in monthly), 2)}
        return {"annually": annually, "monthly": monthly}

    # -- representations (MOCO's read shapes)
    def render_user(self, user: User) -> dict[str, Any]:
        unit = self.units.get(user.unit_id)
        role = self.roles.get(user.role_id) if user.role_id is not None else None
        avatar_url = f"{self.origin}/system/avatars/{user.id}/{user.avatar_filename}" \
            if user.avatar_filename else None
        return {"id": user.id, "firstname": user.firstname, "lastname": user.lastname, "active": user.active,
                "extern": user.extern, "email": user.email, "mobile_phone": user.mobile_phone,
                "work_phone": user.work_phone, "home_address": user.home_address, "info": user.info,
                "birthday": user.birthday, "iban": user.iban, "avatar_url": avatar_url,
                "tags": list(user.tags), "custom_properties": dict(user.custom_properties),
                "unit": {"id": unit.id, "name": unit.name} if unit else None,
                "role": {"id": role.id, "name": role.name} if role else None,
                "created_at": timestamp(user.created_at), "updated_at": timestamp(user.updated_at)}

    def render_unit(self, unit: Unit, members: Sequence[User]) -> dict[str, Any]:
        return {"id": unit.id, "name": unit.name, "custom_properties": {},
                "users": [{"id": u.id, "firstname": u.firstname, "lastname": u.lastname, "email": u.email}
                          for u in members],
                "created_at": timestamp(unit.created_at), "updated_at": timestamp(unit.updated_at)}

    def render_employment(self, employment: Employment) -> dict[str, Any]:
        user = self.users.get(employment.user_id)
        return {"id": employment.id, "weekly_target_hours": employment.weekly_target_hours,
                "pattern": {"am": [float(h) for h in employment.am], "pm": [float(h) for h in employment.pm]},
                "from": employment.from_.isoformat(),
                "to": employment.to.isoformat() if employment.to else None,
                "user": {"id": user.id, "firstname": user.firstname, "lastname": user.lastname} if user else None,
                "created_at": timestamp(employment.created_at), "updated_at": timestamp(employment.updated_at)}

    @staticmethod
    def render_role(role: Role) -> dict[str, Any]:
        return {"id": role.id, "name": role.name, "is_default": role.is_default, "is_admin": role.is_admin,
                "permission": dict(role.permission)}


# ---------------------------------------------------------------------------------- value handling

def _text(value: Any, name: str, errors: list[str]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # Rails casts numbers assigned to string columns
    errors.append(f"{name} must be a string")
    return None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _boolean(value: Any) -> bool:
    """Rails' boolean cast: a short list of false-ish values, everything else true."""
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_STRINGS
    return bool(value)


def _date_text(value: Any, name: str, errors: list[str]) -> str | None:
    if value in (None, ""):
        return None
    try:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        errors.append(f"{name} is not a valid date (YYYY-MM-DD)")
        return None


def _valid_iban(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def _avatar_filename(avatar: Any, errors: list[str]) -> str | None:
    if not isinstance(avatar, dict) or not isinstance(avatar.get("filename"), str) \
            or not isinstance(avatar.get("base64"), str):
        errors.append("avatar must be an object with filename and base64")
        return None
    try:
        base64.b64decode(avatar["base64"], validate=True)
    except (binascii.Error, ValueError):
        errors.append("avatar base64 is not valid base64")
        return None
    return avatar["filename"]


def _pattern(value: Any, errors: list[str]) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    if value is None:
        errors.append("pattern can't be blank")
        return None
    try:
        halves = tuple(tuple(float(h) for h in value[half]) for half in ("am", "pm"))
    except (TypeError, KeyError, ValueError):
        halves = ()
    if len(halves) != 2 or any(len(h) != 5 or min(h) < 0 for h in halves):
        errors.append("pattern is invalid: needs am and pm, five non-negative hours each (Mon-Fri)")
        return None
    return halves[0], halves[1]


def _custom_matches(stored: Any, wanted: list[str]) -> bool:
    if stored is None:
        return False
    if isinstance(stored, list):
        have = {str(v) for v in stored}
        return all(w in have for w in wanted)
    text = str(stored).lower() if isinstance(stored, bool) else str(stored)
    return all(w == text for w in wanted)


def _plain_sort_value(record: Any, name: str) -> Any:
    return getattr(record, name)


def _employment_sort_value(employment: Employment, name: str) -> Any:
    if name == "weekly_target_hours":
        return employment.weekly_target_hours
    if name == "user_id":
        return employment.user_id
    return getattr(employment, {"from": "from_"}.get(name, name))


def _sorted(records: list[Any], sort_by: str | None, value: Callable[[Any, str], Any]) -> list[Any]:
    """`sort_by=field [asc|desc]`; nulls last when ascending (as PostgreSQL); unknown fields ignored."""
    if not sort_by or not sort_by.split():
        return records
    parts = sort_by.split()
    name, descending = parts[0], len(parts) > 1 and parts[1].lower() == "desc"
    if not records:
        return records
    try:
        value(records[0], name)
    except AttributeError:
        return records
    if name == "id":
        return sorted(records, key=lambda r: r.id, reverse=descending)

    def key(record: Any) -> tuple[Any, ...]:
        v = value(record, name)
        return (v is None, v if v is not None else "", record.id)
    ordered = sorted(records, key=key)
    return ordered[::-1] if descending else ordered


# ---------------------------------------------------------------------------------------------- HTTP

class MocoSandbox(Sandbox):
    """MOCO's users API on loopback: `with MocoSandbox(seed_people=250) as sb: requests.get(sb.url + "/users")`."""

    name = "moco"
    url_prefix = "/api/v1"

    def __init__(self, port: int = 0, seed_people: int = 50, api_key: str = "sandbox-key",
                 rate_limit: int | None = None, rate_window: float = 120.0, retry_after: bool = False,
                 per_page: int = 100, lowercase_headers: bool = False) -> None:
        super().__init__(port=port, rate_limit=rate_limit, rate_window=rate_window, retry_after=retry_after)
        self.seed_people = seed_people
        self.backend = MocoBackend(seed_people)
        self.api_key = api_key
        self.per_page = per_page
        self.lowercase_headers = lowercase_headers
        self._list_cache: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()
        self._add_routes()

    def start(self) -> "MocoSandbox":
        super().start()
        self.backend.origin = self.root
        return self

    def reset(self, seed_people: int | None = None) -> None:
        """Fresh state without restarting the server: a new backend, no faults, empty request log.

        Lets a test suite share one running sandbox; attributes a test changed (`per_page`,
        `lowercase_headers`, `rate_limit`) are its own to restore."""
        with self._lock:
            self.backend = MocoBackend(self.seed_people if seed_people is None else seed_people)
            self.backend.origin = self.root
            self._list_cache.clear()
            self.faults.clear()
            self.faults.injected.clear()
            self.requests.clear()

    def _add_routes(self) -> None:
        num = r"(?P<id>\d+)(?:\.json)?"
        table: list[tuple[str, str, Callable[[Request], Response]]] = [
            ("GET", r"/session(?:\.json)?", self._session),
            ("GET", r"/users/roles(?:\.json)?", self._list_roles),
            ("GET", r"/users/employments(?:\.json)?", self._list_employments),
            ("POST", r"/users/employments(?:\.json)?", self._create_employment),
            ("GET", rf"/users/employments/{num}", self._get_employment),
            ("PUT", rf"/users/employments/{num}", self._update_employment),
            ("PATCH", rf"/users/employments/{num}", self._update_employment),
            ("DELETE", rf"/users/employments/{num}", self._delete_employment),
            ("GET", r"/users(?:\.json)?", self._list_users),
            ("POST", r"/users(?:\.json)?", self._create_user),
            ("GET", r"/users/(?P<id>\d+)/performance_report(?:\.json)?", self._performance_report),
            ("GET", rf"/users/{num}", self._get_user),
            ("PUT", rf"/users/{num}", self._update_user),
            ("PATCH", rf"/users/{num}", self._update_user),
            ("DELETE", rf"/users/{num}", self._delete_user),
            ("GET", r"/units(?:\.json)?", self._list_units),
            ("POST", r"/units(?:\.json)?", self._create_unit),
            ("GET", rf"/units/{num}", self._get_unit),
            ("PUT", rf"/units/{num}", self._update_unit),
            ("PATCH", rf"/units/{num}", self._update_unit),
            ("DELETE", rf"/units/{num}", self._delete_unit),
        ]
        for method, pattern, handler in table:
            self.routes.add(method, pattern, self._guarded(handler))

    def _guarded(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """Turn backend refusals into MOCO's answers."""
        def run(request: Request) -> Response:
            try:
                return handler(request)
            except RecordNotFound:
                return self._json({"message": "Record not found"}, 404)
            except RecordInvalid as exc:
                return self._json({"message": str(exc)}, 422)
            except _Refusal as refusal:
                return refusal.response
        return run

    # -- vendor answers
    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        response = json_response(body, status, **(headers or {}))
        if self.lowercase_headers:
            response.headers = {k.lower(): v for k, v in response.headers.items()}
        return response

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "").strip()
        token = re.fullmatch(r'Token\s+token="?([^"]*)"?|Bearer\s+(\S+)', header)
        if token and (token.group(1) or token.group(2)) == self.api_key:
            return None
        return self._json({"message": "Unauthorized: missing or invalid API key"}, 401)

    def too_many_requests(self, headers: dict[str, str]) -> Response:
        return self._json({"message": "Too Many Requests"}, 429, headers)

    def not_found(self, request: Request) -> Response:
        return self._json({"message": "Not Found"}, 404)

    def method_not_allowed(self, request: Request) -> Response:
        return self.not_found(request)  # Rails: an unrouted method is a routing error, 404

    def bad_request(self, request: Request, message: str) -> Response:
        return self._json({"message": message}, 400)

    # -- request helpers
    def _body(self, request: Request) -> dict[str, Any]:
        """The JSON object of a POST/PUT; raises _Refusal when MOCO would not accept it."""
        if not request.body:
            return {}
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise _Refusal(self._json({"message": "Content-Type must be application/json"}, 415))
        data = request.json()
        if not isinstance(data, dict):
            raise _Refusal(self._json({"message": "request body must be a JSON object"}, 400))
        return data

    def _paginate(self, request: Request, records: Sequence[Any], render: Callable[[Any], Any]) -> Response:
        page = _integer(request.arg("page")) or 1
        per_page = self.per_page
        chunk = records[(page - 1) * per_page: page * per_page]
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(records))}
        if page * per_page < len(records):
            headers["Link"] = f'<{self._page_url(request, page + 1)}>; rel="next"'
        return self._json([render(record) for record in chunk], 200, headers)

    def _page_url(self, request: Request, page: int) -> str:
        host = request.headers.get("host") or f"127.0.0.1:{self.port}"
        path = request.path if request.path.endswith(".json") else request.path + ".json"
        params = [(k, v) for k, values in request.query.items() if k != "page" for v in values]
        return f"http://{host}{path}?{urlencode(params + [('page', page)])}"

    def _cached(self, request: Request, compute: Callable[[], list[Any]]) -> list[Any]:
        """The full filtered list for this query, reused while the backend is unchanged (paging)."""
        path = request.path.removesuffix(".json")
        query = tuple(sorted((k, tuple(v)) for k, v in request.query.items() if k != "page"))
        key = (path, query, self.backend.serial, self.backend.version)
        if key in self._list_cache:
            self._list_cache.move_to_end(key)
            return self._list_cache[key]
        records = self._list_cache[key] = compute()
        while len(self._list_cache) > 16:
            self._list_cache.popitem(last=False)
        return records

    # -- handlers
    def _session(self, request: Request) -> Response:
        return self._json({"id": KEY_HOLDER_ID, "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.api_key))})

    def _list_users(self, request: Request) -> Response:
        filters = _global_filters(request)
        props = _custom_property_filters(request)
        email = request.arg("email")
        tags = (request.arg("tags") or "").split(",")
        include_archived = _boolean(request.arg("include_archived") or "false")
        users = self._cached(request, lambda: self.backend.find_users(
            include_archived=include_archived, tags=tags, email=email, custom_properties=props, **filters))
        return self._paginate(request, users, self.backend.render_user)

    def _get_user(self, request: Request) -> Response:
        return self._json(self.backend.render_user(self.backend.get_user(int(request.params["id"]))))

    def _create_user(self, request: Request) -> Response:
        user = self.backend.create_user(self._body(request))
        return self._json(self.backend.render_user(user))  # 200, not 201, as recorded

    def _update_user(self, request: Request) -> Response:
        user = self.backend.update_user(int(request.params["id"]), self._body(request))
        return self._json(self.backend.render_user(user))

    def _delete_user(self, request: Request) -> Response:
        self.backend.delete_user(int(request.params["id"]))
        return Response(204)

    def _performance_report(self, request: Request) -> Response:
        user_id = int(request.params["id"])
        year_text = (request.arg("year") or "").strip()
        if year_text and not (year_text.isdigit() and 1900 <= int(year_text) <= 2999):
            return self._json({"message": "year is invalid"}, 422)
        year = int(year_text) if year_text else self.backend.clock().year
        return self._json(self.backend.performance_report(user_id, year))

    def _list_roles(self, request: Request) -> Response:
        roles = sorted(self.backend.roles.values(), key=lambda r: r.id)
        return self._paginate(request, roles, self.backend.render_role)

    def _list_units(self, request: Request) -> Response:
        units = self._cached(request, lambda: self.backend.find_units(**_global_filters(request)))
        members = self.backend.unit_members()
        return self._paginate(request, units, lambda unit: self.backend.render_unit(unit, members[unit.id]))

    def _get_unit(self, request: Request) -> Response:
        unit = self.backend.get_unit(int(request.params["id"]))
        return self._json(self.backend.render_unit(unit, self.backend.unit_members()[unit.id]))

    def _create_unit(self, request: Request) -> Response:
        unit = self.backend.create_unit(self._body(request))
        return self._json(self.backend.render_unit(unit, []))

    def _update_unit(self, request: Request) -> Response:
        unit = self.backend.update_unit(int(request.params["id"]), self._body(request))
        return self._json(self.backend.render_unit(unit, self.backend.unit_members()[unit.id]))

    def _delete_unit(self, request: Request) -> Response:
        self.backend.delete_unit(int(request.params["id"]))
        return Response(204)

    def _list_employments(self, request: Request) -> Response:
        errors: list[str] = []
        start, end = (_date_text(request.arg(name), name, errors) for name in ("from", "to"))
        user_id = request.arg("user_id")
        if user_id and _integer(user_id) is None:
            errors.append("user_id is invalid")
        if errors:
            raise RecordInvalid(*errors)
        employments = self._cached(request, lambda: self.backend.find_employments(
            from_=dt.date.fromisoformat(start) if start else None,
            to=dt.date.fromisoformat(end) if end else None,
            user_id=_integer(user_id) if user_id else None, **_global_filters(request)))
        return self._paginate(request, employments, self.backend.render_employment)

    def _get_employment(self, request: Request) -> Response:
        employment = self.backend.get_employment(int(request.params["id"]))
        return self._json(self.backend.render_employment(employment))

    def _create_employment(self, request: Request) -> Response:
        employment = self.backend.create_employment(self._body(request))
        return self._json(self.backend.render_employment(employment))  # 200, as recorded

    def _update_employment(self, request: Request) -> Response:
        employment = self.backend.update_employment(int(request.params["id"]), self._body(request))
        return self._json(self.backend.render_employment(employment))

    def _delete_employment(self, request: Request) -> Response:
        self.backend.delete_employment(int(request.params["id"]))
        return Response(204)


class _Refusal(Exception):
    """A request MOCO refuses before looking at its fields (wrong content type, not a JSON object)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.body)
        self.response = response


def _global_filters(request: Request) -> dict[str, Any]:
    """MOCO's filters on every list endpoint: `ids`, `updated_after`, `sort_by`."""
    filters: dict[str, Any] = {"sort_by": request.arg("sort_by")}
    ids = request.arg("ids")
    if ids is not None:
        filters["ids"] = [int(part) for part in ids.split(",") if part.strip().isdigit()]
    updated_after = request.arg("updated_after")
    if updated_after:
        try:
            moment = dt.datetime.fromisoformat(updated_after.strip())
        except ValueError:
            raise RecordInvalid("updated_after is not a valid ISO 8601 timestamp") from None
        filters["updated_after"] = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return filters


def _custom_property_filters(request: Request) -> dict[str, list[str]]:
    """`custom_properties[Name]=v` (last one wins, as Rails) and `custom_properties[Name][]=a` (all)."""
    wanted: dict[str, list[str]] = {}
    for key, values in request.query.items():
        found = re.fullmatch(r"custom_properties\[(.+?)\](\[\])?", key)
        if found:
            wanted[found.group(1)] = list(values) if found.group(2) else values[-1:]
    return wanted


__all__ = ["Employment", "MocoBackend", "MocoSandbox", "RecordInvalid", "RecordNotFound", "Role", "Unit",
           "User"]
