"""Beyond the paper: which offsets self-training absorbs, and yield against mismatch.

The paper's Eq. 17 puts one offset on one multiplier input. A real circuit has
offsets on both inputs and the output of every multiplier role and on the
Type1 error block. For each such placement (13: ``Voff1``, ``Voff``, ``Ioff``
of the forward, delta, charge and type2 multipliers, and the error block's
``Voff``), XOR is trained on 2-8-1 at ``t_row`` = 0.1 ps for 1000 epochs from
seeds 0..9 with the offset at 1, 3, 10 and 30 mV in that one place (all other
blocks ideal), beside the offset-free run. An output offset ``Ioff`` is given as
the current an input offset ``V`` makes with the other operand at 1 V:
``Ioff = Km * V * 1 V`` (0.1 .. 3 uA). All 530 networks run as one batch (one
circuit per network). Then the yield (MSE < 0.01, Wilson 95 % interval) over
100 Monte Carlo samples against the mismatch sigma of ``Km`` (every role),
``Iref`` and ``C`` at 1, 3, 10 and 20 %.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ._common import md_table, save_figure, sig, write_csv
from .report import write_fragment

T_ROW = 0.1e-12
EPOCHS = 1000
SEEDS = 10
SIZES = (1e-3, 3e-3, 10e-3, 30e-3)  # V
KM = 1e-4  # A/V^2, the default multiplier gain
GOAL = 0.01
SIGMAS = (0.01, 0.03, 0.10, 0.20)
MISMATCHED = {"Km": "multiplier.Km", "Iref": "activation.Iref", "C": "C"}
SAMPLES = 100

ROLE_OPERANDS = {"forward": ("Vw", "x"), "delta": ("VE", "Vd"), "charge": ("Vdelta", "x"),
                 "type2": ("Vdelta", "Vw")}

# Why an offset in each place is, or is not, absorbed. The rule: the charging current
# must vanish when the output error does. An offset that only multiplies the error
# signal (or sits in the forward path, which training fits anyway) leaves that zero in
# place; one added to the error path makes a current of its own at zero error, so the
# weights settle where the error cancels it (a residual error) or drift.
MECHANISM = {
    "forward.Voff1": ("absorbed", "adds Km*Voff1*x to each product: the same as shifting "
                                  "the weight, which training moves back"),
    "forward.Voff": ("absorbed", "shifts the neuron input by Vw*Voff: the bias weight "
                                 "absorbs it; the charge path still sees the unshifted x, a "
                                 "small error in the gradient's direction only"),
    "forward.Ioff": ("absorbed", "a constant current into every neuron's sum: a bias, "
                                 "which the bias weight absorbs"),
    "delta.Voff1": ("residual", "Vdelta = (VE + Voff1) Vd is zero at VE = -Voff1: the "
                                "output settles Voff1 off its target (MSE floor Voff1^2), "
                                "and every hidden neuron settles with an error of -Voff1 too, "
                                "which the output layer has to fit around"),
    "delta.Voff": ("absorbed", "Vdelta = VE (Vd + Voff): still zero at zero error; it only "
                               "raises the learning gain of saturated neurons"),
    "delta.Ioff": ("residual", "Vdelta gets Ioff/Km at zero error; the output settles where "
                               "VE Vd = -Ioff/Km, i.e. |VE| >= 4 Ioff/(Km * 1 V) since Vd <= "
                               "0.25 V"),
    "charge.Voff1": ("drift", "Icharged = -Keta (Vdelta + Voff1) x: a current of its own at "
                              "zero error on every weight; the bias weights (x0 = 1 V) must "
                              "hold every neuron's Vdelta at -Voff1, which the hidden layer "
                              "cannot for all rows"),
    "charge.Voff": ("absorbed", "Icharged = -Keta Vdelta (x + Voff): zero at zero error"),
    "charge.Ioff": ("drift", "a constant charging current Keta*Ioff/Km into every "
                             "capacitor, error or not: as charge.Voff1 with x = 1 V"),
    "type2.Voff1": ("drift", "the hidden error gets K_E R_E Voff1 sum_k Vw_kj at zero "
                             "output error: the hidden weights keep moving while the output "
                             "layer compensates"),
    "type2.Voff": ("absorbed", "IE = K_E Vdelta (Vw + Voff): zero at zero error"),
    "type2.Ioff": ("drift", "a constant hidden error R_E K_E n Ioff/Km at zero output "
                            "error: as type2.Voff1"),
    "error.Voff": ("residual", "VE = Vout - Vtarget + Voff is zero at Vout = Vtarget - Voff: "
                               "the output settles Voff off its target (MSE floor Voff^2)"),
}
PLACEMENTS = tuple(MECHANISM)


def base_config(epochs: int = EPOCHS, seeds: int = SEEDS):
    import aann

    return aann.Config(training={"dataset": "xor", "t_row": T_ROW, "epochs": epochs,
                                 "seeds": seeds, "record": "mse"})


def offset_value(placement: str, size: float) -> float:
    """The offset in SI units: ``size`` volts, or for an ``Ioff`` the current
    ``Km * size * 1 V``."""
    return KM * size * 1.0 if placement.endswith("Ioff") else size


def offsets_variants(config, assignments, weights):
    """The networks of the offsets batch (:class:`aann.Variant`): network b is ``config``
    with the offset ``assignments[b] = (placement, value)`` (or None: none), started
    from ``weights[b]`` (``{"seed", "layers"}``). Trained together
    (:func:`aann.train_variants`), every offset constant is stacked over the networks
    (0 where a network has none), one compiled call for all."""
    import aann

    out = []
    for a, w in zip(assignments, weights):
        cfg = config
        if a is not None:
            (where, op), value = a[0].split("."), a[1]
            cfg = config.replace(blocks={"error": {op: value}} if where == "error" else
                                 {"multiplier": {where: {op: value}}})
        out.append(aann.Variant(cfg, w["seed"], weights=w["layers"]))
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k / n``."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _learned(results) -> np.ndarray:
    import aann

    return results.learned(aann.Goal("mse", GOAL))


def run_offsets(epochs: int, seeds: int, engine: str, progress: bool) -> dict:
    """Every placement at every size, seeds 0..seeds-1 each, in one batch."""
    import aann

    cfg = base_config(epochs, seeds)
    cases = [(None, 0.0)] + [(p, s) for p in PLACEMENTS for s in SIZES]
    assignments, weights = [], []
    sets = [aann.random_weights((2, 8, 1), s, 1.0) for s in range(seeds)]
    for placement, size in cases:
        for s in range(seeds):
            assignments.append(None if placement is None else
                               (placement, offset_value(placement, size)))
            weights.append({"seed": s, "layers": sets[s]})
    r = aann.train_variants(offsets_variants(cfg, assignments, weights), engine=engine,
                            progress=progress)
    learned, final = _learned(r), r.mse[:, -1]
    table = {}
    for c, (placement, size) in enumerate(cases):
        sl = slice(c * seeds, (c + 1) * seeds)
        table[(placement, size)] = {"learned": int(learned[sl].sum()),
                                    "median": float(np.median(final[sl])),
                                    "final": final[sl].tolist(),
                                    "flags": learned[sl].tolist()}
    return {"table": table, "cases": cases, "wall": r.wall_seconds}


def run_yield(epochs: int, samples: int, engine: str, progress: bool) -> dict:
    """Yield over ``samples`` Monte Carlo samples per (constant, sigma)."""
    import aann

    cfg = base_config(epochs, samples)
    out = {}
    nominal = aann.train(cfg, engine=engine, progress=progress)
    k0 = int(_learned(nominal).sum())
    for name, key in MISMATCHED.items():
        out[(name, 0.0)] = {"learned": k0, "n": samples}
        for sigma in SIGMAS:
            r = aann.train(cfg.replace(mismatch={"seed": 0, key: f"{sigma * 100:g}%"}),
                           engine=engine, progress=progress)
            out[(name, sigma)] = {"learned": int(_learned(r).sum()), "n": samples}
    return out


def _figure(off: dict, seeds: int):
    import matplotlib.pyplot as plt

    from .. import plots

    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), constrained_layout=True)
        grid = np.array([[off["table"][(p, s)]["learned"] for s in SIZES] for p in PLACEMENTS])
        base = off["table"][(None, 0.0)]["learned"]
        ax = axes[0]
        im = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=seeds, aspect="auto")
        ax.grid(False)
        ax.set_xticks(range(len(SIZES)), [f"{s * 1e3:g}" for s in SIZES])
        ax.set_yticks(range(len(PLACEMENTS)), PLACEMENTS, fontsize=7)
        ax.set_xlabel("offset [mV] (Ioff: Km x offset x 1 V)")
        ax.set_title(f"seeds reaching MSE < {GOAL:g} (of {seeds}; none: {base})", fontsize=8)
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                ax.text(j, i, str(grid[i, j]), ha="center", va="center", fontsize=7)
        fig.colorbar(im, ax=ax, shrink=0.7)
        ax = axes[1]
        for k, p in enumerate(PLACEMENTS):
            med = [off["table"][(p, s)]["median"] for s in SIZES]
            ax.semilogy([s * 1e3 for s in SIZES], med, marker="o", ms=3, lw=0.9,
                        color=plt.cm.tab20(k % 20), label=p)
        ax.axhline(off["table"][(None, 0.0)]["median"], color="k", lw=0.8, ls="--",
                   label="no offset")
        ax.axhline(GOAL, color="k", lw=0.5, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("offset [mV]")
        ax.set_ylabel("median final MSE")
        ax.legend(fontsize=5.5, ncol=2)
        return fig


def _yield_figure(yld: dict, samples: int):
    import matplotlib.pyplot as plt

    from .. import plots

    with plt.rc_context(plots.STYLE):
        fig, ax = plt.subplots(figsize=(5, 3.4), constrained_layout=True)
        xs = (0.0, *SIGMAS)
        for n, name in enumerate(MISMATCHED):
            k = np.array([yld[(name, s)]["learned"] for s in xs])
            lo, hi = np.array([wilson(int(v), samples) for v in k]).T
            p = k / samples  # (rounding can put p a hair outside its interval)
            shift = 0.25 * (n - 1)  # side by side where the yields coincide
            ax.errorbar([s * 100 + shift for s in xs], p,
                        yerr=np.clip([p - lo, hi - p], 0, None), marker="os^"[n % 3], ms=4,
                        capsize=2, label=f"sigma of {name}")
        ax.set_xlabel("mismatch sigma [%]")
        ax.set_ylabel(f"yield (MSE < {GOAL:g})")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"XOR 2-8-1, {samples} Monte Carlo samples per point", fontsize=8)
        ax.legend(fontsize=7)
        return fig


def run(out, *, engine: str = "native", epochs: int = EPOCHS, seeds: int = SEEDS,
        samples: int = SAMPLES, progress: bool = False) -> dict:
    from ..io import ensure_writable_dir

    out = ensure_writable_dir(Path(out))
    off = run_offsets(epochs, seeds, engine, progress)
    yld = run_yield(epochs, samples, engine, progress)
    write_csv(out / "offsets.csv", ["placement", "offset", "unit", "seed", "final_mse",
                                    "learned"],
              ([p or "none", offset_value(p, s) if p else 0.0, "A" if p and
                p.endswith("Ioff") else "V", k, float(v), int(ok)]
               for (p, s), row in off["table"].items()
               for k, (v, ok) in enumerate(zip(row["final"], row["flags"]))))
    write_csv(out / "offsets_yield.csv", ["constant", "sigma", "samples", "learned",
                                          "yield", "wilson_low", "wilson_high"],
              ([name, sigma, row["n"], row["learned"], row["learned"] / row["n"],
                *wilson(row["learned"], row["n"])] for (name, sigma), row in yld.items()))
    fig = save_figure(_figure(off, seeds), out, "offsets")
    fig_y = save_figure(_yield_figure(yld, samples), out, "offsets_yield")
    facts = {"offsets": off, "yield": yld, "verdicts": verdicts(off, seeds)}
    write_fragment(out, "offsets", _section(facts, fig, fig_y, epochs, seeds, samples, engine))
    return facts


FLOOR = 1.2  # a median final MSE this many times the offset-free one is a raised floor


def verdicts(off: dict, seeds: int) -> dict:
    """Per placement, what the measurements say, with the smallest size it applies from:
    ``absorbed`` (at every size as many seeds learn as without offset and the median
    final MSE is at most ``FLOOR`` times the offset-free one), ``floor`` (as many
    learn, but the final MSE rises), ``breaks`` (fewer seeds learn)."""
    t = off["table"]
    base = t[(None, 0.0)]
    out = {}
    for p in PLACEMENTS:
        fewer = [s for s in SIZES if t[(p, s)]["learned"] < base["learned"]]
        worse = [s for s in SIZES if t[(p, s)]["median"] > FLOOR * base["median"]]
        if fewer:
            out[p] = ("breaks", fewer[0])
        elif worse:
            out[p] = ("floor", worse[0])
        else:
            out[p] = ("absorbed", None)
    return out


def _section(facts, fig, fig_y, epochs, seeds, samples, engine) -> str:
    off, yld, verd = facts["offsets"], facts["yield"], facts["verdicts"]
    t = off["table"]
    base = t[(None, 0.0)]
    header = ["placement (operands)"] + [f"{s * 1e3:g} mV" for s in SIZES] + [
        "measured", "expected (mechanism)"]
    rows = []
    agree = 0
    for p in PLACEMENTS:
        role, _, op = p.partition(".")
        operands = ("VE = Vout - Vtarget + Voff" if role == "error" else
                    f"{op} on " + {"Voff1": ROLE_OPERANDS[role][0],
                                   "Voff": ROLE_OPERANDS[role][1],
                                   "Ioff": "the output"}[op])
        kind, at = verd[p]
        measured = kind if at is None else f"{kind} from {at * 1e3:g} mV"
        expected = MECHANISM[p][0]
        agree += (kind == "absorbed") == (expected == "absorbed")
        rows.append([f"`{p}` ({operands})",
                     *[f"{t[(p, s)]['learned']}/{seeds}, {sig(t[(p, s)]['median'], 2)}"
                       for s in SIZES], measured, expected])
    absorbed = [p for p in PLACEMENTS if verd[p][0] == "absorbed"]
    not_absorbed = [p for p in PLACEMENTS if verd[p][0] != "absorbed"]
    why = "\n".join(f"- `{p}`: measured {verd[p][0]}"
                    + (f" (from {verd[p][1] * 1e3:g} mV)" if verd[p][1] else "")
                    + f"; {MECHANISM[p][1]}." for p in PLACEMENTS)
    y_rows = []
    for name in MISMATCHED:
        cells = []
        for s in (0.0, *SIGMAS):
            row = yld[(name, s)]
            lo, hi = wilson(row["learned"], row["n"])
            cells.append(f"{row['learned']}/{row['n']} [{lo:.2f}, {hi:.2f}]")
        y_rows.append([name, *cells])
    def yield_fact(name):
        counts = [yld[(name, s)]["learned"] for s in (0.0, *SIGMAS)]
        if len(set(counts)) == 1:
            return f"`{name}`: {counts[0]}/{samples} at every sigma up to {SIGMAS[-1] * 100:g} %"
        low = int(np.argmin(counts))
        return (f"`{name}`: {counts[0]}/{samples} without mismatch, lowest {counts[low]}/"
                f"{samples} at {(0.0, *SIGMAS)[low] * 100:g} %")

    y_facts = "; ".join(yield_fact(name) for name in MISMATCHED)
    nominal_low = {name: wilson(yld[(name, 0.0)]["learned"], samples)[0] for name in MISMATCHED}
    drops = [name for name in MISMATCHED  # an interval wholly below the one without mismatch
             if any(wilson(yld[(name, s)]["learned"], samples)[1] < nominal_low[name]
                    for s in SIGMAS)]
    y_note = ("No sigma lowers the yield beyond the interval of the run without mismatch: a "
              "gain mismatch changes each weight's learning rate (`Km`, `C`) and each "
              "neuron's slope (`Iref`, with its derivative block matched to it no longer), but "
              "not where the charging currents vanish, so training absorbs it."
              if not drops else
              f"The yield drops beyond its interval for {', '.join(drops)}.")
    return f"""## Beyond the paper - offsets where they sit, and yield against mismatch

