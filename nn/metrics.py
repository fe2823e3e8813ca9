"""Predictions, accuracy and the confusion matrix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd import Value, no_grad

__all__ = ["accuracy", "confusion_matrix", "predict"]


def _scores(output: Any) -> list[float]:
    outputs = output if isinstance(output, (list, tuple)) else [output]
    return [o.data if isinstance(o, Value) else float(o) for o in outputs]


@no_grad()
def predict(model: Callable[[Any], Any], X: Any, threshold: float = 0.0) -> np.ndarray:
    """Class predictions: the argmax of the outputs, or for a model with one output
    1 where it exceeds ``threshold`` (0 for logits and scores, 0.5 for probabilities).
    A :class:`~nn.Regressor` predicts numbers: its own ``predict``."""
    from .preprocessing import Regressor

    if isinstance(model, Regressor):
        return model.predict(np.asarray(X, dtype=float))
    predictions = []
    for x in np.asarray(X, dtype=float):
        scores = _scores(model(x))
        label = np.argmax(scores) if len(scores) > 1 else scores[0] > threshold
        predictions.append(int(label))
    return np.array(predictions, dtype=int)


def accuracy(
    model: Callable[[Any], Any], X: Any, y: Sequence[int], threshold: float = 0.0
) -> float:
    """The fraction of samples whose prediction (see :func:`predict`) equals the label."""
    from .preprocessing import Regressor

    if isinstance(model, Regressor):
        raise TypeError("accuracy: a Regressor predicts numbers, not classes; measure it "
                        "with its RMSE or R^2 (chainrule train prints both)")
    y = np.asarray(y)
    if len(y) == 0 or len(y) != len(X):
        raise ValueError(f"accuracy: X has {len(X)} samples and y has {len(y)}; need equal, > 0")
    return float(np.mean(predict(model, X, threshold) == y))


def confusion_matrix(
    y_true: Sequence[int], y_pred: Sequence[int], num_classes: int | None = None
) -> np.ndarray:
    """counts[i, j] = number of samples of true class i predicted as class j."""
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"confusion_matrix: {len(y_true)} true labels but {len(y_pred)} predictions"
        )
    if num_classes is None:
        num_classes = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    if (y_true < 0).any() or (y_pred < 0).any() or max(
        y_true.max(initial=0), y_pred.max(initial=0)
    ) >= num_classes:
        raise ValueError(f"confusion_matrix: labels must be in 0..{num_classes - 1}")
    counts = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts
