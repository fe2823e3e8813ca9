"""``fit``: training by backpropagation, one sample or one minibatch at a time; and
``save_run``: a trained model saved with its history, as one unit."""

from __future__ import annotations

import contextlib
import math
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from autograd import Value, dot, logsumexp, no_grad
from autograd import jit as autograd_jit
from autograd.files import temporary_target, write_json

from .losses import LOSSES, _as_list, batch_loss, binary_cross_entropy, cross_entropy, mse_loss
from .metrics import _scores
from .metrics import accuracy as _accuracy
from .module import Module
from .optim import SGD, Optimizer
from .recording import Recorder, Recording

__all__ = ["EXPLODES_AT", "History", "TrainingDiverged", "check_run_folder", "fit", "save_run"]


@dataclass
class History:
    """Per-epoch training curves: mean training loss (over the updates of the epoch),
    training accuracy after the epoch and, when validation data is given, its mean loss
    and accuracy after the epoch. The accuracies stay empty for regression (``fit``'s
    ``accuracy=False``)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    #: the frames of the run when ``fit`` was asked to record (``record=``), else None
    recording: Recording | None = field(default=None, repr=False, compare=False)

    def explore(self, model: Any = None, **options: Any) -> Any:
        """The recorded run as an interactive page (``fit(..., record=True)`` first): see
        :func:`nn.training_explorer.explore_training` for the options."""
        from .training_explorer import explore_training

        return explore_training(self, model, **options)

    def as_dict(self) -> dict[str, list[float]]:
        return {name: list(getattr(self, name))
                for name in ("loss", "accuracy", "val_accuracy", "val_loss")}


def fit(
    model: Module,
    X: Any,
    y: Any,
    *,
    loss: str | Callable[[Any, Any], Value] = "cross_entropy",
    optimizer: Optimizer | None = None,
    epochs: int = 10,
    batch_size: int = 1,
    seed: int | None = 0,
    shuffle: bool = True,
    validation: tuple[Any, Any] | None = None,
    threshold: float | None = None,
    progress: bool = True,
    on_epoch: Callable[[int, History], None] | None = None,
    jit: bool = False,
    accuracy: bool | None = None,
    record: bool | Recorder | None = None,
) -> History:
    """Train ``model`` on (X, y) and return the per-epoch :class:`History`.

    Each step takes ``batch_size`` samples (in an order shuffled with ``seed``
    every epoch), computes the mean loss, backpropagates and updates::

        theta <- theta - lr * d/dtheta mean_{t in batch} L(model(x_t), y_t)

    ``batch_size=1`` is per-sample SGD, the lecture's update. ``loss`` is a
    function ``loss(outputs, target)`` or one of the names in
    ``nn.losses.LOSSES``. The default optimizer is ``SGD(lr=0.05)``.
    ``threshold`` decides one-output predictions for the accuracy (default 0.5
    for binary cross-entropy, else 0). ``progress`` shows a tqdm bar;
    ``on_epoch(epoch, history)`` is called after every epoch. ``accuracy`` says whether
    to track the accuracies (default: yes, unless the loss is ``"mse"`` and the targets
    are not all integers -- regression).

    ``record=True`` (or a :class:`~nn.recording.Recorder` saying what and how often)
    keeps frames of the run in ``history.recording``: the parameters and the gradient
    of the mean training loss at them, the losses and accuracies, and the model's and
    each hidden neuron's output over a plane of inputs -- before training, after every
    epoch (or every k steps), and at the end, at most ``max_frames`` of them (thinned
    evenly). Recording costs about one more pass over the data per frame.

    Every number in X must be finite: a nan or inf (a missing value read as nan, say)
    raises ValueError naming its row and column before anything is trained.

    ``jit=True`` traces one sample's loss once with :func:`autograd.jit` and
    runs the compiled code instead of building a graph per sample: the same
    updates (to rounding error, 1e-12 after an epoch) several times faster;
    minibatches of 16 or more run it on numpy arrays, all samples at once. With
    an optimizer that has ``update_arrays`` (SGD, Adam) the parameters stay in
    one array between steps and reach the model after every epoch. It supports
    the ``"cross_entropy"`` and ``"mse"`` losses.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) != len(y) or len(X) == 0:
        raise ValueError(f"fit: expected X of shape (n, features) and y of length n, got "
                         f"{X.shape} and {y.shape}")
    _check_finite(X, "X")
    if y.dtype.kind == "f":
        _check_finite(y[:, None] if y.ndim == 1 else y, "y")
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"fit: batch_size must be a positive int, got {batch_size!r}")
    if not (isinstance(epochs, int) and epochs >= 0):
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        loss = LOSSES[loss]
    if threshold is None:
        threshold = 0.5 if loss is binary_cross_entropy else 0.0
    if accuracy is None:
        accuracy = not (loss is mse_loss and y.dtype.kind == "f"
                        and not np.all(np.mod(y, 1) == 0))
    params = model.parameters()
    if optimizer is None:
        optimizer = SGD(params, lr=0.05)
    _check_optimizer(optimizer, params)

    step = _jit_step(model, loss, X, y, optimizer) if jit else None
    store = getattr(step, "store", None) or _Values(params)  # where the numbers live
    rng = np.random.default_rng(seed)
    history = History()
    recording = None
    if record:
        recorder = Recorder() if record is True else record
        if not isinstance(recorder, Recorder):
            raise TypeError(f"fit: record must be True or a Recorder, got {record!r:.40}")
        recording = history.recording = recorder.start(model, X, y, loss, validation,
                                                       threshold, bool(accuracy))
        recording.plan(epochs, -(-len(X) // batch_size))
        recording.add(0, 0)
    steps_done = 0
    targets = y.tolist()  # plain Python ints / floats for the loss functions
    first_loss = None  # a step's mean loss beyond EXPLODES_AT times this one has diverged
    before = store.snapshot()
    for epoch in tqdm(range(epochs), desc="training", unit="epoch", disable=not progress):
        order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        total = 0.0
        for number, start in enumerate(range(0, len(X), batch_size), 1):
            batch = order[start : start + batch_size]
            # The loss of this step is computed with the parameters the previous update
            # made: when it explodes, the last parameters known to give a sane loss are
            # those before the previous step. They are restored.
            sane, before = before, store.snapshot()
            try:
                if step is not None:
                    batch_total = step(batch, optimizer)
                else:
                    optimizer.zero_grad()
                    batch_mean = batch_loss(loss, [model(X[i]) for i in batch],
                                            [targets[i] for i in batch])
                    batch_mean.backward()
                    optimizer.step()
                    batch_total = batch_mean.data * len(batch)
            except ArithmeticError as error:  # an overflow inside an op, forward or backward
                store.restore(sane)
                raise _diverged(epoch, epochs, number, optimizer, str(error), history) from None
            except BaseException:
                store.restore(before)  # whatever stopped the step, the model stays usable
                raise
            mean = batch_total / len(batch)
            if first_loss is None:
                first_loss = max(1.0, abs(mean))
            if not abs(mean) <= EXPLODES_AT * first_loss:
                store.restore(sane)
                raise _diverged(epoch, epochs, number, optimizer,
                                f"the loss reached {mean:.3g}, more than {EXPLODES_AT:.0e} "
                                f"times its first value {first_loss:.3g}", history)
            if not store.finite():
                store.restore(before)
                raise _diverged(epoch, epochs, number, optimizer,
                                "the update made a parameter inf or nan", history)
            total += batch_total
            steps_done += 1
            if (recording is not None and recording.recorder.steps is not None
                    and recording.due(epoch, steps_done)):
                store.sync()
                recording.add(epoch + number / -(-len(X) // batch_size), steps_done)
        store.sync()  # the model's Values hold the numbers from here on
        history.loss.append(total / len(X))
        if accuracy:
            history.accuracy.append(_accuracy(model, X, y, threshold))
        if validation is not None:
            val_loss, val_accuracy = _evaluate(model, *validation, loss, threshold, accuracy)
            history.val_loss.append(val_loss)
            if accuracy:
                history.val_accuracy.append(val_accuracy)
        if (recording is not None and recording.recorder.steps is None
                and recording.due(epoch + 1, steps_done)):
            recording.add(epoch + 1, steps_done)
        if on_epoch is not None:
            on_epoch(epoch, history)
    if recording is not None:
        recording.finish(epochs, steps_done)
    return history


def _check_finite(X: np.ndarray, name: str) -> None:
    bad = np.argwhere(~np.isfinite(X)) if X.dtype.kind in "fc" else ()
    if len(bad):
        row, column = (int(i) for i in bad[0][:2])
        raise ValueError(f"fit: {name}[{row}, {column}] is {X[row, column]} (row {row}, "
                         f"column {column}; {len(bad)} such numbers in all); every number "
                         "must be finite: remove or fill the missing values first")


@no_grad()
def _evaluate(model: Module, X: Any, y: Any, loss: Callable[[Any, Any], Value],
              threshold: float, with_accuracy: bool) -> tuple[float, float]:
    """The mean loss over (X, y) and the accuracy, from one forward pass per sample."""
    X = np.asarray(X, dtype=float)
    targets = np.asarray(y).tolist()
    total, right = 0.0, 0
    for x, target in zip(X, targets):
        output = model(x)
        total += loss(output, target).data
        if with_accuracy:
            scores = _scores(output)
            label = np.argmax(scores) if len(scores) > 1 else scores[0] > threshold
            right += int(label) == target
    return total / len(X), right / len(X)


#: a step whose mean loss exceeds this many times the first step's (or 1) has diverged
EXPLODES_AT = 1e6

_data = attrgetter("data")


class TrainingDiverged(RuntimeError):
    """Training stopped because the loss or a parameter stopped being a finite, sane
    number. The model's parameters are back to the last values that gave a sane loss
    (those before the update that broke it); ``history`` holds the epochs completed."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


def _diverged(epoch: int, epochs: int, number: int, optimizer: Optimizer, reason: str,
              history: History) -> TrainingDiverged:
    lr = getattr(optimizer, "lr", None)
    advice = (f"lower the learning rate (lr={lr:g}; try {lr / 10:g})" if lr
              else "lower the learning rate")
    return TrainingDiverged(
        f"training diverged at epoch {epoch + 1}/{epochs}, step {number}: {reason}. The "
        "parameters are back to the last values that gave a finite, sane loss; "
        f"{advice}, and standardize the inputs if they are not", history)


def _restore(params: list[Value], values: Any) -> None:
    for p, value in zip(params, values):
        p.data = float(value)


def _updates_arrays(optimizer: Optimizer) -> bool:
    """The optimizer's update_arrays does what its step() does: both come from the same
    class (a subclass that overrides step() alone is stepped through its Values)."""
    owner = next(k for k in type(optimizer).__mro__ if "step" in vars(k))
    return "update_arrays" in vars(owner) and owner is not Optimizer


class _Values:
    """The parameters' numbers live in their Values (eager training)."""

    def __init__(self, params: list[Value]) -> None:
        self.params = params

    def snapshot(self) -> list[float]:
        return list(map(_data, self.params))

    def restore(self, values: list[float]) -> None:
        _restore(self.params, values)

    def finite(self) -> bool:
        # one sum on the common path; huge finite numbers can overflow it: then each
        return math.isfinite(sum(map(_data, self.params))) or all(
            map(math.isfinite, map(_data, self.params)))

    def sync(self) -> None:
        pass


class _Arrays:
    """The parameters' numbers live in one array while compiled steps run (no Python
    loop over the Values per step); ``sync`` writes them, and the last gradient, back."""

    def __init__(self, params: list[Value]) -> None:
        self.params = params
        self.theta = np.fromiter(map(_data, params), dtype=float, count=len(params))
        self.grad: np.ndarray | None = None

    def snapshot(self) -> np.ndarray:
        return self.theta.copy()

    def restore(self, values: np.ndarray) -> None:
        self.theta[:] = values
        self.sync()

    def finite(self) -> bool:
        with np.errstate(over="ignore", invalid="ignore"):
            return math.isfinite(self.theta.sum()) or bool(np.isfinite(self.theta).all())

    def sync(self) -> None:
        _restore(self.params, self.theta.tolist())
        if self.grad is not None:
            for p, g in zip(self.params, self.grad.tolist()):
                p.grad = g


def _check_optimizer(optimizer: Optimizer, params: list[Value]) -> None:
    mine = set(params)  # Values hash by identity
    foreign = sum(p not in mine for p in optimizer.params)
    if foreign:
        raise ValueError(
            f"fit: the optimizer updates {foreign} parameter{'s' * (foreign > 1)} that "
            f"{'are' if foreign > 1 else 'is'} not this model's (was it built over another "
            "model's parameters?); build it from this model: "
            f"{type(optimizer).__name__}(model.parameters(), lr=...)"
        )


_VECTORISE_FROM = 16  # minibatches this large run the compiled step on numpy arrays


def _jit_step(model: Module, loss: Callable[..., Any], X: np.ndarray, y: np.ndarray,
              optimizer: Optimizer):
    """A training step that runs one sample's loss compiled by autograd.jit. With an
    optimizer that updates arrays (SGD, Adam) the parameters stay in one array between
    steps (``step.store``); otherwise each step goes through the Values."""
    if loss is cross_entropy:
        n_outputs = len(_as_list(model(X[0])))
        targets = np.eye(n_outputs)[y].tolist()  # one-hot rows: the target becomes data

        def sample_loss(theta, x, onehot):
            with model.substitute(theta):
                logits = model(x)
            return logsumexp(logits) - dot(onehot, logits)  # = logits[y], exactly
    elif loss is mse_loss:
        targets = [list(t) if np.ndim(t) else [float(t)] for t in y.tolist()]

        def sample_loss(theta, x, target):
            with model.substitute(theta):
                return mse_loss(model(x), target)
    else:
        raise ValueError("fit: jit=True supports the cross_entropy and mse losses; "
                         "use jit=False for the others")
    compiled = autograd_jit(sample_loss)
    params = model.parameters()
    target_array = np.asarray(targets, dtype=float)

    def summed_gradients(theta: Any, batch: Any) -> tuple[float, np.ndarray]:
        """(sum of the losses, sum of the gradients) over the batch's samples: the
        trace's batch code for a large batch, else one compiled call per sample."""
        if len(batch) >= _VECTORISE_FROM:
            values, summed = compiled.batch(theta, X[batch], target_array[batch],
                                            batched=(1, 2))
            return float(values.sum()), np.asarray(summed)
        total, summed = 0.0, None
        for i in batch:
            value, grads = compiled(theta, X[i], target_array[i])
            total += value
            summed = np.asarray(grads) if summed is None else summed + grads
        return total, summed

    def mean_gradient(theta: Any, batch: Any) -> tuple[float, np.ndarray]:
        total, summed = summed_gradients(theta, batch)
        return total, summed * (1.0 / len(batch)) if len(batch) > 1 else summed

    if _updates_arrays(optimizer):
        store = _Arrays(params)

        def array_step(batch: Any, optimizer: Optimizer) -> float:
            total, store.grad = mean_gradient(store.theta, batch)
            optimizer.update_arrays(store.theta, store.grad)
            return total

        array_step.store = store  # type: ignore[attr-defined]
        return array_step

    def step(batch: Any, optimizer: Optimizer) -> float:
        total, grad = mean_gradient([p.data for p in params], batch)
        for p, g in zip(params, grad.tolist()):
            p.grad = g
        optimizer.step()
        return total

    return step


# -- a run saved: the model with its history -------------------------------------------

#: the files of a saved run, in the folder given to save_run
RUN_FILES = ("model.json", "history.json")


def check_run_folder(folder: str | os.PathLike[str]) -> None:
    """Raise ValueError unless a run may be saved into ``folder``: a folder that does not
    exist yet, an empty one, or one holding an earlier run (its model.json). A folder
    that holds other things and no model.json -- ``/``, a home or project folder -- is
    refused, and so is a file, or a model.json or history.json that is not a file."""
    folder = Path(folder)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return
    except NotADirectoryError:
        where = "is a file" if os.path.lexists(folder) else "lies inside a file"
        raise ValueError(f"{folder} {where}, not a folder; give a folder for the run's "
                         f"{' and '.join(RUN_FILES)}") from None
    others = sorted(n for n in names if n not in RUN_FILES  # (nor a killed save's leftover)
                    and temporary_target(n) not in RUN_FILES)
    if others and RUN_FILES[0] not in names:
        shown = ", ".join(map(repr, others[:3])) + (f" and {len(others) - 3} more"
                                                    if len(others) > 3 else "")
        raise ValueError(f"{folder} holds other things ({shown}) and no earlier run's "
                         f"{RUN_FILES[0]}: a run is saved only into a new folder, an empty "
                         "one, or an earlier run's; give such a folder (e.g. runs/train)")
    for name in RUN_FILES:
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISREG(os.stat(folder / name).st_mode):
                raise ValueError(f"{folder / name} is not a regular file, so it is not "
                                 "replaced; remove it or give another folder")


def save_run(folder: str | os.PathLike[str], model: Any, history: Any) -> tuple[Path, Path]:
    """Save ``model`` as ``folder/model.json`` and ``history`` (JSON data: the run's
    settings and curves) as ``folder/history.json``; returns the two paths.

    The two are one unit: the old history.json is removed first, then model.json is
    written, then history.json (each atomically). So a history.json always describes the
    model.json beside it; a save killed midway leaves the old or the new model.json
    without a history.json, never a model and a history of two runs. ``folder`` must
    pass :func:`check_run_folder` (ValueError otherwise); OSError when writing fails.
    """
    folder = Path(folder)
    check_run_folder(folder)
    model_path, history_path = (folder / name for name in RUN_FILES)
    old_history = Path(os.path.realpath(history_path))  # (a symlink is kept: write_json)
    with contextlib.suppress(FileNotFoundError):
        old_history.unlink()
    model.save(model_path)
    write_json(history_path, history)
    return model_path, history_path
