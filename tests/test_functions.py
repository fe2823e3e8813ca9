"""dot, logsumexp, softmax, log_softmax: values against numpy, gradients against
finite differences and the closed form d softmax_i/d x_j = s_i (1[i=j] - s_j)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, dot, gradcheck, log_softmax, logsumexp, softmax

vectors = st.lists(st.floats(-8, 8), min_size=1, max_size=5)


@settings(max_examples=50, deadline=None)
@given(vectors)
def test_softmax_family_values_match_numpy(xs):
    x = np.array(xs)
    expected = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    assert [s.data for s in softmax(xs)] == pytest.approx(list(expected), rel=1e-12, abs=1e-15)
    assert [s.data for s in log_softmax(xs)] == pytest.approx(
        list(np.log(expected)), rel=1e-12, abs=1e-12
    )
    assert logsumexp(xs).data == pytest.approx(
        x.max() + math.log(np.exp(x - x.max()).sum()), rel=1e-14
    )


@settings(max_examples=30, deadline=None)
@given(vectors, st.data())
def test_softmax_family_gradients_match_finite_differences(xs, data):
    i = data.draw(st.integers(0, len(xs) - 1))
    weights = [0.3 * k - 0.5 for k in range(len(xs))]
    assert gradcheck(lambda *v: logsumexp(v), xs, order=2)
    assert gradcheck(lambda *v: softmax(v)[i], xs, order=2)
    assert gradcheck(lambda *v: sum(w * z for w, z in zip(weights, log_softmax(v))), xs)


def test_softmax_jacobian_closed_form():
    xs = [0.5, -1.0, 2.0]
    s = [v.data for v in softmax(xs)]
    for i in range(3):
        inputs = [Value(x) for x in xs]
        softmax(inputs)[i].backward()
        for j in range(3):
            assert inputs[j].grad == pytest.approx(s[i] * ((i == j) - s[j]), rel=1e-12)


def test_no_overflow_for_large_inputs():
    assert [s.data for s in softmax([1000.0, 1000.0])] == [0.5, 0.5]
    assert logsumexp([1000.0, 1000.0]).data == pytest.approx(1000 + math.log(2), rel=1e-15)
    lp = log_softmax([1000.0, 0.0, -1000.0])
    assert lp[0].data == 0.0 and lp[1].data == pytest.approx(-1000.0)
    xs = [Value(1000.0), Value(999.0)]
    logsumexp(xs).backward()
    e = math.exp(-1)
    assert xs[0].grad == pytest.approx(1 / (1 + e)) and xs[1].grad == pytest.approx(e / (1 + e))


def test_empty_sequences_are_refused():
    for fn in (softmax, log_softmax, logsumexp):
        with pytest.raises(ValueError, match="empty"):
            fn([])


def test_dot_is_one_node_with_the_right_local_derivatives():
    w = [Value(1.0), Value(-2.0)]
    x = [Value(3.0), Value(0.5)]
    b = Value(0.25)
    y = dot(w, x, b)
    assert y.op == "dot" and y.parents == (*w, *x, b)
    assert y.data == 1.0 * 3.0 - 2.0 * 0.5 + 0.25
    y.backward()
    assert [v.grad for v in w] == [3.0, 0.5]
    assert [v.grad for v in x] == [1.0, -2.0]
    assert b.grad == 1.0
    assert gradcheck(lambda a, c, d, e, f: dot([a, c], [d, e], f) * dot([a], [d]), [1, 2, 3, 4, 5],
                     order=2)
    with pytest.raises(ValueError, match="2 entries but x has 3"):
        dot(w, [1.0, 2.0, 3.0])


def test_dots_is_several_dot_nodes_sharing_the_inputs():
    import numpy as np

    from autograd.functions import dots

    x = [Value(0.5), Value(-1.0), 2.0]
    weights = [[Value(0.1), 0.2, Value(0.3)], [np.float64(-1.0), Value(2.0), 3]]
    biases = [Value(0.25), 1]
    layer = dots(weights, x, biases)
    assert [v.op for v in layer] == ["dot", "dot"]
    assert [v.data for v in layer] == [dot(w, x, b).data for w, b in zip(weights, biases)]
    sum(layer).backward()
    assert x[0].grad == pytest.approx(0.1 - 1.0)
    assert weights[0][0].grad == 0.5 and biases[0].grad == 1.0
    with pytest.raises(ValueError, match="w has 2 entries but x has 3"):
        dots([[1.0, 2.0]], x)
    with pytest.raises(TypeError, match="got str"):
        dots([["a", 1.0, 2.0]], x)
