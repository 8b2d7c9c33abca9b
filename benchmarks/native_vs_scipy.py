"""Native engine against the SciPy code a user would otherwise write.

XOR on 2-8-1, t_row = 0.1 ps (lambda = 1), 1000 epochs, 1 and 10 initial
weight sets. The baseline is the same circuit (ideal blocks, SPEC sections 1-2)
in plain numpy, integrated row by row with ``scipy.integrate.solve_ivp``
(RK45, rtol = 1e-8, atol = 1e-10), one seed after the other. Prints, measured
in this one run: the wall times, the ratios (native warm, and native including
its compile), and the largest weight difference between the two.

    .venv/bin/python benchmarks/native_vs_scipy.py          # the full benchmark
    .venv/bin/python benchmarks/native_vs_scipy.py --quick  # 20 epochs, a smoke run
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.integrate import solve_ivp

# --- the baseline: the circuit in numpy, as a user would write it -------------

Km, Iref, Vamp, Vbias = 1e-4, 1e-4, 1.0, 1.0  # multiplier, sigmoid, bias input
Keta, C = 1.0, 0.1e-12  # charging conductance (S), weight capacitor (F)
X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])
SIZES = (2, 8, 1)
SHAPES = [(b, a + 1) for a, b in zip(SIZES[:-1], SIZES[1:])]


def unpack(y):
    W, k = [], 0
    for n_out, n_in in SHAPES:
        W.append(y[k:k + n_out * n_in].reshape(n_out, n_in))
        k += n_out * n_in
    return W


def forward(W, x):
    """Per layer: inputs with Vbias first, and the neuron outputs Vout (V)."""
    xs, outs = [], []
    a = x
    for Wl in W:
        xi = np.concatenate([[Vbias], a])
        Inet = Km * Wl @ xi  # multipliers (Eq. 5), currents summed
        a = Vamp / (1.0 + np.exp(-Inet / Iref))  # activation (Eq. 6)
        xs.append(xi)
        outs.append(a)
    return xs, outs


def field(t, y, x, target, Vteach=1.0):
    """dVw/dt (V/s): Type1/Type2 error, derivative block, charging current / C."""
    W = unpack(y)
    xs, outs = forward(W, x)
    VE = outs[-1] - target  # Eq. 14
    grads = [None] * len(W)
    for l in reversed(range(len(W))):
        s = outs[l] / Vamp
        Vd = Vamp * s * (1.0 - s) * Km / Iref  # Eq. 7 with its defaults: dVout/dnet
        delta = VE * Vd
        grads[l] = -Keta * Vteach * np.outer(delta, xs[l]) / C  # Eq. 9
        if l:
            VE = W[l][:, 1:].T @ delta  # Eq. 15-16 with R_E * K_E = 1
    return np.concatenate([g.ravel() for g in grads])


def scipy_train(W0, epochs, t_row=0.1e-12):
    """One network, row after row, each row one solve_ivp call."""
    y, t = np.concatenate([w.ravel() for w in W0]), 0.0
    for _ in range(epochs):
        for x, target in zip(X, Y):
            sol = solve_ivp(field, (t, t + t_row), y, method="RK45", rtol=1e-8, atol=1e-10,
                            args=(x, target))
            y, t = sol.y[:, -1], t + t_row
    return unpack(y)


# --- the comparison ---------------------------------------------------------

def native_train(seeds, epochs):
    import aann

    cfg = aann.Config(training=aann.Training(epochs=epochs, seeds=seeds, t_row="0.1ps"))
    return aann.train(cfg)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="20 epochs, 1 and 2 seeds")
    args = parser.parse_args(argv)
    epochs = 20 if args.quick else args.epochs
    counts = (1, 2) if args.quick else (1, 10)

    import aann  # noqa: F401  (imports JAX; not timed)
    from aann.io import random_weights

    t = time.perf_counter()
    native_train(counts[0], epochs)  # first call: tracing + XLA compile + run
    first_call = time.perf_counter() - t
    print(f"XOR 2-8-1, t_row = 0.1 ps (lambda = 1), {epochs} epochs")
    print(f"native first call (compile + run, {counts[0]} seed): {first_call:.2f} s")
    rows = []
    for n in counts:
        t = time.perf_counter()
        native_train(n, epochs) if n != counts[0] else None  # compile for this batch size
        compile_n = time.perf_counter() - t
        t = time.perf_counter()
        r = native_train(n, epochs)
        warm = time.perf_counter() - t
        cold = (first_call if n == counts[0] else compile_n)
        t = time.perf_counter()
        ref = [scipy_train(random_weights(SIZES, s), epochs) for s in range(n)]
        scipy_s = time.perf_counter() - t
        diff = max(np.abs(r.W_final[l][b] - ref[b][l]).max()
                   for b in range(n) for l in range(len(SHAPES)))
        rows.append((n, scipy_s, warm, cold, diff))
    print(f"{'seeds':>5} {'scipy [s]':>10} {'native warm [s]':>16} {'native 1st [s]':>15} "
          f"{'ratio warm':>11} {'ratio 1st':>10} {'max |dVw| [V]':>14}")
    for n, scipy_s, warm, cold, diff in rows:
        print(f"{n:>5} {scipy_s:>10.2f} {warm:>16.3f} {cold:>15.2f} {scipy_s / warm:>10.0f}x "
              f"{scipy_s / cold:>9.1f}x {diff:>14.2e}")
    n, scipy_s, warm, cold, diff = rows[-1]
    ok = scipy_s / warm >= 100 and diff < 1e-4
    print(f"target (>= 100x warm at {n} seeds, max |dVw| < 0.1 mV): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
