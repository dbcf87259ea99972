"""The SQLite journal, with plain data: states, links, threads, and a file another process can read."""

import sqlite3
import threading

import pytest

from staffbridge.store.journal import Journal


def links(journal):
    """source key -> target id of every record the journal knows reached the target (`Journal.links`
    was dead code in the library; the tests keep asking the same question through `written`)."""
    return {key: target_id for key, (target_id, _digest) in journal.written().items()}


def test_states_are_kept_and_target_ids_survive_later_marks(tmp_path):
    journal = Journal(tmp_path / "j.sqlite", pair="moco->whosoff")
    journal.mark("s1", "creating", source_id="s1", action="create")
    assert journal.get("s1").in_flight
    journal.mark("s1", "done", target_id="t1")
    entry = journal.get("s1")
    assert (entry.state, entry.target_id, entry.action, entry.source_id) == ("done", "t1", "create", "s1")
    journal.mark("s1", "updating")
    assert journal.get("s1").target_id == "t1" and journal.get("s1").in_flight
    assert journal.get("nobody") is None


def test_links_name_done_records_only(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    journal.mark("a", "done", target_id="1")
    journal.mark("b", "creating")
    journal.mark("c", "failed", reason="422")
    journal.mark("delete:9", "deleted", target_id="9")
    assert links(journal) == {"a": "1"}
    assert journal.counts() == {"done": 1, "creating": 1, "failed": 1, "deleted": 1}


def test_pairs_share_a_file_without_mixing(tmp_path):
    path = tmp_path / "j.sqlite"
    Journal(path, pair="moco->whosoff").mark("a", "done", target_id="1")
    assert links(Journal(path, pair="moco->fieldservice")) == {}
    assert links(Journal(path, pair="moco->whosoff")) == {"a": "1"}


def test_commits_are_visible_to_another_connection_at_once(tmp_path):
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    journal.mark("a", "creating")
    with sqlite3.connect(path) as reader:  # a kill -9 right now would leave exactly this behind
        assert reader.execute("SELECT state FROM records WHERE key = 'a'").fetchone() == ("creating",)


def test_many_threads_write_safely(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")

    def work(worker):
        for n in range(50):
            key = f"{worker}-{n}"
            journal.mark(key, "creating")
            journal.mark(key, "done", target_id=key)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert journal.counts() == {"done": 400}


def test_batches_and_unknown_states(tmp_path):
    journal = Journal()
    journal.mark_many([("a", "done", "a", "1", "unchanged", None), ("b", "done", "b", "2", "unchanged", None)])
    assert [e.key for e in journal] == ["a", "b"]
    with pytest.raises(ValueError):
        journal.mark("c", "half-done")
    journal.close()
