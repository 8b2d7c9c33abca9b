"""Data sets: rows of input voltages ``X`` and target voltages ``Y`` (V)."""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ValidationError


@dataclass(frozen=True)
class Dataset:
    """``X`` of shape (rows, inputs) and ``Y`` of shape (rows, outputs), in volts."""

    name: str
    X: np.ndarray
    Y: np.ndarray

    @property
    def rows(self) -> int:
        return self.X.shape[0]

    def check_topology(self, sizes) -> None:
        """Raise unless the network's input and output sizes match the data."""
        n_in, n_out = self.X.shape[1], self.Y.shape[1]
        if sizes[0] != n_in or sizes[-1] != n_out:
            topo = "-".join(map(str, sizes))
            raise ValidationError(
                f"topology {topo} does not match data set {self.name!r}, which has "
                f"{n_in} input(s) and {n_out} output(s); use a topology "
                f"{n_in}-...-{n_out}"
            )


def _parity(n: int) -> Dataset:
    X = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    Y = (X.sum(axis=1) % 2)[:, None]
    return X, Y


BUILTIN = {
    "xor": lambda: Dataset("xor", *_parity(2)),
    "parity3": lambda: Dataset("parity3", *_parity(3)),
    # Fig. 8: one input, one output, two rows (our choice: the paper gives no values).
    "two-row": lambda: Dataset("two-row", np.array([[0.0], [1.0]]), np.array([[0.8], [0.2]])),
}


def load_dataset(name_or_path: str) -> Dataset:
    """A built-in data set by name, or a CSV file with columns ``x1..`` and ``y1..``."""
    if name_or_path in BUILTIN:
        return BUILTIN[name_or_path]()
    path = Path(name_or_path)
    if path.suffix.lower() != ".csv" or not path.exists():
        raise ValidationError(
            f"unknown data set {name_or_path!r}; use one of {', '.join(BUILTIN)} "
            "or the path of an existing CSV file with columns x1.. and y1.."
        )
    return read_csv_dataset(path)


def read_csv_dataset(path: Path) -> Dataset:
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise ValidationError(f"cannot read data set {path}: {e}") from None
    if len(rows) < 2:
        raise ValidationError(f"data set {path} needs a header x1..,y1.. and at least one row")
    header = [h.strip() for h in rows[0]]
    xs = [i for i, h in enumerate(header) if h.startswith("x")]
    ys = [i for i, h in enumerate(header) if h.startswith("y")]
    if not xs or not ys or len(xs) + len(ys) != len(header):
        raise ValidationError(
            f"data set {path}: header {header} must name columns x1.. and y1.. only"
        )
    try:
        data = np.array([[float(v) for v in r] for r in rows[1:] if r], dtype=float)
    except ValueError as e:
        raise ValidationError(f"data set {path}: a value is not a number ({e})") from None
    if data.ndim != 2 or data.shape[1] != len(header):
        raise ValidationError(f"data set {path}: every row needs {len(header)} values")
    if not np.all(np.isfinite(data)):
        raise ValidationError(f"data set {path}: contains NaN or Inf; remove those rows")
    return Dataset(path.stem, data[:, xs], data[:, ys])
