"""Platform benchmark (not a test): N small tenants through two Celery workers.

    .venv/bin/python -m tests.bench.bench_platform 100 500

Needs PostgreSQL (STAFFBRIDGE_TEST_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres; a
fresh database is made and dropped) and Redis (STAFFBRIDGE_TEST_REDIS, default redis://127.0.0.1:6379,
database 15 is used and flushed). Each tenant has its own MOCO, WhosOff and field-service sandboxes
(4 people). Per N: a first round (whole reads, creates), then a quiet round (incremental, nothing to
write) measured: syncs per minute, requests per quiet sync, database queries per sync, p50/p95 sync
latency, and the floor the vendors' budgets set (MOCO: 120 requests per 2 minutes per account).
"""

from __future__ import annotations

import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

from staffbridge.store.tenant_registry import TenantRegistry
from staffbridge.store.tenants import tenant_from_dict
from tests.platform_world import TenantWorld

SERVER = os.environ.get("STAFFBRIDGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("STAFFBRIDGE_TEST_REDIS", "redis://127.0.0.1:6379") + "/15"
MOCO_BUDGET = (120, 120.0)


def round_of(registry: TenantRegistry, tenants: list[str], app_enqueue: Any, since: float) -> tuple[float, list]:
    began = time.monotonic()
    for tenant in tenants:
        app_enqueue(tenant)
    import datetime as dt

    moment = dt.datetime.fromtimestamp(since, dt.UTC)
    while True:
        runs = [r for t in tenants for r in registry.runs(t) if r.outcome == "ok" and r.started_at >= moment]
        if len(runs) >= len(tenants):
            return time.monotonic() - began, runs
        time.sleep(0.5)


def bench(count: int) -> dict[str, float]:
    import psycopg
    import redis
    from cryptography.fernet import Fernet

    name = f"staffbridge_bench_{secrets.token_hex(3)}"
    with psycopg.connect(SERVER, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    dsn = SERVER.rsplit("/", 1)[0] + f"/{name}"
    keys = Fernet.generate_key().decode()
    env = {
        **os.environ,
        "STAFFBRIDGE_BROKER_URL": REDIS,
        "STAFFBRIDGE_DATABASE_URL": dsn,
        "STAFFBRIDGE_SECRET_KEYS": keys,
        "STAFFBRIDGE_PG_POOL": "3",
    }
    os.environ.update(env)
    redis.Redis.from_url(REDIS).flushdb()
    worlds = [TenantWorld(n, size=4).start() for n in range(count)]
    workers = []
    try:
        registry = TenantRegistry(dsn, keys=keys)
        for world in worlds:
            registry.add(tenant_from_dict(world.tenant(interval=3600)))
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "staffbridge.faces.platform.app:app",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=2",
                    "--loglevel=WARNING",
                    "-n",
                    f"b{n}@%h",
                    "--without-gossip",
                    "--without-mingle",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for n in (1, 2)
        ]
        from staffbridge.faces.platform.app import enqueue

        ids = [w.id for w in worlds]
        round_of(registry, ids, enqueue, time.time())  # whole reads and the creates
        round_of(registry, ids, enqueue, time.time())  # settles what the creates read back as
        start = time.time()
        seconds, runs = round_of(registry, ids, enqueue, start)  # the quiet round, measured
        latencies = sorted((r.finished_at - r.started_at).total_seconds() for r in runs)
        requests = statistics.mean(r.requests for r in runs)
        return {
            "tenants": count,
            "seconds": seconds,
            "syncs_per_minute": len(runs) / seconds * 60,
            "requests_per_quiet_sync": requests,
            "queries_per_sync": statistics.mean(r.queries for r in runs),
            "p50": latencies[len(latencies) // 2],
            "p95": latencies[int(len(latencies) * 0.95) - 1],
            "budget_floor_syncs_per_minute": count * MOCO_BUDGET[0] / MOCO_BUDGET[1] * 60 / max(requests / 3, 1),
        }
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGKILL)
        for world in worlds:
            world.stop()
        from staffbridge.store import postgres

        postgres.close_pools()
        with psycopg.connect(SERVER, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [100, 500]
    results = []
    print(
        f"{'tenants':>8} {'syncs/min':>10} {'req/quiet sync':>15} {'queries/sync':>13} {'p50 s':>7} {'p95 s':>7} "
        f"{'floor syncs/min (budgets)':>26}",
        flush=True,
    )
    for count in counts:  # each row as soon as it is measured
        r = bench(count)
        results.append(r)
        print(
            f"{r['tenants']:>8} {r['syncs_per_minute']:>10.0f} {r['requests_per_quiet_sync']:>15.1f} "
            f"{r['queries_per_sync']:>13.1f} {r['p50']:>7.2f} {r['p95']:>7.2f} "
            f"{r['budget_floor_syncs_per_minute']:>26.0f}",
            flush=True,
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = (last["seconds"] / first["seconds"]) / (last["tenants"] / first["tenants"])
        print(
            f"cost growth {first['tenants']} -> {last['tenants']} tenants: {last['seconds'] / first['seconds']:.2f}x "
            f"time for {last['tenants'] / first['tenants']:.0f}x tenants ({growth:.2f} of linear)"
        )


if __name__ == "__main__":
    main()
