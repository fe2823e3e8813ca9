"""explore(): the interactive page's content, checked without a browser -- every frame
against the engine's backward pass and against draw_dot(step=k). The page itself is
driven in headless Chromium by tests/test_explore_browser.py."""

import html
import math
import re

import pytest

from autograd import (
    GraphTooLargeError,
    Value,
    backward_steps,
    custom_op,
    draw_dot,
    explain,
    explore,
    topological_order,
)
from nn import MLP, cross_entropy
from nn.data import load_iris

# explore() lays the graph out with dot; see conftest.py: skips without dot, fails under CI
needs_dot = pytest.mark.needs_dot


def replay(explorer, k):
    """The page's state after frame k, computed as its script does: each frame's
    changes applied in order. Returns ({(element, field): text}, final, born)."""
    texts, final, born = {}, set(), set()
    for frame in explorer._data["frames"][: k + 1]:
        for element, field, text in frame["set"]:
            texts[element, field] = text
        final.update(frame["final"])
        born.update(frame["born"])
    return texts, final, born


def record_grads(source):
    """{node id: 'grad ...' text} and the dashed node ids of a draw_dot DOT source."""
    grads, dashed = {}, set()
    for node_id, label, rest in re.findall(r"\t(v\d+) \[label=\"\{ (.*?) \}\"(.*?)\]\n", source):
        fields = [f.strip() for f in label.split(" | ")]
        for f in fields:
            if f.startswith("grad "):
                grads[node_id] = f
        if "dashed" in rest:
            dashed.add(node_id)
    return grads, dashed


@needs_dot
def test_the_forward_frames_compute_each_node_from_its_operands(tanh_neuron):
    o, x = tanh_neuron["o"], tanh_neuron["x"]
    page = explore(o)
    forward = [f for f in page.frames if f.phase == "forward"]
    assert [f.step for f in forward] == [0, 1, 2, 3]
    assert forward[0].title == "forward pass: the leaves (x, w, b) hold their values"
    assert forward[1].lines == ("mul = x × w = 2 × -3 = -6",)
    assert forward[2].lines == ("n = mul + b = -6 + 6.881 = 0.8814",)
    assert forward[3].lines == ("o = tanh(n) = tanh(0.8814) = 0.7071",)
    # before a node is computed its record says so; afterwards it holds its value
    texts, _, born = replay(page, 0)
    order = topological_order(o)
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    assert texts[ids[o], "data"] == "data ?" and ids[o] not in born
    assert texts[ids[x], "data"] == "data 2" and ids[x] in born
    texts, _, born = replay(page, 3)
    assert texts[ids[o], "data"] == "data 0.7071" and ids[o] in born


@needs_dot
def test_the_backward_frames_say_the_arithmetic_of_each_step(tanh_neuron):
    o = tanh_neuron["o"]
    page = explore(o)
    backward = [f for f in page.frames if f.phase == "backward"]
    assert backward[0].title.startswith("backward pass: grad(o) = 1")
    assert backward[1].lines == ("grad(n) += grad(o) × (1 - o × o) = 1 × 0.5 = 0.5 (final)",)
    assert backward[2].lines == ("grad(mul) += grad(n) × 1 = 0.5 × 1 = 0.5 (final)",
                                 "grad(b) += grad(n) × 1 = 0.5 × 1 = 0.5 (final)")
    assert backward[3].lines == ("grad(x) += grad(mul) × w = 0.5 × -3 = -1.5 (final)",
                                 "grad(w) += grad(mul) × x = 0.5 × 2 = 1 (final)")


