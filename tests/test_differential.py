"""The differential fuzz: random expression DAGs over every op, at ordinary, extreme and
tied inputs, evaluated by every path chainrule has and judged against exact arithmetic.

A DAG is data -- a :class:`Program`, a list of instructions over node numbers and
constants -- so one definition runs everywhere:

* chainrule: eager ``Value`` + ``backward()``, ``value_and_grad`` and ``grad``,
  ``hessian`` (on about a third of the DAGs), ``jvp`` along a random direction,
  ``jit(f)`` per sample and ``jit(f).batch`` over the sample and a few more rows;
* PyTorch float64, where it is installed (only that comparison is skipped without it);
* the judge: the same instructions over exact reals -- ``fractions.Fraction`` while the
  arithmetic is rational, mpmath at 400 bits and more where it is not (the result is
  accepted only when 400 and 800 bits, or 3200 and 6400, agree) -- with derivative rules
  written here from the textbooks, independently of chainrule's op table.

At points where an op is not differentiable the judge takes the conventions chainrule
documents (and PyTorch shares): relu'(0) = 0, |x|'(0) = 0, a tie of maximum / minimum
splits the gradient in half, d/db (a mod b) = -floor(a / b), x ** 0 has derivative 0,
d/dy 0 ** y = 0. Where a factor is zero on a whole neighbourhood (stop_gradient, step,
relu of a negative number, the losing side of maximum, a product with the constant 0)
the chain rule passes nothing through it, so an infinite local derivative behind it
does not make the derivative undefined.

How a number is judged against the truth T: it agrees if it is within
``1e-9 |T| + 8 * 2**-1074`` (eight subnormal steps: the rule for a truth that is 0 or
subnormal). Where float64 cannot do that well at this point -- cancellation, a tie or a
kink decided by rounding, an underflow, sin of 1e308 -- it "agrees within rounding" if it
is also within what rounding alone can do to this DAG here, the sum of:

* E: twice the largest distance from T of the same DAG run by simulated floats of 44,
  47, 50 and 53 bits with float64's range (subnormals and overflow included, the
  gradient accumulated in reverse order as reverse-mode engines do);
* 8 u L: the first-order effect of rounding every node by one ulp (L is the sum over
  nodes of |d quantity / d (relative rounding of the node)|, mixed second derivatives
  for the gradient);
* 32 u S: a sum regrouped -- another path's order, a vectorized dot, chainrule's
  z_k - logsumexp(z) for log_softmax -- rounds at u times the size S of its terms (the
  same sum over paths with every term's absolute value).

E is taken a second time with the textbook formulas that use the rounded output --
1 - tanh^2, s (1 - s), 1 + tan^2, expm1 + 1, exp(x_i - logsumexp) -- as chainrule and
PyTorch compute them: "agree within the textbook formulas' rounding" is float64's
resolution of those formulas (d/dx tanh(20) comes out 0.0, the truth is 1.7e-17), not
1e-9.

Every DAG lands in one row of the table:

* agree (to 1e-9), agree within rounding, agree within the textbook formulas' rounding:
  value and gradient (and jvp, Hessian where computed) as above;
* both refuse: chainrule raises ValueError, ZeroDivisionError or OverflowError and the
  truth is undefined, infinite, or beyond the float range;
* over-refusal: chainrule refuses where the value and gradient are finite floats -- with
  the cause: an intermediate beyond the float range (any float64 evaluation of the DAG
  overflows there), rounding onto a domain edge (the simulated floats refuse too), an
  infinite local derivative behind a zero factor (chainrule's documented rule: every
  local derivative is evaluated), ...; with none, it is a bug;
* refused, truth out of reach: chainrule refuses and an intermediate is beyond
  2^(2^1030) (exp of exp of 1e300), where the judge stops; every float evaluation
  overflows there;
* rounding defines it: the truth is undefined (asin of tanh(20) - 1 + 1e-17, say) but
  float64 rounds the DAG into its domain, as the simulated floats do;
* silent non-finite: any path returned an inf or a nan (must never happen);
* disagreement: a finite answer outside the tolerance, or an answer where the truth is
  undefined -- with who is right (chainrule, PyTorch, or neither);
* truth unknown: the judge could not settle the truth (more digits did not agree, or a
  value depends on the sign of a zero, which exact arithmetic has not got).

The paths are also checked against each other: eager, value_and_grad, grad and jit
give the same numbers (bit for bit, or to 1e-12, or both within rounding when a path
sums in another order) and refuse alike (the same exception class, unless rounding alone
decides whether the answer overflows); .batch gives eager's numbers row by row and
refuses when eager refuses a row. What the fuzz found and is not fixed yet is in KNOWN,
each with a reproducer test (xfail) at the end of this file.

The regular suite runs a few hundred DAGs from fixed seeds. For a long run::

    CHAINRULE_FUZZ=20000 python -m pytest -q -s tests/test_differential.py

(``CHAINRULE_FUZZ_SEED`` picks another seed) prints the classification table.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest

from autograd import (
    Value,
    atan2,
    dot,
    grad,
    hessian,
    jit,
    jvp,
    log_softmax,
    logsumexp,
    maximum,
    minimum,
    softmax,
    stop_gradient,
    topological_order,
    value_and_grad,
)
from autograd.ops import OPS

FUZZ = int(os.environ.get("CHAINRULE_FUZZ", "240"))
SEED = int(os.environ.get("CHAINRULE_FUZZ_SEED", "2024"))
REFUSALS = (ValueError, ArithmeticError)  # ZeroDivisionError and OverflowError among them
RTOL = 1e-9  # agreement with the truth, relative
PATH_RTOL = 1e-12  # agreement of chainrule's paths with each other
TINY = 8 * 2.0**-1074  # eight subnormal steps: the absolute floor of every tolerance
SUM_SLACK = 32 * 2.0**-53  # a sum regrouped (another path's order) rounds at u * its terms
LINEAR_SLACK = 8 * 2.0**-53  # each node rounded by up to 1 ulp (2u), with a margin
LADDER_BITS = (44, 47, 50, 53)  # the simulated floats whose spread around the truth is E/2
TRUTH_BITS = ((400, 800), (3200, 6400))  # the judge's precisions, tried in turn

# ---------------------------------------------------------------------------
# The program: a DAG as data

UNARY = ("neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "step", "sin", "cos",
         "tan", "asin", "acos", "atan", "sinh", "cosh", "log1p", "expm1", "stop_gradient")
BINARY = ("add", "sub", "mul", "div", "pow", "mod", "atan2", "maximum", "minimum")
VECTOR = ("dot", "logsumexp", "softmax", "log_softmax")
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "mod": "%"}

#: inputs at the ends of the float range, at domain edges and at 1e16-scale ties
EXTREME = (1e-300, 1e300, 1e154, 1e-162, 0.0, -0.0, 1e16, 1e16 + 2.0, 709.782712893384,
           710.0, -745.0, 1e-310, 5e-324, 1.7976931348623157e308, 2.0**53,
           1.5707963267948966, 1.0 - 2.0**-53, 1e-8, 20.0, 40.0, 1.0, -1.0, 0.5)
SIMPLE = (0.0, 1.0, -1.0, 0.5, 2.0, 3.0, -2.0)
CONSTANTS = (2.0, -0.5, 1.5, 3.0, 0.0, 1.0, -1.0, 0.5, 1e-300, 1e300, 1e16, 709.0, 1e-8)
EXPONENTS = (2.0, 3.0, 0.5, -1.0, 1.5, 0.0, 1.0, -2.0, -0.5, 1.0 / 3.0)
BASES = (2.0, 0.5, 10.0, math.e, 0.0, 1.0, -2.0)


@dataclass
class Program:
    """Instructions ``(op, operands, extra)``; node i < n_inputs is input i, node
    n_inputs + k is instruction k's result, and an operand is a node number (int) or a
    constant (float). ``extra`` is dot's has-bias flag, softmax's output index, or None.
    The output is the last node."""

    n_inputs: int
    instructions: list[tuple[str, tuple, Any]] = field(default_factory=list)

    def __call__(self, x: Any, ops: dict) -> Any:
        nodes = list(x)
        for name, operands, extra in self.instructions:
            args = [nodes[o] if type(o) is int else o for o in operands]
            nodes.append(ops[name](args, extra))
        return nodes[-1]

    def source(self) -> str:
        """The program as Python over chainrule, for a reproducer."""
        names = [f"x[{i}]" for i in range(self.n_inputs)]
        lines = ["def f(x):"]
        for k, (name, operands, extra) in enumerate(self.instructions):
            args = [names[o] if type(o) is int else repr(o) for o in operands]
            if name in SYMBOLS:
                text = f"{args[0]} {SYMBOLS[name]} {args[1]}"
            elif name == "neg":
                text = f"-{args[0]}"
            elif name == "abs":
                text = f"abs({args[0]})"
            elif name in ("atan2", "maximum", "minimum", "stop_gradient"):
                text = f"{name}({', '.join(args)})"
            elif name == "dot":
                n = len(args) // 2
                bias = f", {args[-1]}" if extra else ""
                text = f"dot([{', '.join(args[:n])}], [{', '.join(args[n:2 * n])}]{bias})"
            elif name == "logsumexp":
                text = f"logsumexp([{', '.join(args)}])"
            elif name in ("softmax", "log_softmax"):
                text = f"{name}([{', '.join(args)}])[{extra}]"
            else:
                text = f"{args[0]}.{name}()"
            names.append(f"v{k}")
            lines.append(f"    v{k} = {text}")
        lines.append(f"    return v{len(self.instructions) - 1}")
        return "\n".join(lines)


def random_program(rng: np.random.Generator) -> Program:
    """1-3 inputs and 1-8 instructions, each reading recent nodes more often than old
    ones (so nodes are shared) and now and then a constant."""
    program = Program(int(rng.integers(1, 4)))
    size = program.n_inputs
    names = UNARY + BINARY + VECTOR

    def node() -> int:
        if rng.random() < 0.6:
            return int(rng.integers(max(0, size - 3), size))
        return int(rng.integers(size))

    def operand() -> int | float:
        return node() if rng.random() < 0.8 else float(rng.choice(CONSTANTS))

    for _ in range(int(rng.integers(1, 9))):
        name = str(rng.choice(names))
        if name in UNARY:
            operands, extra = (node(),), None
        elif name == "pow":
            kind = rng.random()
            operands = ((node(), float(rng.choice(EXPONENTS))) if kind < 0.45 else
                        (float(rng.choice(BASES)), node()) if kind < 0.7 else (node(), node()))
            extra = None
        elif name in BINARY:
            operands = (node(), operand())
            if rng.random() < 0.3:
                operands = operands[::-1]
            extra = None
        elif name == "dot":
            n, extra = int(rng.integers(1, 4)), bool(rng.random() < 0.5)
            operands = (node(), *[operand() for _ in range(2 * n - 1 + extra)])
            operands = tuple(rng.permutation(np.array(operands, dtype=object)))
        else:
            operands = (node(), *[operand() for _ in range(int(rng.integers(0, 4)))])
            extra = int(rng.integers(len(operands))) if name != "logsumexp" else None
        program.instructions.append((name, operands, extra))
        size += 1
    if rng.random() < 0.3 and size - program.n_inputs >= 2:  # more nodes on the output's paths
        program.instructions.append(("add", (size - 2, size - 1), None))
    return program


def random_inputs(rng: np.random.Generator, n: int) -> list[float]:
    """Ordinary numbers, extreme ones (random sign), and ties with earlier inputs."""
    xs: list[float] = []
    for _ in range(n):
        kind = rng.random()
        if xs and kind < 0.15:
            tied = xs[int(rng.integers(len(xs)))]
            neighbour = math.nextafter(tied, math.inf if abs(tied) < 1e308 else 0.0)
            xs.append(float(rng.choice([tied, tied, -tied, neighbour])))
        elif kind < 0.5:
            value = float(rng.choice(EXTREME))
            xs.append(-value if rng.random() < 0.3 else value)
        elif kind < 0.65:
            xs.append(float(rng.choice(SIMPLE)))
        else:
            xs.append(float(rng.normal(0.0, float(rng.choice([0.5, 1.0, 3.0])))))
    return xs


# ---------------------------------------------------------------------------
# The engines: chainrule and PyTorch, as tables from op name to a function of the
# operands (Values, tensors or numbers) and the instruction's extra


def _method(name: str):
    return lambda args, extra: getattr(args[0], name)()


def _dot_of(args: list, has_bias: bool) -> Any:
    n = len(args) // 2
    return dot(args[:n], args[n:2 * n], args[-1] if has_bias else None)


CHAINRULE = {
    **{name: _method(name) for name in UNARY},
    "neg": lambda a, _: -a[0],
    "abs": lambda a, _: abs(a[0]),
    "stop_gradient": lambda a, _: stop_gradient(a[0]),
    "add": lambda a, _: a[0] + a[1],
    "sub": lambda a, _: a[0] - a[1],
    "mul": lambda a, _: a[0] * a[1],
    "div": lambda a, _: a[0] / a[1],
    "pow": lambda a, _: a[0] ** a[1],
    "mod": lambda a, _: a[0] % a[1],
    "atan2": lambda a, _: atan2(a[0], a[1]),
    "maximum": lambda a, _: maximum(a[0], a[1]),
    "minimum": lambda a, _: minimum(a[0], a[1]),
    "dot": _dot_of,
    "logsumexp": lambda a, _: logsumexp(a),
    "softmax": lambda a, k: softmax(a)[k],
    "log_softmax": lambda a, k: log_softmax(a)[k],
}


def torch_ops(torch: Any) -> dict:
    """The same table over float64 tensors (constants become tensors where torch needs)."""
    t = lambda a: a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=torch.float64)
    stack = lambda args: torch.stack([t(a) for a in args])
    unary = {name: (lambda f: lambda a, _: f(t(a[0])))(getattr(torch, name))
             for name in UNARY if hasattr(torch, name)}

    def torch_dot(args: list, has_bias: bool) -> Any:
        n = len(args) // 2
        total = sum(t(w) * t(x) for w, x in zip(args[:n], args[n:2 * n]))
        return total + t(args[-1]) if has_bias else total

    return {
        **unary,
        "neg": lambda a, _: -t(a[0]),
        "step": lambda a, _: (t(a[0]) > 0).to(torch.float64),
        "stop_gradient": lambda a, _: t(a[0]).detach(),
        "add": lambda a, _: t(a[0]) + t(a[1]),
        "sub": lambda a, _: t(a[0]) - t(a[1]),
        "mul": lambda a, _: t(a[0]) * t(a[1]),
        "div": lambda a, _: t(a[0]) / t(a[1]),
        "pow": lambda a, _: torch.pow(t(a[0]), t(a[1])),
        "mod": lambda a, _: torch.remainder(t(a[0]), t(a[1])),
        "atan2": lambda a, _: torch.atan2(t(a[0]), t(a[1])),
        "maximum": lambda a, _: torch.maximum(t(a[0]), t(a[1])),
        "minimum": lambda a, _: torch.minimum(t(a[0]), t(a[1])),
        "dot": torch_dot,
        "logsumexp": lambda a, _: torch.logsumexp(stack(a), 0),
        "softmax": lambda a, k: torch.softmax(stack(a), 0)[k],
        "log_softmax": lambda a, k: torch.log_softmax(stack(a), 0)[k],
    }


# ---------------------------------------------------------------------------
# The judge's numbers: exact while rational, mpmath otherwise


def _mp(v: Any) -> Any:
    return mpmath.mpf(v.numerator) / v.denominator if type(v) is Fraction else v


class R:
    """A real number for the judge: a Fraction while the arithmetic is rational, an
    mpf at mpmath's working precision once it is not."""

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def _with(self, other: Any) -> tuple[Any, Any]:
        a, b = self.v, other.v if type(other) is R else Fraction(other)
        if type(a) is Fraction and type(b) is Fraction:
            return a, b
        return _mp(a), _mp(b)

    def __add__(self, other: Any) -> R:
        a, b = self._with(other)
        return R(a + b)

    def __sub__(self, other: Any) -> R:
        a, b = self._with(other)
        return R(a - b)

    def __rsub__(self, other: Any) -> R:
        a, b = self._with(other)
        return R(b - a)

    def __mul__(self, other: Any) -> R:
        a, b = self._with(other)
        return R(a * b)

    def __truediv__(self, other: Any) -> R:
        a, b = self._with(other)
        return R(a / b)

    def __rtruediv__(self, other: Any) -> R:
        a, b = self._with(other)
        return R(b / a)

    __radd__, __rmul__ = __add__, __mul__

    def __pow__(self, k: int) -> R:  # (an integer power: formulas' squares and cubes)
        return R(self.v**k)

    def __neg__(self) -> R:  # (exact: mpmath's - and abs() round to the working precision)
        v = self.v
        return R(-v if type(v) is Fraction else mpmath.mpf(mpmath.libmp.mpf_neg(v._mpf_)))

    def __abs__(self) -> R:
        return -self if self.v < 0 else self

    def __lt__(self, other: Any) -> bool:
        a, b = self._with(other)
        return a < b

    def __gt__(self, other: Any) -> bool:
        a, b = self._with(other)
        return a > b

    def __le__(self, other: Any) -> bool:
        return not self > other

    def __ge__(self, other: Any) -> bool:
        return not self < other

    def __eq__(self, other: Any) -> bool:
        a, b = self._with(other)
        return a == b

    __hash__ = None  # type: ignore[assignment]

    def __float__(self) -> float:
        return float(self.v)

    def is_integer(self) -> bool:
        return self.v.denominator == 1 if type(self.v) is Fraction else mpmath.isint(self.v)

    def sign(self) -> R:
        return R(Fraction((self.v > 0) - (self.v < 0)))

    def floor(self) -> R:
        v = self.v
        return R(Fraction(math.floor(v) if type(v) is Fraction else int(mpmath.floor(v))))


