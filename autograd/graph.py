"""The chain-rule graph: see how backpropagation computes every gradient.

``draw_dot(root)`` draws one record per Value (name, data, grad) and one small
node per operation. Every edge from an operand into an operation carries the
**local derivative** d(out)/d(operand) -- the factor the chain rule multiplies
along that edge -- so the picture can be checked by hand::

    grad(v) = sum over the edges leaving v of  grad(out) * local

``draw_dot(root, step=k)`` draws the same graph as it stands after the first
``k`` steps of one backward pass (see :func:`backward_steps`), and
``explain(root, wrt)`` writes d(root)/d(wrt) out as the sum over all paths of
the product of the local derivatives along each path.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz

from .engine import _CONSTANT, Value, topological_order
from .files import write_atomic

__all__ = [
    "ChainRuleGraph",
    "Derivation",
    "GraphRenderTimeout",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "backward_steps",
    "draw_dot",
    "explain",
    "local_derivatives",
]

DEFAULT_MAX_NODES = 150  # more Values than this make an unreadable picture

#: fill colour and legend text of each kind of Value node
KINDS: dict[str, tuple[str, str]] = {
    "parameter": ("#fdd49e", "parameter"),
    "input": ("#c6dbef", "input"),
    "constant": ("#eeeeee", "constant"),
    "intermediate": ("#ffffff", "intermediate"),
    "output": ("#c7e9c0", "output"),
    "module": ("#e0d4f0", "module (collapsed)"),
}
OP_FILL = "#fff7bc"
ACTIVE = "#d7301f"  # the operation applied in the current backward step, and its edges

INSTALL_GRAPHVIZ = (
    "install Graphviz, which provides the `dot` program (Debian/Ubuntu: "
    "sudo apt-get install graphviz; macOS: brew install graphviz; conda: conda install "
    "graphviz; Windows: https://graphviz.org/download/), or use the DOT text in "
    "graph.source, which needs no Graphviz"
)


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is needed to render and is not on the PATH."""


class GraphTooLargeError(ValueError):
    """The graph has more Value nodes than ``max_nodes``."""


class GraphRenderTimeout(RuntimeError):
    """Graphviz's ``dot`` did not finish laying out the graph within the time limit."""


#: seconds ``dot`` may take to lay out one graph before it is stopped
RENDER_TIMEOUT = 30.0


