"""kill -9 a CLI migration at 10 random points (seeded); after each resume the target is exactly what
an undisturbed run leaves behind.

The run is `python -m staffbridge migrate source target --apply --journal J` in a child process; the
MOCO source and the WhosOff target are served by this test process, so they outlive the child. A
tripwire on the sandboxes counts the child's requests to both and, at the chosen request, kills
the child with SIGKILL (no cleanup, no atexit, no finally): either before the server acts on that
request, or after it acted and before the answer goes out (the write happened, the child never
hears of it: the worst moment). Kill points are drawn over the whole run, so they fall into the
handshake, the reads of both sides, the checks of the target and the writes.

After each kill the same command runs again to the end. The target, compared in the sandbox's
backend by email (every stored field but the id and the random password), must equal that of an
undisturbed run, with no duplicates. `pytest tests/test_crash_resume.py -s` prints the kill points.
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.sandbox.whosoff import WhosOffSandbox
from staffbridge.store.journal import Journal

PEOPLE = 120  # in the MOCO source
OVERLAP = 30  # of them already in the WhosOff target; the first CHANGED with another phone
CHANGED = 10
KILLS = 10
SEED = 20240611
WORKERS = 4
HANG_LIMIT = LIMIT = 240  # seconds for the whole test at most (it takes ~12)

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")


class Tripwire:
    """Counts the child's requests over both sandboxes; kills the child at request number `at`."""

    def __init__(self, at: int | None = None, after: bool = False) -> None:
        self.at, self.after = at, after
        self.seen = 0
        self.pid: int | None = None
        self.ready = threading.Event()  # the pid is known
        self.killed = threading.Event()
        self._lock = threading.Lock()

    def wrap(self, sandbox: Any) -> None:
        plain = sandbox.dispatch

        def dispatch(request: Any, handler: Any) -> Any:
            if request.path.startswith("/_sandbox/"):
                return plain(request, handler)
            with self._lock:
                self.seen += 1
                fire = self.seen == self.at
            if fire and not self.after:
                self.kill()
                return None  # the child is gone before the server acted: nothing happens
            response = plain(request, handler)
            if fire:
                self.kill()  # acted on, and the answer goes to a dead process
            return response

        sandbox.dispatch = dispatch

    def kill(self) -> None:
        self.ready.wait(10)
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            self.killed.set()


def target_sandbox() -> WhosOffSandbox:
    sb = WhosOffSandbox(seed_people=OVERLAP).start()
    for user in list(sb.backend.users.values())[1 : CHANGED + 1]:  # [0] is the API admin
        user.work_telephone = "+1 555 0100"
    return sb


def state(sb: WhosOffSandbox) -> dict[str, list[dict[str, Any]]]:
    """email -> the stored users with it (every field but the id, the random password and the log-in
    bookkeeping, which each handshake of the API admin changes)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for user in list(sb.backend.users.values()):
        fields = dataclasses.asdict(user)
        for name in ("user_id", "password", "last_logins", "failed_logins", "lockout_date"):
            fields.pop(name)
        found.setdefault(user.email_contact.lower(), []).append(fields)
    return found


def write_config(folder: Path, source: MocoSandbox, target: WhosOffSandbox) -> dict[str, str]:
    config = folder / "staffbridge.toml"
    config.write_text(
        f'[systems.source]\nadapter = "moco"\nbase_url = "{source.url}"\napi_key = "sandbox-key"\n'
        f"rate_limit = 100000\nrate_period = 1.0\n"
        f'[systems.target]\nadapter = "whosoff"\nbase_url = "{target.url}"\napp_id = "sandbox-app"\n'
        f'username = "admin@example.com"\npassword = "sandbox-password"\n'
        f'client_secret = "sandbox-client-secret"\n',
        encoding="utf-8",
    )
    roles = folder / "roles.toml"
    roles.write_text(
        '[fields.role.values]\n100 = "Mitarbeiter"\n200 = "Teamleitung"\n300 = "Administrator"\n', encoding="utf-8"
    )
    return {**os.environ, "STAFFBRIDGE_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}


def migrate(folder: Path, env: dict[str, str], tripwire: Tripwire | None = None) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "staffbridge",
        "migrate",
        "source",
        "target",
        "--apply",
        "--journal",
        str(folder / "journal.sqlite"),
        "--map",
        str(folder / "roles.toml"),
        "--workers",
        str(WORKERS),
    ]
    child = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if tripwire is not None:
        tripwire.pid = child.pid
        tripwire.ready.set()
    out, err = child.communicate(timeout=60)
    return subprocess.CompletedProcess(command, child.returncode, out, err)


def test_a_migration_killed_at_10_random_points_resumes_to_the_undisturbed_result(tmp_path):
    with MocoSandbox(seed_people=PEOPLE) as source:
        # the undisturbed run: what every resumed run must leave behind, and how many requests it takes
        target = target_sandbox()
        counter = Tripwire()
        counter.wrap(source)
        counter.wrap(target)
        folder = tmp_path / "undisturbed"
        folder.mkdir()
        done = migrate(folder, write_config(folder, source, target))
        target.stop()
        assert done.returncode == 0, done.stdout + done.stderr
        expected = state(target)
        assert len(expected) == PEOPLE + 1 + 0 and all(len(v) == 1 for v in expected.values())  # + the admin
        requests = counter.seen
        source.dispatch = MocoSandbox.dispatch.__get__(source)  # unwrap

        rng = random.Random(SEED)
        points = sorted(rng.sample(range(1, requests), KILLS))
        lines = []
        for number, at in enumerate(points):
            after = rng.random() < 0.5
            target = target_sandbox()
            tripwire = Tripwire(at, after)
            tripwire.wrap(source)
            tripwire.wrap(target)
            folder = tmp_path / f"kill{number}"
            folder.mkdir()
            env = write_config(folder, source, target)
            killed = migrate(folder, env, tripwire)
            source.dispatch = MocoSandbox.dispatch.__get__(source)
            assert killed.returncode == -signal.SIGKILL, (at, killed.stdout + killed.stderr)
            journal = folder / "journal.sqlite"
            states = (
                Counter(e.state for e in Journal(journal, pair="moco->whosoff").entries())
                if journal.exists()
                else Counter()
            )

            resumed = migrate(folder, env)
            assert resumed.returncode == 0, resumed.stdout + resumed.stderr
            got = state(target)
            target.stop()
            doubled = sorted(email for email, users in got.items() if len(users) > 1)
            assert doubled == [], (at, doubled)
            assert got == expected, (at, sorted(set(got) ^ set(expected)))
            assert Journal(journal, pair="moco->whosoff").counts() == {"done": PEOPLE}
            lines.append(
                f"  kill at request {at:>3}/{requests} ({'after the server acted' if after else 'before'}): "
                f"journal then {dict(states) or 'not yet created'}; resumed: {resumed.stdout.splitlines()[-1]}"
            )
        print(
            f"\ncrash/resume: {KILLS} kill points (seed {SEED}) over {requests} requests; every resume equals "
            "the undisturbed target, no duplicates\n" + "\n".join(lines)
        )
