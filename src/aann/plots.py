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


def accuracy_curves(results, title: str | None = None, ax=None):
    """Train (dashed) and test (solid) accuracy after each epoch: the median over the
    networks, and their range shaded (a classification, docs/tasks.md)."""
    with plt.rc_context(STYLE):
        fig, ax = _axes(ax)
        epochs = np.arange(1, results.epochs_done + 1)
        for name, style, color in (("train_accuracy", "--", "C0"), ("test_accuracy", "-", "C1")):
            if name not in results.metrics:
                continue
            v = 100 * results.metrics[name]
            ax.fill_between(epochs, v.min(axis=0), v.max(axis=0), color=color, alpha=0.2,
                            lw=0)
            ax.plot(epochs, np.median(v, axis=0), style, color=color,
                    label=f"{name.split('_')[0]} (median, range of {results.n_networks})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy [%]")
        ax.set_ylim(0, 100)
        ax.set_xlim(1, max(epochs[-1], 2))
        ds = results.dataset
        ax.set_title(title or f"{results.config.network.topology} on {ds.name}, "
                     f"{ds.classes} classes ({results.engine})")
        ax.legend(fontsize=7, loc="lower right")
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


def weights(results, network: int = 0, layer: int | None = None, ax=None):
    """Weight trajectories: every weight of one network after each epoch (epoch 0:
    the initial weights), one line per capacitor; ``layer`` (from 1) keeps one layer.
    Needs the weights per epoch (``training.record = "weights"``)."""
    layers = range(len(results.W_final)) if layer is None else [layer - 1]
    with plt.rc_context(STYLE):
        fig, ax = _axes(ax)
        count = sum(results.W_final[l][network].size for l in layers)
        for l in layers:
            W = np.concatenate([results.W_init[l][network][None],
                                results.W_epoch[l][network]], axis=0)
            epochs = np.arange(W.shape[0])
            n_out, n_in = W.shape[1:]
            for j in range(n_out):
                for i in range(n_in):
                    ax.plot(epochs, W[:, j, i], label=f"W{l + 1}[{j},{i}]")
        ax.set_xlabel("epoch")
        ax.set_ylabel("Vw [V]")
        ax.set_xlim(0, max(results.epochs_done, 1))
        ax.set_title(f"{results.config.network.topology}, weights of seed "
                     f"{results.seeds[network]} ({results.engine})")
        if count <= 12:
            ax.legend(fontsize=6, ncol=2)
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
