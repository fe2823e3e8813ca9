"""Neural networks from scalar Values: modules, losses, optimizers, metrics, training.

Layout: ``modules`` (Module, Neuron, Layer, MLP), ``perceptron``, ``losses``,
``optim`` (SGD, Adam), ``metrics``, ``data`` (Iris, moons, splitting,
scaling), ``training`` (fit) and ``cli``
(the ``chainrule`` command).
"""

from .losses import (
    batch_loss,
    binary_cross_entropy,
    cross_entropy,
    hinge_loss,
    mse_loss,
    nll_loss,
)
from .metrics import accuracy, confusion_matrix, predict
from .modules import MLP, Layer, Module, Neuron
from .optim import SGD, Adam
from .perceptron import Perceptron
from .training import History, fit

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "History",
    "Layer",
    "Module",
    "Neuron",
    "Perceptron",
    "accuracy",
    "batch_loss",
    "binary_cross_entropy",
    "confusion_matrix",
    "cross_entropy",
    "fit",
    "hinge_loss",
    "mse_loss",
    "nll_loss",
    "predict",
]
