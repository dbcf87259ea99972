"""Waiting is visible (issue 11, item 8): the progress line shows the rate, the ETA, and while a vendor's
rate limit holds the work up, that it waits and for how long, counting down; a bar that is not shown
(not a terminal) imports no progress library at all."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time

from staffbridge.faces.cli.progress import ProgressBar
from staffbridge.sdk.waits import Interrupted, Waits


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_line_shows_rate_eta_and_a_rate_limit_wait_counting_down():
    screen, waits = Terminal(), Waits("moco")
    bar = ProgressBar(screen, interval=0)
    stopped: list[bool] = []

    def wait_for_the_vendor() -> None:
        try:
            waits.sleep(30, "rate limit")
        except Interrupted:
            stopped.append(True)

    waiting = threading.Thread(target=wait_for_the_vendor)
    waiting.start()
    try:
        time.sleep(0.1)
        bar(4, 10, "writing")
        time.sleep(1.2)  # nothing moves: the bar redraws on its own while the wait counts down
    finally:
        waits.interrupt()
        waiting.join()
        bar.close()
    assert stopped == [True]
    text = screen.getvalue()
    assert "[#########...............]  4/10" in text and "/s" in text and "ETA" in text
    shown = [line for line in text.split("\r") if "waiting" in line]
    assert len(shown) >= 2 and all("for moco (rate limit)" in line for line in shown), text
    seconds = [int(line.split("waiting ")[1].split(" s")[0]) for line in shown]
    assert seconds[0] <= 30 and seconds[-1] < seconds[0]  # counting down
    assert text.endswith("\r")


def test_a_bar_that_is_not_drawn_loads_no_progress_library():
    code = (
        "import io, sys\n"
        "from staffbridge.faces.cli.progress import ProgressBar\n"
        "bar = ProgressBar(io.StringIO())\n"
        "bar(1, 2, 'writing'); bar.close()\n"
        "print('tqdm' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
