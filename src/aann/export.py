"""Exporting a description as a SPICE netlist (``aann netlist``)."""

from __future__ import annotations

from .engines.spice.netlist import SpiceOptions, network_netlist, with_edges
from .errors import ValidationError
from .io import check_seed, random_weights
from .prepare import prepare
from .spec import Config


def netlist(config: Config, seed: int | None = None, options: SpiceOptions | None = None,
            dataset=None, init_weights=None) -> tuple[str, dict]:
    """The ngspice netlist of the network ``config`` describes, trained by its row
    schedule, for one initial weight set: that of ``seed`` (a seed of
    ``training.seeds``, any seed >= 0 when the weights are random, or a seed of
    the ``init_weights`` file), by default the first. Returns ``(text, info)``
    with ``info = {"seed": S, "t_edge": s}``.
    """
    options = options or SpiceOptions()
    if seed is not None and config.training.init_weights is None and init_weights is None:
        seed = check_seed(seed, "netlist")
        t = config.training  # only the network asked for, whatever its seed
        init_weights = [{"seed": seed, "layers": random_weights(config.network.sizes, seed,
                                                                t.init_range)}]
    prepared = prepare(config, init_weights=init_weights, dataset=dataset)
    seeds = prepared.seeds
    if seed is None:
        b = 0
    elif seed in seeds:
        b = seeds.index(seed)
    else:
        raise ValidationError(f"seed {seed} is not among the initial weight sets {seeds}")
    schedule = prepared.schedule
    if schedule.order.shape[0] > 1:  # shuffled: this network's own order
        schedule = type(schedule)(schedule.dataset, schedule.order[b:b + 1], schedule.Vteach,
                                  schedule.t_row, schedule.t_edge)
    schedule = with_edges(schedule, options)
    text = network_netlist(prepared.circuit, [w[b] for w in prepared.W0], schedule,
                           options=options, title=f"aann {config.network.topology}, initial "
                                                  f"weights of seed {seeds[b]}", save="probes")
    return text, {"seed": seeds[b], "t_edge": schedule.t_edge}
