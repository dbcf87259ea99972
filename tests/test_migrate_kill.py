"""kill -9 a migration midway, run it again: no duplicates, nobody lost.

The sandboxes are served by this test process; the migration runs in a child process that is
killed hard (SIGKILL: no cleanup, no atexit, no finally) once the journal shows some work done.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

import staffbridge
from staffbridge.sandbox.moco import MocoSandbox
from staffbridge.store.journal import Journal

PEOPLE = 80
STALL_AT = 25


class StallingMoco(MocoSandbox):
    """Creates user number STALL_AT, then holds the answer back until the test says so: the child is
    killed in exactly the worst moment, the record made and its id never journalled."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.creates, self.stalled, self.release = 0, threading.Event(), threading.Event()

    def _create_user(self, request):
        response = super()._create_user(request)
        self.creates += 1
        if self.creates == STALL_AT:
            self.stalled_email = response.body["email"]
            self.stalled.set()
            self.release.wait(10)
        return response


CHILD = """
import sys, staffbridge
source_url, target_url, journal = sys.argv[1:4]
source = staffbridge.connect("moco", base_url=source_url, api_key="sandbox-key", rate_limit=100000, rate_period=1)
# slow enough to be caught midway: about 40 requests a second
target = staffbridge.connect("moco", base_url=target_url, api_key="sandbox-key", rate_limit=10, rate_period=0.25)
staffbridge.migrate(source, target, journal=journal, workers=4, dry_run=False)
print("finished", flush=True)
"""


def done_count(path):
    if not os.path.exists(path):
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM records WHERE state = 'done'").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not there yet
        return 0


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
def test_a_killed_migration_resumes_without_duplicates(tmp_path):
    journal = str(tmp_path / "journal.sqlite")
    with MocoSandbox(seed_people=PEOPLE) as source_sb, StallingMoco(seed_people=0) as target_sb:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, source_sb.url, target_sb.url, journal],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while not target_sb.stalled.wait(0.01):
                assert child.poll() is None, child.stderr.read().decode()
                assert time.monotonic() < deadline, "the child never got going"
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(timeout=10)
            target_sb.release.set()
        assert child.returncode == -signal.SIGKILL
        time.sleep(0.3)  # requests the child sent before it died are still being answered (to nobody)
        made = len(target_sb.backend.users)
        assert STALL_AT <= made < PEOPLE, "killed too late to prove anything"

        entries = Journal(journal, pair="moco->moco").entries()
        states = Counter(e.state for e in entries)
        assert states["done"] >= 15 and states["creating"] >= 1, states
        assert done_count(journal) < made  # the target holds somebody the journal never heard back about

        target = staffbridge.connect(
            "moco", base_url=target_sb.url, api_key="sandbox-key", rate_limit=100000, rate_period=1
        )
        source = staffbridge.connect(
            "moco", base_url=source_sb.url, api_key="sandbox-key", rate_limit=100000, rate_period=1
        )
        plan = staffbridge.migrate(source, target, journal=journal, dry_run=False)
        assert plan.report.ok, plan.report.failures
        assert plan.summary()["create"] == PEOPLE - made

        per_email = Counter(u.email for u in target_sb.backend.users.values())
        assert max(per_email.values()) == 1  # no duplicates
        assert set(per_email) == {u.email for u in source_sb.backend.users.values()}  # nobody lost
        assert Journal(journal, pair="moco->moco").counts() == {"done": PEOPLE}

        again = staffbridge.migrate(source, target, journal=journal, dry_run=False)
        assert again.summary()["unchanged"] == PEOPLE and again.report.stats["target_requests"] == 0
