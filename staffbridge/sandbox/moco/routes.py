"""MOCO's HTTP face: URL -> handler, request parsing, pagination, JSON rendering and error bodies.

The state and its rules live in backend.py; what MOCO answers, and how, lives here.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from staffbridge.sandbox.moco.backend import MocoBackend
from staffbridge.sandbox.moco.records import KEY_HOLDER_ID, Employment, RecordInvalid, RecordNotFound, Role, Unit, User
from staffbridge.sandbox.moco.values import as_boolean, as_integer, date_text
from staffbridge.sandbox.moco.web_hooks import WebHooks
from staffbridge.sandbox.server import Request, Response, Sandbox, json_response


class MocoSandbox(Sandbox):
    """MOCO's users API on loopback: `with MocoSandbox(seed_people=250) as sb: requests.get(sb.url + "/users")`."""

    name = "moco"
    url_prefix = "/api/v1"

    def __init__(
        self,
        port: int = 0,
        seed_people: int = 50,
        api_key: str = "sandbox-key",
        rate_limit: int | None = None,
        rate_window: float = 120.0,
        retry_after: bool = False,
        per_page: int = 100,
        lowercase_headers: bool = False,
    ) -> None:
        super().__init__(port=port, rate_limit=rate_limit, rate_window=rate_window, retry_after=retry_after)
        self.seed_people = seed_people
        self.backend = MocoBackend(seed_people)
        self.api_key = api_key
        self.per_page = per_page
        self.lowercase_headers = lowercase_headers
        self._list_cache: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()
        self.web_hooks = WebHooks()
        self.backend.listeners.append(self._user_changed)
        self._add_routes()

    def client_settings(self) -> dict[str, Any]:
        return {**super().client_settings(), "api_key": self.api_key}

    def reset(self, seed_people: int | None = None) -> None:
        """Fresh state without restarting the server: a new backend, no faults, empty request log.

        Lets a test suite share one running sandbox; attributes a test changed (`per_page`,
        `lowercase_headers`, `rate_limit`) are its own to restore."""
        with self._lock:
            self.backend = MocoBackend(self.seed_people if seed_people is None else seed_people)
            self.backend.listeners.append(self._user_changed)
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
            ("GET", r"/account/web_hooks(?:\.json)?", self._list_web_hooks),
            ("POST", r"/account/web_hooks(?:\.json)?", self._create_web_hook),
            ("GET", rf"/account/web_hooks/{num}", self._get_web_hook),
            ("PUT", rf"/account/web_hooks/{num}", self._update_web_hook),
            ("PUT", r"/account/web_hooks/(?P<id>\d+)/(?P<switch>enable|disable)(?:\.json)?", self._switch_web_hook),
            ("DELETE", rf"/account/web_hooks/{num}", self._delete_web_hook),
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

    def _user(self, user: User) -> dict[str, Any]:
        return render_user(self.backend, user, self.root)

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
        page = as_integer(request.arg("page")) or 1
        per_page = self.per_page
        chunk = records[(page - 1) * per_page : page * per_page]
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(records))}
        if page * per_page < len(records):
            headers["Link"] = f'<{self._page_url(request, page + 1)}>; rel="next"'
        return self._json([render(record) for record in chunk], 200, headers)

    def _page_url(self, request: Request, page: int) -> str:
        host = request.headers.get("host") or f"127.0.0.1:{self.port}"
        path = request.path if request.path.endswith(".json") else request.path + ".json"
        params = [(k, v) for k, values in request.query.items() if k != "page" for v in values]
        return f"http://{host}{path}?{urlencode([*params, ('page', page)])}"

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
        include_archived = as_boolean(request.arg("include_archived") or "false")
        users = self._cached(
            request,
            lambda: self.backend.find_users(
                include_archived=include_archived, tags=tags, email=email, custom_properties=props, **filters
            ),
        )
        return self._paginate(request, users, self._user)

    def _get_user(self, request: Request) -> Response:
        return self._json(self._user(self.backend.get_user(int(request.params["id"]))))

    def _create_user(self, request: Request) -> Response:
        user = self.backend.create_user(self._body(request))
        return self._json(self._user(user))  # 200, not 201, as recorded

    def _update_user(self, request: Request) -> Response:
        user = self.backend.update_user(int(request.params["id"]), self._body(request))
        return self._json(self._user(user))

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
        return self._paginate(request, roles, render_role)

    def _list_units(self, request: Request) -> Response:
        units = self._cached(request, lambda: self.backend.find_units(**_global_filters(request)))
        members = self.backend.unit_members()
        return self._paginate(request, units, lambda unit: render_unit(unit, members[unit.id]))

    def _get_unit(self, request: Request) -> Response:
        unit = self.backend.get_unit(int(request.params["id"]))
        return self._json(render_unit(unit, self.backend.unit_members()[unit.id]))

    def _create_unit(self, request: Request) -> Response:
        unit = self.backend.create_unit(self._body(request))
        return self._json(render_unit(unit, []))

    def _update_unit(self, request: Request) -> Response:
        unit = self.backend.update_unit(int(request.params["id"]), self._body(request))
        return self._json(render_unit(unit, self.backend.unit_members()[unit.id]))

    def _delete_unit(self, request: Request) -> Response:
        self.backend.delete_unit(int(request.params["id"]))
        return Response(204)

    def _list_web_hooks(self, request: Request) -> Response:
        hooks = sorted(self.web_hooks.hooks.values(), key=lambda hook: hook.id)
        return self._paginate(request, hooks, lambda hook: hook.render())

    def _create_web_hook(self, request: Request) -> Response:
        return self._json(self.web_hooks.create(self._body(request)).render())

    def _get_web_hook(self, request: Request) -> Response:
        return self._json(self.web_hooks.get(int(request.params["id"])).render())

    def _update_web_hook(self, request: Request) -> Response:
        return self._json(self.web_hooks.update(int(request.params["id"]), self._body(request)).render())

    def _switch_web_hook(self, request: Request) -> Response:
        hook = self.web_hooks.switch(int(request.params["id"]), request.params["switch"] == "enable")
        return self._json(hook.render())

    def _delete_web_hook(self, request: Request) -> Response:
        self.web_hooks.delete(int(request.params["id"]))
        return Response(204)

    def _user_changed(self, event: str, user: User) -> None:
        """A user was created, changed or deleted: the User web hooks get it, rendered as GET shows it."""
        self.web_hooks.notify("User", event, render_user(self.backend, user, f"http://127.0.0.1:{self.port}"))

    def _list_employments(self, request: Request) -> Response:
        errors: list[str] = []
        start, end = (date_text(request.arg(name), name, errors) for name in ("from", "to"))
        user_id = request.arg("user_id")
        if user_id and as_integer(user_id) is None:
            errors.append("user_id is invalid")
        if errors:
            raise RecordInvalid(*errors)
        employments = self._cached(
            request,
            lambda: self.backend.find_employments(
                from_=dt.date.fromisoformat(start) if start else None,
                to=dt.date.fromisoformat(end) if end else None,
                user_id=as_integer(user_id) if user_id else None,
                **_global_filters(request),
            ),
        )
        return self._paginate(request, employments, lambda employment: render_employment(self.backend, employment))

    def _get_employment(self, request: Request) -> Response:
        employment = self.backend.get_employment(int(request.params["id"]))
        return self._json(render_employment(self.backend, employment))

    def _create_employment(self, request: Request) -> Response:
        employment = self.backend.create_employment(self._body(request))
        return self._json(render_employment(self.backend, employment))  # 200, as recorded

    def _update_employment(self, request: Request) -> Response:
        employment = self.backend.update_employment(int(request.params["id"]), self._body(request))
        return self._json(render_employment(self.backend, employment))

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
        filters["updated_after"] = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return filters


