"""ngspice's outputs stored in the repository, so that the cross-engine comparison
runs where ngspice is missing too, and is regenerated and compared where it is present.

``tests/data/ngspice/<case>.npz`` holds, per case: the initial weights, the
weights after each epoch, the MSE after each epoch, the row-edge time and the
ngspice version that wrote it. Rewrite them (after a deliberate change of the
netlist or of ngspice's settings) with::

    .venv/bin/python tests/test_stored_ngspice.py --write
"""

import sys
from pathlib import Path

import numpy as np
import pytest

import aann

DATA = Path(__file__).parent / "data" / "ngspice"
TIGHT = {"stepping": "adaptive", "method": "dopri8", "rtol": 1e-10, "atol": 1e-12}
CASES = {
    "1-2-1_ideal_alternate": aann.Config(
        network={"sizes": [1, 2, 1]},
        training={"dataset": "two-row", "epochs": 6, "seeds": 2, "teach": "alternate"}),
    "2-3-1_parasitic_always": aann.Config(
        network={"sizes": [2, 3, 1]},
        blocks={"multiplier": {"law": "parasitic", "KI": "500uA", "Voff": "10mV"}},
        training={"dataset": "xor", "epochs": 10, "seeds": 2}),
}
NATIVE_DW, NATIVE_DMSE = 1e-3, 1e-4  # native against ngspice (V, V^2), as test_spice_engine
REGENERATED_DW = 1e-6  # ngspice now against ngspice stored (V)


def stored(case: str) -> dict:
    with np.load(DATA / f"{case}.npz") as f:
        return {k: f[k] for k in f.files}


def ngspice_arrays(case: str) -> dict:
    r = aann.train(CASES[case], engine="ngspice")
    out = {"mse": r.mse, "t_edge": np.array(r.engine_info.t_edge),
           "version": np.array(r.engine_info.version)}
    for l, (W0, W) in enumerate(zip(r.W_init, r.W_epoch)):
        out[f"W_init_{l}"], out[f"W_epoch_{l}"] = W0, W
    return out


def layers(data: dict, name: str) -> list:
    return [data[f"{name}_{l}"] for l in range(sum(k.startswith(f"{name}_") for k in data))]


@pytest.mark.parametrize("case", list(CASES))
def test_native_agrees_with_stored_ngspice(case):
    ref = stored(case)
    cfg = CASES[case]
    r = aann.train(cfg.replace(training={"t_edge": float(ref["t_edge"])}, solver=TIGHT))
    for W0, W in zip(r.W_init, layers(ref, "W_init")):  # the stored case is this case
        np.testing.assert_array_equal(W0, W)
    dW = max(np.abs(a - b).max() for a, b in zip(r.W_epoch, layers(ref, "W_epoch")))
    assert dW < NATIVE_DW
    assert np.abs(r.mse - ref["mse"]).max() < NATIVE_DMSE
    learned = max(np.abs(W[:, -1] - W0).max()
                  for W0, W in zip(layers(ref, "W_init"), layers(ref, "W_epoch")))
    assert learned > 1e-2  # a comparison of circuits that did learn


@pytest.mark.ngspice
@pytest.mark.parametrize("case", list(CASES))
def test_stored_ngspice_outputs_are_what_ngspice_gives_now(case):
    ref, now = stored(case), ngspice_arrays(case)
    assert float(now["t_edge"]) == float(ref["t_edge"])
    dW = max(np.abs(a - b).max() for a, b in zip(layers(now, "W_epoch"),
                                                 layers(ref, "W_epoch")))
    assert dW < REGENERATED_DW, (
        f"ngspice ({now['version']}) now differs from the stored outputs "
        f"({ref['version']}) by {dW:.3g} V; if the change is deliberate, run "
        "`.venv/bin/python tests/test_stored_ngspice.py --write`")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    DATA.mkdir(parents=True, exist_ok=True)
    for name in CASES:
        arrays = ngspice_arrays(name)
        np.savez_compressed(DATA / f"{name}.npz", **arrays)
        print(f"wrote {DATA / name}.npz ({arrays['version']})")
