"""nn.data: the bundled Iris data, the loader's errors, moons, splitting, scaling."""

import hashlib
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from nn import data

# sha256 of the bundled nn/iris.csv (line endings as \n): changing the data set must be
# done on purpose, here as well
IRIS_SHA256 = "9cc1c345c71bcc9b486b74cbf6063fa66f4bb5e0f603a4b3c3471ec2e5e8e355"


def test_bundled_iris_has_the_documented_shape_and_labels():
    X, y = data.load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float64
    assert y.shape == (150,) and np.issubdtype(y.dtype, np.integer)
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert data.IRIS_CLASSES == ("setosa", "versicolor", "virginica")
    assert data.IRIS_FEATURES == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    # Fisher's first sample, and measurements in centimetres
    assert X[0].tolist() == [5.1, 3.5, 1.4, 0.2] and y[0] == 0
    assert 4.0 < X[:, 0].min() < X[:, 0].max() < 8.0


def test_bundled_iris_is_fishers_data_unchanged():
    raw = resources.files("nn").joinpath("iris.csv").read_bytes().replace(b"\r\n", b"\n")
    assert hashlib.sha256(raw).hexdigest() == IRIS_SHA256
    X, y = data.load_iris()
    # the means Fisher's 150 flowers give, to 3 decimals: overall, then per species
    np.testing.assert_allclose(X.mean(axis=0), [5.843, 3.057, 3.758, 1.199], atol=5e-4)
    np.testing.assert_allclose([X[y == k].mean(axis=0) for k in range(3)],
                               [[5.006, 3.428, 1.462, 0.246],
                                [5.936, 2.770, 4.260, 1.326],
                                [6.588, 2.974, 5.552, 2.026]], atol=5e-4)
    # samples 35 and 38 as Fisher published them (the UCI copy has errors in both)
    assert X[34].tolist() == [4.9, 3.1, 1.5, 0.2] and X[37].tolist() == [4.9, 3.6, 1.4, 0.1]


def test_load_iris_reads_another_path(tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text("sepal_length,sepal_width,petal_length,petal_width,species\n"
                    "5.0,3.0,1.5,0.2,setosa\n\n6.0,2.9,4.5,1.5,Iris-versicolor\n")
    X, y = data.load_iris(path)
    assert X.tolist() == [[5.0, 3.0, 1.5, 0.2], [6.0, 2.9, 4.5, 1.5]] and y.tolist() == [0, 1]


@pytest.mark.parametrize("line, bad, message", [
    (2, "5.1,3.5,1.4,setosa", "line 2: expected 5 comma-separated fields, got 4"),
    (3, "4.9,three,1.4,0.2,setosa", "line 3: a measurement is not a number"),
    (4, "4.7,3.2,1.3,nan,setosa", "line 4: measurements must be finite"),
    (5, "4.6,3.1,1.5,0.2,rose", "line 5: unknown species 'rose'"),
])
def test_malformed_csv_names_the_line(tmp_path, line, bad, message):
    rows = resources.files("nn").joinpath("iris.csv").read_text().splitlines()
    rows[line - 1] = bad
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=message):
        data.load_iris(path)


