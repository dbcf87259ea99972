"""The field-service user document: its schema and the class-validator-style checks a write passes.

A rule is a checker (path, value) -> (cleaned value, problem or None), a nested dict of rules, an
ArrayOf(rule) or SERVER_OWNED; `clean` walks a body against USER_SCHEMA and collects every problem.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}\Z")
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\Z")
BIRTH_DATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})\Z")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?\Z")
UTC_Z_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z\Z")


# A checker takes (path, value) and returns (cleaned value, problem or None).
Checker = Callable[[str, Any], tuple[Any, str | None]]
SERVER_OWNED = object()  # schema marker: dropped from client input without complaint


def _kind(test: Callable[[Any], bool], message: str) -> Checker:
    return lambda path, value: (value, None if test(value) else f"{path} {message}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


STRING = _kind(lambda v: isinstance(v, str), "must be a string")
NUMBER = _kind(_is_number, "must be a number conforming to the specified constraints")
INTEGER = _kind(lambda v: _is_number(v) and float(v).is_integer(), "must be an integer number")
BOOLEAN = _kind(lambda v: isinstance(v, bool), "must be a boolean value")
FREE_OBJECT = _kind(lambda v: isinstance(v, dict), "must be an object")
EMAIL_ADDRESS = _kind(lambda v: isinstance(v, str) and EMAIL.match(v) is not None, "must be an email")
MONGO_ID = _kind(lambda v: isinstance(v, str) and OBJECT_ID.match(v) is not None, "must be a mongodb id")
LOGIN_ID = _kind(
    lambda v: (_is_number(v) and float(v).is_integer()) or (isinstance(v, str) and v.isdigit()),
    "must be a number or a numeric string",
)


def BIRTHDATE(path: str, value: Any) -> tuple[Any, str | None]:
    found = BIRTH_DATE.match(value) if isinstance(value, str) else None
    try:
        if found:
            dt.date(int(found[3]), int(found[2]), int(found[1]))
            return value, None
    except ValueError:
        pass
    return value, f"{path} must be a valid date in the format DD.MM.YYYY"


def DATETIME(path: str, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str) and UTC_Z_DATETIME.match(value):
        return value, None
    try:
        if not (isinstance(value, str) and ISO_DATETIME.match(value)):
            raise ValueError(value)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value, f"{path} must be a valid ISO 8601 date string"
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return iso_utc(moment, with_millis=moment.microsecond != 0), None


class ArrayOf:
    def __init__(self, item: Checker | dict[str, Any]) -> None:
        self.item = item


USER_SCHEMA: dict[str, Any] = {
    "_id": SERVER_OWNED,
    "number": SERVER_OWNED,
    "companyId": SERVER_OWNED,
    "status": SERVER_OWNED,
    "chatId": SERVER_OWNED,
    "implementation": SERVER_OWNED,
    "analytics": SERVER_OWNED,
    "id": LOGIN_ID,
    "general": {
        "firstName": STRING,
        "lastName": STRING,
        "sex": STRING,
        "birthDate": BIRTHDATE,
        "language": STRING,
        "insuranceNumber": STRING,
        "deviceToken": STRING,
        "webPushToken": STRING,
        "profileImage": STRING,
        "description": STRING,
        "lastNpsScoreSend": DATETIME,
        "badges": ArrayOf({"type": STRING, "level": STRING}),
    },
    "access": {
        "dashboardAccess": BOOLEAN,
        "password": STRING,
        "webAccess": STRING,
        "token": SERVER_OWNED,
        "email": EMAIL_ADDRESS,
        "loginTries": SERVER_OWNED,
        "passwordChangeToken": STRING,
        "passwordChangeDate": DATETIME,
    },
    "contract": {
        "startDate": DATETIME,
        "endDate": DATETIME,
        "department": STRING,
        "salary": NUMBER,
        "salaryType": STRING,
        "employment": STRING,
        "payment": STRING,
        "dailyWorkingHours": FREE_OBJECT,
        "payTypeId": STRING,
        "vacationDays": NUMBER,
        "remainingLeave": ArrayOf({"year": INTEGER, "days": NUMBER}),
        "allowedToTrackDrivingTime": BOOLEAN,
    },
    "contact": {
        "telephone": STRING,
        "mobile": STRING,
        "email": EMAIL_ADDRESS,
        "sms": STRING,
        "smsCount": INTEGER,
        "smsChatCount": INTEGER,
        "smsSendDate": DATETIME,
        "smsSendBy": STRING,
        "website": STRING,
        "lastSMSStatus": STRING,
        "secondSmsSendDate": DATETIME,
    },
    "address": {"street": STRING, "zip": STRING, "city": STRING, "country": STRING, "co": STRING, "state": STRING},
    "accessGroupId": STRING,
    "totalTargetHours": NUMBER,
    "jobs": ArrayOf(FREE_OBJECT),
    "setUpDone": BOOLEAN,
    "location": {"latitude": NUMBER, "longitude": NUMBER, "location": {"type": STRING, "coordinates": ArrayOf(NUMBER)}},
    "activityTypeIds": ArrayOf(STRING),
    "workedOnObjectIds": ArrayOf(MONGO_ID),
    "tags": ArrayOf(STRING),
}


def clean(value: Any, rule: Any, path: str, problems: list[str]) -> Any:
    """`value` checked against `rule`: a copy without server-owned fields, dates normalised."""
    if value is None:
        return None
    if isinstance(rule, dict):
        if not isinstance(value, dict):
            problems.append(f"{path} must be an object")
            return value
        cleaned = {}
        for key, item in value.items():
            item_path = f"{path}.{key}" if path else key
            if key not in rule:
                problems.append(f"property {item_path} should not exist")
            elif rule[key] is not SERVER_OWNED:
                cleaned[key] = clean(item, rule[key], item_path, problems)
        return cleaned
    if isinstance(rule, ArrayOf):
        if not isinstance(value, list):
            problems.append(f"{path} must be an array")
            return value
        return [clean(item, rule.item, f"{path}.{index}", problems) for index, item in enumerate(value)]
    cleaned, problem = rule(path, value)
    if problem:
        problems.append(problem)
    return cleaned


def iso_utc(moment: dt.datetime, with_millis: bool = True) -> str:
    """A naive UTC moment as the vendor writes it: ISO 8601 with a Z, milliseconds as JavaScript adds them."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if with_millis else f"{text}Z"
