"""Plant a secret API key and password, do everything a user does, and grep every output for them."""

import logging

import pytest

import staffbridge
from staffbridge import Person, Ref
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sdk.testing import cassette_vcr

PLANTED_KEY = "PLANTED-moco-key-8f3a9c"
PLANTED_PASSWORD = "PLANTED-pass-Zx81!"


def test_planted_secrets_reach_no_cassette_log_error_or_repr(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("STAFFBRIDGE_RECORD", "1")  # record for real into tmp_path
    caplog.set_level(logging.DEBUG)
    shown = []
    with MocoSandbox(seed_people=120, api_key=PLANTED_KEY) as sandbox:
        recorder = cassette_vcr(tmp_path, (PLANTED_KEY,))
        with recorder.use_cassette("everything.yaml"):
            moco = staffbridge.connect("moco", base_url=sandbox.url, api_key=PLANTED_KEY, max_retries=1)
            shown.append(repr(moco))
            people = list(moco.list(include_archived=True))
            shown.append(repr(people[0]))
            created = moco.create(
                Person(
                    first_name="Plant", last_name="Ed", email="plant.ed@example.com", department=Ref(name="Service")
                ),
                password=PLANTED_PASSWORD,
            )
            moco.update(created.id, {"notes": "x"}, password=PLANTED_PASSWORD)
            for trouble in (
                lambda: moco.create(
                    Person(
                        first_name="Plant", last_name="Ed", email="plant.ed@example.com", department=Ref(name="Service")
                    ),
                    password=PLANTED_PASSWORD,
                ),
                lambda: moco.get("999999999"),
                lambda: moco.update(created.id, {"email": people[0].email}, password=PLANTED_PASSWORD),
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
        wrong = staffbridge.connect("moco", base_url=sandbox.url, api_key=PLANTED_KEY + "-wrong", max_retries=0)
        with pytest.raises(staffbridge.AuthenticationError) as info:
            wrong.get(created.id)
        shown += [str(info.value), repr(info.value), str(info.value.__dict__), repr(wrong)]

    cassette = (tmp_path / "everything.yaml").read_text(encoding="utf-8")
    assert "plant.ed@example.com" in cassette  # the recording happened
    everything = "\n".join([cassette, caplog.text, *shown])
    assert caplog.text  # DEBUG logging was on and wrote lines
    for secret in (PLANTED_KEY, PLANTED_PASSWORD):
        assert secret not in everything
