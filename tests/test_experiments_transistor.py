"""`aann reproduce transistor`: the cells characterized at a corner, the network run with
the fitted laws of every corner in one batch, and the report section."""

import re
import tomllib

import numpy as np
import pytest

from aann.cli import main
from aann.experiments import transistor
from aann.experiments.cli import _transistor_missing


@pytest.mark.slow
@pytest.mark.ngspice
@pytest.mark.sky130
def test_transistor_reproduction_at_one_corner(tmp_path, capsys):
    missing = _transistor_missing()
    if missing:
        pytest.skip(missing)
    assert main(["reproduce", "transistor", "--out", str(tmp_path), "--corners", "tt",
                 "--epochs", "600", "--seeds", "2", "--mismatch", "2", "--samples", "2",
                 "--cosim-epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "laws all trimmed: every seed learns at tt" in out
    text = (tmp_path / "report_transistor.md").read_text()
    assert "SkyWater 130 nm" in text and "| multiplier.Km | A/V^2 | 0.0001 |" in text
    for fig in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (tmp_path / fig).is_file()
    assert "Mismatch from the PDK" in text and "mismatch yield" in out
    assert "Co-simulation" in text and (tmp_path / "transistor_cosim.csv").is_file()
    mismatch = tomllib.loads((tmp_path / "transistor_mismatch.toml").read_text())["mismatch"]
    assert {"multiplier.Km", "multiplier.Voff1", "activation.Iref", "derivative.Kd"} \
        <= set(mismatch)
    for cell in ("multiplier", "sigmoid", "derivative"):
        assert (tmp_path / "transistor" / "tt" / cell / "fit.toml").is_file()
    rows = np.genfromtxt(tmp_path / "transistor_learning.csv", delimiter=",", names=True,
                         dtype=None, encoding="utf-8")
    assert len(rows) == len(transistor.VARIANTS) * 2
    # with every multiplier's offsets trimmed the fitted laws learn the two rows
    trimmed = rows[rows["laws"] == "all trimmed"]
    assert np.all(trimmed["final_mse"] < transistor.GOAL)
    # `reproduce all` runs tasks, energy and cancellation after this: they read the tt
    # laws and the cells' sigmas from these files
    from aann.experiments.tasks import sky130_cells

    cells = sky130_cells(tmp_path)
    assert "`reproduce transistor` in this directory" in cells["source"]
    fit = tomllib.loads((tmp_path / "transistor" / "tt" / "multiplier" / "fit.toml").read_text())
    assert cells["blocks"]["multiplier"]["law"] == fit["blocks"]["multiplier"]["law"]
    assert cells["blocks"]["multiplier"]["Km"] == pytest.approx(
        fit["blocks"]["multiplier"]["Km"], rel=1e-6)
    assert {k for k in cells["mismatch"] if k != "seed"} <= set(mismatch)


def test_unknown_corner_is_a_user_error(tmp_path, capsys):
    assert main(["reproduce", "transistor", "--out", str(tmp_path), "--corners", "tt,xx"]) == 2
    assert "corner 'xx'" in capsys.readouterr().err


def test_xor_part_co_simulates_the_example_and_keeps_every_run(tmp_path, monkeypatch):
    """The XOR part of `reproduce transistor` (aann.experiments.transistor_xor): its
    description is examples/cells_xor.toml; it runs the tt seeds, seed 0 at the other
    corners and with each PDK sample; a finished run is kept and not repeated (resume);
    its CSV has a row per run and the report embeds its figure. ngspice's part is
    tests/test_cells_cosim.py's (one epoch of the same network against the native
    engine); here each co-simulation is a recorder returning what a run returns."""
    from pathlib import Path

    import aann
    from aann.experiments import transistor_xor as tx
    from aann.experiments._common import sky130_goal

    examples = Path(__file__).parents[1] / "examples"
    example = aann.load_toml(examples / "cells_xor.toml")
    table = examples / "cells_xor_multiplier_lm_tt.csv"
    assert tx.config(table, example.training.epochs).to_dict() == example.to_dict()
    folder = tmp_path / "transistor" / "tt" / "multiplier_lm_xor"  # measured by the part
    folder.mkdir(parents=True)
    (folder / "sweep.csv").write_bytes(table.read_bytes())
    (folder / "table_error.json").write_text('{"table_error_A": 2.73e-08}')
    assert sky130_goal(example) == pytest.approx(1.44e-4)
    assert tx.judge([0.04, 0.16, 0.16, 0.04], example)["learned"]
    assert tx.judge([0.05, 0.16, 0.16, 0.04], example)["mse_readout"] == pytest.approx(2.5e-5)
    assert not tx.judge([0.04, 0.16, 0.09, 0.04], example)["learned"]  # a row misread
    assert not tx.judge([0.065, 0.16, 0.16, 0.065], example)["learned"]  # 3.1e-4 > goal
    calls = []

    def recorder(cfg, job, timeout=0, partial=None):
        calls.append(job)
        assert partial.name == f"{job.name}.partial.json"
        return {"corner": job.corner, "seed": job.seed, "pdk_sample": job.pdk_sample,
                "epochs": cfg.training.epochs, "max_epochs": cfg.training.epochs,
                "seconds": 1.0, "points": 10,
                "mse_rows": [1e-3, 1e-4], "W_final": [[], [[0.05, 0.3, -0.2, 0.1]]],
                "readout": [0.04, 0.16, 0.16, 0.04],
                "mse_readout": 0.0, "learned": job.seed == 0}

    monkeypatch.setattr(tx, "run_job", recorder)
    res = tx.run(tmp_path, seeds=(0, 1), corners=("ss",), pdk_samples=2, epochs=2)
    assert sorted(j.name for j in calls) == ["ss_seed0", "tt_seed0", "tt_seed0_mm0",
                                             "tt_seed0_mm1", "tt_seed1"]  # 2 at a time
    assert set(res["native"]) == {0, 1} and len(res["native"][0]["mse"]) == 2
    # the bound at output weights 0.3, 0.2, 0.1 (the bias's 0.05: no error): s = Vamp/(4 Iref)
    s = 0.19665 / (4 * 6.9513e-7)
    hidden = 3 * s * 2.73e-8 + 1.26e-3
    assert tx.readout_bound(example, [0.05, 0.3, -0.2, 0.1], 2.73e-8) == pytest.approx(
        s * (4 * 2.73e-8 + 1.2725e-4 * 0.6 * hidden) + 1.26e-3)
    assert res["native"][0]["bound_V"] >= tx.readout_bound(example, [0, 0.3, 0.2, 0.1], 2.73e-8)
    calls.clear()
    again = tx.run(tmp_path, seeds=(0, 1), corners=("ss",), pdk_samples=2, epochs=2)
    assert calls == [] and again["runs"] == res["runs"]  # every run kept, none repeated
    text = tx.write(tmp_path, res)
    assert "4 of 5 runs learn" in text and (tmp_path / "transistor_xor.png").is_file()
    rows = (tmp_path / "transistor_xor.csv").read_text().splitlines()
    assert len(rows) == 6 and rows[0].startswith("corner,seed,pdk_sample")


def test_a_xor_run_goes_in_chunks_that_continue_stops_once_learned_and_resumes(
        tmp_path, monkeypatch):
    """``transistor_xor.run_job``: netlists of ``chunk`` epochs, each from the last one's
    weights and ``state`` (the first from the seed's weights and none), each read out;
    the run stops at the first read-out that learned (here the third chunk: 30 of at most
    100 epochs); every chunk is kept in ``partial``, so a run stopped by Ctrl-C during its
    second chunk resumes there, with the first chunk's weights and state, and gives what
    an uninterrupted run gives. ngspice is a recorder here (the continuation itself:
    tests/test_cells_cosim.py)."""
    import json
    from pathlib import Path

    import aann
    import aann.cells.cosim as cosim
    from aann.experiments import transistor_xor as tx

    cfg = tx.config(Path(__file__).parents[1] / "examples" / "cells_xor_multiplier_lm_tt.csv",
                    100)
    job = tx.Job("tt", 2, 1)
    calls, stop_at = [], []

    def fake(sizes, W0, X, Y, *, epochs, state, pdk_sample, corner, **kw):
        if len(calls) + 1 in stop_at:
            stop_at.clear()
            raise KeyboardInterrupt
        calls.append({"W0": [np.asarray(w).tolist() for w in W0], "state": state,
                      "epochs": epochs, "pdk_sample": pdk_sample, "corner": corner})
        n = len(calls)
        W = [np.stack([np.asarray(w) + 1e-3 * (n * epochs + e) for e in range(epochs)])
             for w in W0]
        good = np.asarray(Y, float)[:, :1] + (0.0 if n == 3 else 0.05)
        return {"W_epoch": W, "Vout_rows": np.repeat(good[None], epochs, 0),
                "Vout_readout": good, "points": 7, "state": {"V(w0_0_0)": 0.9 + n}}

    monkeypatch.setattr(cosim, "run_cosim", fake)
    whole = tx.run_job(cfg, job, chunk=10)
    assert [c["epochs"] for c in calls] == [10, 10, 10] and whole["epochs"] == 30
    assert whole["learned"] and whole["max_epochs"] == 100 and len(whole["mse_rows"]) == 30
    assert [c["state"] for c in calls] == [None, {"V(w0_0_0)": 1.9}, {"V(w0_0_0)": 2.9}]
    W0 = aann.random_weights(cfg.network.sizes, 2, cfg.training.init_range)
    assert calls[0]["W0"] == [np.asarray(w).tolist() for w in W0]
    for given, start in zip(calls[1]["W0"], W0):  # the first chunk's last epoch (n 1, e 9)
        np.testing.assert_allclose(given, np.asarray(start) + 1e-3 * 19)
    assert {(c["pdk_sample"], c["corner"]) for c in calls} == {(1, "tt")}
    assert len(whole["mse_chunks"]) == 3 and whole["mse_chunks"][2] == whole["mse_readout"]

    partial, calls[:] = tmp_path / "run.partial.json", []
    stop_at.append(2)
    with pytest.raises(KeyboardInterrupt):
        tx.run_job(cfg, job, chunk=10, partial=partial)
    assert json.loads(partial.read_text())["epochs"] == 10 and len(calls) == 1
    resumed = tx.run_job(cfg, job, chunk=10, partial=partial)
    assert [c["state"] for c in calls] == [None, {"V(w0_0_0)": 1.9}, {"V(w0_0_0)": 2.9}]
    assert {k: v for k, v in resumed.items() if k != "seconds"} == \
        {k: v for k, v in whole.items() if k != "seconds"}
