"""The transport every HTTP adapter shares: one keep-alive session, auth, timeouts, retries, a
client-side rate limiter, and vendor errors mapped onto staffbridge's exceptions.

Retries: 429, 502, 503, 504 and connection failures are retried with capped exponential backoff and
full jitter, honouring Retry-After when the vendor sends it (up to `RetryPolicy.max_retry_after`);
500 too when the request is idempotent (sending a GET or PUT again is harmless, and a 500 is as often
a passing hiccup as a bug). A request the server may already have acted on (a POST that got no
answer, or a 5xx) is *not* retried here: `Transport.request(..., idempotent=False)` raises instead,
and the adapter decides (a create looks the record up before trying again). Only 429 is retried for
every method: it means the server refused without acting.
"""

from __future__ import annotations

import email.utils
import functools
import heapq
import itertools
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from staffbridge import __version__
from staffbridge.model.errors import (
    AuthenticationError,
    MappingError,
    NotFound,
    RateLimited,
    RequestInfo,
    ResponseError,
    ResponseInfo,
    ServerError,
    Timeout,
    TransportError,
    VendorAPIError,
    VendorMessage,
    VendorValidationError,
)
from staffbridge.model.redaction import scrub, scrub_headers, scrub_text
from staffbridge.sdk.waits import Waits

log = logging.getLogger("staffbridge.http")

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_STATUSES_IDEMPOTENT = RETRY_STATUSES | {500}  # a repeated GET/PUT/DELETE does no harm


