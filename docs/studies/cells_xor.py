"""Why XOR does not learn on a small network of the SkyWater 130 nm cells' laws (issue #25).

Native engine only. Every condition: XOR on 2-2-1 (and 2-3-1), 8 seeds (initial weights
uniform in +-init_range from seed k), the cells' signals (inputs 0..0.2 V, Vbias 0.2 V,
targets 0.04 / 0.16 V), t_row = 1 ps, lambda = Keta/C t_row = 10, 2 fixed steps a row
(as `aann reproduce tasks` / `cancellation` run the cells).

Learned: final MSE < the cells' XOR goal (cancellation.sky130_goal: 0.01 V^2 x (0.12 V /
1 V)^2 = 1.44e-4 V^2), every row on the correct side of the mid level (0.1 V), not
diverged.

The study behind docs/cells.md "Why XOR does not learn on the cells as characterized"
and, part `charging`, "A network with the glue cells"; part `mismatch` (which PDK mismatch
sigmas stop it at the design point, and why) its paragraph "What does not, yet".
Run:  .venv/bin/python docs/studies/cells_xor.py [--epochs 1000] [--parts gain,baseline,...]
      [--out cells-xor] [--measured-sweep DIR/transistor/tt/multiplier_cosim/sweep.csv]
Writes OUT/results.json (kept between runs: parts add to it) and prints the tables; the
whole study takes about 30-40 minutes on 2 cores (run a few parts at a time). The part
`range` with the cell's own +-0.4 V table needs the sweep `aann reproduce transistor`
writes (--measured-sweep); without it that row is left out.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from cells_chopper import ROLE_POLES  # this folder: the multipliers' chopped poles per role

import aann
from aann.experiments import cancellation as canc

# The cells' laws at tt, 27 C, as `aann characterize` fitted them (ngspice + sky130 PDK;
# the laws of tests/data/sky130_tt_cells.json, rounded there to 5 digits), and the PDK's
# mismatch sigmas from 4 tt_mm samples per cell (the `reproduce cancellation` run).
CELLS = {
    "blocks": {
        "multiplier": {"law": "polynomial", "Km": 6.545556650653201e-05,
                       "Voff1": -0.00015785789431027142, "Voff": -5.370457085536007e-05,
                       "Ioff": -4.6748566538227196e-09, "a1": 0.0706266590008518,
                       "a2": 0.043449001401723225, "b1": 0.1481632052405671,
                       "b2": -0.044104312794818676},
        "activation": {"law": "sigmoid_offset", "Vamp": 0.1966479465784683,
                       "Iref": 6.951324391385391e-07, "Ioff": -5.326198671690531e-08,
                       "Voff": -0.0007563029299481209},
        "derivative": {"law": "sigmoid", "Kd": 0.8351718294013443,
                       "Vref": 0.006044960817226065, "Ru": 10000.0}},
    "mismatch": {"seed": 0, "multiplier.Km": "4.031%", "multiplier.Voff1": 0.012078856675421242,
                 "multiplier.Voff": 0.012121516446017108,
                 "multiplier.Ioff": 1.1250060890511023e-06, "activation.Vamp": "11.86%",
                 "activation.Iref": "3.106%", "activation.Ioff": 2.2644756218353993e-08,
                 "activation.Voff": 0.00011689200078790834, "derivative.Kd": "12.79%",
                 "derivative.Vref": "2.541%"},
}
M0 = CELLS["blocks"]["multiplier"]
A0 = CELLS["blocks"]["activation"]
D0 = CELLS["blocks"]["derivative"]
KM, IREF, VAMP, KD = M0["Km"], A0["Iref"], A0["Vamp"], D0["Kd"]
S = 0.2  # V: the cells' input range, Vbias
RATIO = KD / (VAMP * KM / IREF)  # the derivative cell's Kd against the exact one (0.045)
SEEDS = 8
NETWORKS = {"2-2-1": (2, 2, 1), "2-3-1": (2, 3, 1)}
"""The networks every part runs, by the tag its rows are named with."""
TRIMS = {"trimmed": False, "untrimmed": True}
"""The multipliers' offsets: 0 (trimmed) or the cells' own (``mult_off``, ``offsets``)."""
OUT = Path("cells-xor")
POLY = ("a1", "a2", "b1", "b2")
MOFF = ("Voff1", "Voff", "Ioff")
ROLES = ("forward", "delta", "charge", "type2")


# --- descriptions -------------------------------------------------------------------------

def blocks(poly=True, mult_off=True, act_off=True, roles=None, Km=1.0, Iref=1.0, Vamp=1.0,
           Kd=None, exact_derivative=False, KE=1.0, zero_offsets_in_roles=True):
    """The cells' [blocks]: ``poly`` the fitted a1..b2 (else 0), ``mult_off`` the fitted
    multiplier offsets in every role (else 0), ``act_off`` the neuron's Ioff / Voff (else
    0), ``roles`` only those multiplier roles with the fitted offsets; ``Km``, ``Iref``,
    ``Vamp`` factors on the cells' values; ``Kd`` the derivative's (V) or
    ``exact_derivative``: Kd = Vamp Km / Iref, Ru/Vref = 1/Iref (Vd = dVout/dnet, exact
    backprop); ``KE``: the Type2 stage's R_E K_E."""
    m = dict(M0)
    m["Km"] = KM * Km
    if not poly:
        m.update({k: 0.0 for k in POLY})
    if not mult_off or roles is not None:
        m.update({k: 0.0 for k in MOFF})
    if roles is not None:
        for r in roles:
            m[r] = {k: M0[k] for k in MOFF}
    a = dict(A0)
    a["Iref"] = IREF * Iref
    a["Vamp"] = VAMP * Vamp
    if not act_off:
        a.update(Ioff=0.0, Voff=0.0)
    d = dict(D0)
    if exact_derivative:
        d["Kd"] = a["Vamp"] * m["Km"] / a["Iref"]
        d["Vref"] = a["Iref"] * d["Ru"]  # Ru/Vref = 1/Iref: the neuron's own scale
    else:
        # the derivative cell shares the neuron's pair: its width (Vref/Ru) follows Iref
        d["Vref"] = D0["Vref"] * Iref
        if Kd is not None:
            d["Kd"] = Kd
    out = {"multiplier": m, "activation": a, "derivative": d}
    if KE != 1.0:
        out["type2"] = {"R_E": 1e4 * KE, "K_E": 1e-4}
    return out


def config(sizes, epochs, blk, *, lam=10.0, init=None, targets=(0.04, 0.16), vin=S,
           mismatch=None, extra=None, steps=2):
    """XOR with the cells' signals (inputs 0..vin, Vbias vin, targets)."""
    init = IREF * (blk["activation"]["Iref"] / IREF) / (blk["multiplier"]["Km"] * S) \
        if init is None else init
    cfg = aann.Config(
        network={"sizes": sizes},
        constants={"Vbias": vin, "Keta": lam / 10.0},  # Keta/C t_row = 10 Keta (S)
        blocks=blk,
        training={"dataset": "xor", "t_row": 1e-12, "epochs": epochs, "seeds": SEEDS,
                  "record": "mse", "init_range": init},
        data={"scale": "global", "Vin_low": 0.0, "Vin_high": vin, "Vlow": targets[0],
              "Vhigh": targets[1]},
        solver={"steps": steps},
        mismatch=mismatch or {"seed": 0},
    )
    if extra:
        cfg = cfg.replace(**extra)
    return cfg


def goal_of(cfg) -> float:
    return canc.sky130_goal(cfg)


# --- running --------------------------------------------------------------------------------

