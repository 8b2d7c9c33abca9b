"""The small-step limit (SPEC section 2): one row of the circuit is one SGD step
of rate lambda up to O(lambda^2); finite row edges tend to ideal ones."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import aann
from aann.datasets import Dataset

X1, Y1 = np.array([[1.0, 0.0]]), np.array([[1.0]])  # one XOR row


def one_row(t_row, **solver):
    cfg = aann.Config(training=aann.Training(epochs=1, seeds=1, t_row=t_row),
                      solver=aann.Solver(**solver))
    return aann.train(cfg, dataset=Dataset("one-row", X1, Y1))


def sgd_step(r):
    """W - lambda * dE/dW, E = 1/2 sum (Vout - Vtarget)^2, gradient by jax.grad."""
    circuit = aann.build_circuit(r.config)
    W0 = tuple(jnp.asarray(w[0]) for w in r.W_init)
    grad = jax.grad(lambda W: 0.5 * jnp.sum((circuit.output(W, X1[0]) - Y1[0]) ** 2))(W0)
    return [w - r.config.lam * g for w, g in zip(W0, grad)]


def distance_to_sgd(t_row):
    r = one_row(t_row, steps=64)
    return max(np.abs(np.asarray(a) - b[0]).max() for a, b in zip(sgd_step(r), r.W_final))


def test_one_row_is_one_sgd_step_up_to_lambda_squared():
    d2, d3 = distance_to_sgd(1e-15), distance_to_sgd(1e-16)  # lambda = 1e-2, 1e-3
    order = np.log10(d2 / d3)
    assert 1.8 < order < 2.2, (d2, d3, order)
    assert d2 < 1e-3  # and the O(lambda^2) term is small: |dW| <= 10 lambda^2


def test_lambda_is_keta_over_c_times_vteach_times_t_row():
    cfg = aann.Config(training=aann.Training(t_row="0.1ps", Vteach="0.5V"))
    assert np.isclose(cfg.lam, 0.5)


@pytest.mark.slow
def test_tiny_edge_time_tends_to_ideal_edges():
    def run(t_edge):
        cfg = aann.Config(training=aann.Training(epochs=5, seeds=2, t_edge=t_edge))
        return aann.train(cfg).W_final

    ideal = run(0.0)
    tiny, short = run(1e-19), run(1e-15)  # t_row = 1e-13
    d_tiny = max(np.abs(a - b).max() for a, b in zip(ideal, tiny))
    d_short = max(np.abs(a - b).max() for a, b in zip(ideal, short))
    assert d_tiny < 1e-6
    assert d_tiny < d_short / 100
