"""Where every command prints, and the exit codes they return.

stdout carries results, stderr messages; both are scrubbed of the secret values collected so far
(each system's secrets join `Console.secrets` before its adapter connects).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

if TYPE_CHECKING:
    from staffbridge.faces.cli.progress import ProgressBar

T = TypeVar("T")

EXIT_OK = 0
EXIT_FAILED_RECORDS = 1  # the command ran, but a record failed
EXIT_CANNOT_START = 2  # bad arguments, config or credentials, vendor unreachable
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class Console:
    """Where every command prints: stdout for results, stderr for messages, both scrubbed of secrets."""

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.secrets: list[str] = []

    def clean(self, text: str) -> str:
        if not self.secrets:
            return text
        from staffbridge.model.redaction import scrub_text  # only once a system is connected

        return scrub_text(text, self.secrets)

    def out(self, text: str = "") -> None:
        self.stdout.write(self.clean(text) + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(self.clean(text) + "\n")

    def error(self, message: object) -> None:
        self.err(f"staffbridge: {' '.join(str(message).split())}")  # one line, whatever it holds

    def json(self, data: Any) -> None:
        self.out(self.dumps(data, indent=2))

    def dumps(self, data: Any, indent: int | None = None) -> str:
        """`data` as JSON text, every secret value masked (also in keys and nested values)."""
        import json

        from staffbridge.model.redaction import scrub

        return json.dumps(scrub(data, self.secrets), indent=indent, ensure_ascii=False, default=str)

    def progress(self) -> ProgressBar:
        from staffbridge.faces.cli.progress import ProgressBar  # threads and clocks: only for long work

        return ProgressBar(self.stderr)


def fit(value: Any, width: int) -> str:
    """`value` as one table cell of exactly `width` characters: padded, or cut with an ellipsis."""
    text = "" if value is None else str(value).replace("\n", " ")
    return f"{text[: width - 1]}…" if len(text) > width else f"{text:<{width}}"


def started(items: Iterable[T]) -> Iterator[T]:
    """`items` with the first one already fetched: a failure at the start (credentials, an unreachable
    vendor) is raised here, before a command prints a table header or a `[` it could not finish."""
    iterator = iter(items)
    try:
        first = next(iterator)
    except StopIteration:
        return iter(())
    return itertools.chain([first], iterator)


def show_section(
    console: Console, title: str, lines: list[str], *, shown: int | None, more: str, indent: str = "  "
) -> None:
    """A titled list of `lines`, the first `shown` of them (None: all), then how many more and `more`
    (how to see them). Nothing for an empty list."""
    if not lines:
        return
    console.out(f"\n{indent[:-2]}{title}:")
    for line in lines if shown is None else lines[:shown]:
        console.out(f"{indent}{line}")
    if shown is not None and len(lines) > shown:
        console.out(f"{indent}... and {len(lines) - shown} more ({more})")
