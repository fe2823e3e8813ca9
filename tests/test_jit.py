"""autograd.jit: compiled code agrees with the eager engine, refuses what it cannot trace,
and its source reads as the chain rule."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import JitError, Value, dot, jit, logsumexp, value_and_grad
from nn import MLP, SGD, Adam, TrainingDiverged, cross_entropy, fit
from nn.data import load_iris, standardize

UNARY = ["tanh", "sigmoid", "relu", "abs", "sin", "cos", "exp_tanh", "log1p_sq",
         "sqrt1p_sq", "neg", "step"]
BINARY = ["add", "sub", "mul", "div", "pow2", "lse", "powv", "dot"]


def apply(op, a, b):
    if op == "exp_tanh":
        return a.tanh().exp()
    if op == "log1p_sq":
        return (1 + a * a).log()
    if op == "sqrt1p_sq":
        return (1 + a**2).sqrt()
    if op == "neg":
        return -a
    if op in UNARY:
        return getattr(a, op)()
    return {
        "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
        "div": lambda: a / (1 + b * b), "pow2": lambda: (a * 0.5) ** 2,
        "lse": lambda: logsumexp([a, b, 0.5]), "powv": lambda: (1 + a * a) ** b.tanh(),
        "dot": lambda: dot([a, b], [b, 2.0], 0.25),
    }[op]()


programs = st.lists(
    st.tuples(st.sampled_from(UNARY + BINARY), st.integers(0, 50), st.integers(0, 50)),
    min_size=1, max_size=10)


def build(program):
    def f(xs, y):
        pool = [*xs, y]
        for op, i, j in program:
            pool.append(apply(op, pool[i % len(pool)], pool[j % len(pool)]))
        return pool[-1] + 0.0 * pool[0]  # every argument takes part
    return f


@settings(max_examples=60, deadline=None)
@given(programs, st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3), st.floats(-1, 1),
       st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3), st.floats(-1, 1))
def test_jit_agrees_with_the_eager_engine_on_random_programs(program, xs, y, xs2, y2):
    f = build(program)
    compiled = jit(f, argnums=(0, 1))
    eager = value_and_grad(f, argnums=(0, 1))
    for point in ((xs, y), (xs2, y2)):  # the second call reuses the first trace
        value, (gx, gy) = compiled(*point)
        expected_value, (ex, ey) = eager(*point)
        assert value == pytest.approx(expected_value, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(gx, ex, rtol=1e-12, atol=1e-12)
        assert gy == pytest.approx(ey, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_jit_agrees_with_eager_on_an_mlp(classifier_loss, activation):
    X, y = load_iris()
    model = MLP(4, [8, 3], activation, seed=0)
    compiled = jit(classifier_loss(model))
    theta = [p.data for p in model.parameters()]
    for i in (0, 60, 149):
        value, grads = compiled(theta, X[i].tolist(), np.eye(3)[y[i]].tolist())
        model.zero_grad()
        loss = cross_entropy(model(X[i]), int(y[i]))
        loss.backward()
        assert value == pytest.approx(loss.data, rel=1e-12)
        np.testing.assert_allclose(grads, [p.grad for p in model.parameters()],
                                   rtol=1e-12, atol=1e-14)


def test_relu_sign_is_data_not_structure():
    compiled = jit(lambda x, w: (w * x).relu() * 3.0 + x, argnums=(0, 1))
    assert compiled(2.0, 1.0) == (8.0, (4.0, 6.0))  # traced on the positive branch
    assert compiled(-2.0, 1.0) == (-2.0, (1.0, 0.0))  # the negative branch, still right
    assert "(1.0 if v0 > 0.0 else 0.0)" in compiled.source  # step(v0), written inline


def test_reading_data_in_f_is_refused_with_the_line():
    def f(x):
        if x.data > 0:
            return x * 2.0
        return x * 3.0

    reads = r"reads the number of a traced Value \(test_jit\.py, line \d+: \.data"
    with pytest.raises(JitError, match=reads):
        jit(f)(1.0)


def test_values_captured_from_outside_are_refused():
    w = Value(2.0)
    with pytest.raises(JitError, match="not one of its arguments"):
        jit(lambda x: x * w)(1.0)
    model = MLP(2, [2], seed=0)
    with pytest.raises(JitError, match="model's parameters"):
        jit(lambda x: model(x)[0])([1.0, 2.0])


def test_values_made_inside_f_are_constants():
    compiled = jit(lambda x: x * Value(3.0) + 1.0)
    assert compiled(2.0) == (7.0, 3.0)


def test_new_list_lengths_are_traced_again():
    compiled = jit(lambda xs: sum(x * x for x in xs))
    assert compiled([1.0, 2.0]) == (5.0, [2.0, 4.0])
    assert compiled([1.0, 2.0, 3.0]) == (14.0, [2.0, 4.0, 6.0])
    assert "xs_2" in compiled.source


def test_source_reads_as_the_chain_rule_and_compiles():
    def neuron(w, x, b):
        n = w * x + b
        n.label = "n"
        return n.tanh()

    compiled = jit(neuron, argnums=(0, 1, 2))
    value, grads = compiled(0.5, 2.0, -0.25)
    t = math.tanh(0.75)
    assert value == t and grads == (2.0 * (1 - t * t), 0.5 * (1 - t * t), 1 - t * t)
    source = compiled.source
    compile(source, "<test>", "exec")
    assert "    n = v0 + b  # add" in source
    assert "    v1 = tanh(n)  # tanh" in source
    assert "    d_n = d_v1 * (1.0 - v1 * v1)" in source
    assert "    d_w = d_v0 * x" in source


def test_labels_cannot_inject_code():
    def f(x):
        y = x * 2.0
        y.label = "y = __import__('os')\nz"
        return y.exp()

    compiled = jit(f)
    assert compiled(0.5) == (math.exp(1.0), 2.0 * math.exp(1.0))
    assert "__import__(" not in compiled.source and "'os'" not in compiled.source
    assert "    y_import_os_z = x * 2.0  # mul" in compiled.source


def test_domain_errors_and_overflow_are_clear_in_compiled_code():
    compiled = jit(lambda x: (x - 1.0).log())
    assert compiled(2.0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="log: argument must be > 0"):
        compiled(0.5)
    big = jit(lambda x: x * x * x)
    assert big(2.0) == (8.0, 12.0)
    with pytest.raises(OverflowError, match=r"mul: result inf of mul\(1e\+240, 1e\+120\)"):
        big(1e120)  # the error eager evaluation raises, naming the op


def test_batch_mode_equals_the_sum_of_single_calls(classifier_loss):
    X, y = load_iris()
    model = MLP(4, [5, 3], seed=1)
    compiled = jit(classifier_loss(model))
    theta = [p.data for p in model.parameters()]
    onehot = np.eye(3)[y]
    values, grads = compiled.batch(theta, X[::10], onehot[::10], batched=(1, 2))
    single = [compiled(theta, x.tolist(), t.tolist()) for x, t in zip(X[::10], onehot[::10])]
    np.testing.assert_allclose(values, [v for v, _ in single], rtol=1e-12)
    np.testing.assert_allclose(grads, np.sum([g for _, g in single], axis=0), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("batch_size, optimizer",
                         [(1, "sgd"), (8, "sgd"), (1, "adam"), (32, "sgd"), (150, "adam")])
def test_fit_with_jit_matches_eager_training(batch_size, optimizer):
    X, y = load_iris()
    X, _ = standardize(X, X)
    models = [MLP(4, [16, 3], seed=3) for _ in range(2)]
    for model, use_jit in zip(models, (False, True)):
        opt = (SGD(model.parameters(), lr=0.05) if optimizer == "sgd"
               else Adam(model.parameters(), lr=0.01))
        fit(model, X, y, optimizer=opt, epochs=1, batch_size=batch_size, seed=0,
            progress=False, jit=use_jit)
    eager, compiled = (np.array([p.data for p in m.parameters()]) for m in models)
    np.testing.assert_allclose(compiled, eager, rtol=0, atol=1e-12)
    assert not np.array_equal(eager, [p.data for p in MLP(4, [16, 3], seed=3).parameters()])


def test_fit_with_jit_and_mse():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([1.0, 1.0, 0.0])
    models = [MLP(2, [4, 1], "tanh", seed=0) for _ in range(2)]
    for model, use_jit in zip(models, (False, True)):
        fit(model, X, y, loss="mse", optimizer=SGD(model.parameters(), lr=0.1), epochs=3,
            progress=False, jit=use_jit)
    np.testing.assert_allclose([p.data for p in models[1].parameters()],
                               [p.data for p in models[0].parameters()], atol=1e-12)
    with pytest.raises(ValueError, match="jit=True supports"):
        fit(models[0], X, y.astype(int), loss="hinge", progress=False, jit=True)


def test_generated_names_never_collide_with_labels():
    def f(x):
        y = x * 2.0
        y.label = "d_x"  # what x's gradient would be called
        z = y * x
        z.label = "sum"  # what the finiteness check calls
        return z.tanh()

    value, slope = jit(f)(0.3)
    expected_value, expected_slope = value_and_grad(f)(0.3)
    assert value == expected_value and slope == pytest.approx(expected_slope, rel=1e-15)


def test_bad_arguments_after_tracing_are_clear_errors():
    compiled = jit(lambda x, ys: x * ys[0], argnums=(0, 1))
    compiled(1.0, [2.0])
    with pytest.raises(TypeError, match="must be a float or a flat list of floats"):
        compiled("a", [2.0])
    with pytest.raises(ValueError, match="must name at least one of the 2 arguments"):
        compiled.batch(1.0, [2.0], batched=())
    with pytest.raises(ValueError, match="same number of rows"):
        compiled.batch([1.0, 2.0], [[2.0], [3.0], [4.0]], batched=(0, 1))


@pytest.mark.parametrize("make", [
    lambda p: SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    lambda p: Adam(p, lr=0.01, weight_decay=1e-3),
])
def test_fit_with_jit_keeps_the_parameters_in_an_array_and_matches_eager(make):
    """With SGD or Adam the compiled steps update one array (update_arrays does step()'s
    arithmetic element by element); the model's Values get the numbers after each epoch."""
    X, y = load_iris()
    X, _ = standardize(X, X)
    models = [MLP(4, [8, 3], seed=5) for _ in range(2)]
    optimizers = [make(m.parameters()) for m in models]
    for model, optimizer, use_jit in zip(models, optimizers, (False, True)):
        fit(model, X, y, optimizer=optimizer, epochs=2, seed=1, progress=False, jit=use_jit)
    eager, compiled = ([p.data for p in m.parameters()] for m in models)
    np.testing.assert_allclose(compiled, eager, rtol=0, atol=1e-12)
    # the last step's gradient is on the Values too, and training can go on eagerly
    assert any(p.grad != 0.0 for p in models[1].parameters())
    fit(models[1], X, y, optimizer=optimizers[1], epochs=1, progress=False)
    fit(models[0], X, y, optimizer=optimizers[0], epochs=1, progress=False)
    np.testing.assert_allclose([p.data for p in models[1].parameters()],
                               [p.data for p in models[0].parameters()], rtol=0, atol=1e-11)


