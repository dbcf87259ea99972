"""Planted secrets (app id, client secret, passwords, tokens, nonces, derived secrets) must not show
up in cassettes, logs (DEBUG), exception texts or reprs."""

import re
from pathlib import Path

import pytest

import staffbridge
from staffbridge import AuthenticationError, NotFound, Person, Ref, StaffbridgeError
from staffbridge.adapters.whosoff_auth import derive_secret
from staffbridge.sandbox.whosoff import WhosOffSandbox
from staffbridge.sdk.testing import cassette_vcr

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"

APP_ID = "plant-app-4a1b9c"
CLIENT_SECRET = "plant-client-secret-77e2"
ADMIN_PASSWORD = "plant-admin-pw-31f0"
USER_PASSWORD = "plant-user-pw-9d3c"
NEW_PASSWORD = "plant-new-pw-5e6f"
READY_TOKEN = "plant-ready-token-c0ffee"
WRONG_PASSWORD = "plant-wrong-pw-0b0b"
PLANTED = (APP_ID, CLIENT_SECRET, ADMIN_PASSWORD, USER_PASSWORD, NEW_PASSWORD, READY_TOKEN, WRONG_PASSWORD)


def connect(sb, **settings):
    values = dict(
        base_url=sb.url,
        app_id=APP_ID,
        username="admin@example.com",
        password=ADMIN_PASSWORD,
        client_secret=CLIENT_SECRET,
        max_retries=1,
    )
    values.update(settings)
    return staffbridge.connect("whosoff", **{k: v for k, v in values.items() if v is not None})


def test_no_secret_leaks_anywhere(tmp_path, monkeypatch, debug_logs):
    monkeypatch.setenv("STAFFBRIDGE_RECORD", "1")
    shown: list[str] = []  # every text a user could see

    def keep(error: BaseException) -> None:
        shown.extend([str(error), repr(error)])
        for name in ("request", "body", "messages"):
            shown.append(repr(getattr(error, name, None)))
        request = getattr(error, "request", None)
        if request is not None:
            shown.extend([repr(request.headers), repr(request.body), request.url])

    with WhosOffSandbox(
        seed_people=10, app_id=APP_ID, client_secret=CLIENT_SECRET, password=ADMIN_PASSWORD, access_token=READY_TOKEN
    ) as sb:
        recorder = cassette_vcr(tmp_path, PLANTED)
        with recorder.use_cassette("leaks.yaml"):
            wo = connect(sb)
            shown.append(repr(wo))
            shown.append(repr(wo.tokens))
            people = list(wo.list())
            created = wo.create(
                Person(
                    first_name="Ada", last_name="Lovelace", email="ada@example.com", department=Ref(name="Vertrieb")
                ),
                password=USER_PASSWORD,
            )
            shown.extend(repr(p) for p in [*people, created])
            shown.append(repr(created.raw))
            wo.update(created.id, {"title": "Dr."}, password=NEW_PASSWORD)
            generated = wo.create(
                Person(first_name="Gen", last_name="Erated", email="gen@example.com", department=Ref(id="123456"))
            )
            shown.extend([repr(generated), repr(generated.raw)])
            sb.backend.expire_tokens()
            wo.get(created.id)  # transparent refresh
            for call in (
                lambda: wo.get("999999"),
                lambda: wo.create(
                    Person(first_name="Dup", last_name="Licate", email="ada@example.com", department=Ref(id="123456")),
                    password=USER_PASSWORD,
                ),
                lambda: wo.update(created.id, {"email": "x@"}),
                lambda: wo.update(created.id, {"first_name": "x" * 300}),
            ):
                with pytest.raises(StaffbridgeError) as info:
                    call()
                keep(info.value)
            with pytest.raises(AuthenticationError) as info:
                connect(sb, password=WRONG_PASSWORD).me()
            keep(info.value)
            with pytest.raises(AuthenticationError) as info:
                connect(
                    sb, username=None, password=None, client_secret=None, access_token="plant-made-up-token-1234"
                ).me()
            keep(info.value)
            with pytest.raises(AuthenticationError) as info:  # wrong app id: every header is wrong
                connect(sb, app_id="plant-wrong-app-id").me()
            keep(info.value)
            with pytest.raises(NotFound) as info:
                wo.delete("999998")
            keep(info.value)
        for setting in ({"password": None}, {"secret_encoding": "rot13"}):
            with pytest.raises(StaffbridgeError) as info:
                connect(sb, **setting)
            keep(info.value)
        issued = list(sb.backend.tokens)
        nonces = list(sb.backend.used_nonces)

    derived = [derive_secret(n, CLIENT_SECRET) for n in nonces]
    forbidden = [*PLANTED, "plant-made-up-token-1234", "plant-wrong-app-id", *issued, *nonces, *derived]
    assert len(nonces) >= 3 and len(issued) >= 3
    cassette = (tmp_path / "leaks.yaml").read_text()
    logs = debug_logs.text + "\n".join(str(r.args) for r in debug_logs.records)
    for where, text in (("cassette", cassette), ("logs", logs), ("errors and reprs", "\n".join(shown))):
        leaked = [secret for secret in forbidden if secret in text]
        assert not leaked, f"{where} leaks {leaked[:3]}"
    assert "/v4/user/create" in cassette and "Bearer" not in cassette


def test_committed_cassettes_hold_no_secrets():
    contract = ("contract-app-id-7f3a", "contract-client-secret-91c2", "contract-admin-password-55d0")
    files = list(Path(CASSETTES / "whosoff").glob("*.yaml"))
    assert files
    for path in files:
        text = path.read_text()
        assert not [s for s in contract if s in text], path.name
        assert "Bearer" not in text, path.name
        assert not re.search(r"\b[0-9a-fA-F]{32,}\b", text), f"{path.name}: a nonce or derived secret"
        assert '"nonce": "***"' in text and '"secret": "***"' in text, path.name
