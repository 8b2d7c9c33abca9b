"""``aann reproduce ...``: one command per experiment of the paper's section 4.

Imports of the experiments (and of JAX) happen inside the commands, so that
``aann --help`` stays fast.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

reproduce_app = typer.Typer(
    add_completion=False, no_args_is_help=True,
    help="Reproduce the paper's figures and tables: fig8 (E1), xor (E2), parasitic (E3), "
         "speed (E4), offsets, limits, transistor, tasks, rules, energy and cancellation "
         "(beyond the paper), or all; "
         "each writes figures (PNG, SVG), CSV and its section of DIR/report.md.")

OutOpt = typer.Option(Path("reproduce-out"), "--out", help="Output directory.")
EngineOpt = typer.Option("native", "--engine", help="native | ngspice")
SeedsOpt = typer.Option(None, "--seeds", min=1, help="Initial weight sets (default 10).")
_TASKS = ("iris", "wine", "breast_cancer", "digits16", "digits32")  # tasks.NETWORKS, unimported
_RULE_NETS = ("xor", "iris", "digits16", "digits_deep")  # rules.NETWORKS, unimported
_ENERGY_NETS = ("xor", "digits16")  # energy.NETWORKS, unimported
_CANCEL_NETS = ("xor", "iris", "digits16")  # cancellation.NETWORKS, unimported


def _done(out: Path, what: str, started: float) -> None:
    from .report import write_report

    path = write_report(out)
    typer.echo(f"{what}: done in {time.perf_counter() - started:.1f} s; wrote {out}/ "
               f"and {path}")


@reproduce_app.command("fig8")
def fig8_cmd(out: Path = OutOpt, engine: str = EngineOpt,
             epochs: int | None = typer.Option(None, "--epochs", min=1,
                                                  help="Epochs (default 25 = 5 ps).")):
    """E1, Fig. 8: 1-2-1 transient with Vteach toggled after each epoch."""
    from . import fig8

    started = time.perf_counter()
    f = fig8.run(out, engine=engine, epochs=_or(epochs, fig8.EPOCHS), progress=True)
    typer.echo(f"hold epochs: largest weight change {f['hold_max_dW']:.3g} V; MSE after the "
               f"first / last learn epoch {f['first_learn_mse']:.3g} / {f['last_learn_mse']:.3g}")
    _done(out, "fig8", started)


@reproduce_app.command("xor")
def xor_cmd(out: Path = OutOpt, engine: str = EngineOpt,
            epochs: int | None = typer.Option(None, "--epochs", min=1, help="Epochs (default 1000)."),
            seeds: int | None = SeedsOpt,
            check: bool = typer.Option(True, "--solver-check/--no-solver-check",
                                       help="Rerun the 1 ps case with 64 steps per row.")):
    """E2, Figs. 9-11: XOR 2-8-1 learning curves at t_row = 0.01, 0.1, 1 ps."""
    from . import xor

    started = time.perf_counter()
    f = xor.run(out, engine=engine, epochs=_or(epochs, xor.EPOCHS), seeds=_or(seeds, xor.SEEDS),
                check=check, progress=True)
    for t_row, s in f["rates"].items():
        typer.echo(f"t_row = {t_row * 1e12:g} ps: {s['n_reached']} of {s['n']} reach MSE < "
                   f"{xor.GOAL:g}; median final MSE {s['final_median']:.3g}")
    _done(out, "xor", started)


@reproduce_app.command("parasitic")
def parasitic_cmd(out: Path = OutOpt, engine: str = EngineOpt,
                  epochs: int | None = typer.Option(None, "--epochs", min=1,
                                                       help="Epochs (default 1000)."),
                  seeds: int | None = SeedsOpt,
                  KI: str = typer.Option("500uA", "--KI", help="Saturation current."),
                  Voff: str = typer.Option("10mV", "--Voff", help="Input offset."),
                  stress: bool = typer.Option(True, "--stress/--no-stress",
                                              help="Also run the KI = 200 uA stress case.")):
    """E3, Figs. 12-13: XOR at 0.1 ps with parasitic multipliers, beside the ideal run."""
    from ..units import parse_quantity
    from . import parasitic

    started = time.perf_counter()
    f = parasitic.run(out, engine=engine, epochs=_or(epochs, parasitic.EPOCHS),
                      seeds=_or(seeds, parasitic.SEEDS), KI=parse_quantity(KI, "KI", "A"),
                      Voff=parse_quantity(Voff, "Voff", "V"), stress=stress, progress=True)
    for law in ("ideal", "parasitic"):
        typer.echo(f"{law}: {f[law]['n_reached']} of {f[law]['n']} reach MSE < {parasitic.GOAL:g}")
    _done(out, "parasitic", started)


@reproduce_app.command("speed")
def speed_cmd(out: Path = OutOpt, engine: str = EngineOpt,
              epochs: int | None = typer.Option(None, "--epochs", min=1, help="Epochs (default 1000)."),
              repeats: int = typer.Option(3, "--repeats", min=1, help="Repeats per digital timing."),
              tests: str = typer.Option("1,2,3,4", "--tests", help="Which tests of Tab. 2."),
              full: bool = typer.Option(False, "--full",
                                        help="Time every epoch (no extrapolation): slow.")):
    """E4, Tabs. 1-2: digital training time against the circuit's."""
    from . import speed

    started = time.perf_counter()
    chosen = _tests(tests)
    f = speed.run(out, engine=engine, epochs=_or(epochs, speed.EPOCHS), repeats=repeats,
                  tests=chosen, full=full, progress=True)
    for note in f["notes"]:
        typer.echo(f"note: {note}")
    _done(out, "speed", started)


