"""Module, Neuron, Layer, MLP: shapes, names, initialisation, errors, and saving/loading."""

import json
import math
import os
import re

import numpy as np
import pytest

import autograd.files
from autograd import Value
from nn import MLP, Layer, Module, Neuron, Perceptron


def test_mlp_has_micrograd_shapes_and_a_linear_output():
    model = MLP(2, [16, 16, 1])
    assert [(layer.nin, layer.nout) for layer in model.layers] == [(2, 16), (16, 16), (16, 1)]
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]
    assert len(model.parameters()) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1
    out = model([0.5, -1.0])
    assert isinstance(out, Value)  # one output: a Value, micrograd's shape


def test_layer_always_returns_a_list():
    assert len(Layer(3, 1)([1.0, 2.0, 3.0])) == 1
    assert isinstance(Neuron(3)([1.0, 2.0, 3.0]), Value)


def test_named_parameters_are_stable_dotted_names():
    model = MLP(4, [16, 3], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:6] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.w.2", "layers.0.neurons.0.w.3",
                         "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert "layers.0.neurons.3.w.1" in names
    assert names[-1] == "layers.1.neurons.2.b"
    assert len(set(names)) == len(names) == len(model.parameters())
    assert names == [name for name, _ in MLP(4, [16, 3], seed=5).named_parameters()]


def test_repr_is_readable():
    assert repr(MLP(4, [16, 3])) == ("MLP(nin=4, nouts=[16, 3], activation='relu', "
                                  "output_activation='linear')")
    assert repr(Layer(2, 3, "tanh")) == "Layer(nin=2, nout=3, activation='tanh')"
    assert repr(Perceptron(2)) == "Perceptron(nin=2)"


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "step", "linear"])
def test_each_activation_is_applied(activation):
    neuron = Neuron(2, activation, seed=0)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.5, -2.0, 0.25
    s = 0.5 * 1.5 - 2.0 * 0.75 + 0.25  # -0.5
    expected = {"relu": 0.0, "tanh": math.tanh(s), "sigmoid": 1 / (1 + math.exp(-s)),
                "step": 0.0, "linear": s}[activation]
    assert neuron([1.5, 0.75]).data == pytest.approx(expected, rel=1e-15)


def test_step_activation_passes_no_gradient():
    neuron = Neuron(2, "step", seed=0)
    neuron([1.0, 2.0]).backward()
    assert all(p.grad == 0.0 for p in neuron.parameters())


def test_initialisation_is_seeded_micrograds_by_default_and_fan_in_scaled_on_request():
    a, b = MLP(4, [16, 3], seed=42), MLP(4, [16, 3], seed=42)
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != MLP(4, [16, 3], seed=43).state_dict()

    def weights(nin, init):
        return np.array([w.data for n in Layer(nin, 50, "relu", seed=0, init=init).neurons
                         for w in n.w])

    # micrograd's U(-1, 1): variance 1/3 whatever the fan-in
    assert weights(400, "uniform").var() == pytest.approx(1 / 3, rel=0.05)
    assert np.abs(weights(400, "uniform")).max() <= 1.0
    # U(-sqrt(6/nin), sqrt(6/nin)) has variance 2/nin (He); sqrt(3/nin) gives 1/nin (LeCun)
    assert weights(400, "he").var() == pytest.approx(2 / 400, rel=0.05)
    assert weights(4, "he").var() == pytest.approx(2 / 4, rel=0.15)
    assert np.abs(weights(400, "he")).max() <= math.sqrt(6 / 400)
    assert weights(400, "lecun").var() == pytest.approx(1 / 400, rel=0.05)
    assert all(n.b.data == 0.0 for n in Layer(4, 5).neurons)
    with pytest.raises(ValueError, match="unknown init 'xavier'; choose one of uniform"):
        MLP(2, [3], init="xavier")


@pytest.mark.parametrize("model, expects", [
    (MLP(4, [16, 3]), 4), (Layer(3, 2), 3), (Neuron(5), 5),
])
def test_wrong_number_of_inputs_says_how_many_are_expected(model, expects):
    with pytest.raises(ValueError, match=f"expects {expects} inputs, got 2"):
        model([1.0, 2.0])


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP(2, [3], activation="gelu")
    with pytest.raises(ValueError, match="nin must be a positive int"):
        Neuron(0)
    with pytest.raises(ValueError, match="at least one layer"):
        MLP(2, [])


