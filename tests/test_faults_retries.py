"""The retry rules the fault suite (test_faults.py) depends on, one at a time against real sandboxes.

- an idempotent request answered 500 is sent again (a POST is not: the server may have acted);
- a 429's Retry-After holds the other threads no longer than RetryPolicy.max_retry_after;
- a create sent again after a lost answer, and refused as a duplicate because the first one landed
  after our look, is looked up once more instead of failing;
- the wait between create tries follows the adapter's own retry policy;
- the field-service PATCH (a merge of values) is sent again after a 502 or a reset.
"""

import threading
import time

import pytest

import staffbridge
from staffbridge import Person, Ref, ServerError
from staffbridge.sandbox import Sandbox, json_response
from staffbridge.sandbox.fieldservice import FieldServiceSandbox
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sdk.transport import RetryPolicy, Transport

FAST = dict(backoff=0.001, max_backoff=0.005, max_retry_after=0.02)


class Counter(Sandbox):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.writes = 0
        self.routes.add("GET", r"/ok", lambda r: json_response({"ok": True}))
        self.routes.add("POST", r"/write", self._write)

    def _write(self, request):
        self.writes += 1
        return json_response({"id": self.writes})


@pytest.fixture(scope="module")
def counter():
    with Counter() as sandbox:
        yield sandbox


def test_an_idempotent_request_answered_500_is_retried_and_a_post_is_not(counter):
    transport = Transport(counter.url, vendor="counter", retry=RetryPolicy(max_retries=2, **FAST))
    counter.faults.inject("500", method="GET")
    assert transport.json(transport.request("GET", "/ok")) == {"ok": True}
    assert transport.retries == 1
    counter.faults.inject("500", method="POST")
    with pytest.raises(ServerError):
        transport.request("POST", "/write", json_body={})
    assert transport.retries == 1 and counter.writes == 0


def test_retry_after_holds_other_threads_no_longer_than_max_retry_after(counter):
    transport = Transport(
        counter.url, vendor="counter", rate_limit=50, rate_period=1.0, retry=RetryPolicy(max_retries=2, **FAST)
    )
    counter.faults.inject("429-retry-after")  # Retry-After: 1
    started = time.perf_counter()
    transport.request("GET", "/ok")
    threads = [threading.Thread(target=transport.request, args=("GET", "/ok")) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert transport.limiter.waited < 0.5 and time.perf_counter() - started < 0.9


class LateMoco(MocoSandbox):
    """The first create answers only after the client gave up, and lands after the client looked."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.looked, self.creates = threading.Event(), 0

    def dispatch(self, request, handler):
        if request.method == "POST":
            self.creates += 1
            if self.creates == 1:  # outside the backend's lock, so the client's look is answered
                self.looked.wait(5)  # the client's timeout passed, and its look found nothing yet
        return super().dispatch(request, handler)


def test_a_create_sent_again_and_refused_as_a_duplicate_is_looked_up_again():
    with LateMoco(seed_people=0) as sb:
        moco = staffbridge.connect(
            "moco", base_url=sb.url, api_key="sandbox-key", timeout=0.3, rate_limit=1000, rate_period=1
        )
        moco.transport.retry = RetryPolicy(max_retries=2, **FAST)
        looks = []
        plain_look = moco.find_existing

        def look(person):
            found = plain_look(person)
            looks.append(found)
            if len(looks) == 1:  # let the first create land now, then wait until it did
                sb.looked.set()
                deadline = time.monotonic() + 5
                while not sb.backend.users and time.monotonic() < deadline:
                    time.sleep(0.01)
            return found

        moco.find_existing = look
        unit = next(iter(sb.backend.units.values()))
        created = moco.create(
            Person(first_name="Ada", last_name="Late", email="ada@late.example", department=Ref(id=str(unit.id)))
        )
        assert looks[0] is None and looks[1] is not None  # missed once, found after the refusal
        assert created.email == "ada@late.example" and len(sb.backend.users) == 1
        assert sb.creates == 2  # the second was refused as a duplicate


class Recorded(RetryPolicy):
    def delay(self, attempt, retry_after=None):
        self.asked = [*getattr(self, "asked", []), attempt]
        return 0.0


def test_the_wait_between_create_tries_follows_the_adapters_retry_policy():
    with MocoSandbox(seed_people=0) as sb:
        moco = staffbridge.connect("moco", base_url=sb.url, api_key="sandbox-key", rate_limit=1000, rate_period=1)
        moco.transport.retry = policy = Recorded(max_retries=0)
        sb.faults.inject("503", method="POST", count=2)
        unit = next(iter(sb.backend.units.values()))
        moco.create(
            Person(first_name="Bo", last_name="Retry", email="bo@retry.example", department=Ref(id=str(unit.id)))
        )
        assert policy.asked == [0, 1] and len(sb.backend.users) == 1


@pytest.mark.parametrize("kind", ["502", "reset"])
def test_the_fieldservice_patch_is_sent_again_after_a_lost_answer(kind):
    with FieldServiceSandbox(seed_people=3) as sb:
        fs = staffbridge.connect("fieldservice", base_url=sb.url, api_key="sandbox-key")
        fs.transport.retry = RetryPolicy(max_retries=2, **FAST)
        user_id = next(iter(sb.backend.users))
        sb.faults.inject(kind, method="PATCH", after=True)
        updated = fs.update(user_id, {"work_phone": "+49 30 123"})
        assert updated.work_phone == "+49 30 123"
        assert [m for m, _ in sb.requests].count("PATCH") == 2
