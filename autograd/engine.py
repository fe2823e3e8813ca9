"""The engine: :class:`Value`, the graph it records, and reverse-mode backpropagation.

A Value is a node of a directed acyclic graph. An interior node stores its
operation (an :class:`~autograd.ops.Op` from the op table) and its parents, in
operand order (in two slots, read as a tuple through ``_parents``), and, only if
given, a label or attributes a user set, in a ``__dict__`` made on first use. There
are no closures, so a node never refers to itself through a cycle and a graph is
freed by reference counting the moment it is dropped.

Backpropagation visits the interior nodes in reverse creation order (every
node is created after its operands, so that is a reverse topological order)
and applies the chain rule at every node::

    grad(parent_i) += grad(node) * d(node)/d(parent_i)

where d(node)/d(parent_i) comes from the op's ``local_grads`` rule.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import operator
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .ops import _PSEUDO_OPS, OPS, Op, _data

__all__ = [
    "Value",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "topological_order",
]

F = TypeVar("F", bound=Callable[..., Any])

# Leaves carry one of two pseudo-ops with no parents: a user's leaf (an input
# or a parameter) or a constant (a plain number that took part in an op).
_LEAF = Op("", "", None, None, 0)  # type: ignore[arg-type]
_CONSTANT = Op("", "const", None, None, 0)  # type: ignore[arg-type]
_PSEUDO_OPS["leaf"], _PSEUDO_OPS["constant"] = _LEAF, _CONSTANT

_ADD, _SUB, _MUL, _DIV, _NEG = OPS["add"], OPS["sub"], OPS["mul"], OPS["div"], OPS["neg"]
_DOT = OPS["dot"]
_UNARY_OPS = {name: op for name, op in OPS.items() if op.arity == 1}
_POW, _RPOW, _POWV = OPS["pow"], OPS["rpow"], OPS["powv"]
_RELU = OPS["relu"]
_MOD = OPS["mod"]
#: micrograd's _op labels where they differ from the op table's names and symbols
_MICROGRAD_NAMES = {"relu": "ReLU", "neg": "neg", "rpow": "**", "powv": "**"}
_OPERATORS = {"+", "-", "*", "/", "%"}


# ---------------------------------------------------------------------------
# Grad mode: thread-local, switched by no_grad / enable_grad.


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


# The hot path reads one module global instead of the thread-local mode: ``_plain`` is
# True while no switch is active in any thread (every thread records, the default), so
# a new node needs no look at the thread-local mode. Each switch (no_grad, enable_grad,
# a jit trace) counts itself in and out; while any is active, nodes read the mode of
# their own thread.
_plain = True
_switches = 0
_switches_lock = threading.Lock()


def _set_grad_mode(mode: Any) -> None:
    """Set this thread's grad mode for a switch's extent (undo with _restore_grad_mode)."""
    global _plain, _switches
    with _switches_lock:
        _switches += 1
        _plain = False
    _grad_mode.enabled = mode


def _restore_grad_mode(previous: Any) -> None:
    """End a switch: this thread's grad mode back to ``previous``."""
    global _plain, _switches
    _grad_mode.enabled = previous
    with _switches_lock:
        _switches -= 1
        _plain = _switches == 0


def is_grad_enabled() -> bool:
    """True when operations record the graph (the default), False inside :class:`no_grad`."""
    return bool(_grad_mode.enabled)


class _Recording:
    """The grad mode while ``jit`` traces: true, like ``True``, and it keeps every node
    made, so that the compiled code also runs the checks of nodes whose result f
    dropped (eager code refuses ``y.sqrt()`` at y = -1 even when it is unused)."""

    __slots__ = ("nodes",)

    def __init__(self) -> None:
        self.nodes: list[Value] = []

    def __bool__(self) -> bool:
        return True


