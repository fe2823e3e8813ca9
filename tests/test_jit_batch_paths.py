"""``jit(f).batch`` is a fast path of ``value_and_grad``: for every row of a batch it
gives eager's value and gradients (to 1e-12), and it refuses a batch exactly when eager
refuses one of its rows, with the error eager raises for the first such row.

Checked on the issue's reproducer and differentially on seeded random graphs whose nodes
are shared (so the generated code's gradient variables alias one another), against
eager evaluation row by row and against ``jit(f)(row)`` sample by sample. A few hundred
graphs run in the regular suite; ``CHAINRULE_FUZZ=N`` runs N of them::

    CHAINRULE_FUZZ=20000 python -m pytest -q -s tests/test_jit_batch_paths.py

A failing graph is printed with its seed: ``rng = np.random.default_rng(seed)``, then
``compare(random_graph(rng), rng)`` runs it again. Rounding is not a failure, but a badly
conditioned graph can magnify it past 1e-12 (about once in 20,000 graphs): numpy's exp
and libm's differ by an ulp now and then, and cos(exp(59.26)) -- of a number near 5e25,
whose ulp is 9e9 radians -- then differs entirely, both right; numpy's logsumexp sums
with ``+`` where eager uses ``math.fsum``, and logsumexp([e, ...]) - e cancels the rest.
"""

from __future__ import annotations

import operator
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from autograd import (
    JitFunction,
    Value,
    dot,
    jit,
    log_softmax,
    logsumexp,
    maximum,
    minimum,
    softmax,
    value_and_grad,
)

FUZZ = int(os.environ.get("CHAINRULE_FUZZ", "500"))
RTOL = 1e-12
REFUSALS = (ValueError, ArithmeticError)  # ZeroDivisionError, OverflowError among them


# ---------------------------------------------------------------------------
# The reproducer


def test_a_gradient_aliased_then_added_to_in_place_stays_right_in_batch():
    """u's gradient starts as a copy of (u/x1 + u)'s, then grows: in a batch (arrays)
    it must not grow the gradient it was copied from."""
    def h(x):
        u = x[0] * x[1]
        return (u / x[1] + u) * x[1]

    X = np.array([[0.5, 2.0], [1.5, -1.0]])
    values, grads = jit(h).batch(X, batched=(0,))
    np.testing.assert_array_equal(grads, [[6.0, 2.5], [0.0, -1.5]])
    for row, value, gradient in zip(X, values, grads):
        expected_value, expected = value_and_grad(h)(row.tolist())
        assert value == expected_value and gradient.tolist() == expected


# ---------------------------------------------------------------------------
# One graph for each bug the random graphs found (vectorized code and scalar)


def assert_batch_matches_eager(f, X, w, vectorize=None):
    """``jit(f, (0, 1)).batch(X, w)`` (and ``jit(f)(row, w)`` per row) against eager, row
    by row: values and x's gradients per row, w's summed over the rows."""
    compiled = jit(f, (0, 1), vectorize=vectorize)
    values, (gx, gw) = compiled.batch(X, w, batched=(0,))
    rows = [value_and_grad(f, (0, 1))(x.tolist(), w) for x in X]
    np.testing.assert_allclose(values, [v for v, _ in rows], rtol=RTOL)
    np.testing.assert_allclose(gx, [g[0] for _, g in rows], rtol=RTOL)
    np.testing.assert_allclose(gw, np.sum([g[1] for _, g in rows], axis=0), rtol=RTOL)
    for x, (value, (dx, dw)) in zip(X, rows):
        got_value, (got_dx, got_dw) = compiled(x.tolist(), w)
        assert got_value == pytest.approx(value, rel=RTOL)
        np.testing.assert_allclose([*got_dx, *got_dw], [*dx, *dw], rtol=RTOL)
    return compiled


def _aliased_after_a_layer(x, w):  # the reproducer, in the vectorized code
    h = [dot(w[0:2], x[:2], w[6]), dot(w[2:4], x[:2], w[7])]
    u = h[0] * x[2]
    return (u / x[2] + u) * x[2] + h[1].tanh()


def _reaches_no_batched_input(x, w):  # w[6] * w[7] is the same in every row
    h = [dot(w[0:2], w[4:6]), dot(w[2:4], w[4:6])]  # a layer reading weights only
    return h[0] * x[0] + h[1].tanh() + w[6] * w[7]


def _shares_a_bias(x, w):  # one bias for two neurons: w[0] is gathered twice
    h = [dot([w[1], w[2]], x[:2], w[0]), dot([w[3], w[4]], x[:2], w[0])]
    return h[0] * h[1] + x[2]


