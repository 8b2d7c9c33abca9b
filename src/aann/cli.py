"""The ``aann`` command: parses arguments and dispatches, nothing else.

Errors a user can cause print one line ``error: ...`` and exit with code 2.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import typer

from .errors import AannError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Simulate fully analogue neural networks that train in continuous time.")



@app.callback()
def _group():
    """Simulate fully analogue neural networks that train in continuous time."""


# Options shared by every command that describes a training run.
ConfigArg = typer.Argument(None, help="TOML description; flags override it.", show_default=False)
TopologyOpt = typer.Option(None, "--topology", help="Layer sizes, e.g. 2-8-1.")
DatasetOpt = typer.Option(None, "--dataset", help="xor | parity3 | two-row | iris | wine | "
                          "breast_cancer | digits | FILE.csv")
TestFractionOpt = typer.Option(None, "--test-fraction", help="Rows held out for testing, per "
                               "class ([data] test_fraction), e.g. 0.25.")
TRowOpt = typer.Option(None, "--t-row", help="Time each row is held, e.g. 0.1ps.")
EpochsOpt = typer.Option(None, "--epochs", help="Number of epochs.")
SeedsOpt = typer.Option(None, "--seeds", help="Number of random initial weight sets.")
InitOpt = typer.Option(None, "--init-weights", help="weights.json with the initial weights.")
TeachOpt = typer.Option(None, "--teach", help="always | off | alternate")
MultOpt = typer.Option(None, "--multiplier", help="ideal | parasitic")
EdgeOpt = typer.Option(None, "--t-edge", help="Rise/fall time of the row edges, e.g. 1fs.")


def build_config(config: Path | None, topology=None, dataset=None, t_row=None, epochs=None,
                 seeds=None, init_weights=None, teach=None, multiplier=None, t_edge=None,
                 test_fraction=None):
    """The Config from a TOML file (or the defaults) with the flags applied on top."""
    from .spec import Config, parse_topology

    base = Config.from_toml(config) if config is not None else Config()
    training = {k: v for k, v in {"dataset": dataset, "t_row": t_row, "epochs": epochs,
                                  "seeds": seeds, "teach": teach, "t_edge": t_edge}.items()
                if v is not None}
    if init_weights is not None:
        training["init_weights"] = str(init_weights)
    over = {"training": training}
    if topology is not None:
        over["network"] = {"sizes": parse_topology(topology)}
    if multiplier is not None:
        over["blocks"] = {"multiplier": {"law": multiplier}}
    if test_fraction is not None:
        over["data"] = {"test_fraction": test_fraction}
    return base.replace(**over)


@app.command()
def train(config: Path | None = ConfigArg, topology: str | None = TopologyOpt,
          dataset: str | None = DatasetOpt, t_row: str | None = TRowOpt,
          epochs: int | None = EpochsOpt, seeds: int | None = SeedsOpt,
          init_weights: Path | None = InitOpt, teach: str | None = TeachOpt,
          multiplier: str | None = MultOpt, t_edge: str | None = EdgeOpt,
          test_fraction: float | None = TestFractionOpt,
          waveforms: bool = typer.Option(False, "--waveforms", help="Record and plot waveforms."),
          stimulus: Path | None = typer.Option(
              None, "--stimulus", help="CSV of PWL sources (time,Vin1..,Vtarget1..,Vteach) "
              "applied instead of the data rows."),
          resume: bool = typer.Option(False, "--resume",
                                      help="Continue from OUT/checkpoint.npz of a stopped run."),
          engine: str = typer.Option("native", "--engine", help="native | ngspice"),
          cells: str | None = typer.Option(
              None, "--cells", help="sky130 (with --engine ngspice): every block a SkyWater "
                                    "130 nm transistor cell (co-simulation; docs/cells.md)."),
          corner: str = typer.Option("tt", "--corner", help="with --cells: tt|ss|ff|sf|fs"),
          pdk_sample: int | None = typer.Option(
              None, "--pdk-sample", help="with --cells: the corner's mismatch models, every "
                                         "device its own draw: Monte Carlo sample K (as "
                                         "aann characterize --mismatch's)."),
          baselines: bool = typer.Option(
              False, "--baselines", help="Also train the digital baselines (per-row SGD in "
              "JAX, scikit-learn's MLP) on the same rows; print them beside the circuit and "
              "write baselines.json."),
          out: str = typer.Option("aann-out", "--out", help="Output directory.")):
    """Simulate the training transient; write mse.csv, weights.json, summary.json, the
    encoded rows (train.csv, test.csv), plots."""
    from .engines import get_engine
    from .errors import ValidationError
    from .io import check_path_text, ensure_writable_dir
    from .prepare import prepare
    from .report import print_summary
    from .stimulus import Waveform
    from .train import train_prepared

    cfg = build_config(config, topology, dataset, t_row, epochs, seeds, init_weights, teach,
                       multiplier, t_edge, test_fraction)
    if cells is not None:
        if cells != "sky130" or engine != "ngspice":
            raise ValidationError(f"--cells {cells} --engine {engine}: the cells are "
                                  "'--cells sky130' with '--engine ngspice'")
        engine = "ngspice-cells"
        engine_obj = get_engine(engine, corner=corner, pdk_sample=pdk_sample)
    else:
        for given, option in ((corner != "tt", "--corner"),
                              (pdk_sample is not None, "--pdk-sample")):
            if given:
                raise ValidationError(f"{option} applies to --cells sky130 only")
        engine_obj = get_engine(engine)
    wave = Waveform.from_csv(stimulus) if stimulus is not None else None
    if baselines and wave is not None:
        raise ValidationError("--baselines compares training on data rows; drop --stimulus")
    resumable = engine_obj.resumable and wave is None and not waveforms
    if resume and not resumable:
        raise ValidationError("--resume works with the native engine on data rows, "
                              "without --waveforms or --stimulus")
    # Every input is checked before the output folder is made.
    prepared = prepare(cfg, stimulus=wave, waveforms=waveforms or wave is not None)
    out = check_path_text(out, "output directory")
    checkpoint = out / "checkpoint.npz"
    engine_obj.check(prepared, checkpoint=checkpoint if resumable else None, resume=resume)
    ensure_writable_dir(out)
    try:
        results = train_prepared(prepared, engine_obj, waveforms=waveforms, progress=True,
                                 resume=resume, checkpoint=checkpoint if resumable else None)
    except KeyboardInterrupt:
        hint = (f"; continue with the same command and --resume ({checkpoint} holds the "
                "epochs done)") if resumable and checkpoint.exists() else ""
        typer.echo(f"interrupted{hint}", err=True)
        raise typer.Exit(130) from None
    results.save(out)
    checkpoint.unlink(missing_ok=True)  # the results are complete; nothing to resume
    print_summary(results)
    if baselines:
        _baselines(cfg, prepared, results, out)
    typer.echo(f"wrote {out}/")


def _baselines(cfg, prepared, results, out: Path) -> None:
    """``aann train --baselines``: the digital baselines on the run's rows, printed beside
    the circuit and saved as OUT/baselines.json."""
    import json

    from rich.console import Console

    from .baselines import baselines, circuit_figures, comparison_table
    from .io import atomic_write

    console = Console()
    with console.status("training the digital baselines"):
        report = baselines(cfg, dataset=prepared.schedule.dataset, seeds=prepared.seeds)
    console.print(comparison_table(report, results))
    for note in report["notes"]:
        console.print(f"note: {note}")
    report["circuit"] = circuit_figures(results)
    atomic_write(out / "baselines.json", json.dumps(report, indent=1) + "\n")


@app.command()
def montecarlo(config: Path | None = ConfigArg, topology: str | None = TopologyOpt,
               dataset: str | None = DatasetOpt, t_row: str | None = TRowOpt,
               epochs: int | None = EpochsOpt, init_weights: Path | None = typer.Option(
                   None, "--init-weights", help="weights.json with one network: the initial "
                   "weights of every sample (default: sample k starts from seed k)."),
               teach: str | None = TeachOpt, multiplier: str | None = MultOpt,
               t_edge: str | None = EdgeOpt,
               samples: int = typer.Option(
                   ..., "--samples", show_default=False,
                   help="Monte Carlo samples; sample k: mismatch draw k, initial weights "
                        "of seed k."),
               goal: float = typer.Option(
                   0.01, "--goal", help="A sample has learned when its final MSE (V^2) is "
                                        "below this and it did not diverge."),
               batch: int | None = typer.Option(
                   None, "--batch", help="Samples per batch (default: all that fit in "
                                         "memory)."),
               resume: bool = typer.Option(
                   False, "--resume", help="Continue the unfinished run in OUT (its "
                                           "finished batches are in OUT/sweep.sqlite)."),
               engine: str = typer.Option("native", "--engine", help="native | ngspice"),
               out: str = typer.Option("aann-montecarlo", "--out", help="Output directory.")):
    """Monte Carlo yield over mismatch samples; write montecarlo.csv, summary.json, a
    histogram of the final MSE."""
    from .montecarlo import montecarlo as run_montecarlo
    from .montecarlo import samples_done

    cfg = build_config(config, topology, dataset, t_row, epochs, None, init_weights, teach,
                       multiplier, t_edge)
    try:
        result = run_montecarlo(cfg, samples, goal=goal, batch=batch, engine=engine,
                                progress=True, out=out, resume=resume)
    except KeyboardInterrupt:
        done = samples_done(out)
        hint = (f"; {done[0]} of {done[1]} samples are kept in {Path(out) / 'sweep.sqlite'}: "
                "continue with the same command and --resume") if done and done[0] else ""
        typer.echo(f"interrupted{hint}", err=True)
        raise typer.Exit(130) from None
    typer.echo(result.summary_line())
    typer.echo(f"wrote {out}/")


@app.command()
def netlist(config: Path | None = ConfigArg, topology: str | None = TopologyOpt,
            dataset: str | None = DatasetOpt, t_row: str | None = TRowOpt,
            epochs: int | None = EpochsOpt, seeds: int | None = SeedsOpt,
            init_weights: Path | None = InitOpt, teach: str | None = TeachOpt,
            multiplier: str | None = MultOpt, t_edge: str | None = EdgeOpt,
            seed: int | None = typer.Option(
                None, "--seed", help="Initial weight set to export (default: the first)."),
            sample: int | None = typer.Option(
                None, "--sample", help="Monte Carlo sample of [mismatch] to export (default: "
                                       "the network's own, its seed)."),
            cells: str | None = typer.Option(
                None, "--cells", help="sky130: every block a SkyWater 130 nm transistor "
                                      "cell (co-simulation; docs/cells.md)."),
            output: str = typer.Option("net.cir", "-o", "--output",
                                       help="Netlist file to write.")):
    """Write the behavioural SPICE netlist (ngspice) of one network and its training run."""
    from .export import netlist as export_netlist
    from .io import atomic_write, check_output_file

    cfg = build_config(config, topology, dataset, t_row, epochs, seeds, init_weights, teach,
                       multiplier, t_edge)
    if cells is not None:
        from .cells.cli import cosim_netlist_command

        cosim_netlist_command(cfg, cells, seed=seed, sample=sample, output=output)
        return
    text, info = export_netlist(cfg, seed=seed, sample=sample)
    output = check_output_file(output)
    atomic_write(output, text)
    mc = f", Monte Carlo sample {info['sample']}" if info["sample"] is not None else ""
    typer.echo(f"wrote {output}: {cfg.network.topology}, initial weights of seed "
               f"{info['seed']}{mc}, row edges t_edge = {info['t_edge']:g} s; run it with: "
               f"ngspice -b -r out.raw {output}")


@app.command(no_args_is_help=True)
def evaluate(run_dir: str = typer.Argument(..., metavar="RUN_DIR", show_default=False,
                                           help="The --out folder of an 'aann train' run."),
             dataset: str | None = typer.Option(
                 None, "--dataset", help="FILE.csv in volts (x1..,y1.., like test.csv), or a "
                 "built-in name / CSV with a class column, encoded as the run encoded its "
                 "rows (default: the run's held-out rows)."),
             out: str | None = typer.Option(None, "--out", help="Output folder (default "
                                            "RUN_DIR/evaluation).")):
    """Run every trained network on a data set, weights frozen; write predictions.csv,
    evaluation.json (accuracy per network), confusion_<seed>.png."""
    from .evaluate import evaluate as run_evaluate
    from .evaluate import write
    from .io import check_path_text

    run_path = check_path_text(run_dir, "run folder")
    target = check_path_text(out, "output directory") if out is not None \
        else run_path / "evaluation"
    ev = run_evaluate(run_path, dataset)
    write(ev, target)
    typer.echo(ev.table())
    typer.echo(f"wrote {target}/")


@app.command(no_args_is_help=True)
def sweep(target: str = typer.Argument(..., metavar="SWEEP.toml | export DIR | report DIR",
                                       show_default=False),
          rest: list[str] | None = typer.Argument(None, hidden=True),
          out: str | None = typer.Option(None, "--out", help="Output folder of the sweep "
                                         "(its store, sweep.sqlite); default aann-sweep."),
          resume: bool = typer.Option(False, "--resume", help="Continue an unfinished sweep "
                                      "in OUT: skip the runs it has."),
          workers: int | None = typer.Option(None, "--workers", help="Start a local Dask "
                                             "cluster of N worker processes."),
          scheduler: str | None = typer.Option(None, "--scheduler", help="Use the Dask "
                                               "scheduler at this address (tcp://HOST:PORT)."),
          batch: int | None = typer.Option(None, "--batch", help="Most networks per compiled "
                                           "call (default 256; less if memory needs it)."),
          csv: str | None = typer.Option(None, "--csv", help="export: the CSV file to write."),
          by: list[str] | None = typer.Option(None, "--by", help="report: a swept key, or two "
                                              "joined by a comma (repeatable).")):
    """Sweep a grid / random sample of configuration keys x seeds in batches, into a
    crash-safe store; `export DIR --csv FILE` writes one row per run; `report DIR` writes
    report.md with figures."""
    from .sweep.cli import sweep_command

    sweep_command(target, rest, out=out, resume=resume, workers=workers, scheduler=scheduler,
                  batch=batch, csv=csv, by=by)


@app.command(no_args_is_help=True)
def characterize(cell: str = typer.Argument(..., metavar="CELL", show_default=False,
                                            help="multiplier | multiplier_lm | sigmoid | "
                                                 "derivative | charging | error | switch | "
                                                 "FILE.subckt "
                                                 "(port order: docs/cells.md)"),
                 kind: str | None = typer.Option(None, "--kind", help="What a FILE's cell is: "
                                                 "multiplier | sigmoid | derivative | "
                                                 "charging | error."),
                 corner: str = typer.Option("tt", "--corner", help="tt | ss | ff | sf | fs"),
                 temp: float = typer.Option(27.0, "--temp", help="Temperature in deg C."),
                 points: int | None = typer.Option(None, "--points", help="Sweep points per "
                                                   "input (default 11 / 41)."),
                 mismatch: int = typer.Option(0, "--mismatch", help="Also N Monte Carlo "
                                              "samples of the PDK's mismatch models -> "
                                              "mismatch.toml ([mismatch] sigmas)."),
                 bias: str | None = typer.Option(None, "--bias", help="Bias scales, e.g. "
                                                 "0.25,0.5,1,2: supply current and f3dB at "
                                                 "each (the bias resistor XRb scaled) -> "
                                                 "bias.csv."),
                 chopper: str | None = typer.Option(None, "--chopper", help="A multiplier's "
                                                    "inputs chopped at this frequency, e.g. "
                                                    "200kHz: the share of the product kept "
                                                    "and the pole that keeps as much."),
                 out: str = typer.Option("aann-cell", "--out", help="Output directory.")):
    """Sweep a SkyWater 130 nm cell in ngspice, fit its block law and a tabulated law
    (the switch: Ron, leakage, injected charge Q_inj); write fit.toml, sweep.csv,
    fit.png, summary.json."""
    from .cells.cli import characterize_command

    characterize_command(cell, kind=kind, corner=corner, temp=temp, points=points, out=out,
                         mismatch=mismatch, bias=bias, chopper=chopper)


from .experiments.cli import reproduce_app  # noqa: E402

app.add_typer(reproduce_app, name="reproduce")

INTERRUPTED = "interrupted; files already written are complete"


def _saying_when_interrupted(command):
    """``command`` printing :data:`INTERRUPTED` on Ctrl-C and exiting 130. Typer turns a
    KeyboardInterrupt into a bare exit 130; commands with more to say (train,
    montecarlo, sweep: how to resume) catch it themselves first."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            typer.echo(INTERRUPTED, err=True)
            raise typer.Exit(130) from None

    return wrapped