class _GradModeSwitch:
    """Context manager *and* decorator that sets grad mode for its extent (per thread).

    As a decorator (``@no_grad`` or ``@no_grad()``) it returns a plain function
    wrapper, so it works on functions and methods alike.
    """

    _mode: bool

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        if func is not None:  # @no_grad without parentheses
            return cls._wrap(func)
        return super().__new__(cls)

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        self._previous: list[bool] = []

    @classmethod
    def _wrap(cls, func: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(func):
            raise TypeError(f"{cls.__name__}: can decorate a function, got {type(func).__name__}")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with cls():
                return func(*args, **kwargs)

        return wrapper

    def __enter__(self) -> None:
        previous = _grad_mode.enabled
        self._previous.append(previous)
        # enable_grad inside a jit trace keeps the trace's recording
        _set_grad_mode(previous if (self._mode and previous) else self._mode)

    def __exit__(self, *exc_info: object) -> None:
        _restore_grad_mode(self._previous.pop())

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``@no_grad()``: wrap ``func``."""
        return self._wrap(func)


class no_grad(_GradModeSwitch):
    """Inside ``with no_grad():`` (or a function decorated ``@no_grad`` / ``@no_grad()``)
    operations compute values but record no graph: every result is a leaf.

    The switch is thread-local, as in PyTorch. Use it for evaluation and for
    parameter updates, which must not become part of the next step's graph.
    """

    _mode = False


class enable_grad(_GradModeSwitch):
    """Turn graph recording back on inside a :class:`no_grad` region."""

    _mode = True


# ---------------------------------------------------------------------------
# Reads of a Value's number while jit traces (per thread).


class _TraceState(threading.local):
    #: while this thread traces with ``jit``: a function(frame, what) told of every read
    #: of a traced Value's number (``.data``, ``float()``, comparisons, ...), else None
    watch: Callable[[Any, str], None] | None = None


_trace_state = _TraceState()


def _report_read(what: str) -> None:
    """Tell a tracing ``jit`` (in this thread) that the caller of the calling method reads
    a traced Value's number: a trace cannot follow a branch on a number. Call it only
    directly from the method the user called (it names the line two frames up)."""
    watch = _trace_state.watch
    if watch is not None:
        watch(sys._getframe(2), what)


def _comparison(symbol: str, compare: Callable[[Any, Any], bool],
                identity: bool = False) -> Callable[..., Any]:
    """A comparison method of Value: ``a <symbol> b`` compares ``a.data`` with ``b``'s
    number and returns a plain bool (not a node, not differentiable). With ``identity``
    (``==``, ``!=``) two Values are compared as nodes: ``a == b`` is ``a is b``."""

    def method(self: Value, other: Any) -> Any:
        if identity and isinstance(other, Value):
            return compare(id(self), id(other))
        _report_read(symbol)  # (called directly from the user's expression)
        number = _comparable(other)
        return NotImplemented if number is NotImplemented else compare(self.data, number)

    if identity:
        same = "is" if symbol == "==" else "is not"
        method.__doc__ = (f"``a {symbol} b``: for two Values, ``a {same} b`` (the same "
                          f"node); with a number, ``a.data {symbol} b``.")
    else:
        method.__doc__ = f"``a {symbol} b``: ``a.data {symbol}`` b's number, a bool."
    return method


def _comparable(other: Any) -> Any:
    """The number to compare a Value's data with, or NotImplemented."""
    if isinstance(other, Value):
        return other.data
    if type(other) in (float, int, bool):
        return other
    if _is_real_number(other):  # a numpy scalar or 0-d array
        return float(other)
    return NotImplemented


# ---------------------------------------------------------------------------
# Conversion of operands.


def _to_float(x: Any, where: str) -> float:
    """A real number (int, bool, float, numpy scalar) as a finite float, or a clear error."""
    if type(x) is float:
        value = x
    elif _is_real_number(x):
        value = float(x)
    elif isinstance(x, Value):
        raise TypeError(
            f"{where}: expected a number, got a Value ({x!r}); use .data for its number "
            "or .detach() for a new leaf"
        )
    else:
        raise TypeError(
            f"{where}: expected a real number (int, float, bool or numpy scalar), "
            f"got {type(x).__name__} ({x!r:.60})"
        )
    if not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {value!r}")
    return value


def _is_real_number(x: Any) -> bool:
    """int, bool, float, a numpy scalar or a 0-d numpy array of a real dtype."""
    return isinstance(x, numbers.Real) or (
        getattr(x, "shape", None) == () and getattr(getattr(x, "dtype", None), "kind", "") in "biuf"
    )


_EXACT_INT = 2**53  # every int up to this size is a float exactly


def _constant(x: Any, where: str) -> Value:
    """A constant node holding the number ``x`` (``where`` names the operation, for the
    error when ``x`` is not a finite real number)."""
    node = _new_value(_Constant)
    if type(x) is float and x - x == 0.0:
        node.data = x
    elif type(x) is int and -_EXACT_INT <= x <= _EXACT_INT:  # (sum()'s start, 0)
        node.data = float(x)
    else:
        node.data = _to_float(x, where)
    node._number = _next_number()
    node._operation = _CONSTANT
    node._a = node._b = None
    return node


def as_value(x: Any, where: str = "Value") -> Value:
    """``x`` itself if it is a Value, else a constant node holding the number ``x``."""
    return x if isinstance(x, Value) else _constant(x, where)


def apply(op: Op, *operands: Any) -> Value:
    """Apply ``op`` to Values or numbers and record the result in the graph.

    Numbers become constant leaves. This is how every operation, built in or
    user-defined, enters the graph; the op itself never touches it.
    """
    if op.arity is not None and len(operands) != op.arity:
        raise TypeError(f"{op.name}: takes {op.arity} operands, got {len(operands)}")
    return _record(op, tuple(as_value(x, op.name) for x in operands))


def _record(op: Op, parents: tuple[Value, ...]) -> Value:
    try:
        data = op.forward(*[p.data for p in parents])
    except TypeError:  # (float's own methods refuse an int that was assigned to .data)
        if not _repair_data(op, parents):
            raise
        data = op.forward(*[p.data for p in parents])
    return _node(op, parents, data)


def _repair_data(op: Op, parents: tuple[Value, ...]) -> bool:
    """After an op's forward refused its operands: a ``.data`` assigned an int, bool or
    numpy number (``p.data = 0``, micrograd's int bias) becomes the float it stands for
    -- True if one did; anything else assigned to ``.data`` is a clear error."""
    repaired = False
    for position, parent in enumerate(parents, 1):
        data = parent.data
        if type(data) is float:
            continue
        if _is_real_number(data):
            parent.data = _to_float(data, f"{op.name}: operand {position}'s .data")
            repaired = True
        else:
            raise TypeError(
                f"{op.name}: operand {position} has .data = {data!r:.60} "
                f"({type(data).__name__}); a Value's data must be a number. It was assigned "
                "directly -- to copy another Value's number write p.data = q.data, not "
                "p.data = q")
    return repaired


def _node(op: Op, parents: tuple[Value, ...], data: float) -> Value:
    """The node for ``data = op(parents)``: refuses inf and nan, records the graph
    unless inside no_grad."""
    if data - data != 0.0:  # inf or nan: refuse instead of propagating it silently
        raise _non_finite_error(op, parents, data)
    node = _new_value(Value)
    node._number = _next_number()
    node.data = data
    node.grad = 0.0
    if not _plain:  # a grad-mode switch somewhere: this thread's mode decides
        return _attach(node, op, parents)
    node._operation = op
    arity = op.arity  # (_link's work, inline for what comes here most: dot and relu)
    if arity is None:
        node._a = parents
        node._b = _NARY
    elif arity == 1:
        node._a = parents[0]
        node._b = None
    else:
        _link(node, op, parents)
    return node


_NARY = object()  # ``_b`` of a node whose ``_a`` holds its operands as a tuple


def _link(node: Value, op: Op, parents: tuple[Value, ...]) -> None:
    """Store a node's operands: in ``_a`` (and ``_b``) for an op of one or two operands,
    else as the tuple in ``_a`` with ``_b = _NARY``."""
    arity = op.arity
    if arity == 2:
        node._a, node._b = parents
    elif arity == 1:
        node._a = parents[0]
        node._b = None
    elif parents:
        node._a = parents
        node._b = _NARY
    else:
        node._a = node._b = None


def _attach(node: Value, op: Op, parents: tuple[Value, ...]) -> Value:
    """Record a new node as this thread's grad mode says: in the graph (and, while jit
    traces, in the trace's list of every node made), or as a leaf inside no_grad."""
    mode = _grad_mode.enabled
    if mode:
        node._operation = op
        _link(node, op, parents)
        if mode is not True:  # a jit trace is recording
            mode.nodes.append(node)
    else:
        node._operation = _LEAF
        node._a = node._b = None
    return node


def _non_finite_error(op: Op, parents: tuple[Value, ...], data: float) -> Exception:
    operands = ", ".join(repr(p.data) for p in parents)
    for position, parent in enumerate(parents, 1):
        if parent.data - parent.data != 0.0:  # the operand itself is inf or nan
            return ValueError(
                f"{op.name}: operand {position} of {op.name}({operands}) is {parent.data!r}; "
                "a Value's data must be a finite number. It was set directly (for example "
                "p.data -= lr * p.grad after a step that diverged): lower the learning rate, "
                "or find the assignment that stored it"
            )
    return OverflowError(
        f"{op.name}: result {data!r} of {op.name}({operands}) is not a finite float (it "
        "overflows); rescale the operands so the result fits in a float"
    )


def _record_unary(op: Op, parent: Value) -> Value:
    """:func:`_record` for one operand, without building an argument list."""
    try:
        data = op.forward(parent.data)
    except TypeError:  # (see _record)
        return _record(op, (parent,))
    return _node(op, (parent,), data)


# ---------------------------------------------------------------------------
# The node.


class _ConstantGrad:
    """``grad`` of a constant: always 0.0, and writes are ignored, so the chain rule
    can credit every operand without asking which ones are constants."""

    def __get__(self, node: Any, owner: Any = None) -> Any:
        return self if node is None else 0.0

    def __set__(self, node: Any, value: float) -> None:
        pass


class Value:
    """A scalar that remembers how it was computed, so it can be differentiated.

    ``data`` is the number (always a finite float), ``grad`` the derivative of
    the last ``backward()`` root with respect to it. ``op`` names the operation
    that made it ("" for a leaf) and ``parents`` are its operands, in order.

    Every operation accepts Values or plain numbers on either side:
    ``+ - * / ** %``, unary ``-``, ``abs()``, and the methods ``exp log sqrt tanh
    sigmoid relu step sin cos tan asin acos atan sinh cosh log1p expm1``. Their
    derivative rules live in :mod:`autograd.ops`, with the functional forms
    (``autograd.exp(x)`` and so on) that work on floats and Values alike.
    """

    # ``__dict__`` holds what a node rarely has: a label, and attributes a user sets
    # (``p.m = 0.0``, optimizer state in micrograd-style code). It is made on first use,
    # so a node without them costs only its pointer.
    # The operands are held in two slots, not a tuple: one GC-tracked object per node
    # instead of two, which halves the collector's work on a large graph (see
    # ``_parents``).
    __slots__ = ("__dict__", "_a", "_b", "_number", "_operation", "data", "grad")

    data: float
    grad: float
    label: str = ""  # (a class default: set, it is stored in the node's __dict__)

    def __init__(self, data: float, label: str = "") -> None:
        if type(data) is float and data - data == 0.0:  # a finite float: the common case
            self.data = data
        else:
            self.data = _to_float(data, "Value")
        self.grad = 0.0
        if label:
            self.label = label
        self._number = _next_number()
        self._operation = _LEAF
        self._a = self._b = None

    # -- read-only structure ------------------------------------------------

    @property
    def op(self) -> str:
        """The name of the operation that produced this node; "" for a leaf."""
        return self._operation.name

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands of ``op``, in operand order (empty for a leaf)."""
        return self._parents

    @property
    def _parents(self) -> tuple[Value, ...]:
        """The operands as a tuple. A node stores them in two slots: ``_a`` and ``_b``
        for one or two operands (``_b`` None for one, both None for a leaf), or the tuple
        in ``_a`` with ``_b`` set to ``_NARY`` for an op of any other arity."""
        a = self._a
        if a is None:
            return ()
        b = self._b
        if b is None:
            return (a,)
        return a if b is _NARY else (a, b)

    @_parents.setter
    def _parents(self, parents: tuple[Value, ...]) -> None:
        _link(self, self._operation, tuple(parents))

    @property
    def is_leaf(self) -> bool:
        """True for inputs, parameters and constants: nodes no operation produced."""
        return self._a is None

    @property
    def is_constant(self) -> bool:
        """True for a leaf made from a plain number taking part in an operation."""
        return self._operation is _CONSTANT

    def __repr__(self) -> str:
        extra = f", op={self.op!r}" if self._parents else ""
        extra += f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{extra})"

    # -- the number, PyTorch's habits -------------------------------------------
    # Each of these reads .data and returns a plain Python number or bool: none is
    # differentiable and none records a node (PyTorch's ``.item()`` and comparisons
    # behave the same way). Under ``jit`` tracing they are refused like ``.data``.

    def item(self) -> float:
        """The number, as a Python float (``v.item() == v.data``); not differentiable."""
        _report_read("item()")
        return self.data

    def __float__(self) -> float:
        """``float(v)``: the number -- only where no gradient can be lost: for a constant,
        or inside ``no_grad()``. Elsewhere it raises TypeError, as JAX refuses to turn a
        traced value into a float: ``float(v)`` is also what ``math.exp(v)``,
        ``math.sqrt(v)`` and ``np.float64(v)`` call, and the float they return is cut off
        from the graph, so every gradient through it would silently be 0. Read the number
        with ``v.item()`` or ``v.data``; differentiate with ``v.exp()`` or
        ``autograd.exp(v)``."""
        _report_read("float()")
        if self._operation is _CONSTANT or not _grad_mode.enabled:
            return self.data
        raise TypeError(
            f"float() of {self!r}: turning a Value into a Python float cuts it out of the "
            "graph, so no gradient would flow through what is computed from it (this is "
            "what math.exp(v), math.sqrt(v), '%f' % v and np.float64(v) do). For the "
            "differentiable operation use the Value's method or chainrule's function: "
            "v.exp(), v.log(), v.sqrt(), v.tanh(), v.sigmoid(), autograd.exp(v), ...; to "
            "read the number use v.item() or v.data (f'{v:.4f}' formats it); where a plain "
            "number is really meant, compute inside `with no_grad():`"
        )

    def __int__(self) -> int:
        """``int(v)``: the number truncated toward zero, like ``int(float)``."""
        _report_read("int()")
        return int(self.data)

    def __bool__(self) -> bool:
        """``bool(v)`` and ``if v:``: ``v.data != 0``, as for a float."""
        _report_read("bool()")
        return self.data != 0.0

    def __round__(self, ndigits: int | None = None) -> float | int:
        """``round(v, n)``: ``round(v.data, n)``, a plain number."""
        _report_read("round()")
        return round(self.data, ndigits)

    def __format__(self, spec: str) -> str:
        """``f"{v:.4f}"`` formats the number; ``f"{v}"`` (no spec) is ``repr(v)``."""
        _report_read("format()")
        return format(self.data, spec) if spec else repr(self)

    # Ordering comparisons read .data on both sides and return a plain bool, so
    # ``if v > 0:``, ``max(values)`` and ``sorted(values)`` work. ``==`` between two
    # Values is identity, micrograd's meaning (a node is a node): ``v in nodes``,
    # ``nodes.index(v)`` and ``nodes.remove(v)`` find that node, as hand-written graph
    # walks expect, and agree with hashing (by identity, so Values are dict keys and
    # set members). ``v == 0`` (a number on one side) compares the number.

    __eq__ = _comparison("==", operator.eq, identity=True)
    __ne__ = _comparison("!=", operator.ne, identity=True)
    __lt__ = _comparison("<", operator.lt)
    __le__ = _comparison("<=", operator.le)
    __gt__ = _comparison(">", operator.gt)
    __ge__ = _comparison(">=", operator.ge)
    __hash__ = object.__hash__  # by identity: a node is a node, whatever its number

    # -- arithmetic ---------------------------------------------------------

    def _binary(self, op: Op, other: Any, reflected: bool) -> Value:
        if not isinstance(other, Value):
            if not _is_real_number(other):
                if hasattr(other, "__array_ufunc__"):
                    return NotImplemented  # a numpy array: let numpy broadcast over Values
                raise TypeError(
                    f"{op.name}: unsupported operand of type {type(other).__name__} "
                    f"({other!r:.60}); operands must be Values or real numbers "
                    "(chainrule works over the reals)"
                )
            other = _constant(other, op.name)
        return _record(op, (other, self) if reflected else (self, other))

    def __add__(self, other: Any) -> Value:
        """a + b"""
        return self._binary(_ADD, other, False)

    def __radd__(self, other: Any) -> Value:
        return self._binary(_ADD, other, True)

    def __sub__(self, other: Any) -> Value:
        """a - b"""
        return self._binary(_SUB, other, False)

    def __rsub__(self, other: Any) -> Value:
        return self._binary(_SUB, other, True)

    def __mul__(self, other: Any) -> Value:
        """a * b"""
        return self._binary(_MUL, other, False)

    def __rmul__(self, other: Any) -> Value:
        return self._binary(_MUL, other, True)

    def __truediv__(self, other: Any) -> Value:
        """a / b; raises ZeroDivisionError for b == 0."""
        return self._binary(_DIV, other, False)

    def __rtruediv__(self, other: Any) -> Value:
        return self._binary(_DIV, other, True)

    def __pow__(self, other: Any) -> Value:
        """x ** c for a number c, or x ** y for a Value y (then x must be > 0).

        A negative base with a fractional exponent raises ValueError rather
        than returning a complex number.
        """
        if isinstance(other, Value) and not other.is_constant:
            return _record(_POWV, (self, other))
        return self._binary(_POW, other, False)

    def __rpow__(self, other: Any) -> Value:
        """c ** y for a number c > 0: d/dy = c**y * log(c)."""
        return self._binary(_RPOW, other, True)

    def __neg__(self) -> Value:
        return _record(_NEG, (self,))

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return self.abs()

    # -- functions (forward formulas and derivatives: autograd.ops) ---------

    def exp(self) -> Value:
        """e**x; raises OverflowError for x > 709.78."""
        return _record_unary(_UNARY_OPS["exp"], self)

    def log(self) -> Value:
        """Natural logarithm; raises ValueError for x <= 0."""
        return _record_unary(_UNARY_OPS["log"], self)

    def sqrt(self) -> Value:
        """Square root; raises ValueError for x < 0."""
        return _record_unary(_UNARY_OPS["sqrt"], self)

    def tanh(self) -> Value:
        """Hyperbolic tangent; d/dx = 1 - tanh(x)**2."""
        return _record_unary(_UNARY_OPS["tanh"], self)

    def sigmoid(self) -> Value:
        """Logistic function 1 / (1 + e**-x); d/dx = s(x) (1 - s(x))."""
        return _record_unary(_UNARY_OPS["sigmoid"], self)

    def relu(self) -> Value:
        """max(0, x); d/dx = 1 for x > 0, else 0."""
        x = self.data  # the op table's forward, inlined: relu runs once per hidden neuron
        if type(x) is not float:
            _repair_data(_RELU, (self,))
            x = self.data
        return _node(_RELU, (self,), x if x > 0.0 else 0.0)

    def step(self) -> Value:
        """Heaviside step 1[x > 0]; its derivative is 0 (it passes no gradient)."""
        return _record_unary(_UNARY_OPS["step"], self)

    def abs(self) -> Value:
        """|x|; d/dx = sign(x), 0 at 0."""
        return _record_unary(_UNARY_OPS["abs"], self)

    def sin(self) -> Value:
        """Sine; d/dx = cos(x)."""
        return _record_unary(_UNARY_OPS["sin"], self)

    def cos(self) -> Value:
        """Cosine; d/dx = -sin(x)."""
        return _record_unary(_UNARY_OPS["cos"], self)

    def tan(self) -> Value:
        """Tangent; d/dx = 1 + tan(x)**2."""
        return _record_unary(_UNARY_OPS["tan"], self)

    def asin(self) -> Value:
        """Arcsine; raises ValueError outside [-1, 1]; d/dx = 1 / sqrt(1 - x**2)."""
        return _record_unary(_UNARY_OPS["asin"], self)

    def acos(self) -> Value:
        """Arccosine; raises ValueError outside [-1, 1]; d/dx = -1 / sqrt(1 - x**2)."""
        return _record_unary(_UNARY_OPS["acos"], self)

    def atan(self) -> Value:
        """Arctangent; d/dx = 1 / (1 + x**2)."""
        return _record_unary(_UNARY_OPS["atan"], self)

    def sinh(self) -> Value:
        """Hyperbolic sine; d/dx = cosh(x)."""
        return _record_unary(_UNARY_OPS["sinh"], self)

    def cosh(self) -> Value:
        """Hyperbolic cosine; d/dx = sinh(x)."""
        return _record_unary(_UNARY_OPS["cosh"], self)

    def log1p(self) -> Value:
        """log(1 + x), exact for tiny x (log1p(1e-20) == 1e-20); raises for x <= -1."""
        return _record_unary(_UNARY_OPS["log1p"], self)

    def expm1(self) -> Value:
        """e**x - 1, exact for tiny x (expm1(1e-20) == 1e-20); d/dx = e**x."""
        return _record_unary(_UNARY_OPS["expm1"], self)

    def __mod__(self, other: Any) -> Value:
        """a % b = a - b floor(a / b), with the sign of b (Python's %, torch.remainder);
        d/da = 1, d/db = -floor(a / b)."""
        return self._binary(_MOD, other, False)

    def __rmod__(self, other: Any) -> Value:
        return self._binary(_MOD, other, True)

    # -- graph utilities ----------------------------------------------------

    def detach(self) -> Value:
        """A new leaf with the same data (and label), cut off from this graph."""
        return Value(self.data, self.label)

    def backward(self, grad: float = 1.0) -> None:
        """Backpropagate from this node: fill ``.grad`` of every node it depends on.

        ``grad`` is d(root)/d(self), the seed (1.0 for a loss). Semantics follow
        PyTorch: leaves (inputs and parameters) *accumulate*, so a second
        ``backward()`` adds its gradient to the first; clear them with
        ``zero_grad()`` (or an optimizer's / module's ``zero_grad()``) between
        steps. Interior nodes are overwritten and always hold the gradient of
        the most recent backward pass. The graph is not consumed: backward may
        be called again.
        """
        seed = _to_float(grad, "backward")
        if self._a is None:
            self.grad += seed
            return
        interior = _interior_nodes(self)
        # Pass 2: the chain rule. Each node's grad is complete when its turn comes;
        # it adds grad(node) * local to each operand (see _chain_rule_pass).
        self.grad = seed
        _chain_rule_pass(interior)

    # -- micrograd's names for the graph (the lecture's cells use them) ------------

    @property
    def _prev(self) -> set[Value]:
        """micrograd's ``_prev``: the set of this node's operands (``parents`` is the same
        in operand order, as a tuple, with a repeated operand listed twice)."""
        return set(self._parents)

    @property
    def _op(self) -> str:
        """micrograd's ``_op``: the operation as micrograd labels it -- ``''`` for a leaf,
        ``'+'``, ``'-'``, ``'*'``, ``'/'``, ``'**2'`` (the exponent written in), ``'ReLU'``,
        ``'tanh'``, ``'exp'``; other ops by name (``'sigmoid'``, ``'dot'``, ...). chainrule
        records ``a - b`` and ``a / b`` as one node each, where micrograd builds them from
        ``+``, ``*`` and ``**-1``."""
        if not self._parents:
            return ""
        op = self._operation
        if op is _POW:
            exponent = self._parents[1].data
            return f"**{int(exponent) if exponent.is_integer() else exponent!r}"
        return _MICROGRAD_NAMES.get(op.name, op.symbol if op.symbol in _OPERATORS else op.name)

    # -- copying and pickling -------------------------------------------------

    def __reduce_ex__(self, protocol: Any) -> Any:
        """``pickle`` and ``copy.deepcopy`` of a node copy the graph it depends on, as one
        flat table in topological order (so any depth works): leaves (parameters,
        inputs, constants) are pickled as themselves, so a leaf shared with other
        pickled objects -- a model's parameters -- stays one object; each interior node
        is a row (op by name, operand positions, data, grad, attributes). The copies
        are numbered in creation order like any new node. An interior node that two
        separately pickled Values share is copied for each (the leaves' gradients are
        the same either way)."""
        attributes = self.__dict__ or None  # a label, attributes a user set
        if self._operation is _CONSTANT:
            return (_restore_constant, (self.data,))
        if not self._parents:
            return (_restore_leaf, (self.data, self.grad), attributes)
        position: dict[Value, int] = {}
        table: list[Any] = []
        for node in topological_order(self):
            position[node] = len(table)
            if node._parents:
                table.append((node._operation, tuple(position[p] for p in node._parents),
                              node.data, node.grad, node.__dict__ or None))
            else:
                table.append(node)
        return (_restore_graph, (table,))

    def zero_grad(self) -> None:
        """Set ``grad`` to 0.0 on this node and on every node it depends on."""
        for node in topological_order(self):
            node.grad = 0.0


def _interior_nodes(root: Value) -> list[Value]:
    """Pass 1 of :meth:`Value.backward`: the interior nodes ``root`` depends on (leaves
    are never traversed), in reverse topological order, with their grads reset to 0.

    Nodes are numbered as they are created and every node is created after its
    operands, so decreasing number is a reverse topological order. A node is marked as
    found by its reset grad: this pass's own zero, a float object made for it (``is``
    tells it from every other 0.0; an older pass's zero is still held by its nodes, so
    it cannot be this one), which is cheaper than a set of the nodes found."""
    found = float(0)
    root.grad = found
    interior = [root]
    append = interior.append
    for node in interior:  # the list grows as the walk finds nodes (breadth first)
        a, b = node._a, node._b
        if b is _NARY:
            for parent in a:
                if parent._a is not None and parent.grad is not found:
                    parent.grad = found
                    append(parent)
            continue
        if a._a is not None and a.grad is not found:
            a.grad = found
            append(a)
        if b is not None and b._a is not None and b.grad is not found:
            b.grad = found
            append(b)
    interior.sort(key=_creation_number, reverse=True)
    return interior


def _reference_pass(interior: list[Value]) -> None:
    """Pass 2 of :meth:`Value.backward`: the chain rule at every interior node, in
    reverse topological order, ``parent.grad += node.grad * d(node)/d(parent)``. Every
    result is checked: a gradient that is not finite raises, naming the op where it
    arose. This is the reference; the pass backward runs, :func:`_chain_rule_pass`, is
    written out per op from the op table below and computes the same numbers."""
    chain_rule = _chain_rule_step
    for node in interior:
        g = node.grad
        if g - g != 0.0:  # the sum of finite contributions overflowed
            raise _gradient_error(node, None, g, None)
        op = node._operation
        if op is _DOT:  # d/dw_i = x_i, d/dx_i = w_i, d/db = 1 (ops.py), unrolled
            if g == 0.0:  # finite locals times 0 add nothing (an inactive ReLU unit)
                continue
            _dot_step(node, g)
        elif op is _RELU:  # d/dx relu(x) = 1[x > 0] (ops.py), unrolled
            if node.data > 0.0:  # relu(x) > 0 exactly when x > 0
                parent = node._a
                parent.grad = a = parent.grad + g
                if a - a != 0.0:
                    _refuse_non_finite(node, g)
        else:
            chain_rule(node)


def _dot_step(node: Value, g: float) -> None:
    """The chain rule at a ``dot`` node (w.x + b): d/dw_i = x_i, d/dx_i = w_i, d/db = 1."""
    parents = node._a  # (an n-ary node's operands, as a tuple)
    n = len(parents) >> 1
    check = 0.0  # the sum of the new grads: inf or nan if any of them is
    for w, x in zip(parents, parents[n : 2 * n]):  # (zip stops after n)
        w.grad = a = w.grad + g * x.data
        x.grad = b = x.grad + g * w.data
        check += a + b
    if len(parents) & 1:
        parents[-1].grad = a = parents[-1].grad + g
        check += a
    if check - check != 0.0:  # (or a sum of finite grads overflowed)
        _refuse_non_finite(node, g)


_new_value = object.__new__
_next_number = itertools.count().__next__  # creation order: operands before results
_creation_number = operator.attrgetter("_number")


def _chain_rule_step(self: Value) -> None:
    """One step of backpropagation, micrograd's ``_backward`` (``v._backward()``): the
    chain rule at this node alone, ``parent.grad += self.grad * d(self)/d(parent)`` for
    each operand, with the local derivatives from the op table. ``backward()`` applies
    it to every interior node in reverse topological order (with the rules of ``dot``
    and ``relu`` unrolled: the same arithmetic, the same checks); calling it by hand,
    node by node from the output (after ``out.grad = 1.0``), is the lecture's manual
    backprop. A leaf has nothing to pass on. A gradient or local derivative that is
    not a finite number raises OverflowError naming the operation, as in
    ``backward()``."""
    parents = self._parents
    if not parents:
        return
    g = self.grad
    if g - g != 0.0:  # the sum of finite contributions overflowed
        raise _gradient_error(self, None, g, None)
    op = self._operation
    arity = len(parents)
    try:
        if arity == 1:  # (one and two operands without argument lists: most nodes)
            local = op.local_grads(parents[0].data, self.data)
        elif arity == 2:
            local = op.local_grads(parents[0].data, parents[1].data, self.data)
        else:
            local = op.local_grads(*[p.data for p in parents], self.data)
    except (ZeroDivisionError, OverflowError, ValueError) as error:
        raise _backward_error(self, error) from None
    if arity == 2:  # (unrolled: the same additions and checks as the loop below)
        a, b = parents
        a.grad = da = a.grad + g * local[0]  # constants ignore this: their grad stays 0
        b.grad = db = b.grad + g * local[1]
        if da - da == 0.0 and db - db == 0.0:
            return
        _refuse_non_finite(self, g)  # (b.grad when a is b; a constant's grad stays 0)
        return
    for slot, (parent, d) in enumerate(zip(parents, local)):
        parent.grad += g * d  # constants ignore this: their grad stays 0
        if parent.grad - parent.grad != 0.0:  # inf or nan (0 * inf included)
            raise _gradient_error(self, slot, g, d)


class _MicrogradBackward:
    """``v._backward``: micrograd's name for one node's step of backpropagation
    (:func:`_chain_rule_step`), a bound method. Assigning it (micrograd's
    ``out._backward = fn``) is refused: chainrule's steps come from the op table, which
    ``backward()`` reads -- a function stored on the node would never run."""

    def __get__(self, node: Any, owner: Any = None) -> Any:
        return self if node is None else _chain_rule_step.__get__(node, owner)

    def __set__(self, node: Any, value: Any) -> None:
        raise AttributeError(
            "_backward cannot be assigned: chainrule computes every node's step of the chain "
            "rule from the op table (backward() would never call a function stored here); "
            "for an operation of your own, define it with autograd.custom_op(name, forward, "
            "local_grads)")


Value._backward = _MicrogradBackward()  # type: ignore[assignment,method-assign]


class _Constant(Value):
    """A number taking part in an operation (``x * 2``): a leaf with no gradient."""

    __slots__ = ()
    grad = _ConstantGrad()  # type: ignore[assignment]



# ---------------------------------------------------------------------------
# The hot path, written out per op from the op table.
#
# Value's arithmetic and functions in the class body go through one generic path
# (_record: the op's forward, then _node). They are the reference. The methods that
# code calls most are replaced here by the same methods written out for each op from
# its entry in the op table -- the operator of its code template (``{0} * {1}``) or
# else its forward function, the same finiteness check, the node made inline -- which
# saves a few Python calls per node. Anything the fast path does not handle (an
# operand that is neither a Value nor an int or float, a result that is not a finite
# float, a .data that was assigned an int) goes to the generic path, which repairs or
# raises exactly as before. Likewise the backward pass: _reference_pass calls each
# op's local_grads; _chain_rule_pass has the common ops' local derivatives written in
# from their code templates. tests/test_engine_fast.py checks both against the
# reference: the same numbers, the same graph, the same errors.

#: binary methods: name -> (op, reflected)
_FAST_BINARY = {
    "__add__": ("add", False), "__radd__": ("add", True),
    "__sub__": ("sub", False), "__rsub__": ("sub", True),
    "__mul__": ("mul", False), "__rmul__": ("mul", True),
    "__truediv__": ("div", False), "__rtruediv__": ("div", True),
    "__pow__": ("pow", False),
}
#: unary methods: name -> op (relu is written out by hand in the class)
_FAST_UNARY = {"__neg__": "neg", **{name: name for name in (
    "exp", "log", "sqrt", "tanh", "sigmoid", "step", "abs", "sin", "cos", "tan", "asin",
    "acos", "atan", "sinh", "cosh", "log1p", "expm1")}}
#: ops whose local derivatives are written into the backward pass, in the order it
#: tests for them: add and mul (most nodes of generic code), then -- written by hand --
#: dot and relu (a network's neurons), then the rest; the others call their local_grads
_FAST_BACKWARD = ("add", "mul", "sub", "tanh", "exp", "neg", "div", "log", "sigmoid",
                  "sqrt")
_BEFORE_DOT = 2  # how many of them are tested for before dot and relu

_BINARY_SOURCE = """
def {method}(self, other):
    if isinstance(other, Value):{value_exponent}
        pass
    elif type(other) is float or type(other) is int:
        other = _constant(other, {name!r})
    else:
        return self._binary(_op, other, {reflected})
"""

_UNARY_SOURCE = """
def {method}(self):
"""

#: the rest of either: the forward, then the node made inline (or the generic path)
_NODE_SOURCE = """
    try:
        data = {forward}
    except TypeError:  # a .data assigned something else than a float
        return _record(_op, ({parents},))
    if type(data) is float and data - data == 0.0:
        node = _new_value(Value)
        node._number = _next_number()
        node.data = data
        node.grad = 0.0
        if _plain:
            node._operation = _op
            node._a = {first}
            node._b = {second}
            return node
        return _attach(node, _op, ({parents},))
    return _record(_op, ({parents},))
"""


def _forward_code(op: Op, operands: list[str]) -> str:
    """The forward of ``op`` on the operands' numbers: its code template when that is an
    operator (``{0} * {1}``), else a call of its forward function, ``_forward(...)``."""
    template = op.code[0]
    if template.startswith(op.name + "("):  # a helper, the op's own forward
        return f"_forward({', '.join(operands)})"
    return template.format(*operands)


def _define(source: str, name: str, **closure: Any) -> Callable[..., Any]:
    """The function ``name`` defined by ``source`` in this module's globals (so it reads
    ``_plain`` as it changes), with ``closure``'s names bound. Its file is this one: a
    jit trace counts the reads of ``.data`` it makes as the engine's own."""
    indented = "\n".join("    " + line for line in source.splitlines())
    factory = f"def _factory({', '.join(closure)}):\n{indented}\n    return {name}\n"
    namespace: dict[str, Any] = {}
    exec(compile(factory, __file__, "exec"), globals(), namespace)
    return namespace["_factory"](**closure)