def _uses_a_map_member_early(x, w):  # sin(h[1]) is made, and used, before sin(h[0])
    h = [dot(w[0:2], x[:2]), dot(w[2:4], x[:2])]
    late = h[1].sin() * x[2]
    return h[0].sin() + late


def _reads_members_as_numbers(x, w):  # helpers (sign, share, datan) on numpy numbers
    h = [dot(w[0:2], x[:2], w[4]), dot(w[2:4], x[:2], w[5])]
    return abs(h[0]) + maximum(h[1], h[0]) + h[1].atan() + x[2]


FOUND = {f.__name__.lstrip("_"): f for f in (
    _aliased_after_a_layer, _reaches_no_batched_input, _shares_a_bias,
    _uses_a_map_member_early, _reads_members_as_numbers)}


@pytest.mark.parametrize("vectorize", [None, True, False])
@pytest.mark.parametrize("name", FOUND)
def test_what_the_random_graphs_found_agrees_with_eager(name, vectorize):
    X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [0.1, 0.2, 0.3], [-0.7, 0.9, 1.1]])
    w = [0.3, -0.2, 0.1, 0.7, 0.4, -0.6, 1.3, -0.8]
    compiled = assert_batch_matches_eager(FOUND[name], X, w, vectorize)
    if vectorize is not None:  # the path asked for is the one tested
        assert ("(vectorized)" in compiled.source) is vectorize


def test_logsumexp_over_a_layer_has_the_op_tables_derivative_at_1e17():
    """softmax as the op table computes it, exp(v - max v) normalised: exp(v - out) is 1
    for both of [1e17, 1e17], whose out rounds to 1e17."""
    def f(x, w):
        return logsumexp([dot(w[0:2], x), dot(w[2:4], x)])

    X = np.array([[1e17, 0.0], [1.0, 2.0]])
    for vectorize in (True, False):
        assert_batch_matches_eager(f, X, [1.0, 0.0, 1.0, 0.0], vectorize)


def test_a_batchs_values_are_never_the_callers_array():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    values, _ = jit(lambda x: x[0]).batch(X, batched=(0,))
    values[0] = 7.0
    assert X[0, 0] == 1.0


# ---------------------------------------------------------------------------
# Refusals: the whole batch, exactly when eager refuses a row


def test_a_batch_is_refused_with_eagers_error_for_its_first_refused_row():
    compiled = jit(lambda x: (x[0] - 1.0).log() + (x[1]).sqrt())
    X = np.array([[2.0, 1.0], [3.0, -4.0], [0.5, 1.0]])  # row 1: sqrt(-4), row 2: log(-0.5)
    with pytest.raises(ValueError, match=r"sqrt: argument must be >= 0, got -4\.0"):
        compiled.batch(X, batched=(0,))
    with pytest.raises(ValueError, match=r"log: argument must be > 0, got -0\.5"):
        compiled.batch(X[[0, 2, 1]], batched=(0,))
    values, _ = compiled.batch(X[[0, 0]], batched=(0,))  # the good rows alone answer
    assert values.tolist() == [1.0, 1.0]


def test_a_leaf_made_inside_f_has_its_gradient_checked_as_in_eager():
    def f(x):
        return x * Value(1e-300) * 1e10  # d/d Value(1e-300) = 1e310 at x = 1e300

    with pytest.raises(OverflowError, match="backward through mul"):
        value_and_grad(f)(1e300)
    with pytest.raises(OverflowError, match="backward through mul"):
        jit(f)(1e300)
    with pytest.raises(OverflowError, match="backward through mul"):
        jit(f).batch(np.array([1.0, 1e300]), batched=(0,))


def test_a_batch_answers_with_eagers_numbers_where_only_its_own_arithmetic_fails():
    """The compiled code also differentiates an argument held fixed (c), which eager
    treats as a constant: its overflow there is not a refusal, in a batch as in a call."""
    f = lambda x, c: c * x * 1e300  # d/dc = 1e310 at x = 1e10, never computed by eager
    eager = value_and_grad(f)(1e10, 1e-10)
    assert jit(f)(1e10, 1e-10) == eager
    values, grads = jit(f).batch(np.array([1e10, 1e10]), 1e-10, batched=(0,))
    assert values.tolist() == [eager[0]] * 2 and grads.tolist() == [eager[1]] * 2

    def g(x, w, c):  # the same with lists, one batched and one not
        return c * x[0] * 1e300 * w[0] + x[1] * w[1]

    X, w = np.array([[1e10, 1.0], [2e9, -3.0]]), [1.0, 2.0]
    rows = [value_and_grad(g, (0, 1))(x.tolist(), w, 1e-10) for x in X]
    values, (gx, gw) = jit(g, (0, 1)).batch(X, w, 1e-10, batched=(0,))
    assert values.tolist() == [value for value, _ in rows]
    assert gx.tolist() == [dx for _, (dx, _) in rows]
    assert gw == np.sum([dw for _, (_, dw) in rows], axis=0).tolist()  # a list, as w is


