"""Beyond the paper: the blocks as SkyWater 130 nm transistors, at every process corner.

The three cells of :mod:`aann.cells` (multiplier, sigmoid neuron, derivative) are
swept in ngspice with the SkyWater models at the corners tt, ss, ff, sf, fs (27 C);
each block law is fitted at each corner, and the tabulated law built. Then the
native engine runs a 1-2-1 network on the two-row data set with the laws of every
corner at once (one batched circuit), in three variants: the laws as fitted
(offsets included), the charge multipliers' offsets trimmed to 0, every
multiplier's offsets trimmed to 0; and at tt with the tabulated laws. Last, each
cell's mismatch at tt from the PDK's mismatch models (Monte Carlo samples, the
spread of the fitted constants) becomes ``[mismatch]`` sigmas, and the network's
yield is measured with them: as fitted, and with the offsets trimmed and the gains
mismatched.

The cells' signals are smaller than the paper's normalised ones (inputs of
+-0.2 V, outputs of 0..0.2 V, about 2 uA), so the data set is the paper's two rows
scaled to them: inputs 0 and 0.2 V, targets 0.16 and 0.04 V (0.8 and 0.2 of the
0.2 V output swing), the bias input ``Vbias`` = 0.2 V, initial weights uniform in
+-0.2 V.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cells.library import VCM
from ._common import md_table, save_figure, sig, write_csv
from .report import write_fragment

CORNERS = ("tt", "ss", "ff", "sf", "fs")
TEMP = 27.0  # degrees C
SEEDS = 4
EPOCHS = 1000
T_ROW = 1e-12  # s: lambda = 10 at Keta/C = 1e13 1/s; the cells' gradients are ~10x smaller
SCALE = 0.2  # V: the multiplier's fitted input range, the inputs' and the bias' level
X_ROWS = (0.0, 0.2)  # V: the two rows' input
Y = (0.16, 0.04)  # V: their targets (0.8 and 0.2 of the neuron's 0.2 V swing)
GOAL = 1e-4  # V^2: learned when the final MSE is below (10 mV rms)
MC_SAMPLES = 8  # Monte Carlo samples of each cell's mismatch models (tt_mm)
YIELD_SAMPLES = 20  # networks of each yield run (sample k: mismatch draw k, weights seed k)
COSIM_EPOCHS = 60  # epochs of the transistor-level co-simulation (about 25 s)
COSIM_T_ROW = 10e-6  # s: rows slow enough for the cells' MHz poles
COSIM_C = 1e-12  # F
COSIM_LAMBDA = 30.0  # lambda = Keta/C * t_row: 3x the native runs' (the cells take 0.3 s an epoch)
COSIM_RANGE = 0.4  # V: the multiplier's sweep for the co-simulation's laws (weights reach 0.33 V)
COSIM_POINTS = 17  # per input of that sweep (0.05 V steps)
VARIANTS = ("as fitted", "charge trimmed", "all trimmed")
PAPER = {"multiplier": {"Km": 1e-4, "Voff1": 0.0, "Voff": 0.0, "Ioff": 0.0, "a1": 0.0,
                        "a2": 0.0, "b1": 0.0, "b2": 0.0},
         "activation": {"Vamp": 1.0, "Iref": 1e-4, "Ioff": 0.0, "Voff": 0.0},
         "derivative": {"Kd": 1.0, "Vref": 1.0, "Ru": 1e4, "Ioff": 0.0, "Voff": 0.0}}
"""The paper's normalised defaults (SPEC section 1), beside the fitted constants."""
UNITS = {"Km": "A/V^2", "Voff1": "V", "Voff": "V", "Ioff": "A", "KI": "A", "a1": "1/V",
         "a2": "1/V", "b1": "1/V^2", "b2": "1/V^2", "Vamp": "V", "Iref": "A", "Kd": "V",
         "Vref": "V", "Ru": "Ohm"}


# --- characterization ------------------------------------------------------------------

def characterize_all(corners, points, progress: bool) -> dict:
    """``{corner: {kind: Characterization}}``, with one progress bar over every sweep."""
    from ..cells.corners import characterize_corners
    from ..progress import progress_bar

    with progress_bar(progress, total=3 * len(corners), label="characterize") as bar:
        return characterize_corners(corners, TEMP, points, update=lambda k, d: bar(k, d))


def _write_cells(out: Path, by_corner: dict) -> None:
    """Every corner's fit.toml, sweep.csv, fit.png, summary.json into
    ``out/transistor/<corner>/<cell>/``."""
    from ..cells.corners import CELL_OF
    from ..cells.outputs import write_outputs

    for corner, chars in by_corner.items():
        for kind, ch in chars.items():
            folder = out / "transistor" / corner / CELL_OF[kind]
            folder.mkdir(parents=True, exist_ok=True)
            write_outputs(ch, folder)


def cells_figure(by_corner: dict):
    """Measured (markers) and fitted (lines) curves of the three cells, every corner."""
    import matplotlib.pyplot as plt

    from .. import plots
    from ..cells.characterization import evaluate

    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), constrained_layout=True)
        for k, (corner, chars) in enumerate(by_corner.items()):
            color = plt.cm.tab10(k)
            ch = chars["multiplier"]
            V1, V2 = ch.sweep.axes
            fine = np.linspace(V1[0], V1[-1], 100)
            for j in (0, len(V2) - 1):
                axes[0].plot(V1, ch.sweep.y[:, j] * 1e6, "o", ms=2.5, color=color)
                axes[0].plot(fine, evaluate("multiplier", ch.best.block("multiplier"),
                                            (fine, V2[j])) * 1e6, color=color,
                             label=corner if j == 0 else None)
            for ax, kind in zip(axes[1:], ("activation", "derivative")):
                ch = chars[kind]
                (I,) = ch.sweep.axes
                fine = np.linspace(I[0], I[-1], 200)
                ax.plot(I * 1e6, ch.sweep.y, "o", ms=2, color=color)
                ax.plot(fine * 1e6, evaluate(kind, ch.best.block(kind), (fine,)), color=color,
                        label=corner)
        axes[0].set_xlabel("V1 [V] (V2 = -0.2 V and +0.2 V)")
        axes[0].set_ylabel("multiplier I [uA]")
        axes[1].set_xlabel("Inet [uA]")
        axes[1].set_ylabel("neuron Vout - Vcm [V]")
        axes[2].set_xlabel("Inet [uA]")
        axes[2].set_ylabel("derivative Vd - Vcm [V]")
        for ax in axes:
            ax.legend(fontsize=6)
        fig.suptitle(f"SkyWater 130 nm cells at {', '.join(by_corner)}: ngspice (markers), "
                     "fitted law (lines)", fontsize=9)
        return fig


# --- learning at every corner -----------------------------------------------------------

def network_config(by_corner: dict, out: Path, epochs: int, seeds: int):
    """The 1-2-1 description with tt's fitted laws (:data:`aann.cells.corners.CORNER_LAWS`)
    and the scaled two-row data set (written to ``out``)."""
    import aann

    from ..cells.corners import corner_sections

    data = out / "transistor_two_row.csv"
    write_csv(data, ["x1", "y1"], ([x, y] for x, y in zip(X_ROWS, Y)))
    ref = by_corner.get("tt", next(iter(by_corner.values())))
    return aann.Config().replace(
        network={"sizes": (1, 2, 1)}, constants={"Vbias": SCALE},
        training={"dataset": str(data), "t_row": T_ROW, "epochs": epochs, "seeds": seeds,
                  "record": "mse", "init_range": SCALE},
        blocks=corner_sections(ref))


def corner_variant(cfg, chars: dict, seed: int, trims: tuple):
    """Network of ``seed`` with the fitted laws of one corner (``chars``: its
    characterizations; ``Ru`` held at ``cfg``'s) and the offsets of the multiplier roles
    ``trims`` set to 0 (:class:`aann.Variant`)."""
    import aann

    from ..blocks import ROLES
    from ..cells.corners import corner_sections

    blocks = corner_sections(chars)
    blocks["derivative"].pop("Ru", None)
    zero = {"Voff1": 0.0, "Voff": 0.0, "Ioff": 0.0}
    if set(trims) == set(ROLES):  # every role: the section's own offsets
        blocks["multiplier"].update(zero)
    else:
        blocks["multiplier"].update({role: zero for role in trims})
    return aann.Variant(cfg.replace(blocks=blocks), seed,
                        weights=aann.random_weights((1, 2, 1), seed, SCALE))


def run_learning(cfg, by_corner: dict, seeds: int, engine: str, progress: bool) -> dict:
    """Every corner x variant x seed in one batch (:func:`aann.train_variants`: the
    corners' constants and the trims stacked over the networks); then tt with the
    tabulated laws."""
    import aann

    from ..blocks import ROLES

    networks = [(c, v, s) for c in by_corner for v in VARIANTS for s in range(seeds)]
    trims = {"as fitted": (), "charge trimmed": ("charge",), "all trimmed": ROLES}
    r = aann.train_variants([corner_variant(cfg, by_corner[c], s, trims[v])
                             for c, v, s in networks], engine=engine, progress=progress)
    weights = [{"seed": s, "layers": aann.random_weights((1, 2, 1), s, SCALE)}
               for s in range(seeds)]
    out = {"networks": networks, "results": r}
    if "tt" in by_corner:
        # the measured surfaces carry the cells' offsets: the table's own are 0
        sections = {kind: {"law": "table", "table": str(ch.extra["sweep_csv"])}
                    for kind, ch in by_corner["tt"].items()}
        sections["multiplier"].update(Km=cfg.blocks.multiplier.build().Km, Voff1=0.0, Voff=0.0,
                                      Ioff=0.0)
        table_cfg = cfg.replace(blocks=sections)
        out["table"] = aann.train(table_cfg, init_weights=weights, engine=engine,
                                  progress=progress)
    return out


def run_mismatch(samples: int, points: dict | None, progress: bool) -> dict:
    """``{kind: MonteCarloFits}`` of each cell at tt (:mod:`aann.cells.mismatch`)."""
    from ..cells import CELLS
    from ..cells.corners import CELL_OF
    from ..cells.mismatch import monte_carlo
    from ..progress import progress_bar

    out = {}
    with progress_bar(progress, total=3 * samples, label="mismatch") as bar:
        for n, (kind, name) in enumerate(CELL_OF.items()):
            out[kind] = monte_carlo(CELLS[name], samples, "tt", TEMP,
                                    (points or {}).get(kind),
                                    update=lambda k, d, n=n: bar(n * samples + k, d))
    return out