def _compile_method(source: str, method: str, op: Op) -> Callable[..., Any]:
    function = _define(source, method, _op=op, _forward=op.forward)
    reference = Value.__dict__[method]
    function.__doc__ = reference.__doc__
    function.__qualname__ = f"Value.{method}"
    return function


def _fast_methods() -> dict[str, Callable[..., Any]]:
    methods = {}
    for method, (name, reflected) in _FAST_BINARY.items():
        op = OPS[name]
        first, second = ("other", "self") if reflected else ("self", "other")
        value_exponent = ("\n        if other._operation is not _CONSTANT:  # x ** y, y a Value"
                          "\n            return _record(_POWV, (self, other))"
                          if name == "pow" else "")
        source = _BINARY_SOURCE.format(
            method=method, name=name, reflected=reflected, value_exponent=value_exponent
        ) + _NODE_SOURCE.format(forward=_forward_code(op, [f"{first}.data", f"{second}.data"]),
                                parents=f"{first}, {second}", first=first, second=second)
        methods[method] = _compile_method(source, method, op)
    for method, name in _FAST_UNARY.items():
        op = OPS[name]
        source = _UNARY_SOURCE.format(method=method) + _NODE_SOURCE.format(
            forward=_forward_code(op, ["self.data"]), parents="self", first="self",
            second="None")
        methods[method] = _compile_method(source, method, op)
    return methods


