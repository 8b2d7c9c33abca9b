"""A cell's supply current, its bias setting, and its area (docs/energy.md).

**Supply current.** What the cell draws from its supply at its operating point: zero
signal (every input at ``Vcm``, ``Inet`` = 0; the multiplier's and the charging
cell's output held at ``Vcm``), at the corner and temperature of the sweep. It is
the current out of the ``Vdd`` source into the cell's ``vdd`` pin, and for the
charging cell also out of its ``vteach`` pin, whose bias resistor runs from that
logic level (a learning ``vteach`` sits at ``vdd``, so its current is drawn from the
same supply). :func:`supply_from_sweep` reads it from the DC sweep that
``aann characterize`` runs anyway (the grid point of zero signal, interpolated where
the grid has none); :func:`op_netlist` is the same operating point as an ``.op``.

**Bias.** Every built-in cell sets its currents with one bias resistor, the instance
named ``XRb`` (its length ``l`` in um; a longer resistor, less current).
:func:`with_bias` scales that resistor's conductance by a factor (its length by
``1 / scale``), so the bias current, and every current mirrored from it, scales by
about that factor; :func:`bias_sweep` measures the supply current and the -3 dB
frequency of the cell at each factor in one ngspice run: bandwidth bought with power.
The law's constants move with the bias too (the multiplier's gain goes as ``1 /
I0``); a designer re-trims them at each bias, which the sweep does not do.

**Area.** :func:`device_area`: the gate area ``W * L`` of every MOSFET of the cell's
subcircuit and the drawn area ``w * l`` of every resistor (the ``xhigh_po`` resistors
are 0.35 um wide: the ``0p35`` of their model name); :func:`cell_area` applies the
layout rule ``area = layout_factor * active + passive`` (:data:`LAYOUT_FACTOR`).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np

from ..errors import ValidationError
from .library import VCM, VDD, Cell

LAYOUT_FACTOR = 3.5
"""Cell area over its MOSFETs' gate area (the passive devices added at their drawn
area): the rule of thumb ``Area = Active Area x 3.5 + Passive Area`` that Pulsic
quotes for early analog floorplans (pulsic.com, "Analog floorplan estimation rules of
thumb"). An assumption for estimates, not a layout: set your own."""

SUPPLY_SOURCES = {"multiplier": ("vdd",), "activation": ("vdd",), "derivative": ("vdd",),
                  "charging": ("vdd", "vt"), "error": ("vdd",)}
"""The testbench sources a cell's supply current is drawn from (the charging cell's
bias runs from ``vteach``, source ``Vt``)."""

BIAS_INSTANCE = "XRb"
"""The instance name of a cell's bias resistor (:func:`with_bias`)."""


# --- the supply current at the operating point --------------------------------------

def supply_from_sweep(plot, kind: str) -> float:
    """The supply current (A) at zero signal, from the DC sweep ``plot`` of a cell of
    ``kind`` (:func:`aann.cells.characterization.testbench`): the current the
    :data:`SUPPLY_SOURCES` deliver, at the grid point of zero input (interpolated
    linearly where the grid has none)."""
    current = -sum(np.asarray(plot[f"i({s})"], float) for s in SUPPLY_SOURCES[kind])
    if kind in ("multiplier", "error"):
        n1, n2 = ("v1", "v2") if kind == "multiplier" else ("vout", "vtarget")
        v1 = np.round(plot[f"v({n1})"] - plot["v(vcm)"], 9)
        v2 = np.round(plot[f"v({n2})"] - plot["v(vcm)"], 9)
        a1, a2 = np.unique(v1), np.unique(v2)
        grid = np.full((a1.size, a2.size), np.nan)
        grid[np.searchsorted(a1, v1), np.searchsorted(a2, v2)] = current
        along = np.array([np.interp(0.0, a2, row) for row in grid])
        return float(np.interp(0.0, a1, along))
    if kind == "charging":
        x = np.round(plot["v(vgrad)"] - plot["v(vcm)"], 9)
    else:
        x = np.asarray(plot.sweep, float)
    order = np.argsort(x)
    return float(np.interp(0.0, x[order], current[order]))


def _instance(cell: Cell, tag: str, mode: str) -> tuple[list[str], str]:
    """The lines of one copy of ``cell`` in a testbench (nodes suffixed ``_tag``, its own
    supply ``Vdd_tag``): at zero signal (``mode = "op"``) or biased and driven by an
    AC source as :mod:`aann.cells.bandwidth` drives it (``"ac"``). Also the vector of
    its AC output."""
    from .bandwidth import BIAS

    s = f"_{tag}"
    lines = [f"Vdd{s} vdd{s} 0 {VDD:g}"]
    if cell.kind == "multiplier":
        v1 = f"DC {BIAS['multiplier']:g}" if mode == "ac" else "DC 0"
        lines += [f"V1{s} v1{s} vcm {v1}", f"V2{s} v2{s} vcm DC 0" + (" AC 1" * (mode == "ac")),
                  f"Vo{s} out{s} 0 {VCM:g}",
                  f"X{s} v1{s} v2{s} out{s} vcm vdd{s} 0 {cell.name}"]
        return lines, f"i(vo{s})"
    if cell.kind == "error":  # driven on vout, out unloaded
        lines += [f"V1{s} vout{s} vcm DC 0" + (" AC 1" * (mode == "ac")),
                  f"V2{s} vtarget{s} vcm DC 0",
                  f"X{s} vout{s} vtarget{s} out{s} vcm vdd{s} 0 {cell.name}"]
        return lines, f"v(out{s})"
    if cell.kind == "charging":
        lines += [f"Vg{s} vgrad{s} vcm DC 0" + (" AC 1" * (mode == "ac")),
                  f"Vt{s} vteach{s} 0 {VDD:g}", f"Vo{s} out{s} 0 {VCM:g}",
                  f"X{s} vgrad{s} vteach{s} out{s} vcm vdd{s} 0 {cell.name}"]
        return lines, f"i(vo{s})"
    dc = BIAS[cell.kind] if mode == "ac" else 0.0
    lines += [f"Iin{s} 0 in{s} DC {dc:g}" + (" AC 1e-6" * (mode == "ac")),
              f"X{s} in{s} out{s} vcm vdd{s} 0 {cell.name}"]
    return lines, f"v(out{s})"


def _supply_of(op_plot, kind: str, tag: str) -> float:
    return -sum(float(op_plot[f"i({src}_{tag})"][0]) for src in SUPPLY_SOURCES[kind])


def op_netlist(cells: dict, corner: str = "tt", temp: float = 27.0) -> str:
    """An ``.op`` of every cell of ``cells`` (tag -> :class:`Cell`, each copy with its own
    supply source ``Vdd_<tag>``) at zero signal."""
    from .models import testbench_head

    texts = {c.name: c.text for c in cells.values()}  # a cell's subcircuit once
    lines = testbench_head("aann: operating points", corner, temp, *texts.values(),
                           supply=False)
    for tag, cell in cells.items():
        lines += _instance(cell, tag, "op")[0]
    return "\n".join(lines + [".op", ".end", ""])


def measure_supply(cells: dict, corner: str = "tt", temp: float = 27.0) -> dict:
    """The supply current (A) of every cell of ``cells`` (tag -> :class:`Cell`) at zero
    signal, from one ``.op`` in ngspice with the SkyWater models."""
    from .models import run_with_models

    plot = run_with_models(op_netlist(cells, corner, temp), name="op")[0]
    return {tag: _supply_of(plot, cell.kind, tag) for tag, cell in cells.items()}


# --- bias ----------------------------------------------------------------------------

_LENGTH = re.compile(r"(\bl\s*=\s*)([0-9.eE+-]+)", re.I)


def bias_length(cell: Cell) -> float:
    """The length (um) of the cell's bias resistor :data:`BIAS_INSTANCE`; a
    :class:`ValidationError` for a cell without one."""
    for line in cell.text.splitlines():
        words = line.split()
        if words and words[0] == BIAS_INSTANCE:
            m = _LENGTH.search(line)
            if m:
                return float(m.group(2))
    raise ValidationError(f"cell {cell.name} has no bias resistor {BIAS_INSTANCE} with a "
                          "length l=...; a bias sweep scales that resistor (name yours so, "
                          "or characterize it without --bias)")


def with_bias(cell: Cell, scale: float, name: str | None = None) -> Cell:
    """``cell`` with its bias resistor's conductance times ``scale`` (its length over
    ``scale``): about ``scale`` times the bias current. ``name``: the copy's
    subcircuit name (default ``<name>_bias<scale>``)."""
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValidationError(f"a bias scale must be a number > 0, not {scale!r}")
    length = bias_length(cell) / scale
    new = name or f"{cell.name}_bias{scale:g}".replace(".", "p")
    lines = []
    for line in cell.text.splitlines():
        words = line.split()
        if words and words[0] == BIAS_INSTANCE:
            line = _LENGTH.sub(lambda m: f"{m.group(1)}{length:.6g}", line, count=1)
        elif words and words[0].lower() in (".subckt", ".ends") and len(words) > 1 \
                and words[1] == cell.name:
            line = line.replace(cell.name, new, 1)
        lines.append(line)
    return replace(cell, name=new, text="\n".join(lines) + "\n")


def bias_sweep(cell: Cell, scales, corner: str = "tt", temp: float = 27.0) -> list[dict]:
    """At each bias ``scale`` (:func:`with_bias`): the supply current (A) at zero signal
    and the -3 dB frequency (Hz, as :func:`aann.cells.bandwidth.measure_f3db` measures
    it), every copy in one ngspice run (``.op`` and ``.ac``). Rows ``scale``,
    ``Rb_length_um``, ``Isupply_A``, ``f3dB_Hz``."""
    from .bandwidth import PER_DECADE, START, STOP, f3db
    from .models import run_with_models, testbench_head

    scales = [float(s) for s in scales]
    if not scales:
        raise ValidationError("a bias sweep needs at least one bias scale")
    copies = [with_bias(cell, s, f"{cell.name}_b{k}") for k, s in enumerate(scales)]
    lines = testbench_head(f"aann: {cell.name} at {len(scales)} bias settings", corner, temp,
                           *(c.text for c in copies), supply=False)
    outputs = []
    for k, c in enumerate(copies):
        lines += _instance(c, f"op{k}", "op")[0]
        ac_lines, out = _instance(c, f"ac{k}", "ac")
        lines += ac_lines
        outputs.append(out)
    lines += [".op", f".ac dec {PER_DECADE} {START:g} {STOP:g}", ".end", ""]
    plots = run_with_models("\n".join(lines), name="bias")
    op = next(p for p in plots if not np.iscomplexobj(p.data))  # .op: one real point
    ac = next(p for p in plots if np.iscomplexobj(p.data))
    rows = []
    for k, (scale, c) in enumerate(zip(scales, copies)):
        rows.append({"scale": scale, "Rb_length_um": bias_length(c),
                     "Isupply_A": _supply_of(op, cell.kind, f"op{k}"),
                     "f3dB_Hz": f3db(ac.sweep, ac[outputs[k]])})
    return rows


# --- area ------------------------------------------------------------------------------

_WIDTH_IN_NAME = re.compile(r"_(\d+)p(\d+)$")
_PARAM = re.compile(r"\b([WLwl])\s*=\s*([0-9.eE+-]+)")


def device_area(cell: Cell) -> dict:
    """The devices of ``cell``'s subcircuit(s): ``active_um2`` the MOSFETs' gate area
    (sum of ``W * L``), ``passive_um2`` the resistors' drawn area (``w * l``, the width
    read from the model name, e.g. ``..._0p35`` = 0.35 um), ``mosfets``, ``resistors``
    (counts) and ``unknown``, the instances neither (not counted)."""
    active = passive = 0.0
    mos = res = 0
    unknown = []
    for line in re.sub(r"\n\s*\+", " ", cell.text).splitlines():
        words = line.split()
        if not words or words[0][0].lower() != "x":
            continue
        model = next((w for w in reversed(words[1:]) if "=" not in w), "")
        params = {k.lower(): float(v) for k, v in _PARAM.findall(line)}
        if "fet" in model.lower() and {"w", "l"} <= set(params):
            active += params["w"] * params["l"]
            mos += 1
        elif "res" in model.lower() and "l" in params:
            m = _WIDTH_IN_NAME.search(model)
            width = params.get("w", float(f"{m.group(1)}.{m.group(2)}") if m else math.nan)
            if not math.isfinite(width):
                unknown.append(words[0])
                continue
            passive += width * params["l"]
            res += 1
        elif model.lower().startswith("aann_") or model.lower() in (
                n.lower() for n in _subckt_names(cell.text)):
            continue  # a subcircuit of the same file: its devices are counted above
        else:
            unknown.append(words[0])
    return {"active_um2": active, "passive_um2": passive, "mosfets": mos, "resistors": res,
            "unknown": unknown}


def _subckt_names(text: str) -> list[str]:
    return re.findall(r"^\s*\.subckt\s+(\S+)", text, re.I | re.M)


def cell_area(cell: Cell, layout_factor: float = LAYOUT_FACTOR) -> float:
    """The cell's area estimate (m^2): ``layout_factor`` times its MOSFETs' gate area,
    plus its resistors' drawn area (:func:`device_area`)."""
    d = device_area(cell)
    return (layout_factor * d["active_um2"] + d["passive_um2"]) * 1e-12
