"""draw_network: a network drawn as the lecture draws it -- neurons as circles in layer
columns, the inputs on the left, the outputs and the loss on the right, the weights as
edges coloured by sign and as wide as their size.

    draw_network(model)              # the weights and biases
    draw_network(model, x)           # + one sample's forward pass
    draw_network(model, x, target)   # + the backward pass of its loss

Each neuron j of a layer with inputs h_prev computes

    a_j = w_j · h_prev + b_j      (its pre-activation: one ``dot`` node)
    h_j = act(a_j)                (its activation; the output layer's are the outputs o)

and backpropagation, from the softmax cross-entropy L = -log softmax(o)_y, gives

    dL/do = softmax(o) - onehot(y)
    dL/da = dL/dh ⊙ act'(a)           (relu: 1[a > 0], tanh: 1 - h², sigmoid: h (1 - h))
    dL/dW = outer(dL/da, h_prev),     dL/db = dL/da,     dL/dh_prev = Wᵀ dL/da.

Every number in the picture is read from the Values the engine recorded when the model
ran on x, and from the gradients ``loss.backward()`` left in them: the picture is a view
of the recorded graph, not a second implementation of the network.

The layout is computed here (no Graphviz): columns evenly spaced, each column centred
vertically, every box sized from its text (monospace metrics), so nothing overlaps or
is clipped; the SVG has a viewBox and ``width="100%"``, so it shrinks to the width it is
shown in.
"""

from __future__ import annotations

import html
import math
import os
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value, enable_grad, no_grad, softmax
from autograd.files import write_atomic
from autograd.graph import KINDS, local_derivatives
from autograd.graph.naming import _fmt
from autograd.graph.render import standalone_page

from .layers import MLP, Layer, Neuron
from .losses import LOSSES, cross_entropy
from .preprocessing import Classifier, Standardize

__all__ = ["NEGATIVE", "POSITIVE", "NetworkView", "draw_network"]

#: edge colours, TensorFlow Playground's blue and orange (told apart with any colour vision)
POSITIVE = "#0877bd"
NEGATIVE = "#e8710a"
ZERO = "#999999"

MAX_NEURONS = 24  # a column with more is drawn as its first and last few and an ellipsis

# Metrics (SVG user units = CSS pixels at natural size). Widths are estimated for a
# monospace font: every character is CHAR em wide (DejaVu Sans Mono, Menlo and Consolas
# are 0.55-0.61 em; a little more leaves room), East Asian wide characters twice that.
FONTS = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
CHAR = 0.62
SIZE = 12  # the numbers
SMALL = 10  # inside the circles
TITLE = 14
ROW = 15  # one row of numbers
MARGIN = 14
PAD = 7  # between a circle and its numbers
CELL_GAP = 14  # between two columns of numbers in a card
SLOT_GAP = 8  # between two cards of a column
MIN_GAP = 90  # between two columns of the picture: room for the edges
MIN_RADIUS = 17
MIN_STROKE, MAX_STROKE = 0.6, 5.0  # edge widths for w = 0 and for the largest |w|

TEXT = "#222222"
MUTED = "#666666"
NEURON_FILL = "#ffffff"
CARD_FILL = "#f7f7f7"


def _text_width(text: str, size: float) -> float:
    """The estimated width of ``text`` at font size ``size`` (see CHAR)."""
    units = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return units * CHAR * size


class NetworkView:
    """A network's picture (see :func:`draw_network`): displays itself in Jupyter,
    ``svg`` is the SVG text, :meth:`write` saves an ``.svg`` or a self-contained
    ``.html`` page; ``width`` and ``height`` are the viewBox's size."""

    def __init__(self, title: str, svg: str, width: float, height: float) -> None:
        self.title = title
        self.svg = svg
        self.width = width
        self.height = height

    def __repr__(self) -> str:
        return (f"<NetworkView {self.title!r}: {self.width:g} x {self.height:g}; display it "
                "in Jupyter or .write('network.html')>")

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        # JupyterLab shows image/svg+xml in an <img>, where the edges' hover tooltips are
        # lost; as HTML the same SVG is inline (and Jupyter prefers HTML)
        return f'<div class="chainrule-network-view">{self.svg}</div>'

    def html(self) -> str:
        """A standalone page: the SVG inline, nothing to fetch."""
        return standalone_page(self.title, self.svg,
                               "body{margin:0;padding:8px;background:#fff}")

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Save to ``path`` atomically: ``.svg`` the picture, ``.html`` a page with it."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".svg":
            return write_atomic(path, '<?xml version="1.0" encoding="UTF-8"?>\n' + self.svg)
        if suffix in (".html", ".htm"):
            return write_atomic(path, self.html())
        raise ValueError(f"NetworkView.write: cannot write {path.name!r}; name a .svg or an "
                         ".html file")


