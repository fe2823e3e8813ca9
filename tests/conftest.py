"""Shared pieces of the test suite.

Tests that render with Graphviz's ``dot`` program carry ``@pytest.mark.needs_dot``.
Without ``dot`` they skip, saying how to install it -- unless the CI environment variable
is set (.ci/run sets it): there a missing ``dot`` fails them, as a missing browser fails
tests/test_explore_browser.py, so CI cannot pass by skipping what it must run.
"""

import os
import shutil

import pytest

from autograd import Value, dot, logsumexp
from nn import MLP, Module

INSTALL_GRAPHVIZ = ("install Graphviz, which provides it (Debian/Ubuntu: sudo apt-get install "
                    "graphviz; macOS: brew install graphviz; conda: conda install graphviz)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs_dot: renders with Graphviz's dot; skips without it, fails under CI")
    config.addinivalue_line(
        "markers", "needs_torch: uses PyTorch (optional); skips without it, fails under CI")


def pytest_report_header(config):
    found = shutil.which("dot")
    then = "fail (CI is set)" if os.environ.get("CI") else "skip"
    return f"graphviz dot: {found or f'not found -- the needs_dot tests will {then}'}"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_dot") is not None and shutil.which("dot") is None:
        _missing(f"this test needs Graphviz's dot program: {INSTALL_GRAPHVIZ}")
    if item.get_closest_marker("needs_torch") is not None and not _has_torch():
        _missing("this test needs PyTorch, which is optional: pip install torch (the CPU "
                 "wheel: pip install torch --index-url https://download.pytorch.org/whl/cpu)")


def _has_torch():
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def _missing(message):
    """Skip, saying how to install what is missing -- or fail, under CI."""
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run it)", pytrace=False)
    pytest.skip(message)


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