def _custom_property_filters(request: Request) -> dict[str, list[str]]:
    """`custom_properties[Name]=v` (last one wins, as Rails) and `custom_properties[Name][]=a` (all)."""
    wanted: dict[str, list[str]] = {}
    for key, values in request.query.items():
        found = re.fullmatch(r"custom_properties\[(.+?)\](\[\])?", key)
        if found:
            wanted[found.group(1)] = list(values) if found.group(2) else values[-1:]
    return wanted


# ---------------------------------------------------------------------------------- MOCO's read shapes


def timestamp(moment: dt.datetime) -> str:
    """UTC, second precision, as MOCO writes every timestamp: "2018-10-17T09:33:46Z"."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_user(backend: MocoBackend, user: User, origin: str = "http://127.0.0.1") -> dict[str, Any]:
    """A user as MOCO reads it; `origin` is where avatar URLs point (the sandbox root)."""
    unit = backend.units.get(user.unit_id)
    role = backend.roles.get(user.role_id) if user.role_id is not None else None
    avatar_url = f"{origin}/system/avatars/{user.id}/{user.avatar_filename}" if user.avatar_filename else None
    return {
        "id": user.id,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "active": user.active,
        "extern": user.extern,
        "email": user.email,
        "mobile_phone": user.mobile_phone,
        "work_phone": user.work_phone,
        "home_address": user.home_address,
        "info": user.info,
        "birthday": user.birthday,
        "iban": user.iban,
        "avatar_url": avatar_url,
        "tags": list(user.tags),
        "custom_properties": dict(user.custom_properties),
        "unit": {"id": unit.id, "name": unit.name} if unit else None,
        "role": {"id": role.id, "name": role.name} if role else None,
        "created_at": timestamp(user.created_at),
        "updated_at": timestamp(user.updated_at),
    }


def render_unit(unit: Unit, members: Sequence[User]) -> dict[str, Any]:
    return {
        "id": unit.id,
        "name": unit.name,
        "custom_properties": {},
        "users": [{"id": u.id, "firstname": u.firstname, "lastname": u.lastname, "email": u.email} for u in members],
        "created_at": timestamp(unit.created_at),
        "updated_at": timestamp(unit.updated_at),
    }


def render_employment(backend: MocoBackend, employment: Employment) -> dict[str, Any]:
    user = backend.users.get(employment.user_id)
    return {
        "id": employment.id,
        "weekly_target_hours": employment.weekly_target_hours,
        "pattern": {"am": [float(h) for h in employment.am], "pm": [float(h) for h in employment.pm]},
        "from": employment.from_.isoformat(),
        "to": employment.to.isoformat() if employment.to else None,
        "user": {"id": user.id, "firstname": user.firstname, "lastname": user.lastname} if user else None,
        "created_at": timestamp(employment.created_at),
        "updated_at": timestamp(employment.updated_at),
    }


def render_role(role: Role) -> dict[str, Any]:
    return {
        "id": role.id,
        "name": role.name,
        "is_default": role.is_default,
        "is_admin": role.is_admin,
        "permission": dict(role.permission),
    }
