"""MOCO (mocoapp.com) users API, v1.

    moco = staffbridge.connect("moco", domain="acme", api_key=os.environ["MOCO_API_KEY"])

Settings: `domain` (builds https://{domain}.mocoapp.com/api/v1) or `base_url`; `api_key` (a user or
account key, sent as `Authorization: Token token=KEY`); `timeout`; `rate_limit` / `rate_period`
(default 120 requests per 120 s, MOCO's documented budget; 1200 on the "unlimited" plan);
`max_retries`; `impersonate_user_id` (sends X-IMPERSONATE-USER-ID; rarely needed for users).

Pagination follows `Link: rel="next"`, else X-Page / X-Per-Page / X-Total (sdk.paginators.LinkHeader).
`list(updated_after=...)` reads only what changed (the adapter's declared cursor).

Where MOCO's docs are silent, behaviour is a setting or documented here: the error body is read as
JSON `message` (else the text); a refused delete (hours billed) is taken to be a 422 and raised as
DeleteRefused; `list(active=False)` asks for archived users and keeps the inactive ones.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from marshmallow import fields, validate

from staffbridge.model.errors import ResponseError
from staffbridge.model.person import Person, Ref
from staffbridge.sdk.auth import HeaderAuth
from staffbridge.sdk.cursor import Cursor
from staffbridge.sdk.filters import BOOLEAN, LIST, TEXT, TIMESTAMP
from staffbridge.sdk.http_adapter import HTTPAdapter
from staffbridge.sdk.paginators import LinkHeader
from staffbridge.sdk.settings import HTTPSettings, secret_setting


class MocoSettings(HTTPSettings):
    domain = fields.String(
        validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]*$", error="Not a MOCO account subdomain like 'acme'.")
    )
    api_key = secret_setting(required=True, validate=validate.Length(min=1))
    impersonate_user_id = fields.String(load_default=None, allow_none=True)


@dataclass(frozen=True)
class AnnualPerformance:
    year: int
    employment_hours: float | None
    target_hours: float | None
    hours_tracked_total: float | None
    variation: float | None
    variation_until_today: float | None
    hours_billable_total: float | None  # added by MOCO in 2024; None from older accounts


@dataclass(frozen=True)
class MonthlyPerformance:
    year: int
    month: int
    target_hours: float | None
    hours_tracked_total: float | None
    variation: float | None
    hours_billable_total: float | None


@dataclass(frozen=True)
class PerformanceReport:
    user_id: str
    annually: AnnualPerformance
    monthly: list[MonthlyPerformance]


@dataclass(frozen=True)
class Employment:
    """One of MOCO's time-bounded employments ("Wochenmodell") of a user."""

    id: str
    user_id: str
    start: dt.date | None
    end: dt.date | None
    weekly_target_hours: float | None


