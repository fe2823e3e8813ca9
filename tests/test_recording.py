"""fit(record=...): the frames of a training run, each number checked against the engine
(and the lecture's closed forms), bounded in size, evenly thinned."""

import numpy as np
import pytest

import nn
from autograd import no_grad, softmax
from nn import MLP, SGD, Adam, fit
from nn.data import load_iris, make_moons, standardize, train_test_split
from nn.recording import Recorder


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(60, noise=0.1, seed=0)
    return train_test_split(X, y, test_size=0.3, seed=0)


def _closed_form_mean_gradient(model, X, y):
    """The lecture's per-layer formulas in numpy for a 1-hidden-layer ReLU softmax net,
    averaged over the samples, in model.parameters() order."""
    (hidden, out) = model.layers
    W1 = np.array([[w.data for w in n.w] for n in hidden.neurons])
    b1 = np.array([n.b.data for n in hidden.neurons])
    W2 = np.array([[w.data for w in n.w] for n in out.neurons])
    b2 = np.array([n.b.data for n in out.neurons])
    total = [np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)]
    for x, t in zip(X, y):
        a = W1 @ x + b1
        h = np.maximum(a, 0)
        o = W2 @ h + b2
        p = np.exp(o - o.max())
        p /= p.sum()
        do = p - np.eye(len(p))[t]
        dh = W2.T @ do
        da = dh * (a > 0)
        for acc, g in zip(total, (np.outer(da, x), da, np.outer(do, h), do)):
            acc += g
    flat = []
    for layer_W, layer_b in ((total[0], total[1]), (total[2], total[3])):
        for row, b in zip(layer_W, layer_b):
            flat.extend([*row, b])  # each neuron: its w, then its b
    return np.array(flat) / len(X)


def test_frames_hold_the_run_and_every_number_is_the_engines(moons):
    X_train, X_test, y_train, y_test = moons
    model = MLP(2, [6, 2], seed=1, init="he")
    history = fit(model, X_train, y_train, optimizer=SGD(model.parameters(), lr=0.05),
                  epochs=5, validation=(X_test, y_test), progress=False, record=True)
    recording = history.recording
    frames = recording.frames
    assert [f.epoch for f in frames] == [0, 1, 2, 3, 4, 5]
    assert [f.step for f in frames] == [0, 42, 84, 126, 168, 210]
    last = frames[-1]
    np.testing.assert_array_equal(last.parameters, [p.data for p in model.parameters()])
    assert recording.names == [name for name, _ in model.named_parameters()]
    # the gradient: the lecture's closed form, averaged over the training data
    np.testing.assert_allclose(last.gradients,
                               _closed_form_mean_gradient(model, X_train, y_train),
                               rtol=1e-12, atol=1e-15)
    # the curves: the same numbers the history holds after each epoch
    assert [f.accuracy for f in frames[1:]] == history.accuracy
    assert [f.val_accuracy for f in frames[1:]] == history.val_accuracy
    np.testing.assert_allclose([f.val_loss for f in frames[1:]], history.val_loss,
                               rtol=1e-14)
    with no_grad():
        mean_loss = np.mean([nn.cross_entropy(model(x), t).data
                             for x, t in zip(X_train, y_train)])
    assert last.loss == pytest.approx(mean_loss, rel=1e-14)
    # the surface and the neuron maps: the model's own outputs at the plane's points
    points = recording.plane_inputs(recording.recorder.grid)
    for index in (0, 137, len(points) - 1):
        with no_grad():
            probabilities = [p.data for p in softmax(model(points[index]))]
            hidden = [h.data for h in model.layers[0](points[index])]
        r, c = divmod(index, recording.recorder.grid)
        np.testing.assert_allclose(last.surface[r, c], probabilities, rtol=1e-14)
    k = recording.recorder.neuron_grid
    small = recording.plane_inputs(k)
    with no_grad():
        hidden = [h.data for h in model.layers[0](small[k + 3])]
    np.testing.assert_allclose(last.neurons[0][:, 1, 3], hidden, rtol=1e-14)
    assert last.neurons[0].shape == (6, k, k)
    # the first frame: the initial parameters
    assert not np.array_equal(frames[0].parameters, last.parameters)
    assert "features 1 and 2" in recording.plane