# ---------------------------------------------------------------------------
# What is drawn: the model's parts, and the numbers of one sample's passes.


@dataclass
class _Parts:
    layers: list[Layer]
    preprocess: Any  # a Module or None
    classes: list[str] | None
    features: list[str] | None
    description: str


def _parts(model: Any) -> _Parts:
    classes = features = preprocess = None
    network = model
    if isinstance(model, Classifier):
        network, preprocess = model.network, model.preprocess
        classes, features = model.classes, model.features
    if isinstance(network, MLP):
        layers = list(network.layers)
    elif isinstance(network, Layer):
        layers = [network]
    else:
        inside = " inside the Classifier" if network is not model else ""
        raise TypeError(
            f"draw_network: draws an nn.MLP, an nn.Layer, or an nn.Classifier wrapping one; "
            f"got {type(network).__name__}{inside}. Draw any other graph with "
            "autograd.draw_dot(loss, names=model)"
        )
    shape = " → ".join([str(layers[0].nin)] + [f"{layer.nout} {_activation_name(layer)}"
                                                for layer in layers])
    description = f"{type(network).__name__} {shape}"
    if isinstance(model, Classifier):
        step = "standardize → " if isinstance(preprocess, Standardize) else (
            "" if preprocess is None else f"{type(preprocess).__name__} → ")
        description = f"Classifier: {step}{description}"
    return _Parts(layers, preprocess, classes, features, description)


def _activation_name(layer: Layer) -> str:
    activation = layer.activation
    return activation if isinstance(activation, str) else "mixed"


@dataclass
class _Pass:
    """One sample's numbers, read from the engine's Values: per layer (lists of floats)
    the pre-activations ``a``, activations ``h`` and ``slope`` = act'(a) (each activation
    node's local derivative, from the op table; 1 for linear); after backward their
    gradients, ``dw[k][j, i]`` = dL/dw for neuron j's weight i and ``db[k][j]`` = dL/db."""

    x: list[float]
    z: list[float] | None  # the network's inputs, when preprocessing made them from x
    a: list[list[float]]
    h: list[list[float]]
    target: Any = None  # a class index for the cross-entropy
    target_name: str | None = None
    loss: float | None = None
    p: list[float] | None = None  # softmax(o), for the cross-entropy
    da: list[list[float]] | None = None
    dh: list[list[float]] | None = None
    dw: list[np.ndarray] | None = None
    db: list[np.ndarray] | None = None
    slope: list[list[float]] = field(default_factory=list)


def _pre_activation(h: Value, neuron: Neuron) -> Value:
    """The neuron's ``dot(w, x, b)`` node below its output h (h itself when linear):
    down through the single-operand activation nodes."""
    node = h
    while not (node.op == "dot" and node.parents[0] is neuron.w[0]):
        if len(node.parents) != 1:
            raise RuntimeError(f"draw_network: cannot find the neuron's w · x + b below its "
                               f"output (reached a {node.op or 'leaf'} node); is the model an "
                               "unmodified nn.MLP?")
        node = node.parents[0]
    return node


def _run(model: Any, parts: _Parts, x: Any, target: Any,
         loss: str | Callable[[Any, Any], Value]) -> _Pass:
    """Call the model on x with the engine, read every layer's Values back from the
    recorded graph, and -- with a target -- backpropagate the loss, leaving the
    parameters' gradients as they were."""
    values = np.asarray(x, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"draw_network: x must be one sample (a sequence of numbers), got "
                         f"an array of shape {values.shape}")
    raw = [Value(float(v)) for v in values]
    with enable_grad():
        out = model(raw)
        outputs = list(out) if isinstance(out, (list, tuple)) else [out]
        a: list[list[Value]] = []
        h: list[list[Value]] = []
        for layer in reversed(parts.layers):  # from the outputs back to the inputs
            pre = [_pre_activation(o, n) for o, n in zip(outputs, layer.neurons)]
            a.insert(0, pre)
            h.insert(0, outputs)
            outputs = list(pre[0].parents[layer.nin: 2 * layer.nin])
        z = outputs  # what the first layer took: x, or x preprocessed
        result = _Pass(x=[v.data for v in raw],
                       z=None if parts.preprocess is None else [v.data for v in z],
                       a=[[v.data for v in row] for row in a],
                       h=[[v.data for v in row] for row in h],
                       slope=[[1.0 if out is pre else local_derivatives(out)[0]
                               for pre, out in zip(pre_row, out_row)]
                              for pre_row, out_row in zip(a, h)])
        loss_fn = _loss_function(loss)
        classifying = loss_fn is cross_entropy and len(h[-1]) > 1
        if classifying and (target is not None or parts.classes):  # p: what it predicts
            with no_grad():
                result.p = [p.data for p in softmax(h[-1])]
        if target is None:
            return result
        if loss_fn is cross_entropy:
            result.target = _class(target, parts.classes, len(h[-1]))
            result.target_name = (parts.classes[result.target] if parts.classes
                                  else str(result.target))
        else:
            result.target, result.target_name = target, _short(target)
        value = loss_fn(h[-1], result.target)
        if not isinstance(value, Value):
            raise TypeError(f"draw_network: the loss must return a Value, got "
                            f"{type(value).__name__}")
        parameters = model.parameters()
        saved = [p.grad for p in parameters]
        try:
            for p in parameters:
                p.grad = 0.0
            value.backward()
            result.dw = [np.array([[w.grad for w in n.w] for n in layer.neurons])
                         for layer in parts.layers]
            result.db = [np.array([n.b.grad for n in layer.neurons]) for layer in parts.layers]
        finally:
            for p, g in zip(parameters, saved):
                p.grad = g
        result.loss = value.data
        result.da = [[v.grad for v in row] for row in a]
        result.dh = [[v.grad for v in row] for row in h]
    return result