The paper simulates one multiplier offset (Eq. 17, on input 2 of every
multiplier). Here each offset sits in one place alone: `Voff1` (input 1),
`Voff` (input 2) or `Ioff` (output) of one multiplier role, or `Voff` of the
Type1 error block, every other block ideal. XOR on 2-8-1 at `t_row` = 0.1 ps,
{epochs} epochs, seeds 0..{seeds - 1}, offsets of {", ".join(f"{s * 1e3:g}" for s in SIZES)} mV;
an output offset is `Ioff = Km * V * 1 V` for the same `V` (the output offset an input
offset `V` makes when the other operand is at 1 V; 0.1 to 3 uA). All
{len(off['cases']) * seeds} networks ran as one batch (one circuit per network) in
{off['wall']:.1f} s; engine `{engine}`. Without offsets {base['learned']}/{seeds} seeds reach
MSE < {GOAL:g} (median final MSE {sig(base['median'])}). Data: `offsets.csv`,
`offsets_yield.csv`.

![Offsets: seeds that learn and median final MSE]({fig})

Each cell: seeds reaching MSE < {GOAL:g}, median final MSE. "absorbed": every size
learns as often as without offset and the median final MSE stays within {FLOOR:g}x of the
offset-free one; "floor": as many learn but the final MSE rises above that; "breaks": fewer
seeds learn. "expected" is the mechanism's class: absorbed, residual (a residual error)
or drift (a current at zero error that no error cancels for every row).

