"""What ``aann characterize`` writes: ``fit.toml``, ``sweep.csv``, ``fit.png``,
``summary.json`` (every file atomically)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..blocks import law_class, section_params
from ..io import atomic_file, atomic_savefig, atomic_write
from ..params import params_of
from ..spec import _toml_value
from .characterization import Characterization, evaluate, full_scale
from .tabulated import COLUMNS

UNITS = {"multiplier": ("V", "A"), "activation": ("A", "V"), "derivative": ("A", "V"),
         "charging": ("V", "A"), "error": ("V", "V")}


def fit_toml(ch: Characterization, table: Path) -> str:
    """The ``[blocks.<kind>]`` section of the best analytic law, with the table law's
    ``table`` key commented out (``law = "table"`` and that key switch to it); loadable
    into a description."""
    s = ch.summary()
    t_max = s["table_max_error_pct"]
    lines = [f"# aann characterize {ch.cell.name}: SkyWater 130 nm, corner {ch.corner}, "
             f"{ch.temp:g} C",
             "# fitted over " + ", ".join(f"{n} in [{lo:.4g}, {hi:.4g}]" for n, (lo, hi) in
                                         zip(s["inputs"], s["range"]))
             + " (signals: node voltage - Vcm, currents in A)",
             f"# largest error in % of full scale ({s['full_scale']:.4g}): "
             + ", ".join(f"{law} {f['max_error_pct']:.3f}" for law, f in s["fits"].items())
             + f", table {t_max:.3f} (at the midpoints)",
             f'# law = "table" reads {table.name}, the measured surface with the cell\'s '
             "offsets in it: a table takes Km (and, as a trim, offsets) but not the "
             "fitted offsets below"]
    if ch.kind == "error":
        lines[-1] = ("# the error block has no tabulated law; sweep.csv holds the measured "
                     "surface")
    if ch.kind == "charging":  # the charging source's keys are [constants] and [nonideal]
        lines[-1] = "# the charging source has no tabulated law (yet); Vteach = 1 V is learning"
        lines.append("[constants]")
        lines += [f"{key} = {float(value)!r}" for key, value in ch.best.constants.items()]
        lines += _supply_line(ch)
        limit = "tanh" if ch.best.law == "tanh" else "none"
        lines += ["[nonideal]", f'current_limit = "{limit}"']
        return "\n".join(lines) + "\n"
    lines += [f"[blocks.{ch.kind}]", f'law = "{ch.best.law}"']
    for key, value in ch.best.constants.items():
        lines.append(f"{key} = {float(value)!r}")
    f3dB = ch.extra.get("f3dB_Hz")
    if f3dB is not None and math.isfinite(f3dB):
        # the block's bandwidth, where the laws have a pole (the dynamics issue)
        key = "f3dB" if "f3dB" in section_params(ch.kind) else "# f3dB"
        lines.append(f"{key} = {f3dB!r}  # Hz, from the AC analysis")
    if "chopped" in ch.extra:  # what limits a chopper is this, not the AC's f3dB
        lines.append(f"# {chopped_text(ch.extra['chopped'])}")
    lines += _supply_line(ch)
    if ch.kind == "error":  # no table law; the gain the difference law takes as 1
        gain = next((f for f in ch.fits if f.law == "gain"), None)
        if gain is not None:
            lines.append(f"# the cell's gain: Ke = {gain.constants['Ke']!r}, Voff = "
                         f"{gain.constants['Voff']!r} V ({gain.max_error_pct:.3f} % of full "
                         "scale); the error block's law has no gain key (Ke = 1)")
        return "\n".join(lines) + "\n"
    # the table law's key, commented out: the fitted law does not read it (refused)
    unread = [k for k in ch.best.constants if k not in params_of(law_class(ch.kind, "table"))]
    note = f' (and drop {", ".join(unread)})' if unread else ""
    lines.append(f"# table = {_toml_value(str(table.resolve()))}  # with law = \"table\"{note}")
    return "\n".join(lines) + "\n"


def _supply_line(ch: Characterization) -> list[str]:
    """``Isupply`` (A), the cell's supply current at zero signal (docs/energy.md)."""
    current = ch.extra.get("Isupply_A")
    if current is None or not math.isfinite(current):
        return []
    return [f"Isupply = {float(current)!r}  # A, supply current at zero signal ({ch.corner}, "
            f"{ch.temp:g} C)"]


def bias_csv(ch: Characterization) -> str:
    """The bias sweep (:func:`aann.cells.supply.bias_sweep`): ``scale, Rb_length_um,
    Isupply_A, f3dB_Hz`` per bias setting."""
    rows = ch.extra["bias_sweep"]
    columns = ("scale", "Rb_length_um", "Isupply_A", "f3dB_Hz")
    return ",".join(columns) + "\n" + "".join(
        ",".join(f"{float(r[c]):.10g}" for c in columns) + "\n" for r in rows)


def sweep_csv(ch: Characterization) -> str:
    """The inputs, the measured output, the analytic law's and the table's, per point."""
    inputs, out = COLUMNS[ch.kind]
    X = [x.ravel() for x in ch.sweep.inputs]
    fit = np.ravel(evaluate(ch.kind, ch.best.block(ch.kind), ch.sweep.inputs))
    table = np.ravel(np.asarray(ch.table(*ch.sweep.inputs, m=np)))
    header = [*inputs, f"{out}_measured", f"{out}_fit", f"{out}_table"]
    rows = np.column_stack([*X, ch.sweep.y.ravel(), fit, table])
    return ",".join(header) + "\n" + "\n".join(",".join(f"{v:.10g}" for v in r)
                                               for r in rows) + "\n"


