"""The benchmark suite: one command, one table.

    python tests/bench/run.py [--people 10000] [--memory 1000,100000] [--translate 100000]
                        [--migrate 10000] [--windows 1:200,5:200,60:80,120:40] [--workers 8] [--rounds 7]
                        [--startup-runs 10] [--only list,memory,translate,write,migrate,startup]

What it measures (every sandbox runs in a child process, so only the client is measured; its records
are realistic: every field the vendor's mapping reads is filled, see realistic.py). Each row of the
table carries its goal (issue 12) and whether it is met. Benchmarks only: no test asserts a time.
- list: listing N people per adapter (MOCO, WhosOff, field-service) against a plain `requests` loop
  over the same endpoints (HTTP + JSON only, no mapping: the floor), and for MOCO against the
  moco-wrapper package (`pip install -e '.[bench]'`) on the same sandbox; best of --rounds.
- memory: peak Python memory (tracemalloc) listing 1,000 vs 100,000 people, per adapter and per
  field-service pagination setting (one answer, page, skip), and for a csv and a jsonl file of them.
- translate: vendor records -> Person, against a hand-written dict translation of the same fields.
- write: Persons read from every vendor -> each vendor's create body (what Adapter.create sends,
  built without HTTP), against hand-written writers giving the same bodies (write_by_hand.py).
- migrate: per budget in --windows (WINDOW:RATE), a MOCO -> WhosOff migration of --migrate people, the
  WhosOff sandbox answering 429 beyond RATE * WINDOW requests in any sliding WINDOW seconds and the
  adapter given the same budget: utilisation (the least time the budget allows / wall time), 429s
  seen, requests per migrated person beyond the pages read, and those requests against the least any
  correct run must send (a create per new person, and a request per matched person whose listed record
  differs: a write, or a read where the listing hides the field; worked out on a twin of the target);
  then a second run with nothing changed (writes, and requests against one listing of each side).
  (tests/bench/bench_migrate.py prints more.)
  The same for a CSV file of those people -> field-service, per budget in --csv-windows.
- startup: `staffbridge --version` and `staffbridge adapters` (warm and cold cache) against `python -c pass`
  (median; tests/bench/startup.py prints the same on its own).

The default run takes about twenty-two minutes (the 60 s and 120 s budgets need minutes to show);
smaller sizes (e.g. --people 2000 --memory 1000,20000 --migrate 2000 --windows 1:200 --csv-windows 1:100)
take about two.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import json
import logging
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_migrate import ROLE_MAP, writes_seen  # noqa: E402
from bench_moco import hand_written as moco_by_hand  # noqa: E402
from sandbox_process import sandbox_process as serve  # noqa: E402
from sandbox_process import serve as serve_with_root  # noqa: E402
from startup import measure as measure_startup  # noqa: E402
from write_by_hand import fieldservice as fieldservice_body_by_hand  # noqa: E402
from write_by_hand import moco as moco_body_by_hand  # noqa: E402
from write_by_hand import whosoff as whosoff_body_by_hand  # noqa: E402

import staffbridge  # noqa: E402
from staffbridge.adapters.files import write_csv, write_jsonl  # noqa: E402

KEY = "sandbox-key"
WHOSOFF = dict(
    app_id="sandbox-app",
    client_secret="sandbox-client-secret",
    username="admin@example.com",
    password="sandbox-password",
)
UNLIMITED = dict(rate_limit=1_000_000, rate_period=1.0)


class Table:
    """The one table printed at the end: measure, staffbridge, baseline, goal, met."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, measure: str, ours: str, baseline: str = "", goal: str = "", met: bool | None = None) -> None:
        verdict = "" if met is None else ("met" if met else "NOT met")
        self.rows.append((measure, ours, baseline, goal, verdict))
        shown = " | ".join(part for part in (ours, baseline, goal, verdict) if part)
        print(f"  {measure}: {shown}", file=sys.stderr, flush=True)

    def render(self) -> str:
        head = ("measure", "staffbridge", "baseline", "goal", "met")
        widths = [max(len(row[i]) for row in [head, *self.rows]) for i in range(5)]
        line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
        out = [line, "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |", line]
        out += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in self.rows]
        return "\n".join([*out, line])


# ---------------------------------------------------------------------------------------------- clients


