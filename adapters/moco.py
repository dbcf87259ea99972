"""MOCO (mocoapp.com) users API, v1.

    moco = staffbridge.connect("moco", domain="acme", api_key=os.environ["MOCO_API_KEY"])

Settings: `domain` (builds https://{domain}.mocoapp.com/api/v1) or `base_url`; `api_key` (a user or
account key, sent as `Authorization: Token token=KEY`); `timeout`; `rate_limit` / `rate_period`
(default 120 requests per 120 s, MOCO's documented budget; 1200 on the "unlimited" plan);
`max_retries`; `impersonate_user_id` (sends X-IMPERSONATE-USER-ID; rarely needed for users).

Pagination follows `Link: rel="next"`; when a response lacks the Link header but X-Page, X-Per-Page
and X-Total (any case) say more pages exist, the next page is asked for by number.

Where MOCO's docs are silent, behaviour is a setting or documented here: the error body is read as
JSON `message` (else the text); a refused delete (hours billed) is taken to be a 422 and raised as
DeleteRefused; `list(active=False)` asks for archived users and keeps the inactive ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from marshmallow import fields, validate

from staffbridge.mapping.converters import DateTime
from staffbridge.model.errors import ConfigError, DeleteRefused, NotFound, ResponseError, VendorValidationError
from staffbridge.model.person import Person, Ref
from staffbridge.sdk.adapter import HTTPAdapter, HTTPSettings, secret_setting


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
    default_rate = (120, 120.0)
    pagination = "link"
    incremental = True
    filters = (
        "active",
        "include_archived",
        "tags",
        "email",
        "ids",
        "updated_after",
        "custom_properties",
        "sort_by",
        "include_employments",
    )
    extras = ("performance_report", "units", "roles", "employments")
    notes = (
        "password, language and welcome_email are write-only",
        "deleting a user with billed hours is refused (DeleteRefused): deactivate instead",
    )

    def base_url(self) -> str:
        if self.settings.get("base_url"):
            return self.settings["base_url"]
        if self.settings.get("domain"):
            return f"https://{self.settings['domain']}.mocoapp.com/api/v1"
        raise ConfigError("moco: give the setting 'domain' (your account subdomain) or 'base_url'", setting="domain")

    def auth(self, headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Token token={self.settings['api_key']}"
        if self.settings.get("impersonate_user_id"):
            headers["X-IMPERSONATE-USER-ID"] = self.settings["impersonate_user_id"]

    # ------------------------------------------------------------------ reading
    def fetch_records(
        self,
        active: bool | None = None,
        include_archived: bool | None = None,
        tags: Any = None,
        email: str | None = None,
        ids: Any = None,
        updated_after: Any = None,
        custom_properties: dict[str, Any] | None = None,
        sort_by: str | None = None,
        include_employments: bool = False,
    ) -> Iterator[dict]:
        params: dict[str, Any] = {}
        if include_archived or active is False:
            params["include_archived"] = "true"
        if tags:
            params["tags"] = tags if isinstance(tags, str) else ", ".join(tags)
        if email:
            params["email"] = email
        if ids:
            params["ids"] = ids if isinstance(ids, str) else ",".join(str(i) for i in ids)
        if updated_after:
            params["updated_after"] = _timestamp(updated_after)
        for name, value in (custom_properties or {}).items():
            key = f"custom_properties[{name}]"
            params[key + "[]" if isinstance(value, (list, tuple)) else key] = (
                list(value) if isinstance(value, (list, tuple)) else _filter_value(value)
            )
        if sort_by:
            params["sort_by"] = sort_by
        employments = self._employment_spans() if include_employments else None
        for record in self.paged("/users", params):
            if active is not None and isinstance(record, dict) and record.get("active") is not active:
                continue
            if employments is not None and isinstance(record, dict):
                record = {**record, "_employment": employments.get(str(record.get("id")), {})}
            yield record

    def to_person(self, record: Any) -> Person:
        joined = record.pop("_employment", None) if isinstance(record, dict) else None
        person = super().to_person(record)
        if joined:
            person.employment_start, person.employment_end = joined.get("start"), joined.get("end")
        return person

    def fetch_record(self, id: str) -> dict:
        return self._object(self.transport.request("GET", f"/users/{_id(id)}"))

    def get(self, id: str, include_employments: bool = False) -> Person:
        person = super().get(id)
        if include_employments:
            span = self._employment_spans(user_id=person.id).get(str(person.id), {})
            person.employment_start, person.employment_end = span.get("start"), span.get("end")
        return person

    def paged(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a MOCO list endpoint, one page in memory at a time."""
        url: str | None = path
        page = 1
        while url:
            response = self.transport.request("GET", url, params=params if page == 1 else None)
            items = self.transport.json(response)
            if not isinstance(items, list):
                raise ResponseError(
                    f"moco: expected a list from {path}, got {type(items).__name__}",
                    status=response.status_code,
                    vendor=self.name,
                    request=self.transport.describe("GET", response.url),
                )
            yield from items
            url = _next_page(response, page, len(items))
            page += 1

    # ------------------------------------------------------------------ writing
    def create(self, person: Person, password: str | None = None, welcome_email: bool | None = None) -> Person:
        """Creates the user. MOCO requires first and last name, email and a unit (team)."""
        return super().create(person, password=password, welcome_email=welcome_email)

    def create_record(
        self, body: dict[str, Any], person: Person, password: str | None = None, welcome_email: bool | None = None
    ) -> dict:
        body = self._with_options(body, password, welcome_email)
        # MOCO answers 200 with the full user (seen in real recordings); any 2xx is accepted
        return self._object(self.transport.request("POST", "/users", json_body=body, idempotent=False))

    def update(self, id: str, changes: Any, password: str | None = None) -> Person:
        """PUT only the fields that change; a new password may be set too."""
        return super().update(id, changes, **({"password": password} if password else {}))

    def update_record(
        self, id: str, body: dict[str, Any], changes: dict[str, Any], password: str | None = None
    ) -> dict:
        body = self._with_options(body, password, None)
        return self._object(self.transport.request("PUT", f"/users/{_id(id)}", json_body=body))

    def delete_record(self, id: str) -> None:
        try:
            self.transport.request("DELETE", f"/users/{_id(id)}")
        except VendorValidationError as exc:
            raise DeleteRefused(
                f"moco refused to delete user {id} (hours already billed?); "
                "deactivate instead with update(id, {'active': False})",
                status=exc.status,
                request=exc.request,
                messages=exc.messages,
                vendor=self.name,
                body=exc.body,
            ) from None

    def find_existing(self, person: Person) -> Person | None:
        if not person.email:
            return None
        for found in self.list(email=person.email, include_archived=True):
            if (found.email or "").casefold() == person.email.casefold():
                return found
        return None

    def _with_options(self, body: dict[str, Any], password: str | None, welcome_email: bool | None) -> dict:
        if password:
            self.transport.add_secret(password)
            body = {**body, "password": password}
        if welcome_email is not None:
            body = {**body, "welcome_email": bool(welcome_email)}
        return body

    # ------------------------------------------------------------------ lookups and extras
    def has_lookup(self, field: str) -> bool:
        return field in ("department", "role")

    def lookup_refs(self, field: str) -> dict[str, Ref]:
        source = self.units() if field == "department" else self.roles()
        return {ref.name: ref for ref in source if ref.name}

    def units(self) -> list[Ref]:
        """MOCO's units (teams), which canonical `department` refers to."""
        return [Ref(str(u.get("id")), u.get("name")) for u in self.paged("/units") if isinstance(u, dict)]

    def roles(self) -> list[Ref]:
        """MOCO's permission roles, which canonical `role` refers to."""
        items = self.transport.json(self.transport.request("GET", "/users/roles"))
        return (
            [Ref(str(r.get("id")), r.get("name")) for r in items if isinstance(r, dict)]
            if isinstance(items, list)
            else []
        )

    def employments(self, user_id: str | None = None, start: dt.date | None = None) -> Iterator[Employment]:
        """Employments from /users/employments, paged; `from` defaults to 1900 so all are included."""
        params: dict[str, Any] = {"from": (start or dt.date(1900, 1, 1)).isoformat()}
        if user_id:
            params["user_id"] = user_id
        for item in self.paged("/users/employments", params):
            if not isinstance(item, dict) or not isinstance(item.get("user"), dict):
                continue
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
        params = {"year": year} if year else None
        data = self._object(self.transport.request("GET", f"/users/{_id(id)}/performance_report", params=params))
        try:
            annual = data["annually"]
            return PerformanceReport(
                user_id=str(id),
                annually=AnnualPerformance(
                    int(annual["year"]),
                    *(
                        _number(annual.get(k))
                        for k in (
                            "employment_hours",
                            "target_hours",
                            "hours_tracked_total",
                            "variation",
                            "variation_until_today",
                            "hours_billable_total",
                        )
                    ),
                ),
                monthly=[
                    MonthlyPerformance(
                        int(m["year"]),
                        int(m["month"]),
                        *(
                            _number(m.get(k))
                            for k in ("target_hours", "hours_tracked_total", "variation", "hours_billable_total")
                        ),
                    )
                    for m in data.get("monthly") or []
                ],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResponseError(
                f"moco: performance report of user {id} is not in the documented shape ({type(exc).__name__}: {exc})",
                vendor=self.name,
            ) from None

    def _object(self, response: Any) -> dict:
        data = self.transport.json(response)
        if not isinstance(data, dict):
            raise ResponseError(
                f"moco: expected an object, got {type(data).__name__}",
                vendor=self.name,
                status=response.status_code,
                request=self.transport.describe(response.request.method, response.url),
            )
        return data


def _id(id: str) -> str:
    # MOCO ids are integers; anything else can only be a 404, so say so without a request
    text = str(id).strip()
    if not text.isdigit():
        raise NotFound(f"moco: {id!r} is not a MOCO user id", vendor="moco")
    return text


def _next_page(response: Any, page: int, count: int) -> str | None:
    link = response.links.get("next", {}).get("url")
    if link:
        return link
    headers = response.headers  # case-insensitive: 2023 recordings send x-page, x-total
    try:
        current = int(headers.get("X-Page", page))
        per_page = int(headers["X-Per-Page"])
        total = int(headers["X-Total"])
    except (KeyError, ValueError):
        return None
    if count and current * per_page < total:
        request_url = response.url.split("?")[0]
        query = response.request.url.split("?", 1)[1] if "?" in response.request.url else ""
        kept = "&".join(p for p in query.split("&") if p and not p.startswith("page="))
        return f"{request_url}?{kept + '&' if kept else ''}page={current + 1}"
    return None


def _timestamp(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return DateTime().write(value)
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00Z"
    return str(value)


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


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
