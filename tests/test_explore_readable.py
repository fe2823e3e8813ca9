"""Readable at real size (the issue of that name): draw_dot's and the explorer's SVGs
shrink to the width they are shown in, titles are whole, constants are their values,
step text names nodes from inside the module the step is in (the full dotted name on
hover), and -- in headless Chromium at 1280 x 800 -- the explorer keeps what each step
applies in view, never widens the page, clips no text, and zooms.

The browser tests skip without chromium and chromedriver, saying what to install, and
fail under CI (the CI environment variable), as tests/test_explore_browser.py does.
"""

import html
import re
import xml.etree.ElementTree as ET

import pytest
from browser_support import chromium

from autograd import Value, draw_dot, explore
from autograd.graph.draw import TITLE_WIDTH
from nn import MLP, Module, cross_entropy
from nn.data import load_iris, standardize

SVG = "{http://www.w3.org/2000/svg}"
pytestmark = pytest.mark.needs_dot  # everything here is drawn by Graphviz's dot


def tanh_neuron():
    """Notebook 1's first drawing: o = tanh(x1 w1 + x2 w2 + b)."""
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2, b = Value(-3.0, "w1"), Value(1.0, "w2"), Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, [w1, w2, b]


def network():
    """Notebook 4's 2-3-2 network and one sample's loss."""
    model = MLP(2, [3, 2], seed=0)
    loss = cross_entropy(model([0.5, -1.2]), 1)
    loss.label = "loss"
    return loss, model


def iris():
    """The issue's Iris 4-16-3 loss: one standardized flower, cross-entropy."""
    X, y = load_iris()
    X, _ = standardize(X, X)
    model = MLP(4, [16, 3], seed=0)
    return cross_entropy(model(list(X[0])), int(y[0])), model


def root_svg(text):
    """The attributes of the <svg> element."""
    return ET.fromstring(text[text.index("<svg"):]).attrib


def plain(text):
    return "".join(part if isinstance(part, str) else part[0] for part in text)


# -- without a browser ---------------------------------------------------------------


def test_draw_dots_svg_shrinks_to_the_width_it_is_shown_in(tmp_path):
    o, parameters = tanh_neuron()
    graph = draw_dot(o, parameters=parameters)
    for svg in (graph.pipe(format="svg", encoding="utf-8"),
                graph._repr_mimebundle_()["image/svg+xml"],
                graph.write(tmp_path / "neuron.svg").read_text(encoding="utf-8")):
        attributes = root_svg(svg)
        assert len(attributes["viewBox"].split()) == 4
        # never wider than its box, never enlarged: natural size, max-width 100%
        assert attributes["style"] == "max-width:100%;height:auto"
        assert attributes["width"].endswith("pt") and attributes["height"].endswith("pt")
    page = explore(o, parameters=parameters)
    assert "max-width:100%" in root_svg(page.svg)["style"] and "viewBox" in root_svg(page.svg)
    assert page.html().count("<svg") == 1


def test_a_constant_is_shown_by_its_value():
    x = Value(3.0, label="x")
    y = (x * 2.0 + 2.0) * -1.0
    y.label = "y"
    page = explore(y)
    text = " ".join(line for frame in page.frames for line in (frame.title, *frame.lines))
    assert "#" not in text
    assert "mul = x × 2 = 3 × 2 = 6" in text and "y = add × -1 = 8 × -1 = -8" in text
    # the constants' records in the picture say their values, and nothing else
    records = {}
    for element, body in re.findall(r'<g id="(v\d+)" class="node">(.*?)</g>', page.svg, re.S):
        records[element] = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>",
                                                                 body)]
    assert sorted(texts for texts in records.values() if len(texts) == 1) == [["-1"], ["2"],
                                                                            ["2"]]


