"""minitorch's scalar training script, ported onto chainrule, as tests.

Source: MiniTorch (Sasha Rush and contributors), https://github.com/minitorch/minitorch,
files project/run_scalar.py (Network, Linear, ScalarTrain: the student's solution of
Module 1, Task 1.5), project/run_torch.py (the same network in PyTorch: the reference here)
and minitorch/datasets.py (make_pts, Graph, simple, diag, split, xor). Licence: MIT, as the
project states it; NOTE: the snapshot of minitorch/minitorch read for this port carries no
LICENSE file -- confirm the licence before publishing.

What would fail if chainrule were wrong: the losses and accuracies against PyTorch float64
on the same weights, and that every weight -- held in the nested lists
``self.weights[i][j]`` -- is a parameter and moves during training (the bug this guards
against: only the biases, in a flat list, were found and trained).
"""

# CHANGES FROM THE ORIGINAL:
# 1. `import minitorch` -> the `minitorch` namespace below, made of chainrule's parts:
#    `minitorch.Module` is `nn.Module`, `minitorch.SGD` is `nn.SGD`, and `minitorch.Scalar`
#    is a two-line shim for `autograd.Value` (minitorch's `name=` is chainrule's `label=`).
#    `minitorch.datasets` holds the generators of minitorch/datasets.py, typed in below.
# 2. Linear.forward: `b.value` -> `b` and `self.weights[i][j].value` -> `self.weights[i][j]`
#    (two lines): chainrule's `add_parameter(name, value)` returns the Value itself, where
#    minitorch's wraps it in a Parameter whose `.value` is the Scalar.
# For the tests only (not needed to run the script on chainrule):
# 3. `random.seed(...)` before building the data and the model (the script is unseeded), a
#    smaller `max_epochs`, and a `log_fn` that records instead of printing.
# 4. run_torch.py (the reference): `.double()` everywhere (PyTorch defaults to float32) and
#    the initial weights copied from the chainrule model instead of drawn by torch.rand.

import math
import random
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from autograd import Value
from nn import SGD, Module

# -- minitorch/datasets.py ----------------------------------------------------------------------


def make_pts(N):
    X = []
    for i in range(N):  # noqa: B007
        x_1 = random.random()
        x_2 = random.random()
        X.append((x_1, x_2))
    return X


@dataclass
class Graph:
    N: int
    X: list
    y: list


def simple(N):
    X = make_pts(N)
    y = []
    for x_1, x_2 in X:  # noqa: B007
        y1 = 1 if x_1 < 0.5 else 0
        y.append(y1)
    return Graph(N, X, y)


def diag(N):
    X = make_pts(N)
    y = []
    for x_1, x_2 in X:
        y1 = 1 if x_1 + x_2 < 0.5 else 0
        y.append(y1)
    return Graph(N, X, y)


def split(N):
    X = make_pts(N)
    y = []
    for x_1, x_2 in X:  # noqa: B007
        y1 = 1 if x_1 < 0.2 or x_1 > 0.8 else 0
        y.append(y1)
    return Graph(N, X, y)


def xor(N):
    X = make_pts(N)
    y = []
    for x_1, x_2 in X:
        y1 = 1 if ((x_1 < 0.5 and x_2 > 0.5) or (x_1 > 0.5 and x_2 < 0.5)) else 0
        y.append(y1)
    return Graph(N, X, y)


datasets = {
    "Simple": simple,
    "Diag": diag,
    "Split": split,
    "Xor": xor,
}


# -- the shim: minitorch's names for chainrule's parts ---------------------------------------------


def Scalar(v, name=""):
    return Value(v, label=name)


minitorch = SimpleNamespace(Module=Module, Scalar=Scalar, SGD=SGD, datasets=datasets)


# -- project/run_scalar.py ----------------------------------------------------------------------


class Network(minitorch.Module):
    def __init__(self, hidden_layers):
        super().__init__()
        # ASSIGN1.5
        # Submodules
        self.layer1 = Linear(2, hidden_layers)
        self.layer2 = Linear(hidden_layers, hidden_layers)
        self.layer3 = Linear(hidden_layers, 1)
        # END ASSIGN1.5

    def forward(self, x):
        middle = [h.relu() for h in self.layer1.forward(x)]
        end = [h.relu() for h in self.layer2.forward(middle)]
        return self.layer3.forward(end)[0].sigmoid()


