"""Run a vendor sandbox in a child process, so a benchmark measures only the client's time and memory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SERVE = """
import json, sys, time
from staffbridge.sdk.registry import sandbox_class
vendor, people, options, realistic = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4] == "1"
sandbox = sandbox_class(vendor)(seed_people=people, **options)
if realistic:
    sys.path.insert(0, sys.argv[5])
    from realistic import fill
    fill(vendor, sandbox)
sandbox.start()
print(sandbox.url, sandbox.root, flush=True)
while True:
    time.sleep(3600)
"""


@contextmanager
def serve(vendor: str, people: int, realistic: bool = True, **options: Any) -> Iterator[tuple[str, str]]:
    """Yields the sandbox's (base URL, server root); `options` go to its constructor (rate_limit, ...).
    `realistic`: every mapped field of every record filled, as real accounts have them (realistic.py)."""
    here = os.path.dirname(os.path.abspath(__file__))
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE, vendor, str(people), json.dumps(options), "1" if realistic else "0", here],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        found = re.match(r"(http://\S+) (http://\S+)", line)
        if not found:
            raise RuntimeError(f"{vendor} sandbox did not start: {line!r}")
        yield found.group(1), found.group(2)
    finally:
        child.terminate()
        child.wait(timeout=10)


@contextmanager
def sandbox_process(vendor: str, people: int, **options: Any) -> Iterator[str]:
    """Like `serve`, yielding only the base URL."""
    with serve(vendor, people, **options) as (url, _root):
        yield url
