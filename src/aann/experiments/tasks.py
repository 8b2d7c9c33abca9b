"""Beyond the paper: real tasks. Iris, wine, breast cancer and digits, under the
circuit's imperfections, beside digital baselines.

Networks (:data:`NETWORKS`): iris 4-8-3, wine 13-8-3, breast_cancer 30-8-1 (one
output: ``Vhigh`` means class 1), digits 64-16-10 and 64-32-10; scikit-learn's bundled
data sets, encoded by ``[data]`` (inputs min-max into 0..1 V fitted on the training
rows, one-hot targets 0.2 / 0.8 V), a stratified share held out (``test_fraction``,
``split_seed`` 0), rows shuffled every epoch (the sets are sorted by class), seeds
0..9, ``t_row`` = 0.1 ps (``lambda`` = 1). Conditions, each reported as the median,
min and max test accuracy over the seeds:

* ``ideal``: the paper's ideal blocks;
* ``clip``: the charging source limited to ``Imax`` (``[nonideal] current_limit =
  "clip"``), run slower at the same ``lambda``: ``t_row`` raised and ``Keta`` lowered by
  the same factor ``f``, the ideal run's peak current over ``Imax`` rounded up to 1, 2
  or 5 x 10^k (the rule the run summary's warning states);
* ``offsets``: every multiplier instance of every role (forward, delta, charge, type2)
  with its own offsets, ``[mismatch]`` sigmas on ``multiplier.Voff1``,
  ``multiplier.Voff`` (the size) and ``multiplier.Ioff`` (``Km`` x size x 1 V) at 0.3,
  1 and 3 mV, Monte Carlo sample k with seed k; the three sizes in one batch (one
  compiled call, :func:`aann.train_variants`);
* ``sky130``: the SkyWater 130 nm cells' laws fitted at tt (multiplier
  ``polynomial``, neuron ``sigmoid_offset``, derivative ``sigmoid``) with the PDK's
  mismatch (``tt_mm``) as per-instance ``[mismatch]`` sigmas, Monte Carlo sample k with
  seed k: with every multiplier's offsets trimmed to 0 and the gains mismatched, and as
  fitted with every sigma. The signals are scaled to the cells as ``reproduce
  transistor`` does (inputs 0..0.2 V, targets 0.04 / 0.16 V, ``Vbias`` 0.2 V), ``t_row``
  = 1 ps (``lambda`` = 10; the cells' gradients are smaller), initial weights uniform in
  +-``Iref / (Km * 0.2 V)`` (each product then spans the neuron's input scale as a 1 V
  weight does in the ideal circuit);
* ``digital SGD`` and ``sklearn MLP``: :func:`aann.baselines.baselines` on the same rows.

The laws and sigmas come from ``reproduce transistor`` when it ran into the same
directory (``transistor_constants.csv``, ``transistor_mismatch.toml``), else from this
command's own earlier run (``tasks_sky130.json``), else they are measured here (the
three cells at tt and :data:`CELL_SAMPLES` mismatch samples each, in ngspice; about 3
minutes), else the condition is left out, saying why.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from ._common import load_average, md_table, save_figure, sky130_missing, write_csv
from .report import write_fragment

T_ROW = 0.1e-12  # s: lambda = 1 with the default Keta / C = 1e13 1/s
SEEDS = 10
NETWORKS = {  # key: (data set, sizes, epochs, test_fraction)
    "iris": ("iris", (4, 8, 3), 100, 0.3),
    "wine": ("wine", (13, 8, 3), 50, 0.3),
    "breast_cancer": ("breast_cancer", (30, 8, 1), 40, 0.3),
    "digits16": ("digits", (64, 16, 10), 15, 0.25),
    "digits32": ("digits", (64, 32, 10), 15, 0.25),
}
"""Epochs: where the ideal circuit's median test accuracy has levelled off (measured:
iris 95.6 % from epoch 75, wine 100 % from 20, breast cancer 97.7 % from 30, digits
64-16-10 95.3 % at 15 and 96.0 % at 30)."""
OFFSETS = (0.3e-3, 1e-3, 3e-3)  # V
KM = 1e-4  # A/V^2: the ideal multiplier's gain (Ioff = KM * size * 1 V)
SKY_SCALE = 0.2  # V: the cells' input range, Vbias and 5x their target swing
SKY_T_ROW = 1e-12  # s: lambda = 10
SKY_STEPS = 2  # fixed steps per row (the effective rate is ~0.04 lambda: see the check)
SKY_CHECK_STEPS = 8
CELL_T_ROW = 10e-6  # s: the rows of reproduce transistor's co-simulation (the cells' poles)
CELL_SAMPLES = 4  # Monte Carlo samples per cell when the sigmas are measured here
TEMP = 27.0
CIRCUIT = ("ideal", "clip", *(f"offsets {s * 1e3:g} mV" for s in OFFSETS), "sky130 trimmed",
           "sky130 as fitted")
CONDITIONS = (*CIRCUIT, "digital SGD", "sklearn MLP")
LABELS = {"ideal": "ideal circuit", "clip": "source within Imax (clip)",
          **{f"offsets {s * 1e3:g} mV": f"per-instance offsets, sigma {s * 1e3:g} mV"
             for s in OFFSETS},
          "sky130 trimmed": "SkyWater laws, offsets trimmed, PDK gain mismatch (MC)",
          "sky130 as fitted": "SkyWater laws as fitted, every PDK sigma (MC)",
          "digital SGD": "digital online SGD (JAX, lr = lambda, same order)",
          "sklearn MLP": "scikit-learn MLPClassifier (adam, 2000 epochs max)"}
STORED = "tasks_sky130.json"


def label(net: str) -> str:
    dataset, sizes, _, _ = NETWORKS[net]
    return f"{dataset} {'-'.join(map(str, sizes))}"


def network_config(net: str, epochs: int, seeds: int):
    """The ideal circuit's description of network ``net``."""
    import aann

    dataset, sizes, _, test_fraction = NETWORKS[net]
    return aann.Config(network={"sizes": sizes},
                       training={"dataset": dataset, "t_row": T_ROW, "epochs": epochs,
                                 "seeds": seeds, "order": "shuffle", "record": "mse"},
                       data={"test_fraction": test_fraction})


