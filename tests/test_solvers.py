"""The unrolled solvers of the fast path step as the diffrax solvers they replace."""

import diffrax
import jax
import numpy as np
import pytest

import aann
from aann.engines import native
from aann.engines.solvers import unrolled
from aann.spec import Solver


@pytest.mark.parametrize("method", ["tsit5", "dopri5", "dopri8", "heun"])
def test_unrolled_steps_equal_diffrax_steps(method):
    rng = np.random.default_rng(3)
    B = 5
    W = tuple(rng.uniform(-1, 1, (B, *s)) for s in aann.Network((2, 8, 1)).weight_shapes)
    x, y = rng.uniform(0, 1, (B, 2)), rng.uniform(0, 1, (B, 1))
    term = diffrax.ODETerm(native._batched_field(None))
    # the state: weights and the lagged outputs of a pole on every activation
    circuit = aann.build_circuit(aann.Config(blocks={"activation": {"f3dB": 1e12}}))
    W = (W, native.settled_lags(circuit, W, (x, y, np.ones(B))))
    args = (circuit, 0.0, 1e-13, (x, y, np.ones(B)), (x, y, np.ones(B)))
    theirs = native._method(Solver(method=method), 5e-14)
    ours = native._method(Solver(method=method), 5e-14, fast=True)
    assert type(ours).__name__ == f"Unrolled{type(theirs).__name__}"
    state_a, state_b = theirs.init(term, 0.0, 1e-13, W, args), ours.init(term, 0.0, 1e-13, W, args)
    Wa, Wb = W, W
    for t0 in (0.0, 5e-14):  # two steps: the second starts from the first's FSAL state
        Wa, err_a, _, state_a, ok_a = theirs.step(term, t0, t0 + 5e-14, Wa, args, state_a, False)
        Wb, err_b, _, state_b, ok_b = ours.step(term, t0, t0 + 5e-14, Wb, args, state_b, False)
        assert ok_a == ok_b == diffrax.RESULTS.successful
        for a, b in zip(jax.tree.leaves((Wa, err_a)), jax.tree.leaves((Wb, err_b))):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
    moved = max(np.abs(a - w).max() for a, w in zip(Wa[0], W[0]))
    assert moved > 1e-3  # the steps did something


def test_a_solver_without_a_tableau_is_left_as_it_is():
    assert unrolled(diffrax.Euler) is diffrax.Euler
    assert unrolled(diffrax.Kvaerno5) is diffrax.Kvaerno5
