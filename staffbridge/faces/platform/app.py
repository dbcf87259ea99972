"""The Celery app of platform mode: `sync_tenant(tenant_id)` runs `keep_in_step` for one tenant.

Settings come from the environment:

    STAFFBRIDGE_BROKER_URL     redis://127.0.0.1:6379/0 (amqp://guest:guest@host// works too)
    STAFFBRIDGE_REDIS_URL      the Redis of the rate budgets and guards (default: the broker's, when it is Redis)
    STAFFBRIDGE_DATABASE_URL   postgresql://... : tenants, state and run history
    STAFFBRIDGE_SECRET_KEYS    Fernet keys for the tenants' secrets (staffbridge.store.tenant_registry)
    STAFFBRIDGE_LOCK_SECONDS   how long a dead worker's sync blocks its tenant (60; a live one renews it)
    STAFFBRIDGE_VISIBILITY_TIMEOUT  seconds before a Redis broker redelivers the task of a dead worker (300)

A worker that dies mid-task has its task delivered again (`acks_late`, `reject_on_worker_lost`);
the tenant's journal makes the rerun write nothing twice. A tenant out of rate budget is not slept
for: its task is retried with a countdown, and the worker serves other tenants meanwhile.
`run_sync(tenant_id)` is the task as a plain function, for a platform running another engine.

One task per tenant sync, not one per receiver: unification needs every system's read at once, and
a quiet sync (the common case) writes nothing. Per-receiver tasks would have to carry the plan,
staff records included, through the broker (the tasks now carry only a tenant id), or plan again
from the state; a receiver whose budget is spent defers the whole sync instead, whose rerun costs
about one request per system and writes nothing twice (the journal).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from celery import Celery
from celery.beat import Scheduler

from staffbridge.faces.platform.budget import OutOfBudget, account_of, has_epoch, new_platform, use_budget
from staffbridge.faces.platform.guards import (
    TenantLock,
    clear_queued,
    deleted_since,
    forget_deleted,
    mark_queued,
)
from staffbridge.faces.platform.tokens import TokenCache, TokenWatch
from staffbridge.jobs.keep_in_step import keep_in_step
from staffbridge.store.backends import open_store
from staffbridge.store.tenant_registry import RunRecord, TenantRegistry

__all__ = ["Busy", "TenantScheduler", "app", "enqueue", "run_sync", "settings", "sync_tenant"]

log = logging.getLogger("staffbridge.platform")

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def settings() -> dict[str, Any]:
    broker = os.environ.get("STAFFBRIDGE_BROKER_URL", DEFAULT_BROKER)
    redis_url = os.environ.get("STAFFBRIDGE_REDIS_URL") or (
        broker if broker.startswith("redis") else "redis://127.0.0.1:6379/0"
    )
    return {
        "broker": broker,
        "redis": redis_url,
        "database": os.environ.get("STAFFBRIDGE_DATABASE_URL", ""),
        "lock_seconds": float(os.environ.get("STAFFBRIDGE_LOCK_SECONDS", "60")),
        "visibility_timeout": float(os.environ.get("STAFFBRIDGE_VISIBILITY_TIMEOUT", "300")),
    }


def make_app() -> Celery:
    config = settings()
    celery = Celery("staffbridge", broker=config["broker"])
    celery.conf.update(
        task_acks_late=True,  # acknowledged when done: a worker's death leaves the task to another
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds no tenants it is not working on
        task_default_queue="staffbridge",
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": config["visibility_timeout"]},
        task_ignore_result=True,
        beat_scheduler="staffbridge.faces.platform.app:TenantScheduler",
        worker_hijack_root_logger=False,
    )
    return celery


app = make_app()
_clients: dict[tuple[int, str], Any] = {}


def redis_client() -> Any:
    import redis

    url = settings()["redis"]
    key = (os.getpid(), url)
    if key not in _clients:
        _clients[key] = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, retry_on_timeout=True, health_check_interval=10
        )
    return _clients[key]


def registry() -> TenantRegistry:
    database = settings()["database"]
    if not database:
        from staffbridge.model.errors import ConfigError

        raise ConfigError(
            "set STAFFBRIDGE_DATABASE_URL to the platform's PostgreSQL database (postgresql://...)",
            setting="STAFFBRIDGE_DATABASE_URL",
        )
    return TenantRegistry(database)


def enqueue(tenant_id: str, ttl: float = 3600.0) -> bool:
    """Sends a sync of the tenant unless one is queued already; True when sent."""
    if not mark_queued(redis_client(), tenant_id, ttl):
        return False
    sync_tenant.apply_async((tenant_id,))
    return True


@app.task(bind=True, name="staffbridge.sync_tenant", max_retries=None)
def sync_tenant(self: Any, tenant_id: str) -> dict[str, Any]:
    """One sync of one tenant (Celery's face of `run_sync`)."""
    try:
        return run_sync(tenant_id)
    except Busy as busy:  # another worker syncs this tenant now: come back when it is done
        countdown = busy.wait
    except OutOfBudget as spent:
        countdown = spent.wait + 0.5
    # Waiting for its retry, the tenant counts as queued, so beat does not send it again meanwhile;
    # if a sync of it was sent since this one started, that one will do.
    if not mark_queued(redis_client(), tenant_id, ttl=max(countdown * 2, 60.0)):
        log.info("tenant %s: a newer sync is queued; this one is not retried", tenant_id)
        return {"tenant": tenant_id, "skipped": "a newer sync is queued"}
    raise self.retry(countdown=countdown)


class Busy(Exception):
    """The tenant's sync runs elsewhere right now; `wait` seconds until its lock expires at the latest."""

    def __init__(self, tenant_id: str, wait: float) -> None:
        super().__init__(f"tenant {tenant_id} is being synced by another worker")
        self.wait = wait


def run_sync(tenant_id: str) -> dict[str, Any]:
    """One sync of one tenant, as any engine would run it: the tenant's lock, its adapters on the
    shared budgets (and cached tokens), `keep_in_step` in its scoped store, a run record. Raises Busy
    when another worker holds the tenant, OutOfBudget when a vendor account has no room now (both:
    try again later; nothing half-done is lost, the state and journal hold it)."""
    client = redis_client()
    clear_queued(client, tenant_id)
    lock = TenantLock(client, tenant_id, settings()["lock_seconds"])
    if not lock.acquire():
        raise Busy(tenant_id, min(max(lock.remaining(), 1.0), 60.0))
    started = dt.datetime.now(dt.UTC)
    tenants = registry()
    budgets: list[Any] = []
    adapters: list[Any] = []
    watches: list[tuple[str, TokenWatch]] = []
    tokens = TokenCache(client, tenants.cipher)

    def connect(name: str) -> Any:
        adapter, account, watch = tokens.connect(lambda **extra: tenant.connect(name, **extra), account_of)
        adapters.append(adapter)
        if watch is not None:
            watches.append((account, watch))
        budget = use_budget(adapter, client, account=account)
        if budget is not None:
            budgets.append(budget)
        return adapter

    def sent() -> int:
        return sum(int(getattr(getattr(a, "transport", None), "requests_sent", 0) or 0) for a in adapters)

    store = None
    try:
        if not has_epoch(client) and not tenants.has_sent():
            # Redis holds no budgets and the platform never sent a request: a new platform, not a
            # Redis that lost the budgets of requests still counted by the vendors (see budget.py)
            new_platform(client)
        tenant = tenants.get(tenant_id)
        store = open_store(settings()["database"], scope=tenant_id)
        before = getattr(store, "queries", 0)
        deleted = deleted_since(client, tenant_id, tenant.systems)  # reported by webhooks since the last sync
        with lock.held():
            report = keep_in_step(tenant, store, connect=connect, deleted=deleted)
        # a read that failed removed nobody: its reported deletes wait for the next sync
        forget_deleted(
            client, tenant_id, {s: ids for s, ids in deleted.items() if report.reads.get(s) not in (None, "failed")}
        )
        queries = getattr(store, "queries", 0) - before + tenants.queries + 1  # + this run's record
        run = RunRecord(
            started,
            dt.datetime.now(dt.UTC),
            "ok",
            report.counts,
            report.conflicts,
            len(report.failures),
            sum(b.waits for b in budgets),
            report.requests,
            queries,
        )
        tenants.record_run(tenant_id, run)
        return report.to_dict()
    except OutOfBudget as spent:
        tenants.record_run(
            tenant_id,
            RunRecord(
                started,
                dt.datetime.now(dt.UTC),
                "deferred",
                budget_waits=sum(b.waits for b in budgets) + 1,
                requests=sent(),
                error=str(spent),
            ),
        )
        log.info("tenant %s: %s; retried later", tenant_id, spent)
        raise
    except Exception as exc:
        tenants.record_run(
            tenant_id,
            RunRecord(
                started,
                dt.datetime.now(dt.UTC),
                "failed",
                requests=sent(),
                error=f"{type(exc).__name__}: {exc}"[:500],
            ),
        )
        raise
    finally:
        lock.release()
        for account, watch in watches:
            try:
                tokens.keep(account, watch)
            except Exception as exc:  # Redis away: the next sync logs in again, nothing worse
                log.warning("token of %s not kept: %s", account, type(exc).__name__)
        if store is not None:
            store.close()


class TenantScheduler(Scheduler):
    """Celery beat with one entry per tenant at its interval, read from the registry (again every
    `refresh` seconds, so tenants added or removed are picked up), sending through `enqueue`'s guard."""

    refresh = 30.0

    def setup_schedule(self) -> None:
        self._loaded_at = 0.0
        self._reload()

    def _reload(self) -> None:
        from celery.schedules import schedule

        try:
            intervals = registry().schedule()
        except Exception as exc:  # PostgreSQL away for a moment: keep the schedule we have
            log.warning("could not read the tenants (%s); keeping the current schedule", type(exc).__name__)
            return
        wanted = {
            f"sync {tenant}": {
                "task": "staffbridge.sync_tenant",
                "args": (tenant,),
                "schedule": schedule(dt.timedelta(seconds=seconds)),
            }
            for tenant, seconds in intervals.items()
        }
        for name in [n for n in self.schedule if n not in wanted]:
            del self.schedule[name]
        self.update_from_dict({name: entry for name, entry in wanted.items() if name not in self.schedule})
        self._loaded_at = dt.datetime.now().timestamp()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if dt.datetime.now().timestamp() - self._loaded_at > self.refresh:
            self._reload()
        return min(super().tick(*args, **kwargs), self.refresh)

    def apply_async(self, entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any) -> Any:
        tenant = entry.args[0]
        try:
            fresh = mark_queued(redis_client(), tenant, ttl=max(entry.schedule.seconds * 5, 60))
        except Exception as exc:  # Redis restarting: this tick is skipped, the next one tries again
            log.warning("tenant %s not queued: %s", tenant, type(exc).__name__)
            return None
        if not fresh:
            log.info("tenant %s is still queued; not queued twice", tenant)
            return None
        return super().apply_async(entry, producer, advance, **kwargs)
