"""Running a sweep: batches in this process or on a Dask cluster, each committed at once.

:func:`run_batch` simulates one batch (what a Dask worker runs; it needs only
its :class:`BatchTask`). :func:`run_sweep` is the driver: it checks the sweep,
plans the batches (:func:`aann.sweep.plan.plan`), opens the store, skips the
runs already stored, hands the other batches out (here, one after another, or
to Dask workers, a few per worker in flight) and commits each finished batch.
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

from ..datasets import Dataset
from ..errors import ValidationError, short_repr
from ..io import check_path_text, ensure_writable_dir
from ..results import MSE_GOAL
from .plan import Plan, Sweep, plan
from .store import STORE, Store, writer_lock


@dataclass(frozen=True)
class BatchTask:
    """One batch: its runs ``((run, point, seed), ...)``, the raw configuration of
    each of their points, which circuit leaves are stacked, the resolved solver and
    the data set (a worker reads no file)."""

    index: int
    runs: tuple
    points: dict
    batched: tuple
    solver: dict
    dataset: Dataset


@dataclass(frozen=True)
class BatchResult:
    """Per run ``(run, point, seed, final_mse, learned, diverged_epoch,
    diverged_because, first_epoch_below)``; ``seconds``: the batch's wall time."""

    index: int
    rows: tuple
    seconds: float


def stack_circuits(circuits, batched):
    """The circuits as one circuit batched over networks: leaf ``i`` stacked along a new
    leading axis where ``batched[i]``, else the first circuit's (equal in all)."""
    import jax

    flat = [jax.tree.leaves(c) for c in circuits]
    treedef = jax.tree.structure(circuits[0])
    if any(len(f) != len(batched) for f in flat):
        raise ValueError("circuits of one batch must have the same structure")
    leaves = [np.stack([np.asarray(f[i]) for f in flat]) if b else flat[0][i]
              for i, b in enumerate(batched)]
    return jax.tree.unflatten(treedef, leaves)


def run_batch(task: BatchTask, progress: bool = False) -> BatchResult:
    """Train every run of ``task`` in one compiled call; its figures per run."""
    from ..circuit import build_circuit
    from ..engines.native import Native
    from ..io import random_weights
    from ..mismatch import draw
    from ..spec import from_dict
    from ..train import train

    started = time.perf_counter()
    configs = {p: from_dict(raw) for p, raw in task.points.items()}
    nominal = {p: build_circuit(cfg) for p, cfg in configs.items()}
    circuits, networks = [], []
    for _, p, seed in task.runs:
        cfg, circuit = configs[p], nominal[p]
        if cfg.mismatch.active:  # Monte Carlo sample = the run's seed
            circuit = dataclasses.replace(circuit, instances=draw(circuit, cfg.mismatch, seed))
        circuits.append(circuit)
        networks.append({"seed": seed, "layers": random_weights(
            cfg.network.sizes, seed, cfg.training.init_range)})
    cfg = configs[task.runs[0][1]]
    batched = any(task.batched)
    circuit = stack_circuits(circuits, task.batched) if batched else circuits[0]
    results = train(cfg, init_weights=networks, circuit=circuit, circuit_batched=batched,
                    dataset=task.dataset, engine=Native(solver=task.solver), progress=progress)
    final = results.mse[:, -1]
    diverged_at, reason = results.diverged_epoch, results.diverged_reason
    first = results.first_epoch_below(MSE_GOAL)
    rows = []
    for b, (run, p, seed) in enumerate(task.runs):
        learned = bool(np.isfinite(final[b]) and final[b] < MSE_GOAL and reason[b] is None)
        rows.append((run, p, seed, float(final[b]), learned, int(diverged_at[b]) or None,
                     reason[b].value if reason[b] else None, int(first[b]) or None))
    # a long sweep compiles a circuit per group: keep the process below the kernel's
    # limit on memory mappings (see aann.engines.native.release_compiled)
    from ..engines.native import release_compiled_if_crowded

    release_compiled_if_crowded()
    return BatchResult(task.index, tuple(rows), time.perf_counter() - started)


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


def _tasks(sweep: Sweep, the_plan: Plan, done: set):
    """A :class:`BatchTask` per batch with runs not yet stored (those runs only)."""
    for batch in the_plan.batches:
        runs = tuple(r for r in batch.runs if r[0] not in done)
        if not runs:
            continue
        group = the_plan.groups[batch.group]
        dataset = the_plan.datasets[sweep.configs[runs[0][1]].training.dataset]
        yield BatchTask(index=batch.index, runs=runs,
                        points={p: sweep.raw[p] for p in sorted({r[1] for r in runs})},
                        batched=group.batched, solver=group.solver, dataset=dataset)


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
        ensure_writable_dir(out)
        with writer_lock(out):
            store = Store(out / STORE)
            try:
                if store.meta() is None:
                    store.initialize(sweep)
                elif store.meta()["digest"] != sweep.digest:  # changed since the check
                    raise ValidationError(f"{out} holds another sweep; use another --out")
                done = store.done_runs()
                before = len(done)
                if before:
                    echo(f"resuming: {before} of {total} runs are done; "
                         f"{total - before} left")
                tasks = _tasks(sweep, the_plan, done)
                run = _run_dask if cluster else _run_local
                batches = run(tasks, store, (before, total), progress, cluster)
                done_now = store.count()
                learned = store.conn.execute(
                    "SELECT count(*) FROM runs WHERE learned").fetchone()[0]
            finally:
                store.close()
    finally:
        if cluster is not None:
            _close(cluster)
    seconds = time.perf_counter() - started
    echo(f"sweep done: {done_now} of {total} runs ({learned} learned, MSE < {MSE_GOAL:g}) in "
         f"{out}; {batches} batch(es) in {seconds:.1f} s. Export: aann sweep export {out} "
         "--csv FILE")
    return SweepOutcome(total, before, done_now, learned, batches, seconds, out)


def _run_local(tasks, store: Store, span: tuple, progress: bool, cluster) -> int:
    """Each batch in this process, one after another; its epochs move the bar (over
    ``span`` = (runs stored before, runs in the sweep))."""
    from ..progress import progress_bar, reporting_into

    batches, (done, total) = 0, span
    with progress_bar(progress, total, "sweep", "runs", start=done) as update:
        for task in tasks:
            n = len(task.runs)
            with reporting_into(update, done, done + n):
                result = run_batch(task, progress=progress)
            store.commit(result)
            batches, done = batches + 1, done + n
            update(done)
    return batches


def _run_dask(tasks, store: Store, span: tuple, progress: bool, cluster) -> int:
    """Batches on the Dask cluster, a few per worker thread in flight; each committed
    here as it comes back (in any order)."""
    from distributed import as_completed

    from ..progress import progress_bar

    client = cluster[0]
    threads = sum(client.nthreads().values()) or 1
    in_flight = max(2, 2 * threads)
    tasks = iter(tasks)

    def submit(task):
        return client.submit(run_batch, task, pure=False,
                             key=f"aann-sweep-batch-{task.index}-{uuid.uuid4().hex[:8]}")

    live = set()
    for task in tasks:
        live.add(submit(task))
        if len(live) >= in_flight:
            break
    batches, (done, total) = 0, span
    queue = as_completed(list(live))
    try:
        with progress_bar(progress, total, "sweep", "runs", start=done,
                          description=f"on {len(client.nthreads())} Dask worker(s)") as update:
            for future in queue:
                result = future.result()
                live.discard(future)
                future.release()
                store.commit(result)
                batches, done = batches + 1, done + len(result.rows)
                update(done)
                task = next(tasks, None)
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
