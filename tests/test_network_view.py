"""draw_network: a network drawn as the lecture draws it, read back from its SVG.

The picture is parsed as XML and checked as a specification: the columns come in model
order with the right counts; every number a neuron shows (a, h, dL/da, dL/dh) is the
engine's own, computed here independently layer by layer, and the lecture's closed forms
in numpy agree to the printed precision; each edge is coloured by the sign of its weight
and grows with |w|; wide columns get an ellipsis; and no text leaves the picture or runs
into another. A real browser then checks the page at 1280 px.
"""

import math
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from browser_support import chromium

import nn
from autograd import Value
from nn.data import load_digits, load_iris
from nn.network_view import NEGATIVE, POSITIVE, draw_network

SVG = "{http://www.w3.org/2000/svg}"
CLASSES = ["setosa", "versicolor", "virginica"]
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
PRECISION = 4


# -- reading the picture ------------------------------------------------------------


def parse(view):
    return ET.fromstring(view.svg)


def has_class(element, name):
    return name in element.get("class", "").split()


def groups(element, name):
    return [g for g in element.iter(f"{SVG}g") if has_class(g, name)]


def shown(group):
    """{class: text} of a card's <text> elements (nv-a: "a = 1.234", ...)."""
    return {t.get("class"): t.text for t in group.iter(f"{SVG}text") if t.get("class")}


def number(text):
    """The number a text shows: the part after its last "= "."""
    return float(text.rsplit("= ", 1)[1])


def columns(root):
    return groups(root, "nv-column")


def neurons(root, layer):
    """{neuron index: card} of the drawn neurons of layer ``layer``."""
    column = next(c for c in columns(root) if c.get("data-layer") == str(layer))
    return {int(g.get("data-index")): g for g in groups(column, "nv-neuron")}


def edges(root):
    """{(layer, neuron, input): (stroke colour, stroke width, tooltip)}."""
    out = {}
    for g in groups(root, "nv-edge"):
        line = g.find(f"{SVG}line")
        key = tuple(int(g.get(f"data-{k}")) for k in ("layer", "neuron", "input"))
        out[key] = (line.get("stroke"), float(line.get("stroke-width")),
                    g.find(f"{SVG}title").text)
    return out


def agrees(text, expected, precision=PRECISION):
    """A number printed with ``precision`` significant digits is ``expected``, rounded."""
    value = float(text)
    return abs(value - expected) <= 0.5 * 10 ** (1 - precision) * abs(expected) * 1.001 + 1e-12


def printed(value):
    text = f"{value:.{PRECISION}g}"
    return "0" if text == "-0" else text


# -- the engine's own numbers, layer by layer ---------------------------------------


def engine_pass(model, x, target=None, loss=nn.cross_entropy):
    """Each layer's pre-activations a and activations h (as Values), from calling the
    layers one after another on x (standardized first for a Classifier), and -- with a
    target -- after the loss's backward pass on zeroed gradients."""
    network = model.network if isinstance(model, nn.Classifier) else model
    layers = network.layers if isinstance(network, nn.MLP) else [network]
    inputs = [Value(float(v)) for v in x]
    if isinstance(model, nn.Classifier) and model.preprocess is not None:
        inputs = model.preprocess(inputs)
    a, h = [], []
    for layer in layers:
        outputs = list(layer(inputs))
        a.append([o if n.activation == "linear" else o.parents[0]
                  for o, n in zip(outputs, layer.neurons)])
        h.append(outputs)
        inputs = outputs
    # the same numbers as the model itself computes
    whole = model([float(v) for v in x])
    whole = whole if isinstance(whole, list) else [whole]
    assert [o.data for o in whole] == [o.data for o in h[-1]]
    result = {"layers": layers, "a": a, "h": h, "L": None}
    if target is not None:
        model.zero_grad()
        result["L"] = loss(h[-1], target)
        result["L"].backward()
    return result


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris()
    model = nn.Classifier(nn.MLP(4, [16, 3], seed=0), CLASSES, nn.Standardize.fit(X),
                          features=FEATURES)
    nn.fit(model, X, y, epochs=2, progress=False, seed=0)
    return model, X, y


