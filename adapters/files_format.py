"""How a staff directory sits in a file: canonical values from a row, cells from a Person, the rows
of a table. Used by the csv and jsonl adapters (adapters/files.py) and by `staffbridge list --csv`.

A row's columns are canonical field names; `department.id` / `department.name`, `role.*` and
`address.*` columns split those fields; `custom_fields.<name>` and every unknown column are custom
fields. Writing lays a field out the way the file already holds it (a name column or id/name columns,
one address text or its parts) and adds missing columns at their canonical place.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError

from staffbridge.model.person import CANONICAL_FIELDS, Address, Person, PersonSchema, Ref

__all__ = [
    "Row",
    "RowIds",
    "Table",
    "canonical_values",
    "cell_text",
    "detect_delimiter",
    "field_cells",
    "lay_out",
    "load_lenient",
    "person_values",
    "trimmed",
    "write_csv",
    "write_jsonl",
    "write_rows",
]

REF_FIELDS = ("department", "role")
# Columns that hold a canonical field as plain text; the rest need their own handling.
PLAIN = tuple(n for n in CANONICAL_FIELDS if n not in ("system", "address", "custom_fields", *REF_FIELDS))
ADDRESS_COLUMNS = tuple(f"address.{part}" for part in (*Address.PARTS, "formatted"))
REF_COLUMNS = tuple(f"{name}.{part}" for name in REF_FIELDS for part in ("id", "name"))
KNOWN_COLUMNS = frozenset({*PLAIN, "address", *REF_FIELDS, *ADDRESS_COLUMNS, *REF_COLUMNS, "system"})
CUSTOM_PREFIX = "custom_fields."
_SCHEMA = PersonSchema()


# ---------------------------------------------------------------------------------------------- values


def canonical_values(record: Mapping[str, Any], tag_separator: str = ";") -> dict[str, Any]:
    """A row (column -> text) or JSON object, as canonical values for PersonSchema: empty cells
    dropped, department/role and address gathered from their columns, unknown columns custom."""
    values: dict[str, Any] = {}
    refs: dict[str, dict[str, Any]] = {}
    address: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for column, value in record.items():
        if value is None or value == "" or column in ("id", "system", "raw", "problems"):
            continue
        if column in PLAIN:
            values[column] = _tags(value, tag_separator) if column == "tags" else value
        elif column in REF_FIELDS:
            refs.setdefault(column, {}).update(value if isinstance(value, Mapping) else {"name": value})
        elif column in REF_COLUMNS:
            name, part = column.split(".")
            refs.setdefault(name, {})[part] = value
        elif column == "address":
            address.update(value if isinstance(value, Mapping) else {"formatted": value})
        elif column in ADDRESS_COLUMNS:
            address[column.split(".")[1]] = value
        elif column == "custom_fields" and isinstance(value, Mapping):
            custom.update(value)
        elif column.startswith(CUSTOM_PREFIX):
            custom[column[len(CUSTOM_PREFIX) :]] = value
        else:
            custom[column] = value
    for name, ref in refs.items():
        values[name] = {
            k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
            for k, v in ref.items()
            if v not in (None, "")
        }
    if address:
        values["address"] = address
    if custom:
        values["custom_fields"] = custom
    return values


def trimmed(value: Any) -> Any:
    """`value` with surrounding whitespace cut from every text in it, as a CSV cell is read: a JSONL
    `" ada@example.org "` is the same email as that CSV cell."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        return {key: trimmed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trimmed(item) for item in value]
    return value


