"""E4, Tabs. 1-2: training time of the four structures, digital against analogue.

Structures (Tab. 2 gives rows, hidden layers and "neurons"; we count as neurons every
unit with an activation, hidden and output, and split them as evenly as the counts
allow, ending in one output):

=====  ====  ======  =======  ================  ===================================
test   rows  hidden  neurons  topology          data
=====  ====  ======  =======  ================  ===================================
1      2     1       3        1-2-1             ``two-row`` (the Fig. 8 network)
2      10    2       5        2-2-2-1           synthetic "circle", seed 10
3      100   3       16       2-5-5-5-1         synthetic "circle", seed 100
4      500   4       21       2-5-5-5-5-1       synthetic "circle", seed 500
=====  ====  ======  =======  ================  ===================================

The synthetic "circle" data set (:func:`circle_dataset`) is deterministic: ``rows``
points uniform in the unit square from ``numpy.random.default_rng(rows)``, target
0.8 V inside the circle of radius sqrt(0.15) around (0.5, 0.5) and 0.2 V outside
(about half of each).

Every framework trains the same network (sigmoid units, bias as weight column 0) by
per-row SGD, 1000 epochs, from the same initial weights (seed 0, uniform (-1, 1) V)
at ``lr = lambda`` of the circuit at ``t_row = 1 ps`` (10); the time does not depend
on the rate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..progress import progress_bar
from ._common import md_table, save_figure, write_csv
from .report import write_fragment

T_ROW = 1e-12  # Tab. 1: 2 rows x 1000 epochs = 2 ns
EPOCHS = 1000
REPEATS = 3
TORCH_MAX_STEPS = 100_000  # SGD steps timed per PyTorch repeat; more are extrapolated
SIM_MAX_ROWS = 20_000  # rows the native engine simulates per test; more are extrapolated
COLUMNS = ["test", "rows", "hidden_layers", "neurons", "epochs", "framework", "device",
           "seconds_mean", "seconds_std", "circuit_seconds", "circuit_seconds_at_Imax"]
# The paper's Tab. 1 (TensorFlow on Google Colab), quoted as the paper's, in seconds.
PAPER_TAB1 = {
    "CPU": [(2.017, 0.020), (6.373, 0.097), (54.678, 1.215), (274.644, 2.281)],
    "GPU": [(4.872, 0.264), (13.599, 0.314), (120.152, 1.034), (624.357, 6.211)],
    "TPU": [(2.017, 0.035), (6.284, 0.190), (53.910, 0.958), (272.727, 2.159)],
    "AANN": [2e-9, 10e-9, 100e-9, 500e-9],
}


@dataclass(frozen=True)
class Structure:
    test: int
    rows: int
    sizes: tuple

    @property
    def hidden_layers(self) -> int:
        return len(self.sizes) - 2

    @property
    def neurons(self) -> int:
        return sum(self.sizes[1:])

    @property
    def topology(self) -> str:
        return "-".join(map(str, self.sizes))


STRUCTURES = (Structure(1, 2, (1, 2, 1)), Structure(2, 10, (2, 2, 2, 1)),
              Structure(3, 100, (2, 5, 5, 5, 1)), Structure(4, 500, (2, 5, 5, 5, 5, 1)))


def circle_dataset(rows: int):
    import aann

    rng = np.random.default_rng(rows)
    X = rng.uniform(0.0, 1.0, (rows, 2))
    inside = ((X - 0.5) ** 2).sum(axis=1) < 0.15
    return aann.Dataset(f"circle{rows}", X, np.where(inside, 0.8, 0.2)[:, None])


def dataset_for(s: Structure):
    import aann

    return aann.load_dataset("two-row") if s.sizes[0] == 1 else circle_dataset(s.rows)


def config(s: Structure, epochs: int):
    import aann

    return aann.Config().replace(network={"sizes": s.sizes},
                                 training={"t_row": T_ROW, "epochs": epochs, "seeds": 1})


def _mean_std(xs):
    xs = np.asarray(xs, float)
    return float(xs.mean()), float(xs.std(ddof=1)) if xs.size > 1 else float("nan")


def time_torch(s, W0, ds, lr, epochs, repeats, max_steps, device="cpu"):
    from .. import digital

    measured = max(1, min(epochs, max_steps // s.rows)) if max_steps else epochs
    secs = [digital.sgd_torch(W0, ds.X, ds.Y, lr, measured, device=device).seconds
            * epochs / measured for _ in range(repeats)]
    return secs, measured


def time_jax(W0, ds, lr, epochs, repeats):
    from .. import digital

    secs = [digital.sgd_jax(W0, ds.X, ds.Y, lr, epochs, dtype=np.float32, with_mse=False,
                            warmup=(k == 0)).seconds for k in range(repeats)]
    return secs


def time_circuit(s, ds, epochs, engine, max_rows):
    """The tool's own simulation of the circuit; timed warm (a first run compiles)."""
    import aann

    sim_epochs = max(1, min(epochs, max_rows // s.rows)) if max_rows else epochs
    cfg = config(s, sim_epochs)
    first = aann.train(cfg, dataset=ds, engine=engine)
    t0 = time.perf_counter()
    warm = aann.train(cfg, dataset=ds, engine=engine)
    seconds = (time.perf_counter() - t0) * epochs / sim_epochs
    return {"seconds": seconds, "first_seconds": first.wall_seconds, "sim_epochs": sim_epochs,
            "peak": float(warm.peak_current_max.max()), "Imax": cfg.constants.Imax,
            "lambda": cfg.lam, "steps": warm.engine_info.settings.get("solver", {}).get("steps"),
            "final_mse": float(warm.mse[0, -1])}


def run(out, *, engine: str = "native", epochs: int = EPOCHS, repeats: int = REPEATS,
        tests=(1, 2, 3, 4), full: bool = False, progress: bool = False) -> dict:
    import aann

    from .. import digital
    from ..io import ensure_writable_dir

    out = ensure_writable_dir(Path(out))
    structures = [s for s in STRUCTURES if s.test in tests]
    has_torch = digital.torch_available()
    gpu_torch = digital.torch_gpu_available()
    gpu_jax = digital.jax_gpu_available()
    max_steps = 0 if full else TORCH_MAX_STEPS
    max_rows = 0 if full else SIM_MAX_ROWS
    rows, notes, details = [], [], []
    total = len(structures) * (2 + has_torch + gpu_torch)
    with progress_bar(progress, total, "speed", "timings", description="timing") as update:
        for s in structures:
            ds = dataset_for(s)
            W0 = aann.random_weights(s.sizes, 0)
            lr = config(s, epochs).lam
            circ = time_circuit(s, ds, epochs, engine, max_rows)
            update(description=f"test {s.test}: circuit ({engine})")
            circuit_seconds = epochs * s.rows * T_ROW
            ratio = max(1.0, circ["peak"] / circ["Imax"])
            at_imax = circuit_seconds * ratio
            common = [s.test, s.rows, s.hidden_layers, s.neurons, epochs]
            tail = [circuit_seconds, at_imax]
            detail = {"test": s.test, "topology": s.topology, "circuit": circ,
                      "t_row_at_Imax": T_ROW * ratio}
            if has_torch:
                secs, measured = time_torch(s, W0, ds, lr, epochs, repeats, max_steps)
                rows.append(common + ["pytorch", "cpu", *_mean_std(secs)] + tail)
                detail["torch_epochs_timed"] = measured
                update(description=f"test {s.test}: pytorch cpu")
            if gpu_torch:
                secs, _ = time_torch(s, W0, ds, lr, epochs, repeats, max_steps, device="cuda")
                rows.append(common + ["pytorch", "cuda", *_mean_std(secs)] + tail)
                update(description=f"test {s.test}: pytorch cuda")
            secs = time_jax(W0, ds, lr, epochs, repeats)
            rows.append(common + ["jax", "cpu" if not gpu_jax else "gpu", *_mean_std(secs)] + tail)
            update(description=f"test {s.test}: jax")
            rows.append(common + [f"aann-{engine}", "cpu", circ["seconds"], float("nan")] + tail)
            details.append(detail)
    if not has_torch:
        notes.append(digital.TORCH_HINT + "; this run has the JAX baseline only.")
    if not (gpu_torch or gpu_jax):
        notes.append("No GPU is present on this machine: no GPU rows were measured "
                     "(on a machine with CUDA, PyTorch/JAX GPU rows are added automatically).")
    write_csv(out / "speed.csv", COLUMNS, rows)
    facts = {"rows": rows, "details": details, "notes": notes, "repeats": repeats,
             "epochs": epochs, "full": full, "torch": has_torch}
    facts["figure"] = save_figure(figure(rows), out, "speed")
    write_fragment(out, "speed", _section(facts, engine))
    return facts


def figure(rows):
    """Training time per test, log scale: each digital framework, the simulation's wall
    time, and the circuit's own time at 1 ps rows and within ``Imax``."""
    import matplotlib.pyplot as plt

    tests = sorted({r[0] for r in rows})
    # label -> (framework, device, column of speed.csv); None: the circuit's own time
    series = {f"{r[5]} {r[6]}" + (" (simulation, wall)" if r[5].startswith("aann") else ""):
              (r[5], r[6], 7) for r in rows}
    series["circuit, 1 ps rows"] = (None, None, 9)
    series["circuit within Imax"] = (None, None, 10)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    width = 0.8 / len(series)
    for k, (name, (fw, dev, col)) in enumerate(series.items()):
        ys = []
        for t in tests:
            sel = [r for r in rows if r[0] == t and (fw is None or (r[5], r[6]) == (fw, dev))]
            ys.append(sel[0][col] if sel else float("nan"))
        xs = np.arange(len(tests)) + (k - (len(series) - 1) / 2) * width
        ax.bar(xs, ys, width, label=name, hatch="//" if fw is None else None)
    topo = {s.test: s.topology for s in STRUCTURES}
    ax.set_xticks(np.arange(len(tests)), [f"test {t}\n{topo[t]}" for t in tests])
    ax.set_yscale("log")
    ax.set_ylabel("training time (s)")
    ax.set_title(f"Tabs. 1-2: {rows[0][4]} epochs, digital against the circuit")
    fig.legend(loc="outside lower center", ncol=3, fontsize="small")
    return fig


def _fmt_s(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    if x >= 1e-3:
        return f"{x:.3g} s"
    for unit, k in (("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("ps", 1e-12)):
        if x >= k:
            return f"{x / k:.3g} {unit}"
    return f"{x:.3g} s"


def _section(facts, engine) -> str:
    rows = facts["rows"]
    table = [[r[0], r[1], r[2], r[3], r[4], r[5], r[6],
              _fmt_s(r[7]) + ("" if not math.isfinite(r[8]) else f" +- {_fmt_s(r[8])}"),
              _fmt_s(r[9]), _fmt_s(r[10])] for r in rows]
    det = []
    for d in facts["details"]:
        c = d["circuit"]
        det.append([d["test"], d["topology"], f"{c['lambda']:g}", c["steps"],
                    f"{c['sim_epochs']}", f"{c['first_seconds']:.3g} s",
                    f"{c['peak'] * 1e3:.3g} mA", f"{c['peak'] / c['Imax']:.3g}",
                    _fmt_s(d["t_row_at_Imax"]), d.get("torch_epochs_timed", "-")])
    paper = [[k] + [f"{v[0]:.3f} +- {v[1]:.3f} s" if isinstance(v, tuple) else _fmt_s(v)
                    for v in vals] for k, vals in PAPER_TAB1.items()]
    speedups = []
    for d in facts["details"]:
        t = d["test"]
        tr = [r[7] for r in rows if r[0] == t and r[5] == "pytorch" and r[6] == "cpu"]
        jx = [r[7] for r in rows if r[0] == t and r[5] == "jax"]
        if tr and jx:
            speedups.append(tr[0] / jx[0])
    jax_vs_torch = (f"the compiled JAX loop is {min(speedups):.2g} to {max(speedups):.2g} x "
                    "faster than the plain PyTorch loop on the same CPU, so it is the fairer "
                    "digital baseline" if speedups else "PyTorch was not measured")
    ratio_lines = []
    for d in facts["details"]:
        t = d["test"]
        best = min((r[7] for r in rows if r[0] == t and not r[5].startswith("aann")),
                   default=float("nan"))
        r0 = next(r for r in rows if r[0] == t)
        ratio_lines.append(
            f"- test {t}: fastest digital training {_fmt_s(best)}; circuit at 1 ps "
            f"{_fmt_s(r0[9])} ({best / r0[9]:.2g} x faster), limited to `Imax` "
            f"{_fmt_s(r0[10])} ({best / r0[10]:.2g} x faster)")
    notes = "".join(f"- {n}\n" for n in facts["notes"])
    torch_note = ""
    extrap = [d for d in facts["details"]
              if d.get("torch_epochs_timed", facts["epochs"]) < facts["epochs"]]
    if extrap:
        torch_note = ("- PyTorch timings of test(s) "
                      + ", ".join(str(d["test"]) for d in extrap)
                      + f" time {', '.join(str(d['torch_epochs_timed']) for d in extrap)} epochs "
                      f"per repeat and scale to {facts['epochs']} (an epoch costs the same every "
                      "time); `aann reproduce speed --full` times every epoch.\n")
    sim_note = ""
    sim_extrap = [d for d in facts["details"] if d["circuit"]["sim_epochs"] < facts["epochs"]]
    if sim_extrap:
        sim_note = ("- the circuit simulation of test(s) "
                    + ", ".join(str(d["test"]) for d in sim_extrap)
                    + " simulates " + ", ".join(str(d["circuit"]["sim_epochs"])
                                                  for d in sim_extrap)
                    + f" epochs and scales the wall time to {facts['epochs']}; its peak current "
                    "is the peak over those epochs, so its `t_row` at `Imax` and "
                    "`circuit_seconds_at_Imax` are lower bounds (the peak can grow later, as "
                    "the weights grow and the Type2 errors with them).\n")
    return f"""## E4 - Tabs. 1-2: training time, digital against analogue

Structures (Tab. 2; "neurons" counted as hidden plus output units):
test 1 = 1-2-1 on `two-row` (the Fig. 8 network), test 2 = 2-2-2-1, test 3 = 2-5-5-5-1,
test 4 = 2-5-5-5-5-1, tests 2-4 on the deterministic synthetic "circle" data set (rows
uniform in the unit square from `default_rng(rows)`, target 0.8 V inside the circle of
radius sqrt(0.15) around (0.5, 0.5), else 0.2 V). Every framework: per-row SGD, the same
sigmoid network and initial weights (seed 0), {facts['epochs']} epochs, `lr` = `lambda` of
the circuit at `t_row` = 1 ps. PyTorch: a plain loop (`nn.Sequential`, `optim.SGD`,
`loss.backward()` per row, float32). JAX: the whole run compiled into one `lax.scan`
(float32, compilation excluded). Mean +- standard deviation over {facts['repeats']} repeats.
`aann-{engine}`: this tool's own simulation of the circuit's transient (warm, i.e. after
a first run that compiles). `circuit_seconds` = epochs x rows x `t_row` at 1 ps (Tab. 1);
`circuit_seconds_at_Imax`: the same with the `t_row` at which no charging current exceeds
`Imax` = 100 uA, keeping `lambda` (`Keta` scaled down by peak/`Imax`, `t_row` up by the
same factor). Data: `speed.csv`.

{md_table(COLUMNS[:7] + ["seconds (mean +- std)", "circuit_seconds", "circuit_seconds_at_Imax"], table)}

![Training time, digital against the circuit]({facts['figure']})

Circuit details (peak charging current at `t_row` = 1 ps, `lambda` = 10, and the `t_row`
the `Imax` limit asks for):

{md_table(["test", "topology", "lambda", "Tsit5 steps/row", "epochs simulated",
           "first run (with compile)", "peak Icharged", "peak / Imax", "t_row at Imax",
           "PyTorch epochs timed"], det)}

The paper's Tab. 1 (TensorFlow on Google Colab; quoted from the paper, not measured):

{md_table(["", "Test 1", "Test 2", "Test 3", "Test 4"], paper)}

Measured facts:

{chr(10).join(ratio_lines)}
{torch_note}{sim_note}{notes}
Compared with the paper: the circuit times at 1 ps are the paper's AANN row (they are
the definition epochs x rows x `t_row`). The digital times here are on a 2-core CPU
with PyTorch and JAX instead of TensorFlow on Colab, so they differ from Tab. 1;
{jax_vs_torch}. The paper's conclusion, that the analogue circuit trains orders
of magnitude faster, holds for the `t_row` = 1 ps of Tab. 1; it still holds with the
`Imax` limit, but by the smaller factor shown, which the paper does not discuss: at
`lambda` = 10 the ideal charging currents exceed 100 uA by the factor in the table.
"""
