"""The analogue switch cell (``aann_switch``, offset cancellation): what it is as a switch.

The autozero of :mod:`aann.cancellation` samples each error path's offset onto a
capacitor ``C_az`` through a switch, and the chopper's modulators are switches; the
block model reads one number of them, ``[offset_cancellation] Q_inj``, the charge the
sampling switch puts on ``C_az`` as it opens. :func:`characterize_switch` measures the
cell (:data:`aann.cells.library.SWITCH`, a transmission gate with half-size dummies on
its hold side ``b``) in one ngspice run with the SkyWater models, at a corner and a
temperature:

* **on-resistance** ``Ron(V)`` over the signal range (``V`` = node voltage - ``Vcm``,
  +-0.3 V): DC, ``b`` held 1 mV below ``a`` (:data:`RON_DROP`), ``Ron = 1 mV / I``;
* **leakage** of the open switch: DC, ``b`` held at ``Vcm`` (a held offset near 0),
  ``a`` at ``Vcm + V``; the current out of ``b`` (into the hold node: > 0 charges it);
* **charge injection and clock feedthrough**: a transient. The switch is closed at
  ``t = 0`` (the operating point puts ``b`` at ``a``'s ``Vcm + V``, tracked exactly),
  opens with clock edges of ``edge`` (default 1 ns; ``clk`` falls as ``clkb`` rises)
  and holds for :data:`HOLD_TIME`; the hold step ``dV = V(b) - (Vcm + V)`` on each hold
  capacitor ``C_h`` (to ``vss``) gives ``Q_inj = C_h dV``, the autozero's key (its
  model adds ``Q_inj / C_az`` to the held value, so ``C_h dV`` is the charge that
  reproduces the step at ``C_az = C_h``, the hold node's own capacitance included).
  ``Q_inj(V) = Q0 + Q1 V`` is fitted over the autozero's range ``|V| <= fit_half``
  (default 0.1 V: the offsets it holds are tens of mV), its error in % of the largest
  ``|Q_inj|`` of the sweep; the line's error over the whole sweep is reported too. The
  same transistors without the dummies (:func:`without_dummies`) run beside, the
  reference the dummies are judged against;
* **supply and clock charge**: the static currents out of ``vdd``, ``clk`` and
  ``clkb`` (closed and open, from the same run) and, per switching cycle, the charge
  each clock source delivers while it rises (a CMOS clock driver draws it from its
  supply; energy ``Vdd * (Q_clk + Q_clkb)`` per cycle): ``clkb`` rises as the switch
  opens, ``clk`` as it closes again :data:`HOLD_TIME` later;
* **area** by the cells' rule (:func:`aann.cells.supply.cell_area`).

The switch's own capacitance on ``b`` and the split of the channel charge between its
sides (set by the edge against ``Ron C_h``) make ``Q_inj`` depend on ``C_h``: below
``Ron C_h`` of about the edge time the hold side gets less of the channel charge than
the half a fast edge gives it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import SimulationError, ValidationError
from .library import CELLS, VCM, VDD, Cell
from .models import check_corner, model_lines, run_with_models

HALF = 0.3
"""The signal range: ``V`` in +-0.3 V around ``Vcm``."""
POINTS = 13
"""Signal points over the range by default (odd: ``V`` = 0 is on the grid)."""
FIT_HALF = 0.1
"""The line ``Q_inj(V) = Q0 + Q1 V`` is fitted over ``|V| <= FIT_HALF`` (the autozero's
held offsets)."""
HOLDS = (0.1e-12, 1e-12, 3e-12)
"""Hold capacitors ``C_h`` (F) of the charge-injection transient."""
C_AZ = 1e-12
"""The hold capacitor whose ``Q_inj`` fit.toml sets (as ``C_az``): 1 pF, with which the
autozero trained XOR on the cells' offsets (docs/cancellation.md)."""
EDGE = 1e-9
"""The clock edge (s), 0 to 100 %."""
T_OPEN = 1e-9
"""When the opening edge starts (s); the switch is closed before."""
HOLD_TIME = 12e-9
"""From the start of the opening edge to the start of the closing edge (s)."""
RON_DROP = 1e-3
"""The DC drop across the closed switch for ``Ron`` (V)."""
GMIN = 1e-15
"""ngspice's ``gmin`` (S; default 1e-12): it sits across every junction, and at 1e-12 S
its 0.9 pA would swamp the open switch's leakage."""
DUMMIES = ("XMdn", "XMdp")
"""The dummy devices' instance names in the cell (:func:`without_dummies`)."""


