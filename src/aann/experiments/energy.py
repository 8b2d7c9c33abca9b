"""Beyond the paper: Tabs. 1-2 redone with energy. What training on the circuit costs in
power, energy and area, against digital training of the same network.

Networks (:data:`NETWORKS`): XOR 2-8-1 (4 rows in order, 1000 epochs) and digits 64-16-10
(``[data] test_fraction`` 0.25, rows shuffled, 20 epochs), seeds 0..9, trained by the
native engine at the paper's settings (ideal blocks, ``t_row`` = 0.1 ps, ``lambda`` = 1).
That run gives the charging energy, the peak charging current and what the networks
learn. At a fixed ``lambda`` (``Keta = lambda C / t_row``) the ideal circuit's weights
follow the same path whatever ``t_row``: the currents scale as ``1 / t_row`` and the
charge each source moves, hence the charging energy, does not change (checked on XOR by
a run at the current-limited ``t_row``). For two sets of blocks:

* **behavioural**: every block with a pole at the paper's 40 GHz (the four-quadrant
  multiplier's bandwidth the paper quotes, its ref. [21]), each drawing the SkyWater
  cell's supply current (the defaults of ``Isupply``): the paper's speed at the cells'
  power, a bound no cell here reaches;
* **sky130**: the SkyWater 130 nm cells as characterized here: each block's ``f3dB``
  and ``Isupply`` measured in ngspice (:func:`aann.cells.supply.bias_sweep` at the bias
  as drawn; the error block the sigmoid cell's), the charging source's ``Imax`` its
  cell's (the tanh law fitted to its sweep);

the shortest row allowed (a) by ``Imax`` (``t_row = 0.1 ps x peak / Imax``) and (b) by
the bandwidth (the error path's 1 % settling time within one row, the bound ``reproduce
limits`` measured: :meth:`aann.Circuit.settling_time`), the training time at the longer
of the two (epochs x rows x ``t_row``), the static power, the energy per training (static
+ charging), per epoch and per inference (a forward pass settled within 1 %), and the
area (:mod:`aann.energy`). Beside them the digital baseline: per-row SGD in JAX at ``lr =
lambda`` from the same initial weights in the same row order (:func:`aann.digital.sgd_jax`),
its wall time measured on this machine, its FLOP count (:func:`aann.digital.sgd_flops`)
and the energy of those FLOPs at the best measured CPU and GPU efficiencies
(:data:`aann.energy.J_PER_FLOP`).

Bias (:data:`BIASES`): every cell's bias resistor scaled (bias current about that factor),
each cell's supply current and ``f3dB`` measured at each, and the energy per training of
both networks recomputed: the row as short as the bandwidth at that bias allows (or
``Imax``), the laws assumed re-trimmed (the trajectory and charging energy those at the
bias as drawn). Where the energy is lowest is the optimum of bandwidth bought with power.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np

from ._common import load_average, md_table, save_figure, write_csv
from .report import write_fragment

T_ROW = 0.1e-12  # s: lambda = 1 at the paper's Keta / C
SEEDS = 10
NETWORKS = {"xor": ("xor", (2, 8, 1), 1000), "digits16": ("digits", (64, 16, 10), 20)}
"""key: (data set, sizes, epochs); the digits network and its encoding as ``reproduce
rules`` trains it."""
TEST_FRACTION = 0.25
PAPER_F3DB = 40e9
"""Hz: "the four-quadrant multiplier, which can tend to 40GHz [21]" (the paper, 4.4)."""
BIASES = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 2.0, 3.0)
"""Bias scales of the cells (1: as drawn)."""
POLE_CELL = {"multiplier": "multiplier", "activation": "sigmoid", "derivative": "derivative",
             "error": "sigmoid"}
"""The cell whose measured ``f3dB`` a block kind's pole takes (the error block has no
cell: the sigmoid's, as for its supply current)."""
SUPPLY_CELL = {**POLE_CELL, "charging": "charging"}
SETS = ("behavioural", "sky130")
LABELS = {"behavioural": "behavioural blocks at 40 GHz", "sky130": "SkyWater 130 nm cells",
          "cpu": "digital SGD, CPU", "gpu": "digital SGD, GPU"}


