"""Digital baselines on the same split and encoding as a circuit run (docs/tasks.md).

:func:`baselines` trains, for every seed of a description, on exactly the rows the
circuit trains on (``aann.datasets.for_config``: the same split, the same voltages):

* ``digital_sgd``: the same network (sizes, the initial weights each seed gives the
  circuit, ``aann.prepare(config).W0``) trained by online per-row SGD in JAX at
  ``lr = lambda`` in the circuit's row order (``[training] order``, a new permutation
  per epoch under ``shuffle``): the limit the ideal circuit tends to for small lambda
  (SPEC section 2, :mod:`aann.digital`). It follows the circuit's learning rule
  (``[training] rule``) and the laws that belong to it (:data:`RULE_LAWS`: a constant
  derivative, sign charging): under any rule but the paper's with its ideal blocks it
  is :func:`aann.digital.rule_sgd` on the rule's ideal circuit (:func:`rule_circuit`),
  one step per row of that circuit's own charging currents, ``W + I t_row / C``, with
  the rule's own fixed arrays (feedback matrices); under the paper's it is
  :func:`aann.digital.sgd_jax` (the same steps up to rounding). Its figures are the
  circuit's metrics (:mod:`aann.metrics`: a row's class is its highest output; one
  output: above the midpoint of the levels), evaluated on its outputs.
* ``sklearn_mlp``: scikit-learn's ``MLPClassifier`` (``MLPRegressor`` for targets
  without classes) with the same hidden layers, ``activation="logistic"``, its
  default solver (adam, minibatches of 200, lr 1e-3), ``max_iter`` =
  :data:`MLP_MAX_ITER` and ``random_state`` = the seed, fitted on the encoded
  training rows: what a user would reach for. Its own initial weights and a softmax
  (identity) output layer: a reference for what the topology can reach, not the
  circuit's dynamics.

Without held-out rows both are scored on the training rows (``evaluated_on``).
"""

from __future__ import annotations

import time
import warnings
from functools import lru_cache

import numpy as np

from . import metrics as _metrics
from .digital import _forward_jax, rule_sgd, sgd_jax
from .errors import ValidationError
from .prepare import prepare
from .rules import DEFAULT_RULE
from .spec import Blocks, Nonideal, from_dict

MLP_MAX_ITER = 2000
"""Epochs scikit-learn's MLP may take. Its default (200) leaves adam unconverged on
these sets; with 2000, digits 64-16-10 stops on its own tolerance after about 850
epochs and iris 4-8-3 reaches 93-96 % test accuracy at the cap (measured)."""
FIGURES = ("mse", "test_mse", "train_accuracy", "test_accuracy")
RULE_LAWS = {"derivative": ("constant",), "multiplier.charge": ("sign",)}
"""Block laws that are part of a learning rule, not imperfections of its parts (block
name as :data:`aann.blocks.BLOCKS` spells it -> law names): a designer's choice to
drop the derivative block (``constant``) or charge every weight by a fixed current of
the product's sign (``sign``). A rule's digital baseline keeps them; every other law
is replaced by the ideal one (:func:`rule_config`)."""
IMPERFECT_KEYS = ("Voff1", "Voff", "Ioff", "f3dB")
"""Constants of a kept law that are imperfections (offsets, bandwidth): the ideal
circuit of a rule has them at their defaults (0)."""


def _kept(spec) -> dict:
    """A block section's law and the constants it reads, its imperfections left out."""
    return {k: v for k, v in spec.to_dict().items() if k not in IMPERFECT_KEYS}


