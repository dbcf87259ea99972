"""Platform mode end to end: 30 tenants (each its own MOCO, WhosOff and field-service sandboxes with
their own staff and rate limits), two Celery workers and beat started here, one worker killed with
SIGKILL mid-run, the private Redis (broker, budgets, guards) restarted mid-run; at the end every
tenant's systems are in step, nobody duplicated or lost, and no sandbox ever answered 429 (no
tenant's budget was exceeded in any window)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from staffbridge.store.tenant_registry import TenantRegistry
from staffbridge.store.tenants import tenant_from_dict
from tests.platform_world import TenantWorld

HANG_LIMIT = 420
TENANTS = 30
DEADLINE = 240.0  # seconds for the whole run; it ends as soon as every tenant is in step


def fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def start(env: dict[str, str], *command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "staffbridge.faces.platform.app:app", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)  # the worker and its pool children, as a dying machine
        process.wait(10)


def ok_runs_since(registry: TenantRegistry, moment: float) -> dict[str, int]:
    import datetime as dt

    since = dt.datetime.fromtimestamp(moment, dt.UTC)
    return {
        s.tenant: sum(1 for r in registry.runs(s.tenant) if r.outcome == "ok" and r.started_at >= since)
        for s in registry.status()
    }


def test_thirty_tenants_survive_a_killed_worker_and_a_restarted_redis(
    postgres_schema, private_redis, tmp_path, monkeypatch
):
    keys = fernet_key()
    monkeypatch.setenv("STAFFBRIDGE_SECRET_KEYS", keys)
    registry = TenantRegistry(postgres_schema, keys=keys)
    worlds = [TenantWorld(n, size=6, rate_limit=15, rate_window=5.0).start() for n in range(TENANTS)]
    env = {
        **os.environ,
        "STAFFBRIDGE_BROKER_URL": private_redis.url + "/0",
        "STAFFBRIDGE_DATABASE_URL": postgres_schema,
        "STAFFBRIDGE_SECRET_KEYS": keys,
        "STAFFBRIDGE_VISIBILITY_TIMEOUT": "8",
        "STAFFBRIDGE_LOCK_SECONDS": "20",
        "STAFFBRIDGE_PG_POOL": "3",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for world in worlds:
            registry.add(tenant_from_dict(world.tenant(interval=4, delete_brake=3)))
        workers = [
            start(
                env,
                "worker",
                "--pool=prefork",
                "--concurrency=2",
                "--loglevel=WARNING",
                "-n",
                f"w{n}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            )
            for n in (1, 2)
        ]
        beat = start(env, "beat", "--loglevel=WARNING", "-s", str(tmp_path / "beat-schedule"))
        processes += [*workers, beat]
        began = time.monotonic()
        wait_until(lambda: sum(1 for c in ok_runs_since(registry, 0).values() if c) >= TENANTS // 3, began)
        for world in worlds:  # changes arrive while the platform works
            world.change(0)
        kill(workers[0])  # mid-run: it holds (unacknowledged) tenant syncs right now
        time.sleep(2)
        private_redis.restart(down_for=1.0)  # broker, budgets, locks and queue marks all gone
        disrupted = time.time()
        wait_until(lambda: min(ok_runs_since(registry, disrupted).values()) >= 2, began)
    finally:
        for process in processes:
            kill(process)
    rejected = {world.id: world.budget_exceeded() for world in worlds if world.budget_exceeded()}
    try:
        out = {world.id: world.out_of_step() for world in worlds}
    finally:
        for world in worlds:
            world.stop()
    assert {tenant: problems for tenant, problems in out.items() if problems} == {}
    assert rejected == {}
    statuses = {s.tenant: s for s in registry.status()}
    assert all(s.last_ok is not None for s in statuses.values())


def wait_until(condition, began: float) -> None:
    while not condition():
        if time.monotonic() - began > DEADLINE:
            pytest.fail(f"not done within {DEADLINE} s")
        time.sleep(1.0)
