"""The weight node's imperfections ([nonideal]): leakage, rails, current limit, Qinj."""

import numpy as np
import pytest

import aann


def xor(epochs=20, seeds=2, **sections):
    return aann.Config(training={"epochs": epochs, "seeds": seeds, **sections.pop("training", {})},
                       **sections)


def _max_dW(a, b):
    return max(np.abs(x - y).max() for x, y in zip(a, b))


def test_every_part_at_a_neutral_value_gives_the_ideal_run():
    ideal = aann.train(xor())
    neutral = aann.train(xor(nonideal={"R_leak": "1e30ohm", "rails": True, "Vmin": "-1kV",
                                       "Vmax": "1kV", "current_limit": "clip", "Qinj": "0C"},
                             constants={"Imax": "1kA"}))
    assert _max_dW(ideal.W_epoch, neutral.W_epoch) < 1e-12
    np.testing.assert_allclose(neutral.mse, ideal.mse, rtol=0, atol=1e-12)


@pytest.mark.parametrize("t_edge", ["0s", "1fs"])
def test_a_held_weight_leaks_away_with_R_leak_C(t_edge):
    R, C = 20.0, 1e-13  # R C = 2 ps; the run lasts 10 epochs x 4 rows x 0.1 ps = 4 ps
    cfg = xor(epochs=10, training={"teach": "off", "t_edge": t_edge},
              nonideal={"R_leak": R}, solver={"steps": 16})
    r = aann.train(cfg)
    t = (np.arange(10) + 1) * 4 * 0.1e-12
    for W0, We in zip(r.W_init, r.W_epoch):
        want = W0[:, None] * np.exp(-t / (R * C))[None, :, None, None]
        np.testing.assert_allclose(We, want, rtol=1e-6, atol=0)


def test_no_weight_leaves_the_rails_even_when_learning_pushes_outward():
    cfg = xor(epochs=200, seeds=4, nonideal={"rails": True, "Vmin": "-0.8V", "Vmax": "0.8V"})
    r = aann.train(cfg)
    assert r.W_min.min() >= -0.8 and r.W_max.max() <= 0.8
    at_rail = sum(int(np.sum(np.abs(w) == 0.8)) for w in r.W_final)
    assert at_rail > 0  # learning did push weights against the rails
    free = aann.train(xor(epochs=200, seeds=4))
    assert max(np.abs(w).max() for w in free.W_final) > 0.8


def test_a_weight_at_a_rail_leaves_it_when_the_gradient_turns_inward():
    """1-1 neuron: a high target drives the bias weight onto Vmax; a low one draws it
    back at once."""
    sizes = (1, 1)
    cfg = aann.Config(network={"sizes": list(sizes)},
                      nonideal={"rails": True, "Vmin": "-0.3V", "Vmax": "0.3V"})
    t = np.array([0.0, 5e-12])

    def hold(W, target):
        wave = aann.Waveform(time=t, Vin=np.zeros((2, 1)), Vtarget=np.full((2, 1), target),
                             Vteach=np.ones(2))
        return aann.simulate(cfg, wave, init_weights=[W]).W_final

    up = hold([np.array([[0.0, 0.0]])], 0.99)
    assert up[0][0, 0, 0] == 0.3  # the bias weight sits on the rail
    down = hold([np.asarray(up[0][0])], 0.01)
    assert down[0][0, 0, 0] < 0.3 - 1e-3


@pytest.mark.parametrize("limit", ["clip", "tanh"])
def test_the_limited_source_never_exceeds_Imax(limit):
    r = aann.train(xor(nonideal={"current_limit": limit}))
    free = aann.train(xor())
    assert free.peak_current_max.max() > 1e-4  # the ideal source goes far beyond 100 uA
    assert r.peak_current_max.max() <= 1e-4 * (1 + 1e-12)


@pytest.mark.parametrize("t_edge", ["0s", "1fs"])
def test_each_Vteach_edge_injects_Qinj(t_edge):
    """Learning held off (Keta = 0), Vteach toggling each epoch (alternate): every edge
    shifts every weight by Qinj / C (1 V swing)."""
    cfg = xor(epochs=6, training={"teach": "alternate", "t_edge": t_edge},
              constants={"Keta": 0.0}, nonideal={"Qinj": "2fC"})
    r = aann.train(cfg)
    for W0, We in zip(r.W_init, r.W_epoch):
        edges = np.arange(6)  # epoch e + 1 ends after e edges (the first row has none)
        want = W0[:, None] + (2e-15 / 1e-13) * edges[None, :, None, None]
        np.testing.assert_allclose(We, want, rtol=0, atol=1e-9)


