"""Shared fixtures. JAX runs in float64 (aann enables it on import)."""

import os
import signal
import sqlite3
import subprocess
import time

import numpy as np
import pytest

# --- one thread per worker -------------------------------------------------------------
# Under pytest-xdist with a worker per core (`make test`: 2 on 2 cores), XLA's thread
# pool and ngspice's OpenMP threads in each worker wait on cores the other worker holds:
# a simulation ran 1.4x (XLA) to 1.7x (ngspice with the SkyWater BSIM4 models) slower
# than on one thread. Each worker (and each process its tests start) runs one XLA thread
# then (ngspice runs one always: aann.cells.models.THREADS). Set before aann (JAX) is
# imported: XLA reads XLA_FLAGS once.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
ONE_THREAD = _WORKERS > 1 and _WORKERS >= (os.cpu_count() or 1)
if ONE_THREAD and "xla_cpu_multi_thread_eigen" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + " --xla_cpu_multi_thread_eigen=false").strip()

import aann  # noqa: E402

# --- one run's caches, shared by its workers ---------------------------------------------
# A test session (the pytest process, or with pytest-xdist its controller) makes one
# folder for the run, AANN_TEST_CACHE, which its workers and the processes the tests
# start inherit, and removes it at the end: every run starts empty.
# - JAX's persistent compilation cache: a module whose simulations another module (or an
#   `aann` subprocess) already compiled loads the executable XLA compiled for the same
#   program instead of compiling it again (_release_compiled_code below drops compiled
#   code after every module).
# - ngspice with the SkyWater models (aann.cells): a netlist already run in this session,
#   with the same .spiceinit and ngspice, gives the plots of that run instead of running
#   again; a failed run is never kept. tests/test_cells.py, tests/test_cells_cosim.py,
#   the transistor reproduction and `reproduce all` characterize the same cells: ngspice
#   runs each sweep once, a lock per netlist making the second worker wait for the first.

_CACHE_ENV = "AANN_TEST_CACHE"
_OWNED_CACHE = []


def _run_cache_dir() -> str:
    """This run's cache folder, made by the first process of the run (see above)."""
    path = os.environ.get(_CACHE_ENV)
    if not path or not os.path.isdir(path):
        import tempfile

        path = tempfile.mkdtemp(prefix="aann-test-cache-")
        os.environ[_CACHE_ENV] = path
        _OWNED_CACHE.append(path)
    return path


def _enable_jax_cache(root: str) -> None:
    import jax

    settings = {"jax_compilation_cache_dir": os.path.join(root, "jax"),
                "jax_persistent_cache_min_compile_time_secs": 0}
    for name, value in settings.items():
        os.environ[name.upper()] = str(value)  # the `aann` processes tests start
        jax.config.update(name, value)


