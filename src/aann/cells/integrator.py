"""The integrator cell (``aann_integrator``): an amplifier that holds a weight.

A weight the charging cell charges directly leaks through the cell's output resistance
``R_out`` (docs/cells.md, "A network with the glue cells"). In an integrator the weight
capacitor ``C`` sits in the feedback of an amplifier, from its inverting input ``in`` to
``out``, and the charging cell drives ``in``, a virtual ground held at ``vcm``: a current
``I`` into ``in`` moves ``V(out)`` at ``-I/C``, and ``R_out`` sees only ``V(in) - Vcm =
Voff - (V(out) - Vcm)/A``, so the weight ``V(out) - V(in)`` leaks as through ``A R_out``.
This module measures the cell (:data:`aann.cells.library.INTEGRATOR`) in ngspice with the
SkyWater models, at a corner and a temperature:

* :func:`measure_open_loop` (one run, an ``.op`` and an ``.ac``):

  - the **open-loop DC gain over the output range**: for each output voltage a copy of
    the amplifier in a servo loop: an ideal source sets ``V(in) = Vcm + (V(out) -
    Vtarget)`` through a low-pass of ``1e9 Ohm x 1 F``, so at the operating point
    ``V(out)`` sits at ``Vtarget`` (within ``V(in) - Vcm``, tens of uV) whatever the
    offset, while at :data:`F_GAIN` (1 Hz) the servo is open (its loop gain there is
    ``A / (2 pi f R C)``, below 1e-5): an AC source of 1 V in series with ``in`` then
    gives the gain ``|V(out)|``, the DC gain (the amplifier's own pole is near 1 kHz);
  - the **input-referred offset**: ``V(in) - Vcm`` at the operating point of the copy
    whose output is at ``Vcm`` (and at every output: its slope is ``-1/A``);
  - the **loop gain** of the integrator, the feedback capacitor ``C_f`` from ``in`` to
    ``out``, :data:`LOAD` on ``out`` (the multiplier gates a weight drives) and
    :data:`R_DC` across ``C_f`` for the operating point (its pole, 0.16 Hz at 1 pF, is far
    below where the loop gain crosses 1): Tian's method (M. Tian et al., "Striving for
    small-signal stability", IEEE Circuits & Devices 2001), a 0 V source in series with
    ``in`` and a current source into the amplifier's side of it, each driven in its own
    copy of the circuit; the return ratio ``T = -1 / (1 - 1 / (2 (I1 V2 - V1 I2) + V1 +
    I2))`` (``V``: the amplifier side's voltage, ``I``: the series source's current; 1:
    voltage drive, 2: current drive) takes the loading of both sides into account. The
    unity-gain frequency and the phase margin ``180 + arg T`` there;
  - the **supply current** out of ``vdd`` at the operating point (output at ``Vcm``).

* :func:`measure_integration`: a transient, a DC current ``I`` into ``in`` with ``C``
  from ``in`` to ``out`` and :data:`LOAD` on ``out``: the slope of ``V(out)`` (a line
  fitted over the output's range) against ``-I/C``.

* :func:`measure_drift`: the charging cell (learning, ``Vgrad`` = 0) on a weight ``C``,
  once at the integrator's virtual ground and once on the capacitor directly (to
  ``vcm``, as the cells' network has it), the weight starting at ``+W0`` and ``-W0``
  (four copies, one transient): how far each weight moves. The part of the drift that
  grows with the weight is the leak, ``G = C (rate(-W0) - rate(+W0)) / (2 W0)``; the
  rest, ``C (rate(+W0) + rate(-W0))/2``, the cell's offset current ``I0`` (with the
  integrator, ``-I0``: the sign inverted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError
from .library import CELLS, GLUE, VCM, VDD
from .models import check_corner, run_with_models, testbench_head

OUTPUT_HALF = 0.4
"""V: the output range, ``Vcm +- OUTPUT_HALF`` (the weights a multiplier reads)."""
OUTPUT_POINTS = 9
"""Output voltages of the gain sweep over the range (odd: ``Vcm`` is one)."""
LOAD = 1e-12
"""F on ``out``: the gates of the multipliers a weight drives."""
FEEDBACK = (1e-12, 20e-12)
"""F: the feedback capacitors of the loop-gain measurement (the weight capacitors)."""
R_DC = 1e12
"""Ohm across the feedback capacitor in the loop-gain testbench: the operating point."""
SERVO_R, SERVO_C = 1e9, 1.0
"""Ohm, F: the servo's low-pass in the gain testbench (``R C`` = 1e9 s)."""
F_GAIN = 1.0
"""Hz: where the AC analysis reads the DC gain."""
AC_START, AC_STOP, AC_PER_DECADE = 1.0, 1e9, 20


