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
