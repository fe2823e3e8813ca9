"""explore_network: backprop layer by layer, read back from its page.

Every step's tables are parsed from the page's HTML -- the numbers a reader sees -- and
checked as a specification: each is the engine's own number (the model's Values run
here independently, layer by layer, then ``loss.backward()``), printed, and the
lecture's closed forms in numpy agree to the printed precision:

    dL/do = p - onehot(y);  dL/dW2 = dL/do · hᵀ;  dL/db2 = dL/do;  dL/dh = W2ᵀ dL/do;
    dL/da = dL/dh ⊙ 1[a > 0];  dL/dW1 = dL/da · zᵀ;  dL/db1 = dL/da.

Each neuron's own chain-rule graph (c · h_j, c = dL/dh_j from the full pass) gives its
weights and bias exactly the full pass's gradients. A real browser then steps through
the page at 1280 × 800 and opens a neuron's explorer.
"""

import json
import math
import os
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from browser_support import chromium

import nn
from autograd import Value, explore, softmax
from autograd.graph import local_derivatives
from nn.data import load_digits, load_iris
from nn.network_explorer import PAGE_BUDGET, NetworkExplorer, explore_network

CLASSES = ["setosa", "versicolor", "virginica"]
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
PRECISION = 4


# -- reading the page -------------------------------------------------------------------


class _Reader(HTMLParser):
    """Each step's section: its attributes, title, formula, notes and every number cell
    as {table name: {(row, column): printed text}} (a small cell's number is in its
    title); and the JSON of the neurons' graphs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.steps = []
        self.tables = []  # the enclosing tables' names
        self.cell = None
        self.text = None  # (step key, text so far) while in a title, formula or note
        self.data = None
        self.in_data = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        css = a.get("class", "").split()
        if tag == "section" and "ne-step" in css:
            self.steps.append({"attrs": a, "tables": {}, "notes": [], "title": "",
                               "formula": ""})
        elif tag == "table":
            self.tables.append(a["data-t"])
        elif tag == "td" and "ne-v" in css:
            name = a.get("data-t") or self.tables[-1]
            self.cell = [name, int(a["data-r"]), int(a["data-c"]), a["title"], ""]
        elif tag == "div" and "ne-step-title" in css:
            self.text = ["title", ""]
        elif tag == "p" and css and css[0] in ("ne-formula", "ne-note"):
            self.text = [css[0], ""]
        elif tag == "script" and "ne-data" in css:
            self.in_data = True
            self.data = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.tables.pop()
        elif tag == "td" and self.cell is not None:
            name, r, c, title, text = self.cell
            printed = text or title.rsplit(" = ", 1)[1]
            assert title.endswith(f" = {printed}"), (title, text)  # hover says the same
            self.steps[-1]["tables"].setdefault(name, {})[(r, c)] = printed
            self.cell = None
        elif tag in ("div", "p") and self.text is not None:
            key, text = self.text
            if key == "ne-note":
                self.steps[-1]["notes"].append(text)
            else:
                self.steps[-1][key.removeprefix("ne-")] = text
            self.text = None
        elif tag == "script":
            self.in_data = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[4] += data
        if self.text is not None:
            self.text[1] += data
        if self.in_data:
            self.data += data


def read(page):
    reader = _Reader()
    reader.feed(page.html())
    reader.close()
    return reader.steps, json.loads(reader.data)


def printed(value):
    text = f"{value:.{PRECISION}g}"
    return "0" if text == "-0" else text


def agrees(text, expected):
    """A number printed with PRECISION significant digits is ``expected``, rounded."""
    return abs(float(text) - expected) <= (0.5 * 10 ** (1 - PRECISION) * abs(expected) * 1.001
                                           + 1e-12)


def grid(cells):
    """The cells of one table as a 2-d array of their printed texts."""
    rows = 1 + max(r for r, _ in cells)
    cols = 1 + max(c for _, c in cells)
    assert len(cells) == rows * cols
    return np.array([[cells[r, c] for c in range(cols)] for r in range(rows)], dtype=object)


def check(shown, engine, closed_form=None):
    """Every printed cell is the engine's number printed; the closed form agrees."""
    engine = np.atleast_2d(np.asarray(engine, dtype=float))
    if engine.shape[0] == 1 and shown.shape[1] == 1:
        engine = engine.T  # a vector shown as a column
    assert shown.shape == engine.shape
    for (r, c), text in np.ndenumerate(shown):
        assert text == printed(engine[r, c]), (r, c, text, engine[r, c])
    if closed_form is not None:
        closed_form = np.asarray(closed_form, dtype=float).reshape(engine.shape)
        for (r, c), text in np.ndenumerate(shown):
            assert agrees(text, closed_form[r, c]), (r, c, text, closed_form[r, c])


