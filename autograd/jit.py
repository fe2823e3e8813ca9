"""``jit``: trace a scalar function once and compile it to straight-line Python.

``jit(f)`` behaves like ``value_and_grad(f)``. On the first call (and on the first
call with new list lengths) it calls ``f`` with placeholder Values, and writes the
graph out as Python source: one statement per node for the forward pass, then the
chain rule backwards, one statement per edge (``d_x += d_out * local``). The
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

``jf.batch(*args, batched=(1,))`` runs the same generated code on numpy arrays:
the batched arguments are 2-d arrays (one row per sample); the result is the
per-sample values and the gradients, summed over samples for the other arguments.
"""

from __future__ import annotations

import inspect
import keyword
import math
import re
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import custom, engine
from .engine import _CONSTANT, Value, topological_order
from .functional import value_and_grad
from .ops import _EXP_MAX, CODE_HELPERS

__all__ = ["JitError", "JitFunction", "jit"]

# Code whose .data reads are not control flow of f: the engine itself, and nn's modules
# and losses (which read .data only to validate a domain and raise).
_ROOT = Path(__file__).resolve().parent.parent
_LIBRARY_FILES = (str(_ROOT / "autograd"), str(_ROOT / "nn" / "modules.py"),
                  str(_ROOT / "nn" / "losses.py"))


class JitError(RuntimeError):
    """``f`` cannot be compiled faithfully; the message says why and what to do."""


def jit(
    f: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    static_argnums: int | Sequence[int] = (),
) -> JitFunction:
    """Compile ``f`` to straight-line Python; ``jit(f)(*args)`` returns ``(value, grads)``
    like ``value_and_grad(f, argnums)(*args)``.

    Data arguments are floats or flat lists of floats (the gradient of a list is a list
    of the same length); the differentiated ones (``argnums``) always are. Every other
    argument -- an int class index, a string, a flag, None -- is *static*, as with
    JAX's ``static_argnums``: ``f`` sees it as it is while tracing, and it is part of
    the cache key, so a new value is traced and compiled again. ``static_argnums``
    declares more (a float that decides structure, say). The compiled source is
    ``jf.source``. See the module documentation for what can and cannot be traced.
    """
    return JitFunction(f, argnums, static_argnums)