@needs_dot
def test_a_gradient_summed_over_two_uses_shows_the_running_sum():
    a = Value(3.0, label="a")
    y = a * a + a
    y.label = "y"
    lines = [line for f in explore(y).frames for line in f.lines if line.startswith("grad(a)")]
    assert lines == ["grad(a) += grad(y) × 1 = 1 × 1 = 1",
                     "grad(a) += grad(mul) × a = 1 × 3 = 3, so grad(a) = 4",
                     "grad(a) += grad(mul) × a = 1 × 3 = 3, so grad(a) = 7 (final)"]
    y.backward()
    assert a.grad == 7.0  # the engine agrees with the page's last line
    # a first contribution of 0 is still a contribution: the sum is shown after it
    b = Value(-1.0, label="b")
    z = b * 2.0 + b.relu()
    lines = [line for f in explore(z).frames for line in f.lines if line.startswith("grad(b)")]
    assert lines == ["grad(b) += grad(relu) × 1[b > 0] = 1 × 0 = 0",
                     "grad(b) += grad(mul) × 2 = 1 × 2 = 2, so grad(b) = 2 (final)"]


def graphs():
    """Expressions with shared subexpressions, constants, every kind of op, and a
    model: each page must agree with the engine and with draw_dot."""
    x, y = Value(0.7, label="x"), Value(-1.3, label="y")
    s = x * y
    yield (s + s.exp()) / (y * y + 1.0) - (x - 0.2).abs() ** 1.5 + (s.tanh() * x).sigmoid(), None
    a = Value(0.4, label="a")
    yield (a.sin() * a.cos() + a.log1p() - a.sqrt()).relu() + (2.0 ** a) * a, None
    model = MLP(3, [4, 2], seed=3)
    yield cross_entropy(model([0.5, -1.0, 2.0]), 1), model


@needs_dot
@pytest.mark.parametrize("case", range(3))
def test_every_backward_frame_shows_what_draw_dot_step_k_shows(case):
    root, names = list(graphs())[case]
    page = explore(root, names=names)
    steps = backward_steps(root)
    backward = [i for i, f in enumerate(page.frames) if f.phase == "backward"]
    assert len(backward) == len(steps) + 1
    index = {node: i for i, node in enumerate(topological_order(root))}  # == compares data
    for k, frame_index in enumerate(backward):
        texts, final, _ = replay(page, frame_index)
        grads, dashed = record_grads(draw_dot(root, names=names, step=k).source)
        for node_id, text in grads.items():
            assert texts[node_id, "grad"] == text, (k, node_id)
        pending = {node_id for node_id in grads if node_id not in final}
        assert pending == dashed, k
        applied = root if k == 0 else steps[k - 1]  # the seed lights up the output
        assert page._data["frames"][frame_index]["active"] == [f"v{index[applied]}"]


@needs_dot
@pytest.mark.parametrize("case", range(3))
def test_the_last_frame_shows_the_engines_gradients(case):
    root, names = list(graphs())[case]
    page = explore(root, names=names)
    for node in topological_order(root):
        node.grad = 0.0
    root.backward()
    texts, final, _ = replay(page, len(page.frames) - 1)
    for i, node in enumerate(topological_order(root)):
        if (f"v{i}", "grad") in texts:
            assert texts[f"v{i}", "grad"] == f"grad {_fmt4(node.grad)}"
            assert f"v{i}" in final  # every gradient is final at the end


def _fmt4(x):
    text = f"{x:.4g}"
    return "0" if text == "-0" else text


@needs_dot
def test_each_nodes_panel_lists_the_paths_whose_products_sum_to_its_gradient():
    x = Value(1.5, label="x")
    h = x * x
    out = h.tanh() + h * x
    out.label = "out"
    page = explore(out, max_paths=2)
    out.backward()
    index = {node: i for i, node in enumerate(topological_order(out))}
    panel = page._data["panels"][f"v{index[x]}"]
    derivation = explain(out, x)
    assert panel["paths"]["count"] == derivation.num_paths == 5
    assert len(panel["paths"]["items"]) == 2  # max_paths
    assert panel["paths"]["more"].startswith("… and 3 more paths, contributing ")
    assert panel["paths"]["sum"] == f"sum of the 5 paths = {_fmt4(x.grad)} = grad(x)"
    # each listed path's product is the product of its factors, largest first
    products = [float(item["product"].rsplit(" = ", 1)[1]) for item in panel["paths"]["items"]]
    assert abs(products[0]) >= abs(products[1])
    assert math.isclose(sum(p.product for p in _all_paths(out, x)), x.grad, rel_tol=1e-12)
    # the op that made a node and its local derivatives, with names and numbers
    h_panel = page._data["panels"][f"v{index[h]}"]  # two unnamed muls: mul#1 and mul#3
    assert h_panel["made"] == "mul#1 = x × x = 1.5 × 1.5 = 2.25"
    assert h_panel["locals"] == ["∂mul#1/∂x = x = 1.5", "∂mul#1/∂x = x = 1.5"]


