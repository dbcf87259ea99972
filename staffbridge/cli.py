"""`staffbridge ...`: thin: parses arguments, calls the library, prints.

Exit codes: 0 all done; 1 some records failed; 2 the run could not start (bad arguments, config,
credentials, vendor unreachable).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Sequence

from . import __version__
from .errors import StaffbridgeError
from .registry import adapter_class, available

EXIT_OK, EXIT_FAILED_RECORDS, EXIT_CANNOT_START = 0, 1, 2


def cmd_adapters(args: argparse.Namespace) -> int:
    rows = []
    for name in available():
        try:
            cls = adapter_class(name)
        except StaffbridgeError as exc:
            rows.append({"name": name, "error": str(exc)})
            continue
        rows.append({"name": name, "operations": list(cls.operations), "filters": list(cls.filters),
                     "extras": list(cls.extras), "pagination": cls.pagination,
                     "incremental": cls.incremental})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            if "error" in row:
                print(f"{row['name']:<14} (failed to load: {row['error']})")
                continue
            print(f"{row['name']:<14} {', '.join(row['operations'])}"
                  + (f"; filters: {', '.join(row['filters'])}" if row["filters"] else "")
                  + (f"; extras: {', '.join(row['extras'])}" if row["extras"] else ""))
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    from .sandbox import sandbox_class

    vendors = args.vendor or ["moco", "whosoff", "fieldservice"]
    started = []
    try:
        for offset, vendor in enumerate(vendors):
            port = args.port + offset if args.port else 0
            sandbox = sandbox_class(vendor)(port=port, seed_people=args.people).start()
            started.append(sandbox)
            print(f"{vendor:<13} {sandbox.url}  ({args.people} people; faults: POST {sandbox.root}/_sandbox/faults)",
                  flush=True)
        print("Ctrl-C stops.", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return EXIT_OK
    except (LookupError, OSError) as exc:
        print(f"staffbridge sandbox: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    finally:
        for sandbox in started:
            sandbox.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="staffbridge", description="One canonical Person for staff directories.")
    parser.add_argument("--version", action="version", version=f"staffbridge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    adapters = commands.add_parser("adapters", help="installed adapters and what they can do")
    adapters.add_argument("--json", action="store_true")
    adapters.set_defaults(run=cmd_adapters)

    sandbox = commands.add_parser("sandbox", help="serve the bundled vendor emulators on 127.0.0.1")
    sandbox.add_argument("vendor", nargs="*", help="moco, whosoff, fieldservice (default: all)")
    sandbox.add_argument("--port", type=int, default=0, help="first port (default: free ports)")
    sandbox.add_argument("--people", type=int, default=50, help="sample staff to seed (default 50)")
    sandbox.set_defaults(run=cmd_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except StaffbridgeError as exc:
        print(f"staffbridge: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START


def run() -> Any:  # console entry point wrapper keeps `main` testable
    sys.exit(main())
