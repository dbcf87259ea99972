"""The shared adapter contract for MOCO, replayed from cassettes/moco/ (record anew: README)."""

from staffbridge import Person, Ref
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sdk.testing import AdapterContract


class TestMocoContract(AdapterContract):
    adapter = "moco"
    sandbox = MocoSandbox
    list_kwargs = {"include_archived": True}
    person = Person(
        first_name="Ada",
        last_name="Lovelace",
        email="ada.lovelace@example.com",
        department=Ref(name="Entwicklung"),
        birthday="1815-12-10",
        language="en",
    )
