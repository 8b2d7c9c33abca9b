"""Results for people and notebooks (issue #14): a short repr and an HTML table,
``Results.load`` of what ``save`` wrote (equal to the original, both engines),
pandas and xarray views that round-trip the MSE and the weights, ``res.plot``."""

import dataclasses
import json
import sys

import numpy as np
import pytest

import aann
from aann import results_views

TINY = aann.Config(network=aann.Network("1-2-1"),
                   training=aann.Training(dataset="two-row", epochs=3, seeds=2))


@pytest.fixture(scope="module")
def small():
    """Weights per epoch and waveforms."""
    return aann.train(TINY, waveforms=True)


@pytest.fixture(scope="module")
def many():
    """1000 networks recording the MSE only."""
    return aann.train(TINY.replace(training={"seeds": 1000, "epochs": 2, "record": "mse"}))


@pytest.fixture(scope="module")
def pwl():
    """A PWL stimulus: no epochs, waveforms."""
    t = np.linspace(0.0, 4e-13, 5)
    wave = aann.Waveform(time=t, Vin=np.array([0, 1, 0, 1, 0.5]), Vtarget=0.8 - 0.6 * t / t[-1],
                         Vteach=np.ones(5))
    return aann.simulate(TINY, wave)


def lines(res):
    return repr(res).splitlines()


# --- repr ---------------------------------------------------------------------------

def test_repr_is_at_most_10_lines_for_any_run(small, many, pwl):
    one = dataclasses.replace(small, seeds=[7], **{
        name: tuple(W[:1] for W in getattr(small, name))
        for name in ("W_init", "W_epoch", "W_final", "peak_current")},
        metrics={"mse": small.mse[:1]}, solver_ok=small.solver_ok[:1],
        step_error=small.step_error[:1],
        W_min=small.W_min[:1], W_max=small.W_max[:1], waveforms=None)
    for res in (small, many, pwl, one):
        text = lines(res)
        assert 1 <= len(text) <= 10, repr(res)
        assert text[0].startswith("aann.Results: 1-2-1 on native")
        assert max(map(len, text)) < 120
    assert "networks: 1000 (seeds 0..999)" in repr(many)
    assert "learned: " in repr(many) and "final MSE: " in repr(many)
    assert "recorded: MSE per epoch" in repr(many)
    assert "waveforms" in repr(small) and "epochs: 3 of 2 rows" in repr(small)
    assert "no epochs" in repr(pwl) and "breakpoints" in repr(pwl)
    assert "recorded: the final weights, waveforms" in repr(pwl)
    assert "networks: 1 (seed 7)" in repr(one)


def test_repr_counts_the_networks_that_learned_and_diverged(small):
    mse = small.mse.copy()
    mse[0, -1], mse[1, -1] = 1e-3, np.nan
    res = dataclasses.replace(small, metrics={"mse": mse})
    text = repr(res)
    assert "learned: 1 of 2" in text and "diverged: 1" in text
    assert "final MSE: 0.001 .. 0.001 V^2 (median 0.001); 1 not finite" in text


def test_repr_html_is_the_summary_table(small, many):
    page = small._repr_html_()
    assert "<table>" in page and page.count("<tr>") == 1 + small.n_networks
    assert "final MSE" in page and "1-2-1" in page
    big = many._repr_html_()
    assert big.count("<tr>") == 1 + results_views.HTML_ROWS + 1
    assert "980 more networks" in big


# --- save / load ----------------------------------------------------------------------

def assert_loads_equal(res, folder):
    out = res.save(folder, plots=False)
    assert (out / "results.npz").is_file()
    back = aann.Results.load(out)
    assert results_views.differences(res, back) == []
    assert back == res
    assert type(back.config) is aann.Config and back.config == res.config
    assert back.engine_info == res.engine_info
    for a, b in zip(res.W_final, back.W_final):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    return back


def test_load_of_save_equals_the_results_native(small, many, pwl, tmp_path):
    back = assert_loads_equal(small, tmp_path / "small")
    assert back.waveforms.keys() == small.waveforms.keys()
    assert back.W_epoch is not None and back.step_error is not None
    back = assert_loads_equal(many, tmp_path / "many")
    assert back.W_epoch is None and back.n_networks == 1000
    back = assert_loads_equal(pwl, tmp_path / "pwl")
    assert back.breakpoints == 5 and back.epochs_done == 0
    assert aann.Results.load(tmp_path / "pwl" / "results.npz") == pwl  # the file itself


