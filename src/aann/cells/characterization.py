"""Characterizing a cell: ngspice DC sweeps, and the block law's constants fitted to them.

A sweep measures a cell over its input range at one corner and temperature:
the multiplier's output current on a grid of ``(V1, V2)`` (its output held at
``Vcm``), the neuron's and the derivative block's output voltage over a range
of input currents ``Inet`` (their outputs unloaded). Every value is a signal
of the paper: a voltage less ``Vcm``, in V, or a current in A.

The fit is of the law the engines run: the residuals call the block's own
method (:meth:`aann.blocks.Multiplier.output`, :meth:`aann.blocks.Activation.Vout`,
:meth:`aann.blocks.Derivative.Vd`) on numpy arrays, and
:func:`scipy.optimize.least_squares` moves its constants. The multiplier is fitted
with the ``ideal`` law (``Km``, ``Voff1``, ``Voff``, ``Ioff``) and with the
``parasitic`` one (``KI`` too); the better is kept. The tabulated law
(:mod:`aann.cells.tabulated`) interpolates the sweep itself. Errors are stated
in % of the full scale: the largest ``|I|`` of the multiplier's sweep, the span
(max - min) of the neuron's and the derivative's output. Each sweep also runs at
the midpoints between its grid points: there the tabulated law is checked
on points it was not built from.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..blocks import (
    Activation,
    ChargingSource,
    Derivative,
    IdealMultiplier,
    OutputError,
    ParasiticMultiplier,
)
from ..errors import ValidationError
from ..io import read_text
from ..params import params_of
from .laws import GainError, OffsetActivation, OffsetDerivative, PolynomialMultiplier
from .library import CELLS, PORTS, VCM, VDD, Cell
from .models import check_corner, run_with_models, testbench_head
from .tabulated import COLUMNS, Spline

RANGES = {"multiplier": 0.2, "activation": 5e-6, "derivative": 5e-6, "charging": 0.2,
          "error": 0.2}
"""The default half-range of the inputs: +-0.2 V of each multiplier input, +-5 uA of
``Inet`` (about 7 ``Iref`` of the built-in neuron)."""
POINTS = {"multiplier": 11, "activation": 41, "derivative": 41, "charging": 41, "error": 9}
"""The default points per input of a sweep."""
KIND_OF = {"multiplier": "multiplier", "sigmoid": "activation", "derivative": "derivative",
           "charging": "charging", "error": "error"}
"""The block kind of each ``CELL`` name of ``aann characterize``."""


# --- the cell to characterize ---------------------------------------------------

_SUBCKT = re.compile(r"^\s*\.subckt\s+(\S+)\s+(.*)$", re.I | re.M)


def _subckts(text: str) -> dict[str, list[str]]:
    """``{name: ports}`` of every ``.subckt`` in ``text`` (``+`` continuations joined)."""
    joined = re.sub(r"\n\s*\+", " ", text)
    out = {}
    for name, rest in _SUBCKT.findall(joined):
        ports = []
        for token in rest.split():
            if "=" in token or token.lower() == "params:":
                break
            ports.append(token)
        out[name] = ports
    return out


def resolve_cell(cell: str, kind: str | None = None) -> Cell:
    """The cell ``cell`` names: ``multiplier``, ``multiplier_lm``, ``sigmoid``, ``derivative``,
    ``charging``, ``error``, or the path of a ``.subckt`` file whose top subcircuit has the
    port order of :data:`PORTS` (``kind``: ``multiplier``, ``sigmoid``, ``derivative``,
    ``charging`` or ``error``, needed for five ports and for a six-port cell that is not a
    multiplier)."""
    if kind is not None and kind not in KIND_OF:
        raise ValidationError(f"--kind {kind!r} is not known; use one of "
                              + ", ".join(KIND_OF))
    if cell in CELLS:
        if kind is not None and KIND_OF[kind] != CELLS[cell].kind:
            raise ValidationError(f"--kind {kind} does not match the built-in cell {cell}")
        return CELLS[cell]
    path = Path(cell)
    if not path.suffix and not path.exists():
        raise ValidationError(f"cell {cell!r} is not known; use multiplier, multiplier_lm, "
                              "sigmoid, derivative, charging, error, switch or the path of a "
                              ".subckt file")
    text = read_text(path, "cell file")
    found = _subckts(text)
    if not found:
        raise ValidationError(f"cell file {path} holds no .subckt")
    used = set()  # subcircuits instantiated in the file: the last token without "="
    for line in text.splitlines():
        if line.strip()[:1].lower() == "x":
            names = [t for t in line.split() if "=" not in t]
            used.add(names[-1].lower())
    top = [n for n in found if n.lower() not in used] or list(found)
    name, ports = top[0], found[top[0]]
    expected = {6: "multiplier", 5: None}.get(len(ports), "?")
    usage = ("a multiplier has 6 ports (" + " ".join(PORTS["multiplier"]) + "), a charging "
             "cell 6 (" + " ".join(PORTS["charging"]) + "), an error cell 6 ("
             + " ".join(PORTS["error"]) + "), a sigmoid or derivative cell 5 ("
             + " ".join(PORTS["activation"]) + ")")
    if expected == "?":
        raise ValidationError(f".subckt {name} in {path} has {len(ports)} ports "
                              f"({' '.join(ports)}); {usage}")
    if expected is None:
        if kind is None or kind == "multiplier":
            raise ValidationError(f".subckt {name} in {path} has 5 ports: say which block it "
                                  "is with --kind sigmoid or --kind derivative")
        block = KIND_OF[kind]
    else:
        if kind not in (None, "multiplier", "charging", "error"):
            raise ValidationError(f".subckt {name} in {path} has 6 ports: a multiplier, a "
                                  f"charging or an error cell, not a {kind}; {usage}")
        block = KIND_OF[kind or "multiplier"]
    return Cell(name, block, tuple(ports), text)


# --- the sweeps ------------------------------------------------------------------

@dataclass(frozen=True)
class Sweep:
    """A measured DC sweep: ``axes`` (one array per input, a uniform grid) and ``y`` of
    shape ``[len(a) for a in axes]``, in signal units (V less Vcm, A)."""

    kind: str
    axes: tuple
    y: np.ndarray

    @property
    def inputs(self) -> tuple:
        """Every point's inputs, each of the shape of ``y``."""
        return tuple(np.meshgrid(*self.axes, indexing="ij"))


