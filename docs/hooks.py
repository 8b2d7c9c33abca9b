"""MkDocs hooks: the generated parts of the documentation.

Markers in the pages are replaced at build time, so these parts come from the code
and cannot drift from it:

* ``<!-- aann:toml-reference -->`` (toml.md): every key with its default, unit and
  meaning, from the declarations (``aann.spec.default_toml()`` and the block laws);
* ``<!-- aann:figure NAME/FILE -->`` and ``<!-- aann:figures NAME -->``: a figure (every
  figure) of the figure set NAME that ``make docs-figures`` made (docs/make_figures.py),
  with a caption from its sidecar: the command, reduced or full, the commit, the date;
* ``<!-- aann:example NN_name.py -->`` (docs/examples/*.md): the example as text and
  code, each code cell followed by the output and the figures of a real run of the
  current file (docs/run_examples.py; :func:`on_pre_build` runs an example again when
  the file changed since its kept run).

Equations: ``$$ LaTeX \\tag{N} $$`` on lines of their own and ``$LaTeX$`` inline are turned
into MathML when the site is built (latex2mathml: nothing is downloaded, at build or
view time); ``\\tag{N}`` numbers a display equation as the paper does (and anchors it
as ``#eq-N``). Code blocks and code spans are left alone.
"""

from __future__ import annotations

import html
import json
import logging
import posixpath
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("mkdocs.hooks.aann")


MARKER = re.compile(r"<!-- aann:(toml-reference|example ([^ >]+)|"
                    r"figures? ([^ >]+)) -->")
DOCS = ROOT / "docs"
FIGURES = DOCS / "figures"
_math_store: dict[str, dict[str, str]] = {}  # page -> token -> HTML


def _helper(name: str):
    """docs/<name>.py as a module (docs/ is no package)."""
    import importlib.util
    import sys

    key = f"aann_docs_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, DOCS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def on_pre_build(config):
    """Run the examples whose kept run is missing or stale (docs/run_examples.py),
    before the files are collected, so their figures are part of the site."""
    _helper("run_examples").refresh(log=lambda msg: log.info(msg))


def on_page_markdown(markdown, page, config, files):
    here = posixpath.dirname(page.file.src_uri)  # Markdown links: from the source file
    url = page.url if page.url.endswith("/") or not page.url else posixpath.dirname(page.url)
    url_dir = url.rstrip("/")  # raw HTML links: from the page's own address

    def replace(m):
        if m.group(1) == "toml-reference":
            return toml_reference()
        if m.group(2):
            return example_markdown(m.group(2), here)
        return figures_markdown(m.group(3), here, url_dir,
                                one=m.group(1).startswith("figure "))

    markdown = outside_code(markdown, lambda text: MARKER.sub(replace, text))
    markdown, store = math_to_tokens(markdown, page.file.src_uri)
    _math_store[page.file.src_uri] = store
    return markdown


def on_page_content(html, page, config, files):
    return tokens_to_math(html, _math_store.pop(page.file.src_uri, {}))


# --- the TOML reference ----------------------------------------------------------------

def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(p) -> str:
    from aann.units import format_quantity

    v = p.default
    if v is None:
        return "(none)"
    if p.unit and isinstance(v, float):
        return f"`{format_quantity(v, p.unit)}`"
    return f"`{v!r}`" if isinstance(v, str) else f"`{v}`"


def _table(params: dict, law_of: dict | None = None) -> list[str]:
    head = "| key | unit | default | sign | meaning |"
    rule = "| --- | --- | --- | --- | --- |"
    if law_of is not None:
        head, rule = head[:-1] + " laws |", rule + " --- |"
    out = [head, rule]
    for key, p in params.items():
        unit = p.shown_unit or p.unit or ""
        meaning = p.doc
        if p.choices is not None and not isinstance(p.default, bool):
            meaning = "one of " + ", ".join(f"`{c}`" for c in p.choices) + (
                f"; {meaning}" if meaning else "")
        if p.maximum is not None:
            meaning += f" (at most {p.maximum:g})"
        sign = {"positive": "> 0", "nonnegative": ">= 0", "nonzero": "!= 0"}.get(p.sign, "")
        row = f"| `{key}` | {_cell(unit)} | {_cell(_default(p))} | {sign} | {_cell(meaning)} |"
        if law_of is not None:
            row = row[:-1] + f" {_cell(', '.join(law_of.get(key, [])))} |"
        out.append(row)
    return out


