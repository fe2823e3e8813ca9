"""Your own data: a CSV file read into features and a target, strictly.

``load_csv("data.csv", target="label")`` gives a :class:`Table`: ``X`` (float64, one
row per sample), ``y`` (class indices, or numbers for regression), the feature and
class names, and the task. It unpacks like the other loaders: ``X, y = load_csv(...)``.

What it accepts: a header or none (told apart by the first two rows, or said with
``header=``); commas, or semicolons or tabs when the first line has no comma; blank
lines; comment lines starting with ``#`` (the last one before the data is the header
when it names every column and the data has none, as ``numpy.savetxt`` writes it); a
UTF-8 byte order mark. Feature columns hold numbers; the target column holds
class labels (text or integers) or, for regression, numbers. Anything else -- an empty
cell, ``NA``, ``?``, text in a feature column, ``inf``, a row with a different number of
fields, a single class -- is a ValueError naming the file, the line and the column.
Nothing is guessed silently: the task chosen for a numeric target is stated in
``Table.reason``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd.files import read_bytes

__all__ = ["MAX_CSV_BYTES", "MISSING", "Table", "load_csv", "read_csv_rows"]

#: the largest CSV file chainrule reads (load_csv, load_iris, chainrule predict --input)
MAX_CSV_BYTES = 16 << 20

#: cells read as a missing value (compared without case and surrounding spaces)
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "missing"})

#: a numeric target with at most this many distinct integer values is read as classes
#: (``task="auto"``); more values, or fractions, make it a regression target
MAX_AUTO_CLASSES = 20

TASKS = ("auto", "classification", "regression")

#: a line whose every comma sits between digits and which holds semicolons: the
#: semicolons separate, the commas are decimal marks
_DECIMAL_COMMAS = re.compile(r"[^,]*(?:(?<=\d),(?=\d)[^,]*)+")
_DECIMAL_COMMA_NUMBER = re.compile(r"[-+]?\d+,\d+")


@dataclass(frozen=True, eq=False)
class Table:
    """A CSV file read for learning: ``X`` (n, features) float64 and ``y`` (n,).

    ``y`` holds class indices into ``classes`` for classification (int64), the
    target's numbers for regression (float64, ``classes`` is None). ``features`` and
    ``target`` are the column names (``column 3`` when the file has no header);
    ``target_column`` is the target's 0-based position in the file. ``reason`` says
    why the task is what it is; ``lines`` holds each row's line number in the file;
    ``warnings`` the doubts about the data that did not stop it.
    ``X, y = table`` unpacks the two arrays.
    """

    X: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]
    target: str
    classes: tuple[str, ...] | None
    task: str
    reason: str
    source: str
    header: bool
    target_column: int
    columns: int
    lines: tuple[int, ...] = field(repr=False)
    #: doubts about the data that do not stop it (an id-like feature column, labels that
    #: differ only in case, columns dropped because they are empty)
    warnings: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.y))

    def __len__(self) -> int:
        return len(self.X)

    def __repr__(self) -> str:
        kind = (f"{len(self.classes)} classes" if self.classes is not None else "regression")
        return (f"Table({self.source!r}: {len(self.X)} rows, {len(self.features)} features, "
                f"target {self.target!r}, {kind})")


def read_csv_rows(path: str | os.PathLike[str], what: str = "CSV file"
                  ) -> tuple[list[tuple[int, list[str]]], str]:
    """The non-blank rows of a CSV file, each with its line number, cells stripped of
    spaces; and the file's name for messages. Bounded (``MAX_CSV_BYTES``), UTF-8 only."""
    source = os.fspath(path)
    raw = read_bytes(path, MAX_CSV_BYTES, what)
    try:
        text = raw.decode("utf-8-sig")  # (a spreadsheet's byte order mark is not data)
    except UnicodeDecodeError as error:
        raise ValueError(f"{source}: not UTF-8 text (byte {error.start} is invalid); save "
                         "it as UTF-8 CSV") from None
    first = next((line for line in text.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")), "")
    delimiter = ","
    if "," not in first or (";" in first and _DECIMAL_COMMAS.fullmatch(first)):
        # a spreadsheet in a locale whose decimal mark is the comma: "5,1;3,5;setosa"
        delimiter = ";" if ";" in first else "\t" if "\t" in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    comment: tuple[int, list[str]] | None = None  # the last comment line before the data
    try:
        for row in reader:
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if cells[0].startswith("#"):  # a comment ("# source: ...")
                if not rows:
                    comment = (reader.line_num, [cells[0].lstrip("#").strip(), *cells[1:]])
                continue
            rows.append((reader.line_num, cells))
    except csv.Error as error:  # a field beyond csv's limit, an unclosed quote at the end
        raise ValueError(f"{source} line {reader.line_num}: not CSV ({error})") from None
    if not rows:
        raise ValueError(f"{source}: the file holds no rows")
    if (comment is not None and len(comment[1]) == len(rows[0][1])
            and all(_number(c) is None for c in comment[1])
            and not _looks_like_header(rows[0][1], rows[1][1] if len(rows) > 1 else None)):
        rows.insert(0, comment)  # numpy.savetxt's header: "# a,b,label"
    return rows, source


def _number(cell: str) -> float | None:
    """The cell's number (finite or not), or None for a missing value or text."""
    if cell.lower() in MISSING:
        return None
    try:
        return float(cell)
    except ValueError:
        return None


def _looks_like_header(first: list[str], second: list[str] | None) -> bool:
    """A first row is a header when a cell of it is text where the next row has a number
    (a headerless file's text labels sit in the same column in both), or when every cell
    of it is text."""
    if all(_number(c) is None for c in first):
        return True
    if second is None:
        return False
    return any(_number(a) is None and a.lower() not in MISSING and _number(b) is not None
               for a, b in zip(first, second))


def _column_index(spec: str | int, names: Sequence[str], header: bool, source: str,
                  what: str, base: int = 0) -> int:
    """The 0-based index of a column given by name or position; ``base`` is how the
    caller counts positions (0 in Python, 1 on the command line), for messages."""
    count = len(names)
    positions = f"{base}..{count - 1 + base}, or negative from the end"
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        if not -count <= spec < count:
            shown = spec + base if spec >= 0 else spec
            raise ValueError(f"{source}: {what} {shown} is out of range: the file has {count} "
                             f"columns ({positions})")
        return int(spec) % count
    if isinstance(spec, str):
        if spec in names:
            return list(names).index(spec)
        if not header:
            raise ValueError(f"{source}: {what} {spec!r}: the file has no header, so its "
                             f"columns have no names; give the column's position "
                             f"({positions}), or say the first row is a header "
                             f"({'header=True' if base == 0 else '--header yes'})")
        raise ValueError(f"{source}: {what} {spec!r} is not a column; the header names "
                         f"{', '.join(map(repr, names))}")
    raise TypeError(f"load_csv: {what} must be a column name or a position, got {spec!r:.40}")


def load_csv(
    path: str | os.PathLike[str],
    target: str | int = -1,
    *,
    features: Sequence[str | int] | None = None,
    task: str = "auto",
    header: bool | None = None,
    _base: int = 0,
) -> Table:
    """Read a CSV file of samples: numeric feature columns and one target column.

    ``target`` is the target column's name (from the header) or its 0-based position
    (default -1: the last column). ``features`` picks the feature columns (names or
    positions; default: every other column). ``task`` is ``"classification"``,
    ``"regression"`` or ``"auto"``: a text target is classes; a numeric one is classes
    when it holds at most 20 distinct integers, else numbers for regression -- the
    choice and why are in the result's ``reason``. ``header`` says whether the first row
    names the columns (default: told from the first two rows, and from a target label
    found only in the first row -- a header with numbers for names is not told apart
    from data: say ``header=True``). An all-empty column (the empty last column a
    spreadsheet's trailing comma makes) is dropped, with a warning.

    Class names are the labels as written, sorted (numerically when they are all
    integers), and ``y`` indexes them -- as scikit-learn's ``LabelEncoder`` does.

    Raises ValueError naming the file, line and column for a missing value, text in a
    feature column, a number that is not finite, a row with a different number of
    fields, a single class, or a regression target that is not a number.
    """
    if task not in TASKS:
        raise ValueError(f"load_csv: task must be one of {', '.join(TASKS)}, got {task!r}")
    rows, source = read_csv_rows(path)
    warnings: list[str] = []
    rows, dropped = _drop_empty_columns(rows)
    if dropped:
        warnings.append(f"column(s) {', '.join(str(c + 1) for c in dropped)} are empty in "
                        "every row (a trailing comma?) and were left out")
    told = header is None
    if header is None:
        header = _looks_like_header(rows[0][1], rows[1][1] if len(rows) > 1 else None)
    width = len(rows[0][1])
    if told and not header and len(rows) > 2:
        header = _label_only_in_first_row(rows, target, width)
        if header:
            warnings.append("the first row was read as a header: its target "
                            f"{rows[0][1][_target_guess(target, width)]!r} appears in no "
                            "other row (say header=False / --header no if it is data)")
    if header:
        line, names = rows[0]
        names = [name or f"column {i + 1}" for i, name in enumerate(names)]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"{source} line {line}: the header names {repeated[0]!r} twice; "
                             "column names must be distinct")
        rows = rows[1:]
        if not rows:
            raise ValueError(f"{source}: the file holds a header and no data rows")
    else:
        names = [f"column {i + 1}" for i in range(width)]
    target_at = _column_index(target, names, header, source, "target", _base)
    if features is None:
        feature_at = [i for i in range(width) if i != target_at]
    else:
        feature_at = [_column_index(f, names, header, source, "feature", _base)
                      for f in features]
        if target_at in feature_at:
            raise ValueError(f"{source}: the target {names[target_at]!r} is also listed as a "
                             "feature")
        twice = sorted({names[i] for i in feature_at if feature_at.count(i) > 1})
        if twice:
            raise ValueError(f"{source}: the feature column {twice[0]!r} is listed twice")
    if not feature_at:
        raise ValueError(f"{source}: no feature columns: the file has only the target "
                         f"{names[target_at]!r}")

    def where(line: int, column: int) -> str:
        shown = "" if not header else f" ({names[column]!r})"
        return f"{source} line {line}, column {column + 1}{shown}"

    X = np.empty((len(rows), len(feature_at)))
    labels: list[str] = []
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            first = "the header" if header else "the first row"
            raise ValueError(f"{source} line {line}: {len(row)} fields, but {first} has "
                             f"{width}; every row needs one value per column")
        for j, column in enumerate(feature_at):
            cell = row[column]
            value = _number(cell)
            if value is None:
                if cell.lower() in MISSING:
                    raise ValueError(f"{where(line, column)}: a missing value ({cell!r}); "
                                     "chainrule does not fill in data: remove the row or "
                                     "fill the value")
                raise ValueError(f"{where(line, column)}: {cell!r:.40} is not a number; "
                                 + _not_a_number_hint(cell, names[column], target, header,
                                                      _base))
            if not math.isfinite(value):
                raise ValueError(f"{where(line, column)}: {cell!r} is not a finite number")
            X[r, j] = value
        label = row[target_at]
        if label.lower() in MISSING:
            raise ValueError(f"{where(line, target_at)}: the target is missing ({label!r}); "
                             "remove the row or fill the value")
        labels.append(label)
    lines = tuple(line for line, _ in rows)
    y, classes, task, reason = _target(labels, task, lines, where, target_at, source)
    warnings += _doubts(X, [names[i] for i in feature_at], classes, _base)
    return Table(X=X, y=y, features=tuple(names[i] for i in feature_at),
                 target=names[target_at], classes=classes, task=task, reason=reason,
                 source=source, header=header, target_column=target_at, columns=width,
                 lines=lines, warnings=tuple(warnings))


def _drop_empty_columns(rows: list[tuple[int, list[str]]]
                        ) -> tuple[list[tuple[int, list[str]]], list[int]]:
    """Leave out the columns that are empty in every row, the first included (a
    spreadsheet's trailing comma makes one); returns their indices."""
    width = max(len(row) for _, row in rows)
    empty = [c for c in range(width) if all(c >= len(row) or not row[c] for _, row in rows)]
    if not empty or len(empty) == width or len(rows) < 2:
        return rows, []
    keep = [c for c in range(width) if c not in empty]
    return [(line, [row[c] for c in keep if c < len(row)]) for line, row in rows], empty


def _target_guess(target: str | int, width: int) -> int:
    return target % width if isinstance(target, int) and -width <= target < width else -1


def _label_only_in_first_row(rows: list[tuple[int, list[str]]], target: str | int,
                             width: int) -> bool:
    """A headerless-looking file whose first row's target is text found in no other row
    while the other rows' labels repeat: that row names the columns ("...,class")."""
    at = _target_guess(target, width)
    if at < 0:
        return False
    first = rows[0][1][at] if len(rows[0][1]) == width else None
    if first is None or _number(first) is not None or first.lower() in MISSING:
        return False
    others = [row[at] for _, row in rows[1:] if len(row) == width]
    return first not in others and len(set(others)) < len(others) / 2


def _not_a_number_hint(cell: str, column: str, target: str | int, header: bool,
                       base: int) -> str:
    if _DECIMAL_COMMA_NUMBER.fullmatch(cell):
        return ("it has a decimal comma; save the file with decimal points (in a "
                "spreadsheet, set the decimal separator to '.') -- chainrule does not guess "
                "whether '1,234' is one and a bit or a thousand")
    if any(c.isalpha() for c in cell) and target == -1:
        name = f"'{column}'" if header else f"{column!r}"
        how = f"target={column!r}" if base == 0 else (
            f"--target {column}" if header else f"--target {column.split()[-1]}")
        return (f"feature columns hold numbers, and the target is the last column unless "
                f"you say otherwise: if {name} holds the labels, say {how}; else encode "
                "the column, or leave it out (features= in Python, --features on the "
                "command line)")
    return ("feature columns hold numbers (only the target may be text): encode the "
            "column, or leave it out (features= in Python, --features on the command line)")


def _doubts(X: np.ndarray, names: list[str], classes: tuple[str, ...] | None,
            base: int) -> list[str]:
    """What looks wrong but may be right: said, not refused."""
    found = []
    n = len(X)
    for j, name in enumerate(names):
        column = X[:, j]
        if n > 2 and any(np.array_equal(column, np.arange(start, start + n))
                         for start in (0, 1)):
            found.append(f"the feature {name!r} counts {int(column[0])}, {int(column[1])}, "
                         f"... row by row: an id or a row number, not a measurement? It "
                         "would let the model learn the file's order; leave it out "
                         "(features= / --features)")
    if classes is not None:
        folded: dict[str, list[str]] = {}
        for c in classes:
            folded.setdefault(c.casefold().strip(), []).append(c)
        for group in folded.values():
            if len(group) > 1:
                found.append(f"the classes {', '.join(map(repr, group))} differ only in "
                             "case: one class written two ways? They are learned apart")
    return found


def _target(labels: list[str], task: str, lines: Sequence[int], where: Any, column: int,
            source: str) -> tuple[np.ndarray, tuple[str, ...] | None, str, str]:
    numbers = [_number(label) for label in labels]
    numeric = all(n is not None and math.isfinite(n) for n in numbers)
    integers = numeric and all(float(n).is_integer() for n in numbers)  # type: ignore[arg-type]
    distinct = len(set(numbers if numeric else labels))
    if task == "auto":
        if not numeric:
            task, reason = "classification", "the target holds text labels"
        elif integers and distinct <= MAX_AUTO_CLASSES:
            task, reason = "classification", (
                f"the target holds {distinct} distinct integers; up to {MAX_AUTO_CLASSES} "
                "are read as classes (--task regression fits them as numbers)")
        else:
            kind = "integers" if integers else "numbers"
            task, reason = "regression", (
                f"the target holds {distinct} distinct {kind}; more than "
                f"{MAX_AUTO_CLASSES}, or fractions, are fitted as numbers (--task "
                "classification reads them as classes)")
    else:
        reason = "as asked"
    if task == "regression":
        for line, label, n in zip(lines, labels, numbers):
            if n is None or not math.isfinite(n):
                raise ValueError(f"{where(line, column)}: the target {label!r:.40} is not a "
                                 "finite number, and regression fits numbers; use "
                                 "classification for labels")
        if distinct < 2:
            raise ValueError(f"{source}: the target column holds one value only "
                             f"({labels[0]!r:.40}, all {len(labels)} rows); there is nothing "
                             "to fit")
        return np.array(numbers, dtype=np.float64), None, task, reason
    if distinct > max(MAX_AUTO_CLASSES, len(labels) // 2):
        example = next((label for label in labels if _number(label) is None), labels[0])
        numbers_hint = (" They look like numbers written with separators or units "
                        f"({example!r:.20}): write plain numbers (100000.00) for regression."
                        if any(ch.isdigit() for ch in example) else "")
        raise ValueError(f"{source}: the target column holds {distinct} distinct labels in "
                         f"{len(labels)} rows -- too many classes, too few rows each, to "
                         f"learn them.{numbers_hint}")
    if numeric:  # 1, 1.0 and 01 are one class; named as written first
        keys = [float(n) for n in numbers]  # type: ignore[arg-type]
        names: dict[float, str] = {}
        for key, label in zip(keys, labels):
            names.setdefault(key, _integer_text(key) if float(key).is_integer() else label)
        order = sorted(names)
        classes = tuple(names[k] for k in order)
        index = {k: i for i, k in enumerate(order)}
        y = np.array([index[k] for k in keys], dtype=np.int64)
    else:
        classes = tuple(sorted(set(labels)))
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[label] for label in labels], dtype=np.int64)
    if len(classes) < 2:
        raise ValueError(f"{source}: the target column "
                         f"holds one class only ({classes[0]!r:.40}, all {len(labels)} rows); "
                         "classification needs two or more")
    return y, classes, task, reason


def _integer_text(key: float) -> str:
    return str(int(key)) if abs(key) < 1e15 else repr(key)
