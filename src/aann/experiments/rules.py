"""Beyond the paper: learning rules. What each rule, and each simplified block law of
the backward path, learns, costs in blocks and saves in settling time, beside the
same rule trained digitally.

Networks (:data:`NETWORKS`): XOR 2-8-1 (rows in order, 1000 epochs; the yield: final
MSE < 0.01 V^2 and not diverged, :func:`aann.metrics.learned`), iris 4-8-3 (100
epochs), digits 64-16-10 and a deeper digits 64-32-16-10 (20 epochs each; the median
test accuracy), the real sets encoded as ``reproduce tasks`` does (``[data]``
``test_fraction`` 0.25, rows shuffled every epoch); seeds 0..9, ``t_row`` = 0.1 ps
(``lambda`` = 1). Conditions (:data:`CONDITIONS`): the paper's backprop, feedback
alignment, direct feedback alignment (``[training] rule``, :mod:`aann.rules`; fixed
feedback voltages uniform in +-1 V, per network from its seed), backprop with a
constant derivative (``[blocks.derivative] law = "constant"``, ``Vd0`` 0.25 V) and
backprop with sign charging (``[blocks.multiplier.charge] law = "sign"``, the law's
``Isign`` 10 uA, ``Vedge`` 10 mV). A condition whose rule or law is not registered in
this build is left out, saying so.

For each network and condition:

* the circuit (``aann.train``; a circuit with per-network feedback is batched);
* its digital baseline: :func:`aann.digital.rule_sgd` on the rule's ideal circuit
  (:func:`aann.baselines.rule_circuit`: the same feedback matrices), one step per row
  ``W + I(W, x, y) t_row / C``, from the same initial weights in the same row order;
* epochs to the goal (XOR: MSE < 0.01; the real sets: test accuracy > 90 %);
* the blocks of one network (:func:`block_counts`);
* the settling time of the error path with every block's bandwidth at
  :data:`F3DB` (:meth:`aann.Circuit.settling_time`).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np

from ._common import load_average, md_table, save_figure, write_csv
from .report import write_fragment

T_ROW = 0.1e-12  # s: lambda = 1
SEEDS = 10
F3DB = 1e9  # Hz: every block's bandwidth for the settling time
NETWORKS = {  # key: (data set, sizes, epochs)
    "xor": ("xor", (2, 8, 1), 1000),
    "iris": ("iris", (4, 8, 3), 100),
    "digits16": ("digits", (64, 16, 10), 20),
    "digits_deep": ("digits", (64, 32, 16, 10), 20),
}
"""Epochs: XOR's 1000 (the paper's); iris 100 and digits 20, where backprop's median
test accuracy has levelled off (measured: digits 64-16-10 95.3 % at 15 epochs, 96.0 %
at 30; 64-32-16-10 96.6 % and 97.1 %)."""
TEST_FRACTION = 0.25
CONDITIONS = {  # key: the description's changes from the ideal backprop circuit
    "backprop": {},
    "feedback_alignment": {"training": {"rule": "feedback_alignment"}},
    "direct_feedback_alignment": {"training": {"rule": "direct_feedback_alignment"}},
    "constant_derivative": {"blocks": {"derivative": {"law": "constant"}}},
    "sign_charging": {"blocks": {"multiplier": {"charge": {"law": "sign"}}}},
}
LABELS = {"backprop": "backprop", "feedback_alignment": "feedback alignment",
          "direct_feedback_alignment": "direct feedback alignment",
          "constant_derivative": "backprop + constant derivative",
          "sign_charging": "backprop + sign charging"}
SHORT = {"backprop": "BP", "feedback_alignment": "FA", "direct_feedback_alignment": "DFA",
         "constant_derivative": "BP, Vd const", "sign_charging": "BP, sign charge"}
YIELD_TOLERANCE = 0.2
"""A condition learns XOR about as well as the best when its yield is at most this share
of the seeds below the best's (2 of 10)."""
ACCURACY_TOLERANCE = 0.03
"""... and a real task when its median test accuracy is at most 3 points below the
best's."""
ACCURACY_GOAL = 0.9  # the real sets' goal: test accuracy above 90 %
SUBSTEPS = 20  # the within-row check: each row as this many digital steps
COMPARATOR_LAWS = ("sign",)
"""Charge-multiplier laws that are comparators steering a fixed current (:func:`block_counts`)."""
FIXED_LAWS = ("constant",)
"""Derivative laws that are a fixed voltage (:func:`block_counts`)."""


def label(net: str) -> str:
    dataset, sizes, _ = NETWORKS[net]
    return f"{dataset} {'-'.join(map(str, sizes))}"


def is_xor(net: str) -> bool:
    return NETWORKS[net][0] == "xor"


def goal(net: str):
    """The goal whose first epoch is counted: XOR MSE < 0.01 V^2 (the yield's), the real
    sets test accuracy > :data:`ACCURACY_GOAL`."""
    from ..metrics import DEFAULT_GOAL, Goal

    return DEFAULT_GOAL if is_xor(net) else Goal("test_accuracy", ACCURACY_GOAL)


