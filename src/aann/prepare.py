"""One preparation step below every engine: from a description to what is simulated.

:func:`prepare` turns a :class:`aann.Config` (plus optional initial weights, a
data set, a PWL stimulus or a ready circuit) into a :class:`Prepared`: the
circuit, the initial weights of every network stacked into one batch, and the
stimulus (a :class:`aann.RowSchedule` of data rows, or a :class:`aann.Waveform`).
``train``, ``simulate``, the netlist export, checkpoints and the experiments all
start here; the engines take a :class:`Prepared` and import nothing above it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .circuit import Circuit, build_circuit
from .datasets import Dataset, load_dataset
from .errors import ValidationError
from .io import random_weights, read_weights
from .spec import Config, Solver, row_learning_rate
from .stimulus import RowSchedule, Waveform


@dataclass(frozen=True)
class Prepared:
    """Everything an engine needs, for a batch of B networks.

    ``W0``: per layer, the initial weights (B, n_out, n_in + 1) in V. Exactly one
    of ``schedule`` (data rows) and ``stimulus`` (PWL sources) is set.
    ``circuit_batched``: the circuit's constants carry a leading axis B (one
    circuit per network); otherwise one circuit serves the batch.
    """

    config: Config
    circuit: Circuit
    seeds: list
    W0: tuple
    schedule: RowSchedule | None = None
    stimulus: Waveform | None = None
    circuit_batched: bool = False

    @property
    def n_networks(self) -> int:
        return len(self.seeds)

    @property
    def rows(self) -> int:
        """Data rows per epoch (0 under a PWL stimulus)."""
        return self.schedule.dataset.rows if self.schedule is not None else 0

    @property
    def lam(self) -> float:
        """The learning rate of one row; under a PWL stimulus that of its longest
        piece at its largest ``Vteach`` (what sizes the solver's steps)."""
        if self.stimulus is None:
            return self.config.lam
        c, s = self.config.constants, self.stimulus
        return row_learning_rate(c.Keta, c.C, float(np.max(np.abs(s.Vteach))),
                                 float(np.max(np.diff(s.time))))

    def solver(self, solver: Solver | None = None) -> Solver:
        """``solver`` (default: the description's) with its steps resolved for ``lam``."""
        return (solver or self.config.solver).resolved(self.lam)

    @property
    def circuit_seconds(self) -> float:
        """Circuit time the whole run simulates (s)."""
        if self.stimulus is not None:
            return float(self.stimulus.time[-1] - self.stimulus.time[0])
        return self.schedule.duration


def initial_networks(config: Config, init_weights=None) -> list[dict]:
    """Initial weight sets ``[{"seed": S, "layers": [W1, ...]}]``: given (a weights
    JSON path or per-network layer lists), from ``training.init_weights``, or one
    random set per seed."""
    sizes, t = config.network.sizes, config.training
    if init_weights is not None:
        if isinstance(init_weights, (str, bytes)) or hasattr(init_weights, "__fspath__"):
            return read_weights(init_weights, sizes)
        return [n if isinstance(n, dict) else {"seed": k, "layers": n}
                for k, n in enumerate(init_weights)]
    if t.init_weights is not None:
        return read_weights(t.init_weights, sizes)
    return [{"seed": s, "layers": random_weights(sizes, s, t.init_range)}
            for s in range(t.seeds)]


def stack_weights(config: Config, networks) -> tuple:
    """Per layer, the weights of every network stacked: (B, n_out, n_in + 1), V."""
    shapes = config.network.weight_shapes
    stacked = []
    for l, shape in enumerate(shapes):
        layer = [np.asarray(n["layers"][l], float) for n in networks]
        if any(w.shape != shape for w in layer):
            raise ValidationError(f"initial weights of layer {l + 1} must have shape {shape} "
                                  f"for topology {config.network.topology}")
        stacked.append(np.stack(layer))
    return tuple(stacked)


def schedule_for(config: Config, dataset: Dataset, seeds) -> RowSchedule:
    """The row schedule of ``config.training`` over ``dataset`` (shuffles from ``seeds``)."""
    t = config.training
    return RowSchedule.build(dataset, t.t_row, t.epochs, t.teach, t.order, seeds,
                             t.Vteach, t.t_edge)


def prepare(config: Config | None = None, *, init_weights=None, dataset: Dataset | None = None,
            stimulus: Waveform | str | None = None, circuit: Circuit | None = None,
            circuit_batched: bool = False) -> Prepared:
    """The :class:`Prepared` run a description gives.

    ``stimulus``: a :class:`Waveform` (or a CSV path) applied instead of the
    data rows. ``circuit`` replaces the circuit built from ``config`` (e.g. one
    batched over parameter sets, with ``circuit_batched``).
    """
    config = config or Config()
    sizes = config.network.sizes
    schedule = None
    if stimulus is not None:
        if not isinstance(stimulus, Waveform):
            stimulus = Waveform.from_csv(stimulus)
        n_in, n_out = np.shape(stimulus.Vin)[1], np.shape(stimulus.Vtarget)[1]
        if (n_in, n_out) != (sizes[0], sizes[-1]):
            raise ValidationError(
                f"topology {config.network.topology} does not match the stimulus, which has "
                f"{n_in} input(s) and {n_out} target(s); use a topology {n_in}-...-{n_out}")
    else:
        dataset = dataset or load_dataset(config.training.dataset)
        dataset.check_topology(sizes)
    networks = initial_networks(config, init_weights)
    seeds = [n["seed"] for n in networks]
    if stimulus is None:
        schedule = schedule_for(config, dataset, seeds)
    return Prepared(config=config, circuit=circuit or build_circuit(config), seeds=seeds,
                    W0=stack_weights(config, networks), schedule=schedule, stimulus=stimulus,
                    circuit_batched=circuit_batched)
