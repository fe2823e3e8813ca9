"""Code people bring from micrograd, its lecture, minitorch and microgpt gives the right
numbers here or stops with a message that shows the way: never a silent wrong result.

Each of the first four sections is a failure that used to be silent (a wrong gradient, a
parameter left out of training, a graph walk that lost nodes, a model that changed on
reload); the rest are the habits those codebases rely on."""

import copy
import math
import pickle
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import (
    Value,
    custom_op,
    draw_dot,
    grad,
    jit,
    no_grad,
    topological_order,
)
from nn import MLP, SGD, Adam, AdamW, Layer, Module, ModuleDict, ModuleList, Neuron, load

# -- 1. math.* on a Value: refused, not silently detached ---------------------------


def student_sigmoid(z):
    return 1 / (1 + math.exp(-z))  # the mistake: math.exp turns z into a float


def test_math_exp_on_a_value_is_refused_with_the_fix():
    x = Value(1.0)
    with pytest.raises(TypeError) as caught:
        _ = math.exp(x) * x
    message = str(caught.value)
    for fix in ("v.exp()", "autograd.exp(v)", ".item()", "no_grad()"):
        assert fix in message
    w = Value(0.5)
    with pytest.raises(TypeError, match="float"):
        student_sigmoid(w * 2.0)  # -z is a Value in the graph


def test_the_differentiable_form_gives_the_gradient_math_exp_lost():
    x = Value(1.0)
    (x.exp() * x).backward()
    assert x.grad == pytest.approx(2 * math.e, rel=1e-15)  # d/dx x e^x = (1 + x) e^x


@pytest.mark.parametrize("transform", [grad, lambda f: (lambda x: jit(f)(x)[1])])
def test_grad_and_jit_refuse_the_conversion_too(transform):
    with pytest.raises(TypeError, match="float"):
        transform(lambda x: math.exp(x) * x)(1.0)
    assert transform(lambda x: x.exp() * x)(1.0) == pytest.approx(2 * math.e, rel=1e-15)


def test_numpy_does_not_turn_a_value_into_a_float_on_the_way():
    v = Value(3.0)
    for result in (np.float64(2.0) * v, v * np.float32(2.0), np.int64(2) * v):
        assert isinstance(result, Value) and result.data == 6.0
    result.backward()
    assert v.grad == 2.0
    (out,) = np.exp(np.array([v], dtype=object))
    assert isinstance(out, Value) and out.data == math.exp(3.0)
    total = np.array([1.0, 2.0]) @ np.array([v, v], dtype=object)
    assert isinstance(total, Value) and total.data == 9.0


# -- 2. every parameter a module holds is a parameter ------------------------------


class MinitorchLinear(Module):
    """minitorch's layout: weights in a list of lists, W[i][j], biases in a list."""

    def __init__(self, in_size, out_size, rng):
        self.weights = []
        self.bias = []
        for i in range(in_size):
            self.weights.append([])
            for _ in range(out_size):
                self.weights[i].append(Value(2 * (rng.random() - 0.5)))
        for _ in range(out_size):
            self.bias.append(Value(2 * (rng.random() - 0.5)))

    def forward(self, inputs):
        y = [b for b in self.bias]
        for i, x in enumerate(inputs):
            for j in range(len(y)):
                y[j] = y[j] + x * self.weights[i][j]
        return y


def test_weights_in_nested_lists_are_parameters_and_train():
    rng = random.Random(1)
    layer = MinitorchLinear(2, 3, rng)
    names = [name for name, _ in layer.named_parameters()]
    assert names == ["weights.0.0", "weights.0.1", "weights.0.2", "weights.1.0",
                     "weights.1.1", "weights.1.2", "bias.0", "bias.1", "bias.2"]
    before = [p.data for p in layer.parameters()]
    optimizer = SGD(layer.parameters(), lr=0.1)
    loss = sum(y * y for y in layer([0.5, -1.5]))
    loss.backward()
    optimizer.step()
    after = [p.data for p in layer.parameters()]
    assert all(a != b for a, b in zip(after, before))  # the weights too, not only biases
    assert set(layer.state_dict()) == set(names)


