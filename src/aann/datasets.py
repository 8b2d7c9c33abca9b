"""Data sets: rows of input voltages ``X`` and target voltages ``Y`` (V).

A data set comes *raw* (features in their own units, and per row either a class or
target values) and is *encoded* into voltages by the ``[data]`` section
(:class:`aann.spec.Data`, docs/tasks.md):

- inputs min-max scaled into [``Vin_low``, ``Vin_high``], the scale fitted on the
  training rows alone (test rows outside it are clipped, and counted);
- a class one-hot: ``Vhigh`` on its output, ``Vlow`` on the others (one output for
  two classes: ``Vhigh`` means class 1); regression targets min-max scaled into
  [``Vlow``, ``Vhigh``];
- held-out rows: ``test_fraction`` of each class (drawn with ``split_seed``) or a
  second file, ``test``.

``xor``, ``parity3``, ``two-row`` and CSV files with target columns ``y1..`` are
given in volts and taken as they are (``scale = "auto"``), so that the paper's
experiments see exactly the paper's rows. ``iris``, ``wine``, ``breast_cancer`` and
``digits`` are scikit-learn's bundled copies (no download).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ValidationError, short_repr
from .io import match_columns, read_csv_numbers
from .spec import Data


@dataclass(frozen=True)
class Dataset:
    """Encoded rows: ``X`` (rows, inputs) and ``Y`` (rows, outputs), in volts.

    Both are stored as 2-D float arrays (lists are converted) of finite values, with
    the same number of rows, at least one; a single input is ``X`` of shape (rows, 1).
    A classification task also has ``labels`` (the class of each row, 0..classes-1)
    and ``levels`` = (``Vlow``, ``Vhigh``), the voltages its outputs are read against;
    ``test``: the held-out rows, encoded alike (None: none); ``clipped``: test values
    that fell outside the training rows' range and were clipped into the input range;
    ``encoding``: how the raw features became voltages (:func:`encode`, for
    ``aann evaluate``), None for data given in volts.
    """

    name: str
    X: np.ndarray
    Y: np.ndarray
    labels: np.ndarray | None = None
    levels: tuple | None = None
    test: Dataset | None = None
    clipped: int = 0
    encoding: dict | None = field(default=None, compare=False)

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
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.shape != (self.rows,) or not np.issubdtype(labels.dtype, np.integer):
                raise ValidationError(f"data set {self.name!r}: labels must be one integer "
                                      "class per row")
            object.__setattr__(self, "labels", labels.astype(np.int64))
            if self.levels is None:
                raise ValidationError(f"data set {self.name!r}: labels need levels = (Vlow, "
                                      "Vhigh), the voltages the outputs are read against")
            object.__setattr__(self, "levels", (float(self.levels[0]), float(self.levels[1])))

    @property
    def rows(self) -> int:
        return self.X.shape[0]

    @property
    def classes(self) -> int:
        """Classes of a classification task (0 for a regression one)."""
        return 0 if self.labels is None else max(2, self.Y.shape[1])

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

    def to_csv(self) -> str:
        """The rows as a data set CSV: columns ``x1..``, ``y1..`` (V, full precision)."""
        header = [f"x{i + 1}" for i in range(self.X.shape[1])] + \
            [f"y{i + 1}" for i in range(self.Y.shape[1])]
        lines = [",".join(header)]
        lines += [",".join(map(repr, map(float, row))) for row in np.hstack([self.X, self.Y])]
        return "\n".join(lines) + "\n"

    def predicted(self, Vout) -> np.ndarray:
        """The class each row of outputs ``Vout`` (rows, outputs) reads as: the output
        with the highest voltage; one output: class 1 above the midpoint of the levels."""
        from .metrics import predicted_class

        return np.asarray(predicted_class(np.asarray(Vout, float), self.levels))


# --- raw data: features, and classes or targets -----------------------------------

@dataclass(frozen=True)
class Raw:
    """A data set before encoding: ``features`` (rows, F) in their own units and either
    ``classes`` (rows,) integers or ``targets`` (rows, M); ``volts``: already voltages
    (taken as they are under ``scale = "auto"``); ``shared_range``: every feature has
    the same unit (image pixels: one range for all, ``scale = "auto"`` -> global)."""

    name: str
    features: np.ndarray
    classes: np.ndarray | None = None
    targets: np.ndarray | None = None
    volts: bool = False
    shared_range: bool = False

    @property
    def columns(self) -> tuple:
        """The columns a CSV file of this data set has: ``x1..``, then ``class`` or ``y1..``."""
        x = tuple(f"x{i + 1}" for i in range(self.features.shape[1]))
        if self.classes is not None:
            return x + ("class",)
        return x + tuple(f"y{i + 1}" for i in range(self.targets.shape[1]))


def _parity(n: int):
    X = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    return X, (X.sum(axis=1) % 2)[:, None]


def _sklearn(loader: str, shared_range: bool = False):
    def load():
        from sklearn import datasets as sk  # bundled with the wheel: nothing downloads

        d = getattr(sk, loader)()
        return Raw(loader.removeprefix("load_"), np.asarray(d.data, float),
                   classes=np.asarray(d.target, np.int64), shared_range=shared_range)
    return load


BUILTIN = {
    "xor": lambda: Raw("xor", *_parity(2)[:1], targets=_parity(2)[1], volts=True),
    "parity3": lambda: Raw("parity3", *_parity(3)[:1], targets=_parity(3)[1], volts=True),
    # Fig. 8: one input, one output, two rows (our choice: the paper gives no values).
    "two-row": lambda: Raw("two-row", np.array([[0.0], [1.0]]), targets=np.array([[0.8], [0.2]]),
                           volts=True),
    "iris": _sklearn("load_iris"),
    "wine": _sklearn("load_wine"),
    "breast_cancer": _sklearn("load_breast_cancer"),
    "digits": _sklearn("load_digits", shared_range=True),  # 8x8 pixels, 0..16 each
}

DATASET_COLUMNS = "x1..xN and y1..yM (targets in V) or class (integers 0, 1, ...)"


def load_raw(name_or_path) -> Raw:
    """A built-in data set by name, or a CSV file (:func:`read_csv_raw`)."""
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
            f"unknown data set {short_repr(str(name_or_path))}; built-in: {', '.join(BUILTIN)}; "
            f"or the path of an existing CSV file with columns {DATASET_COLUMNS}")
    return read_csv_raw(path)


def read_csv_raw(path) -> Raw:
    """A CSV file whose header names the inputs ``x1..xN`` and either the targets
    ``y1..yM`` (V) or one column ``class`` (integers from 0), then one row of numbers
    per data row (columns in any order)."""
    path = Path(path)
    header, data = read_csv_numbers(path, "data set", DATASET_COLUMNS)
    if "class" in header:
        cols = match_columns(header, path, "data set", DATASET_COLUMNS, numbered=("x",),
                             required=("class",))
        c = data[:, cols["class"]]
        bad = np.flatnonzero((c != np.round(c)) | (c < 0))
        if bad.size:
            raise ValidationError(
                f"data set {path}: class {c[bad[0]]:g} (data row {bad[0] + 1}) is not a "
                "whole number >= 0; give each row's class as 0, 1, 2, ...")
        far = np.flatnonzero(c >= c.size)  # a gap below it; and 1e300 has no int64
        if far.size:
            raise ValidationError(
                f"data set {path}: class {c[far[0]]:g} (data row {far[0] + 1}) is not below "
                f"the {c.size} rows' count, so some class below it has no row; number the "
                "classes 0, 1, ... without gaps")
        return Raw(path.stem, data[:, cols["x"]], classes=c.astype(np.int64))
    cols = match_columns(header, path, "data set", DATASET_COLUMNS, numbered=("x", "y"))
    return Raw(path.stem, data[:, cols["x"]], targets=data[:, cols["y"]], volts=True)


# --- encoding -------------------------------------------------------------------------

def encode(raw: Raw, data, n_outputs: int, test: Raw | None = None) -> Dataset:
    """``raw`` encoded into voltages by ``data`` (a :class:`aann.spec.Data`) for a network
    with ``n_outputs`` outputs: split, scaled, one-hot; held-out rows in ``.test``."""
    classes = raw.classes
    if classes is not None:
        _check_classes(raw.name, classes, n_outputs)
    train_idx, test_idx = _split(raw, data, classes)
    if test is not None:
        if test.columns != raw.columns:
            raise ValidationError(
                f"test file {test.name!r} has columns {', '.join(test.columns)} but the "
                f"training data {raw.name!r} has {', '.join(raw.columns)}; give the test "
                "rows the training data's columns")
        if test.classes is not None:
            unseen = sorted(set(test.classes.tolist()) - set(classes.tolist()))
            if unseen:
                raise ValidationError(f"test file {test.name!r} has class {unseen[0]}, which "
                                      f"no training row of {raw.name!r} has")
    mode = _scale_mode(raw, data)
    fx = raw.features[train_idx]
    lo, hi = _fit_range(raw, fx, mode)
    enc = {"scale": mode, "lo": lo.tolist(), "hi": hi.tolist(),
           "Vin_low": data.Vin_low, "Vin_high": data.Vin_high} if mode != "none" else None
    if classes is None and mode != "none":
        t = raw.targets[train_idx]
        enc["y_lo"], enc["y_hi"] = (r.tolist() for r in _fit_range(raw, t, "feature",
                                                                   what="target y"))

    def rows(features, cls, targets, name):
        return encode_rows(name, features, cls, targets, enc, n_outputs, data.Vlow,
                           data.Vhigh)

    def part(r: Raw, idx):
        return (r.features[idx], None if r.classes is None else r.classes[idx],
                None if r.targets is None else r.targets[idx])

    held = None
    if test is not None:
        held = rows(*part(test, slice(None)), test.name)
    elif test_idx.size:
        held = rows(*part(raw, test_idx), f"{raw.name} (test)")
    train = rows(*part(raw, train_idx), raw.name)
    return Dataset(train.name, train.X, train.Y, train.labels, train.levels, test=held,
                   clipped=0 if held is None else held.clipped, encoding=enc)


def encode_rows(name: str, features, classes, targets, encoding: dict | None,
                n_outputs: int, Vlow: float, Vhigh: float) -> Dataset:
    """Rows in volts by an ``encoding`` (the input ranges fitted on a training set, as
    :func:`encode` makes and a run keeps; None: the features are volts already): inputs
    scaled into [``Vin_low``, ``Vin_high``], values outside clipped and counted in
    ``.clipped``; ``classes`` one-hot at ``Vlow``/``Vhigh``, else ``targets`` scaled."""
    X, clipped = (features, 0) if encoding is None else _scale(
        features, np.asarray(encoding["lo"], float), np.asarray(encoding["hi"], float),
        encoding["Vin_low"], encoding["Vin_high"])
    if classes is not None:
        return Dataset(name, X, one_hot(classes, n_outputs, Vlow, Vhigh), labels=classes,
                       levels=(Vlow, Vhigh), encoding=encoding, clipped=clipped)
    if encoding is not None and "y_lo" in encoding:
        targets, _ = _scale(targets, np.asarray(encoding["y_lo"], float),
                            np.asarray(encoding["y_hi"], float), Vlow, Vhigh, clip=False)
    return Dataset(name, X, targets, encoding=encoding, clipped=clipped)


def one_hot(classes, n_outputs: int, Vlow: float, Vhigh: float) -> np.ndarray:
    """(rows, n_outputs): ``Vhigh`` on each row's class output, ``Vlow`` elsewhere; one
    output for two classes: ``Vhigh`` for class 1, ``Vlow`` for class 0."""
    classes = np.asarray(classes)
    if n_outputs == 1:
        return np.where(classes == 1, Vhigh, Vlow)[:, None].astype(float)
    Y = np.full((classes.size, n_outputs), float(Vlow))
    Y[np.arange(classes.size), classes] = Vhigh
    return Y


def _check_classes(name: str, classes, n_outputs: int) -> None:
    found = np.unique(classes)
    k = int(found.max()) + 1
    if found.size < 2:
        raise ValidationError(f"data set {name!r} has one class only ({found[0]}); a "
                              "classification needs rows of at least two classes")
    if found.size != k:
        present = set(found.tolist())  # the first gap, without listing 0..k-1 (k may be huge)
        missing = next(c for c in range(k) if c not in present)
        raise ValidationError(f"data set {name!r} has no row of class {missing} (classes "
                              f"are 0..{k - 1}); number the classes 0, 1, ... without gaps")
    if n_outputs != k and not (k == 2 and n_outputs == 1):
        raise ValidationError(
            f"data set {name!r} has {k} classes, so the network needs {k} outputs (one per "
            "class)" + (" or 1 (Vhigh for class 1)" if k == 2 else "")
            + f", not {n_outputs}; change the topology's last number")


def _split(raw: Raw, data, classes):
    """Indices of the training and the held-out rows: ``test_fraction`` of each class
    (of all rows for regression), drawn with ``split_seed``; sorted, so both keep the
    data set's order."""
    n = raw.features.shape[0]
    f = data.test_fraction
    if f == 0:
        return np.arange(n), np.arange(0)
    rng = np.random.default_rng(data.split_seed)
    groups = [np.flatnonzero(classes == c) for c in range(int(classes.max()) + 1)] \
        if classes is not None else [np.arange(n)]
    test = []
    for c, idx in enumerate(groups):
        k = int(round(f * idx.size))
        what = f"class {c}" if classes is not None else "the data set"
        if k == 0 or k == idx.size:
            raise ValidationError(
                f"test_fraction = {f:g} leaves {what} of {raw.name!r} ({idx.size} rows) "
                f"without {'test' if k == 0 else 'training'} rows; choose a fraction that "
                f"puts 1..{idx.size - 1} of its rows in the test set")
        test.append(rng.permutation(idx)[:k])
    test = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(n), test), test


