"""Emulator of the v2 field-service users API (VENDORS.md section 2).

Only `POST /v2/users/` is documented (seed 002): header `x-API-Key`, a nested user document as body,
answer `{"_id": "<objectid>"}` and nothing else. Everything else here is an inference for a NestJS +
MongoDB backend and is kept configurable where the adapter has a setting for it:

- Routes: `GET /v2/users/` (list), `GET /v2/users/{_id}`, `PATCH /v2/users/{_id}` (deep merge of the
  nested objects; `update_verb="PUT"` swaps it for a PUT that replaces the document), `DELETE
  /v2/users/{_id}`. The trailing slash is optional everywhere. Create answers 201, update 200 with the
  whole updated user, delete 200 with the deleted user. A wrong method on a known path is a 404
  `Cannot PUT /v2/users/...`, as Express answers under NestJS.
- Errors are NestJS-shaped: `{"statusCode", "message", "error"}`. Validation failures are 400 with
  `message` a list of class-validator-style sentences naming the field path (`general.birthDate must
  be ...`); a duplicate `access.email` is one more such sentence. Properties the schema does not know
  are refused (`property foo should not exist`, i.e. whitelist + forbidNonWhitelisted), so a client
  that sends canonical names instead of vendor paths hears about it. `null` is accepted anywhere
  (class-validator's IsOptional). A malformed `_id` in a path is 400, an unknown one 404. Missing or
  wrong key: 401. Rate limiting: 429 `ThrottlerException: Too Many Requests`.
- Server-owned fields are silently ignored when a client sends them: `_id`, `number`, `companyId`,
  `status`, `chatId`, `access.token`, `access.loginTries`, `implementation`, `analytics`. The server
  fills them itself; updates bump `status.lastModifiedAt` / `lastModifiedBy`. `status.status` is 1 for
  an active user and 0 for an inactive one (seeded users only: no route changes it).
- `access.password` is write-only: stored apart from the document and never returned. A PUT without a
  password keeps the old one, because a client cannot send back what it never read.
- Dates: `general.birthDate` stays `DD.MM.YYYY` and must be a real date. Every other timestamp is
  ISO-8601; one already in UTC with `Z` is kept as sent, others (offsets, date only) are stored
  converted to UTC with `Z`. Timestamps the server sets carry milliseconds, as JavaScript writes them.
- `id` (the login id) is declared a number but documented with the example "36920": both are accepted
  and kept as sent. Seeded users hold a mix of both.
- Lists are ordered by `number`. `pagination="none"` returns the whole array; `"page"` reads
  `?page=N&limit=M` (1-based pages) and `"skip"` reads `?skip=N&limit=M`; both paged modes answer the
  bare array plus an `X-Total-Count` header, so only the query differs. `limit` defaults to
  `page_size`.

Seeded users are the shared sample staff (people.py): person n gets `number` n+1 (the digits of its
employee number), a deterministic `_id`, `contract.department` set to the department name and
`accessGroupId` to a slug of its role (ACCESS_GROUPS). People without tags have `tags: null`. Seeded
documents hold only what people.py knows (no `implementation` / `analytics`), like records imported
before those fields existed; that also keeps 100,000 of them affordable in memory.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import time
import uuid
from typing import Any, Callable

from staffbridge.sandbox.people import gc_paused, sample_person
from staffbridge.sandbox.server import Request, Response, Sandbox

COMPANY_ID = "64f1a2b3c4d5e6f708192a3b"
API_USER_ID = "64f1a2b3c4d5e6f708192a3c"  # who `status.createdBy` names for changes made with the key
ACCESS_GROUPS = {"Mitarbeiter": "worker", "Entwickler": "service", "Teamleitung": "teamlead",
                 "Administrator": "admin"}
FIRST_LOGIN_ID = 36920
EPOCH = dt.datetime(1970, 1, 1)

OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}\Z")
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\Z")
BIRTH_DATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})\Z")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?\Z")
UTC_Z_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z\Z")


# ---------------------------------------------------------------------------------------------- schema
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
LOGIN_ID = _kind(lambda v: (_is_number(v) and float(v).is_integer()) or (isinstance(v, str) and v.isdigit()),
                 "must be a number or a numeric string")


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
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return _iso(moment, with_millis=moment.microsecond != 0), None


class ArrayOf:
    def __init__(self, item: Checker | dict[str, Any]) -> None:
        self.item = item


USER_SCHEMA: dict[str, Any] = {
    "_id": SERVER_OWNED, "number": SERVER_OWNED, "companyId": SERVER_OWNED, "status": SERVER_OWNED,
    "chatId": SERVER_OWNED, "implementation": SERVER_OWNED, "analytics": SERVER_OWNED,
    "id": LOGIN_ID,
    "general": {"firstName": STRING, "lastName": STRING, "sex": STRING, "birthDate": BIRTHDATE,
                "language": STRING, "insuranceNumber": STRING, "deviceToken": STRING,
                "webPushToken": STRING, "profileImage": STRING, "description": STRING,
                "lastNpsScoreSend": DATETIME, "badges": ArrayOf({"type": STRING, "level": STRING})},
    "access": {"dashboardAccess": BOOLEAN, "password": STRING, "webAccess": STRING, "token": SERVER_OWNED,
               "email": EMAIL_ADDRESS, "loginTries": SERVER_OWNED, "passwordChangeToken": STRING,
               "passwordChangeDate": DATETIME},
    "contract": {"startDate": DATETIME, "endDate": DATETIME, "department": STRING, "salary": NUMBER,
                 "salaryType": STRING, "employment": STRING, "payment": STRING,
                 "dailyWorkingHours": FREE_OBJECT, "payTypeId": STRING, "vacationDays": NUMBER,
                 "remainingLeave": ArrayOf({"year": INTEGER, "days": NUMBER}),
                 "allowedToTrackDrivingTime": BOOLEAN},
    "contact": {"telephone": STRING, "mobile": STRING, "email": EMAIL_ADDRESS, "sms": STRING,
                "smsCount": INTEGER, "smsChatCount": INTEGER, "smsSendDate": DATETIME,
                "smsSendBy": STRING, "website": STRING, "lastSMSStatus": STRING,
                "secondSmsSendDate": DATETIME},
    "address": {"street": STRING, "zip": STRING, "city": STRING, "country": STRING, "co": STRING,
                "state": STRING},
    "accessGroupId": STRING, "totalTargetHours": NUMBER, "jobs": ArrayOf(FREE_OBJECT),
    "setUpDone": BOOLEAN,
    "location": {"latitude": NUMBER, "longitude": NUMBER,
                 "location": {"type": STRING, "coordinates": ArrayOf(NUMBER)}},
    "activityTypeIds": ArrayOf(STRING), "workedOnObjectIds": ArrayOf(MONGO_ID), "tags": ArrayOf(STRING),
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


def _iso(moment: dt.datetime, with_millis: bool = True) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if with_millis else f"{text}Z"


def deep_merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    """PATCH semantics: nested objects merge key by key; arrays, scalars and null replace."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = value


