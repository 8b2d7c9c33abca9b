"""How fast the cells' chopper may run: ngspice testbenches of ``multiplier_lm`` and of the
2-3-1 of cells chopped (issue #25; docs/cells.md, "Bandwidth" and "A network of cells that
learns XOR").

Every part but ``native`` runs ngspice with the SkyWater models at tt, 27 C; each prints
its table. "The example" of the parts ``network`` to ``phase`` is its first design,
:func:`lambda60` (``lambda`` 60, phase 0, no chopper of the charging cells):

- ``gains``: :func:`aann.cells.bandwidth.measure_chopped_gain` of ``multiplier_lm`` and
  ``multiplier``, each input chopped by +-0.16 V (the other at 1 mV), 50 kHz to 1.6 MHz,
  with the first-order pole that keeps as much (about 30 s);
- ``operating``: ``multiplier_lm`` at other amplitudes and other levels of the held input;
- ``coupling``: the output neuron held at its rail (4 uA into its net node: 264.6 mV, the
  derivative 0.765 mV), the derivative core read by the delta multiplier's input 2 while
  input 1 is chopped at 800 kHz or held: the derivative node's swing and the product kept;
- ``load``: the delta multiplier into its transresistance cell, with and without the seven
  ``multiplier_lm`` inputs that read a delta in the 2-3-1;
- ``chain``: the output bias weight's chain (derivative core, delta, transresistance,
  charge multiplier at ``Vbias``) chopped, against two first-order poles in cascade;
- ``network``: the first row of ``examples/cells_xor.toml`` (seed 0) at 1 and 8 chopper
  periods a row, every node saved, the mean of ``s V`` over the row at the error, delta and
  charge nodes (about a minute, two at once);
- ``epoch``: one epoch of the example at 2, 4 and 8 periods a row, and at 4 periods of a
  20 us row with ``C`` doubled: the weights' moves (3 to 6 minutes, two at once);
- ``native``: the same in the native engine, without poles, with 1.0 MHz on every multiplier
  and with each role's chopped pole (:data:`ROLE_POLES`), and 100 epochs of seeds 0..3
  (about a minute, no ngspice);
- ``samples`` (not run by default): PDK mismatch samples 0 and 1 of seed 0 at tt,
  co-simulated at the 20 us design (:func:`design_20us`) for ``--epochs`` (100: about 75
  minutes each alone, two at once);
- ``phase`` (not run by default): the example at 2 periods a row and ``phase`` 90, seed 0 at
  tt, without mismatch and PDK samples 0-3, in chunks of 10 epochs up to ``--epochs``
  (hours: 3.5 minutes a chunk alone);
- ``zero_error`` (not run by default; ``--run FILE``, a ``run_job`` result of PDK sample 1
  at ``lambda`` 30): the trained weights at zero error, without and with the charging
  cells' own chopper: each weight's drift and triangle (38 minutes for the three variants
  beside two co-simulations);
- ``charging_chopper`` (not run by default): the chopped path with and without the
  charging cells' own chopper, then PDK samples 0-3 of seed 0 at ``lambda`` 30 with it
  (hours).

Run:  .venv/bin/python docs/studies/cells_chopper.py [--parts gains,operating,...] [--epochs N]
"""

from __future__ import annotations

import argparse
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import aann
from aann.cells import cosim
from aann.cells.bandwidth import (
    chopper_lines,
    demodulated,
    equivalent_pole,
    measure_chopped_gain,
    square_source,
    step_lines,
)
from aann.cells.library import CELLS, GLUE, VCM, VDD
from aann.cells.models import model_lines, run_with_models
from aann.datasets import for_config
from aann.io import random_weights

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cells_xor.toml"
LM = CELLS["multiplier_lm"]
NET_RAIL = 4e-6  # A into the output neuron's net node: its state in the example's first row
ROLE_POLES = {"delta": 1.05e6, "charge": 1.3e6, "type2": 1.3e6, "forward": 0.95e6}
"""Hz: each multiplier role's chopped equivalent pole at its operating point (part
operating), as ``[blocks.multiplier.<role>] f3dB`` (also docs/studies/cells_xor.py's)."""
POLES = {role: ROLE_POLES[role] for role in ("delta", "charge")}  # the output chain's


