"""The "generic" benchmark: chainrule's ``Value`` on generic scalar code, against the
25-line ``Value`` class that karpathy's microgpt ships with (and micrograd's).

Generic scalar code is code written for any micrograd-style ``Value`` -- operators,
``exp``/``log``/``relu`` methods, ``sum()`` over generators -- with no chainrule API in it.
Three workloads, each run on every engine in one process:

- **microgpt training step** -- karpathy's microgpt (a GPT in pure Python: token and
  position embeddings, rmsnorm, 4-head attention, a ReLU MLP, Adam; n_embd 16, n_head 4,
  n_layer 1, block_size 16: 4,192 parameters), ported below with its model code and
  training step unchanged, run on (a) microgpt's own ``Value`` (the peer: its class,
  verbatim), (b) ``autograd.Value``, (c) ``micrograd.engine.Value`` (micrograd 0.1.0 from
  PyPI). Timed per step: the forward pass (building the loss), ``loss.backward()``, the
  Adam update (which also resets the gradients), freeing the graph (``del loss``), and
  the whole step. microgpt's and micrograd's ``backward()`` leave a reference cycle (the
  recursive ``build_topo`` closure holds the topological list), so their graph is not
  freed at ``del loss`` but by the garbage collector, during a later phase -- where its
  cost is counted; chainrule's is freed at once.
  microgpt downloads ``names.txt`` (32k first names); there is no network here, so the
  documents are name-like words generated from a seeded RNG (``name_like_words``):
  lowercase, 2 to 10 letters, every letter of the alphabet present, so the vocabulary is
  27 tokens as in microgpt and the model has its 4,192 parameters. The same 8 documents
  are the steps of every round (each round continues the training, step after step).
- **sum of products** -- ``sum(wi * xi for wi, xi in zip(row, x))`` for each row of a
  100 x 64 matrix (then ``sum()`` of the 100 results, the root of ``backward()``): the
  linear layer of generic code. Forward and backward timed separately.
- **mixed ops** -- 200 terms, each a short expression using ``+ - * / ** exp log tanh
  relu`` with numbers on either side, summed: what generic code does between its linear
  layers. microgpt's ``Value`` has no ``tanh``; one is added for this workload, in its
  own style (one node, local derivative ``1 - t**2``; see ``_microgpt_tanh``).

Every engine's row is first checked against microgpt's own engine on the same work --
the same loss (or root value) to 1e-12 relative, and every parameter's (or leaf's)
gradient to 1e-12 of the largest -- before anything is timed; a row that disagrees is
reported as wrong and not timed, and an engine that cannot run the code (micrograd has
no ``exp``/``log``) is reported as skipped with the error, not patched.

Timing: one process, one BLAS thread, the garbage collector enabled as users run it
(``gc.collect()`` before each engine's turn), one untimed warm-up round, then rounds
interleaved across engines (the order rotates each round: ABC, BCA, CAB, ...).
Reported: the median over rounds of each phase, and its spread -- the rounds split into
3 consecutive groups, the range of the groups' medians relative to the median. The speed
against microgpt's engine is the median over rounds of the ratio in each round (the two
timed side by side), with the range of the 3 groups' medians of it in parentheses.
Beside the times, each engine's microgpt step under tracemalloc: the graph's nodes, the
bytes the graph holds per node after the forward pass, and the step's peak (forward,
backward and Adam, above what was allocated before it).

    python benchmarks/generic.py            # the full run (about a minute)
    python benchmarks/generic.py --write    # the same, recorded in results/generic.json
    python benchmarks/generic.py --quick    # tiny sizes, one round: a smoke test

The goal (issue 24): chainrule eager at least 2x faster than microgpt's engine on the
microgpt step, and on the sum of products both forward and backward.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.metadata
import importlib.util
import json
import math
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# One thread per library, numpy's BLAS included: set before numpy is imported (iris_sgd,
# loaded below, imports it; the machine's cores are shared)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import autograd


def _beside(name: str) -> Any:
    """The benchmark script ``name`` beside this one (not a package), loaded as a module."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}",
                                                  Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_iris_sgd = _beside("iris_sgd")
#: the run's one-line description, and whether micrograd imports (iris_sgd's own)
environment, micrograd_available = _iris_sgd.environment, _iris_sgd.micrograd_available

