"""Random expression trees (hypothesis): the engine's forward pass equals plain float
math, and its first and second derivatives equal finite differences.

A tree is nested tuples; it is evaluated twice, once over Values and once over
floats with ``math``, from the same definition. Every op keeps its input in
its domain (``log(1 + a^2)``, ``a / (1 + b^2)``, ``exp(tanh(a))``), and
``shared`` reuses one subtree on several paths.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, gradcheck, log_softmax, logsumexp

N_VARS = 3


def math_logsumexp(*xs):
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


UNARY = {
    "tanh": (lambda a: a.tanh(), math.tanh),
    "sin": (lambda a: a.sin(), math.sin),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + math.exp(-a))),
    "exp_tanh": (lambda a: a.tanh().exp(), lambda a: math.exp(math.tanh(a))),
    "log1p_sq": (lambda a: (1 + a * a).log(), lambda a: math.log(1 + a * a)),
    "sqrt1p_sq": (lambda a: (1 + a**2).sqrt(), lambda a: math.sqrt(1 + a**2)),
    "neg": (lambda a: -a, lambda a: -a),
    "shared": (lambda a: a * a - a, lambda a: a * a - a),  # a used on three paths
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "safe_div": (lambda a, b: a / (1 + b * b), lambda a, b: a / (1 + b * b)),
    "lse": (lambda a, b: logsumexp([a, b]), lambda a, b: math_logsumexp(a, b)),
    "logsm": (lambda a, b: log_softmax([a, b, 0.5])[1], lambda a, b: b - math_logsumexp(a, b, 0.5)),
}

leaves = st.one_of(
    st.tuples(st.just("var"), st.integers(0, N_VARS - 1)),
    st.tuples(st.just("const"), st.floats(-2, 2)),
)
trees = st.recursive(
    leaves,
    lambda sub: st.one_of(
        st.tuples(st.sampled_from(sorted(UNARY)), sub),
        st.tuples(st.sampled_from(sorted(BINARY)), sub, sub),
    ),
    max_leaves=8,
)
points = st.lists(st.floats(-1.5, 1.5), min_size=N_VARS, max_size=N_VARS)


def evaluate(tree, xs, backend):
    """backend 0: Values (xs are Values), backend 1: floats with math."""
    kind = tree[0]
    if kind == "var":
        return xs[tree[1]]
    if kind == "const":
        return Value(tree[1]) if backend == 0 else tree[1]
    if kind in UNARY:
        return UNARY[kind][backend](evaluate(tree[1], xs, backend))
    return BINARY[kind][backend](evaluate(tree[1], xs, backend), evaluate(tree[2], xs, backend))


def as_value_function(tree):
    return lambda *xs: evaluate(tree, xs, 0)


@settings(max_examples=150, deadline=None)
@given(trees, points)
def test_forward_equals_float_math(tree, xs):
    got = as_value_function(tree)(*[Value(x) for x in xs]).data
    assert got == pytest.approx(evaluate(tree, xs, 1), rel=1e-12, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(trees, points)
def test_first_and_second_derivatives_equal_finite_differences(tree, xs):
    assert gradcheck(as_value_function(tree), xs, order=2, atol=1e-5, rtol=1e-4)
