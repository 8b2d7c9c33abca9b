"""What `aann train` writes: mse.csv, weights.json (read back by --init-weights),
waveforms.csv/png; and the divergence flag."""

import csv
import json

import numpy as np
import pytest

import aann
from aann.cli import main

RUN = ["train", "--epochs", "4", "--seeds", "2"]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.mark.slow
def test_files_and_columns(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*RUN, "--waveforms", "--out", str(out)]) == 0
    rows = read_csv(out / "mse.csv")
    assert rows[0] == ["seed", "epoch", "mse"]
    assert [(int(s), int(e)) for s, e, _ in rows[1:]] == [(s, e) for s in (0, 1)
                                                          for e in (1, 2, 3, 4)]
    wave = read_csv(out / "waveforms.csv")
    assert wave[0] == ["time", "Vin1", "Vin2", "Vtarget1", "Vout1", "Vteach"]
    t = np.array([float(r[0]) for r in wave[1:]])
    assert np.all(np.diff(t) > 0) and t[-1] < 4 * 4 * 1e-13
    for name in ("weights.json", "summary.json", "learning_curves.png", "waveforms.png"):
        assert (out / name).stat().st_size > 0
    assert not (out / "checkpoint.npz").exists()  # removed once the results are complete
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["training"]["epochs"] == 4
    assert len(summary["networks"]) == 2
    assert "networks reached MSE < 0.01" in capsys.readouterr().out


def test_weights_json_round_trip_and_teach_off_keeps_them(tmp_path):
    out = tmp_path / "a"
    assert main([*RUN, "--out", str(out)]) == 0
    saved = json.loads((out / "weights.json").read_text())["networks"]
    assert [n["seed"] for n in saved] == [0, 1]
    # {"networks": [...]}: training with teach = off keeps every weight
    held = tmp_path / "b"
    assert main([*RUN, "--init-weights", str(out / "weights.json"), "--teach", "off",
                 "--out", str(held)]) == 0
    again = json.loads((held / "weights.json").read_text())["networks"]
    assert again == saved
    # {"layers": [...]}: one network
    single = tmp_path / "one.json"
    single.write_text(json.dumps({"layers": saved[1]["layers"]}))
    nets = aann.read_weights(single, (2, 8, 1))
    assert len(nets) == 1
    for a, b in zip(nets[0]["layers"], saved[1]["layers"]):
        np.testing.assert_array_equal(a, np.array(b))
    r = aann.train(aann.Config(training=aann.Training(epochs=2, teach="off")),
                   init_weights=single)
    for a, b in zip(r.W_final, saved[1]["layers"]):
        np.testing.assert_array_equal(a[0], np.array(b))


def test_huge_learning_rate_is_flagged_not_returned_as_garbage(capsys):
    # lambda = 1e4: the fixed steps are far too long for the transient
    cfg = aann.Config(training=aann.Training(epochs=2, seeds=2, t_row="1ns"))
    r = aann.train(cfg)
    assert np.all(r.diverged_epoch == 1)
    assert all("step error" in why for why in r.diverged_reason)
    assert all(n["diverged_at_epoch"] == 1 for n in r.summary()["networks"])
    aann.report.print_summary(r)
    assert "DIVERGED" in capsys.readouterr().out


def test_weights_beyond_the_bound_are_flagged():
    cfg = aann.Config(training=aann.Training(epochs=4, seeds=2),
                      constants=aann.Constants(Vw_bound="0.5V"))
    r = aann.train(cfg)
    assert np.all(r.diverged_epoch == 1)
    assert all("Vw_bound" in why for why in r.diverged_reason)


def test_sane_run_is_not_flagged():
    r = aann.train(aann.Config(training=aann.Training(epochs=4, seeds=2)))
    assert np.all(r.diverged_epoch == 0)
    assert r.step_error.shape == (2, 4) and np.all(r.step_error < 1e-5)


def test_recording_the_mse_only_keeps_every_figure_but_the_weights(tmp_path):
    """``training.record = "mse"`` drops the weights after each epoch, nothing else: the
    MSE, final weights, weight extremes, peak currents and flags are those of the full
    record, and a run so recorded resumes from its checkpoint."""
    cfg = aann.Config(training=aann.Training(epochs=40, seeds=2))
    full = aann.train(cfg)
    lean = aann.train(cfg.replace(training={"record": "mse"}))
    assert lean.W_epoch is None and full.W_epoch is not None
    np.testing.assert_array_equal(lean.mse, full.mse)
    for a, b in zip(lean.W_final + lean.peak_current, full.W_final + full.peak_current):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(lean.weight_range, full.weight_range)
    flat = np.concatenate([w.reshape(2, 40, -1) for w in full.W_epoch], axis=2)
    np.testing.assert_array_equal(lean.W_max, flat.max(axis=2))
    assert lean.summary()["networks"] == full.summary()["networks"]
    ck = tmp_path / "c.npz"
    lean_cfg = cfg.replace(training={"record": "mse", "epochs": 40})
    aann.train(lean_cfg, checkpoint=ck)
    resumed = aann.train(lean_cfg, checkpoint=ck, resume=True)
    np.testing.assert_array_equal(resumed.mse, lean.mse)
