"""Preprocessing kept inside a model (``Standardize``), and the ``Classifier`` and
``Regressor`` that wrap a network with it and what the outputs mean (class names, the
target's units), saved and loaded as one model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Value

from .model_files import MAX_PARAMETERS, MODULE_TYPES, _fields, module_from_config
from .module import Module

__all__ = ["Classifier", "Regressor", "Standardize"]


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


def _names(x: Any, least: int = 1) -> bool:
    return type(x) is list and least <= len(x) <= 100_000 and all(
        isinstance(c, str) and len(c) <= 200 for c in x)


def _name(x: Any) -> bool:
    return isinstance(x, str) and len(x) <= 200


class _Predictor(Module):
    """What a Classifier and a Regressor share: optional preprocessing, a network, and
    the names of the data's columns (``features``, ``target``) when they are known, so
    that ``chainrule predict`` can find its columns in a CSV file by name."""

    def __init__(self, network: Module, preprocess: Module | None,
                 features: Sequence[str] | None, target: str | None) -> None:
        self.preprocess = preprocess
        self.network = network
        nin = (preprocess or network).nin
        if features is not None:
            features = tuple(str(f) for f in features)
            if len(features) != nin or len(set(features)) != len(features):
                raise ValueError(f"{type(self).__name__}: features must be {nin} distinct "
                                 f"names (one per input), got {list(features)!r:.80}")
        self._features = features
        self._target = None if target is None else str(target)

    @property
    def nin(self) -> int:
        return (self.preprocess or self.network).nin

    @property
    def features(self) -> list[str] | None:
        """The feature columns' names the model was trained on (None when unknown)."""
        return None if self._features is None else list(self._features)

    @property
    def target(self) -> str | None:
        """The target column's name the model was trained on (None when unknown)."""
        return self._target

    def _outputs(self, x: Sequence[Any]) -> Any:
        return self.network(x if self.preprocess is None else self.preprocess(x))

    def _rows(self, X: Any) -> tuple[np.ndarray, bool]:
        X = np.asarray(X, dtype=float)
        return (X[None, :] if X.ndim == 1 else X), X.ndim == 1

    def _columns_config(self) -> dict[str, Any]:
        names: dict[str, Any] = {}
        if self._features is not None:
            names["features"] = list(self._features)
        if self._target is not None:
            names["target"] = self._target
        return names


class Classifier(_Predictor):
    """A trained classifier, ready for raw data: optional preprocessing (a
    :class:`Standardize`), then a network whose outputs are the logits of the
    named ``classes``. Saved and loaded as one model.

    ``classifier(x)`` returns the logits; ``predict(X)`` the class indices and
    ``predict_proba(X)`` the softmax probabilities, for one sample or a matrix.
    ``features`` and ``target`` optionally name the data's columns.
    """

    def __init__(self, network: Module, classes: Sequence[str],
                 preprocess: Module | None = None, *, features: Sequence[str] | None = None,
                 target: str | None = None) -> None:
        classes = [str(c) for c in classes]
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ValueError(f"Classifier: needs two or more distinct class names, got "
                             f"{classes!r:.80}")
        outputs = network.config().get("nouts", [None])[-1]
        if outputs is not None and outputs != len(classes):
            raise ValueError(f"Classifier: the network has {outputs} outputs for "
                             f"{len(classes)} classes")
        super().__init__(network, preprocess, features, target)
        self._classes = tuple(classes)

    @property
    def classes(self) -> list[str]:
        return list(self._classes)

    def forward(self, x: Sequence[Any]) -> Any:
        """The class logits for one raw sample."""
        return self._outputs(x)

    def predict_proba(self, X: Any) -> np.ndarray:
        """softmax(logits): one row of class probabilities per sample (or one row)."""
        from autograd import no_grad, softmax

        rows, one = self._rows(X)
        with no_grad():
            probabilities = np.array([[p.data for p in softmax(self(row))] for row in rows])
        return probabilities[0] if one else probabilities

    def predict(self, X: Any) -> Any:
        """The most probable class index, for one sample (an int) or each row."""
        probabilities = self.predict_proba(X)
        if probabilities.ndim == 1:
            return int(np.argmax(probabilities))
        return np.argmax(probabilities, axis=1)

    def config(self) -> dict[str, Any]:
        return {"type": "Classifier", "classes": list(self._classes),
                "preprocess": None if self.preprocess is None else self.preprocess.config(),
                "network": self.network.config(), **self._columns_config()}

    def __repr__(self) -> str:
        preprocess = "" if self.preprocess is None else f"{self.preprocess!r} -> "
        return f"Classifier({preprocess}{self.network!r}, classes={list(self._classes)!r})"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Classifier:
        classes, preprocess, network, features, target = _fields(
            config, "Classifier", optional={"features": None, "target": None},
            classes=lambda x: _names(x, 2),
            preprocess=lambda x: x is None or isinstance(x, dict),
            network=lambda x: isinstance(x, dict), features=_names, target=_name)
        return cls(module_from_config(network), classes,
                   None if preprocess is None else module_from_config(preprocess),
                   features=features, target=target)


