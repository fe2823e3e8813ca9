"""jit(f, params=...): code that keeps its parameters in its own objects -- the micrograd
lecture's Neuron, Layer and MLP, typed in as the lecture has them -- compiled with its
captured parameters, against eager ``loss.backward()``: the same losses, the same
``p.grad`` (added, as backward adds), over training steps with updates in between, per
sample and in batch, scalar and vectorized; and the rewrite of ``sum(w * x ...) + b``
into dot nodes that lets the vectorizer pack a lecture layer like an nn.Layer."""

import math
import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# -- the lecture's classes, as typed in the lecture (tanh; tests/test_ported_lecture.py has
# them), and micrograd's nn.py (ReLU, a linear last layer, the bias starting at 0: its
# Neuron is in tests/test_ported_micrograd.py, its Layer and MLP below) -------------------
from test_ported_lecture import MLP, Neuron
from test_ported_micrograd import Neuron as ReluNeuron

from autograd import JitError, Value, jit, value_and_grad
from autograd.jit.sums import fuse_sums
from autograd.jit.trace import _trace
from nn import MLP as NNMLP


class ReluLayer:

    def __init__(self, nin, nout, **kwargs):
        self.neurons = [ReluNeuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

class ReluMLP:

    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [ReluLayer(sz[i], sz[i+1], nonlin=i!=len(nouts)-1)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def squared_error(out, target):
    """The lecture's loss: (yout - ygt)**2, summed over the outputs."""
    if isinstance(out, list):
        return sum((yout - ygt)**2 for ygt, yout in zip(target, out))
    return (out - target[0])**2


def model(kind, nin, nouts, seed=0):
    random.seed(seed)
    return (MLP if kind == "tanh" else ReluMLP)(nin, nouts)


def data(nin, nout, n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, nin)), rng.uniform(-1, 1, size=(n, nout))


def eager_step(net, x, t):
    """The lecture's step: grads zeroed, loss.backward(); the loss and the grads."""
    for p in net.parameters():
        p.grad = 0.0
    loss = squared_error(net(list(x)), list(t))
    loss.backward()
    return loss.data, [p.grad for p in net.parameters()]


def assert_grads_close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# -- the same numbers as eager backward ----------------------------------------------


@pytest.mark.parametrize("vectorize", [None, True, False])
@pytest.mark.parametrize("kind, nin, nouts", [("tanh", 3, [4, 4, 1]), ("tanh", 2, [16, 16, 1]),
                                              ("relu", 2, [16, 16, 1]), ("relu", 4, [8, 3])])
def test_training_steps_match_eager_backward(kind, nin, nouts, vectorize):
    """Per sample, over several SGD steps: the compiled step reads the parameters'
    current numbers (updated in between, never compiled again) and adds the gradient to
    p.grad exactly as loss.backward() does."""
    net = model(kind, nin, nouts)
    params = net.parameters()
    X, T = data(nin, nouts[-1], 6)
    step = jit(lambda x, t: squared_error(net(x), t), params=params, vectorize=vectorize)
    for x, t in zip(X, T):
        loss, grads = eager_step(net, x, t)
        for p in params:
            p.grad = 0.0
        value, nothing = step(x.tolist(), t.tolist())
        assert nothing == ()
        assert value == pytest.approx(loss, rel=1e-12, abs=1e-15)
        assert_grads_close([p.grad for p in params], grads)
        if vectorize is False:  # scalar code adds in eager's order: the same floats
            assert value == loss
        for p, g in zip(params, grads):
            p.data -= 0.05 * g
    assert len(step._compiled) == 1  # one trace for all the steps


@pytest.mark.parametrize("vectorize", [None, True, False])
@pytest.mark.parametrize("kind", ["tanh", "relu"])
def test_batch_adds_the_gradient_summed_over_the_samples(kind, vectorize):
    net = model(kind, 3, [5, 4, 2])
    params = net.parameters()
    X, T = data(3, 2, 7)
    for p in params:
        p.grad = 0.0
    losses = []
    for x, t in zip(X, T):  # backward() per sample, accumulating: what batch must equal
        loss = squared_error(net(list(x)), list(t))
        loss.backward()
        losses.append(loss.data)
    summed = [p.grad for p in params]
    step = jit(lambda x, t: squared_error(net(x), t), params=params, vectorize=vectorize)
    for p in params:
        p.grad = 0.0
    values, nothing = step.batch(X, T)  # every data argument is batched by default
    assert nothing == ()
    np.testing.assert_allclose(values, losses, rtol=1e-12)
    np.testing.assert_allclose([p.grad for p in params], summed, rtol=1e-11, atol=1e-13)
    step.batch(X, T, batched=(0, 1))  # again: added to what is there
    np.testing.assert_allclose([p.grad for p in params], 2 * np.array(summed), rtol=1e-11,
                               atol=1e-13)


def test_gradients_accumulate_like_backward_and_zeroing_works_as_in_the_lecture():
    net = model("tanh", 3, [4, 4, 1])
    params = net.parameters()
    step = jit(lambda x, t: squared_error(net(x), t), params=params)
    x, t = [2.0, 3.0, -1.0], [1.0]
    for p in params:
        p.grad = 0  # micrograd's zero_grad writes an int
    step(x, t)
    once = [p.grad for p in params]
    step(x, t)  # not zeroed: added again, as a second backward() adds
    assert [p.grad for p in params] == [2 * g for g in once]
    for p in params:
        p.grad = 0.0
    step(x, t)
    assert [p.grad for p in params] == once


def test_argnums_with_params_returns_those_gradients_too():
    net = model("tanh", 3, [4, 1])
    params = net.parameters()
    step = jit(lambda x, t: squared_error(net(x), t), argnums=0, params=params)
    x = [0.5, -1.0, 2.0]
    value, dx = step(x, [0.5])
    expected, expected_dx = value_and_grad(lambda x: squared_error(net(x), [0.5]))(x)
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12)
    assert isinstance(dx, list)
    both = jit(lambda x, t: squared_error(net(x), t), argnums=(0, 1), params=params)
    _, (dx2, dt) = both(np.array(x), [0.5])
    assert isinstance(dx2, np.ndarray) and isinstance(dt, list)


