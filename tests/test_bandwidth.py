"""Block bandwidth (``f3dB``): every block output may lag behind its law by a pole."""

import math

import numpy as np
import pytest

import aann
from aann.circuit import LAG_SIGNALS, build_circuit, chain_settling
from aann.errors import ValidationError

T_ROW = 1e-13  # s, the default


def poles(f3dB, blocks=("activation", "derivative", "multiplier", "error")):
    """A [blocks] section giving every block in ``blocks`` the same ``f3dB`` (Hz)."""
    return {b: {"f3dB": f3dB} for b in blocks}


def xor(epochs=20, seeds=2, **kw):
    return aann.Config(network={"sizes": [2, 3, 1]},
                       training={"dataset": "xor", "epochs": epochs, "seeds": seeds}, **kw)


def test_f3dB_zero_is_the_paper_circuit_bit_for_bit():
    ideal = aann.train(xor())
    zero = aann.train(xor(blocks=poles(0.0)))
    for a, b in zip(ideal.W_epoch, zero.W_epoch):
        assert np.array_equal(a, b)
    assert build_circuit(xor(blocks=poles(0.0))).lagged() == ((), ())


def test_every_pole_is_state_and_settles_to_the_law():
    circuit = build_circuit(xor(blocks=poles(1e14)))
    assert circuit.lagged() == (LAG_SIGNALS,) * 2
    W = tuple(np.asarray(w) for w in aann.io.random_weights((2, 3, 1), 0))
    x, y, vt = np.array([0.0, 1.0]), np.array([0.9]), 1.0
    lags = circuit.settle(W, x, y, vt, circuit.lagged())
    # settled outputs are the laws' values: no lag moves, the weights move as without poles
    dW, dlags = circuit.d_dt((W, lags), x, y, vt)
    assert max(np.abs(d).max() for layer in dlags for d in layer.values()) < 1e-6
    plain = build_circuit(xor()).dVw_dt(W, x, y, vt)
    for a, b in zip(dW, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-3)  # V/s of ~1e12


@pytest.mark.slow
def test_results_converge_to_the_ideal_run_as_f3dB_grows_and_no_run_fails():
    """t_row * f3dB from 0.01 to 1000, one network each in one batch (every network at
    the steps of the fastest pole): every run finishes, and the distance to the ideal run
    falls like 1 / f3dB."""
    ideal = aann.train(xor(epochs=4, seeds=1))
    products = (0.01, 0.1, 1, 10, 100, 1000)
    runs = aann.train_variants([aann.Variant(xor(epochs=4, seeds=1, blocks=poles(ft / T_ROW)),
                                             0) for ft in products])
    assert runs.solver_ok.all() and not runs.diverged_epoch.any()
    assert all(np.isfinite(w).all() for w in runs.W_final)
    distance = {ft: max(np.abs(np.asarray(a)[k] - b[0]).max()
                        for a, b in zip(runs.W_final, ideal.W_final))
                for k, ft in enumerate(products)}
    print("max |W - W_ideal| by t_row * f3dB:", {k: f"{v:.2g}" for k, v in distance.items()})
    assert distance[10] > distance[100] > distance[1000]
    assert distance[1000] < distance[100] / 5 < distance[10] / 25
    assert distance[1000] < 2e-3


