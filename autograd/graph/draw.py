"""draw_dot: one record per Value, one node per operation, the local derivative on
every edge; the state after k backward steps; the collapsed view of a model."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..engine import _CONSTANT, Value, topological_order
from .naming import _fmt, _html_escape, _Naming, _record_escape
from .render import ChainRuleGraph, GraphTooLargeError
from .steps import _backward_state, _BackwardState, _safe_local_derivatives

__all__ = ["DEFAULT_MAX_NODES", "KINDS", "draw_dot"]

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
      inside each layer's) are grouped in a cluster: the layers stand side by
      side, left to right, each with its inputs (x.0, x.1, ..., the previous
      layer's outputs) at its left. ``parameters`` marks further leaves as
      parameters; ``parameters=model`` alone means ``names=model``.
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
    Its SVG (in Jupyter and in a written .svg) shrinks to the width it is shown
    in and is never enlarged; a title wraps between words, never cut.
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_dot: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot: root must be a Value, got {type(root).__name__}")
    _check_max_nodes(max_nodes, "draw_dot")
    order = topological_order(root)
    naming = _Naming(names, parameters)
    naming.name_inputs(order)
    graph = _new_graph(rankdir, format)
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
        graph.attr(label=_title(_step_title(state, precision)), labelloc="t", fontsize="14")
    return graph


def _check_max_nodes(max_nodes: Any, who: str) -> None:
    if max_nodes is not None and (not isinstance(max_nodes, int) or isinstance(max_nodes, bool)
                                  or max_nodes < 1):
        raise ValueError(f"{who}: max_nodes must be a positive int, or None for no limit; got "
                         f"{max_nodes!r}")


def _new_graph(rankdir: str, format: str = "svg") -> ChainRuleGraph:
    return ChainRuleGraph(
        "chain_rule", format=format,
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "12",
                    "nodesep": "0.15", "ranksep": "0.25", "remincross": "false"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "margin": "0.06,0.04"},
        edge_attr={"fontname": "Helvetica", "fontsize": "10", "arrowsize": "0.6"},
    )


TITLE_WIDTH = 56  # characters per line of a drawing's title


def _title(text: str) -> str:
    """A drawing's title as centred lines (DOT's ``\\n``) of at most TITLE_WIDTH
    characters, broken between words: the drawing is at least as wide as its widest
    line, so no word is cut off at its edges, even when shown narrower."""
    lines = textwrap.wrap(text, TITLE_WIDTH, break_long_words=False, break_on_hyphens=False)
    return "\\n".join(line.replace("\\", "\\\\") for line in lines)


def _step_title(state: _BackwardState, precision: int) -> str:
    if state.applied is None:
        return (f"backward step 0 of {state.steps}: the output's grad is seeded with 1, "
                "no operation applied yet")
    g = _fmt(state.grads.get(state.applied, 0.0), precision)
    return (f"backward step {state.step} of {state.steps}: applied {state.applied.op} (red): "
            f"each operand's grad += {g} × the local derivative on its edge")


def _module_card(fields: list[str], fill: str) -> str:
    """A collapsed module's node: its path, then what it is, then its numbers side by
    side (an HTML table, not a record: dot keeps a chain of these in order). Each
    field is one text of the SVG, in this order."""
    path, description, *numbers = (_html_escape(f) for f in fields)
    row = "".join(f"<td>{number}</td>" for number in numbers)
    span = max(1, len(numbers))
    return (f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="2" '
            f'bgcolor="{fill}"><tr><td colspan="{span}" align="left">{path}</td></tr>'
            f'<tr><td colspan="{span}" align="left"><font point-size="9">{description}'
            f"</font></td></tr>{f'<tr>{row}</tr>' if row else ''}</table>>")


def _value_label(fields: list[str]) -> str:
    body = " | ".join(_record_escape(f) for f in fields)
    # "{ ... }": fields side by side with rankdir LR, stacked with TB
    return f"{{ {body} }}"


#: a hook that may replace a record's fields: (element id, node, fields) -> fields
Relabel = Callable[[str, Value, list[str]], list[str]]


def _draw_full(graph, root, order, naming, state, show_data, show_grad, show_local,
               precision, relabel: Relabel | None = None) -> None:
    """Every Value a record ``v<i>`` (i: topological index), every operation an ellipse
    ``op<i>``; the SVG ids of the edges are ``o<i>`` (op -> its Value) and
    ``e<i>_<slot>`` (operand -> op).

    With a module, each module's nodes sit in a cluster (see :func:`_placement`), and
    a layer's inputs sit at its left: one rank before the parameters of the clusters
    that use them (invisible edges), so that a network reads left to right as its
    layers do."""
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    owner = naming.assign_owners(order) if naming.module is not None else {}
    records, operations = _placement(order, owner, naming) if owner else ({}, {})
    clusters: dict[str, list[tuple[str, dict[str, str], int | None]]] = {}

    def add_node(node_id: str, attrs: dict[str, str], path: str | None,
                 key: int | None = None) -> None:
        if not path:  # no module, or the top-level module itself (no cluster of its own)
            graph.node(node_id, **attrs)
        else:
            clusters.setdefault(path, []).append((node_id, attrs, key))

    for node in order:
        kind = naming.kind(node, root)
        fields = []
        name = naming.name(node)
        path = records.get(node)
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
        if relabel is not None:
            fields = relabel(ids[node], node, fields)
        style = "filled"
        attrs = {"label": _value_label(fields), "shape": "record", "id": ids[node],
                 "fillcolor": KINDS[kind][0]}
        if state is not None and kind != "constant":
            if node not in state.final:
                style = "filled,dashed"
            else:
                attrs["penwidth"] = "1.6"
        attrs["style"] = style
        add_node(ids[node], attrs, path, _model_position(node, owner, naming) if path else None)
        if node._parents:
            op_id = f"op{ids[node][1:]}"
            active = state is not None and node is state.applied
            op_attrs = {"label": node._operation.symbol or node.op, "shape": "ellipse", "id": op_id,
                        "style": "filled", "fillcolor": OP_FILL, "margin": "0.02,0.01",
                        "height": "0.3", "ordering": "in"}  # operands top to bottom
            if active:
                op_attrs.update(color=ACTIVE, penwidth="2.5", fontcolor=ACTIVE)
            add_node(op_id, op_attrs, operations.get(node))
            # heavy: an operation stays beside its result
            graph.edge(op_id, ids[node], id=f"o{op_id[2:]}", weight="8",
                       **({"color": ACTIVE, "penwidth": "2"} if active else {}))
            locals_ = _safe_local_derivatives(node)
            for slot, (parent, d) in enumerate(zip(node._parents, locals_)):
                attrs = {"id": f"e{op_id[2:]}_{slot}"}
                if show_local and parent._operation is not _CONSTANT:
                    attrs["label"] = "×undefined" if d is None else f"×{_fmt(d, precision)}"
                if active and parent._operation is not _CONSTANT:
                    attrs.update(color=ACTIVE, penwidth="2", fontcolor=ACTIVE)
                elif parent._operation is _CONSTANT:
                    attrs.update(color="#999999", style="dashed")
                graph.edge(ids[parent], op_id, **attrs)
    if clusters:
        _inputs_first(graph, order, ids, records, operations, naming)
        _draw_clusters(graph, clusters, naming, column=_anchored_column,
                       ordered=lambda key: key is not None and key < len(naming.index))


def _model_position(node: Value, owner: dict[Value, str], naming: _Naming) -> int | None:
    """Where a record stands in its cluster: parameters as named_parameters() lists
    them, then inputs x.0, x.1, ..., then other modules' outputs in module order."""
    if node in naming.index:
        return naming.index[node]
    base = len(naming.index)
    if node in naming.inputs:
        return base + naming.inputs.index(node)
    modules = list(naming.module_types)
    if owner.get(node) in naming.module_types:
        return base + len(naming.inputs) + modules.index(owner[node])
    return None


