"""The native engine: the circuit's training transient solved by diffrax.

The run is a sequence of segments within which every source is linear in
time (a held data row, a row-edge ramp, a PWL piece). Each segment is solved
on its own, starting exactly on its first edge and ending on its last, so no
step ever crosses a discontinuity; ``lax.scan`` chains the segments. A batch
of networks (initial weights and/or circuit constants) is stepped by one
solver whose vector field is the circuit ``vmap``-ed over the batch.
Everything is compiled once per shape by ``jax.jit``.

Stepping: ``fixed`` takes ``steps`` equal steps per segment with the diffrax
solver's own ``step`` (the fast path; its embedded error estimate, or for a
solver without one (Euler) step doubling, is kept as a divergence check);
``adaptive`` (and any run recording waveforms) calls ``diffrax.diffeqsolve``,
with ``PIDController`` and ``rtol``/``atol`` when adaptive (error-controlled,
for checking the fixed path). A row-edge ramp gets as many steps as the row:
short as it is, the inputs sweep the sigmoids during it (measured on XOR: one
step per 1 fs ramp errs by ~1e-8 V per epoch, which the plateau escape
amplifies to tens of mV). An edge below 1e-12 of the run's duration is ideal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, NamedTuple

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optimistix as optx

from .. import checkpoint as ck
from .. import metrics as _metrics
from ..cancellation import Autozero, Chopper, Switches, check_edges, start_switches
from ..circuit import Circuit
from ..errors import ValidationError
from ..progress import progress_bar
from ..spec import Solver
from ..stimulus import RowSchedule, Waveform
from .base import Engine, EngineInfo, EpochRecords, Run
from .solvers import unrolled

SOLVERS = {
    "tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5, "dopri8": diffrax.Dopri8,
    "heun": diffrax.Heun, "euler": diffrax.Euler, "kvaerno5": diffrax.Kvaerno5,
}
MAX_ADAPTIVE_STEPS = 4096  # per segment
UNROLL = 2  # fixed-step loop unrolling (compile time vs run time): the default 2 steps a
# row run as straight-line code, 10 % faster than a loop at 1000 networks of 2-8-1
ROW_UNROLL = 1  # rows per scan iteration


def _frac(t, t0, t1):
    """How far ``t`` is through the segment ``[t0, t1]``; 1 (not 0/0) for a segment of zero
    length, whose steps have length 0: the sources jump to its end, as at an ideal edge."""
    return jnp.where(t1 > t0, (t - t0) / (t1 - t0), 1.0)


def axes_tree(circuit, axes: tuple | None):
    """The ``vmap`` axes of a circuit batched over networks, as a pytree like the
    circuit: ``axes`` gives, leaf by leaf (``jax.tree.leaves(circuit)``), 0 for a
    constant with a leading network axis, None for one shared by every network. The
    builder of the batch says which (:attr:`aann.Prepared.axes`); nothing here infers
    it from an array's rank. ``axes = None``: one circuit for the whole batch."""
    if axes is None:
        return None
    return jax.tree.unflatten(jax.tree.structure(circuit), list(axes))


def _sources(t, t0, t1, s0, s1):
    """``(Vin, Vtarget, Vteach)`` at ``t``: linear from ``s0`` at ``t0`` to ``s1`` at
    ``t1``; ``s1 = None``: held at ``s0`` (the flat part of a row, where skipping the
    interpolation saves a kernel launch per evaluation)."""
    if s1 is None:
        return s0
    frac = _frac(t, t0, t1)
    return tuple(a + (b - a) * frac for a, b in zip(s0, s1))


def _slope(t0, t1, s0, s1):
    """``dVteach/dt`` (V/s) over a segment whose sources move linearly, None when held."""
    if s1 is None:
        return None
    return jnp.where(t1 > t0, (s1[2] - s0[2]) / jnp.where(t1 > t0, t1 - t0, 1.0), 0.0)


def _field(t, y, args):
    circuit, t0, t1, s0, s1, *switches = args  # switches: the offset cancellation's
    return circuit.d_dt(y, *_sources(t, t0, t1, s0, s1), _slope(t0, t1, s0, s1), *switches)


def _batched_field(circuit_axis):
    """``_field`` for a whole batch: the state ``y = (W, lags)`` and the sources have a
    leading axis B, and so have the circuit's constants that ``circuit_axis``
    (:func:`axes_tree`, or None: one circuit for all) maps. One solver then steps
    every network at once, which XLA compiles to far faster code than a vmapped
    solver loop."""

    def field(t, y, args):
        circuit, t0, t1, s0, s1, *switches = args
        x, yt, vt = _sources(t, t0, t1, s0, s1)
        dvt = _slope(t0, t1, s0, s1)
        if switches:  # the offset cancellation's: the chopper's sign shared, held per network
            sw = switches[0]

            def one(c, y, x, yt, vt, dvt, held):
                return c.d_dt(y, x, yt, vt, dvt, dataclasses.replace(sw, held=held))

            return jax.vmap(one, in_axes=(circuit_axis, 0, 0, 0, 0, 0, 0))(
                circuit, y, x, yt, vt, dvt, sw.held)
        if dvt is None:
            return jax.vmap(lambda c, y, x, yt, vt: c.d_dt(y, x, yt, vt),
                            in_axes=(circuit_axis, 0, 0, 0, 0))(circuit, y, x, yt, vt)
        return jax.vmap(lambda c, y, x, yt, vt, dvt: c.d_dt(y, x, yt, vt, dvt),
                        in_axes=(circuit_axis, 0, 0, 0, 0, 0))(circuit, y, x, yt, vt, dvt)

    return field