class Linear(minitorch.Module):
    def __init__(self, in_size, out_size):
        super().__init__()
        self.weights = []
        self.bias = []
        for i in range(in_size):
            self.weights.append([])
            for j in range(out_size):
                self.weights[i].append(
                    self.add_parameter(
                        f"weight_{i}_{j}", minitorch.Scalar(2 * (random.random() - 0.5))
                    )
                )
        for j in range(out_size):
            self.bias.append(
                self.add_parameter(
                    f"bias_{j}", minitorch.Scalar(2 * (random.random() - 0.5))
                )
            )

    def forward(self, inputs):
        # ASSIGN1.5
        y = [b for b in self.bias]  # CHANGED: b.value -> b
        for i, x in enumerate(inputs):
            for j in range(len(y)):
                y[j] = y[j] + x * self.weights[i][j]  # CHANGED: .value removed
        return y
        # END ASSIGN1.5


def default_log_fn(epoch, total_loss, correct, losses):
    print("Epoch ", epoch, " loss ", total_loss, "correct", correct)


class ScalarTrain:
    def __init__(self, hidden_layers):
        self.hidden_layers = hidden_layers
        self.model = Network(self.hidden_layers)

    def run_one(self, x):
        return self.model.forward(
            (minitorch.Scalar(x[0], name="x_1"), minitorch.Scalar(x[1], name="x_2"))
        )

    def train(self, data, learning_rate, max_epochs=500, log_fn=default_log_fn):
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.model = Network(self.hidden_layers)
        optim = minitorch.SGD(self.model.parameters(), learning_rate)

        losses = []
        for epoch in range(1, self.max_epochs + 1):
            total_loss = 0.0
            correct = 0
            optim.zero_grad()

            # Forward
            loss = 0
            for i in range(data.N):
                x_1, x_2 = data.X[i]
                y = data.y[i]
                x_1 = minitorch.Scalar(x_1)
                x_2 = minitorch.Scalar(x_2)
                out = self.model.forward((x_1, x_2))

                if y == 1:
                    prob = out
                    correct += 1 if out.data > 0.5 else 0
                else:
                    prob = -out + 1.0
                    correct += 1 if out.data < 0.5 else 0
                loss = -prob.log()
                (loss / data.N).backward()
                total_loss += loss.data

            losses.append(total_loss)

            # Update
            optim.step()

            # Logging
            if epoch % 10 == 0 or epoch == max_epochs:
                log_fn(epoch, total_loss, correct, losses)


# -- helpers of the tests (not in minitorch) ---------------------------------------------------


class Recorder:
    """A log_fn that keeps what default_log_fn prints (every 10th epoch and the last) and
    the list of every epoch's total loss."""

    def __init__(self):
        self.logged = []
        self.losses = []

    def __call__(self, epoch, total_loss, correct, losses):
        self.logged.append((epoch, total_loss, correct))
        self.losses = list(losses)


def weights_of(model):
    """Every Value of the nested lists, layer by layer: [(layer, i, j, Value)]."""
    return [(name, i, j, w) for name, layer in (("layer1", model.layer1),
                                                ("layer2", model.layer2),
                                                ("layer3", model.layer3))
            for i, row in enumerate(layer.weights) for j, w in enumerate(row)]


def biases_of(model):
    return [b for layer in (model.layer1, model.layer2, model.layer3) for b in layer.bias]


def train_recording_start(trainer, data, rate, epochs):
    """trainer.train(...), also returning the weights and biases the training started from.
    train() builds a fresh Network before its first epoch; the same draws from `random`,
    replayed, give a copy of it."""
    state = random.getstate()
    replay = Network(trainer.hidden_layers)
    random.setstate(state)
    log = Recorder()
    trainer.train(data, rate, max_epochs=epochs, log_fn=log)
    assert [w.data for *_, w in weights_of(trainer.model)] != [  # (it trained)
        w.data for *_, w in weights_of(replay)]
    start = {"weights": [w.data for *_, w in weights_of(replay)],
             "biases": [b.data for b in biases_of(replay)]}
    return log, start


