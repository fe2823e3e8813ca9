"""Recording a training run: what ``fit(..., record=True)`` keeps, frame by frame.

A frame is the model as it was after some epochs (or steps): every parameter, the
gradient of the mean training loss at those parameters, the training and validation
loss and accuracy, and -- what TensorFlow Playground shows -- the model's output over
a plane of inputs and each hidden neuron's own output over that plane. All of it is
computed by the engine from the recorded parameters.

The plane: for two features, the input plane itself; for more, either two chosen
features (the others held at their training mean) or the first two principal
components of the training inputs (``plane="pca"``, the default beyond two), which
:attr:`Recording.plane` describes in words.

The size is bounded: at most ``max_frames`` frames are kept. When a run would record
more, every other frame is dropped and the interval doubles (``every`` 1 -> 2 -> 4
epochs...), so the frames stay evenly spaced over the whole run; the first and last
frames are always there, and :meth:`Recording.summary` says what was kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import Value, no_grad

__all__ = ["Frame", "Recorder", "Recording"]


@dataclass
class Frame:
    """The model after ``epoch`` epochs (``step`` updates)."""

    epoch: int
    step: int
    parameters: np.ndarray  #: every parameter, in ``model.parameters()`` order
    gradients: np.ndarray  #: d(mean training loss)/d(parameter) at these parameters
    loss: float  #: mean training loss at these parameters
    accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    surface: np.ndarray | None = None  #: (grid, grid, outputs): the outputs over the plane
    neurons: list[np.ndarray] = field(default_factory=list)  #: per hidden layer (n, m, m)

    @property
    def nbytes(self) -> int:
        arrays = [self.parameters, self.gradients, *self.neurons]
        if self.surface is not None:
            arrays.append(self.surface)
        return sum(a.nbytes for a in arrays) + 64


class Recorder:
    """What to record and how much: pass one as ``fit(..., record=Recorder(...))``
    (``record=True`` is ``Recorder()``).

    ``every``: a frame every this many epochs (default 1); ``steps``: or every this
    many updates instead. ``grid``: the plane's resolution for the model's output
    (``grid`` x ``grid`` points); ``neuron_grid``: for each hidden neuron's map.
    ``plane``: ``"pca"``, or two feature indices; default: the two features when there
    are two, else ``"pca"``. ``max_frames`` caps the frames kept (thinned evenly, see
    the module's docstring). ``max_neurons`` caps the hidden neurons mapped per layer.
    ``on_frame(recording, frame)``, if given, is called with each frame as it is recorded
    (the live view, :class:`nn.Playground`, streams them so); whatever it raises stops
    the training and propagates out of ``fit``.
    """

    def __init__(self, every: int = 1, *, steps: int | None = None, grid: int = 25,
                 neuron_grid: int = 12, plane: str | Sequence[int] | None = None,
                 max_frames: int = 100, max_neurons: int = 32,
                 on_frame: Callable[[Recording, Frame], None] | None = None) -> None:
        for name, value, least in (("every", every, 1), ("grid", grid, 2),
                                   ("neuron_grid", neuron_grid, 2),
                                   ("max_frames", max_frames, 2),
                                   ("max_neurons", max_neurons, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"Recorder: {name} must be an int >= {least}, got {value!r}")
        if steps is not None and (not isinstance(steps, int) or steps < 1):
            raise ValueError(f"Recorder: steps must be a positive int, got {steps!r}")
        if plane is not None and plane != "pca" and not (
                isinstance(plane, (list, tuple)) and len(plane) == 2
                and all(isinstance(i, int) for i in plane) and plane[0] != plane[1]):
            raise ValueError(f"Recorder: plane must be 'pca' or two distinct feature "
                             f"indices, got {plane!r}")
        if on_frame is not None and not callable(on_frame):
            raise TypeError(f"Recorder: on_frame must be a function (recording, frame), got "
                            f"{on_frame!r:.60}")
        self.every, self.steps, self.grid, self.neuron_grid = every, steps, grid, neuron_grid
        self.plane, self.max_frames, self.max_neurons = plane, max_frames, max_neurons
        self.on_frame = on_frame

    def start(self, model: Any, X: np.ndarray, y: np.ndarray, loss: Any,
              validation: tuple[Any, Any] | None, threshold: float,
              with_accuracy: bool) -> Recording:
        return Recording(self, model, X, y, loss, validation, threshold, with_accuracy)


class Recording:
    """The frames of one training run, with what is needed to read them: the parameter
    names, the plane (its axes and how it sits in input space) and the data."""

    def __init__(self, recorder: Recorder, model: Any, X: np.ndarray, y: np.ndarray,
                 loss: Any, validation: tuple[Any, Any] | None, threshold: float,
                 with_accuracy: bool) -> None:
        self.recorder = recorder
        self.model = model
        self.X, self.y = X, y
        self.validation = None if validation is None else (
            np.asarray(validation[0], dtype=float), np.asarray(validation[1]))
        self._loss, self._threshold, self._with_accuracy = loss, threshold, with_accuracy
        self.names = [name for name, _ in model.named_parameters()]
        self.frames: list[Frame] = []
        self.every = recorder.every  #: epochs (or steps) between frames, after thinning
        self.thinned = 0  #: how many times every other frame was dropped
        self.spaced = ""  #: how the interval was widened up front (see plan)
        self.seconds = 0.0  #: time spent recording (not training)
        self._plane_setup()

    # -- the plane ---------------------------------------------------------------------

    def _plane_setup(self) -> None:
        X = self.X
        features = X.shape[1]
        plane = self.recorder.plane
        if plane is None:
            plane = (0, 1) if features == 2 else "pca"
        self.origin = X.mean(axis=0)
        if features == 1:
            raise ValueError("fit(record=...): the data has one feature; a plane needs two")
        if plane == "pca":
            centred = X - self.origin
            _, _, vt = np.linalg.svd(centred, full_matrices=False)
            basis = vt[:2]
            for row in basis:  # a sign convention: the largest entry positive
                if row[np.argmax(np.abs(row))] < 0:
                    row *= -1
            self.basis = basis
            self.plane = ("the first two principal components of the training inputs "
                          "(the other directions at the mean)")
            self.axis_names = ("PC1", "PC2")
        else:
            i, j = plane
            if not (0 <= i < features and 0 <= j < features):
                raise ValueError(f"fit(record=...): plane {plane!r} names a feature beyond "
                                 f"the {features} there are")
            basis = np.zeros((2, features))
            basis[0, i] = basis[1, j] = 1.0
            self.basis = basis
            self.axis_names = (f"x{i + 1}", f"x{j + 1}")
            self.plane = (f"features {i + 1} and {j + 1}" + (
                "" if features == 2 else " (the others at their training mean)"))
        coordinates = (X - self.origin) @ self.basis.T
        low, high = coordinates.min(axis=0), coordinates.max(axis=0)
        margin = 0.1 * np.maximum(high - low, 1e-9)
        self.extent = (float(low[0] - margin[0]), float(high[0] + margin[0]),
                       float(low[1] - margin[1]), float(high[1] + margin[1]))
        self.points = coordinates  #: the training inputs in plane coordinates
        self.val_points = (None if self.validation is None
                           else (self.validation[0] - self.origin) @ self.basis.T)

    def plane_inputs(self, m: int) -> np.ndarray:
        """The m x m grid over the plane as inputs: shape (m * m, features), row-major
        from the lowest (u, v) -- row r, column c is u_c, v_r."""
        u0, u1, v0, v1 = self.extent
        u, v = np.meshgrid(np.linspace(u0, u1, m), np.linspace(v0, v1, m))
        return self.origin + np.column_stack([u.ravel(), v.ravel()]) @ self.basis

    # -- frames ------------------------------------------------------------------------

    def plan(self, epochs: int, steps_per_epoch: int) -> None:
        """Space the frames for a run of known length, so that none is computed only to
        be thinned away: the interval grows to fit ``max_frames`` (with frame 0)."""
        total = epochs * steps_per_epoch if self.recorder.steps is not None else epochs
        base = self.recorder.steps or self.recorder.every
        needed = -(-total // (self.recorder.max_frames - 1))  # ceil
        self.every = max(base, needed)
        if self.every > base:
            self.spaced = (f"every {base} widened to {self.every} to stay within "
                           f"{self.recorder.max_frames} frames")

    def due(self, epoch: int, step: int) -> bool:
        """Whether the state after ``epoch`` epochs (``step`` updates) is a frame."""
        count = step if self.recorder.steps is not None else epoch
        return count % self.every == 0

    def add(self, epoch: int, step: int, history_accuracy: float | None = None) -> None:
        started = time.perf_counter()
        params = self.model.parameters()
        loss, accuracy, gradients = self._pass(self.X, self.y, params, gradient=True)
        val_loss = val_accuracy = None
        if self.validation is not None:
            val_loss, val_accuracy, _ = self._pass(*self.validation, params, gradient=False)
        surface, neurons = self._maps()
        frame = Frame(
            epoch=epoch, step=step, parameters=np.array([p.data for p in params]),
            gradients=gradients, loss=loss, accuracy=accuracy, val_loss=val_loss,
            val_accuracy=val_accuracy, surface=surface, neurons=neurons)
        self.frames.append(frame)
        if len(self.frames) > self.recorder.max_frames:
            self._thin()
        self.seconds += time.perf_counter() - started
        if self.recorder.on_frame is not None:
            self.recorder.on_frame(self, frame)

    def finish(self, epoch: int, step: int) -> None:
        """The last frame, unless it is there already."""
        if not self.frames or self.frames[-1].step != step:
            self.add(epoch, step)

    def _thin(self) -> None:
        """Keep every other frame (the first always), and record half as often."""
        self.frames = self.frames[::2]
        self.every *= 2
        self.thinned += 1

    def _pass(self, X: np.ndarray, y: np.ndarray, params: list[Value], gradient: bool
              ) -> tuple[float, float | None, np.ndarray]:
        """Mean loss, accuracy and (optionally) d(mean loss)/d(params) over (X, y)."""
        from .metrics import _scores

        saved = [p.grad for p in params]
        targets = np.asarray(y).tolist()
        total, right = 0.0, 0
        grads = np.zeros(len(params))
        if gradient:
            for p in params:
                p.grad = 0.0
        for x, target in zip(np.asarray(X, dtype=float), targets):
            if gradient:
                output = self.model(x)
                value = self._loss(output, target)
                value.backward()
            else:
                with no_grad():
                    output = self.model(x)
                    value = self._loss(output, target)
            total += value.data
            if self._with_accuracy:
                scores = _scores(output)
                label = np.argmax(scores) if len(scores) > 1 else scores[0] > self._threshold
                right += int(label) == target
        if gradient:
            grads = np.array([p.grad for p in params]) / len(X)
            for p, g in zip(params, saved):
                p.grad = g
        accuracy = right / len(X) if self._with_accuracy else None
        return total / len(X), accuracy, grads

    @no_grad()
    def _maps(self) -> tuple[np.ndarray | None, list[np.ndarray]]:
        """The model's outputs over the plane (softmax probabilities for several
        outputs, the output itself for one) and each hidden neuron's output."""
        from autograd import softmax

        recorder = self.recorder
        m, k = recorder.grid, recorder.neuron_grid
        outputs = []
        for x in self.plane_inputs(m):
            out = self.model(x)
            out = out if isinstance(out, (list, tuple)) else [out]
            values = softmax(list(out)) if len(out) > 1 else out
            outputs.append([v.data if isinstance(v, Value) else float(v) for v in values])
        surface = np.array(outputs).reshape(m, m, -1)
        layers = _hidden_layers(self.model)
        maps: list[list[list[float]]] = [[] for _ in layers]
        if layers and recorder.max_neurons:
            for x in self.plane_inputs(k):
                for i, h in enumerate(_hidden_outputs(self.model, x, len(layers))):
                    maps[i].append([v.data for v in h[:recorder.max_neurons]])
        neurons = [np.array(rows).T.reshape(-1, k, k) for rows in maps if rows]
        return surface, neurons

    # -- reading -------------------------------------------------------------------------

    @property
    def nbytes(self) -> int:
        return sum(f.nbytes for f in self.frames)

    def summary(self) -> str:
        """What was kept, in one line."""
        unit = "step" if self.recorder.steps is not None else "epoch"
        base = self.recorder.steps or self.recorder.every
        thinning = (f", thinned {self.thinned} time(s) from every {base} to stay within "
                    f"{self.recorder.max_frames} frames" if self.thinned
                    else f" ({self.spaced})" if self.spaced else "")
        return (f"{len(self.frames)} frames, one every {self.every} {unit}(s){thinning}; "
                f"{self.nbytes / 1e6:.2f} MB; plane: {self.plane}; recording took "
                f"{self.seconds:.2f} s")

    def __repr__(self) -> str:
        return f"Recording({self.summary()})"


def _mlp_of(model: Any) -> tuple[Any, Any]:
    """(preprocess or None, the MLP) of an MLP or a Classifier/Regressor wrapping one."""
    from .layers import MLP

    if isinstance(model, MLP):
        return None, model
    network = getattr(model, "network", None)
    if isinstance(network, MLP):
        return getattr(model, "preprocess", None), network
    return None, None


def _hidden_layers(model: Any) -> list[Any]:
    _, mlp = _mlp_of(model)
    return [] if mlp is None else mlp.layers[:-1]


def _hidden_outputs(model: Any, x: np.ndarray, count: int) -> list[list[Value]]:
    """Each hidden layer's outputs for one sample, by the model's own layers."""
    preprocess, mlp = _mlp_of(model)
    h: Any = list(x) if preprocess is None else preprocess(list(x))
    found = []
    for layer in mlp.layers[:count]:
        h = layer(h)
        found.append(h)
    return found
