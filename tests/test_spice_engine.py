"""One model on both engines: ngspice and the native engine agree on the training transient.

The native run uses the same finite row edges as the netlist's PWL sources
(``t_edge`` = 1 % of ``t_row`` when the description says 0) and a tight
adaptive solver, so that the difference measured is ngspice's.
"""


from functools import cache

import numpy as np
import pytest

import aann
from aann.engines.spice import SpiceOptions, edge_time

pytestmark = pytest.mark.ngspice

XOR2 = aann.Dataset("xor-2out", np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
                    np.array([[0.1, 0.9], [0.9, 0.1], [0.9, 0.1], [0.1, 0.9]]))
TOPOLOGIES = {"1-2-1": ("two-row", None), "2-3-2": ("xor", XOR2), "2-8-1": ("xor", None)}
TIGHT = {"stepping": "adaptive", "method": "dopri8", "rtol": 1e-10, "atol": 1e-12}


@cache
def both_engines(topology, law, teach, epochs=10, seeds=2):
    """ngspice, and the native engine on the same edges with a tight solver. Kept for the
    module: a test that reads a run another test made reads it, not a second run."""
    name, dataset = TOPOLOGIES[topology]
    config = aann.Config(
        network=aann.Network(topology),
        blocks={"multiplier": {"law": law}},
        training=aann.Training(dataset=name, epochs=epochs, seeds=seeds, teach=teach))
    s = aann.train(config, engine="ngspice", dataset=dataset)
    t_edge = s.engine_info.t_edge
    assert t_edge == edge_time(config.training.t_row, 0.0)
    n = aann.train(config.replace(training={"t_edge": t_edge}, solver=TIGHT), dataset=dataset)
    dW = max(np.abs(a - b).max() for a, b in zip(s.W_epoch, n.W_epoch))
    dMSE = np.abs(s.mse - n.mse).max()
    return s, n, dW, dMSE


@pytest.mark.slow
@pytest.mark.parametrize("teach", ["always", "alternate"])
@pytest.mark.parametrize("law", ["ideal", "parasitic"])
@pytest.mark.parametrize("topology", list(TOPOLOGIES))
def test_ngspice_agrees_with_native(topology, law, teach):
    s, n, dW, dMSE = both_engines(topology, law, teach)
    print(f"{topology} {law} {teach}: max |dVw| = {dW:.3g} V, max |dMSE| = {dMSE:.3g}")
    assert dW < 1e-3
    assert dMSE < 1e-4
    assert np.all(s.solver_ok)
    # the run did learn something, so the comparison is not of two frozen circuits
    assert max(np.abs(a - b).max() for a, b in zip(s.W_final, s.W_init)) > 1e-2
    peak_s, peak_n = s.peak_current_max, n.peak_current_max
    np.testing.assert_allclose(peak_s, peak_n, rtol=1e-2)


def test_hold_epochs_freeze_the_weights_in_ngspice():
    """Vteach = 0 V in the even epochs of ``alternate``: the capacitors hold their charge.
    The run of test_ngspice_agrees_with_native[1-2-1-ideal-alternate] (10 epochs, 2
    networks), not one of its own."""
    s, _, _, _ = both_engines("1-2-1", "ideal", "alternate")
    assert s.W_epoch[0].shape[0] == 2
    for W0, W in zip(s.W_init, s.W_epoch):
        before = np.concatenate([W0[:, None], W], axis=1)  # before[:, e]: after epoch e
        learned = np.abs(before[:, 1] - before[:, 0]).max()
        assert learned > 1e-2  # epoch 1 learns
        # epoch 2 holds; only the first row's 1 % edge from Vteach = 1 V to 0 V moves it
        assert np.abs(before[:, 2] - before[:, 1]).max() < 0.02 * learned
        assert np.abs(before[:, 4] - before[:, 3]).max() < 0.02 * learned


def test_waveforms_and_files(tmp_path):
    config = aann.Config(network=aann.Network("1-2-1"),
                         training=aann.Training(dataset="two-row", epochs=3, seeds=1))
    r = aann.train(config, engine="ngspice", waveforms=True)
    wf = r.waveforms
    T = wf["time"].shape[0]
    assert T == 3 * 2 * 2 * config.solver.samples_per_row
    assert wf["Vout"].shape == (1, T, 1) and wf["Vteach"].shape == (1, T)
    # the sources ngspice applied are the data rows (sampled inside the hold piece)
    hold = (wf["time"] % config.training.t_row) > 0.02 * config.training.t_row
    assert set(np.round(wf["Vin"][0, hold, 0], 12)) == {0.0, 1.0}
    r.save(tmp_path, plots=False)
    for name in ("mse.csv", "weights.json", "summary.json", "waveforms.csv"):
        assert (tmp_path / name).exists()


def test_options_reach_the_netlist(tmp_path):
    config = aann.Config(network=aann.Network("1-2-1"),
                         training=aann.Training(dataset="two-row", epochs=1, seeds=1))
    aann.train(config, engine="ngspice", options=SpiceOptions(method="trap", reltol=1e-5),
               workdir=tmp_path, keep_files=True)
    text = (tmp_path / "net0.cir").read_text()
    assert "method=trap" in text and "reltol=1e-05" in text and "uic" in text
    assert (tmp_path / "net0.raw").exists()
