"""A staff directory kept in a file: `csv` (one person a row) and `jsonl` (one JSON object a line).

    staff = staffbridge.connect("csv", path="staff.csv")
    for person in staff.list(active=True):
        ...

Columns (CSV) and keys (JSONL) are the canonical Person field names: `first_name`, `email`,
`birthday` (ISO dates), `active` (true/false, yes/no, 1/0). `department` and `role` hold a name, or
use `department.id` / `department.name` columns; `address` holds the formatted text, or use
`address.street`, `address.zip`, `address.city`, `address.state`, `address.country`, `address.co`
columns. Tags are `;`-separated in CSV (setting `tag_separator`) and a list in JSONL. Every other
column lands in `custom_fields` under its own name (`custom_fields.<name>` columns too) and is written
back under the same column.

Ids: the `id` column (key) when there is one, else the row number (1 = the first row under the
header; JSONL: the first record). The first write adds an `id` column holding those numbers, so ids
stay stable when rows are deleted. A created person gets the next free number.

Every write (create / update / delete) rewrites the whole file atomically: a temporary file in the
same folder, then `os.replace`. An update rewrites only the cells of the fields that change, so values
staffbridge cannot read (and formatting it does not know) survive. A row that cannot be read (a cell
that is not a date, a CSV quoting error, a line that is not JSON, undecodable bytes) becomes a Person
holding what could be read, with each problem in `person.problems`: a migration reports it as one
failed row and goes on. A missing file lists nobody and the first create makes it (a migration's
target); a job reading people from it (a migration's source, unify) refuses it (`check_source`).

Settings: `path` (required), `encoding` (default utf-8; a byte-order mark is read and kept),
CSV only: `delimiter` (default: found from the header among , ; tab |, the one under which it names
the most canonical fields; a new file gets ","; a rewrite keeps the file's), `tag_separator` (default
";"). A header naming no canonical field is refused (ConfigError naming the file and the columns
seen): read with the wrong delimiter, every row would be a person with no name. The `mapping` setting is not used:
columns always carry canonical names. A listing reads row by row (flat memory) from the file as it was
opened; get and writes hold the whole table, and rows are rewritten whole on every write, so writing
suits directories of thousands of people, not millions.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, ClassVar

from marshmallow import fields, validate

from staffbridge.adapters.files_format import (
    KNOWN_COLUMNS,
    Row,
    RowIds,
    Table,
    canonical_values,
    detect_delimiter,
    is_known_column,
    lay_out,
    load_lenient,
    person_values,
    trimmed,
    write_csv,
    write_jsonl,
    write_rows,
)
from staffbridge.model.compare import name_key, same_value
from staffbridge.model.errors import ConfigError, NotFound, PersonValidationError, StaffbridgeError
from staffbridge.model.person import Person
from staffbridge.sdk.adapter import Adapter
from staffbridge.sdk.filters import BOOLEAN, TEXT
from staffbridge.sdk.settings import AdapterSettings

BOM = "\ufeff"


class PathSetting(fields.String):
    """A file path: text or a pathlib.Path."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(os.fspath(value) if isinstance(value, os.PathLike) else value, attr, data, **kwargs)


class FileSettings(AdapterSettings):
    path = PathSetting(required=True, validate=validate.Length(min=1))
    encoding = fields.String(load_default="utf-8")


class CsvSettings(FileSettings):
    # None: found from the header (, ; tab |), and a new file gets ","
    delimiter = fields.String(load_default=None, allow_none=True, validate=validate.Length(equal=1))
    tag_separator = fields.String(load_default=";", validate=validate.Length(min=1))


