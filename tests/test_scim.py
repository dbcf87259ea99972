"""SCIM 2.0 export and import: Person -> SCIM User -> Person, ListResponse shape, bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

import pytest
from scim2_models import EnterpriseUser, ListResponse, User

from staffbridge import Address, Person, Ref, ResponseError
from staffbridge.jobs.unification.run import unify
from staffbridge.mapping.scim import (
    CORE_SCHEMA,
    ENTERPRISE_SCHEMA,
    LIST_RESPONSE_SCHEMA,
    STAFFBRIDGE_SCHEMA,
    from_scim,
    person_from_scim,
    to_scim,
    to_scim_user,
)

from .test_unify_fakes import MemoryAdapter, staff

UTC = dt.UTC
# every field SCIM can hold with staffbridge's extension; not: iban (never exported), address.co is
# carried too, department travels by name, system becomes "scim"
FULL = Person(
    id="u-1",
    system="moco",
    first_name="Ada",
    middle_name="King",
    last_name="Lovelace",
    title="Dr",
    email="ada@example.com",
    work_phone="+44 20 1234",
    mobile_phone="+44 7700 1234",
    active=True,
    external=True,
    birthday=dt.date(1815, 12, 10),
    gender="female",
    language="en-GB",
    address=Address(
        street="12 St James's Sq", zip="SW1Y 4JH", city="London", state="Greater London", country="GB", co="Lord Byron"
    ),
    department=Ref(name="Analytical Engines"),
    role=Ref("42", "Administrator"),
    employee_number="E00001",
    username="ada",
    manager_id="u-9",
    employment_start=dt.date(1833, 6, 5),
    employment_end=dt.date(1852, 11, 27),
    iban="GB82WEST12345698765432",
    tags=["math", "poetry"],
    custom_fields={"Kostenstelle": "100", "Level": 3},
    notes="First programmer",
    avatar_url="https://example.com/ada.jpg",
    created_at=dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
    updated_at=dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
)
NOT_IN_SCIM = {"system", "iban"}


def fields_of(person: Person, skip=NOT_IN_SCIM) -> dict:
    return {f.name: getattr(person, f.name) for f in dataclasses.fields(Person) if f.compare and f.name not in skip}


def test_person_to_scim_and_back_is_equal_on_every_field_scim_can_hold() -> None:
    user = to_scim_user(FULL)
    back = person_from_scim(user)
    assert fields_of(back) == fields_of(FULL)
    assert back.system == "scim" and back.iban is None and back.problems == []
    assert "GB82WEST" not in json.dumps(user)  # payment data never goes to an identity provider


def test_the_user_speaks_the_core_and_enterprise_schemas() -> None:
    user = to_scim_user(FULL)
    assert user["schemas"] == [CORE_SCHEMA, ENTERPRISE_SCHEMA, STAFFBRIDGE_SCHEMA]
    assert user["userName"] == "ada" and user["name"] == {
        "formatted": "Ada King Lovelace",
        "familyName": "Lovelace",
        "givenName": "Ada",
        "middleName": "King",
        "honorificPrefix": "Dr",
    }
    assert user["emails"] == [{"value": "ada@example.com", "type": "work", "primary": True}]
    assert user["phoneNumbers"] == [
        {"value": "+44 20 1234", "type": "work"},
        {"value": "+44 7700 1234", "type": "mobile"},
    ]
    assert user["userType"] == "Contractor" and user["active"] is True and user["preferredLanguage"] == "en-GB"
    assert user["meta"] == {
        "resourceType": "User",
        "created": "2020-01-02T03:04:05Z",
        "lastModified": "2024-05-06T07:08:09Z",
    }
    assert user[ENTERPRISE_SCHEMA] == {
        "employeeNumber": "E00001",
        "department": "Analytical Engines",
        "manager": {"value": "u-9"},
    }
    # what scim2-models reads back as a plain User with the enterprise extension is the same person
    parsed = User[EnterpriseUser].model_validate(
        {k: v for k, v in user.items() if k != STAFFBRIDGE_SCHEMA} | {"schemas": [CORE_SCHEMA, ENTERPRISE_SCHEMA]}
    )
    assert parsed[EnterpriseUser].employee_number == "E00001" and parsed.name.given_name == "Ada"


def test_without_the_extension_the_core_fields_still_round_trip() -> None:
    user = to_scim_user(FULL, extension=False)
    assert STAFFBRIDGE_SCHEMA not in user and user["schemas"] == [CORE_SCHEMA, ENTERPRISE_SCHEMA]
    back = person_from_scim(user)
    core_only = {"birthday", "gender", "employment_start", "employment_end", "tags", "custom_fields", "notes"}
    assert fields_of(back, NOT_IN_SCIM | core_only) == fields_of(
        FULL.replace(address=dataclasses.replace(FULL.address, co=None)), NOT_IN_SCIM | core_only
    )


@pytest.mark.parametrize(
    "person",
    [
        Person(first_name="Only", last_name="Names"),
        Person(id="7", email="x@example.com", external=False, address=Address(formatted="Line 1\nLine 2")),
        Person(
            id="8", email="y@example.com", role=Ref(name="Dev"), department=Ref("5", None), username="y@example.com"
        ),
    ],
)
def test_sparse_people_round_trip_too(person) -> None:
    back = person_from_scim(to_scim_user(person))
    expected = person.replace(department=Ref(name="5")) if person.department else person
    if person.username == person.email:  # a userName that is the email is not taken for a username
        expected = expected.replace(username=None)
    assert fields_of(back) == fields_of(expected)


def test_a_list_response_holds_every_person_and_scim2_models_accepts_it() -> None:
    listing = to_scim([FULL, Person(id="2", email="b@example.com")])
    assert listing["schemas"] == [LIST_RESPONSE_SCHEMA] and listing["totalResults"] == 2
    assert listing["startIndex"] == 1 and listing["itemsPerPage"] == 2 and len(listing["Resources"]) == 2
    parsed = ListResponse[User[EnterpriseUser]].model_validate(
        {
            **listing,
            "Resources": [{k: v for k, v in r.items() if k != STAFFBRIDGE_SCHEMA} for r in listing["Resources"]],
        }
    )
    assert parsed.total_results == 2 and parsed.resources[1].user_name == "b@example.com"
    assert [p.id for p in from_scim(json.dumps(listing))] == ["u-1", "2"]


def test_a_unified_directory_exports_crosswalk_status_and_manager_by_unified_id() -> None:
    a = MemoryAdapter("a", [staff(1, "a1"), staff(2, "a2", manager_id="a1", work_phone="+1 1")])
    b = MemoryAdapter("b", [staff(2, "b2", work_phone="+1 2")])
    directory = unify([a, b])
    listing = directory.to_scim()
    user = next(u for u in listing["Resources"] if u["id"] == "a:a2")
    assert user[STAFFBRIDGE_SCHEMA]["sources"] == {"a": "a2", "b": "b2"}
    assert user[STAFFBRIDGE_SCHEMA]["status"] == {"a": "present", "b": "present"}
    assert user[STAFFBRIDGE_SCHEMA]["conflicts"] == ["work_phone"]
    assert user[ENTERPRISE_SCHEMA]["manager"] == {"value": "a:a1", "displayName": "First1 Last1"}
    back = {p.id: p for p in from_scim(listing)}
    assert fields_of(back["a:a2"], NOT_IN_SCIM) == fields_of(directory["a:a2"].person, NOT_IN_SCIM)


def test_values_scim_cannot_hold_are_left_out_and_logged(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="staffbridge.scim")
    person = Person(id="1", email="ada@example.com", avatar_url="https//meinefirma.mocoapp.com/profil.jpg")
    user = to_scim_user(person)  # MOCO's own docs show that URL; SCIM wants a URI
    assert "photos" not in user and user["emails"][0]["value"] == "ada@example.com"
    assert "left out photos.0.value" in caplog.text


def test_users_from_an_identity_provider_read_as_people() -> None:
    okta_like = {
        "schemas": [CORE_SCHEMA],
        "id": "00u1",
        "userName": "Ada@Example.com",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@old.example"}, {"value": "ada@example.com", "primary": True}],
        "phoneNumbers": [{"value": "+1 555", "type": "work"}],
        "userType": "Intern",
        "addresses": [{"type": "work", "locality": "Berlin"}, {"locality": "London", "primary": True}],
        "roles": [{"value": "admin"}],
        "unknownAttribute": 1,
    }
    [person] = from_scim(okta_like)
    assert (person.id, person.email, person.username) == ("00u1", "ada@example.com", None)
    assert person.external is None and person.address == Address(city="London") and person.role == Ref("admin")


@pytest.mark.parametrize(
    "document, message",
    [
        ("not json", "not JSON"),
        (42, "expected a ListResponse"),
        ({"Resources": "x"}, "must be a list"),
        ({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x"}, "not a User"),
        ([17], "a User must be an object"),
    ],
)
def test_documents_that_are_not_scim_users_are_response_errors(document, message) -> None:
    with pytest.raises(ResponseError, match=message):
        from_scim(document)


def test_a_bad_attribute_costs_only_that_attribute() -> None:
    user = {
        "schemas": [CORE_SCHEMA],
        "id": "1",
        "userName": "ada",
        "emails": [{"value": "not an email"}, {"value": "ada@example.com"}],
        "meta": {"created": "yesterday"},
        "preferredLanguage": "!!",
        ENTERPRISE_SCHEMA: {"employeeNumber": 5},
        STAFFBRIDGE_SCHEMA: {"birthday": "31.12.1990", "tags": ["a"]},
    }
    person = person_from_scim(user)
    assert person.email == "ada@example.com" and person.username == "ada" and person.tags == ["a"]
    assert person.created_at is None and person.employee_number is None and person.birthday is None
    assert person.language is None
    problems = " | ".join(person.problems)
    for where in ("emails.0.value", "meta.created", f"{ENTERPRISE_SCHEMA}.employeeNumber", "birthday:", "language:"):
        assert where in problems
