"""`aann reproduce offsets`: each placement is the offset a description would give."""

import numpy as np
import pytest

import aann
from aann.experiments import offsets


def test_a_network_of_the_offset_batch_is_the_described_offset():
    cfg = offsets.base_config(epochs=5, seeds=1)
    W = [aann.random_weights((2, 8, 1), 4)]
    cases = [("charge.Voff1", 0.01), ("type2.Ioff", 3e-7), ("error.Voff", 0.03), None]
    assignments = [None if c is None else c for c in cases]
    nets = [{"seed": 4, "layers": W[0]}] * len(cases)
    batch = aann.train_variants(offsets.offsets_variants(cfg, assignments, nets))
    for b, case in enumerate(cases):
        if case is None:
            alone = aann.train(cfg, init_weights=W)
        else:
            (where, op), value = case[0].split("."), case[1]
            section = ({"error": {op: value}} if where == "error" else
                       {"multiplier": {where: {op: value}}})
            alone = aann.train(cfg.replace(blocks=section), init_weights=W)
        for x, y in zip(batch.W_final, alone.W_final):
            np.testing.assert_allclose(x[b], y[0], rtol=0, atol=1e-12)
    assert offsets.offset_value("forward.Ioff", 0.01) == pytest.approx(1e-6)
    assert offsets.offset_value("forward.Voff", 0.01) == 0.01


def test_wilson_interval():
    lo, hi = offsets.wilson(8, 10)  # hand computation: p = 0.8, z = 1.96
    assert (lo, hi) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
    assert offsets.wilson(0, 10)[0] == 0.0 and offsets.wilson(10, 10)[1] == 1.0


def test_the_offsets_command_writes_its_table_figures_and_report(tmp_path):
    from aann.cli import main

    assert main(["reproduce", "offsets", "--epochs", "3", "--seeds", "2", "--samples", "3",
                 "--out", str(tmp_path)]) == 0
    rows = (tmp_path / "offsets.csv").read_text().splitlines()
    assert rows[0] == "placement,offset,unit,seed,final_mse,learned"
    assert len(rows) - 1 == (len(offsets.PLACEMENTS) * len(offsets.SIZES) + 1) * 2
    yield_rows = (tmp_path / "offsets_yield.csv").read_text().splitlines()
    assert len(yield_rows) - 1 == len(offsets.MISMATCHED) * (len(offsets.SIGMAS) + 1)
    for name in ("offsets.png", "offsets.svg", "offsets_yield.png", "report.md"):
        assert (tmp_path / name).stat().st_size > 0
    report = (tmp_path / "report.md").read_text()
    assert "offsets where they sit" in report and "`charge.Voff1` (Voff1 on Vdelta)" in report
