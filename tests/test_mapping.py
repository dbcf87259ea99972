import datetime as dt

import pytest

from staffbridge import Address, MappingError, Person, Ref
from staffbridge.mapping.engine import Mapping, get_path, set_path

# A MOCO user as the docs show it (sections/users.md), with one field the mapping does not know.
MOCO_USER = {
    "id": 123,
    "firstname": "Max",
    "lastname": "Muster",
    "active": True,
    "extern": False,
    "email": "max.muster@beispiel.de",
    "mobile_phone": "+49 177 123 45 67",
    "work_phone": "+49 40 123 45 67",
    "home_address": "",
    "info": "",
    "birthday": "1970-01-01",
    "iban": "CH3181239000001245689",
    "avatar_url": None,
    "tags": ["Deutschland"],
    "custom_properties": {"Starting Month": "January 2015"},
    "unit": {"id": 456, "name": "Geschäftsleitung"},
    "role": {"id": 42, "name": "Entwickler"},
    "created_at": "2018-10-17T09:33:46Z",
    "updated_at": "2018-10-17T09:33:46Z",
    "brand_new_field": [1],
}


@pytest.fixture
def moco():
    return Mapping.load("moco")


def test_reads_moco_asymmetries(moco):
    person = moco.to_person(MOCO_USER, system="moco")
    assert person.id == "123" and person.system == "moco"
    assert person.external is False and person.birthday == dt.date(1970, 1, 1)
    assert person.department == Ref("456", "Geschäftsleitung") and person.role == Ref("42", "Entwickler")
    assert person.address is None and person.notes is None  # "" reads as None
    assert person.custom_fields == {"Starting Month": "January 2015"}
    assert person.created_at == dt.datetime(2018, 10, 17, 9, 33, 46, tzinfo=dt.UTC)
    assert person.raw["brand_new_field"] == [1] and person.problems == []


def test_writes_moco_names(moco):
    person = moco.to_person(MOCO_USER).replace(language="de-CH", external=True)
    body = moco.from_person(person)
    assert body["external"] is True and "extern" not in body
    assert body["bday"] == "1970-01-01" and "birthday" not in body
    assert body["unit_id"] == 456 and body["role_id"] == 42 and "unit" not in body
    assert body["language"] == "de-CH" and body["info"] if "info" in body else True
    assert "created_at" not in body and "avatar_url" not in body and "id" not in body


def test_clearing_sends_the_vendor_empty_value(moco):
    assert moco.to_vendor({"work_phone": None, "tags": None}) == {"work_phone": "", "tags": []}


def test_bad_values_become_problems_with_paths_not_crashes(moco):
    broken = {**MOCO_USER, "birthday": "17.01.1975", "tags": 7, "unit": ["x"], "firstname": {"a": 1}}
    person = moco.to_person(broken)
    assert person.birthday is None and person.tags == []
    joined = " | ".join(person.problems)
    assert "birthday:" in joined and "tags:" in joined and "firstname:" in joined
    assert person.email == "max.muster@beispiel.de"


def test_non_object_record_is_a_person_with_a_problem(moco):
    person = moco.to_person(["not", "a", "user"])
    assert person.problems and person.raw == {"value": ["not", "a", "user"]}


def test_user_overlay_renames_and_adds_value_maps(tmp_path, moco):
    overlay = tmp_path / "mine.toml"
    overlay.write_text(
        "[fields]\n"
        'employee_number = "custom_properties.Personalnummer"\n'
        'department = { values = { "456" = "Management" } }\n',
        encoding="utf-8",
    )
    mine = Mapping.load("moco", overlay)
    user = {**MOCO_USER, "unit": {"id": 456}, "custom_properties": {"Personalnummer": "E1"}}
    person = mine.to_person(user)
    assert person.employee_number == "E1"
    assert person.department == Ref("456", "Management")
    body = mine.from_person(Person(department=Ref(name="management"), employee_number="E2"))
    assert body["unit_id"] == 456 and body["custom_properties"] == {"Personalnummer": "E2"}


def test_one_overlay_loader_for_adapters_and_migrations(moco):
    overlay = {
        "fields": {"department": {"values": {456: "Management"}}, "title": False},
        "defaults": {"language": "de"},
    }
    loaded = Mapping.load("moco", overlay)  # an adapter's `mapping` setting
    laid = moco.overlaid(overlay)  # a migration's mapping= over the target's live mapping
    for mine in (loaded, laid):
        assert mine.spec("department").converter.values == {"456": "Management"}  # ids as text, as vendors send
        assert mine.to_person({**MOCO_USER, "unit": {"id": 456}}).department == Ref("456", "Management")
        assert mine.spec("title") is None and mine.defaults == {"language": "de"}
    assert moco.spec("department").converter.values == {}  # the mapping laid over is left as it was