def _loss_function(loss: Any) -> Callable[[Any, Any], Value]:
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"draw_network: unknown loss {loss!r}; choose one of "
                         f"{', '.join(LOSSES)}, or pass a function loss(outputs, target)")
    return LOSSES[loss]


def _class(target: Any, classes: list[str] | None, outputs: int) -> int:
    """The class index of ``target``: an index, or one of the Classifier's class names."""
    if isinstance(target, str):
        if not classes or target not in classes:
            known = f"one of {classes}" if classes else "a class index (the model has no names)"
            raise ValueError(f"draw_network: unknown class {target!r}; give {known}")
        return classes.index(target)
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer)):
        raise ValueError(f"draw_network: target must be a class index (0 to {outputs - 1})"
                         f"{' or a class name' if classes else ''}, got {target!r}")
    if not 0 <= target < outputs:
        raise ValueError(f"draw_network: target {int(target)} is out of range for "
                         f"{outputs} classes (valid: 0 to {outputs - 1})")
    return int(target)


def _short(values: Any, precision: int = 4, first: int = 6) -> str:
    """A number, or a list written with at most ``first`` entries and the count."""
    if isinstance(values, (list, tuple, np.ndarray)):
        items = [_fmt(float(v), precision) for v in list(values)[:first]]
        more = len(values) - first
        return "[" + ", ".join(items) + (f", ... ({len(values)} values)]" if more > 0 else "]")
    if isinstance(values, (int, float, np.number)) and not isinstance(values, bool):
        return _fmt(float(values), precision)
    return str(values)


# ---------------------------------------------------------------------------
# The columns: what each card says, then where everything goes.


@dataclass
class _Cell:
    """One number (or word) in a card: its SVG class and text."""

    css: str
    text: str
    bold: bool = False


@dataclass
class _Item:
    """One drawn thing in a column: an input, a neuron, the loss, or an ellipsis for
    the neurons not drawn. ``index`` is its position in its layer (None: not a neuron)."""

    id: str
    kind: str  # "input" | "neuron" | "loss" | "ellipsis"
    index: int | None
    name: str  # in its circle: x1, h3, o2, L
    rows: list[list[_Cell]]
    tooltip: str
    fill: str = NEURON_FILL
    attributes: dict[str, str] = field(default_factory=dict)
    # the layout's results
    cx: float = 0.0
    cy: float = 0.0
    right: float = 0.0  # where its out-edges start


@dataclass
class _Column:
    kind: str  # "inputs" | "layer" | "loss"
    header: list[str]
    items: list[_Item]
    layer: int | None = None
    hidden: int = 0  # how many are not drawn
    # the layout's results
    radius: float = MIN_RADIUS
    cells: list[float] = field(default_factory=list)  # each column of numbers' width
    card_width: float = 0.0
    card_height: float = 0.0
    width: float = 0.0
    x: float = 0.0

    def measure(self) -> None:
        """Sizes from the texts: the circles as large as the widest name needs, the
        cards' numbers aligned in columns as wide as their widest entry."""
        for item in self.items:
            self.radius = max(self.radius, math.hypot(_text_width(item.name, SMALL) / 2,
                                                      SMALL * 0.6) + 4)
            for row in item.rows:
                for k, cell in enumerate(row):
                    if k == len(self.cells):
                        self.cells.append(0.0)
                    self.cells[k] = max(self.cells[k], _text_width(cell.text, SIZE))
        rows = max(len(item.rows) for item in self.items)
        numbers = sum(self.cells) + CELL_GAP * (len(self.cells) - 1) if self.cells else 0.0
        self.card_width = 2 * self.radius + (PAD + numbers + PAD / 2 if numbers else 0.0)
        self.card_height = max(2 * self.radius, rows * ROW + 6)
        headers = [_text_width(line, SIZE) for line in self.header]
        self.width = max([self.card_width, *headers])

    @property
    def height(self) -> float:
        return len(self.items) * (self.card_height + SLOT_GAP) - SLOT_GAP


