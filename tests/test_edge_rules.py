"""The rules at the ends of the float range, and one refusal rule for every mode.

Each case is a reproducer that used to give a silent wrong number, or refuse where the
true derivative is a finite float; the expected values are worked out by hand (or with
mpmath at 50 digits) in the comments, never taken from the code under test."""

import math

import mpmath
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
    softmax,
    stop_gradient,
)

mpmath.mp.dps = 50


def mp(x):
    return mpmath.mpf(x)


# -- atan and atan2: scaled, never squared ---------------------------------------------


def test_atan2_derivative_where_x2_plus_y2_overflows():
    # d/dx atan2(y, x) = -y / (x^2 + y^2); at y = -3.9e212, x = -1: 1 / 3.9e212
    y, x = mp(-3.9e212), mp(-1.0)
    truth = float(mp(1e300) * -y / (x * x + y * y))
    assert grad(lambda x: 1e300 * atan2(-3.9e212, x))(-1.0) == pytest.approx(truth, rel=1e-14)
    assert truth == pytest.approx(2.564102564102564e87, rel=1e-14)
    assert jit(lambda x: 1e300 * atan2(-3.9e212, x))(-1.0)[1] == pytest.approx(truth, rel=1e-14)


def test_atan2_derivative_where_x2_plus_y2_underflows():
    # d/dy atan2(y, x) = x / (x^2 + y^2) = 1e-200 / 2e-400 = 5e199
    assert grad(lambda y: atan2(y, 1e-200))(1e-200) == pytest.approx(5e199, rel=1e-14)
    assert jit(lambda y: atan2(y, 1e-200))(1e-200)[1] == pytest.approx(5e199, rel=1e-14)


def test_atan2_at_the_origin_is_still_refused():
    with pytest.raises(ZeroDivisionError, match=r"atan2.*\(0, 0\)"):
        grad(lambda y: atan2(y, 0.0))(0.0)


@pytest.mark.parametrize("x", [1e154, 1e160, -1e200, 1e300])
def test_atan_hessian_beyond_1e154(x):
    # d2/dx2 atan = -2x / (1 + x^2)^2 ~ -2 / x^3: it underflows to -0.0 or a subnormal
    second = grad(grad(lambda v: v.atan()))(x)
    assert second == pytest.approx(float(-2 * mp(x) / (1 + mp(x) ** 2) ** 2), abs=1e-320)
    assert grad(lambda v: v.atan())(x) == pytest.approx(1 / x / x, rel=1e-14, abs=1e-320)


def test_atan2_hessian_is_exact_at_large_scale():
    h = hessian(lambda v: atan2(v[0], v[1]))([3e150, 4e150])
    # d2/dy2 = -2xy / r^4 with r^2 = 25e300: -2 * 12e300 / 625e600
    assert h[0, 0] == pytest.approx(-24e300 / 625e300 / 1e300, rel=1e-13, abs=0)  # -3.84e-302


# -- mod: no derivative for a constant divisor, an exact floor quotient -----------------


def test_mod_by_a_tiny_constant_has_derivative_one():
    assert grad(lambda x: x % 1e-310)(2.4e90) == 1.0
    assert jit(lambda x: x % 1e-310)(2.4e90)[1] == 1.0


def test_mod_derivative_when_the_quotient_underflows():
    # d/db (a mod b) = -floor(a / b); a / b = -1e-330 rounds to -0.0, but its floor is -1
    assert grad(lambda b: (-1e-300) % b)(1e30) == 1.0
    assert jit(lambda b: (-1e-300) % b)(1e30)[1] == 1.0


def test_mod_by_a_variable_tiny_divisor_is_refused_not_wrong():
    # d/db = -floor(2.4e90 / 1e-310): beyond any float
    with pytest.raises(OverflowError, match="mod"):
        grad(lambda b: 2.4e90 % b)(1e-310)


# -- logsumexp and softmax -------------------------------------------------------------


@pytest.mark.parametrize("x", [1e16, 1e17, 3e200])
def test_logsumexp_gradient_at_a_large_tie_sums_to_one(x):
    assert list(grad(lambda v: logsumexp([v[0], v[1]]))([x, x])) == [0.5, 0.5]
    assert list(jit(lambda v: logsumexp([v[0], v[1]]))([x, x])[1]) == [0.5, 0.5]
    _, tangent = jvp(lambda v: logsumexp([v[0], v[1]]), [[x, x]], [[1.0, 1.0]])
    assert tangent == 1.0


def test_jit_recomputes_the_softmax_shift_on_every_call():
    jf = jit(lambda x: softmax([x[0], x[1]])[0])
    assert jf([0.0, 0.0])[0] == 0.5
    value, gradient = jf([1e17, 1e17])
    assert value == 0.5 and list(gradient) == [0.25, -0.25]
    value, gradient = jf([1e17, 0.0])
    assert value == 1.0 and list(gradient) == [0.0, 0.0]


def test_softmax_of_a_tie_is_exactly_half_and_its_shift_passes_no_gradient():
    assert [p.data for p in softmax([1000.0, 1000.0])] == [0.5, 0.5]
    x = [Value(1000.0), Value(999.0)]
    log_softmax(x)[1].backward()
    s = 1 / (1 + math.exp(-1.0))  # softmax of the larger
    assert x[0].grad == pytest.approx(-s, rel=1e-15)
    assert x[1].grad == pytest.approx(1 - (1 - s), rel=1e-15)


def test_softmax_whose_difference_overflows_is_refused_naming_the_subtraction():
    with pytest.raises(OverflowError, match="sub"):
        softmax([-1e308, 1e308])


# -- powers with a Value exponent --------------------------------------------------------


