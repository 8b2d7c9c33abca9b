"""The native-vs-ngspice benchmark runs (quick mode) and prints its ratios."""

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.ngspice


@pytest.mark.slow
def test_benchmark_quick_runs(capsys):
    """Both of its rows (one network, then the "many"), here each of one network: the
    second row then runs the programs the first compiled (a JAX compile per network
    count and solver is most of this test's time; ngspice runs two networks at once in
    every two-seed test of tests/test_spice_engine.py)."""
    path = Path(__file__).parents[1] / "benchmarks" / "native_vs_ngspice.py"
    spec = importlib.util.spec_from_file_location("native_vs_ngspice", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--quick", "--epochs", "4", "--seeds", "1", "--reltol", "1e-6"]) == 0
    out = capsys.readouterr().out
    assert "ngspice/native" in out and "mV" in out
    assert out.count("seed(s)") == 2
