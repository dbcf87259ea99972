"""`staffbridge webhooks subscribe SYSTEM --url URL`: MOCO sends its User create/update/delete events to URL.

URL is the platform's receiver, `https://HOST/webhooks/moco/{tenant}/{system}`. MOCO signs each delivery
with the key its web hook overview shows: put it in the system's `webhook_secret` setting.
"""

from __future__ import annotations

import argparse

from staffbridge.faces.cli.arguments import config_after_command
from staffbridge.faces.cli.console import EXIT_OK, Console
from staffbridge.faces.cli.systems import config_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    subscribe = actions.add_parser(
        "subscribe", parents=[config_after_command()], help="register the User hooks of SYSTEM to URL"
    )
    subscribe.add_argument("system", metavar="SYSTEM", help="a MOCO system of staffbridge.toml")
    subscribe.add_argument("--url", required=True, help="the receiver, e.g. https://host/webhooks/moco/acme/moco")
    subscribe.add_argument("--json", action="store_true", help="print the hooks as JSON")
    subscribe.set_defaults(run=cmd_subscribe)


def cmd_subscribe(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.faces.serve.webhooks import subscribe

    with config_of(args).system(args.system).connect() as adapter:
        hooks = subscribe(adapter, args.url)
    if args.json:
        console.json(hooks)
        return EXIT_OK
    for hook in hooks:
        console.out(f"{hook.get('id')!s:>8}  {hook.get('target')} {hook.get('event'):<7} -> {hook.get('hook')}")
    console.err(
        "MOCO signs each delivery with the key its web hook overview shows: set it as this system's "
        'webhook_secret (webhook_secret = "${ENV_NAME}") for the receiver to accept them.'
    )
    return EXIT_OK