def mismatch_section(mc: dict, gains_only: bool = False) -> dict:
    """The ``[mismatch]`` section of every cell's sigmas (``gains_only``: the relative
    ones, the offsets left out)."""
    section = {"seed": 0}
    for kind, fits in mc.items():
        for key, (sigma, relative) in fits.sigmas().items():
            if relative:
                section[f"{kind}.{key}"] = f"{sigma * 100:.4g}%"
            elif not gains_only:
                section[f"{kind}.{key}"] = sigma
    return section


def run_yield(cfg, mc: dict, samples: int, engine: str, progress: bool) -> dict:
    """The share of ``samples`` mismatched networks that learn: the laws as fitted with
    every sigma, and every multiplier offset trimmed with the gains' sigmas only."""
    import aann

    base = cfg.replace(training={"seeds": samples})
    trimmed = base.replace(blocks={"multiplier": {"Voff1": 0.0, "Voff": 0.0, "Ioff": 0.0}})
    from ..blocks import law_class
    from ..params import params_of

    declared = {kind: params_of(law_class(kind, getattr(cfg.blocks, kind).law)) for kind in mc}
    out = {}
    for name, c, gains_only in (("as fitted", base, False),
                                ("all trimmed, gains mismatched", trimmed, True)):
        section = {k: v for k, v in mismatch_section(mc, gains_only).items()
                   if k == "seed" or k.split(".")[1] in declared[k.split(".")[0]]}
        r = aann.train(c.replace(mismatch=section), engine=engine, progress=progress)
        out[name] = {"learned": int(_learned(r).sum()), "n": samples,
                     "median": float(np.median(r.mse[:, -1]))}
    return out


def cosim_multiplier(out: Path, points: int = COSIM_POINTS):
    """The multiplier cell at tt swept over +-:data:`COSIM_RANGE` (the co-simulated
    weights leave the +-0.2 V of the corners' sweeps), written to
    ``out/transistor/tt/multiplier_cosim/``."""
    from ..cells import CELLS, characterize
    from ..cells.outputs import write_outputs

    ch = characterize(CELLS["multiplier"], "tt", TEMP, points, half=COSIM_RANGE,
                      bandwidth=False)
    folder = out / "transistor" / "tt" / "multiplier_cosim"
    folder.mkdir(parents=True, exist_ok=True)
    write_outputs(ch, folder)
    ch.extra["sweep_csv"] = str((folder / "sweep.csv").resolve())
    return ch


def cosim_sections(tt: dict, null: dict) -> dict:
    """The native side of the co-simulation, trimmed as the cells are: ``"fitted"``, the
    corners' laws fitted to ``tt`` with the multiplier's offsets 0; ``"table"``, the
    tabulated laws (the measured surfaces) with the multiplier shifted by the trim of
    its ``null``."""
    from ..cells.corners import corner_sections

    fitted = corner_sections(tt)
    fitted["multiplier"].update(Voff1=0.0, Voff=0.0, Ioff=0.0)
    table = {kind: {"law": "table", "table": str(ch.extra["sweep_csv"])}
             for kind, ch in tt.items()}
    table["multiplier"].update(Km=fitted["multiplier"]["Km"],
                               **{k: -v for k, v in null.items()})
    return {"fitted": fitted, "table": table}


def forward_tolerance(tt: dict, reach: float) -> dict:
    """The bound (V) on the difference of the cells' and the fitted laws' output of a
    1-2-1 at the same weights, when no multiplier input leaves ``+-reach`` V: the three
    multipliers into the output neuron, each off by the multiplier law's largest error
    over that square, through the neuron's steepest slope ``Vamp / (4 Iref)``, plus the
    neuron's own largest error (docs/cells.md, "Co-simulation"). Also its parts, and
    ``table_bound``, the same of the tabulated laws' largest errors at the midpoints."""
    from ..cells.characterization import evaluate, full_scale
    from ..cells.corners import CORNER_LAWS, fit_named

    m = tt["multiplier"]
    law = fit_named(m, CORNER_LAWS["multiplier"]).block("multiplier")
    inside = np.all([np.abs(x) <= reach * (1 + 1e-9) for x in m.sweep.inputs], axis=0)
    error = np.abs(evaluate("multiplier", law, m.sweep.inputs) - m.sweep.y)
    a = fit_named(tt["activation"], CORNER_LAWS["activation"])
    slope = a.constants["Vamp"] / (4 * a.constants["Iref"])
    neuron = a.max_error_pct / 100 * full_scale(tt["activation"].sweep)
    multiplier = float(np.max(error[inside]))
    # the tabulated laws' largest errors at the midpoints between their grid points
    table_m, table_a = (tt[kind].table_errors()[0] / 100 * full_scale(tt[kind].sweep)
                        for kind in ("multiplier", "activation"))
    return {"bound": 3 * multiplier * slope + neuron, "reach": reach,
            "multiplier_A": multiplier, "slope_V_per_A": slope, "neuron_V": neuron,
            "table_bound": 3 * table_m * slope + table_a}


