"""Tenants made of sandboxes, for the platform tests and benchmark: each tenant its own MOCO, WhosOff
and field-service emulators holding different (overlapping) staff, and a check that they are in step.

Each tenant's emulators are their own (own state, own credentials' rate limit). They listen on their
own ports, or, for hundreds of tenants (the benchmark), behind one `SharedHost` per vendor: one
server that hands each request to the tenant's emulator named by the path (`/t/<n>/...`), as a
vendor serves many accounts at one address (MOCO even gives each account its own name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import staffbridge
from staffbridge.sandbox.fieldservice import FieldServiceSandbox
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sandbox.people import DEPARTMENTS, sample_people, sample_person
from staffbridge.sandbox.server import Request, Response, Sandbox
from staffbridge.sandbox.whosoff import WhosOffSandbox

MOCO_KEY, FS_KEY = "sandbox-key", "sandbox-key"
WHOSOFF = {
    "app_id": "sandbox-app",
    "username": "admin@example.com",
    "password": "sandbox-password",
    "client_secret": "sandbox-client-secret",
}


class SharedHost(Sandbox):
    """One server for many tenants' emulators of one vendor; a tenant's are reached below `/t/<n>`.
    Each emulator keeps its own state, request log and rate limit: per tenant, as before."""

    _TENANT = re.compile(r"/t/(\d+)(?=/|$)")

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.tenants: dict[int, Sandbox] = {}

    def add(self, number: int, sandbox: Sandbox) -> str:
        """Serves `sandbox` as tenant `number`'s; returns its base URL."""
        sandbox.url_prefix = f"/t/{number}{type(sandbox).url_prefix}"  # its routes see the path below it
        self.tenants[number] = sandbox
        return self.root + sandbox.url_prefix

    def dispatch(self, request: Request, handler: Any) -> Response | None:
        found = self._TENANT.match(request.path)
        sandbox = self.tenants.get(int(found.group(1))) if found else None
        if sandbox is None:
            return self.not_found(request)
        sandbox.requests.append((request.method, request.path))
        return sandbox.dispatch(request, handler)


def shared_hosts() -> dict[str, SharedHost]:
    hosts = {name: SharedHost(name) for name in ("moco", "whosoff", "fieldservice")}
    for host in hosts.values():
        host.start()
    return hosts


