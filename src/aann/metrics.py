"""Metrics: figures of a network at the end of every epoch, each registered once by name.

A metric is a function of one network's :class:`Evaluation` (its weights, and the
outputs it gives for every data row with those weights, forward only) declared
with its name, unit and which way is better::

    @aann.register_metric("max_abs_weight", "V", better="lower",
                          doc="the largest |Vw| of any capacitor")
    def max_abs_weight(ev):
        return jnp.max(jnp.stack([jnp.max(jnp.abs(w)) for w in ev.W]))

Every engine evaluates every registered metric after every epoch (the native
engine inside its compiled loop, ngspice from the weights it read back, the
cells from the outputs the transistors gave), and results, checkpoints, Monte
Carlo, sweeps, their stores, exports and reports carry them by name without
naming any. ``mse`` (SPEC section 2) is the first.

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
    output layer's voltages for every data row with those weights, V. ``Vtarget``:
    (rows, n_out), V.
    """

    W: tuple
    Vout: jax.Array
    Vtarget: jax.Array


@dataclass(frozen=True)
class Metric:
    """A registered metric: ``fn(Evaluation) -> scalar``; ``better`` is ``"lower"`` or
    ``"higher"``; ``unit`` as printed (``"V^2"``, ``"V"``, ``""``)."""

    name: str
    unit: str
    better: str
    doc: str
    fn: Callable

    def __call__(self, ev: Evaluation):
        return self.fn(ev)


METRICS: dict[str, Metric] = {}


def register_metric(name: str, unit: str = "", better: str = "lower", doc: str = ""):
    """Function decorator: register ``fn(ev: Evaluation) -> scalar`` as metric ``name``."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a metric's name must be an identifier, not {name!r}")
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher', not {better!r}")

    def add(fn):
        METRICS[name] = Metric(name, unit, better, doc or (fn.__doc__ or "").strip(), fn)
        return fn

    return add


def unregister_metric(name: str) -> None:
    """Remove metric ``name`` (``mse``, which the paper's figures read, stays)."""
    if name == "mse":
        raise ValueError("the mse metric cannot be removed")
    METRICS.pop(name, None)


def names() -> tuple[str, ...]:
    """The registered metrics' names, ``mse`` first (what every engine evaluates)."""
    return tuple(METRICS)


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


def evaluate(circuit, W, X, Y, which: tuple[str, ...]) -> dict:
    """Metrics ``which`` of one network with weights ``W`` over data rows ``X``, ``Y``
    (V): the circuit's forward pass for every row (weights frozen), then each metric."""
    Vout = jax.vmap(lambda x: circuit.output(W, x))(X)
    return evaluate_outputs(W, Vout, Y, which)


def evaluate_outputs(W, Vout, Y, which: tuple[str, ...]) -> dict:
    """Metrics ``which`` of one network whose outputs ``Vout`` (rows, n_out) were
    measured (an engine without the circuit's laws, e.g. transistor cells)."""
    ev = Evaluation(tuple(W), jnp.asarray(Vout), jnp.asarray(Y))
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