def _all_paths(root, wrt):
    from autograd.graph.explain import _paths

    _, paths, _ = _paths(topological_order(root), root, wrt)
    return paths


@needs_dot
def test_every_element_the_page_refers_to_is_in_the_svg():
    item = list(graphs())[2]
    for page in (explore(item[0], names=item[1]),
                 explore(item[0], names=item[1], max_nodes=20)):
        ids = {html.unescape(i)  # as the browser reads them (dot writes "-" as &#45;)
               for i in re.findall(r'<g id="([^"]+)" class="(?:node|edge)"', page.svg)}
        data = page._data
        for element, parts in data["parts"].items():
            assert element in ids
            assert set(parts) <= ids, set(parts) - ids
        for element, fields in data["fields"].items():
            assert element in ids and fields


@needs_dot
def test_the_page_is_self_contained(tanh_neuron):
    o = tanh_neuron["o"]
    text = explore(o).html()
    assert text.startswith("<!DOCTYPE html>")
    without_namespaces = text.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    assert "http" not in without_namespaces
    for fetch in ("src=", "href=", "@import", "url(", "fetch(", "XMLHttpRequest"):
        assert fetch not in text
    assert text.count("<svg") == 1  # one picture shared by all frames


@needs_dot
def test_names_cannot_break_out_of_the_page():
    x = Value(1.0, label="</script><script>alert(1)</script>")
    page = explore(x * 2.0)
    fragment = page._repr_html_()
    assert "</script><script>alert(1)" not in fragment
    assert fragment.count("</script>") == 2  # the data and the script, nothing else


