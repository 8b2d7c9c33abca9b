"""Device mismatch: Monte Carlo samples of a cell with the PDK's mismatch models, and
the spread of its fitted constants as ``[mismatch]`` sigmas.

Sample ``k`` loads the corner's mismatch section (``tt_mm``...), where every
transistor and resistor draws its own deviations (``AGAUSS``), with ngspice's
generator seeded with ``k + 1``; the cell is swept and its law fitted as in
:mod:`aann.cells.characterization`. The standard deviation of each constant over
the samples is its mismatch sigma: relative (``"3%"``) for a gain or a scale
(:data:`RELATIVE`), absolute (``"8mV"``, ``"0.3uA"``) for an offset, as
``[mismatch]`` (:mod:`aann.mismatch`) takes them. Each instance of a block in a
network then draws its own constants with that spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .characterization import Cell, fit_laws, measure

MISMATCH_LAWS = {"multiplier": "ideal", "activation": "sigmoid_offset",
                 "derivative": "sigmoid_offset", "charging": "linear", "error": "difference"}
"""The law fitted to every sample (the one with offsets, so that they are measured)."""
RELATIVE = ("Km", "KI", "Vamp", "Iref", "Kd", "Vref", "Keta", "Imax")
"""Constants whose sigma is relative to the mean; the others (offsets) are absolute."""
UNITS = {"Voff1": "V", "Voff": "V", "Ioff": "A"}


@dataclass(frozen=True)
class MonteCarloFits:
    """The constants of :data:`MISMATCH_LAWS` fitted to each sample (``samples[k]``:
    a dict) and the largest fit error of each (% of full scale)."""

    kind: str
    corner: str
    samples: list
    max_error_pct: list

    def sigmas(self) -> dict:
        """``{constant: (sigma, relative)}``: the sample standard deviation, relative to
        the mean for :data:`RELATIVE` constants."""
        out = {}
        for key in self.samples[0]:
            if key == "Ru":  # held, not fitted
                continue
            v = np.array([s[key] for s in self.samples])
            sd = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
            out[key] = (sd / abs(float(np.mean(v))), True) if key in RELATIVE else (sd, False)
        return out

    def means(self) -> dict:
        return {k: float(np.mean([s[k] for s in self.samples])) for k in self.samples[0]}


def monte_carlo(cell: Cell, samples: int, corner: str = "tt", temp: float = 27.0,
                points: int | None = None, update=None) -> MonteCarloFits:
    """``samples`` Monte Carlo sweeps of ``cell`` with the mismatch models of ``corner``;
    ``update(k, description)`` before each."""
    law = MISMATCH_LAWS[cell.kind]
    fits, errors = [], []
    for k in range(samples):
        if update:
            update(k, f"{cell.name}: mismatch sample {k + 1} of {samples}")
        sweep, _ = measure(cell, points, corner, temp, seed=k + 1)
        fit = next(f for f in fit_laws(sweep) if f.law == law)
        fits.append(fit.constants)
        errors.append(fit.max_error_pct)
    if update:
        update(samples, "done")
    return MonteCarloFits(cell.kind, corner, fits, errors)


def quantity(value: float, unit: str) -> str:
    """``value`` (SI) with an SI prefix, e.g. ``8.1mV``."""
    for factor, prefix in ((1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p")):
        if abs(value) >= factor or factor == 1e-12:
            return f"{value / factor:.3g}{prefix}{unit}"
    return f"{value:g}{unit}"


def mismatch_toml(mc: MonteCarloFits, cell_name: str, temp: float) -> str:
    """The ``[mismatch]`` section of the sample spread (merge it into a description)."""
    lines = [f"# aann characterize {cell_name} --mismatch {len(mc.samples)}: SkyWater 130 nm "
             f"{mc.corner}_mm, {temp:g} C, law {MISMATCH_LAWS[mc.kind]}",
             "# the standard deviation of each fitted constant over the samples; means: "
             + ", ".join(f"{k} = {v:.4g}" for k, v in mc.means().items()),
             *([] if mc.kind == "charging" else [
                 f"# for a description whose [blocks.{mc.kind}] law has these constants "
                 f"(\"{MISMATCH_LAWS[mc.kind]}\"): other laws refuse the sigmas of the "
                 "ones they lack"]),
             "[mismatch]"]
    for key, (sigma, relative) in mc.sigmas().items():
        value = f"{sigma * 100:.3g}%" if relative else quantity(sigma, UNITS.get(key, "V"))
        name = key if mc.kind == "charging" else f"{mc.kind}.{key}"  # [constants]: bare
        lines.append(f'"{name}" = "{value}"')
    return "\n".join(lines) + "\n"


def mismatch_csv(mc: MonteCarloFits) -> str:
    """One row per sample: its seed, fitted constants and largest fit error."""
    keys = list(mc.samples[0])
    rows = [",".join(["sample", "seed", *keys, "max_error_pct"])]
    for k, (s, e) in enumerate(zip(mc.samples, mc.max_error_pct)):
        rows.append(",".join([str(k), str(k + 1), *(f"{s[key]:.10g}" for key in keys),
                              f"{e:.6g}"]))
    return "\n".join(rows) + "\n"
