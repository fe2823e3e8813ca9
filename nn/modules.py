"""Neural-network modules built from scalar Values: Module, Neuron, Layer, MLP.

A neuron computes  act(w . x + b)  with one n-ary ``dot`` node for the
weighted sum, so its graph stays small while every edge keeps its local
derivative (x_i for w_i, w_i for x_i, 1 for b).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value, dot
from autograd.files import write_json
from autograd.functions import dots

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron"]

FORMAT = "chainrule-module"
FORMAT_VERSION = 1

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


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _as_inputs(x: Sequence[Any], expected: int, owner: Any) -> list[Value]:
    """The inputs as Values (numbers become input leaves), after checking their count."""
    if len(x) != expected:
        raise ValueError(f"{owner!r} expects {expected} inputs, got {len(x)}")
    return [xi if type(xi) is Value else _as_input(xi) for xi in x]


def _as_input(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)


class Module:
    """Base class: parameters are found by walking attributes in definition order.

    An attribute that is a Value is a parameter, a Module is a child, and a
    list or tuple of Values or Modules is indexed: ``layers.0.neurons.3.w.1``.
    Subclasses describe their architecture in ``config()`` so that saved files
    can be checked against the model they are loaded into.
    """

    def _walk(self, prefix: str = "") -> Iterator[tuple[str, Any, Any, Value]]:
        """(dotted name, container, key, parameter) for every parameter, in definition
        order; ``container[key]`` (a list) or ``getattr(container, key)`` holds it."""
        for name, attribute in vars(self).items():
            if name.startswith("_"):
                continue
            if isinstance(attribute, (list, tuple)):
                for index, item in enumerate(attribute):
                    if isinstance(item, Value):
                        yield f"{prefix}{name}.{index}", attribute, index, item
                    elif isinstance(item, Module):
                        yield from item._walk(f"{prefix}{name}.{index}.")
            elif isinstance(attribute, Value):
                yield f"{prefix}{name}", self, name, attribute
            elif isinstance(attribute, Module):
                yield from attribute._walk(f"{prefix}{name}.")

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """(dotted name, parameter) pairs, in a stable order."""
        for name, _, _, parameter in self._walk(prefix):
            yield name, parameter

    @contextlib.contextmanager
    def substitute(self, values: Sequence[Value]) -> Iterator[Module]:
        """Within the block the module computes with ``values`` in place of its
        parameters (in ``parameters()`` order); afterwards its own are back.

        This makes the model a function of its parameters, as ``autograd.jit``
        and ``grad`` need: ``with model.substitute(theta): out = model(x)``.
        """
        slots = [(container, key) for _, container, key, _ in self._walk()]
        if len(values) != len(slots):
            raise ValueError(f"substitute: {self!r} has {len(slots)} parameters, got "
                             f"{len(values)} values")
        saved = []
        for (container, key), value in zip(slots, values):
            if isinstance(container, list):
                saved.append(container[key])
                container[key] = value
            else:
                saved.append(getattr(container, key))
                setattr(container, key, value)
        try:
            yield self
        finally:
            for (container, key), value in zip(slots, saved):
                if isinstance(container, list):
                    container[key] = value
                else:
                    setattr(container, key, value)

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted path, module) for this module ("" for itself) and every module
        inside it, parents before children: ``layers.0``, ``layers.0.neurons.3``."""
        yield prefix.rstrip("."), self
        for name, attribute in vars(self).items():
            if name.startswith("_"):
                continue
            if isinstance(attribute, (list, tuple)):
                for index, item in enumerate(attribute):
                    if isinstance(item, Module):
                        yield from item.named_modules(prefix=f"{prefix}{name}.{index}.")
            elif isinstance(attribute, Module):
                yield from attribute.named_modules(prefix=f"{prefix}{name}.")

    def parameters(self) -> list[Value]:
        """All parameters, in the order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0 (gradients accumulate otherwise)."""
        for p in self.parameters():
            p.grad = 0.0

    def config(self) -> dict[str, Any]:
        """The architecture as plain data (type and constructor arguments)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"

    # -- state -------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """{dotted name: float} for every parameter."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set every parameter from ``state``. Everything is validated first: a missing
        or unexpected name, or a value that is not a finite number, raises ValueError
        and leaves the module unchanged."""
        if not isinstance(state, dict):
            raise ValueError(f"load_state_dict: expected a dict, got {type(state).__name__}")
        named = dict(self.named_parameters())
        missing = [n for n in named if n not in state]
        unexpected = [n for n in state if n not in named]
        if missing or unexpected:
            raise ValueError(
                f"load_state_dict: the state does not match {self!r}: "
                f"missing {_few(missing)}, unexpected {_few(unexpected)}"
            )
        values = {}
        for name, raw in state.items():
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
                raise ValueError(f"load_state_dict: {name} = {raw!r} is not a finite number")
            values[name] = float(raw)
        for name, p in named.items():
            p.data = values[name]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save architecture and parameters as JSON, atomically (never pickle)."""
        return write_json(
            path,
            {"format": FORMAT, "version": FORMAT_VERSION, "module": self.config(),
             "parameters": self.state_dict()},
        )

    def load(self, path: str | os.PathLike[str]) -> None:
        """Load parameters saved by :meth:`save` into this module.

        The file must describe the same architecture; a corrupt file, another
        format or another architecture raises ValueError naming the mismatch,
        and the module is left unchanged.
        """
        text = Path(path).read_text(encoding="utf-8")
        try:
            saved = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"load: {path} is not valid JSON ({error}); the file is corrupt or not a "
                "chainrule model"
            ) from None
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            raise ValueError(f"load: {path} is not a chainrule model file (no {FORMAT!r} format)")
        if saved.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"load: {path} has format version {saved.get('version')!r}; "
                f"this chainrule reads version {FORMAT_VERSION}"
            )
        if saved.get("module") != self.config():
            raise ValueError(
                f"load: {path} holds {_describe(saved.get('module'))} but this model is "
                f"{self!r}; build the model with the saved architecture first"
            )
        self.load_state_dict(saved.get("parameters"))


