"""MkDocs hooks: the generated parts of the documentation.

Markers in the pages are replaced at build time, so these parts come from the code
and cannot drift from it:

* ``<!-- aann:toml-reference -->`` (toml.md): every key with its default, unit and
  meaning, from the declarations (``aann.spec.default_toml()`` and the block laws);
* ``<!-- aann:readme SECTION -->``: the README's ``## SECTION``, as it stands;
* ``<!-- aann:examples -->`` (examples.md): each jupytext percent script of
  ``examples/`` as Markdown and code blocks (not executed here; ``make test`` runs them).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- aann:(toml-reference|examples|readme ([^>]+?)) -->")


def on_page_markdown(markdown, page, config, files):
    def replace(m):
        if m.group(1) == "toml-reference":
            return toml_reference()
        if m.group(1) == "examples":
            return examples_markdown()
        return readme_section(m.group(2).strip())

    return MARKER.sub(replace, markdown)


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
        Solver,
        Training,
        constants_params,
        default_toml,
        nonideal_params,
    )

    lines = ["## Every key with its default", "",
             "This block is `aann.spec.default_toml()`, written from the declarations "
             "when this page was built.", "", "```toml", default_toml().rstrip(), "```", "",
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
    section("training", params_of(Training))
    section("solver", params_of(Solver))
    lines.extend([
        "### `[mismatch]`", "",
        "`seed` (integer, default 0) and, per block constant, a standard deviation: "
        "relative (`\"3%\"`) or absolute (`\"2mV\"`, bare numbers in SI units). Keys are "
        "`\"KIND.KEY\"` (`\"multiplier.Km\"`, `\"activation.Iref\"`), "
        "`\"multiplier.ROLE.KEY\"` for one multiplier role, or a bare `[constants]` / "
        "`[nonideal]` key of the charging source and weight capacitor (`\"C\"`). "
        "See [the model](model.md#mismatch).", ""])
    return "\n".join(lines)


# --- README sections -------------------------------------------------------------------

def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if m is None:
        raise ValueError(f"README.md has no section '## {title}'")
    body = m.group(1).strip()
    # links into docs/ from the README's folder are links between pages here
    return re.sub(r"\]\(docs/([^)]+)\)", r"](\1)", body)


# --- the examples ----------------------------------------------------------------------

def example_files() -> list[Path]:
    return sorted((ROOT / "examples").glob("[0-9][0-9]_*.py"))


def percent_to_markdown(source: str, name: str) -> str:
    """A jupytext percent script as Markdown: markdown cells as text (headings one
    level down), code cells as Python code blocks."""
    lines = source.splitlines()
    if lines and lines[0].strip() == "# ---":  # the jupytext header
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "# ---")
        lines = lines[end + 1:]
    cells: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            cells.append(("code", [line]))
    out = []
    for kind, body in cells:
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        if not body:
            continue
        if kind == "markdown":
            text = [re.sub(r"^# ?", "", b) for b in body]
            text = ["#" + t if t.startswith("#") else t for t in text]
            out.append("\n".join(text))
        else:
            out.append("```python\n" + "\n".join(body) + "\n```")
    source_line = f"*Source: `examples/{name}`*"
    if out and out[0].startswith("## "):
        title, _, rest = out[0].partition("\n")
        out[0] = f"{title}\n\n{source_line}\n{rest}"
    else:
        out.insert(0, source_line)
    return "\n\n".join(out).strip()


def examples_markdown() -> str:
    parts = []
    for path in example_files():
        parts.append(percent_to_markdown(path.read_text(encoding="utf-8"), path.name))
    return "\n\n---\n\n".join(parts)
