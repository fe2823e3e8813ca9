"""Sums of products: the trace of ``sum(wi * xi for wi, xi in zip(w, x)) + b`` rewritten
as one ``dot`` node, the node ``nn.Neuron`` records, before code is written.

Code people bring -- the micrograd lecture's ``Neuron`` --
computes a neuron as ``sum((wi*xi for wi, xi in zip(self.w, x)), self.b)``: a chain of
``add`` nodes over ``mul`` nodes. The trace holds exactly that (``sum(..., b)`` starts
from ``b``: ``add(b, w0*x0)``; a plain ``sum(...)`` starts from the int 0, which the
engine records as a constant 0.0: ``add(0.0, w0*x0)``, and that 0.0 stays the chain's
first term, its bias: dropping it would turn eager's ``0.0 + -0.0 = 0.0`` into ``-0.0``,
which ``atan2`` or a division tells apart). :func:`fuse_sums` rewrites each
such chain into one n-ary node with ``dot``'s layout -- parents ``w_1..w_n, x_1..x_n`` and
an optional bias -- so the vectorizer packs a lecture layer into one matrix-vector
product, as it packs ``nn.Layer``'s dots, and the scalar code writes the chain as one
statement and one edge per weight and input.

What is fused: a left-deep chain of adds whose intermediate sums are used nowhere else,
over terms that are products used only there, plus at most one other term (the bias,
wherever it stands). A partial sum used elsewhere ends a chain: it stays a node of its own (fused
from below), and the rest of the chain starts from it as its bias. A product used
elsewhere is not a term but an ordinary operand -- the bias, if there is none yet. Where
a second operand that is not a product appears, the part before it is fused, its own
add stays an add, and the chain goes on from that sum (its bias).

The numbers: the fused node's scalar code (its op's ``code``) sums its terms in the
chain's own order, left to right, ``b + w0 * x0 + w1 * x1 + ...`` -- the additions eager
evaluation performs, so the scalar code's value and gradients are eager's bit for bit
(every local derivative of an add is 1.0 and of a product the other factor, exactly as
before). Where the vectorizer packs fused nodes into ``x @ W.T + b`` (or a ``vdot_``),
numpy sums in its own order, and the bias last: the same rounding difference nn.MLP's
packed dots already have, within jit's 1e-12 agreement with eager (tested per sample,
in batch, on random hand-written networks). One consequence at the edge of the float
range: eager refuses a partial sum that overflows (``1e308 + 1e308 - 1e308``); a
different order may not overflow, and then packed code answers where eager refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engine import Value
from ..ops import OPS, Op, _dot_forward, _dot_local
from .scalar import _ordered

__all__ = ["fuse_sums"]

_ADD, _MUL = OPS["add"], OPS["mul"]


def _sum_code(layout: tuple[int, ...]) -> Any:
    """The fused node's code: its forward sums the terms in the chain's order (``layout``:
    product k, or -1 for the bias), its local derivatives are dot's."""

    def code(inputs: list[str], out: str) -> tuple[str, list[str]]:
        n = len(inputs) // 2
        terms = [inputs[-1] if k < 0 else f"{inputs[k]} * {inputs[n + k]}" for k in layout]
        bias = ["1.0"] if len(inputs) % 2 else []
        return " + ".join(terms), [*inputs[n:2 * n], *inputs[:n], *bias]

    return code


def _fused_op(layout: tuple[int, ...]) -> Op:
    """A dot op (named "dot", so the vectorizer packs it) whose code keeps the order."""
    return Op("dot", "dot", _dot_forward, _dot_local, None, _sum_code(layout))


def _new_node(old: Value, op: Op, parents: tuple[Value, ...]) -> Value:
    """A node standing for ``old`` in the rewritten graph: its number (creation order),
    data and label, with a new op and parents. (Only the code generators read it.)"""
    node = object.__new__(Value)
    node._number = old._number
    node.data = old.data
    node.grad = 0.0
    node._operation = op
    node._parents = parents
    if old.label:
        node.label = old.label
    return node


def fuse_sums(out: Value, recorded: Sequence[Value],
              min_products: int = 1) -> tuple[Value, list[Value], int]:
    """The trace with its sums of products fused into dot nodes (see the module
    documentation): the new result, the new list of recorded nodes, and how many dot
    nodes were made. A fused node has at least ``min_products`` products (and two terms);
    nothing else changes, and the original nodes are left as they are."""
    order, _ = _ordered(out, recorded)
    uses: dict[Value, int] = {out: 1}
    for node in order:
        for parent in node._parents:
            uses[parent] = uses.get(parent, 0) + 1

    # an add whose left operand is an add used only there continues that chain
    inner: dict[Value, Value] = {}
    for node in order:
        if node._operation is _ADD:
            left, right = node._parents
            if left._operation is _ADD and uses[left] == 1 and left is not right:
                inner[node] = left
    continued = set(inner.values())

    def is_product(node: Value) -> bool:
        return node._operation is _MUL and uses[node] == 1

    # a chain end (an add no chain continues from) -> its segments, each ending at an
    # add; a fused segment's end becomes a dot node over the segment's terms
    fused: dict[Value, tuple[Value, ...]] = {}  # a segment's last add -> its terms
    absorbed: set[Value] = set()  # adds and products computed inside a dot node
    for end in order:
        if end._operation is not _ADD or end in continued:
            continue
        adds = [end]
        while adds[-1] in inner:
            adds.append(inner[adds[-1]])
        adds.reverse()  # adds[j] = operands[0] + ... + operands[j + 1]
        operands = [adds[0]._parents[0], *(a._parents[1] for a in adds)]
        start = 0  # (sum(...)'s 0.0 stays a term: 0.0 + -0.0 is 0.0, not -0.0)
        segments: list[tuple[int, int, list[Value]]] = []  # (first add, last add, terms)
        first, terms, others = 0, [], 0
        for j in range(start, len(operands)):
            term = operands[j]
            if not is_product(term) and others == 1:
                # a second bias: the segment so far ends before it, the add of this term
                # stays an add, and a new segment starts from its sum
                segments.append((first, j - 2, terms))
                first, terms = j, [adds[j - 1]]
                continue
            terms.append(term)
            others += not is_product(term)
        segments.append((first, len(adds) - 1, terms))
        for first, last, terms in segments:
            products = [t for t in terms if is_product(t)]
            if len(terms) >= 2 and len(products) >= min_products:
                fused[adds[last]] = tuple(terms)
                absorbed.update(adds[first:last], products)

    if not fused:
        return out, list(recorded), 0

    new: dict[Value, Value] = {}

    def mapped(node: Value) -> Value:
        return new.get(node, node)

    for node in order:
        if not node._parents or node in absorbed:
            continue
        if node in fused:
            terms = fused[node]
            products = [t for t in terms if is_product(t)]
            position = {t: k for k, t in enumerate(products)}
            layout = tuple(position.get(t, -1) for t in terms)
            parents = (*(mapped(p._parents[0]) for p in products),
                       *(mapped(p._parents[1]) for p in products),
                       *(mapped(t) for t in terms if t not in position))
            new[node] = _new_node(node, _fused_op(layout), parents)
        elif any(p in new for p in node._parents):
            new[node] = _new_node(node, node._operation, tuple(map(mapped, node._parents)))
    return (mapped(out), [mapped(node) for node in recorded if node not in absorbed],
            len(fused))

