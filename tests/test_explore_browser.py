"""The explorer page in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by selenium, offline. A page written by explore() must step
forward and backward with the keys, the buttons and the slider, change its SVG and its
text as the backward pass says, explain a clicked node, and log no console errors.

Without a browser (or Graphviz's dot) these tests skip locally, saying what to install;
under CI (the CI environment variable, which .ci/run sets) a missing one is a failure.
Screenshots are written to $CHAINRULE_SCREENSHOTS when it is set, to be looked at.
"""

import os
import time
from pathlib import Path

import pytest

from autograd import Value, explore, topological_order
from nn import MLP, cross_entropy
from nn.data import load_iris

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
from browser_support import chromium  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

# the pages are drawn by explore(), which needs Graphviz's dot (see conftest.py)
pytestmark = pytest.mark.needs_dot


@pytest.fixture(scope="module")
def browser():
    yield from chromium("the explorer's browser tests", window=(1400, 1000))


def open_page(browser, path):
    browser.get(path.as_uri())
    browser.get_log("browser")  # start each page with an empty log
    return browser.find_element(By.CSS_SELECTOR, ".chainrule-explorer")


def errors(browser):
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def state(browser):
    """What the page shows now: frame position, step text, and each record's texts
    and classes, read from the DOM."""
    return browser.execute_script("""
        var root = document.querySelector('.chainrule-explorer');
        var nodes = {};
        root.querySelectorAll('svg g.node[id], svg g.edge[id]').forEach(function (g) {
            nodes[g.id] = {texts: Array.from(g.querySelectorAll('text')).map(t => t.textContent),
                           classes: Array.from(g.classList)};
        });
        return {position: root.querySelector('.cre-position').textContent,
                slider: root.querySelector('.cre-slider').value,
                title: root.querySelector('.cre-step-title').textContent,
                lines: Array.from(root.querySelectorAll('.cre-lines li')).map(l => l.textContent),
                info: root.querySelector('.cre-info').innerText,
                nodes: nodes};
    """)


def shoot(browser, name):
    folder = os.environ.get("CHAINRULE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


def test_the_page_steps_forward_then_backward_with_the_keys(tanh_neuron, browser, tmp_path):
    v = tanh_neuron
    o = v["o"]
    index = {node: i for i, node in enumerate(topological_order(o))}
    rec = {name: f"v{index[node]}" for name, node in v.items()}
    page = explore(o)
    root = open_page(browser, page.write(tmp_path / "neuron.html"))
    s = state(browser)
    assert s["position"] == f"1 / {len(page.frames)}" and s["title"].startswith("forward pass")
    assert "cre-unborn" in s["nodes"][rec["o"]]["classes"]  # not computed yet
    assert "data ?" in s["nodes"][rec["o"]]["texts"]
    assert "data 2" in s["nodes"][rec["x"]]["texts"]

    root.send_keys(Keys.ARROW_RIGHT)
    root.send_keys(Keys.ARROW_RIGHT)
    s = state(browser)
    assert s["title"] == "forward step 2 of 3: n = mul + b"
    assert s["lines"] == ["n = mul + b = -6 + 6.881 = 0.8814"]
    assert "data 0.8814" in s["nodes"][rec["n"]]["texts"]
    assert "cre-computing" in s["nodes"][rec["n"]]["classes"]
    assert "cre-unborn" in s["nodes"][rec["o"]]["classes"]
    shoot(browser, "explorer-forward")

    for _ in range(2):
        root.send_keys(Keys.ARROW_RIGHT)
    s = state(browser)  # the seed: grad(o) = 1, every other grad 0 and not final
    assert s["title"].startswith("backward pass: grad(o) = 1")
    assert "grad 1" in s["nodes"][rec["o"]]["texts"]
    assert "cre-final" in s["nodes"][rec["o"]]["classes"]
    assert "cre-pending" in s["nodes"][rec["x"]]["classes"]  # drawn dashed

    for _ in range(3):  # through tanh, add, then mul
        root.send_keys(Keys.ARROW_RIGHT)
    s = state(browser)
    i = index[v["n"].parents[0]]  # the mul node
    assert s["title"] == "backward step 3 of 3: through mul (mul = x × w), grad(mul) = 0.5"
    assert s["lines"] == ["grad(x) += grad(mul) × w = 0.5 × -3 = -1.5 (final)",
                          "grad(w) += grad(mul) × x = 0.5 × 2 = 1 (final)"]
    assert "cre-active" in s["nodes"][f"op{i}"]["classes"]  # the op applied, in red
    assert "cre-active" in s["nodes"][f"e{i}_0"]["classes"]
    assert "cre-active" not in s["nodes"][f"op{index[v['n']]}"]["classes"]
    o.backward()
    for name in ("x", "w", "b", "n"):
        assert f"grad {v[name].grad:.4g}" in s["nodes"][rec[name]]["texts"], name
        assert "cre-final" in s["nodes"][rec[name]]["classes"]
    shoot(browser, "explorer-backward")

    root.send_keys(Keys.ARROW_LEFT)  # one step back: x and w not reached yet
    s = state(browser)
    assert "grad 0" in s["nodes"][rec["x"]]["texts"]
    assert "cre-pending" in s["nodes"][rec["x"]]["classes"]
    root.send_keys(Keys.HOME)
    assert state(browser)["position"] == f"1 / {len(page.frames)}"
    root.send_keys(Keys.END)
    assert state(browser)["position"] == f"{len(page.frames)} / {len(page.frames)}"
    assert errors(browser) == []


def test_buttons_slider_and_play(tanh_neuron, browser, tmp_path):
    o = tanh_neuron["o"]
    page = explore(o)
    open_page(browser, page.write(tmp_path / "neuron.html"))
    count = len(page.frames)

    def click(name):
        browser.find_element(By.CSS_SELECTOR, f".cre-{name}").click()
        return state(browser)["position"]

    assert click("last") == f"{count} / {count}"
    assert click("prev") == f"{count - 1} / {count}"
    assert click("first") == f"1 / {count}"
    assert click("next") == f"2 / {count}"
    browser.find_element(By.CSS_SELECTOR, ".cre-phase[data-phase=backward]").click()
    assert state(browser)["title"].startswith("backward pass")
    browser.execute_script("""var s = document.querySelector('.cre-slider');
        s.value = 6; s.dispatchEvent(new Event('input'));""")
    assert state(browser)["title"].startswith("backward step 2 of 3")
    click("first")
    click("play")
    time.sleep(2.2)  # the page advances one frame every 0.9 s
    playing = int(state(browser)["slider"])
    assert playing >= 1
    assert browser.find_element(By.CSS_SELECTOR, ".cre-play").text == "pause"
    click("play")
    paused = int(state(browser)["slider"])
    time.sleep(1.2)
    assert int(state(browser)["slider"]) == paused
    assert errors(browser) == []


def test_a_clicked_node_shows_its_paths_and_lights_them_up(browser, tmp_path):
    x = Value(1.5, label="x")
    h = x * x
    out = h.tanh() + h * x
    out.label = "out"
    index = {node: i for i, node in enumerate(topological_order(out))}
    open_page(browser, explore(out).write(tmp_path / "paths.html"))
    browser.find_element(By.ID, f"v{index[x]}").click()
    s = state(browser)
    out.backward()
    assert s["info"].startswith("x\ninput")
    assert f"grad\t{x.grad:.4g} (after the whole backward pass)" in s["info"]
    assert "paths to the output (5)" in s["info"]
    assert f"sum of the 5 paths = {x.grad:.4g} = grad(x)" in s["info"]
    lit = {element for element, node in s["nodes"].items() if "cre-path" in node["classes"]}
    assert f"o{index[out]}" in lit and f"e{index[h]}_0" in lit and f"e{index[h]}_1" in lit
    shoot(browser, "explorer-paths")
    # hovering one path lights that path only
    item = browser.find_elements(By.CSS_SELECTOR, ".cre-info li.cre-item")[0]
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('mouseenter'))", item)
    one = {element for element, node in state(browser)["nodes"].items()
           if "cre-path" in node["classes"]}
    assert one and one < lit
    # the op that made a node, and its local derivatives
    browser.find_element(By.ID, f"v{index[h]}").click()  # pins h instead
    info = state(browser)["info"]
    assert "made by mul" in info and "mul#1 = x × x = 1.5 × 1.5 = 2.25" in info
    assert "∂mul#1/∂x = x = 1.5" in info
    browser.find_element(By.ID, f"v{index[h]}").click()  # a second click lets go
    assert "Hover over or click a node" in state(browser)["info"]
    assert errors(browser) == []


