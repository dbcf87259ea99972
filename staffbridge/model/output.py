"""Writing an output (a plan, a report, a directory) to a path or an open file, said once.

A path is written atomically: into a new file beside it, then renamed over it, so a reader (or a
run killed midway) never sees half a report, and an older file stays whole until the new one is.
The text is written as given (`newline=""`): CSV and JSON choose their own line ends.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO

__all__ = ["write_text"]


def write_text(text: str, path_or_file: str | Path | IO[str]) -> None:
    """Writes `text` to a path (atomically, UTF-8) or to an open text file (as it is)."""
    if not isinstance(path_or_file, (str, Path)):
        path_or_file.write(text)
        return
    path = Path(path_or_file)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide the mode, as a plain open() would (mkstemp forces 0600)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
