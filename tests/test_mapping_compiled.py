"""The compiled readers and writers (staffbridge.mapping.compiled) against the mapping specs taken one by one.

The compiled functions inline fast paths for common values (a string date, a {id, name} object, a
list of strings) and fall back to the field's converter for anything else. Here a plain loop over
the field specs, calling each converter as the mapping file names it, is the oracle: for malformed
records of every vendor (the mapping fuzz strategy, plus values close to each fast path's edges),
the compiled reader gives an equal Person, the same `raw` and the same problems in the same order.
Writing likewise: for Persons read from those records with fuzzed canonical values laid over them,
and for fuzzed changes, the compiled writers give the same body or the same MappingError.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping as MappingABC
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staffbridge import MappingError, Person, PersonValidationError
from staffbridge.mapping.engine import Mapping, delete_path, get_path, set_path
from staffbridge.model.person import WRITABLE_FIELDS, validate_changes
from staffbridge.model.values import Address, Ref

from .test_fuzz_http import FUZZ, ODD, connect
from .test_fuzz_mapping import CHANGES, VENDORS, malformed, records  # noqa: F401 (records: a fixture)

_MISSING = object()
_ERRORS = (ValueError, TypeError, AttributeError)


def read_spec_by_spec(mapping: Mapping, record: dict[str, Any], system: str | None) -> Person:
    """What the mapping file says, read without compiling: each spec's path, then its converter."""
    values: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    problems: list[str] = []
    for spec in mapping.fields:
        if not spec.read:
            continue
        if isinstance(spec.read, MappingABC):
            value = {part: get_path(record, path, None) for part, path in spec.read.items()}
            where = ", ".join(spec.read.values())
        else:
            value, where = get_path(record, spec.read, _MISSING), spec.read
            if value is _MISSING:
                continue
        try:
            value = spec.converter.read(value)
        except _ERRORS as exc:
            problems.append(f"{where}: {exc}")
            continue
        if spec.custom_key:
            if value is not None:
                custom[spec.custom_key] = value
        else:
            values[spec.name] = value
    if custom:
        values["custom_fields"] = {**(values.get("custom_fields") or {}), **custom}
    ident = get_path(record, mapping.id_path, None)
    raw = record
    if any(get_path(record, path, _MISSING) is not _MISSING for path in mapping.secret):
        raw = copy.deepcopy(record)
        for path in mapping.secret:
            *parents, last = path.split(".")
            node = get_path(raw, ".".join(parents)) if parents else raw
            if isinstance(node, dict):
                node.pop(last, None)
    person = Person(id=None if ident is None else str(ident), system=system, **values)
    person.raw, person.problems = raw, problems
    return person


# values at the edges of the inlined fast paths, put in place of a mapped field's value
EDGES = st.sampled_from(
    [
        *ODD,
        "2024-03-01",
        "2024-02-30",
        "2024-W10-1",
        "20240301",
        " 2024-03-01",
        "2024-03-01T10:00:00",
        "2024-03-01T10:00:00Z",
        "2024-03-01T10:00:00.000Z",
        "2024-03-01 10:00:00+02:00",
        "2024-03-01T23:30:00-02:00",
        "2024-03-01T10:00:00Z ",
        "01.03.2024",
        "31.02.2024",
        "1.03.2024",
        "01.03.\uff12\uff10\uff12\uff14",  # full-width digits: isdigit() but not ASCII
        "01-03-2024",
        "+1.03.2024",
        "0",
        "00",
        "007",
        0,
        7,
        -1,
        True,
        False,
        1.5,
        ["a", "b"],
        ["a", 1],
        [],
        {},
        {"id": 7, "name": "Sales"},
        {"id": "7", "name": ""},
        {"id": "0", "name": None},
        {"id": 0, "name": "Zero"},
        {"id": True, "name": "x"},
        {"id": None, "name": "Named"},
        {"id": 1.5, "name": "x"},
        {"street": "Main 1", "zip": "20095"},
        {"street": "", "city": None},
        {"street": 5},
        {"formatted": "x"},
        {"street": "a", "zip": "b", "city": "c", "state": "d", "country": "e", "co": "f"},
    ]
)


@st.composite
def edged(draw: Any, real: list[dict[str, Any]], mapping: Mapping) -> dict[str, Any]:
    """A real record with a few mapped fields set to edge values."""
    record = copy.deepcopy(draw(st.sampled_from(real)))
    paths = [p for spec in mapping.fields if spec.read for p in _paths(spec.read)]
    for path in draw(st.lists(st.sampled_from(paths), max_size=4)):
        *parents, last = path.split(".")
        node = record
        for step in parents:
            if not isinstance(node.get(step), dict):
                node[step] = {}
            node = node[step]
        node[last] = copy.deepcopy(draw(EDGES))
    return record