def _dc(source: str, lo: float, hi: float, n: int) -> str:
    step = (hi - lo) / (n - 1)
    return f"{source} {lo:.9g} {hi + 1e-3 * step:.9g} {step:.9g}"


def testbench(cell: Cell, points: int, half: float, corner: str, temp: float,
              seed: int | None = None) -> str:
    """The netlist of a cell's sweeps: on the grid of ``points`` per input over
    ``+-half``, then at the midpoints of that grid (``seed``: a Monte Carlo sample of
    the mismatch models, :func:`aann.cells.models.model_lines`)."""
    x = f"X1 {{}} {cell.name}"
    lines = testbench_head(f"aann characterize: {cell.name} ({cell.kind})", corner, temp,
                           cell.text, seed=seed)
    h = 2 * half / (points - 1)
    if cell.kind == "multiplier":
        lines += ["V1 v1 vcm 0", "V2 v2 vcm 0", f"Vo out 0 {VCM:g}",
                  x.format("v1 v2 out vcm vdd 0"),
                  ".dc " + _dc("V1", -half, half, points) + " " + _dc("V2", -half, half, points),
                  ".dc " + _dc("V1", -half + h / 2, half - h / 2, points - 1) + " "
                  + _dc("V2", -half + h / 2, half - h / 2, points - 1)]
    elif cell.kind == "charging":
        lines += ["Vg vgrad vcm 0", f"Vt vteach 0 {VDD:g}", f"Vo out 0 {VCM:g}",
                  x.format("vgrad vteach out vcm vdd 0"),
                  ".dc " + _dc("Vg", -half, half, points),
                  ".dc " + _dc("Vg", -half + h / 2, half - h / 2, points - 1)]
    elif cell.kind == "error":  # out unloaded: it drives a multiplier's gate
        lines += ["V1 vout vcm 0", "V2 vtarget vcm 0",
                  x.format("vout vtarget out vcm vdd 0"),
                  ".dc " + _dc("V1", -half, half, points) + " " + _dc("V2", -half, half, points),
                  ".dc " + _dc("V1", -half + h / 2, half - h / 2, points - 1) + " "
                  + _dc("V2", -half + h / 2, half - h / 2, points - 1)]
    else:
        lines += ["Iin 0 in 0", x.format("in out vcm vdd 0"),
                  ".dc " + _dc("Iin", -half, half, points),
                  ".dc " + _dc("Iin", -half + h / 2, half - h / 2, points - 1)]
    return "\n".join(lines + [".end", ""])