# -- the engine's own numbers, layer by layer -----------------------------------------


def engine_pass(model, x, target, loss=nn.cross_entropy):
    """The layers called one after another on Values (standardized first for a
    Classifier), then the loss's backward pass on zeroed gradients: per layer its input
    data, W, b, the Values a and h, act'(a) from the op table, and W's and b's grads."""
    network = model.network if isinstance(model, nn.Classifier) else model
    layers = network.layers if isinstance(network, nn.MLP) else [network]
    raw = [Value(float(v)) for v in x]
    inputs = raw
    if isinstance(model, nn.Classifier) and model.preprocess is not None:
        inputs = model.preprocess(raw)
    run = {"x": np.array(x, dtype=float), "z": np.array([v.data for v in inputs]),
           "layers": layers, "v": [], "a": [], "h": [], "slope": []}
    for layer in layers:
        run["v"].append(np.array([v.data for v in inputs]))
        outputs = list(layer(inputs))
        a = [o if n.activation == "linear" else o.parents[0]
             for o, n in zip(outputs, layer.neurons)]
        run["a"].append(a)
        run["h"].append(outputs)
        run["slope"].append(np.array([1.0 if o is p else local_derivatives(o)[0]
                                      for o, p in zip(outputs, a)]))
        inputs = outputs
    saved = [p.grad for p in model.parameters()]
    model.zero_grad()
    run["L"] = loss(run["h"][-1], target)
    run["L"].backward()
    run["W"] = [np.array([[w.data for w in n.w] for n in layer.neurons]) for layer in layers]
    run["b"] = [np.array([n.b.data for n in layer.neurons]) for layer in layers]
    run["dW"] = [np.array([[w.grad for w in n.w] for n in layer.neurons]) for layer in layers]
    run["db"] = [np.array([n.b.grad for n in layer.neurons]) for layer in layers]
    for p, g in zip(model.parameters(), saved):
        p.grad = g
    run["data"] = {key: [np.array([v.data for v in row]) for row in run[key]]
                   for key in ("a", "h")}
    run["grad"] = {key: [np.array([v.grad for v in row]) for row in run[key]]
                   for key in ("a", "h")}
    return run


@pytest.fixture(scope="module")
def iris():
    """Iris 4-16-3 after a few epochs, and the sample the tests follow."""
    X, y = load_iris()
    model = nn.Classifier(nn.MLP(4, [16, 3], seed=0), CLASSES, nn.Standardize.fit(X),
                          features=FEATURES)
    nn.fit(model, X, y, epochs=3, progress=False, seed=0)
    return model, X[60], int(y[60])


@pytest.fixture(scope="module")
def iris_page(iris):
    model, x, target = iris
    return explore_network(model, x, CLASSES[target])


# -- the steps ---------------------------------------------------------------------------


def test_the_steps_are_the_lectures_formulas(iris_page):
    steps, _ = read(iris_page)
    assert [s.formula for s in iris_page.steps] == [s["formula"] for s in steps] == [
        "z = (x − mean) / std",
        "a = W1 · z + b1,   h = relu(a)",
        "o = W2 · h + b2",
        "p = softmax(o),   L = −log p_y",
        "dL/do = p − onehot(y)",
        "dL/dW2 = dL/do · hᵀ",
        "dL/db2 = dL/do",
        "dL/dh = W2ᵀ · dL/do",
        "dL/da = dL/dh ⊙ relu′(a) = 1[a > 0]",
        "dL/dW1 = dL/da · zᵀ",
        "dL/db1 = dL/da",
    ]
    assert [s["attrs"]["data-phase"] for s in steps] == ["forward"] * 4 + ["backward"] * 7
    # what each step lights in the network: column 0 the inputs, k + 1 layer k, 3 the loss
    assert [s["attrs"]["data-columns"] for s in steps] == [
        "0", "0 1", "1 2", "2 3", "2 3", "1 2", "2", "1 2", "1", "0 1", "1"]
    assert [s["attrs"]["data-edges"] for s in steps] == [
        "", "0", "1", "", "", "1", "", "1", "", "0", ""]
    assert [s.label for s in iris_page.steps] == [
        "standardize", "layer 1", "outputs", "softmax, L", "dL/do", "dL/dW2", "dL/db2",
        "dL/dh", "relu′", "dL/dW1", "dL/db1"]


def test_every_number_is_the_engines_and_the_lectures(iris, iris_page):
    """Every cell of every step: the engine's number printed, and the closed form."""
    model, x, target = iris
    steps, _ = read(iris_page)
    run = engine_pass(model, x, target)
    (W1, W2), (b1, b2) = run["W"], run["b"]
    a, h, o = run["data"]["a"][0], run["data"]["h"][0], run["data"]["h"][1]
    da, dh, do = run["grad"]["a"][0], run["grad"]["h"][0], run["grad"]["h"][1]
    p_engine = [v.data for v in softmax(run["h"][1])]
    onehot = np.eye(3)[target]

    # the closed forms, in numpy
    mean, std = np.array(model.preprocess.mean), np.array(model.preprocess.scale)
    z_ = (x - mean) / std
    a_ = W1 @ z_ + b1
    h_ = np.maximum(a_, 0)
    o_ = W2 @ h_ + b2
    p_ = np.exp(o_ - o_.max()) / np.exp(o_ - o_.max()).sum()
    do_ = p_ - onehot
    dh_ = W2.T @ do_
    da_ = dh_ * (a_ > 0)

    expected = [
        {"x": (x, x), "mean": (mean, mean), "std": (std, std), "z": (run["z"], z_)},
        {"W1": (W1, W1), "z": (run["z"], z_), "b1": (b1, b1), "a": (a, a_), "h": (h, h_)},
        {"W2": (W2, W2), "h": (h, h_), "b2": (b2, b2), "o": (o, o_)},
        {"o": (o, o_), "p": (p_engine, p_), "onehot(y)": (onehot, onehot)},
        {"p": (p_engine, p_), "onehot(y)": (onehot, onehot), "dL/do": (do, do_)},
        {"dL/do": (do, do_), "hᵀ": (h, h_), "dL/dW2": (run["dW"][1], np.outer(do_, h_))},
        {"dL/db2": (run["db"][1], do_), "dL/do": (do, do_)},
        {"W2ᵀ": (W2.T, W2.T), "dL/do": (do, do_), "dL/dh": (dh, dh_)},
        {"dL/dh": (dh, dh_), "1[a > 0]": (run["slope"][0], a_ > 0), "dL/da": (da, da_),
         "a": (a, a_)},
        {"dL/da": (da, da_), "zᵀ": (run["z"], z_), "dL/dW1": (run["dW"][0], np.outer(da_, z_))},
        {"dL/db1": (run["db"][0], da_), "dL/da": (da, da_)},
    ]
    assert len(steps) == len(expected)
    cells = 0
    for step, tables in zip(steps, expected):
        assert set(step["tables"]) == set(tables), step["formula"]
        for name, (engine, closed_form) in tables.items():
            shown = grid(step["tables"][name])
            check(shown, engine, closed_form)
            cells += shown.size
    assert cells == sum([4 * 4,  # x, mean, std, z
                         64 + 4 + 3 * 16,  # W1 · z + b1 = a, h
                         48 + 16 + 2 * 3,  # W2 · h + b2 = o
                         3 * 3, 3 * 3,  # o, p, onehot; p - onehot = dL/do
                         3 + 16 + 48,  # dL/do · hᵀ = dL/dW2
                         2 * 3,  # dL/db2 = dL/do
                         48 + 3 + 16,  # W2ᵀ · dL/do = dL/dh
                         4 * 16,  # dL/dh ⊙ 1[a > 0] = dL/da, a
                         16 + 4 + 64,  # dL/da · zᵀ = dL/dW1
                         2 * 16])  # dL/db1 = dL/da
    # the mask is 0/1, the onehot's 1 is the target
    assert set(steps[8]["tables"]["1[a > 0]"].values()) <= {"0", "1"}
    assert grid(steps[3]["tables"]["onehot(y)"])[:, 0].tolist() == [
        str(int(j == target)) for j in range(3)]
    # and the loss, in the words of the softmax step
    p_y = p_engine[target]
    assert f"L = −log p_y = −log {printed(p_y)} = {printed(run['L'].data)}" in steps[3]["notes"]
    assert agrees(printed(run["L"].data), -math.log(p_[target]))


def test_dL_dW_from_the_outer_product_is_each_weights_grad(iris, iris_page):
    """outer(dL/da, v) -- the formula -- equals every weight Value's .grad exactly (each
    w_i's grad is one product, grad(a) × v_i), and the page's tables are those grads."""
    model, x, target = iris
    run = engine_pass(model, x, target)
    for k, layer in enumerate(run["layers"]):
        outer = np.outer(run["grad"]["a"][k], run["v"][k])
        assert outer.shape == (layer.nout, layer.nin)
        assert np.array_equal(outer, run["dW"][k])  # run["dW"][k][j, i]: w_ji's .grad
        step = next(s for s in iris_page.steps if s.formula.startswith(f"dL/dW{k + 1} ="))
        assert np.array_equal(step.tables()[f"dL/dW{k + 1}"].values, run["dW"][k])
        assert np.array_equal(step.tables()[f"dL/dW{k + 1}"].values, outer)


def test_the_models_gradients_are_left_as_they_were(iris):
    model, x, target = iris
    for i, p in enumerate(model.parameters()):
        p.grad = 0.5 * i
    explore_network(model, x, target)
    assert [p.grad for p in model.parameters()] == [0.5 * i for i in
                                                      range(len(model.parameters()))]
    model.zero_grad()


@pytest.mark.parametrize("activation, derivative, name", [
    ("tanh", lambda a, h: 1 - h ** 2, "1 − h{k}²"),
    ("sigmoid", lambda a, h: h * (1 - h), "h{k} (1 − h{k})"),
    ("linear", lambda a, h: np.ones_like(a), "1"),
    ("relu", lambda a, h: (a > 0) * 1.0, "1[a{k} > 0]"),
])
def test_deeper_networks_and_other_activations(activation, derivative, name):
    """A 3-5-4-2 net: per layer a = W v + b, h = act(a); backward dL/da = dL/dh ⊙
    act'(a) with act' read from the engine's op table and checked in closed form."""
    model = nn.MLP(3, [5, 4, 2], activation=activation, seed=3)
    x, target = [0.2, -0.7, 1.5], 1
    page = explore_network(model, x, target)
    steps, _ = read(page)
    run = engine_pass(model, x, target)
    assert [s["formula"] for s in steps] == [
        f"a1 = W1 · x + b1,   h1 = {activation}(a1)",
        f"a2 = W2 · h1 + b2,   h2 = {activation}(a2)",
        "o = W3 · h2 + b3", "p = softmax(o),   L = −log p_y", "dL/do = p − onehot(y)",
        "dL/dW3 = dL/do · h2ᵀ", "dL/db3 = dL/do", "dL/dh2 = W3ᵀ · dL/do",
        f"dL/da2 = dL/dh2 ⊙ {activation}′(a2) = {name.format(k=2)}",
        "dL/dW2 = dL/da2 · h1ᵀ", "dL/db2 = dL/da2", "dL/dh1 = W2ᵀ · dL/da2",
        f"dL/da1 = dL/dh1 ⊙ {activation}′(a1) = {name.format(k=1)}",
        "dL/dW1 = dL/da1 · xᵀ", "dL/db1 = dL/da1"]
    for k, index in ((1, 8), (0, 12)):
        tables = steps[index]["tables"]
        a, h = run["data"]["a"][k], run["data"]["h"][k]
        slope = tables[name.format(k=k + 1)]
        check(grid(slope), run["slope"][k], derivative(a, h))
        check(grid(tables[f"dL/da{k + 1}"]), run["grad"]["a"][k],
              run["grad"]["h"][k] * derivative(a, h))
        check(grid(tables[f"dL/dh{k + 1}"]), run["grad"]["h"][k])
    for k in range(3):  # the forward steps
        tables = steps[k]["tables"]
        check(grid(tables[f"W{k + 1}"]), run["W"][k])
        vector = "o" if k == 2 else f"a{k + 1}"
        check(grid(tables[vector]), run["data"]["a"][k],
              run["W"][k] @ run["v"][k] + run["b"][k])


def test_another_loss_and_a_single_layer():
    """mse on a tanh Layer: dL/do is the loss's own backward, 2 (o - y) / n; the output
    layer's tanh gets its derivative step."""
    layer = nn.Layer(3, 2, activation="tanh", seed=0)
    x, y = [1.0, -0.5, 2.0], [0.5, -0.25]
    page = explore_network(layer, x, y, loss="mse")
    steps, _ = read(page)
    run = engine_pass(layer, x, y, loss=nn.mse_loss)
    assert [s["formula"] for s in steps] == [
        "a = W1 · x + b1,   o = tanh(a)", "L = mse(o, y)", "dL/do = ∂mse/∂o",
        "dL/da = dL/do ⊙ tanh′(a) = 1 − o²", "dL/dW1 = dL/da · xᵀ", "dL/db1 = dL/da"]
    o = run["data"]["h"][0]
    check(grid(steps[2]["tables"]["dL/do"]), run["grad"]["h"][0], 2 * (o - np.array(y)) / 2)
    check(grid(steps[1]["tables"]["y"]), y)
    check(grid(steps[3]["tables"]["1 − o²"]), run["slope"][0], 1 - o ** 2)
    check(grid(steps[4]["tables"]["dL/dW1"]), run["dW"][0],
          np.outer(run["grad"]["a"][0], x))


def test_mistakes_are_explained(iris):
    model, x, _ = iris
    with pytest.raises(ValueError, match="needs a sample x and its target"):
        explore_network(model, x, None)
    with pytest.raises(TypeError, match=r"draws an nn\.MLP"):
        explore_network(nn.Neuron(3), [1.0, 2.0, 3.0], 0)
    with pytest.raises(ValueError, match="unknown class 'rose'"):
        explore_network(model, x, "rose")
    with pytest.raises(ValueError, match="page_budget must be a number of bytes"):
        explore_network(model, x, 0, page_budget=-1)


# -- each neuron alone --------------------------------------------------------------------


def panels(page):
    """{node name: {row name: text}} of an explorer page's node panels."""
    data = re.search(r'<script type="application/json" class="cre-data">(.*?)</script>',
                     page, re.S)[1]
    return {panel["title"]: dict(panel["rows"])
            for panel in json.loads(data)["panels"].values()}


@pytest.mark.needs_dot
def test_each_neurons_graph_gives_the_full_passs_gradients(iris, iris_page):
    """c · h_j with c = dL/dh_j from above: backpropagated, the neuron's w and b get
    exactly the full pass's gradients -- in the engine, in an explorer at full
    precision, and printed in the explorer embedded in the page."""
    model, x, target = iris
    run = engine_pass(model, x, target)
    _, data = read(iris_page)
    assert set(iris_page.neurons) == {f"n-0-{j}" for j in range(16)} | {"n-1-0", "n-1-1",
                                                                        "n-1-2"}
    saved = [p.grad for p in model.parameters()]
    for element, graph in iris_page.neurons.items():
        k, j = graph.layer, graph.index
        neuron = run["layers"][k].neurons[j]
        assert graph.upstream == run["h"][k][j].grad
        assert graph.parameters == [*neuron.w, neuron.b]
        expected = [*run["dW"][k][j], run["db"][k][j]]
        # the engine
        model.zero_grad()
        graph.root.backward()
        assert [p.grad for p in graph.parameters] == expected
        # an explorer of the same graph, at full precision
        full = panels(explore(graph.root, names=graph.names, parameters=graph.parameters,
                              precision=17).html())
        names = [graph.names[p] for p in graph.parameters]
        assert [float(full[n]["grad"].split()[0]) for n in names] == expected
        # the page's own explorer, as printed there
        entry = data["neurons"][element]
        assert entry["name"] == graph.name and entry["page"] is not None
        page = entry["page"]
        for token, text in data["assets"].items():
            page = page.replace(token, text)
        shown = panels(page)
        assert [shown[n]["grad"].split()[0] for n in names] == [printed(g) for g in expected]
        assert shown[f"dL/d{graph.name} (from above)"]["value"] == printed(graph.upstream)
        assert f"c = dL/d{graph.name} = {printed(graph.upstream)}" in graph.title
        assert entry["heading"].startswith(f"neuron {graph.name}'s own chain rule")
        assert f"c = dL/d{graph.name} = {printed(graph.upstream)}" in entry["note"]
    for p, g in zip(model.parameters(), saved):
        p.grad = g