def nice_up(x: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above ``x`` (at least 1)."""
    if not math.isfinite(x) or x <= 1:
        return 1.0
    k = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * 10.0 ** k >= x * (1 - 1e-12):
            return float(m * 10.0 ** k)
    return 10.0 ** (k + 1)


def clip_config(cfg, factor: float):
    """``cfg`` with the source clipped at ``Imax``, ``t_row`` x ``factor`` and ``Keta`` /
    ``factor`` (the same ``lambda``; the solver's steps held at the ideal run's)."""
    steps = cfg.solver.resolved(cfg.lam).steps
    return cfg.replace(training={"t_row": cfg.training.t_row * factor},
                       constants={"Keta": cfg.constants.Keta / factor},
                       nonideal={"current_limit": "clip"}, solver={"steps": steps})


def offsets_section(size: float) -> dict:
    """``[mismatch]``: every multiplier instance's own ``Voff1``, ``Voff`` (sigma
    ``size``) and ``Ioff`` (sigma ``KM * size * 1 V``)."""
    return {"seed": 0, "multiplier.Voff1": size, "multiplier.Voff": size,
            "multiplier.Ioff": KM * size * 1.0}


# --- the SkyWater cells' laws and sigmas ----------------------------------------------

def _declared(blocks: dict, section: dict) -> dict:
    """The sigmas of ``section`` that the laws of ``blocks`` read."""
    from ..blocks import law_class
    from ..params import params_of

    keys = {kind: params_of(law_class(kind, spec["law"])) for kind, spec in blocks.items()}
    return {k: v for k, v in section.items()
            if k == "seed" or (k.split(".")[0] in keys and k.split(".")[-1] in
                               keys[k.split(".")[0]])}


def _from_transistor(out: Path) -> dict | None:
    """tt's laws and the cells' sigmas that ``reproduce transistor`` wrote into ``out``."""
    import tomllib

    from ..cells.corners import CORNER_LAWS
    from ._common import read_csv

    constants, sigmas = out / "transistor_constants.csv", out / "transistor_mismatch.toml"
    if not (constants.exists() and sigmas.exists()):
        return None
    header, rows = read_csv(constants)
    col = {name: header.index(name) for name in ("corner", "kind", "law", "constant", "value")}
    blocks = {kind: {"law": law} for kind, law in CORNER_LAWS.items()}
    for row in rows:
        kind = row[col["kind"]]
        if row[col["corner"]] == "tt" and kind in blocks and row[col["law"]] == blocks[kind]["law"]:
            blocks[kind][row[col["constant"]]] = float(row[col["value"]])
    if any(len(spec) == 1 for spec in blocks.values()):  # tt was not among the corners
        return None
    with open(sigmas, "rb") as f:
        section = tomllib.load(f).get("mismatch", {})
    return {"blocks": blocks, "mismatch": {"seed": 0, **section},
            "source": f"`reproduce transistor` in this directory ({constants.name}, "
                      f"{sigmas.name})", "samples": None}


def _characterize(samples: int, progress: bool) -> dict:
    """The three cells at tt and ``samples`` mismatch samples of each, in ngspice."""
    from ..cells.corners import characterize_corners, corner_sections
    from ..progress import progress_bar
    from .transistor import mismatch_section, run_mismatch

    with progress_bar(progress, total=3, label="characterize tt") as bar:
        chars = characterize_corners(("tt",), TEMP, None, update=lambda k, d: bar(k, d),
                                     bandwidth=False)
    mc = run_mismatch(samples, None, progress)
    return {"blocks": corner_sections(chars["tt"]), "mismatch": mismatch_section(mc),
            "source": f"characterized here: the three cells at tt in ngspice, {samples} "
                      "mismatch samples (tt_mm) each", "samples": samples}




def sky130_cells(out: Path, samples: int = CELL_SAMPLES, progress: bool = False) -> dict:
    """``{"blocks", "mismatch", "source"}`` of the cells at tt, or ``{"skipped": why}``:
    from ``reproduce transistor``'s files in ``out``, from :data:`STORED`, or measured
    (and stored) here."""
    from ..io import atomic_write

    found = _from_transistor(out)
    if found is None and (out / STORED).exists():
        found = json.loads((out / STORED).read_text())
        found["source"] = f"stored by an earlier run of this command ({STORED})"
    if found is None:
        why = sky130_missing()
        if why is not None:
            return {"skipped": f"{why.rstrip('.')} (they need `reproduce transistor`'s files "
                               "in this directory, or ngspice and the SkyWater models)"}
        found = _characterize(samples, progress)
        atomic_write(out / STORED, json.dumps(found, indent=1) + "\n")
    found["mismatch"] = _declared(found["blocks"], found["mismatch"])
    return found


def sky130_config(cfg, cells: dict, trimmed: bool):
    """``cfg`` with the cells' laws, signals scaled to them, and their sigmas: every
    multiplier's offsets 0 and the relative (gain) sigmas only (``trimmed``), or as
    fitted with every sigma."""
    blocks = copy.deepcopy(cells["blocks"])
    section = dict(cells["mismatch"])
    if trimmed:
        blocks["multiplier"].update(Voff1=0.0, Voff=0.0, Ioff=0.0)
        section = {k: v for k, v in section.items()
                   if k == "seed" or (isinstance(v, str) and v.strip().endswith("%"))}
    init = blocks["activation"]["Iref"] / (blocks["multiplier"]["Km"] * SKY_SCALE)
    S = SKY_SCALE
    return cfg.replace(constants={"Vbias": S}, blocks=blocks, mismatch=section,
                       training={"t_row": SKY_T_ROW, "init_range": init},
                       data={"Vin_low": 0.0, "Vin_high": S, "Vlow": 0.2 * S, "Vhigh": 0.8 * S},
                       solver={"steps": SKY_STEPS})


# --- one network, every condition -------------------------------------------------------

def _condition(results, rows=slice(None), *, t_row: float, factor: float = 1.0) -> dict:
    """The figures of one condition (networks ``rows`` of ``results``)."""
    m = results.metrics
    Imax = results.config.constants.Imax
    return {"test": np.asarray(m["test_accuracy"])[rows, -1],
            "train": np.asarray(m["train_accuracy"])[rows, -1],
            "curve_test": np.asarray(m["test_accuracy"])[rows],
            "curve_train": np.asarray(m["train_accuracy"])[rows],
            "diverged": np.asarray(results.diverged_epoch)[rows] > 0,
            "peak_over_Imax": float(np.nanmax(results.peak_current_max[rows])) / Imax,
            "t_row": t_row, "factor": factor, "wall": results.wall_seconds,
            "seeds": [int(s) for s in np.asarray(results.seeds)[rows]],
            # the first layer's final |Vw| (median over every weight of these networks)
            "w_first": float(np.median(np.abs(np.asarray(results.W_final[0])[rows])))}


def confusion(results, cfg) -> dict:
    """The confusion matrix on the held-out rows of the median seed (by test accuracy;
    the lower of the two middle ones for an even count)."""
    import jax
    import jax.numpy as jnp

    import aann

    acc = results.final("test_accuracy")
    b = int(np.argsort(acc, kind="stable")[(acc.size - 1) // 2])
    circuit = aann.build_circuit(cfg)
    W = [jnp.asarray(w[b]) for w in results.W_final]
    test = results.dataset.test
    Vout = np.asarray(jax.vmap(lambda x: circuit.output(W, x))(jnp.asarray(test.X)))
    predicted = test.predicted(Vout)
    k = max(results.dataset.classes, 2)
    matrix = np.zeros((k, k), int)
    np.add.at(matrix, (test.labels, predicted), 1)
    return {"seed": int(results.seeds[b]), "matrix": matrix,
            "accuracy": float(np.trace(matrix) / matrix.sum())}


def parts(cells: dict) -> tuple:
    """The parts of one network's run, in order (for the progress bar)."""
    sky = () if "skipped" in cells else ("sky130 trimmed", "sky130 as fitted")
    return ("ideal", "clip", "offsets", *sky, "baselines")


