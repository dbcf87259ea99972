"""`staffbridge demo`: two in-process sandboxes, plan, apply, plan again: nothing left to do."""

import json

from staffbridge.faces.cli import demo
from staffbridge.faces.cli.main import main

PLANTED = "planted0demo0secret"


def test_demo_runs_end_to_end_and_its_second_run_writes_nothing(capsys, monkeypatch):
    monkeypatch.setattr(demo.secrets, "token_hex", lambda n=None: PLANTED)  # every sandbox credential
    code = main(["demo"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "Plan: moco -> whosoff" in out and "Applied:" in out and "found 0 changes to make" in out
    assert "\n  ~ " in out and "work_phone" in out  # the changed phones are updates
    assert PLANTED not in out and PLANTED not in err


def test_demo_json_summary(capsys):
    code = main(["demo", "--json", "--people", "30"])
    out, _ = capsys.readouterr()
    summary = json.loads(out)
    first, second = summary["first_plan"], summary["second_plan"]
    assert code == 0 and summary["ok"] is True and summary["left_to_do"] == 0
    assert first["create"] > 0 and first["update"] == 3 and first["unchanged"] > 0
    assert second["create"] == second["update"] == second["delete"] == 0
    assert summary["applied"]["failed"] == 0


def test_demo_into_a_second_moco(capsys):
    code = main(["demo", "--target", "moco", "--json", "--people", "30"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["target"] == "moco" and summary["left_to_do"] == 0
    assert summary["first_plan"]["update"] == 3 and summary["applied"]["failed"] == 0
