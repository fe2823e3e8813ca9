"""Model files: a module's architecture (``config()``) and parameters as JSON.

:func:`load` builds the model a file describes, after checking everything -- JSON,
format, version, every module's architecture, the parameter budget, every parameter's
name and number -- so a truncated, foreign or hostile file raises ValueError naming the
problem and nothing is built. The sizes a file declares are checked against the
parameters it holds before anything is built: a few hundred bytes cannot make chainrule
build millions of parameters. Never pickle: a model file cannot run code.
"""

from __future__ import annotations

import contextvars
import itertools
import os
from typing import TYPE_CHECKING, Any, NamedTuple

from autograd.files import read_json

if TYPE_CHECKING:
    from .module import Module

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_NESTING", "MAX_PARAMETERS", "MODULE_TYPES",
           "DeclaredSizes", "declared_sizes", "load", "module_from_config"]

FORMAT = "chainrule-module"
FORMAT_VERSION = 1


#: the module types a model file may name, for :func:`load`
MODULE_TYPES: dict[str, type[Module]] = {}

#: no model file builds more parameters than this (a hostile file could ask for billions)
MAX_PARAMETERS = 5_000_000

#: no model file nests module descriptions deeper than this (a Classifier holding a
#: network is 2 levels)
MAX_NESTING = 32

_nesting = contextvars.ContextVar("chainrule_module_nesting", default=0)


def load(path: str | os.PathLike[str]) -> Module:
    """The model saved in ``path`` (by ``model.save``), whatever its type.

    The file is checked completely -- JSON, format, version, every module's
    architecture, the parameter budget, every parameter's name and number -- before
    the model is returned; a truncated, foreign or hostile file raises ValueError
    naming the problem. Never pickle: a model file cannot run code.
    """
    saved = _read_model_file(path)
    try:
        model = module_from_config(saved["module"])
    except ValueError as error:
        raise ValueError(f"load: {path}: {error}") from None
    try:
        model.load_state_dict(saved["parameters"])
    except ValueError as error:
        raise ValueError(f"load: {path}: {error}") from None
    return model


def module_from_config(config: Any) -> Module:
    """The module ``config`` describes (see :meth:`Module.config`), after checking it."""
    if not isinstance(config, dict) or not isinstance(config.get("type"), str):
        raise ValueError(f"a module description must be an object with a type, got "
                         f"{_describe(config):.80}")
    kind = MODULE_TYPES.get(config["type"])
    if kind is None:
        raise ValueError(f"unknown module type {config['type']!r:.40}; this chainrule builds "
                         f"{', '.join(sorted(MODULE_TYPES))}")
    depth = _nesting.get()
    if depth >= MAX_NESTING:
        raise _too_deep()
    token = _nesting.set(depth + 1)
    try:
        return kind.from_config(config)
    finally:
        _nesting.reset(token)


def _too_deep() -> ValueError:
    return ValueError(f"module descriptions nested more than {MAX_NESTING} deep (a "
                      "Classifier holding a network is 2); the file is corrupt or hostile")


def _read_model_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    saved = read_json(path, "chainrule model file")
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError(f"load: {path} is not a chainrule model file (no {FORMAT!r} format)")
    version = saved.get("version")
    if type(version) is not int or version != FORMAT_VERSION:  # (true is not 1)
        raise ValueError(f"load: {path} has format version {version!r:.20}; this chainrule "
                         f"reads version {FORMAT_VERSION}")
    if set(saved) != {"format", "version", "module", "parameters"}:
        extra = sorted(set(saved) - {"format", "version", "module", "parameters"})
        raise ValueError(f"load: {path} has unexpected or missing entries "
                         f"({', '.join(map(repr, extra)) or 'module or parameters missing'})")
    try:
        _check_declared_sizes(saved["module"], saved["parameters"])
    except ValueError as error:
        raise ValueError(f"load: {path}: {error}") from None
    return saved


class DeclaredSizes(NamedTuple):
    """What a module description declares, read without building it."""

    nin: int  #: inputs taken
    nout: int  #: outputs given
    parameters: int  #: parameters held


