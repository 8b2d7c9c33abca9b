"""Transistor-level cells of the paper's blocks in SkyWater 130 nm, their ngspice
characterization and the laws fitted to it (docs/cells.md)."""

from .characterization import Characterization, Fit, Sweep, characterize, resolve_cell
from .laws import OffsetActivation, OffsetDerivative, PolynomialMultiplier
from .library import CELLS, PORTS, VCM, VDD, Cell
from .models import CORNERS, models_dir
from .tabulated import Spline, TableActivation, TableDerivative, TableMultiplier

__all__ = ["CELLS", "CORNERS", "PORTS", "VCM", "VDD", "Cell", "Characterization", "Fit",
           "OffsetActivation", "OffsetDerivative", "PolynomialMultiplier", "Spline", "Sweep",
           "TableActivation", "TableDerivative", "TableMultiplier", "characterize",
           "models_dir", "resolve_cell"]
