"""WhosOff v4 authentication: the nonce / SHA-512 handshake and the bearer token it yields.

`TokenManager` hands out a valid access token, authenticating when it has none or when the one it
has is about to expire; `refused(token)` is how the adapter says the API turned a token down. It is
shared by every thread of one adapter (a migration runs parallel workers): one handshake at a time,
and a token that several threads saw refused is replaced once, not once per thread.

Nothing here does HTTP: the adapter gives a `send(body)` that posts the handshake and returns the
answer's `Data`, so this module is tested with plain data.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import math
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from staffbridge.model.errors import AuthenticationError, ResponseError, ServerError, TransportError

log = logging.getLogger("staffbridge.adapters.whosoff")

SECRET_ENCODINGS = ("hex", "hex_upper", "base64")


class HandshakeRefused(AuthenticationError):
    """The handshake itself failed: wrong credentials, app id, IP, locked or disabled account.

    Never retried automatically: WhosOff locks an account after repeated failed log-ins.
    """


@dataclass(frozen=True)
class Credentials:
    """What the credentials handshake needs. `repr` shows none of the secrets."""

    app_id: str = field(repr=False)
    username: str
    password: str = field(repr=False)
    client_secret: str = field(repr=False)
    ip_address: str | None = None
    secret_encoding: str = "hex"


def new_nonce() -> str:
    """A fresh random nonce (128 bits, hex): WhosOff refuses a nonce it has seen before."""
    return secrets.token_hex(16)


def derive_secret(nonce: str, client_secret: str, encoding: str = "hex") -> str:
    """SHA-512 of nonce + client_secret, as the docs spell it; the encoding is not documented."""
    digest = hashlib.sha512((nonce + client_secret).encode("utf-8")).digest()
    if encoding == "base64":
        return base64.b64encode(digest).decode("ascii")
    if encoding == "hex_upper":
        return digest.hex().upper()
    if encoding == "hex":
        return digest.hex()
    raise ValueError(f"secret_encoding must be one of {', '.join(SECRET_ENCODINGS)}")


def handshake_body(credentials: Credentials, nonce: str) -> dict[str, Any]:
    """The body of POST /v4/authenticate/with-credentials, field for field as the docs show it."""
    return {
        "username": credentials.username,
        "password": credentials.password,
        "ip_address": credentials.ip_address or "",
        "nonce": nonce,
        "secret": derive_secret(nonce, credentials.client_secret, credentials.secret_encoding),
        "app_id": credentials.app_id,
        "delay": False,
    }


# ------------------------------------------------------------------ reading the answer

_DOTNET_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_expiry(value: Any) -> float | None:
    """`token_expiry_date` as epoch seconds; None when absent or unreadable.

    The DateTime format is not documented, so this reads what a .NET API plausibly sends: ISO 8601
    with Z, an offset or none (taken as UTC), "/Date(ms)/", or epoch seconds / milliseconds.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
        return number / 1000 if number > 10**11 else number  # milliseconds are 1000x larger
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _DOTNET_DATE.match(text)
    if match:
        return int(match.group(1)) / 1000
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return parse_expiry(float(text))
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00").replace(" ", "T", 1))
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


@dataclass(frozen=True)
class IssuedToken:
    access_token: str = field(repr=False)
    expires_at: float | None  # epoch seconds; None: the answer said nothing usable
    user: dict[str, Any] = field(default_factory=dict)


def read_token(data: Any) -> IssuedToken:
    """The token from the handshake's Data: `{token: {access_token, token_expiry_date}, user: {...}}`.

    Also accepted: `token` as the bare token string, and the token fields one level up.
    """
    if isinstance(data, list) and len(data) == 1:  # the docs print Data as an array
        data = data[0]
    if not isinstance(data, dict):
        raise ResponseError(
            f"whosoff: the authenticate answer is not an object (got {type(data).__name__})", vendor="whosoff"
        )
    token = data.get("token")
    if isinstance(token, dict):
        access, expiry = token.get("access_token"), token.get("token_expiry_date")
    elif isinstance(token, str):
        access, expiry = token, data.get("token_expiry_date")
    else:
        access, expiry = data.get("access_token"), data.get("token_expiry_date")
    if not isinstance(access, str) or not access.strip():
        raise ResponseError("whosoff: the authenticate answer holds no access token", vendor="whosoff")
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    expires_at = parse_expiry(expiry)
    if expiry not in (None, "") and expires_at is None:
        log.warning("whosoff: token_expiry_date %r is unreadable; treating the token as short-lived", expiry)
    return IssuedToken(access.strip(), expires_at, dict(user))