def without_dummies(cell: Cell, name: str | None = None) -> Cell:
    """``cell`` without its dummy devices (:data:`DUMMIES`): the bare transmission gate,
    the same main transistors; ``name`` its subcircuit (default ``<name>_nodummy``)."""
    new = name or f"{cell.name}_nodummy"
    lines = []
    for line in cell.text.splitlines():
        words = line.split()
        if words and words[0] in DUMMIES:
            continue
        if words and words[0].lower() in (".subckt", ".ends") and len(words) > 1 \
                and words[1] == cell.name:
            line = line.replace(cell.name, new, 1)
        lines.append(line)
    if len(lines) == len(cell.text.splitlines()):
        raise ValidationError(f"cell {cell.name} has no dummy devices {', '.join(DUMMIES)}")
    return Cell(new, cell.kind, cell.ports, "\n".join(lines) + "\n")


def signal_grid(points: int, half: float = HALF) -> np.ndarray:
    """``points`` signal values over ``+-half`` (V), ``V`` = 0 among them."""
    if not isinstance(points, int) or points % 2 == 0 or not 7 <= points <= 61:
        raise ValidationError(f"--points {points!r}: the switch takes an odd number from 7 "
                              "to 61 (V = 0 on the grid, three points within the fitted "
                              f"+-{FIT_HALF:g} V)")
    return np.round(np.linspace(-half, half, points), 12)


def _pulse(lo: float, hi: float, edge: float) -> str:
    """A clock from ``lo`` to ``hi`` at :data:`T_OPEN` and back :data:`HOLD_TIME` later."""
    return (f"PULSE({lo:g} {hi:g} {T_OPEN:.6g} {edge:.6g} {edge:.6g} "
            f"{HOLD_TIME - edge:.6g} 1)")


def testbench(cell: Cell, V, holds, corner: str = "tt", temp: float = 27.0,
              edge: float = EDGE) -> str:
    """The netlist of the whole characterization: ``.op``, the ``.dc`` of ``Ron`` and
    leakage over ``V`` (source ``Vsig``), the ``.tran`` of every ``(V, C_h)`` with the
    cell and without its dummies. Every copy has its own supply and clock sources
    (``Vdd_<tag>``, ``Vk_<tag>``, ``Vkb_<tag>``)."""
    plain = without_dummies(cell)
    lines = [f"* aann characterize switch: {cell.name}, corner {corner}, {temp:g} C, "
             f"edge {edge:g} s", model_lines(corner, temp).rstrip(),
             f".option gmin={GMIN:g}", cell.text.strip(), plain.text.strip(),
             f"Vsig sig 0 {VCM:g}"]

    def copy(tag, a, b, name, closed=True, clocked=False):
        if clocked:  # closed until T_OPEN, open for HOLD_TIME, then closed again
            k, kb = _pulse(VDD, 0.0, edge), _pulse(0.0, VDD, edge)
        else:
            k, kb = (f"{VDD:g}", "0") if closed else ("0", f"{VDD:g}")
        return [f"Vdd_{tag} vdd_{tag} 0 {VDD:g}", f"Vk_{tag} k_{tag} 0 {k}",
                f"Vkb_{tag} kb_{tag} 0 {kb}",
                f"X{tag} {a} {b} k_{tag} kb_{tag} vdd_{tag} 0 {name}"]

    # Ron: b held RON_DROP below a (= Vsig); leakage: open, a = Vsig, b held at Vcm
    lines += [f"Vron_r sig b_r DC {RON_DROP:g}", *copy("r", "sig", "b_r", cell.name)]
    lines += [f"Vhold_l b_l 0 {VCM:g}", *copy("l", "sig", "b_l", cell.name, closed=False)]
    for variant, name in (("d", cell.name), ("p", plain.name)):
        for i, v in enumerate(V):
            for j, c in enumerate(holds):
                tag = f"{variant}{i}_{j}"
                lines += [f"Vin_{tag} a_{tag} 0 {VCM + float(v):.9g}",
                          *copy(tag, f"a_{tag}", f"h_{tag}", name, clocked=True),
                          f"Ch_{tag} h_{tag} 0 {float(c):.6g}"]
    lo, hi, n = float(V[0]), float(V[-1]), len(V)
    step = (hi - lo) / (n - 1)
    stop = T_OPEN + HOLD_TIME + edge + 3e-9
    lines += [".op", f".dc Vsig {VCM + lo:.9g} {VCM + hi + 1e-3 * step:.9g} {step:.9g}",
              f".tran {edge / 50:.6g} {stop:.6g} 0 {edge / 10:.6g}", ".end", ""]
    return "\n".join(lines)


