"""The command line against hostile arguments and files: never a traceback, never a hang,
never a write outside the output path.

Every case runs ``chainrule train``, ``predict`` or ``graph`` (the console entry point,
in-process; every 25th case also as a new process) in a folder of its own, and checks:

- no traceback, and an exit status of 0, 1 (the run failed: a diverging training, a
  corrupt model file, Graphviz) or 2 (a usage error);
- a failure prints exactly one line on stderr, starting ``chainrule``; nothing printed
  holds a raw control character (a name cannot move the cursor or fake a line);
- no hang: each case has a time limit;
- nothing written outside the output path: the folder's listing (names, sizes, times)
  is the same afterwards, except the output path on success.

The regular suite runs 300 cases from a fixed seed (about ten seconds); ``CHAINRULE_FUZZ=N``
runs N cases (and ``CHAINRULE_FUZZ_SEED`` another sequence). The issue's own cases come
first, as a table.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import chainrule

FUZZ = int(os.environ.get("CHAINRULE_FUZZ") or 0)
SEED = int(os.environ.get("CHAINRULE_FUZZ_SEED") or 20_240_601)
QUICK_CASES = 300
CASE_SECONDS = 30  # a case still running after this is a hang
PROCESS_EVERY = 25  # every so many cases also runs as a new process


# -- running the command and judging what it did -------------------------------------------


class _Hang(BaseException):
    """Raised in the case by the alarm (a BaseException: nothing catches it by mistake)."""


@dataclass
class Outcome:
    status: int | None = None
    out: str = ""
    err: str = ""
    traceback: str | None = None
    hang: bool = False
    warned: list[str] = field(default_factory=list)


def run_in_process(args: list[str], cwd: Path, seconds: float = CASE_SECONDS) -> Outcome:
    """``chainrule ARGS`` as the console script runs it, in this process, in ``cwd``."""
    outcome = Outcome()
    out, err = io.StringIO(), io.StringIO()

    def alarm(signum, frame):
        raise _Hang

    previous_handler = signal.signal(signal.SIGALRM, alarm)
    previous_folder = os.getcwd()
    os.chdir(cwd)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with warnings.catch_warnings(record=True) as warned, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            warnings.simplefilter("always")
            try:
                outcome.status = chainrule.main(args)
            except SystemExit as stop:
                outcome.status = stop.code if isinstance(stop.code, int) else (
                    0 if stop.code is None else 1)
            except _Hang:
                outcome.hang = True
            except BaseException:
                outcome.traceback = traceback.format_exc()
        outcome.warned = [str(w.message) for w in warned]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        os.chdir(previous_folder)
    outcome.out, outcome.err = out.getvalue(), err.getvalue()
    return outcome


def run_as_process(args: list[str], cwd: Path, seconds: float = CASE_SECONDS) -> Outcome:
    """``python -m chainrule ARGS`` in a new process, limited to 2 GB and ``seconds``."""

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    try:
        done = subprocess.run([sys.executable, "-m", "chainrule", *args], cwd=cwd,
                              capture_output=True, timeout=seconds, preexec_fn=limit,
                              env={**os.environ, "PYTHONWARNINGS": "always"})
    except subprocess.TimeoutExpired:
        return Outcome(hang=True)
    err = done.stderr.decode("utf-8", "backslashreplace")
    return Outcome(status=done.returncode, out=done.stdout.decode("utf-8", "backslashreplace"),
                   err=err, traceback=err if "Traceback (most recent call last)" in err else None)


def listing(folder: Path) -> dict[str, tuple[int, int, int]]:
    """{path: (mode, size, mtime)} for everything under ``folder`` (links not followed)."""
    found = {}
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            path = os.path.join(root, name)
            info = os.lstat(path)
            found[os.path.relpath(path, folder)] = (info.st_mode, info.st_size,
                                                    info.st_mtime_ns)
    return found


def _under(path: str, output: str | None) -> bool:
    """Whether ``path`` is the output path, inside it, or a folder made on the way to it."""
    if output is None:
        return False
    return output == "." or path == output or path.startswith(output + os.sep) or output.startswith(
        path + os.sep)


def _raw_controls(text: str) -> list[str]:
    return sorted({repr(c) for c in text if c != "\n" and (
        unicodedata.category(c) in ("Cc", "Cs") or c in "\u202a\u202b\u202c\u202d\u202e")})


def problems(outcome: Outcome, before: dict, after: dict, output: str | None,
             case: Path | None = None) -> list[str]:
    """What is wrong with a case's outcome (nothing, for a clean success or refusal). The
    output path may be a symlink: the file it points to is the output then."""
    found = []
    if outcome.hang:
        return [f"no answer within {CASE_SECONDS} s"]
    if outcome.traceback:
        return ["traceback:\n" + outcome.traceback[-3000:]]
    if outcome.status not in (0, 1, 2):
        found.append(f"exit status {outcome.status!r}")
    if outcome.status != 0:
        lines = outcome.err.strip().splitlines()
        if len(lines) != 1 or not lines[0].startswith("chainrule"):
            found.append(f"stderr is not one 'chainrule ...' line: {outcome.err[-600:]!r}")
    for stream, text in (("stdout", outcome.out), ("stderr", outcome.err)):
        if _raw_controls(text):
            found.append(f"{stream} prints raw control characters {_raw_controls(text)}")
    if outcome.warned:
        found.append(f"warnings: {outcome.warned[:3]}")
    changed = sorted(path for path in before.keys() | after.keys()
                     if before.get(path) != after.get(path))
    allowed = [output] if outcome.status == 0 else []
    if allowed and output is not None and case is not None:
        allowed.append(os.path.relpath(os.path.realpath(case / output), os.path.realpath(case)))
    outside = [path for path in changed if not any(_under(path, a) for a in allowed)]
    if outside:
        found.append(f"wrote outside the output path: {outside[:5]}")
    return found


# -- what the cases are made of ------------------------------------------------------------


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    """Shared files the cases read (never written): a trained model, its JSON, a CSV
    larger than predict reads, and their digests to check they stay unchanged."""
    folder = tmp_path_factory.mktemp("fuzz-fixtures")
    with contextlib.redirect_stdout(io.StringIO()):
        assert chainrule.main(["train", "--epochs", "2", "--no-progress", "--out",
                               str(folder / "run")]) == 0
    big = folder / "big.csv"
    with open(big, "wb") as file:
        file.write(b"5.1,3.5,1.4,0.2\n" * ((16 << 20) // 16 + 1))
    return {"folder": folder, "model": folder / "run" / "model.json",
            "saved": json.loads((folder / "run" / "model.json").read_text()),
            "big": big, "before": listing(folder)}


NUMBERS = ["0", "-0", "1", "-1", "0.5", "1e308", "-1e308", "1.7976931348623157e308",
           "1e309", "-1e309", "5e-324", "1e-320", "nan", "-nan", "inf", "-inf", "Infinity",
           "1e400", "abc", "", " ", "1_0", "0x10", "1,5", "٣", "9" * 5000, "1e", "--1", "+1",
           "\x1b[31m1", "1\n2", "\u202e1", "2**64", "99999999999999999999"]


def _number(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return repr(rng.choice([rng.uniform(-10, 10), rng.gauss(0, 1e6),
                                10 ** rng.uniform(-320, 308), -10 ** rng.uniform(-320, 308)]))
    return rng.choice(NUMBERS)


def _hostile_text(rng: random.Random) -> str:
    return rng.choice(["", " ", "\x1b[2J\x1b[31mred", "a\nb", "\u202eevil", "x" * 5000,
                       "..", "/", "-", "--", "-h", "none", "relu ", "RELU", "gelu", "\t",
                       "é", "😀"])


def _place(rng: random.Random, case: Path, fixtures: dict, kind: str) -> str:
    """A path of the given hostile kind, made in ``case`` when it must exist."""
    if kind == "new":
        return str(case / rng.choice(["out", "o\x1b[31mut", "line\nbreak", "sub/dir/out",
                                      "é😀", "x" * 200]))
    if kind == "folder":
        (case / "folder").mkdir(exist_ok=True)
        return str(case / "folder")
    if kind == "folder with a file":
        (case / "project").mkdir(exist_ok=True)
        (case / "project" / "notes.txt").write_text("mine")
        return str(case / "project")
    if kind == "file":
        (case / "file.txt").write_text("mine")
        return str(case / "file.txt")
    if kind == "inside a file":
        (case / "file.txt").write_text("mine")
        return str(case / "file.txt" / "below")
    if kind == "fifo":
        with contextlib.suppress(FileExistsError):
            os.mkfifo(case / "fifo")
        return str(case / "fifo")
    if kind == "dangling symlink":
        with contextlib.suppress(FileExistsError):
            (case / "dangling").symlink_to(case / "nowhere")
        return str(case / "dangling")
    if kind == "symlink loop":
        with contextlib.suppress(FileExistsError):
            (case / "loop").symlink_to(case / "loop")
        return str(case / "loop")
    if kind == "too long":
        return str(case / ("n" * 300))
    if kind == "empty":
        return ""
    if kind == "here":
        return "."
    return rng.choice(["/dev/null", "/dev/zero", "/dev/full", "/dev/urandom", "/dev", "/",
                       "/proc/self", "/proc/self/status", "/proc/nonexistent/x"])


PLACES = ["new", "folder", "folder with a file", "file", "inside a file", "fifo",
          "dangling symlink", "symlink loop", "too long", "empty", "here", "device"]


def _flag_value(rng: random.Random, values: list[str]) -> str:
    return rng.choice(values) if rng.random() < 0.7 else _number(rng)


TRAIN_FLAGS = {
    "--seed": ["-1", "-0", "7", "99999999999999999999", "nan", "1e3", "0x1f", "", " 7 ", "٣",
               "1_000", "-99999999999999999999"],
    "--test-size": ["0.0001", "0.9999", "0.99", "0.995", "0.01", "0.02", "0.98", "0.5", "0",
                    "1", "-0.0", "1e-300", "5e-324", "nan", "inf", "0.3 ", "0.009"],
    "--epochs": ["0", "-1", "nan", "1e3", "99999999999999999999", "1000001", "", "٣", "1_0",
                 "0x2", "2.0", "3"],
    "--batch-size": ["0", "-5", "99999999999999999999", "1e9", "nan", "3", "16", "1000000"],
    "--lr": ["0", "-1", "nan", "inf", "-inf", "1e308", "1e-320", "5e-324", "1e6", "abc", "1e30",
             "0.5"],
    "--momentum": ["1", "-0.1", "nan", "0.999999", "1e-320", "0.5", "inf"],
    "--activation": ["relu", "tanh", "sigmoid", "step", "linear", "gelu", "RELU", ""],
    "--init": ["uniform", "he", "lecun", "xavier", ""],
    "--optimizer": ["sgd", "adam", "rmsprop", ""],
    "--dataset": ["iris", "moons", "mnist", "", "IRIS"],
}

HIDDEN = [["0"], ["-3"], ["99999999999"], ["2000000"], ["1000000"], ["nan"], ["none", "4"],
          ["2"] * 1001, ["2"] * 30, ["none"], [], ["1"], ["4", "x"], ["1e3"], ["3", "3"]]


def train_case(rng: random.Random, case: Path, fixtures: dict) -> tuple[list[str], str | None]:
    flags = {"--epochs": rng.choice(["1", "1", "2"]),
             "--dataset": rng.choice(["iris", "iris", "moons"])}
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        name = rng.choice([*TRAIN_FLAGS, "--hidden", "--out"])
        if name == "--hidden":
            flags[name] = rng.choice(HIDDEN)
        elif name == "--out":
            flags[name] = _place(rng, case, fixtures, rng.choice(PLACES))
        else:
            flags[name] = _flag_value(rng, TRAIN_FLAGS[name])
    if "--out" not in flags:
        flags["--out"] = str(case / "run")
        if rng.random() < 0.3:  # an earlier run's folder, replaced
            shutil.copytree(fixtures["folder"] / "run", case / "run")
    args = ["train", "--no-progress"]
    for name, value in flags.items():
        args += [name, *value] if isinstance(value, list) else [name, value]
    if rng.random() < 0.2:
        args.append("--jit")
    if rng.random() < 0.05:
        args += rng.choice([["--nope"], ["--lr"], ["--epoch", "1"], ["-x"], ["--help"],
                            [_hostile_text(rng)]])
    output = os.path.relpath(os.path.abspath(os.path.join(case, flags["--out"])), case)
    return args, output


MAX_DEPTH_EDGE = 32


def _model_variants(saved: dict) -> list:
    """Edits of a good model file's JSON, each a function of a fresh copy."""
    module = "module"

    def set_preprocess(key, index, value):
        return lambda d: d[module]["preprocess"][key].__setitem__(index, value)

    def first_parameter(value):
        return lambda d: d["parameters"].__setitem__(next(iter(d["parameters"])), value)

    def nested(depth):
        def make(d):
            inner = d[module]
            for _ in range(depth):
                inner = {"type": "Classifier", "classes": d[module]["classes"],
                         "preprocess": None, "network": inner}
            d[module] = inner
        return make

    return [
        set_preprocess("mean", 1, 1e308), set_preprocess("mean", 0, -1e308),
        set_preprocess("scale", 1, 1e-308), set_preprocess("scale", 2, 5e-324),
        set_preprocess("scale", 0, 1e308), set_preprocess("scale", 0, 0.0),
        set_preprocess("mean", 0, "1"),
        lambda d: d[module]["preprocess"]["mean"].append(0.0),
        lambda d: (d[module]["preprocess"]["mean"].append(0.0),
                   d[module]["preprocess"]["scale"].append(1.0)),
        lambda d: d[module].update(preprocess=None),
        lambda d: d[module].update(preprocess={"type": "MLP", "nin": 4, "nouts": [4],
                                               "activation": "relu"}),
        first_parameter(1e308), first_parameter(-1e308), first_parameter(10 ** 25),
        first_parameter(True), first_parameter("1"), first_parameter(None),
        first_parameter([1.0]),
        lambda d: d["parameters"].popitem(),
        lambda d: d["parameters"].update(extra=1.0),
        lambda d: d.update(parameters={}),
        lambda d: d.update(parameters=[]),
        lambda d: d["parameters"].update({k: 1e300 for k in d["parameters"]}),
        lambda d: d[module]["network"].update(nouts=[600000, 3]),
        lambda d: d[module]["network"].update(nouts=[10 ** 9, 3]),
        lambda d: d[module]["network"].update(nouts=[100_000, 100_000, 3]),
        lambda d: d[module]["network"].update(nouts=[-1, 3]),
        lambda d: d[module]["network"].update(nouts=[]),
        lambda d: d[module]["network"].update(nouts="3"),
        lambda d: d[module]["network"].update(nouts=[16, 4]),
        lambda d: d[module]["network"].update(nin=5),
        lambda d: d[module]["network"].update(nin=4.0),
        lambda d: d[module]["network"].update(activation="__import__"),
        lambda d: d[module]["network"].update(activations=[["relu"] * 16, "tanh"]),
        lambda d: d[module].update(classes=[]),
        lambda d: d[module].update(classes=["a"]),
        lambda d: d[module].update(classes=["a", "a", "b"]),
        lambda d: d[module].update(classes=[1, 2, 3]),
        lambda d: d[module].update(classes=["x" * 1000, "b", "c"]),
        lambda d: d[module].update(classes=[str(i) for i in range(100_000)]),
        lambda d: d[module].update(classes=["\x1b[2J\x1b[31mred", "two\nlines", "\u202eeurt"]),
        lambda d: d[module].update(classes=["\ud800", "b\udcff", "\x00"]),
        lambda d: d[module].update(type="Os"),
        lambda d: d.update(module=d[module]["network"]),
        lambda d: d.update(module={"type": "Perceptron", "nin": 4}),
        lambda d: d[module].update(network={"type": "Perceptron", "nin": 4}),
        lambda d: d[module].update(network={"type": "Neuron", "nin": 4, "activation": "relu"}),
        lambda d: d[module].update(network={"type": "Layer", "nin": 4, "nout": 5,
                                            "activation": "relu"}),
        lambda d: d[module].update(network={"type": "Layer", "nin": 4, "nout": 3,
                                            "activation": "relu"}),
        nested(1), nested(MAX_DEPTH_EDGE - 1), nested(MAX_DEPTH_EDGE + 1), nested(480),
        lambda d: d.update(version=True), lambda d: d.update(version=2),
        lambda d: d.update(format="pickle"), lambda d: d.update(extra=1),
        lambda d: d.pop("parameters"),
    ]