def _scale_mode(raw: Raw, data) -> str:
    if data.scale != "auto":
        return data.scale
    if raw.volts:
        return "none"
    return "global" if raw.shared_range else "feature"


def _fit_range(raw: Raw, values, mode: str, what: str = "feature x"):
    """Per column (lo, hi) over the training rows; ``global``: one range for all."""
    if mode == "global":
        lo = np.full(values.shape[1], values.min())
        hi = np.full(values.shape[1], values.max())
    else:
        lo, hi = values.min(axis=0), values.max(axis=0)
    flat = np.flatnonzero(hi <= lo)
    if flat.size:
        raise ValidationError(
            f"data set {raw.name!r}: {what}{flat[0] + 1} is constant ({lo[flat[0]]:g}) over "
            "the training rows, so it cannot be scaled; drop that column"
            + (" (or [data] scale = \"global\", one range for every feature)"
               if what.startswith("feature") else ""))
    return lo, hi


def _scale(values, lo, hi, V0: float, V1: float, clip: bool = True):
    """``values`` mapped from [lo, hi] onto [V0, V1]; outside values clipped (and counted)."""
    v = V0 + (values - lo) / (hi - lo) * (V1 - V0)
    if not clip:
        return v, 0
    outside = int(np.count_nonzero((v < min(V0, V1)) | (v > max(V0, V1))))
    return np.clip(v, min(V0, V1), max(V0, V1)), outside