@reproduce_app.command("offsets")
def offsets_cmd(out: Path = OutOpt, engine: str = EngineOpt,
                epochs: int | None = typer.Option(None, "--epochs", min=1,
                                                     help="Epochs (default 1000)."),
                seeds: int | None = SeedsOpt,
                samples: int | None = typer.Option(None, "--samples", min=1,
                                                      help="Monte Carlo samples per yield "
                                                           "point (default 100).")):
    """Beyond the paper: offsets in each multiplier role and the error block, and yield
    against the mismatch of Km, Iref and C (XOR 2-8-1, 0.1 ps)."""
    from . import offsets

    started = time.perf_counter()
    f = offsets.run(out, engine=engine, epochs=_or(epochs, offsets.EPOCHS),
                    seeds=_or(seeds, offsets.SEEDS), samples=_or(samples, offsets.SAMPLES),
                    progress=True)
    kinds = [v[0] for v in f["verdicts"].values()]
    typer.echo(f"offsets: {kinds.count('absorbed')} of {len(kinds)} placements absorbed up to "
               f"{offsets.SIZES[-1] * 1e3:g} mV")
    _done(out, "offsets", started)


@reproduce_app.command("limits")
def limits_cmd(out: Path = OutOpt, engine: str = EngineOpt,
               epochs: int | None = typer.Option(None, "--epochs", min=1,
                                                    help="Epochs (default 1000)."),
               seeds: int | None = SeedsOpt):
    """Beyond the paper: learning against leakage, the current limit, noise (smallest C),
    charge injection and block bandwidth (XOR 2-8-1)."""
    from . import limits

    started = time.perf_counter()
    limits.run(out, engine=engine, epochs=_or(epochs, limits.EPOCHS),
               seeds=_or(seeds, limits.SEEDS), progress=True)
    _done(out, "limits", started)