def _model_file(rng: random.Random, case: Path, fixtures: dict) -> str:
    """A model file: good, edited, broken bytes, or a path of a hostile kind."""
    choice = rng.random()
    path = case / rng.choice(["model.json", "m\x1b[31m.json", "m\nodel.json"])
    good = fixtures["model"].read_bytes()
    if choice < 0.45:
        path.write_bytes(good)
    elif choice < 0.7:
        saved = json.loads(good)
        rng.choice(_model_variants(saved))(saved)
        path.write_text(json.dumps(saved))
    elif choice < 0.9:
        path.write_bytes(rng.choice([
            b"", b"null", b"[]", b"{}", b"1e400", b"9" * 5000, b"NaN", b"\xff\xfe\x00\x00",
            good[: rng.randrange(len(good))],
            good.replace(b'"', b"'", 1),
            bytes(rng.randrange(256) for _ in range(1024)),
            b"[" * 100_000 + b"]" * 100_000,
            b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
            b" " * (3 << 20) + good,
            b"\xef\xbb\xbf" + good,
            good.decode().encode("utf-16"),
            good.replace(b"0.", b"1e999999", 1),
            good.replace(b'"format"', b'"format": 1, "format"', 1),
            good + b"garbage",
        ]))
    else:
        return _place(rng, case, fixtures, rng.choice(PLACES))
    return str(path)