@pytest.fixture(scope="module")
def digits_model():
    X, y = load_digits()
    return nn.MLP(64, [32, 10], seed=0, init="he"), X[0] / 16, int(y[0])


# -- the columns ----------------------------------------------------------------------


def test_the_columns_come_in_model_order_with_their_counts(iris):
    model, X, y = iris
    root = parse(draw_network(model, X[60], int(y[60])))
    kinds = [(c.get("data-kind"), c.get("data-layer")) for c in columns(root)]
    assert kinds == [("inputs", None), ("layer", "0"), ("layer", "1"), ("loss", None)]
    counts = [len(groups(c, "nv-input")) + len(groups(c, "nv-neuron")) + len(groups(c, "nv-loss"))
              for c in columns(root)]
    assert counts == [4, 16, 3, 1]
    # left to right, each column in one line; its neurons top to bottom in model order
    lefts = []
    for column in columns(root):
        circles = [(int(g.get("data-index") or 0), g.find(f"{SVG}circle"))
                   for g in column.iter(f"{SVG}g") if g.get("id")]
        xs = {float(c.get("cx")) for _, c in circles}
        assert len(xs) == 1
        lefts.append(xs.pop())
        ys = [float(c.get("cy")) for _, c in sorted(circles, key=lambda item: item[0])]
        assert ys == sorted(ys)
    assert lefts == sorted(lefts)
    # columns centred on one another: the middle of each is the middle of the tallest
    middles = []
    for column in columns(root):
        ys = [float(c.get("cy")) for c in column.iter(f"{SVG}circle")]
        middles.append((min(ys) + max(ys)) / 2)
    assert max(middles) - min(middles) < 1
    # the inputs name their features; the outputs their classes
    inputs = shown(columns(root)[0])
    assert [t.text for t in columns(root)[0].iter(f"{SVG}text")
            if t.get("class") == "nv-feature"] == FEATURES
    assert inputs["nv-header"] == "inputs (4)"
    assert [shown(g)["nv-class"] for g in neurons(root, 1).values()] == CLASSES