def _transient(lines, f):
    """``lines`` with the chopper's clock at ``f`` (Hz) and a transient over its periods."""
    return run_with_models("\n".join(lines + chopper_lines(f) + [".end", ""]), name="chop")[0]


def _demodulated(plot, vector, f):
    """The demodulated mean of ``vector`` (a node voltage taken about ``Vcm``: on the time
    grid ``s`` is not +1 exactly half the time, and the common level would leak in)."""
    x = np.real(plot[vector]) - (VCM if vector.startswith("v(") else 0.0)
    return demodulated(plot, x, f)


def _static(lines, node, vector):
    """Half the change of ``vector`` as ``node`` steps from -0.16 to +0.16 V about Vcm."""
    plot = run_with_models("\n".join(lines + step_lines(node) + [".end", ""]),
                           name="static")[0]
    x = np.real(plot[vector])
    return float(x[-1] - x[0]) / 2


def _head():
    return ["* aann docs/studies/cells_chopper.py", model_lines("tt").rstrip(), LM.text.strip(),
            f"Vdd vdd 0 {VDD:g}", f"Vcm vcm 0 {VCM:g}"]


def _neuron_at_rail():
    """The output neuron's sigmoid and derivative core on a net node held by NET_RAIL."""
    return [CELLS["sigmoid"].text.strip(), GLUE["derivative_core"].text.strip(),
            f"Iin 0 net DC {NET_RAIL:g}", "Xs net o vcm vdd 0 aann_sigmoid",
            "Xd net d vcm vdd 0 aann_derivative_core"]


def poles_kept(f, poles) -> float:
    """The share of a square wave at ``f`` that first-order poles ``poles`` (Hz) in
    cascade keep, demodulated: the sum over its odd harmonics of ``8/(pi n)^2 Re H``."""
    total = 0.0
    for n in range(1, 4001, 2):
        H = 1.0
        for fp in poles:
            H /= complex(1.0, n * f / fp)
        total += 8 / (math.pi * n) ** 2 * H.real
    return total


def part_gains():
    freqs = [50e3, 100e3, 200e3, 400e3, 800e3, 1.6e6]
    print("| chopped input, cell | " + " | ".join(f"{f / 1e3:g} kHz" for f in freqs)
          + " | equivalent pole, 200-800 kHz (MHz) |")
    for name in ("multiplier_lm", "multiplier"):
        for inp in (1, 2):
            g = measure_chopped_gain(CELLS[name], freqs, chopped_input=inp)
            poles = [equivalent_pole(g[f], f) / 1e6 for f in (200e3, 400e3, 800e3)]
            print(f"| {inp}, {name} | " + " | ".join(f"{g[f]:.3f}" for f in freqs)
                  + f" | {', '.join(f'{p:.2f}' for p in poles)} |", flush=True)


def part_operating():
    freqs = [200e3, 800e3]
    for inp, amplitude, other in [(1, 0.01, 1e-3), (1, 0.04, 1e-3), (1, 0.16, 1e-3),
                                  (1, 0.16, 0.05), (1, 0.16, 0.2), (2, 0.01, 1e-3),
                                  (2, 0.1, 0.05), (2, 0.1, 0.1), (2, 0.1, 0.3)]:
        g = measure_chopped_gain(LM, freqs, chopped_input=inp, amplitude=amplitude, other=other)
        print(f"input {inp} chopped by +-{amplitude:g} V, the other at {other:g} V: "
              + ", ".join(f"{f / 1e3:g} kHz {g[f]:.3f} ({equivalent_pole(g[f], f) / 1e6:.2f} MHz)"
                          for f in freqs), flush=True)