def _csv_file(rng: random.Random, case: Path, fixtures: dict, model: str) -> str:
    choice = rng.random()
    path = case / rng.choice(["rows.csv", "r\x1b[2Jows.csv"])
    if choice < 0.6:
        rows = [",".join(rng.choice(["5.1", "3.5", "1.4", "0.2", "6.7"]) if rng.random() < 0.97
                         else _number(rng) for _ in range(rng.choice([4] * 12 + [3, 5, 0])))
                for _ in range(rng.randint(0, 8))]
        if rng.random() < 0.4:
            rows.insert(0, "sepal_length,sepal_width,petal_length,petal_width")
        path.write_text(rng.choice(["\n", "\r\n", "\r"]).join(rows) + rng.choice(["", "\n"]))
    elif choice < 0.85:
        path.write_bytes(rng.choice([
            b"", b"\n\n\n", b"a,b,c,d\n", b"1,2,3,4\x00\n", b"\x00" * 100,
            b"1," + b"1" * 140_000 + b",1,1\n", b",".join([b"1"] * 10_000) + b"\n",
            b'"1,2,3,4\n', b'1,"2\n3",3,4\n', b"\xef\xbb\xbf5.1,3.5,1.4,0.2\n",
            "5.1,3.5,1.4,0.2\n".encode("utf-16"), b"5.1;3.5;1.4;0.2\n",
            bytes(rng.randrange(256) for _ in range(2048)), b"1,2,3,4\n" * 20_000,
            b"1e308,1e308,1e308,1e308\n-1e308,1,1,1\n",
        ]))
    elif choice < 0.92:
        return rng.choice([str(fixtures["big"]), model])
    else:
        return _place(rng, case, fixtures, rng.choice(PLACES))
    return str(path)