RESULTS = Path(__file__).resolve().parent / "results" / "generic.json"
TOLERANCE = 1e-12
SEED = 42
PEER = "microgpt's Value"
CHAINRULE = "chainrule"
MICROGRAD = "micrograd 0.1.0"


# ---------------------------------------------------------------------------
# microgpt's autograd engine: the peer, and the reference every row is checked against.
#
# From microgpt.py by Andrej Karpathy (@karpathy), 2026:
#   https://gist.github.com/karpathy/8627fe009c40f57531cb18360106ce95
#   (also https://karpathy.ai/microgpt.html)
# Copied here for benchmarking: the class exactly as written there (code unchanged; the
# gist's inline comments are shortened to fit 100 columns). It keeps its name, ``Value``,
# because its methods refer to it by that name; chainrule's is ``autograd.Value`` here.
class Value:
    __slots__ = ('data', 'grad', '_children', '_local_grads')  # noqa: RUF023 (as written)

    def __init__(self, data, children=(), local_grads=()):
        self.data = data                 # scalar value of this node (forward pass)
        self.grad = 0                    # d(loss)/d(this node) (backward pass)
        self._children = children        # children of this node in the graph
        self._local_grads = local_grads  # local derivative w.r.t. its children

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other): return Value(self.data**other, (self,), (other * self.data**(other-1),))  # noqa: E501
    def log(self): return Value(math.log(self.data), (self,), (1/self.data,))
    def exp(self): return Value(math.exp(self.data), (self,), (math.exp(self.data),))
    def relu(self): return Value(max(0, self.data), (self,), (float(self.data > 0),))
    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other**-1
    def __rtruediv__(self, other): return other * self**-1

    def backward(self):
        topo = []
        visited = set()
        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._children:
                    build_topo(child)
                topo.append(v)
        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad
# (end of microgpt's Value)


def _microgpt_tanh(self):
    """NOT part of microgpt: tanh, which its Value lacks, added for the mixed-op workload
    only, written the way microgpt writes ``exp`` (one node, its local derivative stored)."""
    t = math.tanh(self.data)
    return Value(t, (self,), (1 - t**2,))


Value.tanh = _microgpt_tanh


# ---------------------------------------------------------------------------
# microgpt's model and training step, ported from the same file. Everything from the
# tokenizer to the Adam update is microgpt's code, but for these changes (marked CHANGED):
# - it is wrapped in a function of the Value class, so the same lines run on every engine
#   (the model code never names Value but in ``matrix``);
# - the documents are given (no download, no shuffle); the weights are drawn from a
#   random.Random(seed) of its own, not the global generator, so every engine starts
#   from the same weights;
# - the training loop's body is split in three -- forward(doc) builds the loss,
#   ``loss.backward()``, adam(step) -- so each phase can be timed; the harness picks the
#   document (microgpt takes docs[step % len(docs)]);
# - no printing, no inference; lines wrapped to 100 columns, comments shortened.