def toml_reference() -> str:
    from aann import blocks
    from aann.params import params_of
    from aann.spec import (
        CellNetwork,
        OffsetCancellation,
        Solver,
        Training,
        constants_params,
        default_toml,
        nonideal_params,
    )

    lines = ["## Every key with its default", "",
             "This block is `aann.spec.default_toml()`, written from the declarations "
             "when this page was built.", "", "```toml", default_toml().rstrip(), "```", "",
             "Without `init_weights` this block is exactly the default `aann.Config()` "
             "(tested), and the issue's example is a part of it.", "",
             "## The keys, section by section", ""]

    def section(title, params, law_of=None, note=None):
        lines.extend([f"### `[{title}]`", ""])
        if note:
            lines.extend([note, ""])
        lines.extend(_table(params, law_of))
        lines.append("")

    section("constants", constants_params())
    for kind in blocks.KINDS:
        laws = blocks.LAWS[kind]
        law_of: dict[str, list[str]] = {}
        for name, cls in laws.items():
            for key in params_of(cls):
                law_of.setdefault(key, []).append(name)
        names = ", ".join(f"`{n}` (`{c.__module__}.{c.__name__}`)" for n, c in laws.items())
        note = (f"`law` = one of {names}; default "
                f"`{blocks.DEFAULT_LAWS[kind]}`.")
        if kind == "multiplier":
            note += (" Each key may also be given for one role only, in "
                     "`[blocks.multiplier.ROLE]` with ROLE one of "
                     + ", ".join(f"`{r}`" for r in blocks.ROLES) + ".")
        section(f"blocks.{kind}", blocks.section_params(kind), law_of, note)
    section("nonideal", nonideal_params())
    section("offset_cancellation", params_of(OffsetCancellation),
            note="`periods_per_row` is read only with `method = \"chopper\"`; `t_az`, `C_az` "
                 "and `Q_inj` only with `method = \"autozero\"`. See "
                 "[offset cancellation](cancellation.md).")
    section("training", params_of(Training))
    section("solver", params_of(Solver))
    section("cells", params_of(CellNetwork),
            note="Read by `--engine ngspice --cells sky130` and `aann netlist --cells "
                 "sky130` only; `weights` other than `capacitor` only with `glue = "
                 "\"cells\"`, `chopped` only with the chopper demodulating at the output. "
                 "See [the cells](cells.md).")
    lines.extend([
        "### `[mismatch]`", "",
        "`seed` (integer, default 0) and, per block constant, a standard deviation: "
        "relative (`\"3%\"`) or absolute (`\"2mV\"`, bare numbers in SI units). Keys are "
        "`\"KIND.KEY\"` (`\"multiplier.Km\"`, `\"activation.Iref\"`), "
        "`\"multiplier.ROLE.KEY\"` for one multiplier role, or a bare `[constants]` / "
        "`[nonideal]` key of the charging source and weight capacitor (`\"C\"`). "
        "See [the model](model.md#mismatch).", ""])
    return "\n".join(lines)


# --- figures of real runs (make docs-figures) ---------------------------------------------

def _sidecar(name: str) -> dict:
    path = FIGURES / name / "figures.json"
    if not path.is_file():
        raise ValueError(f"docs: no figures of {name!r} (docs/figures/{name}/figures.json); "
                         f"run `make docs-figures NAMES={name}`")
    return json.loads(path.read_text(encoding="utf-8"))


def caption(meta: dict, fig: dict, url_dir: str) -> str:
    """The line under a figure: what made it, reduced or full, which commit, when."""
    cmds = " then ".join(f"<code>{html.escape(c)}</code>" for c in meta["commands"])
    run = ("a reduced run: " + html.escape(meta["reduced"]) if meta.get("reduced")
           else "the command's full run")
    files = ""
    if meta.get("files"):
        folder = f"figures/{meta['name']}"
        links = ", ".join(f'<a href="{_rel(url_dir, folder + "/" + f)}">{html.escape(f)}</a>'
                          for f in meta["files"])
        files = f"; configuration: {links}"
    shown = "" if fig["file"].endswith(".png") else " (its SVG twin, lighter)"
    return (f"<code>{html.escape(fig['source'])}</code>{shown} as written by {cmds} "
            f"({run}{files}); "
            f"commit <code>{html.escape(meta['commit'])}</code>, {meta['date']}, "
            f"{meta['seconds']:g} s. Made by <code>make docs-figures</code>.")


