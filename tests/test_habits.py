"""The code people bring from micrograd and PyTorch works here, or is refused with a
message that shows the way."""

import math
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from autograd import JitError, Value, grad, jit, no_grad, value_and_grad
from nn import MLP, SGD, Layer, Module, Neuron, Perceptron, cross_entropy

ROOT = Path(__file__).resolve().parent.parent


# -- 1. micrograd's demo: ported, against its printed log, in test_ported_micrograd.py ----


def test_one_output_mlp_is_a_value_and_layers_are_always_lists():
    assert isinstance(MLP(2, [16, 16, 1])([0.5, -1.0]), Value)
    assert isinstance(MLP(2, [4, 3])([0.5, -1.0]), list)
    assert isinstance(Layer(3, 1)([1.0, 2.0, 3.0]), list)
    narrow = MLP(2, [1, 1, 3], seed=0)  # hidden layers of one neuron keep working
    out = narrow([0.5, -1.0])
    assert len(out) == 3
    cross_entropy(out, 1).backward()
    assert all(math.isfinite(p.grad) for p in narrow.parameters())


# -- 2. parameters() and zero_grad() are cheap, each parameter once -----------------


def test_parameters_are_walked_once_until_the_structure_changes(monkeypatch):
    model = MLP(4, [16, 3], seed=0)
    walks = []
    original = Module._walk
    monkeypatch.setattr(Module, "_walk", lambda self, *args: walks.append(self)
                        or original(self, *args))
    first = model.parameters()
    for _ in range(5):
        model.zero_grad()
        assert model.parameters() == first  # (a list of the same nodes, compared by is)
    assert sum(w is model for w in walks) == 1
    model.layers[0].neurons[0].w.append(Value(1.0))  # a change of structure: walked again
    assert len(model.parameters()) == len(first) + 1
    assert sum(w is model for w in walks) == 2


@pytest.mark.parametrize("change", ["append", "setitem", "attribute", "delete", "extend"])
def test_every_change_of_structure_is_seen(change):
    neuron = Neuron(3, seed=0)
    before = neuron.parameters()
    new = Value(7.0)
    if change == "append":
        neuron.w.append(new)
    elif change == "setitem":
        neuron.w[1] = new
    elif change == "attribute":
        neuron.b = new
    elif change == "delete":
        del neuron.b
    else:
        neuron.w += [new]
    after = neuron.parameters()
    assert (new in {id(p): p for p in after}.values()) == (change != "delete")
    assert any(p is new for p in after) == (change != "delete")
    assert len(after) == len(before) + {"append": 1, "extend": 1, "delete": -1}.get(change, 0)


def test_a_parameter_reachable_twice_is_listed_and_updated_once():
    class Tied(Module):
        def __init__(self):
            self.layer = Layer(2, 2, seed=0)
            self.alias = [self.layer.neurons[0].w[0]]  # the same Value, held twice
            self.shared = self.layer.neurons[1]  # a whole module held twice

        def forward(self, x):
            return self.layer(x)

    model = Tied()
    params = model.parameters()
    assert len(params) == 6 and len({id(p) for p in params}) == 6
    assert next(model.named_parameters())[0] == "layer.neurons.0.w.0"
    w = model.layer.neurons[0].w[0]
    before = w.data
    w.grad = 1.0
    SGD(model.parameters(), lr=0.5).step()
    assert w.data == before - 0.5  # once, not twice
    doubled = SGD([w, w], lr=1.0)  # an optimizer given a list with a repeat, too
    assert len(doubled.params) == 1 and doubled.params[0] is w


def test_substitute_replaces_every_place_a_parameter_is_held():
    class Tied(Module):
        def __init__(self):
            self.w = Value(2.0)
            self.again = [self.w]

        def forward(self, x):
            return self.w * x + self.again[0]

    model = Tied()
    theta = [Value(5.0)]
    with model.substitute(theta):
        assert model(1.0).data == 10.0
    assert model(1.0).data == 4.0
    assert model.parameters()[0] is model.w


# -- 3. PyTorch's number habits --------------------------------------------------


