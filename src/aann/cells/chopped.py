"""The chopped differential charging path: the charging source inside the chopper.

The native study (docs/cells.md, "A network with the glue cells") learns XOR on the cells'
laws only if the charging cell's own offset is inside the chopper, its output current
demodulated on its way into the weight's integrator, and the weight leaks less than
``1/1000`` of the cell's ``R_out``. A single-ended current cannot be sign-reversed by
switches alone, so the path is fully differential:

* ``aann_charging_diff`` (:data:`aann.cells.library.CHARGING_DIFF`): the charging cell's
  input stage, each of its currents ``Ia``, ``Ib`` sunk from an output of its own by a
  cascoded mirror, each output sourced ``I0`` by a cascoded PMOS: ``I(outp) - I(outn) =
  -Keta Vgrad`` out of the cell, at ``Vgrad`` = 0 both zero nominally; its own
  common-mode loop holds the outputs' mean at ``vcm``;
* the demodulator: a cross-coupled quad of ``switch`` cells, clocked by ``s`` and its
  complement ``sb`` (``s`` high, ``s = +1``: ``outp`` to ``inp``, ``outn`` to ``inn``;
  ``s`` low: crossed);
* ``aann_integrator_fd`` (:data:`aann.cells.library.INTEGRATOR_FD`): a folded-cascode OTA
  with common-mode feedback, ``C`` from ``inp`` to ``outn`` and from ``inn`` to ``outp``;
  the weight is ``W = V(outp) - V(outn)``, ``dW/dt = Icharged/C``, ``Icharged = -Keta
  Vgrad`` (the sign of Eq. 9 on a capacitor: no inversion), ``C`` the capacitor of each
  side.

In a network the gradient reaching the cell is chopped upstream (the multipliers'
modulators): the testbench gives ``Vgrad = s(t) Vg`` while the chopper runs. Everything
before the quad (the cell's mismatch and offset) is demodulated once and averages out over
each period; what is after it (the integrator's offset ``Vos`` across the conductance
that the cell's outputs present, and across the capacitance of the cell's output nodes,
which change sides at every edge: ``4 Cp f Vos``) and the quad's own mismatch (charge
injection, timing) are not.

This module measures the path in ngspice with the SkyWater models:

* :func:`measure_open_loop`: the FD amplifier alone, as
  :func:`aann.cells.integrator.measure_open_loop` does the single-ended one: the DC gain
  over the differential output ``+-OUTPUT_HALF`` (a servo per output voltage, open at
  1 Hz), the input offset, the outputs' common mode, the differential loop gain with
  ``C`` = 1 and 20 pF per side (Tian's method on the two halves driven in antiphase) and
  the supply current;
* :func:`measure_path`: one transient of several copies of the whole path. Each copy holds
  with ``s = +1`` for :data:`T_HOLD`, is chopped for ``periods`` periods at ``f_chop``,
  then stopped at ``s = +1`` (the cell's offset un-chopped) for :data:`T_STOP`. Rates of
  the weight while chopped: the weight sampled once a period at the same phase, over the
  periods after the first ``skip`` (the loops settle from the start of the chopping in
  about a period); while stopped: a line over each half of the stopped phase. Copies:
  the **Keta copy** (``Vgrad = s Vg`` chopped; stopped, ``+Vg`` then ``-Vg``, so that
  ``Keta`` = ``-C (rate(+Vg) - rate(-Vg)) / (2 Vg)`` holds without the copy's offset) and
  the offset copies, ``Vgrad`` = 0: nominal (``seed`` None), two, with the weight from
  ``+W0`` and ``-W0``: the offset current is ``C (rate(+W0) + rate(-W0))/2``, the leak
  ``R = 2 W0 / (C (rate(-W0) - rate(+W0)))``; with the mismatch models (``seed``),
  ``samples`` copies from ``W`` = 0, each its own draw of every device (one Monte Carlo
  sample each). The offset as an equivalent input ``Voff = -I/Keta`` (``Keta`` stopped),
  as a charge per clock edge ``I/(2 f_chop)``, the integrator's input offset (the mean of
  ``V(inp) - V(inn)`` over the chopped periods), the weight's ripple, the supply currents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError
from .integrator import (
    F_GAIN,
    FEEDBACK,
    LOAD,
    R_DC,
    SERVO_C,
    SERVO_R,
    crossing,
    output_points,
    return_ratio,
    slope,
)
from .integrator import OpenLoop as _OpenLoop
from .library import CELLS, GLUE, VCM, VDD
from .models import check_corner, run_with_models, testbench_head

OUTPUT_HALF = 0.4
"""V: the differential output range, ``W`` in ``+-OUTPUT_HALF`` (each output ``+-W/2``)."""
OUTPUT_POINTS = 5
"""Differential outputs of the gain sweep (odd: ``W`` = 0 is one)."""
# LOAD (on each output), FEEDBACK (per side), R_DC, SERVO_R, SERVO_C, F_GAIN: the
# single-ended integrator's (aann.cells.integrator)

F_CHOP = 400e3
"""Hz: the chopping frequency (4 periods a 10 us row)."""
C_WEIGHT = 16.6e-12
"""F per side: the weight capacitor (``lambda`` = 30 at 10 us rows with ``Keta`` 49.7 uS)."""
V_GRAD = 2e-3
"""V: the gradient of the Keta copy (``W`` moves 6 mV/us on 16.6 pF)."""
W_KETA = 0.15
"""V: where the Keta copy's weight starts (it falls while ``Vgrad`` > 0)."""
W_DRIFT = 0.3
"""V: the nominal offset copies start at ``+-W_DRIFT`` (the leak)."""
EDGE = 1e-9
"""s: the clocks' rise and fall times (``s`` and ``sb`` cross at mid-edge)."""
T_HOLD = 0.5e-6
"""s: ``s = +1`` before the chopping starts (the loops settle from the ``.ic``)."""
T_STOP = 3e-6
"""s: the chopper stopped at ``s = +1`` after the chopped periods (the Keta copy: ``+Vg``
over the first half, ``-Vg`` over the second)."""
T_SKIP = 0.5e-6
"""s: the stopped rates are fitted from this long after each half's start."""
PERIODS, SKIP = 8, 4
"""Chopped periods, and how many of them the chopped rates skip."""
RELTOL = 1e-5
"""ngspice's ``reltol`` of the path's transient (at 1e-4 the residual moves by up to a
third of a microvolt, input-referred)."""


