"""Platform commands: `tenants add|list|show|remove`, `worker`, `scheduler`, `platform status`.

Registered in faces/cli/main.py's COMMANDS like every command group. Each command is
`run(args, console)` like the others; the platform's modules (Celery, psycopg, cryptography) load
only when one of these commands runs.

    STAFFBRIDGE_DATABASE_URL=postgresql://... STAFFBRIDGE_SECRET_KEYS=... staffbridge tenants add acme.toml
    staffbridge worker --concurrency 4          # as many as wanted, on as many machines
    staffbridge scheduler                       # exactly one
    staffbridge platform status --json
"""

from __future__ import annotations

import argparse
import os
from typing import Any

__all__ = ["add_platform_arguments", "add_scheduler_arguments", "add_tenants_arguments", "add_worker_arguments"]


def add_tenants_arguments(tenants: argparse.ArgumentParser) -> None:
    actions = tenants.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add (or with --replace, replace) a tenant from its TOML file")
    add.add_argument("file")
    add.add_argument("--replace", action="store_true")
    add.set_defaults(run=cmd_tenants_add)
    listing = actions.add_parser("list", help="every tenant, its systems and interval (no secret shown)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_tenants_list)
    show = actions.add_parser("show", help="one tenant, secret settings masked")
    show.add_argument("tenant")
    show.set_defaults(run=cmd_tenants_show)
    remove = actions.add_parser("remove", help="forget a tenant, its state and its history")
    remove.add_argument("tenant")
    remove.set_defaults(run=cmd_tenants_remove)


def add_worker_arguments(worker: argparse.ArgumentParser) -> None:
    worker.add_argument("--concurrency", type=int, default=None)
    worker.add_argument("--loglevel", default="INFO")
    worker.set_defaults(run=cmd_worker)


def add_scheduler_arguments(scheduler: argparse.ArgumentParser) -> None:
    scheduler.add_argument("--loglevel", default="INFO")
    scheduler.set_defaults(run=cmd_scheduler)


def add_platform_arguments(platform: argparse.ArgumentParser) -> None:
    what = platform.add_subparsers(dest="action", required=True, metavar="ACTION")
    status = what.add_parser("status", help="per tenant: last and next sync, counts, conflicts, failures, budget waits")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=cmd_platform_status)


def _registry() -> Any:
    from staffbridge.faces.platform.app import registry

    return registry()


def cmd_tenants_add(args: argparse.Namespace, console: Any) -> int:
    from staffbridge.store.tenants import load_tenant_file

    tenant = load_tenant_file(args.file)
    _registry().add(tenant, replace=args.replace)
    console.out(
        f"tenant {tenant.id}: {', '.join(tenant.systems)} (authority {tenant.rules.authority}, "
        f"every {tenant.rules.interval} s)"
    )
    return 0


def cmd_tenants_list(args: argparse.Namespace, console: Any) -> int:
    tenants = [t.describe() for t in _registry()]
    if args.json:
        console.json(tenants)
        return 0
    for tenant in tenants:
        systems = ", ".join(f"{name} ({table['adapter']})" for name, table in tenant["systems"].items())
        console.out(
            f"{tenant['id']}: {systems}; authority {tenant['rules']['authority']}, "
            f"every {tenant['rules']['interval']} s"
        )
    return 0


def cmd_tenants_show(args: argparse.Namespace, console: Any) -> int:
    console.json(_registry().get(args.tenant).describe())
    return 0


def cmd_tenants_remove(args: argparse.Namespace, console: Any) -> int:
    if not _registry().remove(args.tenant):
        console.error(f"no tenant {args.tenant!r}")
        return 2
    console.out(f"tenant {args.tenant} removed, with its state and history")
    return 0


def cmd_worker(args: argparse.Namespace, console: Any) -> int:
    from staffbridge.faces.platform.app import app

    argv = ["worker", f"--loglevel={args.loglevel}"]
    if args.concurrency:
        argv.append(f"--concurrency={args.concurrency}")
    app.worker_main(argv)
    return 0


def cmd_scheduler(args: argparse.Namespace, console: Any) -> int:
    from staffbridge.faces.platform.app import app

    app.start(["beat", f"--loglevel={args.loglevel}", "--schedule", os.devnull])
    return 0


def cmd_platform_status(args: argparse.Namespace, console: Any) -> int:
    statuses = _registry().status()
    if args.json:
        console.json([s.to_dict() for s in statuses])
        return 0
    console.out(
        f"{'tenant':<20} {'last sync':<21} {'next sync':<21} {'outcome':<9} {'created':>7} {'updated':>7} "
        f"{'left':>5} {'conflicts':>9} {'failures':>8} {'budget waits':>12}"
    )
    for status in statuses:
        data = status.to_dict()
        last = status.last
        counts = last.counts if last else {}
        console.out(
            f"{status.tenant:<20} {(data['last'] or {}).get('finished_at') or '-':<21} "
            f"{data['next_sync'] or 'when the scheduler runs':<21} {last.outcome if last else '-':<9} "
            f"{counts.get('created', 0):>7} {counts.get('updated', 0):>7} "
            f"{counts.get('deactivated', 0) + counts.get('deleted', 0):>5} {last.conflicts if last else 0:>9} "
            f"{last.failures if last else 0:>8} {status.budget_waits:>12}"
        )
    return 0
