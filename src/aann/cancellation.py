"""Dynamic offset cancellation of the error path: chopper stabilization and autozeroing
(``[offset_cancellation]``, docs/cancellation.md).

An offset added anywhere between the error block and a charging source (the error
block's ``Voff``; the delta, charge and Type2 multipliers' offsets) makes a charging
current of its own at zero error. Two standard techniques of analogue design remove it
(Enz & Temes, Proc. IEEE 84(11) 1996):

* :class:`Chopper`: a square wave ``s(t) = +-1`` swaps the error block's two inputs
  (so ``VE = s (Vout - Vtarget) + Voff`` for the difference law: the block's own offset
  sits after the modulator) and multiplies each charging source's input by the same
  ``s(t)`` (``demodulator = "output"``: each source's output current instead, so the
  source's own offset is chopped too). The signal is modulated twice (``s^2 = 1``)
  and passes; every offset added in between is modulated once and averages out over
  each period. ``periods_per_row`` whole periods a row, so a constant offset cancels
  exactly over a row. ``charging_periods`` nests a faster chopper ``s2`` in each
  charging source (its input times ``s2``, its output demodulated by ``s s2``): the
  source's own offset is then chopped at ``s s2``, its ripple on a weight that many
  times smaller. The engines switch ``s`` (and ``s2``) at segment boundaries (native)
  or with ``PULSE`` sources (ngspice).
* :class:`Autozero`: before each row a phase of ``t_az`` in which the charging sources
  are disconnected (learning off) and the error block's two inputs are tied together
  (``Vtarget`` replaced by ``Vout``, so ``VE`` is the block's own offset). What then
  reaches each charging source, the whole path's offset for this row's inputs, is
  held on a capacitor ``C_az`` (one per charging source) and subtracted while the row
  is learned. The held value is state of the simulation; it carries the sampling
  switch's injected charge ``Q_inj / C_az`` and, with ``[nonideal] temperature``, the
  kT/C_az noise of the sample. Every row lasts ``t_az`` longer.

The circuit holds the technique (:attr:`aann.Circuit.cancellation`, built from the
description by :func:`build_cancellation`); :class:`Switches` is what its switches do
during one segment of the simulation, which the circuit's vector field reads
(:meth:`aann.Circuit.d_dt`). The functions :func:`error_inputs` and
:func:`source_input` are written once with a math namespace ``m`` like the block laws:
the native engine calls them with arrays, the netlist writer with
:class:`aann.blocks.Expr` node voltages.

What each technique costs (:func:`costs`): switches and capacitors per weight and per
neuron, the physical time a row takes, the chopping frequency and what the blocks'
bandwidth allows (:func:`chopper_settling`).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from .blocks import K_BOLTZMANN

METHODS = ("none", "chopper", "autozero")


PHASES = (0, 90)
"""The chopper clock's phases a row may start at (degrees)."""


