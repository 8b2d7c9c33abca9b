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

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .datasets import Dataset
from .errors import ValidationError

TEACH_SCHEDULES = ("always", "off", "alternate")


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
    shape (epochs,), in V. Times in seconds.
    """

    dataset: Dataset
    order: np.ndarray
    Vteach: np.ndarray
    t_row: float
    t_edge: float = 0.0

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
    """Piecewise-linear sources through breakpoints ``time`` (s, increasing).

    ``Vin`` (points, inputs), ``Vtarget`` (points, outputs), ``Vteach`` (points,).
    A step is two breakpoints a short time apart.
    """

    time: np.ndarray
    Vin: np.ndarray
    Vtarget: np.ndarray
    Vteach: np.ndarray

    def __post_init__(self):
        t = np.asarray(self.time, float)
        if t.ndim != 1 or t.size < 2:
            raise ValidationError("a waveform needs at least two breakpoints")
        if not np.all(np.diff(t) > 0):
            k = int(np.argmin(np.diff(t) > 0)) + 1
            raise ValidationError(
                f"waveform times must increase; breakpoint {k} at {t[k]:g} s does not")
        for name in ("Vin", "Vtarget", "Vteach"):
            v = np.asarray(getattr(self, name), float)
            if v.shape[0] != t.size:
                raise ValidationError(f"waveform {name} has {v.shape[0]} points, time has {t.size}")
            if not np.all(np.isfinite(v)):
                raise ValidationError(f"waveform {name} contains NaN or Inf")

    @classmethod
    def from_csv(cls, path) -> Waveform:
        """Columns ``time, Vin1.., Vtarget1.., [Vteach]`` (s and V); Vteach defaults to 1 V."""
        path = Path(path)
        try:
            with open(path, newline="") as f:
                rows = list(csv.reader(f))
        except OSError as e:
            raise ValidationError(f"cannot read waveform {path}: {e.strerror}") from None
        header = [h.strip() for h in rows[0]] if rows else []
        try:
            data = np.array([[float(v) for v in r] for r in rows[1:] if r])
        except ValueError as e:
            raise ValidationError(f"waveform {path}: a value is not a number ({e})") from None
        if "time" not in header or data.ndim != 2:
            raise ValidationError(f"waveform {path}: needs columns time, Vin1.., Vtarget1..")
        col = {h: data[:, i] for i, h in enumerate(header)}
        vin = [h for h in header if h.startswith("Vin")]
        vtar = [h for h in header if h.startswith("Vtarget")]
        if not vin or not vtar:
            raise ValidationError(f"waveform {path}: needs columns Vin1.. and Vtarget1..")
        return cls(col["time"], np.stack([col[h] for h in vin], 1),
                   np.stack([col[h] for h in vtar], 1),
                   col.get("Vteach", np.ones(len(data))))
