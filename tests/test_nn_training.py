"""Training end to end: every model of the lectures learns what it should."""

import numpy as np
import pytest

from nn import MLP, SGD, Adam, Perceptron, accuracy, fit
from nn.data import load_iris, make_moons, standardize, train_test_split


@pytest.fixture(scope="module")
def iris_split():
    X, y = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.3, seed=1)
    X_train, X_test = standardize(X_train, X_test)
    return X_train, X_test, y_train, y_test


def test_linear_softmax_classifier_learns_iris(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    model = MLP(4, [3], seed=0)
    history = fit(model, X_train, y_train, optimizer=SGD(model.parameters(), lr=0.05),
                  epochs=20, seed=0, progress=False)
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert accuracy(model, X_test, y_test) >= 0.9


def test_relu_mlp_learns_iris_per_sample(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    model = MLP(4, [16, 3], "relu", seed=0)
    history = fit(model, X_train, y_train, optimizer=SGD(model.parameters(), lr=0.01),
                  epochs=30, seed=0, validation=(X_test, y_test), progress=False)
    assert len(history.loss) == len(history.accuracy) == len(history.val_accuracy) == 30
    assert history.accuracy[-1] >= 0.95
    assert history.val_accuracy[-1] >= 0.93
    assert history.val_accuracy[-1] == accuracy(model, X_test, y_test)


def test_three_layer_sigmoid_mlp_learns_iris_with_minibatches_and_adam(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    model = MLP(4, [8, 8, 3], "sigmoid", seed=0)
    history = fit(model, X_train, y_train, optimizer=Adam(model.parameters(), lr=0.02),
                  epochs=40, batch_size=8, seed=0, progress=False)
    assert history.accuracy[-1] >= 0.95
    assert accuracy(model, X_test, y_test) >= 0.9


def test_tanh_mlp_solves_the_moons_with_momentum():
    X, y = make_moons(120, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 2], "tanh", seed=0)
    fit(model, X, y, optimizer=SGD(model.parameters(), lr=0.05, momentum=0.9), epochs=40,
        batch_size=4, seed=0, progress=False)
    assert accuracy(model, X, y) >= 0.97
    # a linear classifier cannot: the moons are not linearly separable
    linear = MLP(2, [2], seed=0)
    fit(linear, X, y, optimizer=SGD(linear.parameters(), lr=0.05), epochs=40, seed=0,
        progress=False)
    assert accuracy(linear, X, y) < 0.92


def test_single_output_with_binary_cross_entropy_and_hinge():
    X, y = make_moons(80, noise=0.05, seed=1)

    class Prob(MLP):  # PyTorch's way: override forward, and calling the module calls it
        def forward(self, x):
            return super().forward(x).sigmoid()

    model = Prob(2, [8, 1], "tanh", seed=0)
    fit(model, X, y, loss="binary_cross_entropy", optimizer=SGD(model.parameters(), lr=0.1),
        epochs=40, seed=0, progress=False)
    assert accuracy(model, X, y, threshold=0.5) >= 0.85
    svm = MLP(2, [8, 1], "tanh", seed=0)
    fit(svm, X, y, loss="hinge", optimizer=SGD(svm.parameters(), lr=0.05), epochs=40, seed=0,
        progress=False)
    assert accuracy(svm, X, y) >= 0.85


def test_perceptron_separates_setosa_and_stops():
    X, y = load_iris()
    is_setosa = (y == 0).astype(int)
    perceptron = Perceptron(4, seed=0)
    mistakes = perceptron.fit(X, is_setosa, lr=0.1, max_epochs=100)
    assert mistakes[-1] == 0 and len(mistakes) < 100
    assert sum(mistakes) > 0  # it had to learn
    assert [perceptron.predict(x) for x in X] == is_setosa.tolist()


def test_perceptron_rule_is_w_plus_lr_error_x():
    perceptron = Perceptron(2, seed=0)
    for p, v in zip(perceptron.parameters(), (0.0, 0.0, 0.0)):
        p.data = v
    # step(0) = 0 < label 1: a mistake with y - y_hat = 1, so w <- w + lr x, b <- b + lr
    assert perceptron.fit([[1.0, 2.0]], [1], lr=0.5, max_epochs=1) == [1]
    assert [p.data for p in perceptron.parameters()] == [0.5, 1.0, 0.5]
    # now step(0.5 * 1 + 1.0 * 2 + 0.5) = 1 > label 0: y - y_hat = -1, w <- w - lr x
    assert perceptron.fit([[1.0, 2.0]], [0], lr=0.5, max_epochs=1) == [1]
    assert [p.data for p in perceptron.parameters()] == [0.0, 0.0, 0.0]


def test_perceptron_stops_at_max_epochs_on_xor():
    mistakes = Perceptron(2, seed=0).fit([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0],
                                         max_epochs=25)
    assert len(mistakes) == 25 and min(mistakes) > 0


def test_fit_is_deterministic_for_a_seed(iris_split):
    X_train, _, y_train, _ = iris_split

    def run(seed):
        model = MLP(4, [4, 3], seed=0)
        fit(model, X_train, y_train, optimizer=SGD(model.parameters(), lr=0.05), epochs=2,
            seed=seed, progress=False)
        return model.state_dict()

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_fit_rejects_bad_arguments(iris_split):
    X_train, _, y_train, _ = iris_split
    model = MLP(4, [3], seed=0)
    with pytest.raises(ValueError, match="expected X of shape"):
        fit(model, X_train, y_train[:-1], progress=False)
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        fit(model, X_train, y_train, loss="l1", progress=False)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        fit(model, X_train, y_train, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="target 3 is out of range for 3 classes"):
        fit(model, X_train, np.full(len(X_train), 3), progress=False)


def test_progress_bar_can_be_shown_and_hidden(iris_split, capsys):
    X_train, _, y_train, _ = iris_split
    model = MLP(4, [3], seed=0)
    fit(model, X_train[:10], y_train[:10], epochs=1, progress=False)
    assert capsys.readouterr().err == ""
    fit(model, X_train[:10], y_train[:10], epochs=1, progress=True)
    assert "training" in capsys.readouterr().err
