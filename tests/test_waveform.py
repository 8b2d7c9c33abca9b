"""Arbitrary PWL sources (the near-sensor case): the API and `aann train --stimulus`."""

import csv

import numpy as np
import pytest

import aann
from aann.cli import main
from aann.datasets import Dataset


def test_vteach_zero_holds_every_weight():
    t = np.linspace(0, 2e-12, 9)
    wf = aann.Waveform(time=t, Vin=np.stack([np.sin(t * 3e12), np.cos(t * 2e12)], 1),
                       Vtarget=np.full((9, 1), 0.7), Vteach=np.zeros(9))
    r = aann.simulate(aann.Config(training=aann.Training(seeds=2)), wf)
    assert r.mse.shape == (2, 0)
    for a, b in zip(r.W_init, r.W_final):
        assert np.array_equal(a, b)
    assert r.waveforms["Vout"].shape == (2, 8 * 8, 1)


@pytest.mark.slow
def test_constant_sources_held_long_equal_row_training_on_one_row():
    n, t_row = 30, 1e-13
    x, y = np.array([1.0, 0.0]), np.array([1.0])
    cfg = aann.Config(training=aann.Training(seeds=2, t_row=t_row, epochs=n))
    rows = aann.train(cfg, dataset=Dataset("one-row", x[None], y[None]))
    wf = aann.Waveform(time=np.linspace(0, n * t_row, n + 1), Vin=np.tile(x, (n + 1, 1)),
                       Vtarget=np.tile(y, (n + 1, 1)), Vteach=np.ones(n + 1))
    held = aann.simulate(cfg, wf)
    for a, b in zip(rows.W_final, held.W_final):
        np.testing.assert_allclose(a, b, atol=1e-9)
    assert np.all(rows.mse[:, -1] < rows.mse[:, 0] / 5)  # and it learned the row


def test_cli_stimulus_writes_waveforms_and_an_empty_mse(tmp_path):
    path = tmp_path / "sensor.csv"
    t = np.linspace(0, 1e-12, 11)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", "Vin1", "Vin2", "Vtarget1", "Vteach"])
        for k, tk in enumerate(t):
            w.writerow([tk, k % 2, 1.0, 0.5 + 0.3 * np.sin(k), 1.0])
    out = tmp_path / "out"
    assert main(["train", "--stimulus", str(path), "--seeds", "1", "--out", str(out)]) == 0
    with open(out / "waveforms.csv") as f:
        assert next(csv.reader(f)) == ["time", "Vin1", "Vin2", "Vtarget1", "Vout1", "Vteach"]
    assert (out / "mse.csv").read_text().strip() == "seed,epoch,mse"
    assert (out / "waveforms.png").exists()


def test_stimulus_of_wrong_size_is_refused(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("time,Vin1,Vtarget1\n0,0,0\n1e-12,1,1\n")
    assert main(["train", "--stimulus", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "does not match the stimulus" in capsys.readouterr().err