def _share_sky130_runs(root: str) -> None:
    """Wrap the ngspice call of aann.cells.models.run_with_models (see above)."""
    import fcntl
    import hashlib
    import pickle
    from pathlib import Path

    from aann.cells import models
    from aann.engines.spice.ngspice import find_ngspice

    run = models.run_ngspice
    if getattr(run, "_shared", False):
        return
    folder = os.path.join(root, "sky130-ngspice")
    os.makedirs(folder, exist_ok=True)

    def shared_run(netlist, workdir=None, name="net", timeout=3600, executable=None,
                   keep=False):
        spiceinit = Path(workdir) / ".spiceinit" if workdir is not None else None
        if spiceinit is None or keep or not spiceinit.is_file():
            return run(netlist, workdir=workdir, name=name, timeout=timeout,
                       executable=executable, keep=keep)
        exe = find_ngspice(executable)  # a missing ngspice still fails as it would
        key = hashlib.sha256("\0".join(
            [netlist, name, spiceinit.read_text(), exe]).encode()).hexdigest()
        kept = os.path.join(folder, key + ".pickle")
        with open(os.path.join(folder, key + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the other worker may be running it
            if os.path.exists(kept):
                with open(kept, "rb") as f:
                    return pickle.load(f)
            plots = run(netlist, workdir=workdir, name=name, timeout=timeout,
                        executable=executable)
            if sum(p.data.nbytes for p in plots) < 2**25:  # not a long transient's
                with open(kept + ".tmp", "wb") as f:
                    pickle.dump(plots, f)
                os.replace(kept + ".tmp", kept)
            return plots

    shared_run._shared = True
    models.run_ngspice = shared_run


def pytest_configure(config):
    root = _run_cache_dir()
    _enable_jax_cache(root)
    _share_sky130_runs(root)
    _dist_loadfile(config)


def pytest_unconfigure(config):
    import shutil

    while _OWNED_CACHE:
        shutil.rmtree(_OWNED_CACHE.pop(), ignore_errors=True)


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
# each module. `-n N` alone would mean `--dist load`, which splits files
# between workers: it is made `loadfile` here; an explicit other --dist is refused.

def _dist_loadfile(config):
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # the order below, not xdist's
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


# --- the slowest files first ------------------------------------------------------------
# xdist gives a worker its next file when it is almost through its last one. By default
# the files with the most tests come first; the slowest files have few tests, so they
# came last and one worker ran them while the other sat idle. Here the files go slowest
# first (the longest-processing-time rule: short ones fill in at the end), by the seconds
# each took in the last whole run (.pytest_cache), or, for a file that run did not see
# (a fresh clone), FILE_SECONDS, or DEFAULT_SECONDS.

FILE_SECONDS = {  # measured: make test on a fresh clone, 2 cores (load 2-3)
    "test_cells_cosim.py": 230, "test_experiments_transistor.py": 107,
    "test_nonideal.py": 89, "test_cancellation.py": 81, "test_bandwidth.py": 71,
    "test_examples.py": 71, "test_experiments_cancellation.py": 67,
    "test_spice_engine.py": 59, "test_nonideal_spice.py": 59,
    "test_experiments_limits.py": 57, "test_montecarlo.py": 46,
    "test_experiments_tasks.py": 44, "test_task_accuracy.py": 44,
    "test_hardening_numerics.py": 43, "test_experiments_offsets.py": 42,
    "test_energy.py": 39, "test_sweep.py": 38, "test_cells.py": 34, "test_engines.py": 32,
    "test_experiments_energy.py": 28, "test_results_api.py": 26,
    "test_hardening_inputs.py": 23, "test_experiments_parasitic.py": 23,
    "test_rules.py": 22, "test_spice_benchmark.py": 22, "test_cells_glue.py": 21,
    "test_outputs.py": 20, "test_rule_variants.py": 20, "test_cells_chopped.py": 30,
    "test_cells_multiplier_lm.py": 20, "test_cells_integrator.py": 16,
}
DEFAULT_SECONDS = 10.0
_SECONDS_KEY = "aann/file_seconds"


def _file_of(nodeid: str) -> str:
    return nodeid.split("::")[0].rsplit("/", 1)[-1]


def pytest_collection_modifyitems(config, items):
    seconds = dict(FILE_SECONDS)
    if getattr(config, "cache", None) is not None:
        seconds.update(config.cache.get(_SECONDS_KEY, {}))
    items.sort(key=lambda item: -seconds.get(_file_of(item.nodeid), DEFAULT_SECONDS))


_took: dict = {}


def pytest_runtest_logreport(report):
    _took[_file_of(report.nodeid)] = _took.get(_file_of(report.nodeid), 0.0) + report.duration


def pytest_sessionfinish(session):
    """The whole suite's run (no paths given), in the process that saw every file, keeps
    each file's seconds for the next run's order."""
    config = session.config
    if (hasattr(config, "workerinput") or getattr(config, "cache", None) is None
            or config.args_source != pytest.Config.ArgsSource.TESTPATHS or not _took):
        return
    config.cache.set(_SECONDS_KEY, {**config.cache.get(_SECONDS_KEY, {}),
                                    **{k: round(v, 1) for k, v in _took.items()}})


def pytest_report_header(config):
    if getattr(config.option, "numprocesses", None) and config.option.dist != "no":
        return f"xdist: --dist {config.option.dist} (each test file in one worker)"