def predict_case(rng: random.Random, case: Path, fixtures: dict) -> tuple[list[str], str | None]:
    model = _model_file(rng, case, fixtures)
    args = ["predict", model]
    output = None
    if rng.random() < 0.45:
        count = rng.choice([4, 4, 4, 0, 3, 5, 100])
        args += [_number(rng) if rng.random() < 0.1 else rng.choice(["5.1", "3.5", "1.4"])
                 for _ in range(count)]
    else:
        rows = _csv_file(rng, case, fixtures, model)
        args += ["--input", rows]
        if rng.random() < 0.5:
            output = rng.choice([rows, model, _place(rng, case, fixtures, rng.choice(PLACES)),
                                 *[str(case / "predictions.csv")] * 3])
            if rng.random() < 0.1 and os.path.isfile(rows):
                with contextlib.suppress(FileExistsError):
                    os.link(rows, case / "hardlink.csv")
                output = str(case / "hardlink.csv")
            args += ["--output", output]
    if rng.random() < 0.05:
        extra = rng.choice([["--output", "x.csv"], ["--input"], ["1", "--input", "x"],
                            ["--nope"]])
        args += extra
        output = "x.csv" if "--output" in extra else output  # (the last one given counts)
    relative = None if output is None else os.path.relpath(
        os.path.abspath(os.path.join(case, output)), case)
    return args, relative


