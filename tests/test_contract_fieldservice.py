"""The shared adapter contract for the v2 field-service API, replayed from cassettes/fieldservice/
(record anew: `pytest --record-cassettes tests/test_contract_fieldservice.py`)."""

import datetime as dt

from staffbridge import Address, Person, Ref
from staffbridge.sandbox.fieldservice import FieldServiceSandbox
from staffbridge.sdk.testing import AdapterContract


class TestFieldServiceContract(AdapterContract):
    adapter = "fieldservice"
    sandbox = FieldServiceSandbox
    missing_id = "0123456789abcdef01234567"  # a well-formed ObjectId no seeded or created user has
    person = Person(
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