def test_a_drawings_title_is_whole_and_wraps_between_words():
    o, parameters = tanh_neuron()
    for step in range(6):
        graph = draw_dot(o, step=step, parameters=parameters)
        (label,) = re.findall(r'\tfontsize=14 label="(.*?)" labelloc=t', graph.source)
        lines = label.split("\\n")
        assert all(len(line) <= TITLE_WIDTH for line in lines)
        assert " ".join(lines).startswith(f"backward step {step} of 5: ")
        svg_lines = [html.unescape(t) for t in re.findall(
            r'<text text-anchor="middle"[^>]*font-size="14.00">([^<]*)</text>',
            graph.pipe(format="svg", encoding="utf-8"))]
        assert svg_lines == lines  # every word drawn, none cut
    assert " ".join(lines) == ("backward step 5 of 5: applied mul (red): each operand's grad "
                               "+= 0.5 × the local derivative on its edge")


def test_the_collapsed_view_says_in_a_sentence_what_changes_inside_a_module():
    loss, model = iris()
    page = explore(loss, names=model)
    assert page.collapsed
    frames = {frame.title: frame.lines for frame in page.frames}
    lines = frames["backward step 6 of 21: through neuron 15 of layer 0 (layers.0.neurons.15, "
                   "Neuron (relu)), 2 operations"]
    assert lines[0].startswith("grad(x.0) += grad(dot) × w.0 = ")
    assert lines[-1] == ("6 gradients inside neuron 15 of layer 0 are updated too: dot, w.0, "
                         "w.1, w.2, w.3 and b")
    lines = frames["backward step 3 of 21: through neuron 2 of layer 1 (layers.1.neurons.2, "
                   "Neuron (linear)), 1 operation"]
    assert lines[0].startswith("grad(relu of neuron 0 of layer 0) += grad(dot) × w.0 = ")
    assert lines[-1] == ("17 gradients inside neuron 2 of layer 1 are updated too: w.0, w.1, "
                         "w.2, w.3, w.4, … and 12 more")

    class Scale(Module):
        def __init__(self):
            self.s = Value(2.0)

        def forward(self, x):
            return x * self.s

    class Two(Module):
        def __init__(self):
            self.a, self.b = Scale(), Scale()

        def forward(self, x):
            return self.a(x) + self.b(x)

    two = Two()
    out = two(Value(1.5))
    lines = [line for frame in explore(out, names=two, max_nodes=5).frames
             for line in frame.lines]
    assert "1 gradient inside b is updated too: s" in lines


def test_step_text_names_nodes_from_inside_the_step_s_module_with_the_full_name_on_hover():
    loss, model = network()
    page = explore(loss, names=model)
    assert not page.collapsed
    index = next(i for i, frame in enumerate(page.frames)
                 if frame.title.startswith("backward step 4 of 10"))
    frame = page.frames[index]
    assert frame.title == ("backward step 4 of 10, in neuron 0 of layer 1: through dot (dot = "
                           "w.0 × relu of neuron 0 of layer 0 + w.1 × relu of neuron 1 of layer 0 "
                           "+ w.2 × relu of neuron 2 of layer 0 + b), grad(dot) = 0.3603")
    assert frame.lines[0] == ("grad(w.0) += grad(dot) × relu of neuron 0 of layer 0 = 0.3603 × "
                              "0.6895 = 0.2484 (final)")
    # the page gets the names as [shown, full]: it shows the full name on hover
    line = page._data["lines"][index][0]
    assert ("w.0", "layers.1.neurons.0.w.0") in line
    assert ("relu of neuron 0 of layer 0", "layers.0.neurons.0.relu") in line
    assert plain(line) == frame.lines[0]
    assert plain(page._data["titles"][index]) == frame.title
    # outside any module (the loss), the names of the modules' nodes say where they are
    (through_loss,) = [f for f in page.frames if f.title.startswith("backward step 2 of 10")]
    assert through_loss.lines[0].startswith("grad(dot of neuron 0 of layer 1) += grad(logsumexp)")
    # the call: parameters=model names the nodes as names=model does
    assert explore(loss, parameters=model).frames[index].title == frame.title
    # a graph without a module reads as before
    o, parameters = tanh_neuron()
    assert explore(o, parameters=parameters).frames[-1].lines[0] == (
        "grad(x1) += grad(mul#2) × w1 = 0.5 × -3 = -1.5 (final)")


