"""`staffbridge init ADAPTER...`: writes a commented staffbridge.toml with one system per adapter named.

Each setting comes from the adapter's own settings schema: required ones (and those its base URL is
built from, like MOCO's `domain`) are written, the rest are commented out with their defaults. Secret
settings are `${SYSTEM_SETTING}` placeholders, filled from the environment when the system is used, so
the file itself never holds a secret. An existing file is never overwritten without --force.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any

from staffbridge.faces.cli.console import EXIT_OK, Console

EXAMPLES = {"domain": "acme", "base_url": "https://api.example.com", "username": "admin@example.com"}
FILE_SUFFIXES = {"csv": ".csv", "jsonl": ".jsonl"}
SIMPLE = (str, bool, int, float)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Writes a commented staffbridge.toml for the adapters named (see `staffbridge adapters`)."
    parser.add_argument("adapters", metavar="ADAPTER", nargs="+", help="an installed adapter, e.g. moco whosoff csv")
    parser.add_argument(
        "--output", metavar="FILE", help="where to write (default: --config FILE, else ./staffbridge.toml)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(run=cmd_init)


def cmd_init(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.model.errors import ConfigError
    from staffbridge.model.output import write_text
    from staffbridge.sdk.config import DEFAULT_NAME
    from staffbridge.sdk.registry import adapter_class

    path = args.output or getattr(args, "config", None) or DEFAULT_NAME
    if os.path.exists(path) and not args.force:
        raise ConfigError(f"{path} exists already; nothing was written (--force overwrites it)", setting="output")
    classes = [adapter_class(name) for name in args.adapters]  # AdapterNotFound lists the installed ones
    names = _system_names(args.adapters)
    text = _header(path) + "".join(_system(name, cls) for name, cls in zip(names, classes, strict=True))
    try:
        write_text(text, path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}", setting="output") from None
    active = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    secrets = sorted(set(re.findall(r"\$\{([A-Z0-9_]+)\}", active)))
    console.out(f"Wrote {path} with {', '.join(names)}.")
    if secrets:
        console.out(f"Set these in the environment before use: {', '.join(secrets)}.")
    console.out(f"Check each with `staffbridge check {names[0]}`.")
    return EXIT_OK


def _system_names(adapters: list[str]) -> list[str]:
    """One system per adapter named: its name, then name2, name3 for repeats."""
    seen: dict[str, int] = {}
    names = []
    for adapter in adapters:
        seen[adapter] = seen.get(adapter, 0) + 1
        names.append(adapter if seen[adapter] == 1 else f"{adapter}{seen[adapter]}")
    return names


def _header(path: str) -> str:
    return (
        f"# {os.path.basename(path)}: the systems staffbridge commands name (written by `staffbridge init`).\n"
        "# ${NAME} is read from the environment when the system is used (${NAME:-fallback} gives a default,\n"
        "# $$ is a literal $); secrets belong there, never in this file. Relative paths are relative to it.\n"
        "# Lines starting with # are settings left at their defaults: remove the # to set one.\n"
    )


def _system(name: str, cls: Any) -> str:
    """One [systems.NAME] table: the adapter's description, then each of its settings."""
    module = sys.modules.get(cls.__module__)
    about = ((module.__doc__ if module else None) or cls.__doc__ or "").strip().splitlines()
    title = f"# {about[0]}" if about else f"# the {cls.name} adapter"
    lines = ["", title, f"[systems.{name}]", f'adapter = "{cls.name}"']
    template = getattr(cls, "base_url_template", None) or ""
    elsewhere = []
    for setting, field in cls.Settings().fields.items():
        if setting == "mapping":
            continue
        secret = bool(field.metadata.get("secret"))
        default = field.load_default
        needed = field.required or f"{{{setting}}}" in template
        if secret:
            value: str | None = f'"${{{name.upper()}_{setting.upper()}}}"'
        elif setting == "path":
            value = json.dumps(f"{name}{FILE_SUFFIXES.get(cls.name, '')}")
        elif needed:
            value = json.dumps(EXAMPLES.get(setting, ""))
        elif isinstance(default, SIMPLE):
            value = _toml(default)
        elif default is None or not _has_default(default):
            value = json.dumps(EXAMPLES[setting]) if setting in EXAMPLES else None  # unset unless given
        else:
            elsewhere.append(setting)  # a list, a table or a computed default: the adapter's docs say
            continue
        note = "  # required" if field.required else ""
        if template and setting == "base_url" and not needed:
            note = "  # instead of the settings the address is built from"
        shown = f"{setting} = {value}" if value is not None else f"{setting} ="
        lines.append(f"{'' if needed else '# '}{shown}{note}")
    if elsewhere:
        lines.append(f"# also: {', '.join(elsewhere)} (see the adapter's documentation)")
    return "\n".join(lines) + "\n"


def _has_default(default: Any) -> bool:
    from marshmallow.utils import missing

    return default is not missing


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)
