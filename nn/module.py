"""``Module``, PyTorch-style: the base class of models and layers.

A module finds its parameters by walking what it holds -- attributes, and lists, tuples
and dicts nested to any depth -- and offers PyTorch's ``parameters()``,
``named_parameters()``, ``zero_grad()``, ``named_modules()``, ``train()`` / ``eval()``,
``state_dict()`` and JSON ``save()`` / ``load()`` (the file format lives in
:mod:`nn.model_files`). Lists and dicts assigned to a module are kept as tracked copies
(:class:`ModuleList`, :class:`ModuleDict`) so the cached parameter walk stays right.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value
from autograd.files import write_json

from .model_files import (
    FORMAT,
    FORMAT_VERSION,
    _describe,
    _read_model_file,
    load,
    module_from_config,
)

__all__ = ["Module", "ModuleDict", "ModuleList"]


# ---------------------------------------------------------------------------
# Structure tracking: parameters() and zero_grad() may be called on every training step
# (micrograd's loop calls both per step), so the walk over a module's attributes is
# cached. Any change of structure -- setting or deleting a module attribute that is (or
# was) a Value, Module or container, or changing a list or dict a module holds, at any
# depth -- bumps one global version, and every cache built before it is rebuilt on its
# next use. That is why a module keeps tracked copies of the plain lists and dicts
# assigned to it (and of those inside them, and inside tuples): they report their own
# changes. A container that cannot report (a dict or list subclass such as defaultdict,
# a deque, an object array of Values) is walked as it is, and a module holding one is
# walked again on every call instead of cached.

_structure_version = 0


def _structure_changed() -> None:
    global _structure_version
    _structure_version += 1


def _structure_version_now() -> int:
    """The structure version (for caches outside this file)."""
    return _structure_version


def _may_hold(x: Any) -> bool:
    """Whether ``x`` is, or may contain, a parameter or a module."""
    return isinstance(x, (Value, Module, list, tuple, dict, deque)) or (
        isinstance(x, np.ndarray) and x.dtype == object)


def _reports_changes(container: Any) -> bool:
    """Whether a change inside ``container`` reaches the structure version."""
    return isinstance(container, (ModuleList, ModuleDict, tuple))


def _tracked(x: Any) -> Any:
    """``x`` with every plain list and dict in it, at any depth, a tracked copy
    (ModuleList, ModuleDict); a tracked one as it is (two attributes may share it), and
    anything else -- subclasses such as defaultdict included -- as it is."""
    if type(x) is list:
        return ModuleList(x)
    if type(x) is dict:
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


def _tracked_items(items: Any = (), **more: Any) -> dict[Any, Any]:
    return {key: _tracked(value) for key, value in dict(items, **more).items()}


class ModuleDict(dict):
    """The dict a Module keeps when a dict is assigned to one of its attributes: an
    ordinary dict that reports its changes (see :class:`ModuleList`). Its keys name the
    parameters inside it (``self.embed = {"wte": [...]}`` -> ``embed.wte.0``)."""

    __slots__ = ()

    def __init__(self, items: Any = (), **more: Any) -> None:
        super().__init__(_tracked_items(items, **more))

    def update(self, items: Any = (), **more: Any) -> None:
        dict.update(self, _tracked_items(items, **more))
        _structure_changed()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    __setitem__ = _reporting(dict.__setitem__, _last)
    __delitem__ = _reporting(dict.__delitem__, _same)
    __ior__ = _reporting(dict.__ior__, lambda items: (_tracked_items(items),))
    pop = _reporting(dict.pop, _same)
    popitem = _reporting(dict.popitem, _same)
    clear = _reporting(dict.clear, _same)


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

    Parameters are found by walking attributes in definition order: a Value is a
    parameter and a Module a child, held directly or in lists, tuples and dicts
    nested to any depth (``layers.0.neurons.3.w.1``, ``embed.wte.2.0``). A parameter
    reachable twice (also kept in an alias list, say) is listed once, where it is
    first found; two parameters whose names would be the same are an error.

    Subclass it and define ``forward(...)``: calling the module calls ``forward``.
    Define ``config()`` (the architecture as plain data) to ``save()`` and ``load()``
    the module: the file records it, and loading checks it against the model.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            value = _tracked(value)
        structural = not name.startswith("_") and (
            _may_hold(value) or _may_hold(self.__dict__.get(name))
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

    def _held(self, enter_modules: bool = True,
              untracked: list[Any] | None = None) -> Iterator[tuple[str, Any, Any, Any]]:
        """(dotted path, container, key, item) for this module (path "") and every Value
        and Module it holds -- in attributes, and in lists, tuples and dicts nested to any
        depth (``weights.2.1``) -- in definition order, a module before what it holds,
        repeats included: ``container[key]`` (a list or dict) or ``getattr(container,
        key)`` (a module) holds the item. A module or container met again inside itself
        (a cycle) is not entered again; without ``enter_modules`` the modules inside are
        listed but not entered. Containers that do not report their changes are added to
        ``untracked``."""
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
                    if item is not self and not enter_modules:
                        continue
                    held = [(name, x) for name, x in vars(item).items()
                            if not name.startswith("_")]
                elif isinstance(item, dict):
                    held = list(item.items())
                else:
                    held = list(enumerate(item))
                if untracked is not None and not isinstance(item, Module) and (
                        not _reports_changes(item)):
                    untracked.append(item)
                entered.add(id(item))
                stack.append((None, id(item), None, None))
                stack.extend((f"{path}.{k}" if path else str(k), x, item, k)
                             for k, x in reversed(held) if _may_hold(x))

    def _walk(self, untracked: list[Any] | None = None
              ) -> Iterator[tuple[str, Any, Any, Value]]:
        """(dotted name, container, key, parameter) for every place a parameter is held
        (see ``_held``), repeats included."""
        for path, container, key, item in self._held(untracked=untracked):
            if isinstance(item, Value):
                yield path, container, key, item

    def _parameter_table(self) -> tuple[list[str], list[Value]]:
        """(names, parameters), each parameter once, where it is first found; cached
        until the structure changes (see ModuleList), unless the module holds a
        container that cannot report its changes."""
        cache = self.__dict__.get("_parameter_cache")
        if cache is not None and cache[0] == _structure_version:
            return cache[1], cache[2]
        names: list[str] = []
        params: list[Value] = []
        seen: set[Value] = set()  # Values hash by identity
        named: dict[str, Value] = {}
        untracked: list[Any] = []
        for name, _, _, parameter in self._walk(untracked):
            if parameter in seen:
                continue
            if name in named:
                raise ValueError(
                    f"two parameters of {type(self).__name__} would both be named {name!r} "
                    "(a dict key and a list index that read the same, or a key with a '.' "
                    "in it): parameters(), state_dict() and saved files need distinct "
                    "names; use distinct string keys without dots")
            seen.add(parameter)
            named[name] = parameter
            names.append(name)
            params.append(parameter)
        if not untracked:
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
        for container, _, _ in slots:  # (checked before anything is replaced)
            if isinstance(container, tuple):
                raise TypeError(f"substitute: a parameter is held in a tuple "
                                f"{container!r:.60}, which cannot be changed; hold the "
                                "parameters in a list")
        try:
            for container, key, i in slots:
                _put(container, key, values[i])
            _structure_changed()
            yield self
        finally:
            for container, key, i in slots:
                _put(container, key, params[i])
            _structure_changed()

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
        counts: dict[str, int] = {}  # parameters held in each attribute's containers
        for path, _, _, item in self._held(enter_modules=False):
            if isinstance(item, Module) and path:
                child = repr(item).replace("\n", "\n  ")
                lines.append(f"  ({path}): {child}")
            elif isinstance(item, Value) and "." not in path:
                lines.append(f"  ({path}): parameter {item.data!r}")
            elif isinstance(item, Value):
                attribute = path.split(".")[0]
                counts[attribute] = counts.get(attribute, 0) + 1
        for attribute, count in counts.items():
            lines.append(f"  ({attribute}): {count} parameter{'s' if count > 1 else ''}")
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


def _put(container: Any, key: Any, value: Value) -> None:
    """``container[key] = value`` or the attribute, without reporting it (substitute
    reports once for all)."""
    if isinstance(container, Module):
        object.__setattr__(container, key, value)
    elif isinstance(container, list):
        list.__setitem__(container, key, value)
    elif isinstance(container, dict):
        dict.__setitem__(container, key, value)
    else:
        container[key] = value


def _few(names: list[Any]) -> str:
    if not names:
        return "none"
    shown = ", ".join(name if isinstance(name, str) else repr(name) for name in names[:3])
    return f"{shown} (+{len(names) - 3} more)" if len(names) > 3 else shown
