"""The digital baseline is the circuit's network: same sigmoid, same bias convention,
and the ideal circuit tends to per-row SGD as lambda -> 0 (SPEC section 2)."""

import numpy as np
import pytest

import aann
from aann import digital

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def _flat(W):
    return np.concatenate([np.asarray(w).ravel() for w in W])


def test_circuit_at_small_lambda_equals_per_row_sgd():
    """From the same weights, one epoch of the circuit at lambda = 1e-3 and one epoch of
    per-row SGD at lr = 1e-3 change the weights alike within 0.1 % of the change itself
    (the stronger check: relative to the weights it would be ~1e-7)."""
    cfg = aann.Config().replace(training={"t_row": 1e-16, "epochs": 1, "seeds": 3})
    assert cfg.lam == pytest.approx(1e-3)
    circuit = aann.train(cfg)
    for b in range(3):
        W0 = [w[b] for w in circuit.W_init]
        sgd = digital.sgd_jax(W0, XOR_X, XOR_Y, cfg.lam, 1)
        d_circuit = _flat(w[b] for w in circuit.W_final) - _flat(W0)
        d_sgd = _flat(sgd.W_final) - _flat(W0)
        rel = np.linalg.norm(d_circuit - d_sgd) / np.linalg.norm(d_sgd)
        assert rel < 1e-3, rel
        assert np.max(np.abs(d_circuit - d_sgd)) < 1e-3 * np.max(np.abs(d_sgd))


def test_difference_shrinks_like_lambda_squared():
    """The per-epoch difference circuit - SGD is O(lambda^2): 10x smaller lambda, ~100x."""
    diffs = []
    for t_row in (1e-15, 1e-16):
        cfg = aann.Config().replace(training={"t_row": t_row, "epochs": 1, "seeds": 1})
        r = aann.train(cfg)
        W0 = [w[0] for w in r.W_init]
        sgd = digital.sgd_jax(W0, XOR_X, XOR_Y, cfg.lam, 1)
        diffs.append(np.linalg.norm(_flat(w[0] for w in r.W_final) - _flat(sgd.W_final)))
    assert 50 < diffs[0] / diffs[1] < 200


def test_jax_mse_is_the_circuit_mse():
    """The digital forward pass is the ideal circuit's output (default constants)."""
    W = aann.random_weights((2, 8, 1), 3)
    run = digital.sgd_jax(W, XOR_X, XOR_Y, 0.0, 1)  # lr = 0: weights unchanged
    circuit = aann.build_circuit(aann.Config())
    assert run.mse[0] == pytest.approx(float(circuit.mse(W, XOR_X, XOR_Y)), rel=1e-12)
    for a, b in zip(run.W_final, W):
        np.testing.assert_array_equal(a, b)


def test_torch_loop_equals_jax():
    pytest.importorskip("torch")
    W = aann.random_weights((2, 5, 5, 1), 1)
    j = digital.sgd_jax(W, XOR_X, XOR_Y, 0.7, 20)
    t = digital.sgd_torch(W, XOR_X, XOR_Y, 0.7, 20, dtype="float64", with_mse=True)
    for a, b in zip(j.W_final, t.W_final):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(j.mse, t.mse, rtol=1e-10)
    assert t.framework == "pytorch" and t.device == "cpu"


def test_torch_hint_names_the_extra():
    assert 'pip install "aann[digital]"' in digital.TORCH_HINT
