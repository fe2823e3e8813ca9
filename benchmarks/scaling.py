"""The "scaling" benchmark: one sample's gradient as the network grows, against the
hand-written numpy limit and the peers people switch to (PyTorch, JAX).

Workloads: MLPs with ReLU hidden layers and softmax cross-entropy --
4-16-3 on Iris (standardized), 64-32-10 on the bundled digits (standardized) and
784-32-10 on random inputs -- all float64, He-initialised with the same seed.

Rows, timed in one process, interleaved round by round (the machine is shared: only
ratios measured side by side mean anything):

- chainrule eager            -- ``cross_entropy(model(x), y).backward()`` per sample
- chainrule jit              -- ``autograd.jit`` per sample (it picks scalar or
                                vectorized code by the measured cost of a statement)
- chainrule jit, full batch  -- the same trace's batch code, all samples at once
- numpy per sample / numpy full batch -- the lecture's closed form, hand-written
- PyTorch eager, per sample  -- optional (skipped with a note when not installed)
- JAX jit, per sample        -- optional, ``jax.jit(jax.grad(loss))`` called per sample

Every row's gradient of the first sample must equal chainrule eager's to 1e-12
(relative to the largest gradient) before anything is timed. Reported: µs per sample,
ns per weight, each row's time relative to numpy per sample, and the time to trace and
compile the jit (the first call).

    python benchmarks/scaling.py            # the full run (a few minutes)
    python benchmarks/scaling.py --write    # the same, recorded in results/scaling.json
    python benchmarks/scaling.py --quick    # tiny sizes of everything: a smoke test

The README quotes the recorded run (``python benchmarks/readme.py --update`` copies it
there; ``tests/test_readme.py`` checks the README's figures against the file).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import json
import os
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

# One thread for every peer, as for chainrule (set before numpy's and XLA's pools start).
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

from autograd import dot, jit, logsumexp
from nn import MLP, cross_entropy
from nn.data import load_digits, load_iris, standardize

SIZES = ((4, 16, 3), (64, 32, 10), (784, 32, 10))
TOLERANCE = 1e-12
RESULTS = Path(__file__).resolve().parent / "results" / "scaling.json"


def workload(sizes: tuple[int, int, int], n: int, seed: int = 0):
    """(X, y, model) for one size: real data where there is some, else random."""
    nin, hidden, nout = sizes
    if sizes == (4, 16, 3):
        X, y = load_iris()
    elif sizes == (64, 32, 10):
        X, y = load_digits()
    else:
        rng = np.random.default_rng(seed)
        X, y = rng.normal(size=(n, nin)), rng.integers(0, nout, n)
    X, _ = standardize(X, X)
    order = np.random.default_rng(seed).permutation(len(X))[:n]
    model = MLP(nin, [hidden, nout], seed=seed, init="he")
    return X[order], y[order], model


def layers_of(model: MLP) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array([[w.data for w in n.w] for n in layer.neurons]),
             np.array([n.b.data for n in layer.neurons])) for layer in model.layers]


def flat(layers: Sequence[tuple[Any, Any]]) -> np.ndarray:
    """Gradients in model.parameters() order: neuron by neuron, its weights then bias."""
    return np.concatenate([np.concatenate([np.asarray(W), np.asarray(b)[:, None]], 1).ravel()
                           for W, b in layers])


# ---------------------------------------------------------------------------
# Implementations: gradient(x, y) -> flat gradient; run(X, Y) computes every sample's.


class Eager:
    name = "chainrule eager"

    def __init__(self, model: MLP, X: np.ndarray) -> None:
        self.model = model
        self.params = model.parameters()
        self.rows = X.tolist()

    def gradient(self, i: int, y: int) -> np.ndarray:
        self.model.zero_grad()
        cross_entropy(self.model(self.rows[i]), int(y)).backward()
        return np.array([p.grad for p in self.params])

    def run(self, X: np.ndarray, Y: np.ndarray) -> None:
        model = self.model
        for x, y in zip(self.rows, Y.tolist()):
            model.zero_grad()
            cross_entropy(model(x), y).backward()


class Jit:
    name = "chainrule jit"

    def __init__(self, model: MLP, X: np.ndarray) -> None:
        nout = len(model.layers[-1].neurons)

        def loss(theta, x, onehot):
            with model.substitute(theta):
                logits = model(x)
            return logsumexp(logits) - dot(onehot, logits)

        self.theta = np.array([p.data for p in model.parameters()])
        self.onehot = np.eye(nout)
        self.X = X
        self.compiled = jit(loss)
        started = time.perf_counter()
        self.compiled(self.theta, X[0], self.onehot[0])  # traces and compiles
        self.compile_seconds = time.perf_counter() - started
        self.vectorized = "(vectorized)" in self.compiled.source

    def gradient(self, i: int, y: int) -> np.ndarray:
        return np.asarray(self.compiled(self.theta, self.X[i], self.onehot[y])[1])

    def run(self, X: np.ndarray, Y: np.ndarray) -> None:
        compiled, theta, onehot = self.compiled, self.theta, self.onehot
        for x, y in zip(X, Y):
            compiled(theta, x, onehot[y])


class JitBatch(Jit):
    name = "chainrule jit, full batch"
    repeats = 20  # batches per timing: one call is too short to time cold

    def gradient(self, i: int, y: int) -> np.ndarray:
        _, g = self.compiled.batch(self.theta, self.X[i:i + 1], self.onehot[[y]],
                                   batched=(1, 2))
        return np.asarray(g)

    def run(self, X: np.ndarray, Y: np.ndarray) -> None:
        self.compiled.batch(self.theta, X, self.onehot[Y], batched=(1, 2))


class NumpySample:
    name = "numpy per sample"

    def __init__(self, model: MLP, X: np.ndarray) -> None:
        (self.W1, self.b1), (self.W2, self.b2) = layers_of(model)
        self.X = X

    def _grads(self, x: np.ndarray, y: int):
        a = self.W1 @ x + self.b1
        h = np.maximum(a, 0.0)
        o = self.W2 @ h + self.b2
        e = np.exp(o - o.max())
        do = e / e.sum()
        do[y] -= 1.0  # dL/do = softmax(o) - onehot(y)
        da = (self.W2.T @ do) * (a > 0)
        return np.outer(da, x), da, np.outer(do, h), do

    def gradient(self, i: int, y: int) -> np.ndarray:
        dW1, db1, dW2, db2 = self._grads(self.X[i], y)
        return flat([(dW1, db1), (dW2, db2)])

    def run(self, X: np.ndarray, Y: np.ndarray) -> None:
        for x, y in zip(X, Y):
            self._grads(x, y)


class NumpyBatch(NumpySample):
    name = "numpy full batch"
    repeats = 20  # batches per timing: one call is too short to time cold

    def _batch(self, X: np.ndarray, Y: np.ndarray):
        A = X @ self.W1.T + self.b1
        H = np.maximum(A, 0.0)
        logits = H @ self.W2.T + self.b2
        E = np.exp(logits - logits.max(axis=1, keepdims=True))
        dO = E / E.sum(axis=1, keepdims=True)
        dO[np.arange(len(Y)), Y] -= 1.0
        dA = (dO @ self.W2) * (A > 0)
        return dA.T @ X, dA.sum(0), dO.T @ H, dO.sum(0)

    def gradient(self, i: int, y: int) -> np.ndarray:
        dW1, db1, dW2, db2 = self._batch(self.X[i:i + 1], np.array([y]))
        return flat([(dW1, db1), (dW2, db2)])

    def run(self, X: np.ndarray, Y: np.ndarray) -> None:
        self._batch(X, Y)


class Torch:
    name = "PyTorch eager, per sample"

    def __init__(self, model: MLP, X: np.ndarray) -> None:
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        self.name = f"PyTorch {torch.__version__.split('+')[0]} eager, per sample"
        self.params = [torch.tensor(a, dtype=torch.float64, requires_grad=True)
                       for layer in layers_of(model) for a in layer]
        self.X = torch.tensor(X, dtype=torch.float64)

    def _backward(self, x: Any, y: int) -> None:
        W1, b1, W2, b2 = self.params
        o = W2 @ self.torch.relu(W1 @ x + b1) + b2
        (self.torch.logsumexp(o, 0) - o[y]).backward()

    def gradient(self, i: int, y: int) -> np.ndarray:
        for p in self.params:
            p.grad = None
        self._backward(self.X[i], int(y))
        W1, b1, W2, b2 = (p.grad.numpy() for p in self.params)
        return flat([(W1, b1), (W2, b2)])

    def run(self, X: np.ndarray, Y: np.ndarray) -> None:
        params = self.params
        for x, y in zip(self.X, Y.tolist()):
            for p in params:
                p.grad = None
            self._backward(x, y)


class Jax:
    name = "JAX jit, per sample"

    def __init__(self, model: MLP, X: np.ndarray) -> None:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        self.name = f"JAX {jax.__version__} jit, per sample"

        def loss(params, x, y):
            W1, b1, W2, b2 = params
            o = W2 @ jax.nn.relu(W1 @ x + b1) + b2
            return jax.nn.logsumexp(o) - o[y]

        self.grad = jax.jit(jax.grad(loss))
        self.params = tuple(jnp.asarray(a) for layer in layers_of(model) for a in layer)
        self.X = [jnp.asarray(x) for x in X]
        self.jnp = jnp
        self.grad(self.params, self.X[0], 0)  # compile outside the timing

    def gradient(self, i: int, y: int) -> np.ndarray:
        W1, b1, W2, b2 = (np.asarray(g) for g in self.grad(self.params, self.X[i], int(y)))
        return flat([(W1, b1), (W2, b2)])

    def run(self, X: np.ndarray, Y: np.ndarray) -> None:
        grad, params = self.grad, self.params
        g = None
        for x, y in zip(self.X, Y.tolist()):
            g = grad(params, x, y)
        if g is not None:
            g[0].block_until_ready()


def _beside(name: str) -> Any:
    """The benchmark script ``name`` beside this one (not a package), loaded as a module."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}",
                                                  Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_iris_sgd = _beside("iris_sgd")