def _paths(read: Any) -> list[str]:
    return list(read.values()) if isinstance(read, MappingABC) else [read]


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_compiled_reader_reads_as_the_specs_say(vendor, records):  # noqa: F811 (the fixture)
    mapping = connect(vendor, "http://fuzz.invalid").mapping

    @FUZZ
    @given(record=st.one_of(malformed(records[vendor]), edged(records[vendor], mapping)))
    def check(record: Any) -> None:
        if not isinstance(record, dict):
            return  # Mapping.to_person answers those before the compiled reader
        before = copy.deepcopy(record)
        expected = read_spec_by_spec(mapping, before, vendor)
        got = mapping.to_person(record, vendor)
        assert got == expected
        assert got.raw == expected.raw and got.problems == expected.problems
        assert [type(getattr(got, n)) for n in vars(got)] == [type(getattr(expected, n)) for n in vars(expected)]
        assert record == before

    check()


def test_fast_paths_give_what_the_converters_give():
    """A few values each fast path takes, read through one mapping with every converter kind."""
    mapping = Mapping.from_dict(
        "test",
        {
            "fields": {
                "birthday": {"path": "b", "converter": "date:%d.%m.%Y"},
                "employment_start": {"path": "s", "converter": "date"},
                "employment_end": {"path": "e", "converter": "date_from_datetime"},
                "created_at": {"path": "c", "converter": "datetime"},
                "department": {"path": "d", "converter": "ref:int"},
                "role": {"path": "r", "converter": "enum", "values": {"1": "one"}},
                "address": {"path": "a", "converter": "address"},
                "tags": {"path": "t", "converter": "list"},
                "custom_fields": {"path": "o", "converter": "object"},
                "manager_id": {"path": "m", "converter": "id:str0"},
            }
        },
    )
    record = {
        "b": "01.03.2024",
        "s": "2024-03-02",
        "e": "2024-03-03T23:30:00-02:00",
        "c": "2024-03-01T10:00:00Z",
        "d": {"id": 7, "name": "Sales"},
        "r": "1",
        "a": {"street": "Main 1", "zip": ""},
        "t": ["a", "b"],
        "o": {"k": 1},
        "m": 0,
    }
    person = mapping.to_person(record, "test")
    assert person == read_spec_by_spec(mapping, record, "test")
    assert person.birthday == dt.date(2024, 3, 1) and person.employment_end == dt.date(2024, 3, 4)
    assert person.created_at == dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC) and person.manager_id is None
    assert person.address is not None and person.address.street == "Main 1" and person.address.zip is None
    assert person.tags is not record["t"] and person.custom_fields is not record["o"]  # copies, not the record's


def test_a_reference_renamed_between_records_reads_its_new_name():
    """The reader keeps one Ref per id as sent; a unit renamed meanwhile (or one id sent with two
    names) reads each record's own name, the int and the string id alike."""
    mapping = Mapping.from_dict("test", {"fields": {"department": {"path": "d", "converter": "ref:int"}}})
    sent = [(7, "Sales"), (7, "Sales & Marketing"), ("7", "Sales"), (7, "Sales"), ("7", "Vertrieb")]
    for ident, name in sent:
        record = {"d": {"id": ident, "name": name}}
        person = mapping.to_person(record, "test")
        assert person == read_spec_by_spec(mapping, record, "test")
        assert person.department == Ref(id="7", name=name)


def write_spec_by_spec(mapping: Mapping, changes: MappingABC[str, Any], record: str | None = None) -> dict[str, Any]:
    """The vendor body for canonical `changes`, written spec by spec (each converter as named)."""
    body: dict[str, Any] = {}
    claimed = {s.custom_key for s in mapping.fields if s.custom_key and s.write}
    for spec in mapping.fields:
        if not spec.write or spec.name.split(".", 1)[0] not in changes:
            continue
        value = changes[spec.name.split(".", 1)[0]]
        if spec.custom_key:
            value = (value or {}).get(spec.custom_key)
            if value is None:
                continue
        elif spec.name == "custom_fields" and value:
            value = {k: v for k, v in value.items() if k not in claimed}
        try:
            wire = spec.converter.write(value) if value is not None else spec.clear
        except (ValueError, TypeError) as exc:
            raise MappingError(
                f"{record or 'person'}: {spec.name}: {exc}", field=spec.name, path=str(spec.write), record=record
            ) from None
        if isinstance(spec.write, MappingABC):
            for part, path in spec.write.items():
                part_value = wire.get(part) if isinstance(wire, MappingABC) else None
                if part_value is not None or value is None:
                    set_path(body, path, part_value)
        else:
            set_path(body, spec.write, wire)
    for path in mapping.read_only:
        delete_path(body, path)
    return body


