"""Reading ngspice raw files (the ``-r file.raw`` output), binary or ASCII.

A raw file is a text header (``Title:``, ``Plotname:``, ``Flags:``,
``No. Variables:``, ``No. Points:``, ``Variables:`` with one line per vector)
followed by ``Binary:`` and little-endian float64 values point after point, or
by ``Values:`` and the same numbers as text. Real plots (transient, DC) hold
float64 values, complex ones (AC) pairs of them (binary only); a file may hold
several plots one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SimulationError


@dataclass(frozen=True)
class RawPlot:
    """One analysis: ``names`` of the vectors (lower case, as ngspice writes them) and
    ``data`` of shape (points, vectors); column 0 is the sweep (``time`` for .tran,
    ``frequency`` for .ac, whose data are complex)."""

    title: str
    plotname: str
    names: tuple
    data: np.ndarray

    def __getitem__(self, name: str) -> np.ndarray:
        key = name.lower()
        try:
            return self.data[:, self.names.index(key)]
        except ValueError:
            raise KeyError(f"vector {name!r} is not in the raw file; it has "
                           + ", ".join(self.names[:12]) + (" ..." if len(self.names) > 12 else "")
                           ) from None

    @property
    def sweep(self) -> np.ndarray:
        return self.data[:, 0]


def read_raw(path) -> list[RawPlot]:
    """Every plot of an ngspice raw file."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise SimulationError(f"ngspice wrote no raw file {path}: {e.strerror}") from None
    plots, pos = [], 0
    while pos < len(blob):
        plot, pos = _read_plot(blob, pos, path)
        if plot is None:
            break
        plots.append(plot)
    if not plots:
        raise SimulationError(f"raw file {path} holds no plot (did the analysis run?)")
    return plots


def _line(blob: bytes, pos: int) -> tuple[str, int]:
    end = blob.find(b"\n", pos)
    end = len(blob) if end < 0 else end
    return blob[pos:end].decode("latin-1").rstrip("\r"), end + 1


def _read_plot(blob: bytes, pos: int, path) -> tuple[RawPlot | None, int]:
    header: dict[str, str] = {}
    names: list[str] = []
    while True:
        if pos >= len(blob):
            return None, pos
        line, pos = _line(blob, pos)
        if not line.strip():
            continue
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "variables":
            n = int(header.get("no. variables", "0"))
            for _ in range(n):
                var, pos = _line(blob, pos)
                parts = var.split()
                names.append(parts[1].lower())
            continue
        if key in ("binary", "values"):
            break
        header[key] = value.strip()
    flags = header.get("flags", "real").lower()
    complex_ = "complex" in flags
    if complex_ and key != "binary":
        raise SimulationError(f"raw file {path}: complex plots are read in binary form only")
    n_vars = len(names)
    n_points = int(header.get("no. points", "0").split()[0] or 0)
    if key == "binary":
        width = 16 if complex_ else 8
        available = (len(blob) - pos) // (width * n_vars)
        if n_points == 0 or n_points > available:  # header not patched (run stopped early)
            n_points = available
        count = n_points * n_vars
        dtype = "<c16" if complex_ else "<f8"
        data = np.frombuffer(blob, dtype=dtype, count=count, offset=pos).reshape(n_points, n_vars)
        pos += width * count
        if complex_:
            return RawPlot(header.get("title", ""), header.get("plotname", ""), tuple(names),
                           np.array(data, complex)), pos
    else:
        values = []
        text_end = blob.find(b"\nTitle:", pos)
        text = blob[pos: len(blob) if text_end < 0 else text_end].decode("latin-1").split()
        # each point: index, then n_vars numbers
        step = n_vars + 1
        usable = len(text) // step * step
        values = np.array(text[:usable], dtype=object).reshape(-1, step)[:, 1:]
        data = values.astype(float)
        pos = len(blob) if text_end < 0 else text_end + 1
    return RawPlot(header.get("title", ""), header.get("plotname", ""), tuple(names),
                   np.array(data, float)), pos
