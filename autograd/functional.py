"""``grad`` and ``value_and_grad``: derivatives of Python functions, JAX/HIPS style.

``grad(f)`` is a new function that returns the derivative of ``f``::

    >>> from autograd import grad
    >>> grad(lambda x: x * x * x)(2.0)          # 3 x^2
    12.0
    >>> grad(grad(lambda x: x * x * x))(2.0)    # 6 x
    12.0

They are pure: no ``.grad`` attribute is read or written. At the outermost
level arguments and results are plain floats. Nested inside another ``grad``
(or given Values), the gradient is computed with Values (``create_graph``),
so it can be differentiated again: every order works, from the same rules.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import (
    _CONSTANT,
    Value,
    _constant,
    _creation_number,
    _gradient_error,
    _record,
    _to_float,
    backpropagate,
    enable_grad,
    topological_order,
)
from .ops import OPS

__all__ = ["grad", "hessian", "jacobian", "jvp", "value_and_grad"]


class _Nesting(threading.local):
    depth = 0


_nesting = _Nesting()


def _variables(arg: Any, position: int) -> tuple[Any, list[Value]]:
    """Fresh differentiation variables for one argument: (what f receives, the variables).

    A number becomes a new leaf. A Value gets a new identity node on top of it:
    the paths through that node are the ones differentiated, while it stays
    connected to the Value for an enclosing ``grad``. A flat list, tuple or
    1-d numpy array becomes the same container of variables.
    """
    if isinstance(arg, Value):
        variable = _record(OPS["identity"], (arg,))
        return variable, [variable]
    if isinstance(arg, (list, tuple)) or (isinstance(arg, np.ndarray) and arg.ndim == 1):
        variables = [_variables(x, position)[0] for x in arg]
        if any(not isinstance(v, Value) for v in variables):
            raise TypeError(f"grad: argument {position} must be a flat sequence of numbers")
        if isinstance(arg, np.ndarray):
            return np.array(variables, dtype=object), variables
        return type(arg)(variables), variables
    variable = Value(_to_float(arg, f"grad: argument {position}"))
    return variable, [variable]


def _contains_value(arg: Any) -> bool:
    if isinstance(arg, Value):
        return True
    if isinstance(arg, (list, tuple, np.ndarray)):
        return any(isinstance(x, Value) for x in arg)
    return False


def _pack(arg: Any, grads: list[Any], keep_values: bool) -> Any:
    """The gradients for one argument, in the argument's own shape."""
    if not keep_values:
        grads = [g.data if isinstance(g, Value) else float(g) for g in grads]
    if isinstance(arg, np.ndarray):
        return np.array(grads, dtype=object if keep_values else float)
    if isinstance(arg, (list, tuple)):
        return type(arg)(grads)
    return grads[0]


def value_and_grad(
    f: Callable[..., Any], argnums: int | tuple[int, ...] = 0
) -> Callable[..., Any]:
    """A function that returns ``(f(*args), df/d args[argnums])``.

    ``f`` must return a scalar (a Value or a number). Each differentiated
    argument may be a number, a Value, or a flat list / tuple / 1-d numpy array
    of numbers; its gradient has the same shape. With an int ``argnums`` the
    gradient is returned alone, with a tuple a tuple of gradients.

    The other arguments are held fixed. A float among them reaches ``f`` as a
    constant Value (so ``grad(lambda x, y: x * y + y.sin(), argnums=0)(2.0, 0.5)``
    works); anything else -- an int class index, a string, a flag, a list, a
    Value -- reaches ``f`` unchanged.

    At the top level the results are floats. Inside another ``grad`` (or when
    an argument is a Value) they are Values that record their own graph, so
    ``grad(grad(f))`` is the second derivative. ``f`` is always evaluated with
    graph recording on, even inside ``no_grad``.
    """
    single = isinstance(argnums, int)
    positions = (argnums,) if single else tuple(argnums)
    if not positions or not all(isinstance(i, int) for i in positions):
        raise TypeError(
            f"grad: argnums must be an int or a non-empty tuple of ints, got {argnums!r}"
        )

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        for i in positions:
            if not -len(args) <= i < len(args):
                raise TypeError(
                    f"grad: argnums={argnums!r} asks for argument {i}, but {_name(f)} "
                    f"was called with {len(args)} positional arguments"
                )
        keep_values = _nesting.depth > 0 or any(_contains_value(args[i]) for i in positions)
        call_args = list(args)
        differentiated = {i % len(args) for i in positions}
        for i, arg in enumerate(args):  # floats held fixed reach f as constants
            if i not in differentiated and isinstance(arg, (float, np.floating)):
                call_args[i] = _constant(arg, f"grad: argument {i}")
        variables: list[list[Value]] = []
        for i in positions:
            call_args[i], group = _variables(args[i], i)
            variables.append(group)

        _nesting.depth += 1
        try:
            with enable_grad():
                out = f(*call_args, **kwargs)
        finally:
            _nesting.depth -= 1

        if isinstance(out, Value):
            grads = backpropagate(topological_order(out), {out: 1.0}, create_graph=keep_values)
        elif _is_scalar(out):
            grads, out = {}, float(out)  # a constant function: every derivative is 0
        else:
            raise TypeError(
                f"grad: {_name(f)} must return a scalar (a Value or a number), "
                f"got {type(out).__name__}; reduce it to one number first (e.g. sum or a loss)"
            )
        per_argument = [
            _pack(args[i], [grads.get(v, 0.0) for v in group], keep_values)
            for i, group in zip(positions, variables)
        ]
        value = out if keep_values or not isinstance(out, Value) else out.data
        return value, per_argument[0] if single else tuple(per_argument)

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """A function that returns the gradient of ``f`` with respect to ``args[argnums]``.

    ``grad(f)(x)`` is df/dx; ``grad(grad(f))(x)`` is d2f/dx2, and so on. See
    :func:`value_and_grad` for the accepted arguments and returned shapes.
    """
    value_and_grad_f = value_and_grad(f, argnums)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return value_and_grad_f(*args, **kwargs)[1]

    return grad_f


