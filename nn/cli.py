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
import math
import sys
import time
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
from autograd.files import write_atomic, write_json

from . import data
from .layers import ACTIVATIONS, INITS, MLP
from .metrics import confusion_matrix, predict
from .model_files import load
from .optim import SGD, Adam
from .preprocessing import Classifier, Standardize
from .training import History, TrainingDiverged, fit

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


_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
_positive_float = _number(float, lambda v: v > 0 and math.isfinite(v),
                          "a positive, finite number")
_fraction = _number(float, lambda v: 0.0 < v < 1.0, "strictly between 0 and 1")
_momentum = _number(float, lambda v: 0.0 <= v < 1.0, "in [0, 1)")


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
    parser = argparse.ArgumentParser(
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
    train.add_argument("--epochs", type=_positive_int, default=None)
    train.add_argument("--batch-size", type=_positive_int, default=None,
                       help="1 = per-sample SGD; more = minibatches of the mean loss")
    train.add_argument("--optimizer", choices=("sgd", "adam"), default=None)
    train.add_argument("--momentum", type=_momentum, default=0.0, help="SGD momentum")
    train.add_argument("--seed", type=int, default=0, help="seeds split, weights and order")
    train.add_argument("--test-size", type=_fraction, default=0.3,
                       help="fraction of the data held out for testing, in (0, 1)")
    train.add_argument("--out", type=Path, default=Path("runs/train"),
                       help="folder for model.json and history.json (default: runs/train)")
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
                                 help="predict every row of this CSV file (a header is allowed)")
    predict_command.add_argument("--output", type=Path, default=None, metavar="CSV",
                                 help="with --input: write the predictions here as CSV")

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
    graph.add_argument("--timeout", type=_positive_float, default=30.0, metavar="SECONDS",
                       help="stop Graphviz if the layout takes longer (default: 30)")
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
    X, y, class_names = _load(args.dataset, args.seed)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, args.test_size, seed=args.seed)
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
        history = fit(network, X_train_std, y_train, loss="cross_entropy", optimizer=optimizer,
                      epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                      validation=(X_test_std, y_test), progress=not args.no_progress,
                      on_epoch=report, jit=args.jit)
    except TrainingDiverged as error:
        print(f"chainrule train: {error}. Nothing was written.", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started

    model = Classifier(network, class_names, preprocess=scaler)
    test_accuracy = history.val_accuracy[-1]
    matrix = confusion_matrix(y_test, predict(model, X_test), len(class_names))
    try:
        model_path = model.save(args.out / "model.json")
        history_path = write_json(args.out / "history.json", {
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
    except OSError as error:
        print(f"chainrule train: {_reason(error, args.out)}", file=sys.stderr)
        return 1
    print(f"final test accuracy {test_accuracy:.4f} ({round(test_accuracy * len(y_test))}"
          f"/{len(y_test)}) after {seconds:.1f} s")
    print("confusion matrix (rows: true class, columns: predicted):")
    width = max(len(name) for name in class_names)
    for name, row in zip(class_names, matrix):
        print(f"  {name:>{width}}  " + " ".join(f"{count:4d}" for count in row))
    print(f"wrote {model_path} (standardization, network and class names: use it with "
          f"chainrule predict {model_path} ...) and {history_path}")
    return 0


def predict_command(args: argparse.Namespace) -> int:
    """``chainrule predict MODEL x1 x2 ...`` or ``--input FILE.csv [--output OUT.csv]``."""
    if bool(args.features) == (args.input is not None):
        print("chainrule predict: give either the sample's features on the command line or "
              "--input FILE.csv (not both, not neither)", file=sys.stderr)
        return 2
    if args.output is not None and args.input is None:
        print("chainrule predict: --output goes with --input", file=sys.stderr)
        return 2
    if not args.model.is_file():
        print(f"chainrule predict: no model file at {args.model}; train one with "
              "chainrule train (it writes runs/train/model.json)", file=sys.stderr)
        return 2
    try:
        model = load(args.model)
    except (ValueError, OSError) as error:
        print(f"chainrule predict: {error}", file=sys.stderr)
        return 1
    if not isinstance(model, Classifier):
        print(f"chainrule predict: {args.model} holds a {type(model).__name__}, not a "
              "classifier from chainrule train", file=sys.stderr)
        return 2
    try:
        rows = (_read_rows(args.input, model.nin) if args.input is not None
                else [_features(args.features, model.nin)])
    except OSError as error:
        print(f"chainrule predict: cannot read {args.input}: {error.strerror or error}",
              file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"chainrule predict: {error}", file=sys.stderr)
        return 2
    try:
        probabilities = model.predict_proba(np.array(rows))
    except ArithmeticError as error:
        print(f"chainrule predict: cannot classify these numbers: {error}", file=sys.stderr)
        return 1
    classes = model.classes
    if args.input is None:
        best = int(np.argmax(probabilities[0]))
        print(classes[best])
        width = max(map(len, classes))
        for name, p in zip(classes, probabilities[0]):
            print(f"  p({name}){' ' * (width - len(name))} = {p:.4f}")
        return 0
    lines = ["prediction," + ",".join(f"p({name})" for name in classes)]
    lines += [classes[int(np.argmax(row))] + "," + ",".join(f"{p:.6f}" for p in row)
              for row in probabilities]
    text = "\n".join(lines) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        path = write_atomic(args.output, text)
    except OSError as error:
        print(f"chainrule predict: {_reason(error, args.output)}", file=sys.stderr)
        return 1
    print(f"wrote {len(rows)} predictions to {path}")
    return 0


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


def _read_rows(path: Path, expected: int) -> list[list[float]]:
    """The rows of a CSV file of numbers; a first line that is not numbers is a header."""
    with open(path, encoding="utf-8", newline="") as file:
        rows = [(number, row) for number, row in enumerate(csv.reader(file), 1) if row]
    if rows:
        try:
            [float(x) for x in rows[0][1]]
        except ValueError:
            rows = rows[1:]  # a header
    if not rows:
        raise ValueError(f"{path} holds no rows to predict")
    return [_features(row, expected, f"{path}, line {number}: ") for number, row in rows]


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
    try:
        values = _assignments(args.assignments)
        out, inputs = parse_expression(args.expression, values)
    except ExpressionError as error:
        print(f"chainrule graph: {error}", file=sys.stderr)
        return 2
    unused = sorted(set(values) - set(inputs))
    if unused:
        print(f"chainrule graph: {', '.join(unused)} not used in the expression",
              file=sys.stderr)
        return 2
    try:
        out.backward()
    except (ArithmeticError, ValueError) as error:
        print(f"chainrule graph: cannot differentiate: {error}", file=sys.stderr)
        return 2
    if out.parents:  # a bare variable keeps its own name
        out.label = "f"
    print(f"f = {args.expression} = {out.data!r}")
    for name, value in inputs.items():
        print(f"df/d{name} = {value.grad!r}")
        if args.explain:
            print(explain(out, value))
    page = args.output.suffix.lower() in (".html", ".htm")
    if page and args.step is not None:
        print("chainrule graph: --step draws one picture; the .html explorer holds every "
              "step (leave out --step, or write .svg / .png)", file=sys.stderr)
        return 2
    try:
        if page:
            path = explore(out, rankdir=args.rankdir, parameters=(),
                           render_timeout=args.timeout).write(args.output)
        else:
            picture = draw_dot(out, rankdir=args.rankdir, step=args.step, parameters=())
            picture.render_timeout = args.timeout
            path = picture.write(args.output)
    except (GraphTooLargeError, ValueError) as error:
        print(f"chainrule graph: {error}", file=sys.stderr)
        return 2
    except (GraphvizNotFoundError, GraphRenderTimeout, RuntimeError) as error:
        print(f"chainrule graph: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"chainrule graph: {_reason(error, args.output)}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def _reason(error: OSError, path: Path) -> str:
    """One line for an OSError met writing ``path``."""
    if error.strerror is None:  # our own message, which names the path
        return str(error)
    return f"cannot write {path}: {error.strerror}"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    for argument in arguments:
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            shown = argument.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            print(f"chainrule: the argument {shown!r} holds bytes that are not valid text "
                  "(UTF-8); retype it", file=sys.stderr)
            return 2
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
