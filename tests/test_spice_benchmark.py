"""The native-vs-ngspice benchmark runs (quick mode) and prints its ratios."""

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.ngspice


@pytest.mark.slow
def test_benchmark_quick_runs(capsys):
    path = Path(__file__).parents[1] / "benchmarks" / "native_vs_ngspice.py"
    spec = importlib.util.spec_from_file_location("native_vs_ngspice", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--quick", "--epochs", "4", "--reltol", "1e-6"]) == 0
    out = capsys.readouterr().out
    assert "ngspice/native" in out and "mV" in out
    assert out.count("seed(s)") == 2
