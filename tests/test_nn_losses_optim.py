"""Losses against their formulas and finite differences; optimizers against PyTorch's
documented update rules, written out by hand; metrics."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, gradcheck, log_softmax
from nn import (
    SGD,
    Adam,
    binary_cross_entropy,
    confusion_matrix,
    cross_entropy,
    hinge_loss,
    mse_loss,
    nll_loss,
)
from nn.losses import batch_loss

logit_vectors = st.lists(st.floats(-20, 20), min_size=2, max_size=5)


@settings(max_examples=50, deadline=None)
@given(logit_vectors, st.data())
def test_cross_entropy_value_and_gradient_are_the_closed_forms(logits, data):
    target = data.draw(st.integers(0, len(logits) - 1))
    o = np.array(logits)
    p = np.exp(o - o.max()) / np.exp(o - o.max()).sum()
    xs = [Value(v) for v in logits]
    loss = cross_entropy(xs, target)
    loss.backward()
    assert loss.data == pytest.approx(-np.log(p[target]), rel=1e-10, abs=1e-12)
    # dL/do = softmax(o) - onehot(y)
    np.testing.assert_allclose([x.grad for x in xs], p - np.eye(len(o))[target], atol=1e-12)
    assert gradcheck(lambda *v: cross_entropy(v, target), logits, order=2)


def test_cross_entropy_is_stable_for_huge_logits():
    loss = cross_entropy([Value(1000.0), Value(-1000.0), Value(999.0)], 2)
    # logsumexp = 1000 + log(1 + e^-1 + e^-2000), minus the target logit 999
    assert loss.data == pytest.approx(1.0 + math.log1p(math.exp(-1.0)), rel=1e-12)


def test_nll_of_log_softmax_equals_cross_entropy():
    logits = [0.3, -1.2, 2.5]
    assert nll_loss(log_softmax(logits), 1).data == pytest.approx(
        cross_entropy(logits, 1).data, rel=1e-14)


@pytest.mark.parametrize("loss, outputs", [(cross_entropy, [0.1, 0.2, 0.3]),
                                           (nll_loss, [-1.0, -0.5, -2.0])])
@pytest.mark.parametrize("target", [3, -1, 1.0, True])
def test_classification_targets_out_of_range_are_clear_errors(loss, outputs, target):
    with pytest.raises(ValueError, match=f"{loss.__name__}: target") as error:
        loss(outputs, target)
    if target in (3, -1) and not isinstance(target, bool):
        assert "valid: 0 to 2" in str(error.value)


def test_mse_loss():
    loss = mse_loss([Value(1.0), Value(3.0)], [0.0, 1.0])
    assert loss.data == (1.0 + 4.0) / 2
    assert gradcheck(lambda a, b: mse_loss([a, b], [0.5, -1.0]), [0.3, 2.0], order=2)
    with pytest.raises(ValueError, match="2 predictions but 3 targets"):
        mse_loss([1.0, 2.0], [1.0, 2.0, 3.0])


def test_binary_cross_entropy():
    p = 0.8
    assert binary_cross_entropy(Value(p), 1).data == pytest.approx(-math.log(p))
    assert binary_cross_entropy([Value(p)], 0).data == pytest.approx(-math.log(1 - p))
    assert gradcheck(lambda q: binary_cross_entropy(q, 1), [0.3])
    assert gradcheck(lambda q: binary_cross_entropy(q, 0), [0.3])
    with pytest.raises(ValueError, match="target must be 0 or 1"):
        binary_cross_entropy(Value(0.5), 2)
    with pytest.raises(ValueError, match=r"probability 1\.0 is not strictly between 0 and 1"):
        binary_cross_entropy(Value(1.0), 1)


def test_hinge_loss():
    assert hinge_loss(Value(0.3), 1).data == pytest.approx(0.7)
    assert hinge_loss(Value(0.3), -1).data == pytest.approx(1.3)
    assert hinge_loss(Value(2.0), 1).data == 0.0
    assert gradcheck(lambda s: hinge_loss(s, 1), [0.3])
    with pytest.raises(ValueError, match="target must be -1 or \\+1"):
        hinge_loss(Value(0.0), 2)
    with pytest.raises(ValueError, match="expects one output per sample, got 2"):
        hinge_loss([Value(0.0), Value(1.0)], 1)


def test_batch_loss_is_the_mean():
    outputs = [[0.1, 0.2, 0.3], [1.0, -1.0, 0.0]]
    mean = batch_loss(cross_entropy, outputs, [0, 2])
    expected = (cross_entropy(outputs[0], 0).data + cross_entropy(outputs[1], 2).data) / 2
    assert mean.data == pytest.approx(expected, rel=1e-15)
    with pytest.raises(ValueError, match="2 outputs and 1 targets"):
        batch_loss(cross_entropy, outputs, [0])


# -- optimizers --------------------------------------------------------------

GRADIENTS = [[0.5, -1.0], [0.25, 2.0], [-0.75, 0.5]]


def run(optimizer_factory, start=(1.0, -2.0)):
    params = [Value(v) for v in start]
    optimizer = optimizer_factory(params)
    trajectory = []
    for g in GRADIENTS:
        optimizer.zero_grad()
        for p, gi in zip(params, g):
            p.grad += gi
        optimizer.step()
        trajectory.append([p.data for p in params])
    return np.array(trajectory)


def test_plain_sgd_is_theta_minus_lr_grad():
    got = run(lambda ps: SGD(ps, lr=0.1))
    theta, expected = np.array([1.0, -2.0]), []
    for g in GRADIENTS:
        theta = theta - 0.1 * np.array(g)
        expected.append(theta)
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_sgd_with_momentum_and_weight_decay_follows_pytorch():
    lr, mu, wd = 0.1, 0.9, 0.01
    got = run(lambda ps: SGD(ps, lr=lr, momentum=mu, weight_decay=wd))
    theta, v, expected = np.array([1.0, -2.0]), None, []
    for g in GRADIENTS:
        d = np.array(g) + wd * theta
        v = d if v is None else mu * v + d
        theta = theta - lr * v
        expected.append(theta)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_adam_follows_pytorch():
    lr, (b1, b2), eps = 0.01, (0.9, 0.999), 1e-8
    got = run(lambda ps: Adam(ps, lr=lr))
    theta, m, v, expected = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2), []
    for t, g in enumerate(GRADIENTS, start=1):
        g = np.array(g)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        expected.append(theta)
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    # Adam's first step moves every parameter by about lr, whatever the gradient's size
    np.testing.assert_allclose(np.abs(got[0] - [1.0, -2.0]), [lr, lr], rtol=1e-6)


@pytest.mark.parametrize("make, message", [
    (lambda: SGD([], lr=0.1), "empty parameter list"),
    (lambda: SGD([Value(1.0)], lr=-1.0), "lr must be a positive number"),
    (lambda: SGD([Value(1.0)], lr=0.1, momentum=1.5), "momentum must be in"),
    (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), "betas must be in"),
    (lambda: SGD([1.0], lr=0.1), "every parameter must be a Value"),
])
def test_optimizer_arguments_are_checked(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