def test_every_number_is_the_engines_and_the_lectures(iris):
    """Each neuron's a, h, dL/da and dL/dh, each input's x and z, each edge's w and
    dL/dw, the outputs' p and y and the loss: the engine's Values, printed, and the
    closed forms  dL/do = softmax(o) - onehot(y),  dL/dW2 = outer(dL/do, h),
    dL/dh = W2ᵀ dL/do,  dL/da = dL/dh ⊙ 1[a > 0],  dL/dW1 = outer(dL/da, z)."""
    model, X, y = iris
    x, target = X[60], int(y[60])
    root = parse(draw_network(model, x, CLASSES[target]))
    run = engine_pass(model, x, target)

    for k in range(2):
        cards = neurons(root, k)
        assert sorted(cards) == list(range(len(run["h"][k])))
        for j, card in cards.items():
            texts = shown(card)
            a, h = run["a"][k][j], run["h"][k][j]
            assert texts["nv-b"] == f"b = {printed(run['layers'][k].neurons[j].b.data)}"
            assert texts["nv-a"] == f"a = {printed(a.data)}"
            assert texts["nv-h"].endswith(f" = {printed(h.data)}")
            assert texts["nv-da"] == f"dL/da = {printed(a.grad)}"
            assert texts["nv-dh"].endswith(f" = {printed(h.grad)}")
    for key, (_, _, tip) in edges(root).items():
        k, j, i = key
        w = run["layers"][k].neurons[j].w[i]
        assert f"w = {printed(w.data)} " in tip and tip.endswith(f"dL/dw = {printed(w.grad)}")
    loss = shown(groups(root, "nv-loss")[0])
    assert loss["nv-loss"] == f"L = {printed(run['L'].data)}"
    assert loss["nv-target"] == "y = versicolor"

    # the lecture's closed forms, in numpy
    W1, b1, W2, b2 = (np.array(v) for v in (
        [[w.data for w in n.w] for n in run["layers"][0].neurons],
        [n.b.data for n in run["layers"][0].neurons],
        [[w.data for w in n.w] for n in run["layers"][1].neurons],
        [n.b.data for n in run["layers"][1].neurons]))
    z = (x - np.array(model.preprocess.mean)) / np.array(model.preprocess.scale)
    a1 = W1 @ z + b1
    h = np.maximum(a1, 0)
    o = W2 @ h + b2
    p = np.exp(o - o.max()) / np.exp(o - o.max()).sum()
    dL_do = p - np.eye(3)[target]
    dL_dh = W2.T @ dL_do
    dL_da1 = dL_dh * (a1 > 0)
    dL_dW = [np.outer(dL_da1, z), np.outer(dL_do, h)]
    hidden, outputs = neurons(root, 0), neurons(root, 1)
    for j, card in hidden.items():
        texts = shown(card)
        assert agrees(number(texts["nv-a"]), a1[j]) and agrees(number(texts["nv-h"]), h[j])
        assert agrees(number(texts["nv-dh"]), dL_dh[j])
        assert agrees(number(texts["nv-da"]), dL_da1[j])
    for j, card in outputs.items():
        texts = shown(card)
        assert texts["nv-dh"].startswith("dL/do = ")
        assert agrees(number(texts["nv-h"]), o[j]) and agrees(number(texts["nv-p"]), p[j])
        assert texts["nv-y"] == f"y = {int(j == target)}"
        assert agrees(number(texts["nv-dh"]), dL_do[j])  # softmax(o) - onehot(y)
        assert agrees(number(texts["nv-da"]), dL_do[j])  # linear outputs: a = o
    for (k, j, i), (_, _, tip) in edges(root).items():
        assert agrees(re.search(r"dL/dw = (\S+)", tip)[1], dL_dW[k][j, i])
    assert agrees(number(loss["nv-loss"]), -math.log(p[target]))
    for i, card in enumerate(groups(columns(root)[0], "nv-input")):
        texts = shown(card)
        assert texts["nv-x"] == f"x = {printed(x[i])}" and agrees(number(texts["nv-z"]), z[i])


def test_the_models_gradients_are_left_as_they_were(iris):
    model, X, _ = iris
    for i, p in enumerate(model.parameters()):
        p.grad = 0.25 * i
    draw_network(model, X[0], 0)
    assert [p.grad for p in model.parameters()] == [0.25 * i for i in
                                                      range(len(model.parameters()))]


@pytest.mark.parametrize("activation, act, derivative", [
    ("tanh", np.tanh, lambda a, h: 1 - h ** 2),
    ("sigmoid", lambda a: 1 / (1 + np.exp(-a)), lambda a, h: h * (1 - h)),
    ("linear", lambda a: a, lambda a, h: np.ones_like(a)),
    ("relu", lambda a: np.maximum(a, 0), lambda a, h: (a > 0) * 1.0),
])
def test_other_activations_show_the_engines_numbers(activation, act, derivative):
    """A 2-3-2 net: dL/da = dL/dh ⊙ act'(a) for each hidden activation."""
    model = nn.MLP(2, [3, 2], activation=activation, seed=1)
    x, target = [0.5, -1.0], 1
    root = parse(draw_network(model, x, target))
    run = engine_pass(model, x, target)
    hidden = neurons(root, 0)
    assert {g.get("data-activation") for g in hidden.values()} == {activation}
    W1 = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])
    b1 = np.array([n.b.data for n in model.layers[0].neurons])
    a = W1 @ np.array(x) + b1
    h = act(a)
    for j, card in hidden.items():
        texts = shown(card)
        assert texts["nv-a"] == f"a = {printed(run['a'][0][j].data)}"
        assert texts["nv-h"] == f"h = {printed(run['h'][0][j].data)}"
        assert texts["nv-da"] == f"dL/da = {printed(run['a'][0][j].grad)}"
        assert texts["nv-dh"] == f"dL/dh = {printed(run['h'][0][j].grad)}"
        assert agrees(number(texts["nv-h"]), h[j])
        dh = run["h"][0][j].grad
        assert agrees(number(texts["nv-da"]), dh * derivative(a, h)[j])


