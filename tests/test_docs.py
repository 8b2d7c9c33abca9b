"""The documentation site (mkdocs.yml, docs/) builds with ``mkdocs build --strict``
without a warning, and its generated pages come from the code: the TOML reference from
the declarations, the examples from examples/*.py with the output of a real run, the
API reference from the docstrings, the figures from real runs (docs/make_figures.py),
the equations as MathML. The built site is checked like code: no broken internal link
or image, nothing loaded from the network, every figure and equation in place; and the
README, now a newcomer's page, lost nothing of the manual it held (it moved here).

The site is built once per session of this module (the ``site`` fixture)."""

import hashlib
import html
import importlib.util
import json
import os
import posixpath
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import aann

ROOT = Path(__file__).resolve().parent.parent


def _helper(name: str):
    """docs/<name>.py as a module (docs/ is no package)."""
    key = f"aann_docs_{name}_t"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, ROOT / "docs" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[key]


def _hooks():
    return _helper("hooks")


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


def _pages(site) -> dict[str, str]:
    """Every built page's HTML by its path below the site (``model/index.html``)."""
    return {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8")
            for p in site.rglob("*.html")}


def _sources() -> dict[str, str]:
    """Every page's Markdown source by its path below docs/."""
    docs = ROOT / "docs"
    return {p.relative_to(docs).as_posix(): p.read_text(encoding="utf-8")
            for p in docs.rglob("*.md")}


def _built(src: str) -> str:
    """The built page of a source page: ``model.md`` -> ``model/index.html``."""
    stem = src[:-3]
    if stem == "index":
        return "index.html"
    if stem.endswith("/index"):
        return stem + ".html"
    return stem + "/index.html"


def test_the_site_builds_strict_without_warnings(site):
    pages = _pages(site)
    for src in _sources():
        assert _built(src) in pages, src
    for name in ("hooks.py", "make_figures.py", "run_examples.py"):
        assert not (site / name).exists()
    for page, text in pages.items():
        assert "<!-- aann:" not in text, page
        assert "AANNMATH" not in text, page


_LINK = re.compile(r'<(a|img|link|script|source)\b[^>]*?\b(href|src)="([^"]*)"', re.S)


def test_no_broken_internal_link_or_image_and_nothing_from_the_network(site):
    """Every link and image of every built page that points into the site reaches a
    file (and an anchor that exists); images, scripts and styles are all local."""
    pages = _pages(site)
    ids = {page: set(re.findall(r'\bid="([^"]+)"', text)) for page, text in pages.items()}
    broken, remote = [], []
    for page, text in pages.items():
        if page == "404.html":  # served from the root: its links start with /
            continue
        for tag, attr, url in _LINK.findall(text):
            parts = urlsplit(html.unescape(url))
            if parts.scheme or parts.netloc:
                if tag != "a":
                    remote.append(f"{page}: <{tag} {attr}={url}>")
                continue
            if not parts.path:
                target = page
            else:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(page),
                                                           unquote(parts.path)))
                if (site / target).is_dir():
                    target = posixpath.join(target, "index.html")
                if not (site / target).is_file():
                    broken.append(f"{page}: {url}")
                    continue
            if parts.fragment and target in ids and unquote(parts.fragment) not in ids[target]:
                broken.append(f"{page}: {url} (no such anchor)")
    assert broken == []
    assert remote == []


def test_every_page_shows_the_figures_it_names(site):
    """Each figure marker of a page's source became an image whose file is in the site,
    with the caption of its sidecar (command, reduced or full, commit)."""
    sidecars = {p.parent.name: json.loads(p.read_text())
                for p in (ROOT / "docs" / "figures").glob("*/figures.json")}
    shown = set()
    marker = re.compile(r"<!-- aann:(figures?) ([^ >]+) -->")
    hooks = _hooks()
    for src, text in _sources().items():
        markers = []  # outside code: a marker shown as code is not one
        hooks.outside_code(text, lambda t, found=markers: found.extend(marker.findall(t)) or t)
        page = (site / _built(src)).read_text(encoding="utf-8")
        images = set(re.findall(r'<img[^>]*\bsrc="([^"]+)"', page))
        here = posixpath.dirname(_built(src))
        found = {posixpath.normpath(posixpath.join(here, unquote(i))) for i in images}
        for kind, ref in markers:
            name = ref.split("/")[0]
            meta = sidecars[name]
            figs = meta["figures"]
            if kind == "figure":
                wanted = ref.split("/", 1)[1]
                figs = [f for f in figs if f["source"] == wanted or f["file"] == wanted]
                assert figs, f"{src}: {ref}"
            for f in figs:
                path = f"figures/{name}/{f['file']}"
                assert path in found, f"{src} does not show {path}"
                assert (site / path).is_file(), path
                shown.add(path)
            assert meta["commit"] in page and meta["commands"][0] in html.unescape(page)
    # every committed figure is shown somewhere, and each is small (screen resolution)
    for name, meta in sidecars.items():
        for f in meta["figures"]:
            assert f"figures/{name}/{f['file']}" in shown, f"{name}/{f['file']} is shown nowhere"
            size = (ROOT / "docs" / "figures" / name / f["file"]).stat().st_size
            assert size == f["bytes"] and size < 150_000, (name, f["file"], size)