# ---------------------------------------------------------------------------------------------- backend

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
        user = {"_id": user_id, "number": self._next_number, "companyId": COMPANY_ID,
                "status": {"status": 1, "createdAt": now, "createdBy": API_USER_ID,
                           "lastModifiedAt": now, "lastModifiedBy": API_USER_ID},
                "chatId": None, **fields,
                "access": {**access, "token": str(uuid.uuid4()), "loginTries": 0},
                "implementation": {"hasJob": bool(fields.get("jobs")), "hasTimeTracking": False,
                                   "isSuccessfullyImplemented": False, "lastTimeActive": None},
                "analytics": {"createdProfile": now}}
        self._store(user, password)
        return user_id

    def update(self, user_id: str, body: Any, replace: bool = False) -> dict[str, Any]:
        user = self.get(user_id)
        fields, password = self._validated(body, user_id=user["_id"])
        if replace:
            kept = {key: user[key] for key in ("_id", "number", "companyId", "status", "chatId")}
            access = {**(fields.pop("access", None) or {}),
                      "token": user["access"]["token"], "loginTries": user["access"]["loginTries"]}
            server_tail = {key: user[key] for key in ("implementation", "analytics") if key in user}
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
            general = {"firstName": person.first_name, "lastName": person.last_name,
                       "birthDate": f"{birthday.day:02d}.{birthday.month:02d}.{birthday.year}",
                       "language": person.language}
            if person.notes:
                general["description"] = person.notes
            users[user_id] = {
                "_id": user_id, "number": int(person.employee_number[1:]), "companyId": COMPANY_ID,
                "status": {"status": 1 if person.active else 0, "createdAt": created, "createdBy": API_USER_ID,
                           "lastModifiedAt": created, "lastModifiedBy": API_USER_ID},
                "chatId": None,
                "id": str(FIRST_LOGIN_ID + n) if n % 2 == 0 else FIRST_LOGIN_ID + n,
                "general": general,
                "access": {"dashboardAccess": person.role in ("Teamleitung", "Administrator"),
                           "webAccess": "1", "token": f"{n:08x}-0000-4000-8000-{n:012x}",
                           "email": email, "loginTries": 0},
                "contract": {"startDate": f"{person.employment_start.isoformat()}T00:00:00Z",
                             "department": person.department},
                "contact": {"telephone": person.work_phone, "mobile": person.mobile_phone},
                "address": {"street": person.street, "zip": person.zip, "city": person.city,
                            "country": person.country},
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
        return _iso(EPOCH + dt.timedelta(milliseconds=millis))


# ---------------------------------------------------------------------------------------------- HTTP

def nest_json(body: Any, status: int = 200, **headers: str) -> Response:
    # encoded here, under the sandbox lock: the documents may change once the handler returns
    return Response(status, json.dumps(body, ensure_ascii=False).encode("utf-8"),
                    {"Content-Type": "application/json; charset=utf-8", **headers})


def nest_error(status: int, message: str | list[str], error: str | None) -> Response:
    body: dict[str, Any] = {"statusCode": status, "message": message}
    if error:
        body["error"] = error
    return nest_json(body, status)


class FieldServiceSandbox(Sandbox):
    """The v2 field-service users API on 127.0.0.1; `base_url=sb.url` (routes sit at /v2/users/)."""

    name = "fieldservice"
    url_prefix = ""
    PAGINATIONS = ("none", "page", "skip")

    def __init__(self, port: int = 0, seed_people: int = 50, api_key: str = "sandbox-key",
                 update_verb: str = "PATCH", pagination: str = "none", page_size: int = 100,
                 rate_limit: int | None = None, rate_window: float = 60.0, retry_after: bool = False) -> None:
        super().__init__(port, rate_limit, rate_window, retry_after)
        if update_verb.upper() not in ("PATCH", "PUT"):
            raise ValueError(f"update_verb must be PATCH or PUT, not {update_verb!r}")
        if pagination not in self.PAGINATIONS:
            raise ValueError(f"pagination must be one of {', '.join(self.PAGINATIONS)}, not {pagination!r}")
        self.api_key, self.update_verb = api_key, update_verb.upper()
        self.pagination, self.page_size = pagination, page_size
        self.backend = FieldServiceBackend()
        self.backend.seed(seed_people)
        users, user = r"/v2/users", r"/v2/users/(?P<id>[^/]+)"
        self.routes.add("POST", users, self.create_user)
        self.routes.add("GET", users, self.list_users)
        self.routes.add("GET", user, self.get_user)
        self.routes.add(self.update_verb, user, self.update_user)
        self.routes.add("DELETE", user, self.delete_user)

    # -- routes
    def create_user(self, request: Request) -> Response:
        try:
            user_id = self.backend.create(request.json())
        except ValidationFailed as failed:
            return nest_error(400, failed.problems, "Bad Request")
        return nest_json({"_id": user_id}, 201)

    def list_users(self, request: Request) -> Response:
        users = self.backend.list()
        if self.pagination == "none":
            return nest_json(users)
        problems: list[str] = []
        limit = _query_int(request, "limit", self.page_size, 1, problems)
        if self.pagination == "page":
            offset = (_query_int(request, "page", 1, 1, problems) - 1) * limit
        else:
            offset = _query_int(request, "skip", 0, 0, problems)
        if problems:
            return nest_error(400, problems, "Bad Request")
        return nest_json(users[offset:offset + limit], **{"X-Total-Count": str(len(users))})

    def get_user(self, request: Request) -> Response:
        return self._with_user(request, lambda user_id: nest_json(self.backend.get(user_id)))

    def update_user(self, request: Request) -> Response:
        replace = self.update_verb == "PUT"
        return self._with_user(request, lambda user_id: nest_json(
            self.backend.update(user_id, request.json(), replace=replace)))

    def delete_user(self, request: Request) -> Response:
        return self._with_user(request, lambda user_id: nest_json(self.backend.delete(user_id)))

    def _with_user(self, request: Request, action: Callable[[str], Response]) -> Response:
        user_id = request.params["id"]
        if not OBJECT_ID.match(user_id):
            return nest_error(400, f"Invalid ObjectId: {user_id}", "Bad Request")
        try:
            return action(user_id)
        except UserNotFound:
            return nest_error(404, f"User with id {user_id} not found", "Not Found")
        except ValidationFailed as failed:
            return nest_error(400, failed.problems, "Bad Request")

    # -- the vendor's answers to what the base server decides
    def authenticate(self, request: Request) -> Response | None:
        key = request.headers.get("x-api-key")
        if not key:
            return nest_error(401, "API key is missing", "Unauthorized")
        if key != self.api_key:
            return nest_error(401, "Invalid API key", "Unauthorized")
        return None

    def too_many_requests(self, headers: dict[str, str]) -> Response:
        return nest_json({"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}, 429, **headers)

    def not_found(self, request: Request) -> Response:
        return nest_error(404, f"Cannot {request.method} {request.path}", "Not Found")

    def method_not_allowed(self, request: Request) -> Response:
        return self.not_found(request)  # Express knows no 405: an unrouted method is just unrouted

    def bad_request(self, request: Request, message: str) -> Response:
        return nest_error(400, message, "Bad Request")


def _query_int(request: Request, name: str, default: int, minimum: int, problems: list[str]) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?\d+", raw):
        problems.append(f"{name} must be an integer number")
        return default
    if int(raw) < minimum:
        problems.append(f"{name} must not be less than {minimum}")
        return default
    return int(raw)
