"""`staffbridge check SYSTEM`: can the system be reached, and does it take the credentials? One read:
the first person of a listing (the first page; WhosOff's handshake comes first), with no retries, so
an unreachable vendor answers within its timeout rather than after the retry backoff."""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from typing import Any

from staffbridge.faces.cli.arguments import SYSTEM_HELP
from staffbridge.faces.cli.console import EXIT_CANNOT_START, EXIT_OK, Console
from staffbridge.faces.cli.systems import config_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Tests reachability and credentials with one read; exit 0 when both are fine."
    parser.add_argument("system", metavar="SYSTEM", help=SYSTEM_HELP)
    parser.add_argument("--json", action="store_true", help="the outcome as JSON")
    parser.set_defaults(run=cmd_check)


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.model.errors import ConfigError
    from staffbridge.sdk.config import FILE_ADAPTERS
    from staffbridge.sdk.registry import adapter_class

    system = config_of(args).system(args.system)
    console.secrets.extend(system.secrets)
    if "max_retries" in adapter_class(system.adapter).Settings().fields:
        system = dataclasses.replace(system, settings={**system.settings, "max_retries": 0})
    path = system.settings.get("path") if system.adapter in FILE_ADAPTERS.values() else None
    if isinstance(path, str) and not os.path.isfile(path):
        raise ConfigError(f"{path}: no such file", setting="path", source=system.source)
    started = time.perf_counter()
    with system.connect() as adapter:
        console.secrets.extend(adapter.secret_values())
        outcome = _probe(adapter)
        transport = getattr(adapter, "transport", None)
        outcome["requests"] = getattr(transport, "requests_sent", None)
    outcome = {"system": args.system, "adapter": system.adapter, **outcome}
    outcome["seconds"] = round(time.perf_counter() - started, 3)
    if args.json:
        console.json(outcome)
    elif outcome["ok"]:
        sent = f"{outcome['requests']} request(s), " if outcome["requests"] is not None else ""
        found = "someone" if outcome["found_someone"] else "nobody (an empty directory)"
        works = "readable" if path else "reachable, credentials accepted"
        console.out(f"{args.system} ({system.adapter}): {works}; read {found} ({sent}{outcome['seconds']:.2f} s)")
    if not outcome["ok"]:
        console.error(f"{args.system} ({system.adapter}): {outcome['problem']}: {outcome['error']}")
    return EXIT_OK if outcome["ok"] else EXIT_CANNOT_START


def _probe(adapter: Any) -> dict[str, Any]:
    """One read: reachable? credentials accepted? Each failure said in words, never raised."""
    from staffbridge.model.errors import (
        AuthenticationError,
        NotFound,
        StaffbridgeError,
        TransportError,
        VendorAPIError,
    )

    result: dict[str, Any] = {"ok": False, "reachable": False, "credentials": None, "found_someone": None}
    try:
        first = next(iter(adapter.list()), None)
    except AuthenticationError as exc:
        return {**result, "reachable": True, "credentials": False, "problem": "credentials refused", "error": str(exc)}
    except NotFound as exc:
        return {**result, "reachable": True, "problem": "reachable, but not the API", "error": str(exc)}
    except VendorAPIError as exc:
        return {**result, "reachable": True, "problem": "the vendor answered with an error", "error": str(exc)}
    except TransportError as exc:
        return {**result, "problem": "unreachable", "error": str(exc)}
    except StaffbridgeError as exc:
        return {**result, "problem": "cannot read", "error": str(exc)}
    return {**result, "ok": True, "reachable": True, "credentials": True, "found_someone": first is not None}
