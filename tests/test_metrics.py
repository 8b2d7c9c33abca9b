"""Metrics are registered functions: one registered in this file alone is evaluated
after every epoch by the native and the ngspice engine and carried through Results,
checkpoints, a sweep's export and Monte Carlo's files, none of which names it."""

import csv
import io
import json

import jax.numpy as jnp
import numpy as np
import pytest

import aann
from aann import metrics
from aann.engines import native

NAME = "max_abs_weight"
CFG = aann.Config(network={"sizes": [2, 3, 1]},
                  training={"dataset": "xor", "epochs": 4, "seeds": 2})


@pytest.fixture
def max_abs_weight():
    """The new metric, registered for one test only."""
    @aann.register_metric(NAME, "V", better="lower", doc="the largest |Vw| of any capacitor")
    def _largest(ev):
        return jnp.max(jnp.stack([jnp.max(jnp.abs(w)) for w in ev.W]))

    yield NAME
    aann.unregister_metric(NAME)


def largest(W_epoch) -> np.ndarray:
    """(B, epochs) max |Vw| over the layers, from the recorded weights."""
    return np.max(np.stack([np.abs(w).reshape(*w.shape[:2], -1).max(axis=2)
                            for w in W_epoch]), axis=0)


def test_mse_is_the_first_metric_and_learned_is_defined_by_a_goal():
    assert metrics.names()[0] == "mse"
    goal = aann.Goal()
    assert (goal.metric, goal.value, goal.lower) == ("mse", 0.01, True)
    final = np.array([0.001, 0.02, np.nan, 0.005])
    diverged = np.array([0, 0, 0, 3])
    assert metrics.learned(final, diverged).tolist() == [True, False, False, False]
    assert goal.first_epoch(np.array([[0.5, 0.009, 0.002], [1, 1, 1]])).tolist() == [2, 0]
    with pytest.raises(aann.ValidationError, match="unknown metric 'nope'; known: mse"):
        aann.Goal("nope", 1.0)
    with pytest.raises(ValueError, match="cannot be removed"):
        aann.unregister_metric("mse")


def test_a_registered_metric_reaches_every_native_result(max_abs_weight, tmp_path):
    res = aann.train(CFG)
    assert list(res.metrics) == ["mse", NAME]
    got = res.metrics[NAME]
    assert got.shape == (2, 4)
    np.testing.assert_array_equal(got, largest(res.W_epoch))
    assert np.all(got > 0.1)  # a real figure, not a placeholder
    out = res.save(tmp_path / "run", plots=False)
    assert aann.Results.load(out) == res
    rows = list(csv.DictReader(io.StringIO((out / "mse.csv").read_text())))
    assert list(rows[0]) == ["seed", "epoch", "mse", NAME] and len(rows) == 8
    assert float(rows[-1][NAME]) == got[1, -1]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["networks"][0][f"final_{NAME}"] == got[0, -1]
    assert res.to_dataframe()[NAME].to_numpy().tolist() == got.reshape(-1).tolist()
    assert res.to_xarray()[NAME].attrs["units"] == "V"
    # a goal on the new metric: learned when the largest weight ends below the median
    threshold = float(np.median(got[:, -1])) + 1e-9
    flags = res.learned(aann.Goal(NAME, threshold))
    assert flags.tolist() == (got[:, -1] < threshold).tolist()


class Stop(Exception):
    pass


def test_a_registered_metric_resumes_from_a_checkpoint(max_abs_weight, tmp_path, monkeypatch):
    cfg = CFG.replace(training={"epochs": 40})
    whole = aann.train(cfg)
    real = native.simulate_rows

    def stopping(*args, on_chunk=None, **kw):  # stopped (as by Ctrl-C) after 12 epochs
        def cb(done, state, records):
            on_chunk(done, state, records)
            if done >= 12:
                raise Stop()
        return real(*args, on_chunk=cb, **kw)

    ck = tmp_path / "ck.npz"
    monkeypatch.setattr(native, "simulate_rows", stopping)
    with pytest.raises(Stop):
        aann.train(cfg, checkpoint=ck)
    monkeypatch.setattr(native, "simulate_rows", real)
    resumed = aann.train(cfg, checkpoint=ck, resume=True)
    np.testing.assert_array_equal(resumed.metrics[NAME], whole.metrics[NAME])
    np.testing.assert_array_equal(resumed.mse, whole.mse)
    aann.unregister_metric(NAME)  # the checkpoint holds a metric this run would not record
    with pytest.raises(aann.ValidationError, match="cannot resume"):
        aann.train(cfg, checkpoint=ck, resume=True)


@pytest.mark.ngspice
def test_a_registered_metric_is_read_back_from_ngspice(max_abs_weight):
    cfg = CFG.replace(training={"epochs": 3, "seeds": 1})
    native = aann.train(cfg, engine="native")
    spice = aann.train(cfg, engine="ngspice")
    assert list(spice.metrics) == ["mse", NAME]
    np.testing.assert_array_equal(spice.metrics[NAME], largest(spice.W_epoch))
    # the engines agree on the new figure as on the weights (ngspice's edges are finite)
    np.testing.assert_allclose(spice.metrics[NAME], native.metrics[NAME], atol=2e-3)


SWEEP = """
[base.network]
sizes = [2, 3, 1]
[base.training]
dataset = "xor"
epochs = 4
seeds = 2
[grid]
"constants.C" = ["0.1pF", "0.2pF"]
"""


def test_a_registered_metric_reaches_a_sweeps_export_and_monte_carlos_files(
        max_abs_weight, tmp_path):
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(SWEEP)
    aann.run_sweep(aann.load_sweep(sweep_file), tmp_path / "sweep", echo=lambda *a: None)
    from aann.sweep import export_csv

    export_csv(tmp_path / "sweep", tmp_path / "runs.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "runs.csv").read_text())))
    assert len(rows) == 4 and all(float(r[f"final_{NAME}"]) > 0.1 for r in rows)
    for r in rows:  # each run's figure is that of the same network trained alone
        cfg = CFG.replace(constants={"C": r["constants.C"]})
        alone = aann.train(cfg, init_weights=[aann.random_weights((2, 3, 1), int(r["seed"]))])
        assert alone.metrics[NAME][0, -1] == pytest.approx(float(r[f"final_{NAME}"]),
                                                           abs=1e-12)
    aann.montecarlo(CFG.replace(mismatch={"multiplier.Km": "5%"}), 3, out=tmp_path / "mc")
    mc = list(csv.DictReader(io.StringIO((tmp_path / "mc" / "montecarlo.csv").read_text())))
    assert [float(r[f"final_{NAME}"]) > 0.1 for r in mc] == [True] * 3
    summary = json.loads((tmp_path / "mc" / "summary.json").read_text())
    assert summary[f"final_{NAME}"]["max"] == max(float(r[f"final_{NAME}"]) for r in mc)