class JitFunction:
    """A traced and compiled ``f``. Call it like ``value_and_grad(f, argnums)``."""

    def __init__(
        self,
        f: Callable[..., Any],
        argnums: int | Sequence[int] = 0,
        static_argnums: int | Sequence[int] = (),
    ) -> None:
        if not callable(f):
            raise TypeError(f"jit: f must be callable, got {type(f).__name__}")
        self.f = f
        self.argnums = argnums
        self._single = isinstance(argnums, int)
        self._argnums = (argnums,) if self._single else tuple(argnums)
        self._static = ({static_argnums} if isinstance(static_argnums, int)
                        else set(static_argnums))
        both = self._static & set(self._argnums)
        if both:
            raise JitError(f"jit: argument {min(both)} is in both argnums and static_argnums; "
                           "a static argument cannot be differentiated")
        self._compiled: dict[tuple, tuple[Callable[..., Any], str]] = {}
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
        try:
            value, grads, numbers = entry[0](*args)
        except TypeError:
            raise TypeError(
                "jit: each data argument must be a float or a flat list of floats, as when f "
                f"was traced; got {', '.join(type(a).__name__ for a in args)}"
            ) from None
        except (ArithmeticError, ValueError):  # a domain check or a division by zero
            return self._eagerly(args)
        if not math.isfinite(sum(numbers)):  # an inf or nan somewhere (or a huge sum)
            return self._eagerly(args)
        return (value, grads[0]) if self._single else (value, grads)

    def _eagerly(self, args: Sequence[Any]) -> tuple[float, Any]:
        """Run ``f`` eagerly: when the compiled code meets an inf, a nan or a refused
        input, eager evaluation raises the error it raises (naming the operation, the
        same class at the same inputs); if it does not, its result is the answer."""
        return value_and_grad(self.f, self.argnums)(*args)

    def batch(self, *args: Any, batched: Sequence[int] = (1,)) -> tuple[np.ndarray, Any]:
        """Run the compiled code on numpy arrays over many samples at once.

        The arguments at the positions in ``batched`` are arrays with one row per
        sample (shape (n, len) for a list argument, (n,) for a float); the others are
        as for a single call. Returns the per-sample values (shape (n,)) and the
        gradients: summed over the samples for unbatched arguments, per sample for
        batched ones.
        """
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
            if shape not in self._compiled:
                self._compile(sample, shape)
            source = self._compiled[shape][1]
            run = _build(source, {**_NUMPY_HELPERS, **custom.jit_helpers(batch=True)},
                         "compiled_batch")
            self._batched[key] = run
        columns = []
        for i, a in enumerate(args):
            if i in batched:
                array = np.asarray(a, dtype=float)
                columns.append(list(array.T) if array.ndim == 2 else array)
            else:
                columns.append(a)
        try:
            with np.errstate(all="ignore"):
                value, grads, numbers = run(*columns)
                finite = np.isfinite(sum(numbers))
            if not np.all(finite):  # the fast sum can overflow: look at each number
                finite = np.ones(n, dtype=bool)
                for number in numbers:
                    finite &= np.isfinite(number)
        except (ArithmeticError, ValueError):
            finite = np.zeros(n, dtype=bool)
        if not np.all(finite):  # eager evaluation names the operation, sample by sample
            for k in np.flatnonzero(~np.broadcast_to(finite, (n,))):
                self._eagerly([np.asarray(a, dtype=float)[k] if i in batched else a
                               for i, a in enumerate(args)])
            raise OverflowError("jit batch: a value or gradient is not finite in the batch, "
                                "though every sample's is when run eagerly")
        value = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()
        out = []
        for i, g in zip(self._argnums, grads):
            if i in batched:
                out.append(np.column_stack([np.broadcast_to(gj, (n,)) for gj in g])
                           if isinstance(g, list) else np.broadcast_to(g, (n,)).copy())
            else:
                out.append([float(np.sum(gj)) for gj in g] if isinstance(g, list)
                           else float(np.sum(g)))
        if not all(np.isfinite(np.asarray(g)).all() for g in out):
            raise OverflowError("jit batch: a gradient summed over the batch is not finite "
                                "(every sample's is): the sum overflows; use smaller batches "
                                "or rescale the computation")
        return value, (out[0] if self._single else tuple(out))

    @property
    def source(self) -> str:
        """The generated Python source of the most recent trace."""
        if self._last is None:
            raise JitError("jit: nothing compiled yet; call the function once first")
        return self._compiled[self._last][1]

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
        for i, a in enumerate(args):
            if self._is_static(i, a):
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

    def _compile(self, args: Sequence[Any], shape: tuple) -> tuple[Callable[..., Any], str]:
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
        source = _generate(out, names, placeholders, self._argnums, start, recorded)
        compiled = _build(source, {**CODE_HELPERS, **custom.jit_helpers(batch=False)},
                          "compiled")
        entry = (compiled, source)
        self._compiled[shape] = entry
        return entry


def _number(x: Any, name: str) -> float:
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"jit: argument {name} must be a float or a flat list of floats, "
                        f"got {type(x).__name__}") from None
    if not math.isfinite(value):
        raise ValueError(f"jit: argument {name} = {value!r} is not finite")
    return value


def _argument_names(f: Callable[..., Any]) -> list[str]:
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


# -- watching .data while tracing ----------------------------------------------

_DATA = Value.__dict__["data"]  # the slot's own descriptor


class _WatchedData:
    """Stands in for ``Value.data`` while any thread traces. Reads in a tracing thread
    are reported to its watcher (which keeps those from code outside chainrule, where a
    user's ``if x.data > 0`` would be); other threads read the slot as usual."""

    def __get__(self, node: Any, owner: Any = None) -> Any:
        if node is None:
            return self
        watch = engine._trace_state.watch
        if watch is not None:
            watch(sys._getframe(1), ".data")
        return _DATA.__get__(node, owner)

    def __set__(self, node: Any, value: float) -> None:
        _DATA.__set__(node, value)


_WATCHED_DATA = _WatchedData()
_tracing_threads = 0  # how many threads are tracing now; the watcher is installed while > 0
_tracing_lock = threading.Lock()