def test_a_base_that_rounded_to_zero_with_a_positive_exponent():
    # (x * 1e-200) ** y at x = 1e-200: the base is 0.0, x**y = 0 and d/dy = 0 (PyTorch too)
    assert grad(lambda y: (Value(1e-200) * 1e-200) ** y)(2.0) == 0.0
    assert jit(lambda y: (Value(1e-200) * 1e-200) ** y)(2.0)[1] == 0.0
    assert grad(lambda y: 0.0 ** y)(1.5) == 0.0


def test_zero_to_a_non_positive_variable_power_is_still_refused():
    for y in (0.0, -1.0):
        with pytest.raises(ValueError, match="base must be > 0"):
            grad(lambda e: 0.0 ** e)(y)


# -- one refusal rule for backward, grad, jvp and jit ------------------------------------


def test_jvp_refuses_where_grad_refuses_even_with_a_zero_tangent():
    f = lambda v: v[0] + v[1] ** 0.5  # d/dv1 at v1 = 0 is infinite
    with pytest.raises(ZeroDivisionError):
        grad(f)([1.0, 0.0])
    with pytest.raises(ZeroDivisionError):
        jvp(f, [[1.0, 0.0]], [[1.0, 0.0]])  # the tangent of v1 is 0: still refused


def test_backward_through_dot_refuses_a_leaf_gradient_that_overflows():
    x = Value(0.0)
    y = dot([Value(1e308)], [x]) - dot([Value(-1e308)], [x])
    with pytest.raises(OverflowError, match="backward through dot"):
        y.backward()
    with pytest.raises(OverflowError):
        grad(lambda v: dot([Value(1e308)], [v]) - dot([Value(-1e308)], [v]))(0.0)


def test_backward_through_relu_refuses_a_leaf_gradient_that_overflows():
    x = Value(1e-10)
    y = x.relu() * 1e308 + x.relu() * 1e308
    with pytest.raises(OverflowError, match="backward through relu"):
        y.backward()


def test_backward_twice_through_a_dot_refuses_when_the_sum_overflows():
    x, w = Value(1.0), Value(1e308)
    y = dot([w], [x])
    y.backward()
    assert x.grad == 1e308
    with pytest.raises(OverflowError, match="backward through dot"):
        y.backward()


def test_finite_gradients_whose_sum_overflows_are_not_refused():
    # the unrolled dot checks the sum of the grads it updated; 1e308 + 1e308 overflows
    # although each grad is finite: that is not an error
    w1, w2, x1, x2 = Value(1e-300), Value(1e-300), Value(1e308), Value(1e308)
    dot([w1, w2], [x1, x2]).backward()  # grads: x1, x2 (1e308 each) and w1, w2
    assert w1.grad == 1e308 and w2.grad == 1e308 and x1.grad == 1e-300


def test_stop_gradient_is_a_node_jit_recomputes():
    f = jit(lambda x: x * stop_gradient(x * x))
    assert f(2.0) == (8.0, 4.0) and f(3.0) == (27.0, 9.0)


# -- growth: the custom-op registry and explain ------------------------------------------


def test_custom_ops_that_are_dropped_leave_the_registry():
    import gc

    from autograd import custom_op
    from autograd.custom import CUSTOM_OPS

    before = len(CUSTOM_OPS)
    for _ in range(2_000):
        square = custom_op("square", lambda x: x * x, lambda x, out: (2.0 * x,))
        square(Value(1.5))
    gc.collect()
    assert len(CUSTOM_OPS) <= before + 1  # the last one is still referenced
    assert jit(lambda x: square(x) * x)(2.0) == (8.0, 12.0)


def test_jit_compiles_while_another_thread_makes_custom_ops():
    import threading

    from autograd import custom_op

    stop, errors = threading.Event(), []

    def make_ops():
        while not stop.is_set():
            custom_op("tmp", lambda x: x + 1.0, lambda x, out: (1.0,))

    maker = threading.Thread(target=make_ops)
    maker.start()
    try:
        for k in range(200):
            try:
                jit(lambda x, k=k: x * float(k))(1.0)
            except RuntimeError as error:  # "dictionary changed size during iteration"
                errors.append(error)
    finally:
        stop.set()
        maker.join()
    assert errors == []


def test_explain_follows_a_long_chain():
    from autograd import explain

    x = Value(1.0, "x")
    y = x
    for _ in range(20_000):
        y = y * 1.0000001
    y.backward()
    derivation = explain(y, x)
    assert derivation.num_paths == 1 and derivation.total == x.grad
    assert len(derivation.paths[0][0]) == 20_001  # every node on the one path


def test_training_with_huge_finite_parameters_is_not_called_diverged():
    from nn.training import _Values

    values = _Values.__new__(_Values)
    values.params = [Value(1e308), Value(1e308)]  # their sum overflows; each is finite
    assert values.finite()
    values.params[0].data = float("inf")  # (set directly, as a diverging step does)
    assert not values.finite()


def test_atan2_derivatives_near_the_largest_float_are_the_exact_ones():
    """x / (x^2 + y^2) at |x|, |y| near 1e308 is a finite (subnormal) number: the scaled
    formula must not overflow on the way (s (u^2 + v^2) did, beyond s = 9e307)."""
    import mpmath

    from autograd import atan2, grad, jit

    f = lambda p: atan2(p[0], p[1])
    for point in ([1e308, 1e308], [1.7e308, -1e308], [-9e307, 1.2e308]):
        y, x = map(mpmath.mpf, point)
        exact = [float(x / (x * x + y * y)), float(-y / (x * x + y * y))]
        assert grad(f)(point) == exact
        assert [float(v) for v in jit(f)(point)[1]] == exact