def test_a_networks_inputs_stand_left_of_its_first_layer_and_the_layers_side_by_side():
    loss, model = network()
    loss.backward()
    root = ET.fromstring(draw_dot(loss, names=model).pipe(format="svg"))
    boxes, texts = {}, {}
    for g in root.iter(f"{SVG}g"):
        title = g.findtext(f"{SVG}title")
        shape = g.find(f"{SVG}path") if g.get("class") == "cluster" else g.find(f"{SVG}polygon")
        points = re.findall(r"(-?[\d.]+),(-?[\d.]+)", shape.get("d") or shape.get("points")
                            if shape is not None else "")
        if points:
            xs = [float(x) for x, _ in points]
            ys = [float(y) for _, y in points]
            boxes[title] = (min(xs), min(ys), max(xs), max(ys))
        text = g.find(f"{SVG}text")
        if g.get("class") == "node" and text is not None:
            texts[text.text] = title
    layer0, layer1 = boxes["cluster_layers.0"], boxes["cluster_layers.1"]
    assert layer0[2] < layer1[0]  # side by side, left to right
    for name in ("x.0", "x.1"):
        x = boxes[texts[name]]
        weights = [boxes[f"cluster_layers.0.neurons.{i}"][0] for i in range(3)]
        assert x[2] < min(weights)  # left of every neuron of the first layer
    # and no large empty area: the layers' boxes overlap vertically by most of their height
    overlap = min(layer0[3], layer1[3]) - max(layer0[1], layer1[1])
    assert overlap > 0.6 * min(layer0[3] - layer0[1], layer1[3] - layer1[1])


# -- in headless Chromium at 1280 x 800 ----------------------------------------------

@pytest.fixture(scope="module")
def browser():
    yield from chromium("the explorer's browser tests", window=(1280, 800), viewport=(1280, 800))


def reduced_motion(browser, on):
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-reduced-motion", "value": "reduce" if on else "no-preference"}]})


def open_page(browser, path):
    browser.get(path.as_uri())
    browser.get_log("browser")
    assert browser.execute_script("return [innerWidth, innerHeight]") == [1280, 800]


def severe(browser):
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


# One frame's checks, in the page: what the step applies (the nodes marked cre-active or
# cre-computing) is inside the graph's box and the window; the page is no wider than the
# window; the step panel clips no text (all of it reachable: no horizontal overflow, and
# either it fits or it scrolls).
CHECK = """
function check(root) {
  var problems = [];
  var graph = root.querySelector('.cre-graph');
  var g = graph.getBoundingClientRect();
  var box = {left: g.left + graph.clientLeft, top: g.top + graph.clientTop};
  box.right = box.left + graph.clientWidth; box.bottom = box.top + graph.clientHeight;
  var position = root.querySelector('.cre-position').textContent;
  var marked = root.querySelectorAll('g.node.cre-active, g.node.cre-computing');
  marked.forEach(function (e) {
    var r = e.getBoundingClientRect();
    var inBox = r.right > box.left && r.left < box.right
                && r.bottom > box.top && r.top < box.bottom;
    var inWindow = r.right > 0 && r.left < innerWidth && r.bottom > 0 && r.top < innerHeight;
    if (!inBox || !inWindow) {
      problems.push(position + ': ' + e.id + ' at '
                    + [r.left, r.top, r.right, r.bottom].map(Math.round) + ' outside '
                    + [box.left, box.top, box.right, box.bottom].map(Math.round));
    }
  });
  var phase = root.classList.contains('cre-backward') ? 'backward' : 'forward';
  var first = position.split(' / ')[0] === '1';
  if (!marked.length && !first) { problems.push(position + ': nothing marked in the ' + phase); }
  if (document.documentElement.scrollWidth > innerWidth) {
    problems.push(position + ': the page is ' + document.documentElement.scrollWidth + ' px wide');
  }
  var step = root.querySelector('.cre-step');
  var scrolls = ['auto', 'scroll'].indexOf(getComputedStyle(step).overflowY) >= 0;
  if (step.scrollWidth > step.clientWidth) {
    problems.push(position + ': step text cut at the right');
  }
  if (step.scrollHeight > step.clientHeight && !scrolls) {
    problems.push(position + ': step text cut');
  }
  return problems;
}
"""

