"""Metrics: figures of a network at the end of every epoch, each registered once by name.

A metric is a function of one network's :class:`Evaluation` (its weights, and the
outputs it gives for every data row with those weights, forward only) declared
with its name, unit and which way is better::

    @aann.register_metric("max_abs_weight", "V", better="lower",
                          doc="the largest |Vw| of any capacitor")
    def max_abs_weight(ev):
        return jnp.max(jnp.stack([jnp.max(jnp.abs(w)) for w in ev.W]))

Every engine evaluates every registered metric that the run's data allows after
every epoch (the native engine inside its compiled loop, ngspice from the weights
it read back, the cells from the outputs the transistors gave), and results,
checkpoints, Monte Carlo, sweeps, their stores, exports and reports carry them by
name without naming any. ``mse`` (SPEC section 2) is the first. A metric that reads
the held-out rows or the classes says so (``needs=("test", "classes")``) and is
evaluated only where the data set has them: ``test_mse``, ``train_accuracy`` and
``test_accuracy`` (docs/tasks.md).

The outputs a metric reads are those the circuit gives with learning off
(``Vteach = 0``, the weights frozen at the epoch's end), through the same blocks,
non-idealities and Monte Carlo sample as the training, once settled.

Whether a network *learned* is defined here once, by a :class:`Goal` (a metric
and a threshold) and the divergence flags: :func:`learned`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .errors import ValidationError, short_repr


class Evaluation(NamedTuple):
    """What a metric reads of one network at an epoch's end (JAX arrays, traced).

    ``W``: per layer the weights (n_out, n_in + 1), V. ``Vout``: (rows, n_out) the
    output layer's voltages for every training row with those weights, V.
    ``Vtarget``: (rows, n_out), V. ``labels``: the class of every training row (None:
    not a classification). ``levels``: (Vlow, Vhigh), V. ``Vout_test``,
    ``Vtarget_test``, ``labels_test``: the same for the held-out rows (None: none).
    """

    W: tuple
    Vout: jax.Array
    Vtarget: jax.Array
    labels: jax.Array | None = None
    levels: jax.Array | None = None
    Vout_test: jax.Array | None = None
    Vtarget_test: jax.Array | None = None
    labels_test: jax.Array | None = None


class Rows(NamedTuple):
    """The rows metrics are evaluated on, as JAX arrays (a pytree, passed traced):
    ``X``, ``Y`` the training rows (V), ``labels``, ``levels`` = (Vlow, Vhigh) and
    ``X_test``, ``Y_test``, ``labels_test``, each None where the data set has none."""

    X: jax.Array
    Y: jax.Array
    labels: jax.Array | None = None
    levels: jax.Array | None = None
    X_test: jax.Array | None = None
    Y_test: jax.Array | None = None
    labels_test: jax.Array | None = None

    @classmethod
    def of(cls, dataset) -> Rows:
        """The rows of an :class:`aann.Dataset` (its ``test`` rows too)."""
        def arr(a, dtype=None):
            return None if a is None else jnp.asarray(a, dtype)

        t = dataset.test
        return cls(arr(dataset.X, float), arr(dataset.Y, float), arr(dataset.labels),
                   arr(dataset.levels, float), arr(t and t.X, float), arr(t and t.Y, float),
                   arr(t and t.labels))


@dataclass(frozen=True)
class Metric:
    """A registered metric: ``fn(Evaluation) -> scalar``; ``better`` is ``"lower"`` or
    ``"higher"``; ``unit`` as printed (``"V^2"``, ``"V"``, ``""``)."""

    name: str
    unit: str
    better: str
    doc: str
    fn: Callable
    needs: tuple = ()

    def __call__(self, ev: Evaluation):
        return self.fn(ev)

    def applies(self, dataset) -> bool:
        """The data set has what this metric reads (held-out rows, classes)."""
        has = set()
        if dataset is not None and dataset.labels is not None:
            has.add("classes")
        if dataset is not None and dataset.test is not None:
            has.add("test")
        return set(self.needs) <= has


METRICS: dict[str, Metric] = {}


NEEDS = ("test", "classes")


def register_metric(name: str, unit: str = "", better: str = "lower", doc: str = "",
                    needs: tuple = ()):
    """Function decorator: register ``fn(ev: Evaluation) -> scalar`` as metric ``name``;
    ``needs``: what of the data it reads beyond the training rows (``"test"``: the
    held-out rows, ``"classes"``: the rows' classes), evaluated only where present."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a metric's name must be an identifier, not {name!r}")
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher', not {better!r}")
    if not set(needs) <= set(NEEDS):
        raise ValueError(f"needs must be among {NEEDS}, not {needs!r}")

    def add(fn):
        METRICS[name] = Metric(name, unit, better, doc or (fn.__doc__ or "").strip(), fn,
                               tuple(needs))
        return fn

    return add


def unregister_metric(name: str) -> None:
    """Remove metric ``name`` (``mse``, which the paper's figures read, stays)."""
    if name == "mse":
        raise ValueError("the mse metric cannot be removed")
    METRICS.pop(name, None)


def names(dataset=None) -> tuple[str, ...]:
    """The registered metrics an engine evaluates on ``dataset`` (None: a data set of
    training rows alone, neither held-out rows nor classes), ``mse`` first."""
    return tuple(name for name, m in METRICS.items() if m.applies(dataset))


def ordered(values: dict) -> dict:
    """``values`` by metric name in the registry's order (``mse`` first; JAX returns
    a dict's keys sorted); names no longer registered follow in their own order."""
    first = [k for k in METRICS if k in values]
    return {k: values[k] for k in first + [k for k in values if k not in METRICS]}


def metric(name: str) -> Metric:
    """The metric registered as ``name``; an unknown name is a :class:`ValidationError`."""
    try:
        return METRICS[name]
    except (KeyError, TypeError):
        raise ValidationError(f"unknown metric {short_repr(name)}; known: "
                              + ", ".join(METRICS)) from None


@register_metric("mse", "V^2", "lower",
                 "mean over rows and outputs of (Vout - Vtarget)^2, weights frozen (SPEC 2)")
def mse(ev: Evaluation):
    return jnp.mean((ev.Vout - ev.Vtarget) ** 2)


@register_metric("test_mse", "V^2", "lower", "mse over the held-out rows", needs=("test",))
def test_mse(ev: Evaluation):
    return jnp.mean((ev.Vout_test - ev.Vtarget_test) ** 2)


def predicted_class(Vout, levels):
    """Class per row of ``Vout`` (rows, outputs): the highest output; one output: 1
    above the midpoint of ``levels`` = (Vlow, Vhigh)."""
    if Vout.shape[-1] == 1:
        return (Vout[..., 0] > 0.5 * (levels[0] + levels[1])).astype(jnp.int32)
    return jnp.argmax(Vout, axis=-1)


def share(hits):
    """The fraction of true ``hits``, exactly ``count / rows``: ``jnp.mean`` divides by
    a constant (or by one shared over a vmapped batch), which XLA turns into a product
    with its reciprocal: 7 of 10 rows then read 0.7000000000000001, above a goal of 0.7."""
    count = jnp.sum(hits.astype(float))
    return count / (0.0 * count + hits.size)  # a divisor as batched as the count


@register_metric("train_accuracy", "", "higher",
                 "share of training rows whose highest output is their class",
                 needs=("classes",))
def train_accuracy(ev: Evaluation):
    return share(predicted_class(ev.Vout, ev.levels) == ev.labels)


@register_metric("test_accuracy", "", "higher",
                 "share of held-out rows whose highest output is their class",
                 needs=("test", "classes"))
def test_accuracy(ev: Evaluation):
    return share(predicted_class(ev.Vout_test, ev.levels) == ev.labels_test)


def evaluate(circuit, W, rows: Rows, which: tuple[str, ...]) -> dict:
    """Metrics ``which`` of one network with weights ``W`` over ``rows``: the circuit's
    forward pass for every row (weights frozen, learning off), then each metric."""
    def outputs(X):
        return None if X is None else jax.vmap(lambda x: circuit.output(W, x))(X)

    return evaluate_outputs(W, outputs(rows.X), rows, which, outputs(rows.X_test))


def evaluate_outputs(W, Vout, rows: Rows, which: tuple[str, ...], Vout_test=None) -> dict:
    """Metrics ``which`` of one network whose outputs ``Vout`` (rows, n_out) on the
    training rows (and ``Vout_test`` on the held-out ones) are given, computed or
    measured (an engine without the circuit's laws, e.g. transistor cells)."""
    ev = Evaluation(tuple(W), jnp.asarray(Vout), rows.Y, rows.labels, rows.levels,
                    Vout_test, rows.Y_test, rows.labels_test)
    return {name: METRICS[name](ev) for name in which}


# --- learned: a metric and a goal ---------------------------------------------------

@dataclass(frozen=True)
class Goal:
    """A network has reached the goal when its ``metric`` is below ``value`` (above, for
    a metric whose higher values are better). The default: final MSE < 0.01 V^2."""

    metric: str = "mse"
    value: float = 0.01

    def __post_init__(self):
        metric(self.metric)  # an unknown name says which exist
        v = self.value
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) \
                or not math.isfinite(v):
            raise ValidationError(f"goal = {short_repr(v)}: the {self.metric} a network must "
                                  "reach to count as learned must be a finite number")
        if self.metric == "mse" and v <= 0:
            raise ValidationError(f"goal = {short_repr(v)}: the MSE a sample must end below "
                                  "to count as learned must be a number > 0 (V^2), e.g. 0.01")
        object.__setattr__(self, "value", float(v))

    @property
    def lower(self) -> bool:
        return METRICS[self.metric].better == "lower"

    def met(self, values) -> np.ndarray:
        """Elementwise: ``values`` reach the goal (NaN never does)."""
        v = np.asarray(values, float)
        with np.errstate(invalid="ignore"):
            return (v < self.value) if self.lower else (v > self.value)

    def first_epoch(self, per_epoch_values) -> np.ndarray:
        """Per network (rows of (B, epochs)), the first epoch (1-based) that reaches the
        goal; 0 if none does."""
        v = np.asarray(per_epoch_values, float)
        if v.ndim != 2 or v.shape[1] == 0:
            return np.zeros(v.shape[0] if v.ndim else 0, int)
        hit = self.met(v)
        return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 0)

    def describe(self) -> str:
        """``final mse < 0.01 V^2``."""
        unit = METRICS[self.metric].unit
        return (f"final {self.metric} {'<' if self.lower else '>'} {self.value:g}"
                + (f" {unit}" if unit else ""))

    @property
    def key(self) -> str:
        """The name of the first-epoch figure: ``first_epoch_below_0.01``."""
        return f"first_epoch_{'below' if self.lower else 'above'}_{self.value:g}"


DEFAULT_GOAL = Goal()


def learned(final, diverged, goal: Goal = DEFAULT_GOAL) -> np.ndarray:
    """Per network: its final value of ``goal.metric`` (``final``: a dict of final
    values by metric, or that metric's array) reaches the goal and it did not diverge
    (``diverged``: a flag or the epoch it diverged at, 0 = not)."""
    values = final[goal.metric] if isinstance(final, dict) else final
    return goal.met(values) & ~(np.asarray(diverged) > 0)
