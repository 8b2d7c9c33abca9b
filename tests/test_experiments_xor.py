"""E2 (Figs. 9-11): XOR 2-8-1 learns at 0.1 ps; the small rate is slower."""

import csv

import pytest

from aann.experiments import report, xor


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory):
    """The paper's 1000 epochs and ten sets at the small and the optimal rate (seconds)."""
    out = tmp_path_factory.mktemp("xor")
    facts = xor.run(out, t_rows=(0.01e-12, 0.1e-12), check=False)
    report.write_report(out)
    return out, facts


def test_optimal_rate_converges(xor_run):
    _, facts = xor_run
    opt = facts["rates"][0.1e-12]
    assert opt["n"] == 10 and opt["n_reached"] >= 9
    assert opt["diverged"] == 0


def test_small_rate_is_slower(xor_run):
    _, facts = xor_run
    small, opt = facts["rates"][0.01e-12], facts["rates"][0.1e-12]
    assert small["n_reached"] < opt["n_reached"]
    assert small["final_median"] > 10 * opt["final_median"]


def test_csv_columns_and_t_row_in_seconds(xor_run):
    out, _ = xor_run
    with open(out / "xor_mse.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t_row", "seed", "epoch", "mse"]
    assert len(rows) - 1 == 2 * 10 * 1000
    assert {float(r[0]) for r in rows[1:]} == {1e-14, 1e-13}
    assert {int(r[1]) for r in rows[1:]} == set(range(10))
    assert {int(r[2]) for r in rows[1:]} == set(range(1, 1001))


def test_one_figure_per_rate_and_report(xor_run):
    out, _ = xor_run
    for stem in ("xor_mse_0.01ps", "xor_mse_0.1ps", "xor_mse_all"):
        assert (out / f"{stem}.png").exists() and (out / f"{stem}.svg").exists()
    text = (out / "report.md").read_text()
    assert "(xor_mse_0.1ps.png)" in text and "(xor_mse_all.png)" in text
    assert "10 of 10" in text or "9 of 10" in text


def test_solver_check_reports_convergence(tmp_path):
    facts = xor.run(tmp_path, epochs=30, seeds=2, t_rows=(1e-12,), check=True)
    c = facts["solver_check"][1e-12]
    assert c["steps"] == xor.CHECK_STEPS
    assert c["max_dmse"] < 1e-6
    assert "solver check" in (tmp_path / "report_xor.md").read_text()
