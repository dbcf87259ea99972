"""Platform benchmark (not a test): N small tenants through two Celery workers.

    .venv/bin/python -m tests.bench.bench_platform 100 500

Needs PostgreSQL (STAFFBRIDGE_TEST_POSTGRES, default postgresql://postgres@127.0.0.1:5432/postgres; a
fresh database is made and dropped) and Redis (STAFFBRIDGE_TEST_REDIS, default redis://127.0.0.1:6379,
database 15 is used and flushed). Each tenant has its own MOCO, WhosOff and field-service emulators
(4 people in MOCO, overlapping staff in the others; own state, own credentials, own rate limits),
served behind one shared host per vendor (tests/platform_world.py), so 500 tenants are three servers
and not 1,500. Two worker processes (`--concurrency` each, default 2) run the syncs.

Per N: rounds until the tenants are in step (whole reads and creates, then the managers, then what
the writes read back as), then one quiet round (incremental reads, nothing to write), measured:
syncs per minute, requests per quiet sync (by system), database queries per sync, p50/p95 sync
latency. Next to them, the floors: about one request per system per quiet sync, and the syncs per
minute the vendors' budgets would allow (MOCO: 120 requests per 2 minutes per account, so with one
MOCO request a sync, 60 syncs per minute per tenant: the budgets, being per account, never bind a
platform syncing each tenant every few minutes; the workers do). Cost growth: worker time per sync
and queries and requests per sync from the smallest to the largest N (linear: the same per sync).
"""

from __future__ import annotations

import datetime as dt
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
from tests.platform_world import TenantWorld, shared_hosts

SERVER = os.environ.get("STAFFBRIDGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("STAFFBRIDGE_TEST_REDIS", "redis://127.0.0.1:6379") + "/15"
CONCURRENCY = int(os.environ.get("STAFFBRIDGE_BENCH_CONCURRENCY", "2"))
MOCO_BUDGET = (120, 120.0)  # requests per seconds, per account
SETTLE_ROUNDS = 3


def ok_runs_since(dsn: str, moment: dt.datetime) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(dsn) as db:
        return db.execute(
            "SELECT tenant, started_at, finished_at, requests, queries FROM staffbridge_runs "
            "WHERE outcome = 'ok' AND started_at >= %s",
            (moment,),
        ).fetchall()


def round_of(dsn: str, tenants: list[str], enqueue: Any, limit: float = 900.0) -> tuple[float, list[tuple[Any, ...]]]:
    """Sends every tenant's sync; returns the seconds until all ran, and their runs."""
    moment = dt.datetime.now(dt.UTC)
    began = time.monotonic()
    for tenant in tenants:
        enqueue(tenant)
    while True:
        runs = ok_runs_since(dsn, moment)
        if len({run[0] for run in runs}) >= len(tenants):
            return time.monotonic() - began, runs
        if time.monotonic() - began > limit:
            raise SystemExit(f"a round of {len(tenants)} tenants did not finish in {limit:.0f} s")
        time.sleep(0.5)


def start_worker(number: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "staffbridge.faces.platform.app:app",
            "worker",
            "--pool=prefork",
            f"--concurrency={CONCURRENCY}",
            "--loglevel=WARNING",
            "-n",
            f"bench{number}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """CPU time of a worker and its pool children so far (Linux /proc)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [process.pid]
    try:
        with open(f"/proc/{process.pid}/task/{process.pid}/children") as children:
            pids += [int(p) for p in children.read().split()]
    except OSError:
        pass
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


def bench(count: int) -> dict[str, Any]:
    import psycopg
    import redis
    from cryptography.fernet import Fernet

    from staffbridge.faces.platform.budget import new_platform

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
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    new_platform(client)  # a new platform, not a Redis that lost its budgets: no window of pause
    hosts = shared_hosts()
    worlds = [TenantWorld(n, size=4, hosts=hosts).start() for n in range(count)]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        registry = TenantRegistry(dsn, keys=keys)
        for world in worlds:
            registry.add(tenant_from_dict(world.tenant(interval=3600)))
        workers = [start_worker(n, env) for n in (1, 2)]
        from staffbridge.faces.platform.app import enqueue

        ids = [w.id for w in worlds]
        for _ in range(SETTLE_ROUNDS):
            round_of(dsn, ids, enqueue)
        sent_before = {w.id: {s: len(sb.requests) for s, sb in w.sandboxes.items()} for w in worlds}
        cpu_before = sum(cpu_seconds(w) for w in workers)
        seconds, runs = round_of(dsn, ids, enqueue)  # the quiet round, measured
        cpu = sum(cpu_seconds(w) for w in workers) - cpu_before
        by_system = {
            system: statistics.mean(len(w.sandboxes[system].requests) - sent_before[w.id][system] for w in worlds)
            for system in ("moco", "whosoff", "fieldservice")
        }
        latencies = sorted((finished - started).total_seconds() for _, started, finished, _, _ in runs)
        return {
            "tenants": count,
            "seconds": seconds,
            "cpu_per_sync": cpu / len(runs),
            "syncs_per_minute": len(runs) / seconds * 60,
            "requests_per_quiet_sync": statistics.mean(run[3] for run in runs),
            "by_system": by_system,
            "queries_per_sync": statistics.mean(run[4] for run in runs),
            "p50": latencies[len(latencies) // 2],
            "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)],
            "budget_ceiling": count * MOCO_BUDGET[0] / MOCO_BUDGET[1] * 60 / max(by_system["moco"], 1.0),
        }
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGKILL)
        for world in worlds:
            world.stop()
        for host in hosts.values():
            host.stop()
        client.flushdb()
        client.close()
        from staffbridge.store import postgres

        postgres.close_pools()
        with psycopg.connect(SERVER, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [100, 500]
    results = []
    print(
        f"{'tenants':>7} {'syncs/min':>9} {'req/quiet sync':>14} {'(moco/whosoff/fs)':>17} {'floor':>5} "
        f"{'queries/sync':>12} {'p50 s':>6} {'p95 s':>6} {'cpu s/sync':>10} {'budgets allow syncs/min':>23}",
        flush=True,
    )
    for count in counts:  # each row as soon as it is measured
        r = bench(count)
        results.append(r)
        systems = "/".join(f"{v:.1f}" for v in r["by_system"].values())
        print(
            f"{r['tenants']:>7} {r['syncs_per_minute']:>9.0f} {r['requests_per_quiet_sync']:>14.2f} {systems:>17} "
            f"{len(r['by_system']):>5} {r['queries_per_sync']:>12.1f} {r['p50']:>6.2f} {r['p95']:>6.2f} "
            f"{r['cpu_per_sync']:>10.3f} {r['budget_ceiling']:>23.0f}",
            flush=True,
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        scale = last["tenants"] / first["tenants"]
        print(
            f"cost growth {first['tenants']} -> {last['tenants']} tenants ({scale:.0f}x): quiet round "
            f"{last['seconds'] / first['seconds']:.2f}x the time, worker CPU per sync "
            f"{last['cpu_per_sync'] / first['cpu_per_sync']:.2f}x, requests per sync "
            f"{last['requests_per_quiet_sync'] / first['requests_per_quiet_sync']:.2f}x, queries per sync "
            f"{last['queries_per_sync'] / first['queries_per_sync']:.2f}x (linear: 1.00x per sync, {scale:.0f}x in all)"
        )


if __name__ == "__main__":
    main()
