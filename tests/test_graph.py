"""The chain-rule graph, checked on real SVG rendered by Graphviz's dot and parsed as XML."""

import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import (
    GraphTooLargeError,
    GraphvizNotFoundError,
    Value,
    backward_steps,
    draw_dot,
    explain,
    local_derivatives,
    topological_order,
)
from autograd.graph import KINDS
from nn import MLP, cross_entropy

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.needs_dot  # see conftest.py: skips without dot, fails under CI


def parse_svg(graph):
    """(value nodes, op nodes, edges, clusters) of the rendered picture."""
    root = ET.fromstring(graph.pipe(format="svg"))
    values, ops, edges, clusters = {}, {}, [], {}
    other_nodes = []
    for g in root.iter(f"{SVG}g"):
        title = g.findtext(f"{SVG}title")
        texts = [t.text for t in g.iter(f"{SVG}text")]
        shape = next((e for e in g if e.tag in (f"{SVG}polygon", f"{SVG}ellipse")), None)
        entry = {"texts": texts,
                 "fill": shape.get("fill") if shape is not None else None,
                 "stroke": shape.get("stroke") if shape is not None else None,
                 "dashed": shape is not None and shape.get("stroke-dasharray") is not None}
        if g.get("class") == "node" and title.startswith("v"):
            values[title] = entry
        elif g.get("class") == "node" and title.startswith("op"):
            ops[title] = entry
        elif g.get("class") == "node":
            other_nodes.append(title)
        elif g.get("class") == "edge":
            tail, head = title.split("->")
            edges.append((tail, head, texts, g))
        elif g.get("class") == "cluster":
            clusters[title] = texts  # the label (dot writes the members outside the group)
    clusters["nodes outside values and ops"] = other_nodes
    return values, ops, edges, clusters


def field(texts, prefix):
    (value,) = [t for t in texts if t.startswith(prefix)]
    return float(value[len(prefix):])


