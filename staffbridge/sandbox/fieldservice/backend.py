"""The users of one field-service company, as the vendor's database would hold them.

Plain data, no HTTP: documents in, documents out (a document store's records are its documents);
routes.py encodes them and turns ValidationFailed / UserNotFound into NestJS answers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
import uuid
from typing import Any

from staffbridge.sandbox.fieldservice.schema import USER_SCHEMA, clean, iso_utc
from staffbridge.sandbox.people import gc_paused, sample_person

COMPANY_ID = "64f1a2b3c4d5e6f708192a3b"
API_USER_ID = "64f1a2b3c4d5e6f708192a3c"  # who `status.createdBy` names for changes made with the key
ACCESS_GROUPS = {"Mitarbeiter": "worker", "Entwickler": "service", "Teamleitung": "teamlead", "Administrator": "admin"}
FIRST_LOGIN_ID = 36920
EPOCH = dt.datetime(1970, 1, 1)


def deep_merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    """PATCH semantics: nested objects merge key by key; arrays, scalars and null replace."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = value


class ValidationFailed(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class UserNotFound(LookupError):
    pass


class FieldServiceBackend:
    """The users of one company, as the vendor's database would hold them; no HTTP here."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}  # _id -> document, in `number` order
        self._passwords: dict[str, str] = {}  # kept apart: never part of a document, never returned
        self._emails: dict[str, str] = {}  # lower-cased access.email -> _id, for uniqueness
        self._email_of: dict[str, str] = {}  # and back, so a changed email frees the old one
        self._next_number = 1
        self._id_counter = itertools.count(1)
        self._last_millis = 0

    # -- queries
    def get(self, user_id: str) -> dict[str, Any]:
        try:
            return self.users[user_id.lower()]
        except KeyError:
            raise UserNotFound(user_id) from None

    def list(self) -> list[dict[str, Any]]:
        return list(self.users.values())

    def check_password(self, user_id: str, password: str) -> bool:
        return self._passwords.get(user_id.lower()) == password

    # -- changes
    def create(self, body: Any) -> str:
        fields, password = self._validated(body, user_id=None)
        now = self._now()
        user_id = self._new_object_id()
        access = fields.pop("access", None) or {}
        user = {
            "_id": user_id,
            "number": self._next_number,
            "companyId": COMPANY_ID,
            "status": {
                "status": 1,
                "createdAt": now,
                "createdBy": API_USER_ID,
                "lastModifiedAt": now,
                "lastModifiedBy": API_USER_ID,
            },
            "chatId": None,
            **fields,
            "access": {**access, "token": str(uuid.uuid4()), "loginTries": 0},
            "implementation": {
                "hasJob": bool(fields.get("jobs")),
                "hasTimeTracking": False,
                "isSuccessfullyImplemented": False,
                "lastTimeActive": None,
            },
            "analytics": {"createdProfile": now},
        }
        self._store(user, password)
        return user_id

    def update(self, user_id: str, body: Any, replace: bool = False) -> dict[str, Any]:
        user = self.get(user_id)
        fields, password = self._validated(body, user_id=user["_id"])
        if replace:
            kept = {key: user[key] for key in ("_id", "number", "companyId", "status", "chatId")}
            access = {
                **(fields.pop("access", None) or {}),
                "token": user["access"]["token"],
                "loginTries": user["access"]["loginTries"],
            }
            server_tail: dict[str, Any] = {key: user[key] for key in ("implementation", "analytics") if key in user}
            user.clear()
            user.update({**kept, **fields, "access": access, **server_tail})
        else:
            token, tries = user["access"]["token"], user["access"]["loginTries"]
            deep_merge(user, fields)
            if not isinstance(user.get("access"), dict):  # `"access": null` cannot drop server-owned keys
                user["access"] = {"token": token, "loginTries": tries}
        user["status"]["lastModifiedAt"] = self._now()
        user["status"]["lastModifiedBy"] = API_USER_ID
        self._reindex_email(user)
        if password is not None:
            self._passwords[user["_id"]] = password
        return user

    def delete(self, user_id: str) -> dict[str, Any]:
        user = self.get(user_id)
        del self.users[user["_id"]]
        self._passwords.pop(user["_id"], None)
        self._drop_email(user["_id"])
        return user

    def seed(self, count: int, start: int = 0) -> None:
        """Add sample people `start` .. `start + count - 1` (people.py), fast enough for 100,000."""
        with gc_paused():
            self._seed(count, start)

    def _seed(self, count: int, start: int) -> None:
        users, emails, email_of = self.users, self._emails, self._email_of
        for n in range(start, start + count):
            person = sample_person(n)  # one at a time: a list of 100,000 would double the peak memory
            user_id, email, birthday = f"65000000{n:016x}", person.email, person.birthday
            created = f"{person.employment_start.isoformat()}T08:00:00.000Z"
            general = {
                "firstName": person.first_name,
                "lastName": person.last_name,
                "birthDate": f"{birthday.day:02d}.{birthday.month:02d}.{birthday.year}",
                "language": person.language,
            }
            if person.notes:
                general["description"] = person.notes
            users[user_id] = {
                "_id": user_id,
                "number": int(person.employee_number[1:]),
                "companyId": COMPANY_ID,
                "status": {
                    "status": 1 if person.active else 0,
                    "createdAt": created,
                    "createdBy": API_USER_ID,
                    "lastModifiedAt": created,
                    "lastModifiedBy": API_USER_ID,
                },
                "chatId": None,
                "id": str(FIRST_LOGIN_ID + n) if n % 2 == 0 else FIRST_LOGIN_ID + n,
                "general": general,
                "access": {
                    "dashboardAccess": person.role in ("Teamleitung", "Administrator"),
                    "webAccess": "1",
                    "token": f"{n:08x}-0000-4000-8000-{n:012x}",
                    "email": email,
                    "loginTries": 0,
                },
                "contract": {
                    "startDate": f"{person.employment_start.isoformat()}T00:00:00Z",
                    "department": person.department,
                },
                "contact": {"telephone": person.work_phone, "mobile": person.mobile_phone},
                "address": {"street": person.street, "zip": person.zip, "city": person.city, "country": person.country},
                "accessGroupId": ACCESS_GROUPS.get(person.role, "worker"),
                "tags": list(person.tags) or None,
            }
            emails[email.lower()], email_of[user_id] = user_id, email.lower()
        if count:
            self._next_number = max(self._next_number, start + count + 1)

    # -- internals
    def _validated(self, body: Any, user_id: str | None) -> tuple[dict[str, Any], str | None]:
        """The cleaned fields and the password apart, or ValidationFailed with every problem found."""
        problems: list[str] = []
        if not isinstance(body, dict):
            raise ValidationFailed(["body must be an object"])
        fields = clean(body, USER_SCHEMA, "", problems)
        email = (fields.get("access") or {}).get("email")
        if isinstance(email, str) and self._emails.get(email.lower(), user_id) != user_id:
            problems.append("access.email already exists")
        if problems:
            raise ValidationFailed(problems)
        password = None
        if isinstance(fields.get("access"), dict):
            password = fields["access"].pop("password", None)
        return fields, password

    def _store(self, user: dict[str, Any], password: str | None) -> None:
        self.users[user["_id"]] = user
        self._next_number = max(self._next_number, user["number"] + 1)
        self._reindex_email(user)
        if password is not None:
            self._passwords[user["_id"]] = password

    def _reindex_email(self, user: dict[str, Any]) -> None:
        self._drop_email(user["_id"])
        email = (user.get("access") or {}).get("email")
        if isinstance(email, str):
            self._emails[email.lower()] = user["_id"]
            self._email_of[user["_id"]] = email.lower()

    def _drop_email(self, user_id: str) -> None:
        email = self._email_of.pop(user_id, None)
        if email is not None:
            del self._emails[email]

    def _new_object_id(self) -> str:
        # timestamp + fixed "machine" part + counter, like a real ObjectId; never collides with seeds
        return f"{int(time.time()):08x}a1b2c3d4e5{next(self._id_counter):06x}"

    def _now(self) -> str:
        """UTC now with milliseconds, strictly increasing so every update visibly bumps the stamp."""
        millis = max(int(time.time() * 1000), self._last_millis + 1)
        self._last_millis = millis
        return iso_utc(EPOCH + dt.timedelta(milliseconds=millis))
