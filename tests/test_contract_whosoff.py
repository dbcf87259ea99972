import vcr.matchers

import staffbridge
from staffbridge import Person, Ref
from staffbridge.sandbox.whosoff import WhosOffSandbox
from staffbridge.sdk.testing import AdapterContract

APP_ID = "contract-app-id-7f3a"
CLIENT_SECRET = "contract-client-secret-91c2"
USERNAME = "admin@example.com"
PASSWORD = "contract-admin-password-55d0"


def body_unless_handshake(r1, r2):
    """Bodies must match, except the handshake's: it holds a fresh nonce (and its hash) every run."""
    if r1.path.rstrip("/").endswith("/authenticate/with-credentials"):
        return
    vcr.matchers.body(r1, r2)


class TestWhosOffContract(AdapterContract):
    vendor = "whosoff"
    match_on = ("method", "path", "query", body_unless_handshake)

    def start_sandbox(self):
        return WhosOffSandbox(
            seed_people=self.seed_people,
            app_id=APP_ID,
            client_secret=CLIENT_SECRET,
            username=USERNAME,
            password=PASSWORD,
        ).start()

    def connect(self, base_url):
        return staffbridge.connect(
            "whosoff",
            base_url=base_url,
            app_id=APP_ID,
            username=USERNAME,
            password=PASSWORD,
            client_secret=CLIENT_SECRET,
        )

    def new_person(self):
        return Person(
            first_name="Ada",
            last_name="Lovelace",
            email="ada.lovelace@example.com",
            department=Ref(name="Entwicklung"),
            employment_start="2024-02-01",
        )

    def expected_list_count(self):
        return self.seed_people + 1  # the sandbox's authenticating super user is a user too

    def secrets(self):
        return (APP_ID, CLIENT_SECRET, PASSWORD)
