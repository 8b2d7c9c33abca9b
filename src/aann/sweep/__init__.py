"""Sweeps: a base configuration times a grid and/or a random sample over any of its
keys, times seeds, run in batches (here or on Dask) into a crash-safe store.

``aann sweep SWEEP.toml --out DIR`` (:func:`run_sweep`), ``aann sweep export DIR
--csv FILE`` (:func:`export_csv`), ``aann sweep report DIR`` (:func:`write_report`);
in Python and notebooks :func:`load_sweep_results` (:class:`SweepResults`: pandas,
xarray).
See docs/sweeps.md: the file format, run ids, grouping into batches, the store.
A Monte Carlo run (:func:`aann.montecarlo`) is a sweep of one point over its
samples, in the same store (:mod:`aann.sweep.samples`: its files).
Importing this package imports neither JAX's engines nor Dask.
"""

from .plan import MAX_BATCH, Sweep, load_sweep, parse_sweep, plan
from .report import export_csv, write_report
from .results import SweepResults, load_sweep_results
from .runner import SweepOutcome, run_batch, run_sweep
from .store import STORE, Store

__all__ = ["MAX_BATCH", "STORE", "Store", "Sweep", "SweepOutcome", "SweepResults", "export_csv",
           "load_sweep", "load_sweep_results", "parse_sweep", "plan", "run_batch", "run_sweep",
           "write_report"]
