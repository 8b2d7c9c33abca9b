"""Multiplier roles, offsets and per-instance mismatch (Monte Carlo samples)."""

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import aann
from aann.blocks import ROLES
from aann.circuit import instance_shapes

REFERENCE = Path(__file__).parent / "data" / "nominal_reference.npz"


# --- nominal circuits are unchanged -------------------------------------------------

def _reference_configs():
    """The runs of tests/data/nominal_reference.npz, written by the tree before
    multiplier roles, offsets and mismatch existed."""
    return {
        "ideal": aann.Config(training={"epochs": 20, "seeds": 3}),
        "parasitic": aann.Config(training={"epochs": 20, "seeds": 3}, blocks={
            "multiplier": {"law": "parasitic", "Voff": "10mV", "KI": "500uA"}}),
    }


def test_nominal_circuits_equal_the_tree_before_roles():
    """Every role spelled out with zero offsets and sigmas is the plain description bit
    for bit, and both are the tree before roles existed to 1e-12 V: the engine's
    compiled code has rounded differently since (with the default 2 steps a row
    unrolled, by up to 1.7e-15 V), the circuit has not changed."""
    ref = np.load(REFERENCE)
    for name, cfg in _reference_configs().items():
        law = cfg.blocks.multiplier.law
        explicit = cfg.replace(
            blocks={"multiplier": {r: {"law": law, "Voff1": "0mV", "Ioff": "0A"}
                                   for r in ROLES}, "error": {"Voff": "0V"}},
            mismatch={"multiplier.Km": "0%", "C": "0%", "activation.Iref": "0%"})
        r, e = aann.train(cfg), aann.train(explicit)
        for l, (w, we) in enumerate(zip(r.W_final, e.W_final)):
            assert np.array_equal(w, we), (name, l)
            np.testing.assert_allclose(w, ref[f"{name}_W{l}"], rtol=0, atol=1e-12)
        assert np.array_equal(r.mse, e.mse), name
        np.testing.assert_allclose(r.mse, ref[f"{name}_mse"], rtol=0, atol=1e-12)


# --- each role alone, against a direct computation -----------------------------------

def _ideal(Km):
    return lambda V1, V2: Km * V1 * V2


def _parasitic(Km, KI, Voff1=0.0, Voff=0.0, Ioff=0.0):
    return lambda V1, V2: KI * np.tanh(Km * (V1 + Voff1) * (V2 + Voff) / KI) + Ioff


def direct_currents(W, vin, vtarget, vteach, law, Km=1e-4, Iref=1e-4, Kd=1.0, Keta=1.0,
                    R_E=1e4, K_E=1e-4, Voff_error=0.0):
    """Icharged of every capacitor, from the paper's equations written out with numpy,
    ``law[role](V1, V2)`` the current of each multiplier role."""
    xs, Vds, a = [], [], np.asarray(vin, float)
    for Wl in W:
        x = np.concatenate([[1.0], a])
        Inet = sum(law["forward"](Wl[:, i], x[i]) for i in range(x.size))
        a = 1.0 / (1.0 + np.exp(-Inet / Iref))  # Eq. 6, Vamp = 1 V
        u = Inet / Iref  # Ru = 1/Iref, Vref = 1 V
        Vds.append(Kd * np.exp(u) / (np.exp(u) + 1) ** 2)  # Eq. 7
        xs.append(x)
    VE = a - vtarget + Voff_error
    out = [None] * len(W)
    for l in reversed(range(len(W))):
        Vdelta = law["delta"](VE, Vds[l]) / Km
        Vgrad = law["charge"](Vdelta[:, None], xs[l][None, :]) / Km
        out[l] = -Keta * vteach * Vgrad
        if l > 0:
            VE = R_E * K_E * np.sum(law["type2"](Vdelta[:, None], W[l][:, 1:]) / Km, axis=0)
    return out


@pytest.mark.parametrize("role", ROLES)
def test_each_role_alone_is_its_own_block(role, rng):
    sizes = (2, 3, 2)
    W = tuple(rng.uniform(-2, 2, (b, a + 1)) for a, b in zip(sizes[:-1], sizes[1:]))
    vin, vtarget = np.array([0.7, -0.4]), np.array([0.9, 0.1])
    para = {"law": "parasitic", "KI": "30uA", "Voff1": "20mV", "Voff": "-30mV", "Ioff": "1uA"}
    cfg = aann.Config(network={"sizes": list(sizes)}, blocks={"multiplier": {role: para}})
    got, _ = aann.build_circuit(cfg).charging_currents(
        tuple(jnp.asarray(w) for w in W), jnp.asarray(vin), jnp.asarray(vtarget), 1.0)
    law = {r: _ideal(1e-4) for r in ROLES}
    law[role] = _parasitic(1e-4, 30e-6, 0.02, -0.03, 1e-6)
    want = direct_currents(W, vin, vtarget, 1.0, law)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-20)
    # parasitic on this role alone differs from all ideal and from all parasitic
    ideal = direct_currents(W, vin, vtarget, 1.0, {r: _ideal(1e-4) for r in ROLES})
    every = direct_currents(W, vin, vtarget, 1.0,
                            {r: _parasitic(1e-4, 30e-6, 0.02, -0.03, 1e-6) for r in ROLES})
    for other in (ideal, every):
        assert max(np.abs(g - o).max() / np.abs(o).max() for g, o in zip(got, other)) > 1e-3


