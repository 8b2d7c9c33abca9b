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
# # Reproduce a figure of the paper: Fig. 8
#
# Fig. 8 of Paulu & Hospodka (2021) is the training transient of a 1-2-1 network
# on a data set of two rows, `Vteach` toggled after every epoch: `Vout` moves
# towards `Vtarget` while learning and holds while `Vteach = 0`.
# `aann.experiments.fig8.run` is what `aann reproduce fig8` runs: it trains,
# writes the waveforms (CSV and PNG) and a report fragment, and returns the facts
# the report states. See docs/reproduce.md for every figure and table.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from aann.experiments import fig8

FAST = os.environ.get("AANN_EXAMPLES_FAST") == "1"
OUT = Path(tempfile.mkdtemp(prefix="aann-example-03-"))

# %% [markdown]
# The paper gives no values for Fig. 8; the choices (two rows, `t_row = 0.1 ps`,
# `Keta = 30 S` so that `lambda = 30`, 25 epochs) are in `fig8.config()`.

# %%
cfg = fig8.config()
print(cfg.network.sizes, cfg.training.dataset, cfg.training.teach, "lambda =", cfg.lam)

# %%
facts = fig8.run(OUT, epochs=6 if FAST else fig8.EPOCHS)
print("figure:", OUT / "fig8_waveforms.png")
print("files:", sorted(p.name for p in OUT.iterdir()))

# %% [markdown]
# ## What the run shows
#
# During hold epochs the weights do not move (`hold_max_dW`, V); during learning
# epochs the MSE falls.

# %%
for e, (learn, mse) in enumerate(zip(facts["learn"], facts["mse"]), start=1):
    print(f"epoch {e:2d}  {'learn' if learn else 'hold '}  MSE = {mse:.4g} V^2")
print("largest weight change in a hold epoch:", facts["hold_max_dW"], "V")
assert facts["hold_max_dW"] < 1e-6

# %% [markdown]
# In a notebook, show the figure with
# `IPython.display.Image(OUT / "fig8_waveforms.png")`.
