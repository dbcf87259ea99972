"""The HTTP half of every sandbox: a real server on loopback, routes, faults and a rate limit.

A vendor emulator is a backend (plain state, no HTTP) plus a route table (URL -> handler), kept apart
as in moto. This module serves any such route table over real sockets, so the library under test talks
to it exactly as it would talk to the vendor: keep-alive, headers, status codes, resets and delays.
"""

from __future__ import annotations

import json
import random
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """What a route handler sees: already parsed, never a socket."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route pattern

    def json(self) -> Any:
        """The body as JSON; raises ValueError (a 400 for the caller to decide) when it is not."""
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes/str sent as they are
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


def json_response(body: Any, status: int = 200, **headers: str) -> Response:
    return Response(status, body, {"Content-Type": "application/json; charset=utf-8", **headers})


Handler = Callable[[Request], Response]


class Routes:
    """A route table: `routes.add("GET", r"/users/(?P<id>\\d+)", handler)`; first match wins."""

    def __init__(self) -> None:
        self._table: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._table.append((method.upper(), re.compile(pattern + r"/?\Z"), handler))

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """The handler and its path params; the flag says whether the path exists for another method."""
        path_known = False
        for route_method, pattern, handler in self._table:
            found = pattern.match(path)
            if found:
                path_known = True
                if route_method == method:
                    return handler, found.groupdict(), True
        return None, {}, path_known


# ---------------------------------------------------------------------------------------------- faults

FAULT_KINDS = ("429", "429-retry-after", "500", "502", "503", "504", "reset", "slow", "html", "truncated")


@dataclass
class Fault:
    """One injected failure. `kind` is one of FAULT_KINDS; `path` (a regex) limits where it applies."""

    kind: str
    path: str | None = None
    method: str | None = None
    delay: float = 2.0  # for "slow": seconds to wait before answering normally
    after: bool = False  # act on the request first, then fail (the write happened, the answer is lost)

    def applies(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return self.path is None or re.search(self.path, path) is not None


class Faults:
    """Scripted faults (one each, in order) plus an optional random rate of them, seeded for replay."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()
        self.rate = 0.0
        self.kinds: tuple[str, ...] = ()
        self.random_after = False
        self._random = random.Random(0)
        self.injected: list[tuple[str, str, str]] = []  # (kind, method, path): what actually happened

    def inject(self, kind: str, count: int = 1, **options: Any) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._queue.extend(Fault(kind, **options) for _ in range(count))

    def randomly(self, rate: float, kinds: Iterable[str] = FAULT_KINDS, seed: int = 0, after: bool = False) -> None:
        """Fail about `rate` of all requests with a kind drawn from `kinds`."""
        with self._lock:
            self.rate, self.kinds, self._random = rate, tuple(kinds), random.Random(seed)
            self.random_after = after

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.rate, self.kinds = 0.0, ()

    def next_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._queue:
                if fault.applies(method, path):
                    self._queue.remove(fault)
                    break
            else:
                fault = None
                if self.rate and self._random.random() < self.rate:
                    fault = Fault(self._random.choice(self.kinds), after=self.random_after)
            if fault:
                self.injected.append((fault.kind, method, path))
            return fault


class RateLimit:
    """At most `limit` requests per `window` seconds (sliding), answered 429 beyond it."""

    def __init__(self, limit: int | None = None, window: float = 120.0, retry_after: bool = False):
        self.limit, self.window, self.retry_after = limit, window, retry_after
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()
        self.rejected = 0

    def admit(self) -> float | None:
        """None when admitted, else the seconds until a slot frees up."""
        if not self.limit:
            return None
        now = time.monotonic()
        with self._lock:
            while self._stamps and now - self._stamps[0] >= self.window:
                self._stamps.popleft()
            if len(self._stamps) >= self.limit:
                self.rejected += 1
                return self.window - (now - self._stamps[0])
            self._stamps.append(now)
            return None


