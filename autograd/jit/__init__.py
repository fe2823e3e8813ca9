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
reads ``.data`` of a Value. The same holds for the number habits that read ``.data``
-- ``float(v)``, ``v.item()``, comparisons such as ``v > 0``, ``bool(v)``, ``round`` and
formatting. (While some thread traces, ``Value.data`` is a watching descriptor; only
reads in the tracing thread are checked, so other threads' eager code is unaffected.)

Parameters captured from outside
--------------------------------
Code people bring keeps its parameters in its own objects -- the micrograd lecture's
``Neuron`` holds ``self.w`` and ``self.b`` -- and ``f`` uses them without being given
them. ``jit(f, params=model.parameters())`` declares them: they become one more list
argument of the compiled code, filled from their current ``.data`` on every call (an
update between calls is seen; nothing is compiled again), and the gradient of the
result is added to each one's ``.grad``, as ``loss.backward()`` adds it (zero them
between steps as for backward). With ``params`` the default ``argnums`` is ``()``, so a
call returns ``(value, ())``. A captured Value that is not declared is refused: its
number would be frozen into the code. The declared parameters belong to the
:class:`JitFunction` (its traces are compiled for them); they are not part of the
cache key of a call.

Such code writes a neuron as ``sum(wi * xi for ...) + b``, a chain of adds over
products; before code is written, :mod:`autograd.jit.sums` rewrites each chain into
one ``dot`` node, the node ``nn.Neuron`` records, so a lecture layer is packed into one
matrix-vector product like an ``nn.Layer`` (and its scalar code keeps eager's order of
additions).

``jf.batch(*args, batched=(1,))`` runs the same trace on numpy arrays:
the batched arguments are 2-d arrays (one row per sample); the result is the
per-sample values and the gradients, summed over samples for the other arguments
(and the parameters', added to their ``.grad``; with ``params`` every data argument
is batched by default).
Each sample gets ``value_and_grad``'s numbers, and a batch is refused exactly when
eager evaluation refuses one of its samples, with the error eager raises for the first
such sample (see :meth:`JitFunction.batch`).

Where the trace has vectors -- a layer's dot nodes sharing their inputs, an activation
over all of them -- :mod:`autograd.jit.vector` writes them as numpy operations (matrix
products forward and backward) and the rest as scalar statements; jit picks that code
per trace when it is cheaper (see :func:`jit`'s ``vectorize``).

One file per stage: ``trace`` (placeholders, the watch on ``.data``), ``sums`` (sums of
products as dot nodes), ``scalar`` (one statement per node and per edge), ``vector``
(the packs and their numpy code), ``numpy_helpers`` (the helpers' numpy versions, with
their domain checks) and ``function`` (:class:`JitFunction`: the cache, calls, batches,
the parameters, the eager fallback).
"""

from .function import JitFunction, jit
from .trace import JitError

__all__ = ["JitError", "JitFunction", "jit"]
