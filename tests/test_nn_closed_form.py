"""The networks against the lecture's closed-form gradients, computed here with numpy.

For one sample (x, y) of the MLP  a = W1 x + b1,  h = act(a),  o = W2 h + b2
with the softmax cross-entropy  L = -log softmax(o)_y:

    dL/do  = softmax(o) - onehot(y)
    dL/dW2 = outer(dL/do, h),          dL/db2 = dL/do
    dL/da  = (W2^T dL/do) * act'(a)    (for ReLU: * 1[a > 0])
    dL/dW1 = outer(dL/da, x),          dL/db1 = dL/da

and per-sample SGD is  theta <- theta - lr * dL/dtheta.  The engine must give
these numbers to rounding error.
"""

import numpy as np
import pytest

from autograd import grad, gradcheck
from nn import MLP, SGD, Layer, cross_entropy, fit
from nn.data import load_iris

ACTIVATION_DERIVATIVES = {
    "relu": (lambda a: np.maximum(a, 0.0), lambda a: (a > 0).astype(float)),
    "tanh": (np.tanh, lambda a: 1.0 - np.tanh(a) ** 2),
    "sigmoid": (
        lambda a: 1.0 / (1.0 + np.exp(-a)),
        lambda a: (1.0 / (1.0 + np.exp(-a))) * (1.0 - 1.0 / (1.0 + np.exp(-a))),
    ),
}


def weights(layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of a layer as numpy arrays: W[j, i] is neuron j's weight on input i."""
    W = np.array([[w.data for w in neuron.w] for neuron in layer.neurons])
    b = np.array([neuron.b.data for neuron in layer.neurons])
    return W, b


def softmax(o: np.ndarray) -> np.ndarray:
    e = np.exp(o - o.max())
    return e / e.sum()


def lecture_gradients(model: MLP, x: np.ndarray, y: int, activation: str):
    """The hand-derived gradients of the two-layer network, independent of the engine."""
    act, act_prime = ACTIVATION_DERIVATIVES[activation]
    W1, b1 = weights(model.layers[0])
    W2, b2 = weights(model.layers[1])
    a = W1 @ x + b1
    h = act(a)
    o = W2 @ h + b2
    p = softmax(o)
    loss = -np.log(p[y])
    dL_do = p - np.eye(len(o))[y]
    dL_da = (W2.T @ dL_do) * act_prime(a)
    return loss, {
        "W1": np.outer(dL_da, x), "b1": dL_da,
        "W2": np.outer(dL_do, h), "b2": dL_do,
    }


def engine_gradients(model: MLP) -> dict[str, np.ndarray]:
    def of(layer):
        return (np.array([[w.grad for w in n.w] for n in layer.neurons]),
                np.array([n.b.grad for n in layer.neurons]))
    (gW1, gb1), (gW2, gb2) = of(model.layers[0]), of(model.layers[1])
    return {"W1": gW1, "b1": gb1, "W2": gW2, "b2": gb2}


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("sample", [0, 57, 120, 149])
def test_mlp_gradients_equal_the_lecture_formulas(activation, sample):
    X, y = load_iris()
    model = MLP(4, [8, 3], activation, seed=sample)
    model.zero_grad()
    loss = cross_entropy(model(X[sample]), int(y[sample]))
    loss.backward()
    expected_loss, expected = lecture_gradients(model, X[sample], int(y[sample]), activation)
    assert loss.data == pytest.approx(expected_loss, rel=1e-12, abs=1e-14)
    got = engine_gradients(model)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-12, atol=1e-12,
                                   err_msg=f"dL/d{name} ({activation})")


def test_hidden_activations_get_the_backpropagated_error():
    """Intermediate nodes too: h.grad = W2^T dL/do and a.grad = dL/dh * 1[a > 0]."""
    X, y = load_iris()
    model = MLP(4, [16, 3], "relu", seed=4)
    x, target = X[90], int(y[90])
    hidden = model.layers[0](x)
    logits = model.layers[1](hidden)
    cross_entropy(logits, target).backward()
    W1, b1 = weights(model.layers[0])
    W2, b2 = weights(model.layers[1])
    a = W1 @ x + b1
    dL_do = softmax(W2 @ np.maximum(a, 0) + b2) - np.eye(3)[target]
    np.testing.assert_allclose([o.grad for o in logits], dL_do, rtol=1e-12, atol=1e-12)
    dL_dh = W2.T @ dL_do
    np.testing.assert_allclose([h.grad for h in hidden], dL_dh, rtol=1e-12, atol=1e-12)
    pre_activations = [h.parents[0] for h in hidden]  # relu(a): a is the dot node
    assert all(h.op == "relu" and p.op == "dot" for h, p in zip(hidden, pre_activations))
    np.testing.assert_allclose([p.grad for p in pre_activations], dL_dh * (a > 0),
                               rtol=1e-12, atol=1e-12)