EVERY_STEP = CHECK + """
var root = document.querySelector('.chainrule-explorer');
var next = root.querySelector('.cre-next');
var count = parseInt(root.querySelector('.cre-slider').max, 10) + 1;
var problems = check(root), seen = 1;
while (root.querySelector('.cre-position').textContent !== count + ' / ' + count) {
  next.click();
  seen++;
  problems = problems.concat(check(root));
}
return {problems: problems, seen: seen, count: count};
"""


@pytest.mark.parametrize("view", ["collapsed", "every node"])
def test_every_step_of_the_iris_loss_is_in_view(browser, tmp_path, view):
    loss, model = iris()
    page = explore(loss, names=model, max_nodes=None if view == "every node" else 150)
    assert page.collapsed == (view == "collapsed")
    open_page(browser, page.write(tmp_path / "iris.html"))
    reduced_motion(browser, True)  # each step scrolls at once: the checks run right after it
    result = browser.execute_script(EVERY_STEP)
    assert result["seen"] == result["count"] == len(page.frames)
    assert result["problems"] == []
    assert severe(browser) == []


def test_the_smooth_scroll_ends_where_the_instant_one_does(browser, tmp_path):
    loss, model = iris()
    path = explore(loss, names=model).write(tmp_path / "iris.html")
    # a jump to the frame before k (at once), then one step: the step scrolls smoothly
    where = """var root = document.querySelector('.chainrule-explorer');
        var s = root.querySelector('.cre-slider'); s.value = arguments[0] - 1;
        s.dispatchEvent(new Event('input'));
        root.querySelector('.cre-next').click();"""
    ends = {}
    for reduced in (True, False):
        open_page(browser, path)
        reduced_motion(browser, reduced)
        ends[reduced] = []
        moving = []
        for k in (10, 30, 40, 25):
            browser.execute_script(where, k)
            moving.append(browser.execute_script(
                "return document.querySelector('.chainrule-explorer')"
                ".hasAttribute('data-following')"))
            browser.execute_async_script("""var done = arguments[arguments.length - 1];
                var root = document.querySelector('.chainrule-explorer');
                (function wait() { if (root.hasAttribute('data-following')) {
                    requestAnimationFrame(wait); } else { done(); } })();""")
            assert browser.execute_script(CHECK + "return check(document.querySelector("
                                          "'.chainrule-explorer'));") == []
            ends[reduced].append(browser.execute_script(
                "var g = document.querySelector('.cre-graph');"
                "return [g.scrollLeft, g.scrollTop];"))
        assert any(moving) != reduced  # smooth: it scrolls over a few frames
    assert ends[True] == ends[False]
    reduced_motion(browser, True)


