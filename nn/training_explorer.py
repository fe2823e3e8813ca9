"""explore_training: a recorded training run replayed as TensorFlow Playground shows one,
every number from the engine.

    history = fit(model, X, y, validation=(X_test, y_test), record=True)
    explore_training(history)            # in Jupyter; or .write("training.html")

The page, a viewer of the frames ``fit(..., record=True)`` kept (:mod:`nn.recording`):

- the decision surface: the model's softmax probabilities over the plane of inputs,
  each class's colour mixed by its probability (Playground's orange and blue for two
  classes), with the training points filled and the test points hollow;
- the loss and accuracy curves (training and test) with the current frame marked;
- the network as Playground draws it: each neuron a thumbnail of its own output over
  the plane at this frame, the weights as edges coloured by sign (blue w > 0, orange
  w < 0, as :func:`~nn.draw_network`) and as wide as |w| (relative to the largest |w|
  of the whole run, so growing weights are seen to grow);
- play, pause, step, a slider, the keys (space, ← →, Home, End);
- a click on a data point opens its forward and backward pass as
  :func:`~nn.draw_network` draws it, at the nearest of a few key frames (the first, the
  last and evenly spaced ones between): computed here by the engine on a copy of the
  model holding that frame's parameters.

The page is static and offline. Its script only replays: every number it shows was
computed and formatted here. The maps are stored as bytes (0..255), for colouring; the
passes as one SVG per key frame, laid out for the widest texts, and each point's texts,
which the page fills in -- packed with gzip and unpacked on a click.
"""

from __future__ import annotations

import base64
import copy
import gzip
import html
import json
import math
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from autograd.graph.naming import _fmt
from autograd.graph.render import HTMLPage

from . import network_view
from .network_view import NEGATIVE, POSITIVE, draw_network
from .recording import Frame, Recording, _mlp_of

__all__ = ["TrainingExplorer", "explore_training"]

#: class colours: Playground's orange and blue for two classes (class 0 orange, as
#: Playground's -1), else Tableau's ten
TWO_CLASSES = (NEGATIVE, POSITIVE)
MANY_CLASSES = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")

KEY_FRAMES = 6  # frames with every point's pass precomputed
PASS_BUDGET = 2_000_000  # characters the packed passes may take in the page, about
MAX_DRAWN = 16  # a column of more nodes is drawn as its first and last 7 and an ellipsis

# The network picture's geometry (SVG user units; the picture scales to its box)
NET_WIDTH = 860
NET_TOP = 58  # below three header lines
NET_BODY = 360  # the nodes' column height
MIN_EDGE, MAX_EDGE = 0.5, 6.0  # edge widths for w = 0 and the run's largest |w|
CHAR = 6.6  # estimated width of a character at 11 px (sans-serif, generous)

# The surface and the curves
SURFACE = 300  # the plot's side
CURVE_WIDTH, CURVE_HEIGHT = 420, 170


class TrainingExplorer(HTMLPage):
    """A recorded training run as an interactive page (see :func:`explore_training`):
    displays itself in Jupyter, :meth:`html` is the standalone page, :meth:`write`
    saves it. ``data`` is what the page's script replays (JSON-ready)."""

    _PAGE_STYLE = ""

    def __init__(self, title: str, data: dict[str, Any], body: str) -> None:
        self.title = title
        self.data = data
        self._body = body

    def __repr__(self) -> str:
        frames = len(self.data["frames"]["counter"])
        keys = len(self.data["passes"]["frames"])
        return (f"<TrainingExplorer {self.title!r}: {frames} frames, passes at {keys} key "
                f"frames, {len(self.html()) / 1e6:.2f} MB; display it in Jupyter or "
                ".write('training.html')>")

    def _fragment(self, standalone: bool) -> str:
        """The explorer as one <div> with its style, data and script inside."""
        data = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        data = data.replace("</", "<\\/")  # never end the <script> element early
        return (f'<div class="chainrule-training" tabindex="0" '
                f'data-standalone="{int(standalone)}"><style>{_asset("css")}</style>'
                f"{self._body}"
                f'<script type="application/json" class="ctx-data">{data}</script>'
                f"<script>(function () {{\n{_asset('js')}\n"
                "bootTrainingExplorer(document.currentScript);\n}());</script></div>")



