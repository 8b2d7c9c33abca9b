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

A chopper asks more of a multiplier than that small-signal pole: the modulator swings
an input by the whole error (+-0.16 V in the cells' XOR) at every clock edge.
:func:`measure_chopped_gain` drives one input with that square wave at the chopper's
frequency, the other input DC, and gives the demodulated mean output current over the
static one: the share of the product a chopper at that frequency keeps, and the
single pole (:func:`equivalent_pole`) that would keep the same share.
"""

from __future__ import annotations

import math

import numpy as np

from ..cancellation import chopper_loss
from ..errors import ValidationError
from .chopped import EDGE, toggles
from .library import VCM, VDD, Cell
from .models import run_with_models, testbench_head

START, STOP = 1e3, 1e11  # Hz
PER_DECADE = 20
BIAS = {"multiplier": 0.1, "activation": 0.0, "derivative": 1e-6, "charging": 0.0,
        "error": 0.0}
"""The operating point: input 1 of the multiplier (V), ``Inet`` of the others (A)."""


def ac_testbench(cell: Cell, corner: str = "tt", temp: float = 27.0) -> str:
    """The netlist of the cell's AC analysis."""
    lines = testbench_head(f"aann characterize: {cell.name} ({cell.kind}) AC", corner, temp,
                           cell.text)
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


CHOPPED_AMPLITUDE = 0.16  # V: the error's swing at the modulator (the XOR targets' span)
CHOPPED_OTHER = 1e-3  # V: the other input, held (a delta's size in the cells' XOR)
CHOPPED_PERIODS = 6  # periods simulated; the mean is taken over the last four


def chopper_lines(f_chop: float, periods: int = CHOPPED_PERIODS) -> list:
    """Netlist lines: the clock ``s`` (logic levels, high first) toggling at ``f_chop``
    (Hz) for ``periods`` periods, and a transient over them (400 points a period)."""
    T = periods / f_chop
    edges = [(k + 1) / (2 * f_chop) for k in range(2 * periods - 1)]
    step = T / (400 * periods)
    return [f"Vs s 0 {toggles(True, edges, T, EDGE)}", ".options method=gear reltol=1e-4",
            f".tran {step:.6g} {T:.9g} 0 {step:.6g}"]


def square_source(node: str, amplitude: float = CHOPPED_AMPLITUDE) -> str:
    """A B source driving ``node`` with ``s(t) amplitude`` about ``Vcm`` (``s`` = +-1)."""
    return f"B{node} {node} 0 V = {VCM:g} + {amplitude:g} * (2 * V(s) / {VDD:g} - 1)"


def step_lines(node: str, amplitude: float = CHOPPED_AMPLITUDE) -> list:
    """Netlist lines: ``node`` at ``-amplitude`` then ``+amplitude`` about ``Vcm`` (a DC
    sweep of two points, source ``Vc``): the static response a chopper should keep."""
    return [f"Vc {node} vcm DC 0", f".dc Vc {-amplitude:g} {amplitude:g} {2 * amplitude:g}"]


def demodulated(plot, x, f_chop: float, skip: int = CHOPPED_PERIODS - 4) -> float:
    """The mean of ``s x`` over the transient ``plot`` after ``skip`` periods of the
    clock ``s`` at ``f_chop``; ``x`` an array over the plot's time points."""
    t = np.real(plot.sweep)
    s = np.where(np.real(plot["v(s)"]) > VDD / 2, 1.0, -1.0)
    keep = t >= skip / f_chop
    return float(np.trapezoid((s * x)[keep], t[keep]) / (t[keep][-1] - t[keep][0]))


def chopped_testbench(cell: Cell, f_chop: float | None, chopped_input: int = 1,
                      amplitude: float = CHOPPED_AMPLITUDE, other: float = CHOPPED_OTHER,
                      corner: str = "tt", temp: float = 27.0) -> str:
    """The netlist of a multiplier cell with input ``chopped_input`` (1 or 2) a square
    wave ``s(t) amplitude`` (V, about ``Vcm``; ``s`` = +-1 at ``f_chop``, Hz, edges of
    :data:`aann.cells.chopped.EDGE`) and the other input at ``other`` (V): its output
    current into ``Vcm`` (``Vo``) over :data:`CHOPPED_PERIODS` periods. ``f_chop =
    None``: the static response instead, the chopped input at ``+amplitude`` and at
    ``-amplitude`` (a DC sweep of two points)."""
    if cell.kind != "multiplier":
        raise ValueError(f"{cell.name} is a {cell.kind}: the chopped gain is a multiplier's")
    if chopped_input not in (1, 2):
        raise ValueError(f"chopped_input is 1 or 2, not {chopped_input!r}")
    chopped, held = ("v1", "v2") if chopped_input == 1 else ("v2", "v1")
    at = "DC" if f_chop is None else f"{f_chop:g} Hz"
    lines = testbench_head(f"aann: {cell.name}, input {chopped_input} chopped at {at}", corner,
                           temp, cell.text)
    lines += [f"Vh {held} vcm DC {other:g}", f"Vo out 0 {VCM:g}",
              f"X1 v1 v2 out vcm vdd 0 {cell.name}"]
    if f_chop is None:
        lines += step_lines(chopped, amplitude)
    else:
        clock, options, tran = chopper_lines(f_chop)
        lines += [clock, square_source(chopped, amplitude), options, tran]
    return "\n".join(lines + [".end", ""])


def measure_chopped_gain(cell: Cell, frequencies, chopped_input: int = 1,
                         amplitude: float = CHOPPED_AMPLITUDE, other: float = CHOPPED_OTHER,
                         corner: str = "tt", temp: float = 27.0) -> dict:
    """For each chopper frequency (Hz): the demodulated mean output current over the
    last four of :data:`CHOPPED_PERIODS` periods, ``mean(s I)``, over the static one,
    ``(I(+amplitude) - I(-amplitude)) / 2`` at the same held input: 1 for a cell that
    keeps the whole product, below 0 where its output lags by more than a half period.
    Under ``"static"``: that static current (A)."""
    def run(f):
        netlist = chopped_testbench(cell, f, chopped_input, amplitude, other, corner, temp)
        return run_with_models(netlist, name="chopped")[0]

    current = np.real(run(None)["i(vo)"])
    static = float(current[-1] - current[0]) / 2
    gains = {"static": static}
    for f in frequencies:
        plot = run(f)
        gains[f] = demodulated(plot, np.real(plot["i(vo)"]), f) / static
    return gains


MAX_CHOPPER_HZ = 1 / (20 * EDGE)  # Hz: a half period of at least ten clock edges


def check_chopper(cell: Cell, f_chop) -> None:
    """Refuse a chopper frequency that is not a positive finite number up to
    :data:`MAX_CHOPPER_HZ`, or a cell that is not a multiplier, before any run."""
    if cell.kind != "multiplier":
        raise ValidationError(f"--chopper: {cell.name} is a {cell.kind} cell; the chopped "
                              "gain is measured on a multiplier (multiplier, multiplier_lm "
                              "or a FILE of --kind multiplier)")
    if not (isinstance(f_chop, (int, float)) and math.isfinite(f_chop)
            and 0 < f_chop <= MAX_CHOPPER_HZ):
        raise ValidationError(f"--chopper {f_chop!r}: give the chopper's frequency, above 0 "
                              f"and at most {MAX_CHOPPER_HZ:g} Hz, e.g. 200kHz")


def chopped_poles(cell: Cell, f_chop: float, corner: str = "tt", temp: float = 27.0) -> dict:
    """At the chopper frequency ``f_chop`` (Hz), each input of a multiplier cell chopped in
    turn (:func:`measure_chopped_gain`): the share of the product it keeps and the pole
    that would keep as much (:func:`equivalent_pole`, Hz; NaN where none would), as
    ``aann characterize --chopper`` reports them."""
    out = {"f_chop_Hz": float(f_chop), "amplitude_V": CHOPPED_AMPLITUDE,
           "other_V": CHOPPED_OTHER}
    for chopped_input in (1, 2):
        gain = measure_chopped_gain(cell, [f_chop], chopped_input, corner=corner,
                                    temp=temp)[f_chop]
        out[f"input{chopped_input}"] = {"gain": gain,
                                        "f3dB_Hz": equivalent_pole(gain, f_chop)}
    return out


def equivalent_pole(gain: float, f_chop: float) -> float:
    """The ``f3dB`` (Hz) of the first-order pole that keeps ``gain`` of a square wave at
    ``f_chop`` demodulated (``1 -`` :func:`aann.cancellation.chopper_loss`); NaN for a
    gain outside (0, 1), which no such pole gives."""
    if not 0 < gain < 1:
        return float("nan")
    h = 1 / (2 * f_chop)
    lo, hi = h * 1e-6, h * 1e6  # the kept share falls from 1 to 0 as tau grows
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if 1 - chopper_loss(mid, h) > gain else (lo, mid)
    return 1 / (2 * math.pi * math.sqrt(lo * hi))
