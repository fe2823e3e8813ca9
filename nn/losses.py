"""Loss functions of one sample, and ``batch_loss`` to average any of them over a batch.

With logits o and a class index y, the softmax cross-entropy is

    L = -log softmax(o)_y = logsumexp(o) - o_y,      dL/do = softmax(o) - onehot(y),

computed without ever exponentiating a large number.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from autograd import Value, logsumexp

__all__ = [
    "LOSSES",
    "batch_loss",
    "binary_cross_entropy",
    "cross_entropy",
    "hinge_loss",
    "mse_loss",
    "nll_loss",
]


def _class_index(target: Any, n_classes: int, where: str) -> int:
    if type(target) is int and 0 <= target < n_classes:  # the common case, quickly
        return target
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise ValueError(f"{where}: target must be an integer class index, got {target!r}")
    if not 0 <= target < n_classes:
        raise ValueError(
            f"{where}: target {int(target)} is out of range for {n_classes} classes "
            f"(valid: 0 to {n_classes - 1})"
        )
    return int(target)


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) or hasattr(x, "__array__") else [x]


def cross_entropy(logits: Sequence[Value], target: int) -> Value:
    """Softmax cross-entropy: logsumexp(logits) - logits[target]. Stable for any logits."""
    logits = _as_list(logits)
    y = _class_index(target, len(logits), "cross_entropy")
    return logsumexp(logits) - logits[y]


def nll_loss(log_probs: Sequence[Value], target: int) -> Value:
    """Negative log-likelihood: -log_probs[target] (pair it with log_softmax)."""
    log_probs = _as_list(log_probs)
    return -log_probs[_class_index(target, len(log_probs), "nll_loss")]


def mse_loss(prediction: Value | Sequence[Value], target: Any) -> Value:
    """Mean squared error over the outputs: mean_i (prediction_i - target_i)^2."""
    predictions, targets = _as_list(prediction), _as_list(target)
    if len(predictions) != len(targets):
        raise ValueError(
            f"mse_loss: {len(predictions)} predictions but {len(targets)} targets"
        )
    return sum((p - t) ** 2 for p, t in zip(predictions, targets)) / len(predictions)


def binary_cross_entropy(probability: Value | Sequence[Value], target: Any) -> Value:
    """-(y log p + (1 - y) log(1 - p)) for a probability p in (0, 1) and a label y in {0, 1}."""
    (p,) = _one_output(probability, "binary_cross_entropy")
    y = target.data if isinstance(target, Value) else float(target)  # (a label: a number)
    if y not in (0.0, 1.0):
        raise ValueError(f"binary_cross_entropy: target must be 0 or 1, got {target!r}")
    p = p if isinstance(p, Value) else Value(p)
    if not 0.0 < p.data < 1.0:
        raise ValueError(
            f"binary_cross_entropy: probability {p.data!r} is not strictly between 0 and 1; "
            "feed it a sigmoid output (or use cross_entropy on logits)"
        )
    return -p.log() if y == 1.0 else -(1 - p).log()


def hinge_loss(score: Value | Sequence[Value], target: Any) -> Value:
    """max(0, 1 - y s) for a score s and a label y in {-1, +1} (0 is read as -1)."""
    (s,) = _one_output(score, "hinge_loss")
    if target not in (-1, 0, 1):
        raise ValueError(f"hinge_loss: target must be -1 or +1 (or 0 for -1), got {target!r}")
    y = 1.0 if target == 1 else -1.0
    return (1 - y * s).relu()


def _one_output(x: Any, where: str) -> list[Any]:
    outputs = _as_list(x)
    if len(outputs) != 1:
        raise ValueError(f"{where}: expects one output per sample, got {len(outputs)}")
    return outputs


def batch_loss(
    loss: Callable[[Any, Any], Value], outputs: Sequence[Any], targets: Sequence[Any]
) -> Value:
    """The mean of ``loss(output, target)`` over a batch of samples."""
    if len(outputs) != len(targets) or not outputs:
        raise ValueError(
            f"batch_loss: needs as many targets as outputs (at least one), "
            f"got {len(outputs)} outputs and {len(targets)} targets"
        )
    if len(outputs) == 1:  # per-sample SGD: the loss itself, no extra nodes
        return loss(outputs[0], targets[0])
    return sum(loss(o, t) for o, t in zip(outputs, targets)) / len(outputs)


LOSSES: dict[str, Callable[[Any, Any], Value]] = {
    "cross_entropy": cross_entropy,
    "nll": nll_loss,
    "mse": mse_loss,
    "binary_cross_entropy": binary_cross_entropy,
    "hinge": hinge_loss,
}