class ChainRuleGraph(graphviz.Digraph):
    """A :class:`graphviz.Digraph` that displays itself in Jupyter and saves with
    :meth:`write`. Rendering runs Graphviz's ``dot`` with a time limit
    (``render_timeout`` seconds, :data:`RENDER_TIMEOUT` by default): some graphs (many
    edges between the same two nodes, say) take ``dot`` minutes, and a stopped render
    raises :class:`GraphRenderTimeout` saying so. When ``dot`` is missing, rendering
    raises :class:`GraphvizNotFoundError` saying how to install it; ``.source`` (the
    DOT text) always works."""

    render_timeout: float = RENDER_TIMEOUT

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: Any = None, quiet: bool = False,
             *, engine: str | None = None, encoding: str | None = None) -> Any:
        """The graph rendered by ``dot`` as bytes (or text, given ``encoding``)."""
        output_format = ":".join(x for x in (format or self.format, renderer, formatter) if x)
        command = [engine or self.engine, f"-T{output_format}"]
        try:
            done = subprocess.run(command, input=self.source.encode("utf-8"),
                                  capture_output=True, timeout=self.render_timeout)
        except FileNotFoundError:
            raise GraphvizNotFoundError(f"cannot render the graph: {INSTALL_GRAPHVIZ}") from None
        except subprocess.TimeoutExpired:
            edges = self.source.count(" -> ")
            raise GraphRenderTimeout(
                f"Graphviz's {command[0]} did not finish laying out the graph ({edges} edges) "
                f"in {self.render_timeout:g} s and was stopped; draw a smaller graph (fewer "
                "terms, or a model's collapsed view with max_nodes), or allow more time "
                "with graph.render_timeout"
            ) from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"Graphviz's {command[0]} failed: {message}")
        return done.stdout.decode(encoding) if encoding else done.stdout

    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError(f"cannot render the graph: {INSTALL_GRAPHVIZ}") from error

    def write(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Render to ``path`` atomically; the format comes from the suffix (``.svg``,
        ``.png``, ``.pdf``, or ``.dot`` / ``.gv`` for the DOT text) unless given."""
        path = Path(path)
        format = (format or path.suffix.lstrip(".") or "svg").lower()
        if format in ("dot", "gv"):
            return write_atomic(path, self.source)
        return write_atomic(path, self.pipe(format=format))


# ---------------------------------------------------------------------------
# Facts about the graph, independent of drawing.


def local_derivatives(node: Value) -> tuple[float, ...]:
    """d(node)/d(parent_i) for each parent, in operand order (empty for a leaf).

    These are the factors the chain rule multiplies along each edge; they
    come from the same rule ``backward()`` uses.
    """
    parents = node.parents
    if not parents:
        return ()
    rule = node._op.local_grads
    return tuple(float(d) for d in rule(*[p.data for p in parents], node.data))


def backward_steps(root: Value) -> list[Value]:
    """The operations in the order one backward pass from ``root`` applies them.

    Step k (1-based) takes the k-th node of this list and adds
    grad(node) * local to the gradient of each of its operands.
    ``draw_dot(root, step=k)`` draws the state after step k.
    """
    return _steps(topological_order(root))


def _steps(order: list[Value]) -> list[Value]:
    """The interior nodes of a topological order, last first."""
    return [node for node in reversed(order) if node._parents]


@dataclass
class _BackwardState:
    grads: dict[Value, float]
    final: set[Value]
    applied: Value | None
    step: int
    steps: int


def _backward_state(order: list[Value], root: Value, step: int | None) -> _BackwardState:
    """Gradients after ``step`` steps of backprop from ``root`` (all steps if None)."""
    interior = _steps(order)
    if step is None:
        step = len(interior)
    elif not (isinstance(step, int) and 0 <= step <= len(interior)):
        raise ValueError(
            f"draw_dot: step must be an int from 0 to {len(interior)} (the number of "
            f"operations in this graph), got {step!r}"
        )
    waiting = Counter(p for node in order for p in set(node._parents))  # consumers left
    grads: dict[Value, float] = {root: 1.0}
    for node in interior[:step]:
        g = grads.get(node, 0.0)
        for parent, d in zip(node._parents, local_derivatives(node)):
            if parent._op is not _CONSTANT:
                grads[parent] = grads.get(parent, 0.0) + g * d
        for parent in set(node._parents):
            waiting[parent] -= 1
    final = {node for node in order if waiting[node] == 0}
    applied = interior[step - 1] if step else None
    return _BackwardState(grads, final, applied, step, len(interior))


class _Naming:
    """Names, kinds and module ownership of the nodes."""

    def __init__(self, names: Any, parameters: Iterable[Value] | None) -> None:
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
                raise TypeError("draw_dot: names must map Values to str (or be an nn.Module)")
            self.names = dict(names)
        else:
            raise TypeError(
                f"draw_dot: names must be a dict {{Value: name}} or an nn.Module, "
                f"got {type(names).__name__}"
            )
        self.parameters = set(self.names) if self.module is not None else set()
        if parameters is not None:
            self.parameters |= set(parameters)

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
        inputs = [node for node in order if not node._parents and node._op is not _CONSTANT
                  and node not in self.parameters and not self.name(node)]
        self.inputs = sorted(inputs, key=lambda n: n._number)
        for i, node in enumerate(self.inputs):
            self.names[node] = f"x.{i}"

    def name(self, node: Value) -> str:
        return self.names.get(node) or node.label

    def kind(self, node: Value, root: Value) -> str:
        if node is root:
            return "output"
        if node._op is _CONSTANT:
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
            operands = [p for p in node._parents if p._op is not _CONSTANT]
            for p in operands:
                if p in self.owner:
                    owner[node] = self.owner[p]
                    break
            else:
                if len(operands) == 1 and operands[0] in owner:
                    owner[node] = owner[operands[0]]
        return owner


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


# ---------------------------------------------------------------------------
# draw_dot


def draw_dot(
    root: Value,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    show_local: bool = True,
    names: Mapping[Value, str] | Any | None = None,
    parameters: Iterable[Value] | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    format: str = "svg",
    step: int | None = None,
    precision: int = 4,
    legend: bool = True,
) -> ChainRuleGraph:
    """Draw the graph that computed ``root``, with the chain rule on its edges.

    - One record per Value: its name (from ``names``, else its ``label``), its
      data and its grad; one small node per operation; edges in operand order.
    - The edge from an operand into an operation is labelled ``×k`` where
      k = d(out)/d(operand) is the local derivative, so for every node
      ``grad(v) = sum over its out-edges of grad(out) × k``.
    - Fill colours tell the kinds apart (parameter, input, constant,
      intermediate, output); a legend explains them.
    - ``names`` is a dict {Value: name} or an ``nn.Module``: then its
      ``named_parameters()`` name the weights (``layers.0.neurons.3.w.1``),
      they are drawn as parameters, and each module's nodes (each neuron's,
      inside each layer's) are grouped in a cluster. ``parameters`` marks
      further leaves as parameters.
    - ``step=k`` draws the state after the first k steps of one backward
      pass (:func:`backward_steps`): gradients are what backprop has summed
      so far, dashed nodes are not final yet, and the operation just applied
      and its edges are red. Without ``step``, grads are the nodes' ``.grad``.
    - A graph with more than ``max_nodes`` Values is not handed to dot: with a
      module it is collapsed to one node per innermost module (one per
      neuron); otherwise :class:`GraphTooLargeError` says how to get a
      readable picture. ``max_nodes=None`` draws everything.

    The traversal is iterative, so depth is no problem. The result renders
    itself in Jupyter, saves with ``.write("graph.png")`` (SVG, PNG, PDF or
    DOT), and its ``.source`` is the DOT text (no Graphviz needed for that).
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_dot: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot: root must be a Value, got {type(root).__name__}")
    order = topological_order(root)
    naming = _Naming(names, parameters)
    naming.name_inputs(order)
    graph = ChainRuleGraph(
        "chain_rule", format=format,
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "12",
                    "nodesep": "0.25", "ranksep": "0.35", "remincross": "false"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "10", "arrowsize": "0.6"},
    )
    if max_nodes is not None and len(order) > max_nodes:
        if naming.module is None:
            raise GraphTooLargeError(
                f"draw_dot: the graph has {len(order)} Value nodes, more than max_nodes="
                f"{max_nodes}; dot would take long and the picture would be unreadable. "
                "Draw a smaller expression (one sample's loss instead of a batch), pass "
                "names=model to collapse an nn model to one node per neuron, or pass a larger "
                "max_nodes (None for no limit) if you really want every node"
            )
        if step is not None:
            raise GraphTooLargeError(
                f"draw_dot: step-by-step drawing needs every node, and this graph has "
                f"{len(order)} Values (max_nodes={max_nodes}); step through a smaller "
                "expression or pass a larger max_nodes"
            )
        _draw_collapsed(graph, root, order, naming, max_nodes, show_data, show_grad,
                        precision, legend)
        return graph
    state = _backward_state(order, root, step) if step is not None else None
    _draw_full(graph, root, order, naming, state, show_data, show_grad, show_local, precision)
    if legend:
        kinds = {naming.kind(node, root) for node in order}
        _draw_legend(graph, kinds, show_local, stepping=state is not None)
    if state is not None:
        graph.attr(label=_step_title(state, precision), labelloc="t", fontsize="14")
    return graph


