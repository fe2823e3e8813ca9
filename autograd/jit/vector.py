"""Vector code generation: find the vectors in the scalar trace and emit numpy.

A traced MLP is thousands of scalar nodes, but they come in groups that do the same
thing to vectors -- the superword-level parallelism (SLP) a compiler packs into vector
instructions. This module packs two kinds of group, bottom-up from the parameters:

- a **dot pack**: dot nodes (one per neuron of a layer) that share their inputs and
  take their weights and biases from one list argument. Forward it is one
  matrix-vector product ``h = x @ W.T + b``; backward ``dW = outer(dh, x)``,
  ``db = dh`` and ``dx = dh @ W`` -- the chain rule of every edge of the layer at once.
- a **map pack**: the same unary operation (an activation) applied to every member
  of a pack, elementwise, with its local derivative elementwise.

A single dot or logsumexp whose operands form such vectors (the loss reading the
logits) becomes one vector expression too. Everything else stays one scalar statement
per node and per edge, reading pack members as ``h[j]``, so every trace still
compiles; a trace with no dot pack keeps the scalar code. Weights are read as views
of the parameter array where their positions are a regular grid (an nn.MLP's are), else
gathered by an index array. The same source runs per sample (vectors) and, generated
with ``batched``, on a batch (matrices: one row per sample).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine import _CONSTANT, Value
from ..ops import CODE_HELPERS
from .numpy_helpers import NUMPY_HELPERS
from .scalar import _is_number, _literal, _ordered, _safe_name, _term

__all__ = ["VECTOR_HELPERS", "vector_source"]


# ---------------------------------------------------------------------------
# The helpers the vector code calls; each works per sample (1-d) and on a batch (2-d).


def _outer(dh: Any, x: Any) -> Any:
    """Σ over samples of outer(dh, x): a layer's weight gradient."""
    dh, x = np.asarray(dh), np.asarray(x)
    if dh.ndim == 1 and x.ndim == 1:  # one sample
        return np.outer(dh, x)
    if x.ndim == 1:  # a batch whose layer input is the same for every sample
        x = np.broadcast_to(x, (len(dh), len(x)))
    elif dh.ndim == 1:
        dh = np.broadcast_to(dh, (len(x), len(dh)))
    return dh.T @ x


def _fit(value: Any, like: Any) -> Any:
    """``value`` summed over its leading (sample) axes down to the shape of ``like``."""
    value = np.asarray(value)
    extra = value.ndim - np.ndim(like)
    return value.sum(axis=tuple(range(extra))) if extra > 0 else value


def _vdot(a: Any, b: Any) -> Any:
    return (a * b).sum(-1) if np.ndim(a) > 1 or np.ndim(b) > 1 else a @ b


def _scale(d: Any, v: Any) -> Any:
    """d × v for a scalar (or per-sample) gradient d and a vector v."""
    return d[..., None] * v if np.ndim(d) else d * v


def _pack_zeros(pack: Any, seed: Any) -> Any:
    """A pack's gradient before any edge adds to it: one vector per sample of the seed
    (in a batch the pack itself may be the same for every sample: weights only)."""
    return np.zeros(np.shape(seed) + np.shape(pack)[-1:])


def _lse(v: Any) -> tuple[Any, Any]:
    """logsumexp over the last axis, m + log Σ exp(v - m) with m = max v, and its local
    derivative softmax(v) = exp(v - m) / Σ exp(v - m), from the same exponentials -- as
    the op table computes it (not exp(v - out): out is rounded at the scale of v, so at
    v = [1e17, 1e17] both would be 1 and the gradient would sum to 2)."""
    m = v.max(-1, keepdims=True)
    weights = np.exp(v - m)
    total = weights.sum(-1, keepdims=True)
    return (m + np.log(total))[..., 0][()], weights / total  # ([()]: one sample's a number)


VECTOR_HELPERS: dict[str, Any] = {
    "asarray_": lambda a: np.asarray(a, dtype=float),
    "zeros_": lambda a: np.zeros(np.shape(a)),
    "zeros_like_": np.zeros_like,
    "pack_zeros_": _pack_zeros,
    "seed_": lambda a: np.ones(np.shape(a)[0]),
    "add_at_": np.add.at,
    "outer_": _outer,
    "fit_": _fit,
    "vdot_": _vdot,
    "scale_": _scale,
    "lse_": _lse,
    **{f"np_{name}": helper for name, helper in NUMPY_HELPERS.items()},
}