def _segment(circuit, W, t0, t1, s0, s1, solver: Solver, n_samples: int, batch=False,
             reduce_error=True, switches=None):
    """Solve one segment, its sources linear from ``s0`` to ``s1`` (None: held at ``s0``);
    ``switches``: what the offset cancellation's switches do during it
    (:class:`aann.cancellation.Switches`, None: no cancellation).

    ``W`` is the circuit's state ``(weights, lagged block outputs)`` (see
    :meth:`aann.Circuit.d_dt`). Returns the state at ``t1``; the state at
    ``n_samples`` times from ``t0`` (or None); the ok flag; the largest local error
    estimate of a fixed step (V; 0 when the stepping is adaptive, which controls
    it); the state's ``d/dt`` at ``t0`` when the solver evaluated it anyway (FSAL on
    the fast path), else None.
    ``reduce_error=False``: the error estimate stays per value (a pytree like
    ``W``), for a caller that reduces it once over many segments (the reduction
    over a network's few weights costs more than a whole stage on a CPU).
    ``batch``: False for one network, else, for a batch of networks (``W``, ``s0``,
    ``s1`` with a leading axis B; the error estimate is then per network), the
    circuit's axes (:func:`axes_tree`) or None for one circuit shared by all.
    """
    field = _field if batch is False else _batched_field(batch)
    err_of = _max_abs if batch is False else _max_abs_per_network
    fast = solver.stepping == "fixed" and not n_samples
    term, method = diffrax.ODETerm(field), _method(solver, (t1 - t0) / solver.steps, fast)
    args = (circuit, t0, t1, s0, s1) + (() if switches is None else (switches,))
    if fast:
        # The fast path: the solver's own step function on an exact grid, in a
        # fori_loop (an unrolled loop would compile for minutes at many steps).
        # Each step's embedded error estimate is kept: its largest |value| (V)
        # tells a trustworthy run from garbage when the steps are too long.
        h = (t1 - t0) / solver.steps

        def step(j, carry):
            W, state, err, ok = carry
            ta = t0 + j * h
            tb = jnp.where(j == solver.steps - 1, t1, ta + h)
            W_next, W_err, _, state_next, result = method.step(term, ta, tb, W, args, state,
                                                               False)
            if W_err is None:  # no embedded estimate (Euler): step doubling
                tm = (ta + tb) / 2
                W_mid, _, _, state_mid, _ = method.step(term, ta, tm, W, args, state, False)
                W_half = method.step(term, tm, tb, W_mid, args, state_mid, False)[0]
                # Richardson: the full step's error is 2^p / (2^p - 1) times the difference
                gain = 1 / (1 - 0.5 ** method.order(term))
                W_err = jax.tree.map(lambda a, b: gain * (a - b), W_half, W_next)
            # The run goes on with the full step, as diffeqsolve's (waveform) path does,
            # held within the supply rails (a step may overshoot one)
            W_next = _clamp(circuit, W_next, batch)
            err = jax.tree.map(lambda e, d: jnp.maximum(e, jnp.abs(d)), err, W_err)
            return W_next, state_next, err, ok & (result == diffrax.RESULTS.successful)

        zero = jax.tree.map(jnp.zeros_like, W)
        first = method.init(term, t0, t1, W, args)
        # an unrolled FSAL solver's state is dVw/dt at t0: the charging currents / C
        dW0 = method.derivative_at_start(first) if hasattr(method, "derivative_at_start") \
            else None
        carry = (W, first, zero, jnp.asarray(True))
        W, _, err, ok = jax.lax.fori_loop(0, solver.steps, step, carry,
                                          unroll=min(solver.steps, UNROLL))
        return W, None, ok, err_of(err) if reduce_error else err, dW0
    if solver.stepping == "fixed":
        ts = t0 + (t1 - t0) * jnp.arange(solver.steps + 1) / solver.steps
        ts = ts.at[-1].set(t1)
        # the solve's ends read from the grid: XLA may compute an expression once per
        # fusion that reads it, rounded differently (autozero's t0 + t_az, where t0 = k
        # (t_row + t_az)), and StepTo refuses ends an ulp off its grid's
        controller, dt0, max_steps = diffrax.StepTo(ts=ts), None, solver.steps
        t0, t1 = ts[0], ts[-1]
    else:  # the max norm: every network of a batch within rtol/atol
        controller = diffrax.PIDController(rtol=solver.rtol, atol=solver.atol,
                                           norm=_max_norm)
        # steps resolved for a fast pole (Solver.resolved) raise the limit with them
        dt0, max_steps = (t1 - t0) / solver.steps, max(MAX_ADAPTIVE_STEPS, 4 * solver.steps)
    sample_ts = t0 + (t1 - t0) * jnp.arange(n_samples) / max(n_samples, 1)
    saveat = diffrax.SaveAt(ts=sample_ts, t1=True) if n_samples else diffrax.SaveAt(t1=True)
    sol = diffrax.diffeqsolve(term, method, t0, t1, dt0, W, args=args,
                              stepsize_controller=controller, saveat=saveat,
                              max_steps=max_steps, throw=False)
    W_end = _clamp(circuit, jax.tree.map(lambda y: y[-1], sol.ys), batch)
    W_samples = jax.tree.map(lambda y: y[:-1], sol.ys)
    zero = jax.tree.map(jnp.zeros_like, W)
    zero = err_of(zero) if reduce_error else zero
    return W_end, (sample_ts, W_samples), sol.result == diffrax.RESULTS.successful, zero, None


def _clamp(circuit, y, batch):
    """State ``y`` with its weights held within the supply rails (identity without
    ``[nonideal] rails``)."""
    if not circuit.charging.rails:
        return y
    W, lags = y
    if batch is False or batch is None:
        W = circuit.clamp(W) if batch is False else jax.vmap(circuit.clamp)(W)
    else:
        W = jax.vmap(lambda c, W: c.clamp(W), in_axes=(batch, 0))(circuit, W)
    return W, lags


def _inject(circuit, y, dVteach, batch):
    """State ``y`` after an ideal ``Vteach`` edge of ``dVteach`` (B,) volts (``Qinj``)."""
    W, lags = y
    if batch is None:
        return jax.vmap(circuit.inject)(W, dVteach), lags
    return jax.vmap(lambda c, W, d: c.inject(W, d), in_axes=(batch, 0, 0))(
        circuit, W, dVteach), lags


class _NetworkBrownian(diffrax.AbstractBrownianPath):
    """Independent Brownian motions over ``[t0, t1]``, one per network of a batch, each a
    :class:`diffrax.VirtualBrownianTree` of its own key: a network's noise is the same
    whatever batch it runs in."""

    t0: float
    t1: float
    keys: jax.Array  # (B, ...) one PRNG key per network
    tol: float
    shape: tuple = eqx.field(static=True)  # per network: ShapeDtypeStructs like W[b]
    levy_area: type = eqx.field(static=True, default=diffrax.SpaceTimeLevyArea)

    def evaluate(self, t0, t1=None, left=True, use_levy=False):
        def one(key):
            tree = diffrax.VirtualBrownianTree(self.t0, self.t1, self.tol, self.shape, key,
                                               levy_area=self.levy_area)
            return tree.evaluate(t0, t1, left, use_levy)

        return jax.vmap(one)(self.keys)


