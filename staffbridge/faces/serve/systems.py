"""The systems of a staffbridge.toml that set `scim_token`, served at /scim/v2/{system}.

Each token is read from the environment once, at start, and only its digest is kept. The values the
gateway keeps for the vendor (userName, externalId) live in a SQLite store: `--state FILE`, else
`staffbridge-serve.sqlite` next to the config file.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from staffbridge.faces.serve.gateway import SystemApplication, build_application
from staffbridge.model.errors import ConfigError
from staffbridge.sdk.config import Config, System, token_digest
from staffbridge.store.backends import open_store
from staffbridge.store.base import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["STATE_NAME", "ConfigSystems"]

STATE_NAME = "staffbridge-serve.sqlite"
SCOPE = "scim"


class ConfigSystems:
    """Every system of `config` with a scim_token (ConfigError when none has one)."""

    def __init__(self, config: Config, state: str | Path | None = None) -> None:
        self.config = config
        self.served: dict[str, System] = {}
        self.digests: dict[str, str] = {}
        for name, table in config.systems.items():
            if "scim_token" not in table:
                continue
            system = config.system(name)  # fills in the environment now: a missing variable fails at start
            token = str(system.service.get("scim_token") or "")
            if len(token) < 16:
                raise ConfigError(
                    f"{system.source}: setting 'scim_token' must be at least 16 characters (a random one: "
                    'python -c "import secrets; print(secrets.token_urlsafe(32))")',
                    setting="scim_token",
                    source=system.source,
                )
            self.digests[name] = token_digest(token)
            system.service.pop("scim_token")  # only the digest is kept
            system.secrets = [value for value in system.secrets if value != token]
            self.served[name] = system
        if not self.served:
            raise ConfigError(
                f'{config.where}: no system sets scim_token; add scim_token = "${{ENV_NAME}}" to each system to serve',
                setting="scim_token",
                source=config.where,
            )
        where = state or (config.path.parent / STATE_NAME if config.path else STATE_NAME)
        self.store: Store = open_store(where, scope=SCOPE)
        self._applications: dict[str, SystemApplication] = {}
        self._lock = threading.Lock()

    def digest(self, tenant: str | None, system: str) -> str | None:
        return self.digests.get(system) if tenant is None else None

    def application(self, tenant: str | None, system: str) -> WSGIApplication:
        with self._lock:
            if system not in self._applications:
                served = self.served[system]
                self._applications[system] = build_application(
                    served.connect(), system, self.store, served.service.get("scim_department")
                )
            return self._applications[system]

    def webhooks(self) -> WSGIApplication | None:
        return None  # webhooks need the platform: a tenant's sync to trigger