def test_a_value_reads_as_a_number():
    v = Value(2.5)
    assert v.item() == 2.5 and type(v.item()) is float
    assert int(Value(-2.7)) == -2
    assert f"{v:.4f}" == "2.5000" and f"{v:>6.1f}" == "   2.5"
    assert f"{v}" == repr(v)
    assert round(Value(2.345), 2) == 2.35 and round(Value(2.5)) == 2
    assert bool(Value(0.0)) is False and bool(Value(-0.1)) is True


def test_float_of_a_value_is_refused_where_a_gradient_would_be_lost():
    # float() is what math.* and '%f' call: the float drops out of the graph
    x = Value(1.0)
    for convert in (float, math.exp, math.sqrt, lambda v: "%.2f" % v,  # noqa: UP031 (the habit under test)
                    np.float64):
        with pytest.raises(TypeError, match=r"float\(\) of Value.*v\.exp\(\).*\.item\(\)"):
            convert(x)
    with pytest.raises(TypeError, match="float"):
        np.asarray([x, x * 2], dtype=float)
    # where nothing can be lost it is a number: inside no_grad, and a constant
    with no_grad():
        assert float(x) == 1.0 and math.exp(x) == math.e and type(float(x)) is float
    constant = (x * 3.0).parents[1]
    assert constant.is_constant and float(constant) == 3.0


def test_comparisons_read_data_and_return_plain_bools():
    a, b, c = Value(1.0), Value(2.0), Value(2.0)
    results = [a < b, a <= 1, b > 1.5, b < 3, b >= c, c >= 2, a < np.float64(1.5)]
    assert results == [True, True, True, True, True, True, True]
    assert all(type(r) is bool for r in results)
    assert max([a, b, Value(-3.0)]) is b
    assert [v.data for v in sorted([b, Value(-3.0), a])] == [-3.0, 1.0, 2.0]
    taken = "positive" if b > 0 else "not"
    assert taken == "positive"
    with pytest.raises(TypeError):
        _ = a < "1"


def test_equality_of_values_is_identity_and_with_a_number_compares_it():
    a, b = Value(2.0), Value(2.0)
    assert (a == b) is False and (a != b) is True  # two nodes, whatever their numbers
    assert (a == a) is True and (a != a) is False
    assert a == 2 and a != 3.0 and a == np.float64(2.0)  # a number: compared
    assert (a == "2.0") is False
    assert len({a, b}) == 2 and {a: 1, b: 2}[a] == 1  # agrees with hashing
    nodes = [a, b]
    assert b in nodes and nodes.index(b) == 1 and nodes.count(a) == 1
    nodes.remove(b)
    assert nodes[0] is a and Value(2.0) not in nodes
    value, derivative = value_and_grad(lambda x: (x == 2.0) + 0.0)(2.0)
    assert value == 1.0 and derivative == 0.0  # an indicator: derivative 0


@pytest.mark.parametrize("habit, what", [
    (lambda x: x * x.item(), "item()"),
    (lambda x: x if x > 0 else -x, ">"),
    (lambda x: x if x else -x, "bool()"),
    (lambda x: x * (x == 1.0), "=="),
    (lambda x: max(x, x * 2), ">"),
    (lambda x: x * round(x), "round()"),
])
def test_jit_refuses_number_habits_naming_the_line(habit, what):
    with pytest.raises(JitError, match=rf"test_habits\.py, line \d+: {re.escape(what)}"):
        jit(habit)(1.5)


def test_a_trace_in_one_thread_does_not_disturb_another():
    started, done = threading.Event(), threading.Event()
    failures = []

    def slow(x):
        started.set()
        done.wait(5)
        return x * 2.0

    tracer = threading.Thread(target=lambda: jit(slow)(1.0))
    tracer.start()
    started.wait(5)
    try:  # meanwhile, ordinary eager code in this thread reads numbers freely
        v = Value(3.0)
        assert v.data == 3.0 and v.item() == 3.0 and v > 1
    except Exception as error:  # pragma: no cover - the failure being tested for
        failures.append(error)
    finally:
        done.set()
        tracer.join()
    assert not failures


# -- 4. grad with argnums: fixed floats reach f as constants ------------------------


