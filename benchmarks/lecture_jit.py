"""The "lecture-jit" benchmark: the micrograd lecture's MLP class, compiled by
``autograd.jit`` with its captured parameters, against ``nn.MLP`` under jit.

Workloads: the lecture's own classes (``Neuron``, ``Layer``, ``MLP`` as typed in the
lecture: tanh everywhere, ``sum((wi*xi for wi, xi in zip(self.w, x)), self.b)`` per
neuron) and ``nn.MLP`` of the same sizes with the same weights copied in
(``activation="tanh", output_activation="tanh"``); the lecture's loss, the squared error
``(yout - ygt)**2`` summed over the outputs; float64, one BLAS thread.

- 2-16-16-1 -- micrograd's demo network, on ``make_moons`` (targets -1 / 1)
- 64-32-10  -- the bundled digits, standardized, one-hot targets

Rows per size, timed in one process, interleaved round by round (the order rotates):

- lecture MLP, eager    -- ``loss.backward()`` per sample, the lecture's code
- nn.MLP, eager         -- the same for nn.MLP (its neurons record one ``dot`` node)
- lecture MLP, jit      -- ``jit(loss, params=model.parameters())`` per sample: reads
                           the parameters' ``.data``, adds to their ``.grad``
- nn.MLP, jit           -- the same call on nn.MLP
- nn.MLP, jit, theta    -- the form without ``params=``: the parameters as a numpy
                           array argument (``model.substitute``), the gradient returned
- lecture MLP, jit batch / nn.MLP, jit batch -- ``.batch`` over all samples at once
                           (several calls per timing), time per sample

Each timing is one loss and its gradient per sample (no update), in µs per sample, the
median over the rounds. Before anything is timed, every row's loss and gradient of the
first sample must equal the lecture's eager ``backward()`` to 1e-12 (relative to the
largest gradient), and the lecture's trace must have had its sums rewritten into dot
nodes and packed into matrix products -- its vectorized code is then nn.MLP's, line for
line. Also reported: the time of the first jit call (trace and compile), median over
fresh compiles, and which code jit picked (scalar or vectorized).

The goal (issue 24): the lecture class under jit within 1.5x of nn.MLP under jit, per
sample.

    python benchmarks/lecture_jit.py            # the full run (a minute or two)
    python benchmarks/lecture_jit.py --write    # the same, in results/lecture_jit.json
    python benchmarks/lecture_jit.py --quick    # few samples, one round: a smoke test
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# One thread per library, numpy's BLAS included: set before numpy is imported (the
# machine's two cores are shared, and a threaded BLAS would time its own contention)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

from autograd import Value, jit
from nn import MLP as NNMLP
from nn.data import load_digits, make_moons, standardize

SIZES = ((2, 16, 16, 1), (64, 32, 10))
TOLERANCE = 1e-12
GOAL = 1.5
RESULTS = Path(__file__).resolve().parent / "results" / "lecture_jit.json"


def _beside(name: str) -> Any:
    """The benchmark script ``name`` beside this one (not a package), loaded as a module."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}",
                                                  Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: the run's one-line description of the machine and libraries (iris_sgd's own)
environment = _beside("iris_sgd").environment


# ---------------------------------------------------------------------------
# The lecture's classes, as typed in the lecture (cells 14-16).


class Neuron:

  def __init__(self, nin):
    self.w = [Value(random.uniform(-1,1)) for _ in range(nin)]
    self.b = Value(random.uniform(-1,1))

  def __call__(self, x):
    # w * x + b
    act = sum((wi*xi for wi, xi in zip(self.w, x)), self.b)
    out = act.tanh()
    return out

  def parameters(self):
    return self.w + [self.b]

class Layer:

  def __init__(self, nin, nout):
    self.neurons = [Neuron(nin) for _ in range(nout)]

  def __call__(self, x):
    outs = [n(x) for n in self.neurons]
    return outs[0] if len(outs) == 1 else outs

  def parameters(self):
    return [p for neuron in self.neurons for p in neuron.parameters()]

class MLP:

  def __init__(self, nin, nouts):
    sz = [nin] + nouts
    self.layers = [Layer(sz[i], sz[i+1]) for i in range(len(nouts))]

  def __call__(self, x):
    for layer in self.layers:
      x = layer(x)
    return x

  def parameters(self):
    return [p for layer in self.layers for p in layer.parameters()]


def squared_error(out: Any, target: Sequence[Any]) -> Any:
    """The lecture's loss, ``(yout - ygt)**2`` summed over the outputs."""
    if isinstance(out, list):
        return sum((yout - ygt)**2 for ygt, yout in zip(target, out))
    return (out - target[0])**2


# ---------------------------------------------------------------------------
# Workloads and rows: each row has gradient(x, t) -> (loss, flat gradient) for the
# agreement check and run(X, T): one loss and its gradient per sample.