def _noisy_segment(circuit, W, t0, t1, s0, s1, solver: Solver, batch, keys, switches=None):
    """A segment with noise ([nonideal] temperature, shot_noise): the SDE
    ``dVw = f dt + g dB`` (diagonal noise, ``g`` from :meth:`Circuit.diffusion`) by
    diffrax's stochastic Runge-Kutta solvers at ``solver.steps`` fixed steps, network b
    driven by its own Brownian motion (``keys[b]``). Returns what :func:`_segment`
    returns."""
    def diffusion(t, state, args):
        circuit, t0, t1, s0, s1, *switches = args
        x, y, vt = _sources(t, t0, t1, s0, s1)
        W, lags = state
        if switches:
            sw = switches[0]
            g = jax.vmap(lambda c, W, lags, x, y, vt, held: c.diffusion(
                W, x, y, vt, lags, dataclasses.replace(sw, held=held)),
                in_axes=(batch, 0, 0, 0, 0, 0, 0))(circuit, W, lags, x, y, vt, sw.held)
        else:
            g = jax.vmap(lambda c, W, lags, x, y, vt: c.diffusion(W, x, y, vt, lags),
                         in_axes=(batch, 0, 0, 0, 0, 0))(circuit, W, lags, x, y, vt)
        # the lagged block outputs are noiseless
        return lx.DiagonalLinearOperator((g, jax.tree.map(jnp.zeros_like, lags)))

    h = (t1 - t0) / solver.steps
    shape = jax.tree.map(lambda w: jax.ShapeDtypeStruct(w.shape[1:], w.dtype), W)
    brownian = _NetworkBrownian(t0, t1, keys, h / 8, shape)
    terms = diffrax.MultiTerm(diffrax.ODETerm(_batched_field(batch)),
                              diffrax.ControlTerm(diffusion, brownian))
    # ShARK for additive noise (thermal alone); shot noise depends on the current, so
    # GeneralShARK, which solves the Stratonovich SDE: it differs from the Ito one by
    # the drift g dg/dVw / 2, of order q/C^2 times the current's slope (not measured)
    method = diffrax.GeneralShARK() if circuit.charging.shot_noise else diffrax.ShARK()
    sol = diffrax.diffeqsolve(terms, method, t0, t1, h, W,
                              args=(circuit, t0, t1, s0, s1) + (
                                  () if switches is None else (switches,)),
                              stepsize_controller=diffrax.ConstantStepSize(),
                              saveat=diffrax.SaveAt(t1=True), max_steps=solver.steps + 1,
                              throw=False)
    W_end = _clamp(circuit, jax.tree.map(lambda y: y[-1], sol.ys), batch)
    zero = jax.tree.map(jnp.zeros_like, W)
    return W_end, None, sol.result == diffrax.RESULTS.successful, zero, None


def _max_norm(tree):
    return _max_abs(tree)


def _max_abs_per_network(tree):
    """Per network (leading axis), the largest ``|value|`` of a pytree; 0 for ``None``."""
    leaves = [x.reshape(x.shape[0], -1) for x in jax.tree.leaves(tree)]
    if not leaves:
        return jnp.zeros(())
    return jnp.max(jnp.abs(jnp.concatenate(leaves, axis=1)), axis=1)


def _method(solver: Solver, h, fast: bool = False):
    """A diffrax solver; Runge-Kutta stages in a plain ``lax`` loop (diffrax's default
    checkpointed loop only pays off under reverse-mode autodiff), or, on the ``fast``
    fixed-step path, unrolled (:mod:`aann.engines.solvers`). ``h``: the fixed step."""
    cls = SOLVERS[solver.method]
    if fast:
        cls = unrolled(cls)
    if issubclass(cls, diffrax.AbstractImplicitSolver) and solver.stepping == "fixed":
        # diffrax's default root finder takes its tolerances from an adaptive controller
        # and fails a stage that needs a third iteration (for the controller to shrink
        # the step); a fixed step iterates instead. The stages solve for dVw/dt, whose
        # error moves Vw by about h times as much: atol (V) becomes atol / h (V/s).
        root = optx.Chord(rtol=solver.rtol, atol=solver.atol / h)
        return cls(scan_kind="lax", root_finder=root)
    if issubclass(cls, diffrax.AbstractRungeKutta):
        return cls(scan_kind="lax")
    return cls()


def _max_abs(tree):
    """Largest ``|value|`` of a pytree of arrays; 0 for ``None`` (no error estimate)."""
    leaves = jax.tree.leaves(tree)
    if not leaves:
        return jnp.zeros(())
    return jnp.max(jnp.stack([jnp.max(jnp.abs(x)) for x in leaves]))


def _peak(circuit, y, signals, peak, batch=False, dy=None, switches=None):
    """``peak`` raised to the charging currents in state ``y = (W, lags)`` and sources
    ``signals`` (A); from ``dy = d/dt`` there (``Icharged = C dVw/dt``) when the
    solver has it, else computed (``switches``: the offset cancellation's)."""
    (W, lags), dW = y, None if dy is None else dy[0]
    if dW is not None and circuit.derivative_is_current:
        batched = batch is not False and batch is not None

        def current(d, C):  # a batched C, (B,) or (B, n_out, n_in + 1), leads with B
            if batched and jnp.ndim(C):
                C = jnp.reshape(C, jnp.shape(C) + (1,) * (d.ndim - jnp.ndim(C)))
            return d * C

        currents = tuple(current(d, C) for d, C in zip(dW, circuit.capacitances()))
    elif batch is False:
        currents, _ = circuit.charging_currents(W, *signals, lags, switches)
    elif switches is not None:
        currents, _ = jax.vmap(lambda c, W, lags, s, held: c.charging_currents(
            W, *s, lags, dataclasses.replace(switches, held=held)),
            in_axes=(batch, 0, 0, 0, 0))(circuit, W, lags, signals, switches.held)
    else:
        currents, _ = jax.vmap(lambda c, W, lags, s: c.charging_currents(W, *s, lags),
                               in_axes=(batch, 0, 0, 0))(circuit, W, lags, signals)
    return jax.tree.map(lambda p, i: jnp.maximum(p, jnp.abs(i)), peak, currents)


def _samples(circuit, t_samples, y_samples, t0, t1, s0, s1):
    """Source and output voltages at the sample times of one segment (``y_samples``:
    the state ``(W, lags)`` at those times)."""
    frac = _frac(t_samples, t0, t1)[:, None]
    x, y = s0[0] + (s1[0] - s0[0]) * frac, s0[1] + (s1[1] - s0[1]) * frac
    vt = s0[2] + (s1[2] - s0[2]) * frac[:, 0]
    W, lags = y_samples
    out = jax.vmap(lambda W, lags, xi: circuit.output(W, xi, lags))(W, lags, x)
    return {"time": t_samples, "Vin": x, "Vtarget": y, "Vout": out, "Vteach": vt}


