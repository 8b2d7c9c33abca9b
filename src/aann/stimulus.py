"""What the circuit's sources apply: input, target and ``Vteach`` waveforms.

Two kinds of stimulus, both made of *segments* within which every source is
linear in time (constant, or a ramp), so that the solver never steps across an
edge:

* :class:`RowSchedule` -- a data set applied row after row, each row held for
  ``t_row``, ``epochs`` times, in a given order, with ``Vteach`` set per epoch
  (always / off / alternate). With ``t_edge > 0`` every row starts with a
  linear ramp of that length from the previous row's values (what a SPICE PWL
  source does).
* :class:`Waveform` -- arbitrary piecewise-linear input/target/``Vteach``
  waveforms given at breakpoints (PWL points, or samples of a sensor signal).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .datasets import Dataset
from .errors import ValidationError
from .io import match_columns, read_csv_numbers

TEACH_SCHEDULES = ("always", "off", "alternate")
WAVEFORM_COLUMNS = "time, Vin1..VinN, Vtarget1..VtargetM and optionally Vteach"
MAX_TIME = 1e250
"""The largest waveform time (s) in magnitude. The native engine's step arithmetic
(diffrax's, up to 10,000 steps and samples per piece) overflows float64 for times from
about 1e296 s (measured: the weights of a held network turn NaN) and fails outright
beyond about 1e305 s; 1e250 s leaves a margin and is beyond any circuit."""
MIN_PIECE = 1e-250
"""The shortest waveform piece (s): its steps, down to 1/10,000 of it, must stay normal
float64 numbers (from 2.2e-308 s), or they round to equal times and the solver stops
(measured: from about 1e-308 s); 1e-250 s leaves the same margin."""


def check_stimulus(stimulus) -> None:
    """``stimulus`` is a :class:`Waveform`, the path of a CSV file (a str or os.PathLike),
    or None; anything else is a :class:`ValidationError` naming it."""
    if stimulus is not None and not isinstance(stimulus, (Waveform, str, os.PathLike)):
        raise ValidationError(_not_a_stimulus(stimulus))


def _not_a_stimulus(value) -> str:
    return ("stimulus must be an aann.Waveform or the path of a CSV file with columns "
            f"{WAVEFORM_COLUMNS}, not {type(value).__name__}")


def teach_levels(teach: str, epochs: int, Vteach: float) -> np.ndarray:
    """``Vteach`` (V) of each epoch: ``alternate`` learns in odd epochs 1, 3, ... and
    holds in even ones."""
    if teach == "always":
        return np.full(epochs, Vteach)
    if teach == "off":
        return np.zeros(epochs)
    if teach == "alternate":
        return np.where(np.arange(epochs) % 2 == 0, Vteach, 0.0)
    raise ValidationError(f"teach = {teach!r}; use one of {', '.join(TEACH_SCHEDULES)}")


def row_order(order: str, epochs: int, rows: int, seed: int) -> np.ndarray:
    """Row indices applied in each epoch, shape (epochs, rows)."""
    if order == "sequential":
        return np.tile(np.arange(rows), (epochs, 1))
    if order == "shuffle":
        rng = np.random.default_rng(seed)
        return np.stack([rng.permutation(rows) for _ in range(epochs)])
    raise ValidationError(f"order = {order!r}; use sequential or shuffle")


@dataclass(frozen=True)
class RowSchedule:
    """A data set applied row by row.

    ``order`` has shape (batch, epochs, rows) or (epochs, rows); ``Vteach`` has
    shape (epochs,), in V. Times in seconds. An edge shorter than 1e-12 of the
    run's duration cannot advance time at float64 resolution late in the run
    (its segments would have no length), so it is taken as an ideal edge (0).
    """

    dataset: Dataset
    order: np.ndarray
    Vteach: np.ndarray
    t_row: float
    t_edge: float = 0.0

    def __post_init__(self):
        if self.t_edge < 1e-12 * self.duration:
            object.__setattr__(self, "t_edge", 0.0)

    @property
    def epochs(self) -> int:
        return self.Vteach.shape[0]

    @property
    def duration(self) -> float:
        """Circuit time of the whole run: ``epochs * rows * t_row`` (s)."""
        return self.epochs * self.order.shape[-1] * self.t_row

    def sample_times(self, n_samples: int) -> np.ndarray:
        """Waveform sample times (s): ``n_samples`` evenly spaced from the start of
        each segment (the edge ramp, then the held part, of every row)."""
        k = np.arange(self.epochs * self.order.shape[-1])
        t0 = k * self.t_row
        j = np.arange(n_samples) / n_samples
        ramp = t0[:, None] + self.t_edge * j
        hold = (t0 + self.t_edge)[:, None] + (self.t_row - self.t_edge) * j
        segments = [ramp, hold] if self.t_edge > 0 else [hold]
        return np.concatenate(segments, axis=1).reshape(-1)

    @classmethod
    def build(cls, dataset: Dataset, t_row: float, epochs: int, teach: str = "always",
              order: str = "sequential", seeds=(0,), Vteach: float = 1.0,
              t_edge: float = 0.0) -> RowSchedule:
        orders = np.stack([row_order(order, epochs, dataset.rows, s) for s in seeds])
        if order == "sequential":
            orders = orders[:1]  # one order shared by the batch
        return cls(dataset, orders, teach_levels(teach, epochs, Vteach), t_row, t_edge)


@dataclass(frozen=True)
class Waveform:
    """Piecewise-linear sources through breakpoints ``time`` (s, increasing, finite).

    ``Vin`` (points, inputs), ``Vtarget`` (points, outputs) and ``Vteach`` (points,),
    in V, finite. A 1-D ``Vin`` or ``Vtarget`` is one source and is reshaped to
    (points, 1); every field is stored as a float array (lists are converted).
    A step is two breakpoints a short time apart.
    """

    time: np.ndarray
    Vin: np.ndarray
    Vtarget: np.ndarray
    Vteach: np.ndarray

    def __post_init__(self):
        arrays = {}
        for name in ("time", "Vin", "Vtarget", "Vteach"):
            try:
                arrays[name] = np.array(getattr(self, name), dtype=float)
            except (TypeError, ValueError, OverflowError):
                raise ValidationError(f"waveform {name} is not an array of numbers") from None
        t = arrays["time"]
        if t.ndim != 1 or t.size < 2:
            raise ValidationError(
                f"a waveform needs at least two breakpoints; time has shape {t.shape}, "
                "give a 1-D array of two or more times (s)")
        for name, ndim in (("Vin", 2), ("Vtarget", 2), ("Vteach", 1)):
            v = arrays[name]
            if v.ndim == 1 and ndim == 2:
                v = arrays[name] = v[:, None]
            if v.ndim != ndim or v.shape[0] != t.size or (ndim == 2 and v.shape[1] < 1):
                want = "(points,)" if ndim == 1 else "(points, n) with n >= 1"
                raise ValidationError(
                    f"waveform {name} has shape {v.shape}; time has {t.size} points, so it "
                    f"must have shape {want}")
        for name, v in arrays.items():
            if not np.all(np.isfinite(v)):
                raise ValidationError(f"waveform {name} contains NaN or Inf")
            object.__setattr__(self, name, v)
        if np.max(np.abs(t)) > MAX_TIME:
            k = int(np.argmax(np.abs(t) > MAX_TIME))
            raise ValidationError(
                f"waveform breakpoint {k} at {t[k]:g} s is beyond {MAX_TIME:g} s: the solver's "
                "step arithmetic overflows float64 from about 1e296 s; give times in seconds "
                "(a year is 3.2e7 s)")
        if np.min(np.diff(t)) < MIN_PIECE and np.all(np.diff(t) > 0):
            k = int(np.argmin(np.diff(t))) + 1
            raise ValidationError(
                f"waveform breakpoint {k} at {t[k]:g} s comes {t[k] - t[k - 1]:g} s after the "
                f"one before; a piece must last at least {MIN_PIECE:g} s, or its solver steps "
                "fall below the smallest normal float64 and round to equal times")
        # a piece shorter than this cannot be stepped at float64 resolution
        resolution = 1e-12 * float(np.max(np.abs(t)))
        if not np.all(np.diff(t) > resolution):
            k = int(np.argmin(np.diff(t) > resolution)) + 1
            raise ValidationError(
                f"waveform times must increase (by more than 1e-12 of the largest time); "
                f"breakpoint {k} at {t[k]:g} s does not")

    @classmethod
    def from_csv(cls, path) -> Waveform:
        """Columns ``time, Vin1.., Vtarget1.., [Vteach]`` (s and V; exact names, numbered
        from 1, any order); Vteach defaults to 1 V."""
        if not isinstance(path, (str, os.PathLike)):
            raise ValidationError(_not_a_stimulus(path))
        path = Path(path)
        header, data = read_csv_numbers(path, "waveform", WAVEFORM_COLUMNS)
        cols = match_columns(header, path, "waveform", WAVEFORM_COLUMNS,
                             numbered=("Vin", "Vtarget"), required=("time",),
                             optional=("Vteach",))
        vteach = data[:, cols["Vteach"]] if "Vteach" in cols else np.ones(len(data))
        try:
            return cls(data[:, cols["time"]], data[:, cols["Vin"]], data[:, cols["Vtarget"]],
                       vteach)
        except ValidationError as e:
            raise ValidationError(f"waveform {path}: {str(e).removeprefix('waveform ')}") from None