# ---------------------------------------------------------------------------
# Random graphs: the generator


UNARY = {
    "exp": lambda a: a.exp(), "log": lambda a: a.log(), "sqrt": lambda a: a.sqrt(),
    "tanh": lambda a: a.tanh(), "sigmoid": lambda a: a.sigmoid(), "relu": lambda a: a.relu(),
    "sin": lambda a: a.sin(), "cos": lambda a: a.cos(), "atan": lambda a: a.atan(),
    "abs": abs, "neg": operator.neg,
}
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "maximum": maximum, "minimum": minimum}
EXPONENTS = (2.0, 3.0, 0.5, -1.0, 1.5, 0.0, 1.0, -2.0, -0.5)
VECTOR_FUNCTIONS = {"logsumexp": lambda v: [logsumexp(v)], "softmax": softmax,
                    "log_softmax": log_softmax}


@dataclass
class Graph:
    """A random program over x (a list, batched) and w (a list of weights): every step
    appends its results to a pool that later steps read, so nodes are shared."""

    n_x: int
    n_w: int
    steps: list[tuple] = field(default_factory=list)

    def __call__(self, x: Any, w: Any) -> Any:
        pool = [*x, *w]
        for step in self.steps:
            pool.extend(_apply(step, pool))
        return pool[-1]

    def __str__(self) -> str:
        names = [f"x[{j}]" for j in range(self.n_x)] + [f"w[{j}]" for j in range(self.n_w)]
        lines = []
        for step in self.steps:
            made = _describe(step, names)
            new = [f"v{len(names) + k - self.n_x - self.n_w}" for k in range(len(made))]
            lines += [f"{name} = {text}" for name, text in zip(new, made)]
            names += new
        return "\n".join(lines)


def _apply(step: tuple, pool: list[Any]) -> list[Any]:
    kind, *rest = step
    if kind == "unary":
        name, i = rest
        return [UNARY[name](pool[i])]
    if kind == "binary":
        name, i, j = rest  # an int is a node, a float a number, ("leaf", c) a Value(c)
        a, b = (pool[k] if isinstance(k, int) else Value(k[1]) if isinstance(k, tuple)
                else k for k in (i, j))
        return [BINARY[name](a, b)]
    if kind == "pow":
        i, exponent = rest
        return [pool[i] ** exponent]
    if kind == "dot":  # dot(w, x, bias) over nodes: a layer when the rows share x
        rows, shared, biases, weights_first = rest
        x = [pool[k] for k in shared]
        return [dot(*([pool[k] for k in row], x)[::1 if weights_first else -1],
                    None if bias is None else pool[bias]) for row, bias in zip(rows, biases)]
    if kind == "map":
        name, members = rest
        return [UNARY[name](pool[k]) for k in members]
    name, members = rest
    return VECTOR_FUNCTIONS[name]([pool[k] for k in members])


def _describe(step: tuple, names: list[str]) -> list[str]:
    kind, *rest = step
    ref = lambda k: (names[k] if isinstance(k, int) else f"Value({k[1]!r})"
                     if isinstance(k, tuple) else repr(k))
    if kind == "unary":
        return [f"{rest[0]}({ref(rest[1])})"]
    if kind == "binary":
        name, i, j = rest
        return [f"{name}({ref(i)}, {ref(j)})" if name.isalpha() else f"{ref(i)} {name} {ref(j)}"]
    if kind == "pow":
        return [f"{ref(rest[0])} ** {rest[1]!r}"]
    if kind == "dot":
        rows, shared, biases, weights_first = rest
        x = f"[{', '.join(map(ref, shared))}]"
        texts = []
        for row, bias in zip(rows, biases):
            w = f"[{', '.join(map(ref, row))}]"
            operands = [w, x] if weights_first else [x, w]
            texts.append(f"dot({', '.join(operands + ([] if bias is None else [ref(bias)]))})")
        return texts
    if kind == "map":
        return [f"{rest[0]}({ref(k)})" for k in rest[1]]
    name, members = rest
    text = f"{name}([{', '.join(map(ref, members))}])"
    return [text] if name == "logsumexp" else [f"{text}[{k}]" for k in range(len(members))]


