"""Fuzzing every HTTP adapter at the level of the HTTP answer: status, headers and body bytes.

Each example is a short script of answers the "server" gives, in order, to whatever the adapter
sends: a real answer recorded from the bundled sandbox with its JSON mutated (fields dropped, values
replaced by odd ones, wrong types, extra keys), or the body cut short, or bytes that are not JSON, an
HTML page, a connection reset, a timeout, a body that breaks off mid-stream; statuses and headers
(Content-Type, Link, X-Total, Retry-After) are drawn too. The answers are served by a requests
transport adapter mounted on the adapter's own session, so everything above the socket runs as in
production: Transport.request (retries, error mapping), json()/the WhosOff envelope and streaming
parser, paging, create recovery, and the mapping to Person.

The only outcomes allowed: Persons (possibly with `problems`), or a typed StaffbridgeError. 1,000
examples per target, derandomized for CI. `pytest tests/test_fuzz_http.py -s` prints the outcomes;
`--hypothesis-show-statistics` hypothesis' own counts.
"""

from __future__ import annotations

import copy
import functools
import io
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ProtocolError

import staffbridge
from staffbridge import Person, Ref, StaffbridgeError
from staffbridge.sdk.registry import sandbox_class
from staffbridge.sdk.transport import RetryPolicy

EXAMPLES = 1000
HANG_LIMIT = LIMIT = 300  # seconds per fuzz target at most (each takes ~10)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BASE = "http://fuzz.invalid"
ODD = [
    "",
    " ",
    "null",
    "0",
    "-1",
    "1e400",
    "NaN",
    "true",
    "ja",
    "2023-13-45",
    "1990-02-30",
    "15.08.1990",
    "31.02.2020",
    "9999-12-31T23:59:59Z",
    "0000-00-00",
    "2023-01-01T00:00:00+25:00",
    "1000001",
    "933662735",
    "65000000000000000000000f",
    "<html>",
    "\u0000",
    "Ü" * 3,
    "x" * 300,
    "a@b",
    "@",
    "+49 ()",
]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=16)
    | st.sampled_from(ODD),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
STATUSES = [200] * 12 + [201, 204, 301, 400, 401, 403, 404, 409, 410, 422, 429, 500, 502, 503, 504]
CONTENT_TYPES = [
    "application/json; charset=utf-8",
    "application/json",
    "text/html",
    "text/plain",
    "",
    "application/json; charset=latin-1",
    "application/problem+json",
]
HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"


# ---------------------------------------------------------------------------------------------- answers


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in parsed JSON: the root, each key of each object, each item of each list."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths_of(item, (*prefix, index))
    return found


EDITS = ("drop", "json", "odd", "odd", "wrap", "text", "add")


@st.composite
def mutated(draw: Any, value: Any, paths: list[tuple[Any, ...]]) -> Any:
    """`value` (parsed JSON) with a few places dropped, replaced by odd values or other types, or added
    to. A handful of edits at drawn places: cheap to draw, and each one shrinks on its own."""
    value = copy.deepcopy(value)
    for index, edit in draw(st.lists(st.tuples(st.integers(0, len(paths) - 1), st.sampled_from(EDITS)), max_size=5)):
        path = paths[index]
        if not path:  # the root
            value = draw(JSON) if edit in ("json", "drop") else {"Data": value} if edit == "wrap" else value
            continue
        parent = value
        for step in path[:-1]:
            if (isinstance(parent, dict) and step in parent) or (
                isinstance(parent, list) and isinstance(step, int) and step < len(parent)
            ):
                parent = parent[step]
            else:
                parent = None
                break
        last = path[-1]
        if not (
            (isinstance(parent, dict) and last in parent)
            or (isinstance(parent, list) and isinstance(last, int) and last < len(parent))
        ):
            continue  # an earlier edit removed the way here
        current = parent[last]
        if edit == "drop":
            del parent[last]
        elif edit == "json":
            parent[last] = draw(JSON)
        elif edit == "odd":
            parent[last] = draw(st.sampled_from(ODD))
        elif edit == "wrap":
            parent[last] = draw(st.sampled_from([[current], {"value": current}]))
        elif edit == "text":
            parent[last] = str(current)
        elif isinstance(current, dict):
            current[draw(st.text(max_size=8))] = draw(JSON)
        elif isinstance(current, list):
            current.append(draw(JSON))
    return value


