"""``custom_op``: define your own operation -- its forward formula and its derivative.

The classic exercise of a backprop course (minitorch's ``ScalarFunction``, PyTorch's
``autograd.Function``, HIPS autograd's ``defvjp``)::

    from autograd import custom_op, log1p, exp, gradcheck

    softplus = custom_op(
        "softplus",
        forward=lambda x: math.log1p(math.exp(x)),            # floats in, a float out
        local_grads=lambda x, out: (1.0 - exp(-out),),        # d out / dx = sigmoid(x)
    )
    softplus(Value(0.3))          # a node named "softplus" in the graph
    gradcheck(lambda x: softplus(x) * x, [0.3])

The contract is the op table's own (:class:`autograd.ops.Op`): ``forward(*floats)``
returns a float; ``local_grads(*inputs, out)`` returns a tuple with d(out)/d(input_i)
for every input. ``local_grads`` receives floats for an ordinary backward and Values
when a gradient is differentiated again (``grad(grad(f))``): written with chainrule's
functional forms (``autograd.exp``, ``log``, ``sin``, ...) and arithmetic, one rule
serves every order.

A custom op is a node like any other: ``draw_dot``, ``explain`` and
``backward_steps`` show it by its name, ``gradcheck`` names it when its derivative is
wrong, and ``jit`` calls its Python functions from the compiled code.
"""

from __future__ import annotations

import inspect
import itertools
import math
import re
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from .engine import Value, apply
from .ops import OPS, Op

__all__ = ["custom_op"]

#: the custom ops alive, by the identifier their jit helpers use: an op lives as long as
#: its function or a node made with it, so making many ops does not grow this for ever
CUSTOM_OPS: weakref.WeakValueDictionary[str, Op] = weakref.WeakValueDictionary()
_REGISTRY_LOCK = threading.Lock()  # (ops are made, and jit compiles, in any thread)


def registered_ops() -> list[tuple[str, Op]]:
    """A snapshot of (identifier, op) for the custom ops alive."""
    with _REGISTRY_LOCK:
        return list(CUSTOM_OPS.items())
_numbers = itertools.count()


def custom_op(
    name: str,
    forward: Callable[..., float],
    local_grads: Callable[..., Any],
    *,
    arity: int | None = None,
) -> Callable[..., Any]:
    """A new operation, as a function of numbers or Values.

    ``name`` labels the op in errors, drawings and explanations. ``arity`` is the
    number of operands, taken from ``forward``'s signature unless given. Called
    with Values (or Values and numbers) the function records a node; called with
    numbers only it returns ``forward``'s float, like the functional forms.

    An error raised by ``forward`` (a domain error, say) comes out with the op's
    name in front; a result that is not a finite float is refused as built-in
    results are.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ]{0,39}", name):
        raise ValueError(f"custom_op: name must be a short identifier-like text, got {name!r}")
    if name in OPS:
        raise ValueError(f"custom_op: {name!r} is a built-in op; choose another name")
    if not callable(forward) or not callable(local_grads):
        raise TypeError("custom_op: forward and local_grads must be functions")
    if arity is None:
        arity = _arity(forward, name)

    def checked_forward(*xs: float) -> float:
        try:
            result = forward(*xs)
        except (ArithmeticError, ValueError) as error:
            raise type(error)(f"{name}: {error}") from None
        try:
            result = float(result)
        except (TypeError, ValueError):
            raise TypeError(f"{name}: forward must return a number, got "
                            f"{type(result).__name__}") from None
        if not math.isfinite(result):
            operands = ", ".join(repr(x) for x in xs)
            raise OverflowError(f"{name}: result {result!r} of {name}({operands}) is not a "
                                "finite float")
        return result

    def checked_local_grads(*args: Any) -> tuple[Any, ...]:
        local = local_grads(*args)
        if not isinstance(local, (tuple, list)) or len(local) != arity:
            raise TypeError(
                f"{name}: local_grads must return a tuple of {arity} derivative"
                f"{'s' * (arity != 1)} (one per input), got {local!r:.60}")
        return tuple(local)

    helper = f"custom_{next(_numbers)}"
    op = Op(name, name, checked_forward, checked_local_grads, arity, _jit_code(helper, arity))
    with _REGISTRY_LOCK:
        CUSTOM_OPS[helper] = op

    def operation(*operands: Any) -> Any:
        if len(operands) != arity:
            raise TypeError(f"{name}: takes {arity} operand{'s' * (arity != 1)}, got "
                            f"{len(operands)}")
        if any(isinstance(x, Value) for x in operands):
            return apply(op, *operands)
        return checked_forward(*[float(x) for x in operands])

    operation.__name__ = operation.__qualname__ = name.replace(" ", "_")
    operation.__doc__ = f"The custom op {name!r} ({arity} operand{'s' * (arity != 1)})."
    operation.op = op  # type: ignore[attr-defined]
    return operation


def _arity(forward: Callable[..., Any], name: str) -> int:
    try:
        parameters = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        parameters = None
    if parameters is None or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                                 for p in parameters):
        raise TypeError(f"custom_op {name!r}: cannot tell how many operands forward takes; "
                        "give arity=")
    return sum(p.default is p.empty for p in parameters)


def _jit_code(helper: str, arity: int) -> Callable[[list[str], str], tuple[str, list[str]]]:
    """The op's code for ``jit``: calls of its own Python functions by a generated name
    (never the user's text), ``custom_<k>(x, ...)`` and ``custom_<k>_local(x, ..., out)``."""

    def code(inputs: list[str], out: str) -> tuple[str, list[str]]:
        arguments = ", ".join(inputs)
        return (f"{helper}({arguments})",
                [f"{helper}_local({arguments}, {out})[{i}]" for i in range(arity)])

    return code


def jit_helpers(batch: bool, nodes: Iterable[Value] | None = None
                ) -> dict[str, Callable[..., Any]]:
    """The functions the compiled code calls for custom ops -- those of ``nodes`` (a
    trace), else all alive: on floats, or -- for a batch -- sample by sample over numpy
    arrays. (A snapshot of the registry: another thread may be making ops meanwhile.)"""
    import numpy as np

    registry = registered_ops()
    if nodes is not None:
        used = {id(node._operation) for node in nodes}
        registry = [(helper, op) for helper, op in registry if id(op) in used]
    helpers: dict[str, Callable[..., Any]] = {}
    for helper, op in registry:
        forward, local = op.forward, op.local_grads
        if batch:
            helpers[helper] = np.vectorize(forward, otypes=[float])
            helpers[f"{helper}_local"] = _vectorized_local(local, op.arity)
        else:
            helpers[helper] = forward
            helpers[f"{helper}_local"] = local
    return helpers


def _vectorized_local(local: Callable[..., Any], arity: int) -> Callable[..., Any]:
    import numpy as np

    def run(*arrays: Any) -> tuple[Any, ...]:
        columns = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in arrays])
        rows = [local(*map(float, values)) for values in zip(*(c.ravel() for c in columns))]
        shape = columns[0].shape
        return tuple(np.array([row[i] for row in rows], dtype=float).reshape(shape)
                     for i in range(arity))

    return run
