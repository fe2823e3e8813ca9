"""The ``chainrule`` command (also ``python -m nn``).

``chainrule graph EXPR name=value ...`` draws the chain-rule graph of an
expression (parsed safely, see :mod:`autograd.expr`).

``chainrule train`` is the project's main job: an MLP 4 -> 16 (ReLU) -> 3 with
softmax cross-entropy, trained by per-sample SGD on the bundled Iris data
(70/30 stratified split, standardized with the training statistics, seeded). It
writes a self-contained model file: the standardization, the network and the class
names, so that

``chainrule predict MODEL.json 5.1 3.5 1.4 0.2`` classifies raw measurements.

``chainrule train data.csv --target COLUMN`` does the same on your own CSV file
(:func:`nn.data.load_csv`): classification for text or few integer labels, regression
(MSE on the standardized target, RMSE and R^2 reported) for numbers; ``chainrule
predict MODEL.json --input data.csv`` reads the same layout.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import re
import sys
import time
import unicodedata
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from autograd import (
    GraphRenderTimeout,
    GraphTooLargeError,
    GraphvizNotFoundError,
    draw_dot,
    explain,
    explore,
)
from autograd.expr import FUNCTIONS, ExpressionError, parse_expression
from autograd.files import write_atomic

from . import data
from .layers import ACTIVATIONS, INITS, MLP
from .metrics import confusion_matrix, predict
from .model_files import MAX_PARAMETERS, declared_sizes, load
from .optim import SGD, Adam
from .preprocessing import Classifier, Regressor, Standardize
from .recording import Recorder
from .tabular import _looks_like_header, read_csv_rows
from .training import History, TrainingDiverged, check_run_folder, fit, save_run
from .training_explorer import explore_training

__all__ = ["main"]


def _number(kind: type, accept: Callable[[Any], bool], wanted: str) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)``, refused unless ``accept(value)``."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    return parse


#: the largest --epochs (an Iris epoch takes about 0.02 s: this is about 6 hours)
MAX_EPOCHS = 1_000_000
#: the longest --timeout for Graphviz, in seconds: a day
MAX_TIMEOUT = 86_400
#: the files ``graph -o`` writes, by suffix (Graphviz's other formats open windows or
#: talk to devices: never picked by a file name)
GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".jpg", ".jpeg", ".gif", ".webp", ".ps", ".eps",
                  ".json", ".dot", ".gv", ".html", ".htm")

_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
_epochs = _number(int, lambda v: 1 <= v <= MAX_EPOCHS,
                  f"a positive integer, at most {MAX_EPOCHS}")
_seed = _number(int, lambda v: v >= 0, "a non-negative integer")
_positive_float = _number(float, lambda v: v > 0 and math.isfinite(v),
                          "a positive, finite number")
_timeout = _number(float, lambda v: 0 < v <= MAX_TIMEOUT,
                   f"a positive number of seconds, at most {MAX_TIMEOUT} (a day)")
_fraction = _number(float, lambda v: 0.0 < v < 1.0, "strictly between 0 and 1")
_momentum = _number(float, lambda v: 0.0 <= v < 1.0, "in [0, 1)")
_noise = _number(float, lambda v: 0.0 <= v <= 0.5, "from 0 to 0.5")


def _shown(text: object) -> str:
    """``text`` safe to print: control characters (newlines, the escape that starts a
    terminal command), bidirectional overrides and lone surrogates are written as
    Python escapes (``\\x1b``, ``\\n``, ``\\u202e``), so a name or path read from a file or
    the command line cannot move the cursor, recolour the terminal or fake a line."""
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in ("Cc", "Cs")
                   or c in _BIDI_CONTROLS else c for c in str(text))


_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")


def _fail(command: str, message: object, status: int = 2) -> int:
    """Print ``chainrule COMMAND: MESSAGE`` as one line on stderr; returns ``status``."""
    print(f"chainrule{' ' if command else ''}{command}: {_shown(message)}", file=sys.stderr)
    return status


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (the usage is one --help away), and any
    negative number an argument (``predict MODEL 5.1 -1e-3 ...``), as in Python 3.13."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"-\.?\d")

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {_shown(message)} (see {self.prog} --help)\n")


def _hidden(values: list[str]) -> list[int]:
    """``--hidden 16 8`` -> [16, 8]; ``--hidden none`` -> [] (no hidden layer: the
    lecture's linear softmax classifier). A bare ``--hidden`` is refused: it is a
    forgotten number more often than a wish for no hidden layer."""
    if values == ["none"]:
        return []
    if not values:
        raise argparse.ArgumentTypeError("needs the sizes, e.g. --hidden 16 8")
    return [_positive_int(v) for v in values]


class _HiddenAction(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: list[str], option_string: str | None = None) -> None:
        try:
            setattr(namespace, self.dest, _hidden(values))
        except argparse.ArgumentTypeError as error:
            parser.error(f"argument --hidden: {error} (or none, for no hidden layer)")


#: what ``chainrule train`` uses when a flag is not given, per data set (measured: README)
DEFAULTS: dict[str, dict[str, object]] = {
    "iris": {"hidden": [16], "lr": 0.01, "epochs": 30, "optimizer": "sgd", "batch_size": 1,
             "init": "uniform"},
    "moons": {"hidden": [16, 16], "lr": 0.01, "epochs": 40, "optimizer": "adam",
              "batch_size": 1, "init": "uniform", "noise": 0.1},
    "digits": {"hidden": [32], "lr": 0.01, "epochs": 10, "optimizer": "sgd", "batch_size": 1,
               "init": "he"},
    # TensorFlow Playground's 2-D sets (200 points, seeded by --seed)
    "circle": {"hidden": [8, 8], "lr": 0.01, "epochs": 60, "optimizer": "adam",
               "batch_size": 1, "init": "he", "noise": 0.0},
    "xor": {"hidden": [8, 8], "lr": 0.01, "epochs": 60, "optimizer": "adam", "batch_size": 1,
            "init": "he", "noise": 0.0},
    "gaussian": {"hidden": [8, 8], "lr": 0.01, "epochs": 20, "optimizer": "adam",
                 "batch_size": 1, "init": "he", "noise": 0.0},
    "spiral": {"hidden": [16, 16], "lr": 0.01, "epochs": 200, "optimizer": "adam",
               "batch_size": 1, "init": "he", "noise": 0.0},
    # your own CSV file: the Iris recipe (so the bundled iris.csv as a file gives the same
    # model as --dataset iris); for many features, --init he suits better
    "csv": {"hidden": [16], "lr": 0.01, "epochs": 30, "optimizer": "sgd", "batch_size": 1,
            "init": "uniform"},
}
#: the data sets bundled with chainrule (``--dataset``)
BUILTIN = ("iris", "moons", "digits", "circle", "xor", "gaussian", "spiral")
#: the generated ones, which take --noise
GENERATED = ("moons", "circle", "xor", "gaussian", "spiral")
#: their class names, for y = 0, 1
PLANE_CLASSES = {"moons": ["upper moon", "lower moon"], "circle": ["outer ring", "inner disc"],
                 "xor": ["signs differ", "signs agree"],
                 "gaussian": ["around (-2, -2)", "around (2, 2)"],
                 "spiral": ["second arm", "first arm"]}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chainrule")
    except PackageNotFoundError:  # run from a source folder, not installed
        return "(not installed: pip install -e .)"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chainrule", description="chainrule: see and check backpropagation."
    )
    parser.add_argument("--version", action="version", version=f"chainrule {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train",
        help="train an MLP by backpropagation (default: 4 -> 16 ReLU -> 3 on Iris), on a "
             "bundled data set or your own CSV file",
        description="Train an MLP by backpropagation and report how it does on held-out "
                    "data: softmax cross-entropy and accuracy for classes, MSE with RMSE and "
                    "R^2 for numbers. Flags not given take the data set's defaults; every "
                    "value used is printed at the start (settings:).",
    )
    train.add_argument("data", nargs="?", type=Path, default=None, metavar="CSV",
                       help="your own data: a CSV file of numeric feature columns and a target "
                            "column (a header is optional); default: --dataset iris")
    train.add_argument("--dataset", choices=tuple(BUILTIN), default=None,
                       help="a bundled data set, instead of a CSV file (default: iris)")
    train.add_argument("--noise", type=_noise, default=None,
                       help="with a generated data set (moons, circle, xor, gaussian, "
                            "spiral): how far points stray, 0 to 0.5 (default: 0.1 for moons, "
                            "0 for the others)")
    train.add_argument("--target", default=None, metavar="COLUMN",
                       help="with a CSV file: the target column, by its header name or its "
                            "number counted from 1 (default: the last column)")
    train.add_argument("--features", nargs="+", default=None, metavar="COLUMN",
                       help="with a CSV file: the feature columns, by name or number from 1 "
                            "(default: every column but the target)")
    train.add_argument("--header", choices=("auto", "yes", "no"), default=None,
                       help="with a CSV file: whether its first row names the columns "
                            "(default auto: told from the first rows, and said)")
    train.add_argument("--task", choices=("auto", "classification", "regression"),
                       default=None,
                       help="with a CSV file: classification (softmax cross-entropy) or "
                            "regression (MSE, reports RMSE and R^2); auto (default) reads "
                            "text or at most 20 distinct integers as classes, and says so")
    train.add_argument("--hidden", nargs="*", action=_HiddenAction, default=None, metavar="N",
                       help="hidden layer sizes, e.g. --hidden 16 8; none for the linear "
                            "softmax classifier (default: per data set)")
    train.add_argument("--activation", choices=tuple(ACTIVATIONS), default="relu")
    train.add_argument("--init", choices=tuple(INITS), default=None,
                       help="weight initialisation: uniform is micrograd's U(-1, 1); he and "
                            "lecun scale by the fan-in (default: per data set)")
    train.add_argument("--lr", type=_positive_float, default=None,
                       help="learning rate (default: per data set)")
    train.add_argument("--epochs", type=_epochs, default=None,
                       help=f"passes over the training data, at most {MAX_EPOCHS} "
                            "(default: per data set)")
    train.add_argument("--batch-size", type=_positive_int, default=None,
                       help="1 = per-sample SGD; more = minibatches of the mean loss")
    train.add_argument("--optimizer", choices=("sgd", "adam"), default=None)
    train.add_argument("--momentum", type=_momentum, default=None,
                       help="SGD's momentum, in [0, 1) (default 0; only with --optimizer sgd)")
    train.add_argument("--seed", type=_seed, default=0,
                       help="seeds split, weights and order: a non-negative integer")
    train.add_argument("--test-size", type=_fraction, default=0.3,
                       help="fraction of the data held out for testing, in (0, 1)")
    train.add_argument("--out", type=Path, default=Path("runs/train"),
                       help="folder for model.json and history.json: a new or empty folder, "
                            "or an earlier run's (default: runs/train)")
    train.add_argument("--watch", type=Path, default=None, metavar="PAGE.html",
                       help="record the run and write the training explorer to this .html "
                            "file: the decision surface, each neuron's map, the weights, "
                            "the curves, frame by frame; click a point for its forward and "
                            "backward pass (classification, two or more features)")
    train.add_argument("--no-progress", action="store_true",
                       help="hide the progress bar (shown only on a terminal; elsewhere, as in "
                            "a log file, there is one line per epoch)")
    train.add_argument("--jit", action="store_true",
                       help="compile one sample's loss with autograd.jit (same result, faster)")

    predict_command = commands.add_parser(
        "predict",
        help="classify (or predict the number for) raw measurements with a trained model file",
        description="Print the predicted class and the class probabilities (or a "
                    "regression model's number) for one sample (the numbers on the command "
                    "line) or for every row of a CSV file laid out as the training file "
                    "(columns found by the header's names; the target column is skipped).",
    )
    predict_command.add_argument("model", type=Path, help="a model file from chainrule train")
    predict_command.add_argument("features", nargs="*", metavar="X",
                                 help="the sample's raw measurements, e.g. 5.1 3.5 1.4 0.2")
    predict_command.add_argument("--input", type=Path, default=None, metavar="CSV",
                                 help="predict every row of this CSV file (a header is "
                                      f"allowed; at most {data.MAX_CSV_BYTES >> 20} MiB)")
    predict_command.add_argument("--output", type=Path, default=None, metavar="CSV",
                                 help="with --input: write the predictions here as CSV (never "
                                      "the input or the model file)")

    graph = commands.add_parser(
        "graph",
        help="draw the chain-rule graph of an expression, e.g. 'tanh(w*x + b)' w=0.5 x=2 b=-1",
        description="Build EXPR from Values, run backward, print every gradient and write the "
                    "chain-rule graph: each Value with its data and grad, each edge with its "
                    "local derivative. EXPR may use numbers, variables, + - * / **, "
                    f"parentheses and {', '.join(FUNCTIONS)}.",
    )
    graph.add_argument("expression", metavar="EXPR", help="for example 'log(1 + exp(-y*s))'")
    graph.add_argument("assignments", metavar="NAME=VALUE", nargs="*",
                       help="a value for every variable in EXPR")
    graph.add_argument("-o", "--output", type=Path, default=Path("graph.svg"),
                       help="output file; .svg (default), .png, .pdf, .dot for DOT text, or "
                            ".html for the interactive explorer (every forward and backward "
                            "step, click a node for its paths)")
    graph.add_argument("--rankdir", choices=("LR", "TB"), default="LR")
    graph.add_argument("--step", type=int, default=None,
                       help="draw the state after this many steps of the backward pass")
    graph.add_argument("--explain", action="store_true",
                       help="also print each derivative as a sum over paths")
    graph.add_argument("--timeout", type=_timeout, default=30.0, metavar="SECONDS",
                       help="stop Graphviz if the layout takes longer (default: 30; at most "
                            f"{MAX_TIMEOUT})")
    return parser


class _Data:
    """What ``chainrule train`` learns from: the samples, and what their columns mean."""

    def __init__(self, X: np.ndarray, y: np.ndarray, name: str, classes: list[str] | None,
                 features: Sequence[str] | None = None, target: str | None = None,
                 describe: str = "") -> None:
        self.X, self.y, self.name, self.classes = X, y, name, classes
        self.features, self.target, self.describe = features, target, describe

    @property
    def regression(self) -> bool:
        return self.classes is None


def _builtin(dataset: str, seed: int, noise: float | None) -> _Data:
    if dataset == "iris":
        X, y = data.load_iris()
        return _Data(X, y, "iris", list(data.IRIS_CLASSES), data.IRIS_FEATURES, "species")
    if dataset == "digits":
        X, y = data.load_digits()
        return _Data(X, y, "digits", list(data.DIGITS_CLASSES))
    X, y = data.PLANE_DATASETS[dataset](200, noise=noise, seed=seed)
    return _Data(X, y, dataset, PLANE_CLASSES[dataset], ("x1", "x2"), "class")


def _column(text: str) -> str | int:
    """``--target`` / ``--features``: a header name, or a number counted from 1."""
    if text.lstrip("-").isdigit() and int(text) != 0:
        number = int(text)
        return number - 1 if number > 0 else number  # -1: the last column
    return text


def _read_data(args: argparse.Namespace) -> _Data:
    table = data.load_csv(args.data, -1 if args.target is None else _column(args.target),
                          features=None if args.features is None
                          else [_column(f) for f in args.features],
                          task=args.task or "auto",
                          header={"yes": True, "no": False}.get(args.header or "auto"),
                          _base=1)
    header = "a header" if table.header else "no header"
    what = (f"classification into {len(table.classes)} classes (softmax cross-entropy)"
            if table.classes is not None else "regression (MSE)")
    describe = (f"{_shown(table.source)} ({header}): {len(table)} rows, {len(table.features)} "
                f"features, target {_shown(table.target)!r}\ntask: {what}: {table.reason}"
                + "".join(f"\nnote: {_shown(warning)}" for warning in table.warnings))
    return _Data(table.X, table.y, _shown(table.source),
                 None if table.classes is None else list(table.classes),
                 table.features, table.target, describe)


def _check_combination(args: argparse.Namespace) -> str | None:
    """Flags that would do nothing in this combination: refused, not ignored."""
    if (args.data is None and args.features and len(args.features) > 1
            and os.path.isfile(args.features[-1])):  # train --features a b data.csv
        args.data = Path(args.features.pop())
    if args.data is not None and args.dataset is not None:
        return (f"give a CSV file or --dataset, not both (got {args.data} and --dataset "
                f"{args.dataset})")
    if args.data is None:
        for flag in ("target", "features", "task", "header"):
            if getattr(args, flag) is not None:
                return (f"--{flag} goes with your own CSV file (chainrule train data.csv "
                        f"--{flag} ...); the bundled data sets have theirs")
    if args.noise is not None and (args.dataset or "csv") not in GENERATED:
        return (f"--noise goes with a generated data set ({', '.join(GENERATED)}); "
                f"{'a CSV file' if args.data is not None else args.dataset or 'iris'} has its "
                "own")
    if args.watch is not None and args.watch.suffix.lower() not in (".html", ".htm"):
        return f"--watch {args.watch}: the training explorer is a web page; give a .html name"
    if args.optimizer == "adam" and args.momentum is not None:
        return ("--momentum is SGD's; Adam keeps its own running averages (betas 0.9, "
                "0.999): leave out --momentum, or use --optimizer sgd")
    return None


def _settings(args: argparse.Namespace, regression: bool) -> str:
    """Every flag that decides the result, with the value used."""
    hidden = " ".join(map(str, args.hidden)) or "none"
    parts = []
    if args.data is not None:
        parts += [f"--target {_shown(args.target) if args.target else 'last'}",
                  f"--task {'regression' if regression else 'classification'}"]
        if args.features is not None:
            parts.append("--features " + " ".join(map(_shown, args.features)))
        if args.header is not None:
            parts.append(f"--header {args.header}")
    parts += [f"--hidden {hidden}", f"--activation {args.activation}", f"--init {args.init}",
              f"--optimizer {args.optimizer}", f"--lr {args.lr:g}"]
    if args.optimizer == "sgd":
        parts.append(f"--momentum {args.momentum:g}")
    if args.noise is not None:
        parts.append(f"--noise {args.noise:g}")
    parts += [f"--epochs {args.epochs}", f"--batch-size {args.batch_size}",
              f"--seed {args.seed}", f"--test-size {args.test_size:g}"]
    if args.jit:
        parts.append("--jit")
    return "settings: " + " ".join(parts)


def train(args: argparse.Namespace) -> int:
    problem = _check_combination(args)
    if problem is not None:
        return _fail("train", problem)
    if args.data is None and args.dataset is None:
        args.dataset = "iris"
    for name, value in DEFAULTS[args.dataset or "csv"].items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    if args.optimizer == "sgd" and args.momentum is None:
        args.momentum = 0.0
    try:
        check_run_folder(args.out)  # before the training, not after it
    except (ValueError, OSError) as error:
        return _fail("train", f"--out {args.out}: {_reason(error, args.out, 'use')}")
    if args.data is None:
        source = _builtin(args.dataset, args.seed, args.noise)
    else:
        try:
            source = _read_data(args)
        except OSError as error:
            return _fail("train", _reason(error, args.data, "read"))
        except ValueError as error:
            return _fail("train", error)
    X, y = source.X, source.y
    try:
        X_train, X_test, y_train, y_test = (
            _random_split(X, y, args.test_size, args.seed) if source.regression
            else data.train_test_split(X, y, args.test_size, seed=args.seed))
    except ValueError as error:  # a --test-size that leaves a part empty, too few rows
        return _fail("train", f"{source.name}: {error}")
    if args.watch is not None and (source.regression or X.shape[1] < 2):
        return _fail("train", "--watch draws classes over a plane of two or more features; "
                     + ("this is regression" if source.regression else "this data has one"))
    outputs = 1 if source.regression else len(source.classes)
    sizes = declared_sizes({"type": "MLP", "nin": X.shape[1], "nouts": [*args.hidden, outputs]})
    if sizes is None or sizes.parameters > MAX_PARAMETERS:
        return _fail("train", f"--hidden: {len(args.hidden)} hidden layer(s), the widest of "
                     f"{max(args.hidden, default=0)}, make a network larger than a model file "
                     f"may hold (1000 layers, {MAX_PARAMETERS} parameters); use fewer or "
                     "smaller layers")
    scaler = Standardize.fit(X_train)  # learned on the training split only
    X_train_std, X_test_std = scaler.transform(X_train), scaler.transform(X_test)
    if source.regression:  # the network learns the standardized target
        target_mean, target_scale = _target_statistics(y_train)
        y_train_fit = (y_train - target_mean) / target_scale
        y_test_fit = (y_test - target_mean) / target_scale
    else:
        y_train_fit, y_test_fit = y_train, y_test

    network = MLP(X.shape[1], [*args.hidden, outputs], args.activation,
                  seed=args.seed, init=args.init)
    if args.optimizer == "sgd":
        optimizer = SGD(network.parameters(), lr=args.lr, momentum=args.momentum)
    else:
        optimizer = Adam(network.parameters(), lr=args.lr)
    if args.data is None:
        print(f"dataset {args.dataset}: {len(X_train)} train / {len(X_test)} test samples, "
              f"{X.shape[1]} features, {len(source.classes)} classes; standardized with the "
              "training split's mean and std")
    else:
        print(f"data {source.describe}")
        print(f"  {len(X_train)} train / {len(X_test)} test rows; features standardized with "
              "the training split's mean and std"
              + (", and the target too (predictions are in its units)"
                 if source.regression else ""))
    if not source.regression:
        absent = [source.classes[c] for c in range(len(source.classes)) if c not in y_test]
        if absent:
            print(f"note: no test sample of {', '.join(map(repr, absent))} (too few rows "
                  "to split every class): the test accuracy does not cover it")
    print(f"model {network!r}: {len(network.parameters())} parameters")
    print(_settings(args, source.regression))

    progress = not args.no_progress and sys.stderr.isatty()  # no bar in a log file

    def report(epoch: int, history: History) -> None:
        if source.regression:
            rmse = math.sqrt(history.val_loss[-1]) * target_scale
            line = (f"epoch {epoch + 1:3d}/{args.epochs}  loss {history.loss[-1]:.4f}  "
                    f"test loss {history.val_loss[-1]:.4f}  test RMSE {rmse:.4g}")
        else:
            line = (f"epoch {epoch + 1:3d}/{args.epochs}  loss {history.loss[-1]:.4f}  "
                    f"train acc {history.accuracy[-1]:.3f}  test acc "
                    f"{history.val_accuracy[-1]:.3f}")
        if progress:
            tqdm.write(line)
        else:
            print(line, flush=True)

    started = time.perf_counter()
    try:
        # (fit reports an overflow itself, as TrainingDiverged: numpy's warnings on the way
        # there would be lines of noise before that one line)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = fit(network, X_train_std, y_train_fit,
                          loss="mse" if source.regression else "cross_entropy",
                          optimizer=optimizer, epochs=args.epochs, batch_size=args.batch_size,
                          seed=args.seed, validation=(X_test_std, y_test_fit),
                          progress=progress, on_epoch=report, jit=args.jit,
                          accuracy=not source.regression,
                          record=Recorder() if args.watch is not None else None)
    except TrainingDiverged as error:
        return _fail("train", f"{error}. Nothing was written.", 1)
    seconds = time.perf_counter() - started

    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
              if k != "command"}
    if source.regression:
        model = Regressor(network, scaler, target_mean, target_scale,
                          features=source.features, target=source.target)
        predicted = model.predict(X_test)
        rmse = float(np.sqrt(np.mean((predicted - y_test) ** 2)))
        spread = float(np.sum((y_test - y_test.mean()) ** 2))
        r2 = 1.0 - float(np.sum((predicted - y_test) ** 2)) / spread if spread > 0 else math.nan
        summary = {"test_rmse": rmse, "test_r2": r2}
        epochs = [{"epoch": i + 1, "loss": loss, "test_loss": val}
                  for i, (loss, val) in enumerate(zip(history.loss, history.val_loss))]
    else:
        model = Classifier(network, source.classes, preprocess=scaler,
                           features=source.features, target=source.target)
        test_accuracy = history.val_accuracy[-1]
        matrix = confusion_matrix(y_test, predict(model, X_test), len(source.classes))
        summary = {"test_accuracy": test_accuracy, "confusion_matrix": matrix.tolist()}
        epochs = [{"epoch": i + 1, "loss": loss, "train_accuracy": acc, "test_accuracy": val}
                  for i, (loss, acc, val) in enumerate(
                      zip(history.loss, history.accuracy, history.val_accuracy))]
    try:
        model_path, history_path = save_run(args.out, model, {
            "config": config, "classes": source.classes, "epochs": epochs, **summary,
            "seconds": seconds})
    except (ValueError, OSError) as error:
        return _fail("train", _reason(error, args.out), 1)
    if args.watch is not None:
        try:
            page = explore_training(history, network, classes=source.classes,
                                    features=source.features,
                                    title=f"chainrule train {source.name}")
            written = page.write(args.watch)
        except (ValueError, OSError) as error:
            return _fail("train", f"--watch {args.watch}: {_reason(error, args.watch)} (the "
                         "model was written)", 1)
        print(f"wrote {_shown(written)}: the training explorer, "
              f"{written.stat().st_size / 1e6:.1f} MB (recorded: "
              f"{history.recording.summary()})")
    if source.regression:
        print(f"final test RMSE {rmse:.4g} (in the target's units; its test values spread "
              f"with std {float(np.std(y_test)):.4g}), R^2 {r2:.4f}, after {seconds:.1f} s")
    else:
        print(f"final test accuracy {test_accuracy:.4f} ({round(test_accuracy * len(y_test))}"
              f"/{len(y_test)}) after {seconds:.1f} s")
        print("confusion matrix (rows: true class, columns: predicted):")
        names = [_shown(name) for name in source.classes]
        width = max(len(name) for name in names)
        for name, row in zip(names, matrix):
            print(f"  {name:>{width}}  " + " ".join(f"{count:4d}" for count in row))
    what = ("standardization, network and target scale" if source.regression
            else "standardization, network and class names")
    print(f"wrote {_shown(model_path)} ({what}: use it with chainrule predict "
          f"{_shown(model_path)} ...) and {_shown(history_path)}")
    return 0


def _random_split(X: np.ndarray, y: np.ndarray, test_size: float, seed: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded random split for regression (no classes to stratify by)."""
    count = round(test_size * len(y))
    if not 0 < count < len(y) or len(y) - count < 2:
        raise ValueError(f"{len(y)} rows are too few to split with --test-size "
                         f"{test_size:g} (it leaves {count} for testing and {len(y) - count} "
                         "for training; each part needs rows, training two or more)")
    order = np.random.default_rng(seed).permutation(len(y))
    test, training = order[:count], order[count:]
    return X[training], X[test], y[training], y[test]


def _target_statistics(y: np.ndarray) -> tuple[float, float]:
    mean = float(np.mean(y))
    scale = float(np.std(y))
    return mean, scale if scale > 0 and math.isfinite(scale) else 1.0


def predict_command(args: argparse.Namespace) -> int:
    """``chainrule predict MODEL x1 x2 ...`` or ``--input FILE.csv [--output OUT.csv]``."""
    if bool(args.features) == (args.input is not None):
        return _fail("predict", "give either the sample's features on the command line or "
                     "--input FILE.csv (not both, not neither)")
    if args.output is not None and args.input is None:
        return _fail("predict", "--output goes with --input")
    if args.output is not None:
        for flag, read in (("the --input file", args.input), ("the model file", args.model)):
            if _same_file(args.output, read):
                return _fail("predict", f"--output {args.output} is {flag} {read}, which this "
                             "command reads: it is never replaced; give another file name")
    if not os.path.lexists(args.model):
        return _fail("predict", f"no model file at {args.model}; train one with chainrule "
                     "train (it writes runs/train/model.json)")
    try:
        model = load(args.model)
    except ValueError as error:
        return _fail("predict", error, 1)
    except OSError as error:
        return _fail("predict", _reason(error, args.model, "read"),
                     1 if error.strerror is not None else 2)
    if not isinstance(model, (Classifier, Regressor)):
        return _fail("predict", f"{args.model} holds a {type(model).__name__}, not a "
                     "classifier or regressor from chainrule train")
    try:
        if args.input is None:
            lines, X = [""], np.array([_features(args.features, model.nin)])
        else:
            lines, X = _read_rows(args.input, model)
        far = _check_preprocessing(model, X, lines)
    except OSError as error:
        return _fail("predict", _reason(error, args.input, "read"))
    except ValueError as error:
        return _fail("predict", error)
    if far:
        print(f"chainrule predict: note: {far}", file=sys.stderr)
    if isinstance(model, Regressor):
        return _predict_numbers(model, X, args)
    try:
        probabilities = model.predict_proba(X)
    except ArithmeticError as error:
        return _fail("predict", f"cannot classify these numbers: {error}", 1)
    classes = model.classes
    if args.input is None:
        best = int(np.argmax(probabilities[0]))
        shown = [_shown(name) for name in classes]
        print(shown[best])
        width = max(map(len, shown))
        for name, p in zip(shown, probabilities[0]):
            print(f"  p({name}){' ' * (width - len(name))} = {p:.4f}")
        return 0
    if args.output is None:
        sys.stdout.write(_csv(probabilities, [_shown(name) for name in classes]))
        return 0
    try:
        path = write_atomic(args.output, _csv(probabilities, classes))
    except OSError as error:
        return _fail("predict", _reason(error, args.output), 1)
    print(f"wrote {len(X)} predictions to {_shown(path)}")
    return 0


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (through links too)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _csv(probabilities: np.ndarray, classes: Sequence[str]) -> str:
    """The predictions as CSV: the class, then each class's probability."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["prediction", *(f"p({name})" for name in classes)])
    writer.writerows([classes[int(np.argmax(row))], *(f"{p:.6f}" for p in row)]
                     for row in probabilities)
    return text.getvalue()


def _features(texts: Sequence[str], expected: int, where: str = "") -> list[float]:
    if len(texts) != expected:
        raise ValueError(f"{where}the model takes {expected} features, got {len(texts)}")
    values = []
    for text in texts:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{where}{text.strip()!r:.40} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{where}{text.strip()!r:.40} is not a finite number")
        values.append(value)
    return values


def _predict_numbers(model: Regressor, X: np.ndarray, args: argparse.Namespace) -> int:
    """A regressor's predictions: one number, or a CSV column of them."""
    try:
        values = model.predict(X)
    except ArithmeticError as error:
        return _fail("predict", f"cannot predict from these numbers: {error}", 1)
    if args.input is None:
        print(repr(float(values[0])))
        return 0
    name = "prediction" if model.target is None else f"predicted {model.target}"
    if args.output is None:
        sys.stdout.write(_numbers_csv(values, _shown(name)))
        return 0
    try:
        path = write_atomic(args.output, _numbers_csv(values, name))
    except OSError as error:
        return _fail("predict", _reason(error, args.output), 1)
    print(f"wrote {len(X)} predictions to {_shown(path)}")
    return 0


def _numbers_csv(values: np.ndarray, name: str) -> str:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([name])
    writer.writerows([repr(float(v))] for v in values)
    return text.getvalue()


_POSITION = re.compile(r"column (\d+)")


def _read_rows(path: Path, model: Classifier | Regressor) -> tuple[list[str], np.ndarray]:
    """The samples in a CSV file, laid out as the model's training file was: with a header
    naming (at least) the model's feature columns, found by name; or without one, either
    just the feature columns or the training file's columns (the target is skipped). Also
    where each row is (``FILE, line N: ``) for messages."""
    rows, source = read_csv_rows(path, "CSV file to predict")
    expected, names = model.nin, model.features
    first = rows[0][1]
    header = (names is not None and set(names) <= set(first)) or _looks_like_header(
        first, rows[1][1] if len(rows) > 1 else None)
    width = len(first)
    positions = [_POSITION.fullmatch(n) for n in names or ()]
    target = _POSITION.fullmatch(model.target or "")
    by_position = (names is not None and all(positions) and target is not None
                   and max(int(m[1]) for m in [*positions, target]) <= width)
    if header and names is not None and not (by_position and not set(names) <= set(first)):
        missing = [name for name in names if name not in first]
        if missing:
            raise ValueError(f"{source} line {rows[0][0]}: the header lacks the column(s) "
                             f"{', '.join(map(repr, missing))} the model was trained on (it "
                             f"takes {', '.join(map(repr, names))}); name the columns as in "
                             "training")
        columns = [first.index(name) for name in names]
    elif width == expected:
        columns = list(range(expected))
    else:
        if by_position:
            columns = [int(m[1]) - 1 for m in positions]  # the training file's layout
        else:
            taken = ("" if names is None else
                     f" ({', '.join(map(repr, names))}; give a header naming them, or only "
                     "these columns)")
            raise ValueError(f"{source} line {rows[0][0]}: {width} fields, but the model "
                             f"takes {expected} features{taken}")
    if header:
        rows = rows[1:]
        if not rows:
            raise ValueError(f"{source} holds a header and no rows to predict")
    lines: list[str] = []
    values = array("d")  # (8 bytes a number: a large file stays small in memory)
    for line, row in rows:
        where = f"{source}, line {line}: "
        if len(row) != width:
            raise ValueError(f"{where}{len(row)} fields, but the first {'(header) ' * header}"
                             f"row has {width}; every row needs one value per column")
        cells = [row[c] for c in columns]
        values.extend(_features(cells, expected, where))
        lines.append(where)
    return lines, np.frombuffer(values, dtype=float).reshape(len(lines), expected)


#: how many standard deviations from the training mean make predict say a number is far
FAR = 10.0


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_preprocessing(model: Classifier | Regressor, X: np.ndarray,
                         lines: Sequence[str]) -> str | None:
    """Standardize the samples once, as the model will: refuse a number that
    (x - mean) / scale turns into inf (finite x far enough from the training data), and
    return a warning when one lies FAR or more training standard deviations from the
    training mean (other units, a typo: the model extrapolates there), else None."""
    if not isinstance(model.preprocess, Standardize):
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.abs(model.preprocess.transform(X))
    mean, scale = model.preprocess.mean, model.preprocess.scale
    rows, columns = np.nonzero(~np.isfinite(z))
    if len(rows):
        i, j = int(rows[0]), int(columns[0])
        x = float(X[i, j])
        raise ValueError(f"{lines[i]}feature {j + 1} = {x!r} is too far from the data the "
                         f"model was trained on: (x - mean) / scale = ({x:g} - {mean[j]:g}) / "
                         f"{scale[j]:g} overflows a float; check the number")
    rows, columns = np.nonzero(z >= FAR)
    if not len(rows):
        return None
    i, j = int(rows[0]), int(columns[0])
    name = (f" ({_shown(model.features[j])})" if model.features is not None else "")
    others = f"; {len(rows) - 1} more such number(s)" if len(rows) > 1 else ""
    return (f"{lines[i]}feature {j + 1}{name} = {X[i, j]:g} is {z[i, j]:.0f} standard "
            f"deviations from the training data's mean {mean[j]:g}: other units, or a typo? "
            f"The model extrapolates there{others}")


def _assignments(items: Sequence[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ExpressionError(f"{item!r} is not NAME=VALUE (for example x=0.5)")
        try:
            value = float(text)
        except ValueError:
            raise ExpressionError(f"{item!r}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{item!r}: the value must be finite")
        if name in values:
            raise ExpressionError(f"{name} is given twice")
        values[name] = value
    return values


def graph(args: argparse.Namespace) -> int:
    suffix = args.output.suffix.lower()
    if suffix and suffix not in GRAPH_SUFFIXES:
        return _fail("graph", f"-o {args.output}: the suffix picks the format, and {suffix} is "
                     f"not one chainrule writes; use {', '.join(GRAPH_SUFFIXES)}")
    page = suffix in (".html", ".htm")
    if page and args.step is not None:
        return _fail("graph", "--step draws one picture; the .html explorer holds every "
                     "step (leave out --step, or write .svg / .png)")
    try:
        values = _assignments(args.assignments)
        out, inputs = parse_expression(args.expression, values)
    except ExpressionError as error:
        return _fail("graph", error)
    unused = sorted(set(values) - set(inputs))
    if unused:
        return _fail("graph", f"{', '.join(unused)} not used in the expression")
    try:
        out.backward()
    except (ArithmeticError, ValueError) as error:
        return _fail("graph", f"cannot differentiate: {error}")
    if out.parents:  # a bare variable keeps its own name
        out.label = "f"
    print(f"f = {_shown(args.expression)} = {out.data!r}")
    for name, value in inputs.items():
        print(f"df/d{name} = {value.grad!r}")
        if args.explain:
            print(explain(out, value))
    try:
        if page:
            path = explore(out, rankdir=args.rankdir, parameters=(),
                           render_timeout=args.timeout).write(args.output)
        else:
            picture = draw_dot(out, rankdir=args.rankdir, step=args.step, parameters=())
            picture.render_timeout = args.timeout
            path = picture.write(args.output)
    except (GraphTooLargeError, ValueError) as error:
        return _fail("graph", error)
    except (GraphvizNotFoundError, GraphRenderTimeout, RuntimeError) as error:
        return _fail("graph", error, 1)
    except OSError as error:
        return _fail("graph", _reason(error, args.output), 1)
    print(f"wrote {_shown(path)}")
    return 0


def _reason(error: Exception, path: Path, doing: str = "write") -> str:
    """One line for an error met doing something with ``path``."""
    strerror = getattr(error, "strerror", None)
    if strerror is None:  # our own message, which names the path
        return str(error)
    return f"cannot {doing} {path}: {strerror}"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    for argument in arguments:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            shown = argument.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            return _fail("", f"the argument {shown!r} holds bytes that are not valid text "
                         "(UTF-8); retype it")
    for stream in (sys.stdout, sys.stderr):  # a name the terminal cannot show is escaped
        if callable(getattr(stream, "reconfigure", None)):
            stream.reconfigure(errors="backslashreplace")
    parser = _parser()
    args, extra = parser.parse_known_args(arguments)
    if extra:  # predict MODEL --output out.csv 5.1 3.5 ...: the numbers are the sample's
        if args.command == "predict" and all(_is_number(e) or not e.startswith("-")
                                              for e in extra):
            args.features = [*args.features, *extra]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "train":
        return train(args)
    if args.command == "graph":
        return graph(args)
    if args.command == "predict":
        return predict_command(args)
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