def _placement(order: list[Value], owner: dict[Value, str],
               naming: _Naming) -> tuple[dict[Value, str], dict[Value, str]]:
    """The cluster each node's record and each node's operation are drawn in: its
    module's (``owner``), except for a layer's inputs. A Value that is not a parameter
    and whose every use lies inside one module that is not its own -- a network's
    inputs x.0, x.1, ..., a neuron's output that feeds the next layer -- is drawn in
    that module's cluster, as its input: then the layers' clusters stand side by side
    and the edges into a layer stay inside it (dot routes an edge's bends around the
    clusters it does not belong to). Its operation (the relu that made it) moves
    along, so that the layer before ends one rank earlier."""
    uses: dict[Value, list[Value]] = {}
    for node in order:
        for p in node._parents:
            uses.setdefault(p, []).append(node)
    records = dict(owner)
    operations = dict(owner)
    for node in order:
        if node in naming.parameters or node._operation is _CONSTANT or node not in uses:
            continue
        paths = [owner.get(use, "").split(".") for use in uses[node]]
        parts = paths[0]
        for path in paths[1:]:  # the longest module path they all start with
            parts = [a for a, _ in itertools.takewhile(lambda ab: ab[0] == ab[1], zip(parts, path))]
        while parts and ".".join(parts) not in naming.module_types:
            parts = parts[:-1]
        user = ".".join(parts)
        mine = owner.get(node, "")
        if user and user != mine and not user.startswith(mine + "."):
            records[node] = operations[node] = user
    return records, operations