def _step_title(state: _BackwardState, precision: int) -> str:
    if state.applied is None:
        return (f"backward step 0 of {state.steps}: the output's grad is seeded with 1, "
                "no operation applied yet")
    g = _fmt(state.grads.get(state.applied, 0.0), precision)
    return (f"backward step {state.step} of {state.steps}: applied {state.applied.op} (red): "
            f"each operand's grad += {g} × the local derivative on its edge")


def _value_label(fields: list[str]) -> str:
    body = " | ".join(_record_escape(f) for f in fields)
    # "{ ... }": fields side by side with rankdir LR, stacked with TB
    return f"{{ {body} }}"


def _draw_full(graph, root, order, naming, state, show_data, show_grad, show_local,
               precision) -> None:
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    owner = naming.assign_owners(order) if naming.module is not None else {}
    clusters: dict[str, list[tuple[str, dict[str, str], int | None]]] = {}

    def add_node(node_id: str, attrs: dict[str, str], node: Value) -> None:
        path = owner.get(node)
        if not path:  # no module, or the top-level module itself (no cluster of its own)
            graph.node(node_id, **attrs)
        else:
            key = naming.index.get(node) if node_id.startswith("v") else None
            clusters.setdefault(path, []).append((node_id, attrs, key))

    for node in order:
        kind = naming.kind(node, root)
        fields = []
        name = naming.name(node)
        path = owner.get(node)
        if path and name.startswith(path + "."):
            name = name[len(path) + 1:]  # the cluster's label carries the prefix
        if name:
            fields.append(name)
        elif kind == "constant":
            fields.append("const")
        if show_data:
            fields.append(f"data {_fmt(node.data, precision)}")
        if show_grad and kind != "constant":
            if state is None:
                fields.append(f"grad {_fmt(node.grad, precision)}")
            else:
                fields.append(f"grad {_fmt(state.grads.get(node, 0.0), precision)}")
        if not fields:
            fields.append(node.op or "leaf")
        style = "filled"
        attrs = {"label": _value_label(fields), "shape": "record",
                 "fillcolor": KINDS[kind][0]}
        if state is not None and kind != "constant":
            if node not in state.final:
                style = "filled,dashed"
            else:
                attrs["penwidth"] = "1.6"
        attrs["style"] = style
        add_node(ids[node], attrs, node)
        if node._parents:
            op_id = f"op{ids[node][1:]}"
            active = state is not None and node is state.applied
            op_attrs = {"label": node._op.symbol or node.op, "shape": "ellipse",
                        "style": "filled", "fillcolor": OP_FILL, "margin": "0.02,0.01",
                        "height": "0.3", "ordering": "in"}  # operands top to bottom
            if active:
                op_attrs.update(color=ACTIVE, penwidth="2.5", fontcolor=ACTIVE)
            add_node(op_id, op_attrs, node)
            graph.edge(op_id, ids[node], **({"color": ACTIVE, "penwidth": "2"} if active else {}))
            locals_ = _safe_local_derivatives(node)
            for parent, d in zip(node._parents, locals_):
                attrs = {}
                if show_local and parent._op is not _CONSTANT:
                    attrs["label"] = "×undefined" if d is None else f"×{_fmt(d, precision)}"
                if active and parent._op is not _CONSTANT:
                    attrs.update(color=ACTIVE, penwidth="2", fontcolor=ACTIVE)
                elif parent._op is _CONSTANT:
                    attrs.update(color="#999999", style="dashed")
                graph.edge(ids[parent], op_id, **attrs)
    if clusters:
        _draw_clusters(graph, clusters, naming)