def _sweep_of(plot, kind: str) -> Sweep:
    if kind in ("multiplier", "error"):
        n1, n2, out = (("v1", "v2", plot["i(vo)"]) if kind == "multiplier" else
                       ("vout", "vtarget", plot["v(out)"] - plot["v(vcm)"]))
        v1 = np.round(plot[f"v({n1})"] - plot["v(vcm)"], 9)
        v2 = np.round(plot[f"v({n2})"] - plot["v(vcm)"], 9)
        a1, a2 = np.unique(v1), np.unique(v2)
        grid = np.full((a1.size, a2.size), np.nan)
        grid[np.searchsorted(a1, v1), np.searchsorted(a2, v2)] = out
        return Sweep(kind, (a1, a2), grid)
    if kind == "charging":
        return Sweep(kind, (np.round(plot["v(vgrad)"] - plot["v(vcm)"], 9),), plot["i(vo)"])
    # Iin drives 0 -> in: the current into the cell's input is the swept value
    return Sweep(kind, (np.asarray(plot.sweep),), plot["v(out)"] - plot["v(vcm)"])


def measure(cell: Cell, points: int | None = None, corner: str = "tt", temp: float = 27.0,
            half: float | None = None, seed: int | None = None) -> tuple[Sweep, Sweep]:
    """The cell's sweep on its grid and at the midpoints (ngspice, SkyWater models;
    ``seed``: a Monte Carlo sample of the mismatch models)."""
    grid, mid = _dc_plots(cell, points, corner, temp, half, seed)
    return _sweep_of(grid, cell.kind), _sweep_of(mid, cell.kind)


def _dc_plots(cell: Cell, points, corner, temp, half, seed=None):
    """The raw plots of the cell's sweeps: on its grid, at the midpoints."""
    check_corner(corner)
    points = POINTS[cell.kind] if points is None else points
    if not isinstance(points, int) or not 3 <= points <= 201:
        raise ValidationError(f"--points {points!r} must be an integer from 3 to 201")
    half = RANGES[cell.kind] if half is None else half
    plots = run_with_models(testbench(cell, points, half, corner, temp, seed), name="cell")
    if len(plots) < 2:
        raise ValidationError("ngspice ran one sweep of two; see its log")
    # ngspice's raw file need not keep the order of the analyses: the grid has more points
    grid, mid = sorted(plots[:2], key=lambda p: -len(p.sweep))
    return grid, mid


# --- the fits ----------------------------------------------------------------------

@dataclass(frozen=True)
class Fit:
    """A law fitted to a sweep: its ``law`` name, ``constants`` (SI units) and the largest
    error over the sweep in % of ``full_scale``."""

    law: str
    constants: dict
    max_error_pct: float
    rms_error_pct: float

    def block(self, kind: str):
        """The block object of the fitted law."""
        return LAW_CLASSES[kind][self.law](**self.constants)


LAW_CLASSES = {"multiplier": {"ideal": IdealMultiplier, "parasitic": ParasiticMultiplier,
                              "polynomial": PolynomialMultiplier},
               "activation": {"sigmoid": Activation, "sigmoid_offset": OffsetActivation},
               "derivative": {"sigmoid": Derivative, "sigmoid_offset": OffsetDerivative},
               "charging": {"linear": functools.partial(ChargingSource, current_limit="none"),
                            "tanh": functools.partial(ChargingSource, current_limit="tanh")},
               "error": {"difference": OutputError, "gain": GainError}}


