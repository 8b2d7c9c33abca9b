"""Throughput: how many networks per second aann trains, against plain JAX code.

Workload: XOR on a 2-8-1 network, 1000 epochs (``--epochs``), t_row = 0.1 ps
(lambda = 1), rows in order, Vteach = 1 V, default constants; network b
starts from ``aann.random_weights((2, 8, 1), b)``. For each network count N
(``--networks``; 100000 is added on a GPU) these methods are timed warm (a
first call compiles; the fastest of up to three further calls counts):

* ``aann``: ``aann.train(cfg)`` as it is by default (fixed-step Tsit5; it also
  records the weights and MSE after every epoch and the peak currents);
* ``aann-mse``: the same with ``training.record = "mse"`` (no weights kept per
  epoch: what a Monte Carlo or a sweep records);
* ``aann-batched``: the default with one circuit per network (``circuit_batched``,
  each network its own multiplier gain ``Km``, within 1 % of 1e-4 A/V^2): its
  cost against ``aann`` is the cost of per-instance constants (its weights are
  not compared with the converged answer: its circuits differ);
* ``plain``: the same ideal circuit as a hand-written JAX loop: the gradient
  flow ``dW/dt = -(Keta/C) Vteach dE/dW`` (``jax.grad``), fixed-step RK4 with k
  steps per row, ``lax.scan`` over epochs and rows, ``vmap`` over networks;
  final weights only. k is the smallest of 2, 4, 8, 10, 16 within 1e-5 V of
  the converged answer on 10 networks;
* ``digital``: the compiled per-row SGD loop of ``aann.digital`` (learning rate
  lambda), ``vmap``-ed over networks; final weights only.

Each (method, N) runs in its own subprocess (``--one METHOD N``), which reports
its wall time, its peak resident memory (``ru_maxrss`` after the timed call,
compilation included) and the final weights of its first min(N, 10) networks.
A first subprocess (``--prepare``) checks the plain field against the circuit's,
solves the first 10 networks to convergence (adaptive dopri8, rtol 1e-10, atol
1e-12) and chooses k. The parent, which never imports JAX, compares the weights
with the converged ones and prints one Markdown table.
"Circuit evaluations" count vector-field evaluations (forward + backward pass
of one network for one row); for ``digital`` they are gradient evaluations.

    .venv/bin/python benchmarks/throughput.py                       # 1 .. 10000 networks
    .venv/bin/python benchmarks/throughput.py --networks 1,10,100 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

SIZES = (2, 8, 1)
K_CHOICES = (2, 4, 8, 10, 16)
K_TOLERANCE = 1e-5  # V
N_CHECKED = 10  # networks compared with the converged solve
CONVERGED = {"stepping": "adaptive", "method": "dopri8", "rtol": 1e-10, "atol": 1e-12}
METHODS = ("aann", "aann-mse", "aann-batched", "plain", "digital")


def config(epochs: int, networks: int):
    import aann

    return aann.Config(training={"epochs": epochs, "seeds": networks})


def initial_weights(networks: int):
    """Per layer, the stacked initial weights (networks, n_out, n_in + 1) of seeds 0..N-1."""
    import aann

    sets = [aann.random_weights(SIZES, seed, 1.0) for seed in range(networks)]
    return tuple(np.stack([s[l] for s in sets]) for l in range(len(SIZES) - 1))


def xor_rows(cfg):
    import aann

    data = aann.load_dataset(cfg.training.dataset)
    return np.asarray(data.X, float), np.asarray(data.Y, float)


# --- the plain JAX loop: the ideal circuit as a gradient flow, RK4 -------------------

def loss(W, x, y, Vbias=1.0):
    """E = 1/2 sum (Vout - Vtarget)^2 of the sigmoid network; column 0 of W is the bias."""
    import jax

    a = x
    for Wl in W:
        a = jax.nn.sigmoid(Wl[:, 0] * Vbias + Wl[:, 1:] @ a)
    return 0.5 * ((a - y) ** 2).sum()


def plain_field(W, x, y, rate):
    """dW/dt (V/s) = -(Keta/C) Vteach dE/dW, with ``rate = Keta/C * Vteach / 1V``."""
    import jax

    return jax.tree.map(lambda g: -rate * g, jax.grad(loss)(W, x, y))


def rk4_row(W, x, y, rate, h, k):
    """k classical RK4 steps of length h with one data row (x, y) held."""
    import jax

    def axpy(a, U, V):  # U + a * V, layer by layer
        return jax.tree.map(lambda u, v: u + a * v, U, V)

    def step(W, _):
        k1 = plain_field(W, x, y, rate)
        k2 = plain_field(axpy(h / 2, W, k1), x, y, rate)
        k3 = plain_field(axpy(h / 2, W, k2), x, y, rate)
        k4 = plain_field(axpy(h, W, k3), x, y, rate)
        slope = jax.tree.map(lambda a, b, c, d: (a + 2 * b + 2 * c + d) / 6, k1, k2, k3, k4)
        return axpy(h, W, slope), None

    return jax.lax.scan(step, W, None, length=k)[0]


def plain_train_one(W, X, Y, rate, t_row, epochs, k):
    """One network through ``epochs`` epochs of the rows of (X, Y) in order."""
    import jax

    def row(W, xy):
        return rk4_row(W, xy[0], xy[1], rate, t_row / k, k), None

    def epoch(W, _):
        return jax.lax.scan(row, W, (X, Y))[0], None

    return jax.lax.scan(epoch, W, None, length=epochs)[0]


def plain_trainer(epochs: int, k: int):
    """``fn(W0, X, Y, rate, t_row)``: every network (leading axis of W0) at once, compiled."""
    import jax

    def train_one(W, X, Y, rate, t_row):
        return plain_train_one(W, X, Y, rate, t_row, epochs, k)

    return jax.jit(jax.vmap(train_one, in_axes=(0, None, None, None, None)))


def circuit_rate(cfg) -> float:
    """Keta / C * Vteach / 1V (1/s): the gradient flow's rate."""
    return cfg.constants.Keta / cfg.constants.C * cfg.training.Vteach


