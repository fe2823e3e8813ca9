"""Files the command reads and writes, against what a user or an attacker may hand it.

Each test reproduces one defect of the issue ("read without bound", "a tiny model file
builds millions of parameters", "an output replaces an input", "a killed save's leftover
stays for 600 s", "a kill between the model and its history leaves two runs", "names
print raw") and states the rule that fixes it.
"""

import contextlib
import csv
import io
import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import nn
from autograd.files import read_bytes, read_json, write_atomic
from nn import MLP, Classifier, Layer, Neuron, Standardize
from nn.cli import main
from nn.model_files import MAX_NESTING, module_from_config
from nn.perceptron import Perceptron
from nn.training import check_run_folder, save_run


@contextlib.contextmanager
def _within(seconds):
    """Fail (instead of hanging the suite) when the block takes longer than ``seconds``."""

    def stop(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _command(*args, cwd, timeout=60, memory=2 << 30):
    """The console command in a new process, with a time and memory limit."""

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run([sys.executable, "-m", "chainrule", *map(str, args)], cwd=cwd,
                          capture_output=True, timeout=timeout, preexec_fn=limit)


def _one_clean_line(stderr):
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text, text
    assert len(text.strip().splitlines()) == 1, text
    return text


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small trained classifier's file, as chainrule train writes it."""
    folder = tmp_path_factory.mktemp("trained")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "--epochs", "2", "--no-progress", "--out", str(folder)]) == 0
    return folder / "model.json"


def _spoiled(trained, tmp_path, spoil, name="spoiled.json"):
    saved = json.loads(trained.read_text())
    spoil(saved)
    path = tmp_path / name
    path.write_text(json.dumps(saved))
    return path


# -- reads are bounded: a regular file of bounded size, or a clear refusal --------------


def test_predict_refuses_dev_zero_at_once_instead_of_reading_it_forever(trained, tmp_path):
    started = time.monotonic()
    result = _command("predict", trained, "--input", "/dev/zero", cwd=tmp_path)
    assert time.monotonic() - started < 30
    assert result.returncode == 2
    assert "/dev/zero: it is not a regular file" in _one_clean_line(result.stderr)


def test_predict_refuses_a_fifo_instead_of_waiting_for_a_writer(trained, tmp_path):
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    result = _command("predict", trained, "--input", fifo, cwd=tmp_path, timeout=30)
    assert result.returncode == 2
    assert "it is not a regular file" in _one_clean_line(result.stderr)
    as_model = _command("predict", fifo, "1", "2", "3", "4", cwd=tmp_path, timeout=30)
    assert as_model.returncode == 2 and "not a regular file" in _one_clean_line(as_model.stderr)