def random_graph(rng: np.random.Generator, softmax_family: bool = False) -> Graph:
    n_x, n_w = int(rng.integers(2, 5)), int(rng.integers(0, 13))
    graph = Graph(n_x, n_w)
    size = n_x + n_w
    vectors: list[list[int]] = []  # the results of earlier layers and maps

    def node() -> int:  # most often a recent node, so results are used more than once
        recent = rng.random() < 0.5 and size > n_x + n_w
        return int(rng.integers(max(n_x + n_w, size - 3) if recent else 0, size))

    def operand() -> int | float | tuple:  # a node, a number, or a leaf made inside f
        number = float(rng.choice([2.0, -0.5, 1.5, 3.0, 1e-300]))
        return node() if rng.random() < 0.85 else ("leaf", number) if rng.random() < 0.3 \
            else number

    for _ in range(int(rng.integers(2, 11))):
        choice = rng.random()
        if choice < 0.3:
            step = ("unary", str(rng.choice(list(UNARY))), node())
        elif choice < 0.6:
            i, j = node(), operand()
            step = ("binary", str(rng.choice(list(BINARY))), *((j, i) if rng.random() < 0.3
                                                               else (i, j)))
        elif choice < 0.7:
            step = ("pow", node(), float(rng.choice(EXPONENTS)))
        elif choice < 0.85 and n_w >= 2:
            step = _layer(rng, n_x, n_w, size, vectors, node)
        elif choice < 0.92 and vectors:
            step = ("map", str(rng.choice(list(UNARY))), vectors[-1])
        else:
            names = ["logsumexp"] + (["softmax", "log_softmax"] if softmax_family else [])
            members = (vectors[int(rng.integers(len(vectors)))] if vectors and rng.random() < 0.5
                       else [node() for _ in range(int(rng.integers(1, 4)))])
            step = ("vector", str(rng.choice(names)), members)
        made = len(_describe(step, [""] * size))
        if step[0] in ("dot", "map") or step[1] in ("softmax", "log_softmax"):
            vectors.append(list(range(size, size + made)))
        graph.steps.append(step)
        size += made
    if rng.random() < 0.3:  # the result: the sum of the last few nodes
        total, *rest = range(max(n_x + n_w, size - 3), size)
        for k in rest:
            graph.steps.append(("binary", "+", total, k))
            total, size = size, size + 1
    return graph


def _layer(rng, n_x, n_w, size, vectors, node) -> tuple:
    """Dot nodes sharing their inputs, weights from w: a regular grid (an nn layer's
    layout, read as a view), scattered positions (an index array) or any nodes."""
    choice = rng.random()
    if choice < 0.4:
        start = int(rng.integers(0, n_x - 1))
        shared = list(range(start, int(rng.integers(start + 1, n_x + 1))))
    elif choice < 0.7 and vectors:
        shared = vectors[-1]
    else:
        shared = [node() for _ in range(int(rng.integers(1, 4)))]
    columns = len(shared)
    rows = int(rng.integers(1, 4))
    has_bias = rng.random() < 0.6
    row_step = columns + has_bias  # (nn.Neuron's layout: its weights, then its bias)
    if rows * row_step <= n_w and rng.random() < 0.7:
        base = n_x + int(rng.integers(0, n_w - rows * row_step + 1))
        weights = [[base + r * row_step + c for c in range(columns)] for r in range(rows)]
        biases = [base + r * row_step + columns if has_bias else None for r in range(rows)]
    else:
        weights = [[n_x + int(rng.integers(n_w)) for _ in range(columns)] for _ in range(rows)]
        biases = [n_x + int(rng.integers(n_w)) if has_bias else None for _ in range(rows)]
    return ("dot", weights, shared, biases, rng.random() < 0.8)  # dot(w, x) or dot(x, w)