def connect(vendor: str, url: str, **extra: Any) -> Any:
    if vendor == "moco":
        return staffbridge.connect("moco", base_url=url, api_key=KEY, **UNLIMITED, **extra)
    if vendor == "whosoff":
        return staffbridge.connect("whosoff", base_url=url, **WHOSOFF, **extra)
    return staffbridge.connect("fieldservice", base_url=url, api_key=KEY, **extra)


def ours(vendor: str, url: str, **extra: Any) -> tuple[int, int]:
    """(people, requests) listing everybody with staffbridge."""
    adapter = connect(vendor, url, **extra)
    filters = {"include_archived": True} if vendor == "moco" else {}
    count = sum(1 for _ in adapter.list(**filters))
    adapter.close()
    return count, adapter.transport.requests_sent


def plain(vendor: str, url: str) -> tuple[int, int]:
    """(people, requests) with a bare requests.Session over the same endpoints: HTTP and JSON only."""
    session = requests.Session()
    if vendor == "moco":
        session.headers["Authorization"] = f"Token token={KEY}"
        next_url, params, count, calls = f"{url}/users", {"include_archived": "true"}, 0, 0
        while next_url:
            response = session.get(next_url, params=params)
            calls += 1
            count += len(response.json())
            next_url, params = response.links.get("next", {}).get("url"), None
        return count, calls
    if vendor == "whosoff":
        nonce = secrets.token_hex(16)
        digest = hashlib.sha512((nonce + WHOSOFF["client_secret"]).encode()).hexdigest()
        session.headers["app-id"] = WHOSOFF["app_id"]
        answer = session.post(
            f"{url}/v4/authenticate/with-credentials",
            json={
                "username": WHOSOFF["username"],
                "password": WHOSOFF["password"],
                "ip_address": "",
                "nonce": nonce,
                "secret": digest,
                "app_id": WHOSOFF["app_id"],
                "delay": False,
            },
        ).json()
        session.headers["Authorization"] = f"Bearer {answer['Data']['token']['access_token']}"
        data = session.post(
            f"{url}/v4/user/retrieve", json={"map_type_id": "0", "map_id": "0", "status_id": "99"}
        ).json()["Data"]
        return len(data), 2
    session.headers["x-API-Key"] = KEY
    return len(session.get(f"{url}/v2/users/").json()), 1


def moco_wrapper_loop(url: str) -> tuple[int, int] | None:
    """(people, requests) with the moco-wrapper package, pointed at the sandbox; None if not installed."""
    try:
        import moco_wrapper
    except ImportError:
        return None

    class Sandboxed(moco_wrapper.Moco):
        @property
        def full_domain(self) -> str:  # the package builds https://{domain}.mocoapp.com/api/v1
            return url

    moco = Sandboxed(auth={"api_key": KEY, "domain": "bench"})
    # its docs' for-loop over last_page (from X-Total): its `is_last` looks for a rel="last" link,
    # which MOCO does not send (only rel="next"), so a while-not-is_last loop stops after page 1
    first = moco.User.getlist(include_archived=True)
    count = len(first.items)
    for number in range(2, first.last_page + 1):
        count += len(moco.User.getlist(include_archived=True, page=number).items)
    return count, max(first.last_page, 1)


def best(*runs: Callable[[], tuple[int, int] | None], rounds: int) -> list[tuple[float, int, int] | None]:
    """(seconds, people, requests) of each run: the fastest of `rounds` timed runs after one warm-up.
    The runs take turns, round by round, so a load on the machine meanwhile weighs on each alike."""
    live = [run for run in runs if run() is not None]
    results: dict[Any, list[tuple[float, int, int]]] = {run: [] for run in live}
    for _ in range(rounds):
        for run in live:
            started = time.perf_counter()
            count, calls = run()  # type: ignore[misc]
            results[run].append((time.perf_counter() - started, count, calls))
    return [min(results[run]) if run in results else None for run in runs]


# ---------------------------------------------------------------------------------------------- measures


LIST_GOALS = {"moco": 1.2, "whosoff": 1.3, "fieldservice": 1.3}