def microgpt(Value: type, docs: Sequence[str], seed: int = SEED) -> SimpleNamespace:
    """microgpt's model, its parameters and its training step, on ``Value``."""
    rng = random.Random(seed)  # CHANGED: microgpt calls random.seed(42) and random.gauss

    # Let there be a Tokenizer to translate strings to sequences of integers and back
    uchars = sorted(set(''.join(docs)))  # unique characters become token ids 0..n-1
    BOS = len(uchars)  # token id for a special Beginning of Sequence (BOS) token
    vocab_size = len(uchars) + 1  # total number of unique tokens, +1 is for BOS

    # Initialize the parameters, to store the knowledge of the model
    n_layer = 1     # depth of the transformer neural network (number of layers)
    n_embd = 16     # width of the network (embedding dimension)
    block_size = 16  # maximum context length of the attention window
    n_head = 4      # number of attention heads
    head_dim = n_embd // n_head  # derived dimension of each head
    matrix = lambda nout, nin, std=0.08: [[Value(rng.gauss(0, std)) for _ in range(nin)]
                                          for _ in range(nout)]
    state_dict = {'wte': matrix(vocab_size, n_embd), 'wpe': matrix(block_size, n_embd),
                  'lm_head': matrix(vocab_size, n_embd)}
    for i in range(n_layer):
        state_dict[f'layer{i}.attn_wq'] = matrix(n_embd, n_embd)
        state_dict[f'layer{i}.attn_wk'] = matrix(n_embd, n_embd)
        state_dict[f'layer{i}.attn_wv'] = matrix(n_embd, n_embd)
        state_dict[f'layer{i}.attn_wo'] = matrix(n_embd, n_embd)
        state_dict[f'layer{i}.mlp_fc1'] = matrix(4 * n_embd, n_embd)
        state_dict[f'layer{i}.mlp_fc2'] = matrix(n_embd, 4 * n_embd)
    params = [p for mat in state_dict.values() for row in mat for p in row]  # flatten

    # Define the model architecture: a function mapping tokens and parameters to logits
    # Follow GPT-2 with minor differences: layernorm -> rmsnorm, no biases, GeLU -> ReLU
    def linear(x, w):
        return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]

    def softmax(logits):
        max_val = max(val.data for val in logits)
        exps = [(val - max_val).exp() for val in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def rmsnorm(x):
        ms = sum(xi * xi for xi in x) / len(x)
        scale = (ms + 1e-5) ** -0.5
        return [xi * scale for xi in x]

    def gpt(token_id, pos_id, keys, values):
        tok_emb = state_dict['wte'][token_id]  # token embedding
        pos_emb = state_dict['wpe'][pos_id]  # position embedding
        x = [t + p for t, p in zip(tok_emb, pos_emb)]  # joint token and position embedding
        x = rmsnorm(x)  # note: not redundant due to backward pass via the residual connection

        for li in range(n_layer):
            # 1) Multi-head Attention block
            x_residual = x
            x = rmsnorm(x)
            q = linear(x, state_dict[f'layer{li}.attn_wq'])
            k = linear(x, state_dict[f'layer{li}.attn_wk'])
            v = linear(x, state_dict[f'layer{li}.attn_wv'])
            keys[li].append(k)
            values[li].append(v)
            x_attn = []
            for h in range(n_head):
                hs = h * head_dim
                q_h = q[hs:hs+head_dim]
                k_h = [ki[hs:hs+head_dim] for ki in keys[li]]
                v_h = [vi[hs:hs+head_dim] for vi in values[li]]
                attn_logits = [sum(q_h[j] * k_h[t][j] for j in range(head_dim)) / head_dim**0.5
                               for t in range(len(k_h))]
                attn_weights = softmax(attn_logits)
                head_out = [sum(attn_weights[t] * v_h[t][j] for t in range(len(v_h)))
                            for j in range(head_dim)]
                x_attn.extend(head_out)
            x = linear(x_attn, state_dict[f'layer{li}.attn_wo'])
            x = [a + b for a, b in zip(x, x_residual)]
            # 2) MLP block
            x_residual = x
            x = rmsnorm(x)
            x = linear(x, state_dict[f'layer{li}.mlp_fc1'])
            x = [xi.relu() for xi in x]
            x = linear(x, state_dict[f'layer{li}.mlp_fc2'])
            x = [a + b for a, b in zip(x, x_residual)]

        logits = linear(x, state_dict['lm_head'])
        return logits

    # Let there be Adam, the blessed optimizer and its buffers
    learning_rate, beta1, beta2, eps_adam = 0.01, 0.85, 0.99, 1e-8
    m = [0.0] * len(params)  # first moment buffer
    v = [0.0] * len(params)  # second moment buffer
    num_steps = 1000  # number of training steps

    def forward(doc):  # CHANGED: the loop's first part; microgpt's doc = docs[step % len(docs)]
        # Take single document, tokenize it, surround it with BOS on both sides
        tokens = [BOS] + [uchars.index(ch) for ch in doc] + [BOS]
        n = min(block_size, len(tokens) - 1)

        # Forward the token sequence through the model, building up the graph to the loss
        keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]
        losses = []
        for pos_id in range(n):
            token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
            logits = gpt(token_id, pos_id, keys, values)
            probs = softmax(logits)
            loss_t = -probs[target_id].log()
            losses.append(loss_t)
        loss = (1 / n) * sum(losses)  # final average loss over the document sequence
        return loss  # CHANGED: then the harness calls loss.backward()

    def adam(step):  # CHANGED: the loop's last part
        # Adam optimizer update: update the model parameters based on their gradients
        lr_t = learning_rate * (1 - step / num_steps)  # linear learning rate decay
        for i, p in enumerate(params):
            m[i] = beta1 * m[i] + (1 - beta1) * p.grad
            v[i] = beta2 * v[i] + (1 - beta2) * p.grad ** 2
            m_hat = m[i] / (1 - beta1 ** (step + 1))
            v_hat = v[i] / (1 - beta2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat ** 0.5 + eps_adam)
            p.grad = 0

    return SimpleNamespace(params=params, forward=forward, adam=adam, vocab_size=vocab_size)


