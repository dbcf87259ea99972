"""What every command's parser shares: one-line usage errors, `--config` after the command, `--match`."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import NoReturn

SYSTEM_HELP = "a system of the config file, or a .csv/.jsonl path"


class UsageError(Exception):
    """Bad arguments: argparse's complaint, said in one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print the usage block and exit
        raise UsageError(f"{message} (see {self.prog} --help)")


def config_after_command() -> Parser:
    """A parent parser accepting `--config FILE` after the command too.

    SUPPRESS as the default keeps a `--config` given before the command from being overwritten."""
    common = Parser(add_help=False)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return common


def add_match_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--match",
        action="append",
        metavar="KEY",
        help="match keys in order, e.g. --match email --match first_name+last_name (default: email, employee_number)",
    )


def match_keys(given: Iterable[str]) -> list[str]:
    """`--match email,username --match first_name+last_name` -> ["email", "username", "first_name+last_name"]."""
    return [part for item in given for part in item.split(",") if part.strip()]


def add_filter_option(parser: argparse.ArgumentParser, whom: str = "people") -> None:
    """`--filter KEY=VALUE`, the same for `list` and `migrate` (read with `people.parse_filters`)."""
    parser.add_argument(
        "--filter",
        action="append",
        metavar="KEY=VALUE",
        help=f"only {whom} matching, e.g. active=true (see `staffbridge adapters`; default: everyone, inactive too)",
    )
