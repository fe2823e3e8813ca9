"""nn.to_torch and nn.from_torch: the same model in PyTorch, number for number.

In float64 the two frameworks compute the same sums in possibly different orders, so
outputs, gradients and one optimizer step agree to rounding (1e-12); the weights
themselves are copied exactly, both ways. PyTorch is a peer, not a dependency: this
module is skipped where it is not installed (the ImportError it gives is tested too).
"""

import pickle
import subprocess
import sys

import numpy as np
import pytest

import nn
from autograd import Value
from nn import MLP, SGD, Classifier, Layer, Perceptron, Regressor, Standardize, cross_entropy
from nn.layers import ACTIVATIONS
from nn.torch_bridge import TORCH_ACTIVATIONS

torch = pytest.importorskip("torch")
F = torch.nn.functional

SUPPORTED = list(TORCH_ACTIVATIONS)
UNSUPPORTED = [name for name in ACTIVATIONS if name not in TORCH_ACTIVATIONS]
SHAPES = [(1, [2]), (3, [4, 2]), (4, [16, 3]), (5, [6, 7, 4]), (2, [3, 3, 3, 2])]
TOLERANCE = 1e-12


def random_mlp(nin, nouts, activation="relu", seed=0, **kwargs):
    """An MLP with every parameter random (biases start at 0 otherwise)."""
    model = MLP(nin, nouts, activation, seed=seed, **kwargs)
    rng = np.random.default_rng(seed + 1000)
    for p in model.parameters():
        p.data = float(rng.normal())
    return model


def random_classifier(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal([5.8, 3.0, 3.8, 1.2], [0.8, 0.4, 1.8, 0.8], size=(40, 4))
    model = Classifier(random_mlp(4, [8, 3], seed=seed), ["setosa", "versicolor", "virginica"],
                       preprocess=Standardize.fit(X))
    return model, X[:6], rng.integers(0, 3, size=6)


def samples(nin, n=6, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, nin)), rng.integers(0, 2, size=n)


def assert_close(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape
    difference = np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))
    assert difference.max() <= TOLERANCE, difference.max()


def chainrule_outputs(model, X):
    outputs = [model(list(x)) for x in X]  # (a Value where there is one output)
    return np.array([[o.data] if isinstance(o, Value) else [v.data for v in o]
                     for o in outputs])


def torch_outputs(module, X):
    return module(torch.tensor(X, dtype=torch.float64)).detach().numpy()


def side_by_side(model, module, read="data"):
    """Every weight and bias as two flat arrays, chainrule's and PyTorch's: ``read`` is
    "data" or "grad". Linear i's weight[j, k] is layer i's neurons[j].w[k]."""
    mlp = model.network if isinstance(model, Classifier) else model
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    assert len(linears) == len(mlp.layers)
    ours, theirs = [], []
    for layer, linear in zip(mlp.layers, linears):
        ours += [getattr(w, read) for neuron in layer.neurons for w in neuron.w]
        ours += [getattr(neuron.b, read) for neuron in layer.neurons]
        for tensor in (linear.weight, linear.bias):
            numbers = tensor if read == "data" else tensor.grad
            theirs += numbers.detach().flatten().tolist()
    return np.array(ours), np.array(theirs)


def losses(model, module, X, y):
    """The mean cross-entropy over (X, y) in each framework, before backward."""
    ours = sum(cross_entropy(model(list(x)), int(t)) for x, t in zip(X, y)) / len(X)
    theirs = F.cross_entropy(module(torch.tensor(X, dtype=torch.float64)), torch.tensor(y))
    return ours, theirs


# -- the same model, in PyTorch's layout ------------------------------------------------


def test_weights_are_copied_exactly_in_pytorchs_layout():
    model = random_mlp(3, [4, 2], "tanh")
    module = nn.to_torch(model)
    assert [type(m).__name__ for m in module] == ["Linear", "Tanh", "Linear"]
    for layer, linear in zip(model.layers, module[::2]):
        assert linear.weight.dtype == torch.float64 and linear.weight.shape == (
            layer.nout, layer.nin)  # (out, in): row j is neuron j's w
        for j, neuron in enumerate(layer.neurons):
            assert linear.weight[j].tolist() == [w.data for w in neuron.w]
            assert linear.bias[j].item() == neuron.b.data


