"""Beyond the paper: what the real parts' limits do to learning ([nonideal]).

XOR on 2-8-1, seeds 0..9, 1000 epochs (the paper's E2 at ``t_row`` = 0.1 ps unless a
study changes it), one imperfection at a time:

* **retention**: leakage ``R_leak`` with ``R_leak * C`` from 0.1 to 100 times the
  training time ``T`` (1000 epochs x 4 rows x ``t_row``);
* **current limit**: the source clipped at ``Imax`` = 100 uA, ``t_row`` from 0.1 ps to
  10 ns at ``lambda`` = 1 (``Keta = C / t_row``): how slowly the circuit must run to
  learn within ``Imax``, against the paper's Tab. 1 times;
* **noise**: 300 K thermal noise of ``R_leak`` (``R_leak * C`` = 1000 ``T``) and the
  charging current's shot noise, ``C`` from 0.1 fF down, ``Keta = C * 1e13 S/F``
  (``lambda`` = 1): the smallest ``C`` at which XOR still learns;
* **Qinj**: the charge the ``Vteach`` switch injects at each edge, ``teach =
  "alternate"`` (a learn and a hold epoch in turn, so two edges per learn epoch), 0.01
  to 3 fC into 0.1 pF;
* **bandwidth**: every block (each multiplier role, activation, derivative, error)
  with the same pole ``f3dB``, ``t_row * f3dB`` from 0.3 to 30: how fast the blocks
  must be for the rows they are given.
"""

from __future__ import annotations

from pathlib import Path

from ._common import md_table, save_figure, sig, write_csv
from .report import write_fragment
from .xor import GOAL, stats

T_ROW = 0.1e-12
EPOCHS = 1000
SEEDS = 10
ROWS = 4  # XOR
C0 = 0.1e-12
RETENTION = (0.1, 0.3, 1.0, 3.0, 10.0, 100.0)  # R_leak C / T
T_ROWS = (0.1e-12, 1e-12, 10e-12, 100e-12, 1e-9, 10e-9)  # s
CAPACITANCES = (1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21)  # F
QINJ = (0.01e-15, 0.03e-15, 0.1e-15, 0.3e-15, 1e-15, 3e-15)  # C
F3DB_T_ROW = (0.3, 1.0, 3.0, 10.0, 30.0)  # t_row * f3dB
BLOCKS_WITH_POLES = ("multiplier", "activation", "derivative", "error")
PAPER_CPU_SECONDS = 2.017  # Tab. 1, test 1, CPU (the paper's)


def base(epochs: int, seeds: int):
    import aann

    return aann.Config(training={"dataset": "xor", "t_row": T_ROW, "epochs": epochs,
                                 "seeds": seeds, "record": "mse"})


def _run(cfg, engine: str, progress: bool) -> dict:
    import aann

    return stats(aann.train(cfg, engine=engine, progress=progress))


def run_retention(epochs, seeds, engine, progress) -> dict:
    cfg, T = base(epochs, seeds), epochs * ROWS * T_ROW
    out = {"none": _run(cfg, engine, progress)}
    for ratio in RETENTION:
        out[ratio] = _run(cfg.replace(nonideal={"R_leak": ratio * T / C0}), engine, progress)
    return out


def run_current_limit(epochs, seeds, engine, progress) -> dict:
    out = {}
    for t_row in T_ROWS:  # lambda = Keta / C * t_row = 1
        cfg = base(epochs, seeds).replace(training={"t_row": t_row},
                                          constants={"Keta": C0 / t_row})
        out[("free", t_row)] = _run(cfg, engine, progress)
        out[("clip", t_row)] = _run(cfg.replace(nonideal={"current_limit": "clip"}),
                                    engine, progress)
    return out