def test_every_reproduce_command_has_its_figures_on_a_page(site):
    """Each ``aann reproduce`` command (but ``all``) has a figure entry in
    docs/make_figures.py, its figures committed, and at least one of them on a page."""
    from aann.experiments.cli import reproduce_app

    figures = _helper("make_figures")
    entries = {e.name for e in figures.ENTRIES}
    commands = [c.name or c.callback.__name__ for c in reproduce_app.registered_commands]
    built = "\n".join(_pages(site).values())
    for cmd in commands:
        if cmd == "all":
            continue
        assert cmd in entries, (f"`aann reproduce {cmd}` has no entry in docs/make_figures.py "
                                f"ENTRIES: add one, then `make docs-figures NAMES={cmd}`")
        meta = json.loads((ROOT / "docs" / "figures" / cmd / "figures.json").read_text())
        assert meta["commands"][0].startswith(f"aann reproduce {cmd}")
        assert any(f"figures/{cmd}/{f['file']}" in built for f in meta["figures"]), cmd
    reproduce = (site / "reproduce" / "index.html").read_text(encoding="utf-8")
    for cmd in ("fig8", "xor", "parasitic", "speed", "offsets", "limits", "transistor",
                "tasks", "rules"):
        assert f'src="../figures/{cmd}/' in reproduce, cmd
    cells = (site / "cells" / "index.html").read_text(encoding="utf-8")
    for fig in ("transistor_cells", "transistor_cosim", "transistor_tt_multiplier_fit"):
        assert f"figures/transistor/{fig}." in cells, fig
    assert "figures/montecarlo/final_mse_histogram." in \
        (site / "montecarlo" / "index.html").read_text(encoding="utf-8")
    assert "figures/sweep/" in (site / "sweeps" / "index.html").read_text(encoding="utf-8")


def _display_equations(markdown: str) -> int:
    hooks = _hooks()
    return sum(len(re.findall(r"\$\$(.+?)\$\$", part, re.S))
               for is_code, part in hooks.fenced_parts(markdown) if not is_code)


def test_every_equation_is_mathml(site):
    """Every ``$$...$$`` of a page is a MathML block in the built page, numbered where it
    carries the paper's number; no LaTeX is left as text; the model page gives the
    paper's equations as math, none as a code block."""
    total = 0
    for src, text in _sources().items():
        n = _display_equations(text)
        page = (site / _built(src)).read_text(encoding="utf-8")
        blocks = re.findall(r'<div class="aann-eq"[^>]*>(.*?)</div>', page, re.S)
        assert len(blocks) == n, src
        assert all(b.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" '
                                'display="block">') for b in blocks), src
        prose = re.sub(r"<code>.*?</code>", "", _without_code(page), flags=re.S)
        assert "$$" not in prose, src
        left = re.findall(r"\$[^$\s<][^$<]*\$", prose)  # inline LaTeX left as text
        assert left == [], (src, left[:3])
        total += n
    assert total >= 20
    model = (site / "model" / "index.html").read_text(encoding="utf-8")
    for number in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "14",
                   "15", "17"):
        assert f'id="eq-{number}"' in model, number
    assert 'class="language-text' not in model
    assert "integral_{t0..t}" not in model and "Inet_j = sum_{i=0..N}" not in model
    assert model.count("<math ") >= 30  # display and inline


def _without_code(page: str) -> str:
    return re.sub(r"<pre.*?</pre>", "", page, flags=re.S)


def test_equation_conversion_leaves_code_alone():
    hooks = _hooks()
    md = ("Text $x_i$ and `$not math$`.\n\n$$\nI = K_m V_1 V_2 \\tag{5}\n$$\n\n"
          "```sh\necho $$ $HOME\n```\n")
    out, store = hooks.math_to_tokens(md)
    assert "`$not math$`" in out and "echo $$ $HOME" in out
    assert len(store) == 2
    # inline math over a line break is one equation; a blank line ends a paragraph
    assert len(hooks.math_to_tokens("a $x +\ny$ b")[1]) == 1
    assert hooks.math_to_tokens("costs $5\n\nand $6 more")[1] == {}
    (block_token, block), (_, inline) = sorted(store.items(), key=lambda kv: "<div" not in kv[1])
    assert inline.startswith("<math") and 'display="inline"' in inline
    assert 'id="eq-5"' in block and '<span class="aann-eq-no">(5)</span>' in block
    html_text = hooks.tokens_to_math(f"<p>{block_token}</p>", store)
    assert html_text.startswith('<div class="aann-eq"')


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
        assert script.name in page
        assert f"examples/{script.name}" in _page(site, f"examples/{script.stem}")
    assert "aann.montecarlo(cfg, SAMPLES" in _page(site, "examples/05_montecarlo_yield")
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