def network_config(net: str, epochs: int, seeds: int, condition: str = "backprop"):
    """The description of network ``net`` under ``condition`` (:data:`CONDITIONS`)."""
    import aann

    dataset, sizes, _ = NETWORKS[net]
    training = {"dataset": dataset, "t_row": T_ROW, "epochs": epochs, "seeds": seeds,
                "record": "mse"}
    extra = {}
    if not is_xor(net):
        training["order"] = "shuffle"
        extra["data"] = {"test_fraction": TEST_FRACTION}
    cfg = aann.Config(network={"sizes": sizes}, training=training, **extra)
    changes = CONDITIONS[condition]
    return cfg.replace(**changes) if changes else cfg


def available(conditions=tuple(CONDITIONS)) -> tuple[list, dict]:
    """The conditions whose rule and laws this build has, and why each other is left out."""
    from ..errors import ValidationError

    ok, missing = [], {}
    for name in conditions:
        try:
            network_config("xor", 1, 1, name)
        except ValidationError as e:
            missing[name] = str(e)
            continue
        ok.append(name)
    return ok, missing


# --- blocks and settling ---------------------------------------------------------------

def block_counts(config) -> dict:
    """The blocks of one network of ``config``, from its topology, its rule and its laws:

    * ``forward``, ``delta``, ``charge``, ``type2``: multipliers of each role. One
      forward and one charge multiplier per weight (bias included), one delta
      multiplier per neuron; the Type2 multipliers of each stage
      :meth:`aann.rules.Rule.type2_shape` (backprop and feedback alignment ``n_out *
      n_in`` of every layer above the first; direct feedback alignment ``n_last * n_h``
      per hidden layer). A charge law of :data:`COMPARATOR_LAWS` has no charge
      multipliers: its weights' currents are steered by comparators;
    * ``derivative``: derivative blocks, one per neuron; none under a derivative law of
      :data:`FIXED_LAWS`;
    * ``comparators``: under a comparator charge law, one per signal whose sign steers
      a current, shared by the weights that read it: each neuron's ``Vdelta`` and each
      layer input (the bias input ``Vbias`` excluded, its sign is fixed);
    * ``fixed_voltages``: DC sources of distinct values: one per feedback voltage of the
      rule (:meth:`aann.rules.Rule.feedback`), and one shared ``Vd`` under a fixed
      derivative law;
    * ``fixed_currents``: the steered current sources of a comparator charge law, one
      per weight.

    Plus the totals ``multipliers``, ``fixed_sources`` and ``blocks`` (every count
    above). Activation, error and charging blocks and the capacitors are the same under
    every rule (one per neuron, output and weight) and are not counted."""
    from ..rules import build_rule

    sizes = tuple(config.network.sizes)
    layers = list(zip(sizes[:-1], sizes[1:]))
    weights = sum(n_out * (n_in + 1) for n_in, n_out in layers)
    neurons = sum(sizes[1:])
    rule = build_rule(config)
    type2 = voltages = 0
    for l in range(1, len(layers)):
        type2 += math.prod(rule.type2_shape(sizes, l))
        fb = rule.feedback(l)
        if fb is not None:
            voltages += int(np.size(fb))
    comparing = config.blocks.multiplier.role("charge").law in COMPARATOR_LAWS
    fixed_vd = config.blocks.derivative.law in FIXED_LAWS
    out = {"forward": weights, "delta": neurons, "charge": 0 if comparing else weights,
           "type2": type2, "derivative": 0 if fixed_vd else neurons,
           "comparators": sum(n_out + n_in for n_in, n_out in layers) if comparing else 0,
           "fixed_voltages": voltages + (1 if fixed_vd else 0),
           "fixed_currents": weights if comparing else 0}
    out["multipliers"] = sum(out[r] for r in ("forward", "delta", "charge", "type2"))
    out["fixed_sources"] = out["fixed_voltages"] + out["fixed_currents"]
    out["blocks"] = out["multipliers"] + out["derivative"] + out["comparators"] + \
        out["fixed_sources"]
    return out


def bandwidth_config(config, f3dB: float = F3DB):
    """``config`` with ``f3dB`` on every block whose law has a bandwidth."""
    from ..blocks import law_class
    from ..params import params_of

    blocks = {}
    for kind in ("multiplier", "activation", "derivative", "error"):
        spec = getattr(config.blocks, kind)
        laws = [spec.role(r).law for r in ("forward", "delta", "charge", "type2")] \
            if kind == "multiplier" else [spec.law]
        if any("f3dB" in params_of(law_class(kind, law)) for law in laws):
            blocks[kind] = {"f3dB": f3dB}
    return config.replace(blocks=blocks)


def settling_time(config, f3dB: float = F3DB) -> float:
    """The error path's settling time (s) with every block at ``f3dB``
    (:meth:`aann.Circuit.settling_time`)."""
    import aann

    return aann.build_circuit(bandwidth_config(config, f3dB)).settling_time()


# --- one network, every condition -------------------------------------------------------