def run_noise(epochs, seeds, progress) -> dict:
    T = epochs * ROWS * T_ROW
    out = {}
    for C in CAPACITANCES:
        cfg = base(epochs, seeds).replace(
            constants={"C": C, "Keta": C * 1e13},
            nonideal={"temperature": 300.0, "shot_noise": True, "R_leak": 1e3 * T / C})
        out[C] = _run(cfg, "native", progress)  # noise is native-only
    return out


def run_qinj(epochs, seeds, engine, progress) -> dict:
    cfg = base(epochs, seeds).replace(training={"teach": "alternate"})
    out = {0.0: _run(cfg, engine, progress)}
    for q in QINJ:
        out[q] = _run(cfg.replace(nonideal={"Qinj": q}), engine, progress)
    return out


def bandwidth(ft: float) -> dict:
    """The [blocks] section giving every block the pole ``f3dB = ft / t_row``."""
    return {kind: {"f3dB": ft / T_ROW} for kind in BLOCKS_WITH_POLES}


def run_bandwidth(epochs, seeds, engine, progress) -> dict:
    cfg = base(epochs, seeds)
    out = {"none": _run(cfg, engine, progress)}
    for ft in F3DB_T_ROW:
        out[ft] = _run(cfg.replace(blocks=bandwidth(ft)), engine, progress)
    return out


def _panel(ax, xs, facts, label, xlabel, seeds, ref=None):
    learned = [facts[x]["n_reached"] for x in xs]
    med = [facts[x]["final_median"] for x in xs]
    ax.semilogx(xs, med, marker="o", ms=3, color="C0", label="median final MSE")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("median final MSE", color="C0")
    ax.axhline(GOAL, color="k", lw=0.5, ls=":")
    if ref is not None:
        ax.axhline(ref, color="C0", lw=0.7, ls="--", label="without it")
    twin = ax.twinx()
    twin.plot(xs, learned, marker="s", ms=3, color="C3", lw=0.8)
    twin.set_ylim(-0.5, seeds + 0.5)
    twin.set_ylabel(f"seeds reaching MSE < {GOAL:g}", color="C3")
    twin.grid(False)
    ax.set_title(label, fontsize=8)


def _figure(facts, seeds):
    import matplotlib.pyplot as plt

    from .. import plots

    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(3, 2, figsize=(9, 9.6), constrained_layout=True)
        ret = facts["retention"]
        _panel(axes[0, 0], list(RETENTION), ret, "retention: leakage R_leak",
               "R_leak C / training time", seeds, ret["none"]["final_median"])
        lim = facts["current_limit"]
        clip = {t: lim[("clip", t)] for t in T_ROWS}
        _panel(axes[0, 1], list(T_ROWS), clip, "source clipped at Imax = 100 uA, lambda = 1",
               "t_row [s]", seeds)
        noise = facts["noise"]
        _panel(axes[1, 0], list(CAPACITANCES), noise, "300 K thermal + shot noise",
               "C [F] (Keta = C x 1e13 S/F)", seeds)
        q = facts["qinj"]
        _panel(axes[1, 1], list(QINJ), q, "charge injection at Vteach edges (alternate)",
               "Qinj [C] into 0.1 pF", seeds, q[0.0]["final_median"])
        bw = facts["bandwidth"]
        _panel(axes[2, 0], list(F3DB_T_ROW), bw, "block bandwidth: one pole on every block",
               "t_row x f3dB", seeds, bw["none"]["final_median"])
        axes[2, 1].axis("off")
        return fig


def run(out, *, engine: str = "native", epochs: int = EPOCHS, seeds: int = SEEDS,
        progress: bool = False) -> dict:
    from ..io import ensure_writable_dir

    out = ensure_writable_dir(Path(out))
    facts = {"retention": run_retention(epochs, seeds, engine, progress),
             "current_limit": run_current_limit(epochs, seeds, engine, progress),
             "noise": run_noise(epochs, seeds, progress),
             "qinj": run_qinj(epochs, seeds, engine, progress),
             "bandwidth": run_bandwidth(epochs, seeds, engine, progress)}
    rows = []
    for study, table in facts.items():
        for key, f in table.items():
            rows.append([study, str(key), f["n_reached"], f["n"], f["final_median"],
                         f["first_epoch_median"] if f["first_epoch_median"] is not None else "",
                         f["peak_over_Imax"]])
    write_csv(out / "limits.csv", ["study", "setting", "learned", "seeds", "final_mse_median",
                                   "first_epoch_median", "peak_over_Imax"], rows)
    fig = save_figure(_figure(facts, seeds), out, "limits")
    write_fragment(out, "limits", _section(facts, fig, epochs, seeds, engine))
    return facts