def test_load_keeps_nan_samples_and_mismatch_settings(small, tmp_path):
    mse = small.mse.copy()
    mse[1, 2] = np.nan
    W = tuple(w.copy() for w in small.W_final)
    W[0][0, 0, 0] = np.inf
    config = TINY.replace(mismatch={"multiplier.Km": "3%"}, training={"t_edge": "1fs"})
    res = dataclasses.replace(small, metrics={"mse": mse}, W_final=W, samples=[4, 9],
                              config=config)
    back = assert_loads_equal(res, tmp_path)
    assert back.samples == [4, 9] and np.isnan(back.mse[1, 2])
    assert back.summary() == res.summary()
    # the files other code reads are written as before
    for name in ("mse.csv", "weights.json", "summary.json", "waveforms.csv"):
        assert (tmp_path / name).is_file()


def test_equality_compares_every_array_exactly(small):
    assert small == dataclasses.replace(small)
    W = tuple(w.copy() for w in small.W_epoch)
    W[1][0, 0, 0, 0] += 1e-15
    other = dataclasses.replace(small, W_epoch=W)
    assert other != small and results_views.differences(small, other) == ["W_epoch"]
    other = dataclasses.replace(small, seeds=[0, 2], wall_seconds=1.0)
    assert results_views.differences(small, other) == ["wall_seconds", "seeds"]
    assert small != "results"


@pytest.mark.ngspice
def test_load_of_save_equals_the_results_ngspice(tmp_path):
    config = TINY.replace(training={"seeds": 1})
    res = aann.train(config, engine="ngspice")
    assert res.engine == "ngspice" and res.engine_info.process_seconds is not None
    back = assert_loads_equal(res, tmp_path)
    assert back.engine_info.settings == res.engine_info.settings
    assert back.step_error is None


def test_load_refuses_a_folder_without_the_archive(small, tmp_path):
    small.save(tmp_path, plots=False)
    (tmp_path / "results.npz").unlink()
    with pytest.raises(aann.ValidationError, match=r"results\.npz.*res\.save\(DIR\)"):
        aann.Results.load(tmp_path)
    with pytest.raises(aann.ValidationError, match="has no results.npz"):
        aann.Results.load(tmp_path / "none")


def test_load_refuses_a_damaged_archive(tmp_path):
    (tmp_path / "results.npz").write_bytes(b"not a zip file")
    with pytest.raises(aann.ValidationError, match="damaged"):
        aann.Results.load(tmp_path)
    np.savez(tmp_path / "results.npz", meta=np.array(json.dumps({"format": "other"})))
    with pytest.raises(aann.ValidationError, match="not an aann results archive"):
        aann.Results.load(tmp_path)


# --- pandas and xarray -----------------------------------------------------------------

def test_to_dataframe_round_trips_the_mse(small, many):
    for res in (small, many):
        df = res.to_dataframe()
        assert list(df.columns) == ["network", "seed", "sample", "epoch", "mse"]
        assert len(df) == res.n_networks * res.epochs_done and df["sample"].isna().all()
        table = df.pivot(index="network", columns="epoch", values="mse")
        assert list(table.columns) == list(range(1, res.epochs_done + 1))
        assert np.array_equal(table.to_numpy(), res.mse)
        assert list(df.groupby("network")["seed"].first()) == res.seeds


def test_to_dataframe_round_trips_the_final_weights(small, many):
    res = dataclasses.replace(small, samples=[3, 8])
    for r in (res, many):
        df = r.to_dataframe("weights")
        assert list(df.columns) == ["network", "seed", "sample", "layer", "neuron", "input",
                                    "epoch", "Vw"]
        assert (df["epoch"] == r.epochs_done).all()
        for l, W in enumerate(r.W_final):
            part = df[df["layer"] == l + 1]
            back = np.full(W.shape, np.nan)
            back[part["network"], part["neuron"], part["input"]] = part["Vw"]
            assert np.array_equal(back, W)
    assert list(df.groupby("network")["seed"].first()) == many.seeds
    samples = res.to_dataframe("weights").groupby("network")["sample"].first()
    assert list(samples) == [3, 8]


def test_to_dataframe_trajectories_start_at_the_initial_weights(small, many):
    df = small.to_dataframe("trajectories")
    assert sorted(df["epoch"].unique()) == [0, 1, 2, 3]
    l2 = df[(df["layer"] == 2) & (df["network"] == 1)]
    assert np.array_equal(l2[l2["epoch"] == 0]["Vw"], small.W_init[1][1].reshape(-1))
    assert np.array_equal(l2[l2["epoch"] == 2]["Vw"], small.W_epoch[1][1, 1].reshape(-1))
    with pytest.raises(aann.ValidationError, match="record"):
        many.to_dataframe("trajectories")
    with pytest.raises(aann.ValidationError, match="'mse', 'weights'"):
        small.to_dataframe("everything")