#: the class body's methods, the reference the fast ones are tested against
_REFERENCE_METHODS = {name: Value.__dict__[name] for name in (*_FAST_BINARY, *_FAST_UNARY)}
for _name, _method in _fast_methods().items():
    setattr(Value, _name, _method)


def _backward_branch(name: str) -> str:
    """The chain rule at one ``name`` node, its local derivatives written in from the
    op's code templates (over ``a.data``, ``b.data``, ``node.data``)."""
    op = OPS[name]
    operands = ["a", "b"][: op.arity]
    numbers = {"out": "node.data", **{str(i): f"{p}.data" for i, p in enumerate(operands)}}
    lines = [f"        {'if' if name == _FAST_BACKWARD[0] else 'elif'} op is _op_{name}:",
             f"            {'a = node._a' if op.arity == 1 else 'a, b = node._a, node._b'}"]
    updates = []
    for p, local in zip(operands, op.code[1]):
        local = local.format(*[numbers[str(i)] for i in range(op.arity)], out=numbers["out"])
        term = {"1.0": " + g", "-1.0": " - g"}.get(local, f" + g * ({local})")
        updates.append(f"{p}.grad = d{p} = {p}.grad{term}")
    if any("/" in update for update in updates):  # (sqrt's 0.5 / out at 0, say)
        lines.append("            try:")
        lines += [f"                {update}" for update in updates]
        lines.append("            except (ZeroDivisionError, OverflowError, ValueError):")
        lines.append("                _chain_rule_step(node)  # (raises, naming the op)")
        lines.append("                continue")
    else:
        lines += [f"            {update}" for update in updates]
    check = " or ".join(f"d{p} - d{p} != 0.0" for p in operands)
    lines += [f"            if {check}:", "                _refuse_non_finite(node, g)"]
    return "\n".join(lines)


