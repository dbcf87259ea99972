"""Fuzzing the csv and jsonl adapters with malformed files, 1,000 examples each.

A file is built from real rows (people exported by the adapters' own writers) with cells and keys
mutated, plus rows of any text: stray quotes, delimiters and line breaks in cells, rows longer or
shorter than the header, odd headers, lines that are not JSON or not objects, bytes that are not
UTF-8, a byte-order mark. Each example lists the file, reads one person, updates them, creates a
new one and lists again. The only outcomes allowed: Persons (unreadable rows as Persons with
`problems` naming the line), or a typed StaffbridgeError; and a write never loses a row.
`pytest tests/test_fuzz_files.py -s` prints the outcomes.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import staffbridge
from staffbridge import Person, PersonValidationError, StaffbridgeError
from staffbridge.adapters.files_format import write_csv, write_jsonl
from staffbridge.sandbox.moco import MocoBackend, render_user

from .test_fuzz_http import EXAMPLES, FUZZ, JSON, ODD, mutated, paths_of

HANG_LIMIT = 300  # seconds per fuzz target at most: a hang guard for CI (see conftest.py)


def sample_people() -> list[Person]:
    backend = MocoBackend(4)
    moco = staffbridge.connect("moco", domain="fuzz", api_key="fuzz-key")
    return [moco.to_person(render_user(backend, user)) for user in backend.users.values()]


def exported(writer: Any) -> str:
    out = io.StringIO()
    writer(sample_people(), out)
    return out.getvalue()


CSV_LINES = exported(write_csv).splitlines()
JSONL_RECORDS = [json.loads(line) for line in exported(write_jsonl).splitlines()]
CELLS = st.text(alphabet=st.sampled_from("ab ,;\"'\n\r\tÜ\u2028\x00"), max_size=8) | st.sampled_from(ODD)
COLUMNS = st.sampled_from(
    [*CSV_LINES[0].split(","), "", "id", "custom_fields.x", "department.id", "address.zip", "Unbekannt", "tags"]
)


@st.composite
def csv_text(draw: Any) -> str:
    header = CSV_LINES[0] if draw(st.booleans()) else ",".join(draw(st.lists(COLUMNS, max_size=8)))
    lines = [header]
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):  # a real row, with some cells replaced
            cells = draw(st.sampled_from(CSV_LINES[1:])).split(",")
            for index in draw(st.lists(st.integers(0, len(cells) - 1), max_size=3)):
                cells[index] = draw(CELLS)
            cells = cells[: draw(st.integers(0, len(cells) + 2))] if draw(st.integers(0, 4)) == 0 else cells
        else:
            cells = draw(st.lists(CELLS, max_size=6))
        lines.append(",".join(cells))
    return "\n".join(lines)


@st.composite
def jsonl_text(draw: Any) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["real", "real", "json", "text"]))
        if kind == "real":
            record = draw(st.sampled_from(JSONL_RECORDS))
            lines.append(json.dumps(draw(mutated(record, paths_of(record))), ensure_ascii=False))
        elif kind == "json":
            lines.append(json.dumps(draw(JSON)))
        else:
            lines.append(draw(CELLS))
    return "\n".join(lines)


@st.composite
def file_bytes(draw: Any, text: st.SearchStrategy[str]) -> bytes:
    data = draw(text).encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        data = "\ufeff".encode() + data
    if draw(st.integers(0, 9)) == 0:
        data += draw(st.binary(min_size=1, max_size=8))
    return data


def exercise(adapter: Any, outcomes: Counter[str]) -> None:
    """List, get, update, create, list again: Persons or typed errors, and no row lost by a write."""
    try:
        people = list(adapter.list())
    except StaffbridgeError as exc:
        outcomes[type(exc).__name__] += 1
        return
    for person in people:
        assert isinstance(person, Person)
        repr(person)
        outcomes["rows with problems" if person.problems else "rows read"] += 1
    rows = len(people)
    for step in ("get", "update", "create") if people else ("create",):
        try:
            if step == "get":
                assert isinstance(adapter.get(people[0].id), Person)
            elif step == "update":
                assert isinstance(
                    adapter.update(
                        people[0].id, {"work_phone": "+49 30 1", "tags": ["neu"], "custom_fields": {"fuzz": "1"}}
                    ),
                    Person,
                )
            elif step == "create":
                assert isinstance(
                    adapter.create(Person(first_name="Neu", last_name="Fuzz", email="neu@fuzz.example")), Person
                )
                rows += 1
        except StaffbridgeError as exc:
            str(exc)
            outcomes[f"{step}: {type(exc).__name__}"] += 1
        else:
            outcomes[f"{step} ok"] += 1
    try:
        assert len(list(adapter.list())) == rows  # every row is still there, plus the new one
    except StaffbridgeError as exc:
        outcomes[f"list again: {type(exc).__name__}"] += 1


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_no_file_crashes_a_file_adapter(kind, tmp_path):
    outcomes: Counter[str] = Counter()
    path = tmp_path / f"staff.{kind}"

    @FUZZ
    @given(data=file_bytes(csv_text() if kind == "csv" else jsonl_text()))
    def check(data: bytes) -> None:
        outcomes["examples"] += 1
        Path(path).write_bytes(data)
        exercise(staffbridge.connect(kind, path=path), outcomes)

    check()
    examples = outcomes.pop("examples")
    print(f"\nfuzz {kind} files: {examples} files: " + ", ".join(f"{k} {n}" for k, n in outcomes.most_common()))
    assert examples >= EXAMPLES


def test_a_jsonl_update_of_custom_fields_over_a_line_whose_custom_fields_is_not_an_object(tmp_path):
    """Found by the fuzzing above: the merge raised TypeError. Now a typed error naming the field,
    and the line is left as it was (its value cannot be read, so it is not overwritten)."""
    path = tmp_path / "staff.jsonl"
    line = '{"id": "7", "first_name": "Ada", "custom_fields": "Raum 12"}'
    path.write_text(line + "\n", encoding="utf-8")
    staff = staffbridge.connect("jsonl", path=path)
    with pytest.raises(PersonValidationError) as info:
        staff.update("7", {"custom_fields": {"desk": "3"}})
    assert "custom_fields" in info.value.errors
    assert path.read_text(encoding="utf-8") == line + "\n"
    assert staff.update("7", {"first_name": "Ada Maria"}).first_name == "Ada Maria"
