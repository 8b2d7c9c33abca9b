"""aann.montecarlo and `aann montecarlo`: samples, batches, yield, resume (a sweep over
samples in the sweep's store), the files of the tree before the one store, SIGKILL and
--resume, a registered metric in its files."""

import csv
import importlib
import json
import math
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import sigkill_when, stored_runs

import aann
from aann.cli import main
from aann.io import weights_to_json
from aann.sweep import STORE, runner

mc_module = importlib.import_module("aann.montecarlo")  # aann.montecarlo is the function
DATA = Path(__file__).parent / "data" / "montecarlo"

SIZES = (2, 3, 1)
MISMATCH = {"seed": 5, "multiplier.Km": "3%", "multiplier.charge.Voff1": "2mV",
            "activation.Iref": "2%", "derivative.Kd": "2%", "C": "1%"}
CFG = aann.Config(network={"sizes": list(SIZES)}, mismatch=MISMATCH,
                  training={"epochs": 20, "t_row": "0.3ps"})
TOML = """[network]
sizes = [2, 3, 1]
[mismatch]
seed = 5
"multiplier.Km" = "3%"
"multiplier.charge.Voff1" = "2mV"
"activation.Iref" = "2%"
"derivative.Kd" = "2%"
"C" = "1%"
[training]
epochs = 20
t_row = "0.3ps"
"""


@pytest.fixture(scope="module")
def reference():
    """10 samples in batches of 3 (3, 3, 3, 1), without files."""
    return aann.montecarlo(CFG, 10, batch=3)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_files_columns_and_rows(tmp_path, reference):
    mc = aann.montecarlo(CFG, 10, batch=3, out=tmp_path)
    rows = read_csv(tmp_path / "montecarlo.csv")
    assert rows[0] == ["sample", "seed", "final_mse", "learned", "diverged"]
    assert len(rows) == 11
    assert [int(r[0]) for r in rows[1:]] == list(range(10))
    assert [int(r[1]) for r in rows[1:]] == list(range(10))  # sample k: seed k
    assert [float(r[2]) for r in rows[1:]] == list(mc.final_mse)  # exact
    assert all(r[3] in ("0", "1") and r[4] in ("0", "1") for r in rows[1:])
    assert mc.to_csv() == reference.to_csv()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["samples"] == 10 and summary["batch"] == 3 and summary["batches"] == 4
    assert summary["learned"] == int(mc.learned.sum())
    assert summary["yield"] == mc.yield_
    assert summary["yield_wilson_95"] == list(mc.wilson())
    assert summary["mismatch_active"] and summary["mismatch"]["C"] == "1%"
    assert summary["settings"]["training"]["record"] == "mse"
    assert summary["engine"] == "native" and summary["engine_settings"]["solver"]["steps"] >= 2
    assert (tmp_path / "final_mse_histogram.png").stat().st_size > 1000
    assert not (tmp_path / "parts").exists()  # no parts/: the sweep's store holds the batches
    assert mc_module.samples_done(tmp_path) == (10, 10)


def test_learned_is_below_goal_and_not_diverged(reference):
    goal = float(np.median(reference.final_mse))
    mc = aann.montecarlo(CFG, 10, batch=3, goal=goal)
    assert np.array_equal(mc.final_mse, reference.final_mse)
    assert np.array_equal(mc.learned, (reference.final_mse < goal) & ~reference.diverged)
    assert 0 < mc.n_learned < 10
    # a run that diverges (lambda far too large for its steps) is flagged, never learned
    wild = CFG.replace(training={"t_row": "20ps", "epochs": 2}, solver={"steps": 2})
    bad = aann.montecarlo(wild, 3, goal=1.0)
    assert bad.diverged.all() and not bad.learned.any()


def test_sample_k_equals_a_separate_train_run(reference):
    for k in (0, 4, 9):
        alone = aann.train(CFG, init_weights=[aann.random_weights(SIZES, k)], samples=[k])
        assert abs(alone.mse[0, -1] - reference.final_mse[k]) <= 1e-12
        assert bool(alone.diverged_epoch[0]) == reference.diverged[k]
    # the samples do differ: their circuits are drawn, their weights from their seeds
    assert len(set(reference.final_mse.tolist())) == 10


def test_batch_size_does_not_change_results(reference):
    whole = aann.montecarlo(CFG, 10, batch=10)
    default = aann.montecarlo(CFG, 10)  # all 10 fit in memory: one batch
    assert default.batch == 10
    assert whole.to_csv() == reference.to_csv() == default.to_csv()