def _few(names: list[str]) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:3])
    return f"{shown} (+{len(names) - 3} more)" if len(names) > 3 else shown


def _describe(config: Any) -> str:
    if isinstance(config, dict) and "type" in config:
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "type")
        return f"{config['type']}({args})"
    return repr(config)


class Neuron(Module):
    """act(w . x + b) with ``nin`` weights and a bias.

    Weights are drawn uniformly with a bound scaled by the fan-in:
    sqrt(6 / nin) for ReLU (He) and sqrt(3 / nin) otherwise (LeCun), so the
    pre-activation has about unit variance; the bias starts at 0.
    """

    def __init__(self, nin: int, activation: str = "relu", seed: Any = None) -> None:
        if not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        self.activation = _check_activation(activation)
        bound = math.sqrt((6.0 if activation == "relu" else 3.0) / nin)
        self.w = [Value(float(v)) for v in _rng(seed).uniform(-bound, bound, nin)]
        self.b = Value(0.0)

    @property
    def nin(self) -> int:
        return len(self.w)

    def __call__(self, x: Sequence[Any]) -> Value:
        return self._forward(_as_inputs(x, self.nin, self))

    def _forward(self, x: list[Value]) -> Value:
        """act(w . x + b) for inputs already checked and converted."""
        return ACTIVATIONS[self.activation](dot(self.w, x, self.b))

    def config(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation}


class Layer(Module):
    """``nout`` neurons on the same ``nin`` inputs. Always returns a list."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", seed: Any = None) -> None:
        if not isinstance(nout, int) or nout < 1:
            raise ValueError(f"Layer: nout must be a positive int, got {nout!r}")
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, seed=rng) for _ in range(nout)]

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def __call__(self, x: Sequence[Any]) -> list[Value]:
        return self._forward(_as_inputs(x, self.nin, self))

    def _forward(self, x: list[Value]) -> list[Value]:
        neurons = self.neurons
        sums = dots([n.w for n in neurons], x, [n.b for n in neurons])
        activation = neurons[0].activation
        if activation == "linear":
            return sums
        act = ACTIVATIONS[activation]
        return [act(s) for s in sums]

    def config(self) -> dict[str, Any]:
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation}


class MLP(Module):
    """A multi-layer perceptron: hidden layers with ``activation``, a linear output layer.

    ``MLP(4, [16, 3])`` is 4 -> 16 (ReLU) -> 3 (linear logits), micrograd's shapes.
    Calling it returns the list of outputs (also for a single output).
    """

    def __init__(
        self, nin: int, nouts: Sequence[int], activation: str = "relu", seed: Any = None
    ) -> None:
        if not nouts:
            raise ValueError("MLP: nouts must list at least one layer size")
        _check_activation(activation)
        rng = _rng(seed)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "linear", seed=rng)
            for i in range(len(nouts))
        ]
        self._activation = activation

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    def __call__(self, x: Sequence[Any]) -> list[Value]:
        out = _as_inputs(x, self.nin, self)
        for layer in self.layers:
            out = layer._forward(out)
        return out

    def config(self) -> dict[str, Any]:
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": [layer.nout for layer in self.layers],
            "activation": self._activation,
        }
