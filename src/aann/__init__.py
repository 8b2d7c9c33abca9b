"""aann: simulate fully analogue neural networks that train themselves in continuous time.

The public API: describe a network (:class:`Config` and its sections), train it
(:func:`train`), read the :class:`Results`. Block laws and the circuit are in
:mod:`aann.blocks` and :mod:`aann.circuit`; engines in :mod:`aann.engines`.
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)  # the circuit's constants span 1e-13..1e13

from .blocks import (  # noqa: E402
    Activation,
    ChargingSource,
    Derivative,
    IdealMultiplier,
    ParasiticMultiplier,
    Type2,
)
from .circuit import Circuit, build_circuit  # noqa: E402
from .datasets import Dataset, load_dataset  # noqa: E402
from .errors import AannError, SimulationError, ValidationError  # noqa: E402
from .io import random_weights, read_weights  # noqa: E402
from .results import Results  # noqa: E402
from .spec import Blocks, Config, Constants, Network, Solver, Training, load_toml  # noqa: E402
from .stimulus import RowSchedule, Waveform  # noqa: E402
from .train import simulate, train  # noqa: E402
from .units import format_quantity, parse_quantity  # noqa: E402

__all__ = [
    "Activation", "AannError", "Blocks", "ChargingSource", "Circuit", "Config", "Constants",
    "Dataset", "Derivative", "IdealMultiplier", "Network", "ParasiticMultiplier", "Results",
    "RowSchedule", "SimulationError", "Solver", "Training", "Type2", "ValidationError",
    "Waveform", "build_circuit", "format_quantity", "load_dataset", "load_toml",
    "parse_quantity", "random_weights", "read_weights", "simulate", "train",
]