ZERO, ONE, HALF = R(Fraction(0)), R(Fraction(1)), R(Fraction(1, 2))


class TooLarge(Exception):
    """A number too large for the judge to compute with (exp of exp of 1e300)."""


def _function(mp_function: Any, exact: dict[int, int], largest: int) -> Any:
    """An mpmath function on R, exact at the rational points where its value is
    rational (exp(0) = 1, log(1) = 0, sin(0) = 0, ...); TooLarge beyond 2^largest."""
    def function(x: R) -> R:
        if type(x.v) is Fraction and x.v in exact:
            return R(Fraction(exact[x.v]))
        v = _mp(x.v)
        if mpmath.mag(v) > largest:
            raise TooLarge
        result = mp_function(v)
        if isinstance(result, mpmath.mpc):  # (a simulated float rounded past a domain edge)
            raise Undefined(f"{mp_function.__name__} is not real at {mpmath.nstr(v, 17)}")
        return R(result)
    return function


GROWING, PERIODIC, TAME = 1030, 1100, 10**6  # (a float argument is below 2^1024)
exp, expm1 = _function(mpmath.exp, {0: 1}, GROWING), _function(mpmath.expm1, {0: 0}, GROWING)
sinh, cosh = _function(mpmath.sinh, {0: 0}, GROWING), _function(mpmath.cosh, {0: 1}, GROWING)
sin, cos = _function(mpmath.sin, {0: 0}, PERIODIC), _function(mpmath.cos, {0: 1}, PERIODIC)
tan = _function(mpmath.tan, {0: 0}, PERIODIC)
log, log1p = _function(mpmath.log, {1: 0}, TAME), _function(mpmath.log1p, {0: 0}, TAME)
tanh, atan = _function(mpmath.tanh, {0: 0}, TAME), _function(mpmath.atan, {0: 0}, TAME)
asin, acos = _function(mpmath.asin, {0: 0}, TAME), _function(mpmath.acos, {1: 0}, TAME)


def sqrt(x: R) -> R:
    v = x.v
    if type(v) is Fraction:
        p, q = math.isqrt(v.numerator), math.isqrt(v.denominator)
        if p * p == v.numerator and q * q == v.denominator:
            return R(Fraction(p, q))
    return R(mpmath.sqrt(_mp(v)))


def sigmoid(x: R) -> R:
    return 1 / (1 + exp(-x))


def power(x: R, c: R) -> R | None:
    """x ** c over the reals; None where it is infinite (0 ** negative)."""
    if x == 0:
        return ZERO if c > 0 else ONE if c == 0 else None
    if x < 0:
        if not c.is_integer():
            raise Undefined("a negative base with a fractional exponent")
        magnitude = power(-x, c)
        return -magnitude if int(c.v) % 2 else magnitude
    if c.is_integer() and type(x.v) is Fraction and abs(c.v) <= 64:
        return R(x.v ** int(c.v))
    if c == HALF:
        return sqrt(x)
    base, exponent = _mp(x.v), _mp(c.v)
    with mpmath.workprec(53):
        if abs(exponent) > 2**PERIODIC or abs(mpmath.log(base, 2) * exponent) > 2**GROWING:
            raise TooLarge
    return R(mpmath.power(base, exponent))