def run_cosim_comparison(by_corner: dict, multiplier, epochs: int, engine: str,
                         progress: bool) -> dict:
    """1-2-1 at tt, seed 0, every multiplier trimmed at its null
    (:meth:`~aann.cells.characterization.Characterization.null_offsets`): the transistor
    cells in ngspice (:mod:`aann.cells.cosim`) and the native engine with the fitted
    laws and with the tabulated laws (the multiplier's of ``multiplier``, the wider
    sweep of :func:`cosim_multiplier`), on the same microsecond rows. The final outputs
    are read with learning off, after the last epoch."""
    import jax.numpy as jnp

    import aann

    from ..cells.cosim import run_cosim

    tt = {**by_corner["tt"], "multiplier": multiplier}
    null = multiplier.null_offsets()
    laws = cosim_sections(tt, null)
    Km = laws["fitted"]["multiplier"]["Km"]
    Keta = COSIM_LAMBDA * COSIM_C / COSIM_T_ROW
    W0 = aann.random_weights((1, 2, 1), 0, SCALE)
    Xa, Ya = np.array([[x] for x in X_ROWS]), np.array([[y] for y in Y])
    co = run_cosim((1, 2, 1), W0, Xa, Ya, t_row=COSIM_T_ROW, epochs=epochs, Keta=Keta,
                   C=COSIM_C, Km=Km, Vbias=SCALE, trim=null)
    # the largest multiplier input: a weight, or a signal of at most SCALE
    visited = max(SCALE, max(float(np.max(np.abs(w))) for w in co["W_epoch"]))
    grid = multiplier.sweep.axes[0]
    reach = float(grid[np.searchsorted(grid, visited - 1e-12)]) if visited <= grid[-1] \
        else float("nan")
    out = {"epochs": epochs, "null": null, "cosim_W": co["W_epoch"], "visited": visited,
           "tolerance": forward_tolerance(tt, reach) if reach == reach else None,
           "cosim_mse_rows": np.mean((co["Vout_rows"][:, :, 0] - Ya[None, :, 0]) ** 2, axis=1),
           "cosim_Vout": co["Vout_readout"][:, 0], "points": co["points"]}
    for name, sections in laws.items():
        cfg = aann.Config().replace(
            network={"sizes": (1, 2, 1)}, constants={"Vbias": SCALE, "C": COSIM_C, "Keta": Keta},
            training={"dataset": "two-row", "t_row": COSIM_T_ROW, "epochs": epochs, "seeds": 1},
            blocks=sections)
        native = aann.train(cfg, init_weights=[{"seed": 0, "layers": W0}], engine=engine,
                            progress=progress, dataset=aann.Dataset("two-row (cells)", Xa, Ya))
        circuit = aann.build_circuit(cfg)

        def outputs(W, circuit=circuit):
            return np.array([float(circuit.forward([jnp.asarray(w) for w in W],
                                                   jnp.asarray(x)).Vout[-1][0]) for x in Xa])

        W = [np.asarray(w[0]) for w in native.W_epoch]  # (epochs, n_out, n_in + 1)
        out[name] = {"mse": native.mse[0], "W": W, "Vout": outputs([w[-1] for w in W])}
    return out


def cosim_figure(co: dict):
    import matplotlib.pyplot as plt

    from .. import plots

    epochs = np.arange(1, co["epochs"] + 1)
    with plt.rc_context(plots.STYLE):
        fig, (ax, axw) = plt.subplots(1, 2, figsize=(10, 3.4), constrained_layout=True)
        ax.semilogy(epochs, co["cosim_mse_rows"], label="ngspice cells (row ends)")
        ax.semilogy(epochs, co["fitted"]["mse"], "--", label="native, fitted laws")
        ax.semilogy(epochs, co["table"]["mse"], ":", label="native, tabulated laws")
        ax.axhline(GOAL, color="0.6", lw=0.6)
        ax.set_xlabel("epoch")
        ax.set_ylabel("MSE [V$^2$]")
        ax.legend(fontsize=7)
        k = 0
        for l, (wc, wn) in enumerate(zip(co["cosim_W"], co["fitted"]["W"])):
            for j in range(wc.shape[1]):
                for i in range(wc.shape[2]):
                    color = plt.cm.tab10(k % 10)
                    axw.plot(epochs, wc[:, j, i], color=color, label=f"Vw{l + 1}[{j},{i}]")
                    axw.plot(epochs, wn[:, j, i], "--", color=color, lw=0.8)
                    k += 1
        axw.axhspan(-SCALE, SCALE, color="0.92", zorder=0)
        axw.set_xlabel("epoch")
        axw.set_ylabel("weight [V] (ngspice solid, fitted laws dashed)")
        axw.legend(fontsize=5.5, ncol=2)
        fig.suptitle("1-2-1 at tt, multipliers trimmed at their null: transistor cells in "
                     "ngspice against the native engine", fontsize=9)
        return fig


def _learned(r) -> np.ndarray:
    import aann

    return r.learned(aann.Goal("mse", GOAL))