def _inputs_first(graph, order, ids, records, operations, naming) -> None:
    """Invisible edges from the inputs of each cluster (operands drawn outside it) to
    the anchor that orders its parameters (:func:`_anchored_column`; the parameter
    itself when it is the only one): the inputs then stand before the parameters, at
    the cluster's left, not above or below it."""
    parameters: dict[str, list[Value]] = {}
    for node in order:
        if node in naming.index and records.get(node):
            parameters.setdefault(records[node], []).append(node)
    done = set()
    for node in order:
        path = operations.get(node)
        if not node._parents or path not in parameters:
            continue
        params = parameters[path]
        target = (f"order_{ids[min(params, key=naming.index.__getitem__)]}"
                  if len(params) > 1 else ids[params[0]])
        for p in node._parents:
            if (p._operation is not _CONSTANT and records.get(p) != path
                    and p not in naming.parameters and (p, path) not in done):
                done.add((p, path))
                graph.edge(ids[p], target, style="invis")


def _draw_clusters(graph, clusters, naming, column=None, ordered=None) -> None:
    """Nest each module's nodes in a cluster inside its parent module's cluster.
    Members are declared in model order (parameters as named_parameters lists them,
    modules as named_modules does), where dot starts from, and ``column`` (by default
    :func:`_column`) keeps those with an ``ordered`` key in that order."""
    column = column or _column
    turned = graph.graph_attr.get("rankdir") in ("LR", "RL")
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
            members = sorted(members, key=lambda m: (m[2] is None, m[2] or 0))
            for node_id, attrs, _ in members:
                sub.node(node_id, **attrs)
            column(sub, [node_id for node_id, _, key in members
                         if (ordered(key) if ordered else key is not None)], turned)
            for child in children.get(path, []):
                build(sub, child)

    for path in top:
        build(graph, path)


def _column(graph, node_ids: list[str], turned: bool) -> None:
    """Keep the nodes in one rank, top to bottom in the given order: an invisible
    chain of flat edges, which dot keeps. With rankdir LR dot lays the graph out
    top-down and turns it, so its left-to-right order becomes bottom-to-top: with
    ``turned`` the chain runs backwards. (dot cannot chain records this way -- it
    loses flat edges between adjacent records -- so the collapsed view's cards are
    HTML tables. An anchor one rank before the nodes would order them too, but it
    widens the cluster by a rank, and a cluster that shares a rank with its inputs is
    pushed above or below them.)"""
    if len(node_ids) > 1:
        with graph.subgraph() as same:
            same.attr(rank="same")
            chain = list(reversed(node_ids)) if turned else node_ids
            for a, b in itertools.pairwise(chain):
                same.edge(a, b, style="invis")