def rule_config(config):
    """The ideal circuit of ``config``'s learning rule, as a description: the same
    network, training, constants and data, ``[training] rule`` with its keys (the
    feedback's seed and range), the laws of :data:`RULE_LAWS` it uses (without their
    offsets and bandwidth), every other block ideal, no ``[nonideal]``, no
    ``[mismatch]``, no ``[offset_cancellation]``."""
    from .blocks import ROLES

    blocks = {}
    if config.blocks.derivative.law in RULE_LAWS.get("derivative", ()):
        blocks["derivative"] = _kept(config.blocks.derivative)
    roles = {role: _kept(config.blocks.multiplier.role(role)) for role in ROLES
             if config.blocks.multiplier.role(role).law in RULE_LAWS.get(f"multiplier.{role}",
                                                                         ())}
    if roles:
        blocks["multiplier"] = roles
    data = {k: v for k, v in config.to_dict().items()
            if k not in ("nonideal", "mismatch", "offset_cancellation")}
    data["blocks"] = blocks
    return from_dict(data)


def rule_circuit(config, seeds=(0,)):
    """The ideal circuit of ``config``'s rule (:func:`rule_config`) for the networks of
    seeds ``seeds``, and its axes: what :func:`aann.digital.rule_sgd` steps to train that
    rule digitally. A rule whose arrays are drawn per network (feedback alignment) gives
    network b the arrays of seed ``seeds[b]``, the circuit's own, stacked along axis 0
    (:func:`aann.batch.network_circuits`); otherwise one circuit, axes None."""
    from .batch import network_circuits

    return network_circuits(rule_config(config), list(seeds))


def is_paper_rule(config) -> bool:
    """The rule of ``config`` is the paper's (backprop) with no law of :data:`RULE_LAWS`:
    its digital baseline is plain SGD on the true gradient."""
    ideal = rule_config(config)
    return ideal.training.rule == DEFAULT_RULE and ideal.blocks == Blocks()


def rule_text(config) -> str:
    """``backprop``, or the rule with the laws of :data:`RULE_LAWS` it uses, e.g.
    ``feedback_alignment, derivative constant, charge sign``."""
    ideal = rule_config(config)
    laws = []
    if ideal.blocks.derivative.law in RULE_LAWS.get("derivative", ()):
        laws.append(f"derivative {ideal.blocks.derivative.law}")
    for role in ("forward", "delta", "charge", "type2"):
        law = ideal.blocks.multiplier.role(role).law
        if law in RULE_LAWS.get(f"multiplier.{role}", ()):
            laws.append(f"{role} {law}")
    return ", ".join([ideal.training.rule, *laws])


def _summary(per_seed: dict) -> dict:
    """median/min/max of every per-seed list of numbers."""
    out = {}
    for key, values in per_seed.items():
        if any(isinstance(x, bool) for x in values):
            continue
        v = np.asarray(values, float)
        if v.size and np.all(np.isfinite(v)):
            out[key] = {"median": float(np.median(v)), "min": float(v.min()),
                        "max": float(v.max())}
    return out


def digital_sgd(prepared, networks=None) -> list:
    """One :class:`aann.digital.DigitalRun` per network (index into ``prepared``'s batch,
    default all): per-row SGD from its initial weights at ``lr = lambda``, its row order,
    under the circuit's rule (module docstring; a rule other than the paper's: every
    network in one compiled call, ``seconds`` the batch's wall time over its networks)."""
    schedule = prepared.schedule
    ds, order = schedule.dataset, schedule.order
    networks = list(range(prepared.n_networks) if networks is None else networks)
    if not is_paper_rule(prepared.config):
        cfg = prepared.config
        circuit, axes = rule_circuit(cfg, [prepared.seeds[b] for b in networks])
        run = rule_sgd(circuit, [w[networks] for w in prepared.W0], ds.X, ds.Y,
                       cfg.training.t_row, schedule.epochs,
                       order=order[networks] if order.shape[0] > 1 else order[0],
                       Vteach=schedule.Vteach, metrics=(), axes=axes)
        return run.networks()
    runs = []
    for k, b in enumerate(networks):
        W0 = [w[b] for w in prepared.W0]
        runs.append(sgd_jax(W0, ds.X, ds.Y, prepared.config.lam, schedule.epochs,
                            Vbias=prepared.config.constants.Vbias, with_mse=False,
                            warmup=k == 0, order=order[b if order.shape[0] > 1 else 0]))
    return runs


