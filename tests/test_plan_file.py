"""Plan files: `migrate SOURCE TARGET --plan plan.json`, then `apply plan.json` writes exactly that plan,
or nothing at all when the target changed since (Terraform's `plan -out` / `apply PLANFILE`)."""

import json

import pytest

import staffbridge
from staffbridge.faces.cli.main import main
from staffbridge.jobs.migration.planfile import PlanDrift, load_plan, save_plan
from staffbridge.jobs.migration.run import migrate
from staffbridge.sdk.registry import sandbox_class

STAFF = (
    "first_name,last_name,email,birthday,department,active\n"
    "Ada,Lovelace,ada@example.com,1815-12-10,Mathematik,yes\n"
    "Grace,Hopper,grace@example.com,1906-12-09,Navy,yes\n"
)
TEAM = (
    '{"id": "t1", "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "department": "Army"}\n'
    '{"id": "t2", "first_name": "Old", "last_name": "Timer", "email": "old@example.com"}\n'
)


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAFFBRIDGE_CONFIG", raising=False)
    (tmp_path / "staff.csv").write_text(STAFF)
    (tmp_path / "team.jsonl").write_text(TEAM)
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def team(here):
    return {p["email"]: p for p in map(json.loads, (here / "team.jsonl").read_text().splitlines())}


def test_apply_writes_exactly_the_saved_plan_not_a_new_one(here, capsys):
    code, out, _ = run(capsys, "migrate", "staff.csv", "team.jsonl", "--delete-missing", "--plan", "plan.json")
    assert code == 0 and "Plan saved to plan.json" in out and "staffbridge apply plan.json" in out
    assert (here / "team.jsonl").read_text() == TEAM  # planning writes nothing
    saved = json.loads((here / "plan.json").read_text())
    assert saved["source"] == {"name": "staff.csv", "adapter": "csv"}
    assert saved["target"] == {"name": "team.jsonl", "adapter": "jsonl"}
    update = next(s for s in saved["steps"] if s["action"] == "update")
    assert [(c["field"], c["before"], c["after"]) for c in update["changes"]] == [
        ("active", None, True),
        ("birthday", None, "1906-12-09"),
        ("department", {"id": None, "name": "Army"}, {"id": None, "name": "Navy"}),
    ]
    # the source changes after the plan: the apply neither sees nor writes that
    (here / "staff.csv").write_text(
        STAFF.replace("Navy", "Marines") + "Alan,Turing,alan@example.com,1912-06-23,Mathematik,no\n"
    )
    code, out, _ = run(capsys, "apply", "plan.json")
    assert code == 0 and "1 created, 1 updated, 1 deleted" in out
    people = team(here)
    assert sorted(people) == ["ada@example.com", "grace@example.com"]  # no Alan, and Old Timer deleted
    assert people["grace@example.com"]["department"] == {"name": "Navy"}  # the planned value, not Marines
    assert people["grace@example.com"]["birthday"] == "1906-12-09"


def test_a_target_changed_since_the_plan_is_listed_and_nothing_is_written(here, capsys):
    assert run(capsys, "migrate", "staff.csv", "team.jsonl", "--delete-missing", "--plan", "plan.json")[0] == 0
    changed = TEAM.replace('"Army"', '"Air Force"').replace("old@example.com", "old@example.org")
    (here / "team.jsonl").write_text(
        changed + '{"id": "t3", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}\n'
    )
    before = (here / "team.jsonl").read_text()
    code, out, err = run(capsys, "apply", "plan.json")
    assert code == 2 and (here / "team.jsonl").read_text() == before
    assert "update csv#2 Grace Hopper: changed since the plan: department" in out
    assert "delete jsonl#t2 Old Timer: changed since the plan: email" in out
    assert "create csv#1 Ada Lovelace: the target now has a record that may be this person" in out
    assert err.startswith("staffbridge: plan.json: the target changed since the plan was made; nothing was written")
    assert "Plan again: staffbridge migrate staff.csv team.jsonl --delete-missing --plan plan.json" in err
    code, out, _ = run(capsys, "apply", "plan.json", "--json")
    assert code == 2 and len(json.loads(out)["drift"]) == 3
    # planned again, it applies
    assert run(capsys, "migrate", "staff.csv", "team.jsonl", "--plan", "plan.json")[0] == 0
    assert run(capsys, "apply", "plan.json")[0] == 0
    assert team(here)["grace@example.com"]["department"] == {"name": "Navy"}


