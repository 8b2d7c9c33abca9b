"""Figures that look like the paper's: learning curves (Figs. 9-11, 13) and
transient waveforms (Fig. 8). Every function returns a matplotlib Figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; never needs a screen

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .io import atomic_savefig  # noqa: E402

STYLE = {"figure.figsize": (5.0, 3.4), "font.size": 9, "axes.grid": True,
         "grid.alpha": 0.3, "lines.linewidth": 1.0, "savefig.dpi": 200}


def learning_curves(results, title: str | None = None, log: bool = True, ax=None):
    """MSE after each epoch, one line per initial weight set."""
    with plt.rc_context(STYLE):
        fig, ax = _axes(ax)
        epochs = np.arange(1, results.epochs_done + 1)
        for b, seed in enumerate(results.seeds):
            ax.plot(epochs, results.mse[b], label=f"seed {seed}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("MSE [V$^2$]")
        if log:
            ax.set_yscale("log")
        ax.set_xlim(1, max(epochs[-1], 2))
        t_row = results.config.training.t_row
        ax.set_title(title or f"{results.config.network.topology}, "
                     f"t_row = {t_row * 1e12:g} ps ({results.engine})")
        if results.n_networks <= 10:
            ax.legend(fontsize=6, ncol=2)
        return fig


def waveforms(results, network: int = 0, ax=None):
    """``Vtarget``, ``Vout`` and ``Vteach`` against time in ps (Fig. 8)."""
    wf = results.waveforms
    with plt.rc_context(STYLE):
        fig, ax = _axes(ax)
        t = wf["time"] * 1e12
        for i in range(wf["Vtarget"].shape[2]):
            suffix = f"{i + 1}" if wf["Vtarget"].shape[2] > 1 else ""
            ax.plot(t, wf["Vtarget"][network][:, i], label=f"Vtarget{suffix}",
                    drawstyle="steps-post")
            ax.plot(t, wf["Vout"][network][:, i], label=f"Vout{suffix}")
        ax.plot(t, wf["Vteach"][network], label="Vteach", drawstyle="steps-post", linestyle="--")
        ax.set_xlabel("t [ps]")
        ax.set_ylabel("V [V]")
        ax.set_xlim(t[0], t[-1])
        ax.legend(fontsize=7, loc="best")
        return fig


def save(fig, path) -> None:
    """Write ``fig`` atomically (PNG, SVG or PDF by the suffix) and close it."""
    atomic_savefig(fig, path)
    plt.close(fig)


def _axes(ax):
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(constrained_layout=True)
    return fig, ax
