"""`staffbridge ...`: thin: parses arguments, calls the library, prints.

    staffbridge adapters [--json]                       installed adapters and what they can do
    staffbridge list SYSTEM [--json|--jsonl|--csv] [--filter KEY=VALUE ...]
    staffbridge get SYSTEM ID [--json]
    staffbridge migrate SOURCE TARGET [--apply] [--match KEY ...] [--map FILE] [--journal FILE]
                        [--report FILE] [--delete-missing] [--workers N] [--json] [-v]
    staffbridge sandbox [VENDOR ...] [--port N] [--people N]
    staffbridge demo                                    a migration between two local sandboxes

SYSTEM is a name from staffbridge.toml (see staffbridge.config) or a path ending in .csv or .jsonl.
`migrate` shows the plan and changes nothing unless --apply is given.

Exit codes:
    0  all done
    1  the command ran, but a record failed: a write was refused, a row could not be read, a plan
       holds conflicts or people who cannot be migrated, `get` found nobody
    2  the run could not start: bad arguments, config or credentials, vendor unreachable

Errors are one line on stderr, `staffbridge: <message>`, never a traceback (STAFFBRIDGE_DEBUG=1
shows one for an unexpected error). Secret settings (api keys, tokens, passwords) never appear in
any output: every line printed is scrubbed of the secret values the config holds.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Iterable, Iterator, Sequence, TextIO

from staffbridge import __version__
from staffbridge.sdk.adapter import Adapter
from staffbridge.faces.cli.unify import add_unify_parser
from staffbridge.sdk.config import FILE_ADAPTERS, Config, load_config
from staffbridge.model.errors import ConfigError, NotFound, StaffbridgeError
from staffbridge.model.person import Person
from staffbridge.faces.cli.progress import ProgressBar
from staffbridge.model.redaction import scrub, scrub_text
from staffbridge.sdk.registry import adapter_class, available, installed_sandboxes, sandbox_class

EXIT_OK, EXIT_FAILED_RECORDS, EXIT_CANNOT_START = 0, 1, 2
DEFAULT_MATCH = ("email", "employee_number")
SHOWN = 15  # steps listed per kind of change in a plan, unless --verbose


class UsageError(Exception):
    """Bad arguments: argparse's complaint, said in one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print the usage block and exit
        raise UsageError(f"{message} (see {self.prog} --help)")


