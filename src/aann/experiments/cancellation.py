"""Beyond the paper: offset cancellation. Which technique makes the self-training circuit
learn despite per-instance offsets, where it stops working, and what it costs.

Networks (:data:`NETWORKS`): XOR 2-8-1 as the offsets study runs it (``t_row`` = 0.1 ps,
rows in order, 1000 epochs; yield: final MSE < 0.01 V^2 and not diverged,
:func:`aann.metrics.learned`), iris 4-8-3 and digits 64-16-10 as ``reproduce tasks`` runs
them (inputs 0..1 V, one-hot 0.2 / 0.8 V, a share of each class held out, rows shuffled,
its epochs; the charging source clipped at ``Imax`` and run slower at the same
``lambda``: ``t_row`` x f, ``Keta`` / f, f the ideal run's peak current over ``Imax``
rounded up, :func:`aann.experiments.tasks.clip_config`; median test accuracy). Seeds
0..9, Monte Carlo sample k with seed k: every technique sees the same draws.

Offsets (:func:`offsets_section`): per-instance ``[mismatch]`` sigmas of 0, 0.3, 1, 3 and
10 mV on every multiplier of every role (``Voff1``, ``Voff``; ``Ioff`` = ``Km`` x sigma x
1 V) and on every error block (``error.Voff``), all at once.

Techniques (:data:`TECHNIQUES`, :func:`technique_config`):

* ``none``;
* ``chopper``: ``[offset_cancellation] method = "chopper"``, one period a row, solved
  with half the plain run's fixed steps per half period (the very steps of the plain
  run);
* ``autozero``: ``method = "autozero"``, ``t_az`` a tenth of a row, ``C_az`` 0.1 pF, with
  its kT/C_az noise at 300 K;
* ``dead_zone``: ``[nonideal] dead_zone`` three times the rms offset that reaches the
  charging sources at zero error at a design sigma of 1 mV (:func:`design`, measured
  from the circuit: :meth:`aann.Circuit.autozero_sample` at the initial weights);
* ``leakage``: ``[nonideal] R_leak`` with ``R_leak C`` = the training time (a weight
  forgets over one training; a constant drift is held at ``R_leak Keta V_os``).

Costs per technique: the physical training time (``Results.circuit_seconds``), the
accuracy at zero offset, switches and capacitors per weight and per output neuron
(:func:`aann.cancellation.costs`; a comparator per weight for the dead zone, a resistor
per weight for leakage), and the chopping frequency the blocks' bandwidth allows
(:func:`aann.cancellation.chopper_settling` with every block at :data:`F3DB`).

Then XOR with the SkyWater 130 nm cells' fitted laws (tt) and the PDK's mismatch
(``reproduce tasks``' cells, :func:`aann.experiments.tasks.sky130_cells`): every
technique with every sigma as fitted, and the chopper at more periods a row and autozero
with a larger ``C_az`` (:func:`sky130_extras`), beside the cells with every multiplier's
offsets trimmed (the offset-free reference); skipped, saying why, without ngspice and
the SkyWater models (and no stored laws).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np

from ._common import load_average, md_table, save_figure, sky130_goal, write_csv
from .report import write_fragment

SEEDS = 10
XOR_T_ROW = 0.1e-12  # s: lambda = 1, the offsets study's
NETWORKS = {  # key: (data set, sizes, epochs)
    "xor": ("xor", (2, 8, 1), 1000),
    "iris": ("iris", (4, 8, 3), 100),
    "digits16": ("digits", (64, 16, 10), 15),
}
"""Iris and digits take ``reproduce tasks``' epochs (where the ideal circuit's median test
accuracy has levelled off) and test fractions."""
SIGMAS = (0.0, 0.3e-3, 1e-3, 3e-3, 10e-3)  # V
KM = 1e-4  # A/V^2: the ideal multiplier's gain (Ioff sigma = KM * sigma * 1 V)
TECHNIQUES = ("none", "chopper", "autozero", "dead_zone", "leakage")
LABELS = {"none": "none", "chopper": "chopper", "autozero": "autozero",
          "dead_zone": "dead zone", "leakage": "leakage"}
PERIODS = 1  # chopper periods per row
T_AZ_SHARE = 0.1  # the autozero phase, in rows
C_AZ = 0.1e-12  # F
TEMPERATURE = 300.0  # K: the autozero sample's kT/C_az noise
DESIGN_SIGMA = 1e-3  # V: the per-instance sigma the dead zone is designed to block
DZ_MULTIPLE = 3.0  # the dead zone, in rms path offsets at DESIGN_SIGMA
DESIGN_ROWS = 256  # training rows the path offset is measured over (per sample)
LEAK_RC = 1.0  # R_leak C, in training times
F3DB = 1e9  # Hz: every block's bandwidth for the chopping frequency (as reproduce rules)
GOAL = 0.01  # V^2: XOR's goal (1 V target swing)
YIELD_TOLERANCE = 0.2  # a technique works on XOR while its yield is at most this below...
ACCURACY_TOLERANCE = 0.03  # ... and on a real task its median accuracy at most 3 points
CELL_SAMPLES = 4  # Monte Carlo samples per cell when the SkyWater sigmas are measured here


def label(net: str) -> str:
    dataset, sizes, _ = NETWORKS[net]
    return f"{dataset} {'-'.join(map(str, sizes))}"


def is_xor(net: str) -> bool:
    return NETWORKS[net][0] == "xor"


def offsets_section(sigma: float) -> dict:
    """``[mismatch]``: every multiplier instance's own ``Voff1``, ``Voff`` (sigma
    ``sigma``), ``Ioff`` (``KM * sigma * 1 V``) and every error block's own ``Voff``."""
    return {"seed": 0, "multiplier.Voff1": sigma, "multiplier.Voff": sigma,
            "multiplier.Ioff": KM * sigma * 1.0, "error.Voff": sigma}


def with_sigma(cfg, sigma: float):
    """``cfg`` with the per-instance offsets of ``sigma`` (none at 0)."""
    return cfg if sigma == 0 else cfg.replace(mismatch=offsets_section(sigma))


def network_config(net: str, epochs: int, seeds: int):
    """The unclipped ideal description of network ``net``."""
    import aann

    from .tasks import network_config as task_config

    dataset, sizes, _ = NETWORKS[net]
    if is_xor(net):
        return aann.Config(network={"sizes": sizes},
                           training={"dataset": dataset, "t_row": XOR_T_ROW, "epochs": epochs,
                                     "seeds": seeds, "record": "mse"})
    return task_config(net, epochs, seeds)


