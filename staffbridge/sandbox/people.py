"""Realistic sample staff shared by every sandbox.

Person number `n` is the same person in every emulator (same name, email, birthday, department), so
sandboxes seeded with overlapping ranges hold overlapping staff, as real directories of one company do:
the migration demo and the unify job need exactly that. Vendor emulators render these into their own
record shapes.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elif",
    "Felix",
    "Greta",
    "Hannes",
    "Ida",
    "Jonas",
    "Katrin",
    "Lukas",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
    "Quirin",
    "Rosa",
    "Sven",
    "Tilda",
    "Ugo",
    "Vera",
    "Willi",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Åsa",
    "Jürgen",
    "Chloé",
    "Mateo",
]
LAST_NAMES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "O'Brien",
    "Nguyen",
]
DEPARTMENTS = ["Geschäftsleitung", "Entwicklung", "Vertrieb", "Buchhaltung", "Service", "Marketing"]
ROLES = ["Mitarbeiter", "Entwickler", "Teamleitung", "Administrator"]
CITIES = [
    ("10115", "Berlin"),
    ("20095", "Hamburg"),
    ("80331", "München"),
    ("50667", "Köln"),
    ("8001", "Zürich"),
    ("1010", "Wien"),
]
STREETS = ["Hauptstraße", "Bahnhofstraße", "Lindenweg", "Gartenstraße", "Schulstraße", "Am Markt"]
TAGS = ["Deutschland", "Schweiz", "Österreich", "Remote", "Teilzeit", "Werkstudent"]
LANGUAGES = ["de", "de", "de", "en", "de-CH", "fr", "it"]


@dataclass(frozen=True)
class SamplePerson:
    number: int
    first_name: str
    last_name: str
    email: str
    work_phone: str
    mobile_phone: str
    birthday: dt.date
    department: str
    role: str
    employee_number: str
    language: str
    street: str
    zip: str
    city: str
    country: str
    tags: tuple[str, ...] = field(default=())
    notes: str = ""
    active: bool = True
    external: bool = False
    employment_start: dt.date = dt.date(2020, 1, 1)

    @property
    def address_lines(self) -> str:
        return f"{self.first_name} {self.last_name}\n{self.street}\n{self.zip} {self.city}"


EMAIL_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "å": "a", "é": "e", "'": None})


def sample_person(number: int) -> SamplePerson:
    """Person `number` (0-based), identical on every call and in every sandbox."""
    rnd = random.Random(number * 7919 + 17)
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    last = LAST_NAMES[(number // len(FIRST_NAMES) + number * 7) % len(LAST_NAMES)]
    local = f"{first}.{last}".lower().translate(EMAIL_LETTERS)
    zip_code, city = CITIES[rnd.randrange(len(CITIES))]
    country = {"Zürich": "CH", "Wien": "AT"}.get(city, "DE")
    return SamplePerson(
        number=number,
        first_name=first,
        last_name=last,
        email=f"{local}.{number}@example.com",
        work_phone=f"+49 40 {1000000 + number:07d}",
        mobile_phone=f"+49 170 {2000000 + number * 3:07d}",
        birthday=dt.date(1960 + rnd.randrange(40), 1 + rnd.randrange(12), 1 + rnd.randrange(28)),
        department=DEPARTMENTS[number % len(DEPARTMENTS)],
        role=ROLES[rnd.randrange(len(ROLES))],
        employee_number=f"E{number + 1:05d}",
        language=LANGUAGES[rnd.randrange(len(LANGUAGES))],
        street=f"{STREETS[rnd.randrange(len(STREETS))]} {1 + rnd.randrange(120)}",
        zip=zip_code,
        city=city,
        country=country,
        tags=tuple(sorted(rnd.sample(TAGS, rnd.randrange(3)))),
        notes="" if rnd.random() < 0.7 else "Ersthelfer",
        active=rnd.random() > 0.08,
        external=rnd.random() < 0.1,
        employment_start=dt.date(2010 + rnd.randrange(14), 1 + rnd.randrange(12), 1),
    )


def sample_people(count: int, start: int = 0) -> list[SamplePerson]:
    return [sample_person(n) for n in range(start, start + count)]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Seeding makes 100,000s of acyclic records; cyclic GC passes over them would triple the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
