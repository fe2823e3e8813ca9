"""Shared pieces of the test suite."""

import pytest

from autograd import Value
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