class Chopper(eqx.Module):
    """Chopper stabilization of the error path: ``periods_per_row`` whole periods of
    ``s(t) = sgn sin(2 pi periods_per_row t / t_row + phase)`` in every row (``t`` from
    the row's start): at ``phase`` 0, ``s = +1`` in the first half of each period; at
    90, in its first and last quarters."""

    periods_per_row: int = eqx.field(static=True, default=1)
    demodulator: str = eqx.field(static=True, default="input")
    """``input``: ``s`` multiplies what reaches each charging source; ``output``: it
    multiplies the source's current (the source's own offset is then chopped too)."""
    phase: int = eqx.field(static=True, default=0)
    """The clock's phase at the row's start (degrees, one of :data:`PHASES`). At 90 the
    triangle a constant offset rides on a weight within a row is odd about the row's
    middle, so its mean over the row is zero; at 0 it lies to one side, its mean
    ``lambda Vos / (4 periods_per_row)`` (docs/cancellation.md)."""
    charging_periods: int = eqx.field(static=True, default=0)
    """The charging sources' own chopper ``s2`` (``demodulator = "output"``), periods a row
    at phase 90, a whole multiple of ``2 periods_per_row`` so that none of its instants
    meets one of ``s``; 0: none. Each source reads ``s2`` times its input and its current
    is demodulated by ``s s2``: the signal passes, the source's own offset is chopped at
    ``s s2`` (its ripple ``charging_periods / periods_per_row`` times smaller)."""

    method = "chopper"

    def __check_init__(self):
        why = nesting(self.charging_periods, self.periods_per_row)
        if why or (self.charging_periods and self.demodulator != "output"):
            raise ValueError(f"charging_periods = {self.charging_periods!r}: "
                             f"{why or 'needs demodulator = output'}")

    @property
    def segments(self) -> int:
        """Intervals of constant ``s`` (and ``s2``) in a row: the ``2 periods_per_row``
        half periods, at ``phase`` 90 with the first cut in two quarters (the row's first
        and last); with ``charging_periods``, those cut at every instant of ``s2``."""
        return len(self.grid()[0]) + 1

    def unit(self, t_row: float) -> float:
        """The unit of :meth:`grid` (s): the half period of the fastest clock, ``t_row /
        (2 charging_periods)``, else :meth:`half_period`."""
        return t_row / (2 * (self.charging_periods or self.periods_per_row))

    def grid(self) -> tuple:
        """The segments of a row: ``(cuts, s, s2)``: the instants between them (in
        :meth:`unit`, exact halves and wholes, ``segments - 1`` of them), and the value of
        ``s`` and of ``s2`` (None without ``charging_periods``) in each segment."""
        n = self.charging_periods or self.periods_per_row
        ratio = n // self.periods_per_row  # units a half period of s
        s_cuts = [(j - 0.5 if self.phase else j) * ratio
                  for j in range(1, 2 * self.periods_per_row + (1 if self.phase else 0))]
        s2_cuts = [j - 0.5 for j in range(1, 2 * n + 1)] if self.charging_periods else []
        cuts = sorted(s_cuts + s2_cuts)
        mid = [0.0, *cuts]
        s = [1.0 - 2.0 * (sum(c <= m for c in s_cuts) % 2) for m in mid]
        s2 = [1.0 - 2.0 * (sum(c <= m for c in s2_cuts) % 2) for m in mid] \
            if self.charging_periods else None
        return cuts, s, s2

    def boundaries(self, t_row: float) -> list[float]:
        """The segments' ends within a row (s from its start): 0, the :meth:`grid`'s
        cuts, the row's end."""
        u = self.unit(t_row)
        return [0.0, *(c * u for c in self.grid()[0]),
                2 * (self.charging_periods or self.periods_per_row) * u]

    def half_period(self, t_row: float) -> float:
        """``t_row / (2 periods_per_row)`` (s)."""
        return t_row / (2 * self.periods_per_row)

    def switching_times(self, t_row: float) -> list[float]:
        """The instants ``s`` switches at within a row (s from its start, ``2
        periods_per_row - 1`` of them, one more at ``phase`` 90, the row's own ends not
        counted); ``s = +1`` before the first."""
        h, n = self.half_period(t_row), 2 * self.periods_per_row + (1 if self.phase else 0)
        if self.phase:
            return [(j - 0.5) * h for j in range(1, n)]
        return [j * h for j in range(1, n)]

    def toggle_times(self, t_row: float, rows: int) -> list[float]:
        """The instants ``s`` changes sign over ``rows`` rows run back to back from 0 (s):
        each row's :meth:`switching_times` and, at ``phase`` 0 (``s = -1`` at a row's
        end, ``+1`` at the next one's start), every row's end but the last."""
        within = self.switching_times(t_row)
        ends = [] if self.phase else [t_row]
        times = [r * t_row + t for r in range(rows) for t in within + ends]
        return times if self.phase else times[:-1]

    def frequency(self, t_row: float) -> float:
        """The chopping frequency ``periods_per_row / t_row`` (Hz)."""
        return self.periods_per_row / t_row

    def row_period(self, t_row: float) -> float:
        """A row's physical time (s): ``t_row`` (the chopper adds none)."""
        return t_row


def nesting(charging_periods, periods_per_row: int) -> str | None:
    """Why the sources' own chopper of ``charging_periods`` a row cannot run inside a
    chopper of ``periods_per_row`` (None: it can; 0 is none): it must be a whole multiple
    of ``2 periods_per_row``, so that none of its instants meets one of ``s`` (where the
    demodulator ``s s2`` would not switch)."""
    if isinstance(charging_periods, int) and not isinstance(charging_periods, bool) \
            and charging_periods >= 0 and charging_periods % (2 * periods_per_row) == 0:
        return None
    return (f"the charging sources' own chopper needs a whole multiple of 2 x "
            f"periods_per_row = {2 * periods_per_row} (e.g. {8 * periods_per_row}), so that "
            "none of its edges meets the chopper's; or 0 for none")