def test_one_pole_on_the_output_follows_an_exponential_after_a_row_edge():
    """One layer (2-1), learning off: after an edge of the inputs the output node moves
    from the previous row's value to the new one as ``1 - exp(-t / tau)``."""
    f3dB = 3e13  # Hz: tau = 5.3 fs, t_row / tau = 19, so each row ends settled (6e-9)
    cfg = aann.Config(network={"sizes": [2, 1]}, blocks={"activation": {"f3dB": f3dB}},
                      training={"teach": "off", "epochs": 1, "seeds": 1, "dataset": "xor"},
                      solver={"samples_per_row": 16, "stepping": "adaptive"})
    run = aann.train(cfg, waveforms=True)
    t, vout = run.waveforms["time"], run.waveforms["Vout"][0, :, 0]
    circuit = build_circuit(cfg)
    W0 = tuple(np.asarray(a[0]) for a in run.W_final)  # held: learning is off
    X = aann.load_dataset("xor").X
    tau = 1 / (2 * math.pi * f3dB)
    for k in (1, 2, 3):  # the rows after the first, each starting at k * t_row
        old, new = (float(np.asarray(circuit.output(W0, X[i]))[0]) for i in (k - 1, k))
        inside = (t >= k * T_ROW * (1 - 1e-9)) & (t < (k + 1) * T_ROW * (1 - 1e-9))
        expected = new + (old - new) * np.exp(-(t[inside] - k * T_ROW) / tau)
        assert inside.sum() == 16 and abs(old - new) > 0.01
        np.testing.assert_allclose(vout[inside], expected, atol=1e-7)


def test_settling_time_of_one_pole_and_of_a_chain():
    # 1 % of a step: ln(100) tau for one lag; a chain of n equal lags is a gamma(n, tau)
    # distribution's 99 % quantile (scipy: 6.638 for 2, 17.403 for 9)
    assert chain_settling([2.0]) == pytest.approx(math.log(100) * 2.0, rel=1e-9)
    assert chain_settling([1.0, 1.0]) == pytest.approx(6.638352067993811, rel=1e-7)
    assert chain_settling([1.0] * 9) == pytest.approx(17.402652867352533, rel=1e-7)
    tau = 1 / (2 * math.pi * 1e14)
    one = build_circuit(xor(blocks={"activation": {"f3dB": 1e14}}))
    # the hidden layer's output and the output layer's: two poles on the longest path
    assert one.settling_time() == pytest.approx(6.638352067993811 * tau, rel=1e-7)
    assert build_circuit(xor()).settling_time() == 0.0


def test_the_summary_states_the_settling_time_against_t_row():
    slow = aann.train(xor(epochs=2, blocks=poles(1e13)))  # tau = 16 fs, 9 poles in a row
    s = slow.summary()
    assert s["settling_time"] == pytest.approx(slow.settling_time) and s["settling_time"] > T_ROW
    assert any("settle" in line and "t_row" in line for line in s["limits_broken"])
    fast = aann.train(xor(epochs=2, blocks=poles(1e16)))
    assert 0 < fast.summary()["settling_time"] < T_ROW
    assert "settling" not in fast.limits() and "settling" in slow.limits()


def test_steps_follow_the_fastest_pole():
    solver = aann.Solver()
    assert solver.resolved(1.0).steps == 2
    assert solver.resolved(1.0, stiffness=2 * math.pi * 100).steps == math.ceil(200 * math.pi)
    assert aann.Solver(steps=4).resolved(1.0, stiffness=1e3).steps == 4  # as asked
    with pytest.raises(ValidationError, match="f3dB = 0"):
        solver.resolved(1.0, stiffness=1e6)


def test_f3dB_is_validated_and_not_mismatched():
    with pytest.raises(ValidationError, match="f3dB"):
        xor(blocks={"activation": {"f3dB": "-1GHz"}})
    with pytest.raises(ValidationError, match="activation.f3dB"):
        xor(mismatch={"activation.f3dB": "5%"})


def test_aann_train_warns_when_the_poles_settle_slower_than_a_row(tmp_path, capsys):
    from aann.cli import main

    toml = tmp_path / "slow.toml"
    toml.write_text('[network]\nsizes = [2, 3, 1]\n[training]\nepochs = 2\nseeds = 1\n'
                    '[blocks.activation]\nf3dB = "10THz"\n')  # t_row * f3dB = 1
    assert main(["train", str(toml), "--out", str(tmp_path / "out")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "warning: The blocks' poles settle in" in out and "longer than a row" in out
