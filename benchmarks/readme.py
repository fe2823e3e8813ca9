"""The README's performance figures, rendered from the benchmarks' last recorded runs.

Each benchmark run with ``--write`` records its figures in ``benchmarks/results/``:
``iris_sgd.json``, ``scaling.json``, ``generic.json``, ``lecture_jit.json`` and
``train.json`` (``train_times.py``). The README
quotes them in parts that stand between two comments,

    <!-- results: NAME -->
    ...
    <!-- end results -->

and nowhere else; ``tests/test_readme.py`` checks that each part equals what this
module renders from the files.

    python benchmarks/readme.py            # print every part
    python benchmarks/readme.py --update   # rewrite the parts in README.md
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE.parent / "README.md"
# a part's body never contains another part's comments (an empty part is two lines)
PART = re.compile(r"^<!-- results: (?P<name>[\w-]+) -->\n"
                  r"(?:(?P<body>(?:(?!<!-- (?:end )?results).)*?)\n)?<!-- end results -->$",
                  re.M | re.S)


def _script(name: str) -> ModuleType:
    """A benchmark script beside this one (not a package), loaded as a module."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recorded(name: str) -> dict[str, Any]:
    """A benchmark's last recorded run."""
    return json.loads((RESULTS / f"{name}.json").read_text())


def _run_line(record: dict[str, Any], what: str) -> str:
    return f"Last run {record['date']}: {record['environment']}; {what}."


def train() -> str:
    """``chainrule train`` on each data set: its defaults, test accuracy and time."""
    lines = ["| `--dataset` | defaults | test accuracy (seed 0) | time, eager / `--jit` |",
             "| --- | --- | ---: | ---: |"]
    for dataset, run in recorded("train")["datasets"].items():
        s = run["settings"]
        hidden = " ".join(map(str, s["hidden"])) if s["hidden"] else "none"
        defaults = (f"`--hidden {hidden} --optimizer {s['optimizer']} --lr {s['lr']} "
                    f"--epochs {s['epochs']} --init {s['init']}`")
        lines.append(f"| `{dataset}` | {defaults} | {run['test_accuracy']:.4f} "
                     f"({run['correct']}/{run['test_samples']}) | "
                     f"{run['seconds']:.1f} s / {run['seconds_jit']:.1f} s |")
    return "\n".join(lines)


def iris_sgd() -> str:
    record = recorded("iris_sgd")
    what = (f"{record['samples']} samples per epoch, median of {record['rounds']} "
            f"interleaved rounds; the gradients agreed to {record['agreement']:.1e}")
    return _run_line(record, what) + "\n\n" + _script("iris_sgd").table(record)


def engine() -> str:
    return _script("iris_sgd").engine_table(recorded("iris_sgd"))


def scaling() -> str:
    record = recorded("scaling")
    module = _script("scaling")
    what = f"median of {record['rounds']} interleaved rounds"
    return (_run_line(record, what) + "\n\n" + module.table(record["sizes"])
            + f"\n\nTrace + compile (the first jit call): {module.compile_times(record['sizes'])}.")


def _time(times: dict[str, float], prefix: str) -> float | None:
    """The time of the row whose name starts with ``prefix`` (peers carry versions)."""
    found = [t for name, t in times.items() if name.startswith(prefix)]
    return found[0] if found else None


def _ratio(times: dict[str, float], slower: str, faster: str) -> float | None:
    a, b = _time(times, slower), _time(times, faster)
    return a / b if a is not None and b is not None else None


def generic() -> str:
    """Generic scalar code (microgpt, sums of products) on chainrule and its peers."""
    record = recorded("generic")
    what = (f"median of {record['rounds']} interleaved rounds; every row agreed with "
            f"microgpt's engine to {record['tolerance']:g} before it was timed")
    return _run_line(record, what) + "\n\n" + _script("generic").table(record, with_goals=False)


def lecture_jit() -> str:
    """The micrograd lecture's MLP class under jit(params=...) against nn.MLP."""
    record = recorded("lecture_jit")
    what = f"median of {record['rounds']} interleaved rounds"
    return _run_line(record, what) + "\n\n" + _script("lecture_jit").table(record["sizes"])