class Autozero(eqx.Module):
    """Autozeroing of the error path: a phase of ``t_az`` before every row, the path's
    offset held on ``C_az`` per charging source with the sampling switch's charge
    ``Q_inj``. ``t_az`` is static (it sets the segments' times, one for the batch)."""

    t_az: float = eqx.field(static=True, default=0.01e-12)
    C_az: float = 0.1e-12
    Q_inj: float = 0.0

    method = "autozero"

    def row_period(self, t_row: float) -> float:
        """A row's physical time (s): the phase and the row, ``t_az + t_row``."""
        return self.t_az + t_row

    def hold(self, sampled, temperature=0.0, key=None):
        """What ``C_az`` holds after the sampling switch opens on ``sampled`` (V, per
        charging source): the sample, plus ``Q_inj / C_az``, plus, with a PRNG ``key``,
        a draw of the kT/C noise ``sqrt(k T / C_az) z`` (``temperature`` in K, a scalar
        or per charging source)."""
        held = sampled if _is_zero(self.Q_inj) else sampled + self.Q_inj / self.C_az
        if key is not None:
            sigma = jnp.sqrt(K_BOLTZMANN * jnp.asarray(temperature, float) / self.C_az)
            held = held + sigma * jax.random.normal(key, jnp.shape(sampled))
        return held


class Switches(eqx.Module):
    """What the cancellation's switches do during one segment of the simulation.

    ``sign``: the chopper's ``s = +-1`` (None: no chopper). ``held``: per layer, what
    the autozero capacitors hold (V, shaped like the weights), subtracted from every
    charging source's input while a row is learned (None: nothing held). ``phase``:
    the autozero phase, the error forced to zero and every charging source off."""

    sign: jax.Array | float | None = None
    held: tuple | None = None
    phase: bool = eqx.field(static=True, default=False)
    inner: jax.Array | float | None = None
    """The charging sources' own chopper's ``s2 = +-1`` (None: none)."""


def _is_zero(x) -> bool:
    return isinstance(x, (int, float)) and x == 0


def error_inputs(Vout, Vtarget, *, sign=None, phase=None):
    """The error block's two inputs as the switches present them (``m``-agnostic: plain
    arithmetic, so arrays and :class:`aann.blocks.Expr` alike).

    ``sign`` (the chopper's ``s``, +1 or -1; in a netlist a node voltage that moves
    between them): the inputs swapped when ``s = -1``, ``((1+s)/2 Vout + (1-s)/2
    Vtarget, (1+s)/2 Vtarget + (1-s)/2 Vout)``. ``phase`` (the autozero phase, 1 during
    it, 0 else): ``Vtarget`` replaced by ``Vout``, ``(Vout, phase Vout + (1-phase)
    Vtarget)``. With ``s``, ``phase`` exactly +-1 or 0/1 the arithmetic is exact."""
    if sign is not None:
        a, b = (1 + sign) * 0.5, (1 - sign) * 0.5
        return a * Vout + b * Vtarget, a * Vtarget + b * Vout
    if phase is not None:
        return Vout, phase * Vout + (1 - phase) * Vtarget
    return Vout, Vtarget


def demodulator_signs(cancellation, sign, inner=None):
    """Where the chopper's ``s`` (``sign``) demodulates: ``(s at the charging sources'
    inputs, s on their output currents)``, one of them None (both where ``sign`` is);
    with the sources' own chopper's ``s2`` (``inner``): ``(s2, s s2)``."""
    if isinstance(cancellation, Chopper) and cancellation.demodulator == "output":
        return (None, sign) if inner is None else (inner, sign * inner)
    return sign, None


def source_input(Vgrad, *, sign=None, held=None):
    """What reaches a charging source's input: ``s * Vgrad`` behind the chopper's
    demodulator, ``Vgrad - held`` with the autozero capacitor's value subtracted."""
    if sign is not None:
        return sign * Vgrad
    if held is not None:
        return Vgrad - held
    return Vgrad


def source_output(Icharged, *, sign=None):
    """A charging source's current as it reaches the capacitor: ``s * Icharged`` behind
    a demodulator on its output (``demodulator = "output"``), else unchanged."""
    return Icharged if sign is None else sign * Icharged


