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
# # Offsets and mismatch
#
# A real multiplier has offsets, and no two instances are alike. aann applies
# every multiplier law to offset operands and an offset output,
# `I = law(V1 + Voff1, V2 + Voff) + Ioff`, set for all four roles at once
# (`[blocks.multiplier]`) or for one role (`[blocks.multiplier.forward]`,
# `delta`, `charge`, `type2`). `[mismatch]` gives a standard deviation per block
# constant: every instance draws its own value, and network k of a run is
# Monte Carlo sample k.
#
# Here: XOR on 2-8-1, the same initial weights (seeds) for three circuits:
# nominal, an offset on input 1 of the charging multipliers, and a mismatched one.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import aann

FAST = os.environ.get("AANN_EXAMPLES_FAST") == "1"
OUT = Path(tempfile.mkdtemp(prefix="aann-example-04-"))
EPOCHS = 150 if FAST else 1000
SEEDS = 3 if FAST else 10

base = aann.Config().replace(training={"epochs": EPOCHS, "seeds": SEEDS, "record": "mse"})

# %% [markdown]
# ## Nominal circuit

# %%
nominal = aann.train(base)

# %% [markdown]
# ## An offset in one role
#
# `Voff1 = 20 mV` on input 1 (`Vdelta`) of every charging multiplier: the
# weights keep being charged when the error is zero, so training settles
# elsewhere. The same as the TOML section
# `[blocks.multiplier.charge]` with `Voff1 = "20mV"`.

# %%
offset_cfg = base.replace(blocks={"multiplier": {"charge": {"Voff1": "20mV"}}})
offset = aann.train(offset_cfg)

# %% [markdown]
# ## Mismatch
#
# 3 % on every multiplier gain, 2 mV on the charging multipliers' `Voff1`,
# 2 % on the activations' `Iref`, 1 % on every capacitor. Draws are
# reproducible: they come from `([mismatch] seed, sample, constant)`.

# %%
mismatch_cfg = base.replace(mismatch={"seed": 0, "multiplier.Km": "3%",
                                      "multiplier.charge.Voff1": "2mV",
                                      "activation.Iref": "2%", "C": "1%"})
mismatched = aann.train(mismatch_cfg)
print(mismatched)

# %% [markdown]
# ## Compare

# %%
print(f"{'seed':>4} {'nominal':>12} {'Voff1 20 mV':>12} {'mismatch':>12}   (final MSE, V^2)")
for k, seed in enumerate(nominal.seeds):
    print(f"{seed:>4} {nominal.mse[k, -1]:>12.4g} {offset.mse[k, -1]:>12.4g} "
          f"{mismatched.mse[k, -1]:>12.4g}")
for name, r in [("nominal", nominal), ("offset", offset), ("mismatch", mismatched)]:
    print(f"{name:>9}: median final MSE {np.median(r.mse[:, -1]):.4g} V^2")

# %% [markdown]
# The learning curves of the three circuits, every seed:

# %%
fig, ax = plt.subplots(constrained_layout=True)
epochs = np.arange(1, EPOCHS + 1)
for (name, r), colour in zip([("nominal", nominal), ("charge Voff1 = 20 mV", offset),
                              ("mismatch", mismatched)], ["C0", "C3", "C2"]):
    for k in range(len(r.seeds)):
        ax.plot(epochs, r.mse[k], color=colour, lw=0.8, label=name if k == 0 else None)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("MSE [V$^2$]")
ax.set_title("XOR 2-8-1: nominal, an offset in one role, a mismatched circuit")
ax.legend()
fig.savefig(OUT / "offsets_mismatch.png", dpi=80)
print("figure:", OUT / "offsets_mismatch.png")

# %% [markdown]
# `aann netlist --sample K` (or `aann.netlist(mismatch_cfg, sample=K)`) writes the
# circuit of sample K for ngspice, each instance with its own constants.

# %%
text, info = aann.netlist(mismatch_cfg, sample=1)
print(info, len(text.splitlines()), "lines")
