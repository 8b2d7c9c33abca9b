"""A real task: digits on 64-16-10, the circuit's cost of held-out metrics, and the
digital baseline on the same work.

Workload (docs/tasks.md): scikit-learn's bundled ``digits`` (1797 rows, 8x8 pixels)
scaled globally into 0..1 V, one-hot 0.2/0.8 V targets, ``test_fraction = 0.25``
held out per class (``split_seed`` 0: 1347 training rows, 450 held out; a quarter
as the issue's example and docs/tasks.md use), a 64-16-10 network, 10 seeds,
30 epochs, ``order = "shuffle"`` (the set is sorted by class), t_row = 0.1 ps
(lambda = 1), ideal blocks, default solver. Timed in this one process, each
**warm** (a first call compiles; then the fastest of ``--repeats`` calls, the
variants interleaved so that the machine's load falls on all alike, as ``timeit``
reports: on a shared machine other processes only ever add time), wall time and
this process's CPU time (all threads; less sensitive to other processes' load):

* ``circuit + test metrics``: ``aann.train(cfg, dataset=ds)`` with the encoded rows
  ``ds`` (loaded once): after every epoch ``mse``, ``test_mse``,
  ``train_accuracy``, ``test_accuracy``, evaluated inside the compiled loop (the
  held-out rows' forward pass is the extra work);
* ``circuit, mse only``: the same rows given as a :class:`aann.Dataset` without
  classes or held-out rows, so that the engine registers ``mse`` alone (the same
  schedule, weights and row order: its final weights are checked equal);
* ``digital SGD (JAX)``: :mod:`aann.digital`'s compiled per-row SGD loop at
  lr = lambda in each seed's row order, ``vmap``-ed over the 10 seeds, from the
  same initial weights; final weights only (no per-epoch figures), then its test
  accuracy by :mod:`aann.metrics`' definitions.

The first ``aann.train(cfg)`` call (data set loading, tracing, XLA compile, run;
not the import) is timed too, and, apart, the metrics' own cost: one compiled
evaluation of the 10 networks with every metric and with ``mse`` alone (the
median of 20 calls), their difference times the epochs against the warm run.
Goals: the circuit's run with per-epoch test metrics within 30 s (first call, i.e.
what ``aann train`` waits for after start-up), and the per-epoch test metrics
costing at most 25 % over ``mse`` alone, judged on the warm CPU time: on this
shared 2-core machine the warm wall-time ratio of the two variants swung from -32 %
to +34 % between runs (load average 2 to 7) while their CPU times agreed within
3 % and the isolated cost was below 0.5 %; the wall-time ratio is printed beside it.

    .venv/bin/python benchmarks/tasks.py            # the full benchmark
    .venv/bin/python benchmarks/tasks.py --quick    # 3 epochs, 2 seeds: a smoke run
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

TOTAL_GOAL = 30.0  # s
METRICS_GOAL = 0.25  # extra share of wall time


def config(epochs: int, seeds: int):
    import aann

    return aann.Config(network={"sizes": [64, 16, 10]},
                       training={"dataset": "digits", "epochs": epochs, "seeds": seeds,
                                 "order": "shuffle", "t_row": "0.1ps"},
                       data={"test_fraction": 0.25})


def digital_vmapped(prepared):
    """``fn()``: every network's per-row SGD in its row order at once, compiled."""
    import jax
    import jax.numpy as jnp

    from aann import digital

    ds, order = prepared.schedule.dataset, prepared.schedule.order
    order = np.broadcast_to(order, (prepared.n_networks, *order.shape[1:]))
    loop = digital._compiled_sgd(len(prepared.W0), False, True)  # what sgd_jax runs
    fn = jax.jit(jax.vmap(loop, in_axes=(0, None, None, None, None, 0)))
    args = (tuple(jnp.asarray(w) for w in prepared.W0), jnp.asarray(ds.X), jnp.asarray(ds.Y),
            jnp.asarray(prepared.config.lam), jnp.asarray(prepared.config.constants.Vbias),
            jnp.asarray(order, jnp.int32))
    return lambda: fn(*args)


def metric_names(dataset) -> tuple:
    from aann import metrics

    return metrics.names(dataset)