def run_network(net: str, epochs: int, seeds: int, engine: str, cells: dict,
                progress: bool, step=None) -> dict:
    """Every condition of network ``net``: ``{"conditions": {name: figures}, ...}``.
    ``step(description, k)`` before part k of :func:`parts` returns the ``update(done)``
    that an inner progress bar moves from k to k + 1."""
    import aann
    from aann.baselines import baselines

    from ..progress import reporting_into

    names = parts(cells)

    def part(name, fn):
        if step is None:
            return fn()
        k = names.index(name)
        with reporting_into(step(f"{label(net)}: {name}", k), k, k + 1):
            return fn()

    cfg = network_config(net, epochs, seeds)
    out = {"epochs": epochs, "conditions": {}}
    ideal = part("ideal", lambda: aann.train(cfg, engine=engine, progress=progress))
    out["conditions"]["ideal"] = _condition(ideal, t_row=T_ROW)
    test = ideal.dataset.test
    out["train_rows"], out["test_rows"] = ideal.dataset.rows, test.rows
    out["majority"] = float(np.bincount(test.labels).max() / test.rows)
    out["lambda"] = cfg.lam
    if NETWORKS[net][0] == "digits":
        out["confusion"] = confusion(ideal, cfg)

    peak = float(np.nanmax(ideal.peak_current_max)) / cfg.constants.Imax
    factor = nice_up(peak)
    out["ideal_peak_over_Imax"] = peak
    ccfg = clip_config(cfg, factor)
    r = part("clip", lambda: aann.train(ccfg, engine=engine, progress=progress))
    out["conditions"]["clip"] = _condition(r, t_row=ccfg.training.t_row, factor=factor)
    out["clip_Keta"] = ccfg.constants.Keta

    variants = [aann.Variant(cfg.replace(mismatch=offsets_section(size)), s, sample=s,
                             coords={"offset": size})
                for size in OFFSETS for s in range(seeds)]
    r = part("offsets", lambda: aann.train_variants(variants, engine=engine,
                                                    progress=progress))
    for i, size in enumerate(OFFSETS):
        out["conditions"][f"offsets {size * 1e3:g} mV"] = _condition(
            r, slice(i * seeds, (i + 1) * seeds), t_row=T_ROW)
    out["offsets_wall"] = r.wall_seconds

    for name in names:
        if not name.startswith("sky130"):
            continue
        scfg = sky130_config(cfg, cells, trimmed=name == "sky130 trimmed")
        vs = [aann.Variant(scfg, s, sample=s) for s in range(seeds)]
        r = part(name, lambda vs=vs: aann.train_variants(vs, engine=engine,
                                                         progress=progress))
        out["conditions"][name] = _condition(r, t_row=SKY_T_ROW)
        if name == "sky130 trimmed":
            out["sky130_init_range"] = scfg.training.init_range
            out["sky130_lambda"] = scfg.lam
            out["sky130_results"] = r  # for the solver check

    t0 = time.perf_counter()
    base = part("baselines", lambda: baselines(cfg))
    out["baselines_wall"] = time.perf_counter() - t0
    for name, key in (("digital SGD", "digital_sgd"), ("sklearn MLP", "sklearn_mlp")):
        per = base[key]["per_seed"]
        out["conditions"][name] = {"test": np.asarray(per["test_accuracy"], float),
                                   "train": np.asarray(per["train_accuracy"], float),
                                   "seconds": np.asarray(per["seconds"], float)}
    out["mlp_epochs"] = base["sklearn_mlp"]["per_seed"].get("epochs")
    return out


def solver_check(r, engine: str) -> dict:
    """The first network of the sky130 (trimmed) batch again with
    :data:`SKY_CHECK_STEPS` steps per row: its final weights and accuracy."""
    import aann

    cfg = r.config
    ref = aann.train_variants([aann.Variant(cfg.replace(solver={"steps": SKY_CHECK_STEPS}),
                                            int(r.seeds[0]), sample=0)], engine=engine)
    dW = max(float(np.max(np.abs(a[0] - b[0]))) for a, b in zip(r.W_final, ref.W_final))
    return {"steps": SKY_CHECK_STEPS, "max_dW": dW,
            "test_accuracy": (float(r.final("test_accuracy")[0]),
                              float(ref.final("test_accuracy")[0]))}


# --- figures ------------------------------------------------------------------------------

COLORS = {"offsets 0.3 mV": "C8", "offsets 1 mV": "C5", "offsets 3 mV": "C3",
          "sky130 trimmed": "C2", "sky130 as fitted": "C4"}


