"""Files that are never lost or misread: atomic writes, strict JSON reads.

Writing goes to a temporary file in the target's folder, which is flushed to disk and
then renamed over the target (``os.replace`` is atomic): a crash at any point leaves
the old file or the new one, never half of each. Only a regular file (or a path that
does not exist yet) is ever replaced; a symlink is followed, so the file it points to
is replaced and the link kept.

Reading refuses everything that is not plain, finite, well-formed JSON -- invalid
UTF-8, duplicate keys, NaN or Infinity, numbers beyond a float, absurdly long integers,
nesting deeper than any real file -- with a ValueError that names the file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["read_json", "write_atomic", "write_json"]

STALE_SECONDS = 600  # a temporary file this old is a save that was killed: removed


def write_atomic(path: str | os.PathLike[str], content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` atomically; returns ``path``.

    Raises ``IsADirectoryError`` or ``OSError`` naming the path when it is a folder, a
    device, a FIFO or a socket: those are never replaced.
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    with contextlib.suppress(FileNotFoundError):
        mode = os.stat(target).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"cannot write {path}: it is a folder; give a file name")
        if not stat.S_ISREG(mode):
            raise OSError(f"cannot write {path}: it is not a regular file (a device, FIFO or "
                          "socket), so it is not replaced; give a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
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
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _remove_stale_temporaries(target)
    return path


def _remove_stale_temporaries(target: Path) -> None:
    """Remove temporary files of earlier saves of ``target`` that were killed before
    their rename: only our own name pattern, only regular files, only old ones (a save
    running right now in another process is younger and is left alone)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[A-Za-z0-9_]{{8}}\.tmp")
    cutoff = time.time() - STALE_SECONDS
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if pattern.fullmatch(entry.name):
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                        os.unlink(entry.path)


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """``data`` as indented JSON, written atomically (floats round-trip exactly)."""
    return write_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n")


MAX_INTEGER_DIGITS = 30  # no chainrule file holds a longer integer


def read_json(path: str | os.PathLike[str], what: str = "file") -> Any:
    """Parse ``path`` as strict JSON. ``what`` names the kind of file in messages.

    A missing or unreadable file raises the usual ``OSError``; everything malformed
    raises ``ValueError`` naming the file and the problem.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start} is invalid); the file "
                         f"is corrupt or not a {what}") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys,
                          parse_int=_bounded_int, parse_float=_finite_float,
                          parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}); the file is corrupt or not a "
                         f"{what}") from None
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply to be a {what}") from None
    except _Malformed as error:
        raise ValueError(f"{path}: {error}; the file is corrupt or not a {what}") from None


class _Malformed(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Malformed(f"the key {key!r:.60} appears twice in one object")
        result[key] = value
    return result


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise _Malformed(f"an integer with {digits} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Malformed(f"the number {text[:40]} is beyond the range of a float")
    return value


def _no_constant(text: str) -> Any:
    raise _Malformed(f"{text} is not a number JSON allows")