def evaluation_seconds(prepared, which: tuple, calls: int = 20) -> float:
    """Median seconds of one compiled evaluation of metrics ``which`` for every network
    of ``prepared`` at its initial weights (what the engine runs after each epoch)."""
    import jax
    import jax.numpy as jnp

    from aann import metrics

    rows = metrics.Rows.of(prepared.schedule.dataset)
    fn = jax.jit(jax.vmap(lambda W: metrics.evaluate(prepared.circuit, W, rows, which)))
    W = tuple(jnp.asarray(w) for w in prepared.W0)
    jax.block_until_ready(fn(W))
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        jax.block_until_ready(fn(W))
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=4, help="warm calls per variant")
    parser.add_argument("--quick", action="store_true", help="3 epochs, 2 seeds, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.seeds, args.repeats = 3, 2, 1

    load_before = os.getloadavg()
    import jax

    import aann  # noqa: F401  (imports JAX; not timed)
    from aann.baselines import digital_figures
    from aann.datasets import Dataset

    cfg = config(args.epochs, args.seeds)
    prepared = aann.prepare(cfg)
    ds = prepared.schedule.dataset
    mse_only = Dataset(ds.name, ds.X, ds.Y)  # no classes, no held-out rows: mse alone
    work = args.seeds * args.epochs * ds.rows  # network-rows

    t = time.perf_counter()
    full = aann.train(cfg)  # first call: tracing + compile + run
    first_call = time.perf_counter() - t
    bare = aann.train(cfg, dataset=mse_only)  # compiles the mse-only loop
    sgd = digital_vmapped(prepared)
    jax.block_until_ready(sgd())  # compiles

    variants = {
        "circuit + test metrics": lambda: aann.train(cfg, dataset=ds),
        "circuit, mse only": lambda: aann.train(cfg, dataset=mse_only),
        "digital SGD (JAX)": lambda: jax.block_until_ready(sgd()),
    }
    best = {name: float("inf") for name in variants}
    cpu = dict(best)
    out = {}
    for _ in range(args.repeats):
        for name, fn in variants.items():
            t, c = time.perf_counter(), time.process_time()
            out[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t)
            cpu[name] = min(cpu[name], time.process_time() - c)
    evaluation = {which: evaluation_seconds(prepared, which)
                  for which in (metric_names(ds), ("mse",))}
    load_after = os.getloadavg()

    full, bare = out["circuit + test metrics"], out["circuit, mse only"]
    same = all(np.array_equal(a, b) for a, b in zip(full.W_final, bare.W_final))
    W_sgd = out["digital SGD (JAX)"][0]
    sgd_acc = [digital_figures([np.asarray(w[b]) for w in W_sgd], ds)["test_accuracy"]
               for b in range(args.seeds)]
    circuit_acc = full.final("test_accuracy")
    print(f"digits {cfg.network.topology}: {ds.rows} training rows, {ds.test.rows} held out "
          f"(test_fraction 0.25), {args.seeds} seeds, {args.epochs} epochs, order shuffle, "
          f"t_row = 0.1 ps (lambda = {cfg.lam:g}); {full.engine_info.version}; "
          f"device {jax.devices()[0].platform}, {os.cpu_count()} CPUs")
    print(f"load average (1, 5, 15 min): before {load_before[0]:.1f} {load_before[1]:.1f} "
          f"{load_before[2]:.1f}, after {load_after[0]:.1f} {load_after[1]:.1f} "
          f"{load_after[2]:.1f}")
    print(f"first call (compile + run, test metrics): {first_call:.2f} s")
    ref, ref_cpu = best["circuit, mse only"], cpu["circuit, mse only"]
    print(f"{'method':>24} {'warm [s]':>9} {'vs mse only':>12} {'CPU [s]':>8} "
          f"{'CPU vs mse only':>16} {'network-rows/s':>15}")
    for name, seconds in best.items():
        print(f"{name:>24} {seconds:>9.3f} {seconds / ref:>11.3f}x {cpu[name]:>8.2f} "
              f"{cpu[name] / ref_cpu:>15.3f}x {work / seconds:>15.4g}")
    (all_names, e_all), (_, e_mse) = evaluation.items()
    isolated = (e_all - e_mse) * args.epochs
    print(f"one evaluation of {args.seeds} networks after an epoch: {e_all * 1e3:.2f} ms with "
          f"{', '.join(all_names)}; {e_mse * 1e3:.2f} ms with mse alone: the test metrics "
          f"add {isolated:.3f} s over {args.epochs} epochs, {isolated / ref:+.2%} of the run")
    print(f"final weights with and without test metrics identical: {same}")
    print(f"test accuracy, median (min .. max): circuit {np.median(circuit_acc):.1%} "
          f"({circuit_acc.min():.1%} .. {circuit_acc.max():.1%}); digital SGD "
          f"{np.median(sgd_acc):.1%} ({min(sgd_acc):.1%} .. {max(sgd_acc):.1%})")
    extra = cpu["circuit + test metrics"] / ref_cpu - 1
    total_ok, extra_ok = first_call <= TOTAL_GOAL, extra <= METRICS_GOAL
    print(f"goal: circuit with per-epoch test metrics <= {TOTAL_GOAL:g} s (first call "
          f"{first_call:.2f} s, warm {best['circuit + test metrics']:.2f} s): "
          f"{'met' if total_ok else 'NOT met'}")
    print(f"goal: per-epoch test metrics <= {METRICS_GOAL:.0%} extra (CPU time {extra:+.1%}; "
          f"wall time {best['circuit + test metrics'] / ref - 1:+.1%}, isolated "
          f"{isolated / ref:+.2%}): {'met' if extra_ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
