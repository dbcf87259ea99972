"""WhosOff's write model and how it checks a request body, as (Code, Message) pairs.

Every check appends to `errors` instead of raising, so one answer names every bad field, as the
.NET model binding behind WhosOff does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

USER_TYPES = ("100", "200", "210", "220", "300", "310")
ROLE_IDS = ("0", "1", "2", "3", "4", "5", "6")
MAX_INT32 = 2_147_483_647
Errors = list[tuple[str, str]]  # (Code, Message) pairs, as the envelope's Errors array carries them


class WhosOffError(Exception):
    """A refusal in WhosOff's terms: one or more (Code, Message) pairs, answered as HTTP 400."""

    def __init__(self, *errors: tuple[str, str]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{code} {message}" for code, message in errors))


def as_int(name: str, value: Any, errors: Errors) -> int | None:
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


def as_date(name: str, value: Any, errors: Errors) -> str | None:
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
            number = as_int(self.name, value, errors)
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
            return as_date(self.name, value, errors)
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


def text_spec(name: str, required: bool = False, low: int = 0, high: int = 100) -> Spec:
    return Spec(name, "str", required, "", length=(low, high))


def enum_spec(name: str, choices: tuple[str, ...], required: bool = False, default: Any = "0") -> Spec:
    return Spec(name, "enum", required, default, choices)


def ref_spec(name: str, ref: str, required: bool = True) -> Spec:
    return Spec(name, "int", required, 0, ref=ref)


WRITE_SPECS = (
    text_spec("staff_code", high=50),
    text_spec("title", high=50),
    text_spec("first_name", True, 1),
    text_spec("middle_name"),
    text_spec("last_name", True, 1),
    enum_spec("user_type_id", USER_TYPES, True, "100"),
    enum_spec("default_view_type_id", ("1", "2"), True, "1"),
    Spec("default_view_id", "int", default=0),
    enum_spec("default_sorting_id", ("0", "1", "2", "3", "4"), default=0),
    ref_spec("department_id", "department"),
    ref_spec("region_id", "region", required=False),
    ref_spec("approver_id", "user"),
    enum_spec("approver_role_id", ROLE_IDS),
    ref_spec("notifier_2_id", "user"),
    enum_spec("notifier_2_role_id", ROLE_IDS),
    ref_spec("notifier_3_id", "user"),
    enum_spec("notifier_3_role_id", ROLE_IDS),
    text_spec("email_contact", True, 5, 255),
    text_spec("password", True, 0, 50),
    enum_spec("email_type_id", ("0", "1", "2"), True),
    enum_spec("allowance_type_id", ("0", "1"), True),
    enum_spec("status_id", ("0", "1"), default="1"),
    Spec("employment_started_date", "date", default=None),
    Spec("employment_ended_date", "date", default=None),
    text_spec("work_telephone", high=60),
    text_spec("mobile_telephone", high=30),
    text_spec("active_directory_username", high=50),
)
NOT_UPDATABLE = frozenset({"allowance_type_id"})  # not in the update model (the update sample lacks it)
