import datetime as dt

import pytest

from staffbridge import Address, Person, PersonSchema, PersonValidationError, Ref
from staffbridge.model.person import person_changes, validate_changes, validate_person


def test_validation_names_every_bad_field():
    bad = Person(first_name="Ada", email="ada(at)example.com", birthday="1815-13-10", language="english!")
    with pytest.raises(PersonValidationError) as info:
        validate_person(bad)
    assert set(info.value.errors) == {"email", "birthday", "language"}
    assert "Ada" in str(info.value) and "email" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_required_fields_are_named():
    with pytest.raises(PersonValidationError) as info:
        validate_person(Person(first_name="Ada"), required=("last_name", "email", "department"))
    assert set(info.value.errors) == {"last_name", "email", "department"}


def test_iso_strings_become_dates_and_raw_survives():
    person = Person(
        first_name="Ada",
        birthday="1815-12-10",
        employment_start="2020-01-01",
        raw={"vendor": "field"},
        language="de-CH",
    )
    checked = validate_person(person)
    assert checked.birthday == dt.date(1815, 12, 10) and checked.employment_start == dt.date(2020, 1, 1)
    assert checked.raw == {"vendor": "field"}


def test_schema_round_trip_through_json_dict():
    person = Person(
        id="1",
        first_name="Ada",
        department=Ref("7", "Math"),
        address=Address(city="London"),
        tags=["a"],
        custom_fields={"x": 1},
        birthday=dt.date(1815, 12, 10),
        updated_at=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )
    assert Person.from_dict(person.to_dict()) == person


def test_unknown_keys_are_refused_not_dropped():
    with pytest.raises(PersonValidationError) as info:
        Person.from_dict({"first_name": "Ada", "frist_name": "typo"})
    assert "frist_name" in info.value.errors


def test_changes_validate_names_and_values():
    assert validate_changes({"email": "a@b.de"}) == {"email": "a@b.de"}
    with pytest.raises(PersonValidationError) as info:
        validate_changes({"id": "5", "emial": "x", "email": "nope"})
    assert set(info.value.errors) >= {"id", "emial"}


def test_person_changes_ignores_cosmetic_differences():
    current = Person(email="Ada@Example.com", tags=["b", "a"], department=Ref("1", "Math"), work_phone="")
    wanted = Person(
        email="ada@example.com", tags=["a", "b"], department=Ref(name="math"), work_phone=None, mobile_phone="+44 1"
    )
    assert person_changes(current, wanted) == {"mobile_phone": "+44 1"}


def test_person_changes_merges_custom_fields_and_never_clears():
    current = Person(custom_fields={"a": 1, "b": 2}, notes="keep me")
    wanted = Person(custom_fields={"b": 3}, notes=None)
    assert person_changes(current, wanted) == {"custom_fields": {"a": 1, "b": 3}}


def test_repr_shows_set_fields_but_never_raw():
    person = Person(first_name="Ada", raw={"access": {"password": "hunter2"}})
    assert "Ada" in repr(person) and "hunter2" not in repr(person)


def test_schema_dumps_dates_as_iso():
    dumped = PersonSchema().dump(Person(birthday=dt.date(2000, 1, 2)))
    assert dumped["birthday"] == "2000-01-02"
