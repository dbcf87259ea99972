"""The WhosOff handshake and token lifecycle, with plain data (a fake `send`, a fake clock)."""

import base64
import datetime as dt
import hashlib
import threading
import time

import pytest

from staffbridge.adapters.whosoff_auth import (
    Credentials,
    HandshakeRefused,
    TokenManager,
    derive_secret,
    handshake_body,
    new_nonce,
    read_token,
)
from staffbridge.model.errors import ResponseError, ServerError
from staffbridge.sandbox.whosoff import WhosOffBackend
from staffbridge.sdk.auth import parse_expiry

CREDS = Credentials("app-1", "admin@example.com", "pw-1", "client-secret-1", "203.0.113.9")
NOW = 1_800_000_000.0


def stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeWhosOff:
    """Answers handshakes like the API: checks the secret, issues numbered tokens."""

    def __init__(self, lifetime: float | None = 3600, clock=lambda: NOW):
        self.lifetime, self.clock = lifetime, clock
        self.bodies: list[dict] = []
        self.failures: list[Exception] = []

    def __call__(self, body):
        self.bodies.append(body)
        if self.failures:
            raise self.failures.pop(0)
        assert body["secret"] == hashlib.sha512((body["nonce"] + "client-secret-1").encode()).hexdigest()
        token = {"access_token": f"token-{len(self.bodies)}"}
        if self.lifetime is not None:
            token["token_expiry_date"] = stamp(self.clock() + self.lifetime)
        return {"token": token, "user": {"user_id": 7, "first_name": "Ada"}}


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


# ------------------------------------------------------------------ the secret and the body


@pytest.mark.parametrize("encoding", ["hex", "HEX", "base64"])
def test_secret_matches_what_the_sandbox_expects(encoding):
    backend = WhosOffBackend(seed_people=0, client_secret="client-secret-1", secret_encoding=encoding)
    ours = {"hex": "hex", "HEX": "hex_upper", "base64": "base64"}[encoding]
    nonce = new_nonce()
    assert derive_secret(nonce, "client-secret-1", ours) == backend.expected_secret(nonce)


def test_secret_is_sha512_of_nonce_then_client_secret():
    digest = hashlib.sha512(b"abc" + b"xyz").digest()
    assert derive_secret("abc", "xyz") == digest.hex()
    assert derive_secret("abc", "xyz", "base64") == base64.b64encode(digest).decode()
    with pytest.raises(ValueError):
        derive_secret("abc", "xyz", "rot13")


def test_nonces_are_fresh():
    nonces = {new_nonce() for _ in range(2000)}
    assert len(nonces) == 2000 and all(len(n) == 32 for n in nonces)


def test_handshake_body_is_the_documented_one():
    body = handshake_body(CREDS, "n1")
    assert body == {
        "username": "admin@example.com",
        "password": "pw-1",
        "ip_address": "203.0.113.9",
        "nonce": "n1",
        "secret": derive_secret("n1", "client-secret-1"),
        "app_id": "app-1",
        "delay": False,
    }
    assert "pw-1" not in repr(CREDS) and "client-secret-1" not in repr(CREDS) and "app-1" not in repr(CREDS)


# ------------------------------------------------------------------ reading the answer


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2027-01-15T10:00:00Z", dt.datetime(2027, 1, 15, 10, tzinfo=dt.UTC).timestamp()),
        ("2027-01-15T10:00:00", dt.datetime(2027, 1, 15, 10, tzinfo=dt.UTC).timestamp()),
        ("2027-01-15T12:00:00+02:00", dt.datetime(2027, 1, 15, 10, tzinfo=dt.UTC).timestamp()),
        ("2027-01-15 10:00:00", dt.datetime(2027, 1, 15, 10, tzinfo=dt.UTC).timestamp()),
        (
            "2027-01-15T10:00:00.1234567Z",
            dt.datetime(2027, 1, 15, 10, 0, 0, 123456, tzinfo=dt.UTC).timestamp(),
        ),
        ("/Date(1800000000000)/", 1_800_000_000.0),
        (1_800_000_000, 1_800_000_000.0),
        (1_800_000_000_000, 1_800_000_000.0),
        ("1800000000", 1_800_000_000.0),
        (None, None),
        ("", None),
        ("next tuesday", None),
        (True, None),
        ({"x": 1}, None),
    ],
)
def test_parse_expiry(value, expected):
    assert parse_expiry(value) == expected