def label(net: str) -> str:
    dataset, sizes, _ = NETWORKS[net]
    return f"{dataset} {'-'.join(map(str, sizes))}"


def network_config(net: str, epochs: int, seeds: int):
    """The paper's circuit for network ``net`` (ideal blocks, ``t_row`` = 0.1 ps)."""
    import aann

    dataset, sizes, _ = NETWORKS[net]
    training = {"dataset": dataset, "t_row": T_ROW, "epochs": epochs, "seeds": seeds,
                "record": "mse"}
    extra = {}
    if dataset != "xor":
        training["order"] = "shuffle"
        extra["data"] = {"test_fraction": TEST_FRACTION}
    return aann.Config(network={"sizes": sizes}, training=training, **extra)


def with_blocks(cfg, f3dB: dict, Isupply: dict):
    """``cfg`` with each block kind's pole ``f3dB[kind]`` (Hz; the multiplier's for every
    role) and supply current ``Isupply[kind]`` (A; ``charging``: the charging source's)."""
    blocks = {kind: {"f3dB": f3dB[kind], "Isupply": Isupply[kind]} for kind in POLE_CELL}
    return cfg.replace(blocks=blocks, constants={"Isupply": Isupply["charging"]})


# --- the cells ----------------------------------------------------------------------------

def measure_cells(biases=BIASES, progress: bool = False) -> dict:
    """Each cell's supply current and ``f3dB`` at every bias scale (1 included), and the
    charging cell's ``Imax`` (its tanh law's; else its sweep's largest current)."""
    from ..cells import CELLS, characterize
    from ..cells.characterization import full_scale
    from ..cells.supply import bias_sweep, cell_area
    from ..progress import progress_bar

    scales = sorted(set(float(b) for b in biases) | {1.0})
    out = {"scales": scales, "cells": {}}
    names = list(dict.fromkeys(SUPPLY_CELL.values()))
    with progress_bar(progress, total=len(names) + 1, label="cells") as bar:
        for k, name in enumerate(names):
            bar(k, f"{name}: supply current and f3dB at {len(scales)} biases")
            out["cells"][name] = {"bias": bias_sweep(CELLS[name], scales),
                                  "area_m2": cell_area(CELLS[name])}
        bar(len(names), "charging cell: its Imax")
        ch = characterize(CELLS["charging"], points=21, bandwidth=False)
        out["Imax"] = float(ch.best.constants["Imax"]) if ch.best.law == "tanh" else \
            full_scale(ch.sweep)
        out["Imax_law"] = ch.best.law
        bar(len(names) + 1)
    return out


def at_scale(cells: dict, scale: float) -> tuple[dict, dict]:
    """``(f3dB, Isupply)`` per block kind at bias ``scale`` (NaN where the cell fails)."""
    def row(name):
        return next(r for r in cells["cells"][name]["bias"] if r["scale"] == scale)

    f3dB = {kind: float(row(cell)["f3dB_Hz"]) for kind, cell in POLE_CELL.items()}
    Isupply = {kind: float(row(cell)["Isupply_A"]) for kind, cell in SUPPLY_CELL.items()}
    return f3dB, Isupply


# --- one network ----------------------------------------------------------------------------

def _digital(prepared) -> dict:
    """Per-row SGD of every network from its initial weights in its row order (JAX,
    compiled, the wall time measured on this machine), and its FLOPs."""
    from ..baselines import digital_sgd
    from ..digital import sgd_flops

    runs = digital_sgd(prepared)
    flops = sgd_flops(prepared.config.network.sizes)
    s = prepared.schedule
    return {"seconds": float(np.median([r.seconds for r in runs])),
            "flops_row": flops["row"], "flops_inference": flops["inference"],
            "flops": flops["row"] * s.dataset.rows * s.epochs}


