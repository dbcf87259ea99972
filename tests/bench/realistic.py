"""Records as real accounts hold them: every field the vendor's mapping reads is filled.

The sandboxes seed lean people (no IBAN, no avatar, no middle name, no end date...), which is right
for the tests that read them, but flatters a benchmark: a real account fills most fields, and every
filled field is work for the client (dates parsed, nested objects walked, lists copied). `fill(vendor,
sandbox)` fills the rest in a started sandbox's backend, in place, the same way for every size, so
person n still has the same name, email and department in every sandbox (migrations still match).
Used by the benchmarks only (tests/bench/sandbox_process.py); the tests keep the seeded records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

MIDDLE_NAMES = ("Maria", "Johann", "Luise", "Karl", "Sophie", "Friedrich", "Anna", "Theodor")
TITLES = ("Dr.", "Prof.", "Dipl.-Ing.", "Mag.", "B.Sc.", "M.A.")
GENDERS = ("female", "male", "diverse")


def iban(number: int) -> str:
    return f"DE{number % 97:02d} 3704 0044 {number % 10_000:04d} {number // 10_000 % 10_000:04d} {number % 100:02d}"


def fill(vendor: str, sandbox: Any) -> None:
    """Fills every mapped field of every stored user of `sandbox` (a started MOCO, WhosOff or
    field-service sandbox)."""
    {"moco": _moco, "whosoff": _whosoff, "fieldservice": _fieldservice}[vendor](sandbox.backend)


def _moco(backend: Any) -> None:
    for user in backend.users.values():
        n = user.id % 1_000_000
        user.iban = iban(n)
        user.avatar_filename = f"avatar-{n}.png"
        user.info = user.info or f"Ersthelfer, Schlüssel {n % 400}"
        user.tags = user.tags or ["Deutschland", "Remote"][: 1 + n % 2]
        user.custom_properties = {**user.custom_properties, "Kostenstelle": f"KST-{n % 50:03d}", "Parkplatz": "P2"}
    backend.version += 1  # its list cache keys on the version


def _whosoff(backend: Any) -> None:
    for user in backend.users.values():
        n = user.user_id
        user.middle_name = user.middle_name or MIDDLE_NAMES[n % len(MIDDLE_NAMES)]
        user.title = user.title or TITLES[n % len(TITLES)]
        user.active_directory_username = user.active_directory_username or f"CORP\\{user.first_name.lower()}{n}"
        start = dt.date.fromisoformat(user.employment_started_date or "2015-04-01")
        user.employment_started_date = start.isoformat()
        user.employment_ended_date = user.employment_ended_date or dt.date(start.year + 12, 3, 31).isoformat()
        user.work_telephone = user.work_telephone or f"+49 40 {1_000_000 + n % 1_000_000:07d}"
        user.mobile_telephone = user.mobile_telephone or f"+49 170 {2_000_000 + n % 1_000_000:07d}"


def _fieldservice(backend: Any) -> None:
    for user in backend.users.values():
        n = int(user["_id"][8:], 16)
        general, contract, address = user["general"], user["contract"], user["address"]
        general.setdefault("description", f"Ersthelfer, Schlüssel {n % 400}")
        general["profileImage"] = f"https://cdn.example.com/profiles/{user['_id']}.png"
        general["sex"] = GENDERS[n % len(GENDERS)]
        start = dt.date.fromisoformat(contract["startDate"][:10])
        contract["endDate"] = f"{start.year + 12}-03-31T00:00:00Z"
        address.setdefault("state", "Hamburg")
        address.setdefault("co", "Musterfirma GmbH")
        user["tags"] = user.get("tags") or ["Deutschland", "Remote"][: 1 + n % 2]
