"""Files that are never lost or misread: atomic writes, bounded and strict reads.

Writing goes to a temporary file in the target's folder, which is flushed to disk and
then renamed over the target (``os.replace`` is atomic): a crash at any point leaves
the old file or the new one, never half of each. Only a regular file (or a path that
does not exist yet) is ever replaced; a symlink is followed, so the file it points to
is replaced and the link kept. A save holds a lock on its temporary file until the
rename, so the next save of the same file knows a temporary nobody holds is the
leftover of a killed save, and removes it.

Reading takes only a regular file, and at most a stated number of bytes: a folder, a
device (``/dev/zero``), a FIFO or a socket is refused before anything is read, so a read
never blocks and never grows without end. JSON is refused unless it is plain, finite
and well-formed -- invalid UTF-8, duplicate keys, NaN or Infinity, numbers beyond a
float, absurdly long integers, nesting deeper than any real file -- with a ValueError
that names the file.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: leftovers are judged by their age only
    fcntl = None

__all__ = ["MAX_JSON_BYTES", "read_bytes", "read_json", "temporary_target", "write_atomic",
           "write_json"]

#: a temporary file that cannot be tested by its lock (a filesystem without locks, or
#: one named by a chainrule from before the locks) is a killed save's when this old
STALE_SECONDS = 600
#: the name a save gives its temporary file: ``.NAME.XXXXXXXX.saving.tmp`` (saves before
#: the locks wrote ``.NAME.XXXXXXXX.tmp``)
_SUFFIX = ".saving.tmp"
_TEMPORARY = re.compile(r"\.(?P<target>.+)\.[A-Za-z0-9_]{8}(\.saving)?\.tmp")


def temporary_target(name: str) -> str | None:
    """The name of the file whose save made the temporary file ``name``
    (``.model.json.k3j_x9a2.saving.tmp`` -> ``model.json``), or None for any other name."""
    match = _TEMPORARY.fullmatch(name)
    return match["target"] if match else None


def write_atomic(path: str | os.PathLike[str], content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` atomically; returns ``path``.

    Raises ``IsADirectoryError`` or ``OSError`` naming the path when it is a folder, a
    device, a FIFO or a socket: those are never replaced. Afterwards the temporary files
    that killed saves of ``path`` left behind are removed.
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
    data = content.encode("utf-8") if isinstance(content, str) else content
    # The temporary file is locked from its creation to its rename (the folder's shared
    # lock covers the moment between the two): a temporary nobody holds is a dead save's.
    with _folder_lock(target.parent, exclusive=False):
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_SUFFIX,
                                             dir=target.parent)
        _lock(handle)
    try:
        with os.fdopen(handle, "wb") as file:
            # mkstemp creates the file 0600; give it the permissions a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(file.fileno(), 0o666 & ~umask)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
            os.replace(temporary, target)  # (still locked: the file stays open until here)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _remove_leftovers(target)
    return path


def _lock(handle: int, exclusive: bool = True) -> bool | None:
    """Take an flock on ``handle`` without waiting: True when taken, False when another
    holds it, None when the filesystem has no locks."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(handle, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


@contextlib.contextmanager
def _folder_lock(folder: Path, exclusive: bool) -> Iterator[bool]:
    """Hold ``folder``'s lock for the block (yields whether it was taken). Saves take it
    shared while they create and lock a temporary; the removal of leftovers takes it
    exclusive. Each waits at most a second (a stopped process never blocks another)."""
    try:
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield False
        return
    try:
        deadline = time.monotonic() + 1.0
        taken = _lock(handle, exclusive)
        while taken is False and time.monotonic() < deadline:
            time.sleep(0.005)
            taken = _lock(handle, exclusive)
        yield bool(taken)
    finally:
        os.close(handle)  # (releases the lock)


def _remove_leftovers(target: Path) -> None:
    """Remove the temporary files of earlier saves of ``target`` that were killed before
    their rename: only our own name patterns, only regular files, and only those no
    running save holds (its lock); where locks cannot tell, only old ones."""
    cutoff = time.time() - STALE_SECONDS
    with _folder_lock(target.parent, exclusive=True) as locks_tell, contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if temporary_target(entry.name) == target.name:
                by_lock = locks_tell and entry.name.endswith(_SUFFIX)  # (else: by age)
                with contextlib.suppress(OSError):
                    _remove_if_dead(entry, by_lock, cutoff)


def _remove_if_dead(entry: os.DirEntry[str], by_lock: bool, cutoff: float) -> None:
    info = entry.stat(follow_symlinks=False)
    if not stat.S_ISREG(info.st_mode):
        return
    if not by_lock:
        if info.st_mtime < cutoff:
            os.unlink(entry.path)
        return
    handle = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    try:
        opened = os.fstat(handle)
        if _lock(handle) and (opened.st_dev, opened.st_ino) == (info.st_dev, info.st_ino):
            os.unlink(entry.path)  # nobody holds it: its save was killed
    finally:
        os.close(handle)


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """``data`` as indented JSON, written atomically (floats round-trip exactly)."""
    return write_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n")


MAX_INTEGER_DIGITS = 30  # no chainrule file holds a longer integer

#: no JSON file chainrule reads is larger (a model of the largest allowed size is about
#: 400 MB: 5,000,000 parameters of about 80 bytes each)
MAX_JSON_BYTES = 1 << 30


def read_bytes(path: str | os.PathLike[str], limit: int, what: str = "file") -> bytes:
    """The content of the regular file ``path``, refused when larger than ``limit`` bytes.

    A folder raises ``IsADirectoryError`` and a device, FIFO or socket ``OSError``, each
    naming the path, before anything is read (so a read never blocks on a FIFO nor runs
    forever on ``/dev/zero``); a larger file raises ``ValueError``. A missing or
    unreadable file raises the usual ``OSError``. ``what`` names the kind of file.
    """
    _check_readable(path, os.stat(path).st_mode, what)
    # O_NONBLOCK: should the path become a FIFO after the check, opening it does not wait
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(handle, "rb") as file:
        opened = os.fstat(handle)
        _check_readable(path, opened.st_mode, what)  # what was opened
        if opened.st_size > limit:
            raise _too_large(path, limit, what)
        raw = file.read(opened.st_size + 1)  # the whole file, and a byte more if it grows
        if len(raw) > opened.st_size:  # growing, or sized 0 as in /proc: read on, bounded
            chunks = [raw]
            while sum(map(len, chunks)) <= limit and (chunk := file.read(1 << 20)):
                chunks.append(chunk)
            raw = b"".join(chunks)
    if len(raw) > limit:
        raise _too_large(path, limit, what)
    return raw


def _too_large(path: str | os.PathLike[str], limit: int, what: str) -> ValueError:
    return ValueError(f"{path} is larger than {_size(limit)}, more than any {what} may be; "
                      "give a smaller file (or split it)")


def _check_readable(path: str | os.PathLike[str], mode: int, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"cannot read {path}: it is a folder; give a {what}")
    if not stat.S_ISREG(mode):
        raise OSError(f"cannot read {path}: it is not a regular file (a device, FIFO or "
                      f"socket), so it is not read; give a {what}")


def _size(count: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"


def read_json(path: str | os.PathLike[str], what: str = "file",
              limit: int = MAX_JSON_BYTES) -> Any:
    """Parse ``path`` as strict JSON. ``what`` names the kind of file in messages.

    The file is read as :func:`read_bytes` reads it (a regular file of at most ``limit``
    bytes); everything malformed raises ``ValueError`` naming the file and the problem.
    """
    raw = read_bytes(path, limit, what)
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