def _name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", "f")


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (int, float)) or (isinstance(x, np.generic) and x.shape == ())


# ---------------------------------------------------------------------------
# Higher-order tools, JAX's conventions: argnums=0, a list argument is a vector.


def jacobian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """A function returning the Jacobian of ``f`` with respect to ``args[argnums]``.

    ``f`` returns a list of outputs (or one): row k holds d out_k / d x_i for every
    entry x_i of the argument (a number or a flat list). One reverse pass per output,
    over one recorded graph. Returns a numpy array of shape (outputs, inputs).
    """

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> np.ndarray:
        call_args = list(args)
        call_args[argnums], variables = _variables(args[argnums], argnums)
        with enable_grad():
            out = f(*call_args, **kwargs)
        outputs = list(out) if isinstance(out, (list, tuple)) else [out]
        rows = []
        for output in outputs:
            if not isinstance(output, Value):
                rows.append([0.0] * len(variables))  # a constant output
                continue
            grads = backpropagate(topological_order(output), {output: 1.0})
            rows.append([_float(grads.get(v, 0.0)) for v in variables])
        return np.array(rows, dtype=float)

    return jacobian_f


def hessian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """A function returning the matrix of second derivatives of the scalar ``f`` with
    respect to ``args[argnums]`` (a number gives a 1 x 1 matrix): the Jacobian of the
    gradient, H[i][j] = d2f / dx_i dx_j, by reverse mode over reverse mode."""
    gradient = grad(f, argnums)

    def vector_gradient(*args: Any, **kwargs: Any) -> Any:
        g = gradient(*args, **kwargs)
        return list(g) if isinstance(g, (list, tuple, np.ndarray)) else [g]

    return functools.wraps(f)(jacobian(vector_gradient, argnums))


def jvp(
    f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[Any, Any]:
    """Forward mode: ``(f(*primals), J v)``, the directional derivative of ``f`` at
    ``primals`` along ``tangents`` (one per primal, of the same shape).

    A real forward sweep, not finite differences: ``f`` is evaluated once, recording
    the graph, and a tangent is pushed through it node by node with the op table's
    local derivatives, t(node) = sum_i d(node)/d(parent_i) t(parent_i). One sweep
    gives the derivative of every output along one direction -- where reverse mode
    gives the derivative of one output along every input.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    call_args, tangent = [], {}
    for position, (primal, direction) in enumerate(zip(primals, tangents)):
        argument, variables = _variables(primal, position)
        directions = list(direction) if isinstance(direction, (list, tuple, np.ndarray)) \
            else [direction]
        if len(directions) != len(variables):
            raise ValueError(f"jvp: tangent {position} has {len(directions)} entries, its "
                             f"primal {len(variables)}")
        for variable, t in zip(variables, directions):
            tangent[variable] = _to_float(t, f"jvp: tangent {position}")
        call_args.append(argument)
    with enable_grad():
        out = f(*call_args)
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]
    nodes = {node for o in outputs if isinstance(o, Value) for node in topological_order(o)}
    for node in sorted(nodes, key=_creation_number):
        if node in tangent or not node._parents:
            continue
        try:
            local = node._operation.local_grads(*[p.data for p in node._parents], node.data)
        except (ZeroDivisionError, OverflowError, ValueError) as error:
            inputs = ", ".join(repr(p.data) for p in node._parents)
            raise type(error)(f"jvp through {node._operation.name}({inputs}): the local derivative "
                              f"is not a finite number there ({error})") from None
        total = 0.0
        for slot, (parent, d) in enumerate(zip(node._parents, local)):
            if d - d != 0.0 and parent._operation is not _CONSTANT:  # backward's rule:
                raise _gradient_error(node, slot, 0.0, d)  # refused, whatever the tangent
            t = tangent.get(parent)
            if t:  # constants and untouched leaves carry no tangent
                total += d * t
        if total - total != 0.0:
            raise OverflowError(
                f"jvp: the tangent of {node._operation.name} is not a finite number")
        tangent[node] = total
    values = [_float(o) for o in outputs]
    derivatives = [tangent.get(o, 0.0) if isinstance(o, Value) else 0.0 for o in outputs]
    if isinstance(out, (list, tuple)):
        return values, derivatives
    return values[0], derivatives[0]


def _float(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)