# --- what the rest of aann calls ------------------------------------------------------

def load_dataset(name_or_path, data=None, n_outputs: int | None = None) -> Dataset:
    """A data set encoded into voltages: a built-in one by name or a CSV file, with the
    ``[data]`` settings ``data`` (default: the defaults), for a network with
    ``n_outputs`` outputs (default: one per class, or the targets' columns)."""
    raw = load_raw(name_or_path)
    data = Data() if data is None else data
    if n_outputs is None:
        n_outputs = int(raw.classes.max()) + 1 if raw.classes is not None and \
            raw.classes.size else (raw.targets.shape[1] if raw.targets is not None else 1)
    test = load_raw(data.test) if data.test is not None else None
    return encode(raw, data, n_outputs, test)


def for_config(config) -> Dataset:
    """The data set of a description (``[training] dataset`` encoded by ``[data]``),
    checked against its topology."""
    sizes = config.network.sizes
    ds = load_dataset(config.training.dataset, config.data, sizes[-1])
    ds.check_topology(sizes)
    return ds


def key(config) -> tuple:
    """What decides :func:`for_config`'s rows: the data set and the ``[data]`` section."""
    return (config.training.dataset, config.network.sizes[-1],
            tuple(sorted(config.data.to_dict().items())))


def read_csv_dataset(path) -> Dataset:
    """A CSV file of rows in volts (columns ``x1..``, ``y1..``), taken as it is."""
    raw = read_csv_raw(path)
    if raw.targets is None:
        raise ValidationError(f"{path}: expected target columns y1.. (V), as train.csv "
                              "and test.csv of a run directory have")
    return Dataset(raw.name, raw.features, raw.targets)