# ---------------------------------------------------------------------------
# The data: microgpt's names.txt cannot be downloaded here.

_ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "qu", "r", "s", "t",
           "v", "w", "x", "y", "z", "br", "ch", "cl", "dr", "fl", "gr", "kr", "sh", "st", "th",
           "tr"]
_VOWELS = ["a", "e", "i", "o", "u", "y", "a", "e", "i", "o", "ai", "ea", "ie", "ia", "ei", "ou"]
_CODAS = ["", "", "", "", "n", "l", "r", "s", "th", "x", "z", "h", "k", "m", "nn", "ll"]


def name_like_words(count: int, seed: int = SEED) -> list[str]:
    """``count`` lowercase name-like words (``kelia``, ``brunn``, ...) from a seeded RNG:
    one to three syllables, 2 to 10 letters, every letter of the alphabet present."""
    rng = random.Random(seed)
    words = []
    while len(words) < count:
        syllables = rng.choices((1, 2, 3), weights=(2, 5, 3))[0]
        word = "".join((rng.choice(_ONSETS) if rng.random() < 0.8 else "")
                       + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))
        if 2 <= len(word) <= 10:
            words.append(word)
    if len(set("".join(words))) != 26:
        raise AssertionError("the words must use every letter (microgpt's 27-token vocabulary)")
    return words


DOCS = name_like_words(1000)


# ---------------------------------------------------------------------------
# The engines, and how to walk each one's graph (for the node count).

CHILDREN: dict[str, Callable[[Any], Any]] = {
    PEER: lambda v: v._children,
    CHAINRULE: lambda v: v.parents,
    MICROGRAD: lambda v: v._prev,
}


def engines() -> list[tuple[str, type | None, str]]:
    """(name, Value class or None, why it is missing) for every engine, the peer first."""
    found: list[tuple[str, type | None, str]] = [(PEER, Value, ""),
                                                 (CHAINRULE, autograd.Value, "")]
    if micrograd_available():
        from micrograd.engine import Value as MicrogradValue

        version = importlib.metadata.version("micrograd")
        name = MICROGRAD if version == "0.1.0" else f"micrograd {version}"
        CHILDREN.setdefault(name, CHILDREN[MICROGRAD])
        found.append((name, MicrogradValue, ""))
    else:
        found.append((MICROGRAD, None, "not installed (pip install micrograd==0.1.0)"))
    return found


def count_nodes(root: Any, children: Callable[[Any], Any], exclude: Sequence[Any] = ()) -> int:
    """The Values ``root`` depends on (itself included), less those in ``exclude``."""
    seen = {id(v) for v in exclude}
    excluded = len(seen)
    stack = [root]
    seen.add(id(root))
    while stack:
        for child in children(stack.pop()):
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen) - excluded


# ---------------------------------------------------------------------------
# The workloads. Each has: check(V) -> (value, gradients) of one fresh forward and
# backward; prepare(V) -> the state one engine is timed on; run(state) -> seconds per
# unit of each phase in one round.