def listing(table: Table, people: int, rounds: int) -> None:
    for vendor in ("moco", "whosoff", "fieldservice"):
        with serve(vendor, people) as url:
            runs = [lambda vendor=vendor, url=url: ours(vendor, url), lambda vendor=vendor, url=url: plain(vendor, url)]
            if vendor == "moco":
                runs.append(lambda url=url: moco_wrapper_loop(url))
            mine, floor, *others = best(*runs, rounds=rounds)
            wrapper = others[0] if others else None
        assert mine and floor
        seconds, count, calls = mine
        ratio, goal = seconds / floor[0], LIST_GOALS[vendor]
        table.add(
            f"list {count:,} {vendor} people vs a plain requests loop",
            f"{seconds:.2f} s ({count / seconds:,.0f}/s), {calls} requests",
            f"plain: {floor[0]:.2f} s, {floor[2]} requests",
            f"{ratio:.2f}x; goal <= {goal:g}x",
            ratio <= goal,
        )
        if vendor == "moco":
            if wrapper is None:
                table.add("  vs moco-wrapper", "", "not installed (pip install -e '.[bench]')")
            else:
                table.add(
                    "  vs moco-wrapper",
                    f"{seconds:.2f} s",
                    f"moco-wrapper: {wrapper[0]:.2f} s ({wrapper[1]:,} people, {wrapper[2]} requests)",
                    f"{wrapper[0] / seconds:.2f}x faster; goal: faster",
                    wrapper[0] > seconds,
                )


MEMORY_SETTINGS: list[tuple[str, str, dict[str, Any]]] = [
    ("moco", "", {}),
    ("whosoff", "", {}),
    ("fieldservice", "one answer", {"pagination": "none"}),
    ("fieldservice", "paged", {"pagination": "page", "page_size": 100}),
    ("fieldservice", "skip", {"pagination": "skip", "page_size": 100}),
]
FLAT_MB = 2.0  # the bound for field-service paged at 100,000, held for every setting


FILE_WRITERS = {"csv": write_csv, "jsonl": write_jsonl}  # the file adapters, listing a file their writer made


def peak_memory(vendor: str, people: int, setting: dict[str, Any]) -> float:
    """Peak MB traced (tracemalloc) while listing `people`, the sandbox and the adapter both set to `setting`."""
    with serve(vendor, people, **setting) as url:
        adapter = connect(vendor, url, **setting)
        filters = {"include_archived": True} if vendor == "moco" else {}
        return traced_listing(adapter, people, **filters)


def peak_memory_file(vendor: str, people: int) -> float:
    """Peak MB traced while listing a `vendor` file of `people` realistic MOCO people; the file is
    written beforehand, outside the traced part."""
    with serve("moco", people) as url, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"staff.{vendor}"
        with open(path, "w", encoding="utf-8", newline="") as out:
            FILE_WRITERS[vendor](connect("moco", url).list(include_archived=True), out)
        return traced_listing(staffbridge.connect(vendor, path=path), people)


def traced_listing(adapter: Any, people: int, **filters: Any) -> float:
    gc.collect()
    tracemalloc.start()
    count = sum(1 for _ in adapter.list(**filters))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if count < people:
        raise RuntimeError(f"{adapter.name}: listed {count} of {people}")
    return peak / 1e6


def memory(table: Table, sizes: list[int]) -> None:
    measures = [
        (vendor, label, partial(peak_memory, vendor, setting=setting)) for vendor, label, setting in MEMORY_SETTINGS
    ]
    measures += [(vendor, "file", partial(peak_memory_file, vendor)) for vendor in FILE_WRITERS]
    for vendor, label, measure in measures:
        peaks = [measure(people=size) for size in sizes]
        table.add(
            f"peak memory listing {vendor}{f' ({label})' if label else ''}",
            " -> ".join(f"{peak:.1f} MB" for peak in peaks),
            " -> ".join(f"{size:,}" for size in sizes) + " people",
            f"flat: <= {FLAT_MB:g} MB at {sizes[-1]:,}",
            peaks[-1] <= FLAT_MB,
        )


USER_TYPES = {
    "100": "staff",
    "200": "approver",
    "210": "approver plus add",
    "220": "approver plus add edit cancel",
    "300": "super user",
    "310": "super user with staff hub",
}


