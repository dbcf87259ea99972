"""`staffbridge ...`: thin: parses arguments, calls the library, prints.

    staffbridge adapters [--json]                       installed adapters and what they can do
    staffbridge list SYSTEM [--json|--jsonl|--csv] [--filter KEY=VALUE ...]
    staffbridge get SYSTEM ID [--json]
    staffbridge migrate SOURCE TARGET [--apply] [--match KEY ...] [--map FILE] [--journal FILE]
                        [--report FILE] [--plan FILE] [--delete-missing] [--workers N] [--json] [-v]
    staffbridge apply PLANFILE [--journal FILE] [--report FILE] [--workers N] [--json]
    staffbridge journal show FILE [--pair SOURCE->TARGET] [--all] [--json]
    staffbridge check SYSTEM [--json]                   reachable? credentials accepted?
    staffbridge init ADAPTER ... [--output FILE] [--force]
    staffbridge unify SYSTEM ... [--authority SYSTEM] [--format table|json|csv|scim] [--state FILE]
    staffbridge sandbox [VENDOR ...] [--port N] [--people N] [--json]
    staffbridge demo                                    a migration between two local sandboxes
    staffbridge tenants add|list|show|remove ...        platform mode: tenants, in PostgreSQL
    staffbridge worker | scheduler                      platform mode: Celery worker, beat
    staffbridge platform status [--json]                platform mode: per tenant, last and next sync
    staffbridge serve [--host H] [--port N] [--state FILE] [--platform]   the SCIM 2.0 gateway
    staffbridge webhooks subscribe SYSTEM --url URL     MOCO web hooks for the platform's receiver

SYSTEM is a name from staffbridge.toml (see staffbridge.sdk.config) or a path ending in .csv or .jsonl.
`migrate` shows the plan and changes nothing unless --apply is given.

Exit codes:
    0  all done
    1  the command ran, but a record failed: a write was refused, a row could not be read, a plan
       holds conflicts or people who cannot be migrated, `get` found nobody
    2  the run could not start: bad arguments, config or credentials, vendor unreachable

Errors are one line on stderr, `staffbridge: <message>`, never a traceback (STAFFBRIDGE_DEBUG=1
shows one for an unexpected error). Secret settings (api keys, tokens, passwords) never appear in
any output: every line printed is scrubbed of the secret values the config holds.

Each command group lives in a module of its own, imported only when its command is chosen, so that
`staffbridge --version` imports nothing beyond argparse and `staffbridge adapters` nothing heavy.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Any, NoReturn, TextIO

from staffbridge import __version__
from staffbridge.faces.cli.arguments import Parser, UsageError, config_after_command
from staffbridge.faces.cli.console import EXIT_CANNOT_START, EXIT_INTERRUPTED, EXIT_OK, Console
from staffbridge.faces.cli.systems import LazyConfig

# command -> ("module:function" adding its arguments, imported when it is chosen; its line in --help)
COMMANDS = {
    "adapters": ("staffbridge.faces.cli.adapters:add_arguments", "installed adapters and what they can do"),
    "list": ("staffbridge.faces.cli.people:add_list_arguments", "the people of a system"),
    "get": ("staffbridge.faces.cli.people:add_get_arguments", "one person"),
    "migrate": ("staffbridge.faces.cli.migrate:add_arguments", "plan (and with --apply, run) a migration"),
    "apply": ("staffbridge.faces.cli.apply:add_arguments", "apply a plan saved by `migrate --plan FILE`, exactly"),
    "journal": (
        "staffbridge.faces.cli.journal:add_arguments",
        "what a migration journal records: done, in flight, failed",
    ),
    "check": ("staffbridge.faces.cli.check:add_arguments", "can a system be reached, and does it take the credentials"),
    "init": ("staffbridge.faces.cli.init:add_arguments", "write a commented staffbridge.toml for the adapters named"),
    "sandbox": ("staffbridge.faces.cli.sandbox:add_arguments", "serve the bundled vendor emulators on 127.0.0.1"),
    "demo": ("staffbridge.faces.cli.demo:add_arguments", "migrate sample staff between two local sandboxes, twice"),
    "unify": (
        "staffbridge.faces.cli.unify:add_arguments",
        "one directory from several systems: crosswalk, conflicts, SCIM",
    ),
    "tenants": ("staffbridge.faces.cli.platform:add_tenants_arguments", "the platform's tenants (in PostgreSQL)"),
    "worker": ("staffbridge.faces.cli.platform:add_worker_arguments", "a Celery worker of the platform"),
    "scheduler": (
        "staffbridge.faces.cli.platform:add_scheduler_arguments",
        "Celery beat: each tenant's sync at its interval",
    ),
    "platform": ("staffbridge.faces.cli.platform:add_platform_arguments", "the platform's state: platform status"),
    "serve": ("staffbridge.faces.cli.serve:add_arguments", "the SCIM 2.0 gateway in front of each system"),
    "webhooks": ("staffbridge.faces.cli.webhooks:add_arguments", "register MOCO web hooks: webhooks subscribe"),
}


class _Commands(argparse._SubParsersAction):
    """Subcommands whose arguments are added only when chosen: one command's module is imported, not all."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        name = values[0]
        chosen = self._name_parser_map.get(name)
        if chosen is not None and chosen.get_default("run") is None:
            module_name, function = COMMANDS[name][0].split(":")
            getattr(import_module(module_name), function)(chosen)
        super().__call__(parser, namespace, values, option_string)


class _Version(argparse.Action):
    """`--version`, printed plainly: argparse's own formats it, which imports shutil and textwrap."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        sys.stdout.write(f"staffbridge {__version__}\n")
        parser.exit()


def build_parser() -> Parser:
    parser = Parser(
        prog="staffbridge",
        description="One canonical Person for staff directories.",
        epilog="Exit codes: 0 all done, 1 some record failed, 2 the run could not start.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show program's version number and exit")
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="the config file (default: $STAFFBRIDGE_CONFIG, else ./staffbridge.toml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", action=_Commands)
    common = config_after_command()
    for name, (_, help_line) in COMMANDS.items():
        commands.add_parser(name, parents=[common], help=help_line)
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Runs one command; returns its exit code (see the module docstring)."""
    console = Console(stdout, stderr)
    try:
        args = build_parser().parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # a saved plan says how to make it again
        args.loaded_config = LazyConfig(args.config)
        code: int = args.run(args, console)
        return code
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except UsageError as exc:
        console.error(exc)
        return EXIT_CANNOT_START
    except KeyboardInterrupt:
        console.error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `staffbridge list moco | head`: the reader has all it wants
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:
        from staffbridge.model.errors import StaffbridgeError

        if isinstance(exc, StaffbridgeError):  # config, credentials, an unreachable vendor
            console.error(exc)
            return EXIT_CANNOT_START
        if os.environ.get("STAFFBRIDGE_DEBUG"):  # a bug: still one line, still scrubbed, unless asked
            raise
        console.error(f"unexpected {type(exc).__name__}: {exc} (STAFFBRIDGE_DEBUG=1 shows where)")
        return EXIT_CANNOT_START


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run() -> NoReturn:  # the console script; `main` stays testable
    sys.exit(main())