{md_table(header, rows)}

What the numbers say: self-training absorbs {len(absorbed)} of the {len(PLACEMENTS)}
placements up to {SIZES[-1] * 1e3:g} mV ({", ".join(f"`{p}`" for p in absorbed) or "none"});
it does not absorb {", ".join(f"`{p}`" for p in not_absorbed) or "any other"}. The measured class agrees with the
mechanism below (absorbed or not) for {agree} of {len(PLACEMENTS)} placements. Why: the
weights stop moving only where every charging current is zero. An offset that only
multiplies the error signal, or sits in the forward path (which training fits anyway),
keeps that zero at zero error, so training absorbs it. An offset added to the error path
drives a current of its own at zero error: the weights settle where the error cancels it
(a residual error, an MSE floor of about the offset squared) or, where no error can cancel
it for every row, keep drifting.

{why}

### Yield against mismatch

{samples} Monte Carlo samples per point (sample k: mismatch draw k, initial weights of
seed k), one constant mismatched at a time, every instance its own draw; yield =
share reaching MSE < {GOAL:g}, with its 95 % Wilson interval.

![Yield against mismatch sigma]({fig_y})

{md_table(["sigma of", *[f"{s * 100:g} %" for s in (0.0, *SIGMAS)]], y_rows)}

Measured: {y_facts}. Without mismatch the yield is that of the random initial weights
alone (XOR at 0.1 ps); a drop beyond its interval would be the mismatch's doing. {y_note}
"""
