"""A third-party package adds a vendor: tests/example_plugin ships TinyHR's adapter, mapping and sandbox
through the three entry point groups, and staffbridge finds all three (connect, the CLI, the sandbox).

The plugin is installed into this environment at session start (see example_plugin_install.py).
"""

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import staffbridge
from staffbridge import AdapterNotFound, ConfigError, MappingError, NotFound, Person, Ref, VendorValidationError
from staffbridge.mapping.engine import Mapping
from staffbridge.mapping.locate import mapping_names, mapping_text
from staffbridge.sandbox.people import sample_people
from staffbridge.sdk.registry import adapter_class, installed_sandboxes, sandbox_class

from .example_plugin_install import INSTALL_PROBLEM, PLUGIN

HANG_LIMIT = 120  # seconds: a sandbox subprocess that never answers fails instead of hanging CI
TOKEN = "plugin-test-token"


@pytest.fixture(scope="module", autouse=True)
def installed(pytestconfig: pytest.Config) -> None:
    problem = pytestconfig.stash.get(INSTALL_PROBLEM, "the example plugin was never installed")
    if problem:
        pytest.fail(problem)


@pytest.fixture
def sandbox():
    from staffbridge_tinyhr.sandbox import TinyHRSandbox

    with TinyHRSandbox(seed_people=25, token=TOKEN) as sb:  # 10 a page: three pages
        yield sb


def staffbridge_cli(
    *argv: str,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The command line in a fresh process: it must find the plugin on its own."""
    return subprocess.run(
        [sys.executable, "-m", "staffbridge", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_one_package_registers_adapter_mapping_and_sandbox_under_one_name():
    from staffbridge_tinyhr.adapter import TinyHRAdapter
    from staffbridge_tinyhr.sandbox import TinyHRSandbox

    assert "tinyhr" in staffbridge.available() and adapter_class("tinyhr") is TinyHRAdapter
    assert "tinyhr" in installed_sandboxes() and sandbox_class("tinyhr") is TinyHRSandbox
    assert "tinyhr" in mapping_names()
    shipped = (PLUGIN / "staffbridge_tinyhr" / "tinyhr.toml").read_text("utf-8")
    assert mapping_text("tinyhr") == shipped  # read from the plugin's package, not staffbridge.mappings
    assert Mapping.load("tinyhr").spec("first_name").read == "given_name"


def test_unknown_names_list_what_is_installed_plugins_included():
    with pytest.raises(AdapterNotFound, match="tinyhr"):
        staffbridge.connect("nosuchvendor")
    with pytest.raises(LookupError, match=r"no sandbox for 'nosuchvendor'; available: .*tinyhr"):
        sandbox_class("nosuchvendor")
    with pytest.raises(MappingError, match=r"no mapping shipped for 'nosuchvendor'; installed: .*tinyhr"):
        Mapping.load("nosuchvendor")


def test_connect_lists_gets_creates_updates_and_deletes(sandbox):
    tinyhr = staffbridge.connect("tinyhr", base_url=sandbox.url, token=TOKEN)
    assert TOKEN not in repr(tinyhr)
    people = list(tinyhr.list())
    assert [(p.first_name, p.email) for p in people] == [(s.first_name, s.email) for s in sample_people(25)]
    assert [m for m, path in sandbox.requests if path.startswith("/api/people?")] == ["GET"] * 3

    first = tinyhr.get(people[0].id)
    assert first.system == "tinyhr" and first.department == Ref(name=sample_people(1)[0].department)
    assert first.raw["given_name"] == first.first_name

    ada = tinyhr.create(
        Person(first_name="Ada", last_name="Lovelace", email="ada@example.com", department=Ref(name="Entwicklung"))
    )
    stored = sandbox.backend.get(int(ada.id))
    assert (stored.given_name, stored.team, stored.active) == ("Ada", "Entwicklung", True)
    assert tinyhr.update(ada.id, {"email": "ada@new.example"}).email == "ada@new.example"
    with pytest.raises(VendorValidationError):  # TinyHR's 422, typed by the SDK
        tinyhr.create(Person(first_name="Ada", last_name="Again", email=people[1].email))
    tinyhr.delete(ada.id)
    with pytest.raises(NotFound):
        tinyhr.get(ada.id)


def test_settings_are_checked_by_the_adapter_schema(sandbox):
    with pytest.raises(ConfigError) as info:
        staffbridge.connect("tinyhr", base_url=sandbox.url)
    assert info.value.setting == "token"


def test_the_cli_lists_serves_and_reads_the_plugin(tmp_path):
    adapters = staffbridge_cli("adapters", "--json", cwd=tmp_path)
    assert adapters.returncode == 0, adapters.stderr
    row = {r["name"]: r for r in json.loads(adapters.stdout)}["tinyhr"]
    assert row["operations"] == ["list", "get", "create", "update", "delete"] and row["pagination"] == "page"

    server = subprocess.Popen(
        [sys.executable, "-m", "staffbridge", "sandbox", "tinyhr", "--people", "12"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = server.stdout.readline()
        found = re.match(r"tinyhr\s+(http://127\.0\.0\.1:\d+/api)\s", banner)
        assert found, f"no URL in {banner!r}; stderr: {server.stderr.read() if server.poll() is not None else ''}"
        (tmp_path / "staffbridge.toml").write_text(
            f'[systems.tiny]\nadapter = "tinyhr"\nbase_url = "{found.group(1)}"\ntoken = "${{TINYHR_TOKEN}}"\n'
        )
        listed = staffbridge_cli("list", "tiny", "--json", cwd=tmp_path, env={"TINYHR_TOKEN": "sandbox-token"})
        assert listed.returncode == 0, listed.stderr
        assert [p["email"] for p in json.loads(listed.stdout)] == [s.email for s in sample_people(12)]
        refused = staffbridge_cli("list", "tiny", cwd=tmp_path, env={"TINYHR_TOKEN": "wrong-token"})
        assert refused.returncode == 2 and "wrong-token" not in refused.stdout + refused.stderr
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C: the command stops its sandboxes and exits 0
        assert server.wait(timeout=30) == 0
        server.stdout.close()
        server.stderr.close()