def run_network(net: str, epochs: int, seeds: int, engine: str = "native",
                progress: bool = False) -> dict:
    """The circuit at the paper's settings and the digital baseline of ``net``."""
    from ..engines import get_engine
    from ..prepare import prepare
    from ..train import train_prepared

    cfg = network_config(net, epochs, seeds)
    prepared = prepare(cfg)
    t0 = time.perf_counter()
    r = train_prepared(prepared, get_engine(engine), progress=progress)
    wall = time.perf_counter() - t0
    e = r.energy
    out = {"epochs": epochs, "rows": r.rows, "seeds": [int(s) for s in r.seeds],
           "wall": wall, "peak": float(np.max(r.peak_current_max)),
           "charging": float(np.median(e.energy_charging)),
           "charging_range": (float(np.min(e.energy_charging)),
                              float(np.max(e.energy_charging))),
           "blocks": e.blocks, "area": e.area, "area_parts": e.area_parts,
           "learned": int(np.sum(r.learned())), "n": r.n_networks,
           "final_mse": float(np.median(r.final("mse")))}
    if "test_accuracy" in r.metrics:
        out["test_accuracy"] = float(np.median(r.final("test_accuracy")))
    out["digital"] = _digital(prepared)
    return out


def check_invariance(net: str, epochs: int, seeds: int, t_row: float, engine: str,
                     progress: bool = False) -> dict:
    """The same training at ``t_row`` with ``Keta = C / t_row`` (lambda = 1): its charging
    energy and final MSE, to set beside the 0.1 ps run's."""
    import aann

    cfg = network_config(net, epochs, seeds)
    cfg = cfg.replace(training={"t_row": t_row},
                      constants={"Keta": cfg.constants.C / t_row})
    r = aann.train(cfg, engine=engine, progress=progress)
    return {"t_row": t_row, "charging": float(np.median(r.energy.energy_charging)),
            "final_mse": float(np.median(r.final("mse"))),
            "peak": float(np.max(r.peak_current_max))}


def figures_of(base_cfg, f: dict, f3dB: dict, Isupply: dict, Imax: float) -> dict:
    """One block set's figures for network facts ``f``: both shortest rows, the training
    time, static power, energies and area."""
    from ..circuit import build_circuit
    from ..energy import forward_settling_time, static_power

    cfg = with_blocks(base_cfg, f3dB, Isupply)
    circuit = build_circuit(cfg)
    t_imax = T_ROW * f["peak"] / Imax
    t_bw = circuit.settling_time()
    t_row = max(t_imax, t_bw)
    T = f["epochs"] * f["rows"] * t_row
    P = static_power(circuit)
    settle = forward_settling_time(circuit)
    return {"t_row_Imax": t_imax, "t_row_bandwidth": t_bw, "t_row": t_row,
            "limited_by": "Imax" if t_imax >= t_bw else "bandwidth", "T": T,
            "power": P, "static": P * T, "charging": f["charging"],
            "training": P * T + f["charging"], "epoch": (P * T + f["charging"]) / f["epochs"],
            "inference": P * settle, "settle_forward": settle, "Imax": Imax}


def bias_curve(base_cfg, f: dict, cells: dict) -> list[dict]:
    """The energy per training at each bias scale (the Imax of the charging cell scaled
    with its supply current)."""
    out = []
    _, I1 = at_scale(cells, 1.0)
    for scale in cells["scales"]:
        f3dB, Isupply = at_scale(cells, scale)
        if not all(math.isfinite(x) and x > 0 for x in f3dB.values()):
            out.append({"scale": scale, "ok": False})
            continue
        Imax = cells["Imax"] * Isupply["charging"] / I1["charging"]
        fig = figures_of(base_cfg, f, f3dB, Isupply, Imax)
        out.append({"scale": scale, "ok": True, "Isupply_multiplier": Isupply["multiplier"],
                    **fig})
    return out


# --- the run ----------------------------------------------------------------------------------