@reproduce_app.command("transistor")
def transistor_cmd(out: Path = OutOpt, engine: str = EngineOpt,
                   epochs: int | None = typer.Option(None, "--epochs", min=1,
                                                        help="Epochs (default 1000)."),
                   seeds: int | None = typer.Option(None, "--seeds", min=1,
                                                       help="Initial weight sets (default 4)."),
                   corners: str = typer.Option("tt,ss,ff,sf,fs", "--corners",
                                               help="Process corners, comma-separated."),
                   mismatch: int | None = typer.Option(
                       None, "--mismatch", min=0, help="Monte Carlo samples of each cell's "
                       "mismatch models (default 8; 0: none)."),
                   samples: int | None = typer.Option(
                       None, "--samples", min=1, help="Networks per yield run with those "
                       "sigmas (default 20)."),
                   cosim_epochs: int | None = typer.Option(
                       None, "--cosim-epochs", min=0, help="Epochs of the transistor-level "
                       "co-simulation (default 60, about 25 s; 0: none)."),
                   xor_epochs: int = typer.Option(
                       0, "--xor-epochs", min=0, help="Most epochs of the network of cells "
                       "that learns XOR (examples/cells_xor.toml: 150; a run stops at the "
                       "first read-out, every 10 epochs, that learned; 0, the default: not "
                       "run; an epoch takes about 45 s on a core, a run 40 to 140 epochs; "
                       "docs/cells.md)."),
                   xor_seeds: int = typer.Option(
                       4, "--xor-seeds", min=0, help="Its initial weight sets at tt."),
                   xor_samples: int = typer.Option(
                       4, "--xor-samples", min=0, help="Its PDK mismatch samples at tt.")):
    """Beyond the paper: the blocks as SkyWater 130 nm transistor cells, characterized and
    fitted at every corner; which corners still learn 1-2-1 (needs ngspice and sky130)."""
    from . import transistor

    started = time.perf_counter()
    f = transistor.run(out, engine=engine, epochs=_or(epochs, transistor.EPOCHS),
                       seeds=_or(seeds, transistor.SEEDS), corners=_corners(corners),
                       mc_samples=_or(mismatch, transistor.MC_SAMPLES),
                       yield_samples=_or(samples, transistor.YIELD_SAMPLES),
                       cosim_epochs=_or(cosim_epochs, transistor.COSIM_EPOCHS),
                       xor_epochs=xor_epochs, xor_seeds=range(xor_seeds),
                       xor_samples=xor_samples, progress=True)
    if mismatch == 1:
        typer.echo("note: --mismatch 1 gives no spread; the mismatch part was left out")
    for name, row in f.get("yield", {}).items():
        typer.echo(f"mismatch yield, {name}: {row['learned']} of {row['n']} learn")
    for variant in transistor.VARIANTS:
        ok = [c for (c, v), row in f["table"].items() if v == variant
              and row["learned"] == row["n"]]
        typer.echo(f"laws {variant}: every seed learns at {', '.join(ok) or 'no corner'}")
    for name, run in f.get("xor", {}).get("runs", {}).items():
        typer.echo(f"XOR of cells, {name}: {'learned' if run['learned'] else 'not learned'} "
                   f"(read-out MSE {run['mse_readout']:.3g} V^2, {run['seconds']:.0f} s)")
    _done(out, "transistor", started)


@reproduce_app.command("tasks")
def tasks_cmd(out: Path = OutOpt, engine: str = EngineOpt,
              epochs: int | None = typer.Option(
                  None, "--epochs", min=1, help="Epochs of every network (default: each its "
                  "own, iris 100, wine 50, breast_cancer 40, digits 15)."),
              seeds: int | None = SeedsOpt,
              networks: str = typer.Option(",".join(_TASKS), "--networks",
                                           help="Which networks, comma-separated."),
              cell_samples: int | None = typer.Option(
                  None, "--cell-samples", min=2, help="Monte Carlo samples of each cell's "
                  "mismatch when the SkyWater sigmas are measured here (default 4).")):
    """Beyond the paper: iris, wine, breast cancer and digits under the circuit's
    imperfections (Imax, offsets, SkyWater cells with PDK mismatch), beside digital SGD
    and scikit-learn's MLP."""
    import numpy as np

    from . import tasks

    started = time.perf_counter()
    f = tasks.run(out, engine=engine, networks=_networks(networks, tasks.NETWORKS, "iris,wine"),
                  epochs=epochs, seeds=_or(seeds, tasks.SEEDS),
                  cell_samples=_or(cell_samples, tasks.CELL_SAMPLES), progress=True)
    if "skipped" in f["cells"]:
        typer.echo(f"tasks: SkyWater conditions skipped, {f['cells']['skipped']}")
    for net, row in f["networks"].items():
        acc = {c: float(np.median(v["test"])) for c, v in row["conditions"].items()}
        typer.echo(f"{tasks.label(net)}: median test accuracy " + ", ".join(
            f"{c} {a:.1%}" for c, a in acc.items()))
    _done(out, "tasks", started)


@reproduce_app.command("rules")
def rules_cmd(out: Path = OutOpt, engine: str = EngineOpt,
              epochs: int | None = typer.Option(
                  None, "--epochs", min=1, help="Epochs of every network (default: each its "
                  "own, xor 1000, iris 100, digits 20)."),
              seeds: int | None = SeedsOpt,
              networks: str = typer.Option(",".join(_RULE_NETS), "--networks",
                                           help="Which networks, comma-separated."),
              conditions: str | None = typer.Option(
                  None, "--conditions", help="Which rules and laws, comma-separated "
                  "(default all: backprop, feedback_alignment, direct_feedback_alignment, "
                  "constant_derivative, sign_charging).")):
    """Beyond the paper: learning rules (backprop, feedback alignment, direct feedback
    alignment, a constant derivative, sign charging) on XOR, iris and digits: what each
    learns, beside the same rule trained digitally, its blocks and its error path's
    settling time."""
    from . import rules

    started = time.perf_counter()
    f = rules.run(out, engine=engine, networks=_networks(networks, rules.NETWORKS, "xor,iris"),
                  conditions=_rule_conditions(conditions), epochs=epochs,
                  seeds=_or(seeds, rules.SEEDS), progress=True)
    for cond, why in f["missing"].items():
        typer.echo(f"rules: {cond} left out, {why}")
    for net, a in f["advice"].items():
        typer.echo(f"{rules.label(net)}: best {a['best']}; about as good: "
                   f"{', '.join(a['adequate'])}; fewest multipliers {a['cheapest']}, "
                   f"shortest error path {a['fastest']}")
    _done(out, "rules", started)


