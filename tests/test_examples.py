"""The examples in examples/ (jupytext percent scripts) run as scripts, each in its own
process, with AANN_EXAMPLES_FAST=1. Their time is not asserted (a timed test fails on a
loaded machine, not on slow code): --durations lists each example's seconds."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))
NEEDS_NGSPICE = {"02_engines.py"}


def test_the_six_examples_are_there():
    assert [p.name for p in SCRIPTS] == [
        "01_train_xor.py", "02_engines.py", "03_reproduce_figure.py",
        "04_offsets_mismatch.py", "05_montecarlo_yield.py", "06_sweep.py"]


def _params():
    return [pytest.param(p, id=p.stem,
                         marks=[pytest.mark.slow]
                         + ([pytest.mark.ngspice] if p.name in NEEDS_NGSPICE else []))
            for p in SCRIPTS]


@pytest.mark.parametrize("script", _params())
def test_example_runs(script, tmp_path):
    env = dict(os.environ, AANN_EXAMPLES_FAST="1", MPLBACKEND="Agg", TMPDIR=str(tmp_path))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"{script.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
    assert "Traceback" not in done.stderr