_PASS_SOURCE = """
def _chain_rule_pass(interior):
    for node in interior:
        g = node.grad
        if g - g != 0.0:  # the sum of finite contributions overflowed
            raise _gradient_error(node, None, g, None)
        op = node._operation
{first}
        elif op is _DOT:
            if g != 0.0:  # (finite locals times 0 add nothing: an inactive ReLU unit)
                _dot_step(node, g)
        elif op is _RELU:
            if node.data > 0.0:
                a = node._a
                a.grad = da = a.grad + g
                if da - da != 0.0:
                    _refuse_non_finite(node, g)
{rest}
        else:
            _chain_rule_step(node)
"""


def _fast_pass() -> Callable[[list[Value]], None]:
    first, rest = _FAST_BACKWARD[:_BEFORE_DOT], _FAST_BACKWARD[_BEFORE_DOT:]
    source = _PASS_SOURCE.format(first="\n".join(map(_backward_branch, first)),
                                 rest="\n".join(map(_backward_branch, rest)))
    function = _define(source, "_chain_rule_pass",
                       **{f"_op_{name}": OPS[name] for name in _FAST_BACKWARD})
    function.__doc__ = ("Pass 2 of Value.backward, as _reference_pass, with the local "
                        f"derivatives of {', '.join(_FAST_BACKWARD)} written in.")
    return function


