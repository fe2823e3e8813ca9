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

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .engine import (
    _CONSTANT,
    Value,
    _creation_number,
    _to_float,
    enable_grad,
    no_grad,
    topological_order,
)
from .functional import grad
from .ops import _data

__all__ = ["GradcheckError", "faulty_op", "gradcheck"]


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
    for name, index, analytical, numerical in derivatives(f, xs, order, eps):
        tolerance = atol + rtol * abs(numerical)
        if not abs(analytical - numerical) <= tolerance:
            raise GradcheckError(
                f"gradcheck failed for {name} at input index {index} "
                f"(inputs = {xs}): numerical {numerical!r} vs analytical {analytical!r}, "
                f"|difference| = {abs(analytical - numerical):.3g} > tolerance {tolerance:.3g} "
                f"(atol + rtol * |numerical|). {_diagnosis(f, xs, eps, atol, rtol)}"
            )
    return True


def derivatives(
    f: Callable[..., Any], xs: list[float], order: int, eps: float, path: tuple[int, ...] = ()
) -> Iterator[tuple[str, int, float, float]]:
    """(name, input index, analytical, numerical) for every derivative of ``f`` up to
    ``order`` at ``xs``, first derivatives first; computed as they are asked for."""
    argnums = tuple(range(len(xs)))
    analytical = grad(f, argnums)(*xs)
    for i, x in enumerate(xs):
        plus = xs[:i] + [x + eps] + xs[i + 1 :]
        minus = xs[:i] + [x - eps] + xs[i + 1 :]
        numerical = (_evaluate(f, plus) - _evaluate(f, minus)) / (2.0 * eps)
        yield _name(path + (i,)), i, float(analytical[i]), numerical
    if len(path) + 1 < order:
        for i in argnums:
            yield from derivatives(_component(f, argnums, i), xs, order, eps, path + (i,))


def _component(f: Callable[..., Any], argnums: tuple[int, ...], i: int) -> Callable[..., Any]:
    """The scalar function x -> df/dx_i (x), differentiable again."""
    gradient = grad(f, argnums)

    def partial_derivative(*xs: Any) -> Any:
        return gradient(*xs)[i]

    return partial_derivative


def faulty_op(f: Callable[..., Any], inputs: Sequence[float], *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> str | None:
    """The first operation of ``f``'s graph at ``inputs`` whose local derivatives
    disagree with central differences of that op's own forward formula at that node's
    inputs, described as ``badsq(0.7): local derivative d/dx 2.1, numerical 1.4``; None
    when every op agrees. Points where an op is not smooth (relu at 0, a tie of max)
    are passed over: there one-sided differences disagree and no derivative is wrong.
    """
    with enable_grad():
        out = f(*[Value(_to_float(x, "gradcheck")) for x in inputs])
    if not isinstance(out, Value):
        return None
    for node in sorted(topological_order(out), key=_creation_number):
        if node._parents and node._operation.forward is not None:
            found = _check_node(node, eps, atol, rtol)
            if found is not None:
                return found
    return None


def _check_node(node: Value, eps: float, atol: float, rtol: float) -> str | None:
    op, parents = node._operation, node._parents
    inputs = [p.data for p in parents]
    try:
        analytical = op.local_grads(*inputs, node.data)
    except (ArithmeticError, ValueError):
        return None  # not defined here: backward itself reports it
    for i, parent in enumerate(parents):
        if parent._operation is _CONSTANT:
            continue  # a derivative with respect to a constant is never used

        def forward_at(shift: float, i: int = i) -> float:
            shifted = list(inputs)
            shifted[i] += shift
            return op.forward(*shifted)

        try:
            centre, plus, minus = node.data, forward_at(eps), forward_at(-eps)
        except (ArithmeticError, ValueError):
            continue  # the forward is not defined on both sides (a domain edge)
        numerical = (plus - minus) / (2.0 * eps)
        left, right = (centre - minus) / eps, (plus - centre) / eps
        if abs(left - right) > atol + rtol * max(abs(left), abs(right)) + 10 * eps:
            continue  # a kink: no single derivative to compare with
        value = float(_data(analytical[i]))
        if not abs(value - numerical) <= atol + rtol * abs(numerical):
            operand = "x" if len(parents) == 1 else f"(operand {i + 1})"
            arguments = ", ".join(f"{x:.6g}" for x in inputs)
            return (f"{op.name}({arguments}): local derivative d/d{operand} {value:.6g}, "
                    f"numerical {numerical:.6g}")
    return None


def _diagnosis(f: Callable[..., Any], xs: list[float], eps: float, atol: float,
               rtol: float) -> str:
    try:
        found = faulty_op(f, xs, eps=eps, atol=atol, rtol=rtol)
    except (ArithmeticError, ValueError, TypeError):
        return "The operations could not be checked one by one at this point."
    if found is None:
        return ("Every operation's local derivatives agree with finite differences of its "
                "own forward at this point: the difference comes from how they combine (or "
                "from f itself, e.g. a branch on .data)")
    return f"The first operation whose local derivative is wrong: {found}"