# -- the rewrite: a lecture layer is one matrix product, as an nn.Layer -------------------


@pytest.mark.parametrize("nin, nouts", [(2, [16, 16, 1]), (64, [32, 10])])
def test_a_lecture_layer_becomes_one_matrix_product_like_nn_mlp(nin, nouts):
    lecture = model("tanh", nin, nouts)
    twin = NNMLP(nin, nouts, activation="tanh", output_activation="tanh")
    for ours, theirs in zip(lecture.parameters(), twin.parameters()):
        theirs.data = ours.data
    X, T = data(nin, nouts[-1], 2)
    sources = []
    for net in (lecture, twin):
        step = jit(lambda x, t, net=net: squared_error(net(x), t), params=net.parameters(),
                   vectorize=True)
        step(X[0].tolist(), T[0].tolist())
        sources.append(step.source)
        assert step._compiled[step._last].trace.fused == (
            sum(nouts) if net is lecture else 0)  # every neuron's sum: one dot node
    lecture_source, nn_source = sources
    assert len(re.findall(r" @ W_h\d+\.T", lecture_source)) == 2  # two packed layers
    assert lecture_source.count("outer_(") == 2
    assert lecture_source == nn_source  # the same code as nn.MLP's dot nodes give
    # and the default picks the same kind of code for both: scalar for the small one,
    # as many statements (the scalar sums differ only in where the bias is added: eager's
    # order, b + w0 * x0 + ..., for the lecture's)
    steps = [jit(lambda x, t, net=net: squared_error(net(x), t), params=net.parameters())
             for net in (lecture, twin)]
    for step in steps:
        step(X[1].tolist(), T[1].tolist())
    lines = [step.source.splitlines() for step in steps]
    assert len(lines[0]) == len(lines[1])
    assert ("(vectorized)" in steps[0].source) is ("(vectorized)" in steps[1].source) is (
        nin == 64)