def test_a_network_with_nested_weights_learns_as_well_as_mlp():
    # the silent failure: only the biases trained, accuracy fell to the majority class
    class Network(Module):
        def __init__(self, rng):
            self.layer1 = MinitorchLinear(2, 6, rng)
            self.layer2 = MinitorchLinear(6, 1, rng)

        def forward(self, x):
            hidden = [h.relu() for h in self.layer1(x)]
            return self.layer2(hidden)[0].sigmoid()

    rng = random.Random(0)
    points = [(rng.random(), rng.random()) for _ in range(50)]
    labels = [1.0 if x1 < 0.5 else 0.0 for x1, _ in points]  # minitorch's "split"
    model = Network(rng)
    assert len(model.parameters()) == 2 * 6 + 6 + 6 * 1 + 1
    optimizer = SGD(model.parameters(), lr=0.5)
    for _ in range(150):
        optimizer.zero_grad()
        loss = -sum((p if y else 1 - p).log() for p, y in
                    ((model(list(x)), y) for x, y in zip(points, labels))) / len(points)
        loss.backward()
        optimizer.step()
    with no_grad():
        correct = sum((model(list(x)).data > 0.5) == (y == 1.0) for x, y in zip(points, labels))
    assert correct >= 48


def test_values_and_modules_in_dicts_and_tuples_are_found_at_any_depth():
    class Holder(Module):
        def __init__(self):
            self.embed = {"wte": [[Value(1.0), Value(2.0)]], "wpe": [[Value(3.0)]]}
            self.pair = (Value(4.0), [Value(5.0)])
            self.blocks = [{"mlp": Neuron(1, seed=0)}]

    holder = Holder()
    assert [n for n, _ in holder.named_parameters()] == [
        "embed.wte.0.0", "embed.wte.0.1", "embed.wpe.0.0", "pair.0", "pair.1.0",
        "blocks.0.mlp.w.0", "blocks.0.mlp.b"]
    assert [path for path, _ in holder.named_modules()] == ["", "blocks.0.mlp"]
    assert isinstance(holder.embed, ModuleDict) and isinstance(holder.embed["wte"][0], ModuleList)


@pytest.mark.parametrize("change", [
    lambda m: m.weights[1].append(Value(9.0)),
    lambda m: m.weights[0].__setitem__(1, Value(9.0)),
    lambda m: m.weights.append([Value(9.0)]),
    lambda m: m.weights[0].extend([Value(9.0)]),
    lambda m: m.weights[0].insert(0, Value(9.0)),
    lambda m: m.table.__setitem__("new", [Value(9.0)]),
    lambda m: m.table["a"].append(Value(9.0)),
    lambda m: m.table.update({"b": Value(9.0)}),
])
def test_the_parameter_cache_sees_changes_inside_nested_containers(change):
    class Nested(Module):
        def __init__(self):
            self.weights = [[Value(1.0), Value(2.0)], [Value(3.0)]]
            self.table = {"a": [Value(4.0)]}

    model = Nested()
    model.parameters()  # cached
    change(model)
    assert any(p.data == 9.0 for p in model.parameters())
    model.weights.append([])  # a list put into a tracked list is tracked in turn
    model.weights[-1].append(Value(10.0))
    assert any(p.data == 10.0 for p in model.parameters())


def test_a_module_that_refers_to_itself_is_walked_once():
    class Loop(Module):
        def __init__(self):
            self.w = Value(1.0)
            self.items = []
            self.items.append(self)  # a cycle through a list

    loop = Loop()
    assert [n for n, _ in loop.named_parameters()] == ["w"]


def test_add_parameter_as_in_minitorch():
    class Scalar(Module):
        def __init__(self):
            self.a = self.add_parameter("a", 2.0)
            self.b = self.add_parameter("b", Value(3.0))

    module = Scalar()
    assert module.a.data == 2.0 and module.a.label == "a"
    assert [n for n, _ in module.named_parameters()] == ["a", "b"]
    with pytest.raises(ValueError, match="identifier"):
        module.add_parameter("not a name", 1.0)


