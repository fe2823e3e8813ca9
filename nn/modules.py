"""Neural-network modules built from scalar Values: Module, Neuron, Layer, MLP.

A neuron computes  act(w . x + b)  with one n-ary ``dot`` node for the
weighted sum, so its graph stays small while every edge keeps its local
derivative (x_i for w_i, w_i for x_i, 1 for b).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value, dot
from autograd.files import read_json, write_json
from autograd.functions import dots

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
    "Standardize",
    "load",
    "module_from_config",
]

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


# ---------------------------------------------------------------------------
# Structure tracking: parameters() and zero_grad() may be called on every training step
# (micrograd's loop calls both per step), so the walk over a module's attributes is
# cached. Any change of structure -- setting or deleting a module attribute that is (or
# was) a Value, Module or container, or changing a list or dict a module holds, at any
# depth -- bumps one global version, and every cache built before it is rebuilt on its
# next use. That is why a module keeps tracked copies of the lists and dicts assigned to
# it (and of those inside them, and inside tuples): they report their own changes.

_structure_version = 0


def _structure_changed() -> None:
    global _structure_version
    _structure_version += 1


def _is_structural(x: Any) -> bool:
    return isinstance(x, (Value, Module, list, tuple, dict))


def _may_hold(x: Any) -> bool:
    """Whether ``x`` is, or may contain, a parameter or a module."""
    return _is_structural(x) or (isinstance(x, np.ndarray) and x.dtype == object)


def _contents(x: Any, path: str, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(dotted path, item) for ``x`` and the Values and Modules inside its containers
    (not inside the modules), for display."""
    if isinstance(x, (Value, Module)):
        yield path, x
    elif _may_hold(x) and depth < 100:
        for key, item in (x.items() if isinstance(x, dict) else enumerate(x)):
            yield from _contents(item, f"{path}.{key}", depth + 1)


def _tracked(x: Any) -> Any:
    """``x`` with every list and dict in it, at any depth, a tracked copy (ModuleList,
    ModuleDict); anything else as it is."""
    if isinstance(x, list):
        return ModuleList(x)
    if isinstance(x, dict):
        return ModuleDict(x)
    if type(x) is tuple:
        items = [_tracked(item) for item in x]
        return x if all(a is b for a, b in zip(items, x)) else tuple(items)
    return x


