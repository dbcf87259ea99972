"""`staffbridge sandbox [VENDOR ...] [--port N] [--people N] [--json]`: the bundled vendor emulators on
127.0.0.1, serving until Ctrl-C.

It prints, per emulator, its URL and the credentials it accepts, then a `staffbridge.toml` ready to
paste (one system per emulator, named after it) and how to inject and clear faults. `--json` prints
the same as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from staffbridge.faces.cli.console import EXIT_CANNOT_START, EXIT_OK, Console

if TYPE_CHECKING:
    from staffbridge.sandbox import Sandbox

FAULT_EXAMPLES = ('{"kind": "503", "count": 3}', '{"rate": 0.1, "kinds": ["429", "reset"]}')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vendor", nargs="*", help="an installed sandbox, e.g. moco (default: all of them)")
    parser.add_argument("--port", type=int, default=0, help="first port (default: free ports)")
    parser.add_argument("--people", type=int, default=50, help="sample staff to seed (default 50)")
    parser.add_argument("--json", action="store_true", help="what is served, as one JSON object")
    parser.set_defaults(run=cmd_sandbox)


def cmd_sandbox(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.sdk.registry import installed_sandboxes, sandbox_class

    started: dict[str, Sandbox] = {}
    try:
        for offset, vendor in enumerate(args.vendor or installed_sandboxes()):
            port = args.port + offset if args.port else 0
            serve: Callable[..., Sandbox] = sandbox_class(vendor)  # each vendor's takes its own settings
            sandbox = serve(port=port, seed_people=args.people).start()
            started[vendor] = sandbox
            if not args.json:
                console.out(f"{vendor:<13} {sandbox.url}  ({args.people} people)")
                for name, value in sandbox.client_settings().items():
                    if name != "base_url":
                        console.out(f"{'':<13} {name} = {value}")
                console.stdout.flush()
        if args.json:  # not console.json: it masks values under secret-looking keys, and these are no secrets
            console.out(json.dumps(described(started, args.people), indent=2, ensure_ascii=False))
        else:
            console.out()
            console.out("# staffbridge.toml for these sandboxes:")
            console.out(config_text(started))
            for line in fault_help(started):
                console.out(line)
        console.stdout.flush()
        console.err("Ctrl-C stops.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return EXIT_OK
    except (LookupError, OSError) as exc:
        console.error(f"sandbox: {exc}")
        return EXIT_CANNOT_START
    finally:
        for sandbox in started.values():
            sandbox.stop()


def config_text(started: dict[str, Sandbox]) -> str:
    """A `staffbridge.toml` with one system per emulator, named after it."""
    blocks = []
    for vendor, sandbox in started.items():
        settings = {"adapter": vendor, **sandbox.client_settings()}
        blocks.append(f"[systems.{vendor}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in settings.items()))
    return "\n".join(blocks)


def fault_help(started: dict[str, Sandbox]) -> list[str]:
    root = next(iter(started.values())).root if started else "http://127.0.0.1:PORT"
    return [
        "# faults (each emulator at its own root):",
        f"#   inject: curl -X POST {root}/_sandbox/faults -d '{FAULT_EXAMPLES[0]}'",
        f"#           curl -X POST {root}/_sandbox/faults -d '{FAULT_EXAMPLES[1]}'",
        f"#   clear:  curl -X DELETE {root}/_sandbox/faults",
    ]


def described(started: dict[str, Sandbox], people: int) -> dict[str, Any]:
    return {
        "sandboxes": [
            {
                "vendor": vendor,
                "url": sandbox.url,
                "people": people,
                "settings": sandbox.client_settings(),
                "faults": f"{sandbox.root}/_sandbox/faults",
            }
            for vendor, sandbox in started.items()
        ],
        "config": config_text(started),
        "faults": {"inject": "POST a JSON fault, e.g. " + " or ".join(FAULT_EXAMPLES), "clear": "DELETE"},
    }


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string is JSON's string
