"""The set-up the README promises: pip install -e ".[notebooks]" gives `jupyter lab` and
what the notebooks need to run in it."""

import re
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: its backport, where installed
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml needs 3.11 or tomli")

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def requirement_names(requirements):
    """The distribution names of PEP 508 requirement strings, normalised (PEP 503)."""
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in requirements}


def test_the_notebooks_extra_installs_jupyterlab_a_kernel_and_matplotlib():
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"]
    assert {"jupyterlab", "ipykernel", "matplotlib"} <= requirement_names(extras["notebooks"])
