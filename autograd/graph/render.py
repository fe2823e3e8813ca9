"""Rendering a chain-rule graph with Graphviz: the Digraph subclass that displays
itself in Jupyter, writes files atomically and stops a ``dot`` that runs too long."""

from __future__ import annotations

import html
import os
import subprocess
from pathlib import Path
from typing import Any

import graphviz

from ..files import write_atomic

__all__ = [
    "ChainRuleGraph",
    "GraphRenderTimeout",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
]

INSTALL_GRAPHVIZ = (
    "install Graphviz, which provides the `dot` program (Debian/Ubuntu: "
    "sudo apt-get install graphviz; macOS: brew install graphviz; conda: conda install "
    "graphviz; Windows: https://graphviz.org/download/), or use the DOT text in "
    "graph.source, which needs no Graphviz"
)


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is needed to render and is not on the PATH."""


class GraphTooLargeError(ValueError):
    """The graph has more Value nodes than ``max_nodes``."""


class GraphRenderTimeout(RuntimeError):
    """Graphviz's ``dot`` did not finish laying out the graph within the time limit."""


#: seconds ``dot`` may take to lay out one graph before it is stopped
RENDER_TIMEOUT = 30.0


#: on the <svg> element: as wide as it is drawn, narrower where the page is narrower
SCALABLE = b'style="max-width:100%;height:auto"'


def scalable_svg(svg: bytes) -> bytes:
    """The SVG, shrinking to the width it is shown in: its width and height stay the
    drawing's natural size (the size of an <img> of it, and never enlarged), its
    viewBox keeps the proportions, and ``max-width: 100%; height: auto`` lets a page,
    a notebook or a browser window narrower than the drawing show all of it."""
    start = svg.find(b"<svg")
    end = svg.find(b">", start)
    if start < 0 or end < 0 or b"viewBox=" not in svg[start:end] or b" style=" in svg[start:end]:
        return svg
    return svg[:start + 4] + b" " + SCALABLE + svg[start + 4:]


class ChainRuleGraph(graphviz.Digraph):
    """A :class:`graphviz.Digraph` that displays itself in Jupyter and saves with
    :meth:`write`; its SVG scales down to the width it is shown in (see
    :func:`scalable_svg`). Rendering runs Graphviz's ``dot`` with a time limit
    (``render_timeout`` seconds, :data:`RENDER_TIMEOUT` by default): some graphs (many
    edges between the same two nodes, say) take ``dot`` minutes, and a stopped render
    raises :class:`GraphRenderTimeout` saying so. When ``dot`` is missing, rendering
    raises :class:`GraphvizNotFoundError` saying how to install it; ``.source`` (the
    DOT text) always works."""

    render_timeout: float = RENDER_TIMEOUT

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: Any = None, quiet: bool = False,
             *, engine: str | None = None, encoding: str | None = None) -> Any:
        """The graph rendered by ``dot`` as bytes (or text, given ``encoding``)."""
        output_format = ":".join(x for x in (format or self.format, renderer, formatter) if x)
        command = [engine or self.engine, f"-T{output_format}"]
        try:
            done = subprocess.run(command, input=self.source.encode("utf-8"),
                                  capture_output=True, timeout=self.render_timeout)
        except FileNotFoundError:
            raise GraphvizNotFoundError(f"cannot render the graph: {INSTALL_GRAPHVIZ}") from None
        except subprocess.TimeoutExpired:
            edges = self.source.count(" -> ")
            raise GraphRenderTimeout(
                f"Graphviz's {command[0]} did not finish laying out the graph ({edges} edges) "
                f"in {self.render_timeout:g} s and was stopped; draw a smaller graph (fewer "
                "terms, or a model's collapsed view with max_nodes), or allow more time "
                "with graph.render_timeout"
            ) from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"Graphviz's {command[0]} failed: {message}")
        output = done.stdout
        if output_format.split(":")[0] == "svg":
            output = scalable_svg(output)
        return output.decode(encoding) if encoding else output

    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError(f"cannot render the graph: {INSTALL_GRAPHVIZ}") from error

    def write(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Render to ``path`` atomically; the format comes from the suffix (``.svg``,
        ``.png``, ``.pdf``, or ``.dot`` / ``.gv`` for the DOT text) unless given."""
        path = Path(path)
        format = (format or path.suffix.lstrip(".") or "svg").lower()
        if format in ("dot", "gv"):
            return write_atomic(path, self.source)
        return write_atomic(path, self.pipe(format=format))


def standalone_page(title: str, body: str, style: str = "html,body{margin:0;padding:0}") -> str:
    """One HTML file around ``body``: UTF-8, a viewport, ``title`` escaped, nothing to
    fetch. The explorer pages and the network view are written with it."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{style}</style></head>"
            f"<body>{body}</body></html>\n")


class HTMLPage:
    """What an interactive page offers: ``_repr_html_`` (its fragment, inline in
    Jupyter), ``html()`` (the standalone page) and ``write(path)`` (saved atomically).
    A subclass has ``title`` and ``_fragment(standalone)``; ``_PAGE_STYLE`` styles the
    standalone page's body."""

    title: str
    _PAGE_STYLE = "html,body{margin:0;padding:0;background:#fff}"

    def _fragment(self, standalone: bool) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return self._fragment(standalone=False)

    def html(self) -> str:
        """The standalone page: one HTML file with nothing to fetch."""
        return standalone_page(self.title, self._fragment(standalone=True), self._PAGE_STYLE)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Save the standalone page to ``path`` (atomically) and return the path."""
        return write_atomic(Path(path), self.html())