_chain_rule_pass = _fast_pass()


def _restore_leaf(data: float, grad: float) -> Value:
    node = Value(data)
    node.grad = grad
    return node


def _restore_constant(data: float) -> Value:
    return _constant(data, "pickle")


def _restore_graph(table: list[Any]) -> Value:
    """The graph pickled by Value.__reduce_ex__: rows become nodes, in order, so each
    is made (and numbered) after its operands; returns the last, the pickled node."""
    nodes: list[Value] = []
    for row in table:
        if isinstance(row, Value):
            nodes.append(row)
            continue
        op, operands, data, grad, attributes = row
        node = _new_value(Value)
        node._number = _next_number()
        node.data = data
        node.grad = grad
        node._operation = op
        _link(node, op, tuple(nodes[i] for i in operands))
        if attributes:
            node.__dict__.update(attributes)
        nodes.append(node)
    return nodes[-1]


def topological_order(root: Value) -> list[Value]:
    """All nodes ``root`` depends on, each after its parents; ``root`` comes last.

    Iterative depth-first search, so the depth of the graph is limited only by
    memory (a chain of a million nodes is fine). Parents are visited in
    operand order, so the order is the same on every run.
    """
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node._parents) if p not in visited)
    return order


def _refuse_non_finite(node: Value, g: float) -> None:
    """The check of backward's unrolled steps, after the sum of the grads they updated
    was not finite: raise as the general step does, naming the first operand whose
    grad is not finite (none: finite grads whose sum overflowed, nothing wrong)."""
    parents = node._parents
    for slot, parent in enumerate(parents):
        if parent.grad - parent.grad != 0.0:
            local = node._operation.local_grads(*[p.data for p in parents], node.data)
            raise _gradient_error(node, slot, g, local[slot])


