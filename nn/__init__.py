"""Neural networks from scalar Values: modules, losses, optimizers, metrics, training.

Layout: ``module`` (Module and its tracked containers), ``layers`` (Neuron, Layer, MLP),
``preprocessing`` (Standardize, Classifier), ``model_files`` (save format, load),
``perceptron``, ``losses``, ``optim`` (SGD, Adam, AdamW), ``metrics``, ``data`` (Iris,
moons, splitting, scaling), ``training`` (fit) and ``cli`` (the ``chainrule`` command);
``modules`` gathers the public names of the first four. ``Playground``, the live training
widget for notebooks (``training_widget``), is imported on first use: it needs anywidget.
"""

import autograd as _autograd

if not hasattr(_autograd, "__chainrule__"):  # another package named autograd came first
    _where = getattr(_autograd, "__file__", None) or list(getattr(_autograd, "__path__", []))
    raise ImportError(
        f"chainrule's nn needs chainrule's own 'autograd' package, but 'import autograd' "
        f"found another one at {_where}. HIPS autograd (pip install autograd) and any file "
        "or folder named autograd in your working folder use the same name. Use a fresh "
        "virtual environment for chainrule (python -m venv .venv, activate it, then pip "
        "install chainrule), or rename your own autograd module"
    )

__chainrule__ = True  # tells chainrule's command that this nn is chainrule's

from .layers import MLP, Layer, Neuron
from .losses import (
    batch_loss,
    binary_cross_entropy,
    cross_entropy,
    hinge_loss,
    mse_loss,
    nll_loss,
)
from .metrics import accuracy, confusion_matrix, predict
from .model_files import load
from .module import Module, ModuleDict, ModuleList
from .network_explorer import NetworkExplorer, explore_network
from .network_view import NetworkView, draw_network
from .optim import SGD, Adam, AdamW
from .perceptron import Perceptron
from .preprocessing import Classifier, Regressor, Standardize
from .torch_bridge import from_torch, to_torch
from .training import History, TrainingDiverged, fit

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "AdamW",
    "Classifier",
    "History",
    "Layer",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NetworkExplorer",
    "NetworkView",
    "Neuron",
    "Perceptron",
    "Regressor",
    "Standardize",
    "TrainingDiverged",
    "accuracy",
    "batch_loss",
    "binary_cross_entropy",
    "confusion_matrix",
    "cross_entropy",
    "draw_network",
    "explore_network",
    "fit",
    "from_torch",
    "hinge_loss",
    "load",
    "mse_loss",
    "nll_loss",
    "predict",
    "to_torch",
]


def __getattr__(name: str):
    # nn.Playground needs anywidget (the notebooks extra): imported on first use, so that
    # `import nn` works without it (and it stays out of __all__: `from nn import *` too)
    if name == "Playground":
        from .training_widget import Playground

        return Playground
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
