"""Model files: a module's architecture (``config()``) and parameters as JSON.

:func:`load` builds the model a file describes, after checking everything -- JSON,
format, version, every module's architecture, the parameter budget, every parameter's
name and number -- so a truncated, foreign or hostile file raises ValueError naming the
problem and nothing is built. Never pickle: a model file cannot run code.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from autograd.files import read_json

if TYPE_CHECKING:
    from .module import Module

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_PARAMETERS", "MODULE_TYPES", "load",
           "module_from_config"]

FORMAT = "chainrule-module"
FORMAT_VERSION = 1


#: the module types a model file may name, for :func:`load`
MODULE_TYPES: dict[str, type[Module]] = {}

#: no model file builds more parameters than this (a hostile file could ask for billions)
MAX_PARAMETERS = 5_000_000


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
    return kind.from_config(config)


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
    return saved


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


def _check_budget(count: int, kind: str) -> None:
    if count > MAX_PARAMETERS:
        raise ValueError(f"{kind} would have {count} parameters, more than the "
                         f"{MAX_PARAMETERS} a chainrule model file may build")


def _describe(config: Any) -> str:
    if isinstance(config, dict) and "type" in config:
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "type")
        return f"{config['type']}({args})"
    return repr(config)
