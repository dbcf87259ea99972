"""`staffbridge adapters [--json]`: the installed adapters and what each can do (from a cache, see
adapters_cache.py, so that it answers in about the time Python takes to start)."""

from __future__ import annotations

import argparse
from typing import Any

from staffbridge.faces.cli.adapters_cache import cached_rows
from staffbridge.faces.cli.console import EXIT_OK, Console


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="as JSON")
    parser.set_defaults(run=cmd_adapters)


def cmd_adapters(args: argparse.Namespace, console: Console) -> int:
    rows = cached_rows(describe_adapters)
    if args.json:
        console.json(rows)
        return EXIT_OK
    for row in rows:
        if "error" in row:
            console.out(f"{row['name']:<14} (failed to load: {row['error']})")
            continue
        console.out(
            f"{row['name']:<14} {', '.join(row['operations'])}"
            + (f"; filters: {', '.join(row['filters'])}" if row["filters"] else "")
            + (f"; extras: {', '.join(row['extras'])}" if row["extras"] else "")
        )
    return EXIT_OK


def describe_adapters() -> list[dict[str, Any]]:
    """One row per installed adapter: what it can do, or why it failed to load. Imports every adapter."""
    from staffbridge.model.errors import StaffbridgeError
    from staffbridge.sdk.registry import adapter_class, available

    rows: list[dict[str, Any]] = []
    for name in available():
        try:
            cls = adapter_class(name)
        except StaffbridgeError as exc:
            rows.append({"name": name, "error": str(exc)})
            continue
        rows.append(
            {
                "name": name,
                "operations": list(cls.operations),
                "filters": list(cls.filters),
                "extras": list(cls.extras),
                "pagination": cls.pagination,
                "incremental": cls.incremental,
                "notes": list(cls.notes),
            }
        )
    return rows