def part_coupling():
    f = 800e3
    ideal = measure_chopped_gain(LM, [f], chopped_input=1, other=0.765e-3)[f]
    for chopped in (False, True):
        v1 = square_source("v1") if chopped else "Vv1 v1 vcm DC 0.16"
        plot = _transient(_head() + _neuron_at_rail() + [
            v1, f"Xm v1 d out vcm vdd 0 {LM.name}", f"Vo out 0 {VCM:g}"], f)
        t = np.real(plot.sweep)
        d = (np.real(plot["v(d)"]) - VCM)[t >= 2 / f] * 1e3
        net = (np.real(plot["v(net)"]) - VCM)[t >= 2 / f] * 1e3
        line = (f"input 1 {'chopped' if chopped else 'held'}: net {net.mean():.1f} mV, the "
                f"derivative {d.min():.3f} to {d.max():.3f} mV")
        if chopped:
            static = _static(_head() + _neuron_at_rail() + [
                f"Xm v1 d out vcm vdd 0 {LM.name}", f"Vo out 0 {VCM:g}"], "v1", "i(vo)")
            kept = _demodulated(plot, "i(vo)", f) / static
            line += f"; kept {kept:.3f} (from an ideal {0.765:g} mV source: {ideal:.3f})"
        print(line, flush=True)


def part_load():
    tr = cosim.transresistance_cell("multiplier_lm")
    for n in (0, 7):
        lines = _head() + [tr.text.strip(), "Vh v2 vcm DC 1e-3", f"Xm v1 v2 dl vcm vdd 0 {LM.name}",
                           f"Xr dl vcm 0 {tr.name}", "Vx x vcm DC 0.1"]
        lines += [f"Xl{k} dl x o{k} vcm vdd 0 {LM.name}\nVo{k} o{k} 0 {VCM:g}" for k in range(n)]
        static = _static(lines, "v1", "v(dl)")
        kept = []
        for f in (100e3, 200e3, 400e3, 800e3):
            plot = _transient(lines + [square_source("v1")], f)
            kept.append(_demodulated(plot, "v(dl)", f) / static)
        print(f"{n} multiplier inputs on the delta node: kept at 100, 200, 400, 800 kHz "
              + ", ".join(f"{k:.3f}" for k in kept), flush=True)


def part_chain():
    tr = cosim.transresistance_cell("multiplier_lm")
    lines = _head() + _neuron_at_rail() + [
        tr.text.strip(), f"Xm1 e d dl vcm vdd 0 {LM.name}", f"Xr dl vcm 0 {tr.name}",
        "Vb xb vcm DC 0.2", f"Xm2 dl xb out vcm vdd 0 {LM.name}", f"Vo out 0 {VCM:g}"]
    held = []
    for sign in (1, -1):  # the static product: the error held at +-0.16 V, settled
        plot = run_with_models("\n".join(lines + [
            f"Ve e vcm DC {0.16 * sign:g}", ".options method=gear reltol=1e-4",
            ".tran 10n 20u 0 10n", ".end", ""]), name="chain")[0]
        held.append(float(np.real(plot["i(vo)"])[-1]))
    static = (held[0] - held[1]) / 2
    print(f"static product {static * 1e9:.3f} nA (offset {(held[0] + held[1]) / 2 * 1e9:.2f} nA)")
    print("| kHz | the chain kept | poles " + " and ".join(f"{p / 1e6:g}" for p in POLES.values())
          + " MHz |")
    for f in (100e3, 200e3, 400e3, 800e3):
        plot = _transient(lines + [square_source("e")], f)
        print(f"| {f / 1e3:g} | {_demodulated(plot, 'i(vo)', f) / static:.3f} | "
              f"{poles_kept(f, POLES.values()):.3f} |", flush=True)


def example(epochs: int):
    """examples/cells_xor.toml's description with ``epochs``
    (:func:`aann.experiments.transistor_xor.config`, tested equal to the file)."""
    from aann.experiments import transistor_xor

    return transistor_xor.config(EXAMPLE.parent / "cells_xor_multiplier_lm_tt.csv", epochs)


