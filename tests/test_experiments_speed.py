"""E4 (Tabs. 1-2): the speed table's files, columns and circuit-time arithmetic."""

import csv
import math

import pytest

from aann import digital
from aann.experiments import speed


@pytest.fixture(scope="module")
def speed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("speed")
    facts = speed.run(out, epochs=3, repeats=2, tests=(1, 2))
    with open(out / "speed.csv") as f:
        rows = list(csv.DictReader(f))
    return out, facts, rows


def test_columns(speed_run):
    out, _, _ = speed_run
    with open(out / "speed.csv") as f:
        header = next(csv.reader(f))
    assert header == ["test", "rows", "hidden_layers", "neurons", "epochs", "framework",
                      "device", "seconds_mean", "seconds_std", "circuit_seconds",
                      "circuit_seconds_at_Imax"]


def test_structures_and_frameworks(speed_run):
    _, _, rows = speed_run
    got = {(r["test"], r["rows"], r["hidden_layers"], r["neurons"]) for r in rows}
    assert got == {("1", "2", "1", "3"), ("2", "10", "2", "5")}
    frameworks = {r["framework"] for r in rows}
    assert {"jax", "aann-native"} <= frameworks
    assert ("pytorch" in frameworks) == digital.torch_available()
    for r in rows:
        if r["framework"] != "aann-native":
            assert float(r["seconds_mean"]) > 0 and math.isfinite(float(r["seconds_std"]))


def test_circuit_times(speed_run):
    _, _, rows = speed_run
    for r in rows:
        circuit = float(r["circuit_seconds"])
        assert circuit == pytest.approx(int(r["epochs"]) * int(r["rows"]) * 1e-12)
        assert float(r["circuit_seconds_at_Imax"]) >= circuit


def test_tab2_structures_match_the_paper():
    got = [(s.rows, s.hidden_layers, s.neurons) for s in speed.STRUCTURES]
    assert got == [(2, 1, 3), (10, 2, 5), (100, 3, 16), (500, 4, 21)]
    ds = speed.circle_dataset(100)
    assert ds.X.shape == (100, 2) and set(ds.Y.ravel()) == {0.2, 0.8}
    assert (speed.circle_dataset(100).X == ds.X).all()  # deterministic


def test_report_notes_missing_gpu(speed_run):
    out, facts, _ = speed_run
    text = (out / "report_speed.md").read_text()
    if not (digital.torch_gpu_available() or digital.jax_gpu_available()):
        assert "No GPU is present" in text
    assert "quoted from the paper" in text


def test_the_figure_is_written_and_shown_in_the_report(speed_run):
    out, facts, _ = speed_run
    assert facts["figure"] == "speed.png"
    assert (out / "speed.png").stat().st_size > 0 and (out / "speed.svg").stat().st_size > 0
    assert "](speed.png)" in (out / "report_speed.md").read_text()