def test_offsets_sit_where_declared():
    m = aann.ParasiticMultiplier(Km=2e-4, KI=1e-4, Voff1=0.01, Voff=-0.02, Ioff=3e-7)
    V1, V2 = jnp.array([0.3, -1.0]), jnp.array([0.5, 0.2])
    want = 1e-4 * np.tanh(2e-4 * (V1 + 0.01) * (V2 - 0.02) / 1e-4) + 3e-7
    np.testing.assert_allclose(m.output(V1, V2), want, rtol=1e-12)
    np.testing.assert_allclose(m.product(V1, V2), want / 2e-4, rtol=1e-12)
    ideal = aann.IdealMultiplier(Voff1=0.01, Voff=-0.02, Ioff=3e-7)
    M, v = jnp.array([[0.3, -1.0, 2.0]]), jnp.array([1.0, 0.5, 0.2])
    by_one = jnp.sum(ideal.output(M, v[None, :]), axis=-1)  # multiplier by multiplier
    np.testing.assert_allclose(ideal.row_currents(M, v), by_one, rtol=1e-12)
    by_one = jnp.sum(ideal.output(v[:, None], M.T), axis=0)  # vector on input 1
    np.testing.assert_allclose(ideal.column_currents(v, M.T), by_one, rtol=1e-12)
    assert float(aann.OutputError(Voff=0.005).VE(0.7, 0.2)) == pytest.approx(0.505)


def test_the_error_offset_moves_what_the_output_learns():
    """With VE = Vout - Vtarget + Voff the network settles where VE = 0: its output is
    Vtarget - Voff (two-row data set, 1-2-1, t_row = 1 ps: converged in 300 epochs).
    Both offsets train in one engine call (one compile), network b with offset b."""
    base = aann.Config(network={"sizes": [1, 2, 1]},
                       training={"dataset": "two-row", "epochs": 300, "seeds": 1,
                                 "t_row": "1ps"})
    data = aann.load_dataset("two-row")
    offsets = (0.0, 0.05)
    configs = [base.replace(blocks={"error": {"Voff": voff}}) for voff in offsets]
    r = aann.train_variants([aann.Variant(cfg, seed=0) for cfg in configs])
    for b, (voff, cfg) in enumerate(zip(offsets, configs)):
        W = tuple(jnp.asarray(w[b]) for w in r.W_final)
        out = np.array([aann.build_circuit(cfg).output(W, jnp.asarray(x)) for x in data.X])
        np.testing.assert_allclose(out - data.Y, -voff, rtol=0, atol=1e-6)


# --- mismatch -------------------------------------------------------------------------

MISMATCH = {"seed": 7, "multiplier.Km": "3%", "multiplier.charge.Voff1": "2mV",
            "activation.Iref": "2%", "derivative.Kd": "2%", "C": "1%", "error.Voff": "1mV",
            "type2.R_E": "1%"}


def _instances(prepared, b):
    import jax

    return jax.tree.map(lambda x: np.asarray(x)[b], prepared.circuit.instances)


@pytest.fixture(scope="module")
def thousand():
    """1000 Monte Carlo samples of MISMATCH, prepared once for the tests that read them."""
    cfg = aann.Config(mismatch=MISMATCH, training={"epochs": 1, "seeds": 1000})
    return cfg, aann.prepare(cfg)


def test_a_sample_draws_the_same_constants_alone_or_in_any_batch(thousand):
    cfg, big = thousand
    ten = aann.prepare(cfg.replace(training={"seeds": 10}))
    moved = aann.prepare(cfg.replace(training={"seeds": 4}), samples=[9, 3, 500, 999])
    assert big.circuit_batched and big.samples == tuple(range(1000))
    for k, batch, b in [(3, ten, 3), (3, moved, 1), (9, moved, 0), (500, moved, 2),
                        (999, moved, 3), (999, big, 999)]:
        alone = aann.build_circuit(cfg, sample=k).instances
        got = _instances(batch, b)
        for layer_a, layer_g in zip(alone, got):
            assert layer_a.keys() == layer_g.keys()
            for block in layer_a:
                for name in layer_a[block]:
                    assert np.array_equal(layer_a[block][name], layer_g[block][name])
    for k in (0, 3, 9):
        alone = aann.build_circuit(cfg, sample=k).instances
        assert all(np.array_equal(alone[l][blk][n], _instances(big, k)[l][blk][n])
                   for l in range(2) for blk in alone[l] for n in alone[l][blk])