def test_to_xarray_round_trips_mse_and_weights(small, many):
    res = dataclasses.replace(small, samples=[3, 8])
    ds = res.to_xarray()
    assert ds["mse"].dims == ("network", "epoch")
    assert np.array_equal(ds["mse"].values, res.mse)
    assert list(ds["epoch"].values) == [1, 2, 3]
    assert list(ds["seed"].values) == res.seeds and list(ds["sample"].values) == [3, 8]
    for l in range(2):
        assert ds[f"W_final_l{l + 1}"].dims == ("network", f"neuron_l{l + 1}",
                                                 f"input_l{l + 1}")
        assert np.array_equal(ds[f"W_final_l{l + 1}"].values, res.W_final[l])
        assert np.array_equal(ds[f"W_init_l{l + 1}"].values, res.W_init[l])
        assert np.array_equal(ds[f"W_epoch_l{l + 1}"].values, res.W_epoch[l])
    assert np.array_equal(ds["Vout"].values, res.waveforms["Vout"])
    assert aann.spec.from_dict(json.loads(ds.attrs["settings"])) == res.config
    assert float(ds["mse"].sel(network=1, epoch=3)) == res.mse[1, 2]
    big = many.to_xarray()
    assert "W_epoch_l1" not in big and "sample" not in big.coords
    assert np.array_equal(big["mse"].values, many.mse)
    assert np.array_equal(big["W_final_l2"].values, many.W_final[1])


def test_without_pandas_or_xarray_the_error_says_what_to_install(small, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(aann.ValidationError, match=r'pip install "aann\[notebook\]"'):
        small.to_dataframe()
    with pytest.raises(aann.ValidationError, match="xarray"):
        small.to_xarray()


# --- plots ------------------------------------------------------------------------------

def test_plot_accessor_returns_axes(small, many, pwl):
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    try:
        for ax in (small.plot.learning_curves(), small.plot.learning_curves(log=False),
                   small.plot.waveforms(), small.plot.waveforms(network=1),
                   small.plot.weights(), small.plot.weights(network=1, layer=2),
                   pwl.plot.waveforms()):
            assert isinstance(ax, Axes) and ax.lines
        _, given = plt.subplots()
        assert small.plot.weights(ax=given) is given
        assert len(given.lines) == sum(W[0].size for W in small.W_final)
        assert np.array_equal(given.lines[0].get_ydata(),
                              np.r_[small.W_init[0][0, 0, 0], small.W_epoch[0][0, :, 0, 0]])
        with pytest.raises(aann.ValidationError, match="record"):
            many.plot.weights()
        with pytest.raises(aann.ValidationError, match="waveforms=True"):
            many.plot.waveforms()
        with pytest.raises(aann.ValidationError, match="no epochs"):
            pwl.plot.learning_curves()
        with pytest.raises(aann.ValidationError, match="network = 5"):
            small.plot.weights(network=5)
        with pytest.raises(aann.ValidationError, match="layer = 3"):
            small.plot.weights(layer=3)
    finally:
        plt.close("all")


def test_the_plots_keep_a_notebook_backend(tmp_path):
    """aann.plots selects Agg on import; a notebook's backend (here a stand-in whose
    name says inline) is kept, so Jupyter still shows the figures."""
    import os
    import subprocess

    (tmp_path / "my_inline_backend.py").write_text(
        "from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas\n")
    code = ("import matplotlib; from aann import results_views as v; v._plots(); "
            "print(matplotlib.get_backend())")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MPLBACKEND": "module://my_inline_backend"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "module://my_inline_backend"


def test_derived_figures_come_from_the_circuit_that_ran():
    """Settling time and retention are the circuit's that ran (a circuit given with
    circuit=, or each network's mismatch draws), not the nominal one of the settings."""
    cfg = TINY.replace(nonideal={"R_leak": "1e12ohm"}, training={"epochs": 1})
    drawn = aann.train(cfg.replace(mismatch={"C": "5%"}))
    circuits = [aann.build_circuit(drawn.config, sample=k) for k in drawn.samples]
    shortest = min(float(np.min(1e12 * c.block("charging", l).C))
                   for c in circuits for l in range(len(c.sizes) - 1))
    assert drawn.retention_seconds == shortest < 1e12 * cfg.constants.C
    assert drawn.summary()["retention_seconds"] == shortest
    nominal = aann.build_circuit(cfg)
    slow = dataclasses.replace(nominal, activation=dataclasses.replace(
        nominal.activation, f3dB=1e13))
    given = aann.train(cfg, circuit=slow)
    assert given.settling_time == slow.settling_time() > 0 == nominal.settling_time()
