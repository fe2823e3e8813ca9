"""The vectorizing jit: the packs it finds, the source it writes, and results equal to
the eager engine's (to 1e-12) per sample and in batch mode, on every shape of model."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, dot, jit, log, logsumexp, value_and_grad
from nn import MLP, mse_loss


def assert_agrees_with_eager(f, args, argnums=0):
    value, grads = jit(f, argnums, vectorize=True)(*args)
    expected_value, expected = value_and_grad(f, argnums)(*[
        a.tolist() if isinstance(a, np.ndarray) else a for a in args])
    assert value == pytest.approx(expected_value, rel=1e-12, abs=1e-12)
    pairs = zip(grads, expected) if isinstance(argnums, tuple) else [(grads, expected)]
    for got, want in pairs:
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want),
                                   rtol=1e-12, atol=1e-12)
    return value, grads


def test_each_layer_is_one_matrix_product_and_the_source_says_so(classifier_loss):
    model = MLP(4, [16, 3], seed=0)
    compiled = jit(classifier_loss(model), vectorize=True)
    theta = [p.data for p in model.parameters()]
    compiled(theta, [0.1, -0.2, 0.3, 0.5], [0.0, 1.0, 0.0])
    source = compiled.source
    assert "(vectorized)" in source
    assert len(re.findall(r" @ W_h\d+\.T", source)) == 2  # one product per layer forward
    assert source.count("outer_(") == 2  # one weight gradient per layer
    assert "np_relu(h1)" in source and "np_step(h1)" in source
    # the parameters are read as views of the parameter array: no index arrays
    assert "a_theta[0:80].reshape(16, 5)[:, :4]" in source and "index" not in source
    assert "lse_(h3)" in source and "vdot_(a_onehot[..., 0:3], h3)" in source
    assert len(source.splitlines()) < 45  # the scalar code has one line per edge: ~400
    compile(source, "<test>", "exec")


@pytest.mark.parametrize("sizes, activation", [((4, [16, 3]), "relu"), ((3, [5, 4, 2]), "tanh"),
                                               ((2, [3, 1]), "sigmoid"), ((6, [1, 2]), "relu")])
def test_agrees_with_eager_on_mlps(classifier_loss, sizes, activation):
    model = MLP(*sizes, activation=activation, seed=2)
    rng = np.random.default_rng(0)
    theta = [p.data for p in model.parameters()]
    outputs = sizes[1][-1]
    for _ in range(3):
        x = rng.normal(size=sizes[0]).tolist()
        if outputs > 1:
            assert_agrees_with_eager(classifier_loss(model), (theta, x, [0.0] * (outputs - 1)
                                                              + [1.0]))
        else:
            def loss(theta, x, target):
                with model.substitute(theta):
                    return mse_loss(model(x), target)
            assert_agrees_with_eager(loss, (theta, x, [0.5]))


def test_a_784_32_10_network_agrees_per_sample_and_in_batch(classifier_loss):
    model = MLP(784, [32, 10], seed=0, init="he")
    loss = classifier_loss(model)
    theta = np.array([p.data for p in model.parameters()])
    rng = np.random.default_rng(1)
    X, T = rng.random((5, 784)), np.eye(10)[rng.integers(0, 10, 5)]
    compiled = jit(loss)
    singles = [compiled(theta, x, t) for x, t in zip(X, T)]
    assert isinstance(singles[0][1], np.ndarray)  # an array in, an array out
    value, _ = assert_agrees_with_eager(loss, (theta, X[0], T[0]))
    assert value == singles[0][0]
    values, summed = compiled.batch(theta, X, T, batched=(1, 2))
    np.testing.assert_allclose(values, [v for v, _ in singles], rtol=1e-12)
    np.testing.assert_allclose(summed, np.sum([g for _, g in singles], axis=0), rtol=1e-10,
                               atol=1e-12)
    assert len(re.findall(r" @ W_h\d+\.T", compiled.source)) == 2


def test_weights_in_any_order_are_gathered():
    """Positions that are not a grid (the parameters shuffled) are read by an index."""
    model = MLP(3, [4, 2], seed=0)
    params = model.parameters()
    perm = np.random.default_rng(0).permutation(len(params))

    def loss(theta, x, onehot):
        with model.substitute([theta[k] for k in np.argsort(perm)]):
            logits = model(x)
        return logsumexp(logits) - dot(onehot, logits)

    theta = [params[k].data for k in perm]
    assert_agrees_with_eager(loss, (theta, [0.3, -0.1, 0.8], [1.0, 0.0]))
    compiled = jit(loss, vectorize=True)
    compiled(theta, [0.3, -0.1, 0.8], [1.0, 0.0])
    assert "[index" in compiled.source


def test_inputs_first_and_pack_members_read_by_scalar_code():
    """dot(x, w): the shared side first; the layer's outputs also read one by one."""
    def f(w, x):
        h = [dot(x, w[4 * k:4 * k + 4]) for k in range(3)]
        a = [v.tanh() for v in h]
        return logsumexp(a) + a[0] * a[2] - h[1] * 0.5

    w = np.random.default_rng(3).normal(size=12).tolist()
    assert_agrees_with_eager(f, (w, [0.5, -1.0, 2.0, 0.1]), argnums=(0, 1))
    compiled = jit(f, argnums=(0, 1), vectorize=True)
    compiled(w, [0.5, -1.0, 2.0, 0.1])
    assert "np_tanh(h1)" in compiled.source and "tanh2[0]" in compiled.source