def test_substitute_replaces_parameters_held_in_nested_lists():
    layer = MinitorchLinear(2, 2, random.Random(0))
    params = layer.parameters()
    doubled = [Value(2 * p.data) for p in params]
    with layer.substitute(doubled):
        assert layer.weights[1][0] is doubled[2]
    assert layer.weights[1][0] is params[2]


# -- 3. Value == Value is identity: hand-written graph walks find every node --------


def eurekalabs_style_trace(root):
    # a student's / EurekaLabs' walk: lists and `in`, which call ==
    nodes, edges = [], []

    def build(v):
        if v not in nodes:
            nodes.append(v)
            for child in v._prev:
                if (child, v) not in edges:
                    edges.append((child, v))
                build(child)

    build(root)
    return nodes, edges


def test_a_graph_walk_with_in_finds_every_node():
    model = MLP(3, [4, 4, 1], seed=0)
    loss = (model([2.0, 3.0, -1.0]) - 1.0) ** 2
    nodes, edges = eurekalabs_style_trace(loss)
    assert len(nodes) == len(topological_order(loss))  # every node, each once
    assert len(edges) == len({(id(a), id(b)) for a, b in edges})
    assert all(any(n is m for m in nodes) for n in topological_order(loss))


def test_list_methods_find_the_node_not_an_equal_number():
    a, b, c = Value(1.0), Value(1.0), Value(1.0)
    items = [a, b, c]
    assert items.index(c) == 2 and items.count(b) == 1
    items.remove(b)
    assert items[0] is a and items[1] is c
    assert (a == 1.0) is True and (a == b) is False and a <= b  # numbers still compare


# -- 4. what a module computes survives save and load --------------------------------


def test_the_lectures_all_tanh_mlp_round_trips(tmp_path):
    model = MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", seed=3)
    x = [2.0, 3.0, -1.0]
    out = model(x).data
    assert -1.0 < out < 1.0
    model.save(tmp_path / "m.json")
    assert load(tmp_path / "m.json")(x).data == out


def test_an_activation_set_by_hand_is_saved(tmp_path):
    model = MLP(3, [4, 4, 1], seed=3)  # the silent failure: tanh output set by hand
    model.layers[-1].neurons[0].activation = "tanh"
    model.layers[0].neurons[2].activation = "sigmoid"
    x = [2.0, 3.0, -1.0]
    model.save(tmp_path / "m.json")
    loaded = load(tmp_path / "m.json")
    assert loaded(x).data == model(x).data
    assert loaded.layers[0].activation == ["relu", "relu", "sigmoid", "relu"]
    assert loaded.output_activation == "tanh"
    model.load(tmp_path / "m.json")  # the same architecture: loads into it


def test_an_unknown_activation_is_refused_when_set():
    neuron = Neuron(2, seed=0)
    with pytest.raises(ValueError, match=r"unknown activation 'Tanh'.*tanh"):
        neuron.activation = "Tanh"
    with pytest.raises(ValueError, match="one per neuron"):
        Layer(2, 3).activation = ["tanh", "relu"]


def test_a_file_written_before_output_activation_existed_still_loads(tmp_path):
    path = tmp_path / "old.json"
    path.write_text('{"format": "chainrule-module", "version": 1, "module": {"type": "MLP", '
                    '"nin": 1, "nouts": [1], "activation": "relu"}, "parameters": '
                    '{"layers.0.neurons.0.w.0": 2.0, "layers.0.neurons.0.b": 0.5}}')
    model = load(path)
    assert model.output_activation == "linear" and model([-3.0]).data == -5.5
    MLP(1, [1]).load(path)