@pytest.mark.needs_dot
def test_page_sizes_and_the_budget(iris_page):
    """Iris 4-16-3 holds every neuron's graph well under the budget; the 64-32-10
    digits model's 64-input neurons do not all fit: the first of each layer are kept
    while the page stays under it, and the page says so."""
    iris_size = len(iris_page.html().encode())
    assert iris_size < 1_200_000
    assert all(graph.page is not None for graph in iris_page.neurons.values())
    X, y = load_digits()
    model = nn.MLP(64, [32, 10], seed=0, init="he")
    digits = explore_network(model, X[0] / 16, int(y[0]))
    size = len(digits.html().encode())
    assert size <= PAGE_BUDGET
    kept = {k: [g.index for g in digits.neurons.values() if g.layer == k and g.page]
            for k in (0, 1)}
    assert len(digits.neurons) == 12 + 10  # the drawn neurons
    assert kept[0] == list(range(len(kept[0]))) and 1 <= len(kept[0]) < 12
    assert kept[1] == list(range(len(kept[1]))) and 1 <= len(kept[1]) < 10
    assert any("layer 1: the chain-rule graphs of" in note for note in digits.notes)
    missing = next(g for g in digits.neurons.values() if g.page is None)
    assert "page_budget=None" in missing.missing
    print(f"\npage sizes: iris 4-16-3 {iris_size / 1e6:.2f} MB, digits 64-32-10 "
          f"{size / 1e6:.2f} MB ({len(kept[0])} + {len(kept[1])} neuron graphs)")


def test_the_page_is_self_contained_and_shows_names_as_text():
    hostile = ["</script><b>x", "a & b"]
    model = nn.Classifier(nn.MLP(2, [3, 2], seed=0), hostile, features=['x"1', "<!--"])
    page = explore_network(model, [1.0, 2.0], hostile[0])
    text = page.html()
    assert text.startswith("<!DOCTYPE html>")
    # nothing to fetch: no address to load (the SVGs' xmlns are names, not loaded)
    assert not re.search(r'(?:src|href)\s*=\s*\\?"(?:https?:|//)|<link|@import|url\(', text)
    assert text.count("</script>") == 2  # the data's and the script's own ends
    _, data = read(page)
    assert set(data["neurons"]) == set(page.neurons)
    assert isinstance(page, NetworkExplorer)
    notebook = page._repr_html_()  # the same, keys taken only while it has the focus
    assert notebook.replace('data-standalone="0"', 'data-standalone="1"', 1) in text
    assert "<b>x" not in text.replace("&lt;b&gt;x", "")


# -- in a browser -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    yield from chromium("the network explorer's browser test", window=None,
                        viewport=(1280, 800), hide_scrollbars=True)


