"""Listing a csv or jsonl file streams: one row at a time, from one open handle (adapters/files.py).
Memory is measured by tests/bench/run.py; here, what a listing holds is counted in rows."""

import gc

import pytest
from hypothesis import given
from hypothesis import strategies as st

import staffbridge
from staffbridge import Person
from staffbridge.adapters.files import write_csv, write_jsonl
from staffbridge.adapters.files_format import Row, RowIds

WRITERS = {"csv": write_csv, "jsonl": write_jsonl}


def staff_file(tmp_path, kind, count, ids=True):
    path = tmp_path / f"staff.{kind}"
    people = (Person(id=str(n) if ids else None, first_name="Ann", last_name=f"Lee{n}") for n in range(1, count + 1))
    with open(path, "w", encoding="utf-8", newline="") as out:
        WRITERS[kind](people, out)
    return path


def rows_alive() -> int:
    gc.collect()
    return sum(isinstance(thing, Row) for thing in gc.get_objects())


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_listing_holds_one_row_at_a_time_and_fills_no_cache(tmp_path, kind):
    staff = staffbridge.connect(kind, path=staff_file(tmp_path, kind, 2000))
    held = []
    for number, person in enumerate(staff.list(), start=1):
        if number in (10, 1000, 1990):
            held.append(rows_alive())
        assert person.id == str(number)
    assert max(held) <= 3, held  # not the 2,000 rows of the whole table
    assert staff._cache is None  # get and the writes read the table; a listing does not keep one


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
@pytest.mark.parametrize("ids", [True, False])
def test_a_file_rewritten_while_it_is_listed_is_listed_as_it_was(tmp_path, kind, ids):
    """A migration may write into the file it reads: each write replaces the file (os.replace), and
    the listing under way goes on reading the version it opened."""
    path = staff_file(tmp_path, kind, 50, ids)
    staff = staffbridge.connect(kind, path=path)
    before = [(p.id, p.last_name) for p in staff.list()]
    listing = staff.list()
    seen = [next(listing) for _ in range(3)]
    staff.create(Person(first_name="New", last_name="Comer"))
    staff.delete("10")
    staff.update("40", {"last_name": "Changed"})
    staffbridge.connect(kind, path=path).delete("45")  # another adapter on the same file
    seen += list(listing)
    assert [(p.id, p.last_name) for p in seen] == before
    after = {p.id: p.last_name for p in staff.list()}
    assert len(after) == 49 and "10" not in after and "45" not in after and after["40"] == "Changed"
    assert "Comer" in after.values()


def assigned_by_the_table_rule(stated: list[str | None]) -> list[tuple[str, bool]]:
    """How ids were given when the whole table was read (Table.assign_ids before streaming): the id a
    row states, else its row number when no row states it, else the next free number; a stated id
    that an earlier row uses gives the later row a number and a problem."""
    taken = {i for i in stated if i}
    seen: set[str] = set()
    result = []
    for number, stated_id in enumerate(stated, start=1):
        duplicate = bool(stated_id and stated_id in seen)
        id = None if duplicate else stated_id
        if not id:
            id = str(number)
            while id in taken:
                id = str(int(id) + 1)
            taken.add(id)
        seen.add(id)
        result.append((id, duplicate))
    return result


STATED = st.lists(st.sampled_from([None, "1", "2", "3", "4", "7", "07", "+7", "E7", "99", "0"]), max_size=12)


@given(stated=STATED)
def test_ids_given_row_by_row_are_those_of_the_whole_table(stated):
    ids = RowIds()
    ids.stated = {i for i in stated if i}
    result = []
    for number, stated_id in enumerate(stated, start=1):
        row = Row("", {})
        ids.assign(row, number, stated_id)
        result.append((row.id, bool(row.problems)))
    assert result == assigned_by_the_table_rule(stated)


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_ids_stated_after_a_row_without_one_are_kept_free(tmp_path, kind):
    """The row without an id would be number 1, which a later row states: it gets the next free number.
    (The listing reads the stated ids ahead from the same handle.)"""
    path = tmp_path / f"staff.{kind}"
    if kind == "csv":
        path.write_text("id,last_name\n,First\n5,Second\n5,Third\n1,Fourth\n2,Fifth\n", encoding="utf-8")
    else:
        lines = ['{"last_name": "First"}', '{"id": 5, "last_name": "Second"}', '{"id": "5", "last_name": "Third"}']
        path.write_text("\n".join([*lines, '{"id": 1, "last_name": "Fourth"}', '{"id": 2, "last_name": "Fifth"}']))
    people = list(staffbridge.connect(kind, path=path).list())
    assert [p.id for p in people] == ["3", "5", "4", "1", "2"]
    assert [bool(p.problems) for p in people] == [False, False, True, False, False]