class MocoAdapter(HTTPAdapter):
    name = "moco"
    Settings = MocoSettings
    base_url_template = "https://{domain}.mocoapp.com/api/v1"
    base_path = "/api/v1"  # a 404 from a base_url without it says so
    paths = {
        "list": "/users",
        "get": "/users/{id}",
        "create": "/users",
        "update": "/users/{id}",
        "delete": "/users/{id}",
    }
    paginator = LinkHeader()
    unlisted_fields = frozenset()  # GET /users answers "full user objects" (users.md)
    auth = HeaderAuth("Authorization", prefix="Token token=", optional={"X-IMPERSONATE-USER-ID": "impersonate_user_id"})
    cursor = Cursor(field="updated_at", param="updated_after")
    lookups = {"department": "/units", "role": "/users/roles"}
    default_rate = (120, 120.0)
    id_pattern = r"\d+"
    delete_refused_hint = " (hours already billed?)"
    write_options = {"password": "password", "welcome_email": "welcome_email"}  # update(id, changes, password=...) too
    filters = {
        "active": BOOLEAN,
        "include_archived": BOOLEAN,
        "tags": LIST,
        "email": TEXT,
        "ids": LIST,
        "updated_after": TIMESTAMP,
        "custom_properties": TEXT,  # {name: value or [values]}
        "sort_by": TEXT,
        "include_employments": BOOLEAN,
    }
    extras = ("performance_report", "units", "roles", "employments")
    notes = (
        "password, language and welcome_email are write-only",
        "deleting a user with billed hours is refused (DeleteRefused): deactivate instead",
    )

    # ------------------------------------------------------------------ reading
    def query(self, **filters: Any) -> dict[str, Any]:
        """MOCO's request parameters: archived users are asked for when inactive ones are wanted, tags
        and ids go comma-separated, each custom property as custom_properties[name] ([name][] for several)."""
        params: dict[str, Any] = {}
        if filters.get("include_archived") or filters.get("active") is False:
            params["include_archived"] = "true"
        separators = {"tags": ", ", "ids": ","}
        for name in ("tags", "email", "ids", "updated_after"):
            value = filters.get(name)
            if value:
                many = name in separators  # lists, as the Adapter base parsed them
                params[name] = separators[name].join(str(item) for item in value) if many else value
        for name, value in (filters.get("custom_properties") or {}).items():
            key = f"custom_properties[{name}]"
            many = isinstance(value, (list, tuple))
            params[key + "[]" if many else key] = list(value) if many else _filter_value(value)
        if filters.get("sort_by"):
            params["sort_by"] = filters["sort_by"]
        return params

    def fetch_records(self, **filters: Any) -> Iterator[Any]:
        active = filters.get("active")
        if active is None:  # nothing to do per record: no Python loop over them
            yield from super().fetch_records(**filters)
            return
        for record in super().fetch_records(**filters):
            if isinstance(record, dict) and record.get("active") is not active:
                continue
            yield record

    def list(self, **filters: Any) -> Iterator[Person]:
        """Employments are joined to the Persons read (`include_employments`), as `get` joins them:
        no step of this adapter's own on every record of a listing that does not ask for them (a
        to_person override cost 0.2 us, 8% of reading a record)."""
        people = super().list(**filters)
        if not self.check_filters(filters).get("include_employments"):
            return people
        return self._with_employments(people)

    def _with_employments(self, people: Iterator[Person]) -> Iterator[Person]:
        spans = self._employment_spans()
        for person in people:
            span = spans.get(str(person.id))
            if span:
                person.employment_start, person.employment_end = span.get("start"), span.get("end")
            yield person

    def get(self, id: str, include_employments: bool = False) -> Person:
        person = super().get(id)
        if include_employments:
            span = self._employment_spans(user_id=person.id).get(str(person.id), {})
            person.employment_start, person.employment_end = span.get("start"), span.get("end")
        return person

    # ------------------------------------------------------------------ writing
    def create(
        self, person: Person, password: str | None = None, welcome_email: bool | None = None, **options: Any
    ) -> Person:
        """Creates the user. MOCO requires first and last name, email and a unit (team).
        MOCO answers 200 with the full user (seen in real recordings); any 2xx is accepted."""
        welcome = None if welcome_email is None else bool(welcome_email)
        return super().create(person, password=password, welcome_email=welcome, **options)

    def existing_filters(self, person: Person) -> dict[str, Any]:
        return {"email": person.email, "include_archived": True}

    # ------------------------------------------------------------------ lookups and extras
    def units(self) -> builtins.list[Ref]:  # builtins: `list` in this class is the listing
        """MOCO's units (teams), which canonical `department` refers to."""
        return self.lookup(self.lookups["department"])

    def roles(self) -> builtins.list[Ref]:
        """MOCO's permission roles, which canonical `role` refers to."""
        return self.lookup(self.lookups["role"])

    def employments(self, user_id: str | None = None, start: dt.date | None = None) -> Iterator[Employment]:
        """Employments from /users/employments, paged; `from` defaults to 1900 so all are included."""
        params: dict[str, Any] = {"from": (start or dt.date(1900, 1, 1)).isoformat()}
        if user_id:
            params["user_id"] = user_id
        for item in self.read_all("/users/employments", params):
            if isinstance(item, dict) and isinstance(item.get("user"), dict):
                yield Employment(
                    str(item.get("id")),
                    str(item["user"].get("id")),
                    _date(item.get("from")),
                    _date(item.get("to")),
                    item.get("weekly_target_hours"),
                )

    def _employment_spans(self, user_id: str | None = None) -> dict[str, dict[str, dt.date | None]]:
        """user id -> first start and last end (None while the latest employment is open-ended)."""
        spans: dict[str, dict[str, Any]] = {}
        for job in self.employments(user_id=user_id):
            span = spans.setdefault(job.user_id, {"start": job.start, "end": job.end, "_last": job.start})
            if job.start and (span["start"] is None or job.start < span["start"]):
                span["start"] = job.start
            if job.start and span["_last"] and job.start >= span["_last"]:
                span["end"], span["_last"] = job.end, job.start
        for span in spans.values():
            span.pop("_last", None)
        return spans

    def performance_report(self, id: str, year: int | None = None) -> PerformanceReport:
        """Tracked vs target hours for one user and year (default: the current year)."""
        path = f"/users/{self.record_id(id)}/performance_report"
        data = self.answer(self.transport.request("GET", path, params={"year": year} if year else None))
        try:
            annual = data["annually"]
            return PerformanceReport(
                user_id=str(id),
                annually=AnnualPerformance(year=int(annual["year"]), **_numbers(annual, AnnualPerformance)),
                monthly=[
                    MonthlyPerformance(year=int(m["year"]), month=int(m["month"]), **_numbers(m, MonthlyPerformance))
                    for m in data.get("monthly") or []
                ],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResponseError(
                f"moco: performance report of user {id} is not in the documented shape ({type(exc).__name__}: {exc})",
                vendor=self.name,
            ) from None


def _filter_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _numbers(record: dict[str, Any], kind: type[AnnualPerformance | MonthlyPerformance]) -> dict[str, Any]:
    """The hours of a performance record: each field of `kind` but year and month, None unless a number."""
    return {f.name: _number(record.get(f.name)) for f in dataclasses.fields(kind) if f.name not in ("year", "month")}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
