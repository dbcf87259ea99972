"""MOCO's webhooks end to end: `staffbridge webhooks subscribe` registers the hooks in the MOCO sandbox,
the sandbox sends signed deliveries of user changes to the platform's receiver, which checks them,
answers at once and triggers a debounced sync of the tenant; a delete makes the next read a whole one."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time

import pytest
import requests

from staffbridge.faces.cli.main import main
from staffbridge.faces.serve.app import Gateway
from staffbridge.faces.serve.server import Server
from staffbridge.faces.serve.webhooks import signature
from staffbridge.store.backends import open_store
from staffbridge.store.records import SystemState
from tests.scim_world import sandbox_and_settings, write_config

HANG_LIMIT = 180  # seconds: a hang fails the test instead of holding CI


@pytest.fixture
def platform(tmp_path, monkeypatch, postgres_schema, redis_url):
    """A tenant "acme" with a MOCO system (the sandbox) and its webhook_secret, served by the gateway;
    syncs are recorded instead of sent to Celery."""
    import redis
    from cryptography.fernet import Fernet

    from staffbridge.faces.serve.platform import TenantSystems
    from staffbridge.store.tenant_registry import TenantRegistry
    from staffbridge.store.tenants import tenant_from_dict

    sandbox, settings, _ = sandbox_and_settings("moco", 2)
    registry = TenantRegistry(postgres_schema, keys=Fernet.generate_key().decode())
    table = {"adapter": "moco", "base_url": sandbox.url, **settings}
    table["webhook_secret"] = sandbox.web_hooks.signature_key  # what MOCO's web hook overview shows
    registry.add(tenant_from_dict({"id": "acme", "systems": {"moco": table}}))
    synced: list[str] = []
    systems = TenantSystems(registry, postgres_schema, redis.Redis.from_url(redis_url), sync=synced.append)
    config = write_config(tmp_path / "staffbridge.toml", "moco", sandbox.url, settings)
    monkeypatch.setenv("SCIM_TOKEN_MOCO", secrets.token_urlsafe(32))
    try:
        with Server(Gateway(systems)) as server:
            yield sandbox, server, synced, config, postgres_schema
    finally:
        sandbox.stop()


def deliver(server, body: bytes, key: str, event: str = "update", stamp: float | None = None, tenant: str = "acme"):
    headers = {
        "Content-Type": "application/json",
        "X-Moco-Target": "User",
        "X-Moco-Event": event,
        "X-Moco-Timestamp": str(int((time.time() if stamp is None else stamp) * 1000)),
        "X-Moco-Signature": signature(key, body),
    }
    return requests.post(f"{server.url}/webhooks/moco/{tenant}/moco", data=body, headers=headers, timeout=10)


def test_subscribe_then_signed_deliveries_trigger_syncs(platform, capsys, redis_url) -> None:
    sandbox, server, synced, config, database = platform
    url = f"{server.url}/webhooks/moco/acme/moco"
    assert main(["webhooks", "subscribe", "moco", "--url", url, "--config", str(config), "--json"]) == 0
    hooks = json.loads(capsys.readouterr().out)
    assert sorted(hook["event"] for hook in hooks) == ["create", "delete", "update"]
    assert main(["webhooks", "subscribe", "moco", "--url", url, "--config", str(config)]) == 0  # none twice
    assert len(sandbox.web_hooks.hooks) == 3

    # the tenant's state: MOCO was read incrementally before
    with open_store(database, scope="acme") as store:
        stamp = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
        store.save_sync({"moco": SystemState("moco", 1, 0, stamp, stamp, stamp, stamp)}, {})

    from staffbridge import connect

    moco = connect("moco", base_url=sandbox.url, api_key=sandbox.api_key, rate_limit=1000)
    ada = moco.create(moco.get(next(iter(sandbox.backend.users))).replace(id=None, email="ada@example.com"))
    moco.update(ada.id, {"last_name": "King"})
    assert sandbox.web_hooks.settled()
    assert [d["status"] for d in sandbox.web_hooks.deliveries] == [202, 202]
    assert synced == ["acme", "acme"]  # TenantSystems asks each time; the queue mark makes a burst one sync
    with open_store(database, scope="acme") as store:
        assert store.cursors()["moco"].cursor == stamp  # an update leaves incremental reads as they are

    moco.delete(ada.id)
    assert sandbox.web_hooks.settled()
    assert sandbox.web_hooks.deliveries[-1] == {"hook": 3, "event": "delete", "status": 202}
    import redis

    from staffbridge.faces.platform.guards import deleted_since, forget_deleted

    # noted for the next sync, which removes Ada although its updated_after read cannot see a delete
    client = redis.Redis.from_url(redis_url)
    assert str(ada.id) in deleted_since(client, "acme", ["moco"])["moco"]
    forget_deleted(client, "acme", {"moco": [str(ada.id)]})
    assert synced == ["acme"] * 3


def test_forged_stale_and_replayed_deliveries_are_refused(platform) -> None:
    sandbox, server, synced, _, _ = platform
    key = sandbox.web_hooks.signature_key
    body = json.dumps({"id": 933662733, "firstname": "Anna"}).encode()
    assert deliver(server, body, "0" * 32).status_code == 401  # forged: another key
    assert deliver(server, body, key, tenant="nosuch").status_code == 401
    assert deliver(server, body, key, stamp=time.time() - 3600).status_code == 400  # stale
    assert deliver(server, body, key).status_code == 202
    assert deliver(server, body, key).status_code == 409  # the same delivery again
    tampered = body.replace(b"Anna", b"Eve")
    forged = requests.post(
        f"{server.url}/webhooks/moco/acme/moco",
        data=tampered,
        headers={"X-Moco-Signature": signature(key, body), "X-Moco-Timestamp": str(int(time.time() * 1000))},
        timeout=10,
    )
    assert forged.status_code == 401
    assert synced == ["acme"]


def test_a_burst_of_events_is_one_debounced_sync(redis_url, monkeypatch) -> None:
    import redis

    from staffbridge.faces.platform import app as platform_app
    from staffbridge.faces.serve.platform import celery_sync

    client = redis.Redis.from_url(redis_url)
    tenant = f"burst-{secrets.token_hex(4)}"
    sent: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(platform_app, "redis_client", lambda: client)
    monkeypatch.setattr(platform_app.sync_tenant, "apply_async", lambda *a, **kw: sent.append((a, kw)))
    for _ in range(20):
        celery_sync(tenant, debounce=5.0)
    assert sent == [(((tenant,),), {"countdown": 5.0})]
    client.delete(f"staffbridge:queued:{tenant}")  # what sync_tenant does when it starts
    celery_sync(tenant)
    assert len(sent) == 2
    client.delete(f"staffbridge:queued:{tenant}")
