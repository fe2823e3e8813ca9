"""chainrule's scalar reverse-mode autograd engine.

Layout: ``ops`` (every operation's forward formula and local derivatives),
``engine`` (Value, topological order, backpropagation, no_grad),
``functional`` (grad, value_and_grad), ``functions`` (dot and the stable
softmax family), ``gradcheck`` (finite-difference checking), ``graph``
(draw_dot, explain, explore: the chain-rule graph) and ``jit`` (traced graphs compiled
to scalar or vectorized code).
"""

__chainrule__ = True  # tells chainrule's nn that this autograd is chainrule's (not HIPS')

from .custom import custom_op
from .engine import Value, enable_grad, is_grad_enabled, no_grad, topological_order
from .functional import grad, hessian, jacobian, jvp, value_and_grad
from .functions import dot, log_softmax, logsumexp, softmax
from .gradcheck import GradcheckError, gradcheck
from .graph import (
    ChainRuleGraph,
    Derivation,
    Explorer,
    GraphRenderTimeout,
    GraphTooLargeError,
    GraphvizNotFoundError,
    backward_steps,
    draw_dot,
    explain,
    explore,
    local_derivatives,
)
from .jit import JitError, JitFunction, jit
from .ops import (
    acos,
    asin,
    atan,
    atan2,
    cos,
    cosh,
    exp,
    expm1,
    log,
    log1p,
    maximum,
    minimum,
    relu,
    sigmoid,
    sin,
    sinh,
    sqrt,
    step,
    stop_gradient,
    tan,
    tanh,
)

__all__ = [
    "ChainRuleGraph",
    "Derivation",
    "Explorer",
    "GradcheckError",
    "GraphRenderTimeout",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "JitError",
    "JitFunction",
    "Value",
    "acos",
    "asin",
    "atan",
    "atan2",
    "backward_steps",
    "cos",
    "cosh",
    "custom_op",
    "dot",
    "draw_dot",
    "enable_grad",
    "exp",
    "explain",
    "explore",
    "expm1",
    "grad",
    "gradcheck",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "jit",
    "jvp",
    "local_derivatives",
    "log",
    "log1p",
    "log_softmax",
    "logsumexp",
    "maximum",
    "minimum",
    "no_grad",
    "relu",
    "sigmoid",
    "sin",
    "sinh",
    "softmax",
    "sqrt",
    "step",
    "stop_gradient",
    "tan",
    "tanh",
    "topological_order",
    "value_and_grad",
]
