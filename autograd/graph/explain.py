"""explain: a derivative written out as the sum over paths of the products of the
local derivatives along them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine import _CONSTANT, Value, topological_order
from .naming import _fmt, _Naming, _unique_names
from .steps import _backward_state, local_derivatives

__all__ = ["Derivation", "explain"]

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
    naming = _Naming(names, None, who="explain")
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}

    display = _unique_names(order, root, naming, precision)

    def name_of(node: Value) -> str:
        return display.get(node) or naming.name(node) or "wrt"

    root_name, wrt_name = name_of(root), name_of(wrt)
    head = f"d{root_name}/d{wrt_name}"
    if wrt not in index:
        text = (f"{head} = 0: {wrt_name} is not part of the graph that computed {root_name}, "
                "so no path leads from it to the output")
        return Derivation(root_name, wrt_name, 0.0, 0, [], text)

    state = _backward_state(order, root, None)
    total = state.grads.get(wrt, 0.0) if wrt._operation is not _CONSTANT else 0.0
    num_paths, all_paths, children = _paths(order, root, wrt)
    lines = [f"{head} = sum over {num_paths} path{'s' if num_paths != 1 else ''} from "
             f"{wrt_name} to {root_name} of the product of the local derivatives along it"]
    shown: list[tuple[tuple[str, ...], tuple[float, ...], float]] = []
    if root is wrt:
        lines = [f"{head} = 1 ({root_name} is the output itself)"]
    elif all_paths is not None:
        for path in all_paths:
            path_names = (name_of(path.nodes[0]),
                          *(name_of(n) + _slot_text(n, slot)
                            for n, slot in zip(path.nodes[1:], path.slots)))
            shown.append((path_names, path.factors, path.product))
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
            lines.append(f"  via {name_of(node)}{_slot_text(node, slot)}: {_fmt(g, precision)} × "
                         f"{_fmt(d, precision)}"
                         f" = {_fmt(g * d, precision)}")
    lines.append(f"  total {head} = {_fmt(total, precision)}")
    if wrt._operation is _CONSTANT:
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


MAX_PATHS_ENUMERATED = 10_000  # more paths than this are counted, not listed


@dataclass(frozen=True)
class _Path:
    """One path wrt → ... → root: its nodes, the operand slot (0-based) by which it
    enters each next node, and the local derivatives along it."""

    nodes: tuple[Value, ...]
    slots: tuple[int, ...]
    factors: tuple[float, ...]

    @property
    def product(self) -> float:
        return _product(self.factors)


_Children = dict[Value, list[tuple[Value, float, int]]]


def _paths(order: list[Value], root: Value, wrt: Value, limit: int = MAX_PATHS_ENUMERATED
           ) -> tuple[int, list[_Path] | None, _Children]:
    """(number of paths from ``wrt`` to ``root``, every path largest contribution first
    -- None when there are more than ``limit`` --, the edges of the
    sub-graph between them: node -> [(consumer, local derivative, operand slot)])."""
    index = {node: i for i, node in enumerate(order)}
    children: _Children = {}
    if wrt not in index:
        return 0, [], children
    reaches = {wrt}
    count = {wrt: 1}
    for node in order[index[wrt] + 1:]:
        if not node._parents:
            continue
        locals_ = local_derivatives(node)
        for slot, (parent, d) in enumerate(zip(node._parents, locals_)):
            if parent in reaches:  # one edge per operand occurrence (a + a has two)
                children.setdefault(parent, []).append((node, d, slot))
                count[node] = count.get(node, 0) + count[parent]
        if node in count:
            reaches.add(node)
    num_paths = 1 if root is wrt else count.get(root, 0)
    if num_paths > limit:
        return num_paths, None, children
    paths = [_Path(*found) for found in _enumerate_paths(wrt, root, children)]
    paths.sort(key=lambda path: -abs(path.product))
    return num_paths, paths, children


def _slot_text(node: Value, slot: int) -> str:
    """"[i]" when the path enters ``node`` by one of several identical operands."""
    repeated = sum(p is node._parents[slot] for p in node._parents) > 1
    return f"[{slot + 1}]" if repeated else ""


def _enumerate_paths(
    start: Value, end: Value, children: _Children
) -> Iterator[tuple[tuple[Value, ...], tuple[int, ...], tuple[float, ...]]]:
    """Every path start → end along ``children`` edges (nodes, operand slots,
    local derivatives), iteratively. A partial path is a linked list (node, slot,
    local derivative, the path before it), written out only when it reaches ``end``: a
    long path costs its length, not the square of it."""
    stack: list[Any] = [(start, None, None, None)]
    while stack:
        link = stack.pop()
        node = link[0]
        if node is end:
            nodes, slots, factors = [], [], []
            while link is not None:
                node, slot, d, link = link
                nodes.append(node)
                if link is not None:
                    slots.append(slot)
                    factors.append(d)
            yield tuple(reversed(nodes)), tuple(reversed(slots)), tuple(reversed(factors))
            continue
        for child, d, slot in reversed(children.get(node, [])):
            stack.append((child, slot, d, link))
