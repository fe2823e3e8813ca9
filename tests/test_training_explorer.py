"""explore_training: a recorded training run as a page, read back as a specification.

The page's embedded data must be the recording's own numbers (formatted in Python, the
maps as bytes within half a step of 1/255); each point's precomputed pass, filled into
its template, must read exactly as draw_network draws that point at that frame's
parameters -- and show the gradients the engine gives there; the user's model is never
touched. In headless Chromium at 1280 x 800 the page plays through every frame with no
console error and no horizontal overflow, its decision surface changes, and a clicked
point opens its pass. Without a browser those tests skip, saying what to install (under
CI they fail); screenshots go to $CHAINRULE_SCREENSHOTS when it is set.
"""

import copy
import gzip
import json
import os
import re
import time
import xml.etree.ElementTree as ET
from base64 import b64decode
from pathlib import Path

import numpy as np
import pytest
from browser_support import chromium, uncovered_point
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd.graph.naming import _fmt
from nn import MLP, Adam, fit
from nn.data import IRIS_CLASSES, IRIS_FEATURES, load_iris, make_spiral, train_test_split
from nn.network_view import draw_network
from nn.recording import Recorder
from nn.training_explorer import PASS_BUDGET, TrainingExplorer, explore_training

SVG = "{http://www.w3.org/2000/svg}"
HALF_STEP = 0.5 / 255 + 1e-12  # a map stored as a byte: within half a step


@pytest.fixture(scope="module")
def spiral():
    """A 2-8-8-2 ReLU network trained 30 epochs on Playground's spiral, recorded."""
    X, y = make_spiral(120, noise=0.1, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, seed=0)
    model = MLP(2, [8, 8, 2], seed=0, init="he")
    history = fit(model, X_train, y_train, optimizer=Adam(model.parameters(), lr=0.02),
                  epochs=30, validation=(X_test, y_test), progress=False,
                  record=Recorder(grid=20, neuron_grid=10))
    grads = [p.grad for p in model.parameters()]
    explorer = explore_training(history)
    return {"model": model, "history": history, "recording": history.recording,
            "explorer": explorer, "data": embedded(explorer.html()), "grads": grads}


def embedded(page):
    """The JSON the page's script replays, parsed from the page itself."""
    found = re.search(r'<script type="application/json" class="ctx-data">(.*?)</script>',
                      page, re.DOTALL)
    return json.loads(found.group(1).replace("<\\/", "</"))


def decoded(text, shape):
    return np.frombuffer(b64decode(text), dtype=np.uint8).reshape(shape) / 255


def at_frame(model, recording, k):
    """An independent copy of the model at frame k: through its state_dict."""
    twin = copy.deepcopy(model)
    twin.load_state_dict(dict(zip(recording.names, recording.frames[k].parameters)))
    return twin


def texts(svg):
    """Every <text> and <title> of an SVG, in document order."""
    root = ET.fromstring(svg)
    return [element.text or "" for element in root.iter()
            if element.tag in (f"{SVG}text", f"{SVG}title")]


def unpacked(data, key):
    """Key frame ``key``'s passes: {template, slots, values}, as the page unpacks them."""
    return json.loads(gzip.decompress(b64decode(data["passes"]["packed"][key])))


def filled(data, key, point):
    """The pass page's template for key frame ``key`` with ``point``'s texts filled in,
    as the script fills it: start + middle + end in each data-slot element."""
    pack = unpacked(data, key)
    root = ET.fromstring(pack["template"])
    values = pack["values"][data["passes"]["points"].index(point)]
    for element in root.iter():
        slot = element.get("data-slot")
        if slot is not None:
            start, end = pack["slots"][int(slot)]
            element.text = start + values[int(slot)] + end
    return texts(ET.tostring(root, encoding="unicode"))


# -- the data is the recording's ------------------------------------------------------


