"""The chain-rule graph: see how backpropagation computes every gradient.

``draw_dot(root)`` draws one record per Value (name, data, grad) and one small
node per operation. Every edge from an operand into an operation carries the
**local derivative** d(out)/d(operand) -- the factor the chain rule multiplies
along that edge -- so the picture can be checked by hand::

    grad(v) = sum over the edges leaving v of  grad(out) * local

``draw_dot(root, step=k)`` draws the same graph as it stands after the first
``k`` steps of one backward pass (see :func:`backward_steps`), and
``explain(root, wrt)`` writes d(root)/d(wrt) out as the sum over all paths of
the product of the local derivatives along each path. ``explore(root)`` puts all
of it on one interactive page: step through the forward and the backward pass,
click a node to see its paths.

One file per job: ``steps`` (the backward pass as steps), ``naming`` (what each
node is called), ``formulas`` (each op written out), ``draw`` (draw_dot),
``explain``, ``explore`` (with ``explorer.js`` and ``explorer.css``, the page's
script and style) and ``render`` (Graphviz).
"""

from .draw import DEFAULT_MAX_NODES, KINDS, draw_dot
from .explain import Derivation, explain
from .explore import Explorer, Frame, explore
from .render import ChainRuleGraph, GraphRenderTimeout, GraphTooLargeError, GraphvizNotFoundError
from .steps import backward_steps, local_derivatives

__all__ = [
    "DEFAULT_MAX_NODES",
    "KINDS",
    "ChainRuleGraph",
    "Derivation",
    "Explorer",
    "Frame",
    "GraphRenderTimeout",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "backward_steps",
    "draw_dot",
    "explain",
    "explore",
    "local_derivatives",
]