def _digital(prepared, which: tuple, substeps: int = 1) -> dict:
    """The rule's digital baseline from the circuit's own start: its curves and time
    (``substeps``: each row in that many steps, :func:`aann.digital.rule_sgd`)."""
    from ..baselines import rule_circuit
    from ..digital import rule_sgd
    from ..metrics import Rows

    cfg, schedule = prepared.config, prepared.schedule
    ds = schedule.dataset
    circuit, axes = rule_circuit(cfg, prepared.seeds)
    run = rule_sgd(circuit, prepared.W0, ds.X, ds.Y, cfg.training.t_row, schedule.epochs,
                   order=schedule.order, Vteach=schedule.Vteach, rows=Rows.of(ds),
                   metrics=which, axes=axes, substeps=substeps)
    return {**{k: run.metrics[k] for k in which}, "diverged": np.zeros(prepared.n_networks,
                                                                       bool),
            "wall": run.seconds, "compile": run.compile_seconds}


def run_condition(net: str, condition: str, epochs: int, seeds: int, engine: str,
                  progress: bool = False) -> dict:
    """The circuit and the digital baseline of ``net`` under ``condition``."""
    from ..baselines import rule_text
    from ..engines import get_engine
    from ..prepare import prepare
    from ..train import train_prepared

    cfg = network_config(net, epochs, seeds, condition)
    prepared = prepare(cfg)
    which = ("mse",) if is_xor(net) else ("mse", "test_accuracy")
    r = train_prepared(prepared, get_engine(engine), progress=progress)
    circuit = {k: np.asarray(r.metrics[k], float) for k in which}
    circuit.update(diverged=np.asarray(r.diverged_epoch) > 0, wall=r.wall_seconds)
    t0 = time.perf_counter()
    digital = _digital(prepared, which)
    digital["total"] = time.perf_counter() - t0
    return {"circuit": circuit, "digital": digital, "seeds": [int(s) for s in r.seeds],
            "rule": rule_text(cfg), "blocks": block_counts(cfg),
            "settling": settling_time(cfg), "lambda": cfg.lam,
            "test_rows": 0 if r.dataset.test is None else r.dataset.test.rows,
            "train_rows": r.dataset.rows}


def gap(facts: dict, net: str, cond: str) -> float:
    """How far the circuit's headline is from its digital baseline's, in units of the
    smallest difference that counts: a seed (XOR), or a point and a held-out row."""
    f = facts["networks"][net]
    s = f["figures"][cond]
    unit = 1.0 / s["circuit"]["n"] if is_xor(net) else max(0.01, 1.0 / max(f["test_rows"], 1))
    return abs(s["circuit"]["headline"] - s["digital"]["headline"]) / unit


def substep_check(facts: dict, substeps: int = SUBSTEPS) -> dict | None:
    """Where the circuit and its rule's digital baseline part most (:func:`gap` above 1),
    that baseline again with each row in ``substeps`` steps of ``t_row / substeps``: the
    circuit's own flow within a row. Its headline beside the two, or None."""
    from ..prepare import prepare

    def raw(n, c):
        s = facts["networks"][n]["figures"][c]
        return abs(s["circuit"]["headline"] - s["digital"]["headline"])

    apart = [(raw(n, c), n, c) for n, f in facts["networks"].items() for c in f["parts"]
             if gap(facts, n, c) > 1 + 1e-9]
    if not apart:
        return None
    _, net, cond = max(apart)
    f = facts["networks"][net]
    prepared = prepare(network_config(net, f["epochs"], facts["seeds"], cond))
    which = ("mse",) if is_xor(net) else ("mse", "test_accuracy")
    t0 = time.perf_counter()
    part = {**f["parts"][cond], "digital": _digital(prepared, which, substeps)}
    s = figures(net, part)["digital"]
    return {"network": net, "condition": cond, "substeps": substeps, "figures": s,
            "seconds": time.perf_counter() - t0}


def figures(net: str, part: dict) -> dict:
    """Per source (circuit, digital): the headline (yield share or median final test
    accuracy, min, max), the networks that met the goal at the end, and the first epoch
    of the goal (median over those that reached it; the count)."""
    g = goal(net)
    out = {}
    for source in ("circuit", "digital"):
        p = part[source]
        curves = p[g.metric]
        final = curves[:, -1]
        met = g.met(final) & ~p["diverged"]
        first = g.first_epoch(curves)
        reached = first[first > 0]
        if is_xor(net):
            head = float(np.mean(met))
        else:
            acc = np.where(np.isfinite(final), final, 0.0)
            head = float(np.median(acc))
        out[source] = {
            "headline": head, "met": met, "n_met": int(met.sum()), "n": int(met.size),
            "first": first, "first_median": float(np.median(reached)) if reached.size else None,
            "n_reached": int(reached.size),
            "min": float(np.nanmin(final)) if np.isfinite(final).any() else math.nan,
            "max": float(np.nanmax(final)) if np.isfinite(final).any() else math.nan,
            "final_mse_median": float(np.nanmedian(p["mse"][:, -1]))
            if np.isfinite(p["mse"][:, -1]).any() else math.nan,
            "diverged": int(np.sum(p["diverged"]))}
    return out


# --- figures --------------------------------------------------------------------------------

