# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A sweep: learning rate against offset
#
# `aann sweep SWEEP.toml --out DIR` (or `aann.run_sweep`) runs a base
# configuration times a grid and/or a random sample over any of its keys, times
# seeds, in batches, into a crash-safe SQLite store (`--resume` continues it).
# `aann sweep export` writes one CSV row per run, `aann sweep report` a Markdown
# report with the yield per key, and `aann.load_sweep_results` reads it into
# pandas or xarray labelled by the swept keys. docs/sweeps.md has the file format.

# %%
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd

import aann
from aann import sweep as aann_sweep

FAST = os.environ.get("AANN_EXAMPLES_FAST") == "1"
OUT = Path(tempfile.mkdtemp(prefix="aann-example-06-"))

# %% [markdown]
# The sweep file, here written from Python. The grid is the full product of its
# lists: 3 x 2 points, each with `seeds` runs. The learning rate is swept through
# the charging conductance `Keta` (`lambda = (Keta/C) (Vteach/1V) t_row`).
# Points that differ only in circuit constants share one compiled call: here the
# two offsets of each rate do (`steps = "auto"` follows lambda, so each rate
# compiles once; a literal 0 offset would also compile apart).

# %%
epochs, seeds = (50, 2) if FAST else (300, 4)
(OUT / "sweep.toml").write_text(f"""
[base.network]
sizes = [2, 4, 1]
[base.training]
dataset = "xor"
epochs = {epochs}
seeds = {seeds}
[grid]
"constants.Keta" = ["1S", "3S", "10S"]
"blocks.multiplier.Voff" = ["10mV", "50mV"]
""")
sweep = aann.load_sweep(OUT / "sweep.toml")

# %% [markdown]
# Run it in this process (`workers=N` starts a local Dask cluster instead).

# %%
outcome = aann.run_sweep(sweep, OUT / "run")
print(outcome)

# %% [markdown]
# ## Export and report

# %%
rows, runs = aann_sweep.export_csv(OUT / "run", OUT / "runs.csv")
print(f"{rows} of {runs} runs exported")
print("\n".join((OUT / "runs.csv").read_text().splitlines()[:5]))

# %%
df = pd.read_csv(OUT / "runs.csv")
print(df.groupby(["constants.Keta", "blocks.multiplier.Voff"])["final_mse"].median())

# %% [markdown]
# ## The store in Python
#
# `aann.load_sweep_results` reads the store (also while a sweep is still
# running) and labels every run by the swept keys, in SI units: a short
# `repr`, an HTML table in Jupyter, pandas one row per run, and xarray by run
# or, with `grid=True`, as an array over the swept keys and the seed.

# %%
res = aann.load_sweep_results(OUT / "run")
print(res)
runs = res.to_dataframe()
assert (runs["final_mse"].to_numpy() == df["final_mse"].to_numpy()).all()
print(runs[["run", "constants.Keta", "blocks.multiplier.Voff", "seed", "final_mse"]].head())

# %%
ds = res.to_xarray(grid=True)
print(dict(ds.sizes))
print(ds.final_mse.median("seed").to_pandas())  # Keta (S) down, Voff (V) across

# %%
report = aann_sweep.write_report(OUT / "run", by=["constants.Keta"])
print("report:", report)

# %% [markdown]
# The same from the command line:

# %%
cli = Path(sys.executable).with_name("aann")
done = subprocess.run([str(cli), "sweep", "export", str(OUT / "run"), "--csv",
                       str(OUT / "cli.csv")], capture_output=True, text=True, check=True)
print(done.stdout.strip())
assert (OUT / "cli.csv").read_text() == (OUT / "runs.csv").read_text()
