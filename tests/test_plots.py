"""Plots people read: every number in a confusion matrix contrasts with its cell."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from nn.plots import plot_confusion_matrix, text_colour_for  # noqa: E402


def _contrast(a, b):
    """WCAG contrast ratio of two colours."""
    def luminance(rgb):
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_text_colour_is_the_one_that_contrasts_more():
    for rgb in np.random.default_rng(0).random((200, 3)):
        chosen = text_colour_for(rgb)
        other = "black" if chosen == "white" else "white"
        rgb_of = {"white": (1, 1, 1), "black": (0, 0, 0)}
        assert _contrast(rgb, rgb_of[chosen]) >= _contrast(rgb, rgb_of[other]) - 1e-9


@pytest.mark.parametrize("k", [2, 3, 10])
def test_every_count_is_written_readably_in_its_cell(k):
    import matplotlib.colors as colors
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(k)
    matrix = np.diag(rng.integers(20, 60, k)) + (rng.random((k, k)) < 0.3) * rng.integers(
        1, 5, (k, k))
    ax = plot_confusion_matrix(matrix, [f"class {i}" for i in range(k)], title="t")
    image = ax.images[0]
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    assert set(texts) == {tuple(ij) for ij in np.argwhere(matrix)}  # every nonzero count
    for (i, j), text in texts.items():
        assert text.get_text() == str(matrix[i, j])
        assert text.get_fontsize() >= 10
        cell = image.cmap(image.norm(matrix[i, j]))
        assert _contrast(cell, colors.to_rgb(text.get_color())) >= 4.5  # WCAG AA
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"class {i}" for i in range(k)]
    plt.close("all")


def test_a_matrix_that_is_not_square_is_refused():
    with pytest.raises(ValueError, match="expected a square matrix"):
        plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="3 classes in the matrix, 2 names"):
        plot_confusion_matrix(np.eye(3), ["a", "b"])