@st.composite
def answer(draw: Any, real: tuple[int, dict[str, str], bytes]) -> dict[str, Any]:
    """One answer: usually the real one mutated; sometimes no answer at all."""
    status, headers, body = real
    headers = dict(headers)
    parsed, paths = _parsed(body)
    kind = draw(
        st.sampled_from(["mutated"] * 8 + ["real", "cut", "bytes", "html", "empty", "reset", "timeout", "broken"])
    )
    if kind in ("reset", "timeout"):
        return {"raise": kind}
    if kind == "mutated" and paths:
        body = json.dumps(draw(mutated(parsed, paths)), allow_nan=True).encode()
    elif kind == "cut":
        body = body[: draw(st.integers(0, max(0, len(body) - 1)))]
    elif kind == "bytes":
        body = draw(st.binary(max_size=64))
    elif kind == "html":
        body = HTML
    elif kind == "empty":
        body = b""
    if draw(st.integers(0, 3)) == 0:
        status = draw(st.sampled_from(STATUSES))
    if draw(st.integers(0, 5)) == 0:
        headers["Content-Type"] = draw(st.sampled_from(CONTENT_TYPES))
    for name, values in (
        (
            "Link",
            [
                '<http://fuzz.invalid/api/v1/users?page=2>; rel="next"',
                "<>; rel=next",
                "garbage",
                '<ftp://elsewhere/x>; rel="next"',
            ],
        ),
        ("X-Total", ["-1", "10000000000", "abc", "3"]),
        ("X-Page", ["0", "x", "2"]),
        ("X-Per-Page", ["0", "-5", "x"]),
        ("Retry-After", ["0", "-3", "soon", "1e9", ""]),
    ):
        if draw(st.integers(0, 11)) == 0:
            headers[name] = draw(st.sampled_from(values))
    cut_at = draw(st.integers(0, max(0, len(body) - 1))) if kind == "broken" else None
    return {"status": status, "headers": headers, "body": body, "chunk": draw(st.integers(1, 512)), "cut_at": cut_at}


@functools.cache
def _parsed(body: bytes) -> tuple[Any, list[tuple[Any, ...]]]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None, []
    return parsed, paths_of(parsed)