def _first_from(values, good):
    """The smallest of ``values`` from which on (it and every larger one) ``good`` holds."""
    ordered = sorted(values)
    for k, v in enumerate(ordered):
        if all(good(w) for w in ordered[k:]):
            return v
    return None


def _section(facts, fig, epochs, seeds, engine) -> str:
    T = epochs * ROWS * T_ROW
    ret, lim, noise, q, bw = (facts["retention"], facts["current_limit"], facts["noise"],
                              facts["qinj"], facts["bandwidth"])
    def cell(f):
        return f"{f['n_reached']}/{f['n']}, {sig(f['final_median'], 2)}"

    ret_rows = [["none", cell(ret["none"])]] + [[f"{r:g} T", cell(ret[r])] for r in RETENTION]
    # the bound from which every larger value learns as well as without the imperfection
    min_ret = _first_from(RETENTION, lambda r: ret[r]["n_reached"] >= ret["none"]["n_reached"])
    lim_rows = []
    for t in T_ROWS:
        c = lim[("clip", t)]
        done = c["first_epoch_median"]
        train_time = f"{done * ROWS * t:.3g} s" if done else "-"
        lim_rows.append([f"{t:g} s", f"{lim[('free', t)]['peak_over_Imax']:.3g}",
                         cell(lim[("free", t)]), cell(c), train_time])
    fastest_within = _first_from(T_ROWS, lambda t: lim[("clip", t)]["n_reached"] == seeds)
    clipped_time = None
    if fastest_within is not None and lim[("clip", fastest_within)]["first_epoch_median"]:
        clipped_time = (lim[("clip", fastest_within)]["first_epoch_median"] * ROWS
                        * fastest_within)
    noise_rows = [[f"{C:g} F", cell(noise[C])] for C in CAPACITANCES]
    c_min = _first_from(sorted(CAPACITANCES), lambda C: noise[C]["n_reached"] == seeds)
    q_rows = [["0", cell(q[0.0])]] + [[f"{v:g} C ({v / C0 * 1e3:g} mV/edge)", cell(q[v])]
                                      for v in QINJ]
    q_max = None  # the largest up to which (every smaller one too) as many learn
    for v in sorted(QINJ):
        if q[v]["n_reached"] < q[0.0]["n_reached"]:
            break
        q_max = v
    bw_rows = [["instantaneous", "0", cell(bw["none"])]] + [
        [f"{ft:g}", f"{_settling(ft) / T_ROW:.3g}", cell(bw[ft])] for ft in F3DB_T_ROW]
    ft_min = _first_from(F3DB_T_ROW, lambda ft: bw[ft]["n_reached"] >= bw["none"]["n_reached"])
    takeaways = [
        (f"- **Retention.** With `R_leak C` >= {min_ret:g} T (T = {T:.3g} s of training) as "
         "many seeds learn as without leakage; below it the leak pulls the weights toward "
         "0 V faster than learning moves them. A weight must hold for the whole training, "
         "and afterwards for as long as the network is used: `R_leak C` sets the refresh "
         "interval." if min_ret is not None else
         "- **Retention.** No retention tried lets as many seeds learn as without leakage."),
        (f"- **Current limit.** With the source clipped at `Imax` = 100 uA, every seed "
         f"learns from `t_row` = {fastest_within:g} s on (lambda = 1, `Keta = C / t_row`); "
         "faster rows ask for more than `Imax` and the clipped source learns more slowly or "
         "not at all. XOR then trains in "
         + (f"{clipped_time:.3g} s (median epochs to MSE < {GOAL:g} x 4 rows x `t_row`), "
            f"{fastest_within / 1e-12:g} times longer than with the 1 ps rows the paper's "
            f"Tab. 1 assumes, and still {PAPER_CPU_SECONDS / clipped_time:.2g} times faster "
            f"than the paper's smallest digital run ({PAPER_CPU_SECONDS:g} s, test 1, CPU)."
            if clipped_time else "the time in the table.")
         if fastest_within is not None else
         "- **Current limit.** No `t_row` tried lets every seed learn within `Imax`."),
        (f"- **Noise.** At 300 K with shot noise, every seed still learns at `C` = "
         f"{c_min:g} F (the smallest tried where all do); a smaller `C` means a larger "
         "`k T / C` and a larger shot-noise spread `sqrt(q I t) / C` (with `Keta` "
         "scaled with `C` the currents scale with it too)." if c_min is not None else
         "- **Noise.** At none of the capacitances tried does every seed learn."),
        (f"- **Charge injection.** Up to `Qinj` = {q_max:g} C ({q_max / C0 * 1e3:g} mV per "
         "edge on 0.1 pF) as many seeds learn as without; beyond, the steps the switch "
         "adds at every edge outweigh what learning corrects in an epoch." if q_max is not None
         else "- **Charge injection.** Every `Qinj` tried costs seeds."),
        (f"- **Bandwidth.** With every block's `f3dB` >= {ft_min:g} / `t_row` as many seeds "
         f"learn as with instantaneous blocks; then the chain of poles settles in "
         f"{_settling(ft_min) / T_ROW:.3g} `t_row`. Slower blocks learn each row from "
         "signals still moving from the row before. At the paper's 0.1 ps rows that asks "
         f"for {ft_min / T_ROW / 1e12:g} THz blocks: the rows of a real circuit are set by "
         "its slowest block." if ft_min is not None else
         "- **Bandwidth.** No `f3dB` tried lets as many seeds learn as instantaneous blocks."),
    ]
    return f"""## Beyond the paper - the real parts' limits

XOR on 2-8-1, seeds 0..{seeds - 1}, {epochs} epochs, `t_row` = 0.1 ps unless a study
changes it, one `[nonideal]` imperfection at a time; engine `{engine}` (noise:
native). Each cell: seeds reaching MSE < {GOAL:g}, median final MSE. Data: `limits.csv`.

![The real parts' limits]({fig})

Retention (`R_leak` from `R_leak C / T`, C = 0.1 pF):

{md_table(["R_leak C", "learned, median MSE"], ret_rows)}

Current limit (`Imax` = 100 uA; lambda = 1 at every `t_row`; peak/Imax of the free source):

{md_table(["t_row", "free source: peak / Imax", "free source", "clipped source",
           "training time (clipped)"], lim_rows)}

Noise (300 K thermal noise of `R_leak`, `R_leak C` = 1000 T, and shot noise):

{md_table(["C", "learned, median MSE"], noise_rows)}

Charge injection (`teach = "alternate"`: learn and hold epochs in turn):

{md_table(["Qinj", "learned, median MSE"], q_rows)}

Bandwidth (one pole, `f3dB`, on every block; settling: 1 % of the longest chain of poles,
`summary.json` `settling_time`):

{md_table(["t_row x f3dB", "settling / t_row", "learned, median MSE"], bw_rows)}

What a designer takes from it (from the numbers above):

{chr(10).join(takeaways)}
"""


def _settling(ft: float) -> float:
    """The settling time (s) of 2-8-1 with every block's pole at ``ft / t_row``."""
    from ..circuit import build_circuit

    return build_circuit(base(1, 1).replace(blocks=bandwidth(ft))).settling_time()