def check_plain_field(cfg):
    """The plain field equals the circuit's ``dVw_dt`` (ideal blocks) to 1e-10 relative."""
    import jax.numpy as jnp

    import aann

    circuit, (X, Y) = aann.build_circuit(cfg), xor_rows(cfg)
    W = tuple(jnp.asarray(w[0]) for w in initial_weights(1))
    for x, y in zip(X, Y):
        want = circuit.dVw_dt(W, jnp.asarray(x), jnp.asarray(y), 1.0)
        got = plain_field(W, jnp.asarray(x), jnp.asarray(y), circuit_rate(cfg))
        for a, b in zip(want, got):
            rel = float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(a)))
            assert rel <= 1e-10, f"plain field differs from the circuit's by {rel:.1e} relative"


# --- the methods, timed warm -----------------------------------------------------------

REPEATS = 3  # timed calls per (method, N); the fastest counts
REPEAT_BUDGET = 30.0  # s: no further repeat once the timed calls have taken this long


def timed(fn):
    """Seconds of the fastest of up to ``REPEATS`` warm calls of ``fn`` (a first call
    compiles), and its result. The fastest, as ``timeit`` reports: on a shared
    machine the load of other processes only ever adds time (measured here: the same
    call 0.30 to 0.57 ms per step within minutes)."""
    import jax

    jax.block_until_ready(fn())
    best, spent, out = float("inf"), 0.0, None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        seconds = time.perf_counter() - t0
        best, spent = min(best, seconds), spent + seconds
        if spent > REPEAT_BUDGET:
            break
    return best, out


def run_aann(cfg, networks, k, **train_options):
    """aann's default. Evaluations per row: Tsit5 has 7 stages and is FSAL (the 7th
    stage, at t1 and y1, is the next step's 1st), so a step evaluates the field 6
    times, and each row (one segment) starts with one evaluation at its start, which
    also gives the peak charging current: 6 * steps + 1. The MSE recorded after each
    epoch (forward passes only) is not counted."""
    import aann

    seconds, r = timed(lambda: aann.train(cfg, **train_options))
    steps = r.engine_info.settings["solver"]["steps"]
    return seconds, tuple(np.asarray(w) for w in r.W_final), 6 * steps + 1


def run_aann_mse(cfg, networks, k):
    """aann recording the MSE only after each epoch."""
    return run_aann(cfg.replace(training={"record": "mse"}), networks, k)


