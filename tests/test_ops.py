"""Every op of the table, forward and derivative, on both operand sides.

One catalogue of cases drives three checks (minitorch's pattern): the forward
value equals the ``math`` formula, the engine's derivative agrees with central
finite differences (``gradcheck``), and second derivatives agree too. Each
op's inputs are drawn by hypothesis from its domain, kept away from kinks and
singularities.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, atan2, gradcheck, maximum, minimum
from autograd.ops import OPS


def reals(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo, hi, gap=0.05):
    return reals(lo, hi).filter(lambda x: abs(x) > gap)


# (name, math function, engine function, domain)
UNARY = [
    ("neg", lambda x: -x, lambda x: -x, reals(-5, 5)),
    ("exp", math.exp, lambda x: x.exp(), reals(-5, 5)),
    ("log", math.log, lambda x: x.log(), reals(0.1, 10)),
    ("sqrt", math.sqrt, lambda x: x.sqrt(), reals(0.1, 10)),
    ("tanh", math.tanh, lambda x: x.tanh(), reals(-3, 3)),
    ("sigmoid", lambda x: 1 / (1 + math.exp(-x)), lambda x: x.sigmoid(), reals(-6, 6)),
    ("relu", lambda x: max(x, 0.0), lambda x: x.relu(), away_from_zero(-5, 5)),
    ("step", lambda x: float(x > 0), lambda x: x.step(), away_from_zero(-5, 5)),
    ("abs", abs, lambda x: abs(x), away_from_zero(-5, 5)),
    ("sin", math.sin, lambda x: x.sin(), reals(-6, 6)),
    ("cos", math.cos, lambda x: x.cos(), reals(-6, 6)),
    ("tan", math.tan, lambda x: x.tan(), reals(-1.3, 1.3)),
    ("asin", math.asin, lambda x: x.asin(), reals(-0.9, 0.9)),
    ("acos", math.acos, lambda x: x.acos(), reals(-0.9, 0.9)),
    ("atan", math.atan, lambda x: x.atan(), reals(-5, 5)),
    ("sinh", math.sinh, lambda x: x.sinh(), reals(-4, 4)),
    ("cosh", math.cosh, lambda x: x.cosh(), reals(-4, 4)),
    ("log1p", math.log1p, lambda x: x.log1p(), reals(-0.9, 5)),
    ("expm1", math.expm1, lambda x: x.expm1(), reals(-5, 3)),
    ("mod by number", lambda x: x % 1.5, lambda x: x % 1.5,
     reals(-5, 5).filter(lambda x: 0.05 < x % 1.5 < 1.45)),
    ("square", lambda x: x**2, lambda x: x**2, reals(-5, 5)),
    ("cube", lambda x: x**3, lambda x: x**3, reals(-3, 3)),
    ("pow 0.5", lambda x: x**0.5, lambda x: x**0.5, reals(0.1, 10)),
    ("pow -1.5", lambda x: x**-1.5, lambda x: x**-1.5, reals(0.2, 5)),
    ("pow -2 of negative", lambda x: x**-2, lambda x: x**-2, reals(-5, -0.2)),
    ("rpow 2", lambda x: 2.0**x, lambda x: 2**x, reals(-5, 5)),
    ("rpow 0.3", lambda x: 0.3**x, lambda x: 0.3**x, reals(-3, 3)),
    ("div number by x", lambda x: 3.0 / x, lambda x: 3 / x, away_from_zero(-5, 5, 0.2)),
    ("sub number minus x", lambda x: 1.5 - x, lambda x: 1.5 - x, reals(-5, 5)),
    ("number plus x", lambda x: 2.5 + x, lambda x: 2.5 + x, reals(-5, 5)),
    ("number times x", lambda x: -1.5 * x, lambda x: -1.5 * x, reals(-5, 5)),
    ("x minus number", lambda x: x - 1.5, lambda x: x - 1.5, reals(-5, 5)),
    ("x divided by number", lambda x: x / 4.0, lambda x: x / 4, reals(-5, 5)),
    ("x plus numpy scalar", lambda x: x + 2.0, lambda x: x + np.float64(2), reals(-5, 5)),
]

# (name, math function, engine function, domain of (a, b))
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, st.tuples(reals(-5, 5), reals(-5, 5))),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, st.tuples(reals(-5, 5), reals(-5, 5))),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, st.tuples(reals(-5, 5), reals(-5, 5))),
    ("div", lambda a, b: a / b, lambda a, b: a / b,
     st.tuples(reals(-5, 5), away_from_zero(-5, 5, 0.3))),
    ("powv", lambda a, b: a**b, lambda a, b: a**b, st.tuples(reals(0.2, 4), reals(-2, 2))),
    ("atan2", math.atan2, atan2, st.tuples(reals(-5, 5), reals(-5, 5)).filter(
        lambda p: math.hypot(*p) > 0.3 and not (p[1] < 0 and abs(p[0]) < 0.05))),
    ("mod", lambda a, b: a % b, lambda a, b: a % b,
     st.tuples(reals(-5, 5), away_from_zero(-3, 3, 0.3)).filter(
         lambda p: 0.02 < (p[0] % p[1]) / p[1] < 0.98)),
    ("maximum", max, maximum, st.tuples(reals(-5, 5), reals(-5, 5)).filter(
        lambda p: abs(p[0] - p[1]) > 0.05)),
    ("minimum", min, minimum, st.tuples(reals(-5, 5), reals(-5, 5)).filter(
        lambda p: abs(p[0] - p[1]) > 0.05)),
]


def test_catalogue_covers_every_op_of_the_table():
    names = {name.split()[0] for name, *_ in UNARY} | {name for name, *_ in BINARY}
    covered = names | {"pow", "rpow", "identity", "dot", "logsumexp", "stop_gradient"}
    assert set(OPS) <= covered
    # dot, logsumexp and identity have their own tests (test_functions, test_functional);
    # stop_gradient's derivative is 0 by definition, not its function's: tested below


def test_stop_gradient_passes_the_value_and_no_gradient():
    from autograd import grad, hessian, jit, stop_gradient

    assert stop_gradient(2.5) == 2.5
    assert grad(lambda x: x * stop_gradient(x))(3.0) == 3.0  # d/dx (x c) with c = x = 3
    assert grad(lambda x: stop_gradient(x * x))(3.0) == 0.0
    assert hessian(lambda v: v[0] * stop_gradient(v[0] * v[1]))([2.0, 5.0]).tolist() == [
        [0.0, 0.0], [0.0, 0.0]]
    assert jit(lambda x: x * stop_gradient(x))(4.0) == (16.0, 4.0)  # recomputed per call
    assert jit(lambda x: x * stop_gradient(x))(5.0) == (25.0, 5.0)


@pytest.mark.parametrize("name, math_fn, value_fn, domain", UNARY, ids=[c[0] for c in UNARY])
def test_unary_forward_matches_math(name, math_fn, value_fn, domain):
    @settings(max_examples=30, deadline=None)
    @given(domain)
    def check(x):
        assert value_fn(Value(x)).data == pytest.approx(math_fn(x), rel=1e-12, abs=1e-300)

    check()


@pytest.mark.parametrize("name, math_fn, value_fn, domain", UNARY, ids=[c[0] for c in UNARY])
def test_unary_first_and_second_derivatives_match_finite_differences(
    name, math_fn, value_fn, domain
):
    @settings(max_examples=30, deadline=None)
    @given(domain)
    def check(x):
        assert gradcheck(value_fn, [x], order=2)

    check()


@pytest.mark.parametrize("name, math_fn, value_fn, domain", BINARY, ids=[c[0] for c in BINARY])
def test_binary_forward_and_derivatives(name, math_fn, value_fn, domain):
    @settings(max_examples=40, deadline=None)
    @given(domain)
    def check(ab):
        a, b = ab
        assert value_fn(Value(a), Value(b)).data == pytest.approx(math_fn(a, b), rel=1e-12)
        # Value op Value, then Value op number and number op Value
        assert gradcheck(value_fn, [a, b], order=2)
        assert gradcheck(lambda x: value_fn(x, b), [a])
        assert gradcheck(lambda y: value_fn(a, y), [b])
        assert value_fn(Value(a), b).data == value_fn(a, Value(b)).data == value_fn(
            Value(a), Value(b)
        ).data

    check()


@pytest.mark.parametrize(
    "value_fn, expected",
    [
        (lambda x: x + x, 2.0),
        (lambda x: x * 3, 3.0),
        (lambda x: 3 * x, 3.0),
        (lambda x: x - 3, 1.0),
        (lambda x: 3 - x, -1.0),
        (lambda x: x / 4, 0.25),
        (lambda x: 4 / x, -1.0),  # -4 / x^2 at x = 2
        (lambda x: x**3, 12.0),
        (lambda x: 2**x, 4.0 * math.log(2.0)),
        (lambda x: -x, -1.0),
    ],
)
def test_exact_derivatives_at_two(value_fn, expected):
    x = Value(2.0)
    value_fn(x).backward()
    assert x.grad == pytest.approx(expected, rel=1e-15)


def test_kinks_use_pytorch_subgradients():
    for method in ("relu", "abs", "step"):
        x = Value(0.0)
        getattr(x, method)().backward()
        assert x.grad == 0.0, method


def test_op_names_and_operand_order():
    a, b = Value(2.0, "a"), Value(3.0, "b")
    for expr, op in [(a + b, "add"), (a - b, "sub"), (a * b, "mul"), (a / b, "div"),
                     (a**b, "powv")]:
        assert expr.op == op
        assert expr.parents == (a, b)
    reflected = 5 - a
    assert reflected.op == "sub"
    assert reflected.parents[1] is a and reflected.parents[0].data == 5.0
    assert reflected.parents[0].is_constant and not a.is_constant
    assert (a**2).op == "pow" and (2**a).op == "rpow"
    assert a.tanh().op == "tanh" and a.op == "" and a.parents == ()


JIT_CASES = [
    ("tan", lambda x: x.tan(), 0.4), ("asin", lambda x: x.asin(), 0.3),
    ("acos", lambda x: x.acos(), -0.6), ("atan", lambda x: x.atan(), 2.0),
    ("sinh", lambda x: x.sinh(), -1.2), ("cosh", lambda x: x.cosh(), 0.8),
    ("log1p", lambda x: x.log1p(), 0.5), ("expm1", lambda x: x.expm1(), -0.7),
    ("atan2", lambda x: atan2(x, 1.0 - x), 0.3), ("mod", lambda x: (3.0 * x) % (x + 1.0), 0.7),
    ("maximum", lambda x: maximum(x * x, 0.25), 0.8), ("minimum", lambda x: minimum(x, -x), 0.4),
]


@pytest.mark.parametrize("name, f, x", JIT_CASES, ids=[c[0] for c in JIT_CASES])
def test_new_ops_compile_and_batch_like_eager(name, f, x):
    from autograd import jit, value_and_grad

    expected = value_and_grad(f)(x)
    compiled = jit(f)
    value, derivative = compiled(x)
    assert value == pytest.approx(expected[0], rel=1e-12, abs=1e-15)
    assert derivative == pytest.approx(expected[1], rel=1e-12, abs=1e-15)
    points = np.array([x, x * 0.9, x * 1.05])
    values, derivatives = compiled.batch(points, batched=(0,))
    for p, v, d in zip(points, values, derivatives):
        v_eager, d_eager = value_and_grad(f)(float(p))
        assert v == pytest.approx(v_eager, rel=1e-12) and d == pytest.approx(d_eager, rel=1e-12)


@pytest.mark.parametrize("f, x, error, message", [
    (lambda x: x.asin(), 1.5, ValueError, r"asin: argument must be in \[-1, 1\], got 1\.5"),
    (lambda x: x.acos(), -2.0, ValueError, r"acos: argument must be in \[-1, 1\]"),
    (lambda x: x.log1p(), -1.0, ValueError, r"log1p: argument must be > -1"),
    (lambda x: x.sinh(), 800.0, OverflowError, r"sinh: sinh\(800\.0\) overflows"),
    (lambda x: x.expm1(), 800.0, OverflowError, r"expm1: expm1\(800\.0\) overflows"),
    (lambda x: x % (x - 1.0), 1.0, ZeroDivisionError, r"mod: 1\.0 % 0\.0 is undefined"),
    (lambda x: atan2(x, x), 0.0, ZeroDivisionError, r"atan2: the derivative at \(0, 0\)"),
    (lambda x: x.asin(), 1.0, ZeroDivisionError, r"backward through asin\(1\.0\)"),
])
def test_new_ops_refuse_clearly_in_eager_and_jit(f, x, error, message):
    from autograd import jit, value_and_grad

    with pytest.raises(error, match=message):
        value_and_grad(f)(x)
    compiled = jit(f)
    compiled(0.5)
    with pytest.raises(error, match=message):
        compiled(x)


def test_functional_forms_serve_floats_and_values():
    import autograd

    for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "step", "sin", "cos", "tan",
                 "asin", "acos", "atan", "sinh", "cosh", "log1p", "expm1"):
        function = getattr(autograd, name)
        number = function(0.5)
        assert type(number) is float and number == getattr(Value(0.5), name)().data
        assert type(function(1)) is float  # ints too, like math
        assert isinstance(function(Value(0.5)), Value)
    assert autograd.log1p(1e-20) == 1e-20 and autograd.expm1(1e-20) == 1e-20
    assert math.log(1 + 1e-20) == 0.0  # what log1p is for
    assert autograd.atan2(1.0, 1.0) == math.atan2(1.0, 1.0)
    assert autograd.maximum(2.0, 3) == 3.0 and isinstance(autograd.maximum(Value(1.0), 2), Value)
    with pytest.raises(ValueError, match="log: argument must be > 0"):
        autograd.log(-1.0)
    with pytest.raises(TypeError, match="expected a number or a Value, got str"):
        autograd.exp("1")


def test_ties_split_the_gradient_as_pytorch_does():
    from autograd import grad

    assert grad(lambda a, b: maximum(a, b), argnums=(0, 1))(2.0, 2.0) == (0.5, 0.5)
    assert grad(lambda a, b: minimum(a, b), argnums=(0, 1))(2.0, 2.0) == (0.5, 0.5)
    assert grad(lambda a, b: maximum(a, b), argnums=(0, 1))(3.0, 2.0) == (1.0, 0.0)
    assert grad(lambda a, b: a % b, argnums=(0, 1))(7.0, -2.0) == (1.0, 4.0)  # -floor(-3.5)
