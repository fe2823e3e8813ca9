"""``jit`` and :class:`JitFunction`: trace once, compile, call the compiled code, and
fall back to eager evaluation whenever it meets trouble."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import custom, engine
from ..engine import Value, _constant
from ..functional import value_and_grad
from ..ops import CODE_HELPERS
from .numpy_helpers import NUMPY_HELPERS, SCALAR_HELPERS
from .scalar import _generate, _inline_helpers
from .sums import fuse_sums
from .trace import JitError, _argument_names, _number, _trace
from .vector import VECTOR_HELPERS, vector_source

__all__ = ["JitFunction", "jit"]


class _Trace(NamedTuple):
    """What one trace recorded, kept to write its batch code later: the graph with its
    sums of products fused for the vectorizer, the names and placeholders of the
    arguments (the declared parameters last, as one more list), and the scalar source."""

    out: Value
    names: list[str]
    placeholders: list[Any]
    recorded: list[Value]
    scalar_source: str
    argnums: tuple[int, ...]  # the differentiated positions (and the parameters')
    fused: int  # sums of products the vectorizer's graph has as dot nodes


class _Entry(NamedTuple):
    """A compiled trace: the function, its source, the trace, and whether the source is
    the vectorized one."""

    function: Callable[..., Any]
    source: str
    trace: _Trace
    vectorized: bool


#: a vector statement (one numpy call) costs about as much as this many scalar statements:
#: measured per sample on the Iris loss (~1.1 µs vs ~35 ns per statement); a trace runs
#: vectorized per sample when its scalar code has more statements than the vector code's
#: times this. (Batches always run vectorized: each statement there is a numpy call.)
VECTOR_STATEMENT_COST = 30


def jit(
    f: Callable[..., Any],
    argnums: int | Sequence[int] | None = None,
    static_argnums: int | Sequence[int] = (),
    vectorize: bool | None = None,
    params: Iterable[Value] | None = None,
) -> JitFunction:
    """Compile ``f`` to straight-line Python; ``jit(f)(*args)`` returns ``(value, grads)``
    like ``value_and_grad(f, argnums)(*args)``.

    Data arguments are floats or flat lists of floats (the gradient of a list is a list
    of the same length); the differentiated ones (``argnums``, default 0) always are.
    Every other argument -- an int class index, a string, a flag, None -- is *static*, as
    with JAX's ``static_argnums``: ``f`` sees it as it is while tracing, and it is part
    of the cache key, so a new value is traced and compiled again. ``static_argnums``
    declares more (a float that decides structure, say). The compiled source is
    ``jf.source``. See the module documentation for what can and cannot be traced.

    ``params``: Values ``f`` uses without being given them -- a model's parameters,
    ``params=model.parameters()``, leaves of the graph. Each call reads their current
    ``.data`` (an update ``p.data -= lr * p.grad`` between calls is seen, without
    compiling again) and *adds* the gradient of the result to each one's ``.grad``,
    exactly as ``loss.backward()`` would -- accumulated, so zero them between steps as
    for backward (``p.grad = 0.0``, ``model.zero_grad()``); a parameter ``f`` does not use
    gets 0 added. With ``params`` the default ``argnums`` is ``()``: the call returns
    ``(value, ())``, the gradients being on the parameters, where micrograd code reads
    them (``loss, _ = step(x, y)``); ``argnums=0`` and so on also return the gradients
    of those arguments. A call that raises leaves every ``.grad`` as it was. Values that
    ``f`` captures and that are not declared are refused (:class:`JitError`): their
    numbers would be frozen into the code.

    ``vectorize``: groups of isomorphic nodes (a layer's dots, its activations) run as
    numpy operations (see :mod:`autograd.jit.vector`); a layer written as
    ``sum(w * x ...) + b`` per neuron is recognised as dot nodes first (see
    :mod:`autograd.jit.sums`). ``None`` (the default) decides per trace by the measured
    cost of a statement (:data:`VECTOR_STATEMENT_COST`): a 4-16-3 MLP runs scalar per
    sample, a 64-32-10 one vectorized; ``True`` or ``False`` forces it. Batches run
    vectorized unless ``vectorize=False``.
    """
    return JitFunction(f, argnums, static_argnums, vectorize, params)


_GRAD = operator.attrgetter("grad")


class JitFunction:
    """A traced and compiled ``f``. Call it like ``value_and_grad(f, argnums)``."""

    def __init__(
        self,
        f: Callable[..., Any],
        argnums: int | Sequence[int] | None = None,
        static_argnums: int | Sequence[int] = (),
        vectorize: bool | None = None,
        params: Iterable[Value] | None = None,
    ) -> None:
        if not callable(f):
            raise TypeError(f"jit: f must be callable, got {type(f).__name__}")
        if vectorize is not None and not isinstance(vectorize, bool):
            raise TypeError(f"jit: vectorize must be None, True or False, got {vectorize!r}")
        self.f = f
        self.vectorize = vectorize
        self.params = _parameters(params)
        if argnums is None:
            argnums = 0 if self.params is None else ()
        self.argnums = argnums
        self._single = isinstance(argnums, int)
        self._argnums = (argnums,) if self._single else tuple(argnums)
        self._static = ({static_argnums} if isinstance(static_argnums, int)
                        else set(static_argnums))
        both = self._static & set(self._argnums)
        if both:
            raise JitError(f"jit: argument {min(both)} is in both argnums and static_argnums; "
                           "a static argument cannot be differentiated")
        self._compiled: dict[tuple, _Entry] = {}  # signature -> its compiled trace
        self._batched: dict[tuple, Callable[..., Any]] = {}
        self._last: tuple | None = None
        self._names = _argument_names(f)

    # -- calling -------------------------------------------------------------

    def __call__(self, *args: Any) -> tuple[float, Any]:
        shape = self._signature(args)
        entry = self._compiled.get(shape)
        if entry is None:
            entry = self._compile(args, shape)
        self._last = shape
        given = args
        if not entry.vectorized and any(isinstance(a, np.ndarray) for a in args):
            # scalar code: Python floats are its fastest input
            args = tuple(a.tolist() if isinstance(a, np.ndarray) else a for a in args)
        params = self.params
        # (eager evaluation with parameters makes lists of leaves of any data argument,
        # and returns gradients of the given arguments' types)
        fallback = args if params is None else given
        try:
            if params is None:
                value, grads, numbers, *vectorized = entry.function(*args)
            else:  # their numbers now: one more list argument
                value, grads, numbers, *vectorized = entry.function(
                    *args, [p.data for p in params])
        except TypeError:
            if params is not None:  # an argument or a parameter's .data: eager's error
                return self._eagerly(fallback)
            raise TypeError(
                "jit: each data argument must be a float or a flat list of floats, as when f "
                f"was traced; got {', '.join(type(a).__name__ for a in given)}"
            ) from None
        except (ArithmeticError, ValueError):  # a domain check or a division by zero
            return self._eagerly(fallback)
        arrays = vectorized[0] if vectorized else ()  # vectorized code returns its arrays
        if not _finite(numbers, arrays):  # an inf or nan somewhere (or a huge sum)
            return self._eagerly(fallback)
        if params is not None:
            *grads, param_grads = grads
            if not _accumulate(params, param_grads):  # a .grad that would not be finite
                return self._eagerly(fallback)
        # a gradient has its argument's type: a list for a list, an array for an array
        value = float(value)
        grads = tuple(_like(g, given[i]) for i, g in zip(self._argnums, grads))
        return (value, grads[0]) if self._single else (value, grads)

    def _eagerly(self, args: Sequence[Any]) -> tuple[float, Any]:
        """Run ``f`` eagerly: when the compiled code meets an inf, a nan or a refused
        input, eager evaluation raises the error it raises (naming the operation, the
        same class at the same inputs); if it does not, its result is the answer. With
        parameters: ``f`` on leaves as traced, then ``backward()``, which adds to their
        ``.grad`` -- restored if anything raises."""
        if self.params is None:
            return value_and_grad(self.f, self.argnums)(*args)
        saved = list(map(_GRAD, self.params))
        try:
            return self._backward_eagerly(args)
        except BaseException:
            _set_grads(self.params, saved)
            raise

    def _backward_eagerly(self, args: Sequence[Any]) -> tuple[float, Any]:
        """``f`` evaluated eagerly, then ``out.backward()``: the parameters' ``.grad`` get
        their gradients added, as eager code does; the differentiated arguments' are
        returned in their shapes. ``f`` gets what it was traced with -- a Value for a
        float, a list of them for a list: fresh leaves for the differentiated arguments,
        constants for the other data (as eager code on plain numbers makes them: no
        gradient is computed or checked for them, as in ``value_and_grad``)."""
        call: list[Any] = []
        for i, a in enumerate(args):
            name = self._names[i] if i < len(self._names) else f"arg{i}"
            make = Value if i in self._argnums else _constant
            if self._is_static(i, a):
                call.append(a)
            elif isinstance(a, (list, tuple, np.ndarray)):
                call.append([make(_number(v, f"{name}[{j}]"), "") for j, v in enumerate(a)])
            else:
                call.append(make(_number(a, name), ""))
        with engine.enable_grad():
            out = self.f(*call)
        if not isinstance(out, Value):
            raise JitError(f"jit: f must return a Value, got {type(out).__name__}")
        out.backward()
        grads = tuple(_like([v.grad for v in call[i]] if isinstance(call[i], list)
                            else call[i].grad, args[i]) for i in self._argnums)
        return out.data, (grads[0] if self._single else grads)

    def batch(self, *args: Any,
              batched: Sequence[int] | None = None) -> tuple[np.ndarray, Any]:
        """Run the compiled code on numpy arrays over many samples at once.

        The arguments at the positions in ``batched`` are arrays with one row per
        sample (shape (n, len) for a list argument, (n,) for a float); the others are
        as for a single call. Returns the per-sample values (shape (n,)) and the
        gradients: summed over the samples for unbatched arguments, per sample for
        batched ones. ``batched`` defaults to ``(1,)`` (``f(theta, x, ...)``), and with
        ``params`` to every data argument (the parameters are the shared part): their
        gradients, summed over the samples, are added to their ``.grad``, as a loop of
        ``loss.backward()`` over the samples would.

        Each sample's value and gradients are ``value_and_grad``'s for that sample (to
        rounding), and a batch is refused exactly when eager evaluation refuses one of its
        samples: with the error eager raises for the first such sample (its class and its
        message, naming the operation). Where the compiled code meets an inf, a nan or a
        refused input, the samples run eagerly, in order, and that decides: the first
        refusal is raised, or, if every sample answers, their answers are the result. The
        one refusal of its own: a gradient summed over the samples that overflows. A
        refused batch leaves the parameters' ``.grad`` as they were.
        """
        if batched is None:
            batched = ((1,) if self.params is None else
                       tuple(i for i, a in enumerate(args) if not self._is_static(i, a)))
        batched = tuple(batched)
        rows = {len(np.asarray(args[i])) for i in batched if 0 <= i < len(args)}
        if len(rows) != 1 or len(batched) != sum(0 <= i < len(args) for i in batched):
            raise ValueError(
                f"jit batch: batched={batched!r} must name at least one of the "
                f"{len(args)} arguments, all with the same number of rows (got {sorted(rows)})"
            )
        (n,) = rows
        if n == 0:
            raise ValueError("jit batch: the batched arguments have no rows")
        sample = [np.asarray(a, dtype=float)[0] if i in batched else a
                  for i, a in enumerate(args)]
        shape = self._signature(sample)
        key = (shape, batched)
        run = self._batched.get(key)
        if run is None:
            entry = self._compiled.get(shape) or self._compile(sample, shape)
            run = self._batched[key] = self._build_batch(entry, batched)
        self._last = shape  # .source shows this trace's (per-sample) code
        function, vectorized = run
        if vectorized:  # whole arrays: the batched ones with one row per sample
            inputs = [np.asarray(a, dtype=float) if i in batched else a
                      for i, a in enumerate(args)]
        else:  # one array per scalar input: a list argument's columns
            inputs = [(list(np.asarray(a, dtype=float).T) if np.ndim(a) == 2
                       else np.asarray(a, dtype=float)) if i in batched else a
                      for i, a in enumerate(args)]
        params = self.params
        if params is not None:  # their numbers: one more (unbatched) list argument
            inputs.append([p.data for p in params])
        try:
            with np.errstate(all="ignore"):
                value, grads, numbers, *vectorized = function(*inputs)
                finite = _finite(numbers, vectorized[0] if vectorized else ())
        except (ArithmeticError, ValueError):
            finite = False
        except TypeError:
            if params is None:
                raise
            finite = False  # a parameter's .data is not a number: eager's error
        if finite:
            argnums = self._argnums if params is None else (*self._argnums, len(args))
            value, out = self._batch_results(value, grads, argnums, args, batched, n)
            if params is None or _accumulate(params, out.pop()):
                return value, (out[0] if self._single else tuple(out))
        # eager evaluation decides, sample by sample (and names the op); it adds to the
        # parameters' .grad, which are restored if it raises
        saved = None if params is None else list(map(_GRAD, params))
        try:
            value, grads = self._batch_eagerly(args, batched, n)
            value, out = self._batch_results(value, grads, self._argnums, args, batched, n)
        except BaseException:
            if saved is not None:
                _set_grads(params, saved)
            raise
        return value, (out[0] if self._single else tuple(out))

    def _batch_results(self, value: Any, grads: Sequence[Any], argnums: Sequence[int],
                       args: Sequence[Any], batched: tuple[int, ...],
                       n: int) -> tuple[np.ndarray, list[Any]]:
        """The per-sample values as an array of n, and each gradient (for the positions
        in ``argnums``; ``len(args)`` stands for the parameters) in its final shape:
        per sample for a batched argument, summed over the samples for the others."""
        value = np.array(value, dtype=float)  # a copy: f may return the caller's array
        if value.shape != (n,):
            value = np.full(n, value)  # no batched input reaches it: every sample's
        out = []
        for i, g in zip(argnums, grads):
            # (a number where an array over the samples could be: the same for every sample)
            is_list = i == len(args) or np.ndim(args[i]) - (i in batched) == 1
            if is_list and isinstance(g, np.ndarray):
                pass  # vectorized: per sample already, or summed over the samples already
            elif is_list and i in batched:  # a list: one entry per element
                per_sample = np.empty((n, len(g)))
                for j, gj in enumerate(g):
                    per_sample[:, j] = gj
                g = per_sample
            elif is_list:
                g = [_sample_sum(gj, n) for gj in g]
            else:
                g = np.broadcast_to(g, (n,)).copy() if i in batched else _sample_sum(g, n)
            out.append(g if i in batched or i == len(args) else _like(g, args[i]))
        if not all(np.isfinite(np.asarray(g)).all() for g in out):
            raise OverflowError("jit batch: a gradient summed over the batch is not finite "
                                "(every sample's is): the sum overflows; use smaller batches "
                                "or rescale the computation")
        return value, out

    def _batch_eagerly(self, args: Sequence[Any], batched: tuple[int, ...],
                       n: int) -> tuple[np.ndarray, list[Any]]:
        """Every sample run eagerly, in order: the first one eager refuses raises its
        error; else the values and gradients, shaped as the scalar batch code returns
        them (an array over the samples per number, a list of them for a list)."""
        rows = [self._eagerly([np.asarray(a, dtype=float)[k] if i in batched else a
                               for i, a in enumerate(args)]) for k in range(n)]
        values = np.array([value for value, _ in rows])
        per_argument = zip(*[(grads,) if self._single else grads for _, grads in rows])
        return values, [list(np.array(g, dtype=float).reshape(n, len(g[0])).T)
                        if np.ndim(g[0]) else np.array(g, dtype=float) for g in per_argument]

    def _build_batch(self, entry: _Entry, batched: tuple[int, ...]) -> tuple[Callable, bool]:
        """The batch version of a compiled trace: vectorized when the trace has vectors
        (matrix products over the batch), else the scalar source on numpy arrays."""
        out, names, placeholders, recorded, scalar_source, argnums, _ = entry.trace
        helpers = {**NUMPY_HELPERS, **custom.jit_helpers(batch=True)}
        vectorized = (vector_source(out, names, placeholders, argnums, recorded,
                                    batched=batched) if self.vectorize is not False else None)
        if vectorized is None:
            return _build(scalar_source, helpers, "compiled_batch"), False
        source, constants = vectorized
        return _build(source, {**helpers, **VECTOR_HELPERS, **constants}, "compiled_batch"), True

    @property
    def source(self) -> str:
        """The generated Python source of the most recent trace."""
        if self._last is None:
            raise JitError("jit: nothing compiled yet; call the function once first")
        return self._compiled[self._last].source

    # -- tracing -------------------------------------------------------------

    def _is_static(self, i: int, arg: Any) -> bool:
        if i in self._static:
            return True
        if i in self._argnums:
            return False
        return not isinstance(arg, (float, np.floating, list, tuple, np.ndarray))

    def _signature(self, args: Sequence[Any]) -> tuple:
        """What a trace depends on: each list argument's length (None for a float) and
        the value of each static argument."""
        signature: list[Any] = []
        static = self._static
        for i, a in enumerate(args):
            kind = type(a)
            if (kind is list or kind is float) and i not in static:  # (the common case)
                signature.append(len(a) if kind is list else None)
            elif self._is_static(i, a):
                try:
                    hash(a)
                except TypeError:
                    raise JitError(
                        f"jit: argument {i} ({type(a).__name__}) is static (not float data), "
                        "so it is part of the cache key and must be hashable; pass floats or "
                        "a flat list of floats as data, or a hashable value (a tuple, say)"
                    ) from None
                signature.append(("static", type(a), a))
            else:
                signature.append(len(a) if isinstance(a, (list, tuple, np.ndarray)) else None)
        return tuple(signature)

    def _compile(self, args: Sequence[Any], shape: tuple) -> _Entry:
        for i in self._argnums:
            if not 0 <= i < len(args):
                raise JitError(f"jit: argnums {self.argnums!r} out of range for "
                               f"{len(args)} arguments")
        names = [self._names[i] if i < len(self._names) else f"arg{i}"
                 for i in range(len(args))]
        placeholders: list[Any] = []
        for name, a, n in zip(names, args, shape):
            if isinstance(n, tuple):  # static: f sees the value itself
                placeholders.append(a)
            elif n is None:
                placeholders.append(Value(_number(a, name), name))
            else:
                placeholders.append([Value(_number(v, f"{name}[{j}]"), f"{name}[{j}]")
                                     for j, v in enumerate(a)])
        start = engine._next_number()
        out, reads, recorded = _trace(self.f, placeholders)
        argnums = self._argnums
        if self.params is not None:  # the parameters: one more list argument of the code
            names.append("params")
            placeholders.append(list(self.params))
            argnums += (len(args),)
        if reads:
            where = "; ".join(sorted(reads))
            raise JitError(
                f"jit: f reads the number of a traced Value ({where}), so its control flow "
                "may depend on the input values, which a trace cannot capture. Express the "
                "choice with an operation (relu, abs, step, ...), or call "
                "value_and_grad(f) eagerly"
            )
        if not isinstance(out, Value):
            raise JitError(f"jit: f must return a Value, got {type(out).__name__}")
        # sums of products as dot nodes: for the scalar code where they have two products
        # or more (w * x + b stays two statements, as written), for the vectorizer all
        scalar_out, scalar_recorded, _ = fuse_sums(out, recorded, min_products=2)
        scalar_source = _generate(scalar_out, names, placeholders, argnums, start,
                                  scalar_recorded)
        out, recorded, fused = fuse_sums(out, recorded, min_products=1)
        trace = _Trace(out, names, placeholders, recorded, scalar_source, argnums, fused)
        vectorized = (vector_source(out, names, placeholders, argnums, recorded)
                      if self.vectorize is not False else None)
        use_vectors = vectorized is not None and (self.vectorize or _statements(
            scalar_source) > VECTOR_STATEMENT_COST * _statements(vectorized[0]))
        helpers = {**CODE_HELPERS, **custom.jit_helpers(batch=False)}
        source = _inline_helpers(scalar_source)
        if use_vectors:  # numpy does the groups (np_ helpers); the scalar statements
            # read their members, numpy numbers, and call the op table's float helpers
            # (SCALAR_HELPERS: ~100x faster on one number than numpy's; per sample, a
            # statement never holds an array -- the batch code calls the numpy helpers)
            source, constants = vectorized
            helpers.update(SCALAR_HELPERS, **VECTOR_HELPERS, **constants)
        entry = _Entry(_build(source, helpers, "compiled"), source, trace, use_vectors)
        self._compiled[shape] = entry
        return entry


def _like(gradient: Any, argument: Any) -> Any:
    if isinstance(gradient, np.floating):  # a float argument's gradient: a float
        return float(gradient)
    if isinstance(argument, np.ndarray) and isinstance(gradient, list):
        return np.array(gradient)
    if isinstance(argument, (list, tuple)) and isinstance(gradient, np.ndarray):
        return gradient.tolist()
    return gradient


def _sample_sum(gradient: Any, n: int) -> float:
    """A gradient summed over the n samples: an array over them, or a number that is
    every sample's (no batched input reaches it)."""
    return float(gradient.sum()) if isinstance(gradient, np.ndarray) else float(gradient) * n


def _statements(source: str) -> int:
    return sum(1 for line in source.splitlines() if line.strip() and not
               line.lstrip().startswith("#"))


def _finite(numbers: Sequence[Any], arrays: Sequence[np.ndarray] = ()) -> bool:
    """Every number and every array element is finite: one sum, and only when that is
    not finite (an inf or a nan, or finite numbers whose sum overflows) a look at each."""
    total = sum(numbers)
    for array in arrays:
        total = total + array.sum()
    try:
        if math.isfinite(total):  # a float (per sample): the fast path
            return True
    except TypeError:  # an array of per-sample sums (a batch)
        if np.isfinite(total).all():
            return True
    return all(np.all(np.isfinite(x)) for x in (*numbers, *arrays))


def _build(source: str, helpers: dict[str, Callable[..., Any]], name: str) -> Callable:
    namespace: dict[str, Any] = {"__builtins__": {"sum": sum}, **helpers}
    code = compile(source, f"<autograd.jit {name}>", "exec")
    exec(code, namespace)  # the source holds only op-table templates, names and numbers
    return namespace["compiled"]


def _parameters(params: Iterable[Value] | None) -> tuple[Value, ...] | None:
    """The declared parameters, each once (a Value listed twice gets its gradient added
    once, as backward() adds it once), checked to be leaves."""
    if params is None:
        return None
    if isinstance(params, Value):
        params = [params]
    try:
        given = list(params)
    except TypeError:
        raise TypeError(f"jit: params must be an iterable of Values (model.parameters()), "
                        f"got {type(params).__name__}") from None
    seen: set[int] = set()
    unique: list[Value] = []
    for k, p in enumerate(given):
        if not isinstance(p, Value):
            raise TypeError(f"jit: params[{k}] is a {type(p).__name__}, not a Value; params "
                            "are the Values f uses as parameters (model.parameters())")
        if p._parents or p.is_constant:
            what = f"the result of {p.op}" if p._parents else "a constant"
            raise JitError(
                f"jit: params[{k}] ({p!r}) is {what}, not a leaf: parameters are the leaves "
                "a model keeps (Value(...) made by hand, model.parameters()), whose .grad "
                "backward() fills and whose .data an update changes. A computed Value "
                "would be traced through; make it a parameter's function inside f")
        if id(p) not in seen:
            seen.add(id(p))
            unique.append(p)
    return tuple(unique)


def _set_grads(params: Sequence[Value], grads: Iterable[Any]) -> None:
    for p, g in zip(params, grads):
        p.grad = g


def _accumulate(params: Sequence[Value], gradients: Any) -> bool:
    """Add each gradient to its parameter's .grad, as backward() does -- unless a sum is
    not finite (or a .grad is not a number): then nothing is changed and False returned
    (eager evaluation decides; its backward() refuses that)."""
    if isinstance(gradients, np.ndarray):
        gradients = gradients.tolist()
    try:  # (comprehensions and loops: faster than map() over attrgetter and setattr)
        new = [p.grad + g for p, g in zip(params, gradients)]
        total = sum(new)
    except TypeError:
        return False
    if not (total - total == 0.0 or all(map(math.isfinite, new))):
        return False
    for p, g in zip(params, new):
        p.grad = g
    return True