def test_the_drawn_spread_matches_sigma_and_every_instance_draws_its_own(thousand):
    inst = thousand[1].circuit.instances
    checks = [("multiplier.forward", "Km", 1e-4 * 0.03), ("multiplier.charge", "Km", 1e-4 * 0.03),
              ("multiplier.charge", "Voff1", 2e-3), ("activation", "Iref", 1e-4 * 0.02),
              ("derivative", "Kd", 0.02), ("charging", "C", 1e-13 * 0.01)]
    for block, name, sigma in checks:
        values = np.asarray(inst[0][block][name])  # (1000, instances...)
        std = values.std(axis=0, ddof=1)
        assert np.all(np.abs(std / sigma - 1) < 0.1), (block, name, std.min(), std.max())
        flat = values.reshape(1000, -1)
        if flat.shape[1] > 1:  # instances of one sample differ from each other
            assert np.all(np.ptp(flat, axis=1) > 0)
    # the roles without their own sigma for Voff1 draw none; shapes as documented
    assert "Voff1" not in inst[0]["multiplier.forward"]
    shapes = instance_shapes((2, 8, 1))
    for l, layer in enumerate(inst):
        for block, values in layer.items():
            for v in values.values():
                assert v.shape == (1000, *shapes[l][block])
    assert inst[1]["error"]["Voff"].shape == (1000, 1)
    assert inst[1]["type2"]["R_E"].shape == (1000, 8)


def test_a_sample_trains_as_the_same_circuit_alone():
    """3 networks: the nominal run is then the program of the nominal 'ideal' run of
    test_nominal_circuits_equal_the_tree_before_roles (3 networks, one epoch a call)."""
    cfg = aann.Config(mismatch=MISMATCH, training={"epochs": 5, "seeds": 3})
    batch = aann.train(cfg)
    alone = aann.train(cfg, init_weights=[aann.random_weights((2, 8, 1), 2)],
                       circuit=aann.build_circuit(cfg, sample=2))
    nominal = aann.train(cfg.replace(mismatch={k: "0%" if k != "seed" and "%" in str(v) else
                                               ("0mV" if k != "seed" else v)
                                               for k, v in MISMATCH.items()}))
    for a, b in zip(batch.W_final, alone.W_final):
        np.testing.assert_allclose(a[2], b[0], rtol=0, atol=1e-12)
    assert max(np.abs(a - b).max() for a, b in zip(batch.W_final, nominal.W_final)) > 1e-4


@pytest.mark.parametrize("section, match", [
    ({"multiplier.Kx": "3%"}, "unknown key 'multiplier.Kx'"),
    ({"multiplier.Km": "-3%"}, "percentage >= 0"),
    ({"multiplier.Voff": "2A"}, "mismatch"),
    ({"multiplier.Voff": "-2mV"}, "standard deviation"),
    ({"multiplier.Voff": "5%"}, "nominal value is 0"),
    ({"seed": -1}, "mismatch.seed"),
    ({"Vbias": "1%"}, "unknown key"),
])
def test_bad_mismatch_sections_are_refused(section, match):
    with pytest.raises(aann.ValidationError, match=match):
        aann.Config(mismatch=section)


def test_a_sigma_too_wide_for_a_positive_constant_is_refused():
    cfg = aann.Config(mismatch={"C": "60%"}, training={"seeds": 50})
    with pytest.raises(aann.ValidationError, match="too wide"):
        aann.prepare(cfg)


def test_role_sections_are_validated_and_round_trip(tmp_path):
    with pytest.raises(aann.ValidationError, match=r"blocks\.multiplier\.charge\.law"):
        aann.Config(blocks={"multiplier": {"charge": {"law": "cubicle"}}})
    with pytest.raises(aann.ValidationError, match=r"\[blocks\.multiplier\.delta\]"):
        aann.Config(blocks={"multiplier": {"delta": {"Kx": 1}}})
    (tmp_path / "c.toml").write_text(
        '[blocks.multiplier]\nlaw = "parasitic"\nKI = "300uA"\n'
        '[blocks.multiplier.type2]\nlaw = "ideal"\nVoff1 = "3mV"\n'
        '[mismatch]\nseed = 4\n"multiplier.type2.Km" = "1%"\n"C" = "0.5fF"\n')
    cfg = aann.load_toml(tmp_path / "c.toml")
    c = aann.build_circuit(cfg)
    assert type(c.multipliers["type2"]) is aann.IdealMultiplier
    assert c.multipliers["type2"].Voff1 == pytest.approx(3e-3)
    assert type(c.multipliers["charge"]) is aann.ParasiticMultiplier
    assert c.multipliers["charge"].KI == pytest.approx(3e-4)
    again = aann.spec.from_dict(cfg.to_dict())
    assert again == cfg and again.mismatch.sigmas["C"] == (pytest.approx(0.5e-15), False)
