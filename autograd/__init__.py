"""chainrule's scalar reverse-mode autograd engine.

Layout: ``ops`` (every operation's forward formula and local derivatives),
``engine`` (Value, topological order, backpropagation, no_grad),
``functional`` (grad, value_and_grad), ``functions`` (dot and the stable
softmax family) and ``gradcheck`` (finite-difference checking).
"""

from .engine import Value, enable_grad, is_grad_enabled, no_grad, topological_order
from .functional import grad, value_and_grad
from .functions import dot, log_softmax, logsumexp, softmax
from .gradcheck import GradcheckError, gradcheck

__all__ = [
    "GradcheckError",
    "Value",
    "dot",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "log_softmax",
    "logsumexp",
    "no_grad",
    "softmax",
    "topological_order",
    "value_and_grad",
]