@needs_dot
def test_write_saves_the_page_atomically(tanh_neuron, tmp_path):
    o = tanh_neuron["o"]
    path = explore(o).write(tmp_path / "backprop.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["backprop.html"]


@needs_dot
def test_a_large_graph_is_collapsed_with_a_model_and_refused_without():
    X, y = load_iris()
    model = MLP(4, [16, 3], seed=0)
    loss = cross_entropy(model(list(X[0])), int(y[0]))
    page = explore(loss, names=model)
    assert page.collapsed and "collapsed module view" in repr(page)
    backward = [f for f in page.frames if f.phase == "backward"]
    assert backward[1].title.startswith("backward step 1 of ")
    assert any("layers.1.neurons" in f.title for f in backward)
    # the module records end with the grads of their outputs after one backward pass
    loss.backward()
    texts, final, _ = replay(page, len(page.frames) - 1)
    for i, neuron_ in enumerate(model.layers[0].neurons):
        element = f"g_layers.0.neurons.{i}"
        relu = next(n for n in topological_order(loss)
                    if n.op == "relu" and neuron_.w[0] in topological_order(n))
        assert texts[element, "grad"] == f"grad {_fmt4(relu.grad)}"
        assert element in final
    with pytest.raises(GraphTooLargeError, match=r"explore: the graph has 172 Value nodes.*"
                                                 r"names=model"):
        explore(loss)
    with pytest.raises(GraphTooLargeError, match="explore: even collapsed"):
        explore(loss, names=model, max_nodes=5)
    full = explore(loss, names=model, max_nodes=None)
    assert not full.collapsed
    assert len([f for f in full.frames if f.phase == "backward"]) == 38


@needs_dot
def test_a_custom_op_appears_by_name():
    cube = custom_op("cube", lambda x: x ** 3, lambda x, out: (3 * x ** 2,))
    x = Value(2.0, label="x")
    y = cube(x) + 1.0
    page = explore(y)
    assert any("cube = cube(x) = cube(2) = 8" in line for f in page.frames for line in f.lines)
    assert any("grad(x) += grad(cube) × ∂cube/∂x = 1 × 12 = 12" in line
               for f in page.frames for line in f.lines)
    assert ">cube</text>" in page.svg  # the op's ellipse


@needs_dot
def test_bad_arguments_are_refused_clearly(tanh_neuron):
    o = tanh_neuron["o"]
    with pytest.raises(TypeError, match="explore: root must be a Value, got float"):
        explore(1.0)
    with pytest.raises(ValueError, match="rankdir"):
        explore(o, rankdir="up")
    with pytest.raises(ValueError, match="explore: precision must be a positive int"):
        explore(o, precision=0)
    for bad in ("10", 0, True):
        with pytest.raises(ValueError, match="explore: max_nodes must be a positive int, or "
                                             "None for no limit"):
            explore(o, max_nodes=bad)
    with pytest.raises(ValueError, match="draw_dot: max_nodes must be a positive int"):
        draw_dot(o, max_nodes=-1)
    with pytest.raises(TypeError, match="explore: title must be a str, got int"):
        explore(o, title=3)
    with pytest.raises(TypeError, match=r"explore: names must be a dict \{Value: name\} or an "
                                        "nn.Module, got list"):
        explore(o, names=["x", "w"])
    with pytest.raises(TypeError, match=r"explore: parameters must be Values, e\.g\. "
                                        r"parameters=\[w, b\]; got float"):
        explore(o, parameters=[1.0])
    x = o.parents[0].parents[0].parents[0]
    assert explore(o, parameters=x).svg == explore(o, parameters=[x]).svg  # one Value is fine


def test_a_backward_pass_that_cannot_be_taken_is_refused_as_backward_refuses_it():
    x = Value(0.0, label="x")
    y = x.sqrt()
    with pytest.raises(ArithmeticError) as engine:
        y.backward()
    with pytest.raises(type(engine.value)) as page:
        explore(y)
    assert str(page.value).startswith("backward through sqrt(0.0)")


@needs_dot
def test_a_leaf_alone_has_nothing_to_step_through():
    page = explore(Value(3.0, label="x"))
    assert [(f.phase, f.lines) for f in page.frames] == [
        ("forward", ("the output is a leaf: there is nothing to compute",)),
        ("backward", ("no operation to go back through",))]
    assert "grad 1" in page.html()


@needs_dot
def test_too_many_paths_are_counted_and_the_node_by_node_rule_given():
    x = Value(1.0001, label="x")
    y = x
    for _ in range(11):  # y = x ** 2048 by squaring: 2 ** 11 paths from x
        y = y * y
    page = explore(y)
    y.backward()
    panel = page._data["panels"]["v0"]["paths"]
    assert panel["count"] == 2048
    assert panel["rule"].startswith("2048 paths are too many to list: node by node")
    (first, second) = panel["items"]  # x's two uses, both by the first mul
    g = 1024 * 1.0001 ** 2046  # d(x^2048)/d(x^2) = 1024 (x^2)^1023, independent of the page
    assert first["product"] == f"grad(mul#1) × local = {g:.4g} × 1 = {g * 1.0001:.4g}"
    assert first["path"] == [0, 1, 0] and second["path"] == [0, 1, 1]
    assert math.isclose(x.grad, 2048 * 1.0001 ** 2047, rel_tol=1e-12)


@needs_dot
def test_without_its_script_the_page_shows_the_graph_after_the_backward_pass(tanh_neuron):
    """An untrusted notebook or a notebook viewer shows the SVG as it is: it must be
    draw_dot's picture of the finished pass, not some frame's texts."""
    o = tanh_neuron["o"]
    page = explore(o)
    o.backward()
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", page.svg)]
    fields = re.findall(r"(?:data|grad) [^ |}\"]+", draw_dot(o).source)
    assert len(fields) == 12  # data and grad of six Values
    for field in fields:
        assert field in texts
    assert "The graph after the backward pass." in page.html()