class RowState(NamedTuple):
    """What carries over from one chunk of epochs to the next (leading axis B)."""

    W: tuple  # weights, V
    lags: tuple  # per layer, the lagged block outputs (V; empty dicts without poles)
    prev: tuple  # (Vin, Vtarget, Vteach) of the last row applied
    peak: tuple  # max |Icharged| so far, A
    k: jax.Array  # rows applied so far (one count, shared); the next row starts at k * t_row
    # (k * (t_row + t_az) with autozero)
    ok: jax.Array  # no solver failure so far
    held: tuple = ()  # autozero: per layer what each charging source's C_az holds, V
    travel: tuple = ()  # per weight, the sum over rows of |Vw(row end) - Vw(row start)|
    # (over half periods under the chopper) (V): the path it travelled, whose product
    # with C is the charge its source moved


def _run_rows(circuit, state, order, vteach_epoch, rows, t_row, t_edge, noise_keys=None, *,
              solver, n_samples, ramp, axes, record_weights, metrics, quiet_weights=False):
    """A batch of networks through some epochs of a :class:`RowSchedule` (traced).

    ``order``: (epochs, rows) shared, or (B, epochs, rows). Returns the state and
    ``(EpochRecords, waveform pieces)``, the network as their leading axis, then the
    epoch; the weights after each epoch only with ``record_weights``; ``metrics``: the
    names of the metrics evaluated after each epoch on ``rows`` (a
    :class:`aann.metrics.Rows`; its training rows are the data).
    ``noise_keys`` (B PRNG keys, or None: no noise): the segment of row k, edge e
    (0: the edge ramp, 1: the rest), of network b is driven by
    ``fold_in(fold_in(noise_keys[b], k), e)``. ``quiet_weights``: the keys serve the
    autozero samples' kT/C_az noise only (the weight nodes have none: no ``R_leak``, no
    shot noise), so the segments are solved without noise (:func:`_quiet_weights`).
    """
    B = state.W[0].shape[0]
    if order.ndim == 3:
        order = jnp.moveaxis(order, 0, 2)  # (epochs, rows, B)
    R = order.shape[1]
    batch = axes_tree(circuit, axes)
    X, Y = rows.X, rows.Y

    cancel = circuit.cancellation  # offset cancellation (aann.cancellation): its segments

    def row(carry, inp):
        state, err = carry  # err: per value, the largest local error estimate this epoch
        W, lags, prev, peak, k, ok, held = state[:7]
        y = (W, lags)
        i, vt = inp
        sig = (jnp.broadcast_to(X[i], (B, X.shape[1])), jnp.broadcast_to(Y[i], (B, Y.shape[1])),
               jnp.full(B, vt))
        t0, t_end = k * t_row, (k + 1) * t_row
        row_keys = None if noise_keys is None else jax.vmap(
            lambda key: jax.random.fold_in(key, k))(noise_keys)
        if noise_keys is not None and not quiet_weights:
            def segment(W, ta, tb, s0, s1, part, switches=None):
                keys = jax.vmap(lambda key: jax.random.fold_in(key, part))(row_keys)
                return _noisy_segment(circuit, W, ta, tb, s0, s1, solver, batch, keys,
                                      switches)
        else:
            def segment(W, ta, tb, s0, s1, part, switches=None):
                return _segment(circuit, W, ta, tb, s0, s1, solver, n_samples, batch,
                                reduce_error=False, switches=switches)
        if isinstance(cancel, Chopper):
            return _chopper_row(circuit, cancel, segment, batch, y, prev, sig, peak, k, ok,
                                err, t_row, t_edge, ramp, n_samples, state.travel)
        if isinstance(cancel, Autozero):
            return _autozero_row(circuit, cancel, segment, batch, y, prev, sig, peak, k, ok,
                                 err, t_row, t_edge, ramp, n_samples, row_keys)
        (y, peak, ok, err), t0, wave = _row_edge(circuit, segment, batch, (y, peak, ok, err),
                                                 prev, sig, t0, t_edge, ramp, n_samples)
        y_start = y
        y, samples, ok_f, err_f, dy0 = segment(y, t0, t_end, sig, None, 1)
        peak = _peak(circuit, y_start, sig, peak, batch, dy0)
        if n_samples:
            wave.append(_batch_samples(circuit, batch, samples, t0, t_end, sig, sig))
        state = RowState(*y, sig, peak, k + 1, ok & ok_f)
        return (state, jax.tree.map(jnp.maximum, err, err_f)), wave

    def travelled(carry, inp):
        """:func:`row`, and the path each weight travelled in it added to ``travel``
        (only read: the weights' trajectories are :func:`row`'s). A chopper's row adds
        its half periods' paths itself (a weight's ripple goes both ways in a row)."""
        if isinstance(cancel, Chopper):
            return row(carry, inp)
        before = carry[0]
        (state, err), wave = row(carry, inp)
        travel = jax.tree.map(lambda t, a, b: t + jnp.abs(a - b), before.travel, state.W,
                              before.W)
        return (state._replace(travel=travel), err), wave

    evaluate = jax.vmap(lambda c, W: _metrics.evaluate(c, W, rows, metrics), in_axes=(batch, 0))

    def epoch(state, inp):
        idx, vt = inp
        err0 = jax.tree.map(jnp.zeros_like, (state.W, state.lags))
        (state, err), wave = jax.lax.scan(travelled, (state, err0), (idx, jnp.full(R, vt)),
                                          unroll=ROW_UNROLL)
        flat = jnp.concatenate([w.reshape(B, -1) for w in state.W], axis=1)
        W_kept = state.W if record_weights else None
        return state, (evaluate(circuit, state.W), flat.min(axis=1), flat.max(axis=1), W_kept,
                       wave, _max_abs_per_network(err))

    state, out = jax.lax.scan(epoch, state, (order, vteach_epoch))
    metrics_e, W_min, W_max, W_e, wave, err = out
    wave = jax.tree.map(lambda a: jnp.moveaxis(a, 2, 0), wave)  # (E, R, B, ..) -> (B, E, R, ..)
    # the records stay epoch-major here: see _Recorder
    return state, (EpochRecords(metrics_e, W_min, W_max, err, W_e), wave)


