"""The shared adapter contract for the v2 field-service API, replayed from cassettes/fieldservice/.

Record anew with `pytest --record-cassettes tests/test_contract_fieldservice.py` (starts the bundled
FieldServiceSandbox in-process; the x-API-Key header and the key itself are scrubbed).
"""

from __future__ import annotations

import datetime as dt

from staffbridge import Address, Person, Ref, connect
from staffbridge.sandbox.fieldservice import FieldServiceSandbox
from staffbridge.sdk.adapter import Adapter
from staffbridge.sdk.testing import AdapterContract

API_KEY = "sandbox-key"


class TestFieldServiceContract(AdapterContract):
    vendor = "fieldservice"

    def start_sandbox(self) -> FieldServiceSandbox:
        return FieldServiceSandbox(seed_people=self.seed_people, api_key=API_KEY).start()

    def connect(self, base_url: str) -> Adapter:
        return connect("fieldservice", base_url=base_url, api_key=API_KEY, max_retries=0)

    def secrets(self) -> tuple[str, ...]:
        return (API_KEY,)

    def missing_id(self) -> str:
        return "0123456789abcdef01234567"  # a well-formed ObjectId no seeded or created user has

    def new_person(self) -> Person:
        return Person(
            first_name="Ada",
            last_name="Lovelace",
            email="ada.lovelace@example.com",
            birthday=dt.date(1990, 8, 15),
            language="en",
            gender="female",
            work_phone="+49 40 5550100",
            department=Ref(name="Service"),
            role=Ref("service"),
            employment_start=dt.date(2024, 1, 1),
            tags=["certified"],
            address=Address(street="Hauptstraße 1", zip="10115", city="Berlin", country="DE"),
        )