def test_scalar_code_writes_a_neurons_sum_as_one_statement_in_eagers_order():
    random.seed(0)
    neuron = Neuron(3)
    step = jit(lambda x: neuron(x), params=neuron.parameters())
    step([1.0, 2.0, 3.0])
    assert "v0 = params_3 + params_0 * x_0 + params_1 * x_1 + params_2 * x_2  # dot" \
        in step.source
    plain = jit(lambda x: sum(xi * xi for xi in x))  # sum() from 0: its 0.0 is kept
    assert plain([1.0, 2.0]) == (5.0, [2.0, 4.0])
    assert "v0 = 0.0 + x_0 * x_0 + x_1 * x_1  # dot" in plain.source


@pytest.mark.parametrize("vectorize", [None, True, False])
def test_a_sum_of_negative_zeros_from_sums_zero_is_positive_as_in_eager(vectorize):
    """sum() starts from 0 and 0.0 + -0.0 is 0.0: dropping that start would give -0.0,
    which atan2 tells apart (pi against -pi)."""
    from autograd import atan2

    def f(w, x):
        return atan2(sum(wi * xi for wi, xi in zip(w, x)), -1.0 + 0.0 * w[0])

    w, x = [-1.0, -1.0], [0.0, 0.0]  # every product is -0.0
    eager = value_and_grad(f)(w, x)
    assert eager[0] == math.pi
    jf = jit(f, vectorize=vectorize)
    assert jf(w, x) == eager
    values, _ = jf.batch(w, [x, x])
    assert values.tolist() == [math.pi, math.pi]


def test_a_partial_sum_used_elsewhere_stays_a_node():
    def f(a):
        s1 = a[6] + a[0] * a[1] + a[2] * a[3]
        s2 = s1 + a[4] * a[5] + a[6] * a[0]  # continues from s1, which is used again
        return s2 * s1

    args = [0.3 * k - 0.7 for k in range(7)]
    for vectorize in (False, True):
        value, grads = jit(f, vectorize=vectorize)(args)
        expected, expected_grads = value_and_grad(f)(args)
        assert value == expected
        np.testing.assert_allclose(grads, expected_grads, rtol=1e-12)
    placeholders = [Value(v) for v in args]
    out, _, recorded = _trace(f, [placeholders])
    fused_out, _, count = fuse_sums(out, recorded)
    assert count == 2
    s2, s1 = fused_out.parents  # s1 kept as a node, s2's bias
    assert s1.op == s2.op == "dot" and s2.parents[-1] is s1


def test_a_product_used_elsewhere_is_not_absorbed():
    def f(a):
        m = a[0] * a[5]
        return (a[6] + m + a[1] * a[2] + a[3] * a[4]) * m

    args = [0.3 * k - 0.7 for k in range(7)]
    placeholders = [Value(v) for v in args]
    out, _, recorded = _trace(f, [placeholders])
    fused_out, _, count = fuse_sums(out, recorded)
    total, m = fused_out.parents
    assert count == 1 and m.op == "mul" and total.op == "dot"
    assert total.parents[-1].op == "add" and total.parents[-1].parents[1] is m
    expected, expected_grads = value_and_grad(f)(args)
    for vectorize in (False, True):
        value, grads = jit(f, vectorize=vectorize)(args)
        assert value == expected
        np.testing.assert_allclose(grads, expected_grads, rtol=1e-12)