def _rel(here: str, target: str) -> str:
    return posixpath.relpath(target, here or ".")


def figure_block(src: str, alt: str, cap_html: str) -> str:
    alt = alt.replace("[", "(").replace("]", ")")
    return (f'<figure class="aann-figure" markdown="span">\n![{alt}]({src})\n'
            f"<figcaption>{cap_html}</figcaption>\n</figure>")


def figures_markdown(ref: str, here: str, url_dir: str, one: bool) -> str:
    """``NAME/FILE`` (one figure) or ``NAME`` (all of them) as figures with captions."""
    name, _, wanted = ref.partition("/") if one else (ref, "", "")
    meta = _sidecar(name)
    figs = meta["figures"]
    if one:
        stem = posixpath.splitext(wanted)[0]
        figs = [f for f in figs if f["source"] == wanted or f["file"] == wanted
                or posixpath.splitext(f["file"])[0] == stem.replace("/", "_")]
        if not figs:
            raise ValueError(f"docs: figure set {name!r} has no {wanted!r}; it has "
                             + ", ".join(f["source"] for f in meta["figures"]))
    blocks = []
    for f in figs:
        if not (FIGURES / name / f["file"]).is_file():
            raise ValueError(f"docs: docs/figures/{name}/{f['file']} is missing; "
                             f"run `make docs-figures NAMES={name}`")
        blocks.append(figure_block(_rel(here, f"figures/{name}/{f['file']}"),
                                   f"{f['source']} ({' '.join(meta['commands'])})",
                                   caption(meta, f, url_dir)))
    return "\n\n".join(blocks)


# --- the examples, with the output of a real run ----------------------------------------

def percent_to_markdown(source: str, name: str, outputs: list[dict] | None = None,
                        figure_dir: str = "") -> str:
    """A jupytext percent script as Markdown: markdown cells as text (headings one
    level down), code cells as Python code blocks, each followed by its entry of
    ``outputs`` (``{"stdout", "figures"}``, in code-cell order) when given: the printed
    text as a text block and each figure (a file in ``figure_dir``) as an image."""
    out = []
    code_index = 0
    for kind, body in _helper("run_examples").cells(source):
        if kind == "markdown":
            text = [re.sub(r"^# ?", "", b) for b in body]
            text = ["#" + t if t.startswith("#") else t for t in text]
            out.append("\n".join(text))
            continue
        out.append("```python\n" + "\n".join(body) + "\n```")
        if outputs is not None and code_index < len(outputs):
            rec = outputs[code_index]
            if rec["stdout"].strip():
                out.append('<div class="aann-output" markdown="block">\n\n```text\n'
                           + rec["stdout"].rstrip("\n").replace("```", "'''")
                           + "\n```\n\n</div>")
            for fig in rec["figures"]:
                out.append(figure_block(
                    f"{figure_dir}/{fig['file']}", f"{fig['file']} from examples/{name}",
                    f"written by this cell as <code>{html.escape(fig['written_as'])}</code>"))
        code_index += 1
    source_line = f"*Source: `examples/{name}`*"
    if out and out[0].startswith("## "):
        title, _, rest = out[0].partition("\n")
        out[0] = f"{title}\n\n{source_line}\n{rest}"
    else:
        out.insert(0, source_line)
    return "\n\n".join(out).strip()


def example_markdown(name: str, here: str) -> str:
    """The example ``name`` with the output of its kept run (docs/run_examples.py)."""
    runner = _helper("run_examples")
    script = ROOT / "examples" / name
    if not script.is_file():
        raise ValueError(f"docs: no example examples/{name}")
    run = runner.load_run(script)
    if run is None or run["sha256"] != runner.sha256(script):
        raise ValueError(f"docs: the kept run of examples/{name} is missing or stale; "
                         "run `make docs-examples`")
    body = percent_to_markdown(script.read_text(encoding="utf-8"), name, run["cells"],
                               _rel(here, f"examples/runs/{script.stem}"))
    title, _, rest = body.partition("\n")
    title = "#" + title[2:] if title.startswith("## ") else title
    mode = ("with `AANN_EXAMPLES_FAST=1` (shorter runs: the full one takes minutes)"
            if run["fast"] else "in full")
    note = (f'!!! note "Executed"\n    The output below is from a run of this file '
            f"(sha256 `{run['sha256'][:12]}`) {mode}, at commit `{run['commit']}`, "
            f"{run['date']}, in {run['seconds']:g} s; the site is built from that run "
            "(docs/run_examples.py).")
    return f"{title}\n\n{note}\n{rest}"


