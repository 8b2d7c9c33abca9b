"""One batch: many networks of a study as one stacked circuit with explicit axes.

A study (a training run, a Monte Carlo run, a sweep, a reproduction) is a list
of :class:`Variant`: a configuration point, the seed of the initial weights and
the Monte Carlo sample. Variants whose configurations differ only in circuit
constants share one compiled call (:func:`group_key`); their circuits are
stacked by :func:`stack_circuits`, which says leaf by leaf which constants lead
with the network axis (``axes``) instead of leaving the engines to guess it
from an array's rank, so a constant shared by every network may be an array
(a table). A learning rule with per-network arrays (feedback alignment's
fixed feedback voltages, :attr:`aann.rules.Rule.per_network`) is built for each
network from its seed, and its arrays are stacked along the network axis like
mismatch draws. :func:`cut` splits a group into batches by the one memory estimate,
:func:`estimate_bytes`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field

import jax
import numpy as np

from .cancellation import Chopper
from .circuit import Circuit, build_circuit
from .errors import ValidationError
from .metrics import names as metric_names
from .spec import Config

MAX_BATCH = 256  # networks per compiled call by default


@dataclass(frozen=True)
class Variant:
    """One network of a study.

    ``config``: its configuration point; ``seed``: the seed of its random initial
    weights (``aann.random_weights(sizes, seed, init_range)``) unless ``weights``
    gives them (per layer, V); ``sample``: its Monte Carlo sample of ``[mismatch]``
    (None: the nominal circuit); ``coords``: labels (the point, swept keys...).
    """

    config: Config
    seed: int
    sample: int | None = None
    weights: tuple | None = None
    coords: dict = field(default_factory=dict)

    def circuit(self) -> Circuit:
        """The circuit of this network: its point's, with its sample's draws and its
        seed's rule arrays (a rule with :attr:`aann.rules.Rule.per_network`)."""
        mismatched = self.sample is not None and self.config.mismatch.active
        return build_circuit(self.config, sample=self.sample if mismatched else None,
                             seed=self.seed)


def _in_instances(path) -> bool:
    return any(getattr(k, "name", None) == "instances" for k in path)


def _in_rule(path) -> bool:
    return bool(path) and getattr(path[0], "name", None) == "rule"


def leaf_axes(circuits) -> tuple | None:
    """Which leaves of circuits of one structure (``jax.tree.leaves``) are per network:
    0 where a leaf differs between the circuits, holds per-instance draws
    (``Circuit.instances``) or an array of a rule drawn per network
    (:attr:`aann.rules.Rule.per_network`), None where it is shared (arrays included);
    None when every leaf is shared. Asked of a group's circuits (one per
    configuration point), the axes serve each of its batches, so a group compiles
    once."""
    circuits = list(circuits)
    paths, treedef = jax.tree_util.tree_flatten_with_path(circuits[0])
    if any(jax.tree.structure(c) != treedef for c in circuits):
        raise ValueError("circuits of one batch must have the same structure")
    flat = [jax.tree.leaves(c) for c in circuits[1:]]
    per_network = circuits[0].rule.per_network
    axes = tuple(0 if _in_instances(path) or (per_network and _in_rule(path))
                 or any(not _same(f[i], first) for f in flat)
                 else None for i, (path, first) in enumerate(paths))
    return None if all(a is None for a in axes) else axes


def stack_circuits(circuits, axes: tuple | None = ()) -> tuple[Circuit, tuple | None]:
    """The circuits of a batch's networks as one circuit and its axes (leaf by leaf, 0:
    stacked along a new leading network axis, None: the first circuit's, shared).

    ``axes``: as :func:`leaf_axes` gives them (the default: read from these circuits);
    None: no leaf is stacked, the first circuit serves the batch. The circuits must
    have one structure (the same laws and switches: :func:`group_key`).
    """
    circuits = list(circuits)
    if axes == ():
        axes = leaf_axes(circuits)
    if axes is None:
        return circuits[0], None
    flat = [jax.tree.leaves(c) for c in circuits]
    if any(len(f) != len(axes) for f in flat):
        raise ValueError("circuits of one batch must have the same structure")
    leaves = [np.stack([np.asarray(f[i]) for f in flat]) if a == 0 else flat[0][i]
              for i, a in enumerate(axes)]
    return jax.tree.unflatten(jax.tree.structure(circuits[0]), leaves), tuple(axes)