EXPRESSIONS = ["tanh(w*x + b)", "log(1 + exp(-y*s))", "x**2 + 2**x", "x/y", "sqrt(x)",
               "log(x)", "x*x*x", "exp(x)", "1/(x - x)", "log(0*x)", "sqrt(-x*x)", "x**y",
               "9**9**9", "1e309*x", "x # \x1b[2J", "x\n+1", "(" * 5000 + "x" + ")" * 5000,
               "+".join(["x"] * 400), "__import__('os').system('id')", "x.__class__", "'x'",
               "", " ", "x" * 10_000, "λ", "x +", "tanh", "tanh(x, y)", "exp(exp(exp(x)))",
               "asin(x)", "acos(y)", "atan2(x, y)", "maximum(x, y)", "x if x else y"]
TOKENS = ["x", "y", "+", "-", "*", "/", "**", "(", ")", "1e308", "0", "2", "exp", "log", "tanh",
          "sin", ",", ".", "sqrt", "abs", "1e-320"]


def graph_case(rng: random.Random, case: Path, fixtures: dict) -> tuple[list[str], str | None]:
    if rng.random() < 0.6:
        expression = rng.choice(EXPRESSIONS)
    else:
        expression = " ".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 12)))
    names = [n for n in "xywbs" if re.search(rf"\b{n}\b", expression)]
    if rng.random() < 0.2:
        names = rng.sample("xywbs", rng.randint(0, 4))
    assignments = [f"{n}={_number(rng) if rng.random() < 0.2 else rng.uniform(0.1, 3)}"
                   for n in names]
    if rng.random() < 0.15:
        assignments.append(rng.choice(["x", "=1", "1x=2", "x=1=2", "x=1", "z=1", "exp=1",
                                       "x\x1b=1", "é=2"]))
    suffix = rng.choice([".svg", ".svg", ".dot", ".dot", ".dot", ".html", ".png", ".pdf",
                         ".exe", ".x11", "", ".json", ".DOT"])
    if rng.random() < 0.85:
        output = str(case / rng.choice(["g", "g", "a/b/g", "g\x1b[31m", "g\nh"])) + suffix
    else:
        output = _place(rng, case, fixtures, rng.choice(PLACES))
    args = ["graph", expression, *assignments, "-o", output]
    if rng.random() < 0.3:
        args += ["--timeout", _flag_value(rng, ["0", "-1", "nan", "inf", "1e10", "86401",
                                                "0.001", "5", "1e-320", "86400"])]
    if rng.random() < 0.2:
        args += ["--step", _flag_value(rng, ["-1", "0", "1", "3", "99999999999999999999",
                                             "nan", "1.5"])]
    if rng.random() < 0.2:
        args.append("--explain")
    if rng.random() < 0.1:
        args += ["--rankdir", rng.choice(["LR", "TB", "RL", ""])]
    return args, os.path.relpath(os.path.abspath(os.path.join(case, output)), case)