def test_another_loss_and_a_tanh_output():
    model = nn.MLP(3, [4, 1], activation="sigmoid", output_activation="tanh", seed=2)
    x = [1.0, -0.5, 2.0]
    root = parse(draw_network(model, x, 0.5, loss="mse"))
    run = engine_pass(model, x, 0.5, loss=nn.mse_loss)
    (card,) = neurons(root, 1).values()
    texts = shown(card)
    assert texts["nv-h"] == f"o = {printed(run['h'][1][0].data)}"
    assert texts["nv-dh"] == f"dL/do = {printed(run['h'][1][0].grad)}"
    assert agrees(number(texts["nv-dh"]), 2 * (run["h"][1][0].data - 0.5))  # d/do (o - y)²
    assert "nv-p" not in texts
    assert shown(groups(root, "nv-loss")[0])["nv-loss"] == f"L = {printed(run['L'].data)}"


# -- what is shown without x, or without a target -------------------------------------


def test_without_x_only_the_weights(iris):
    model, _, _ = iris
    view = draw_network(model)
    root = parse(view)
    assert [c.get("data-kind") for c in columns(root)] == ["inputs", "layer", "layer"]
    for k in range(2):
        for j, card in neurons(root, k).items():
            texts = shown(card)
            bias = model.network.layers[k].neurons[j].b.data
            assert texts["nv-b"] == f"b = {printed(bias)}"
            assert not {"nv-a", "nv-h", "nv-da", "nv-dh", "nv-p"} & set(texts)
    assert not any("dL/dw" in tip for _, _, tip in edges(root).values())
    assert len(edges(root)) == 4 * 16 + 16 * 3
    assert view.title.startswith("weights only")


def test_with_x_only_no_gradients(iris):
    model, X, _ = iris
    view = draw_network(model, X[0])
    root = parse(view)
    assert [c.get("data-kind") for c in columns(root)][-1] == "layer"  # no loss column
    run = engine_pass(model, X[0])
    for k in range(2):
        for j, card in neurons(root, k).items():
            texts = shown(card)
            assert texts["nv-a"] == f"a = {printed(run['a'][k][j].data)}"
            assert not {"nv-da", "nv-dh", "nv-y"} & set(texts)
    assert not any("dL/dw" in tip for _, _, tip in edges(root).values())
    assert "predicted setosa" in view.title and "pass a target" in view.title


def test_deeper_networks_name_each_layer_in_the_formulas():
    model = nn.MLP(3, [5, 4, 2], activation="tanh", seed=3)
    x = [0.2, -0.7, 1.5]
    root = parse(draw_network(model, x, 0))
    run = engine_pass(model, x, 0)
    assert [shown(c).get("nv-formula") for c in columns(root)] == [
        "x", "h1 = tanh(W1 · x + b1)", "h2 = tanh(W2 · h1 + b2)", "o = W3 · h2 + b3",
        "L = -log softmax(o)_y"]
    for k, vector in enumerate(["h1", "h2", "o"]):
        for j, card in neurons(root, k).items():
            texts = shown(card)
            assert texts["nv-h"] == f"{vector[0]} = {printed(run['h'][k][j].data)}"
            assert texts["nv-dh"] == f"dL/d{vector[0]} = {printed(run['h'][k][j].grad)}"
            assert texts["nv-name"] == (f"{vector}.{j + 1}" if k < 2 else f"o{j + 1}")


def test_names_are_shown_as_text():
    hostile = ["<script>alert(1)</script>", "a & b"]
    model = nn.Classifier(nn.MLP(2, [2], seed=0), hostile, features=['x"1', "</svg>"])
    root = parse(draw_network(model, [1.0, 2.0], hostile[0]))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert hostile[0] in texts and hostile[1] in texts and 'x"1' in texts
    assert "</svg>" in texts and f"y = {hostile[0]}" in texts