@dataclass
class TenantWorld:
    """Tenant `number`'s three systems. Staff are numbered per tenant so no two tenants share anyone;
    MOCO (the authority) holds `size` people, WhosOff and the field service overlapping parts of them."""

    number: int
    size: int = 8
    rate_limit: int | None = None  # per system, per `rate_window` seconds, enforced by the sandbox (429)
    rate_window: float = 10.0
    sandboxes: dict[str, Sandbox] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, SharedHost] | None = None  # served behind these (else each on its own port)
    whosoff_own: list[int] = field(default_factory=list)  # sample numbers only WhosOff holds

    @property
    def id(self) -> str:
        return f"tenant-{self.number:03d}"

    def start(self) -> TenantWorld:
        base = 10_000 * (self.number + 1)
        limits = {"rate_limit": self.rate_limit, "rate_window": self.rate_window}
        moco = MocoSandbox(seed_people=0, **limits)
        moco.backend.seed(sample_people(self.size, start=base))
        whosoff = WhosOffSandbox(seed_people=0, **limits)
        whosoff.backend.seed(self.size // 2, base)  # half of MOCO's people ...
        # ... and people of its own, one in each department: its adapter learns departments from its
        # users (the emulator has no department list), so a new hire's department is known there
        self.whosoff_own = []
        covered: set[str] = set()
        for n in range(base + 500, base + 600):
            if sample_person(n).department not in covered:
                covered.add(sample_person(n).department)
                self.whosoff_own.append(n)
                whosoff.backend.seed(1, n)
        fieldservice = FieldServiceSandbox(seed_people=0, **limits)
        fieldservice.backend.seed(self.size // 2, base + self.size // 4)
        self.sandboxes = {"moco": moco, "whosoff": whosoff, "fieldservice": fieldservice}
        for name, sandbox in self.sandboxes.items():
            if self.hosts is None:
                self.urls[name] = sandbox.start().url
            else:
                self.urls[name] = self.hosts[name].add(self.number, sandbox)
        return self

    def stop(self) -> None:
        for name, sandbox in self.sandboxes.items():
            if self.hosts is None:
                sandbox.stop()
            else:
                self.hosts[name].tenants.pop(self.number, None)

    def tenant(self, **sync: Any) -> dict[str, Any]:
        """The tenant as a tenant file's data (what `staffbridge tenants add` reads)."""
        urls = self.urls
        budget = {"rate_limit": self.rate_limit, "rate_period": self.rate_window} if self.rate_limit else {}
        return {
            "id": self.id,
            "systems": {
                "moco": {"adapter": "moco", "base_url": urls["moco"], "api_key": MOCO_KEY, **budget},
                "whosoff": {"adapter": "whosoff", "base_url": urls["whosoff"], **WHOSOFF, **budget},
                "fieldservice": {
                    "adapter": "fieldservice",
                    "base_url": urls["fieldservice"],
                    "api_key": FS_KEY,
                    **budget,
                },
            },
            "sync": {"authority": "moco", "interval": 60, **sync},
        }

    def connect(self, system: str) -> staffbridge.Adapter:
        return staffbridge.connect(
            system,
            **{
                k: v
                for k, v in self.tenant()["systems"][system].items()
                if k not in ("adapter", "rate_limit", "rate_period")
            },
        )

    def people(self, system: str) -> list[staffbridge.Person]:
        adapter = self.connect(system)
        try:
            return list(adapter.list(**({"include_archived": True} if system == "moco" else {})))
        finally:
            adapter.close()

    # ------------------------------------------------------------------ changes while the platform runs
    def change(self, round_: int) -> None:
        """A hire, a name change and a leaver in MOCO, different in each round. Made in the emulator's
        backend, not over HTTP: the sandbox's request counts stay the platform's alone."""
        moco = self.sandboxes["moco"]
        backend = moco.backend  # type: ignore[attr-defined]
        with moco._lock:
            unit = next(u.id for u in backend.units.values() if u.name == DEPARTMENTS[round_ % len(DEPARTMENTS)])
            backend.create_user(
                {
                    "firstname": f"Hire{round_}",
                    "lastname": f"T{self.number}",
                    "unit_id": unit,
                    "email": f"hire{round_}.t{self.number}@example.com",
                }
            )
            staff = sorted(u.id for u in backend.users.values() if u.active and not u.firstname.startswith("Hire"))
            backend.update_user(staff[round_], {"lastname": f"Renamed{round_}"})
            backend.update_user(staff[-1 - round_], {"active": False})

    # ------------------------------------------------------------------ the check
    def out_of_step(self) -> list[str]:
        """Why the tenant's systems are not in step ([] when they are): every active MOCO person once
        in each receiver with MOCO's names; every MOCO leaver inactive where a receiver can say so;
        nobody duplicated; nobody the receivers had lost."""
        problems: list[str] = []
        moco = {p.email.casefold(): p for p in self.people("moco") if p.email}
        for receiver in ("whosoff", "fieldservice"):
            records = self.people(receiver)
            emails = [p.email.casefold() for p in records if p.email]
            problems += [f"{receiver}: {e} twice" for e in sorted({e for e in emails if emails.count(e) > 1})]
            held = {p.email.casefold(): p for p in records if p.email}
            own = [sample_person(n) for n in self.whosoff_own]
            problems += [
                f"{receiver}: lost {p.email}" for p in own if receiver == "whosoff" and p.email.casefold() not in held
            ]
            for email, person in moco.items():
                there = held.get(email)
                if person.active and there is None:
                    problems.append(f"{receiver}: {email} missing")
                elif person.active and (there.first_name, there.last_name) != (person.first_name, person.last_name):
                    problems.append(f"{receiver}: {email} is {there.first_name} {there.last_name}")
                elif not person.active and there is not None and receiver == "whosoff" and there.active:
                    problems.append(f"{receiver}: leaver {email} still active")
        return problems

    def budget_exceeded(self) -> dict[str, int]:
        """system -> requests its sandbox refused for going over the budget (429s)."""
        return {name: s.rate_limit.rejected for name, s in self.sandboxes.items() if s.rate_limit.rejected}
