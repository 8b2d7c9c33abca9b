"""Facts of the circuit (SPEC sections 1-2): the ideal circuit computes the exact gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_circuit_weights

import aann
from aann.circuit import Circuit

SHAPES = [(2, 3, 2), (2, 8, 1), (3, 4, 3, 2), (1, 2, 1), (4, 5, 4, 3, 2)]


def error_energy(W, x, y, circuit):
    """E = 1/2 sum (Vout - Vtarget)^2 (Eq. 2), through the forward pass only."""
    return 0.5 * jnp.sum((circuit.output(W, x) - y) ** 2)


@pytest.mark.parametrize("sizes", SHAPES)
def test_ideal_circuit_field_is_minus_keta_over_c_times_autodiff_gradient(sizes, rng):
    circuit = aann.build_circuit(aann.Config(network=aann.Network(sizes)))
    Keta_over_C = circuit.charging.Keta / circuit.charging.C
    for _ in range(3):
        W = tuple(jnp.asarray(w) for w in random_circuit_weights(sizes, rng, 2.0))
        x, y = rng.uniform(-1, 1, sizes[0]), rng.uniform(0, 1, sizes[-1])
        field = circuit.dVw_dt(W, x, y, 1.0)
        grad = jax.grad(error_energy)(W, x, y, circuit)
        for f, g in zip(field, grad):
            np.testing.assert_allclose(f, -Keta_over_C * g, rtol=1e-10,
                                       atol=1e-10 * Keta_over_C * np.abs(g).max())


def test_vteach_scales_the_field_linearly(rng):
    circuit = aann.build_circuit(aann.Config())
    W = tuple(jnp.asarray(w) for w in random_circuit_weights((2, 8, 1), rng))
    x, y = np.array([1.0, 0.0]), np.array([1.0])
    f1 = circuit.dVw_dt(W, x, y, 1.0)
    f05 = circuit.dVw_dt(W, x, y, 0.5)
    for a, b in zip(f1, f05):
        np.testing.assert_allclose(b, 0.5 * a, rtol=1e-14)


def test_vteach_zero_gives_exactly_zero_current(rng):
    circuit = aann.build_circuit(aann.Config(blocks=aann.Blocks(
        multiplier={"law": "parasitic", "Voff": 0.05})))
    W = tuple(jnp.asarray(w) for w in random_circuit_weights((2, 8, 1), rng))
    for f in circuit.dVw_dt(W, np.array([1.0, 0.0]), np.array([1.0]), 0.0):
        assert np.all(np.asarray(f) == 0.0)


@pytest.mark.parametrize("sizes, n", [((2, 3, 2), 17), ((2, 8, 1), 33), ((1, 2, 1), 7)])
def test_capacitor_count(sizes, n):
    assert aann.Network(sizes).n_capacitors == n


def test_derivative_block_equals_dvout_dnet_with_defaults():
    c = Circuit(sizes=(1, 1))
    Inet = jnp.linspace(-2e-3, 2e-3, 101)
    Km = c.multiplier.Km
    dVout_dnet = jax.vmap(jax.grad(lambda i: c.activation.Vout(i)))(Inet) * Km
    np.testing.assert_allclose(c.derivative.Vd(Inet), dVout_dnet, rtol=1e-12, atol=1e-15)


def test_derivative_block_does_not_overflow():
    c = Circuit(sizes=(1, 1))
    assert np.all(np.isfinite(c.derivative.Vd(jnp.array([-1.0, 1.0, 1e3]))))


def test_parasitic_multiplier_tends_to_ideal_for_small_products():
    ideal = aann.IdealMultiplier()
    para = aann.ParasiticMultiplier(KI=200e-6, Voff=0.0)
    v = jnp.linspace(-0.01, 0.01, 11)
    np.testing.assert_allclose(para.current(v, v), ideal.current(v, v), rtol=1e-6, atol=1e-20)
    assert abs(float(para.current(100.0, 100.0))) <= 200e-6
