"""A study: many variants (configuration point x seed x Monte Carlo sample) trained in
batches, each batch one engine call and one labelled :class:`aann.Results`.

The sweep planner (:func:`aann.sweep.plan.plan`) groups a study's runs by
:func:`aann.batch.group_key` and cuts the groups by the one memory estimate
(:func:`aann.batch.batch_limit`); :func:`train_variants` stacks a batch's circuits
with explicit axes (:func:`aann.batch.stack_circuits`) and trains it. Sweeps and
Monte Carlo (a sweep over samples) run their batches here.
"""

from __future__ import annotations

import jax

from .batch import Variant, stack_circuits
from .datasets import Dataset
from .engines import Engine, get_engine
from .errors import ValidationError
from .io import random_weights
from .prepare import Prepared, prepare
from .results import Results
from .spec import Solver
from .train import train_prepared


def prepare_variants(variants, axes: tuple | None = (), dataset: Dataset | None = None,
                     waveforms: bool = False) -> Prepared:
    """One batch of ``variants`` (configurations of one group,
    :func:`aann.batch.group_key`) ready for an engine: their circuits stacked along
    ``axes`` (default: read from these circuits, :func:`aann.batch.leaf_axes`),
    network b starting from variant b's weights (or those of its seed), the run
    settings those of the first variant."""
    variants = list(variants)
    if not variants:
        raise ValidationError("a batch needs at least one variant")
    circuit, axes = stack_circuits([v.circuit() for v in variants], axes)
    networks = [{"seed": v.seed, "layers": v.weights if v.weights is not None else
                 random_weights(v.config.network.sizes, v.seed, v.config.training.init_range)}
                for v in variants]
    samples = [v.sample for v in variants]
    return prepare(variants[0].config, init_weights=networks, dataset=dataset,
                   circuit=circuit, circuit_axes=axes or (None,) * len(jax.tree.leaves(circuit)),
                   waveforms=waveforms,
                   samples=None if all(s is None for s in samples) else samples)


def train_variants(variants, *, axes: tuple | None = (), solver: Solver | None = None,
              engine: str | Engine | None = None, dataset: Dataset | None = None,
              progress: bool = False) -> Results:
    """Train ``variants`` in one engine call (:func:`prepare_variants`); ``solver``: the
    native engine's (default: the first variant's, its steps resolved for the batch).
    The results are labelled: seeds, samples (where a variant has one) and every key
    of the variants' ``coords``."""
    variants = list(variants)
    prepared = prepare_variants(variants, axes, dataset)
    if engine is None:
        engine = get_engine("native", solver=solver)
    elif isinstance(engine, str):
        engine = get_engine(engine, **({"solver": solver} if engine == "native" else {}))
    results = train_prepared(prepared, engine, progress=progress)
    keys = list(dict.fromkeys(k for v in variants for k in v.coords))
    if keys:
        results.coords = {k: [v.coords.get(k) for v in variants] for k in keys}
    return results


__all__ = ["Variant", "prepare_variants", "train_variants"]