STATE = """
var root = document.querySelector('.chainrule-netexplorer');
var pane = root.querySelector('.ne-network').getBoundingClientRect();
var shown = Array.from(root.querySelectorAll('.ne-step')).filter(s => s.offsetParent);
var step = shown[0];
function inside(r, box) {
  return r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom;
}
var screen = {left: 0, top: 0, right: window.innerWidth, bottom: window.innerHeight};
var lit = Array.from(root.querySelectorAll('svg .nv-column.ne-lit'));
var seen = lit.filter(g => Array.from(g.querySelectorAll('.nv-neuron, .nv-input, .nv-loss'))
    .some(c => inside(c.getBoundingClientRect(), pane)
               && inside(c.getBoundingClientRect(), screen)));
var clipped = [];
step.querySelectorAll('.ne-step-title, p, figcaption, th, td').forEach(function (e) {
  if (e.scrollWidth > e.clientWidth + 1) clipped.push(e.textContent);
});
var terms = step.querySelector('.ne-terms');
var panel = root.querySelector('.ne-panel').getBoundingClientRect();
return {position: root.querySelector('.ne-position').textContent, shown: shown.length,
        index: step.getAttribute('data-step'), lit: lit.length, seen: seen.length,
        emphasis: root.querySelectorAll('svg text.ne-em').length,
        clipped: clipped,
        termsScroll: terms.scrollWidth <= terms.clientWidth
                     || getComputedStyle(terms).overflowX === 'auto',
        panelRight: panel.right, panelTop: panel.top, panelBottom: panel.bottom,
        paneTop: pane.top, paneBottom: pane.bottom,
        scroll: document.documentElement.scrollWidth, inner: window.innerWidth};
"""


def shoot(browser, name):
    folder = os.environ.get("CHAINRULE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


@pytest.mark.needs_dot
def test_the_page_steps_with_the_keys_and_opens_a_neuron(iris_page, browser, tmp_path):
    """At 1280 × 800: every step by the keyboard, each with no console error, no
    horizontal scrolling, its text unclipped and the lit layer in sight; then a hidden
    neuron's own explorer, opened by a click and closed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    started = time.monotonic()
    browser.get(iris_page.write(tmp_path / "network.html").as_uri())
    browser.get_log("browser")
    body = browser.find_element(By.TAG_NAME, "body")
    count = len(iris_page.steps)
    for k in range(count):
        if k:
            body.send_keys(Keys.ARROW_RIGHT)
        s = browser.execute_script(STATE)
        assert s["position"] == f"step {k + 1} / {count} · {iris_page.steps[k].phase}", s
        assert s["shown"] == 1 and s["index"] == str(k)
        assert s["scroll"] <= s["inner"] <= 1280, s
        assert s["clipped"] == [] and s["termsScroll"], s
        assert s["panelRight"] <= 1280 and s["panelBottom"] <= s["paneTop"] + 1 < 800, s
        assert s["lit"] >= 1 and s["seen"] >= 1, s  # the lit layer's cards are in sight
        assert s["emphasis"] >= 1
        assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
        if k in (1, 4, 5, 8):
            shoot(browser, f"netexplore-step{k + 1}")
    body.send_keys(Keys.ARROW_RIGHT)  # past the last: stays
    assert browser.execute_script(STATE)["position"].startswith(f"step {count} / {count}")
    body.send_keys(Keys.HOME)
    assert browser.execute_script(STATE)["position"].startswith(f"step 1 / {count}")
    body.send_keys(Keys.END)
    assert browser.execute_script(STATE)["position"].startswith(f"step {count} / {count}")

    # a hidden neuron's own chain rule
    neuron = browser.find_element(By.ID, "n-0-2")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", neuron)
    neuron.click()  # anywhere on its card
    overlay = browser.find_element(By.CSS_SELECTOR, ".ne-overlay")
    assert overlay.is_displayed()
    assert "neuron h3" in overlay.find_element(By.CSS_SELECTOR, ".ne-overlay-title").text
    frame = overlay.find_element(By.CSS_SELECTOR, "iframe")
    browser.switch_to.frame(frame)
    for _ in range(50):
        ready = browser.execute_script(
            "var e = document.querySelector('.chainrule-explorer[data-ready]');"
            "return e && e.querySelector('.cre-title').textContent")
        if ready:
            break
        time.sleep(0.1)
    assert ready and "neuron h3" in ready
    browser.switch_to.default_content()
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    shoot(browser, "netexplore-neuron")
    overlay.find_element(By.CSS_SELECTOR, ".ne-close").click()
    assert not overlay.is_displayed()
    # and Esc closes it too
    neuron.click()  # anywhere on its card
    assert overlay.is_displayed()
    body.send_keys(Keys.ESCAPE)
    assert not overlay.is_displayed()
    assert time.monotonic() - started < 60