def test_the_page_holds_the_recordings_numbers(spiral):
    data, recording = spiral["data"], spiral["recording"]
    frames = recording.frames
    f = lambda v: _fmt(float(v), 4)
    count = len(frames)
    assert data["frames"]["counter"][0] == f"epoch 0 of 30, frame 1 of {count}"
    assert data["frames"]["counter"][-1] == f"epoch 30 of 30, frame {count} of {count}"
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert data["frames"][name] == [f(getattr(fr, name)) for fr in frames], name
    # a 2-8-8-2 network is drawn whole: the page holds every parameter, in order
    used = data["network"]["used"]
    assert used == list(range(len(recording.names)))
    assert data["names"] == recording.names
    for k, frame in enumerate(frames):
        assert data["parameters"][k] == [f(v) for v in frame.parameters]
        assert data["gradients"][k] == [f(v) for v in frame.gradients]
    # each edge is a weight, each node's bias its neuron's b
    for e, parameter in enumerate(data["network"]["edges"]):
        assert re.fullmatch(r"layers\.\d\.neurons\.\d\.w\.\d", data["names"][parameter]), e
    biases = [node["bias"] for node in data["network"]["nodes"] if node["bias"] is not None]
    assert [data["names"][b] for b in biases] == [
        name for name in recording.names if name.endswith(".b")]
    assert data["network"]["largest"] == max(
        np.abs(fr.parameters[[i for i, n in enumerate(recording.names) if ".w." in n]]).max()
        for fr in frames)
    # the surface: softmax probabilities, as bytes
    m = recording.recorder.grid
    for k, frame in enumerate(frames):
        surface = decoded(data["surface"]["maps"][k], (m, m, 2))
        assert np.abs(surface - frame.surface).max() <= HALF_STEP
    # each hidden neuron's map, scaled to its own largest |h| (0.5: h = 0)
    k_grid = recording.recorder.neuron_grid
    for layer in range(2):
        maps = data["network"]["neurons"][layer]
        for k, frame in enumerate(frames):
            values = frame.neurons[layer]
            peaks = np.abs(values).max(axis=(1, 2))
            assert maps["largest"][k] == [f(p) for p in peaks]
            scaled = 0.5 + 0.5 * values / np.where(peaks > 0, peaks, 1.0)[:, None, None]
            shown = decoded(maps["maps"][k], (8, k_grid, k_grid))
            assert np.abs(shown - scaled).max() <= HALF_STEP
    # the data points: exactly the recording's plane coordinates and classes
    train, test = data["points"]["train"], data["points"]["test"]
    np.testing.assert_array_equal([p[:2] for p in train], recording.points)
    np.testing.assert_array_equal([p[:2] for p in test], recording.val_points)
    assert [p[2] for p in train] == recording.y.tolist()
    assert [p[2] for p in test] == recording.validation[1].tolist()


