"""Translating and diffing people for a target, passwords and reports: plain data, no HTTP at all."""

import datetime as dt
import io
import json
import string

import pytest

import staffbridge
from staffbridge import Address, Person, Ref
from staffbridge.adapters.moco import MocoAdapter
from staffbridge.jobs.migration.report import Report, Row
from staffbridge.jobs.migration.run import with_mapping
from staffbridge.jobs.migration.translate import Translator, digest
from staffbridge.sdk.passwords import OneTimePasswords, check_password, create_options, new_password, with_password

NOWHERE = "http://127.0.0.1:9"  # never contacted: every test here stays off the network


@pytest.fixture
def moco():
    return MocoAdapter(base_url=NOWHERE, api_key="k")


def with_units(adapter, **names):
    """The target with a value map naming its unit ids, so no lookup request is needed."""
    return with_mapping(adapter, {"fields": {"department": {"values": names}}})


def test_only_fields_the_target_stores_are_carried_and_the_rest_counted(moco):
    person = Person(
        id="77",
        system="whosoff",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@x.io",
        employee_number="E1",
        manager_id="5",
        title="Dr.",
        tags=["a"],
    )
    carried = Translator(moco).carry(person)
    assert carried.wanted.id is None and carried.wanted.system is None
    assert (carried.wanted.first_name, carried.wanted.tags) == ("Ada", ["a"])
    assert carried.wanted.employee_number is None
    assert sorted(carried.dropped) == ["employee_number", "manager_id", "title"]


def test_source_reference_ids_are_stripped_and_names_resolved(moco):
    target = with_units(moco, **{"909": "Vertrieb"})
    carried = Translator(target).carry(Person(first_name="A", department=Ref("123456", "vertrieb")))
    assert carried.wanted.department == Ref("909", "Vertrieb")


def test_a_reference_without_a_name_cannot_be_translated(moco):
    translator = Translator(with_units(moco, **{"909": "Vertrieb"}))
    carried = translator.carry(Person(first_name="A", last_name="B", email="a@b.io", department=Ref("123456")))
    assert carried.wanted.department is None
    assert "only the source id '123456'" in carried.unresolved["department"]
    assert "department" in translator.missing_for_create(carried)  # MOCO requires a unit


def test_an_invalid_source_value_makes_the_person_invalid(moco):
    carried = Translator(moco).carry(Person(first_name="A", email="not an email", language="xx_yy!"))
    assert "email" in carried.invalid and "language" in carried.invalid


def test_a_value_the_target_cannot_hold_is_dropped_not_diffed_forever():
    fieldservice = staffbridge.connect("fieldservice", base_url=NOWHERE, api_key="k")
    translator = Translator(fieldservice)
    text_only = translator.carry(Person(first_name="A", address=Address(formatted="Street 1\n10115 Berlin")))
    assert text_only.wanted.address is None and text_only.dropped == ["address"]
    parts = translator.carry(Person(first_name="A", address=Address(street="Street 1", city="Berlin")))
    assert parts.wanted.address == Address(street="Street 1", city="Berlin")


def test_changes_name_only_what_differs_and_never_clear(moco):
    translator = Translator(moco)
    current = Person(
        id="1",
        first_name="Ada",
        last_name="Lovelace",
        email="ADA@x.io",
        mobile_phone="1",
        tags=["b", "a"],
        department=Ref("909", "Vertrieb"),
        notes="keep me",
    )
    wanted = Person(
        first_name="Ada",
        last_name="King",
        email="ada@x.io",
        mobile_phone=" 1 ",
        tags=["a", "b"],
        department=Ref("909", "Sales (renamed)"),
        language="de",
    )
    changes = translator.changes(current, wanted)
    assert [(c.field, c.before, c.after) for c in changes] == [("last_name", "Lovelace", "King")]
    # language is write-only in MOCO: it always reads back empty, so it is never compared
    assert "language" not in translator.comparable and "language" in translator.writable


def test_custom_fields_merge_and_compare_by_key(moco):
    translator = Translator(moco)
    current = Person(custom_fields={"Personalnummer": "E1", "Schuhgröße": "42"})
    assert translator.changes(current, Person(custom_fields={"Personalnummer": "E1"})) == []
    [change] = translator.changes(current, Person(custom_fields={"Personalnummer": "E2"}))
    assert change.after == {"Personalnummer": "E2", "Schuhgröße": "42"}
    assert change.to_dict()["before"] == {"Personalnummer": "E1", "Schuhgröße": "42"}


def test_change_values_are_json_ready():
    from staffbridge.jobs.migration.translate import Change

    change = Change("birthday", dt.date(1990, 1, 2), Ref("1", "x"))
    assert (
        json.dumps(change.to_dict())
        == '{"field": "birthday", "before": "1990-01-02", "after": {"id": "1", "name": "x"}}'
    )


def test_digest_follows_the_values():
    a = Person(first_name="Ada", tags=["x"])
    assert digest(a) == digest(Person(first_name="Ada", tags=["x"]))
    assert digest(a) != digest(Person(first_name="Ada", tags=["y"]))
    assert len(digest(a)) == 32


