"""The command line, through main([...]) with capsys, and once through `python -m staffbridge`."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import staffbridge
from staffbridge.faces.cli.main import main
from staffbridge.faces.cli.people import parse_filters
from staffbridge.faces.cli.progress import ProgressBar
from staffbridge.sandbox.people import sample_people
from staffbridge.sdk.registry import sandbox_class

STAFF = (
    "first_name,last_name,email,birthday,department,active\n"
    "Ada,Lovelace,ada@example.com,1815-12-10,Mathematik,yes\n"
    "Grace,Hopper,grace@example.com,1906-12-09,Navy,yes\n"
    "Alan,Turing,alan@example.com,1912-06-23,Mathematik,no\n"
)


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """`staffbridge adapters` keeps a cache under $XDG_CACHE_HOME: the tests' own, not the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAFFBRIDGE_CONFIG", raising=False)
    (tmp_path / "staff.csv").write_text(STAFF)
    return tmp_path


@pytest.fixture
def moco_sandbox():
    with sandbox_class("moco")(seed_people=12, api_key="cli-test-key") as sandbox:
        yield sandbox


def moco_config(path: Path, sandbox, name="moco") -> None:
    with path.open("a") as out:
        out.write(
            f'[systems.{name}]\nadapter = "moco"\nbase_url = "{sandbox.url}"\n'
            f'api_key = "${{MOCO_API_KEY}}"\nrate_limit = 10000\nrate_period = 1\n'
        )


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_adapters_lists_the_installed_ones(capsys):
    code, out, _ = run(capsys, "adapters")
    assert code == 0 and "csv" in out and "jsonl" in out and "moco" in out
    code, out, _ = run(capsys, "adapters", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert code == 0 and "create" in rows["csv"]["operations"] and "active" in rows["jsonl"]["filters"]


def test_list_a_csv_file_as_table_json_csv_and_jsonl(here, capsys):
    code, out, err = run(capsys, "list", "staff.csv")
    assert code == 0 and err == ""
    assert out.splitlines()[0].split() == ["ID", "NAME", "EMAIL", "DEPARTMENT", "ACTIVE"]
    assert "Grace Hopper" in out and "grace@example.com" in out
    code, out, _ = run(capsys, "list", "staff.csv", "--json", "--filter", "active=true")
    people = json.loads(out)
    assert code == 0 and [p["email"] for p in people] == ["ada@example.com", "grace@example.com"]
    assert people[0]["birthday"] == "1815-12-10" and people[0]["department"]["name"] == "Mathematik"
    code, out, _ = run(capsys, "list", "staff.csv", "--csv", "--filter", "department=navy")
    assert code == 0 and out.splitlines()[0].startswith("id,first_name") and len(out.splitlines()) == 2
    code, out, _ = run(capsys, "list", "staff.csv", "--jsonl")
    assert code == 0 and [json.loads(line)["id"] for line in out.splitlines()] == ["1", "2", "3"]
    code, out, _ = run(capsys, "list", "staff.csv", "--json", "--filter", "nothing=1")
    assert code == 2


def test_unreadable_rows_are_one_line_each_and_exit_1(here, capsys):
    (here / "staff.csv").write_text(STAFF + "Bob,Bad,bob@example.com,31.02.1990,Dev,yes\n")
    code, out, err = run(capsys, "list", "staff.csv")
    assert code == 1 and "Bob" in out
    assert err.splitlines() == ["staffbridge: csv#4 Bob Bad: birthday: Not a valid date. (got '31.02.1990')"]


def test_get(here, capsys):
    code, out, _ = run(capsys, "get", "staff.csv", "2")
    assert code == 0 and "first_name" in out and "Grace" in out
    code, out, _ = run(capsys, "get", "staff.csv", "2", "--json")
    assert json.loads(out)["email"] == "grace@example.com"
    code, out, err = run(capsys, "get", "staff.csv", "99")
    assert code == 1 and out == "" and err.startswith("staffbridge: ") and len(err.splitlines()) == 1


def test_migrate_shows_the_plan_and_changes_nothing_without_apply(here, capsys):
    code, out, _ = run(capsys, "migrate", "staff.csv", "team.jsonl")
    assert code == 0 and "create" in out and "+ csv#1 Ada Lovelace" in out and "--apply" in out
    assert not (here / "team.jsonl").exists()
    code, out, _ = run(capsys, "migrate", "staff.csv", "team.jsonl", "--apply", "--report", "report.csv")
    assert code == 0 and "3 created" in out
    assert len((here / "team.jsonl").read_text().splitlines()) == 3
    assert (here / "report.csv").read_text().splitlines()[0].startswith("source_id,target_id")
    code, out, _ = run(capsys, "migrate", "staff.csv", "team.jsonl", "--json")
    plan = json.loads(out)
    assert code == 0 and plan["summary"]["create"] == 0 and plan["summary"]["unchanged"] == 3


def test_migrate_apply_json_report_and_failed_rows(here, capsys):
    (here / "staff.csv").write_text(STAFF + "Bob,Bad,bob@example.com,31.02.1990,Dev,yes\n")
    code, out, _ = run(
        capsys,
        "migrate",
        "staff.csv",
        "team.jsonl",
        "--apply",
        "--json",
        "--report",
        "report.json",
        "--match",
        "email",
        "--workers",
        "2",
    )
    result = json.loads(out)
    assert code == 1 and result["report"]["totals"]["failed"] == 1 and result["report"]["ok"] is False
    rows = json.loads((here / "report.json").read_text())["rows"]
    assert [r["email"] for r in rows if r["status"] == "failed"] == ["bob@example.com"]
    code, _, _ = run(capsys, "migrate", "staff.csv", "team.jsonl")
    assert code == 1  # the plan still holds a person who cannot be migrated


def test_export_to_csv_then_migrate_the_file_into_moco(here, capsys, monkeypatch, moco_sandbox):
    monkeypatch.setenv("MOCO_API_KEY", "cli-test-key")
    moco_config(here / "staffbridge.toml", moco_sandbox)
    with sandbox_class("moco")(seed_people=0, api_key="cli-test-key") as empty:
        moco_config(here / "staffbridge.toml", empty, name="empty")
        code, out, _ = run(capsys, "list", "moco", "--csv", "--filter", "active=true")
        assert code == 0
        (here / "export.csv").write_text(out, newline="")
        active = sum(p.active for p in sample_people(12))  # `list` shows everyone; the filter, the active ones
        assert len(list(staffbridge.connect("csv", path="export.csv").list())) == active < 12
        code, out, _ = run(capsys, "migrate", "export.csv", "empty", "--apply")
        assert code == 0 and f"{active} created" in out
        code, out, _ = run(capsys, "migrate", "moco", "empty", "--json")
        summary = json.loads(out)["summary"]  # a migration reads everybody: the archived are new
        assert summary["create"] == 12 - active and summary["update"] == 0 and summary["unchanged"] == active


@pytest.mark.parametrize(
    "argv, words",
    [
        (["list", "moco"], ["no system named 'moco'", "staffbridge.toml"]),
        (["lsit"], ["invalid choice"]),
        (["migrate", "a.csv", "b.csv", "--workers", "many"], ["--workers"]),
        (["migrate", "a.csv", "b.csv", "--report", "r.json"], ["--apply"]),
        (["list", "staff.csv", "--filter", "active"], ["KEY=VALUE"]),
        (["list", "staf.csv"], ["staf.csv: no such file"]),
        (["migrate", "staf.csv", "new.csv"], ["staf.csv: no such file"]),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(here, capsys, argv, words):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("staffbridge: ")
    assert all(word in err for word in words)


def test_config_errors_name_file_system_and_setting(here, capsys, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    (here / "staffbridge.toml").write_text(
        '[systems.hr]\nadapter = "personio"\n'
        '[systems.moco]\nadapter = "moco"\ndomain = "acme"\n'
        'api_key = "${NO_SUCH_KEY}"\n'
    )
    code, _, err = run(capsys, "list", "hr")
    assert code == 2 and len(err.splitlines()) == 1
    assert "staffbridge.toml [systems.hr]" in err and "'personio' is not installed" in err and "moco" in err
    code, _, err = run(capsys, "migrate", "staff.csv", "moco")
    assert code == 2 and len(err.splitlines()) == 1
    assert "[systems.moco]" in err and "'api_key'" in err and "NO_SUCH_KEY is not set" in err
    (here / "other.toml").write_text("[systems.x\n")
    code, _, err = run(capsys, "list", "x", "--config", "other.toml")
    assert code == 2 and "other.toml: not valid TOML" in err
    code, _, err = run(capsys, "--config", "missing.toml", "list", "x")
    assert code == 2 and "missing.toml not found" in err


def test_an_unreachable_vendor_is_one_line_and_exit_2(here, capsys, monkeypatch):
    monkeypatch.setenv("MOCO_API_KEY", "k-unreachable")
    (here / "staffbridge.toml").write_text(
        '[systems.moco]\nadapter = "moco"\nbase_url = "http://127.0.0.1:9"\n'
        'api_key = "${MOCO_API_KEY}"\nmax_retries = 0\ntimeout = 2\n'
    )
    code, _, err = run(capsys, "list", "moco")
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("staffbridge: ")
    assert "Traceback" not in err


def test_parse_filters():
    assert parse_filters(["active=true", "tags=a", "tags=b", "email=x=y@example.com"]) == {
        "active": True,
        "tags": ["a", "b"],
        "email": "x=y@example.com",
    }


def test_progress_bar_draws_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    bar = ProgressBar(screen, interval=0)
    bar(5, 10, "writing")
    bar(10, 10, "writing")
    bar(3, None, "reading source")
    bar.close()
    text = screen.getvalue()
    assert "[############............]  5/10" in text and "10/10" in text and "reading source   3" in text
    assert text.endswith("\r")
    piped = io.StringIO()
    ProgressBar(piped)(5, 10, "writing")
    assert piped.getvalue() == ""


def test_python_dash_m_staffbridge(here):
    env = {**os.environ, "PYTHONPATH": str(Path(staffbridge.__file__).parent.parent)}
    done = subprocess.run(
        [sys.executable, "-m", "staffbridge", "list", "staff.csv", "--json"],
        cwd=here,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0 and [p["first_name"] for p in json.loads(done.stdout)] == ["Ada", "Grace", "Alan"]
    done = subprocess.run(
        [sys.executable, "-m", "staffbridge", "get", "staff.csv", "1", "--config", "nope.toml"],
        cwd=here,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.startswith("staffbridge: ") and "Traceback" not in done.stderr


def test_sandbox_serves_until_interrupted(capsys, monkeypatch):
    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("staffbridge.faces.cli.sandbox.time.sleep", interrupt)
    code, out, err = run(capsys, "sandbox", "moco", "--people", "2")
    assert code == 0 and out.startswith("moco") and "http://127.0.0.1:" in out and "Ctrl-C" in err
    code, _, err = run(capsys, "sandbox", "nosuchvendor")
    assert code == 2 and err.startswith("staffbridge: sandbox: no sandbox for 'nosuchvendor'")