def run(out, *, engine: str = "native", networks=tuple(NETWORKS), epochs: int | None = None,
        seeds: int = SEEDS, biases=BIASES, cells: dict | None = None,
        J_per_flop: dict | None = None, progress: bool = False) -> dict:
    """Every network, both block sets, the digital baseline, the bias curve; figures, CSVs
    and the ``energy`` section of the report. ``epochs``: every network's (default each its
    own, :data:`NETWORKS`); ``cells``: the cells' measured figures
    (:func:`measure_cells`; default: measured here, needs ngspice and sky130);
    ``J_per_flop``: the digital energy per FLOP, ``{"cpu": J, "gpu": J}`` (default
    :data:`aann.energy.J_PER_FLOP`; a price given here is stated as the user's)."""
    from ..energy import J_PER_FLOP, J_PER_FLOP_SOURCES, block_areas, digital_energy
    from ..io import ensure_writable_dir
    from ..progress import progress_bar, reporting_into

    out = ensure_writable_dir(Path(out))
    started = time.perf_counter()
    load_before = load_average()
    if cells is None:
        cells = measure_cells(biases, progress)
    prices = dict(J_PER_FLOP) if J_per_flop is None else {**J_PER_FLOP, **J_per_flop}
    sources = {dev: J_PER_FLOP_SOURCES[dev] if J_per_flop is None or dev not in J_per_flop
               else "given by the user" for dev in prices}
    facts = {"networks": {}, "cells": cells, "engine": engine, "seeds": seeds,
             "J_per_flop": prices, "J_per_flop_sources": sources,
             "block_areas": block_areas()}
    with progress_bar(progress, total=len(networks), label="energy") as bar:
        for k, net in enumerate(networks):
            e = epochs or NETWORKS[net][2]
            bar(k, label(net))
            with reporting_into(lambda done, description=None, k=k: bar(done), k, k + 1):
                f = run_network(net, e, seeds, engine, progress)
            base = network_config(net, e, seeds)
            f3dB_b = dict.fromkeys(POLE_CELL, PAPER_F3DB)
            f3dB_c, Isupply_c = at_scale(cells, 1.0)
            defaults = {kind: getattr(base.blocks, kind).Isupply for kind in POLE_CELL}
            defaults["charging"] = base.constants.Isupply
            f["sets"] = {
                "behavioural": figures_of(base, f, f3dB_b, defaults, base.constants.Imax),
                "sky130": figures_of(base, f, f3dB_c, Isupply_c, cells["Imax"])}
            d = f["digital"]
            d["energy"] = digital_energy(d["flops"], prices)
            d["inference"] = digital_energy(d["flops_inference"], prices)
            f["bias"] = bias_curve(base, f, cells)
            if NETWORKS[net][0] == "xor":  # the charging energy at the Imax-limited row
                f["invariance"] = check_invariance(net, e, seeds,
                                                   f["sets"]["behavioural"]["t_row_Imax"],
                                                   engine, progress)
            facts["networks"][net] = f
            bar(k + 1)
    _write_csvs(out, facts)
    figs = {"bias": save_figure(bias_figure(facts), out, "energy_bias"),
            "compare": save_figure(compare_figure(facts), out, "energy_compare")}
    facts["seconds"] = time.perf_counter() - started
    facts["load"] = (load_before, load_average())
    facts["verdicts"] = {net: verdict(f) for net, f in facts["networks"].items()}
    write_fragment(out, "energy", _section(facts, figs))
    return facts


def optimum(f: dict) -> dict | None:
    """The bias point of lowest energy per training (None: no working point)."""
    ok = [p for p in f["bias"] if p.get("ok")]
    return min(ok, key=lambda p: p["training"]) if ok else None


KNEE = 0.1
"""The bias "knee": the highest bias whose energy per training is within this share of
the lowest (less bias saves little energy there and costs training time)."""


def knee(f: dict) -> dict | None:
    """The highest working bias point within :data:`KNEE` of the lowest energy."""
    best = optimum(f)
    if best is None:
        return None
    near = [p for p in f["bias"] if p.get("ok") and p["training"] <= (1 + KNEE) *
            best["training"]]
    return max(near, key=lambda p: p["scale"])


def verdict(f: dict) -> dict:
    """The circuit's energy per training against digital's, as ratios (> 1: the circuit
    costs more): for each block set against the CPU and the GPU figure."""
    d = f["digital"]["energy"]
    return {s: {dev: f["sets"][s]["training"] / d[dev] for dev in d} for s in SETS}


# --- outputs ------------------------------------------------------------------------------------

