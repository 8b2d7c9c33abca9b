"""aann.load_sweep_results: a sweep's store read back labelled by its swept keys (repr,
HTML, pandas, xarray and its grid over the keys), equal to `aann sweep export`, also
while the store is being written; bad folders; the SI values of the keys; the export of
the tree before the store kept the metrics by name; a registered metric in the store,
the export and the views."""

import math
import shutil
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest
from test_sweep import export, write

import aann
from aann.cli import main
from aann.sweep import STORE, Store, SweepResults, load_sweep
from aann.sweep.results import key_values

DATA = Path(__file__).parent / "data" / "sweep"

# 2-2-1 XOR, a few epochs: a number swept (Km), a quantity with units (Voff) and a law name
# (two compile groups), 2 seeds: 8 points, 16 runs
TINY = """
[base.network]
sizes = [2, 2, 1]
[base.training]
dataset = "xor"
epochs = 6
seeds = 2
t_row = "0.3ps"
[grid]
"blocks.multiplier.Km" = [1.2e-4, 1e-4]
"blocks.multiplier.Voff" = ["5mV", "20mV"]
"blocks.activation.law" = ["sigmoid", "sigmoid_offset"]
"""
KEYS = ["blocks.multiplier.Km", "blocks.multiplier.Voff", "blocks.activation.law"]
SI = {KEYS[0]: [1.2e-4, 1e-4], KEYS[1]: [0.005, 0.02], KEYS[2]: ["sigmoid", "sigmoid_offset"]}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny")
    assert main(["sweep", str(write(tmp, TINY)), "--out", str(tmp / "out")]) == 0
    return tmp / "out"


def test_dataframe_equals_the_export(swept, tmp_path, capsys):
    res = aann.load_sweep_results(swept)
    assert isinstance(res, SweepResults) and res.keys == tuple(KEYS)
    assert (res.n_done, res.n_runs, res.n_points) == (16, 16, 8)
    df = res.to_dataframe()
    assert list(df.columns) == ["run", "point", *KEYS, "seed", "final_mse", "learned",
                                "diverged_epoch", "diverged_because", "first_epoch_below",
                                "batch", "seconds"]
    rows = export(swept, tmp_path / "runs.csv", capsys)
    assert rows[0] == ["run", *KEYS, "seed", "final_mse", "learned"]
    assert len(rows) - 1 == len(df) == 16
    for row, (_, r) in zip(rows[1:], df.iterrows()):
        assert int(row[0]) == r["run"] and int(row[4]) == r["seed"]
        assert float(row[5]) == r["final_mse"]  # exact: the export writes repr(float)
        assert bool(int(row[6])) == r["learned"]
        assert float(row[1]) == r[KEYS[0]] and row[3] == r[KEYS[2]]
        assert aann.parse_quantity(row[2], "Voff", "V") == r[KEYS[1]]
    # the keys as SI values: numbers float, the law's name text; equal to the store's
    assert df[KEYS[0]].dtype == np.float64 and df[KEYS[1]].dtype == np.float64
    assert all(isinstance(v, str) for v in df[KEYS[2]])
    store = Store.existing(swept)
    try:
        stored = store.runs()
    finally:
        store.close()
    for k in KEYS:
        assert list(df[k]) == [r["si"][k] for r in stored]
        assert sorted(set(df[k])) == sorted(SI[k])
    assert (df["run"] == df["point"] * 2 + df["seed"]).all()
    assert df["diverged_epoch"].isna().all() and (df["seconds"] > 0).all()
    assert df.attrs["keys"] == KEYS and df.attrs["runs"] == 16


