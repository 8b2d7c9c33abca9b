"""E3 (Figs. 12-13): parasitic multipliers beside the ideal ones, same initial weights."""

import csv

import pytest

from aann.experiments import parasitic


def test_reduced_run_files_and_columns(tmp_path):
    facts = parasitic.run(tmp_path, epochs=20, seeds=2, stress=False)
    with open(tmp_path / "parasitic_mse.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["multiplier", "seed", "epoch", "mse"]
    assert {r[0] for r in rows[1:]} == {"ideal", "parasitic"}
    assert len(rows) - 1 == 2 * 2 * 20
    for stem in ("parasitic_multiplier", "parasitic_mse"):
        assert (tmp_path / f"{stem}.png").exists() and (tmp_path / f"{stem}.svg").exists()
    text = (tmp_path / "report_parasitic.md").read_text()
    assert "500 uA" in text and "10 mV" in text
    assert facts["KI"] == 500e-6 and facts["Voff"] == 10e-3


def test_parasitic_changes_the_curves_from_the_same_start(tmp_path):
    facts = parasitic.run(tmp_path, epochs=20, seeds=2, stress=False)
    with open(tmp_path / "parasitic_mse.csv") as f:
        rows = list(csv.reader(f))[1:]
    ideal = [float(r[3]) for r in rows if r[0] == "ideal"]
    para = [float(r[3]) for r in rows if r[0] == "parasitic"]
    assert ideal != para
    assert facts["ideal"]["n"] == facts["parasitic"]["n"] == 2


@pytest.mark.slow
def test_parasitic_is_affected_but_functional(tmp_path):
    """Fig. 13's claim with the chosen KI/Voff: it still learns XOR, later than ideal."""
    facts = parasitic.run(tmp_path)
    p, i = facts["parasitic"], facts["ideal"]
    assert p["n_reached"] >= 8 and i["n_reached"] >= 9
    assert p["first_epoch_median"] > i["first_epoch_median"]
    assert p["final_median"] > i["final_median"]
    stress = facts[facts["stress_label"]]
    assert stress["n_reached"] < p["n_reached"]