def test_a_single_layer():
    layer = nn.Layer(3, 2, activation="tanh", seed=0)
    root = parse(draw_network(layer, [1.0, 2.0, 3.0]))
    assert [c.get("data-kind") for c in columns(root)] == ["inputs", "layer"]
    run = engine_pass(layer, [1.0, 2.0, 3.0])
    assert [shown(g)["nv-h"] for g in neurons(root, 0).values()] == [
        f"o = {printed(h.data)}" for h in run["h"][0]]


# -- edges ----------------------------------------------------------------------------


def test_edges_are_coloured_by_sign_and_grow_with_the_weight(iris):
    model, X, _ = iris
    drawn = edges(parse(draw_network(model, X[0], 0)))
    layers = model.network.layers
    assert len(drawn) == 4 * 16 + 16 * 3
    widths = []
    for (k, j, i), (colour, width, tip) in drawn.items():
        w = layers[k].neurons[j].w[i].data
        assert colour == (POSITIVE if w > 0 else NEGATIVE)
        assert f"w = {printed(w)} " in tip
        widths.append((abs(w), width))
    widths.sort()
    assert [width for _, width in widths] == sorted(width for _, width in widths)
    assert widths[-1][1] >= 4 * widths[0][1]  # the largest stand out
    assert widths[0][1] >= 0.5  # the smallest are still visible


def test_a_wide_model_draws_an_ellipsis(digits_model):
    model, x, target = digits_model
    view = draw_network(model, x, target)
    root = parse(view)
    inputs, hidden, _, _ = columns(root)
    (more,) = groups(inputs, "nv-ellipsis")
    assert more.get("data-hidden") == "52" and "52 more inputs" in shown(more)["nv-hidden"]
    assert len(groups(inputs, "nv-input")) == 12
    drawn_inputs = {int(g.get("data-index")) for g in groups(inputs, "nv-input")}
    assert drawn_inputs == {*range(6), *range(58, 64)}
    (more,) = groups(hidden, "nv-ellipsis")
    assert more.get("data-hidden") == "20"
    drawn_hidden = set(neurons(root, 0))
    assert len(drawn_hidden) == 12 and len(neurons(root, 1)) == 10
    # edges join drawn neurons only
    lines = edges(root)
    assert len(lines) == 12 * 12 + 12 * 10
    assert all(i in drawn_inputs for k, _, i in lines if k == 0)
    assert all(j in drawn_hidden for k, j, _ in lines if k == 0)
    assert all(i in drawn_hidden for k, _, i in lines if k == 1)
    assert "first and last 6 drawn, edges only between drawn neurons" in shown(root)[
        "nv-subtitle"]
    assert "(64 values)" in view.title


# -- geometry: nothing clipped, nothing on top of anything else -------------------------


def text_boxes(root):
    """Each <text>'s estimated box: 0.6 em a character (a monospace font's advance),
    from 0.8 em above the baseline to 0.25 em below it."""
    boxes = []
    for t in root.iter(f"{SVG}text"):
        size = float(t.get("font-size"))
        width = 0.6 * size * len(t.text)
        x, y = float(t.get("x")), float(t.get("y"))
        left = {"start": x, "middle": x - width / 2, "end": x - width}[t.get("text-anchor")]
        boxes.append((left, y - 0.8 * size, left + width, y + 0.25 * size, t.text))
    return boxes


def views(iris, digits_model):
    model, X, y = iris
    yield draw_network(model, X[60], int(y[60]))
    yield draw_network(model)
    yield draw_network(model, X[60])
    yield draw_network(model, X[60], 1, width=1800)
    yield draw_network(model, X[60], 1, width=500)
    for activation in ("tanh", "sigmoid", "linear"):
        yield draw_network(nn.MLP(2, [3, 2], activation=activation, seed=1), [0.5, -1.0], 1)
    yield draw_network(*digits_model)