def _safe_local_derivatives(node: Value) -> list[float | None]:
    try:
        return list(local_derivatives(node))
    except (ValueError, ZeroDivisionError, OverflowError):
        return [None] * len(node._parents)


def _draw_clusters(graph, clusters, naming) -> None:
    """Nest each module's nodes in a cluster inside its parent module's cluster."""
    turned = graph.graph_attr.get("rankdir") == "LR"
    paths = set()
    for path in clusters:
        parts = path.split(".")
        paths.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    modules = [p for p in naming.module_types if p in paths]  # parents before children
    children: dict[str, list[str]] = {}
    top = []
    for path in modules:
        parent = next((q for q in reversed(modules[: modules.index(path)])
                       if path.startswith(q + ".")), None)
        (children.setdefault(parent, []) if parent else top).append(path)

    def build(container, path: str) -> None:
        with container.subgraph(name=f"cluster_{path}") as sub:
            sub.attr(label=f"{path}: {naming.module_types[path]}", style="rounded,dashed",
                     color="#888888", fontsize="10", fontcolor="#555555")
            members = clusters.get(path, [])
            # members in model order (parameters as named_parameters lists them, modules
            # as named_modules does): dot starts from the declaration order
            members = sorted(members, key=lambda m: (m[2] is None, m[2] or 0))
            for node_id, attrs, _ in members:
                sub.node(node_id, **attrs)
            ordered = [node_id for node_id, _, key in members if key is not None]
            _column(sub, ordered, turned)
            for child in children.get(path, []):
                build(sub, child)

    for path in top:
        build(graph, path)