def learning_figure(facts: dict):
    import matplotlib.pyplot as plt

    from .. import plots

    nets = list(facts["networks"])
    cols = 3 if len(nets) > 2 else len(nets)
    rows = -(-len(nets) // cols)
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False,
                                 constrained_layout=True)
        for ax, net in zip(axes.flat, nets):
            f = facts["networks"][net]["conditions"]
            ideal = f["ideal"]
            e = np.arange(1, ideal["curve_test"].shape[1] + 1)
            for key, style, name in (("curve_train", "-", "train"), ("curve_test", "--", "test")):
                c = ideal[key]
                ax.plot(e, np.median(c, axis=0), style, color="C0" if name == "train" else "C1",
                        label=f"ideal, {name}")
                ax.fill_between(e, c.min(axis=0), c.max(axis=0), alpha=0.2,
                                color="C0" if name == "train" else "C1", lw=0)
            for cond in (*(f"offsets {x * 1e3:g} mV" for x in OFFSETS), "sky130 trimmed",
                         "sky130 as fitted"):
                if cond in f:
                    ax.plot(e, np.median(f[cond]["curve_test"], axis=0), color=COLORS[cond],
                            lw=0.8, label=f"{cond}, test")
            for cond, ls in (("digital SGD", ":"), ("sklearn MLP", "-.")):
                ax.axhline(np.median(f[cond]["test"]), color="0.3", lw=0.7, ls=ls,
                           label=f"{cond}, test (final)")
            ax.set_title(label(net), fontsize=9)
            ax.set_xlabel("epoch")
            ax.set_ylabel("accuracy")
            ax.set_ylim(0, 1.02)
        for ax in list(axes.flat)[len(nets):]:
            ax.axis("off")
        handles, names = list(axes.flat)[0].get_legend_handles_labels()
        spare = list(axes.flat)[len(nets):]
        (spare[0] if spare else list(axes.flat)[0]).legend(
            handles, names, fontsize=7, loc="center" if spare else "lower right")
        fig.suptitle("Train and test accuracy after every epoch: median over seeds, the ideal "
                     "circuit's range shaded (within Imax: the same curves)", fontsize=9)
        return fig


def confusion_figure(facts: dict):
    import matplotlib.pyplot as plt

    from .. import plots

    nets = [n for n in facts["networks"] if "confusion" in facts["networks"][n]]
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, len(nets), figsize=(4.4 * len(nets), 4.0), squeeze=False,
                                 constrained_layout=True)
        for ax, net in zip(axes.flat, nets):
            c = facts["networks"][net]["confusion"]
            m = c["matrix"]
            share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
            ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
            ax.grid(False)
            for i in range(m.shape[0]):
                for j in range(m.shape[1]):
                    if m[i, j]:
                        ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=6,
                                color="w" if share[i, j] > 0.5 else "k")
            ax.set_xticks(range(m.shape[1]))
            ax.set_yticks(range(m.shape[0]))
            ax.set_xlabel("predicted digit")
            ax.set_ylabel("true digit")
            ax.set_title(f"{label(net)}, ideal circuit, seed {c['seed']} (median): "
                         f"{c['accuracy']:.1%}", fontsize=8)
        return fig


def accuracy_figure(facts: dict):
    import matplotlib.pyplot as plt

    from .. import plots

    nets = list(facts["networks"])
    conds = [c for c in CONDITIONS if any(c in facts["networks"][n]["conditions"] for n in nets)]
    with plt.rc_context(plots.STYLE):
        fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(nets) + 3), 3.6),
                               constrained_layout=True)
        width = 0.8 / len(conds)
        for k, cond in enumerate(conds):
            xs, med, lo, hi = [], [], [], []
            for i, net in enumerate(nets):
                f = facts["networks"][net]["conditions"].get(cond)
                if f is None:
                    continue
                xs.append(i - 0.4 + (k + 0.5) * width)
                med.append(np.median(f["test"]))
                lo.append(med[-1] - f["test"].min())
                hi.append(f["test"].max() - med[-1])
            ax.errorbar(xs, med, yerr=[lo, hi], fmt="os^vDPX*p"[k % 9], ms=4, capsize=2,
                        lw=0.8, color=plt.cm.tab10(k % 10), label=cond)
        ax.set_xticks(range(len(nets)), [label(n) for n in nets], fontsize=8)
        ax.set_ylabel("test accuracy (median, min..max)")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=6.5, ncol=3, loc="lower left")
        return fig


# --- the run and its report --------------------------------------------------------------

def run(out, *, engine: str = "native", networks=tuple(NETWORKS), epochs: int | None = None,
        seeds: int = SEEDS, cell_samples: int = CELL_SAMPLES, sky130: bool = True,
        progress: bool = False) -> dict:
    """Every network under every condition; figures, CSVs and the ``tasks`` section of
    the report. ``epochs``: every network's (default: each its own, :data:`NETWORKS`);
    ``sky130``: False leaves the SkyWater conditions out."""
    from ..io import ensure_writable_dir
    from ..progress import progress_bar

    out = ensure_writable_dir(Path(out))
    started = time.perf_counter()
    load_before = load_average()
    cells = sky130_cells(out, cell_samples, progress) if sky130 else \
        {"skipped": "not asked for (`sky130=False`)"}
    cells_seconds = time.perf_counter() - started
    facts = {"networks": {}, "cells": cells, "cells_seconds": cells_seconds, "engine": engine,
             "seeds": seeds}
    names = parts(cells)
    with progress_bar(progress, total=len(names) * len(networks), label="tasks") as bar:
        for n, net in enumerate(networks):
            def step(text, k, n=n):
                bar(n * len(names) + k, text)
                return lambda done, description=None: bar(n * len(names) + done)

            facts["networks"][net] = run_network(
                net, epochs or NETWORKS[net][2], seeds, engine, cells, progress,
                step if progress else None)
            bar((n + 1) * len(names))
    first = next(iter(facts["networks"].values()))
    if "sky130_results" in first:
        facts["solver_check"] = solver_check(first["sky130_results"], engine)
    for f in facts["networks"].values():
        f.pop("sky130_results", None)
    _write_csvs(out, facts)
    figs = {"learning": save_figure(learning_figure(facts), out, "tasks_learning"),
            "accuracy": save_figure(accuracy_figure(facts), out, "tasks_accuracy")}
    if any("confusion" in f for f in facts["networks"].values()):
        figs["confusion"] = save_figure(confusion_figure(facts), out, "tasks_confusion")
    facts["seconds"] = time.perf_counter() - started
    facts["load"] = (load_before, load_average())
    write_fragment(out, "tasks", _section(facts, figs))
    return facts