def _drawn(count: int, max_neurons: int) -> list[int | None]:
    """The indices drawn of a column of ``count``: all, or the first and last few with
    None (the ellipsis) between them."""
    if count <= max_neurons:
        return list(range(count))
    keep = max(1, max_neurons // 4)
    return [*range(keep), None, *range(count - keep, count)]


def _name(vector: str, j: int) -> str:
    """Neuron j's name in the vector ``vector``: h3, o2, or h2.3 (in h2)."""
    return f"{vector}{'.' if vector[-1].isdigit() else ''}{j + 1}"


def _columns(parts: _Parts, run: _Pass | None, max_neurons: int, precision: int,
             names: dict[Value, str], loss_name: str) -> list[_Column]:
    """The inputs, one column per layer, and (after backward) the loss."""
    f = lambda v: _fmt(v, precision)
    hidden = len(parts.layers) - 1
    # each layer's input vector, as the formulas call it: x (or z), h (or h1, h2, ...)
    vectors = ["x" if parts.preprocess is None else "z"]
    vectors += ["h" if hidden == 1 else f"h{k + 1}" for k in range(hidden)] + ["o"]
    columns = [_input_column(parts, run, max_neurons, f)]
    columns += [_layer_column(parts, run, k, vectors[k], vectors[k + 1], max_neurons, names, f)
                for k in range(len(parts.layers))]
    if run is not None and run.loss is not None:
        rows = [[_Cell("nv-loss-name", loss_name, bold=True)],
                [_Cell("nv-loss", f"L = {f(run.loss)}")],
                [_Cell("nv-target", f"y = {run.target_name}")]]
        formula = "L = -log softmax(o)_y" if run.p is not None else f"L = {loss_name}(o, y)"
        tip = f"{formula} = {f(run.loss)}, target y = {run.target_name}"
        columns.append(_Column("loss", ["loss", formula], [
            _Item("loss", "loss", None, "L", rows, tip, fill=KINDS["parameter"][0])]))
    return columns


def _input_column(parts: _Parts, run: _Pass | None, max_neurons: int,
                  f: Callable[[float], str]) -> _Column:
    """x_i (and z_i, preprocessed) in each card, under the feature's name if known."""
    count = parts.layers[0].nin
    items = []
    for i in _drawn(count, max_neurons):
        if i is None:
            items.append(_ellipsis("x", count, max_neurons, "inputs", lambda i: f"x{i + 1}"))
            continue
        rows = [[_Cell("nv-feature", parts.features[i])]] if parts.features else []
        tip = [f"input {i + 1}" + (f": {parts.features[i]}" if parts.features else "")]
        if run is not None:
            rows.append([_Cell("nv-x", f"x = {f(run.x[i])}")])
            if run.z is not None:
                rows.append([_Cell("nv-z", f"z = {f(run.z[i])}")])
            tip.append(f"x = {f(run.x[i])}" + (f", z = {f(run.z[i])}" if run.z else ""))
        items.append(_Item(f"x-{i}", "input", i, f"x{i + 1}", rows, "\n".join(tip),
                           fill=KINDS["input"][0]))
    if parts.preprocess is None:
        formula = "x"
    elif isinstance(parts.preprocess, Standardize):
        formula = "z = (x - mean) / std"
    else:
        formula = f"z = {type(parts.preprocess).__name__}(x)"
    drawn = len(items) - 1 if count > max_neurons else count
    shown = f", {drawn} drawn" if drawn < count else ""
    return _Column("inputs", [f"inputs ({count}{shown})", formula], items,
                   hidden=count - drawn)


def _layer_column(parts: _Parts, run: _Pass | None, k: int, before: str, out: str,
                  max_neurons: int, names: dict[Value, str], f: Callable[[float], str]
                  ) -> _Column:
    """Layer k's neurons: b; after forward a and h (o for the outputs); after backward
    dL/da and dL/dh; the outputs' class names, and p and y for the cross-entropy."""
    layer = parts.layers[k]
    last = k == len(parts.layers) - 1
    classify = last and run is not None and run.p is not None
    letter = out[0]  # what each neuron's card calls its activation: h, or o
    items = []
    for j in _drawn(layer.nout, max_neurons):
        if j is None:
            items.append(_ellipsis(f"n-{k}", layer.nout, max_neurons, "neurons",
                                   lambda j: _name(out, j)))
            continue
        neuron = layer.neurons[j]
        bias = _Cell("nv-b", f"b = {f(neuron.b.data)}")
        label = (parts.classes[j] if last and parts.classes else
                 f"class {j}" if classify else None)
        rows = [[_Cell("nv-class", label, bold=True), bias] if label else [bias]]
        tip = [f"{names[neuron.b].rsplit('.', 1)[0]}: {_name(out, j)} = "
               f"{neuron.activation}(a), a = w · {before} + b", f"b = {f(neuron.b.data)}"]
        if run is not None:
            rows.append([_Cell("nv-a", f"a = {f(run.a[k][j])}"),
                         _Cell("nv-h", f"{letter} = {f(run.h[k][j])}")])
            tip.append(f"a = {f(run.a[k][j])}, {letter} = {f(run.h[k][j])}")
        if classify and run.loss is None:
            rows.append([_Cell("nv-p", f"p = {f(run.p[j])}")])
            tip.append(f"p = softmax(o)_{j + 1} = {f(run.p[j])}")
        elif classify:
            y = int(j == run.target)
            rows.append([_Cell("nv-p", f"p = {f(run.p[j])}"),
                         _Cell("nv-y", f"y = {y}", bold=bool(y))])
            tip.append(f"p = softmax(o)_{j + 1} = {f(run.p[j])}, y = onehot(target) = {y}")
        if run is not None and run.da is not None and run.dh is not None:
            dh = f"dL/d{letter} = {f(run.dh[k][j])}"
            rows.append([_Cell("nv-da", f"dL/da = {f(run.da[k][j])}"), _Cell("nv-dh", dh)])
            tip.append(f"dL/da = dL/db = {f(run.da[k][j])}, {dh}"
                       + (" = p - y" if classify else ""))
        items.append(_Item(f"n-{k}-{j}", "neuron", j, _name(out, j), rows, "\n".join(tip),
                           fill=KINDS["output"][0] if last else NEURON_FILL,
                           attributes={"data-activation": neuron.activation}))
    activation = _activation_name(layer)
    weighted = f"W{k + 1} · {before} + b{k + 1}"
    formula = f"{out} = {weighted}" if activation == "linear" else (
        f"{out} = {activation}({weighted})")
    drawn = len(items) - 1 if layer.nout > max_neurons else layer.nout
    shown = f", {drawn} drawn" if drawn < layer.nout else ""
    header = [f"{'outputs' if last else f'layer {k + 1}'}: {layer.nout} {activation}{shown}",
              formula]
    if classify:
        header.append("p = softmax(o)" + (", dL/do = p - y" if run.da is not None else ""))
    return _Column("layer", header, items, layer=k, hidden=layer.nout - drawn)


def _ellipsis(prefix: str, count: int, max_neurons: int, what: str,
              name: Callable[[int], str]) -> _Item:
    """The card standing for the ones not drawn."""
    keep = max(1, max_neurons // 4)
    hidden = count - 2 * keep
    first, last = name(keep), name(count - keep - 1)
    rows = [[_Cell("nv-hidden", f"{hidden} more {what}")],
            [_Cell("nv-hidden-range", f"{first} ... {last}")]]
    return _Item(f"{prefix}-more", "ellipsis", None, "", rows,
                 f"{hidden} {what} not drawn ({first} to {last}); their edges are left out too",
                 attributes={"data-hidden": str(hidden)})


# ---------------------------------------------------------------------------
# The SVG


def _attrs(**attributes: Any) -> str:
    """SVG attributes from keywords (``class_`` -> class, ``font_size`` -> font-size),
    values escaped; None leaves an attribute out. (Pages of many passes write millions
    of these: names are converted once, and only a value with a character to escape is
    escaped.)"""
    parts = []
    for key, value in attributes.items():
        if value is None:
            continue
        name = _ATTRIBUTE_NAMES.get(key)
        if name is None:
            name = _ATTRIBUTE_NAMES[key] = key.rstrip("_").replace("_", "-")
        text = value if type(value) is str else str(value)
        if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
            text = html.escape(text)
        parts.append(f'{name}="{text}"')
    return " ".join(parts)


_ATTRIBUTE_NAMES: dict[str, str] = {}


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, size: float, css: str | None = None,
          anchor: str = "start", bold: bool = False, fill: str = TEXT) -> str:
    return (f"<text {_attrs(class_=css, x=_num(x), y=_num(y), font_size=_num(size), text_anchor=anchor, font_weight='bold' if bold else None, fill=fill)}>"  # noqa: E501
            f"{html.escape(text, quote=False)}</text>")


def _stroke(w: float, largest: float) -> float:
    """MIN_STROKE + (MAX_STROKE - MIN_STROKE) |w| / max |w|: wider for larger weights."""
    if largest <= 0:
        return MIN_STROKE
    return MIN_STROKE + (MAX_STROKE - MIN_STROKE) * abs(w) / largest


def _colour(w: float) -> str:
    return POSITIVE if w > 0 else NEGATIVE if w < 0 else ZERO


def _legend(x: float, y: float, largest: float, precision: int, gradients: bool
            ) -> tuple[list[str], float]:
    """The legend's row at (x, baseline y): its SVG and its width."""
    out = ['<g class="nv-legend">']
    middle = y - SIZE * 0.35
    entries: list[tuple[str, float, str]] = [
        (POSITIVE, 3.0, "w > 0"), (NEGATIVE, 3.0, "w < 0"),
        (MUTED, MIN_STROKE, ""), (MUTED, (MIN_STROKE + MAX_STROKE) / 2, ""),
        (MUTED, MAX_STROKE, f"width ~ |w| (widest: |w| = {_fmt(largest, precision)})")]
    for colour, width, label in entries:
        out.append(f"<line {_attrs(x1=_num(x), y1=_num(middle), x2=_num(x + 24), y2=_num(middle), stroke=colour, stroke_width=width)}/>")  # noqa: E501
        x += 30
        if label:
            out.append(_text(x, y, label, SIZE, "nv-legend-text", fill=MUTED))
            x += _text_width(label, SIZE) + 18
    hint = "hover an edge: w" + (" and dL/dw" if gradients else "") + "; a neuron: its formula"
    out.append(_text(x, y, hint, SIZE, "nv-legend-text", fill=MUTED))
    x += _text_width(hint, SIZE)
    out.append("</g>")
    return out, x


def _svg(columns: list[_Column], parts: _Parts, run: _Pass | None, title: str,
         subtitle: str, names: dict[Value, str], width: float | None, precision: int,
         heading: bool = True) -> tuple[str, float, float]:
    f = lambda v: _fmt(v, precision)
    for column in columns:
        column.measure()
    largest = max((abs(w.data) for layer in parts.layers for n in layer.neurons for w in n.w),
                  default=0.0)
    title_y = MARGIN + TITLE
    subtitle_y = title_y + ROW + 4
    legend_y = subtitle_y + ROW + 6 if heading else MARGIN + SIZE
    header_y = legend_y + ROW + 16  # the first header line's baseline
    top = header_y + ROW * (max(len(c.header) for c in columns) - 1) + 10  # the cards' top
    legend, legend_end = _legend(MARGIN, legend_y, largest, precision,
                                 run is not None and run.dw is not None)
    content = sum(c.width for c in columns) + MIN_GAP * (len(columns) - 1)
    natural = max(content, _text_width(title, TITLE) if heading else 0.0,
                  _text_width(subtitle, SIZE) if heading else 0.0,
                  legend_end - MARGIN) + 2 * MARGIN
    total_width = math.ceil(max(natural, width or 0.0))
    # columns evenly spaced over the width, the group centred
    gap = MIN_GAP
    if len(columns) > 1:
        gap = max(MIN_GAP, (total_width - 2 * MARGIN - sum(c.width for c in columns))
                  / (len(columns) - 1))
    used = sum(c.width for c in columns) + gap * (len(columns) - 1)
    x = (total_width - used) / 2
    for column in columns:
        column.x = x
        x += column.width + gap

    body = max(c.height for c in columns)
    total_height = math.ceil(top + body + MARGIN)
    for column in columns:
        y = top + (body - column.height) / 2
        for item in column.items:
            item.cx = column.x + column.radius
            item.cy = y + column.card_height / 2
            item.right = column.x + column.card_width
            y += column.card_height + SLOT_GAP

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chainrule-network" '
           f'viewBox="0 0 {_num(total_width)} {_num(total_height)}" width="100%" '
           f'style="max-width: {_num(width or total_width)}px; height: auto" '
           f'font-family="{FONTS}" role="img" aria-label="{html.escape(title)}">',
           f"<title>{html.escape(title)}</title>",
           f'<rect class="nv-background" x="0" y="0" width="{_num(total_width)}" '
           f'height="{_num(total_height)}" fill="#ffffff"/>']
    if heading:
        out += [_text(MARGIN, title_y, title, TITLE, "nv-title", bold=True),
                _text(MARGIN, subtitle_y, subtitle, SIZE, "nv-subtitle", fill=MUTED)]
    out += legend
    out += _edges(columns, parts, run, names, largest, f)
    for k, column in enumerate(columns):
        out.append(f'<g {_attrs(class_="nv-column", data_kind=column.kind, data_index=k, data_layer=column.layer, data_hidden=column.hidden or None)}>')  # noqa: E501
        for line, text in enumerate(column.header):
            out.append(_text(column.x, header_y + line * ROW, text, SIZE,
                             ("nv-header", "nv-formula", "nv-note")[min(line, 2)],
                             bold=line == 0, fill=TEXT if line == 0 else MUTED))
        for item in column.items:
            out += _card(item, column)
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out), total_width, total_height


