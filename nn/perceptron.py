"""Rosenblatt's perceptron: a step-activated neuron with its own learning rule.

The step function's derivative is 0 wherever it exists, so backpropagation
cannot train it. Rosenblatt's rule does, one sample at a time:

    y_hat = step(w . x + b)
    w <- w + lr (y - y_hat) x,    b <- b + lr (y - y_hat)

On a linearly separable training set it stops after finitely many mistakes
(the perceptron convergence theorem).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import no_grad

from .layers import Neuron
from .model_files import MODULE_TYPES, _check_declared_budget, _fields, _size

__all__ = ["Perceptron"]


class Perceptron(Neuron):
    """A step-activated neuron with labels 0 and 1; ``fit`` runs the perceptron rule."""

    def __init__(self, nin: int, seed: Any = None) -> None:
        super().__init__(nin, activation="step", seed=seed)

    def config(self) -> dict[str, Any]:
        return {"type": "Perceptron", "nin": self.nin}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Perceptron:
        (nin,) = _fields(config, "Perceptron", nin=_size)
        _check_declared_budget(config)
        return cls(nin)

    @no_grad()
    def predict(self, X: Any) -> Any:
        """The predicted class: an int (0 or 1) for one sample ``x``, or an array of them
        for a matrix ``X`` with one sample per row (scikit-learn's convention)."""
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            return int(self(X).data)
        if X.ndim != 2 or X.shape[1] != self.nin:
            raise ValueError(
                f"Perceptron.predict: expected one sample of {self.nin} features or a matrix "
                f"of shape (n, {self.nin}), got shape {X.shape}"
            )
        return np.array([int(self(row).data) for row in X], dtype=int)

    @no_grad()
    def fit(self, X: Any, y: Any, lr: float = 1.0, max_epochs: int = 100) -> list[int]:
        """Run the perceptron rule until an epoch makes no mistake (or ``max_epochs``).

        Returns the number of mistakes in each epoch; the last is 0 when the data
        were separated.
        """
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[1] != self.nin or len(X) != len(y):
            raise ValueError(
                f"Perceptron.fit: expected X of shape (n, {self.nin}) and y of length n, "
                f"got {X.shape} and {y.shape}"
            )
        if not np.isin(y, (0, 1)).all():
            raise ValueError("Perceptron.fit: labels must be 0 or 1")
        mistakes_per_epoch = []
        for _ in range(max_epochs):
            mistakes = 0
            for xi, yi in zip(X, y):
                error = int(yi) - self.predict(xi)
                if error:
                    mistakes += 1
                    for w, x in zip(self.w, xi):
                        w.data += lr * error * float(x)
                    self.b.data += lr * error
            mistakes_per_epoch.append(mistakes)
            if mistakes == 0:
                break
        return mistakes_per_epoch


MODULE_TYPES["Perceptron"] = Perceptron