@lru_cache(maxsize=8)
def _evaluator(which: tuple):
    import jax

    def evaluate(W, rows, Vbias):
        def outputs(X):
            return None if X is None else jax.vmap(lambda x: _forward_jax(W, x, Vbias))(X)

        return _metrics.evaluate_outputs(W, outputs(rows.X), rows, which, outputs(rows.X_test))

    return jax.jit(evaluate)


def digital_figures(W, dataset, Vbias: float = 1.0) -> dict:
    """The figures of :data:`FIGURES` the data set allows, of a digital network with
    weights ``W``, by :mod:`aann.metrics`' own definitions (compiled once per shape)."""
    import jax.numpy as jnp

    which = tuple(n for n in FIGURES if _metrics.METRICS[n].applies(dataset))
    values = _evaluator(which)(tuple(jnp.asarray(w, float) for w in W),
                               _metrics.Rows.of(dataset), jnp.asarray(Vbias, float))
    return {k: float(v) for k, v in values.items()}


def sklearn_mlp(dataset, hidden, seed: int, max_iter: int = MLP_MAX_ITER) -> dict:
    """scikit-learn's MLP on ``dataset``'s encoded training rows: its figures (accuracy
    for classes, MSE in V^2 for targets; ``test_*`` on the held-out rows), wall time,
    epochs taken and whether it converged before ``max_iter``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    classify = dataset.labels is not None
    cls = MLPClassifier if classify else MLPRegressor
    model = cls(hidden_layer_sizes=tuple(hidden), activation="logistic", max_iter=max_iter,
                random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        model.fit(dataset.X, dataset.labels if classify else dataset.Y)
        seconds = time.perf_counter() - t0
    out = {"seconds": seconds, "epochs": int(model.n_iter_),
           "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught)}
    for prefix, part in (("", dataset), ("test_", dataset.test)):
        if part is None:
            continue
        if classify:
            name = "train_accuracy" if prefix == "" else "test_accuracy"
            out[name] = float(model.score(part.X, part.labels))
        else:
            pred = np.asarray(model.predict(part.X), float).reshape(part.Y.shape)
            out[prefix + "mse"] = float(np.mean((pred - part.Y) ** 2))
    return out


def baselines(config, dataset=None, seeds=None) -> dict:
    """The digital baselines of a description's run (module docstring), per seed and
    their median/min/max. ``dataset``: the encoded rows (default: the description's);
    ``seeds``: which of the run's seeds (default all)."""
    prepared = prepare(config, dataset=dataset)
    if prepared.schedule is None:
        raise ValidationError("baselines need data rows, not a PWL stimulus")
    ds = prepared.schedule.dataset
    if seeds is None:
        networks = list(range(prepared.n_networks))
    else:
        unknown = [s for s in seeds if s not in prepared.seeds]
        if unknown:
            raise ValidationError(f"seed {unknown[0]} is not one of the run's seeds "
                                  f"{prepared.seeds}")
        networks = [prepared.seeds.index(s) for s in seeds]
    cfg, sizes = prepared.config, config.network.sizes
    notes = []
    if ds.test is None:
        notes.append("the data set has no held-out rows: every figure is on the training rows")
    ideal = rule_config(cfg)
    if cfg.blocks != ideal.blocks or cfg.nonideal != Nonideal() or cfg.mismatch.active:
        notes.append("digital SGD is the ideal network of the rule; this circuit's blocks, "
                     "[nonideal] or [mismatch] differ from the ideal ones, so it is not its "
                     "small-step limit")
    if cfg.training.teach != "always" and is_paper_rule(cfg):
        notes.append(f"digital SGD learns in every epoch; the circuit's teach = "
                     f"{cfg.training.teach!r} does not")
    sgd = {"seconds": []}
    for run in digital_sgd(prepared, networks):
        sgd["seconds"].append(run.seconds)
        for k, v in digital_figures(run.W_final, ds, cfg.constants.Vbias).items():
            sgd.setdefault(k, []).append(v)
    mlp = {}
    for b in networks:
        for k, v in sklearn_mlp(ds, sizes[1:-1], int(prepared.seeds[b]) % 2**32).items():
            mlp.setdefault(k, []).append(v)
    return {
        "dataset": ds.name, "topology": config.network.topology,
        "seeds": [prepared.seeds[b] for b in networks], "train_rows": ds.rows,
        "test_rows": 0 if ds.test is None else ds.test.rows,
        "evaluated_on": "test" if ds.test is not None else "train", "notes": notes,
        "digital_sgd": {"framework": "jax", "lr": cfg.lam, "epochs": cfg.training.epochs,
                        "order": cfg.training.order, "rule": rule_text(cfg), "per_seed": sgd,
                        "summary": _summary(sgd)},
        "sklearn_mlp": {"model": "MLPClassifier" if ds.labels is not None else "MLPRegressor",
                        "settings": {"hidden_layer_sizes": list(sizes[1:-1]),
                                     "activation": "logistic", "solver": "adam",
                                     "max_iter": MLP_MAX_ITER,
                                     "random_state": "the seed (mod 2**32)"},
                        "per_seed": mlp, "summary": _summary(mlp)},
    }


def circuit_figures(results) -> dict:
    """The circuit's final figures of :data:`FIGURES` per seed, their median/min/max
    and its wall time (all seeds at once), as :func:`baselines` gives the others'."""
    per_seed = {n: [float(v) for v in results.final(n)] for n in FIGURES
                if n in results.metrics}
    return {"engine": results.engine, "seeds": list(results.seeds), "per_seed": per_seed,
            "summary": _summary(per_seed), "seconds": results.wall_seconds}


def headline(report: dict) -> str:
    """The figure the baselines are compared on: ``test_accuracy`` (``train_accuracy``
    without held-out rows), or the MSE for targets without classes."""
    test = report["evaluated_on"] == "test"
    if report["sklearn_mlp"]["model"] == "MLPClassifier":
        return "test_accuracy" if test else "train_accuracy"
    return "test_mse" if test else "mse"


def comparison_table(report: dict, results=None):
    """A rich Table: the circuit (from ``results``, if given), digital SGD and the
    scikit-learn MLP, each the median (min..max) of the headline figure and wall time."""
    from rich.table import Table

    name = headline(report)
    percent = name.endswith("accuracy")

    def fmt(s):
        if s is None:
            return "-"
        f = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:.3g}")
        return f"{f(s['median'])} ({f(s['min'])} .. {f(s['max'])})"

    sgd, mlp = report["digital_sgd"], report["sklearn_mlp"]
    where = "held-out" if report["evaluated_on"] == "test" else "training (none held out)"
    table = Table(title=f"{report['topology']} on {report['dataset']}, "
                        f"{len(report['seeds'])} seed(s), {where} rows",
                  caption="wall time: the circuit all seeds at once, compilation included; "
                          f"the baselines seed after seed, compilation excluded; digital "
                          f"SGD at lr = lambda = {sgd['lr']:.3g}, the circuit's row order")
    for col in ("method", f"{name.replace('_', ' ')}: median (min .. max)", "wall time"):
        table.add_column(col, justify="right")
    if results is not None and results.epochs_done and name in results.metrics:
        table.add_row(f"circuit, {results.engine}",
                      fmt(_summary({name: list(results.final(name))}).get(name)),
                      f"{results.wall_seconds:.2f} s")
    for label, part in (("digital SGD, JAX", sgd), (f"{mlp['model']}, scikit-learn", mlp)):
        table.add_row(label, fmt(part["summary"].get(name)),
                      f"{sum(part['per_seed']['seconds']):.3g} s")
    return table