def test_wilson_interval_against_hand_computation(reference):
    # 7 of 10, z = 1.96: p = 0.7, z^2/n = 0.38416,
    # centre = (0.7 + 0.19208) / 1.38416 = 0.644492, half = 1.96 / 1.38416
    # * sqrt(0.7 * 0.3 / 10 + 3.8416 / 400) = 1.416021 * 0.174940 = 0.247718
    lo, hi = mc_module.wilson_interval(7, 10)
    assert lo == pytest.approx(0.396774, abs=2e-6) and hi == pytest.approx(0.892209, abs=2e-6)
    lo, hi = mc_module.wilson_interval(0, 10)  # none: [0, z^2 / (n + z^2)]
    assert lo == 0 and hi == pytest.approx(3.8416 / 13.8416, rel=1e-12)
    lo, hi = mc_module.wilson_interval(10, 10)
    assert hi == 1 and lo == pytest.approx(10 / 13.8416, rel=1e-12)
    lo, hi = mc_module.wilson_interval(500, 1000, z=1.0)  # p = 1/2: centre 1/2
    half = 1 / 1.001 * math.sqrt(0.25 / 1000 + 1 / 4e6)
    assert (lo, hi) == pytest.approx((0.5 - half, 0.5 + half), rel=1e-12)
    assert reference.wilson() == mc_module.wilson_interval(reference.n_learned, 10)


class Crash(Exception):
    pass


@pytest.fixture
def crash_at(monkeypatch):
    """Make the batch with index ``n`` (0-based) raise ``exc`` instead of running;
    ``calls`` records the samples of each batch run."""
    calls = []

    def arm(n, exc=Crash):
        real = runner.run_batch

        def run_batch(task, *a, **kw):
            calls.append(tuple(seed for _, _, seed in task.runs))
            if len(calls) == n + 1:
                raise exc()
            return real(task, *a, **kw)

        monkeypatch.setattr(runner, "run_batch", run_batch)
        return calls
    return arm


def stored_batches(out):
    with sqlite3.connect(out / STORE) as c:
        return [b for (b,) in c.execute("SELECT DISTINCT batch FROM runs ORDER BY batch")]


def test_resume_after_a_crash_equals_an_uninterrupted_run(tmp_path, reference, crash_at):
    calls = crash_at(3)  # batches 0, 1, 2 (3, 3, 2 samples) finish, the last (8, 9) crashes
    with pytest.raises(Crash):
        aann.montecarlo(CFG, 10, batch=3, out=tmp_path)
    assert stored_batches(tmp_path) == [0, 1, 2]
    assert mc_module.samples_done(tmp_path) == (8, 10)
    with sqlite3.connect(tmp_path / STORE) as c:  # as if the crash had hit batch 2 as well
        c.execute("DELETE FROM runs WHERE batch = 2")
    assert not (tmp_path / "montecarlo.csv").exists()
    # without --resume the folder is refused
    with pytest.raises(aann.ValidationError, match="--resume"):
        aann.montecarlo(CFG, 10, batch=3, out=tmp_path)
    calls.clear()
    resumed = aann.montecarlo(CFG, 10, out=tmp_path, resume=True)  # the batch size: the run's
    assert calls == [(6, 7), (8, 9)]  # only the missing batches ran
    assert resumed.to_csv() == reference.to_csv()
    assert read_csv(tmp_path / "montecarlo.csv")[1:] == \
        list(csv.reader(reference.to_csv().splitlines()))[1:]
    assert mc_module.samples_done(tmp_path) == (10, 10)


@pytest.mark.parametrize("change, match", [
    ({"config": CFG.replace(training={"epochs": 21})}, "epochs was 20, now 21"),
    ({"config": CFG.replace(mismatch={"C": "2%"})}, "mismatch.C was '1%', now '2%'"),
    ({"goal": 0.02}, "goal was 0.01, now 0.02"),
    ({"samples": 12}, "samples was 10, now 12"),
    ({"batch": 4}, "batch was 3, now 4"),
])
def test_resume_with_other_settings_is_refused(tmp_path, crash_at, change, match):
    crash_at(1)
    with pytest.raises(Crash):
        aann.montecarlo(CFG, 10, batch=3, out=tmp_path)
    args = {"config": CFG, "samples": 10, "batch": 3, "goal": 0.01, **change}
    with pytest.raises(aann.ValidationError, match=match):
        aann.montecarlo(args.pop("config"), args.pop("samples"), out=tmp_path, resume=True,
                        **args)
    assert mc_module.samples_done(tmp_path) == (3, 10)  # left as it was


def test_resume_without_a_run_is_refused(tmp_path):
    with pytest.raises(aann.ValidationError, match="no unfinished Monte Carlo run"):
        aann.montecarlo(CFG, 10, batch=3, out=tmp_path, resume=True)


