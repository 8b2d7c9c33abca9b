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

    def recorder(cfg, job, timeout=0):
        calls.append(job)
        return {"corner": job.corner, "seed": job.seed, "pdk_sample": job.pdk_sample,
                "epochs": cfg.training.epochs, "seconds": 1.0, "points": 10,
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