def performance_figure(facts: dict):
    import matplotlib.pyplot as plt

    from .. import plots

    nets = list(facts["networks"])
    conds = facts["conditions"]
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, len(nets), figsize=(3.3 * len(nets) + 0.5, 3.4),
                                 squeeze=False, constrained_layout=True)
        for ax, net in zip(axes.flat, nets):
            f = facts["networks"][net]
            for k, cond in enumerate(conds):
                fig_ = f["figures"][cond]
                for source, marker, dx in (("circuit", "o", -0.12), ("digital", "s", 0.12)):
                    s = fig_[source]
                    if is_xor(net):
                        y, lo, hi = s["headline"], 0.0, 0.0
                    else:
                        y = s["headline"]
                        lo, hi = y - s["min"], s["max"] - y
                    ax.errorbar([k + dx], [y], yerr=[[max(lo, 0)], [max(hi, 0)]], fmt=marker,
                                ms=5, capsize=2, lw=0.8, color=plt.cm.tab10(k % 10),
                                mfc="none" if source == "digital" else None,
                                label=source if k == 0 else None)
            ax.set_xticks(range(len(conds)), [SHORT.get(c, c) for c in conds], rotation=35,
                          ha="right", fontsize=7)
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("yield (final MSE < 0.01)" if is_xor(net) else
                          "test accuracy (median, min..max)")
            ax.set_title(label(net), fontsize=9)
        list(axes.flat)[0].legend(fontsize=7, loc="lower left")
        fig.suptitle("Each rule in the circuit (filled) and trained digitally (open)",
                     fontsize=9)
        return fig


def curves_figure(facts: dict):
    import matplotlib.pyplot as plt

    from .. import plots

    nets = list(facts["networks"])
    conds = facts["conditions"]
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, len(nets), figsize=(3.3 * len(nets) + 0.5, 3.2),
                                 squeeze=False, constrained_layout=True)
        for ax, net in zip(axes.flat, nets):
            f = facts["networks"][net]
            metric = goal(net).metric
            for k, cond in enumerate(conds):
                for source, ls in (("circuit", "-"), ("digital", ":")):
                    c = f["parts"][cond][source][metric]
                    e = np.arange(1, c.shape[1] + 1)
                    ax.plot(e, np.nanmedian(c, axis=0), ls, color=plt.cm.tab10(k % 10), lw=1,
                            label=f"{SHORT.get(cond, cond)}" if source == "circuit" else None)
            if metric == "mse":
                ax.set_yscale("log")
                ax.axhline(goal(net).value, color="k", lw=0.6, ls=":")
                ax.set_ylabel("MSE (V^2), median over seeds")
            else:
                ax.set_ylim(0, 1.02)
                ax.set_ylabel("test accuracy, median over seeds")
            ax.set_xlabel("epoch")
            ax.set_title(label(net), fontsize=9)
        list(axes.flat)[-1].legend(fontsize=7, loc="lower right")
        fig.suptitle("Median learning curves: circuit (solid), the rule digitally (dotted)",
                     fontsize=9)
        return fig


COST_KINDS = (("forward", "forward mult."), ("delta", "delta mult."),
              ("charge", "charge mult."), ("type2", "Type2 mult."),
              ("derivative", "derivative"), ("comparators", "comparators"),
              ("fixed_voltages", "fixed voltages"), ("fixed_currents", "steered currents"))


def cost_figure(facts: dict):
    import matplotlib.pyplot as plt

    from .. import plots

    nets = list(facts["networks"])
    conds = facts["conditions"]
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, len(nets), figsize=(3.4 * len(nets) + 0.6,
                                                        1.4 + 0.42 * len(conds)),
                                 squeeze=False, constrained_layout=True)
        for ax, net in zip(axes.flat, nets):
            parts = facts["networks"][net]["parts"]
            y = np.arange(len(conds))[::-1]
            left = np.zeros(len(conds))
            for k, (key, name) in enumerate(COST_KINDS):
                v = np.array([parts[c]["blocks"][key] for c in conds], float)
                ax.barh(y, v, left=left, color=plt.cm.tab10(k % 10), height=0.6,
                        label=name)
                left += v
            for yy, c in zip(y, conds):
                ax.text(left.max() * 1.02, yy, _ps(parts[c]["settling"]), va="center",
                        fontsize=6.5)
            ax.set_xlim(0, left.max() * 1.32)
            ax.set_yticks(y, [SHORT.get(c, c) for c in conds], fontsize=7)
            ax.set_xlabel("blocks per network")
            ax.set_title(label(net), fontsize=9)
            ax.grid(axis="y", visible=False)
        handles, names = list(axes.flat)[0].get_legend_handles_labels()
        fig.legend(handles, names, fontsize=7, loc="outside lower center",
                   ncol=len(COST_KINDS))
        fig.suptitle(f"What a rule costs: blocks by kind, and the error path's settling time "
                     f"at {F3DB / 1e9:g} GHz (right)", fontsize=9)
        return fig


# --- the run and its report -----------------------------------------------------------------