class FileAdapter(Adapter):
    """What the CSV and JSONL adapters share: reading, the write lock, atomic rewrites, filters."""

    Settings: ClassVar[type] = FileSettings
    filters = {"active": BOOLEAN, "email": TEXT, "department": TEXT}
    keeps_unreadable_rows: ClassVar[bool] = True  # whether a row that could not be parsed is rewritten as it was
    unlisted_fields = frozenset()  # a row read is the whole record
    notes = (
        "every write rewrites the file atomically (temporary file + os.replace)",
        "unreadable rows are listed with person.problems, never dropped",
    )

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.path = Path(os.path.expanduser(self.settings["path"]))
        self._lock = threading.RLock()  # a migration writes from several threads
        self._cache: Table | None = None
        try:
            "".encode(self.settings["encoding"])
        except LookupError:
            raise ConfigError(
                f"{self.name}: setting 'encoding': unknown encoding {self.settings['encoding']!r}", setting="encoding"
            ) from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} path={str(self.path)!r}>"

    # ------------------------------------------------------------------ reading (hooks of the Adapter base)
    def check_source(self) -> None:
        """A file read as a source must be there: a missing one would read as nobody, and a unify run
        would mark everyone removed. (list() of a missing file is still empty: it may be a target.)"""
        if self._stamp() is None:
            raise ConfigError(
                f"{self.name}: {self.path}: no such file (a file to read people from must exist; "
                "only a migration's target file is made by its first write)",
                setting="path",
            )

    def fetch_records(self, **filters: Any) -> Iterator[Person]:
        """Everyone in the file, in file order; filters: active, email, department (by name). Read row
        by row, so memory stays flat however long the file is (get and writes hold the whole table,
        a listing does not), from one open handle: a rewrite meanwhile (os.replace, even by this
        adapter, as a migration into the file it reads does) swaps the path, not the file listed."""
        wanted = filters.get("active")  # a bool, as the Adapter base parsed it
        email = str(filters.get("email") or "")
        department = name_key(str(filters.get("department") or ""))
        handle = self._open()
        if handle is None:
            return
        with handle:
            for row in self._identified(handle, Table()):
                person = self.person(row)
                if wanted is not None and person.active is not wanted:
                    continue
                if email and not same_value("email", person.email, email):
                    continue
                if department and name_key(person.department.name or "" if person.department else "") != department:
                    continue
                yield person

    def fetch_record(self, id: str) -> Row:
        row = self._table().find(id)
        if row is None:
            raise self._not_found(id)
        return row

    def to_person(self, record: Any) -> Person:
        return record if isinstance(record, Person) else self.person(record)

    def _table(self) -> Table:
        with self._lock:
            stamp = self._stamp()
            if self._cache is None or self._cache.stamp != stamp or stamp is None:
                self._cache = self._read() if stamp is not None else Table()
                self._cache.stamp = stamp
            return self._cache

    def _stamp(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"{self.name}: cannot read {self.path}: {exc.strerror}", setting="path") from None
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{self.name}: {self.path} is not a file", setting="path")
        return info.st_mtime_ns, info.st_size

    def _read(self) -> Table:
        """The whole table, for get and the writes."""
        table = Table()
        handle = self._open()
        if handle is not None:
            with handle:
                table.rows = list(self._identified(handle, table))
        return table

    def _open(self) -> IO[str] | None:
        """The file opened for reading, or None when there is none. Undecodable bytes read as \ufffd."""
        if self._stamp() is None:  # also refuses what is not a file before opening it (a FIFO would block)
            return None
        try:
            binary = open(self.path, "rb")  # noqa: SIM115 (returned open: the caller closes it)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"{self.name}: cannot read {self.path}: {exc.strerror}", setting="path") from None
        encoding = _stream_encoding(self.settings["encoding"], binary.peek(4)[:4])
        return io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline=self.newline)

    def _identified(self, handle: IO[str], table: Table) -> Iterator[Row]:
        """The rows of the open file, one at a time, each with its id (RowIds). The ids the file states
        are gathered by reading the same handle once more from the start, and only when a row gets a
        number (it states no id, or an earlier row's): that number must not be an id a later row states."""
        ids = RowIds()
        rows = self._rows(handle, table)
        number = 0
        while (read := next(rows, None)) is not None:
            row, given = read
            number += 1
            if ids.stated is None and ids.numbers(given):
                ids.stated = {stated for _, stated in self._rows(handle, table) if stated}
                rows = itertools.islice(self._rows(handle, table), number, None)  # on after this row
            ids.assign(row, number, given)
            yield row

    def _lines(self, handle: IO[str], table: Table) -> Iterator[str]:
        """The file's lines from the start, without the byte-order mark (table.bom: there was one)."""
        handle.seek(0)
        first = handle.readline()
        table.bom = first.startswith(BOM)
        yield first.removeprefix(BOM)
        for line in handle:  # noqa: UP028 (`yield from` would close the handle when this generator is dropped)
            yield line

    def person(self, row: Row) -> Person:
        """The Person of a row; what could not be read is in `problems`."""
        values, problems = self.values_of(row)
        return Person(id=row.id, system=self.name, raw=_raw(row.data), problems=row.problems + problems, **values)

    # ------------------------------------------------------------------ writing (hooks of the Adapter base)
    def writing(self) -> threading.RLock:
        return self._lock  # a migration writes from several threads; each write is read-modify-rewrite

    def portable(self, person: Person) -> Person:
        """A file has no ids of its own: a reference keeps the id it came with beside its name (the
        department.id column records the source's id, so a round trip loses nothing)."""
        return person

    def create_body(self, person: Person) -> dict[str, Any]:
        return person_values(person)  # columns carry canonical names

    def update_body(self, changes: dict[str, Any], record: str) -> dict[str, Any]:
        return dict(changes)

    def create_record(self, body: dict[str, Any], person: Person, **options: Any) -> Row:
        """Appends a row for `person` (options such as welcome_email mean nothing to a file)."""
        table = self._writable_table()
        row = Row(table.next_id(), {})
        self.write_fields(table, row, body, person.custom_fields)
        table.rows.append(row)
        self._save(table)
        return row

    def update_record(
        self, id: str, body: dict[str, Any], changes: dict[str, Any], current: Any, **options: Any
    ) -> Row:
        """Rewrites the cells of the fields that change. Custom fields merge: a key set to None is
        removed, keys not named stay."""
        table = self._writable_table()
        row = table.find(id)
        if row is None:
            raise self._not_found(id)
        delta = dict(body)
        if not delta:
            return row
        before = self.person(row)
        if not row.readable:
            raise PersonValidationError(
                {"row": [f"cannot be read ({'; '.join(row.problems)}); fix it in {self.path} first"]},
                record=before.label,
            )
        custom: dict[str, Any] = {}
        removed: set[str] = set()
        if "custom_fields" in delta:
            given = delta.pop("custom_fields")
            if given is None:
                removed = set(before.custom_fields)
            else:
                custom = {k: v for k, v in given.items() if v is not None}
                removed = {k for k, v in given.items() if v is None}
        new = person_values(before.replace(**delta))
        self.write_fields(table, row, {name: new.get(name) for name in delta}, custom, removed)
        self._save(table)
        return row

    def delete_record(self, id: str) -> None:
        table = self._writable_table()
        row = table.find(id)
        if row is None:
            raise self._not_found(id)
        table.rows.remove(row)
        self._save(table)

    def _writable_table(self) -> Table:
        """A copy of the table to change: readers keep the old one until the file is replaced."""
        current = self._table()
        if not self.keeps_unreadable_rows:
            broken = next((row for row in current.rows if not row.readable), None)
            if broken is not None:
                raise StaffbridgeError(
                    f"{self.name}: {self.path} is not changed because a row cannot be "
                    f"read ({'; '.join(broken.problems)}); fix the file first"
                )
        table = Table(
            [
                Row(r.id, dict(r.data) if isinstance(r.data, dict) else r.data, list(r.problems), r.readable)
                for r in current.rows
            ],
            list(current.header),
            current.has_ids,
            current.bom,
            current.stamp,
            current.delimiter,
        )
        if not table.has_ids:
            self.add_id_column(table)
        return table

    def _save(self, table: Table) -> None:
        """Writes the whole table to a temporary file beside the target, then swaps it in."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = _mode_of(self.path)
        handle, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding=self.settings["encoding"], newline="") as out:
                if table.bom:
                    out.write(BOM)
                self.write_table(table, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, mode)
            os.replace(temp, self.path)
        except OSError as exc:
            Path(temp).unlink(missing_ok=True)
            raise StaffbridgeError(f"{self.name}: cannot write {self.path}: {exc.strerror}") from None
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        table.stamp = self._stamp()
        self._cache = table

    def _not_found(self, id: Any) -> NotFound:
        return NotFound(f"{self.name}: no person with id {str(id)!r} in {self.path}", vendor=self.name)

    # ------------------------------------------------------------------ format hooks
    newline: ClassVar[str] = ""  # open()'s newline: which line ends the format's reader sees untranslated

    def _rows(self, handle: IO[str], table: Table) -> Iterator[tuple[Row, str | None]]:
        """The rows of the open file from its start (ids not yet given), each with the id it states;
        sets the table's header, delimiter and has_ids as they are read."""
        raise NotImplementedError

    def values_of(self, row: Row) -> tuple[dict[str, Any], list[str]]:
        raise NotImplementedError

    def write_fields(
        self, table: Table, row: Row, values: Mapping[str, Any], custom: Mapping[str, Any], removed: Iterable[str] = ()
    ) -> None:
        raise NotImplementedError

    def add_id_column(self, table: Table) -> None:
        raise NotImplementedError

    def write_table(self, table: Table, out: Any) -> None:
        raise NotImplementedError