class Undefined(Exception):
    """The exact function is undefined at this point: the reason."""


# ---------------------------------------------------------------------------
# The judge's rules: value, first and second derivatives of every op, from the
# textbooks (not from chainrule's op table)


@dataclass
class Local:
    """One node: its value, d value / d operand (None: infinite), the second derivatives
    {(i, j): ..., i <= j} (zeros left out), which operands are dead (the derivative is 0
    on a whole neighbourhood), intermediates of the documented algorithm (softmax's
    x - max x), and why the value is unsure (it depends on the sign of a zero)."""

    value: R
    first: list
    second: dict = field(default_factory=dict)
    dead: list = field(default_factory=list)
    hidden: tuple = ()
    unsure: str = ""
    #: the size of the terms the documented algorithm sums into each first and second
    #: derivative, where it is larger than the derivative (softmax's 1 - p_k, computed as
    #: z_k - logsumexp(z) by chainrule): what a regrouped sum may round at
    sizes: tuple = ()


def _domain(ok: bool, reason: str) -> None:
    if not ok:
        raise Undefined(reason)


def _times(a: R | None, b: R | None) -> R | None:
    return None if a is None or b is None else a * b


#: name -> (value, d/dx, d2/dx2), the derivatives as functions of (x, value); ``dead(x)``
#: where the derivative vanishes on a neighbourhood of x
UNARY_RULES: dict[str, tuple] = {
    "neg": (lambda x: -x, lambda x, y: -ONE, lambda x, y: ZERO),
    "abs": (abs, lambda x, y: x.sign(), lambda x, y: ZERO),
    "exp": (exp, lambda x, y: exp(x), lambda x, y: exp(x)),
    "log": (lambda x: _domain(x > 0, "log of a number <= 0") or log(x),
            lambda x, y: 1 / x, lambda x, y: -1 / x**2),
    "sqrt": (lambda x: _domain(x >= 0, "sqrt of a negative number") or sqrt(x),
             lambda x, y: None if x == 0 else 1 / (2 * y),
             lambda x, y: None if x == 0 else -1 / (4 * x * y)),
    "tanh": (tanh, lambda x, y: 1 / cosh(x)**2, lambda x, y: -2 * tanh(x) / cosh(x)**2),
    "sigmoid": (sigmoid, lambda x, y: sigmoid(x) * sigmoid(-x),
                lambda x, y: sigmoid(x) * sigmoid(-x) * (sigmoid(-x) - sigmoid(x))),
    "relu": (lambda x: x if x > 0 else ZERO, lambda x, y: ONE if x > 0 else ZERO,
             lambda x, y: ZERO),
    "step": (lambda x: ONE if x > 0 else ZERO, lambda x, y: ZERO, lambda x, y: ZERO),
    "sin": (sin, lambda x, y: cos(x), lambda x, y: -sin(x)),
    "cos": (cos, lambda x, y: -sin(x), lambda x, y: -cos(x)),
    "tan": (tan, lambda x, y: 1 / cos(x)**2, lambda x, y: 2 * sin(x) / cos(x)**3),
    "asin": (lambda x: _domain(abs(x) <= 1, "asin outside [-1, 1]") or asin(x),
             lambda x, y: None if abs(x) == 1 else 1 / sqrt(1 - x**2),
             lambda x, y: None if abs(x) == 1 else x / sqrt(1 - x**2)**3),
    "acos": (lambda x: _domain(abs(x) <= 1, "acos outside [-1, 1]") or acos(x),
             lambda x, y: None if abs(x) == 1 else -1 / sqrt(1 - x**2),
             lambda x, y: None if abs(x) == 1 else -x / sqrt(1 - x**2)**3),
    "atan": (atan, lambda x, y: 1 / (1 + x**2), lambda x, y: -2 * x / (1 + x**2)**2),
    "sinh": (sinh, lambda x, y: cosh(x), lambda x, y: sinh(x)),
    "cosh": (cosh, lambda x, y: sinh(x), lambda x, y: cosh(x)),
    "log1p": (lambda x: _domain(x > -1, "log1p of a number <= -1") or log1p(x),
              lambda x, y: 1 / (1 + x), lambda x, y: -1 / (1 + x)**2),
    "expm1": (expm1, lambda x, y: exp(x), lambda x, y: exp(x)),
    "stop_gradient": (lambda x: x, lambda x, y: ZERO, lambda x, y: ZERO),
}
DEAD = {"relu": lambda x: x < 0, "step": lambda x: True, "stop_gradient": lambda x: True}

#: the derivatives float engines compute from the rounded output y (chainrule and PyTorch
#: alike): the judge's simulated floats use them for the second envelope (and logsumexp's
#: exp(x_i - out), see _softmax_family)
TEXTBOOK = {
    "tanh": (lambda x, y: 1 - y**2, lambda x, y: -2 * y * (1 - y**2)),
    "sigmoid": (lambda x, y: y * (1 - y), lambda x, y: y * (1 - y) * (1 - 2 * y)),
    "tan": (lambda x, y: 1 + y**2, lambda x, y: 2 * y * (1 + y**2)),
    "expm1": (lambda x, y: y + 1, lambda x, y: y + 1),
}


def _unary_rule(name: str, textbook: bool):
    value, first, second = UNARY_RULES[name]
    if textbook and name in TEXTBOOK:
        first, second = TEXTBOOK[name]
    dead = DEAD.get(name, lambda x: False)

    def rule(args: list[R], const: list[bool], extra: Any) -> Local:
        (x,) = args
        y = value(x)
        return Local(y, [first(x, y)], {(0, 0): second(x, y)}, [dead(x)])
    return rule


def _arithmetic(name: str):
    def rule(args: list[R], const: list[bool], extra: Any) -> Local:
        a, b = args
        zero_const = [c and x == 0 for c, x in zip(const, args)]
        if name == "add":
            return Local(a + b, [ONE, ONE], {}, [False, False])
        if name == "sub":
            return Local(a - b, [ONE, -ONE], {}, [False, False])
        if name == "mul":  # a product with the constant 0 is 0 whatever the other operand
            return Local(a * b, [b, a], {(0, 1): ONE}, zero_const[::-1])
        _domain(b != 0, "division by zero")
        return Local(a / b, [1 / b, -a / b**2], {(0, 1): -1 / b**2, (1, 1): 2 * a / b**3},
                     [False, zero_const[0]])
    return rule


def _pow_rule(args: list[R], const: list[bool], extra: Any) -> Local:
    x, c = args
    if const[1]:  # x ** c: d/dx = c x^(c-1), exactly 0 for c = 0 (x^0 is the constant 1)
        _domain(not (x == 0 and c < 0), "0 ** negative")
        y = power(x, c)
        if c == 0:
            return Local(y, [ZERO, ZERO], {}, [True, True])
        second = ZERO if c == 1 else _times(c * (c - 1), power(x, c - 2))
        return Local(y, [_times(c, power(x, c - 1)), ZERO], {(0, 0): second}, [False, True])
    if const[0]:  # c ** y for a constant base: d/dy = c^y log c (0 ** y = 0 for y > 0)
        base, y_ = x, c
        _domain(base > 0 or (base == 0 and y_ > 0), "a constant base <= 0 with a variable "
                                                      "exponent")
        y = power(base, y_)
        if base == 0:
            return Local(y, [ZERO, ZERO], {}, [True, True])
        return Local(y, [ZERO, y * log(base)], {(1, 1): y * log(base)**2}, [True, False])
    # x ** y, both variables: x > 0, or x = 0 with y > 0 (then x^y = 0 and d/dy = 0)
    y_ = c
    _domain(x > 0 or (x == 0 and y_ > 0), "x ** y with x <= 0 (x = 0 needs y > 0)")
    y = power(x, y_)
    if x == 0:
        dx = None if y_ < 1 else ONE if y_ == 1 else ZERO
        dxx = ZERO if y_ == 1 or y_ > 2 else R(Fraction(2)) if y_ == 2 else None
        return Local(y, [dx, ZERO], {(0, 0): dxx, (0, 1): ZERO if y_ > 1 else None},
                     [False, False])
    lx = log(x)
    return Local(y, [y_ * power(x, y_ - 1), y * lx],
                 {(0, 0): y_ * (y_ - 1) * power(x, y_ - 2),
                  (0, 1): power(x, y_ - 1) * (1 + y_ * lx), (1, 1): y * lx**2},
                 [False, False])


def _mod_rule(args: list[R], const: list[bool], extra: Any) -> Local:
    a, b = args  # a mod b = a - b floor(a / b), the sign of b: d/da = 1, d/db = -floor(a / b)
    _domain(b != 0, "mod by zero")
    sizes = (mpmath.mag(_mp(a.v)), mpmath.mag(_mp(b.v)))
    if sizes[0] - sizes[1] > 8000:
        raise TooLarge
    if max(map(abs, sizes)) > 4000:  # astronomically large or small: in mpmath
        q = (a / b).floor()
        return Local(a - b * q, [ONE, -q], {}, [False, False])
    a, b = _rational(a.v), _rational(b.v)  # exact, as IEEE's remainder of two floats is
    q = Fraction(math.floor(a / b))
    return Local(R(a - b * q), [ONE, R(-q)], {}, [False, False])


def _rational(v: Any) -> Fraction:
    return v if type(v) is Fraction else Fraction(*mpmath.libmp.to_rational(v._mpf_))


def _atan2(branch: int):
    """atan2 whose value at the origin is branch * pi and on its cut (y = 0, x < 0) is
    +pi or -pi (-pi for branch -1): IEEE picks them by the zeros' signs, which exact
    arithmetic has not got -- the truth is sure only if every choice gives it."""
    def rule(args: list[R], const: list[bool], extra: Any) -> Local:
        y, x = args  # d/dy = x / r^2, d/dx = -y / r^2
        pi = R(+mpmath.pi)
        if y == 0 and x == 0:  # no derivative
            return Local(R(Fraction(0)) if branch == 0 else pi * branch, [None, None], {},
                         [False, False], unsure="atan2 at the origin")
        unsure = "atan2 on its branch cut (+-pi by the sign of y = 0)" if y == 0 and x < 0 else ""
        if y == 0 and x > 0:
            angle = ZERO
        elif unsure:
            angle = -pi if branch == -1 else pi
        else:
            angle = R(mpmath.atan2(_mp(y.v), _mp(x.v)))
        r2 = x**2 + y**2
        return Local(angle, [x / r2, -y / r2],
                     {(0, 0): -2 * x * y / r2**2, (1, 1): 2 * x * y / r2**2,
                      (0, 1): (y**2 - x**2) / r2**2}, [False, False], unsure=unsure)
    return rule