def learning_figure(learn: dict, corners):
    import matplotlib.pyplot as plt

    from .. import plots

    r, networks = learn["results"], learn["networks"]
    epochs = np.arange(1, r.mse.shape[1] + 1)
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, len(VARIANTS), figsize=(11, 3.4), sharey=True,
                                 constrained_layout=True)
        for ax, variant in zip(axes, VARIANTS):
            for k, corner in enumerate(corners):
                rows = [b for b, (c, v, _) in enumerate(networks) if c == corner and v == variant]
                ax.semilogy(epochs, np.median(r.mse[rows], axis=0), color=plt.cm.tab10(k),
                            label=corner)
            if variant == "as fitted" and "table" in learn:
                ax.semilogy(epochs, np.median(learn["table"].mse, axis=0), "k--", lw=0.8,
                            label="tt, tabulated")
            ax.axhline(GOAL, color="k", lw=0.5, ls=":")
            ax.set_title(f"laws {variant}", fontsize=8)
            ax.set_xlabel("epoch")
            ax.legend(fontsize=6)
        axes[0].set_ylabel("median MSE [V$^2$]")
        fig.suptitle("1-2-1, two rows scaled to the cells (inputs 0 / 0.2 V, targets "
                     "0.16 / 0.04 V)", fontsize=9)
        return fig


# --- the run and its report ---------------------------------------------------------------

def run(out, *, engine: str = "native", epochs: int = EPOCHS, seeds: int = SEEDS,
        corners=CORNERS, points: dict | None = None, mc_samples: int = MC_SAMPLES,
        yield_samples: int = YIELD_SAMPLES, cosim_epochs: int = COSIM_EPOCHS,
        xor_epochs: int = 0, xor_seeds=None, xor_samples: int | None = None,
        progress: bool = False) -> dict:
    """Characterize, fit, run the network at every corner; write figures, CSVs and the
    ``transistor`` section of the report. ``xor_epochs`` > 0: also the network of cells
    that learns XOR (:mod:`aann.experiments.transistor_xor`: ``xor_seeds`` at tt, seed 0
    at the other corners of ``corners``, ``xor_samples`` PDK mismatch samples at tt)."""
    import time

    from ..cells.corners import CELL_OF
    from ..io import ensure_writable_dir

    out = ensure_writable_dir(Path(out))
    started = time.perf_counter()
    by_corner = characterize_all(corners, points, progress)
    _write_cells(out, by_corner)
    for corner, chars in by_corner.items():
        for kind, ch in chars.items():
            ch.extra["sweep_csv"] = str((out / "transistor" / corner / CELL_OF[kind] /
                                         "sweep.csv").resolve())
    characterized = time.perf_counter() - started
    cfg = network_config(by_corner, out, epochs, seeds)
    learn = run_learning(cfg, by_corner, seeds, engine, progress)
    facts = _facts(by_corner, learn, seeds, characterized)
    if mc_samples >= 2:
        mc = run_mismatch(mc_samples, points, progress)
        facts["mismatch"] = {kind: fits.sigmas() for kind, fits in mc.items()}
        facts["mismatch_samples"] = mc_samples
        facts["yield"] = run_yield(cfg, mc, yield_samples, engine, progress)
        from ..io import atomic_write

        atomic_write(out / "transistor_mismatch.toml",
                     "# [mismatch] of the three cells at tt_mm (aann reproduce transistor)\n"
                     + "[mismatch]\n" + "\n".join(
                         f'"{k}" = {v!r}' if not isinstance(v, str) else f'"{k}" = "{v}"'
                         for k, v in mismatch_section(mc).items() if k != "seed") + "\n")
    _write_csvs(out, by_corner, learn, facts)
    fig_cosim = None
    if cosim_epochs > 0 and "tt" in by_corner:
        co = run_cosim_comparison(by_corner, cosim_multiplier(out), cosim_epochs, engine,
                                  progress)
        facts["cosim"] = co
        fig_cosim = save_figure(cosim_figure(co), out, "transistor_cosim")
        write_csv(out / "transistor_cosim.csv",
                  ["epoch", "mse_cells_row_ends", "mse_native_fitted", "mse_native_table"],
                  ([e + 1, float(a), float(b), float(c)] for e, (a, b, c) in enumerate(
                      zip(co["cosim_mse_rows"], co["fitted"]["mse"], co["table"]["mse"]))))
    fig_cells = save_figure(cells_figure(by_corner), out, "transistor_cells")
    fig_learn = save_figure(learning_figure(learn, list(by_corner)), out, "transistor_learning")
    xor_text = ""
    if xor_epochs > 0:
        from . import transistor_xor

        xor = transistor_xor.run(
            out, seeds=transistor_xor.SEEDS if xor_seeds is None else tuple(xor_seeds),
            corners=tuple(c for c in corners if c in transistor_xor.CORNERS),
            pdk_samples=transistor_xor.PDK_SAMPLES if xor_samples is None else xor_samples,
            epochs=xor_epochs, progress=progress)
        facts["xor"] = xor
        xor_text = "\n### XOR on a network of cells\n\n" + transistor_xor.write(out, xor)
    facts["seconds"] = time.perf_counter() - started
    write_fragment(out, "transistor", _section(facts, by_corner, fig_cells, fig_learn, epochs,
                                               seeds, engine, fig_cosim) + xor_text)
    return facts