# --- equations: LaTeX to MathML at build time -----------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~)")
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.S)
# inline math may run over a line break, not over a blank line (a new paragraph)
_INLINE = re.compile(r"(?<![\\$\w])\$(?=[^\s$])((?:[^$\n]|\n(?![ \t]*\n))+?)"
                     r"(?<=[^\s\\])\$(?![\w$])")
_TAG = re.compile(r"\\tag\{([^}]*)\}")
_TOKEN = "AANNMATH{}X"


def latex_to_mathml(latex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    return convert(latex.strip(), display="block" if display else "inline")


def display_equation(latex: str, used_ids: set) -> str:
    """A display equation: MathML, and its number (``\\tag{N}``) on the right."""
    m = _TAG.search(latex)
    number = m.group(1).strip() if m else None
    latex = _TAG.sub("", latex)
    math = latex_to_mathml(latex, display=True)
    if number is None:
        return f'<div class="aann-eq">{math}</div>'
    anchor = "eq-" + re.sub(r"[^0-9A-Za-z]+", "-", number.split(",")[0].strip()).strip("-")
    ident = ""
    if anchor not in used_ids:
        used_ids.add(anchor)
        ident = f' id="{anchor}"'
    return (f'<div class="aann-eq"{ident}>{math}'
            f'<span class="aann-eq-no">({html.escape(number)})</span></div>')


def fenced_parts(markdown: str) -> list[tuple[bool, str]]:
    """``markdown`` cut into ``(is_code, text)`` parts: fenced code blocks and the rest."""
    out, chunk, fence = [], [], None
    for line in markdown.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence is None and m:
            out.append((False, "".join(chunk)))
            chunk, fence = [line], m.group(1)
        elif fence is not None:
            chunk.append(line)
            if line.strip().startswith(fence) and line.strip().strip("`~") == "" \
                    and len(chunk) > 1:
                out.append((True, "".join(chunk)))
                chunk, fence = [], None
        else:
            chunk.append(line)
    out.append((fence is not None, "".join(chunk)))
    return out


def outside_code(markdown: str, fn, *, whole=None) -> str:
    """``fn`` applied to the text of ``markdown`` outside code blocks and code spans;
    ``whole`` (if given) first to each part outside code blocks, spans included."""
    out = []
    for is_code, part in fenced_parts(markdown):
        if is_code:
            out.append(part)
            continue
        if whole is not None:
            part = whole(part)
        last = 0
        for m in _CODE_SPAN.finditer(part):
            out.append(fn(part[last:m.start()]))
            out.append(m.group(0))
            last = m.end()
        out.append(fn(part[last:]))
    return "".join(out)


def math_to_tokens(markdown: str, where: str = "") -> tuple[str, dict[str, str]]:
    """Replace the equations of ``markdown`` (outside code) by tokens; return it and
    the HTML of each token, for :func:`tokens_to_math` to put back once the Markdown is
    HTML (so Markdown never sees the MathML)."""
    store: dict[str, str] = {}
    used_ids: set = set()

    def keep(html_text: str) -> str:
        token = _TOKEN.format(len(store))
        store[token] = html_text
        return token

    def convert(latex, display):
        try:
            return display_equation(latex, used_ids) if display else \
                latex_to_mathml(latex, display=False)
        except Exception as e:  # latex2mathml's own errors name no position
            raise ValueError(f"docs: {where}: the equation {latex.strip()!r} does not "
                             f"convert to MathML ({type(e).__name__}: {e})") from e

    return outside_code(
        markdown, lambda t: _INLINE.sub(lambda i: keep(convert(i.group(1), False)), t),
        whole=lambda t: _DISPLAY.sub(lambda m: keep(convert(m.group(1), True)), t)), store


def tokens_to_math(html_text: str, store: dict[str, str]) -> str:
    for token, math in store.items():
        html_text = html_text.replace(f"<p>{token}</p>", math).replace(token, math)
    return html_text
