import staffbridge
from staffbridge import Person, Ref
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sdk.testing import AdapterContract

API_KEY = "sandbox-key"


class TestMocoContract(AdapterContract):
    vendor = "moco"
    list_kwargs = {"include_archived": True}

    def start_sandbox(self):
        return MocoSandbox(seed_people=self.seed_people, api_key=API_KEY).start()

    def connect(self, base_url):
        return staffbridge.connect(
            "moco", base_url=base_url + ("" if base_url.endswith("/api/v1") else "/api/v1"), api_key=API_KEY
        )

    def new_person(self):
        return Person(
            first_name="Ada",
            last_name="Lovelace",
            email="ada.lovelace@example.com",
            department=Ref(name="Entwicklung"),
            birthday="1815-12-10",
            language="en",
        )

    def secrets(self):
        return (API_KEY,)