def test_relu_mask_zeroes_the_gradient_of_inactive_units():
    X, y = load_iris()
    model = MLP(4, [16, 3], "relu", seed=3)
    cross_entropy(model(X[10]), int(y[10])).backward()
    W1, b1 = weights(model.layers[0])
    inactive = (W1 @ X[10] + b1) <= 0
    assert inactive.any() and (~inactive).any()  # the sample exercises both branches
    grads = engine_gradients(model)
    assert np.all(grads["b1"][inactive] == 0.0)
    assert np.all(grads["W1"][inactive] == 0.0)


def test_linear_softmax_classifier_gradient_is_outer_of_residual_and_input():
    """MLP(4, [3]) is the softmax classifier o = W x + b: dL/dW = outer(p - onehot(y), x)."""
    X, y = load_iris()
    model = MLP(4, [3], seed=1)
    x, target = X[77], int(y[77])
    cross_entropy(model(x), target).backward()
    W, b = weights(model.layers[0])
    residual = softmax(W @ x + b) - np.eye(3)[target]
    grads = np.array([[w.grad for w in n.w] for n in model.layers[0].neurons])
    np.testing.assert_allclose(grads, np.outer(residual, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose([n.b.grad for n in model.layers[0].neurons], residual,
                               rtol=1e-12, atol=1e-12)


def test_one_epoch_of_per_sample_sgd_matches_numpy():
    """fit(batch_size=1, shuffle=False) is  theta <- theta - lr * grad, sample after sample."""
    X, y = load_iris()
    X, y = X[::10], y[::10]  # 15 samples, all three classes
    lr = 0.05
    model = MLP(4, [5, 3], "relu", seed=7)
    W1, b1 = weights(model.layers[0])
    W2, b2 = weights(model.layers[1])
    for x, target in zip(X, y):
        a = W1 @ x + b1
        h = np.maximum(a, 0.0)
        dL_do = softmax(W2 @ h + b2) - np.eye(3)[target]
        dL_da = (W2.T @ dL_do) * (a > 0)
        W2, b2 = W2 - lr * np.outer(dL_do, h), b2 - lr * dL_do
        W1, b1 = W1 - lr * np.outer(dL_da, x), b1 - lr * dL_da
    fit(model, X, y, optimizer=SGD(model.parameters(), lr=lr), epochs=1, shuffle=False,
        progress=False)
    for got, expected in zip(weights(model.layers[0]) + weights(model.layers[1]),
                             (W1, b1, W2, b2)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_minibatch_step_uses_the_mean_gradient():
    X, y = load_iris()
    X, y = X[::25], y[::25]  # 6 samples
    lr = 0.1
    model = MLP(4, [3], seed=2)
    W, b = weights(model.layers[0])
    residuals = np.array([softmax(W @ x + b) - np.eye(3)[t] for x, t in zip(X, y)])
    W_next = W - lr * np.mean([np.outer(r, x) for r, x in zip(residuals, X)], axis=0)
    b_next = b - lr * residuals.mean(axis=0)
    fit(model, X, y, optimizer=SGD(model.parameters(), lr=lr), epochs=1, batch_size=len(X),
        shuffle=False, progress=False)
    got_W, got_b = weights(model.layers[0])
    np.testing.assert_allclose(got_W, W_next, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_b, b_next, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_mlp_loss_gradient_matches_finite_differences_in_every_parameter(activation):
    X, y = load_iris()
    model = MLP(4, [3, 3], activation, seed=11)
    params = model.parameters()
    start = [p.data for p in params]

    # gradcheck needs the parameters as inputs of f: the same network, written out by hand
    # from the parameter list in named_parameters() order.
    def network(*theta):
        it = iter(theta)
        hidden = []
        for neuron in model.layers[0].neurons:
            w = [next(it) for _ in neuron.w]
            b = next(it)
            s = sum(wi * xi for wi, xi in zip(w, X[60])) + b
            hidden.append(s if activation == "linear" else getattr(s, activation)())
        logits = []
        for neuron in model.layers[1].neurons:
            w = [next(it) for _ in neuron.w]
            b = next(it)
            logits.append(sum(wi * hi for wi, hi in zip(w, hidden)) + b)
        return cross_entropy(logits, int(y[60]))

    assert gradcheck(network, start)
    # and the engine's module gives the same gradient as the rebuilt network
    model.zero_grad()
    cross_entropy(model(X[60]), int(y[60])).backward()
    expected = grad(network, argnums=tuple(range(len(start))))(*start)
    np.testing.assert_allclose([p.grad for p in params], expected, rtol=1e-12, atol=1e-14)
