"""`aann reproduce cancellation` at reduced size: XOR alone, 3 seeds, sigma 0 and 10 mV;
the dead zone's design from the circuit's own path offset; the SkyWater part skipped
without ngspice and the models, and run from stored cell laws."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import aann
from aann.experiments import cancellation as canc
from aann.experiments import tasks


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_the_command_writes_its_files_and_the_chopper_beats_no_technique(tmp_path,
                                                                        monkeypatch):
    """At sigma 0 the chopper (the plain run's steps) and autozero (its kT/C_az noise
    aside) learn XOR as the circuit without them; at 10 mV on every multiplier and error
    block no technique loses seeds the chopper keeps."""
    from aann.cli import main

    monkeypatch.setattr(tasks, "sky130_missing", lambda: "ngspice not found (test)")
    assert main(["reproduce", "cancellation", "--out", str(tmp_path), "--networks", "xor",
                 "--epochs", "700", "--seeds", "3", "--sigmas", "0,10"]) == 0
    for name in ("cancellation.csv", "cancellation_costs.csv", "cancellation.png",
                 "cancellation.svg", "cancellation_lines.png", "report.md"):
        assert (tmp_path / name).stat().st_size > 0
    assert not (tmp_path / "cancellation_sky130.csv").exists()
    report = (tmp_path / "report.md").read_text()
    assert "## Beyond the paper - offset cancellation" in report
    assert "The SkyWater part was left out: ngspice not found (test)" in report
    assert "](cancellation.png)" in report and "](cancellation_lines.png)" in report

    rows = _rows(tmp_path / "cancellation.csv")
    assert len(rows) == len(canc.TECHNIQUES) * 2 * 3
    final = {(r["technique"], float(r["sigma"]), int(r["seed"])): r for r in rows}

    def learned(tech, sigma):
        return sum(int(final[(tech, sigma, s)]["learned"]) for s in range(3))

    none0 = learned("none", 0.0)
    assert none0 == 3  # the offset-free circuit learns XOR in 700 epochs
    for s in range(3):  # the very steps of the plain run: float64 rounding apart
        assert float(final[("chopper", 0.0, s)]["final_mse"]) == pytest.approx(
            float(final[("none", 0.0, s)]["final_mse"]), rel=1e-6, abs=1e-9)
    assert learned("autozero", 0.0) == none0
    assert learned("chopper", 0.01) == 3 > learned("none", 0.01)
    assert learned("autozero", 0.01) == 3

    costs = {r["technique"]: r for r in _rows(tmp_path / "cancellation_costs.csv")}
    assert costs["chopper"]["switches_per_weight"] == "4"
    assert costs["autozero"]["capacitors_per_weight"] == "1"
    assert float(costs["autozero"]["time_factor"]) == pytest.approx(1 + canc.T_AZ_SHARE)
    assert float(costs["autozero"]["training_time_s"]) == pytest.approx(
        (1 + canc.T_AZ_SHARE) * float(costs["none"]["training_time_s"]))
    # the chopper at the study's 0.1 ps rows is far beyond what 1 GHz blocks follow
    assert float(costs["chopper"]["chopper_loss_at_row"]) > 0.99
    assert float(costs["chopper"]["chopper_min_row_s"]) > 1e-9


def test_the_dead_zone_is_three_rms_path_offsets_which_scale_with_the_sigma():
    """The path offset at zero error is linear in the offsets to first order: the same
    draws at twice the sigma give twice the offset (products of two offsets are
    1e-3 of it at mV offsets on 1 V signals); without mismatch it is exactly 0."""
    cfg = canc.network_config("xor", 10, 2)
    one = canc.path_offsets(cfg, canc.offsets_section(1e-3), 2)
    two = canc.path_offsets(cfg, canc.offsets_section(2e-3), 2)
    assert one.size == 2 * 4 * (8 * 3 + 1 * 9)  # samples x rows x charging sources
    np.testing.assert_allclose(two, 2 * one, rtol=0, atol=1e-2 * np.abs(one).max())
    assert not canc.path_offsets(cfg, {"seed": 0}, 1).any()
    d = canc.design(cfg, canc.offsets_section(1e-3), 2, rows=4)
    assert d["dead_zone"] == pytest.approx(3 * np.sqrt(np.mean(one ** 2)))
    assert d["R_leak"] * cfg.constants.C == pytest.approx(4 * 10 * cfg.training.t_row)


def test_bad_sigmas_are_refused_with_the_fix(tmp_path, capsys):
    from aann.cli import main

    assert main(["reproduce", "cancellation", "--out", str(tmp_path), "--sigmas",
                 "1,10"]) == 2
    assert "error: --sigmas '1,10'" in capsys.readouterr().err
    with pytest.raises(aann.ValidationError, match="starting at 0"):
        canc.run(tmp_path, sigmas=(0.0, 1e-3, 1e-3))


def test_the_advice_picks_the_technique_that_works_furthest():
    """From made-up numbers: a technique that stops earlier is never picked, and of two
    that reach as far with equal results the one with the shorter bandwidth-limited
    training wins."""
    sigmas = (0.0, 1e-3, 10e-3)
    lim = {"settling": 1.0, "min_row": 10.0}

    def tech(yields, parts=0, factor=1.0):
        return {"sigmas": {s: {"learned": np.array([True] * y + [False] * (10 - y))}
                           for s, y in zip(sigmas, yields)},
                "costs": {"switches_per_weight": parts, "capacitors_per_weight": 0,
                          "comparators_per_weight": 0, "resistors_per_weight": 0,
                          "time_factor": factor}}

    f = {"chopper_limits": lim, "techniques": {
        "none": tech((10, 9, 0)), "chopper": tech((10, 10, 10), 4),
        "autozero": tech((10, 10, 10), 3, 1.1), "dead_zone": tech((10, 10, 5), 1),
        "leakage": tech((7, 7, 0), 1)}}
    a = canc.advice({"networks": {"xor": f}, "sigmas": sigmas})
    assert a["table"]["none"]["reach"]["xor"] == (1e-3, 10e-3)
    assert a["table"]["leakage"]["reach"]["xor"] == (None, 0.0)
    assert a["best"] == "autozero" and a["why"] == "time"  # rows of 2 against 10 settlings
    assert a["equal"] == ["chopper"]
    # an offset-free circuit that learns (almost) nothing leaves nothing to judge by
    f["techniques"]["none"] = tech((2, 1, 0))
    assert not canc.informative(f, "xor")
    assert canc.advice({"networks": {"xor": f}, "sigmas": sigmas})["best"] is None


SIGMAS = ("seed", "multiplier.Km", "multiplier.Voff1", "multiplier.Voff", "multiplier.Ioff",
          "activation.Vamp", "derivative.Kd")
STORED = json.loads((Path(__file__).parent / "data" / "sky130_tt_cells.json").read_text())
STORED["mismatch"] = {k: STORED["mismatch"][k] for k in SIGMAS}
"""The tt laws `reproduce transistor` measured (as test_experiments_tasks), with its tt_mm
sigmas of the multiplier and of the neuron's and derivative's gains only."""


@pytest.mark.slow
def test_the_skywater_part_runs_every_technique_on_the_cells(tmp_path):
    (tmp_path / tasks.STORED).write_text(json.dumps(STORED))
    cells = tasks.sky130_cells(tmp_path)
    fitted = canc.sky130_base(cells, 20, 2, trimmed=False)
    trimmed = canc.sky130_base(cells, 20, 2, trimmed=True)
    assert trimmed.blocks.multiplier.Voff1 == 0 and trimmed.blocks.multiplier.Ioff == 0
    assert "multiplier.Voff1" in fitted.mismatch.sigmas
    assert "multiplier.Voff1" not in trimmed.mismatch.sigmas
    # the goal: 0.1 of the target swing rms, as 0.01 V^2 is on the ideal circuit's 1 V
    assert canc.sky130_goal(fitted) == pytest.approx(0.01 * 0.12 ** 2)
    ds = aann.datasets.for_config(fitted)
    np.testing.assert_allclose(ds.X, [[0, 0], [0, 0.2], [0.2, 0], [0.2, 0.2]])
    np.testing.assert_allclose(ds.Y[:, 0], [0.04, 0.16, 0.16, 0.04])
    sky = canc.run_sky130(cells, 20, 2, "native", False)
    assert set(sky["techniques"]) == set(canc.TECHNIQUES)
    assert sky["design"]["dead_zone"] == pytest.approx(3 * sky["design"]["path_rms"])
    for g in (sky["trimmed"], *sky["techniques"].values()):
        assert g["learned"].shape == (2,) and np.all(np.isfinite(g["final_mse"]) | g["diverged"])
