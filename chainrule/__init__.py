"""The ``chainrule`` command's entry point.

chainrule's libraries are the packages ``autograd`` (the engine) and ``nn`` (neural
networks). Both names are used by other code too -- HIPS autograd on PyPI installs a
top-level ``autograd``, and a student's own ``nn.py`` in the working folder shadows
``nn`` -- so the command checks which packages it got before it runs, and says what
to do in one line instead of failing with a bare ImportError.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chainrule`` command (``train``, ``graph``, ...); returns the exit status."""
    try:
        from nn.cli import main as run
    except ImportError as error:
        print(f"chainrule: cannot start: {_explain(error)}", file=sys.stderr)
        return 1
    try:
        return run(argv)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (chainrule train | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _explain(error: ImportError) -> str:
    nn = sys.modules.get("nn")
    if nn is not None and not hasattr(nn, "__chainrule__"):
        where = getattr(nn, "__file__", None) or "an unknown place"
        return (f"the package 'nn' was imported from {where}, which is not chainrule's "
                "(a file or folder named nn in the working folder shadows it): rename "
                "yours, or run chainrule from another folder")
    return str(error)
