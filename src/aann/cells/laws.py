"""Laws with what a real cell has and the paper's laws have not.

A transistor-level cell is not centred exactly: its sigmoid turns at a small
input current ``-Ioff`` instead of 0, and its output sits ``Voff`` above the
law's. ``sigmoid_offset`` is the paper's law (Eq. 6, 7) with those two offsets,
so that a fit of a cell (``aann characterize``) can state them; with both 0 it
is the ``sigmoid`` law exactly. A Gilbert cell's gain is not quite constant
either: ``polynomial`` is Eq. 5 with the gain varying to second order in each
input, 0 giving the ``ideal`` law exactly. The error cell's gain is not exactly 1:
``GainError`` states it (``Ke``) beside the ``difference`` law the engines run.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..blocks import Activation, Derivative, Multiplier, OutputError, register_law
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


_GAIN = "polynomial only: relative change of the gain per {} of input {} ({})"


@register_law("multiplier", "polynomial")
class PolynomialMultiplier(Multiplier):
    """``I = Km V1 V2 (1 + a1 V1 + a2 V2 + b1 V1^2 + b2 V2^2)`` of the offset operands:
    Eq. 5 with a gain that varies with the inputs, as a translinear cell's does
    (its pairs' linear range ends, its quad leaves weak inversion). Fits the
    SkyWater Gilbert cell within 1 % of full scale at every corner, where the
    ``ideal`` law misses it by up to 8 %."""

    a1: float = param(0.0, doc=_GAIN.format("volt", 1, "1/V"))
    a2: float = param(0.0, doc=_GAIN.format("volt", 2, "1/V"))
    b1: float = param(0.0, doc=_GAIN.format("volt squared", 1, "1/V^2"))
    b2: float = param(0.0, doc=_GAIN.format("volt squared", 2, "1/V^2"))

    def current(self, V1, V2, m=jnp):
        gain = 1.0 + V1 * (self.a1 + self.b1 * V1) + V2 * (self.a2 + self.b2 * V2)
        return self.Km * V1 * V2 * gain


class GainError(OutputError):
    """``VE = Ke (Vout - Vtarget) + Voff``: the Type1 error block with a gain. Not a law
    of the ``error`` block (the engines run ``difference``, ``Ke`` = 1): what ``aann
    characterize error`` fits to state the cell's gain error beside that law's ``Voff``
    (docs/cells.md)."""

    Ke: float = param(1.0, doc="gain of the difference (1: Eq. 14)")

    def VE(self, Vout, Vtarget, m=jnp):
        return self.Ke * (Vout - Vtarget) + self.Voff
