import logging
import os
import signal

import pytest

from .example_plugin_install import INSTALL_PROBLEM, install_example_plugin


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-cassettes",
        action="store_true",
        help="record cassettes/<vendor>/*.yaml anew against the bundled sandboxes",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--record-cassettes"):
        os.environ["STAFFBRIDGE_RECORD"] = "1"


def pytest_sessionstart(session: pytest.Session) -> None:
    # before any test reads entry points (see example_plugin_install.py); a failure is reported by
    # the plugin's tests, not here, so the rest of the suite still runs
    session.config.stash[INSTALL_PROBLEM] = install_example_plugin()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every staffbridge log line at DEBUG, for the planted-secret checks."""
    caplog.set_level(logging.DEBUG, logger="staffbridge")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    return caplog


@pytest.fixture(autouse=True)
def hang_guard(request: pytest.FixtureRequest):
    """A module that sets HANG_LIMIT (seconds) fails a test running longer than that instead of
    hanging CI. Not a speed check: benchmarks measure speed; the limits are many times the real time."""
    limit = getattr(request.module, "HANG_LIMIT", None)
    if not limit or not hasattr(signal, "SIGALRM"):
        yield
        return

    def stop(signum, frame):
        raise TimeoutError(f"over {limit} s: something hangs")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
