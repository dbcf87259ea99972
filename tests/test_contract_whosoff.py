"""The shared adapter contract for WhosOff v4, replayed from cassettes/whosoff/ (record anew: README)."""

from staffbridge import Person, Ref
from staffbridge.sandbox.whosoff import WhosOffSandbox
from staffbridge.sdk.testing import AdapterContract


class TestWhosOffContract(AdapterContract):
    adapter = "whosoff"
    sandbox = WhosOffSandbox
    expected_people = AdapterContract.seed_people + 1  # the sandbox's authenticating super user is a user too
    person = Person(
        first_name="Ada",
        last_name="Lovelace",
        email="ada.lovelace@example.com",
        department=Ref(name="Entwicklung"),
        employment_start="2024-02-01",
    )