#: whether a peer library imports; the run's one-line description (iris_sgd's own)
available, environment = _iris_sgd.peer_available, _iris_sgd.environment


# ---------------------------------------------------------------------------


def measure(sizes: tuple[int, int, int], n: int, rounds: int, out=sys.stdout
            ) -> dict[str, Any]:
    X, Y, model = workload(sizes, n)
    weights = len(model.parameters())
    classes: list[type] = [Eager, Jit, JitBatch, NumpySample, NumpyBatch]
    if available("torch"):
        classes.append(Torch)
    if available("jax"):
        classes.append(Jax)
    impls = [cls(model, X) for cls in classes]
    reference = impls[0].gradient(0, int(Y[0]))
    scale = max(1.0, float(np.max(np.abs(reference))))
    worst = 0.0
    for impl in impls[1:]:
        got = impl.gradient(0, int(Y[0]))
        difference = float(np.max(np.abs(got - reference))) / scale
        if not difference <= TOLERANCE:
            raise AssertionError(f"{impl.name} disagrees with chainrule eager on {sizes}: "
                                 f"max |difference| {difference:.3g} > {TOLERANCE}")
        worst = max(worst, difference)
    samples = {Eager.name: max(2, n // (20 if weights > 10_000 else 4))}  # eager is slow
    times: dict[str, list[float]] = {impl.name: [] for impl in impls}
    for r in range(rounds):
        for k in range(len(impls)):
            impl = impls[(k + r) % len(impls)]
            count = samples.get(impl.name, n)
            repeats = getattr(impl, "repeats", 1)
            gc.collect()
            started = time.perf_counter()
            for _ in range(repeats):
                impl.run(X[:count], Y[:count])
            times[impl.name].append((time.perf_counter() - started) / (count * repeats))
    per_sample = {name: statistics.median(t) * 1e6 for name, t in times.items()}
    jit_impl = impls[1]
    return {"sizes": sizes, "weights": weights, "per_sample_us": per_sample,
            "agreement": worst, "compile_s": jit_impl.compile_seconds,
            "vectorized": jit_impl.vectorized}


def table(results: list[dict[str, Any]]) -> str:
    """The timings as a Markdown table: per sample, per weight and relative to numpy."""
    lines = ["| network | weights | implementation | µs per sample | ns per weight | "
             "vs numpy per sample |", "| --- | ---: | --- | ---: | ---: | ---: |"]
    for result in results:
        label = "-".join(map(str, result["sizes"]))
        numpy_time = result["per_sample_us"]["numpy per sample"]
        for name, micros in result["per_sample_us"].items():
            per_weight = micros * 1000 / result["weights"]
            lines.append(f"| {label} | {result['weights']:,} | {name} | "
                         f"{micros:,.{2 if micros < 10 else 1}f} | "
                         f"{per_weight:,.{2 if per_weight < 10 else 1}f} | "
                         f"{micros / numpy_time:,.3f}x |")
    return "\n".join(lines)


def compile_times(results: list[dict[str, Any]]) -> str:
    """The first jit call of each size (trace and compile), in one line."""
    return ", ".join(f"{'-'.join(map(str, r['sizes']))} {r['compile_s']:.3f} s "
                     f"({'vectorized' if r['vectorized'] else 'scalar'})" for r in results)


def report(results: list[dict[str, Any]], rounds: int, out=sys.stdout) -> None:
    print(f"one sample's gradient, float64, one thread; median of {rounds} interleaved "
          "rounds; every row agrees with chainrule eager to 1e-12 before timing", file=out)
    print(environment() + "\n", file=out)
    print(table(results), file=out)
    print(f"\ntrace + compile (the first jit call): {compile_times(results)}", file=out)


def write(results: list[dict[str, Any]], rounds: int, path: Path = RESULTS) -> None:
    """Record a run: the README quotes this file."""
    path.parent.mkdir(exist_ok=True)
    record = {"benchmark": "scaling", "date": datetime.date.today().isoformat(),
              "rounds": rounds, "environment": environment(), "sizes": results}
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def run(quick: bool = False, rounds: int | None = None, out=sys.stdout) -> list[dict[str, Any]]:
    rounds = rounds or (1 if quick else 5)
    sizes = ((4, 16, 3), (8, 6, 3)) if quick else SIZES
    results = [measure(s, 12 if quick else (150 if s[0] < 100 else 60), rounds, out)
               for s in sizes]
    missing = [peer for peer, module in (("PyTorch", "torch"), ("JAX", "jax"))
               if not available(module)]
    if missing:
        print(f"{' and '.join(missing)} not installed (pip install -e '.[bench]'): "
              "their rows are skipped", file=out)
    report(results, rounds, out)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test, not a measurement")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 5)")
    parser.add_argument("--write", action="store_true",
                        help="record the figures in benchmarks/results/scaling.json "
                        "(the file the README quotes)")
    args = parser.parse_args(argv)
    if args.write and args.quick:
        parser.error("--write records a full run, not --quick")
    rounds = args.rounds or (1 if args.quick else 5)
    results = run(quick=args.quick, rounds=rounds)
    if args.write:
        write(results, rounds)
        print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