def test_the_iris_loss_collapsed_by_module(browser, tmp_path):
    X, y = load_iris()
    model = MLP(4, [16, 3], seed=0)
    loss = cross_entropy(model(list(X[0])), int(y[0]))
    page = explore(loss, names=model)
    path = page.write(tmp_path / "iris.html")
    root = open_page(browser, path)
    root.send_keys(Keys.END)
    loss.backward()
    s = state(browser)
    relu = model.layers[0].neurons[3]  # the module's record shows its output's grad
    out = next(n for n in topological_order(loss) if n.op == "relu"
               and any(p is relu.b for p in topological_order(n)))
    assert f"grad {out.grad:.4g}" in s["nodes"]["g_layers.0.neurons.3"]["texts"]
    browser.find_element(By.ID, "g_layers.0.neurons.3").click()
    info = state(browser)["info"]
    assert "layers.0.neurons.3\nmodule (collapsed): Neuron (relu)" in info
    assert f"b\t{relu.b.data:.4g}, grad {relu.b.grad:.4g}" in info
    lit = [e for e, node in state(browser)["nodes"].items() if "cre-path" in node["classes"]]
    assert "cg_layers.0.neurons.3--g_layers.1.neurons.0" in lit
    shoot(browser, "explorer-iris")
    assert errors(browser) == []
    assert path.stat().st_size < 250_000


def test_two_explorers_on_one_page_step_independently(tanh_neuron, browser, tmp_path):
    """As in a notebook: two outputs in one document, each with its own keys."""
    o = tanh_neuron["o"]
    first, second = explore(o), explore(o * 2.0)
    path = tmp_path / "two.html"
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    f"{first._repr_html_()}{second._repr_html_()}</body></html>",
                    encoding="utf-8")
    browser.get(path.as_uri())
    roots = browser.find_elements(By.CSS_SELECTOR, ".chainrule-explorer")
    assert len(roots) == 2
    roots[1].click()
    roots[1].send_keys(Keys.END)
    positions = [r.find_element(By.CSS_SELECTOR, ".cre-position").text for r in roots]
    assert positions == [f"1 / {len(first.frames)}",
                         f"{len(second.frames)} / {len(second.frames)}"]
    assert errors(browser) == []


def test_a_hostile_name_is_shown_as_text(browser, tmp_path):
    x = Value(1.0, label="<img src=x onerror=alert(1)></script>")
    open_page(browser, explore(x * 2.0).write(tmp_path / "name.html"))
    browser.find_element(By.CSS_SELECTOR, "svg g.node[id^=v]").click()
    assert "<img src=x onerror=alert(1)></script>" in state(browser)["info"]
    assert errors(browser) == []