def _extremum(larger: bool):
    def rule(args: list[R], const: list[bool], extra: Any) -> Local:
        a, b = args  # the gradient goes to the chosen operand, half each at a tie
        if a == b:
            return Local(a, [HALF, HALF], {}, [False, False])
        first = (a > b) == larger
        return Local(a if first else b, [ONE, ZERO] if first else [ZERO, ONE], {},
                     [not first, first])
    return rule


def _dot_rule(args: list[R], const: list[bool], has_bias: bool) -> Local:
    n = len(args) // 2
    w, x = args[:n], args[n:2 * n]
    total = sum((wi * xi for wi, xi in zip(w, x)), ZERO) + (args[-1] if has_bias else 0)
    zero_const = [c and v == 0 for c, v in zip(const, args)]
    return Local(total, [*x, *w] + ([ONE] if has_bias else []),
                 {(i, n + i): ONE for i in range(n)},
                 zero_const[n:2 * n] + zero_const[:n] + ([False] if has_bias else []))


def _softmax_family(name: str, textbook: bool):
    def rule(args: list[R], const: list[bool], k: Any) -> Local:
        m = max(args, key=lambda a: _mp(a.v))
        shifted = [a - m for a in args]
        weights = [exp(z) for z in shifted]
        total = sum(weights[1:], weights[0])
        p = [w / total for w in weights]
        n = len(args)
        delta = lambda i, j: ONE if i == j else ZERO
        pairs = [(i, j) for i in range(n) for j in range(i, n)]
        lse_sizes = {(i, j): p[i] * (delta(i, j) + p[j]) for i, j in pairs}
        if name == "logsumexp":
            out = m + log(total)
            if textbook and abs(out) < 1024:  # PyTorch's exp(x_i - out), from the rounded out
                p = [exp(a - out) for a in args]
            return Local(out, p, {(i, j): p[i] * (delta(i, j) - p[j]) for i, j in pairs},
                         [False] * n, sizes=(p, lse_sizes))
        if name == "log_softmax":  # z_k - logsumexp(z), z = x - max x
            return Local(shifted[k] - log(total), [delta(k, i) - p[i] for i in range(n)],
                         {(i, j): -p[i] * (delta(i, j) - p[j]) for i, j in pairs},
                         [False] * n, hidden=tuple(shifted),
                         sizes=([delta(k, i) + p[i] for i in range(n)], lse_sizes))
        return Local(p[k], [p[k] * (delta(k, i) - p[i]) for i in range(n)],  # exp(log_softmax)
                     {(i, j): p[k] * ((delta(k, i) - p[i]) * (delta(k, j) - p[j])
                                      - p[i] * (delta(i, j) - p[j])) for i, j in pairs},
                     [False] * n, hidden=tuple(shifted),
                     sizes=([p[k] * (delta(k, i) + p[i]) for i in range(n)],
                            {(i, j): p[k] * ((delta(k, i) + p[i]) * (delta(k, j) + p[j])
                                             + p[i] * (delta(i, j) + p[j])) for i, j in pairs}))
    return rule


def rules(textbook: bool, branch: int) -> dict:
    return {**{name: _unary_rule(name, textbook) for name in UNARY},
            **{name: _arithmetic(name) for name in ("add", "sub", "mul", "div")},
            "pow": _pow_rule, "mod": _mod_rule, "atan2": _atan2(branch),
            "maximum": _extremum(True), "minimum": _extremum(False), "dot": _dot_rule,
            **{name: _softmax_family(name, textbook)
               for name in ("logsumexp", "softmax", "log_softmax")}}


RULES = {(textbook, branch): rules(textbook, branch)
         for textbook in (False, True) for branch in (0, 1, -1)}


# ---------------------------------------------------------------------------
# The judge's evaluation: exact (the truth), or simulated floats (the rounding envelope)


@dataclass
class Answer:
    """A program's value, gradient, directional derivative and Hessian at one point --
    each a number (R), a list of them, or the reason it is undefined (a str) -- and, for
    the truth, what would make a float engine refuse although the answer is finite."""

    value: Any
    gradient: Any = None
    tangent: Any = None
    hessian: Any = None
    causes: set = field(default_factory=set)
    unsure: str = ""
    scales: list = field(default_factory=list)  # the sums over paths of |terms|, flat
    sensitivity: list = field(default_factory=list)  # d quantity / d (a node's rounding), flat


class _Overflow(Exception):
    pass


_LIMIT = Fraction(2**1024 - 2**970)  # from here on a number rounds to inf in float64
_UNDERFLOW = Fraction(1, 2**1075)  # below this a number rounds to 0


def _beyond(r: R) -> bool:
    return abs(r) >= _LIMIT


def _grid(r: R, bits: int, clip: bool = True) -> R:
    """r as a float of ``bits`` bits with float64's range: subnormal steps below 2^-1022,
    and _Overflow from 2^1024 (unless ``clip`` is False: a local derivative that
    overflows is not a refusal by itself)."""
    v = _mp(r.v)
    if not v:
        return ZERO
    if clip and abs(v) >= mpmath.ldexp(1, 1024):
        raise _Overflow
    if abs(v) < mpmath.ldexp(1, -1022):
        k = 1022 + bits - 1
        return R(mpmath.ldexp(mpmath.nint(mpmath.ldexp(v, k)), -k))
    return R(+v)


def _exact_mpf(x: float) -> Any:
    with mpmath.workprec(64):
        return mpmath.mpf(x)


def evaluate(program: Program, x: list[float], direction: list[float], want_hessian: bool,
             bits: int, floats: bool = False, textbook: bool = False,
             sensitivity: bool = False, branch: int = 1) -> Answer:
    """The program over exact reals at ``bits`` of mpmath precision (Fractions where the
    arithmetic is rational), or, with ``floats``, over simulated floats of ``bits`` bits
    with float64's range: every node, local derivative and accumulated derivative rounded
    as a reverse-mode float engine rounds them."""
    with mpmath.workprec(bits):
        number = (lambda v: R(_exact_mpf(v))) if floats else (lambda v: R(Fraction(v)))
        rnd = (lambda r: _grid(r, bits)) if floats else (lambda r: r)
        table = RULES[textbook, branch]
        values, nodes = [number(v) for v in x], []
        try:
            for name, operands, extra in program.instructions:
                args = [values[o] if type(o) is int else number(o) for o in operands]
                local = table[name](args, [type(o) is not int for o in operands], extra)
                if floats:
                    local.value = rnd(local.value)
                    local.first = [None if d is None else _grid(d, bits, clip=False)
                                   for d in local.first]
                values.append(local.value)
                nodes.append(local)
        except Undefined as error:  # (unsure if an earlier atan2's zero sign led here)
            return Answer(str(error), str(error), str(error), str(error),
                          unsure=next((n.unsure for n in nodes if n.unsure), ""))
        except ZeroDivisionError:  # a simulated float's formula meets 1 / 0: it refuses
            reason = "a division by zero (rounding)"
            return Answer(reason, reason, reason, reason)
        except _Overflow:
            return Answer("overflow", "overflow", "overflow", "overflow",
                          causes={"an intermediate beyond the float range"})
        except TooLarge:
            return Answer("unknown", "unknown", "unknown", "unknown",
                          unsure="an intermediate too large for the judge")
        answer = _derivatives(program, values, nodes, direction, want_hessian, rnd)
        if sensitivity and isinstance(answer.gradient, list):
            answer.sensitivity = _sensitivities(program, nodes, direction)
        return answer


def _derivatives(program: Program, values: list, nodes: list[Local], direction: list[float],
                 want_hessian: bool, rnd: Any) -> Answer:
    n, size = program.n_inputs, len(values)
    operands = [[(slot, o) for slot, o in enumerate(instruction[1]) if type(o) is int]
                for instruction in program.instructions]
    forward_live = [True] * n
    for k, local in enumerate(nodes):
        forward_live.append(any(forward_live[o] and not local.dead[slot]
                                for slot, o in operands[k]))
    backward_live, ancestor = [False] * size, [False] * size
    backward_live[-1] = ancestor[-1] = True
    for k in reversed(range(len(nodes))):
        for slot, o in operands[k]:
            ancestor[o] = ancestor[o] or ancestor[n + k]
            if backward_live[n + k] and not nodes[k].dead[slot]:
                backward_live[o] = True
    # the edges the chain rule passes through, and the first one with no finite derivative
    edges = [[(slot, o) for slot, o in operands[k]
              if backward_live[n + k] and forward_live[o] and not nodes[k].dead[slot]]
             for k in range(len(nodes))]
    infinite = next((f"an infinite local derivative ({program.instructions[k][0]}, operand "
                     f"{slot + 1})" for k in range(len(nodes)) for slot, _ in edges[k]
                     if nodes[k].first[slot] is None), "")

    answer = Answer(values[-1])
    answer.unsure = next((local.unsure for k, local in enumerate(nodes)
                          if local.unsure and ancestor[n + k]), "")
    for k, local in enumerate(nodes):  # what a float engine meets on the way
        if _beyond(local.value) or any(map(_beyond, local.hidden)):
            answer.causes.add("an intermediate beyond the float range")
        if local.value != 0 and abs(local.value) < _UNDERFLOW:
            answer.causes.add("an intermediate that underflows to 0")
        for slot, o in operands[k] if ancestor[n + k] else ():
            d = local.first[slot]
            if d is None and (slot, o) not in edges[k]:
                answer.causes.add("an infinite local derivative behind a zero factor")
            elif d is not None and _beyond(d):
                answer.causes.add("a local derivative beyond the float range")
    if infinite:
        answer.gradient = answer.tangent = answer.hessian = infinite
        return answer

    # the gradient, in reverse order as reverse-mode engines accumulate it, and its scale:
    # the same sum over paths with every term's absolute value
    adjoint: list[Any] = [ZERO] * size
    scale: list[Any] = [ZERO] * size
    adjoint[-1] = scale[-1] = ONE
    try:
        for k in reversed(range(len(nodes))):
            g = adjoint[n + k]
            if _beyond(g):
                answer.causes.add("an adjoint beyond the float range")
            for slot, o in edges[k]:
                d = nodes[k].first[slot]
                adjoint[o] = rnd(adjoint[o] + rnd(g * d))
                size = nodes[k].sizes[0][slot] if nodes[k].sizes else abs(d)
                scale[o] = scale[o] + scale[n + k] * size
                if _beyond(scale[o]):
                    answer.causes.add("a term of the chain rule beyond the float range")
        answer.gradient = adjoint[:n]
    except _Overflow:
        answer.gradient = "overflow"
        answer.causes.add("an adjoint beyond the float range")
    answer.scales = [ZERO, sum((s * abs(number_of(u)) for s, u in zip(scale, direction)), ZERO),
                     *scale[:n]]

    # the directional derivative, forward; and as jvp sweeps it: through every node the
    # output depends on, a zero factor's operands too
    swept = [number_of(t) for t in direction] + [ZERO] * len(nodes)
    for k, local in enumerate(nodes):
        if ancestor[n + k]:
            swept[n + k] = sum((d * swept[o] for (slot, o), d in zip(operands[k], (
                local.first[slot] for slot, _ in operands[k])) if d is not None), ZERO)
            if _beyond(swept[n + k]):
                answer.causes.add("a forward tangent beyond the float range")
    tangent = [number_of(t) for t in direction] + [ZERO] * len(nodes)
    try:
        for k, local in enumerate(nodes):
            total = ZERO
            for slot, o in edges[k]:
                total = rnd(total + rnd(local.first[slot] * tangent[o]))
            tangent[n + k] = total
            if _beyond(total):
                answer.causes.add("a forward tangent beyond the float range")
        answer.tangent = tangent[-1]
    except _Overflow:
        answer.tangent = "overflow"
    if want_hessian:
        answer.hessian, scales = _hessian(n, nodes, edges, rnd, answer.causes)
        answer.scales += [v for row in scales for v in row]
    return answer


