"""E2, Figs. 9-11: XOR on 2-8-1, ten initial weight sets, three analogue learning rates.

``t_row`` = 0.01, 0.1 and 1 ps (``lambda`` = 0.1, 1 and 10 with the default
``Keta / C = 1e13 1/s``), 1000 epochs, initial weights seeds 0..9 uniform in
(-1, 1) V, rows applied in order. MSE after each epoch as SPEC section 2 defines it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..results import MSE_GOAL
from ._common import md_table, save_figure, sig, write_csv
from .report import write_fragment

T_ROWS = (0.01e-12, 0.1e-12, 1e-12)
NAMES = {0.01e-12: "small", 0.1e-12: "optimal", 1e-12: "big"}
FIGURES = {0.01e-12: "Fig. 9", 0.1e-12: "Fig. 10", 1e-12: "Fig. 11"}
EPOCHS = 1000
SEEDS = 10
GOAL = MSE_GOAL  # the summary table's threshold (V^2)
CHECK_STEPS = 64  # the solver-convergence check: fixed steps per row


def config(t_row: float, epochs: int = EPOCHS, seeds: int = SEEDS):
    import aann

    return aann.Config().replace(training={"dataset": "xor", "t_row": t_row, "epochs": epochs,
                                           "seeds": seeds})


def stats(results) -> dict:
    """Final MSE (min, median, max), how many reach MSE < 0.01 and at which epoch."""
    final = results.mse[:, -1]
    first = results.first_epoch_below(GOAL)
    reached = first[first > 0]
    return {"final_min": float(np.nanmin(final)), "final_median": float(np.nanmedian(final)),
            "final_max": float(np.nanmax(final)), "n_reached": int(reached.size),
            "n": int(final.size), "first_epochs": [int(x) for x in first],
            "first_epoch_median": float(np.median(reached)) if reached.size else None,
            "first_epoch_min": int(reached.min()) if reached.size else None,
            "first_epoch_max": int(reached.max()) if reached.size else None,
            "diverged": int((results.diverged_epoch > 0).sum()),
            "peak_over_Imax": float(results.peak_current_max.max()
                                    / results.config.constants.Imax),
            "steps": results.engine_info.settings.get("solver", {}).get("steps"),
            "lambda": results.config.lam, "wall_seconds": results.wall_seconds}


def stats_cells(f: dict) -> list[str]:
    """Table cells of :func:`stats`: final MSE min / median / max, sets reaching the
    goal, first epoch min / median / max."""
    when = ("-" if not f["n_reached"] else
            f"{f['first_epoch_min']} / {f['first_epoch_median']:g} / {f['first_epoch_max']}")
    return [f"{sig(f['final_min'])} / {sig(f['final_median'])} / {sig(f['final_max'])}",
            f"{f['n_reached']} of {f['n']}", when]


def solver_check(results, engine: str = "native") -> dict:
    """Rerun with ``CHECK_STEPS`` fixed steps per row; the largest differences in the
    final weights and in the MSE curves say whether the default (auto) steps converged."""
    import aann

    cfg = results.config.replace(solver={"steps": CHECK_STEPS})
    ref = aann.train(cfg, engine=engine)
    dW = max(float(np.max(np.abs(a - b))) for a, b in zip(results.W_final, ref.W_final))
    dmse = float(np.max(np.abs(results.mse - ref.mse)))
    same_first = bool(np.array_equal(results.first_epoch_below(GOAL), ref.first_epoch_below(GOAL)))
    return {"steps": CHECK_STEPS, "max_dW_final": dW, "max_dmse": dmse,
            "same_first_epochs": same_first}


def combined_figure(runs: dict):
    import matplotlib.pyplot as plt

    from .. import plots

    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, len(runs), figsize=(4.0 * len(runs), 3.2), sharey=True,
                                 constrained_layout=True)
        axes = np.atleast_1d(axes)
        for ax, (t_row, r) in zip(axes, runs.items()):
            plots.learning_curves(r, ax=ax, title=f"{FIGURES.get(t_row, '')}: t_row = "
                                  f"{t_row * 1e12:g} ps ({NAMES.get(t_row, '')})")
            ax.axhline(GOAL, color="k", lw=0.6, ls=":")
            if ax is not axes[0]:
                ax.set_ylabel("")
                ax.get_legend().remove()
        return fig


def run(out, *, engine: str = "native", epochs: int = EPOCHS, seeds: int = SEEDS,
        t_rows=T_ROWS, check: bool = True, progress: bool = False) -> dict:
    import aann

    from .. import plots
    from ..io import ensure_writable_dir

    out = ensure_writable_dir(Path(out))
    runs, facts, pngs = {}, {}, []
    for t_row in t_rows:
        r = aann.train(config(t_row, epochs, seeds), engine=engine, progress=progress)
        runs[t_row] = r
        facts[t_row] = stats(r)
        fig = plots.learning_curves(
            r, title=f"{FIGURES.get(t_row, 'XOR')} reproduction: 2-8-1 XOR, t_row = "
            f"{t_row * 1e12:g} ps (lambda = {r.config.lam:g})")
        fig.axes[0].axhline(GOAL, color="k", lw=0.6, ls=":")
        pngs.append(save_figure(fig, out, f"xor_mse_{t_row * 1e12:g}ps"))
    combined = save_figure(combined_figure(runs), out, "xor_mse_all")
    write_csv(out / "xor_mse.csv", ["t_row", "seed", "epoch", "mse"],
              ([t_row, seed, e + 1, float(r.mse[b, e])]
               for t_row, r in runs.items() for b, seed in enumerate(r.seeds)
               for e in range(r.epochs_done)))
    checks = {}
    if check:
        big = max(t_rows)
        checks[big] = solver_check(runs[big], engine)
    write_fragment(out, "xor", _section(facts, checks, pngs, combined, epochs, seeds, engine))
    return {"rates": facts, "solver_check": checks}


def _section(facts, checks, pngs, combined, epochs, seeds, engine) -> str:
    rows = []
    for t_row, f in facts.items():
        rows.append([f"{t_row * 1e12:g} ps ({NAMES.get(t_row, '')})", f"{f['lambda']:g}",
                     f["steps"], *stats_cells(f), f["diverged"], f"{f['peak_over_Imax']:.3g}"])
    per_seed = [[f"{t * 1e12:g} ps"] + [x or "never" for x in f["first_epochs"]]
                for t, f in facts.items()]
    figs = "\n\n".join(f"![{name}]({png})" for name, png in
                       zip([FIGURES.get(t, "") for t in facts], pngs))
    check_text = ""
    for t_row, c in checks.items():
        verdict = ("the auto steps are solver-converged"
                   if c["max_dmse"] < 1e-6 and c["same_first_epochs"] else
                   "the auto steps are NOT fully converged: read the curves at this rate "
                   "with that in mind")
        check_text += (
            f"- solver check at `t_row` = {t_row * 1e12:g} ps (`lambda` = "
            f"{facts[t_row]['lambda']:g}, auto = {facts[t_row]['steps']} Tsit5 steps per row): "
            f"rerun with {c['steps']} steps per row; largest difference of the final weights "
            f"{c['max_dW_final']:.2g} V, of any epoch's MSE {c['max_dmse']:.2g} V^2, first "
            f"epochs below {GOAL:g} {'identical' if c['same_first_epochs'] else 'differ'}: "
            f"{verdict}.\n")
    small, opt = facts.get(min(facts)), facts.get(0.1e-12)
    slower = ""
    if small and opt and min(facts) < 0.1e-12:
        slower = (f"- the small rate converges visibly slower: {small['n_reached']} of "
                  f"{small['n']} sets reach {GOAL:g} within {epochs} epochs (median final MSE "
                  f"{sig(small['final_median'])}), against {opt['n_reached']} of {opt['n']} "
                  f"at 0.1 ps (median first epoch "
                  f"{opt['first_epoch_median'] if opt['first_epoch_median'] else '-'}).\n")
    big_note = ""
    big = facts.get(max(facts))
    if big and max(facts) > 0.1e-12 and opt and big["n_reached"] >= opt["n_reached"]:
        big_note = (
            f"Unlike a 'big' rate in discrete SGD, {max(facts) * 1e12:g} ps (`lambda` = "
            f"{big['lambda']:g}) does not destabilise training here: {big['n_reached']} of "
            f"{big['n']} sets reach {GOAL:g} (median epoch {big['first_epoch_median']}). Within a "
            "row the circuit follows the continuous gradient flow of that row's error, which "
            "cannot overshoot however long the row is held; a long row only makes the weights "
            "fit the current row more closely before the next one (whether the paper's Fig. 11 "
            "is irregular cannot be read from the paper's text). ")
    return f"""## E2 - Figs. 9-11: XOR learning curves at three learning rates