def sample_circuits(config: Config, samples, seeds=None) -> tuple[Circuit, tuple | None]:
    """The nominal circuit of ``config`` with Monte Carlo samples ``samples`` (one per
    network) stacked (:func:`stack_circuits`); the nominal circuit, axes None, when
    ``[mismatch]`` draws nothing (and the rule nothing per network). ``seeds``: the
    networks' seeds, for a rule with per-network arrays (None: seed 0's for all)."""
    samples = list(samples)
    return network_circuits(config, [0] * len(samples) if seeds is None else seeds,
                            samples)


def network_circuits(config: Config, seeds, samples=None) -> tuple[Circuit, tuple | None]:
    """The circuits of the networks of seeds ``seeds`` stacked with explicit axes
    (:func:`stack_circuits`): network b the nominal circuit with Monte Carlo sample
    ``samples[b]`` of ``[mismatch]`` (None: no draws) and, for a rule with per-network
    arrays (:attr:`aann.rules.Rule.per_network`), the rule of seed ``seeds[b]``. The
    nominal circuit, axes None, when nothing is drawn per network. Network b's circuit
    does not depend on the others: the same alone or in any batch."""
    from .mismatch import draw
    from .rules import build_rule

    seeds = list(seeds)
    nominal = build_circuit(config)
    draws = [None] * len(seeds)
    if samples is not None:
        samples = list(samples)
        if len(samples) != len(seeds):
            raise ValueError("give one Monte Carlo sample per network")
        draws = [draw(nominal, config.mismatch, k) for k in samples]
    per_network = nominal.rule.per_network
    if all(d is None for d in draws) and not per_network:
        return nominal, None
    circuits = [dataclasses.replace(
        nominal, instances=d, **({"rule": build_rule(config, s)} if per_network else {}))
        for s, d in zip(seeds, draws)]
    return stack_circuits(circuits)


def circuit_at(circuit: Circuit, axes: tuple | None, b: int) -> Circuit:
    """Network ``b``'s circuit of a batch's ``circuit`` stacked along ``axes``
    (:attr:`aann.Prepared.axes`; None: the circuit serves every network)."""
    if axes is None:
        return circuit
    leaves = [x if a is None else np.asarray(x)[b]
              for x, a in zip(jax.tree.leaves(circuit), axes)]
    return jax.tree.unflatten(jax.tree.structure(circuit), leaves)


def memory_budget() -> float:
    """Bytes a run may hold in its arrays: ``$AANN_MEMORY_GB`` GiB, or half this
    machine's memory."""
    given = os.environ.get("AANN_MEMORY_GB")
    if given:
        try:
            return float(given) * 2**30
        except ValueError:
            raise ValidationError(f"AANN_MEMORY_GB = {given!r} is not a number of GiB") from None
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def estimate_bytes(config: Config, n_networks: int, rows: int, waveforms: bool) -> float:
    """The memory the arrays of a run need, before any is allocated (bytes).

    Per network: the weights and solver stages, the weights and metrics after every
    epoch, the row order of every epoch, and with ``waveforms`` the sampled
    signals and the weights at every sample of a chunk of epochs.
    """
    B, E = float(n_networks), float(config.training.epochs)
    sizes = config.network.sizes
    n_cap = float(config.network.n_capacitors)
    kept = n_cap if config.training.record == "weights" else 0
    oc = config.offset_cancellation  # segments a row: the edge ramp, then the hold, or
    # the chopper's intervals of constant s (and s2), or the autozero phase and the row
    pieces = 1 + Chopper(periods_per_row=oc.periods_per_row, demodulator=oc.demodulator,
                         phase=oc.phase, charging_periods=oc.charging_periods).segments \
        if oc.method == "chopper" else {"none": 2, "autozero": 3}[oc.method]
    per_row = pieces * config.solver.samples_per_row if waveforms else 0
    signals = sizes[0] + 2 * sizes[-1] + 2  # Vin, Vtarget, Vout, Vteach, time
    return 8 * (B * n_cap * 16  # weights, peak currents, solver stages
                + B * E * (kept + 3 + len(metric_names()))  # W_epoch, W_min, W_max,
                # step_error, every metric
                + E * rows * (B if config.training.order == "shuffle" else 1)
                + B * E * rows * per_row * signals
                + B * E / 20 * rows * per_row * n_cap)