def lambda60(cfg):
    """``cfg`` (the example's description) at the design these parts first studied, the
    example until the charging cells' own chopper: ``lambda`` 60 (``C`` halved), the
    chopper at phase 0, no chopper of the charging cells."""
    return cfg.replace(constants={"C": cfg.constants.C / 2},
                       offset_cancellation={"phase": 0, "charging_periods": 0})


def stretched(cfg, stretch, periods=None):
    """``cfg`` with its rows ``stretch`` times longer and ``C`` with them (``lambda`` kept),
    and the chopper ``periods`` a row if given."""
    cfg = cfg.replace(training={"t_row": stretch * cfg.training.t_row},
                      constants={"C": stretch * cfg.constants.C})
    return cfg if periods is None else cfg.replace(
        offset_cancellation={"periods_per_row": periods})


def _example_netlist(P, rows, save_read, epochs=1, stretch=1):
    """The example's netlist at ``P`` chopper periods a row, its rows ``stretch`` times
    longer and ``C`` with them (``lambda`` kept); the initial weights, the description."""
    cfg = stretched(lambda60(aann.load_toml(EXAMPLE)), stretch)
    data = for_config(cfg)
    W0 = random_weights([2, 3, 1], 0, cfg.training.init_range)
    args = {**cosim.cell_arguments(cfg), "chopper_periods": P}
    return W0, cfg, cosim.cosim_netlist(
        [2, 3, 1], W0, data.X[:rows], data.Y[:rows] * 1.0, t_row=cfg.training.t_row,
        epochs=epochs, C=cfg.constants.C, Vbias=cfg.constants.Vbias, save_read=save_read,
        **args)


def _network_row(P):
    _, cfg, netlist = _example_netlist(P, rows=1, save_read=False)
    plot = run_with_models(netlist, name="row", timeout=3600)[0]
    t, T = np.real(plot.sweep), cfg.training.t_row
    s = np.where(np.real(plot["v(s)"]) > VDD / 2, 1.0, -1.0)
    keep = t <= T

    def demodulated(node):
        x = s * (np.real(plot[f"v({node})"]) - VCM)
        return np.trapezoid(x[keep], t[keep]) / (t[keep][-1] - t[keep][0]) * 1e3

    ranges = {node: (np.real(plot[f"v({node})"])[keep] - VCM) * 1e3 for node in ("o1_0", "d1_0")}
    return P, len(t), {node: demodulated(node) for node in ("e1_0", "dl1_0", "cgw1_0_0")}, ranges


def part_network():
    with ThreadPoolExecutor(2) as pool:  # ngspice runs as a process: two at once
        for P, points, means, ranges in pool.map(_network_row, (1, 8)):
            print(f"{P} period(s) a row, {points} time points: mean of s V over the first row "
                  + ", ".join(f"{n} {v:.4f} mV" for n, v in means.items()) + "; over the row "
                  + ", ".join(f"{n} {v.min():.2f} to {v.max():.2f} mV (median {np.median(v):.2f})"
                              for n, v in ranges.items()), flush=True)


def _epoch(P, stretch=1):
    W0, cfg, netlist = _example_netlist(P, rows=4, save_read=True, stretch=stretch)
    t0 = time.time()
    plot = run_with_models(netlist, name="epoch", timeout=3600)[0]
    t, T = np.real(plot.sweep), 4 * cfg.training.t_row * (1 - 1e-6)

    def moved(l, j, i):
        W = np.interp(T, t, np.real(plot[f"v(w{l}_{j}_{i})"])) - np.interp(
            T, t, np.real(plot[f"v(wn{l}_{j}_{i})"]))
        return (W - W0[l][j][i]) * 1e3

    return (P, cfg.training.t_row, time.time() - t0, len(t), [moved(1, 0, i) for i in range(4)],
            [moved(0, j, i) for j in range(3) for i in range(3)])


