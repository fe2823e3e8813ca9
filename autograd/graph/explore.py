"""explore: the chain-rule graph as an interactive page -- step through the forward and
the backward pass, and ask any node where its gradient comes from.

``explore(loss, names=model)`` returns an :class:`Explorer`. In Jupyter it displays
itself; ``.write("backprop.html")`` saves one self-contained page (no network: the
graph is an SVG drawn by Graphviz, the script and style are inline). The page has

- a **forward phase**: the leaves hold their values, then each operation computes
  its value in turn (``n = w × x = -3 × 2 = -6``);
- a **backward phase**: the output's gradient is seeded with 1, then each step applies
  one operation as :func:`~autograd.draw_dot` with ``step=k`` draws it -- the operation
  in red, gradients not final yet dashed -- and says its arithmetic:
  ``grad(w) += grad(n) × x = 0.5 × 2 = 1``;
- a slider, buttons (first, previous, play/pause, next, last) and the arrow keys
  (Home/End, space to play); the graph follows the steps: each step scrolls it so
  that the operation being applied is in view (smoothly, at once with
  prefers-reduced-motion);
- zoom: it starts fitted to the width (or at a readable 75% when that would be too
  small); − / + buttons and keys, 0 to fit, 1 for the natural size, a fit / 100%
  toggle, ctrl + wheel; drag to pan;
- step text that names nodes from inside the module the step is in (``w.0``,
  ``relu of neuron 0 of layer 0``), the full dotted name on hover;
- a **node panel**: hover or click a node to see its value, gradient, the operation
  that made it and its local derivatives, and every path from it to the output with
  the product of the local derivatives along it (the :func:`~autograd.explain`
  decomposition), highlighted in the graph; the products sum to the gradient.

All frames share one SVG: a frame stores only the texts it changes. A graph with more
than ``max_nodes`` Values is shown as the collapsed module view (one node per neuron,
the steps grouped by module) when ``names`` is a model, and refused otherwise.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from itertools import count
from typing import Any, TypeVar

from ..engine import _CONSTANT, Value, topological_order
from .draw import (
    DEFAULT_MAX_NODES,
    KINDS,
    _check_max_nodes,
    _collapse,
    _draw_collapsed,
    _draw_full,
    _draw_legend,
    _new_graph,
    _placement,
)
from .explain import _paths
from .formulas import formulas
from .naming import _fmt, _module_phrase, _Naming, _relative_name, _unique_names
from .render import RENDER_TIMEOUT, GraphTooLargeError, HTMLPage
from .steps import _backward_events, _Step, local_derivatives

__all__ = ["Explorer", "Frame", "explore"]

T = TypeVar("T")

MAX_LINES = 40  # arithmetic lines shown per frame; the rest are counted
MAX_PATHS_LISTED = 1000  # beyond this many paths a node's panel gives the node-by-node rule
MAX_PARAMETERS_LISTED = 40  # in a collapsed module's panel


@dataclass(frozen=True)
class Frame:
    """One position of the explorer's slider: ``phase`` is "forward" or "backward",
    ``step`` counts within the phase (0: its start), ``title`` and ``lines`` are the
    text the page shows (the step's arithmetic)."""

    phase: str
    step: int
    title: str
    lines: tuple[str, ...]


class Explorer(HTMLPage):
    """An interactive chain-rule graph (see :func:`explore`): displays itself in
    Jupyter, saves a standalone page with :meth:`write`; ``frames`` lists what each
    position of the slider says, ``svg`` is the graph."""

    _PAGE_STYLE = "html, body { margin: 0; padding: 0; }"

    def __init__(self, title: str, svg: str, data: dict[str, Any], frames: list[Frame],
                 collapsed: bool) -> None:
        self.title = title
        self.svg = svg
        self.frames = frames
        self.collapsed = collapsed
        self._data = data

    def __repr__(self) -> str:
        view = "collapsed module view, " if self.collapsed else ""
        return (f"<Explorer {self.title!r}: {view}{len(self.frames)} frames; "
                "display it in Jupyter or .write('backprop.html')>")

    def _fragment(self, standalone: bool) -> str:
        """The explorer as one <div> with its style, data and script inside."""
        style = _asset("explorer.css")
        script = _asset("explorer.js")
        data = json.dumps(self._data, ensure_ascii=False, separators=(",", ":"))
        data = data.replace("</", "<\\/")  # never end the <script> element early
        return (
            f'<div class="chainrule-explorer" tabindex="0" data-standalone="{int(standalone)}">'
            f"<style>{style}</style>"
            f'<div class="cre-head"><span class="cre-title">{html.escape(self.title)}</span>'
            '<span class="cre-phases"><button type="button" class="cre-phase" '
            'data-phase="forward">forward</button><button type="button" class="cre-phase" '
            'data-phase="backward">backward</button></span></div>'
            '<div class="cre-bar">'
            '<button type="button" class="cre-first" title="first frame (Home)">first</button>'
            '<button type="button" class="cre-prev" title="previous frame (←)">◀ prev</button>'
            '<button type="button" class="cre-play" title="play / pause (space)">play</button>'
            '<button type="button" class="cre-next" title="next frame (→)">next ▶</button>'
            '<button type="button" class="cre-last" title="last frame (End)">last</button>'
            f'<input type="range" class="cre-slider" min="0" max="{len(self.frames) - 1}" '
            'value="0" aria-label="frame">'
            '<span class="cre-position"></span>'
            '<span class="cre-zoombar" role="group" aria-label="zoom">'
            '<button type="button" class="cre-zoom-out" title="zoom out (-)">−</button>'
            '<span class="cre-zoom-level" aria-live="polite"></span>'
            '<button type="button" class="cre-zoom-in" title="zoom in (+)">+</button>'
            '<button type="button" class="cre-zoom" title="fit the width (0) / actual size '
            '(1); ctrl + wheel zooms, drag to pan">100%</button></span></div>'
            '<div class="cre-top"><div class="cre-step"><div class="cre-step-title">'
            "The graph after the backward pass. To step through it, let the page run its "
            "script (in Jupyter: run the cell, or trust the notebook).</div>"
            '<ol class="cre-lines"></ol></div>'
            '<div class="cre-info"><p class="cre-hint">Hover over or click a node to see '
            "its value, its gradient, the operation that made it and every path from it "
            "to the output.</p></div></div>"
            f'<div class="cre-graph">{self.svg}</div>'
            f'<script type="application/json" class="cre-data">{data}</script>'
            f"<script>{script}</script></div>"
        )



def explore(
    root: Value,
    *,
    names: Mapping[Value, str] | Any | None = None,
    parameters: Iterable[Value] | None = None,
    rankdir: str = "LR",
    max_nodes: int | None = DEFAULT_MAX_NODES,
    precision: int = 4,
    max_paths: int = 8,
    title: str | None = None,
    render_timeout: float = RENDER_TIMEOUT,
) -> Explorer:
    """An interactive page that steps through the forward and backward pass of the
    graph that computed ``root`` (see the module docstring for what it shows).

    ``names``, ``parameters``, ``rankdir``, ``max_nodes`` and ``precision`` mean what
    they mean for :func:`~autograd.draw_dot`. The gradients are those of one backward
    pass from ``root`` on zeroed gradients -- the explorer computes them itself, so
    ``root.backward()`` need not have been called and nothing is changed. A node's
    panel lists its ``max_paths`` largest paths to the output. Graphviz gets
    ``render_timeout`` seconds to lay the graph out (:class:`GraphRenderTimeout` after).
    """
    if not isinstance(root, Value):
        raise TypeError(f"explore: root must be a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"explore: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    for name, value in (("precision", precision), ("max_paths", max_paths)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"explore: {name} must be a positive int, got {value!r}")
    _check_max_nodes(max_nodes, "explore")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"explore: title must be a str, got {type(title).__name__}")
    order = topological_order(root)
    naming = _Naming(names, parameters, who="explore")
    naming.name_inputs(order)
    collapsed = max_nodes is not None and len(order) > max_nodes
    if collapsed and naming.module is None:
        raise GraphTooLargeError(
            f"explore: the graph has {len(order)} Value nodes, more than max_nodes="
            f"{max_nodes}; its page would be unreadable. Explore a smaller expression (one "
            "sample's loss instead of a batch), pass names=model to see an nn model as one "
            "node per neuron, or pass a larger max_nodes (None for no limit)"
        )
    page = _Page(root, order, naming, precision, max_paths, collapsed)
    graph = _new_graph(rankdir)
    graph.render_timeout = render_timeout
    if collapsed:
        _draw_collapsed(graph, root, order, naming, max_nodes, True, True, precision,
                        legend=True, relabel=page.relabel, who="explore")
    else:
        _draw_full(graph, root, order, naming, None, True, True, True, precision,
                   relabel=page.relabel)
        kinds = {naming.kind(node, root) for node in order}
        _draw_legend(graph, kinds, show_local=True, stepping=True)
    svg = page.settle(_clean_svg(graph.pipe(format="svg", encoding="utf-8")))
    title = title if title is not None else f"backprop through {page.names[root]}"
    return Explorer(title, svg, page.data(), page.frames, collapsed)


# ---------------------------------------------------------------------------


class _Page:
    """Everything the page shows besides the picture: the frames (as changes to the
    records' texts), and each node's panel."""

    def __init__(self, root: Value, order: list[Value], naming: _Naming, precision: int,
                 max_paths: int, collapsed: bool) -> None:
        self.root, self.order, self.naming = root, order, naming
        self.precision, self.max_paths = precision, max_paths
        self.names = _unique_names(order, root, naming, precision)
        self.index = {node: i for i, node in enumerate(order)}
        # the module of each node, and (full view) the cluster its record is drawn in
        self.module = naming.assign_owners(order) if naming.module is not None else {}
        self.owner = (_placement(order, self.module, naming)[0]
                      if self.module and not collapsed else {})
        self.events = list(_backward_events(order, root))
        self.final_grads: dict[Value, float] = {root: 1.0}
        for event in self.events:
            for update in event.updates:
                self.final_grads[update.parent] = update.after
        self._view(collapsed)
        self.fields: dict[str, dict[str, int]] = {}  # element -> {"data": i, "grad": j}
        self.texts: dict[str, dict[str, list[str]]] = {}  # every text a field takes
        self.frames: list[Frame] = []
        self._titles: list[Text] = []  # the frames' titles and lines with names on hover
        self._lines: list[list[Text]] = []
        self._changes: list[dict[str, Any]] = []
        self._forward()
        self._backward()

    # -- what the picture shows -------------------------------------------------

    def _view(self, collapsed: bool) -> None:
        """``element[node]``: the record showing the node (None: not drawn);
        ``shown[element]``: the node whose data and grad the record shows; ``parts``:
        the element ids that appear, and light up, with each record."""
        self.collapsed = collapsed
        self.element: dict[Value, str | None] = {}
        self.shown: dict[str, Value] = {}
        self.parts: dict[str, list[str]] = {}
        self.module_of: dict[str, str] = {}
        if not collapsed:
            for i, node in enumerate(self.order):
                element = f"v{i}"
                self.element[node] = element
                self.shown[element] = node
                self.parts[element] = [element]
                if node._parents:
                    self.parts[element] += [f"op{i}", f"o{i}",
                                            *(f"e{i}_{s}" for s in range(len(node._parents)))]
            return
        view = _collapse(self.root, self.order, self.naming)
        for node in self.order:
            if node in view.owner or node in view.visible:
                self.element[node] = view.node_id[node]
            else:
                self.element[node] = None
        for path, rep in view.representative.items():
            self.shown[f"g_{path}"] = rep
            self.module_of[f"g_{path}"] = path
        for node in view.visible:
            self.shown[view.node_id[node]] = node
        self.groups = view.groups
        for element in self.shown:
            self.parts[element] = [element]
        for node in self.order:
            for p in node._parents:
                a, b = self.element.get(p), self.element.get(node)
                if a and b and a != b and f"c{a}--{b}" not in self.parts[b]:
                    self.parts[b].append(f"c{a}--{b}")

    def relabel(self, element: str, node: Value, fields: list[str]) -> list[str]:
        """The record's fields for the page: a name always, and room for the longest
        text each field takes in any frame."""
        if element not in self.shown:
            return fields
        shown = self.shown[element]
        if element in self.module_of:
            fields = fields[:2]  # path; type and number of parameters
        else:
            name = self.names[shown]
            path = self.owner.get(shown)
            if path and name.startswith(path + "."):
                name = name[len(path) + 1:]  # the cluster's label carries the prefix
            fields = [name]
        recorded = {}
        for field, texts in self.texts.get(element, {}).items():
            recorded[field] = len(fields)
            fields.append(max(texts, key=len))
        self.fields[element] = recorded
        return fields

    def settle(self, svg: str) -> str:
        """The SVG showing the state after the whole pass, as draw_dot would: what a
        reader sees where the page's script does not run (an untrusted notebook, a
        notebook viewer). Dot laid the records out for their longest texts."""
        def settle_record(match: re.Match[str]) -> str:
            element = html.unescape(match.group(1))
            fields = self.fields.get(element)
            if not fields:
                return match.group(0)
            last = {index: self.texts[element][field][-1] for field, index in fields.items()}
            position = count()  # the record's texts, in field order

            def settle_text(text: re.Match[str]) -> str:
                i = next(position)
                if i not in last:
                    return text.group(0)
                return f"{text.group(1)}{html.escape(last[i], quote=False)}{text.group(2)}"

            return re.sub(r"(<text[^>]*>).*?(</text>)", settle_text, match.group(0))

        return re.sub(r'<g id="([^"]+)" class="node">(.*?)</g>', settle_record, svg, flags=re.S)

    # -- frames ------------------------------------------------------------------

    def _fmt(self, x: float) -> str:
        return _fmt(x, self.precision)

    def _text(self, element: str, field: str, text: str) -> list[Any]:
        self.texts.setdefault(element, {}).setdefault(field, []).append(text)
        return [element, field, text]

    def _add(self, phase: str, step: int, title: Text, lines: list[Text], *,
             active: Iterable[str] = (), born: Iterable[str] = (), final: Iterable[str] = (),
             changes: Iterable[list[Any]] = ()) -> None:
        if len(lines) > MAX_LINES:
            rest = len(lines) - MAX_LINES + 1
            lines = [*lines[: MAX_LINES - 1], [f"… and {rest} more lines like these"]]
        self.frames.append(Frame(phase, step, _plain(title), tuple(map(_plain, lines))))
        self._titles.append(title)
        self._lines.append(lines)
        self._changes.append({"phase": phase, "active": list(dict.fromkeys(active)),
                              "born": list(dict.fromkeys(born)),
                              "final": list(dict.fromkeys(final)), "set": list(changes)})

    def _data_label(self, element: str) -> str:
        return "out" if element in self.module_of else "data"

    # -- names, read from inside the module a step is in ---------------------------

    def _called(self, node: Value, here: str | None) -> Part:
        """The node's name as read from inside the module ``here``: relative to it
        (``w.0``, ``relu of neuron 0 of layer 0``), with the full dotted name for the
        page to show on hover."""
        full = self.names[node]
        shown = _relative_name(full, self.module.get(node), here, self.naming.module_types)
        return shown if shown == full else (shown, full)

    def _in(self, here: str | None) -> str:
        """``, in neuron 0 of layer 1`` for a step inside a module."""
        return f", in {_module_phrase(here)}" if here else ""

    def _formula(self, node: Value, here: str | None = None) -> tuple[Text, list[Text]]:
        """The node's forward formula and local derivatives, its operands named as read
        from ``here`` (each name a part of its own, see :data:`Text`)."""
        slots = [f"\x00{i}\x00" for i in range(len(node._parents))]
        forward, locals_ = formulas(node, slots, "\x00o\x00")
        names = {slot: self._called(p, here) for slot, p in zip(slots, node._parents)}
        names["\x00o\x00"] = self._called(node, here)

        def parts(text: str) -> Text:
            return _join(*(names.get(piece, piece)
                           for piece in re.split("(\x00(?:\\d+|o)\x00)", text) if piece))

        return parts(forward), [parts(text) for text in locals_]

    def _forward_line(self, node: Value, here: str | None) -> Text:
        forward, _ = self._formula(node, here)
        numbers = formulas(node, [self._fmt(p.data) for p in node._parents],
                           self._fmt(node.data))[0]
        middle = f" = {numbers}" if numbers != _plain(forward) else ""
        return _join(self._called(node, here), " = ", forward, middle,
                     f" = {self._fmt(node.data)}")

    def _describe(self, element: str | None) -> Text:
        """What a record of the collapsed view shows: ``neuron 3 of layer 0
        (layers.0.neurons.3, Neuron (relu))``, or a Value's name."""
        if element is None:
            return ["a constant"]
        if element in self.module_of:
            path = self.module_of[element]
            return [f"{_module_phrase(path)} ({path}, "
                    f"{self.naming.module_types.get(path, 'module')})"]
        return _join(self._called(self.shown[element], None))

    # -- frames ------------------------------------------------------------------

    def _forward(self) -> None:
        start: list[list[Any]] = []
        born = []
        for element, node in self.shown.items():
            label = self._data_label(element)
            if node._parents:
                start.append(self._text(element, "data", f"{label} ?"))
            elif node._operation is not _CONSTANT:  # a constant's record shows its value
                start.append(self._text(element, "data", f"{label} {self._fmt(node.data)}"))
            if not node._parents:
                born.append(element)
            if node._operation is not _CONSTANT:
                start.append(self._text(element, "grad", "grad 0"))
        interior = [node for node in self.order if node._parents]
        runs = self._runs(interior, lambda node: node)
        # the inputs light up (and the page scrolls to them): where the pass starts
        inputs = [self.element[n] for n in self.order if not n._parents
                  and n._operation is not _CONSTANT and n not in self.naming.parameters
                  and self.element.get(n)]
        self._add("forward", 0, [self._leaves_title()],
                  [[f"{_count(len(interior), 'operation')} follow, each computed from its "
                    "operands: press → or next ▶ to compute them one by one" if interior else
                    "the output is a leaf: there is nothing to compute"]],
                  active=inputs, born=born, changes=start)
        for step, run in enumerate(runs, 1):
            element = self.element[run[0]]
            here = self.module.get(run[0])
            lines, changes, born = [], [], []
            for node in run:
                lines.append(self._forward_line(node, here))
                if self._record_of(node) is not None:
                    changes.append(self._text(element, "data", f"{self._data_label(element)} "
                                                              f"{self._fmt(node.data)}"))
                    born.append(element)
            if self.collapsed:
                title = _join(f"forward step {step} of {len(runs)}: ", self._describe(element),
                              f" computes {_count(len(run), 'operation')}")
            else:
                title = _join(f"forward step {step} of {len(runs)}{self._in(here)}: ",
                              self._called(run[0], here), " = ", self._formula(run[0], here)[0])
            self._add("forward", step, title, lines, active=[element] if element else [],
                      born=born, changes=changes)

    def _leaves_title(self) -> str:
        leaves = [node for node in self.order if not node._parents]
        if self.naming.module is None:
            return (f"forward pass: the leaves ({_listing([self.names[n] for n in leaves])}) "
                    "hold their values")
        inputs = [n for n in leaves if n._operation is not _CONSTANT
                  and n not in self.naming.parameters]
        kinds = []
        if inputs:
            kinds.append(f"{_count(len(inputs), 'input')} "
                         f"({_listing([self.names[n] for n in inputs])})")
        parameters = sum(1 for n in leaves if n in self.naming.parameters)
        if parameters:
            kinds.append(_count(parameters, "parameter"))
        constants = sum(1 for n in leaves if n._operation is _CONSTANT)
        if constants:
            kinds.append(_count(constants, "constant"))
        return _plain(_join("forward pass: the leaves hold their values: ", _and(kinds)))

    def _runs(self, items: list[T], node_of: Callable[[T], Value]) -> list[list[T]]:
        """Consecutive items grouped by the record that shows their node: one item per
        run in the full view; a module's operations together in the collapsed view."""
        runs: list[list[T]] = []
        for item in items:
            if (self.collapsed and runs
                    and self.element[node_of(runs[-1][0])] == self.element[node_of(item)]):
                runs[-1].append(item)
            else:
                runs.append([item])
        return runs

    def _record_of(self, node: Value) -> str | None:
        """The record that shows this node's own data and grad (None for a node inside
        a collapsed module, other than its output, and for constants there)."""
        element = self.element.get(node)
        return element if element is not None and self.shown[element] is node else None

    def _backward(self) -> None:
        root_element = self.element[self.root]
        self._add("backward", 0, [f"backward pass: grad({self.names[self.root]}) = 1 (the "
                                  "output's derivative with respect to itself)"],
                  [[f"each of the {len(self.events)} steps takes one operation, last "
                    "first, and adds grad(result) × local derivative to each operand's grad"
                    if self.events else "no operation to go back through"]],
                  active=[root_element] if root_element else [], final=[root_element],
                  changes=[self._text(root_element, "grad", "grad 1")] if root_element else [])
        runs = self._runs(self.events, lambda event: event.node)
        for step, run in enumerate(runs, 1):
            element = self.element[run[0].node]
            node = run[0].node
            here = self.module.get(node)
            lines: list[Text] = []
            changes, final = [], []
            hidden: dict[str, list[Value]] = {}  # module record -> nodes inside it
            for event in run:
                lines += self._backward_lines(event, here, hidden)
                for update in event.updates:
                    target = self._record_of(update.parent)
                    if target is not None:
                        changes.append(self._text(target, "grad",
                                                  f"grad {self._fmt(update.after)}"))
                final += filter(None, map(self._record_of, event.final))
            lines += [self._hidden_line(element, nodes) for element, nodes in hidden.items()]
            if self.collapsed:
                title = _join(f"backward step {step} of {len(runs)}: through ",
                              self._describe(element), f", {_count(len(run), 'operation')}")
            else:
                name = self._called(node, here)
                title = _join(f"backward step {step} of {len(runs)}{self._in(here)}: through "
                              f"{node.op} (", name, " = ", self._formula(node, here)[0],
                              "), grad(", name, f") = {self._fmt(run[0].grad)}")
            self._add("backward", step, title, lines, active=[element] if element else [],
                      final=final, changes=changes)

    def _backward_lines(self, event: _Step, here: str | None,
                        hidden: dict[str, list[Value]]) -> list[Text]:
        """One line per operand the step updates; operands inside a collapsed module
        (not drawn) are collected in ``hidden``, by module."""
        node = event.node
        _, local_texts = self._formula(node, here)
        name = self._called(node, here)
        g = self._fmt(event.grad)
        lines = []
        for i, update in enumerate(event.updates):
            if self._record_of(update.parent) is None:
                inside = hidden.setdefault(self.element[update.parent] or "", [])
                if update.parent not in inside:
                    inside.append(update.parent)
                continue
            parent = self._called(update.parent, here)
            line = _join("grad(", parent, ") += grad(", name, ") × ",
                         _factor(local_texts[update.slot]),
                         f" = {g} × {self._fmt(update.local)} = "
                         f"{self._fmt(event.grad * update.local)}")
            if not update.first:
                line = _join(line, ", so grad(", parent, f") = {self._fmt(update.after)}")
            last_use = all(u.parent is not update.parent for u in event.updates[i + 1:])
            if update.parent in event.final and last_use:
                line = _join(line, " (final)")
            lines.append(line)
        if not event.updates:
            lines.append(_join(name, "'s operands are constants: no gradient to pass on"))
        return lines

    def _hidden_line(self, element: str, nodes: list[Value]) -> Text:
        """The gradients a collapsed module's step changes inside it, in one sentence:
        ``6 gradients inside neuron 15 of layer 0 are updated too: dot, w.0, w.1, w.2,
        w.3 and b``."""
        path = self.module_of.get(element, "")
        names = [self._called(n, path) for n in nodes]
        where = f" inside {_module_phrase(path)}" if path else ""
        verb = "is" if len(nodes) == 1 else "are"
        return _join(f"{_count(len(nodes), 'gradient')}{where} {verb} updated too: ",
                     _and(names))

    # -- the panel of each node ----------------------------------------------------

    def panels(self) -> dict[str, dict[str, Any]]:
        return {element: self._panel(element, node) for element, node in self.shown.items()}

    def _panel(self, element: str, node: Value) -> dict[str, Any]:
        rows: list[list[str]] = []
        if element in self.module_of:
            path = self.module_of[element]
            members = self.groups[path]
            parameters = [n for n in members if n in self.naming.parameters]
            title = path
            kind = KINDS["module"][1] + ": " + self.naming.module_types.get(path, "module")
            rows.append(["output", f"{self.names[node]} = {self._fmt(node.data)}"])
            rows.append(["grad of the output", self._fmt(self.final_grads.get(node, 0.0))])
            rows.append(["parameters", str(len(parameters))])
            prefix = path + "."
            listed = [[self.names[p].removeprefix(prefix),
                       f"{self._fmt(p.data)}, grad {self._fmt(self.final_grads.get(p, 0.0))}"]
                      for p in parameters[:MAX_PARAMETERS_LISTED]]
            if len(parameters) > MAX_PARAMETERS_LISTED:
                listed.append(["…", f"{len(parameters) - MAX_PARAMETERS_LISTED} more"])
            panel = {"title": title, "kind": kind, "rows": rows, "parameters": listed}
        else:
            kind = KINDS[self.naming.kind(node, self.root)][1]
            rows.append(["value", self._fmt(node.data)])
            if node._operation is _CONSTANT:
                rows.append(["grad", "none: a constant gets no gradient"])
            elif node is self.root:
                rows.append(["grad", "1: the output, where the backward pass starts"])
            else:
                rows.append(["grad", f"{self._fmt(self.final_grads.get(node, 0.0))} "
                                     "(after the whole backward pass)"])
            panel = {"title": self.names[node], "kind": kind, "rows": rows}
            if node._parents:
                here = self.module.get(node)
                panel["made"] = _compact(self._forward_line(node, here))
                panel["op"] = node.op
                _, local_texts = self._formula(node, here)
                derivatives = []
                for parent, text, d in zip(node._parents, local_texts,
                                           local_derivatives(node)):
                    if parent._operation is _CONSTANT:
                        continue
                    value = self._fmt(d)
                    derivatives.append(_compact(_join(
                        "∂", self._called(node, here), "/∂", self._called(parent, here), " = ",
                        text, f" = {value}" if value != _plain(text) else "")))
                panel["locals"] = derivatives
        if node._operation is not _CONSTANT and node is not self.root:
            panel["paths"] = self._paths_panel(node)
        return panel

    def _paths_panel(self, node: Value) -> dict[str, Any]:
        num_paths, paths, children = _paths(self.order, self.root, node, MAX_PATHS_LISTED)
        grad = self.final_grads.get(node, 0.0)
        name = self.names[node]
        result: dict[str, Any] = {"count": num_paths, "grad": self._fmt(grad)}
        if paths is None:
            uses = []
            for consumer, d, slot in children.get(node, []):
                g = self.final_grads.get(consumer, 0.0)
                uses.append({"path": self._path_code((node, consumer), (slot,)),
                             "product": f"grad({self.names[consumer]}) × local = "
                                        f"{self._fmt(g)} × {self._fmt(d)} = {self._fmt(g * d)}"})
            result.update(items=uses, rule=(
                f"{num_paths} paths are too many to list: node by node, grad({name}) = "
                "Σ over its uses of grad(use) × local derivative"))
            return result
        items = [{"path": self._path_code(path.nodes, path.slots),
                   "product": " × ".join(self._fmt(f) for f in path.factors)
                   + f" = {self._fmt(path.product)}"}
                  for path in paths[: self.max_paths]]
        result["items"] = items
        if len(paths) > self.max_paths:
            rest = sum(path.product for path in paths[self.max_paths:])
            result["more"] = (f"… and {len(paths) - self.max_paths} more paths, "
                              f"contributing {self._fmt(rest)}")
        total = self._fmt(sum(path.product for path in paths))
        result["sum"] = (f"sum of the {len(paths)} paths = {total} = grad({name})"
                         if len(paths) != 1 else f"one path: grad({name}) = {total}")
        return result

    def _path_code(self, nodes: tuple[Value, ...], slots: tuple[int, ...]) -> list[int]:
        """A path for the page: [first node, then each next node and the operand slot by
        which the path enters it] as topological indices; the page's script names the
        nodes and finds the edges to light up (see ``pathParts`` in explorer.js)."""
        code = [self.index[nodes[0]]]
        for node, slot in zip(nodes[1:], slots):
            code += [self.index[node], slot]
        return code

    def data(self) -> dict[str, Any]:
        return {"frames": self._changes, "titles": self._titles, "lines": self._lines,
                "fields": self.fields,
                "parts": self.parts, "panels": self.panels(),
                "valueElements": list(self.shown), "collapsed": self.collapsed,
                "names": [self.names[node] for node in self.order],
                # nodes with an operand used twice (x * x): a path names the slot it takes
                "repeated": [i for i, node in enumerate(self.order)
                             if len(set(map(id, node._parents))) < len(node._parents)],
                "elementOf": [self.element[node] for node in self.order]}


#: text the page shows: strings, and names as (shown, full name): the page shows the
#: full dotted name of a name read from inside a module on hover
Part = str | tuple[str, str]
Text = list[Part]


def _join(*items: Part | Text) -> Text:
    """One text of strings, names and texts, adjacent strings merged."""
    text: Text = []

    def add(item: Any) -> None:
        if isinstance(item, list):
            for part in item:
                add(part)
        elif isinstance(item, str) and text and isinstance(text[-1], str):
            text[-1] += item
        elif item != "":
            text.append(item)

    for item in items:
        add(item)
    return text


def _plain(text: Text) -> str:
    """The text as read: names as shown."""
    return "".join(part if isinstance(part, str) else part[0] for part in text)


def _and(items: list[Any], keep: int = 6) -> Text:
    """``a, b and c``; ``a, b, c, d, e, … and 7 more`` beyond ``keep`` items."""
    if len(items) > keep:
        return _join(*(_join(item, ", ") for item in items[: keep - 1]),
                     f"… and {len(items) - keep + 1} more")
    if len(items) <= 1:
        return _join(*items)
    return _join(*(_join(item, ", ") for item in items[:-2]), items[-2], " and ", items[-1])


def _compact(text: Text) -> str | Text:
    """The text as one string when it names nothing on hover."""
    return _plain(text) if all(isinstance(part, str) for part in text) else text


def _factor(text: Text) -> Text:
    """A formula as a factor of a product: in parentheses when it is a sum or a
    difference (``1 - o × o``)."""
    return _join("(", text, ")") if re.search(r" [-+] ", _plain(text)) else text


def _listing(names: list[str], keep: int = 6) -> str:
    if len(names) <= keep:
        return ", ".join(names)
    return f"{', '.join(names[:keep - 1])}, … and {len(names) - keep + 1} more"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _clean_svg(svg: str) -> str:
    """The SVG element alone: no XML prolog, comments, tooltips (``<title>``) or the
    font family repeated on every text (the page's style sets it once)."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    svg = svg.replace(' font-family="Helvetica,sans-Serif"', "")
    return re.sub(r"<title>.*?</title>\s*", "", svg, flags=re.S)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