def build_cancellation(config):
    """The technique ``[offset_cancellation]`` of :class:`aann.spec.Config` ``config``
    describes: a :class:`Chopper`, an :class:`Autozero`, or None (``method = "none"``)."""
    oc = config.offset_cancellation
    if oc.method == "chopper":
        return Chopper(periods_per_row=oc.periods_per_row, demodulator=oc.demodulator,
                       phase=oc.phase, charging_periods=oc.charging_periods)
    if oc.method == "autozero":
        return Autozero(t_az=oc.t_az, C_az=oc.C_az, Q_inj=oc.Q_inj)
    return None


def row_period(cancellation, t_row: float) -> float:
    """A row's physical time (s) under ``cancellation`` (None: ``t_row``)."""
    return t_row if cancellation is None else cancellation.row_period(t_row)


def start_switches(cancellation):
    """The switches at the start of a run (what the poles settle at): the chopper's
    first half period, the autozero phase; None without cancellation."""
    if isinstance(cancellation, Chopper):
        return Switches(sign=1.0, inner=1.0 if cancellation.charging_periods else None)
    if isinstance(cancellation, Autozero):
        return Switches(phase=True)
    return None


def sample_times(schedule, cancellation, n_samples: int):
    """Waveform sample times (s) of a row schedule under ``cancellation`` (None: the
    schedule's own, :meth:`aann.RowSchedule.sample_times`): ``n_samples`` evenly spaced
    from the start of each segment the native engine solves, in its order: the edge
    ramp (if any), then the chopper's intervals of constant ``s`` (and ``s2``), or the
    rest of the autozero phase and the learned row."""
    import numpy as np

    if cancellation is None:
        return schedule.sample_times(n_samples)
    t_row, t_edge = schedule.t_row, schedule.t_edge
    T = cancellation.row_period(t_row)
    t0 = np.arange(schedule.epochs * schedule.order.shape[-1]) * T
    if isinstance(cancellation, Chopper):
        times = [t_edge, *cancellation.boundaries(t_row)[1:]]
        bounds = list(zip(times[:-1], times[1:]))
    else:
        bounds = [(t_edge, cancellation.t_az), (cancellation.t_az, T)]
    if t_edge > 0:
        bounds.insert(0, (0.0, t_edge))
    j = np.arange(n_samples) / n_samples
    pieces = [t0[:, None] + a + (b - a) * j for a, b in bounds]
    return np.concatenate(pieces, axis=1).reshape(-1)


def check_edges(cancellation, t_row: float, t_edge: float) -> None:
    """A :class:`aann.ValidationError` unless a row edge of ``t_edge`` (s) ends where the
    segments allow: before the chopper's ``s`` (or ``s2``) first switches, or the end of
    the autozero phase (where the sources move). The one check of the description
    (:class:`aann.Config`) and of the engines."""
    from .errors import ValidationError

    if isinstance(cancellation, Chopper):
        half, first = cancellation.half_period(t_row), cancellation.boundaries(t_row)[1]
        if t_edge >= first:
            what = ("a quarter period of the sources' own chopper"
                    if cancellation.charging_periods else "a quarter period at phase 90"
                    if cancellation.phase else "a half period")
            raise ValidationError(
                f"training.t_edge = {t_edge:g} s is not shorter than the chopper's first "
                f"interval, {what} = {first:g} s (t_row / (2 periods_per_row) = {half:g} s); "
                "the row edge must end before s (or s2) first switches: shorten t_edge or "
                "use fewer periods_per_row (charging_periods)")
    elif isinstance(cancellation, Autozero) and t_edge >= cancellation.t_az:
        raise ValidationError(
            f"training.t_edge = {t_edge:g} s is not shorter than the autozero phase t_az = "
            f"{cancellation.t_az:g} s; the row edge happens within the phase (learning off): "
            "shorten t_edge or lengthen offset_cancellation.t_az")


