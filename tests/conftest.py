import contextlib
import logging
import os
import secrets as _secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

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


# ---------------------------------------------------------------------------------------------- services
# PostgreSQL and Redis for the platform tests: the machine's running services (or the ones named by
# STAFFBRIDGE_TEST_POSTGRES / STAFFBRIDGE_TEST_REDIS), else private ones started from the installed
# binaries. Where neither works the test skips with the reason, unless STAFFBRIDGE_REQUIRE_SERVICES=1
# (CI), where that skip is a failure: a green CI run never hides tests that did not run.


POSTGRES_SERVER = os.environ.get("STAFFBRIDGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_SERVER = os.environ.get("STAFFBRIDGE_TEST_REDIS", "redis://127.0.0.1:6379")


def service_missing(reason: str) -> None:
    """Skips the test, or fails it where services are required (CI)."""
    if os.environ.get("STAFFBRIDGE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (STAFFBRIDGE_REQUIRE_SERVICES=1: CI must run this test)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return True
        time.sleep(0.05)
    return False


class PrivateRedis:
    """A redis-server of the test's own on a free port, keeping nothing on disk; `restart()` stops it
    (losing everything, as a crashed Redis without persistence does) and starts it on the same port."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> "PrivateRedis":
        assert self.binary
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not _wait_for(lambda: _redis_answers(self.url), 10):
            self.stop()
            raise RuntimeError(f"redis-server did not start on port {self.port}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    finally:
        client.close()


def _postgres_answers(dsn: str) -> bool:
    import psycopg

    with psycopg.connect(dsn, connect_timeout=2) as db:
        return db.execute("SELECT 1").fetchone() == (1,)


@contextlib.contextmanager
def _private_postgres() -> Iterator[str]:
    """A PostgreSQL cluster of our own (initdb + pg_ctl in a temporary folder), as pytest-postgresql does."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        raise RuntimeError("no PostgreSQL is running and initdb/pg_ctl are not installed")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        raise RuntimeError("no PostgreSQL is running, and initdb refuses to run as root")
    folder = tempfile.mkdtemp(prefix="staffbridge-pg-")
    port = free_port()
    subprocess.run([initdb, "-D", folder, "-U", "postgres", "-A", "trust"], check=True, capture_output=True)
    subprocess.run(
        [pg_ctl, "-D", folder, "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([pg_ctl, "-D", folder, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server's maintenance DSN: the running one, else a private cluster."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        service_missing("PostgreSQL tests need the platform extra (pip install -e '.[platform]')")
    if _wait_for(lambda: _postgres_answers(POSTGRES_SERVER), 1):
        yield POSTGRES_SERVER
        return
    try:
        with _private_postgres() as dsn:
            yield dsn
            return
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        why = f"PostgreSQL not available at {POSTGRES_SERVER}: {exc}"
    service_missing(why)  # outside the except: the report shows the reason, not a chained traceback


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server: str) -> Iterator[str]:
    """A fresh database of this test session's own, dropped at the end."""
    import psycopg

    name = f"staffbridge_test_{os.getpid()}_{_secrets.token_hex(3)}"
    with psycopg.connect(postgres_server, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    dsn = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    yield dsn
    from staffbridge.store import postgres

    postgres.close_pools()
    with psycopg.connect(postgres_server, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_schema(postgres_dsn: str) -> Iterator[str]:
    """A DSN whose tables land in a fresh schema of their own: an empty database for one test, cheaply."""
    import psycopg

    from staffbridge.store import postgres

    schema = f"t_{_secrets.token_hex(6)}"
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    dsn = f"{postgres_dsn}?options=-csearch_path%3D{schema}"
    yield dsn
    postgres.close_pool(dsn)
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis, or a private redis-server for the whole session."""
    try:
        import redis  # noqa: F401
    except ImportError:
        service_missing("Redis tests need the platform extra (pip install -e '.[platform]')")
    if _wait_for(lambda: _redis_answers(REDIS_SERVER), 1):
        return REDIS_SERVER
    if not shutil.which("redis-server"):
        service_missing(f"Redis not available at {REDIS_SERVER} and redis-server is not installed")
    server = PrivateRedis().start()
    import atexit

    atexit.register(server.stop)
    return server.url


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, which the test may restart."""
    try:
        import redis  # noqa: F401
    except ImportError:
        service_missing("Redis tests need the platform extra (pip install -e '.[platform]')")
    if not shutil.which("redis-server"):
        service_missing("redis-server is not installed")
    server = PrivateRedis().start()
    yield server
    server.stop()
