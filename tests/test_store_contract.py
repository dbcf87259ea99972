"""The store contract: what every backend promises for the journal, the sync cursors and the crosswalk.

Every test runs once per backend through the `store_at` fixture (open a store for a scope at one
fresh location, as often as a test likes): SQLite (a new file) and PostgreSQL (a new schema in the
test session's own database; conftest's `postgres_dsn` says where it comes from).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator

import pytest

from staffbridge import ConfigError, Person
from staffbridge.store.backends import open_store
from staffbridge.store.base import Store
from staffbridge.store.records import Mark, SystemState

BACKENDS = ["sqlite", "postgresql"]  # postgresql: skipped where no PostgreSQL runs (failed in CI)
UTC = dt.UTC

StoreAt = Callable[..., Store]


@pytest.fixture(params=BACKENDS)
def store_at(request: pytest.FixtureRequest, tmp_path) -> Iterator[StoreAt]:
    if request.param == "postgresql":  # a fresh schema of the session's database per test
        location = request.getfixturevalue("postgres_schema")
    else:
        location = str(tmp_path / "state.sqlite")
    opened: list[Store] = []

    def opener(scope: str = "default") -> Store:
        store = open_store(location, scope=scope)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


def person(n: int, **changes) -> Person:
    values = dict(
        id=str(n),
        first_name=f"First{n}",
        last_name=f"Last{n}",
        email=f"person.{n}@example.com",
        department=None,
        updated_at=dt.datetime(2024, 1, n, 8, 30, tzinfo=UTC),
    )
    values.update(changes)
    return Person(**values)


def system_state(adapter: str, *numbers: int, runs: int = 1) -> SystemState:
    moment = dt.datetime(2024, 5, 1, 10, 0, 7, tzinfo=UTC)
    return SystemState(
        adapter=adapter,
        runs=runs,
        runs_since_full=runs - 1,
        last_run=moment,
        last_full=moment,
        max_updated_at=moment - dt.timedelta(minutes=2),
        cursor=moment - dt.timedelta(minutes=7),
        people={str(n): person(n) for n in numbers},
    )


# ------------------------------------------------------------------ the migration journal


def test_a_fresh_store_is_empty(store_at: StoreAt) -> None:
    store = store_at()
    assert store.journal_entry("a->b", "1") is None
    assert (store.journal_entries("a->b"), store.journal_written("a->b"), store.journal_counts("a->b")) == ([], {}, {})
    assert (store.cursors(), store.crosswalk()) == ({}, {})


def test_journal_marks_keep_earlier_ids_and_actions_and_replace_the_reason(store_at: StoreAt) -> None:
    store = store_at()
    store.journal_mark("a->b", [Mark("s1", "creating", source_id="s1", action="create")])
    assert store.journal_entry("a->b", "s1").in_flight
    store.journal_mark("a->b", [Mark("s1", "failed", reason="timed out")])
    store.journal_mark("a->b", [Mark("s1", "done", target_id="t1")])
    entry = store.journal_entry("a->b", "s1")
    assert (entry.state, entry.source_id, entry.target_id, entry.action, entry.reason) == (
        "done",
        "s1",
        "t1",
        "create",
        None,
    )
    assert not entry.in_flight and entry.changed_at
    store.journal_mark("a->b", [Mark("s1", "updating", action="update")])
    entry = store.journal_entry("a->b", "s1")
    assert (entry.state, entry.target_id, entry.action) == ("updating", "t1", "update") and entry.in_flight


def test_journal_keeps_the_digest_only_with_done(store_at: StoreAt) -> None:
    store = store_at()
    store.journal_mark("a->b", [Mark("s1", "done", target_id="t1", digest="d1")])
    assert store.journal_written("a->b") == {"s1": ("t1", "d1")}
    store.journal_mark("a->b", [Mark("s1", "updating", digest="d2")])
    store.journal_mark("a->b", [Mark("s1", "done")])
    assert store.journal_written("a->b") == {"s1": ("t1", None)}  # the write of d2 was never confirmed


def test_journal_written_names_done_records_only_and_counts_every_state(store_at: StoreAt) -> None:
    store = store_at()
    store.journal_mark(
        "a->b",
        [
            Mark("a", "done", target_id="1", digest="x"),
            Mark("b", "creating"),
            Mark("c", "failed", reason="422"),
            Mark("d", "done", action="unchanged"),
            Mark("delete:9", "deleted", target_id="9"),
            Mark("delete:8", "done", target_id="8"),
        ],
    )
    assert store.journal_written("a->b") == {"a": ("1", "x")}
    assert store.journal_counts("a->b") == {"done": 3, "creating": 1, "failed": 1, "deleted": 1}


def test_journal_entries_come_in_the_order_keys_were_first_marked_and_pairs_do_not_mix(store_at: StoreAt) -> None:
    store = store_at()
    store.journal_mark("a->b", [Mark("z", "creating"), Mark("m", "creating")])
    store.journal_mark("a->c", [Mark("z", "failed", reason="no")])
    store.journal_mark("a->b", [Mark("a", "done", target_id="1"), Mark("z", "done", target_id="2")])
    assert [e.key for e in store.journal_entries("a->b")] == ["z", "m", "a"]
    assert [(e.key, e.state) for e in store.journal_entries("a->c")] == [("z", "failed")]
    assert store.journal_counts("a->c") == {"failed": 1}


def test_an_unknown_state_records_nothing_of_its_batch(store_at: StoreAt) -> None:
    store = store_at()
    with pytest.raises(ValueError, match="half-done"):
        store.journal_mark("a->b", [Mark("a", "done", target_id="1"), Mark("b", "half-done")])
    assert store.journal_entries("a->b") == []


# ------------------------------------------------------------------ sync cursors and crosswalk


def test_cursors_and_crosswalk_round_trip_in_the_order_saved(store_at: StoreAt) -> None:
    store = store_at()
    cursors = {
        "whosoff": system_state("whosoff", 3, 1),
        "moco": system_state("moco", 2, runs=4),
        "empty": SystemState(),
    }
    crosswalk = {
        ("whosoff", "3"): "whosoff:3",
        ("moco", "2"): "whosoff:3",
        ("moco", "id:with:colons"): "moco:x",
        ("whosoff", "1"): "Zoë ~2",
    }
    store.save_sync(cursors, crosswalk)
    assert store.cursors() == cursors
    assert list(store.cursors()) == ["whosoff", "moco", "empty"]
    assert list(store.cursors()["whosoff"].people) == ["3", "1"]
    assert store.crosswalk() == crosswalk and list(store.crosswalk()) == list(crosswalk)


def test_saving_sync_state_replaces_the_last_one_whole(store_at: StoreAt) -> None:
    store = store_at()
    store.save_sync({"a": system_state("a", 1, 2), "b": system_state("b", 3)}, {("a", "1"): "a:1", ("b", "3"): "b:3"})
    store.save_sync({"b": system_state("b", 4, runs=2)}, {("b", "4"): "b:4"})
    assert store.cursors() == {"b": system_state("b", 4, runs=2)}
    assert store.crosswalk() == {("b", "4"): "b:4"}


def test_one_link_is_set_replaced_and_removed_alone_in_its_scope(store_at: StoreAt) -> None:
    store, other = store_at(), store_at("other")
    store.save_sync({"a": system_state("a", 1)}, {("a", "1"): "a:1"})
    store.link("scim:a", "1", "ext-1")
    store.link("scim:a", "2", "ext-2")
    store.link("scim:a", "1", "ext-1b")
    other.link("scim:a", "1", "theirs")
    assert store.crosswalk() == {("a", "1"): "a:1", ("scim:a", "1"): "ext-1b", ("scim:a", "2"): "ext-2"}
    store.link("scim:a", "2", None)
    store.link("scim:a", "9", None)  # nothing there: harmless
    assert store.crosswalk() == {("a", "1"): "a:1", ("scim:a", "1"): "ext-1b"}
    assert other.crosswalk() == {("scim:a", "1"): "theirs"}
    assert store.cursors() == {"a": system_state("a", 1)}


def test_the_journal_and_the_sync_state_leave_each_other_alone(store_at: StoreAt) -> None:
    store = store_at()
    store.journal_mark("a->b", [Mark("1", "done", target_id="9")])
    store.save_sync({"a": system_state("a", 1)}, {("a", "1"): "a:1"})
    store.save_sync({}, {})
    assert store.journal_written("a->b") == {"1": ("9", None)}
    store.save_sync({"a": system_state("a", 1)}, {("a", "1"): "a:1"})
    store.journal_mark("a->b", [Mark("2", "done", target_id="8")])
    assert store.cursors() == {"a": system_state("a", 1)} and store.crosswalk() == {("a", "1"): "a:1"}


# ------------------------------------------------------------------ lifetime, scopes, threads


def test_everything_is_there_again_after_reopening(store_at: StoreAt) -> None:
    store = store_at()
    store.journal_mark("a->b", [Mark("1", "creating", source_id="1", action="create")])
    store.save_sync({"a": system_state("a", 1, 2)}, {("a", "1"): "a:1"})
    store.close()
    store.close()  # harmless
    again = store_at()
    assert again.journal_entry("a->b", "1").in_flight
    assert again.cursors() == {"a": system_state("a", 1, 2)} and again.crosswalk() == {("a", "1"): "a:1"}


def test_scopes_never_see_each_others_rows(store_at: StoreAt) -> None:
    acme, globex = store_at("acme"), store_at("globex")
    acme.journal_mark("a->b", [Mark("1", "done", target_id="acme-1", digest="d")])
    globex.journal_mark("a->b", [Mark("1", "creating"), Mark("2", "failed", reason="no")])
    acme.save_sync({"a": system_state("a", 1)}, {("a", "1"): "acme"})
    globex.save_sync({"a": system_state("a", 2, 3)}, {("a", "2"): "globex"})
    assert acme.journal_written("a->b") == {"1": ("acme-1", "d")} and globex.journal_written("a->b") == {}
    assert acme.journal_counts("a->b") == {"done": 1}
    assert globex.journal_counts("a->b") == {"creating": 1, "failed": 1}
    assert [e.key for e in globex.journal_entries("a->b")] == ["1", "2"]
    assert acme.cursors() == {"a": system_state("a", 1)} and acme.crosswalk() == {("a", "1"): "acme"}
    globex.save_sync({}, {})  # replacing one scope's state leaves the other's
    assert acme.cursors() == {"a": system_state("a", 1)} and acme.crosswalk() == {("a", "1"): "acme"}
    assert store_at().journal_entries("a->b") == [] and store_at().cursors() == {}
    assert store_at("acme").journal_entry("a->b", "1").target_id == "acme-1"


def test_a_scope_is_a_name(store_at: StoreAt) -> None:
    for scope in ("", None, 7):
        with pytest.raises(ConfigError, match="scope"):
            store_at(scope)


def test_worker_threads_share_one_store(store_at: StoreAt) -> None:
    store = store_at()
    run_threads(8, lambda worker: write_keys(store, worker, 50))
    assert store.journal_counts("a->b") == {"done": 400}
    assert len(store.journal_written("a->b")) == 400


def test_stores_opened_apart_on_one_location_write_at_once(store_at: StoreAt) -> None:
    """Two openings (two processes, or two jobs of one), writing from threads, sync state among them."""
    first, second = store_at(), store_at()

    def work(worker: int) -> None:
        if worker == 4:
            for n in range(20):
                first.save_sync({"a": system_state("a", n + 1)}, {("a", str(n + 1)): f"a:{n + 1}"})
        else:
            write_keys(first if worker % 2 else second, worker, 40)

    run_threads(5, work)
    assert second.journal_counts("a->b") == {"done": 160}
    assert second.cursors() == {"a": system_state("a", 20)} and second.crosswalk() == {("a", "20"): "a:20"}


def write_keys(store: Store, worker: int, count: int) -> None:
    for n in range(count):
        key = f"{worker}-{n}"
        store.journal_mark("a->b", [Mark(key, "creating", source_id=key, action="create")])
        store.journal_mark("a->b", [Mark(key, "done", target_id=key)])


def run_threads(count: int, work: Callable[[int], None]) -> None:
    failures: list[BaseException] = []

    def guarded(worker: int) -> None:
        try:
            work(worker)
        except BaseException as exc:  # surfaced below: a thread's exception would vanish otherwise
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_journal_pairs_are_listed_in_the_order_first_marked_per_scope(store_at: StoreAt) -> None:
    store = store_at()
    assert store.journal_pairs() == []
    store.journal_mark("moco->whosoff", [Mark("1", "creating")])
    store.journal_mark("csv->moco", [Mark("1", "done", target_id="9")])
    store.journal_mark("moco->whosoff", [Mark("1", "done", target_id="7"), Mark("2", "failed", reason="no")])
    assert store.journal_pairs() == ["moco->whosoff", "csv->moco"]
    assert store_at(scope="other").journal_pairs() == []
