"""Ctrl-C answers within a second, always (issue 11, item 7).

`staffbridge migrate staff.csv moco --apply` against a MOCO sandbox whose budget (and the adapter's)
is 6 requests a minute: after six creates every worker waits for the vendor's window. SIGINT then
must stop the command at once (not after the minute), send nothing more, write the report of what was
done, and say how to resume; the rerun with the same journal finishes without duplicates.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import pytest

from staffbridge.sandbox.moco import MocoSandbox

PEOPLE = 20
BUDGET = 6  # requests per WINDOW, for the sandbox and the adapter alike
WINDOW = 60.0


def write_staff(path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["first_name", "last_name", "email", "department"])
        for n in range(PEOPLE):
            writer.writerow([f"Ada{n}", "Lovelace", f"ada{n}@example.com", "Entwicklung"])


def writes(sandbox: MocoSandbox) -> int:
    return sum(1 for method, _ in list(sandbox.requests) if method in ("POST", "PUT", "PATCH", "DELETE"))


def interrupt_once_spent(command: list[str], cwd, target: MocoSandbox):
    """Runs `command` until the sandbox has seen its whole budget (every worker then waits for the
    vendor's window), sends SIGINT: (the child, stdout, stderr, writes before SIGINT, seconds to stop)."""
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while len(target.requests) < BUDGET:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the command never used up its budget"
            time.sleep(0.02)
        time.sleep(0.5)
        written = writes(target)
        child.send_signal(signal.SIGINT)
        stopped = time.monotonic()
        out, err = child.communicate(timeout=WINDOW / 2)  # well before the window lets a worker go
        return child, out, err, written, time.monotonic() - stopped
    finally:
        if child.poll() is None:
            child.kill()


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_during_a_rate_limit_wait_stops_at_once_reports_and_resumes(tmp_path):
    write_staff(tmp_path / "staff.csv")
    journal, report = tmp_path / "journal.sqlite", tmp_path / "report.csv"
    command = [sys.executable, "-m", "staffbridge", "migrate", "staff.csv", "moco", "--apply"]
    command += ["--journal", str(journal), "--report", str(report), "--workers", "2"]
    with MocoSandbox(seed_people=0, rate_limit=BUDGET, rate_window=WINDOW) as target:
        (tmp_path / "staffbridge.toml").write_text(
            f'[systems.moco]\nadapter = "moco"\nbase_url = "{target.url}"\napi_key = "sandbox-key"\n'
            f"rate_limit = {BUDGET}\nrate_period = {WINDOW:g}\n"
        )
        child, out, err, written, took = interrupt_once_spent(command, tmp_path, target)
        assert took < 5, f"took {took:.1f} s to answer Ctrl-C (the vendor's window is {WINDOW:g} s)"
        assert child.returncode == 130, (out, err)
        assert f"run the same command again with --journal {journal}" in err, err
        assert "Traceback" not in err, err
        assert writes(target) == written  # nothing was sent after Ctrl-C
        with report.open(encoding="utf-8") as rows:
            reported = list(csv.DictReader(rows))
        assert 0 < len(reported) < PEOPLE and all(row["status"] == "ok" for row in reported), reported
        assert len(reported) == written == len(target.backend.users)

    # the rerun, the window forgotten (a fresh sandbox with the same state would be the same): finishes
    with MocoSandbox(seed_people=0) as again:
        again.backend = target.backend
        (tmp_path / "staffbridge.toml").write_text(
            f'[systems.moco]\nadapter = "moco"\nbase_url = "{again.url}"\napi_key = "sandbox-key"\n'
            "rate_limit = 10000\nrate_period = 1\n"
        )
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (done.stdout, done.stderr)
        emails = [user.email for user in again.backend.users.values()]
        assert len(emails) == PEOPLE == len(set(emails))


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_while_applying_a_plan_file_reports_and_the_same_apply_resumes(tmp_path):
    from staffbridge.sandbox.server import RateLimit

    write_staff(tmp_path / "staff.csv")
    journal, report, plan = tmp_path / "journal.sqlite", tmp_path / "report.csv", tmp_path / "plan.json"

    def configure(url: str, budget: int, window: float) -> None:
        (tmp_path / "staffbridge.toml").write_text(
            f'[systems.moco]\nadapter = "moco"\nbase_url = "{url}"\napi_key = "sandbox-key"\n'
            f"rate_limit = {budget}\nrate_period = {window:g}\n"
        )

    staffbridge = [sys.executable, "-m", "staffbridge"]
    with MocoSandbox(seed_people=0) as target:
        configure(target.url, 10000, 1)
        planned = subprocess.run(
            [*staffbridge, "migrate", "staff.csv", "moco", "--plan", str(plan), "--journal", str(journal)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert planned.returncode == 0, (planned.stdout, planned.stderr)
        target.rate_limit = RateLimit(BUDGET, WINDOW)  # from here on, 6 requests a minute
        target.requests.clear()
        configure(target.url, BUDGET, WINDOW)
        command = [*staffbridge, "apply", str(plan), "--report", str(report), "--workers", "2"]
        child, out, err, written, _ = interrupt_once_spent(command, tmp_path, target)
        assert child.returncode == 130, (out, err)
        assert f"run `staffbridge apply {plan}` again" in err and "Traceback" not in err, err
        assert writes(target) == written  # nothing was sent after Ctrl-C
        with report.open(encoding="utf-8") as rows:
            reported = list(csv.DictReader(rows))
        assert 0 < len(reported) < PEOPLE and all(row["status"] == "ok" for row in reported), reported
        assert len(reported) == written == len(target.backend.users)

    with MocoSandbox(seed_people=0) as again:  # the same accounts, the window forgotten
        again.backend = target.backend
        configure(again.url, 10000, 1)
        done = subprocess.run([*staffbridge, "apply", str(plan)], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, (done.stdout, done.stderr)
        emails = [user.email for user in again.backend.users.values()]
        assert len(emails) == PEOPLE == len(set(emails))


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_while_the_source_is_still_being_read_stops_at_once(tmp_path):
    # The source's budget is one page a minute, so after its first page the read waits for the
    # window (while the plan looks at the people read so far). SIGINT then stops the command at once.
    with MocoSandbox(seed_people=250) as source:
        (tmp_path / "staffbridge.toml").write_text(
            f'[systems.moco]\nadapter = "moco"\nbase_url = "{source.url}"\napi_key = "sandbox-key"\n'
            f"rate_limit = 1\nrate_period = {WINDOW:g}\n"
        )
        command = [sys.executable, "-m", "staffbridge", "migrate", "moco", "out.csv", "--apply"]
        child = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while not source.requests:
                assert child.poll() is None, child.communicate()
                assert time.monotonic() < deadline, "the source was never read"
                time.sleep(0.02)
            time.sleep(0.5)
            child.send_signal(signal.SIGINT)
            stopped = time.monotonic()
            out, err = child.communicate(timeout=WINDOW / 2)  # well before the window lets the next page go
            took = time.monotonic() - stopped
        finally:
            if child.poll() is None:
                child.kill()
        assert took < 5, f"took {took:.1f} s to answer Ctrl-C (the source's window is {WINDOW:g} s)"
        assert child.returncode == 130, (out, err)
        assert "Traceback" not in err, err
        assert len(source.requests) == 1 and not (tmp_path / "out.csv").exists()
