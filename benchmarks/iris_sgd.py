"""The "iris-sgd" benchmark: chainrule against micrograd and the hand-written limit.

Workload: the packaged Iris data, standardized; an MLP 4 -> 16 (ReLU) -> 3 (linear
logits); softmax cross-entropy; per-sample SGD with lr 0.05; one epoch = 150
samples in a fixed seeded order; the same initial weights for every implementation.

Implementations, run in one process, interleaved round by round:

- chainrule (eager)      -- this project: ``nn.MLP``, ``cross_entropy``, ``SGD``
- chainrule (eager), micrograd's loop -- the same, trained with micrograd's idiom:
                            ``model.zero_grad()`` and ``p.data -= lr * p.grad`` by hand
- chainrule jit          -- the same model and loss traced once by ``autograd.jit``
- chainrule jit, full batch -- the same trace's batch code on numpy arrays, all 150
                            samples (full-batch rows time 20 epochs in a row: one call
                            is too short to time)
- micrograd 0.1.0        -- karpathy/micrograd from PyPI, with ``exp``/``log`` added in
                            its own closure style (checked against finite differences)
- micrograd, gc disabled -- the same, with the cyclic garbage collector switched off,
                            to show what its reference cycles cost
- floats, closed form    -- hand-written pure-Python floats with the lecture's gradients:
                            the limit for scalar code
- numpy per sample       -- the same closed form on numpy arrays, one sample at a time
- numpy full batch       -- all 150 samples in one matrix product (time per sample)
- PyTorch eager          -- optional (the ``bench`` extra): the same MLP as float64
                            tensors, one thread, ``loss.backward()`` and an SGD update
                            per sample -- what a user switches to for speed
- JAX jit step           -- optional: ``jax.jit`` of one SGD step (grad and update),
                            called per sample, float64, one thread

Before anything is timed, every implementation's gradient of one sample must agree
with the closed form to 1e-9. Then each round times one epoch of each implementation
(in a rotating order); the table shows the median over rounds in µs per sample and
each row's speed relative to micrograd in the same run.

    python benchmarks/iris_sgd.py            # the full run (about a minute)
    python benchmarks/iris_sgd.py --write    # the same, recorded in results/iris_sgd.json
    python benchmarks/iris_sgd.py --quick    # one short round: a smoke test

The README quotes the recorded run (``python benchmarks/readme.py --update`` copies it
there; ``tests/test_readme.py`` checks the README's figures against the file).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# One thread per library, numpy's BLAS included: set before numpy is imported (the
# machine's two cores are shared, and a threaded BLAS would time its own contention)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

# One thread for every peer, as for chainrule (set before XLA's thread pool starts).
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

from autograd import Value
from nn import MLP, SGD, cross_entropy
from nn.data import load_iris, standardize

LR = 0.05
HIDDEN = 16
SEED = 0
RESULTS = Path(__file__).resolve().parent / "results" / "iris_sgd.json"

Weights = tuple[list[list[float]], list[float], list[list[float]], list[float]]


def workload() -> tuple[list[list[float]], list[int], Weights]:
    """Standardized Iris in a fixed seeded order, and the shared initial weights."""
    X, y = load_iris()
    X, _ = standardize(X, X)
    order = np.random.default_rng(SEED).permutation(len(X))
    model = MLP(4, [HIDDEN, 3], seed=SEED)  # its fan-in-scaled initialisation, for everyone
    W1 = [[w.data for w in n.w] for n in model.layers[0].neurons]
    b1 = [n.b.data for n in model.layers[0].neurons]
    W2 = [[w.data for w in n.w] for n in model.layers[1].neurons]
    b2 = [n.b.data for n in model.layers[1].neurons]
    return X[order].tolist(), y[order].tolist(), (W1, b1, W2, b2)


# ---------------------------------------------------------------------------
# Implementations: each has gradients(x, y) (flat: W1, b1, W2, b2) and epoch(X, Y).


class Chainrule:
    name = "chainrule (eager)"

    def __init__(self, weights: Weights) -> None:
        self.model = _load(MLP(4, [HIDDEN, 3], seed=SEED), weights)
        self.params = self.model.parameters()
        self.optimizer = SGD(self.params, lr=LR)

    def gradients(self, x: list[float], y: int) -> list[float]:
        self.optimizer.zero_grad()
        cross_entropy(self.model(x), y).backward()
        return _flat(self.model)

    def epoch(self, X: Sequence[list[float]], Y: Sequence[int]) -> None:
        model, optimizer = self.model, self.optimizer
        for x, y in zip(X, Y):
            optimizer.zero_grad()
            cross_entropy(model(x), y).backward()
            optimizer.step()

    def forward(self, x: list[float], y: int) -> Any:
        return cross_entropy(self.model(x), y)


class ChainruleMicrogradIdiom(Chainrule):
    """The same model trained the way micrograd's demo writes the loop:
    ``model.zero_grad()``, ``backward()``, then ``p.data -= lr * p.grad`` over
    ``model.parameters()`` -- no optimizer object."""

    name = "chainrule (eager), micrograd's loop"

    def epoch(self, X: Sequence[list[float]], Y: Sequence[int]) -> None:
        model = self.model
        for x, y in zip(X, Y):
            loss = cross_entropy(model(x), y)
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= LR * p.grad


class ChainruleJit:
    """chainrule's model, its loss traced once by ``autograd.jit`` and run compiled."""

    name = "chainrule jit"

    def __init__(self, weights: Weights) -> None:
        from autograd import dot, jit, logsumexp

        model = Chainrule(weights).model
        self.theta = [p.data for p in model.parameters()]
        self.onehot = np.eye(3).tolist()

        def loss(theta, x, onehot):
            with model.substitute(theta):
                logits = model(x)
            return logsumexp(logits) - dot(onehot, logits)

        self.compiled = jit(loss)
        # parameters() runs neuron by neuron (w..., b); the report wants W rows, then b
        names = [name for name, _ in model.named_parameters()]
        self.report_order = sorted(range(len(names)), key=lambda i: _report_key(names[i]))

    def gradients(self, x: list[float], y: int) -> list[float]:
        _, grads = self.compiled(self.theta, x, self.onehot[y])
        return [grads[i] for i in self.report_order]

    def epoch(self, X: Sequence[list[float]], Y: Sequence[int]) -> None:
        compiled, onehot, theta = self.compiled, self.onehot, self.theta
        for x, y in zip(X, Y):
            _, grads = compiled(theta, x, onehot[y])
            theta = [t - LR * g for t, g in zip(theta, grads)]
        self.theta = theta