def whosoff_by_hand(record: dict) -> dict:
    """The fields mappings/whosoff.toml reads, written out by hand."""

    def date(value: Any) -> dt.date | None:
        return dt.date.fromisoformat(value[:10]) if value else None

    approver = record.get("approver_id")
    return {
        "id": str(record["user_id"]),
        "first_name": record.get("first_name") or None,
        "middle_name": record.get("middle_name") or None,
        "last_name": record.get("last_name") or None,
        "title": record.get("title") or None,
        "employee_number": record.get("staff_code") or None,
        "email": record.get("email_contact") or None,
        "work_phone": record.get("work_telephone") or None,
        "mobile_phone": record.get("mobile_telephone") or None,
        "username": record.get("active_directory_username") or None,
        "active": record.get("status_id") == "1",
        "manager_id": str(approver) if approver not in (None, 0, "0") else None,
        "employment_start": date(record.get("employment_started_date")),
        "employment_end": date(record.get("employment_ended_date")),
        "avatar_url": record.get("image_url_large"),
        "department": (str(record.get("department_id")), record.get("department_name")),
        "role": USER_TYPES.get(str(record.get("user_type_id"))),
    }


def fieldservice_by_hand(record: dict) -> dict:
    general, access, contract = record.get("general") or {}, record.get("access") or {}, record.get("contract") or {}
    contact, status = record.get("contact") or {}, record.get("status") or {}
    birth = general.get("birthDate")

    def date(stamp: str | None) -> dt.date | None:
        return dt.date.fromisoformat(stamp[:10]) if stamp else None

    def moment(stamp: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None

    return {
        "id": record["_id"],
        "first_name": general.get("firstName"),
        "last_name": general.get("lastName"),
        "birthday": dt.datetime.strptime(birth, "%d.%m.%Y").date() if birth else None,
        "language": general.get("language"),
        "notes": general.get("description"),
        "email": access.get("email"),
        "username": str(record["id"]) if record.get("id") is not None else None,
        "work_phone": contact.get("telephone"),
        "mobile_phone": contact.get("mobile"),
        "avatar_url": general.get("profileImage"),
        "gender": general.get("sex"),
        "employment_start": date(contract.get("startDate")),
        "employment_end": date(contract.get("endDate")),
        "department": contract.get("department"),
        "role": record.get("accessGroupId"),
        "address": dict(record.get("address") or {}),
        "tags": list(record.get("tags") or []),
        "employee_number": str(record.get("number")),
        "created_at": moment(status.get("createdAt")),
        "updated_at": moment(status.get("lastModifiedAt")),
    }


def vendor_records(vendor: str, count: int) -> list[dict]:
    """`count` records as the vendor's list answer holds them (read once from a sandbox)."""
    with serve(vendor, min(count, 20_000)) as url:
        adapter = connect(vendor, url)
        captured: list[bytes] = []
        adapter.transport.session.hooks["response"].append(lambda r, *a, **k: captured.append(r.content))
        list(adapter.list(**({"include_archived": True} if vendor == "moco" else {})))
    records: list[dict] = []
    for body in captured:
        data = json.loads(body)
        data = data.get("Data") if isinstance(data, dict) else data
        if isinstance(data, list) and data and isinstance(data[0], dict) and "token" not in data[0]:
            records.extend(data)
    return (records * (count // len(records) + 1))[:count]


TRANSLATE_GOAL = 2.0


def side_by_side(by_hand: Callable[[Any], Any], ours: Callable[[Any], Any], items: list[Any]) -> tuple[float, float]:
    """Seconds of the fastest of three passes of each over `items`, taking turns: a busy machine
    slows one pass, not the comparison."""
    hand = mine = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for item in items:
            by_hand(item)
        hand = min(hand, time.perf_counter() - started)
        started = time.perf_counter()
        for item in items:
            ours(item)
        mine = min(mine, time.perf_counter() - started)
    return hand, mine


def translation(table: Table, count: int) -> None:
    for vendor, by_hand in (
        ("moco", moco_by_hand),
        ("whosoff", whosoff_by_hand),
        ("fieldservice", fieldservice_by_hand),
    ):
        records = vendor_records(vendor, count)
        adapter = connect(vendor, "http://127.0.0.1:9")
        hand, mine = side_by_side(by_hand, adapter.to_person, records)
        table.add(
            f"translate {count:,} {vendor} records vs hand-written code",
            f"{count / mine:,.0f} records/s",
            f"hand-written: {count / hand:,.0f} records/s",
            f"{mine / hand:.2f}x; goal <= {TRANSLATE_GOAL:g}x",
            mine / hand <= TRANSLATE_GOAL,
        )


WRITE_GOAL = 2.0
WRITERS = {"moco": moco_body_by_hand, "whosoff": whosoff_body_by_hand, "fieldservice": fieldservice_body_by_hand}


def prepared_people(target: str, records: dict[str, list[dict]]) -> list[Any]:
    """The Persons read from every source's `records`, prepared for a create in `target` as
    Adapter.create prepares them (checked, departments and roles resolved against the target's
    sandbox); a role the target does not know is left out, as a user would map or drop it."""
    from staffbridge import MissingReference

    logging.disable(logging.WARNING)  # one "not sent" warning per person (a text address, a foreign id)
    try:
        with serve(target, 100) as url:
            adapter = connect(target, url)
            people = []
            for source, their_records in records.items():
                reader = connect(source, "http://127.0.0.1:9")
                for record in their_records:
                    person = reader.to_person(record)
                    try:
                        people.append(adapter.prepare(person))
                    except MissingReference:
                        people.append(adapter.prepare(person.replace(role=None)))
    finally:
        logging.disable(logging.NOTSET)
    return people


def writing(table: Table, count: int) -> None:
    """Persons -> the body a create sends (Adapter.create_body, no HTTP), against a hand-written
    writer giving the same body (checked for every person first)."""
    sources = ("moco", "whosoff", "fieldservice")
    records = {source: vendor_records(source, min(count, 6_000) // len(sources)) for source in sources}
    for vendor, by_hand in WRITERS.items():
        adapter = connect(vendor, "http://127.0.0.1:9")
        distinct = prepared_people(vendor, records)
        for person in distinct:
            if adapter.create_body(person) != by_hand(person):
                raise AssertionError(f"{vendor}: {person.label}: {adapter.create_body(person)} != {by_hand(person)}")
        people = (distinct * (count // len(distinct) + 1))[:count]
        hand, mine = side_by_side(by_hand, adapter.create_body, people)
        table.add(
            f"translate {count:,} people to {vendor} records vs hand-written code",
            f"{count / mine:,.0f} people/s ({1e6 * mine / count:.1f} us each)",
            f"hand-written: {count / hand:,.0f} people/s",
            f"{mine / hand:.2f}x; goal <= {WRITE_GOAL:g}x",
            mine / hand <= WRITE_GOAL,
        )


UTILISATION_GOAL = 0.95
REQUESTS_PER_PERSON_GOAL = 1.01


class Counting:
    """Counts the answers an adapter's session gets, and the 429s among them."""

    def __init__(self, adapter: Any) -> None:
        self.answers = self.refused = 0
        adapter.transport.session.hooks["response"].append(self.seen)

    def seen(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.answers += 1
        self.refused += response.status_code == 429


def one_listing(vendor: str, url: str, **extra: Any) -> int:
    """Requests one whole listing of `vendor` takes (what "reads each side once" allows); answers
    refused with 429 (the window may still be full) are not counted."""
    adapter = connect(vendor, url, **extra)
    counted = Counting(adapter)
    sum(1 for _ in adapter.list(**({"include_archived": True} if vendor == "moco" else {})))
    return counted.answers - counted.refused


@dataclass(frozen=True)
class Route:
    """A migration the benchmark runs: from a source (a sandbox, or a CSV file written from one) into
    a target sandbox that counts its budget exactly."""

    source: str  # "moco", or "csv": realistic MOCO people written to a CSV file first
    target: str
    mapping: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        names = {"moco": "MOCO", "whosoff": "WhosOff", "fieldservice": "field-service", "csv": "CSV"}
        return f"{names[self.source]} -> {names[self.target]}"


ROUTES = {"moco-whosoff": Route("moco", "whosoff", ROLE_MAP), "csv-fieldservice": Route("csv", "fieldservice")}


@contextmanager
def migration_source(route: Route, people: int, folder: str) -> Iterator[tuple[str, str | None]]:
    """(where the source is, its sandbox's root or None): a sandbox, or a CSV file of the same people."""
    with serve_with_root("moco", people) as (url, root):
        if route.source == "moco":
            yield url, root
            return
        path = str(Path(folder) / "staff.csv")
        with open(path, "w", encoding="utf-8", newline="") as out:
            write_csv(list(connect("moco", url).list(include_archived=True)), out)
    yield path, None


def source_adapter_for(route: Route, where: str) -> Any:
    return staffbridge.connect("csv", path=where) if route.source == "csv" else connect(route.source, where)


def least_beyond_pages(route: Route, source: str, overlap: int) -> tuple[int, int]:
    """(creates, checks): the least any correct first run of `route` must send beyond the pages. A
    create for each source person the target lacks; at least one request (an update's write, or a
    read where the target's listing does not show a field, as WhosOff's has no phones) for each
    matched person whose translation differs from the target's listed record. Worked out on a twin of
    the target (the same sample people, no budget to spend), not from the plan."""
    from staffbridge.jobs.migration.run import with_mapping
    from staffbridge.jobs.migration.translate import Translator
    from staffbridge.jobs.sync.read import list_everyone

    with serve(route.target, overlap) as twin:
        translator = Translator(with_mapping(connect(route.target, twin), route.mapping))
        listed = {(p.email or "").lower(): p for p in list_everyone(translator.target)}
        translator.learn_refs(listed.values())
        creates = checks = 0
        for person in list_everyone(source_adapter_for(route, source)):
            current = listed.get((person.email or "").lower())
            if current is None:
                creates += 1
            else:
                checks += bool(translator.changes(current, translator.carry(person).wanted))
    return creates, checks


def requests_of(adapter: Any) -> int:
    transport = getattr(adapter, "transport", None)
    return transport.requests_sent if transport is not None else 0  # a file is read without requests


def migration(
    table: Table, people: int, windows: list[tuple[float, float]], workers: int, route: Route = ROUTES["moco-whosoff"]
) -> None:
    """For each (window, rate): migrate `people` along `route`, the target sandbox counting exactly
    (429 beyond rate * window requests in any sliding window) and the adapter given the same limit;
    then a second run with nothing changed."""
    for window, rate in windows:
        limit = int(rate * window)
        overlap = max(people // 20, 10)  # some people already in the target, so there are matches too
        with (
            tempfile.TemporaryDirectory() as folder,
            migration_source(route, people, folder) as (source, source_root),
            serve_with_root(route.target, overlap, rate_limit=limit, rate_window=window) as target,
        ):
            journal = str(Path(folder) / "journal.sqlite")
            where = f"{limit:,} per {window:g} s"
            least_creates, least_checks = least_beyond_pages(route, source, overlap)
            for label in ("first run", "second run"):
                source_adapter = source_adapter_for(route, source)
                target_adapter = connect(route.target, target[0], rate_limit=limit, rate_period=window)
                counted = Counting(target_adapter)
                before = writes_seen(target[1])
                started = time.perf_counter()
                plan = staffbridge.migrate(
                    source_adapter, target_adapter, mapping=route.mapping, journal=journal, workers=workers
                )
                report = plan.apply()
                wall = time.perf_counter() - started
                sent = target_adapter.transport.requests_sent
                # under "at most L per W seconds" request k (from 0) cannot go before floor(k / L) * W
                least = ((sent - 1) // limit) * window if sent else 0.0
                migrated = report.totals["create"] + report.totals["update"]
                writes = writes_seen(target[1]) - before
                if label == "first run":
                    used = least / wall
                    table.add(
                        f"migrate {people:,} {route.title}, budget {where}: utilisation",
                        f"{100 * used:.1f}% ({wall:.1f} s, {sent:,} requests, {counted.refused} x 429, "
                        f"{report.totals['failed']} failed)",
                        f"least time the budget allows: {least:.0f} s",
                        f"goal >= {100 * UTILISATION_GOAL:.0f}%, no 429",
                        used >= UTILISATION_GOAL and counted.refused == 0,
                    )
                    pages = one_listing(route.target, target[0], rate_limit=limit, rate_period=window)
                    per_person = (sent - pages) / migrated if migrated else 0.0
                    least = least_creates + least_checks
                    least_per_person = least / migrated if migrated else 0.0
                    table.add(
                        "  requests per migrated person beyond the pages read",
                        # what is neither a page nor a write is a full read of one record: a matched person
                        # whose change touches a field the target's listing does not show (WhosOff: phones)
                        f"{per_person:.3f} ({migrated:,} migrated, {writes:,} writes, "
                        f"{sent - pages - writes:,} full reads of matched records)",
                        f"pages: {pages}; least possible: {least_per_person:.3f}",
                        f"goal <= {REQUESTS_PER_PERSON_GOAL}"
                        + ("; below the least possible" if least_per_person > REQUESTS_PER_PERSON_GOAL else ""),
                        per_person <= REQUESTS_PER_PERSON_GOAL,
                    )
                    table.add(
                        "  requests beyond the pages vs the least a correct run needs",
                        f"{sent - pages:,} sent",
                        f"least: {least:,} ({least_creates:,} creates, and {least_checks:,} matched people "
                        "whose listed record differs, a write or a read each)",
                        "goal: no request it does not need",
                        sent - pages <= least,
                    )
                    time.sleep(window)  # a new process would find the window full: start the second one clear
                else:
                    source_pages = one_listing(route.source, source) if source_root else 0
                    target_pages = one_listing(route.target, target[0], rate_limit=limit, rate_period=window)
                    source_sent = requests_of(source_adapter)
                    table.add(
                        "  second run (nothing changed)",
                        f"{writes} writes; {source_sent} source, {sent} target requests ({wall:.1f} s)",
                        f"one listing: {source_pages} source, {target_pages} target requests",
                        "goal: 0 writes, each side read once",
                        writes == 0 and source_sent <= source_pages and sent <= target_pages,
                    )


def startup(table: Table, runs: int) -> None:
    for what, took, ratio, goal in measure_startup(runs):
        if what == "python -c pass":
            floor = took
            continue
        table.add(
            f"start-up: {what}",
            f"{took:.0f} ms",
            f"python -c pass: {floor:.0f} ms",
            f"{ratio:.1f}x" + (f"; goal <= {goal:g}x" if goal else ""),
            ratio <= goal if goal else None,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000, help="people listed per adapter (default 10000)")
    parser.add_argument("--memory", default="1000,100000", help="list sizes for peak memory (default 1000,100000)")
    parser.add_argument("--translate", type=int, default=100_000, help="records translated (default 100000)")
    parser.add_argument("--migrate", type=int, default=10_000, help="people migrated (default 10000)")
    parser.add_argument(
        "--windows",
        default="1:200,5:200,60:80,120:40",
        help="the target's budgets as WINDOW:RATE (seconds, requests a second), comma-separated; each long enough "
        "for a migration to span two windows or more (default 1:200,5:200,60:80,120:40)",
    )
    parser.add_argument(
        "--csv-windows",
        default="1:100,5:50",
        help="the field-service target's budgets for the CSV -> field-service migration (default 1:100,5:50)",
    )
    parser.add_argument("--workers", type=int, default=8, help="migration writer threads (default 8)")
    parser.add_argument("--rounds", type=int, default=7, help="timed list runs, the best counts (default 7)")
    parser.add_argument("--startup-runs", type=int, default=10, help="start-up timings, median (default 10)")
    parser.add_argument(
        "--only",
        default="list,memory,translate,write,migrate,startup",
        help="which parts, comma-separated (default all)",
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
    table = Table()
    started = time.perf_counter()
    print("staffbridge benchmarks (sandboxes in child processes); figures as they come:", file=sys.stderr)
    if "list" in parts:
        listing(table, args.people, args.rounds)
    if "memory" in parts:
        memory(table, [int(size) for size in args.memory.split(",")])
    if "translate" in parts:
        translation(table, args.translate)
    if "write" in parts:
        writing(table, args.translate)
    if "migrate" in parts:
        windows = [(float(w), float(r)) for w, r in (part.split(":") for part in args.windows.split(","))]
        migration(table, args.migrate, windows, args.workers)
        csv_windows = [(float(w), float(r)) for w, r in (part.split(":") for part in args.csv_windows.split(","))]
        migration(table, args.migrate, csv_windows, args.workers, ROUTES["csv-fieldservice"])
    if "startup" in parts:
        startup(table, args.startup_runs)
    print(table.render())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
