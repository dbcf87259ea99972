"""unify with plain data (in-memory adapters): crosswalk, survivorship, conflicts, ambiguity, bad input."""

from __future__ import annotations

import pytest

import staffbridge
from staffbridge import Address, ConfigError, Person, Ref
from staffbridge.jobs.unification.run import unify

from .test_unify_fakes import MemoryAdapter, at, staff


def three(a=range(0, 6), b=range(3, 9), c=range(4, 7), **people_changes):
    """Systems a, b, c holding overlapping staff (ids differ per system, as real vendors' do)."""
    return (
        MemoryAdapter("a", [staff(n, f"a{n}") for n in a]),
        MemoryAdapter("b", [staff(n, f"b{n}") for n in b]),
        MemoryAdapter("c", [staff(n, f"c{n}") for n in c]),
    )


# ---------------------------------------------------------------------------------------------- crosswalk


def test_the_crosswalk_names_each_persons_record_in_every_system() -> None:
    directory = staffbridge.unify(list(three()))

    assert len(directory) == 9
    assert directory.find("b", "b5").crosswalk == {"a": "a5", "b": "b5", "c": "c5"}
    assert directory.find("a", "a3").crosswalk == {"a": "a3", "b": "b3"}
    assert [p.crosswalk for p in directory.only_in("a")] == [{"a": "a0"}, {"a": "a1"}, {"a": "a2"}]
    assert [p.crosswalk for p in directory.only_in("b")] == [{"b": "b7"}, {"b": "b8"}]
    assert directory.only_in("c") == []
    summary = directory.summary()
    assert (summary["in_all"], summary["matched"], summary["single_system"]) == (2, 4, {"a": 3, "b": 2, "c": 0})
    assert summary["conflicts"] == {} and summary["ambiguous"] == 0 and summary["complete"] is True


def test_the_unified_person_is_a_person_with_a_unified_id_and_provenance() -> None:
    directory = unify(list(three()))
    unified = directory.find("c", "c4")
    assert unified.id == "a:a4" and directory["a:a4"] is unified
    assert unified.person.system == "unified" and unified.person.id == "a:a4"
    assert unified.person.email == "person.4@example.com" and unified.sources["email"] == "a"
    assert unified.records["b"].id == "b4" and unified.status == {"a": "present", "b": "present", "c": "present"}


def test_people_match_on_email_regardless_of_case_and_spacing() -> None:
    a = MemoryAdapter("a", [staff(1, "a1")])
    b = MemoryAdapter("b", [staff(1, "b1", email="  PERSON.1@Example.com ")])
    assert unify([a, b]).find("a", "a1").crosswalk == {"a": "a1", "b": "b1"}


def test_match_keys_are_the_matchers_and_can_be_chosen() -> None:
    a = MemoryAdapter("a", [staff(1, "a1", employee_number="E1")])
    b = MemoryAdapter("b", [staff(1, "b1", email="other@example.com", employee_number="E1")])
    assert len(unify([a, b], match=("email",))) == 2
    assert unify([a, b], match=("employee_number",)).find("b", "b1").crosswalk == {"a": "a1", "b": "b1"}
    with pytest.raises(ConfigError, match="not a Person field"):
        unify([a, b], match=("mail",))


def test_two_accounts_of_one_vendor_are_named_by_a_dict() -> None:
    first, second = MemoryAdapter("moco", [staff(1, "1")]), MemoryAdapter("moco", [staff(1, "7")])
    with pytest.raises(ConfigError, match="two systems are called 'moco'"):
        unify([first, second])
    directory = unify({"moco-de": first, "moco-ch": second})
    assert directory.people[0].crosswalk == {"moco-de": "1", "moco-ch": "7"}
    with pytest.raises(ConfigError, match="not an adapter"):
        unify({"x": object()})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="at least one system"):
        unify([])


# ---------------------------------------------------------------------------------------------- survivorship


