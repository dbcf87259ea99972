"""What `staffbridge adapters` shows, kept on disk, so the command answers without importing any adapter.

Importing the adapters (and with them requests, marshmallow and stevedore) takes ten times as long as
starting Python, so the rows the command prints are cached under `$XDG_CACHE_HOME/staffbridge` (else
`~/.cache/staffbridge`), like stevedore's own entry-point cache. A cached answer is used only while
everything that decided it is unchanged:

- the environment: staffbridge's version, the interpreter's, `$PYTHONPATH`, and the paths and mtimes of
  the installed distributions on `sys.path` (`*.dist-info`, `*.egg-info`, `*.egg-link`, `*.pth`,
  `__editable__*`) and of their `entry_points.txt`: installing, upgrading or removing any package
  changes it;
- the sources, recorded when the rows were computed: every module then loaded from outside the standard
  library and site-packages (the adapters and staffbridge itself in an editable install, a plugin on
  PYTHONPATH), the directories holding them and every file in those (data such as mappings too), each
  with its mtime and size.

There is one file per interpreter and `$PYTHONPATH`, so two virtual environments do not overwrite each
other's. A cache file that cannot be read, does not parse or has another shape is never trusted: the
rows are computed again and the file rewritten (atomically; a cache folder that cannot be written is
skipped).
"""

from __future__ import annotations

import contextlib
import os
import sys
import zlib
from collections.abc import Callable
from typing import Any

CACHE_FORMAT = 1
DISTRIBUTION_SUFFIXES = (".dist-info", ".egg-info", ".egg-link", ".pth")
INSTALLER_DIRECTORIES = ("site-packages", "dist-packages")  # tracked by the distributions' own metadata

Rows = list[dict[str, Any]]
Stamp = list[Any]  # [path, mtime_ns, size]


def cache_directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "staffbridge")


def cached_rows(compute: Callable[[], Rows], directory: str | None = None) -> Rows:
    """The rows `compute()` returns, from the cache while its key holds, else computed and stored."""
    import json

    key = environment_key()
    # one file per interpreter (a virtual environment is one) and $PYTHONPATH, overwritten when its key changes
    where = f"{sys.executable}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    path = os.path.join(directory or cache_directory(), f"adapters-{zlib.crc32(where.encode()):08x}.json")
    rows = _read(path, key)
    if rows is None:
        rows = json.loads(json.dumps(compute(), default=str))  # exactly what a later cached run returns
        _write(path, {"key": key, "sources": source_stamps(), "rows": rows})
    return rows


def environment_key() -> list[Any]:
    """What decides which adapters are installed: the distributions on `sys.path`, with their entry points.

    Path entries without distributions (the script's folder, the current directory) are left out, so
    `staffbridge` and `python -m staffbridge` share one answer."""
    from staffbridge import __version__

    distributions = []
    for entry in map(os.path.abspath, sys.path):  # "" (python -c) is the current directory, as is its path
        try:
            with os.scandir(entry) as found:
                names = sorted(item.name for item in found if _is_distribution(item.name))
        except OSError:  # a zip file, or a folder that is gone
            continue
        for name in names:
            distributions.append([os.path.join(entry, name), _mtime(os.path.join(entry, name))])
            if name.endswith((".dist-info", ".egg-info")):
                entry_points = os.path.join(entry, name, "entry_points.txt")
                distributions.append([entry_points, _mtime(entry_points)])
    return [CACHE_FORMAT, __version__, sys.executable, sys.version, os.environ.get("PYTHONPATH", ""), distributions]


def source_stamps() -> list[Stamp]:
    """The files outside the standard library and site-packages that the running process loaded, the
    directories holding them, and the data files in those directories."""
    skipped = _skipped_directories()
    directories = set()
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if isinstance(filename, str) and not os.path.abspath(filename).startswith(skipped):
            directories.add(os.path.dirname(os.path.abspath(filename)))
    stamps = []
    for directory in sorted(directories):
        stamps.append(_stamp(directory))
        try:
            with os.scandir(directory) as found:
                files = sorted(item.path for item in found if item.is_file() and not item.name.endswith(".pyc"))
        except OSError:
            continue
        stamps.extend(_stamp(name) for name in files)
    return stamps


def _skipped_directories() -> tuple[str, ...]:
    standard_library = os.path.dirname(os.path.abspath(os.__file__))
    installed = [
        os.path.abspath(entry) for entry in sys.path if os.path.basename(entry.rstrip(os.sep)) in INSTALLER_DIRECTORIES
    ]
    return tuple(os.path.join(directory, "") for directory in [standard_library, *installed])


def _is_distribution(name: str) -> bool:
    return name.endswith(DISTRIBUTION_SUFFIXES) or name.startswith("__editable__")


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _stamp(path: str) -> Stamp:
    try:
        found = os.stat(path)
    except OSError:
        return [path, -1, -1]
    return [path, found.st_mtime_ns, found.st_size]


def _read(path: str, key: list[Any]) -> Rows | None:
    """The cached rows, or None when the file is missing, unreadable, of another key or shape, or stale."""
    import json

    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
        if data["key"] != key or any(_stamp(stamp[0]) != stamp for stamp in data["sources"]):
            return None
        rows = data["rows"]
    except (OSError, ValueError, LookupError, TypeError):
        return None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return None
    return rows


def _write(path: str, data: dict[str, Any]) -> None:
    """Writes atomically (a reader sees the old file or the new one, never half of one); a cache that
    cannot be written is no error: the next run computes the rows again."""
    import json
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".adapters-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