def _reporting(method: Callable[..., Any], convert: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` of a tracked container, with its new items tracked (``convert``) and
    the change reported."""

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *convert(*args), **kwargs)
        _structure_changed()
        return result

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def _last(*args: Any) -> tuple[Any, ...]:  # (index, item): the item is tracked
    return (*args[:-1], _tracked(args[-1])) if args else args


def _each(index: Any, item: Any) -> tuple[Any, ...]:  # __setitem__: an item, or a slice's
    return (index, [_tracked(i) for i in item] if isinstance(index, slice) else _tracked(item))


def _same(*args: Any) -> tuple[Any, ...]:
    return args


class ModuleList(list):
    """The list a Module keeps when a list is assigned to one of its attributes
    (``self.w = [...]``, or ``[[...], [...]]`` nested): an ordinary list that also tells
    the modules when it changes, so their cached ``parameters()`` stay right; lists and
    dicts put into it are tracked too. As with PyTorch's ``ModuleList``, the module holds
    its own copy: change it through the attribute (``self.w[2].append(v)``)."""

    __slots__ = ()

    def __init__(self, items: Any = ()) -> None:
        super().__init__(_tracked(item) for item in items)

    __setitem__ = _reporting(list.__setitem__, _each)
    __delitem__ = _reporting(list.__delitem__, _same)
    __iadd__ = _reporting(list.__iadd__, lambda items: ([_tracked(i) for i in items],))
    __imul__ = _reporting(list.__imul__, _same)
    append = _reporting(list.append, _last)
    extend = _reporting(list.extend, lambda items: ([_tracked(i) for i in items],))
    insert = _reporting(list.insert, _last)
    pop = _reporting(list.pop, _same)
    remove = _reporting(list.remove, _same)
    clear = _reporting(list.clear, _same)
    sort = _reporting(list.sort, _same)
    reverse = _reporting(list.reverse, _same)


class ModuleDict(dict):
    """The dict a Module keeps when a dict is assigned to one of its attributes: an
    ordinary dict that reports its changes (see :class:`ModuleList`). Its keys name the
    parameters inside it (``self.embed = {"wte": [...]}`` -> ``embed.wte.0``)."""

    __slots__ = ()

    def __init__(self, items: Any = (), **more: Any) -> None:
        super().__init__()
        dict.update(self, {k: _tracked(v) for k, v in dict(items, **more).items()})

    def update(self, items: Any = (), **more: Any) -> None:
        dict.update(self, {k: _tracked(v) for k, v in dict(items, **more).items()})
        _structure_changed()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    __setitem__ = _reporting(dict.__setitem__, _last)
    __delitem__ = _reporting(dict.__delitem__, _same)
    __ior__ = _reporting(dict.__ior__, lambda items: ({k: _tracked(v) for k, v in
                                                      dict(items).items()},))
    pop = _reporting(dict.pop, _same)
    popitem = _reporting(dict.popitem, _same)
    clear = _reporting(dict.clear, _same)


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


def _class_or_instance_method(function: Callable[..., Any]) -> Any:
    """A method that receives the class when called on it, the instance otherwise."""

    class Descriptor:
        def __get__(self, instance: Any, owner: Any) -> Callable[..., Any]:
            return functools.partial(function, owner if instance is None else instance)

    descriptor = Descriptor()
    descriptor.__doc__ = function.__doc__
    return descriptor


class Module:
    """Base class of models, PyTorch-style.

    Parameters are found by walking attributes in definition order: an attribute
    that is a Value is a parameter, a Module is a child, and a list or tuple of
    Values or Modules is indexed (``layers.0.neurons.3.w.1``). A parameter reachable
    twice (also kept in an alias list, say) is listed once, where it is first found.

    Subclass it and define ``forward(...)``: calling the module calls ``forward``.
    Define ``config()`` (the architecture as plain data) to ``save()`` and ``load()``
    the module: the file records it, and loading checks it against the model.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            value = _tracked(value)
        structural = not name.startswith("_") and (
            _is_structural(value) or _is_structural(self.__dict__.get(name))
        )
        object.__setattr__(self, name, value)
        if structural:
            _structure_changed()

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        _structure_changed()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The module's computation; ``module(x)`` calls it. Subclasses define it."""
        raise NotImplementedError(
            f"{type(self).__name__} defines no forward(): define forward(self, x) to say what "
            "calling the module computes"
        )

    def _held(self) -> Iterator[tuple[str, Any, Any, Any]]:
        """(dotted path, container, key, item) for this module (path "") and every Value
        and Module it holds -- in attributes, and in lists, tuples and dicts nested to any
        depth (``weights.2.1``) -- in definition order, a module before what it holds,
        repeats included: ``container[key]`` (a list or dict) or ``getattr(container,
        key)`` (a module) holds the item. A module or container met again inside itself
        (a cycle) is not entered again."""
        # an explicit stack, depth-first, so nesting is not limited by the recursion
        # limit; a (None, id) entry marks leaving a module or container
        stack: list[tuple[Any, ...]] = [("", self, None, None)]
        entered: set[int] = set()  # the modules and containers on the way down
        while stack:
            path, item, container, key = stack.pop()
            if path is None:
                entered.discard(item)
            elif isinstance(item, Value):
                yield path, container, key, item
            elif id(item) not in entered:
                if isinstance(item, Module):
                    yield path, container, key, item
                    held = [(name, x) for name, x in vars(item).items()
                            if not name.startswith("_")]
                elif isinstance(item, dict):
                    held = list(item.items())
                else:
                    held = list(enumerate(item))
                entered.add(id(item))
                stack.append((None, id(item), None, None))
                stack.extend((f"{path}.{k}" if path else str(k), x, item, k)
                             for k, x in reversed(held) if _may_hold(x))

    def _walk(self, prefix: str = "") -> Iterator[tuple[str, Any, Any, Value]]:
        """(dotted name, container, key, parameter) for every place a parameter is held
        (see ``_held``), repeats included."""
        for path, container, key, item in self._held():
            if isinstance(item, Value):
                yield prefix + path, container, key, item

    def _parameter_table(self) -> tuple[list[str], list[Value]]:
        """(names, parameters), each parameter once, where it is first found; cached
        until the structure changes (see ModuleList)."""
        cache = self.__dict__.get("_parameter_cache")
        if cache is not None and cache[0] == _structure_version:
            return cache[1], cache[2]
        names: list[str] = []
        params: list[Value] = []
        seen: set[Value] = set()  # Values hash by identity
        for name, _, _, parameter in self._walk():
            if parameter not in seen:
                seen.add(parameter)
                names.append(name)
                params.append(parameter)
        self.__dict__["_parameter_cache"] = (_structure_version, names, params)
        return names, params

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """(dotted name, parameter) pairs, in a stable order, each parameter once."""
        names, params = self._parameter_table()
        for name, parameter in zip(names, params):
            yield prefix + name, parameter

    def parameters(self) -> list[Value]:
        """All parameters, in the order of ``named_parameters()``: a new list each call
        (cheap: the walk is cached until the module's structure changes)."""
        return list(self._parameter_table()[1])

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0 (gradients accumulate otherwise)."""
        for p in self._parameter_table()[1]:
            p.grad = 0.0

    @contextlib.contextmanager
    def substitute(self, values: Sequence[Value]) -> Iterator[Module]:
        """Within the block the module computes with ``values`` in place of its
        parameters (in ``parameters()`` order); afterwards its own are back.

        This makes the model a function of its parameters, as ``autograd.jit``
        and ``grad`` need: ``with model.substitute(theta): out = model(x)``.
        """
        params = self._parameter_table()[1]
        if len(values) != len(params):
            raise ValueError(f"substitute: {self!r} has {len(params)} parameters, got "
                             f"{len(values)} values")
        position = {p: i for i, p in enumerate(params)}
        slots = [(container, key, position[p]) for _, container, key, p in self._walk()]
        for container, key, i in slots:
            _put(container, key, values[i])
        try:
            yield self
        finally:
            for container, key, i in slots:
                _put(container, key, params[i])

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted path, module) for this module ("" for itself) and every module
        inside it, each once, parents before children: ``layers.0``,
        ``layers.0.neurons.3`` (modules in lists and dicts, at any depth, included)."""
        seen: set[int] = set()
        for path, _, _, item in self._held():
            if isinstance(item, Module) and id(item) not in seen:
                seen.add(id(item))
                yield (prefix + path if path else prefix.rstrip(".")), item

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, as ``named_modules()`` lists them."""
        for _, module in self.named_modules():
            yield module

    # -- PyTorch's training / evaluation switch ------------------------------------

    #: True after ``train()`` (the default), False after ``eval()``; modules whose
    #: forward differs between the two (dropout, batch statistics) read it. chainrule's
    #: own layers compute the same either way.
    training: bool = True

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` to ``mode`` on this module and every module inside it;
        returns the module (``model.train()``, as in PyTorch)."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be True or False, got {mode!r:.40}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """``train(False)``: evaluation mode. It does not turn off the graph: for that,
        compute inside ``with no_grad():`` (as in PyTorch)."""
        return self.train(False)

    def add_parameter(self, name: str, value: Any) -> Value:
        """minitorch's ``add_parameter``: make ``value`` (a Value, or a number for a new
        leaf labelled ``name``) the attribute ``name`` of this module, a parameter; returns
        the Value. Plain assignment (``self.w = Value(0.5)``) does the same."""
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"add_parameter: name must be an identifier not starting with "
                             f"'_', got {name!r:.40}")
        if not isinstance(value, Value):
            value = Value(value, label=name)
        setattr(self, name, value)
        return value

    def config(self) -> dict[str, Any]:
        """The architecture as plain data: ``{"type": name, **constructor arguments}``.

        ``save()`` writes it into the file and ``load()`` checks it against the model
        before changing anything, so a file is never loaded into another architecture.
        Define it in a subclass to save and load that subclass.
        """
        raise NotImplementedError(
            f"{type(self).__name__}.config() is not defined: config() returns the "
            "architecture as plain data (type and constructor arguments) for save() and "
            "load(); define it to save this module, or save its state_dict()"
        )

    def __repr__(self) -> str:
        try:
            config = self.config()
        except NotImplementedError:
            return self._tree_repr()
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "type")
        return f"{type(self).__name__}({args})"

    def _tree_repr(self) -> str:
        """PyTorch's layout for a module without config(): its children, one per line."""
        lines = []
        for name, attribute in vars(self).items():
            if name.startswith("_") or not _may_hold(attribute):
                continue
            values = 0
            for path, item in _contents(attribute, name):
                if isinstance(item, Module):
                    child = repr(item).replace("\n", "\n  ")
                    lines.append(f"  ({path}): {child}")
                else:
                    values += 1
            if isinstance(attribute, Value):
                lines.append(f"  ({name}): parameter {attribute.data!r}")
            elif values:
                lines.append(f"  ({name}): {values} parameter{'s' if values > 1 else ''}")
        if not lines:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

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
            value = None
            if isinstance(raw, (int, float, np.integer, np.floating)) and not isinstance(
                raw, (bool, np.bool_)
            ):
                with contextlib.suppress(OverflowError):  # an int beyond any float
                    value = float(raw)
            if value is None or not math.isfinite(value):
                raise ValueError(f"load_state_dict: {name} = {raw!r:.60} is not a finite number")
            values[name] = value
        for name, p in named.items():
            p.data = values[name]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save architecture and parameters as JSON, atomically (never pickle)."""
        return write_json(
            path,
            {"format": FORMAT, "version": FORMAT_VERSION, "module": self.config(),
             "parameters": self.state_dict()},
        )

    @_class_or_instance_method
    def load(self_or_class: Any, path: str | os.PathLike[str]) -> Any:
        """Load a model saved by :meth:`save`; returns it.

        On a class, ``MLP.load(path)`` builds the model the file describes (it must be
        an MLP; :func:`nn.load` takes any type). On a model, ``model.load(path)`` loads
        the parameters into it: the file must describe the same architecture. A
        corrupt, foreign or hostile file raises ValueError naming the problem, and
        nothing is built or changed.
        """
        if isinstance(self_or_class, type):
            model = load(path)
            if not isinstance(model, self_or_class):
                kind = self_or_class.__name__
                raise ValueError(f"load: {path} holds a {type(model).__name__}; {kind}.load "
                                 f"builds only a {kind}: use nn.load(path) for any model")
            return model
        self = self_or_class
        saved = _read_model_file(path)
        try:  # (as this chainrule writes it: a file may leave out fields added later)
            described = module_from_config(saved["module"]).config()
        except ValueError as error:
            raise ValueError(f"load: {path}: {error}") from None
        if described != self.config():
            raise ValueError(
                f"load: {path} holds {_describe(saved['module'])} but this model is "
                f"{self!r}; build the model with the saved architecture first, or use "
                "nn.load(path), which builds it"
            )
        self.load_state_dict(saved["parameters"])
        return self

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Module:
        """A new module (fresh parameters) from :meth:`config`'s plain data, checked
        strictly first. Subclasses that can be saved define it."""
        raise NotImplementedError(f"{cls.__name__}.from_config() is not defined")


#: the module types a model file may name, for :func:`load`
MODULE_TYPES: dict[str, type[Module]] = {}

#: no model file builds more parameters than this (a hostile file could ask for billions)
MAX_PARAMETERS = 5_000_000


def load(path: str | os.PathLike[str]) -> Module:
    """The model saved in ``path`` (by ``model.save``), whatever its type.

    The file is checked completely -- JSON, format, version, every module's
    architecture, the parameter budget, every parameter's name and number -- before
    the model is returned; a truncated, foreign or hostile file raises ValueError
    naming the problem. Never pickle: a model file cannot run code.
    """
    saved = _read_model_file(path)
    try:
        model = module_from_config(saved["module"])
    except ValueError as error:
        raise ValueError(f"load: {path}: {error}") from None
    try:
        model.load_state_dict(saved["parameters"])
    except ValueError as error:
        raise ValueError(f"load: {path}: {error}") from None
    return model


def module_from_config(config: Any) -> Module:
    """The module ``config`` describes (see :meth:`Module.config`), after checking it."""
    if not isinstance(config, dict) or not isinstance(config.get("type"), str):
        raise ValueError(f"a module description must be an object with a type, got "
                         f"{_describe(config):.80}")
    kind = MODULE_TYPES.get(config["type"])
    if kind is None:
        raise ValueError(f"unknown module type {config['type']!r:.40}; this chainrule builds "
                         f"{', '.join(sorted(MODULE_TYPES))}")
    return kind.from_config(config)


def _read_model_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    saved = read_json(path, "chainrule model file")
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError(f"load: {path} is not a chainrule model file (no {FORMAT!r} format)")
    version = saved.get("version")
    if type(version) is not int or version != FORMAT_VERSION:  # (true is not 1)
        raise ValueError(f"load: {path} has format version {version!r:.20}; this chainrule "
                         f"reads version {FORMAT_VERSION}")
    if set(saved) != {"format", "version", "module", "parameters"}:
        extra = sorted(set(saved) - {"format", "version", "module", "parameters"})
        raise ValueError(f"load: {path} has unexpected or missing entries "
                         f"({', '.join(map(repr, extra)) or 'module or parameters missing'})")
    return saved


def _fields(config: dict[str, Any], kind: str, optional: dict[str, Any] | None = None,
            **expected: Any) -> list[Any]:
    """The values of ``config``'s fields, each checked by its ``expected`` test.
    ``optional`` maps a field that may be absent (files written before it existed) to
    its default; its test is the one in ``expected``."""
    optional = optional or {}
    given = set(config) - {"type"}
    if "type" not in config or not set(expected) - set(optional) <= given <= set(expected):
        raise ValueError(f"a {kind} is described by {', '.join(expected)}; got "
                         f"{', '.join(sorted(map(str, config)))}")
    values = []
    for name, test in expected.items():
        if name not in config:
            values.append(optional[name])
            continue
        if not test(config[name]):
            raise ValueError(f"{kind}: {name} = {config[name]!r:.60} is not valid")
        values.append(config[name])
    return values


def _size(x: Any) -> bool:
    return type(x) is int and 1 <= x <= MAX_PARAMETERS


def _sizes(x: Any) -> bool:
    return type(x) is list and 0 < len(x) <= 1000 and all(map(_size, x))


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


def _check_budget(count: int, kind: str) -> None:
    if count > MAX_PARAMETERS:
        raise ValueError(f"{kind} would have {count} parameters, more than the "
                         f"{MAX_PARAMETERS} a chainrule model file may build")


def _put(container: Any, key: Any, value: Value) -> None:
    if isinstance(container, Module):
        setattr(container, key, value)
    elif isinstance(container, tuple):
        raise TypeError(f"substitute: a parameter is held in a tuple {container!r:.60}, which "
                        "cannot be changed; hold the parameters in a list")
    else:
        container[key] = value


def _few(names: list[Any]) -> str:
    if not names:
        return "none"
    shown = ", ".join(name if isinstance(name, str) else repr(name) for name in names[:3])
    return f"{shown} (+{len(names) - 3} more)" if len(names) > 3 else shown


def _describe(config: Any) -> str:
    if isinstance(config, dict) and "type" in config:
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "type")
        return f"{config['type']}({args})"
    return repr(config)


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
        _check_budget(nin + 1, "the Neuron")
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
        if cache is None or cache[0] != _structure_version:
            names = {n.activation for n in self.neurons}
            cache = (_structure_version, names.pop() if len(names) == 1 else None)
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
        _check_budget((nin + 1) * nout, "the Layer")
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
        layers do -- also ``activations``, one entry per layer (a name, or a list of one
        per neuron)."""
        actual = [layer.activation for layer in self.layers]
        hidden, output = actual[:-1], actual[-1]
        config = {"type": "MLP", "nin": self.nin, "nouts": [layer.nout for layer in self.layers]}
        if isinstance(output, str) and all(h == (hidden or [None])[0] for h in hidden) and (
                not hidden or isinstance(hidden[0], str)):
            config["activation"] = hidden[0] if hidden else self._activation
            config["output_activation"] = output
        else:
            config["activation"] = self._activation
            config["output_activation"] = self._output_activation
            config["activations"] = actual
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MLP:
        nin, nouts, activation, output_activation, activations = _fields(
            config, "MLP", optional={"output_activation": "linear", "activations": None},
            nin=_size, nouts=_sizes, activation=_activation,
            output_activation=_activation,
            activations=lambda x: type(x) is list and all(map(_activations, x)))
        sizes = [nin, *nouts]
        _check_budget(sum((a + 1) * b for a, b in itertools.pairwise(sizes)), "the MLP")
        if activations is not None and len(activations) != len(nouts):
            raise ValueError(f"MLP: activations lists {len(activations)} layers for "
                             f"{len(nouts)}")
        model = cls(nin, nouts, activation, output_activation=output_activation)
        for layer, layer_activation in zip(model.layers, activations or ()):
            layer.activation = layer_activation  # (a per-neuron list is checked there)
        return model