def _sensitivities(program: Program, nodes: list[Local], direction: list[float]) -> list:
    """How far rounding moves the value, the directional derivative and the gradient, to
    first order: with every node's value v_i rounded to v_i (1 + e_i), |e_i| <= u, a
    quantity moves by at most u sum_i |d quantity / d e_i| (for the gradient these are
    mixed second derivatives d2 f / dx_j de_i). Flat, in _numbers order (the Hessian's
    entries get none). Infinite where the rounding of a node meets an infinite
    derivative; a stop_gradient passes a change of value, not a gradient."""
    n, m = program.n_inputs, len(nodes)
    infinite = [mpmath.inf] * (2 + n)
    with mpmath.workprec(64):
        value_of = lambda r: _mp(r.v)
        Ge = [[mpmath.mpf(0)] * m for _ in range(n)]  # d node / d e_i
        Gx = [[mpmath.mpf(int(i == j)) for i in range(n)] for j in range(n)]  # d node / d x_j
        M = [[[mpmath.mpf(0)] * m for _ in range(n)] for _ in range(n)]  # d2 node / dx_j de_i
        for k, local in enumerate(nodes):
            name, operands = program.instructions[k][:2]
            slots = [(slot, o) for slot, o in enumerate(operands)
                     if type(o) is int and (name == "stop_gradient" or not local.dead[slot])]
            ge, gx = [mpmath.mpf(0)] * m, [mpmath.mpf(0)] * n
            mixed = [[mpmath.mpf(0)] * m for _ in range(n)]
            for slot, o in slots:
                d = local.first[slot]
                moved, carries = any(Ge[o]), any(Gx[o]) or any(map(any, M[o]))
                if d is None and (moved or carries):
                    return infinite
                if name == "stop_gradient":  # its value follows its operand; no gradient
                    ge = [a + b for a, b in zip(ge, Ge[o])]
                    continue
                if d is None:
                    continue
                d = value_of(d)
                ge = [a + d * b for a, b in zip(ge, Ge[o])]
                gx = [a + d * b for a, b in zip(gx, Gx[o])]
                mixed = [[a + d * b for a, b in zip(row, other)] for row, other in zip(mixed, M[o])]
            if name != "stop_gradient":
                for (s, o), (t, p) in ((a, b) for a in slots for b in slots):
                    d2 = local.second.get((min(s, t), max(s, t)), ZERO)
                    if d2 is None:
                        if any(Gx[o]) and any(Ge[p]):
                            return infinite
                        continue
                    d2 = value_of(d2)
                    if d2:
                        for j in range(n):
                            for i in range(m):
                                mixed[j][i] += d2 * Gx[o][j] * Ge[p][i]
            ge[k] += value_of(local.value)  # this node's own rounding
            for j in range(n):
                mixed[j][k] += gx[j]
            Ge.append(ge)
            Gx.append(gx)
            M.append(mixed)
        tangent = [sum(u * M[-1][j][i] for j, u in enumerate(direction)) for i in range(m)]
        return [sum(map(abs, Ge[-1])), sum(map(abs, tangent)),
                *[sum(map(abs, row)) for row in M[-1]]]


def number_of(v: float) -> R:
    return R(Fraction(v))


def _hessian(n: int, nodes: list[Local], edges: list, rnd: Any, causes: set) -> tuple:
    """Second-order forward mode: every node's gradient G and Hessian H over the inputs
    (and H's scale: the same sums with every term's absolute value). The Hessian is the
    reason it is undefined where it is."""
    G = [[ONE if i == j else ZERO for i in range(n)] for j in range(n)]
    H = [[[ZERO] * n for _ in range(n)] for _ in range(n)]
    S = [[[ZERO] * n for _ in range(n)] for _ in range(n)]  # H's scale
    overflow = False
    for k, local in enumerate(nodes):
        g, h, s = [ZERO] * n, [[ZERO] * n for _ in range(n)], [[ZERO] * n for _ in range(n)]
        sizes, second_sizes = local.sizes or (None, {})
        for slot, o in edges[k]:
            d = local.first[slot]
            size = sizes[slot] if sizes else abs(d)
            for i in range(n):
                g[i] = g[i] + d * G[o][i]
                for j in range(n):
                    h[i][j] = h[i][j] + d * H[o][i][j]
                    s[i][j] = s[i][j] + size * S[o][i][j]
        for (a, o), (b, p) in ((e, f) for e in edges[k] for f in edges[k] if e[0] <= f[0]):
            d2 = local.second.get((a, b), ZERO)
            if d2 is None:
                return f"an infinite second derivative ({k})", S[-1]
            size = second_sizes.get((a, b), abs(d2))
            if size == 0:
                continue
            if _beyond(d2):
                causes.add("a second derivative beyond the float range")
            for i in range(n):
                for j in range(n):
                    cross = G[o][i] * G[p][j] + (G[p][i] * G[o][j] if a != b else 0)
                    h[i][j] = h[i][j] + d2 * cross
                    s[i][j] = s[i][j] + size * abs(cross)
        try:
            g = [rnd(v) for v in g]
            h = [[rnd(v) for v in row] for row in h]
        except _Overflow:
            overflow = True
        if any(_beyond(v) for row in s for v in row):
            causes.add("a second-order term beyond the float range")
        G.append(g)
        H.append(h)
        S.append(s)
    return ("overflow" if overflow else H[-1]), S[-1]


def truth_of(program: Program, x: list[float], direction: list[float],
             want_hessian: bool) -> Answer:
    """The exact answer, accepted when two precisions agree on every number (and, where
    atan2 meets a zero whose sign decides its value, when every choice agrees)."""
    n = len(x)
    for coarse_bits, fine_bits in TRUTH_BITS:
        coarse = evaluate(program, x, direction, want_hessian, coarse_bits)
        if coarse.unsure.startswith("an intermediate too large"):
            return coarse
        fine = evaluate(program, x, direction, want_hessian, fine_bits, sensitivity=True)
        if _settled(_numbers(coarse, n, want_hessian), _numbers(fine, n, want_hessian)):
            if fine.unsure.startswith("atan2") and all(
                    _settled(_numbers(fine, n, want_hessian), _numbers(
                        evaluate(program, x, direction, want_hessian, fine_bits, branch=b),
                        n, want_hessian)) for b in (0, -1)):
                fine.unsure = ""
            return fine
    return Answer("unknown", "unknown", "unknown", "unknown",
                  unsure="more digits do not settle the truth")


def _numbers(answer: Answer, n: int, hessian: bool) -> list:
    """Every quantity of an answer in a fixed order -- value, directional derivative,
    gradient, Hessian (if asked for) -- each a number (R) or a reason (str)."""
    def entries(part: Any, count: int) -> list:
        return list(part) if isinstance(part, list) else [part] * count

    flat = [answer.value, answer.tangent, *entries(answer.gradient, n)]
    if hessian:
        rows = entries(answer.hessian, n)
        flat += [v for row in rows for v in entries(row, n)]
    return flat


def _settled(a: list, b: list) -> bool:
    with mpmath.workprec(300):
        for u, v in zip(a, b):
            if isinstance(u, str) or isinstance(v, str):
                if isinstance(u, str) != isinstance(v, str):
                    return False
                continue
            if abs(_mp((u - v).v)) > abs(_mp(v.v)) * mpmath.ldexp(1, -60) + mpmath.ldexp(1, -1100):
                return False
    return True


def reference(program: Program, x: list[float], direction: list[float],
           want_hessian: bool) -> tuple[Answer, dict, list]:
    """The truth at x, the simulated floats' answers, and every quantity's Envelope."""
    truth = truth_of(program, x, direction, want_hessian)
    ladders = {kind: [evaluate(program, x, direction, want_hessian, bits, floats=True,
                               textbook=kind == "textbook") for bits in LADDER_BITS]
               for kind in ("ideal", "textbook")}
    return truth, ladders, envelopes(truth, ladders, len(x), want_hessian)


# ---------------------------------------------------------------------------
# Judging a float against the truth


@dataclass
class Envelope:
    """The truth and the rounding envelopes (E) of one quantity."""

    truth: Any  # R, or the reason it is undefined
    ideal: Any = 0  # E from the simulated floats with the judge's formulas
    textbook: Any = 0  # E also over the simulated floats with the textbook formulas
    scale: Any = 0  # the sum over paths of |terms| (a sum regrouped rounds at this size)
    linear: Any = 0  # how far the nodes' rounding moves it, to first order (over u)

    def defined(self) -> bool:
        return isinstance(self.truth, R) and not _beyond(self.truth)

    def level(self, q: float) -> int:
        """0: agrees to 1e-9; 1: within float64's rounding of this DAG at this point (E,
        a regrouped sum, the nodes' rounding to first order); 2: within the textbook
        formulas' rounding; 3: wrong."""
        with mpmath.workprec(300):
            t = _mp(self.truth.v)
            distance = abs(mpmath.mpf(q) - t)
            slack = RTOL * abs(t) + TINY
            if distance <= slack:
                return 0
            slack += SUM_SLACK * self.scale + LINEAR_SLACK * self.linear
            if distance <= slack + self.ideal:
                return 1
            return 2 if distance <= slack + self.textbook else 3

    def straddles_the_float_limit(self) -> bool:
        """Rounding alone can carry this quantity past the largest float (or back): then
        whether a path overflows, and so refuses, is decided by its rounding."""
        if not isinstance(self.truth, R):
            return False
        with mpmath.workprec(300):
            t = abs(_mp(self.truth.v))
            width = (RTOL * t + SUM_SLACK * self.scale + LINEAR_SLACK * self.linear
                     + self.textbook)
            return t - width < _mp(_LIMIT) <= t + width

    def close(self, a: float, b: float) -> bool:
        """Two paths' numbers for this quantity: equal to 1e-12, or both within E."""
        if a == b or abs(a - b) <= PATH_RTOL * max(abs(a), abs(b)):
            return True
        return self.defined() and self.level(a) <= 1 and self.level(b) <= 1


