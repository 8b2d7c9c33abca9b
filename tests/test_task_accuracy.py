"""What the ideal circuit learns beyond XOR, and that every engine and study reports
the held-out metrics (docs/tasks.md)."""

import numpy as np
import pytest

import aann
from aann.datasets import for_config


def task(sizes, dataset, epochs, seeds=10, **data):
    return aann.Config(network={"sizes": sizes},
                       training={"dataset": dataset, "epochs": epochs, "seeds": seeds,
                                 "order": "shuffle", "record": "mse"},
                       data={"test_fraction": 0.25, **data})


@pytest.mark.slow
def test_iris_4_8_3_ideal_reaches_93_percent_median_test_accuracy():
    res = aann.train(task([4, 8, 3], "iris", 200), progress=False)
    acc = res.final("test_accuracy")
    assert acc.shape == (10,) and np.median(acc) >= 0.93, acc
    assert res.dataset.test.rows == 36  # round(0.25 * 50) = 12 of each class


@pytest.mark.slow
def test_digits_64_16_10_ideal_reaches_95_percent_median_test_accuracy_in_30_epochs():
    res = aann.train(task([64, 16, 10], "digits", 30), progress=False)
    acc = res.final("test_accuracy")
    assert np.median(acc) >= 0.95, acc
    assert (res.diverged_epoch == 0).all()


def test_the_split_is_stratified_reproducible_and_scaled_on_training_rows_only():
    cfg = task([4, 8, 3], "iris", 1, test_fraction=0.3, split_seed=7)
    a, b = for_config(cfg), for_config(cfg)
    assert np.array_equal(a.test.X, b.test.X) and np.array_equal(a.labels, b.labels)
    assert np.bincount(a.test.labels).tolist() == [15, 15, 15]
    assert a.X.min() == 0.0 and a.X.max() == 1.0  # the training rows span the range
    other = for_config(cfg.replace(data={"split_seed": 8}))
    assert not np.array_equal(a.test.X, other.test.X)
    # held-out values outside the training range are clipped into [Vin_low, Vin_high]
    assert a.test.X.min() >= 0.0 and a.test.X.max() <= 1.0 and a.clipped >= 0
    # one-hot at Vhigh / Vlow, read back as the class
    assert set(np.unique(a.Y)) == {0.2, 0.8}
    assert np.array_equal(a.predicted(a.Y), a.labels)


def test_two_classes_may_use_one_output():
    ds = for_config(task([30, 8, 1], "breast_cancer", 1))
    assert ds.Y.shape[1] == 1 and np.array_equal((ds.Y[:, 0] > 0.5).astype(int), ds.labels)
    with pytest.raises(aann.ValidationError, match="needs 2 outputs .* or 1"):
        for_config(task([30, 8, 3], "breast_cancer", 1))


def test_voltage_data_sets_are_as_before_and_report_the_mse_only():
    res = aann.train(aann.Config(training={"epochs": 3, "seeds": 2}), progress=False)
    assert list(res.metrics) == ["mse"]
    assert "data" not in res.config.to_dict()  # settings as before the section existed
    assert np.array_equal(for_config(aann.Config()).X, [[0, 0], [0, 1], [1, 0], [1, 1]])


def test_a_sweep_and_a_monte_carlo_run_keep_the_held_out_metrics(tmp_path):
    """The metrics reach a sweep's store, its export and Monte Carlo's files by name; a
    run of the sweep equals the same network trained alone."""
    from aann.sweep.report import export_csv

    (tmp_path / "sweep.toml").write_text(
        '[base.network]\nsizes = [4, 3, 3]\n[base.training]\ndataset = "iris"\nepochs = 3\n'
        'seeds = 2\norder = "shuffle"\n[base.data]\ntest_fraction = 0.3\n'
        '[grid]\n"training.t_row" = ["0.05ps", "0.1ps"]\n')
    sweep = aann.load_sweep(tmp_path / "sweep.toml")
    assert sweep.metrics == ("mse", "test_mse", "train_accuracy", "test_accuracy")
    aann.run_sweep(sweep, tmp_path / "s", echo=lambda *a: None)
    export_csv(tmp_path / "s", tmp_path / "runs.csv")
    header = (tmp_path / "runs.csv").read_text().splitlines()[0].split(",")
    assert {"final_test_mse", "final_train_accuracy", "final_test_accuracy"} <= set(header)
    cfg = task([4, 3, 3], "iris", 3, seeds=2, test_fraction=0.3)
    alone = aann.train(cfg.replace(training={"t_row": "0.05ps"}), progress=False)
    stored = aann.load_sweep_results(tmp_path / "s")
    assert np.allclose(stored.final("test_mse")[:2], alone.final("test_mse"), rtol=0, atol=1e-12)
    assert stored.final("test_accuracy")[:2].tolist() == alone.final("test_accuracy").tolist()
    aann.montecarlo(cfg.replace(mismatch={"multiplier.Km": "1%"}), 3, out=tmp_path / "mc",
                    progress=False)
    header = (tmp_path / "mc" / "montecarlo.csv").read_text().splitlines()[0].split(",")
    assert {"test_mse", "train_accuracy", "test_accuracy"} <= {h.removeprefix("final_")
                                                               for h in header}


@pytest.mark.ngspice
def test_ngspice_reports_the_held_out_metrics_from_its_read_back_weights(tmp_path):
    rows = tmp_path / "rows.csv"
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (12, 2))
    cls = (X[:, 0] > X[:, 1]).astype(int)
    rows.write_text("x1,x2,class\n" + "".join(f"{a:.17g},{b:.17g},{c}\n"
                                             for (a, b), c in zip(X, cls)))
    cfg = aann.Config(network={"sizes": [2, 3, 2]},
                      training={"dataset": str(rows), "epochs": 2, "seeds": 1,
                                "t_edge": "1fs"},
                      data={"test_fraction": 0.25})
    spice = aann.train(cfg, engine="ngspice", progress=False)
    native = aann.train(cfg, progress=False)
    assert list(spice.metrics) == ["mse", "test_mse", "train_accuracy", "test_accuracy"]
    assert abs(spice.final("test_mse")[0] - native.final("test_mse")[0]) < 1e-4
    assert spice.final("test_accuracy")[0] == native.final("test_accuracy")[0]