def test_an_overlay_without_a_fields_table_is_a_mapping_error(moco):
    with pytest.raises(MappingError, match=r"\[fields\] must be a table"):
        Mapping.load("moco", {"fields": ["email"]})


def test_custom_field_mapped_alone_is_not_sent_twice(moco):
    mine = Mapping.from_dict("x", {"fields": {"custom_fields": "props", "custom_fields.Cost": "cost_center"}})
    body = mine.to_vendor({"custom_fields": {"Cost": "4711", "Other": "y"}})
    assert body == {"props": {"Other": "y"}, "cost_center": "4711"}
    assert mine.to_person({"props": {"Other": "y"}, "cost_center": "4711"}).custom_fields == {
        "Other": "y",
        "Cost": "4711",
    }


def test_gathered_and_spread_paths():
    mapping = Mapping.from_dict(
        "x",
        {
            "fields": {
                "department": {
                    "read": {"id": "department_id", "name": "department_name"},
                    "write": "department_id",
                    "converter": "ref:str",
                },
                "address": {
                    "read": "address",
                    "converter": "address",
                    "write": {"street": "address.street", "city": "address.city"},
                },
                "birthday": {"path": "general.birthDate", "converter": "date:%d.%m.%Y"},
            }
        },
    )
    person = mapping.to_person(
        {
            "department_id": 5,
            "department_name": "Ops",
            "address": {"street": "Main 1", "city": "Bonn"},
            "general": {"birthDate": "15.08.1990"},
        }
    )
    assert person.department == Ref("5", "Ops") and person.address == Address(street="Main 1", city="Bonn")
    assert person.birthday == dt.date(1990, 8, 15)
    body = mapping.from_person(person)
    assert body == {
        "department_id": "5",
        "address": {"street": "Main 1", "city": "Bonn"},
        "general": {"birthDate": "15.08.1990"},
    }


def test_enum_reads_names_and_keeps_unknown_codes_as_problems():
    mapping = Mapping.from_dict(
        "x",
        {"fields": {"role": {"path": "type", "converter": "enum", "values": {"100": "staff", "300": "super user"}}}},
    )
    assert mapping.to_person({"type": "300"}).role == Ref("300", "super user")
    odd = mapping.to_person({"type": "999"})
    assert odd.role is None and "type: unknown code '999'" in odd.problems[0] and odd.raw["type"] == "999"
    assert mapping.from_person(Person(role=Ref(name="Staff"))) == {"type": "100"}
    with pytest.raises(MappingError) as info:
        mapping.from_person(Person(role=Ref(name="emperor")))
    assert info.value.field == "role"


def test_secret_paths_never_reach_raw():
    mapping = Mapping.from_dict(
        "x", {"record": {"secret": ["access.password", "access.token"]}, "fields": {"email": "access.email"}}
    )
    person = mapping.to_person({"access": {"email": "a@b.de", "password": "pw", "token": "t"}})
    assert person.raw == {"access": {"email": "a@b.de"}} and person.email == "a@b.de"


def test_read_only_paths_are_never_written_and_defaults_fill_creates():
    mapping = Mapping.from_dict(
        "x",
        {
            "record": {"read_only": ["number"]},
            "defaults": {"kind": "1"},
            "fields": {"employee_number": "number", "first_name": "name"},
        },
    )
    assert mapping.from_person(Person(employee_number="7", first_name="A")) == {"name": "A", "kind": "1"}
    assert mapping.from_person(Person(first_name="A"), create=False) == {"name": "A"}


def test_malformed_mapping_files_are_typed_errors(tmp_path):
    with pytest.raises(MappingError):
        Mapping.from_dict("x", {"fields": {"nickname": "nick"}})
    with pytest.raises(MappingError):
        Mapping.from_dict("x", {"fields": {"email": {"path": "e", "converter": "nope"}}})
    bad = tmp_path / "bad.toml"
    bad.write_text("[fields\n", encoding="utf-8")
    with pytest.raises(MappingError) as info:
        Mapping.load("moco", bad)
    assert "bad.toml" in str(info.value)
    with pytest.raises(MappingError):
        Mapping.load("nonexistent-vendor")


def test_paths():
    doc = {}
    set_path(doc, "a.b.c", 1)
    assert doc == {"a": {"b": {"c": 1}}} and get_path(doc, "a.b.c") == 1 and get_path(doc, "a.x", None) is None


def test_plain_date_also_takes_a_timestamps_date_but_a_strict_format_does_not():
    from staffbridge.mapping.converters import get_converter

    assert get_converter("date").read("2024-03-01T00:00:00Z") == dt.date(2024, 3, 1)
    with pytest.raises(ValueError):
        get_converter("date:%Y-%m-%d").read("2024-03-01T00:00:00Z")