def _column(graph, node_ids: list[str], turned: bool) -> None:
    """Keep the nodes top to bottom in the given order: an invisible point one rank
    before them, whose out-edges dot keeps in order (``ordering=out``). With rankdir LR
    dot lays the graph out top-down and turns it, so its left-to-right order becomes
    bottom-to-top: with ``turned`` the edges go in reverse. (The graph sets
    ``remincross=false`` so that a last crossing pass does not undo the order inside
    clusters.)"""
    if len(node_ids) > 1:
        anchor = f"order_{node_ids[0]}"
        graph.node(anchor, label="", shape="point", style="invis", width="0", height="0",
                   ordering="out")
        for node_id in (reversed(node_ids) if turned else node_ids):
            graph.edge(anchor, node_id, style="invis")


def _draw_legend(graph, kinds: set[str], show_local: bool, stepping: bool,
                 operations: bool = True) -> None:
    """One compact node: a row of colour swatches for the kinds present, notes below."""
    swatches = "".join(
        f'<td bgcolor="{fill}" cellpadding="2"><font point-size="9">{text}</font></td>'
        for kind, (fill, text) in KINDS.items() if kind in kinds)
    notes = ["op: an operation"] if operations else ["edges: which module feeds which"]
    if show_local:
        notes.append("edge ×k: local derivative k = ∂out/∂in")
        notes.append("grad(in) = Σ over out-edges grad(out) × k")
    if stepping:
        notes.append("dashed: grad not final yet; red: op applied now")
    columns = max(1, sum(kind in kinds for kind in KINDS))
    text = "".join(f'{_html_escape(note)}<br align="left"/>' for note in notes)
    label = (f'<<table border="0" cellborder="1" cellspacing="3" color="#bbbbbb">'
             f"<tr>{swatches}</tr><tr><td colspan=\"{columns}\" border=\"0\" "
             f'align="left"><font point-size="9">{text}</font></td></tr></table>>')
    graph.node("legend", label=label, shape="plaintext", margin="0")


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------
# The collapsed view: one node per innermost module.


def _draw_collapsed(graph, root, order, naming, max_nodes, show_data, show_grad, precision,
                    legend) -> None:
    owner = naming.assign_owners(order)
    groups: dict[str, list[Value]] = {}
    for node in order:
        if node in owner:
            groups.setdefault(owner[node], []).append(node)
    consumers: dict[Value, list[Value]] = {}
    for node in order:
        for p in node._parents:
            consumers.setdefault(p, []).append(node)

    def representative(path: str) -> Value:
        """The group's output: its last node used outside the group (or the root)."""
        members = groups[path]
        outside = [n for n in members if n is root
                   or any(owner.get(c) != path for c in consumers.get(n, []))]
        return (outside or members)[-1]

    node_id: dict[Value, str] = {}
    for i, node in enumerate(order):
        path = owner.get(node)
        node_id[node] = f"g_{path}" if path is not None else f"v{i}"
    visible = [n for n in order if n not in owner and n._op is not _CONSTANT]
    shown = len(groups) + len(visible)
    if max_nodes is not None and shown > max_nodes:
        raise GraphTooLargeError(
            f"draw_dot: even collapsed to one node per module the graph has {shown} nodes, "
            f"more than max_nodes={max_nodes}; draw one sample's loss, or pass a larger "
            "max_nodes (None for no limit)"
        )
    graph.attr(label=f"collapsed: {len(order)} Values shown as one node per module "
                     f"(max_nodes={max_nodes})", labelloc="t")
    clusters: dict[str, list[tuple[str, dict[str, str], int | None]]] = {}
    position = {path: i for i, path in enumerate(naming.module_types)}
    for path, members in sorted(groups.items(), key=lambda item: position.get(item[0], -1)):
        rep = representative(path)
        parameters = sum(1 for n in members if n in naming.parameters)
        fields = [path, naming.module_types.get(path, ""), f"{parameters} parameters"]
        if show_data:
            fields.append(f"out {_fmt(rep.data, precision)}")
        if show_grad:
            fields.append(f"grad {_fmt(rep.grad, precision)}")
        kind = "output" if rep is root else "module"
        attrs = {"label": _value_label(fields), "shape": "record", "style": "filled",
                 "fillcolor": KINDS[kind][0]}
        parent = ".".join(path.split(".")[:-1])
        while parent and parent not in naming.module_types:
            parent = ".".join(parent.split(".")[:-1])
        if parent:
            clusters.setdefault(parent, []).append((f"g_{path}", attrs, position.get(path)))
        else:
            graph.node(f"g_{path}", **attrs)
    if clusters:
        _draw_clusters(graph, clusters, naming)
    for node in visible:
        kind = naming.kind(node, root)
        fields = [naming.name(node) or node.op or "input"]
        if show_data:
            fields.append(f"data {_fmt(node.data, precision)}")
        if show_grad:
            fields.append(f"grad {_fmt(node.grad, precision)}")
        graph.node(node_id[node], _value_label(fields), shape="record", style="filled",
                   fillcolor=KINDS[kind][0])
    drawn = set()
    for node in order:
        for p in node._parents:
            if p._op is _CONSTANT:
                continue
            a, b = node_id[p], node_id[node]
            if a != b and (a, b) not in drawn:
                drawn.add((a, b))
                graph.edge(a, b)
    if legend:
        kinds = {"module"} | {naming.kind(node, root) for node in visible}
        _draw_legend(graph, kinds, show_local=False, stepping=False, operations=False)