class MicrogptStep:
    name = "microgpt"
    title = "microgpt training step"
    unit = "step"
    phases = ("forward", "backward", "adam", "free", "total")

    def __init__(self, steps_per_round: int) -> None:
        self.docs = DOCS[:steps_per_round]

    def check(self, V: type) -> tuple[float, list[float]]:
        model = microgpt(V, DOCS)
        if len(model.params) != 4192:
            raise AssertionError(f"microgpt has {len(model.params)} parameters, not 4,192")
        loss = model.forward(self.docs[0])
        loss.backward()
        return float(loss.data), [float(p.grad) for p in model.params]

    def prepare(self, V: type) -> SimpleNamespace:
        model = microgpt(V, DOCS)
        model.step = 0
        return model

    def run(self, model: SimpleNamespace) -> dict[str, float]:
        clock = time.perf_counter
        forward = backward = adam = free = total = 0.0
        for doc in self.docs:
            t0 = clock()
            loss = model.forward(doc)
            t1 = clock()
            loss.backward()
            t2 = clock()
            model.adam(model.step)
            t3 = clock()
            del loss  # the graph goes (at once, or at the next collection if it has cycles)
            t4 = clock()
            model.step += 1
            forward += t1 - t0
            backward += t2 - t1
            adam += t3 - t2
            free += t4 - t3
            total += t4 - t0
        n = len(self.docs)
        return {"forward": forward / n, "backward": backward / n, "adam": adam / n,
                "free": free / n, "total": total / n}

    def describe(self) -> str:
        tokens = statistics.mean(min(16, len(d) + 1) for d in self.docs)
        return (f"4,192 parameters (n_embd 16, n_head 4, n_layer 1, block_size 16), Adam; "
                f"{len(self.docs)} document{'s' * (len(self.docs) > 1)} per round "
                f"({', '.join(self.docs)}: "
                f"{tokens:.2f} positions on average)")


class _LeavesWorkload:
    """A function of leaves built from the same seeded floats on every engine."""

    unit = "call"
    phases = ("forward", "backward")

    def __init__(self, reps: int) -> None:
        self.reps = reps

    def leaves(self, V: type) -> tuple[Any, list[Any]]:
        raise NotImplementedError

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError

    def check(self, V: type) -> tuple[float, list[float]]:
        args, leaves = self.leaves(V)
        root = self.forward(*args)
        root.backward()
        return float(root.data), [float(v.grad) for v in leaves]

    def prepare(self, V: type) -> tuple[Any, ...]:
        return self.leaves(V)[0]

    def run(self, args: tuple[Any, ...]) -> dict[str, float]:
        clock = time.perf_counter
        forward = backward = 0.0
        fn = self.forward
        for _ in range(self.reps):
            t0 = clock()
            root = fn(*args)
            t1 = clock()
            root.backward()
            t2 = clock()
            del root
            forward += t1 - t0
            backward += t2 - t1
        return {"forward": forward / self.reps, "backward": backward / self.reps}


class SumOfProducts(_LeavesWorkload):
    name = "sum_of_products"
    title = "sum of products"

    def __init__(self, rows: int, cols: int, reps: int) -> None:
        super().__init__(reps)
        rng = random.Random(SEED)
        self.W = [[rng.uniform(-1, 1) for _ in range(cols)] for _ in range(rows)]
        self.x = [rng.uniform(-1, 1) for _ in range(cols)]

    def leaves(self, V: type) -> tuple[Any, list[Any]]:
        W = [[V(w) for w in row] for row in self.W]
        x = [V(xi) for xi in self.x]
        return (W, x), [w for row in W for w in row] + x

    def forward(self, W: list[list[Any]], x: list[Any]) -> Any:
        ys = [sum(wi * xi for wi, xi in zip(row, x)) for row in W]
        return sum(ys)

    def describe(self) -> str:
        return (f"sum(wi * xi for wi, xi in zip(row, x)) over a {len(self.W)} x "
                f"{len(self.x)} matrix, then sum() of the rows; {self.reps} calls per round")


class MixedOps(_LeavesWorkload):
    name = "mixed_ops"
    title = "mixed ops"

    def __init__(self, terms: int, reps: int) -> None:
        super().__init__(reps)
        rng = random.Random(SEED + 1)
        self.xs = [rng.uniform(-2, 2) for _ in range(terms)]
        self.ws = [rng.uniform(-2, 2) for _ in range(terms)]

    def leaves(self, V: type) -> tuple[Any, list[Any]]:
        xs, ws = [V(x) for x in self.xs], [V(w) for w in self.ws]
        return (xs, ws), xs + ws

    def forward(self, xs: list[Any], ws: list[Any]) -> Any:
        total = 0
        for x, w in zip(xs, ws):
            a = x * w + 0.5
            b = (a - w) / (1.0 + x * x)
            c = b ** 2 + (a * 0.1).exp()
            d = (c + 1.0).log()
            e = d.tanh() - b.relu()
            total = total + e * x - 0.25 * (1.0 - e) / (2.0 + d)
        return total

    def describe(self) -> str:
        return (f"{len(self.xs)} terms of + - * / ** exp log tanh relu (numbers on either "
                f"side), summed; {self.reps} calls per round")


