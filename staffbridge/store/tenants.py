"""Tenants of a platform: who they are, which systems they connect, and how those are kept in step.

A tenant file is the `staffbridge.toml` format plus an id and a `[sync]` table:

    id = "acme"

    [systems.moco]
    adapter = "moco"
    domain = "acme"
    api_key = "${ACME_MOCO_KEY}"          # read from the environment when the tenant is added

    scim_token = "${ACME_MOCO_SCIM}"       # `staffbridge serve --platform`: kept as its SHA-256 only
    webhook_secret = "${ACME_MOCO_HOOKS}"   # the key of MOCO's signed webhooks

    [systems.whosoff]
    adapter = "whosoff"
    base_url = "https://wopublicapi.whosoff.com"
    app_id = "${ACME_WHOSOFF_APP_ID}"
    username = "admin@acme.example"
    password = "${ACME_WHOSOFF_PASSWORD}"

    [sync]
    authority = "moco"                     # whose hires, changes and leavers are pushed
    receivers = ["whosoff"]                # default: every other system
    interval = 300                         # seconds between syncs
    creates = true                         # new hires are created in the receivers
    updates = true
    deactivations = true                   # leavers are deactivated ...
    deletes = false                        # ... and deleted only where this says so
    delete_brake = 5                       # more leavers than this in one run: none is touched
    match = ["email", "employee_number"]

    [sync.authority_per_field]             # a field whose truth lives elsewhere
    mobile_phone = "whosoff"

`Tenant` keeps the settings with the environment filled in; which of them are secret (the adapter's
`secret_setting` fields, and names such as "password" or "api_key") is known, so that every way a
tenant is shown (`describe`, `repr`, errors) masks them. `staffbridge.store.tenant_registry` keeps
tenants in PostgreSQL with those settings encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staffbridge.model.errors import ConfigError
from staffbridge.model.person import WRITABLE_FIELDS
from staffbridge.model.redaction import MASK
from staffbridge.sdk.adapter import Adapter
from staffbridge.sdk.config import SERVICE_SECRETS, Config, System, read_toml_file, split_service, token_digest

__all__ = ["SyncRules", "Tenant", "load_tenant_file", "tenant_from_dict"]

DEFAULT_MATCH = ("email", "employee_number")
_RULE_KEYS = {
    "authority",
    "receivers",
    "interval",
    "creates",
    "updates",
    "deactivations",
    "deletes",
    "delete_brake",
    "match",
    "authority_per_field",
}


@dataclass(frozen=True)
class SyncRules:
    """How one tenant's systems are kept in step."""

    authority: str
    receivers: tuple[str, ...]
    interval: int = 300
    creates: bool = True
    updates: bool = True
    deactivations: bool = True
    deletes: bool = False
    delete_brake: int = 5
    match: tuple[str, ...] = DEFAULT_MATCH
    authority_per_field: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "authority": self.authority,
            "receivers": list(self.receivers),
            "interval": self.interval,
            "creates": self.creates,
            "updates": self.updates,
            "deactivations": self.deactivations,
            "deletes": self.deletes,
            "delete_brake": self.delete_brake,
            "match": list(self.match),
            "authority_per_field": dict(self.authority_per_field),
        }

    def field_authority(self) -> dict[str, str]:
        """Survivorship's authority table: every field from the authority, unless told otherwise."""
        return {**{name: self.authority for name in WRITABLE_FIELDS}, **self.authority_per_field}


@dataclass
class Tenant:
    """One customer: its systems (name -> adapter and settings) and its sync rules."""

    id: str
    systems: dict[str, dict[str, Any]]  # name -> {"adapter": ..., setting: value, ...}
    rules: SyncRules
    secret_names: dict[str, frozenset[str]] = field(default_factory=dict)  # system -> its secret settings

    def __repr__(self) -> str:  # settings hold secrets: never shown here
        return f"<Tenant {self.id} systems={sorted(self.systems)}>"

    def secret_values(self) -> list[str]:
        return [
            str(table[name])
            for system, table in self.systems.items()
            for name in self.secret_names.get(system, ())
            if table.get(name)
        ]

    def describe(self) -> dict[str, Any]:
        """The tenant as it may be shown anywhere: secret settings masked."""
        return {
            "id": self.id,
            "rules": self.rules.to_dict(),
            "systems": {
                name: {key: MASK if key in self.secret_names.get(name, ()) else value for key, value in table.items()}
                for name, table in self.systems.items()
            },
        }

    def system(self, name: str, **secret_extra: Any) -> System:
        """System `name`; `secret_extra` are more settings, secret ones (e.g. a cached access token)."""
        table = {**self.systems[name], **secret_extra}
        adapter = table.pop("adapter")
        secret = [*self.secret_names.get(name, ()), *secret_extra]
        settings, service = split_service(table)
        return System(
            name,
            adapter,
            settings,
            source=f"tenant {self.id} [systems.{name}]",
            secrets=[str(table[key]) for key in secret if table.get(key)],
            service=service,
        )

    def connect(self, name: str, **secret_extra: Any) -> Adapter:
        return self.system(name, **secret_extra).connect()