def envelopes(truth: Answer, ladders: dict[str, list[Answer]], n: int,
              hessian: bool) -> list[Envelope]:
    """One Envelope per quantity, in _numbers order."""
    result = []
    flats = {kind: [_numbers(a, n, hessian) for a in answers] for kind, answers in ladders.items()}
    with mpmath.workprec(300):
        scales = [_mp(v.v) for v in truth.scales]
        linear = truth.sensitivity
        for position, t in enumerate(_numbers(truth, n, hessian)):
            envelope = Envelope(t, scale=scales[position] if position < len(scales) else 0,
                                linear=linear[position] if position < len(linear) else 0)
            if isinstance(t, R):
                for kind in ("ideal", "textbook"):
                    for flat in flats[kind]:
                        v = flat[position]
                        if isinstance(v, R):
                            spread = 2 * abs(_mp((v - t).v))
                            envelope.textbook = max(envelope.textbook, spread)
                            if kind == "ideal":
                                envelope.ideal = max(envelope.ideal, spread)
            result.append(envelope)
    return result


# ---------------------------------------------------------------------------
# One sample: a DAG, its point and its batch rows, through every path


@dataclass
class Sample:
    """A DAG, the point it is judged at (rows[0]) and the other rows of its batch."""

    program: Program
    rows: list[list[float]]
    direction: list[float]
    hessian: bool
    vectorize: bool | None

    def reproducer(self) -> str:
        return (f"{self.program.source()}\nx = {self.rows[0]!r}  # direction {self.direction!r}"
                f"\nrows = {self.rows!r}")


def random_sample(seed: int, k: int) -> Sample:
    rng = np.random.default_rng([seed, k])
    program = random_program(rng)
    n = program.n_inputs
    rows = [random_inputs(rng, n) for _ in range(int(rng.integers(1, 4)))]
    direction = [0.0 if rng.random() < 0.2 else float(rng.normal()) for _ in range(n)]
    return Sample(program, rows, direction, bool(rng.random() < 0.35),
                  [None, True, False][int(rng.integers(3))])


def _attempt(call: Any) -> Any:
    """call()'s result, or the exception it raised (any class: a crash is recorded too)."""
    try:
        return call()
    except Exception as error:
        return error


def run_chainrule(sample: Sample) -> tuple[dict[str, Any], set[str]]:
    """Every path's answer at the sample (an exception where it refuses): eager backward,
    value_and_grad, grad, jvp, hessian, jit per row and jit(f).batch over the rows."""
    f = lambda x: sample.program(x, CHAINRULE)
    x, rows = sample.rows[0], sample.rows
    ops: set[str] = set()

    def eager() -> tuple[float, list[float]]:
        xs = [Value(v) for v in x]
        y = f(xs)
        ops.update(node.op for node in topological_order(y))
        y.backward()
        return y.data, [v.grad for v in xs]

    results = {"eager": _attempt(eager),
               "value_and_grad": _attempt(lambda: value_and_grad(f)(x)),
               "grad": _attempt(lambda: grad(f)(x)),
               "jvp": _attempt(lambda: jvp(f, [x], [sample.direction]))}
    if sample.hessian:
        results["hessian"] = _attempt(lambda: hessian(f)(x))
    compiled = jit(f, vectorize=sample.vectorize)
    results["jit rows"] = [_attempt(lambda r=r: compiled(r)) for r in rows]
    results["eager rows"] = [_attempt(lambda r=r: value_and_grad(f)(r)) for r in rows]
    results["batch"] = _attempt(lambda: compiled.batch(np.array(rows), batched=(0,)))
    return results, ops


def run_torch(program: Program, x: list[float], torch: Any, ops: dict) -> Any:
    """PyTorch float64's (value, gradient), or the exception it raised."""
    def evaluate_in_torch() -> tuple[float, list[float]]:
        leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in x]
        y = program(leaves, ops)
        grads = (torch.autograd.grad(y, leaves, allow_unused=True) if y.requires_grad
                 else [None] * len(x))
        return y.item(), [0.0 if g is None else g.item() for g in grads]
    return _attempt(evaluate_in_torch)


def _all_finite(result: Any) -> bool:
    if isinstance(result, Exception):
        return True
    if isinstance(result, (tuple, list)):
        return all(map(_all_finite, result))
    return bool(np.all(np.isfinite(np.asarray(result, dtype=float))))


def _refused(result: Any) -> bool:
    return isinstance(result, REFUSALS)


def _crashed(result: Any) -> bool:
    return isinstance(result, Exception) and not _refused(result)


# ---------------------------------------------------------------------------
# The verdict


LEVELS = ("agree", "agree within rounding", "agree within the textbook formulas' rounding",
          "disagreement")


@dataclass
class Verdict:
    """Where one sample lands: the table's row and why, the disagreements between
    chainrule's own paths, the rows for jvp, the Hessian and PyTorch, and how closely
    the paths agreed (identical, to 1e-12, within rounding, refusing alike)."""

    outcome: str
    detail: str = ""
    paths: list = field(default_factory=list)
    batch: list = field(default_factory=list)
    jvp: str = ""
    hessian: str = ""
    torch: str = ""
    closeness: Counter = field(default_factory=Counter)


def judge(sample: Sample, torch: Any = None, torch_table: Any = None) -> tuple[Verdict, set]:
    """Run every path on the sample and judge each against the truth and the others."""
    results, ops = run_chainrule(sample)
    program, x, n = sample.program, sample.rows[0], len(sample.rows[0])
    truth, ladders, quantities = reference(program, x, sample.direction, sample.hessian)
    value, tangent, gradient = quantities[0], quantities[1], quantities[2:2 + n]
    eager = results["eager"]

    def score(answer: Any, parts: list[Envelope], numbers: Any,
              quantities: tuple = ("value", "gradient")) -> str:
        """One path's answer against the truth, as a row of the table and its detail."""
        defined = all(p.defined() for p in parts)
        if _crashed(answer):
            return f"crash: {answer!r}"
        if not _all_finite(answer):
            return "silent non-finite"
        if truth.unsure.startswith("an intermediate too large") and _refused(answer):
            return "refused, truth out of reach: an intermediate beyond 2^(2^1030)"
        if truth.unsure.startswith(("more digits", "an intermediate too large")):
            return f"truth unknown: {truth.unsure}"
        if _refused(answer):
            if not defined:
                return "both refuse"
            if "tangent" in quantities and _refused(eager):
                return "over-refusal: the documented rule (jvp refuses where grad refuses)"
            return "over-refusal: " + _cause(truth, ladders, quantities)
        if not defined:
            if truth.unsure:
                return f"truth unknown: {truth.unsure}"
            reason = next(p.truth if isinstance(p.truth, str) else "beyond the float range"
                          for p in parts if not p.defined())
            if any(all(isinstance(getattr(a, name), (R, list)) for name in quantities)
                   for a in ladders["ideal"]):
                return f"rounding defines it: {reason}, the simulated floats answer too"
            return f"disagreement: answers where the truth is undefined ({reason})"
        if truth.unsure:
            return f"truth unknown: {truth.unsure}"
        level = max(p.level(q) for p, q in zip(parts, numbers(answer)))
        return LEVELS[level]

    flat = lambda pair: [pair[0], *pair[1]]
    outcome, _, detail = score(eager, [value, *gradient], flat).partition(": ")
    verdict = Verdict(outcome, detail)
    if _refused(eager):
        verdict.detail = f"{verdict.detail} [{eager!r:.300}]".strip()
    others = [results[key] for key in ("value_and_grad", "grad", "jvp", "hessian", "batch")
              if key in results] + results["jit rows"] + results["eager rows"]
    if not all(map(_all_finite, others)) and verdict.outcome != "silent non-finite":
        verdict.outcome, verdict.detail = "silent non-finite", "another path"
    verdict.jvp = score(results["jvp"], [value, tangent], list, ("value", "gradient", "tangent"))
    if _refused(results["jvp"]):
        verdict.jvp += f" [{results['jvp']!r:.300}]"
    if sample.hessian:
        verdict.hessian = score(results["hessian"], quantities[2 + n:],
                                lambda h: [float(v) for v in np.asarray(h).ravel()],
                                ("value", "gradient", "hessian"))
        if _refused(results["hessian"]):
            verdict.hessian += f" [{results['hessian']!r:.300}]"
    if torch is not None:
        theirs = run_torch(program, x, torch, torch_table)
        verdict.torch = score(theirs, [value, *gradient], flat)
        if verdict.outcome == "disagreement":
            verdict.detail += " -- " + _who_is_right(eager, theirs, verdict.torch)
        if verdict.hessian.startswith("disagreement"):
            hessian_of_torch = _attempt(lambda: torch_hessian(program, x, torch, torch_table))
            verdict.hessian += " -- " + _who_is_right(
                results["hessian"], hessian_of_torch,
                score(hessian_of_torch, quantities[2 + n:], lambda h: list(h.ravel())))
    verdict.paths = _path_disagreements(results, value, gradient, verdict.closeness)
    if isinstance(eager, tuple) and isinstance(results["jvp"], tuple):  # J v = grad . v
        along = math.fsum(g * u for g, u in zip(eager[1], sample.direction))
        forward = results["jvp"]
        if not (value.close(eager[0], forward[0]) and tangent.close(along, forward[1])):
            verdict.paths.append(f"jvp {forward} vs (value, grad . direction) "
                                 f"{(eager[0], along)}")
    rows = [(value, gradient)] + [(q[0], q[2:]) for q in (
        reference(program, row, sample.direction, False)[2] for row in sample.rows[1:])]
    verdict.batch = _batch_disagreements(sample, results, rows, verdict.closeness)
    return verdict, ops