def test_xarray_by_run_and_as_a_grid(swept):
    res = aann.load_sweep_results(swept)
    df = res.to_dataframe()
    ds = res.to_xarray()
    assert dict(ds.sizes) == {"run": 16}
    assert list(ds["run"].values) == list(df["run"])
    np.testing.assert_array_equal(ds.final_mse.values, df["final_mse"].to_numpy())
    assert ds.final_mse.attrs["units"] == "V^2" and ds.seconds.attrs["units"] == "s"
    for name in ("point", "seed", *KEYS):
        assert list(ds[name].values) == list(df[name]), name
        assert ds[name].dims == ("run",)
    assert ds.learned.dtype == bool and not ds.diverged_epoch.notnull().any()

    grid = res.to_xarray(grid=True)
    assert grid.final_mse.dims == (*KEYS, "seed")
    assert grid.final_mse.shape == (2, 2, 2, 2)
    for k in KEYS:
        assert list(grid[k].values) == sorted(SI[k])  # each key a dim, its values sorted
    assert grid.done.all() and grid.learned.dtype == bool
    # every cell holds the run with those values: as run-dim set_index/unstack gives
    for _, r in df.iterrows():
        cell = grid.sel({**{k: r[k] for k in KEYS}, "seed": r["seed"]})
        assert int(cell.run) == r["run"] and int(cell.point) == r["point"]
        assert float(cell.final_mse) == r["final_mse"]
    by_hand = ds.set_index(run=[*KEYS, "seed"]).unstack("run")
    np.testing.assert_array_equal(by_hand.final_mse.values, grid.final_mse.values)
    median = grid.final_mse.median("seed")
    assert median.dims == tuple(KEYS)


def test_repr_and_html(swept):
    res = aann.load_sweep_results(swept)
    text = repr(res)
    assert len(text.splitlines()) <= 10
    assert "runs: 16 of 16 done (8 points x 2 seed(s))" in text
    assert "learned (final MSE < 0.01 V^2): " in text
    assert all(f"{k} (2)" in text for k in KEYS)
    page = res._repr_html_()
    assert page.count("<tr>") == 1 + 8 and "sigmoid_offset" in page and "5mV" in page
    assert "2 of 2" in page


def test_a_partial_store_while_it_is_written(swept, tmp_path):
    """Runs missing from the store, and a writer holding an open transaction: the view
    reads what is committed, without waiting, and its grid marks the missing runs."""
    part = tmp_path / "part"
    shutil.copytree(swept, part)
    conn = sqlite3.connect(part / STORE, isolation_level=None)
    conn.execute("DELETE FROM runs WHERE run IN (3, 10)")
    conn.execute("BEGIN IMMEDIATE")  # a writer in the middle of a batch
    conn.execute("DELETE FROM runs WHERE run < 8")
    try:
        res = aann.load_sweep_results(part)
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert (res.n_done, res.n_runs) == (14, 16)
    assert "runs: 14 of 16 done" in repr(res)
    df = res.to_dataframe()
    assert 3 not in set(df["run"]) and len(df) == 14
    grid = res.to_xarray(grid=True)
    assert grid.final_mse.shape == (2, 2, 2, 2) and int(grid.done.sum()) == 14
    assert sorted(grid.run.values[~grid.done.values]) == [3, 10]
    assert np.isnan(grid.final_mse.values[~grid.done.values]).all()
    assert not grid.learned.values[~grid.done.values].any()
    assert float(grid.learned.where(grid.done).count()) == 14
    assert "2 of 2" in res._repr_html_() and "1 of 2" in res._repr_html_()


def test_bad_folders_are_the_stores_error(tmp_path):
    with pytest.raises(aann.ValidationError, match="holds no sweep"):
        aann.load_sweep_results(tmp_path)
    (tmp_path / STORE).write_bytes(b"not a database at all, certainly not SQLite" * 50)
    with pytest.raises(aann.ValidationError, match="not a sweep store"):
        SweepResults.load(tmp_path)


def test_key_values_in_si_units():
    np.testing.assert_array_equal(key_values("constants.C", [1e-12, 2, None]),
                                  [1e-12, 2.0, math.nan])
    assert key_values("constants.C", [1e-12]).dtype == np.float64
    assert list(key_values("mismatch.multiplier.Km", ["1%", "3%"])) == [0.01, 0.03]
    assert list(key_values("network.sizes", [[2, 4, 1], [2, 8, 1]])) == ["2-4-1", "2-8-1"]
    assert list(key_values("solver.steps", ["auto", 8])) == ["auto", "8"]
    assert key_values("solver.flag", [True, False]).dtype == bool


def _fake(points_si: list, seeds: int = 1) -> SweepResults:
    keys = list(points_si[0])
    meta = {"keys": '["' + '", "'.join(keys) + '"]', "runs": str(seeds * len(points_si)),
            "points": str(len(points_si)), "digest": "0" * 64, "source": "test"}
    points = [{"point": p, "given": si, "si": si, "seeds": seeds, "first_run": p * seeds}
              for p, si in enumerate(points_si)]
    return SweepResults("nowhere", meta, points, [])


