"""The ``chainrule`` command (also ``python -m nn``).

``chainrule graph EXPR name=value ...`` draws the chain-rule graph of an
expression (parsed safely, see :mod:`autograd.expr`).

``chainrule train`` is the project's main job: an MLP 4 -> 16 (ReLU) -> 3 with
softmax cross-entropy, trained by per-sample SGD on the bundled Iris data
(70/30 stratified split, standardized with the training statistics, seeded). It
writes a self-contained model file: the standardization, the network and the class
names, so that

``chainrule predict MODEL.json 5.1 3.5 1.4 0.2`` classifies raw measurements.
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
from autograd.files import read_bytes, write_atomic

from . import data
from .layers import ACTIVATIONS, INITS, MLP
from .metrics import confusion_matrix, predict
from .model_files import MAX_PARAMETERS, declared_sizes, load
from .optim import SGD, Adam
from .preprocessing import Classifier, Standardize
from .training import History, TrainingDiverged, check_run_folder, fit, save_run

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
    """``--hidden 16 8`` -> [16, 8]; ``--hidden none`` (or nothing) -> [] (no hidden
    layer: the lecture's linear softmax classifier)."""
    if values in ([], ["none"]):
        return []
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
              "batch_size": 1, "init": "uniform"},
    "digits": {"hidden": [32], "lr": 0.01, "epochs": 10, "optimizer": "sgd", "batch_size": 1,
               "init": "he"},
}


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chainrule", description="chainrule: see and check backpropagation."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train",
        help="train an MLP by backpropagation (default: 4 -> 16 ReLU -> 3 on Iris)",
        description="Train an MLP with softmax cross-entropy and report train/test accuracy. "
                    "Flags not given take the data set's defaults (printed at the start).",
    )
    train.add_argument("--dataset", choices=tuple(DEFAULTS), default="iris")
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
    train.add_argument("--momentum", type=_momentum, default=0.0, help="SGD momentum")
    train.add_argument("--seed", type=_seed, default=0,
                       help="seeds split, weights and order: a non-negative integer")
    train.add_argument("--test-size", type=_fraction, default=0.3,
                       help="fraction of the data held out for testing, in (0, 1)")
    train.add_argument("--out", type=Path, default=Path("runs/train"),
                       help="folder for model.json and history.json: a new or empty folder, "
                            "or an earlier run's (default: runs/train)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--jit", action="store_true",
                       help="compile one sample's loss with autograd.jit (same result, faster)")

    predict_command = commands.add_parser(
        "predict",
        help="classify raw measurements with a trained model file",
        description="Print the predicted class and the class probabilities for one sample "
                    "(the numbers on the command line) or for every row of a CSV file.",
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


def _load(dataset: str, seed: int):
    if dataset == "iris":
        X, y = data.load_iris()
        return X, y, list(data.IRIS_CLASSES)
    if dataset == "digits":
        X, y = data.load_digits()
        return X, y, list(data.DIGITS_CLASSES)
    X, y = data.make_moons(200, noise=0.1, seed=seed)
    return X, y, ["upper moon", "lower moon"]


def train(args: argparse.Namespace) -> int:
    for name, value in DEFAULTS[args.dataset].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    try:
        check_run_folder(args.out)  # before the training, not after it
    except (ValueError, OSError) as error:
        return _fail("train", f"--out {args.out}: {_reason(error, args.out, 'use')}")
    X, y, class_names = _load(args.dataset, args.seed)
    try:
        X_train, X_test, y_train, y_test = data.train_test_split(X, y, args.test_size,
                                                                 seed=args.seed)
    except ValueError as error:  # a --test-size that leaves a part empty
        return _fail("train", error)
    sizes = declared_sizes({"type": "MLP", "nin": X.shape[1],
                            "nouts": [*args.hidden, len(class_names)]})
    if sizes is None or sizes.parameters > MAX_PARAMETERS:
        return _fail("train", f"--hidden: {len(args.hidden)} hidden layer(s), the widest of "
                     f"{max(args.hidden, default=0)}, make a network larger than a model file "
                     f"may hold (1000 layers, {MAX_PARAMETERS} parameters); use fewer or "
                     "smaller layers")
    scaler = Standardize.fit(X_train)  # learned on the training split only
    X_train_std, X_test_std = scaler.transform(X_train), scaler.transform(X_test)

    network = MLP(X.shape[1], [*args.hidden, len(class_names)], args.activation,
                  seed=args.seed, init=args.init)
    if args.optimizer == "sgd":
        optimizer = SGD(network.parameters(), lr=args.lr, momentum=args.momentum)
    else:
        optimizer = Adam(network.parameters(), lr=args.lr)
    hidden = " ".join(map(str, args.hidden)) or "none"
    print(f"dataset {args.dataset}: {len(X_train)} train / {len(X_test)} test samples, "
          f"{X.shape[1]} features, {len(class_names)} classes; standardized with the "
          "training split's mean and std")
    print(f"model {network!r}: {len(network.parameters())} parameters, init {args.init}")
    print(f"settings: --hidden {hidden} --activation {args.activation} --optimizer "
          f"{args.optimizer} --lr {args.lr:g} --epochs {args.epochs} --batch-size "
          f"{args.batch_size} --seed {args.seed} --test-size {args.test_size:g}"
          f"{' --jit' if args.jit else ''}")

    def report(epoch: int, history: History) -> None:
        tqdm.write(f"epoch {epoch + 1:3d}/{args.epochs}  loss {history.loss[-1]:.4f}  "
                   f"train acc {history.accuracy[-1]:.3f}  test acc {history.val_accuracy[-1]:.3f}")

    started = time.perf_counter()
    try:
        # (fit reports an overflow itself, as TrainingDiverged: numpy's warnings on the way
        # there would be lines of noise before that one line)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = fit(network, X_train_std, y_train, loss="cross_entropy",
                          optimizer=optimizer, epochs=args.epochs, batch_size=args.batch_size,
                          seed=args.seed, validation=(X_test_std, y_test),
                          progress=not args.no_progress, on_epoch=report, jit=args.jit)
    except TrainingDiverged as error:
        return _fail("train", f"{error}. Nothing was written.", 1)
    seconds = time.perf_counter() - started

    model = Classifier(network, class_names, preprocess=scaler)
    test_accuracy = history.val_accuracy[-1]
    matrix = confusion_matrix(y_test, predict(model, X_test), len(class_names))
    try:
        model_path, history_path = save_run(args.out, model, {
            "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                       if k != "command"},
            "classes": class_names,
            "epochs": [{"epoch": i + 1, "loss": loss, "train_accuracy": acc,
                        "test_accuracy": val}
                       for i, (loss, acc, val) in enumerate(
                           zip(history.loss, history.accuracy, history.val_accuracy))],
            "test_accuracy": test_accuracy,
            "confusion_matrix": matrix.tolist(),
            "seconds": seconds,
        })
    except (ValueError, OSError) as error:
        return _fail("train", _reason(error, args.out), 1)
    print(f"final test accuracy {test_accuracy:.4f} ({round(test_accuracy * len(y_test))}"
          f"/{len(y_test)}) after {seconds:.1f} s")
    print("confusion matrix (rows: true class, columns: predicted):")
    width = max(len(name) for name in class_names)
    for name, row in zip(class_names, matrix):
        print(f"  {name:>{width}}  " + " ".join(f"{count:4d}" for count in row))
    print(f"wrote {_shown(model_path)} (standardization, network and class names: use it with "
          f"chainrule predict {_shown(model_path)} ...) and {_shown(history_path)}")
    return 0


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
    if not isinstance(model, Classifier):
        return _fail("predict", f"{args.model} holds a {type(model).__name__}, not a "
                     "classifier from chainrule train")
    try:
        if args.input is None:
            lines, X = [""], np.array([_features(args.features, model.nin)])
        else:
            lines, X = _read_rows(args.input, model.nin)
        _check_preprocessing(model, X, lines)
    except OSError as error:
        return _fail("predict", _reason(error, args.input, "read"))
    except ValueError as error:
        return _fail("predict", error)
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


