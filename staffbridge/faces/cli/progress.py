"""A one-line progress bar on stderr, for the `progress(done, total, label)` callbacks of long work.

Drawn with tqdm (its rate and ETA), only when the stream is a terminal (so logs, pipes and CI output
stay clean; tqdm is not even imported then), from any number of threads:

    writing          [############............]  5/10 12.3 it/s ETA 00:01, waiting 48 s for moco (rate limit)
    reading source   1234 410 it/s

While the work waits for a vendor (its rate limit, a retry, a Retry-After), the line says so and for
how long, and keeps counting down: a small thread redraws it twice a second while a bar is shown.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

__all__ = ["ProgressBar"]

TICK = 0.5  # seconds between redraws while nothing moves (a wait counting down)


class ProgressBar:
    """Callable as `progress(done, total, label)`; `total` None means not known yet (a counter)."""

    def __init__(
        self, stream: TextIO | None = None, enabled: bool | None = None, width: int = 24, interval: float = 0.1
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self.width, self.interval = width, interval
        self._lock = threading.RLock()
        self._last = 0.0
        self._bar: Any = None  # the tqdm bar of the current label and total
        self._shape: tuple[str, Any] | None = None
        self._ticker: threading.Thread | None = None
        self._closed = threading.Event()

    def __call__(self, done: int, total: Any, label: str) -> None:
        if not self.enabled:
            return
        total = total if isinstance(total, int) and total > 0 else None
        finished = total is not None and done >= total
        now = time.monotonic()
        with self._lock:
            if (label, total) != self._shape:
                self._open(label, total)
            elif not finished and now - self._last < self.interval:
                return
            self._last = now
            self._bar.update(done - self._bar.n)
            self._show_waits()

    def _open(self, label: str, total: int | None) -> None:
        from tqdm import tqdm  # only once a bar is drawn

        self._drop()
        if total is None:
            bar_format = "{desc:<16} {n_fmt} {rate_fmt}{postfix}"
        else:
            bar_format = f"{{desc:<16}} [{{bar:{self.width}}}] {{n_fmt:>{len(str(total))}}}/{{total_fmt}}"
            bar_format += " {rate_fmt} ETA {remaining}{postfix}"
        self._bar = tqdm(
            total=total,
            desc=label,
            file=self.stream,
            bar_format=bar_format,
            ascii=".#",
            leave=False,
            mininterval=0,
            miniters=1,
            dynamic_ncols=False,
            unit="",
        )
        self._shape = (label, total)
        if self._ticker is None:
            self._closed.clear()
            self._ticker = threading.Thread(target=self._tick, name="staffbridge-progress", daemon=True)
            self._ticker.start()

    def _show_waits(self) -> None:
        from staffbridge.sdk.waits import current_waits  # loaded with any adapter already

        waits = current_waits()
        self._bar.set_postfix_str(waits[0].text() if waits else "", refresh=True)

    def _tick(self) -> None:
        while not self._closed.wait(TICK):
            with self._lock:
                if self._bar is not None:
                    self._show_waits()

    def _drop(self) -> None:
        if self._bar is not None:
            self._bar.close()  # leave=False: blanks its line, ends with "\r"
            self._bar, self._shape = None, None

    def close(self) -> None:
        """Blanks the line, so what is printed next starts clean."""
        self._closed.set()
        ticker, self._ticker = self._ticker, None
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join()
        with self._lock:
            self._drop()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
