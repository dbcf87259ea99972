"""Credentials on every request, declared on the adapter (`auth = HeaderAuth(...)`).

- `HeaderAuth`: a secret setting in a header, e.g. MOCO's `Authorization: Token token=<api_key>`
  (`HeaderAuth("Authorization", prefix="Token token=")`) or the field-service API key
  (`HeaderAuth("x-API-Key")`); `optional` headers go along when their setting is given.
- `BearerTokenAuth`: `Authorization: Bearer <token>`, the token fetched by a hook (a handshake, an
  OAuth exchange) and replaced shortly before it expires or once the API refuses it. Shared by every
  thread of one adapter: one fetch at a time, and a token several threads saw refused is replaced once.

An auth object is called with the headers of each request and the adapter's settings.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from staffbridge.model.errors import AuthenticationError, ServerError, TransportError

log = logging.getLogger("staffbridge.auth")
T = TypeVar("T")


class Auth(Protocol):
    def __call__(self, headers: dict[str, str], settings: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class HeaderAuth:
    header: str
    setting: str = "api_key"
    prefix: str = ""
    optional: Mapping[str, str] = field(default_factory=dict)  # header -> setting, sent when it is set

    def __call__(self, headers: dict[str, str], settings: Mapping[str, Any]) -> None:
        headers[self.header] = f"{self.prefix}{settings[self.setting]}"
        for header, name in self.optional.items():
            if settings.get(name):
                headers[header] = str(settings[name])


@dataclass(frozen=True)
class IssuedToken:
    access_token: str = field(repr=False)
    expires_at: float | None  # epoch seconds; None: the answer said nothing usable
    user: dict[str, Any] = field(default_factory=dict)  # whom the token was issued to (no secrets)


@dataclass
class _Current:
    token: str = field(repr=False)
    refresh_at: float  # epoch seconds; math.inf for a ready token, used until the API refuses it


class BearerTokenAuth:
    """A valid bearer token on demand. `fetch()` returns an IssuedToken (None: no way to get one).

    - `access_token`: a ready token, used until the API refuses it; then `fetch` takes over, and
      without one the refusal is final (`cannot_refresh` says so).
    - `margin`: refresh this many seconds before the expiry (at most half the lifetime, so a
      short-lived token is still used); `fallback_lifetime`: how long to trust a token without one.
    - A fetch whose answer was lost (ServerError, TransportError) is tried again, `attempts` in all.
    - `also`: headers sent on every request, the fetch included (e.g. an app id).
    """

    refused_error: ClassVar[type[AuthenticationError]] = AuthenticationError
    cannot_refresh: ClassVar[str] = (
        "the access token was refused or has expired, and nothing is configured to get a new one"
    )

    def __init__(
        self,
        fetch: Callable[[], IssuedToken] | None,
        access_token: str | None = None,
        *,
        margin: float = 60.0,
        fallback_lifetime: float = 300.0,
        clock: Callable[[], float] = time.time,
        on_new_secret: Callable[[str], None] | None = None,
        attempts: int = 3,
        vendor: str = "",
        also: HeaderAuth | None = None,
    ):
        self._fetch = fetch
        self.margin, self.fallback_lifetime, self.attempts = margin, fallback_lifetime, attempts
        self.vendor, self.also = vendor, also
        self._clock = clock
        self.on_new_secret = on_new_secret or (lambda value: None)
        self._lock = threading.Lock()
        self._local = threading.local()  # per thread: the token last sent, whether it is fetching one
        self._current = _Current(access_token, math.inf) if access_token else None
        self.handshakes = 0  # tokens fetched: tests and diagnostics
        self.user: dict[str, Any] = {}

    def __repr__(self) -> str:
        state = "no token" if self._current is None else "a token"
        return f"<{type(self).__name__} {state}, {self.handshakes} fetched>"

    def __call__(self, headers: dict[str, str], settings: Mapping[str, Any]) -> None:
        if self.also is not None:
            self.also(headers, settings)
        if getattr(self._local, "fetching", False):
            return  # the fetch itself goes without a bearer token
        token = self.token()
        self._local.token = token
        headers["Authorization"] = f"Bearer {token}"

    @property
    def can_refresh(self) -> bool:
        return self._fetch is not None

    def last_sent(self) -> str | None:
        """The token this thread sent last."""
        return getattr(self._local, "token", None)

    def token(self) -> str:
        current = self._current
        if current is not None and self._clock() < current.refresh_at:
            return current.token
        with self._lock:
            current = self._current  # another thread may have refreshed while we waited
            if current is not None and self._clock() < current.refresh_at:
                return current.token
            if self._fetch is None:
                raise self.refused_error(f"{self.vendor}: {self.cannot_refresh}", vendor=self.vendor)
            self._current = self._refresh(self._fetch)
            return self._current.token

    def refused(self, token: str | None) -> bool:
        """The API refused `token`. Forget it; True when a new one can be had (then retry once)."""
        with self._lock:
            if self._current is not None and self._current.token == token:
                self._current = None
            elif self._current is not None and token is not None:
                return True  # another thread already replaced it: retry with the new one
        return self.can_refresh

    def with_fresh_token(self, call: Callable[[], T], may_retry: Callable[[AuthenticationError], bool]) -> T:
        """`call()`; when the API refuses the token (and `may_retry` agrees), once more with a new one."""
        try:
            return call()
        except AuthenticationError as error:
            if not (may_retry(error) and self.refused(self.last_sent())):
                raise
            log.info("%s: token refused; getting a new one", self.vendor)
            return call()

    def _refresh(self, fetch: Callable[[], IssuedToken]) -> _Current:
        for attempt in range(self.attempts):
            received = self._clock()
            self._local.fetching = True
            try:
                issued = fetch()
            except (ServerError, TransportError) as exc:  # a lost answer: try again
                if attempt + 1 >= self.attempts:
                    raise
                log.info("%s: getting a token failed (%s); trying again", self.vendor, type(exc).__name__)
                continue
            finally:
                self._local.fetching = False
            self.on_new_secret(issued.access_token)
            self.handshakes += 1
            self.user = issued.user
            refresh_at = self._refresh_time(issued.expires_at, received)
            log.debug(
                "%s: got a token for user %s; next refresh in %.0f s",
                self.vendor,
                issued.user.get("user_id", "?"),
                refresh_at - received,
            )
            return _Current(issued.access_token, refresh_at)
        raise AssertionError("unreachable")

    def _refresh_time(self, expires_at: float | None, received: float) -> float:
        if expires_at is None:
            return received + self.fallback_lifetime
        lifetime = expires_at - received
        if lifetime <= 0:
            # Already expired by our clock: the clocks disagree. The server just issued it, so use
            # it briefly instead of fetching before every call.
            log.warning("%s: the token's expiry lies in the past by our clock (clock skew?)", self.vendor)
            return received + min(self.fallback_lifetime, 30.0)
        return expires_at - min(self.margin, lifetime / 2)


_DOTNET_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_expiry(value: Any) -> float | None:
    """A token's expiry as epoch seconds; None when absent or unreadable.

    Reads what APIs plausibly send: ISO 8601 with Z, an offset or none (taken as UTC), .NET's
    "/Date(ms)/", or epoch seconds / milliseconds.
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


__all__ = ["Auth", "BearerTokenAuth", "HeaderAuth", "IssuedToken", "parse_expiry"]
