"""The network of SkyWater 130 nm cells that learns XOR, the part of ``aann reproduce
transistor`` that co-simulates it (docs/cells.md, "A network of cells that learns XOR").

The network is examples/cells_xor.toml (:func:`config`, the same description, tested): a
2-3-1, every block a cell, each weight on the chopped differential charging path
(``multiplier_lm`` in every multiplier role, one chopper period a row at phase 90,
``lambda`` 30, the charging cells' own chopper at 8 periods a row), untrimmed. Each run (a
corner, an initial weight seed, optionally a PDK mismatch sample) is an ngspice
co-simulation of at most ``epochs`` epochs in netlists of :data:`CHUNK` epochs, each
continuing the last (:func:`run_job`) and ending with a read-out epoch with learning off;
the run stops once a read-out has learned: it classifies every row and its MSE is below
the goal (:func:`judge`). ``workers`` runs at once (each ngspice is one process of one
thread, :data:`aann.cells.models.THREADS`). Beside them the native engine runs the same
description (the cells' laws at tt, the multiplier tabulated) for the tt seeds. Every
finished run, and every finished chunk of a run, is kept in ``OUT/transistor_xor/``: a run
already there is not repeated, one stopped resumes from its last chunk (Ctrl-C, then the
same command).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEEDS = (0, 1, 2, 3)
"""The initial weight sets at tt."""
CORNERS = ("ss", "ff")
"""The other corners, seed 0 each."""
PDK_SAMPLES = 4
"""PDK mismatch samples at tt (seed 0 each; ``--pdk-sample`` of ``aann train``)."""
EPOCHS = 150
"""Most epochs a run (natively the tt seeds that learn need 40 to 140)."""
WORKERS = 2
CHUNK = 10
"""Epochs a netlist (:func:`run_job`): each ends with a read-out epoch, so that a run
stops once learned and resumes from its last chunk."""

KM_LM_TT = 1.2725e-4
"""A/V^2: ``multiplier_lm``'s ``Km`` at tt (``aann characterize multiplier_lm``)."""
ISUPPLY_LM_TT = 9.7032e-5
"""A: its supply current at zero signal, tt."""
TABLE_RANGE = 0.4
"""V: the multiplier's tabulated law is swept over +-this (the weights reach 0.37 V; the
polynomial fitted over +-0.2 V is 1.7 uA off at 0.3 V, the table 27 nA at its midpoints)."""
TABLE_POINTS = 17
ACTIVATION_TT = {"law": "sigmoid_offset", "Vamp": 0.19665, "Iref": 6.9513e-7,
                 "Ioff": -5.3262e-8, "Voff": -7.563e-4}
DERIVATIVE_TT = {"law": "sigmoid", "Kd": 0.83517, "Vref": 6.045e-3, "Ru": 1e4}


def config(table, epochs: int = EPOCHS, seeds: int = 1):
    """examples/cells_xor.toml with ``epochs`` and ``seeds``; ``table``: the multiplier's
    measured surface (:func:`multiplier_table`; the example's
    ``cells_xor_multiplier_lm_tt.csv``). ``lambda`` 30 (``C`` 16.57 pF a side), the
    chopper once a row at phase 90 and the charging cells' own at 8 a row: the design
    that learns with PDK mismatch (docs/cells.md, "The charging cells' own chopper")."""
    import aann

    return aann.Config(
        network={"sizes": [2, 3, 1]},
        constants={"Keta": "49.7uS", "C": "16.5666pF", "Vbias": "0.2V"},
        blocks={"multiplier": {"law": "table", "table": str(table), "Km": KM_LM_TT,
                               "Isupply": ISUPPLY_LM_TT},
                "activation": ACTIVATION_TT, "derivative": DERIVATIVE_TT},
        training={"dataset": "xor", "t_row": "10us", "epochs": epochs, "seeds": seeds,
                  "init_range": "0.1V"},
        data={"scale": "global", "Vin_low": 0.0, "Vin_high": 0.2, "Vlow": 0.04,
              "Vhigh": 0.16},
        offset_cancellation={"method": "chopper", "periods_per_row": 1, "phase": 90,
                             "demodulator": "output", "charging_periods": 8},
        solver={"steps": 8},
        cells={"glue": "cells", "weights": "chopped", "multiplier": "multiplier_lm",
               "reltol": 1e-3})


