"""Where unify's state and migrate's journal are kept: SQLite files, the JSON document of earlier
versions (kept for ".json" paths, carried over into SQLite under any other name), and scoped stores."""

from __future__ import annotations

import json
import shutil

import pytest

import staffbridge
from staffbridge import ConfigError
from staffbridge.jobs.unification.run import unify
from staffbridge.store.backends import open_store
from staffbridge.store.cursors import SyncState
from staffbridge.store.journal import Journal

from .test_unify_fakes import MemoryAdapter, at, staff

SQLITE = b"SQLite format 3\x00"


def moco_like() -> MemoryAdapter:
    return MemoryAdapter("a", [staff(i, f"a{i}", updated_at=at(1 + i)) for i in range(4)], incremental=True)


def test_a_state_path_not_ending_in_json_is_a_sqlite_store_and_makes_later_runs_incremental(tmp_path) -> None:
    state = tmp_path / "unify.state"
    a, b = moco_like(), MemoryAdapter("b", [staff(1, "b1")])
    first = unify([a, b], state=state)
    assert state.read_bytes().startswith(SQLITE) and first.reads["a"].mode == "full"
    a.put(staff(1, "a1", work_phone="+49 40 999", updated_at=at(20)))
    second = unify([b, a], state=state)  # b comes first now: the person keeps the id from the first run
    assert second.reads["a"].mode == "incremental" and a.calls[-1]["updated_after"] == at(4)
    assert (second.reads["a"].fetched, second.reads["a"].changed, len(second)) == (1, ["a1"], 4)
    assert second.find("b", "b1").id == "a:a1" and second.find("a", "a1").person.work_phone == "+49 40 999"
    loaded = SyncState.load(state)
    assert loaded.system("a").cursor == at(20) and loaded.ids["b:b1"] == "a:a1"
    assert list(loaded.system("a").people) == ["a0", "a1", "a2", "a3"]


def test_a_json_state_file_under_another_name_is_carried_over_into_sqlite_once(tmp_path) -> None:
    a = moco_like()
    unify([a], state=tmp_path / "earlier.json")  # what an earlier version wrote, whatever its name
    state = tmp_path / "unify.state"
    shutil.copy(tmp_path / "earlier.json", state)
    assert json.loads(state.read_text("utf-8"))["version"] == 1
    earlier = SyncState.load(state)
    earlier.save()
    assert state.read_bytes().startswith(SQLITE)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind
    carried = SyncState.load(state)
    assert (carried.systems, carried.ids) == (earlier.systems, earlier.ids) and carried.ids["a:a2"] == "a:a2"
    shutil.copy(tmp_path / "earlier.json", state)  # and through a run, as a user meets it
    directory = unify([a], state=state)
    assert directory.reads["a"].mode == "incremental" and a.calls[-1]["updated_after"] == at(4)
    assert state.read_bytes().startswith(SQLITE) and SyncState.load(state).system("a").runs == 2
    assert unify([a], state=state).reads["a"].mode == "incremental"


def test_a_file_under_another_name_that_is_no_state_file_is_refused_and_kept(tmp_path) -> None:
    state = tmp_path / "notes.txt"
    state.write_text("shopping list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not JSON"):
        unify([moco_like()], state=state)
    other = tmp_path / "other.state"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="version 1"):  # saving over it is refused too
        SyncState().save(other)
    assert state.read_text(encoding="utf-8") == "shopping list\n"
    assert (tmp_path / "other.state").read_text() == "{}"


def test_a_state_object_saves_to_either_format_and_loads_back_the_same(tmp_path) -> None:
    state = SyncState()
    unify([moco_like(), MemoryAdapter("b", [staff(1, "b1")])], state=state)
    state.save(tmp_path / "copy.json")
    state.save(tmp_path / "copy.sqlite")
    from_json, from_sqlite = SyncState.load(tmp_path / "copy.json"), SyncState.load(tmp_path / "copy.sqlite")
    assert (from_sqlite.systems, from_sqlite.ids) == (from_json.systems, from_json.ids)
    assert from_sqlite.system("a").people == state.system("a").people and from_sqlite.ids == state.ids
    assert json.loads((tmp_path / "copy.json").read_text())["ids"] == state.ids
    assert (tmp_path / "copy.sqlite").read_bytes().startswith(SQLITE)


def test_crosswalk_references_split_after_the_system_name_even_with_colons(tmp_path) -> None:
    state = SyncState(
        systems={"moco": SyncState().system("moco"), "moco:eu": SyncState().system("moco:eu")},
        ids={"moco:eu:12": "moco:eu:12", "moco:7:x": "moco:eu:12", "nosystem": "x"},
    )
    assert state.crosswalk() == {("moco:eu", "12"): "moco:eu:12", ("moco", "7:x"): "moco:eu:12"}
    state.save(tmp_path / "s.sqlite")
    assert SyncState.load(tmp_path / "s.sqlite").ids == {"moco:eu:12": "moco:eu:12", "moco:7:x": "moco:eu:12"}


def test_one_file_holds_a_migration_journal_and_the_unify_state(tmp_path) -> None:
    path = tmp_path / "staffbridge.db"
    source = tmp_path / "team.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": str(n), "first_name": f"F{n}", "last_name": f"L{n}", "email": f"p{n}@example.com"}) + "\n"
            for n in range(3)
        ),
        "utf-8",
    )
    target = staffbridge.connect("jsonl", path=str(tmp_path / "copy.jsonl"))
    plan = staffbridge.migrate(staffbridge.connect("jsonl", path=str(source)), target, journal=path, dry_run=False)
    unify([moco_like()], state=path)
    assert Journal(path, pair=plan.pair).counts() == {"done": 3}
    assert SyncState.load(path).system("a").runs == 1
    again = staffbridge.migrate(staffbridge.connect("jsonl", path=str(source)), target, journal=path)
    assert (len(again.creates), len(again.unchanged)) == (0, 3)


def test_migrate_and_unify_take_a_store_opened_for_a_scope(tmp_path) -> None:
    path = tmp_path / "platform.db"
    a = moco_like()
    with open_store(path, scope="acme") as acme, open_store(path, scope="globex") as globex:
        assert unify([a], state=acme).reads["a"].mode == "full"
        assert unify([a], state=acme).reads["a"].mode == "incremental"
        assert unify([a], state=globex).reads["a"].mode == "full"  # globex has no state of its own yet
        source = tmp_path / "team.jsonl"
        source.write_text(json.dumps({"id": "1", "first_name": "Ada", "last_name": "L", "email": "a@x.org"}) + "\n")
        target = staffbridge.connect("jsonl", path=str(tmp_path / "copy.jsonl"))
        plan = staffbridge.migrate(staffbridge.connect("jsonl", path=str(source)), target, journal=acme, dry_run=False)
        assert Journal(acme, pair=plan.pair).counts() == {"done": 1}
        assert Journal(globex, pair=plan.pair).counts() == {}
        assert SyncState.load(globex).system("a").runs == 1 and SyncState.load(acme).system("a").runs == 2
