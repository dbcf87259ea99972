"""Incremental unify runs with plain data: the state file, the cursor, deletes, failures."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from staffbridge import ConfigError
from staffbridge.jobs.unification.run import unify
from staffbridge.store.cursors import SyncState

from .test_unify_fakes import MemoryAdapter, at, staff

OVERLAP = dt.timedelta(minutes=5)


def moco_like(n: int = 4) -> MemoryAdapter:
    return MemoryAdapter("a", [staff(i, f"a{i}", updated_at=at(1 + i)) for i in range(n)], incremental=True)


def test_the_first_run_reads_whole_and_records_a_cursor_from_the_vendors_newest_timestamp(tmp_path) -> None:
    state = tmp_path / "state.json"
    a = moco_like()
    directory = unify([a], state=state)
    assert a.calls == [{"include_archived": True}] and directory.reads["a"].mode == "full"
    saved = json.loads(state.read_text("utf-8"))
    assert saved["version"] == 1 and saved["systems"]["a"]["max_updated_at"] == "2024-01-04T00:00:00Z"
    assert saved["systems"]["a"]["cursor"] == "2024-01-04T00:00:00Z"  # long settled: no overlap needed
    assert sorted(saved["systems"]["a"]["people"]) == ["a0", "a1", "a2", "a3"]
    assert saved["ids"]["a:a2"] == "a:a2"
    assert not list(tmp_path.glob(".state.json.*"))  # the temporary file was renamed into place


def test_a_later_run_fetches_only_what_changed_and_keeps_everybody_else(tmp_path) -> None:
    state = tmp_path / "state.json"
    a = moco_like()
    unify([a], state=state)
    a.put(staff(1, "a1", work_phone="+49 40 999", updated_at=at(20)))
    a.sent = 0
    directory = unify([a], state=state)
    read = directory.reads["a"]
    assert a.calls[-1] == {"include_archived": True, "updated_after": at(4)}
    assert (read.mode, read.fetched, read.changed, read.added) == ("incremental", 1, ["a1"], [])
    assert a.sent == 1 and len(directory) == 4
    assert directory.find("a", "a1").person.work_phone == "+49 40 999"
    assert json.loads(state.read_text())["systems"]["a"]["cursor"] == "2024-01-20T00:00:00Z"
    again = unify([a], state=state)  # nothing changed: nothing fetched
    assert (again.reads["a"].fetched, again.reads["a"].changed) == (0, [])
    assert a.calls[-1]["updated_after"] == at(20)


def test_while_the_newest_change_is_recent_the_cursor_keeps_an_overlap(tmp_path) -> None:
    state = tmp_path / "state.json"
    just_now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=30)
    a = MemoryAdapter("a", [staff(1, "a1", updated_at=at(1)), staff(2, "a2", updated_at=just_now)], incremental=True)
    unify([a], state=state)
    assert a.calls[-1] == {"include_archived": True}
    directory = unify([a], state=state)
    # a record saved in the same second as a2, but committed after the read, is not missed: a2 is
    # read again (and found unchanged)
    assert a.calls[-1]["updated_after"] == just_now - OVERLAP
    assert (directory.reads["a"].fetched, directory.reads["a"].changed) == (1, [])
    unify([a], state=state, overlap=dt.timedelta(0))  # the overlap is a setting
    assert unify([a], state=state).reads["a"].fetched == 0


def test_an_incremental_read_does_not_see_deletes_a_whole_read_marks_them_removed(tmp_path) -> None:
    state = tmp_path / "state.json"
    a = moco_like()
    b = MemoryAdapter("b", [staff(2, "b2")])
    unify([a, b], state=state)
    del a.people["a2"]
    quiet = unify([a, b], state=state)
    assert quiet.reads["a"].mode == "incremental" and quiet.removed == []
    assert quiet.find("a", "a2").status["a"] == "present"  # still known: an updated_after read cannot tell
    whole = unify([a, b], state=state, full=True)
    assert whole.reads["a"].mode == "full" and list(whole.reads["a"].removed) == ["a2"]
    gone = whole.find("a", "a2")
    assert gone.status == {"a": "removed", "b": "present"} and gone.systems == ["b"] and not gone.removed
    assert [p.id for p in whole.removed] == ["a:a2"] and whole.summary()["removed"] == 1
    after = unify([a, b], state=state)
    assert after.find("a", "a2") is None and after.find("b", "b2").crosswalk == {"b": "b2"}


def test_a_delete_the_vendor_reported_is_removed_on_an_incremental_read(tmp_path) -> None:
    # MOCO's DELETE webhook: the id is handed in, and the very next (incremental) run removes the person
    state = tmp_path / "state.json"
    a = moco_like()
    b = MemoryAdapter("b", [staff(2, "b2")])
    unify([a, b], state=state)
    del a.people["a2"]
    told = unify([a, b], state=state, deleted={"a": ["a2"]})
    assert told.reads["a"].mode == "incremental" and list(told.reads["a"].removed) == ["a2"]
    assert told.find("a", "a2").status == {"a": "removed", "b": "present"}
    after = unify([a, b], state=state)
    assert after.find("a", "a2") is None and after.reads["a"].mode == "incremental"


def test_a_person_removed_everywhere_is_listed_as_removed() -> None:
    state = SyncState()
    b = MemoryAdapter("b", [staff(1, "b1"), staff(2, "b2")])
    unify([b], state=state)
    del b.people["b2"]
    directory = unify([b], state=state)
    gone = directory.find("b", "b2")
    assert gone.removed and gone.status == {"b": "removed"} and gone not in directory.current
    assert gone.person.email == "person.2@example.com"  # the last known data says who it was


def test_full_every_n_runs_reads_whole(tmp_path) -> None:
    state = tmp_path / "state.json"
    a = moco_like()
    modes = [unify([a], state=state, full_every=3).reads["a"].mode for _ in range(5)]
    assert modes == ["full", "incremental", "incremental", "full", "incremental"]
    with pytest.raises(ConfigError, match="full_every"):
        unify([a], state=state, full_every=0)


def test_systems_without_incremental_reads_are_read_whole_every_time_and_lose_people_only_then(tmp_path) -> None:
    state = tmp_path / "state.json"
    b = MemoryAdapter("b", [staff(1, "b1"), staff(2, "b2")])
    unify([b], state=state)
    del b.people["b1"]
    directory = unify([b], state=state)
    assert b.calls == [{}, {}] and directory.reads["b"].mode == "full"
    assert list(directory.reads["b"].removed) == ["b1"]


def test_a_failed_read_removes_nobody_and_leaves_the_state_as_it_was(tmp_path) -> None:
    state = tmp_path / "state.json"
    a = moco_like()
    unify([a], state=state)
    before = json.loads(state.read_text())["systems"]["a"]
    del a.people["a3"]
    a.fail_after = 1
    directory = unify([a], state=state, full=True)
    assert directory.reads["a"].mode == "failed" and directory.removed == []
    assert [p.status["a"] for p in directory] == ["unknown"] * 4
    assert json.loads(state.read_text())["systems"]["a"] == before
    a.fail_after = None
    assert list(unify([a], state=state, full=True).reads["a"].removed) == ["a3"]


def test_unified_ids_stay_put_across_runs(tmp_path) -> None:
    state = tmp_path / "state.json"
    a = MemoryAdapter("a", [staff(1, "a1")])
    b = MemoryAdapter("b", [staff(1, "b1"), staff(2, "b2")])
    first = unify([b], state=state)
    assert first.find("b", "b1").id == "b:b1"
    second = unify([a, b], state=state)  # a comes first now, but the person keeps their id
    assert second.find("a", "a1").id == "b:b1" and second.find("b", "b2").id == "b:b2"


def test_state_files_that_are_not_state_files_are_refused(tmp_path) -> None:
    a = MemoryAdapter("a", [staff(1)])
    for text, message in (
        ("not json", "not JSON"),
        ('{"version": 9, "systems": {}}', "version 1"),
        ('{"version": 1, "systems": {"a": {"people": {"1": {"email": "nope"}}}}}', "person 1"),
        ('{"version": 1, "systems": {"a": {"cursor": "yesterday"}}}', "not a timestamp"),
    ):
        path = tmp_path / "state.json"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            unify([a], state=path)
        assert path.read_text(encoding="utf-8") == text  # never overwritten
    with pytest.raises(ConfigError, match="cannot write the state file"):
        unify([a], state=tmp_path / "no-such-dir" / "state.json")


def test_a_state_file_of_other_systems_is_refused(tmp_path) -> None:
    state = tmp_path / "state.json"
    unify([MemoryAdapter("a", [staff(1)])], state=state)
    other = MemoryAdapter("x", [staff(1)])
    with pytest.raises(ConfigError, match="'a' was a a system, now it is x"):
        unify({"a": other}, state=state)


def test_a_state_object_is_updated_in_place_and_round_trips_through_json(tmp_path) -> None:
    state = SyncState()
    a = moco_like(2)
    directory = unify([a], state=state)
    assert directory.state is state and state.system("a").runs == 1
    path = tmp_path / "copy.json"
    state.save(path)
    loaded = SyncState.load(path)
    assert loaded.system("a").people == state.system("a").people
    assert loaded.system("a").cursor == state.system("a").cursor and loaded.ids == state.ids