def torch_hessian(program: Program, x: list[float], torch: Any, table: dict) -> np.ndarray:
    t = torch.tensor(x, dtype=torch.float64)
    f = lambda v: program([v[i] for i in range(len(x))], table)
    return torch.autograd.functional.hessian(f, t).numpy()


def _who_is_right(ours: Any, theirs: Any, their_score: str) -> str:
    if isinstance(theirs, Exception) or not _all_finite(theirs):
        return "neither: PyTorch gives inf or nan"
    if not their_score.startswith(("disagreement", "silent", "truth")):
        return "PyTorch is right"
    a, b = (np.asarray(_flatten(v), dtype=float) for v in (ours, theirs))
    if a.shape == b.shape and np.allclose(a, b, rtol=PATH_RTOL, atol=0.0):
        return "neither: PyTorch gives the same numbers"
    return "neither"


def _flatten(answer: Any) -> list:
    if isinstance(answer, tuple):
        return [answer[0], *answer[1]]
    return list(np.asarray(answer, dtype=float).ravel())


def _cause(truth: Answer, ladders: dict[str, list[Answer]], parts: tuple) -> str:
    """Why a float engine may refuse where the answer is finite."""
    if truth.causes:
        return "; ".join(sorted(truth.causes))
    for answer in ladders["ideal"]:
        for part in (getattr(answer, name) for name in parts):
            if isinstance(part, str):
                return f"rounding: the simulated floats refuse too ({part})"
    for answer in ladders["ideal"]:
        if answer.causes:
            return f"rounding: the simulated floats meet {'; '.join(sorted(answer.causes))}"
    return "unexplained"


def _same(a: Any, b: Any, value: Envelope, gradient: list[Envelope], tally: Counter) -> str:
    """'' if two paths' (value, gradient) agree -- the same refusal class, or numbers
    equal to 1e-12 or both within the rounding envelope -- else what differs."""
    if isinstance(a, Exception) or isinstance(b, Exception):
        if type(a) is type(b):
            tally["refuse alike"] += 1
            return ""
        if not _crashed(a) and not _crashed(b) and any(
                e.straddles_the_float_limit() for e in (value, *gradient)):
            tally["overflow or not decided by rounding"] += 1
            return ""
        name = lambda r: type(r).__name__ if isinstance(r, Exception) else "answers"
        return f"{name(a)} vs {name(b)} ({b if isinstance(b, Exception) else a!r:.200})"
    (va, ga), (vb, gb) = a, b
    pairs = [(value, va, vb)] + [(e, float(p), float(q)) for e, p, q in zip(gradient, ga, gb)]
    if all(p == q for _, p, q in pairs):
        tally["identical"] += 1
        return ""
    if all(abs(p - q) <= PATH_RTOL * max(abs(p), abs(q)) for _, p, q in pairs):
        tally["within 1e-12"] += 1
        return ""
    if all(e.close(p, q) for e, p, q in pairs):
        tally["within rounding"] += 1
        return ""
    return f"({va!r}, {list(ga)}) vs ({vb!r}, {[float(q) for q in gb]})"


def _path_disagreements(results: dict, value: Envelope, gradient: list[Envelope],
                        tally: Counter) -> list:
    """eager backward against value_and_grad, grad and jit(f) at its trace point; and
    jvp's rule: it refuses wherever grad refuses."""
    eager, found = results["eager"], []
    gradient_only = results["grad"]
    if not isinstance(gradient_only, Exception):
        gradient_only = (eager[0] if isinstance(eager, tuple) else 0.0, gradient_only)
    for name, answer in [("value_and_grad", results["value_and_grad"]),
                         ("jit(f)", results["jit rows"][0]), ("grad", gradient_only)]:
        difference = _same(eager, answer, value, gradient, tally)
        if difference:
            found.append(f"eager vs {name}: {difference}")
    if _refused(eager) and not _refused(results["jvp"]):  # (alone, J v may overflow)
        found.append(f"jvp answers {results['jvp']!r:.120} where grad refuses {eager!r:.120}")
    return found


def _batch_disagreements(sample: Sample, results: dict, rows: list, tally: Counter) -> list:
    """jit(f).batch against eager row by row (the first refused row's class where eager
    refuses one), and jit(f) per row against eager; ``rows`` holds each row's (value,
    gradient) envelopes. A difference that goes away when jit traces at that row is
    marked: the compiled code depends on where it was traced."""
    eager_rows, found = results["eager rows"], []

    def trace_point(k: int) -> str:
        fresh = _attempt(lambda: jit(lambda x: sample.program(x, CHAINRULE),
                                     vectorize=sample.vectorize)(sample.rows[k]))
        agrees = not _same(eager_rows[k], fresh, *rows[k], Counter())
        return " (depends on the trace point: traced at this row it agrees)" if agrees else ""

    for k, (eager, compiled) in enumerate(zip(eager_rows, results["jit rows"])):
        difference = _same(eager, compiled, *rows[k], tally) if k else ""
        if difference:
            found.append(f"row {k}: eager vs jit(f)(row): {difference}{trace_point(k)}")
    batch = results["batch"]
    refused = next((answer for answer in eager_rows if isinstance(answer, Exception)), None)
    rounding_decides = [any(e.straddles_the_float_limit() for e in (v, *g)) for v, g in rows]
    if refused is not None or isinstance(batch, Exception):
        if type(refused) is type(batch):
            tally["refuse alike"] += 1
        elif (refused is None or isinstance(batch, tuple)) and any(rounding_decides):
            tally["overflow or not decided by rounding"] += 1  # (numpy's libm is not math's)
        else:
            found.append(f"batch {batch!r:.200} where eager gives {refused!r:.200}")
        return found
    values, grads = batch
    for k, eager in enumerate(eager_rows):
        difference = _same(eager, (float(values[k]), list(grads[k])), *rows[k], tally)
        if difference:
            found.append(f"row {k}: eager vs batch: {difference}"
                         f"{trace_point(k) if k else ''}")
    return found


# ---------------------------------------------------------------------------
# The fuzz: many samples, one table

#: what the fuzz found that is not fixed yet: a test below reproduces each (xfail); the
#: regular suite's assertions leave out the samples these explain
KNOWN = {
    "jit fixes softmax's shift at the trace point":
        lambda text: "depends on the trace point" in text,
    "powv's d/dx = y x^(y-1) overflows for a tiny base":
        lambda text: "powv(" in text and "out of range" in text,
    "jvp answers where grad refuses because the gradient overflows":
        lambda text: text.partition(": ")[2].startswith("jvp answers"),
    "reverse mode loses a path whose intermediate gradient underflows":
        lambda text: "vs (value, grad . direction)" in text and _tiny_tangents(text),
    "numpy's libm and math's differ by an ulp, which 1 - t^2 near tanh's saturation "
    "magnifies (batch only)":
        lambda text: _batch_within(text, 1e-8),
}


def _batch_within(text: str, rtol: float) -> bool:
    """Whether an eager-vs-batch line compares numbers that agree to ``rtol``: the batch
    runs numpy's tanh, exp, ..., which may differ from math's by an ulp, and a local
    derivative such as tanh's 1 - t^2 near t = 1 turns that into ~5e-9 (seed 91, sample
    769; test_numpys_tanh_differs_by_an_ulp_and_1_minus_t_squared_magnifies_it)."""
    import re

    found = re.search(r"eager vs batch: \(([^()]*)\) vs \(([^()]*)\)", text)
    if not found:
        return False
    numbers = [[float(t) for t in re.findall(r"[-+]?[\d.]+(?:e[-+]?\d+)?", side)]
               for side in found.groups()]
    return len(numbers[0]) == len(numbers[1]) and all(
        abs(a - b) <= rtol * max(abs(a), abs(b)) for a, b in zip(*numbers))


def _tiny_tangents(text: str) -> bool:
    """Whether a jvp-vs-grad line compares directional derivatives near the underflow
    range (below 1e-280), where one reverse-mode path can vanish on the way."""
    import re

    numbers = [float(t) for t in re.findall(r"[-+]?\d\.\d+e[-+]\d+", text)]
    return bool(numbers) and all(abs(v) < 1e-280 for v in numbers)


#: the outcomes that must not happen, by kind (a row of the table starts with them)
FAILURES = {"silent non-finite": "silent", "disagreement": ("disagreement", "crash"),
            "over-refusal": "over-refusal: unexplained"}


def known(text: str) -> str:
    return next((name for name, matches in KNOWN.items() if matches(text)), "")


