"""The circuit of Fig. 1 and Fig. 7 as equations: forward pass, Type1/Type2 error,
charging currents, computed block by block as the hardware computes them.

Weights are a tuple of matrices ``W[l]`` of shape ``(n_out, n_in + 1)``, in
volts; column 0 is the bias weight (its input is ``Vbias``). Nothing here uses
autodiff: with non-ideal blocks the right-hand side is what the blocks compute,
not the true gradient.

Multiplier roles (each a multiplier block, all of one law for now):
``forward``  ``Inet_j = sum_i I(Vw_ji, x_i)``;
``delta``    ``Vdelta_j = VE_j * Vd_j`` (a product read as a voltage);
``charge``   ``Vgrad_ji = Vdelta_j * x_i``, which sets ``Icharged_ji``;
``type2``    ``IE_kj = K_E * Vdelta_k * Vw_kj`` for the layer below.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from .blocks import (
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


class Circuit(eqx.Module):
    """All the blocks of one network; constants are pytree leaves (vmap-able)."""

    sizes: tuple = eqx.field(static=True)
    multiplier: Multiplier = IdealMultiplier()
    activation: Activation = Activation()
    derivative: Derivative = Derivative()
    type2: Type2 = Type2()
    error: OutputError = OutputError()
    charging: ChargingSource = ChargingSource()
    Vbias: float = param(1.0, "V", doc="bias input x_0 of every neuron")

    def forward(self, W, Vin) -> Forward:
        """Forward propagation (Eq. 1, 5, 6, 7) for inputs ``Vin`` (V)."""
        inputs, Inets, Vouts, Vds = [], [], [], []
        a = Vin
        for Wl in W:
            x = jnp.concatenate([jnp.broadcast_to(jnp.asarray(self.Vbias, a.dtype), (1,)), a])
            Inet = self.multiplier.row_currents(Wl, x)  # summed at the neuron's input
            a = self.activation.Vout(Inet)
            inputs.append(x)
            Inets.append(Inet)
            Vouts.append(a)
            Vds.append(self.derivative.Vd(Inet))
        return Forward(inputs, Inets, Vouts, Vds)

    def charging_currents(self, W, Vin, Vtarget, Vteach):
        """``Icharged`` of every capacitor (A), same shapes as ``W``, and the output ``Vout``."""
        fwd = self.forward(W, Vin)
        M = self.multiplier
        VE = self.error.VE(fwd.Vout[-1], Vtarget)  # Type1, Eq. 14
        currents = [None] * len(W)
        for l in reversed(range(len(W))):
            Vdelta = M.product(VE, fwd.Vd[l])
            Vgrad = M.product(Vdelta[:, None], fwd.inputs[l][None, :])
            currents[l] = self.charging.current(Vteach, Vgrad)
            if l > 0:  # Type2, Eq. 15-16: error of the layer below
                # IE_kj = K_E * Vdelta_k * Vw_kj summed over k into R_E (the products
                # are read through 1/Km, as M.product does)
                IE_sum = self.type2.K_E * M.column_currents(Vdelta, W[l][:, 1:]) / M.Km
                VE = self.type2.R_E * IE_sum
        return tuple(currents), fwd.Vout[-1]

    def dVw_dt(self, W, Vin, Vtarget, Vteach):
        """The vector field of the weight capacitors, V/s (Eq. 8)."""
        currents, _ = self.charging_currents(W, Vin, Vtarget, Vteach)
        return tuple(I / self.charging.C for I in currents)

    def output(self, W, Vin):
        """``Vout`` of the output layer for inputs ``Vin``."""
        return self.forward(W, Vin).Vout[-1]

    def mse(self, W, X, Y):
        """Mean over rows and outputs of ``(Vout - Vtarget)^2`` (SPEC section 2)."""
        out = jax.vmap(lambda x: self.output(W, x))(X)
        return jnp.mean((out - Y) ** 2)


def build_circuit(config) -> Circuit:
    """The :class:`Circuit` a :class:`aann.spec.Config` describes: each block the law
    its section names, with that section's constants (passed by name)."""
    from .blocks import KINDS
    from .params import params_of

    c = config.constants
    laws = {kind: getattr(config.blocks, kind).build() for kind in KINDS}
    charging = ChargingSource(**{k: getattr(c, k) for k in params_of(ChargingSource)})
    return Circuit(sizes=tuple(config.network.sizes), charging=charging, Vbias=c.Vbias, **laws)