@reproduce_app.command("energy")
def energy_cmd(out: Path = OutOpt, engine: str = EngineOpt,
               epochs: int | None = typer.Option(
                   None, "--epochs", min=1, help="Epochs of every network (default: each its "
                   "own, xor 1000, digits 20)."),
               seeds: int | None = SeedsOpt,
               networks: str = typer.Option(",".join(_ENERGY_NETS), "--networks",
                                            help="Which networks, comma-separated."),
               biases: str | None = typer.Option(
                   None, "--biases", help="Bias scales of the cells, comma-separated "
                   "(default 0.003,0.01,0.03,0.1,0.3,1,2,3)."),
               cpu_pj: float | None = typer.Option(
                   None, "--cpu-pj-per-flop", min=0.0, help="Digital energy per FLOP on a "
                   "CPU, pJ (default 59.3: Green500 Nov 2019 No. 1, CPU only)."),
               gpu_pj: float | None = typer.Option(
                   None, "--gpu-pj-per-flop", min=0.0, help="... on a GPU, pJ (default 13.6: "
                   "Green500 Nov 2025 No. 1).")):
    """Beyond the paper: Tabs. 1-2 with energy. XOR 2-8-1 and digits 64-16-10: the
    shortest row Imax and the blocks' bandwidth allow (behavioural blocks at 40 GHz, the
    SkyWater cells as characterized), static power, energy per training and per inference,
    area, beside digital SGD's FLOPs at a CPU's and a GPU's J/FLOP; energy against the
    cells' bias (needs ngspice and sky130)."""
    from ..cells.cli import parse_biases
    from ..errors import SimulationError
    from . import energy

    chosen = _networks(networks, energy.NETWORKS, "xor,digits16")
    scales = energy.BIASES if biases is None else tuple(parse_biases(biases))
    missing = _transistor_missing()
    if missing:
        raise SimulationError(f"reproduce energy measures the SkyWater cells: {missing}")
    started = time.perf_counter()
    prices = {dev: pj * 1e-12 for dev, pj in (("cpu", cpu_pj), ("gpu", gpu_pj))
              if pj is not None}
    f = energy.run(out, engine=engine, networks=chosen, epochs=epochs,
                   seeds=_or(seeds, energy.SEEDS), biases=scales, J_per_flop=prices or None,
                   progress=True)
    for net, v in f["verdicts"].items():
        typer.echo(f"{energy.label(net)}: energy per training, SkyWater cells / digital = "
                   f"{v['sky130']['cpu']:.3g} (CPU), {v['sky130']['gpu']:.3g} (GPU); "
                   f"behavioural at 40 GHz / digital = {v['behavioural']['cpu']:.3g} (CPU), "
                   f"{v['behavioural']['gpu']:.3g} (GPU)")
    _done(out, "energy", started)


