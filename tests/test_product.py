"""chainrule as a product: train, fail safely, save, load, predict -- and the digits."""

import json
import subprocess
import sys

import numpy as np
import pytest

import nn
from nn import MLP, SGD, Adam, Classifier, Standardize, TrainingDiverged, accuracy, fit
from nn.cli import main
from nn.data import IRIS_CLASSES, load_digits, load_iris, standardize, train_test_split


def _run(*args, cwd):
    """The command as a user runs it: a new process, exit status and both streams."""
    return subprocess.run([sys.executable, "-m", "chainrule", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


# -- 1. divergence stops clearly and loses nothing ----------------------------------


@pytest.mark.parametrize("scaled", [True, False])
def test_a_diverging_fit_raises_one_clear_error_and_restores_finite_parameters(scaled):
    X, y = load_iris()
    if scaled:
        X = standardize(X, X)[0]
    model = MLP(4, [16, 3], seed=0)
    start = [p.data for p in model.parameters()]
    with pytest.raises(TrainingDiverged, match=r"diverged at epoch 1/5, step \d+: .* lower "
                                               r"the learning rate \(lr=1e\+06; try 100000\)"):
        fit(model, X, y, optimizer=SGD(model.parameters(), lr=1e6), epochs=5, progress=False)
    after = [p.data for p in model.parameters()]
    assert all(np.isfinite(after))
    assert after == start  # the last parameters that gave a sane loss: the first ones here
    assert accuracy(model, X, y) > 0  # usable


def test_an_overflow_inside_an_op_is_a_divergence_too():
    X, y = load_iris()
    model = MLP(4, [16, 3], seed=0)
    with pytest.raises(TrainingDiverged, match="diverged at epoch 1") as info:
        fit(model, X * 1e300, y, optimizer=SGD(model.parameters(), lr=0.01), epochs=1,
            progress=False)
    assert "overflows" in str(info.value)
    assert all(np.isfinite([p.data for p in model.parameters()]))
    assert info.value.history.loss == []


def test_train_with_a_huge_learning_rate_is_one_line_and_exit_1(tmp_path):
    result = _run("train", "--lr", "1e6", "--no-progress", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "training diverged" in result.stderr and "lower the learning rate" in result.stderr
    assert not (tmp_path / "runs").exists()  # nothing half-written, nothing replaced


# -- 2. self-contained model files ----------------------------------------------------


def _trained_classifier():
    X, y = load_iris()
    X_train, _, y_train, _ = train_test_split(X, y, 0.3, seed=0)
    scaler = Standardize.fit(X_train)
    network = MLP(4, [8, 3], seed=0)
    np.testing.assert_allclose(scaler.transform(X_train).mean(axis=0), 0.0, atol=1e-12)
    fit(network, scaler.transform(X_train), y_train,
        optimizer=SGD(network.parameters(), lr=0.05), epochs=10, progress=False)
    return Classifier(network, IRIS_CLASSES, preprocess=scaler), X, y


def test_a_saved_classifier_works_on_raw_measurements_after_loading(tmp_path):
    model, X, y = _trained_classifier()
    path = model.save(tmp_path / "iris.json")
    loaded = nn.load(path)
    assert isinstance(loaded, Classifier) and loaded.classes == list(IRIS_CLASSES)
    assert loaded.state_dict() == model.state_dict()
    assert loaded.preprocess.mean == model.preprocess.mean
    raw_setosa = [5.1, 3.5, 1.4, 0.2]
    assert loaded.classes[loaded.predict(raw_setosa)] == "setosa"
    np.testing.assert_array_equal(nn.predict(loaded, X), model.predict(X))
    assert accuracy(loaded, X, y) > 0.9  # raw data in, through the saved standardization
    probabilities = loaded.predict_proba(X[:5])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_load_on_the_class_and_on_an_instance_returns_the_model(tmp_path):
    mlp = MLP(4, [5, 3], seed=0)
    path = mlp.save(tmp_path / "m.json")
    loaded = MLP.load(path)
    assert isinstance(loaded, MLP) and loaded.state_dict() == mlp.state_dict()
    again = MLP(4, [5, 3], seed=1)
    assert again.load(path) is again and again.state_dict() == mlp.state_dict()
    classifier, _, _ = _trained_classifier()
    other = classifier.save(tmp_path / "c.json")
    with pytest.raises(ValueError, match=r"holds a Classifier; MLP\.load builds only a MLP"):
        MLP.load(other)


@pytest.mark.parametrize("spoil, problem", [
    (lambda d: d.update(module={"type": "Os", "cmd": "rm"}), "unknown module type 'Os'"),
    (lambda d: d["module"]["network"].update(nouts=[10 ** 9, 3]), "not valid"),
    (lambda d: d["module"]["network"].update(nouts=[100_000, 100_000, 3]),
     "more than the 5000000"),
    (lambda d: d["module"]["preprocess"].update(scale=[0.0, 1.0, 1.0, 1.0]), "scale finite"),
    (lambda d: d["module"].update(classes=["a", "a", "b"]), "distinct class names"),
    (lambda d: d["module"]["network"].update(activation="__import__"), "not valid"),
    (lambda d: d["parameters"].pop("network.layers.0.neurons.0.b"), "missing"),
    (lambda d: d.update(extra=1), "unexpected or missing entries"),
])
def test_a_hostile_or_truncated_file_raises_value_error_and_builds_nothing(tmp_path, spoil,
                                                                          problem):
    model, _, _ = _trained_classifier()
    path = model.save(tmp_path / "m.json")
    saved = json.loads(path.read_text())
    spoil(saved)
    path.write_text(json.dumps(saved))
    with pytest.raises(ValueError, match=problem):
        nn.load(path)


def test_a_truncated_file_is_named(tmp_path):
    model, _, _ = _trained_classifier()
    path = model.save(tmp_path / "m.json")
    path.write_text(path.read_text()[:200])
    with pytest.raises(ValueError, match=r"m\.json is not valid JSON"):
        nn.load(path)


# -- 3. chainrule predict ------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("product")
    result = _run("train", "--no-progress", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder


def test_train_then_predict_prints_setosa(trained):
    result = _run("predict", "runs/train/model.json", "5.1", "3.5", "1.4", "0.2", cwd=trained)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "setosa"
    probabilities = {line.split("(")[1].split(")")[0]: float(line.split("=")[1])
                     for line in lines[1:]}
    assert set(probabilities) == set(IRIS_CLASSES)
    assert probabilities["setosa"] > 0.9 and sum(probabilities.values()) == pytest.approx(1, 1e-3)


def test_predict_a_csv_file_to_a_file(trained):
    X, y = load_iris()
    rows = ["sepal_length,sepal_width,petal_length,petal_width"]
    rows += [",".join(map(str, x)) for x in X]
    (trained / "flowers.csv").write_text("\n".join(rows) + "\n")
    result = _run("predict", "runs/train/model.json", "--input", "flowers.csv", "--output",
                  "predictions.csv", cwd=trained)
    assert result.returncode == 0, result.stderr
    lines = (trained / "predictions.csv").read_text().splitlines()
    assert lines[0] == "prediction,p(setosa),p(versicolor),p(virginica)"
    predicted = [line.split(",")[0] for line in lines[1:]]
    assert len(predicted) == 150
    assert np.mean([IRIS_CLASSES[label] == name for label, name in zip(y, predicted)]) > 0.9


@pytest.mark.parametrize("args, status, message", [
    (["runs/train/model.json", "5.1", "3.5", "1.4"], 2, "takes 4 features, got 3"),
    (["runs/train/model.json", "5.1", "x", "1.4", "0.2"], 2, "'x' is not a number"),
    (["missing.json", "1", "2", "3", "4"], 2, "no model file at missing.json"),
    (["corrupt.json", "1", "2", "3", "4"], 1, "corrupt.json is not valid JSON"),
    (["runs/train/model.json"], 2, "give either the sample's features"),
    (["runs/train/model.json", "--input", "nope.csv"], 2, "cannot read nope.csv"),
])
def test_predict_errors_are_one_line(trained, args, status, message):
    (trained / "corrupt.json").write_text('{"format": "chainrule-module", "vers')
    result = _run("predict", *args, cwd=trained)
    assert result.returncode == status and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


# -- 4. flags -----------------------------------------------------------------------------


@pytest.mark.parametrize("flags, message", [
    (["--test-size", "1.5"], "strictly between 0 and 1"),
    (["--test-size", "0"], "strictly between 0 and 1"),
    (["--epochs", "0"], "must be a positive integer"),
    (["--lr", "-1"], "must be a positive, finite number"),
    (["--lr", "inf"], "must be a positive, finite number"),
    (["--dataset", "mnist"], "invalid choice: 'mnist'"),
    (["--hidden", "16", "x"], "must be a positive integer"),
    (["--momentum", "1.5"], "must be in [0, 1)"),
])
def test_bad_flags_are_argparse_errors(tmp_path, capsys, monkeypatch, flags, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["train", *flags])
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_hidden_none_is_the_linear_softmax_classifier(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--hidden", "none", "--epochs", "5", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "settings: --hidden none" in out and "MLP(nin=4, nouts=[3]" in out
    model = nn.load(tmp_path / "runs" / "train" / "model.json")
    assert model.network.config()["nouts"] == [3]


# -- 5. the optimizer must be the model's --------------------------------------------------


def test_fit_refuses_an_optimizer_over_another_models_parameters():
    X, y = load_iris()
    model, other = MLP(4, [3], seed=0), MLP(4, [3], seed=1)
    with pytest.raises(ValueError, match="15 parameters that are not this model's"):
        fit(model, X, y, optimizer=Adam(other.parameters()), epochs=1, progress=False)
    tuned = model.layers[0].neurons[0].parameters()
    others = [p for p in model.parameters() if all(p is not q for q in tuned)]
    before = [p.data for p in others], [p.data for p in tuned]
    fit(model, X, y, optimizer=SGD(tuned, lr=0.1), epochs=1, progress=False)  # a part only
    assert [p.data for p in others] == before[0]
    assert [p.data for p in tuned] != before[1]


# -- 6. digits -------------------------------------------------------------------------


def test_digits_are_the_uci_optical_digits():
    X, y = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # the first image is a 0: an empty centre column surrounded by ink
    image = X[0].reshape(8, 8)
    assert y[0] == 0 and image[3:5, 3:5].sum() == 0 and image[:, 2].sum() > 20


def test_digits_default_run_reaches_95_percent(tmp_path):
    result = _run("train", "--dataset", "digits", "--no-progress", "--jit", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    accuracy_line = [line for line in result.stdout.splitlines() if "final test accuracy" in line]
    assert float(accuracy_line[0].split()[3]) >= 0.95


# -- 7. per data set defaults ---------------------------------------------------------------


def test_moons_defaults_reach_97_percent_and_the_settings_are_printed(tmp_path):
    result = _run("train", "--dataset", "moons", "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("settings: --hidden 16 16 --activation relu --init uniform --optimizer adam"
            in result.stdout)
    final = [line for line in result.stdout.splitlines() if "final test accuracy" in line]
    assert float(final[0].split()[3]) >= 0.97