def load_lenient(values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Validated canonical values; a field that does not validate is left out and named in the problems."""
    problems: list[str] = []
    for _ in range(2):  # the second pass runs without the bad fields and cannot fail on them
        try:
            person = _SCHEMA.load(values)
            return {name: getattr(person, name) for name in values}, problems
        except ValidationError as exc:
            for name, messages in exc.normalized_messages().items():
                bad = values.pop(name, None)
                problems.append(f"{name}: {_text_of(messages)} (got {_short(bad)})")
    return {}, [*problems, "row: could not be read"]


def person_values(person: Person) -> dict[str, Any]:
    """The non-empty canonical fields of a person, as (JSON-ready) values."""
    data = person.to_dict()
    for name in REF_FIELDS:
        if isinstance(data.get(name), dict):
            data[name] = {k: v for k, v in data[name].items() if v is not None}
    return {name: value for name, value in data.items() if name != "system" and value not in (None, "", [], {})}


def cell_text(value: Any, tag_separator: str = ";") -> str:
    """How a value is written in a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return tag_separator.join(str(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def field_cells(name: str, value: Any, header: list[str], tag_separator: str) -> dict[str, str]:
    """The cells that hold canonical field `name` (a custom field as `custom_fields.<key>`), laid
    out the way the file already does it: name or id/name columns, formatted or split address."""
    if name.startswith(CUSTOM_PREFIX):
        key = name[len(CUSTOM_PREFIX) :]
        column = key if key in header or (key not in KNOWN_COLUMNS and key != "id" and name not in header) else name
        return {column: cell_text(value, tag_separator)}
    if name in REF_FIELDS:
        ref = value if isinstance(value, Ref) else None
        cells = {c: "" for c in (name, f"{name}.id", f"{name}.name") if c in header}
        # id and name columns keep both, unless the file already holds this reference as one name
        split = (
            f"{name}.id" in header
            or f"{name}.name" in header
            or bool(ref and ref.id and (name not in header or not ref.name))
        )
        if ref and split:
            cells[f"{name}.id"], cells[f"{name}.name"] = ref.id or "", ref.name or ""
            cells = {c: v for c, v in cells.items() if v or c in header}
        elif ref:
            cells[name] = ref.name or ref.id or ""
        return cells
    if name == "address":
        address = value if isinstance(value, Address) else None
        cells = {c: "" for c in ("address", *ADDRESS_COLUMNS) if c in header}
        parts = {p: getattr(address, p) for p in Address.PARTS if address and getattr(address, p)}
        # parts keep their structure unless the file already holds addresses as one text
        if address and parts and (any(c in header for c in ADDRESS_COLUMNS) or "address" not in header):
            cells.update({f"address.{p}": v for p, v in parts.items()})
            if address.formatted and "address" in header:
                cells["address"] = address.formatted
        elif address:
            cells["address"] = address.as_text() or ""
        return cells
    return {name: cell_text(value, tag_separator)}


def _tags(value: Any, separator: str) -> Any:
    if isinstance(value, str):
        return [tag.strip() for tag in value.split(separator) if tag.strip()]
    return value


def _text_of(messages: Any) -> str:
    if isinstance(messages, list):
        return " ".join(str(m) for m in messages)
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {_text_of(v)}" for k, v in messages.items())
    return str(messages)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------------------------- rows


@dataclass
class Row:
    """One person in the file: what was read (kept for rewriting) and the Person made of it."""

    id: str
    data: Any  # CSV: {column: cell}; JSONL: the object, or the unreadable line as text
    problems: list[str] = field(default_factory=list)
    readable: bool = True  # False: the row is kept as it is, it cannot be changed


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    header: list[str] = field(default_factory=list)  # CSV columns in file order
    has_ids: bool = False
    bom: bool = False
    stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the file this was read from
    delimiter: str = ","  # CSV: the one the file was read with, so a rewrite keeps it

    def find(self, id: str) -> Row | None:
        return next((row for row in self.rows if row.id == id), None)

    def next_id(self) -> str:
        numbers = [int(row.id) for row in self.rows if row.id.isdigit()]
        return str(max(numbers, default=0) + 1)


class _IdSet:
    """A set of ids that holds the usual ones in 8 bytes each instead of about 100 (a text in a set),
    so that a listing's memory stays flat: numbers written plainly and met in ascending order (as
    staffbridge numbers rows, and as exports list them) go into a sorted array, searched by
    bisection; any other id goes into a set."""

    def __init__(self) -> None:
        self._ascending = array("q")
        self._others: set[str] = set()

    def __contains__(self, id: str) -> bool:
        number = _plain_number(id)
        if number is not None:
            at = bisect_left(self._ascending, number)
            if at < len(self._ascending) and self._ascending[at] == number:
                return True
        return id in self._others

    def add(self, id: str) -> None:
        number = _plain_number(id)
        if number is not None and (not self._ascending or number > self._ascending[-1]):
            self._ascending.append(number)
        elif id not in self:
            self._others.add(id)


def _plain_number(id: str) -> int | None:
    """`id` as a number when it is one written plainly ("7", not "07" or "+7", which are other ids)
    and small enough for the array."""
    if id.isascii() and id.isdigit() and len(id) <= 18 and (id == "0" or not id.startswith("0")):
        return int(id)
    return None


class RowIds:
    """Gives rows their ids one at a time, in file order, so that a listing need not hold the rows: the
    id a row states, else its row number when that is free, else the next free number. A stated id
    that an earlier row uses is a problem of the later row, which gets a number. `stated` (every id the
    file states, later rows' too) must be set before the first row that gets a number: that number
    must not be an id that a later row states."""

    def __init__(self) -> None:
        self.stated: set[str] | None = None
        self._seen = _IdSet()  # the ids stated so far: a duplicate is found among them

    def numbers(self, given: str | None) -> bool:
        """Whether a row stating `given` gets a number (and so needs `stated`)."""
        return not given or given in self._seen

    def assign(self, row: Row, number: int, given: str | None) -> None:
        if given and given in self._seen:
            row.problems.append(f"id: {given!r} is used by an earlier row; this row got a new id")
            given = None
        elif given:
            self._seen.add(given)
        if not given:
            if self.stated is None:
                raise RuntimeError("RowIds.stated is not set")  # a reader's mistake, never the file's
            given = str(number)
            if given in self.stated:
                while given in self.stated:
                    given = str(int(given) + 1)
                # a later row's own number may be this one; unmoved numbers are below every later row's
                self.stated.add(given)
        row.id = given


# ---------------------------------------------------------------------------------------------- header

DELIMITERS = (",", ";", "\t", "|")  # what spreadsheets write: European exports use ";"


def is_known_column(column: str) -> bool:
    """A column naming a canonical field (an `id` alone names nobody)."""
    return (column in KNOWN_COLUMNS and column != "id") or column.startswith(CUSTOM_PREFIX)


def detect_delimiter(text: str) -> str:
    """The delimiter among `DELIMITERS` under which the header (the first line that is not blank)
    names the most canonical columns, then splits into the most columns; "," on a tie, or no header."""
    header = next((line for line in text.splitlines() if line.strip()), "")

    def score(delimiter: str) -> tuple[int, int]:
        try:
            cells = next(csv.reader([header], delimiter=delimiter), [])
        except csv.Error:
            return -1, -1
        return sum(is_known_column(cell.strip()) for cell in cells), len(cells)

    best = max(DELIMITERS, key=score)  # max keeps the first of equals: "," wins a tie
    return best


# ---------------------------------------------------------------------------------------------- layout


def lay_out(
    table: Table,
    row: Row,
    values: Mapping[str, Any],
    custom: Mapping[str, Any],
    removed: Iterable[str] = (),
    tag_separator: str = ";",
) -> None:
    """Sets the cells of `row` for canonical `values` (JSON-ready, None empties a field) and custom
    fields, adding the columns the header lacks at their canonical place."""
    wanted = {k: v for k, v in values.items() if k not in ("id", "system", "custom_fields")}
    loaded = _SCHEMA.load({k: v for k, v in wanted.items() if v is not None}, partial=True)
    cells: dict[str, str] = {"id": row.id}
    for name, value in wanted.items():
        typed = getattr(loaded, name) if value is not None else None
        cells.update(field_cells(name, typed, table.header, tag_separator))
    for key, value in custom.items():
        cells.update(field_cells(CUSTOM_PREFIX + key, value, table.header, tag_separator))
    for key in removed:
        for column in (key, CUSTOM_PREFIX + key):
            if column in table.header:
                cells[column] = ""
    for column, text in cells.items():
        if column not in table.header and text:
            _insert_column(table.header, column)
    row.data.update({c: t for c, t in cells.items() if c in table.header})


def write_rows(table: Table, out: Any, delimiter: str = ",") -> None:
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if table.header:
        writer.writerow(table.header)
    for row in table.rows:
        cells = [row.data.get(column) or "" for column in table.header]
        writer.writerow(cells + list(row.data.get(None) or []))


def _column_order() -> dict[str, int]:
    order = ["id"]
    for name in CANONICAL_FIELDS:
        if name in REF_FIELDS:
            order += [name, f"{name}.id", f"{name}.name"]
        elif name == "address":
            order += ["address", *ADDRESS_COLUMNS]
        elif name not in ("system", "custom_fields"):
            order.append(name)
    return {column: rank for rank, column in enumerate(order)}


COLUMN_ORDER = _column_order()


def _insert_column(header: list[str], column: str) -> None:
    """Known columns go after the known columns that come before them; custom ones at the end."""
    rank = COLUMN_ORDER.get(column)
    if rank is None:
        header.append(column)
        return
    before = [i for i, c in enumerate(header) if COLUMN_ORDER.get(c, -1) in range(rank)]
    after = [i for i, c in enumerate(header) if COLUMN_ORDER.get(c, -1) > rank]
    header.insert(before[-1] + 1 if before else (after[0] if after else len(header)), column)


# ---------------------------------------------------------------------------------------------- export


def write_csv(people: Iterable[Person], out: Any, delimiter: str = ",", tag_separator: str = ";") -> int:
    """Writes people as CSV that the CSV adapter reads back. Every row is held until the end,
    because the header must name the columns of all of them (custom fields differ per person)."""
    table = Table(header=["id"], has_ids=True)
    for person in people:
        row = Row(person.id or table.next_id(), {})
        lay_out(table, row, person_values(person), person.custom_fields, tag_separator=tag_separator)
        table.rows.append(row)
    write_rows(table, out, delimiter)
    return len(table.rows)


def write_jsonl(people: Iterable[Person], out: Any) -> int:
    """Writes people as JSON Lines, one at a time (nothing is held)."""
    count = 0
    for person in people:
        data = {"id": person.id, **{k: v for k, v in person_values(person).items() if k != "id"}}
        out.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
        count += 1
    return count