# ---------------------------------------------------------------------------
# Packs


@dataclass(eq=False)
class _Gather:
    """Positions in list argument ``arg``: a (rows, columns) or (rows,) grid."""

    arg: int
    index: np.ndarray
    index_name: str = ""  # the constant holding ``index`` in the generated code, if any

    def expression(self, array: str, length: int, constants: dict[str, Any],
                   taken: set[str]) -> str:
        """Numpy source reading these positions of ``array`` (``length`` long): a view
        where the positions form a regular grid (base + r * row_step + c) whose block
        lies inside the array, else an index array."""
        view = self._view(array, length)
        return view if view is not None else f"{array}[{self._index(constants, taken)}]"

    def add(self, array: str, length: int, term: str, constants: dict[str, Any],
            taken: set[str]) -> str:
        """The statement adding ``term`` at these positions of ``array``: in place through
        the view, else ``np.add.at`` -- positions may repeat (a weight two neurons share),
        and ``array[index] += term`` would add only one of their terms."""
        view = self._view(array, length)
        if view is not None:
            return f"{view} += {term}"
        return f"add_at_({array}, {self._index(constants, taken)}, {term})"

    def _index(self, constants: dict[str, Any], taken: set[str]) -> str:
        if not self.index_name:
            self.index_name = _safe_name("index", taken)
            constants[self.index_name] = self.index
        return self.index_name

    def _view(self, array: str, length: int) -> str | None:
        """A view of ``array`` holding exactly these positions, if they form a grid."""
        index = self.index
        base = int(index.flat[0])
        if index.ndim == 1:
            step = int(index[1] - index[0]) if len(index) > 1 else 1
            if step > 0 and np.array_equal(index, base + step * np.arange(len(index))):
                stop = base + step * (len(index) - 1) + 1
                return f"{array}[{base}:{stop}:{step}]" if step > 1 else f"{array}[{base}:{stop}]"
        else:
            rows, columns = index.shape
            row_step = int(index[1, 0] - index[0, 0]) if rows > 1 else columns
            grid = base + row_step * np.arange(rows)[:, None] + np.arange(columns)[None, :]
            if (row_step >= columns and base + rows * row_step <= length
                    and np.array_equal(index, grid)):
                # (always a subscript at the end: it is assigned to, d_W[...] += ...)
                return (f"{array}[{base}:{base + rows * row_step}].reshape({rows}, {row_step})"
                        f"[:, :{columns}]")
        return None


@dataclass(eq=False)
class _Pack:
    """A group of isomorphic nodes computed as one vector ``name`` (member j at [j])."""

    kind: str  # "dot" or "map"
    members: list[Value]
    name: str = ""
    source: Any = None  # dot: the shared input vector; map: the pack it applies to
    weights: _Gather | None = None  # dot: rows = members
    bias: _Gather | None = None
    w_name: str = ""  # dot: the variable holding its weight matrix in the generated code

    @property
    def earliest(self) -> Value:
        """The member made first: the pack is computed where it was (its inputs exist by
        then) and differentiated there (every use of every member is later). A map's
        members follow its source's order, which need not be the order they were made."""
        return min(self.members, key=lambda member: member._number)


@dataclass(frozen=True)
class _ArgSlice:
    """Consecutive elements [start, stop) of list argument ``arg``."""

    arg: int
    start: int
    stop: int


