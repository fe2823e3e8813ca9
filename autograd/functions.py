"""Functions of many Values: dot products and the numerically stable softmax family.

``dot`` and ``logsumexp`` are single n-ary nodes in the graph (their local
derivatives are in :mod:`autograd.ops`); ``softmax`` and ``log_softmax`` are
built from ``logsumexp`` so that no exponential ever overflows.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from operator import mul as _mul
from typing import Any

from .engine import Value, _node, _record, _repair_data, as_value
from .ops import OPS, stop_gradient

__all__ = ["dot", "dots", "log_softmax", "logsumexp", "softmax"]

_DOT = OPS["dot"]
_MAXIMUM = OPS["maximum"]
_data = attrgetter("data")
_VALUE_TYPES = {Value, type(as_value(0.0))}  # Values and constants


def _values(xs: Sequence[Any], where: str) -> tuple[Value, ...]:
    if len(xs) and _VALUE_TYPES.issuperset(map(type, xs)):  # (len: xs may be an array)
        return tuple(xs)
    values = tuple(as_value(x, where) for x in xs)
    if not values:
        raise ValueError(f"{where}: needs at least one value, got an empty sequence")
    return values


def dot(w: Sequence[Any], x: Sequence[Any], bias: Any = None) -> Value:
    """sum_i w_i * x_i (+ bias), recorded as one node.

    Local derivatives: d/dw_i = x_i, d/dx_i = w_i, d/dbias = 1. This is a
    neuron's pre-activation; one node instead of 2n makes backward cheap while
    every edge still carries its own local derivative.
    """
    (node,) = dots([w], x, None if bias is None else [bias])
    return node


def dots(
    weights: Sequence[Sequence[Any]], x: Sequence[Any], biases: Sequence[Any] | None = None
) -> list[Value]:
    """``[dot(w, x, b) for w, b in zip(weights, biases)]``: a layer's pre-activations.

    The same nodes as separate ``dot`` calls, but the inputs' numbers are read
    once for all the weight vectors.
    """
    x = _values(x, "dot")
    xdata = list(map(_data, x))
    n = len(x)
    if biases is None:
        biases = [None] * len(weights)
    out = []
    append = out.append
    for w, b in zip(weights, biases):
        if len(w) != n:
            raise ValueError(f"dot: w has {len(w)} entries but x has {n}; they must match")
        try:  # the common case: w holds Values, whose data are floats
            total = sum(map(_mul, map(_data, w), xdata))
            if type(total) is not float:
                raise TypeError
        except (AttributeError, TypeError):  # numbers among the weights: make them constants
            w = _values(w, "dot")
            if _repair_data(_DOT, (*w, *x)):  # a .data that was assigned an int
                xdata = list(map(_data, x))
            total = sum(map(_mul, map(_data, w), xdata))
        if b is None:
            append(_node(_DOT, (*w, *x), total))
        else:
            if type(b) not in _VALUE_TYPES:
                b = as_value(b, "dot")
            append(_node(_DOT, (*w, *x, b), total + b.data))
    return out


def logsumexp(values: Sequence[Any]) -> Value:
    """log(sum_i exp(x_i)), computed as m + log(sum_i exp(x_i - m)), m = max_i x_i.

    Never overflows (``logsumexp([1000.0, 1000.0]) == 1000 + log 2``).
    d/dx_i logsumexp(x) = softmax(x)_i.
    """
    return _record(OPS["logsumexp"], _values(values, "logsumexp"))


def log_softmax(values: Sequence[Any]) -> list[Value]:
    """log softmax(x)_i = x_i - logsumexp(x); stable and accurate for any finite inputs
    whose differences fit in a float (|x_i - x_j| < 1.8e308; beyond, the difference
    itself overflows and the subtraction is refused, naming it).

    Computed as z_i - logsumexp(z) with z_i = x_i - m, where m is the largest input
    (found by ``maximum`` nodes)
    through ``stop_gradient``: log softmax does not depend on m, so its derivative
    through m is exactly 0 and the shift only keeps the subtraction free of
    cancellation (``softmax([1000.0, 1000.0])`` is exactly 0.5). As JAX does, m is an
    operation of the graph, not a number fixed when the graph is built, so ``jit``
    computes it from each call's inputs.
    """
    xs = _values(values, "log_softmax")
    largest = xs[0]
    for x in xs[1:]:  # nodes, not a choice made now: jit finds each call's largest
        largest = _record(_MAXIMUM, (largest, x))
    shift = stop_gradient(largest)
    zs = [x - shift for x in xs]
    lse = logsumexp(zs)
    return [z - lse for z in zs]


def softmax(values: Sequence[Any]) -> list[Value]:
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j), computed as exp(log_softmax(x)_i).

    Every exponent is <= 0, so nothing overflows; d softmax_i / d x_j =
    softmax_i (1[i = j] - softmax_j).
    """
    return [z.exp() for z in log_softmax(values)]
