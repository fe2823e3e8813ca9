"""Assertions for your own tests: gradients against finite differences, as a table.

    from autograd.testing import assert_gradients_close

    def test_my_layer():
        assert_gradients_close(lambda w, x: my_layer(w, x), [0.3, -1.2], order=2)

On failure it raises AssertionError (pytest shows it as a failed test) whose message
is a table -- one row per derivative: analytical, numerical (central differences),
the error and the tolerance -- followed by the first operation whose own local
derivative is wrong, when one is (see :func:`autograd.gradcheck.faulty_op`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .engine import _to_float
from .gradcheck import derivatives, faulty_op

__all__ = ["assert_gradients_close"]


def assert_gradients_close(
    f: Callable[..., Any],
    inputs: Sequence[float],
    order: int = 2,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """Assert that every derivative of ``f`` up to ``order`` at ``inputs`` matches
    central finite differences: |analytical - numerical| <= atol + rtol |numerical|
    (PyTorch's gradcheck rule and defaults). ``f`` takes one Value per input."""
    xs = [_to_float(x, f"assert_gradients_close: inputs[{i}]") for i, x in enumerate(inputs)]
    if not xs or not (isinstance(order, int) and order >= 1):
        raise ValueError("assert_gradients_close: give at least one input and order >= 1")
    rows = [(name, analytical, numerical)
            for name, _, analytical, numerical in derivatives(f, xs, order, eps)]
    failed = [row for row in rows if not abs(row[1] - row[2]) <= atol + rtol * abs(row[2])]
    if not failed:
        return
    width = max(len(row[0]) for row in rows)
    lines = [f"{len(failed)} of {len(rows)} derivatives of {getattr(f, '__name__', 'f')} at "
             f"inputs {xs} disagree with central differences (eps {eps:g}):",
             f"  {'derivative':<{width}}  {'analytical':>14}  {'numerical':>14}  "
             f"{'|error|':>10}  {'tolerance':>10}"]
    for name, analytical, numerical in rows:
        tolerance = atol + rtol * abs(numerical)
        error = abs(analytical - numerical)
        mark = "  <-- wrong" if not error <= tolerance else ""
        lines.append(f"  {name:<{width}}  {analytical:>14.8g}  {numerical:>14.8g}  "
                     f"{error:>10.3g}  {tolerance:>10.3g}{mark}")
    culprit = faulty_op(f, xs, eps=eps, atol=atol, rtol=rtol)
    lines.append(f"first operation whose local derivative is wrong: {culprit}" if culprit
                 else "every operation's local derivatives agree with finite differences here")
    raise AssertionError("\n".join(lines))
