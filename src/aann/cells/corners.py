"""Process corners: a cell characterized at each corner gives a law per corner, and the
network is run with the laws of every corner at once (one batch of variants,
:func:`aann.train_variants`, ``aann reproduce transistor``).

Every corner is fitted with the same law of each kind (:data:`CORNER_LAWS`), so that
the corners differ only in their constants: those become arrays over the batch of
networks and one compiled simulation runs them all.
"""

from __future__ import annotations

from .characterization import Characterization, Fit, characterize
from .library import CELLS
from .models import CORNERS

CORNER_LAWS = {"multiplier": "polynomial", "activation": "sigmoid_offset",
               "derivative": "sigmoid"}
"""The law of each block kind fitted at every corner (the same at every corner)."""
CELL_OF = {"multiplier": "multiplier", "activation": "sigmoid", "derivative": "derivative"}
"""The built-in cell of each block kind."""


def characterize_corners(corners=CORNERS, temp: float = 27.0, points: dict | None = None,
                         update=None, bandwidth: bool = True
                         ) -> dict[str, dict[str, Characterization]]:
    """``{corner: {kind: Characterization}}`` of the three built-in cells;
    ``update(done, description)`` after each of the ``3 * len(corners)`` sweeps."""
    out: dict[str, dict[str, Characterization]] = {}
    done = 0
    for corner in corners:
        out[corner] = {}
        for kind, name in CELL_OF.items():
            if update:
                update(done, f"{name} at {corner}")
            out[corner][kind] = characterize(CELLS[name], corner, temp,
                                             (points or {}).get(kind), bandwidth=bandwidth)
            done += 1
    if update:
        update(done, "done")
    return out


def fit_named(ch: Characterization, law: str) -> Fit:
    """The fit of law ``law`` among the characterization's fits."""
    for fit in ch.fits:
        if fit.law == law:
            return fit
    raise KeyError(f"{ch.cell.name} was not fitted with law {law!r}")


def corner_sections(chars: dict[str, Characterization]) -> dict:
    """The ``[blocks]`` sections of one corner with :data:`CORNER_LAWS`."""
    return {kind: {"law": law, **fit_named(chars[kind], law).constants}
            for kind, law in CORNER_LAWS.items()}