def test_fixed_float_arguments_reach_f_as_constant_values():
    f = lambda x, y: x * y + y.sin()
    assert grad(f, argnums=0)(2.0, 0.5) == 0.5
    assert grad(f, argnums=1)(2.0, 0.5) == pytest.approx(2.0 + math.cos(0.5), abs=1e-15)
    assert grad(grad(lambda x, y: x * x * y.exp(), argnums=0))(1.5, 0.0) == 2.0
    # ints, strings and flags pass unchanged
    assert grad(lambda x, n, how: x ** n if how == "power" else x, argnums=0)(
        2.0, 3, "power") == 12.0


# -- 5. jit: static arguments ----------------------------------------------------


def test_jit_treats_an_int_class_index_as_static():
    model = MLP(4, [5, 3], seed=0)

    def loss(theta, x, t):
        with model.substitute(theta):
            return cross_entropy(model(x), t)

    compiled = jit(loss, argnums=0)
    theta = [p.data for p in model.parameters()]
    x = [0.1, -0.2, 0.3, 0.5]
    for t in (0, 1, 2, 1):
        value, grads = compiled(theta, x, t)
        expected_value, expected = value_and_grad(loss)(theta, x, t)
        assert value == pytest.approx(expected_value, abs=1e-12)
        assert np.allclose(grads, expected, rtol=0, atol=1e-12)
    assert len(compiled._compiled) == 3  # one trace per class index
    assert "static" in compiled.source


def test_jit_static_argnums_and_their_errors():
    def scaled(x, k):
        return x * k if k > 1 else x  # branches on k: fine, k is static

    compiled = jit(scaled, argnums=0, static_argnums=1)
    assert compiled(3.0, 2.0) == (6.0, 2.0)
    assert compiled(3.0, 0.5) == (3.0, 1.0)
    with pytest.raises(JitError, match="both argnums and static_argnums"):
        jit(scaled, argnums=0, static_argnums=0)
    with pytest.raises(JitError, match="must be hashable"):
        jit(lambda x, opts: x * 2.0)(1.0, {"a": 1})


# -- 6. powers at zero, every order --------------------------------------------------


@pytest.mark.parametrize("f, order, expected", [
    (lambda x: x ** 0.0, 1, 0.0),
    (lambda x: x ** 1, 1, 1.0),
    (lambda x: x ** 1, 2, 0.0),
    (lambda x: x ** 2, 2, 2.0),
    (lambda x: x ** 2, 3, 0.0),
    (lambda x: x ** 3, 3, 6.0),
    (lambda x: x ** 3, 4, 0.0),
])
def test_powers_at_zero_are_exact_at_every_order(f, order, expected):
    g = f
    for _ in range(order):
        g = grad(g)
    assert g(0.0) == expected


@pytest.mark.parametrize("c, expected", [(0.0, 0.0), (1.0, 1.0), (2.0, 0.0), (3.0, 0.0)])
def test_backward_and_jit_agree_on_powers_at_zero(c, expected):
    x = Value(0.0)
    (x ** c).backward()
    assert x.grad == expected
    assert jit(lambda x: x ** c)(0.0)[1] == expected
    _, batch_grad = jit(lambda x: x ** c).batch(np.zeros(3), batched=(0,))
    assert list(batch_grad) == [expected] * 3


def test_an_infinite_derivative_at_zero_is_still_an_error():
    with pytest.raises(ZeroDivisionError, match="pow"):
        grad(lambda x: x ** 0.5)(0.0)


# -- 7. Module subclasses behave like PyTorch's ----------------------------------------


def test_a_subclass_with_forward_is_callable_and_printable(scaled):
    model = scaled
    out = model([1.0, 2.0])
    assert isinstance(out, Value)
    assert out.data == pytest.approx(model.body([1.0, 2.0]).data * 2.0)
    assert model.forward([1.0, 2.0]).data == out.data
    text = repr(model)
    assert text.startswith("Scaled(") and "(body): MLP(nin=2" in text and "(scale)" in text
    assert str(model) == text
    assert repr(Module()) == "Module()"
    assert len(model.parameters()) == 9 + 4 + 1