ACTIVATION_NAMES = ["relu", "tanh", "sigmoid", "step", "linear"]


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_model_saved_and_loaded_computes_exactly_the_same(tmp_path_factory, data):
    nin = data.draw(st.integers(1, 4))
    nouts = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    model = MLP(nin, nouts, data.draw(st.sampled_from(ACTIVATION_NAMES)),
                seed=data.draw(st.integers(0, 1000)),
                output_activation=data.draw(st.sampled_from(ACTIVATION_NAMES)))
    for layer in model.layers:  # by hand: a whole layer, or single neurons
        if data.draw(st.booleans()):
            layer.activation = data.draw(st.sampled_from(ACTIVATION_NAMES))
        for neuron in layer.neurons:
            if data.draw(st.booleans()):
                neuron.activation = data.draw(st.sampled_from(ACTIVATION_NAMES))
    path = tmp_path_factory.mktemp("models") / "m.json"
    model.save(path)
    loaded = load(path)
    assert loaded.config() == model.config()
    x = data.draw(st.lists(st.floats(-3, 3), min_size=nin, max_size=nin))
    outputs = model(x)
    assert [o.data for o in (outputs if isinstance(outputs, list) else [outputs])] == [
        o.data for o in (lambda r: r if isinstance(r, list) else [r])(loaded(x))]


# -- 5. micrograd's internals: _prev, _op, _backward ---------------------------------


def test_op_strings_are_microgrades():
    a, b = Value(2.0), Value(-3.0)
    cases = {"+": a + b, "*": a * b, "-": a - b, "/": a / b, "**2": a ** 2, "**-1": a ** -1,
             "**0.5": a ** 0.5, "tanh": a.tanh(), "exp": a.exp(), "ReLU": a.relu(),
             "neg": -a, "sigmoid": a.sigmoid(), "dot": __import__("autograd").dot([a], [b])}
    for expected, node in cases.items():
        assert node._op == expected
    assert a._op == "" and a._prev == set()
    assert (a * b)._prev == {a, b} and (a * a)._prev == {a}


def test_stepping_backward_by_hand_matches_backward(tanh_neuron):
    # the lecture: o.grad = 1.0, then _backward() on each node from the output down
    x, o = tanh_neuron["x"], tanh_neuron["o"]
    o.grad = 1.0
    for node in reversed(topological_order(o)):
        node._backward()
    by_hand = {k: v.grad for k, v in tanh_neuron.items()}
    for v in tanh_neuron.values():
        v.grad = 0.0
    o.backward()
    assert by_hand == {k: v.grad for k, v in tanh_neuron.items()}
    assert by_hand["w"] == pytest.approx(x.data * (1 - o.data ** 2), rel=1e-15)


def test_backward_by_hand_on_a_dot_and_relu_network_matches_backward():
    model = MLP(3, [5, 2], seed=4)
    inputs = [Value(v) for v in (0.3, -1.2, 2.0)]
    out = sum(model(inputs)) * 0.5
    out.backward()
    expected = [p.grad for p in model.parameters() + inputs]
    for node in topological_order(out):  # fresh grads, as on a new graph
        node.grad = 0.0
    out.grad = 1.0
    for node in reversed(topological_order(out)):
        node._backward()
    assert [p.grad for p in model.parameters() + inputs] == expected


def test_a_leafs_backward_does_nothing():
    leaf = Value(1.0)
    leaf.grad = 3.0
    leaf._backward()
    assert leaf.grad == 3.0


# -- 6. PyTorch and micrograd habits ---------------------------------------------------


def test_a_value_takes_attributes_like_microgpts_adam_state():
    p = Value(0.5)
    p.m = 0.0
    p.v = 0.0
    p.m = 0.9 * p.m + 0.1 * 2.0
    assert p.m == pytest.approx(0.2) and p.v == 0.0
    assert "m" not in vars(Value(1.0))  # other nodes carry nothing


