"""Start-up benchmark: how long the command line takes to answer, against starting Python at all.

    python tests/bench/startup.py [--runs 20]

Prints the median of --runs runs of `python -c pass`, `staffbridge --version`, `staffbridge adapters`
with a warm cache (its second run onwards) and with a cold one (a fresh, empty cache folder each run),
each with its ratio to `python -c pass` and the goal it is held to: --version within 2x, a warm
`adapters` within 3x. The cold run has no goal: it imports every adapter (requests, marshmallow,
stevedore) to fill the cache, once per installation change.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {"staffbridge --version": 2.0, "staffbridge adapters (warm cache)": 3.0}


def staffbridge_command() -> list[str]:
    script = Path(sys.executable).with_name("staffbridge")
    return [str(script)] if script.exists() else [sys.executable, "-m", "staffbridge"]


def measure(runs: int) -> list[tuple[str, float, float, float | None]]:
    """(what, median ms, ratio to `python -c pass`, goal ratio or None) per command.

    The commands take turns, one run each per round, so a machine busy for a while slows all alike."""
    command = staffbridge_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "staffbridge --version": [*command, "--version"],
        "staffbridge adapters (warm cache)": [*command, "adapters"],
        "staffbridge adapters (cold cache)": [*command, "adapters"],
    }
    times: dict[str, list[float]] = {what: [] for what in commands}
    with tempfile.TemporaryDirectory() as warm:
        subprocess.run(
            [*command, "adapters"], stdout=subprocess.DEVNULL, check=True, env={**os.environ, "XDG_CACHE_HOME": warm}
        )  # fills the warm cache
        for _ in range(runs):
            for what, argv in commands.items():
                with tempfile.TemporaryDirectory() as cold:
                    cache = cold if "cold" in what else warm
                    env = {**os.environ, "XDG_CACHE_HOME": cache}
                    started = time.perf_counter()
                    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
                    times[what].append(time.perf_counter() - started)
    floor = statistics.median(times["python -c pass"])
    return [
        (what, statistics.median(t) * 1000, statistics.median(t) / floor, GOALS.get(what)) for what, t in times.items()
    ]


def render(rows: list[tuple[str, float, float, float | None]], runs: int) -> str:
    lines = [f"{'command':<36} {'median':>9} {'ratio':>7}  goal   ({runs} runs each, median)"]
    for what, took, ratio, goal in rows:
        verdict = "" if goal is None else f"within {goal:g}x: {'met' if ratio <= goal else 'NOT met'}"
        lines.append(f"{what:<36} {took:>6.1f} ms {ratio:>6.1f}x  {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per command, the median counts (default 20)")
    args = parser.parse_args()
    print(render(measure(args.runs), args.runs))


if __name__ == "__main__":
    main()
