"""The "train" benchmark: ``chainrule train`` on each bundled data set with its defaults,
eager and ``--jit``, as a user runs it; each run's test accuracy and training time as
``history.json`` records them (the time of the epochs, not of starting Python).

    python benchmarks/train_times.py            # six runs (about half a minute)
    python benchmarks/train_times.py --write    # the same, recorded in results/train.json

The README quotes the recorded run (``python benchmarks/readme.py --update`` copies it
there; ``tests/test_readme.py`` checks the README's figures against the file).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DATASETS = ("iris", "moons", "digits", "circle", "xor", "gaussian", "spiral")
RESULTS = Path(__file__).resolve().parent / "results" / "train.json"


def train(dataset: str, jit: bool, folder: Path) -> dict[str, Any]:
    """One ``chainrule train`` run in a fresh folder; its history.json."""
    out = folder / f"{dataset}{'-jit' if jit else ''}"
    command = [sys.executable, "-m", "chainrule", "train", "--dataset", dataset,
               "--no-progress", "--out", str(out)] + (["--jit"] if jit else [])
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "history.json").read_text())


def run(datasets: Sequence[str] = DATASETS) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        for dataset in datasets:
            eager, jitted = (train(dataset, jit, Path(folder)) for jit in (False, True))
            matrix = eager["confusion_matrix"]
            if jitted["confusion_matrix"] != matrix:
                raise AssertionError(f"{dataset}: --jit predicts differently from eager")
            config = eager["config"]
            results[dataset] = {
                "settings": {key: config[key] for key in
                             ("hidden", "optimizer", "lr", "epochs", "init")},
                "test_accuracy": eager["test_accuracy"],
                "correct": sum(matrix[i][i] for i in range(len(matrix))),
                "test_samples": sum(map(sum, matrix)),
                "seconds": eager["seconds"], "seconds_jit": jitted["seconds"]}
            print(f"{dataset}: test accuracy {eager['test_accuracy']:.4f}, "
                  f"{eager['seconds']:.1f} s eager, {jitted['seconds']:.1f} s --jit")
    return results


def write(results: dict[str, Any], path: Path = RESULTS) -> None:
    """Record a run: the README quotes this file."""
    path.parent.mkdir(exist_ok=True)
    record = {"benchmark": "train", "date": datetime.date.today().isoformat(),
              "datasets": results}
    path.write_text(json.dumps(record, indent=1) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help="record the figures in benchmarks/results/train.json "
                        "(the file the README quotes)")
    args = parser.parse_args(argv)
    results = run()
    if args.write:
        write(results)
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
