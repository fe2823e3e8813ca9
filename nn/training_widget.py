"""``nn.Playground``: TensorFlow Playground in a notebook, every number from the engine.

    import nn
    nn.Playground(dataset="spiral", hidden=[8, 8])   # the last line of a cell: it shows

A notebook widget (anywidget: one ES module, so the same widget runs in JupyterLab,
Notebook 7, VS Code and Colab). Displaying it starts training (``autoplay``); while
``fit`` runs in the kernel, each frame it records (:class:`~nn.recording.Recorder`'s
``on_frame``) goes to the page, which draws it with the training explorer's own script
(``training_explorer.js``: the decision surface with the training and test points, the
network with each neuron's map and the weights as edges, the loss and accuracy curves).

The controls are Playground's, and changing one stops the run and starts a new one with
the new settings, as Playground does: the data set (circle, xor, gaussian, spiral, moons,
Iris), its noise, the ratio of training to test data, the hidden layers, the activation,
the learning rate, the regularization and its rate, the batch size -- and, beyond
Playground, the optimizer, the number of epochs and the seed. Play, pause, step (one
epoch) and reset are Playground's buttons. A click on a data point asks the kernel for
that point's forward and backward pass at exactly the frame shown (``draw_network`` at
that frame's parameters), not at the nearest stored frame as the static page does.

From Python the widget is a set of traitlets (``widget.lr = 0.1`` restarts the run, as
the control does) with checks that name the control, the value and the fix;
``widget.model`` and ``widget.history`` are the current run's (what ``fit`` returned),
``widget.write("run.html")`` saves the run so far as the static explorer page, and
``widget.train()`` trains the current settings to the end without a front end.

How the run stays live: ``fit`` runs in a background thread. The kernel's main thread
stays free for the controls' messages and the clicks (ipykernel's IOPub socket is
thread-safe, so the training thread sends the frames itself). The thread pauses between
epochs (pause, step) and stops at the next epoch or frame when the settings change;
frames of a stopped run never reach the page (each message carries its run's number).
Without a front end (a script, a test, a notebook run headless) nothing trains until
:meth:`Playground.play`, :meth:`~Playground.step` or :meth:`~Playground.train`.
"""

from __future__ import annotations

import copy
import math
import os
import threading
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

try:
    import anywidget
    import traitlets
except ModuleNotFoundError as error:  # pragma: no cover - the notebooks extra has them
    raise ModuleNotFoundError(
        f"nn.Playground is a notebook widget and needs anywidget ({error}); install it: "
        "pip install anywidget (or pip install 'chainrule[notebooks]')") from None

from autograd.graph.naming import _fmt

from . import data as datasets
from .cli import PLANE_CLASSES  # the plane sets' class names, as `chainrule train` has them
from .layers import MLP
from .network_view import NetworkView, draw_network
from .optim import SGD, Adam, Optimizer
from .preprocessing import Classifier, Standardize
from .recording import Frame, Recorder, Recording
from .training import History, TrainingDiverged, fit
from .training_explorer import (
    FrameCoder,
    TrainingExplorer,
    _asset,
    _at_frame,
    _curves,
    _page,
    explore_training,
)

__all__ = ["Playground", "PlaygroundRun", "SettingError", "Settings", "build_run"]

#: the data sets: Playground's four, scikit-learn's moons, and the Iris flowers (measured:
#: four features, three classes; drawn on the plane of its first two principal components)
DATASETS = ("circle", "xor", "gaussian", "spiral", "moons", "iris")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
OPTIMIZERS = ("sgd", "adam")
#: L2 is the optimizer's weight_decay (PyTorch's: the gradient gets + rate * theta, the
#: gradient of rate/2 * |theta|^2), on every parameter; chainrule's optimizers have no L1
REGULARIZATIONS = ("none", "L2")
#: the values the page's menus offer: Playground's own lists (from Python any value that
#: passes the checks may be set)
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
MAX_LAYERS, MAX_WIDTH = 6, 16  # hidden layers; neurons in one (every one is mapped, drawn)
MAX_EPOCHS = 10_000
SAMPLES = (20, 1000)  # the generated sets' sizes
#: the live frames: Recorder's defaults for the maps; at most this many frames a run
#: (past it they are spaced evenly: every 2, 3, ... epochs)
GRID, NEURON_GRID, MAX_FRAMES = 25, 12, 400
#: the layout widths of the network picture (the least: 100 more per hidden layer beyond
#: three keep the columns' headings apart) and of each curve: a notebook's column is
#: narrower than the static page (860 and 420), and the pictures scale to their boxes
NETWORK_WIDTH, CURVE_WIDTH = 560, 300