def full_scale(sweep: Sweep) -> float:
    """The multiplier's largest ``|I|``; the span of the other cells' outputs."""
    y = sweep.y
    fs = (float(np.max(np.abs(y))) if sweep.kind in ("multiplier", "charging")
          else float(np.ptp(y)))
    if not fs > 0:
        raise ValidationError(f"the {sweep.kind} cell's output does not move over the sweep "
                              "(is it connected as the port order says?)")
    return fs


def evaluate(kind: str, block, inputs, m=np):
    """The law of ``block`` at ``inputs`` (its own method, with numpy or jax arrays)."""
    if kind == "multiplier":
        return block.output(*inputs, m=m)
    if kind == "activation":
        return block.Vout(*inputs, m=m)
    if kind == "charging":  # learning: Vteach = 1 V
        return block.current(1.0, *inputs, m=m)
    if kind == "error":
        return block.VE(*inputs, m=m)
    return block.Vd(*inputs, m=m)


def _errors(pred, sweep: Sweep) -> tuple[float, float]:
    e = np.asarray(pred - sweep.y) / full_scale(sweep) * 100
    return float(np.max(np.abs(e))), float(np.sqrt(np.mean(e * e)))


def _least_squares(kind: str, law: str, sweep: Sweep, guess: dict, fixed: dict) -> Fit:
    from scipy.optimize import least_squares

    cls = LAW_CLASSES[kind][law]
    names = list(guess)
    scale = np.array([abs(guess[k]) or 1e-3 for k in names])
    fs, inputs = full_scale(sweep), sweep.inputs

    def model(x):
        return evaluate(kind, cls(**dict(zip(names, x * scale)), **fixed), inputs)

    def residual(x):
        return ((model(x) - sweep.y) / fs).ravel()

    x0 = np.array([guess[k] for k in names]) / scale
    sol = least_squares(residual, x0, method="lm", xtol=1e-12, ftol=1e-12, max_nfev=4000)
    constants = {**dict(zip(names, (float(v) for v in sol.x * scale))), **fixed}
    worst, rms = _errors(model(sol.x), sweep)
    return Fit(law, constants, worst, rms)


def fit_laws(sweep: Sweep) -> list[Fit]:
    """Every analytic law of the cell's kind fitted to ``sweep``, best (smallest largest
    error) first."""
    kind, y = sweep.kind, sweep.y
    if kind == "multiplier":
        V1, V2 = sweep.inputs
        p = V1 * V2
        Km = float(np.sum(p * (y - y.mean())) / np.sum(p * p))
        guess = {"Km": Km, "Voff1": 1e-3, "Voff": 1e-3, "Ioff": float(np.mean(y)) or 1e-9}
        fits = [_least_squares(kind, "ideal", sweep, guess, {})]
        fits.append(_least_squares(kind, "parasitic", sweep,
                                   {**fits[0].constants, "KI": 3 * float(np.max(np.abs(y)))}, {}))
        fits.append(_least_squares(kind, "polynomial", sweep,
                                   {**fits[0].constants, "a1": 0.0, "a2": 0.0, "b1": 0.0,
                                    "b2": 0.0}, {}))
    elif kind == "charging":
        (V,) = sweep.axes
        Keta = -float(np.polyfit(V, y, 1)[0])
        fits = [_least_squares(kind, "linear", sweep, {"Keta": Keta}, {})]
        fits.append(_least_squares(kind, "tanh", sweep,
                                   {"Keta": Keta, "Imax": 2 * float(np.max(np.abs(y)))}, {}))
    elif kind == "error":
        # the engines' law (difference: Ke = 1, Voff fitted) first whatever its error:
        # it is the one fit.toml can set; the gain law states the cell's Ke beside it
        fits = [_least_squares(kind, "difference", sweep, {"Voff": 1e-3}, {})]
        fits.append(_least_squares(kind, "gain", sweep, {"Ke": 1.0, "Voff": 1e-3}, {}))
        return fits
    elif kind == "activation":
        (I,) = sweep.axes
        Vamp = float(np.max(y) - min(np.min(y), 0.0))
        slope = float(np.max(np.gradient(y, I)))
        fits = [_least_squares(kind, "sigmoid", sweep,
                               {"Vamp": Vamp, "Iref": Vamp / (4 * slope)}, {})]
        fits.append(_least_squares(kind, "sigmoid_offset", sweep,
                                   {**fits[0].constants, "Ioff": 1e-7, "Voff": 1e-3}, {}))
    else:
        (I,) = sweep.axes
        peak = float(np.max(y))
        above = I[y >= peak / 2]
        Ru = params_of(Derivative)["Ru"].default
        half_width = max(float(above.max() - above.min()) / 2, 1e-9)
        fits = [_least_squares(kind, "sigmoid", sweep,
                               {"Kd": 4 * peak, "Vref": Ru * half_width / (2 * 0.8814)},
                               {"Ru": Ru})]
        guess = {k: v for k, v in fits[0].constants.items() if k != "Ru"}
        fits.append(_least_squares(kind, "sigmoid_offset", sweep,
                                   {**guess, "Ioff": 1e-7, "Voff": 1e-3}, {"Ru": Ru}))
    # a law with more constants is kept only where it fits clearly better (5 %)
    return sorted(fits, key=lambda f: f.max_error_pct * (1.0 if len(f.constants) == min(
        len(g.constants) for g in fits) else 1.0 / 0.95))