def _gradient_error(node: Value, slot: int | None, g: float, d: float | None) -> Exception:
    """The error for a gradient that is not finite, naming the op where it arose."""
    inputs = ", ".join(repr(p.data) for p in node._parents)
    where = f"backward through {node._operation.name}({inputs})"
    if slot is None:
        what = (f"the gradient reaching it is {g!r}: the gradients flowing into it from "
                "the operations that use it add up to more than a float can hold")
    else:
        what = (f"the gradient of operand {slot + 1} is not a finite number (the incoming "
                f"gradient {g!r} times the local derivative {d!r})")
    return OverflowError(f"{where}: {what}; move the input away from this point or rescale "
                         "the computation")


def _backward_error(node: Value, error: Exception) -> Exception:
    inputs = ", ".join(repr(p.data) for p in node._parents)
    return type(error)(
        f"backward through {node._operation.name}({inputs}): the local derivative is not a "
        f"finite number there ({error}); move the input away from this point"
    )


def backpropagate(
    order: list[Value], grads: dict[Value, Any], *, create_graph: bool = False
) -> dict[Value, Any]:
    """The chain rule over the nodes of ``order``: the loop behind every gradient.

    ``grads`` holds the seeds (usually ``{root: 1.0}``) and receives
    d(root)/d(node) for every node reached; ``.grad`` is not touched. With
    ``create_graph`` the local derivatives are computed with Values, so the
    gradients are themselves differentiable (this is how ``grad(grad(f))``
    works); otherwise everything is plain float arithmetic.

    The rule is the one ``Value.backward`` follows: every operation in ``order``
    has its local derivatives evaluated, whatever gradient reaches it (even 0, or
    none), and a local derivative or a gradient that is not a finite number raises,
    naming the operation. The derivative with respect to a constant is never used.
    """
    # reverse creation order, as Value.backward: both meet a refusal at the same node
    order = sorted(order, key=_creation_number, reverse=True)
    with enable_grad() if create_graph else _NULL_CONTEXT:
        for node in order:
            parents = node._parents
            if not parents:
                continue
            g = grads.get(node)
            op = node._operation
            try:
                numbers = op.local_grads(*[p.data for p in parents], node.data)
                if create_graph and g is not None:
                    local = op.local_grads(
                        *[p.data if p._operation is _CONSTANT else p for p in parents], node
                    )
                else:
                    local = numbers
            except (ZeroDivisionError, OverflowError, ValueError) as error:
                raise _backward_error(node, error) from None
            for slot, (parent, d) in enumerate(zip(parents, numbers)):
                if d - d != 0.0 and parent._operation is not _CONSTANT:
                    raise _gradient_error(node, slot, 0.0 if g is None else _data(g), d)
            if g is None:
                continue  # no gradient reaches this node: its locals were only checked
            for slot, (parent, d) in enumerate(zip(parents, local)):
                if parent._operation is _CONSTANT or (type(d) is float and d == 0.0):
                    continue
                try:
                    contribution = g if (type(d) is float and d == 1.0) else g * d
                    previous = grads.get(parent)
                    total = contribution if previous is None else previous + contribution
                except OverflowError:  # a Value product or sum overflowed (create_graph)
                    raise _gradient_error(node, slot, _data(g), _data(d)) from None
                if type(total) is float and total - total != 0.0:
                    raise _gradient_error(node, slot, _data(g), _data(d))
                grads[parent] = total
    return grads


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


_NULL_CONTEXT = _NullContext()