def _row_edge(circuit, segment, batch, carry, prev, sig, t0, t_edge, ramp, n_samples,
              switches=None, track_peak=True):
    """A row's edge from the last row's sources ``prev`` to this row's ``sig`` (traced),
    for every kind of row: with ``ramp`` a segment of ``t_edge`` (noise part 0) under
    ``switches``, its peak current tracked unless ``track_peak`` is false (autozero: the
    sources are off); without, an ideal ``Vteach`` edge (nothing happens without
    ``Qinj``). ``carry``: ``(y, peak, ok, err)``. Returns that carry after the edge, the
    time the rest of the row starts and the edge's waveform pieces (a list)."""
    y, peak, ok, err = carry
    if not ramp:
        return (_inject(circuit, y, sig[2] - prev[2], batch), peak, ok, err), t0, []
    y_start = y
    y, samples, ok_r, err_r, dy0 = segment(y, t0, t0 + t_edge, prev, sig, 0, switches)
    if track_peak:
        peak = _peak(circuit, y_start, prev, peak, batch, dy0, switches)
    ok, err = ok & ok_r, jax.tree.map(jnp.maximum, err, err_r)
    wave = []
    if n_samples:
        wave.append(_batch_samples(circuit, batch, samples, t0, t0 + t_edge, prev, sig))
    return (y, peak, ok, err), t0 + t_edge, wave


def _chopper_row(circuit, chopper, segment, batch, y, prev, sig, peak, k, ok, err, t_row,
                 t_edge, ramp, n_samples, travel):
    """One row under the chopper (traced): its intervals of constant ``s = +1, -1, ...``
    (and ``s2``; :meth:`aann.cancellation.Chopper.grid`), each a segment, so that no step
    crosses a switching instant; the row edge (a ramp of ``t_edge``, or an ideal edge)
    lies within the first. The noise of interval j is driven by part ``1 + j`` of the
    row's key. ``travel`` (per weight, V) grows by the path of every interval, the first
    from before the edge."""
    t0, t_end = k * t_row, (k + 1) * t_row
    n = chopper.segments
    h = chopper.unit(t_row)
    cuts, s, s2 = chopper.grid()
    starts, ends = jnp.asarray([0.0, *cuts]), jnp.asarray([*cuts, 0.0])  # in units h
    s, s2 = jnp.asarray(s), None if s2 is None else jnp.asarray(s2)
    plus = Switches(sign=jnp.asarray(1.0), inner=None if s2 is None else jnp.asarray(1.0))
    W_before = y[0]
    (y, peak, ok, err), start, wave = _row_edge(circuit, segment, batch, (y, peak, ok, err),
                                                prev, sig, t0, t_edge, ramp, n_samples, plus)

    def half(carry, j):
        y, peak, ok, err, travel, mark = carry  # mark: the weights at the half's start
        ta = jnp.where(j == 0, start, t0 + starts[j] * h)
        tb = jnp.where(j == n - 1, t_end, t0 + ends[j] * h)
        switches = Switches(sign=s[j], inner=None if s2 is None else s2[j])
        y_start = y
        y, samples, ok_j, err_j, dy0 = segment(y, ta, tb, sig, None, 1 + j, switches)
        peak = _peak(circuit, y_start, sig, peak, batch, dy0, switches)
        travel = jax.tree.map(lambda t, a, b: t + jnp.abs(a - b), travel, y[0], mark)
        piece = _batch_samples(circuit, batch, samples, ta, tb, sig, sig) if n_samples else None
        return (y, peak, ok & ok_j, jax.tree.map(jnp.maximum, err, err_j), travel,
                y[0]), piece

    (y, peak, ok, err, travel, _), pieces = jax.lax.scan(
        half, (y, peak, ok, err, travel, W_before), jnp.arange(n))
    if n_samples:
        wave.extend(jax.tree.map(lambda a, j=j: a[j], pieces) for j in range(n))
    return (RowState(*y, sig, peak, k + 1, ok, travel=travel), err), wave


def _autozero_row(circuit, autozero, segment, batch, y, prev, sig, peak, k, ok, err, t_row,
                  t_edge, ramp, n_samples, row_keys):
    """One row under autozero (traced): the phase ``[k T, k T + t_az]`` (``T = t_row +
    t_az``; the row edge within it) with every charging source off and the error forced
    to zero; then each source's autozero capacitor holds what reached its input
    (:meth:`aann.Circuit.autozero_sample`, kT/C_az noise from part 3 of the row's noise
    key) and the row is learned with it subtracted. The learning segment is autonomous
    (its sources held) and is solved on the learning clock ``[k t_row, (k + 1) t_row]``,
    the interval a run without the phase solves it on, so that a path without offsets
    learns bit for bit as without autozero; its waveform samples are placed at their
    physical times, ``(k + 1) t_az`` later. Noise parts: 0 the edge, 1 the phase, 2 the
    row."""
    T = t_row + autozero.t_az
    t0 = k * T
    phase = Switches(phase=True)
    (y, peak, ok, err), start, wave = _row_edge(circuit, segment, batch, (y, peak, ok, err),
                                                prev, sig, t0, t_edge, ramp, n_samples, phase,
                                                track_peak=False)
    y, samples, ok_p, err_p, _ = segment(y, start, t0 + autozero.t_az, sig, None, 1, phase)
    ok, err = ok & ok_p, jax.tree.map(jnp.maximum, err, err_p)
    if n_samples:
        wave.append(_batch_samples(circuit, batch, samples, start, t0 + autozero.t_az, sig,
                                   sig))
    W, lags = y
    keys = None if row_keys is None else jax.vmap(
        lambda key: jax.random.fold_in(key, 3))(row_keys)
    held = jax.vmap(lambda c, W, lags, x, yt, vt, key: c.autozero_sample(
        W, x, yt, vt, lags, key), in_axes=(batch, 0, 0, 0, 0, 0, 0))(
        circuit, W, lags, *sig, keys)
    learn = Switches(held=held)
    ta, tb = k * t_row, (k + 1) * t_row
    y_start = y
    y, samples, ok_l, err_l, dy0 = segment(y, ta, tb, sig, None, 2, learn)
    peak = _peak(circuit, y_start, sig, peak, batch, dy0, learn)
    if n_samples:
        piece = _batch_samples(circuit, batch, samples, ta, tb, sig, sig)
        wave.append({**piece, "time": piece["time"] + (k + 1) * autozero.t_az})
    state = RowState(*y, sig, peak, k + 1, ok & ok_l, held)
    return (state, jax.tree.map(jnp.maximum, err, err_l)), wave


def _batch_samples(circuit, batch, samples, t0, t1, s0, s1):
    """:func:`_samples` of every network; saved states have axes (time, B, ...)."""
    t_samples, W_samples = samples
    return jax.vmap(_samples, in_axes=(batch, None, 1, None, None, 0, 0))(
        circuit, t_samples, W_samples, t0, t1, s0, s1)