# --- the whole characterization -----------------------------------------------------

@dataclass
class Characterization:
    """What ``aann characterize`` finds: the sweeps, the fits (best first), the table."""

    cell: Cell
    corner: str
    temp: float
    sweep: Sweep
    check: Sweep
    fits: list
    table: Spline
    seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.cell.kind

    @property
    def best(self) -> Fit:
        return self.fits[0]

    def table_errors(self, sweep: Sweep | None = None) -> tuple[float, float]:
        """The tabulated law's largest and rms error (% of full scale) over ``sweep``
        (default: the midpoints, points it was not built from)."""
        sweep = self.check if sweep is None else sweep
        err = np.asarray(self.table(*sweep.inputs, m=np)) - sweep.y
        e = err / full_scale(self.sweep) * 100
        return float(np.max(np.abs(e))), float(np.sqrt(np.mean(e * e)))

    def fit_errors_at_midpoints(self) -> float:
        """The best analytic law's largest error (% of full scale) at the midpoints."""
        pred = evaluate(self.kind, self.best.block(self.kind), self.check.inputs)
        return float(np.max(np.abs(pred - self.check.y)) / full_scale(self.sweep) * 100)

    def null_offsets(self) -> dict:
        """A multiplier cell's offsets as a trim measures them, in the law's convention
        (the cell is ``law(V1 + Voff1, V2 + Voff) + Ioff``): ``-Voff1`` is the ``V1``
        where the output no longer depends on ``V2`` (near ``V2`` = 0), ``-Voff`` the
        same for ``V2``, ``Ioff`` the output there. Read from the tabulated law.

        These, not the least-squares fit's offsets, are what nulls the cell at zero:
        a fit trades error at zero for error at the range's corners (at tt the
        ``ideal`` law's puts ``Voff1`` at 1 mV; the cell's null is at 0.08 mV), and a
        training network is sensitive at zero, where a charge multiplier's output is
        the whole gradient.
        """
        from scipy.optimize import brentq

        if self.kind != "multiplier":
            raise ValueError(f"null_offsets is a multiplier's, not an {self.kind}'s")
        (lo1, hi1), (lo2, hi2) = ((float(a[0]), float(a[-1])) for a in self.sweep.axes)
        d1, d2 = (hi1 - lo1) / 8, (hi2 - lo2) / 8

        def flat(f, lo, hi, name):
            try:
                return brentq(f, lo, hi, xtol=1e-9)
            except ValueError:
                raise ValidationError(f"the multiplier cell has no null of {name} within the "
                                      "swept range: its output never stops depending on "
                                      "the other input") from None

        s = functools.partial(self.table, m=np)
        a0 = flat(lambda a: float(s(a, d2) - s(a, -d2)), lo1 / 2, hi1 / 2, "V1")
        b0 = flat(lambda b: float(s(d1, b) - s(-d1, b)), lo2 / 2, hi2 / 2, "V2")
        return {"Voff1": -a0, "Voff": -b0, "Ioff": float(s(a0, b0))}

    def summary(self) -> dict:
        """The numbers of the characterization, for summary.json and the report."""
        inputs, out = COLUMNS[self.kind]
        t_max, t_rms = self.table_errors()
        return {
            "cell": self.cell.name, "kind": self.kind, "corner": self.corner,
            "temp_C": self.temp, "inputs": list(inputs), "output": out,
            "range": [[float(a[0]), float(a[-1])] for a in self.sweep.axes],
            "points": [len(a) for a in self.sweep.axes],
            "full_scale": full_scale(self.sweep),
            "law": self.best.law, "constants": self.best.constants,
            "fits": {f.law: {"constants": f.constants, "max_error_pct": f.max_error_pct,
                             "rms_error_pct": f.rms_error_pct} for f in self.fits},
            "fit_max_error_pct": self.best.max_error_pct,
            "fit_max_error_midpoints_pct": self.fit_errors_at_midpoints(),
            "table_max_error_pct": t_max, "table_rms_error_pct": t_rms,
            "seconds": self.seconds, **self.extra,
            **({"null_offsets": self._null_or_none()} if self.kind == "multiplier" else {}),
        }

    def _null_or_none(self):
        try:
            return self.null_offsets()
        except ValidationError:
            return None


