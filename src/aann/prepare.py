"""One preparation step below every engine: from a description to what is simulated.

:func:`prepare` turns a :class:`aann.Config` (plus optional initial weights, a
data set, a PWL stimulus or a ready circuit) into a :class:`Prepared`: the
circuit, the initial weights of every network stacked into one batch, and the
stimulus (a :class:`aann.RowSchedule` of data rows, or a :class:`aann.Waveform`).
``train``, ``simulate``, the netlist export, checkpoints and the experiments all
start here; the engines take a :class:`Prepared` and import nothing above it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .batch import check_size, network_circuits
from .cancellation import row_period
from .circuit import Circuit, build_circuit
from .datasets import Dataset, for_config
from .errors import ValidationError
from .io import check_seed, random_weights, read_weights
from .rules import per_network
from .spec import Config, Solver, row_learning_rate
from .stimulus import RowSchedule, Waveform


@dataclass(frozen=True)
class Prepared:
    """Everything an engine needs, for a batch of B networks.

    ``W0``: per layer, the initial weights (B, n_out, n_in + 1) in V. Exactly one
    of ``schedule`` (data rows) and ``stimulus`` (PWL sources) is set.
    ``axes``: leaf by leaf of ``circuit`` (``jax.tree.leaves``), 0 where the constant
    leads with the network axis B (one value per network), None where every network
    shares it; None: one circuit serves the whole batch (:mod:`aann.batch` builds
    them; ``circuit_batched`` is ``axes is not None``).
    ``samples``: the Monte Carlo sample of each network (``[mismatch]``), or None.
    """

    config: Config
    circuit: Circuit
    seeds: list
    W0: tuple
    schedule: RowSchedule | None = None
    stimulus: Waveform | None = None
    axes: tuple | None = None
    samples: tuple | None = None

    @property
    def circuit_batched(self) -> bool:
        """The circuit has constants per network (:attr:`axes`)."""
        return self.axes is not None

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
        """``solver`` (default: the description's) with its steps resolved for ``lam``
        and for the blocks' fastest pole."""
        return (solver or self.config.solver).resolved(self.lam, self.stiffness)

    @property
    def stiffness(self) -> float:
        """The longest segment (a row, or a PWL piece) over the fastest pole's time
        constant ``1 / (2 pi f3dB)``; 0 without poles."""
        t = self.schedule.t_row if self.stimulus is None else \
            float(np.max(np.diff(self.stimulus.time)))
        return 2 * math.pi * self.circuit.fastest_pole() * t

    @property
    def circuit_seconds(self) -> float:
        """Circuit time the whole run simulates (s); with autozero the phases too."""
        if self.stimulus is not None:
            return float(self.stimulus.time[-1] - self.stimulus.time[0])
        s, cancellation = self.schedule, self.circuit.cancellation
        if cancellation is None:
            return s.duration
        # with autozero every row lasts t_az longer (aann.cancellation.row_period)
        return s.epochs * s.order.shape[-1] * row_period(cancellation, s.t_row)


def initial_networks(config: Config, init_weights=None) -> list[dict]:
    """Initial weight sets ``[{"seed": S, "layers": [W1, ...]}]``: given (a weights
    JSON path or per-network layer lists), from ``training.init_weights``, or one
    random set per seed."""
    sizes, t = config.network.sizes, config.training
    if init_weights is not None:
        if isinstance(init_weights, (str, bytes)) or hasattr(init_weights, "__fspath__"):
            return read_weights(init_weights, sizes)
        try:
            networks = [n if isinstance(n, dict) else {"seed": k, "layers": n}
                        for k, n in enumerate(init_weights)]
        except TypeError:
            networks = None
        if not networks:
            raise ValidationError("init_weights must be a weights file or a list of at least "
                                  "one network, each a list of per-layer weight arrays")
        for k, n in enumerate(networks):
            if "layers" not in n:
                raise ValidationError(f"init_weights, network {k}: needs 'layers'")
        return [{**n, "seed": check_seed(n.get("seed"), f"init_weights, network {k}")}
                for k, n in enumerate(networks)]
    if t.init_weights is not None:
        return read_weights(t.init_weights, sizes)
    return [{"seed": s, "layers": random_weights(sizes, s, t.init_range)}
            for s in range(t.seeds)]


def stack_weights(config: Config, networks) -> tuple:
    """Per layer, the weights of every network stacked: (B, n_out, n_in + 1), V."""
    shapes = config.network.weight_shapes
    stacked = []
    for l, shape in enumerate(shapes):
        try:
            layer = [np.asarray(n["layers"][l], float) for n in networks]
        except (TypeError, ValueError, KeyError, IndexError):
            layer = None
        if layer is None or any(w.shape != shape for w in layer):
            raise ValidationError(f"initial weights of layer {l + 1} must have shape {shape} "
                                  f"for topology {config.network.topology} (one row per neuron, "
                                  "column 0 its bias weight)")
        if not all(np.all(np.isfinite(w)) for w in layer):
            raise ValidationError(f"initial weights of layer {l + 1} contain NaN or Inf")
        stacked.append(np.stack(layer))
    if any(len(n["layers"]) != len(shapes) for n in networks):
        raise ValidationError(f"initial weights must have {len(shapes)} layer(s) for topology "
                              f"{config.network.topology}")
    return tuple(stacked)


def check_circuit(circuit: Circuit, config: Config, n_networks: int,
                  batched: bool) -> tuple | None:
    """A circuit given from outside must fit the description and the batch; its
    :attr:`Prepared.axes`. Given as ``circuit_batched=True``, every constant with a
    leading axis of ``n_networks`` is per network and every scalar shared: the one
    place where axes are read from arrays (a builder, :mod:`aann.batch`, says them)."""
    if not isinstance(circuit, Circuit):
        raise ValidationError(f"circuit must be an aann.Circuit, not {type(circuit).__name__}")
    if tuple(circuit.sizes) != tuple(config.network.sizes):
        raise ValidationError(f"the circuit's sizes {tuple(circuit.sizes)} differ from "
                              f"network.sizes {tuple(config.network.sizes)}")
    if batched:
        import jax

        leading = {np.shape(x)[0] for x in jax.tree.leaves(circuit) if np.ndim(x)}
        if leading != {n_networks}:
            raise ValidationError(
                f"circuit_batched=True needs the block constants that differ per network "
                f"to have a leading axis of {n_networks} (one value per network; a scalar "
                f"is shared); got leading sizes {sorted(leading) or 'none'}")
        return tuple(0 if np.ndim(x) else None for x in jax.tree.leaves(circuit))
    return None


def _checked_axes(circuit: Circuit, axes, n_networks: int) -> tuple:
    import jax

    leaves = jax.tree.leaves(circuit)
    axes = tuple(axes)
    if len(axes) != len(leaves) or any(a not in (0, None) for a in axes) or any(
            a == 0 and (np.ndim(x) == 0 or np.shape(x)[0] != n_networks)
            for x, a in zip(leaves, axes)):
        raise ValidationError(f"circuit_axes must give, for each of the circuit's "
                              f"{len(leaves)} constants, 0 (it leads with the {n_networks} "
                              "networks) or None (shared)")
    return None if all(a is None for a in axes) else axes


def schedule_for(config: Config, dataset: Dataset, seeds) -> RowSchedule:
    """The row schedule of ``config.training`` over ``dataset`` (shuffles from ``seeds``)."""
    t = config.training
    return RowSchedule.build(dataset, t.t_row, t.epochs, t.teach, t.order, seeds,
                             t.Vteach, t.t_edge)


def prepare(config: Config | None = None, *, init_weights=None, dataset: Dataset | None = None,
            stimulus: Waveform | str | None = None, circuit: Circuit | None = None,
            circuit_batched: bool = False, waveforms: bool = False,
            samples=None, circuit_axes: tuple | None = None) -> Prepared:
    """The :class:`Prepared` run a description gives.

    ``stimulus``: a :class:`Waveform` (or a CSV path) applied instead of the
    data rows. ``circuit`` replaces the circuit built from ``config`` (e.g. one
    batched over parameter sets, with ``circuit_batched``). A run whose arrays
    (with ``waveforms`` if recorded) would exceed :func:`memory_budget` is
    refused before anything is allocated. With ``[mismatch]`` sigmas (and no
    ``circuit``), network k is Monte Carlo sample ``samples[k]`` (default k): the
    circuit is then batched, each network its own drawn constants. A learning rule
    with per-network arrays (feedback alignment) gives each network those of its seed
    (:func:`aann.batch.network_circuits`).
    ``circuit_axes``: the axes of a ``circuit`` batched over the networks, said
    explicitly (:func:`aann.batch.stack_circuits`; ``samples`` then labels the
    networks' Monte Carlo samples); ``circuit_batched=True`` reads them from the
    constants' shapes instead.
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
        dataset = dataset or for_config(config)
        dataset.check_topology(sizes)
    random = init_weights is None and config.training.init_weights is None
    rows = dataset.rows if stimulus is None else int(np.size(stimulus.time))
    if random:  # before generating the weights
        check_size(config, config.training.seeds, rows, waveforms)
    networks = initial_networks(config, init_weights)
    check_size(config, len(networks), rows, waveforms)
    seeds = [n["seed"] for n in networks]
    if stimulus is None:
        schedule = schedule_for(config, dataset, seeds)
    sample_ids, axes = None, None
    if circuit is not None and circuit_axes is not None:
        check_circuit(circuit, config, len(networks), False)
        axes = _checked_axes(circuit, circuit_axes, len(networks))
        sample_ids = None if samples is None else tuple(samples)
    elif circuit is not None:
        axes = check_circuit(circuit, config, len(networks), circuit_batched)
    elif circuit_batched or circuit_axes is not None:
        raise ValidationError("circuit_batched=True needs a circuit= batched over the networks")
    elif config.mismatch.active or per_network(config):
        if config.mismatch.active:
            sample_ids = tuple(range(len(networks)) if samples is None else samples)
            if len(sample_ids) != len(networks):
                raise ValidationError(f"{len(sample_ids)} Monte Carlo sample(s) given for "
                                      f"{len(networks)} network(s); give one per network")
        # each network its own draws and its seed's rule arrays, stacked with axes
        circuit, axes = network_circuits(config, seeds, sample_ids)
    return Prepared(config=config, circuit=circuit or build_circuit(config), seeds=seeds,
                    W0=stack_weights(config, networks), schedule=schedule, stimulus=stimulus,
                    axes=axes, samples=sample_ids)
