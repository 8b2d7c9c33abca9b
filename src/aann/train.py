"""``aann.train`` and ``aann.simulate``: one call from a description to :class:`aann.Results`.

Both prepare the run (:func:`aann.prepare.prepare`), hand it to an engine
(a name or an engine object, :mod:`aann.engines`) and build the results one
way for every engine.
"""

from __future__ import annotations

import os
import time

from .circuit import Circuit
from .datasets import Dataset
from .engines import Engine, get_engine
from .errors import ValidationError
from .prepare import Prepared, prepare
from .results import Results
from .spec import Config, as_config
from .stimulus import Waveform, check_stimulus


def train(config: Config | str | os.PathLike | None = None, *, init_weights=None,
          waveforms: bool = False, engine: str | Engine = "native", progress: bool = False,
          circuit: Circuit | None = None, circuit_batched: bool = False,
          dataset: Dataset | None = None, stimulus: Waveform | str | None = None,
          checkpoint=None, resume: bool = False, samples=None, **engine_options) -> Results:
    """Simulate the training transient of every initial weight set at once.

    ``init_weights``: a weights JSON path, or a list of per-layer weight lists;
    by default ``config.training.seeds`` random sets. ``circuit`` replaces the
    circuit built from ``config`` (e.g. one batched over parameter sets, with
    ``circuit_batched``). ``engine``: ``"native"`` (JAX + diffrax), ``"ngspice"``,
    or an engine object (``aann.Native(...)``, ``aann.Ngspice(workers=4)``);
    ``engine_options`` are the named engine's options (an option it does not
    have is a :class:`aann.ValidationError`). ``stimulus``: a
    :class:`aann.Waveform` applied instead of the data rows (see
    :func:`simulate`). ``checkpoint``: a file written after every chunk of
    epochs (engines that can resume; no waveforms); ``resume`` continues from it.
    ``samples``: with ``[mismatch]``, the Monte Carlo sample of each network
    (default: network k is sample k). ``config`` may be the path of a TOML file.
    """
    config = as_config(config)
    check_stimulus(stimulus)
    engine = get_engine(engine, **engine_options)
    prepared = prepare(config, init_weights=init_weights, dataset=dataset, stimulus=stimulus,
                       circuit=circuit, circuit_batched=circuit_batched,
                       waveforms=waveforms or stimulus is not None, samples=samples)
    return train_prepared(prepared, engine, waveforms=waveforms, progress=progress,
                          checkpoint=checkpoint, resume=resume)


def train_prepared(prepared: Prepared, engine: Engine, *, waveforms: bool = False,
                   progress: bool = False, checkpoint=None, resume: bool = False) -> Results:
    """:func:`train` for a run already prepared (:func:`aann.prepare`) and an engine object."""
    started = time.perf_counter()
    run = engine.run(prepared, waveforms=waveforms or prepared.stimulus is not None,
                     progress=progress, checkpoint=checkpoint, resume=resume)
    return Results.from_run(prepared, run, time.perf_counter() - started)


def simulate(config: Config | str | os.PathLike | None = None,
             stimulus: Waveform | str | os.PathLike | None = None, *,
             init_weights=None, circuit: Circuit | None = None, circuit_batched: bool = False,
             engine: str | Engine = "native", progress: bool = False,
             **engine_options) -> Results:
    """The circuit under arbitrary PWL sources (the near-sensor case, SPEC section 2).

    ``stimulus``: a :class:`aann.Waveform` (or a CSV path with columns ``time,
    Vin1.., Vtarget1.., Vteach``). There are no epochs, so ``mse`` is empty;
    the results hold the final weights, the waveforms at
    ``solver.samples_per_row`` samples per PWL piece, and the diagnostics.
    An engine that cannot apply PWL sources raises :class:`aann.ValidationError`.
    ``config`` may be the path of a TOML file.
    """
    config = as_config(config)
    if stimulus is None:
        raise ValidationError("simulate needs a stimulus: a Waveform or a CSV file")
    check_stimulus(stimulus)
    return train(config, init_weights=init_weights, circuit=circuit,
                 circuit_batched=circuit_batched, stimulus=stimulus, engine=engine,
                 progress=progress, **engine_options)
