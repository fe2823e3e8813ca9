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
from collections.abc import Callable
from typing import Any

import numpy as np

from .engine import (
    Value,
    _constant,
    _record,
    _to_float,
    backpropagate,
    enable_grad,
    topological_order,
)
from .ops import OPS

__all__ = ["grad", "value_and_grad"]


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
