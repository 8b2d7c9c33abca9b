"""``aann.train``: one call from a description to :class:`aann.Results`."""

from __future__ import annotations

import time

import numpy as np

from .circuit import Circuit, build_circuit
from .datasets import Dataset, load_dataset
from .errors import ValidationError
from .io import random_weights, read_weights
from .progress import progress_bar
from .results import Results
from .spec import Config
from .stimulus import RowSchedule, Waveform


def initial_networks(config: Config, init_weights=None) -> list[dict]:
    """Initial weight sets: given, from ``training.init_weights``, or one per seed."""
    sizes, t = config.network.sizes, config.training
    if init_weights is not None:
        if isinstance(init_weights, (str, bytes)) or hasattr(init_weights, "__fspath__"):
            return read_weights(init_weights, sizes)
        return [n if isinstance(n, dict) else {"seed": k, "layers": n}
                for k, n in enumerate(init_weights)]
    if t.init_weights is not None:
        return read_weights(t.init_weights, sizes)
    return [{"seed": s, "layers": random_weights(sizes, s, t.init_range)}
            for s in range(t.seeds)]


def schedule_for(config: Config, dataset: Dataset, seeds) -> RowSchedule:
    t = config.training
    return RowSchedule.build(dataset, t.t_row, t.epochs, t.teach, t.order, seeds,
                             t.Vteach, t.t_edge)


def train(config: Config | None = None, *, init_weights=None, waveforms: bool = False,
          engine: str = "native", progress: bool = False, circuit: Circuit | None = None,
          circuit_batched: bool = False, dataset: Dataset | None = None,
          stimulus: Waveform | None = None, checkpoint=None, resume: bool = False,
          **engine_options) -> Results:
    """Simulate the training transient of every initial weight set at once.

    ``init_weights``: a weights JSON path, or a list of per-layer weight lists;
    by default ``config.training.seeds`` random sets. ``circuit`` replaces the
    circuit built from ``config`` (e.g. one batched over parameter sets).
    ``engine`` is ``"native"`` (JAX + diffrax) or ``"ngspice"``.
    ``stimulus``: a :class:`aann.Waveform` applied instead of the data rows
    (see :func:`simulate`). ``checkpoint``: a file written after every chunk of
    epochs (native engine, no waveforms); ``resume`` continues from it.
    """
    config = config or Config()
    if stimulus is not None:
        return simulate(config, stimulus, init_weights=init_weights, circuit=circuit,
                        circuit_batched=circuit_batched)
    dataset = dataset or load_dataset(config.training.dataset)
    dataset.check_topology(config.network.sizes)
    networks = initial_networks(config, init_weights)
    seeds = [n["seed"] for n in networks]
    W0 = _stack(config, networks)
    schedule = schedule_for(config, dataset, seeds)
    started = time.perf_counter()
    step_error = None
    if engine == "native":
        from .engines.native import simulate_rows

        solver = config.solver.resolved(config.lam)
        circuit = circuit or build_circuit(config)
        saver, done = _checkpointing(checkpoint, resume, waveforms, config, W0, circuit,
                                     schedule)
        if done is not None and done.epochs_done >= schedule.epochs:
            run = None
        else:
            with progress_bar(progress, config.training.epochs, "training", "epochs",
                              start=done.epochs_done if done else 0,
                              description=f"{len(seeds)} network(s)") as update:
                run = simulate_rows(circuit, W0, schedule, solver, waveforms=waveforms,
                                    circuit_batched=circuit_batched,
                                    on_chunk=_both(lambda done, *_: update(done), saver),
                                    state=done.state if done else None,
                                    first_epoch=done.epochs_done if done else 0)
        if done is not None:
            run = _joined(done, run)
        step_error = run.step_error
        extra = {"solver": {"method": solver.method, "stepping": solver.stepping,
                            "steps": solver.steps}}
    elif engine == "ngspice":
        from .engines.spice import simulate_rows_ngspice

        run, extra = simulate_rows_ngspice(config, W0, schedule, waveforms=waveforms,
                                           progress=progress, **engine_options)
    else:
        raise ValidationError(f"unknown engine {engine!r}; use native or ngspice")
    return Results(config=config, seeds=seeds, W_init=W0, mse=run.mse, W_epoch=run.W_epoch,
                   W_final=run.W_final, peak_current=run.peak_current,
                   solver_ok=run.solver_ok, waveforms=run.waveforms, engine=engine,
                   wall_seconds=time.perf_counter() - started,
                   extra={"rows": dataset.rows, **extra}, step_error=step_error)


