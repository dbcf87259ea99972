"""What a migration may delete, and what its plan tells before the apply does (issue 11, items 3 and 4).

Deletes have a brake (`max_delete`), and records the source side never read (inactive people a source
was exported without, people outside a source filter) are left alone, with the plan saying so. Notes a
write will carry ("no role named ...; created without it") are in the plan and counted in its summary.
"""

import json

import pytest

import staffbridge
from staffbridge import StaffbridgeError, TooManyDeletes
from staffbridge.sandbox.moco import MocoSandbox


def person(n: int, department: str = "Mathematik", active: bool = True) -> dict:
    return {
        "first_name": f"Person{n}",
        "last_name": "Test",
        "email": f"p{n}@example.com",
        "department": department,
        "active": active,
    }


def files(tmp_path, source: list[dict], target: list[dict]):
    """A JSONL source and target holding these people."""
    for name, people in (("source", source), ("target", target)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(p) + "\n" for p in people))
    return (
        staffbridge.connect("jsonl", path=str(tmp_path / "source.jsonl")),
        staffbridge.connect("jsonl", path=str(tmp_path / "target.jsonl")),
    )


# ---------------------------------------------------------------------------------------------- the brake


def test_a_plan_deleting_more_than_the_default_limit_is_refused_before_any_write(tmp_path):
    source, target = files(tmp_path, [person(n) for n in range(5)], [person(n) for n in range(30)])
    before = (tmp_path / "target.jsonl").read_text()
    plan = staffbridge.migrate(source, target, delete_missing=True)
    assert len(plan.deletes) == 25 and plan.max_delete == 10  # 10 people, or 5% of 30 (1): the larger
    assert any("25 deletes" in note and "max_delete" in note for note in plan.notes)

    with pytest.raises(TooManyDeletes) as refused:
        plan.apply()
    assert isinstance(refused.value, StaffbridgeError)
    assert (refused.value.deletes, refused.value.limit) == (25, 10)
    assert "25" in str(refused.value) and "max_delete" in str(refused.value)
    with pytest.raises(TooManyDeletes):
        staffbridge.migrate(source, target, delete_missing=True, dry_run=False)
    assert (tmp_path / "target.jsonl").read_text() == before  # not one write, not even the creates


def test_the_limit_is_five_percent_of_a_large_target_and_can_be_raised(tmp_path):
    source, target = files(tmp_path, [person(n) for n in range(370)], [person(n) for n in range(400)])
    plan = staffbridge.migrate(source, target, delete_missing=True)
    assert plan.max_delete == 20 and len(plan.deletes) == 30  # 5% of 400
    with pytest.raises(TooManyDeletes):
        plan.apply()

    report = staffbridge.migrate(source, target, delete_missing=True, max_delete=30, dry_run=False).report
    assert report.ok and report.totals["delete"] == 30
    assert len(list(target.list())) == 370


def test_max_delete_must_be_a_whole_number(tmp_path):
    source, target = files(tmp_path, [person(1)], [person(1)])
    with pytest.raises(staffbridge.ConfigError, match="max_delete"):
        staffbridge.migrate(source, target, delete_missing=True, max_delete=-1)


# ---------------------------------------------------------------------------------------------- never read


def test_inactive_target_people_are_left_alone_when_the_source_holds_no_inactive_people(tmp_path):
    # `list moco --filter active=true --csv > staff.csv`, then `migrate staff.csv moco --delete-missing`
    archived = [person(n, active=False) for n in range(10, 17)]
    source, target = files(tmp_path, [person(n) for n in range(5)], [person(n) for n in range(7)] + archived)
    plan = staffbridge.migrate(source, target, delete_missing=True)
    assert sorted(s.target.email for s in plan.deletes) == ["p5@example.com", "p6@example.com"]
    assert plan.left_alone == 7
    [note] = [n for n in plan.notes if n.startswith("left alone")]
    assert "7 inactive" in note and "no inactive people" in note

    # a source that holds inactive people was read with them: a missing inactive person goes
    source, target = files(
        tmp_path, [person(n) for n in range(5)] + [person(99, active=False)], [person(n) for n in range(7)] + archived
    )
    plan = staffbridge.migrate(source, target, delete_missing=True)
    assert len(plan.deletes) == 9 and plan.left_alone == 0


def test_records_outside_a_source_filter_are_never_deleted(tmp_path):
    source_people = [person(n) for n in range(3)] + [person(n, "Navy") for n in range(3, 6)]
    target_people = [person(n) for n in range(4)] + [person(n, "Navy") for n in range(3, 9)]
    source, target = files(tmp_path, source_people, target_people)
    plan = staffbridge.migrate(source, target, delete_missing=True, source_filters={"department": "mathematik"})
    assert plan.source_count == 3
    assert [s.target.email for s in plan.deletes] == ["p3@example.com"]  # in Mathematik, yet not in the source
    assert plan.left_alone == 6
    assert any("6" in n and "department=mathematik" in n for n in plan.notes if n.startswith("left alone"))


def test_a_filter_written_as_the_cli_writes_it_scopes_deletes_as_its_typed_value(tmp_path):
    # `--filter active=yes` arrives as text; the source reads it as True, and so must the delete scope
    source_people = [person(1), person(2)]
    target_people = [person(1), person(2), person(3), person(4, active=False)]
    source, target = files(tmp_path, source_people, target_people)
    plan = staffbridge.migrate(source, target, delete_missing=True, source_filters={"active": "yes"})
    assert [s.target.email for s in plan.deletes] == ["p3@example.com"]  # active, yet not in the source
    assert plan.left_alone == 1  # the inactive p4 is outside the filter


def test_a_filter_that_cannot_be_checked_on_target_records_deletes_nobody(tmp_path):
    source, target = files(tmp_path, [person(1)], [person(1), person(2)])
    plan = staffbridge.migrate(source, target, delete_missing=True, source_filters={"email": "P1@example.com"})
    assert plan.deletes == [] and plan.left_alone == 1  # email is a person field: p2 is outside the filter
    assert any("outside the source filter email=P1@example.com" in n for n in plan.notes)
    with MocoSandbox(seed_people=3) as sb:
        moco = staffbridge.connect("moco", base_url=sb.url, api_key="sandbox-key")
        plan = staffbridge.migrate(
            moco, target, delete_missing=True, source_filters={"ids": str(min(sb.backend.users))}
        )
    assert plan.source_count == 1 and plan.deletes == [] and plan.left_alone == 2
    assert any("ids: not a person field" in n for n in plan.notes if n.startswith("left alone"))


# ---------------------------------------------------------------------------------------------- notes


def test_notes_a_write_will_carry_are_in_the_plan_and_counted_in_its_summary(tmp_path):
    rows = "first_name,last_name,email,department,role\n" + "".join(
        f"P{n},Test,p{n}@example.com,Entwicklung,Zauberer\n" for n in range(4)
    )
    (tmp_path / "staff.csv").write_text(rows)
    source = staffbridge.connect("csv", path=str(tmp_path / "staff.csv"))
    with MocoSandbox(seed_people=0) as sb:
        moco = staffbridge.connect("moco", base_url=sb.url, api_key="sandbox-key")
        plan = staffbridge.migrate(source, moco)
        assert plan.summary()["create"] == 4 and plan.summary()["notes"] == 4
        assert all("no role named 'Zauberer'" in step.notes[0] for step in plan.creates)
        assert plan.note_counts() == {plan.creates[0].notes[0]: 4}
        assert plan.to_dict()["summary"]["notes"] == 4
        report = plan.apply()
    assert {row.reason for row in report.rows} == {plan.creates[0].notes[0]}  # what the plan said, no more
