"""aann sweep: the sweep file, run ids and grouping, the crash-safe store (SIGKILL and
--resume), local against a Dask cluster, export and report, bad sweep files."""

import csv
import sqlite3
import sys

import pytest
from conftest import sigkill_when, stored_runs

import aann
from aann.cli import main
from aann.sweep import STORE, load_sweep, parse_sweep, plan

ISSUE_EXAMPLE = """
[base.network]          # any key of the train configuration, under base.
sizes = [2, 4, 1]
[base.training]
dataset = "xor"
epochs = 100
seeds = 4
[grid]                  # the full product of these lists
"training.t_row" = ["0.03ps", "0.1ps", "0.3ps"]
"blocks.multiplier.Voff" = ["0mV", "20mV", "50mV"]
"""

# 2-2-1 XOR, a few epochs: two circuit constants swept, so one batch holds several points
SMALL = """
[base.network]
sizes = [2, 2, 1]
[base.training]
dataset = "xor"
epochs = 6
seeds = 3
t_row = "0.3ps"
[grid]
"blocks.multiplier.Km" = [1e-4, 1.2e-4]
"blocks.multiplier.charge.Voff1" = ["0mV", "5mV", "20mV"]
"""

# SMALL with more seeds: many tiny batches with --batch 1 (30 runs: the kill after 8
# leaves 22 to go); their two compiled programs are those of SMALL with --batch 1
MANY = SMALL.replace("seeds = 3", "seeds = 5")


