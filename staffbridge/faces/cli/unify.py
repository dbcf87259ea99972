"""`staffbridge unify SYSTEM...`: one directory from several systems, with crosswalks and conflicts.

    staffbridge unify moco whosoff fieldservice [--authority SYSTEM | --authority FIELD=SYSTEM ...]
                      [--format table|json|csv|scim | --json] [--state FILE] [--full] [--full-every N]
                      [--match KEY ...] [--rules FILE] [--output FILE] [-v]

SYSTEMs are names from staffbridge.toml (or .csv/.jsonl paths), in order of precedence. The table
lists every unified person with the ids it has in each system ("?" after an id: that system could
not be read this run), then conflicts, ambiguous records and failed reads, then a summary; with
--format json/csv/scim the document goes to stdout (or --output) and the summary to stderr, so the
output stays machine-readable. `--state FILE` makes later runs incremental where the vendor can
(MOCO's updated_after): an updated_after read cannot see deletes, so run with --full now and then
(or --full-every N); MOCO itself recommends a DELETE webhook for them.

Exit codes: 0 done; 1 done, but a system could not be read or a record is ambiguous; 2 could not start.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Sequence
from typing import Any

from staffbridge.faces.cli.arguments import add_match_option, config_after_command, match_keys
from staffbridge.faces.cli.console import EXIT_CANNOT_START, EXIT_FAILED_RECORDS, EXIT_OK, Console, fit
from staffbridge.faces.cli.systems import connect

__all__ = ["add_arguments", "add_unify_parser", "cmd_unify", "parse_authority"]

HELP = "one directory from several systems: crosswalk, conflicts, SCIM"
FORMATS = ("table", "json", "csv", "scim")
SHOWN = 15  # conflicts listed in the table output, unless --verbose


def add_unify_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds the `unify` command to `subparsers` (the `add_subparsers()` of a parser of your own)."""
    unify: argparse.ArgumentParser = subparsers.add_parser("unify", parents=[config_after_command()], help=HELP)
    add_arguments(unify)
    return unify


def add_arguments(unify: argparse.ArgumentParser) -> None:
    unify.description = (
        "Reads every SYSTEM, matches the same people across them and merges their fields by "
        "survivorship rules. Changes nothing in any system."
    )
    unify.add_argument(
        "systems",
        nargs="+",
        metavar="SYSTEM",
        help="systems of the config file (or .csv/.jsonl paths), in order of precedence",
    )
    unify.add_argument(
        "--authority",
        action="append",
        metavar="SYSTEM|FIELD=SYSTEM",
        help="the system whose values win (for every field, or for one: email=moco); repeatable",
    )
    formats = unify.add_mutually_exclusive_group()
    formats.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    formats.add_argument("--json", dest="format", action="store_const", const="json", help="the same as --format json")
    unify.add_argument(
        "--state",
        metavar="FILE",
        help="a state file (SQLite; a name ending in .json keeps the JSON format): later runs read only "
        "what changed where the vendor can",
    )
    unify.add_argument(
        "--full", action="store_true", help="read every system whole (finds deletes an incremental read cannot see)"
    )
    unify.add_argument(
        "--full-every",
        type=int,
        metavar="N",
        default=None,
        help="with --state: read whole every N runs, incrementally in between",
    )
    add_match_option(unify)
    unify.add_argument("--rules", metavar="FILE", help="survivorship rules (TOML; see mappings/unify.toml)")
    unify.add_argument("--output", "-o", metavar="FILE", help="write the directory here instead of stdout")
    unify.add_argument(
        "--no-extension",
        action="store_true",
        help="scim: core and enterprise schemas only, without staffbridge's extension",
    )
    unify.add_argument("-v", "--verbose", action="store_true", help="list every conflict")
    unify.set_defaults(run=cmd_unify)