def part_epoch():
    """One epoch at 2, 4, 8 periods of a 10 us row, and at 4 of a 20 us row (C doubled)."""
    with ThreadPoolExecutor(2) as pool:
        for P, t_row, seconds, points, out, hidden in pool.map(_epoch, (2, 4, 8, 4),
                                                                 (1, 1, 1, 2)):
            print(f"{P} periods a {t_row * 1e6:g} us row ({seconds:.0f} s, {points} points): "
                  "output weights moved "
                  + "/".join(f"{w:.1f}" for w in out) + " mV, hidden "
                  + "/".join(f"{w:.2f}" for w in hidden), flush=True)


def part_native():
    """The example in the native engine: one epoch at 1, 2, 4, 8 periods a row (and 4 of a
    20 us row, ``C`` doubled) without poles, with 1.0 MHz on every multiplier and with
    ROLE_POLES (the output weights' moves); then 100 epochs of seeds 0..3 at one period a
    row, read-out MSE every 10."""
    base = lambda60(aann.load_toml(EXAMPLE))
    W0 = random_weights([2, 3, 1], 0, base.training.init_range)
    auto = {"steps": "auto"}  # enough steps for the poles too
    roles = {r: {"f3dB": f} for r, f in ROLE_POLES.items()}
    variants = {"no poles": {},
                "1.0 MHz": {"blocks": {"multiplier": {"f3dB": 1.0e6}}, "solver": auto},
                "role poles": {"blocks": {"multiplier": roles}, "solver": auto}}
    for P, stretch in ((1, 1), (2, 1), (4, 1), (8, 1), (4, 2)):  # stretch: rows, C x it
        for name, extra in variants.items():
            r = aann.train(stretched(base, stretch, P).replace(training={"epochs": 1},
                                                               **extra))
            moved = 1e3 * (np.asarray(r.W_final[1][0]) - W0[1]).ravel()
            print(f"{P} periods a {stretch * base.training.t_row * 1e6:g} us row, {name}: output "
                  "weights moved " + "/".join(f"{w:.1f}" for w in moved) + " mV", flush=True)
    for name in ("no poles", "role poles"):
        t = time.time()
        r = aann.train(base.replace(training={"epochs": 100, "seeds": 4}, **variants[name]))
        mse = np.asarray(r.metrics["mse"])
        print(f"{name} ({time.time() - t:.0f} s), MSE after 10, 20, ... 100 epochs:")
        for seed in range(4):
            print(f"  seed {seed}: " + ", ".join(f"{m:.2e}" for m in mse[seed, 9::10]), flush=True)


def design_20us(epochs: int):
    """:func:`lambda60` of the :func:`example` on 20 us rows with ``C`` doubled
    (``lambda`` 60) and the chopper 4 a row (200 kHz)."""
    return stretched(lambda60(example(epochs)), 2, periods=4)


def part_samples(epochs: int = 100, samples=(0, 1)):
    """PDK mismatch ``samples`` of seed 0 at tt co-simulated at :func:`design_20us`, two at
    once: the row-end MSE (learning) every 5 epochs, the read-out and ``learned``."""
    from aann.experiments import transistor_xor

    cfg = design_20us(epochs)

    def one(k):
        return k, transistor_xor.run_job(cfg, transistor_xor.Job("tt", 0, k))

    with ThreadPoolExecutor(2) as pool:
        for k, r in pool.map(one, samples):
            print(f"sample {k} ({r['seconds'] / 60:.0f} min, {r['points']} points): row-end MSE "
                  "every 5 epochs " + " ".join(f"{m:.1e}" for m in r["mse_rows"][4::5])
                  + f" (last {r['mse_rows'][-1]:.1e}); read-out "
                  + "/".join(f"{v:.4f}" for v in r["readout"])
                  + f" V, MSE {r['mse_readout']:.2e}, learned {r['learned']}", flush=True)


