"""Shared pieces of the test suite."""

import pytest

from autograd import Value, dot, logsumexp
from nn import MLP, Module


class Scaled(Module):
    """A custom module, PyTorch-style: a submodule, a Value of its own, and forward."""

    def __init__(self):
        self.body = MLP(2, [3, 1], seed=0)
        self.scale = Value(2.0)

    def forward(self, x):
        return self.body(x) * self.scale


@pytest.fixture
def scaled():
    """A fresh custom module (see Scaled)."""
    return Scaled()


@pytest.fixture
def tanh_neuron():
    """The lectures' neuron o = tanh(x * w + b), labelled, as {name: Value} (fresh grads)."""
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    n = x * w + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return {"x": x, "w": w, "b": b, "n": n, "o": o}


@pytest.fixture
def classifier_loss():
    """loss_of(model): one sample's softmax cross-entropy as a function of the model's
    parameters theta, its input x and a one-hot target -- what jit traces (as
    fit(jit=True) does)."""
    def loss_of(model):
        def loss(theta, x, onehot):
            with model.substitute(theta):
                logits = model(x)
            return logsumexp(logits) - dot(onehot, logits)
        return loss
    return loss_of
