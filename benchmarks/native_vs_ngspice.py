"""Native engine against ngspice on the paper's XOR run (Figs. 9-11 at the optimal rate).

XOR on 2-8-1, t_row = 0.1 ps (lambda = 1), 1000 epochs, row edges t_edge = 1 fs on
both engines; 1 seed and 10 seeds. ngspice runs one process per network, two at
a time (both cores). Prints, all measured in this one run:

* wall time of each engine and the ratio ngspice / native (native timed warm,
  i.e. after its one-off compilation, which is printed separately), for the
  native default (tsit5, steps "auto") and for native at ``--native-steps`` fixed
  steps per segment, which keeps native itself within 0.25 mV of the converged
  answer on this run;
* the largest weight difference of each engine from the converged answer (a
  native adaptive dopri8 solve at rtol 1e-10), over every epoch end.

    python benchmarks/native_vs_ngspice.py            # the full run (minutes)
    python benchmarks/native_vs_ngspice.py --quick    # 20 epochs, 1 and 2 seeds
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial

import numpy as np

import aann
from aann.engines.spice import SpiceOptions

TIGHT = {"stepping": "adaptive", "method": "dopri8", "rtol": 1e-10, "atol": 1e-12}


def max_dW(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a.W_epoch, b.W_epoch))


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="20 epochs, 1 and 2 seeds (a smoke test)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seeds", type=int, default=None, help="the many-seed case (default 10)")
    p.add_argument("--method", default="trap", help="ngspice integration method (trap | gear)")
    p.add_argument("--reltol", type=float, default=1e-10, help="ngspice reltol")
    p.add_argument("--workers", type=int, default=2, help="ngspice processes at once")
    p.add_argument("--native-steps", type=int, default=8,
                   help="fixed steps per segment of the converged native run")
    a = p.parse_args(argv)
    epochs = a.epochs or (20 if a.quick else 1000)
    many = a.seeds or (2 if a.quick else 10)
    options = SpiceOptions(method=a.method, reltol=a.reltol)
    t_edge = 0.01 * 0.1e-12

    def config(seeds):
        return aann.Config(training=aann.Training(epochs=epochs, seeds=seeds, t_row=0.1e-12,
                                                  t_edge=t_edge))

    print(f"XOR 2-8-1, t_row = 0.1 ps, t_edge = {t_edge:g} s, {epochs} epochs; ngspice "
          f"{aann.engines.spice.version()}, method={options.method} reltol={options.reltol:g}, "
          f"{a.workers} processes")
    rows = []
    for seeds in (1, many):
        cfg = config(seeds)
        _, cold = timed(partial(aann.train, cfg))  # includes the one-off compilation
        native, t_native = timed(partial(aann.train, cfg))
        fine_cfg = cfg.replace(solver={"steps": a.native_steps})
        aann.train(fine_cfg)  # compile
        fine, t_fine = timed(partial(aann.train, fine_cfg))
        ngspice = aann.Ngspice(options=options, workers=a.workers)
        spice, t_spice = timed(partial(aann.train, cfg, engine=ngspice))
        ref = aann.train(cfg.replace(solver=TIGHT))
        row = {"seeds": seeds, "native_s": t_native, "native_cold_s": cold, "ngspice_s": t_spice,
               "ratio": t_spice / t_native, "dW_ngspice": max_dW(spice, ref),
               "native_fine_s": t_fine, "ratio_fine": t_spice / t_fine,
               "dW_native_fine": max_dW(fine, ref),
               "dW_ngspice_final": max(float(np.abs(x - y).max())
                                       for x, y in zip(spice.W_final, ref.W_final)),
               "dW_native": max_dW(native, ref),
               "dMSE": float(np.abs(spice.mse - ref.mse).max())}
        rows.append(row)
        print(f"{seeds:>3} seed(s): native {t_native:8.3f} s (cold {cold:.1f} s), "
              f"ngspice {t_spice:8.1f} s, ngspice/native = {row['ratio']:8.0f}x; "
              f"max |dVw| from converged: ngspice {row['dW_ngspice'] * 1e3:.3f} mV "
              f"(final {row['dW_ngspice_final'] * 1e3:.3f} mV), "
              f"native {row['dW_native'] * 1e3:.4f} mV; max |dMSE| {row['dMSE']:.2g}",
              flush=True)
        print(f"    native at {a.native_steps} steps/segment: {t_fine:.3f} s, "
              f"ngspice/native = {row['ratio_fine']:.0f}x, max |dVw| from converged "
              f"{row['dW_native_fine'] * 1e3:.4f} mV", flush=True)
    if not a.quick:
        for key, label in (("ratio", "native default"), ("ratio_fine", "native converged")):
            ok = rows[0][key] >= 300 and rows[1][key] >= 1000
            print(f"targets (>= 300x for 1 seed, >= 1000x for 10 seeds), {label}:",
                  "met" if ok else "NOT met")
        within = all(r["dW_ngspice"] < 1e-3 for r in rows)
        print("ngspice within 1 mV of the converged answer:", "yes" if within else "NO")
    return 0


if __name__ == "__main__":
    sys.exit(main())