def multiplier_table(out: Path) -> Path:
    """``multiplier_lm`` at tt swept over +-:data:`TABLE_RANGE` (:data:`TABLE_POINTS` a
    side), written to ``out/transistor/tt/multiplier_lm_xor/``; its ``sweep.csv``."""
    from ..cells import CELLS, characterize
    from ..cells.characterization import full_scale
    from ..cells.outputs import write_outputs
    from ..io import atomic_write

    folder = Path(out) / "transistor" / "tt" / "multiplier_lm_xor"
    if not (folder / "table_error.json").is_file():
        ch = characterize(CELLS["multiplier_lm"], "tt", 27.0, TABLE_POINTS, half=TABLE_RANGE,
                          bandwidth=False)
        folder.mkdir(parents=True, exist_ok=True)
        write_outputs(ch, folder)
        error = ch.table_errors()[0] / 100 * full_scale(ch.sweep)
        atomic_write(folder / "table_error.json", json.dumps({"table_error_A": error}))
    return (folder / "sweep.csv").resolve()


NEURON_ERROR_V = 1.26e-3
"""V: the sigmoid cell's ``sigmoid_offset`` law, largest error at tt (0.64 % of its full
scale; ``aann characterize sigmoid``)."""


def readout_bound(cfg, W_out, table_error: float) -> float:
    """V: how far the cells' and the native engine's outputs of the 2-3-1 may be apart at
    the same weights (output weights ``W_out``, V, the bias input's first), from the laws'
    largest errors: each hidden neuron's output off by its three forward multipliers'
    ``table_error`` (A)
    through the neuron's steepest slope ``s = Vamp / (4 Iref)``, plus the neuron law's
    :data:`NEURON_ERROR_V`; the output neuron's net current off by its four multipliers'
    error plus each hidden error through its weight's gain ``Km |w|``; through ``s`` again,
    plus the neuron's error (as :func:`aann.experiments.transistor.forward_tolerance` for
    the 1-2-1)."""
    a = cfg.blocks.activation.build()
    s = a.Vamp / (4 * a.Iref)
    Km = cfg.blocks.multiplier.build().Km
    w = np.abs(np.asarray(W_out, float)).ravel()[1:]  # [0]: the bias input's, no error
    hidden = 3 * s * table_error + NEURON_ERROR_V
    return float(s * (4 * table_error + np.sum(Km * w * hidden)) + NEURON_ERROR_V)


@dataclass(frozen=True)
class Job:
    """One co-simulation: ``corner``, initial weights of ``seed``, PDK mismatch sample
    ``pdk_sample`` (None: the corner's nominal models)."""

    corner: str
    seed: int
    pdk_sample: int | None = None

    @property
    def name(self) -> str:
        sample = "" if self.pdk_sample is None else f"_mm{self.pdk_sample}"
        return f"{self.corner}_seed{self.seed}{sample}"


def jobs(seeds=SEEDS, corners=CORNERS, pdk_samples: int = PDK_SAMPLES) -> list[Job]:
    """The tt seeds, seed 0 at each other corner, seed 0 with each PDK sample at tt."""
    return ([Job("tt", s) for s in seeds] + [Job(c, 0) for c in corners]
            + [Job("tt", 0, k) for k in range(pdk_samples)])


def judge(v, cfg) -> dict:
    """The outputs ``v`` (V, one per row) read with learning off: their MSE and whether
    the network ``learned``: every row on its target's side of the middle of the targets
    and the MSE below :func:`~aann.experiments._common.sky130_goal`."""
    from ..datasets import for_config
    from ._common import sky130_goal

    Y = np.asarray(for_config(cfg).Y, float)[:, 0]
    v = np.asarray(v, float)
    mid = 0.5 * (cfg.data.Vlow + cfg.data.Vhigh)
    mse = float(np.mean((v - Y) ** 2))
    return {"mse_readout": mse,
            "learned": bool(np.all((v > mid) == (Y > mid))) and mse < sky130_goal(cfg)}