def training_time(cfg, rows: int) -> float:
    """The physical time (s) of training ``rows`` rows for every epoch, without phases."""
    return rows * cfg.training.epochs * cfg.training.t_row


def technique_config(cfg, technique: str, design: dict, periods: int = PERIODS,
                     C_az: float = C_AZ):
    """``cfg`` under ``technique`` (:data:`TECHNIQUES`); ``design``: :func:`design`'s
    ``dead_zone`` and ``R_leak``; the chopper's ``periods`` a row, autozero's ``C_az``."""
    if technique == "none":
        return cfg
    if technique == "chopper":
        steps = cfg.solver.resolved(cfg.lam).steps
        # the plain run's steps a row spread over the half periods (never coarser)
        return cfg.replace(offset_cancellation={"method": "chopper",
                                                "periods_per_row": periods},
                           solver={"steps": max(1, steps // (2 * periods))})
    if technique == "autozero":
        return cfg.replace(offset_cancellation={"method": "autozero", "C_az": C_az,
                                                "t_az": T_AZ_SHARE * cfg.training.t_row},
                           nonideal={"temperature": TEMPERATURE},
                           solver={"steps": cfg.solver.resolved(cfg.lam).steps})
    if technique == "dead_zone":
        return cfg.replace(nonideal={"dead_zone": design["dead_zone"]})
    if technique == "leakage":
        return cfg.replace(nonideal={"R_leak": design["R_leak"]})
    raise ValueError(technique)


def path_offsets(cfg, section: dict, samples: int, rows: int = DESIGN_ROWS) -> np.ndarray:
    """What reaches every charging source at zero error (V), per Monte Carlo sample
    0..samples-1 of ``cfg`` with ``[mismatch]`` ``section``, at that sample's initial
    weights (seed k) and each of the first ``rows`` training rows: the value an ideal
    autozero phase holds (:meth:`aann.Circuit.autozero_sample`, no injection, no noise)."""
    import jax
    import jax.numpy as jnp

    import aann
    from aann.datasets import for_config

    probe = cfg.replace(mismatch=section,
                        offset_cancellation={"method": "autozero", "C_az": C_AZ})
    ds = for_config(probe)
    X, Y = jnp.asarray(ds.X[:rows]), jnp.asarray(ds.Y[:rows])
    out = []
    for k in range(samples):
        circuit = aann.build_circuit(probe, sample=k)
        W = [jnp.asarray(w) for w in aann.random_weights(probe.network.sizes, k,
                                                         probe.training.init_range)]
        held = jax.vmap(lambda x, y, c=circuit, W=W: c.autozero_sample(W, x, y, 1.0))(X, Y)
        out.append(np.concatenate([np.asarray(h).ravel() for h in held]))
    return np.concatenate(out)


def design(cfg, section: dict, samples: int, rows: int) -> dict:
    """The dead zone and the leakage of ``cfg``: ``dead_zone`` = :data:`DZ_MULTIPLE` x the
    rms path offset (:func:`path_offsets`) with ``section``; ``R_leak`` with ``R_leak C``
    = :data:`LEAK_RC` x the training time (``rows`` training rows)."""
    v = path_offsets(cfg, section, samples)
    rms = float(np.sqrt(np.mean(v ** 2)))
    T = training_time(cfg, rows)
    return {"path_rms": rms, "path_q99": float(np.quantile(np.abs(v), 0.99)),
            "dead_zone": DZ_MULTIPLE * rms, "R_leak": LEAK_RC * T / cfg.constants.C,
            "training_time": T}


# --- one network, every technique at every sigma ---------------------------------------

def _figures(results, rows: slice, goal) -> dict:
    r = results
    d = np.asarray(r.diverged_epoch)[rows] > 0
    out = {"final_mse": np.asarray(r.final("mse"), float)[rows], "diverged": d,
           "learned": np.asarray(r.learned(goal))[rows],
           "seeds": [int(s) for s in np.asarray(r.seeds)[rows]],
           "circuit_seconds": float(r.circuit_seconds), "wall": float(r.wall_seconds)}
    if "test_accuracy" in r.metrics:
        acc = np.asarray(r.final("test_accuracy"), float)[rows]
        out["test_accuracy"] = np.where(np.isfinite(acc), acc, 0.0)
    return out


def headline(net: str, f: dict) -> float:
    """XOR: the yield (share of seeds learned); a real task: the median test accuracy."""
    if is_xor(net):
        return float(np.mean(f["learned"]))
    return float(np.median(f["test_accuracy"]))


def chopper_limits(cfg, t_row: float) -> dict:
    """The chopper at :data:`PERIODS` with every block at :data:`F3DB`
    (:func:`aann.cancellation.chopper_settling`): its loss at ``t_row``, the highest
    chopping frequency at 10 % loss and the row it needs; beside the error path's
    settling time there (the row a circuit needs without the chopper)."""
    import aann
    from aann.cancellation import chopper_settling

    from .rules import bandwidth_config

    slow = bandwidth_config(cfg, F3DB)
    s = chopper_settling(aann.build_circuit(slow), PERIODS, t_row)
    return {"needed": PERIODS / t_row, "max_frequency": s["max_frequency"],
            "loss": s["loss"], "tau": s["tau"], "min_row": PERIODS / s["max_frequency"],
            "settling": aann.build_circuit(slow).settling_time()}


def run_network(net: str, epochs: int, seeds: int, sigmas, engine: str, progress: bool,
                step=None) -> dict:
    """Every technique at every sigma on network ``net``. ``step(text, k)`` before part
    k (the clip factor's ideal run, then each technique) returns the inner bar's update."""
    import aann
    from aann.cancellation import costs

    from ..progress import reporting_into
    from .tasks import clip_config, nice_up

    def part(k, text, fn):
        if step is None:
            return fn()
        with reporting_into(step(f"{label(net)}: {text}", k), k, k + 1):
            return fn()

    cfg = network_config(net, epochs, seeds)
    out = {"epochs": epochs, "techniques": {}, "lambda": cfg.lam}
    goal = aann.Goal("mse", GOAL)
    if is_xor(net):
        base, out["factor"] = cfg, 1.0
    else:  # as reproduce tasks: the source clipped at Imax, rows slower by the ideal peak
        ideal = part(0, "ideal run (the clip factor)",
                     lambda: aann.train(cfg, engine=engine, progress=progress))
        peak = float(np.nanmax(ideal.peak_current_max)) / cfg.constants.Imax
        out["ideal_peak_over_Imax"], out["factor"] = peak, nice_up(peak)
        out["ideal_unclipped"] = headline(net, _figures(ideal, slice(None), goal))
        base = clip_config(cfg, out["factor"])
    ds = aann.datasets.for_config(base)
    out["train_rows"] = ds.rows
    out["test_rows"] = 0 if ds.test is None else ds.test.rows
    out["chance"] = (0.0 if ds.test is None else
                     float(np.bincount(ds.test.labels).max() / ds.test.rows))
    out["t_row"], out["Keta"] = base.training.t_row, base.constants.Keta
    out["design"] = design(base, offsets_section(DESIGN_SIGMA), seeds, ds.rows)
    out["chopper_limits"] = chopper_limits(base, base.training.t_row)
    for k, tech in enumerate(TECHNIQUES, start=1):
        tcfg = technique_config(base, tech, out["design"])
        per = {}

        def train_all(tcfg=tcfg, per=per):
            for group in ([s for s in sigmas if s == 0], [s for s in sigmas if s > 0]):
                if not group:
                    continue
                variants = [aann.Variant(with_sigma(tcfg, s), k_, sample=k_ if s else None)
                            for s in group for k_ in range(seeds)]
                r = aann.train_variants(variants, engine=engine, progress=progress)
                for i, s in enumerate(group):
                    per[s] = _figures(r, slice(i * seeds, (i + 1) * seeds), goal)

        part(k, LABELS[tech], train_all)
        c = costs(tcfg)
        c["comparators_per_weight"] = 1 if tech == "dead_zone" else 0
        c["resistors_per_weight"] = 1 if tech == "leakage" else 0
        t_phys = next(iter(per.values()))["circuit_seconds"]
        out["techniques"][tech] = {"sigmas": {s: per[s] for s in sigmas}, "costs": c,
                                   "training_time": t_phys}
    return out


# --- the SkyWater cells ---------------------------------------------------------------

def sky130_base(cells: dict, epochs: int, seeds: int, trimmed: bool):
    """XOR 2-8-1 with the cells' laws and signals (inputs 0..0.2 V, targets 0.04 / 0.16 V,
    as ``reproduce tasks`` scales them, :func:`aann.experiments.tasks.sky130_config`)."""
    from .tasks import sky130_config

    cfg = network_config("xor", epochs, seeds).replace(data={"scale": "global"})
    return sky130_config(cfg, cells, trimmed)


SKY_PERIODS = (4, 16)
"""More chopper periods a row tried with the cells: the weights' ripple within a row is
``lambda |V_os| / (2 P)``, and the cells run at ``lambda`` = 10 with offsets of 10 mV."""
SKY_C_AZ = 1e-12  # F: a larger autozero capacitor tried with the cells (kT/C_az 10x less)


def sky130_extras() -> dict:
    """The cells' extra conditions: name -> (technique, periods, C_az)."""
    return {**{f"chopper, {P} periods a row": ("chopper", P, C_AZ) for P in SKY_PERIODS},
            f"autozero, C_az = {_si(SKY_C_AZ, 'F')}": ("autozero", PERIODS, SKY_C_AZ)}


def run_sky130(cells: dict, epochs: int, seeds: int, engine: str, progress: bool,
               step=None) -> dict:
    """XOR with the cells as fitted (every PDK sigma) under every technique and the
    :func:`sky130_extras`, and with the multipliers' offsets trimmed (no technique)."""
    import aann

    from ..progress import reporting_into

    def part(k, text, fn):
        if step is None:
            return fn()
        with reporting_into(step(f"SkyWater XOR: {text}", k), k, k + 1):
            return fn()

    fitted = sky130_base(cells, epochs, seeds, trimmed=False)
    trimmed = sky130_base(cells, epochs, seeds, trimmed=True)
    goal = aann.Goal("mse", sky130_goal(fitted))
    rows = aann.datasets.for_config(fitted).rows
    section = fitted.mismatch.to_dict()
    out = {"goal": goal.value, "t_row": fitted.training.t_row, "lambda": fitted.lam,
           "init_range": fitted.training.init_range,
           "design": design(fitted.replace(mismatch={"seed": 0}), section, seeds, rows),
           "techniques": {}, "extras": {}}

    def train(cfg):
        r = aann.train_variants([aann.Variant(cfg, k, sample=k) for k in range(seeds)],
                                engine=engine, progress=progress)
        return _figures(r, slice(None), goal)

    out["trimmed"] = part(0, "offsets trimmed", lambda: train(trimmed))
    for k, tech in enumerate(TECHNIQUES, start=1):
        tcfg = technique_config(fitted, tech, out["design"])
        out["techniques"][tech] = part(k, LABELS[tech], lambda tcfg=tcfg: train(tcfg))
    for k, (name, (tech, P, C)) in enumerate(sky130_extras().items(), start=1 + len(TECHNIQUES)):
        tcfg = technique_config(fitted, tech, out["design"], periods=P, C_az=C)
        out["extras"][name] = part(k, name, lambda tcfg=tcfg: train(tcfg))
    return out


def sky130_parts() -> int:
    """The SkyWater part's steps on the progress bar."""
    return 1 + len(TECHNIQUES) + len(sky130_extras())


def bandwidth_time(f: dict, tech: str) -> float:
    """The training time (s) of network ``f`` under ``tech`` at :func:`bandwidth_row`."""
    return f["train_rows"] * f["epochs"] * bandwidth_row(f["chopper_limits"], tech)


# --- what the numbers say ---------------------------------------------------------------

def tolerance(net: str) -> float:
    return YIELD_TOLERANCE if is_xor(net) else ACCURACY_TOLERANCE


def reference(f: dict, net: str) -> float:
    """The offset-free circuit's headline: no technique at sigma 0."""
    return headline(net, f["techniques"]["none"]["sigmas"][0.0])


def informative(f: dict, net: str) -> bool:
    """The offset-free circuit learns well enough here that falling short of it means
    something: XOR a yield above :data:`YIELD_TOLERANCE`; a real task a median test
    accuracy above the most common held-out class's share by more than
    :data:`ACCURACY_TOLERANCE`."""
    floor = tolerance(net) + (0.0 if is_xor(net) else f["chance"])
    return reference(f, net) > floor + 1e-9


def works(f: dict, net: str, tech: str, sigma: float) -> bool:
    """``tech`` at ``sigma`` learns about as well as the offset-free circuit (within
    :func:`tolerance`)."""
    h = headline(net, f["techniques"][tech]["sigmas"][sigma])
    return h >= reference(f, net) - tolerance(net) - 1e-9


def reach(f: dict, net: str, tech: str, sigmas) -> tuple:
    """``(largest sigma up to which tech works at every sigma, first sigma where it does
    not)``: None where it fails from the first, None where it never fails."""
    upto, stop = None, None
    for s in sigmas:
        if works(f, net, tech, s):
            upto = s
        else:
            stop = s
            break
    return upto, stop


MEAN_TIE = 0.01
"""Two techniques' mean results over the grid closer than this count as equal."""


def bandwidth_row(lim: dict, tech: str) -> float:
    """The shortest row (s) of ``tech`` with every block at :data:`F3DB`
    (:func:`chopper_limits`): the error path's settling time; the chopper's row at 10 %
    loss where that is longer; autozero's row and a phase of one settling time each
    (the phase lets the error path settle before the sample: docs/cancellation.md)."""
    if tech == "chopper":
        return max(lim["settling"], lim["min_row"])
    if tech == "autozero":
        return 2 * lim["settling"]
    return lim["settling"]


def advice(facts: dict) -> dict:
    """The technique a designer should use: the one that works up to the largest sigma on
    every network (the smallest of its per-network reaches); among those, the higher mean
    headline over every network and sigma (closer than :data:`MEAN_TIE`: equal); then the
    shorter training with every block at :data:`F3DB` (:func:`bandwidth_row`); then fewer
    parts per weight. With every technique's reach, and why the pick beat the others
    that reach as far."""
    nets = {n: f for n, f in facts["networks"].items() if informative(f, n)}
    sigmas = facts["sigmas"]
    if not nets:
        return {"best": None, "equal": [], "why": None, "table": {}}

    def rank(s):  # the reach as an index: -1 when it fails at the first sigma
        return -1 if s is None else sigmas.index(s)

    table = {}
    for tech in TECHNIQUES:
        per = {n: reach(f, n, tech, sigmas) for n, f in nets.items()}
        worst = min(rank(u) if st is not None else len(sigmas) for u, st in per.values())
        mean = float(np.mean([headline(n, f["techniques"][tech]["sigmas"][s])
                              for n, f in nets.items() for s in sigmas]))
        c = next(iter(nets.values()))["techniques"][tech]["costs"]
        bw = sum(bandwidth_row(f["chopper_limits"], tech) / f["chopper_limits"]["settling"]
                 for f in nets.values()) / len(nets)
        table[tech] = {"reach": per, "worst": worst, "mean": mean, "bandwidth_factor": bw,
                       "parts": c["switches_per_weight"] + c["capacitors_per_weight"]
                       + c["comparators_per_weight"] + c["resistors_per_weight"]}
    far = max(t["worst"] for t in table.values())
    same_reach = [t for t in TECHNIQUES if table[t]["worst"] == far]
    top = max(table[t]["mean"] for t in same_reach)
    same = [t for t in same_reach if table[t]["mean"] >= top - MEAN_TIE]
    best = min(same, key=lambda t: (table[t]["bandwidth_factor"], table[t]["parts"],
                                    -table[t]["mean"]))
    if len(same_reach) == 1:
        why = "reach"
    elif len(same) == 1:
        why = "mean"
    elif min(table[t]["bandwidth_factor"] for t in same if t != best) > \
            table[best]["bandwidth_factor"] * (1 + 1e-9):
        why = "time"
    else:
        why = "parts"
    return {"best": best, "equal": [t for t in same_reach if t != best], "why": why,
            "table": table}


# --- figures ------------------------------------------------------------------------------

def _cell_text(net: str, f: dict) -> str:
    if is_xor(net):
        return f"{int(np.sum(f['learned']))}"
    return f"{100 * np.median(f['test_accuracy']):.0f}"


def heatmap_figure(facts: dict):
    import matplotlib.pyplot as plt

    from .. import plots

    nets = list(facts["networks"])
    sky = facts.get("sky130")
    sigmas = facts["sigmas"]
    n = len(nets) + (1 if sky else 0)
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, n, figsize=(2.9 * n + 0.6, 3.2), squeeze=False,
                                 constrained_layout=True)
        for ax, net in zip(axes.flat, nets):
            f = facts["networks"][net]
            grid = np.array([[headline(net, f["techniques"][t]["sigmas"][s]) for s in sigmas]
                             for t in TECHNIQUES])
            im = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
            ax.grid(False)
            ax.set_xticks(range(len(sigmas)), [f"{s * 1e3:g}" for s in sigmas])
            ax.set_yticks(range(len(TECHNIQUES)), [LABELS[t] for t in TECHNIQUES], fontsize=7)
            ax.set_xlabel("per-instance offset sigma [mV]")
            what = (f"seeds learned (of {facts['seeds']})" if is_xor(net) else
                    "median test accuracy [%]")
            ax.set_title(f"{label(net)}: {what}", fontsize=8)
            for i, t in enumerate(TECHNIQUES):
                for j, s in enumerate(sigmas):
                    ax.text(j, i, _cell_text(net, f["techniques"][t]["sigmas"][s]),
                            ha="center", va="center", fontsize=7)
        if sky:
            ax = list(axes.flat)[-1]
            groups = [("offsets trimmed, none", sky["trimmed"])]
            groups += [(f"PDK, {LABELS[t]}", sky["techniques"][t]) for t in TECHNIQUES]
            groups += [(f"PDK, {name}", g) for name, g in sky["extras"].items()]
            vals = [float(np.mean(g["learned"])) for _, g in groups]
            y = np.arange(len(groups))[::-1]
            ax.barh(y, vals, color=[plt.cm.RdYlGn(v) for v in vals], edgecolor="0.3", lw=0.5)
            for yy, (_, g) in zip(y, groups):
                ax.text(0.02, yy, f"{int(np.sum(g['learned']))}/{len(g['learned'])}",
                        va="center", fontsize=7)
            ax.set_yticks(y, [name for name, _ in groups], fontsize=6.5)
            ax.set_xlim(0, 1.05)
            ax.set_xlabel("yield")
            ax.set_title("XOR 2-8-1, SkyWater cells (tt, PDK mismatch)", fontsize=8)
            ax.grid(axis="y", visible=False)
        fig.colorbar(im, ax=list(axes.flat)[:len(nets)], shrink=0.8,
                     label="yield / median test accuracy")
        return fig


def lines_figure(facts: dict):
    import matplotlib.pyplot as plt

    from .. import plots

    nets = list(facts["networks"])
    sigmas = facts["sigmas"]
    xs = [max(s, sigmas[1] / 3 if len(sigmas) > 1 and sigmas[0] == 0 else s) * 1e3
          for s in sigmas]  # sigma 0 drawn a third of the next one left, on a log axis
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, len(nets), figsize=(3.3 * len(nets) + 0.4, 3.0),
                                 squeeze=False, constrained_layout=True)
        for ax, net in zip(axes.flat, nets):
            f = facts["networks"][net]
            for k, t in enumerate(TECHNIQUES):
                y = [headline(net, f["techniques"][t]["sigmas"][s]) for s in sigmas]
                ax.plot(xs, y, marker="os^vD"[k], ms=4, lw=1, color=plt.cm.tab10(k),
                        label=LABELS[t])
            ref = reference(f, net)
            ax.axhspan(ref - tolerance(net), ref, color="0.85", lw=0, zorder=0)
            if xs[0] > 0:
                ax.set_xscale("log")
                ax.set_xticks(xs, [f"{s * 1e3:g}" for s in sigmas])
                ax.minorticks_off()
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel("offset sigma [mV]")
            ax.set_ylabel("yield" if is_xor(net) else "median test accuracy")
            ax.set_title(label(net), fontsize=9)
        list(axes.flat)[0].legend(fontsize=7, loc="lower left")
        fig.suptitle("Each technique against the per-instance offset sigma (grey: within the "
                     "tolerance of the offset-free circuit)", fontsize=9)
        return fig


# --- the run and its report -----------------------------------------------------------------

def run(out, *, engine: str = "native", networks=tuple(NETWORKS), epochs: int | None = None,
        seeds: int = SEEDS, sigmas=SIGMAS, sky130: bool = True,
        cell_samples: int = CELL_SAMPLES, progress: bool = False) -> dict:
    """Every network under every technique at every sigma, then XOR with the SkyWater
    cells; figures, CSVs and the ``cancellation`` section of the report. ``epochs``:
    every network's (default: each its own, :data:`NETWORKS`); ``sigmas`` (V) must start
    at 0 (the offset-free reference); ``sky130``: False leaves the cells out."""
    from ..errors import ValidationError
    from ..io import ensure_writable_dir
    from ..progress import progress_bar
    from .tasks import sky130_cells

    sigmas = tuple(float(s) for s in sigmas)
    if not sigmas or sigmas[0] != 0 or any(b <= a for a, b in zip(sigmas, sigmas[1:])):
        raise ValidationError(f"sigmas {sigmas}: give increasing offset sigmas starting at 0 "
                              "(the offset-free reference), e.g. 0,1,10 (mV)")
    out = ensure_writable_dir(Path(out))
    started = time.perf_counter()
    load_before = load_average()
    cells = sky130_cells(out, cell_samples, progress) if sky130 else \
        {"skipped": "not asked for (--no-sky130)"}
    facts = {"networks": {}, "sigmas": sigmas, "seeds": seeds, "engine": engine,
             "cells": cells, "cells_seconds": time.perf_counter() - started}
    per = 1 + len(TECHNIQUES)
    total = per * len(networks) + (0 if "skipped" in cells else sky130_parts())
    with progress_bar(progress, total=total, label="cancellation") as bar:
        for n, net in enumerate(networks):
            def step(text, k, n=n):
                bar(n * per + k, text)
                return lambda done, description=None: bar(n * per + done)

            t0 = time.perf_counter()
            facts["networks"][net] = run_network(
                net, epochs or NETWORKS[net][2], seeds, sigmas, engine, progress,
                step if progress else None)
            facts["networks"][net]["seconds"] = time.perf_counter() - t0
            bar((n + 1) * per)
        if "skipped" not in cells:
            n = len(networks)

            def sky_step(text, k):
                bar(n * per + k, text)
                return lambda done, description=None: bar(n * per + done)

            t0 = time.perf_counter()
            facts["sky130"] = run_sky130(cells, epochs or NETWORKS["xor"][2], seeds, engine,
                                         progress, sky_step if progress else None)
            facts["sky130"]["seconds"] = time.perf_counter() - t0
            bar(total)
    facts["advice"] = advice(facts)
    _write_csvs(out, facts)
    figs = {"heatmap": save_figure(heatmap_figure(facts), out, "cancellation"),
            "lines": save_figure(lines_figure(facts), out, "cancellation_lines")}
    facts["seconds"] = time.perf_counter() - started
    facts["load"] = (load_before, load_average())
    write_fragment(out, "cancellation", _section(facts, figs))
    return facts


def _write_csvs(out: Path, facts: dict) -> None:
    rows, cost_rows = [], []
    for net, f in facts["networks"].items():
        for tech, t in f["techniques"].items():
            for s, g in t["sigmas"].items():
                acc = g.get("test_accuracy")
                for b, seed in enumerate(g["seeds"]):
                    rows.append([net, label(net), tech, s, seed, float(g["final_mse"][b]),
                                 "" if acc is None else float(acc[b]), int(g["learned"][b]),
                                 int(g["diverged"][b])])
            c, lim = t["costs"], f["chopper_limits"]
            chop = tech == "chopper"
            cost_rows.append([
                net, tech, _setting(f, tech), c["switches_per_weight"],
                c["capacitors_per_weight"], c["switches_per_output_neuron"],
                c["comparators_per_weight"], c["resistors_per_weight"], c["switches"],
                c["capacitors"], c["row_time"], c["time_factor"], t["training_time"],
                headline(net, t["sigmas"][0.0]), c["chopping_frequency"],
                lim["max_frequency"] if chop else "", lim["loss"] if chop else "",
                lim["min_row"] if chop else "", bandwidth_row(lim, tech),
                bandwidth_time(f, tech)])
    write_csv(out / "cancellation.csv", ["network", "topology", "technique", "sigma", "seed",
                                         "final_mse", "test_accuracy", "learned", "diverged"],
              rows)
    write_csv(out / "cancellation_costs.csv",
              ["network", "technique", "setting", "switches_per_weight",
               "capacitors_per_weight", "switches_per_output_neuron", "comparators_per_weight",
               "resistors_per_weight", "switches", "capacitors", "row_time_s", "time_factor",
               "training_time_s", "headline_at_zero_offset", "chopping_frequency_hz",
               f"max_chopping_frequency_hz_at_{F3DB / 1e9:g}GHz", "chopper_loss_at_row",
               "chopper_min_row_s", f"shortest_row_s_at_{F3DB / 1e9:g}GHz",
               f"training_time_s_at_{F3DB / 1e9:g}GHz"], cost_rows)
    sky = facts.get("sky130")
    if sky:
        srows = []
        for name, g in [("trimmed", sky["trimmed"]), *sky["techniques"].items(),
                        *sky["extras"].items()]:
            for b, seed in enumerate(g["seeds"]):
                srows.append([name, seed, float(g["final_mse"][b]), int(g["learned"][b]),
                              int(g["diverged"][b])])
        write_csv(out / "cancellation_sky130.csv", ["technique", "seed", "final_mse",
                                                    "learned", "diverged"], srows)


# --- the report ---------------------------------------------------------------------------

def _si(x: float, unit: str, digits: int = 3) -> str:
    """``x`` in ``unit`` with an engineering prefix, ``digits`` significant digits."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g} {unit}"
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0),
                          ("m", 1e-3), ("u", 1e-6), ("n", 1e-9), ("p", 1e-12), ("f", 1e-15)):
        if abs(x) >= scale * (1 - 1e-9):
            return f"{x / scale:.{digits}g} {prefix}{unit}"
    return f"{x:.{digits}g} {unit}"


def _setting(f: dict, tech: str) -> str:
    d, t_row = f["design"], f["t_row"]
    if tech == "chopper":
        return f"{PERIODS} period a row ({_si(PERIODS / t_row, 'Hz')})"
    if tech == "autozero":
        return (f"t_az = {_si(T_AZ_SHARE * t_row, 's')}, C_az = {_si(C_AZ, 'F')}, "
                f"{TEMPERATURE:g} K")
    if tech == "dead_zone":
        return f"dead_zone = {_si(d['dead_zone'], 'V')}"
    if tech == "leakage":
        return f"R_leak = {_si(d['R_leak'], 'Ohm')}"
    return "-"


def _head(net: str, g: dict) -> str:
    if is_xor(net):
        return f"{int(np.sum(g['learned']))}/{len(g['learned'])}"
    a = g["test_accuracy"]
    return f"{100 * np.median(a):.1f} ({100 * a.min():.1f}-{100 * a.max():.1f})"


def _mv(s: float) -> str:
    return f"{s * 1e3:g} mV"


def reach_text(facts: dict, net: str, tech: str) -> str:
    """Where ``tech`` works on ``net``, in words (:func:`reach`), with the sigmas beyond
    the first failure at which it works again."""
    f, sigmas = facts["networks"][net], facts["sigmas"]
    upto, stop = reach(f, net, tech, sigmas)
    if stop is None:
        return f"works at every sigma up to {_mv(sigmas[-1])}"
    again = [s for s in sigmas[sigmas.index(stop):] if works(f, net, tech, s)]
    tail = f" (but works at {', '.join(_mv(s) for s in again)})" if again else ""
    if upto is None:
        return "fails even without offsets" + tail
    return f"works up to {_mv(upto)}, stops at {_mv(stop)}" + tail


def _time(seconds: float) -> str:
    return _si(seconds, "s")


def _verdict(facts: dict) -> list[str]:
    sigmas = facts["sigmas"]
    a = facts["advice"]
    table, best = a["table"], a["best"]
    left = [n for n, f in facts["networks"].items() if not informative(f, n)]
    out = []
    if left:
        out.append("Left out of the verdict: " + ", ".join(
            f"{label(n)} (the offset-free circuit itself reaches only "
            f"{_head(n, facts['networks'][n]['techniques']['none']['sigmas'][0.0])}"
            + ("" if is_xor(n) else
               f", against {100 * facts['networks'][n]['chance']:.1f} % for the most common "
               "class") + ": no learning to lose)" for n in left) + ".")
    if best is None:
        return out
    nets = [n for n in facts["networks"] if n not in left]
    for tech in TECHNIQUES:
        parts = "; ".join(f"{label(n)} {reach_text(facts, n, tech)}" for n in nets)
        out.append(f"**{LABELS[tech]}**: {parts}.")
    lim = facts["networks"][nets[0]]["chopper_limits"]
    b = table[best]
    stops = [(n, table[best]["reach"][n][1]) for n in nets
             if table[best]["reach"][n][1] is not None]
    worst = b["worst"]
    span = (f"at every sigma up to {_mv(sigmas[-1])}" if worst == len(sigmas) else
            f"up to {_mv(sigmas[worst])}" if worst >= 0 else "at no sigma")
    text = (f"**Use: {LABELS[best]}.** It works {span} on every network"
            + (", further than any other technique. " if a["why"] == "reach" else ". "))
    if a["why"] != "reach":
        others = a["equal"]
        text += "So " + ("does " if len(others) == 1 else "do ") + ", ".join(
            LABELS[t] for t in others) + ". "
        mean = ", ".join(f"{LABELS[t]} {100 * table[t]['mean']:.1f}" for t in (best, *others))
        if a["why"] == "mean":
            text += (f"It is picked for the best mean result over the grid (yield and accuracy "
                     f"together, %: {mean}). ")
        else:
            text += (f"Their mean results over the grid (yield and accuracy together, %: "
                     f"{mean}) differ by less than {100 * MEAN_TIE:g} point(s); ")
            factor = ", ".join(f"{LABELS[t]} x{table[t]['bandwidth_factor']:.2g}"
                               for t in (best, *others))
            if a["why"] == "time":
                text += (f"{LABELS[best]} is picked for the shorter training once the blocks' "
                         f"bandwidth sets the rows (every block at {F3DB / 1e9:g} GHz; a row, "
                         f"phases included, in settling times of the error path: {factor}). ")
            else:
                text += (f"{LABELS[best]} is picked for its fewer parts per weight "
                         f"({b['parts']} against "
                         + ", ".join(f"{table[t]['parts']}" for t in others) + "). ")
    text += ("Where it stops working: "
             + ("; ".join(f"{label(n)} from {_mv(s)}" for n, s in stops) if stops else
                f"nowhere on this grid (up to {_mv(sigmas[-1])})") + ". ")
    chop = (f"with every block at {F3DB / 1e9:g} GHz the chopped chain is one pole of "
            f"{_time(lim['tau'])}, so at most {_si(lim['max_frequency'], 'Hz')} of chopping "
            f"at 10 % loss: rows of at least {_time(lim['min_row'])} for {PERIODS} period a "
            f"row, {lim['min_row'] / lim['settling']:.2g} times the "
            f"{_time(lim['settling'])} the error path needs to settle without it")
    if best == "chopper":
        text += f"Its real limit is the blocks' bandwidth: {chop}."
    elif best == "autozero":
        text += (f"Its cost: one capacitor and two switches per weight, the kT/C_az noise of "
                 f"every sample, and a phase before every row: with the blocks at "
                 f"{F3DB / 1e9:g} GHz a row and its phase take "
                 f"{b['bandwidth_factor']:.2g} settling times of the error path. The chopper "
                 f"needs no phase, but {chop}.")
    out.append(text)
    return out


def _sky_text(facts: dict) -> str:
    from ..blocks import K_BOLTZMANN

    cells = facts["cells"]
    if "skipped" in cells:
        return f"The SkyWater part was left out: {cells['skipped']}."
    sky = facts["sky130"]
    n = len(sky["trimmed"]["learned"])
    d = sky["design"]
    sig = ", ".join(f"`{k}` {v if isinstance(v, str) else _si(v, 'A' if k.endswith('Ioff') else 'V')}"
                    for k, v in cells["mismatch"].items() if k != "seed")

    def row(where, name, g):
        return [where, name, f"{int(g['learned'].sum())}/{n}",
                f"{np.median(g['final_mse']):.3g}", int(g["diverged"].sum())]

    rows = [row("offsets trimmed (the cells' offset-free circuit)", "none", sky["trimmed"])]
    rows += [row("as fitted, every PDK sigma", LABELS[t], sky["techniques"][t])
             for t in TECHNIQUES]
    rows += [row("as fitted, every PDK sigma", name, g) for name, g in sky["extras"].items()]
    learned = {LABELS[t]: int(sky["techniques"][t]["learned"].sum()) for t in TECHNIQUES}
    learned.update({name: int(g["learned"].sum()) for name, g in sky["extras"].items()})
    top = max(learned.values())
    winners = [name for name, k in learned.items() if k == top]
    ref = int(sky["trimmed"]["learned"].sum())
    text = (f"XOR 2-8-1 with the SkyWater cells ({cells['source']}): tt laws, signals "
            f"scaled to the cells (inputs 0..0.2 V, targets 0.04 / 0.16 V, initial weights "
            f"within +-{_si(sky['init_range'], 'V')}), `t_row` = {_time(sky['t_row'])} "
            f"(`lambda` = {sky['lambda']:g}), {facts['seeds']} Monte Carlo samples (sample k "
            f"with seed k); goal: final MSE < {sky['goal']:.3g} V^2 (the same rms error "
            f"relative to the 0.12 V target swing as 0.01 V^2 on 1 V). PDK sigmas: {sig}. "
            f"What reaches the charging sources at zero error: {_si(d['path_rms'], 'V')} rms "
            f"(so a dead zone of {_si(d['dead_zone'], 'V')}); `R_leak` = "
            f"{_si(d['R_leak'], 'Ohm')}. Beside the five techniques as above, the chopper with "
            f"more periods a row and autozero with a larger `C_az`.\n\n"
            + md_table(["cells", "technique", "learned", "median final MSE", "diverged"], rows)
            + f"\n\nMeasured: with the multipliers' offsets trimmed {ref}/{n} learn; with the "
            f"PDK's offsets and no technique {learned['none']}/{n}")
    if ref <= YIELD_TOLERANCE * n:
        return text + (": the cells' offset-free circuit itself hardly learns in these "
                       "epochs, so the techniques cannot be told apart here.")
    text += (f"; the most: {'; '.join(winners)} ({top}/{n})." if top else
             "; no technique learns.")
    chop = learned["chopper"]
    more = {name: k for name, k in learned.items() if name.startswith("chopper, ")}
    if more and max(more.values()) > chop:
        ripple = sky["lambda"] * d["path_rms"] / (2 * PERIODS)
        text += (f" The chopper at {PERIODS} period a row learns {chop}/{n}, with more periods "
                 + ", ".join(f"{k}/{n} ({name.split(', ')[1]})" for name, k in more.items())
                 + ": its limit here is the ripple it leaves on the weights within a row, "
                 f"`lambda |V_os| / (2 P)`, about {_si(ripple, 'V')} at one period for the "
                 f"rms path offset at `lambda` = {sky['lambda']:g}, against initial weights "
                 f"within +-{_si(sky['init_range'], 'V')}; more periods shrink it as 1/P (and "
                 "cost bandwidth as P).")
    az = learned["autozero"]
    big = {name: k for name, k in learned.items() if name.startswith("autozero, ")}
    if big:
        noise = {C: math.sqrt(K_BOLTZMANN * TEMPERATURE / C) for C in (C_AZ, SKY_C_AZ)}
        name, k = next(iter(big.items()))
        text += (f" Autozero with `C_az` = {_si(C_AZ, 'F')} learns {az}/{n}, with "
                 f"{_si(SKY_C_AZ, 'F')} {k}/{n}: every held sample carries kT/C_az noise, "
                 f"{_si(noise[C_AZ], 'V')} rms at {_si(C_AZ, 'F')} and "
                 f"{_si(noise[SKY_C_AZ], 'V')} at {_si(SKY_C_AZ, 'F')} ({TEMPERATURE:g} K)"
                 + (", which the cells' small signals do not tolerate at the smaller one."
                    if k > az else "."))
    return text


def _section(facts: dict, figs: dict) -> str:
    nets, sigmas = facts["networks"], facts["sigmas"]
    seeds = facts["seeds"]
    tables = []
    for net, f in nets.items():
        rows = [[LABELS[t], *[_head(net, f["techniques"][t]["sigmas"][s]) for s in sigmas]]
                for t in TECHNIQUES]
        what = ("seeds learned (final MSE < 0.01 V^2, not diverged)" if is_xor(net) else
                "median (min-max) test accuracy, %")
        extra = ("" if is_xor(net) else
                 f"; the source clipped at `Imax`, rows x{f['factor']:g} (`t_row` = "
                 f"{_time(f['t_row'])}, `Keta` = {f['Keta']:.3g} S; ideal peak / Imax "
                 f"{f['ideal_peak_over_Imax']:.3g}; unclipped without offsets "
                 f"{100 * f['ideal_unclipped']:.1f} %)")
        tables.append(
            f"**{label(net)}**, {f['epochs']} epochs, {f['train_rows']} training rows"
            + (f", {f['test_rows']} held out" if f["test_rows"] else "") + extra
            + f"; {what}\n\n"
            + md_table(["technique", *[_mv(s) for s in sigmas]], rows))
    design_rows = [[label(n), _si(f["design"]["path_rms"], "V"),
                    _si(f["design"]["path_q99"], "V"), _si(f["design"]["dead_zone"], "V"),
                    _time(f["design"]["training_time"]), _si(f["design"]["R_leak"], "Ohm")]
                   for n, f in nets.items()]
    cost_rows = []
    for t in TECHNIQUES:
        c = next(iter(nets.values()))["techniques"][t]["costs"]
        extra = ("1 comparator" if t == "dead_zone" else "1 resistor" if t == "leakage"
                 else "-")
        cost_rows.append([LABELS[t], c["switches_per_weight"], c["capacitors_per_weight"],
                          extra, c["switches_per_output_neuron"], f"x{c['time_factor']:.3g}",
                          *[f"{_time(f['techniques'][t]['training_time'])}, "
                            f"{_head(n, f['techniques'][t]['sigmas'][0.0])}; "
                            f"{_time(bandwidth_time(f, t))}"
                            for n, f in nets.items()]])
    chop_rows = [[label(n), _si(f["chopper_limits"]["needed"], "Hz"),
                  _si(f["chopper_limits"]["max_frequency"], "Hz"),
                  _time(f["chopper_limits"]["tau"]),
                  f"{100 * f['chopper_limits']['loss']:.0f} %",
                  _time(f["chopper_limits"]["min_row"]), _time(f["chopper_limits"]["settling"])]
                 for n, f in nets.items()]
    load = facts["load"]
    load_text = ("" if not load[0] else
                 f" Load average (1 min) {load[0][0]:.1f} before and {load[1][0]:.1f} after, "
                 f"on {os.cpu_count()} CPU(s): other jobs shared the machine, so wall times "
                 "are upper bounds.")
    walls = "; ".join(f"{label(n)} {f['seconds']:.0f} s" for n, f in nets.items())
    if "sky130" in facts:
        walls += f"; SkyWater XOR {facts['sky130']['seconds']:.0f} s"
    verdict = "\n\n".join(_verdict(facts))
    tol = (f"XOR: a yield at most {YIELD_TOLERANCE:.0%} of the seeds below; real tasks: a "
           f"median test accuracy at most {100 * ACCURACY_TOLERANCE:g} points below")
    return f"""## Beyond the paper - offset cancellation: chopper, autozero, dead zone, leakage

Which technique lets the self-training circuit learn despite the offsets of real
multipliers, where does it stop working, and what does it cost? Per-instance offsets
(`[mismatch]`): every multiplier of every role draws its own `Voff1`, `Voff` (sigma
as given) and `Ioff` (`Km` x sigma x 1 V), and every error block its own `Voff`, all at
once, at sigma {", ".join(_mv(s) for s in sigmas)}; Monte Carlo sample k with seed k,
seeds 0..{seeds - 1}, the same draws under every technique. XOR 2-8-1 as the offsets
study runs it (`t_row` = {_time(XOR_T_ROW)}, rows in order); iris and digits as the
real-tasks section runs them (inputs 0..1 V, targets 0.2 / 0.8 V, a share held out, rows
shuffled, the charging source clipped at `Imax` and run slower at `lambda` = 1).
Techniques: none; the **chopper** (`[offset_cancellation] method = "chopper"`,
{PERIODS} period a row, solved with the plain run's step size); **autozero** (`method =
"autozero"`, `t_az` = {T_AZ_SHARE:g} `t_row`, `C_az` = {_si(C_AZ, 'F')}, its kT/C_az noise at
{TEMPERATURE:g} K); a **dead zone** (`[nonideal] dead_zone`); **leakage**
(`[nonideal] R_leak`). Engine `{facts['engine']}`; the whole command took
{facts['seconds']:.0f} s ({walls}).{load_text} Data: `cancellation.csv` (every network),
`cancellation_costs.csv`, `cancellation_sky130.csv`.

How the dead zone and the leakage were chosen, per network: the dead zone is
{DZ_MULTIPLE:g} times the rms offset that reaches the charging sources at zero error with
a per-instance sigma of {_mv(DESIGN_SIGMA)} (measured on the circuit: what an ideal
autozero phase would hold, `Circuit.autozero_sample`, over the first {DESIGN_ROWS}
training rows at every sample's initial weights), so that it blocks the drift of
offsets of that size; wider, it would also stop learning sooner (no current while
|Vgrad| is below it). The leakage has `R_leak C` = {LEAK_RC:g} x the training time T: a
weight forgets over one training, and a constant drift of offset `V_os` is held at
`R_leak Keta V_os` instead of growing for the whole training.

{md_table(["network", "path offset at 1 mV, rms", "99th percentile", "dead zone",
           "training time T", "R_leak"], design_rows)}

![Offset cancellation: yield and test accuracy per technique and sigma]({figs['heatmap']})

{chr(10).join(t + chr(10) for t in tables)}
![Each technique against the offset sigma]({figs['lines']})

### What each technique costs

Parts per weight (at each charging source) and per output neuron (at its error block),
`aann.cancellation.costs`; the physical training time (`Results.circuit_seconds`, rows x
epochs x the row's time with its phases) and the result without offsets (sigma 0), per
network; and the training time once the blocks' bandwidth sets the rows (every block at
{F3DB / 1e9:g} GHz: rows of one settling time of the error path; the chopper's rows at 10 %
loss where those are longer; autozero's rows and phases of one settling time each):

{md_table(["technique", "switches / weight", "capacitors / weight", "other / weight",
           "switches / output neuron", "row time",
           *[f"{label(n)}: training time, result at 0 mV; at {F3DB / 1e9:g} GHz"
             for n in nets]], cost_rows)}

The chopper's clock beside the blocks' bandwidth (`aann.cancellation.chopper_settling`,
every block at {F3DB / 1e9:g} GHz; the study itself runs ideal, pole-free blocks): the
chopping frequency the study's rows ask for, the highest one at which the chopped
chain (error block, deltas, Type2 stage, charge multiplier) loses at most 10 % of the
learning signal, the loss at the study's rows, the row the chopper then needs, and the
error path's settling time, the row a circuit needs anyway:

{md_table(["network", "chopping at the study's rows", f"highest at {F3DB / 1e9:g} GHz",
           "chopped chain, one pole of", "loss at the study's rows", "row it needs",
           "settling without chopper"], chop_rows)}

### Which technique to use, and where it stops working

A technique counts as working at a sigma while it learns about as well as the
offset-free circuit (no technique, sigma 0): {tol}.

{verdict}

### With the SkyWater cells

{_sky_text(facts)}
"""