def _line(V, q, fit_half):
    """``(Q0, Q1)`` fitted over ``|V| <= fit_half``, the largest error there and over the
    whole sweep, in % of the sweep's largest ``|q|``."""
    inside = np.abs(V) <= fit_half + 1e-12
    q1, q0 = np.polyfit(V[inside], q[inside], 1)
    fs = float(np.max(np.abs(q)))
    err = np.abs(q0 + q1 * V - q) / fs * 100 if fs > 0 else np.zeros_like(q)
    return float(q0), float(q1), float(np.max(err[inside])), float(np.max(err))


def _integral(t, i, lo, hi):
    """``int_lo^hi i dt`` (trapezoids on the solver's points, the window's ends
    interpolated)."""
    inside = (t > lo) & (t < hi)
    ts = np.concatenate([[lo], t[inside], [hi]])
    ys = np.concatenate([[np.interp(lo, t, i)], i[inside], [np.interp(hi, t, i)]])
    return float(np.sum((ys[1:] + ys[:-1]) * np.diff(ts)) / 2)


@dataclass
class SwitchCharacterization:
    """What :func:`characterize_switch` measures (SI units; ``V`` the signal grid)."""

    cell: Cell
    corner: str
    temp: float
    edge: float
    fit_half: float
    V: np.ndarray
    ron: np.ndarray
    leak: np.ndarray
    holds: tuple
    q: dict          # C_h -> Q_inj(V) with the dummies (the cell)
    q_plain: dict    # C_h -> Q_inj(V) without them
    q_clk: np.ndarray   # per cycle, clk source while it rises, at each V (C_h = C_AZ)
    q_clkb: np.ndarray  # clkb's
    static: dict
    area_m2: float
    seconds: float
    lines: dict = field(default_factory=dict)
    lines_plain: dict = field(default_factory=dict)

    def __post_init__(self):
        self.lines = {c: _line(self.V, self.q[c], self.fit_half) for c in self.holds}
        self.lines_plain = {c: _line(self.V, self.q_plain[c], self.fit_half)
                            for c in self.holds}

    @property
    def c_az(self) -> float:
        """The hold capacitor fit.toml's ``Q_inj`` is measured on (:data:`C_AZ` where it
        was swept, else the largest)."""
        return C_AZ if C_AZ in self.holds else max(self.holds)

    def at(self, values, v: float = 0.0) -> float:
        """``values`` (on the signal grid) at signal ``v``."""
        return float(np.interp(v, self.V, values))

    def summary(self) -> dict:
        """The numbers, for summary.json and the report."""
        def per_hold(lines, q):
            return {f"{c:.3g}": {"Q0_C": line[0], "Q1_C_per_V": line[1],
                                 "fit_max_error_pct": line[2],
                                 "full_range_max_error_pct": line[3],
                                 "Q_inj_at_0_C": self.at(q[c]),
                                 "max_abs_Q_inj_C": float(np.max(np.abs(q[c]))),
                                 "dV_at_0_V": self.at(q[c]) / c}
                    for c, line in lines.items()}

        cycle = self.at(self.q_clk) + self.at(self.q_clkb)
        return {
            "cell": self.cell.name, "kind": "switch", "corner": self.corner,
            "temp_C": self.temp, "edge_s": self.edge,
            "range_V": [float(self.V[0]), float(self.V[-1])], "points": len(self.V),
            "fit_range_V": [-self.fit_half, self.fit_half],
            "Ron_at_0_ohm": self.at(self.ron), "Ron_min_ohm": float(np.min(self.ron)),
            "Ron_max_ohm": float(np.max(self.ron)),
            "leak_max_abs_A": float(np.max(np.abs(self.leak))),
            "leak_at_0_A": self.at(self.leak),
            "C_az_F": self.c_az, "Q_inj_C": self.lines[self.c_az][0],
            "Q_inj": per_hold(self.lines, self.q),
            "Q_inj_without_dummies": per_hold(self.lines_plain, self.q_plain),
            "clock_charge_per_cycle_C": {"clk": self.at(self.q_clk),
                                         "clkb": self.at(self.q_clkb), "total": cycle},
            "clock_energy_per_cycle_J": VDD * cycle,
            "static_current_A": self.static,
            "area_m2": self.area_m2, "seconds": self.seconds,
        }