class Regressor(_Predictor):
    """A trained regression model, ready for raw data: optional preprocessing, then a
    network with one output, in the target's units::

        y_hat = network(preprocess(x)) * target_scale + target_mean

    The network learns the standardized target (y - target_mean) / target_scale, so one
    learning rate suits targets of any size. ``regressor(x)`` returns y_hat as a Value
    (differentiable); ``predict(X)`` numbers, for one sample or a matrix.
    """

    def __init__(self, network: Module, preprocess: Module | None = None,
                 target_mean: float = 0.0, target_scale: float = 1.0, *,
                 features: Sequence[str] | None = None, target: str | None = None) -> None:
        outputs = network.config().get("nouts", [None])[-1]
        if outputs is not None and outputs != 1:
            raise ValueError(f"Regressor: the network has {outputs} outputs; a regressor "
                             "predicts one number")
        target_mean, target_scale = float(target_mean), float(target_scale)
        if not (math.isfinite(target_mean) and math.isfinite(target_scale)
                and target_scale > 0):
            raise ValueError(f"Regressor: target_mean must be finite and target_scale "
                             f"finite and > 0, got {target_mean!r} and {target_scale!r}")
        super().__init__(network, preprocess, features, target)
        self.target_mean, self.target_scale = target_mean, target_scale

    def forward(self, x: Sequence[Any]) -> Any:
        """y_hat for one raw sample, in the target's units."""
        out = self._outputs(x)
        out = out[0] if isinstance(out, (list, tuple)) else out
        return out * self.target_scale + self.target_mean

    def predict(self, X: Any) -> Any:
        """y_hat as numbers: a float for one sample, an array for a matrix."""
        from autograd import no_grad

        rows, one = self._rows(X)
        with no_grad():
            values = np.array([self(row).data for row in rows], dtype=float)
        return float(values[0]) if one else values

    def config(self) -> dict[str, Any]:
        return {"type": "Regressor",
                "preprocess": None if self.preprocess is None else self.preprocess.config(),
                "network": self.network.config(), "target_mean": self.target_mean,
                "target_scale": self.target_scale, **self._columns_config()}

    def __repr__(self) -> str:
        preprocess = "" if self.preprocess is None else f"{self.preprocess!r} -> "
        return (f"Regressor({preprocess}{self.network!r} -> * {self.target_scale:g} + "
                f"{self.target_mean:g})")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regressor:
        def number(x: Any) -> bool:
            return type(x) in (int, float)

        preprocess, network, mean, scale, features, target = _fields(
            config, "Regressor", optional={"features": None, "target": None},
            preprocess=lambda x: x is None or isinstance(x, dict),
            network=lambda x: isinstance(x, dict), target_mean=number, target_scale=number,
            features=_names, target=_name)
        return cls(module_from_config(network),
                   None if preprocess is None else module_from_config(preprocess),
                   mean, scale, features=features, target=target)

MODULE_TYPES.update({cls.__name__: cls for cls in (Standardize, Classifier, Regressor)})
