"""The shared rate budget and the tenant guards against a real Redis."""

from __future__ import annotations

import time
import uuid

import pytest

from staffbridge.faces.platform.budget import OutOfBudget, RedisBudget, use_budget
from staffbridge.faces.platform.guards import TenantLock, clear_queued, mark_queued
from staffbridge.sdk.transport import RateLimiter


@pytest.fixture
def client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def prefix(client):
    """Budget keys of this test's own (its epoch too), so tests sharing a Redis do not meet."""
    prefix = f"test:{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def running_for_a_while(client, prefix: str) -> None:
    """As on a platform whose budgets have been in Redis for longer than any window."""
    client.set(f"{prefix}:epoch", int((time.time() - 3600) * 1000))


def test_two_workers_share_one_budget_and_a_spent_one_defers(client, prefix):
    running_for_a_while(client, prefix)
    first, second = (RedisBudget(client, "acme", limit=5, per=2.0, max_wait=0.1, prefix=prefix) for _ in range(2))
    for budget in (first, second, first, second, first):
        budget.acquire()
    with pytest.raises(OutOfBudget) as spent:
        second.acquire()
    assert 1.5 < spent.value.wait <= 2.25 and second.deferred == 1


def test_a_new_account_starts_at_once(client, prefix):
    running_for_a_while(client, prefix)
    started = time.monotonic()
    RedisBudget(client, "new-tenant", limit=120, per=120.0, max_wait=0.1, prefix=prefix).acquire()
    assert time.monotonic() - started < 0.5


def test_after_redis_lost_its_memory_every_account_waits_out_one_window_once(client, prefix):
    running_for_a_while(client, prefix)
    budget = RedisBudget(client, "acme", limit=100, per=1.0, margin=0.0, max_wait=0.1, prefix=prefix)
    budget.acquire()
    for key in client.scan_iter(f"{prefix}:*"):  # a restart without persistence, or a flush
        client.delete(key)
    for account in ("acme", "other"):  # requests of the last window went unrecorded: both wait
        with pytest.raises(OutOfBudget) as paused:
            RedisBudget(client, account, limit=100, per=1.0, margin=0.0, max_wait=0.1, prefix=prefix).acquire()
        assert 0.5 < paused.value.wait <= 1.0
    time.sleep(1.05)
    budget.acquire()  # once: the window is over, the epoch stays
    RedisBudget(client, "a-third", limit=100, per=1.0, margin=0.0, max_wait=0.1, prefix=prefix).acquire()


def test_a_429_pauses_the_account_for_every_worker(client, prefix):
    running_for_a_while(client, prefix)
    first, second = (RedisBudget(client, "acme", limit=100, per=1.0, max_wait=0.5, prefix=prefix) for _ in range(2))
    first.acquire()
    first.penalise(3)
    with pytest.raises(OutOfBudget) as paused:
        second.acquire()
    assert 2.5 < paused.value.wait <= 3.0


def test_a_vendor_without_a_limit_still_shares_a_429s_pause(client, prefix):
    first, second = (
        RedisBudget(client, "whosoff", limit=None, per=60.0, max_wait=0.5, prefix=prefix) for _ in range(2)
    )
    first.acquire()  # no epoch wait either: nothing is counted
    second.penalise(2)
    with pytest.raises(OutOfBudget):
        first.acquire()


class FakeTransport:
    def __init__(self) -> None:
        self.limiter = RateLimiter(10, 1.0)
        self.slept: list[float] = []
        self.sleep = self.slept.append
        self.base_url = "https://vendor.example"


class FakeAdapter:
    name = "vendor"

    def __init__(self) -> None:
        self.transport = FakeTransport()

    def secret_values(self) -> list[str]:
        return ["key"]


def test_a_429_defers_but_a_short_5xx_backoff_is_slept(client, prefix):
    adapter = FakeAdapter()
    budget = use_budget(adapter, client, max_wait=1.0, max_backoff=5.0, prefix=prefix)  # type: ignore[arg-type]
    assert budget is not None and adapter.transport.limiter is budget
    adapter.transport.sleep(3.0)  # a 503's backoff: bounded, slept in the worker
    assert adapter.transport.slept == [3.0]
    with pytest.raises(OutOfBudget):  # a Retry-After of a minute on a 503: not slept
        adapter.transport.sleep(60.0)
    budget.penalise(3.0)  # a 429: the transport penalises, then waits
    with pytest.raises(OutOfBudget) as deferred:
        adapter.transport.sleep(3.0)
    assert "429" in str(deferred.value) and adapter.transport.slept == [3.0]


def test_one_lock_per_tenant_and_one_queue_mark(client):
    tenant = f"t-{uuid.uuid4().hex}"
    holder, other = TenantLock(client, tenant, ttl=5), TenantLock(client, tenant, ttl=5)
    assert holder.acquire() and not other.acquire() and 4 < other.remaining() <= 5
    other.release()  # not its lock: nothing happens
    assert not other.acquire()
    holder.release()
    assert other.acquire()
    assert mark_queued(client, tenant, 10) and not mark_queued(client, tenant, 10)
    clear_queued(client, tenant)
    assert mark_queued(client, tenant, 10)


def test_a_lock_of_a_dead_worker_expires(client):
    tenant = f"t-{uuid.uuid4().hex}"
    assert TenantLock(client, tenant, ttl=0.3).acquire()
    time.sleep(0.4)
    assert TenantLock(client, tenant, ttl=5).acquire()


def test_a_held_lock_outlives_its_ttl_while_its_sync_runs(client):
    tenant = f"t-{uuid.uuid4().hex}"
    holder = TenantLock(client, tenant, ttl=0.3)
    assert holder.acquire()
    with holder.held():
        time.sleep(0.8)  # more than twice the ttl: renewed meanwhile
        assert not TenantLock(client, tenant, ttl=5).acquire()
    time.sleep(0.4)  # no longer renewed: it runs out as a dead worker's would
    assert TenantLock(client, tenant, ttl=5).acquire()
