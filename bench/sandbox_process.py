"""Run a vendor sandbox in a child process, so a benchmark measures only the client's time and memory."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def sandbox_process(vendor: str, people: int) -> Iterator[str]:
    """Yields the sandbox's base URL; the child is stopped on exit."""
    child = subprocess.Popen([sys.executable, "-m", "staffbridge", "sandbox", vendor, "--people", str(people)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = child.stdout.readline() if child.stdout else ""
        found = re.search(r"(http://\S+)", line)
        if not found:
            raise RuntimeError(f"sandbox did not start: {line!r}")
        yield found.group(1)
    finally:
        child.terminate()
        child.wait(timeout=10)