def neuron():
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2, b = Value(-3.0, "w1"), Value(1.0, "w2"), Value(6.8813735870195432, "b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.label = "o"
    o.backward()
    return o, (x1, x2, w1, w2, b)


@needs_dot
def test_every_value_and_operation_is_drawn_with_its_numbers():
    o, (_, _, w1, w2, b) = neuron()
    values, ops, edges, _ = parse_svg(draw_dot(o, parameters=[w1, w2, b], legend=False))
    order = topological_order(o)
    assert len(values) == len(order) == 10
    assert len(ops) == len(backward_steps(o)) == 5
    labelled = {v["texts"][0]: v for v in values.values()}
    assert field(labelled["o"]["texts"], "data ") == pytest.approx(math.sqrt(0.5), abs=1e-4)
    assert field(labelled["o"]["texts"], "grad ") == 1.0
    assert field(labelled["w1"]["texts"], "grad ") == 1.0  # (1 - o^2) * x1 = 0.5 * 2
    assert field(labelled["x1"]["texts"], "grad ") == -1.5
    assert sorted(op["texts"][0] for op in ops.values()) == ["*", "*", "+", "+", "tanh"]
    # the edge into tanh carries 1 - tanh^2 = 0.5; into w1 * x1: x1 for w1, w1 for x1
    edge_labels = sorted(texts[0] for _, _, texts, _ in edges if texts)
    assert edge_labels == sorted(["×-3", "×2", "×1", "×0", "×1", "×1", "×1", "×1", "×0.5"])


@needs_dot
def test_kinds_have_their_colours_and_a_legend():
    x, w = Value(0.5, "x"), Value(2.0, "w")
    y = (w * x + 1.0).relu()
    y.backward()
    values, _, _, clusters = parse_svg(draw_dot(y, parameters=[w]))
    fills = {v["texts"][0]: v["fill"] for v in values.values()}
    all_fills = [v["fill"] for v in values.values()]
    assert fills["x"] == KINDS["input"][0]
    assert fills["w"] == KINDS["parameter"][0]
    assert fills["const"] == KINDS["constant"][0]
    assert len(all_fills) == 6 and all_fills.count(KINDS["intermediate"][0]) == 2
    (output,) = [v for v in values.values() if v["fill"] == KINDS["output"][0]]
    assert field(output["texts"], "grad ") == 1.0
    assert "legend" in clusters["nodes outside values and ops"]  # one compact node
    root = ET.fromstring(draw_dot(y, parameters=[w]).pipe(format="svg"))
    (legend,) = [g for g in root.iter(f"{SVG}g") if g.findtext(f"{SVG}title") == "legend"]
    texts = [t.text for t in legend.iter(f"{SVG}text")]
    for kind in ("input", "parameter", "constant", "intermediate", "output"):
        assert kind in texts
    fills = {p.get("fill") for p in legend.iter(f"{SVG}polygon")}
    assert {KINDS[k][0] for k in ("input", "parameter", "output")} <= fills


@needs_dot
def test_a_module_names_its_parameters_and_clusters_neurons_inside_layers():
    model = MLP(2, [3, 2], seed=0)
    loss = cross_entropy(model([0.5, -1.2]), 1)
    loss.backward()
    values, _, _, clusters = parse_svg(draw_dot(loss, names=model, legend=False))
    neuron_clusters = [c for c in clusters if ".neurons." in c]
    layer_clusters = [c for c in clusters if c.startswith("cluster_layers.")
                      and ".neurons." not in c]
    assert sorted(layer_clusters) == ["cluster_layers.0", "cluster_layers.1"]
    assert len(neuron_clusters) == 5
    (label,) = clusters["cluster_layers.0.neurons.2"]
    assert label == "layers.0.neurons.2: Neuron (relu)"
    # inside its neuron's cluster a weight is named relative to it: w.1, b
    names = [v["texts"][0] for v in values.values()]
    assert names.count("w.1") == 5 and names.count("b") == 5
    parameters = [v for v in values.values() if v["fill"] == KINDS["parameter"][0]]
    assert len(parameters) == len(model.parameters())
    # and the numbers in the picture are the parameters' own
    w = model.layers[1].neurons[1].w[2]
    assert any(field(v["texts"], "grad ") == pytest.approx(w.grad, abs=1e-4)
               and field(v["texts"], "data ") == pytest.approx(w.data, abs=1e-4)
               for v in parameters)


# -- the chain rule, read off the picture ------------------------------------

OPS = {
    "add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b,
    "div": lambda a, b: a / (1 + b * b), "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(), "exp": lambda a, b: (0.5 * a).tanh().exp(),
    "square": lambda a, b: a * a,
}


@st.composite
def random_graphs(draw):
    """A random DAG: each new node applies an op to earlier nodes (so nodes are shared)."""
    pool = [Value(draw(st.floats(-1.5, 1.5)), f"x{i}") for i in range(3)]
    for _ in range(draw(st.integers(1, 10))):
        op = draw(st.sampled_from(sorted(OPS)))
        a = pool[draw(st.integers(0, len(pool) - 1))]
        b = pool[draw(st.integers(0, len(pool) - 1))]
        pool.append(OPS[op](a, b))
    return pool[-1]


def backward_from_zero(root):
    """Fresh gradients: the random graphs may share leaves between examples' nodes."""
    for node in topological_order(root):
        node.grad = 0.0
    root.backward()


@needs_dot
@settings(max_examples=25, deadline=None)
@given(random_graphs())
def test_labels_in_the_picture_satisfy_the_chain_rule(root):
    backward_from_zero(root)
    values, _, edges, _ = parse_svg(draw_dot(root, precision=17, legend=False))
    constants = {k for k, v in values.items() if v["texts"][0] == "const"}
    grad = {k: field(v["texts"], "grad ") for k, v in values.items() if k not in constants}
    output_of = {tail: head for tail, head, _, _ in edges if tail.startswith("op")}
    expected = dict.fromkeys(grad, 0.0)
    for tail, head, texts, _ in edges:
        if tail.startswith("v") and tail not in constants:
            (label,) = texts
            expected[tail] += grad[output_of[head]] * float(label.lstrip("×"))
    root_id = max(values, key=lambda k: int(k[1:]))
    for node_id, value in grad.items():
        if node_id != root_id:
            assert value == pytest.approx(expected[node_id], rel=1e-9, abs=1e-12), node_id


def test_local_derivatives_are_the_backward_rules():
    x, y = Value(0.7), Value(-1.3)
    assert local_derivatives(x * y) == (-1.3, 0.7)
    assert local_derivatives(x.tanh()) == pytest.approx((1 - math.tanh(0.7) ** 2,))
    assert local_derivatives(x) == ()


# -- backward step by step ---------------------------------------------------


@needs_dot
def test_backward_step_by_step():
    o, (x1, x2, w1, w2, b) = neuron()
    steps = backward_steps(o)
    assert [n.op for n in steps] == ["tanh", "add", "add", "mul", "mul"]
    by_label = {}
    for k in range(len(steps) + 1):
        values, ops, _, _ = parse_svg(draw_dot(o, step=k, legend=False))
        by_label[k] = {v["texts"][0]: v for v in values.values() if v["texts"][0][0] != "d"}
        red_ops = [op for op in ops.values() if op["stroke"] == "#d7301f"]
        assert len(red_ops) == (1 if k else 0)
    # step 0: only the seed; after step 1 (tanh) the pre-activation n has its final grad
    assert field(by_label[0]["o"]["texts"], "grad ") == 1.0
    assert field(by_label[0]["x1"]["texts"], "grad ") == 0.0 and by_label[0]["x1"]["dashed"]
    assert not by_label[0]["o"]["dashed"]
    # after the last step every gradient is final and equals .grad
    for node in (x1, x2, w1, w2, b):
        shown = by_label[len(steps)][node.label]
        assert not shown["dashed"]
        assert field(shown["texts"], "grad ") == pytest.approx(node.grad, abs=1e-4)
    with pytest.raises(ValueError, match="step must be an int from 0 to 5"):
        draw_dot(o, step=6)


# -- explain -----------------------------------------------------------------


def test_explain_sums_paths_through_shared_subexpressions():
    a = Value(1.5, "a")
    b = a + a
    c = b * b
    c.label = "c"
    c.backward()
    derivation = explain(c, a)
    assert derivation.num_paths == 4 and derivation.total == a.grad == 12.0
    assert sum(p[2] for p in derivation.paths) == 12.0
    text = str(derivation)
    assert "dc/da = sum over 4 paths" in text
    assert "a → add[1] → c[2]" in text and "total dc/da = 12" in text
    assert "(a.grad = 12: the same)" in text


@settings(max_examples=25, deadline=None)
@given(random_graphs())
def test_explain_total_equals_grad(root):
    backward_from_zero(root)
    for leaf in [n for n in topological_order(root) if n.is_leaf and not n.is_constant]:
        derivation = explain(root, leaf)
        assert derivation.total == pytest.approx(leaf.grad, rel=1e-12, abs=1e-15)
        if derivation.num_paths <= 8:
            assert sum(p[2] for p in derivation.paths) == pytest.approx(leaf.grad, rel=1e-9,
                                                                       abs=1e-12)


def test_explain_summarises_long_path_lists():
    x = Value(0.5, "x")
    y = x
    for _ in range(10):
        y = y * x + x
    y.backward()
    derivation = explain(y, x, max_paths=3)
    assert derivation.num_paths == 21 and len(derivation.paths) == 3
    assert "… and 18 more paths, contributing" in str(derivation)
    assert derivation.total == x.grad


def test_explain_with_exponentially_many_paths_goes_node_by_node():
    x = Value(0.9, "x")
    y = x
    for _ in range(40):
        y = 0.5 * (y * y).tanh() + 0.5 * y  # every level triples the paths
    x.grad = 0.0
    y.backward()
    derivation = explain(y, x)
    assert derivation.num_paths == 3**40
    assert "too many to list" in str(derivation) and derivation.paths == []
    assert derivation.total == x.grad


def test_explain_of_an_unrelated_value_is_zero():
    x, z = Value(1.0, "x"), Value(2.0, "z")
    derivation = explain(x * 3, z)
    assert derivation.total == 0.0 and "not part of the graph" in str(derivation)


def test_explain_names_module_nodes():
    model = MLP(2, [2, 2], seed=0)
    loss = cross_entropy(model([0.5, -1.0]), 0)
    loss.backward()
    w = model.layers[0].neurons[1].w[0]
    text = str(explain(loss, w, names=model))
    assert "dout/dlayers.0.neurons.1.w.0" in text
    assert "layers.0.neurons.1.dot → layers.0.neurons.1.relu" in text


# -- size, depth and rendering ------------------------------------------------


def chain(n):
    x = Value(0.1, "x")
    y = x
    for _ in range(n):
        y = y * 1.0
    return y


def test_a_deep_chain_draws_without_recursion_error():
    y = chain(100_000)
    graph = draw_dot(y, max_nodes=None, show_local=False, legend=False)
    assert graph.source.count("shape=record") == 200_001  # 100,001 Values and the constants


def test_over_max_nodes_is_a_clear_error_not_a_hang():
    with pytest.raises(GraphTooLargeError, match=r"more than max_nodes=150.*names=model"):
        draw_dot(chain(1_000))


@needs_dot
def test_a_large_module_graph_collapses_to_one_node_per_neuron():
    model = MLP(4, [16, 3], seed=0)
    loss = cross_entropy(model([5.1, 3.5, 1.4, 0.2]), 0)
    loss.backward()
    graph = draw_dot(loss, names=model, max_nodes=50)
    root = ET.fromstring(graph.pipe(format="svg"))
    titles = [g.findtext(f"{SVG}title") for g in root.iter(f"{SVG}g")
              if g.get("class") == "node"]
    neurons = [t for t in titles if t.startswith("g_layers.")]
    assert len(neurons) == 19
    assert "g_layers.0.neurons.3" in neurons
    with pytest.raises(GraphTooLargeError, match="even collapsed"):
        draw_dot(loss, names=model, max_nodes=10)
    with pytest.raises(GraphTooLargeError, match="step-by-step drawing needs every node"):
        draw_dot(loss, names=model, max_nodes=50, step=1)
    assert "layers.1.neurons.2" in draw_dot(loss, names=model, max_nodes=50, rankdir="TB").source


@pytest.mark.parametrize("suffix, magic", [
    pytest.param(".svg", b"<?xml", marks=needs_dot),
    pytest.param(".png", b"\x89PNG", marks=needs_dot),
    pytest.param(".pdf", b"%PDF", marks=needs_dot),
    (".dot", b"digraph"),  # the DOT text: no Graphviz needed
])
def test_write_saves_svg_png_pdf_and_dot(tmp_path, suffix, magic):
    o, _ = neuron()
    path = draw_dot(o).write(tmp_path / f"graph{suffix}")
    assert path.read_bytes().startswith(magic)


@needs_dot
def test_displays_itself_in_jupyter():
    o, _ = neuron()
    bundle = draw_dot(o)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_without_dot_the_error_says_how_to_install_and_source_still_works(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    o, _ = neuron()
    graph = draw_dot(o)
    assert graph.source.startswith("digraph")
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        graph.pipe(format="svg")
    with pytest.raises(GraphvizNotFoundError, match=r"graph\.source"):
        graph.write("never.png")


def test_bad_arguments():
    o, _ = neuron()
    with pytest.raises(ValueError, match="rankdir must be"):
        draw_dot(o, rankdir="XY")
    with pytest.raises(TypeError, match="names must be a dict"):
        draw_dot(o, names=["x"])
    with pytest.raises(TypeError, match="root must be a Value"):
        draw_dot(1.0)


@needs_dot
def test_a_neuron_as_names_draws_every_value_as_a_named_record_with_inputs_named(scaled):
    from nn import Neuron

    neuron = Neuron(3, seed=0)
    out = neuron([0.5, -1.0, 2.0])
    out.backward()
    values, ops, edges, _ = parse_svg(draw_dot(out, names=neuron))
    assert len(values) == 9 and len(ops) == 2  # w.0-2, x.0-2, b, the sum, relu's output
    assert all(any(t.startswith("data ") for t in v["texts"]) for v in values.values())
    names = {v["texts"][0] for v in values.values()}
    assert {"w.0", "w.1", "w.2", "b", "x.0", "x.1", "x.2"} <= names
    heads = {head for _, head, _, _ in edges} | {tail for tail, _, _, _ in edges}
    assert heads <= set(values) | set(ops)  # no edge to an undrawn node (a bare ellipse)

    model = scaled
    out = model([1.0, 2.0])
    out.backward()
    values, ops, edges, _ = parse_svg(draw_dot(out, names=model))
    by_name = {v["texts"][0]: v for v in values.values()}
    assert field(by_name["scale"]["texts"], "grad ") == pytest.approx(model.scale.grad, rel=1e-3)
    assert {"x.0", "x.1", "scale"} <= set(by_name)
    assert by_name["x.0"]["fill"] == KINDS["input"][0]
    heads = {head for _, head, _, _ in edges} | {tail for tail, _, _, _ in edges}
    assert heads <= set(values) | set(ops)


def _positions(graph):
    """{node id: (x, y, first text)} of the rendered SVG (y grows downwards)."""
    root = ET.fromstring(graph.pipe(format="svg"))
    positions = {}
    for g in root.iter(f"{SVG}g"):
        text = g.find(f"{SVG}text")
        if g.get("class") == "node" and text is not None:
            positions[g.findtext(f"{SVG}title")] = (float(text.get("x")), float(text.get("y")),
                                                    text.text)
    return positions


@needs_dot
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_order_follows_the_model_inside_every_neuron(rankdir):
    model = MLP(3, [4, 4, 2], seed=1)
    loss = cross_entropy(model([0.3, -0.2, 0.9]), 1)
    loss.backward()
    graph = draw_dot(loss, names=model, max_nodes=None, rankdir=rankdir, legend=False)
    positions = _positions(graph)
    across = 1 if rankdir == "LR" else 0  # top to bottom, or left to right
    clusters = re.findall(r'subgraph "(cluster_\S+neurons\.\d+)" \{(.*?)\n\t+\}',
                          graph.source, re.S)
    assert len(clusters) == 10
    for _, body in clusters:
        members = [positions[i] for i in re.findall(r"\n\t+(v\d+) \[", body)]
        seen = [text for *_, text in sorted(members, key=lambda p: p[across])
                if re.fullmatch(r"w\.\d+|b", text)]
        assert seen == [f"w.{i}" for i in range(len(seen) - 1)] + ["b"]


@needs_dot
def test_the_collapsed_model_lists_neurons_and_inputs_in_order():
    model = MLP(4, [16, 3], seed=0)
    loss = cross_entropy(model([0.5, -1.2, 0.3, 2.0]), 2)
    loss.backward()
    positions = _positions(draw_dot(loss, names=model))  # 172 Values: collapsed
    def column(prefix):
        entries = sorted((y, text) for _, y, text in positions.values()
                         if text.startswith(prefix))
        return [text for _, text in entries]

    assert column("layers.0.") == [f"layers.0.neurons.{i}" for i in range(16)]
    assert column("layers.1.") == [f"layers.1.neurons.{i}" for i in range(3)]
    assert column("x.") == ["x.0", "x.1", "x.2", "x.3"]