def load_tenant_file(path: str | Path, environ: Mapping[str, str] | None = None) -> Tenant:
    """The tenant in a TOML file, with `${NAME}` settings filled in from the environment."""
    path = Path(path)
    return tenant_from_dict(read_toml_file(path, "tenant"), path, environ)


def tenant_from_dict(
    data: Mapping[str, Any], path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Tenant:
    where = str(path or "tenant")
    unknown = sorted(set(data) - {"id", "systems", "sync"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; a tenant has id, [systems.NAME] and [sync]",
            setting=unknown[0],
            source=where,
        )
    tenant_id = data.get("id")
    if not isinstance(tenant_id, str) or not tenant_id.strip() or tenant_id != tenant_id.strip():
        raise ConfigError(f"{where}: 'id' must be a non-empty name", setting="id", source=where)
    tables = data.get("systems")
    if not isinstance(tables, dict) or not tables or not all(isinstance(t, dict) for t in tables.values()):
        raise ConfigError(
            f'{where}: a tenant needs [systems.NAME] tables (adapter = "..." plus settings)',
            setting="systems",
            source=where,
        )
    config = Config(Path(path) if path else None, {str(k): dict(v) for k, v in tables.items()})
    systems: dict[str, dict[str, Any]] = {}
    secret_names: dict[str, frozenset[str]] = {}
    for name in tables:
        system = config.system(name, environ)  # fills in the environment, checks the adapter exists
        system.connect().close()  # every setting is checked now, not at the first sync
        service = dict(system.service)
        if service.get("scim_token"):  # kept as its digest only: what is stored cannot be sent as a token
            service["scim_token"] = token_digest(str(service["scim_token"]))
        systems[name] = {"adapter": system.adapter, **system.settings, **service}
        secret_names[name] = frozenset(
            key
            for key, value in system.settings.items()
            if isinstance(value, str) and value and value in system.secrets
        ) | {key for key in SERVICE_SECRETS if service.get(key)}
    rules = rules_from_dict(data.get("sync") or {}, list(systems), where)
    return Tenant(tenant_id, systems, rules, secret_names)


def rules_from_dict(data: Mapping[str, Any], systems: list[str], where: str = "tenant") -> SyncRules:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: [sync] must be a table", setting="sync", source=where)
    unknown = sorted(set(data) - _RULE_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: [sync] has no setting {unknown[0]!r}; known: {', '.join(sorted(_RULE_KEYS))}",
            setting=unknown[0],
            source=where,
        )
    authority = data.get("authority", systems[0])
    if authority not in systems:
        raise ConfigError(
            f"{where}: [sync] authority {authority!r} is not one of the systems ({', '.join(systems)})",
            setting="authority",
            source=where,
        )
    receivers = data.get("receivers", [s for s in systems if s != authority])
    if not isinstance(receivers, list) or any(r not in systems or r == authority for r in receivers):
        raise ConfigError(
            f"{where}: [sync] receivers must list systems other than the authority", setting="receivers", source=where
        )
    per_field = data.get("authority_per_field", {})
    if not isinstance(per_field, dict) or any(
        f not in WRITABLE_FIELDS or s not in systems for f, s in per_field.items()
    ):
        raise ConfigError(
            f"{where}: [sync.authority_per_field] maps canonical fields to systems",
            setting="authority_per_field",
            source=where,
        )
    flags = {}
    for name, default in (("creates", True), ("updates", True), ("deactivations", True), ("deletes", False)):
        flags[name] = data.get(name, default)
        if not isinstance(flags[name], bool):
            raise ConfigError(f"{where}: [sync] {name} is true or false", setting=name, source=where)
    numbers: dict[str, Any] = {}
    for name, fallback, least in (("interval", 300, 1), ("delete_brake", 5, 0)):
        numbers[name] = data.get(name, fallback)
        if not isinstance(numbers[name], int) or isinstance(numbers[name], bool) or numbers[name] < least:
            raise ConfigError(
                f"{where}: [sync] {name} is a whole number of at least {least}", setting=name, source=where
            )
    match = data.get("match", list(DEFAULT_MATCH))
    if not isinstance(match, list) or not match or not all(isinstance(k, str) for k in match):
        raise ConfigError(f"{where}: [sync] match lists canonical fields", setting="match", source=where)
    return SyncRules(
        authority, tuple(receivers), match=tuple(match), authority_per_field=dict(per_field), **flags, **numbers
    )