def workload(sizes: tuple[int, ...], n: int, seed: int = 0
             ) -> tuple[np.ndarray, np.ndarray, MLP, NNMLP]:
    """(X, T, the lecture's MLP, nn.MLP with its weights)."""
    nin, *nouts = sizes
    if nin == 2:
        X, y = make_moons(n, noise=0.1, seed=seed)
        T = (2.0 * y - 1.0)[:, None]
    else:
        X, y = load_digits()
        X, _ = standardize(X, X)
        order = np.random.default_rng(seed).permutation(len(X))[:n]
        X, T = X[order], np.eye(nouts[-1])[y[order]]
    random.seed(seed)
    lecture = MLP(nin, nouts)
    twin = NNMLP(nin, nouts, activation="tanh", output_activation="tanh")
    for ours, theirs in zip(lecture.parameters(), twin.parameters(), strict=True):
        theirs.data = ours.data
    return np.asarray(X, dtype=float), np.asarray(T, dtype=float), lecture, twin


class Eager:
    """``loss.backward()`` per sample, the parameters' grads zeroed first."""

    def __init__(self, name: str, model: Any) -> None:
        self.name, self.model, self.params = name, model, model.parameters()

    def gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
        for p in self.params:
            p.grad = 0.0
        loss = squared_error(self.model(x.tolist()), t.tolist())
        loss.backward()
        return loss.data, np.array([p.grad for p in self.params])

    def run(self, X: np.ndarray, T: np.ndarray) -> None:
        model = self.model
        for x, t in zip(X.tolist(), T.tolist()):
            squared_error(model(x), t).backward()


class JitParams(Eager):
    """``jit(loss, params=model.parameters())``: called per sample."""

    def __init__(self, name: str, model: Any) -> None:
        super().__init__(name, model)
        self.step = self.compile()

    def compile(self) -> Any:
        model = self.model
        return jit(lambda x, t: squared_error(model(x), t), params=self.params)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
        for p in self.params:
            p.grad = 0.0
        value, _ = self.step(x, t)
        return value, np.array([p.grad for p in self.params])

    def run(self, X: np.ndarray, T: np.ndarray) -> None:
        step = self.step
        for x, t in zip(X, T):
            step(x, t)


class JitBatch(JitParams):
    """The same trace's ``.batch`` over all samples (time per sample)."""

    repeats = 20  # calls per timing: one is too short to time cold

    def gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
        for p in self.params:
            p.grad = 0.0
        values, _ = self.step.batch(x[None, :], t[None, :])
        return float(values[0]), np.array([p.grad for p in self.params])

    def run(self, X: np.ndarray, T: np.ndarray) -> None:
        self.step.batch(X, T)


class JitTheta(Eager):
    """nn.MLP as a function of a parameter array (``model.substitute``), without
    ``params=``: the gradient comes back as an array."""

    def __init__(self, name: str, model: Any) -> None:
        super().__init__(name, model)
        self.theta = np.array([p.data for p in self.params])

        def loss(theta, x, t):
            with model.substitute(theta):
                out = model(x)
            return squared_error(out, t)

        self.step = jit(loss)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
        value, grads = self.step(self.theta, x, t)
        return value, np.asarray(grads)

    def run(self, X: np.ndarray, T: np.ndarray) -> None:
        step, theta = self.step, self.theta
        for x, t in zip(X, T):
            step(theta, x, t)


def check_agreement(rows: Sequence[Any], x: np.ndarray, t: np.ndarray) -> float:
    """Every row's loss and gradient of one sample equal the first row's to 1e-12
    (relative to the largest gradient); returns the largest difference seen."""
    reference_loss, reference = rows[0].gradient(x, t)
    scale = max(1.0, float(np.max(np.abs(reference))))
    worst = 0.0
    for row in rows[1:]:
        loss, grads = row.gradient(x, t)
        difference = max(abs(loss - reference_loss) / max(1.0, abs(reference_loss)),
                         float(np.max(np.abs(grads - reference))) / scale)
        if not difference <= TOLERANCE:
            raise AssertionError(f"{row.name} disagrees with {rows[0].name}: "
                                 f"max relative difference {difference:.3g} > {TOLERANCE}")
        worst = max(worst, difference)
    return worst


def check_rewrite(lecture: MLP, twin: NNMLP, x: np.ndarray, t: np.ndarray) -> dict[str, Any]:
    """The lecture's sums became dot nodes, its layers matrix products: its vectorized
    code must be nn.MLP's, line for line."""
    sources, fused = [], []
    for model in (lecture, twin):
        step = jit(lambda x, t, model=model: squared_error(model(x), t),
                   params=model.parameters(), vectorize=True)
        step(x, t)
        sources.append(step.source)
        fused.append(step._compiled[step._last].trace.fused)
    products = len(re.findall(r" @ W_h\d+\.T", sources[0]))
    neurons = sum(len(layer.neurons) for layer in lecture.layers)
    same = sources[0] == sources[1]
    if fused[0] != neurons or products < len(lecture.layers) - 1 or not same:
        raise AssertionError(f"the lecture's trace was not packed like nn.MLP's: {fused[0]} "
                             f"of {neurons} sums fused, {products} matrix products, the "
                             f"vectorized code {'equal to' if same else 'unlike'} nn.MLP's")
    return {"sums_fused": fused[0], "matrix_products": products, "same_code_as_nn": True}