def run(out, *, engine: str = "native", networks=tuple(NETWORKS), conditions=tuple(CONDITIONS),
        epochs: int | None = None, seeds: int = SEEDS, progress: bool = False) -> dict:
    """Every network under every available condition; figures, CSVs and the ``rules``
    section of the report. ``epochs``: every network's (default: each its own,
    :data:`NETWORKS`)."""
    from ..io import ensure_writable_dir
    from ..progress import progress_bar, reporting_into

    out = ensure_writable_dir(Path(out))
    started = time.perf_counter()
    load_before = load_average()
    conds, missing = available(conditions)
    facts = {"networks": {}, "conditions": conds, "missing": missing, "engine": engine,
             "seeds": seeds}
    total = len(networks) * len(conds)
    with progress_bar(progress, total=total, label="rules") as bar:
        k = 0
        for net in networks:
            e = epochs or NETWORKS[net][2]
            f = {"epochs": e, "parts": {}, "figures": {}}
            for cond in conds:
                bar(k, f"{label(net)}: {LABELS[cond]}")
                with reporting_into(lambda done, description=None, k=k: bar(done), k, k + 1):
                    part = run_condition(net, cond, e, seeds, engine, progress)
                f["parts"][cond] = part
                f["figures"][cond] = figures(net, part)
                k += 1
                bar(k)
            first = next(iter(f["parts"].values()))
            f["train_rows"], f["test_rows"] = first["train_rows"], first["test_rows"]
            facts["networks"][net] = f
    facts["substep_check"] = substep_check(facts)
    _write_csvs(out, facts)
    figs = {"performance": save_figure(performance_figure(facts), out, "rules_performance"),
            "curves": save_figure(curves_figure(facts), out, "rules_curves"),
            "cost": save_figure(cost_figure(facts), out, "rules_cost")}
    facts["seconds"] = time.perf_counter() - started
    facts["load"] = (load_before, load_average())
    facts["advice"] = advice(facts)
    write_fragment(out, "rules", _section(facts, figs))
    return facts



def _write_csvs(out: Path, facts: dict) -> None:
    rows, curves, blocks = [], [], []
    for net, f in facts["networks"].items():
        for cond, part in f["parts"].items():
            figs = f["figures"][cond]
            for source in ("circuit", "digital"):
                p, s = part[source], figs[source]
                acc = p.get("test_accuracy")
                for b, seed in enumerate(part["seeds"]):
                    rows.append([net, label(net), cond, part["rule"], source, seed,
                                 float(p["mse"][b, -1]),
                                 "" if acc is None else float(acc[b, -1]),
                                 int(s["met"][b]), int(s["first"][b]) or "",
                                 int(p["diverged"][b])])
                    for e in range(p["mse"].shape[1]):
                        curves.append([net, cond, source, seed, e + 1, float(p["mse"][b, e]),
                                       "" if acc is None else float(acc[b, e])])
            c = part["blocks"]
            blocks.append([net, label(net), cond, part["rule"], *(c[k] for k in BLOCK_KEYS),
                           part["settling"], part["circuit"]["wall"], part["digital"]["wall"],
                           part["digital"]["compile"]])
    write_csv(out / "rules.csv", ["network", "topology", "condition", "rule", "source", "seed",
                                  "final_mse", "test_accuracy", "goal_met", "first_epoch_goal",
                                  "diverged"], rows)
    write_csv(out / "rules_curves.csv", ["network", "condition", "source", "seed", "epoch",
                                         "mse", "test_accuracy"], curves)
    write_csv(out / "rules_blocks.csv", ["network", "topology", "condition", "rule",
                                         *BLOCK_KEYS, "settling_s", "circuit_wall_s",
                                         "digital_wall_s", "digital_compile_s"], blocks)


BLOCK_KEYS = ("forward", "delta", "charge", "type2", "derivative", "comparators",
              "fixed_voltages", "fixed_currents", "multipliers", "fixed_sources", "blocks")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _head(net: str, s: dict) -> str:
    if is_xor(net):
        return f"{s['n_met']} of {s['n']}"
    return f"{_pct(s['headline'])} ({_pct(s['min'])}-{_pct(s['max'])})"


def _epochs(s: dict) -> str:
    if s["first_median"] is None:
        return "never"
    return f"{s['first_median']:g} ({s['n_reached']} of {s['n']})"


