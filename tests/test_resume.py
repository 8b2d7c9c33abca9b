"""Ctrl-C and --resume: a resumed run equals an uninterrupted one bit for bit."""

import numpy as np
import pytest

import aann
from aann.cli import main
from aann.engines import native

CFG = aann.Config(training=aann.Training(epochs=40, seeds=2, order="shuffle"))


class Stop(Exception):
    pass


@pytest.fixture
def stop_after(monkeypatch):
    """Make the engine raise ``exc`` after ``epochs`` epochs (after the chunk callback)."""
    def arm(epochs, exc=Stop):
        real = native.simulate_rows

        def simulate_rows(*args, on_chunk=None, **kw):
            def cb(done, state, parts):
                on_chunk(done, state, parts)
                if done >= epochs:
                    raise exc()
            return real(*args, on_chunk=cb, **kw)

        monkeypatch.setattr(native, "simulate_rows", simulate_rows)
        return lambda: monkeypatch.setattr(native, "simulate_rows", real)
    return arm


def same(a, b):
    return (np.array_equal(a.mse, b.mse) and np.array_equal(a.step_error, b.step_error)
            and all(np.array_equal(x, y) for x, y in zip(a.W_final, b.W_final))
            and all(np.array_equal(x, y) for x, y in zip(a.W_epoch, b.W_epoch))
            and all(np.array_equal(x, y) for x, y in zip(a.peak_current, b.peak_current)))


def test_resumed_run_equals_uninterrupted_bit_for_bit(tmp_path, stop_after):
    full = aann.train(CFG)
    ck = tmp_path / "checkpoint.npz"
    disarm = stop_after(12)
    with pytest.raises(Stop):
        aann.train(CFG, checkpoint=ck)
    disarm()
    resumed = aann.train(CFG, checkpoint=ck, resume=True)
    assert same(full, resumed)


def test_resume_with_other_settings_is_refused(tmp_path, stop_after):
    ck = tmp_path / "checkpoint.npz"
    disarm = stop_after(2)
    with pytest.raises(Stop):
        aann.train(CFG, checkpoint=ck)
    disarm()
    with pytest.raises(aann.ValidationError, match="t_row was 1e-13, now 2e-13"):
        aann.train(CFG.replace(training={"t_row": 2e-13}), checkpoint=ck, resume=True)


def test_cli_ctrl_c_then_resume(tmp_path, stop_after, capsys):
    out = tmp_path / "run"
    args = ["train", "--epochs", "40", "--seeds", "2", "--out", str(out)]
    disarm = stop_after(20, KeyboardInterrupt)
    assert main(args) == 130
    disarm()
    assert "--resume" in capsys.readouterr().err
    assert (out / "checkpoint.npz").exists() and not (out / "mse.csv").exists()
    assert main([*args, "--epochs", "20", "--resume"]) == 2  # other settings
    assert "epochs was 40, now 20" in capsys.readouterr().err
    assert main([*args, "--resume"]) == 0
    assert not (out / "checkpoint.npz").exists()
    full = tmp_path / "full"
    assert main([*args[:-1], str(full)]) == 0
    assert (out / "mse.csv").read_text() == (full / "mse.csv").read_text()
    assert (out / "weights.json").read_text() == (full / "weights.json").read_text()
