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


generic = _benchmark("generic")


def test_generic_quick_run_checks_every_row_then_reports_it():
    """``benchmarks/generic.py --quick`` as a user runs it: every engine that can run the
    code agrees with microgpt's own engine, and every row is in the report."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "generic.py"
    done = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for title in ("microgpt training step", "sum of products", "mixed ops"):
        assert f"  {title}: microgpt's Value ok; chainrule ok;" in text
    assert "| microgpt's Value | " in text and "| chainrule | " in text
    assert "| sum of products | chainrule | " in text and "| mixed ops | chainrule | " in text
    assert "**wrong**" not in text and "**failed**" not in text
    if generic.micrograd_available():  # it runs the sums, not microgpt (no exp or log)
        assert "  sum of products: microgpt's Value ok; chainrule ok; micrograd 0.1.0 ok" in text
        assert "| micrograd 0.1.0 | **skipped**: AttributeError: " in text
    assert "nodes per step" in text and "chainrule at least 2x microgpt's Value" in text


def test_generic_reports_a_row_that_disagrees_as_wrong_and_does_not_time_it():
    class Broken(generic.Value):
        """microgpt's Value with a product whose local derivative is off by 1e-9."""

        __slots__ = ()

        def __mul__(self, other):
            out = super().__mul__(other)
            out._local_grads = (out._local_grads[0] * (1 + 1e-9), out._local_grads[1])
            return out

    engines = [(generic.PEER, generic.Value, ""), ("broken", Broken, ""),
               (generic.CHAINRULE, generic.autograd.Value, "")]
    result = generic.measure(generic.SumOfProducts(4, 5, 1), engines, rounds=1)
    broken = result["rows"]["broken"]
    assert broken["status"] == "wrong" and "disagrees with microgpt's Value" in broken["reason"]
    assert "ms" not in broken
    assert result["rows"][generic.CHAINRULE]["status"] == "ok"
    assert result["rows"][generic.CHAINRULE]["grads_rel"] <= generic.TOLERANCE


def test_generic_microgpt_port_is_microgpts_model():
    """4,192 parameters with a 27-token vocabulary, and the first loss is near log(27)
    (weights of std 0.08: nearly uniform predictions)."""
    import math

    model = generic.microgpt(generic.Value, generic.DOCS)
    assert model.vocab_size == 27 and len(model.params) == 4192
    loss = model.forward(generic.DOCS[0])
    assert abs(loss.data - math.log(27)) < 0.3


lecture_jit = _benchmark("lecture_jit")


def test_lecture_jit_quick_run_checks_every_row_and_the_rewrite():
    """``benchmarks/lecture_jit.py --quick``: every row agrees with the lecture's eager
    backward() to 1e-12, and the lecture's sums became nn.MLP's matrix products."""
    out = io.StringIO()
    results = lecture_jit.run(quick=True, out=out)
    text = out.getvalue()
    assert [r["sizes"] for r in results] == [[2, 16, 16, 1], [64, 32, 10]]
    rows = {"lecture MLP, eager", "nn.MLP, eager", "lecture MLP, jit", "nn.MLP, jit",
            "nn.MLP, jit, theta", "lecture MLP, jit batch", "nn.MLP, jit batch"}
    for result in results:
        assert result["agreement"] <= 1e-12
        assert result["same_code_as_nn"] and result["matrix_products"] == 2
        assert result["sums_fused"] == sum(result["sizes"][1:])  # one dot node per neuron
        assert set(result["per_sample_us"]) == rows
        assert all(micros > 0 for micros in result["per_sample_us"].values())
        assert set(result["compile_s"]) == {"lecture MLP, jit", "nn.MLP, jit"}
    assert "| 64-32-10 | 2,410 | lecture MLP, jit |" in text and "trace + compile" in text


def test_lecture_jit_refuses_a_row_that_disagrees(monkeypatch):
    right = lecture_jit.JitBatch.gradient

    def wrong(self, x, t):
        loss, grads = right(self, x, t)
        grads[3] += 1e-9
        return loss, grads

    monkeypatch.setattr(lecture_jit.JitBatch, "gradient", wrong)
    with pytest.raises(AssertionError, match="lecture MLP, jit batch disagrees"):
        lecture_jit.measure((2, 16, 16, 1), 4, 1)