def write(tmp_path, text, name="sweep.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def run_cli(args, capsys):
    rc = main([str(a) for a in args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def export(out, path, capsys):
    rc, _, err = run_cli(["sweep", "export", out, "--csv", path], capsys)
    assert rc == 0, err
    return read_csv(path)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """SMALL, run once in this process with the default batches."""
    tmp = tmp_path_factory.mktemp("small")
    sweep_file = write(tmp, SMALL)
    assert main(["sweep", str(sweep_file), "--out", str(tmp / "out")]) == 0
    return sweep_file, tmp / "out"


# --- the sweep file -----------------------------------------------------------------

def test_issue_example_parses(tmp_path):
    sweep = load_sweep(write(tmp_path, ISSUE_EXAMPLE))
    assert sweep.keys == ("training.t_row", "blocks.multiplier.Voff")
    assert sweep.n_points == 9 and sweep.n_runs == 36
    assert sweep.given[1] == {"training.t_row": "0.03ps", "blocks.multiplier.Voff": "20mV"}
    cfg = sweep.configs[5]  # t_row 0.1ps, Voff 50mV: the last key runs fastest
    assert cfg.training.t_row == pytest.approx(1e-13)
    assert cfg.blocks.multiplier.Voff == pytest.approx(0.05)
    assert cfg.network.sizes == (2, 4, 1) and cfg.training.epochs == 100
    assert cfg.training.record == "mse"
    # run id = point-major, seed-minor
    assert list(sweep.runs())[:5] == [(0, 0, 0), (1, 0, 1), (2, 0, 2), (3, 0, 3), (4, 1, 0)]
    # t_row is a training key: 3 groups; a literal 0 V offset is its own group
    the_plan = plan(sweep)
    assert len(the_plan.groups) == 6
    assert sorted(r for b in the_plan.batches for r in b.runs) == list(sweep.runs())


def test_grid_product_count_and_list_values():
    sweep = parse_sweep({
        "base": {"training": {"seeds": 2, "epochs": 3}},
        "grid": {"network.sizes": [[2, 4, 1], [2, 8, 1]],
                 "training.t_row": ["0.1ps", "0.2ps", "0.3ps"],
                 "mismatch.multiplier.Km": ["1%", "3%"]}})
    assert sweep.n_points == 2 * 3 * 2 and sweep.n_runs == 24
    assert sweep.configs[-1].network.sizes == (2, 8, 1)
    assert sweep.configs[-1].mismatch.sigmas["multiplier.Km"] == (pytest.approx(0.03), True)
    assert sweep.first_run == tuple(range(0, 24, 2))
    # the digest ignores formatting but not the order of the grid (it sets the run ids)
    same = parse_sweep({
        "grid": {"network.sizes": [[2, 4, 1], [2, 8, 1]],
                 "training.t_row": ["0.1ps", "0.2ps", "0.3ps"],
                 "mismatch.multiplier.Km": ["1%", "3%"]},
        "base": {"training": {"epochs": 3, "seeds": 2}}})
    assert same.digest == sweep.digest
    swapped = parse_sweep({"base": {"training": {"seeds": 2, "epochs": 3}},
                           "grid": {"training.t_row": ["0.1ps", "0.2ps", "0.3ps"],
                                    "network.sizes": [[2, 4, 1], [2, 8, 1]],
                                    "mismatch.multiplier.Km": ["1%", "3%"]}})
    assert swapped.digest != sweep.digest


def test_random_points_are_reproducible():
    data = {"base": {"training": {"seeds": 1, "epochs": 2}},
            "grid": {"training.epochs": [2, 3]},
            "random": {"samples": 4, "seed": 7,
                       "training.t_row": {"log_uniform": ["0.01ps", "1ps"]},
                       "blocks.multiplier.Voff": {"uniform": ["0mV", "20mV"]},
                       "network.sizes": {"choice": [[2, 2, 1], [2, 3, 1]]}}}
    a, b = parse_sweep(data), parse_sweep(data)
    assert a.n_points == 8 and a.given == b.given
    t_rows = [g["training.t_row"] for g in a.given[:4]]
    assert all(1e-14 <= t <= 1e-12 for t in t_rows) and len(set(t_rows)) == 4
    assert all(0 <= g["blocks.multiplier.Voff"] <= 0.02 for g in a.given)
    # every grid point takes the same draws
    drawn = [{k: v for k, v in g.items() if k != "training.epochs"} for g in a.given]
    assert drawn[:4] == drawn[4:]
    assert [g["training.epochs"] for g in a.given] == [2] * 4 + [3] * 4


BAD = {
    "unknown key": ('"training.rate" = [1, 2]', "unknown key 'rate' in [training]"),
    "unknown section": ('"optimizer.rate" = [1]', "unknown section [optimizer]"),
    "not section.key": ("epochs = [1, 2]", "grid key \"epochs\" must name one key"),
    "empty list": ('"training.t_row" = []', "\"training.t_row\" is an empty list"),
    "empty grid": ("", "[grid] is empty"),
    "not a list": ('"training.epochs" = 5', "must be a list of values"),
    "wrong unit": ('"training.t_row" = ["0.1ps", "1uA"]', "value 2 ('1uA')"),
    "wrong type": ('"training.epochs" = [2.5]', "training.epochs = 2.5 must be a positive"),
    "bad sizes": ('"network.sizes" = [[2, 4, 1], [2, 0, 1]]', "network.sizes"),
    "unknown mismatch key": ('"mismatch.multiplier.Kx" = ["1%"]', "'multiplier.Kx'"),
    "record": ('"training.record" = ["weights"]', "cannot be swept"),
    "a table": ('"blocks.multiplier.charge" = [{Voff1 = "1mV"}]', "not a table"),
    "twice in a list": ('"training.epochs" = [2, 2]', "twice"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_sweep_files_one_line_exit_2_nothing_created(tmp_path, capsys, case):
    line, expected = BAD[case]
    path = write(tmp_path, f"[base.training]\nepochs = 2\nseeds = 1\n[grid]\n{line}\n")
    rc, out, err = run_cli(["sweep", path, "--out", tmp_path / "out"], capsys)
    assert rc == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert expected in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, expected", [
    ("[bse.training]\nepochs = 1\n", "unknown table [bse]"),
    ("[base.training]\nepochs = 1\n", "nothing is swept"),
    ("[base.training]\nepochs = \"x\"\n[grid]\n\"training.seeds\" = [1]\n", "[base]"),
    ("[base.training]\nt_row = \"10ps\"\n[grid]\n\"training.t_row\" = [\"1ps\"]\n"
     "\"training.t_edge\" = [\"2ps\"]\n",
     "point training.t_row = '1ps', training.t_edge = '2ps'"),
    ("[random]\nsamples = 2\n\"training.t_row\" = {normal = [1, 2]}\n", "must be one of"),
    ("[random]\nsamples = 0\n\"training.t_row\" = {uniform = [\"1ps\", \"2ps\"]}\n",
     "random.samples"),
    ("[random]\nsamples = 2\n\"training.dataset\" = {uniform = [\"xor\", \"x\"]}\n",
     "is not a number"),
    ("[grid\n", "malformed TOML"),
])
def test_bad_sweep_tables(tmp_path, capsys, text, expected):
    rc, out, err = run_cli(["sweep", write(tmp_path, text), "--out", tmp_path / "o"], capsys)
    assert rc == 2 and err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "o").exists()


def test_bad_flags(tmp_path, capsys, finished):
    sweep_file, out = finished
    for args, expected in [
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["--workers", "0"], "--workers 0"),
        (["--batch", "0"], "batch size 0"),
        (["--csv", tmp_path / "x.csv"], "--csv belongs to aann sweep export"),
    ]:
        rc, _, err = run_cli(["sweep", sweep_file, "--out", tmp_path / "o", *args], capsys)
        assert rc == 2 and expected in err and err.count("\n") == 1, err
        assert not (tmp_path / "o").exists()
    rc, _, err = run_cli(["sweep", "export", tmp_path / "nothing", "--csv", tmp_path / "x"],
                         capsys)
    assert rc == 2 and "holds no sweep" in err
    # another sweep in a used folder: refused, naming what differs
    other = write(tmp_path, SMALL.replace("epochs = 6", "epochs = 7"))
    rc, _, err = run_cli(["sweep", other, "--out", out, "--resume"], capsys)
    assert rc == 2 and "holds another sweep" in err and "base.training.epochs" in err, err


# --- running, the store, export and report -----------------------------------------------

def test_export_columns_sorted_and_rerun_does_nothing(tmp_path, capsys, finished):
    sweep_file, out = finished
    rows = export(out, tmp_path / "runs.csv", capsys)
    assert rows[0] == ["run", "blocks.multiplier.Km", "blocks.multiplier.charge.Voff1", "seed",
                       "final_mse", "learned"]
    body = rows[1:]
    assert [int(r[0]) for r in body] == list(range(18))
    assert body[0][1:4] == ["0.0001", "0mV", "0"] and body[4][1:4] == ["0.0001", "5mV", "1"]
    assert body[17][1:4] == ["0.00012", "20mV", "2"]
    assert all(r[5] in ("0", "1") for r in body)
    assert all(0 <= float(r[4]) < 1 for r in body)
    # the learned flag is final MSE < 0.01 (none of these diverge)
    assert all((float(r[4]) < aann.results.MSE_GOAL) == (r[5] == "1") for r in body)
    rc, stdout, err = run_cli(["sweep", sweep_file, "--out", out], capsys)
    assert rc == 0 and "nothing left to run: all 18 runs" in stdout, (stdout, err)
    with sqlite3.connect(out / STORE) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.execute("SELECT count(*) FROM runs").fetchone()[0] == 18


def test_a_run_is_the_same_in_any_batch(tmp_path, capsys, finished):
    """Batches of one network against the default grouping (several points a batch)."""
    sweep_file, out = finished
    the_plan = plan(load_sweep(sweep_file))
    assert any(len({p for _, p, _ in b.runs}) > 1 for b in the_plan.batches)
    rc, _, err = run_cli(["sweep", sweep_file, "--out", tmp_path / "one", "--batch", "1"],
                         capsys)
    assert rc == 0, err
    a = export(out, tmp_path / "a.csv", capsys)
    b = export(tmp_path / "one", tmp_path / "b.csv", capsys)
    assert [r[:4] + r[5:] for r in a] == [r[:4] + r[5:] for r in b]
    for ra, rb in zip(a[1:], b[1:]):
        assert float(ra[4]) == pytest.approx(float(rb[4]), rel=1e-12, abs=0)


def test_mismatch_sample_is_the_seed(tmp_path):
    """With [mismatch], run (point, seed) is Monte Carlo sample `seed`, as aann.train has
    it for network k = sample k."""
    sweep = parse_sweep({
        "base": {"network": {"sizes": [2, 2, 1]},
                 "training": {"epochs": 5, "seeds": 3, "t_row": "0.3ps"}},
        "grid": {"mismatch.multiplier.Km": ["5%"]}})
    outcome = aann.sweep.run_sweep(sweep, tmp_path / "o", echo=lambda *a: None)
    assert outcome.done == 3
    store = aann.sweep.Store.existing(tmp_path / "o")
    stored = [r["final_mse"] for r in store.runs()]
    store.close()
    direct = aann.train(sweep.configs[0])
    assert stored == pytest.approx(list(direct.mse[:, -1]), rel=1e-12, abs=0)


def test_report_writes_markdown_with_figures(finished, capsys):
    _, out = finished
    rc, stdout, err = run_cli(["sweep", "report", out], capsys)
    assert rc == 0, err
    text = (out / "report.md").read_text()
    assert "## `blocks.multiplier.Km`" in text and "yield" in text
    assert "## `blocks.multiplier.Km` and `blocks.multiplier.charge.Voff1`" in text
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert len(figures) == 3 and all(f.endswith(".png") for f in figures)
    for f in figures:
        assert f"(figures/{f})" in text
        assert (out / "figures" / f).read_bytes()[:4] == b"\x89PNG"
    rc, _, err = run_cli(["sweep", "report", out, "--by", "training.epochs"], capsys)
    assert rc == 2 and "not a swept key" in err


def test_sigkill_then_resume_equals_an_uninterrupted_sweep(tmp_path, capsys):
    """The uninterrupted sweep runs first: the process killed then loads its compiled
    programs from the run's compile cache (tests/conftest.py) instead of compiling them
    (in this process they are those of test_a_run_is_the_same_in_any_batch)."""
    sweep_file = write(tmp_path, MANY)
    out = tmp_path / "killed"
    total = 30
    rc, _, err = run_cli(["sweep", sweep_file, "--out", tmp_path / "whole", "--batch", "1"],
                         capsys)
    assert rc == 0, err
    cmd = [sys.executable, "-m", "aann.cli", "sweep", str(sweep_file), "--out", str(out),
           "--batch", "1"]
    sigkill_when(cmd, tmp_path / "stderr.txt", lambda: stored_runs(out / STORE) >= 8)
    kept = stored_runs(out / STORE)
    assert 8 <= kept < total
    with sqlite3.connect(out / STORE) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # without --resume an unfinished sweep is refused, naming the flag
    rc, _, err = run_cli(["sweep", sweep_file, "--out", out], capsys)
    assert rc == 2 and "--resume" in err and f"{kept} of {total}" in err, err
    rc, stdout, err = run_cli(["sweep", sweep_file, "--out", out, "--batch", "1", "--resume"],
                              capsys)
    assert rc == 0, err
    assert f"resuming: {kept} of {total} runs are done" in stdout
    resumed = export(out, tmp_path / "resumed.csv", capsys)
    whole = export(tmp_path / "whole", tmp_path / "whole.csv", capsys)
    assert len(whole) == total + 1
    assert resumed == whole
    rc, stdout, _ = run_cli(["sweep", sweep_file, "--out", out, "--resume"], capsys)
    assert rc == 0 and "nothing left to run" in stdout


@pytest.mark.slow
def test_local_equals_dask_cluster_of_two_workers(tmp_path, capsys, finished):
    """SMALL's default batches (one per group, each its own compiled program) on a local
    Dask cluster of two workers give the store of the run in this process (`finished`)."""
    pytest.importorskip("distributed")
    sweep_file, out = finished
    rc, stdout, err = run_cli(["sweep", sweep_file, "--out", tmp_path / "dask", "--workers",
                               "2"], capsys)
    assert rc == 0, err
    assert "local Dask cluster of 2 worker(s); dashboard: http" in stdout
    local = export(out, tmp_path / "local.csv", capsys)
    dask = export(tmp_path / "dask", tmp_path / "dask.csv", capsys)
    assert len(plan(load_sweep(sweep_file)).batches) == 2
    assert len(local) == 19 and local == dask