def declared_sizes(config: Any, depth: int = 0) -> DeclaredSizes | None:
    """The inputs, outputs and parameter count ``config`` declares, for chainrule's own
    module types, computed from the description alone (nothing is built); None when it
    is another type or malformed (building it reports that). A Classifier whose
    preprocessing gives another number of features than its network takes, or whose
    network gives another number of outputs than it has classes, raises ValueError, and
    so does nesting deeper than MAX_NESTING."""
    if depth >= MAX_NESTING:
        raise _too_deep()
    if not isinstance(config, dict):
        return None
    kind = config.get("type")
    if kind in ("Neuron", "Perceptron") and _size(config.get("nin")):
        return DeclaredSizes(config["nin"], 1, config["nin"] + 1)
    if kind == "Layer" and _size(config.get("nin")) and _size(config.get("nout")):
        return DeclaredSizes(config["nin"], config["nout"], (config["nin"] + 1) * config["nout"])
    if kind == "MLP" and _size(config.get("nin")) and _sizes(config.get("nouts")):
        sizes = [config["nin"], *config["nouts"]]
        return DeclaredSizes(sizes[0], sizes[-1],
                             sum((a + 1) * b for a, b in itertools.pairwise(sizes)))
    if kind == "Standardize" and type(config.get("mean")) is list:
        return DeclaredSizes(len(config["mean"]), len(config["mean"]), 0)
    if kind in ("Classifier", "Regressor"):
        network = declared_sizes(config.get("network"), depth + 1)
        preprocess = config.get("preprocess")
        before = None if preprocess is None else declared_sizes(preprocess, depth + 1)
        if network is None or (preprocess is not None and before is None):
            return None
        if before is not None and before.nout != network.nin:
            raise ValueError(f"{kind}: its preprocessing ({preprocess.get('type')}) gives "
                             f"{before.nout} features but its network takes {network.nin}; "
                             "the two must match")
        classes = config.get("classes") if kind == "Classifier" else ["the target"]
        if type(classes) is list and network.nout != len(classes) and kind == "Regressor":
            raise ValueError(f"Regressor: its network ({config['network']['type']}) has "
                             f"{network.nout} outputs; a regressor predicts one number")
        if type(classes) is list and network.nout != len(classes):
            raise ValueError(f"Classifier: its network ({config['network']['type']}) has "
                             f"{network.nout} output(s) for {len(classes)} classes; a "
                             "classifier needs one output (logit) per class")
        return DeclaredSizes((before or network).nin, network.nout,
                             network.parameters + (before.parameters if before else 0))
    return None


def _check_declared_sizes(config: Any, parameters: Any) -> None:
    """Refuse a description that declares more parameters than the budget allows or the
    file holds, before anything is built."""
    sizes = declared_sizes(config)
    if sizes is None:
        return
    kind = f"the {config['type']}"
    _check_budget(sizes.parameters, kind)
    held = len(parameters) if isinstance(parameters, dict) else 0
    if sizes.parameters > held:
        raise ValueError(f"{kind} declares {sizes.parameters} parameters but the file holds "
                         f"{held} ({sizes.parameters - held} missing); the file is truncated "
                         "or corrupt")


def _fields(config: dict[str, Any], kind: str, optional: dict[str, Any] | None = None,
            **expected: Any) -> list[Any]:
    """The values of ``config``'s fields, each checked by its ``expected`` test.
    ``optional`` maps a field that may be absent (files written before it existed) to
    its default; its test is the one in ``expected``."""
    optional = optional or {}
    given = set(config) - {"type"}
    if "type" not in config or not set(expected) - set(optional) <= given <= set(expected):
        raise ValueError(f"a {kind} is described by {', '.join(expected)}; got "
                         f"{', '.join(sorted(map(str, config)))}")
    values = []
    for name, test in expected.items():
        if name not in config:
            values.append(optional[name])
            continue
        if not test(config[name]):
            raise ValueError(f"{kind}: {name} = {config[name]!r:.60} is not valid")
        values.append(config[name])
    return values


def _size(x: Any) -> bool:
    return type(x) is int and 1 <= x <= MAX_PARAMETERS


def _sizes(x: Any) -> bool:
    return type(x) is list and 0 < len(x) <= 1000 and all(map(_size, x))


def _check_declared_budget(config: dict[str, Any]) -> None:
    """Refuse a description (already checked field by field) that declares more
    parameters than a model file may build: the count from :func:`declared_sizes`."""
    _check_budget(declared_sizes(config).parameters, f"the {config['type']}")


def _check_budget(count: int, kind: str) -> None:
    if count > MAX_PARAMETERS:
        raise ValueError(f"{kind} would have {count} parameters, more than the "
                         f"{MAX_PARAMETERS} a chainrule model file may build")


def _describe(config: Any) -> str:
    if isinstance(config, dict) and "type" in config:
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "type")
        return f"{config['type']}({args})"
    return repr(config)
