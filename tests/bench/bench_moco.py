"""MOCO adapter benchmark: prints figures (ratios against baselines run in the same process).

    python tests/bench/bench_moco.py [--people 10000] [--memory-people 100000] [--translate 100000]

1. Listing N users from the MOCO sandbox: requests made, wall time against a plain `requests` loop
   over the same pages (the floor any client pays for HTTP + JSON).
2. Peak Python memory (tracemalloc) listing 1,000 vs 100,000 users: streaming keeps it flat.
3. Translating MOCO records to Person: records per second against a hand-written dict translation.
The sandbox runs in a child process so its own work is not counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import time
import tracemalloc
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sandbox_process import sandbox_process

import staffbridge
from staffbridge.sandbox.moco import MocoBackend

KEY = "sandbox-key"
UNLIMITED = dict(rate_limit=1_000_000, rate_period=1.0)


def plain_loop(base_url: str) -> tuple[int, int, float]:
    """The baseline: requests.Session, follow Link, json() each page. No mapping, no checks."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token token={KEY}"
    url, params, count, calls = f"{base_url}/users", {"include_archived": "true"}, 0, 0
    started = time.perf_counter()
    while url:
        response = session.get(url, params=params)
        calls += 1
        count += len(response.json())
        url, params = response.links.get("next", {}).get("url"), None
    return count, calls, time.perf_counter() - started


def adapter_loop(base_url: str) -> tuple[int, int, float]:
    moco = staffbridge.connect("moco", base_url=base_url, api_key=KEY, **UNLIMITED)
    started = time.perf_counter()
    count = sum(1 for _ in moco.list(include_archived=True))
    return count, moco.transport.requests_sent, time.perf_counter() - started


def listing(people: int, rounds: int = 3) -> None:
    with sandbox_process("moco", people) as url:
        adapter_loop(url), plain_loop(url)  # warm both (connections, the sandbox's list cache)
        plain = min((plain_loop(url) for _ in range(rounds)), key=lambda r: r[2])
        ours = min((adapter_loop(url) for _ in range(rounds)), key=lambda r: r[2])
    print(
        f"list {people:>7,} users   staffbridge: {ours[0]:,} people, {ours[1]} requests, {ours[2]:.3f} s"
        f" | plain requests loop: {plain[1]} requests, {plain[2]:.3f} s | ratio {ours[2] / plain[2]:.2f}x"
    )


def peak_memory(people: int) -> float:
    with sandbox_process("moco", people) as url:
        moco = staffbridge.connect("moco", base_url=url, api_key=KEY, **UNLIMITED)
        gc.collect()
        tracemalloc.start()
        count = sum(1 for _ in moco.list(include_archived=True))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert count == people, (count, people)
    return peak / 1e6


def hand_written(record: dict) -> dict:
    """What a careful user would write by hand for the same fields."""
    unit, role = record.get("unit") or {}, record.get("role") or {}
    return {
        "id": str(record["id"]),
        "first_name": record.get("firstname") or None,
        "last_name": record.get("lastname") or None,
        "email": record.get("email") or None,
        "active": record.get("active"),
        "external": record.get("extern"),
        "mobile_phone": record.get("mobile_phone") or None,
        "work_phone": record.get("work_phone") or None,
        "address": record.get("home_address") or None,
        "notes": record.get("info") or None,
        "birthday": dt.date.fromisoformat(record["birthday"]) if record.get("birthday") else None,
        "iban": record.get("iban") or None,
        "avatar_url": record.get("avatar_url"),
        "tags": list(record.get("tags") or []),
        "custom_fields": dict(record.get("custom_properties") or {}),
        "department": (str(unit.get("id")), unit.get("name")),
        "role": (str(role.get("id")), role.get("name")),
        "created_at": dt.datetime.fromisoformat(record["created_at"].replace("Z", "+00:00")),
        "updated_at": dt.datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00")),
    }


def translation(count: int) -> None:
    backend = MocoBackend(count)
    records = [backend.render_user(user) for user in backend.users.values()]
    mapping = staffbridge.connect("moco", domain="bench", api_key=KEY).mapping
    started = time.perf_counter()
    for record in records:
        hand_written(record)
    by_hand = time.perf_counter() - started
    started = time.perf_counter()
    for record in records:
        mapping.to_person(record, "moco")
    ours = time.perf_counter() - started
    print(
        f"translate {count:,} MOCO records   staffbridge: {count / ours:,.0f} records/s"
        f" | hand-written dict: {count / by_hand:,.0f} records/s | ratio {ours / by_hand:.2f}x slower"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--memory-people", type=int, default=100_000)
    parser.add_argument("--translate", type=int, default=100_000)
    args = parser.parse_args()
    listing(args.people)
    small, large = peak_memory(1_000), peak_memory(args.memory_people)
    print(
        f"peak memory listing   1,000 users: {small:.1f} MB | {args.memory_people:,} users: {large:.1f} MB"
        f" | difference {large - small:+.1f} MB"
    )
    translation(args.translate)


if __name__ == "__main__":
    main()