def run_job(cfg, job: Job, timeout: float = 36000, chunk: int = CHUNK,
            partial: Path | None = None) -> dict:
    """Co-simulate ``job`` for at most ``cfg.training.epochs`` epochs, in netlists of
    ``chunk`` epochs, each continuing the last one's ``state`` (:func:`aann.cells.cosim.
    run_cosim`: as one long run) and ending with a read-out epoch; stopped once a read-out
    has learned. Returns the row-end MSE of every epoch (learning), the read-out MSE after
    every chunk, the last weights and read-out (outputs and MSE), ``learned``, and the
    ``epochs`` run (``max_epochs`` asked). ``partial``: a JSON file where every finished
    chunk is kept, and from which a run resumes."""
    import aann

    from ..cells.cosim import cell_arguments, run_cosim
    from ..datasets import for_config
    from ..io import atomic_write

    data = for_config(cfg)
    X, Y = np.asarray(data.X, float), np.asarray(data.Y, float)
    kept = json.loads(partial.read_text()) if partial is not None and partial.exists() else None
    if kept is None or kept["max_epochs"] != cfg.training.epochs:
        W0 = aann.random_weights(cfg.network.sizes, job.seed, cfg.training.init_range)
        kept = {"corner": job.corner, "seed": job.seed, "pdk_sample": job.pdk_sample,
                "epochs": 0, "max_epochs": cfg.training.epochs, "seconds": 0.0, "points": 0,
                "mse_rows": [], "mse_chunks": [], "W_final": [np.asarray(w).tolist()
                                                              for w in W0],
                "state": None, "learned": False}
    while kept["epochs"] < kept["max_epochs"] and not kept["learned"]:
        epochs = min(chunk, kept["max_epochs"] - kept["epochs"])
        started = time.perf_counter()
        co = run_cosim(cfg.network.sizes, [np.asarray(w) for w in kept["W_final"]], X, Y,
                       t_row=cfg.training.t_row, epochs=epochs, C=cfg.constants.C,
                       Vbias=cfg.constants.Vbias, corner=job.corner, timeout=timeout,
                       pdk_sample=job.pdk_sample, state=kept["state"],
                       **cell_arguments(cfg))
        v = co["Vout_readout"][:, 0]
        judged = judge(v, cfg)
        kept.update(epochs=kept["epochs"] + epochs, state=co["state"], readout=v.tolist(),
                    seconds=kept["seconds"] + time.perf_counter() - started,
                    points=kept["points"] + int(co["points"]),
                    W_final=[w[-1].tolist() for w in co["W_epoch"]],
                    mse_rows=kept["mse_rows"] + np.mean(
                        (co["Vout_rows"][..., 0] - Y[None, :, 0]) ** 2, axis=1).tolist(),
                    mse_chunks=kept["mse_chunks"] + [judged["mse_readout"]], **judged)
        if partial is not None:
            atomic_write(partial, json.dumps(kept))
    return kept


def native(cfg, seeds, at: dict | None = None) -> dict:
    """The native engine on the same description (tt laws): per seed the MSE curve, the
    outputs at the weights after epoch ``at[seed]`` (default the last: where the cells'
    run stopped), judged as the cells' read-out (:func:`judge`)."""
    import aann

    r = aann.train(cfg.replace(training={"seeds": max(seeds) + 1}))
    circuit = aann.build_circuit(cfg)
    from ..datasets import for_config

    X = np.asarray(for_config(cfg).X, float)
    out = {}
    for s in seeds:
        e = (at or {}).get(s, cfg.training.epochs)
        W = [np.asarray(w[s, e - 1]) for w in r.W_epoch]
        v = np.array([float(np.asarray(circuit.output(W, x))[0]) for x in X])
        out[s] = {"mse": np.asarray(r.mse)[s].tolist(), "outputs": v.tolist(), "epoch": e,
                  "W_out": W[-1].tolist(), "learned": judge(v, cfg)["learned"]}
    return out