def goals() -> str:
    """This round's goals, each measured by the recorded runs: met or not."""
    iris_record = recorded("iris_sgd")
    iris = iris_record["per_sample_us"]
    sizes = {"-".join(map(str, r["sizes"])): r for r in recorded("scaling")["sizes"]}
    small = sizes["4-16-3"]
    lecture = {"-".join(map(str, r["sizes"])): r for r in recorded("lecture_jit")["sizes"]}
    # (goal, measured, the measure's format, met?)
    rows: list[tuple[str, float | None, str, Callable[[float], bool]]] = [
        (f"{goal} (generic)", measured, "{:.2f}x", lambda r: r >= 2)
        for goal, measured, _ in _script("generic").goals(recorded("generic"))]
    for name, record in lecture.items():
        rows.append((f"The lecture's MLP class {name} under jit (params=): within 1.5x of "
                     "nn.MLP under jit, per sample (lecture-jit)",
                     _ratio(record["per_sample_us"], "lecture MLP, jit", "nn.MLP, jit"),
                     "{:.2f}x", lambda r: r <= 1.5))
        rows.append(("... and of nn.MLP under jit given its parameters as one array "
                     f"(lecture-jit, {name})",
                     _ratio(record["per_sample_us"], "lecture MLP, jit", "nn.MLP, jit, theta"),
                     "{:.2f}x", lambda r: r <= 1.5))
    rows += [
        ("Iris eager per sample at least 10x micrograd: chainrule's loop (iris-sgd)",
         _ratio(iris, "micrograd 0.1.0", "chainrule (eager)"), "{:.1f}x",
         lambda r: r >= 10),
        ("... and micrograd's loop (iris-sgd)",
         _ratio(iris, "micrograd 0.1.0", "chainrule (eager), micrograd's loop"), "{:.1f}x",
         lambda r: r >= 10),
        ("Eager per sample at least 3x faster than PyTorch eager: training step (iris-sgd)",
         _ratio(iris, "PyTorch eager", "chainrule (eager)"), "{:.2f}x faster",
         lambda r: r >= 3),
        ("... and one sample's gradient (scaling, 4-16-3)",
         _ratio(small["per_sample_us"], "PyTorch", "chainrule eager"), "{:.2f}x faster",
         lambda r: r >= 3),
        ("Iris per-sample jit step no slower than a JAX jit step (iris-sgd)",
         _ratio(iris, "chainrule jit", "JAX jit step"), "{:.2f}x JAX's time",
         lambda r: r <= 1),
        ("Iris training step: jit full batch within 2x of numpy full batch (iris-sgd)",
         _ratio(iris, "chainrule jit, full batch", "numpy full batch"), "{:.2f}x",
         lambda r: r <= 2),
        ("Iris gradient alone: the same (scaling, 4-16-3)",
         _ratio(small["per_sample_us"], "chainrule jit, full batch", "numpy full batch"),
         "{:.2f}x", lambda r: r <= 2),
        ("Memory per node at most 200 bytes (iris-sgd)",
         iris_record.get("bytes_per_node chainrule"), "{:.0f} bytes", lambda b: b <= 200)]
    lines = ["| goal | measured | |", "| --- | ---: | --- |"]
    for goal, measured, form, met in rows:
        if measured is None:
            lines.append(f"| {goal} | not measured (a peer is missing) | |")
        else:
            lines.append(f"| {goal} | {form.format(measured)} | "
                         f"{'**met**' if met(measured) else '**not met**'} |")
    return "\n".join(lines)


PARTS: dict[str, Callable[[], str]] = {
    "train": train, "iris-sgd": iris_sgd, "engine": engine, "scaling": scaling,
    "generic": generic, "lecture-jit": lecture_jit, "goals": goals}


def parts(text: str) -> list[tuple[str, int, str]]:
    """The README's recorded parts: (name, line number of its first line, text)."""
    return [(m["name"], text.count("\n", 0, m.start()) + 2, m["body"] or "")
            for m in PART.finditer(text)]


def update(text: str) -> str:
    """``text`` with every part rendered anew from the recorded runs."""
    return PART.sub(lambda m: f"<!-- results: {m['name']} -->\n{PARTS[m['name']]()}\n"
                              "<!-- end results -->", text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true",
                        help="rewrite the recorded parts of README.md")
    args = parser.parse_args(argv)
    if args.update:
        README.write_text(update(README.read_text()))
        print(f"updated {README}")
    else:
        for name, render in PARTS.items():
            print(f"<!-- results: {name} -->\n{render()}\n<!-- end results -->\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