def _trace(f: Callable[..., Any], placeholders: list[Any]) -> tuple[Any, set[str], list[Value]]:
    """Call ``f`` on the placeholders; return its result, the places where code outside
    chainrule read the number of a Value (``.data``, ``float()``, a comparison, ...) and
    every node made while it ran (used or not)."""
    global _tracing_threads
    reads: set[str] = set()

    def watch(frame: Any, what: str) -> None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_LIBRARY_FILES):
            reads.add(f"{Path(filename).name}, line {frame.f_lineno}: {what}")

    with _tracing_lock:
        if _tracing_threads == 0:
            Value.data = _WATCHED_DATA  # type: ignore[assignment]
        _tracing_threads += 1
    previous_watch, previous_mode = engine._trace_state.watch, engine._grad_mode.enabled
    recording = engine._Recording()
    engine._trace_state.watch = watch
    engine._grad_mode.enabled = recording  # records the graph, and keeps every node
    try:
        out = f(*placeholders)
    finally:
        engine._trace_state.watch = previous_watch
        engine._grad_mode.enabled = previous_mode
        with _tracing_lock:
            _tracing_threads -= 1
            if _tracing_threads == 0:
                Value.data = _DATA  # type: ignore[assignment]
    return out, reads, recording.nodes


# -- code generation ---------------------------------------------------------------

_IDENTIFIER = re.compile(r"[^0-9A-Za-z]+")


def _safe_name(text: str, taken: set[str]) -> str:
    """An identifier made of letters, digits and underscores only, not yet taken."""
    name = _IDENTIFIER.sub("_", text).strip("_") or "v"
    if (name[0].isdigit() or keyword.iskeyword(name) or name in _RESERVED
            or name.startswith("custom_")):  # (custom ops' helpers are called custom_<k>)
        name = f"v_{name}"
    candidate, k = name, 1
    while candidate in taken:
        k += 1
        candidate = f"{name}_{k}"
    taken.add(candidate)
    return candidate


_RESERVED = {*CODE_HELPERS, "sum"}  # names the generated code calls