class _Packer:
    """Finds the packs of a trace, bottom-up: dot packs over shared inputs, then the
    elementwise ops applied to every member of a pack, in creation order (so a layer's
    inputs are packed before the layer)."""

    def __init__(self, order: list[Value], reachable: set[Value],
                 position: dict[Value, tuple[int, int | None]]) -> None:
        self.reachable, self.position = reachable, position
        self.packs: list[_Pack] = []
        self.member_of: dict[Value, tuple[_Pack, int]] = {}
        self.consumers: dict[Value, list[Value]] = {}
        for node in order:
            for parent in node._parents:
                self.consumers.setdefault(parent, []).append(node)
        dots = [node for node in order if node._operation.name == "dot" and node in reachable]
        for node in dots:
            if node not in self.member_of:
                self._pack_dots(node, dots)
        self.packs.sort(key=lambda pack: pack.earliest._number)

    def vector_of(self, nodes: Sequence[Value]) -> _Pack | _ArgSlice | None:
        """The vector these nodes form, in this order: a whole pack, consecutive elements
        of a list argument, or None."""
        if not nodes:
            return None
        first = self.member_of.get(nodes[0])
        if first is not None and len(first[0].members) == len(nodes) and \
                all(a is b for a, b in zip(first[0].members, nodes)):
            return first[0]
        places = [self.position.get(node) for node in nodes]
        if all(p is not None and p[1] is not None for p in places):
            arg, start = places[0]
            if all(p == (arg, start + j) for j, p in enumerate(places)):
                return _ArgSlice(arg, start, start + len(nodes))
        return None

    def _gather(self, nodes: Sequence[Value]) -> tuple[int, list[int]] | None:
        """(argument, positions) when every node is an element of one list argument."""
        places = [self.position.get(node) for node in nodes]
        if not all(p is not None and p[1] is not None for p in places):
            return None
        args = {p[0] for p in places}
        return (args.pop(), [p[1] for p in places]) if len(args) == 1 else None

    def _pack_dots(self, node: Value, dots: list[Value]) -> None:
        n, has_bias = len(node._parents) // 2, len(node._parents) % 2 == 1
        for weights_first in (True, False):  # dot(w, x, b) as nn.Neuron calls it, or dot(x, w)
            def sides(d: Value, weights_first: bool = weights_first
                      ) -> tuple[tuple[Value, ...], tuple[Value, ...]]:
                w, x = d._parents[:n], d._parents[n:2 * n]
                return (w, x) if weights_first else (x, w)

            shared = sides(node)[1]
            group = [d for d in dots if d not in self.member_of
                     and len(d._parents) == len(node._parents)
                     and all(a is b for a, b in zip(sides(d)[1], shared))]
            source = self.vector_of(shared)
            rows = [self._gather(sides(d)[0]) for d in group]
            biases = [self._gather(d._parents[-1:]) for d in group] if has_bias else []
            if (len(group) < 2 or source is None or None in rows or None in biases
                    or len({r[0] for r in rows}) != 1 or len({b[0] for b in biases}) > 1):
                continue
            bias = (_Gather(biases[0][0], np.array([b[1][0] for b in biases]))
                    if has_bias else None)
            pack = _Pack("dot", group, source=source, bias=bias,
                         weights=_Gather(rows[0][0], np.array([r[1] for r in rows])))
            self._add(pack)
            self._pack_maps(pack)
            return

    def _pack_maps(self, pack: _Pack) -> None:
        """Pack the same unary op applied to every member, and so on down the chain."""
        queue = [pack]
        while queue:
            source = queue.pop()
            for candidate in self._unary_consumers(source.members[0]):
                members = [candidate]
                for member in source.members[1:]:
                    match = [c for c in self._unary_consumers(member)
                             if c._operation is candidate._operation]
                    if not match:
                        break
                    members.append(match[0])
                else:
                    mapped = _Pack("map", members, source=source)
                    self._add(mapped)
                    queue.append(mapped)

    def _unary_consumers(self, node: Value) -> list[Value]:
        return [c for c in self.consumers.get(node, [])
                if len(c._parents) == 1 and c in self.reachable and c not in self.member_of
                and c._operation.name in _ELEMENTWISE]  # (custom ops cannot take these names)

    def _add(self, pack: _Pack) -> None:
        self.packs.append(pack)
        for j, member in enumerate(pack.members):
            self.member_of[member] = (pack, j)


#: unary ops whose templates read only {0} and {out} and have numpy helpers
_ELEMENTWISE = {"exp", "log", "sqrt", "tanh", "sigmoid", "relu", "step", "abs", "sin", "cos",
                "tan", "atan", "sinh", "cosh", "log1p", "expm1", "neg", "asin", "acos"}


# ---------------------------------------------------------------------------
# Code generation


