"""The examples as the site shows them: each ``examples/NN_*.py`` run cell by cell, its
printed output and the figures it wrote kept beside its source.

``python docs/run_examples.py [NAME ...] [--force]`` runs the examples whose kept run is
missing or stale into ``docs/examples/runs/<stem>/``: ``run.json`` (the sha256 of the
example file it ran, whether ``AANN_EXAMPLES_FAST=1`` was set, the commit, the date, the
seconds, and per code cell its printed output and the figures it wrote) and those
figures (shrunk like the documentation's other figures, docs/make_figures.py). A kept
run is stale when the example file's sha256 differs from the one it records, so the
output a page shows is always that of the current file. ``mkdocs build`` (docs/hooks.py)
calls :func:`refresh` before it reads the pages, so a changed example is run again at
the next build; ``make docs-examples`` (``--force``) runs every example again, e.g.
after a change in aann itself.

Each example runs in its own process (the working folder and ``TMPDIR`` a new temporary
folder, ``MPLBACKEND=Agg``), every code cell in one namespace as a notebook would, its
standard output captured per cell. Examples listed in :data:`FAST` run with
``AANN_EXAMPLES_FAST=1`` (for a full run of many minutes); the page says which.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RUNS = ROOT / "docs" / "examples" / "runs"
# Examples run with AANN_EXAMPLES_FAST=1 for their page, where the full run takes many
# minutes on a 2-core machine. None now: measured, the longest full run is
# 05_montecarlo_yield.py (1000 samples x 1000 epochs), 148 s at a load of 7, and a kept run
# is only redone when its file changes.
FAST: set[str] = set()
TIMEOUT = 900  # seconds per example


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cells(source: str) -> list[tuple[str, list[str]]]:
    """A jupytext percent script's cells: ``(kind, lines)``, kind ``markdown`` or
    ``code``, the jupytext header left out, blank lines at either end trimmed, empty
    cells dropped."""
    return [(kind, body) for kind, body, _ in numbered_cells(source)]


def numbered_cells(source: str) -> list[tuple[str, list[str], int]]:
    """:func:`cells` with the line number (from 1) of each cell's first line."""
    lines = source.splitlines()
    start = 0
    if lines and lines[0].strip() == "# ---":  # the jupytext header
        start = next(i for i in range(1, len(lines)) if lines[i].strip() == "# ---") + 1
    out: list[tuple[str, list[str], int]] = []
    for n in range(start, len(lines)):
        line = lines[n]
        if line.startswith("# %%"):
            out.append(("markdown" if "[markdown]" in line else "code", [], n + 2))
        elif out:
            out[-1][1].append(line)
        elif line.strip():
            out.append(("code", [line], n + 1))
    kept = []
    for kind, body, first in out:
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
            first += 1
        if body:
            kept.append((kind, body, first))
    return kept


def run_dir(script: Path) -> Path:
    return RUNS / script.stem


def load_run(script: Path) -> dict | None:
    path = run_dir(script) / "run.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def is_fresh(script: Path) -> bool:
    run = load_run(script)
    return run is not None and run.get("sha256") == sha256(script)


# --- the child process: one example, cell by cell ---------------------------------------

def _pngs(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*.png")}


def _child(script: Path, result: Path, tmp: Path) -> int:
    """Run ``script``'s code cells in one namespace; write ``result`` (JSON): per code
    cell its output and the PNGs written under ``tmp`` during it."""
    import matplotlib

    matplotlib.use("Agg")
    namespace = {"__name__": "__main__", "__file__": str(script)}
    sys.argv = [str(script)]
    records, seen = [], _pngs(tmp)
    status = 0
    for kind, body, first in numbered_cells(script.read_text(encoding="utf-8")):
        if kind != "code":
            continue
        buf = io.StringIO()
        # blank lines before the cell: a traceback names the file's own line numbers
        code = "\n" * (first - 1) + "\n".join(body) + "\n"
        with contextlib.redirect_stdout(buf):
            try:
                exec(compile(code, str(script), "exec"), namespace)
            except BaseException:  # noqa: BLE001 - reported, and the run fails
                traceback.print_exc(file=sys.stderr)
                status = 1
        now = _pngs(tmp)
        new = sorted(str(p) for p, t in now.items() if seen.get(p) != t)
        seen = now
        records.append({"stdout": buf.getvalue(), "figures": new})
        if status:
            break
    result.write_text(json.dumps(records), encoding="utf-8")
    return status


# --- the parent: run, shrink the figures, keep -------------------------------------------

def run_example(script: Path, *, timeout: float = TIMEOUT) -> dict:
    """Run ``script`` in its own process and keep the run in ``run_dir(script)``."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_figures import commit, shrink

    fast = script.name in FAST
    with tempfile.TemporaryDirectory(prefix=f"aann-docs-{script.stem}-") as t:
        tmp = Path(t).resolve()
        work = tmp / "tmp"
        work.mkdir()
        result = tmp / "result.json"
        env = dict(os.environ, MPLBACKEND="Agg", TMPDIR=str(work))
        env.pop("AANN_EXAMPLES_FAST", None)
        if fast:
            env["AANN_EXAMPLES_FAST"] = "1"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child",
                               str(script), str(result), str(work)],
                              cwd=work, env=env, capture_output=True, text=True,
                              timeout=timeout)
        seconds = time.perf_counter() - started
        if done.returncode != 0 or not result.is_file():
            raise RuntimeError(f"examples/{script.name} failed when run for the "
                               f"documentation:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
        records = json.loads(result.read_text(encoding="utf-8"))
        dest = run_dir(script)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        shown: set[str] = set()
        for rec in records:
            kept = []
            for fig in rec["figures"]:
                rel = Path(fig).relative_to(work).as_posix()
                # the example's temporary folder has a random name: keep the file's name,
                # numbered when two figures share it
                name = Path(rel).name
                stem, n = Path(name).stem, 2
                while name in shown or name.replace(".png", ".svg") in shown:
                    name, n = f"{stem}_{n}.png", n + 1
                written = shrink(Path(fig), dest / name)
                shown.add(written.name)
                kept.append({"file": written.name, "written_as": "$TMPDIR/" + rel,
                             "bytes": written.stat().st_size})
            rec["figures"] = kept
            rec["stdout"] = rec["stdout"].replace(str(work), "$TMPDIR")
    run = {"example": script.name, "sha256": sha256(script), "fast": fast,
           "commit": commit(), "date": datetime.now(UTC).strftime("%Y-%m-%d"),
           "seconds": round(seconds, 1), "cells": records}
    (dest / "run.json").write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")
    return run


def refresh(names=None, *, force: bool = False, log=print) -> list[str]:
    """Run the examples (all, or those named) whose kept run is missing or stale (all of
    them with ``force``); return the names run. Kept runs of examples that no longer
    exist are removed."""
    scripts = example_files()
    if names:
        scripts = [s for s in scripts if s.name in names or s.stem in names]
    ran = []
    for script in scripts:
        if force or not is_fresh(script):
            log(f"running examples/{script.name} for the documentation")
            run = run_example(script)
            log(f"examples/{script.name}: {run['seconds']} s")
            ran.append(script.name)
    if RUNS.is_dir() and not names:
        stems = {s.stem for s in example_files()}
        for d in RUNS.iterdir():
            if d.is_dir() and d.name not in stems:
                shutil.rmtree(d)
    return ran


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child(Path(argv[1]), Path(argv[2]), Path(argv[3]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="examples to run (default: every stale one)")
    ap.add_argument("--force", action="store_true", help="run them even when fresh")
    args = ap.parse_args(argv)
    refresh(args.names, force=args.force)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
