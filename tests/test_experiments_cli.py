"""`aann reproduce ...` from the command line, and the merged report.md."""

import re

import pytest

from aann.cli import main


def test_reproduce_fig8_command(tmp_path, capsys):
    assert main(["reproduce", "fig8", "--out", str(tmp_path), "--epochs", "4"]) == 0
    assert (tmp_path / "fig8_waveforms.csv").exists()
    assert "report.md" in capsys.readouterr().out
    text = (tmp_path / "report.md").read_text()
    assert "not run into this directory (yet): xor, parasitic, speed" in text


def test_bad_tests_option_is_a_user_error(tmp_path, capsys):
    assert main(["reproduce", "speed", "--out", str(tmp_path), "--tests", "9"]) == 2
    assert "error: --tests" in capsys.readouterr().err


@pytest.mark.slow
def test_reproduce_all_reduced(tmp_path, monkeypatch):
    """Every experiment at reduced size; report.md embeds every figure that was written.
    The limits' studies at one setting each (tests/test_experiments_limits.py covers
    them; their many settings each compile, 3 minutes at full width)."""
    from aann.experiments import limits

    for name, one in (("RETENTION", (1.0,)), ("T_ROWS", (1e-12,)), ("CAPACITANCES", (1e-16,)),
                      ("QINJ", (1e-15,)), ("F3DB_T_ROW", (3.0,))):
        monkeypatch.setattr(limits, name, one)
    assert main(["reproduce", "all", "--out", str(tmp_path), "--epochs", "4", "--seeds", "2",
                 "--repeats", "2", "--speed-tests", "1,2"]) == 0
    text = (tmp_path / "report.md").read_text()
    for section in ("E1 - Fig. 8", "E2 - Figs. 9-11", "E3 - Figs. 12-13", "E4 - Tabs. 1-2"):
        assert section in text
    embedded = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text))
    written = {p.name for p in tmp_path.glob("*.png")}
    assert embedded == written
    for csv_name in ("fig8_waveforms.csv", "xor_mse.csv", "parasitic_mse.csv", "speed.csv"):
        assert (tmp_path / csv_name).exists()
    assert "wall time" in text
