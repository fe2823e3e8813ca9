"""Your own data: ``nn.data.load_csv``, ``chainrule train data.csv`` and ``chainrule predict``
on the same layout -- end to end on data the library never saw, and every malformed file
as one clear line naming the file, the line and the column."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import Classifier, Regressor, load
from nn.cli import main
from nn.data import load_csv, load_digits, load_iris

IRIS = Path(nn.__file__).parent / "iris.csv"


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def _gaussians(n=120, seed=0):
    """Three labelled clouds in 3-D, plus a text column (an id) and the label in the
    middle: the layout of a spreadsheet, not of a textbook."""
    rng = np.random.default_rng(seed)
    centres = {"red": (0, 0, 0), "green": (3, 0, 1), "blue": (0, 3, -1)}
    rows = []
    for i in range(n):
        name = list(centres)[i % 3]
        x = np.array(centres[name]) + rng.normal(0, 0.6, 3)
        rows.append([f"id{i:03d}", f"{x[0]:.5f}", name, f"{x[1]:.5f}", f"{x[2]:.5f}"])
    return rows


def _gaussians_csv(path, header=True, **kw):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        if header:
            writer.writerow(["id", "width", "colour", "height", "depth"])
        writer.writerows(_gaussians(**kw))
    return path


def _error(argv, capsys, status=2):
    try:
        returned = main(argv)
    except SystemExit as stop:  # argparse's usage errors
        returned = stop.code
    assert returned == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chainrule "), err  # one line
    return err


# -- load_csv in Python ------------------------------------------------------------------


def test_the_bundled_iris_file_reads_as_load_iris_does():
    table = load_csv(IRIS)
    X, y = load_iris()
    assert table.header and table.task == "classification"
    assert table.features == nn.data.IRIS_FEATURES and table.target == "species"
    assert table.classes == nn.data.IRIS_CLASSES
    np.testing.assert_array_equal(table.X, X)
    np.testing.assert_array_equal(table.y, y)
    X2, y2 = table  # unpacks like the other loaders
    assert X2 is table.X and y2 is table.y and len(table) == 150


def test_header_or_none_target_by_name_or_position(tmp_path):
    with_header = load_csv(_gaussians_csv(tmp_path / "a.csv"), "colour",
                           features=["width", "height", "depth"])
    without = load_csv(_gaussians_csv(tmp_path / "b.csv", header=False), 2,
                       features=[1, 3, 4])
    assert with_header.header and not without.header
    np.testing.assert_array_equal(with_header.X, without.X)
    np.testing.assert_array_equal(with_header.y, without.y)
    assert with_header.classes == without.classes == ("blue", "green", "red")  # sorted
    assert without.features == ("column 2", "column 4", "column 5")
    assert without.target == "column 3" and without.target_column == 2
    assert with_header.lines[0] == 2 and without.lines[0] == 1


def test_integer_labels_sort_as_numbers_and_one_label_written_two_ways_is_one_class(tmp_path):
    path = _write(tmp_path / "d.csv", "x,label\n1,10\n2,2\n3,1\n4,2.0\n5,10\n6,01\n")
    table = load_csv(path)
    assert table.classes == ("1", "2", "10")
    assert table.y.tolist() == [2, 1, 0, 1, 2, 0]
    assert "3 distinct integers" in table.reason


def test_task_auto_says_why_and_can_be_overridden(tmp_path):
    rows = "\n".join(f"{i},{i * 0.37:.2f}" for i in range(40))
    path = _write(tmp_path / "r.csv", "x,y\n" + rows + "\n")
    table = load_csv(path)
    assert table.task == "regression" and table.classes is None
    assert table.y.dtype == np.float64 and table.y[3] == pytest.approx(1.11)
    assert "40 distinct numbers" in table.reason and "--task classification" in table.reason
    many = _write(tmp_path / "m.csv", "x,y\n" + "\n".join(f"{i},{i}" for i in range(30)))
    assert load_csv(many).task == "regression"  # 30 integers: more than 20
    with pytest.raises(ValueError, match="30 distinct labels in 30 rows -- too many classes"):
        load_csv(many, task="classification")
    thrice = _write(tmp_path / "t.csv", "x,y\n" + "\n".join(f"{i},{i % 30}" for i in range(90)))
    assert load_csv(thrice).task == "regression"
    assert load_csv(thrice, task="classification").classes[:3] == ("0", "1", "2")
    few = _write(tmp_path / "f.csv", "x,y\n" + "\n".join(f"{i},{i % 4}" for i in range(30)))
    assert load_csv(few).task == "classification"
    assert load_csv(few, task="regression").y.tolist()[:5] == [0.0, 1.0, 2.0, 3.0, 0.0]


def test_semicolons_tabs_byte_order_mark_blank_lines_and_comments(tmp_path):
    expected = load_csv(_write(tmp_path / "plain.csv", "a,b,c\n1,2,x\n3,4,y\n"))
    for name, text in [
        ("semi.csv", "a;b;c\n1;2;x\n\n3;4;y\n"),
        ("tab.tsv", "a\tb\tc\n1\t2\tx\n3\t4\ty\n"),
        ("bom.csv", "\ufeffa,b,c\r\n1,2,x\r\n3,4,y\r\n"),
        ("comment.csv", "# measured in 2024\na,b,c\n1,2,x\n# a note\n3,4,y\n"),
        ("savetxt.csv", "# a,b,c\n1,2,x\n3,4,y\n"),  # numpy.savetxt's header
    ]:
        table = load_csv(_write(tmp_path / name, text))
        assert table.features == ("a", "b") and table.target == "c", name
        np.testing.assert_array_equal(table.X, expected.X)
        assert table.classes == ("x", "y")


def test_numpy_savetxt_file_round_trips(tmp_path):
    X = np.random.default_rng(1).normal(size=(30, 3))
    y = np.arange(30) % 3
    np.savetxt(tmp_path / "s.csv", np.c_[X, y], delimiter=",", header="p,q,r,kind")
    table = load_csv(tmp_path / "s.csv", "kind")
    np.testing.assert_array_equal(table.X, X)
    assert table.y.tolist() == y.tolist() and table.classes == ("0", "1", "2")


@pytest.mark.parametrize("text, found", [
    ("a,b,label\n1,2,x\n3,,y\n", "line 3, column 2 ('b'): a missing value ('')"),
    ("a,b,label\n1,2,x\n3,NA,y\n", "line 3, column 2 ('b'): a missing value ('NA')"),
    ("a,b,label\n1,?,x\n3,4,y\n", "line 2, column 2 ('b'): a missing value ('?')"),
    ("a,b,label\n1,2,x\n3,nan,y\n", "line 3, column 2 ('b'): a missing value ('nan')"),
    ("a,b,label\n1,2,x\n3,abc,y\n", "line 3, column 2 ('b'): 'abc' is not a number"),
    ("a,b,label\n1,2,x\n3,inf,y\n", "line 3, column 2 ('b'): 'inf' is not a finite number"),
    ("a,b,label\n1,2,x\n3,4\n", "line 3: 2 fields, but the header has 3"),
    ("a,b,label\n1,2,x\n3,4,y,5\n", "line 3: 4 fields, but the header has 3"),
    ("a,b,label\n1,2,x\n3,4,x\n", "holds one class only ('x', all 2 rows)"),
    ("a,b,label\n1,2,x\n3,4,\n", "line 3, column 3 ('label'): the target is missing"),
    ("1,2,x\n3,abc,y\n", "line 2, column 2: 'abc' is not a number"),
    ("a,a,label\n1,2,x\n", "line 1: the header names 'a' twice"),
    ("a,b,label\n", "a header and no data rows"),
    ("\n\n", "the file holds no rows"),
    ("a,b,\"label\n1,2,x\n", "not CSV"),
])
def test_a_malformed_file_is_one_message_naming_file_line_and_column(tmp_path, text, found):
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError) as caught:
        load_csv(path)
    assert str(path) in str(caught.value) and found in str(caught.value), str(caught.value)


def test_wrong_columns_are_named(tmp_path):
    path = _write(tmp_path / "c.csv", "a,b,label\n1,2,x\n3,4,y\n")
    with pytest.raises(ValueError, match=r"target 'lable' is not a column; the header names "
                                         r"'a', 'b', 'label'"):
        load_csv(path, "lable")
    with pytest.raises(ValueError, match="target 5 is out of range: the file has 3 columns"):
        load_csv(path, 5)
    with pytest.raises(ValueError, match="'label' is also listed as a feature"):
        load_csv(path, "label", features=["a", "label"])
    headerless = _write(tmp_path / "h.csv", "1,2,x\n3,4,y\n")
    with pytest.raises(ValueError, match="has no header, so its columns have no names"):
        load_csv(headerless, "label")
    regression = _write(tmp_path / "r.csv", "a,y\n1,2.5\n2,oops\n")
    with pytest.raises(ValueError, match=r"line 3, column 2 \('y'\): the target 'oops' is not "
                                         "a finite number, and regression fits numbers"):
        load_csv(regression, task="regression")
    with pytest.raises(ValueError, match="task must be one of"):
        load_csv(path, task="clustering")


def test_fit_names_the_row_of_a_nan_before_training():
    model = nn.MLP(2, [3, 2], seed=0)
    before = [p.data for p in model.parameters()]
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, np.nan], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"X\[2, 1\] is nan \(row 2, column 1; 1 such"):
        nn.fit(model, X, [0, 1, 0, 1], epochs=1, progress=False)
    assert [p.data for p in model.parameters()] == before  # nothing trained


# -- chainrule train / predict on a CSV file -------------------------------------------------


def test_train_and_predict_a_csv_the_library_never_saw(tmp_path, capsys):
    data = _gaussians_csv(tmp_path / "clouds.csv")
    out = tmp_path / "run"
    assert main(["train", str(data), "--target", "colour", "--features", "width", "height",
                 "depth", "--epochs", "15", "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "target 'colour'" in shown and "classification into 3 classes" in shown
    assert "--target colour --task classification --features width height depth" in shown
    accuracy = float(shown.split("final test accuracy ")[1].split()[0])
    assert accuracy >= 0.9
    model = load(out / "model.json")
    assert isinstance(model, Classifier) and model.classes == ["blue", "green", "red"]
    assert model.features == ["width", "height", "depth"] and model.target == "colour"
    # predict reads the same file (the id and colour columns are found by name and skipped)
    predictions = tmp_path / "predictions.csv"
    assert main(["predict", str(out / "model.json"), "--input", str(data),
                 "--output", str(predictions)]) == 0
    rows = list(csv.reader(predictions.open()))
    assert rows[0] == ["prediction", "p(blue)", "p(green)", "p(red)"]
    truth = [row[2] for row in _gaussians()]
    assert len(rows) == 1 + len(truth)
    assert np.mean([r[0] == t for r, t in zip(rows[1:], truth)]) >= 0.9
    # the columns in another order, found by the header's names: the same predictions
    reordered = tmp_path / "reordered.csv"
    with open(reordered, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["depth", "colour", "height", "width"])
        writer.writerows([r[4], r[2], r[3], r[1]] for r in _gaussians())
    capsys.readouterr()
    assert main(["predict", str(out / "model.json"), "--input", str(reordered)]) == 0
    assert capsys.readouterr().out.splitlines() == [",".join(r) for r in rows]


def test_the_file_may_follow_the_features(tmp_path, capsys):
    data = _gaussians_csv(tmp_path / "clouds.csv")
    assert main(["train", "--target", "colour", "--epochs", "1", "--features", "width",
                 "depth", str(data), "--out", str(tmp_path / "run")]) == 0
    assert "--features width depth" in capsys.readouterr().out
    assert load(tmp_path / "run" / "model.json").features == ["width", "depth"]


def test_a_headerless_file_predicts_in_its_training_layout(tmp_path, capsys):
    data = _gaussians_csv(tmp_path / "clouds.csv", header=False)
    out = tmp_path / "run"
    assert main(["train", str(data), "--target", "3", "--features", "2", "4", "5",
                 "--epochs", "5", "--out", str(out)]) == 0
    capsys.readouterr()
    # the training file itself (5 columns: the id and target skipped by position) ...
    model = out / "model.json"
    assert main(["predict", str(model), "--input", str(data)]) == 0
    whole = capsys.readouterr().out.splitlines()
    # ... and just the three features give the same predictions
    only = _write(tmp_path / "only.csv",
                  "".join(f"{r[1]},{r[3]},{r[4]}\n" for r in _gaussians()))
    assert main(["predict", str(model), "--input", str(only)]) == 0
    assert capsys.readouterr().out.splitlines() == whole
    wrong = _write(tmp_path / "wrong.csv", "1,2\n3,4\n")
    err = _error(["predict", str(model), "--input", str(wrong)], capsys)
    assert "wrong.csv line 1: 2 fields, but the model takes 3 features" in err


def test_the_bundled_iris_as_a_file_trains_the_same_model_as_dataset_iris(tmp_path, capsys):
    assert main(["train", str(IRIS), "--epochs", "3", "--out", str(tmp_path / "a")]) == 0
    assert main(["train", "--dataset", "iris", "--epochs", "3",
                 "--out", str(tmp_path / "b")]) == 0
    a = json.loads((tmp_path / "a" / "model.json").read_text())
    b = json.loads((tmp_path / "b" / "model.json").read_text())
    assert a["parameters"] == b["parameters"] and a["module"] == b["module"]
    assert a["module"]["features"] == list(nn.data.IRIS_FEATURES)
    # so the model of the Quickstart classifies the bundled file by its header
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "b" / "model.json"), "--input", str(IRIS)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 151 and lines[1].startswith("setosa,")


def test_regression_on_real_public_data_reports_rmse_and_r2(tmp_path, capsys):
    """Microsoft's daily prices (2003), shipped with matplotlib as sample data: the close
    from the open, high and low, with the date column left out."""
    matplotlib = pytest.importorskip("matplotlib")
    prices = Path(matplotlib.get_data_path()) / "sample_data" / "msft.csv"
    out = tmp_path / "run"
    assert main(["train", str(prices), "--target", "Close", "--features", "Open", "High",
                 "Low", "--epochs", "60", "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "task: regression (MSE): the target holds" in shown
    r2 = float(shown.split("R^2 ")[1].split(",")[0])
    rmse = float(shown.split("final test RMSE ")[1].split()[0])
    assert r2 > 0.9 and 0 < rmse < 0.5  # dollars, on a price near 27
    model = load(out / "model.json")
    assert isinstance(model, Regressor) and model.target == "Close"
    history = json.loads((out / "history.json").read_text())
    assert history["test_rmse"] == pytest.approx(rmse, rel=1e-3)
    assert history["test_r2"] == pytest.approx(r2, abs=1e-4)
    assert len(history["epochs"]) == 60 and "test_loss" in history["epochs"][0]
    # the RMSE is what the saved model's predictions give: recompute it by hand
    table = load_csv(prices, "Close", features=["Open", "High", "Low"])
    predicted = model.predict(table.X)
    assert predicted.shape == (65,)
    assert math.sqrt(np.mean((predicted - table.y) ** 2)) < 0.5
    assert main(["predict", str(out / "model.json"), "--input", str(prices)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "predicted Close" and len(lines) == 66
    assert float(lines[1]) == pytest.approx(predicted[0], rel=1e-12)
    assert main(["predict", str(out / "model.json"), "29.76", "29.97", "29.52"]) == 0
    assert abs(float(capsys.readouterr().out) - 29.96) < 0.5  # that day's close


def test_regressor_save_load_round_trip_and_validation(tmp_path):
    model = Regressor(nn.MLP(2, [3, 1], seed=1), nn.Standardize([1, 2], [3, 4]), 50.0, 7.0,
                      features=["a", "b"], target="y")
    model.save(tmp_path / "r.json")
    again = load(tmp_path / "r.json")
    assert again.predict([1.5, -2.0]) == model.predict([1.5, -2.0])
    assert (again.features, again.target) == (["a", "b"], "y")
    assert model([0.5, 0.5]).data == model.predict([0.5, 0.5])
    with pytest.raises(ValueError, match="a regressor predicts one number"):
        Regressor(nn.MLP(2, [3, 2], seed=1))
    with pytest.raises(ValueError, match="target_scale finite and > 0"):
        Regressor(nn.MLP(2, [1], seed=1), target_scale=0.0)
    with pytest.raises(ValueError, match="features must be 2 distinct names"):
        Regressor(nn.MLP(2, [1], seed=1), features=["a"])


def test_digits_exported_as_a_csv_with_word_labels_train(tmp_path, capsys):
    """The bundled digits, written the way a spreadsheet would: a header, the label as a
    word in the first column."""
    X, y = load_digits()
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    path = tmp_path / "digits.csv"
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["digit", *(f"px{i}" for i in range(64))])
        writer.writerows([words[label], *map(int, row)] for row, label in zip(X, y))
    assert main(["train", str(path), "--target", "digit", "--init", "he", "--hidden", "32",
                 "--epochs", "2", "--out", str(tmp_path / "run")]) == 0
    shown = capsys.readouterr().out
    assert "classification into 10 classes" in shown
    assert float(shown.split("final test accuracy ")[1].split()[0]) > 0.85
    assert load(tmp_path / "run" / "model.json").classes == sorted(words)


@pytest.mark.parametrize("text, found", [
    ("a,b,label\n1,2,x\n3,,y\n", "bad.csv line 3, column 2 ('b'): a missing value"),
    ("a,b,label\n1,2,x\n3,four,y\n", "bad.csv line 3, column 2 ('b'): 'four' is not a number"),
    ("a,b,label\n1,2,x\n3,4\n", "bad.csv line 3: 2 fields, but the header has 3"),
    ("a,b,label\n1,2,x\n3,4,x\n", "the target column holds one class only"),
    ("a,b,label\n1,2,x\n3,4,y\n", "bad.csv: train_test_split: test_size 0.3 leaves"),
])
def test_train_on_a_malformed_file_is_one_line(tmp_path, capsys, text, found):
    path = _write(tmp_path / "bad.csv", text)
    err = _error(["train", str(path), "--out", str(tmp_path / "run")], capsys)
    assert found in err, err
    assert not (tmp_path / "run" / "model.json").exists()


def test_train_refuses_flags_that_would_do_nothing(tmp_path, capsys):
    out = ["--out", str(tmp_path / "run")]
    assert "--momentum is SGD's" in _error(
        ["train", "--optimizer", "adam", "--momentum", "0.9", *out], capsys)
    assert "--target goes with your own CSV file" in _error(
        ["train", "--target", "species", *out], capsys)
    assert "--task goes with your own CSV file" in _error(
        ["train", "--dataset", "moons", "--task", "regression", *out], capsys)
    assert "give a CSV file or --dataset, not both" in _error(
        ["train", str(IRIS), "--dataset", "iris", *out], capsys)
    assert "--hidden: needs the sizes, e.g. --hidden 16 8" in _error(
        ["train", "--hidden", "--epochs", "1", *out], capsys)
    missing = tmp_path / "nowhere.csv"
    assert f"cannot read {missing}" in _error(["train", str(missing), *out], capsys)
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_the_settings_line_names_every_flag_that_changes_the_result(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--momentum", "0.5", "--init", "he",
                 "--out", str(tmp_path / "a")]) == 0
    settings = next(line for line in capsys.readouterr().out.splitlines()
                    if line.startswith("settings:"))
    for flag in ("--hidden 16", "--activation relu", "--init he", "--optimizer sgd",
                 "--lr 0.01", "--momentum 0.5", "--epochs 1", "--batch-size 1", "--seed 0",
                 "--test-size 0.3"):
        assert flag in settings
    assert main(["train", "--epochs", "1", "--optimizer", "adam",
                 "--out", str(tmp_path / "b")]) == 0
    settings = next(line for line in capsys.readouterr().out.splitlines()
                    if line.startswith("settings:"))
    assert "--optimizer adam" in settings and "--momentum" not in settings


def test_version_and_intermixed_predict_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    from importlib.metadata import version
    assert capsys.readouterr().out.strip() == f"chainrule {version('chainrule')}"
    assert main(["train", "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    model = str(tmp_path / "run" / "model.json")
    assert "--output goes with --input" in _error(
        ["predict", model, "--output", str(tmp_path / "x.csv"), "1", "2", "3", "4"], capsys)
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(SystemExit):
        main(["predict", model, "1", "2", "3", "4", "--colour"])
    assert "unrecognized arguments: --colour" in capsys.readouterr().err


@pytest.mark.parametrize("dataset, epochs", [("circle", 15), ("xor", 30), ("gaussian", 5)])
def test_playgrounds_data_sets_train_from_the_command_line(tmp_path, capsys, dataset, epochs):
    assert main(["train", "--dataset", dataset, "--epochs", str(epochs),
                 "--out", str(tmp_path / "run")]) == 0
    shown = capsys.readouterr().out
    assert f"dataset {dataset}: 140 train / 60 test samples, 2 features, 2 classes" in shown
    assert "--noise 0 " in shown
    assert float(shown.split("final test accuracy ")[1].split()[0]) >= 0.95


def test_noise_goes_with_a_generated_data_set(tmp_path, capsys):
    out = ["--out", str(tmp_path / "run")]
    assert "--noise goes with a generated data set" in _error(
        ["train", "--noise", "0.2", *out], capsys)
    assert "--noise goes with a generated data set" in _error(
        ["train", str(IRIS), "--noise", "0.2", *out], capsys)
    assert main(["train", "--dataset", "spiral", "--noise", "0.2", "--epochs", "1",
                 *out]) == 0
    assert "--noise 0.2 " in capsys.readouterr().out


# -- what a new user's files and slips turned up ------------------------------------------


def test_a_header_of_numbers_is_told_by_its_label_or_said(tmp_path, capsys):
    rows = "".join(f"{i % 7},{(i * 3) % 5},{'ab'[i % 2]}\n" for i in range(30))
    path = _write(tmp_path / "n.csv", "400,450,class\n" + rows)
    table = load_csv(path)
    assert table.header and table.features == ("400", "450") and len(table) == 30
    assert "its target 'class' appears in no other row" in table.warnings[0]
    assert len(load_csv(path, header=False, task="classification").classes) == 3
    numeric = _write(tmp_path / "m.csv", "1,2,3\n" + rows.replace("a", "1").replace("b", "2"))
    assert not load_csv(numeric).header  # numbers only: not told apart, so --header yes
    assert main(["train", str(numeric), "--header", "yes", "--epochs", "1",
                 "--out", str(tmp_path / "run")]) == 0
    shown = capsys.readouterr().out
    assert "(a header): 30 rows" in shown and "--header yes" in shown


def test_positions_in_messages_count_as_the_caller_does(tmp_path, capsys):
    path = _write(tmp_path / "p.csv", "1,2,3,4,x\n5,6,7,8,y\n")
    with pytest.raises(ValueError, match=r"target 5 is out of range: the file has 5 columns "
                                         r"\(0..4, or negative"):
        load_csv(path, 5)
    err = _error(["train", str(path), "--target", "6", "--out", str(tmp_path / "r")], capsys)
    assert "target 6 is out of range: the file has 5 columns (1..5, or negative" in err
    err = _error(["train", str(path), "--target", "label", "--out", str(tmp_path / "r")],
                 capsys)
    assert "give the column's position (1..5, or negative from the end), or say the first " \
           "row is a header (--header yes)" in err


def test_hints_for_a_forgotten_target_decimal_commas_and_separators(tmp_path):
    first = _write(tmp_path / "f.csv", "species,a,b\nsetosa,1,2\nvirginica,3,4\n")
    with pytest.raises(ValueError, match=r"if 'species' holds the labels, say "
                                         r"target='species'"):
        load_csv(first)
    european = _write(tmp_path / "e.csv", "a;b;species\n5,1;3,5;setosa\n4,9;3,0;virginica\n")
    with pytest.raises(ValueError, match=r"line 2, column 1 \('a'\): '5,1' is not a number; "
                                         r"it has a decimal comma"):
        load_csv(european)
    prices = _write(tmp_path / "p.csv", "size,price\n" + "".join(
        f'{i},"{i * 1000:,}.00"\n' for i in range(1, 60)))
    with pytest.raises(ValueError, match=r"59 distinct labels in 59 rows -- too many classes"
                                         r".*numbers written with separators"):
        load_csv(prices)


def test_doubts_are_said_not_refused(tmp_path, capsys):
    excel = _write(tmp_path / "x.csv", "a,b,species,\r\n" + "".join(
        f"{i * 0.5},{i % 3},{'xy'[i % 2]},\r\n" for i in range(12)))
    table = load_csv(excel)
    assert table.target == "species" and table.columns == 3
    assert "column(s) 4 are empty in every row" in table.warnings[0]
    ids = _write(tmp_path / "i.csv", "id,a,label\n" + "".join(
        f"{i + 1},{(i * 7) % 5},{'ab'[i % 2]}\n" for i in range(20)))
    assert main(["train", str(ids), "--epochs", "1", "--out", str(tmp_path / "r")]) == 0
    shown = capsys.readouterr().out
    assert "note: the feature 'id' counts 1, 2, ... row by row" in shown
    cases = _write(tmp_path / "c.csv", "a,label\n" + "".join(
        f"{i},{['Setosa', 'setosa', 'b'][i % 3]}\n" for i in range(2, 14)))
    assert "differ only in case" in load_csv(cases).warnings[-1]
    few = _write(tmp_path / "few.csv", "a,b,label\n1,2,x\n2,3,x\n3,4,y\n4,5,y\n5,6,z\n6,7,z"
                 "\n7,8,z\n")
    assert main(["train", str(few), "--epochs", "1", "--test-size", "0.2",
                 "--out", str(tmp_path / "r2")]) == 0
    assert "note: no test sample of 'x', 'y'" in capsys.readouterr().out


def test_predict_says_when_a_number_is_far_from_the_training_data(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    model = str(tmp_path / "run" / "model.json")
    assert main(["predict", model, "51", "35", "14", "2"]) == 0  # millimetres
    err = capsys.readouterr().err
    assert "note: feature 1 (sepal_length) = 51 is" in err and "other units, or a typo?" in err
    assert main(["predict", model, "5.1", "3.5", "1.4", "0.2"]) == 0
    assert capsys.readouterr().err == ""


def test_a_headerless_model_reads_a_file_with_a_header_by_position(tmp_path, capsys):
    data = _gaussians_csv(tmp_path / "clouds.csv", header=False)
    assert main(["train", str(data), "--target", "3", "--features", "2", "4", "5",
                 "--epochs", "2", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    named = _gaussians_csv(tmp_path / "named.csv")
    assert main(["predict", str(tmp_path / "run" / "model.json"), "--input", str(named)]) == 0
    with_header = capsys.readouterr().out.splitlines()
    assert main(["predict", str(tmp_path / "run" / "model.json"), "--input", str(data)]) == 0
    assert capsys.readouterr().out.splitlines() == with_header


def test_nn_predict_on_a_regressor_gives_its_numbers():
    model = Regressor(nn.MLP(2, [3, 1], seed=0), target_mean=100.0, target_scale=5.0)
    X = np.array([[0.1, 0.2], [0.3, -0.4]])
    np.testing.assert_array_equal(nn.predict(model, X), model.predict(X))
    with pytest.raises(TypeError, match="a Regressor predicts numbers, not classes"):
        nn.accuracy(model, X, [1, 2])


def test_train_watch_writes_the_training_explorer(tmp_path, capsys):
    page = tmp_path / "page.html"
    assert main(["train", "--dataset", "spiral", "--hidden", "8", "8", "--epochs", "12",
                 "--watch", str(page), "--out", str(tmp_path / "run")]) == 0
    shown = capsys.readouterr().out
    assert f"wrote {page}: the training explorer" in shown and "13 frames" in shown
    text = page.read_text(encoding="utf-8")
    assert 'class="chainrule-training"' in text and 0 < page.stat().st_size < 5_000_000
    assert (tmp_path / "run" / "model.json").exists()
    out = ["--out", str(tmp_path / "r2")]
    assert "give a .html name" in _error(["train", "--watch", str(tmp_path / "p.txt"), *out],
                                         capsys)
    prices = _write(tmp_path / "p.csv", "a,b\n" + "".join(f"{i},{i * 1.5 + 0.1}\n"
                                                          for i in range(40)))
    assert "this is regression" in _error(["train", str(prices), "--watch",
                                           str(tmp_path / "p.html"), *out], capsys)
