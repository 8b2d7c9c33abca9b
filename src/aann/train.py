"""``aann.train``: one call from a description to :class:`aann.Results`."""

from __future__ import annotations

import contextlib
import time

import numpy as np

from .circuit import Circuit, build_circuit
from .datasets import Dataset, load_dataset
from .errors import ValidationError
from .io import random_weights, read_weights
from .results import Results
from .spec import Config
from .stimulus import RowSchedule


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
          **engine_options) -> Results:
    """Simulate the training transient of every initial weight set at once.

    ``init_weights``: a weights JSON path, or a list of per-layer weight lists;
    by default ``config.training.seeds`` random sets. ``circuit`` replaces the
    circuit built from ``config`` (e.g. one batched over parameter sets).
    ``engine`` is ``"native"`` (JAX + diffrax) or ``"ngspice"``.
    """
    config = config or Config()
    dataset = dataset or load_dataset(config.training.dataset)
    dataset.check_topology(config.network.sizes)
    networks = initial_networks(config, init_weights)
    seeds = [n["seed"] for n in networks]
    W0 = tuple(np.stack([np.asarray(n["layers"][l], float) for n in networks])
               for l in range(len(config.network.sizes) - 1))
    schedule = schedule_for(config, dataset, seeds)
    started = time.perf_counter()
    if engine == "native":
        from .engines.native import simulate_rows

        solver = config.solver.resolved(config.lam)
        with _progress_bar(progress, config.training.epochs, len(seeds)) as on_chunk:
            run = simulate_rows(circuit or build_circuit(config), W0, schedule, solver,
                                waveforms=waveforms, circuit_batched=circuit_batched,
                                on_chunk=on_chunk)
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
                   extra={"rows": dataset.rows, **extra})


@contextlib.contextmanager
def _progress_bar(enabled: bool, epochs: int, networks: int):
    """A rich progress bar with ETA over epochs; yields the engine's chunk callback."""
    if not enabled:
        yield None
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    columns = (TextColumn("[bold]training[/] {task.description}"), BarColumn(),
               MofNCompleteColumn(), TextColumn("epochs"), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(f"{networks} network(s)", total=epochs)
        yield lambda done, *_: bar.update(task, completed=done)