# ------------------------------------------------------------------ the manager


@dataclass
class _Current:
    token: str = field(repr=False)
    refresh_at: float  # epoch seconds; math.inf for a ready token, used until the API refuses it


class TokenManager:
    """A valid bearer token on demand, shared by threads.

    - `margin`: refresh this many seconds before `token_expiry_date` (at most half the lifetime,
      so a short-lived token is still used).
    - `fallback_lifetime`: how long to trust a token whose answer had no readable expiry.
    - A ready `access_token` is used until the API refuses it; then, with credentials, the
      handshake takes over, and without them the refusal is final.
    """

    def __init__(
        self,
        send: Callable[[dict[str, Any]], Any] | None,
        credentials: Credentials | None,
        access_token: str | None = None,
        margin: float = 60.0,
        fallback_lifetime: float = 300.0,
        clock: Callable[[], float] = time.time,
        on_new_secret: Callable[[str], None] | None = None,
        attempts: int = 3,
    ):
        self._send = send
        self.credentials = credentials
        self.margin = margin
        self.fallback_lifetime = fallback_lifetime
        self._clock = clock
        self._on_new_secret = on_new_secret or (lambda value: None)
        self._attempts = attempts
        self._lock = threading.Lock()
        self._current = _Current(access_token, math.inf) if access_token else None
        self.handshakes = 0  # how many were made: tests and diagnostics
        self.user: dict[str, Any] = {}  # who the handshake logged in as (no secrets in it)

    def __repr__(self) -> str:
        state = "no token" if self._current is None else "a token"
        return f"<TokenManager {state}, {self.handshakes} handshake(s)>"

    @property
    def can_refresh(self) -> bool:
        return self.credentials is not None and self._send is not None

    def token(self) -> str:
        current = self._current
        if current is not None and self._clock() < current.refresh_at:
            return current.token
        with self._lock:
            current = self._current  # another thread may have refreshed while we waited
            if current is not None and self._clock() < current.refresh_at:
                return current.token
            if not self.can_refresh:
                raise HandshakeRefused(
                    "whosoff: the access token was refused or has expired, and no "
                    "username/password/client_secret are configured to get a new one",
                    vendor="whosoff",
                )
            self._current = self._authenticate()
            return self._current.token

    def refused(self, token: str | None) -> bool:
        """The API refused `token`. Forget it; True when a new one can be had (then retry once)."""
        with self._lock:
            if self._current is not None and self._current.token == token:
                self._current = None
            elif self._current is not None and token is not None:
                return True  # another thread already replaced it: retry with the new one
        return self.can_refresh

    def _authenticate(self) -> _Current:
        assert self.credentials is not None and self._send is not None
        last_error: Exception | None = None
        for attempt in range(self._attempts):
            nonce = new_nonce()  # a fresh nonce on every attempt: a sent one is spent
            body = handshake_body(self.credentials, nonce)
            self._on_new_secret(nonce)
            self._on_new_secret(body["secret"])
            received = self._clock()
            try:
                issued = read_token(self._send(body))
            except (ServerError, TransportError) as exc:  # a lost answer: the nonce is spent, take a new one
                if attempt + 1 >= self._attempts:
                    raise
                last_error = exc
                log.info(
                    "whosoff: authentication attempt %d failed (%s); trying again with a new nonce",
                    attempt + 1,
                    type(exc).__name__,
                )
                continue
            self._on_new_secret(issued.access_token)
            self.handshakes += 1
            self.user = issued.user
            refresh_at = self._refresh_time(issued.expires_at, received)
            log.debug(
                "whosoff: authenticated as user %s; next refresh in %.0f s",
                issued.user.get("user_id", "?"),
                refresh_at - received,
            )
            return _Current(issued.access_token, refresh_at)
        raise AssertionError("unreachable") from last_error

    def _refresh_time(self, expires_at: float | None, received: float) -> float:
        if expires_at is None:
            return received + self.fallback_lifetime
        lifetime = expires_at - received
        if lifetime <= 0:
            # Already expired by our clock: the clocks disagree. The server just issued it, so use
            # it briefly instead of authenticating before every call.
            log.warning("whosoff: token_expiry_date lies in the past by our clock (clock skew?)")
            return received + min(self.fallback_lifetime, 30.0)
        return expires_at - min(self.margin, lifetime / 2)
