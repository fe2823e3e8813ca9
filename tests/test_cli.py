"""The console script: ``chainrule train`` and ``python -m nn train``."""

import json
import shutil
import subprocess
import sys

import pytest

from nn import MLP
from nn.cli import main


def test_default_train_reaches_the_promised_test_accuracy(tmp_path, capsys):
    """The README's main job, exactly as shipped: 4 -> 16 ReLU -> 3 on Iris."""
    assert main(["train", "--no-progress", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "final test accuracy" in out and "confusion matrix" in out
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["config"]["hidden"] == [16] and history["config"]["activation"] == "relu"
    assert len(history["epochs"]) == history["config"]["epochs"] == 30
    assert history["test_accuracy"] >= 0.93
    assert sum(map(sum, history["confusion_matrix"])) == 45
    assert sum(history["confusion_matrix"][i][i] for i in range(3)) == round(
        history["test_accuracy"] * 45)
    model = MLP(4, [16, 3])
    model.load(tmp_path / "model.json")  # the saved model loads into the same architecture


def test_train_is_deterministic(tmp_path):
    for run in ("a", "b"):
        main(["train", "--epochs", "2", "--no-progress", "--out", str(tmp_path / run)])
    first, second = (tmp_path / run / "model.json" for run in ("a", "b"))
    assert first.read_text() == second.read_text()


@pytest.mark.parametrize("flags", [
    ["--dataset", "moons", "--hidden", "8", "8", "--activation", "tanh"],
    ["--hidden", "--optimizer", "adam", "--lr", "0.05", "--batch-size", "16"],
    ["--momentum", "0.9", "--seed", "3", "--activation", "sigmoid"],
])
def test_train_flags(tmp_path, flags, capsys):
    assert main(["train", "--epochs", "2", "--no-progress", "--out", str(tmp_path), *flags]) == 0
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["epochs"]) == 2
    assert 0.0 <= history["test_accuracy"] <= 1.0
    assert "epoch   2/2" in capsys.readouterr().out


@pytest.mark.parametrize("flags", [["--lr", "-1"], ["--epochs", "0"], ["--dataset", "mnist"],
                                   ["--activation", "gelu"]])
def test_bad_flags_exit_with_status_2(flags, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *flags])
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_python_dash_m_nn_is_the_same_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "nn", "train", "--epochs", "1", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=True)
    assert "final test accuracy" in result.stdout
    assert "training" in result.stderr  # the progress bar
    assert (tmp_path / "model.json").exists() and (tmp_path / "history.json").exists()


@pytest.mark.skipif(shutil.which("chainrule") is None, reason="console script not installed")
def test_console_script_is_installed(tmp_path):
    result = subprocess.run(["chainrule", "train", "--epochs", "1", "--no-progress",
                             "--out", str(tmp_path)], capture_output=True, text=True,
                            timeout=120, check=True)
    assert "final test accuracy" in result.stdout