class ChainruleJitBatch(ChainruleJit):
    """The same trace's batch code on numpy arrays: one full-batch step per epoch."""

    name = "chainrule jit, full batch"
    repeats = 20  # epochs per timing: one call is too short to time cold

    def gradients(self, x: list[float], y: int) -> list[float]:
        _, grads = self.compiled.batch(self.theta, [x], [self.onehot[y]], batched=(1, 2))
        return [grads[i] for i in self.report_order]

    def epoch(self, X: Any, Y: Sequence[int]) -> None:
        X, targets = self._arrays(X, Y)
        theta = np.asarray(self.theta)
        _, grads = self.compiled.batch(theta, X, targets, batched=(1, 2))
        self.theta = theta - (LR / len(X)) * grads

    def _arrays(self, X: Any, Y: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The samples and one-hot targets as arrays, converted once (as numpy's rows
        do: outside the epoch's work)."""
        cache = self.__dict__.setdefault("_cache", {})
        if id(X) not in cache:
            cache[id(X)] = (X, np.asarray(X, dtype=float), np.eye(3)[np.asarray(Y)])
        return cache[id(X)][1], cache[id(X)][2]


def _report_key(name: str) -> tuple[int, int, int, int]:
    """layers.L.neurons.N.w.I -> (L, 0, N, I); layers.L.neurons.N.b -> (L, 1, N, 0)."""
    parts = name.split(".")
    layer, neuron = int(parts[1]), int(parts[3])
    return (layer, 0, neuron, int(parts[5])) if parts[4] == "w" else (layer, 1, neuron, 0)


def _load(model: Any, weights: Weights) -> Any:
    """Set a chainrule or micrograd MLP (same layout: layers, neurons, w, b) to weights."""
    W1, b1, W2, b2 = weights
    for layer, (W, b) in zip(model.layers, ((W1, b1), (W2, b2))):
        for neuron, row, bias in zip(layer.neurons, W, b):
            for w, v in zip(neuron.w, row):
                w.data = v
            neuron.b.data = bias
    return model


def _flat(model: Any) -> list[float]:
    """W1 row by row, b1, W2 row by row, b2: the order every implementation reports."""
    grads: list[float] = []
    for layer in model.layers:
        grads += [w.grad for n in layer.neurons for w in n.w]
        grads += [n.b.grad for n in layer.neurons]
    return grads


def micrograd_available() -> bool:
    try:
        import micrograd.engine  # noqa: F401
    except ImportError:
        return False
    return True


def micrograd_exp(v: Any) -> Any:
    """exp for micrograd's Value, written the way micrograd writes its ops."""
    from micrograd.engine import Value as MValue

    out = MValue(math.exp(v.data), (v,), "exp")

    def _backward() -> None:
        v.grad += out.data * out.grad

    out._backward = _backward
    return out


def micrograd_log(v: Any) -> Any:
    """log for micrograd's Value, written the way micrograd writes its ops."""
    from micrograd.engine import Value as MValue

    out = MValue(math.log(v.data), (v,), "log")

    def _backward() -> None:
        v.grad += out.grad / v.data

    out._backward = _backward
    return out


def check_micrograd_extensions(eps: float = 1e-6) -> None:
    """exp and log added to micrograd must match central finite differences."""
    from micrograd.engine import Value as MValue

    for f, numeric, points in ((micrograd_exp, math.exp, (-2.0, 0.3, 1.7)),
                               (micrograd_log, math.log, (0.2, 1.0, 3.5))):
        for a in points:
            v = MValue(a)
            out = f(v * 1.0)
            out.backward()
            expected = (numeric(a + eps) - numeric(a - eps)) / (2 * eps)
            if abs(v.grad - expected) > 1e-6 * max(1.0, abs(expected)):
                raise AssertionError(f"micrograd {f.__name__} at {a}: backward {v.grad} vs "
                                     f"finite differences {expected}")


class Micrograd:
    name = "micrograd 0.1.0"

    def __init__(self, weights: Weights) -> None:
        from micrograd.nn import MLP as MMLP

        self.model = _load(MMLP(4, [HIDDEN, 3]), weights)
        self.params = self.model.parameters()

    def loss(self, x: list[float], y: int) -> Any:
        logits = self.model(x)
        shift = max(o.data for o in logits)  # stable: exp of non-positive numbers only
        total = sum(micrograd_exp(o - shift) for o in logits)
        return micrograd_log(total) - (logits[y] - shift)

    def gradients(self, x: list[float], y: int) -> list[float]:
        self.model.zero_grad()
        self.loss(x, y).backward()
        return _flat(self.model)

    def epoch(self, X: Sequence[list[float]], Y: Sequence[int]) -> None:
        model, params = self.model, self.params
        for x, y in zip(X, Y):
            model.zero_grad()
            self.loss(x, y).backward()
            for p in params:
                p.data -= LR * p.grad

    def forward(self, x: list[float], y: int) -> Any:
        return self.loss(x, y)


class MicrogradNoGC(Micrograd):
    """micrograd with the cyclic collector off during the epoch: the difference to the
    plain row is what its closures' reference cycles cost. (The garbage is collected by
    the harness between timed epochs.)"""

    name = "micrograd, gc disabled"

    def epoch(self, X: Sequence[list[float]], Y: Sequence[int]) -> None:
        gc.disable()
        try:
            super().epoch(X, Y)
        finally:
            gc.enable()


class Floats:
    """The lecture's closed-form gradients on plain Python floats."""

    name = "floats, closed form"

    def __init__(self, weights: Weights) -> None:
        W1, b1, W2, b2 = weights
        self.W1 = [row[:] for row in W1]
        self.b1 = b1[:]
        self.W2 = [row[:] for row in W2]
        self.b2 = b2[:]

    def _grads(self, x: list[float], y: int):
        W1, b1, W2, b2 = self.W1, self.b1, self.W2, self.b2
        a = [sum(w * xi for w, xi in zip(row, x)) + b for row, b in zip(W1, b1)]
        h = [v if v > 0.0 else 0.0 for v in a]
        o = [sum(w * hj for w, hj in zip(row, h)) + b for row, b in zip(W2, b2)]
        m = max(o)
        e = [math.exp(v - m) for v in o]
        s = sum(e)
        do = [ei / s for ei in e]
        do[y] -= 1.0  # dL/do = softmax(o) - onehot(y)
        da = [sum(W2[k][j] * do[k] for k in range(3)) if a[j] > 0.0 else 0.0
              for j in range(len(a))]  # (W2^T dL/do) * 1[a > 0]
        return da, h, do

    def gradients(self, x: list[float], y: int) -> list[float]:
        da, h, do = self._grads(x, y)
        return ([d * xi for d in da for xi in x] + da + [d * hj for d in do for hj in h] + do)

    def epoch(self, X: Sequence[list[float]], Y: Sequence[int]) -> None:
        W1, b1, W2, b2 = self.W1, self.b1, self.W2, self.b2
        for x, y in zip(X, Y):
            da, h, do = self._grads(x, y)
            for k, d in enumerate(do):
                row = W2[k]
                for j, hj in enumerate(h):
                    row[j] -= LR * d * hj
                b2[k] -= LR * d
            for j, d in enumerate(da):
                if d:
                    row = W1[j]
                    for i, xi in enumerate(x):
                        row[i] -= LR * d * xi
                    b1[j] -= LR * d


class NumpySample:
    name = "numpy per sample"

    def __init__(self, weights: Weights) -> None:
        self.W1, self.b1, self.W2, self.b2 = (np.array(w, dtype=float) for w in weights)

    def _grads(self, x: np.ndarray, y: int):
        a = self.W1 @ x + self.b1
        h = np.maximum(a, 0.0)
        o = self.W2 @ h + self.b2
        e = np.exp(o - o.max())
        do = e / e.sum()
        do[y] -= 1.0
        da = (self.W2.T @ do) * (a > 0)
        return np.outer(da, x), da, np.outer(do, h), do

    def gradients(self, x: list[float], y: int) -> list[float]:
        return np.concatenate([g.ravel() for g in self._grads(np.array(x), y)]).tolist()

    def epoch(self, X: Any, Y: Sequence[int]) -> None:
        for x, y in zip(self._X(X), Y):
            dW1, db1, dW2, db2 = self._grads(x, y)
            self.W1 -= LR * dW1
            self.b1 -= LR * db1
            self.W2 -= LR * dW2
            self.b2 -= LR * db2

    def _X(self, X: Any) -> np.ndarray:
        """The samples as an array, converted once (outside the first epoch's work)."""
        cache = self.__dict__.setdefault("_arrays", {})
        if id(X) not in cache:
            cache[id(X)] = (X, np.array(X, dtype=float))  # keep X alive: ids stay unique
        return cache[id(X)][1]


class NumpyBatch(NumpySample):
    """One full-batch gradient step over all samples per epoch (time per sample)."""

    name = "numpy full batch"
    repeats = 20  # epochs per timing: one call is too short to time cold

    def epoch(self, X: Any, Y: Sequence[int]) -> None:
        X = self._X(X)
        Y = np.asarray(Y)
        A = X @ self.W1.T + self.b1
        H = np.maximum(A, 0.0)
        logits = H @ self.W2.T + self.b2
        E = np.exp(logits - logits.max(axis=1, keepdims=True))
        dO = E / E.sum(axis=1, keepdims=True)
        dO[np.arange(len(Y)), Y] -= 1.0
        dO /= len(Y)
        dA = (dO @ self.W2) * (A > 0)
        self.W2 -= LR * dO.T @ H
        self.b2 -= LR * dO.sum(axis=0)
        self.W1 -= LR * dA.T @ X
        self.b1 -= LR * dA.sum(axis=0)


class TorchEager:
    """PyTorch eager, per sample: the peer a user picks when chainrule is too slow."""

    name = "PyTorch eager"

    def __init__(self, weights: Weights) -> None:
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        self.params = [torch.tensor(w, dtype=torch.float64, requires_grad=True)
                       for w in weights]

    def _loss(self, x: Any, y: int) -> Any:
        W1, b1, W2, b2 = self.params
        o = W2 @ self.torch.relu(W1 @ x + b1) + b2
        return self.torch.logsumexp(o, 0) - o[y]

    def gradients(self, x: list[float], y: int) -> list[float]:
        for p in self.params:
            p.grad = None
        self._loss(self.torch.tensor(x, dtype=self.torch.float64), y).backward()
        return self.torch.cat([p.grad.reshape(-1) for p in self.params]).tolist()

    def epoch(self, X: Any, Y: Sequence[int]) -> None:
        torch, params = self.torch, self.params
        for x, y in zip(self._X(X), Y):
            for p in params:
                p.grad = None
            self._loss(x, y).backward()
            with torch.no_grad():
                for p in params:
                    p -= LR * p.grad

    def _X(self, X: Any) -> Any:
        """The samples as tensors, converted once (outside the epoch's work)."""
        cache = self.__dict__.setdefault("_tensors", {})
        if id(X) not in cache:
            cache[id(X)] = (X, self.torch.tensor(X, dtype=self.torch.float64))
        return cache[id(X)][1]


class JaxJitStep:
    """JAX: one SGD step (gradient and update) compiled by jax.jit, called per sample."""

    name = "JAX jit step"

    def __init__(self, weights: Weights) -> None:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        self.jnp = jnp

        def loss(params, x, y):
            W1, b1, W2, b2 = params
            o = W2 @ jax.nn.relu(W1 @ x + b1) + b2
            return jax.nn.logsumexp(o) - o[y]

        self.grad = jax.jit(jax.grad(loss))
        self.step = jax.jit(lambda params, x, y: tuple(
            p - LR * g for p, g in zip(params, jax.grad(loss)(params, x, y))))
        self.params = tuple(jnp.asarray(w, dtype=jnp.float64) for w in weights)
        self.step(self.params, jnp.zeros(4), 0)  # compile outside the timing

    def gradients(self, x: list[float], y: int) -> list[float]:
        grads = self.grad(self.params, self.jnp.asarray(x), y)
        return np.concatenate([np.asarray(g).ravel() for g in grads]).tolist()

    def epoch(self, X: Any, Y: Sequence[int]) -> None:
        step, params = self.step, self.params
        for x, y in zip(self._X(X), Y):
            params = step(params, x, y)
        params[0].block_until_ready()
        self.params = params

    def _X(self, X: Any) -> Any:
        cache = self.__dict__.setdefault("_arrays", {})
        if id(X) not in cache:
            cache[id(X)] = (X, [self.jnp.asarray(x, dtype=self.jnp.float64) for x in X])
        return cache[id(X)][1]


def peer_available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------
# Measurements.


def check_agreement(implementations: Sequence[Any], x: list[float], y: int,
                    tolerance: float = 1e-9) -> float:
    """Every implementation's gradient of one sample equals the closed form; returns the
    largest difference seen. Raises AssertionError naming the first that disagrees."""
    reference = np.array(implementations[0].gradients(x, y))
    worst = 0.0
    for impl in implementations[1:]:
        got = np.array(impl.gradients(x, y))
        if got.shape != reference.shape:
            raise AssertionError(f"{impl.name}: {got.size} gradients, expected "
                                 f"{reference.size}")
        difference = float(np.max(np.abs(got - reference)))
        if not difference <= tolerance:
            raise AssertionError(f"{impl.name} disagrees with {implementations[0].name}: "
                                 f"max |difference| {difference:.3g} > {tolerance}")
        worst = max(worst, difference)
    return worst


def time_epochs(factories: Sequence[Callable[[], Any]], X, Y, rounds: int) -> list[list[float]]:
    """Seconds per epoch, per implementation, interleaved round by round."""
    impls = [make() for make in factories]
    times: list[list[float]] = [[] for _ in impls]
    for r in range(rounds):
        for k in range(len(impls)):
            i = (k + r) % len(impls)  # rotate who goes first
            repeats = getattr(impls[i], "repeats", 1)  # a full batch: several epochs
            gc.collect()
            started = time.perf_counter()
            for _ in range(repeats):
                impls[i].epoch(X, Y)
            times[i].append((time.perf_counter() - started) / repeats)
    return times


def forward_backward_split(impl: Any, X, Y, repeats: int) -> tuple[float, float]:
    """Median seconds per sample of building the loss, and of backward()."""
    forward, backward = [], []
    for _ in range(repeats):
        for x, y in zip(X, Y):
            started = time.perf_counter()
            loss = impl.forward(x, y)
            middle = time.perf_counter()
            loss.backward()
            backward.append(time.perf_counter() - middle)
            forward.append(middle - started)
    return statistics.median(forward), statistics.median(backward)


def bytes_per_node(make_leaf: Callable[[float], Any], n: int) -> float:
    """tracemalloc's count of the memory a chain of n multiplications holds, per node."""
    gc.collect()
    tracemalloc.start()
    x = make_leaf(1.0)
    before = tracemalloc.get_traced_memory()[0]
    y = x
    for _ in range(n):
        y = y * x
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del y
    return (after - before) / n


def chain_backward_works(make_leaf: Callable[[float], Any], n: int) -> bool:
    x = make_leaf(1.0)
    y = x
    for _ in range(n):
        y = y * 1.0
    try:
        y.backward()
    except RecursionError:
        return False
    return x.grad == 1.0


def deepest_chain(make_leaf: Callable[[float], Any], limit: int) -> int:
    """The longest chain (up to ``limit``) whose backward works, by doubling and bisection."""
    if chain_backward_works(make_leaf, limit):
        return limit
    low, high = 0, 1
    while chain_backward_works(make_leaf, high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if chain_backward_works(make_leaf, middle):
            low = middle
        else:
            high = middle
    return low


# ---------------------------------------------------------------------------


def run(quick: bool = False, rounds: int | None = None, out=sys.stdout) -> dict[str, Any]:
    """Run everything and print the report; returns the figures."""
    X, Y, weights = workload()
    have_micrograd = micrograd_available()
    classes: list[type] = [Floats, Chainrule, ChainruleMicrogradIdiom, ChainruleJit,
                           ChainruleJitBatch]
    if have_micrograd:
        check_micrograd_extensions()
        classes += [Micrograd, MicrogradNoGC]
    else:
        print("micrograd is not installed (pip install micrograd==0.1.0, or "
              "pip install -e '.[bench]'): its rows are skipped", file=out)
    classes += [NumpySample, NumpyBatch]
    peers = [(TorchEager, "torch", "PyTorch"), (JaxJitStep, "jax", "JAX")]
    for cls, module, peer in peers:
        if peer_available(module):
            classes.append(cls)
        else:
            print(f"{peer} is not installed (pip install -e '.[bench]'): its row is skipped",
                  file=out)
    worst = check_agreement([cls(weights) for cls in classes], X[0], Y[0])
    print(f"gradients of one sample agree to {worst:.1e} (tolerance 1e-9) across "
          f"{len(classes)} implementations", file=out)

    if rounds is None:
        rounds = 1 if quick else 9
    epoch_X, epoch_Y = (X[:30], Y[:30]) if quick else (X, Y)
    factories = [lambda cls=cls: cls(weights) for cls in classes]
    times = time_epochs(factories, epoch_X, epoch_Y, rounds)
    per_sample = {cls.name: statistics.median(t) / len(epoch_X) * 1e6
                  for cls, t in zip(classes, times)}
    results: dict[str, Any] = {"per_sample_us": per_sample, "agreement": worst,
                               "rounds": rounds, "samples": len(epoch_X),
                               "environment": environment()}
    print(f"\niris-sgd: MLP 4-16-3 ReLU, softmax cross-entropy, per-sample SGD, "
          f"{len(epoch_X)} samples per epoch, median of {rounds} interleaved rounds", file=out)
    print(results["environment"], file=out)
    print("\n" + table(results), file=out)

    split_impls = [Chainrule] + ([Micrograd] if have_micrograd else [])
    print("\none sample, forward (build the loss) vs backward(), median over samples:",
          file=out)
    for cls in split_impls:
        f, b = forward_backward_split(cls(weights), epoch_X, epoch_Y, 1 if quick else 3)
        results[f"forward_backward_us {cls.name}"] = (f * 1e6, b * 1e6)
        print(f"  {cls.name}: forward {f * 1e6:,.1f} µs, backward {b * 1e6:,.1f} µs", file=out)

    n_nodes = 20_000 if quick else 200_000
    print(f"\nmemory per node (tracemalloc, a chain of {n_nodes:,} multiplications):", file=out)
    leaves = [("chainrule", Value)]
    if have_micrograd:
        from micrograd.engine import Value as MValue

        leaves.append(("micrograd", MValue))
    for name, leaf in leaves:
        per_node = bytes_per_node(leaf, n_nodes)
        results[f"bytes_per_node {name}"] = per_node
        print(f"  {name}: {per_node:,.0f} bytes per node", file=out)

    limit = 100_000 if quick else 1_000_000
    print(f"\ndeepest chain backward() handles (default recursion limit "
          f"{sys.getrecursionlimit()}, tried up to {limit:,}):", file=out)
    for name, leaf in leaves:
        started = time.perf_counter()
        depth = deepest_chain(leaf, limit)
        results[f"deepest_chain {name}"] = depth
        reached = "all of them" if depth == limit else "then RecursionError"
        print(f"  {name}: {depth:,} nodes ({reached}; {time.perf_counter() - started:.1f} s "
              "to find)", file=out)
    results["deepest_chain limit"] = limit
    return results


def environment() -> str:
    """The interpreter, the libraries and the machine, in one line."""
    versions = [f"{platform.python_implementation()} {platform.python_version()}",
                f"numpy {np.__version__}"]
    for module in ("torch", "jax"):
        if peer_available(module):
            versions.append(f"{module} {__import__(module).__version__}")
    return f"{', '.join(versions)} on {platform.machine()} {platform.system()}"


def table(results: dict[str, Any]) -> str:
    """The timings as a Markdown table, slowest first, with each row's speed relative to
    micrograd's (``n/a`` without micrograd)."""
    per_sample = results["per_sample_us"]
    reference = per_sample.get(Micrograd.name)
    lines = ["| implementation | µs per sample | speed vs micrograd |", "| --- | ---: | ---: |"]
    for name, micros in sorted(per_sample.items(), key=lambda kv: -kv[1]):
        ratio = f"{reference / micros:.1f}x" if reference else "n/a"
        lines.append(f"| {name} | {micros:,.{2 if micros < 10 else 1}f} | {ratio} |")
    return "\n".join(lines)


def engine_table(results: dict[str, Any]) -> str:
    """The engine's own figures -- one sample's forward and backward, memory per node,
    the longest chain backward() handles -- for chainrule and (if measured) micrograd."""
    columns = [(name, row) for name, row in (("chainrule", Chainrule.name),
                                             ("micrograd", Micrograd.name))
               if f"bytes_per_node {name}" in results]
    forward = [results[f"forward_backward_us {row}"][0] for _, row in columns]
    backward = [results[f"forward_backward_us {row}"][1] for _, row in columns]
    memory = [results[f"bytes_per_node {name}"] for name, _ in columns]
    depth = [results[f"deepest_chain {name}"] for name, _ in columns]
    limit = results["deepest_chain limit"]
    rows = [("one sample: build the loss (µs)", [f"{v:,.1f}" for v in forward]),
            ("one sample: `backward()` (µs)", [f"{v:,.1f}" for v in backward]),
            ("memory per node (bytes)", [f"{v:,.0f}" for v in memory]),
            ("longest chain `backward()` handles",
             [f"{v:,}" + (" (all tried)" if v == limit else "") for v in depth])]
    lines = ["| | " + " | ".join(name for name, _ in columns) + " |",
             "| --- |" + " ---: |" * len(columns)]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join(lines)


def write(results: dict[str, Any], path: Path = RESULTS) -> None:
    """Record a run: the README quotes this file."""
    path.parent.mkdir(exist_ok=True)
    record = {"benchmark": "iris_sgd", "date": datetime.date.today().isoformat(), **results}
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one short round and small graphs: a smoke test, not a measurement")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 9)")
    parser.add_argument("--write", action="store_true",
                        help="record the figures in benchmarks/results/iris_sgd.json "
                        "(the file the README quotes)")
    args = parser.parse_args(argv)
    if args.write and args.quick:
        parser.error("--write records a full run, not --quick")
    results = run(quick=args.quick, rounds=args.rounds)
    if args.write:
        write(results)
        print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