def test_an_applied_plan_is_stale_unless_its_journal_says_it_is_done(here, capsys):
    argv = ("migrate", "staff.csv", "team.jsonl", "--plan", "plan.json", "--journal", "j.db")
    assert run(capsys, *argv)[0] == 0
    assert run(capsys, "apply", "plan.json")[0] == 0
    after = (here / "team.jsonl").read_text()
    code, out, _ = run(capsys, "apply", "plan.json")  # the plan's journal knows both writes: nothing to do
    assert code == 0 and "2 unchanged" in out and (here / "team.jsonl").read_text() == after
    code, out, _ = run(capsys, "apply", "plan.json", "--journal", "other.db")  # a journal that does not
    assert code == 2 and "changed since the plan" in out and (here / "team.jsonl").read_text() == after


def test_a_plan_file_names_its_systems_and_holds_no_secret(here, capsys, monkeypatch):
    monkeypatch.setenv("MOCO_API_KEY", "plan-file-secret-key")
    (here / "staff.csv").write_text(STAFF.replace("Mathematik", "Entwicklung").replace("Navy", "Vertrieb"))
    with sandbox_class("moco")(seed_people=3, api_key="plan-file-secret-key") as sandbox:
        (here / "staffbridge.toml").write_text(
            f'[systems.moco]\nadapter = "moco"\nbase_url = "{sandbox.url}"\napi_key = "${{MOCO_API_KEY}}"\n'
            "rate_limit = 10000\nrate_period = 1\n"
        )
        code, _, _ = run(capsys, "migrate", "staff.csv", "moco", "--plan", "plan.json")
        text = (here / "plan.json").read_text()
        assert code == 0 and "plan-file-secret-key" not in text and sandbox.url not in text
        saved = json.loads(text)
        assert saved["target"] == {"name": "moco", "adapter": "moco"} and saved["summary"]["create"] == 2
        code, out, _ = run(capsys, "apply", "plan.json")
        assert code == 0 and "2 created" in out
        moco = staffbridge.connect("moco", base_url=sandbox.url, api_key="plan-file-secret-key")
        emails = {p.email for p in moco.list()}
        assert {"ada@example.com", "grace@example.com"} <= emails


def test_the_library_api_and_its_refusals(here):
    source = staffbridge.connect("csv", path="staff.csv")
    target = staffbridge.connect("jsonl", path="team.jsonl")
    plan = migrate(source, target)
    save_plan(plan, here / "plan.json", source="staff.csv", target="team.jsonl")
    saved = load_plan(here / "plan.json")
    assert [s.action for s in saved.steps()] == [s.action for s in plan.steps()]
    assert saved.steps()[1].changes == plan.steps()[1].changes  # typed values, as planned
    with pytest.raises(staffbridge.ConfigError, match="not a csv system"):
        saved.apply(staffbridge.connect("csv", path="other.csv"))
    (here / "team.jsonl").write_text(TEAM.replace("Army", "Navy"))
    with pytest.raises(PlanDrift) as refused:
        saved.apply(staffbridge.connect("jsonl", path="team.jsonl"))
    assert [d.action for d in refused.value.drift] == ["update"]
    (here / "plan.json").write_text('{"steps": []}')
    with pytest.raises(staffbridge.ConfigError, match="not a staffbridge plan"):
        load_plan(here / "plan.json")
    with pytest.raises(staffbridge.ConfigError, match="no such plan file"):
        load_plan(here / "missing.json")


def test_plan_and_apply_together_is_a_usage_error(here, capsys):
    code, out, err = run(capsys, "migrate", "staff.csv", "team.jsonl", "--plan", "p.json", "--apply")
    assert code == 2 and out == "" and "staffbridge apply PLANFILE" in err


def test_a_saved_plan_keeps_its_delete_brake_and_apply_refuses_to_pass_it(here, capsys):
    code, _, _ = run(
        capsys, "migrate", "staff.csv", "team.jsonl", "--delete-missing", "--max-delete", "0", "--plan", "plan.json"
    )
    assert code == 1  # the plan holds one delete over a brake of 0: shown, and flagged
    assert json.loads((here / "plan.json").read_text())["max_delete"] == 0
    code, out, err = run(capsys, "apply", "plan.json")
    assert code == 2 and "over the limit of 0" in err and "nothing was written" in err
    assert "Report" not in out
    assert (here / "team.jsonl").read_text() == TEAM  # refused before any write