def characterize_switch(cell: Cell | None = None, corner: str = "tt", temp: float = 27.0,
                        points: int | None = None, holds=HOLDS, edge: float = EDGE,
                        fit_half: float = FIT_HALF) -> SwitchCharacterization:
    """Measure the switch ``cell`` (default the built-in ``switch``) at ``corner`` and
    ``temp`` (degrees C) in one ngspice run: ``Ron`` and the open switch's leakage over
    ``points`` signal values in +-0.3 V, ``Q_inj`` on every hold capacitor of ``holds``
    (F) for a clock ``edge`` (s), with and without the dummies, the clock charge per
    cycle and the static currents (see the module's text)."""
    from .supply import cell_area

    cell = CELLS["switch"] if cell is None else cell
    check_corner(corner)
    V = signal_grid(POINTS if points is None else points)
    holds = tuple(float(c) for c in holds)
    if not holds or not all(math.isfinite(c) and 1e-15 <= c <= 1e-9 for c in holds):
        raise ValidationError(f"hold capacitors {holds!r}: give one or more from 1 fF to 1 nF")
    if not (math.isfinite(edge) and 1e-12 <= edge <= 10e-9):
        raise ValidationError(f"clock edge {edge!r} s: give 1 ps to 10 ns")
    if not (math.isfinite(fit_half) and 0 < fit_half <= HALF):
        raise ValidationError(f"fit_half {fit_half!r} V: give a half-range in (0, {HALF:g}]")
    if np.sum(np.abs(V) <= fit_half + 1e-12) < 3:
        raise ValidationError(f"fewer than 3 of the {len(V)} points lie within "
                              f"+-{fit_half:g} V: give more points")
    t0 = time.perf_counter()
    plots = run_with_models(testbench(cell, V, holds, corner, temp, edge), name="switch")
    kinds = {p.plotname.split()[0].lower(): p for p in plots}
    try:
        op, dc, tran = kinds["operating"], kinds["dc"], kinds["transient"]
    except KeyError:
        raise SimulationError("ngspice ran only " + ", ".join(p.plotname for p in plots)
                              + " of the switch's .op, .dc and .tran; see its log") from None
    sig = np.asarray(dc["v(sig)"]) - VCM
    if len(sig) != len(V) or np.max(np.abs(sig - V)) > 1e-6:
        raise SimulationError("the switch's DC sweep did not cover its grid (ngspice "
                              "skipped points)")
    ron = RON_DROP / np.abs(np.asarray(dc["i(vron_r)"]))
    leak = np.asarray(dc["i(vhold_l)"])  # out of the cell's b into the source: charges b
    t = tran.sweep
    t_read = T_OPEN + HOLD_TIME - 0.1e-9  # just before the closing edge
    q, q_plain = {}, {}
    for variant, out in (("d", q), ("p", q_plain)):
        for j, c in enumerate(holds):
            out[c] = np.array([(np.interp(t_read, t, tran[f"v(h_{variant}{i}_{j})"])
                                - VCM - v) * c for i, v in enumerate(V)])
    j = holds.index(C_AZ) if C_AZ in holds else int(np.argmax(holds))
    settle = 3e-9
    # a source's current i(V) flows into its + node through it: -i is delivered
    q_clkb = np.array([-_integral(t, tran[f"i(vkb_d{i}_{j})"], T_OPEN, T_OPEN + edge + settle)
                       for i in range(len(V))])
    close = T_OPEN + HOLD_TIME
    q_clk = np.array([-_integral(t, tran[f"i(vk_d{i}_{j})"], close, close + edge + settle)
                      for i in range(len(V))])
    static = {}
    for state, tag in (("closed", "r"), ("open", "l")):
        for src, pin in (("vdd", "vdd"), ("vk", "clk"), ("vkb", "clkb")):
            static[f"{pin}_{state}"] = -float(op[f"i({src}_{tag})"][0])
    return SwitchCharacterization(cell, corner, float(temp), float(edge), float(fit_half), V,
                                  ron, leak, holds, q, q_plain, q_clk, q_clkb, static,
                                  cell_area(cell), time.perf_counter() - t0)