def summary(values) -> tuple[float, float, float]:
    v = np.asarray(values, float)
    return float(np.median(v)), float(v.min()), float(v.max())


def physical_times(f: dict, cond: str) -> dict:
    """Seconds the circuit of condition ``cond`` takes: training (training rows x epochs
    x ``t_row``) and the read-out the metrics need after every epoch (every training and
    held-out row once, each held for one settling time, taken as ``t_row``)."""
    c = f["conditions"][cond]
    train = f["train_rows"] * f["epochs"] * c["t_row"]
    readout = (f["train_rows"] + f["test_rows"]) * f["epochs"] * c["t_row"]
    return {"train": train, "readout": readout, "total": train + readout}


def _write_csvs(out: Path, facts: dict) -> None:
    rows, curves, times, conf = [], [], [], []
    for net, f in facts["networks"].items():
        for cond, c in f["conditions"].items():
            circuit = cond in CIRCUIT
            for k, (te, tr) in enumerate(zip(c["test"], c["train"])):
                rows.append([net, label(net), cond, c["seeds"][k] if circuit else k, float(te),
                             float(tr), int(c["diverged"][k]) if circuit else 0,
                             c["t_row"] if circuit else "",
                             c["wall"] if circuit else float(c["seconds"][k])])
                if circuit:
                    for e, (a, b) in enumerate(zip(c["curve_train"][k], c["curve_test"][k])):
                        curves.append([net, cond, c["seeds"][k], e + 1, float(a), float(b)])
            if circuit:
                p = physical_times(f, cond)
                times.append([net, cond, f["train_rows"], f["test_rows"], f["epochs"],
                              c["t_row"], p["train"], p["readout"], p["total"], c["wall"]])
            else:
                times.append([net, cond, f["train_rows"], f["test_rows"], f["epochs"], "",
                              "", "", "", float(np.sum(c["seconds"]))])
        if "confusion" in f:
            m = f["confusion"]["matrix"]
            conf += [[net, f["confusion"]["seed"], i, j, int(m[i, j])]
                     for i in range(m.shape[0]) for j in range(m.shape[1])]
    write_csv(out / "tasks.csv", ["network", "topology", "condition", "seed", "test_accuracy",
                                  "train_accuracy", "diverged", "t_row", "wall_seconds"], rows)
    write_csv(out / "tasks_curves.csv", ["network", "condition", "seed", "epoch",
                                         "train_accuracy", "test_accuracy"], curves)
    write_csv(out / "tasks_time.csv", ["network", "condition", "train_rows", "test_rows",
                                       "epochs", "t_row", "training_s", "readout_s",
                                       "circuit_total_s", "wall_seconds"], times)
    if conf:
        write_csv(out / "tasks_confusion.csv", ["network", "seed", "true", "predicted",
                                                "count"], conf)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _cell(values) -> str:
    med, lo, hi = summary(values)
    return f"{_pct(med)} ({_pct(lo)}-{_pct(hi)})"


def _time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("ps", 1e-12)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def rising(f: dict, cond: str) -> bool:
    """The median test accuracy of ``cond`` still rose by a held-out row or more over the
    last quarter of the epochs."""
    c = np.median(f["conditions"][cond]["curve_test"], axis=0)
    return c.size >= 4 and c[-1] - c[int(0.75 * (c.size - 1))] >= 1 / f["test_rows"] - 1e-9


