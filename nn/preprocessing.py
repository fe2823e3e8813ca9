"""Preprocessing kept inside a model (``Standardize``) and the ``Classifier`` that
wraps a network with it and the class names, saved and loaded as one model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Value

from .model_files import MAX_PARAMETERS, MODULE_TYPES, _fields, module_from_config
from .module import Module

__all__ = ["Classifier", "Standardize"]


class Standardize(Module):
    """x -> (x - mean) / scale, feature by feature: preprocessing learned on the
    training data, kept inside the model so that a saved model works on raw
    measurements. It has no parameters (mean and scale are fixed, saved in its config).

    Numbers in, numbers out; Values in, Values out (then it is differentiable with
    respect to the inputs).
    """

    def __init__(self, mean: Sequence[float], scale: Sequence[float]) -> None:
        mean = [float(m) for m in mean]
        scale = [float(s) for s in scale]
        if not mean or len(mean) != len(scale):
            raise ValueError(f"Standardize: mean and scale need the same number (>= 1) of "
                             f"features, got {len(mean)} and {len(scale)}")
        if not all(math.isfinite(m) for m in mean) or not all(
            math.isfinite(s) and s > 0.0 for s in scale
        ):
            raise ValueError("Standardize: mean must be finite and scale finite and > 0")
        self._mean = tuple(mean)
        self._scale = tuple(scale)

    @classmethod
    def fit(cls, X: Any) -> Standardize:
        """Mean and standard deviation of each column of ``X`` (a constant column keeps
        scale 1: it is only centred)."""
        from .data import Standardizer  # (the statistics are computed in one place)

        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"Standardize.fit: expected a matrix (n, features), got shape "
                             f"{X.shape}")
        statistics = Standardizer().fit(X)
        return cls(statistics.mean, statistics.std)

    def transform(self, X: Any) -> np.ndarray:
        """(X - mean) / scale for a matrix of samples, as numbers (no graph)."""
        return (np.asarray(X, dtype=float) - self._mean) / self._scale

    @property
    def nin(self) -> int:
        return len(self._mean)

    @property
    def mean(self) -> list[float]:
        return list(self._mean)

    @property
    def scale(self) -> list[float]:
        return list(self._scale)

    def forward(self, x: Sequence[Any]) -> list[Any]:
        """(x_i - mean_i) / scale_i for one sample."""
        try:
            count = len(x)
        except TypeError:
            count = None
        if count != self.nin:
            raise ValueError(f"{self!r} expects {self.nin} features, got "
                             f"{count if count is not None else type(x).__name__}")
        return [(xi - m) / s if isinstance(xi, Value) else (float(xi) - m) / s
                for xi, m, s in zip(x, self._mean, self._scale)]

    def config(self) -> dict[str, Any]:
        return {"type": "Standardize", "mean": list(self._mean), "scale": list(self._scale)}

    def __repr__(self) -> str:
        return f"Standardize(nin={self.nin})"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Standardize:
        def numbers(x: Any) -> bool:
            return type(x) is list and 0 < len(x) <= MAX_PARAMETERS and all(
                type(v) in (int, float) for v in x)

        mean, scale = _fields(config, "Standardize", mean=numbers, scale=numbers)
        return cls(mean, scale)


class Classifier(Module):
    """A trained classifier, ready for raw data: optional preprocessing (a
    :class:`Standardize`), then a network whose outputs are the logits of the
    named ``classes``. Saved and loaded as one model.

    ``classifier(x)`` returns the logits; ``predict(X)`` the class indices and
    ``predict_proba(X)`` the softmax probabilities, for one sample or a matrix.
    """

    def __init__(self, network: Module, classes: Sequence[str],
                 preprocess: Module | None = None) -> None:
        classes = [str(c) for c in classes]
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ValueError(f"Classifier: needs two or more distinct class names, got "
                             f"{classes!r:.80}")
        outputs = network.config().get("nouts", [None])[-1]
        if outputs is not None and outputs != len(classes):
            raise ValueError(f"Classifier: the network has {outputs} outputs for "
                             f"{len(classes)} classes")
        self.preprocess = preprocess
        self.network = network
        self._classes = tuple(classes)

    @property
    def classes(self) -> list[str]:
        return list(self._classes)

    @property
    def nin(self) -> int:
        return (self.preprocess or self.network).nin

    def forward(self, x: Sequence[Any]) -> Any:
        """The class logits for one raw sample."""
        return self.network(x if self.preprocess is None else self.preprocess(x))

    def predict_proba(self, X: Any) -> np.ndarray:
        """softmax(logits): one row of class probabilities per sample (or one row)."""
        from autograd import no_grad, softmax

        X = np.asarray(X, dtype=float)
        rows = X[None, :] if X.ndim == 1 else X
        with no_grad():
            probabilities = np.array([[p.data for p in softmax(self(row))] for row in rows])
        return probabilities[0] if X.ndim == 1 else probabilities

    def predict(self, X: Any) -> Any:
        """The most probable class index, for one sample (an int) or each row."""
        probabilities = self.predict_proba(X)
        if probabilities.ndim == 1:
            return int(np.argmax(probabilities))
        return np.argmax(probabilities, axis=1)

    def config(self) -> dict[str, Any]:
        return {"type": "Classifier", "classes": list(self._classes),
                "preprocess": None if self.preprocess is None else self.preprocess.config(),
                "network": self.network.config()}

    def __repr__(self) -> str:
        preprocess = "" if self.preprocess is None else f"{self.preprocess!r} -> "
        return f"Classifier({preprocess}{self.network!r}, classes={list(self._classes)!r})"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Classifier:
        def names(x: Any) -> bool:
            return type(x) is list and 2 <= len(x) <= 100_000 and all(
                isinstance(c, str) and len(c) <= 200 for c in x)

        classes, preprocess, network = _fields(
            config, "Classifier", classes=names,
            preprocess=lambda x: x is None or isinstance(x, dict),
            network=lambda x: isinstance(x, dict))
        return cls(module_from_config(network), classes,
                   None if preprocess is None else module_from_config(preprocess))

MODULE_TYPES.update({cls.__name__: cls for cls in (Standardize, Classifier)})
