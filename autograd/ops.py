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
from collections.abc import Callable
from operator import mul as _mul
from typing import Any

__all__ = ["CODE_HELPERS", "OPS", "Op"]

_EXP_MAX = math.log(1.7976931348623157e308)  # 709.78...: exp() of more overflows


class Op:
    """One operation: name, display symbol, forward formula and local derivatives.

    ``arity`` is the number of parents, or ``None`` for n-ary ops. ``code`` is
    the same op as source text for :mod:`autograd.jit`: a forward template and
    one template per local derivative, over ``{0}``, ``{1}`` (the inputs) and
    ``{out}``, calling only the helpers named in :data:`CODE_HELPERS`; n-ary ops
    give a function ``code(inputs, out) -> (forward, locals)`` instead.
    """

    __slots__ = ("arity", "code", "forward", "local_grads", "name", "symbol")

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


# ---------------------------------------------------------------------------
# Helpers usable in rules on floats and on Values alike.
# The engine stores data as float, so ``type(x) is float`` tells the two apart.


def _exp(x):
    return _exp_forward(x) if type(x) is float else x.exp()


def _log(x):
    return _log_forward(x) if type(x) is float else x.log()


def _sin(x):
    return math.sin(x) if type(x) is float else x.sin()


def _cos(x):
    return math.cos(x) if type(x) is float else x.cos()


def _data(x) -> float:
    return x if type(x) is float else x.data


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
    """x ** y where the exponent is differentiated: d/dy = x**y * log(x) needs x > 0."""
    if x <= 0.0:
        raise ValueError(
            f"pow: base must be > 0 when the exponent is a Value (d/dy x**y = x**y * log(x)), "
            f"got base {_fmt(x)}; use a plain number as exponent, or make the base positive"
        )
    return _pow_forward(x, y)


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


def _logsumexp_local(*args):
    *inputs, out = args
    return tuple(_exp(x - out) for x in inputs)  # softmax_i = exp(x_i - logsumexp(x))


def _dot_code(inputs: list[str], out: str) -> tuple[str, list[str]]:
    n = len(inputs) // 2
    terms = [f"{w} * {x}" for w, x in zip(inputs[:n], inputs[n : 2 * n])]
    if len(inputs) % 2:
        terms.append(inputs[-1])
    bias = ["1.0"] if len(inputs) % 2 else []
    return " + ".join(terms), [*inputs[n : 2 * n], *inputs[:n], *bias]


def _logsumexp_code(inputs: list[str], out: str) -> tuple[str, list[str]]:
    return f"logsumexp({', '.join(inputs)})", [f"exp({x} - {out})" for x in inputs]


def _relu(x: float) -> float:
    return x if x > 0.0 else 0.0


def _step(x: float) -> float:
    return 1.0 if x > 0.0 else 0.0


def _sign(x: float) -> float:
    return (x > 0.0) - (x < 0.0) + 0.0


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
           lambda c, y, out: (0.0, out * _log(c)), 2,
           ("powv({0}, {1})", ("0.0", "{out} * log({0})"))),
        # x ** y, both Values, x > 0: d/dx = y x^(y-1), d/dy = x^y log(x)
        Op("powv", "**", _pow_variable_exponent_forward,
           lambda x, y, out: (y * x ** (y - 1.0), out * _log(x)), 2,
           ("powv({0}, {1})", ("{1} * pow({0}, {1} - 1.0)", "{out} * log({0})"))),
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
        Op("abs", "abs", abs, lambda x, out: (_sign(_data(x)),), 1, ("abs({0})", ("sign({0})",))),
        # d/dx sin x = cos x
        Op("sin", "sin", math.sin, lambda x, out: (_cos(x),), 1, ("sin({0})", ("cos({0})",))),
        # d/dx cos x = -sin x
        Op("cos", "cos", math.cos, lambda x, out: (-_sin(x),), 1, ("cos({0})", ("-sin({0})",))),
        # identity, used to make a fresh differentiation variable of a Value: d/dx x = 1
        Op("identity", "id", lambda x: x, lambda x, out: (1.0,), 1, ("{0}", ("1.0",))),
        # w.x (+ b): d/dw_i = x_i, d/dx_i = w_i, d/db = 1
        Op("dot", "dot", _dot_forward, _dot_local, None, _dot_code),
        # log sum exp(x): d/dx_i = softmax(x)_i
        Op("logsumexp", "logsumexp", _logsumexp_forward, _logsumexp_local, None,
           _logsumexp_code),
    )
}