def _facts(by_corner, learn, seeds, characterized) -> dict:
    r, networks = learn["results"], learn["networks"]
    learned = _learned(r)
    final = r.mse[:, -1]
    wmax = np.max(np.abs(np.stack([r.W_max, -r.W_min]))[..., -1], axis=0)
    table = {}
    for corner in by_corner:
        for variant in VARIANTS:
            rows = [b for b, (c, v, _) in enumerate(networks) if c == corner and v == variant]
            table[(corner, variant)] = {"learned": int(learned[rows].sum()), "n": len(rows),
                                        "median": float(np.median(final[rows])),
                                        "wmax": float(np.max(wmax[rows]))}
    facts = {"table": table, "characterize_seconds": characterized,
             "train_seconds": r.wall_seconds}
    if "table" in learn:
        t = learn["table"]
        facts["tabulated"] = {"learned": int(_learned(t).sum()), "n": t.mse.shape[0],
                              "median": float(np.median(t.mse[:, -1]))}
    return facts


def _write_csvs(out, by_corner, learn, facts) -> None:
    rows = []
    for corner, chars in by_corner.items():
        for kind, ch in chars.items():
            s = ch.summary()
            for f in ch.fits:
                for key, value in f.constants.items():
                    rows.append([corner, kind, f.law, key, float(value), UNITS.get(key, ""),
                                 f.max_error_pct, s["table_max_error_pct"]])
    write_csv(out / "transistor_constants.csv", ["corner", "kind", "law", "constant", "value",
                                                 "unit", "law_max_error_pct",
                                                 "table_max_error_pct"], rows)
    r, networks = learn["results"], learn["networks"]
    learned = _learned(r)
    write_csv(out / "transistor_learning.csv", ["corner", "laws", "seed", "final_mse",
                                                "learned"],
              ([c, v, s, float(r.mse[b, -1]), int(learned[b])]
               for b, (c, v, s) in enumerate(networks)))


def _cosim_text(co: dict, fig: str) -> str:
    cells, fitted, table = co["cosim_Vout"], co["fitted"], co["table"]
    d_fit = float(np.max(np.abs(cells - fitted["Vout"])))
    d_table = float(np.max(np.abs(cells - table["Vout"])))
    dW = max(float(np.max(np.abs(wc[-1] - wn[-1]))) for wc, wn in zip(co["cosim_W"], fitted["W"]))
    mse = {"ngspice cells": co["cosim_mse_rows"][-1], "native, fitted laws": fitted["mse"][-1],
           "native, tabulated laws": table["mse"][-1]}
    learned = [k for k, v in mse.items() if v < GOAL]
    null, tol = co["null"], co["tolerance"]
    if tol is None:
        verdict = (f"{d_fit * 1e3:.1f} mV; the cells' weights reached {co['visited']:.2f} V, "
                   f"beyond the +-{COSIM_RANGE:g} V the laws were fitted over, so no bound "
                   "holds")
    else:
        verdict = (f"{d_fit * 1e3:.1f} mV, {'within' if d_fit <= tol['bound'] else 'beyond'} "
                   f"the {1e3 * tol['bound']:.1f} mV the docs state: three forward "
                   f"multipliers each off by the law's largest error where the network's "
                   f"inputs went (|V| <= {tol['reach']:.2f} V: {1e9 * tol['multiplier_A']:.0f} "
                   f"nA), through the output neuron's steepest slope "
                   f"({1e-3 * tol['slope_V_per_A']:.0f} mV/uA), plus the neuron's own "
                   f"largest error ({1e3 * tol['neuron_V']:.1f} mV)")
    table_verdict = "" if tol is None else (
        f" ({'within' if d_table <= tol['table_bound'] else 'beyond'} the "
        f"{1e3 * tol['table_bound']:.1f} mV of the tables' errors taken the same way)")
    return f"""
### Co-simulation: the network of transistor cells in ngspice

1-2-1 at tt, seed 0, {co['epochs']} epochs of {COSIM_T_ROW * 1e6:g} us rows (the cells'
poles are MHz), `C` = {COSIM_C * 1e12:g} pF, `lambda` = {COSIM_LAMBDA:g}; every multiplier,
neuron and derivative block a cell, ideal glue elsewhere (docs/cells.md). Every
multiplier is trimmed at its null (a source in series with each input and one at the
output): `Voff1` = {1e3 * null['Voff1']:.3f} mV, `Voff` = {1e3 * null['Voff']:.3f} mV,
`Ioff` = {1e9 * null['Ioff']:.2f} nA, measured where the output stops depending on the
other input. Beside it the native engine with the fitted laws (offsets 0) and with the
tabulated laws (trimmed the same way), same rows and constants; the multiplier's laws
from a sweep over +-{COSIM_RANGE:g} V (`transistor/tt/multiplier_cosim/`), as the
weights leave the corners' +-{SCALE:g} V. Data: `transistor_cosim.csv`.

![Co-simulation against the native engine]({fig})

Read with learning off after the last epoch, the outputs (row 1, row 2) are
{cells[0]:.4f} / {cells[1]:.4f} V from the cells, {fitted['Vout'][0]:.4f} /
{fitted['Vout'][1]:.4f} V from the fitted laws and {table['Vout'][0]:.4f} /
{table['Vout'][1]:.4f} V from the tabulated ones. The fitted laws differ by {verdict};
the tabulated laws by {1e3 * d_table:.1f} mV{table_verdict}. Final MSE: {", ".join(
        f"{k} {sig(v, 2)} V^2" for k, v in mse.items())}; below the goal of {GOAL:g} V^2:
{", ".join(learned) if learned else "none"}. The weights end up to {1e3 * dW:.0f} mV apart
(a 1-2-1 fits two rows with many weight vectors; the outputs are what the engines must
agree on).
"""


