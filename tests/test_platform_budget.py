"""The shared rate budget and the tenant guards against a real Redis."""

from __future__ import annotations

import time
import uuid

import pytest

from staffbridge.faces.platform.budget import OutOfBudget, RedisBudget
from staffbridge.faces.platform.guards import TenantLock, clear_queued, mark_queued


@pytest.fixture
def client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_two_workers_share_one_budget_and_a_spent_one_defers(client):
    account = f"test:{uuid.uuid4().hex}"
    first, second = (RedisBudget(client, account, limit=5, per=2.0, max_wait=0.1) for _ in range(2))
    with pytest.raises(OutOfBudget):  # an account Redis has not seen starts with one window of pause
        first.acquire()
    client.delete(f"staffbridge:budget:{account}:pause")
    for budget in (first, second, first, second, first):
        budget.acquire()
    with pytest.raises(OutOfBudget) as spent:
        second.acquire()
    assert 1.5 < spent.value.wait <= 2.25 and second.deferred == 1


def test_a_429_pauses_the_account_for_every_worker(client):
    account = f"test:{uuid.uuid4().hex}"
    first, second = (RedisBudget(client, account, limit=100, per=1.0, max_wait=0.5) for _ in range(2))
    client.set(f"staffbridge:budget:{account}:known", "1")
    first.acquire()
    first.penalise(3)
    with pytest.raises(OutOfBudget) as paused:
        second.acquire()
    assert 2.5 < paused.value.wait <= 3.0


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
