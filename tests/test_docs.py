"""The documentation site (mkdocs.yml, docs/) builds with ``mkdocs build --strict``
without a warning, and its generated pages come from the code: the TOML reference from
the declarations, the examples from examples/*.py, the API reference from the docstrings."""

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import aann

ROOT = Path(__file__).resolve().parent.parent


def _hooks():
    spec = importlib.util.spec_from_file_location("aann_docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    text = done.stdout + done.stderr
    assert done.returncode == 0, text[-6000:]
    warnings = [line for line in text.splitlines()
                if "WARNING" in line or "ERROR" in line]
    assert warnings == [], "\n".join(warnings)
    return out


def _page(site, name) -> str:
    """A page's text: tags removed (code is split into highlighted spans), entities read."""
    text = (site / name / "index.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def test_the_site_builds_strict_without_warnings(site):
    for page in ["index.html", "model/index.html", "toml/index.html", "engines/index.html",
                 "api/index.html", "examples/index.html", "reproduce/index.html",
                 "spice/index.html", "sweeps/index.html"]:
        assert (site / page).is_file(), page
    assert not (site / "hooks.py").exists()
    for page in ["index.html", "model/index.html", "toml/index.html", "engines/index.html",
                 "examples/index.html"]:
        assert "<!-- aann:" not in (site / page).read_text(encoding="utf-8")


def test_toml_page_is_generated_from_the_declarations(site):
    page = _page(site, "toml")
    for line in aann.spec.default_toml().splitlines():
        if line.strip():
            assert line.split("#")[0].strip() in page, line
    assert "charging conductance" in page
    assert "parasitic" in page and "ParasiticMultiplier" in page


def test_toml_reference_follows_a_new_law():
    """A law registered at run time appears in the generated reference by itself."""
    hooks = _hooks()
    assert aann.spec.default_toml().rstrip() in hooks.toml_reference()
    from aann import blocks

    @aann.register_law("multiplier", "docs_test_cubic")
    class Cubic(aann.Multiplier):
        K3docs: float = aann.param(0.0, shown_unit="A/V^6", doc="cubic term for the docs test")

        def current(self, V1, V2, m=None):
            return self.Km * V1 * V2

    try:
        text = hooks.toml_reference()
        assert "K3docs" in text and "cubic term for the docs test" in text
        assert "docs_test_cubic" in text
    finally:
        del blocks.LAWS["multiplier"]["docs_test_cubic"]


def test_examples_and_api_are_rendered(site):
    page = _page(site, "examples")
    for script in sorted((ROOT / "examples").glob("[0-9][0-9]_*.py")):
        assert f"examples/{script.name}" in page
    assert "aann.montecarlo(cfg, SAMPLES" in page  # code, not run
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ["aann.train.train", "aann.Config", "aann.Results", "aann.montecarlo.montecarlo",
                 "aann.netlist", "aann.Native", "aann.Ngspice", "aann.blocks",
                 "aann.characterize", "aann.Characterization", "aann.TableMultiplier",
                 "aann.OffsetActivation", "aann.cells.cosim.run_cosim"]:
        assert f'id="{name}"' in api, name


def test_every_public_name_is_in_the_api_reference(site):
    """Each name of ``aann.__all__`` has its own entry, or is a member of a module
    documented whole (the block laws under ``aann.blocks``)."""
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'id="(aann\.[^"]+)"', api))
    missing = [name for name in aann.__all__
               if not any(i == f"aann.{name}" or i.endswith(f".{name}") for i in ids)]
    assert missing == [], missing


def test_percent_script_conversion():
    hooks = _hooks()
    src = ("# ---\n# jupyter:\n#   x: 1\n# ---\n\n# %% [markdown]\n# # Title\n#\n# Text.\n"
           "# ## Part\n\n# %%\nx = 1\n\n\n# %%\nprint(x)\n")
    md = hooks.percent_to_markdown(src, "99_t.py")
    assert md.startswith("## Title\n\n*Source: `examples/99_t.py`*")
    assert "### Part" in md
    assert "```python\nx = 1\n```" in md and "```python\nprint(x)\n```" in md
    assert "jupyter" not in md
