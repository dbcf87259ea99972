"""Tenants and their sync history in PostgreSQL, secret settings encrypted at rest.

    registry = TenantRegistry("postgresql://platform@db/staffbridge")
    registry.add(load_tenant_file("acme.toml"))
    tenant = registry.get("acme")            # secrets decrypted, in memory only
    registry.record_run("acme", RunRecord(...))

Secret settings (see `Tenant.secret_names`) never reach the database in clear: per tenant one
Fernet token holds them all, made with the newest key of `STAFFBRIDGE_SECRET_KEYS` (comma-separated
Fernet keys, newest first). Rotation: put a new key in front, keep the old ones behind it while
`rotate_keys()` re-encrypts every tenant with the new key, then drop the old ones. A token no key
opens is a ConfigError that names the tenant, never a value.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from staffbridge.model.errors import ConfigError
from staffbridge.store.postgres import masked, pool_for
from staffbridge.store.records import utc_stamp
from staffbridge.store.tenants import Tenant, rules_from_dict

__all__ = ["KEYS_VARIABLE", "RunRecord", "TenantRegistry", "TenantStatus"]

KEYS_VARIABLE = "STAFFBRIDGE_SECRET_KEYS"
_prepared: set[tuple[int, str]] = set()  # (process, location) whose tables exist

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS staffbridge_tenants (
        id         TEXT PRIMARY KEY,
        systems    JSONB NOT NULL,           -- name -> adapter and settings, secret ones left out
        secrets    TEXT,                     -- a Fernet token of {system: {setting: value}}
        rules      JSONB NOT NULL,
        added_at   TIMESTAMPTZ NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS staffbridge_runs (
        seq          BIGSERIAL PRIMARY KEY,
        tenant       TEXT NOT NULL,
        started_at   TIMESTAMPTZ NOT NULL,
        finished_at  TIMESTAMPTZ NOT NULL,
        outcome      TEXT NOT NULL,          -- ok | failed | deferred (out of budget, retried later)
        counts       JSONB NOT NULL,         -- created, updated, deactivated, deleted, people, ...
        conflicts    INTEGER NOT NULL,
        failures     INTEGER NOT NULL,
        budget_waits INTEGER NOT NULL,
        requests     INTEGER NOT NULL,
        queries      INTEGER NOT NULL,
        error        TEXT)""",
    "CREATE INDEX IF NOT EXISTS staffbridge_runs_by_tenant ON staffbridge_runs (tenant, seq)",
)


@dataclass
class RunRecord:
    """One sync of one tenant, as the status command shows it (no personal data, no settings)."""

    started_at: dt.datetime
    finished_at: dt.datetime
    outcome: str
    counts: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    failures: int = 0
    budget_waits: int = 0
    requests: int = 0
    queries: int = 0
    error: str | None = None


@dataclass
class TenantStatus:
    tenant: str
    interval: int
    last: RunRecord | None  # the last run, whatever its outcome
    last_ok: dt.datetime | None
    runs: int
    failed_runs: int
    budget_waits: int  # over all runs: requests that waited for a vendor budget, and runs deferred for one

    @property
    def next_sync(self) -> dt.datetime | None:
        return self.last.finished_at + dt.timedelta(seconds=self.interval) if self.last else None

    def to_dict(self) -> dict[str, Any]:
        last = asdict(self.last) if self.last else None
        if last and self.last:
            last["started_at"], last["finished_at"] = utc_stamp(self.last.started_at), utc_stamp(self.last.finished_at)
        return {
            "tenant": self.tenant,
            "interval": self.interval,
            "last": last,
            "last_ok": utc_stamp(self.last_ok),
            "next_sync": utc_stamp(self.next_sync),
            "runs": self.runs,
            "failed_runs": self.failed_runs,
            "budget_waits": self.budget_waits,
        }