def _literal(x: float) -> str:
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def _generate(out: Value, names: list[str], placeholders: list[Any],
              argnums: tuple[int, ...], start: int, recorded: Sequence[Value] = ()) -> str:
    order = topological_order(out)
    reachable = set(order)  # the nodes the result depends on
    # nodes f made but dropped still run (their domain checks are part of f), forward only
    reached = set(order)
    for node in recorded:
        if node not in reached:
            for ancestor in topological_order(node):
                if ancestor not in reached:
                    reached.add(ancestor)
                    order.append(ancestor)
    order.sort(key=lambda node: node._number)  # creation order is a topological order
    taken: set[str] = set()
    arg_names = [_safe_name(f"a_{name}", taken) for name in names]
    variable: dict[Value, str] = {}
    unpack = []
    for arg_name, name, ph in zip(arg_names, names, placeholders):
        if not isinstance(ph, (list, Value)):
            unpack.append(f"    # {arg_name}: static, its value is part of this trace")
        elif isinstance(ph, list):
            elements = [_safe_name(f"{name}_{j}", taken) for j in range(len(ph))]
            variable.update(zip(ph, elements))
            if elements:
                comma = "," if len(elements) == 1 else ""
                unpack.append(f"    {', '.join(elements)}{comma} = {arg_name}")
        else:
            variable[ph] = _safe_name(name, taken)
            unpack.append(f"    {variable[ph]} = {arg_name}")
    for node in order:
        if node._parents or node in variable:
            continue
        if node._op is not _CONSTANT and node._number < start:
            raise JitError(
                f"jit: f uses a Value that is not one of its arguments ({node!r}); its "
                "number would be frozen into the compiled code. Pass such Values (a model's "
                "parameters, for example) to f as an argument, as a list of floats"
            )
    # interior nodes: labels where they are usable names, else v<k>
    count = 0
    for node in order:
        if node._parents:
            if node.label:
                variable[node] = _safe_name(node.label, taken)
            else:
                variable[node] = _safe_name(f"v{count}", taken)
                count += 1

    def ref(node: Value) -> str:
        return variable[node] if node in variable else _literal(node.data)

    forward, local_code = [], {}
    for node in order:
        if not node._parents:
            continue
        inputs = [ref(p) for p in node._parents]
        code = node._op.code
        if callable(code):
            fwd, locals_ = code(inputs, variable[node])
        else:
            template, local_templates = code
            fwd = template.format(*inputs, out=variable[node])
            locals_ = [t.format(*inputs, out=variable[node]) for t in local_templates]
        forward.append(f"    {variable[node]} = {fwd}  # {node._op.name}")
        local_code[node] = locals_

    grad_name: dict[Value, str] = {}
    backward = []
    if out._parents:
        grad_name[out] = _safe_name(f"d_{variable[out]}", taken)
        backward.append(f"    {grad_name[out]} = 1.0")
    for node in reversed(order):
        if not node._parents or node not in grad_name:
            continue  # a leaf, or no gradient reaches it (every path had a 0 factor)
        g = grad_name[node]
        for parent, local in zip(node._parents, local_code[node]):
            if parent not in variable or local == "0.0":
                continue  # a constant (or a leaf made inside f: a number in the code)
            if local == "1.0":
                term = g
            elif local == "-1.0":
                term = f"-{g}"
            else:
                term = f"{g} * {local}" if _simple(local) else f"{g} * ({local})"
            if parent in grad_name:
                backward.append(f"    {grad_name[parent]} += {term}")
            else:
                grad_name[parent] = _safe_name(f"d_{variable[parent]}", taken)
                backward.append(f"    {grad_name[parent]} = {term}")

    # an operation no gradient reaches (every path to it has a local derivative of 0)
    # still has its local derivatives computed and checked, as eager backward does
    checks = []
    for node in reversed(order):
        if node._parents and node in reachable and node not in grad_name:
            for parent, local in zip(node._parents, local_code[node]):
                if parent in variable and not _is_number(local):
                    name = _safe_name(f"checked_local_{len(checks)}", taken)
                    checks.append((name, f"    {name} = {local}  # d {variable[node]} / d "
                                         f"{variable[parent]}: checked, no gradient flows"))
    backward += [line for _, line in checks]

    def grad_of(node: Value) -> str:
        if node is out and not out._parents:
            return "1.0"
        return grad_name.get(node, "0.0")

    results = []
    for i in argnums:
        ph = placeholders[i]
        results.append(f"[{', '.join(grad_of(v) for v in ph)}]" if isinstance(ph, list)
                       else grad_of(ph))
    value = ref(out)
    gradients = f"({', '.join(results)}{',' if len(results) == 1 else ''})"
    numbers = [variable[node] for node in order if node._parents]
    numbers += grad_name.values()  # (gradient names never repeat a node's name)
    numbers += [name for name, _ in checks]
    lines = [
        f"def compiled({', '.join(arg_names)}):",
        "    # generated by autograd.jit from the op table: do not edit",
        *unpack,
        "    # forward: one statement per node",
        *forward,
        "    # backward: the chain rule, d_x += d_out * (d out / d x) for every edge",
        *backward,
        "    # returned: the value, the gradients, and every number computed -- the caller",
        "    # checks they are all finite; if one is not, f runs eagerly to raise its error",
        f"    return {value}, {gradients}, ({', '.join(numbers)}{',' * (len(numbers) == 1)})",
    ]
    return "\n".join(lines) + "\n"


_SIMPLE = re.compile(r"[A-Za-z_]\w*(\([\w, ]*\))?|[\d.e+-]+|\(-[\d.e+-]+\)")


def _is_number(expr: str) -> bool:
    try:
        float(expr.strip("()"))
    except ValueError:
        return False
    return True


def _simple(expr: str) -> bool:
    """True for a name, a number or a call of names: no parentheses needed after '*'."""
    return _SIMPLE.fullmatch(expr) is not None


def _build(source: str, helpers: dict[str, Callable[..., Any]], name: str) -> Callable:
    namespace: dict[str, Any] = {"__builtins__": {"sum": sum}, **helpers}
    code = compile(source, f"<autograd.jit {name}>", "exec")
    exec(code, namespace)  # the source holds only op-table templates, names and numbers
    return namespace["compiled"]


# -- the numpy versions of the helpers, with the same domain checks ----------------


def _np_check(bad: Any, message: str, error: type[Exception] = ValueError) -> None:
    if np.any(bad):
        raise error(message)


