"""The field-service API's HTTP face: URL -> handler, paging, JSON encoding, NestJS-shaped errors.

The state and its rules live in backend.py; what the vendor answers, and how, lives here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from staffbridge.sandbox.fieldservice.backend import FieldServiceBackend, UserNotFound, ValidationFailed
from staffbridge.sandbox.fieldservice.schema import OBJECT_ID
from staffbridge.sandbox.server import Request, Response, Sandbox


def nest_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # encoded here, under the sandbox lock: the documents may change once the handler returns
    return Response(
        status,
        json.dumps(body, ensure_ascii=False).encode("utf-8"),
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


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

    def __init__(
        self,
        port: int = 0,
        seed_people: int = 50,
        api_key: str = "sandbox-key",
        update_verb: str = "PATCH",
        pagination: str = "none",
        page_size: int = 100,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        retry_after: bool = False,
    ) -> None:
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

    def client_settings(self) -> dict[str, Any]:
        return {**super().client_settings(), "api_key": self.api_key}

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
        return nest_json(users[offset : offset + limit], headers={"X-Total-Count": str(len(users))})

    def get_user(self, request: Request) -> Response:
        return self._with_user(request, lambda user_id: nest_json(self.backend.get(user_id)))

    def update_user(self, request: Request) -> Response:
        replace = self.update_verb == "PUT"
        return self._with_user(
            request, lambda user_id: nest_json(self.backend.update(user_id, request.json(), replace=replace))
        )

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
        return nest_json({"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}, 429, headers)

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
