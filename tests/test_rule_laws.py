"""Two laws for learning-rule studies (issue #23): ``[blocks.derivative] law = "constant"``
(no derivative block, ``Vd = Vd0``) and ``[blocks.multiplier.charge] law = "sign"`` (a
comparator pair steering ``Isign``): their values against a numpy transcription, the
update they give, mismatch, bandwidth, strict keys, and both engines alike."""

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest
from test_spice_engine import TIGHT, XOR2

import aann
from aann.blocks import SPICE, ConstantDerivative, Expr, SignMultiplier
from aann.engines.spice import edge_time

CONSTANT = {"derivative": {"law": "constant"}}
SIGN = {"multiplier": {"charge": {"law": "sign"}}}


# --- the laws against numpy ------------------------------------------------------------

def sign_numpy(V1, V2, Isign, Vedge, Voff1=0.0, Voff=0.0, Ioff=0.0):
    return Isign * np.tanh((V1 + Voff1) / Vedge) * np.tanh((V2 + Voff) / Vedge) + Ioff


@pytest.mark.parametrize("constants", [{}, {"Isign": 3e-6, "Vedge": 2e-3, "Voff1": 1e-3,
                                            "Voff": -2e-3, "Ioff": 1e-8, "Km": 2e-4}])
def test_sign_law_is_its_numpy_transcription(constants, rng):
    law = SignMultiplier(**constants)
    c = {**{"Isign": 10e-6, "Vedge": 10e-3, "Km": 1e-4}, **constants}
    V1, V2 = rng.uniform(-0.3, 0.3, 400), rng.uniform(-0.3, 0.3, 400)
    V1[:100] *= 0.02  # within the edge, too
    want = sign_numpy(V1, V2, c["Isign"], c["Vedge"], c.get("Voff1", 0.0), c.get("Voff", 0.0),
                      c.get("Ioff", 0.0))
    np.testing.assert_allclose(law.output(jnp.asarray(V1), jnp.asarray(V2)), want,
                               rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(law.product(jnp.asarray(V1), jnp.asarray(V2)), want / c["Km"],
                               rtol=1e-12, atol=1e-14)
    # per-instance constants (a Monte Carlo sample's arrays)
    Isign, Vedge = rng.uniform(5e-6, 2e-5, 400), rng.uniform(5e-3, 2e-2, 400)
    mism = dataclasses.replace(law, Isign=jnp.asarray(Isign), Vedge=jnp.asarray(Vedge))
    np.testing.assert_allclose(mism.output(jnp.asarray(V1), jnp.asarray(V2)),
                               sign_numpy(V1, V2, Isign, Vedge, c.get("Voff1", 0.0),
                                          c.get("Voff", 0.0), c.get("Ioff", 0.0)),
                               rtol=1e-12, atol=1e-18)
    # the netlist's expression is the same function
    text = str(law.output(Expr("v(a)"), Expr("v(b)"), m=SPICE))
    assert "tanh(" in text and repr(c["Vedge"]) in text and repr(c["Isign"]) in text


def test_sign_law_currents_have_the_products_sign_and_Isign_away_from_the_edge(rng):
    law = SignMultiplier()
    V1, V2 = rng.uniform(-1, 1, 2000), rng.uniform(-1, 1, 2000)
    I = np.asarray(law.output(jnp.asarray(V1), jnp.asarray(V2)))
    assert np.all(np.sign(I) == np.sign(V1 * V2))  # everywhere, the edge included
    away = (np.abs(V1) > 20 * law.Vedge) & (np.abs(V2) > 20 * law.Vedge)  # tanh(20) = 1 - 8e-18
    assert away.sum() > 1000
    np.testing.assert_allclose(np.abs(I[away]), law.Isign, rtol=1e-12)
    assert np.all(np.abs(I) <= law.Isign)


def test_the_sign_law_in_the_charge_role_steers_a_fixed_current(rng):
    """In the circuit each weight's charging current has the sign of the ideal (backprop)
    one, and the magnitude Keta Vteach Isign / Km (the current read through 1/Km) where
    its delta and input are away from the edge."""
    sizes = (2, 3, 2)
    cfg = aann.Config(network={"sizes": list(sizes)},
                      blocks={"multiplier": {"charge": {"law": "sign", "Vedge": "0.1mV"}}})
    circuit, ideal = aann.build_circuit(cfg), aann.build_circuit(aann.Config(
        network={"sizes": list(sizes)}))
    W = aann.random_weights(sizes, 5)
    x, y = jnp.asarray([0.3, -0.8]), jnp.asarray([0.9, 0.1])
    I, _ = circuit.charging_currents(W, x, y, 1.0)
    I0, _ = ideal.charging_currents(W, x, y, 1.0)
    law = circuit.multipliers["charge"]
    n_away = 0
    for a, b in zip(I, I0):
        a, b = np.asarray(a), np.asarray(b)  # b = -Keta Vteach Vdelta_j x_i, x_0 = Vbias = 1 V
        assert np.all(np.sign(a) == np.sign(b))
        Vdelta, xs = -b[:, :1], b / b[:, :1]
        away = (np.abs(Vdelta) > 20 * law.Vedge) & (np.abs(xs) > 20 * law.Vedge)
        n_away += away.sum()
        Keta, Vteach = 1.0, 1.0
        np.testing.assert_allclose(np.abs(a[away]), Keta * Vteach * law.Isign / law.Km, rtol=1e-12)
    assert n_away >= 12


def test_constant_derivative_is_its_numpy_transcription(rng):
    law = ConstantDerivative()
    assert law.Vd0 == 0.25  # the sigmoid derivative's maximum, Kd/4 at Inet = 0
    assert float(aann.Derivative().Vd(jnp.asarray(0.0))) == law.Vd0
    Inet = rng.uniform(-5e-4, 5e-4, (4, 3))
    np.testing.assert_array_equal(law.Vd(jnp.asarray(Inet)), np.full((4, 3), 0.25))
    Vd0 = rng.uniform(0.2, 0.3, 3)  # per neuron (mismatch)
    np.testing.assert_array_equal(
        dataclasses.replace(law, Vd0=jnp.asarray(Vd0)).Vd(jnp.asarray(Inet)),
        np.broadcast_to(Vd0, (4, 3)))
    # in the netlist a DC value
    assert str(ConstantDerivative(Vd0=0.3).Vd(Expr("v(inet)/10000.0"), m=SPICE)) == "0.3"


# --- the constant derivative's update ----------------------------------------------------

def backprop_numpy(W, x, y, Vd0, rate=1e13, Vteach=1.0):
    """dVw/dt of backprop with f' replaced by the constants ``Vd0`` (per layer, a scalar or
    one per neuron); the default blocks (1 V as the unit, Keta / C = 1e13 1/s)."""
    inputs, a = [], np.asarray(x, float)
    for Wl in W:
        xin = np.concatenate([[1.0], a])
        inputs.append(xin)
        a = 1 / (1 + np.exp(-(np.asarray(Wl) @ xin)))
    VE, out = a - y, [None] * len(W)
    for l in reversed(range(len(W))):
        delta = VE * Vd0[l]
        out[l] = -rate * Vteach * np.outer(delta, inputs[l])
        VE = np.asarray(W[l])[:, 1:].T @ delta
    return out


@pytest.mark.parametrize("sizes", [(2, 3, 2), (3, 4, 3, 2)])
def test_the_constant_derivative_update_is_backprop_with_a_constant_fprime(sizes, rng):
    cfg = aann.Config(network={"sizes": list(sizes)},
                      blocks={"derivative": {"law": "constant", "Vd0": "0.2V"}},
                      mismatch={"derivative.Vd0": "10%"})
    W = aann.random_weights(sizes, 2)
    x, y = rng.uniform(0, 1, sizes[0]), rng.uniform(0.1, 0.9, sizes[-1])
    for sample in (None, 4):
        circuit = aann.build_circuit(cfg, sample=sample)
        Vd0 = [np.asarray(circuit.block("derivative", l).Vd0) for l in range(len(W))]
        if sample is not None:
            assert Vd0[0].shape == (sizes[1],) and np.std(Vd0[0]) > 0
        got = circuit.dVw_dt(W, jnp.asarray(x), jnp.asarray(y), 0.7)
        want = backprop_numpy(W, x, y, [v if v.ndim else float(v) for v in Vd0], Vteach=0.7)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max())