def test_newest_updated_at_wins_by_default_and_the_difference_is_a_conflict() -> None:
    a = MemoryAdapter("a", [staff(1, "a1", work_phone="+49 40 111", updated_at=at(1))])
    b = MemoryAdapter("b", [staff(1, "b1", work_phone="+49 40 222", updated_at=at(5))])
    unified = unify([a, b]).people[0]
    assert unified.person.work_phone == "+49 40 222" and unified.sources["work_phone"] == "b"
    conflict = unified.conflict("work_phone")
    assert conflict.values == {"a": "+49 40 111", "b": "+49 40 222"} and conflict.chosen == "b"
    assert conflict.rule == "newest" and "work_phone: a='+49 40 111', b='+49 40 222'" in str(conflict)
    assert [c.field for c in unified.conflicts] == ["work_phone"]


def test_a_record_without_updated_at_counts_as_oldest_and_ties_go_to_the_first_system() -> None:
    a = MemoryAdapter("a", [staff(1, "a1", title="Dr", updated_at=None)])
    b = MemoryAdapter("b", [staff(1, "b1", title="Prof", updated_at=at(1))])
    c = MemoryAdapter("c", [staff(1, "c1", title="Mx", updated_at=at(1))])
    assert unify([a, b, c]).people[0].person.title == "Prof"


def test_an_authority_wins_where_it_has_a_value_and_the_otherwise_rule_decides_elsewhere() -> None:
    a = MemoryAdapter(
        "a", [staff(1, "a1", work_phone="+1 111", updated_at=at(1)), staff(2, "a2", work_phone=None, updated_at=at(1))]
    )
    b = MemoryAdapter(
        "b",
        [staff(1, "b1", work_phone="+1 222", updated_at=at(9)), staff(2, "b2", work_phone="+1 333", updated_at=at(9))],
    )
    directory = unify([a, b], authority="a")
    first, second = directory.find("a", "a1"), directory.find("a", "a2")
    assert first.person.work_phone == "+1 111" and first.conflict("work_phone").rule == "authority a, else newest"
    assert second.person.work_phone == "+1 333" and second.sources["work_phone"] == "b"
    assert second.conflicts == []  # a has no value: nothing disagrees
    by_field = unify([a, b], authority={"work_phone": "a"})
    assert by_field.find("a", "a1").person.work_phone == "+1 111"


def test_rules_from_a_dict_or_toml_file(tmp_path) -> None:
    a = MemoryAdapter("a", [staff(1, "a1", title="Dr", notes="from a", updated_at=at(1))])
    b = MemoryAdapter("b", [staff(1, "b1", title="Prof", notes="from b", updated_at=at(9))])
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[survivorship]\ndefault = "first"\nnotes = { authority = ["c", "b"], otherwise = "first" }\n'
        '[conflicts]\nignore = ["title"]\n',
        encoding="utf-8",
    )
    c = MemoryAdapter("c", [])
    unified = unify([a, b, c], rules=rules).people[0]
    assert unified.person.title == "Dr" and unified.person.notes == "from b"
    assert [x.field for x in unified.conflicts] == ["notes"]  # title differs too, but is ignored
    as_dict = unify([a, b], rules={"survivorship": {"title": "newest"}, "conflicts": {"ignore": ["notes"]}})
    assert as_dict.people[0].person.title == "Prof" and [x.field for x in as_dict.people[0].conflicts] == ["title"]


def test_custom_fields_merge_key_by_key() -> None:
    a = MemoryAdapter("a", [staff(1, "a1", custom_fields={"Kostenstelle": "100", "Team": "x"}, updated_at=at(1))])
    b = MemoryAdapter("b", [staff(1, "b1", custom_fields={"Kostenstelle": "200", "Schuh": "42"}, updated_at=at(2))])
    unified = unify([a, b], rules={"survivorship": {"custom_fields.Team": "first"}}).people[0]
    assert unified.person.custom_fields == {"Kostenstelle": "200", "Team": "x", "Schuh": "42"}
    assert unified.sources["custom_fields.Kostenstelle"] == "b"
    assert [c.field for c in unified.conflicts] == ["custom_fields.Kostenstelle"]


