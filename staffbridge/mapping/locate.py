"""Where a mapping's TOML lives: in the package its `staffbridge.mappings` entry point names.

staffbridge registers its own mappings the way a plugin does, so a third-party package ships the
mapping of its vendor beside its adapter:

    [project.entry-points."staffbridge.mappings"]
    moco = "staffbridge.mappings"        # reads staffbridge/mappings/moco.toml
    personio = "staffbridge_personio"    # reads staffbridge_personio/personio.toml

Entry points are read through stevedore (as the adapter and sandbox registries in sdk/registry.py
are), so all three see the same installed packages.
"""

from __future__ import annotations

from importlib import resources
from types import ModuleType
from typing import cast

from stevedore import DriverManager, ExtensionManager
from stevedore.exception import NoMatches

from staffbridge.model.errors import MappingError

NAMESPACE = "staffbridge.mappings"
SHIPPED = "staffbridge.mappings"  # the package of staffbridge's own data files, e.g. unify.toml


def mapping_names() -> list[str]:
    """The names of the installed mappings."""
    return sorted(ExtensionManager(NAMESPACE, invoke_on_load=False).names())


def mapping_text(name: str) -> str:
    """The TOML of the mapping `name`; MappingError lists the installed ones when there is none."""
    try:
        package = cast(
            ModuleType,
            DriverManager(NAMESPACE, name, invoke_on_load=False, on_load_failure_callback=_load_failed).driver,
        )
    except NoMatches:
        raise MappingError(
            f"no mapping shipped for {name!r}; installed: {', '.join(mapping_names()) or 'none'}"
        ) from None
    try:
        return resources.files(package).joinpath(f"{name}.toml").read_text("utf-8")
    except FileNotFoundError:
        raise MappingError(f"mapping {name!r} is registered, but {package.__name__} holds no {name}.toml") from None


def shipped_text(filename: str) -> str:
    """One of staffbridge's own data files (not a vendor mapping), e.g. the survivorship rules."""
    return resources.files(SHIPPED).joinpath(filename).read_text("utf-8")


def _load_failed(manager: object, entrypoint: object, exc: BaseException) -> None:
    raise MappingError(f"mapping {getattr(entrypoint, 'name', '?')!r} is installed but failed to load: {exc}") from exc
