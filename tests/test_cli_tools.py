"""`staffbridge journal show FILE`, `staffbridge check SYSTEM`, `staffbridge init ADAPTER...`."""

import json
import time

import pytest

from staffbridge.faces.cli.main import main
from staffbridge.sdk.config import load_config
from staffbridge.sdk.registry import sandbox_class
from staffbridge.store.journal import Journal

STAFF = (
    "first_name,last_name,email,department\n"
    "Ada,Lovelace,ada@example.com,Entwicklung\n"
    "Grace,Hopper,grace@example.com,Vertrieb\n"
)


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAFFBRIDGE_CONFIG", raising=False)
    (tmp_path / "staff.csv").write_text(STAFF)
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ journal show


def test_journal_show_counts_done_in_flight_and_failed_with_reasons(here, capsys):
    assert run(capsys, "migrate", "staff.csv", "team.jsonl", "--apply", "--journal", "j.db")[0] == 0
    code, out, _ = run(capsys, "journal", "show", "j.db")
    assert code == 0 and out.splitlines()[0].startswith("csv->jsonl: 2 records")
    assert "done            2" in out and "in flight       0" in out and "failed          0" in out
    with Journal("j.db", pair="moco->whosoff") as journal:
        journal.mark("17", "creating", source_id="17", action="create")
        journal.mark("18", "failed", source_id="18", action="update", reason="whosoff: Department is required")
        journal.mark("19", "done", source_id="19", target_id="900", action="create")
    code, out, _ = run(capsys, "journal", "show", "j.db", "--pair", "moco->whosoff")
    assert code == 1 and "csv->jsonl" not in out
    assert "done            1" in out and "in flight       1" in out and "failed          1" in out
    assert "~ create 17 (creating," in out and "looks each up before writing again" in out
    assert "x update 18 (failed," in out and "): whosoff: Department is required" in out
    assert "900" not in out  # done records only with --all
    assert "= create 19 -> 900" in run(capsys, "journal", "show", "j.db", "--all")[1]
    code, out, _ = run(capsys, "journal", "show", "j.db", "--json")
    entries = json.loads(out)
    assert sorted(entries) == ["csv->jsonl", "moco->whosoff"] and entries["moco->whosoff"][0]["in_flight"] is True


def test_journal_show_never_creates_a_journal(here, capsys):
    code, out, err = run(capsys, "journal", "show", "typo.db")
    assert code == 2 and out == "" and "typo.db: no such journal file" in err and not (here / "typo.db").exists()


# ------------------------------------------------------------------ check


def test_check_reports_reachability_and_credentials_in_one_request(here, capsys, monkeypatch):
    monkeypatch.setenv("MOCO_API_KEY", "check-key")
    with sandbox_class("moco")(seed_people=2, api_key="check-key") as sandbox:
        (here / "staffbridge.toml").write_text(
            f'[systems.moco]\nadapter = "moco"\nbase_url = "{sandbox.url}"\napi_key = "${{MOCO_API_KEY}}"\n'
            f'[systems.wrong]\nadapter = "moco"\nbase_url = "{sandbox.url}"\napi_key = "${{WRONG_KEY}}"\n'
            '[systems.gone]\nadapter = "moco"\nbase_url = "http://127.0.0.1:9/api/v1"\napi_key = "x"\n'
        )
        code, out, err = run(capsys, "check", "moco")
        assert code == 0 and err == "" and "moco (moco): reachable, credentials accepted" in out
        assert "(1 request(s)," in out and "check-key" not in out
        monkeypatch.setenv("WRONG_KEY", "not-the-key")
        code, out, err = run(capsys, "check", "wrong", "--json")
        outcome = json.loads(out)
        assert code == 2 and outcome["reachable"] is True and outcome["credentials"] is False
        assert "credentials refused" in err and "not-the-key" not in out + err
    started = time.perf_counter()
    code, out, err = run(capsys, "check", "gone")
    assert code == 2 and "gone (moco): unreachable" in err and time.perf_counter() - started < 5  # no retries
    code, out, _ = run(capsys, "check", "staff.csv")
    assert code == 0 and "staff.csv (csv): readable" in out


# ------------------------------------------------------------------ init


def test_init_writes_a_commented_config_with_placeholders_for_secrets(here, capsys):
    code, out, _ = run(capsys, "init", "moco", "whosoff", "csv")
    assert code == 0 and "Wrote staffbridge.toml with moco, whosoff, csv." in out
    assert "MOCO_API_KEY, WHOSOFF_APP_ID" in out
    text = (here / "staffbridge.toml").read_text()
    assert 'api_key = "${MOCO_API_KEY}"' in text and 'domain = "acme"' in text
    assert '# password = "${WHOSOFF_PASSWORD}"' in text and "# max_retries = 4" in text
    assert text.count("\n# ") > 20  # commented, setting by setting
    config = load_config("staffbridge.toml")
    assert sorted(config.systems) == ["csv", "moco", "whosoff"]
    moco = config.system("moco", environ={"MOCO_API_KEY": "k"})
    assert moco.settings == {"domain": "acme", "api_key": "k"} and moco.secrets == ["k"]
    assert config.system("csv").connect().name == "csv"  # the file's own settings connect as written


def test_init_never_overwrites_without_force(here, capsys):
    (here / "staffbridge.toml").write_text("# mine\n")
    code, out, err = run(capsys, "init", "csv")
    assert code == 2 and out == "" and "exists already" in err and "--force" in err
    assert (here / "staffbridge.toml").read_text() == "# mine\n"
    assert run(capsys, "init", "csv", "--force")[0] == 0 and "[systems.csv]" in (here / "staffbridge.toml").read_text()
    code, _, err = run(capsys, "init", "nosuchvendor", "--output", "other.toml")
    assert code == 2 and "nosuchvendor" in err and "moco" in err and not (here / "other.toml").exists()