def characterize(cell: Cell | str, corner: str = "tt", temp: float = 27.0,
                 points: int | None = None, half: float | None = None,
                 update=None, bandwidth: bool = True, biases=None,
                 chopper: float | None = None) -> Characterization:
    """Sweep ``cell`` in ngspice at ``corner`` and ``temp`` (degrees C), fit its analytic
    laws and build its tabulated law; its supply current at zero signal, from the same
    sweep (``extra["Isupply_A"]``, :func:`aann.cells.supply.supply_from_sweep`); with
    ``bandwidth`` also its AC analysis (:mod:`aann.cells.bandwidth`); with ``biases`` (bias
    scales, :func:`aann.cells.supply.bias_sweep`) the supply current and bandwidth at each
    (``extra["bias_sweep"]``); with ``chopper`` (Hz), a multiplier's inputs chopped at
    that frequency (``extra["chopped"]``, :func:`aann.cells.bandwidth.chopped_poles`).
    ``update(k, description)``: progress, 0 to 2."""
    cell = resolve_cell(cell) if isinstance(cell, str) else cell
    if cell.kind == "switch":
        raise ValidationError("the switch cell has no block law to sweep and fit; "
                              "aann.cells.switch.characterize_switch measures it "
                              "(aann characterize switch)")
    if chopper is not None:
        from .bandwidth import check_chopper

        check_chopper(cell, chopper)
    update = update or (lambda k, description: None)
    t0 = time.perf_counter()
    update(0, "ngspice DC sweeps")
    from .supply import supply_from_sweep

    grid, mid = _dc_plots(cell, points, corner, temp, half)
    sweep, check = _sweep_of(grid, cell.kind), _sweep_of(mid, cell.kind)
    update(1, "fitting the laws")
    if np.isnan(sweep.y).any():
        raise ValidationError("the sweep's grid is incomplete (ngspice skipped points)")
    fits = fit_laws(sweep)
    names = COLUMNS[cell.kind][0]
    table = Spline.fit(list(sweep.axes), sweep.y, names)
    extra = {"Isupply_A": supply_from_sweep(grid, cell.kind)}
    if biases is not None:
        from .supply import bias_sweep

        update(1, "bias sweep (supply current, bandwidth)")
        extra["bias_sweep"] = bias_sweep(cell, biases, corner, temp)
    if bandwidth:
        from .bandwidth import measure_f3db

        update(1, "AC analysis (bandwidth)")
        extra["f3dB_Hz"] = measure_f3db(cell, corner, temp)
    if chopper is not None:
        from .bandwidth import chopped_poles

        update(1, f"inputs chopped at {chopper:g} Hz")
        extra["chopped"] = chopped_poles(cell, chopper, corner, temp)
    update(2, "done")
    return Characterization(cell, corner, float(temp), sweep, check, fits, table,
                            time.perf_counter() - t0, extra)
