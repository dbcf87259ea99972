import logging
import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record-cassettes", action="store_true",
                     help="record cassettes/<vendor>/*.yaml anew against the bundled sandboxes")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--record-cassettes"):
        os.environ["STAFFBRIDGE_RECORD"] = "1"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every staffbridge log line at DEBUG, for the planted-secret checks."""
    caplog.set_level(logging.DEBUG, logger="staffbridge")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    return caplog
