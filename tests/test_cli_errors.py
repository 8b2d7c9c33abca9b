"""Errors a user can cause: one line naming the problem, exit code 2, no traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aann.cli import main

QUICK = ["--epochs", "1", "--seeds", "1"]


def toml(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return str(path)


CASES = {
    "unknown dataset": (lambda p: ["--dataset", "mnist"], "unknown data set"),
    "input size": (lambda p: ["--topology", "3-8-1"], "does not match"),
    "output size": (lambda p: ["--topology", "2-8-2"], "does not match"),
    "zero t_row": (lambda p: ["--t-row", "0ps"], "t_row must be positive"),
    "negative t_row": (lambda p: ["--t-row", "-1ps"], "t_row must be positive"),
    "zero epochs": (lambda p: [*QUICK, "--epochs", "0"], "epochs"),
    "negative epochs": (lambda p: [*QUICK, "--epochs", "-5"], "epochs"),
    "zero C": (lambda p: [toml(p, '[constants]\nC = "0pF"\n')], "C must be positive"),
    "negative C": (lambda p: [toml(p, "[constants]\nC = -1e-13\n")], "C must be positive"),
    "malformed TOML": (lambda p: [toml(p, "[network]\nsizes = [2, 8\n")], "malformed TOML"),
    "unknown key": (lambda p: [toml(p, "[training]\nrate = 1\n")], "unknown key 'rate'"),
    "unknown section": (lambda p: [toml(p, "[optimizer]\nx = 1\n")], "unknown section"),
    "non-numeric value": (lambda p: [toml(p, '[constants]\nImax = "lots"\n')], "not a number"),
    "non-numeric flag": (lambda p: ["--t-row", "fast"], "not a number"),
    "non-integer epochs flag": (lambda p: ["--epochs", "many"], "--epochs"),
    "unknown unit": (lambda p: ["--t-row", "0.1pQ"], "unknown unit"),
    "wrong unit": (lambda p: ["--t-row", "0.1pF"], "is in F"),
    "NaN flag": (lambda p: ["--t-row", "nan"], "t_row"),
    "NaN in TOML": (lambda p: [toml(p, "[training]\nt_row = nan\n")], "not a finite number"),
    "missing config": (lambda p: [str(p / "none.toml")], "cannot read config"),
    "unknown teach": (lambda p: ["--teach", "sometimes"], "teach"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_line_and_exit_code_2(case, tmp_path, capsys):
    args, expected = CASES[case]
    rc = main(["train", *QUICK, *args(tmp_path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err
    assert "Traceback" not in err


def test_init_weights_of_wrong_shape(tmp_path, capsys):
    bad = tmp_path / "w.json"
    bad.write_text(json.dumps({"layers": [[[0.1, 0.2, 0.3]] * 8, [[0.0] * 5]]}))
    rc = main(["train", *QUICK, "--init-weights", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "do not fit topology 2-8-1" in err


def test_nan_in_init_weights(tmp_path, capsys):
    bad = tmp_path / "w.json"
    W1 = [[0.1, 0.2, 0.3]] * 8
    bad.write_text(f'{{"layers": [{json.dumps(W1)}, [[NaN, 0, 0, 0, 0, 0, 0, 0, 0]]]}}')
    rc = main(["train", *QUICK, "--init-weights", str(bad), "--out", str(tmp_path / "o")])
    assert rc == 2 and "NaN" in capsys.readouterr().err


def test_nan_in_dataset(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("x1,x2,y1\n0,0,0\n1,nan,1\n")
    rc = main(["train", *QUICK, "--dataset", str(data), "--out", str(tmp_path / "o")])
    assert rc == 2 and "NaN" in capsys.readouterr().err


def test_unwritable_output_directory(tmp_path, capsys):
    afile = tmp_path / "file"
    afile.write_text("")
    rc = main(["train", *QUICK, "--out", str(afile / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "cannot write to output directory" in err


def test_real_process_prints_one_line_and_exits_2(tmp_path):
    aann = Path(sys.executable).parent / "aann"
    cmd = [str(aann)] if aann.exists() else [sys.executable, "-m", "aann.cli"]
    for args, expected in ((["--dataset", "mnist"], "unknown data set"),
                           (["--epochs", "x"], "--epochs")):
        p = subprocess.run([*cmd, "train", *args, "--out", str(tmp_path / "o")],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 2, p.stderr
        assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1, p.stderr
        assert expected in p.stderr and "Traceback" not in p.stderr


def test_ctrl_c_in_a_reproduction_says_so_and_exits_130(tmp_path, capsys, monkeypatch):
    """Ctrl-C in a command without its own handler (typer makes it a bare exit 130) still
    tells the user what was kept, and exits 130 without a traceback."""
    from aann.experiments import fig8

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fig8, "run", interrupted)
    rc = main(["reproduce", "fig8", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 130
    assert err == "interrupted; files already written are complete\n"


def test_ctrl_c_outside_a_commands_own_handler_exits_130_without_a_traceback(monkeypatch,
                                                                             capsys):
    """A KeyboardInterrupt no command caught (aann's commands print INTERRUPTED
    themselves): typer turns it into exit 130, which main() returns as it is."""
    import typer

    from aann import cli

    bare = typer.Typer()

    @bare.command()
    def hang():  # not wrapped as aann's commands are
        raise KeyboardInterrupt

    @bare.command()
    def other():
        pass

    monkeypatch.setattr(cli, "app", bare)
    assert cli.main(["hang"]) == 130
    assert "Traceback" not in capsys.readouterr().err
