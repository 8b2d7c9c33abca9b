"""Tabulated laws: a measured sweep as a smooth law, for when no analytic law fits.

The law is the cubic B-spline interpolant of the sweep on its uniform grid
(natural end conditions): ``f(x) = sum_i c_i B((x - x_i)/h)`` in one input,
``f(x, y) = sum_ij c_ij B((x - x_i)/hx) B((y - y_j)/hy)`` in two, with ``B`` the
cubic B-spline ``(max(2-|t|,0)^3 - 4 max(1-|t|,0)^3) / 6``. It passes through
every measured point, is twice continuously differentiable (so JAX
differentiates it and the solvers step over it smoothly), and needs nothing
but ``abs``, ``clip``, ``+`` and ``*``: the same law is written as a SPICE
B-source expression through the ``m`` namespace of :mod:`aann.blocks`.
Inputs beyond the measured range are held at its edge (the cell saturates
there; the law does not extrapolate).

A table law reads the ``sweep.csv`` that ``aann characterize`` wrote (its
``measured`` column) from the path in the law's ``table`` key::

    [blocks.multiplier]
    law = "table"
    table = "cells/sweep.csv"   # in a TOML file: relative to that file
    Km = 1.1e-4          # still reads a product through 1/Km
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from ..blocks import Activation, Derivative, Multiplier, register_law
from ..errors import ValidationError
from ..io import read_csv_numbers
from ..params import param

TABLE_DOC = ("table law only: sweep.csv written by `aann characterize` (in a TOML file, "
             "relative to that file)")


def basis(t, m=jnp):
    """The uniform cubic B-spline at ``t`` (in grid steps from its centre); 0 for |t| >= 2."""
    a = m.abs(t)
    u = m.clip(2.0 - a, 0.0, 2.0)
    v = m.clip(1.0 - a, 0.0, 1.0)
    return (u * u * u - 4.0 * (v * v * v)) * (1.0 / 6.0)


def _collocation(n: int) -> np.ndarray:
    """The (n+2, n+2) system of a natural cubic spline through n uniform points: rows of
    B at the points (1/6, 4/6, 1/6), then zero second derivative at both ends."""
    A = np.zeros((n + 2, n + 2))
    for k in range(n):
        A[k, k:k + 3] = (1 / 6, 4 / 6, 1 / 6)
    A[n, 0:3] = (1.0, -2.0, 1.0)
    A[n + 1, n - 1:n + 2] = (1.0, -2.0, 1.0)
    return A


def _uniform(axis: np.ndarray, name: str) -> tuple[float, float]:
    """``(start, step)`` of a uniform grid axis (a ValidationError otherwise)."""
    axis = np.asarray(axis, float)
    if axis.size < 3:
        raise ValidationError(f"a table needs at least 3 points of {name}, got {axis.size}")
    steps = np.diff(axis)
    h = (axis[-1] - axis[0]) / (axis.size - 1)
    if h <= 0 or np.max(np.abs(steps - h)) > 1e-6 * abs(h):
        raise ValidationError(f"the table's {name} values are not a uniform increasing grid")
    return float(axis[0]), float(h)


@dataclass(frozen=True)
class Spline:
    """A cubic B-spline on a uniform grid: per input its ``start``, ``step`` and number of
    points ``n``; ``coef`` has shape ``(n1 + 2,)`` or ``(n1 + 2, n2 + 2)``."""

    start: tuple
    step: tuple
    n: tuple
    coef: np.ndarray

    @classmethod
    def fit(cls, axes: list[np.ndarray], values: np.ndarray, names=("x", "y")) -> Spline:
        """The interpolant of ``values`` (shape ``(len(x),)`` or ``(len(x), len(y))``) on
        the uniform ``axes``."""
        values = np.asarray(values, float)
        starts, steps = zip(*(_uniform(a, nm) for a, nm in zip(axes, names)))
        ns = tuple(len(a) for a in axes)
        if values.shape != ns:
            raise ValidationError(f"table values of shape {values.shape} do not match the grid "
                                  f"{ns}")
        rhs = np.zeros(tuple(n + 2 for n in ns))
        rhs[tuple(slice(0, n) for n in ns)] = values
        coef = np.linalg.solve(_collocation(ns[0]), rhs.reshape(ns[0] + 2, -1)).reshape(rhs.shape)
        if len(ns) == 2:
            coef = np.linalg.solve(_collocation(ns[1]), coef.T).T
        return cls(tuple(starts), tuple(steps), ns, coef)

    def _basis(self, k: int, x, m):
        """Every basis function of input ``k`` at ``x`` (held within the grid)."""
        lo, h, n = self.start[k], self.step[k], self.n[k]
        t = (m.clip(x, lo, lo + (n - 1) * h) - lo) * (1.0 / h)  # in steps from the first point
        if m is jnp or m is np:
            return basis(m.asarray(t)[..., None] - (np.arange(n + 2) - 1.0), m)
        return [basis(t - (i - 1.0), m) for i in range(n + 2)]

    def __call__(self, *x, m=jnp):
        """The law at the inputs ``x`` (arrays broadcast together, or SPICE expressions)."""
        if len(x) != len(self.n):
            raise ValueError(f"this table takes {len(self.n)} inputs, got {len(x)}")
        B = [self._basis(k, xk, m) for k, xk in enumerate(x)]
        if m is jnp or m is np:
            c = m.asarray(self.coef)
            if len(B) == 1:
                return B[0] @ c
            return m.sum((B[0] @ c) * B[1], axis=-1)
        if len(B) == 1:
            return _sum(float(c) * b for c, b in zip(self.coef, B[0]))
        return _sum(bi * _sum(float(c) * bj for c, bj in zip(row, B[1]))
                    for row, bi in zip(self.coef, B[0]))


def _sum(terms):
    total = None
    for t in terms:
        total = t if total is None else total + t
    return total


COLUMNS = {"multiplier": (("V1", "V2"), "I"), "activation": (("Inet",), "Vout"),
           "derivative": (("Inet",), "Vd"), "charging": (("Vgrad",), "Icharged"),
           "error": (("Vout", "Vtarget"), "VE")}
"""Per block kind: the input columns and the output's name in ``sweep.csv``."""


