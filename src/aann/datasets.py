"""Data sets: rows of input voltages ``X`` and target voltages ``Y`` (V)."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ValidationError
from .io import match_columns, read_csv_numbers


@dataclass(frozen=True)
class Dataset:
    """``X`` of shape (rows, inputs) and ``Y`` of shape (rows, outputs), in volts.

    Both are stored as 2-D float arrays (lists are converted) of finite values, with
    the same number of rows, at least one; a single input is ``X`` of shape (rows, 1).
    """

    name: str
    X: np.ndarray
    Y: np.ndarray

    def __post_init__(self):
        for key in ("X", "Y"):
            try:
                a = np.array(getattr(self, key), dtype=float)
            except (TypeError, ValueError, OverflowError):
                raise ValidationError(f"data set {self.name!r}: {key} is not an array of "
                                      "numbers; give a (rows, columns) array in V") from None
            if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
                raise ValidationError(
                    f"data set {self.name!r}: {key} has shape {a.shape}; it must be 2-D "
                    "(rows, columns) with at least one of each; reshape(-1, 1) for one column")
            if not np.all(np.isfinite(a)):
                raise ValidationError(f"data set {self.name!r}: {key} contains NaN or Inf; "
                                      "give finite voltages")
            object.__setattr__(self, key, a)
        if self.X.shape[0] != self.Y.shape[0]:
            raise ValidationError(f"data set {self.name!r}: X has {self.X.shape[0]} rows but "
                                  f"Y has {self.Y.shape[0]}; give one target row per input row")

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


DATASET_COLUMNS = "x1..xN and y1..yM"


def load_dataset(name_or_path: str | os.PathLike) -> Dataset:
    """A built-in data set by name, or a CSV file with columns ``x1..`` and ``y1..``."""
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise ValidationError(
            f"dataset must be the name of a built-in data set ({', '.join(BUILTIN)}) or the "
            f"path of a CSV file with columns {DATASET_COLUMNS}, not "
            f"{type(name_or_path).__name__}")
    if name_or_path in BUILTIN:
        return BUILTIN[name_or_path]()
    path = Path(name_or_path)
    try:
        found = path.suffix.lower() == ".csv" and path.exists()
    except (OSError, ValueError):  # a name too long, a NUL byte
        found = False
    if not found:
        raise ValidationError(
            f"unknown data set {name_or_path!r}; use one of {', '.join(BUILTIN)} "
            "or the path of an existing CSV file with columns x1.. and y1..")
    return read_csv_dataset(path)


def read_csv_dataset(path: Path) -> Dataset:
    """A CSV file whose header names the inputs ``x1..xN`` and targets ``y1..yM`` (exact
    names, numbered from 1, in any order), then one row of numbers (V) per data row."""
    path = Path(path)
    header, data = read_csv_numbers(path, "data set", DATASET_COLUMNS)
    cols = match_columns(header, path, "data set", DATASET_COLUMNS, numbered=("x", "y"))
    return Dataset(path.stem, data[:, cols["x"]], data[:, cols["y"]])