def _cell():
    return GLUE["integrator"]


def output_points(half: float, points: int) -> np.ndarray:
    """``points`` outputs (V, less ``Vcm``) over ``+-half``: an odd number, 0 the middle."""
    if points < 3 or points % 2 == 0:
        raise ValidationError(f"points = {points}: give an odd number, 3 or more (an output "
                              "of 0 is the middle point)")
    return np.linspace(-half, half, points)


def open_loop_testbench(corner: str = "tt", temp: float = 27.0,
                        half: float = OUTPUT_HALF, points: int = OUTPUT_POINTS,
                        feedback=FEEDBACK, load: float = LOAD) -> str:
    """The netlist of :func:`measure_open_loop`: ``points`` servo copies (output at
    ``Vcm + v``, ``v`` over ``+-half``), each with its own ``vdd`` ammeter ``Vp<k>``, and
    two loop-gain copies per feedback capacitor (``Xl<j>0``: voltage drive, ``Xl<j>1``:
    current drive); an ``.op`` and an ``.ac``."""
    cell, outputs = _cell(), output_points(half, points)
    lines = testbench_head(f"aann: {cell.name} open loop", corner, temp, cell.text)
    for k, v in enumerate(outputs):
        lines += [f"* servo: V(out{k}) at Vcm {v:+.4f} V, open above 1e-9 Hz",
                  f"Vt{k} t{k} 0 {VCM + v:.9g}", f"Es{k} e{k} vcm out{k} t{k} 1",
                  f"Rs{k} e{k} f{k} {SERVO_R:g}", f"Cs{k} f{k} vcm {SERVO_C:g}",
                  f"Va{k} in{k} f{k} DC 0 AC 1", f"Vp{k} vdd p{k} 0",
                  f"Xg{k} in{k} out{k} vcm p{k} 0 {cell.name}", f"Cl{k} out{k} 0 {load:g}"]
    for j, cf in enumerate(feedback):
        for m, (va, ia) in enumerate(((1, 0), (0, 1))):
            tag = f"{j}{m}"
            lines += [f"* loop gain, C_f = {cf:g} F, {('voltage', 'current')[m]} drive",
                      f"Xl{tag} x{tag} y{tag} vcm vdd 0 {cell.name}",
                      f"Vi{tag} x{tag} n{tag} DC 0 AC {va}", f"Ii{tag} 0 x{tag} DC 0 AC {ia}",
                      f"Cf{tag} n{tag} y{tag} {cf:g}", f"Rf{tag} n{tag} y{tag} {R_DC:g}",
                      f"Cy{tag} y{tag} 0 {load:g}"]
    lines += [".op", f".ac dec {AC_PER_DECADE} {AC_START:g} {AC_STOP:g}", ".end", ""]
    return "\n".join(lines)


def return_ratio(V1, I1, V2, I2):
    """Tian's return ratio from the voltage-drive (``V1``, ``I1``) and current-drive
    (``V2``, ``I2``) runs: positive where the loop's feedback is negative."""
    V1, I1, V2, I2 = (np.asarray(a, complex) for a in (V1, I1, V2, I2))
    return -1 / (1 - 1 / (2 * (I1 * V2 - V1 * I2) + V1 + I2))


def crossing(freq, T) -> tuple[float, float]:
    """The unity-gain frequency (Hz, interpolated in log-log) of the loop gain ``T`` and
    the phase margin there (degrees, ``180 + arg T``, the phase unwrapped from the lowest
    frequency); NaN, NaN where ``|T|`` never falls below 1."""
    freq = np.real(np.asarray(freq))
    mag, phase = np.abs(T), np.degrees(np.unwrap(np.angle(T)))
    below = np.nonzero(mag < 1)[0]
    if below.size == 0 or below[0] == 0:
        return float("nan"), float("nan")
    k = below[0]
    lf, lm = np.log(freq[k - 1:k + 1]), np.log(mag[k - 1:k + 1])
    x = lf[0] - lm[0] * (lf[1] - lf[0]) / (lm[1] - lm[0])
    return float(np.exp(x)), float(180 + np.interp(x, lf, phase[k - 1:k + 1]))


