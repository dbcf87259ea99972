"""The transport against a real loopback server (the sandbox base with a tiny route table)."""

import logging

import pytest

import staffbridge
from staffbridge import (
    AuthenticationError,
    NotFound,
    RateLimited,
    ResponseError,
    ServerError,
    Timeout,
    TransportError,
    VendorValidationError,
)
from staffbridge.sandbox import Sandbox, json_response
from staffbridge.sdk.transport import RateLimiter, RetryPolicy, Transport, parse_retry_after

SECRET = "PLANTED-transport-secret-4711"


class EchoSandbox(Sandbox):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.writes = 0
        self.routes.add("GET", r"/ok", lambda r: json_response({"ok": True}))
        self.routes.add("POST", r"/write", self._write)
        for status in (401, 403, 404, 422, 500):
            self.routes.add(
                "GET", rf"/status/{status}", lambda r, s=status: json_response({"message": f"answer {s}"}, s)
            )
        self.routes.add("GET", r"/html", lambda r: json_response("<html>oops</html>"))

    def _write(self, request):
        self.writes += 1
        return json_response({"id": self.writes}, 200)


@pytest.fixture(scope="module")
def server():
    with EchoSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(server):
    server.faults.clear()
    server.requests.clear()
    return server


@pytest.fixture
def slept():
    return []


@pytest.fixture
def transport(sandbox, slept):
    def auth(headers):
        headers["Authorization"] = f"Token token={SECRET}"

    t = Transport(
        sandbox.url,
        vendor="echo",
        auth=auth,
        timeout=1.0,
        secrets=[SECRET],
        sleep=slept.append,
        retry=RetryPolicy(max_retries=3),
    )
    yield t
    t.close()


def test_transient_failures_of_reads_are_retried(transport, sandbox, slept):
    for kind in ("502", "reset", "429"):
        sandbox.faults.inject(kind)
    assert transport.json(transport.request("GET", "/ok")) == {"ok": True}
    assert len(sandbox.requests) == 4 and len(slept) == 3
    assert all(0 <= s <= 30 for s in slept)


def test_retry_after_is_honoured(transport, sandbox, slept):
    sandbox.faults.inject("429-retry-after")
    transport.request("GET", "/ok")
    assert slept == [1.0]


def test_retries_give_up_with_a_typed_error(transport, sandbox):
    sandbox.faults.inject("503", count=10)
    with pytest.raises(ServerError) as info:
        transport.request("GET", "/ok")
    assert info.value.status == 503 and len(sandbox.requests) == 4
    sandbox.faults.clear()
    sandbox.faults.inject("429-retry-after", count=10)
    with pytest.raises(RateLimited) as info:
        transport.request("GET", "/ok")
    assert info.value.retry_after == 1.0


def test_a_post_the_server_may_have_acted_on_is_not_resent(transport, sandbox):
    sandbox.faults.inject("503")
    with pytest.raises(ServerError):
        transport.request("POST", "/write", json_body={"a": 1})
    sandbox.faults.inject("reset", after=True)
    with pytest.raises(TransportError):
        transport.request("POST", "/write", json_body={"a": 1})
    assert sandbox.writes == 1  # the reset came after the write: exactly one happened


def test_a_post_refused_with_429_is_sent_again(transport, sandbox):
    before = sandbox.writes
    sandbox.faults.inject("429")
    assert transport.json(transport.request("POST", "/write", json_body={}))["id"] == before + 1


def test_status_codes_map_to_typed_errors(transport):
    expected = {
        401: AuthenticationError,
        403: AuthenticationError,
        404: NotFound,
        422: VendorValidationError,
        500: ServerError,
    }
    for status, error in expected.items():
        with pytest.raises(error) as info:
            transport.request("GET", f"/status/{status}")
        assert info.value.status == status and info.value.vendor_message == f"answer {status}"
    assert issubclass(NotFound, LookupError)


def test_unreadable_bodies_are_response_errors(transport, sandbox):
    sandbox.faults.inject("html", count=10)
    with pytest.raises(ServerError) as info:  # a proxy's 502 page, after every retry
        transport.request("GET", "/ok")
    assert "502 Bad Gateway" in info.value.vendor_message
    sandbox.faults.clear()
    sandbox.faults.inject("truncated")
    with pytest.raises(ResponseError) as info:
        transport.json(transport.request("GET", "/ok"))
    assert "expected JSON" in str(info.value)


