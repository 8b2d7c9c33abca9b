"""The block laws of the paper (Eq. 5-7, 9, 14-17), each written once.

Every law is a method that takes its input signals and a math namespace ``m``.
With ``m = jax.numpy`` (the default) it computes the law on arrays for the
native engine; with ``m = aann.blocks.SPICE`` and :class:`Expr` inputs it writes
the same law as a SPICE behavioural expression. The two engines therefore read
one definition and cannot drift apart.

Blocks are equinox modules: their constants are pytree leaves, so they can be
floats, arrays over instances, or batched with ``vmap`` over parameter sets.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax.numpy as jnp


class Expr:
    """A SPICE expression under construction: ``Expr("v(w1)") * 1e-4``."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"

    @staticmethod
    def of(value) -> "Expr":
        if isinstance(value, Expr):
            return value
        return Expr(repr(float(value)))

    def _binary(self, other, op, reverse=False):
        left, right = (Expr.of(other), self) if reverse else (self, Expr.of(other))
        return Expr(f"({left.text}{op}{right.text})")

    def __add__(self, other): return self._binary(other, "+")
    def __radd__(self, other): return self._binary(other, "+", reverse=True)
    def __sub__(self, other): return self._binary(other, "-")
    def __rsub__(self, other): return self._binary(other, "-", reverse=True)
    def __mul__(self, other): return self._binary(other, "*")
    def __rmul__(self, other): return self._binary(other, "*", reverse=True)
    def __truediv__(self, other): return self._binary(other, "/")
    def __rtruediv__(self, other): return self._binary(other, "/", reverse=True)
    def __neg__(self): return Expr(f"(-{self.text})")


class _SpiceMath:
    """The functions the laws use, as SPICE3 / ngspice B-source functions."""

    @staticmethod
    def exp(x): return Expr(f"exp({Expr.of(x).text})")

    @staticmethod
    def tanh(x): return Expr(f"tanh({Expr.of(x).text})")

    @staticmethod
    def abs(x): return Expr(f"abs({Expr.of(x).text})")


SPICE = _SpiceMath()


class Multiplier(eqx.Module):
    """A four-quadrant multiplier: two voltages in, a current out (Fig. 2)."""

    Km: float = 1e-4  # A/V^2, Eq. 5

    @abc.abstractmethod
    def current(self, V1, V2, m=jnp):
        """Output current in A for input voltages ``V1``, ``V2`` in V."""

    def product(self, V1, V2, m=jnp):
        """The output current read through a transresistance ``1/Km``, in V.

        This is how a multiplier's current becomes the voltage of the next block
        (e.g. ``VE * Vd``); with the ideal law it is exactly ``V1 * V2``.
        """
        return self.current(V1, V2, m) / self.Km


class IdealMultiplier(Multiplier):
    """``I = Km * V1 * V2`` (Eq. 5)."""

    Km: float = 1e-4

    def current(self, V1, V2, m=jnp):
        return self.Km * V1 * V2


class ParasiticMultiplier(Multiplier):
    """``I = KI * tanh(Km * V1 * (V2 + Voff) / KI)`` (Eq. 17, Fig. 12).

    Eq. 17 as printed omits the ``/KI`` inside tanh; without it the small-signal
    gain would be ``KI*Km`` instead of ``Km``. We keep the gain at ``Km`` so that
    the block tends to the ideal one for small products and ``Voff = 0``.
    """

    Km: float = 1e-4
    KI: float = 200e-6  # A, saturation current
    Voff: float = 0.0  # V, input offset of the second input

    def current(self, V1, V2, m=jnp):
        return self.KI * m.tanh(self.Km * V1 * (V2 + self.Voff) / self.KI)


class Activation(eqx.Module):
    """Sigmoid neuron: current ``Inet`` in, voltage out (Eq. 6, Fig. 3)."""

    Vamp: float = 1.0  # V
    Iref: float = 1e-4  # A

    def Vout(self, Inet, m=jnp):
        return self.Vamp / (1.0 + m.exp(-Inet / self.Iref))


class Derivative(eqx.Module):
    """Sigmoid-derivative block (Eq. 7, Fig. 4): ``Vd = Kd e^(u/Vref)/(e^(u/Vref)+1)^2``.

    Its input ``u = Ru * Inet`` is a voltage image of the neuron's net current.
    With the defaults (``Ru = 1V/Iref``, ``Vref = 1V``, ``Kd = Vamp*Km/Iref = 1V``)
    ``Vd`` equals ``dVout/dnet`` in 1/V, read as volts. The law is written with
    ``|u|`` (the function is even), so that it cannot overflow to inf/inf.
    """

    Kd: float = 1.0  # V
    Vref: float = 1.0  # V
    Ru: float = 1e4  # Ohm, transresistance Inet -> u

    def Vd(self, Inet, m=jnp):
        z = m.exp(-m.abs(self.Ru * Inet) / self.Vref)
        return self.Kd * z / ((1.0 + z) * (1.0 + z))


class Type2(eqx.Module):
    """Hidden-layer error (Eq. 15-16): ``VE_j = R_E * sum_k IE_kj``, ``IE_kj = K_E * Vdelta_k * Vw_kj``."""

    R_E: float = 1e4  # Ohm
    K_E: float = 1e-4  # A/V^2; R_E * K_E = 1 gives the exact gradient


class ChargingSource(eqx.Module):
    """Eq. 8-9: ``Icharged = -Keta * (Vteach / 1V) * VE * Vd * Vin`` into a capacitor ``C``.

    ``Imax`` is the largest current the real source can deliver (the paper's
    100 uA). With ``saturate`` the source is simulated as limited,
    ``Imax * tanh(I / Imax)``; otherwise ``Imax`` is only reported against.
    """

    Keta: float = 1.0  # S
    C: float = 0.1e-12  # F
    Imax: float = 100e-6  # A
    saturate: bool = eqx.field(static=True, default=False)

    def current(self, Vteach, Vgrad, m=jnp):
        """Charging current in A; ``Vgrad`` is the multiplier's image of ``VE*Vd*Vin`` in V."""
        ideal = -self.Keta * Vteach * Vgrad
        if self.saturate:
            return self.Imax * m.tanh(ideal / self.Imax)
        return ideal


def output_error(Vout, Vtarget):
    """Type1 error block (Eq. 14): ``VE = Vout - Vtarget``."""
    return Vout - Vtarget