def run_aann_batched(cfg, networks, k):
    """aann with one circuit per network: the forward multipliers' Km of network b is
    1e-4 (1 + 0.01 u_b), u_b uniform in (-1, 1)."""
    import equinox as eqx
    import jax.numpy as jnp

    import aann

    circuit = aann.build_circuit(cfg)
    u = np.random.default_rng(0).uniform(-1, 1, networks)
    Km = jnp.asarray(circuit.multipliers["forward"].Km * (1 + 0.01 * u))
    # the rest stays shared
    batched = eqx.tree_at(lambda c: c.multipliers["forward"].Km, circuit, Km)
    seconds, W, evals = run_aann(cfg, networks, k, circuit=batched, circuit_batched=True)
    return seconds, None, evals


def run_plain(cfg, networks, k):
    """RK4: 4 evaluations per step, k steps per row."""
    X, Y = xor_rows(cfg)
    fn = plain_trainer(cfg.training.epochs, k)
    W0 = initial_weights(networks)
    seconds, W = timed(lambda: fn(W0, X, Y, circuit_rate(cfg), cfg.training.t_row))
    return seconds, tuple(np.asarray(w) for w in W), 4 * k


def run_digital(cfg, networks, k):
    """aann.digital's compiled per-row SGD loop, vmap-ed: one gradient per row."""
    import jax
    import jax.numpy as jnp

    from aann import digital

    X, Y = (jnp.asarray(a) for a in xor_rows(cfg))
    loop = digital._compiled_sgd(len(SIZES) - 1, False)  # the loop sgd_jax runs, no MSE
    fn = jax.jit(jax.vmap(loop, in_axes=(0, None, None, None, None, None)))
    W0 = tuple(jnp.asarray(w) for w in initial_weights(networks))
    marker = jnp.zeros((cfg.training.epochs, 0))  # the epoch count, as sgd_jax passes it
    lr, Vbias = jnp.asarray(cfg.lam), jnp.asarray(cfg.constants.Vbias)
    seconds, (W, _) = timed(lambda: fn(W0, X, Y, lr, Vbias, marker))
    return seconds, tuple(np.asarray(w) for w in W), 1


RUNNERS = {"aann": run_aann, "aann-mse": run_aann_mse, "aann-batched": run_aann_batched,
           "plain": run_plain, "digital": run_digital}


def one(method: str, networks: int, epochs: int, k: int) -> dict:
    """What a child reports for one (method, N)."""
    cfg = config(epochs, networks)
    seconds, W, evals_per_row = RUNNERS[method](cfg, networks, k)
    rows = len(xor_rows(cfg)[0])
    first = min(networks, N_CHECKED)
    return {"method": method, "networks": networks, "seconds": seconds,
            "nets_per_s": networks / seconds, "evals_per_row": evals_per_row,
            "evals_per_s": networks * epochs * rows * evals_per_row / seconds,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "W_first": None if W is None else [w[:first].tolist() for w in W]}