def test_read_bytes_takes_only_a_regular_file_within_its_limit(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with _within(10):
        for path in (fifo, "/dev/zero", "/dev/null"):
            with pytest.raises(OSError, match="it is not a regular file"):
                read_bytes(path, 100)
            with pytest.raises(OSError, match="it is not a regular file"):
                read_json(path)
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        read_bytes(tmp_path, 100)
    big = tmp_path / "big.csv"
    big.write_bytes(b"1,2,3,4\n" * 200)
    with pytest.raises(ValueError, match="is larger than 1 KiB"):
        read_bytes(big, 1024)
    assert read_bytes(big, 1600) == b"1,2,3,4\n" * 200
    assert read_bytes("/proc/self/status", 1 << 20).startswith(b"Name:")  # sized 0, read


def test_predict_refuses_a_csv_larger_than_16_mib(trained, tmp_path, capsys):
    big = tmp_path / "big.csv"
    with open(big, "wb") as file:
        file.truncate((16 << 20) + 1)
    assert main(["predict", str(trained), "--input", str(big)]) == 2
    assert "is larger than 16 MiB" in _one_clean_line(capsys.readouterr().err)


def test_a_csv_field_beyond_the_csv_modules_limit_is_one_line(trained, tmp_path, capsys):
    rows = tmp_path / "long.csv"
    rows.write_text("1," + "1" * 140_000 + ",1,1\n")
    assert main(["predict", str(trained), "--input", str(rows)]) == 2
    assert "long.csv line 1: not CSV (field larger than field limit" in (
        _one_clean_line(capsys.readouterr().err))


def test_a_byte_order_mark_does_not_turn_the_first_row_into_a_header(trained, tmp_path,
                                                                     capsys):
    rows = tmp_path / "excel.csv"
    rows.write_bytes(b"\xef\xbb\xbf5.1,3.5,1.4,0.2\r\n6.7,3.0,5.2,2.3\r\n")
    assert main(["predict", str(trained), "--input", str(rows)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3  # the header line and both rows


# -- model files: the declared sizes are checked against the parameters present ---------


def test_a_447_byte_file_declaring_millions_of_parameters_is_refused_at_once(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({
        "format": "chainrule-module", "version": 1, "parameters": {"x": 0.0},
        "module": {"type": "Classifier", "classes": ["a", "b", "c"], "preprocess": None,
                   "network": {"type": "MLP", "nin": 4, "nouts": [600000, 3],
                               "activation": "relu", "output_activation": "linear"}}}))
    assert path.stat().st_size < 447
    started = time.monotonic()
    with pytest.raises(ValueError, match=r"the Classifier declares 4800003 parameters but the "
                                         r"file holds 1 \(4800002 missing\)"):
        nn.load(path)
    with pytest.raises(ValueError, match="declares 4800003 parameters"):
        MLP(4, [3]).load(path)  # loading into a model checks it too
    assert time.monotonic() - started < 2  # (it took 13.5 s and 1.6 GB)


def test_the_parameter_budget_is_still_named_first(trained, tmp_path):
    path = _spoiled(trained, tmp_path,
                    lambda d: d["module"]["network"].update(nouts=[100_000, 100_000, 3]))
    with pytest.raises(ValueError, match="more than the 5000000"):
        nn.load(path)


def test_a_standardization_of_5_features_before_a_4_input_network_is_refused(trained,
                                                                            tmp_path, capsys):
    def five(saved):
        saved["module"]["preprocess"]["mean"].append(0.0)
        saved["module"]["preprocess"]["scale"].append(1.0)

    path = _spoiled(trained, tmp_path, five)
    with pytest.raises(ValueError, match=r"its preprocessing \(Standardize\) gives 5 "
                                         r"features but its network takes 4"):
        nn.load(path)
    for features in (["1"] * 5, ["1"] * 4):
        assert main(["predict", str(path), *features]) == 1
        assert "gives 5 features" in _one_clean_line(capsys.readouterr().err)


@pytest.mark.parametrize("network", [Layer(4, 5, seed=0), Perceptron(4, seed=0),
                                     Neuron(4, seed=0)], ids=["Layer 4->5", "Perceptron",
                                                              "Neuron"])
def test_a_network_with_another_number_of_outputs_than_classes_is_refused(tmp_path, capsys,
                                                                         network):
    """(A Layer of 5 for 3 classes printed 3 probabilities that did not sum to 1; a
    one-output network was a TypeError.)"""
    path = tmp_path / "m.json"
    path.write_text(json.dumps({
        "format": "chainrule-module", "version": 1,
        "module": {"type": "Classifier", "classes": ["a", "b", "c"], "preprocess": None,
                   "network": network.config()},
        "parameters": {f"network.{k}": v for k, v in network.state_dict().items()}}))
    with pytest.raises(ValueError, match=r"output\(s\) for 3 classes"):
        nn.load(path)
    assert main(["predict", str(path), "1", "2", "3", "4"]) == 1
    assert "one output (logit) per class" in _one_clean_line(capsys.readouterr().err)


def _nested(depth):
    module = {"type": "MLP", "nin": 4, "nouts": [3], "activation": "relu",
              "output_activation": "linear"}
    for _ in range(depth):
        module = {"type": "Classifier", "classes": ["a", "b", "c"], "preprocess": None,
                  "network": module}
    return module


def test_480_nested_classifiers_are_refused_not_a_recursion_error(tmp_path, capsys):
    path = tmp_path / "nested.json"
    path.write_text(json.dumps({"format": "chainrule-module", "version": 1,
                                "module": _nested(480), "parameters": {}}))
    with pytest.raises(ValueError, match=f"nested more than {MAX_NESTING} deep"):
        nn.load(path)
    with pytest.raises(ValueError, match=f"nested more than {MAX_NESTING} deep"):
        module_from_config(_nested(480))
    assert main(["predict", str(path), "1", "2", "3", "4"]) == 1
    assert "nested more than" in _one_clean_line(capsys.readouterr().err)
    assert isinstance(module_from_config(_nested(3)), Classifier)  # a few levels are fine


def test_a_model_whose_mean_is_1e308_refuses_the_sample_in_one_line(trained, tmp_path,
                                                                   capsys):
    path = _spoiled(trained, tmp_path, lambda d: d["module"]["preprocess"].update(
        mean=[1e308] * 4))
    assert main(["predict", str(path), "1", "1", "1", "1"]) == 2
    assert "feature 2 = 1.0 is too far from the data the model was trained on" in (
        _one_clean_line(capsys.readouterr().err))
    assert main(["predict", str(trained), "1", "1e308", "1", "1"]) == 2
    assert "(x - mean) / scale = (1e+308 - " in _one_clean_line(capsys.readouterr().err)


# -- outputs never replace an input or a model the same command reads ------------------


@pytest.mark.parametrize("output", ["input", "model", "hardlink to input", "symlink to model"])
def test_predict_output_never_replaces_what_it_reads(trained, tmp_path, capsys, output):
    model = tmp_path / "model.json"
    model.write_bytes(trained.read_bytes())
    rows = tmp_path / "rows.csv"
    rows.write_text("5.1,3.5,1.4,0.2\n")
    target = {"input": rows, "model": model}.get(output, tmp_path / "out.csv")
    if output == "hardlink to input":
        os.link(rows, target)
    elif output == "symlink to model":
        target.symlink_to(model)
    before = model.read_bytes(), rows.read_bytes()
    assert main(["predict", str(model), "--input", str(rows), "--output", str(target)]) == 2
    assert "which this command reads: it is never replaced" in (
        _one_clean_line(capsys.readouterr().err))
    assert (model.read_bytes(), rows.read_bytes()) == before


def test_train_refuses_a_folder_holding_other_things(tmp_path, capsys):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    assert main(["train", "--epochs", "1", "--no-progress", "--out", str(folder)]) == 2
    assert "holds other things ('notes.txt') and no earlier run's model.json" in (
        _one_clean_line(capsys.readouterr().err))
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_train_out_slash_is_refused_before_training(capsys):
    existed = os.path.lexists("/model.json"), os.path.lexists("/history.json")
    try:
        assert main(["train", "--no-progress", "--out", "/"]) == 2
        printed = capsys.readouterr()
        assert "--out /: / holds other things" in _one_clean_line(printed.err)
        assert printed.out == ""  # refused before the training
    finally:
        for name, was in zip(("/model.json", "/history.json"), existed):
            if not was:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name)
    assert (os.path.lexists("/model.json"), os.path.lexists("/history.json")) == existed


def test_a_run_goes_into_a_new_an_empty_or_an_earlier_runs_folder(tmp_path):
    check_run_folder(tmp_path / "new" / "deeper")
    check_run_folder(tmp_path)  # empty
    (tmp_path / "model.json").write_text("{}")
    (tmp_path / "plot.png").write_text("")
    check_run_folder(tmp_path)  # an earlier run's, with something the user added
    leftover = tmp_path / "killed"
    leftover.mkdir()
    (leftover / ".model.json.abcd1234.saving.tmp").write_text("half")
    check_run_folder(leftover)  # only a killed first save's leftover
    with pytest.raises(ValueError, match="is a file, not a folder"):
        check_run_folder(tmp_path / "plot.png")
    with pytest.raises(ValueError, match="lies inside a file"):
        check_run_folder(tmp_path / "plot.png" / "run")
    (tmp_path / "history.json").mkdir()
    with pytest.raises(ValueError, match=r"history\.json is not a regular file"):
        check_run_folder(tmp_path)


# -- the next save removes a killed save's leftover, and only a killed one's -------------

_SAVE = textwrap.dedent("""
    import os, signal, sys, time
    from autograd import files
    path, mode = sys.argv[1], sys.argv[2]
    real_replace = os.replace
    def replace(source, target):
        if mode == "die":
            os.kill(os.getpid(), signal.SIGKILL)  # killed between writing and renaming
        print("writing", flush=True)
        sys.stdin.readline()  # a save still running: wait to be told to finish
        real_replace(source, target)
    files.os.replace = replace
    files.write_atomic(path, "the new content")
""")


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_the_next_save_removes_a_killed_saves_temporary_at_once(tmp_path):
    target = tmp_path / "model.json"
    killed = subprocess.run([sys.executable, "-c", _SAVE, str(target), "die"], timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert len(_leftovers(tmp_path)) == 1  # the killed save's temporary, seconds old
    write_atomic(target, "next")
    assert _leftovers(tmp_path) == []  # removed by the next save, not after 600 s
    assert target.read_text() == "next"


def test_a_save_still_running_keeps_its_temporary_and_finishes(tmp_path):
    target = tmp_path / "model.json"
    running = subprocess.Popen([sys.executable, "-c", _SAVE, str(target), "wait"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert running.stdout.readline() == "writing\n"
        write_atomic(target, "another save")
        assert len(_leftovers(tmp_path)) == 1  # the running save's: kept
        running.stdin.write("go\n")
        running.stdin.flush()
        assert running.wait(timeout=60) == 0
    finally:
        running.kill()
    assert target.read_text() == "the new content" and _leftovers(tmp_path) == []


# -- a model is saved with its history as one unit --------------------------------------

_KILLED_TRAIN = textwrap.dedent("""
    import os, signal, sys
    real_replace = os.replace
    def replace(source, target):
        if os.fspath(target).endswith("history.json"):
            os.kill(os.getpid(), signal.SIGKILL)  # killed between the model and the history
        real_replace(source, target)
    os.replace = replace
    from nn.cli import main
    main(["train", "--epochs", "1", "--no-progress", "--seed", "2", "--out", sys.argv[1]])
""")


def test_a_kill_between_the_model_and_its_history_never_leaves_two_runs(tmp_path):
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "--epochs", "1", "--no-progress", "--seed", "1",
                     "--out", str(tmp_path)]) == 0
    first_model = (tmp_path / "model.json").read_text()
    killed = subprocess.run([sys.executable, "-c", _KILLED_TRAIN, str(tmp_path)],
                            capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    model = (tmp_path / "model.json").read_text()
    assert model != first_model  # the second run's model was written ...
    assert not (tmp_path / "history.json").exists()  # ... and the first run's history is gone
    with contextlib.redirect_stdout(io.StringIO()):  # the folder takes the next run
        assert main(["train", "--epochs", "1", "--no-progress", "--seed", "3",
                     "--out", str(tmp_path)]) == 0
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["config"]["seed"] == 3 and _leftovers(tmp_path) == []


def test_save_run_replaces_a_run_and_keeps_a_symlinked_history(tmp_path):
    model = MLP(2, [2], seed=0)
    elsewhere = tmp_path / "kept" / "history.json"
    elsewhere.parent.mkdir()
    elsewhere.write_text("{}")
    run = tmp_path / "run"
    run.mkdir()
    (run / "history.json").symlink_to(elsewhere)
    model_path, history_path = save_run(run, model, {"epochs": [1]})
    assert nn.load(model_path).state_dict() == model.state_dict()
    assert history_path.is_symlink() and json.loads(elsewhere.read_text()) == {"epochs": [1]}


# -- names are escaped when printed --------------------------------------------------------

HOSTILE_CLASSES = ["\x1b[2J\x1b[31mred", "two\nlines", "\u202eeurt", "bad\udcffbyte"]


@pytest.fixture
def hostile_names(trained, tmp_path):
    def spoil(saved):
        saved["module"]["classes"] = HOSTILE_CLASSES[:3]
    return _spoiled(trained, tmp_path, spoil)


def _printable(text):
    return not any(c in text for c in "\x1b\r\u202e\udcff") and "two\nlines" not in text


def test_class_names_are_escaped_when_printed(hostile_names, capsys):
    assert main(["predict", str(hostile_names), "5.1", "3.5", "1.4", "0.2"]) == 0
    out = capsys.readouterr().out
    assert _printable(out) and len(out.splitlines()) == 4
    assert "\\x1b[2J\\x1b[31mred" in out and "two\\nlines" in out and "\\u202eeurt" in out


def test_class_names_are_escaped_on_stdout_and_kept_in_the_output_file(hostile_names,
                                                                       tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    rows.write_text("5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
    assert main(["predict", str(hostile_names), "--input", str(rows)]) == 0
    out = capsys.readouterr().out
    assert _printable(out) and len(out.splitlines()) == 3
    written = tmp_path / "out.csv"
    assert main(["predict", str(hostile_names), "--input", str(rows), "--output",
                 str(written)]) == 0
    table = list(csv.reader(io.StringIO(written.read_text(), newline="")))
    assert table[0][1:] == [f"p({name})" for name in HOSTILE_CLASSES[:3]]  # exact, quoted
    assert len(table) == 3


def test_a_lone_surrogate_in_a_class_name_prints_escaped(trained, tmp_path, capsys):
    path = tmp_path / "surrogate.json"
    saved = json.loads(trained.read_text())
    saved["module"]["classes"] = ["a", "b", "c"]
    path.write_text(json.dumps(saved).replace('"a"', '"bad\\udcffbyte"'))
    assert main(["predict", str(path), "5.1", "3.5", "1.4", "0.2"]) == 0
    assert "bad\\udcffbyte" in capsys.readouterr().out


def test_paths_and_arguments_are_escaped_in_errors(tmp_path, capsys):
    name = str(tmp_path / "evil\x1b[2J\nname.json")
    assert main(["predict", name, "1", "2", "3", "4"]) == 2
    err = _one_clean_line(capsys.readouterr().err)
    assert "evil\\x1b[2J\\nname.json" in err
    with pytest.raises(SystemExit) as info:
        main(["train", "--nope\x1b[31m", "--no-progress"])
    assert info.value.code == 2
    err = _one_clean_line(capsys.readouterr().err)
    assert "\x1b" not in err and "unrecognized arguments: --nope\\x1b[31m" in err


def test_a_graph_expression_is_escaped_when_printed(tmp_path, capsys):
    assert main(["graph", "x # \x1b[2J", "x=1", "-o", str(tmp_path / "g.dot")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "f = x # \\x1b[2J = 1.0" in out


def test_a_standardize_keeps_its_numbers_through_a_file(tmp_path):
    """(The check before building reads a Standardize's features from its mean.)"""
    model = Classifier(MLP(2, [2], seed=0), ["a", "b"], preprocess=Standardize([1, 2], [3, 4]))
    loaded = nn.load(model.save(tmp_path / "m.json"))
    assert loaded.preprocess.mean == [1, 2] and loaded.state_dict() == model.state_dict()
