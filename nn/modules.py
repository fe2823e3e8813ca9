"""The public names of chainrule's modules, from the files that hold them: ``module``
(``Module`` and its tracked containers), ``layers`` (``Neuron``, ``Layer``, ``MLP``),
``preprocessing`` (``Standardize``, ``Classifier``) and ``model_files`` (``load``)."""

from .layers import ACTIVATIONS, INITS, MLP, Layer, Neuron, Outputs
from .model_files import MODULE_TYPES, load, module_from_config
from .module import Module, ModuleDict, ModuleList
from .preprocessing import Classifier, Regressor, Standardize

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MLP",
    "MODULE_TYPES",
    "Classifier",
    "Layer",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Neuron",
    "Outputs",
    "Regressor",
    "Standardize",
    "load",
    "module_from_config",
]
