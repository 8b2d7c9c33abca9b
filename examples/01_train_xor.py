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
# # Train XOR and read the results
#
# A 2-8-1 network learns XOR in continuous time: every weight is a capacitor
# voltage, charged by the backpropagated error. One data row held for `t_row`
# moves the weights like one SGD step of rate `lambda = (Keta/C) (Vteach/1V) t_row`.
#
# `AANN_EXAMPLES_FAST=1` (set by `make test`) shrinks the run so the example
# finishes in seconds; unset it for the real thing.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed; in Jupyter, remove this line

import aann

FAST = os.environ.get("AANN_EXAMPLES_FAST") == "1"
OUT = Path(tempfile.mkdtemp(prefix="aann-example-01-"))

# %% [markdown]
# ## Describe the network
#
# `aann.Config()` is the default description: XOR on 2-8-1, `t_row = 0.1 ps`
# (lambda = 1). Sections may be given as plain dicts, validated like the TOML file.

# %%
cfg = aann.Config().replace(
    network={"sizes": [2, 8, 1]},
    training={"dataset": "xor", "t_row": "0.1ps",
              "epochs": 100 if FAST else 1000, "seeds": 3 if FAST else 10},
)
print("lambda =", cfg.lam)

# %% [markdown]
# ## Train every seed at once

# %%
res = aann.train(cfg)
print(res)

# %% [markdown]
# ## Read the results
#
# `res.mse` is (networks, epochs) in V^2; `res.W_final` the final weights per
# layer, (networks, n_out, n_in + 1), column 0 the bias weight.
# `to_dataframe()` gives pandas in long form (needs the `notebook` extra).

# %%
print("final MSE per seed:", res.mse[:, -1])
print("layer 1 weights of seed 0 (V):\n", res.W_final[0][0])
df = res.to_dataframe()
print(df.tail())
print(df.groupby("seed")["mse"].min())

# %% [markdown]
# ## Plot the learning curves (Figs. 9-11 of the paper)

# %%
ax = res.plot.learning_curves()
ax.figure.savefig(OUT / "learning_curves.png", dpi=80)
print("figure:", OUT / "learning_curves.png")

# %% [markdown]
# ## Save and load
#
# `res.save(DIR)` writes mse.csv, weights.json, summary.json, the plots and the
# lossless `results.npz`; `aann.Results.load(DIR)` reads it back equal.

# %%
res.save(OUT / "xor")
back = aann.Results.load(OUT / "xor")
assert back == res
print(sorted(p.name for p in (OUT / "xor").iterdir()))