def part_phase(epochs: int = 100, runs=(None, 0, 1, 2, 3), chunk: int = 10):
    """The example at 2 chopper periods a row and ``phase`` 90, seed 0 at tt: without
    mismatch (None) and PDK mismatch samples ``runs``, two at once, in chunks of ``chunk``
    epochs (each a netlist continuing the last chunk's ``state``, ending with a read-out
    epoch), stopped once learned or after ``epochs``; the read-out MSE after every chunk.
    (The figures in docs/cells.md were made before chunks carried the state: each chunk
    restarted the integrators' virtual grounds at Vcm.)"""
    from aann.experiments import transistor_xor

    cfg = lambda60(example(epochs)).replace(offset_cancellation={"periods_per_row": 2,
                                                                 "phase": 90})

    def one(sample):  # reproduce transistor's runs: chunks that continue, stop once learned
        return sample, transistor_xor.run_job(cfg, transistor_xor.Job("tt", 0, sample),
                                              chunk=chunk)

    with ThreadPoolExecutor(2) as pool:
        for sample, r in pool.map(one, runs):
            print(f"sample {sample}: read-out MSE every {chunk} epochs "
                  + " ".join(f"{m:.2e}" for m in r["mse_chunks"]) + "; last read-out "
                  + "/".join(f"{x:.4f}" for x in r["readout"]) + " V", flush=True)


def lambda30(epochs: int, charging_periods: int = 0):
    """The example (``lambda`` 30, one chopper period a row at phase 90) with the charging
    cells' own chopper at ``charging_periods`` a row (0: none; the example's: 8)."""
    return example(epochs).replace(offset_cancellation={"charging_periods": charging_periods})


def part_zero_error(run: Path, sample: int = 1, variants=(0, 8, 16)):
    """What a trained network's weights do at zero error (docs/cells.md, "The charging
    cells' own chopper"): from ``W_final`` of ``run`` (a ``transistor_xor.run_job`` result
    of PDK ``sample`` at :func:`lambda30`), two settling epochs, each from the weights
    alone and read out, the targets the last read-out (so that every ideal gradient is
    zero); then, for each of ``variants`` (the charging cells' own chopper, periods a row),
    one more settling epoch continuing the state (read out: the targets) and two measured
    epochs continuing it, every weight saved: each weight's drift an epoch and its triangle
    (peak to peak within a row, less the row's straight line)."""
    import json

    from aann.cells.cosim import cell_arguments, cosim_netlist, run_cosim
    from aann.cells.models import run_with_models
    from aann.datasets import for_config

    cfg = lambda30(1)
    data = for_config(cfg)
    X = np.asarray(data.X, float)
    r = json.loads(Path(run).read_text())
    W, Yt, state = [np.asarray(w) for w in r["W_final"]], np.asarray(r["readout"])[:, None], None
    kw = dict(t_row=cfg.training.t_row, C=cfg.constants.C, Vbias=cfg.constants.Vbias,
              pdk_sample=sample, timeout=36000)
    for _ in range(2):
        a = run_cosim(cfg.network.sizes, W, X, Yt, epochs=1, **kw, **cell_arguments(cfg))
        W, Yt, state = [w[-1] for w in a["W_epoch"]], a["Vout_readout"], a["state"]
    t_row, rows = cfg.training.t_row, len(X)
    for P2 in variants:
        args = cell_arguments(lambda30(1, P2))
        a = run_cosim(cfg.network.sizes, W, X, Yt, epochs=1, state=state, **kw, **args)
        W2, Y2 = [w[-1] for w in a["W_epoch"]], a["Vout_readout"]
        net = cosim_netlist(cfg.network.sizes, W2, X, Y2, epochs=2, save_read=True,
                            state=a["state"], **{k: v for k, v in kw.items() if k != "timeout"},
                            **args)
        plot = run_with_models(net, name="cosim", timeout=36000)[0]
        t = np.real(plot.sweep)
        names = [f"w{l}_{j}_{i}" for l, w in enumerate(W2) for j in range(w.shape[0])
                 for i in range(w.shape[1])]
        drift, tri = [], []
        for n in names:
            w = np.real(plot[f"v({n})"]) - np.real(plot[f"v(wn{n[1:]})"])
            ends = np.interp([0.0, 2 * rows * t_row * (1 - 1e-6)], t, w)
            drift.append((ends[1] - ends[0]) / 2)
            p2p = []
            for k in range(2 * rows):
                g = np.interp(np.linspace(k, k + 1, 129) * t_row, t, w)
                g = g - np.linspace(g[0], g[-1], 129)
                p2p.append(np.ptp(g))
            tri.append(float(np.mean(p2p)))
        print(f"sample {sample}, charging_periods {P2}: targets "
              + "/".join(f"{v:.4f}" for v in Y2[:, 0]) + " V; drift an epoch (mV), triangle "
              "(mV p-p): " + ", ".join(f"{n} {d * 1e3:+.2f} ({p * 1e3:.1f})"
                                       for n, d, p in zip(names, drift, tri)), flush=True)