# ---------------------------------------------------------------------------------------------- server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
    # Without this every keep-alive response stalls ~40 ms on delayed ACK (see DESIGN.md, Tests).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read their own output
        pass

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            self.command,
            url.path,
            parse_qs(url.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        sandbox.requests.append((request.method, url.path + (f"?{url.query}" if url.query else "")))
        response = sandbox.dispatch(request, self)
        if response is not None:
            self._send(response)

    def _send(self, response: Response) -> None:
        payload = response.encode()
        head = [f"HTTP/1.1 {response.status} {self.responses.get(response.status, ('',))[0]}"]
        headers = {"Content-Length": str(len(payload)), **response.headers}
        head += [f"{name}: {value}" for name, value in headers.items()]
        # one write for headers and body: no partial packets for the client to wait on
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        self.wfile.flush()

    def reset(self) -> None:
        """Drop the connection with a TCP RST, as a crashed proxy would."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.close_connection = True
        self.connection.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    sandbox: Sandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out, was killed or hung up is routine under fault injection: no
        # traceback on stderr for it. Anything else is a sandbox bug and is shown as before.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Sandbox:
    """Serves a vendor emulator on 127.0.0.1.

    Subclasses set `name` and build `self.routes` from their backend in `__init__`. Use as a context
    manager (`with MocoSandbox() as sb: sb.url`) or `start()` / `stop()`. Every sandbox also answers
    `/_sandbox/faults` (POST a fault as JSON, DELETE to clear) and `/_sandbox/requests` (GET the log),
    so faults can be injected from another process, e.g. into `staffbridge sandbox moco`.
    """

    name = "sandbox"
    url_prefix = ""  # e.g. "/api/v1": where the vendor's routes sit below the server root

    def __init__(
        self, port: int = 0, rate_limit: int | None = None, rate_window: float = 120.0, retry_after: bool = False
    ) -> None:
        self.port = port
        self.routes = Routes()
        self.faults = Faults()
        self.rate_limit = RateLimit(rate_limit, rate_window, retry_after)
        self.requests: list[tuple[str, str]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()  # one request changes the backend at a time

    # -- lifecycle
    def start(self) -> Sandbox:
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.sandbox = self
        self.port = self._server.server_address[1]
        # a short poll interval: stop() waits for the next poll, and tests start many sandboxes
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"{self.name}-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The base URL an adapter is given (`base_url=sb.url`)."""
        return self.root + self.url_prefix

    def client_settings(self) -> dict[str, Any]:
        """The settings an adapter is given to use this emulator (a `staffbridge.toml` system's): its
        `base_url` and the credentials it accepts. A vendor's sandbox adds its credentials."""
        return {"base_url": self.url}

    # -- dispatch
    def dispatch(self, request: Request, handler: _Handler) -> Response | None:
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        fault = self.faults.next_for(request.method, request.path)
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
            fault = None
        if fault and not fault.after:
            return self._fail(fault, handler)
        wait = self.rate_limit.admit()
        if wait is not None:
            headers = {"Retry-After": str(max(1, int(wait + 0.999)))} if self.rate_limit.retry_after else {}
            return self.too_many_requests(headers)
        path = request.path
        if self.url_prefix:
            if not path.startswith(self.url_prefix):
                return self.not_found(request)
            path = path[len(self.url_prefix) :] or "/"
        route, params, path_known = self.routes.match(request.method, path)
        if route is None:
            return self.method_not_allowed(request) if path_known else self.not_found(request)
        request.params = params
        with self._lock:
            try:
                response = self.authenticate(request) or route(request)
            except (ValueError, UnicodeDecodeError) as exc:
                response = self.bad_request(request, f"malformed request body: {exc}")
        if fault:  # an "after" fault: the work is done, the caller never hears of it
            return self._fail(fault, handler)
        return response

    def _fail(self, fault: Fault, handler: _Handler) -> Response | None:
        if fault.kind == "reset":
            handler.reset()
            return None
        if fault.kind == "429":
            return self.too_many_requests({})
        if fault.kind == "429-retry-after":
            return self.too_many_requests({"Retry-After": "1"})
        if fault.kind == "html":
            return Response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"})
        if fault.kind == "truncated":
            return Response(200, b'[{"id": 1, "firstname": "Tr', {"Content-Type": "application/json"})
        status = int(fault.kind)
        return json_response({"message": f"injected {status}"}, status)

    def _control(self, request: Request) -> Response:
        if request.path == "/_sandbox/faults" and request.method == "POST":
            spec = request.json() or {}
            if "rate" in spec:
                self.faults.randomly(
                    spec["rate"], spec.get("kinds", FAULT_KINDS), spec.get("seed", 0), spec.get("after", False)
                )
            else:
                self.faults.inject(spec.pop("kind"), spec.pop("count", 1), **spec)
            return json_response({"ok": True})
        if request.path == "/_sandbox/faults" and request.method == "DELETE":
            self.faults.clear()
            return json_response({"ok": True})
        if request.path == "/_sandbox/requests" and request.method == "GET":
            return json_response([list(r) for r in self.requests])
        return json_response({"message": "unknown sandbox control"}, 404)

    # -- vendor-specific answers; subclasses override to speak their vendor's error shapes
    def authenticate(self, request: Request) -> Response | None:
        """None when the request may proceed, else the vendor's refusal."""
        return None

    def too_many_requests(self, headers: dict[str, str]) -> Response:
        return json_response({"message": "Too Many Requests"}, 429, **headers)

    def not_found(self, request: Request) -> Response:
        return json_response({"message": "Not Found"}, 404)

    def method_not_allowed(self, request: Request) -> Response:
        return json_response({"message": "Method Not Allowed"}, 405)

    def bad_request(self, request: Request, message: str) -> Response:
        return json_response({"message": message}, 400)