@lru_cache(maxsize=32)
def _compiled_rows(solver: Solver, n_samples: int, ramp: bool, axes: tuple | None,
                   order_batched: bool, record_weights: bool = True, noisy: bool = False,
                   metrics: tuple = ("mse",), quiet_weights: bool = False):
    del noisy  # seen from the noise keys; a key of the cache only
    del order_batched  # seen from the order's shape
    return eqx.filter_jit(eqx.Partial(_run_rows, solver=solver, n_samples=n_samples, ramp=ramp,
                                      axes=axes, record_weights=record_weights,
                                      metrics=metrics, quiet_weights=quiet_weights))


def _quiet_weights(circuit) -> bool:
    """Under autozero, whether the weight nodes have no noise of their own although the
    circuit has a temperature (read for kT/C_az): no shot noise and no ``R_leak``
    anywhere (nominal or drawn per instance). Their segments are then ODEs; the noise
    keys draw the held values' kT/C_az noise only. False without autozero: what a noisy
    circuit ran before stays as it was."""
    c = circuit.charging
    if not isinstance(circuit.cancellation, Autozero) or c.shot_noise:
        return False
    drawn = [layer.get("charging", {}).get("R_leak", 0.0) for layer in circuit.instances or ()]
    return not any(np.any(np.asarray(R) != 0) for R in [c.R_leak, *drawn])


def release_compiled() -> None:
    """Drop every compiled simulation (this engine's caches and JAX's). XLA maps memory
    for each executable it keeps; a process that compiles thousands of distinct
    circuits (a long sweep, a test session) reaches Linux's ``vm.max_map_count``
    (65,530 mappings), and XLA then crashes in its next compile."""
    _compiled_rows.cache_clear()
    _compiled_waveform.cache_clear()
    jax.clear_caches()


def release_compiled_if_crowded(limit: int = 30_000) -> bool:
    """:func:`release_compiled` when this process holds more than ``limit`` memory
    mappings (read from ``/proc/self/maps``; elsewhere nothing is done)."""
    try:
        with open("/proc/self/maps", "rb") as f:
            crowded = sum(1 for _ in f) > limit
    except OSError:
        return False
    if crowded:
        release_compiled()
    return crowded


def initial_state(W0, schedule: RowSchedule, circuit: Circuit,
                  axes: tuple | None = None) -> RowState:
    """The batch's state before the first row: weights ``W0`` (B, ...), row 0's sources,
    and the lagged block outputs (poles) settled at them."""
    W0 = tuple(jnp.asarray(w, float) for w in W0)
    B = W0[0].shape[0]
    first = schedule.order[:, 0, 0] if schedule.order.shape[0] > 1 else \
        np.full(B, schedule.order[0, 0, 0])
    X, Y = schedule.dataset.X, schedule.dataset.Y
    # strongly typed like the state a chunk returns (jnp.full of a Python float would be
    # weakly typed), so that the second chunk reuses the first one's compiled code
    prev = (jnp.asarray(X[first], float), jnp.asarray(Y[first], float),
            jnp.full(B, schedule.Vteach[0], dtype=float))
    held = jax.tree.map(jnp.zeros_like, W0) if isinstance(circuit.cancellation, Autozero) \
        else ()  # autozero: the capacitors start empty (held only from the first phase)
    return RowState(W0, settled_lags(circuit, W0, prev, axes), prev,
                    jax.tree.map(jnp.zeros_like, W0), jnp.zeros((), int), jnp.ones(B, bool),
                    held, travel=jax.tree.map(jnp.zeros_like, W0))


def settled_lags(circuit: Circuit, W, sources, axes: tuple | None = None) -> tuple:
    """Per layer, the lagged block outputs of a batch (leading axis B) settled at weights
    ``W`` and ``sources = (Vin, Vtarget, Vteach)``: the DC state a run starts from;
    empty dicts without poles."""
    lagged = circuit.lagged()
    if not any(lagged):
        return tuple({} for _ in lagged)
    switches = start_switches(circuit.cancellation)  # the chopper's +1, the autozero phase
    return jax.vmap(lambda c, W, s: c.settle(W, *s, lagged, switches),
                    in_axes=(axes_tree(circuit, axes), 0, 0))(
        circuit, W, sources)


