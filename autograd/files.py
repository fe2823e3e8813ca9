"""Writing files so that nothing is ever lost: write a temporary file, then rename."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["write_atomic", "write_json"]


def write_atomic(path: str | os.PathLike[str], content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` atomically.

    The content goes to a temporary file in the same folder, is flushed to disk,
    and only then renamed over ``path`` (``os.replace`` is atomic). A crash at
    any point leaves either the old file or the new one, never half of each.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        data = content.encode("utf-8") if isinstance(content, str) else content
        with os.fdopen(handle, "wb") as file:
            # mkstemp creates the file 0600; give it the permissions a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(file.fileno(), 0o666 & ~umask)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """``data`` as indented JSON, written atomically (floats round-trip exactly)."""
    return write_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n")
