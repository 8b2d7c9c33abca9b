"""A cell's bandwidth: ngspice AC analysis, and the -3 dB frequency ``f3dB``.

The cell is biased where its small-signal gain is not zero and driven by an AC
source: the multiplier on input 2 (the input that moves at each row edge in the
forward role) with input 1 at +0.1 V, its output current into ``Vcm``; the neuron
at ``Inet`` = 0 and the derivative block at ``Inet`` = +1 uA, about 1.4 ``Iref``
(its gain is zero at its peak), their outputs unloaded; the error cell on ``vout``
with both inputs at ``Vcm``, its output unloaded. ``f3dB`` is where the
gain's magnitude first falls to ``1/sqrt(2)`` of its low-frequency value
(interpolated in log-log); it is the ``f3dB`` of the block's first-order pole
where the laws have one.
"""

from __future__ import annotations

import math

import numpy as np

from .library import VCM, VDD, Cell
from .models import model_lines, run_with_models

START, STOP = 1e3, 1e11  # Hz
PER_DECADE = 20
BIAS = {"multiplier": 0.1, "activation": 0.0, "derivative": 1e-6, "charging": 0.0,
        "error": 0.0}
"""The operating point: input 1 of the multiplier (V), ``Inet`` of the others (A)."""


def ac_testbench(cell: Cell, corner: str = "tt", temp: float = 27.0) -> str:
    """The netlist of the cell's AC analysis."""
    lines = [f"* aann characterize: {cell.name} ({cell.kind}) AC, corner {corner}, {temp:g} C",
             model_lines(corner, temp).rstrip(), cell.text.strip(),
             f"Vdd vdd 0 {VDD:g}", f"Vcm vcm 0 {VCM:g}"]
    if cell.kind == "multiplier":
        lines += [f"V1 v1 vcm DC {BIAS['multiplier']:g}", "V2 v2 vcm DC 0 AC 1",
                  f"Vo out 0 {VCM:g}", f"X1 v1 v2 out vcm vdd 0 {cell.name}"]
    elif cell.kind == "error":  # driven on vout, vtarget at Vcm, out unloaded
        lines += ["V1 vout vcm DC 0 AC 1", "V2 vtarget vcm DC 0",
                  f"X1 vout vtarget out vcm vdd 0 {cell.name}"]
    elif cell.kind == "charging":
        lines += ["Vg vgrad vcm DC 0 AC 1", f"Vt vteach 0 {VDD:g}", f"Vo out 0 {VCM:g}",
                  f"X1 vgrad vteach out vcm vdd 0 {cell.name}"]
    else:
        lines += [f"Iin 0 in DC {BIAS[cell.kind]:g} AC 1e-6",
                  f"X1 in out vcm vdd 0 {cell.name}"]
    lines += [f".ac dec {PER_DECADE} {START:g} {STOP:g}", ".end", ""]
    return "\n".join(lines)


def f3db(freq, gain) -> float:
    """The first frequency (Hz) where ``|gain|`` falls below ``1/sqrt(2)`` of its first
    value, interpolated in log-log; NaN where it never does."""
    mag = np.abs(np.asarray(gain))
    freq = np.real(np.asarray(freq))
    target = mag[0] / math.sqrt(2)
    below = np.nonzero(mag < target)[0]
    if mag[0] == 0 or below.size == 0 or below[0] == 0:
        return float("nan")
    k = below[0]
    lf, lm = np.log(freq[k - 1:k + 1]), np.log(mag[k - 1:k + 1])
    return float(np.exp(lf[0] + (np.log(target) - lm[0]) * (lf[1] - lf[0]) / (lm[1] - lm[0])))


def measure_f3db(cell: Cell, corner: str = "tt", temp: float = 27.0) -> float:
    """The cell's -3 dB frequency in Hz (NaN beyond :data:`STOP`)."""
    plot = run_with_models(ac_testbench(cell, corner, temp), name="ac")[0]
    out = plot["i(vo)"] if cell.kind in ("multiplier", "charging") else plot["v(out)"]
    return f3db(plot.sweep, out)
