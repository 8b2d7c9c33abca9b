"""The circuit of Fig. 1 and Fig. 7 as equations: forward pass, Type1/Type2 error,
charging currents, computed block by block as the hardware computes them.

Weights are a tuple of matrices ``W[l]`` of shape ``(n_out, n_in + 1)``, in
volts; column 0 is the bias weight (its input is ``Vbias``). Nothing here uses
autodiff: with non-ideal blocks the right-hand side is what the blocks compute,
not the true gradient.

Multiplier roles (:data:`aann.blocks.ROLES`), each its own block (law, constants):
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
deltas with its non-bias weights) and (n_in,) for ``type2`` (the error-summing
stage of each neuron of the layer below).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from .blocks import (
    KINDS,
    ROLES,
    Activation,
    ChargingSource,
    Derivative,
    IdealMultiplier,
    Multiplier,
    OutputError,
    Type2,
)
from .params import param


class Forward(NamedTuple):
    """Node voltages of one forward pass; lists over layers."""

    inputs: list  # x of each layer with Vbias prepended, shape (n_in + 1,)
    Inet: list  # A
    Vout: list  # V
    Vd: list  # V


def _every_role(multipliers) -> dict:
    if isinstance(multipliers, Multiplier):
        return {role: multipliers for role in ROLES}
    return dict(multipliers)


BLOCKS = ("multiplier.forward", "multiplier.delta", "multiplier.charge", "multiplier.type2",
          "activation", "derivative", "type2", "error", "charging")
"""The names of a circuit's blocks, as :meth:`Circuit.block` and ``instances`` use them."""


def instance_shapes(sizes) -> list[dict[str, tuple]]:
    """Per layer, the shape of each block's instance array (see the module docstring)."""
    out = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        weights = (n_out, n_in + 1)
        shapes = {"multiplier.forward": weights, "multiplier.delta": (n_out,),
                  "multiplier.charge": weights, "activation": (n_out,),
                  "derivative": (n_out,), "charging": weights}
        if l > 0:
            shapes.update({"multiplier.type2": (n_out, n_in), "type2": (n_in,)})
        if l == len(sizes) - 2:
            shapes["error"] = (n_out,)
        out.append(shapes)
    return out


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
    instances: tuple | None = None  # per layer {block: {constant: array}}, or None

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

    def forward(self, W, Vin) -> Forward:
        """Forward propagation (Eq. 1, 5, 6, 7) for inputs ``Vin`` (V)."""
        inputs, Inets, Vouts, Vds = [], [], [], []
        a = Vin
        for l, Wl in enumerate(W):
            x = jnp.concatenate([jnp.broadcast_to(jnp.asarray(self.Vbias, a.dtype), (1,)), a])
            # summed at the neuron's input
            Inet = self.block("multiplier.forward", l).row_currents(Wl, x)
            a = self.block("activation", l).Vout(Inet)
            inputs.append(x)
            Inets.append(Inet)
            Vouts.append(a)
            Vds.append(self.block("derivative", l).Vd(Inet))
        return Forward(inputs, Inets, Vouts, Vds)

    def charging_currents(self, W, Vin, Vtarget, Vteach):
        """``Icharged`` of every capacitor (A), same shapes as ``W``, and the output ``Vout``."""
        fwd = self.forward(W, Vin)
        top = len(W) - 1
        VE = self.block("error", top).VE(fwd.Vout[-1], Vtarget)  # Type1, Eq. 14
        currents = [None] * len(W)
        for l in reversed(range(len(W))):
            Vdelta = self.block("multiplier.delta", l).product(VE, fwd.Vd[l])
            charge = self.block("multiplier.charge", l)
            Vgrad = charge.product(Vdelta[:, None], fwd.inputs[l][None, :])
            currents[l] = self.block("charging", l).current(Vteach, Vgrad)
            if l > 0:  # Type2, Eq. 15-16: error of the layer below
                M, T = self.block("multiplier.type2", l), self.block("type2", l)
                # IE_kj = K_E * Vdelta_k * Vw_kj summed over k into R_E (the products
                # are read through 1/Km, as M.product does)
                if M._shared():
                    IE_sum = T.K_E * M.column_currents(Vdelta, W[l][:, 1:]) / M.Km
                else:
                    IE_sum = T.K_E * jnp.sum(M.product(Vdelta[:, None], W[l][:, 1:]), axis=0)
                VE = T.R_E * IE_sum
        return tuple(currents), fwd.Vout[-1]

    def capacitances(self) -> tuple:
        """Per layer, the weight capacitors ``C`` (F): a scalar or an array of the
        weights' shape."""
        return tuple(self.block("charging", l).C for l in range(len(self.sizes) - 1))

    def dVw_dt(self, W, Vin, Vtarget, Vteach, dVteach_dt=None):
        """The vector field of the weight capacitors, V/s (Eq. 8): the charging currents,
        less the leakage, plus the charge the switch injects while ``Vteach`` moves at
        ``dVteach_dt`` (V/s; None: held), held at the rails, over ``C``."""
        currents, _ = self.charging_currents(W, Vin, Vtarget, Vteach)
        out = []
        for l, (I, Wl) in enumerate(zip(currents, W)):
            node = self.block("charging", l)
            out.append(node.node_current(I, Wl, dVteach_dt) / node.C)
        return tuple(out)

    def diffusion(self, W, Vin, Vtarget, Vteach):
        """Per weight, the noise intensity ``g`` (V/sqrt(s)) of ``dVw = f dt + g dB``:
        ``sqrt(S) / C`` with ``S`` the node's two-sided noise current density."""
        currents, _ = self.charging_currents(W, Vin, Vtarget, Vteach)
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

    def output(self, W, Vin):
        """``Vout`` of the output layer for inputs ``Vin``."""
        return self.forward(W, Vin).Vout[-1]

    def mse(self, W, X, Y):
        """Mean over rows and outputs of ``(Vout - Vtarget)^2`` (SPEC section 2)."""
        out = jax.vmap(lambda x: self.output(W, x))(X)
        return jnp.mean((out - Y) ** 2)


def build_circuit(config, sample: int | None = None) -> Circuit:
    """The :class:`Circuit` a :class:`aann.spec.Config` describes: each block the law
    its section names, with that section's constants (passed by name); each
    multiplier role ``[blocks.multiplier]`` overridden by its own section.
    ``sample``: Monte Carlo sample of ``[mismatch]`` (per-instance constants),
    None for the nominal circuit."""
    from .params import params_of

    c = config.constants
    laws = {kind: getattr(config.blocks, kind).build() for kind in KINDS if kind != "multiplier"}
    multipliers = {role: config.blocks.multiplier.build(role) for role in ROLES}
    nonideal = config.nonideal.to_dict()  # its noise_seed is the engine's, not a constant
    charging = ChargingSource(**{k: nonideal[k] if k in ChargingSource.NONIDEAL else
                                 getattr(c, k) for k in params_of(ChargingSource)})
    circuit = Circuit(sizes=tuple(config.network.sizes), multipliers=multipliers,
                      charging=charging, Vbias=c.Vbias, **laws)
    if sample is None:
        return circuit
    from .mismatch import draw

    return dataclasses.replace(circuit, instances=draw(circuit, config.mismatch, sample))