class CsvAdapter(FileAdapter):
    """A staff directory in a CSV file, one person a row, a header row of canonical field names."""

    name = "csv"
    Settings = CsvSettings
    keeps_unreadable_rows = False  # the csv module gives no text for a row it refuses

    def _rows(self, handle: IO[str], table: Table) -> Iterator[tuple[Row, str | None]]:
        lines = self._lines(handle, table)
        ahead: list[str] = []  # the lines up to the header's: the delimiter is found from them
        for line in lines:
            ahead.append(line)
            if line.strip():
                break
        table.delimiter = self.settings["delimiter"] or detect_delimiter("".join(ahead))
        reader = csv.reader(itertools.chain(ahead, lines), delimiter=table.delimiter)
        header: list[str] = []
        for cells, problem in _csv_rows(reader):
            if not header:
                if cells and any(c.strip() for c in cells):
                    header = [c.strip() or f"column {i + 1}" for i, c in enumerate(cells)]
                    self.check_header(header)
                    table.header, table.has_ids = header, "id" in header
                continue
            if not problem and not any(c.strip() for c in cells):
                continue  # a blank line is not a person
            data: dict[Any, Any] = dict(zip(header, cells, strict=False))
            row = Row("", data)
            if problem:
                row.problems.append(f"line {reader.line_num}: {problem}")
                row.readable = False
            if any(c.strip() for c in cells[len(header) :]):
                row.problems.append(
                    f"line {reader.line_num}: {len(cells)} cells but the header has "
                    f"{len(header)} columns; the extra cells were not read"
                )
                data[None] = cells[len(header) :]  # kept, and written back, as they are
            if any("\ufffd" in c for c in cells):
                row.problems.append(
                    f"line {reader.line_num}: bytes that are not {self.settings['encoding']} were replaced by \ufffd"
                )
            yield row, (data.get("id") or "").strip() or None

    def check_header(self, header: list[str]) -> None:
        """A header naming no canonical field is no staff directory (or another delimiter than the
        one given): reading it would make every column a custom field of people with no name."""
        if header and not any(is_known_column(column) for column in header):
            seen = ", ".join(repr(column) for column in header[:10]) + (", ..." if len(header) > 10 else "")
            given = self.settings["delimiter"]
            how = f"read with the delimiter {given!r}" if given else "no delimiter among , ; tab | fits better"
            raise ConfigError(
                f"{self.name}: {self.path}: the header names no canonical field (columns seen: {seen}; {how}); "
                "name the columns first_name, last_name, email, ... or set the `delimiter` setting",
                setting="path",
            )

    def values_of(self, row: Row) -> tuple[dict[str, Any], list[str]]:
        cells = {k: v.strip() for k, v in row.data.items() if isinstance(k, str) and isinstance(v, str)}
        return load_lenient(canonical_values(cells, self.settings["tag_separator"]))

    def write_fields(
        self, table: Table, row: Row, values: Mapping[str, Any], custom: Mapping[str, Any], removed: Iterable[str] = ()
    ) -> None:
        lay_out(table, row, values, custom, removed, self.settings["tag_separator"])

    def add_id_column(self, table: Table) -> None:
        table.header.insert(0, "id")
        for row in table.rows:
            row.data["id"] = row.id
        table.has_ids = True

    def write_table(self, table: Table, out: Any) -> None:
        write_rows(table, out, self.settings["delimiter"] or table.delimiter)