class Standardize(Module):
    """x -> (x - mean) / scale, feature by feature: preprocessing learned on the
    training data, kept inside the model so that a saved model works on raw
    measurements. It has no parameters (mean and scale are fixed, saved in its config).

    Numbers in, numbers out; Values in, Values out (then it is differentiable with
    respect to the inputs).
    """

    def __init__(self, mean: Sequence[float], scale: Sequence[float]) -> None:
        mean = [float(m) for m in mean]
        scale = [float(s) for s in scale]
        if not mean or len(mean) != len(scale):
            raise ValueError(f"Standardize: mean and scale need the same number (>= 1) of "
                             f"features, got {len(mean)} and {len(scale)}")
        if not all(math.isfinite(m) for m in mean) or not all(
            math.isfinite(s) and s > 0.0 for s in scale
        ):
            raise ValueError("Standardize: mean must be finite and scale finite and > 0")
        self._mean = tuple(mean)
        self._scale = tuple(scale)

    @classmethod
    def fit(cls, X: Any) -> Standardize:
        """Mean and standard deviation of each column of ``X`` (a constant column keeps
        scale 1: it is only centred)."""
        from .data import Standardizer  # (the statistics are computed in one place)

        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"Standardize.fit: expected a matrix (n, features), got shape "
                             f"{X.shape}")
        statistics = Standardizer().fit(X)
        return cls(statistics.mean, statistics.std)

    def transform(self, X: Any) -> np.ndarray:
        """(X - mean) / scale for a matrix of samples, as numbers (no graph)."""
        return (np.asarray(X, dtype=float) - self._mean) / self._scale

    @property
    def nin(self) -> int:
        return len(self._mean)

    @property
    def mean(self) -> list[float]:
        return list(self._mean)

    @property
    def scale(self) -> list[float]:
        return list(self._scale)

    def forward(self, x: Sequence[Any]) -> list[Any]:
        """(x_i - mean_i) / scale_i for one sample."""
        try:
            count = len(x)
        except TypeError:
            count = None
        if count != self.nin:
            raise ValueError(f"{self!r} expects {self.nin} features, got "
                             f"{count if count is not None else type(x).__name__}")
        return [(xi - m) / s if isinstance(xi, Value) else (float(xi) - m) / s
                for xi, m, s in zip(x, self._mean, self._scale)]

    def config(self) -> dict[str, Any]:
        return {"type": "Standardize", "mean": list(self._mean), "scale": list(self._scale)}

    def __repr__(self) -> str:
        return f"Standardize(nin={self.nin})"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Standardize:
        def numbers(x: Any) -> bool:
            return type(x) is list and 0 < len(x) <= MAX_PARAMETERS and all(
                type(v) in (int, float) for v in x)

        mean, scale = _fields(config, "Standardize", mean=numbers, scale=numbers)
        return cls(mean, scale)


