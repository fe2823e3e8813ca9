"""The backward pass as a sequence of steps: what each step applies and the
gradients it leaves, independent of any drawing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from ..engine import _CONSTANT, Value, _backward_error, topological_order

__all__ = ["backward_steps", "local_derivatives"]

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
    rule = node._operation.local_grads
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


@dataclass(frozen=True)
class _Update:
    """One operand's share of a backward step: grad(parent) += grad(node) × local."""

    parent: Value
    slot: int  # the operand's place (0-based) among the node's parents
    local: float
    before: float
    after: float
    first: bool  # the first gradient to reach the parent in this pass


@dataclass(frozen=True)
class _Step:
    """One backward step: the node applied, its gradient, the update of each operand
    (constants get none) and the operands whose gradient is now final (no use of them
    is left to apply)."""

    node: Value
    grad: float
    updates: tuple[_Update, ...]
    final: tuple[Value, ...]


def _backward_events(order: list[Value], root: Value) -> Iterator[_Step]:
    """One backward pass from ``root`` (seeded with grad 1), step by step: the same
    rule, order and arithmetic as ``backward()``."""
    waiting = Counter(p for node in order for p in set(node._parents))  # uses left
    grads: dict[Value, float] = {root: 1.0}
    for node in _steps(order):
        g = grads.get(node, 0.0)
        try:
            locals_ = local_derivatives(node)
        except (ArithmeticError, ValueError) as error:
            raise _backward_error(node, error) from None
        updates = []
        for slot, (parent, d) in enumerate(zip(node._parents, locals_)):
            if parent._operation is not _CONSTANT:
                first = parent not in grads
                before = grads.get(parent, 0.0)
                grads[parent] = before + g * d
                updates.append(_Update(parent, slot, d, before, grads[parent], first))
        final = []
        for parent in dict.fromkeys(node._parents):
            waiting[parent] -= 1
            if waiting[parent] == 0:
                final.append(parent)
        yield _Step(node, g, tuple(updates), tuple(final))


@dataclass
class _BackwardState:
    grads: dict[Value, float]
    final: set[Value]
    applied: Value | None
    step: int
    steps: int


def _backward_state(order: list[Value], root: Value, step: int | None) -> _BackwardState:
    """Gradients after ``step`` steps of backprop from ``root`` (all steps if None)."""
    steps = len(_steps(order))
    if step is None:
        step = steps
    elif not (isinstance(step, int) and 0 <= step <= steps):
        raise ValueError(
            f"draw_dot: step must be an int from 0 to {steps} (the number of "
            f"operations in this graph), got {step!r}"
        )
    grads: dict[Value, float] = {root: 1.0}
    final = {root}
    applied = None
    for event in islice(_backward_events(order, root), step):
        grads[event.node] = event.grad
        for update in event.updates:
            grads[update.parent] = update.after
        final.update(event.final)
        applied = event.node
    return _BackwardState(grads, final, applied, step, steps)


def _safe_local_derivatives(node: Value) -> list[float | None]:
    try:
        return list(local_derivatives(node))
    except (ValueError, ZeroDivisionError, OverflowError):
        return [None] * len(node._parents)