class JsonlAdapter(FileAdapter):
    """A staff directory in a JSON Lines file: one JSON object a line, keyed by canonical field names."""

    name = "jsonl"

    newline = "\n"  # a line ends at "\n" only: a "\r" before it is cut, U+2028 in a JSON string is no line break

    def _rows(self, handle: IO[str], table: Table) -> Iterator[tuple[Row, str | None]]:
        table.has_ids = True
        for number, text in enumerate(self._lines(handle, table), start=1):
            line = text.removesuffix("\n").rstrip("\r")
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                problem = None if isinstance(data, dict) else f"expected a JSON object, got {type(data).__name__}"
            except ValueError as exc:
                data, problem = None, f"not JSON ({exc})"
            if problem:
                yield Row("", line, [f"line {number}: {problem}"], readable=False), None
                continue
            given = data.get("id")
            if given in (None, ""):
                table.has_ids = False
            yield Row("", data), None if given in (None, "") else str(given)

    def values_of(self, row: Row) -> tuple[dict[str, Any], list[str]]:
        if not isinstance(row.data, dict):
            return {}, []
        return load_lenient(canonical_values(trimmed(row.data)))

    def write_fields(
        self, table: Table, row: Row, values: Mapping[str, Any], custom: Mapping[str, Any], removed: Iterable[str] = ()
    ) -> None:
        data = row.data
        data["id"] = row.id
        for name, value in values.items():
            if name in ("id", "system", "custom_fields"):
                continue
            for key in [k for k in data if k == name or k.startswith(name + ".")]:
                del data[key]
            if value is not None:
                data[name] = value
        if custom or removed:
            stored = data.get("custom_fields")
            if stored and not isinstance(stored, dict):  # merging would overwrite what we cannot read
                raise PersonValidationError(
                    {
                        "custom_fields": [
                            f"the line holds {type(stored).__name__} under custom_fields, not an object; "
                            f"fix it in {self.path} first"
                        ]
                    },
                    record=f"{self.name}#{row.id}",
                )
            merged = {**(stored or {}), **custom}
            for key in [k for k in data if k not in KNOWN_COLUMNS and k not in ("id", "custom_fields")]:
                del data[key]  # loose keys were custom fields; they now live in custom_fields
            for key in removed:
                merged.pop(key, None)
            if merged:
                data["custom_fields"] = merged
            else:
                data.pop("custom_fields", None)

    def add_id_column(self, table: Table) -> None:
        for row in table.rows:
            if isinstance(row.data, dict) and row.data.get("id") in (None, ""):
                row.data = {"id": row.id, **{k: v for k, v in row.data.items() if k != "id"}}
        table.has_ids = True

    def write_table(self, table: Table, out: Any) -> None:
        for row in table.rows:
            line = row.data if isinstance(row.data, str) else json.dumps(row.data, ensure_ascii=False, default=str)
            out.write(line + "\n")


