"""Text output for people: the per-network summary table of a training run."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table

from .results import MSE_GOAL, Results
from .units import format_quantity


def summary_table(results: Results) -> Table:
    """Per network: final MSE, train and test accuracy (a classification), first epoch
    below 0.01, peak charging current vs Imax."""
    cfg = results.config
    Imax = cfg.constants.Imax
    table = Table(title=(f"{cfg.network.topology} on {cfg.training.dataset}, "
                         f"t_row = {format_quantity(cfg.training.t_row, 's')}, "
                         f"lambda = {cfg.lam:.4g}, {results.epochs_done} epochs, "
                         f"{results.engine}"))
    accuracy = [name for name in ("train_accuracy", "test_accuracy") if name in results.metrics]
    for col in ("seed", "final MSE", *(n.replace("_", " ") for n in accuracy),
                f"first epoch MSE<{MSE_GOAL:g}", "peak Icharged", "peak / Imax", "Vw range [V]",
                "status"):
        table.add_column(col, justify="right")
    first = results.first_epoch_below()
    peak = results.peak_current_max
    diverged = results.diverged_epoch
    wr = results.weight_range
    for b, seed in enumerate(results.seeds):
        status = f"DIVERGED at epoch {diverged[b]}" if diverged[b] else "ok"
        final = f"{results.mse[b, -1]:.3g}" if results.epochs_done else "-"
        known = np.isfinite(peak[b])  # an engine without the figure gives NaN
        shown = [f"{results.final(n)[b]:.1%}" if results.epochs_done else "-" for n in accuracy]
        table.add_row(str(seed), final, *shown, str(first[b] or "never"),
                      format_quantity(peak[b], "A") if known else "-",
                      f"{peak[b] / Imax:.3g}" if known else "-",
                      f"{wr[b, 0]:+.2f} .. {wr[b, 1]:+.2f}", status)
    return table


def print_summary(results: Results, console: Console | None = None) -> None:
    console = console or Console()
    console.print(summary_table(results))
    diverged = results.diverged_epoch
    n_ok = int(((results.first_epoch_below() > 0) & (diverged == 0)).sum())
    console.print(f"{n_ok} of {results.n_networks} networks reached MSE < {MSE_GOAL:g}; "
                  f"simulated in {results.wall_seconds:.2f} s")
    if results.energy is not None:
        from .energy import describe

        console.print(describe(results.energy), highlight=False)
    ds = results.dataset
    if results.epochs_done and "test_accuracy" in results.metrics:
        acc = results.final("test_accuracy")
        console.print(f"test accuracy on {ds.test.rows} held-out rows: median {np.median(acc):.1%} "
                      f"(min {acc.min():.1%}, max {acc.max():.1%})"
                      + (f"; {ds.clipped} test value(s) outside the training range were clipped"
                         if ds.clipped else ""))
    if ds is not None and ds.labels is not None and results.config.training.order == \
            "sequential" and np.all(np.diff(ds.labels) >= 0):
        console.print("[yellow]hint:[/] the rows are sorted by class and applied in that "
                      "order every epoch, so each class's rows undo the last's; \\[training] "
                      "order = \"shuffle\" applies them in a new random order each epoch")
    reasons = results.diverged_reason
    for b, seed in enumerate(results.seeds):
        if diverged[b]:
            console.print(f"[red]seed {seed} diverged at epoch {diverged[b]}:[/] "
                          f"{reasons[b].value}; its figures are not to be trusted")
    over = results.peak_current_max.max() / results.config.constants.Imax
    if over > 1:
        c = results.config
        console.print(
            f"[yellow]warning:[/] the peak charging current is {over:.3g} x Imax "
            f"({format_quantity(c.constants.Imax, 'A')}): a real source could not deliver it. "
            f"Keeping lambda, t_row >= {format_quantity(c.training.t_row * over, 's')} "
            "(with Keta scaled down) stays within Imax; or set \\[nonideal] current_limit = "
            "\"clip\" (or \"tanh\") to simulate the limited source.")
    limits = results.limits()
    for name in ("retention", "settling"):  # (the current's has its own warning above)
        if name in limits:
            console.print(f"[yellow]warning:[/] {limits[name]}")