class RateLimiter:
    """At most `limit` requests in any `per` seconds, shared by every thread using one adapter.

    A sliding log, not a token bucket: a bucket lets a full burst plus its refill through in the
    first window, which is exactly what a vendor counting a sliding window answers with 429.

    Exact, without a safety margin: `acquire()` takes a slot (stamped now) and returns its ticket;
    `release(ticket)` when the answer has come moves the stamp to that moment. The vendor counted the
    request somewhere between the two, so a slot that comes free `per` seconds after its answer can
    never be counted twice in one of the vendor's windows, however the network delays the requests
    (a fixed margin would be a guess at that delay, and cost a 1-second window a fifth of its budget).
    A slot never released (a caller without answers) frees `per` seconds after it was taken; so does
    one in flight for longer than `per`, whose release stamps it again. `margin` lengthens the window
    for vendors that count later than they answer.
    """

    def __init__(
        self,
        limit: int | None,
        per: float,
        margin: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.limit, self.per, self.margin = limit, per, margin
        self._stamps: dict[int, float] = {}  # ticket -> when its slot was taken or answered
        self._oldest: list[tuple[float, int]] = []  # heap of (stamp, ticket); stale entries skipped
        self._tickets = itertools.count(1)
        self._paused_until = 0.0  # after a 429: nobody sends before this
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep
        self.waited = 0.0  # seconds spent waiting, for benchmarks and progress reports

    def take(self) -> tuple[int | None, float]:
        """A slot's ticket and 0, or no ticket and the seconds until a slot frees; never waits (a
        server answering 429 at once instead of holding its client). No limit: (None, 0)."""
        if not self.limit:
            return None, 0.0
        window = self.per + self.margin
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return None, self._paused_until - now
            stamps, oldest = self._stamps, self._oldest
            while oldest and (stamps.get(oldest[0][1]) != oldest[0][0] or now - oldest[0][0] >= window):
                stamp, ticket = heapq.heappop(oldest)
                if stamps.get(ticket) == stamp:
                    del stamps[ticket]
            if len(stamps) < self.limit:
                ticket = next(self._tickets)
                stamps[ticket] = now
                heapq.heappush(oldest, (now, ticket))
                return ticket, 0.0
            return None, window - (now - oldest[0][0])

    def acquire(self) -> int | None:
        """Waits for a slot; returns its ticket for `release` (None when there is no limit)."""
        while True:
            ticket, wait = self.take()
            if wait <= 0:
                return ticket
            self.waited += wait
            self._sleep(wait)

    def release(self, ticket: int | None) -> None:
        """The answer to the request holding `ticket` has come: its slot frees `per` seconds from now."""
        if ticket is None:
            return
        with self._lock:
            now = self._clock()
            self._stamps[ticket] = now
            heapq.heappush(self._oldest, (now, ticket))

    def penalise(self, seconds: float) -> None:
        """After a 429 nobody using this limiter may send for `seconds`."""
        if not self.limit:
            return
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


@dataclass
class RetryPolicy:
    max_retries: int = 4
    backoff: float = 0.5  # first wait; doubles each time
    max_backoff: float = 30.0
    max_retry_after: float = 300.0  # never sleep longer than this on a vendor's say-so
    # statuses retried for idempotent requests (a non-idempotent one is retried only on 429)
    statuses: frozenset[int] = RETRY_STATUSES_IDEMPOTENT

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        # full jitter: clients that failed together do not come back together
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or garbled."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


ErrorParser = Callable[[requests.Response], list[VendorMessage]]


def default_error_parser(response: requests.Response) -> list[VendorMessage]:
    """JSON `message`/`error`/`errors` when there is one, else the text (cut short)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return [VendorMessage(_shorten(text))] if text else []
    if isinstance(body, Mapping):
        for key in ("message", "error", "errors", "Message"):
            value = body.get(key)
            if isinstance(value, str):
                return [VendorMessage(value)]
            if isinstance(value, list):
                return [VendorMessage(str(v)) for v in value]
            if isinstance(value, Mapping):
                return [
                    VendorMessage(f"{k} {', '.join(map(str, v)) if isinstance(v, list) else v}")
                    for k, v in value.items()
                ]
    return [VendorMessage(_shorten(json.dumps(body, ensure_ascii=False)))]


class Transport:
    """HTTP for one adapter: `transport.request("GET", "/users", params=...)` -> requests.Response.

    `auth` is called with the headers of every request to add credentials (so a token can be
    refreshed in between); `secrets` are values masked wherever a request is described.
    """

    def __init__(
        self,
        base_url: str,
        *,
        vendor: str,
        auth: Callable[[dict[str, str]], None] | None = None,
        timeout: float | tuple[float, float] = 30.0,
        rate_limit: int | None = None,
        rate_period: float = 1.0,
        retry: RetryPolicy | None = None,
        error_parser: ErrorParser = default_error_parser,
        secrets: Iterable[str] = (),
        pool_size: int = 16,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] | None = None,
        waits: Waits | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor
        self.auth = auth
        self.timeout = timeout
        # every wait (limiter, backoff, Retry-After) through one Waits: Ctrl-C stops them all at once
        self.waits = waits or Waits(vendor)
        self.limiter = RateLimiter(rate_limit, rate_period, sleep=functools.partial(self.waits.sleep, why="rate limit"))
        self.retry = retry or RetryPolicy()
        self.error_parser = error_parser
        self.secrets = set(s for s in secrets if s)
        self._secrets_lock = threading.Lock()
        self.sleep = sleep or self.waits.sleep
        self.session = requests.Session()
        # pool as large as the number of threads a migration may run, so keep-alive survives
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {"Accept": "application/json", "User-Agent": f"staffbridge/{__version__}", **(headers or {})}
        )
        self._settle_environment()
        self.requests_sent = 0
        self.retries = 0

    def _settle_environment(self) -> None:
        """The environment's proxies (for this base URL) and CA bundle, read once here. requests would
        read them again for every request (scanning the whole environment and looking for ~/.netrc
        each time: a tenth of a MOCO page's time). ~/.netrc is not used: every adapter sends its own
        credentials, and a netrc entry for the vendor's host would replace them."""
        self.session.trust_env = False
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.session.verify = bundle

    def add_secret(self, value: str | None) -> None:
        # copy-on-write: other threads may be iterating the set (scrubbing) right now
        if value and value not in self.secrets:
            with self._secrets_lock:
                self.secrets = self.secrets | {value}

    def forget_secret(self, value: str | None) -> None:
        """Stops masking `value` (a one-time password already sent), so masking stays cheap."""
        if value and value in self.secrets:
            with self._secrets_lock:
                self.secrets = self.secrets - {value}

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def describe(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: Any = None
    ) -> RequestInfo:
        """The request as it may be shown: every secret masked."""
        return RequestInfo(
            method, scrub_text(url, self.secrets), scrub_headers(headers or {}, self.secrets), scrub(body, self.secrets)
        )

    def describe_response(self, response: requests.Response, body: Any = None) -> RequestInfo:
        """The request that got `response`, as it may be shown (with the body we sent)."""
        request = response.request
        return self.describe(request.method or "GET", response.url, dict(request.headers), body)

    def scrub_messages(self, messages: Iterable[VendorMessage]) -> list[VendorMessage]:
        return [VendorMessage(scrub_text(m.message, self.secrets), m.code) for m in messages]

    # ------------------------------------------------------------------ the one entry point
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        ok: Iterable[int] = (),
    ) -> requests.Response:
        method = method.upper()
        idempotent = method in IDEMPOTENT if idempotent is None else idempotent
        url = self.url(path)
        attempt = 0
        while True:
            call_headers = dict(headers or {})
            if json_body is not None:
                call_headers["Content-Type"] = "application/json"
            if self.auth:
                self.auth(call_headers)
            ticket = self.limiter.acquire()
            self.waits.check()  # a run stopping sends nothing new, even when no wait was needed
            started = time.perf_counter()
            try:
                self.requests_sent += 1
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=call_headers,
                    timeout=self.timeout,
                    stream=stream,
                )
            except requests.exceptions.InvalidJSONError as exc:
                self._release(ticket)
                # our own body could not be encoded (a NaN in a custom field): nothing was sent
                raise MappingError(
                    f"{self.vendor}: the request body is not valid JSON ({exc}); "
                    f"nothing was sent on {method} {scrub_text(url, self.secrets)}"
                ) from None
            except requests.RequestException as exc:
                self._release(ticket)
                info = self.describe(method, url, call_headers, json_body)
                sent = not never_sent(exc)
                error = self._transport_error(exc, info)
                if attempt < self.retry.max_retries and (idempotent or not sent):
                    self._wait(attempt, None, f"{info} failed ({type(exc).__name__})")
                    attempt += 1
                    continue
                raise error from None
            self._release(ticket)
            log.debug(
                "%s %s -> %s in %.0f ms",
                method,
                scrub_text(response.url, self.secrets),
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
            if response.status_code < 400 or response.status_code in ok:
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            # 429 means the server refused without acting, so even a create may be sent again
            status = response.status_code
            retryable = status == 429 or (idempotent and status in self.retry.statuses)
            if retryable and attempt < self.retry.max_retries:
                if status == 429:  # as long as this thread will wait: never past max_retry_after
                    self.limiter.penalise(min(retry_after or 0.0, self.retry.max_retry_after))
                response.close()
                self._wait(attempt, retry_after, f"{method} {response.status_code}")
                attempt += 1
                continue
            raise self.error_for(response, self.describe(method, url, call_headers, json_body), retry_after)

    def _release(self, ticket: int | None) -> None:
        if ticket is not None:  # a limiter put in our place (a shared budget) may hand out none
            self.limiter.release(ticket)

    def _wait(self, attempt: int, retry_after: float | None, why: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        self.retries += 1
        log.info("%s: retry %d in %.2f s", scrub_text(why, self.secrets), attempt + 1, delay)
        self.sleep(delay)

    def _transport_error(self, exc: requests.RequestException, info: RequestInfo) -> TransportError:
        if isinstance(exc, requests.Timeout):
            return Timeout(f"{self.vendor}: no answer within {self.timeout} s on {info}", info)
        return TransportError(f"{self.vendor}: connection failed on {info} ({type(exc).__name__})", info)

    def error_for(
        self, response: requests.Response, info: RequestInfo, retry_after: float | None = None
    ) -> VendorAPIError:
        """The typed error for a failed response."""
        status = response.status_code
        try:
            messages = self.error_parser(response)
        except Exception:  # a vendor's garbled error body must not hide the error itself
            messages = [VendorMessage(_shorten(body_text(response)))]
        messages = self.scrub_messages(messages)
        body = scrub_text(_shorten(body_text(response), 2000), self.secrets)
        kwargs: dict[str, Any] = dict(
            status=status,
            request=info,
            messages=messages,
            vendor=self.vendor,
            body=body,
            response=ResponseInfo(status, scrub_headers(response.headers, self.secrets), body),
        )
        label = f"{self.vendor} error"
        if status in (401, 403):
            return AuthenticationError(f"{self.vendor} refused the credentials", **kwargs)
        if status == 404:
            return NotFound(f"{self.vendor}: not found", **kwargs)
        if status in (400, 409, 422):
            return VendorValidationError(f"{self.vendor} rejected the data", **kwargs)
        if status == 429:
            return RateLimited(f"{self.vendor}: rate limit exceeded", retry_after=retry_after, **kwargs)
        if status >= 500:
            return ServerError(f"{self.vendor} server error", **kwargs)
        return VendorAPIError(label, **kwargs)

    # ------------------------------------------------------------------ reading bodies
    def content(self, response: requests.Response, sent: Any = None) -> bytes:
        """The whole body; TransportError when it broke off while being read."""
        try:
            return response.content
        except requests.RequestException as exc:
            raise TransportError(
                f"{self.vendor}: the answer broke off ({type(exc).__name__})", self.describe_response(response, sent)
            ) from None

    def chunks(self, response: requests.Response, sent: Any = None) -> Iterator[bytes]:
        """The body as it arrives; TransportError when it breaks off (what was read stands)."""
        try:
            yield from response.iter_content(chunk_size=65536)
        except requests.RequestException as exc:
            raise TransportError(
                f"{self.vendor}: the answer broke off ({type(exc).__name__}); records already read were delivered",
                self.describe_response(response, sent),
            ) from None

    def unreadable(
        self, response: requests.Response, why: str, sent: Any = None, raw: bytes | None = None
    ) -> ResponseError:
        """The error for an answer that is not what we can read (HTML, broken JSON, empty)."""
        kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
        text = " ".join(raw.decode("utf-8", "replace").split())[:300] if raw else None
        return ResponseError(
            f"{self.vendor}: unreadable answer ({kind}): {why}",
            status=response.status_code,
            request=self.describe_response(response, sent),
            vendor=self.vendor,
            body=scrub_text(text, self.secrets) if text else None,
        )

    def json_or_none(self, response: requests.Response) -> Any:
        """Like `json`, but None for an empty body (how some APIs answer "nothing")."""
        return self.json(response) if response.content.strip() else None

    def json(self, response: requests.Response) -> Any:
        """The body as JSON, or ResponseError saying what came instead (HTML, truncated, empty)."""
        try:
            return response.json()
        except (ValueError, requests.RequestException) as exc:
            info = self.describe(response.request.method or "GET", response.url)
            kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
            raise ResponseError(
                f"{self.vendor}: expected JSON, got {kind} ({type(exc).__name__})",
                status=response.status_code,
                request=info,
                vendor=self.vendor,
                body=scrub_text(_shorten(body_text(response)), self.secrets),
            ) from None


def body_text(response: requests.Response) -> str:
    """The body as text for an error message; "" when it broke off while being read (a streamed
    answer): the error being built must not be replaced by the requests exception."""
    try:
        return response.text
    except requests.RequestException:
        return ""


def never_sent(exc: BaseException) -> bool:
    """True when the request cannot have reached the server (refused, DNS, connect timeout)."""
    text = repr(exc)
    return (
        isinstance(exc, requests.ConnectTimeout)
        or "NewConnectionError" in text
        or "Failed to resolve" in text
        or "Connection refused" in text
    )


def _shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
