"""Tracing: call ``f`` on placeholder Values, record every node it makes, and watch
for reads of a Value's number by code outside chainrule (control flow a trace cannot
capture)."""

from __future__ import annotations

import inspect
import math
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import engine
from ..engine import Value

__all__ = ["JitError"]

# Code whose .data reads are not control flow of f: the engine itself, and nn's modules
# and losses (which read .data only to validate a domain and raise).
_ROOT = Path(__file__).resolve().parents[2]
_LIBRARY_FILES = (str(_ROOT / "autograd"), str(_ROOT / "nn" / "modules.py"),
                  str(_ROOT / "nn" / "losses.py"))


class JitError(RuntimeError):
    """``f`` cannot be compiled faithfully; the message says why and what to do."""


def _number(x: Any, name: str) -> float:
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"jit: argument {name} must be a float or a flat list of floats, "
                        f"got {type(x).__name__}") from None
    if not math.isfinite(value):
        raise ValueError(f"jit: argument {name} = {value!r} is not finite")
    return value


def _argument_names(f: Callable[..., Any]) -> list[str]:
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


# -- watching .data while tracing ----------------------------------------------

_DATA = Value.__dict__["data"]  # the slot's own descriptor


class _WatchedData:
    """Stands in for ``Value.data`` while any thread traces. Reads in a tracing thread
    are reported to its watcher (which keeps those from code outside chainrule, where a
    user's ``if x.data > 0`` would be); other threads read the slot as usual."""

    def __get__(self, node: Any, owner: Any = None) -> Any:
        if node is None:
            return self
        watch = engine._trace_state.watch
        if watch is not None:
            watch(sys._getframe(1), ".data")
        return _DATA.__get__(node, owner)

    def __set__(self, node: Any, value: float) -> None:
        _DATA.__set__(node, value)


_WATCHED_DATA = _WatchedData()
_tracing_threads = 0  # how many threads are tracing now; the watcher is installed while > 0
_tracing_lock = threading.Lock()


def _trace(f: Callable[..., Any], placeholders: list[Any]) -> tuple[Any, set[str], list[Value]]:
    """Call ``f`` on the placeholders; return its result, the places where code outside
    chainrule read the number of a Value (``.data``, ``float()``, a comparison, ...) and
    every node made while it ran (used or not)."""
    global _tracing_threads
    reads: set[str] = set()

    def watch(frame: Any, what: str) -> None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_LIBRARY_FILES):
            reads.add(f"{Path(filename).name}, line {frame.f_lineno}: {what}")

    with _tracing_lock:
        if _tracing_threads == 0:
            Value.data = _WATCHED_DATA  # type: ignore[assignment]
        _tracing_threads += 1
    previous_watch, previous_mode = engine._trace_state.watch, engine._grad_mode.enabled
    recording = engine._Recording()
    engine._trace_state.watch = watch
    engine._set_grad_mode(recording)  # records the graph, and keeps every node
    try:
        out = f(*placeholders)
    finally:
        engine._trace_state.watch = previous_watch
        engine._restore_grad_mode(previous_mode)
        with _tracing_lock:
            _tracing_threads -= 1
            if _tracing_threads == 0:
                Value.data = _DATA  # type: ignore[assignment]
    return out, reads, recording.nodes