@reproduce_app.command("cancellation")
def cancellation_cmd(out: Path = OutOpt, engine: str = EngineOpt,
                     epochs: int | None = typer.Option(
                         None, "--epochs", min=1, help="Epochs of every network (default: "
                         "each its own, xor 1000, iris 100, digits 15)."),
                     seeds: int | None = SeedsOpt,
                     networks: str = typer.Option(",".join(_CANCEL_NETS), "--networks",
                                                  help="Which networks, comma-separated."),
                     sigmas: str = typer.Option(
                         "0,0.3,1,3,10", "--sigmas", help="Per-instance offset sigmas in mV, "
                         "comma-separated, increasing from 0."),
                     sky130: bool = typer.Option(
                         True, "--sky130/--no-sky130", help="Also XOR with the SkyWater "
                         "cells' laws and PDK mismatch (skipped without ngspice and sky130)."),
                     cell_samples: int | None = typer.Option(
                         None, "--cell-samples", min=2, help="Monte Carlo samples of each "
                         "cell's mismatch when the SkyWater sigmas are measured here "
                         "(default 4).")):
    """Beyond the paper: offset cancellation. XOR, iris and digits with per-instance
    offsets on every multiplier and error block (sigma 0..10 mV) under the chopper,
    autozero, a dead zone and leakage: yield, test accuracy and what each costs; XOR with
    the SkyWater cells' PDK mismatch."""
    from . import cancellation

    started = time.perf_counter()
    f = cancellation.run(out, engine=engine,
                         networks=_networks(networks, cancellation.NETWORKS, "xor,iris"),
                         epochs=epochs, seeds=_or(seeds, cancellation.SEEDS),
                         sigmas=_sigmas(sigmas), sky130=sky130,
                         cell_samples=_or(cell_samples, cancellation.CELL_SAMPLES),
                         progress=True)
    if "skipped" in f["cells"]:
        typer.echo(f"cancellation: SkyWater part skipped, {f['cells']['skipped']}")
    a = f["advice"]
    for tech, row in a["table"].items():
        typer.echo(f"{cancellation.LABELS[tech]}: " + "; ".join(
            f"{cancellation.label(n)} {cancellation.reach_text(f, n, tech)}"
            for n in row["reach"]))
    typer.echo("use: " + (cancellation.LABELS[a["best"]] if a["best"] else
                          "no verdict (the offset-free circuit does not learn in these "
                          "epochs)"))
    _done(out, "cancellation", started)


@reproduce_app.command("all")
def all_cmd(out: Path = OutOpt, engine: str = EngineOpt,
            epochs: int | None = typer.Option(None, "--epochs", min=1,
                                                 help="Epochs of xor, parasitic and speed "
                                                      "(default 1000; reduced runs only)."),
            seeds: int | None = SeedsOpt,
            repeats: int = typer.Option(3, "--repeats", min=1, help="Repeats per digital timing."),
            speed_tests: str = typer.Option("1,2,3,4", "--speed-tests",
                                            help="Which tests of Tab. 2 the speed part runs.")):
    """Run fig8, xor, parasitic, speed, offsets, limits, transistor, tasks, rules, energy
    and cancellation, then write DIR/report.md with everything."""
    from . import (
        cancellation,
        energy,
        fig8,
        limits,
        offsets,
        parasitic,
        rules,
        speed,
        tasks,
        transistor,
        xor,
    )
    from .report import write_report

    chosen = _tests(speed_tests)
    started = time.perf_counter()
    typer.echo("[1/11] fig8")
    fig8.run(out, engine=engine, progress=True)
    typer.echo("[2/11] xor")
    xor.run(out, engine=engine, epochs=_or(epochs, xor.EPOCHS), seeds=_or(seeds, xor.SEEDS),
            progress=True)
    typer.echo("[3/11] parasitic")
    parasitic.run(out, engine=engine, epochs=_or(epochs, parasitic.EPOCHS),
                  seeds=_or(seeds, parasitic.SEEDS), progress=True)
    typer.echo("[4/11] speed")
    f = speed.run(out, engine=engine, epochs=_or(epochs, speed.EPOCHS), repeats=repeats,
                  tests=chosen, progress=True)
    for note in f["notes"]:
        typer.echo(f"note: {note}")
    typer.echo("[5/11] offsets")
    offsets.run(out, engine=engine, epochs=_or(epochs, offsets.EPOCHS),
                seeds=_or(seeds, offsets.SEEDS), progress=True)
    typer.echo("[6/11] limits")
    limits.run(out, engine=engine, epochs=_or(epochs, limits.EPOCHS),
               seeds=_or(seeds, limits.SEEDS), progress=True)
    typer.echo("[7/11] transistor")
    missing = _transistor_missing()
    if missing:
        typer.echo(f"transistor: skipped, {missing}")
    else:
        # lighter than `reproduce transistor` (4 mismatch samples, 20 co-simulation epochs:
        # about 4 minutes); a reduced run (--epochs) at tt only, 2 samples, 2 epochs
        reduced = epochs is not None
        transistor.run(out, engine=engine, epochs=_or(epochs, transistor.EPOCHS),
                       seeds=_or(seeds, transistor.SEEDS),
                       corners=("tt",) if reduced else transistor.CORNERS,
                       mc_samples=2 if reduced else 4,
                       yield_samples=2 if reduced else transistor.YIELD_SAMPLES,
                       cosim_epochs=min(epochs, 2) if reduced else transistor.COSIM_EPOCHS,
                       progress=True)
    typer.echo("[8/11] tasks")
    # after transistor: its laws and sigmas (in this directory) serve the SkyWater
    # conditions; a reduced run (--epochs) trains iris alone
    tasks.run(out, engine=engine,
              networks=("iris",) if epochs is not None else tuple(tasks.NETWORKS),
              epochs=epochs, seeds=_or(seeds, tasks.SEEDS), progress=True)
    typer.echo("[9/11] rules")
    # a reduced run (--epochs) trains XOR alone
    rules.run(out, engine=engine,
              networks=("xor",) if epochs is not None else tuple(rules.NETWORKS),
              epochs=epochs, seeds=_or(seeds, rules.SEEDS), progress=True)
    typer.echo("[10/11] energy")
    if missing:
        typer.echo(f"energy: skipped, {missing}")
    else:  # a reduced run (--epochs) trains XOR alone, at three bias settings
        energy.run(out, engine=engine,
                   networks=("xor",) if epochs is not None else tuple(energy.NETWORKS),
                   epochs=epochs, seeds=_or(seeds, energy.SEEDS),
                   biases=(0.1, 1.0, 2.0) if epochs is not None else energy.BIASES,
                   progress=True)
    typer.echo("[11/11] cancellation")
    # after tasks and transistor: their cell laws and sigmas (in this directory) serve the
    # SkyWater part; a reduced run (--epochs) trains XOR alone
    cancellation.run(out, engine=engine,
                     networks=("xor",) if epochs is not None else tuple(cancellation.NETWORKS),
                     epochs=epochs, seeds=_or(seeds, cancellation.SEEDS),
                     progress=True)
    total = time.perf_counter() - started
    path = write_report(out, total_seconds=total)
    typer.echo(f"all: done in {total:.0f} s; wrote {path}")