@pytest.mark.parametrize("activation", SUPPORTED)
def test_every_supported_activation_becomes_its_pytorch_module(activation):
    module = nn.to_torch(MLP(2, [3, 3, 2], activation=activation, output_activation=activation,
                             seed=0))
    follower = TORCH_ACTIVATIONS[activation]
    expected = (["Linear", follower] if follower else ["Linear"]) * 3
    assert [type(m).__name__ for m in module] == expected


@pytest.mark.parametrize("output_activation", SUPPORTED)
@pytest.mark.parametrize("activation", SUPPORTED)
@pytest.mark.parametrize("nin, nouts", [*SHAPES, (3, [5, 1])], ids=str)
def test_outputs_agree(nin, nouts, activation, output_activation):
    model = random_mlp(nin, nouts, activation, output_activation=output_activation)
    X, _ = samples(nin)
    assert_close(chainrule_outputs(model, X), torch_outputs(nn.to_torch(model), X))


@pytest.mark.parametrize("activation", SUPPORTED)
@pytest.mark.parametrize("nin, nouts", SHAPES, ids=str)
def test_cross_entropy_gradients_agree(nin, nouts, activation):
    model = random_mlp(nin, nouts, activation, seed=nin)
    module = nn.to_torch(model)
    X, y = samples(nin)
    ours, theirs = losses(model, module, X, y)
    ours.backward()
    theirs.backward()
    assert_close(ours.data, theirs.item())
    assert_close(*side_by_side(model, module, "grad"))
    assert np.abs(side_by_side(model, module, "grad")[0]).max() > 0  # a real comparison


@pytest.mark.parametrize("activation", SUPPORTED)
@pytest.mark.parametrize("nin, nouts", SHAPES, ids=str)
def test_one_sgd_step_gives_the_same_parameters(nin, nouts, activation):
    model = random_mlp(nin, nouts, activation, seed=nin)
    module = nn.to_torch(model)
    before = side_by_side(model, module)[0]
    X, y = samples(nin)
    ours, theirs = losses(model, module, X, y)
    ours.backward()
    theirs.backward()
    SGD(model.parameters(), lr=0.3).step()
    torch.optim.SGD(module.parameters(), lr=0.3).step()
    after_ours, after_theirs = side_by_side(model, module)
    assert_close(after_ours, after_theirs)
    assert np.abs(after_ours - before).max() > 0.01  # the step moved them


def test_a_classifier_with_standardize_agrees_in_outputs_gradients_and_a_step():
    model, X, y = random_classifier()
    module = nn.to_torch(model)
    assert [type(m).__name__ for m in module] == ["StandardizeModule", "Linear", "ReLU",
                                                  "Linear"]
    assert module.classes == model.classes
    assert dict(module[0].named_buffers()).keys() == {"mean", "scale"}
    assert list(module[0].parameters()) == []  # mean and scale are not trained
    assert module[0].mean.tolist() == model.preprocess.mean
    assert module[0].scale.tolist() == model.preprocess.scale
    assert_close(chainrule_outputs(model, X), torch_outputs(module, X))
    ours, theirs = losses(model, module, X, y)
    ours.backward()
    theirs.backward()
    assert_close(*side_by_side(model, module, "grad"))
    SGD(model.parameters(), lr=0.5).step()
    torch.optim.SGD(module.parameters(), lr=0.5).step()
    assert_close(*side_by_side(model, module))
    assert_close(chainrule_outputs(model, X), torch_outputs(module, X))


def test_a_bare_standardize_converts_both_ways():
    standardize = Standardize([1.0, -2.0, 0.5], [2.0, 0.25, 3.0])
    module = nn.to_torch(standardize)
    x = [3.0, -1.0, 0.5]
    assert module(torch.tensor(x, dtype=torch.float64)).tolist() == standardize(x)
    back = nn.from_torch(module)
    assert isinstance(back, Standardize) and back.config() == standardize.config()


