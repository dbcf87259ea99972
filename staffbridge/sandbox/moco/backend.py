"""MOCO's staff state and rules: users, units (teams), permission roles, employments, billed hours.

Plain data, no HTTP and no JSON: the routes (routes.py) parse requests, call these methods and render
what they return. Every change bumps `version`, which the routes' list cache keys on.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from staffbridge.sandbox.moco.records import (
    EMPLOYMENT_ID_BASE,
    LANGUAGES,
    ROLE_ID_BASE,
    TEXT_FIELDS,
    UNIT_ID_BASE,
    USER_ID_BASE,
    Employment,
    RecordInvalid,
    RecordNotFound,
    Role,
    Unit,
    User,
    permissions_of,
)
from staffbridge.sandbox.moco.values import (
    EMAIL_PATTERN,
    as_boolean,
    as_integer,
    as_text,
    avatar_filename,
    custom_matches,
    date_text,
    employment_sort_value,
    plain_sort_value,
    sorted_by,
    valid_iban,
    work_pattern,
)
from staffbridge.sandbox.people import DEPARTMENTS, ROLES, SamplePerson, gc_paused, sample_people

PUBLIC_HOLIDAYS = ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26))
FULL_TIME = (4.0, 4.0, 4.0, 4.0, 4.0)
NO_TIME = (0.0, 0.0, 0.0, 0.0, 0.0)
SEED_UNITS_CREATED = dt.datetime(2010, 1, 4, 8, 0, tzinfo=dt.UTC)
_BACKEND_SERIALS = itertools.count(1)  # tells list caches one backend from its replacement


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class MocoBackend:
    """MOCO's staff state: users, units (teams), permission roles, employments, billed-hours flags.

    `clock` returns the current UTC time (tests may replace it)."""

    def __init__(self, seed_people: int = 0, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.clock = clock
        self.users: dict[int, User] = {}
        self.units: dict[int, Unit] = {}
        self.roles: dict[int, Role] = {}
        self.employments: dict[int, Employment] = {}
        self.billed: set[int] = set()  # user ids with billed hours: they cannot be deleted
        self.custom_fields: set[str] = set()  # names of the account's user custom fields
        self.version = 0  # bumped on every change; list caches key on it
        self.serial = next(_BACKEND_SERIALS)
        self._emails: dict[str, int] = {}
        # told of every user created, changed or deleted: (event, user); the routes send web hooks
        self.listeners: list[Callable[[str, User], None]] = []
        self._next_user_id = USER_ID_BASE
        self._next_unit_id = UNIT_ID_BASE
        self._next_employment_id = EMPLOYMENT_ID_BASE
        for index, name in enumerate(ROLES):
            role_id = ROLE_ID_BASE + index
            self.roles[role_id] = Role(
                role_id, name, name == "Mitarbeiter", name == "Administrator", permissions_of(name, role_id)
            )
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
                created = created_on[start] = dt.datetime(
                    start.year, start.month, start.day, 8, 0, tzinfo=dt.UTC
                ) - dt.timedelta(days=14)
            user_id = USER_ID_BASE + person.number
            email = person.email.lower()
            users[user_id] = User(
                id=user_id,
                firstname=person.first_name,
                lastname=person.last_name,
                email=email,
                unit_id=unit_ids[person.department],
                role_id=role_ids.get(person.role),
                created_at=created,
                updated_at=created,
                active=person.active,
                extern=person.external,
                mobile_phone=person.mobile_phone,
                work_phone=person.work_phone,
                home_address=person.address_lines,
                info=person.notes,
                birthday=person.birthday.isoformat(),
                tags=list(person.tags),
                custom_properties={"Personalnummer": person.employee_number},
                language=person.language if person.language in LANGUAGES else "de",
            )
            emails[email] = user_id
            employment_id = EMPLOYMENT_ID_BASE + person.number
            afternoons = NO_TIME if "Teilzeit" in person.tags else FULL_TIME
            employments[employment_id] = Employment(
                employment_id, user_id, FULL_TIME, afternoons, start, None, created, created
            )
            last_number = max(last_number, person.number)
        self._next_user_id = max(self._next_user_id, USER_ID_BASE + last_number + 1)
        self._next_employment_id = max(self._next_employment_id, EMPLOYMENT_ID_BASE + last_number + 1)
        self.custom_fields.add("Personalnummer")
        self.version += 1

    def _now(self) -> dt.datetime:
        return self.clock().astimezone(dt.UTC).replace(microsecond=0)

    # -- users
    def get_user(self, user_id: int) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise RecordNotFound(f"user {user_id} not found") from None

    def create_user(self, data: dict[str, Any]) -> User:
        now = self._now()
        user = User(id=0, firstname="", lastname="", email="", unit_id=0, role_id=None, created_at=now, updated_at=now)
        default_role = next((r.id for r in self.roles.values() if r.is_default), None)
        self._assign_user(user, {"role_id": default_role, **data}, creating=True)
        user.id = self._next_user_id
        self._next_user_id += 1
        self.users[user.id] = user
        self._emails[user.email] = user.id
        self.version += 1
        self._tell("create", user)
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
            self._tell("update", user)
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
        self._tell("delete", user)

    def _tell(self, event: str, user: User) -> None:
        for listener in self.listeners:
            listener(event, user)

    def mark_billed(self, user_id: int, billed: bool = True) -> None:
        """Record that (no longer) some of this user's hours are billed; billed users cannot be deleted."""
        self.get_user(user_id)
        (self.billed.add if billed else self.billed.discard)(user_id)

    def find_users(
        self,
        *,
        include_archived: bool = False,
        tags: Sequence[str] = (),
        email: str | None = None,
        ids: Iterable[int] | None = None,
        updated_after: dt.datetime | None = None,
        custom_properties: dict[str, list[str]] | None = None,
        sort_by: str | None = None,
    ) -> list[User]:
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
            if custom_properties and not all(
                custom_matches(user.custom_properties.get(name), values) for name, values in custom_properties.items()
            ):
                continue
            result.append(user)
        return sorted_by(result, sort_by, self._user_sort_value)

    def _user_sort_value(self, user: User, name: str) -> Any:
        if name == "unit":
            return self.units[user.unit_id].name if user.unit_id in self.units else None
        if name == "role":
            return self.roles[user.role_id].name if user.role_id in self.roles else None
        if name in (
            "id",
            "firstname",
            "lastname",
            "active",
            "extern",
            "email",
            "birthday",
            "created_at",
            "updated_at",
            *TEXT_FIELDS,
        ):
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
                value = as_text(data.get(name), name, errors)
                if not (value or "").strip():
                    errors.append(f"{name} can't be blank")
                changes[name] = value
        if present("email"):
            value = (as_text(data.get("email"), "email", errors) or "").strip().lower()
            if not value:
                errors.append("email can't be blank")
            elif not EMAIL_PATTERN.match(value):
                errors.append("email is invalid")
            elif self._emails.get(value, user.id) != user.id:
                errors.append("email has already been taken")
            changes["email"] = value
        if present("unit_id"):
            unit_id = as_integer(data.get("unit_id"))
            if data.get("unit_id") in (None, ""):
                errors.append("unit_id can't be blank")
            elif unit_id not in self.units:
                errors.append("unit_id is invalid: no such unit")
            changes["unit_id"] = unit_id
        if "role_id" in data and data["role_id"] not in (None, ""):
            role_id = as_integer(data["role_id"])
            if role_id not in self.roles:
                errors.append("role_id is invalid: no such role")
            changes["role_id"] = role_id
        for name, target in (("active", "active"), ("external", "extern"), ("welcome_email", "welcome_email")):
            if data.get(name) is not None:
                changes[target] = as_boolean(data[name])
        if "language" in data and data["language"] is not None:
            if data["language"] not in LANGUAGES:
                errors.append(f"language is not included in the list ({', '.join(LANGUAGES)})")
            changes["language"] = data["language"]
        for name in TEXT_FIELDS:
            if name in data:
                changes[name] = as_text(data[name], name, errors) or ""
        if changes.get("iban") and not valid_iban(changes["iban"]):
            errors.append("iban is invalid")
        if "password" in data:
            changes["password"] = as_text(data["password"], "password", errors)
        if "bday" in data:
            changes["birthday"] = date_text(data["bday"], "bday", errors)
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
            changes["avatar_filename"] = avatar_filename(data["avatar"], errors)
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
        name = as_text(data.get("name"), "name", errors)
        if not errors and not (name or "").strip():
            errors.append("name can't be blank")
        if errors:
            raise RecordInvalid(*errors)
        return self.add_unit(str(name).strip())

    def update_unit(self, unit_id: int, data: dict[str, Any]) -> Unit:
        unit = self.get_unit(unit_id)
        if "name" in data:
            errors: list[str] = []
            name = as_text(data["name"], "name", errors)
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

    def find_units(
        self, *, ids: Iterable[int] | None = None, updated_after: dt.datetime | None = None, sort_by: str | None = None
    ) -> list[Unit]:
        id_set = set(ids) if ids is not None else None
        result = [
            u
            for u in self.units.values()
            if (id_set is None or u.id in id_set) and (updated_after is None or u.updated_at > updated_after)
        ]
        return sorted_by(result, sort_by, plain_sort_value)

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

    def find_employments(
        self,
        *,
        from_: dt.date | None = None,
        to: dt.date | None = None,
        user_id: int | None = None,
        ids: Iterable[int] | None = None,
        updated_after: dt.datetime | None = None,
        sort_by: str | None = None,
    ) -> list[Employment]:
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
        return sorted_by(result, sort_by, employment_sort_value)

    def _assign_employment(self, employment: Employment, data: dict[str, Any], creating: bool) -> bool:
        errors: list[str] = []
        changes: dict[str, Any] = {}
        if creating or "user_id" in data:
            user_id = as_integer(data.get("user_id"))
            if data.get("user_id") in (None, ""):
                errors.append("user_id can't be blank")
            elif user_id not in self.users:
                errors.append("user_id is invalid: no such user")
            changes["user_id"] = user_id
        if creating or "pattern" in data:
            pattern = work_pattern(data.get("pattern"), errors)
            if pattern:
                changes["am"], changes["pm"] = pattern
        for name, target in (("from", "from_"), ("to", "to")):
            if name in data:
                text = date_text(data[name], name, errors)
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
                hours = next((e.am[day.weekday()] + e.pm[day.weekday()] for e in employments if e.covers(day)), 0.0)
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
            monthly.append(
                {
                    "year": year,
                    "month": month,
                    "target_hours": round(target, 2),
                    "hours_tracked_total": tracked,
                    "variation": round(tracked - target, 2),
                    "hours_billable_total": billable,
                }
            )
        target_total = sum(m["target_hours"] for m in monthly)
        tracked_total = sum(m["hours_tracked_total"] for m in monthly)
        annually = {
            "year": year,
            "employment_hours": round(employment_hours, 2),
            "target_hours": round(target_total, 2),
            "hours_tracked_total": round(tracked_total, 2),
            "variation": round(tracked_total - target_total, 2),
            "variation_until_today": round(tracked_total - target_until_today, 2),
            "hours_billable_total": round(sum(m["hours_billable_total"] for m in monthly), 2),
        }
        return {"annually": annually, "monthly": monthly}