class Classifier(Module):
    """A trained classifier, ready for raw data: optional preprocessing (a
    :class:`Standardize`), then a network whose outputs are the logits of the
    named ``classes``. Saved and loaded as one model.

    ``classifier(x)`` returns the logits; ``predict(X)`` the class indices and
    ``predict_proba(X)`` the softmax probabilities, for one sample or a matrix.
    """

    def __init__(self, network: Module, classes: Sequence[str],
                 preprocess: Module | None = None) -> None:
        classes = [str(c) for c in classes]
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ValueError(f"Classifier: needs two or more distinct class names, got "
                             f"{classes!r:.80}")
        outputs = network.config().get("nouts", [None])[-1]
        if outputs is not None and outputs != len(classes):
            raise ValueError(f"Classifier: the network has {outputs} outputs for "
                             f"{len(classes)} classes")
        self.preprocess = preprocess
        self.network = network
        self._classes = tuple(classes)

    @property
    def classes(self) -> list[str]:
        return list(self._classes)

    @property
    def nin(self) -> int:
        return (self.preprocess or self.network).nin

    def forward(self, x: Sequence[Any]) -> Any:
        """The class logits for one raw sample."""
        return self.network(x if self.preprocess is None else self.preprocess(x))

    def predict_proba(self, X: Any) -> np.ndarray:
        """softmax(logits): one row of class probabilities per sample (or one row)."""
        from autograd import no_grad, softmax

        X = np.asarray(X, dtype=float)
        rows = X[None, :] if X.ndim == 1 else X
        with no_grad():
            probabilities = np.array([[p.data for p in softmax(self(row))] for row in rows])
        return probabilities[0] if X.ndim == 1 else probabilities

    def predict(self, X: Any) -> Any:
        """The most probable class index, for one sample (an int) or each row."""
        probabilities = self.predict_proba(X)
        if probabilities.ndim == 1:
            return int(np.argmax(probabilities))
        return np.argmax(probabilities, axis=1)

    def config(self) -> dict[str, Any]:
        return {"type": "Classifier", "classes": list(self._classes),
                "preprocess": None if self.preprocess is None else self.preprocess.config(),
                "network": self.network.config()}

    def __repr__(self) -> str:
        preprocess = "" if self.preprocess is None else f"{self.preprocess!r} -> "
        return f"Classifier({preprocess}{self.network!r}, classes={list(self._classes)!r})"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Classifier:
        def names(x: Any) -> bool:
            return type(x) is list and 2 <= len(x) <= 100_000 and all(
                isinstance(c, str) and len(c) <= 200 for c in x)

        classes, preprocess, network = _fields(
            config, "Classifier", classes=names,
            preprocess=lambda x: x is None or isinstance(x, dict),
            network=lambda x: isinstance(x, dict))
        return cls(module_from_config(network), classes,
                   None if preprocess is None else module_from_config(preprocess))


MODULE_TYPES.update({cls.__name__: cls for cls in (Neuron, Layer, MLP, Standardize,
                                                   Classifier)})
