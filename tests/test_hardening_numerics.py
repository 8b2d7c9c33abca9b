"""Numerical corner cases of the native engine: an implicit solver on fixed steps, a row
edge shorter than the time resolution, and the step-error check of solvers without an
embedded error estimate."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import aann
from aann.engines import native


def xor(solver=None, **training):
    return aann.Config(training={"seeds": 2, **training}, solver=solver or {})


def max_diff(a, b):
    return max(np.abs(x - y).max() for x, y in zip(a.W_final, b.W_final))


def test_kvaerno5_on_fixed_steps_agrees_with_tsit5():
    kv = aann.train(xor({"method": "kvaerno5", "steps": 8}, epochs=5))
    ts = aann.train(xor({"method": "tsit5", "steps": 8}, epochs=5))
    assert max_diff(kv, ts) < 1e-6
    assert kv.diverged_reason == [None, None]
    assert np.all(kv.step_error < 1e-6)


def test_kvaerno5_on_fixed_steps_records_waveforms_like_the_fast_path():
    cfg = xor({"method": "kvaerno5", "steps": 8}, epochs=2)
    assert max_diff(aann.train(cfg, waveforms=True), aann.train(cfg)) < 1e-9


def test_a_row_edge_below_the_time_resolution_is_an_ideal_edge():
    """Tsit5 at 8 steps a row (the resolution does not depend on the steps): the program
    test_kvaerno5_on_fixed_steps_agrees_with_tsit5 compiled."""
    tsit5 = {"method": "tsit5", "steps": 8}
    tiny = aann.train(xor(tsit5, epochs=3, t_row=0.1e-12, t_edge=1e-30))
    ideal = aann.train(xor(tsit5, epochs=3, t_row=0.1e-12, t_edge=0.0))
    assert all(np.all(np.isfinite(w)) for w in tiny.W_final)
    assert max_diff(tiny, ideal) < 1e-12
    assert tiny.diverged_reason == [None, None]
    assert tiny.engine_info.t_edge == 0.0


@pytest.mark.parametrize("method", ["tsit5", "euler", "kvaerno5"])
def test_a_segment_of_zero_length_leaves_the_weights_unchanged(method):
    p = aann.prepare(xor(epochs=1))
    W = tuple(jnp.asarray(w) for w in p.W0)
    X, Y = p.schedule.dataset.X, p.schedule.dataset.Y
    s0 = (jnp.asarray(X[[0, 0]]), jnp.asarray(Y[[0, 0]]), jnp.ones(2))
    s1 = (jnp.asarray(X[[1, 1]]), jnp.asarray(Y[[1, 1]]), jnp.ones(2))
    t = jnp.asarray(1e-13)
    solver = aann.Solver(method=method, steps=4)
    y = (W, native.settled_lags(p.circuit, W, s0))  # the state: weights, no poles

    @jax.jit  # compiled as the engine runs it: one compile, not one per operation
    def segment(y, t0, t1, s0, s1):
        return native._segment(p.circuit, y, t0, t1, s0, s1, solver, 0, batch=None)

    (W1, _), _, ok, err, _ = segment(y, t, t, s0, s1)
    assert all(np.array_equal(a, b) for a, b in zip(W, W1))
    assert np.all(ok) and np.all(np.asarray(err) == 0)


def test_euler_at_lambda_50_with_few_steps_is_flagged_by_step_doubling():
    r = aann.train(xor({"method": "euler", "steps": 8}, epochs=3, t_row="5ps"))
    assert r.diverged_reason == [aann.Divergence.STEP_ERROR] * 2


def test_euler_at_lambda_1_with_64_steps_is_not_flagged():
    r = aann.train(xor({"method": "euler", "steps": 64}, epochs=3))
    assert r.diverged_reason == [None, None]
    assert np.all(r.step_error > 0)  # an estimate was made, and it is small
    assert np.all(r.step_error < 1e-4)


def test_heun_at_lambda_50_with_few_steps_is_flagged_by_its_embedded_estimate():
    r = aann.train(xor({"method": "heun", "steps": 8}, epochs=3, t_row="5ps"))
    assert r.diverged_reason == [aann.Divergence.STEP_ERROR] * 2