def _write_csvs(out: Path, facts: dict) -> None:
    header = ["network", "blocks", "t_row_Imax_s", "t_row_bandwidth_s", "t_row_s",
              "limited_by", "training_time_s", "power_static_W", "energy_static_J",
              "energy_charging_J", "energy_training_J", "energy_epoch_J",
              "energy_inference_J", "area_m2", "wall_seconds", "flops"]
    rows = []
    for net, f in facts["networks"].items():
        for s in SETS:
            x = f["sets"][s]
            rows.append([net, s, x["t_row_Imax"], x["t_row_bandwidth"], x["t_row"],
                         x["limited_by"], x["T"], x["power"], x["static"], x["charging"],
                         x["training"], x["epoch"], x["inference"], f["area"], "", ""])
        d = f["digital"]
        for dev in d["energy"]:
            rows.append([net, f"digital_{dev}", "", "", "", "", d["seconds"], "", "", "",
                         d["energy"][dev], d["energy"][dev] / f["epochs"],
                         d["inference"][dev], "", d["seconds"], float(d["flops"])])
    write_csv(out / "energy.csv", header, rows)
    write_csv(out / "energy_cells.csv", ["cell", "scale", "Rb_length_um", "Isupply_A",
                                         "f3dB_Hz", "area_m2"],
              [[name, r["scale"], r["Rb_length_um"], r["Isupply_A"], r["f3dB_Hz"],
                c["area_m2"]] for name, c in facts["cells"]["cells"].items()
               for r in c["bias"]])
    write_csv(out / "energy_bias.csv", ["network", "scale", "works", "t_row_s", "limited_by",
                                        "power_static_W", "energy_training_J"],
              [[net, p["scale"], int(p["ok"]), p.get("t_row", ""), p.get("limited_by", ""),
                p.get("power", ""), p.get("training", "")]
               for net, f in facts["networks"].items() for p in f["bias"]])


def bias_figure(facts: dict):
    """Energy per training against the cells' bias (the multiplier cell's supply current on
    the axis), one line per network, its optimum marked; dashed, the energy if the row
    could be as short as Imax allows (the bandwidth unlimited)."""
    import matplotlib.pyplot as plt

    from .. import plots

    with plt.rc_context(plots.STYLE):
        fig, ax = plt.subplots(figsize=(5.2, 3.6), constrained_layout=True)
        for net, f in facts["networks"].items():
            ok = [p for p in f["bias"] if p["ok"]]
            if not ok:
                continue
            x = np.array([p["Isupply_multiplier"] for p in ok]) * 1e6
            y = np.array([p["training"] for p in ok])
            line, = ax.loglog(x, y, "o-", label=label(net))
            floor = np.array([p["power"] * f["epochs"] * f["rows"] * p["t_row_Imax"] +
                              p["charging"] for p in ok])
            ax.loglog(x, floor, "--", lw=0.8, color=line.get_color())
            best, k = optimum(f), knee(f)
            ax.loglog([best["Isupply_multiplier"] * 1e6], [best["training"]], "*", ms=12,
                      color=line.get_color())
            ax.loglog([k["Isupply_multiplier"] * 1e6], [k["training"]], "o", ms=13, mfc="none",
                      color=line.get_color())
        ax.set_xlabel("multiplier cell supply current [uA] (bias scaled)")
        ax.set_ylabel("energy per training [J]")
        ax.set_title("SkyWater cells: bandwidth bought with power (star: lowest energy, ring: "
                     f"within {KNEE:.0%} of it; dashed: Imax-limited rows)", fontsize=7)
        ax.legend(fontsize=7)
    return fig


def compare_figure(facts: dict):
    """Energy per training of each network: both block sets and digital SGD (CPU, GPU)."""
    import matplotlib.pyplot as plt

    from .. import plots

    nets = list(facts["networks"])
    bars = ["behavioural", "sky130", "cpu", "gpu"]
    with plt.rc_context(plots.STYLE):
        fig, ax = plt.subplots(figsize=(5.2, 3.4), constrained_layout=True)
        width = 0.8 / len(bars)
        for j, b in enumerate(bars):
            ys = [facts["networks"][n]["sets"][b]["training"] if b in SETS else
                  facts["networks"][n]["digital"]["energy"][b] for n in nets]
            ax.bar(np.arange(len(nets)) + (j - (len(bars) - 1) / 2) * width, ys, width,
                   label=LABELS[b])
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(nets)), [label(n) for n in nets])
        ax.set_ylabel("energy per training [J]")
        ax.legend(fontsize=7)
    return fig