def test_a_small_step_run_is_per_row_sgd_with_a_constant_fprime():
    """One epoch at lambda = 1e-6 changes the weights as per-row SGD with f' = Vd0 does,
    within 1e-6 of the change (measured 4e-8: O(lambda))."""
    cfg = aann.Config(network={"sizes": [2, 3, 2]}, blocks=CONSTANT,
                      training={"dataset": "xor", "t_row": 1e-19, "epochs": 1, "seeds": 1})
    assert cfg.lam == pytest.approx(1e-6)
    r = aann.train(cfg, dataset=XOR2)
    W = [np.asarray(w[0]) for w in r.W_init]
    for k in range(4):  # the rows in order (training.order = "sequential")
        step = backprop_numpy(W, XOR2.X[k], XOR2.Y[k], [0.25, 0.25], rate=1.0)
        W = [w + cfg.lam * s for w, s in zip(W, step)]
    change = [np.asarray(w[0]) - w0 for w, w0 in zip(r.W_final, (np.asarray(w[0])
                                                                 for w in r.W_init))]
    want = [w - np.asarray(w0[0]) for w, w0 in zip(W, r.W_init)]
    scale = max(np.abs(w).max() for w in want)
    assert scale > 1e-8
    assert max(np.abs(a - b).max() for a, b in zip(change, want)) < 1e-6 * scale