def test_read_token_shapes():
    full = read_token(
        {"token": {"access_token": "t1", "token_expiry_date": "2027-01-15T10:00:00Z"}, "user": {"user_id": 5}}
    )
    assert (full.access_token, full.user) == ("t1", {"user_id": 5}) and full.expires_at
    assert read_token([{"token": {"access_token": "t0"}}]).access_token == "t0"  # Data as an array
    assert read_token({"token": "t2"}).expires_at is None  # no expiry: handled by the manager
    assert read_token({"access_token": "t3", "token_expiry_date": None}).access_token == "t3"
    assert "t1" not in repr(full)
    for bad in ({"token": {}}, {"token": {"access_token": ""}}, {"user": {}}, [], None, "t"):
        with pytest.raises(ResponseError):
            read_token(bad)


# ------------------------------------------------------------------ the manager


def test_token_is_reused_until_shortly_before_expiry():
    clock = Clock()
    api = FakeWhosOff(lifetime=3600, clock=clock)
    tokens = TokenManager(api, CREDS, margin=60, clock=clock)
    assert tokens.token() == "token-1"
    clock.now += 3500
    assert tokens.token() == "token-1"
    clock.now += 50  # inside the 60 s margin
    assert tokens.token() == "token-2"
    assert tokens.handshakes == 2 and tokens.user == {"user_id": 7, "first_name": "Ada"}
    assert len({b["nonce"] for b in api.bodies}) == 2


def test_a_token_without_expiry_is_short_lived():
    clock = Clock()
    tokens = TokenManager(FakeWhosOff(lifetime=None, clock=clock), CREDS, fallback_lifetime=300, clock=clock)
    assert tokens.token() == "token-1"
    clock.now += 299
    assert tokens.token() == "token-1"
    clock.now += 2
    assert tokens.token() == "token-2"


def test_a_short_lived_token_is_still_used():
    clock = Clock()
    tokens = TokenManager(FakeWhosOff(lifetime=10, clock=clock), CREDS, margin=60, clock=clock)
    tokens.token()
    clock.now += 4  # margin is capped at half the lifetime
    assert tokens.token() == "token-1" and tokens.handshakes == 1


def test_an_expiry_in_the_past_does_not_loop():
    clock = Clock()
    tokens = TokenManager(FakeWhosOff(lifetime=-600, clock=clock), CREDS, clock=clock)
    assert tokens.token() == tokens.token() == "token-1"


def test_a_refused_token_is_replaced_once():
    tokens = TokenManager(FakeWhosOff(), CREDS)
    first = tokens.token()
    assert tokens.refused(first) is True
    second = tokens.token()
    assert second != first
    # a second thread reporting the old token does not throw away the new one
    assert tokens.refused(first) is True
    assert tokens.token() == second and tokens.handshakes == 2


def test_a_ready_token_without_credentials_cannot_be_replaced():
    tokens = TokenManager(None, None, access_token="ready")
    assert tokens.token() == "ready"
    assert tokens.refused("ready") is False
    with pytest.raises(HandshakeRefused) as info:
        tokens.token()
    assert "ready" not in str(info.value)


def test_a_ready_token_with_credentials_falls_back_to_the_handshake():
    tokens = TokenManager(FakeWhosOff(), CREDS, access_token="ready")
    assert tokens.token() == "ready" and tokens.handshakes == 0
    assert tokens.refused("ready") is True
    assert tokens.token() == "token-1"


def test_a_lost_answer_is_tried_again_with_a_new_nonce():
    api = FakeWhosOff()
    api.failures = [ServerError("whosoff server error", status=502)]
    tokens = TokenManager(api, CREDS)
    assert tokens.token() == "token-2"
    assert api.bodies[0]["nonce"] != api.bodies[1]["nonce"]


def test_a_refused_handshake_is_not_tried_again():
    api = FakeWhosOff()
    api.failures = [HandshakeRefused("whosoff refused the authentication", status=400)]
    tokens = TokenManager(api, CREDS)
    with pytest.raises(HandshakeRefused):
        tokens.token()
    assert len(api.bodies) == 1


def test_parallel_threads_share_one_handshake():
    calls = []

    def slow_send(body):
        calls.append(body)
        time.sleep(0.05)
        token = "shared" if len(calls) == 1 else f"renewed-{len(calls)}"
        return {"token": {"access_token": token, "token_expiry_date": stamp(time.time() + 3600)}}

    tokens = TokenManager(slow_send, CREDS)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(tokens.token())) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["shared"] * 16 and len(calls) == 1
    # and after a refusal seen by every thread at once, still one new handshake
    barrier = threading.Barrier(8)

    def refuse_and_get():
        barrier.wait()
        tokens.refused("shared")
        tokens.token()

    threads = [threading.Thread(target=refuse_and_get) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 2
