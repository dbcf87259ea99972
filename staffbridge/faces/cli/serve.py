"""`staffbridge serve`: the SCIM 2.0 gateway (and in platform mode MOCO's webhooks), served by waitress.

    staffbridge serve [--host 127.0.0.1] [--port 8000] [--config FILE] [--state FILE]
    staffbridge serve --platform [--host ...] [--port ...]       tenants from STAFFBRIDGE_DATABASE_URL

Without --platform every system of staffbridge.toml that sets `scim_token = "${ENV_NAME}"` is served at
/scim/v2/{system}; with it, every tenant's system that has one at /tenants/{tenant}/scim/v2/{system},
and MOCO's webhooks at /webhooks/moco/{tenant}/{system}. scim2-server and waitress load only here.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from typing import Any

from staffbridge.faces.cli.console import EXIT_OK, Console


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--state",
        metavar="FILE",
        default=None,
        help="where the gateway keeps userName and externalId (default: staffbridge-serve.sqlite next to the config)",
    )
    parser.add_argument(
        "--platform", action="store_true", help="serve the platform's tenants (STAFFBRIDGE_DATABASE_URL) and webhooks"
    )
    parser.set_defaults(run=cmd_serve)


def cmd_serve(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.faces.serve.app import Gateway
    from staffbridge.faces.serve.server import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    systems = _platform() if args.platform else _configured(args)
    console.err(f"staffbridge serve: http://{args.host}:{args.port} (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it stops
        serve(Gateway(systems), host=args.host, port=args.port)
    return EXIT_OK


def _configured(args: argparse.Namespace) -> Any:
    from staffbridge.faces.serve.systems import ConfigSystems
    from staffbridge.sdk.config import load_config

    systems = ConfigSystems(load_config(args.config), args.state)
    for name in systems.served:
        logging.getLogger("staffbridge.serve").info("serving %s at /scim/v2/%s", name, name)
    return systems


def _platform() -> Any:
    from staffbridge.faces.platform.app import redis_client, registry, settings
    from staffbridge.faces.serve.platform import TenantSystems

    return TenantSystems(registry(), settings()["database"], redis_client())
