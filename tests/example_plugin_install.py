"""Installs the example plugin (tests/example_plugin) into the running environment, as a user would.

tests/conftest.py calls this at session start, before anything reads entry points: stevedore keeps
the entry points it has read for the life of the process, so a plugin installed halfway through a
session would stay unseen. An installed copy that differs from the sources (files or entry points)
is installed again, so an edit to the plugin is always what the tests use.

pip builds the plugin with build isolation: a fresh venv has no `wheel`, so `--no-build-isolation`
cannot build it there; the isolated build fetches setuptools the same way `pip install -e .` does.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parent / "example_plugin"
DISTRIBUTION = "staffbridge-tinyhr"
PACKAGE = "staffbridge_tinyhr"
INSTALL_PROBLEM = pytest.StashKey[str | None]()  # what install_example_plugin() said, for the plugin's tests


def install_example_plugin() -> str | None:
    """None once the installed plugin matches its sources (installing it when not), else why not."""
    if installed_is_current():
        return None
    with tempfile.TemporaryDirectory() as scratch:
        source = shutil.copytree(
            PLUGIN,
            Path(scratch) / "example_plugin",  # builds write beside their sources
            ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"),
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--force-reinstall",
                "--disable-pip-version-check",
                str(source),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    importlib.invalidate_caches()
    if done.returncode != 0:
        return f"pip install {PLUGIN} failed:\n{done.stdout}{done.stderr}"
    return None if installed_is_current() else f"{DISTRIBUTION} was installed but does not show up"


def installed_is_current() -> bool:
    try:
        installed = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return False
    for source in (PLUGIN / PACKAGE).iterdir():
        copy = Path(str(installed.locate_file(f"{PACKAGE}/{source.name}")))
        if source.is_file() and (not copy.is_file() or copy.read_bytes() != source.read_bytes()):
            return False
    declared = tomllib.loads((PLUGIN / "pyproject.toml").read_text("utf-8"))["project"]["entry-points"]
    wanted = {(group, name, value) for group, entries in declared.items() for name, value in entries.items()}
    return {(ep.group, ep.name, ep.value) for ep in installed.entry_points} == wanted