def _fd():
    return GLUE["integrator_fd"]


def _cell(nested: bool = False):
    return GLUE["charging_diff_ref" if nested else "charging_diff"]


def open_loop_testbench(corner: str = "tt", temp: float = 27.0, half: float = OUTPUT_HALF,
                        points: int = OUTPUT_POINTS, feedback=FEEDBACK, load: float = LOAD,
                        seed: int | None = None) -> str:
    """The netlist of :func:`measure_open_loop`: ``points`` servo copies (``V(outp) -
    V(outn)`` at ``v`` over ``+-half``: an ideal source sets ``V(inp) - V(inn) = -(W -
    v)`` low-passed by ``1e9 Ohm x 1 F``, split in antiphase around ``vcm``; a 1 V
    differential AC source in series), each with its own ``vdd`` ammeter ``Vp<k>``, and two
    loop-gain copies per feedback capacitor (``Xl<j>0``: voltage drive, ``Xl<j>1``: current
    drive, both halves driven in antiphase); an ``.op`` and an ``.ac``."""
    cell, outputs = _fd(), output_points(half, points)
    lines = testbench_head(f"aann: {cell.name} open loop", corner, temp, cell.text,
                           seed=seed)
    for k, v in enumerate(outputs):
        lines += [f"* servo: V(outp{k}) - V(outn{k}) at {v:+.4f} V, open above 1e-9 Hz",
                  f"Es{k} e{k}a vcm on{k} op{k} 1", f"Vt{k} e{k} e{k}a {v:.9g}",
                  f"Rs{k} e{k} f{k} {SERVO_R:g}", f"Cs{k} f{k} vcm {SERVO_C:g}",
                  f"Ep{k} h{k} vcm f{k} vcm 0.5", f"En{k} g{k} vcm vcm f{k} 0.5",
                  f"Vap{k} ip{k} h{k} DC 0 AC 0.5", f"Van{k} in{k} g{k} DC 0 AC 0.5 180",
                  f"Vp{k} vdd p{k} 0",
                  f"Xg{k} ip{k} in{k} op{k} on{k} vcm p{k} 0 {cell.name}",
                  f"Clp{k} op{k} 0 {load:g}", f"Cln{k} on{k} 0 {load:g}"]
    for j, cf in enumerate(feedback):
        for m, (va, ia) in enumerate(((1, 0), (0, 1))):
            tag = f"{j}{m}"
            lines += [f"* loop gain, C = {cf:g} F per side, {('voltage', 'current')[m]} drive",
                      f"Xl{tag} xp{tag} xn{tag} yp{tag} yn{tag} vcm vdd 0 {cell.name}",
                      f"Vip{tag} xp{tag} np{tag} DC 0 AC {va}",
                      f"Iip{tag} 0 xp{tag} DC 0 AC {ia}",
                      f"Vin{tag} xn{tag} nn{tag} DC 0 AC {va} 180",
                      f"Iin{tag} 0 xn{tag} DC 0 AC {ia} 180",
                      f"Cfp{tag} np{tag} yn{tag} {cf:g}", f"Rfp{tag} np{tag} yn{tag} {R_DC:g}",
                      f"Cfn{tag} nn{tag} yp{tag} {cf:g}", f"Rfn{tag} nn{tag} yp{tag} {R_DC:g}",
                      f"Cyp{tag} yp{tag} 0 {load:g}", f"Cyn{tag} yn{tag} 0 {load:g}"]
    lines += [".op", ".ac dec 20 1 1e9", ".end", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class OpenLoop(_OpenLoop):
    """The FD amplifier (:func:`measure_open_loop`): the single-ended amplifier's figures
    (:class:`aann.cells.integrator.OpenLoop`) for the differential outputs ``V`` (V),
    ``Vin`` being ``V(inp) - V(inn)``, and ``out_cm`` (V), the outputs' mean at each."""

    out_cm: tuple = ()


def measure_open_loop(corner: str = "tt", temp: float = 27.0, half: float = OUTPUT_HALF,
                      points: int = OUTPUT_POINTS, feedback=FEEDBACK, load: float = LOAD,
                      seed: int | None = None) -> OpenLoop:
    """Gain over the differential output range, offset, common mode, loop gain with each
    feedback capacitor and supply of ``aann_integrator_fd`` (one ngspice run)."""
    check_corner(corner)
    V = output_points(half, points)
    plots = run_with_models(open_loop_testbench(corner, temp, half, points, feedback, load,
                                                seed), name="integrator_fd_ac")
    op = next(p for p in plots if p.plotname.lower().startswith("operating"))
    ac = next(p for p in plots if p.plotname.lower().startswith("ac"))
    freq = np.real(ac.sweep)
    k = int(np.argmin(np.abs(freq - F_GAIN)))

    def opv(name):
        return float(np.real(op[name][0]))

    gain = [float(20 * np.log10(np.abs(ac[f"v(op{i})"][k] - ac[f"v(on{i})"][k])))
            for i in range(points)]
    vin = [opv(f"v(ip{i})") - opv(f"v(in{i})") for i in range(points)]
    cm = [(opv(f"v(op{i})") + opv(f"v(on{i})")) / 2 for i in range(points)]
    loops = []
    for j in range(len(feedback)):
        T = return_ratio(ac[f"v(xp{j}0)"], ac[f"i(vip{j}0)"], ac[f"v(xp{j}1)"],
                         ac[f"i(vip{j}1)"])
        loops.append((float(20 * np.log10(np.abs(T[0]))), *crossing(freq, T)))
    return OpenLoop(corner, float(temp), tuple(float(v) for v in V), tuple(gain), tuple(vin),
                    tuple(float(c) for c in feedback), tuple(x[0] for x in loops),
                    tuple(x[1] for x in loops), tuple(x[2] for x in loops),
                    opv(f"i(vp{points // 2})"), out_cm=tuple(cm))


def toggles(start_high: bool, times, t_end: float, edge: float) -> str:
    """A PWL logic clock: high (``start_high``) or low from 0, toggling (edges of
    ``edge``) at each of ``times``, held to ``t_end`` (the chopper's clocks here and in
    :func:`aann.cells.cosim.cosim_netlist`)."""
    level = VDD if start_high else 0.0
    points = [(0.0, level)]
    for t in times:
        points += [(t, level), (t + edge, VDD - level)]
        level = VDD - level
    points.append((t_end, level))
    return "PWL(" + " ".join(f"{t:.12g} {v:g}" for t, v in points) + ")"


def _clock(t0: float, period: float, periods: int, edge: float, t_end: float,
           high_first: bool) -> str:
    """A PWL clock: high (``high_first``) or low until ``t0``, toggling every half period
    for ``periods`` periods (edges of ``edge``), then back at its first level."""
    return toggles(high_first, _half_periods(t0, period, periods), t_end, edge)


def _half_periods(t0: float, period: float, periods: int) -> list:
    """The instants of :func:`_clock`'s edges: from ``t0`` every half ``period``."""
    times, t = [], t0
    for _ in range(2 * periods):
        times.append(t)
        t += period / 2
    return times


def _timeline(f_chop: float, periods: int) -> tuple:
    """``(T, t_chop, t_stop, t_end)``: the period, when the chopping starts and stops, the
    transient's end."""
    T = 1 / f_chop
    t_chop = T_HOLD
    t_stop = t_chop + periods * T
    return T, t_chop, t_stop, t_stop + T_STOP


def path_lines(tag: str, vgrad: str, C: float, load: float = LOAD,
               nested: bool = False) -> list:
    """One copy of the path: ``Xc<tag>`` (the cell, ``vgrad`` its gradient node, supply
    through ``vdc``), the quad ``XS<tag>1..4`` (clocks ``s``, ``sb``), ``Xi<tag>`` (the
    integrator, supply through ``vdi``), ``C`` per side, ``load`` on each output. Nodes:
    ``op``/``on`` (the cell's outputs), ``ip``/``in`` (the virtual grounds), ``wp``/``wn``
    (the weight's sides), each followed by ``tag``. ``nested``: the cell is
    ``aann_charging_diff_ref`` on ``gp<tag>`` (``vgrad``) and ``gr<tag>`` (``vref``), which
    :func:`input_quad_lines` feeds, the demodulator clocked by ``d``, ``db`` (``s XOR
    s2``)."""
    cell, sw, fd = _cell(nested).name, CELLS["switch"].name, _fd().name
    op, on, ip, inn, wp, wn = (f"{n}{tag}" for n in ("op", "on", "ip", "in", "wp", "wn"))
    c, cb = ("d", "db") if nested else ("s", "sb")
    cell_in = f"gp{tag} gr{tag}" if nested else vgrad
    return [f"* path {tag}: cell, demodulator quad, FD integrator",
            f"Xc{tag} {cell_in} teach {op} {on} vcm vdc 0 {cell}",
            f"XS{tag}1 {op} {ip} {c} {cb} vdd 0 {sw}", f"XS{tag}2 {on} {inn} {c} {cb} vdd 0 {sw}",
            f"XS{tag}3 {op} {inn} {cb} {c} vdd 0 {sw}", f"XS{tag}4 {on} {ip} {cb} {c} vdd 0 {sw}",
            f"Xi{tag} {ip} {inn} {wp} {wn} vcm vdi 0 {fd}",
            f"Cp{tag} {ip} {wn} {C:g}", f"Cn{tag} {inn} {wp} {C:g}",
            f"Clp{tag} {wp} 0 {load:g}", f"Cln{tag} {wn} 0 {load:g}"]


def input_quad_lines(tag: str, vgrad: str) -> list:
    """The cells' own chopper of copy ``tag`` (:func:`path_lines` ``nested``): a quad
    ``XI<tag>1..4`` of ``switch`` cells, clocks ``s2``, ``s2b``, swapping ``vgrad`` and
    ``vcm`` into the cell's ``gp<tag>`` and ``gr<tag>``."""
    sw, gp, gr = CELLS["switch"].name, f"gp{tag}", f"gr{tag}"
    return [f"XI{tag}1 {vgrad} {gp} s2 s2b vdd 0 {sw}", f"XI{tag}2 vcm {gr} s2 s2b vdd 0 {sw}",
            f"XI{tag}3 {vgrad} {gr} s2b s2 vdd 0 {sw}", f"XI{tag}4 vcm {gp} s2b s2 vdd 0 {sw}"]


def _starts(seed, samples, W0):
    """The offset copies' starting weights: ``+W0, -W0`` nominal, ``samples`` zeros with
    mismatch."""
    return (W0, -W0) if seed is None else (0.0,) * samples


def path_testbench(corner: str = "tt", temp: float = 27.0, f_chop: float = F_CHOP,
                   periods: int = PERIODS, C: float = C_WEIGHT, vgrad: float = V_GRAD,
                   W0: float = W_DRIFT, seed: int | None = None, samples: int = 4,
                   edge: float = EDGE, load: float = LOAD, reltol: float = RELTOL,
                   vos: float = 0.0, f_inner: float | None = None) -> str:
    """The netlist of :func:`measure_path`: the Keta copy ``k`` (its gradient ``g``: ``s
    Vg`` while chopped, ``+Vg`` then ``-Vg`` while stopped) and the offset copies ``z0,
    z1...`` at ``Vgrad`` = 0 (:func:`_starts`), sharing the clocks ``s``, ``sb``. ``vos``
    (V): a source in series with each offset copy's integrator input ``inp`` (``Vos<tag>``,
    the amplifier's gate ``vos`` above the virtual ground): a known integrator offset.
    ``f_inner`` (Hz): the cells' own chopper (``path_lines(nested=True)``), its clock
    ``s2`` at phase 90 while ``s`` chops, held high before and after; the demodulators'
    ``d = s XOR s2``."""
    T, t_chop, t_stop, t_end = _timeline(f_chop, periods)
    nested = f_inner is not None
    fd, cell, sw = _fd(), _cell(nested), CELLS["switch"]
    t_flip = t_stop + T_STOP / 2
    sign = f"PWL(0 1 {t_flip:.12g} 1 {t_flip + edge:.12g} -1 {t_end:.12g} -1)"
    note = f", f_chop {f_chop:g} Hz" + ("" if seed is None else f", mismatch seed {seed}")
    lines = testbench_head("aann: chopped differential charging path", corner, temp,
                           cell.text, sw.text, fd.text, seed=seed, note=note) + [
        f"Vt teach 0 {VDD:g}", "Vdc vdd vdc 0", "Vdi vdd vdi 0",
        "Vs s 0 " + _clock(t_chop, T, periods, edge, t_end, True),
        "Vsb sb 0 " + _clock(t_chop, T, periods, edge, t_end, False),
        *(_nested_clocks(t_chop, T, periods, f_inner, edge, t_end) if nested else []),
        "* the Keta copy's gradient: s Vg (the chopped gradient a network delivers),",
        "* +Vg then -Vg once stopped (m: 1, then -1 over the stopped phase's second half)",
        f"Vm m 0 {sign}", f"Bg g vcm V = {vgrad:.9g} * (V(s) - V(sb)) / {VDD:g} * V(m)"]
    ics, quads = [], []
    for tag, vg, w in [("k", "g", W_KETA)] + [(f"z{i}", "vcm", w)
                                              for i, w in enumerate(_starts(seed, samples,
                                                                            W0))]:
        copy = path_lines(tag, vg, C, load, nested)
        quads += input_quad_lines(tag, vg) if nested else []
        if vos and tag != "k":
            copy = [f"Vos{tag} ipx{tag} ip{tag} {vos:.9g}"] + [
                line.replace(f"Xi{tag} ip{tag} ", f"Xi{tag} ipx{tag} ") for line in copy]
        lines += copy
        ics += [f"V(wp{tag})={VCM + w / 2:.9g}", f"V(wn{tag})={VCM - w / 2:.9g}",
                f"V(ip{tag})={VCM:g}", f"V(in{tag})={VCM:g}"]
    # the input quads after every copy: the copies' devices come in the order they have
    # without them (with mismatch their draws still move a little: offsets by up to 11 %)
    lines += quads + [".ic " + " ".join(ics), f".option reltol={reltol:g}",
              f".tran {T / 200:g} {t_end:.12g}", ".end", ""]
    return "\n".join(lines)


def _nested_clocks(t_chop: float, T: float, periods: int, f_inner: float, edge: float,
                   t_end: float) -> list:
    """PWL lines of the cells' own chopper ``s2``, ``s2b`` (``f_inner T`` periods at phase
    90 in each of the ``periods`` periods ``T`` of ``s`` from ``t_chop``; high before and
    after) and of the demodulators' ``d = s XOR s2``, ``db``."""
    from ..cancellation import Chopper

    s2 = Chopper(periods_per_row=round(f_inner * T), phase=90)  # as the networks' s2
    inner = [t_chop + t for t in s2.toggle_times(T, periods)]
    both = sorted(inner + _half_periods(t_chop, T, periods))
    return [f"Vs2 s2 0 {toggles(True, inner, t_end, edge)}",
            f"Vs2b s2b 0 {toggles(False, inner, t_end, edge)}",
            f"Vd d 0 {toggles(True, both, t_end, edge)}",
            f"Vdb db 0 {toggles(False, both, t_end, edge)}"]


@dataclass(frozen=True)
class ChoppedPath:
    """:func:`measure_path`. ``f_chop`` (Hz), ``C`` (F per side), ``vgrad`` (V, the Keta
    copy's), ``seed`` (None: nominal devices), ``periods``/``skip``, ``f_inner`` (Hz, the
    cells' own chopper; None: none).

    ``keta_chopped``, ``keta_stopped`` (S): the path's ``Keta``, ``-C rate / Vg`` chopped
    (``Vgrad = s Vg``), and from the stopped ``+-Vg`` rates.

    The offset, one entry per measurement (nominal: the ``+-W0`` pair's mean; with
    mismatch: each sample): ``I_chopped``, ``I_stopped`` (A), the current into the weight
    (``C dW/dt``) with the chopper running and stopped at ``s = +1``; ``Vos`` (V) the
    integrator's input offset, the mean of ``V(inp) - V(inn)`` over the chopped periods;
    ``ripple`` (V) the weight's peak-to-peak over the last chopped period.
    ``R_leak_chopped``, ``R_leak_stopped`` (Ohm): the leak from the ``+-W0`` pair (NaN with
    mismatch). ``I_cell``, ``I_integrator`` (A): supply of one cell, one integrator (the
    copies' mean, at the end)."""

    corner: str
    temp_C: float
    seed: int | None
    f_chop: float
    C: float
    vgrad: float
    periods: int
    skip: int
    f_inner: float | None
    keta_chopped: float
    keta_stopped: float
    I_chopped: tuple
    I_stopped: tuple
    Vos: tuple
    ripple: tuple
    R_leak_chopped: float
    R_leak_stopped: float
    I_cell: float
    I_integrator: float

    @property
    def Voff_chopped(self) -> tuple:
        """V: ``-I_chopped / Keta``, the residual offset at the cell's input."""
        return tuple(-i / self.keta_stopped for i in self.I_chopped)

    @property
    def Voff_stopped(self) -> tuple:
        """V: ``-I_stopped / Keta``, the un-chopped offset at the cell's input."""
        return tuple(-i / self.keta_stopped for i in self.I_stopped)

    @property
    def Q_edge(self) -> tuple:
        """C: the residual charge into the weight per clock edge, ``I_chopped / (2 f)``."""
        return tuple(i / (2 * self.f_chop) for i in self.I_chopped)

    @property
    def keta_loss(self) -> float:
        """``1 - keta_chopped / keta_stopped``: what the edges cost the signal."""
        return 1 - self.keta_chopped / self.keta_stopped


def measure_path(corner: str = "tt", temp: float = 27.0, f_chop: float = F_CHOP,
                 periods: int = PERIODS, skip: int = SKIP, C: float = C_WEIGHT,
                 vgrad: float = V_GRAD, W0: float = W_DRIFT, seed: int | None = None,
                 samples: int = 4, edge: float = EDGE, load: float = LOAD,
                 reltol: float = RELTOL, vos: float = 0.0,
                 f_inner: float | None = None, timeout: float = 300) -> ChoppedPath:
    """The chopped path's ``Keta``, residual offset, leak and supply, chopped and stopped
    (:func:`path_testbench`, one ngspice run). ``seed``: the corner's mismatch models,
    ``samples`` offset copies (each its own draw); ``vos``: an offset added to each offset
    copy's integrator (the residual it leaves is the path's conductance at the virtual
    ground times it); ``f_inner``: the cells' own chopper, nested (Hz, an even multiple
    of ``f_chop``); ``timeout``: ngspice's (s; many samples with ``f_inner`` take
    minutes)."""
    check_corner(corner)
    if not (isinstance(periods, int) and isinstance(skip, int) and 0 <= skip
            and periods - skip >= 2):
        raise ValidationError(f"periods = {periods}, skip = {skip}: the chopped rates need "
                              "at least two periods after the skipped ones (integers, "
                              "periods - skip >= 2)")
    if f_chop <= 0 or not 0 < 20 * edge < 1 / f_chop:
        raise ValidationError(f"f_chop = {f_chop:g} Hz with edges of {edge:g} s: give "
                              "f_chop > 0 and edges shorter than a twentieth of the period")
    if not 0 < W0 <= 0.3 or C <= 0 or vgrad <= 0:
        raise ValidationError(f"the path test needs 0 < W0 <= 0.3 V (inside the output "
                              f"range), C > 0 and vgrad > 0; got W0 = {W0:g}, C = {C:g}, "
                              f"vgrad = {vgrad:g}")
    from ..cancellation import nesting  # the networks' rule: ratio = s2's periods a period

    ratio = None if f_inner is None else f_inner / f_chop
    if ratio is not None and (round(ratio) < 2 or abs(ratio - round(ratio)) > 1e-9
                              or nesting(round(ratio), 1) or 20 * edge >= 1 / f_inner):
        raise ValidationError(f"f_inner = {f_inner:g} Hz: the cells' own chopper needs an "
                              f"even multiple of f_chop = {f_chop:g} Hz (so that none of its "
                              "edges meets the chopper's), with edges shorter than a "
                              "twentieth of its period")
    if seed is not None and not (isinstance(samples, int) and samples >= 1):
        raise ValidationError(f"samples = {samples!r}: give one mismatch sample or more")
    plot = run_with_models(path_testbench(corner, temp, f_chop, periods, C, vgrad, W0, seed,
                                          samples, edge, load, reltol, vos, f_inner),
                           name="chopped_path", timeout=timeout)[0]
    T, t_chop, t_stop, t_end = _timeline(f_chop, periods)
    t = np.real(plot.sweep)

    def v(name):
        return np.real(plot[name])

    def weight(tag):
        return v(f"v(wp{tag})") - v(f"v(wn{tag})")

    # once a period, at the middle of the s = +1 half (the second half of each period)
    ts = t_chop + np.arange(skip, periods) * T + 0.75 * T

    def chopped_rate(w):
        return float(np.mean(np.diff(np.interp(ts, t, w)))) / T

    half = T_STOP / 2

    def stopped_rates(w):
        return (slope(t, w, t_stop + T_SKIP, t_stop + half),
                slope(t, w, t_stop + half + T_SKIP, t_end))

    wk = weight("k")
    keta_c = -C * chopped_rate(wk) / vgrad
    rk = stopped_rates(wk)
    keta_s = -C * (rk[0] - rk[1]) / (2 * vgrad)
    starts = _starts(seed, samples, W0)
    tags = [f"z{i}" for i in range(len(starts))]
    rc = [chopped_rate(weight(tag)) for tag in tags]
    rs = [float(np.mean(stopped_rates(weight(tag)))) for tag in tags]
    chop = (t >= ts[0]) & (t <= ts[-1])
    vid = [float(np.trapezoid((v(f"v(ip{tag})") - v(f"v(in{tag})"))[chop], t[chop])
                 / (t[chop][-1] - t[chop][0])) for tag in tags]
    last = (t >= t_stop - T) & (t <= t_stop)
    ripple = [float(np.ptp(weight(tag)[last])) for tag in tags]
    if seed is None:  # the +-W0 pair: its mean is the offset, its difference the leak
        I_c = (C * (rc[0] + rc[1]) / 2,)
        I_s = (C * (rs[0] + rs[1]) / 2,)
        vid, ripple = (float(np.mean(vid)),), (float(np.mean(ripple)),)
        R_c = 2 * W0 / (C * (rc[1] - rc[0]))
        R_s = 2 * W0 / (C * (rs[1] - rs[0]))
    else:
        I_c, I_s = tuple(C * r for r in rc), tuple(C * r for r in rs)
        vid, ripple = tuple(vid), tuple(ripple)
        R_c = R_s = math.nan
    copies = 1 + len(starts)
    end = t >= t_end - T_SKIP
    return ChoppedPath(corner, float(temp), seed, float(f_chop), float(C), float(vgrad),
                       periods, skip, None if f_inner is None else float(f_inner),
                       float(keta_c), float(keta_s), I_c, I_s, vid, ripple,
                       float(R_c), float(R_s), float(np.mean(v("i(vdc)")[end])) / copies,
                       float(np.mean(v("i(vdi)")[end])) / copies)


__all__ = ["C_WEIGHT", "F_CHOP", "FEEDBACK", "LOAD", "OUTPUT_HALF", "ChoppedPath", "OpenLoop",
           "measure_open_loop", "measure_path", "open_loop_testbench", "path_lines",
           "path_testbench"]