def test_a_long_run_is_spaced_to_stay_within_the_cap(moons):
    X_train, _, y_train, _ = moons
    model = MLP(2, [4, 2], seed=0)
    recording = fit(model, X_train, y_train, epochs=30, progress=False,
                    record=Recorder(max_frames=8, grid=5, neuron_grid=3)).recording
    epochs = [f.epoch for f in recording.frames]
    assert len(epochs) <= 8 and epochs[0] == 0 and epochs[-1] == 30
    assert len(set(np.diff(epochs[:-1]))) == 1  # evenly spaced (the last may be closer)
    assert "widened to 5 to stay within 8 frames" in recording.summary()


def test_frames_every_k_steps_are_thinned_evenly_when_too_many(moons):
    X_train, _, y_train, _ = moons
    model = MLP(2, [3, 2], seed=0)
    recorder = Recorder(steps=1, max_frames=10, grid=4, neuron_grid=2)
    recording = fit(model, X_train, y_train, epochs=2, batch_size=7, progress=False,
                    record=recorder).recording
    steps = [f.step for f in recording.frames]
    assert len(steps) <= 10 and steps[0] == 0 and steps[-1] == 12
    assert len(set(np.diff(steps[:-1]))) == 1
    assert recording.every >= 2


def test_jit_training_records_the_same_frames(moons):
    X_train, _, y_train, _ = moons
    runs = []
    for jit in (False, True):
        model = MLP(2, [5, 2], seed=3, init="he")
        runs.append(fit(model, X_train, y_train, optimizer=Adam(model.parameters(), lr=0.02),
                        epochs=3, progress=False, jit=jit,
                        record=Recorder(grid=6, neuron_grid=4)).recording)
    for eager, compiled in zip(*(r.frames for r in runs)):
        np.testing.assert_allclose(compiled.parameters, eager.parameters, rtol=1e-12,
                                   atol=1e-14)
        np.testing.assert_allclose(compiled.surface, eager.surface, rtol=1e-10, atol=1e-13)


def test_more_than_two_features_use_the_principal_plane():
    X, y = load_iris()
    X_train, X_test, y_train, _ = train_test_split(X, y, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    model = MLP(4, [8, 3], seed=0)
    recording = fit(model, X_train, y_train, epochs=1, progress=False,
                    record=Recorder(grid=6, neuron_grid=4)).recording
    basis = recording.basis
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-12)
    assert "principal components" in recording.plane
    centred = X_train - X_train.mean(axis=0)
    top = np.linalg.eigh(np.cov(centred.T))[1][:, -1]
    assert abs(abs(top @ basis[0]) - 1) < 1e-9  # the first axis: the top component
    chosen = fit(MLP(4, [8, 3], seed=0), X_train, y_train, epochs=1, progress=False,
                 record=Recorder(plane=(0, 2), grid=4, neuron_grid=2)).recording
    inputs = chosen.plane_inputs(4)
    np.testing.assert_allclose(inputs[:, [1, 3]], np.tile(X_train.mean(axis=0)[[1, 3]],
                                                          (16, 1)))
    assert chosen.plane == "features 1 and 3 (the others at their training mean)"


def test_a_diverging_run_keeps_its_frames(moons):
    X_train, _, y_train, _ = moons
    model = MLP(2, [4, 2], seed=0)
    with pytest.raises(nn.TrainingDiverged) as stop:
        fit(model, X_train * 1e3, y_train, optimizer=SGD(model.parameters(), lr=1e6),
            epochs=3, progress=False, record=Recorder(steps=1, grid=3, neuron_grid=2))
    frames = stop.value.history.recording.frames
    assert frames and frames[0].step == 0


def test_bad_recorders_are_refused():
    with pytest.raises(ValueError, match="every must be an int >= 1"):
        Recorder(every=0)
    with pytest.raises(ValueError, match="plane must be 'pca' or two distinct"):
        Recorder(plane=(1, 1))
    with pytest.raises(TypeError, match="record must be True or a Recorder"):
        fit(MLP(2, [2]), [[0.0, 1.0], [1.0, 0.0]], [0, 1], epochs=1, progress=False,
            record="yes")
    with pytest.raises(ValueError, match="a plane needs two"):
        fit(MLP(1, [2]), [[0.0], [1.0]], [0, 1], epochs=1, progress=False, record=True)