# ---------------------------------------------------------------------------------------------- helpers


def _csv_rows(reader: Any) -> Iterator[tuple[list[str], str | None]]:
    """The reader's rows; a row the csv module refuses comes out empty with the reason."""
    while True:
        try:
            yield next(reader), None
        except StopIteration:
            return
        except csv.Error as exc:
            yield [], str(exc)


def _stream_encoding(encoding: str, head: bytes) -> str:
    """The encoding to read a file starting with `head` as a stream, as bytes.decode(encoding) reads it:
    Python's utf-16 and utf-32 stream decoders refuse a file without a byte-order mark, which
    bytes.decode reads in the machine's byte order."""
    name = codecs.lookup(encoding).name
    boms = {"utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)}
    if name in boms and not head.startswith(boms[name]):
        return f"{name}-{'le' if sys.byteorder == 'little' else 'be'}"
    return encoding


def _raw(data: Any) -> dict[str, Any]:
    if isinstance(data, dict):
        return {k if isinstance(k, str) else "_extra": v for k, v in data.items()}
    return {"line": data}


def _read_umask() -> int:
    umask = os.umask(0o022)  # read once, at import: os.umask can only be read by setting it
    os.umask(umask)
    return umask


_NEW_FILE_MODE = 0o666 & ~_read_umask()


def _mode_of(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return _NEW_FILE_MODE


__all__ = ["CsvAdapter", "JsonlAdapter", "write_csv", "write_jsonl"]