def check_size(config: Config, n_networks: int, rows: int, waveforms: bool = False) -> None:
    """Refuse a run whose arrays would not fit the :func:`memory_budget`, with the estimate."""
    need, budget = estimate_bytes(config, n_networks, rows, waveforms), memory_budget()
    if need > budget:
        raise ValidationError(
            f"this run needs about {need / 2**30:.3g} GiB for its arrays ({n_networks} "
            f"network(s) of {config.network.n_capacitors} capacitors, "
            f"{config.training.epochs} epochs of {rows} rows"
            + (", waveforms" if waveforms else "") + f"), more than the {budget / 2**30:.3g} "
            "GiB allowed; use fewer networks, epochs or capacitors"
            + (" or no waveforms" if waveforms else "")
            + ", or raise AANN_MEMORY_GB")


def _same(a, b) -> bool:
    return np.shape(a) == np.shape(b) and bool(np.all(np.asarray(a) == np.asarray(b)))


def _is_zero(x) -> bool:
    """A literal 0 (a Python number): the blocks skip such a constant altogether."""
    return isinstance(x, int | float) and x == 0


def _circuit_constant_keys() -> set:
    from .blocks import ChargingSource
    from .params import params_of

    return set(params_of(ChargingSource)) | set(params_of(Circuit))


def group_key(config: Config) -> tuple:
    """What networks that share a compiled call must have in common: every setting
    that is not a circuit constant (with ``solver.steps`` resolved), the circuit's
    structure (block laws, switches, mismatch keys drawn), and which constants are
    literally 0 (the blocks skip them)."""
    settings = config.to_dict()
    for name in ("blocks", "mismatch"):
        settings.pop(name, None)
    constants = _circuit_constant_keys()
    settings["constants"] = {k: v for k, v in settings["constants"].items()
                             if k not in constants}
    settings["training"] = {k: v for k, v in settings["training"].items() if k != "seeds"}
    settings["solver"] = dataclasses.asdict(config.solver.resolved(config.lam))
    circuit = build_circuit(config, sample=0 if config.mismatch.active else None)
    leaves, treedef = jax.tree.flatten(circuit)
    return (json.dumps(settings, sort_keys=True, default=str), str(treedef),
            tuple(np.shape(x) for x in leaves), tuple(_is_zero(x) for x in leaves))


def batch_limit(config: Config, rows: int, cap: int | None = None) -> int:
    """The most networks of ``config`` (at most ``cap``, default :data:`MAX_BATCH`, at
    least 1) whose arrays fit :func:`memory_budget` by the one estimate,
    :func:`estimate_bytes` (it grows with the batch): the batch size of a sweep's
    group and of a Monte Carlo run."""
    cap = cap or MAX_BATCH
    budget = memory_budget()
    if estimate_bytes(config, cap, rows, False) <= budget:
        return cap
    lo, hi = 1, cap
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if estimate_bytes(config, mid, rows, False) <= budget \
            else (lo, mid - 1)
    return lo


def cut(items: list, limit: int) -> list[list]:
    """``items`` in order, cut into the fewest parts of at most ``limit``, of near-equal
    sizes (the first parts one larger)."""
    if not items:
        return []
    parts = -(-len(items) // limit)
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        n = size + (1 if i < extra else 0)
        out.append(items[start:start + n])
        start += n
    return out