def _read_rows(path: Path, expected: int) -> tuple[list[str], np.ndarray]:
    """The rows of a CSV file of numbers (a first line that is not numbers is a header),
    as a matrix, with where each row is (``FILE, line N: ``) for messages."""
    raw = read_bytes(path, data.MAX_CSV_BYTES, "CSV file to predict")
    try:
        text = raw.decode("utf-8-sig")  # (a spreadsheet's byte order mark is not data)
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start} is invalid); give a "
                         "CSV file of numbers") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    lines: list[str] = []
    values = array("d")  # (8 bytes a number: a large file stays small in memory)
    first = True
    try:
        for row in reader:
            if not row:
                continue
            if first:
                first = False
                if not _all_numbers(row):
                    continue  # a header
            where = f"{path}, line {reader.line_num}: "
            values.extend(_features(row, expected, where))
            lines.append(where)
    except csv.Error as error:  # a field beyond csv's limit, say
        raise ValueError(f"{path}, line {reader.line_num}: not a CSV file of numbers "
                         f"({error})") from None
    if not lines:
        raise ValueError(f"{path} holds no rows to predict")
    return lines, np.frombuffer(values, dtype=float).reshape(len(lines), expected)


def _all_numbers(row: Sequence[str]) -> bool:
    try:
        [float(x) for x in row]
    except ValueError:
        return False
    return True


def _check_preprocessing(model: Classifier, X: np.ndarray, lines: Sequence[str]) -> None:
    """Refuse a sample that the model's standardization turns into inf: (x - mean) / scale
    overflows a float for finite x far enough from the training data."""
    if not isinstance(model.preprocess, Standardize):
        return
    with np.errstate(over="ignore", invalid="ignore"):
        standardized = model.preprocess.transform(X)
    rows, columns = np.nonzero(~np.isfinite(standardized))
    if len(rows):
        i, j = int(rows[0]), int(columns[0])
        x, mean, scale = float(X[i, j]), model.preprocess.mean[j], model.preprocess.scale[j]
        raise ValueError(f"{lines[i]}feature {j + 1} = {x!r} is too far from the data the "
                         f"model was trained on: (x - mean) / scale = ({x:g} - {mean:g}) / "
                         f"{scale:g} overflows a float; check the number")


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
    args = _parser().parse_args(arguments)
    if args.command == "train":
        return train(args)
    if args.command == "graph":
        return graph(args)
    if args.command == "predict":
        return predict_command(args)
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
