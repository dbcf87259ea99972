"""Plant the API key, a password and vendor-side tokens, do everything a user does, grep every output."""

from pathlib import Path

import pytest

import staffbridge
from staffbridge import Person
from staffbridge.sandbox.fieldservice import FieldServiceSandbox
from staffbridge.sdk.testing import cassette_vcr

PLANTED_KEY = "PLANTED-fs-key-5d1e7b"
PLANTED_PASSWORD = "PLANTED-pass-Qw93!"
VENDOR_SECRETS = {"deviceToken": "PLANTED-device-0a9f", "webPushToken": "PLANTED-webpush-77c1"}
ACCESS_SECRETS = {"token": "PLANTED-token-3b2c", "passwordChangeToken": "PLANTED-reset-e4d5"}


def test_planted_secrets_reach_no_cassette_log_error_or_repr(tmp_path, debug_logs, monkeypatch):
    monkeypatch.setenv("STAFFBRIDGE_RECORD", "1")  # record for real into tmp_path
    shown = []
    # PUT mode: the adapter reads the stored user (vendor tokens included) and sends it back whole
    with FieldServiceSandbox(seed_people=5, api_key=PLANTED_KEY, update_verb="PUT") as sandbox:
        seeded = next(iter(sandbox.backend.users.values()))
        seeded["general"].update(VENDOR_SECRETS)
        seeded["access"].update(ACCESS_SECRETS)
        recorder = cassette_vcr(tmp_path, (PLANTED_KEY,))
        with recorder.use_cassette("everything.yaml"):
            fs = staffbridge.connect(
                "fieldservice", base_url=sandbox.url, api_key=PLANTED_KEY, max_retries=1, update_verb="PUT"
            )
            shown.append(repr(fs))
            people = list(fs.list())
            first = fs.get(seeded["_id"])
            shown += [repr(first), repr(first.raw), str(first.to_dict(include_raw=True)), str(first.problems)]
            new = Person(first_name="Plant", last_name="Ed", email="plant.ed@example.com")
            created = fs.create(new, password=PLANTED_PASSWORD, reread=True)
            shown += [repr(created), repr(created.raw)]
            updated = fs.update(seeded["_id"], {"notes": "x"}, password=PLANTED_PASSWORD)
            shown += [repr(updated), repr(updated.raw)]
            for trouble in (
                lambda: fs.create(new, password=PLANTED_PASSWORD),
                lambda: fs.get("0123456789abcdef01234567"),
                lambda: fs.update(seeded["_id"], {"email": people[1].email}, password=PLANTED_PASSWORD),
            ):
                with pytest.raises(staffbridge.StaffbridgeError) as info:
                    trouble()
                error = info.value
                shown += [
                    str(error),
                    repr(error),
                    repr(getattr(error, "request", None)),
                    str(getattr(error, "request", None) and error.request.headers),
                    str(getattr(error, "request", None) and error.request.body),
                    str(error.__dict__),
                ]
        wrong = staffbridge.connect("fieldservice", base_url=sandbox.url, api_key=PLANTED_KEY + "-wrong", max_retries=0)
        with pytest.raises(staffbridge.AuthenticationError) as info:
            wrong.get(created.id)
        shown += [str(info.value), repr(info.value), str(info.value.__dict__), repr(wrong)]
        assert sandbox.backend.check_password(seeded["_id"], PLANTED_PASSWORD)  # the password did arrive
        assert sandbox.backend.get(seeded["_id"])["general"]["deviceToken"] == VENDOR_SECRETS["deviceToken"]

    cassette = (tmp_path / "everything.yaml").read_text(encoding="utf-8")
    assert "plant.ed@example.com" in cassette and "PUT" in cassette  # the recording happened
    # what staffbridge and urllib3 log; vcrpy's own INFO lines show responses before its scrub hook
    # runs, but they exist only while recording, in the test harness
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in debug_logs.records if not r.name.startswith("vcr"))
    assert "staffbridge.http" in logged and "urllib3" in logged  # DEBUG logging was on and wrote lines
    everything = "\n".join([cassette, logged, *shown])
    for secret in (PLANTED_KEY, PLANTED_PASSWORD, *VENDOR_SECRETS.values(), *ACCESS_SECRETS.values()):
        assert secret not in everything, secret


def test_the_shipped_cassettes_hold_no_key():
    cassettes = Path(__file__).resolve().parents[1] / "cassettes"
    text = "".join(p.read_text(encoding="utf-8") for p in (cassettes / "fieldservice").glob("*.yaml"))
    assert text and "sandbox-key" not in text
    assert "x-API-Key:\n      - '***'" in text