def run(out: Path, *, seeds=SEEDS, corners=CORNERS, pdk_samples: int = PDK_SAMPLES,
        epochs: int = EPOCHS, workers: int = WORKERS, progress: bool = False) -> dict:
    """Every :func:`jobs` run (kept in ``out/transistor_xor/``, resumed), and the native
    engine beside the tt seeds."""
    from ..io import atomic_write
    from ..progress import progress_bar

    table = multiplier_table(out)
    cfg = config(table, epochs)
    folder = Path(out) / "transistor_xor"
    folder.mkdir(parents=True, exist_ok=True)
    todo, done = [], {}
    for job in jobs(seeds, corners, pdk_samples):
        path = folder / f"{job.name}.json"
        kept = json.loads(path.read_text()) if path.exists() else None
        if kept is not None and kept.get("max_epochs") == epochs:
            done[job.name] = kept
        else:
            todo.append(job)
    with progress_bar(progress, len(todo) + len(done), "co-simulating XOR", "runs",
                      start=len(done)) as update, ThreadPoolExecutor(workers) as pool:
        running = {pool.submit(run_job, cfg, job, partial=folder / f"{job.name}.partial.json"):
                   job for job in todo}
        try:
            for future in as_completed(running):
                job = running[future]
                done[job.name] = future.result()
                atomic_write(folder / f"{job.name}.json", json.dumps(done[job.name]))
                (folder / f"{job.name}.partial.json").unlink(missing_ok=True)
                update()
        except KeyboardInterrupt:  # the finished runs are kept; stop the others
            for future in running:
                future.cancel()
            raise
    runs = {j.name: done[j.name] for j in jobs(seeds, corners, pdk_samples)}
    nat = native(cfg, list(seeds), {s: runs[Job("tt", s).name]["epochs"]
                                    for s in seeds}) if seeds else {}
    table_error = json.loads((table.parent / "table_error.json").read_text())["table_error_A"]
    for s, r in nat.items():  # the trained outputs, learning off, against the bound
        cells = runs[Job("tt", s).name]
        W = np.maximum(np.abs(np.asarray(cells["W_final"][-1])), np.abs(np.asarray(r["W_out"])))
        r["bound_V"] = readout_bound(cfg, W, table_error)
        r["apart_V"] = float(np.max(np.abs(np.subtract(cells["readout"], r["outputs"]))))
    from ._common import sky130_goal

    return {"runs": runs, "native": nat, "goal": sky130_goal(cfg), "epochs": epochs,
            "table_error_A": table_error}


def figure(res: dict):
    """Row-end MSE per epoch of every co-simulated run, and the native tt seeds."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, r in res["runs"].items():
        ax.semilogy(np.arange(1, len(r["mse_rows"]) + 1), r["mse_rows"],
                    lw=1.2, label=f"cells {name}" + (" (learned)" if r["learned"] else ""))
    for s, r in res["native"].items():
        ax.semilogy(np.arange(1, len(r["mse"]) + 1), r["mse"], "k--", lw=0.8,
                    label="native, tt seeds" if s == min(res["native"]) else None)
    ax.axhline(res["goal"], color="grey", lw=0.8, ls=":", label="goal")
    ax.set(xlabel="epoch", ylabel="MSE (V$^2$)",
           title="XOR on a 2-3-1 of SkyWater 130 nm cells (ngspice)")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


def write(out: Path, res: dict) -> str:
    """``transistor_xor.csv`` and the figure; the report's text."""
    from ._common import md_table, save_figure, write_csv

    rows = [[r["corner"], r["seed"], "" if r["pdk_sample"] is None else r["pdk_sample"],
             r["epochs"], f"{r['mse_readout']:.3g}", int(r["learned"]),
             " ".join(f"{v:.4f}" for v in r["readout"]), f"{r['seconds']:.0f}"]
            for r in res["runs"].values()]
    head = ["corner", "seed", "pdk_sample", "epochs", "mse_readout", "learned",
            "readout_V", "seconds"]
    write_csv(Path(out) / "transistor_xor.csv", head, rows)
    fig = save_figure(figure(res), Path(out), "transistor_xor")
    learned = sum(r["learned"] for r in res["runs"].values())
    nat = res["native"]
    apart = "; ".join(f"seed {s}: {r['apart_V'] * 1e3:.1f} mV (bound {r['bound_V'] * 1e3:.0f} "
                      "mV)" for s, r in nat.items())
    text = [f"XOR on examples/cells_xor.toml's 2-3-1 of cells (at most {res['epochs']} "
            f"epochs, each run stopped at the first read-out that learned, "
            f"goal {res['goal']:.3g} V^2 and every row classified, read with learning off): "
            f"{learned} of {len(rows)} runs learn; natively (the cells' tt laws) "
            f"{sum(r['learned'] for r in nat.values())} of {len(nat)} tt seeds. The trained "
            f"outputs of the two engines, learning off, apart by at most: {apart}.", "",
            md_table(head, rows), "", f"![XOR of cells]({fig})", ""]
    return "\n".join(text)
