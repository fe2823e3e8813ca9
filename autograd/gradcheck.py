"""``gradcheck``: the engine's derivatives against central finite differences.

For a scalar function f of n inputs, the numerical derivative along input i is
the central difference

    df/dx_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),

whose error is O(eps^2). A derivative passes when

    |analytical - numerical| <= atol + rtol * |numerical|

(PyTorch's convention and defaults). With ``order=2`` every first derivative
is itself checked the same way, which verifies the whole Hessian; ``order=k``
continues to k-th derivatives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .engine import Value, _to_float, no_grad
from .functional import grad

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(RuntimeError):
    """A derivative computed by the engine disagrees with finite differences."""


def _evaluate(f: Callable[..., Any], xs: Sequence[float]) -> float:
    """f at the point xs, as a float, without recording a graph."""
    with no_grad():
        out = f(*[Value(x) for x in xs])
    return out.data if isinstance(out, Value) else _to_float(out, "gradcheck: f's result")


def _name(path: tuple[int, ...]) -> str:
    """'df/dx[1]' for a first derivative, 'd2f/dx[0]dx[1]' for a second one."""
    order = len(path)
    top = "d" if order == 1 else f"d{order}"
    return f"{top}f/" + "".join(f"dx[{i}]" for i in path)


def gradcheck(
    f: Callable[..., Any],
    inputs: Sequence[float],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    order: int = 1,
) -> bool:
    """Check ``f``'s derivatives up to ``order`` at ``inputs`` against central differences.

    ``f`` takes one argument per entry of ``inputs`` (Values) and returns a
    scalar. Returns True, or raises :class:`GradcheckError` naming the first
    failing derivative, the input index, and the numerical and analytical values.
    """
    xs = [_to_float(x, f"gradcheck: inputs[{i}]") for i, x in enumerate(inputs)]
    if not xs:
        raise ValueError("gradcheck: inputs is empty; give at least one point to check at")
    if not (isinstance(order, int) and order >= 1):
        raise ValueError(f"gradcheck: order must be an int >= 1, got {order!r}")
    if eps <= 0:
        raise ValueError(f"gradcheck: eps must be > 0, got {eps!r}")
    _check(f, xs, (), order, eps, atol, rtol)
    return True


def _check(
    f: Callable[..., Any],
    xs: list[float],
    path: tuple[int, ...],
    order: int,
    eps: float,
    atol: float,
    rtol: float,
) -> None:
    """Check the gradient of the scalar function f (itself a derivative if ``path``)."""
    argnums = tuple(range(len(xs)))
    analytical = grad(f, argnums)(*xs)
    for i, x in enumerate(xs):
        plus = xs[:i] + [x + eps] + xs[i + 1 :]
        minus = xs[:i] + [x - eps] + xs[i + 1 :]
        numerical = (_evaluate(f, plus) - _evaluate(f, minus)) / (2.0 * eps)
        tolerance = atol + rtol * abs(numerical)
        if not abs(analytical[i] - numerical) <= tolerance:
            raise GradcheckError(
                f"gradcheck failed for {_name(path + (i,))} at input index {i} "
                f"(inputs = {xs}): numerical {numerical!r} vs analytical {analytical[i]!r}, "
                f"|difference| = {abs(analytical[i] - numerical):.3g} > tolerance {tolerance:.3g} "
                f"(atol + rtol * |numerical|)"
            )
    if len(path) + 1 < order:
        for i in argnums:
            _check(_component(f, argnums, i), xs, path + (i,), order, eps, atol, rtol)


def _component(f: Callable[..., Any], argnums: tuple[int, ...], i: int) -> Callable[..., Any]:
    """The scalar function x -> df/dx_i (x), differentiable again."""
    gradient = grad(f, argnums)

    def partial_derivative(*xs: Any) -> Any:
        return gradient(*xs)[i]

    return partial_derivative
