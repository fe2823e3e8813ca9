"""The numpy versions of the generated code's helpers, with the same domain checks:
what ``jit``'s batch mode and its vectorized code call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..ops import _EXP_MAX, _SOFTMAX_ROUNDING_SAFE, CODE_HELPERS


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
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    _np_check((x < 0.0) | ((x == 0.0) & ~(y > 0.0)),
              "pow: base must be > 0 when the exponent is a Value")
    return _np_pow(x, y)


def _np_dexponent(x: Any, out: Any) -> Any:
    """d/dy x**y as ops._exponent_local: 0 where x = 0."""
    x = np.asarray(x, dtype=float)
    return np.where(x == 0.0, 0.0, out * np.log(np.where(x == 0.0, 1.0, x)))


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


def _np_datan(x: Any) -> Any:
    x = np.asarray(x, dtype=float)
    far = np.abs(x) > 1.0
    w = 1.0 / np.where(far, x, 1.0)  # as ops._atan_local: no x**2 beyond |x| = 1
    return np.where(far, w * w / (1.0 + w * w), 1.0 / (1.0 + x * x))


def _np_datan2(y: Any, x: Any) -> tuple[Any, Any]:
    """(d/dy, d/dx) of atan2, with the coordinates scaled as ops._atan2_local does."""
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    scale = np.maximum(np.abs(x), np.abs(y))
    _np_check(scale == 0.0, "atan2: the derivative at (0, 0) is undefined", ZeroDivisionError)
    u, v = x / scale, y / scale
    r = scale * (u * u + v * v)
    return u / r, -v / r


def _np_softmax_weight(x: Any, out: Any, i: int, *xs: Any) -> Any:
    """d/dx_i logsumexp(xs) as ops._softmax_weight: exp(x - out) where |out| < 1024, else
    weights relative to the max."""
    out = np.asarray(out, dtype=float)
    cheap = np.exp(np.asarray(x, dtype=float) - out)
    far = np.abs(out) >= _SOFTMAX_ROUNDING_SAFE
    if not np.any(far):
        return cheap
    xs = [np.asarray(v, dtype=float) for v in xs]
    m = np.maximum.reduce(np.broadcast_arrays(*xs))
    weights = [np.exp(v - m) for v in xs]
    return np.where(far, weights[i] / sum(weights), cheap)


def _np_floordiv(a: Any, b: Any) -> Any:
    """floor(a / b) as Python's float // (exact where a / b underflows; inf on overflow)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.floor_divide(np.asarray(a, dtype=float), b)


NUMPY_HELPERS: dict[str, Callable[..., Any]] = {
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
    "step": lambda x: (np.asarray(x) > 0.0) * 1.0,
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
    "floordiv": _np_floordiv,
    "datan": _np_datan,
    "dexponent": _np_dexponent,
    "datan2_dy": lambda y, x: _np_datan2(y, x)[0],
    "datan2_dx": lambda y, x: _np_datan2(y, x)[1],
    "softmax_weight": _np_softmax_weight,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "share": lambda a, b: np.where(np.asarray(a) > b, 1.0, np.where(np.asarray(a) == b, 0.5,
                                                                     0.0)),
    "logsumexp": _np_logsumexp,
}
assert set(NUMPY_HELPERS) == set(CODE_HELPERS)


def _number_sign(x: Any) -> float:
    """sign(x) of a float or a numpy number: 1.0, -1.0, or 0.0 at 0 and for nan, as the
    op table's (which subtracts the comparisons' bools: numpy's bools refuse that)."""
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


#: the helpers of the scalar statements in per-sample vectorized code: their numbers are
#: numpy scalars (pack members, h[j]) -- a float subclass, which the op table's float
#: helpers take, with the same results and the same errors (checked against floats for
#: every helper; a floor division by 0 gives inf there, refused by the finiteness check)
#: at ~1/100 of the cost of the numpy helpers on one number. Only sign needs its own.
SCALAR_HELPERS: dict[str, Callable[..., Any]] = {**CODE_HELPERS, "sign": _number_sign}
