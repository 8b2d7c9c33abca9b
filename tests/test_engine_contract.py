"""The engine contract: facts of the model that every engine must show.

One suite, run on every engine (Brian2's ``tests/features`` habit): a new
engine is added to ``ENGINES`` and must pass it unchanged. ngspice needs
finite row edges (1 % of ``t_row``); each fact is stated so that it holds for
any edge time, and is exact where the edge time is 0 (native).
"""

import numpy as np
import pytest

import aann
from aann.prepare import prepare

ENGINES = [pytest.param("native", id="native"),
           pytest.param("ngspice", id="ngspice", marks=pytest.mark.ngspice)]
CFG = aann.Config(network={"sizes": [1, 2, 1]},
                  training={"dataset": "two-row", "epochs": 4, "seeds": 2})


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


def largest_change(a, b) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


def test_vteach_zero_freezes_every_weight(engine):
    r = aann.train(CFG.replace(training={"teach": "off"}), engine=engine)
    for W0, W in zip(r.W_init, r.W_epoch):
        # native: bit for bit; ngspice: a capacitor fed 0 A holds its IC to 1 pV
        np.testing.assert_allclose(W, np.broadcast_to(W0[:, None], W.shape), rtol=0,
                                   atol=0 if engine == "native" else 1e-12)
    assert np.all(r.peak_current_max == 0)


def test_hold_epochs_move_the_weights_only_during_the_vteach_edge(engine):
    """In a hold epoch of ``alternate`` only the first row's edge, where Vteach falls
    from 1 V to 0 V within ``t_edge``, can charge a capacitor: by at most
    ``peak |Icharged| * t_edge / C``, which is 0 with ideal edges."""
    r = aann.train(CFG.replace(training={"teach": "alternate", "epochs": 6}), engine=engine)
    t_edge, C = r.engine_info.t_edge, r.config.constants.C
    for W0, W, peak in zip(r.W_init, r.W_epoch, r.peak_current):
        before = np.concatenate([W0[:, None], W], axis=1)  # before[:, e]: after epoch e
        for e in (2, 4, 6):  # hold epochs
            change = np.abs(before[:, e] - before[:, e - 1])
            assert np.all(change <= peak * t_edge / C), (e, change.max())
        learned = np.abs(before[:, 1] - before[:, 0]).max()
        assert learned > 1e-2  # learn epochs do learn
    if t_edge == 0:
        for W in r.W_epoch:
            np.testing.assert_array_equal(W[:, 1], W[:, 0])


def test_records_are_the_weights_after_each_epoch_and_their_mse(engine):
    r = aann.train(CFG, engine=engine)
    assert r.mse.shape == (2, 4) and r.epochs_done == 4 and r.rows == 2
    for W, Wf in zip(r.W_epoch, r.W_final):
        assert W.shape[:2] == (2, 4)
        np.testing.assert_allclose(W[:, -1], Wf, rtol=0, atol=1e-12)
    # MSE after an epoch: forward pass only, weights frozen, mean over rows and outputs
    ds = aann.load_dataset("two-row")
    circuit = aann.build_circuit(r.config)
    for b in range(2):
        for e in range(4):
            W = [w[b, e] for w in r.W_epoch]
            out = np.array([np.asarray(circuit.output(W, x)) for x in ds.X])
            assert r.mse[b, e] == pytest.approx(np.mean((out - ds.Y) ** 2), rel=1e-9, abs=1e-15)
    assert np.all(r.solver_ok)


def test_waveforms_are_sampled_on_the_schedules_grid(engine):
    cfg = CFG.replace(training={"teach": "alternate", "epochs": 2, "seeds": 1})
    r = aann.train(cfg, engine=engine, waveforms=True)
    wf, t_edge = r.waveforms, r.engine_info.t_edge
    schedule = prepare(cfg.replace(training={"t_edge": t_edge})).schedule
    n = cfg.solver.samples_per_row
    np.testing.assert_allclose(wf["time"], schedule.sample_times(n), rtol=0, atol=1e-24)
    T = wf["time"].size
    assert wf["Vout"].shape == (1, T, 1) and wf["Vin"].shape == (1, T, 1)
    held = (wf["time"] % cfg.training.t_row) >= t_edge  # past the row's edge
    row = (wf["time"] // cfg.training.t_row).astype(int)  # row index since the start
    ds = schedule.dataset
    np.testing.assert_allclose(wf["Vin"][0, held, 0], ds.X[row[held] % 2, 0], atol=1e-9)
    np.testing.assert_allclose(wf["Vtarget"][0, held, 0], ds.Y[row[held] % 2, 0], atol=1e-9)
    np.testing.assert_allclose(wf["Vteach"][0, held], schedule.Vteach[row[held] // 2],
                               atol=1e-9)
    assert np.all((wf["Vout"] > 0) & (wf["Vout"] < cfg.blocks.activation.Vamp))


def test_divergence_is_flagged_alike(engine):
    """A weight beyond ``Vw_bound`` flags the network at that epoch, with its reason."""
    cfg = CFG.replace(constants={"Vw_bound": "0.05V"})
    r = aann.train(cfg, engine=engine)
    assert list(r.diverged_epoch) == [1, 1]
    assert r.diverged_reason == [aann.Divergence.BEYOND_BOUND] * 2
    summary = r.summary()["networks"]
    assert [n["diverged_because"] for n in summary] == ["|Vw| > constants.Vw_bound"] * 2
    sane = aann.train(CFG, engine=engine)
    assert list(sane.diverged_epoch) == [0, 0]