def test_every_example_page_shows_the_output_of_a_run_of_the_current_file(site):
    """Each example has its page (in the navigation) with its code, under each code
    cell what a run of the file as it is now printed (the kept run's sha256 is the
    file's), and at least one figure the run wrote, present in the site."""
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for script in sorted((ROOT / "examples").glob("[0-9][0-9]_*.py")):
        assert f"- examples/{script.stem}.md" in nav, script.name
        run = json.loads((ROOT / "docs" / "examples" / "runs" / script.stem / "run.json")
                         .read_text(encoding="utf-8"))
        assert run["sha256"] == hashlib.sha256(script.read_bytes()).hexdigest(), script.name
        html_page = (site / "examples" / script.stem / "index.html").read_text(encoding="utf-8")
        text = _page(site, f"examples/{script.stem}")
        printed = [c["stdout"] for c in run["cells"] if c["stdout"].strip()]
        assert printed, script.name
        assert html_page.count('class="aann-output"') == len(printed), script.name
        for out in printed:
            for line in out.strip().splitlines()[:3]:
                assert line.strip() in text, (script.name, line)
        figures = [f["file"] for c in run["cells"] for f in c["figures"]]
        assert figures, f"{script.name} writes no figure"
        for fig in figures:
            assert f'src="../runs/{script.stem}/{fig}"' in html_page, (script.name, fig)
            assert (site / "examples" / "runs" / script.stem / fig).is_file()
        assert run["sha256"][:12] in text and "Executed" in text


# --- the README: a newcomer's page; the manual it held lives on the site ---------------

OLD_README = ROOT / "tests" / "data" / "readme_before_the_site.md"
# Each section of the README before the manual moved to the site (tests/data), and the
# page(s) that hold it now.
MOVED = {
    "What it is": ["index"],
    "Quick start": ["train"],
    "Engines": ["engines"],
    "Real tasks: data sets, held-out accuracy, baselines": ["tasks"],
    "Monte Carlo": ["montecarlo"],
    "Sweeps": ["sweeps"],
    "Transistor-level cells (SkyWater 130 nm)": ["cells"],
    "Adding a block law": ["extending"],
    "Adding a metric or a learning rule": ["extending"],
    "The TOML description": ["toml"],
    "`aann train`": ["train"],
    "Errors and limits": ["errors"],
    "Outputs (in `--out DIR`, default `aann-out/`; every file written atomically)": ["train"],
    "Results in Python and notebooks": ["train"],
    "Modelling choices": ["model"],
    "Speed": ["engines"],
    "Documentation and examples": ["index", "examples"],
    "More": ["index"],
}


def _old_sections() -> dict[str, str]:
    text = OLD_README.read_text(encoding="utf-8")
    heads = list(re.finditer(r"^## (.+)$", text, re.M))
    return {m.group(1): text[m.end():heads[k + 1].start() if k + 1 < len(heads) else None]
            for k, m in enumerate(heads)}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_the_readme_is_a_newcomers_page():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= 200
    assert lines[:3] == ["# aann", "", "```sh"]
    assert lines[3].startswith("make demo   # ") and lines[4].startswith("make test   # ")
    # its links into docs/ and its figure exist
    for target in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / target).is_file(), target
    assert "](docs/figures/demo/learning_curves.png)" in text
    # the figure is `make demo`'s run: the figure entry runs the Makefile's command
    demo = next(e for e in _helper("make_figures").ENTRIES if e.name == "demo")
    args = demo.commands[0]
    cut = args.index("--out")
    command = "aann " + " ".join(args[:cut] + args[cut + 2:])
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"$(BIN)/{command} --out demo-out" in makefile


def test_every_section_of_the_old_readme_is_on_the_site(site):
    """The README held the whole manual; each of its sections moved to a page: every
    section maps to pages that hold each of its code spans (keys, commands, files,
    names) and, as text, each of its code blocks' lines (but the defaults block, which
    the TOML page writes from the code, tested above). A section missing from MOVED
    fails here; so does a name the code has since renamed: then update the fixture."""
    sections = _old_sections()
    assert set(sections) == set(MOVED)
    missing = []
    for title, body in sections.items():
        pages = _norm(" ".join(_page(site, p) if p != "index" else
                               html.unescape(re.sub(r"<[^>]+>", "", (site / "index.html")
                                                    .read_text(encoding="utf-8")))
                               for p in MOVED[title]))
        spans = set(re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", body, flags=re.S)))
        lines = {ln.strip() for lang, block in re.findall(r"```([a-z]*)\n(.*?)```", body, re.S)
                 if lang != "toml" or title != "The TOML description"
                 for ln in block.splitlines() if ln.strip()}
        for item in sorted(spans | lines):
            if _norm(item) not in pages:
                missing.append(f"{title}: {item}")
    assert missing == []
