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
# # Compare the two engines
#
# The same description runs on the native engine (JAX + diffrax) and on ngspice
# (a netlist of B-sources and capacitors). Both return the same `aann.Results`.
# ngspice's PWL sources cannot jump, so its rows start with an edge of `t_edge`;
# the native run is given the same edge and a tight adaptive solver so that the
# difference measured is the engines', not the edges'.
#
# Without ngspice (`apt-get install ngspice`) the ngspice cell says so and is
# skipped, unless `AANN_REQUIRE_NGSPICE=1` (set by `make test`), where it fails.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np

import aann
from aann.engines.spice import edge_time, find_ngspice

FAST = os.environ.get("AANN_EXAMPLES_FAST") == "1"
REQUIRE_NGSPICE = os.environ.get("AANN_REQUIRE_NGSPICE") == "1"
OUT = Path(tempfile.mkdtemp(prefix="aann-example-02-"))

# %% [markdown]
# ## A 1-2-1 network on two rows
#
# `t_edge` of 1 % of `t_row` is what the netlist uses when the description
# gives 0 (`aann.engines.spice.edge_time`).

# %%
cfg = aann.Config(
    network=aann.Network("1-2-1"),
    training={"dataset": "two-row", "epochs": 3 if FAST else 20, "seeds": 1 if FAST else 2},
)
t_edge = edge_time(cfg.training.t_row, 0.0)
cfg = cfg.replace(training={"t_edge": t_edge})
print(f"t_row = {cfg.training.t_row:g} s, t_edge = {t_edge:g} s, lambda = {cfg.lam:g}")

# %%
tight = {"stepping": "adaptive", "method": "dopri8", "rtol": 1e-10, "atol": 1e-12}
native = aann.train(cfg, engine=aann.Native(solver=tight))
print(native)

# %% [markdown]
# ## The same on ngspice
#
# `aann.netlist(cfg)` gives the netlist ngspice runs (one per network) and its facts.

# %%
text, info = aann.netlist(cfg)
print(info)
print("\n".join(text.splitlines()[:12]))

# %%
try:
    find_ngspice()
    have_ngspice = True
except aann.SimulationError as e:
    if REQUIRE_NGSPICE:
        raise
    print("ngspice is missing, so this cell is skipped:", e)
    have_ngspice = False

if have_ngspice:
    spice = aann.train(cfg, engine=aann.Ngspice(workers=1, reltol=1e-10, workdir=OUT))
    print(spice)
    dW = max(float(np.abs(a - b).max()) for a, b in zip(spice.W_epoch, native.W_epoch))
    print(f"largest weight difference over every epoch: {dW * 1e3:.3g} mV")
    print("final MSE native :", native.mse[:, -1])
    print("final MSE ngspice:", spice.mse[:, -1])
    assert dW < 5e-3, dW

# %% [markdown]
# Every weight of seed 0 after each epoch: the native engine's lines, and
# ngspice's dots on them.

# %%
ax = native.plot.weights(network=0)
if have_ngspice:
    for W in spice.W_epoch:
        per_epoch = W[0].reshape(W.shape[1], -1)
        ax.plot(np.arange(1, W.shape[1] + 1), per_epoch, "k.", markersize=4)
    ax.set_title("1-2-1, weights of seed 0: native (lines), ngspice (dots)")
ax.figure.savefig(OUT / "engines_weights.png", dpi=80)
print("figure:", OUT / "engines_weights.png")