@st.composite
def sums_programs(draw):
    """Chains of adds over products and other terms, written as people write them
    (sum(..., start), left folds, w*x + b), with partial sums and products reused."""
    steps = draw(st.lists(st.tuples(
        st.sampled_from(["sum0", "sum_start", "fold"]),
        st.lists(st.tuples(st.sampled_from(["product", "value", "reuse"]),
                           st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=6),
        st.booleans()), min_size=1, max_size=4))
    return steps


def build(steps):
    def f(a):
        pool, products = list(a), []
        for how, terms, keep_partial in steps:
            made = []
            for kind, i, j in terms:
                if kind == "product" or (kind == "reuse" and not products):
                    product = pool[i % len(pool)] * pool[j % len(pool)]
                    products.append(product)
                    made.append(product)
                elif kind == "reuse":
                    made.append(products[i % len(products)])
                else:
                    made.append(pool[i % len(pool)])
            if how == "sum0":
                total = sum(made)
            elif how == "sum_start":
                total = sum(made[1:], made[0])
            else:
                total = made[0]
                for term in made[1:]:
                    total = total + term
                    if keep_partial:
                        pool.append(total)  # a partial sum used again later
            pool.append(total)
        return pool[-1] * 0.5 + pool[len(a)] * pool[-1] + products[0] if products else pool[-1]
    return f


@settings(max_examples=150, deadline=None)
@given(sums_programs(), st.lists(st.floats(-2, 2), min_size=4, max_size=4))
def test_fused_sums_agree_with_eager_on_random_chains(steps, args):
    f = build(steps)
    expected, expected_grads = value_and_grad(f)(args)
    for vectorize in (False, True):
        value, grads = jit(f, vectorize=vectorize)(args)
        if vectorize is False:  # the additions in eager's order: the same value
            assert value == expected
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(grads, expected_grads, rtol=1e-11, atol=1e-12)


# -- what is refused, and edge cases ----------------------------------------------------


def test_undeclared_captured_values_are_still_refused_and_params_suggested():
    net = model("tanh", 2, [3, 1])
    with pytest.raises(JitError, match=r"not a declared parameter.*params=model\.parameters"):
        jit(lambda x: net(x))([1.0, 2.0])
    partly = jit(lambda x: net(x), params=net.parameters()[:-1])  # the last bias missing
    with pytest.raises(JitError, match="not one of its arguments"):
        partly([1.0, 2.0])


def test_a_parameter_used_twice_and_listed_twice_gets_its_gradient_once():
    w, b = Value(0.7), Value(-0.2)

    def f(x):
        return (w * x + w * w + b).tanh() * w

    step = jit(f, params=[w, b, w])  # w listed twice: still one parameter
    value, _ = step(1.5)
    got = (w.grad, b.grad)
    w.grad = b.grad = 0.0
    out = f(1.5)
    out.backward()
    assert value == out.data
    assert got == pytest.approx((w.grad, b.grad), rel=1e-14)
    assert step.params == (w, b)


def test_an_unused_parameter_gets_zero_added():
    w, unused = Value(2.0), Value(5.0)
    unused.grad = 0.25
    step = jit(lambda x: w * x, params=[w, unused])
    assert step(3.0) == (6.0, ())
    assert (w.grad, unused.grad) == (3.0, 0.25)


def test_non_leaf_and_non_value_params_are_refused():
    w = Value(2.0)
    with pytest.raises(JitError, match=r"params\[1\].*is the result of mul, not a leaf"):
        jit(lambda x: w * x, params=[w, w * 2.0])
    with pytest.raises(TypeError, match=r"params\[0\] is a float, not a Value"):
        jit(lambda x: w * x, params=[2.0])
    with pytest.raises(TypeError, match="params must be an iterable of Values"):
        jit(lambda x: w * x, params=3)
    assert jit(lambda x: w * x, params=w).params == (w,)  # one Value: a list of one


def test_the_eager_fallback_adds_to_the_grads_and_a_refusal_changes_nothing(monkeypatch):
    from autograd.jit.function import JitFunction

    eager_runs = []
    original = JitFunction._backward_eagerly
    monkeypatch.setattr(JitFunction, "_backward_eagerly",
                        lambda self, args: eager_runs.append(args) or original(self, args))
    w = Value(1e10)

    def f(x):
        return w * x * 1e300

    # the scalar code also computes x's gradient, 1e300 * w = inf: it falls back to eager,
    # which does not differentiate x (nobody asked) and answers
    step = jit(f, params=[w], vectorize=False)
    value, _ = step(1e-20)
    out = f(Value(1e-20).detach())
    assert len(eager_runs) == 1 and value == out.data
    assert w.grad == pytest.approx(1e280, rel=1e-15)
    w.grad = 0.0
    values, _ = step.batch(np.array([1e-20, 2e-20]))  # the batch falls back row by row
    assert len(eager_runs) == 3 and values.tolist() == [value, f(2e-20).data]
    assert w.grad == pytest.approx(3e280, rel=1e-15)

    w = Value(1.5)
    g = jit(lambda x: (x - w).log() * w, params=[w])
    g(3.0)
    before = w.grad
    with pytest.raises(ValueError, match="log: argument must be > 0"):
        g(1.0)
    with pytest.raises(ValueError, match="log: argument must be > 0"):
        g.batch(np.array([3.0, 1.0]))  # the first row added, the second refused: undone
    assert w.grad == before


def test_a_grad_that_would_overflow_is_eagers_error_and_changes_nothing():
    w, b = Value(1.0), Value(1.0)
    step = jit(lambda x: w * x + b, params=[w, b])
    w.grad, b.grad = 1e308, 0.0
    with pytest.raises(OverflowError):
        step(1e308)  # w.grad + 1e308 is inf: backward() refuses it, as eager does
    assert (w.grad, b.grad) == (1e308, 0.0)


def test_params_are_read_on_every_call_from_any_thread():
    import threading

    w = Value(2.0)
    step = jit(lambda x: w * x, params=[w])
    results = []

    def worker():
        results.append(step(3.0)[0])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [6.0] * 4 and w.grad == 12.0
    w.data = -1.0  # a new number, the same compiled code
    assert step(3.0) == (-3.0, ()) and len(step._compiled) == 1


# -- differential: PyTorch float64 -------------------------------------------------------


@pytest.mark.needs_torch
@pytest.mark.parametrize("vectorize", [True, False])
def test_lecture_mlp_under_jit_agrees_with_pytorch(vectorize):
    import torch

    net = model("tanh", 3, [4, 4, 1], seed=1337)
    params = net.parameters()
    layers = [(torch.tensor([[w.data for w in n.w] for n in layer.neurons],
                            dtype=torch.float64, requires_grad=True),
               torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64,
                            requires_grad=True)) for layer in net.layers]
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]

    def tforward(x):
        h = torch.tensor(x, dtype=torch.float64)
        for W, b in layers:
            h = torch.tanh(W @ h + b)
        return h[0]

    # the lecture's training loop (cell 17): its loss summed over the four samples is
    # the per-sample losses' sum, and backward() of it their gradients' sum -- what
    # calling the compiled step per sample adds up in p.grad
    step = jit(lambda x, y: (net(x) - y)**2, params=params, vectorize=vectorize)
    for _ in range(5):
        for p in params:
            p.grad = 0.0
        total = sum(step(x, y)[0] for x, y in zip(xs, ys))
        tloss = sum((tforward(x) - y)**2 for x, y in zip(xs, ys))
        for W, b in layers:
            W.grad = b.grad = None
        tloss.backward()
        assert total == pytest.approx(tloss.item(), rel=1e-12)
        torch_grads = [g for W, b in layers
                       for row, gb in zip(W.grad.tolist(), b.grad.tolist()) for g in row + [gb]]
        np.testing.assert_allclose([p.grad for p in params], torch_grads, rtol=1e-10,
                                   atol=1e-13)
        for p in params:
            p.data += -0.1 * p.grad
        with torch.no_grad():
            for W, b in layers:
                W += -0.1 * W.grad
                b += -0.1 * b.grad