# ---------------------------------------------------------------------------
# Measurement.


def disagreement(reference: tuple[float, list[float]], got: tuple[float, list[float]]
                 ) -> tuple[float, float]:
    """(relative difference of the values, largest gradient difference relative to the
    largest reference gradient)."""
    value, grads = reference
    value_rel = abs(got[0] - value) / max(abs(value), 1e-300)
    if len(got[1]) != len(grads):
        return value_rel, math.inf
    scale = max((abs(g) for g in grads), default=0.0) or 1.0
    grads_rel = max((abs(a - b) for a, b in zip(got[1], grads)), default=0.0) / scale
    return value_rel, grads_rel


def check_rows(workload: Any, found: Sequence[tuple[str, type | None, str]]
               ) -> dict[str, dict[str, Any]]:
    """Each engine's row: ok (with its agreement), skipped (an op it lacks), failed (another
    error) or wrong (it disagrees with microgpt's engine)."""
    rows: dict[str, dict[str, Any]] = {}
    reference = workload.check(found[0][1])  # microgpt's engine: if it fails, nothing runs
    for name, V, missing in found:
        if V is None:
            rows[name] = {"status": "skipped", "reason": missing}
            continue
        try:
            got = reference if name == PEER else workload.check(V)
        except Exception as error:  # an op the engine lacks (skipped), or any other error
            first = str(error).splitlines()[0] if str(error) else ""
            rows[name] = {"status": "skipped" if isinstance(error, AttributeError) else "failed",
                          "reason": f"{type(error).__name__}: {first}"}
            continue
        value_rel, grads_rel = disagreement(reference, got)
        row = {"value_rel": value_rel, "grads_rel": grads_rel}
        if value_rel <= TOLERANCE and grads_rel <= TOLERANCE:
            rows[name] = {"status": "ok", **row}
        else:
            rows[name] = {"status": "wrong", **row,
                          "reason": f"disagrees with {PEER}: value {value_rel:.1e} relative, "
                                    f"gradients {grads_rel:.1e} of the largest "
                                    f"(tolerance {TOLERANCE:g})"}
    return rows


def groups(samples: Sequence[float], n: int = 3) -> list[float]:
    """The medians of ``n`` consecutive groups of rounds (fewer with fewer rounds)."""
    n = min(n, len(samples))
    size = len(samples) / n
    return [statistics.median(samples[round(i * size):round((i + 1) * size)])
            for i in range(n)]


def measure(workload: Any, found: Sequence[tuple[str, type | None, str]], rounds: int
            ) -> dict[str, Any]:
    """Check every row, then time the rows that agree, interleaved round by round."""
    rows = check_rows(workload, found)
    classes = {name: V for name, V, _ in found}
    timed = [name for name, row in rows.items() if row["status"] == "ok"]
    states = {name: workload.prepare(classes[name]) for name in timed}
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in timed}
    for name in timed:  # a warm-up round, not timed (first calls, the allocator's arenas)
        workload.run(states[name])
    for r in range(rounds):
        for k in range(len(timed)):
            name = timed[(k + r) % len(timed)]  # rotate who goes first
            gc.collect()
            samples[name].append(workload.run(states[name]))
    for name in timed:
        row = rows[name]
        row["ms"] = {phase: statistics.median(s[phase] for s in samples[name]) * 1e3
                     for phase in workload.phases}
        row["groups_ms"] = {phase: [t * 1e3 for t in groups([s[phase] for s in samples[name]])]
                            for phase in workload.phases}
    for name in timed:  # the ratio in each round (engines timed side by side), then medians
        ratios = {phase: [p[phase] / s[phase] for p, s in zip(samples[PEER], samples[name])]
                  for phase in workload.phases}
        rows[name]["speedup"] = {phase: statistics.median(r) for phase, r in ratios.items()}
        rows[name]["speedup_groups"] = {phase: groups(r) for phase, r in ratios.items()}
    return {"title": workload.title, "description": workload.describe(),
            "unit": workload.unit, "phases": list(workload.phases), "rows": rows}


