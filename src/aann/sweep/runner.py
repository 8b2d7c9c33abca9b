"""Running a sweep: batches in this process or on a Dask cluster, each committed at once.

:func:`run_batch` simulates one batch (what a Dask worker runs; it needs only
its :class:`BatchTask`). :func:`run_sweep` is the driver: it checks the sweep,
plans the batches (:func:`aann.sweep.plan.plan`), opens the store, skips the
runs already stored, hands the other batches out (here, one after another, or
to Dask workers, a few per worker in flight) and commits each finished batch
(:func:`execute`, which :func:`aann.montecarlo` runs too).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import metrics as _metrics
from ..datasets import Dataset
from ..datasets import key as data_key
from ..errors import ValidationError, short_repr
from ..io import check_path_text, ensure_writable_dir
from .plan import Plan, Sweep, plan
from .store import STORE, Store, writer_lock


@dataclass(frozen=True)
class BatchTask:
    """One batch: its runs ``((run, point, seed), ...)``, the configuration of each of
    their points (an :class:`aann.Config`, or its tables, ``Config.to_dict()``), which
    circuit leaves are stacked (``axes``, the group's: :func:`aann.batch.leaf_axes`), the
    resolved solver and the data set (a worker reads no file); the goal that defines
    *learned*; one initial weight set for every run (``weights``; None: run of seed s
    starts from the weights of seed s); the engine (None: the native engine with
    ``solver``)."""

    index: int
    runs: tuple
    points: dict
    axes: tuple | None
    solver: dict
    dataset: Dataset
    goal: _metrics.Goal = _metrics.DEFAULT_GOAL
    weights: dict | None = None
    engine: object = None


@dataclass(frozen=True)
class BatchResult:
    """Per run ``(run, point, seed, final_mse, learned, diverged_epoch,
    diverged_because, first_epoch_below)``; ``seconds``: the batch's wall time;
    ``finals``: per run the final value of every metric, by name; ``engine``: the
    engine's name, version and settings."""

    index: int
    rows: tuple
    seconds: float
    finals: tuple = ()
    engine: dict | None = None


def variants(task: BatchTask) -> list:
    """The runs of ``task`` as :class:`aann.batch.Variant`: run (point, seed) is Monte
    Carlo sample ``seed`` of its point's circuit (with ``[mismatch]``) started from the
    weights of ``seed`` (or ``task.weights``), labelled by its run and point."""
    from ..batch import Variant
    from ..spec import Config, from_dict

    configs = {p: raw if isinstance(raw, Config) else from_dict(raw)
               for p, raw in task.points.items()}
    shared = task.weights
    return [Variant(configs[p], shared["seed"] if shared else seed,
                    sample=seed if configs[p].mismatch.active else None,
                    weights=shared["layers"] if shared else None,
                    coords={"run": run, "point": p}) for run, p, seed in task.runs]


def prepare_batch(task: BatchTask):
    """The :class:`aann.prepare.Prepared` of ``task`` (:func:`aann.study.prepare_variants`
    of its :func:`variants`, stacked along the group's axes)."""
    from ..study import prepare_variants

    return prepare_variants(variants(task), task.axes, task.dataset)


def run_batch(task: BatchTask, progress: bool = False) -> BatchResult:
    """Train every run of ``task`` in one engine call; its figures per run: the final
    value of every registered metric, *learned* (:func:`aann.metrics.learned`, the
    one definition), the divergence and the first epoch reaching the goal."""
    from ..engines.native import Native
    from ..study import train_variants

    started = time.perf_counter()
    engine = task.engine if task.engine is not None else Native(solver=task.solver)
    results = train_variants(variants(task), axes=task.axes, engine=engine,
                           dataset=task.dataset, progress=progress)
    B = results.n_networks
    finals = {name: values[:, -1] if values.shape[1] else np.full(B, np.nan)
              for name, values in results.metrics.items()}
    diverged_at, reason = results.diverged_epoch, results.diverged_reason
    learned = _metrics.learned(finals, diverged_at, task.goal)
    first = task.goal.first_epoch(results.metrics[task.goal.metric])
    rows = []
    for b, (run, p, seed) in enumerate(task.runs):
        rows.append((run, p, seed, float(finals["mse"][b]), bool(learned[b]),
                     int(diverged_at[b]) or None, reason[b].value if reason[b] else None,
                     int(first[b]) or None))
    info = results.engine_info
    engine_info = {"name": results.engine, "version": info.version if info else None,
                   "settings": info.settings if info else None}
    # a long sweep compiles a circuit per group: keep the process below the kernel's
    # limit on memory mappings (see aann.engines.native.release_compiled)
    from ..engines.native import release_compiled_if_crowded

    release_compiled_if_crowded()
    return BatchResult(task.index, tuple(rows), time.perf_counter() - started,
                       tuple({n: float(v[b]) for n, v in finals.items()} for b in range(B)),
                       json.loads(json.dumps(engine_info, default=_jsonable)))


def _jsonable(x):
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return dataclasses.asdict(x)
    return str(x)


@dataclass(frozen=True)
class SweepOutcome:
    """What :func:`run_sweep` did: runs in the sweep, stored before and now, learned."""

    total: int
    done_before: int
    done: int
    learned: int
    batches_run: int
    seconds: float
    out: Path

    @property
    def nothing_left(self) -> bool:
        return self.done_before == self.total


def tasks(sweep: Sweep, the_plan: Plan, done: set = frozenset(), engine=None) -> list:
    """A :class:`BatchTask` per batch with runs not yet stored (those runs only);
    ``engine``: what runs them (None: the native engine with the group's solver)."""
    out = []
    for batch in the_plan.batches:
        runs = tuple(r for r in batch.runs if r[0] not in done)
        if not runs:
            continue
        group = the_plan.groups[batch.group]
        dataset = the_plan.datasets[data_key(sweep.configs[runs[0][1]])]
        out.append(BatchTask(index=batch.index, runs=runs,
                             # the points' configurations as parsed (a base key the
                             # point's law, switch or rule does not read is dropped),
                             # as plain tables a worker can unpickle
                             points={p: sweep.configs[p].to_dict()
                                     for p in sorted({r[1] for r in runs})},
                             axes=group.axes, solver=group.solver, dataset=dataset,
                             goal=sweep.goal, weights=sweep.weights, engine=engine))
    return out


_KINDS = {"sweep": "sweep (aann sweep)", "montecarlo": "Monte Carlo run (aann montecarlo)"}


def check_store(out: Path, sweep: Sweep) -> int | None:
    """Runs already stored in ``out`` for ``sweep`` (None: no store yet); refuses a store
    of another sweep, naming what differs."""
    if not (out / STORE).is_file():
        return None
    store = Store(out / STORE)
    try:
        meta = store.meta()
        if meta is None:
            return None
        if meta.get("kind", "sweep") != sweep.kind:
            raise ValidationError(f"{out} holds a {_KINDS[meta.get('kind', 'sweep')]}, not a "
                                  f"{_KINDS[sweep.kind]}; use another --out")
        if meta["digest"] != sweep.digest:
            raise ValidationError(
                f"{out} holds another sweep ({_difference(meta['canonical'], sweep.canonical)}"
                f"); use another --out, or the sweep file it was run with")
        return store.count()
    finally:
        store.close()


def run_sweep(sweep: Sweep, out, *, resume: bool = False, workers: int | None = None,
              scheduler: str | None = None, batch: int | None = None,
              progress: bool = False, echo=print) -> SweepOutcome:
    """Run the runs of ``sweep`` not yet in the store ``out/sweep.sqlite``.

    Everything is checked before anything is created: the store (another sweep's, or
    this one unfinished without ``resume``, is refused; a finished one: nothing is
    run), the plan (data sets, memory, mismatch draws) and the cluster.
    ``workers``: start a local Dask cluster of that many worker processes;
    ``scheduler``: use the Dask scheduler at that address; neither: run in this
    process. ``batch``: the most networks per compiled call. ``echo`` prints the
    lines a user reads (where the dashboard is, what is left).
    """
    started = time.perf_counter()
    out = check_path_text(out, "output directory")
    if workers is not None and scheduler is not None:
        raise ValidationError("give --workers (a local Dask cluster) or --scheduler (an "
                              "existing one), not both")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ValidationError(f"--workers {short_repr(workers)} must be a positive integer")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ValidationError("--scheduler needs an address such as tcp://HOST:8786")
    total = sweep.n_runs
    stored = check_store(out, sweep)
    if stored is not None and stored >= total:
        echo(f"nothing left to run: all {total} runs of this sweep are in {out}")
        return SweepOutcome(total, stored, stored, 0, 0, 0.0, out)
    if stored and not resume:
        raise ValidationError(f"{out} holds this sweep unfinished ({stored} of {total} runs "
                              "done); continue it with --resume, or use another --out")
    the_plan = plan(sweep, batch)
    cluster = _connect(workers, scheduler, echo) if workers or scheduler else None
    try:
        before, batches, done_now, learned = execute(sweep, out, the_plan, cluster=cluster,
                                                     progress=progress, echo=echo)
    finally:
        if cluster is not None:
            _close(cluster)
    seconds = time.perf_counter() - started
    echo(f"sweep done: {done_now} of {total} runs ({learned} learned, "
         f"{_goal_text(sweep.goal)}) in {out}; {batches} batch(es) in {seconds:.1f} s. "
         f"Export: aann sweep export {out} --csv FILE")
    return SweepOutcome(total, before, done_now, learned, batches, seconds, out)


def _goal_text(goal) -> str:
    """``MSE < 0.01`` (as before other metrics), or the goal's own description."""
    return f"MSE < {goal.value:g}" if goal.metric == "mse" else goal.describe()


def execute(sweep: Sweep, out: Path, the_plan: Plan, *, cluster=None, engine=None,
            progress: bool = False, fresh: bool = False, echo=print,
            label: tuple = ("sweep", "runs")) -> tuple:
    """Run the batches of ``the_plan`` whose runs ``out/sweep.sqlite`` does not hold,
    committing each as it finishes, under the folder's writer lock; the store is
    created (with ``fresh``: emptied and made anew) first. ``engine``: what runs the
    batches (None: the native engine). Returns (runs stored before, batches run, runs
    stored now, of which learned)."""
    ensure_writable_dir(out)
    with writer_lock(out):
        store = Store(out / STORE)
        try:
            meta = store.meta()
            if meta is None or fresh:
                store.initialize(sweep)
            elif meta["digest"] != sweep.digest:  # changed since the check
                raise ValidationError(f"{out} holds another sweep; use another --out")
            done = store.done_runs()
            before = len(done)
            if before:
                echo(f"resuming: {before} of {sweep.n_runs} runs are done; "
                     f"{sweep.n_runs - before} left")
            todo = tasks(sweep, the_plan, done, engine)
            run = _run_dask if cluster else _run_local
            batches = run(todo, store, (before, sweep.n_runs), progress, cluster, label)
            done_now = store.count()
            learned = store.conn.execute(
                "SELECT count(*) FROM runs WHERE learned").fetchone()[0]
        finally:
            store.close()
    return before, batches, done_now, learned


def _run_local(todo, store: Store, span: tuple, progress: bool, cluster, label) -> int:
    """Each batch in this process, one after another; its epochs move the bar (over
    ``span`` = (runs stored before, runs in the sweep); ``label``: the bar's name and
    unit)."""
    from ..progress import progress_bar, reporting_into

    batches, (done, total) = 0, span
    with progress_bar(progress, total, *label, start=done,
                      description=f"batch 1/{len(todo)}") as update:
        for i, task in enumerate(todo):
            n = len(task.runs)
            with reporting_into(update, done, done + n):
                result = run_batch(task, progress=progress)
            store.commit(result)
            batches, done = batches + 1, done + n
            update(done, description=f"batch {i + 1}/{len(todo)}")
    return batches


def _run_dask(todo, store: Store, span: tuple, progress: bool, cluster, label) -> int:
    """Batches on the Dask cluster, a few per worker thread in flight; each committed
    here as it comes back (in any order)."""
    from distributed import as_completed

    from ..progress import progress_bar

    client = cluster[0]
    threads = sum(client.nthreads().values()) or 1
    in_flight = max(2, 2 * threads)
    pending = iter(todo)

    def submit(task):
        return client.submit(run_batch, task, pure=False,
                             key=f"aann-sweep-batch-{task.index}-{uuid.uuid4().hex[:8]}")

    live = set()
    for task in pending:
        live.add(submit(task))
        if len(live) >= in_flight:
            break
    batches, (done, total) = 0, span
    queue = as_completed(list(live))
    try:
        with progress_bar(progress, total, *label, start=done,
                          description=f"on {len(client.nthreads())} Dask worker(s)") as update:
            for future in queue:
                result = future.result()
                live.discard(future)
                future.release()
                store.commit(result)
                batches, done = batches + 1, done + len(result.rows)
                update(done)
                task = next(pending, None)
                if task is not None:
                    future = submit(task)
                    live.add(future)
                    queue.add(future)
    finally:
        if live:
            client.cancel(list(live))
    return batches


def _connect(workers: int | None, scheduler: str | None, echo):
    """``(client, cluster or None)``: a local cluster of ``workers`` processes, or the
    scheduler at ``scheduler``; prints the dashboard's address."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValidationError("--workers and --scheduler need Dask distributed: "
                              "pip install 'distributed>=2024.1'") from None
    cluster = None
    try:
        if scheduler is not None:
            client = Client(scheduler, timeout=10)
        else:
            # one thread per worker process: each batch is one JAX call, which uses
            # the cores itself; processes, so that a worker is what it would be remotely
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   silence_logs=logging.ERROR)
            client = Client(cluster)
    except (OSError, TimeoutError, ValueError) as e:
        if cluster is not None:
            cluster.close()
        where = f"the Dask scheduler {scheduler}" if scheduler else "a local Dask cluster"
        raise ValidationError(f"cannot reach {where}: {type(e).__name__}: {e}") from None
    n = len(client.nthreads())
    link = client.dashboard_link
    try:
        import bokeh  # noqa: F401  (the dashboard's pages need it)
        note = ""
    except ImportError:
        note = " (its plots need bokeh: pip install bokeh)"
    what = f"scheduler {scheduler}" if scheduler else f"local Dask cluster of {n} worker(s)"
    echo(f"{what}; dashboard: {link}{note}" if link else f"{what}; no dashboard")
    return client, cluster


def _close(cluster) -> None:
    client, local = cluster
    try:
        client.close()
    finally:
        if local is not None:
            local.close()


def _difference(saved: str, now: str) -> str:
    """The first few settings in which two canonical sweeps differ."""
    def flat(d, prefix=""):
        out = {}
        for k, v in (d.items() if isinstance(d, dict) else []):
            key = f"{prefix}{k}"
            if k == "grid" and not prefix and isinstance(v, list):
                v = {name: values for name, values in v}
            if isinstance(v, dict) and v:
                out.update(flat(v, f"{key}."))
            else:
                out[key] = v
        return out

    a, b = flat(json.loads(saved)), flat(json.loads(now))
    keys = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    shown = "; ".join(f"{k}: {short_repr(a.get(k))} there, {short_repr(b.get(k))} here"
                      for k in keys[:3])
    return shown or "its digest differs"
