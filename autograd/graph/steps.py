"""The backward pass as a sequence of steps: what each step applies and the
gradients it leaves, independent of any drawing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..engine import _CONSTANT, Value, topological_order

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



def _safe_local_derivatives(node: Value) -> list[float | None]:
    try:
        return list(local_derivatives(node))
    except (ValueError, ZeroDivisionError, OverflowError):
        return [None] * len(node._parents)