def _findings(facts: dict) -> list[str]:
    """Where the circuit falls short, and why: one paragraph per finding, each from the
    measured numbers. A difference counts when it is at least one percentage point and
    at least one held-out row."""
    nets = facts["networks"]
    out = []

    def med(net, cond, which="test"):
        return float(np.median(nets[net]["conditions"][cond][which]))

    def worse(net, d):  # d in points
        return d <= -100 * max(1.0 / nets[net]["test_rows"], 0.01) + 1e-9

    def listing(items):
        return ", ".join(f"{label(n)} {d:+.1f}" for n, d in items)

    def gap(cond, ref="ideal"):
        return [(n, 100 * (med(n, cond) - med(n, ref))) for n in nets]

    def short(items):
        return [(n, d) for n, d in items if worse(n, d)]

    def names(items):
        return ", ".join(label(n) for n, _ in items)

    sgd = gap("ideal", "digital SGD")
    behind = short(sgd)
    paired = []
    for n in nets:  # the same seeds: the same initial weights and row order
        d = nets[n]["conditions"]["ideal"]["test"] - nets[n]["conditions"]["digital SGD"]["test"]
        paired.append(f"{label(n)} {int((d > 1e-9).sum())}/{int((d < -1e-9).sum())}")
    out.append(
        "**Ideal circuit against digital SGD** (median test accuracy, circuit minus SGD, in "
        f"points): {listing(sgd)}; seeds where the circuit is ahead / behind (the same "
        f"initial weights and row order): {', '.join(paired)}. " + (
            "No network falls short by a point: at `lambda` = 1 the circuit follows each "
            "row's gradient flow for `t_row`, the continuous limit of the same online step, "
            "from the same rows in the same order, and reaches what the digital network "
            "reaches; being analogue costs the ideal circuit less than a point." if not behind else
            f"Short by a point or more on {names(behind)}: within a row the circuit "
            "follows that row's gradient flow, not one discrete step, so at `lambda` = 1 "
            "the two take different paths through the same rows."))
    mlp = gap("ideal", "sklearn MLP")
    behind = short(mlp)
    sgd_behind = {n for n, _ in short(gap("digital SGD", "sklearn MLP"))}
    if behind:
        same = [n for n, _ in behind if n in sgd_behind]
        out.append(
            f"**Against scikit-learn's MLP** (circuit minus MLP): {listing(mlp)}. The MLP is "
            f"ahead by a point or more on {names(behind)}. It trains with adam, minibatches "
            f"and a log-loss (softmax) output for up to 2000 epochs (median taken: "
            f"{_mlp_epochs(facts)}); the circuit with online gradient descent on the squared "
            f"error of sigmoid outputs for {_epochs_text(facts)} epochs. "
            + (f"Digital SGD with the circuit's rule trails the MLP by a point on "
               f"{', '.join(label(n) for n in same)} too: that gap is the learning rule, "
               "the loss and the epochs, not the analogue hardware." if same else
               "Digital SGD with the circuit's rule does not trail the MLP by a point there, "
               "so that gap is the circuit's own."))
    else:
        out.append(f"**Against scikit-learn's MLP** (circuit minus MLP): {listing(mlp)}: "
                   "never a point or more behind.")
    clip = gap("clip")
    factors = ", ".join(f"{label(n)} x{nets[n]['conditions']['clip']['factor']:g}" for n in nets)
    changed = [(n, d) for n, d in clip if abs(d) > 1e-9]
    out.append(
        "**Within `Imax`** the circuit keeps its accuracy only by running slower: the ideal "
        f"run's charging currents peak at {_peaks(facts)} x `Imax`, so `t_row` and 1/`Keta` "
        f"grow by {factors}, and so does its time. Accuracy against the ideal circuit: "
        f"{listing(clip)}"
        + (" (the same medians: at the same `lambda`, with every current scaled down by f, "
           "the clipped source never reaches its limit; only the time scale changes)."
           if not changed else
           "; where it changes, the limit clipped the early rows' large currents and the "
           "weights took another path."))
    ratios, slow_rows, factor = [], [], math.inf
    for n, f in nets.items():
        t = physical_times(f, "clip")["total"]
        digital = float(np.median(f["conditions"]["digital SGD"]["seconds"]))
        factor = min(factor, digital / t)
        ratios.append(f"{label(n)} {_time(t)} against {_time(digital)}")
        cells = 2 * f["train_rows"] * f["epochs"] * CELL_T_ROW + \
            f["test_rows"] * f["epochs"] * CELL_T_ROW
        slow_rows.append(f"{label(n)} {_time(cells)}")
    out.append(
        "**Time**: within `Imax`, training and the per-epoch read-out together take (circuit "
        f"against digital SGD per seed, compiled JAX): {', '.join(ratios)}: the circuit "
        + (f"is at least {factor:.3g} times faster, even slowed to its source's limit. "
           if factor > 1 else "is not faster everywhere. ")
        + f"At the {CELL_T_ROW * 1e6:g} us rows the transistor cells' poles need (`reproduce "
          f"transistor`'s co-simulation) the same runs would take {', '.join(slow_rows)}.")
    first = None
    for size in OFFSETS:
        drops = short(gap(f"offsets {size * 1e3:g} mV"))
        if drops:
            first = size
            break
    sizes = " / ".join(f"{s * 1e3:g}" for s in OFFSETS)
    per = []
    for n, f in nets.items():
        c = [f["conditions"][f"offsets {s * 1e3:g} mV"] for s in OFFSETS]
        per.append(f"{label(n)} (fan-in {NETWORKS[n][1][0] + 1}, {f['train_rows']} rows an "
                   f"epoch): " + " / ".join(f"{100 * (np.median(x['test']) - med(n, 'ideal')):+.1f}"
                                            for x in c)
                   + f" points, {' / '.join(str(int(x['diverged'].sum())) for x in c)} of "
                     f"{len(c[0]['test'])} flagged diverged, first-layer median |Vw| "
                   + " / ".join(f"{x['w_first']:.2g}" for x in c)
                   + f" V (ideal {f['conditions']['ideal']['w_first']:.2g} V)")
    out.append(
        "**Offsets** (every multiplier instance its own `Voff1`, `Voff`, `Ioff`) at "
        f"{sizes} mV sigma, against the ideal circuit: " + "; ".join(per) + ". "
        + (f"The smallest size that costs a point or more is {first * 1e3:g} mV "
           f"({names(drops)}). " if first else
           f"No size up to {OFFSETS[-1] * 1e3:g} mV costs a point. ")
        + "Why: an offset on a charge multiplier's `Vdelta` input or output (or on a Type2 "
          "multiplier) is a charging current at zero error, of its own sign on every "
          "weight (the offsets section's \"drift\" placements). All the "
          "weights of one neuron are held against their currents by one signal, that "
          "neuron's `Vdelta`; the more inputs a neuron has, the less one signal can cancel "
          "them all, so the weights drift (the first layer's |Vw| above), the neurons "
          "saturate, their derivative and with it every restoring gradient vanishes, and "
          "the drift runs on (weights beyond 100 V or a step too stiff for the solver: "
          "flagged diverged)." + _fan_in_order(nets, gap))
    first_net = next(iter(nets.values()))
    if "sky130 trimmed" in first_net["conditions"]:
        cells = facts["cells"]["mismatch"]
        trim = gap("sky130 trimmed")
        lost = short(trim)
        slow = [n for n, _ in lost if rising(nets[n], "sky130 trimmed")]
        fit_gap = [n for n, _ in lost
                   if worse(n, 100 * (med(n, "sky130 trimmed", "train")
                                      - med(n, "ideal", "train")))]
        gains = ", ".join(f"`{k}` {v}" for k, v in cells.items() if isinstance(v, str))
        text = (f"**SkyWater cells, offsets trimmed, gains mismatched** ({gains}), against the "
                f"ideal circuit: {listing(trim)}. ")
        if lost:
            text += (f"It loses a point or more on {names(lost)}. "
                     + (f"On {', '.join(label(n) for n in slow)} the test accuracy was still "
                        "rising over the last quarter of the epochs: the cells' network had "
                        "not finished learning at this `lambda`, and more epochs would close "
                        "part of the gap. " if slow else "")
                     + (f"On {', '.join(label(n) for n in fit_gap)} the training accuracy "
                        "is lower by a point too: the cells' network fits its training rows "
                        "less well (outputs read between levels 0.12 V apart instead of "
                        "0.6 V, a polynomial multiplier, per-instance gains), rather than "
                        "generalizing worse. " if fit_gap else ""))
        else:
            text += "It does not lose a point on any network. "
        text += ("A gain mismatch changes each weight's learning rate and each neuron's "
                 "slope, not where its charging current vanishes, so training absorbs it "
                 "(the offsets section's yield against `Km`, `Iref`, `C`).")
        out.append(text)
        fitted = [(n, float(np.mean(nets[n]["conditions"]["sky130 as fitted"]["diverged"])),
                   med(n, "sky130 as fitted")) for n in nets]
        at_chance = all(m <= nets[n]["majority"] + 1.0 / nets[n]["test_rows"] + 1e-9
                        for n, _, m in fitted)
        offs = [(k, v) for k, v in cells.items()
                if k.startswith("multiplier.") and not isinstance(v, str)]
        volts = [v for k, v in offs if not k.endswith("Ioff")]
        out.append(
            "**SkyWater cells as fitted, with the PDK's offsets** ("
            + ", ".join(f"`{k}` {_si(v, k)}" for k, v in offs)
            + (f" sigma, up to {100 * max(volts) / SKY_SCALE:.0f} % of the 0.2 V signal "
               "range" if volts else "") + "): median test accuracy "
            + ", ".join(f"{label(n)} {_pct(m)} % ({100 * d:.0f} % of the networks flagged "
                        "diverged)" for n, d, m in fitted)
            + (". Every median is at or below the share of the most common class among the "
               "held-out rows (" + ", ".join(f"{label(n)} {_pct(nets[n]['majority'])} %"
                                             for n in nets)
               + "): the outputs no longer depend on the inputs." if at_chance else ".")
            + " Untrimmed, every multiplier's offsets are charging currents of their own at "
              "zero error (the mechanism above, at "
            + (f"{1e3 * max(volts):.3g} mV" if volts else "these offsets")
            + " sigma on 0.2 V signals, against 0.3-3 mV on 1 V signals above): the "
              "weights drift into saturation or diverge. These cells need every multiplier "
              "trimmed (or auto-zeroed) before they can learn these tasks; trimmed, they "
              "do (the previous paragraph).")
    return out