def _np_div(a: Any, b: Any) -> Any:
    _np_check(np.asarray(b) == 0.0, "div: division by zero in a batch", ZeroDivisionError)
    return a / b


def _np_pow(x: Any, y: Any) -> Any:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    _np_check((x < 0.0) & (y != np.round(y)), "pow: negative base with fractional exponent")
    _np_check((x == 0.0) & (y < 0.0), "pow: 0 to a negative power", ZeroDivisionError)
    return np.power(x, y)


def _np_dpow(x: Any, c: Any) -> Any:
    return 0.0 * np.asarray(x, dtype=float) if c == 0.0 else c * _np_pow(x, c - 1.0)


def _np_powv(x: Any, y: Any) -> Any:
    _np_check(np.asarray(x) <= 0.0, "pow: base must be > 0 when the exponent is a Value")
    return _np_pow(x, y)


def _np_exp(x: Any) -> Any:
    _np_check(np.asarray(x) > _EXP_MAX, "exp: overflow in a batch", OverflowError)
    return np.exp(x)


def _np_log(x: Any) -> Any:
    _np_check(np.asarray(x) <= 0.0, "log: argument must be > 0 in every sample")
    return np.log(x)


def _np_sqrt(x: Any) -> Any:
    _np_check(np.asarray(x) < 0.0, "sqrt: argument must be >= 0 in every sample")
    return np.sqrt(x)


def _np_sigmoid(x: Any) -> Any:
    z = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0.0, 1.0 / (1.0 + z), z / (1.0 + z))


def _np_logsumexp(*xs: Any) -> Any:
    m = xs[0]
    for x in xs[1:]:
        m = np.maximum(m, x)
    return m + np.log(sum(np.exp(x - m) for x in xs))


def _np_asin(x: Any) -> Any:
    _np_check(np.abs(x) > 1.0, "asin: argument must be in [-1, 1] in every sample")
    return np.arcsin(x)


def _np_acos(x: Any) -> Any:
    _np_check(np.abs(x) > 1.0, "acos: argument must be in [-1, 1] in every sample")
    return np.arccos(x)


def _np_sinh(x: Any) -> Any:
    result = np.sinh(x)
    _np_check(~np.isfinite(result), "sinh: overflow in a batch", OverflowError)
    return result


def _np_cosh(x: Any) -> Any:
    result = np.cosh(x)
    _np_check(~np.isfinite(result), "cosh: overflow in a batch", OverflowError)
    return result


def _np_log1p(x: Any) -> Any:
    _np_check(np.asarray(x) <= -1.0, "log1p: argument must be > -1 in every sample")
    return np.log1p(x)


def _np_expm1(x: Any) -> Any:
    _np_check(np.asarray(x) > _EXP_MAX, "expm1: overflow in a batch", OverflowError)
    return np.expm1(x)


def _np_mod(a: Any, b: Any) -> Any:
    _np_check(np.asarray(b) == 0.0, "mod: modulo by zero in a batch", ZeroDivisionError)
    return np.mod(a, b)


_NUMPY_HELPERS: dict[str, Callable[..., Any]] = {
    "div": _np_div,
    "pow": _np_pow,
    "dpow": _np_dpow,
    "powv": _np_powv,
    "exp": _np_exp,
    "log": _np_log,
    "sqrt": _np_sqrt,
    "tanh": np.tanh,
    "sigmoid": _np_sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
    "step": lambda x: np.where(np.asarray(x) > 0.0, 1.0, 0.0),
    "sign": np.sign,
    "abs": np.abs,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": _np_asin,
    "acos": _np_acos,
    "atan": np.arctan,
    "sinh": _np_sinh,
    "cosh": _np_cosh,
    "log1p": _np_log1p,
    "expm1": _np_expm1,
    "atan2": np.arctan2,
    "mod": _np_mod,
    "floordiv": lambda a, b: np.floor(np.asarray(a, dtype=float) / b),
    "maximum": np.maximum,
    "minimum": np.minimum,
    "share": lambda a, b: np.where(np.asarray(a) > b, 1.0, np.where(np.asarray(a) == b, 0.5,
                                                                     0.0)),
    "logsumexp": _np_logsumexp,
}
assert set(_NUMPY_HELPERS) == set(CODE_HELPERS)