# --- bandwidth, mismatch, keys -------------------------------------------------------------

def test_the_constant_derivative_has_no_pole_and_the_others_still_work(rng):
    """A pole on a DC voltage filters nothing: the law has no f3dB, Vd never lags; the
    other poles (the forward summing node's reads the sense resistor Ru) work as before."""
    with pytest.raises(aann.ValidationError, match='derivative.f3dB is read only by .*"sigmoid"'
                                                   '.*this section\'s law is "constant"'):
        aann.Config(blocks={"derivative": {"law": "constant", "f3dB": "40THz"}})
    poles = {"activation": {"f3dB": "5THz"}, "multiplier": {"f3dB": "10THz"}}
    cfg = aann.Config(network={"sizes": [2, 3, 2]}, blocks={**CONSTANT, **poles},
                      training={"dataset": "xor", "epochs": 2, "seeds": 1})
    circuit = aann.build_circuit(cfg)
    lagged = circuit.lagged()
    assert lagged == (("u", "Vout", "VE", "Vdelta", "Vgrad"),
                      ("u", "Vout", "Vdelta", "Vgrad"))  # no Vd
    assert circuit.pole_f3dB(0, "Vd") == 0.0
    W = aann.random_weights((2, 3, 2), 1)
    x, y = jnp.asarray([0.0, 1.0]), jnp.asarray([0.9, 0.1])
    settled = circuit.settle(W, x, y, 1.0, lagged)
    dW, dlags = circuit.d_dt((W, settled), x, y, 1.0)
    for a, b in zip(dW, circuit.dVw_dt(W, x, y, 1.0)):  # settled: the instantaneous field
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert all(np.all(np.asarray(v) == 0) for d in dlags for v in d.values())  # at rest
    text, _ = aann.netlist(cfg, dataset=XOR2)
    assert "Bvd vd 0 V=0.25" in text and "Cu inet 0 " in text and "Rlag_vd " not in text


def test_mismatch_draws_the_new_constants_per_instance():
    cfg = aann.Config(network={"sizes": [2, 3, 2]},
                      blocks={**CONSTANT, **SIGN},
                      mismatch={"derivative.Vd0": "5%", "multiplier.charge.Isign": "5%",
                                "multiplier.charge.Vedge": "1mV"})
    c = aann.build_circuit(cfg, sample=1)
    assert np.shape(c.block("derivative", 0).Vd0) == (3,)
    charge = c.block("multiplier.charge", 1)
    assert np.shape(charge.Isign) == (2, 4) and np.shape(charge.Vedge) == (2, 4)
    assert np.std(charge.Isign) > 0 and np.std(c.block("derivative", 1).Vd0) > 0
    text, _ = aann.netlist(cfg, seed=1, dataset=XOR2)
    Vd0 = float(c.block("derivative", 0).Vd0[2])
    assert f"Bvd vd 0 V={Vd0!r}" in text  # neuron 3 of layer 2 has its own DC value


