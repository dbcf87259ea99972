"""`staffbridge sandbox [VENDOR ...] [--port N] [--people N]`: the bundled vendor emulators on 127.0.0.1,
serving until Ctrl-C."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from staffbridge.faces.cli.console import EXIT_CANNOT_START, EXIT_OK, Console


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vendor", nargs="*", help="an installed sandbox, e.g. moco (default: all of them)")
    parser.add_argument("--port", type=int, default=0, help="first port (default: free ports)")
    parser.add_argument("--people", type=int, default=50, help="sample staff to seed (default 50)")
    parser.set_defaults(run=cmd_sandbox)


def cmd_sandbox(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.sandbox import Sandbox
    from staffbridge.sdk.registry import installed_sandboxes, sandbox_class

    started = []
    try:
        for offset, vendor in enumerate(args.vendor or installed_sandboxes()):
            port = args.port + offset if args.port else 0
            serve: Callable[..., Sandbox] = sandbox_class(vendor)  # each vendor's takes its own settings
            sandbox = serve(port=port, seed_people=args.people).start()
            started.append(sandbox)
            console.out(
                f"{vendor:<13} {sandbox.url}  ({args.people} people; faults: POST {sandbox.root}/_sandbox/faults)"
            )
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
        for sandbox in started:
            sandbox.stop()