#: the controls, in the order the page shows them (traitlet names)
CONTROLS = ("dataset", "noise", "train_ratio", "batch_size", "hidden", "activation",
            "optimizer", "lr", "regularization", "regularization_rate", "epochs", "seed")


class SettingError(traitlets.TraitError, ValueError):
    """A control's value refused: the message names the control, the value and the fix."""


@dataclass(frozen=True)
class Settings:
    """One run's settings: the controls' values when it started (see :class:`Playground`
    for each one's meaning)."""

    dataset: str = "circle"
    noise: float = 0.0
    train_ratio: float = 0.5
    batch_size: int = 10
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    optimizer: str = "sgd"
    lr: float = 0.03
    regularization: str = "none"
    regularization_rate: float = 0.0
    epochs: int = 100
    seed: int = 0
    samples: int = 200


class PlaygroundRun:
    """One run's data, model and optimizer, built from :class:`Settings` by
    :func:`build_run`; its frames and history as ``fit`` records them."""

    def __init__(self, settings: Settings, X: np.ndarray, y: np.ndarray,
                 split: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                 classes: list[str], features: list[str], model: Classifier,
                 optimizer: Optimizer) -> None:
        self.settings = settings
        self.X, self.y = X, y
        self.X_train, self.X_test, self.y_train, self.y_test = split
        self.classes, self.features = classes, features
        self.model, self.optimizer = model, optimizer
        #: the model as built, never trained: each pass (and each page) starts from a copy
        self.initial = copy.deepcopy(model)
        #: every sample as the page numbers its points: the training ones, then the test ones
        self.samples = [(x, int(t)) for X_part, y_part in ((self.X_train, self.y_train),
                                                           (self.X_test, self.y_test))
                        for x, t in zip(X_part, y_part)]
        self.frames: list[Frame] = []  #: every frame recorded, in order (none thinned)
        self.recording: Recording | None = None
        self.history: History | None = None
        self.epoch = 0  #: epochs completed
        self.used: list[int] = []  #: the parameters the page shows (its network's)
        self.state = "ready"  #: ready, training, paused, finished, diverged, failed, stopped
        self.message = ""  #: what the state means, for the page (a divergence's reason...)

    def recorder(self, on_frame: Any = None) -> Recorder:
        return Recorder(grid=GRID, neuron_grid=NEURON_GRID, max_frames=MAX_FRAMES,
                        on_frame=on_frame)

    def snapshot(self) -> Recording:
        """The recording with the frames so far (it may still be growing): a copy whose
        frame list stays as it is."""
        assert self.recording is not None
        shot = copy.copy(self.recording)
        shot.frames = list(self.frames)
        return shot


def build_run(settings: Settings) -> PlaygroundRun:
    """The data (generated with ``settings.seed``, split stratified into training and
    test parts by ``train_ratio``), the model -- ``nn.Classifier`` over ``nn.MLP(features,
    [*hidden, classes])``, its inputs standardized with the training part's mean and
    standard deviation, He initialization for ReLU, LeCun's otherwise -- and the
    optimizer (``SGD`` or ``Adam`` with ``lr``; L2 as their ``weight_decay``)."""
    s = settings
    if s.dataset == "iris":  # measured data: no noise to add
        X, y = datasets.load_iris()
        classes, features = list(datasets.IRIS_CLASSES), list(datasets.IRIS_FEATURES)
    else:
        X, y = datasets.PLANE_DATASETS[s.dataset](s.samples, noise=s.noise, seed=s.seed)
        classes, features = list(PLANE_CLASSES[s.dataset]), ["x1", "x2"]
    split = datasets.train_test_split(X, y, test_size=round(1.0 - s.train_ratio, 10),
                                      seed=s.seed)
    X_train = split[0]
    network = MLP(X.shape[1], [*s.hidden, len(classes)], s.activation, seed=s.seed,
                  init="he" if s.activation == "relu" else "lecun")
    model = Classifier(network, classes, Standardize.fit(X_train), features=features)
    decay = s.regularization_rate if s.regularization == "L2" else 0.0
    kind = SGD if s.optimizer == "sgd" else Adam
    optimizer = kind(model.parameters(), lr=s.lr, weight_decay=decay)
    return PlaygroundRun(settings, X, y, split, classes, features, model, optimizer)