def test_no_text_leaves_the_picture_or_overlaps_another(iris, digits_model):
    for view in views(iris, digits_model):
        root = parse(view)
        _, _, width, height = map(float, root.get("viewBox").split())
        assert (width, height) == (view.width, view.height)
        boxes = text_boxes(root)
        for left, top, right, bottom, text in boxes:
            assert left >= 0 and right <= width and top >= 0 and bottom <= height, text
        boxes.sort()
        for n, (_, top, right, bottom, text) in enumerate(boxes):
            for other in boxes[n + 1:]:
                if other[0] >= right:
                    break
                assert other[1] >= bottom or other[3] <= top, (text, other[4])


def test_the_svg_scales_and_saves(iris, tmp_path):
    model, X, _ = iris
    view = draw_network(model, X[0], 0)
    root = parse(view)
    assert root.get("width") == "100%" and "height: auto" in root.get("style")
    assert f"max-width: {view.width}px" in root.get("style")
    assert view._repr_svg_() == view.svg
    assert root.find(f"{SVG}title").text == view.title
    svg = view.write(tmp_path / "net.svg")
    assert ET.parse(svg).getroot().get("viewBox") == root.get("viewBox")
    page = view.write(tmp_path / "net.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and view.svg in page
    assert "src=" not in page and "href=" not in page  # nothing to fetch
    wide = parse(draw_network(model, X[0], 0, width=1800))
    assert "max-width: 1800px" in wide.get("style")
    assert float(wide.get("viewBox").split()[2]) == 1800
    with pytest.raises(ValueError, match=r"name a \.svg or an \.html file"):
        view.write(tmp_path / "net.png")


def test_mistakes_are_explained(iris):
    model, X, _ = iris
    with pytest.raises(TypeError, match=r"draws an nn\.MLP, an nn\.Layer.*draw_dot"):
        draw_network(nn.Neuron(3))
    with pytest.raises(ValueError, match="a target needs a sample x"):
        draw_network(model, target=1)
    with pytest.raises(ValueError, match="unknown class 'rose'"):
        draw_network(model, X[0], "rose")
    with pytest.raises(ValueError, match="out of range for 3 classes"):
        draw_network(model, X[0], 3)
    with pytest.raises(ValueError, match="unknown loss"):
        draw_network(model, X[0], 0, loss="cross-entropy")
    with pytest.raises(ValueError, match="expects 4"):
        draw_network(model, X[0][:3])
    with pytest.raises(ValueError, match="width must be a positive number"):
        draw_network(model, width=0)


# -- in a browser -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    yield from chromium("the network view's browser test", window=None, hide_scrollbars=True)


def test_the_page_fits_1280_pixels_in_a_browser(iris, digits_model, browser, tmp_path):
    """No horizontal scrolling at 1280 px, and every text's real box (the browser's
    fonts) inside the viewBox; a screenshot of each page."""
    model, X, y = iris
    folder = Path(os.environ.get("CHAINRULE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, view in (("network-iris", draw_network(model, X[60], int(y[60]))),
                       ("network-digits", draw_network(*digits_model))):
        browser.set_window_size(1280, 800)
        browser.get(view.write(tmp_path / f"{name}.html").as_uri())
        page = browser.execute_script("""
            var svg = document.querySelector('svg.chainrule-network');
            var box = svg.viewBox.baseVal, outside = [];
            svg.querySelectorAll('text').forEach(function (t) {
                var b = t.getBBox();
                if (b.x < box.x || b.y < box.y || b.x + b.width > box.x + box.width
                        || b.y + b.height > box.y + box.height)
                    outside.push(t.textContent);
            });
            return {inner: window.innerWidth, outside: outside,
                    scroll: document.documentElement.scrollWidth,
                    shown: svg.getBoundingClientRect().width,
                    texts: svg.querySelectorAll('text').length};
        """)
        assert page["inner"] <= 1280 and page["scroll"] <= 1280, page
        assert page["shown"] > 1000  # it fills the width instead of shrinking away
        assert page["texts"] > 50 and page["outside"] == []
        screenshot = folder / f"{name}.png"
        browser.save_screenshot(str(screenshot))
        assert screenshot.stat().st_size > 10_000