def test_keys_of_the_new_laws_are_refused_when_the_law_is_not_chosen():
    for over, message in [
            ({"derivative": {"Vd0": "0.3V"}}, 'derivative.Vd0 is read only by law "constant"'),
            ({"multiplier": {"Isign": "1uA"}}, 'multiplier.Isign is read only by law "sign"'),
            ({"multiplier": {"charge": {"Vedge": "1mV"}}},
             'multiplier.charge.Vedge is read only by law "sign"')]:
        with pytest.raises(aann.ValidationError, match=message):
            aann.Config(blocks=over)
    with pytest.raises(aann.ValidationError, match='mismatch."derivative.Vd0" is drawn only'):
        aann.Config(mismatch={"derivative.Vd0": "5%"})
    # the generated strict-keys cases include them
    from test_strict_keys import LAW_CASES, MISMATCH_CASES
    cases = {c[:3] for c in LAW_CASES}
    assert {("derivative", "sigmoid", "Vd0"), ("derivative", "constant", "Ru"),
            ("derivative", "constant", "f3dB"), ("multiplier", "ideal", "Isign"),
            ("multiplier", "parasitic", "Vedge"), ("multiplier", "sign", "KI")} <= cases
    assert {c[2] for c in MISMATCH_CASES} >= {"derivative.Vd0", "multiplier.charge.Isign"}


# --- both engines --------------------------------------------------------------------------

def _both_engines(cfg, **kw):
    s = aann.train(cfg, engine="ngspice", dataset=XOR2, **kw)
    assert s.engine_info.t_edge == edge_time(cfg.training.t_row, 0.0)
    n = aann.train(cfg.replace(training={"t_edge": s.engine_info.t_edge}, solver=TIGHT),
                   dataset=XOR2, **kw)
    dW = max(np.abs(a - b).max() for a, b in zip(s.W_epoch, n.W_epoch))
    moved = max(np.abs(a - b).max() for a, b in zip(s.W_final, s.W_init))
    return dW, moved, n


def _config(blocks, mismatch):
    return aann.Config(network={"sizes": [2, 3, 2]}, blocks=blocks, mismatch=mismatch,
                       training={"dataset": "xor", "epochs": 10, "seeds": 2})


@pytest.mark.ngspice
def test_the_constant_derivative_runs_alike_on_both_engines_within_1mV():
    """2-3-2 on XOR, a Monte Carlo sample (Vd0 per neuron)."""
    cfg = _config(CONSTANT, {"seed": 3, "derivative.Vd0": "10%"})
    W = [aann.random_weights((2, 3, 2), 3)]
    dW, moved, n = _both_engines(cfg, init_weights=W, samples=[2])
    sigmoid = aann.train(cfg.replace(blocks={"derivative": {"law": "sigmoid"}}, mismatch={}),
                         engine="ngspice", dataset=XOR2, init_weights=W)
    effect = max(np.abs(a - b).max() for a, b in zip(n.W_final, sigmoid.W_final))
    print(f"2-3-2 constant Vd: ngspice - native {dW:.3g} V; moved {moved:.3g} V; "
          f"constant - sigmoid derivative {effect:.3g} V")
    assert dW < 1e-3 and moved > 1e-2 and effect > 1e-2


@pytest.mark.ngspice
def test_the_sign_law_runs_alike_on_both_engines_within_1mV():
    """2-3-2 on XOR, the charge role a comparator pair with input offsets, a Monte Carlo
    sample of Isign and Vedge."""
    cfg = _config({"multiplier": {"charge": {"law": "sign", "Voff1": "1mV", "Voff": "-2mV"}}},
                  {"seed": 3, "multiplier.charge.Isign": "5%", "multiplier.charge.Vedge": "5%"})
    W = [aann.random_weights((2, 3, 2), 3)]
    dW, moved, n = _both_engines(cfg, init_weights=W, samples=[2])
    print(f"2-3-2 sign charge law: ngspice - native {dW:.3g} V; moved {moved:.3g} V")
    assert dW < 1e-3 and moved > 1e-2