def memory(found: Sequence[tuple[str, type | None, str]], rows: dict[str, dict[str, Any]],
           doc: str) -> dict[str, dict[str, float]]:
    """Each working engine's microgpt step under tracemalloc: the graph's nodes (the
    parameters not counted), the bytes it holds per node after the forward pass, and the
    peak of forward + backward + Adam above what was allocated before the step."""
    figures = {}
    for name, V, _ in found:
        if rows.get(name, {}).get("status") != "ok":
            continue
        model = microgpt(V, DOCS)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        loss = model.forward(doc)
        held = tracemalloc.get_traced_memory()[0] - before
        loss.backward()
        model.adam(0)
        peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
        nodes = count_nodes(loss, CHILDREN[name], model.params)
        figures[name] = {"nodes": nodes, "bytes_per_node": held / nodes,
                         "graph_mb": held / 1e6, "peak_mb": peak / 1e6}
        del loss, model
    return figures


# ---------------------------------------------------------------------------
# The report (also what a README part would render from results/generic.json).

_PHASE_NAMES = {"forward": "forward", "backward": "backward", "adam": "Adam",
                "free": "free graph", "total": "total"}


def _ratio(row: dict[str, Any], phase: str) -> str:
    ratios = row["speedup_groups"][phase]
    spread = f" ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""
    return f"{row['speedup'][phase]:.2f}x{spread}"


def _spread(row: dict[str, Any], phase: str) -> str:
    medians = row["groups_ms"][phase]
    if len(medians) < 2:
        return "n/a"
    return f"{(max(medians) - min(medians)) / row['ms'][phase] * 100:.0f}%"


def _agreement(row: dict[str, Any]) -> str:
    """The worse of the value's and the gradients' relative difference to the peer."""
    return f"{max(row['value_rel'], row['grads_rel']):.1e}"


def _not_timed(row: dict[str, Any]) -> str:
    return f"**{row['status']}**: {row['reason']}"


def microgpt_table(result: dict[str, Any]) -> str:
    """ms per step, phase by phase, with the total's spread and the ratio to the peer."""
    phases = result["phases"]
    lines = ["| engine | " + " | ".join(_PHASE_NAMES[p] for p in phases)
             + " | spread | speed vs microgpt's Value | agreement |",
             "| --- |" + " ---: |" * (len(phases) + 2) + " ---: |"]
    for name, row in result["rows"].items():
        if row["status"] != "ok":
            lines.append(f"| {name} | {_not_timed(row)} |" + " |" * (len(phases) + 2))
            continue
        times = " | ".join(f"{row['ms'][p]:.1f}" for p in phases)
        lines.append(f"| {name} | {times} | {_spread(row, 'total')} | {_ratio(row, 'total')} "
                     f"| {_agreement(row)} |")
    return "\n".join(lines)


def micro_table(results: Sequence[dict[str, Any]]) -> str:
    """ms per call, forward and backward, with the ratios to the peer."""
    lines = ["| workload | engine | forward | backward | spread (fwd/bwd) | "
             "forward vs microgpt's Value | backward vs microgpt's Value | agreement |",
             "| --- | --- |" + " ---: |" * 6]
    for result in results:
        for name, row in result["rows"].items():
            if row["status"] != "ok":
                lines.append(f"| {result['title']} | {name} | {_not_timed(row)} |" + " |" * 5)
                continue
            lines.append(f"| {result['title']} | {name} | {row['ms']['forward']:.2f} | "
                         f"{row['ms']['backward']:.2f} | {_spread(row, 'forward')} / "
                         f"{_spread(row, 'backward')} | {_ratio(row, 'forward')} | "
                         f"{_ratio(row, 'backward')} | {_agreement(row)} |")
    return "\n".join(lines)