def test_timestamps_span_the_records_and_empty_values_never_win() -> None:
    a = MemoryAdapter("a", [staff(1, "a1", mobile_phone="", created_at=at(2), updated_at=at(3))])
    b = MemoryAdapter("b", [staff(1, "b1", mobile_phone="+49 170 1", created_at=at(1), updated_at=at(4))])
    c = MemoryAdapter("c", [staff(1, "c1", mobile_phone=None, created_at=None, updated_at=at(9))])
    person = unify([a, b, c]).people[0].person
    assert (person.created_at, person.updated_at, person.mobile_phone) == (at(1), at(9), "+49 170 1")


def test_differences_of_form_are_not_conflicts() -> None:
    a = MemoryAdapter(
        "a",
        [
            staff(
                1,
                "a1",
                email="Person.1@Example.com",
                work_phone="+49 (40) 1001",
                tags=["x", "y"],
                department=Ref("7", "Vertrieb"),
                role=Ref("42", "Admin"),
                address=Address(formatted="Ada L\nHauptstraße 1\n10115 Berlin"),
            )
        ],
    )
    b = MemoryAdapter(
        "b",
        [
            staff(
                1,
                "b1",
                work_phone="+49 40 1001",
                tags=["y", "x"],
                department=Ref("123456", "vertrieb"),
                role=Ref("service"),
                address=Address(street="Hauptstraße 1", zip="10115", city="Berlin", country="DE"),
            )
        ],
    )
    assert unify([a, b]).people[0].conflicts == []


def test_differences_of_content_are_conflicts() -> None:
    a = MemoryAdapter(
        "a",
        [
            staff(
                1,
                "a1",
                department=Ref("7", "Vertrieb"),
                address=Address(formatted="Ada L\nHauptstraße 1\n10115 Berlin"),
            )
        ],
    )
    b = MemoryAdapter(
        "b",
        [
            staff(
                1,
                "b1",
                department=Ref(None, "Service"),
                address=Address(street="Lindenweg 2", zip="10115", city="Berlin"),
            )
        ],
    )
    assert [c.field for c in unify([a, b]).people[0].conflicts] == ["address", "department"]


def test_manager_ids_become_unified_ids() -> None:
    a = MemoryAdapter("a", [staff(1, "a1"), staff(2, "a2", manager_id="a1"), staff(3, "a3", manager_id="a99")])
    directory = unify([a])
    assert directory.find("a", "a2").person.manager_id == "a:a1"
    lost = directory.find("a", "a3")
    assert lost.person.manager_id == "a99" and "manager a99 is not in the directory" in lost.person.problems[0]


# ---------------------------------------------------------------------------------------------- ambiguity


def test_a_record_matching_several_people_is_reported_not_merged() -> None:
    a = MemoryAdapter("a", [staff(1, "a1"), staff(1, "a2", first_name="Other")])  # one email, two records
    b = MemoryAdapter("b", [staff(1, "b1")])
    directory = unify([a, b])
    assert len(directory) == 3  # nothing merged by guess, nothing dropped
    [item] = directory.ambiguous
    assert (item.system, item.id) == ("b", "b1") and "2 records share email" in item.reason
    assert item.candidates == ["a:a1", "a:a2"]
    assert directory.find("b", "b1").crosswalk == {"b": "b1"} and directory.find("b", "b1").ambiguity is item
    assert directory.find("a", "a1").crosswalk == {"a": "a1"}


def test_a_person_claimed_by_several_records_of_one_system_is_ambiguous() -> None:
    a = MemoryAdapter("a", [staff(1, "a1")])
    b = MemoryAdapter("b", [staff(1, "b1"), staff(1, "b2")])
    directory = unify([a, b])
    assert [(x.system, x.id) for x in directory.ambiguous] == [("b", "b1"), ("b", "b2")]
    assert "2 b records (#b1, #b2) match the same person" in directory.ambiguous[0].reason
    assert directory.find("a", "a1").crosswalk == {"a": "a1"}


