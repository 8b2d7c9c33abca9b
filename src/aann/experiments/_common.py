"""Small helpers shared by the experiments: files, figures, number formatting."""

from __future__ import annotations

import csv
import io
from pathlib import Path


def save_figure(fig, out: Path, stem: str) -> str:
    """Write ``stem.png`` and ``stem.svg`` atomically; return the PNG's file name."""
    from .. import plots
    from ..io import atomic_savefig

    atomic_savefig(fig, out / f"{stem}.svg")
    plots.save(fig, out / f"{stem}.png")  # closes the figure
    return f"{stem}.png"


def write_csv(path: Path, header: list[str], rows) -> None:
    """A CSV with ``header`` and ``rows``, written atomically; floats in full precision."""
    from ..io import atomic_write

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([repr(float(v)) if isinstance(v, float) else v for v in row])
    atomic_write(path, buf.getvalue())


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def ps(seconds: float) -> str:
    return f"{seconds * 1e12:g} ps"


def sig(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}"


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def load_average():
    """The machine's load over 1, 5 and 15 minutes (None where the OS has none): what a
    report prints beside a wall time measured on a shared machine."""
    import os

    try:
        return os.getloadavg()
    except OSError:
        return None


def sky130_missing() -> str | None:
    """Why the SkyWater cells cannot run here (no ngspice, no SkyWater models), or None."""
    from ..cells.models import models_dir
    from ..engines.spice import find_ngspice
    from ..errors import SimulationError

    try:
        find_ngspice()
        models_dir()
    except SimulationError as e:
        return str(e)
    return None


def sky130_goal(cfg) -> float:
    """V^2: XOR's goal for the cells' signals (``reproduce cancellation``'s SkyWater runs,
    the cells' XOR of ``reproduce transistor``): the same rms error relative to the target
    swing (``Vhigh - Vlow``) as :data:`aann.results.MSE_GOAL`, 0.01 V^2, on the ideal
    circuit's 1 V swing (1.44e-4 V^2, 12 mV rms, on the cells' 0.12 V)."""
    from ..results import MSE_GOAL

    return MSE_GOAL * (cfg.data.Vhigh - cfg.data.Vlow) ** 2
