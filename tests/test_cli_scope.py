"""Who is in a system, for `list` and `migrate` alike, and what a migration plan leaves alone (issue 11:
items 3, 4, 6 and 14), through main([...]) against a MOCO sandbox of 12 people, 3 of them archived."""

import csv
import io
import json

import pytest

from staffbridge.sandbox.people import sample_people
from staffbridge.sdk.registry import sandbox_class
from tests.test_cli import here, moco_config, private_cache, run  # noqa: F401 (fixtures)

PEOPLE = 12
ACTIVE = sum(p.active for p in sample_people(PEOPLE))


@pytest.fixture
def moco(here, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MOCO_API_KEY", "cli-test-key")
    with sandbox_class("moco")(seed_people=PEOPLE, api_key="cli-test-key") as sandbox:
        moco_config(here / "staffbridge.toml", sandbox)
        yield sandbox


@pytest.fixture
def empty(here, moco):  # noqa: F811
    with sandbox_class("moco")(seed_people=0, api_key="cli-test-key") as sandbox:
        moco_config(here / "staffbridge.toml", sandbox, name="empty")
        yield sandbox


def test_list_and_migrate_read_the_same_people_by_default(capsys, moco, empty):
    assert 0 < ACTIVE < PEOPLE
    code, out, _ = run(capsys, "list", "moco")
    assert code == 0 and len(out.splitlines()) == 1 + PEOPLE + 1  # header, people, footer
    assert out.splitlines()[-1] == f"{PEOPLE} people, inactive included ({PEOPLE - ACTIVE} inactive)"
    code, out, _ = run(capsys, "list", "moco", "--csv")
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == PEOPLE
    code, out, _ = run(capsys, "migrate", "moco", "empty", "--json")
    assert json.loads(out)["summary"]["source"] == PEOPLE


def test_the_list_footer_says_how_many_a_filter_left_out(capsys, moco):
    code, out, _ = run(capsys, "list", "moco", "--filter", "active=true")
    assert code == 0 and len(out.splitlines()) == 1 + ACTIVE + 1
    assert out.splitlines()[-1] == (
        f"{ACTIVE} people; {PEOPLE - ACTIVE} more left out by --filter active=true (without it: everyone)"
    )


def test_migrate_filters_the_source_as_list_does(capsys, moco, empty):
    code, out, _ = run(capsys, "migrate", "moco", "empty", "--filter", "active=true", "--json")
    summary = json.loads(out)["summary"]
    assert code == 0 and summary["source"] == summary["create"] == ACTIVE
    code, out, err = run(capsys, "migrate", "moco", "empty", "--filter", "active")
    assert code == 2 and "KEY=VALUE" in err


def test_an_export_without_the_archived_deletes_none_of_them(here, capsys, moco):  # noqa: F811
    code, out, _ = run(capsys, "list", "moco", "--filter", "active=true", "--csv")
    (here / "export.csv").write_text(out, newline="")
    code, out, _ = run(capsys, "migrate", "export.csv", "moco", "--delete-missing")
    assert code == 0 and summary_rows(out)["delete"] == "0" and summary_rows(out)["left alone"] == str(PEOPLE - ACTIVE)
    assert f"left alone: {PEOPLE - ACTIVE} inactive moco records" in out


def test_a_plan_over_the_delete_brake_is_refused_in_one_line_and_exit_2(here, capsys, moco):  # noqa: F811
    # a source holding one inactive person was read with the inactive: every other moco person is to go
    rows = "Ada,Lovelace,ada@example.com,Entwicklung,yes\nAlan,Turing,alan@example.com,Entwicklung,no\n"
    (here / "few.csv").write_text("first_name,last_name,email,department,active\n" + rows)
    code, out, _ = run(capsys, "migrate", "few.csv", "moco", "--delete-missing")
    assert code == 1 and f"apply refuses: {PEOPLE} deletes, over the limit of 10" in out  # the plan shows who
    code, out, err = run(capsys, "migrate", "few.csv", "moco", "--delete-missing", "--max-delete", "3", "--apply")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert f"{PEOPLE} deletes" in err and "over the limit of 3" in err and f"--max-delete {PEOPLE}" in err
    assert len(moco.backend.users) == PEOPLE and all(r[0] == "GET" for r in moco.requests)  # nothing written
    code, out, _ = run(capsys, "migrate", "few.csv", "moco", "--delete-missing", "--max-delete", "12", "--apply")
    assert code == 0 and f"{PEOPLE} deleted" in out


def test_the_plan_shows_and_counts_the_notes_its_apply_will_carry(here, capsys, moco):  # noqa: F811
    rows = "".join(f"P{n},Test,p{n}@example.com,Entwicklung,Zauberer\n" for n in range(4))
    (here / "staff.csv").write_text("first_name,last_name,email,department,role\n" + rows)
    code, out, _ = run(capsys, "migrate", "staff.csv", "moco")
    assert code == 0
    assert [line.split() for line in out.splitlines() if line.strip().startswith("notes")] == [["notes", "4"]]
    assert "4 x no role named 'Zauberer'" in out and "created without it" in out


def summary_rows(out: str) -> dict[str, str]:
    """The plan's summary table: "  left alone        3" -> {"left alone": "3"}."""
    rows = {}
    for line in out.splitlines()[1:]:
        if not line.startswith("  "):
            break
        name, _, count = line.strip().rpartition(" ")
        rows[name.strip()] = count
    return rows