def _anchored_column(graph, node_ids: list[str], turned: bool) -> None:
    """Keep the records top to bottom in the given order: an invisible point
    ``order_<first id>`` one rank before them, whose out-edges dot keeps in order
    (``ordering=out``; reversed when ``turned``, as in :func:`_column`). (The graph
    sets ``remincross=false`` so that a last crossing pass does not undo the order
    inside clusters.)"""
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


# ---------------------------------------------------------------------------
# The collapsed view: one node per innermost module.


@dataclass
class _Collapsed:
    """The collapsed view: the nodes of each innermost module (``groups``, keyed by the
    module's path), each group's output (``representative``), the nodes drawn on their
    own (``visible``: everything outside a module but constants) and the element id of
    every node's picture (``node_id``: ``g_<path>`` for a module's nodes, else ``v<i>``)."""

    owner: dict[Value, str]
    groups: dict[str, list[Value]]
    representative: dict[str, Value]
    visible: list[Value]
    node_id: dict[Value, str]


def _collapse(root: Value, order: list[Value], naming: _Naming) -> _Collapsed:
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
    visible = [n for n in order if n not in owner and n._operation is not _CONSTANT]
    return _Collapsed(owner, groups, {path: representative(path) for path in groups},
                      visible, node_id)


def _draw_collapsed(graph, root, order, naming, max_nodes, show_data, show_grad, precision,
                    legend, relabel: Relabel | None = None, who: str = "draw_dot") -> _Collapsed:
    """One record per innermost module (id ``g_<path>``) and per Value outside the
    modules (``v<i>``); one edge ``c<a>--<b>`` per pair of them that any edge joins."""
    view = _collapse(root, order, naming)
    groups, visible, node_id = view.groups, view.visible, view.node_id
    shown = len(groups) + len(visible)
    if max_nodes is not None and shown > max_nodes:
        raise GraphTooLargeError(
            f"{who}: even collapsed to one node per module the graph has {shown} nodes, "
            f"more than max_nodes={max_nodes}; draw one sample's loss, or pass a larger "
            "max_nodes (None for no limit)"
        )
    graph.attr(label=_title(f"collapsed: {len(order)} Values shown as one node per module "
                            f"(max_nodes={max_nodes})"), labelloc="t")
    clusters: dict[str, list[tuple[str, dict[str, str], int | None]]] = {}
    position = {path: i for i, path in enumerate(naming.module_types)}
    for path, members in sorted(groups.items(), key=lambda item: position.get(item[0], -1)):
        rep = view.representative[path]
        parameters = sum(1 for n in members if n in naming.parameters)
        fields = [path, f"{naming.module_types.get(path, 'module')}, "
                        f"{parameters} parameter{'' if parameters == 1 else 's'}"]
        if show_data:
            fields.append(f"out {_fmt(rep.data, precision)}")
        if show_grad:
            fields.append(f"grad {_fmt(rep.grad, precision)}")
        if relabel is not None:
            fields = relabel(f"g_{path}", rep, fields)
        kind = "output" if rep is root else "module"
        attrs = {"label": _module_card(fields, KINDS[kind][0]), "shape": "plain",
                 "id": f"g_{path}"}
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
        if relabel is not None:
            fields = relabel(node_id[node], node, fields)
        graph.node(node_id[node], _value_label(fields), shape="record", style="filled",
                   fillcolor=KINDS[kind][0], id=node_id[node])
    drawn = set()
    for node in order:
        for p in node._parents:
            if p._operation is _CONSTANT:
                continue
            a, b = node_id[p], node_id[node]
            if a != b and (a, b) not in drawn:
                drawn.add((a, b))
                graph.edge(a, b, id=f"c{a}--{b}")
    if legend:
        kinds = {"module"} | {naming.kind(node, root) for node in visible}
        _draw_legend(graph, kinds, show_local=False, stepping=False, operations=False)
    return view