def test_a_domain_error_inside_a_pack_is_eagers_error():
    def f(w, x):
        return sum((dot(w[2 * k:2 * k + 2], x).log() for k in range(3)), Value(0.0))

    compiled = jit(f, vectorize=True)
    w = [1.0, 1.0, 2.0, 2.0, 0.5, 0.5]
    assert compiled(w, [1.0, 1.0])[0] == pytest.approx(np.log(2) + np.log(4) + np.log(1))
    assert "np_log(h1)" in compiled.source
    with pytest.raises(ValueError) as eager:
        value_and_grad(f)([1.0, 1.0, -2.0, -2.0, 0.5, 0.5], [1.0, 1.0])
    with pytest.raises(ValueError) as compiled_error:
        compiled([1.0, 1.0, -2.0, -2.0, 0.5, 0.5], [1.0, 1.0])
    assert str(compiled_error.value) == str(eager.value)
    assert "log: argument must be > 0" in str(eager.value)


def test_an_overflow_inside_a_pack_is_eagers_error():
    def f(w, x):
        return sum((dot(w[2 * k:2 * k + 2], x).exp() for k in range(2)), Value(0.0))

    compiled = jit(f, vectorize=True)
    compiled([0.1, 0.2, 0.3, 0.4], [1.0, 1.0])
    with pytest.raises(OverflowError, match="exp: exp"):
        compiled([400.0, 400.0, 0.3, 0.4], [1.0, 1.0])


def test_lists_in_lists_out_and_the_scalar_code_without_packs(classifier_loss):
    model = MLP(2, [3, 2], seed=0)
    theta = [p.data for p in model.parameters()]
    value, grads = jit(classifier_loss(model), vectorize=True)(theta, [0.5, 0.5], [0.0, 1.0])
    assert isinstance(grads, list) and all(isinstance(g, float) for g in grads)
    assert isinstance(value, float)
    scalar = jit(classifier_loss(model), vectorize=False)  # array in, array out there too
    _, from_array = scalar(np.array(theta), np.array([0.5, 0.5]), [0.0, 1.0])
    assert isinstance(from_array, np.ndarray)
    np.testing.assert_allclose(from_array, grads, rtol=1e-12, atol=1e-15)
    single = jit(lambda x, y: (x * y).tanh() + x, argnums=(0, 1))
    single(0.5, 2.0)
    assert "(vectorized)" not in single.source  # nothing to pack: one line per edge


