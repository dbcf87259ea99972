"""Adapters are found through entry points (namespace `staffbridge.adapters`), loaded with stevedore.

A third-party package adds a vendor with one line in its own pyproject.toml:

    [project.entry-points."staffbridge.adapters"]
    personio = "staffbridge_personio:PersonioAdapter"
"""
from __future__ import annotations

from typing import Any

from stevedore import DriverManager, ExtensionManager
from stevedore.exception import NoMatches

from staffbridge.sdk.adapter import Adapter
from staffbridge.model.errors import AdapterNotFound, ConfigError, StaffbridgeError

NAMESPACE = "staffbridge.adapters"


def available() -> list[str]:
    """The names of the installed adapters."""
    return sorted(ExtensionManager(NAMESPACE, invoke_on_load=False).names())


def adapter_class(name: str) -> type[Adapter]:
    try:
        manager = DriverManager(NAMESPACE, name, invoke_on_load=False,
                                on_load_failure_callback=_load_failed)
    except NoMatches:
        raise AdapterNotFound(name, available()) from None
    return manager.driver


def connect(name: str, **settings: Any) -> Adapter:
    """The adapter `name`, configured: `connect("moco", domain="acme", api_key=...)`.

    Raises AdapterNotFound (listing what is installed) or ConfigError naming the bad setting.
    """
    return adapter_class(name)(**settings)


def _load_failed(manager: Any, entrypoint: Any, exc: BaseException) -> None:
    if isinstance(exc, StaffbridgeError):
        raise exc
    raise ConfigError(f"adapter {entrypoint.name!r} is installed but failed to load: {exc}",
                      setting="adapter") from exc
