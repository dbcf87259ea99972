"""A TinyHR emulator on staffbridge.sandbox.server: state (TinyHRBackend) and routes (TinyHRSandbox).

    with TinyHRSandbox(seed_people=5) as sb:
        staffbridge.connect("tinyhr", base_url=sb.url, token=sb.token)

The server part (real sockets on 127.0.0.1, keep-alive, injected faults, rate limits) is shared by
every sandbox; a vendor adds only its state and its answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from staffbridge.sandbox.people import sample_people
from staffbridge.sandbox.server import Request, Response, Sandbox, json_response

WRITABLE = ("given_name", "family_name", "email", "team", "active")
REQUIRED = ("given_name", "family_name", "email")
NOT_FOUND = {"error": "not found"}


@dataclass
class Member:
    id: int
    given_name: str
    family_name: str
    email: str
    team: str | None = None
    active: bool = True


class Refused(ValueError):
    """A write TinyHR refuses (422)."""


class TinyHRBackend:
    """The people of one TinyHR account; no HTTP."""

    def __init__(self, seed_people: int = 0) -> None:
        self.people: dict[int, Member] = {}
        for sample in sample_people(seed_people):
            self.create(
                {
                    "given_name": sample.first_name,
                    "family_name": sample.last_name,
                    "email": sample.email,
                    "team": sample.department,
                    "active": sample.active,
                }
            )

    def get(self, member_id: int) -> Member:
        return self.people[member_id]  # KeyError: the routes answer 404

    def create(self, fields: dict[str, Any]) -> Member:
        missing = [name for name in REQUIRED if not fields.get(name)]
        if missing:
            raise Refused(f"missing: {', '.join(missing)}")
        member = Member(id=max(self.people, default=0) + 1, given_name="", family_name="", email="")
        return self._apply(member, fields)

    def update(self, member_id: int, fields: dict[str, Any]) -> Member:
        return self._apply(self.get(member_id), fields)

    def delete(self, member_id: int) -> None:
        del self.people[member_id]

    def _apply(self, member: Member, fields: dict[str, Any]) -> Member:
        unknown = sorted(set(fields) - set(WRITABLE))
        if unknown:
            raise Refused(f"unknown fields: {', '.join(unknown)}")
        email = fields.get("email", member.email)
        if any(other.email == email and other.id != member.id for other in self.people.values()):
            raise Refused(f"email {email} is taken")
        for name, value in fields.items():
            setattr(member, name, value)
        self.people[member.id] = member
        return member


class TinyHRSandbox(Sandbox):
    """TinyHR's routes over a TinyHRBackend. Registered sandboxes take `port` and `seed_people`."""

    name = "tinyhr"
    url_prefix = "/api"

    def __init__(self, port: int = 0, seed_people: int = 20, token: str = "sandbox-token", page_size: int = 10) -> None:
        super().__init__(port=port)
        self.backend = TinyHRBackend(seed_people)
        self.token, self.page_size = token, page_size
        self.routes.add("GET", r"/people", self.list_people)
        self.routes.add("POST", r"/people", self.create_person)
        self.routes.add("GET", r"/people/(?P<id>\d+)", self.get_person)
        self.routes.add("PATCH", r"/people/(?P<id>\d+)", self.update_person)
        self.routes.add("DELETE", r"/people/(?P<id>\d+)", self.delete_person)

    def list_people(self, request: Request) -> Response:
        page = int(request.arg("page") or 1)
        size = int(request.arg("per_page") or self.page_size)
        people = list(self.backend.people.values())
        chunk = people[(page - 1) * size : page * size]
        more = page * size < len(people)
        return json_response({"people": [asdict(m) for m in chunk], "next_page": page + 1 if more else None})

    def get_person(self, request: Request) -> Response:
        return self._answer(lambda: self.backend.get(int(request.params["id"])))

    def create_person(self, request: Request) -> Response:
        return self._answer(lambda: self.backend.create(request.json() or {}), status=201)

    def update_person(self, request: Request) -> Response:
        return self._answer(lambda: self.backend.update(int(request.params["id"]), request.json() or {}))

    def delete_person(self, request: Request) -> Response:
        return self._answer(lambda: self.backend.delete(int(request.params["id"])), status=204)

    def _answer(self, action: Callable[[], Member | None], status: int = 200) -> Response:
        try:
            member = action()
        except KeyError:
            return json_response(NOT_FOUND, 404)
        except Refused as refusal:
            return json_response({"error": str(refusal)}, 422)
        return Response(status) if member is None else json_response(asdict(member), status)

    # the vendor's answers to what the shared server decides
    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("authorization") == f"Bearer {self.token}":
            return None
        return json_response({"error": "invalid token"}, 401)

    def not_found(self, request: Request) -> Response:
        return json_response(NOT_FOUND, 404)
