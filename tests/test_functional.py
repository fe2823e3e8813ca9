"""grad / value_and_grad: pure, nestable, with closed-form higher derivatives as oracle."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, grad, no_grad, value_and_grad


def nth(f, n):
    for _ in range(n):
        f = grad(f)
    return f


def sig(x):
    return 1 / (1 + math.exp(-x))


# f, [f', f'', f'''] in closed form, domain
CLOSED_FORMS = [
    ("tanh", lambda x: x.tanh(), [
        lambda x: 1 - math.tanh(x) ** 2,
        lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2),
        lambda x: -2 * (1 - math.tanh(x) ** 2) * (1 - 3 * math.tanh(x) ** 2),
    ], (-3, 3)),
    ("sigmoid", lambda x: x.sigmoid(), [
        lambda x: sig(x) * (1 - sig(x)),
        lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
        lambda x: sig(x) * (1 - sig(x)) * (1 - 6 * sig(x) + 6 * sig(x) ** 2),
    ], (-5, 5)),
    ("exp", lambda x: x.exp(), [math.exp, math.exp, math.exp], (-4, 4)),
    ("log", lambda x: x.log(), [
        lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3,
    ], (0.2, 5)),
    ("pow 3.5", lambda x: x**3.5, [
        lambda x: 3.5 * x**2.5, lambda x: 3.5 * 2.5 * x**1.5, lambda x: 3.5 * 2.5 * 1.5 * x**0.5,
    ], (0.2, 3)),
    ("pow -2", lambda x: x**-2, [
        lambda x: -2 * x**-3, lambda x: 6 * x**-4, lambda x: -24 * x**-5,
    ], (0.3, 3)),
    ("rpow 3", lambda x: 3**x, [
        lambda x: 3**x * math.log(3), lambda x: 3**x * math.log(3) ** 2,
        lambda x: 3**x * math.log(3) ** 3,
    ], (-2, 2)),
    ("sin", lambda x: x.sin(), [
        math.cos, lambda x: -math.sin(x), lambda x: -math.cos(x),
    ], (-4, 4)),
    ("sqrt", lambda x: x.sqrt(), [
        lambda x: 0.5 * x**-0.5, lambda x: -0.25 * x**-1.5, lambda x: 0.375 * x**-2.5,
    ], (0.2, 4)),
]


@pytest.mark.parametrize("name, f, derivatives, domain", CLOSED_FORMS,
                         ids=[c[0] for c in CLOSED_FORMS])
def test_first_second_and_third_derivatives_match_closed_forms(name, f, derivatives, domain):
    @settings(max_examples=20, deadline=None)
    @given(st.floats(*domain))
    def check(x):
        for order, exact in enumerate(derivatives, start=1):
            got = nth(f, order)(x)
            assert type(got) is float
            assert got == pytest.approx(exact(x), rel=1e-9, abs=1e-12), (name, order)

    check()


def test_grad_returns_floats_and_value_and_grad_returns_both():
    f = lambda x: x * x * x
    assert grad(f)(2.0) == 12.0 and type(grad(f)(2.0)) is float
    value, slope = value_and_grad(f)(2.0)
    assert (value, slope) == (8.0, 12.0) and type(value) is float


def test_argnums_int_and_tuple():
    f = lambda x, y, z: x * y + z * z
    assert grad(f, argnums=1)(2.0, 3.0, 0.0) == 2.0
    assert grad(f, argnums=(0, 2))(2.0, 3.0, 0.5) == (3.0, 1.0)
    assert grad(f, argnums=-1)(2.0, 3.0, 0.5) == 1.0
    with pytest.raises(TypeError, match="argument 5"):
        grad(f, argnums=5)(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match="argnums"):
        grad(f, argnums=())


def test_mixed_partial_derivatives():
    f = lambda x, y: x * x * y * y * y  # d2f/dxdy = 6 x y^2
    fxy = grad(lambda x, y: grad(f, argnums=0)(x, y), argnums=1)
    assert fxy(2.0, 3.0) == pytest.approx(6 * 2 * 9)


def test_gradient_of_a_list_argument_has_its_shape():
    loss = lambda w, x: sum(wi * xi for wi, xi in zip(w, x)).tanh()
    gw = grad(loss)([0.1, 0.2], [1.0, -1.0])
    s = 1 - math.tanh(0.1 - 0.2) ** 2
    assert gw == pytest.approx([s * 1.0, s * -1.0])
    assert isinstance(gw, list)
    assert isinstance(grad(loss)((0.1, 0.2), (1.0, -1.0)), tuple)
    g_np = grad(lambda w: (w * w).sum())(np.array([1.0, 2.0]))
    assert isinstance(g_np, np.ndarray) and g_np.dtype == float and list(g_np) == [2.0, 4.0]


def test_grad_is_pure_and_leaves_dot_grad_alone():
    w = Value(3.0)
    w.grad = 7.0
    assert grad(lambda x: x * w)(2.0) == 3.0
    assert w.grad == 7.0


def test_closure_over_an_outer_variable_is_differentiated_correctly():
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x  (no perturbation confusion)
    assert grad(lambda x: x * grad(lambda y: x * y)(1.0))(3.0) == 6.0


def test_grad_of_a_value_argument_returns_a_differentiable_value():
    x = Value(2.0)
    g = grad(lambda t: t * t * t)(x)  # 3 x^2 as a Value in x's graph
    assert isinstance(g, Value) and g.data == 12.0
    g.backward()
    assert x.grad == 12.0  # d/dx 3x^2 = 6x


def test_grad_records_even_inside_no_grad():
    with no_grad():
        assert grad(lambda x: x * x)(3.0) == 6.0


def test_constant_and_independent_functions_have_zero_gradient():
    assert grad(lambda x: 5.0)(1.0) == 0.0
    assert grad(lambda x, y: y * 2, argnums=0)(1.0, 1.0) == 0.0
    assert nth(lambda x: x * 2, 2)(1.0) == 0.0


def test_non_scalar_result_is_refused_clearly():
    with pytest.raises(TypeError, match="scalar"):
        grad(lambda x: [x, x])(1.0)


def test_fourth_order():
    assert nth(lambda x: x**5, 4)(2.0) == pytest.approx(120 * 2.0)