def _card(item: _Item, column: _Column) -> list[str]:
    r = column.radius
    out = [f'<g {_attrs(class_=f"nv-{item.kind}", id=item.id, data_index=item.index, **{k.replace("-", "_"): v for k, v in item.attributes.items()})}>',  # noqa: E501
           f"<title>{html.escape(item.tooltip)}</title>"]
    top = item.cy - column.card_height / 2
    if item.rows:  # the card behind the numbers hides the edges passing under it
        out.append(f"<rect {_attrs(x=_num(item.cx), y=_num(top), width=_num(item.right - item.cx), height=_num(column.card_height), rx=6, fill=CARD_FILL, stroke='#dddddd')}/>")  # noqa: E501
    if item.kind == "ellipsis":
        out.append(f"<circle {_attrs(cx=_num(item.cx), cy=_num(item.cy), r=_num(r), fill='#ffffff', stroke='#999999', stroke_dasharray='4 3')}/>")  # noqa: E501
        for dy in (-r / 2.5, 0, r / 2.5):
            out.append(f"<circle {_attrs(cx=_num(item.cx), cy=_num(item.cy + dy), r=2, fill=MUTED)}/>")  # noqa: E501
    else:
        out.append(f"<circle {_attrs(cx=_num(item.cx), cy=_num(item.cy), r=_num(r), fill=item.fill, stroke='#444444', stroke_width=1.3)}/>")  # noqa: E501
    if item.name:
        out.append(_text(item.cx, item.cy + SMALL * 0.35, item.name, SMALL, "nv-name",
                         anchor="middle"))
    # the numbers, in aligned columns, the rows centred on the circle
    y = item.cy - len(item.rows) * ROW / 2 + ROW * 0.75
    for row in item.rows:
        x = item.cx + r + PAD
        for k, cell in enumerate(row):
            out.append(_text(x, y, cell.text, SIZE, cell.css, bold=cell.bold))
            x += column.cells[k] + CELL_GAP
        y += ROW
    out.append("</g>")
    return out