def parameter_count(hidden):
    return (2 + 1) * hidden + (hidden + 1) * hidden + (hidden + 1) * 1


# -- the tests ------------------------------------------------------------------------------------


def test_every_weight_of_the_nested_lists_is_a_parameter():
    random.seed(0)
    model = Network(3)
    params = model.parameters()
    assert len(params) == len(set(params)) == parameter_count(3) == 25
    in_params = set(params)
    assert all(w in in_params for *_, w in weights_of(model))
    assert all(b in in_params for b in biases_of(model))
    assert len(weights_of(model)) == 2 * 3 + 3 * 3 + 3 * 1


# run_scalar.py's own settings (PTS = 50, HIDDEN = 2, RATE = 0.5) on the two data sets a
# hidden layer of 2 separates, with fewer epochs than its 500. The seeds are ones where every
# ReLU unit stays alive: from many starts, with 2 units a layer, a unit is dead for the whole
# unit square and its weights get no gradient at all -- in minitorch as here; that is the
# model, not the bug this test is for.
@pytest.mark.parametrize(("dataset", "seed", "epochs"), [("Simple", 80, 100), ("Diag", 21, 150)])
def test_run_scalar_learns_and_every_weight_moves(dataset, seed, epochs):
    PTS = 50
    HIDDEN = 2
    RATE = 0.5
    random.seed(seed)
    data = minitorch.datasets[dataset](PTS)
    trainer = ScalarTrain(HIDDEN)
    log, start = train_recording_start(trainer, data, RATE, epochs)
    model = trainer.model

    assert len(log.losses) == epochs
    first_loss, last_loss = log.losses[0], log.losses[-1]
    epoch, total_loss, correct = log.logged[-1]
    assert (epoch, total_loss) == (epochs, last_loss)
    assert correct == PTS  # every point classified right, as the script reaches on these
    assert last_loss < first_loss / 10
    assert all(math.isfinite(v) for v in log.losses)

    # every weight of the nested lists moved, not only the biases
    moved = [(name, i, j) for (name, i, j, w), w0 in zip(weights_of(model), start["weights"])
             if w.data != w0]
    assert len(moved) == len(start["weights"]) == 2 * HIDDEN + HIDDEN * HIDDEN + HIDDEN
    assert all(b.data != b0 for b, b0 in zip(biases_of(model), start["biases"]))

    # and the trained network predicts through run_one (the script's entry for the plots)
    predictions = [trainer.run_one(x).data > 0.5 for x in data.X]
    assert sum(p == (y == 1) for p, y in zip(predictions, data.y)) == PTS


def test_nested_lists_without_add_parameter_are_found_too():
    """A variant (not in minitorch): the same Linear with its Values put straight into the
    nested lists, as a chainrule user writes it -- no add_parameter, so nothing but the
    nested lists holds the weights. parameters() must still find every one."""

    class PlainLinear(minitorch.Module):
        def __init__(self, in_size, out_size):
            super().__init__()
            self.weights = []
            self.bias = []
            for i in range(in_size):
                self.weights.append([])
                for _ in range(out_size):
                    self.weights[i].append(minitorch.Scalar(2 * (random.random() - 0.5)))
            for _ in range(out_size):
                self.bias.append(minitorch.Scalar(2 * (random.random() - 0.5)))

        forward = Linear.forward

    random.seed(5)
    data = minitorch.datasets["Xor"](20)
    layer = PlainLinear(2, 3)
    in_params = set(layer.parameters())
    assert len(in_params) == 2 * 3 + 3
    assert all(w in in_params for row in layer.weights for w in row)

    start = [w.data for row in layer.weights for w in row]
    optim = minitorch.SGD(layer.parameters(), 0.5)
    for _ in range(3):
        optim.zero_grad()
        for (x_1, x_2), y in zip(data.X, data.y):
            out = sum(layer.forward((minitorch.Scalar(x_1), minitorch.Scalar(x_2)))).sigmoid()
            loss = -(out if y == 1 else -out + 1.0).log()
            (loss / data.N).backward()
        optim.step()
    assert all(w.data != w0 for w, w0 in zip((w for row in layer.weights for w in row), start))


# run_torch.py's network and loop, float64, started from the chainrule model's weights