def spline_from_sweep(path, kind: str) -> Spline:
    """The :class:`Spline` of the ``<out>_measured`` column of a ``sweep.csv``."""
    inputs, out = COLUMNS[kind]
    header, data = read_csv_numbers(path, "table", ",".join(inputs) + f",{out}_measured,...")
    missing = [c for c in (*inputs, f"{out}_measured") if c not in header]
    if missing:
        raise ValidationError(f"table {path} has no column {missing[0]!r}; it must be a "
                              "sweep.csv written by `aann characterize` for a " + kind)
    y = data[:, header.index(f"{out}_measured")]
    if len(inputs) == 1:
        x = data[:, header.index(inputs[0])]
        order = np.argsort(x)
        return Spline.fit([x[order]], y[order], inputs)
    a, b = (data[:, header.index(c)] for c in inputs)
    xa, xb = np.unique(a), np.unique(b)
    if xa.size * xb.size != len(y):
        raise ValidationError(f"table {path}: the {inputs[0]}, {inputs[1]} columns are not a "
                              "full grid")
    grid = np.full((xa.size, xb.size), np.nan)
    grid[np.searchsorted(xa, a), np.searchsorted(xb, b)] = y
    if np.isnan(grid).any():
        raise ValidationError(f"table {path}: the grid has missing points")
    return Spline.fit([xa, xb], grid, inputs)


@functools.lru_cache(maxsize=64)
def _cached(path: str, kind: str, mtime: float) -> Spline:
    return spline_from_sweep(path, kind)


def load_table(path: str, kind: str) -> Spline:
    """The table of ``path`` (read once per file version)."""
    if not path:
        raise ValidationError(f"[blocks.{kind}] law = \"table\" needs table = \"DIR/sweep.csv\" "
                              "(written by `aann characterize`)")
    try:
        mtime = os.stat(path).st_mtime
    except OSError as e:
        raise ValidationError(f"[blocks.{kind}] table = {path!r}: cannot read it "
                              f"({e.strerror})") from None
    return _cached(str(Path(path)), kind, mtime)


@register_law("multiplier", "table")
class TableMultiplier(Multiplier):
    """The measured multiplier surface ``I(V1, V2)``, a cubic B-spline of the sweep
    (:mod:`aann.cells.tabulated`); ``Km`` only reads products (``product``)."""

    table: str = param("", doc=TABLE_DOC, static=True)

    def current(self, V1, V2, m=jnp):
        return load_table(self.table, "multiplier")(V1, V2, m=m)


@register_law("activation", "table")
class TableActivation(Activation):
    """The measured neuron ``Vout(Inet)`` (signal volts, around Vcm), a cubic B-spline."""

    table: str = param("", doc=TABLE_DOC, static=True)

    def Vout(self, Inet, m=jnp):
        return load_table(self.table, "activation")(Inet, m=m)


@register_law("derivative", "table")
class TableDerivative(Derivative):
    """The measured derivative block ``Vd(Inet)`` (signal volts), a cubic B-spline."""

    table: str = param("", doc=TABLE_DOC, static=True)

    def Vd(self, Inet, m=jnp):
        return load_table(self.table, "derivative")(Inet, m=m)