def test_log_of_a_batch_goes_through_numpy(tmp_path):
    """.batch with a pack and a scalar tail: the per-sample values and summed grads."""
    def f(w, x):
        h = [dot(w[3 * k:3 * k + 2], x) + w[3 * k + 2] for k in range(2)]
        return log(h[0].sigmoid() + h[1].sigmoid())

    w = [0.3, -0.2, 0.1, 0.5, 0.4, -0.3]
    X = np.random.default_rng(4).normal(size=(6, 2))
    compiled = jit(f)
    values, grads = compiled.batch(w, X, batched=(1,))
    singles = [value_and_grad(f)(w, x.tolist()) for x in X]
    np.testing.assert_allclose(values, [v for v, _ in singles], rtol=1e-12)
    np.testing.assert_allclose(grads, np.sum([g for _, g in singles], axis=0), rtol=1e-12)


def test_vectorized_or_scalar_is_chosen_by_the_cost_of_a_statement(classifier_loss):
    """Per sample a numpy call costs ~30 scalar statements: a 4-16-3 net runs scalar,
    a 64-32-10 one vectorized; batches run vectorized; vectorize= forces either."""
    small, large = MLP(4, [16, 3], seed=0), MLP(64, [32, 10], seed=0)
    for model, expected in ((small, False), (large, True)):
        compiled = jit(classifier_loss(model))
        theta = [p.data for p in model.parameters()]
        x = [0.5] * len(model.layers[0].neurons[0].w)
        onehot = [1.0] + [0.0] * (len(model.layers[-1].neurons) - 1)
        compiled(theta, x, onehot)
        assert ("(vectorized)" in compiled.source) is expected
        forced = jit(classifier_loss(model), vectorize=not expected)
        np.testing.assert_allclose(forced(theta, x, onehot)[1], compiled(theta, x, onehot)[1],
                                   rtol=1e-12, atol=1e-13)
        assert ("(vectorized)" in forced.source) is (not expected)
    for bad in ("yes", 1):  # (1 == True, but it is not a flag)
        with pytest.raises(TypeError, match="vectorize must be None, True or False"):
            jit(classifier_loss(small), vectorize=bad)


def test_a_member_returned_or_a_custom_activation_stays_scalar_and_correct():
    from autograd import custom_op

    mytanh = custom_op("mytanh", lambda x: float(np.tanh(x)), lambda x, out: (1.0 - out * out,))

    def first_output(w, x):
        outputs = [dot(w[2 * k:2 * k + 2], x) for k in range(3)]  # a layer, all made
        return outputs[0]

    def custom_activation(w, x):
        return sum((mytanh(dot(w[2 * k:2 * k + 2], x)) for k in range(3)), Value(0.0))

    w = [0.3, -0.2, 0.1, 0.5, 0.4, -0.3]
    for f in (first_output, custom_activation):
        assert_agrees_with_eager(f, (w, [0.7, -1.1]))


def test_a_float_arguments_gradient_is_a_float_in_vectorized_code():
    def f(w, x, scale):
        return sum((dot(w[2 * k:2 * k + 2], x).tanh() for k in range(3)), Value(0.0)) * scale

    value, (grad_w, grad_scale) = jit(f, argnums=(0, 2), vectorize=True)(
        [0.3, -0.2, 0.1, 0.5, 0.4, -0.3], [0.7, -1.1], 2.0)
    assert type(value) is float and type(grad_scale) is float and type(grad_w) is list
    assert grad_scale == pytest.approx(value / 2.0, rel=1e-12)