def test_adamw_follows_the_decoupled_formula():
    p = Value(2.0)
    optimizer = AdamW([p], lr=0.1, weight_decay=0.5)
    expected, m, v = 2.0, 0.0, 0.0
    for t, g in enumerate([0.3, -0.2, 0.7], start=1):
        p.grad = g
        optimizer.step()
        expected *= 1 - 0.1 * 0.5  # decay the weight itself, then Adam on g alone
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        expected -= 0.1 * (m / (1 - 0.9 ** t)) / (math.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        assert p.data == pytest.approx(expected, rel=1e-14)
    assert AdamW([Value(1.0)]).weight_decay == 0.01  # PyTorch's default


def test_adamw_and_adam_differ_only_with_weight_decay():
    a, b = Value(1.0), Value(1.0)
    for optimizer_a, optimizer_b in [(Adam([a], lr=0.1), AdamW([b], lr=0.1, weight_decay=0.0))]:
        for g in (0.5, -0.1):
            a.grad = b.grad = g
            optimizer_a.step()
            optimizer_b.step()
    assert a.data == b.data


def test_adamw_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = rng.normal(size=5)
    grads = rng.normal(size=(4, 5))
    params = [Value(float(x)) for x in start]
    ours = AdamW(params, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.3)
    theta = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    theirs = torch.optim.AdamW([theta], lr=0.05, betas=(0.8, 0.99), eps=1e-6,
                               weight_decay=0.3)
    for g in grads:
        for p, gi in zip(params, g):
            p.grad = float(gi)
        ours.step()
        theta.grad = torch.tensor(g, dtype=torch.float64)
        theirs.step()
    np.testing.assert_allclose([p.data for p in params], theta.detach().numpy(), rtol=1e-13)


def test_adamw_on_arrays_gives_the_numbers_of_its_step():
    params = [Value(1.0), Value(-2.0)]
    theta = np.array([1.0, -2.0])
    stepped, on_arrays = (AdamW(params, lr=0.1, weight_decay=0.2),
                          AdamW([Value(0.0), Value(0.0)], lr=0.1, weight_decay=0.2))
    for g in ([0.5, -0.25], [0.1, 0.3]):
        for p, gi in zip(params, g):
            p.grad = gi
        stepped.step()
        on_arrays.update_arrays(theta, np.array(g))
    assert [p.data for p in params] == theta.tolist()


def test_train_and_eval_switch_every_module():
    model = MLP(2, [3, 1], seed=0)
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(TypeError, match="True or False"):
        model.train("no")


def test_pickle_and_deepcopy_copy_a_whole_graph():
    x, w = Value(0.5, "x"), Value(-1.5, "w")
    sp = custom_op("softplus_for_copy", lambda t: math.log1p(math.exp(t)),
                   lambda t, out: (1.0 - (-out).exp() if isinstance(out, Value)
                                   else 1.0 - math.exp(-out),))
    y = (sp(w * x) + (w * x).tanh()) * x
    y.note = "kept"
    y.backward()
    expected = x.grad
    for copied_x, copied_y in [copy.deepcopy((x, y)), pickle.loads(pickle.dumps((x, y)))]:
        assert copied_y.data == y.data and copied_y.note == "kept" and copied_x.label == "x"
        assert copied_y.parents[1] is copied_x  # the leaf is shared, not copied twice
        assert copied_x.grad == expected  # grads are copied too
        copied_x.grad = 0.0
        copied_y.backward()
        assert copied_x.grad == expected and x.grad == expected  # the copy's own graph
        more = copied_y * 2.0  # new nodes on a copied graph: numbered after it
        more.backward()
        assert copied_x.grad == pytest.approx(3 * expected, rel=1e-15)


def test_a_deep_graph_pickles():
    x = Value(1.0)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    copied = pickle.loads(pickle.dumps(y))
    copied.backward()
    assert copied.data == y.data and copied.parents[1].data == 1.0001


def test_a_model_deepcopies_and_pickles_with_its_parameters():
    model = MLP(2, [3, 1], seed=0)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert clone([1.0, 2.0]).data == model([1.0, 2.0]).data
        assert not any(a is b for a, b in zip(clone.parameters(), model.parameters()))


def test_draw_dot_clusters_parameters_held_in_nested_lists():
    pytest.importorskip("graphviz")
    layer = MinitorchLinear(2, 1, random.Random(0))
    out = layer([Value(1.0), Value(2.0)])[0]
    source = draw_dot(out, names=layer).source
    assert "weights.1.0" in source and "bias.0" in source
