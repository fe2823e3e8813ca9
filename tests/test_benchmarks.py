"""The benchmark runs in quick mode so it cannot rot. No timing is asserted: only that
every implementation computes the same gradients and that the report is complete."""

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest


def _benchmark(name: str):
    """A script of benchmarks/ (not a package) loaded as a module."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


iris_sgd = _benchmark("iris_sgd")
scaling = _benchmark("scaling")


def test_quick_run_reports_every_figure():
    out = io.StringIO()
    results = iris_sgd.run(quick=True, out=out)
    text = out.getvalue()
    assert results["agreement"] <= 1e-9
    names = ["chainrule (eager)", "chainrule (eager), micrograd's loop",
             "floats, closed form", "numpy per sample", "numpy full batch"]
    if iris_sgd.micrograd_available():
        names += ["micrograd 0.1.0", "micrograd, gc disabled"]
        assert results["deepest_chain micrograd"] < 5_000  # its recursive topological sort
    for name in names:
        assert f"| {name} |" in text
        assert results["per_sample_us"][name] > 0
    assert results["deepest_chain chainrule"] == 100_000
    assert 0 < results["bytes_per_node chainrule"] < 1_000
    assert "forward" in text and "backward" in text


def test_implementations_are_checked_against_each_other():
    X, Y, weights = iris_sgd.workload()

    class Broken(iris_sgd.Floats):
        name = "broken"

        def gradients(self, x, y):
            grads = super().gradients(x, y)
            grads[70] += 1e-6  # one wrong entry of dL/dW2
            return grads

    impls = [iris_sgd.Floats(weights), iris_sgd.Chainrule(weights), Broken(weights)]
    with pytest.raises(AssertionError, match="broken disagrees"):
        iris_sgd.check_agreement(impls, X[0], Y[0])
    assert iris_sgd.check_agreement(impls[:2], X[0], Y[0]) < 1e-12


def test_micrograd_idiom_trains_exactly_like_the_optimizer():
    """model.zero_grad() + p.data -= lr * p.grad is the same update as SGD: the two rows
    time the same computation."""
    X, Y, weights = iris_sgd.workload()
    with_sgd, by_hand = iris_sgd.Chainrule(weights), iris_sgd.ChainruleMicrogradIdiom(weights)
    with_sgd.epoch(X[:30], Y[:30])
    by_hand.epoch(X[:30], Y[:30])
    after = [p.data for p in by_hand.model.parameters()]
    assert after == [p.data for p in with_sgd.model.parameters()]
    assert after != [p.data for p in iris_sgd.Chainrule(weights).model.parameters()]


@pytest.mark.skipif(not iris_sgd.micrograd_available(), reason="micrograd not installed")
def test_micrograd_exp_and_log_match_finite_differences():
    iris_sgd.check_micrograd_extensions()


def test_scaling_quick_run_checks_every_row_then_reports_it():
    out = io.StringIO()
    results = scaling.run(quick=True, out=out)
    text = out.getvalue()
    for result in results:
        assert result["agreement"] <= 1e-12
        assert result["compile_s"] > 0
        names = set(result["per_sample_us"])
        assert {"chainrule eager", "chainrule jit", "chainrule jit, full batch",
                "numpy per sample", "numpy full batch"} <= names
        assert any(name.startswith("PyTorch") for name in names) == scaling.available("torch")
        assert any(name.startswith("JAX") for name in names) == scaling.available("jax")
    assert "| 4-16-3 | 131 | chainrule jit |" in text and "trace + compile" in text


def test_scaling_refuses_a_row_that_disagrees(monkeypatch):
    monkeypatch.setattr(scaling.NumpySample, "gradient",
                        lambda self, i, y: np.zeros(75))  # a wrong gradient
    with pytest.raises(AssertionError, match="numpy per sample disagrees with chainrule eager"):
        scaling.measure((8, 6, 3), 4, 1)
