"""`aann reproduce tasks` at reduced size: iris alone, 3 seeds, the SkyWater laws and
sigmas from a stored file (no ngspice)."""

import json
from pathlib import Path

import numpy as np
import pytest

from aann.experiments import tasks

# the tt laws and tt_mm sigmas `reproduce transistor` measured (2 samples per cell)
STORED = json.loads((Path(__file__).parent / "data" / "sky130_tt_cells.json").read_text())


def test_nice_up_and_the_clipped_run_keep_lambda():
    assert [tasks.nice_up(x) for x in (0.3, 1.0, 1.2, 2.0, 2715.4, 5001)] == \
        [1.0, 1.0, 2.0, 2.0, 5000.0, 10000.0]
    cfg = tasks.network_config("iris", 3, 1)
    clipped = tasks.clip_config(cfg, 5000.0)
    assert clipped.lam == pytest.approx(cfg.lam)
    assert clipped.nonideal.current_limit == "clip"
    assert clipped.solver.steps == cfg.solver.resolved(cfg.lam).steps


@pytest.mark.slow
def test_tasks_command_writes_its_files_report_and_facts(tmp_path):
    from aann.cli import main

    (tmp_path / tasks.STORED).write_text(json.dumps(STORED))
    assert main(["reproduce", "tasks", "--out", str(tmp_path), "--networks", "iris",
                 "--epochs", "50", "--seeds", "3"]) == 0
    for name in ("tasks.csv", "tasks_curves.csv", "tasks_time.csv", "tasks_learning.png",
                 "tasks_learning.svg", "tasks_accuracy.png", "report.md"):
        assert (tmp_path / name).stat().st_size > 0
    report = (tmp_path / "report.md").read_text()
    assert "## Beyond the paper - real tasks" in report
    assert "### Where the circuit falls short, and why" in report
    assert "stored by an earlier run of this command" in report
    rows = (tmp_path / "tasks.csv").read_text().splitlines()
    assert rows[0] == ("network,topology,condition,seed,test_accuracy,train_accuracy,"
                       "diverged,t_row,wall_seconds")
    assert len(rows) - 1 == len(tasks.CONDITIONS) * 3
    acc = {}
    for line in rows[1:]:
        cells = line.split(",")
        acc.setdefault(cells[2], []).append(float(cells[4]))
    ideal = np.median(acc["ideal"])
    assert ideal >= 0.9
    assert np.median(acc["offsets 3 mV"]) <= ideal
    assert np.median(acc["clip"]) == ideal  # the same lambda, the source never at its limit
    curves = (tmp_path / "tasks_curves.csv").read_text().splitlines()
    assert len(curves) - 1 == len(tasks.CIRCUIT) * 3 * 50


def test_the_cells_come_from_reproduce_transistor_when_it_ran_into_the_directory(tmp_path):
    from aann.experiments._common import write_csv

    rows = [["tt", kind, spec["law"], key, float(value), "", 0.1, 0.01]
            for kind, spec in STORED["blocks"].items() for key, value in spec.items()
            if key != "law"]
    rows.append(["ss", "multiplier", "polynomial", "Km", 1.0, "", 0.1, 0.01])  # not tt
    write_csv(tmp_path / "transistor_constants.csv", ["corner", "kind", "law", "constant",
                                                      "value", "unit", "law_max_error_pct",
                                                      "table_max_error_pct"], rows)
    (tmp_path / "transistor_mismatch.toml").write_text(
        '[mismatch]\n"multiplier.Km" = "3%"\n"multiplier.Voff1" = 0.007\n'
        '"derivative.Voff" = 0.0002\n')
    cells = tasks.sky130_cells(tmp_path)
    assert "reproduce transistor" in cells["source"]
    assert cells["blocks"]["multiplier"]["Km"] == pytest.approx(6.5456e-05)
    # the derivative's law (sigmoid) has no Voff: that sigma is not drawn
    assert cells["mismatch"] == {"seed": 0, "multiplier.Km": "3%", "multiplier.Voff1": 0.007}
    trimmed = tasks.sky130_config(tasks.network_config("iris", 2, 1), cells, trimmed=True)
    assert trimmed.blocks.multiplier.Voff1 == 0.0
    assert set(trimmed.mismatch.sigmas) == {"multiplier.Km"}
    assert trimmed.training.init_range == pytest.approx(6.9513e-07 / (6.5456e-05 * 0.2))
