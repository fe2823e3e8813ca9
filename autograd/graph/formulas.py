"""Each operation written out with its operands' names: the forward formula
``n = w × x`` and the local derivatives ``∂n/∂w = x``, as the explorer prints them.

The formulas come from the op table's code templates (the same text ``jit``
compiles), tidied for reading; a few ops whose templates call helpers with
unhelpful names have a display form here. A custom op is written as a call,
``name(a, b)``, and its local derivatives as ``∂n/∂a``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..engine import Value
from ..ops import OPS

#: forward formula and local derivatives, over {0}, {1} (operands) and {out}, for the ops
#: whose jit templates call helpers (None: the template reads well as it is)
_DISPLAY: dict[str, tuple[str | None, tuple[str, ...] | None]] = {
    "div": ("{0} / {1}", None),
    "pow": ("{0} ** {1}", ("{1} × {0} ** ({1} - 1)", "0")),
    "relu": (None, ("1[{0} > 0]",)),
    "step": ("1[{0} > 0]", None),
    "mod": ("{0} mod {1}", ("1", "-floor({0} / {1})")),
    "maximum": ("max({0}, {1})", ("1[{0} > {1}] (½ at a tie)", "1[{1} > {0}] (½ at a tie)")),
    "minimum": ("min({0}, {1})", ("1[{0} < {1}] (½ at a tie)", "1[{1} < {0}] (½ at a tie)")),
    "atan": (None, ("1 / (1 + {0} ** 2)",)),
    "atan2": (None, ("{1} / ({0} ** 2 + {1} ** 2)", "-{0} / ({0} ** 2 + {1} ** 2)")),
    "rpow": ("{0} ** {1}", ("0", "{out} × log({0})")),
    "powv": ("{0} ** {1}", ("{1} × {0} ** ({1} - 1)", "{out} × log({0})")),
    "stop_gradient": ("stop_gradient({0})", ("0 (stop_gradient)",)),
}

MAX_TERMS = 6  # a longer sum (a neuron's dot) is written with its first and last terms


def formulas(node: Value, operands: Sequence[str], out: str) -> tuple[str, list[str]]:
    """(forward formula, local derivative formulas in operand order) of ``node``'s
    operation, with the operands called ``operands`` and the result ``out``."""
    op = node._operation
    if OPS.get(op.name) is not op:  # a custom op: its code calls generated helpers
        forward = f"{op.name}({', '.join(operands)})"
        return forward, [f"∂{out}/∂{name}" for name in operands]
    display_forward, display_locals = _DISPLAY.get(op.name, (None, None))
    if callable(op.code):  # the template is a function of the operand names
        forward, locals_ = op.code(list(operands), out)
        if op.name == "logsumexp":  # (its code calls a helper): softmax_i = exp(x_i - out)
            locals_ = [f"exp({x} - {out})" for x in operands]
        elif display_locals:
            locals_ = [_fill(t, operands, out) for t in display_locals]
    else:
        forward_template, local_templates = op.code
        forward = _fill(display_forward or forward_template, operands, out)
        locals_ = [_fill(t, operands, out) for t in (display_locals or local_templates)]
    if display_forward and callable(op.code):
        forward = _fill(display_forward, operands, out)
    return _tidy(_shorten_sum(forward)), [_tidy(text) for text in locals_]


def _fill(template: str, operands: Sequence[str], out: str) -> str:
    return template.format(*operands, out=out)


def _tidy(text: str) -> str:
    """Code to reading: ``a * b`` -> ``a × b``, ``1.0`` -> ``1``."""
    text = text.replace(" * ", " × ")
    return re.sub(r"(?<![\w.])(\d+)\.0(?![\d\w])", r"\1", text)


def _shorten_sum(text: str) -> str:
    terms = text.split(" + ")
    if len(terms) <= MAX_TERMS:
        return text
    hidden = len(terms) - MAX_TERMS + 1
    return " + ".join([*terms[: MAX_TERMS - 2], f"…({hidden} more terms)…", terms[-1]])