def _ps(seconds: float) -> str:
    """A time in the unit that reads best (ns, ps, ...)."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("ps", 1e-12)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def adequate(facts: dict, net: str) -> tuple[str, list]:
    """The best condition of ``net`` in the circuit, and those that learn about as well
    (:data:`YIELD_TOLERANCE`, :data:`ACCURACY_TOLERANCE`; the best among them)."""
    figs = facts["networks"][net]["figures"]
    heads = {c: figs[c]["circuit"]["headline"] for c in facts["conditions"]}
    best = max(heads, key=lambda c: (heads[c], c == "backprop"))
    tol = YIELD_TOLERANCE if is_xor(net) else ACCURACY_TOLERANCE
    return best, [c for c in facts["conditions"] if heads[c] >= heads[best] - tol - 1e-9]


def _same_time(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def advice(facts: dict) -> dict:
    """Per network: the best condition, those about as good (:func:`adequate`), among them
    the one with the fewest multipliers (ties: the fewest blocks, then the best) and the
    one with the shortest settling (ties: the best, then the fewest multipliers)."""
    out = {}
    for net, f in facts["networks"].items():
        best, ok = adequate(facts, net)
        parts = f["parts"]
        cheapest = min(ok, key=lambda c: (parts[c]["blocks"]["multipliers"],
                                          parts[c]["blocks"]["blocks"], c != best))
        shortest = min(parts[c]["settling"] for c in ok)
        fastest = min(ok, key=lambda c: (not _same_time(parts[c]["settling"], shortest),
                                         c != best, parts[c]["blocks"]["multipliers"]))
        out[net] = {"best": best, "adequate": ok, "cheapest": cheapest, "fastest": fastest,
                    "out": [c for c in facts["conditions"] if c not in ok]}
    return out


def _changes(parts: dict, c: str, ref: str) -> str:
    """What condition ``c`` has more or fewer of than ``ref``, block kind by kind."""
    a, b = parts[c]["blocks"], parts[ref]["blocks"]
    names = {"forward": "forward multipliers", "delta": "delta multipliers",
             "charge": "charge multipliers", "type2": "Type2 multipliers",
             "derivative": "derivative blocks", "comparators": "comparators",
             "fixed_voltages": "fixed voltages", "fixed_currents": "steered currents"}
    diff = [f"{a[k] - b[k]:+d} {name}" for k, name in names.items() if a[k] != b[k]]
    return ", ".join(diff) if diff else "the same blocks"


def L(cond: str) -> str:
    """A condition's name as the report prints it."""
    return LABELS.get(cond, cond)


def _tolerance(facts: dict, net: str) -> str:
    if is_xor(net):
        n = facts["seeds"]
        return f"{round(YIELD_TOLERANCE * n)} of {n} seeds"
    return f"{100 * ACCURACY_TOLERANCE:g} points"


def _verdict(facts: dict, net: str) -> str:
    """One network's advice, from the measured numbers."""
    f = facts["networks"][net]
    a = facts["advice"][net]
    figs, parts = f["figures"], f["parts"]
    tol = _tolerance(facts, net)
    best, cheap, fast = a["best"], a["cheapest"], a["fastest"]

    def h(c):
        return _head(net, figs[c]["circuit"])

    def mult(c):
        return parts[c]["blocks"]["multipliers"]

    others = [c for c in a["adequate"] if c != best]
    text = f"**{label(net)}**: best {L(best)} ({h(best)})"
    text += (f"; within {tol} of it: " + ", ".join(f"{L(c)} ({h(c)})" for c in others)
             if others else f"; no other condition within {tol} of it")
    if a["out"]:
        text += "; short of that: " + ", ".join(f"{L(c)} ({h(c)})" for c in a["out"])
    text += ". "
    if cheap != best and mult(cheap) < mult(best):
        text += (f"Fewest multipliers of those that learn: {L(cheap)}, {mult(cheap)} against "
                 f"{mult(best)} ({_changes(parts, cheap, best)}). ")
    else:
        text += f"None of those that learn needs fewer multipliers than {L(best)}. "
    t_best, t_fast = parts[best]["settling"], parts[fast]["settling"]
    if fast != best and t_fast < t_best and not _same_time(t_fast, t_best):
        text += (f"Shortest error path: {L(fast)}, {_ps(t_fast)} against {_ps(t_best)} "
                 f"({t_best / t_fast:.2g}x faster). ")
    else:
        text += f"None of them settles faster than {L(best)} ({_ps(t_best)}). "
    area = cheap != best and mult(cheap) < mult(best)
    speed = fast != best and t_fast < t_best and not _same_time(t_fast, t_best)
    if area and speed and cheap == fast:
        text += (f"Pick: {L(cheap)} for a designer short of area or time (it costs "
                 f"{_loss(net, figs, cheap, best)}); otherwise {L(best)}.")
    elif area or speed:
        picks = ([f"short of area takes {L(cheap)} ({_loss(net, figs, cheap, best)})"]
                 if area else []) + \
            ([f"short of time takes {L(fast)} ({_loss(net, figs, fast, best)})"]
             if speed else [])
        text += "Pick: a designer " + "; one ".join(picks) + f"; otherwise {L(best)}."
    else:
        text += f"Pick: {L(best)}."
    return text


def _loss(net: str, figs: dict, c: str, best: str) -> str:
    """What condition ``c`` gives up against ``best``, in seeds or points."""
    a, b = figs[c]["circuit"], figs[best]["circuit"]
    if is_xor(net):
        return f"{b['n_met'] - a['n_met']} seed(s) of {b['n']}"
    return f"{100 * (b['headline'] - a['headline']):.1f} points"


