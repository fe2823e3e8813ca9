"""The layers: ``Neuron``, ``Layer`` and ``MLP``, and their activations and inits.

A neuron computes  act(w . x + b)  with one n-ary ``dot`` node for the
weighted sum, so its graph stays small while every edge keeps its local
derivative (x_i for w_i, w_i for x_i, 1 for b).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd import Value, dot
from autograd.functions import dots

from .model_files import MODULE_TYPES, _check_declared_budget, _fields, _size, _sizes
from .module import Module, _structure_changed, _structure_version_now

__all__ = ["ACTIVATIONS", "INITS", "MLP", "Layer", "Neuron", "Outputs"]

ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "step": Value.step,  # Heaviside: derivative 0, so no gradient flows through it
    "linear": lambda v: v,  # the identity: no node
}


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}"
        )
    return activation


def _rng(seed: int | np.random.Generator | None) -> Any:
    """A generator for ``seed``; for None, numpy's global one, so ``np.random.seed(k)``
    makes a model reproducible, as in micrograd's demo and scikit-learn."""
    if seed is None or seed is np.random:
        return np.random
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _as_inputs(x: Any, expected: int, owner: Any) -> list[Value]:
    """The inputs as Values (numbers become input leaves), after checking their count."""
    if type(x) is list:  # the common case, quickly
        if len(x) != expected:
            raise ValueError(f"{owner!r} expects {expected} inputs, got {len(x)}")
        return [xi if type(xi) is Value else Value(xi) for xi in x]
    try:
        count = len(x)
    except TypeError:
        raise TypeError(
            f"{owner!r} expects one sample: a sequence of {expected} inputs (a list, tuple or "
            f"1-d array), got {type(x).__name__} {x!r:.40}; put a single input in a list, "
            "e.g. model([x])"
        ) from None
    if getattr(x, "ndim", 1) != 1:
        raise ValueError(
            f"{owner!r} expects one sample of {expected} inputs, got an array of shape "
            f"{x.shape}; for a batch, call the model on each row: [model(row) for row in X]"
        )
    if count != expected:
        raise ValueError(f"{owner!r} expects {expected} inputs, got {count}")
    return [xi if type(xi) is Value else _as_input(xi) for xi in x]


def _as_input(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)


class Outputs(list):
    """What a Layer, or an MLP with several outputs, returns: a plain list of Values.

    Asked for an attribute of a Value (``outputs.backward()``, ``outputs.data``), it
    explains that it holds several outputs instead of a bare AttributeError.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or not hasattr(Value, name):
            raise AttributeError(f"'list' object has no attribute {name!r}")
        if name in ("data", "grad", "item"):
            fix = f"read each output's: [o.{name}{'()' if name == 'item' else ''} for o in outputs]"
        else:
            fix = ("reduce them to one Value first -- a loss such as cross_entropy(outputs, "
                   f"target), or sum(outputs) -- and call .{name} on that")
        raise AttributeError(
            f"{name!r} is an attribute of a Value, but this is a list of {len(self)} outputs "
            f"(a Layer, or an MLP with several outputs, returns a list); {fix}"
        )


def _activation(x: Any) -> bool:
    return isinstance(x, str) and x in ACTIVATIONS


def _activations(x: Any) -> bool:
    """One activation, or a list of them (one per neuron)."""
    return _activation(x) or (type(x) is list and len(x) > 0 and all(map(_activation, x)))


def _per_neuron(activation: Any, nout: int) -> list[str]:
    """A layer's activation as one name per neuron (from one name or a list)."""
    if isinstance(activation, str):
        return [_check_activation(activation)] * nout
    if not isinstance(activation, (list, tuple)) or len(activation) != nout:
        raise ValueError(f"Layer: activation must be one name or a list of {nout} (one per "
                         f"neuron), got {activation!r:.60}")
    return [_check_activation(name) for name in activation]


INITS: dict[str, Callable[[int], float]] = {
    "uniform": lambda nin: 1.0,  # micrograd's: w ~ U(-1, 1)
    "he": lambda nin: math.sqrt(6.0 / nin),  # U(-b, b) with variance 2 / nin: for ReLU
    "lecun": lambda nin: math.sqrt(3.0 / nin),  # variance 1 / nin: for tanh, sigmoid, linear
}