def test_plus_zooms_and_zero_fits_again(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    o, parameters = tanh_neuron()
    page = explore(o, parameters=parameters)
    open_page(browser, page.write(tmp_path / "neuron.html"))
    width = """var svg = document.querySelector('.cre-graph svg');
        return [svg.getBoundingClientRect().width, document.querySelector('.cre-graph').clientWidth,
                svg.viewBox.baseVal.width * 4 / 3];"""
    fitted, box, natural = browser.execute_script(width)
    assert natural > box and abs(fitted - (box - 2)) < 1  # wider than the window: fitted
    root = browser.find_element(By.CSS_SELECTOR, ".chainrule-explorer")
    root.send_keys("+")
    zoomed = browser.execute_script(width)[0]
    assert zoomed == pytest.approx(fitted * 1.25, abs=1)
    root.send_keys("0")
    assert browser.execute_script(width)[0] == pytest.approx(fitted, abs=1)
    # the fit / 100% toggle, and the - button
    toggle = browser.find_element(By.CSS_SELECTOR, ".cre-zoom")
    assert toggle.text == "100%"
    toggle.click()
    assert browser.execute_script(width)[0] == pytest.approx(natural, abs=1)
    assert toggle.text == "fit"
    browser.find_element(By.CSS_SELECTOR, ".cre-zoom-out").click()
    assert browser.execute_script(width)[0] == pytest.approx(natural / 1.25, abs=1)
    toggle.click()
    assert browser.execute_script(width)[0] == pytest.approx(fitted, abs=1)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
    root.send_keys(Keys.ARROW_RIGHT)  # the keys still step
    assert browser.find_element(By.CSS_SELECTOR, ".cre-position").text == f"2 / {len(page.frames)}"
    assert severe(browser) == []


def test_dragging_pans_the_graph_and_is_not_a_click(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    loss, model = network()
    open_page(browser, explore(loss, names=model).write(tmp_path / "network.html"))
    graph = browser.find_element(By.CSS_SELECTOR, ".cre-graph")
    before = browser.execute_script("return arguments[0].scrollLeft", graph)
    node = browser.find_element(By.CSS_SELECTOR, "g.node[id^=v]")
    ActionChains(browser).move_to_element(node).click_and_hold().move_by_offset(-150, 0) \
        .release().perform()
    after = browser.execute_script("return arguments[0].scrollLeft", graph)
    assert after == before + 150 or after == browser.execute_script(
        "return arguments[0].scrollWidth - arguments[0].clientWidth", graph)
    assert "pinned" not in browser.find_element(By.CSS_SELECTOR, ".cre-info").text
    assert severe(browser) == []


def test_names_show_their_full_name_on_hover_and_titles_are_not_cut(browser, tmp_path):
    from selenium.webdriver.common.by import By

    loss, model = network()
    page = explore(loss, names=model)
    open_page(browser, page.write(tmp_path / "network.html"))
    index = next(i for i, f in enumerate(page.frames) if f.title.startswith("backward step 4 "))
    browser.execute_script("""var s = document.querySelector('.cre-slider'); s.value = arguments[0];
        s.dispatchEvent(new Event('input'));""", index)
    names = {span.text: span.get_attribute("title")
             for span in browser.find_elements(By.CSS_SELECTOR, ".cre-step .cre-name")}
    assert names["relu of neuron 0 of layer 0"] == "layers.0.neurons.0.relu"
    assert names["w.0"] == "layers.1.neurons.0.w.0"
    title = browser.find_element(By.CSS_SELECTOR, ".cre-step-title").text
    assert title == page.frames[index].title  # all of it, wrapped, not cut

    # every text of a drawing -- its title first -- lies inside the drawing
    o, parameters = tanh_neuron()
    inside = """var svg = document.querySelector('svg'), s = svg.getBoundingClientRect();
        return Array.from(svg.querySelectorAll('text')).filter(function (t) {
            var r = t.getBoundingClientRect();
            return r.left < s.left - 0.5 || r.right > s.right + 0.5 || r.top < s.top - 0.5
                   || r.bottom > s.bottom + 0.5; }).map(function (t) { return t.textContent; });"""
    for step in (0, 1, 5):
        path = tmp_path / f"step{step}.html"
        svg = draw_dot(o, step=step, parameters=parameters).pipe(format="svg", encoding="utf-8")
        path.write_text("<!DOCTYPE html><html><body style='margin:8px'>"
                        f"{svg[svg.index('<svg'):]}</body></html>", encoding="utf-8")
        open_page(browser, path)
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
        assert browser.execute_script(inside) == []
    loss, model = iris()
    open_page(browser, explore(loss, names=model).write(tmp_path / "iris.html"))
    assert browser.execute_script(inside) == []  # the collapsed view's title
