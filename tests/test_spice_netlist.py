"""The exported netlist: what it holds, that it runs as written, and the problems detected."""

import subprocess

import numpy as np
import pytest

import aann
from aann.cli import main
from aann.engines.spice import SpiceOptions, network_netlist, with_edges
from aann.engines.spice.netlist import source_breakpoints
from aann.engines.spice.ngspice import INSTALL_HINT, check_messages, find_ngspice, run_ngspice
from aann.engines.spice.raw import read_raw


def test_netlist_has_the_papers_nodes_and_initial_weights(tmp_path):
    out = tmp_path / "net.cir"
    assert main(["netlist", "--topology", "2-3-2", "--dataset", str(_xor2(tmp_path)),
                 "--epochs", "2", "--seed", "3", "-o", str(out)]) == 0
    text = out.read_text()
    W0 = aann.random_weights((2, 3, 2), 3)
    assert text.count("\nCw_") == 17  # Fig. 7: 17 weight capacitors
    assert f"Cw_l3_n2_i3 vw_l3_n2_i3 0 1e-13 IC={float(W0[1][1, 3])!r}" in text
    for node in ("vin1", "vin2", "vtarget2", "vteach", "vbias", "vout_l3_n2", "ve_l2_n3",
                 "vd_l2_n1", "vdelta_l3_n1"):
        assert node in text
    assert ".subckt neuron_l2" in text and ".subckt neuron_l3" in text
    assert " uic" in text.splitlines()[-2]


def _xor2(tmp_path):
    path = tmp_path / "xor2.csv"
    path.write_text("x1,x2,y1,y2\n0,0,0.1,0.9\n0,1,0.9,0.1\n1,0,0.9,0.1\n1,1,0.1,0.9\n")
    return path


def test_pwl_edges_start_each_row_from_the_previous_one():
    ds = aann.load_dataset("xor")
    sched = with_edges(aann.RowSchedule.build(ds, 1e-13, 2, teach="alternate"))
    t, X, Y, vt = source_breakpoints(sched)
    assert sched.t_edge == pytest.approx(1e-15)
    assert np.all(np.diff(t) > 0)
    assert t[-1] == pytest.approx(8e-13)
    np.testing.assert_allclose(t[1:-1:2] - t[0:-1:2], 1e-15)  # every row: one edge
    np.testing.assert_array_equal(X[2], X[1])  # row 1 starts at row 0's values ...
    np.testing.assert_array_equal(X[3], ds.X[1])  # ... and reaches its own after t_edge
    assert vt[7] == 1.0 and vt[8] == 1.0 and vt[9] == 0.0  # epoch 2 (hold) edge


@pytest.mark.ngspice
def test_parasitic_2_8_1_netlist_runs_in_ngspice_as_written(tmp_path):
    out = tmp_path / "net.cir"
    assert main(["netlist", "--multiplier", "parasitic", "--epochs", "3", "-o", str(out)]) == 0
    proc = subprocess.run(["ngspice", "-b", "-r", "out.raw", "net.cir"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0
    check_messages(proc.stdout + proc.stderr, out.read_text())
    plot = read_raw(tmp_path / "out.raw")[-1]
    assert plot.sweep[-1] == pytest.approx(3 * 4 * 1e-13)
    W0 = aann.random_weights((2, 8, 1), 0)
    # the first time point ngspice writes with uic is 1e-17 s, the capacitor's IC= then
    assert plot.sweep[0] <= 1e-16
    assert plot["v(vw_l3_n1_i5)"][0] == pytest.approx(W0[1][0, 5], abs=1e-4)
    assert "tanh" in out.read_text()


@pytest.mark.ngspice
def test_cli_train_with_ngspice_writes_the_results(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--topology", "1-2-1", "--dataset", "two-row", "--epochs", "2",
                 "--seeds", "2", "--engine", "ngspice", "--waveforms", "--out", str(out)]) == 0
    for name in ("mse.csv", "weights.json", "summary.json", "waveforms.csv"):
        assert (out / name).exists()
    assert len((out / "mse.csv").read_text().splitlines()) == 1 + 2 * 2


def test_missing_ngspice_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("AANN_NGSPICE", raising=False)
    with pytest.raises(aann.SimulationError, match="apt-get install ngspice"):
        find_ngspice()
    code = main(["train", "--topology", "1-2-1", "--dataset", "two-row", "--epochs", "1",
                 "--seeds", "1", "--engine", "ngspice", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "apt-get install ngspice" in capsys.readouterr().err
    assert "apt-get install ngspice" in INSTALL_HINT


@pytest.mark.ngspice
def test_broken_netlist_names_the_line():
    text = "* broken\nV1 a 0 DC 1\nB1 o 0 V=tanh(v(a)*2\nR1 o 0 1k\n.tran 1p 10p\n.end\n"
    with pytest.raises(aann.SimulationError, match=r"netlist line 3: B1 o 0 V=tanh\(v\(a\)\*2"):
        run_ngspice(text)


@pytest.mark.ngspice
def test_ignored_initial_conditions_give_singular_matrix_error():
    """Without ``uic`` the operating point sees floating capacitor nodes: ngspice says
    'singular matrix' and still exits 0; the engine fails with the node's line."""
    config = aann.Config(network=aann.Network("1-1"), training=aann.Training(
        dataset="two-row", epochs=1, seeds=1))
    sched = with_edges(aann.RowSchedule.build(aann.load_dataset("two-row"), 1e-13, 1))
    text = network_netlist(aann.build_circuit(config), [np.array([[0.3, -0.2]])], sched,
                           options=SpiceOptions())
    broken = text.replace(" uic\n", "\n")
    with pytest.raises(aann.SimulationError, match="singular matrix.*netlist line"):
        run_ngspice(broken)


@pytest.mark.ngspice
def test_non_increasing_pwl_times_are_reported():
    text = ("* pwl\nV1 a 0 PWL(0 0 2p 1 1p 0.5)\nR1 a 0 1k\n.tran 0.1p 3p\n.end\n")
    with pytest.raises(aann.SimulationError, match="(?i)non-increasing.*netlist line 2"):
        run_ngspice(text)
