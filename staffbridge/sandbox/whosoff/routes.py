"""WhosOff's HTTP face: URL -> handler, the `{"Data", "Errors"}` envelope, JSON rendering, refusals.

The state and its rules live in backend.py; what WhosOff answers, and how, lives here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from staffbridge.sandbox.server import Request, Response, Sandbox, json_response
from staffbridge.sandbox.whosoff.backend import APPROVER_TYPES, SUPER_USER_TYPES, User, WhosOffBackend, utc_stamp
from staffbridge.sandbox.whosoff.validation import Errors, WhosOffError, as_int


def envelope(data: Any, errors: Sequence[tuple[str, str]] = (), status: int = 200) -> Response:
    return json_response({"Data": data, "Errors": [{"Code": c, "Message": m} for c, m in errors]}, status)


# ----------------------------------------------------------------------------------------- render


def remaining_minutes(user: User, year: int) -> int:
    return sum(remaining for start, _, remaining in user.allowances if start.startswith(str(year)))


def image_urls(user: User, root: str) -> dict[str, str]:
    return {
        "image_url_small": f"{root}/images/user/{user.user_id}/small.png",
        "image_url_large": f"{root}/images/user/{user.user_id}/large.png",
    }


def full_record(user: User, root: str) -> dict[str, Any]:
    """get-by-id / get-my-details: every field of the read schema, in its order."""
    u = user
    return {
        "user_id": u.user_id,
        "status_id": u.status_id,
        "staff_code": u.staff_code,
        "title": u.title,
        "first_name": u.first_name,
        "middle_name": u.middle_name,
        "last_name": u.last_name,
        "user_type_id": u.user_type_id,
        "default_view_type_id": u.default_view_type_id,
        "default_view_id": u.default_view_id,
        "default_sorting_id": u.default_sorting_id,
        "department_id": u.department_id,
        "region_id": u.region_id,
        "approver_id": u.approver_id,
        "approver_role_id": u.approver_role_id,
        "email_contact": u.email_contact,
        "notifier_2_id": u.notifier_2_id,
        "notifier_2_role_id": u.notifier_2_role_id,
        "notifier_3_id": u.notifier_3_id,
        "notifier_3_role_id": u.notifier_3_role_id,
        "email_type_id": u.email_type_id,
        "allowance_type_id": u.allowance_type_id,
        "active_directory_username": u.active_directory_username,
        "employment_started_date": u.employment_started_date,
        "employment_ended_date": u.employment_ended_date,
        "work_telephone": u.work_telephone,
        "mobile_telephone": u.mobile_telephone,
        "last_logins": [{"login_date": when, "device": device} for when, device in u.last_logins],
        **image_urls(u, root),
        "google_unique_id": "",
        "mfa_method_id": 0,
        "password_policy": False,
        "lockout_date": u.lockout_date,
    }


def summary_record(user: User, backend: WhosOffBackend, root: str, v41: bool, year: int) -> dict[str, Any]:
    """retrieve: the list shape, with names of department, region and approver filled in."""
    u, users = user, backend.users
    approver = users.get(u.approver_id)
    record: dict[str, Any] = {}
    if v41:
        notifier_2, notifier_3 = users.get(u.notifier_2_id), users.get(u.notifier_3_id)
        record.update(
            {
                "approver_role_id": u.approver_role_id,
                "notifier_2_role_id": u.notifier_2_role_id,
                "notifier_2_first_name": notifier_2.first_name if notifier_2 else "",
                "notifier_2_last_name": notifier_2.last_name if notifier_2 else "",
                "notifier_3_role_id": u.notifier_3_role_id,
                "notifier_3_first_name": notifier_3.first_name if notifier_3 else "",
                "notifier_3_last_name": notifier_3.last_name if notifier_3 else "",
                **image_urls(u, root),
            }
        )
    record.update(
        {
            "user_id": u.user_id,
            "status_id": u.status_id,
            "staff_code": u.staff_code,
            "title": u.title,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "email_contact": u.email_contact,
            "email_type_id": u.email_type_id,
            "approver_id": u.approver_id,
            "approver_first_name": approver.first_name if approver else "",
            "approver_last_name": approver.last_name if approver else "",
            "department_id": u.department_id,
            "department_name": backend.departments.get(u.department_id, ""),
            "region_id": u.region_id,
            "region_name": backend.regions.get(u.region_id, ""),
            "user_type_id": u.user_type_id,
            "notifier_2_id": u.notifier_2_id,
            "notifier_3_id": u.notifier_3_id,
            "allowance_type_id": u.allowance_type_id,
            "this_year_remaining": remaining_minutes(u, year),
            "next_year_remaining": remaining_minutes(u, year + 1),
        }
    )
    return record


def staff_overview(user: User) -> dict[str, Any]:
    year = dt.date.today().year
    entry: dict[str, Any] = {
        "user_id": user.user_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "pending_request": 0,
        "pending_overtime": 0,
    }
    for label, when in (("this_year", year), ("next_year", year + 1)):
        opening = sum(o for start, o, _ in user.allowances if start.startswith(str(when)))
        entry.update(
            {
                f"allowance_type_id_{label}": int(user.allowance_type_id),
                f"opening_{label}": opening,
                f"remaining_{label}": remaining_minutes(user, when),
                f"pending_{label}": 0,
                f"carryover_opening_{label}": 0,
                f"carryover_remaining_{label}": 0,
                f"carryover_expiry_date_{label}": None,
            }
        )
    entry["approver_role_id"] = user.approver_role_id
    return entry


def empty_overview(staff_total: int) -> dict[str, Any]:
    """my-staff's leave statistics: the sandbox records no leave, so everything is zero or empty."""
    overview: dict[str, Any] = {
        "staff_total": staff_total,
        "staff_with_leave_total": 0,
        "absence_record_total": 0,
        "most_popular_leave_type_name": "",
        "most_popular_leave_type_total": 0,
    }
    for metric in (
        "most_occurrences",
        "most_accumulated_days",
        "most_accumulated_hours",
        "longest_absence_days",
        "longest_absence_hours",
    ):
        overview.update({f"{metric}_first_name": "", f"{metric}_last_name": "", f"{metric}_total": 0})
    return overview