def _networks(text: str, known, example: str) -> tuple:
    """The networks ``--networks`` names (comma-separated, among ``known``), in order."""
    from ..errors import ValidationError

    chosen = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    unknown = [t for t in chosen if t not in known]
    if not chosen or unknown:
        raise ValidationError(f"--networks {text!r}: give networks among "
                              f"{', '.join(known)} separated by commas, e.g. {example}")
    return chosen


def _sigmas(text: str) -> tuple:
    """``--sigmas`` (mV, comma-separated, increasing from 0) in volts."""
    from ..errors import ValidationError

    try:
        values = tuple(float(t) * 1e-3 for t in text.split(",") if t.strip())
    except ValueError:
        values = ()
    if not values or values[0] != 0 or any(b <= a for a, b in zip(values, values[1:])):
        raise ValidationError(f"--sigmas {text!r}: give offset sigmas in mV separated by "
                              "commas, increasing from 0 (the offset-free reference), e.g. "
                              "0,1,10")
    return values


def _rule_conditions(text: str | None) -> tuple:
    from ..errors import ValidationError
    from .rules import CONDITIONS

    if text is None:
        return tuple(CONDITIONS)
    chosen = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    unknown = [t for t in chosen if t not in CONDITIONS]
    if not chosen or unknown:
        raise ValidationError(f"--conditions {text!r}: give conditions among "
                              f"{', '.join(CONDITIONS)} separated by commas, e.g. "
                              "backprop,feedback_alignment")
    return chosen


def _or(given: int | None, default: int) -> int:
    """A flag's value, or the experiment's default when the flag is absent (not when 0)."""
    return default if given is None else given


def _transistor_missing() -> str | None:
    """Why ``transistor`` cannot run here (no ngspice, no SkyWater models), or None."""
    from ._common import sky130_missing

    return sky130_missing()


def _corners(text: str) -> tuple:
    from ..cells.models import check_corner
    from ..errors import ValidationError

    chosen = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    if not chosen:
        raise ValidationError("--corners: give corners separated by commas, e.g. tt,ss")
    for corner in chosen:
        check_corner(corner)
    return chosen


def _tests(text: str) -> tuple:
    from ..errors import ValidationError

    try:
        chosen = tuple(sorted({int(t) for t in text.split(",") if t.strip()}))
    except ValueError:
        chosen = ()
    if not chosen or not set(chosen) <= {1, 2, 3, 4}:
        raise ValidationError(f"--tests {text!r}: give test numbers 1..4 separated by commas, "
                              "e.g. 1,2")
    return chosen