def test_dtype_float32_is_honoured():
    model = random_mlp(3, [4, 2])
    module = nn.to_torch(model, dtype=torch.float32)
    assert {p.dtype for p in module.parameters()} == {torch.float32}
    X, _ = samples(3)
    outputs = module(torch.tensor(X, dtype=torch.float32)).detach().numpy()
    assert np.abs(outputs - chainrule_outputs(model, X)).max() < 1e-5


def test_the_weights_are_copied_not_shared():
    model = random_mlp(3, [4, 2])
    module = nn.to_torch(model)
    w = model.layers[0].neurons[0].w[0]
    before = w.data
    with torch.no_grad():
        module[0].weight[0, 0] += 1.0
    assert w.data == before
    back = nn.from_torch(module)
    module[0].weight.data[0, 0] = 7.0
    assert back.layers[0].neurons[0].w[0].data == before + 1.0
    w.data = -5.0
    assert module[0].weight[0, 0].item() == 7.0


def test_to_torch_leaves_torchs_random_numbers_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    nn.to_torch(random_mlp(4, [16, 3]))
    assert torch.equal(torch.rand(3), expected)


def test_a_converted_classifier_pickles_and_saves():
    model, X, _ = random_classifier()
    module = nn.to_torch(model)
    again = pickle.loads(pickle.dumps(module))
    assert again.classes == model.classes
    assert torch.equal(torch.tensor(torch_outputs(again, X)), torch.tensor(
        torch_outputs(module, X)))
    assert set(module.state_dict()) == {"0.mean", "0.scale", "1.weight", "1.bias",
                                        "3.weight", "3.bias"}


# -- and back --------------------------------------------------------------------------


@pytest.mark.parametrize("nin, nouts", SHAPES, ids=str)
@pytest.mark.parametrize("activation", SUPPORTED)
def test_round_trip_reproduces_weights_and_config_exactly(nin, nouts, activation):
    model = random_mlp(nin, nouts, activation, output_activation="sigmoid")
    back = nn.from_torch(nn.to_torch(model))
    assert type(back) is MLP
    expected = model.config()
    if len(nouts) == 1:  # no hidden layer: its activation computes nothing, PyTorch has
        expected["activation"] = "relu"  # no place for it, and it comes back the default
    assert back.config() == expected
    assert back.state_dict() == model.state_dict()  # exact, not approximate


def test_round_trip_keeps_different_activations_per_layer():
    model = random_mlp(3, [4, 5, 6, 2])
    model.layers[0].activation = "tanh"
    model.layers[1].activation = "linear"
    model.layers[2].activation = "sigmoid"
    back = nn.from_torch(nn.to_torch(model))
    assert back.config() == model.config()
    assert "activations" in back.config()
    assert back.state_dict() == model.state_dict()


def test_round_trip_of_a_classifier_keeps_everything():
    model, X, _ = random_classifier()
    back = nn.from_torch(nn.to_torch(model))
    assert type(back) is Classifier
    assert back.config() == model.config()
    assert back.state_dict() == model.state_dict()
    assert back.predict(X).tolist() == model.predict(X).tolist()


def test_a_model_built_and_trained_in_torch_comes_over():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 3)).double()
    X, y = samples(4, n=10)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    F.cross_entropy(module(torch.tensor(X)), torch.tensor(y)).backward()
    before = module[0].weight.detach().clone()
    optimizer.step()
    assert not torch.equal(before, module[0].weight)  # it was trained
    model = nn.from_torch(module)
    assert type(model) is MLP and model.config() == MLP(4, [8, 3]).config()
    assert_close(*side_by_side(model, module))
    assert_close(chainrule_outputs(model, X), torch_outputs(module, X))


def test_a_float32_model_comes_over_with_its_exact_numbers():
    torch.manual_seed(1)
    module = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    model = nn.from_torch(module)
    ours, theirs = side_by_side(model, module)
    assert ours.tolist() == theirs.tolist()  # float32 -> float64 is exact
    X, _ = samples(3)
    assert_close(chainrule_outputs(model, X), torch_outputs(module.double(), X))