class _Stopped(Exception):
    """Raised inside fit's callbacks: the run was replaced or the widget closed."""


def _widget_module() -> str:
    """The widget's ES module: the training explorer's script (its drawing, shared with
    the static page) and the widget's own, which mounts it and adds the controls."""
    widget = resources.files("nn").joinpath("training_widget.js").read_text(encoding="utf-8")
    return f"{_asset('js')}\n{widget}"


def _widget_style() -> str:
    widget = resources.files("nn").joinpath("training_widget.css").read_text(encoding="utf-8")
    return f"{_asset('css')}\n{widget}"


class Playground(anywidget.AnyWidget):
    """TensorFlow Playground, live, with chainrule's engine doing the training: see the
    module's docstring. Every control is a traitlet of the same name; setting one (here
    or on the page) starts a new run with the new settings.

    - ``dataset``: ``"circle"``, ``"xor"``, ``"gaussian"``, ``"spiral"``, ``"moons"`` or
      ``"iris"``; ``samples`` points for the generated ones (Iris has 150).
    - ``noise``: 0 to 0.5, the generators' own (Playground's 0 to 50, divided by 100);
      Iris, measured, has none.
    - ``train_ratio``: the part of the data that trains, 0.1 to 0.9 (the rest tests).
    - ``hidden``: the hidden layers' sizes, e.g. ``[4, 2]``; ``[]`` for none (a linear
      classifier); at most 6 layers of at most 16 neurons.
    - ``activation``: ``"tanh"``, ``"relu"``, ``"sigmoid"`` or ``"linear"``.
    - ``optimizer``: ``"sgd"`` (Playground's) or ``"adam"``; ``lr`` its learning rate.
    - ``regularization``: ``"none"`` or ``"L2"``, with ``regularization_rate``: the
      optimizer's ``weight_decay`` (PyTorch's L2, on every parameter).
    - ``batch_size``: samples per update; ``epochs``: the run's length; ``seed``: the
      data, the split, the initial weights and the shuffling.
    - ``autoplay``: start training when the widget is displayed (Playground waits for its
      play button: ``autoplay=False``).
    """

    _esm = _widget_module()
    _css = _widget_style()

    # (the defaults are Settings', Playground's own: circle, 50 %, 4-2 tanh, SGD 0.03, 10)
    dataset = traitlets.Unicode(Settings.dataset).tag(sync=True)
    noise = traitlets.Float(Settings.noise).tag(sync=True)
    train_ratio = traitlets.Float(Settings.train_ratio).tag(sync=True)
    batch_size = traitlets.Int(Settings.batch_size).tag(sync=True)
    hidden = traitlets.Any(list(Settings.hidden)).tag(sync=True)
    activation = traitlets.Unicode(Settings.activation).tag(sync=True)
    optimizer = traitlets.Unicode(Settings.optimizer).tag(sync=True)
    lr = traitlets.Float(Settings.lr).tag(sync=True)
    regularization = traitlets.Unicode(Settings.regularization).tag(sync=True)
    regularization_rate = traitlets.Float(Settings.regularization_rate).tag(sync=True)
    epochs = traitlets.Int(Settings.epochs).tag(sync=True)
    seed = traitlets.Int(Settings.seed).tag(sync=True)
    samples = traitlets.Int(Settings.samples).tag(sync=True)
    autoplay = traitlets.Bool(True).tag(sync=True)
    #: what the page's controls offer (read-only)
    choices = traitlets.Dict().tag(sync=True)

    def __init__(self, **settings: Any) -> None:
        self._lock = threading.RLock()  # one run's frames and messages, in order
        self._run: PlaygroundRun | None = None
        self._runs = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Condition(self._lock)
        self._playing = False
        self._allowed = 0  # epochs the run may complete while paused (step)
        self._shown = False  # a page has asked for the run (ready)
        self._views = 0  # pages showing the widget now
        self._unwatched = False  # paused when the last page went; a page back plays it
        self._undoing = False  # a refused setting being put back
        unknown = sorted(set(settings) - {*CONTROLS, "samples", "autoplay"})
        if unknown:
            raise TypeError(f"Playground: unknown setting(s) {', '.join(unknown)}; the "
                            f"settings are {', '.join((*CONTROLS, 'samples', 'autoplay'))}")
        super().__init__(**settings)
        self.choices = {
            "dataset": list(DATASETS), "activation": list(ACTIVATIONS),
            "optimizer": list(OPTIMIZERS), "regularization": list(REGULARIZATIONS),
            "lr": list(LEARNING_RATES), "regularization_rate": list(REGULARIZATION_RATES),
            "batch_size": [1, 30], "noise": [0.0, 0.5], "train_ratio": [0.1, 0.9],
            "epochs": [1, MAX_EPOCHS], "layers": MAX_LAYERS, "width": MAX_WIDTH}
        self._new_run()
        self.on_msg(self._on_message)

    def __repr__(self) -> str:
        now, default = self.settings, Settings()
        changed = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(Settings)
                            if getattr(now, f.name) != getattr(default, f.name))
        run = self._run
        where = "" if run is None else (f": run {self._runs}, {run.state}, epoch {run.epoch} "
                                        f"of {run.settings.epochs}")
        return f"Playground({changed}){where}"

    # -- the checks -----------------------------------------------------------------------

    @staticmethod
    def _refuse(name: str, value: Any, wanted: str) -> SettingError:
        return SettingError(f"Playground: {name}={value!r:.60} is refused: {wanted}")

    @traitlets.validate("dataset", "activation", "optimizer", "regularization")
    def _check_choice(self, proposal: Any) -> str:
        name, value = proposal["trait"].name, proposal["value"]
        options = {"dataset": DATASETS, "activation": ACTIVATIONS, "optimizer": OPTIMIZERS,
                   "regularization": REGULARIZATIONS}[name]
        if name == "regularization" and value == "L1":
            raise self._refuse(name, value, "chainrule's optimizers have weight decay (L2) "
                               "and no L1; use 'L2' or 'none'")
        if value not in options:
            raise self._refuse(name, value, f"choose one of {', '.join(map(repr, options))}")
        return value

    @traitlets.validate("noise", "train_ratio", "lr", "regularization_rate")
    def _check_number(self, proposal: Any) -> float:
        name, value = proposal["trait"].name, proposal["value"]
        low, high, wanted = {
            "noise": (0.0, 0.5, "a number from 0 to 0.5 (Playground's 0 to 50 %)"),
            "train_ratio": (0.1, 0.9, "the training part, a number from 0.1 to 0.9"),
            "lr": (0.0, math.inf, "a positive number, e.g. 0.03"),
            "regularization_rate": (0.0, math.inf, "a number >= 0, e.g. 0.01")}[name]
        fine = math.isfinite(value) and low <= value <= high and (name != "lr" or value > 0)
        if not fine:
            raise self._refuse(name, value, f"give {wanted}")
        return value

    @traitlets.validate("batch_size", "epochs", "seed", "samples")
    def _check_count(self, proposal: Any) -> int:
        name, value = proposal["trait"].name, proposal["value"]
        low, high = {"batch_size": (1, 10_000), "epochs": (1, MAX_EPOCHS),
                     "seed": (0, 2**32 - 1), "samples": SAMPLES}[name]
        if isinstance(value, bool) or not low <= value <= high:
            raise self._refuse(name, value, f"give a whole number from {low} to {high}")
        return value

    @traitlets.validate("hidden")
    def _check_hidden(self, proposal: Any) -> list[int]:
        value = proposal["value"]
        if isinstance(value, str):  # the page's text box: "4, 2" (or "" / "none": no layer)
            text = value.replace(",", " ").split()
            try:
                value = [] if text in ([], ["none"]) else [int(t) for t in text]
            except ValueError:
                raise self._refuse("hidden", proposal["value"], "write the layers' sizes "
                                   "as whole numbers, e.g. 4, 2 (none: no hidden layer)"
                                   ) from None
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
            raise self._refuse("hidden", value, "give a list of layer sizes, e.g. [4, 2] "
                               "([] for no hidden layer)")
        sizes = [int(v) for v in value]
        if len(sizes) > MAX_LAYERS or not all(1 <= v <= MAX_WIDTH for v in sizes):
            raise self._refuse("hidden", value, f"at most {MAX_LAYERS} layers of 1 to "
                               f"{MAX_WIDTH} neurons each, e.g. [4, 2]")
        return sizes

    # -- settings -> a run ------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The controls' values now, as the next run will use them."""
        return Settings(**{name: getattr(self, name) for name in (*CONTROLS, "samples")
                           if name != "hidden"}, hidden=tuple(self.hidden))

    @traitlets.observe(*CONTROLS, "samples")
    def _settings_changed(self, change: Any) -> None:
        if self._run is None or change["old"] == change["new"] or self._undoing:
            return
        try:
            self._new_run(restart=True)  # as Playground: a run with the new settings
        except ValueError as error:  # settings that do not go together: undone, run kept
            self._undoing = True
            try:
                setattr(self, change["name"], change["old"])
            finally:
                self._undoing = False
            raise SettingError(f"Playground: {change['name']}={change['new']!r} is refused: "
                               f"{error}") from None

    def _new_run(self, restart: bool = False) -> None:
        """Stop the run (at its next epoch or frame) and build the next from the settings;
        it starts at once when a page shows it, paused unless playing. ``restart`` (a
        setting changed): it plays if the run it replaces was playing or had ended --
        a run paused by hand stays paused."""
        run = build_run(self.settings)
        with self._lock:
            old = self._run
            if restart and old is not None and old.state in ("finished", "diverged",
                                                             "failed"):
                self._playing = True
            self._stop.set()
            self._wake.notify_all()
            self._stop = threading.Event()
            self._runs += 1
            self._run, self._thread, self._allowed = run, None, 0
            self._status()
        if self._shown:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._run is None:
                return
            run, stop = self._run, self._stop
            self._thread = threading.Thread(target=self._train, args=(run, stop),
                                             name=f"chainrule Playground run {self._runs}",
                                             daemon=True)
            self._thread.start()

    # -- the controls -----------------------------------------------------------------------

    def play(self) -> None:
        """Train on from where the run is (a run that has ended starts again)."""
        with self._lock:
            self._playing = True
            self._again_if_ended()
            self._wake.notify_all()
            self._status()
        self._start()

    def pause(self) -> None:
        """Stop training after the epoch under way (the run waits to go on)."""
        with self._lock:
            self._playing = False
            self._status()

    def step(self) -> None:
        """Train one more epoch, then pause (Playground's step)."""
        with self._lock:
            self._playing = False
            self._again_if_ended()
            self._allowed = self.run.epoch + 1
            self._wake.notify_all()
            self._status()
        self._start()

    def _again_if_ended(self) -> None:
        if self.run.state in ("finished", "diverged", "failed"):
            self._new_run()

    def reset(self) -> None:
        """Start the run again from its initial weights, paused (Playground's reset)."""
        with self._lock:
            self._playing = False
        self._new_run()

    def train(self) -> History:
        """Train the current settings' run to the end, here (blocking; no front end
        needed), and return its history. The page, if one shows the widget, follows."""
        with self._lock:
            if self._run is None or self._run.state != "ready" or self._thread is not None:
                self._new_run()
            run, stop = self._run, self._stop
            self._thread = threading.current_thread()
            self._playing = True
        self._train(run, stop, reraise=True)
        assert run.history is not None
        return run.history

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run's training thread ends (it finished, diverged or was
        replaced); False if ``timeout`` seconds passed first."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def close(self) -> None:
        """Stop the run and close the widget."""
        with self._lock:
            self._stop.set()
            self._wake.notify_all()
        super().close()

    # -- what the run gives -----------------------------------------------------------------

    @property
    def run(self) -> PlaygroundRun:
        """The current run: its settings, data, model, frames."""
        assert self._run is not None
        return self._run

    @property
    def model(self) -> Classifier:
        """The current run's model (trained as far as the run has gone)."""
        return self.run.model

    @property
    def history(self) -> History | None:
        """The current run's :class:`~nn.History` (``fit``'s, filled as it trains; its
        ``recording`` holds the frames), or None before its first epoch."""
        return self.run.history

    @property
    def status(self) -> str:
        """ready, training, paused, finished, diverged (with the reason: ``run.message``),
        failed or stopped."""
        return self.run.state

    @property
    def epoch(self) -> int:
        """Epochs the current run has completed."""
        return self.run.epoch

    def explore(self, **options: Any) -> TrainingExplorer:
        """The current run so far as the static training explorer's page (see
        :func:`nn.training_explorer.explore_training` for the options)."""
        run = self.run
        with self._lock:
            if not run.frames:
                raise ValueError("Playground: the run has no frame yet; display the widget "
                                 "or call play(), step() or train() first")
            shot = run.snapshot()
        return explore_training(shot, run.initial, **options)

    def write(self, path: str | os.PathLike[str], **options: Any) -> Path:
        """Save the current run so far as the static training explorer's page (one
        offline file; a click on a point shows its pass at the nearest of a few frames)."""
        return self.explore(**options).write(path)

    def pass_at(self, point: int, frame: int = -1) -> NetworkView:
        """Sample ``point`` (as the page numbers them: the training samples, then the test
        ones) through the network at frame ``frame`` of the current run: ``draw_network``
        on a copy of the model holding that frame's parameters, computed by the engine."""
        run = self.run
        with self._lock:
            frames = list(run.frames)
        if not frames:
            raise ValueError("Playground: the run has no frame yet")
        if not isinstance(point, (int, np.integer)) or not 0 <= point < len(run.samples):
            raise IndexError(f"Playground: point {point!r} is not one of the "
                             f"{len(run.samples)} samples (0 to {len(run.samples) - 1})")
        if not isinstance(frame, (int, np.integer)) or not -len(frames) <= frame < len(frames):
            raise IndexError(f"Playground: frame {frame!r} is not one of the {len(frames)} "
                             "recorded so far")
        x, target = run.samples[point]
        return draw_network(_at_frame(run.initial, frames[frame].parameters), x, target)

    # -- the training thread ----------------------------------------------------------------

    def _train(self, run: PlaygroundRun, stop: threading.Event, reraise: bool = False) -> None:
        """The run: ``fit`` with a recorder that sends each frame, pausing between epochs
        as the controls say. In the run's thread (or, from :meth:`train`, the caller's)."""
        s = run.settings

        def on_frame(recording: Recording, frame: Frame) -> None:
            with self._lock:
                if stop.is_set():
                    raise _Stopped
                run.recording = recording
                run.frames.append(frame)
                self._send_frame(run, len(run.frames) - 1)
            if len(run.frames) == 1:
                self._gate(run, stop)  # a run shows its first frame, then waits for play

        def on_epoch(epoch: int, history: History) -> None:
            run.history = history
            run.epoch = epoch + 1
            self._gate(run, stop)

        try:
            with self._lock:
                run.state = "training" if self._playing else "paused"
                self._status()
            history = fit(run.model, run.X_train, run.y_train, optimizer=run.optimizer,
                          epochs=s.epochs, batch_size=s.batch_size, seed=s.seed,
                          validation=(run.X_test, run.y_test), progress=False,
                          on_epoch=on_epoch, record=run.recorder(on_frame))
            run.history, run.state, run.message = history, "finished", ""
        except _Stopped:
            run.state = "stopped"
        except TrainingDiverged as error:
            run.history, run.state, run.message = error.history, "diverged", str(error)
            if reraise:
                raise
        except Exception as error:  # said on the page; the trace goes to the kernel's log
            run.state, run.message = "failed", f"{type(error).__name__}: {error}"
            raise
        finally:
            with self._lock:
                if run is self._run and run.state != "stopped":
                    self._playing = False  # finished (or broken): play starts it again
                    self._status()

    def _gate(self, run: PlaygroundRun, stop: threading.Event) -> None:
        """Between epochs: go on while playing (or stepping), else wait; stop if told."""
        with self._lock:
            self._status()
            while not stop.is_set() and not (self._playing or run.epoch < self._allowed):
                if run.state != "paused":
                    run.state = "paused"
                    self._status()
                self._wake.wait()
            if stop.is_set():
                raise _Stopped
            if run.state != "training":
                run.state = "training"
                self._status()

    # -- messages ---------------------------------------------------------------------------

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ready":  # a page shows the widget: send it the run so far
            first, back = not self._shown, self._unwatched
            self._shown, self._unwatched = True, False
            self._views += 0 if content.get("again") else 1
            with self._lock:
                run = self._run
                if run is not None and run.frames:
                    self._send_run(run)
                self._status()
            if (first and self.autoplay and self.run.state == "ready") or back:
                self.play()
            else:
                self._start()
        elif kind == "gone":  # a page closed (its cell ran again, scrolled away...)
            self._views -= 1
            if self._views <= 0 and self._playing:
                self._unwatched = True  # no one is watching: the run waits for a page
                self.pause()
        elif kind in ("play", "pause", "step", "reset"):
            getattr(self, kind)()
        elif kind == "set":
            name, value = content.get("name"), content.get("value")
            try:
                if name not in CONTROLS:
                    raise SettingError(f"Playground: there is no control {name!r}")
                setattr(self, name, self._from_page(name, value))
            except traitlets.TraitError as error:
                self.send({"type": "error", "message": str(error)})
                self.send_state(name if name in CONTROLS else None)
            else:
                self.send({"type": "error", "message": ""})
        elif kind == "pass":
            self._send_pass(content)

    def _from_page(self, name: str, value: Any) -> Any:
        """A number box's text as the control's number (the checks then say the rest)."""
        trait = self.traits()[name]
        if isinstance(value, str) and isinstance(trait, (traitlets.Int, traitlets.Float)):
            whole = isinstance(trait, traitlets.Int)
            try:
                return int(value) if whole else float(value)
            except ValueError:
                raise self._refuse(name, value, "give a whole number" if whole
                                   else "give a number") from None
        return value

    def _send_pass(self, content: dict[str, Any]) -> None:
        point, frame, number = content.get("point"), content.get("frame"), content.get("run")
        reply = {"type": "pass", "run": number, "point": point, "frame": frame,
                 "svg": None, "note": ""}
        try:
            if number != self._runs:
                return  # a run that was replaced: its page is gone too
            view = self.pass_at(point, frame)
            epoch = self.run.frames[frame].epoch
            reply["svg"] = view.svg
            reply["note"] = (f"The forward and backward pass at epoch {_fmt(epoch, 6)} (this "
                             "frame), computed by the engine in the kernel with this frame's "
                             "parameters.")
        except Exception as error:  # the page says why, instead of waiting
            reply["note"] = f"No pass: {error}"
        self.send(reply)

    def _send_run(self, run: PlaygroundRun) -> None:
        """The page's skeleton and the frames so far (under the lock)."""
        shot = run.snapshot()
        s = run.settings
        about = (f"{len(run.y_train)} training samples, {len(run.y_test)} test · "
                 f"{s.optimizer.upper() if s.optimizer == 'sgd' else 'Adam'} lr {s.lr:g}, "
                 f"batch {s.batch_size}"
                 + (f", L2 {s.regularization_rate:g}" if s.regularization == "L2" else ""))
        title, data, body = _page(shot, run.initial, run.initial.network, run.classes,
                                  run.features, None, 4, epochs=s.epochs, about=about,
                                  network_width=max(NETWORK_WIDTH, 100 * len(s.hidden) + 240),
                                  curve_width=CURVE_WIDTH)
        run.used = data["network"]["used"]
        self.send({"type": "run", "run": self._runs, "title": title, "data": data,
                   "body": body})

    def _send_frame(self, run: PlaygroundRun, k: int) -> None:
        if run is not self._run:
            return
        if k == 0 or not self._shown:
            if self._shown:
                self._send_run(run)
            return
        shot = run.snapshot()
        coder = FrameCoder(shot, run.initial, run.used, lambda v: _fmt(float(v), 4),
                           run.settings.epochs)
        svg, curves = _curves(shot, until=run.settings.epochs, full=CURVE_WIDTH)
        self.send({"type": "frame", "run": self._runs, "index": k,
                   "entry": coder.entry(k, run.frames[k]),
                   "curves": {"svg": svg, "data": curves}})

    def _status(self) -> None:
        run = self._run
        if run is None:
            return
        self.send({"type": "status", "run": self._runs, "state": run.state,
                   "playing": self._playing, "epoch": run.epoch,
                   "epochs": run.settings.epochs, "message": run.message})