def test_the_overlay_leaves_the_callers_adapter_alone(moco):
    clone = with_mapping(
        moco, {"fields": {"department": {"values": {7: "Vertrieb"}}, "title": False}, "defaults": {"language": "de"}}
    )
    assert clone.mapping.spec("department").converter.values == {"7": "Vertrieb"}
    assert moco.mapping.spec("department").converter.values == {}
    assert clone.mapping.defaults == {"language": "de"} and moco.mapping.defaults == {}
    assert clone.transport is moco.transport  # one connection, one rate limiter
    assert clone.find_ref("department", "vertrieb") == Ref("7", "vertrieb")


def test_a_broken_overlay_is_a_mapping_error(moco, tmp_path):
    with pytest.raises(staffbridge.MappingError):
        with_mapping(moco, {"fields": {"nickname": "x"}})
    (tmp_path / "bad.toml").write_text("[fields\n", encoding="utf-8")
    with pytest.raises(staffbridge.MappingError):
        with_mapping(moco, tmp_path / "bad.toml")


# ---------------------------------------------------------------------------------------------- passwords


def test_generated_passwords_are_strong_and_different():
    passwords = {new_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) == 24
        assert any(c in string.ascii_lowercase for c in password) and any(c in string.ascii_uppercase for c in password)
        assert any(c in string.digits for c in password) and any(not c.isalnum() for c in password)


def test_create_options_come_from_the_signature_or_a_declaration(moco):
    assert create_options(moco) == {"password": "optional", "welcome_email": "optional"}

    class Strict(MocoAdapter):
        password_on_create = "required"

    class Demanding(MocoAdapter):
        def create(self, person, password, welcome_email=None):
            return super().create(person, password=password, welcome_email=welcome_email)

    assert create_options(Strict(base_url=NOWHERE, api_key="k"))["password"] == "required"
    assert create_options(Demanding(base_url=NOWHERE, api_key="k"))["password"] == "required"


def test_a_password_is_checked_in_one_place_and_never_named():
    assert check_password("s3cret!", max_length=50) == "s3cret!"
    for bad in (None, "", 7, "x" * 51):
        with pytest.raises(staffbridge.PersonValidationError) as info:
            check_password(bad, max_length=50, record="whosoff#1")
        assert info.value.errors == {"password": ["Must be text of at most 50 characters."]}
        assert "x" * 51 not in str(info.value)


def test_with_password_copies_the_body_and_masks_the_password_from_then_on(moco):
    body = {"access": {"email": "ada@x.io"}}
    sent = with_password(body, "hunter2-XY", moco.transport, "access.password")
    assert sent == {"access": {"email": "ada@x.io", "password": "hunter2-XY"}} and body == {
        "access": {"email": "ada@x.io"}
    }
    assert "hunter2-XY" not in repr(moco.transport.describe("POST", "/u", body=sent))
    assert with_password(body, None, moco.transport) is body


def test_one_time_passwords_are_masked_while_sent_and_forgotten_after(moco):
    class Strict(MocoAdapter):
        password_on_create = "required"

    strict = Strict(base_url=NOWHERE, api_key="k")
    passwords = OneTimePasswords(strict)
    with passwords.for_create() as password:
        assert password and password in strict.transport.secrets
    assert password not in strict.transport.secrets  # spent: masking it would only slow every log line
    with OneTimePasswords(moco).for_create() as none:
        assert none is None  # MOCO takes a password, but does not require one


def test_a_create_refused_for_want_of_a_password_makes_passwords_required(moco):
    passwords = OneTimePasswords(moco)
    refused = staffbridge.PersonValidationError({"password": ["required"]})
    assert not passwords.required and passwords.learn(refused, None) and passwords.required
    assert not OneTimePasswords(moco).learn(staffbridge.PersonValidationError({"email": ["bad"]}), None)
    assert not OneTimePasswords(moco).learn(refused, "given-already")


# ---------------------------------------------------------------------------------------------- report


def test_report_totals_ok_and_files():
    rows = [
        Row("1", "a", "create", "ok"),
        Row("2", "b", "update", "ok", fields=["email", "tags"]),
        Row("3", None, "cannot_migrate", "failed", "no department named 'X'"),
        Row("4", "d", "unchanged", "ok"),
    ]
    report = Report(rows, notes=["a note"])
    assert not report.ok and [r.source_id for r in report.failures] == ["3"]
    assert report.totals == {
        "records": 4,
        "create": 1,
        "update": 1,
        "unchanged": 1,
        "delete": 0,
        "conflict": 0,
        "cannot_migrate": 1,
        "ok": 3,
        "failed": 1,
        "planned": 0,
    }
    out = io.StringIO()
    report.to_csv(out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "source_id,target_id,name,email,action,status,reason,fields"
    assert lines[2] == "2,b,,,update,ok,,email tags"
    out = io.StringIO()
    report.to_json(out)
    assert json.loads(out.getvalue())["notes"] == ["a note"]
    assert Report([Row("1", "a", "create", "ok")]).ok
    assert not Report([Row("1", "a", "create", "ok")], source_complete=False).ok
