"""`staffbridge list SYSTEM` and `staffbridge get SYSTEM ID`: people as a table, JSON, JSONL or CSV.

What could not be read of a person is one line on stderr each, and makes the exit code 1.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from staffbridge.faces.cli.arguments import SYSTEM_HELP, UsageError, add_filter_option
from staffbridge.faces.cli.console import EXIT_FAILED_RECORDS, EXIT_OK, Console, fit, started
from staffbridge.faces.cli.systems import connect
from staffbridge.model.render import text_value

if TYPE_CHECKING:
    from staffbridge.faces.cli.progress import ProgressBar
    from staffbridge.model.person import Person
    from staffbridge.sdk.adapter import Adapter


def add_list_arguments(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("system", metavar="SYSTEM", help=SYSTEM_HELP)
    formats = listing.add_mutually_exclusive_group()
    for name in ("json", "jsonl", "csv"):
        formats.add_argument(f"--{name}", dest="format", action="store_const", const=name, help=f"as {name.upper()}")
    add_filter_option(listing)
    listing.set_defaults(run=cmd_list, format="table")


def add_get_arguments(get: argparse.ArgumentParser) -> None:
    get.add_argument("system", metavar="SYSTEM", help=SYSTEM_HELP)
    get.add_argument("id", metavar="ID", help="the person's id in that system")
    get.add_argument("--json", action="store_true", help="as JSON")
    get.set_defaults(run=cmd_get)


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.jobs.sync.read import everyone_filters

    filters = parse_filters(args.filter)
    with connect(args, args.system, console) as adapter:
        # everyone, inactive people too, as `migrate` reads a source: filters narrow that
        everyone = everyone_filters(adapter)
        # the first person is fetched before anything is printed: a failing read prints no half output
        people = _Problems(started(adapter.list(**{**everyone, **filters})), console)
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
            shown = inactive = 0
            for person in people:
                console.out(
                    f"{fit(person.id, 10)} {fit(person.full_name, 28)} {fit(person.email, 38)} "
                    f"{fit(text_value(person.department), 20)} {text_value(person.active)}"
                )
                shown, inactive = shown + 1, inactive + (person.active is False)
            console.out(_footer(adapter, everyone, args.filter, shown, inactive))
    return EXIT_FAILED_RECORDS if people.problems else EXIT_OK


def _footer(adapter: Adapter, everyone: dict[str, Any], given: list[str] | None, shown: int, inactive: int) -> str:
    """The table's last line: how many people, and how many the filters left out (a second,
    unfiltered read counts them) with the filters that did."""
    from staffbridge.model.errors import StaffbridgeError

    if not given:
        return f"{shown} people, inactive included ({inactive} inactive)"
    used = " ".join(f"--filter {item}" for item in given)
    try:
        total = sum(1 for _ in adapter.list(**everyone))
    except StaffbridgeError as exc:
        return f"{shown} people matching {used} (how many it left out is unknown: {exc})"
    return f"{shown} people; {max(total - shown, 0)} more left out by {used} (without it: everyone)"


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