def part_charging_chopper(epochs: int = 100, samples=(0, 1, 2, 3)):
    """The charging cells' own chopper (``[offset_cancellation] charging_periods``): the
    chopped path at 100 kHz with and without it at 800 kHz (4 mismatch samples: offset,
    residue, ripple, ``Keta``); then PDK samples ``samples`` of seed 0 at
    :func:`lambda30` with it at 8 a row, two at once, chunks of 10 epochs up to
    ``epochs`` (hours)."""
    from aann.cells.chopped import measure_path
    from aann.experiments import transistor_xor

    for f_inner in (None, 800e3):
        m = measure_path(f_chop=100e3, f_inner=f_inner, periods=6, skip=2, seed=1, samples=4,
                         timeout=3600)
        print(f"path at 100 kHz, own chopper {f_inner}: Keta {m.keta_stopped * 1e6:.2f} uS "
              f"stopped, loss {m.keta_loss:.2%}; offset stopped (mV) "
              + " ".join(f"{v * 1e3:.2f}" for v in m.Voff_stopped) + "; residue (uV) "
              + " ".join(f"{v * 1e6:.2f}" for v in m.Voff_chopped) + "; ripple (mV p-p) "
              + " ".join(f"{v * 1e3:.1f}" for v in m.ripple), flush=True)
    cfg = lambda30(epochs, 8)

    def one(sample):
        return sample, transistor_xor.run_job(cfg, transistor_xor.Job("tt", 0, sample))

    with ThreadPoolExecutor(2) as pool:
        for sample, r in pool.map(one, samples):
            print(f"sample {sample}: read-out MSE every 10 epochs "
                  + " ".join(f"{m:.2e}" for m in r["mse_chunks"]) + "; last read-out "
                  + "/".join(f"{x:.4f}" for x in r["readout"]) + f" V, learned {r['learned']}, "
                  f"{r['seconds'] / 60:.0f} min", flush=True)


PARTS = {"gains": part_gains, "operating": part_operating, "coupling": part_coupling,
         "load": part_load, "chain": part_chain, "network": part_network, "epoch": part_epoch,
         "native": part_native, "samples": part_samples, "phase": part_phase,
         "zero_error": part_zero_error, "charging_chopper": part_charging_chopper}
DEFAULT = ("gains", "operating", "coupling", "load", "chain", "network", "epoch", "native")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default=",".join(DEFAULT))
    ap.add_argument("--epochs", type=int, default=100,
                    help="parts samples', phase's and charging_chopper's epochs")
    ap.add_argument("--run", type=Path, help="part zero_error: a run_job result (JSON)")
    args = ap.parse_args(argv)
    for name in args.parts.split(","):
        t = time.time()
        print(f"## {name}", flush=True)
        if name == "zero_error":
            PARTS[name](args.run)
        else:
            PARTS[name](**({"epochs": args.epochs} if name in ("samples", "phase",
                                                                "charging_chopper") else {}))
        print(f"({time.time() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