@st.composite
def networks(draw):
    """Small networks written by hand as a user would: layers of dots over shared inputs
    (weights from a flat list, in grid or shuffled order, weights first or inputs first,
    with or without bias), an activation or none, then a scalar head."""
    nin = draw(st.integers(1, 4))
    widths = draw(st.lists(st.integers(2, 4), min_size=1, max_size=2))
    activations = [draw(st.sampled_from(["tanh", "relu", "sigmoid", "exp", None]))
                   for _ in widths]
    bias = draw(st.booleans())
    weights_first = draw(st.booleans())
    head = draw(st.sampled_from(["lse", "squares", "mixed"]))
    sizes = list(zip([nin, *widths[:-1]], widths))
    count = sum(m * (n + bias) for n, m in sizes)
    order = draw(st.permutations(range(count))) if draw(st.booleans()) else list(range(count))
    theta = draw(st.lists(st.floats(-1.5, 1.5), min_size=count, max_size=count))
    x = draw(st.lists(st.floats(-2, 2), min_size=nin, max_size=nin))

    def f(theta, x, scale):
        w = [theta[k] for k in order]
        h, at = list(x), 0
        for (n, m), activation in zip(sizes, activations):
            outputs = []
            for _ in range(m):
                row, at = w[at:at + n], at + n
                b = None
                if bias:
                    b, at = w[at], at + 1
                outputs.append(dot(row, h, b) if weights_first else dot(h, row, b))
            h = [getattr(v, activation)() if activation else v for v in outputs]
        if head == "lse":
            return logsumexp(h) - dot([1.0] + [0.0] * (len(h) - 1), h) * scale
        if head == "squares":
            return sum((v * v for v in h), Value(0.0)) * scale
        return h[0] * h[-1] + logsumexp(h) * scale

    return f, theta, x


@settings(max_examples=60, deadline=None)
@given(networks(), st.floats(0.5, 2.0))
def test_vectorized_code_agrees_with_eager_on_random_networks(network, scale):
    f, theta, x = network
    value, grads = jit(f, argnums=(0, 1, 2), vectorize=True)(theta, x, scale)
    expected_value, expected = value_and_grad(f, argnums=(0, 1, 2))(theta, x, scale)
    assert value == pytest.approx(expected_value, rel=1e-12, abs=1e-12)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                                   rtol=1e-11, atol=1e-12)
    # the batch code over three copies of x, shifted, equals three single calls
    compiled = jit(f, argnums=(0, 2), vectorize=True)
    X = np.array([x, [v + 0.25 for v in x], [v - 0.5 for v in x]])
    values, (g_theta, g_scale) = compiled.batch(theta, X, scale, batched=(1,))
    singles = [value_and_grad(f, argnums=(0, 2))(theta, row.tolist(), scale) for row in X]
    np.testing.assert_allclose(values, [v for v, _ in singles], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(g_theta, np.sum([g[0] for _, g in singles], axis=0),
                               rtol=1e-10, atol=1e-11)
    assert g_scale == pytest.approx(sum(g[1] for _, g in singles), rel=1e-10, abs=1e-11)


def test_a_grid_of_weights_that_ends_before_its_block_is_gathered():
    """Three rows of one weight at stride 2 from position 0 of a 5-long list: the block
    view would need 6 numbers, so the weights are read by index (found by the property
    test above)."""
    def f(theta, x):
        w = [theta[k] for k in (1, 2, 3, 4, 0)] + [theta[5]]  # weights at 0, 2, 4
        return sum((dot([w[2 * j]], x, w[2 * j + 1]).sigmoid() ** 2 for j in range(3)),
                   Value(0.0))

    theta = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    X = np.array([[0.0], [0.25], [-0.5]])
    assert_agrees_with_eager(f, (theta, [0.25]))
    compiled = jit(f, vectorize=True)
    values, grads = compiled.batch(theta, X, batched=(1,))
    singles = [value_and_grad(f)(theta, row.tolist()) for row in X]
    np.testing.assert_allclose(values, [v for v, _ in singles], rtol=1e-12)
    np.testing.assert_allclose(grads, np.sum([g for _, g in singles], axis=0), rtol=1e-12)
    assert "[index" in compiled.source