def test_slow_answers_time_out(sandbox, slept):
    t = Transport(sandbox.url, vendor="echo", timeout=0.2, sleep=slept.append, retry=RetryPolicy(max_retries=1))
    sandbox.faults.inject("slow", count=2, delay=0.5)
    with pytest.raises(Timeout):
        t.request("GET", "/ok")
    assert isinstance(Timeout("x"), TimeoutError)


def test_connection_refused_is_wrapped(slept):
    t = Transport(
        "http://127.0.0.1:9", vendor="echo", timeout=0.5, sleep=slept.append, retry=RetryPolicy(max_retries=2)
    )
    with pytest.raises(TransportError) as info:
        t.request("POST", "/write", json_body={})
    assert len(slept) == 2  # nothing was sent, so even a POST may be retried
    assert isinstance(info.value, ConnectionError)


def test_secrets_never_reach_errors_or_logs(transport, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox.faults.inject("503", count=10)
    with pytest.raises(ServerError) as info:
        transport.request("GET", "/ok", json_body={"password": "hunter2-planted", "note": SECRET})
    error = info.value
    shown = " ".join(
        [str(error), repr(error), repr(error.request), str(error.request.headers), str(error.request.body), caplog.text]
    )
    assert SECRET not in shown and "hunter2-planted" not in shown
    assert error.request.headers["Authorization"] == "***"


def test_rate_limiter_is_a_sliding_window():
    now = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(3, per=10.0, margin=0.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.acquire()
    assert waits == []
    limiter.acquire()
    assert waits == [10.0]
    now[0] += 1
    limiter.acquire()
    assert len(waits) == 1  # the window slid: the second request's slot was free


def test_retry_after_parsing():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_a_body_json_cannot_carry_is_a_typed_error_and_nothing_is_sent(transport, sandbox, slept):
    with pytest.raises(staffbridge.MappingError) as info:
        transport.request("POST", "/write", json_body={"custom": float("nan")})
    assert "not valid JSON" in str(info.value) and sandbox.requests == [] and slept == []


def test_retried_statuses_are_a_setting(sandbox):
    sandbox.faults.inject("500")
    strict = staffbridge.connect("moco", base_url=sandbox.url, api_key="k", retry_statuses=[502, 503, 504])
    with pytest.raises(ServerError):
        strict.transport.request("GET", "/ok")
    sandbox.faults.inject("500")
    lenient = staffbridge.connect("moco", base_url=sandbox.url, api_key="k")
    assert lenient.transport.request("GET", "/ok").status_code == 200


def test_after_a_429_every_thread_waits_out_retry_after():
    now, waits = [0.0], []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(1_000_000, per=1.0, clock=lambda: now[0], sleep=sleep)
    limiter.penalise(5.0)
    limiter.acquire()
    assert waits == [5.0]
    limiter.acquire()
    assert waits == [5.0]


def test_errors_carry_the_response_with_secret_headers_masked(transport):
    with pytest.raises(VendorValidationError) as info:
        transport.request("GET", "/status/422")
    response = info.value.response
    assert response.status == 422 and "answer 422" in response.text
    assert response.headers["Content-Type"].startswith("application/json")


def test_the_environment_is_read_once_proxies_for_the_base_url_and_the_ca_bundle(monkeypatch, tmp_path):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "company-ca.pem"))
    proxied = Transport("https://acme.mocoapp.com/api/v1", vendor="moco")
    assert proxied.session.proxies.get("https") == "http://proxy.example:3128"
    assert proxied.session.verify == str(tmp_path / "company-ca.pem")
    assert not proxied.session.trust_env  # not scanned again on every request
    assert Transport("https://internal.example/v2", vendor="fieldservice").session.proxies == {}


def test_a_netrc_entry_for_the_host_does_not_replace_the_adapters_credentials(sandbox, monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    seen = []
    sandbox.routes.add("GET", r"/whoami", lambda r: seen.append(r.headers.get("authorization")) or json_response({}))
    client = Transport(sandbox.url, vendor="echo", auth=lambda headers: headers.update(Authorization="Token token=k"))
    client.request("GET", "/whoami")
    assert seen == ["Token token=k"]