@dataclass(frozen=True)
class OpenLoop:
    """The amplifier measured by :func:`measure_open_loop`. ``V`` (V): the outputs less
    ``Vcm``; ``gain_dB`` (dB) the DC open-loop gain at each, ``min_gain_dB`` the least;
    ``Vin`` (V) ``V(in) - Vcm`` at each (the offset plus ``-V/A``), ``Voff`` (V) that at
    ``V`` = 0, the input-referred offset; ``feedback`` (F) the feedback capacitors and at
    each ``loop_gain_dB`` (dB, at the lowest frequency), ``f_unity`` (Hz) and
    ``phase_margin`` (degrees); ``Isupply`` (A) out of ``vdd`` at ``V`` = 0."""

    corner: str
    temp_C: float
    V: tuple
    gain_dB: tuple
    Vin: tuple
    feedback: tuple
    loop_gain_dB: tuple
    f_unity: tuple
    phase_margin: tuple
    Isupply: float

    @property
    def min_gain_dB(self) -> float:
        return float(min(self.gain_dB))

    @property
    def Voff(self) -> float:
        return float(self.Vin[len(self.V) // 2])


def measure_open_loop(corner: str = "tt", temp: float = 27.0, half: float = OUTPUT_HALF,
                      points: int = OUTPUT_POINTS, feedback=FEEDBACK,
                      load: float = LOAD) -> OpenLoop:
    """Gain over the output range, offset, loop gain with each feedback capacitor and the
    supply current, from one ngspice run (:func:`open_loop_testbench`)."""
    check_corner(corner)
    V = output_points(half, points)
    plots = run_with_models(open_loop_testbench(corner, temp, half, points, feedback, load),
                            name="integrator_ac")
    op = next(p for p in plots if p.plotname.lower().startswith("operating"))
    ac = next(p for p in plots if p.plotname.lower().startswith("ac"))
    freq = np.real(ac.sweep)
    k = int(np.argmin(np.abs(freq - F_GAIN)))
    vcm = float(np.real(op["v(vcm)"][0]))
    gain = [float(20 * np.log10(np.abs(ac[f"v(out{i})"][k] / ac[f"v(in{i})"][k])))
            for i in range(points)]
    vin = [float(np.real(op[f"v(in{i})"][0])) - vcm for i in range(points)]
    loops = []
    for j in range(len(feedback)):
        T = return_ratio(ac[f"v(x{j}0)"], ac[f"i(vi{j}0)"], ac[f"v(x{j}1)"], ac[f"i(vi{j}1)"])
        loops.append((float(20 * np.log10(np.abs(T[0]))), *crossing(freq, T)))
    return OpenLoop(corner, float(temp), tuple(float(v) for v in V), tuple(gain), tuple(vin),
                    tuple(float(c) for c in feedback), tuple(x[0] for x in loops),
                    tuple(x[1] for x in loops), tuple(x[2] for x in loops),
                    float(np.real(op[f"i(vp{points // 2})"][0])))


I_TEST = 10e-9
"""A: the current into ``in`` of the integration test."""
C_TEST = 1e-12
"""F: the feedback capacitor of the integration test."""
V_START = 0.3
"""V: the integration test starts with ``V(out) - Vcm`` here and ramps down through
``-V_START`` (``I`` > 0 into ``in``)."""


def integration_testbench(I: float = I_TEST, C: float = C_TEST, corner: str = "tt",
                          temp: float = 27.0, load: float = LOAD) -> str:
    """The netlist of :func:`measure_integration`: ``I`` into ``in``, ``C`` from ``in`` to
    ``out``, ``load`` on ``out``; ``V(out)`` starts at ``Vcm + V_START`` (``V(in)`` at
    ``Vcm``) and the transient runs until the output has moved by ``2 V_START`` and 10 %."""
    cell = _cell()
    t_stop = 2.2 * V_START * C / abs(I)
    return "\n".join([*testbench_head(f"aann: {cell.name} integrating", corner, temp,
                                       cell.text), f"Iin 0 in {I:g}",
                      f"Cf in out {C:g}", f"Cl out 0 {load:g}",
                      f"X1 in out vcm vdd 0 {cell.name}",
                      f".ic V(out)={VCM + np.sign(I) * V_START:.9g} V(in)={VCM:g}",
                      f".tran {t_stop / 2000:g} {t_stop:g}", ".end", ""])


@dataclass(frozen=True)
class Integration:
    """:func:`measure_integration`: ``I`` (A) into ``in``, ``C`` (F); ``slope`` (V/s) of
    ``V(out)`` fitted over ``V(out) - Vcm`` within ``+-0.9 V_START``, ``ideal`` = ``-I/C``
    (V/s), ``error_pct`` their difference in % of ``ideal``; ``line_pct`` the fitted
    line's largest miss in % of the span fitted; ``Vin_span`` (V) how far the virtual
    ground moved over the fit (``2 V_START / A``)."""

    corner: str
    I: float
    C: float
    slope: float
    ideal: float
    error_pct: float
    line_pct: float
    Vin_span: float


def measure_integration(I: float = I_TEST, C: float = C_TEST, corner: str = "tt",
                        temp: float = 27.0, load: float = LOAD) -> Integration:
    """The integrator's ramp for a DC current into ``in`` (:func:`integration_testbench`)."""
    check_corner(corner)
    if I == 0 or C <= 0:
        raise ValidationError(f"the integration test needs a current I != 0 and C > 0; got "
                              f"I = {I:g} A, C = {C:g} F")
    plot = run_with_models(integration_testbench(I, C, corner, temp, load),
                           name="integrator_tran")[0]
    t = np.real(plot.sweep)
    vcm = np.real(plot["v(vcm)"])
    out, vin = np.real(plot["v(out)"]) - vcm, np.real(plot["v(in)"]) - vcm
    inside = np.abs(out) <= 0.9 * V_START
    slope, b = np.polyfit(t[inside], out[inside], 1)
    miss = out[inside] - (slope * t[inside] + b)
    ideal = -I / C
    return Integration(corner, float(I), float(C), float(slope), ideal,
                       float((slope - ideal) / ideal * 100),
                       float(np.max(np.abs(miss)) / np.ptp(out[inside]) * 100),
                       float(np.ptp(vin[inside])))


C_WEIGHT = 16.6e-12
"""F: the weight capacitor of the drift test (``lambda`` = 30 at 10 us rows with the
charging cell's ``Keta``, docs/cells.md)."""
W_DRIFT = 0.3
"""V: the weights of the drift test start at ``+-W_DRIFT``."""
T_DRIFT = 20e-6
"""s: how long the drift test runs (at ff the cell's offset current alone moves an
integrator's weight 3.5 mV/us: over 100 us a weight from -0.3 V leaves the output range)."""
T_SETTLE = 2e-6
"""s: the drift rates are read from here on (the loops settle from the ``.ic``)."""


def drift_testbench(C: float = C_WEIGHT, W0: float = W_DRIFT, corner: str = "tt",
                    temp: float = 27.0, t_stop: float = T_DRIFT, load: float = LOAD) -> str:
    """The netlist of :func:`measure_drift`: four charging cells, learning with ``Vgrad``
    = 0; ``Xc1``, ``Xc2`` drive the virtual grounds ``in1``, ``in2`` of two integrators
    (``C`` from ``in`` to ``out``, weights ``V(out) - V(in)`` = ``+W0``, ``-W0``), ``Xd1``,
    ``Xd2`` drive ``C`` to ``vcm`` directly (weights ``V(w) - Vcm`` = ``+W0``, ``-W0``)."""
    cell, charging = _cell(), CELLS["charging"]
    lines = testbench_head(f"aann: {cell.name} holding a weight", corner, temp, cell.text,
                           charging.text) + [f"Vt teach 0 {VDD:g}"]
    ics = []
    for k, w in ((1, W0), (2, -W0)):
        lines += [f"Xc{k} vcm teach in{k} vcm vdd 0 {charging.name}",
                  f"Xi{k} in{k} out{k} vcm vdd 0 {cell.name}",
                  f"Cw{k} in{k} out{k} {C:g}", f"Cl{k} out{k} 0 {load:g}",
                  f"Xd{k} vcm teach w{k} vcm vdd 0 {charging.name}", f"Cd{k} w{k} vcm {C:g}"]
        ics += [f"V(out{k})={VCM + w:.9g}", f"V(in{k})={VCM:g}", f"V(w{k})={VCM + w:.9g}"]
    lines += [".ic " + " ".join(ics), ".option reltol=1e-5",
              f".tran {t_stop / 2000:g} {t_stop:g}", ".end", ""]
    return "\n".join(lines)


def slope(t, w, t0, t1) -> float:
    """The slope (per s) of the line fitted to ``w`` over ``t0 <= t <= t1``."""
    inside = (t >= t0) & (t <= t1)
    return float(np.polyfit(t[inside], w[inside], 1)[0])


@dataclass(frozen=True)
class Drift:
    """:func:`measure_drift`, the charging cell on a weight ``C`` (F) from ``+-W0`` (V) for
    ``t`` (s). With the integrator: ``dW_int`` (V), how far each weight (``+W0``, ``-W0``)
    moved from ``T_SETTLE`` to ``t``; ``Vin`` (V) ``V(in) - Vcm`` of each at the end;
    ``R_leak_int`` (Ohm), the leak's resistance ``2 W0 / (C (rate(-W0) - rate(+W0)))`` over
    the same time, ``I_int`` (A) the weight-independent current ``-C (rate(+W0) +
    rate(-W0))/2`` (into ``in``: the cell's offset current). Directly on the capacitor:
    ``dW_direct`` (V) over the first :data:`T_SETTLE` and the whole ``t``, from each start,
    and ``R_leak_direct`` (Ohm) from the rates over the first ``T_SETTLE`` (the chord of the
    cell's output conductance over ``+-W0``: the weight decays with ``R C`` of about
    20 us)."""

    corner: str
    C: float
    W0: float
    t: float
    dW_int: tuple
    Vin: tuple
    R_leak_int: float
    I_int: float
    dW_direct: tuple
    R_leak_direct: float

    @property
    def ratio(self) -> float:
        """How many times slower the integrator's weight leaks than the direct one."""
        return self.R_leak_int / self.R_leak_direct


def measure_drift(C: float = C_WEIGHT, W0: float = W_DRIFT, corner: str = "tt",
                  temp: float = 27.0, t_stop: float = T_DRIFT, load: float = LOAD) -> Drift:
    """The charging cell's drift of a weight, at the integrator's virtual ground and on
    the capacitor directly (:func:`drift_testbench`)."""
    check_corner(corner)
    if not 0 < W0 <= OUTPUT_HALF or t_stop <= 2 * T_SETTLE:
        raise ValidationError(f"the drift test needs 0 < W0 <= {OUTPUT_HALF} V (the output "
                              f"range) and t_stop > {2 * T_SETTLE:g} s; got W0 = {W0:g}, "
                              f"t_stop = {t_stop:g}")
    plot = run_with_models(drift_testbench(C, W0, corner, temp, t_stop, load),
                           name="integrator_drift")[0]
    t = np.real(plot.sweep)
    vcm = np.real(plot["v(vcm)"])
    w_int = [np.real(plot[f"v(out{k})"] - plot[f"v(in{k})"]) for k in (1, 2)]
    w_dir = [np.real(plot[f"v(w{k})"]) - vcm for k in (1, 2)]
    r_int = [slope(t, w, T_SETTLE, t[-1]) for w in w_int]
    r_dir = [slope(t, w, 0.0, T_SETTLE) for w in w_dir]
    end = [float(np.real(plot[f"v(in{k})"][-1]) - vcm[-1]) for k in (1, 2)]
    return Drift(corner, float(C), float(W0), float(t[-1]),
                 tuple(float(w[-1] - np.interp(T_SETTLE, t, w)) for w in w_int), tuple(end),
                 float(2 * W0 / (C * (r_int[1] - r_int[0]))),
                 float(-C * (r_int[0] + r_int[1]) / 2),
                 tuple((float(np.interp(T_SETTLE, t, w) - w[0]), float(w[-1] - w[0]))
                       for w in w_dir),
                 float(2 * W0 / (C * (r_dir[1] - r_dir[0]))))


__all__ = ["C_TEST", "C_WEIGHT", "FEEDBACK", "I_TEST", "LOAD", "OUTPUT_HALF", "Drift",
           "Integration", "OpenLoop", "crossing", "drift_testbench", "integration_testbench",
           "measure_drift", "measure_integration", "measure_open_loop", "open_loop_testbench",
           "return_ratio"]
