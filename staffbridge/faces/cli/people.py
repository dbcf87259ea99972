"""`staffbridge list SYSTEM` and `staffbridge get SYSTEM ID`: people as a table, JSON, JSONL or CSV.

What could not be read of a person is one line on stderr each, and makes the exit code 1.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from staffbridge.faces.cli.arguments import SYSTEM_HELP, UsageError
from staffbridge.faces.cli.console import EXIT_FAILED_RECORDS, EXIT_OK, Console, fit, started
from staffbridge.faces.cli.systems import connect
from staffbridge.model.render import text_value

if TYPE_CHECKING:
    from staffbridge.faces.cli.progress import ProgressBar
    from staffbridge.model.person import Person


def add_list_arguments(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("system", metavar="SYSTEM", help=SYSTEM_HELP)
    formats = listing.add_mutually_exclusive_group()
    for name in ("json", "jsonl", "csv"):
        formats.add_argument(f"--{name}", dest="format", action="store_const", const=name, help=f"as {name.upper()}")
    listing.add_argument(
        "--filter",
        action="append",
        metavar="KEY=VALUE",
        help="only people matching, e.g. active=true (see `staffbridge adapters`)",
    )
    listing.set_defaults(run=cmd_list, format="table")


def add_get_arguments(get: argparse.ArgumentParser) -> None:
    get.add_argument("system", metavar="SYSTEM", help=SYSTEM_HELP)
    get.add_argument("id", metavar="ID", help="the person's id in that system")
    get.add_argument("--json", action="store_true", help="as JSON")
    get.set_defaults(run=cmd_get)


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    filters = parse_filters(args.filter)
    with connect(args, args.system, console) as adapter:
        people = _Problems(started(adapter.list(**filters)), console)  # fails before printing, if at all
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
                console.out(
                    f"{fit(person.id, 10)} {fit(person.full_name, 28)} {fit(person.email, 38)} "
                    f"{fit(text_value(person.department), 20)} {text_value(person.active)}"
                )
    return EXIT_FAILED_RECORDS if people.problems else EXIT_OK


def cmd_get(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.model.errors import NotFound

    with connect(args, args.system, console) as adapter:
        try:
            person = adapter.get(args.id)
        except NotFound as exc:
            console.error(exc)
            return EXIT_FAILED_RECORDS
    if args.json:
        console.json(_person_json(person))
    else:
        for name in person.to_dict():
            shown = text_value(getattr(person, name, None))
            if shown:
                console.out(f"{name:<17} {shown}")
    for problem in person.problems:
        console.error(f"{person.label}: {problem}")
    return EXIT_FAILED_RECORDS if person.problems else EXIT_OK


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
    data: dict[str, Any] = person.to_dict()
    if person.problems:
        data["problems"] = list(person.problems)
    return data


def _json_array(items: Iterable[dict[str, Any]], console: Console) -> None:
    """Streams a JSON array, one person at a time, so a large directory is never held."""
    console.stdout.write("[")
    first = True
    for item in items:
        console.stdout.write(("\n  " if first else ",\n  ") + console.dumps(item))
        first = False
    console.stdout.write("\n]\n" if not first else "]\n")


class _ScrubbedStream:
    """A text stream writing through the console's scrubbing, for the csv/jsonl writers."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def write(self, text: str) -> int:
        self.console.stdout.write(self.console.clean(text))
        return len(text)
