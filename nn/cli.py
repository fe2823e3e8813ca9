"""The ``chainrule`` command (also ``python -m nn``).

``chainrule graph EXPR name=value ...`` draws the chain-rule graph of an
expression (parsed safely, see :mod:`autograd.expr`).

``chainrule train`` is the project's main job: an MLP 4 -> 16 (ReLU) -> 3 with
softmax cross-entropy, trained by per-sample SGD on the bundled Iris data
(70/30 stratified split, standardized with the training statistics, seeded).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from autograd import (
    GraphRenderTimeout,
    GraphTooLargeError,
    GraphvizNotFoundError,
    draw_dot,
    explain,
)
from autograd.expr import FUNCTIONS, ExpressionError, parse_expression
from autograd.files import write_json

from . import data
from .metrics import confusion_matrix, predict
from .modules import ACTIVATIONS, MLP
from .optim import SGD, Adam
from .training import History, fit

__all__ = ["main"]


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule", description="chainrule: see and check backpropagation."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train",
        help="train an MLP by backpropagation (default: 4 -> 16 ReLU -> 3 on Iris)",
        description="Train an MLP with softmax cross-entropy and report train/test accuracy.",
    )
    train.add_argument("--dataset", choices=("iris", "moons"), default="iris")
    train.add_argument("--hidden", type=_positive_int, nargs="*", default=[16], metavar="N",
                       help="hidden layer sizes (default: 16; none for a linear classifier)")
    train.add_argument("--activation", choices=tuple(ACTIVATIONS), default="relu")
    train.add_argument("--lr", type=_positive_float, default=0.01,
                       help="learning rate (default: 0.01)")
    train.add_argument("--epochs", type=_positive_int, default=30)
    train.add_argument("--batch-size", type=_positive_int, default=1,
                       help="1 = per-sample SGD (default); more = minibatches of the mean loss")
    train.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    train.add_argument("--momentum", type=float, default=0.0, help="SGD momentum")
    train.add_argument("--seed", type=int, default=0, help="seeds split, weights and order")
    train.add_argument("--test-size", type=float, default=0.3)
    train.add_argument("--out", type=Path, default=Path("runs/train"),
                       help="folder for model.json and history.json (default: runs/train)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--jit", action="store_true",
                       help="compile one sample's loss with autograd.jit (same result, faster)")

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
                       help="output file; .svg (default), .png, .pdf, or .dot for DOT text")
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
    X, y = data.make_moons(200, noise=0.1, seed=seed)
    return X, y, ["upper moon", "lower moon"]


def train(args: argparse.Namespace) -> int:
    X, y, class_names = _load(args.dataset, args.seed)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, args.test_size, seed=args.seed)
    scaler = data.Standardizer().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    model = MLP(X.shape[1], [*args.hidden, len(class_names)], args.activation, seed=args.seed)
    if args.optimizer == "sgd":
        optimizer = SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    else:
        optimizer = Adam(model.parameters(), lr=args.lr)
    print(f"dataset {args.dataset}: {len(X_train)} train / {len(X_test)} test samples, "
          f"{X.shape[1]} features, {len(class_names)} classes")
    print(f"model {model!r}: {len(model.parameters())} parameters; "
          f"{args.optimizer} lr={args.lr}, batch size {args.batch_size}, {args.epochs} epochs")

    def report(epoch: int, history: History) -> None:
        tqdm.write(f"epoch {epoch + 1:3d}/{args.epochs}  loss {history.loss[-1]:.4f}  "
                   f"train acc {history.accuracy[-1]:.3f}  test acc {history.val_accuracy[-1]:.3f}")

    started = time.perf_counter()
    history = fit(model, X_train, y_train, loss="cross_entropy", optimizer=optimizer,
                  epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                  validation=(X_test, y_test), progress=not args.no_progress, on_epoch=report,
                  jit=args.jit)
    seconds = time.perf_counter() - started

    test_accuracy = history.val_accuracy[-1]
    matrix = confusion_matrix(y_test, predict(model, X_test), len(class_names))
    model_path = model.save(args.out / "model.json")
    history_path = write_json(args.out / "history.json", {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                   if k != "command"},
        "classes": class_names,
        "standardize": {"mean": scaler.mean.tolist(), "std": scaler.std.tolist()},
        "epochs": [{"epoch": i + 1, "loss": loss, "train_accuracy": acc, "test_accuracy": val}
                   for i, (loss, acc, val) in enumerate(
                       zip(history.loss, history.accuracy, history.val_accuracy))],
        "test_accuracy": test_accuracy,
        "confusion_matrix": matrix.tolist(),
        "seconds": seconds,
    })
    print(f"final test accuracy {test_accuracy:.4f} ({round(test_accuracy * len(y_test))}"
          f"/{len(y_test)}) after {seconds:.1f} s")
    print("confusion matrix (rows: true class, columns: predicted):")
    width = max(len(name) for name in class_names)
    for name, row in zip(class_names, matrix):
        print(f"  {name:>{width}}  " + " ".join(f"{count:4d}" for count in row))
    print(f"wrote {model_path} and {history_path}")
    return 0


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
    try:
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
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