def _check_init(init: str) -> str:
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    return init


class Neuron(Module):
    """act(w . x + b) with ``nin`` weights and a bias.

    Weights are drawn uniformly from (-bound, bound); the bias starts at 0. ``init``
    picks the bound: ``"uniform"`` (the default) is micrograd's U(-1, 1), so code and
    results carry over; ``"he"`` (sqrt(6 / nin), for ReLU) and ``"lecun"``
    (sqrt(3 / nin)) scale it by the fan-in, which keeps the pre-activations' variance
    about constant from layer to layer -- the choice for wide or deep networks.
    ``activation`` (one of :data:`ACTIVATIONS`) may be changed later
    (``neuron.activation = "tanh"``); the model file records it.
    """

    def __init__(
        self, nin: int, activation: str = "relu", seed: Any = None, init: str = "uniform"
    ) -> None:
        if not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        self.activation = activation
        bound = INITS[_check_init(init)](nin)
        self.w = [Value(float(v)) for v in _rng(seed).uniform(-bound, bound, nin)]
        self.b = Value(0.0)

    @property
    def activation(self) -> str:
        """The activation's name: ``relu``, ``tanh``, ``sigmoid``, ``step`` or ``linear``."""
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        self._activation = _check_activation(name)
        _structure_changed()  # (a Layer keeps which activations its neurons share)

    @property
    def nin(self) -> int:
        return len(self.w)

    def forward(self, x: Sequence[Any]) -> Value:
        """act(w . x + b) for one sample ``x`` of ``nin`` numbers or Values."""
        return self._forward(_as_inputs(x, self.nin, self))

    def _forward(self, x: list[Value]) -> Value:
        """act(w . x + b) for inputs already checked and converted."""
        return ACTIVATIONS[self._activation](dot(self.w, x, self.b))

    def config(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Neuron:
        nin, activation = _fields(config, "Neuron", nin=_size, activation=_activation)
        _check_declared_budget(config)
        return cls(nin, activation)


class Layer(Module):
    """``nout`` neurons on the same ``nin`` inputs (``init``: see :class:`Neuron`).
    Always returns a list.

    ``activation`` is one name for all the neurons, or a list of one name per neuron;
    setting it (or one neuron's) later is recorded in the model file too."""

    def __init__(
        self, nin: int, nout: int, activation: str | Sequence[str] = "relu", seed: Any = None,
        init: str = "uniform",
    ) -> None:
        if not isinstance(nout, int) or nout < 1:
            raise ValueError(f"Layer: nout must be a positive int, got {nout!r}")
        activations = _per_neuron(activation, nout)
        rng = _rng(seed)
        self.neurons = [Neuron(nin, act, seed=rng, init=init) for act in activations]

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    @property
    def activation(self) -> str | list[str]:
        """The neurons' activation: one name when they share it, else a list (one name
        per neuron). Set a name (all neurons) or a list."""
        return self._shared_activation() or [n.activation for n in self.neurons]

    @activation.setter
    def activation(self, activation: str | Sequence[str]) -> None:
        for neuron, name in zip(self.neurons, _per_neuron(activation, len(self.neurons))):
            neuron.activation = name

    def _shared_activation(self) -> str | None:
        """The activation all neurons share, or None; cached until the structure changes
        (a neuron's activation is structure)."""
        cache = self.__dict__.get("_activation_cache")
        if cache is None or cache[0] != _structure_version_now():
            names = {n.activation for n in self.neurons}
            cache = (_structure_version_now(), names.pop() if len(names) == 1 else None)
            self.__dict__["_activation_cache"] = cache
        return cache[1]

    def forward(self, x: Sequence[Any]) -> list[Value]:
        """The ``nout`` neurons' outputs for one sample: always a list, even of one."""
        return Outputs(self._forward(_as_inputs(x, self.nin, self)))

    def _forward(self, x: list[Value]) -> list[Value]:
        neurons = self.neurons
        sums = dots([n.w for n in neurons], x, [n.b for n in neurons])
        activation = self._shared_activation()
        if activation == "linear":
            return sums
        if activation is None:  # the neurons differ
            return [ACTIVATIONS[n.activation](s) for n, s in zip(neurons, sums)]
        act = ACTIVATIONS[activation]
        return [act(s) for s in sums]

    def config(self) -> dict[str, Any]:
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        nin, nout, activation = _fields(config, "Layer", nin=_size, nout=_size,
                                        activation=_activations)
        _check_declared_budget(config)
        return cls(nin, nout, activation)


class MLP(Module):
    """A multi-layer perceptron: hidden layers with ``activation``, then an output layer
    with ``output_activation`` (default ``"linear"``: logits, as in micrograd).

    ``MLP(4, [16, 3])`` is 4 -> 16 (ReLU) -> 3 (linear logits), micrograd's shapes;
    ``MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh")`` is the micrograd
    lecture's all-tanh network. Calling it returns the list of outputs, or -- when the
    last layer has one neuron, as in micrograd -- that one output as a Value
    (``MLP(2, [16, 16, 1])`` gives a score you can ``.relu()`` or ``.backward()``
    directly). Weights start as in micrograd, U(-1, 1); ``init="he"`` or ``"lecun"``
    scale them by the fan-in (see :class:`Neuron`). Activations changed later, per layer
    or per neuron (``model.layers[-1].activation = "tanh"``), are saved and loaded.
    """

    def __init__(
        self, nin: int, nouts: Sequence[int], activation: str = "relu", seed: Any = None,
        init: str = "uniform", output_activation: str = "linear",
    ) -> None:
        if not nouts:
            raise ValueError("MLP: nouts must list at least one layer size")
        _check_activation(activation)
        _check_activation(output_activation)
        rng = _rng(seed)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1],
                  activation if i < len(nouts) - 1 else output_activation, seed=rng, init=init)
            for i in range(len(nouts))
        ]
        self._activation = activation
        self._output_activation = output_activation

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def activation(self) -> str | list[Any]:
        """The hidden layers' activation: a name when they share one (as constructed when
        there are none), else one entry per hidden layer (see ``Layer.activation``)."""
        hidden = [layer.activation for layer in self.layers[:-1]]
        if not hidden:
            return self._activation
        return hidden[0] if all(h == hidden[0] for h in hidden) else hidden

    @property
    def output_activation(self) -> str | list[str]:
        """The output layer's activation (a list when its neurons differ)."""
        return self.layers[-1].activation

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        """The outputs for one sample: a list, or a Value when there is one output."""
        out = _as_inputs(x, self.nin, self)
        for layer in self.layers:
            out = layer._forward(out)
        return out[0] if len(out) == 1 else Outputs(out)

    def config(self) -> dict[str, Any]:
        """Sizes and activations, read from the layers: ``activation`` (hidden layers)
        and ``output_activation``, or -- when a layer's neurons differ, or the hidden
        layers do -- ``activations`` instead, one entry per layer (a name, or a list of
        one per neuron)."""
        actual = [layer.activation for layer in self.layers]
        hidden, output = actual[:-1], actual[-1]
        config = {"type": "MLP", "nin": self.nin, "nouts": [layer.nout for layer in self.layers]}
        if isinstance(output, str) and all(h == (hidden or [None])[0] for h in hidden) and (
                not hidden or isinstance(hidden[0], str)):
            config["activation"] = hidden[0] if hidden else self._activation
            config["output_activation"] = output
        else:  # (then activations alone says what each layer computes)
            config["activations"] = actual
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MLP:
        nin, nouts, activation, output_activation, activations = _fields(
            config, "MLP", optional={"activation": "relu", "output_activation": "linear",
                                     "activations": None},
            nin=_size, nouts=_sizes, activation=_activation,
            output_activation=_activation,
            activations=lambda x: type(x) is list and all(map(_activations, x)))
        _check_declared_budget(config)
        if activations is not None and len(activations) != len(nouts):
            raise ValueError(f"MLP: activations lists {len(activations)} layers for "
                             f"{len(nouts)}")
        model = cls(nin, nouts, activation, output_activation=output_activation)
        for layer, layer_activation in zip(model.layers, activations or ()):
            layer.activation = layer_activation  # (a per-neuron list is checked there)
        return model

MODULE_TYPES.update({cls.__name__: cls for cls in (Neuron, Layer, MLP)})
