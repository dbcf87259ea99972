"""`staffbridge demo`: the whole migration on a fresh machine, no account, nothing beyond loopback.

It starts two bundled sandboxes in this process: MOCO holding sample people 0..59 as the source and a
WhosOff directory holding people 40..79 as the target (`target="moco"` makes it a second MOCO, as
does a missing whosoff adapter), changes a few phone numbers in the target, then shows the plan
(creates, updates, unchanged), applies it, plans again to show that nothing is left to do, and
prints a summary.

The sandboxes set no rate limit, so the adapters are given a high one: the demo is about the
migration, not about waiting for MOCO's 120 requests per two minutes.
"""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from staffbridge.faces.cli.console import Console
from staffbridge.faces.cli.migrate import show_plan, show_report
from staffbridge.sandbox import Sandbox
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sandbox.people import sample_people, sample_person
from staffbridge.sandbox.whosoff import WhosOffSandbox
from staffbridge.sdk.adapter import Adapter
from staffbridge.sdk.registry import available, connect

__all__ = ["DEFAULT_TARGET", "DemoDirectory", "add_arguments", "run_demo", "start_directory"]

FAST = {"rate_limit": 100_000, "rate_period": 1.0, "max_retries": 1, "timeout": 10.0}
CHANGED = 3  # target people whose work phone is changed before planning
DEFAULT_TARGET = "whosoff"  # a second MOCO when the whosoff adapter is not installed


@dataclass
class DemoDirectory:
    """A started sandbox and the adapter connected to it."""

    vendor: str
    sandbox: Sandbox
    adapter: Adapter
    secrets: list[str]

    def stop(self) -> None:
        self.adapter.close()
        self.sandbox.stop()


def _moco(first: int, count: int) -> DemoDirectory:
    key = secrets.token_hex(12)  # a fresh key each run: the demo shows that none is ever printed
    sandbox = MocoSandbox(seed_people=0, api_key=key)
    sandbox.backend.seed(sample_people(count, start=first))
    sandbox.start()
    adapter = connect("moco", base_url=sandbox.url, api_key=key, **FAST)
    return DemoDirectory("moco", sandbox, adapter, [key])


def _whosoff(first: int, count: int) -> DemoDirectory:
    app_id, client_secret, password = (secrets.token_hex(12) for _ in range(3))
    sandbox = WhosOffSandbox(seed_people=0, app_id=app_id, client_secret=client_secret, password=password)
    sandbox.backend.seed(count, start=first)
    sandbox.start()
    adapter = connect(
        "whosoff",
        base_url=sandbox.url,
        app_id=app_id,
        client_secret=client_secret,
        username="admin@example.com",
        password=password,
        **FAST,
    )
    return DemoDirectory("whosoff", sandbox, adapter, [app_id, client_secret, password])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, default=60, help="sample staff in the source (default 60)")
    parser.add_argument(
        "--target", choices=("whosoff", "moco"), default=None, help="the target sandbox (default: whosoff)"
    )
    parser.add_argument("--json", action="store_true", help="the summary as JSON")
    parser.set_defaults(run=cmd_demo)


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    return run_demo(console, source_people=args.people, json_output=args.json, target=args.target)


STARTERS: dict[str, Callable[[int, int], DemoDirectory]] = {"moco": _moco, "whosoff": _whosoff}


def start_directory(vendor: str, first: int, count: int) -> DemoDirectory:
    """A sandbox of `vendor` holding sample people first..first+count-1, with its adapter connected."""
    return STARTERS[vendor](first, count)


def change_phones(target: Adapter, numbers: list[int]) -> list[str]:
    """Gives a few target people a different work phone, so the plan has updates to show."""
    wanted = {sample_person(n).email.casefold(): n for n in numbers}
    changed = []
    for person in target.list():
        number = wanted.get((person.email or "").casefold())
        if number is not None and person.id is not None:
            target.update(person.id, {"work_phone": f"+49 30 555 {number:04d}"})
            changed.append(person.label)
    return changed


def run_demo(console: Console, source_people: int = 60, json_output: bool = False, target: str | None = None) -> int:
    """Runs the demo, printing through `console`; returns the exit code."""
    from staffbridge.jobs.migration.run import migrate

    started = time.monotonic()
    overlap_start = max(0, source_people * 2 // 3)  # 60 people: the target holds 40..79
    vendor = target or (DEFAULT_TARGET if DEFAULT_TARGET in available() else "moco")
    directories: list[DemoDirectory] = []
    bar = console.progress()
    try:
        source = start_directory("moco", 0, source_people)
        directories.append(source)
        console.secrets.extend(source.secrets)
        goal = start_directory(vendor, overlap_start, source_people * 2 // 3)
        directories.append(goal)
        console.secrets.extend(goal.secrets)
        say = (lambda text: None) if json_output else console.out
        say(f"Source: MOCO sandbox at {source.sandbox.url} with sample people 0..{source_people - 1}")
        say(
            f"Target: {vendor} sandbox at {goal.sandbox.url} with sample people "
            f"{overlap_start}..{overlap_start + source_people * 2 // 3 - 1}"
            + (" (a second MOCO)" if vendor == "moco" else "")
        )
        overlap = [n for n in range(overlap_start, source_people) if sample_person(n).active]
        changed = change_phones(goal.adapter, overlap[:: max(1, len(overlap) // CHANGED)][:CHANGED])
        say(f"Changed the work phone of {len(changed)} people in the target, so there is something to update.\n")

        first = _plan(migrate, source, goal, bar)
        if not json_output:
            show_plan(console, first)
            console.out("\nApplying ...")
        report = first.apply()
        bar.close()
        if not json_output:
            show_report(console, report)
            console.out("\nPlanning again: everything should be in place now.")
        second = _plan(migrate, source, goal, bar)
        if not json_output:
            show_plan(console, second)
        left = sum(second.summary()[k] for k in ("create", "update", "delete"))
        seconds = round(time.monotonic() - started, 1)
        summary = {
            "source": "moco",
            "target": vendor,
            "first_plan": first.summary(),
            "applied": report.totals,
            "ok": report.ok,
            "second_plan": second.summary(),
            "left_to_do": left,
            "seconds": seconds,
        }
        if json_output:
            console.json(summary)
        else:
            plan = first.summary()
            console.out(
                f"\nDemo done in {seconds} s: {report.totals.get('create', 0)} created, "
                f"{report.totals.get('update', 0)} updated, {plan['unchanged']} already in place, "
                f"{report.totals.get('failed', 0)} failed; the second run found "
                f"{left} change{'s' if left != 1 else ''} to make."
            )
            console.out(
                "Next: put your own systems in staffbridge.toml and run "
                "`staffbridge migrate SOURCE TARGET` (add --apply when the plan looks right)."
            )
        return 0 if report.ok and left == 0 else 1
    finally:
        bar.close()
        for directory in reversed(directories):
            directory.stop()


def _plan(migrate: Any, source: DemoDirectory, target: DemoDirectory, bar: Any) -> Any:
    try:
        return migrate(source.adapter, target.adapter, progress=bar, workers=4)
    finally:
        bar.close()
