"""A light front door: `staffbridge --version` imports argparse and nothing heavy, and `staffbridge adapters`
answers from its on-disk cache, which is recomputed whenever what decided it changes.

Times are measured by tests/bench/startup.py, never asserted here; these tests check what is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import staffbridge
from staffbridge.faces.cli import adapters_cache
from staffbridge.faces.cli.adapters_cache import cached_rows

HEAVY = ("requests", "marshmallow", "stevedore", "importlib.metadata", "urllib3", "sqlite3", "staffbridge.sdk")
ROOT = Path(staffbridge.__file__).resolve().parent.parent

SHOW_MODULES = """
import json, sys
from staffbridge.faces.cli.main import main
code = main(sys.argv[1:])
print("\\n@@" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def run_cli(*argv: str, cache: Path) -> tuple[str, dict]:
    """Runs the CLI in a fresh interpreter; returns what it printed and the modules it had loaded."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", SHOW_MODULES, *argv], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    printed, _, state = done.stdout.rpartition("\n@@")
    return printed, json.loads(state)


def heavy_in(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(HEAVY)]


def test_version_imports_argparse_and_nothing_heavy(tmp_path):
    printed, state = run_cli("--version", cache=tmp_path)
    assert state["code"] == 0 and printed.strip() == f"staffbridge {staffbridge.__version__}"
    assert heavy_in(state["modules"]) == []
    ours = {m for m in state["modules"] if m.startswith("staffbridge")}
    assert ours <= {
        "staffbridge",
        "staffbridge.faces",
        "staffbridge.faces.cli",
        "staffbridge.faces.cli.main",
        "staffbridge.faces.cli.arguments",
        "staffbridge.faces.cli.console",
        "staffbridge.faces.cli.systems",
        "staffbridge.faces.cli.progress",
    }, ours


def test_adapters_answers_from_the_cache_once_it_is_warm(tmp_path):
    cold, state = run_cli("adapters", cache=tmp_path)
    assert state["code"] == 0 and "moco" in cold and "stevedore" in state["modules"]
    warm, state = run_cli("adapters", cache=tmp_path)
    assert warm == cold and heavy_in(state["modules"]) == []
    as_json, state = run_cli("adapters", "--json", cache=tmp_path)
    assert heavy_in(state["modules"]) == [] and [row["name"] for row in json.loads(as_json)] == sorted(
        staffbridge.available()
    )


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> list[dict]:
        self.calls += 1
        return [{"name": "moco", "operations": ["list"], "computed": self.calls}]


def test_the_cache_is_used_while_its_key_holds(tmp_path):
    compute = Counting()
    assert cached_rows(compute, str(tmp_path)) == cached_rows(compute, str(tmp_path))
    assert compute.calls == 1


def test_a_changed_environment_key_recomputes(tmp_path, monkeypatch):
    compute = Counting()
    cached_rows(compute, str(tmp_path))
    monkeypatch.setattr(staffbridge, "__version__", "99.0")  # a new staffbridge
    assert cached_rows(compute, str(tmp_path))[0]["computed"] == 2
    site = tmp_path / "site"
    (site / "personio_adapter-1.0.dist-info").mkdir(parents=True)  # a plugin is installed
    monkeypatch.syspath_prepend(str(site))
    assert cached_rows(compute, str(tmp_path))[0]["computed"] == 3
    (site / "personio_adapter-1.0.dist-info" / "entry_points.txt").write_text("[staffbridge.adapters]\n")
    assert cached_rows(compute, str(tmp_path))[0]["computed"] == 4  # ... and gains an entry point
    assert cached_rows(compute, str(tmp_path))[0]["computed"] == 4


def test_an_edited_source_recomputes(tmp_path, monkeypatch):
    """The code that decided the rows (here a plugin on sys.path, as an editable adapter would be)."""
    plugin = tmp_path / "plugins" / "sb_plugin_for_cache_test.py"
    plugin.parent.mkdir()
    plugin.write_text("OPERATIONS = ['list']\n")
    monkeypatch.syspath_prepend(str(plugin.parent))
    monkeypatch.delitem(sys.modules, "sb_plugin_for_cache_test", raising=False)
    compute = Counting()

    def compute_with_plugin() -> list[dict]:
        __import__("sb_plugin_for_cache_test")
        return compute()

    cached_rows(compute_with_plugin, str(tmp_path))
    cached_rows(compute_with_plugin, str(tmp_path))
    assert compute.calls == 1
    plugin.write_text("OPERATIONS = ['list', 'get']\n")
    os.utime(plugin, ns=(plugin.stat().st_atime_ns, plugin.stat().st_mtime_ns + 1_000_000_000))
    cached_rows(compute_with_plugin, str(tmp_path))
    assert compute.calls == 2
    (plugin.parent / "plugin.toml").write_text("[fields]\n")  # a data file (a mapping) beside it
    cached_rows(compute_with_plugin, str(tmp_path))
    assert compute.calls == 3


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b"\xff\xfe", b'{"key": 1}', b"[]", b'{"key": null, "sources": [], "rows": "moco"}']
)
def test_an_unreadable_cache_is_never_trusted(tmp_path, content):
    compute = Counting()
    cached_rows(compute, str(tmp_path))
    (cache_file,) = tmp_path.glob("adapters-*.json")
    cache_file.write_bytes(content)
    assert cached_rows(compute, str(tmp_path))[0]["computed"] == 2
    assert json.loads(cache_file.read_text())["rows"][0]["computed"] == 2  # rewritten


def test_a_cache_of_the_right_key_but_the_wrong_shape_is_recomputed(tmp_path):
    compute = Counting()
    cached_rows(compute, str(tmp_path))
    (cache_file,) = tmp_path.glob("adapters-*.json")
    data = json.loads(cache_file.read_text())
    data["rows"] = ["moco"]
    cache_file.write_text(json.dumps(data))
    assert cached_rows(compute, str(tmp_path))[0]["computed"] == 2


def test_a_cache_folder_that_cannot_be_written_is_skipped(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    compute = Counting()
    assert cached_rows(compute, str(blocked / "staffbridge"))[0]["name"] == "moco"
    assert cached_rows(compute, str(blocked / "staffbridge"))[0]["computed"] == 2


def test_the_cache_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert adapters_cache.cache_directory() == str(tmp_path / "staffbridge")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert adapters_cache.cache_directory() == str(tmp_path / "home" / ".cache" / "staffbridge")


def test_cached_rows_are_what_the_computation_said(tmp_path):
    rows = [{"name": "x", "operations": ("list",), "incremental": False, "notes": []}]
    assert cached_rows(lambda: rows, str(tmp_path)) == [
        {"name": "x", "operations": ["list"], "incremental": False, "notes": []}
    ]