def _fan_in_order(nets: dict, gap) -> str:
    """Whether the accuracy the offsets cost (summed over the sizes) grows with the first
    layer's fan-in, as measured."""
    if len({NETWORKS[n][1][0] for n in nets}) < 2:
        return ""
    lost = {n: 0.0 for n in nets}
    for size in OFFSETS:
        for n, d in gap(f"offsets {size * 1e3:g} mV"):
            lost[n] -= d
    by_fan_in = sorted(nets, key=lambda n: (NETWORKS[n][1][0], lost[n]))
    ordered = all(lost[a] <= lost[b] + 1e-9 for a, b in zip(by_fan_in, by_fan_in[1:]))
    rows_too = all(nets[a]["train_rows"] <= nets[b]["train_rows"]
                   for a, b in zip(by_fan_in, by_fan_in[1:]))
    if not ordered:
        return " The loss is not ordered by fan-in alone here."
    return (" The loss grows with the fan-in, as measured"
            + ("; so do the rows per epoch, over which the drift integrates, in these data "
               "sets, so these runs do not separate the two." if rows_too else "."))


def _si(value: float, key: str) -> str:
    unit = "A" if key.endswith("Ioff") else "V"
    for prefix, scale in (("", 1.0), ("m", 1e-3), ("u", 1e-6), ("n", 1e-9)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def _peaks(facts) -> str:
    v = [f["ideal_peak_over_Imax"] for f in facts["networks"].values()]
    return f"{min(v):.3g} to {max(v):.3g}" if len(v) > 1 else f"{v[0]:.3g}"


def _epochs_text(facts) -> str:
    e = sorted({f["epochs"] for f in facts["networks"].values()})
    return f"{e[0]}" if len(e) == 1 else f"{e[0]} to {e[-1]}"


def _mlp_epochs(facts) -> str:
    return ", ".join(f"{label(n)} {np.median(f['mlp_epochs']):.0f}"
                     for n, f in facts["networks"].items() if f.get("mlp_epochs"))


def _section(facts: dict, figs: dict) -> str:
    nets = facts["networks"]
    seeds = facts["seeds"]
    conds = [c for c in CONDITIONS if any(c in f["conditions"] for f in nets.values())]
    header = ["condition"] + [label(n) for n in nets]
    rows = [[LABELS[c]] + [_cell(nets[n]["conditions"][c]["test"])
                           if c in nets[n]["conditions"] else "-" for n in nets]
            for c in conds]
    train_rows = [[LABELS[c]] + [_pct(float(np.median(nets[n]["conditions"][c]["train"])))
                                 for n in nets] for c in ("ideal", "digital SGD", "sklearn MLP")]
    setup = md_table(["network", "train / test rows", "epochs", "clip: t_row, Keta",
                      "ideal peak / Imax"],
                     [[label(n), f"{f['train_rows']} / {f['test_rows']}", f["epochs"],
                       f"{_time(f['conditions']['clip']['t_row'])}, {f['clip_Keta']:.3g} S",
                       f"{f['ideal_peak_over_Imax']:.3g}"] for n, f in nets.items()])
    t_rows = []
    for n, f in nets.items():
        ideal, clip = physical_times(f, "ideal"), physical_times(f, "clip")
        sky = physical_times(f, "sky130 trimmed") if "sky130 trimmed" in f["conditions"] \
            else None
        sgd, mlp = f["conditions"]["digital SGD"], f["conditions"]["sklearn MLP"]
        t_rows.append([label(n), f"{_time(ideal['train'])} + {_time(ideal['readout'])}",
                       f"{_time(clip['train'])} + {_time(clip['readout'])}",
                       "-" if sky is None else f"{_time(sky['train'])} + {_time(sky['readout'])}",
                       f"{f['conditions']['ideal']['wall']:.1f} s",
                       f"{np.median(sgd['seconds']):.3g} s", f"{np.median(mlp['seconds']):.3g} s"])
    times = md_table(["network", "ideal, 0.1 ps rows: training + read-out",
                      "within Imax (clip)", "SkyWater laws, 1 ps rows",
                      f"simulation of the ideal circuit ({seeds} seeds at once)",
                      "digital SGD per seed (JAX, compiled)", "MLP per seed"], t_rows)
    cells = facts["cells"]
    if "skipped" in cells:
        sky_text = f"The SkyWater conditions were left out: {cells['skipped']}."
    else:
        b = cells["blocks"]
        first = next(iter(nets.values()))
        sky_text = (
            f"The SkyWater laws and sigmas: {cells['source']}"
            + (f" ({facts['cells_seconds']:.0f} s)" if cells["source"].startswith(
                "characterized here") else "") +
            f". tt constants: multiplier `Km` = {b['multiplier']['Km']:.3g} A/V^2, offsets "
            f"`Voff1` {1e3 * b['multiplier']['Voff1']:.3g} mV, `Voff` "
            f"{1e3 * b['multiplier']['Voff']:.3g} mV, `Ioff` {1e9 * b['multiplier']['Ioff']:.3g}"
            f" nA; neuron `Vamp` = {b['activation']['Vamp']:.3g} V, `Iref` = "
            f"{1e6 * b['activation']['Iref']:.3g} uA; derivative `Kd` = "
            f"{b['derivative']['Kd']:.3g} V. Sigmas: "
            + ", ".join(f"`{k}` {v if isinstance(v, str) else _si(v, k)}"
                        for k, v in cells["mismatch"].items() if k != "seed")
            + f". Signals scaled to the cells (inputs 0..{SKY_SCALE:g} V, targets "
            f"{0.2 * SKY_SCALE:g} / {0.8 * SKY_SCALE:g} V, `Vbias` {SKY_SCALE:g} V), "
            f"`t_row` = {SKY_T_ROW * 1e12:g} ps (`lambda` = {first['sky130_lambda']:g}), "
            f"initial weights uniform in +-{1e3 * first['sky130_init_range']:.3g} mV "
            f"(`Iref / (Km * {SKY_SCALE:g} V)`: each product then spans the neuron's input "
            f"scale as a 1 V weight does in the ideal circuit), {SKY_STEPS} fixed steps a row")
        if "solver_check" in facts:
            s = facts["solver_check"]
            sky_text += (f" (checked: {label(next(iter(nets)))} seed 0 with {s['steps']} steps "
                         f"a row ends with weights at most {s['max_dW']:.2g} V apart, test "
                         f"accuracy {_pct(s['test_accuracy'][0])} % against "
                         f"{_pct(s['test_accuracy'][1])} %)")
        sky_text += "."
    load = facts["load"]
    load_text = ("" if not load[0] else
                 f" Load average (1 min) {load[0][0]:.1f} before and {load[1][0]:.1f} after, "
                 f"on {os.cpu_count()} CPU(s): other jobs shared the machine, so wall times "
                 "are upper bounds.")
    findings = "\n".join(f"- {s}" for s in _findings(facts))
    confusion = ""
    if "confusion" in figs:
        lines = [f"{label(n)} seed {f['confusion']['seed']}: {f['confusion']['accuracy']:.1%}"
                 + _confused(f["confusion"]["matrix"])
                 for n, f in nets.items() if "confusion" in f]
        confusion = (f"\n![Digits: confusion matrix of the ideal circuit]({figs['confusion']})"
                     f"\n\nConfusion on the held-out digits (ideal circuit, the median seed by "
                     f"test accuracy): {'; '.join(lines)}. Data: `tasks_confusion.csv`.\n")
    return f"""## Beyond the paper - real tasks: iris, wine, breast cancer, digits

Can the self-training circuit classify real data, and what does each imperfection
cost? Five networks on scikit-learn's bundled data sets (inputs min-max scaled into
0..1 V on the training rows, one-hot targets 0.2 / 0.8 V; breast cancer one output,
class 1 above 0.5 V), a stratified share of each class held out (`split_seed` 0),
rows shuffled every epoch, seeds 0..{seeds - 1}, `t_row` = {T_ROW * 1e12:g} ps
(`lambda` = 1); accuracy = share of held-out rows whose highest output is their class,
read with learning off after the last epoch. Engine `{facts['engine']}`; the whole
command took {facts['seconds']:.0f} s.{load_text} Data: `tasks.csv` (every seed),
`tasks_curves.csv` (every epoch), `tasks_time.csv`.

{setup}

Conditions: the ideal circuit; the charging source limited to `Imax` = 100 uA
(`current_limit = "clip"`), run slower at the same `lambda`: `t_row` x f and `Keta` / f,
f the ideal run's peak charging current over `Imax` rounded up to 1, 2 or 5 x 10^k (the
rule of the run summary's warning: `t_row` >= `t_row` x peak / `Imax`, `Keta` scaled
down); per-instance offsets: `[mismatch]` sigmas on `multiplier.Voff1` and
`multiplier.Voff` (the size) and `multiplier.Ioff` (`Km` x size x 1 V), which every
multiplier of every role (forward, delta, charge, type2) draws for itself (the error
block's `Voff` left at 0), Monte Carlo sample k with seed k, the three sizes in one
batch (one compiled call); the SkyWater 130 nm cells' fitted laws (multiplier
`polynomial`, neuron `sigmoid_offset`, derivative `sigmoid`, tt) with the PDK's
mismatch as a Monte Carlo (sample k with seed k), every multiplier's offsets trimmed
to 0 with the gain sigmas only, and as fitted with every sigma; digital online SGD
(JAX, `lr = lambda`, the same initial weights and row order) and scikit-learn's
`MLPClassifier` (the same hidden layer, logistic, adam, up to 2000 epochs), both from
`aann.baselines`. {sky_text}

![Learning curves: train and test accuracy per data set]({figs['learning']})

Test accuracy in %, median (min-max) over {seeds} seeds (Monte Carlo: sample k with
seed k):

{md_table(header, rows)}

![Test accuracy of every condition]({figs['accuracy']})

Training accuracy in % (median), which tells a network that fits its training rows
less well from one that generalizes less well:

{md_table(["condition"] + [label(n) for n in nets], train_rows)}
{confusion}
### Time: the circuit's, beside the digital wall time

The circuit's physical time: training = training rows x epochs x `t_row`; read-out =
(training + held-out rows) x epochs x the settling time of one forward pass, which the
accuracy metrics need after every epoch. Assumption: a forward pass settles within one
`t_row` (the rows are made that long so that the blocks settle within them; the ideal
blocks have no poles). The SkyWater column keeps the 1 ps rows the native engine
simulated; the cells' own poles (MHz, `reproduce transistor`) need rows of
microseconds, a million times longer. The digital wall times: the simulation of the
ideal circuit (every seed in one compiled call, compilation included), digital SGD
per seed (compiled loop, compilation excluded), the MLP per seed.

{times}

### Where the circuit falls short, and why

{findings}
"""


def _confused(m) -> str:
    off = m.copy()
    np.fill_diagonal(off, 0)
    if not off.any():
        return ""
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    return f" (most often confused: {i} read as {j}, {off[i, j]} times)"