def test_one_initial_weight_set_for_all(tmp_path, reference):
    W = aann.random_weights(SIZES, 42)
    path = tmp_path / "w.json"
    path.write_text(weights_to_json([{"seed": 42, "layers": W}]))
    mc = aann.montecarlo(CFG, 4, batch=3, init_weights=path)
    assert mc.shared_weights and list(mc.seeds) == [42] * 4
    for k in (0, 3):
        alone = aann.train(CFG, init_weights=[W], samples=[k])
        assert abs(alone.mse[0, -1] - mc.final_mse[k]) <= 1e-12
    assert not np.array_equal(mc.final_mse, reference.final_mse[:4])
    # the same from the CLI's --init-weights, and from arrays
    via_cfg = aann.montecarlo(CFG.replace(training={"init_weights": str(path)}), 4, batch=3)
    assert via_cfg.to_csv() == mc.to_csv()
    assert aann.montecarlo(CFG, 4, batch=3, init_weights=W).final_mse.tolist() == \
        mc.final_mse.tolist()
    # without mismatch every sample is the same network
    nominal = aann.montecarlo(CFG.replace(mismatch={k: "0%" for k in MISMATCH if "%" in
                                                    str(MISMATCH[k])} | {
        "multiplier.charge.Voff1": "0mV"}), 3, init_weights=path)
    assert len(set(nominal.final_mse.tolist())) == 1
    assert "nominal circuit" in nominal.summary()["mismatch_note"]
    two = tmp_path / "two.json"
    two.write_text(weights_to_json([{"seed": 0, "layers": W}, {"seed": 1, "layers": W}]))
    with pytest.raises(aann.ValidationError, match="hold 2 networks"):
        aann.montecarlo(CFG, 4, init_weights=two)


