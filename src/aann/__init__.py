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
    ConstantDerivative,
    Derivative,
    IdealMultiplier,
    Multiplier,
    OutputError,
    ParasiticMultiplier,
    SignMultiplier,
    Type2,
    register_law,
)
from .circuit import Circuit, build_circuit  # noqa: E402
from .datasets import Dataset, load_dataset  # noqa: E402
from .engines import Engine, Run, get_engine  # noqa: E402
from .engines.native import Native  # noqa: E402
from .engines.spice import Ngspice, SpiceOptions  # noqa: E402
from .errors import AannError, SimulationError, ValidationError  # noqa: E402
from .export import netlist  # noqa: E402
from .io import random_weights, read_weights  # noqa: E402
from .metrics import Goal, Metric, register_metric, unregister_metric  # noqa: E402
from .montecarlo import MonteCarlo, montecarlo  # noqa: E402
from .params import Param, param  # noqa: E402
from .prepare import Prepared, prepare  # noqa: E402
from .results import Divergence, Results  # noqa: E402
from .rules import Backprop, Rule, register_rule  # noqa: E402
from .spec import (  # noqa: E402
    Blocks,
    BlockSpec,
    Config,
    Constants,
    Data,
    Network,
    Solver,
    Training,
    load_toml,
)
from .stimulus import RowSchedule, Waveform  # noqa: E402
from .study import Variant, train_variants  # noqa: E402
from .train import simulate, train  # noqa: E402
from .units import format_quantity, parse_quantity  # noqa: E402

__all__ = [
    "Activation", "AannError", "BlockSpec", "Blocks", "ChargingSource", "Circuit", "Config",
    "Constants", "Data", "Dataset", "Derivative", "Divergence", "Engine", "IdealMultiplier",
    "Multiplier", "Native", "Network", "Ngspice", "OutputError", "Param", "ParasiticMultiplier",
    "Prepared", "Results", "RowSchedule", "Run", "SimulationError", "Solver", "SpiceOptions",
    "Training", "Type2", "ValidationError", "Waveform", "build_circuit", "format_quantity",
    "get_engine", "load_dataset", "load_toml", "netlist", "param", "parse_quantity", "prepare",
    "random_weights", "read_weights", "register_law", "simulate", "train",
]
__all__ += ["MonteCarlo", "montecarlo"]  # Monte Carlo yield (aann.montecarlo)
__all__ += ["Goal", "Metric", "register_metric", "unregister_metric"]  # aann.metrics
__all__ += ["Variant", "train_variants"]  # studies: many variants in one batch (aann.study)
__all__ += ["Backprop", "Rule", "register_rule"]  # learning rules (aann.rules)
__all__ += ["ConstantDerivative", "SignMultiplier"]  # laws for rule studies (docs/model.md)
from .cancellation import Autozero, Chopper  # noqa: E402
from .spec import CellNetwork, OffsetCancellation  # noqa: E402

# offset cancellation of the error path (aann.cancellation, docs/cancellation.md)
__all__ += ["Autozero", "Chopper", "OffsetCancellation"]
__all__ += ["CellNetwork"]  # [cells]: the network of SkyWater cells (docs/cells.md)
from .energy import Energy  # noqa: E402

__all__ += ["Energy"]  # power, energy and area of a run (aann.energy, docs/energy.md)
from .sweep import Sweep, SweepResults, load_sweep, load_sweep_results, run_sweep  # noqa: E402

# sweeps (aann.sweep, docs/sweeps.md)
__all__ += ["Sweep", "SweepResults", "load_sweep", "load_sweep_results", "run_sweep"]
from .cells import (  # noqa: E402
    Cell,
    Characterization,
    OffsetActivation,
    OffsetDerivative,
    PolynomialMultiplier,
    TableActivation,
    TableDerivative,
    TableMultiplier,
    characterize,
)

# SkyWater 130 nm cells, their characterization and fitted laws (aann.cells, docs/cells.md)
__all__ += ["Cell", "Characterization", "OffsetActivation", "OffsetDerivative",
            "PolynomialMultiplier", "TableActivation", "TableDerivative", "TableMultiplier",
            "characterize"]