def chopped_chain(circuit) -> tuple:
    """The time constants (s) of the slowest chain of poles between the chopper's two
    modulators: from the output error block's ``VE`` through the deltas (and, for a
    hidden layer, the Type2 stages the rule wires, :meth:`aann.rules.Rule.type2_source`)
    to a charge multiplier's ``Vgrad``. The forward pass (``Vout``, ``Vd``, ``u``) is not
    chopped: its poles do not count. Empty without poles there."""
    import numpy as np

    def tau(l, name):
        f = np.asarray(circuit.pole_f3dB(l, name), float)
        f = f[f > 0]
        return (float(1 / (2 * math.pi * f.min())),) if f.size else ()

    n = len(circuit.sizes) - 1
    VE, Vdelta = [()] * n, [()] * n
    VE[n - 1] = tau(n - 1, "VE")
    for l in reversed(range(n)):
        Vdelta[l] = VE[l] + tau(l, "Vdelta")
        if l:
            VE[l - 1] = Vdelta[circuit.rule.type2_source(l, n)] + tau(l - 1, "VE")
    return max((Vdelta[l] + tau(l, "Vgrad") for l in range(n)), key=sum)


def chopper_loss(tau: float, half_period: float) -> float:
    """The share of the learning signal a first-order pole of time constant ``tau``
    between the modulators loses at half period ``h``: in the periodic steady state its
    output slews from ``-Y`` to ``Y = u tanh(h / 2 tau)`` after every switch, and the
    demodulated mean over a half period is ``u (1 - (2 tau / h) tanh(h / 2 tau))``; the
    loss ``(2 tau / h) tanh(h / 2 tau)`` is ``2 tau / h`` for ``h >> tau`` and 1 for
    ``h << tau`` (the signal chopped away)."""
    if tau <= 0:
        return 0.0
    x = half_period / (2 * tau)
    return math.tanh(x) / x


def chopper_settling(circuit, periods_per_row: int, t_row: float) -> dict:
    """What the blocks' poles cost the chopper at ``periods_per_row`` and ``t_row``.

    Returns ``tau`` (s: the slowest chain between the modulators, :func:`chopped_chain`,
    as the sum of its time constants, its Elmore delay: the integral of ``1 - `` its step
    response, so the learning signal a switch costs, ``2 u sum(tau)``, is exact for any
    chain once the half period is long against it, and the loss formula exact for one
    pole), ``half_period`` (s), ``loss`` (:func:`chopper_loss`, 0 without poles) and
    ``max_frequency`` (Hz: the chopping frequency at which the loss reaches 10 %,
    ``h = 20 tau``, i.e. ``1 / (40 tau)``; inf without poles)."""
    h = t_row / (2 * periods_per_row)
    tau = sum(chopped_chain(circuit))
    return {"tau": tau, "half_period": h, "loss": chopper_loss(tau, h),
            "max_frequency": 1 / (40 * tau) if tau > 0 else math.inf}


def costs(config) -> dict:
    """What ``config``'s offset cancellation adds to the circuit, read from its sizes
    (docs/cancellation.md, "Cost"):

    ``switches_per_weight``, ``capacitors_per_weight``: at each charging source (the
    chopper's demodulator: 4 switches, a cross-coupled pair on the differential input;
    the autozero's sampling switch and ``C_az``, and the switch that disconnects the
    source during the phase; the sources' own chopper, ``charging_periods``, 4 more on
    each source's input); ``switches_per_output_neuron``: at each output neuron's
    error block (the chopper's input modulator, 4 switches; autozero's 2 switches that
    tie its inputs together); ``switches``, ``capacitors``: the network's totals;
    ``row_time``: a row's physical time (s), ``time_factor`` over ``t_row``;
    ``chopping_frequency`` (Hz, 0 without the chopper)."""
    oc, sizes, t_row = config.offset_cancellation, config.network.sizes, config.training.t_row
    weights = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    outputs = sizes[-1]
    per_weight = {"none": (0, 0), "chopper": (8 if oc.charging_periods else 4, 0),
                  "autozero": (2, 1)}[oc.method]
    per_neuron = {"none": 0, "chopper": 4, "autozero": 2}[oc.method]
    row = t_row + (oc.t_az if oc.method == "autozero" else 0.0)
    return {"method": oc.method, "switches_per_weight": per_weight[0],
            "capacitors_per_weight": per_weight[1], "switches_per_output_neuron": per_neuron,
            "switches": weights * per_weight[0] + outputs * per_neuron,
            "capacitors": weights * per_weight[1], "row_time": row,
            "time_factor": row / t_row,
            "chopping_frequency": oc.periods_per_row / t_row if oc.method == "chopper"
            else 0.0}