def _digital_gap(facts: dict) -> str:
    """Where the circuit and its rule's digital baseline part, and why (the measured
    within-row check, :func:`substep_check`)."""
    apart = []
    for net, f in facts["networks"].items():
        for cond in facts["conditions"]:
            if gap(facts, net, cond) > 1 + 1e-9:
                s = f["figures"][cond]
                apart.append(f"{label(net)} {L(cond)} ({_head(net, s['circuit'])} against "
                             f"{_head(net, s['digital'])})")
    if not apart:
        return ("Every condition learns in the circuit as its rule does digitally (yield "
                "within one seed, median accuracy within a point and a held-out row): what "
                "a rule loses, it loses as a rule, not as an analogue circuit.")
    text = ("The circuit and its rule's digital baseline (circuit against digital) part by "
            "more than a seed, or a point and a held-out row, on: " + "; ".join(apart)
            + ". Elsewhere the circuit learns as its rule does digitally.")
    check = facts.get("substep_check")
    if check is not None:
        net, cond = check["network"], check["condition"]
        s = facts["networks"][net]["figures"][cond]
        sub = check["figures"]
        unit = 1.0 / s["circuit"]["n"] if is_xor(net) else max(
            0.01, 1.0 / max(facts["networks"][net]["test_rows"], 1))
        c, d, x = s["circuit"]["headline"], s["digital"]["headline"], sub["headline"]
        closed = (x - d) / (c - d) if c != d else 1.0
        near = abs(x - c) <= unit + 1e-9
        text += (f" Why, checked where they part most ({label(net)}, {L(cond)}): the same "
                 f"digital rule with each row taken as {check['substeps']} steps of `t_row` / "
                 f"{check['substeps']}, the circuit's own flow within a row, reaches "
                 f"{_head(net, sub)} (circuit {_head(net, s['circuit'])}, one step a row "
                 f"{_head(net, s['digital'])}): ")
        if near or closed >= 0.5:
            text += (("the substeps close the gap" if near else
                      f"the substeps close {closed:.0%} of the gap")
                     + ". It is the step, not the analogue circuit: at `lambda` = 1 the "
                       "circuit follows each row's update continuously for `t_row`, which "
                       "is not one step of it, and under this rule the two end apart.")
        else:
            text += (f"the substeps close only {closed:.0%} of the gap; the circuit's own "
                     "dynamics differ here.")
    return text


def _acceptance(facts: dict) -> list[str]:
    out = []
    nets = facts["networks"]
    fa = "feedback_alignment"
    if fa in facts["conditions"] and "backprop" in facts["conditions"]:
        if "digits16" in nets:
            f = nets["digits16"]["figures"]
            d = f[fa]["circuit"]["headline"] - f["backprop"]["circuit"]["headline"]
            out.append(f"digits 64-16-10, feedback alignment against backprop (median test "
                       f"accuracy): {_pct(f[fa]['circuit']['headline'])} % against "
                       f"{_pct(f['backprop']['circuit']['headline'])} %, {100 * d:+.1f} "
                       f"points: {'within' if d >= -0.03 - 1e-9 else 'NOT within'} 3 points")
        if "xor" in nets:
            s = nets["xor"]["figures"][fa]["circuit"]
            out.append(f"XOR 2-8-1, feedback alignment: {s['n_met']} of {s['n']} seeds learn "
                       f"in {nets['xor']['epochs']} epochs "
                       f"({'at least' if s['n_met'] >= 0.8 * s['n'] else 'fewer than'} 8 of 10)")
    dfa = "direct_feedback_alignment"
    deep = [n for n in nets if len(NETWORKS[n][1]) > 3]
    if dfa in facts["conditions"] and "backprop" in facts["conditions"]:
        for n in deep:
            p = nets[n]["parts"]
            out.append(f"{label(n)}: the error path settles in {_ps(p[dfa]['settling'])} under "
                       f"direct feedback alignment against {_ps(p['backprop']['settling'])} "
                       f"under backprop ({F3DB / 1e9:g} GHz on every block)")
    return out


def _law_values(condition: str) -> str:
    """The settings of ``condition`` that the report names, read from its description."""
    from ..units import format_quantity

    cfg = network_config("xor", 1, 1, condition)
    if condition == "constant_derivative":
        return f"`Vd0` = {format_quantity(cfg.blocks.derivative.Vd0, 'V')}"
    if condition == "sign_charging":
        charge = cfg.blocks.multiplier.role("charge")
        return (f"`Isign` = {format_quantity(charge.Isign, 'A')}, `Vedge` = "
                f"{format_quantity(charge.Vedge, 'V')}")
    r = cfg.training.feedback_range
    return f"uniform in +-{format_quantity(r, 'V')} (`feedback_range`)"


def _fa_is_dfa(facts: dict) -> list:
    """The networks on which feedback alignment and direct feedback alignment trained
    exactly alike (one hidden layer)."""
    fa, dfa = "feedback_alignment", "direct_feedback_alignment"
    out = []
    for net, f in facts["networks"].items():
        p = f["parts"]
        if fa in p and dfa in p and all(
                np.array_equal(p[fa][src]["mse"], p[dfa][src]["mse"], equal_nan=True)
                for src in ("circuit", "digital")):
            out.append(label(net))
    return out