def child(args, *task: str) -> dict:
    """Run ``--one METHOD N`` or ``--prepare`` in a subprocess; what it reports, with
    ``status`` "ok", "timeout" or "failed (exit code)"."""
    cmd = [sys.executable, os.path.abspath(__file__), *task, "--epochs", str(args.epochs),
           "--k", str(args.k)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    lines = [s for s in done.stdout.splitlines() if s.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stderr[-2000:])
        return {"status": f"failed ({done.returncode})"}
    return {**json.loads(lines[-1][len("RESULT "):]), "status": "ok"}


# --- the comparison ---------------------------------------------------------------------

def max_diff(W, ref) -> float:
    """Largest |dW| (V) between weights of the first networks and the converged ones."""
    return max(float(np.abs(np.asarray(w) - r[:len(w)]).max()) for w, r in zip(W, ref))


def converged(epochs: int):
    import aann

    cfg = config(epochs, N_CHECKED)
    return tuple(np.asarray(w) for w in aann.train(cfg.replace(solver=CONVERGED)).W_final)


def choose_k(epochs: int, ref) -> tuple[int, dict]:
    """The smallest k of K_CHOICES whose plain RK4 is within K_TOLERANCE of ``ref``
    (the last one if none is), and the max |dW| of each k tried."""
    cfg = config(epochs, N_CHECKED)
    tried = {}
    for k in K_CHOICES:
        tried[k] = max_diff(run_plain(cfg, N_CHECKED, k)[1], ref)
        if tried[k] <= K_TOLERANCE:
            break
    return k, tried


def prepare(epochs: int) -> dict:
    """What a ``--prepare`` child reports: the machine, the checked plain field, the
    converged weights of the first N_CHECKED networks, and the RK4 k."""
    import diffrax
    import jax

    check_plain_field(config(epochs, 1))
    ref = converged(epochs)
    k, tried = choose_k(epochs, ref)
    return {"device": str(jax.devices()), "platform": jax.devices()[0].platform,
            "jax": jax.__version__, "diffrax": diffrax.__version__, "k": k, "k_tried": tried,
            "ref": [w.tolist() for w in ref]}


def cell(result, key, fmt):
    if result.get("status") != "ok":
        return result.get("status", "?")
    return format(result[key], fmt)


def table(rows) -> str:
    """One line per network count and method; the ratio is networks per second against
    the plain loop's at the same count."""
    head = ["networks", "method", "seconds", "networks/s", "evaluations/s", "peak MiB",
            "max \\|dW\\| (V)", "networks/s vs plain"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for n, by_method in rows.items():
        plain = by_method["plain"]
        for method, res in by_method.items():
            ratio = "-"
            if res.get("status") == plain.get("status") == "ok":
                ratio = f"{res['nets_per_s'] / plain['nets_per_s']:.2f}x"
            dW = cell(res, "max_dW", ".1e") if "max_dW" in res else "-"
            lines.append("| " + " | ".join([
                str(n), method, cell(res, "seconds", ".3f"), cell(res, "nets_per_s", ".4g"),
                cell(res, "evals_per_s", ".3g"), cell(res, "peak_mib", ".0f"), dW, ratio])
                + " |")
    return "\n".join(lines)


def network_counts(text: str, platform: str) -> list[int]:
    counts = [int(s) for s in text.split(",") if s.strip()]
    if platform == "gpu" and 100000 not in counts:
        counts.append(100000)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--networks", default="1,10,100,1000,10000")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per child")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, default=K_CHOICES[0], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one or args.prepare:  # a child: JAX is imported here only
        import aann  # noqa: F401  (enables float64 before any array is made)

        result = prepare(args.epochs) if args.prepare else \
            one(args.one[0], int(args.one[1]), args.epochs, args.k)
        print("RESULT " + json.dumps(result))
        return 0

    # The parent never imports JAX: on Linux a child's ru_maxrss starts from the RSS
    # of the process that forked it, so a parent holding JAX would mask the children's.
    started = time.perf_counter()
    info = child(args, "--prepare")
    if info["status"] != "ok":
        print(f"preparation {info['status']}")
        return 1
    print(f"device: {info['device']}; jax {info['jax']}, diffrax {info['diffrax']}; "
          f"{os.cpu_count()} CPUs")
    print(f"XOR 2-8-1, t_row = 0.1 ps (lambda = 1), {args.epochs} epochs, Vteach = 1 V")
    for k, diff in info["k_tried"].items():
        print(f"  RK4, k = {k:>2}: max |dW| = {diff:.2e} V (10 networks)")
    args.k = info["k"]
    print(f"RK4 steps per row chosen: k = {args.k}")
    ref = [np.asarray(w) for w in info.pop("ref")]
    rows = {}
    for n in network_counts(args.networks, info["platform"]):
        rows[n] = {}
        for method in METHODS:
            r = child(args, "--one", method, str(n))
            W_first = r.pop("W_first", None)
            if r["status"] == "ok" and W_first is not None:
                r["max_dW"] = max_diff(W_first, ref)
            rows[n][method] = r
            print(f"  {method:>7}, {n:>6} networks: {r.get('seconds', r['status'])}", flush=True)
    print()
    print(table(rows))
    total = time.perf_counter() - started
    print(f"\nwhole run: {total:.0f} s")
    if args.json:
        figures = {**info, "cpus": os.cpu_count(), "epochs": args.epochs,
                   "seconds_total": total, "results": {str(n): r for n, r in rows.items()}}
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
