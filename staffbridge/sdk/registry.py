"""The one registry: entry points in namespaces staffbridge owns, loaded with stevedore on first use.

A vendor is three entries, and a third-party package adds one the same way staffbridge adds its own
(see tests/example_plugin for a whole one):

    [project.entry-points."staffbridge.adapters"]     # the Adapter subclass
    personio = "staffbridge_personio:PersonioAdapter"
    [project.entry-points."staffbridge.mappings"]     # the package holding personio.toml
    personio = "staffbridge_personio"
    [project.entry-points."staffbridge.sandboxes"]    # its emulator, for tests and `staffbridge sandbox`
    personio = "staffbridge_personio.sandbox:PersonioSandbox"

Adapters and sandboxes are looked up here; a mapping is read by the mapping layer itself
(staffbridge.mapping.locate), which sits below this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from stevedore import DriverManager, ExtensionManager
from stevedore.exception import NoMatches

from staffbridge.model.errors import AdapterNotFound, ConfigError, StaffbridgeError
from staffbridge.sdk.adapter import Adapter

NAMESPACE = "staffbridge.adapters"
SANDBOXES = "staffbridge.sandboxes"


def available() -> list[str]:
    """The names of the installed adapters."""
    return _names(NAMESPACE)


def adapter_class(name: str) -> type[Adapter]:
    """The adapter class installed as `name`; AdapterNotFound lists the installed ones."""
    return cast(type[Adapter], _load(NAMESPACE, name, "adapter", AdapterNotFound))


def connect(name: str, **settings: Any) -> Adapter:
    """The adapter `name`, configured: `connect("moco", domain="acme", api_key=...)`.

    Raises AdapterNotFound (listing what is installed) or ConfigError naming the bad setting.
    """
    return adapter_class(name)(**settings)


def installed_sandboxes() -> list[str]:
    """The names of the installed sandboxes (vendor emulators)."""
    return _names(SANDBOXES)


def sandbox_class(name: str) -> type[Any]:
    """The sandbox class installed as `name` (a staffbridge.sandbox.server.Sandbox subclass);
    LookupError lists the installed ones. Typed loosely: the sdk does not depend on the sandboxes."""
    return cast(type[Any], _load(SANDBOXES, name, "sandbox", _no_sandbox))


def _names(namespace: str) -> list[str]:
    return sorted(ExtensionManager(namespace, invoke_on_load=False).names())


def _load(namespace: str, name: str, kind: str, missing: Callable[[str, list[str]], LookupError]) -> Any:
    def failed(manager: Any, entrypoint: Any, exc: BaseException) -> None:
        if isinstance(exc, StaffbridgeError):
            raise exc
        raise ConfigError(f"{kind} {entrypoint.name!r} is installed but failed to load: {exc}", setting=kind) from exc

    try:
        return DriverManager(namespace, name, invoke_on_load=False, on_load_failure_callback=failed).driver
    except NoMatches:
        raise missing(name, _names(namespace)) from None


def _no_sandbox(name: str, installed: list[str]) -> LookupError:
    return LookupError(f"no sandbox for {name!r}; available: {', '.join(installed) or 'none'}")