def compile_seconds(row: JitParams, x: np.ndarray, t: np.ndarray, times: int) -> float:
    """The first call of a fresh jit (trace and compile), median over ``times``."""
    seconds = []
    for _ in range(times):
        step = row.compile()
        started = time.perf_counter()
        step(x, t)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def measure(sizes: tuple[int, ...], n: int, rounds: int) -> dict[str, Any]:
    X, T, lecture, twin = workload(sizes, n)
    rows = [Eager("lecture MLP, eager", lecture), Eager("nn.MLP, eager", twin),
            JitParams("lecture MLP, jit", lecture), JitParams("nn.MLP, jit", twin),
            JitTheta("nn.MLP, jit, theta", twin),
            JitBatch("lecture MLP, jit batch", lecture), JitBatch("nn.MLP, jit batch", twin)]
    worst = check_agreement(rows, X[0], T[0])
    rewrite = check_rewrite(lecture, twin, X[0], T[0])
    eager_samples = max(2, n // (8 if len(lecture.parameters()) > 1000 else 2))
    times: dict[str, list[float]] = {row.name: [] for row in rows}
    for r in range(rounds):
        for k in range(len(rows)):
            row = rows[(k + r) % len(rows)]
            count = eager_samples if type(row) is Eager else n
            repeats = getattr(row, "repeats", 1)
            gc.collect()
            started = time.perf_counter()
            for _ in range(repeats):
                row.run(X[:count], T[:count])
            times[row.name].append((time.perf_counter() - started) / (count * repeats))
    per_sample = {name: statistics.median(t) * 1e6 for name, t in times.items()}
    compiles = {row.name: compile_seconds(row, X[0], T[0], max(1, min(rounds, 5)))
                for row in rows[2:4]}
    picked = {row.name: "vectorized" if "(vectorized)" in row.step.source else "scalar"
              for row in rows[2:4]}
    ratio = per_sample["lecture MLP, jit"] / per_sample["nn.MLP, jit"]
    batch_ratio = per_sample["lecture MLP, jit batch"] / per_sample["nn.MLP, jit batch"]
    return {"sizes": list(sizes), "weights": len(lecture.parameters()), "samples": n,
            "per_sample_us": per_sample, "agreement": worst, **rewrite,
            "compile_s": compiles, "code": picked, "lecture_vs_nn_jit": ratio,
            "lecture_vs_nn_jit_batch": batch_ratio, "within_goal": ratio <= GOAL}


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| network | weights | row | µs per sample | vs nn.MLP, jit |",
             "| --- | ---: | --- | ---: | ---: |"]
    for result in results:
        network = "-".join(map(str, result["sizes"]))
        reference = result["per_sample_us"]["nn.MLP, jit"]
        for name, micros in result["per_sample_us"].items():
            lines.append(f"| {network} | {result['weights']:,} | {name} | "
                         f"{micros:,.{2 if micros < 10 else 1}f} | {micros / reference:.2f}x |")
    return "\n".join(lines)


def report(results: list[dict[str, Any]], rounds: int, out: Any = sys.stdout) -> None:
    print(f"one loss and its gradient per sample, float64, one thread; median of {rounds} "
          "interleaved rounds; every row agrees with the lecture's eager backward() to "
          f"{TOLERANCE} before timing", file=out)
    print(environment() + "\n", file=out)
    print(table(results), file=out)
    print("", file=out)
    for result in results:
        network = "-".join(map(str, result["sizes"]))
        compiles = ", ".join(f"{name} {seconds:.3f} s ({result['code'][name]})"
                             for name, seconds in result["compile_s"].items())
        verdict = "within" if result["within_goal"] else "NOT within"
        print(f"{network}: {result['sums_fused']} sums of products fused into dot nodes, "
              f"{result['matrix_products']} matrix products, the vectorized code nn.MLP's; "
              f"lecture / nn.MLP under jit {result['lecture_vs_nn_jit']:.2f}x per sample "
              f"({verdict} the {GOAL}x goal), {result['lecture_vs_nn_jit_batch']:.2f}x in "
              f"batch; trace + compile: {compiles}", file=out)


def run(quick: bool = False, rounds: int | None = None, out: Any = sys.stdout
        ) -> list[dict[str, Any]]:
    rounds = rounds or (1 if quick else 9)
    results = [measure(sizes, 8 if quick else (200 if sizes[0] == 2 else 100), rounds)
               for sizes in SIZES]
    report(results, rounds, out)
    return results


def write(results: list[dict[str, Any]], rounds: int, path: Path = RESULTS) -> None:
    path.parent.mkdir(exist_ok=True)
    record = {"benchmark": "lecture_jit", "date": datetime.date.today().isoformat(),
              "rounds": rounds, "environment": environment(), "sizes": results}
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test, not a measurement")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 9)")
    parser.add_argument("--write", action="store_true",
                        help="record the figures in benchmarks/results/lecture_jit.json")
    args = parser.parse_args(argv)
    if args.write and args.quick:
        parser.error("--write records a full run, not --quick")
    rounds = args.rounds or (1 if args.quick else 9)
    results = run(quick=args.quick, rounds=rounds)
    if args.write:
        write(results, rounds)
        print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
