"""SYSTEM arguments: a name from staffbridge.toml (or a .csv/.jsonl path) -> a connected adapter."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from staffbridge.faces.cli.console import Console

if TYPE_CHECKING:
    from staffbridge.sdk.adapter import Adapter
    from staffbridge.sdk.config import Config, System


class LazyConfig:
    """The config file, read when a command first names a system (`adapters` needs none)."""

    def __init__(self, explicit: str | None) -> None:
        self.explicit = explicit
        self._config: Config | None = None

    def system(self, name: str) -> System:
        if self._config is None:
            from staffbridge.sdk.config import load_config

            self._config = load_config(self.explicit)
        return self._config.system(name)


def config_of(args: argparse.Namespace) -> LazyConfig:
    """The command's config, made on first use (a command module may be driven without `main`)."""
    if getattr(args, "loaded_config", None) is None:
        args.loaded_config = LazyConfig(getattr(args, "config", None))
    config: LazyConfig = args.loaded_config
    return config


def connect(args: argparse.Namespace, name: str, console: Console, read_from: bool = True) -> Adapter:
    """The adapter for a SYSTEM argument; its secrets join the console's scrub list first.

    A file that is read from must exist: a file adapter takes a missing file for an empty directory
    (so a migration can create it), which would turn a mistyped source name into "nobody"."""
    from staffbridge.model.errors import ConfigError
    from staffbridge.sdk.config import FILE_ADAPTERS

    system = config_of(args).system(name)
    console.secrets.extend(system.secrets)
    path = system.settings.get("path") if system.adapter in FILE_ADAPTERS.values() else None
    if read_from and isinstance(path, str) and not os.path.exists(path):
        raise ConfigError(f"{path}: no such file", setting="path", source=system.source)
    adapter = system.connect()
    console.secrets.extend(adapter.secret_values())
    return adapter