@dataclass
class Report:
    """The fuzz's tallies and the reproducers of everything that must not happen."""

    count: int
    seed: int
    outcomes: Counter = field(default_factory=Counter)
    details: dict = field(default_factory=dict)  # outcome -> Counter of its details
    jvp: Counter = field(default_factory=Counter)
    hessian: Counter = field(default_factory=Counter)
    torch: Counter = field(default_factory=Counter)
    closeness: Counter = field(default_factory=Counter)
    beside: Counter = field(default_factory=Counter)  # (chainrule's row, PyTorch's row)
    failures: dict = field(default_factory=dict)  # kind -> reproducers
    known: Counter = field(default_factory=Counter)
    notes: dict = field(default_factory=dict)  # kind -> examples worth a look, not failures
    ops: set = field(default_factory=set)
    seconds: float = 0.0

    def fail(self, kind: str, sample: Sample, why: str) -> None:
        name = known(why)
        if name:
            self.known[name] += 1
            kind = f"known: {name}"
        reproducers = self.failures.setdefault(kind, [])
        if len(reproducers) < 20:
            reproducers.append(f"{why}\n{sample.reproducer()}")

    def add(self, k: int, sample: Sample, verdict: Verdict) -> None:
        self.outcomes[verdict.outcome] += 1
        self.details.setdefault(verdict.outcome, Counter())[_short(verdict.detail)] += 1
        for tally, text in ((self.jvp, verdict.jvp), (self.hessian, verdict.hessian),
                            (self.torch, verdict.torch)):
            if text:
                tally[text.partition(" [")[0].partition(":")[0]] += 1
        self.closeness.update(verdict.closeness)
        if verdict.torch:
            theirs, _, why = verdict.torch.partition(": ")
            if theirs == "disagreement" and why:
                theirs += ": " + why.partition(" (")[0]
            self.beside[verdict.outcome, theirs] += 1
        where = f"sample {k} (seed [{self.seed}, {k}])"
        for part, text in (("value and gradient", f"{verdict.outcome}: {verdict.detail}"),
                           ("jvp", verdict.jvp), ("hessian", verdict.hessian)):
            kind = next((kind for kind, starts in FAILURES.items()
                         if text.startswith(starts)), "")
            if kind == "over-refusal" and part == "hessian":
                kind = ""  # (reported: the second-order pass has more ways to overflow)
            if kind:
                self.fail(kind, sample, f"{where}: {part}: {text}")
            elif text.startswith(("agree within the textbook", "over-refusal: unexplained")):
                notes = self.notes.setdefault(f"{part}: {text.partition(' [')[0]}", [])
                if len(notes) < 5:
                    notes.append(f"{where}\n{sample.reproducer()}")
        for text in verdict.paths:
            self.fail("paths", sample, f"{where}: {text}")
        for text in verdict.batch:
            self.fail("batch", sample, f"{where}: {text}")

    def unexpected(self, *kinds: str) -> list[str]:
        return [r for kind in kinds for r in self.failures.get(kind, [])]

    def table(self) -> str:
        lines = [f"\nThe differential fuzz: {self.count} DAGs (seed {self.seed}), "
                 f"{self.seconds:.0f} s", "", "value and gradient (eager, judged against the "
                 "exact truth):"]
        for outcome, number in self.outcomes.most_common():
            lines.append(f"  {outcome:<48} {number:>7} {100 * number / self.count:6.2f} %")
            details = self.details.get(outcome, Counter())
            if outcome not in ("agree", "agree within rounding", "both refuse"):
                for detail, k in details.most_common(8):
                    if detail:
                        lines.append(f"      {k:>6}  {detail}")
        for name, tally in (("jvp (directional derivative)", self.jvp),
                            ("hessian (on a third of the DAGs)", self.hessian),
                            ("PyTorch float64 (value and gradient)", self.torch)):
            lines.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in tally.most_common()))
        lines.append("PyTorch beside chainrule (chainrule's row -> PyTorch's row):")
        for (ours, theirs), number in self.beside.most_common():
            if ours != theirs:
                lines.append(f"  {number:>7}  {ours} -> {theirs}")
        lines.append("chainrule's paths compared with eager: " + ", ".join(
            f"{k} {v}" for k, v in self.closeness.most_common()))
        lines.append("known issues (xfail tests below): " + (", ".join(
            f"{k} {v}" for k, v in self.known.items()) or "none"))
        for kind, reproducers in [*self.failures.items(), *self.notes.items()]:
            lines.append(f"\n-- {kind}: (up to 20 kept)")
            lines += reproducers
        return "\n".join(lines)


def _short(detail: str) -> str:
    """A detail without the exception's own numbers, to tally alike causes together."""
    return detail.partition(" [")[0].partition(" -- ")[0] + (
        " -- " + detail.partition(" -- ")[2] if " -- " in detail else "")


def run_fuzz(count: int, seed: int) -> Report:
    try:
        import torch
    except ImportError:  # PyTorch is a peer, not a dependency: its comparison is skipped
        torch = None
    table = torch_ops(torch) if torch is not None else None
    report = Report(count, seed)
    started = time.perf_counter()
    for k in range(count):
        sample = random_sample(seed, k)
        verdict, ops = judge(sample, torch, table)
        report.ops |= ops
        report.add(k, sample, verdict)
    report.seconds = time.perf_counter() - started
    return report


# ---------------------------------------------------------------------------
# The tests


@pytest.fixture(scope="module")
def fuzz() -> Report:
    report = run_fuzz(FUZZ, SEED)
    print(report.table())
    return report


def test_the_generator_reaches_every_op_a_user_can_reach(fuzz):
    assert fuzz.ops >= set(OPS) - {"identity"}  # (identity: grad's own variables)


def test_no_path_returns_a_silent_inf_or_nan(fuzz):
    found = fuzz.unexpected("silent non-finite")
    assert not found, "\n\n".join(found[:3])


def test_eager_value_and_grad_grad_jit_and_jvp_agree_and_refuse_alike(fuzz):
    assert not fuzz.unexpected("paths"), "\n\n".join(fuzz.unexpected("paths")[:3])


def test_jit_per_row_and_batch_agree_with_eager_row_by_row(fuzz):
    assert not fuzz.unexpected("batch"), "\n\n".join(fuzz.unexpected("batch")[:3])


def test_no_disagreement_with_the_exact_truth(fuzz):
    found = fuzz.unexpected("disagreement")
    assert not found, "\n\n".join(found[:3])
    assert fuzz.outcomes["agree"] > fuzz.count // 3 and fuzz.outcomes["both refuse"] > 10


def test_every_refusal_of_a_finite_answer_has_a_cause(fuzz):
    """An over-refusal is explained -- an intermediate beyond the float range, rounding
    onto a domain edge, the documented rule behind a zero factor, ... -- or it is a bug."""
    found = fuzz.unexpected("over-refusal")
    assert not found, "\n\n".join(found[:3])


# ---------------------------------------------------------------------------
# What the fuzz found, not fixed yet: the reproducers (the truth by hand or mpmath)


def test_jit_shifts_softmax_by_the_largest_input_of_each_call():
    # (found by the fuzz: the shift was the input largest at trace time, and a row whose
    # largest input was another gave 1.0 here; it is now maximum nodes under stop_gradient)
    f = lambda x: softmax([x[0], x[1], x[1]])[1]
    compiled = jit(f)
    compiled([2.0, 1.0])  # traced where x[0] is the largest
    assert compiled([1.0, 1e17])[0] == value_and_grad(f)([1.0, 1e17])[0] == 0.5
    values, _ = compiled.batch(np.array([[2.0, 1.0], [1.0, 1e17]]), batched=(0,))
    assert values[1] == 0.5


@pytest.mark.xfail(reason="powv's d/dx = y * x ** (y - 1) overflows in x ** (y - 1) for a "
                          "tiny base although the product is finite: grad(lambda x: x[0] ** "
                          "x[1])([5e-324, 5e-324]) raises OverflowError, the true gradient is "
                          "[(5e-324)**5e-324 = 1 - 3.7e-321, log(5e-324) = -744.44]; "
                          "hessian(lambda x: x[0] ** x[0])([1e-162]) raises (x ** (y - 2)), "
                          "the truth is 1e162 (x^x ((1 + log x)^2 + 1/x))",
                   raises=OverflowError, strict=False)
def test_a_variable_power_of_a_tiny_base_has_its_finite_derivatives():
    dx, dy = grad(lambda x: x[0] ** x[1])([5e-324, 5e-324])
    assert dx == pytest.approx(1.0, rel=1e-15)
    assert dy == pytest.approx(float(mpmath.log(mpmath.mpf(5e-324))), rel=1e-15)
    x = mpmath.mpf(1e-162)
    truth = x**x * ((1 + mpmath.log(x)) ** 2 + 1 / x)
    assert hessian(lambda v: v[0] ** v[0])([1e-162])[0, 0] == pytest.approx(float(truth),
                                                                           rel=1e-12)


@pytest.mark.xfail(reason="jvp refuses where grad refuses for an infinite local derivative, "
                          "but not where the gradient itself overflows: f = lambda x: "
                          "x[0].sqrt() + x[0].sqrt().log() + x[1]; grad(f)([1e-310, 1.0]) "
                          "raises OverflowError (d/dx0 = 5e154 + 5e309), jvp(f, [[1e-310, "
                          "1.0]], [[0.0, 1.0]]) answers (-355.9, 1.0) -- the true directional "
                          "derivative, against the documented one refusal rule",
                   raises=pytest.fail.Exception, strict=False)
def test_jvp_refuses_where_grad_refuses_when_the_gradient_overflows():
    f = lambda x: x[0].sqrt() + x[0].sqrt().log() + x[1]
    with pytest.raises(OverflowError):
        grad(f)([1e-310, 1.0])
    with pytest.raises(OverflowError):
        jvp(f, [[1e-310, 1.0]], [[0.0, 1.0]])


@pytest.mark.xfail(reason="reverse mode multiplies gradients along each path as it goes: "
                          "grad(atan2(v2, 1e-300)) = 4.05e-301 times datan2(log x, x)/dlog x = "
                          "2.1e-306 underflows to 0 before the 1/x = 1e300 that would bring it "
                          "back, so one path's 1.4e-3 share of d/dx at x = 1e-300 is lost "
                          "(PyTorch's reverse mode loses it too); forward mode (jvp) keeps it",
                   strict=True)
def test_a_path_whose_intermediate_gradient_underflows_is_kept():
    def f(x):
        return atan2(atan2(x[0].log(), x[0]), 1e-300)

    x0 = 1e-300
    y = math.log(x0)
    inner = (1 - y) / (x0 * x0 + y * y)  # d atan2(log x, x)/dx, exactly as written
    outer = 1e-300 / (1e-600 + math.atan2(y, x0) ** 2)
    truth = inner * outer  # 5.875e-304, a normal float
    assert jvp(f, [[x0]], [[1.0]])[1] == pytest.approx(truth, rel=1e-12, abs=0)  # forward: right
    assert grad(f)([x0])[0] == pytest.approx(truth, rel=1e-12, abs=0)  # reverse: 1.4e-3 low


def test_numpys_tanh_differs_by_an_ulp_and_1_minus_t_squared_magnifies_it():
    """The fuzz's finding at seed 91, sample 769 (classified in KNOWN): tanh(20 x0) at
    x0 = 0.4558 is 1 - 2.4e-8, where math.tanh and numpy's tanh differ by one ulp, and the
    local derivative 1 - t^2 (the lecture's rule and PyTorch's) turns that ulp into a
    relative difference of ~5e-9 between eager and the batch. Both stay within 4e-9 of
    the exact sech^2, and eager equals the lecture's formula bit for bit."""
    x0, x2 = 0.45583182421396423, 20.0
    f = lambda x: (x[0] * x[2].relu()).tanh()
    value, eager = value_and_grad(f)([x0, -1e-162, x2])
    t = math.tanh(x0 * x2)
    assert eager[0] == (1.0 - t * t) * x2  # the lecture's rule, bit for bit
    values, batch = jit(f).batch([[x0, -1e-162, x2], [0.1, 0.2, 0.3]], batched=(0,))
    with mpmath.workprec(200):
        truth = float(mpmath.sech(mpmath.mpf(x0) * x2) ** 2 * x2)
    for g in (eager[0], float(batch[0][0])):
        assert abs(g - truth) <= 4e-9 * truth
    assert abs(eager[0] - batch[0][0]) <= 1e-8 * truth
    assert abs(value - values[0]) <= 2.3e-16  # one ulp of tanh's value, at most