def _edges(columns: list[_Column], parts: _Parts, run: _Pass | None,
           names: dict[Value, str], largest: float, f: Callable[[float], str]) -> list[str]:
    """One line per weight between drawn items, from the card's right end to the circle,
    thinnest first (so the strong ones are on top); then the outputs' lines to the loss."""
    edges = []
    for k, layer in enumerate(parts.layers):
        sources = {item.index: item for item in columns[k].items if item.index is not None}
        targets = [item for item in columns[k + 1].items if item.index is not None]
        for target in targets:
            neuron = layer.neurons[target.index]
            for i, source in sources.items():
                w = neuron.w[i]
                tip = f"w = {f(w.data)}  ({names[w]}: {source.name} → {target.name})"
                if run is not None and run.dw is not None:
                    tip += f"\ndL/dw = {f(run.dw[k][target.index, i])}"
                edges.append((abs(w.data), w.data, source, target, tip, k, i))
    edges.sort(key=lambda e: e[0])
    radius = {id(item): column.radius for column in columns for item in column.items}
    out = ['<g class="nv-edges">']
    for _, w, source, target, tip, k, i in edges:
        x1, y1 = source.right, source.cy
        x2, y2 = _boundary(x1, y1, target.cx, target.cy, radius[id(target)])
        line = _attrs(x1=_num(x1), y1=_num(y1), x2=_num(x2), y2=_num(y2))
        out.append(f'<g {_attrs(class_="nv-edge", data_layer=k, data_neuron=target.index, data_input=i)}>'  # noqa: E501
                   f"<title>{html.escape(tip)}</title>"
                   f"<line {line} {_attrs(stroke=_colour(w), stroke_width=f'{_stroke(w, largest):.2f}', stroke_opacity=0.75, stroke_linecap='round')}/>"  # noqa: E501
                   f'<line {line} stroke="#000000" stroke-opacity="0" stroke-width="7" '
                   'pointer-events="stroke"/></g>')
    if columns[-1].kind == "loss" and run is not None:
        loss = columns[-1].items[0]
        for item in columns[-2].items:
            if item.index is None:
                continue
            x2, y2 = _boundary(item.right, item.cy, loss.cx, loss.cy, columns[-1].radius)
            j = item.index
            tip = f"{item.name} → L"
            if run.dh is not None:
                tip += f": dL/d{item.name} = {f(run.dh[-1][j])}"
            out.append(f'<g class="nv-loss-edge"><title>{html.escape(tip)}</title>'
                       f"<line {_attrs(x1=_num(item.right), y1=_num(item.cy), x2=_num(x2), y2=_num(y2), stroke='#aaaaaa', stroke_width=1.2, stroke_dasharray='5 3')}/></g>")  # noqa: E501
    out.append("</g>")
    return out