# --- outputs: fit.toml, sweep.csv, fit.png, summary.json --------------------------------

def _fc(q: float) -> str:
    return f"{q * 1e15:.4g} fC"


def fit_toml(ch: SwitchCharacterization) -> str:
    """An ``[offset_cancellation]`` section (``method = "autozero"``, ``C_az``, ``Q_inj``
    measured on that capacitor at ``V`` = 0, the line's ``Q0``) with the rest as comments;
    loadable into a description."""
    s = ch.summary()
    c = ch.c_az
    q0, q1, err, err_all = ch.lines[c]
    p0 = ch.lines_plain[c][0]
    tau = s["Ron_at_0_ohm"] * c
    others = ", ".join(f"C_h = {h:.3g} F: Q_inj = {ch.lines[h][0]!r}" for h in ch.holds
                       if h != c)
    lines = [
        f"# aann characterize switch: {ch.cell.name}, SkyWater 130 nm, corner {ch.corner}, "
        f"{ch.temp:g} C, clock edges of {ch.edge:.3g} s",
        f"# Ron = {s['Ron_at_0_ohm']:.5g} Ohm at Vcm ({s['Ron_min_ohm']:.4g} .. "
        f"{s['Ron_max_ohm']:.4g} Ohm over V in [{ch.V[0]:g}, {ch.V[-1]:g}] V); the "
        f"autozero phase settles C_az through it: Ron C_az = {tau:.3g} s, so t_az >= "
        f"{math.log(1e4) * tau:.3g} s for 1e-4",
        f"# open-switch leakage: up to {s['leak_max_abs_A']:.3g} A at {ch.temp:g} C "
        f"({s['leak_max_abs_A'] / c:.3g} V/s on C_az)",
        f"# Q_inj(V) = Q0 + Q1 V over |V| <= {ch.fit_half:g} V: Q0 = {q0!r} C, Q1 = {q1!r} C/V,"
        f" within {err:.2f} % of the largest |Q_inj| ({err_all:.1f} % over the whole sweep)",
        f"# other hold capacitors: {others}" if others else "# (one hold capacitor swept)",
        f"# without the dummies the same gate injects Q0 = {p0!r} C",
        f"# clock charge per cycle: clk {_fc(s['clock_charge_per_cycle_C']['clk'])}, clkb "
        f"{_fc(s['clock_charge_per_cycle_C']['clkb'])} ({s['clock_energy_per_cycle_J']:.3g} J "
        f"at {VDD:g} V); static supply current {s['static_current_A']['vdd_open']:.3g} A; "
        f"area {s['area_m2']:.3g} m^2",
        "[offset_cancellation]", 'method = "autozero"', f"C_az = {c!r}", f"Q_inj = {q0!r}"]
    return "\n".join(lines) + "\n"


def sweep_csv(ch: SwitchCharacterization) -> str:
    """Per signal value: ``Ron``, the open switch's leakage, the clock charges per cycle
    and, per hold capacitor, ``Q_inj`` measured, its line and without the dummies."""
    header = ["V", "Ron_ohm", "Ileak_A", "Qclk_C", "Qclkb_C"]
    cols = [ch.V, ch.ron, ch.leak, ch.q_clk, ch.q_clkb]
    for c in ch.holds:
        q0, q1 = ch.lines[c][:2]
        header += [f"Qinj_{c:.3g}F_C", f"Qinj_fit_{c:.3g}F_C", f"Qinj_nodummy_{c:.3g}F_C"]
        cols += [ch.q[c], q0 + q1 * ch.V, ch.q_plain[c]]
    rows = np.column_stack(cols)
    return ",".join(header) + "\n" + "\n".join(",".join(f"{v:.10g}" for v in r)
                                               for r in rows) + "\n"