def test_keys_that_point_at_different_people_are_ambiguous() -> None:
    a = MemoryAdapter("a", [staff(1, "a1", employee_number="E1"), staff(2, "a2", employee_number="E2")])
    b = MemoryAdapter("b", [staff(1, "b1", employee_number="E2")])
    [item] = unify([a, b], match=("email", "employee_number")).ambiguous
    assert "finds one record" in item.reason and item.candidates == ["a:a1", "a:a2"]


# ---------------------------------------------------------------------------------------------- bad input


def test_a_system_failing_mid_read_leaves_its_people_unknown_and_the_rest_unified() -> None:
    a = MemoryAdapter("a", [staff(n, f"a{n}") for n in range(4)])
    b = MemoryAdapter("b", [staff(n, f"b{n}") for n in range(2, 6)], fail_after=2)
    directory = unify([a, b])
    assert directory.failed == {"b": "read failed after 2 records: Broken: b broke off"}
    assert not directory.complete and directory.reads["b"].mode == "failed"
    assert directory.find("a", "a2").status == {"a": "present", "b": "unknown"}
    assert [p.crosswalk for p in directory.unknown] == [{"a": "a2", "b": "b2"}, {"a": "a3", "b": "b3"}]
    assert directory.removed == [] and len(directory) == 4


@pytest.mark.parametrize(
    "authority, rules, message",
    [
        (
            "b",
            {"survivorship": {"default": {"authority": "a"}}},
            "conflicting authorities: rules makes 'a' the default authority, the authority argument 'b'",
        ),
        (
            {"email": "b"},
            {"survivorship": {"email": {"authority": "a"}}},
            "conflicting authorities for email: 'a' in rules and 'b' in the authority argument",
        ),
        (
            None,
            {"authority": {"a": ["email"], "b": ["email", "notes"]}},
            "conflicting authorities for email: 'a' and 'b'",
        ),
        (
            None,
            {"survivorship": {"email": "first"}, "authority": {"a": ["email"]}},
            "email is both 'first' in [survivorship] and owned by 'a'",
        ),
        ("hr", None, "authority for default is 'hr', which is not one of the systems being unified (a, b)"),
        ({"email": "hr"}, None, "authority for email is 'hr'"),
        (None, {"survivorship": {"emial": "first"}}, "'emial' is not a field a unified person merges"),
        (None, {"survivorship": {"email": "oldest"}}, "email = 'oldest' is not a rule"),
        (None, {"survivorship": {"email": {"authority": []}}}, "authority must name a system"),
        (
            None,
            {"survivorship": {"email": {"authority": "a", "otherwise": {"authority": "b"}}}},
            "otherwise must be newest or first",
        ),
        (None, {"surviving": {}}, "unknown table 'surviving'"),
        (None, {"conflicts": {"ignore": "role"}}, "ignore must be a list"),
    ],
)
def test_bad_rules_are_config_errors_naming_what_is_wrong(authority, rules, message) -> None:
    a, b = MemoryAdapter("a", [staff(1)]), MemoryAdapter("b", [staff(1)])
    with pytest.raises(ConfigError) as caught:
        unify([a, b], authority=authority, rules=rules)
    assert message in str(caught.value)
    assert a.calls == [] and b.calls == []  # refused before anything is read


def test_a_rules_file_that_cannot_be_read_is_a_config_error(tmp_path) -> None:
    a = MemoryAdapter("a", [staff(1)])
    with pytest.raises(ConfigError, match="cannot read mapping file"):
        unify([a], rules=tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[survivorship\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        unify([a], rules=broken)


def test_people_without_keys_or_ids_are_kept_apart() -> None:
    a = MemoryAdapter("a", [Person(first_name="No", last_name="Email")])
    b = MemoryAdapter("b", [Person(first_name="No", last_name="Email")])
    directory = unify([a, b])
    assert [p.crosswalk for p in directory] == [{"a": "#0"}, {"b": "#0"}]