Network 2-8-1 (33 weight capacitors), XOR (`Vin` in {{0, 1}} V, `Vtarget` in {{0, 1}} V),
{seeds} initial weight sets (seeds 0..{seeds - 1}, uniform in (-1, 1) V), {epochs} epochs,
rows in order, `Vteach` = 1 V, default constants (`Keta/C` = 1e13 1/s); engine `{engine}`.
Data: `xor_mse.csv` (`t_row,seed,epoch,mse`, `t_row` in s). The dotted line is MSE = {GOAL:g}.

![Figs. 9-11 side by side]({combined})

{figs}

Per rate (MSE in V^2; first epoch with MSE < {GOAL:g}: min / median / max over the sets
that reach it):

{md_table(["t_row", "lambda", "Tsit5 steps/row", "final MSE min / median / max",
           f"sets with MSE < {GOAL:g}", "first epoch min / median / max", "diverged",
           "peak Icharged / Imax"], rows)}

First epoch with MSE < {GOAL:g}, per initial weight set (seed 0..{seeds - 1}):

{md_table(["t_row"] + [f"seed {s}" for s in range(seeds)], per_seed)}

Measured facts:

{slower}{check_text}
Compared with the paper: the paper shows ten curves per rate (its figures are images;
its text says only that the circuit converges and that speed and stability depend on the
hyperparameters, and it calls 0.01 ps small, 0.1 ps optimal and 1 ps big). Like the
paper, the small rate is far slower than the optimal one. {big_note}The paper's initial
weights are unknown, so individual curves cannot match line for line. The charging
currents needed at these rates exceed the paper's 100 uA limit by the factor in the last
column, the same at every rate since the current does not depend on `t_row` (see E4 for
the training time the limit implies).
"""
