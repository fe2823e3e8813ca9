"""Plots for training results, with matplotlib (optional: the ``notebooks`` extra).

:func:`plot_confusion_matrix` draws counts[i, j] -- samples of true class i predicted
as class j -- as a heatmap whose every number is readable: its colour is chosen for
contrast with its own cell (white on dark, black on light), at a size that fits the cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["plot_confusion_matrix", "text_colour_for"]


def text_colour_for(rgba: Sequence[float]) -> str:
    """``"white"`` or ``"black"``: whichever contrasts more with the colour ``rgba``
    (its relative luminance, WCAG's formula, against the 0.179 threshold at which both
    give the same contrast ratio)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(float(c)) for c in rgba[:3])
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if luminance > 0.179 else "white"


def plot_confusion_matrix(matrix: Any, classes: Sequence[str] | None = None, *,
                          ax: Any = None, title: str | None = None,
                          cmap: str = "Blues") -> Any:
    """Draw a confusion matrix (rows: true class, columns: predicted) and return the axes.

    Every nonzero count is written in its cell, in white or black by the cell's
    luminance, at 11 pt for up to 5 classes and 10 pt up to 12 (more classes: 9 pt).
    ``classes`` labels the ticks (default 0..k-1).
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_confusion_matrix needs matplotlib: pip install matplotlib "
                          "(or pip install -e \".[notebooks]\")") from None
    counts = np.asarray(matrix)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ValueError(f"plot_confusion_matrix: expected a square matrix, got shape "
                         f"{counts.shape}")
    k = counts.shape[0]
    names = [str(c) for c in (classes if classes is not None else range(k))]
    if len(names) != k:
        raise ValueError(f"plot_confusion_matrix: {k} classes in the matrix, {len(names)} "
                         "names")
    if ax is None:
        side = max(3.2, 0.45 * k + 1.6)
        _, ax = plt.subplots(figsize=(side + 0.6, side), dpi=100)
    image = ax.imshow(counts, cmap=cmap, vmin=0, vmax=max(int(counts.max()), 1))
    size = 11 if k <= 5 else 10 if k <= 12 else 9
    for i in range(k):
        for j in range(k):
            if counts[i, j]:
                colour = text_colour_for(image.cmap(image.norm(counts[i, j])))
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=size,
                        color=colour)
    ax.set_xticks(range(k), names, rotation=30 if max(map(len, names)) > 3 else 0,
                  ha="right" if max(map(len, names)) > 3 else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title is not None:
        ax.set_title(title)
    return ax
