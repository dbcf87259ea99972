"""MOCO's records as the backend stores them, the ids it hands out, and its two refusals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

USER_ID_BASE = 933662733  # ids of the size MOCO hands out (recordings: 933 662 733)
UNIT_ID_BASE = 909175374
ROLE_ID_BASE = 4242
PERMISSION_ID_BASE = 555
EMPLOYMENT_ID_BASE = 982237015
KEY_HOLDER_ID = 933600001  # the account key's holder, not a listed staff member

LANGUAGES = ("de", "de-AT", "de-CH", "en", "it", "fr")
TEXT_FIELDS = ("mobile_phone", "work_phone", "home_address", "info", "iban")
PERMISSION_AREAS = (
    "report",
    "companies",
    "contacts",
    "people",
    "purchases",
    "settings",
    "sales",
    "projects",
    "calendar",
    "time_tracking",
    "invoicing",
)


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


def permissions_of(role: str, role_id: int) -> dict[str, Any]:
    level = {"Administrator": "full", "Teamleitung": "full"}.get(role, "none")
    own = "full" if role != "Mitarbeiter" else "own"
    perms: dict[str, Any] = {"id": PERMISSION_ID_BASE + role_id - ROLE_ID_BASE}
    for area in PERMISSION_AREAS:
        perms[area] = own if area in ("projects", "calendar", "time_tracking") else level
    return perms
