"""One engine interface: engines as objects with typed options, one run type,
one summary, a law registry both engines read, and engines below the API."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import aann
from aann import blocks

SRC = Path(aann.__file__).parent
SMALL = aann.Config(network={"sizes": [1, 2, 1]},
                    training={"dataset": "two-row", "epochs": 4, "seeds": 2})
STEPS = {"steps": 5}
"""The native solver of the runs whose solver does not matter to the test: one compiled
program (the one test_engine_options_change_the_run runs) for all of them."""


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module a source file imports (relative ones resolved)."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            names.add(base)
            names |= {f"{base}.{a.name}" for a in node.names}
    return names


def test_no_engine_imports_the_api_above_it():
    files = sorted((SRC / "engines").rglob("*.py"))
    assert len(files) >= 6
    for path in files:
        bad = {m for m in imported_modules(path)
               if m in ("aann.train", "aann.cli", "aann.export", "aann.experiments")
               or m.startswith(("aann.train.", "aann.cli.", "aann.experiments."))}
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"
    # the walker does see relative imports
    assert "aann.engines.base" in imported_modules(SRC / "engines" / "native.py")


def test_an_option_the_engine_lacks_is_refused_by_name():
    with pytest.raises(aann.ValidationError, match="workers"):
        aann.train(SMALL, engine="native", workers=4)
    with pytest.raises(aann.ValidationError, match="bogus"):
        aann.Ngspice(bogus=1)
    with pytest.raises(aann.ValidationError, match="workers"):
        aann.Ngspice(workers=0)
    with pytest.raises(aann.ValidationError, match="beside the engine object"):
        aann.train(SMALL, engine=aann.Native(), solver={"steps": 4})
    with pytest.raises(aann.ValidationError, match="unknown engine 'spectre'"):
        aann.train(SMALL, engine="spectre")


def test_engine_options_change_the_run():
    """``Native(solver=...)`` replaces the description's solver, recorded in the results."""
    assert aann.Config().solver.steps != 5
    r = aann.train(SMALL, engine=aann.Native(solver=STEPS))
    assert r.engine_info.settings["solver"]["steps"] == 5
    same = aann.train(SMALL.replace(solver=STEPS))
    np.testing.assert_array_equal(r.W_final[0], same.W_final[0])
    assert aann.Ngspice(reltol=1e-9, workers=3).options.reltol == 1e-9


def test_a_stimulus_on_ngspice_is_refused_not_run_natively():
    wave = aann.Waveform(time=np.array([0.0, 1e-13]), Vin=np.zeros((2, 1)),
                         Vtarget=np.ones((2, 1)), Vteach=np.ones(2))
    with pytest.raises(aann.ValidationError, match="ngspice engine cannot apply a PWL"):
        aann.train(SMALL, stimulus=wave, engine="ngspice")
    with pytest.raises(aann.ValidationError, match="ngspice engine cannot apply a PWL"):
        aann.simulate(SMALL, wave, engine="ngspice")
    with pytest.raises(aann.ValidationError, match="cannot checkpoint"):
        aann.train(SMALL, engine="ngspice", checkpoint="x.npz")


@pytest.mark.ngspice
def test_summary_has_the_same_keys_for_every_engine(tmp_path):
    def keys(d, prefix=""):
        out = set()
        for k, v in d.items():
            out.add(prefix + k)
            if isinstance(v, dict) and k not in ("engine_settings",):
                out |= keys(v, f"{prefix}{k}.")
            if k == "networks":
                out |= keys(v[0], "networks[].")
        return out

    summaries = {}
    for engine in ("native", "ngspice"):  # ngspice has no solver of the description's
        aann.train(SMALL.replace(solver=STEPS), engine=engine).save(tmp_path / engine,
                                                                    plots=False)
        summaries[engine] = json.loads((tmp_path / engine / "summary.json").read_text())
    assert keys(summaries["native"]) == keys(summaries["ngspice"])
    assert summaries["ngspice"]["engine_version"].startswith("ngspice")
    assert summaries["ngspice"]["t_edge"] > 0 and summaries["native"]["t_edge"] == 0
    assert len(summaries["ngspice"]["process_seconds"]) == 2
    assert summaries["native"]["process_seconds"] is None