def _commands_say_when_interrupted(typer_app) -> None:
    for info in typer_app.registered_commands:
        info.callback = _saying_when_interrupted(info.callback)
    for group in typer_app.registered_groups:
        _commands_say_when_interrupted(group.typer_instance)


_commands_say_when_interrupted(app)


def _one_line(message: str) -> str:
    """A message on one line: a newline (e.g. in a path) is shown as ``\\n``."""
    return message.strip().replace("\r", "\\r").replace("\n", "\\n")


def main(argv=None) -> int:
    """Entry point: run the app, turning user errors into one line and exit code 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # the help, without an empty "error:" after it
        app(args=["--help"], standalone_mode=False)
        return 2
    try:
        rc = app(args=argv, standalone_mode=False)  # returns typer.Exit's code
        if isinstance(rc, int):
            return rc
    except AannError as e:
        print(f"error: {_one_line(str(e))}", file=sys.stderr)
        return 2
    except typer.Exit as e:
        return e.exit_code
    # A Ctrl-C that no command caught is typer's exit 130 (each command prints
    # INTERRUPTED itself); Abort is the end of input at a prompt.
    except typer.Abort:
        return 130
    except typer.TyperException as e:  # usage errors: bad option value, unknown option
        message = _one_line(e.format_message())
        if message:  # empty after a group's help shown for no command
            print(f"error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
