"""How MOCO (a Rails app) casts and checks the values a client sends, and how its lists sort.

Each checker appends a human-readable error naming its field to `errors` instead of raising, so a
write reports every bad field at once, as Rails validations do.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from staffbridge.sandbox.moco.records import Employment

FALSE_STRINGS = {"false", "0", "f", "off", "no", "n", ""}
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def as_text(value: Any, name: str, errors: list[str]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # Rails casts numbers assigned to string columns
    errors.append(f"{name} must be a string")
    return None


def as_integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def as_boolean(value: Any) -> bool:
    """Rails' boolean cast: a short list of false-ish values, everything else true."""
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_STRINGS
    return bool(value)


def date_text(value: Any, name: str, errors: list[str]) -> str | None:
    if value in (None, ""):
        return None
    try:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        errors.append(f"{name} is not a valid date (YYYY-MM-DD)")
        return None


def valid_iban(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def avatar_filename(avatar: Any, errors: list[str]) -> str | None:
    if (
        not isinstance(avatar, dict)
        or not isinstance(avatar.get("filename"), str)
        or not isinstance(avatar.get("base64"), str)
    ):
        errors.append("avatar must be an object with filename and base64")
        return None
    try:
        base64.b64decode(avatar["base64"], validate=True)
    except (binascii.Error, ValueError):
        errors.append("avatar base64 is not valid base64")
        return None
    return avatar["filename"]


def work_pattern(value: Any, errors: list[str]) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
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


def custom_matches(stored: Any, wanted: list[str]) -> bool:
    if stored is None:
        return False
    if isinstance(stored, list):
        have = {str(v) for v in stored}
        return all(w in have for w in wanted)
    text = str(stored).lower() if isinstance(stored, bool) else str(stored)
    return all(w == text for w in wanted)


def plain_sort_value(record: Any, name: str) -> Any:
    return getattr(record, name)


def employment_sort_value(employment: Employment, name: str) -> Any:
    if name == "weekly_target_hours":
        return employment.weekly_target_hours
    if name == "user_id":
        return employment.user_id
    return getattr(employment, {"from": "from_"}.get(name, name))


def sorted_by(records: list[Any], sort_by: str | None, value: Callable[[Any, str], Any]) -> list[Any]:
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