# ----------------------------------------------------------------------------------------- routes


SETTING_OF = {"HEX": "hex_upper", "base64": "base64"}  # the adapter's secret_encoding for the sandbox's


class WhosOffSandbox(Sandbox):
    """WhosOff v4 on loopback: `with WhosOffSandbox() as sb: connect("whosoff", base_url=sb.url, ...)`."""

    name = "whosoff"
    url_prefix = ""

    def __init__(
        self,
        port: int = 0,
        seed_people: int = 50,
        app_id: str = "sandbox-app",
        client_secret: str = "sandbox-client-secret",
        username: str = "admin@example.com",
        password: str = "sandbox-password",
        access_token: str | None = None,
        token_lifetime: float = 3600.0,
        secret_encoding: str = "hex",
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        retry_after: bool = False,
    ) -> None:
        super().__init__(port, rate_limit, rate_window, retry_after)
        self.backend = WhosOffBackend(
            seed_people, app_id, client_secret, username, password, access_token, token_lifetime, secret_encoding
        )
        add = self.routes.add
        add("POST", r"(?:/v4)?/authenticate/with-credentials", self._guard(self.handshake))
        add("POST", r"/v4/user/create", self._guard(self.create, SUPER_USER_TYPES))
        add("POST", r"/(?P<version>v4|v4\.1)/user/retrieve", self._guard(self.retrieve))
        add("GET", r"/v4/user/get-by-id/(?P<user_id>[^/]+)", self._guard(self.get_by_id))
        add("GET", r"/v4/user/get-my-details", self._guard(self.get_my_details))
        add("PUT", r"/v4/user/update", self._guard(self.update))
        add("DELETE", r"/v4/user/del/(?P<user_id>[^/]+)", self._guard(self.delete, SUPER_USER_TYPES))
        add("POST", r"/v4/user/unlock/(?P<user_id>[^/]+)", self._guard(self.unlock, SUPER_USER_TYPES))
        add("GET", r"/v4/user/get-approvers", self._guard(self.get_approvers, SUPER_USER_TYPES))
        add("POST", r"/v4/user/my-staff", self._guard(self.my_staff, APPROVER_TYPES))

    def client_settings(self) -> dict[str, Any]:
        """The handshake's credentials: the admin (`username`) logs in with them."""
        backend = self.backend
        admin = backend.users[backend.admin_user_id]
        return {
            **super().client_settings(),
            "app_id": backend.app_id,
            "username": admin.email_contact,
            "password": admin.password,
            "client_secret": backend.client_secret,
            **({} if backend.secret_encoding == "hex" else {"secret_encoding": SETTING_OF[backend.secret_encoding]}),
        }

    def _guard(
        self, handler: Callable[[Request, User | None], Response], levels: frozenset[str] | None = None
    ) -> Callable[[Request], Response]:
        """Turns WhosOffErrors into 400 envelopes and hands the handler its caller (None: handshake)."""

        def route(request: Request) -> Response:
            try:
                caller = (
                    None
                    if "/authenticate/" in request.path
                    else self.backend.caller(request.headers.get("authorization"))
                )
                if caller is not None and levels is not None and caller.user_type_id not in levels:
                    raise WhosOffError(("0413", "your user level does not allow this call"))
                return handler(request, caller)
            except WhosOffError as refusal:
                return envelope(None, refusal.errors, 400)

        return route

    # -- hooks: the app-id check runs before routing, so every data call needs it
    def authenticate(self, request: Request) -> Response | None:
        if "/authenticate/" in request.path:
            return None  # the handshake checks app-id itself, with its own message
        if request.headers.get("app-id") != self.backend.app_id:
            return envelope(None, [("0405", "app-id header is missing or not valid")], 400)
        return None

    def not_found(self, request: Request) -> Response:
        return envelope(None, [("0404", "Endpoint not valid")], 404)

    def method_not_allowed(self, request: Request) -> Response:
        return self.not_found(request)  # the docs know no 405: a wrong method is "endpoint not valid"

    def bad_request(self, request: Request, message: str) -> Response:
        return envelope(None, [("0200", message)], 400)

    def too_many_requests(self, headers: dict[str, str]) -> Response:
        response = envelope(None, [("0429", "Too many requests")], 429)
        response.headers.update(headers)
        return response

    # -- handlers
    def handshake(self, request: Request, caller: User | None) -> Response:
        login = self.backend.authenticate(request.headers.get("app-id"), request.json())
        user = login.user
        return envelope(
            {
                "token": {"access_token": login.token, "token_expiry_date": utc_stamp(login.expires_at)},
                "user": {
                    "user_id": user.user_id,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "email_address": user.email_contact,
                    "user_type_id": user.user_type_id,
                },
            }
        )

    def _saved(self, user: User, warnings: Errors | None = None) -> Response:
        return envelope({"user_id": user.user_id, **image_urls(user, self.root), "forceMFA": False}, warnings or [])

    def create(self, request: Request, caller: User | None) -> Response:
        return self._saved(*self.backend.create(request.json()))

    def update(self, request: Request, caller: User | None) -> Response:
        return self._saved(self.backend.update(request.json()))

    def retrieve(self, request: Request, caller: User | None) -> Response:
        assert caller is not None
        v41 = request.params["version"] == "v4.1"
        users = self.backend.retrieve(request.json(), caller)
        year = dt.date.today().year
        return envelope([summary_record(u, self.backend, self.root, v41, year) for u in users])

    def get_by_id(self, request: Request, caller: User | None) -> Response:
        return envelope(full_record(self.backend.get(request.params["user_id"]), self.root))

    def get_my_details(self, request: Request, caller: User | None) -> Response:
        assert caller is not None
        return envelope(full_record(caller, self.root))

    def delete(self, request: Request, caller: User | None) -> Response:
        assert caller is not None
        user = self.backend.delete(request.params["user_id"], caller)
        return envelope({"Record_ID": str(user.user_id)})

    def unlock(self, request: Request, caller: User | None) -> Response:
        return envelope({"Record_ID": str(self.backend.unlock(request.params["user_id"]).user_id)})

    def get_approvers(self, request: Request, caller: User | None) -> Response:
        return envelope(
            [
                {
                    "user_id": u.user_id,
                    "first_name": u.first_name,
                    "last_name": u.last_name,
                    "user_type_id": u.user_type_id,
                    "email_contact": u.email_contact,
                }
                for u in self.backend.approvers()
            ]
        )

    def my_staff(self, request: Request, caller: User | None) -> Response:
        assert caller is not None
        body = request.json() or {}
        if not isinstance(body, dict):
            raise WhosOffError(("0200", "request body must be a JSON object"))
        if body.get("staff_filter") is not None:
            errors: Errors = []
            as_int("staff_filter", body["staff_filter"], errors)
            if errors:
                raise WhosOffError(*errors)
        staff = self.backend.my_staff(caller)
        return envelope(
            {
                "staff_overview": [staff_overview(u) for u in staff],
                "overview": empty_overview(len(staff)),
                "leave_type_overview": [],
                "breakdown_by_leave_type": [],
                "occurrences_by_duration": [],
            }
        )