def figure(ch: Characterization):
    """Measured (markers) against the fitted law (lines) and the table (dashed), like the
    paper's Fig. 12, above the errors in % of full scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots import STYLE

    inputs, out = COLUMNS[ch.kind]
    uin, uout = UNITS[ch.kind]
    fs = full_scale(ch.sweep)
    block = ch.best.block(ch.kind)
    with plt.rc_context(STYLE):
        fig, (ax, ax_err) = plt.subplots(2, 1, figsize=(5.0, 5.0), sharex=True,
                                         gridspec_kw={"height_ratios": [3, 1.2]})
        x = ch.sweep.axes[0]
        fine = np.linspace(x[0], x[-1], 200)
        scale_in, scale_out = {"multiplier": (1.0, 1e6), "charging": (1.0, 1e6),
                               "error": (1.0, 1.0)}.get(
            ch.kind, (1e6, 1.0))
        if len(ch.sweep.axes) == 2:  # the multiplier, the error cell
            current = ch.kind == "multiplier"
            columns = range(0, len(ch.sweep.axes[1]), max(1, len(ch.sweep.axes[1]) // 5))
            for j in columns:
                v2 = ch.sweep.axes[1][j]
                line, = ax.plot(fine, evaluate(ch.kind, block, (fine, v2)) * scale_out,
                                label=f"{inputs[1]} = {v2:+.2f} V")
                ax.plot(x, ch.sweep.y[:, j] * scale_out, "o", ms=3, color=line.get_color())
                ax.plot(fine, np.asarray(ch.table(fine, v2, m=np)) * scale_out, "--",
                        color=line.get_color(), lw=0.7)
                err = (evaluate(ch.kind, block, (x, v2)) - ch.sweep.y[:, j]) / fs * 100
                ax_err.plot(x, err, "o-", ms=2, color=line.get_color())
            ax.legend(fontsize=6)
            ax.set_ylabel("I [uA]" if current else f"{out} - Vcm [V]")
            ax_err.set_xlabel(f"{inputs[0]} [V] (node voltage - Vcm)")
        else:
            ax.plot(fine * scale_in, np.asarray(evaluate(ch.kind, block, (fine,))) * scale_out,
                    label=f"{ch.best.law} fit")
            ax.plot(fine * scale_in, np.asarray(ch.table(fine, m=np)) * scale_out, "--", lw=0.7,
                    label="table")
            ax.plot(x * scale_in, ch.sweep.y * scale_out, "o", ms=3, label="ngspice")
            ax.legend(fontsize=7)
            ax.set_ylabel(f"{out} [uA]" if ch.kind == "charging" else f"{out} - Vcm [V]")
            err = (evaluate(ch.kind, block, (x,)) - ch.sweep.y) / fs * 100
            ax_err.plot(x * scale_in, err, "o-", ms=2)
            ax_err.set_xlabel("Vgrad [V] (node voltage - Vcm)" if ch.kind == "charging"
                              else "Inet [uA]")
        ax_err.set_ylabel("fit error [% FS]")
        ax.set_title(f"{ch.cell.name} ({ch.corner}, {ch.temp:g} C): measured vs "
                     f"{ch.best.law} law", fontsize=8)
        fig.tight_layout()
    return fig


def chopped_text(chopped: dict) -> str:
    """:func:`aann.cells.bandwidth.chopped_poles`'s figures in words."""
    def pole(f):
        return f"{f / 1e6:.3g} MHz" if math.isfinite(f) else "no single pole"

    one, two = chopped["input1"], chopped["input2"]
    return (f"chopped at {chopped['f_chop_Hz'] / 1e3:g} kHz (+-{chopped['amplitude_V']:g} V "
            f"square wave): input 1 keeps {one['gain']:.3f} of the product (a "
            f"{pole(one['f3dB_Hz'])} pole), input 2 {two['gain']:.3f} ({pole(two['f3dB_Hz'])})")


def summary_line(ch: Characterization) -> str:
    """One line: the law kept, its largest error and the table's, in % of full scale."""
    s = ch.summary()
    constants = ", ".join(f"{k} = {v:.4g}" for k, v in ch.best.constants.items())
    f3dB = ch.extra.get("f3dB_Hz")
    band = f"; f3dB {f3dB / 1e6:.3g} MHz" if f3dB is not None and math.isfinite(f3dB) else ""
    supply = ch.extra.get("Isupply_A")
    if supply is not None and math.isfinite(supply):
        band += f"; Isupply {supply * 1e6:.4g} uA"
    if "chopped" in ch.extra:
        band += f"; {chopped_text(ch.extra['chopped'])}"
    return (f"{ch.cell.name} ({ch.corner}, {ch.temp:g} C): law {ch.best.law} ({constants}); "
            f"largest error {s['fit_max_error_pct']:.2f} % of full scale, table "
            f"{s['table_max_error_pct']:.3f} % at the midpoints{band}; {ch.seconds:.1f} s")


def write_outputs(ch: Characterization, out) -> list[Path]:
    """Every output file of ``ch`` into folder ``out`` (which exists)."""
    import matplotlib.pyplot as plt

    out = Path(out)
    paths = [out / name for name in ("sweep.csv", "fit.toml", "summary.json", "fit.png")]
    csv_path, toml_path, json_path, png_path = paths
    atomic_write(csv_path, sweep_csv(ch))
    atomic_write(toml_path, fit_toml(ch, csv_path))
    with atomic_file(json_path) as f:
        json.dump(ch.summary(), f, indent=1)
    if "bias_sweep" in ch.extra:
        paths.append(out / "bias.csv")
        atomic_write(out / "bias.csv", bias_csv(ch))
    fig = figure(ch)
    try:
        atomic_savefig(fig, png_path)
    finally:
        plt.close(fig)
    return paths
