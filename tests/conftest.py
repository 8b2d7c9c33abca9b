"""Shared fixtures. JAX runs in float64 (aann enables it on import)."""

import numpy as np
import pytest

import aann


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_circuit_weights(sizes, rng, scale=1.0):
    """Random weights of every layer, shapes (n_out, n_in + 1), in V."""
    return tuple(rng.uniform(-scale, scale, (b, a + 1)) for a, b in zip(sizes[:-1], sizes[1:]))


@pytest.fixture
def xor_config():
    return aann.Config()