def run_batch(named, mc=False, seed=None):
    """Train every (name, cfg) x 8 seeds in one engine call (one structure); ``mc``: network
    k is Monte Carlo sample k of [mismatch]; ``seed``: every network starts from that
    seed's weights (else network k from seed k). Returns {name: figures}."""
    variants = []
    for _, cfg in named:
        variants += [aann.Variant(cfg, k if seed is None else seed, sample=k if mc else None)
                     for k in range(SEEDS)]
    t = time.time()
    r = aann.train_variants(variants)
    wall = time.time() - t
    out = {}
    final = np.asarray(r.final("mse"), float)
    div = np.asarray(r.diverged_epoch) > 0
    W = [np.asarray(w) for w in r.W_final]
    mse_curve = np.asarray(r.metrics["mse"], float)
    for i, (name, cfg) in enumerate(named):
        sl = slice(i * SEEDS, (i + 1) * SEEDS)
        ds = aann.datasets.for_config(cfg)
        mid = 0.5 * (cfg.data.Vlow + cfg.data.Vhigh)
        correct, vouts = [], []
        for b in range(sl.start, sl.stop):
            circ = variants[b].circuit()
            Wb = [w[b] for w in W]
            v = np.array([float(np.asarray(circ.output(Wb, x))[0]) for x in ds.X])
            vouts.append(v)
            correct.append(bool(np.all((v > mid) == (np.asarray(ds.Y)[:, 0] > mid))))
        goal = goal_of(cfg)
        fm = final[sl]
        learned = (fm < goal) & np.array(correct) & ~div[sl]
        wl = [np.abs(w[sl]) for w in W]
        out[name] = {
            "learned": int(learned.sum()), "n": SEEDS,
            "learned_seeds": np.flatnonzero(learned).tolist(),
            "classified": int(np.sum(correct)), "diverged": int(div[sl].sum()),
            "median_mse": float(np.median(fm)), "goal": goal,
            "mse_at_half": float(np.median(mse_curve[sl, mse_curve.shape[1] // 2 - 1])),
            "w_med": [float(np.median(w)) for w in wl],
            "w_max": [float(np.max(w)) for w in wl],
            "w_max_learners": [float(np.max(w[learned])) if learned.any() else None for w in wl],
            "w_med_learners": [float(np.median(w[learned])) if learned.any() else None
                               for w in wl],
            "frac_over_0.2V": float(np.mean(np.concatenate([w.ravel() for w in wl]) > 0.2)),
            "wall": wall, "epochs": cfg.training.epochs, "lam": cfg.lam,
            "vout_seed0": vouts[0].tolist(),
            "epoch_to_goal": [int(np.argmax(c < goal)) + 1 if np.any(c < goal) else None
                              for c in mse_curve[sl]],
        }
    return out


def fmt_table(res: dict, names=None) -> str:
    names = names or list(res)
    head = ("| condition | learned | classified | diverged | median final MSE (V^2) | "
            "median abs(w) L1 / L2 (V) | max abs(w) L1 / L2 (V) | learners' max abs(w) L1 / L2 |")
    lines = [head, "|" + " --- |" * 8]
    for n in names:
        f = res[n]
        lm = f["w_max_learners"]
        lines.append(
            f"| {n} | {f['learned']}/{f['n']} | {f['classified']}/{f['n']} | {f['diverged']} | "
            f"{f['median_mse']:.3g} | {f['w_med'][0]:.3g} / {f['w_med'][1]:.3g} | "
            f"{f['w_max'][0]:.3g} / {f['w_max'][1]:.3g} | "
            + ("-" if lm[0] is None else f"{lm[0]:.3g} / {lm[1]:.3g}") + " |")
    return "\n".join(lines)


# --- the gain argument, by hand -------------------------------------------------------------

def gain_numbers() -> dict:
    I1 = KM * S * S  # one multiplier at the ends of its range
    return {"Km": KM, "Iref": IREF, "Vamp": VAMP, "Kd": KD,
            "I_one_input_A": I1, "I_one_input_Iref": I1 / IREF,
            "I_two_inputs_bias_A": 3 * I1, "I_two_inputs_bias_Iref": 3 * I1 / IREF,
            "layer_gain": KM * S * VAMP / (4 * IREF),  # dVout/dx at w = 0.2 V, steepest
            "Km_over_Iref_perV2": KM / IREF,
            "Kd_exact_V": VAMP * KM / IREF, "Kd_ratio": KD / (VAMP * KM / IREF),
            "Inet_for_targets_Iref": [math.log(t / (VAMP - t)) for t in (0.04, 0.16)],
            "init_range_V": IREF / (KM * S)}


def cell_net(W, x, gain_mul=1.0, gain_iref=1.0, poly=True):
    """The cells' forward pass (no offsets): polynomial multiplier, sigmoid."""
    m = M0
    Km, Iref = KM * gain_mul, IREF * gain_iref
    a = np.concatenate([[S], x])
    for Wl in W:
        V1, V2 = Wl, a[None, :]
        g = 1.0
        if poly:
            g = 1 + V1 * (m["a1"] + m["b1"] * V1) + V2 * (m["a2"] + m["b2"] * V2)
        Inet = np.sum(Km * V1 * V2 * g, axis=1)
        a = np.concatenate([[S], VAMP * 0.5 * (1 + np.tanh(Inet / (2 * Iref)))])
    return a[1:]


def smallest_xor_weights(hidden=2, tol=None, gain_mul=1.0, gain_iref=1.0, starts=12, seed=0,
                         classify=False):
    """The smallest bound B (V) on every |w| of a 2-h-1 of the cells' laws (no offsets)
    within which some weights put all four outputs within ``tol`` of the targets (default:
    the goal's rms error, sqrt(1.44e-4) = 12 mV, on every row; ``classify``: instead on the
    correct side of the mid level 0.1 V by 10 mV): bisection on B, at each B the worst
    row's miss minimized (L-BFGS-B within the bounds, a smooth max, random starts)."""
    from scipy.optimize import minimize

    tol = math.sqrt(0.01 * 0.12 ** 2) if tol is None else tol
    X = np.array([[0, 0], [0, S], [S, 0], [S, S]])
    Y = np.array([0.04, 0.16, 0.16, 0.04])
    n1 = hidden * 3
    n = n1 + hidden + 1

    def unpack(p):
        return [p[:n1].reshape(hidden, 3), p[n1:n].reshape(1, hidden + 1)]

    def outs(p):
        return np.array([cell_net(unpack(p), x, gain_mul, gain_iref)[0] for x in X])

    def miss(p):  # per row, how far outside the allowed band (V; <= 0: inside)
        v = outs(p)
        if classify:
            return 0.01 - np.where(Y > 0.1, v - 0.1, 0.1 - v)
        return np.abs(v - Y) - tol

    def worst(p):
        m = miss(p)
        return float(0.002 * np.log(np.sum(np.exp(m / 0.002))))  # smooth max, 2 mV

    rng = np.random.default_rng(seed)
    warm = []

    def feasible(B):
        best = None
        starts_ = [np.clip(w, -B, B) for w in warm] + [rng.uniform(-B, B, n)
                                                        for _ in range(starts)]
        for p0 in starts_:
            r = minimize(worst, p0, method="L-BFGS-B", bounds=[(-B, B)] * n)
            m = float(np.max(miss(r.x)))
            if best is None or m < best[0]:
                best = (m, r.x)
            if m <= 0:
                break
        warm[:] = [best[1]]
        return best

    grid = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5)
    lo, hi, found = 0.05, None, None
    for B in grid:
        f = feasible(B)
        if f[0] <= 0:
            hi, found = B, f
            break
        lo = B
    if found is None:
        return None
    for _ in range(5):
        mid = 0.5 * (lo + hi)
        f = feasible(mid)
        if f[0] <= 0:
            hi, found = mid, f
        else:
            lo = mid
    p = found[1]
    return {"bound_V": hi, "max_abs_w": float(np.max(np.abs(p))),
            "W": [np.round(w, 4).tolist() for w in unpack(p)],
            "Vout": np.round(outs(p), 4).tolist(), "infeasible_below_V": lo}


# --- the parts --------------------------------------------------------------------------------

def part_baseline(E):
    res = {}
    for tag, sizes in NETWORKS.items():
        named = [
            (f"{tag} fitted, untrimmed", config(sizes, E, blocks())),
            (f"{tag} fitted, trimmed (mult. offsets 0)", config(sizes, E, blocks(mult_off=False))),
            (f"{tag} fitted, all offsets 0",
             config(sizes, E, blocks(mult_off=False, act_off=False))),
            (f"{tag} (a) gain structure only", config(sizes, E, blocks(poly=False, mult_off=False,
                                                                       act_off=False))),
            (f"{tag} (b) + polynomial law",
             config(sizes, E, blocks(mult_off=False, act_off=False))),
            (f"{tag} (c) + multiplier offsets only", config(sizes, E, blocks(act_off=False))),
            (f"{tag} (c) + neuron offsets only", config(sizes, E, blocks(mult_off=False))),
        ]
        named += [(f"{tag} (d) offsets in {r} only", config(sizes, E, blocks(roles=(r,),
                                                                              act_off=False)))
                  for r in ROLES]
        # which part of the charge multiplier's offsets
        for k in MOFF:
            b = blocks(roles=(), act_off=False)
            b["multiplier"]["charge"] = {k: M0[k]}
            named.append((f"{tag} (d) charge {k} only", config(sizes, E, b)))
        res.update(run_batch(named))
    return res


def part_ideal(E):
    """The paper's ideal circuit (1 V signals, ideal blocks, lambda 1 and 10)."""
    res = {}
    for tag, sizes in NETWORKS.items():
        named = []
        for lam in (1.0, 10.0):
            cfg = aann.Config(network={"sizes": sizes}, constants={"Keta": lam},
                              training={"dataset": "xor", "t_row": 1e-13, "epochs": E,
                                        "seeds": SEEDS, "record": "mse"})
            named.append((f"{tag} paper's ideal circuit, lambda {lam:g}", cfg))
        # goal: the ideal circuit's 0.01 V^2
        out = run_batch(named)
        res.update(out)
    return res


def part_derivative(E):
    """The derivative's scale: Kd = 0.835 V against the exact Vamp Km / Iref = 18.5 V."""
    res = {}
    for tag, sizes in NETWORKS.items():
        named = [
            (f"{tag} (a') gain structure, exact derivative, lambda {10 * RATIO:.2g}", config(
                sizes, E, blocks(poly=False, mult_off=False, act_off=False,
                                 exact_derivative=True), lam=10 * RATIO)),
            (f"{tag} (a') gain structure, Type2 R_E K_E = {1 / RATIO:.0f}", config(
                sizes, E, blocks(poly=False, mult_off=False, act_off=False,
                                 KE=1 / RATIO))),
        ]
        res.update(run_batch(named))
    return res


def part_swing(E):
    """(e): the sigmoid's swing against the targets, and the initial range."""
    res = {}
    for tag, sizes in NETWORKS.items():
        b = blocks(mult_off=False, act_off=False)
        init0 = IREF / (KM * S)
        named = [(f"{tag} (e) init x{f:g} ({1e3 * f * init0:.0f} mV)",
                  config(sizes, E, b, init=f * init0)) for f in (0.5, 2, 4)]
        res.update(run_batch(named))
        named = [(f"{tag} (e) targets 0.06/0.14 V (30/70 % of Vamp)",
                  config(sizes, E, b, targets=(0.06, 0.14)))]
        res.update(run_batch(named))
        named = [(f"{tag} (e) Vamp x1.5 (0.295 V), targets 0.04/0.16",
                  config(sizes, E, blocks(mult_off=False, act_off=False, Vamp=1.5)))]
        res.update(run_batch(named))
    return res


def part_design(E):
    """Design changes, with the cells' nominal (untrimmed) offsets."""
    res = {}
    for tag, sizes in NETWORKS.items():
        named = []
        for w, off in TRIMS.items():
            for km, ir in ((1, 1), (2, 1), (4, 1), (1, 0.5), (1, 1 / 3), (2, 0.5), (4, 0.5)):
                named.append((f"{tag} {w}, Km x{km:g}, Iref x{ir:.2g}", config(
                    sizes, E, blocks(mult_off=off, Km=km, Iref=ir))))
        res.update(run_batch(named))
    return res


def part_more(E):
    """More epochs, larger lambda, the Type2 gain, with the nominal offsets."""
    res = {}
    for tag, sizes in NETWORKS.items():
        named = []
        for w, off in TRIMS.items():
            for lam in (30.0, 100.0):
                named.append((f"{tag} {w}, lambda {lam:g}", config(sizes, E, blocks(mult_off=off),
                                                                  lam=lam)))
        res.update(run_batch(named))
        named = []
        for w, off in TRIMS.items():
            named.append((f"{tag} {w}, {3 * E} epochs", config(sizes, 3 * E, blocks(mult_off=off))))
        res.update(run_batch(named))
    return res


# --- the multiplier's range: tables held at their edge ---------------------------------------

MEASURED_04: Path | None = None  # --measured-sweep: the cell's +-0.4 V sweep, 17 x 17
TABLES = OUT / "tables"


def range_table(Vsat: float, Km_factor: float = 1.0, measured=False) -> str:
    """A multiplier sweep.csv for the table law (held at the edge beyond the grid: a cell
    that saturates at +-Vsat on either input): the fitted polynomial law without offsets
    on a +-Vsat grid (0.025 V spacing), x Km_factor; ``measured``: the cell's own +-0.4 V
    ngspice sweep with its additive offsets removed (I(V1,V2) - I(V1,0) - I(0,V2) +
    I(0,0): trimmed at its null)."""
    TABLES.mkdir(parents=True, exist_ok=True)
    if measured:
        path = TABLES / "measured_pm04_trimmed.csv"
        import csv
        rows = list(csv.DictReader(open(MEASURED_04)))
        d = {(float(r["V1"]), float(r["V2"])): float(r["I_measured"]) for r in rows}
        d = {(a + 0.0, b + 0.0): v for (a, b), v in d.items()}
        v1s = sorted({a for a, _ in d})
        lines = ["V1,V2,I_measured"]
        for a in v1s:
            for b in v1s:
                trimmed = d[(a, b)] - d[(a, 0.0)] - d[(0.0, b)] + d[(0.0, 0.0)]
                lines.append(f"{a!r},{b!r},{trimmed!r}")
        path.write_text("\n".join(lines) + "\n")
        return str(path)
    path = TABLES / f"poly_pm{Vsat:g}_Km{Km_factor:g}.csv"
    n = int(round(2 * Vsat / 0.025)) + 1
    v = np.linspace(-Vsat, Vsat, n)
    m = M0
    lines = ["V1,V2,I_measured"]
    for a in v:
        for b in v:
            g = 1 + a * (m["a1"] + m["b1"] * a) + b * (m["a2"] + m["b2"] * b)
            lines.append(f"{float(a)!r},{float(b)!r},{float(KM * Km_factor * a * b * g)!r}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def table_blocks(table: str, offsets=False, Km=1.0, Iref=1.0, act_off=True):
    b = blocks(mult_off=False, Km=Km, Iref=Iref, act_off=act_off)
    mlt = {"law": "table", "table": table, "Km": KM * Km}
    if offsets:
        mlt.update({k: M0[k] for k in MOFF})
    b["multiplier"] = mlt
    return b


def part_range(E):
    """(b): the multiplier's range. The learners' output weights end beyond +-0.2 V (the
    fitted range) where the polynomial law extrapolates; here the cell is held at its
    edge beyond +-Vsat."""
    res = {}
    for tag, sizes in NETWORKS.items():
        runs = [] if MEASURED_04 is None else [
            (f"{tag} range: measured +-0.4 V table, trimmed", range_table(0, measured=True),
             False)]
        runs += [(f"{tag} range: poly law held beyond +-{V:g} V, trimmed", range_table(V), False)
                 for V in (0.2, 0.3, 0.4, 0.6, 0.8)]
        for name, t, off in runs:
            res.update(run_batch([(name, config(sizes, E, table_blocks(t, off)))]))
    return res


def part_design2(E):
    """Design changes with the range held at +-0.4 V (measured linear there) and the cells'
    nominal offsets (untrimmed): Km (Rs), Iref (Rin)."""
    res = {}
    for tag, sizes in NETWORKS.items():
        for km in (1, 2, 4):
            t = range_table(0.4, km)
            named = []
            for ir in (1, 0.5, 1 / 3):
                for w, off in TRIMS.items():
                    named.append((f"{tag} +-0.4 V range, {w}, Km x{km:g}, Iref x{ir:.2g}",
                                  config(sizes, E, table_blocks(t, off, Km=km, Iref=ir))))
            res.update(run_batch(named))
    return res


def part_mc(E):
    """The PDK's mismatch sigmas (Monte Carlo sample k with seed k), polynomial law, at the
    cells' design and at larger Km / smaller Iref, with no technique, the chopper and
    autozero (as `reproduce cancellation` runs them)."""
    res = {}
    for tag, sizes in NETWORKS.items():
        for km, ir in ((1, 1), (4, 0.5)):
            cfg = config(sizes, E, blocks(Km=km, Iref=ir), mismatch=CELLS["mismatch"])
            res.update(run_batch([(f"{tag} PDK mismatch, Km x{km:g} Iref x{ir:g}, none", cfg)],
                                 mc=True))
            for P in (4, 16):
                c = canc.technique_config(cfg, "chopper", {}, periods=P)
                res.update(run_batch([(f"{tag} PDK mismatch, Km x{km:g} Iref x{ir:g}, "
                                       f"chopper {P}/row", c)], mc=True))
            c = canc.technique_config(cfg, "autozero", {}, C_az=1e-12)
            res.update(run_batch([(f"{tag} PDK mismatch, Km x{km:g} Iref x{ir:g}, autozero "
                                   "1 pF", c)], mc=True))
        # nominal untrimmed offsets (no mismatch) under the chopper / autozero
        cfg = config(sizes, E, blocks())
        c = canc.technique_config(cfg, "chopper", {}, periods=4)
        res.update(run_batch([(f"{tag} untrimmed nominal, chopper 4/row", c)]))
        c = canc.technique_config(cfg, "autozero", {}, C_az=1e-12)
        res.update(run_batch([(f"{tag} untrimmed nominal, autozero 1 pF", c)]))
    return res


def part_type2(E):
    """The hidden layer's gradient against the offsets: the Type2 stage's gain R_E K_E
    (the derivative cell's Kd is 0.045 of the exact Vamp Km / Iref, so the hidden layer's
    error comes out 0.045 x too small; R_E K_E = 22 restores it), with the nominal
    offsets, unlimited (polynomial) and within +-0.4 V (table)."""
    res = {}
    for tag, sizes in NETWORKS.items():
        named = []
        for ke in (1, 5, 10, 22):
            for km, ir in ((1, 1), (2, 1), (4, 1), (4, 0.5)):
                named.append((f"{tag} untrimmed, R_E K_E {ke:g}, Km x{km:g} Iref x{ir:g}",
                              config(sizes, E, blocks(KE=ke, Km=km, Iref=ir))))
        res.update(run_batch(named))
        for km in (1, 4):
            t = range_table(0.4, km)
            named = []
            for ke in (1, 10, 22):
                for ir in ((1, 0.5) if km == 4 else (1,)):
                    for w, off in TRIMS.items():
                        b = table_blocks(t, off, Km=km, Iref=ir)
                        if ke != 1:
                            b["type2"] = {"R_E": 1e4 * ke, "K_E": 1e-4}
                        named.append((f"{tag} +-0.4 V range, {w}, R_E K_E {ke:g}, Km x{km:g}"
                                      f" Iref x{ir:g}", config(sizes, E, b)))
            res.update(run_batch(named))
    return res


def part_final(E):
    """The recommended point: untrimmed nominal offsets, the chopper (4 periods a row), the
    multiplier held at +-0.4 V (its measured linear range), Km x1 and x2."""
    res = {}
    for tag, sizes in NETWORKS.items():
        for km in (1, 2):
            cfg = config(sizes, E, table_blocks(range_table(0.4, km), True, Km=km))
            c = canc.technique_config(cfg, "chopper", {}, periods=4)
            res.update(run_batch([(f"{tag} +-0.4 V range, untrimmed, Km x{km:g}, chopper 4/row",
                                   c)]))
    return res


KETA_R_OUT = 49.7e-6 * 1.297e6  # the SkyWater charging cell at tt: Keta R_out = 64.5
VOFF_CELL = -12.66e-9 / 49.7e-6  # V: its output at zero gradient, -I0/Keta = -0.255 mV


def charging_rows(E, leaks, offsets, demodulator="input"):
    """The design point (+-0.4 V range, untrimmed, Km x2, the chopper at 4 periods a row,
    its demodulator at ``demodulator``) with the charging cell's output resistance as a
    leak divided by each ``A`` of ``leaks`` (None: no leak) and its input offset ``Voff``
    each of ``offsets`` (V)."""
    res = {}
    where = "" if demodulator == "input" else f" demodulator {demodulator},"
    for tag, sizes in NETWORKS.items():
        base = canc.technique_config(
            config(sizes, E, table_blocks(range_table(0.4, 2), True, Km=2)), "chopper", {},
            periods=4).replace(offset_cancellation={"demodulator": demodulator})
        named = []
        for A in leaks:
            for voff in offsets:
                leak = {} if A is None else {"R_leak": A * KETA_R_OUT / base.constants.Keta}
                named.append((f"{tag} design point,{where} leak "
                              f"{'none' if A is None else f'/{A:g}'}, Voff {voff * 1e6:.1f} uV",
                              base.replace(nonideal={"Voff": voff, **leak})))
        res.update(run_batch(named))
    return res


def part_charging(E):
    """The charging cell at its weight (docs/cells.md, "A network with the glue cells"):
    its output resistance as a leak (``t_row/(R_leak C) = lambda/(A Keta R_out)``), divided
    by the gain ``A`` of an integrator whose virtual ground it would drive, and its input
    offset ``Voff`` (the cell's -0.255 mV, a tenth, a hundredth of it, none), outside the
    chopper."""
    return charging_rows(E, (1, 100, 1e3, 1e4, None),
                         (0.0, VOFF_CELL / 100, VOFF_CELL / 10, VOFF_CELL))


def part_charging_output(E):
    """``part_charging`` with the chopper's demodulator on the sources' output currents
    (``demodulator = "output"``): the source's offset inside the chopper."""
    return charging_rows(E, (1, 100, 1e3, None), (VOFF_CELL, 10 * VOFF_CELL), "output")


# The error cell's Voff spread (`aann characterize error --mismatch 8`, tt_mm, 27 C): not
# in CELLS["mismatch"] (the rows of `mc` ran with an ideal error block).
ERROR_MISMATCH = {"error.Voff": 0.0107}
MM_GROUPS = {  # part `mismatch`: the blocks a group of sigmas sits in
    **{f"{r} multipliers": tuple(f"multiplier.{r}.{k}" for k in ("Km", *MOFF))
       for r in ROLES},
    "activation": ("activation.Vamp", "activation.Iref", "activation.Ioff", "activation.Voff"),
    "derivative": ("derivative.Kd", "derivative.Vref"),
    "error": ("error.Voff",)}


def pdk_sigmas(keys=None, scale=1.0, scales=None, cells=None) -> dict:
    """The PDK's sigmas (``cells["mismatch"]``, default :data:`CELLS`'s, and the error
    cell's) as a [mismatch] section,
    every multiplier key given per role (``"multiplier.forward.Ioff"``): ``keys`` only
    those (``"multiplier.Ioff"``: in every role), every one x ``scale``, and those in
    ``scales`` (key: factor) x their factor besides. The others get 1e-30 of their sigma
    (nominal to the last bit, an offset of 0 within 1e-32 V): every section then draws the
    same instance arrays (sample k the same z as with every sigma), so all run as one batch,
    one compile."""
    cells = CELLS if cells is None else cells
    every = {**{k: v for k, v in cells["mismatch"].items() if k != "seed"}, **ERROR_MISMATCH}
    every = {e: v for k, v in every.items() for e in (
        [f"multiplier.{r}.{k.split('.')[1]}" for r in ROLES] if k.startswith("multiplier.")
        else [k])}
    out = {"seed": CELLS["mismatch"]["seed"]}
    for k, v in every.items():
        kind, *rest = k.split(".")
        generic = f"{kind}.{rest[-1]}"
        f = scale if keys is None or k in keys or generic in keys else 1e-30
        f = f * (scales or {}).get(k, (scales or {}).get(generic, 1.0)) or 1e-30  # x0: 1e-30
        out[k] = f"{float(v[:-1]) * f:.6g}%" if isinstance(v, str) else v * f
    return out


def design_point(sizes, E, mismatch=None, periods=4, law="polynomial"):
    """The design point (``part_final``, ``part_design2``): untrimmed (the fitted offsets),
    ``Km`` x2, the chopper at ``periods`` a row, the error block ``difference`` (Voff 0);
    ``law`` ``"polynomial"`` (the fitted law, unbounded: a ``Km`` sigma scales its
    current) or ``"table"`` (held at +-0.4 V: ``Km`` only reads its products)."""
    b = blocks(Km=2) if law == "polynomial" else table_blocks(range_table(0.4, 2), True, Km=2)
    return canc.technique_config(config(sizes, E, b, mismatch=mismatch), "chopper", {},
                                 periods=periods)


FWD_IOFF = "multiplier.forward.Ioff"


def mismatch_terms(E):
    """Part ``mismatch``, (a)-(d): which sigmas stop XOR at the design point."""
    res = {}
    for tag, sizes in NETWORKS.items():
        res.update(run_batch([(f"{tag} MM nominal (no mismatch)", design_point(sizes, E))]))
        res.update(run_batch([(f"{tag} MM (a) all, +-0.4 V table", design_point(
            sizes, E, pdk_sigmas(), law="table"))], mc=True))
        named = [(f"{tag} MM (a) all", design_point(sizes, E, pdk_sigmas()))]
        named += [(f"{tag} MM (b) {g} only", design_point(sizes, E, pdk_sigmas(keys)))
                  for g, keys in MM_GROUPS.items()]
        consts = [f"multiplier.{k}" for k in ("Km", *MOFF)] + [
            k for k in (*CELLS["mismatch"], *ERROR_MISMATCH)
            if k.split(".")[0] in ("activation", "derivative")]
        named += [(f"{tag} MM (c) {k} only", design_point(sizes, E, pdk_sigmas((k,))))
                  for k in consts]
        named += [(f"{tag} MM (d) all x{f:g}", design_point(sizes, E, pdk_sigmas(scale=f)))
                  for f in (0.5, 0.25, 0.1)]
        res.update(run_batch(named, mc=True))
    return res


def mismatch_cures(E):
    """Part ``mismatch``, (c') the breaking constants by role, (e) the chopper at 16 a row,
    (f) the forward multipliers' Ioff scaled, alone and with every other sigma, (g) 3E
    epochs."""
    res = {}
    for tag, sizes in NETWORKS.items():
        named = [(f"{tag} MM (c') multiplier.{r}.{k} only", design_point(
            sizes, E, pdk_sigmas((f"multiplier.{r}.{k}",))))
            for r, k in (("forward", "Ioff"), ("forward", "Voff1"), ("charge", "Ioff"),
                         ("charge", "Voff1"), ("delta", "Ioff"))]
        named += [(f"{tag} MM (f) {FWD_IOFF} x{f:g} only", design_point(
            sizes, E, pdk_sigmas((FWD_IOFF,), f))) for f in (0.5, 0.25, 0.1)]
        named += [(f"{tag} MM (f) all, {FWD_IOFF} x{f:g}", design_point(
            sizes, E, pdk_sigmas(scales={FWD_IOFF: f}))) for f in (0.25, 0.1, 0)]
        res.update(run_batch(named, mc=True))
        P = 16
        named = [(f"{tag} MM (e) chopper {P}/row, {n}", design_point(sizes, E, m, periods=P))
                 for n, m in (("all", pdk_sigmas()), ("all x0.5", pdk_sigmas(scale=0.5)),
                              ("all x0.25", pdk_sigmas(scale=0.25)),
                              ("forward multipliers only",
                               pdk_sigmas(MM_GROUPS["forward multipliers"])),
                              ("charge multipliers only",
                               pdk_sigmas(MM_GROUPS["charge multipliers"])),
                              ("multiplier.Ioff only", pdk_sigmas(("multiplier.Ioff",))),
                              (f"all, {FWD_IOFF} x0.25", pdk_sigmas(scales={FWD_IOFF: 0.25})),
                              (f"all, {FWD_IOFF} x0.1", pdk_sigmas(scales={FWD_IOFF: 0.1})))]
        res.update(run_batch(named, mc=True))
        res.update(run_batch([(f"{tag} MM (g) {FWD_IOFF} only, {3 * E} epochs", design_point(
            sizes, 3 * E, pdk_sigmas((FWD_IOFF,))))], mc=True))
        res.update(mismatch_targets(tag, sizes, E))
    return res


def mismatch_targets(tag, sizes, E):
    """Part ``mismatch``, (h): every sigma, the multiplier's (every role) scaled: its
    ``Ioff``; its ``Ioff`` and ``Voff1``; all four of its constants; at 4 and 16 a row."""
    mult = {f"multiplier.{k}" for k in ("Km", *MOFF)}
    sets = {"multiplier.Ioff": {"multiplier.Ioff"},
            "multiplier.Ioff, Voff1": {"multiplier.Ioff", "multiplier.Voff1"},
            "every multiplier sigma": mult}
    res = {}
    for P, fs in ((4, (0.25, 0.1)), (16, (0.25, 0.1))):
        named = [(f"{tag} MM (h) chopper {P}/row, all, {n} x{f:g}", design_point(
            sizes, E, pdk_sigmas(scales=dict.fromkeys(keys, f)), periods=P))
            for n, keys in sets.items() for f in fs]
        res.update(run_batch(named, mc=True))
    return res


def mismatch_why(E, tag="2-2-1") -> dict:
    """Part ``mismatch``: the numbers behind its two failures, sample k (seed k) of the
    PDK's sigmas at the design point on ``tag``.

    ``forward``: the forward multipliers' ``Ioff`` (outside the chopper) is a current
    into each neuron's input; per hidden neuron the sum over its multipliers (bias
    included) in units of ``Iref``, the bias weight that would cancel it (``-I/(Km S)``),
    the derivative at the initial weights against its peak (mean over the rows).
    ``charge``: the charge multipliers' offsets (inside the chopper) move no weight over a
    row but make it ripple, a triangle below its row-start value by ``lambda Vos/(2P)``
    at its peak (``Vos`` what reaches the source at zero error): during the rows the
    network runs with each weight shifted by the triangle's mean ``-lambda Vos/(4P)``,
    and learns for those weights; without the chopper's clock (after training, or at the
    row ends where the MSE is recorded) the stored ones are off by that much. Trained
    with only the charge multipliers' sigmas, the MSE at the stored weights against the
    MSE with each row's weights so shifted (and, as a control, shifted the other way)."""
    import jax.numpy as jnp

    sizes = NETWORKS[tag]
    out = {}
    cfg = design_point(sizes, E, pdk_sigmas((FWD_IOFF,)))
    km, iref = cfg.blocks.multiplier.Km, cfg.blocks.activation.Iref
    ds = aann.datasets.for_config(cfg)
    rows = []
    nominal = aann.build_circuit(design_point(sizes, E))
    for k in range(SEEDS):
        v = aann.Variant(cfg, k, sample=k)
        circ = v.circuit()
        fwd = circ.block("multiplier.forward", 0)
        i_sum = np.asarray(fwd.Ioff).sum(axis=1)
        W0 = [jnp.asarray(w) for w in aann.random_weights(sizes, k, cfg.training.init_range)]
        vd_peak = np.asarray(circ.block("derivative", 0).Vd(jnp.zeros(sizes[1])))

        def vd(c, W0=W0, vd_peak=vd_peak):  # the hidden derivative at W0 / its peak
            v = np.array([np.asarray(c.forward(W0, jnp.asarray(x)).Vd[0]) for x in ds.X])
            return (v.mean(axis=0) / vd_peak).round(2).tolist()

        rows.append({"I_over_Iref": (i_sum / iref).round(2).tolist(),
                     "bias_weight_V": (-i_sum / (km * S)).round(3).tolist(),
                     "Vd_over_peak": vd(circ), "Vd_over_peak_nominal": vd(nominal)})
    out["forward"] = {"Iref": iref, "Km": km, "init_range": cfg.training.init_range,
                      "per_sample": rows}
    # the charge multipliers: the ripple's mean against the stored weights
    cfg = design_point(sizes, E, pdk_sigmas(MM_GROUPS["charge multipliers"]))
    P = cfg.offset_cancellation.periods_per_row
    probe = cfg.replace(offset_cancellation={"method": "autozero", "C_az": canc.C_AZ})
    variants = [aann.Variant(cfg, k, sample=k) for k in range(SEEDS)]
    r = aann.train_variants(variants)
    X, Y = jnp.asarray(ds.X), np.asarray(ds.Y)[:, 0]
    per, vos_all = [], []
    for k, v in enumerate(variants):
        circ = v.circuit()
        held = aann.build_circuit(probe, sample=k)
        W = [jnp.asarray(np.asarray(w)[k]) for w in r.W_final]
        mse = {}
        for name, sign in (("stored", 0.0), ("ripple mean", -1.0), ("control (+)", 1.0)):
            o = []
            for x, y in zip(X, Y):
                vos = held.autozero_sample(W, x, jnp.asarray([y]), 1.0)
                vos_all.append(np.concatenate([np.asarray(a).ravel() for a in vos]))
                Ws = [w + sign * cfg.lam * a / (4 * P) for w, a in zip(W, vos)]
                o.append(float(np.asarray(circ.output(Ws, x))[0]))
            mse[name] = float(np.mean((np.array(o) - Y) ** 2))
        per.append(mse)
    vos_all = np.concatenate(vos_all)
    out["charge"] = {"lambda": cfg.lam, "P": P, "Vos_rms": float(np.sqrt(np.mean(vos_all ** 2))),
                     "shift_rms": float(cfg.lam * np.sqrt(np.mean(vos_all ** 2)) / (4 * P)),
                     "goal": goal_of(cfg), "mse": per}
    return out


def part_mismatch(E):
    """Which of the PDK's mismatch sigmas stop XOR at the design point (chopper 4 a row,
    Km x2, untrimmed; polynomial law, whose Km sigma scales the current; Monte Carlo
    sample k with seed k), and what cures it (docs/cells.md, "What does not, yet"); the
    numbers of :func:`mismatch_why` go to OUT/mismatch_why.json."""
    res = {**mismatch_terms(E), **mismatch_cures(E)}
    why = mismatch_why(E)
    (TABLES.parent / "mismatch_why.json").write_text(json.dumps(why, indent=1))
    print(json.dumps(why, indent=1))
    return res


# `aann characterize multiplier_lm` at tt, 27 C (docs/cells.md, "Low-mismatch multiplier"):
# its polynomial law and its tt_mm sigmas over 8 samples
MULTIPLIER_LM = {"law": "polynomial", "Km": 0.00012724932461000398,
                 "Voff1": -0.00024999057351878434, "Voff": 3.572175739008625e-05,
                 "Ioff": -1.655730147753031e-09, "a1": 0.1950559870055231,
                 "a2": 0.020278343618655933, "b1": 1.0240557481498977,
                 "b2": -1.3667890329208108}
CELLS_LM = {"blocks": {**CELLS["blocks"], "multiplier": MULTIPLIER_LM},
            "mismatch": {**CELLS["mismatch"], "multiplier.Km": "0.231%",
                         "multiplier.Voff1": 1.01e-3, "multiplier.Voff": 0.901e-3,
                         "multiplier.Ioff": 60.1e-9}}


A_INTEGRATOR = 8490  # aann_integrator: the charging cell's leak A R_out, A = 8490 at tt
A_CHOPPED = 87000  # the chopped differential path (aann.cells.chopped): 113 GOhm at tt
RESIDUE_CHOPPED = 1.25e-6  # V: its input-referred offset left by the chopper, rms of 4
# PDK mismatch samples at 400 kHz (0.06 to 1.83 uV): a per-instance offset outside it


def lm_blocks() -> dict:
    """The cells' blocks with ``multiplier_lm`` (:data:`MULTIPLIER_LM`) as the multiplier."""
    return {**blocks(), "multiplier": dict(MULTIPLIER_LM)}


def lm_mismatch(residue: float = 1.0, keys=None) -> dict:
    """Every cell's PDK sigmas (``multiplier_lm``'s own; ``keys``: only those, as
    :func:`pdk_sigmas`) and the chopped differential path's residue x ``residue`` as a
    per-instance sigma of the source's ``Voff``."""
    return {**pdk_sigmas(keys=keys, cells=CELLS_LM), "Voff": residue * RESIDUE_CHOPPED}


def chopped_path(cfg):
    """``cfg`` with the chopped differential path's leak (``A_CHOPPED R_out`` at its Keta)."""
    return cfg.replace(nonideal={"R_leak": A_CHOPPED * KETA_R_OUT / cfg.constants.Keta})


def part_multiplier_lm(E):
    """The design point with ``multiplier_lm`` in every multiplier role (its own fitted law
    and ``Km``, 1.94 times the old cell's, untrimmed), nominal and with the PDK's sigmas
    (its own and the other cells', as in part ``mismatch``), the chopper at 4 and 16 a
    row; and the charging path as built: the charging cell's offset (``Voff``) and its
    leak through ``aann_integrator`` (``R_leak = A R_out``), the chopper demodulating its
    current; and the chopped differential path in cells (its leak, and what its chopper
    leaves as a per-instance offset sigma outside the chopper, x1 and x2)."""
    res = {}
    b = lm_blocks()

    def built(cfg):  # the charging cell's offset, its leak through the integrator
        return cfg.replace(nonideal={"Voff": VOFF_CELL, "R_leak": A_INTEGRATOR * KETA_R_OUT
                                     / cfg.constants.Keta},
                           offset_cancellation={"demodulator": "output"})
    for tag, sizes in NETWORKS.items():
        for P in (4, 16):
            def at(mismatch=None, sizes=sizes, P=P):
                return canc.technique_config(config(sizes, E, b, mismatch=mismatch),
                                             "chopper", {}, periods=P)
            res.update(run_batch([(f"{tag} multiplier_lm, chopper {P}/row, nominal", at())]))
            res.update(run_batch(
                [(f"{tag} multiplier_lm, chopper {P}/row, PDK mismatch x{f:g}",
                  at(pdk_sigmas(scale=f, cells=CELLS_LM))) for f in (1, 2)], mc=True))
            res.update(run_batch(
                [(f"{tag} multiplier_lm, chopper {P}/row at the output, the charging cell's "
                  f"Voff and leak via the integrator, PDK mismatch x{f:g}",
                  built(at(pdk_sigmas(scale=f, cells=CELLS_LM)))) for f in (1, 2)], mc=True))
            res.update(run_batch(
                [(f"{tag} multiplier_lm, chopper {P}/row, the chopped differential path's "
                  f"leak and residue x{r:g}, PDK mismatch",
                  chopped_path(at(lm_mismatch(r)))) for r in (1, 2)], mc=True))
    return res


def part_speed(E):
    """How few epochs the co-simulated network can learn in (ngspice takes tens of seconds
    an epoch): the 2-3-1 with ``multiplier_lm`` (its fitted law and offsets, untrimmed),
    the chopper at 1 or 4 periods a row, over the initial weights' range and ``lambda``
    (solver 16 steps a row: the large ``lambda`` rows are resolved); ``epoch_to_goal``
    per seed in the results. The first design of examples/cells_xor.toml (until the
    charging cells' own chopper): 0.1 V, ``lambda`` 60, one period a row."""
    b = lm_blocks()
    res = {}
    for P in (1, 4):
        for init in (0.05, 0.1, 0.15, 0.2, 0.4):
            for lam in (10.0, 30.0, 60.0, 100.0):
                if P == 1 and init != 0.1:
                    continue
                res.update(run_batch([(
                    f"2-3-1 multiplier_lm, chopper {P}/row, init {init:g} V, lambda {lam:g}",
                    canc.technique_config(config((2, 3, 1), E, b, lam=lam, steps=16, init=init),
                                          "chopper", {}, periods=P))]))
    return res


def part_speed_mismatch(E):
    """The speed study's designs under the PDK's mismatch (as part ``multiplier_lm``'s
    last rows: every cell's sigmas, ``multiplier_lm``'s own, the chopped differential
    path's leak and residue; network k is Monte Carlo sample k): how many of 8 samples
    learn at each ``lambda`` and initial range, one chopper period a row. The example's
    first design (``lambda`` 60, +-0.1 V) learned for 2 of 8 in 100 epochs, and its PDK
    samples 0 and 1 did not learn in ngspice."""
    b, mismatch = lm_blocks(), lm_mismatch()
    res = {}
    for init in (0.03, 0.1):
        for lam in (10.0, 30.0, 60.0):
            cfg = chopped_path(canc.technique_config(
                config((2, 3, 1), E, b, lam=lam, steps=16, init=init, mismatch=mismatch),
                "chopper", {}, periods=1))
            res.update(run_batch([(f"2-3-1 multiplier_lm, chopper 1/row, init {init:g} V, "
                                   f"lambda {lam:g}, PDK mismatch, chopped path", cfg)],
                                 mc=True))
    return res


def part_mismatch_seed0(E):
    """The PDK's sigmas (as part ``speed_mismatch``) with every network starting from
    seed 0's weights, as the ngspice runs of PDK samples do (network k: sample k). (a)
    At the example's first design (``lambda`` 60, chopper 1/row, +-0.1 V): which sigmas,
    left out, let it learn. (b) ``lambda`` 30 and 60 at 1, 2, 4, 8 chopper periods a row.
    (c) Candidate designs without mismatch, seeds 0..7 (the tt seeds' claim)."""
    b, every = lm_blocks(), lm_mismatch()
    keys = [k for k in every if k != "seed"]
    charge = [k for k in keys if k.startswith("multiplier.")
              and not k.startswith("multiplier.forward.")]

    def only(kept):  # the others x 1e-30 (pdk_sigmas): the same draws, nominal to the bit
        return lm_mismatch(1.0 if "Voff" in kept else 1e-30, keys=kept)

    def at(mismatch, lam=60.0, P=1):
        return chopped_path(canc.technique_config(
            config((2, 3, 1), E, b, lam=lam, steps=16, init=0.1, mismatch=mismatch),
            "chopper", {}, periods=P))

    tag = "2-3-1 multiplier_lm, +-0.1 V, chopped path"
    res = run_batch([(f"{tag}, lambda 60, chopper 1/row, seed 0, {name}", at(mm)) for name, mm in (
        ("every PDK sigma", every), ("no sigma", only([])),
        ("all but the delta/charge/type2 multipliers'", only([k for k in keys if k not in charge])),
        ("all but the chopped path's residue", only([k for k in keys if k != "Voff"])),
        ("all but those two", only([k for k in keys if k != "Voff" and k not in charge])),
        ("only the delta/charge/type2 multipliers'", only(charge)),
        ("only the chopped path's residue", only(["Voff"])))], mc=True, seed=0)
    for lam in (30.0, 60.0):
        for P in (1, 2, 4, 8):
            res.update(run_batch([(f"{tag}, lambda {lam:g}, chopper {P}/row, seed 0, every "
                                   "PDK sigma", at(every, lam, P))], mc=True, seed=0))
    for lam, P in ((30.0, 2), (45.0, 4), (60.0, 4), (60.0, 8)):
        res.update(run_batch([(f"{tag}, lambda {lam:g}, chopper {P}/row, seeds 0-7, no sigma",
                               at(only([]), lam, P))], mc=True))
    return res


def chopped_pole_design(E, t_row=10e-6):
    """``at(mismatch, lam, P, init=0.1)``: the 2-3-1 of ``multiplier_lm`` on the chopped
    path, its multipliers' poles as :func:`part_chopped_pole` says for rows of ``t_row``
    (s), ``lambda``, the chopper ``P`` periods a row, initial weights within +-``init`` V,
    ``E`` epochs."""
    scale = t_row / 1e-12  # the cells' row over the study's
    b = lm_blocks()
    b["multiplier"] = {**b["multiplier"], **{role: {"f3dB": f * scale}
                                              for role, f in ROLE_POLES.items()}}

    def at(mismatch, lam, P, init=0.1):
        cfg = config((2, 3, 1), E, b, lam=lam, init=init, mismatch=mismatch)
        # steps = "auto": enough for lambda and for the fastest pole in each half period
        # (technique_config spreads a row's steps over the half periods, poles unseen)
        return chopped_path(canc.technique_config(cfg, "chopper", {}, periods=P)).replace(
            solver={"steps": "auto"})

    return at


def part_chopped_pole(E):
    """``mismatch_seed0`` with the multipliers' poles as their chopped gain measures them
    (docs/cells.md, "Bandwidth"; ``multiplier_lm`` at tt, the share of a square wave kept
    at 200 and 800 kHz as a first-order pole would keep it), each at its role's operating
    point: delta (input 1 the chopped error, input 2 the derivative, about 1 mV) 1.05 MHz;
    charge and Type2 (input 1 the chopped delta, input 2 an input or a weight, 0.05 to
    0.2 V) 1.3 MHz; forward (input 2 the inputs, stepping at every row edge; input 1 a
    weight) 0.95 MHz; for a 10 us row (scaled to the study's 1 ps row). (a) seed 0, every
    PDK sigma, ``lambda`` 30 and 60 at 1, 2, 4, 8 chopper periods a row; (b) seeds 0..7
    without sigma at the two designs run in ngspice (``lambda`` 60 at 1/row, ``lambda``
    30 at 2/row)."""
    at, every, none = chopped_pole_design(E), lm_mismatch(), lm_mismatch(1e-30, keys=[])
    tag = "2-3-1 multiplier_lm, +-0.1 V, chopped path, chopped-gain poles"
    res = {}
    for lam in (30.0, 60.0):
        for P in (1, 2, 4, 8):
            res.update(run_batch([(f"{tag}, lambda {lam:g}, chopper {P}/row, seed 0, every "
                                   "PDK sigma", at(every, lam, P))], mc=True, seed=0))
    for lam, P in ((60.0, 1), (30.0, 2)):
        res.update(run_batch([(f"{tag}, lambda {lam:g}, chopper {P}/row, seeds 0-7, no sigma",
                               at(none, lam, P))], mc=True))
    return res


def part_chopped_pole_designs(E):
    """With the chopped-gain poles (:func:`part_chopped_pole`): designs for both claims,
    ``lambda`` 30, 45, 60, 90 x the chopper 1, 2, 4 periods a row x initial weights
    within +-0.07, 0.1, 0.14 V; each as seeds 0..7 without sigma (the tt seeds' claim:
    3 of seeds 0..3) and as 8 PDK-sigma samples from seed 0 (the samples' claim)."""
    at, every, none = chopped_pole_design(E), lm_mismatch(), lm_mismatch(1e-30, keys=[])
    res = {}
    for P in (1, 2, 4):
        grid = [(lam, init) for lam in (30.0, 45.0, 60.0, 90.0) for init in (0.07, 0.1, 0.14)]
        name = "2-3-1 multiplier_lm, chopped path, chopped-gain poles, lambda {:g}, chopper " \
            f"{P}/row, +-{{:g}} V, {{}}"
        res.update(run_batch([(name.format(lam, init, "seeds 0-7, no sigma"),
                               at(none, lam, P, init)) for lam, init in grid], mc=True))
        res.update(run_batch([(name.format(lam, init, "seed 0, every PDK sigma"),
                               at(every, lam, P, init)) for lam, init in grid],
                             mc=True, seed=0))
    return res


def part_chopped_pole_rows(E):
    """With the chopped-gain poles: the chopper at 200 kHz (each chopped multiplier keeps
    0.88) with more periods a row in longer rows, 2/row at 10 us, 4/row at 20 us, 8/row at
    40 us (``C`` grown with ``t_row``: ``lambda`` kept), ``lambda`` 30, 45 and 60, +-0.1 V;
    seeds 0..7 without sigma and 8 PDK-sigma samples from seed 0."""
    every, none = lm_mismatch(), lm_mismatch(1e-30, keys=[])
    res = {}
    for P, t_row in ((2, 10e-6), (4, 20e-6), (8, 40e-6)):
        at = chopped_pole_design(E, t_row)
        name = f"2-3-1 multiplier_lm, chopped path, chopped-gain poles, {t_row * 1e6:g} us rows, " \
            f"chopper {P}/row, lambda {{:g}}, {{}}"
        res.update(run_batch([(name.format(lam, "seeds 0-7, no sigma"), at(none, lam, P))
                              for lam in (30.0, 45.0, 60.0)], mc=True))
        res.update(run_batch([(name.format(lam, "seed 0, every PDK sigma"), at(every, lam, P))
                              for lam in (30.0, 45.0, 60.0)], mc=True, seed=0))
    return res


def plain_design(E):
    """``at(mismatch, lam, P)``: the 2-3-1 of ``multiplier_lm`` on the chopped path, the
    chopper ``P`` periods a row, initial weights within +-0.1 V, 16 steps a row, ``E``
    epochs (:func:`chopped_pole_design` without the poles)."""
    def at(mismatch, lam, P):
        return chopped_path(canc.technique_config(
            config((2, 3, 1), E, lm_blocks(), lam=lam, steps=16, init=0.1, mismatch=mismatch),
            "chopper", {}, periods=P))

    return at


def part_phase(E):
    """The chopper clock's phase (``[offset_cancellation] phase``, docs/cancellation.md):
    at 0 the ripple an offset leaves on a weight within a row lies to one side of its
    row-end value (mean ``lambda Vos / (4P)``), at 90 its mean is zero. The designs of
    ``mismatch_seed0`` (``lambda`` 60 and 30, 1, 2 and 4 periods a row) at both phases:
    8 PDK-sigma samples from seed 0, and seeds 0..7 without sigma; without and with the
    multipliers' chopped poles (:func:`chopped_pole_design`)."""
    every, none = lm_mismatch(), lm_mismatch(1e-30, keys=[])
    plain, poles = plain_design(E), chopped_pole_design(E)

    res = {}
    for tag, at in (("", plain), (", chopped-gain poles", poles)):
        for lam, P in ((60.0, 1), (60.0, 2), (60.0, 4), (30.0, 1), (30.0, 2)):
            for phase in (0, 90):
                name = (f"2-3-1 multiplier_lm, +-0.1 V, chopped path{tag}, lambda {lam:g}, "
                        f"chopper {P}/row, phase {phase}, {{}}")
                res.update(run_batch([(name.format("seed 0, every PDK sigma"), at(
                    every, lam, P).replace(offset_cancellation={"phase": phase}))],
                    mc=True, seed=0))
                res.update(run_batch([(name.format("seeds 0-7, no sigma"), at(
                    none, lam, P).replace(offset_cancellation={"phase": phase}))], mc=True))
    return res


VOFF_CHARGING_DIFF = 5.26e-3  # V: aann_charging_diff's un-chopped offset (-I_stopped /
# Keta at 400 kHz), rms of 8 PDK mismatch samples (aann.cells.chopped.measure_path(seed=1,
# samples=8): -4.49, 6.65, 0.02, -3.88, 9.36, -4.13, 5.38, 2.83 mV)
RESIDUE_CHARGING_CHOPPED = 2.5e-6  # V: the path's residue with the cells' own chopper at
# 800 kHz inside the network's at 100 kHz, rms of 4 samples (3.66, -2.80, -2.04, -0.03 uV)


def part_charging_ripple(E):
    """The charging cell's own offset, inside the chopper: the chopper cancels its mean over
    each period, but at one period a row it rides every weight as a triangle of ``lambda
    Voff / (4 P)``, tens of millivolts (docs/cells.md, "The charging cells' own chopper").
    The design of the ngspice runs (``lambda`` 30, one period a row, phase 90), 8 PDK-sigma
    samples from seed 0, without and with the multipliers' chopped poles: the chopped
    path's residue outside the chopper (the studies above); the cell's un-chopped offset
    inside it instead (``demodulator = "output"``, ``Voff`` sigma
    :data:`VOFF_CHARGING_DIFF`); and that offset under the charging cells' own chopper
    at ``N`` periods a row (``[offset_cancellation] charging_periods``: its triangle ``N``
    times smaller); and the residue that chopper leaves (:data:`RESIDUE_CHARGING_CHOPPED`)
    outside. One ``Voff`` a source: the triangle and the residue are not modelled
    together."""
    plain, poles = plain_design(E), chopped_pole_design(E)

    res = {}
    for tag, at in (("", plain), (", chopped-gain poles", poles)):
        for what, voff, n in (("the chopped path's residue outside the chopper",
                               RESIDUE_CHOPPED, 0),
                              ("the residue with the cells' own chopper at 8/row (2.5 uV) "
                               "outside it", RESIDUE_CHARGING_CHOPPED, 0),
                              ("the charging cell's offset inside it", VOFF_CHARGING_DIFF, 0),
                              *((f"that offset under its own chopper at {n}/row",
                                 VOFF_CHARGING_DIFF, n) for n in (4, 8, 16))):
            inside = voff not in (RESIDUE_CHOPPED, RESIDUE_CHARGING_CHOPPED)
            cfg = at({**pdk_sigmas(cells=CELLS_LM), "Voff": voff}, 30.0, 1).replace(
                offset_cancellation={"phase": 90, "charging_periods": n,
                                     "demodulator": "output" if inside else "input"})
            res.update(run_batch([(f"2-3-1 multiplier_lm, +-0.1 V, chopped path{tag}, lambda "
                                   f"30, chopper 1/row, phase 90, seed 0, every PDK sigma, "
                                   f"{what}", cfg)], mc=True, seed=0))
    return res


PARTS = {"ideal": part_ideal, "baseline": part_baseline, "derivative": part_derivative,
         "swing": part_swing, "design": part_design, "more": part_more, "range": part_range,
         "design2": part_design2, "mc": part_mc, "type2": part_type2,
         "final": part_final, "charging": part_charging,
         "charging_output": part_charging_output, "mismatch": part_mismatch,
         "multiplier_lm": part_multiplier_lm, "speed": part_speed,
         "speed_mismatch": part_speed_mismatch, "mismatch_seed0": part_mismatch_seed0,
         "chopped_pole": part_chopped_pole, "chopped_pole_designs": part_chopped_pole_designs,
         "chopped_pole_rows": part_chopped_pole_rows, "phase": part_phase,
         "charging_ripple": part_charging_ripple}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--parts", default=",".join(["gain", *PARTS]))
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--measured-sweep", type=Path, default=None)
    a = ap.parse_args(argv)
    global MEASURED_04, TABLES
    MEASURED_04, TABLES = a.measured_sweep, Path(a.out) / "tables"
    out = Path(a.out) / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    store = json.loads(out.read_text()) if out.exists() else {}
    for p in a.parts.split(","):
        t = time.time()
        if p == "gain":
            g = gain_numbers()
            g["smallest_2_2_1"] = smallest_xor_weights(2)
            g["smallest_2_3_1"] = smallest_xor_weights(3)
            for km, ir in ((2, 1), (4, 1), (1, 0.5), (2, 0.5)):
                g[f"smallest_2_2_1_Km{km:g}_Iref{ir:g}"] = smallest_xor_weights(2, gain_mul=km,
                                                                               gain_iref=ir)
            store["gain"] = g
            print(json.dumps(g, indent=1))
        else:
            res = PARTS[p](a.epochs)
            store.setdefault("runs", {}).update(res)
            print(f"\n## {p} ({time.time() - t:.0f} s, {a.epochs} epochs)\n")
            print(fmt_table(res))
        sys.stdout.flush()
        out.write_text(json.dumps(store, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