def body_spec_by_spec(mapping: Mapping, person: Person, create: bool = True) -> dict[str, Any]:
    values = {spec.name: getattr(person, spec.name.split(".", 1)[0]) for spec in mapping.fields if spec.write}
    changes = {k: v for k, v in values.items() if v not in (None, [], {})}
    body = write_spec_by_spec(mapping, changes, record=person.label)
    if create:
        for path, default in mapping.defaults.items():
            if get_path(body, path, _MISSING) is _MISSING:
                set_path(body, path, default)
    return body


def _outcome(write: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return write(*args, **kwargs)
    except MappingError as exc:
        return (type(exc), str(exc), exc.field, exc.path, exc.record)
    except (AttributeError, TypeError) as exc:  # unchecked changes can break a converter either way
        return (type(exc), str(exc))


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_compiled_writers_write_as_the_specs_say(vendor, records):  # noqa: F811 (the fixture)
    adapter = connect(vendor, "http://fuzz.invalid")
    mapping = adapter.mapping

    @FUZZ
    @given(record=st.sampled_from(records[vendor]) | edged(records[vendor], mapping), changes=CHANGES)
    def check(record: dict[str, Any], changes: dict[str, Any]) -> None:
        try:  # a Person is checked before it is written (validate_person), as a change is (validate_changes)
            checked = validate_changes({k: v for k, v in changes.items() if k in WRITABLE_FIELDS})
        except PersonValidationError:
            checked = {}
        person = adapter.to_person(record).replace(**checked)
        for create in (True, False):
            assert _outcome(mapping.from_person, person, create) == _outcome(body_spec_by_spec, mapping, person, create)
        assert _outcome(mapping.to_vendor, changes, record="x#1") == _outcome(
            write_spec_by_spec, mapping, changes, record="x#1"
        )

    check()


def test_write_fast_paths_give_what_the_converters_give():
    """Values at the edges of each inlined write: a date before year 1000 (strftime writes "999"), a
    datetime where a date goes, int and name-only Refs, an unknown code, digits that are not ASCII,
    an address with only a formatted text or a part that is no text, containers of other classes."""
    mapping = Mapping.from_dict(
        "test",
        {
            "fields": {
                "birthday": {"path": "b", "converter": "date:%d.%m.%Y"},
                "employment_start": {"path": "s", "converter": "date"},
                "employment_end": {"path": "e", "converter": "date_from_datetime"},
                "department": {"path": "d", "converter": "ref:int", "values": {"7": "Sales"}},
                "role": {"path": "r", "converter": "enum", "values": {"1": "one"}},
                "address": {"path": "a", "converter": "address"},
                "tags": {"path": "t", "converter": "list"},
                "custom_fields": {"path": "o", "converter": "object"},
                "username": {"path": "u", "converter": "id:int"},
                "manager_id": {"path": "m", "converter": "id:str0"},
                "active": {"path": "x", "converter": "bool:1/0"},
                "external": {"path": "y", "converter": "bool"},
                "notes": {"path": "n", "converter": "address_text"},
            }
        },
    )
    ref_name = Mapping.from_dict("test", {"fields": {"department": {"path": "d", "converter": "ref_name"}}})
    values: list[dict[str, Any]] = [
        {"birthday": dt.date(999, 1, 2), "employment_start": dt.date(5, 3, 4), "employment_end": dt.date(812, 5, 6)},
        {"birthday": dt.datetime(2024, 3, 1, 10), "employment_start": dt.datetime(2024, 3, 1, 23, 30)},
        {"employment_end": dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))},
        {"department": Ref(7, "Sales"), "role": Ref(None, "ONE"), "username": "²"},
        {"department": Ref(None, "sales"), "role": Ref("2", "two"), "username": "0042", "manager_id": "0"},
        {"department": "12", "role": "1", "username": 12, "manager_id": 0},
        {"role": Ref(1, None), "active": False, "external": "yes", "address": Address(formatted="Main 1")},
        {"address": Address(street="Main 1", zip=12345), "tags": ("a", "b"), "custom_fields": {"k": [1]}},
        {"address": Address(city="Town"), "tags": ["a"], "notes": Address(street="Main 1", city="Town")},
        {"birthday": "01.03.2024", "employment_start": 20240301, "active": [], "address": "Main 1"},
    ]
    for changes in values:
        person = Person(id="1", first_name="Ada", **changes)
        for create in (True, False):
            assert _outcome(mapping.from_person, person, create) == _outcome(body_spec_by_spec, mapping, person, create)
        assert _outcome(mapping.to_vendor, changes, record="x#1") == _outcome(
            write_spec_by_spec, mapping, changes, record="x#1"
        )
        department = {"department": changes.get("department")}
        assert _outcome(ref_name.to_vendor, department, record="x#1") == _outcome(
            write_spec_by_spec, ref_name, department, record="x#1"
        )