def test_a_subclass_without_forward_or_config_says_what_to_define(tmp_path, scaled):
    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match="define forward"):
        Empty()([1.0])
    with pytest.raises(NotImplementedError, match=r"config\(\) .*save\(\) and load\(\)"):
        scaled.save(tmp_path / "m.json")


# -- 8. Perceptron.predict takes a matrix ----------------------------------------------


def test_perceptron_predicts_one_row_or_a_matrix():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 1])  # OR: linearly separable
    p = Perceptron(2, seed=0)
    assert p.fit(X, y)[-1] == 0
    assert isinstance(p.predict(X[1]), int)
    predictions = p.predict(X)
    assert isinstance(predictions, np.ndarray) and predictions.tolist() == y.tolist()
    with pytest.raises(ValueError, match="shape"):
        p.predict(np.zeros((2, 3)))


# -- 9. name clashes -------------------------------------------------------------------


def _run(args, cwd, pythonpath=None):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def foreign_autograd(tmp_path):
    """A folder holding another package named autograd, as HIPS autograd installs."""
    package = tmp_path / "elsewhere" / "autograd"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("def grad(f):\n    return f\n")
    return package.parent


def test_nn_refuses_a_foreign_autograd_with_one_clear_message(foreign_autograd, tmp_path):
    result = _run(["-c", "import nn"], tmp_path, foreign_autograd)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: chainrule's nn needs chainrule's own 'autograd'")
    assert "HIPS autograd" in last and "virtual environment" in last


def test_the_command_says_it_in_one_line(foreign_autograd, tmp_path):
    result = _run(["-m", "chainrule", "train"], tmp_path, foreign_autograd)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "found another one" in result.stderr and "virtual environment" in result.stderr


def test_the_command_names_a_shadowing_nn_module(tmp_path):
    (tmp_path / "nn.py").write_text("print('my own nn')\n")
    result = _run(["-m", "chainrule", "train"], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "nn.py" in result.stderr and "not chainrule's" in result.stderr


# -- 10. messages that used to mislead -------------------------------------------------


def test_log_of_a_negative_number_does_not_suggest_an_epsilon():
    with pytest.raises(ValueError, match="negative number is not real") as info:
        Value(-1.0).log()
    assert "1e-12" not in str(info.value)
    with pytest.raises(ValueError, match=r"log\(0\) is -infinity.*1e-12"):
        Value(0.0).log()


def test_a_nan_operand_is_named_as_such():
    p = Value(1.0)
    p.data = float("nan")  # as after p.data -= lr * p.grad with a nan gradient
    with pytest.raises(ValueError, match=r"operand 1 of mul\(nan, 2\.0\) is nan") as info:
        p * 2.0
    assert "rescale" not in str(info.value) and "learning rate" in str(info.value)
    with pytest.raises(OverflowError, match="overflows"):
        Value(1e200) * 1e200


def test_calling_a_model_with_a_bare_number_explains_the_input_shape():
    with pytest.raises(TypeError, match=r"expects one sample: a sequence of 2 inputs.*\[x\]"):
        MLP(2, [3, 1])(1.0)
    with pytest.raises(ValueError, match=r"shape \(5, 2\).*\[model\(row\) for row in X\]"):
        MLP(2, [3, 1])(np.zeros((5, 2)))


def test_backward_on_a_list_of_outputs_explains_what_to_do():
    outputs = MLP(2, [3, 3], seed=0)([1.0, 2.0])
    with pytest.raises(AttributeError, match=r"list of 3 outputs.*cross_entropy"):
        outputs.backward()
    with pytest.raises(AttributeError, match=r"\[o\.data for o in outputs\]"):
        _ = outputs.data
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = outputs.nope


def test_jit_source_explains_what_it_returns():
    compiled = jit(lambda x: x.tanh())
    compiled(0.5)
    tail = compiled.source.strip().splitlines()[-3:]
    assert tail[0].strip().startswith("# returned: the value, the gradients, and every number")
    assert tail[-1].strip().startswith("return ")


def test_graph_command_suggests_a_power_for_a_caret(tmp_path):
    result = _run(["-m", "nn", "graph", "x^2", "x=1", "-o", str(tmp_path / "g.svg")],
                  tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "x**2" in result.stderr and "BitXor" not in result.stderr
