"""Monte Carlo yield: N mismatch samples of one description, a sweep over samples.

Sample ``k`` is the circuit of ``[mismatch]`` draw ``k`` (:mod:`aann.mismatch`)
starting from the initial weights of seed ``k`` (``aann.random_weights(sizes, k,
init_range)``), or, with ``init_weights``, from one weight set shared by every
sample. A sample has *learned* when it reaches the goal (default: final MSE below
0.01 V^2) and did not diverge (:func:`aann.metrics.learned`); the yield is the
fraction of samples that learned, given with its Wilson score interval.

This module is a front end: the run is a sweep of one point whose seeds are the
samples (:func:`aann.sweep.plan.samples_sweep`), planned into batches by the
sweep's planner and its one memory estimate, run and committed batch by batch to
the sweep's crash-safe store (``out/sweep.sqlite``, :mod:`aann.sweep.store`) under
a fingerprint of the run (the settings, the initial weights, the goal, the
metrics, the number of samples and the batch size, the engine): Ctrl-C, a crash
or a SIGKILL loses at most the batch in flight and ``resume=True`` runs only the
samples missing. The files (``montecarlo.csv``, ``summary.json``,
``final_mse_histogram.png``: :class:`aann.sweep.samples.MonteCarlo`) are written
from the store once every batch is done; the store stays (``aann sweep export``
reads it). Without ``out`` the store lives in a temporary folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np

from . import metrics
from .batch import batch_limit, check_size, memory_budget
from .checkpoint import describe_difference
from .datasets import for_config
from .engines import Engine, get_engine
from .errors import ValidationError, short_repr
from .io import check_path_text
from .spec import Config
from .sweep.plan import plan, samples_sweep
from .sweep.runner import execute, prepare_batch, tasks
from .sweep.samples import (
    COLUMNS,
    Z95,
    MonteCarlo,
    fingerprint,
    histogram,
    one_weight_set,
    stored_run,
    wilson_interval,
)
from .sweep.store import Store

__all__ = ["COLUMNS", "Z95", "MonteCarlo", "histogram", "montecarlo", "samples_done",
           "wilson_interval"]
BYTES_PER_SAMPLE = 64  # the per-sample results and their CSV text, at most (bytes)


def montecarlo(config: Config | None, samples: int, *, goal=metrics.DEFAULT_GOAL.value,
               init_weights=None, batch: int | None = None, engine: str | Engine = "native",
               progress: bool = False, out=None, resume: bool = False) -> MonteCarlo:
    """Train ``samples`` Monte Carlo samples of ``config``, in batches; the yield.

    Sample ``k`` is ``[mismatch]`` draw ``k`` started from the weights of seed ``k``,
    or from ``init_weights`` (a weights JSON file with one network, or one network's
    per-layer arrays as :func:`aann.random_weights` gives them; default:
    ``training.init_weights``) for every sample. ``goal``: the final MSE (V^2) a
    sample must end below, or an :class:`aann.metrics.Goal`. ``batch``: samples per
    engine call (default: all, or as many as :func:`aann.batch.memory_budget`
    allows). ``out``: the folder of the run's store and, once all are done, its files
    (:meth:`MonteCarlo.save`); ``resume`` continues the run found there (other
    settings are refused, naming them). ``training.seeds`` and ``training.record``
    of ``config`` are not used.
    """
    config = Config() if config is None else config
    if not isinstance(config, Config):
        raise ValidationError(f"montecarlo takes an aann.Config, not {type(config).__name__}")
    n = _positive_int(samples, "samples", "the number of Monte Carlo samples")
    goal = goal if isinstance(goal, metrics.Goal) else metrics.Goal("mse", goal)
    engine = get_engine(engine)
    if resume and out is None:
        raise ValidationError("resume=True needs out=, the folder of the run to continue")
    budget = memory_budget()
    if n * BYTES_PER_SAMPLE > budget:
        raise ValidationError(
            f"samples = {n} needs about {n * BYTES_PER_SAMPLE / 2**30:.3g} GiB for the "
            f"per-sample results, more than the {budget / 2**30:.3g} GiB allowed; use fewer "
            "samples, or raise AANN_MEMORY_GB")
    cfg = config.replace(training={"record": "mse", "seeds": n})
    dataset = for_config(cfg)
    rows = dataset.rows
    shared = one_weight_set(cfg, init_weights)
    saved = None
    if out is not None:
        out = check_path_text(out, "output directory")
        saved = stored_run(out, resume)
        if resume and batch is None:
            batch = json.loads(saved["canonical"]).get("batch")  # the run's batches
    B = min(_positive_int(batch, "batch", "the number of samples per batch"), n) \
        if batch is not None else batch_limit(cfg, rows, n)
    check_size(cfg, B, rows)
    fp = fingerprint(cfg, n, B, goal, shared, engine, metrics.names(dataset))
    sweep = samples_sweep(cfg, n, fp, goal=goal, weights=shared)
    if saved is not None and resume and saved["digest"] != sweep.digest:
        diff = describe_difference(json.loads(saved["canonical"]), fp, "it",
                                   {"initial_weights": "the initial weights"})
        raise ValidationError(f"cannot resume the Monte Carlo run in {out}: {diff}; use the "
                              "same settings, or choose another --out")
    the_plan = plan(sweep, B, check_draws=False)
    first = tasks(sweep, the_plan)[0]  # its first sample, checked before anything is written
    engine.check(prepare_batch(dataclasses.replace(first, runs=first.runs[:1])))
    where = contextlib.nullcontext(out) if out is not None else tempfile.TemporaryDirectory()
    with where as folder:
        execute(sweep, Path(folder), the_plan, engine=engine, progress=progress,
                fresh=not resume, echo=lambda *a: None, label=("Monte Carlo", "samples"))
        result = MonteCarlo.from_store(folder, cfg, shared, B)
    if out is not None:
        result.save(out)
    return result


def samples_done(out) -> tuple[int, int] | None:
    """``(samples done, samples)`` of the Monte Carlo run stored in ``out``, or None."""
    try:
        store = Store.existing(out)
    except ValidationError:
        return None
    try:
        meta = store.meta()
        return (store.count(), int(meta["runs"])) if meta.get("kind") == "montecarlo" else None
    finally:
        store.close()


def _positive_int(value, name: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValidationError(f"{name} = {short_repr(value)}: {what} must be a positive "
                              "integer")
    return int(value)
