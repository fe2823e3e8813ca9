"""``jit``: trace a scalar function once and compile it to straight-line Python.

``jit(f)`` behaves like ``value_and_grad(f)``. On the first call (and on the first
call with new list lengths) it calls ``f`` with placeholder Values, and writes the
graph out as Python source: one statement per node for the forward pass, then the
chain rule backwards, one statement per edge (``d_x = d_x + d_out * local``: rebound,
never added to in place, so two gradients that start equal never share an array in a
batch). The
source is built only from the op table's code templates
(:attr:`autograd.ops.Op.code`), generated names and numeric constants -- never from
user-supplied text -- and compiled once; later calls run it directly.

The rule for data-dependent structure
-------------------------------------
The compiled code replays the operations ``f`` performed while it was traced.
Everything an *operation* decides from its inputs -- relu's and abs's sign,
sigmoid's branch, the domain checks of log, sqrt, pow and division -- is
recomputed on every call: it is data, not structure. What a trace cannot see is
Python control flow in ``f`` that depends on values. The only way ``f`` can
branch on a value is to read ``.data`` of a Value, so jit watches for that while
tracing and refuses (:class:`JitError`, naming the line) when code outside chainrule
reads ``.data`` of a Value. It also refuses a function that uses Values it was
not given as arguments (a model's parameters captured from outside): their
numbers would be frozen into the code. Pass them in as a list instead.
The same holds for the number habits that read ``.data`` -- ``float(v)``,
``v.item()``, comparisons such as ``v > 0``, ``bool(v)``, ``round`` and formatting.
(While some thread traces, ``Value.data`` is a watching descriptor; only reads in the
tracing thread are checked, so other threads' eager code is unaffected.)

``jf.batch(*args, batched=(1,))`` runs the same trace on numpy arrays:
the batched arguments are 2-d arrays (one row per sample); the result is the
per-sample values and the gradients, summed over samples for the other arguments.
Each sample gets ``value_and_grad``'s numbers, and a batch is refused exactly when
eager evaluation refuses one of its samples, with the error eager raises for the first
such sample (see :meth:`JitFunction.batch`).

Where the trace has vectors -- a layer's dot nodes sharing their inputs, an activation
over all of them -- :mod:`autograd.jit.vector` writes them as numpy operations (matrix
products forward and backward) and the rest as scalar statements; jit picks that code
per trace when it is cheaper (see :func:`jit`'s ``vectorize``).

One file per stage: ``trace`` (placeholders, the watch on ``.data``), ``scalar`` (one
statement per node and per edge), ``vector`` (the packs and their numpy code),
``numpy_helpers`` (the helpers' numpy versions, with their domain checks) and
``function`` (:class:`JitFunction`: the cache, calls, batches, the eager fallback).
"""

from .function import JitFunction, jit
from .trace import JitError

__all__ = ["JitError", "JitFunction", "jit"]
