"""E1 (Fig. 8): hold epochs are flat, learn epochs move Vout towards Vtarget."""

import csv

import pytest

from aann.experiments import fig8, report


@pytest.fixture(scope="module")
def fig8_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig8")
    facts = fig8.run(out, epochs=8)
    report.write_report(out)
    return out, facts


def test_files_and_columns(fig8_run):
    out, facts = fig8_run
    for name in ("fig8_waveforms.csv", "fig8_waveforms.png", "fig8_waveforms.svg",
                 "report_fig8.md", "report.md"):
        assert (out / name).stat().st_size > 0, name
    with open(out / "fig8_waveforms.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["time", "Vin1", "Vtarget1", "Vout1", "Vteach"]
    times = [float(r[0]) for r in rows[1:]]
    assert times == sorted(times) and times[-1] < 8 * 2 * fig8.T_ROW
    assert {float(r[4]) for r in rows[1:]} == {0.0, 1.0}


def test_hold_epochs_leave_weights_and_vout_unchanged(fig8_run):
    _, facts = fig8_run
    assert facts["learn"] == [True, False] * 4
    assert facts["hold_max_dW"] == 0.0
    assert facts["hold_vout_spread"] < 1e-12


def test_vout_approaches_vtarget_while_learning(fig8_run):
    _, facts = fig8_run
    assert facts["learn_rows_approaching"] == facts["learn_rows"]
    assert facts["last_learn_mse"] < facts["first_learn_mse"]


def test_report_section_states_errors_and_frozen_weights(fig8_run):
    out, _ = fig8_run
    text = (out / "report.md").read_text()
    assert "![Fig. 8 reproduction](fig8_waveforms.png)" in text
    assert ("weights in hold epochs: largest `|dVw|` over a hold epoch =\n"
            "  0 V (exactly unchanged)") in text
    assert text.count("| hold |") == 4 and text.count("| learn |") == 4


@pytest.mark.slow
def test_full_fig8_converges():
    """The default run (25 epochs, 5 ps) ends with MSE below 0.01."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        facts = fig8.run(d)
    assert facts["last_learn_mse"] < 0.01
    assert facts["hold_max_dW"] == 0.0


@pytest.mark.slow
@pytest.mark.ngspice
def test_fig8_on_ngspice_labels_epochs_from_the_schedule(tmp_path):
    """With ngspice (finite edges) the learn/hold labels still follow Vteach, and hold
    epochs change the weights only by the little learned while the gate falls."""
    facts = fig8.run(tmp_path, engine="ngspice", epochs=4)
    assert facts["learn"] == [True, False, True, False]
    assert facts["t_edge"] > 0
    assert 0 < facts["hold_max_dW"] < 0.01
    assert facts["hold_vout_spread"] < 1e-6
    assert facts["learn_rows_approaching"] == facts["learn_rows"]
