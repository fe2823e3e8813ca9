"""Names, kinds and module ownership of the nodes of a graph, and number formatting:
what the drawing, the explanation and the explorer call each node."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..engine import _CONSTANT, Value


class _Naming:
    """Names, kinds and module ownership of the nodes."""

    def __init__(self, names: Any, parameters: Iterable[Value] | None,
                 who: str = "draw_dot") -> None:
        if hasattr(parameters, "named_parameters"):  # parameters=model: its parameters,
            if names is None:                        # named as names=model names them
                names, parameters = parameters, None
            else:
                parameters = list(parameters.parameters())
        self.module = names if hasattr(names, "named_parameters") else None
        self.owner: dict[Value, str] = {}
        self.module_types: dict[str, str] = {}
        self.index: dict[Value, int] = {}  # a parameter's place in named_parameters()
        self.inputs: list[Value] = []  # the model's unlabelled inputs, named x.0, x.1, ...
        if self.module is not None:
            self.names = {p: n for n, p in self.module.named_parameters()}
            self.index = {p: i for i, p in enumerate(self.names)}
            self._find_owners(self.module)
        elif names is None:
            self.names = {}
        elif isinstance(names, Mapping):
            if not all(isinstance(k, Value) and isinstance(v, str) for k, v in names.items()):
                raise TypeError(f"{who}: names must map Values to str (or be an nn.Module)")
            self.names = dict(names)
        else:
            raise TypeError(
                f"{who}: names must be a dict {{Value: name}} or an nn.Module, "
                f"got {type(names).__name__}"
            )
        self.parameters = set(self.names) if self.module is not None else set()
        if parameters is not None:
            self.parameters |= _values(parameters, who)

    def _find_owners(self, module: Any) -> None:
        for path, sub in _named_modules(module):
            if path:
                self.module_types[path] = _describe_module(sub)
            prefix = f"{path}." if path else ""
            for _, p in sub.named_parameters(prefix=prefix):
                self.owner[p] = path  # deeper modules come later and win

    def name_inputs(self, order: list[Value]) -> None:
        """With a module, unlabelled input leaves get names x.0, x.1, ... in the order
        they were made (the order of the model's inputs)."""
        if self.module is None:
            return
        inputs = [node for node in order if not node._parents and node._operation is not _CONSTANT
                  and node not in self.parameters and not self.name(node)]
        self.inputs = sorted(inputs, key=lambda n: n._number)
        for i, node in enumerate(self.inputs):
            self.names[node] = f"x.{i}"

    def name(self, node: Value) -> str:
        return self.names.get(node) or node.label

    def kind(self, node: Value, root: Value) -> str:
        if node is root:
            return "output"
        if node._operation is _CONSTANT:
            return "constant"
        if node._parents:
            return "intermediate"
        return "parameter" if node in self.parameters else "input"

    def assign_owners(self, order: list[Value]) -> dict[Value, str]:
        """The module each node belongs to: the owner of a parameter it uses, or for a
        node with a single non-constant operand (an activation), that operand's."""
        owner = {node: self.owner[node] for node in order if node in self.owner}
        for node in order:
            if not node._parents or node in owner:
                continue
            operands = [p for p in node._parents if p._operation is not _CONSTANT]
            for p in operands:
                if p in self.owner:
                    owner[node] = self.owner[p]
                    break
            else:
                if len(operands) == 1 and operands[0] in owner:
                    owner[node] = owner[operands[0]]
        return owner


def _values(parameters: Any, who: str) -> set[Value]:
    """``parameters=`` as a set of Values (one Value alone is taken as a list of one)."""
    if isinstance(parameters, Value):
        return {parameters}
    try:
        values = list(parameters)
    except TypeError:
        values = [parameters]
    if not all(isinstance(p, Value) for p in values):
        raise TypeError(f"{who}: parameters must be Values, e.g. parameters=[w, b]; got "
                        f"{', '.join(sorted({type(p).__name__ for p in values}))}")
    return set(values)


def _unique_names(order: list[Value], root: Value, naming: _Naming,
                  precision: int) -> dict[Value, str]:
    """A name for every node that tells it apart in text: its given name or label; a
    constant's value (``2``, ``-1``: a constant is what it is, so two 2s may share the
    name); "out" for an unnamed output; an operation's name (prefixed by its module's
    path); an unnamed leaf "v<index>". Other names that would repeat (two unnamed
    "mul"s) get "#<topological index>"."""
    owner = naming.assign_owners(order) if naming.module is not None else {}

    def base_name(i: int, node: Value) -> str:
        name = naming.name(node)
        if name:
            return name
        if not node._parents:
            return f"v{i}"
        if node is root:
            return "out"
        return f"{owner[node]}.{node.op}" if node in owner else node.op

    names = {}
    base = {node: base_name(i, node) for i, node in enumerate(order)
            if node._operation is not _CONSTANT}
    counts = Counter(base.values())
    for i, node in enumerate(order):
        if node._operation is _CONSTANT:
            names[node] = naming.name(node) or _fmt(node.data, precision)
        else:
            names[node] = f"{base[node]}#{i}" if counts[base[node]] > 1 else base[node]
    return names


def _module_phrase(path: str) -> str:
    """A module path in words, innermost first: ``layers.1.neurons.3`` -> ``neuron 3
    of layer 1``, ``body.layers.0`` -> ``layer 0 of body``."""
    parts = path.split(".")
    words = []
    i = 0
    while i < len(parts):
        if i + 1 < len(parts) and parts[i + 1].isdigit():
            container = parts[i]
            if container.endswith("s") and len(container) > 1:
                container = container[:-1]  # layers.1: layer 1
            words.append(f"{container} {parts[i + 1]}")
            i += 2
        else:
            words.append(parts[i])
            i += 1
    return " of ".join(reversed(words))


def _relative_name(name: str, path: str | None, here: str | None,
                   modules: Iterable[str]) -> str:
    """``name`` (a node's full dotted name, in the module ``path``) as read from inside
    the module ``here``: ``w.0`` in its own module, ``w.0 of neuron 3`` from another
    neuron of the same layer, ``relu of neuron 0 of layer 0`` from further away."""
    if not path or not name.startswith(path + "."):
        return name
    local = name[len(path) + 1:]
    if path == here:
        return local
    common = ""
    for module in modules:  # the innermost module holding both
        inside = path == module or path.startswith(module + ".")
        if (inside and here and (here == module or here.startswith(module + "."))
                and len(module) > len(common)):
            common = module
    return f"{local} of {_module_phrase(path[len(common) + 1:] if common else path)}"


def _named_modules(module: Any) -> Iterator[tuple[str, Any]]:
    """(dotted path, module) for ``module`` and every module inside it, parents first.
    An object with ``named_parameters`` but no ``named_modules`` is one module."""
    if hasattr(module, "named_modules"):
        yield from module.named_modules()
    else:
        yield "", module


def _describe_module(module: Any) -> str:
    activation = getattr(module, "activation", None)
    name = type(module).__name__
    return f"{name} ({activation})" if isinstance(activation, str) else name


def _fmt(x: float, precision: int) -> str:
    text = f"{x:.{precision}g}"
    return "0" if text == "-0" else text


def _record_escape(text: str) -> str:
    for char in "\\{}|<>\"":
        text = text.replace(char, "\\" + char)
    return text



def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
