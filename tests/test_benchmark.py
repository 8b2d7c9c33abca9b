"""The benchmark script runs (a smoke run; the full one is `make bench`)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "native_vs_scipy.py"


@pytest.mark.slow
def test_native_vs_scipy_quick():
    p = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "ratio warm" in p.stdout and "max |dVw|" in p.stdout
    diff = float(p.stdout.splitlines()[-2].split()[-1])
    assert diff < 1e-4  # the two implementations solve the same circuit
