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
# # Monte Carlo yield
#
# How many manufactured circuits learn XOR? `aann.montecarlo(cfg, N)` trains N
# Monte Carlo samples of one description: sample k is the circuit of `[mismatch]`
# draw k, started from the initial weights of seed k. A sample has learned when
# its final MSE is below `goal` (default 0.01 V^2) and it did not diverge; the
# yield comes with its 95 % Wilson score interval. The CLI is
# `aann montecarlo mc.toml --samples N`.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import aann

FAST = os.environ.get("AANN_EXAMPLES_FAST") == "1"
OUT = Path(tempfile.mkdtemp(prefix="aann-example-05-"))
SAMPLES = 16 if FAST else 1000

# %% [markdown]
# XOR on 2-8-1 at `t_row = 0.3 ps` (lambda = 3, so it learns in a few hundred
# epochs) with the mismatch of the `[mismatch]` example (docs/toml.md).

# %%
cfg = aann.Config().replace(
    training={"t_row": "0.3ps", "epochs": 300 if FAST else 1000},
    mismatch={"seed": 0, "multiplier.Km": "3%", "multiplier.charge.Voff1": "2mV",
              "activation.Iref": "2%", "derivative.Kd": "2%", "C": "1%"},
)

# %%
mc = aann.montecarlo(cfg, SAMPLES, goal=0.01, out=OUT)
print(mc.summary_line())

# %%
low, high = mc.wilson()
print(f"yield {mc.yield_:.1%} ({mc.n_learned} of {mc.samples}); "
      f"95 % Wilson interval {low:.1%} .. {high:.1%}")
print("final MSE of the first samples:", mc.final_mse[:8])

# %% [markdown]
# `out=` wrote `montecarlo.csv` (one line per sample), `summary.json` and the
# histogram of the final MSE; `resume=True` continues an interrupted run.

# %%
print(sorted(p.name for p in OUT.iterdir()))
print((OUT / "montecarlo.csv").read_text().splitlines()[:4])