def test_fit_with_jit_and_an_optimizer_of_ones_own_steps_through_the_values():
    class Halving(SGD):
        def step(self):  # no update_arrays: fit steps it through the Values
            for p in self.params:
                p.data -= self.lr * p.grad / 2

    X, y = load_iris()
    models = [MLP(4, [5, 3], seed=2) for _ in range(2)]
    for model, use_jit in zip(models, (False, True)):
        fit(model, X[::5], y[::5], optimizer=Halving(model.parameters(), lr=0.01), epochs=1,
            progress=False, jit=use_jit)
    np.testing.assert_allclose([p.data for p in models[1].parameters()],
                               [p.data for p in models[0].parameters()], rtol=0, atol=1e-12)


def test_a_diverging_jit_run_leaves_the_last_sane_parameters():
    X, y = load_iris()
    model = MLP(4, [8, 3], seed=0)
    start = [p.data for p in model.parameters()]
    with pytest.raises(TrainingDiverged):
        fit(model, X, y, optimizer=SGD(model.parameters(), lr=1e6), epochs=1, progress=False,
            jit=True)
    after = [p.data for p in model.parameters()]
    assert all(np.isfinite(after))
    assert after == start  # the first step already exploded: back to the start


def test_the_inline_helpers_are_the_op_tables_functions():
    """The scalar code writes relu and step inline (autograd.ops.INLINE_CODE); the
    expressions must give what the helpers give, bit for bit, everywhere."""
    from autograd.ops import CODE_HELPERS, INLINE_CODE

    special = [0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, float("inf"), float("-inf")]
    rng = __import__("random").Random(7)
    for name, template in INLINE_CODE.items():
        for x in special + [rng.uniform(-5, 5) for _ in range(200)]:
            inline = eval(template.format("x"), {"x": x})
            helper = CODE_HELPERS[name](x)
            assert repr(inline) == repr(helper), (name, x)
        nan = eval(template.format("x"), {"x": float("nan")})
        assert repr(nan) == repr(CODE_HELPERS[name](float("nan"))), name


def test_the_per_sample_code_has_relu_inline_and_the_batch_code_calls_numpy():
    from nn import MLP

    model = MLP(3, [5, 2], seed=0)
    theta0 = [p.data for p in model.parameters()]

    def loss(theta, x):
        with model.substitute(theta):
            out = model(x)
        return out[0] * out[1]

    jf = jit(loss, vectorize=False)
    value, grads = jf(theta0, [0.5, -1.0, 2.0])
    assert "relu(" not in jf.source and "> 0.0 else 0.0)" in jf.source
    eager_value, eager_grads = value_and_grad(loss)(theta0, [0.5, -1.0, 2.0])
    assert value == eager_value and grads == eager_grads
    values, _ = jf.batch(theta0, [[0.5, -1.0, 2.0], [1.0, 1.0, -3.0]])
    assert values[0] == eager_value