MAKERS = [train_case, predict_case, predict_case, graph_case]


# -- the issue's cases, each once ----------------------------------------------------------


def _issue_cases(fixtures: dict, case: Path) -> list[tuple[str, list[str], int, str]]:
    saved = fixtures["saved"]

    def model_file(name, edit):
        data = json.loads(json.dumps(saved))
        edit(data)
        (case / name).write_text(json.dumps(data))
        return str(case / name)

    mean_1e308 = model_file("mean.json", lambda d: d["module"]["preprocess"].update(
        mean=[1e308] * 4))
    five = model_file("five.json", lambda d: (d["module"]["preprocess"]["mean"].append(0.0),
                                              d["module"]["preprocess"]["scale"].append(1.0)))
    nested = model_file("nested.json", lambda d: d.update(module=_nest(d["module"], 480)))
    (case / "long.csv").write_text("1," + "1" * 140_000 + ",1,1\n")
    model = str(fixtures["model"])
    train = ["train", "--no-progress", "--epochs", "1", "--out", str(case / "run")]
    return [
        ("train --seed -1", [*train, "--seed", "-1"], 2, "non-negative integer"),
        ("train --test-size 0.0001", [*train, "--test-size", "0.0001"], 2,
         "leaves the test part empty"),
        ("train --test-size 0.9999", [*train, "--test-size", "0.9999"], 2,
         "leaves the training part empty"),
        ("train --test-size 0.99", [*train, "--test-size", "0.99"], 2,
         "from 0.02 to 0.98"),
        ("train --epochs 1e20", [*train[:-4], "--epochs", "99999999999999999999"], 2,
         "at most 1000000"),
        ("graph --timeout 1e10", ["graph", "x*2", "x=1", "-o", str(case / "g.svg"),
                                  "--timeout", "1e10"], 2, "at most 86400"),
        ("predict 1 1e308 1 1", ["predict", model, "1", "1e308", "1", "1"], 2,
         "overflows a float"),
        ("mean 1e308", ["predict", mean_1e308, "1", "1", "1", "1"], 2, "overflows a float"),
        ("CSV field over 131,072", ["predict", model, "--input", str(case / "long.csv")], 2,
         "field larger than field limit"),
        ("Standardize of 5 before 4 inputs", ["predict", five, "1", "1", "1", "1", "1"], 1,
         "gives 5 features but its network takes 4"),
        ("Standardize of 5, 4 features", ["predict", five, "1", "1", "1", "1"], 1,
         "gives 5 features but its network takes 4"),
        ("480 nested Classifiers", ["predict", nested, "1", "1", "1", "1"], 1,
         "nested more than 32 deep"),
    ]


