"""`run_sync`, the task as a plain function, against real PostgreSQL and Redis: a quiet sync sends
about one request per system (WhosOff's token is cached between syncs, sealed), an expired cached
token costs one handshake and is replaced, and status shows what happened."""

from __future__ import annotations

import pytest

from staffbridge.faces.platform import app as platform
from staffbridge.faces.platform.budget import new_platform
from staffbridge.store.tenant_registry import TenantRegistry
from staffbridge.store.tenants import tenant_from_dict
from tests.platform_world import TenantWorld


@pytest.fixture
def world():
    world = TenantWorld(7, size=4).start()
    yield world
    world.stop()


@pytest.fixture
def platform_env(postgres_schema, private_redis, monkeypatch):
    import redis
    from cryptography.fernet import Fernet

    keys = Fernet.generate_key().decode()
    monkeypatch.setenv("STAFFBRIDGE_DATABASE_URL", postgres_schema)
    monkeypatch.setenv("STAFFBRIDGE_BROKER_URL", private_redis.url + "/0")
    monkeypatch.setenv("STAFFBRIDGE_SECRET_KEYS", keys)
    client = redis.Redis.from_url(private_redis.url + "/0")
    new_platform(client)
    yield TenantRegistry(postgres_schema, keys=keys), client
    client.close()


def sent(world: TenantWorld, before: dict[str, int]) -> dict[str, list[tuple[str, str]]]:
    return {name: sandbox.requests[before[name] :] for name, sandbox in world.sandboxes.items()}


def counts(world: TenantWorld) -> dict[str, int]:
    return {name: len(sandbox.requests) for name, sandbox in world.sandboxes.items()}


def handshakes(requests: list[tuple[str, str]]) -> int:
    return sum(1 for _, path in requests if "/authenticate/" in path)


def test_a_quiet_sync_sends_one_request_per_system_and_the_token_is_sealed(world, platform_env):
    registry, client = platform_env
    registry.add(tenant_from_dict(world.tenant()))
    for _ in range(3):  # whole reads and creates, then what the creates read back as
        platform.run_sync(world.id)
    before = counts(world)
    report = platform.run_sync(world.id)
    quiet = sent(world, before)
    assert report["requests"] == 3 and {name: len(r) for name, r in quiet.items()} == {
        "moco": 1,
        "whosoff": 1,
        "fieldservice": 1,
    }
    assert report["counts"]["created"] == report["counts"]["updated"] == 0
    issued = list(world.sandboxes["whosoff"].backend.tokens)  # type: ignore[attr-defined]
    stored = b"".join(client.get(key) or b"" for key in client.scan_iter("*") if client.type(key) == b"string")
    assert issued and not [token for token in issued if token.encode() in stored]
    status = {s.tenant: s for s in registry.status()}[world.id]
    assert status.last is not None and status.last.outcome == "ok" and status.last.requests == 3
    assert status.runs == 4 and status.failed_runs == 0


def test_an_expired_cached_token_is_replaced_once(world, platform_env):
    registry, _ = platform_env
    registry.add(tenant_from_dict(world.tenant()))
    platform.run_sync(world.id)
    world.sandboxes["whosoff"].backend.expire_tokens()  # type: ignore[attr-defined]
    before = counts(world)
    platform.run_sync(world.id)  # the cached token is refused: one handshake, the call again
    assert handshakes(sent(world, before)["whosoff"]) == 1
    before = counts(world)
    platform.run_sync(world.id)  # the new token was kept
    assert handshakes(sent(world, before)["whosoff"]) == 0


def test_a_tenant_being_synced_elsewhere_is_busy(world, platform_env):
    registry, client = platform_env
    registry.add(tenant_from_dict(world.tenant()))
    from staffbridge.faces.platform.guards import TenantLock

    holder = TenantLock(client, world.id, ttl=30)
    assert holder.acquire()
    with pytest.raises(platform.Busy) as busy:
        platform.run_sync(world.id)
    assert 1 <= busy.value.wait <= 30
    holder.release()
    assert platform.run_sync(world.id)["tenant"] == world.id


def test_a_deferred_sync_counts_as_queued_and_yields_to_a_newer_one(platform_env, monkeypatch):
    from staffbridge.faces.platform.budget import OutOfBudget
    from staffbridge.faces.platform.guards import mark_queued

    _, client = platform_env
    calls: list[str] = []

    def spent_once(tenant_id: str) -> dict[str, str]:
        calls.append(tenant_id)
        if len(calls) == 1:
            raise OutOfBudget("moco:abc", 0.0)
        return {"tenant": tenant_id}

    monkeypatch.setattr(platform, "run_sync", spent_once)
    assert platform.sync_tenant.apply(("t1",)).get() == {"tenant": "t1"}  # retried (at once, eagerly)
    assert calls == ["t1", "t1"]

    def beat_sent_another_meanwhile(tenant_id: str) -> dict[str, str]:
        calls.append(tenant_id)
        mark_queued(client, tenant_id, 60)
        raise OutOfBudget("moco:abc", 30.0)

    monkeypatch.setattr(platform, "run_sync", beat_sent_another_meanwhile)
    assert platform.sync_tenant.apply(("t2",)).get() == {"tenant": "t2", "skipped": "a newer sync is queued"}


def test_a_new_platform_starts_at_once_and_a_redis_that_lost_its_budgets_waits(world, platform_env):
    from staffbridge.faces.platform.budget import OutOfBudget

    registry, client = platform_env
    client.flushdb()  # nothing in Redis, nothing sent yet: a new platform
    registry.add(tenant_from_dict(world.tenant()))
    assert platform.run_sync(world.id)["requests"] > 0
    client.flushdb()  # Redis restarted without its data: MOCO still counts the requests just sent
    with pytest.raises(OutOfBudget) as paused:
        platform.run_sync(world.id)
    assert paused.value.account.startswith("moco:") and paused.value.wait > 100
    assert registry.status()[0].last.outcome == "deferred"