def test_wrong_header_and_empty_files(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,c,d,e\n1,2,3,4,setosa\n")
    with pytest.raises(ValueError, match="line 1: expected the header"):
        data.load_iris(path)
    path.write_text("sepal_length,sepal_width,petal_length,petal_width,species\n")
    with pytest.raises(ValueError, match="no data rows"):
        data.load_iris(path)


def test_make_moons_is_reproducible_and_balanced():
    X, y = data.make_moons(101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert np.bincount(y).tolist() == [50, 51]
    X2, y2 = data.make_moons(101, noise=0.1, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    clean, labels = data.make_moons(20, noise=0.0, seed=0)
    top = clean[labels == 0]
    np.testing.assert_allclose(np.hypot(top[:, 0], top[:, 1]), 1.0)  # the upper unit half circle
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        data.make_moons(10, noise=-1.0)


def test_train_test_split_is_stratified_disjoint_and_complete():
    X, y = data.load_iris()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, 0.3, seed=0)
    assert len(X_train) == 105 and len(X_test) == 45
    assert np.bincount(y_test).tolist() == [15, 15, 15]
    assert np.bincount(y_train).tolist() == [35, 35, 35]
    rows = {tuple(r) + (t,) for r, t in zip(X, y)}
    split_rows = [tuple(r) + (t,) for r, t in zip(np.vstack([X_train, X_test]),
                                                 np.concatenate([y_train, y_test]))]
    assert sorted(split_rows) == sorted(tuple(r) + (t,) for r, t in zip(X, y))
    assert set(split_rows) == rows
    again = data.train_test_split(X, y, 0.3, seed=0)
    np.testing.assert_array_equal(again[1], X_test)
    with pytest.raises(ValueError, match="test_size must be in"):
        data.train_test_split(X, y, 1.5)


def test_standardize_uses_training_statistics_only():
    X_train = np.array([[1.0, 10.0], [3.0, 10.0]])
    X_test = np.array([[5.0, 12.0]])
    train, test = data.standardize(X_train, X_test)
    np.testing.assert_allclose(train, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(test, [[3.0, 2.0]])  # constant column: only centred
    with pytest.raises(RuntimeError, match="call fit"):
        data.Standardizer().transform(X_test)


def test_wheel_ships_the_data_file(tmp_path):
    """The CSV is package data: a built wheel carries it, so load_iris works offline.
    The build uses the installed setuptools and never reaches the network."""
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(root), "--no-deps",
                    "--no-build-isolation", "--no-index", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("chainrule-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "nn/iris.csv" in names
        assert archive.read("nn/iris.csv") == (root / "nn" / "iris.csv").read_bytes()
    assert "nn/digits.csv.gz" in names and "nn/DATASETS.md" in names  # data, source, licence
    assert "chainrule/__init__.py" in names  # the command's entry point
    assert any(name.endswith("entry_points.txt") for name in names)


# -- TensorFlow Playground's four 2-D data sets ------------------------------------------


@pytest.mark.parametrize("name", ["circle", "xor", "gaussian", "spiral", "moons"])
def test_plane_datasets_are_seeded_balanced_and_checked(name):
    make = data.PLANE_DATASETS[name]
    X, y = make(201, noise=0.1, seed=4)
    assert X.shape == (201, 2) and y.shape == (201,) and set(y.tolist()) == {0, 1}
    assert abs(int(np.sum(y == 1)) - int(np.sum(y == 0))) <= 1 or name == "xor"
    X2, y2 = make(201, noise=0.1, seed=4)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make(201, noise=0.1, seed=5)[0], X)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
            make(10, noise=bad)
    with pytest.raises(ValueError, match="n_samples must be an int >= 2"):
        make(1)


def test_plane_datasets_without_noise_follow_their_definitions():
    X, y = data.make_circle(400, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.all(radius[y == 1] <= 2.5) and np.all((radius[y == 0] >= 3.5)
                                                     & (radius[y == 0] <= 5.0))
    X, y = data.make_xor(400, seed=0)
    assert np.all((X[:, 0] * X[:, 1] > 0) == (y == 1)) and np.all(np.abs(X) >= 0.3)
    X, y = data.make_gaussians(2000, seed=0)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    np.testing.assert_allclose(X[y == 1].var(axis=0), [0.5, 0.5], rtol=0.15)
    X, y = data.make_spiral(400, seed=0)
    arm = X[y == 1]  # the first arm, unshuffled order lost: check radius and angle agree
    radius = np.hypot(arm[:, 0], arm[:, 1])
    angle = np.arctan2(arm[:, 0], arm[:, 1])  # x = r sin t, y = r cos t
    t = radius / 5.0 * 3.5 * np.pi
    np.testing.assert_allclose(np.cos(angle - t), 1.0, atol=1e-9)
    assert radius.max() < 5.0


def test_noise_moves_points_by_at_most_its_bound():
    clean, _ = data.make_spiral(300, noise=0.0, seed=1)
    noisy, _ = data.make_spiral(300, noise=0.3, seed=1)
    assert not np.array_equal(clean, noisy)
    assert np.abs(noisy).max() <= 5.0 + 0.3