def _nest(module: dict, depth: int) -> dict:
    for _ in range(depth):
        module = {"type": "Classifier", "classes": module.get("classes", ["a", "b", "c"]),
                  "preprocess": None, "network": module}
    return module


def test_the_issues_tracebacks_are_one_line_each(fixtures, tmp_path):
    failures = []
    for name, args, status, message in _issue_cases(fixtures, tmp_path):
        before = listing(tmp_path)
        outcome = run_in_process(args, tmp_path)
        found = problems(outcome, before, listing(tmp_path), None)
        if outcome.status != status or message not in outcome.err:
            found.append(f"expected exit {status} and {message!r}, got {outcome.status} and "
                         f"{outcome.err[-300:]!r}")
        failures += [f"{name}: {problem}" for problem in found]
    assert not failures, "\n".join(failures)


# -- the fuzz ------------------------------------------------------------------------------


def fuzz(count: int, seed: int, root: Path, fixtures: dict) -> tuple[dict, list[str]]:
    """Run ``count`` generated cases; returns the tally and the failures."""
    rng = random.Random(seed)
    tally = {"cases": 0, "succeeded": 0, "clean errors": 0, "tracebacks": 0, "hangs": 0,
             "other problems": 0, "as a process": 0, "seconds": 0.0}
    failures = []
    started = time.monotonic()
    for number in range(count):
        case = root / f"case{number}"
        case.mkdir()
        args, output = rng.choice(MAKERS)(rng, case, fixtures)
        as_process = number % PROCESS_EVERY == PROCESS_EVERY - 1
        before = listing(case)
        outcome = (run_as_process if as_process else run_in_process)(args, case)
        found = problems(outcome, before, listing(case), output, case)
        tally["cases"] += 1
        tally["as a process"] += as_process
        if outcome.hang:
            tally["hangs"] += 1
        elif outcome.traceback:
            tally["tracebacks"] += 1
        elif found:
            tally["other problems"] += 1
        elif outcome.status == 0:
            tally["succeeded"] += 1
        else:
            tally["clean errors"] += 1
        if found:
            failures.append(f"case {number} (seed {seed}) {args!r:.600}:\n  " +
                            "\n  ".join(found))
        shutil.rmtree(case, ignore_errors=True)
    tally["seconds"] = round(time.monotonic() - started, 1)
    return tally, failures


def test_hostile_arguments_and_files_never_give_a_traceback_a_hang_or_a_stray_write(
        fixtures, tmp_path):
    tally, failures = fuzz(FUZZ or QUICK_CASES, SEED, tmp_path, fixtures)
    print(f"\nchainrule command-line fuzz: {tally}")
    assert listing(fixtures["folder"]) == fixtures["before"]  # the shared files: untouched
    assert not failures, f"{len(failures)} of {tally['cases']} cases:\n\n" + "\n\n".join(
        failures[:10])
    assert tally["tracebacks"] == tally["hangs"] == 0
    assert tally["succeeded"] and tally["clean errors"]  # both kinds of case were made