def explore_training(
    history: Any,
    model: Any = None,
    *,
    classes: Sequence[str] | None = None,
    features: Sequence[str] | None = None,
    title: str | None = None,
    key_frames: int = KEY_FRAMES,
    pass_budget: int = PASS_BUDGET,
    precision: int = 4,
) -> TrainingExplorer:
    """The training run recorded in ``history`` (what ``fit(..., record=True)``
    returned, or its ``history.recording``) as an interactive page.

    ``model``: the model that was trained (default: the one the recording holds); an
    ``nn.MLP`` or an ``nn.Classifier`` wrapping one. It is never changed: the passes
    are computed on a copy. ``classes``: the class names (default: a Classifier's, else
    "class 0", "class 1", ...). ``features``: the inputs' names (default: a
    Classifier's, else x1, x2, ...). ``title``: the page's heading.

    ``key_frames``: how many recorded frames (evenly spaced, the first and last among
    them) get every data point's forward and backward pass; a click on a point shows
    the one nearest the current frame. ``pass_budget``: about how many characters
    the passes may take (one SVG per key frame and each point's texts); beyond it
    only evenly chosen points get passes (the page says so). Numbers are shown with
    ``precision`` significant digits.
    """
    recording = _recording_of(history)
    model, mlp = _trained_model(recording, model)
    for name, value, least in (("key_frames", key_frames, 1), ("pass_budget", pass_budget, 0),
                               ("precision", precision, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ValueError(f"explore_training: {name} must be an int >= {least}, "
                             f"got {value!r}")
    classes, features = _names(recording, model, mlp, classes, features)
    title, data, body = _page(recording, model, mlp, classes, features, title, precision)
    data["passes"] = _passes(recording, model, _samples(recording), key_frames, pass_budget,
                             precision)
    return TrainingExplorer(title, data, body)


def _recording_of(history: Any) -> Recording:
    recording = history if isinstance(history, Recording) else getattr(history, "recording",
                                                                        None)
    if not isinstance(recording, Recording):
        raise ValueError("explore_training: this history has no recording; train with "
                         "fit(..., record=True) to keep the frames the explorer replays")
    if not recording.frames:
        raise ValueError("explore_training: the recording has no frames")
    return recording


def _trained_model(recording: Recording, model: Any) -> tuple[Any, Any]:
    """(the model, its MLP): the given model or the recording's, checked against it."""
    model = recording.model if model is None else model
    _, mlp = _mlp_of(model)
    if mlp is None:
        raise TypeError(f"explore_training: explores an nn.MLP or an nn.Classifier wrapping "
                        f"one; got {type(model).__name__}")
    names = [name for name, _ in model.named_parameters()]
    if names != recording.names:
        raise ValueError(f"explore_training: the model's parameters ({len(names)}) are not "
                         f"the recorded ones ({len(recording.names)}); pass the model that "
                         "was trained")
    return model, mlp


def _names(recording: Recording, model: Any, mlp: Any, classes: Sequence[str] | None,
           features: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The class names and the feature names, checked against the run."""
    labels = np.asarray(recording.y)
    if labels.dtype.kind == "f" and not np.all(np.mod(labels, 1) == 0):
        raise ValueError("explore_training: shows classifiers (classes over a plane); this "
                         "run's targets are not class indices (a regression)")
    classes = _class_names(model, classes, mlp.layers[-1].nout, recording)
    features = [str(name) for name in features or getattr(model, "features", None)
                or [f"x{i + 1}" for i in range(recording.X.shape[1])]]
    if len(features) != recording.X.shape[1]:
        raise ValueError(f"explore_training: {len(features)} feature names for "
                         f"{recording.X.shape[1]} features")
    return classes, features


def _page(recording: Recording, model: Any, mlp: Any, classes: list[str],
          features: list[str], title: str | None, precision: int, *,
          epochs: int | None = None, about: str | None = None,
          network_width: float = NET_WIDTH, curve_width: int = CURVE_WIDTH
          ) -> tuple[str, dict[str, Any], str]:
    """The title, the data the script replays (all but the passes) and the body, for the
    frames recorded so far: the whole run for the static page; for the live widget
    (:mod:`nn.training_widget`) the frames until now, ``epochs`` the run's planned length
    (the counters count to it, the curves' axis reaches it), ``about`` the subtitle, and
    the widths the network picture and each curve are laid out for (a notebook's column
    is narrower than a page: laid out narrower, their texts show larger)."""
    colours = list(TWO_CLASSES) if len(classes) == 2 else [
        MANY_CLASSES[c % len(MANY_CLASSES)] for c in range(len(classes))]
    description = network_view._parts(model).description
    given_title = title is not None
    title = title if given_title else f"Training {description}"
    f = lambda v: _fmt(float(v), precision)
    points = _points(recording, classes)
    network_svg, network = _network(model, mlp, recording, features, classes, network_width)
    coder = FrameCoder(recording, model, network["used"], f, epochs)
    entries = [coder.entry(k, frame) for k, frame in enumerate(recording.frames)]
    frames = {name: [entry[name] for entry in entries] for name in ("counter", "epoch", "step")}
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        values = [entry[name] for entry in entries]
        frames[name] = None if all(v is None for v in values) else values
    network["largest"] = max(entry["largest"] for entry in entries)
    network["neurons"] = [{key: [entry["neurons"][layer][one] for entry in entries]
                           for key, one in (("scale", "scale"), ("largest", "largest"),
                                            ("maps", "map"))}
                          for layer in range(len(entries[0]["neurons"]))]
    surface_svg, surface = _surface(recording, points, colours, coder, f)
    surface["maps"] = [entry["surface"] for entry in entries]
    curves_svg, curves = _curves(recording, until=epochs, full=curve_width)
    used = network["used"]
    data = {"frames": frames,
            "parameters": [entry["parameters"] for entry in entries],
            "gradients": [entry["gradients"] for entry in entries],
            "names": [recording.names[i] for i in used], "network": network, "surface": surface,
            "curves": curves, "points": points,
            "classes": classes, "colours": colours, "weights": [POSITIVE, NEGATIVE]}
    if about is None:
        last = recording.frames[-1]
        unit = "step" if recording.recorder.steps is not None else "epoch"
        every = "every " + (unit if recording.every == 1 else f"{recording.every} {unit}s")
        about = (f"{_count(len(recording.frames), 'frame')}, one {every}, {unit}s 0 to "
                 f"{_number(last.epoch if unit == 'epoch' else last.step)} · "
                 f"{_count(len(points['train']), 'training sample')}"
                 + (f", {len(points['test'])} test" if points["test"] else ""))
        if given_title:
            about = f"{description} · {about}"
    body = _body(title, about, len(recording.frames), network_svg, surface_svg,
                 curves_svg, recording, frames)
    return title, data, body


class FrameCoder:
    """Each frame as the page's script takes it (one entry: the columns of the page's
    data hold one per frame): the numbers as text, formatted here, and the maps as bytes.
    The static page and the live widget encode their frames with it."""

    def __init__(self, recording: Recording, model: Any, used: list[int], f: Any,
                 epochs: int | None = None) -> None:
        self.recording, self.used, self.f, self.epochs = recording, used, f, epochs
        _, mlp = _mlp_of(model)
        index = {id(p): i for i, p in enumerate(model.parameters())}
        self.weights = [index[id(w)] for layer in mlp.layers for n in layer.neurons
                        for w in n.w]
        self.low, self.span = _surface_range(recording)

    def entry(self, k: int, frame: Frame) -> dict[str, Any]:
        """Frame ``k``: its counter and numbers as text, the largest |w|, the surface
        and each hidden layer's maps (bytes, base64)."""
        f, recording = self.f, self.recording
        if self.epochs is None:  # the whole run: "epoch 3 of 30, frame 4 of 31"
            count = len(recording.frames)
            counter = (f"epoch {_number(frame.epoch)} of {_number(recording.frames[-1].epoch)}"
                       f", frame {k + 1} of {count}")
        else:  # a live run, frames still to come
            counter = f"epoch {_number(frame.epoch)} of {self.epochs}, frame {k + 1}"
        if recording.recorder.steps is not None:
            counter += f" (step {frame.step})"
        entry: dict[str, Any] = {"counter": counter, "epoch": _number(frame.epoch),
                                 "step": frame.step}
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            value = getattr(frame, name)
            entry[name] = None if value is None else f(value)
        entry["parameters"] = [f(frame.parameters[i]) for i in self.used]
        entry["gradients"] = [f(frame.gradients[i]) for i in self.used]
        entry["largest"] = float(np.max(np.abs(frame.parameters[self.weights])))
        entry["surface"] = _b64((frame.surface - self.low) / self.span)
        entry["neurons"] = [_neuron_map(values) for values in frame.neurons]
        return entry


# ---------------------------------------------------------------------------
# Words and numbers


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _number(v: float) -> str:
    """An epoch or step: whole numbers as such, fractions with 4 significant digits."""
    return str(int(v)) if float(v).is_integer() else _fmt(float(v), 4)


def _class_names(model: Any, classes: Sequence[str] | None, outputs: int,
                 recording: Recording) -> list[str]:
    labels = np.asarray(recording.y)
    count = outputs if outputs > 1 else max(2, int(labels.max()) + 1 if labels.size else 2)
    if classes is None:
        classes = getattr(model, "classes", None) or [f"class {c}" for c in range(count)]
    classes = [str(c) for c in classes]
    if len(classes) != count:
        raise ValueError(f"explore_training: {len(classes)} class names for {count} classes")
    return classes


def _label(target: Any, classes: list[str]) -> str:
    return classes[int(target)] if 0 <= int(target) < len(classes) else str(target)


def _b64(values: np.ndarray) -> str:
    """Numbers in [0, 1] as bytes 0..255 (rounded), base64: for colouring only."""
    scaled = np.clip(np.rint(np.nan_to_num(values, nan=0.5) * 255), 0, 255).astype(np.uint8)
    return base64.b64encode(scaled.tobytes()).decode("ascii")


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round numbers (1, 2 or 5 times a power of ten apart) from low to high."""
    if not high > low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    return [k * step for k in range(first, math.floor(high / step + 1e-9) + 1)]


def _tick_text(v: float) -> str:
    return _fmt(round(v, 10), 4)


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, css: str, anchor: str = "middle",
          extra: str = "") -> str:
    return (f'<text class="{css}" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{extra}>'
            f"{html.escape(text, quote=False)}</text>")


# ---------------------------------------------------------------------------
# The data: frames, points


def _samples(recording: Recording) -> list[tuple[np.ndarray, int]]:
    """(x, target) of every data point: the training ones, then the test ones."""
    parts = [(recording.X, recording.y)]
    if recording.validation is not None:
        parts.append(recording.validation)
    return [(x, int(target)) for X, y in parts for x, target in zip(X, np.asarray(y))]


def _points(recording: Recording, classes: list[str]) -> dict[str, Any]:
    """The data points in plane coordinates (exact): [u, v, class, index] per part,
    and each point's description (index: as in :func:`_samples`)."""
    out: dict[str, Any] = {"train": [], "test": [], "label": []}
    parts = [("train", recording.points, recording.X, recording.y)]
    if recording.validation is not None:
        parts.append(("test", recording.val_points, *recording.validation))
    for part, coordinates, X, y in parts:
        word = "training" if part == "train" else "test"
        for n, (uv, x, target) in enumerate(zip(coordinates, X, np.asarray(y))):
            out[part].append([float(uv[0]), float(uv[1]), int(target), len(out["label"])])
            out["label"].append(f"{word} sample {n + 1}: x = {network_view._short(x)}, "
                                f"{_label(target, classes)}")
    return out


# ---------------------------------------------------------------------------
# The network, drawn once; the script colours it frame by frame


def _drawn(count: int) -> list[int | None]:
    if count <= MAX_DRAWN:
        return list(range(count))
    keep = (MAX_DRAWN - 1) // 2
    return [*range(keep), None, *range(count - keep, count)]


def _network(model: Any, mlp: Any, recording: Recording, features: list[str],
             classes: list[str], width: float = NET_WIDTH) -> tuple[str, dict[str, Any]]:
    """The network's SVG (columns of thumbnails, edges between them, laid out ``width``
    units wide) and what the script needs to update it: each edge's parameter, each
    node's map and bias."""
    layers = mlp.layers
    index = {id(p): i for i, p in enumerate(model.parameters())}  # the recording's order
    k = recording.recorder.neuron_grid
    mapped = [len(maps) for maps in recording.frames[-1].neurons]
    output_labels = classes if layers[-1].nout > 1 else ["output"]
    # (kind, count, heading, what)
    columns = [("input", layers[0].nin, "input", _count(layers[0].nin, "feature"))]
    for number, layer in enumerate(layers[:-1], start=1):
        activation = layer.activation if isinstance(layer.activation, str) else "mixed"
        columns.append(("hidden", layer.nout, f"layer {number}", f"{layer.nout} {activation}"))
    columns.append(("output", layers[-1].nout, "output",
                    f"{layers[-1].nout} → softmax" if layers[-1].nout > 1 else "1 output"))
    slots = max(len(_drawn(count)) for _, count, _, _ in columns)
    size = max(14.0, min(40.0, NET_BODY / slots / 1.25))
    step = size * 1.25
    left = max(40.0, max(len(t) for t in features) * CHAR + 10 + size / 2)
    right = max(40.0, max(len(t) for t in output_labels) * CHAR + 10 + size / 2)
    xs = np.linspace(left, width - right, len(columns))
    inputs = recording.plane_inputs(k)
    ranges = list(zip(inputs.min(axis=0), inputs.max(axis=0)))

    nodes: list[dict[str, Any]] = []
    where: list[dict[int, float]] = []  # per column: drawn index -> y
    parts: list[str] = []
    for c, (kind, count, heading, what) in enumerate(columns):
        x, drawn = float(xs[c]), _drawn(count)
        top = NET_TOP + (slots - len(drawn)) * step / 2
        parts += [_text(x, 16, heading, "ctx-col-name"), _text(x, 31, what, "ctx-col-what")]
        if kind == "hidden":
            parts.append(_text(x, 46, "", "ctx-col-scale", extra=f' data-layer="{c - 1}"'))
        elif kind == "output" and count > 1:
            parts.append(_text(x, 46, "p over the plane", "ctx-col-scale"))
        spots = {}
        for slot, j in enumerate(drawn):
            y = top + slot * step + step / 2
            if j is None:
                parts.append(_text(x, y + 4, f"⋮ {count - len(drawn) + 1} more", "ctx-more"))
                continue
            spots[j] = y
            node = _node(kind, c, j, layers, features, output_labels, mapped, index, ranges)
            node["id"] = len(nodes)
            nodes.append(node)
            box = f'x="{_n(x - size / 2)}" y="{_n(y - size / 2)}" width="{_n(size)}" ' \
                  f'height="{_n(size)}"'
            parts.append(f'<g class="ctx-node" data-node="{node["id"]}"><title>'
                         f'{html.escape(node["title"])}</title><rect class="ctx-node-back" '
                         f'{box}/><image class="ctx-map" {box} preserveAspectRatio="none"/>'
                         f'<rect class="ctx-node-frame" {box}/></g>')
            if kind == "input":
                parts.append(_text(x - size / 2 - 6, y + 4, features[j], "ctx-node-label",
                                   anchor="end"))
            elif kind == "output":
                parts.append(_text(x + size / 2 + 6, y + 4, output_labels[j],
                                   "ctx-node-label", anchor="start"))
        where.append(spots)

    edges, paths = [], []
    for c, layer in enumerate(layers):
        a, b = float(xs[c]) + size / 2, float(xs[c + 1]) - size / 2
        middle = (a + b) / 2
        for j, y2 in where[c + 1].items():
            for i, y1 in where[c].items():
                paths.append(f'<path class="ctx-edge" data-edge="{len(edges)}" '
                             f'd="M{_n(a)} {_n(y1)}C{_n(middle)} {_n(y1)} {_n(middle)} '
                             f'{_n(y2)} {_n(b)} {_n(y2)}"><title></title></path>')
                edges.append(index[id(layer.neurons[j].w[i])])
    # the page holds only the parameters it shows: the drawn edges' and nodes'
    used = sorted({*edges, *(node["bias"] for node in nodes if node["bias"] is not None)})
    at = {p: n for n, p in enumerate(used)}
    edges = [at[p] for p in edges]
    for node in nodes:
        node["bias"] = None if node["bias"] is None else at[node["bias"]]
    height = NET_TOP + slots * step + 8
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="ctx-network-svg" '
           f'viewBox="0 0 {_n(width)} {_n(height)}" width="100%" role="img" '
           f'aria-label="the network: each neuron\'s output over the plane">'
           f'<g class="ctx-edges">{"".join(paths)}</g>{"".join(parts)}</svg>')
    low, high = inputs.min(axis=0), inputs.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    # (the frames' columns -- "largest", "neurons" -- are added by _page)
    return svg, {"used": used, "nodes": nodes, "edges": edges,
                 "edge_widths": [MIN_EDGE, MAX_EDGE], "neuron_grid": k,
                 "inputs": _b64(((inputs - low) / span).T)}  # (features, k * k)


def _neuron_map(values: np.ndarray) -> dict[str, Any]:
    """A hidden layer's maps at one frame (neurons, k, k): each neuron's scaled to its
    own largest |h| (0.5 is h = 0), and those largest |h| as text, and the layer's."""
    peaks = np.max(np.abs(values), axis=(1, 2))
    safe = np.where(peaks > 0, peaks, 1.0)[:, None, None]
    return {"scale": f"|h| ≤ {_fmt(float(peaks.max(initial=0.0)), 3)}",
            "largest": [_fmt(float(v), 4) for v in peaks],
            "map": _b64(0.5 + 0.5 * values / safe)}


def _node(kind: str, c: int, j: int, layers: list[Any], features: list[str],
          output_labels: list[str], mapped: list[int], index: dict[int, int],
          ranges: list[tuple[float, float]]) -> dict[str, Any]:
    """One node's tooltip, map (what its thumbnail shows) and bias parameter."""
    if kind == "input":
        low, high = ranges[j]
        return {"map": ["input", j], "bias": None,
                "title": (f"{features[j]} over the plane: from {_fmt(low, 4)} (orange) to "
                          f"{_fmt(high, 4)} (blue)")}
    layer = c - 1
    neuron = layers[layer].neurons[j]
    bias = index[id(neuron.b)]
    if kind == "hidden":
        name = f"h{layer + 1}.{j + 1}" if len(layers) > 2 else f"h{j + 1}"
        if j >= mapped[layer]:
            return {"map": None, "bias": bias,
                    "title": f"{name} = {neuron.activation}(w · x + b): not mapped (the "
                             f"recording maps the first {mapped[layer]} of a layer)"}
        return {"map": ["hidden", layer, j], "bias": bias,
                "title": (f"{name} = {neuron.activation}(w · input + b), over the plane: "
                          "orange < 0, white 0, blue > 0, full colour at its largest |h|")}
    if len(output_labels) > 1:
        return {"map": ["output", j], "bias": bias,
                "title": (f"o{j + 1} ({output_labels[j]}): p = softmax(o)_{j + 1} over the "
                          "plane, white 0 to full colour 1")}
    return {"map": ["output", 0], "bias": bias,
            "title": "the output over the plane: orange for class 0, white at the threshold, "
                     "blue for class 1"}


# ---------------------------------------------------------------------------
# The decision surface


def _surface(recording: Recording, points: dict[str, Any], colours: list[str],
             coder: FrameCoder, f: Any) -> tuple[str, dict[str, Any]]:
    """The plot: axes and ticks, the data points (train filled, test hollow), an
    <image> the script paints each frame's surface into."""
    u0, u1, v0, v1 = recording.extent
    pad_left, pad_top = 44, 8
    side = SURFACE
    sx = lambda u: pad_left + (u - u0) / (u1 - u0) * side
    sy = lambda v: pad_top + (v1 - v) / (v1 - v0) * side
    m = recording.recorder.grid
    # the grid's points are at the plane's edges: each cell is centred on its point
    du, dv = (u1 - u0) / (m - 1), (v1 - v0) / (m - 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="ctx-surface-svg" '
           f'viewBox="0 0 {pad_left + side + 10} {pad_top + side + 40}" width="100%" '
           'role="img" aria-label="the decision surface with the data">',
           # a nested viewport clips the image to the plot (no ids: a notebook may hold many)
           f'<svg x="{pad_left}" y="{pad_top}" width="{side}" height="{side}" '
           f'overflow="hidden"><image class="ctx-surface-image" '
           f'x="{_n(sx(u0 - du / 2) - pad_left)}" y="{_n(sy(v1 + dv / 2) - pad_top)}" '
           f'width="{_n(side + side * du / (u1 - u0))}" '
           f'height="{_n(side + side * dv / (v1 - v0))}" preserveAspectRatio="none"/></svg>',
           f'<rect class="ctx-plot-frame" x="{pad_left}" y="{pad_top}" width="{side}" '
           f'height="{side}"/>']
    for u in _ticks(u0, u1):
        out.append(f'<line class="ctx-tick" x1="{_n(sx(u))}" x2="{_n(sx(u))}" '
                   f'y1="{pad_top + side}" y2="{pad_top + side + 4}"/>')
        out.append(_text(sx(u), pad_top + side + 15, _tick_text(u), "ctx-tick-text"))
    for v in _ticks(v0, v1):
        out.append(f'<line class="ctx-tick" x1="{pad_left - 4}" x2="{pad_left}" '
                   f'y1="{_n(sy(v))}" y2="{_n(sy(v))}"/>')
        out.append(_text(pad_left - 6, sy(v) + 3.5, _tick_text(v), "ctx-tick-text",
                         anchor="end"))
    names = recording.axis_names
    out.append(_text(pad_left + side / 2, pad_top + side + 32, names[0], "ctx-axis"))
    out.append(_text(12, pad_top + side / 2, names[1], "ctx-axis",
                     extra=f' transform="rotate(-90 12 {_n(pad_top + side / 2)})"'))
    out.append('<g class="ctx-points">')
    for part in ("train", "test"):
        for u, v, target, index in points[part]:
            colour = colours[target] if 0 <= target < len(colours) else "#444444"
            style = (f'fill="{colour}" stroke="#ffffff"' if part == "train"
                     else f'fill="#ffffff" stroke="{colour}" stroke-width="2"')
            out.append(f'<circle class="ctx-point ctx-{part}" data-point="{index}" '
                       f'cx="{_n(sx(u))}" cy="{_n(sy(v))}" r="{3.6 if part == "train" else 3.2}" '
                       f'{style}><title>{html.escape(points["label"][index])} (click: its '
                       "forward and backward pass)</title></circle>")
    out.append('</g><circle class="ctx-selected" r="8" cx="-20" cy="-20"/></svg>')
    outputs = recording.frames[0].surface.shape[-1]
    return "".join(out), {"grid": m, "outputs": outputs, "low": f(coder.low),
                          "high": f(coder.low + coder.span)}  # (+ "maps", by _page)


def _surface_range(recording: Recording) -> tuple[float, float]:
    """(low, high - low): the outputs shown from white to full colour. Probabilities
    (several outputs): 0 to 1. One output: centred on the threshold that decides the
    class, as far as the run's outputs reach."""
    if recording.frames[0].surface.shape[-1] > 1:
        return 0.0, 1.0
    threshold = float(getattr(recording, "_threshold", 0.0))
    reach = max(float(np.abs(fr.surface - threshold).max()) for fr in recording.frames) or 1.0
    return threshold - reach, 2 * reach


# ---------------------------------------------------------------------------
# The curves


def _curves(recording: Recording, until: float | None = None, full: int = CURVE_WIDTH
            ) -> tuple[str, dict[str, Any]]:
    """Loss and accuracy over the frames (training solid, test dashed), each with a
    line the script moves to the current frame; the coordinates per frame. The epoch
    axis ends at the last frame, or at ``until`` (a live run's planned length); each
    plot is laid out ``full`` units wide."""
    epochs = [fr.epoch for fr in recording.frames]
    e0, e1 = epochs[0], max(epochs[-1], until or 0)
    e1 = e1 if e1 > e0 else e0 + 1
    left, right, top, bottom = 46, 12, 26, 30
    width, height = full - left - right, CURVE_HEIGHT - top - bottom
    sx = lambda e: left + (e - e0) / (e1 - e0) * width
    xs = [round(sx(e), 1) for e in epochs]
    svgs, data = [], {"x": xs, "series": {}}
    for panel, names in (("loss", ("loss", "val_loss")),
                         ("accuracy", ("accuracy", "val_accuracy"))):
        series = {}
        for name in names:
            values = [getattr(fr, name) for fr in recording.frames]
            if any(v is not None for v in values):
                series[name] = values
        if not series:
            continue
        values = [v for s in series.values() for v in s if v is not None]
        low, high = (0.0, 1.0) if panel == "accuracy" else (
            0.0, max(values) * 1.05 if max(values) > 0 else 1.0)
        sy = lambda v, low=low, high=high: top + (high - v) / (high - low) * height
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="ctx-curve" '
               f'data-panel="{panel}" viewBox="0 0 {full} {CURVE_HEIGHT}" '
               f'width="100%" role="img" aria-label="{panel} over the frames">',
               _text(left, 14, panel, "ctx-curve-name", anchor="start"),
               _text(full - right, 14, "", "ctx-curve-now", anchor="end"),
               f'<rect class="ctx-plot-frame" x="{left}" y="{top}" width="{width}" '
               f'height="{height}"/>']
        for tick in _ticks(low, high, 4):
            out.append(f'<line class="ctx-grid" x1="{left}" x2="{left + width}" '
                       f'y1="{_n(sy(tick))}" y2="{_n(sy(tick))}"/>')
            out.append(_text(left - 5, sy(tick) + 3.5, _tick_text(tick), "ctx-tick-text",
                             anchor="end"))
        for tick in _ticks(e0, e1, 6):
            out.append(f'<line class="ctx-tick" x1="{_n(sx(tick))}" x2="{_n(sx(tick))}" '
                       f'y1="{top + height}" y2="{top + height + 4}"/>')
            out.append(_text(sx(tick), top + height + 15, _tick_text(tick), "ctx-tick-text"))
        out.append(_text(left + width, top + height + 27, "epoch", "ctx-axis-small",
                         anchor="end"))
        for name, values in series.items():
            xy = [(x, round(sy(v), 1)) for x, v in zip(xs, values) if v is not None]
            data["series"][name] = [None if v is None else round(sy(v), 1) for v in values]
            dash = ' stroke-dasharray="5 3"' if name.startswith("val_") else ""
            out.append(f'<polyline class="ctx-line" data-series="{name}"{dash} points="'
                       + " ".join(f"{_n(x)},{_n(y)}" for x, y in xy) + '"/>')
        out.append(f'<line class="ctx-now" x1="{xs[0]}" x2="{xs[0]}" y1="{top}" '
                   f'y2="{top + height}"/>')
        for name in series:
            out.append(f'<circle class="ctx-dot" data-series="{name}" r="3.2" cx="-10" '
                       'cy="-10"/>')
        out.append("</svg>")
        svgs.append("".join(out))
    return "".join(svgs), data


# ---------------------------------------------------------------------------
# The passes: draw_network for every point at a few key frames, stored as one SVG per
# key frame (laid out wide enough for every point's texts) and each point's texts.

_SLOT = re.compile(r"<(text|title)\b([^>]*)>(.*?)</\1>", re.DOTALL)
_CLASS = re.compile(r'class="([^"]*)"')
_MARK = re.compile("\ue000(\\d+)\ue001")
_BEFORE = " =[(:,\n"  # a slot's fixed start ends with one of these
_AFTER = " ])\n,;"


def _slots(svg: str) -> list[tuple[str, str, str]]:
    """Every <text> and <title> of an SVG in document order: (tag, class, text)."""
    out = []
    for tag, attributes, text in _SLOT.findall(svg):
        css = _CLASS.search(attributes)
        out.append((tag, css.group(1) if css else "", html.unescape(text)))
    return out


def _key_frames(count: int, wanted: int) -> list[int]:
    return sorted({round(k) for k in np.linspace(0, count - 1, min(wanted, count))})


def _at_frame(model: Any, parameters: np.ndarray) -> Any:
    """A copy of the model holding these parameters (the model itself is untouched)."""
    twin = copy.deepcopy(model)
    for p, value in zip(twin.parameters(), parameters):
        p.data = float(value)
    return twin


def _passes(recording: Recording, model: Any, samples: list[tuple[np.ndarray, int]],
            wanted: int, budget: int, precision: int) -> dict[str, Any]:
    """Every point's pass (or, beyond the budget, evenly chosen points'), at the key
    frames: per key frame, one template and the texts of each point, packed."""
    frames = _key_frames(len(recording.frames), wanted)
    loss = getattr(recording, "_loss", "cross_entropy")
    everyone = list(range(len(samples)))
    chosen = everyone
    # the size (packed): a template and a point's texts, from a few points at the ends
    template_size, per_point = 0.0, 0.0
    for k in {frames[0], frames[-1]}:
        twin = _at_frame(model, recording.frames[k].parameters)
        views = [draw_network(twin, *samples[i], loss=loss, precision=precision).svg
                 for i in everyone[:: max(1, len(everyone) // 12)][:12]]
        slots, middles, _ = _varying([[text for _, _, text in _slots(v)] for v in views])
        template_size = max(template_size, len(_pack(views[0])))
        per_point = max(per_point, (len(_pack([slots, middles])) - len(_pack([slots, []])))
                        / len(middles))
    fits = int((budget - template_size * len(frames)) // (per_point * len(frames) or 1.0))
    if fits < len(everyone):
        chosen = sorted({round(k) for k in np.linspace(0, len(everyone) - 1,
                                                        max(fits, 1))})
    packed = []
    for k in frames:
        twin = _at_frame(model, recording.frames[k].parameters)
        views = [draw_network(twin, *samples[i], loss=loss, precision=precision)
                 for i in chosen]
        template, slots, values = _template(twin, views, *samples[chosen[0]], loss, precision)
        packed.append(_pack({"template": template, "slots": slots, "values": values}))
    epochs = [_number(recording.frames[k].epoch) for k in frames]
    return {"frames": frames, "epochs": epochs, "points": chosen, "of": len(everyone),
            "packed": packed}


def _pack(content: Any) -> str:
    """JSON, gzipped, in base64: what the page unpacks (DecompressionStream) on a click."""
    raw = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def _template(twin: Any, views: list[Any], x: Any, target: Any, loss: Any,
              precision: int) -> tuple[str, list[list[str]], list[list[str]]]:
    """One SVG for all the views, laid out for the widest text of each place, its
    varying texts marked ``data-slot``; each slot's fixed start and end; each view's
    varying middles. Filling the slots with a view's middles gives that view's texts."""
    texts = [_slots(view.svg) for view in views]
    shape = [(tag, css) for tag, css, _ in texts[0]]
    # draw_network's own steps, with every cell as wide as its widest text
    parts = network_view._parts(twin)
    names = {p: name for name, p in twin.named_parameters()}
    run = network_view._run(twin, parts, x, target, loss)
    columns = network_view._columns(parts, run, network_view.MAX_NEURONS, precision, names,
                                     "loss")
    cells = [cell for column in columns for item in column.items for row in item.rows
             for cell in row]
    subtitle = next(text for _, css, text in texts[0] if css == "nv-subtitle")
    marked = copy.deepcopy(columns)
    marked_cells = [cell for column in marked for item in column.items for row in item.rows
                    for cell in row]
    for n, cell in enumerate(marked_cells):
        cell.text = f"\ue000{n}\ue001"
    title = max((view.title for view in views), key=len)
    found, _, _ = network_view._svg(marked, parts, run, title, subtitle, names, None,
                                    precision)
    for j, (_, _, text) in enumerate(_slots(found)):
        mark = _MARK.fullmatch(text)
        if mark:
            cells[int(mark.group(1))].text = max((t[j][2] for t in texts), key=len)
    svg, _, _ = network_view._svg(columns, parts, run, title, subtitle, names, None,
                                  precision)
    if [(tag, css) for tag, css, _ in _slots(svg)] != shape or any(
            [(tag, css) for tag, css, _ in t] != shape for t in texts):
        raise RuntimeError("explore_training: draw_network's pictures of different points "
                           "differ in structure; the pass template cannot hold them")
    slots, middles, varying = _varying([[text for _, _, text in t] for t in texts])
    counter = iter(range(len(shape)))

    def fill(match: re.Match[str]) -> str:
        j = next(counter)
        tag, attributes = match.group(1), match.group(2)
        slot = f' data-slot="{varying[j]}"' if j in varying else ""
        text = texts[0][j][2]
        return f"<{tag}{attributes}{slot}>{html.escape(text, quote=False)}</{tag}>"

    svg = _SLOT.sub(fill, svg)
    svg = re.sub(r'aria-label="[^"]*"', 'aria-label="one sample\'s forward and backward '
                 'pass"', svg, count=1)
    return svg, slots, middles


def _varying(texts: list[list[str]]) -> tuple[list[list[str]], list[list[str]], dict[int, int]]:
    """Of each view's texts (all of the same shape), the places that differ between
    views: each one's fixed start and end, each view's middles, and {place: slot}
    (places always showing the same text as an earlier one share its slot)."""
    slots: list[list[str]] = []
    middles: list[list[str]] = [[] for _ in texts]
    varying: dict[int, int] = {}
    seen: dict[tuple[str, ...], int] = {}
    for j in range(len(texts[0])):
        column = tuple(t[j] for t in texts)
        if len(set(column)) == 1:
            continue
        if column in seen:
            varying[j] = seen[column]
            continue
        start, end = _fixed_ends(list(column))
        varying[j] = seen[column] = len(slots)
        slots.append([start, end])
        for n, text in enumerate(column):
            middles[n].append(text[len(start): len(text) - len(end)])
    return slots, middles, varying


def _common_start(texts: list[str]) -> str:
    """The longest start all the texts share: that of the first and the last of them in
    sorted order (whatever the others share with both, they share with each other)."""
    first, last = min(texts), max(texts)
    for n, (a, b) in enumerate(zip(first, last)):
        if a != b:
            return first[:n]
    return first[:len(last)]


def _fixed_ends(texts: list[str]) -> tuple[str, str]:
    """The start and end all the texts share, cut where a number cannot continue."""
    start = _common_start(texts)
    while start and start[-1] not in _BEFORE:
        start = start[:-1]
    rest = [t[len(start):] for t in texts]
    end = _common_start([t[::-1] for t in rest])[::-1]
    while end and end[0] not in _AFTER:
        end = end[1:]
    return start, end


# ---------------------------------------------------------------------------
# The page


def _body(title: str, subtitle: str, count: int, network_svg: str, surface_svg: str,
          curves_svg: str, recording: Recording, frames: dict[str, Any]) -> str:
    if recording.frames[0].surface.shape[-1] > 1:
        background = ("The background: each class's colour mixed by its probability "
                      "(softmax of the outputs) at this frame, paler where the model is "
                      "unsure.")
    else:
        threshold = _fmt(float(getattr(recording, "_threshold", 0.0)), 4)
        background = (f"The background: the output at this frame, orange below {threshold} "
                      f"(class 0), blue above (class 1), white at {threshold}.")
    plane = ""
    if recording.X.shape[1] > 2:
        plane = (f'<p class="ctx-plane">{html.escape(recording.axis_names[0])}, '
                 f"{html.escape(recording.axis_names[1])}: {html.escape(recording.plane)}."
                 "</p>")
    return (
        f'<div class="ctx-head"><div class="ctx-title">{html.escape(title)}</div>'
        f'<div class="ctx-subtitle">{html.escape(subtitle)}</div></div>'
        '<div class="ctx-bar">'
        '<button type="button" class="ctx-first" title="first frame (Home)">|◀</button>'
        '<button type="button" class="ctx-prev" title="step back (←)">◀</button>'
        '<button type="button" class="ctx-play" title="play / pause (space)">play</button>'
        '<button type="button" class="ctx-next" title="step forward (→)">▶</button>'
        '<button type="button" class="ctx-last" title="last frame (End)">▶|</button>'
        f'<input type="range" class="ctx-slider" min="0" max="{count - 1}" value="0" '
        'aria-label="frame">'
        f'<span class="ctx-counter">{html.escape(frames["counter"][0])}</span></div>'
        '<div class="ctx-main"><div class="ctx-left">'
        f'<div class="ctx-network">{network_svg}</div>'
        '<div class="ctx-legend ctx-net-legend"><span class="ctx-swatch-line" '
        f'style="background:{POSITIVE}"></span>w &gt; 0 <span class="ctx-swatch-line" '
        f'style="background:{NEGATIVE}"></span>w &lt; 0, width ~ |w| '
        "(hover an edge: w and the mean training dL/dw at this frame; a neuron: what its "
        "map shows)</div>"
        f'<div class="ctx-curves">{curves_svg}</div></div>'
        '<div class="ctx-right">'
        '<div class="ctx-surface-title">the model\'s prediction over the plane</div>'
        f'<div class="ctx-surface">{surface_svg}</div>'
        '<div class="ctx-legend ctx-classes"></div>'
        '<div class="ctx-legend"><svg class="ctx-mark" viewBox="0 0 12 12" width="12" '
        'height="12"><circle cx="6" cy="6" r="4.2" fill="#555" stroke="#fff"/></svg>'
        "training" + (
            '<svg class="ctx-mark" viewBox="0 0 12 12" width="12" height="12"><circle '
            'cx="6" cy="6" r="3.8" fill="#fff" stroke="#555" stroke-width="2"/></svg>test'
            if recording.validation is not None else "") + "</div>"
        f'<p class="ctx-note">{html.escape(background)} Click a point for its forward and '
        "backward pass.</p>"
        f"{plane}</div></div>"
        '<div class="ctx-pass" hidden><div class="ctx-pass-head">'
        '<div class="ctx-pass-text"><div class="ctx-pass-title"></div>'
        '<div class="ctx-pass-note"></div><div class="ctx-pass-keys"></div></div>'
        '<button type="button" class="ctx-close" title="close (Esc)">✕ close</button></div>'
        '<div class="ctx-pass-body"></div></div>'
    )


def _asset(kind: str) -> str:
    return resources.files("nn").joinpath(f"training_explorer.{kind}").read_text(
        encoding="utf-8")