def test_the_sources_input_offset_is_the_charge_multipliers_output_offset_unchopped():
    """``Voff`` adds to what reaches each charging source's input: without a technique it
    is the charge multipliers' output offset ``Ioff = Km Voff`` (the ideal law's ``Vgrad =
    I/Km``), to float64 rounding; under the chopper, whose demodulator sits before the
    source's input, the multipliers' offset cancels but for what the weights' ripple
    changes in the products (measured 0.28 mV) and the source's does not
    (``-lambda Voff`` a row on every weight: 3 epochs x 4 rows x 1 mV)."""
    v = 1e-3
    Km = aann.Config().blocks.multiplier.Km
    source = aann.train(xor(epochs=3, seeds=1, nonideal={"Voff": v}))
    multiplier = aann.train(xor(epochs=3, seeds=1, blocks={"multiplier": {"charge": {
        "Ioff": Km * v}}}))
    assert _max_dW(source.W_epoch, multiplier.W_epoch) < 1e-12
    assert _max_dW(source.W_epoch, aann.train(xor(epochs=3, seeds=1)).W_epoch) > 1e-3
    chop = {"method": "chopper"}
    plain = aann.train(xor(epochs=3, seeds=1, offset_cancellation=chop))
    at_source = aann.train(xor(epochs=3, seeds=1, offset_cancellation=chop,
                               nonideal={"Voff": v}))
    at_multiplier = aann.train(xor(epochs=3, seeds=1, offset_cancellation=chop, blocks={
        "multiplier": {"charge": {"Ioff": Km * v}}}))
    kept, cancelled = (_max_dW(plain.W_epoch, r.W_epoch) for r in (at_source, at_multiplier))
    print(f"under the chopper, 1 mV at the source moves the weights {kept:.3g} V, at the "
          f"multiplier {cancelled:.3g} V")
    assert kept > 3 * 4 * v / 2 and cancelled < kept / 20


def test_nonideal_keys_are_validated():
    with pytest.raises(aann.ValidationError, match="nonideal.R_leak"):
        aann.Config(nonideal={"R_leak": "-1ohm"})
    with pytest.raises(aann.ValidationError, match="nonideal.current_limit"):
        aann.Config(nonideal={"current_limit": "soft"})
    with pytest.raises(aann.ValidationError, match="nonideal.Qinj"):
        aann.Config(nonideal={"Qinj": "1fF"})
    with pytest.raises(aann.ValidationError, match="unknown key 'saturate'"):
        aann.Config(constants={"saturate": True})


def test_the_summary_says_which_physical_limit_a_run_breaks():
    ideal = aann.train(xor(epochs=5)).summary()
    assert ideal["slew_limit"] == pytest.approx(1e-4 / 1e-13)
    assert len(ideal["limits_broken"]) == 1 and "x Imax" in ideal["limits_broken"][0]
    assert ideal["retention_seconds"] is None
    held = aann.train(xor(epochs=5, nonideal={"R_leak": "10ohm", "current_limit": "clip"}))
    s = held.summary()
    assert s["retention_seconds"] == pytest.approx(1e-12)
    assert len(s["limits_broken"]) == 1 and "retention" in s["limits_broken"][0]
    n = s["networks"][0]
    assert n["max_dVw_dt"] == pytest.approx(n["peak_current"] / 1e-13)


@pytest.mark.slow
def test_thermal_noise_of_R_leak_gives_kT_over_C_and_is_reproducible():
    """Learning off, 300 K, R_leak C = 0.25 ps, 5 ps (20 R C): the variance of each weight
    over 1000 networks is k T / C within 10 %."""
    C, R, T = 1e-13, 2.5, 300.0
    cfg = aann.Config(network={"sizes": [1, 2, 1]},
                      training={"dataset": "two-row", "epochs": 25, "seeds": 1000,
                                "teach": "off", "record": "mse"},
                      nonideal={"R_leak": R, "temperature": T}, solver={"steps": 4})
    r = aann.train(cfg)
    W = np.concatenate([w.reshape(1000, -1) for w in r.W_final], axis=1)
    ratio = W.var(axis=0) / (1.380649e-23 * T / C)
    assert np.all(np.abs(ratio - 1) < 0.1), ratio
    again = aann.train(cfg.replace(training={"seeds": 3}))  # network s: its own noise
    for a, b in zip(again.W_final, r.W_final):
        np.testing.assert_array_equal(a, b[:3])
    other = aann.train(cfg.replace(training={"seeds": 3}, nonideal={"noise_seed": 1}))
    assert not np.array_equal(other.W_final[0], again.W_final[0])


def test_noise_is_refused_where_it_cannot_be_simulated():
    with pytest.raises(aann.ValidationError, match="needs R_leak|R_leak = 0"):
        aann.Config(nonideal={"temperature": "300K"})
    cfg = xor(epochs=2, nonideal={"R_leak": "1e9ohm", "temperature": "300K"})
    with pytest.raises(aann.ValidationError, match="native engine only"):
        aann.train(cfg, engine="ngspice")
    with pytest.raises(aann.ValidationError, match="fixed steps"):
        aann.train(cfg.replace(solver={"stepping": "adaptive"}))


def test_shot_noise_moves_the_weights_by_the_expected_amount():
    """Shot noise alone on a learning run: the spread of a weight across networks that
    start alike grows as sqrt(q |I| t) / C (here far below the weights' own motion)."""
    cfg = xor(epochs=5, seeds=200, training={"record": "mse"}, nonideal={"shot_noise": True})
    W = [aann.random_weights((2, 8, 1), 0)]
    noisy = aann.train(cfg, init_weights=[{"seed": s, "layers": W[0]} for s in range(200)])
    # the noiseless run from W, twice: the program of xor()'s runs above (2 networks)
    quiet = aann.train(xor(epochs=5), init_weights=W * 2)
    spread = noisy.W_final[1].std(axis=0)
    assert np.all(spread > 0)
    # |I| <= the peak current over the run of 20 rows of 0.1 ps: an upper bound
    bound = np.sqrt(1.602176634e-19 * quiet.peak_current[1][0] * 2e-12) / 1e-13
    assert np.all(spread < 3 * bound)