def test_grid_refused_for_a_random_sample():
    rng = np.random.default_rng(0)
    sample = [{"a.x": float(rng.random()), "a.y": float(rng.random()),
               "a.z": float(rng.random())} for _ in range(5)]
    res = _fake(sample)
    assert res.to_xarray().sizes["run"] == 0  # nothing stored yet
    with pytest.raises(aann.ValidationError, match="not a grid"):
        res.to_xarray(grid=True)
    with pytest.raises(aann.ValidationError, match="same values"):
        _fake([{"a.x": "sigmoid"}, {"a.x": "sigmoid"}]).to_xarray(grid=True)
    assert "runs: 0 of 5 done" in repr(res)


def test_without_pandas_says_how_to_install(swept, monkeypatch):
    res = aann.load_sweep_results(swept)
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(aann.ValidationError, match=r"aann\[notebook\]"):
        res.to_dataframe()
    with pytest.raises(aann.ValidationError, match=r"aann\[notebook\]"):
        res.to_xarray()


# --- the tree before the metrics were kept by name ---------------------------------------

@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """tests/data/sweep/sweep.toml run with only `mse` registered."""
    tmp = tmp_path_factory.mktemp("reference")
    assert main(["sweep", str(DATA / "sweep.toml"), "--out", str(tmp / "out")]) == 0
    return tmp / "out"


def test_export_equals_the_tree_before_metrics_by_name(reference_run, tmp_path, capsys):
    """tests/data/sweep (its README): the same sweep file exports the same CSV byte for
    byte, and keeps its digest while mse is the only metric."""
    path = tmp_path / "export.csv"
    export(reference_run, path, capsys)
    assert path.read_text() == (DATA / "export.csv").read_text()
    assert load_sweep(DATA / "sweep.toml").digest == (DATA / "digest.txt").read_text().strip()
    res = aann.load_sweep_results(reference_run)
    assert res.metrics == ("mse",) and res.n_learned == 4  # as the reference has it
    with sqlite3.connect(reference_run / STORE) as c:
        finals = c.execute("SELECT run, metric, value FROM finals ORDER BY run").fetchall()
    assert [(r, m) for r, m, _ in finals] == [(r, "mse") for r in range(8)]
    assert [v for _, _, v in finals] == res.final("mse").tolist()


def test_a_registered_metric_reaches_the_store_export_and_views(reference_run, tmp_path,
                                                                 capsys, max_abs_weight):
    """The same sweep with one more metric registered: the export gains its column (the
    others equal the reference's), the views carry it, the digest differs (a store of
    other metrics is another sweep)."""
    sweep = load_sweep(DATA / "sweep.toml")
    assert sweep.metrics == ("mse", "max_abs_weight")
    assert sweep.digest != (DATA / "digest.txt").read_text().strip()
    rc, _, err = (main(["sweep", str(DATA / "sweep.toml"), "--out", str(reference_run),
                        "--resume"]), *capsys.readouterr())
    assert rc == 2 and "holds another sweep" in err and "metrics" in err, err
    out = tmp_path / "out"
    assert main(["sweep", str(DATA / "sweep.toml"), "--out", str(out)]) == 0
    rows = export(out, tmp_path / "runs.csv", capsys)
    then = read_rows(DATA / "export.csv")
    assert rows[0] == [*then[0][:5], "final_max_abs_weight", "learned"]
    assert [r[:5] + r[6:] for r in rows[1:]] == then[1:]  # every other column as before
    largest = [float(r[5]) for r in rows[1:]]
    assert min(largest) > 0.1
    res = aann.load_sweep_results(out)
    assert res.metrics == ("mse", "max_abs_weight")
    assert res.final("max_abs_weight").tolist() == largest
    df = res.to_dataframe()
    assert list(df.columns)[5:8] == ["final_mse", "final_max_abs_weight", "learned"]
    assert df["final_max_abs_weight"].tolist() == largest
    ds = res.to_xarray(grid=True)
    assert ds.final_max_abs_weight.attrs["units"] == "V"
    assert sorted(ds.final_max_abs_weight.values.ravel().tolist()) == sorted(largest)


def read_rows(path):
    import csv

    with open(path, newline="") as f:
        return list(csv.reader(f))
