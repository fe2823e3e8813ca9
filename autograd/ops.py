"""The op table: every operation's forward formula next to its local derivatives.

An :class:`Op` is pure data. ``forward`` maps the parents' floats to the
output float and raises a clear error outside the op's domain.
``local_grads(*inputs, out)`` returns d(out)/d(input_i) for every input, in
operand order. The rules are written only with arithmetic and the helpers
below, which work on floats *and* on Values: the engine calls a rule with
floats for an ordinary ``backward()`` and with Values when a gradient must be
differentiated again (``grad(grad(f))``), so higher orders need no second set
of rules.

Nothing here knows about the graph; :mod:`autograd.engine` owns that.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from operator import mul as _mul
from typing import Any

__all__ = [
    "CODE_HELPERS",
    "OPS",
    "Op",
    "acos",
    "asin",
    "atan",
    "atan2",
    "cos",
    "cosh",
    "exp",
    "expm1",
    "log",
    "log1p",
    "maximum",
    "minimum",
    "relu",
    "sigmoid",
    "sin",
    "sinh",
    "sqrt",
    "step",
    "stop_gradient",
    "tan",
    "tanh",
]

_EXP_MAX = math.log(1.7976931348623157e308)  # 709.78...: exp() of more overflows


class Op:
    """One operation: name, display symbol, forward formula and local derivatives.

    ``arity`` is the number of parents, or ``None`` for n-ary ops. ``code`` is
    the same op as source text for :mod:`autograd.jit`: a forward template and
    one template per local derivative, over ``{0}``, ``{1}`` (the inputs) and
    ``{out}``, calling only the helpers named in :data:`CODE_HELPERS`; n-ary ops
    give a function ``code(inputs, out) -> (forward, locals)`` instead.
    """

    __slots__ = ("__weakref__", "arity", "code", "forward", "local_grads", "name", "symbol")

    def __init__(
        self,
        name: str,
        symbol: str,
        forward: Callable[..., float],
        local_grads: Callable[..., tuple[Any, ...]],
        arity: int | None,
        code: Any = None,
    ) -> None:
        self.name = name
        self.symbol = symbol
        self.forward = forward
        self.local_grads = local_grads
        self.arity = arity
        self.code = code

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    # An op is immutable and one of a kind (the engine compares ops by identity), and
    # its rules are functions that pickle cannot write: copies are the op itself, and
    # a pickle refers to it by name.
    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: Any) -> Op:
        return self

    def __reduce__(self) -> Any:
        for table in (OPS, _PSEUDO_OPS):
            for key, op in table.items():
                if op is self:
                    return (_op_named, (table is OPS, key))
        from .custom import registered_ops

        for key, op in registered_ops():
            if op is self:
                return (_custom_op_named, (key, self.name))
        raise TypeError(f"cannot pickle the operation {self.name!r}: it is not in the op table")


#: the engine's leaf and constant markers, by name (filled by autograd.engine)
_PSEUDO_OPS: dict[str, Op] = {}


def _op_named(builtin: bool, key: str) -> Op:
    return (OPS if builtin else _PSEUDO_OPS)[key]


def _custom_op_named(key: str, name: str) -> Op:
    from .custom import CUSTOM_OPS

    op = CUSTOM_OPS.get(key)
    if op is None or op.name != name:
        raise ValueError(
            f"unpickling a graph with the custom op {name!r}: custom ops are pickled by "
            "reference and this process has not made it (pickle a graph with custom ops only "
            "to load it in the same process, e.g. copy.deepcopy; elsewhere rebuild the graph)")
    return op


# ---------------------------------------------------------------------------
# The rules call the functional forms (``exp``, ``log``, ``sin``, ... at the end of this
# module), which work on floats and on Values alike. The engine stores data as float,
# so ``type(x) is float`` tells the two apart.


def _data(x) -> float:
    """The number of a Value, or the number itself (a float, or a numpy float that was
    assigned to a Value's .data)."""
    if type(x) is float:
        return x
    return x.data if hasattr(x, "_operation") else x


def _fmt(x: float) -> str:
    return repr(float(x))


# ---------------------------------------------------------------------------
# Forward formulas that have a domain. Each error names the op, the operand
# and what to do about it.


def _div_forward(a: float, b: float) -> float:
    if b == 0.0:
        raise ZeroDivisionError(
            f"div: division by zero in {_fmt(a)} / {_fmt(b)}; "
            "guard the denominator (e.g. add a small epsilon) before dividing"
        )
    return a / b


def _div_local(a, b, out):
    # In a differentiable pass (grad of grad) a constant operand arrives as a float while
    # the output is a Value: a constant denominator's derivative is never used, and
    # computing it could overflow (x / 1e-300), so it is not computed.
    if type(b) is float and type(out) is not float:
        return (1.0 / b, 0.0)
    return (1.0 / b, -out / b)


def _exp_forward(x: float) -> float:
    if x > _EXP_MAX:
        raise OverflowError(
            f"exp: exp({_fmt(x)}) overflows a float (the argument must be <= {_EXP_MAX:.2f}); "
            "rescale the input, or use logsumexp / log_softmax for sums of exponentials"
        )
    return math.exp(x)


def _log_forward(x: float) -> float:
    if x < 0.0:
        raise ValueError(
            f"log: argument must be > 0, got {_fmt(x)}; the logarithm of a negative number "
            "is not real: check the sign of the input (abs() first, or keep it positive "
            "by construction, e.g. exp() or sigmoid())"
        )
    if x == 0.0:
        raise ValueError(
            "log: argument must be > 0, got 0.0; log(0) is -infinity: keep the input away "
            "from 0 (log(x + 1e-12) for an input that can reach 0, or log_softmax instead "
            "of log(softmax))"
        )
    return math.log(x)


def _sqrt_forward(x: float) -> float:
    if x < 0.0:
        raise ValueError(
            f"sqrt: argument must be >= 0, got {_fmt(x)}; "
            "a negative input has no real square root (use abs() first if that is meant)"
        )
    return math.sqrt(x)


def _pow_forward(x: float, y: float) -> float:
    """x ** y over the reals, refusing what would be complex, infinite or overflow."""
    if x < 0.0 and not y.is_integer():
        raise ValueError(
            f"pow: {_fmt(x)} ** {_fmt(y)} is not a real number (negative base, fractional "
            "exponent); use abs() on the base, or an integer exponent"
        )
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError(
            f"pow: 0.0 ** {_fmt(y)} divides by zero (negative exponent of zero); "
            "keep the base away from 0"
        )
    try:
        return math.pow(x, y)
    except OverflowError:
        raise OverflowError(
            f"pow: {_fmt(x)} ** {_fmt(y)} overflows a float; rescale the operands"
        ) from None


def _pow_variable_exponent_forward(x: float, y: float) -> float:
    """x ** y where the exponent is differentiated: d/dy = x**y * log(x) needs x > 0, or
    x = 0 with y > 0 (a base that rounded to 0: x**y = 0, and d/dy = 0, the limit of
    x**y log(x), as PyTorch takes it)."""
    if x < 0.0 or (x == 0.0 and not y > 0.0):
        raise ValueError(
            f"pow: base must be > 0 when the exponent is a Value (d/dy x**y = x**y * log(x)), "
            f"got {_fmt(x)} ** {_fmt(y)}; use a plain number as exponent, or make the base "
            "positive"
        )
    return _pow_forward(x, y)


def _exponent_local(x, out):
    """d/dy x**y = x**y log(x), and 0 at x = 0 (where x**y = 0: the limit)."""
    return 0.0 if _data(x) == 0.0 else out * log(x)


def _dexponent(x: float, out: float) -> float:
    """The jit's d/dy x**y, :func:`_exponent_local` on floats."""
    return 0.0 if x == 0.0 else out * _log_forward(x)


def _pow_local(x, c, out):
    """d/dx x**c = c x**(c-1), and exactly 0 when c == 0 (x**0 is the constant 1), at
    x = 0 too -- as PyTorch, so every derivative of x**n at 0 is exact (x**2 -> 2 x**1
    -> 2 x**0 -> 0). The exponent is a constant: its own derivative is never used."""
    if _data(c) == 0.0:
        return (0.0, 0.0)
    return (c * x ** (c - 1.0), 0.0)


def _pow_derivative_code(x: float, c: float) -> float:
    """The jit's d/dx x**c, the same rule as :func:`_pow_local` on floats."""
    return 0.0 if c == 0.0 else c * _pow_forward(x, c - 1.0)


def _tanh_forward(x: float) -> float:
    return math.tanh(x)


def _sigmoid_forward(x: float) -> float:
    # Two branches so that exp() never overflows: sigmoid(-1000) is 0.0, not an error.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _dot_forward(*args: float) -> float:
    """sum_i w_i * x_i (+ b): parents are w_0..w_{n-1}, x_0..x_{n-1} and an optional bias."""
    n = len(args) >> 1
    total = sum(map(_mul, args[:n], args[n : 2 * n]))
    return total + args[-1] if len(args) & 1 else total


def _dot_local(*args):
    # d/dw_i = x_i, d/dx_i = w_i, d/db = 1; args are the inputs, then the output
    n = (len(args) - 1) >> 1
    if len(args) & 1:  # 2n inputs (no bias) and the output
        return args[n : 2 * n] + args[:n]
    return args[n : 2 * n] + args[:n] + (1.0,)


def _logsumexp_forward(*xs: float) -> float:
    """log(sum_i exp(x_i)), computed as m + log(sum_i exp(x_i - m)) with m = max(x)."""
    m = max(xs)
    return m + math.log(math.fsum([math.exp(x - m) for x in xs]))


#: below this |logsumexp|, exp(x_i - out) is the softmax weight to within 2.3e-13
#: (out is rounded to its ulp, at most 2.3e-13 here); beyond it, the weights are taken
#: relative to the max: at x = [1e17, 1e17], exp(x_i - out) is 1 for both
_SOFTMAX_ROUNDING_SAFE = 1024.0


def _logsumexp_local(*args):
    """d/dx_i logsumexp(x) = softmax(x)_i = exp(x_i - out): as PyTorch computes it where
    |out| < 1024, so that rounding out costs at most 2.3e-13 of a weight; beyond, as
    exp(x_i - m) / sum_j exp(x_j - m) for the constant m = max(x) (the same function for
    any m, so higher derivatives are exact): out is rounded at the scale of x, and at
    x = [1e17, 1e17] exp(x_i - out) would be 1 for both, a gradient summing to 2."""
    inputs, out = args[:-1], args[-1]
    if out is not None and -_SOFTMAX_ROUNDING_SAFE < _data(out) < _SOFTMAX_ROUNDING_SAFE:
        return tuple(exp(x - out) for x in inputs)
    m = max(map(_data, inputs))
    weights = [exp(x - m) for x in inputs]
    values = any(hasattr(w, "_operation") for w in weights)  # a differentiable pass
    total = sum(weights) if values else math.fsum(weights)
    return tuple(w / total for w in weights)


def _softmax_weight(x: float, out: float, i: int, *xs: float) -> float:
    """The jit's d/dx_i logsumexp(xs) (x = xs[i], out = logsumexp(xs)):
    :func:`_logsumexp_local`'s arithmetic on floats, the cheap form where it applies."""
    if -_SOFTMAX_ROUNDING_SAFE < out < _SOFTMAX_ROUNDING_SAFE:
        return math.exp(x - out)
    return _logsumexp_local(*xs, None)[i]


def _dot_code(inputs: list[str], out: str) -> tuple[str, list[str]]:
    n = len(inputs) // 2
    terms = [f"{w} * {x}" for w, x in zip(inputs[:n], inputs[n : 2 * n])]
    if len(inputs) % 2:
        terms.append(inputs[-1])
    bias = ["1.0"] if len(inputs) % 2 else []
    return " + ".join(terms), [*inputs[n : 2 * n], *inputs[:n], *bias]


def _logsumexp_code(inputs: list[str], out: str) -> tuple[str, list[str]]:
    arguments = ", ".join(inputs)
    return f"logsumexp({arguments})", [f"softmax_weight({x}, {out}, {i}, {arguments})"
                                        for i, x in enumerate(inputs)]


def _relu(x: float) -> float:
    return x if x > 0.0 else 0.0


def _step(x: float) -> float:
    return 1.0 if x > 0.0 else 0.0


def _sign(x: float) -> float:
    return (x > 0.0) - (x < 0.0) + 0.0


def _checked(name: str, function: Callable[[float], float], x: float) -> float:
    """``function(x)`` with math's OverflowError turned into a message naming the op."""
    try:
        return function(x)
    except OverflowError:
        raise OverflowError(f"{name}: {name}({_fmt(x)}) overflows a float; rescale the "
                            "input") from None


def _in_unit_interval(name: str, x: float) -> float:
    if not -1.0 <= x <= 1.0:
        raise ValueError(f"{name}: argument must be in [-1, 1], got {_fmt(x)}; outside it "
                         f"{name} is not real (clip the input, or check what feeds it)")
    return x


def _asin_forward(x: float) -> float:
    return math.asin(_in_unit_interval("asin", x))


def _acos_forward(x: float) -> float:
    return math.acos(_in_unit_interval("acos", x))


def _sinh_forward(x: float) -> float:
    return _checked("sinh", math.sinh, x)


def _cosh_forward(x: float) -> float:
    return _checked("cosh", math.cosh, x)


def _expm1_forward(x: float) -> float:
    return _checked("expm1", math.expm1, x)


def _log1p_forward(x: float) -> float:
    if x <= -1.0:
        raise ValueError(f"log1p: argument must be > -1, got {_fmt(x)}; log1p(x) = "
                         "log(1 + x) needs 1 + x > 0")
    return math.log1p(x)


def _mod_forward(a: float, b: float) -> float:
    """a mod b with the sign of b (Python's % and torch.remainder): a - b floor(a / b)."""
    if b == 0.0:
        raise ZeroDivisionError(f"mod: {_fmt(a)} % 0.0 is undefined; keep the divisor away "
                                "from 0")
    return a % b


def _floor_quotient(a, b) -> float:
    """floor(a / b) as Python's float ``//`` computes it: exact where a / b rounds to 0
    (-1e-300 // 1e30 is -1.0) and infinite, not an error, where it overflows -- the
    derivative for a constant divisor is not used, and for a Value divisor an infinite
    one is refused by the engine's check, naming the op."""
    return _data(a) // _data(b)


def _share_of_max(a, b) -> float:
    """d max(a, b) / da: 1 if a > b, 0 if a < b, and 1/2 at a tie (PyTorch splits it)."""
    a, b = _data(a), _data(b)
    return 1.0 if a > b else (0.5 if a == b else 0.0)


def _atan2_local(y, x, out):
    """d/dy atan2(y, x) = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2); undefined at (0, 0).

    Computed with both coordinates divided by s = max(|x|, |y|) (a constant: the same
    function for any s, so higher derivatives are exact): x / (x^2 + y^2) =
    u / (s (u^2 + v^2)) with u = x / s, v = y / s. The squares of x and y themselves
    would overflow beyond 1e154 or vanish below 1e-162."""
    scale = max(abs(_data(x)), abs(_data(y)))
    if scale == 0.0:
        raise ZeroDivisionError("atan2: the derivative at (0, 0) is undefined (the angle "
                                "jumps there); move the point away from the origin")
    u, v = x / scale, y / scale
    q = u * u + v * v  # (x^2 + y^2) / s^2, between 1 and 2
    return (u / q / scale, -v / q / scale)  # (s q would overflow for s beyond 9e307)


def _atan2_code(inputs: list[str], out: str) -> tuple[str, list[str]]:
    y, x = inputs
    return f"atan2({y}, {x})", [f"datan2_dy({y}, {x})", f"datan2_dx({y}, {x})"]


def _datan2_dy(y: float, x: float) -> float:
    """The jit's d/dy atan2(y, x): :func:`_atan2_local`'s arithmetic on floats."""
    return _atan2_local(y, x, None)[0]


def _datan2_dx(y: float, x: float) -> float:
    return _atan2_local(y, x, None)[1]


def _atan_local(x, out):
    """d/dx atan(x) = 1 / (1 + x^2); beyond |x| = 1 as w^2 / (1 + w^2) with w = 1 / x,
    where x^2 would overflow (|x| > 1e154) in a differentiable pass."""
    if abs(_data(x)) > 1.0:
        w = 1.0 / x
        return (w * w / (1.0 + w * w),)
    return (1.0 / (1.0 + x * x),)


def _datan(x: float) -> float:
    """The jit's d/dx atan(x), :func:`_atan_local` on floats."""
    return _atan_local(x, None)[0]


#: helpers the scalar code of ``jit`` writes inline when their argument is a name or a
#: number (a call costs more than the expression): the same rules as ``_relu`` and
#: ``_step`` above, character for character (tests/test_jit.py checks they agree)
INLINE_CODE: dict[str, str] = {
    "relu": "({0} if {0} > 0.0 else 0.0)",
    "step": "(1.0 if {0} > 0.0 else 0.0)",
}

#: the functions the code templates may call, for plain floats (autograd.jit adds
#: vectorised numpy versions with the same names and the same domain checks)
CODE_HELPERS: dict[str, Callable[..., float]] = {
    "div": _div_forward,
    "pow": _pow_forward,
    "dpow": _pow_derivative_code,
    "powv": _pow_variable_exponent_forward,
    "exp": _exp_forward,
    "log": _log_forward,
    "sqrt": _sqrt_forward,
    "tanh": _tanh_forward,
    "sigmoid": _sigmoid_forward,
    "relu": _relu,
    "step": _step,
    "sign": _sign,
    "abs": abs,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": _asin_forward,
    "acos": _acos_forward,
    "atan": math.atan,
    "sinh": _sinh_forward,
    "cosh": _cosh_forward,
    "log1p": _log1p_forward,
    "expm1": _expm1_forward,
    "atan2": math.atan2,
    "datan": _datan,
    "dexponent": _dexponent,
    "datan2_dy": _datan2_dy,
    "datan2_dx": _datan2_dx,
    "softmax_weight": _softmax_weight,
    "mod": _mod_forward,
    "floordiv": _floor_quotient,
    "maximum": max,
    "minimum": min,
    "share": _share_of_max,
    "logsumexp": _logsumexp_forward,
}


# ---------------------------------------------------------------------------
# The table. One entry per op: name, symbol, forward, local derivatives, arity, and
# the same forward and local derivatives as code templates for autograd.jit.

OPS: dict[str, Op] = {
    op.name: op
    for op in (
        # d(a+b)/da = 1, d(a+b)/db = 1
        Op("add", "+", float.__add__, lambda a, b, out: (1.0, 1.0), 2,
           ("{0} + {1}", ("1.0", "1.0"))),
        # d(a-b)/da = 1, d(a-b)/db = -1
        Op("sub", "-", float.__sub__, lambda a, b, out: (1.0, -1.0), 2,
           ("{0} - {1}", ("1.0", "-1.0"))),
        # d(ab)/da = b, d(ab)/db = a
        Op("mul", "*", float.__mul__, lambda a, b, out: (b, a), 2, ("{0} * {1}", ("{1}", "{0}"))),
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -out/b
        Op("div", "/", _div_forward, _div_local, 2,
           ("div({0}, {1})", ("1.0 / {1}", "-{out} / {1}"))),
        # d(-a)/da = -1
        Op("neg", "-", float.__neg__, lambda a, out: (-1.0,), 1, ("-{0}", ("-1.0",))),
        # x ** c, c a constant: d/dx = c x^(c-1), exactly 0 for c = 0
        Op("pow", "**", _pow_forward, _pow_local, 2,
           ("pow({0}, {1})", ("dpow({0}, {1})", "0.0"))),
        # c ** y, c a constant > 0: d/dy = c^y log(c)
        Op("rpow", "**", _pow_variable_exponent_forward,
           lambda c, y, out: (0.0, _exponent_local(c, out)), 2,
           ("powv({0}, {1})", ("0.0", "dexponent({0}, {out})"))),
        # x ** y, both Values, x > 0: d/dx = y x^(y-1), d/dy = x^y log(x)
        Op("powv", "**", _pow_variable_exponent_forward,
           lambda x, y, out: (y * x ** (y - 1.0), _exponent_local(x, out)), 2,
           ("powv({0}, {1})", ("{1} * pow({0}, {1} - 1.0)", "dexponent({0}, {out})"))),
        # d/dx e^x = e^x
        Op("exp", "exp", _exp_forward, lambda x, out: (out,), 1, ("exp({0})", ("{out}",))),
        # d/dx log x = 1/x
        Op("log", "log", _log_forward, lambda x, out: (1.0 / x,), 1, ("log({0})", ("1.0 / {0}",))),
        # d/dx sqrt(x) = 1 / (2 sqrt(x))
        Op("sqrt", "sqrt", _sqrt_forward, lambda x, out: (0.5 / out,), 1,
           ("sqrt({0})", ("0.5 / {out}",))),
        # d/dx tanh x = 1 - tanh(x)^2
        Op("tanh", "tanh", _tanh_forward, lambda x, out: (1.0 - out * out,), 1,
           ("tanh({0})", ("1.0 - {out} * {out}",))),
        # d/dx sigmoid(x) = sigmoid(x) (1 - sigmoid(x))
        Op("sigmoid", "sigmoid", _sigmoid_forward, lambda x, out: (out * (1.0 - out),), 1,
           ("sigmoid({0})", ("{out} * (1.0 - {out})",))),
        # d/dx relu(x) = 1[x > 0] (0 at the kink, as in PyTorch)
        Op("relu", "relu", _relu, lambda x, out: (1.0 if _data(x) > 0.0 else 0.0,), 1,
           ("relu({0})", ("step({0})",))),
        # Heaviside step: 1[x > 0]; its derivative is 0 wherever it exists
        Op("step", "step", _step, lambda x, out: (0.0,), 1, ("step({0})", ("0.0",))),
        # d/dx |x| = sign(x) (0 at 0, as in PyTorch)
        Op("abs", "abs", math.fabs, lambda x, out: (_sign(_data(x)),), 1,
           ("abs({0})", ("sign({0})",))),
        # d/dx sin x = cos x
        Op("sin", "sin", math.sin, lambda x, out: (cos(x),), 1, ("sin({0})", ("cos({0})",))),
        # d/dx cos x = -sin x
        Op("cos", "cos", math.cos, lambda x, out: (-sin(x),), 1, ("cos({0})", ("-sin({0})",))),
        # d/dx tan x = 1 + tan(x)^2
        Op("tan", "tan", math.tan, lambda x, out: (1.0 + out * out,), 1,
           ("tan({0})", ("1.0 + {out} * {out}",))),
        # d/dx asin x = 1 / sqrt(1 - x^2)  (infinite at +-1)
        Op("asin", "asin", _asin_forward, lambda x, out: (1.0 / sqrt(1.0 - x * x),), 1,
           ("asin({0})", ("1.0 / sqrt(1.0 - {0} * {0})",))),
        # d/dx acos x = -1 / sqrt(1 - x^2)
        Op("acos", "acos", _acos_forward, lambda x, out: (-1.0 / sqrt(1.0 - x * x),), 1,
           ("acos({0})", ("-1.0 / sqrt(1.0 - {0} * {0})",))),
        # d/dx atan x = 1 / (1 + x^2)
        Op("atan", "atan", math.atan, _atan_local, 1, ("atan({0})", ("datan({0})",))),
        # d/dx sinh x = cosh x
        Op("sinh", "sinh", _sinh_forward, lambda x, out: (cosh(x),), 1,
           ("sinh({0})", ("cosh({0})",))),
        # d/dx cosh x = sinh x
        Op("cosh", "cosh", _cosh_forward, lambda x, out: (sinh(x),), 1,
           ("cosh({0})", ("sinh({0})",))),
        # d/dx log(1 + x) = 1 / (1 + x); exact for tiny x, where log(1 + x) is not
        Op("log1p", "log1p", _log1p_forward, lambda x, out: (1.0 / (1.0 + x),), 1,
           ("log1p({0})", ("1.0 / (1.0 + {0})",))),
        # d/dx (e^x - 1) = e^x = out + 1
        Op("expm1", "expm1", _expm1_forward, lambda x, out: (out + 1.0,), 1,
           ("expm1({0})", ("{out} + 1.0",))),
        # atan2(y, x): the angle of the point (x, y); d/dy = x / r^2, d/dx = -y / r^2
        Op("atan2", "atan2", math.atan2, _atan2_local, 2, _atan2_code),
        # a mod b = a - b floor(a / b) (sign of b, as torch.remainder): d/da = 1,
        # d/db = -floor(a / b) (piecewise constant quotient)
        Op("mod", "%", _mod_forward, lambda a, b, out: (1.0, -_floor_quotient(a, b)), 2,
           ("mod({0}, {1})", ("1.0", "-floordiv({0}, {1})"))),
        # max(a, b): the gradient goes to the larger operand, split in half at a tie
        Op("maximum", "max", max,
           lambda a, b, out: (_share_of_max(a, b), _share_of_max(b, a)), 2,
           ("maximum({0}, {1})", ("share({0}, {1})", "share({1}, {0})"))),
        # min(a, b): the gradient goes to the smaller operand, split in half at a tie
        Op("minimum", "min", min,
           lambda a, b, out: (_share_of_max(b, a), _share_of_max(a, b)), 2,
           ("minimum({0}, {1})", ("share({1}, {0})", "share({0}, {1})"))),
        # identity, used to make a fresh differentiation variable of a Value: d/dx x = 1
        Op("identity", "id", lambda x: x, lambda x, out: (1.0,), 1, ("{0}", ("1.0",))),
        # stop_gradient(x) = x, with derivative 0 by definition (JAX's stop_gradient): a
        # number computed from the graph that the chain rule treats as a constant
        Op("stop_gradient", "sg", lambda x: x, lambda x, out: (0.0,), 1, ("{0}", ("0.0",))),
        # w.x (+ b): d/dw_i = x_i, d/dx_i = w_i, d/db = 1
        Op("dot", "dot", _dot_forward, _dot_local, None, _dot_code),
        # log sum exp(x): d/dx_i = softmax(x)_i
        Op("logsumexp", "logsumexp", _logsumexp_forward, _logsumexp_local, None,
           _logsumexp_code),
    )
}


# ---------------------------------------------------------------------------
# Functional forms: ``exp(x)`` for a number is a float (like ``math.exp``, with the
# op's domain checks and messages); for a Value it is a Value (the op recorded). The
# derivative rules above are written with them, so the same rule serves a float pass
# and a differentiable one.


def _real(x: Any, name: str) -> float:
    """A real number (int, float, numpy scalar) as a float, as ``math`` accepts."""
    if isinstance(x, numbers.Real) or getattr(x, "shape", None) == ():
        return float(x)
    raise TypeError(f"{name}: expected a number or a Value, got {type(x).__name__}")


def _unary_form(name: str, doc: str) -> Callable[[Any], Any]:
    op = OPS[name]

    def function(x: Any) -> Any:
        if type(x) is float:
            return op.forward(x)
        if hasattr(x, "_operation"):  # a Value: record the op
            return getattr(x, name)()
        return op.forward(_real(x, name))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"{doc} -- a float for a number, a Value for a Value."
    return function


exp = _unary_form("exp", "e**x; d/dx = e**x")
log = _unary_form("log", "Natural logarithm (x > 0); d/dx = 1/x")
sqrt = _unary_form("sqrt", "Square root (x >= 0); d/dx = 1 / (2 sqrt(x))")
tanh = _unary_form("tanh", "Hyperbolic tangent; d/dx = 1 - tanh(x)**2")
sigmoid = _unary_form("sigmoid", "Logistic function 1 / (1 + e**-x); d/dx = s (1 - s)")
relu = _unary_form("relu", "max(0, x); d/dx = 1[x > 0]")
step = _unary_form("step", "Heaviside 1[x > 0]; derivative 0")
sin = _unary_form("sin", "Sine; d/dx = cos(x)")
cos = _unary_form("cos", "Cosine; d/dx = -sin(x)")
tan = _unary_form("tan", "Tangent; d/dx = 1 + tan(x)**2")
asin = _unary_form("asin", "Arcsine (|x| <= 1); d/dx = 1 / sqrt(1 - x**2)")
acos = _unary_form("acos", "Arccosine (|x| <= 1); d/dx = -1 / sqrt(1 - x**2)")
atan = _unary_form("atan", "Arctangent; d/dx = 1 / (1 + x**2)")
sinh = _unary_form("sinh", "Hyperbolic sine; d/dx = cosh(x)")
cosh = _unary_form("cosh", "Hyperbolic cosine; d/dx = sinh(x)")
log1p = _unary_form("log1p", "log(1 + x), exact for tiny x (x > -1); d/dx = 1 / (1 + x)")
expm1 = _unary_form("expm1", "e**x - 1, exact for tiny x; d/dx = e**x")


def stop_gradient(x: Any) -> Any:
    """``x``'s value, with derivative 0 (JAX's ``lax.stop_gradient``): the chain rule
    passes nothing through it. Unlike ``Value.detach()`` (a new leaf, a number fixed when
    it is made) it is an operation of the graph, so ``jit`` recomputes it on every call.
    A float for a number, a Value for a Value."""
    if hasattr(x, "_operation"):
        from .engine import apply  # (the engine imports this module)

        return apply(OPS["stop_gradient"], x)
    return _real(x, "stop_gradient")


def _binary_form(name: str, doc: str) -> Callable[[Any, Any], Any]:
    op = OPS[name]

    def function(a: Any, b: Any) -> Any:
        if hasattr(a, "_operation") or hasattr(b, "_operation"):
            from .engine import apply  # (the engine imports this module)

            return apply(op, a, b)
        return op.forward(_real(a, name), _real(b, name))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"{doc} -- a float for numbers, a Value if either is a Value."
    return function


atan2 = _binary_form("atan2", "atan2(y, x), the angle of the point (x, y); "
                              "d/dy = x / r**2, d/dx = -y / r**2")
maximum = _binary_form("maximum", "max(a, b); the gradient goes to the larger, half each "
                                  "at a tie")
minimum = _binary_form("minimum", "min(a, b); the gradient goes to the smaller, half each "
                                  "at a tie")