def vector_source(out: Value, names: list[str], placeholders: list[Any],
                  argnums: tuple[int, ...], recorded: Sequence[Value] = (),
                  batched: tuple[int, ...] | None = None) -> tuple[str, dict[str, Any]] | None:
    """The vectorized source of the trace and the constants it reads (index arrays), or
    None when the trace has no dot pack. ``batched``: generate the batch version, where
    these arguments hold one row per sample."""
    order, reachable = _ordered(out, recorded)
    position: dict[Value, tuple[int, int | None]] = {}
    for i, ph in enumerate(placeholders):
        if isinstance(ph, Value):
            position[ph] = (i, None)
        elif isinstance(ph, list):
            for j, element in enumerate(ph):
                position[element] = (i, j)
    packer = _Packer(order, reachable, position)
    dots = [pack for pack in packer.packs if pack.kind == "dot"]
    if not dots or out in packer.member_of:  # (f returning one member: keep it scalar)
        return None
    if batched is not None and any(
            pack.weights.arg in batched or (pack.bias is not None and pack.bias.arg in batched)
            for pack in dots):
        return None  # per-sample weights: the scalar batch code handles them
    return _Writer(out, names, placeholders, argnums, order, reachable, position, packer,
                   batched).source()


class _Writer:
    """Writes the vectorized source of one trace (see :func:`vector_source`)."""

    def __init__(self, out, names, placeholders, argnums, order, reachable, position, packer,
                 batched) -> None:
        self.out, self.placeholders, self.argnums = out, placeholders, argnums
        self.order, self.reachable, self.position = order, reachable, position
        self.packs, self.batched = packer.packs, batched
        packs = packer.packs
        self.batch = batched is not None
        self.constants: dict[str, Any] = {}
        self.taken: set[str] = set(VECTOR_HELPERS) | {"sum"}
        self.arg = [_safe_name(f"a_{name}", self.taken) for name in names]
        self.member: dict[Value, tuple[_Pack, int]] = {}
        for k, pack in enumerate(packs, 1):
            op = pack.members[0]._operation.name
            pack.name = _safe_name(f"h{k}" if pack.kind == "dot" else f"{op}{k}", self.taken)
            for j, member in enumerate(pack.members):
                self.member[member] = (pack, j)
        self.variable: dict[Value, str] = {}
        for i, ph in enumerate(placeholders):
            if isinstance(ph, Value):
                self.variable[ph] = _safe_name(names[i], self.taken)
        count = 0
        for node in order:
            if node._parents and node not in self.member:
                label = node.label or f"v{count}"
                count += not node.label
                self.variable[node] = _safe_name(label, self.taken)
        # list arguments read as vectors (by packs or vector expressions) become arrays
        self.array_args: set[int] = set()
        self.single_vector: dict[Value, list[Any]] = {}  # a dot / logsumexp over vectors
        vector_of = packer.vector_of
        for node in order:
            if node._parents and node not in self.member and node in reachable:
                if node._operation.name == "logsumexp":
                    v = vector_of(node._parents)
                    if v is not None:
                        self.single_vector[node] = [v]
                elif node._operation.name == "dot" and len(node._parents) > 3:
                    # (a dot of one product, w * x + b, is cheaper as a scalar statement)
                    n = len(node._parents) // 2
                    a, b = vector_of(node._parents[:n]), vector_of(node._parents[n:2 * n])
                    if a is not None and b is not None:
                        self.single_vector[node] = [a, b]
        for pack in packs:
            if pack.kind == "dot":
                self.array_args.add(pack.weights.arg)
                if pack.bias is not None:
                    self.array_args.add(pack.bias.arg)
                if isinstance(pack.source, _ArgSlice):
                    self.array_args.add(pack.source.arg)
        for vectors in self.single_vector.values():
            self.array_args.update(v.arg for v in vectors if isinstance(v, _ArgSlice))
        if self.batch:  # every list argument is an array there
            self.array_args.update(i for i, ph in enumerate(placeholders)
                                   if isinstance(ph, list))
        self.lines: list[str] = []
        self.grad: dict[Any, str] = {}  # node or pack -> its gradient variable
        self.arrays: list[str] = []  # array variables whose numbers must be finite
        self.numbers: list[str] = []
        self.softmax: dict[Value, str] = {}  # a logsumexp over a vector -> its derivative

    # -- references ------------------------------------------------------------

    def length(self, arg: int) -> int:
        return len(self.placeholders[arg])

    def index(self, j: int) -> str:
        return f"[..., {j}]" if self.batch else f"[{j}]"

    def ref(self, node: Value) -> str:
        if node in self.member:
            pack, j = self.member[node]
            return pack.name + self.index(j)
        if node in self.variable:
            return self.variable[node]
        place = self.position.get(node)
        if place is not None and place[1] is not None:
            return self.arg[place[0]] + self.index(place[1])
        return _literal(node.data)

    def vector(self, v: Any) -> str:
        if isinstance(v, _Pack):
            return v.name
        return f"{self.arg[v.arg]}[..., {v.start}:{v.stop}]"

    def emit(self, line: str) -> None:
        self.lines.append("    " + line)

    # -- the source -------------------------------------------------------------

    def source(self) -> tuple[str, dict[str, Any]]:
        head = [f"def compiled({', '.join(self.arg)}):",
                "    # generated by autograd.jit (vectorized) from the op table: do not edit"]
        for i, ph in enumerate(self.placeholders):
            if isinstance(ph, Value):
                self.emit(f"{self.variable[ph]} = {self.arg[i]}")
            elif not isinstance(ph, list):
                self.emit(f"# {self.arg[i]}: static, its value is part of this trace")
        for i in sorted(self.array_args):
            self.emit(f"{self.arg[i]} = asarray_({self.arg[i]})")
        self.emit("# forward: a vector statement per pack, a scalar statement per other node")
        first = {pack.earliest: pack for pack in self.packs}
        for node in self.order:
            if node in first:
                self.forward_pack(first[node])
            elif node._parents and node not in self.member:
                self.forward_scalar(node)
        self.emit("# backward: the chain rule, d_x += d_out * (d out / d x), a pack's edges at "
                  "once")
        self.arg_grads: dict[int, str] = {}
        for i in sorted(self.array_args):
            if i in self.argnums and isinstance(self.placeholders[i], list):
                self.arg_grads[i] = _safe_name(f"d_{self.arg[i]}", self.taken)
                self.emit(f"{self.arg_grads[i]} = zeros_({self.arg[i]})")
                self.arrays.append(self.arg_grads[i])
        if self.out._parents:
            self.grad[self.out] = _safe_name(f"d_{self.variable[self.out]}", self.taken)
            if self.batch:  # 1 for every sample: so is every gradient, and a sum over the
                # samples (an unbatched argument's gradient) counts each of them
                self.emit(f"{self.grad[self.out]} = seed_({self.arg[self.batched[0]]})")
            else:
                self.emit(f"{self.grad[self.out]} = 1.0")
        for node in reversed(self.order):
            if node in first:
                self.backward_pack(first[node])
            elif node._parents and node not in self.member and node in self.reachable:
                self.backward_scalar(node)
        tail = self.results()  # (adds the scalar parts of array gradients to the body)
        return "\n".join(head + self.lines + tail) + "\n", self.constants

    def forward_pack(self, pack: _Pack) -> None:
        members = len(pack.members)
        if pack.kind == "dot":
            n = len(pack.weights.index[0])
            arg = self.arg[pack.weights.arg]
            w_expr = pack.weights.expression(arg, self.length(pack.weights.arg),
                                             self.constants, self.taken)
            b_expr = (pack.bias.expression(self.arg[pack.bias.arg],
                                           self.length(pack.bias.arg), self.constants,
                                           self.taken) if pack.bias is not None else None)
            pack.w_name = _safe_name(f"W_{pack.name}", self.taken)
            self.emit(f"# {pack.name}[k] = dot(W[k], x) + b[k] for {members} dot nodes sharing "
                      f"their {n} inputs: one matrix-vector product")
            self.emit(f"{pack.w_name} = {w_expr}  # {members} x {n} weights of "
                      f"{self.arg[pack.weights.arg]}")
            bias = f" + {b_expr}" if b_expr else ""
            self.emit(f"{pack.name} = {self.vector(pack.source)} @ {pack.w_name}.T{bias}")
        else:
            op = pack.members[0]._operation
            template = _vectorized(op.code[0]).format(pack.source.name, out=pack.name)
            self.emit(f"{pack.name} = {template}  # {op.name} of each of the {members} "
                      f"members of {pack.source.name}")
        self.arrays.append(pack.name)

    def forward_scalar(self, node: Value) -> None:
        vectors = self.single_vector.get(node)
        name = self.variable[node]
        if vectors is not None and node._operation.name == "logsumexp":
            self.softmax[node] = _safe_name(f"softmax_{name}", self.taken)
            self.emit(f"{name}, {self.softmax[node]} = lse_({self.vector(vectors[0])})  "
                      "# logsumexp over a vector, and its derivative")
        elif vectors is not None:
            bias = f" + {self.ref(node._parents[-1])}" if len(node._parents) % 2 else ""
            self.emit(f"{name} = vdot_({self.vector(vectors[0])}, {self.vector(vectors[1])})"
                      f"{bias}  # dot of two vectors")
        else:
            fwd, _ = self.templates(node)
            self.emit(f"{name} = {fwd}  # {node._operation.name}")
        self.numbers.append(name)

    def templates(self, node: Value) -> tuple[str, list[str]]:
        inputs = [self.ref(p) for p in node._parents]
        code = node._operation.code
        if callable(code):
            return code(inputs, self.variable[node])
        template, local_templates = code
        return (template.format(*inputs, out=self.variable[node]),
                [t.format(*inputs, out=self.variable[node]) for t in local_templates])

    # -- backward -------------------------------------------------------------------

    # A gradient variable is accumulated by rebinding it (d = d + term), never in place:
    # in a batch d_u = d_v makes two names share one array. In place (+=) are only the
    # arrays this code made for that purpose -- a pack's gradient (zeros, or a product)
    # and an argument's -- which no other name shares.

    def add_grad(self, target: Value, term: str) -> None:
        """grad(target) += term, for a scalar term."""
        if target in self.member:
            pack, j = self.member[target]
            self.ensure_pack_grad(pack)
            self.emit(f"{self.grad[pack]}{self.index(j)} += {term}")
            return
        if target._operation is _CONSTANT:
            return  # its derivative is never used (nor checked), as in eager backward
        if target in self.grad:
            self.emit(f"{self.grad[target]} = {self.grad[target]} + {term}")
        else:  # (a leaf made inside f is a number in the code; eager checks its gradient)
            base = self.variable.get(target) or (self.ref(target) if target in self.position
                                                 else "leaf")
            self.grad[target] = _safe_name(f"d_{base}", self.taken)
            self.emit(f"{self.grad[target]} = {term}")
            self.numbers.append(self.grad[target])

    def ensure_pack_grad(self, pack: _Pack) -> None:
        if pack not in self.grad:
            self.grad[pack] = _safe_name(f"d_{pack.name}", self.taken)
            zeros = (f"pack_zeros_({pack.name}, {self.grad[self.out]})" if self.batch
                     else f"zeros_like_({pack.name})")
            self.emit(f"{self.grad[pack]} = {zeros}")
            self.arrays.append(self.grad[pack])

    def add_vector_grad(self, target: Any, term: str) -> None:
        """grad(vector target) += term, for a vector term."""
        if isinstance(target, _Pack):
            if target in self.grad:  # (every vector term is a new array: a product)
                self.emit(f"{self.grad[target]} = {self.grad[target]} + {term}")
            else:
                self.grad[target] = _safe_name(f"d_{target.name}", self.taken)
                self.emit(f"{self.grad[target]} = {term}")
                self.arrays.append(self.grad[target])
        elif target.arg in self.arg_grads:
            part = f"{self.arg_grads[target.arg]}[..., {target.start}:{target.stop}]"
            self.emit(f"{part} += {self.fit(term, part, target.arg)}")

    def fit(self, term: str, like: str, arg: int) -> str:
        """In a batch, a gradient reaching an unbatched argument is summed over samples."""
        return f"fit_({term}, {like})" if self.batch and arg not in self.batched else term

    def backward_scalar(self, node: Value) -> None:
        if node not in self.grad:
            self.check_scalar(node)
            return
        g = self.grad[node]
        vectors = self.single_vector.get(node)
        if vectors is not None and node._operation.name == "logsumexp":
            self.add_vector_grad(vectors[0], f"scale_({g}, {self.softmax[node]})")
            return
        if vectors is not None:
            a, b = vectors
            self.add_vector_grad(a, f"scale_({g}, {self.vector(b)})")
            self.add_vector_grad(b, f"scale_({g}, {self.vector(a)})")
            if len(node._parents) % 2:
                self.add_grad(node._parents[-1], g)
            return
        _, locals_ = self.templates(node)
        for parent, local in zip(node._parents, locals_):
            if parent._operation is not _CONSTANT and local != "0.0":
                self.add_grad(parent, _term(g, local))

    def backward_pack(self, pack: _Pack) -> None:
        if pack not in self.grad:
            self.check_pack(pack)
            return
        d = self.grad[pack]
        if pack.kind == "map":
            op = pack.members[0]._operation
            local = _vectorized(op.code[1][0]).format(pack.source.name, out=pack.name)
            self.emit(f"# {op.name}: d {pack.source.name}[k] += d {pack.name}[k] * "
                      f"({op.code[1][0].format('x', out='y')}) with x, y = "
                      f"{pack.source.name}[k], {pack.name}[k]")
            self.add_vector_grad(pack.source, f"{d} * ({local})")
            return
        x = self.vector(pack.source)
        self.emit(f"# {pack.name}: d W[k, i] += d {pack.name}[k] * x[i], d b[k] += "
                  f"d {pack.name}[k], d x[i] += Σ_k d {pack.name}[k] * W[k, i]")
        weights_arg = pack.weights.arg
        if weights_arg in self.arg_grads:
            self.emit(pack.weights.add(self.arg_grads[weights_arg], self.length(weights_arg),
                                       f"outer_({d}, {x})", self.constants, self.taken))
        bias = pack.bias
        if bias is not None and bias.arg in self.arg_grads:
            d_b, length = self.arg_grads[bias.arg], self.length(bias.arg)
            like = bias.expression(d_b, length, self.constants, self.taken)
            self.emit(bias.add(d_b, length, self.fit(d, like, bias.arg), self.constants,
                               self.taken))
        self.add_vector_grad(pack.source, f"{d} @ {pack.w_name}")

    def check_scalar(self, node: Value) -> None:
        """No gradient reaches the node (every path had a 0 factor): its local
        derivatives are still computed and checked, as eager backward does."""
        if node in self.single_vector:
            return  # logsumexp's and dot's local derivatives are finite where they are
        _, locals_ = self.templates(node)
        for parent, local in zip(node._parents, locals_):
            if parent._operation is not _CONSTANT and not _is_number(local):
                name = _safe_name("checked_local", self.taken)
                self.emit(f"{name} = {local}  # d {self.variable[node]} / d {self.ref(parent)}: "
                          "checked, no gradient flows")
                self.numbers.append(name)

    def check_pack(self, pack: _Pack) -> None:
        """No gradient reaches the pack; its local derivatives are still computed and
        checked, as eager backward does."""
        if pack.kind == "map":
            op = pack.members[0]._operation
            name = _safe_name(f"checked_{pack.name}", self.taken)
            local = _vectorized(op.code[1][0]).format(pack.source.name, out=pack.name)
            self.emit(f"{name} = {local}  # checked, no gradient flows")
            self.arrays.append(name)

    def results(self) -> list[str]:
        results = []
        for i in self.argnums:
            ph = self.placeholders[i]
            if isinstance(ph, list):
                if i in self.arg_grads:
                    target = self.arg_grads[i]
                    lines = []
                    for j, element in enumerate(ph):
                        if element in self.grad:
                            part = f"{target}{self.index(j)}"
                            lines.append(f"    {part} += "
                                         f"{self.fit(self.grad[element], part, i)}")
                    self.lines.extend(lines)
                    results.append(target)
                else:
                    results.append(f"[{', '.join(self.grad.get(e, '0.0') for e in ph)}]")
            elif self.out is ph and not ph._parents:
                results.append("1.0")
            else:
                results.append(self.grad.get(ph, "0.0"))
        value = self.ref(self.out)
        gradients = f"({', '.join(results)}{',' if len(results) == 1 else ''})"
        numbers = f"({', '.join(self.numbers)}{',' * (len(self.numbers) == 1)})"
        arrays = f"({', '.join(self.arrays)}{',' * (len(self.arrays) == 1)})"
        return ["    # returned: the value, the gradients, and every number and array computed",
                f"    return {value}, {gradients}, {numbers}, {arrays}"]


_HELPER_CALL = re.compile(r"\b(" + "|".join(sorted(CODE_HELPERS, key=len, reverse=True))
                          + r")\(")


def _vectorized(template: str) -> str:
    """An op template calling the numpy helpers (np_exp for exp, ...)."""
    return _HELPER_CALL.sub(r"np_\1(", template)
