"""The examples in examples/ (jupytext percent scripts) run as scripts, each in its own
process, with AANN_EXAMPLES_FAST=1; all of them together in under two minutes."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))
NEEDS_NGSPICE = {"02_engines.py"}
TOTAL_LIMIT = 120.0
_seconds: dict[str, float] = {}


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
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    _seconds[script.name] = time.perf_counter() - start
    assert done.returncode == 0, (
        f"{script.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
    assert "Traceback" not in done.stderr


def test_examples_total_time():
    """Runs after the examples (same module, later in the file): their wall time summed."""
    if not _seconds:
        pytest.skip("no example ran in this session")
    total = sum(_seconds.values())
    detail = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(_seconds.items()))
    print(f"examples: {total:.1f} s in total ({detail})")
    assert total < TOTAL_LIMIT, f"the examples took {total:.1f} s (> {TOTAL_LIMIT} s): {detail}"