# --- a law added from outside: a few lines, registered by name ----------------------

class CubicMultiplier(blocks.Multiplier):
    """``I = Km p + K3 p^3`` with ``p = V1 V2``: a multiplier with a cubic distortion."""

    K3: float = aann.param(0.0, shown_unit="A/V^6", doc="cubic term")

    def current(self, V1, V2, m=jnp):
        p = V1 * V2
        return self.Km * p + self.K3 * p * p * p


@pytest.fixture
def cubic_law():
    aann.register_law("multiplier", "cubic")(CubicMultiplier)
    yield CubicMultiplier
    del blocks.LAWS["multiplier"]["cubic"]


CUBIC_TOML = """
[network]
sizes = [1, 2, 1]
[blocks.multiplier]
law = "cubic"
K3 = "-3e-5"
[training]
dataset = "two-row"
epochs = 4
seeds = 2
"""


def test_a_registered_law_works_from_toml_and_in_the_netlist(tmp_path, cubic_law):
    (tmp_path / "c.toml").write_text(CUBIC_TOML)
    cfg = aann.load_toml(tmp_path / "c.toml")
    circuit = aann.build_circuit(cfg)
    assert isinstance(circuit.multiplier, cubic_law) and circuit.multiplier.K3 == -3e-5
    assert "K3" in aann.spec.default_toml()
    cubic = aann.train(cfg.replace(solver=STEPS))
    ideal = aann.train(cfg.replace(blocks={"multiplier": {"law": "ideal"}}, solver=STEPS))
    assert not np.allclose(cubic.W_final[0], ideal.W_final[0])  # the law is used
    text, _ = aann.netlist(cfg)
    assert "-3e-05" in text  # K3 in the B-source expressions
    with pytest.raises(aann.ValidationError, match="'cubic'"):  # gone after the test
        del blocks.LAWS["multiplier"]["cubic"]
        aann.build_circuit(cfg)
    aann.register_law("multiplier", "cubic")(CubicMultiplier)


@pytest.mark.ngspice
def test_a_registered_law_runs_alike_on_both_engines(tmp_path, cubic_law):
    (tmp_path / "c.toml").write_text(CUBIC_TOML)
    cfg = aann.load_toml(tmp_path / "c.toml")
    s = aann.train(cfg, engine="ngspice")
    tight = {"stepping": "adaptive", "method": "dopri8", "rtol": 1e-10, "atol": 1e-12}
    n = aann.train(cfg.replace(training={"t_edge": s.engine_info.t_edge}, solver=tight))
    dW = max(np.abs(a - b).max() for a, b in zip(s.W_epoch, n.W_epoch))
    assert dW < 1e-3
    assert max(np.abs(a - b).max() for a, b in zip(s.W_final, s.W_init)) > 1e-2


def test_a_conflicting_declaration_is_refused(cubic_law):
    class Other(blocks.Multiplier):
        K3: float = aann.param(1.0, "V", doc="something else")

        def current(self, V1, V2, m=jnp):
            return self.Km * V1 * V2

    with pytest.raises(ValueError, match="K3"):
        aann.register_law("multiplier", "other")(Other)


# --- the setup contract ----------------------------------------------------------

def test_required_ngspice_that_is_missing_fails_with_the_install_hint(tmp_path):
    env = {**os.environ, "AANN_NGSPICE": str(tmp_path / "no-ngspice"),
           "AANN_REQUIRE_NGSPICE": "1"}
    test = "tests/test_spice_netlist.py::test_broken_netlist_names_the_line"
    root = Path(__file__).parents[1]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           test], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "AANN_REQUIRE_NGSPICE=1" in proc.stdout and "apt-get install ngspice" in proc.stdout
    env.pop("AANN_REQUIRE_NGSPICE")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-rs", test], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and "1 skipped" in proc.stdout, proc.stdout[-2000:]