def cmd_unify(args: argparse.Namespace, console: Console) -> int:
    """Runs `staffbridge unify` with parsed `args`; returns the exit code. Errors that stop the run are one
    line on stderr, exit 2."""
    from staffbridge.model.errors import StaffbridgeError

    try:
        return _run(args, console)
    except StaffbridgeError as exc:
        console.error(exc)
        return EXIT_CANNOT_START


def _run(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.jobs.unification.run import unify
    from staffbridge.model.errors import ConfigError

    authority = parse_authority(args.authority)
    check_authority(authority, args.systems)
    match = match_keys(args.match) if args.match else None
    if len(set(args.systems)) != len(args.systems):
        raise ConfigError(f"unify: a system is named twice ({', '.join(args.systems)})", setting="systems")
    if args.full_every is not None and args.full_every < 1:
        raise ConfigError("--full-every: give a whole number of at least 1", setting="full_every")
    with contextlib.ExitStack() as stack:
        systems = {name: stack.enter_context(connect(args, name, console)) for name in args.systems}
        bar = console.progress()
        try:
            directory = unify(
                systems,
                match=match,
                authority=authority,
                rules=args.rules,
                state=args.state,
                full=args.full,
                full_every=args.full_every,
                progress=bar,
            )
        finally:
            bar.close()
    document = render(directory, args.format, extension=not args.no_extension)
    if args.output:
        _write(args.output, document)
    elif args.format == "table":
        for line in document:
            console.out(line)
    else:
        console.stdout.write(console.clean("\n".join(document)) + "\n")
    say = console.out if args.format == "table" or args.output else console.err
    for line in details(directory, args.verbose) if args.format == "table" else []:
        say(line)
    for line in summary_lines(directory):
        say(line)
    if args.output:
        say(f"Written to {args.output}.")
    return EXIT_FAILED_RECORDS if directory.failed or directory.ambiguous else EXIT_OK


def parse_authority(given: Sequence[str] | None) -> str | dict[str, str] | None:
    """`--authority moco` -> "moco"; `--authority email=moco --authority phone=hr` -> {"email": "moco", ...};
    both -> {"default": "moco", "email": "hr"}."""
    from staffbridge.model.errors import ConfigError

    if not given:
        return None
    default: str | None = None
    fields: dict[str, str] = {}
    for item in given:
        name, sep, system = item.partition("=")
        if not sep:
            if default is not None and default != item.strip():
                raise ConfigError(
                    f"conflicting authorities: --authority {default} and --authority {item.strip()}; "
                    "name one (or say which field: --authority email=SYSTEM)",
                    setting="authority",
                )
            default = item.strip()
            continue
        name, system = name.strip(), system.strip()
        if not name or not system:
            raise ConfigError(f"--authority {item!r}: give SYSTEM or FIELD=SYSTEM", setting="authority")
        if fields.get(name, system) != system:
            raise ConfigError(
                f"conflicting authorities for {name}: {fields[name]} and {system}; name one", setting=name
            )
        fields[name] = system
    if default and fields:
        return {"default": default, **fields}
    return default or fields


def check_authority(authority: str | dict[str, str] | None, systems: Sequence[str]) -> None:
    """ConfigError naming the --authority option when it names a system not being unified (the
    library would say "the authority argument", which a command-line user never wrote)."""
    from staffbridge.model.errors import ConfigError

    named = {"default": authority} if isinstance(authority, str) else dict(authority or {})
    for name, system in named.items():
        if system not in systems:
            given = system if name == "default" else f"{name}={system}"
            raise ConfigError(
                f"--authority {given}: authority for {name} is {system!r}, which is not one of the "
                f"systems being unified ({', '.join(systems)})",
                setting="authority",
            )


# ---------------------------------------------------------------------------------------------- output


def render(directory: Any, fmt: str, extension: bool = True) -> list[str]:
    """The directory as lines of text in `fmt`."""
    if fmt == "json":
        return [directory.to_json().rstrip("\n")]
    if fmt == "csv":
        return [directory.to_csv().rstrip("\n")]
    if fmt == "scim":
        from staffbridge.model.render import json_text

        return [json_text(directory.to_scim(extension=extension)).rstrip("\n")]
    return table(directory)


def table(directory: Any) -> list[str]:
    """One line per person; the systems column comes last and is never cut, as it is the crosswalk."""
    id_width = min(40, max([len("ID"), *(len(p.id) for p in directory.people)]))
    lines = [f"{'ID':<{id_width}} {'NAME':<26} {'EMAIL':<34} {'CONFLICTS':<24} SYSTEMS"]
    for person in directory.people:
        systems = " ".join(
            f"{s}:{i}"
            + ("?" if person.status[s] == "unknown" else "(removed)" if person.status[s] == "removed" else "")
            for s, i in person.crosswalk.items()
        )
        flags = ", ".join(c.field for c in person.conflicts)
        if person.ambiguity is not None:
            flags = ("AMBIGUOUS " + flags).strip()
        lines.append(
            f"{fit(person.id, id_width)} {fit(person.person.full_name, 26)} "
            f"{fit(person.person.email, 34)} {fit(flags, 24)} {systems}"
        )
    return lines


def details(directory: Any, verbose: bool = False) -> list[str]:
    """Conflicts (with their values), ambiguous records and failed reads: what needs a human."""
    lines: list[str] = []
    conflicts = directory.conflicts
    if conflicts:
        lines.append("\nConflicts (the same person, different values):")
        for person, conflict in conflicts if verbose else conflicts[:SHOWN]:
            lines.append(f"  ! {person.label}: {conflict}")
        if not verbose and len(conflicts) > SHOWN:
            lines.append(f"  ... and {len(conflicts) - SHOWN} more (--verbose lists all; --format json too)")
    if directory.ambiguous:
        lines.append("\nAmbiguous (not merged: say who is who, e.g. with --match or by fixing the data):")
        for item in directory.ambiguous:
            candidates = f"; could be {', '.join(item.candidates)}" if item.candidates else ""
            lines.append(f"  ? {item.system}#{item.id} {item.label}: {item.reason}{candidates}")
    for name, reason in directory.failed.items():
        lines.append(f"\n{name} could not be read ({reason}): its people are unknown, none removed")
    return lines


def summary_lines(directory: Any) -> list[str]:
    s = directory.summary()
    lines = [f"\nUnified {s['people']} people from {len(directory.systems)} systems:"]
    for name, read in s["systems"].items():
        how = {"full": "read whole", "incremental": f"changes since {read['since']}", "failed": "READ FAILED"}[
            read["mode"]
        ]
        lines.append(
            f"  {name:<16} {read['people']:>6} people ({how}: {read['fetched']} records fetched"
            + (f", {read['removed']} removed" if read["removed"] else "")
            + ")"
        )
    if len(directory.systems) > 2:
        lines.append(f"  {'in all systems':<16} {s['in_all']:>6}")
    lines.append(f"  {'matched (2+)':<16} {s['matched']:>6}")
    for name, count in s["single_system"].items():
        lines.append(f"  {'only in ' + name:<16} {count:>6}")
    by_field = ", ".join(f"{f} {n}" for f, n in s["conflicts"].items())
    lines.append(f"  {'with conflicts':<16} {s['people_with_conflicts']:>6}" + (f"  ({by_field})" if by_field else ""))
    for key in ("ambiguous", "removed", "unknown"):
        if s[key]:
            lines.append(f"  {key:<16} {s[key]:>6}")
    if any(read.mode == "incremental" for read in directory.reads.values()):
        lines.append(
            "note: an incremental read does not see deletes; run with --full now and then "
            "(MOCO recommends a DELETE webhook for them)"
        )
    return lines


def _write(path: str, lines: list[str]) -> None:
    from staffbridge.model.output import write_text

    try:
        write_text("\n".join(lines) + "\n", path)
    except OSError as exc:
        from staffbridge.model.errors import StaffbridgeError

        raise StaffbridgeError(f"cannot write {path}: {exc.strerror}") from None
