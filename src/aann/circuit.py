"""The circuit of Fig. 1 and Fig. 7 as equations: forward pass, Type1/Type2 error,
charging currents, computed block by block as the hardware computes them.

Weights are a tuple of matrices ``W[l]`` of shape ``(n_out, n_in + 1)``, in
volts; column 0 is the bias weight (its input is ``Vbias``). Nothing here uses
autodiff: with non-ideal blocks the right-hand side is what the blocks compute,
not the true gradient.

Multiplier roles (:data:`aann.blocks.ROLES`), each its own block (law, constants);
the operands of ``delta``, ``charge`` and ``type2`` are those the circuit's learning
rule gives (:attr:`Circuit.rule`, :mod:`aann.rules`), here the paper's (backprop):
``forward``  ``Inet_j = sum_i I(Vw_ji, x_i)``;
``delta``    ``Vdelta_j = VE_j * Vd_j`` (a product read as a voltage);
``charge``   ``Vgrad_ji = Vdelta_j * x_i``, which sets ``Icharged_ji``;
``type2``    ``IE_kj = K_E * Vdelta_k * Vw_kj`` for the layer below.

Every instance of a block is alike unless ``instances`` gives, per layer, some
constants as arrays over that layer's instances (mismatch, :mod:`aann.mismatch`):
shapes (n_out, n_in + 1) for ``multiplier.forward``, ``multiplier.charge`` and
``charging`` (one per weight), (n_out,) for ``multiplier.delta``, ``activation``,
``derivative`` and ``error`` (one per neuron; ``error`` in the output layer
only), (n_out, n_in) for ``multiplier.type2`` (one per product of this layer's
deltas with its non-bias weights; under a rule whose Type2 stage reads another
layer's deltas, :meth:`aann.rules.Rule.type2_shape`: (n_out of that layer, n_in)) and
(n_in,) for ``type2`` (the error-summing stage of each neuron of the layer below).

Bandwidth: a block with ``f3dB > 0`` has a first-order pole on its output, so
its output (one of :data:`LAG_SIGNALS`) is no longer a function of the weights
and sources but state of the circuit: ``tau dy/dt = u - y``, ``u`` the law's
value. :meth:`Circuit.lagged` says which signals lag, :meth:`Circuit.settle`
gives their DC values (a run's initial state) and :meth:`Circuit.d_dt` the
vector field of weights and lagged outputs together.

Offset cancellation (:mod:`aann.cancellation`, :attr:`Circuit.cancellation`): the
vector field takes what the technique's switches do during a segment
(:class:`aann.cancellation.Switches`): the chopper's ``s = +-1`` swaps the error
block's inputs and multiplies every charging source's input (or, demodulating at the
output, its current); the autozero phase
forces the error to zero and turns the sources off, and while a row is learned
each source's input has the held value subtracted. Without it (``switches =
None``) nothing of this is computed.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .blocks import (
    BLOCKS,  # noqa: F401  (re-exported: the names of a circuit's blocks)
    KINDS,
    ROLES,
    Activation,
    ChargingSource,
    Derivative,
    IdealMultiplier,
    Multiplier,
    OutputError,
    Type2,
    instance_shapes,  # noqa: F401  (re-exported)
)
from .cancellation import (
    Switches,
    build_cancellation,
    demodulator_signs,
    error_inputs,
    source_input,
    source_output,
)
from .mismatch import draw
from .params import param
from .rules import Backprop, Rule, build_rule


class Forward(NamedTuple):
    """Node voltages of one forward pass; lists over layers."""

    inputs: list  # x of each layer with Vbias prepended, shape (n_in + 1,)
    Inet: list  # A
    Vout: list  # V
    Vd: list  # V


LAG_SIGNALS = ("u", "Vout", "Vd", "VE", "Vdelta", "Vgrad")
"""The block outputs that may lag (``f3dB > 0``), per layer, all in volts: ``u = Ru *
Inet`` (the forward multipliers' currents summed into ``Ru``: their pole), ``Vout``
(activation), ``Vd`` (derivative), ``VE`` (the output layer's error block; in a hidden
layer the Type2 multipliers' currents summed into ``R_E``: their pole), ``Vdelta``
(multiplier role delta), ``Vgrad`` (role charge, one per weight)."""

_POLE_OF = {"u": "multiplier.forward", "Vout": "activation", "Vd": "derivative",
            "Vdelta": "multiplier.delta", "Vgrad": "multiplier.charge"}

def chain_settling(taus, within: float = 0.01) -> float:
    """The time (s) a chain of first-order lags with time constants ``taus`` (s) takes
    to reach ``1 - within`` of a unit step: ``ln(100) tau`` for one, 6.6 tau for two
    equal ones, 17.4 tau for nine (the step response of the chain, solved exactly)."""
    import scipy.linalg
    import scipy.optimize

    taus = [t for t in taus if t > 0]
    if not taus:
        return 0.0
    n = len(taus)
    A = np.zeros((n + 1, n + 1))  # states: the lags, then the step (constant 1)
    for i, t in enumerate(taus):
        A[i, i], A[i, i - 1 if i else n] = -1 / t, 1 / t
    start = np.eye(n + 1)[n]

    def missing(t):
        return 1 - within - (scipy.linalg.expm(A * t) @ start)[n - 1]

    # ln(1/within) * sum(tau) (the Elmore delay's) is never exceeded; equal for one lag
    bound = 1.01 * math.log(1 / within) * sum(taus)
    return float(scipy.optimize.brentq(missing, 0.0, bound, xtol=1e-9 * min(taus)))


class _Lags:
    """What the blocks downstream of a pole see: the lagged output ``y`` (``lags``, per
    layer a dict over :data:`LAG_SIGNALS`) in place of the law's value ``u``; the
    ``u`` are kept (``targets``), they are what the poles charge towards.
    ``lags = None``: settled (DC), every ``u`` passes and is kept."""

    def __init__(self, circuit, lagged, lags=None):
        self.circuit, self.lagged, self.lags = circuit, lagged, lags
        self.targets = tuple({} for _ in lagged)

    def has(self, l, name) -> bool:
        return name in self.lagged[l]

    def __call__(self, l, name, u):
        if name not in self.lagged[l]:
            return u
        self.targets[l][name] = u
        if self.lags is None:
            return u
        f = self.circuit.pole_f3dB(l, name)
        if isinstance(f, (int, float)):
            return self.lags[l][name]
        # a batch of stacked circuits may mix poles with f3dB = 0 (none): u passes there
        return jnp.where(f > 0, self.lags[l][name], u)

    def derivatives(self):
        """``dy/dt = 2 pi f3dB (u - y)`` of every lagged output (V/s)."""
        def rate(l, name):
            f = self.circuit.pole_f3dB(l, name)
            return 2 * math.pi * f if isinstance(f, (int, float)) else \
                jnp.where(f > 0, 2 * math.pi * f, 0.0)

        return tuple({name: rate(l, name) * (u - self.lags[l][name]) for name, u in t.items()}
                     for l, t in enumerate(self.targets))


def _every_role(multipliers) -> dict:
    if isinstance(multipliers, Multiplier):
        return {role: multipliers for role in ROLES}
    return dict(multipliers)


class Circuit(eqx.Module):
    """All the blocks of one network; constants are pytree leaves (vmap-able)."""

    sizes: tuple = eqx.field(static=True)
    # role -> block; one Multiplier given serves every role
    multipliers: dict = eqx.field(converter=_every_role,
                                  default_factory=IdealMultiplier)
    activation: Activation = Activation()
    derivative: Derivative = Derivative()
    type2: Type2 = Type2()
    error: OutputError = OutputError()
    charging: ChargingSource = ChargingSource()
    Vbias: float = param(1.0, "V", doc="bias input x_0 of every neuron")
    Vdd: float = param(1.8, "V", sign="positive",
                       doc="supply every block draws its Isupply from (power only; the "
                           "SkyWater cells' 1.8 V)")
    instances: tuple | None = None  # per layer {block: {constant: array}}, or None
    # the learning rule: which signals drive the delta, charge and Type2 multipliers
    rule: Rule = Backprop()
    # offset cancellation of the error path (aann.cancellation): Chopper, Autozero or None
    cancellation: eqx.Module | None = None

    @property
    def multiplier(self) -> Multiplier:
        """The forward multiplier (the block of Eq. 5 and Fig. 12)."""
        return self.multipliers["forward"]

    def block(self, name: str, l: int):
        """Block ``name`` (one of :data:`BLOCKS`) of layer ``l``, its constants replaced
        by the layer's per-instance arrays where ``instances`` has them."""
        kind, _, role = name.partition(".")
        nominal = self.multipliers[role] if role else getattr(self, kind)
        own = self.instances[l].get(name) if self.instances is not None else None
        return dataclasses.replace(nominal, **own) if own else nominal

    def forward(self, W, Vin, lags=None) -> Forward:
        """Forward propagation (Eq. 1, 5, 6, 7) for inputs ``Vin`` (V); ``lags``: the
        lagged block outputs (see :meth:`d_dt`; None: every block instantaneous)."""
        return self._forward(W, Vin, self._lag(lags))

    def _lag(self, lags) -> _Lags:
        if lags is None or not any(lags):
            return _NO_LAG
        return _Lags(self, tuple(tuple(d) for d in lags), lags)

    def _forward(self, W, Vin, lag: _Lags) -> Forward:
        inputs, Inets, Vouts, Vds = [], [], [], []
        a = Vin
        for l, Wl in enumerate(W):
            x = jnp.concatenate([jnp.broadcast_to(jnp.asarray(self.Vbias, a.dtype), (1,)), a])
            # summed at the neuron's input
            Inet = self.block("multiplier.forward", l).row_currents(Wl, x)
            if lag.has(l, "u"):  # the pole of the summing node, read as u = Ru * Inet
                Ru = self.block("derivative", l).Ru
                Inet = lag(l, "u", Ru * Inet) / Ru
            a = lag(l, "Vout", self.block("activation", l).Vout(Inet))
            inputs.append(x)
            Inets.append(Inet)
            Vouts.append(a)
            Vds.append(lag(l, "Vd", self.block("derivative", l).Vd(Inet)))
        return Forward(inputs, Inets, Vouts, Vds)

    def charging_currents(self, W, Vin, Vtarget, Vteach, lags=None, switches=None):
        """``Icharged`` of every capacitor (A), same shapes as ``W``, and the output
        ``Vout``; ``lags``: the lagged block outputs (None: none); ``switches``: what the
        offset cancellation's switches do (:class:`aann.cancellation.Switches`; None:
        none)."""
        return self._charging(W, Vin, Vtarget, Vteach, self._lag(lags), switches)

    def _error(self, top, Vout, Vtarget, switches):
        """The output layer's Type1 error (Eq. 14), its inputs as the offset
        cancellation's switches present them."""
        if switches is None:
            return self.block("error", top).VE(Vout, Vtarget)
        return self.block("error", top).VE(*error_inputs(
            Vout, Vtarget, sign=switches.sign, phase=1.0 if switches.phase else None))

    def _charging(self, W, Vin, Vtarget, Vteach, lag: _Lags, switches=None, inputs=None):
        """``inputs``: a dict that receives, layer index -> what reaches the charging
        sources' inputs (V)."""
        fwd = self._forward(W, Vin, lag)
        rule = self.rule  # the operands of the delta, charge and Type2 multipliers
        top = len(W) - 1
        VE = lag(top, "VE", self._error(top, fwd.Vout[-1], Vtarget, switches))  # Type1, Eq. 14
        currents = [None] * len(W)
        Vdeltas = [None] * len(W)
        for l in reversed(range(len(W))):
            delta = self.block("multiplier.delta", l)
            Vdelta = lag(l, "Vdelta", delta.product(*rule.delta_inputs(VE, fwd.Vd[l])))
            Vdeltas[l] = Vdelta
            charge = self.block("multiplier.charge", l)
            Vgrad = lag(l, "Vgrad", charge.product(
                *rule.charge_inputs(Vdelta[:, None], fwd.inputs[l][None, :])))
            at_output = None
            if switches is not None:  # the chopper's demodulator, the autozero's hold
                at_input, at_output = demodulator_signs(self.cancellation, switches.sign,
                                                         switches.inner)
                Vgrad = source_input(Vgrad, sign=at_input, held=None if
                                     switches.held is None else switches.held[l])
            if inputs is not None:
                inputs[l] = Vgrad
            currents[l] = jnp.zeros_like(W[l]) if switches is not None and switches.phase \
                else source_output(self.block("charging", l).current(Vteach, Vgrad),
                                   sign=at_output)  # phase: source off
            if l > 0:  # Type2, Eq. 15-16: error of the layer below, from the deltas of
                # the layer the rule names (backprop: this one)
                source = rule.type2_source(l, len(W))
                VE = lag(l - 1, "VE", self._type2_error(
                    l, rule, Vdeltas[source], W[l][:, 1:] if source == l else None))
        return tuple(currents), fwd.Vout[-1]

    def _type2_error(self, l, rule, Vdelta, Vw):
        """``VE`` of layer ``l - 1`` (Eq. 15-16): ``R_E * sum_k IE_kj``, ``IE_kj = K_E *
        I(a_kj, b_kj) / Km`` (the products read through 1/Km, as ``M.product`` does),
        ``(a, b)`` the rule's operands of the Type2 multipliers of layer ``l``
        (backprop: ``Vdelta_k``, ``Vw_kj``); ``Vdelta``: the deltas of the layer
        :meth:`aann.rules.Rule.type2_source` names, ``Vw`` None where that is not ``l``."""
        M, T = self.block("multiplier.type2", l), self.block("type2", l)
        column = Vdelta[:, None]
        shape = (Vdelta.shape[0], self.sizes[l])  # the multipliers (k, j)
        a, b = rule.type2_inputs(column, Vw, Vfb=rule.feedback(l))
        b = jnp.broadcast_to(b, shape)
        if a is column:  # input 1 one value per row k, the deltas themselves
            row = Vdelta
        elif jnp.shape(a) in ((), (1,), (1, 1), column.shape):  # one value per row k
            row = jnp.broadcast_to(a, column.shape)[:, 0]
        else:  # input 1 differs along a row: no factored sum
            row = None
        if row is not None and M._shared():  # the sum over k as one product (fast path)
            IE_sum = T.K_E * M.column_currents(row, b) / M.Km
        else:
            grid = row[:, None] if row is not None else jnp.broadcast_to(a, shape)
            IE_sum = T.K_E * jnp.sum(M.product(grid, b), axis=0)
        return T.R_E * IE_sum

    def capacitances(self) -> tuple:
        """Per layer, the weight capacitors ``C`` (F): a scalar or an array of the
        weights' shape."""
        return tuple(self.block("charging", l).C for l in range(len(self.sizes) - 1))

    def dVw_dt(self, W, Vin, Vtarget, Vteach, dVteach_dt=None, switches=None):
        """The vector field of the weight capacitors, V/s (Eq. 8): the charging currents,
        less the leakage, plus the charge the switch injects while ``Vteach`` moves at
        ``dVteach_dt`` (V/s; None: held), held at the rails, over ``C``; ``switches``: the
        offset cancellation's (:class:`aann.cancellation.Switches`; None: none)."""
        currents, _ = self.charging_currents(W, Vin, Vtarget, Vteach, switches=switches)
        return self._dVw_dt(currents, W, dVteach_dt)

    def _dVw_dt(self, currents, W, dVteach_dt):
        out = []
        for l, (I, Wl) in enumerate(zip(currents, W)):
            node = self.block("charging", l)
            out.append(node.node_current(I, Wl, dVteach_dt) / node.C)
        return tuple(out)

    # --- bandwidth: lagged block outputs -------------------------------------------

    def pole_block(self, l: int, name: str):
        """The block whose ``f3dB`` sets the pole of signal ``name`` (one of
        :data:`LAG_SIGNALS`) of layer ``l``."""
        if name == "VE":
            top = len(self.sizes) - 2
            return self.block("error", l) if l == top else self.block("multiplier.type2", l + 1)
        return self.block(_POLE_OF[name], l)

    def pole_f3dB(self, l: int, name: str):
        """``f3dB`` (Hz) of the pole on signal ``name`` of layer ``l``; 0 (none) for a law
        without the key."""
        return getattr(self.pole_block(l, name), "f3dB", 0.0)

    def lagged(self) -> tuple:
        """Per layer, the names of the signals with a pole (``f3dB > 0`` anywhere; read
        from a concrete circuit, outside ``jit``)."""
        return tuple(tuple(name for name in LAG_SIGNALS
                           if np.any(np.asarray(self.pole_f3dB(l, name)) > 0))
                     for l in range(len(self.sizes) - 1))

    def fastest_pole(self) -> float:
        """The highest ``f3dB`` of the circuit's poles (Hz; 0 without poles)."""
        return max((float(np.max(np.asarray(self.pole_f3dB(l, name))))
                    for l, names in enumerate(self.lagged()) for name in names), default=0.0)

    def settle(self, W, Vin, Vtarget, Vteach, lagged: tuple, switches=None):
        """The lagged outputs (per layer, a dict over ``lagged``) settled at their DC
        values for weights ``W`` and sources held at ``Vin``, ``Vtarget``, ``Vteach``
        (``switches``: the offset cancellation's, as at the run's start,
        :func:`aann.cancellation.start_switches`)."""
        lag = _Lags(self, lagged)
        self._charging(W, Vin, Vtarget, Vteach, lag, switches)
        return lag.targets

    def d_dt(self, y, Vin, Vtarget, Vteach, dVteach_dt=None, switches=None):
        """The vector field of the circuit's state ``y = (W, lags)``: ``(dVw/dt, dy/dt of
        the lagged outputs)``, V/s. ``lags``: per layer a dict, signal name (of
        :meth:`lagged`) to its value, shaped (n_out,), or (n_out, n_in + 1) for
        ``Vgrad``. Without poles (``lags`` all empty) exactly :meth:`dVw_dt`.
        ``switches``: what the offset cancellation's switches do during this segment
        (:class:`aann.cancellation.Switches`; None: no cancellation)."""
        W, lags = y
        if not any(lags):
            return self.dVw_dt(W, Vin, Vtarget, Vteach, dVteach_dt, switches), lags
        lag = self._lag(lags)
        currents, _ = self._charging(W, Vin, Vtarget, Vteach, lag, switches)
        return self._dVw_dt(currents, W, dVteach_dt), lag.derivatives()

    def autozero_sample(self, W, Vin, Vtarget, Vteach, lags=None, key=None):
        """What each charging source's autozero capacitor holds at the end of an autozero
        phase in state ``(W, lags)`` with this row's sources: per layer, what reaches the
        source's input with the error forced to zero (the whole path's offset; through
        the poles, their present values), plus the sampling switch's ``Q_inj / C_az``
        and, with a PRNG ``key``, a kT/C_az noise draw at the source's ``temperature``
        (:meth:`aann.cancellation.Autozero.hold`)."""
        inputs = {}
        self._charging(W, Vin, Vtarget, Vteach, self._lag(lags), Switches(phase=True), inputs)
        az = self.cancellation
        return tuple(az.hold(inputs[l], self.block("charging", l).temperature,
                             None if key is None else jax.random.fold_in(key, l))
                     for l in range(len(W)))

    def settling_time(self) -> float:
        """The time (s) the charging currents take to settle to 1 % after a step of the
        inputs, through the chain of poles with the largest sum of ``tau = 1/(2 pi
        f3dB)`` on a path from the inputs through the forward pass, the errors and the
        deltas to a charging current; 0 without poles. The error of a hidden layer
        passes the Type2 stage of the layer the rule wires it from
        (:meth:`aann.rules.Rule.type2_source`): under direct feedback alignment one
        stage from the output layer, whatever the depth."""
        def tau(l, name):
            f = np.asarray(self.pole_f3dB(l, name), float)
            f = f[f > 0]
            return (float(1 / (2 * math.pi * f.min())),) if f.size else ()

        def later(*chains):  # the chain with the largest delay (sum of tau)
            return max(chains, key=sum)

        n = len(self.sizes) - 1
        Vout, Vd, slowest = [()] * n, [()] * n, ()  # per signal, the poles on its path
        for l in range(n):
            u = (Vout[l - 1] if l else ()) + tau(l, "u")
            Vout[l], Vd[l] = u + tau(l, "Vout"), u + tau(l, "Vd")
        VE = Vout[-1] + tau(n - 1, "VE")
        Vdelta = [()] * n
        for l in reversed(range(n)):
            Vdelta[l] = later(VE, Vd[l]) + tau(l, "Vdelta")
            slowest = later(slowest, later(Vdelta[l], Vout[l - 1] if l else ()) +
                            tau(l, "Vgrad"))
            if l:  # the Type2 stage reads the deltas of the layer the rule names
                VE = Vdelta[self.rule.type2_source(l, n)] + tau(l - 1, "VE")
        return chain_settling(slowest)

    def diffusion(self, W, Vin, Vtarget, Vteach, lags=None, switches=None):
        """Per weight, the noise intensity ``g`` (V/sqrt(s)) of ``dVw = f dt + g dB``:
        ``sqrt(S) / C`` with ``S`` the node's two-sided noise current density."""
        currents, _ = self.charging_currents(W, Vin, Vtarget, Vteach, lags, switches)
        out = []
        for l, I in enumerate(currents):
            node = self.block("charging", l)
            out.append(jnp.sqrt(node.noise_density(I)) / node.C)
        return tuple(out)

    def inject(self, W, dVteach):
        """The weights after an ideal ``Vteach`` edge of ``dVteach`` volts (``Qinj``)."""
        return tuple(self.block("charging", l).inject(Wl, dVteach) for l, Wl in enumerate(W))

    def clamp(self, W):
        """The weights held within the supply rails (``[nonideal] rails``)."""
        return tuple(self.block("charging", l).clamp(Wl) for l, Wl in enumerate(W))

    @property
    def derivative_is_current(self) -> bool:
        """``C dVw/dt`` is the charging current (no leakage, no rails), so a solver's
        ``dVw/dt`` gives the peak current without another evaluation."""
        return self.charging.rails is False and not (
            self.instances is not None and any("R_leak" in layer.get("charging", {})
                                               for layer in self.instances)) and \
            isinstance(self.charging.R_leak, (int, float)) and self.charging.R_leak == 0

    def output(self, W, Vin, lags=None):
        """``Vout`` of the output layer for inputs ``Vin`` (with ``lags``: what the output
        node shows, its poles included)."""
        return self.forward(W, Vin, lags).Vout[-1]

    def mse(self, W, X, Y):
        """Mean over rows and outputs of ``(Vout - Vtarget)^2`` (SPEC section 2)."""
        out = jax.vmap(lambda x: self.output(W, x))(X)
        return jnp.mean((out - Y) ** 2)


class _Instant(_Lags):
    """No poles: every block output passes at once."""

    def __init__(self):
        pass

    def has(self, l, name) -> bool:
        return False

    def __call__(self, l, name, u):
        return u


_NO_LAG = _Instant()


def build_circuit(config, sample: int | None = None, seed: int = 0) -> Circuit:
    """The :class:`Circuit` a :class:`aann.spec.Config` describes: each block the law
    its section names, with that section's constants (passed by name); each
    multiplier role ``[blocks.multiplier]`` overridden by its own section; the learning
    rule ``[training] rule`` (:mod:`aann.rules`).
    ``sample``: Monte Carlo sample of ``[mismatch]`` (per-instance constants),
    None for the nominal circuit. ``seed``: the network's (the seed of its initial
    weights), from which a rule with per-network arrays draws them
    (:attr:`aann.rules.Rule.per_network`: feedback alignment)."""
    from .params import params_of

    c = config.constants
    laws = {kind: getattr(config.blocks, kind).build() for kind in KINDS if kind != "multiplier"}
    multipliers = {role: config.blocks.multiplier.build(role) for role in ROLES}
    charging = ChargingSource(**{k: getattr(config.nonideal if k in ChargingSource.NONIDEAL
                                            else c, k) for k in params_of(ChargingSource)})
    circuit = Circuit(sizes=tuple(config.network.sizes), multipliers=multipliers,
                      charging=charging, Vbias=c.Vbias, Vdd=c.Vdd, rule=build_rule(config, seed),
                      cancellation=build_cancellation(config), **laws)
    if sample is None:
        return circuit
    return dataclasses.replace(circuit, instances=draw(circuit, config.mismatch, sample))

