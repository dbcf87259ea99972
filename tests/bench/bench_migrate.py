"""Migration benchmark: N people from the MOCO sandbox into the WhosOff sandbox at a fixed rate.

    python tests/bench/bench_migrate.py [--people 10000] [--rate 50] [--window 10] [--workers 8]
                                  [--overlap 500] [--target whosoff|moco]

The target sandbox answers 429 beyond `rate` requests a second (a sliding window of `window`
seconds) and the target adapter is given the same limit. Prints, for a first run and a second run
with nothing changed: wall time, requests sent to the target, the least time the rate limit allows
for them (under "at most L per window", request k cannot go before floor(k / L) windows),
utilisation (that least time / wall time), requests per migrated person, and the writes the target
saw. The second run starts one window after the first, as a later rerun would. No asserts.

Both sandboxes run in child processes, so the client's time is not shared with theirs. `--overlap`
people already exist in the target (person n is the same person in every sandbox), so the first run
has matches as well as creates.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

import staffbridge

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sandbox_process import serve

WHOSOFF = dict(
    app_id="sandbox-app",
    client_secret="sandbox-client-secret",
    username="admin@example.com",
    password="sandbox-password",
)
READS_BY_POST = ("retrieve", "authenticate", "my-staff")
# MOCO roles named by WhosOff user types, so roles travel too (the rest stay as notes)
ROLE_MAP = {"fields": {"role": {"values": {"100": "Mitarbeiter", "200": "Teamleitung", "300": "Administrator"}}}}


def connect(vendor: str, url: str, limit: int | None, window: float) -> Any:
    rate = dict(rate_limit=limit, rate_period=window) if limit else {}
    if vendor == "whosoff":
        return staffbridge.connect("whosoff", base_url=url, **WHOSOFF, **rate)
    return staffbridge.connect(
        "moco", base_url=url, api_key="sandbox-key", **(rate or dict(rate_limit=1_000_000, rate_period=1.0))
    )


def writes_seen(root: str) -> int:
    log = requests.get(f"{root}/_sandbox/requests", timeout=60).json()
    return sum(
        1
        for method, path in log
        if method in ("PUT", "PATCH", "DELETE")
        or (method == "POST" and not any(word in path for word in READS_BY_POST))
    )


def run(label: str, source_url: str, target: tuple[str, str], args: argparse.Namespace, journal: str) -> None:
    limit = int(args.rate * args.window)
    source = connect("moco", source_url, None, 1.0)
    adapter = connect(args.target, target[0], limit, args.window)
    mapping = ROLE_MAP if args.target == "whosoff" else None
    writes_before = writes_seen(target[1])
    started = time.perf_counter()
    plan = staffbridge.migrate(source, adapter, mapping=mapping, journal=journal, workers=args.workers)
    planned = time.perf_counter() - started
    report = plan.apply()
    wall = time.perf_counter() - started
    transport = adapter.transport
    sent = transport.requests_sent
    # under "at most L per W seconds" request k (from 0) cannot go before floor(k / L) * W
    least = ((sent - 1) // limit) * args.window if sent else 0.0
    migrated = report.totals["create"] + report.totals["update"]
    summary = plan.summary()
    print(
        f"{label}: {summary['source']:,} people -> {summary['create']:,} create, {summary['update']:,} update, "
        f"{summary['unchanged']:,} unchanged, {summary['cannot_migrate'] + summary['conflict']:,} not migrated; "
        f"report ok={report.ok}, failed rows {report.totals['failed']}"
    )
    print(
        f"    wall {wall:.1f} s (plan {planned:.1f} s, apply {wall - planned:.1f} s) | target requests {sent:,}"
        f" (retries {transport.retries}) | least time at {args.rate:g} req/s: {least:.1f} s"
        f" | utilisation {100 * least / wall if wall else 0:.0f}%"
    )
    for row in report.failures[:5]:
        print(f"    failed: {row.action} {row.email or row.source_id}: {row.reason}")
    print(
        f"    requests per migrated person {sent / migrated if migrated else 0:.3f} | target writes "
        f"{writes_seen(target[1]) - writes_before:,} | rate-limiter wait summed over threads "
        f"{transport.limiter.waited:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000, help="people in the MOCO source (default 10000)")
    parser.add_argument("--rate", type=float, default=50.0, help="target requests per second (default 50)")
    parser.add_argument("--window", type=float, default=10.0, help="rate-limit window in seconds (default 10)")
    parser.add_argument("--workers", type=int, default=8, help="writer threads (default 8)")
    parser.add_argument("--overlap", type=int, default=500, help="people already in the target (default 500)")
    parser.add_argument("--target", choices=("whosoff", "moco"), default="whosoff")
    args = parser.parse_args()
    print(
        f"moco -> {args.target}: {args.people:,} people, target limited to {args.rate:g} req/s "
        f"({int(args.rate * args.window)} per {args.window:g} s, sandbox and adapter), {args.workers} workers"
    )
    with (
        tempfile.TemporaryDirectory() as folder,
        serve("moco", args.people) as source,
        serve(
            args.target, args.overlap, rate_limit=int(args.rate * args.window) or None, rate_window=args.window
        ) as target,
    ):
        journal = str(Path(folder) / "journal.sqlite")
        run("first run ", source[0], target, args, journal)
        time.sleep(args.window)  # the vendor's window forgets the first run, as it would before a rerun
        run("second run", source[0], target, args, journal)


if __name__ == "__main__":
    main()