def script(real: list[tuple[int, dict[str, str], bytes]]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """What the server answers to the 1st, 2nd, ... request (after that: 200 with an empty list)."""
    return st.lists(st.sampled_from(real).flatmap(answer), min_size=1, max_size=3)


class _Raw(io.RawIOBase):
    """A response body as urllib3 would stream it: in chunks, and maybe breaking off."""

    def __init__(self, body: bytes, chunk: int, cut_at: int | None):
        self.body, self.chunk, self.cut_at = body, chunk, cut_at
        self._read = io.BytesIO(body)

    def stream(self, amt: int | None = None, decode_content: bool = True) -> Any:
        end = len(self.body) if self.cut_at is None else self.cut_at
        for start in range(0, end, self.chunk):
            yield self.body[start : min(start + self.chunk, end)]
        if self.cut_at is not None:
            raise ProtocolError("Connection broken: IncompleteRead")

    def read(self, amt: int | None = -1) -> bytes:  # what `stream` does not cover
        return b"".join(self.stream())

    def release_conn(self) -> None:
        pass


class Scripted(requests.adapters.BaseAdapter):
    """A requests transport adapter answering from a script instead of the network."""

    def __init__(self, answers: list[dict[str, Any]]):
        super().__init__()
        self.answers = list(answers)
        self.sent = 0

    def send(self, request: Any, stream: bool = False, timeout: Any = None, **kwargs: Any) -> requests.Response:
        self.sent += 1
        if self.sent > 50:  # a client that never stops asking is a bug too
            raise AssertionError("more than 50 requests for one operation")
        spec = (
            self.answers.pop(0)
            if self.answers
            else {"status": 200, "headers": {}, "body": b"[]", "chunk": 512, "cut_at": None}
        )
        if spec.get("raise") == "reset":
            raise requests.ConnectionError("Connection reset by peer", request=request)
        if spec.get("raise") == "timeout":
            raise requests.ReadTimeout("read timed out", request=request)
        response = requests.Response()
        response.status_code = spec["status"]
        response.headers = CaseInsensitiveDict(spec["headers"])
        response.raw = _Raw(spec["body"], spec["chunk"], spec["cut_at"])
        response.url, response.request, response.reason = request.url, request, "fuzzed"
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        if not stream:
            try:
                response.content  # noqa: B018 - read now, as requests' own adapter does
            except requests.RequestException:
                raise
        return response

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------- real answers


def _recorded(vendor: str) -> dict[str, list[tuple[int, dict[str, str], bytes]]]:
    """Real answers of the bundled sandbox, by operation, with their statuses and headers."""
    with sandbox_class(vendor)(seed_people=3) as sb:
        adapter = connect(vendor, sb.url, handshake=True)
        seen: list[tuple[str, str, Any]] = []
        adapter.transport.session.hooks["response"].append(
            lambda r, *a, **k: seen.append(
                (
                    r.request.method,
                    r.request.path_url,
                    (r.status_code, {k: v for k, v in r.headers.items() if k.lower() != "content-length"}, r.content),
                )
            )
        )
        people = list(adapter.list())
        adapter.get(people[1].id)
        created = adapter.create(
            Person(first_name="Ada", last_name="Fuzz", email="ada@fuzz.example", department=people[1].department)
        )
        adapter.update(created.id, {"work_phone": "+49 30 1"})
    recorded: dict[str, list[Any]] = {"list": [], "one": [], "handshake": []}
    for method, path, real in seen:
        kind = (
            "handshake"
            if "authenticate" in path
            else "list"
            if path.rstrip("/").endswith(("/users", "/retrieve"))
            and method in ("GET", "POST")
            and "create" not in path
            and (method == "GET" or "retrieve" in path)
            else "one"
        )
        recorded[kind].append(real)
    return recorded


WHOSOFF_CREDENTIALS = dict(
    app_id="sandbox-app",
    client_secret="sandbox-client-secret",
    username="admin@example.com",
    password="sandbox-password",
)


def connect(vendor: str, url: str, handshake: bool = False) -> Any:
    common = dict(base_url=url, max_retries=1, timeout=5)
    if vendor == "moco":
        return staffbridge.connect("moco", api_key="sandbox-key", rate_limit=1000, rate_period=1, **common)
    if vendor == "whosoff":
        auth = WHOSOFF_CREDENTIALS if handshake else dict(app_id="sandbox-app", access_token="fuzz-token")
        return staffbridge.connect("whosoff", **auth, **common)
    return staffbridge.connect("fieldservice", api_key="sandbox-key", **common)


@pytest.fixture(scope="module")
def recorded() -> dict[str, dict[str, list[Any]]]:
    return {vendor: _recorded(vendor) for vendor in ("moco", "whosoff", "fieldservice")}


def scripted(vendor: str, answers: list[dict[str, Any]], handshake: bool = False) -> Any:
    adapter = connect(vendor, BASE, handshake=handshake)
    # no waiting: a fuzzed Retry-After of 1e9 is honoured up to max_retry_after, by the limiter too
    adapter.transport.sleep = adapter.transport.limiter._sleep = lambda seconds: None
    adapter.transport.retry = RetryPolicy(max_retries=1, backoff=0.0, max_backoff=0.0, max_retry_after=0.0)
    adapter.max_create_tries = 2
    mount = Scripted(answers)
    adapter.transport.session.mount("http://", mount)
    return adapter


# ---------------------------------------------------------------------------------------------- operations

UNIT = {
    "moco": Ref(id="909175376", name="Entwicklung"),
    "whosoff": Ref(id="123456", name="Geschäftsleitung"),
    "fieldservice": Ref(name="Entwicklung"),
}
ONE_ID = {"moco": "933662735", "whosoff": "1000001", "fieldservice": "650000000000000000000001"}


def list_all(adapter: Any) -> list[Person]:
    return list(adapter.list())


def one_operation(name: str) -> Callable[[Any], list[Person]]:
    def run(adapter: Any) -> list[Person]:
        vendor = adapter.name
        if name == "get":
            return [adapter.get(ONE_ID[vendor])]
        if name == "create":
            return [
                adapter.create(
                    Person(first_name="Ada", last_name="Fuzz", email="ada@fuzz.example", department=UNIT[vendor])
                )
            ]
        return [adapter.update(ONE_ID[vendor], {"work_phone": "+49 30 1", "first_name": "Adá"})]

    return run


def me(adapter: Any) -> list[Person]:
    return [adapter.me()]


class Outcomes:
    def __init__(self, target: str):
        self.target = target
        self.counts: Counter[str] = Counter()

    def run(self, operation: Callable[[Any], list[Person]], adapter: Any) -> None:
        self.counts["examples"] += 1
        try:
            people = operation(adapter)
        except StaffbridgeError as exc:
            str(exc), repr(exc)  # an error's text must be buildable too
            self.counts[type(exc).__name__] += 1
            return
        for person in people:
            assert isinstance(person, Person), type(person)
            repr(person)
            self.counts["people with problems" if person.problems else "people read"] += 1
        self.counts["answers read"] += 1

    def report(self) -> None:
        examples = self.counts.pop("examples")
        shown = ", ".join(f"{name} {count}" for name, count in self.counts.most_common())
        print(f"\nfuzz {self.target}: {examples} examples: {shown}")
        assert examples >= EXAMPLES


TARGETS = {
    "moco list": ("moco", "list", list_all, False),
    "moco get/create/update": ("moco", "one", None, False),
    "whosoff list (streamed envelope)": ("whosoff", "list", list_all, False),
    "whosoff get/create/update": ("whosoff", "one", None, False),
    "whosoff handshake": ("whosoff", "handshake", me, True),
    "fieldservice list": ("fieldservice", "list", list_all, False),
    "fieldservice get/create/update": ("fieldservice", "one", None, False),
}


@pytest.mark.parametrize("target", list(TARGETS))
def test_no_answer_crashes_an_adapter(target, recorded):
    vendor, kind, operation, handshake = TARGETS[target]
    real = recorded[vendor][kind]
    assert real, f"nothing recorded for {target}"
    outcomes = Outcomes(target)
    names = st.sampled_from(["get", "create", "update"]) if operation is None else st.just(None)
    if handshake:  # the handshake's answer is fuzzed; the call after it gets a real answer
        tail = [
            {
                "status": 200,
                "headers": {"Content-Type": "application/json"},
                "body": recorded["whosoff"]["one"][0][2],
                "chunk": 512,
                "cut_at": None,
            }
        ]
    else:
        tail = []

    @FUZZ
    @given(answers=script(real), name=names)
    def check(answers: list[dict[str, Any]], name: str | None) -> None:
        adapter = scripted(vendor, answers + tail, handshake=handshake)
        outcomes.run(operation or one_operation(name), adapter)

    check()
    outcomes.report()


@pytest.mark.parametrize("status", [401, 500])
def test_an_error_answer_that_breaks_off_midway_is_still_the_typed_error(status):
    """Found by the fuzzing above: a streamed error answer whose body broke off raised requests'
    ChunkedEncodingError out of Transport.error_for instead of the vendor error."""
    body = b'{"Errors": [{"Code": "0401", "Message": "token expired"}]}'
    adapter = scripted(
        "whosoff",
        [{"status": status, "headers": {"Content-Type": "application/json"}, "body": body, "chunk": 8, "cut_at": 20}]
        * 2,
    )
    with pytest.raises(StaffbridgeError) as info:
        list(adapter.list())
    assert info.value.status == status