def _section(facts, by_corner, fig_cells, fig_learn, epochs, seeds, engine,
             fig_cosim=None) -> str:
    from ..cells.characterization import full_scale
    from ..cells.corners import CORNER_LAWS, fit_named

    corners = list(by_corner)
    ref = by_corner.get("tt", by_corner[corners[0]])
    # fitted constants beside the paper's defaults
    const_rows = []
    for kind, law in CORNER_LAWS.items():
        keys = list(fit_named(ref[kind], law).constants)
        for key in keys:
            const_rows.append([f"{kind}.{key}", UNITS.get(key, ""),
                               sig(PAPER[kind].get(key, float("nan"))),
                               *[sig(fit_named(by_corner[c][kind], law).constants[key])
                                 for c in corners]])
    for kind in CORNER_LAWS:
        const_rows.append([f"{kind} f3dB (AC)", "Hz", "inf",
                           *[sig(by_corner[c][kind].extra.get("f3dB_Hz", float("nan")))
                             for c in corners]])
    err_rows = []
    for kind in ("multiplier", "activation", "derivative"):
        err_rows.append([kind, *[f"{by_corner[c][kind].best.law}: "
                                 f"{by_corner[c][kind].best.max_error_pct:.2f} / "
                                 f"{by_corner[c][kind].summary()['table_max_error_pct']:.3f}"
                                 for c in corners]])
    t = facts["table"]
    learn_rows = [[v, *[f"{t[(c, v)]['learned']}/{t[(c, v)]['n']}, {sig(t[(c, v)]['median'], 2)}"
                        for c in corners]] for v in VARIANTS]
    worst = {c: max(by_corner[c][k].best.max_error_pct for k in by_corner[c]) for c in corners}
    beyond = [c for c in corners if worst[c] > 2.0]
    learns = {v: [c for c in corners if t[(c, v)]["learned"] == t[(c, v)]["n"]] for v in VARIANTS}
    wmax = {v: max(t[(c, v)]["wmax"] for c in corners) for v in VARIANTS}
    tab = facts.get("tabulated")
    tab_text = ""
    if tab:
        same = (tab["learned"] == tab["n"]) == (t[("tt", "as fitted")]["learned"]
                                                == t[("tt", "as fitted")]["n"])
        tab_text = (f"With the tabulated laws at tt (the measured surfaces, offsets included) "
                    f"{tab['learned']}/{tab['n']} seeds learn (median final MSE "
                    f"{sig(tab['median'], 2)} V^2): "
                    + ("the same verdict as the analytic laws as fitted." if same else
                       "not the verdict of the analytic laws as fitted, which the fit's "
                       "errors then decide."))
    null = ref["multiplier"].null_offsets()
    fs = full_scale(ref["multiplier"].sweep)
    restored = ", ".join(learns["charge trimmed"]) or "no corner"
    why = ("the offsets as fitted " + ("stop learning at every corner" if not learns["as fitted"]
                                       else "stop learning at every corner but "
                                       + ", ".join(learns["as fitted"])) +
           ", though they are small: at tt the multiplier's null (where its output stops "
           f"depending on the other input) is at {1e3 * null['Voff1']:.2f} mV and "
           f"{1e3 * null['Voff']:.2f} mV, and its output there is "
           f"{1e9 * null['Ioff']:.1f} nA, {100 * abs(null['Ioff']) / fs:.2g} % of full "
           "scale. The paper's normalised signals would not notice; at the cells' signal "
           "level each charge multiplier's output offset is a charging current of its own "
           "at zero error on every weight (the offsets experiment's \"drift\" class), as "
           "large as the gradient of a hidden neuron, and the forward multipliers' shift "
           "every neuron's net current. Trimming the charge multipliers' offsets alone "
           f"restores learning at every seed at {restored}; trimming every multiplier's at "
           + (", ".join(learns["all trimmed"]) or "no corner") + ": a circuit of these cells "
           "needs its multipliers trimmed (or signals several times larger).")
    cosim_text = _cosim_text(facts["cosim"], fig_cosim) if "cosim" in facts else ""
    mismatch_text = ""
    if "mismatch" in facts:
        from ..cells.mismatch import UNITS as MC_UNITS
        from ..cells.mismatch import quantity

        mm_rows = [[f"{kind}.{key}", f"{v * 100:.3g} %" if rel else
                    quantity(v, MC_UNITS.get(key, "V"))]
                   for kind, sig_ in facts["mismatch"].items() for key, (v, rel) in sig_.items()]
        y = facts["yield"]
        fitted, trimmed = y["as fitted"], y["all trimmed, gains mismatched"]
        absorbed = ("the gains' mismatch alone is absorbed at every sample"
                    if trimmed["learned"] == trimmed["n"] else
                    f"with the gains' mismatch alone {trimmed['n'] - trimmed['learned']} of "
                    f"{trimmed['n']} samples do not learn")
        mismatch_text = f"""
### Mismatch from the PDK's Monte Carlo models

{facts['mismatch_samples']} Monte Carlo samples of each cell with the tt mismatch models
(`tt_mm`; every device draws its own deviations), the law with offsets fitted to each;
the standard deviation of each constant over the samples, as `[mismatch]` takes it
(`transistor_mismatch.toml`; relative for gains, absolute for offsets):

{md_table(["constant", "sigma"], mm_rows)}

Yield of the 1-2-1 network with these sigmas ({fitted['n']} Monte Carlo samples each,
tt laws, so the derivative's offsets, which its `sigmoid` law has not, are left out;
learned = final MSE < {GOAL:g} V^2): with every sigma, offsets included,
{fitted['learned']}/{fitted['n']} learn (median final MSE {sig(fitted['median'], 2)} V^2);
with every multiplier offset trimmed to 0 and only the gains and scales mismatched,
{trimmed['learned']}/{trimmed['n']} (median {sig(trimmed['median'], 2)} V^2). A network
of these cells learns only with its offsets trimmed per instance (auto-zeroing, or a
trim per multiplier); {absorbed}.
"""
    ratio_v = PAPER["activation"]["Vamp"] / fit_named(ref["activation"],
                                                      "sigmoid_offset").constants["Vamp"]
    ratio_i = PAPER["activation"]["Iref"] / fit_named(ref["activation"],
                                                      "sigmoid_offset").constants["Iref"]
    return f"""## Beyond the paper - the blocks as SkyWater 130 nm transistors

The paper stops at block level. Here its blocks are transistor-level cells in the open
SkyWater 130 nm process (docs/cells.md): a translinear Gilbert multiplier, a
weak-inversion differential-pair neuron, a Delbrueck-bump derivative block, 1.8 V,
signals around Vcm = 0.9 V. Each was swept in ngspice with the PDK's models at
{", ".join(corners)} ({TEMP:g} C), and the engines' laws fitted to the sweeps
(`aann characterize`); figures and fits of every cell at every corner are in
`transistor/<corner>/<cell>/`. Characterization took {facts['characterize_seconds']:.0f} s;
the network runs {facts['train_seconds']:.1f} s; engine `{engine}`. Data:
`transistor_constants.csv`, `transistor_learning.csv`.

![The cells at every corner]({fig_cells})

Fitted constants (the laws every corner shares: {", ".join(f"{k} `{v}`" for k, v in CORNER_LAWS.items())})
beside the paper's normalised defaults, and each cell's bandwidth (the paper's blocks
have none: its rows last 0.01 to 1 ps, a million times shorter than these poles allow,
so a circuit of these cells runs its rows in microseconds). The cells' swing is {ratio_v:.0f}x smaller in
voltage (`Vamp`) and {ratio_i:.0f}x in current (`Iref`) than the defaults, which a 1.8 V
supply and a few uA per cell give; `Km` is of the same order.

{md_table(["constant", "unit", "paper", *corners], const_rows)}

Largest error of the law kept / of the tabulated law at the midpoints between the
grid points, in % of full scale (the stated bounds are 2 % and 0.5 %):

{md_table(["cell", *corners], err_rows)}

{("Beyond 2 %: " + ", ".join(f"{c} ({worst[c]:.1f} %)" for c in beyond) + ". There the analytic law misses the cell's shape (the multiplier's gain depends on V1 when V2 < 0, a V1^2 V2 term); the tabulated law still holds.") if beyond else "Every analytic law is within 2 % at every corner."}

### Does the network still learn at each corner?

1-2-1 on the paper's two rows scaled to the cells (inputs {X_ROWS[0]:g} / {X_ROWS[1]:g} V, targets
{Y[0]:g} / {Y[1]:g} V, `Vbias` = {SCALE:g} V, initial weights uniform in +-{SCALE:g} V,
seeds 0..{seeds - 1}), `t_row` = {T_ROW * 1e12:g} ps, {epochs} epochs; learned = final MSE
< {GOAL:g} V^2 (10 mV rms). Every corner x variant x seed ran as one batch of
{len(corners) * len(VARIANTS) * seeds} circuits. Each cell: seeds that learn, median final
MSE (V^2).

![Learning at every corner]({fig_learn})

{md_table(["laws", *corners], learn_rows)}

Learns at every seed: as fitted: {", ".join(learns["as fitted"]) or "no corner"};
charge multipliers trimmed: {", ".join(learns["charge trimmed"]) or "no corner"}; every
multiplier trimmed: {", ".join(learns["all trimmed"]) or "no corner"}. {tab_text}

What the block level misses: {why} The largest weight reached (V from Vcm): as fitted
{wmax["as fitted"]:.2f}, charge trimmed {wmax["charge trimmed"]:.2f}, all trimmed
{wmax["all trimmed"]:.2f}. The cells were characterized over +-{SCALE:g} V (and the supply
allows +-{VCM:g} V): a weight beyond that is outside the fitted range, where the analytic
laws extrapolate and the tabulated ones hold the edge value. The trimmed networks learn
with weights out there, so their learning is the laws'; the co-simulation below checks
it at tt against the transistors themselves, with the multiplier's laws fitted over
+-{COSIM_RANGE:g} V.
{cosim_text}{mismatch_text}"""
