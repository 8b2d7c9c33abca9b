"""`aann reproduce limits`: its table, figure and report section (reduced studies)."""

import aann
from aann.experiments import limits


def test_the_limits_command_writes_its_table_figure_and_report(tmp_path, monkeypatch):
    from aann.cli import main

    monkeypatch.setattr(limits, "RETENTION", (1.0,))
    monkeypatch.setattr(limits, "T_ROWS", (1e-12,))
    monkeypatch.setattr(limits, "CAPACITANCES", (1e-16,))
    monkeypatch.setattr(limits, "QINJ", (1e-15,))
    monkeypatch.setattr(limits, "F3DB_T_ROW", (3.0,))
    assert main(["reproduce", "limits", "--epochs", "3", "--seeds", "2",
                 "--out", str(tmp_path)]) == 0
    rows = (tmp_path / "limits.csv").read_text().splitlines()
    assert rows[0] == "study,setting,learned,seeds,final_mse_median,first_epoch_median," \
                      "peak_over_Imax"
    # retention (+none), limit (free, clip), noise, Qinj (+0), bandwidth (+none)
    assert len(rows) - 1 == 2 + 2 + 1 + 2 + 2
    assert (tmp_path / "limits.png").stat().st_size > 0
    report = (tmp_path / "report.md").read_text()
    assert "the real parts' limits" in report and "What a designer takes from it" in report
    assert "Bandwidth (one pole" in report and "**Bandwidth.**" in report


def test_lambda_stays_1_across_the_current_limit_study():
    for t_row in limits.T_ROWS:
        cfg = limits.base(10, 1).replace(training={"t_row": t_row},
                                         constants={"Keta": limits.C0 / t_row})
        assert abs(cfg.lam - 1.0) < 1e-12
    assert isinstance(cfg, aann.Config)


def test_the_bandwidth_study_settles_in_proportion_to_its_poles():
    # the longest chain of 2-8-1 is 9 poles: u and Vout of both layers, the output VE
    # and Vdelta, the hidden VE and Vdelta, the hidden Vgrad (Vd joins a shorter path)
    tau = limits.T_ROW / (2 * 3.141592653589793 * 10.0)
    assert abs(limits._settling(10.0) / tau - 17.402652867352533) < 1e-6  # gamma(9) 99 %