def torch_run(torch, data, learning_rate, start, hidden_layers, max_epochs):
    """run_torch.py's TorchTrain.train, in float64, from the weights `start` (the chainrule
    model's initial weights and biases, in weights_of / biases_of order)."""

    class Linear(torch.nn.Module):
        def __init__(self, in_size, out_size):
            super().__init__()
            self.weight = torch.nn.Parameter(2 * (torch.rand((in_size, out_size)) - 0.5))
            self.bias = torch.nn.Parameter(2 * (torch.rand((out_size,)) - 0.5))

        def forward(self, x):
            return x @ self.weight + self.bias

    class Network(torch.nn.Module):
        def __init__(self, hidden_layers):
            super().__init__()

            # Submodules
            self.layer1 = Linear(2, hidden_layers)
            self.layer2 = Linear(hidden_layers, hidden_layers)
            self.layer3 = Linear(hidden_layers, 1)

        def forward(self, x):
            h = self.layer1.forward(x).relu()
            h = self.layer2.forward(h).relu()
            return self.layer3.forward(h).sigmoid()

    model = Network(hidden_layers).double()
    weights, biases = list(start["weights"]), list(start["biases"])
    with torch.no_grad():
        for layer in (model.layer1, model.layer2, model.layer3):
            n_in, n_out = layer.weight.shape
            layer.weight.copy_(torch.tensor([[weights.pop(0) for _ in range(n_out)]
                                             for _ in range(n_in)], dtype=torch.float64))
            layer.bias.copy_(torch.tensor([biases.pop(0) for _ in range(n_out)],
                                          dtype=torch.float64))
    assert not weights and not biases

    losses, corrects = [], []
    for epoch in range(1, max_epochs + 1):  # noqa: B007 (the original logs with it)

        # Forward
        out = model.forward(torch.tensor(data.X, dtype=torch.float64,
                                         requires_grad=True)).view(data.N)
        y = torch.tensor(data.y)
        probs = (out * y) + (out - 1.0) * (y - 1.0)
        loss = -probs.log().sum()

        # Update
        loss.view(1).backward()

        for p in model.parameters():
            if p.grad is not None:
                p.data = p.data - learning_rate * (p.grad / float(data.N))
                p.grad.zero_()

        # Logging
        pred = out > 0.5
        correct = ((y == 1) * (pred)).sum() + ((y == 0) * (~pred)).sum()
        loss_num = loss.reshape(-1).item()
        losses.append(loss_num)
        corrects.append(correct.item())

    final = [v for layer in (model.layer1, model.layer2, model.layer3)
             for v in layer.weight.detach().reshape(-1).tolist()]
    final_biases = [v for layer in (model.layer1, model.layer2, model.layer3)
                    for v in layer.bias.detach().tolist()]
    return losses, corrects, final, final_biases


@pytest.mark.parametrize(("dataset", "hidden", "seed"),
                         [("Simple", 2, 5), ("Diag", 2, 5), ("Split", 4, 3), ("Xor", 4, 3)])
def test_run_scalar_matches_run_torch_float64(dataset, hidden, seed):
    torch = pytest.importorskip("torch")
    PTS, RATE, EPOCHS = 50, 0.5, 40
    random.seed(seed)
    data = minitorch.datasets[dataset](PTS)
    trainer = ScalarTrain(hidden)

    log, start = train_recording_start(trainer, data, RATE, EPOCHS)
    model = trainer.model
    assert len(model.parameters()) == parameter_count(hidden)

    t_losses, t_corrects, t_weights, t_biases = torch_run(torch, data, RATE, start, hidden,
                                                           EPOCHS)
    assert log.losses == [pytest.approx(v, rel=1e-9) for v in t_losses]
    # `correct` is logged every 10th epoch
    assert [(epoch, correct) for epoch, _, correct in log.logged] == [
        (epoch, t_corrects[epoch - 1]) for epoch in range(10, EPOCHS + 1, 10)]
    assert [w.data for *_, w in weights_of(model)] == [pytest.approx(v, rel=1e-9, abs=1e-12)
                                                       for v in t_weights]
    assert [b.data for b in biases_of(model)] == [pytest.approx(v, rel=1e-9, abs=1e-12)
                                                  for v in t_biases]