# ---------------------------------------------------------------------------
# explain


@dataclass
class Derivation:
    """d(root)/d(wrt) as a sum over paths of products of local derivatives.

    ``paths`` lists (node names, local derivatives, product) for the paths
    shown, largest contribution first; ``num_paths`` counts them all;
    ``total`` is the derivative, which equals ``wrt.grad`` after
    ``root.backward()`` on zeroed gradients. ``str()`` is the readable text.
    """

    root_name: str
    wrt_name: str
    total: float
    num_paths: int
    paths: list[tuple[tuple[str, ...], tuple[float, ...], float]] = field(default_factory=list)
    text: str = ""

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def explain(
    root: Value,
    wrt: Value,
    *,
    names: Mapping[Value, str] | Any | None = None,
    max_paths: int = 8,
    precision: int = 4,
) -> Derivation:
    """Write out d(root)/d(wrt) by the chain rule, with names and numbers.

    Every path from ``wrt`` to ``root`` contributes the product of the local
    derivatives along it; the derivative is the sum of the contributions.
    At most ``max_paths`` paths are listed (the largest contributions); the
    rest are summarised in one line. Very many paths (more than 10,000) are
    not enumerated: the text then gives the node-by-node form of the chain
    rule, grad(wrt) = sum over wrt's uses of grad(use) × local.
    """
    if not isinstance(root, Value) or not isinstance(wrt, Value):
        raise TypeError("explain: root and wrt must be Values")
    naming = _Naming(names, None)
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}

    owner = naming.assign_owners(order) if naming.module is not None else {}

    def base_name(node: Value) -> str:
        if node._op is _CONSTANT:
            return _fmt(node.data, precision)
        name = naming.name(node)
        if name:
            return name
        if not node._parents:
            return f"v{index[node]}"
        if node is root:
            return "out"
        return f"{owner[node]}.{node.op}" if node in owner else node.op

    # different nodes with the same name (two unnamed "mul"s) get "#topological index"
    name_counts = Counter(base_name(node) for node in order)

    def name_of(node: Value) -> str:
        name = base_name(node)
        return f"{name}#{index[node]}" if name_counts[name] > 1 else name

    root_name, wrt_name = name_of(root), name_of(wrt)
    head = f"d{root_name}/d{wrt_name}"
    if wrt not in index:
        text = (f"{head} = 0: {wrt_name} is not part of the graph that computed {root_name}, "
                "so no path leads from it to the output")
        return Derivation(root_name, wrt_name, 0.0, 0, [], text)

    state = _backward_state(order, root, None)
    total = state.grads.get(wrt, 0.0) if wrt._op is not _CONSTANT else 0.0
    # edges of the sub-graph between wrt and root, one per operand occurrence
    reaches = {wrt}
    children: dict[Value, list[tuple[Value, float, str]]] = {}
    count = {wrt: 1}
    for node in order[index[wrt] + 1:]:
        if not node._parents:
            continue
        locals_ = local_derivatives(node)
        for slot, (parent, d) in enumerate(zip(node._parents, locals_), 1):
            if parent in reaches:
                # an operand used twice (a + a, x * x) gives two edges: name the slot
                repeated = sum(p is parent for p in node._parents) > 1
                children.setdefault(parent, []).append((node, d, f"[{slot}]" if repeated else ""))
                count[node] = count.get(node, 0) + count[parent]
        if node in count:
            reaches.add(node)
    num_paths = count.get(root, 0) if root is not wrt else 1
    lines = [f"{head} = sum over {num_paths} path{'s' if num_paths != 1 else ''} from "
             f"{wrt_name} to {root_name} of the product of the local derivatives along it"]
    shown: list[tuple[tuple[str, ...], tuple[float, ...], float]] = []
    if root is wrt:
        lines = [f"{head} = 1 ({root_name} is the output itself)"]
    elif num_paths <= 10_000:
        all_paths = list(_enumerate_paths(wrt, root, children))
        all_paths.sort(key=lambda p: -abs(_product(p[2])))
        for nodes, slots, factors in all_paths:
            path_names = (name_of(nodes[0]),
                          *(name_of(n) + slot for n, slot in zip(nodes[1:], slots)))
            shown.append((path_names, factors, _product(factors)))
        listed = shown[:max_paths]
        width = len(str(len(listed)))
        for i, (path_names, factors, product) in enumerate(listed, 1):
            chain = " → ".join(_abbreviate(path_names))
            product_text = " × ".join(_abbreviate([_fmt(f, precision) for f in factors]))
            lines.append(f"  path {i:>{width}}: {chain}")
            lines.append(f"  {'':>{width + 5}}  {product_text} = {_fmt(product, precision)}")
        if any("[" in name for path in listed for name in path[0]):
            lines.append("  (op[i]: the path enters op as its i-th operand)")
        if len(shown) > max_paths:
            rest = sum(p[2] for p in shown[max_paths:])
            lines.append(f"  … and {len(shown) - max_paths} more paths, contributing "
                         f"{_fmt(rest, precision)} in total")
        shown = listed
    else:
        lines.append(f"  ({num_paths} paths are too many to list; node by node the chain rule "
                     f"gives grad({wrt_name}) = Σ over its uses of grad(use) × local:)")
        for node, d, slot in children.get(wrt, [])[:max_paths]:
            g = state.grads.get(node, 0.0)
            lines.append(f"  via {name_of(node)}{slot}: {_fmt(g, precision)} × "
                         f"{_fmt(d, precision)}"
                         f" = {_fmt(g * d, precision)}")
    lines.append(f"  total {head} = {_fmt(total, precision)}")
    if wrt._op is _CONSTANT:
        pass  # constants get no gradient
    elif wrt.grad == total:
        lines.append(f"  ({wrt_name}.grad = {_fmt(wrt.grad, precision)}: the same)")
    else:
        lines.append(f"  ({wrt_name}.grad is {_fmt(wrt.grad, precision)}: call "
                     f"{root_name}.backward() once, on zeroed gradients, to compare)")
    return Derivation(root_name, wrt_name, total, num_paths, shown, "\n".join(lines))


def _abbreviate(items: Iterable[str], keep: int = 5) -> list[str]:
    """A long path as its first and last ``keep`` items around a count of the rest."""
    items = list(items)
    if len(items) <= 2 * keep + 1:
        return items
    return [*items[:keep], f"…({len(items) - 2 * keep} more)…", *items[-keep:]]


def _product(factors: Iterable[float]) -> float:
    result = 1.0
    for f in factors:
        result *= f
    return result


def _enumerate_paths(
    start: Value, end: Value, children: dict[Value, list[tuple[Value, float, str]]]
) -> Iterator[tuple[tuple[Value, ...], tuple[str, ...], tuple[float, ...]]]:
    """Every path start → end along ``children`` edges (nodes, operand slots,
    local derivatives), iteratively."""
    stack = [(start, (start,), (), ())]
    while stack:
        node, nodes, slots, factors = stack.pop()
        if node is end:
            yield nodes, slots, factors
            continue
        for child, d, slot in reversed(children.get(node, [])):
            stack.append((child, (*nodes, child), (*slots, slot), (*factors, d)))
