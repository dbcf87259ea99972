"""A one-line progress bar on stderr, for the `progress(done, total, label)` callbacks of long work.

Drawn only when the stream is a terminal (so logs, pipes and CI output stay clean), at most ten
times a second, from any number of threads:

    reading source   [##########..........]  120/240
    writing          1,234
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Callable as `progress(done, total, label)`; `total` None means not known yet (a counter)."""

    def __init__(
        self, stream: TextIO | None = None, enabled: bool | None = None, width: int = 24, interval: float = 0.1
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self.width, self.interval = width, interval
        self._lock = threading.Lock()
        self._last = 0.0
        self._shown = 0  # characters on the line now, to blank it out

    def __call__(self, done: int, total: Any, label: str) -> None:
        if not self.enabled:
            return
        finished = isinstance(total, int) and total > 0 and done >= total
        now = time.monotonic()
        with self._lock:
            if not finished and now - self._last < self.interval:
                return
            self._last = now
            self._draw(self.line(done, total, label))

    def line(self, done: int, total: Any, label: str) -> str:
        if isinstance(total, int) and total > 0:
            filled = min(self.width, self.width * done // total)
            bar = "#" * filled + "." * (self.width - filled)
            return f"{label:<16} [{bar}] {done:>{len(str(total))}}/{total}"
        return f"{label:<16} {done:,}"

    def _draw(self, text: str) -> None:
        pad = " " * max(0, self._shown - len(text))
        self.stream.write("\r" + text + pad)
        self.stream.flush()
        self._shown = len(text)

    def close(self) -> None:
        """Blanks the line, so what is printed next starts clean."""
        with self._lock:
            if self.enabled and self._shown:
                self.stream.write("\r" + " " * self._shown + "\r")
                self.stream.flush()
                self._shown = 0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
