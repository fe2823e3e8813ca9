"""Data: the Iris flowers and the digits (shipped with the package), two moons, your own
CSV files (:func:`load_csv`, from :mod:`nn.tabular`), splitting, scaling."""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
from importlib import resources
from typing import Any

import numpy as np

from autograd.files import read_bytes

from .tabular import MAX_CSV_BYTES, Table, load_csv

__all__ = [
    "DIGITS_CLASSES",
    "IRIS_CLASSES",
    "IRIS_FEATURES",
    "PLANE_DATASETS",
    "Standardizer",
    "Table",
    "load_csv",
    "load_digits",
    "load_iris",
    "make_circle",
    "make_gaussians",
    "make_moons",
    "make_spiral",
    "make_xor",
    "standardize",
    "train_test_split",
]

IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
IRIS_CLASSES = ("setosa", "versicolor", "virginica")


DIGITS_CLASSES = tuple(str(d) for d in range(10))



def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits: X of shape (1797, 64) with pixel values 0..16
    (float64, row by row of the image), y of shape (1797,) with the digit 0..9.

    The UCI optical-digits test set, bundled (source and licence: nn/DATASETS.md).
    ``X[i].reshape(8, 8)`` is the image.
    """
    raw = resources.files("nn").joinpath("digits.csv.gz").read_bytes()
    table = np.loadtxt(io.StringIO(gzip.decompress(raw).decode("ascii")), delimiter=",")
    if table.shape != (1797, 65):
        raise ValueError(f"digits.csv.gz (bundled): expected 1797 rows of 65 numbers, got "
                         f"{table.shape}; the package is damaged, reinstall chainrule")
    return table[:, :64].copy(), table[:, 64].astype(np.int64)


def load_iris(path: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The Iris data: X of shape (150, 4) in cm (float64), y of shape (150,) with
    0 = setosa, 1 = versicolor, 2 = virginica.

    Reads the copy inside the package unless ``path`` names another CSV with
    the same header. A malformed file raises ValueError naming the line.
    """
    if path is None:
        text = resources.files("nn").joinpath("iris.csv").read_text(encoding="utf-8")
        source = "iris.csv (bundled)"
    else:
        raw = read_bytes(path, MAX_CSV_BYTES, "CSV file of Iris measurements")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}: not UTF-8 text (byte {error.start} is invalid); give a "
                             "CSV file of Iris measurements") from None
        source = str(path)
    return _parse_iris(text, source)


def _parse_iris(text: str, source: str) -> tuple[np.ndarray, np.ndarray]:
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        return _iris_rows(rows, source)
    except csv.Error as error:  # a field beyond csv's limit, say
        raise ValueError(f"{source} line {rows.line_num}: not CSV ({error})") from None


def _iris_rows(rows: Any, source: str) -> tuple[np.ndarray, np.ndarray]:
    header = next(rows, None)
    expected = [*IRIS_FEATURES, "species"]
    if header is None or [h.strip() for h in header] != expected:
        raise ValueError(f"{source} line 1: expected the header {','.join(expected)}, got {header}")
    features, labels = [], []
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue  # blank lines are allowed
        if len(row) != 5:
            raise ValueError(
                f"{source} line {line}: expected 5 comma-separated fields, got {len(row)}"
            )
        try:
            values = [float(cell) for cell in row[:4]]
        except ValueError:
            raise ValueError(
                f"{source} line {line}: a measurement is not a number: {row[:4]}"
            ) from None
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"{source} line {line}: measurements must be finite, got {row[:4]}")
        species = row[4].strip().removeprefix("Iris-")
        if species not in IRIS_CLASSES:
            raise ValueError(
                f"{source} line {line}: unknown species {row[4]!r}; expected one of {IRIS_CLASSES}"
            )
        features.append(values)
        labels.append(IRIS_CLASSES.index(species))
    if not features:
        raise ValueError(f"{source}: no data rows")
    return np.array(features, dtype=np.float64), np.array(labels, dtype=np.int64)


