"""What only the SQLite backend does: mark its files, upgrade journals of earlier versions, refuse others."""

from __future__ import annotations

import sqlite3

import pytest

from staffbridge import ConfigError
from staffbridge.store.backends import open_store
from staffbridge.store.journal import Journal
from staffbridge.store.sqlite import APPLICATION_ID, SCHEMA_VERSION, SQLiteStore

# the journal file of staffbridge before the store, as it wrote it
EARLIER_JOURNAL = """
CREATE TABLE records (pair TEXT NOT NULL, key TEXT NOT NULL, source_id TEXT, target_id TEXT, state TEXT NOT NULL,
                      action TEXT, reason TEXT, digest TEXT, changed_at TEXT NOT NULL, PRIMARY KEY (pair, key));
INSERT INTO records VALUES ('moco->whosoff', 's2', 's2', '1002', 'done', 'create', NULL, 'ab12', '2024-05-01T10:00');
INSERT INTO records VALUES ('moco->whosoff', 's1', 's1', NULL, 'creating', 'create', NULL, NULL, '2024-05-01T10:01');
INSERT INTO records VALUES ('moco->csv', 's1', 's1', '7', 'done', 'create', NULL, NULL, '2024-05-01T10:02');
"""


def pragma(path, name: str) -> int:
    with sqlite3.connect(path) as db:
        return db.execute(f"PRAGMA {name}").fetchone()[0]


def test_a_new_file_says_it_is_a_staffbridge_state_file(tmp_path) -> None:
    path = tmp_path / "state.sqlite"
    open_store(path).close()
    assert (pragma(path, "application_id"), pragma(path, "user_version")) == (APPLICATION_ID, SCHEMA_VERSION)
    assert pragma(path, "journal_mode") == "wal"
    assert isinstance(open_store(":memory:"), SQLiteStore)


def test_a_journal_of_an_earlier_version_is_upgraded_in_place_and_resumes(tmp_path) -> None:
    path = tmp_path / "migration.db"
    with sqlite3.connect(path) as db:
        db.executescript(EARLIER_JOURNAL)
    journal = Journal(path, pair="moco->whosoff")
    assert [(e.key, e.state) for e in journal.entries()] == [("s2", "done"), ("s1", "creating")]
    assert journal.written() == {"s2": ("1002", "ab12")} and journal.get("s1").in_flight
    journal.mark("s1", "done", target_id="1001")
    journal.close()
    assert Journal(path, pair="moco->csv").written() == {"s1": ("7", None)}
    assert Journal(path, pair="moco->whosoff").counts() == {"done": 2}
    assert pragma(path, "application_id") == APPLICATION_ID
    with open_store(path, scope="tenant") as other:  # the earlier rows went to the default scope
        assert other.journal_entries("moco->whosoff") == []


def test_other_files_are_refused_and_left_as_they_were(tmp_path) -> None:
    foreign = tmp_path / "app.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")
    text = tmp_path / "notes.txt"
    text.write_text("this is not a database, but it is long enough to look at\n" * 20)
    newer = tmp_path / "newer.sqlite"
    open_store(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    for path, message in (
        (foreign, "a database of something else"),
        (text, "cannot use .* as a staffbridge"),
        (newer, "newer staffbridge"),
        (tmp_path / "no-such-dir" / "j.db", "cannot use"),
    ):
        before = path.read_bytes() if path.exists() else None
        with pytest.raises(ConfigError, match=message):
            Journal(path, pair="a->b")
        assert (path.read_bytes() if path.exists() else None) == before
    with sqlite3.connect(foreign) as db:
        assert [name for (name,) in db.execute("SELECT name FROM sqlite_master")] == ["invoices"]


def test_a_journal_handed_a_store_leaves_it_open(tmp_path) -> None:
    store = open_store(tmp_path / "state.sqlite", scope="acme")
    journal = Journal(store, pair="a->b")
    journal.mark("1", "done", target_id="9")
    journal.close()
    assert store.journal_written("a->b") == {"1": ("9", None)}
    assert "scope='acme'" in repr(store) and repr(journal).startswith(f"<Journal {store.location}")
    store.close()
