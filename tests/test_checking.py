"""Checking gradients: your own ops, a gradcheck that names the faulty op, forward
mode and Hessians."""

import math

import numpy as np
import pytest

from autograd import (
    GradcheckError,
    Value,
    backward_steps,
    cos,
    custom_op,
    draw_dot,
    exp,
    explain,
    grad,
    gradcheck,
    hessian,
    jacobian,
    jit,
    jvp,
    log1p,
    sin,
    value_and_grad,
)
from autograd.testing import assert_gradients_close

softplus = custom_op("softplus", lambda x: math.log1p(math.exp(x)),
                     lambda x, out: (1.0 - exp(-out),))  # sigmoid(x), written with Values ops
wrong_softplus = custom_op("wrong_softplus", lambda x: math.log1p(math.exp(x)),
                           lambda x, out: (exp(-out),))  # 1 - sigmoid: the classic slip
badsq = custom_op("badsq", lambda x: x * x, lambda x, out: (3.0 * x,))


# -- custom ops -------------------------------------------------------------------------


def test_a_custom_op_is_a_node_with_every_order_of_derivative():
    assert softplus(0.3) == pytest.approx(math.log1p(math.exp(0.3)))
    node = softplus(Value(0.3))
    assert isinstance(node, Value) and node.op == "softplus"
    sigmoid = 1 / (1 + math.exp(-0.3))
    assert grad(softplus)(0.3) == pytest.approx(sigmoid, rel=1e-12)
    assert grad(grad(softplus))(0.3) == pytest.approx(sigmoid * (1 - sigmoid), rel=1e-12)
    gradcheck(lambda x, y: softplus(x * y) * cos(x), [0.3, -0.8], order=3)


def test_a_custom_op_appears_by_name_in_drawings_explanations_and_steps():
    x = Value(0.3, "x")
    out = softplus(x) * x
    out.backward()
    assert "softplus" in draw_dot(out).source
    assert "softplus" in explain(out, x).text
    assert any("softplus" in str(step) for step in backward_steps(out))


def test_jit_calls_a_custom_ops_python_functions():
    f = lambda x, y: softplus(x * y) + sin(y)
    compiled = jit(f, argnums=(0, 1))
    value, grads = compiled(0.3, -0.8)
    expected = value_and_grad(f, argnums=(0, 1))(0.3, -0.8)
    assert value == pytest.approx(expected[0], rel=1e-12)
    assert grads == pytest.approx(expected[1], rel=1e-12)
    assert "softplus" in compiled.source  # the comment names it; the call is custom_<k>
    values, _ = compiled.batch(np.array([0.3, 0.1]), np.array([-0.8, 0.4]), batched=(0, 1))
    assert values[1] == pytest.approx(f(Value(0.1), Value(0.4)).data, rel=1e-12)


def test_domain_errors_inside_a_custom_forward_are_named():
    root = custom_op("root", lambda x: math.sqrt(x), lambda x, out: (0.5 / out,))
    with pytest.raises(ValueError, match=r"root: math domain error"):
        root(Value(-1.0))
    huge = custom_op("huge", lambda x: math.inf * x, lambda x, out: (math.inf,))
    with pytest.raises(OverflowError, match=r"huge: result inf of huge\(1\.0\)"):
        huge(Value(1.0))
    compiled = jit(lambda x: root(x) * 2.0)
    compiled(4.0)
    with pytest.raises(ValueError, match="root: math domain error"):
        compiled(-1.0)


def test_custom_op_contract_errors_are_clear():
    with pytest.raises(ValueError, match="built-in op"):
        custom_op("exp", math.exp, lambda x, out: (out,))
    with pytest.raises(TypeError, match="arity"):
        custom_op("anything", lambda *xs: sum(xs), lambda *a: (1.0,))
    pair = custom_op("pair", lambda a, b: a * b, lambda a, b, out: (b,))  # one derivative short
    with pytest.raises(TypeError, match=r"pair: local_grads must return a tuple of 2"):
        value_and_grad(lambda x: pair(x, x))(1.0)
    with pytest.raises(TypeError, match="takes 2 operands, got 1"):
        pair(Value(1.0))


# -- gradcheck names the faulty op ------------------------------------------------------


def test_gradcheck_names_a_wrong_custom_op_buried_in_a_bigger_function():
    def model(a, b, c):
        hidden = (a * b + c).tanh()
        return (wrong_softplus(hidden * 2.0 - c) + log1p(a * a)) * sin(b)

    with pytest.raises(GradcheckError) as info:
        gradcheck(model, [0.3, -0.7, 0.2])
    message = str(info.value)
    assert "numerical" in message and "analytical" in message  # PyTorch's report of the total
    assert "The first operation whose local derivative is wrong: wrong_softplus(" in message
    correct = lambda a, b, c: (softplus((a * b + c).tanh() * 2.0 - c)
                               + log1p(a * a)) * sin(b)
    assert gradcheck(correct, [0.3, -0.7, 0.2], order=2)


def test_gradcheck_reports_when_every_op_is_right_but_the_total_is_not():
    def branchy(x):  # branches on .data: the graph differs on each side of the point
        return x * 3.0 if x.data > 0.5 else x * 1.0

    with pytest.raises(GradcheckError, match="Every operation's local derivatives agree"):
        gradcheck(branchy, [0.5], eps=1e-3)


def test_assert_gradients_close_prints_a_table_and_the_culprit():
    with pytest.raises(AssertionError) as info:
        assert_gradients_close(lambda a, b: badsq(a) * b, [0.7, 2.0])
    text = str(info.value)
    assert "df/dx[0]" in text and "analytical" in text and "<-- wrong" in text
    assert "badsq(0.7): local derivative d/dx 2.1, numerical 1.4" in text
    assert_gradients_close(lambda a, b: (a * b).sin() + softplus(a), [0.7, 2.0], order=3)


# -- Hessians, Jacobians and forward mode, against closed forms ----------------------------


def test_hessian_of_a_function_of_a_vector():
    f = lambda x: x[0] * x[0] * x[1] + sin(x[1]) * x[2]
    H = hessian(f)([1.0, 2.0, 3.0])
    expected = [[4.0, 2.0, 0.0], [2.0, -3 * math.sin(2.0), math.cos(2.0)],
                [0.0, math.cos(2.0), 0.0]]
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-15)
    assert hessian(lambda x: x ** 3)(2.0).tolist() == [[12.0]]


def test_jacobian_rows_are_outputs():
    g = lambda x: [x[0] * x[1], exp(x[0]) + x[2], x[1] - x[2]]
    J = jacobian(g)([0.5, 2.0, 1.0])
    expected = [[2.0, 0.5, 0.0], [math.exp(0.5), 0.0, 1.0], [0.0, 1.0, -1.0]]
    np.testing.assert_allclose(J, expected, rtol=1e-12)


def test_jvp_is_a_forward_sweep_that_equals_the_jacobian_times_the_tangent():
    g = lambda x: [x[0] * x[1], exp(x[0]) + x[2], softplus(x[1] - x[2])]
    x, v = [0.5, 2.0, 1.0], [0.3, -1.0, 2.0]
    values, derivatives = jvp(g, [x], [v])
    assert values == pytest.approx([o.data for o in g([Value(t) for t in x])])
    np.testing.assert_allclose(derivatives, jacobian(g)(x) @ np.array(v), rtol=1e-12)
    value, derivative = jvp(lambda a, b: a * b.sin(), [2.0, 0.5], [1.0, 0.0])
    assert value == 2.0 * math.sin(0.5) and derivative == math.sin(0.5)