def _check_sampling(who: str, n: Any, noise: float) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 2:
        raise ValueError(f"{who}: n_samples must be an int >= 2, got {n!r}")
    if not (isinstance(noise, (int, float, np.floating)) and math.isfinite(noise)
            and noise >= 0):
        raise ValueError(f"{who}: noise must be a finite number >= 0, got {noise!r}")


def _generator(seed: int | None) -> Any:
    return np.random if seed is None else np.random.default_rng(seed)


def _shuffled(X: np.ndarray, y: np.ndarray, rng: Any) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_moons(
    n_samples: int = 100, noise: float = 0.1, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 on top, class 1 below), with Gaussian noise.

    Returns X of shape (n_samples, 2) and y of shape (n_samples,) -- scikit-learn's
    ``make_moons`` shapes and argument names. ``seed`` makes it reproducible; without
    one it draws from numpy's global generator (``np.random.seed(k)`` fixes it).
    """
    n = n_samples
    _check_sampling("make_moons", n, noise)
    rng = _generator(seed)
    n_top = n // 2
    n_bottom = n - n_top
    t_top = np.linspace(0, np.pi, n_top)
    t_bottom = np.linspace(0, np.pi, n_bottom)
    top = np.column_stack([np.cos(t_top), np.sin(t_top)])
    bottom = np.column_stack([1 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)])
    X = np.vstack([top, bottom]) + rng.normal(0.0, noise, size=(n, 2))
    y = np.concatenate([np.zeros(n_top, dtype=np.int64), np.ones(n_bottom, dtype=np.int64)])
    order = rng.permutation(n)
    return X[order], y[order]


def make_circle(
    n_samples: int = 200, noise: float = 0.0, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """TensorFlow Playground's "circle": class 1 inside a disc of radius 2.5, class 0 on a
    ring from 3.5 to 5 around it (half the samples each), in the square [-6, 6]^2.

    ``noise`` (Playground's slider divided by 100: 0 to 0.5) moves each point by a
    uniform offset of up to ``5 * noise`` in x and in y, so the classes can overlap.
    Returns X of shape (n_samples, 2) and y of shape (n_samples,), shuffled.
    """
    _check_sampling("make_circle", n_samples, noise)
    rng = _generator(seed)
    inner = n_samples // 2
    outer = n_samples - inner
    radius = np.concatenate([rng.uniform(0.0, 2.5, inner), rng.uniform(3.5, 5.0, outer)])
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    X += rng.uniform(-5.0 * noise, 5.0 * noise, size=X.shape)
    y = np.concatenate([np.ones(inner, dtype=np.int64), np.zeros(outer, dtype=np.int64)])
    return _shuffled(X, y, rng)


def make_xor(
    n_samples: int = 200, noise: float = 0.0, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """TensorFlow Playground's "exclusive or": points uniform in [-5, 5]^2 (kept 0.3 away
    from the axes), class 1 where x1 and x2 have the same sign, 0 where they differ -- the
    classic problem no linear classifier solves.

    The class is decided before ``noise`` moves the point by up to ``5 * noise`` in each
    coordinate. Returns X (n_samples, 2) and y (n_samples,).
    """
    _check_sampling("make_xor", n_samples, noise)
    rng = _generator(seed)
    X = rng.uniform(0.3, 5.0, size=(n_samples, 2)) * rng.choice([-1.0, 1.0],
                                                                  size=(n_samples, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    X += rng.uniform(-5.0 * noise, 5.0 * noise, size=X.shape)
    return X, y


def make_gaussians(
    n_samples: int = 200, noise: float = 0.0, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """TensorFlow Playground's "gaussian": two round clouds, class 1 around (2, 2) and
    class 0 around (-2, -2), half the samples each, each coordinate with variance
    ``0.5 + 7 * noise`` (0.5 without noise: they hardly touch; at noise 0.5 they overlap).
    Returns X (n_samples, 2) and y (n_samples,), shuffled.
    """
    _check_sampling("make_gaussians", n_samples, noise)
    rng = _generator(seed)
    first = n_samples // 2
    spread = math.sqrt(0.5 + 7.0 * noise)
    centres = np.concatenate([np.tile([2.0, 2.0], (first, 1)),
                              np.tile([-2.0, -2.0], (n_samples - first, 1))])
    X = centres + rng.normal(0.0, spread, size=centres.shape)
    y = np.concatenate([np.ones(first, dtype=np.int64),
                        np.zeros(n_samples - first, dtype=np.int64)])
    return _shuffled(X, y, rng)


def make_spiral(
    n_samples: int = 200, noise: float = 0.0, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """TensorFlow Playground's "spiral": two arms winding out from the centre, half the
    samples each; point i of an arm at radius r = 5 i / m and angle 3.5 pi i / m (the
    second arm turned by pi), moved by up to ``noise`` in x and in y. The hardest of
    the four: it takes a few hidden layers.
    Returns X (n_samples, 2) and y (n_samples,), shuffled.
    """
    _check_sampling("make_spiral", n_samples, noise)
    rng = _generator(seed)
    arms = []
    for label, count, turn in ((1, n_samples // 2, 0.0),
                               (0, n_samples - n_samples // 2, np.pi)):
        i = np.arange(count)
        r = 5.0 * i / count
        t = 3.5 * np.pi * i / count + turn
        points = np.column_stack([r * np.sin(t), r * np.cos(t)])
        points += rng.uniform(-noise, noise, size=points.shape)
        arms.append((points, np.full(count, label, dtype=np.int64)))
    X = np.vstack([a[0] for a in arms])
    y = np.concatenate([a[1] for a in arms])
    return _shuffled(X, y, rng)


#: the 2-D data sets of TensorFlow Playground and the moons: name -> generator
PLANE_DATASETS = {"circle": make_circle, "xor": make_xor, "gaussian": make_gaussians,
                  "spiral": make_spiral, "moons": make_moons}


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_size: float = 0.3, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A stratified split: each class keeps its share in both parts.

    Returns ``X_train, X_test, y_train, y_test`` (scikit-learn's order). Each
    class contributes round(test_size * its count) samples to the test part. A
    ``test_size`` that leaves either part empty raises ValueError with the range that
    does not.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} rows but y has {len(y)}")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"train_test_split: test_size must be in (0, 1), got {test_size}")
    counts = np.unique(y, return_counts=True)[1].tolist()
    taken = [round(test_size * count) for count in counts]
    if not 0 < sum(taken) < len(y):
        largest = max(counts, default=0)
        empty = "test" if sum(taken) == 0 else "training"
        advice = (f"use a test_size from {1 / largest:.3g} to {1 - 1 / largest:.3g}"
                  if largest > 1 else "give more samples")
        raise ValueError(f"train_test_split: test_size {test_size:g} leaves the {empty} part "
                         f"empty ({len(y)} samples; each class puts round(test_size * its "
                         f"count) in the test part, and the largest has {largest}); {advice}")
    rng = np.random.default_rng(seed)
    test = []
    for label, count in zip(np.unique(y), taken):
        members = rng.permutation(np.flatnonzero(y == label))
        test.extend(members[:count])
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test] = True
    train_idx = rng.permutation(np.flatnonzero(~is_test))
    test_idx = rng.permutation(np.flatnonzero(is_test))
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


class Standardizer:
    """Per-feature (x - mean) / std, with mean and std fitted on training data only.

    A constant feature (std 0) is only centred.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> Standardizer:
        X = np.asarray(X, dtype=float)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer: call fit(X_train) before transform")
        return (np.asarray(X, dtype=float) - self.mean) / self.std


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardize both parts with the training part's mean and std (no test leakage)."""
    scaler = Standardizer().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)