def test_from_torch_makes_a_classifier_when_given_classes():
    module = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Linear(2, 4), torch.nn.Sigmoid(),
                                 torch.nn.Identity(), torch.nn.Linear(4, 2))
    model = nn.from_torch(module, classes=["no", "yes"])
    assert type(model) is Classifier and model.classes == ["no", "yes"]
    assert model.preprocess is None
    assert model.network.config() == MLP(2, [4, 2], "sigmoid").config()
    assert type(nn.from_torch(module)) is MLP
    single = nn.from_torch(torch.nn.Linear(3, 2))  # a Linear alone: a one-layer MLP
    assert single.config() == MLP(3, [2]).config()


def test_from_torch_reads_classes_features_and_target_from_the_module():
    model, _, _ = random_classifier()
    model = Classifier(model.network, model.classes, model.preprocess,
                       features=["a", "b", "c", "d"], target="species")
    module = nn.to_torch(model)
    assert (module.features, module.target) == (["a", "b", "c", "d"], "species")
    back = nn.from_torch(module)
    assert (back.features, back.target) == (["a", "b", "c", "d"], "species")
    renamed = nn.from_torch(module, classes=["x", "y", "z"])  # the argument wins
    assert renamed.classes == ["x", "y", "z"]


# -- refused, with a message that names the problem ------------------------------------


@pytest.mark.parametrize("activation", UNSUPPORTED)
@pytest.mark.parametrize("where", ["hidden", "output"])
def test_an_activation_without_a_pytorch_counterpart_is_refused(activation, where):
    model = (MLP(3, [4, 2], activation=activation, seed=0) if where == "hidden"
             else MLP(3, [4, 2], output_activation=activation, seed=0))
    index = 0 if where == "hidden" else 1
    with pytest.raises(ValueError, match=rf"layers\[{index}\] of the MLP uses activation "
                                         rf"'{activation}'.*supported: relu, tanh, sigmoid, "
                                         "linear"):
        nn.to_torch(model)
    classifier = Classifier(model, ["a", "b"])
    with pytest.raises(ValueError, match=rf"layers\[{index}\] of the Classifier's network"):
        nn.to_torch(classifier)


def test_an_unsupported_activation_list_is_exactly_the_unsupported_ones():
    # a new activation in nn.layers must be mapped here, or refused here
    assert UNSUPPORTED == ["step"]
    assert set(SUPPORTED) | set(UNSUPPORTED) == set(ACTIVATIONS)


def test_a_layer_with_mixed_activations_is_refused():
    model = MLP(3, [3, 2], seed=0)
    model.layers[0].activation = ["relu", "tanh", "relu"]
    with pytest.raises(ValueError, match=r"layers\[0\] of the MLP mixes activations across "
                                         r"its neurons \(relu, tanh\).*one activation"):
        nn.to_torch(model)


@pytest.mark.parametrize("model", [Perceptron(3, seed=0), Layer(3, 2, seed=0),
                                   Regressor(MLP(3, [4, 1], seed=0)), "MLP"],
                         ids=["Perceptron", "Layer", "Regressor", "str"])
def test_to_torch_refuses_what_it_does_not_convert(model):
    with pytest.raises(TypeError, match=rf"to_torch converts an MLP.*got "
                                        rf"{type(model).__name__}"):
        nn.to_torch(model)


def test_to_torch_refuses_a_classifier_of_another_network_or_preprocessing():
    with pytest.raises(TypeError, match="the Classifier's network is a Layer"):
        nn.to_torch(Classifier(Layer(3, 2, seed=0), ["a", "b"]))
    other = Classifier(MLP(3, [2], seed=0), ["a", "b"], preprocess=MLP(3, [3], seed=0))
    with pytest.raises(TypeError, match="the Classifier's preprocessing is a MLP"):
        nn.to_torch(other)


def test_to_torch_refuses_an_integer_dtype():
    with pytest.raises(ValueError, match=r"floating-point torch.dtype.*torch.int64"):
        nn.to_torch(MLP(2, [2], seed=0), dtype=torch.int64)