class TenantRegistry:
    """The platform's tenants in the PostgreSQL database at `location`."""

    def __init__(self, location: str, keys: str | None = None) -> None:
        self.location = masked(location)
        self._pool = pool_for(location)
        self._keys = keys
        self.queries = 0  # statements sent (the benchmark's "database queries per sync")
        if (os.getpid(), location) not in _prepared:  # once per process, not once per sync
            with self._pool.connection() as db, db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (0x53425248,))
                for statement in _SCHEMA:
                    db.execute(statement)
            _prepared.add((os.getpid(), location))

    def __repr__(self) -> str:
        return f"<TenantRegistry {self.location}>"

    # ------------------------------------------------------------------ secrets
    def cipher(self) -> Any:
        """MultiFernet over the keys (newest first): what seals tenant secrets and cached tokens."""
        from cryptography.fernet import Fernet, MultiFernet

        text = self._keys if self._keys is not None else os.environ.get(KEYS_VARIABLE, "")
        keys = [k.strip() for k in text.split(",") if k.strip()]
        if not keys:
            raise ConfigError(
                f"set {KEYS_VARIABLE} to one or more Fernet keys (newest first) to keep tenant "
                'secrets; make one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"',
                setting=KEYS_VARIABLE,
            )
        try:
            return MultiFernet([Fernet(k) for k in keys])
        except ValueError:
            raise ConfigError(
                f"{KEYS_VARIABLE}: each key must be a Fernet key (32 url-safe base64 bytes)", setting=KEYS_VARIABLE
            ) from None

    def _seal(self, tenant: Tenant) -> tuple[dict[str, Any], str | None]:
        plain: dict[str, Any] = {}
        hidden: dict[str, dict[str, Any]] = {}
        for name, table in tenant.systems.items():
            secret = tenant.secret_names.get(name, frozenset())
            plain[name] = {k: v for k, v in table.items() if k not in secret}
            if any(table.get(k) for k in secret):
                hidden[name] = {k: table[k] for k in secret if table.get(k)}
        token = self.cipher().encrypt(json.dumps(hidden).encode()).decode() if hidden else None
        return plain, token

    def _open(self, tenant_id: str, systems: dict[str, Any], token: str | None, rules: dict[str, Any]) -> Tenant:
        from cryptography.fernet import InvalidToken

        hidden: dict[str, dict[str, Any]] = {}
        if token:
            try:
                hidden = json.loads(self.cipher().decrypt(token.encode()))
            except InvalidToken:
                raise ConfigError(
                    f"tenant {tenant_id}: its secrets open with none of the keys in {KEYS_VARIABLE} "
                    "(a key removed too early?)",
                    setting=KEYS_VARIABLE,
                    source=f"tenant {tenant_id}",
                ) from None
        merged = {name: {**table, **hidden.get(name, {})} for name, table in systems.items()}
        return Tenant(
            tenant_id,
            merged,
            rules_from_dict(rules, list(systems), f"tenant {tenant_id}"),
            {name: frozenset(values) for name, values in hidden.items()},
        )

    # ------------------------------------------------------------------ tenants
    def add(self, tenant: Tenant, replace: bool = False) -> None:
        """Stores `tenant`; an existing id is a ConfigError unless `replace`."""
        plain, token = self._seal(tenant)
        rules = tenant.rules.to_dict()
        with self._pool.connection() as db, db.transaction():
            if replace:
                db.execute(
                    "INSERT INTO staffbridge_tenants (id, systems, secrets, rules) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (id) DO UPDATE SET systems = excluded.systems, secrets = excluded.secrets, "
                    "rules = excluded.rules",
                    (tenant.id, json.dumps(plain), token, json.dumps(rules)),
                )
                return
            added = db.execute(
                "INSERT INTO staffbridge_tenants (id, systems, secrets, rules) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (id) DO NOTHING",
                (tenant.id, json.dumps(plain), token, json.dumps(rules)),
            )
            if added.rowcount == 0:
                raise ConfigError(f"tenant {tenant.id} exists already (replace it with --replace)", setting="id")

    def get(self, tenant_id: str) -> Tenant:
        self.queries += 1
        with self._pool.connection() as db:
            row = db.execute(
                "SELECT id, systems, secrets, rules FROM staffbridge_tenants WHERE id = %s", (tenant_id,)
            ).fetchone()
        if row is None:
            raise ConfigError(f"no tenant {tenant_id!r}", setting="tenant")
        return self._open(*row)

    def ids(self) -> list[str]:
        with self._pool.connection() as db:
            return [row[0] for row in db.execute("SELECT id FROM staffbridge_tenants ORDER BY id")]

    def schedule(self) -> dict[str, int]:
        """tenant id -> its sync interval in seconds (what beat needs; no secret is opened for it)."""
        with self._pool.connection() as db:
            return {
                tenant: int(rules["interval"])
                for tenant, rules in db.execute("SELECT id, rules FROM staffbridge_tenants ORDER BY id")
            }

    def __iter__(self) -> Iterator[Tenant]:
        with self._pool.connection() as db:
            rows = db.execute("SELECT id, systems, secrets, rules FROM staffbridge_tenants ORDER BY id").fetchall()
        return iter([self._open(*row) for row in rows])

    def remove(self, tenant_id: str) -> bool:
        """Forgets the tenant, its run history and every row of its state; False when there was none."""
        with self._pool.connection() as db, db.transaction():
            gone = db.execute("DELETE FROM staffbridge_tenants WHERE id = %s", (tenant_id,)).rowcount
            db.execute("DELETE FROM staffbridge_runs WHERE tenant = %s", (tenant_id,))
            for table in ("staffbridge_journal", "staffbridge_cursors", "staffbridge_crosswalk"):
                if db.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is not None:
                    # its own scope and the SCIM gateway's ("<tenant>/scim": userName, externalId)
                    db.execute(f"DELETE FROM {table} WHERE scope IN (%s, %s)", (tenant_id, f"{tenant_id}/scim"))
        return bool(gone)

    def rotate_keys(self) -> int:
        """Re-encrypts every tenant's secrets with the newest key; returns how many were rewritten."""
        fernet = self.cipher()
        with self._pool.connection() as db, db.transaction():
            rows = db.execute(
                "SELECT id, secrets FROM staffbridge_tenants WHERE secrets IS NOT NULL FOR UPDATE"
            ).fetchall()
            for tenant_id, token in rows:
                db.execute(
                    "UPDATE staffbridge_tenants SET secrets = %s WHERE id = %s",
                    (fernet.rotate(token.encode()).decode(), tenant_id),
                )
        return len(rows)

    # ------------------------------------------------------------------ run history
    def record_run(self, tenant_id: str, run: RunRecord) -> None:
        self.queries += 1
        with self._pool.connection() as db:
            db.execute(
                "INSERT INTO staffbridge_runs (tenant, started_at, finished_at, outcome, counts, conflicts, "
                "failures, budget_waits, requests, queries, error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s, %s)",
                (
                    tenant_id,
                    run.started_at,
                    run.finished_at,
                    run.outcome,
                    json.dumps(run.counts),
                    run.conflicts,
                    run.failures,
                    run.budget_waits,
                    run.requests,
                    run.queries,
                    run.error,
                ),
            )

    def has_sent(self) -> bool:
        """Whether any run of any tenant sent a request (or failed, which may have sent some)."""
        self.queries += 1
        with self._pool.connection() as db:
            row = db.execute(
                "SELECT EXISTS (SELECT 1 FROM staffbridge_runs WHERE requests > 0 OR outcome = 'failed')"
            ).fetchone()
        return bool(row and row[0])

    def runs(self, tenant_id: str) -> list[RunRecord]:
        with self._pool.connection() as db:
            rows = db.execute(
                "SELECT started_at, finished_at, outcome, counts, conflicts, failures, budget_waits, "
                "requests, queries, error FROM staffbridge_runs WHERE tenant = %s ORDER BY seq",
                (tenant_id,),
            ).fetchall()
        return [RunRecord(*row) for row in rows]

    def status(self) -> list[TenantStatus]:
        """Per tenant: the last run, the last good one, how many ran and failed, and the budget waits."""
        with self._pool.connection() as db:
            rows = db.execute(
                "SELECT t.id, (t.rules->>'interval')::int, r.started_at, r.finished_at, r.outcome, r.counts, "
                "r.conflicts, r.failures, r.budget_waits, r.requests, r.queries, r.error, "
                "(SELECT max(finished_at) FROM staffbridge_runs WHERE tenant = t.id AND outcome = 'ok'), "
                "(SELECT count(*) FROM staffbridge_runs WHERE tenant = t.id), "
                "(SELECT count(*) FROM staffbridge_runs WHERE tenant = t.id AND outcome = 'failed'), "
                "(SELECT coalesce(sum(budget_waits), 0) FROM staffbridge_runs WHERE tenant = t.id) "
                "FROM staffbridge_tenants t LEFT JOIN LATERAL (SELECT * FROM staffbridge_runs "
                "WHERE tenant = t.id ORDER BY seq DESC LIMIT 1) r ON true ORDER BY t.id"
            ).fetchall()
        result = []
        for tenant, interval, *last, last_ok, runs, failed, waits in rows:
            record = RunRecord(*last) if last[0] is not None else None
            result.append(TenantStatus(tenant, interval, record, last_ok, runs, failed, int(waits)))
        return result
