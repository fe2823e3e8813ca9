"""explore_network: backpropagation through a network layer by layer, in the lecture's
matrices, filled with one sample's numbers.

For the 2-layer ReLU softmax network on Iris (x: 4 measurements, z: standardized)

    forward                              backward
    z = (x - mean) / std                 dL/do  = p - onehot(y)
    a = W1 z + b1,   h = relu(a)         dL/dW2 = dL/do · hᵀ        (outer product)
    o = W2 h + b2                        dL/db2 = dL/do
    p = softmax(o),  L = -log p_y        dL/dh  = W2ᵀ dL/do
                                         dL/da  = dL/dh ⊙ 1[a > 0]
                                         dL/dW1 = dL/da · zᵀ,   dL/db1 = dL/da

and in general, for layer k with input vector v (z, or the layer below's h) and
activation act:  a = W v + b, h = act(a);  dL/dW = dL/da · vᵀ, dL/db = dL/da,
dL/dv = Wᵀ dL/da, dL/da = dL/dh ⊙ act'(a)  (relu: 1[a > 0], tanh: 1 - h²,
sigmoid: h (1 - h), linear: 1).

``explore_network(model, x, target)`` returns a :class:`NetworkExplorer`, a page with
one step per line of these formulas: the network as :func:`~nn.draw_network` draws it
(the layer being computed lit, the others dimmed), and the step's formula with its
vectors and matrices as tables -- matrices as heatmaps coloured by sign and size.
Every number is read from the engine: the model runs on Values, ``loss.backward()``
fills the gradients, and the tables show ``.data`` and ``.grad`` (act'(a) is each
activation node's local derivative from the op table). The formulas are the lecture's;
the tests check that the numbers satisfy them.

Clicking a neuron opens :func:`autograd.explore` on that neuron alone: its weights and
bias, its inputs as leaves holding this sample's values, w · v + b and the activation,
and then ``c · h_j`` where the constant c = dL/dh_j is the gradient the full backward
pass brings to the neuron's output from above. Backpropagating that surrogate gives the
neuron's w and b exactly the gradients the full pass gives them.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from autograd import Value, enable_grad, explore
from autograd.graph import GraphTooLargeError, GraphvizNotFoundError
from autograd.graph.naming import _fmt
from autograd.graph.render import HTMLPage

from .layers import Neuron
from .network_view import (
    MAX_NEURONS,
    NEGATIVE,
    POSITIVE,
    NetworkView,
    _activation_name,
    _drawn,
    _name,
    _Parts,
    _parts,
    _Pass,
    _pre_activation,
    _run,
    _short,
    draw_network,
)
from .preprocessing import Standardize

__all__ = ["NetworkExplorer", "NeuronGraph", "Outer", "Step", "Table", "explore_network"]

#: the page's size beyond which the neurons' chain-rule graphs are left out (the
#: first drawn neurons of each layer are kept, in turn, while they fit)
PAGE_BUDGET = 2_000_000
#: matrices with more columns than this are drawn as small cells, numbers on hover
COMPACT_COLUMNS = 20
#: a step with a taller table aligns its tables at the top instead of centring them
TALL_ROWS = 20
#: the derivative of each activation as the formulas write it (a, h: the vectors' names)
DERIVATIVES: dict[str, Callable[[str, str], str]] = {
    "relu": lambda a, h: f"1[{a} > 0]",
    "tanh": lambda a, h: f"1 − {h}²",
    "sigmoid": lambda a, h: f"{h} (1 − {h})",
    "linear": lambda a, h: "1",
    "step": lambda a, h: "0",
}


# ---------------------------------------------------------------------------
# What a step shows


@dataclass(frozen=True)
class Table:
    """A vector or matrix a step shows. ``values`` is 2-d (a column vector is n × 1, a
    transposed one 1 × n); ``rows`` and ``columns`` name its rows and columns (a
    neuron's name, an input's), ``kind`` says how cells are coloured: "heat" (by sign
    and size), "mask" (0/1 cells) or "onehot"."""

    name: str
    values: np.ndarray
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    kind: str = "heat"
    caption: str = ""


@dataclass(frozen=True)
class Outer:
    """An outer product laid out as it is computed: ``row`` (1 × n) above ``matrix``
    (m × n), ``column`` (m × 1) on its left, so that matrix[j, i] = column[j] · row[i]."""

    column: Table
    row: Table
    matrix: Table


Term = Table | Outer | str  # a string is an operator between tables: "·", "+", "="


@dataclass(frozen=True)
class Step:
    """One step of the page: its ``formula`` (the lecture's, in matrices), the
    ``terms`` that fill it with this sample's numbers, ``notes`` saying where they
    come from, and what it lights in the network: ``columns`` (0: the inputs, k + 1:
    layer k, then the loss), the weight edges of the layers in ``edges``, the lines
    to the loss, and ``emphasis``: (column, SVG text class) the step computes."""

    phase: str  # "forward" | "backward"
    label: str  # the step list's short name
    title: str
    formula: str
    terms: tuple[Term, ...]
    notes: tuple[str, ...] = ()
    columns: tuple[int, ...] = ()
    edges: tuple[int, ...] = ()
    loss_edges: bool = False
    emphasis: tuple[tuple[int, str], ...] = ()

    def tables(self) -> dict[str, Table]:
        """Every table the step shows, by name."""
        out: dict[str, Table] = {}
        for term in self.terms:
            for table in ((term.column, term.row, term.matrix) if isinstance(term, Outer)
                          else (term,) if isinstance(term, Table) else ()):
                out[table.name] = table
        return out


@dataclass
class NeuronGraph:
    """Neuron ``index`` of layer ``layer`` alone: ``root`` = c · h_j, where c =
    ``upstream`` = dL/dh_j from the full backward pass is a constant; ``names`` names
    its nodes for :func:`autograd.explore`, ``parameters`` are the neuron's own w and b
    (the model's Values). ``page`` is the explorer's page, or None and ``missing`` why
    not."""

    layer: int
    index: int
    name: str
    root: Value
    parameters: list[Value]
    names: dict[Value, str]
    upstream: float
    title: str  # the explorer's
    heading: str  # the panel's that shows it
    note: str
    page: str | None = None
    missing: str = ""


class NetworkExplorer(HTMLPage):
    """Backprop layer by layer (see :func:`explore_network`): displays itself in
    Jupyter, ``.html()`` is a standalone page and ``.write(path)`` saves it. ``steps``
    lists the steps with their tables, ``network`` is the network's picture (a
    :class:`~nn.NetworkView`), ``neurons`` the neurons' own graphs by the id of their
    circle in it (``n-<layer>-<index>``)."""

    def __init__(self, title: str, subtitle: str, network: NetworkView, steps: list[Step],
                 neurons: dict[str, NeuronGraph], notes: list[str], precision: int) -> None:
        self.title = title
        self.subtitle = subtitle
        self.network = network
        self.steps = steps
        self.neurons = neurons
        self.notes = notes
        self.precision = precision

    def __repr__(self) -> str:
        embedded = sum(graph.page is not None for graph in self.neurons.values())
        return (f"<NetworkExplorer {self.subtitle!r}: {len(self.steps)} steps, {embedded} "
                "neuron graphs; display it in Jupyter or .write('backprop.html')>")

    def _fragment(self, standalone: bool) -> str:
        return _page(self, standalone)



# ---------------------------------------------------------------------------
# Names: what the formulas call each vector


@dataclass(frozen=True)
class _Names:
    """Per layer k: ``inputs[k]`` (z, x or the layer below's h), ``pre[k]`` (a, a1, ...;
    o for a linear output layer) and ``outputs[k]`` (h, h1, ..., o)."""

    inputs: list[str]
    pre: list[str]
    outputs: list[str]

    @classmethod
    def of(cls, parts: _Parts) -> _Names:
        count = len(parts.layers)
        hidden = count - 1
        outputs = ["h" if hidden == 1 else f"h{k + 1}" for k in range(hidden)] + ["o"]
        inputs = ["x" if parts.preprocess is None else "z", *outputs[:-1]]
        linear = [_activation_name(layer) == "linear" for layer in parts.layers]
        separate = [k for k in range(count) if not (k == count - 1 and linear[k])]
        pre = [outputs[k] if k not in separate else "a" if len(separate) == 1 else f"a{k + 1}"
               for k in range(count)]
        return cls(inputs, pre, outputs)


def _element_names(vector: str, count: int) -> tuple[str, ...]:
    return tuple(_name(vector, j) for j in range(count))


def _column(name: str, values: Sequence[float], rows: Sequence[str], kind: str = "heat",
            caption: str = "") -> Table:
    return Table(name, np.asarray(values, dtype=float).reshape(-1, 1), tuple(rows), (name,),
                 kind, caption)


# ---------------------------------------------------------------------------
# The steps


def _weights(parts: _Parts, k: int) -> tuple[np.ndarray, np.ndarray]:
    layer = parts.layers[k]
    return (np.array([[w.data for w in n.w] for n in layer.neurons]),
            np.array([n.b.data for n in layer.neurons]))


def _steps(parts: _Parts, run: _Pass, names: _Names, loss_name: str,
           precision: int) -> list[Step]:
    """Forward: standardize, each layer, the loss. Backward: dL/do, then per layer from
    the top dL/da = dL/dh ⊙ act'(a) (unless a = h), dW, db and dL/d(input)."""
    count = len(parts.layers)
    loss_column = count + 1
    inputs = [run.z if run.z is not None else run.x, *run.h[:-1]]
    f = lambda v: _fmt(v, precision)
    steps: list[Step] = []
    first = names.inputs[0]
    input_rows = _element_names(first, parts.layers[0].nin)

    # -- forward ------------------------------------------------------------------
    if run.z is not None:
        x_rows = tuple(parts.features) if parts.features else _element_names("x", len(run.x))
        if isinstance(parts.preprocess, Standardize):
            terms: tuple[Term, ...] = (
                "(", _column("x", run.x, x_rows), "−",
                _column("mean", parts.preprocess.mean, x_rows), ")", "/",
                _column("std", parts.preprocess.scale, x_rows), "=",
                _column("z", run.z, input_rows))
            formula = "z = (x − mean) / std"
            note = ("each measurement minus its mean over the training set, divided by "
                    "its standard deviation (the Classifier's Standardize, fitted on the "
                    "training data): the network sees z")
        else:
            name = type(parts.preprocess).__name__
            terms = (_column("x", run.x, x_rows), f"→ {name} →",
                     _column("z", run.z, input_rows))
            formula = f"z = {name}(x)"
            note = f"the Classifier's {name} turns x into z, the network's input"
        steps.append(Step("forward", "standardize", "preprocess the sample", formula, terms,
                          (note,), columns=(0,), emphasis=((0, "nv-z"),)))

    for k, layer in enumerate(parts.layers):
        W, b = _weights(parts, k)
        v, a, h = names.inputs[k], names.pre[k], names.outputs[k]
        out_rows = _element_names(h, layer.nout)
        in_rows = _element_names(v, layer.nin)
        activation = _activation_name(layer)
        last = k == count - 1
        terms = (Table(f"W{k + 1}", W, out_rows, in_rows), "·",
                 _column(v, inputs[k], in_rows), "+", _column(f"b{k + 1}", b, out_rows), "=",
                 _column(a, run.a[k], _element_names(a, layer.nout)))
        formula = f"{a} = W{k + 1} · {v} + b{k + 1}"
        if a != h:
            act = activation if activation != "mixed" else "act"
            terms += (f"→ {act} →", _column(h, run.h[k], out_rows))
            formula += f",   {h} = {act}({a})"
        what = "the outputs" if last else f"layer {k + 1}"
        notes = [f"{layer.nout} neurons: row j of W{k + 1} times {v}, plus b{k + 1}[j], is "
                 f"{a}[j], neuron j's dot node in the engine's graph"
                 + (f"; then {h} = {activation}({a}), cell by cell" if a != h else "")]
        if activation == "mixed":
            notes.append("its neurons' activations differ: "
                         + ", ".join(f"{_name(h, j)} {n.activation}"
                                     for j, n in enumerate(layer.neurons)))
        steps.append(Step("forward", "outputs" if last and count > 1 else f"layer {k + 1}",
                          f"{what}: {W.shape[0]} × {W.shape[1]} weights", formula, terms,
                          tuple(notes), columns=(k, k + 1), edges=(k,),
                          emphasis=((k + 1, "nv-a"), (k + 1, "nv-h"))))

    classes = tuple(parts.classes) if parts.classes else _element_names("o", len(run.h[-1]))
    o_rows = _element_names("o", len(run.h[-1]))
    if run.p is not None:
        onehot = np.eye(len(run.p))[run.target]
        p_y = run.p[run.target]
        terms = (_column("o", run.h[-1], classes), "→ softmax →", _column("p", run.p, o_rows),
                 "  ", _column("onehot(y)", onehot, o_rows, "onehot"))
        steps.append(Step(
            "forward", "softmax, L", "the loss", "p = softmax(o),   L = −log p_y", terms,
            (f"p_j = exp(o_j) / Σ exp(o), computed with the engine; the target y = "
             f"{run.target_name} (class {run.target + 1})",
             f"L = −log p_y = −log {f(p_y)} = {f(run.loss)}"),
            columns=(count, loss_column), loss_edges=True,
            emphasis=((count, "nv-p"), (loss_column, "nv-loss"))))
    else:
        target = np.atleast_1d(np.asarray(run.target, dtype=float)) if _numeric(run.target) \
            else None
        terms = (_column("o", run.h[-1], o_rows),)
        if target is not None and target.size == len(run.h[-1]):
            terms += ("  ", _column("y", target, o_rows))
        steps.append(Step("forward", "loss", "the loss", f"L = {loss_name}(o, y)", terms,
                          (f"y = {run.target_name}: L = {f(run.loss)}",),
                          columns=(count, loss_column), loss_edges=True,
                          emphasis=((loss_column, "nv-loss"),)))

    # -- backward -----------------------------------------------------------------
    assert run.dh is not None and run.da is not None and run.dw is not None
    assert run.db is not None
    top = names.outputs[-1]
    if run.p is not None:
        terms = (_column("p", run.p, o_rows), "−",
                 _column("onehot(y)", np.eye(len(run.p))[run.target], o_rows, "onehot"), "=",
                 _column(f"dL/d{top}", run.dh[-1], o_rows))
        steps.append(Step(
            "backward", f"dL/d{top}", "the loss's gradient",
            f"dL/d{top} = p − onehot(y)", terms,
            ("backward starts at L (dL/dL = 1); through −log softmax each output gets "
             "p_j − 1[j = y]: the column on the right is each o_j's .grad after "
             "loss.backward()",),
            columns=(count, loss_column), loss_edges=True, emphasis=((count, "nv-dh"),)))
    else:
        terms = (_column(f"dL/d{top}", run.dh[-1], o_rows),)
        steps.append(Step(
            "backward", f"dL/d{top}", "the loss's gradient", f"dL/d{top} = ∂{loss_name}/∂o",
            terms, (f"each output's .grad after loss.backward() through {loss_name}",),
            columns=(count, loss_column), loss_edges=True, emphasis=((count, "nv-dh"),)))

    for k in reversed(range(count)):
        layer = parts.layers[k]
        v, a, h = names.inputs[k], names.pre[k], names.outputs[k]
        out_rows = _element_names(h, layer.nout)
        in_rows = _element_names(v, layer.nin)
        W, _ = _weights(parts, k)
        if a != h:
            steps.append(_activation_step(parts, run, names, k))
        da = f"dL/d{a}"
        steps.append(Step(
            "backward", f"dL/dW{k + 1}", f"layer {k + 1}'s weights",
            f"dL/dW{k + 1} = {da} · {v}ᵀ",
            (Outer(_column(da, run.da[k], out_rows),
                   Table(f"{v}ᵀ", np.asarray(inputs[k], dtype=float).reshape(1, -1),
                         (f"{v}ᵀ",), in_rows),
                   Table(f"dL/dW{k + 1}", run.dw[k], out_rows, in_rows)),),
            (f"an outer product: cell [j, i] = {da}_j × {v}_i, what flows back into "
             f"neuron j times what came in on its input i. The cells are the weights' .grad "
             "after loss.backward(), read from the engine",),
            columns=(k, k + 1), edges=(k,), emphasis=((k + 1, "nv-da"),)))
        steps.append(Step(
            "backward", f"dL/db{k + 1}", f"layer {k + 1}'s biases", f"dL/db{k + 1} = {da}",
            (_column(f"dL/db{k + 1}", run.db[k], out_rows), "=",
             _column(da, run.da[k], _element_names(a, layer.nout))),
            (f"b enters {a} with local derivative 1, so each bias gets its neuron's "
             f"{da}: the biases' .grad after loss.backward()",),
            columns=(k + 1,), emphasis=((k + 1, "nv-da"),)))
        if k > 0:
            below = names.outputs[k - 1]
            steps.append(Step(
                "backward", f"dL/d{below}", f"back through W{k + 1} to layer {k}",
                f"dL/d{below} = W{k + 1}ᵀ · {da}",
                (Table(f"W{k + 1}ᵀ", W.T, in_rows, out_rows), "·",
                 _column(da, run.da[k], out_rows), "=",
                 _column(f"dL/d{below}", run.dh[k - 1], in_rows)),
                (f"each {below}_i feeds every neuron j of layer {k + 1} with weight "
                 f"W{k + 1}[j,i], so its gradient sums {da}_j × W{k + 1}[j,i] over j: "
                 f"the engine's .grad of each {below}_i, summed over its uses",),
                columns=(k, k + 1), edges=(k,), emphasis=((k, "nv-dh"),)))
    return steps


def _activation_step(parts: _Parts, run: _Pass, names: _Names, k: int) -> Step:
    """dL/da = dL/dh ⊙ act'(a), act'(a) read from the activation nodes."""
    assert run.dh is not None and run.da is not None
    layer = parts.layers[k]
    a, h = names.pre[k], names.outputs[k]
    out_rows = _element_names(h, layer.nout)
    pre_rows = _element_names(a, layer.nout)
    activation = _activation_name(layer)
    if activation in DERIVATIVES:
        derivative = DERIVATIVES[activation](a, h)
        name = f"{activation}′({a}) = {derivative}"
        short = derivative
    else:
        name = short = f"act′({a})"
    kind = "mask" if activation in ("relu", "step") else "heat"
    terms: tuple[Term, ...] = (
        _column(f"dL/d{h}", run.dh[k], out_rows), "⊙",
        _column(short, run.slope[k], pre_rows, kind, caption=name), "=",
        _column(f"dL/d{a}", run.da[k], pre_rows), "   where", _column(a, run.a[k], pre_rows))
    notes = [f"through the activation, cell by cell: each neuron's gradient times its "
             f"activation's local derivative (the {activation} node's, from the op "
             f"table); dL/d{a} is each {a}[j]'s .grad after loss.backward()"]
    if activation == "relu":
        notes.append(f"the mask: 1 where {a} > 0 (the neuron fired), 0 where not -- "
                     "there no gradient gets through")
    return Step("backward", f"{activation}′" if activation != "mixed" else "act′",
                f"back through layer {k + 1}'s {activation}", f"dL/d{a} = dL/d{h} ⊙ {name}",
                terms, tuple(notes), columns=(k + 1,), emphasis=((k + 1, "nv-da"),))


def _numeric(target: Any) -> bool:
    try:
        np.asarray(target, dtype=float)
    except (TypeError, ValueError):
        return False
    return True


# ---------------------------------------------------------------------------
# Each neuron alone


def _neuron_graph(parts: _Parts, run: _Pass, names: _Names, k: int, j: int,
                  precision: int) -> NeuronGraph:
    """Neuron j of layer k on this sample's inputs, closed by the constant dL/dh_j."""
    assert run.dh is not None
    neuron: Neuron = parts.layers[k].neurons[j]
    values = run.z if k == 0 and run.z is not None else run.x if k == 0 else run.h[k - 1]
    v, a, h = names.inputs[k], names.pre[k], names.outputs[k]
    leaves = [Value(float(value), label=_name(v, i)) for i, value in enumerate(values)]
    upstream = run.dh[k][j]
    with enable_grad():
        out = neuron(leaves)
        root = out * upstream  # the gradient from above enters as a constant
    pre = _pre_activation(out, neuron)
    h_name, a_name = _name(h, j), _name(a, j)
    labels = {w: f"W{k + 1}[{j + 1},{i + 1}]" for i, w in enumerate(neuron.w)}
    labels[neuron.b] = f"b{k + 1}[{j + 1}]"
    labels[pre] = a_name
    labels[out] = h_name
    labels[root.parents[1]] = f"dL/d{h_name} (from above)"
    labels[root] = f"c·{h_name}"
    f = lambda value: _fmt(value, precision)
    title = f"neuron {h_name} alone: c · {h_name} with c = dL/d{h_name} = {f(upstream)}"
    heading = (f"neuron {h_name}'s own chain rule: layer {k + 1}, neuron {j + 1} of "
               f"{parts.layers[k].nout}, {neuron.activation}")
    note = (f"Its inputs {_name(v, 0)} … {_name(v, len(values) - 1)} are leaves holding this "
            f"sample's values; its output {h_name} is multiplied by the constant c = "
            f"dL/d{h_name} = {f(upstream)}, the gradient the full backward pass brings to "
            f"{h_name} from above. Backpropagating c · {h_name} gives its weights "
            f"W{k + 1}[{j + 1},·] and bias b{k + 1}[{j + 1}] exactly their gradients in the "
            f"full pass (the inputs' gradients here are only this neuron's share of dL/d{v}).")
    return NeuronGraph(k, j, h_name, root, [*neuron.w, neuron.b], labels, upstream, title,
                       heading, note)


def _explore_neuron(graph: NeuronGraph, precision: int) -> None:
    try:
        explorer = explore(graph.root, names=graph.names, parameters=graph.parameters,
                           precision=precision, title=graph.title)
    except GraphvizNotFoundError:
        graph.missing = ("Graphviz's dot program is not installed, and the chain-rule graph "
                         "is drawn by it (Debian/Ubuntu: sudo apt-get install graphviz; "
                         "macOS: brew install graphviz)")
        return
    except GraphTooLargeError:
        graph.missing = (f"{graph.name} has too many inputs for a readable chain-rule graph; "
                         "explore one neuron of a narrower layer")
        return
    graph.page = explorer.html()


def _explorer_assets() -> dict[str, str]:
    """The explorer's script and style: each neuron's page holds them, the page stores
    them once (as tokens the script puts back)."""
    folder = resources.files("autograd.graph")
    return {f"@@chainrule-{name}@@": folder.joinpath(name).read_text(encoding="utf-8")
            for name in ("explorer.js", "explorer.css")}


def _shared(page: str, assets: dict[str, str]) -> str:
    for token, text in assets.items():
        page = page.replace(text, token)
    return page


def _neuron_graphs(parts: _Parts, run: _Pass, names: _Names, precision: int,
                   max_neurons: int, budget: int | None, used: int
                   ) -> tuple[dict[str, NeuronGraph], list[str]]:
    """A graph for each neuron drawn in the network view; their pages while the whole
    page stays within ``budget`` bytes -- taking the layers' first neurons in turn."""
    graphs = {f"n-{k}-{j}": _neuron_graph(parts, run, names, k, j, precision)
              for k, layer in enumerate(parts.layers)
              for j in _drawn(layer.nout, max_neurons) if j is not None}
    for graph in graphs.values():
        _explore_neuron(graph, precision)
    assets = _explorer_assets()
    used += len(_json_for_script(assets).encode())
    by_layer: dict[int, list[NeuronGraph]] = {}
    for graph in graphs.values():
        by_layer.setdefault(graph.layer, []).append(graph)
    left_out: dict[int, int] = {}
    turn = 0
    while any(turn < len(row) for row in by_layer.values()):
        for k, row in by_layer.items():
            if turn >= len(row) or row[turn].page is None:
                continue
            graph = row[turn]
            size = len(_json_for_script(_shared(graph.page, assets)).encode())
            if budget is not None and used + size > budget:
                graph.page = None
                graph.missing = (f"left out to keep the page under {budget / 1e6:g} MB; "
                                 "explore_network(..., page_budget=None) embeds every "
                                 "neuron's graph")
                left_out[k] = left_out.get(k, 0) + 1
            else:
                used += size
        turn += 1
    limit = (f"the page stays under {budget / 1e6:g} MB" if budget else "page_budget is 0")
    notes = [f"layer {k + 1}: the chain-rule graphs of {len(by_layer[k]) - n} of its "
             f"{len(by_layer[k])} drawn neurons are embedded (the first ones; {limit})"
             for k, n in sorted(left_out.items())
             if budget is not None]
    return graphs, notes


# ---------------------------------------------------------------------------
# The page


def _heat_class(value: float, largest: float) -> str:
    """ne-p3 / ne-n7: the sign and |value| / largest in tenths (0 to 10)."""
    if largest <= 0 or value == 0:
        return "ne-z"
    level = max(1, min(10, round(10 * abs(value) / largest)))
    return f"ne-{'p' if value > 0 else 'n'}{level}"


def _heat_css() -> str:
    rules = []
    for sign, colour in (("p", POSITIVE), ("n", NEGATIVE)):
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        for level in range(1, 11):
            rules.append(f".ne-{sign}{level}{{background:rgba({r},{g},{b},"
                         f"{0.06 + 0.5 * level / 10:.2f})}}")
    return "".join(rules)


def _cell(table: Table, r: int, c: int, precision: int, compact: bool, largest: float,
          tag: str = "") -> str:
    value = float(table.values[r, c])
    text = _fmt(value, precision)
    if table.kind == "mask" and value in (0.0, 1.0):
        css = "ne-one" if value else "ne-zero"
    elif table.kind == "onehot":
        css = "ne-hot" if value else "ne-zero"
    else:
        css = _heat_class(value, largest)
    if table.values.shape[1] == 1:
        where = f"{table.name}[{r + 1}] ({table.rows[r]})"
    elif table.values.shape[0] == 1:
        where = f"{table.name}[{c + 1}] ({table.columns[c]})"
    else:
        where = f"{table.name}[{r + 1},{c + 1}] ({table.rows[r]} ← {table.columns[c]})"
    attributes = f' data-t="{html.escape(table.name)}"' if tag else ""
    return (f'<td class="ne-v {css}"{attributes} data-r="{r}" data-c="{c}" '
            f'title="{html.escape(where)} = {text}">{"" if compact else text}</td>')


def _largest(table: Table) -> float:
    return float(np.max(np.abs(table.values))) if table.values.size else 0.0


def _table_html(table: Table, precision: int, labels: bool) -> str:
    """A table with a header row (its name; a matrix's column names) and, with
    ``labels`` or for a matrix, the row names on the left."""
    rows, cols = table.values.shape
    matrix = cols > 1
    compact = cols > COMPACT_COLUMNS
    largest = _largest(table)
    labels = labels or matrix
    name = html.escape(table.name)
    caption = html.escape(table.caption or table.name)
    head = ['<thead><tr>']
    if labels:
        corner = name if matrix else ""
        head.append(f'<th class="ne-corner" title="{caption}: {rows} × {cols}">{corner}</th>')
    if matrix:
        head += [f'<th class="ne-col" title="{html.escape(c)}">'
                 f'{"" if compact else html.escape(c)}</th>' for c in table.columns]
    else:
        head.append(f'<th class="ne-name" title="{caption}">{name}</th>')
    head.append("</tr></thead>")
    body = ["<tbody>"]
    for r in range(rows):
        body.append("<tr>")
        if labels:
            body.append(f'<th class="ne-row">{html.escape(table.rows[r])}</th>')
        body += [_cell(table, r, c, precision, compact, largest) for c in range(cols)]
        body.append("</tr>")
    body.append("</tbody>")
    shape = f"{rows} × {cols}"
    css = "ne-table" + (" ne-compact" if compact else "") + (" ne-matrix" if matrix else "")
    return (f'<figure class="ne-block"><table class="{css}" data-t="{name}" '
            f'data-rows="{rows}" data-cols="{cols}">{"".join(head)}{"".join(body)}</table>'
            f'<figcaption>{caption} <span class="ne-shape">({shape})</span></figcaption>'
            "</figure>")


def _outer_html(outer: Outer, precision: int) -> str:
    """One table: the row factor on top, the column factor on the left, the product's
    cells where they meet -- the rows and columns line up."""
    matrix, row, column = outer.matrix, outer.row, outer.column
    rows, cols = matrix.values.shape
    compact = cols > COMPACT_COLUMNS
    big, top, left = _largest(matrix), _largest(row), _largest(column)
    out = ['<thead><tr><th class="ne-corner" colspan="2" title="'
           f'{html.escape(matrix.name)} = {html.escape(column.name)} · {html.escape(row.name)}'
           f'">{html.escape(matrix.name)}</th>']
    out += [f'<th class="ne-col" title="{html.escape(c)}">{"" if compact else html.escape(c)}'
            "</th>" for c in matrix.columns]
    out.append('</tr><tr class="ne-factor"><th></th>'
               f'<th class="ne-name">{html.escape(row.name)}</th>')
    out += [_cell(row, 0, c, precision, compact, top, tag="t") for c in range(cols)]
    out.append(f'</tr><tr class="ne-gap"><th></th><th class="ne-name">'
               f'{html.escape(column.name)}</th><td colspan="{cols}"></td></tr></thead><tbody>')
    for r in range(rows):
        out.append(f'<tr><th class="ne-row">{html.escape(matrix.rows[r])}</th>')
        out.append(_cell(column, r, 0, precision, False, left, tag="t")
                   .replace('class="ne-v', 'class="ne-v ne-factor-cell', 1))
        out += [_cell(matrix, r, c, precision, compact, big, tag="t") for c in range(cols)]
        out.append("</tr>")
    out.append("</tbody>")
    css = "ne-table ne-outer ne-matrix" + (" ne-compact" if compact else "")
    return (f'<figure class="ne-block"><table class="{css}" data-t="{html.escape(matrix.name)}"'
            f' data-rows="{rows}" data-cols="{cols}">{"".join(out)}</table>'
            f"<figcaption>{html.escape(matrix.name)} "
            f'<span class="ne-shape">({rows} × {cols})</span> = {html.escape(column.name)} '
            f'<span class="ne-shape">({rows} × 1)</span> · {html.escape(row.name)} '
            f'<span class="ne-shape">(1 × {cols})</span></figcaption></figure>')


def _step_html(step: Step, index: int, count: int, precision: int) -> str:
    terms = []
    first = True
    for term in step.terms:
        if isinstance(term, Outer):
            terms.append(_outer_html(term, precision))
        elif isinstance(term, Table):
            terms.append(_table_html(term, precision, labels=first))
            first = False
        else:
            word = any(c.isalpha() for c in term)
            terms.append(f'<span class="ne-op{" ne-op-word" if word else ""}">'
                         f'{html.escape(term.strip()) or "&nbsp;"}</span>')
    compact = any("ne-compact" in t for t in terms)
    readout = ('<p class="ne-readout" aria-live="polite">small cells: hover one for its '
               "number</p>") if compact else ""
    tallest = max(table.values.shape[0] for table in step.tables().values())
    align = " ne-top" if tallest > TALL_ROWS else ""  # centred, the top would be far down
    notes = "".join(f'<p class="ne-note">{html.escape(note)}</p>' for note in step.notes)
    attributes = {
        "data-step": index, "data-phase": step.phase,
        "data-columns": " ".join(map(str, step.columns)),
        "data-edges": " ".join(map(str, step.edges)),
        "data-loss-edges": int(step.loss_edges),
        "data-emphasis": " ".join(f"{c}:{css}" for c, css in step.emphasis),
    }
    attrs = " ".join(f'{k}="{html.escape(str(v))}"' for k, v in attributes.items())
    return (f'<section class="ne-step" {attrs}>'
            # a heading in role only: a notebook styles (and anchors) its own <h2>s
            f'<div class="ne-step-title" role="heading" aria-level="2">'
            f'<span class="ne-phase ne-{step.phase}">{step.phase} </span>'
            f"{html.escape(step.title)}"
            f'<span class="ne-count"> · step {index + 1} of {count}</span></div>'
            f'<p class="ne-formula">{html.escape(step.formula)}</p>{readout}'
            f'<div class="ne-terms{align}">{"".join(terms)}</div>{notes}</section>')


def _json_for_script(data: Any) -> str:
    """JSON that cannot end or confuse its <script> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<!--", "\\u003c!--").replace("</", "<\\/")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _real_size(view: NetworkView) -> str:
    """The network's SVG at its natural size (its pane scrolls), not shrunk to fit."""
    svg, found = re.subn(r'width="100%" style="[^"]*"',
                         f'width="{view.width:g}" height="{view.height:g}"', view.svg, count=1)
    return svg if found else view.svg


def _page(explorer: NetworkExplorer, standalone: bool) -> str:
    steps = explorer.steps
    chips = []
    for i, step in enumerate(steps):
        if i == 0 or step.phase != steps[i - 1].phase:
            chips.append(f'<li class="ne-chip-phase">{step.phase}:</li>')
        chips.append(f'<li><button type="button" class="ne-chip ne-{step.phase}" '
                     f'data-step="{i}" title="{html.escape(step.formula)}">'
                     f"{html.escape(step.label)}</button></li>")
    sections = "".join(_step_html(step, i, len(steps), explorer.precision)
                       for i, step in enumerate(steps))
    assets = _explorer_assets()
    data = {"assets": assets, "neurons": {
        element: {"name": graph.name, "heading": graph.heading, "note": graph.note,
                  "page": None if graph.page is None else _shared(graph.page, assets),
                  "missing": graph.missing}
        for element, graph in explorer.neurons.items()}}
    notes = "".join(f'<p class="ne-page-note">{html.escape(n)}</p>' for n in explorer.notes)
    return (
        f'<div class="chainrule-netexplorer" tabindex="0" data-standalone="{int(standalone)}">'
        f"<style>{_asset('network_explorer.css')}{_heat_css()}</style>"
        '<header class="ne-head">'
        f'<div class="ne-title">{html.escape(explorer.title)}</div>'
        f'<div class="ne-subtitle">{html.escape(explorer.subtitle)}</div>'
        '<div class="ne-bar">'
        '<button type="button" class="ne-first" title="first step (Home)">first</button>'
        '<button type="button" class="ne-prev" title="previous step (←)">◀ prev</button>'
        '<button type="button" class="ne-next" title="next step (→)">next ▶</button>'
        '<button type="button" class="ne-last" title="last step (End)">last</button>'
        f'<span class="ne-position">all {len(steps)} steps</span>'
        '<span class="ne-hint">← → to step · click a neuron for its own chain rule</span>'
        f'</div><ol class="ne-chips">{"".join(chips)}</ol></header>'
        f'<div class="ne-panel">{sections}{notes}</div>'
        f'<div class="ne-network">{_real_size(explorer.network)}</div>'
        '<div class="ne-overlay" hidden role="dialog" aria-label="a neuron\'s chain rule">'
        '<div class="ne-overlay-head"><span class="ne-overlay-title"></span>'
        '<button type="button" class="ne-close" title="close (Esc)">close ✕</button></div>'
        '<p class="ne-overlay-note"></p><iframe class="ne-frame" title="the neuron\'s '
        'chain-rule graph"></iframe></div>'
        f'<script type="application/json" class="ne-data">{_json_for_script(data)}</script>'
        f"<script>{_asset('network_explorer.js')}</script></div>"
    )


# ---------------------------------------------------------------------------


def explore_network(
    model: Any,
    x: Sequence[float],
    target: Any,
    *,
    loss: str | Callable[[Any, Any], Value] = "cross_entropy",
    precision: int = 4,
    max_neurons: int = MAX_NEURONS,
    page_budget: int | None = PAGE_BUDGET,
) -> NetworkExplorer:
    """Step through one sample's forward and backward pass of ``model`` (an ``nn.MLP``
    of any depth, an ``nn.Layer``, or an ``nn.Classifier`` wrapping one) layer by layer,
    in the lecture's matrix formulas (see the module docstring).

    Forward: standardize (a Classifier's preprocessing), then per layer
    a = W · v + b and h = act(a), then p = softmax(o) and L = -log p_y. Backward:
    dL/do = p - onehot(y), then per layer from the top dL/da = dL/dh ⊙ act'(a) (below
    the outputs), dL/dW = dL/da · vᵀ, dL/db = dL/da, and dL/dv = Wᵀ · dL/da. Each step
    shows its formula with this sample's vectors and matrices as tables (matrices as
    heatmaps, blue > 0, orange < 0, deeper for larger |value|) beside the network
    drawn by :func:`~nn.draw_network`, the layer it computes lit.

    ``target`` is a class index or a Classifier's class name for the cross-entropy;
    ``loss`` a name in ``nn.losses.LOSSES`` or a function ``loss(outputs, target)``.
    Numbers are printed with ``precision`` significant digits; columns of more than
    ``max_neurons`` neurons are drawn as their first and last few (as draw_network).
    Clicking a drawn neuron opens its own chain-rule graph (:func:`autograd.explore`,
    needs Graphviz); those graphs are embedded while the page stays under
    ``page_budget`` bytes (None: no limit). The model's gradients are left as they were.
    """
    parts = _parts(model)
    if x is None or target is None:
        raise ValueError("explore_network: needs a sample x and its target, to run the "
                         "backward pass of its loss: explore_network(model, x, target)")
    if page_budget is not None and (isinstance(page_budget, bool)
                                    or not isinstance(page_budget, int) or page_budget < 0):
        raise ValueError(f"explore_network: page_budget must be a number of bytes (or None), "
                         f"got {page_budget!r}")
    view = draw_network(model, x, target, loss=loss, precision=precision,
                        max_neurons=max_neurons, heading=False)
    run = _run(model, parts, x, target, loss)
    assert run.loss is not None
    names = _Names.of(parts)
    loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "loss")
    steps = _steps(parts, run, names, loss_name, precision)
    title = (f"backprop layer by layer: sample x = {_short(run.x, precision)}, target = "
             f"{run.target_name}, L = {_fmt(run.loss, precision)}")
    explorer = NetworkExplorer(title, parts.description, view, steps, {}, [], precision)
    used = len(explorer.html().encode())
    explorer.neurons, explorer.notes = _neuron_graphs(parts, run, names, precision,
                                                      max_neurons, page_budget, used)
    return explorer