def random_rows(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    """Inputs at every scale, with zeros and ties: kinks, domain edges and overflow."""
    X = rng.normal(0.0, float(rng.choice([0.3, 1.0, 3.0, 30.0])), (rows, columns))
    X[rng.random(X.shape) < 0.08] = 0.0
    ties = rng.random(X.shape) < 0.08
    X[ties] = X[:, :1].repeat(columns, 1)[ties]
    return X


# ---------------------------------------------------------------------------
# Random graphs: the comparison


def _close(got: Any, want: Any, scale: Any = None) -> bool:
    """Equal to RTOL relative to ``scale`` (|want|; for a sum over rows, the sum of the
    rows' sizes), and to RTOL absolute below 1: a sum in another order (a matrix product)
    rounds at the size of its terms, which cancellation can leave far above the result."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = np.maximum(np.abs(want) if scale is None else scale, 1.0)
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= RTOL * scale))


def compare(graph: Graph, rng: np.random.Generator) -> tuple[str, str]:
    """One graph on one batch: its outcome and, when it is not an agreement, why."""
    n = int(rng.integers(1, 6))
    X = random_rows(rng, n, graph.n_x)
    w_batched = graph.n_w > 0 and rng.random() < 0.3
    W = rng.normal(0.0, 1.0, (n, graph.n_w)) if w_batched else rng.normal(0.0, 1.0, graph.n_w)
    w_rows = list(W) if w_batched else [W] * n
    eager = value_and_grad(graph, (0, 1))
    answers, refusal = [], None
    for x, w in zip(X, w_rows):
        try:
            answers.append(eager(x.tolist(), w.tolist()))
        except REFUSALS as error:
            answers.append(error)
            refusal = refusal or error
    compiled = jit(graph, (0, 1), vectorize=[None, None, False, True][int(rng.integers(4))])
    fallbacks = []  # batches the compiled code handed to eager evaluation
    compiled._batch_eagerly = lambda *a: fallbacks.append(a) or JitFunction._batch_eagerly(
        compiled, *a)
    try:
        values, (gx, gw) = compiled.batch(X, W, batched=(0, 1) if w_batched else (0,))
        batch_error = None
    except Exception as error:  # (any other class than eager's is a disagreement)
        batch_error = error
    if refusal is None and batch_error is not None:
        return "batch refuses where eager answers", repr(batch_error)
    if refusal is not None and batch_error is None:
        return "batch answers where eager refuses", repr(refusal)
    if refusal is not None and type(refusal) is not type(batch_error):
        return "disagree", f"eager refuses with {refusal!r}, batch with {batch_error!r}"
    if refusal is None:
        gw_rows = np.array([g[1] for _, g in answers]).reshape(n, graph.n_w)
        checks = [("values", values, [v for v, _ in answers], None),
                  ("x gradients", gx, [g[0] for _, g in answers], None),
                  ("w gradients", gw, gw_rows, None) if w_batched else
                  ("w gradients", gw, gw_rows.sum(0), np.abs(gw_rows).sum(0))]
        for what, got, want, scale in checks:
            if not _close(got, want, scale):
                return "disagree", f"batch {what} {np.asarray(got).tolist()}, eager {want}"
    for k, (x, w, answer) in enumerate(zip(X, w_rows, answers)):  # jit(f) per sample
        try:
            got = compiled(x.tolist(), w.tolist())
        except Exception as error:
            got = error
        if isinstance(answer, Exception) or isinstance(got, Exception):
            if type(got) is not type(answer):
                return "disagree", f"row {k}: eager {answer!r}, jit(f)(row) {got!r}"
        elif not (_close(got[0], answer[0]) and _close(got[1][0], answer[1][0])
                  and _close(got[1][1], answer[1][1])):
            return "disagree", f"row {k}: eager {answer}, jit(f)(row) {got}"
    if refusal is None and fallbacks:  # right, but the compiled code gave up: slow
        return "agree, through eager evaluation", ""
    return ("agree" if refusal is None else "both refuse"), ""


def run_graphs(count: int, seed: int, softmax_family: bool = False) -> tuple[Counter, list]:
    tally, failures = Counter(), []
    for k in range(count):
        rng = np.random.default_rng([seed, k])
        graph = random_graph(rng, softmax_family)
        outcome, why = compare(graph, rng)
        tally[outcome] += 1
        if outcome not in ("agree", "both refuse", "agree, through eager evaluation"):
            failures.append(f"graph {k} (seed [{seed}, {k}]): {outcome}: {why}\n{graph}")
    print(f"\n{count} graphs: {dict(tally)}")
    return tally, failures


def test_batch_agrees_with_eager_row_by_row_on_random_graphs():
    tally, failures = run_graphs(FUZZ, seed=0)
    assert not failures, f"{len(failures)} of {FUZZ}:\n\n" + "\n\n".join(failures[:5])
    assert tally["agree"] > FUZZ // 2 and tally["both refuse"] > FUZZ // 20  # both exercised


def test_batch_agrees_with_eager_row_by_row_on_random_graphs_with_softmax():
    # log_softmax's shift is stop_gradient of maximum nodes: each row's own largest input
    _, failures = run_graphs(max(FUZZ // 3, 100), seed=1, softmax_family=True)
    assert not failures, f"{len(failures)}:\n\n" + "\n\n".join(failures[:5])