def test_cli_runs_and_resumes(tmp_path, capsys, crash_at):
    cfg = tmp_path / "mc.toml"
    cfg.write_text(TOML)
    out = tmp_path / "out"
    crash_at(1, KeyboardInterrupt)
    rc = main(["montecarlo", str(cfg), "--samples", "10", "--batch", "3", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 130 and "3 of 10 samples are kept" in err and "--resume" in err
    rc = main(["montecarlo", str(cfg), "--samples", "10", "--batch", "3", "--out", str(out)])
    assert rc == 2 and "--resume" in capsys.readouterr().err
    rc = main(["montecarlo", str(cfg), "--samples", "10", "--out", str(out), "--resume"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "yield" in printed and "Wilson" in printed and f"wrote {out}/" in printed
    assert len(read_csv(out / "montecarlo.csv")) == 11


@pytest.mark.parametrize("args, match", [
    (["--samples", "0"], "samples = 0"),
    (["--samples", "-3"], "samples = -3"),
    (["--samples", "5", "--goal", "0"], "goal = 0.0"),
    (["--samples", "5", "--goal", "nan"], "goal = nan"),
    (["--samples", "5", "--batch", "0"], "batch = 0"),
    (["--samples", "5", "--engine", "spectre"], "unknown engine"),
    (["--samples", "5", "--epochs", "0"], "epochs"),
    (["--samples", "5", "--out", ""], "empty"),
    (["--epochs", "3"], "--samples"),
    (["BAD", "--samples", "5"], "unknown key 'sizez'"),
])
def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text("[network]\nsizez = [2, 3, 1]\n")
    args = [str(bad) if a == "BAD" else a for a in args]
    rc = main(["montecarlo", *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and match in err, err
    assert not (tmp_path / "aann-montecarlo").exists()  # nothing written


def test_an_engine_bar_inside_moves_the_outer_bar():
    from aann.progress import progress_bar, reporting_into

    seen = []
    with reporting_into(lambda completed=None, description=None: seen.append(completed), 10, 20):
        with progress_bar(True, 4, "training") as update:
            update(2)
            update()
        with progress_bar(False, 4, "training") as update:  # a bar that is off stays off
            update(4)
    assert seen == [15.0, 17.5]


# --- the files of the tree before the one store ---------------------------------------

WALL = ("wall_seconds", "samples_per_second")


def _flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def test_equals_the_files_of_the_tree_before_the_one_store(tmp_path, capsys):
    """tests/data/montecarlo (its README: made by the tree whose Monte Carlo kept its
    own parts/): the same inputs give the same montecarlo.csv byte for byte, and the
    same summary.json but for the wall times (and the settings' keys added since)."""
    out = tmp_path / "mc"
    rc = main(["montecarlo", str(DATA / "mc.toml"), "--samples", "12", "--batch", "5",
               "--goal", "0.2505", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert (out / "montecarlo.csv").read_text() == (DATA / "montecarlo.csv").read_text()
    now = json.loads((out / "summary.json").read_text())
    then = json.loads((DATA / "summary.json").read_text())
    assert list(now) == list(then)
    skip = (*WALL, "engine_version", "settings")
    assert {k: v for k, v in now.items() if k not in skip} == \
        {k: v for k, v in then.items() if k not in skip}
    assert (now["learned"], now["batches"], now["yield"]) == (6, 3, 0.5)
    settings_now, settings_then = _flat(now["settings"]), _flat(then["settings"])
    assert {k: v for k, v in settings_then.items() if k in settings_now} == \
        {k: settings_now[k] for k in settings_then if k in settings_now}
    assert sum(k in settings_now for k in settings_then) >= 40  # most keys are still there
    # one weight set for every sample
    shared = aann.montecarlo(aann.Config.from_toml(DATA / "mc.toml"), 8, batch=4,
                             init_weights=DATA / "w.json")
    assert shared.to_csv() == (DATA / "shared.csv").read_text()


# --- SIGKILL and --resume -------------------------------------------------------------

KILL_TOML = """[network]
sizes = [1, 2, 1]
[mismatch]
seed = 2
"multiplier.Km" = "3%"
"C" = "1%"
[training]
dataset = "two-row"
epochs = 6
t_row = "0.3ps"
"""


def test_sigkill_then_resume_gives_the_files_of_an_uninterrupted_run(tmp_path, capsys):
    """`aann montecarlo` in a subprocess, SIGKILLed once a batch is committed and before
    the last; --resume then gives the files an uninterrupted run gives."""
    toml = tmp_path / "mc.toml"
    toml.write_text(KILL_TOML)
    total = 16
    args = ["montecarlo", str(toml), "--samples", str(total), "--batch", "1", "--goal",
            "0.09"]
    out = tmp_path / "killed"
    sigkill_when([sys.executable, "-m", "aann.cli", *args, "--out", str(out)],
                 tmp_path / "stderr.txt", lambda: stored_runs(out / STORE) >= 1)
    kept = stored_runs(out / STORE)
    assert 1 <= kept < total
    assert not (out / "montecarlo.csv").exists()
    with sqlite3.connect(out / STORE) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rc = main([*args, "--out", str(out)])  # an unfinished run needs --resume
    err = capsys.readouterr().err
    assert rc == 2 and "--resume" in err and f"{kept} of {total} samples" in err, err
    rc = main([*args, "--out", str(out), "--resume"])
    assert rc == 0, capsys.readouterr().err
    rc = main([*args, "--out", str(tmp_path / "whole")])
    assert rc == 0, capsys.readouterr().err
    resumed, whole = out / "montecarlo.csv", tmp_path / "whole" / "montecarlo.csv"
    assert resumed.read_text() == whole.read_text()
    assert len(read_csv(whole)) == total + 1
    a, b = (json.loads((d / "summary.json").read_text()) for d in (out, tmp_path / "whole"))
    assert {k: v for k, v in a.items() if k not in WALL} == \
        {k: v for k, v in b.items() if k not in WALL}
    assert 0 < a["learned"] < total  # the goal splits the samples
    assert (out / "final_mse_histogram.png").stat().st_size > 1000


# --- a registered metric ----------------------------------------------------------------

def test_a_registered_metric_reaches_the_files(tmp_path, max_abs_weight):
    cfg = CFG.replace(training={"epochs": 4})
    mc = aann.montecarlo(cfg, 4, batch=2, out=tmp_path)
    rows = read_csv(tmp_path / "montecarlo.csv")
    assert rows[0] == ["sample", "seed", "final_mse", "final_max_abs_weight", "learned",
                       "diverged"]
    largest = [float(r[3]) for r in rows[1:]]
    assert largest == mc.finals["max_abs_weight"].tolist() and min(largest) > 0.1
    for k in (0, 3):  # the figure of sample k alone
        alone = aann.train(cfg, init_weights=[aann.random_weights(SIZES, k)], samples=[k])
        assert alone.metrics["max_abs_weight"][0, -1] == pytest.approx(largest[k], abs=1e-12)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["final_max_abs_weight"]["max"] == max(largest)
    assert "goal_metric" not in summary  # the goal is on the MSE
    # a goal on the new metric: learned when the largest weight ends below the median
    threshold = float(np.median(largest))
    by_weight = aann.montecarlo(cfg, 4, batch=2, goal=aann.Goal("max_abs_weight", threshold))
    assert by_weight.learned.tolist() == [v < threshold for v in largest]
    assert by_weight.summary()["goal_metric"] == "max_abs_weight"
    assert "final max_abs_weight < " in by_weight.summary_line()
    # a store made with other metrics is not resumed
    with sqlite3.connect(tmp_path / STORE) as c:
        c.execute("DELETE FROM runs WHERE run = 3")
    aann.unregister_metric("max_abs_weight")
    with pytest.raises(aann.ValidationError, match="metrics was"):
        aann.montecarlo(cfg, 4, batch=2, out=tmp_path, resume=True)