def test_the_curves_and_axes_are_drawn_from_the_recording(spiral):
    data, recording, explorer = spiral["data"], spiral["recording"], spiral["explorer"]
    page = explorer.html()
    curves = data["curves"]
    assert len(curves["x"]) == len(recording.frames)
    assert curves["x"] == sorted(curves["x"]) and curves["x"][0] < curves["x"][-1]
    losses = curves["series"]["loss"]
    lowest = int(np.argmin([fr.loss for fr in recording.frames]))
    assert losses[lowest] == max(losses)  # SVG y grows downwards: the lowest loss is lowest
    assert set(curves["series"]) == {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert ">x1</text>" in page and ">x2</text>" in page  # the axes: recording.axis_names
    assert recording.plane not in page  # two features: the plane is the input plane


# -- the passes are draw_network's ----------------------------------------------------


def test_each_points_pass_is_draw_network_at_that_frame(spiral):
    data, recording, model = spiral["data"], spiral["recording"], spiral["model"]
    passes = data["passes"]
    count = len(recording.frames)
    assert passes["frames"][0] == 0 and passes["frames"][-1] == count - 1
    assert len(passes["frames"]) == 6 and passes["points"] == list(range(passes["of"]))
    assert passes["epochs"] == [data["frames"]["epoch"][k] for k in passes["frames"]]
    train = recording.X
    samples = [*zip(train, recording.y), *zip(*recording.validation)]
    for key, k in enumerate(passes["frames"]):
        twin = at_frame(model, recording, k)
        for point in (0, len(train) // 2, len(samples) - 1):  # the last is a test point
            x, target = samples[point]
            view = draw_network(twin, x, int(target))
            assert filled(data, key, point) == texts(view.svg), (k, point)


def test_the_pass_shows_the_engines_gradients_and_the_model_is_untouched(spiral):
    data, recording, model = spiral["data"], spiral["recording"], spiral["model"]
    key, point = 2, 5
    k = data["passes"]["frames"][key]
    twin = at_frame(model, recording, k)
    x, target = recording.X[point], int(recording.y[point])
    twin.zero_grad()
    loss = nn.cross_entropy(twin(list(x)), target)
    loss.backward()
    shown = filled(data, key, point)
    assert f"L = {_fmt(loss.data, 4)}" in shown
    for name, p in twin.named_parameters():
        if ".w." in name:
            (tip,) = [t for t in shown if f"({name}:" in t]
            assert tip.endswith(f"dL/dw = {_fmt(p.grad, 4)}"), (name, tip)
    # the model: still at the last frame, its gradients as they were
    assert [p.data for p in model.parameters()] == recording.frames[-1].parameters.tolist()
    assert [p.grad for p in model.parameters()] == spiral["grads"]


def test_a_classifier_on_iris_shows_its_names_and_the_pca_plane():
    X, y = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, seed=1)
    model = nn.Classifier(MLP(4, [5, 3], seed=0), IRIS_CLASSES,
                          nn.Standardize.fit(X_train), features=IRIS_FEATURES)
    history = fit(model, X_train, y_train, epochs=2, validation=(X_test, y_test),
                  progress=False, record=Recorder(grid=6, neuron_grid=4))
    recording = history.recording
    explorer = explore_training(history, key_frames=2)
    page = explorer.html()
    data = embedded(page)
    assert data["classes"] == list(IRIS_CLASSES)
    assert data["points"]["label"][0].endswith(IRIS_CLASSES[y_train[0]])
    assert all(f">{name}</text>" in page for name in IRIS_FEATURES)  # the input nodes
    assert ">PC1</text>" in page and ">PC2</text>" in page
    assert f"PC1, PC2: {recording.plane}." in page  # four features: the plane is told
    twin = at_frame(model, recording, data["passes"]["frames"][-1])
    view = draw_network(twin, X_test[3], int(y_test[3]))
    assert filled(data, 1, len(X_train) + 3) == texts(view.svg)
    assert any(t.startswith("z = ") for t in texts(view.svg))  # standardized inputs shown


def test_a_budget_keeps_evenly_chosen_points_and_pages_stay_small(spiral):
    full = len(spiral["explorer"].html().encode())
    assert full < 1_500_000  # every point has its passes here
    assert len(json.dumps(spiral["data"]["passes"], ensure_ascii=False)) < 1.2 * PASS_BUDGET
    small = explore_training(spiral["history"], key_frames=2, pass_budget=40_000)
    passes = small.data["passes"]
    chosen = passes["points"]
    assert 1 < len(chosen) < passes["of"] and chosen[0] == 0 and chosen[-1] == passes["of"] - 1
    gaps = np.diff(chosen)
    assert gaps.max() - gaps.min() <= 1  # evenly
    size = len(json.dumps(passes, ensure_ascii=False))
    assert size < 1.25 * 40_000
    assert len(small.html().encode()) < full


def test_errors_name_the_fix(spiral):
    with pytest.raises(ValueError, match=r"record=True"):
        explore_training(nn.History())
    with pytest.raises(ValueError, match="pass the model that was trained"):
        explore_training(spiral["history"], MLP(2, [3, 2]))
    with pytest.raises(ValueError, match="3 class names for 2 classes"):
        explore_training(spiral["history"], classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="key_frames must be an int >= 1"):
        explore_training(spiral["history"], key_frames=0)


def test_it_shows_in_jupyter_and_saves(spiral, tmp_path):
    explorer = spiral["explorer"]
    assert isinstance(explorer, TrainingExplorer)
    fragment = explorer._repr_html_()
    assert fragment.startswith('<div class="chainrule-training" tabindex="0" '
                               'data-standalone="0">')
    path = explorer.write(tmp_path / "training.html")
    page = path.read_text(encoding="utf-8")
    same = page == explorer.html()  # (a failing == of megabytes: pytest's diff is slow)
    assert same and page.startswith("<!DOCTYPE html>")
    # nothing to fetch: no src, and the only address is the SVG namespace
    assert re.search(r"\bsrc=", page) is None
    assert set(re.findall(r"https?://[^\"\\\s]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "frames" in repr(explorer)


def test_history_explore_is_explore_training(spiral):
    page = spiral["history"].explore(key_frames=1, title="the spiral")
    assert isinstance(page, TrainingExplorer) and page.title == "the spiral"
    assert page.data["passes"]["frames"] == [0] and page.data["frames"] == spiral["data"]["frames"]


# -- in headless Chromium at 1280 x 800 ------------------------------------------------



@pytest.fixture(scope="module")
def browser():
    yield from chromium("the training explorer's browser test", window=(1280, 800),
                        viewport=(1280, 800))


def severe(browser):
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def shoot(browser, name):
    folder = os.environ.get("CHAINRULE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


SHOWN = """
var root = document.querySelector('.chainrule-training');
return {counter: root.querySelector('.ctx-counter').textContent,
        slider: +root.querySelector('.ctx-slider').value,
        surface: root.querySelector('.ctx-surface-image').getAttribute('href'),
        edges: Array.from(root.querySelectorAll('.ctx-edge')).map(e => e.style.strokeWidth),
        maps: Array.from(root.querySelectorAll('.ctx-map')).map(i => i.getAttribute('href')),
        now: Array.from(root.querySelectorAll('.ctx-curve-now')).map(t => t.textContent),
        overflow: document.documentElement.scrollWidth - innerWidth};
"""

PANEL = """
var panel = document.querySelector('.ctx-pass');
return {hidden: panel.hidden, title: panel.querySelector('.ctx-pass-title').textContent,
        note: panel.querySelector('.ctx-pass-note').textContent,
        texts: Array.from(panel.querySelectorAll('.ctx-pass-body svg text, '
                                                 + '.ctx-pass-body svg title'))
                    .map(t => t.textContent)};
"""


def test_the_page_plays_every_frame_and_opens_a_points_pass(spiral, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    data, recording = spiral["data"], spiral["recording"]
    browser.get(spiral["explorer"].write(tmp_path / "spiral.html").as_uri())
    browser.get_log("browser")
    assert browser.execute_script("return [innerWidth, innerHeight]") == [1280, 800]
    root = browser.find_element(By.CSS_SELECTOR, ".chainrule-training")
    first = browser.execute_script(SHOWN)
    assert first["counter"] == data["frames"]["counter"][0] and first["overflow"] <= 0
    assert first["surface"].startswith("data:image/png") and all(first["maps"])
    assert first["now"][0] == (f"training {data['frames']['loss'][0]} · "
                               f"test {data['frames']['val_loss'][0]}")
    shoot(browser, "training-explorer-first")
    count = len(recording.frames)
    for k in range(1, count):  # every frame, one step forward at a time
        root.send_keys(Keys.ARROW_RIGHT)
        shown = browser.execute_script(SHOWN)
        assert shown["counter"] == data["frames"]["counter"][k] and shown["slider"] == k
        assert shown["overflow"] <= 0
    last = shown
    assert last["counter"] == f"epoch 30 of 30, frame {count} of {count}"
    assert last["surface"] != first["surface"]  # the decision surface changed
    assert last["edges"] != first["edges"] and last["maps"] != first["maps"]
    assert last["now"][1] == (f"training {data['frames']['accuracy'][-1]} · "
                              f"test {data['frames']['val_accuracy'][-1]}")
    shoot(browser, "training-explorer-last")
    root.send_keys(Keys.ARROW_RIGHT)  # stays at the last
    assert browser.execute_script(SHOWN)["slider"] == count - 1
    assert severe(browser) == []

    # a point on top (not covered by another), clicked: its pass at the last frame
    point = uncovered_point(browser)
    browser.find_element(By.CSS_SELECTOR, f'.ctx-point[data-point="{point}"]').click()
    key = len(data["passes"]["frames"]) - 1
    WebDriverWait(browser, 10).until(lambda b: b.execute_script(
        "return document.querySelector('.ctx-pass-body').getAttribute('data-shown')")
        == f"{point}:{key}")  # unpacked (asynchronously) and filled in
    panel = browser.execute_script(PANEL)
    assert not panel["hidden"] and panel["title"] == data["points"]["label"][point]
    assert "at epoch 30 (this frame)" in panel["note"]
    samples = [*zip(recording.X, recording.y), *zip(*recording.validation)]
    x, target = samples[point]
    view = draw_network(at_frame(spiral["model"], recording, count - 1), x, int(target))
    assert panel["texts"] == texts(view.svg)  # the sample's numbers, as the engine gives
    assert browser.execute_script(SHOWN)["overflow"] <= 0
    shoot(browser, "training-explorer-pass")
    root.send_keys(Keys.ARROW_LEFT)  # a frame with no precomputed pass: the nearest one
    panel = browser.execute_script(PANEL)
    assert "at epoch 30, the nearest precomputed frame" in panel["note"]
    browser.find_element(By.CSS_SELECTOR, ".ctx-close").click()
    assert browser.execute_script(PANEL)["hidden"]

    browser.find_element(By.CSS_SELECTOR, ".ctx-first").click()
    browser.find_element(By.CSS_SELECTOR, ".ctx-play").click()
    time.sleep(0.7)  # a frame every 0.18 s
    browser.find_element(By.CSS_SELECTOR, ".ctx-play").click()  # pause
    paused = browser.execute_script(SHOWN)["slider"]
    assert paused >= 2
    time.sleep(0.4)
    assert browser.execute_script(SHOWN)["slider"] == paused
    assert severe(browser) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab0.-", max_size=6), min_size=1, max_size=6))
def test_common_start_is_the_longest_start_every_text_has(texts):
    from nn.training_explorer import _common_start

    start = _common_start(texts)
    assert all(t.startswith(start) for t in texts)
    longer = {t[: len(start) + 1] for t in texts}
    assert len(longer) > 1 or any(len(t) == len(start) for t in texts)
