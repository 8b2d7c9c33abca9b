"""The neuron's and the derivative block's laws with the offsets a real cell has.

A transistor-level cell is not centred exactly: its sigmoid turns at a small
input current ``-Ioff`` instead of 0, and its output sits ``Voff`` above the
law's. These laws are the paper's (Eq. 6, 7) with those two offsets, so that a
fit of a cell (``aann characterize``) can state them; with both 0 they are the
``sigmoid`` laws exactly.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..blocks import Activation, Derivative, register_law
from ..params import param

_IOFF = "sigmoid_offset only: offset of the input current (the law reads Inet + Ioff)"
_VOFF = "sigmoid_offset only: offset of the output voltage"


def _plus(x, offset):
    return x if isinstance(offset, (int, float)) and offset == 0 else x + offset


@register_law("activation", "sigmoid_offset")
class OffsetActivation(Activation):
    """``Vout = Voff + Vamp / (1 + exp(-(Inet + Ioff) / Iref))`` (Eq. 6 with offsets)."""

    Ioff: float = param(0.0, "A", doc=_IOFF)
    Voff: float = param(0.0, "V", doc=_VOFF)

    def Vout(self, Inet, m=jnp):
        return _plus(super().Vout(_plus(Inet, self.Ioff), m), self.Voff)


@register_law("derivative", "sigmoid_offset")
class OffsetDerivative(Derivative):
    """``Vd = Voff + Kd e^(u/Vref) / (e^(u/Vref) + 1)^2``, ``u = Ru (Inet + Ioff)``
    (Eq. 7 with offsets)."""

    Ioff: float = param(0.0, "A", doc=_IOFF)
    Voff: float = param(0.0, "V", doc=_VOFF)

    def Vd(self, Inet, m=jnp):
        return _plus(super().Vd(_plus(Inet, self.Ioff), m), self.Voff)
