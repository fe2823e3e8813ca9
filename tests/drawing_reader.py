"""Reading a graphviz drawing back (for the ported notebooks' tests): what the notebooks
saved as SVG is compared with the drawing the ported code builds."""

import re
from collections import Counter

_RECORD = re.compile(r'\[label="(\{ .* \})" shape=record\]$')
_OP = re.compile(r'\[label="?([^"]*?)"?\]$')


def drawing(dot):
    """(record labels, op labels, edge count) of a graphviz Digraph's source."""
    lines = [line.rstrip("\n") for line in dot.body]
    records = Counter(m.group(1) for m in map(_RECORD.search, lines) if m)
    ops = Counter(m.group(1) for line in lines
                  if "shape=record" not in line and (m := _OP.search(line)))
    edges = sum(1 for line in lines if " -> " in line)
    return records, ops, edges