def figure(ch: SwitchCharacterization):
    """Ron, leakage, Q_inj with the dummies (markers, the fitted lines over their range)
    and without them, against the signal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots import STYLE

    with plt.rc_context(STYLE):
        fig, ((a_ron, a_q), (a_leak, a_plain)) = plt.subplots(2, 2, figsize=(8.0, 5.6),
                                                              sharex=True)
        a_ron.plot(ch.V, ch.ron / 1e3, "o-", ms=3)
        a_ron.set_ylabel("Ron [kOhm]")
        a_leak.plot(ch.V, ch.leak * 1e15, "o-", ms=3)
        a_leak.set_ylabel("open: current into b [fA]")
        inside = np.abs(ch.V) <= ch.fit_half + 1e-12
        for c in ch.holds:
            q0, q1 = ch.lines[c][:2]
            line, = a_q.plot(ch.V, ch.q[c] * 1e15, "o", ms=3, label=f"C_h = {c * 1e12:g} pF")
            a_q.plot(ch.V[inside], (q0 + q1 * ch.V[inside]) * 1e15, "-",
                     color=line.get_color())
            a_plain.plot(ch.V, ch.q_plain[c] * 1e15, "o-", ms=3, color=line.get_color(),
                         label=f"C_h = {c * 1e12:g} pF")
        a_q.set_ylabel("Q_inj = C_h dV [fC]")
        a_q.set_title("with dummies (lines: fitted)", fontsize=8)
        a_plain.set_ylabel("Q_inj [fC]")
        a_plain.set_title("without dummies", fontsize=8)
        a_q.legend(fontsize=6)
        for ax in (a_leak, a_plain):
            ax.set_xlabel("V [V] (node voltage - Vcm)")
        fig.suptitle(f"{ch.cell.name} ({ch.corner}, {ch.temp:g} C, edge "
                     f"{ch.edge * 1e9:g} ns)", fontsize=9)
        fig.tight_layout()
    return fig


def summary_line(ch: SwitchCharacterization) -> str:
    """One line: Ron, Q_inj on C_az and its line's error, leakage, clock charge."""
    s = ch.summary()
    c = ch.c_az
    q0, _, err, _ = ch.lines[c]
    return (f"{ch.cell.name} ({ch.corner}, {ch.temp:g} C): Ron {s['Ron_at_0_ohm'] / 1e3:.3g} "
            f"kOhm at Vcm ({s['Ron_min_ohm'] / 1e3:.3g} .. {s['Ron_max_ohm'] / 1e3:.3g}); "
            f"Q_inj {_fc(q0)} on {c * 1e12:g} pF (line within {err:.2f} % over "
            f"+-{ch.fit_half:g} V; without dummies {_fc(ch.lines_plain[c][0])}); leakage "
            f"{s['leak_max_abs_A']:.3g} A; clock {_fc(s['clock_charge_per_cycle_C']['total'])}"
            f" per cycle; {ch.seconds:.1f} s")


def write_outputs(ch: SwitchCharacterization, out) -> list:
    """fit.toml, sweep.csv, summary.json and fit.png into folder ``out`` (which exists)."""
    import json
    from pathlib import Path

    import matplotlib.pyplot as plt

    from ..io import atomic_file, atomic_savefig, atomic_write

    out = Path(out)
    paths = [out / name for name in ("sweep.csv", "fit.toml", "summary.json", "fit.png")]
    atomic_write(paths[0], sweep_csv(ch))
    atomic_write(paths[1], fit_toml(ch))
    with atomic_file(paths[2]) as f:
        json.dump(ch.summary(), f, indent=1)
    fig = figure(ch)
    try:
        atomic_savefig(fig, paths[3])
    finally:
        plt.close(fig)
    return paths


def switch_command(*, kind, corner: str, temp: float, points: int | None, out: str,
                   mismatch: int = 0, bias: str | None = None, progress: bool = True) -> None:
    """``aann characterize switch``: every input checked first, then one ngspice run."""
    import typer

    from ..io import check_path_text, ensure_writable_dir
    from ..progress import progress_bar
    from .models import models_dir

    for given, option in ((kind is not None, "--kind"), (mismatch, "--mismatch"),
                          (bias is not None, "--bias")):
        if given:
            raise ValidationError(f"{option} does not apply to the switch cell (no block "
                                  f"law, no bias resistor); leave {option} out")
    check_corner(corner)
    signal_grid(POINTS if points is None else points)
    models_dir()
    out = check_path_text(out, "output directory")
    ensure_writable_dir(out)
    with progress_bar(progress, total=1, label="characterize", description="switch") as bar:
        ch = characterize_switch(corner=corner, temp=temp, points=points)
        bar(1, "switch: done")
    write_outputs(ch, out)
    typer.echo(summary_line(ch))
    typer.echo(f"wrote {out}/ (fit.toml, sweep.csv, fit.png, summary.json)")