def _e(x: float, unit: str) -> str:
    from ..energy import eng

    return eng(x, unit)


def _times(r: float) -> str:
    """A ratio as plain words: ``3.2x more`` or ``5.1x less``."""
    return f"{r:.3g}x more" if r >= 1 else f"{1 / r:.3g}x less"


def _section(facts: dict, figs: dict) -> str:
    cells = facts["cells"]

    def drawn(name):  # the cell at its bias as drawn
        return next(r for r in cells["cells"][name]["bias"] if r["scale"] == 1.0)

    lines = ["## Energy, power and area against digital (beyond the paper)", "",
             "`aann reproduce energy` (docs/energy.md): the paper's Tabs. 1-2 "
             "redone with energy. Each network trained by the native engine at the paper's "
             f"settings (ideal blocks, `t_row` = 0.1 ps, lambda = 1, seeds 0..{facts['seeds'] - 1})"
             " gives the charging energy and the peak current; each set of blocks gives the "
             "shortest row allowed by `Imax` (0.1 ps x peak / Imax) and by its bandwidth (the "
             "error path settled within one row), its static power and area. Energy per "
             "training = static power x epochs x rows x `t_row` + charging energy; per "
             "inference = static power x the forward path's settling time. The digital "
             "baseline is per-row SGD in JAX on this machine, its FLOPs priced at "
             f"{facts['J_per_flop']['cpu'] * 1e12:.3g} pJ/FLOP (CPU: "
             f"{facts['J_per_flop_sources']['cpu']}) and "
             f"{facts['J_per_flop']['gpu'] * 1e12:.3g} pJ/FLOP (GPU: "
             f"{facts['J_per_flop_sources']['gpu']}), the best measured efficiencies: a "
             "lower bound on what the digital training costs.", "",
             "The SkyWater cells as measured here (tt, 27 C, 1.8 V, zero signal): "
             + ", ".join(f"{name} {drawn(name)['Isupply_A'] * 1e6:.4g} uA, "
                         f"f3dB {_e(drawn(name)['f3dB_Hz'], 'Hz')}, "
                         f"{cells['cells'][name]['area_m2'] * 1e12:.0f} um^2"
                         for name in cells["cells"])
             + f"; the charging cell's Imax {cells['Imax'] * 1e6:.3g} uA ({cells['Imax_law']} "
             "law). The behavioural blocks take the same supply currents at the paper's 40 "
             "GHz: the paper's speed at the cells' power, which no cell here reaches.", ""]
    for net, f in facts["networks"].items():
        d = f["digital"]
        head = [label(net), "t_row Imax", "t_row bandwidth", "t_row", "training time",
                "static power", "energy / training", "/ epoch", "/ inference", "area"]
        rows = []
        for s in SETS:
            x = f["sets"][s]
            rows.append([LABELS[s], _e(x["t_row_Imax"], "s"), _e(x["t_row_bandwidth"], "s"),
                         f"{_e(x['t_row'], 's')} ({x['limited_by']})", _e(x["T"], "s"),
                         _e(x["power"], "W"), _e(x["training"], "J"), _e(x["epoch"], "J"),
                         _e(x["inference"], "J"), f"{f['area'] * 1e6:.3g} mm^2"])
        for dev in d["energy"]:
            rows.append([LABELS[dev], "-", "-", "-", f"{_e(d['seconds'], 's')} (wall, this CPU)",
                         "-", _e(d["energy"][dev], "J"), _e(d["energy"][dev] / f["epochs"], "J"),
                         _e(d["inference"][dev], "J"), "-"])
        outcome = (f"{f['learned']} of {f['n']} seeds reach MSE < 0.01" if "test_accuracy"
                   not in f else f"median test accuracy {f['test_accuracy']:.1%}")
        lines += [f"### {label(net)}", "",
                  f"{f['epochs']} epochs x {f['rows']} rows; {outcome} at the paper's settings; "
                  f"peak charging current {_e(f['peak'], 'A')} at 0.1 ps; charging energy "
                  f"{_e(f['charging'], 'J')} (median; {_e(f['charging_range'][0], 'J')} .. "
                  f"{_e(f['charging_range'][1], 'J')}); blocks: "
                  + ", ".join(f"{k} {v}" for k, v in f["blocks"].items() if v)
                  + f". Digital: {d['flops_row']} FLOPs per row, {d['flops']:.3g} per training,"
                    f" {d['flops_inference']} per inference; wall time "
                    f"{_e(d['seconds'], 's')} on this machine "
                    f"({d['flops'] / d['seconds'] / 1e9:.3g} GFLOP/s achieved).", "",
                  md_table(head, rows), ""]
        v = facts["verdicts"][net]
        lines.append(
            f"**Energy per training, {label(net)}:** with the SkyWater cells the circuit uses "
            f"{_times(v['sky130']['cpu'])} energy than digital SGD priced at the CPU figure "
            f"and {_times(v['sky130']['gpu'])} than at the GPU figure; the behavioural blocks "
            f"at 40 GHz would use {_times(v['behavioural']['cpu'])} and "
            f"{_times(v['behavioural']['gpu'])}. Per inference: cells "
            f"{_e(f['sets']['sky130']['inference'], 'J')} against "
            f"{_e(d['inference']['cpu'], 'J')} (CPU) and {_e(d['inference']['gpu'], 'J')} "
            "(GPU).")
        best = optimum(f)
        if best is not None:
            lines.append("")
            lines.append(
                f"Bias: the energy per training is lowest at {best['scale']:g}x the bias as "
                f"drawn ({_e(best['training'], 'J')}, rows of {_e(best['t_row'], 's')} "
                f"limited by {best['limited_by']}, training time {_e(best['T'], 's')}), "
                f"against {_e(f['sets']['sky130']['training'], 'J')} as drawn"
                + (" (the lowest bias measured: a lower one may cost still less energy, "
                   "and more time)" if best["scale"] == min(p["scale"] for p in f["bias"]
                                                            if p["ok"]) else "")
                + ".")
            k = knee(f)
            lines[-1] += (
                f" Within {KNEE:.0%} of that lowest energy from {k['scale']:g}x down "
                f"({_e(k['training'], 'J')}, training time {_e(k['T'], 's')}): the optimum in "
                "practice, where less bias no longer saves energy but still costs time."
                + (" Above " + ", ".join(f"{p['scale']:g}x" for p in f["bias"]
                                         if not p["ok"])
                   + " a cell no longer has a finite f3dB (it stops working)."
                   if any(not p["ok"] for p in f["bias"]) else ""))
        inv = f.get("invariance")
        if inv is not None:
            lines += ["", f"Checked: the same training at the Imax-limited row "
                          f"({_e(inv['t_row'], 's')}, Keta = C / t_row) moves a charging energy "
                          f"of {_e(inv['charging'], 'J')} (median; "
                          f"{_e(f['charging'], 'J')} at 0.1 ps), peak current "
                          f"{_e(inv['peak'], 'A')}, median final MSE {inv['final_mse']:.3g} "
                          f"({f['final_mse']:.3g} at 0.1 ps)."]
        lines.append("")
    lines += [f"![energy per training against bias]({figs['bias']})", "",
              f"![energy per training]({figs['compare']})", "",
              "Assumptions (also in every summary.json): every block draws its Isupply all "
              "the time (no power gating); a charging source draws |Icharged| from Vdd; area "
              f"{3.5:g} x the MOSFETs' gate area + the resistors' (the rule of thumb Pulsic "
              "quotes), weight capacitors at the SkyWater MIM's 2 fF/um^2; the bias sweep "
              "keeps each cell's circuit and moves only its bias resistor (the laws move "
              "with it and are assumed re-trimmed).", "",
              "Files: `energy.csv`, `energy_cells.csv`, `energy_bias.csv`. Measured in "
              f"{facts['seconds']:.0f} s on {os.cpu_count()} CPU(s), load average "
              f"{_load(facts['load'])}."]
    return "\n".join(lines)



def _load(load) -> str:
    before, after = load
    if before is None or after is None:
        return "unknown"
    return f"{before[0]:.1f} before, {after[0]:.1f} after"