def _section(facts: dict, figs: dict) -> str:
    nets = facts["networks"]
    conds = facts["conditions"]
    seeds = facts["seeds"]
    tables = []
    for net, f in nets.items():
        rows = []
        for cond in conds:
            p, s = f["parts"][cond], f["figures"][cond]
            b = p["blocks"]
            rows.append([L(cond), _head(net, s["circuit"]), _head(net, s["digital"]),
                         _epochs(s["circuit"]), _epochs(s["digital"]),
                         f"{b['forward']} / {b['delta']} / {b['charge']} / {b['type2']}",
                         b["derivative"], b["comparators"],
                         f"{b['fixed_voltages']} V + {b['fixed_currents']} I", b["blocks"],
                         _ps(p["settling"])])
        what = "yield (final MSE < 0.01)" if is_xor(net) else "test accuracy %"
        g = goal(net)
        tables.append(
            f"**{label(net)}**, {f['epochs']} epochs, {f['train_rows']} training rows"
            + (f", {f['test_rows']} held out" if f["test_rows"] else "")
            + f"; epochs to {g.describe().replace('final ', '')}: median over the seeds that "
            "reach it (how many)\n\n"
            + md_table(["condition", f"circuit: {what}", f"digital: {what}",
                        "circuit: epochs to goal", "digital: epochs to goal",
                        "multipliers fwd / delta / charge / type2", "derivative blocks",
                        "comparators", "fixed sources", "blocks in all",
                        f"settling at {F3DB / 1e9:g} GHz"], rows))
    missing = ""
    if facts["missing"]:
        missing = ("\nLeft out (not in this build): " + "; ".join(
            f"{LABELS[c]}: {why}" for c, why in facts["missing"].items()) + "\n")
    load = facts["load"]
    load_text = ("" if not load or not load[0] else
                 f" Load average (1 min) {load[0][0]:.1f} before and {load[1][0]:.1f} after, "
                 f"on {os.cpu_count()} CPU(s): other jobs shared the machine, so wall times "
                 "are upper bounds.")
    advice_text = "\n".join(f"- {_verdict(facts, n)}" for n in nets)
    same = _fa_is_dfa(facts)
    if same:
        missing += (f"\nWith one hidden layer direct feedback alignment is feedback alignment "
                    f"(one Type2 stage, the same matrices): on {', '.join(same)} their rows "
                    "are the same numbers.\n")
    accept = "\n".join(f"- {s}" for s in _acceptance(facts))
    walls = [p["circuit"]["wall"] for f in nets.values() for p in f["parts"].values()]
    dwalls = [p["digital"]["wall"] + p["digital"]["compile"] for f in nets.values()
              for p in f["parts"].values()]
    return f"""## Beyond the paper - learning rules: what each learns, costs and saves

Which backward path should a designer build? The paper's exact backpropagation, or a
rule that needs less: feedback alignment (the Type2 multipliers read fixed random
voltages instead of the weights above), direct feedback alignment (every hidden layer's
error from the output deltas through its own fixed random matrix: one Type2 stage
whatever the depth), a constant derivative (`[blocks.derivative] law = "constant"`,
{_law_values("constant_derivative")}: no derivative blocks) or sign charging
(`[blocks.multiplier.charge] law = "sign"`, {_law_values("sign_charging")}: comparators
steer a fixed current with the sign of `Vdelta * x`). Fixed feedback voltages
{_law_values("feedback_alignment")}, drawn per network from its seed. Seeds 0..{seeds - 1}, `t_row` = {T_ROW * 1e12:g} ps (`lambda` = 1); XOR
rows in order, the real sets encoded as in the real-tasks section (inputs 0..1 V,
targets 0.2 / 0.8 V, {TEST_FRACTION:.0%} held out, rows shuffled every epoch). Beside
every circuit, the same rule trained digitally (`aann.digital.rule_sgd`): one step per
row of the rule's ideal circuit's own charging currents, `W + I(W, x, y) t_row / C`, with
the same feedback matrices, initial weights and row order (for backprop exactly digital
SGD at `lr = lambda`). Blocks per network (`aann.experiments.rules.block_counts`): the
multipliers of each role, derivative blocks, comparators (one per signal whose sign
steers a current) and fixed sources (DC voltages: the feedback voltages, a shared `Vd`;
steered currents: one per weight); the activation, error and charging blocks are the
same under every rule. Settling: the error path's 1 % settling time after an input step
with every block's bandwidth at {F3DB / 1e9:g} GHz (`Circuit.settling_time`). Engine
`{facts['engine']}`; the whole command took {facts['seconds']:.0f} s (circuits
{sum(walls):.0f} s, digital baselines {sum(dwalls):.0f} s with compilation).{load_text}
Data: `rules.csv` (every seed, circuit and digital), `rules_curves.csv` (every epoch),
`rules_blocks.csv` (blocks, settling, wall times).
{missing}
![Yield and test accuracy of each rule, circuit and digital]({figs['performance']})

{chr(10).join(t + chr(10) for t in tables)}
![Median learning curves per rule]({figs['curves']})

![Blocks by kind and settling time per rule]({figs['cost']})

### Which rule for which task

From the numbers above (a condition counts as learning about as well as the best when
its yield is at most {YIELD_TOLERANCE:.0%} of the seeds lower, or its median test accuracy
at most {100 * ACCURACY_TOLERANCE:g} points lower):

{advice_text}

{_digital_gap(facts)}

Measured facts:

{accept}
"""