def test_zero_grad_clears_every_parameter():
    model = MLP(3, [4, 2], seed=0)
    sum(model([1.0, -1.0, 0.5])).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_custom_module_finds_parameters_in_attributes_and_lists():
    class Affine(Module):
        def __init__(self):
            self.scale = Value(2.0)
            self.blocks = [Neuron(1, "linear", seed=0), Neuron(1, "tanh", seed=1)]
            self._cache = Value(9.0)  # private: not a parameter

        def config(self):
            return {"type": "Affine"}

    names = [n for n, _ in Affine().named_parameters()]
    assert names == ["scale", "blocks.0.w.0", "blocks.0.b", "blocks.1.w.0", "blocks.1.b"]


# -- state and files ---------------------------------------------------------


def test_state_dict_round_trip_through_a_file(tmp_path):
    model = MLP(4, [5, 3], "tanh", seed=1)
    path = model.save(tmp_path / "sub" / "model.json")
    saved = json.loads(path.read_text())
    assert saved["format"] == "chainrule-module" and saved["version"] == 1
    assert saved["module"] == {"type": "MLP", "nin": 4, "nouts": [5, 3], "activation": "tanh",
                               "output_activation": "linear"}
    other = MLP(4, [5, 3], "tanh", seed=2)
    other.load(path)
    assert other.state_dict() == model.state_dict()  # floats round-trip exactly
    x = [0.1, 0.2, -0.3, 0.4]
    assert [o.data for o in other(x)] == [o.data for o in model(x)]


def test_saved_file_has_ordinary_permissions(tmp_path):
    path = MLP(2, [2]).save(tmp_path / "m.json")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_load_rejects_another_architecture_and_leaves_the_model_unchanged(tmp_path):
    MLP(4, [8, 3]).save(tmp_path / "m.json")
    model = MLP(4, [16, 3], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"holds MLP\(nin=4, nouts=\[8, 3\].*but this model is "
                                         r"MLP\(nin=4, nouts=\[16, 3\]"):
        model.load(tmp_path / "m.json")
    assert model.state_dict() == before


@pytest.mark.parametrize("content, message", [
    ('{"format": "chainrule-module", "version": 1, "modu', "not valid JSON"),
    ('[1, 2, 3]', "not a chainrule model file"),
    ('{"format": "chainrule-module", "version": 99}', "format version 99"),
])
def test_load_rejects_corrupt_files(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content)
    model = MLP(2, [2], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        model.load(path)
    assert model.state_dict() == before


def test_load_validates_every_value_before_changing_anything(tmp_path):
    model = MLP(2, [2], seed=0)
    path = model.save(tmp_path / "m.json")
    saved = json.loads(path.read_text())
    saved["parameters"]["layers.0.neurons.1.b"] = "NaN"
    path.write_text(json.dumps(saved))
    target = MLP(2, [2], seed=9)
    before = target.state_dict()
    with pytest.raises(ValueError, match=re.escape("layers.0.neurons.1.b = 'NaN' is not")):
        target.load(path)
    assert target.state_dict() == before


def test_load_state_dict_names_missing_and_unexpected_keys():
    model = MLP(2, [1], seed=0)
    state = model.state_dict()
    state.pop("layers.0.neurons.0.b")
    state["layers.9.w"] = 1.0
    expected = "missing layers.0.neurons.0.b, unexpected layers.9.w"
    with pytest.raises(ValueError, match=re.escape(expected)):
        model.load_state_dict(state)


@pytest.mark.parametrize("crash_in", ["fsync", "replace"])
def test_a_crash_during_save_keeps_the_previous_file(tmp_path, monkeypatch, crash_in):
    path = tmp_path / "model.json"
    MLP(2, [2], seed=0).save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("simulated crash")

    monkeypatch.setattr(autograd.files.os, crash_in, crash)
    with pytest.raises(OSError, match="simulated crash"):
        MLP(2, [2], seed=1).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]  # no temporary left behind


def test_saving_a_model_with_a_non_finite_parameter_fails_before_writing(tmp_path):
    path = tmp_path / "model.json"
    model = MLP(2, [2], seed=0)
    model.save(path)
    before = path.read_bytes()
    model.layers[0].neurons[0].b.data = float("inf")
    with pytest.raises(ValueError):
        model.save(path)
    assert path.read_bytes() == before
