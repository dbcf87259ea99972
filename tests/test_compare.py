"""One "same value": matching, plan diffs and unify conflicts agree on every pair of values.

The pairs below are judged three ways with the jobs' own machinery (the matcher, the plan diff, a
unify run) and all three must give the same answer, the one the pair states.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import staffbridge
from staffbridge import Address, Person, Ref
from staffbridge.jobs.sync.matching import Matcher
from staffbridge.model.compare import is_empty, normalise, same_value
from staffbridge.model.person import person_changes

from .test_unify_fakes import MemoryAdapter

PAIRS = [  # field, one system's value, another's, whether they are the same
    ("username", "ada", "ADA", True),
    ("email", " Ada.Lovelace@Example.com", "ada.lovelace@example.com", True),
    ("email", "ada@example.com", "ada@example.org", False),
    ("work_phone", "+49 40 1001", "+49 (40) 1001", True),
    ("mobile_phone", "+49 170 1234", "+49-170-1234", True),
    ("mobile_phone", "+49 170 1234", "+49 170 1235", False),
    ("employee_number", "E001", "e001", False),
    ("employee_number", " E 001 ", "E  001", True),
    ("last_name", " Lovelace ", "Lovelace", True),
    ("last_name", "lovelace", "Lovelace", False),
    ("department", Ref("7", "Vertrieb"), Ref("123456", "vertrieb"), True),
    ("department", Ref("7", "Vertrieb"), Ref("7", "Service"), False),
    ("tags", ["a", "b"], ["b ", "a"], True),
    ("tags", ["a"], ["a", "b"], False),
    ("birthday", dt.date(1990, 5, 17), dt.date(1990, 5, 17), True),
    ("birthday", dt.date(1990, 5, 17), dt.date(1990, 5, 18), False),
    (
        "address",
        Address(formatted="Hauptstraße 1\n10115 Berlin"),
        Address(formatted="hauptstraße 1\n10115  BERLIN"),
        True,
    ),
    ("address", Address(street="Hauptstraße 1", city="Berlin"), Address(street="Lindenweg 2", city="Berlin"), False),
    ("custom_fields.Kostenstelle", "K 42", " K 42", True),
    ("custom_fields.Kostenstelle", "K 42", "K 43", False),
]
IDS = [f"{field}:{a!r}~{b!r}" for field, a, b, _ in PAIRS]


def holding(field: str, value: Any, **extra: Any) -> Person:
    """A person with `value` in `field`, identified by a custom field no pair touches."""
    custom = {"Ident": "1"}
    if field.startswith("custom_fields."):
        custom[field.split(".", 1)[1]] = value
        return Person(custom_fields=custom, **extra)
    return Person(custom_fields=custom, **{field: value}, **extra)


def matched(field: str, a: Any, b: Any) -> bool:
    target = holding(field, a, id="t1")
    return Matcher([field]).extend([target]).match(holding(field, b, id="s1")).found is target


def planned_unchanged(field: str, a: Any, b: Any) -> bool:
    return person_changes(holding(field, a), holding(field, b)) == {}


def unified_without_conflict(field: str, a: Any, b: Any) -> bool:
    one, other = MemoryAdapter("a", [holding(field, a, id="a1")]), MemoryAdapter("b", [holding(field, b, id="b1")])
    [person] = staffbridge.unify([one, other], match=["custom_fields.Ident"]).people
    return person.conflict(field) is None


@pytest.mark.parametrize("field, a, b, same", PAIRS, ids=IDS)
def test_matching_plan_and_unify_agree(field: str, a: Any, b: Any, same: bool) -> None:
    verdicts = {
        "matching": matched(field, a, b),
        "plan": planned_unchanged(field, a, b),
        "unify": unified_without_conflict(field, a, b),
    }
    assert verdicts == dict.fromkeys(verdicts, same)


@pytest.mark.parametrize("field, a, b, same", PAIRS, ids=IDS)
def test_the_comparison_and_its_key_give_the_pairs_answer(field: str, a: Any, b: Any, same: bool) -> None:
    assert same_value(field, a, b) is same and same_value(field, b, a) is same
    assert (normalise(field, a) == normalise(field, b)) is same


def test_a_migration_plans_no_update_for_a_difference_of_form(tmp_path) -> None:
    target_file = tmp_path / "target.jsonl"
    target_file.write_text(
        '{"id": "1", "first_name": "Ada", "email": "ada@example.com", "username": "ADA", '
        '"work_phone": "+49 (40) 1001"}\n',
        encoding="utf-8",
    )
    source_file = tmp_path / "source.jsonl"
    source_file.write_text(
        '{"id": "9", "first_name": "Ada", "email": "Ada@Example.com", "username": "ada", '
        '"work_phone": "+49 40 1001"}\n',
        encoding="utf-8",
    )
    plan = staffbridge.migrate(
        staffbridge.connect("jsonl", path=str(source_file)), staffbridge.connect("jsonl", path=str(target_file))
    )
    assert plan.summary()["update"] == 0 and plan.summary()["unchanged"] == 1


def test_empty_says_nothing_and_two_empties_are_the_same() -> None:
    for value in (None, "", "   ", [], {}, Ref(), Address()):
        assert is_empty(value) and normalise("notes", value) is None
        assert same_value("notes", value, None)
    assert not same_value("notes", "", "x") and not is_empty(0) and not is_empty(False)


def test_where_the_relation_is_wider_than_its_key() -> None:
    # a Ref without a name is only an id: the same as a named Ref with that id
    assert same_value("department", Ref("7"), Ref("7", "Vertrieb"))
    assert not same_value("department", Ref("7"), Ref("8", "Vertrieb"))
    # a one-text address holds the other's street, zip and city (the country is often left out)
    text = Address(formatted="Ada L\nHauptstraße 1\n10115 Berlin")
    assert same_value("address", text, Address(street="Hauptstraße 1", zip="10115", city="Berlin", country="DE"))
    assert not same_value("address", text, Address(street="Lindenweg 2", zip="10115", city="Berlin"))
    # both structured: every part counts, a part only one has too
    assert not same_value("address", Address(street="A 1", city="B"), Address(street="A 1", city="B", zip="1"))


def test_numbers_and_their_text_are_the_same_value() -> None:
    assert same_value("custom_fields.Schuhgröße", 42, "42") and not same_value("custom_fields.x", True, 1)
    assert same_value("custom_fields.x", {"a": 1, "b": 2}, {"b": 2, "a": 1})


def test_unify_compares_refs_of_two_systems_by_name_only() -> None:
    one = MemoryAdapter("a", [holding("role", Ref("42", "Admin"), id="a1")])
    other = MemoryAdapter("b", [holding("role", Ref("service"), id="b1")])  # an id of b's own, no name
    [person] = staffbridge.unify([one, other], match=["custom_fields.Ident"]).people
    assert person.conflicts == []