def _boundary(x1: float, y1: float, cx: float, cy: float, r: float) -> tuple[float, float]:
    """The point where the line from (x1, y1) to the centre (cx, cy) meets the circle."""
    d = math.hypot(cx - x1, cy - y1) or 1.0
    return cx - (cx - x1) * r / d, cy - (cy - y1) * r / d


# ---------------------------------------------------------------------------


def draw_network(
    model: Any,
    x: Sequence[float] | None = None,
    target: Any = None,
    *,
    loss: str | Callable[[Any, Any], Value] = "cross_entropy",
    width: float | None = None,
    precision: int = 4,
    max_neurons: int = MAX_NEURONS,
    heading: bool = True,
) -> NetworkView:
    """Draw ``model`` (an ``nn.MLP``, an ``nn.Layer``, or an ``nn.Classifier`` wrapping
    one) as the lecture draws a network: the inputs x on the left, one column of
    neurons per layer in model order, then -- given a target -- the loss L.

    - Each neuron is a circle with its bias b inside; each weight is an edge into it,
      blue for w > 0 and orange for w < 0 (:data:`POSITIVE`, :data:`NEGATIVE`), as wide
      as |w| relative to the largest |w| in the model. Hover an edge for its w (and
      name), a neuron for its formula.
    - With ``x`` (one sample): the model runs on it with the engine, and each neuron
      shows a = w · h_prev + b and h = act(a) (the outputs are called o); the inputs
      show x, and for a Classifier also the preprocessed z the network sees.
    - With ``target`` too (a class index, or a Classifier's class name, for the
      cross-entropy): ``loss.backward()`` runs, and each neuron shows dL/da (= dL/db)
      and dL/dh, each edge's tooltip dL/dw = dL/da_j · h_prev,i; with the cross-entropy
      the outputs show p = softmax(o), y = onehot(target) and dL/do = p - y. ``loss``
      is a name in ``nn.losses.LOSSES`` or a function ``loss(outputs, target)``. The
      parameters' ``.grad`` are left as they were.
    - A column of more than ``max_neurons`` (inputs or neurons) is drawn as its first
      and last ``max_neurons // 4`` and an ellipsis saying how many are not drawn;
      edges join drawn neurons only.
    - ``width``: the width in pixels to lay the picture out for and show it at most
      (the columns spread to fill it); by default its natural width. It shrinks to
      fit narrower places. Numbers are shown with ``precision`` significant digits.
    - ``heading=False`` leaves out the title and subtitle lines (for a page that shows
      them itself); the legend stays.

    Returns a :class:`NetworkView`: it displays itself in Jupyter, ``.svg`` is the SVG
    text and ``.write("network.html")`` (or ``.svg``) saves it.
    """
    parts = _parts(model)
    for name, value in (("precision", precision), ("max_neurons", max_neurons)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"draw_network: {name} must be a positive int, got {value!r}")
    if max_neurons < 4:
        raise ValueError(f"draw_network: max_neurons must be at least 4, got {max_neurons}")
    if width is not None and (isinstance(width, bool) or not isinstance(width, (int, float))
                              or not width > 0):
        raise ValueError(f"draw_network: width must be a positive number of pixels (or None "
                         f"for the natural width), got {width!r}")
    if target is not None and x is None:
        raise ValueError("draw_network: a target needs a sample x to compute the loss of; "
                         "pass draw_network(model, x, target)")
    names = {p: name for name, p in model.named_parameters()}
    run = None if x is None else _run(model, parts, x, target, loss)
    loss_name = (loss if isinstance(loss, str) else getattr(loss, "__name__", "loss"))
    if run is not None and run.p is not None:
        loss_name = "softmax + cross-entropy"
    columns = _columns(parts, run, max_neurons, precision, names, loss_name)

    f = lambda v: _fmt(v, precision)
    if run is None:
        title = "weights only: pass a sample x to see a forward pass"
    elif run.loss is None:
        title = f"after a forward pass: sample x = {_short(run.x, precision)}"
        if run.p is not None:
            best = int(np.argmax(run.p))
            predicted = parts.classes[best] if parts.classes else f"class {best}"
            title += f", predicted {predicted} (p = {f(run.p[best])})"
        title += "; pass a target to see the backward pass"
    else:
        title = (f"after forward and backward: sample x = {_short(run.x, precision)}, "
                 f"target = {run.target_name}, L = {f(run.loss)}")
    subtitle = parts.description
    if any(column.hidden for column in columns):
        keep = max_neurons // 4
        subtitle += (f"; columns over {max_neurons}: the first and last {keep} drawn, "
                     "edges only between drawn neurons")
    svg, w, h = _svg(columns, parts, run, title, subtitle, names, width, precision, heading)
    return NetworkView(title, svg, w, h)
