"""Exporting a description as a SPICE netlist (``aann netlist``)."""

from __future__ import annotations

from .circuit import build_circuit
from .engines.spice.netlist import SpiceOptions, network_netlist, with_edges
from .errors import ValidationError
from .io import check_seed, random_weights
from .prepare import prepare
from .spec import Config


def netlist(config: Config, seed: int | None = None, options: SpiceOptions | None = None,
            dataset=None, init_weights=None, sample: int | None = None) -> tuple[str, dict]:
    """The ngspice netlist of the network ``config`` describes, trained by its row
    schedule, for one initial weight set: that of ``seed`` (a seed of
    ``training.seeds``, any seed >= 0 when the weights are random, or a seed of
    the ``init_weights`` file), by default the first. With ``[mismatch]`` sigmas,
    its circuit is Monte Carlo sample ``sample`` (default: the network's place
    in the batch ``aann train`` runs, i.e. its seed for random weights).
    Returns ``(text, info)`` with ``info = {"seed": S, "t_edge": s, "sample": K}``.
    """
    options = options or SpiceOptions()
    if sample is not None:
        sample = check_seed(sample, "netlist --sample")
        if not config.mismatch.active:
            raise ValidationError("--sample chooses a Monte Carlo sample of [mismatch], but no "
                                  "mismatch sigma is set; add a [mismatch] section")
    position = None  # of the chosen network among those aann train would run
    if seed is not None and config.training.init_weights is None and init_weights is None:
        position = seed
        seed = check_seed(seed, "netlist")
        t = config.training  # only the network asked for, whatever its seed
        init_weights = [{"seed": seed, "layers": random_weights(config.network.sizes, seed,
                                                                t.init_range)}]
    # the nominal circuit here (no draws for networks not exported); the sample below
    prepared = prepare(config, init_weights=init_weights, dataset=dataset,
                       circuit=build_circuit(config))
    seeds = prepared.seeds
    b = _position(seeds, seed)
    circuit = prepared.circuit
    if config.mismatch.active:
        sample = sample if sample is not None else (position if position is not None else b)
        circuit = build_circuit(config, sample=sample, seed=seeds[b])
    elif circuit.rule.per_network:  # the rule's arrays of this network's seed
        circuit = build_circuit(config, seed=seeds[b])
    schedule = prepared.schedule
    if schedule.order.shape[0] > 1:  # shuffled: this network's own order
        schedule = type(schedule)(schedule.dataset, schedule.order[b:b + 1], schedule.Vteach,
                                  schedule.t_row, schedule.t_edge)
    schedule = with_edges(schedule, options)
    title = f"aann {config.network.topology}, initial weights of seed {seeds[b]}" + (
        f", Monte Carlo sample {sample} (mismatch seed {config.mismatch.seed})"
        if sample is not None else "")
    text = network_netlist(circuit, [w[b] for w in prepared.W0], schedule, options=options,
                           title=title, save="probes")
    return text, {"seed": seeds[b], "t_edge": schedule.t_edge, "sample": sample}


def _position(seeds, seed) -> int:
    if seed is None:
        return 0
    if seed in seeds:
        return seeds.index(seed)
    raise ValidationError(f"seed {seed} is not among the initial weight sets {seeds}")