def simulate(config: Config | None = None, stimulus: Waveform | None = None, *,
             init_weights=None, circuit: Circuit | None = None,
             circuit_batched: bool = False) -> Results:
    """The circuit under arbitrary PWL sources (the near-sensor case, SPEC section 2).

    ``stimulus``: a :class:`aann.Waveform` (or a CSV path with columns ``time,
    Vin1.., Vtarget1.., Vteach``). There are no epochs, so ``mse`` is empty;
    the results hold the final weights, the waveforms at
    ``solver.samples_per_row`` samples per PWL piece, and the diagnostics.
    """
    config = config or Config()
    if stimulus is None:
        raise ValidationError("simulate needs a stimulus: a Waveform or a CSV file")
    if not isinstance(stimulus, Waveform):
        stimulus = Waveform.from_csv(stimulus)
    sizes = config.network.sizes
    n_in, n_out = np.shape(stimulus.Vin)[1], np.shape(stimulus.Vtarget)[1]
    if (n_in, n_out) != (sizes[0], sizes[-1]):
        raise ValidationError(
            f"topology {config.network.topology} does not match the stimulus, which has "
            f"{n_in} input(s) and {n_out} target(s); use a topology {n_in}-...-{n_out}")
    from .engines.native import simulate_waveform

    networks = initial_networks(config, init_weights)
    W0 = _stack(config, networks)
    started = time.perf_counter()
    c = config.constants  # "auto" steps from the longest piece at the largest Vteach
    lam = c.Keta / c.C * float(np.max(np.abs(stimulus.Vteach))) * float(np.max(np.diff(
        stimulus.time)))
    run = simulate_waveform(circuit or build_circuit(config), W0, stimulus,
                            config.solver.resolved(lam), circuit_batched=circuit_batched)
    duration = float(stimulus.time[-1] - stimulus.time[0])
    return Results(config=config, seeds=[n["seed"] for n in networks], W_init=W0,
                   mse=run.mse, W_epoch=run.W_epoch, W_final=run.W_final,
                   peak_current=run.peak_current, solver_ok=run.solver_ok,
                   waveforms=run.waveforms, engine="native",
                   wall_seconds=time.perf_counter() - started,
                   extra={"stimulus": "waveform", "stimulus_seconds": duration,
                          "breakpoints": int(np.size(stimulus.time))})


def _stack(config: Config, networks) -> tuple:
    """Per layer, the initial weights of every network stacked: (B, n_out, n_in + 1)."""
    return tuple(np.stack([np.asarray(n["layers"][l], float) for n in networks])
                 for l in range(len(config.network.sizes) - 1))


def _checkpointing(path, resume, waveforms, config, W0, circuit, schedule):
    """The chunk callback that writes ``path``, and the checkpoint to resume from."""
    if path is None:
        if resume:
            raise ValidationError("resume needs a checkpoint file")
        return None, None
    if waveforms:
        if resume:
            raise ValidationError("a run with waveforms cannot be resumed; drop --waveforms "
                                  "or --resume")
        return None, None
    from . import checkpoint as ck
    from .engines.native import initial_state

    fp = ck.fingerprint(config, W0, circuit)
    done = ck.load(path, fp, initial_state(W0, schedule)) if resume else None
    earlier = [(done.mse, done.W_epoch, None, done.step_error)] if done else []

    def save(epochs_done, state, parts):
        ck.save(path, fp, state, earlier + list(parts))

    return save, done


def _joined(done, run):
    """A checkpoint's records followed by those of the resumed run."""
    from .engines.native import NativeRun

    if run is None:  # the checkpoint was already complete
        W = tuple(np.asarray(w) for w in done.state.W)
        return NativeRun(done.mse, done.W_epoch, W, tuple(np.asarray(p) for p in done.state.peak),
                         np.asarray(done.state.ok), None, done.step_error)
    return NativeRun(np.concatenate([done.mse, run.mse], axis=1),
                     tuple(np.concatenate([a, b], axis=1)
                           for a, b in zip(done.W_epoch, run.W_epoch)),
                     run.W_final, run.peak_current, run.solver_ok, run.waveforms,
                     np.concatenate([done.step_error, run.step_error], axis=1))


def _both(*callbacks):
    """One chunk callback calling every non-None one, in order."""
    live = [c for c in callbacks if c is not None]
    if not live:
        return None
    return lambda *a: [c(*a) for c in live] and None
