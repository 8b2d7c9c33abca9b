"""``make docs-figures``: the figures the documentation shows, made by real runs.

Each entry of :data:`ENTRIES` runs one or more ``aann`` commands (in their own
processes, one after another), then copies the PNGs they wrote into
``docs/figures/<name>/``, shrunk to screen resolution (at most :data:`MAX_WIDTH`
pixels wide, 256 colours; the command's SVG instead where that is lighter), with a
sidecar ``figures.json``: the commands as run, the configuration files they read, the
commit of the tree, whether the run was reduced (and how), when and how long. A page
shows them with a marker that docs/hooks.py replaces by the images and a caption
written from the sidecar:

* ``<!-- aann:figure NAME/FILE.png -->``: one figure of entry NAME;
* ``<!-- aann:figures NAME -->``: every figure of entry NAME, in order.

A later command adds its figures by one entry here (and a marker on its page), e.g.::

    Entry("cancellation", [REPRO + ["cancellation", "--out", "{out}", "--seeds", "4"]],
          ["cancellation*.png"], out="reproduce", reduced="4 of 10 seeds")

then ``make docs-figures NAMES=cancellation`` (or ``python docs/make_figures.py
cancellation``), and ``<!-- aann:figures cancellation -->`` on its page.
tests/test_docs.py checks that every ``aann reproduce`` command has an entry, that
every entry's figures are committed and that every page shows the ones it names.

Usage: ``python docs/make_figures.py [NAME ...] [--list] [--work DIR]``. The runs write
into ``DIR`` (default ``docs-figures-out/``, kept, ignored by git); the reproduce entries
share one output folder there, as ``aann reproduce all`` does (``tasks`` reads the cell
laws ``transistor`` measured there, else measures them itself).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"
MAX_WIDTH = 900  # pixels: a figure at the width of the page's text column, twice over
REPRO = ["reproduce"]


@dataclass(frozen=True)
class Entry:
    """One figure set: ``commands`` (argv of ``aann``, ``{out}`` for the output folder,
    ``{dir}`` for the folder holding ``files``), the ``figures`` to keep (glob patterns
    relative to ``{out}``, in the order shown; a file in a subfolder is kept under its
    path with ``/`` turned into ``_``), ``reduced`` (None for the command's full run,
    else what was cut, said under every figure), ``files`` (configuration files written
    into ``{dir}`` and recorded in the sidecar) and ``out`` (the output folder's name,
    shared by entries that read each other's results)."""

    name: str
    commands: list[list[str]]
    figures: list[str]
    reduced: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    out: str = ""
    needs: tuple[str, ...] = ()  # executables it needs (ngspice): missing, it is refused

    @property
    def out_name(self) -> str:
        return self.out or self.name


MC_TOML = """\
# XOR 2-8-1 at t_row = 0.3 ps with the [mismatch] example of the model page on
[network]
sizes = [2, 8, 1]
[training]
dataset = "xor"
t_row = "0.3ps"
epochs = 1000
[mismatch]
seed = 0
"multiplier.Km" = "3%"
"multiplier.charge.Voff1" = "2mV"
"activation.Iref" = "2%"
"derivative.Kd" = "2%"
"C" = "1%"
"""

SWEEP_TOML = """\
# learning rate (t_row) against an offset on input 1 (Vdelta) of the charging multipliers
[base.network]
sizes = [2, 8, 1]
[base.training]
dataset = "xor"
epochs = 300
seeds = 4
[grid]
"training.t_row" = ["0.1ps", "0.3ps", "1ps"]
"blocks.multiplier.charge.Voff1" = ["0mV", "1mV", "3mV", "10mV"]
"""

ENTRIES: list[Entry] = [
    Entry("demo", [["train", "--topology", "2-8-1", "--dataset", "xor", "--seeds", "10",
                    "--t-row", "0.1ps", "--epochs", "1000", "--out", "{out}"]],
          ["learning_curves.png"]),
    Entry("fig8", [REPRO + ["fig8", "--out", "{out}"]], ["fig8_waveforms.png"],
          out="reproduce"),
    Entry("xor", [REPRO + ["xor", "--out", "{out}"]], ["xor_mse_all.png"], out="reproduce"),
    Entry("parasitic", [REPRO + ["parasitic", "--out", "{out}"]],
          ["parasitic_multiplier.png", "parasitic_mse.png"], out="reproduce"),
    Entry("speed", [REPRO + ["speed", "--out", "{out}", "--repeats", "1", "--tests", "1,2,3"]],
          ["speed.png"], out="reproduce",
          reduced="tests 1-3 of 4 (test 4 alone takes minutes), one repeat per timing "
                  "instead of 3; the larger tests' timings extrapolated as the full run does"),
    Entry("offsets", [REPRO + ["offsets", "--out", "{out}"]],
          ["offsets.png", "offsets_yield.png"], out="reproduce"),
    Entry("limits", [REPRO + ["limits", "--out", "{out}", "--epochs", "500", "--seeds", "4"]],
          ["limits.png"], out="reproduce",
          reduced="4 of 10 seeds, 500 of 1000 epochs"),
    Entry("transistor", [REPRO + ["transistor", "--out", "{out}", "--seeds", "2",
                                  "--mismatch", "4", "--samples", "8"]],
          ["transistor_cells.png", "transistor_learning.png", "transistor_cosim.png",
           "transistor/tt/multiplier/fit.png", "transistor/tt/sigmoid/fit.png",
           "transistor/tt/derivative/fit.png"],
          out="reproduce", needs=("ngspice",),
          reduced="2 of 4 seeds, 4 of 8 mismatch samples per cell, 8 of 20 yield networks; "
                  "every corner and the 60 co-simulation epochs as in the full run"),
    Entry("tasks", [REPRO + ["tasks", "--out", "{out}", "--networks", "iris,wine,digits16",
                             "--seeds", "4"]],
          ["tasks_learning.png", "tasks_accuracy.png", "tasks_confusion.png"],
          out="reproduce",
          reduced="iris, wine and digits 64-16-10 (not breast_cancer, digits 64-32-10), "
                  "4 of 10 seeds; the SkyWater laws from the transistor entry's run"),
    Entry("rules", [REPRO + ["rules", "--out", "{out}", "--networks", "xor,iris",
                             "--seeds", "4"]],
          ["rules_performance.png", "rules_curves.png", "rules_cost.png"], out="reproduce",
          reduced="XOR and iris (not the digits networks), 4 of 10 seeds"),
    Entry("energy", [REPRO + ["energy", "--out", "{out}"]],
          ["energy_compare.png", "energy_bias.png"], out="reproduce", needs=("ngspice",)),
    Entry("cancellation", [REPRO + ["cancellation", "--out", "{out}", "--seeds", "4"]],
          ["cancellation.png", "cancellation_lines.png"], out="reproduce",
          reduced="4 of 10 seeds (Monte Carlo samples); the SkyWater laws from the "
                  "transistor entry's run"),
    Entry("montecarlo", [["montecarlo", "{dir}/mc.toml", "--samples", "200", "--out", "{out}"]],
          ["final_mse_histogram.png"], files={"mc.toml": MC_TOML},
          reduced="200 samples (the benchmark runs 1000)"),
    Entry("sweep", [["sweep", "{dir}/sweep.toml", "--out", "{out}"],
                    ["sweep", "report", "{out}"]],
          ["figures/*.png"], files={"sweep.toml": SWEEP_TOML}),
]


def entry(name: str) -> Entry:
    for e in ENTRIES:
        if e.name == name:
            return e
    raise SystemExit(f"no figure entry {name!r}; the entries: "
                     + ", ".join(e.name for e in ENTRIES))


def sidecar_path(name: str) -> Path:
    return FIGURES / name / "figures.json"


def kept_name(relative: str) -> str:
    """The name a figure is kept under: its path below the output folder, flattened."""
    return relative.replace("/", "_")


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def commit() -> str:
    """The commit of the tree, with ``+changes`` when src/ differs from it."""
    head = _git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--", "src")
    return head + ("+changes" if dirty else "")


def shrink(png: Path, dest: Path) -> Path:
    """``png`` at most :data:`MAX_WIDTH` wide in 256 colours, or its SVG twin where that
    is smaller; returns the file written (``dest`` or ``dest`` with ``.svg``)."""
    from PIL import Image

    with Image.open(png) as im:
        im = im.convert("RGB")
        if im.width > MAX_WIDTH:
            im = im.resize((MAX_WIDTH, round(im.height * MAX_WIDTH / im.width)),
                           Image.Resampling.LANCZOS)
        im = im.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        dest.parent.mkdir(parents=True, exist_ok=True)
        im.save(dest, optimize=True)
    svg = png.with_suffix(".svg")
    if svg.is_file() and svg.stat().st_size < dest.stat().st_size:
        dest.unlink()
        dest = dest.with_suffix(".svg")
        shutil.copyfile(svg, dest)
    return dest


def run_entry(e: Entry, work: Path) -> dict:
    missing = [x for x in e.needs if shutil.which(x) is None]
    if missing:
        raise SystemExit(f"{e.name}: needs {', '.join(missing)} (make system-packages)")
    out = work / e.out_name
    if not e.out and out.exists():  # an output folder of its own starts empty
        shutil.rmtree(out)
    cfg_dir = work / f"{e.name}-files"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    for fname, text in e.files.items():
        (cfg_dir / fname).write_text(text, encoding="utf-8")
    shown = []
    started = time.perf_counter()
    for argv in e.commands:
        args = [a.replace("{out}", str(out)).replace("{dir}", str(cfg_dir)) for a in argv]
        shown.append("aann " + " ".join(a.replace("{out}", "OUT").replace("{dir}/", "")
                                        for a in argv))
        print(f"[{e.name}] {shown[-1]}", flush=True)
        code = f"import sys; from aann.cli import main; sys.exit(main({args!r}))"
        done = subprocess.run([sys.executable, "-c", code], cwd=work)
        if done.returncode != 0:
            raise SystemExit(f"{e.name}: `{shown[-1]}` exited {done.returncode}")
    seconds = time.perf_counter() - started
    found = []
    for pattern in e.figures:
        hits = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")
                      if fnmatch.fnmatch(p.relative_to(out).as_posix(), pattern))
        if not hits:
            raise SystemExit(f"{e.name}: no figure {pattern} in {out}")
        found.extend(h for h in hits if h not in found)
    dest_dir = FIGURES / e.name
    if dest_dir.exists():
        shutil.rmtree(dest_dir)
    dest_dir.mkdir(parents=True)
    figures = []
    for rel in found:
        written = shrink(out / rel, dest_dir / kept_name(rel))
        figures.append({"file": written.name, "source": rel, "bytes": written.stat().st_size})
    for fname, text in e.files.items():
        (dest_dir / fname).write_text(text, encoding="utf-8")
    from importlib.metadata import version

    meta = {"name": e.name, "commands": shown, "files": sorted(e.files),
            "reduced": e.reduced, "commit": commit(), "aann": version("aann"),
            "python": platform.python_version(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d"), "seconds": round(seconds, 1),
            "figures": figures}
    sidecar_path(e.name).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    total = sum(f["bytes"] for f in figures)
    print(f"[{e.name}] {len(figures)} figures, {total / 1024:.0f} kB, {seconds:.0f} s",
          flush=True)
    return meta


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="entries to run (default: all, in order)")
    ap.add_argument("--list", action="store_true", help="list the entries and exit")
    ap.add_argument("--work", type=Path, default=ROOT / "docs-figures-out",
                    help="the folder the commands write into (default docs-figures-out/)")
    args = ap.parse_args(argv)
    if args.list:
        for e in ENTRIES:
            print(f"{e.name:12s} {'reduced' if e.reduced else 'full':8s} "
                  f"{' && '.join('aann ' + ' '.join(c) for c in e.commands)}")
        return 0
    chosen = [entry(n) for n in args.names] if args.names else list(ENTRIES)
    args.work.mkdir(parents=True, exist_ok=True)
    for e in chosen:
        run_entry(e, args.work.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