@pytest.mark.parametrize("layer, message", [
    (torch.nn.Conv2d(1, 4, 3), "submodule '1' is a Conv2d"),
    (torch.nn.BatchNorm1d(8), "submodule '1' is a BatchNorm1d"),
    (torch.nn.Dropout(0.5), r"submodule '1' is a Dropout.*in eval mode Dropout is the "
                            "identity: leave it out"),
    (torch.nn.LeakyReLU(), "submodule '1' is a LeakyReLU"),
    (torch.nn.Softmax(dim=-1), "submodule '1' is a Softmax"),
    (torch.nn.Sequential(torch.nn.ReLU()), "submodule '1' is a Sequential"),
], ids=lambda x: type(x).__name__ if isinstance(x, torch.nn.Module) else "")
def test_from_torch_refuses_a_layer_it_cannot_convert(layer, message):
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), layer, torch.nn.Linear(8, 3))
    with pytest.raises(ValueError, match=rf"from_torch: {message}.*it converts a "
                                         r"torch.nn.Sequential of Linear layers"):
        nn.from_torch(module)


@pytest.mark.parametrize("module, message", [
    (torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 2)),
     r"submodule '0' \(ReLU\) does not follow a Linear"),
    (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.ReLU()),
     r"submodule '2' \(ReLU\) does not follow a Linear"),
    (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 2)),
     r"submodule '1' \(Linear\(in_features=4.*\) takes 4 inputs, but the module before "
     "it gives 3"),
    (torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False)),
     r"submodule '0' .* has no bias.*bias=True"),
    (torch.nn.Sequential(), "has no Linear layer"),
    (torch.nn.Sequential(torch.nn.Identity()), "has no Linear layer"),
    (torch.nn.GRU(3, 4), "got a GRU; from_torch converts a torch.nn.Sequential"),
], ids=["relu-first", "two-activations", "sizes", "no-bias", "empty", "identity-only",
        "not-sequential"])
def test_from_torch_refuses_a_structure_it_cannot_convert(module, message):
    with pytest.raises(ValueError, match=f"from_torch: .*{message}"):
        nn.from_torch(module)


def test_from_torch_refuses_standardize_in_the_wrong_place_or_without_class_names():
    standardize = nn.to_torch(Standardize([0.0, 1.0], [1.0, 2.0]))
    late = torch.nn.Sequential(torch.nn.Linear(2, 2), standardize)
    with pytest.raises(ValueError, match=r"submodule '1' is a StandardizeModule.*not first"):
        nn.from_torch(late)
    nameless = torch.nn.Sequential(standardize, torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"standardizes its inputs.*pass classes=\[\.\.\.\]"):
        nn.from_torch(nameless)
    assert nn.from_torch(nameless, classes=["a", "b"]).preprocess.config() == \
        nn.from_torch(standardize).config()
    wrong = torch.nn.Sequential(standardize, torch.nn.Linear(3, 2))
    with pytest.raises(ValueError, match="takes 3 inputs, but the module before it gives 2"):
        nn.from_torch(wrong, classes=["a", "b"])
    with pytest.raises(ValueError, match="classes given for a StandardizeModule alone"):
        nn.from_torch(standardize, classes=["a", "b"])


def test_from_torch_refuses_non_finite_weights_and_non_modules():
    module = torch.nn.Sequential(torch.nn.Linear(2, 2))
    with torch.no_grad():
        module[0].bias[1] = float("nan")
    with pytest.raises(ValueError, match=r"submodule '0' .* holds non-finite weights"):
        nn.from_torch(module)
    with pytest.raises(TypeError, match=r"from_torch converts a torch.nn.Module, got MLP"):
        nn.from_torch(MLP(2, [2], seed=0))


# -- without PyTorch -------------------------------------------------------------------


def test_without_torch_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # what a missing package looks like
    for convert, name in ((nn.to_torch, "to_torch"), (nn.from_torch, "from_torch")):
        with pytest.raises(ImportError, match=rf"{name} needs PyTorch.*pip install torch.*"
                                              "https://download.pytorch.org/whl/cpu"):
            convert(MLP(2, [2], seed=0))


def test_importing_nn_does_not_import_torch():
    code = "import sys, nn; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