def chunk_size(epochs: int, chunks: int = 20) -> int:
    """The largest divisor of ``epochs`` not above ``epochs / chunks`` (one compile serves all)."""
    limit = max(1, -(-epochs // chunks))
    return max(d for d in range(1, limit + 1) if epochs % d == 0)


DEFAULT_SOLVER = Solver()


def simulate_rows(circuit: Circuit, W0, schedule: RowSchedule, solver: Solver = DEFAULT_SOLVER,
                  waveforms: bool = False, axes: tuple | None = None,
                  on_chunk=None, state: RowState | None = None,
                  first_epoch: int = 0, record_weights: bool = True,
                  noise_keys=None, metrics: tuple | None = None) -> Run:
    """Run a batch of networks through a data-row schedule.

    ``W0``: per layer, arrays of shape (B, n_out, n_in + 1). ``circuit`` is shared
    by the batch (``axes = None``), or ``axes`` (:func:`axes_tree`) names, leaf by
    leaf, the constants that lead with the network axis B.
    The epochs run in chunks; after each, ``on_chunk(epochs_done, state, records)``
    is called with a function that returns the :class:`EpochRecords` of the epochs
    run so far (progress bars, checkpoints).
    ``state``/``first_epoch`` resume a run; the returned records then start there.
    ``record_weights``: keep the weights after every epoch (else only their extremes).
    ``noise_keys``: one PRNG key per network when the circuit is noisy (else None).
    ``metrics``: the metrics evaluated after each epoch (default: every registered one).
    """
    if circuit.charging.noisy and noise_keys is None:
        raise ValidationError("a noisy circuit needs noise_keys, one PRNG key per network")
    if noise_keys is not None and (waveforms or solver.stepping != "fixed"):
        raise ValidationError("noise ([nonideal] temperature, shot_noise) runs with fixed "
                              "steps (solver.stepping = \"fixed\") and without waveforms")
    check_edges(circuit.cancellation, schedule.t_row, schedule.t_edge)
    order_batched = schedule.order.shape[0] > 1
    n_samples = solver.samples_per_row if waveforms else 0
    run = _compiled_rows(solver, n_samples, schedule.t_edge > 0, axes, order_batched,
                         record_weights, noise_keys is not None,
                         _metrics.names(schedule.dataset) if metrics is None else tuple(metrics),
                         noise_keys is not None and _quiet_weights(circuit))
    rows = _metrics.Rows.of(schedule.dataset)
    t_row, t_edge = jnp.asarray(schedule.t_row, float), jnp.asarray(schedule.t_edge, float)
    state = initial_state(W0, schedule, circuit, axes) if state is None else state
    E, step = schedule.epochs, chunk_size(schedule.epochs)
    recorder, waves = _Recorder(), []
    for e0 in range(first_epoch, E, step):
        order = schedule.order[:, e0:e0 + step] if order_batched else \
            schedule.order[0, e0:e0 + step]
        state, (records, wave) = run(
            circuit, state, jnp.asarray(order), jnp.asarray(schedule.Vteach[e0:e0 + step], float),
            rows, t_row, t_edge, noise_keys)
        recorder.add(records)
        waves.append(jax.tree.map(np.asarray, wave))
        if on_chunk is not None:
            on_chunk(e0 + step, state, recorder.records)
    records = recorder.records()
    wave = None
    if waveforms:
        wave = _flatten_waves([{k: np.concatenate([w[j][k] for w in waves], axis=1)
                                for k in waves[0][j]} for j in range(len(waves[0]))])
    return _run(records, state, wave, _charge(circuit, axes, state.travel))


class _Recorder:
    """A run's :class:`EpochRecords` as the device returned them, chunk by chunk
    (epochs, B, ...); joined on the device, epoch-major, once they are asked for, and
    read network-major (B, epochs, ...) as numpy views. A transposing copy of the
    weights per epoch (264 MB for 1000 networks of 2-8-1 over 1000 epochs) cost 18 %
    of such a run; a host buffer filled chunk by chunk, 7 %."""

    def __init__(self):
        self.chunks = []

    def add(self, records: EpochRecords) -> None:
        self.chunks.append(records)

    def records(self) -> EpochRecords:
        if len(self.chunks) > 1:
            self.chunks = [_join(*self.chunks)]
        return jax.tree.map(lambda a: np.moveaxis(np.asarray(a), 0, 1), self.chunks[0])


@jax.jit
def _join(*chunks):
    return jax.tree.map(lambda *a: jnp.concatenate(a, axis=0), *chunks)


def _run(records: EpochRecords, state: RowState, waveforms=None, charge=None) -> Run:
    return Run(metrics=records.metrics, W_epoch=records.W_epoch, W_min=records.W_min,
               W_max=records.W_max, W_final=_np(state.W), peak_current=_np(state.peak),
               solver_ok=np.asarray(state.ok), waveforms=waveforms,
               step_error=records.step_error, charge=charge)


def _charge(circuit, axes, travel) -> tuple:
    """Per layer (B, n_out, n_in + 1), the charge each weight's source moved over the run
    (C): the path the weight travelled (``travel``, V) times its capacitor ``C``, i.e.
    ``integral |Icharged| dt`` with ``Icharged = C dVw/dt`` (exact where a weight moves
    one way within each row; without leakage, rails or injected charge, docs/energy.md)."""
    if axes is None:
        caps = circuit.capacitances()
    else:  # each network's C, leading with B
        caps = jax.vmap(lambda c: c.capacitances(), in_axes=(axes_tree(circuit, axes),))(
            circuit)
    out = []
    for t, C in zip(travel, caps):
        t, C = np.asarray(t, float), np.asarray(C, float)
        if axes is not None:  # (B,) or (B, n_out, n_in + 1) against (B, n_out, n_in + 1)
            C = C.reshape(C.shape + (1,) * (t.ndim - C.ndim))
        out.append(t * C)
    return tuple(out)


def _np(tree):
    return tuple(np.asarray(a) for a in tree)


def _flatten_waves(wave):
    """(B, epochs, rows, pieces...) -> time (T,) shared, signals (B, T, ...)."""
    merged = {}
    for name in wave[0]:
        parts = [np.asarray(piece[name]) for piece in wave]  # ramp and hold pieces
        a = np.stack(parts, axis=3)  # (B, E, R, pieces, n, ...)
        a = a.reshape(a.shape[0], -1, *a.shape[5:])
        merged[name] = a
    merged["time"] = merged["time"][0]
    return merged


def _run_waveform(circuit, W0, time, vin, vtarget, vteach, *, solver, n_samples, lagged):
    zero_peak = jax.tree.map(jnp.zeros_like, W0)
    # the poles start settled at the first sources
    y0 = (W0, circuit.settle(W0, vin[0], vtarget[0], vteach[0], lagged))

    def piece(carry, k):
        y, peak, ok, travel = carry
        t0, t1 = time[k], time[k + 1]
        s0 = (vin[k], vtarget[k], vteach[k])
        s1 = (vin[k + 1], vtarget[k + 1], vteach[k + 1])
        peak = _peak(circuit, y, s0, peak)
        # a jump of Vteach (a piece of zero length) injects Qinj at once; a ramp, over it
        W, lags = y
        jumped = circuit.inject(W, s1[2] - s0[2])
        y = (jax.tree.map(lambda w, j: jnp.where(t1 > t0, w, j), W, jumped), lags)
        start = y[0]
        y, samples, ok_k, _, _ = _segment(circuit, y, t0, t1, s0, s1, solver, n_samples)
        peak = _peak(circuit, y, s1, peak)
        travel = jax.tree.map(lambda t, a, b: t + jnp.abs(a - b), travel, y[0], start)
        return (y, peak, ok & ok_k, travel), _samples(circuit, *samples, t0, t1, s0, s1)

    ((W, _), peak, ok, travel), wave = jax.lax.scan(
        piece, (y0, zero_peak, jnp.asarray(True), zero_peak), jnp.arange(time.shape[0] - 1))
    return W, peak, ok, wave, travel


@lru_cache(maxsize=8)
def _compiled_waveform(solver: Solver, n_samples: int, axes: tuple | None, lagged: tuple):
    fn = eqx.Partial(_run_waveform, solver=solver, n_samples=n_samples, lagged=lagged)

    def batch(circuit, *a):
        in_axes = (axes_tree(circuit, axes), 0, None, None, None, None)
        return jax.vmap(fn, in_axes=in_axes)(circuit, *a)

    return eqx.filter_jit(batch)


def simulate_waveform(circuit: Circuit, W0, stimulus: Waveform, solver: Solver = DEFAULT_SOLVER,
                      axes: tuple | None = None) -> Run:
    """Run a batch of networks under arbitrary PWL sources (no epochs, so no MSE curve)."""
    if circuit.cancellation is not None:
        raise ValidationError("offset cancellation ([offset_cancellation] method) switches "
                              "with the data rows; it runs on data rows, not under a PWL "
                              "stimulus: set method = \"none\" or train on rows")
    n_samples = max(solver.samples_per_row, 1)
    run = _compiled_waveform(solver, n_samples, axes, circuit.lagged())
    W, peak, ok, wave, travel = run(
        circuit, tuple(jnp.asarray(w, float) for w in W0),
        *(jnp.asarray(a, float) for a in (stimulus.time, stimulus.Vin, stimulus.Vtarget,
                                          stimulus.Vteach)))
    waves = {k: np.asarray(v).reshape(np.asarray(v).shape[0], -1, *np.asarray(v).shape[3:])
             for k, v in wave.items()}
    waves["time"] = waves["time"][0]
    B = np.asarray(ok).shape[0]
    W_end = tuple(np.asarray(w)[:, None] for w in W)  # one "epoch": the end
    W_min, W_max = EpochRecords.extremes(W_end)
    return Run(metrics={name: np.zeros((B, 0)) for name in _metrics.names()}, W_epoch=W_end,
               W_min=W_min, W_max=W_max, W_final=_np(W),
               peak_current=_np(peak), solver_ok=np.asarray(ok), waveforms=waves,
               step_error=None, charge=_charge(circuit, axes, travel))


# --- the engine object ----------------------------------------------------------

@dataclass(frozen=True)
class Native(Engine):
    """The native engine: JAX + diffrax, every network of the batch at once.

    ``solver``: a :class:`aann.Solver` (or a dict of ``[solver]`` keys) used
    instead of the description's ``[solver]``. Runs on data rows resume from a
    checkpoint bit for bit.
    """

    name: ClassVar[str] = "native"
    resumable: ClassVar[bool] = True
    batches_circuits: ClassVar[bool] = True
    applies_stimulus: ClassVar[bool] = True
    solver: Solver | dict | None = None

    def __post_init__(self):
        if isinstance(self.solver, dict):
            from ..spec import build_section

            object.__setattr__(self, "solver", build_section(Solver, self.solver, "solver"))
        elif self.solver is not None and not isinstance(self.solver, Solver):
            raise ValidationError(f"Native(solver=...) takes an aann.Solver or a dict of "
                                  f"[solver] keys, not {type(self.solver).__name__}")

    def _info(self, solver: Solver, t_edge: float) -> EngineInfo:
        return EngineInfo(self.name, f"jax {jax.__version__}, diffrax {diffrax.__version__}",
                          {"solver": {"method": solver.method, "stepping": solver.stepping,
                                      "steps": solver.steps, "rtol": solver.rtol,
                                      "atol": solver.atol}}, t_edge)

    def run_rows(self, prepared, *, waveforms, progress, checkpoint, resume) -> Run:
        schedule, solver = prepared.schedule, prepared.solver(self.solver)
        saver, done = _checkpointing(checkpoint, resume, waveforms, prepared, solver)
        epochs = schedule.epochs
        run = None
        if done is None or done.epochs_done < epochs:
            with progress_bar(progress, epochs, "training", "epochs",
                              start=done.epochs_done if done else 0,
                              description=f"{prepared.n_networks} network(s)") as update:
                def on_chunk(epochs_done, state, records):
                    update(epochs_done)
                    if saver is not None:
                        saver(state, records())

                run = simulate_rows(prepared.circuit, prepared.W0, schedule, solver,
                                    waveforms=waveforms,
                                    axes=prepared.axes,
                                    on_chunk=on_chunk, state=done.state if done else None,
                                    first_epoch=done.epochs_done if done else 0,
                                    record_weights=prepared.config.training.record == "weights",
                                    noise_keys=noise_keys(prepared))
        if done is not None:
            run = _joined(done, run, prepared.circuit, prepared.axes)
        return dataclasses.replace(run, info=self._info(solver, schedule.t_edge))

    def run_waveform(self, prepared, *, progress) -> Run:
        if prepared.circuit.charging.noisy:
            raise ValidationError("noise ([nonideal] temperature, shot_noise) is simulated on "
                                  "data rows only, not under a PWL stimulus")
        solver = prepared.solver(self.solver)
        with progress_bar(progress, 1, "simulating", "runs") as update:
            run = simulate_waveform(prepared.circuit, prepared.W0, prepared.stimulus, solver,
                                    axes=prepared.axes)
            update(1)
        return dataclasses.replace(run, info=self._info(solver, 0.0))


def noise_keys(prepared):
    """One PRNG key per network of a noisy circuit, from ``([nonideal] noise_seed, the
    network's seed)``; None without noise."""
    if not prepared.circuit.charging.noisy:
        return None
    base = jax.random.key(prepared.config.nonideal.noise_seed)
    seeds = np.asarray(prepared.seeds, np.uint64)  # 0..2**63-1: two 32-bit halves
    high = jnp.asarray((seeds >> np.uint64(32)).astype(np.uint32))
    low = jnp.asarray((seeds & np.uint64(0xFFFFFFFF)).astype(np.uint32))
    return jax.vmap(lambda h, l: jax.random.fold_in(jax.random.fold_in(base, h), l))(high, low)


def _checkpointing(path, resume, waveforms, prepared, solver):
    """The callback that writes checkpoint ``path``, and the checkpoint to resume from."""
    if path is None:
        if resume:
            raise ValidationError("resume needs a checkpoint file")
        return None, None
    if waveforms:
        if resume:
            raise ValidationError("a run with waveforms cannot be resumed; drop --waveforms "
                                  "or --resume")
        return None, None
    fp = ck.fingerprint(prepared.config, prepared.W0, prepared.circuit, solver,
                        _metrics.names(prepared.schedule.dataset))
    record_weights = prepared.config.training.record == "weights"
    done = ck.load(path, fp, initial_state(prepared.W0, prepared.schedule, prepared.circuit,
                                           prepared.axes),
                   record_weights) if resume else None
    schedule = prepared.schedule
    if done is not None and (done.epochs_done > schedule.epochs or int(done.state.k) !=
                             done.epochs_done * schedule.order.shape[-1]):
        raise ValidationError(f"cannot resume: checkpoint {path} is damaged (its state does "
                              "not match its records); start afresh without --resume")
    earlier = [done.records] if done else []

    def save(state, records):
        ck.save(path, fp, state, EpochRecords.concat(earlier + [records]))

    return save, done


def _joined(done: ck.Checkpoint, run: Run | None, circuit=None, axes=None) -> Run:
    """A checkpoint's records followed by those of the resumed run (whose state carries
    the checkpoint's ``travel`` on)."""
    if run is None:  # the checkpoint was already complete
        return _run(done.records, done.state, charge=_charge(circuit, axes, done.state.travel))
    records = EpochRecords.concat([done.records, EpochRecords(
        run.metrics, run.W_min, run.W_max, run.step_error, run.W_epoch)])
    return dataclasses.replace(run, metrics=records.metrics, W_epoch=records.W_epoch,
                               W_min=records.W_min, W_max=records.W_max,
                               step_error=records.step_error)