class Console:
    """Where every command prints: stdout for results, stderr for messages, both scrubbed of secrets."""

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.secrets: list[str] = []

    def clean(self, text: str) -> str:
        return scrub_text(text, self.secrets)

    def out(self, text: str = "") -> None:
        self.stdout.write(self.clean(text) + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(self.clean(text) + "\n")

    def error(self, message: Any) -> None:
        self.err(f"staffbridge: {' '.join(str(message).split())}")  # one line, whatever it holds

    def json(self, data: Any) -> None:
        self.out(json.dumps(scrub(data, self.secrets), indent=2, ensure_ascii=False, default=str))

    def progress(self) -> ProgressBar:
        return ProgressBar(self.stderr)

    # ------------------------------------------------------------------ plans and reports
    def show_plan(self, plan: Any, verbose: bool = False) -> None:
        summary = plan.summary()
        self.out(f"Plan: {plan.source.name} -> {plan.target.name} "
                 f"({summary['source']} people in the source, {summary['target']} in the target)")
        for key in ("create", "update", "unchanged", "conflict", "cannot_migrate", "delete"):
            self.out(f"  {key.replace('_', ' '):<15} {summary[key]:>6}")
        if getattr(plan, "read_error", None):
            self.out(f"  the source could not be read completely: {plan.read_error}")
        sections = (("create", "+", plan.creates), ("update", "~", plan.updates),
                    ("conflict", "!", plan.conflicts), ("cannot migrate", "!", plan.cannot_migrate),
                    ("delete", "-", plan.deletes))
        for title, mark, steps in sections:
            if not steps:
                continue
            self.out(f"\n{title.capitalize()}:")
            for step in steps if verbose else steps[:SHOWN]:
                self.out(f"  {mark} {_step_text(step)}")
            if not verbose and len(steps) > SHOWN:
                self.out(f"  ... and {len(steps) - SHOWN} more (--verbose lists all, --json too)")
        for note in getattr(plan, "notes", []) or []:
            self.out(f"note: {note}")

    def show_report(self, report: Any) -> None:
        totals = report.totals
        done = ", ".join(f"{totals[k]} {word}" for k, word in (
            ("create", "created"), ("update", "updated"), ("delete", "deleted"), ("unchanged", "unchanged"))
            if totals.get(k))
        self.out(f"Applied: {done or 'nothing to do'}; {totals.get('failed', 0)} failed.")
        for row in report.failures:
            who = " ".join(p for p in (row.name, f"<{row.email}>" if row.email else None) if p) or "?"
            ids = "/".join(i for i in (row.source_id, row.target_id) if i)
            self.out(f"  x {row.action} {ids} {who}: {row.reason}")
        if not report.source_complete:
            self.out("  the source was not read completely: nothing was deleted")


def _step_text(step: Any) -> str:
    text = step.label
    if step.changes:
        text += ": " + "; ".join(f"{c.field} {_value(c.before)} -> {_value(c.after)}" for c in step.changes)
    if step.reason:
        text += f": {step.reason}"
    return text


def _value(value: Any) -> str:
    if value in (None, "", [], {}):
        return "(empty)"
    if hasattr(value, "same_as"):  # a Ref: names travel, ids do not
        return repr(value.name or value.id)
    if hasattr(value, "as_text"):
        value = value.as_text()
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


# ---------------------------------------------------------------------------------------------- commands

def cmd_adapters(args: argparse.Namespace, console: Console) -> int:
    rows = []
    for name in available():
        try:
            cls = adapter_class(name)
        except StaffbridgeError as exc:
            rows.append({"name": name, "error": str(exc)})
            continue
        rows.append({"name": name, "operations": list(cls.operations), "filters": list(cls.filters),
                     "extras": list(cls.extras), "pagination": cls.pagination,
                     "incremental": cls.incremental, "notes": list(cls.notes)})
    if args.json:
        console.json(rows)
        return EXIT_OK
    for row in rows:
        if "error" in row:
            console.out(f"{row['name']:<14} (failed to load: {row['error']})")
            continue
        console.out(f"{row['name']:<14} {', '.join(row['operations'])}"
                    + (f"; filters: {', '.join(row['filters'])}" if row["filters"] else "")
                    + (f"; extras: {', '.join(row['extras'])}" if row["extras"] else ""))
    return EXIT_OK


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    filters = parse_filters(args.filter)
    with connect(args, args.system, console) as adapter:
        people = _Problems(adapter.list(**filters), console)
        if args.format == "csv":
            from staffbridge.adapters.files import write_csv
            with console.progress() as bar:
                held = _counted(people, bar, f"reading {adapter.name}")
            write_csv(held, _ScrubbedStream(console))
        elif args.format == "jsonl":
            from staffbridge.adapters.files import write_jsonl
            write_jsonl(people, _ScrubbedStream(console))
        elif args.format == "json":
            _json_array((_person_json(p) for p in people), console)
        else:
            console.out(f"{'ID':<10} {'NAME':<28} {'EMAIL':<38} {'DEPARTMENT':<20} ACTIVE")
            for person in people:
                department = person.department.name or person.department.id if person.department else ""
                active = "" if person.active is None else ("yes" if person.active else "no")
                console.out(f"{_fit(person.id, 10)} {_fit(person.full_name, 28)} {_fit(person.email, 38)} "
                            f"{_fit(department, 20)} {active}")
    return EXIT_FAILED_RECORDS if people.problems else EXIT_OK


def cmd_get(args: argparse.Namespace, console: Console) -> int:
    with connect(args, args.system, console) as adapter:
        try:
            person = adapter.get(args.id)
        except NotFound as exc:
            console.error(exc)
            return EXIT_FAILED_RECORDS
    if args.json:
        console.json(_person_json(person))
    else:
        for name, value in person.to_dict().items():
            if value not in (None, "", [], {}):
                console.out(f"{name:<17} {_display(value)}")
    for problem in person.problems:
        console.error(f"{person.label}: {problem}")
    return EXIT_FAILED_RECORDS if person.problems else EXIT_OK


def cmd_migrate(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.jobs.migration.run import migrate

    if args.report and not args.apply:
        raise UsageError("--report is written by a run with --apply (see the plan with --json)")
    match = [part for given in (args.match or DEFAULT_MATCH) for part in given.split(",") if part.strip()]
    bar = console.progress()  # one bar for planning and applying; close() blanks it between
    with connect(args, args.source, console) as source, connect(args, args.target, console, read_from=False) as target:
        try:
            plan = migrate(source, target, match=match, mapping=args.map, dry_run=True,
                           delete_missing=args.delete_missing, journal=args.journal, workers=args.workers,
                           progress=bar, welcome_email=args.welcome_email)
        finally:
            bar.close()
        if not args.json:
            console.show_plan(plan, args.verbose)
        if not args.apply:
            if args.json:
                console.json(plan.to_dict())
            else:
                console.out("\nNothing was changed: run again with --apply to make these changes.")
            return EXIT_FAILED_RECORDS if _plan_failed(plan) else EXIT_OK
        try:
            report = plan.apply()
        finally:
            bar.close()
    if args.report:
        _write_report(report, args.report)
    if args.json:
        console.json({"plan": plan.to_dict(), "report": report.to_dict()})
    else:
        console.out("")
        console.show_report(report)
        if args.report:
            console.out(f"Report written to {args.report}.")
    return EXIT_OK if report.ok else EXIT_FAILED_RECORDS


def cmd_sandbox(args: argparse.Namespace, console: Console) -> int:
    vendors = args.vendor or installed_sandboxes()
    started = []
    try:
        for offset, vendor in enumerate(vendors):
            port = args.port + offset if args.port else 0
            sandbox = sandbox_class(vendor)(port=port, seed_people=args.people).start()
            started.append(sandbox)
            console.out(f"{vendor:<13} {sandbox.url}  ({args.people} people; faults: POST "
                        f"{sandbox.root}/_sandbox/faults)")
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


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.faces.cli.demo import run_demo

    return run_demo(console, source_people=args.people, json_output=args.json, target=args.target)


# ---------------------------------------------------------------------------------------------- helpers

def connect(args: argparse.Namespace, name: str, console: Console, read_from: bool = True) -> Adapter:
    """The adapter for a SYSTEM argument; its secrets join the console's scrub list first.

    A file that is read from must exist: a file adapter takes a missing file for an empty directory
    (so a migration can create it), which would turn a mistyped source name into "nobody"."""
    system = args.loaded_config.system(name)
    console.secrets.extend(system.secrets)
    path = system.settings.get("path") if system.adapter in FILE_ADAPTERS.values() else None
    if read_from and isinstance(path, str) and not os.path.exists(path):
        raise ConfigError(f"{path}: no such file", setting="path", source=system.source)
    adapter = system.connect()
    console.secrets.extend(adapter.secret_values())
    return adapter


def parse_filters(given: Iterable[str] | None) -> dict[str, Any]:
    """`--filter active=true --filter tags=a` -> {"active": True, "tags": "a"}; a key given twice is a list."""
    filters: dict[str, Any] = {}
    for item in given or ():
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--filter {item!r}: give KEY=VALUE, e.g. --filter active=true")
        value: Any = {"true": True, "false": False}.get(text.strip().lower(), text)
        key = key.strip()
        if key in filters:
            filters[key] = (filters[key] if isinstance(filters[key], list) else [filters[key]]) + [value]
        else:
            filters[key] = value
    return filters


class _Problems:
    """Passes people through and says, on stderr, what could not be read of each."""

    def __init__(self, people: Iterable[Person], console: Console) -> None:
        self._people, self.console, self.problems = iter(people), console, 0

    def __iter__(self) -> Iterator[Person]:
        for person in self._people:
            for problem in person.problems:
                self.problems += 1
                self.console.error(f"{person.label}: {problem}")
            yield person


def _counted(people: Iterable[Person], bar: ProgressBar, label: str) -> list[Person]:
    held = []
    for person in people:
        held.append(person)
        bar(len(held), None, label)
    return held


def _person_json(person: Person) -> dict[str, Any]:
    data = person.to_dict()
    if person.problems:
        data["problems"] = list(person.problems)
    return data


def _json_array(items: Iterable[dict[str, Any]], console: Console) -> None:
    """Streams a JSON array, one person at a time, so a large directory is never held."""
    console.stdout.write("[")
    first = True
    for item in items:
        text = json.dumps(scrub(item, console.secrets), ensure_ascii=False, default=str)
        console.stdout.write(("\n  " if first else ",\n  ") + text)
        first = False
    console.stdout.write("\n]\n" if not first else "]\n")


class _ScrubbedStream:
    """A text stream writing through the console's scrubbing, for the csv/jsonl writers."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def write(self, text: str) -> int:
        self.console.stdout.write(self.console.clean(text))
        return len(text)


def _fit(value: Any, width: int) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return f"{text[:width - 1]}…" if len(text) > width else f"{text:<{width}}"


def _display(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value).replace("\n", " / ")


def _plan_failed(plan: Any) -> bool:
    return bool(plan.conflicts or plan.cannot_migrate or not plan.source_complete)


def _write_report(report: Any, path: str) -> None:
    try:
        if path.lower().endswith(".csv"):
            report.to_csv(path)
        else:
            report.to_json(path)
    except OSError as exc:
        raise StaffbridgeError(f"cannot write the report to {path}: {exc.strerror}") from None


# ---------------------------------------------------------------------------------------------- parsing

def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="staffbridge", description="One canonical Person for staff directories.",
                    epilog="Exit codes: 0 all done, 1 some record failed, 2 the run could not start.")
    parser.add_argument("--version", action="version", version=f"staffbridge {__version__}")
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="the config file (default: $STAFFBRIDGE_CONFIG, else ./staffbridge.toml)")
    # also accepted after the command; SUPPRESS keeps a top-level --config from being overwritten
    common = Parser(add_help=False)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    adapters = commands.add_parser("adapters", parents=[common], help="installed adapters and what they can do")
    adapters.add_argument("--json", action="store_true", help="as JSON")
    adapters.set_defaults(run=cmd_adapters)

    listing = commands.add_parser("list", parents=[common], help="the people of a system")
    listing.add_argument("system", metavar="SYSTEM", help="a system of the config file, or a .csv/.jsonl path")
    formats = listing.add_mutually_exclusive_group()
    for name in ("json", "jsonl", "csv"):
        formats.add_argument(f"--{name}", dest="format", action="store_const", const=name, help=f"as {name.upper()}")
    listing.add_argument("--filter", action="append", metavar="KEY=VALUE",
                         help="only people matching, e.g. active=true (see `staffbridge adapters`)")
    listing.set_defaults(run=cmd_list, format="table")

    get = commands.add_parser("get", parents=[common], help="one person")
    get.add_argument("system", metavar="SYSTEM", help="a system of the config file, or a .csv/.jsonl path")
    get.add_argument("id", metavar="ID", help="the person's id in that system")
    get.add_argument("--json", action="store_true", help="as JSON")
    get.set_defaults(run=cmd_get)

    move = commands.add_parser("migrate", parents=[common], help="plan (and with --apply, run) a migration",
                               description="Shows what would change in TARGET; changes nothing without --apply.")
    move.add_argument("source", metavar="SOURCE", help="where the people come from (a system or a .csv/.jsonl path)")
    move.add_argument("target", metavar="TARGET", help="where they go (a system or a .csv/.jsonl path)")
    move.add_argument("--apply", action="store_true", help="make the changes (default: only show them)")
    move.add_argument("--match", action="append", metavar="KEY",
                      help="match keys in order, e.g. --match email --match first_name+last_name "
                           "(default: email, employee_number)")
    move.add_argument("--map", metavar="FILE", help="a mapping file laid over the target's (value maps)")
    move.add_argument("--journal", metavar="FILE", help="record each write; a rerun resumes, never duplicates")
    move.add_argument("--report", metavar="FILE", help="write the report (.csv, else JSON)")
    move.add_argument("--delete-missing", action="store_true",
                      help="delete target people no source person matches")
    move.add_argument("--workers", type=int, default=4, metavar="N", help="parallel writes (default 4)")
    move.add_argument("--welcome-email", action=argparse.BooleanOptionalAction, default=None,
                      help="ask the target to send its welcome email to people created")
    move.add_argument("--json", action="store_true", help="the plan (and report) as JSON")
    move.add_argument("-v", "--verbose", action="store_true", help="list every step of the plan")
    move.set_defaults(run=cmd_migrate)

    sandbox = commands.add_parser("sandbox", parents=[common], help="serve the bundled vendor emulators on 127.0.0.1")
    sandbox.add_argument("vendor", nargs="*", help="an installed sandbox, e.g. moco (default: all of them)")
    sandbox.add_argument("--port", type=int, default=0, help="first port (default: free ports)")
    sandbox.add_argument("--people", type=int, default=50, help="sample staff to seed (default 50)")
    sandbox.set_defaults(run=cmd_sandbox)

    demo = commands.add_parser("demo", parents=[common],
                               help="migrate sample staff between two local sandboxes, twice")
    demo.add_argument("--people", type=int, default=60, help="sample staff in the source (default 60)")
    demo.add_argument("--target", choices=("whosoff", "moco"), default=None,
                      help="the target sandbox (default: whosoff)")
    demo.add_argument("--json", action="store_true", help="the summary as JSON")
    demo.set_defaults(run=cmd_demo)

    add_unify_parser(commands, parents=[common])
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Runs one command; returns its exit code (see the module docstring)."""
    console = Console(stdout, stderr)
    try:
        args = build_parser().parse_args(argv)
        args.loaded_config = _lazy_config(args)
        return args.run(args, console)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except UsageError as exc:
        console.error(exc)
        return EXIT_CANNOT_START
    except StaffbridgeError as exc:
        console.error(exc)
        return EXIT_CANNOT_START
    except KeyboardInterrupt:
        console.error("interrupted")
        return 130
    except BrokenPipeError:  # `staffbridge list moco | head`: the reader has all it wants
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:  # a bug: still one line, still scrubbed
        if os.environ.get("STAFFBRIDGE_DEBUG"):
            raise
        console.error(f"unexpected {type(exc).__name__}: {exc} (STAFFBRIDGE_DEBUG=1 shows where)")
        return EXIT_CANNOT_START


class _lazy_config:
    """The config file, read when a command first names a system (`adapters` needs none)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.explicit = getattr(args, "config", None)
        self._config: Config | None = None

    def system(self, name: str) -> Any:
        if self._config is None:
            self._config = load_config(self.explicit)
        return self._config.system(name)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run() -> Any:  # console entry point wrapper keeps `main` testable
    sys.exit(main())
