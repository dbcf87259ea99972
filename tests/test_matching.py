"""The matcher, with plain data: ordered keys, normalisation, conflicts instead of guesses."""

import datetime as dt

import pytest

from staffbridge import ConfigError, Person, Ref
from staffbridge.jobs.sync.matching import Matcher, key_value, normalise, parse_keys


def person(id, **fields):
    return Person(id=id, **fields)


def test_email_matches_case_folded_and_trimmed():
    target = person("t1", email="Ada.Lovelace@Example.com")
    matcher = Matcher(("email",)).extend([target])
    found = matcher.match(person("s1", email="  ada.lovelace@example.COM "))
    assert found.unique and found.found is target
    assert found.key == ("email",)


def test_other_text_is_trimmed_but_keeps_case():
    assert normalise("employee_number", "  E 001  ") == "E 001"
    assert normalise("employee_number", "e001") != normalise("employee_number", "E001")
    assert normalise("email", "") is None and normalise("employee_number", "   ") is None


def test_values_of_every_kind_normalise():
    assert (
        normalise("department", Ref("7", "Vertrieb")) == "vertrieb"
    )  # was "Vertrieb": names now compare as plan and unify compare them
    assert normalise("department", Ref("7")) == "#7"
    assert normalise("birthday", dt.date(1990, 5, 17)) == "1990-05-17"
    assert normalise("tags", ["b", " a "]) == "a|b"
    assert normalise("active", False) == "false"


def test_first_key_with_hits_decides_and_later_keys_are_fallbacks():
    by_email = person("t1", email="a@x.io", employee_number="E1")
    by_number = person("t2", email="b@x.io", employee_number="E2")
    matcher = Matcher(("email", "employee_number")).extend([by_email, by_number])
    assert matcher.match(person("s", email="a@x.io")).found is by_email
    assert matcher.match(person("s", email="new@x.io", employee_number="E2")).found is by_number
    assert not matcher.match(person("s", email="new@x.io", employee_number="E9"))


def test_two_candidates_for_one_key_is_a_conflict():
    twins = [person("t1", email="a@x.io"), person("t2", email="A@x.io")]
    found = Matcher(("email",)).extend(twins).match(person("s", email="a@x.io"))
    assert found.conflict and not found.unique and found.found is None
    assert {c.id for c in found.candidates} == {"t1", "t2"}
    assert "2 records share email" in found.reason


def test_keys_that_point_at_different_people_are_a_conflict():
    matcher = Matcher(("email", "employee_number")).extend(
        [person("t1", email="a@x.io", employee_number="E2"), person("t2", email="b@x.io", employee_number="E1")]
    )
    found = matcher.match(person("s", email="a@x.io", employee_number="E1"))
    assert found.conflict
    assert {c.id for c in found.candidates} == {"t1", "t2"}
    assert found.reason == "email 'a@x.io' finds one record, employee_number 'E1' another"


def test_a_later_key_that_agrees_is_no_conflict():
    target = person("t1", email="a@x.io", employee_number="E1")
    other = person("t2", email="b@x.io", employee_number="E1")  # the target's data has a duplicate number
    found = (
        Matcher(("email", "employee_number"))
        .extend([target, other])
        .match(person("s", email="a@x.io", employee_number="E1"))
    )
    assert found.unique and found.found is target


def test_composite_and_custom_field_keys():
    target = person(
        "t1",
        first_name="Ada",
        last_name="Lovelace",
        birthday=dt.date(1815, 12, 10),
        custom_fields={"Personalnummer": "E7"},
    )
    matcher = Matcher([("first_name", "last_name", "birthday"), "custom_fields.Personalnummer"]).extend([target])
    assert (
        matcher.match(person("s", first_name=" Ada ", last_name="Lovelace", birthday=dt.date(1815, 12, 10))).found
        is target
    )
    assert matcher.match(person("s", custom_fields={"Personalnummer": "E7"})).found is target
    # a composite key with a part missing says nothing
    assert key_value(person("s", first_name="Ada"), ("first_name", "last_name")) is None
    assert not matcher.match(person("s", first_name="Ada", last_name="Lovelace"))


def test_exclude_finds_duplicates_inside_one_directory():
    a, b, c = person("1", email="a@x.io"), person("2", email="A@X.IO"), person("3", email="c@x.io")
    matcher = Matcher(("email",)).extend([a, b, c])
    assert matcher.match(a, exclude=a).found is b
    assert not matcher.match(c, exclude=c)


def test_items_other_than_people_can_be_indexed():
    matcher = Matcher(("email",))
    matcher.add(person("1", email="a@x.io"), item=("moco", "1"))
    assert matcher.match(person(None, email="a@x.io")).found == ("moco", "1")


@pytest.mark.parametrize(
    "keys, parsed",
    [
        ("email", (("email",),)),
        (["email", "employee_number"], (("email",), ("employee_number",))),
        (["first_name+last_name"], (("first_name", "last_name"),)),
        ([("first_name", "last_name")], (("first_name", "last_name"),)),
    ],
)
def test_keys_parse(keys, parsed):
    assert parse_keys(keys) == parsed


@pytest.mark.parametrize("keys", ["mail", ["email", "nickname"], [], ["raw"], ["email.x"], ["+"]])
def test_unknown_keys_are_config_errors(keys):
    with pytest.raises(ConfigError):
        parse_keys(keys)