def memory_table(figures: dict[str, dict[str, float]]) -> str:
    lines = ["| engine | nodes per step | bytes per node | graph held (MB) | peak (MB) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, f in figures.items():
        lines.append(f"| {name} | {f['nodes']:,} | {f['bytes_per_node']:,.0f} | "
                     f"{f['graph_mb']:.2f} | {f['peak_mb']:.2f} |")
    return "\n".join(lines)


def goals(record: dict[str, Any]) -> list[tuple[str, float | None, bool]]:
    """Issue 24's goals: (goal, chainrule's speed-up or None if not timed, met?)."""
    wanted = [("microgpt step (total)", record["microgpt"], "total"),
              ("sum of products, forward", record["sum_of_products"], "forward"),
              ("sum of products, backward", record["sum_of_products"], "backward")]
    found = []
    for label, result, phase in wanted:
        row = result["rows"].get(CHAINRULE, {})
        speedup = row["speedup"][phase] if row.get("status") == "ok" else None
        found.append((f"{label}: chainrule at least 2x microgpt's Value", speedup,
                      speedup is not None and speedup >= 2))
    return found


def table(record: dict[str, Any], with_goals: bool = True) -> str:
    """Every table of a run (printed by the run; renderable from results/generic.json);
    the README shows the goals in its own table (``with_goals=False``)."""
    micro = [record["sum_of_products"], record["mixed_ops"]]
    goal_lines = ["| goal | measured | |", "| --- | ---: | --- |"]
    for goal, speedup, met in goals(record):
        measured = "not timed" if speedup is None else f"{speedup:.2f}x"
        goal_lines.append(f"| {goal} | {measured} | {'**met**' if met else '**not met**'} |")
    return "\n\n".join([
        f"**{record['microgpt']['title']}**, ms per step: {record['microgpt']['description']}",
        microgpt_table(record["microgpt"]),
        "**Microbenchmarks**, ms per call: " + "; ".join(
            f"{r['title']}: {r['description']}" for r in micro),
        micro_table(micro),
        "**Memory of one microgpt step** (tracemalloc)",
        memory_table(record["memory"]),
        *(["\n".join(goal_lines)] if with_goals else [])])


def run(quick: bool = False, rounds: int | None = None, out=sys.stdout) -> dict[str, Any]:
    """Check and time every workload on every engine; print the report, return the record."""
    if rounds is None:
        rounds = 1 if quick else 9
    found = engines()
    workloads = ([MicrogptStep(1), SumOfProducts(10, 8, 1), MixedOps(10, 1)] if quick else
                 [MicrogptStep(8), SumOfProducts(100, 64, 10), MixedOps(200, 10)])
    record: dict[str, Any] = {"rounds": rounds, "quick": quick, "tolerance": TOLERANCE}
    print(f"generic: chainrule's Value against microgpt's Value (and micrograd's), median of "
          f"{rounds} interleaved rounds, spread over 3 groups of rounds", file=out)
    for workload in workloads:
        started = time.perf_counter()
        record[workload.name] = measure(workload, found, rounds)
        rows = record[workload.name]["rows"]
        print(f"  {workload.title}: " + "; ".join(
            f"{name} {row['status']}" for name, row in rows.items())
            + f" ({time.perf_counter() - started:.0f} s)", file=out)
    record["memory"] = memory(found, record["microgpt"]["rows"], DOCS[0])
    # After the timing: environment() imports PyTorch and JAX to name their versions, and
    # their hundreds of thousands of objects would make every full collection of the
    # garbage collector ten times slower (72 ms instead of 7) for the rest of the run.
    record["environment"] = environment()
    print(record["environment"], file=out)
    print("\n" + table(record), file=out)
    return record


def write(record: dict[str, Any], path: Path = RESULTS) -> None:
    """Record a run (a README part can quote it: ``table(record)``)."""
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"benchmark": "generic",
                                "date": datetime.date.today().isoformat(), **record},
                               indent=1, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, one round: a smoke test (it still checks agreement)")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 9)")
    parser.add_argument("--write", action="store_true",
                        help="record the figures in benchmarks/results/generic.json")
    args = parser.parse_args(argv)
    if args.write and args.quick:
        parser.error("--write records a full run, not --quick")
    record = run(quick=args.quick, rounds=args.rounds)
    if args.write:
        write(record)
        print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
