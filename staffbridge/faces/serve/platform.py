"""Platform mode: every tenant's systems that set `scim_token`, served at /tenants/{tenant}/scim/v2/{system},
and MOCO's webhooks at /webhooks/moco/{tenant}/{system}.

Tenants come from the PostgreSQL tenant registry (re-read every `refresh` seconds, so a tenant added,
replaced or removed is seen without a restart); a tenant's system stores only its scim_token's digest.
What the gateway keeps for a vendor (userName, externalId) lives in the platform's database, in the
scope "<tenant>/scim" (the tenant's own scope holds the sync's crosswalk, which every sync rewrites).
Requests go on the vendor account's shared Redis budget with no wait allowed: a spent budget is a 429.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from staffbridge.faces.platform.budget import OutOfBudget, use_budget
from staffbridge.faces.platform.guards import note_deleted
from staffbridge.faces.serve.gateway import SystemApplication, build_application
from staffbridge.faces.serve.limits import BudgetSpent, fail_fast
from staffbridge.faces.serve.webhooks import MocoWebhooks, RedisReplayGuard
from staffbridge.model.errors import ConfigError
from staffbridge.sdk.adapter import Adapter
from staffbridge.store.backends import open_store
from staffbridge.store.tenant_registry import TenantRegistry
from staffbridge.store.tenants import Tenant

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["DEBOUNCE", "TenantSystems", "celery_sync"]

DEBOUNCE = 5.0  # seconds from a tenant's first webhook to its sync: a burst of events is one sync


def celery_sync(tenant: str, debounce: float = DEBOUNCE) -> None:
    """Sends one sync of `tenant` in `debounce` seconds, unless one is queued already (the platform's
    queue mark, set here and cleared when the sync starts)."""
    from staffbridge.faces.platform.app import redis_client, sync_tenant
    from staffbridge.faces.platform.guards import mark_queued

    if mark_queued(redis_client(), tenant, ttl=3600.0):
        sync_tenant.apply_async((tenant,), countdown=debounce)


class TenantSystems:
    def __init__(
        self,
        registry: TenantRegistry,
        database: str,
        redis: Any,
        refresh: float = 30.0,
        sync: Callable[[str], None] = celery_sync,
    ) -> None:
        self.registry, self.database, self.redis, self.refresh, self.sync = registry, database, redis, refresh, sync
        self._tenants: dict[str, tuple[float, Tenant | None]] = {}
        self._applications: dict[tuple[str, str], SystemApplication] = {}
        self._lock = threading.Lock()
        self._webhooks = MocoWebhooks(self.webhook_secret, self.on_event, RedisReplayGuard(redis))

    def tenant(self, tenant_id: str) -> Tenant | None:
        with self._lock:
            read_at, tenant = self._tenants.get(tenant_id, (0.0, None))
            if time.monotonic() - read_at < self.refresh:
                return tenant
        try:
            tenant = self.registry.get(tenant_id)
        except ConfigError:  # no such tenant
            tenant = None
        with self._lock:
            self._tenants[tenant_id] = (time.monotonic(), tenant)
        return tenant

    def setting(self, tenant_id: str | None, system: str, name: str) -> str | None:
        tenant = self.tenant(tenant_id) if tenant_id else None
        table = tenant.systems.get(system) if tenant is not None else None
        value = table.get(name) if table is not None else None
        return str(value) if value else None

    def digest(self, tenant: str | None, system: str) -> str | None:
        return self.setting(tenant, system, "scim_token")

    def webhook_secret(self, tenant: str, system: str) -> str | None:
        return self.setting(tenant, system, "webhook_secret")

    def application(self, tenant: str | None, system: str) -> WSGIApplication:
        assert tenant is not None  # digest() answered for it
        key = (tenant, system)
        found = self.tenant(tenant)
        assert found is not None
        with self._lock:
            if key not in self._applications:
                served = found.system(system)
                self._applications[key] = build_application(
                    served.connect(),
                    system,
                    open_store(self.database, scope=f"{tenant}/scim"),
                    served.service.get("scim_department"),
                    limit=self.limit,
                    budget_errors=(BudgetSpent, OutOfBudget),
                )
            return self._applications[key]

    def limit(self, adapter: Adapter) -> None:
        use_budget(adapter, self.redis, max_wait=0.0)  # the account's budget, shared with the workers
        fail_fast(adapter)

    def webhooks(self) -> WSGIApplication | None:
        return self._webhooks

    def on_event(self, tenant: str, system: str, event: str, record: dict[str, Any]) -> None:
        if event == "delete" and record.get("id") is not None:
            note_deleted(self.redis, tenant, system, str(record["id"]))
        self.sync(tenant)
