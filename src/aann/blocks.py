"""The block laws of the paper (Eq. 5-7, 9, 14-17), each written once.

Every law is a method that takes its input signals and a math namespace ``m``.
With ``m = jax.numpy`` (the default) it computes the law on arrays for the
native engine; with ``m = aann.blocks.SPICE`` and :class:`Expr` inputs it writes
the same law as a SPICE behavioural expression. The two engines therefore read
one definition and cannot drift apart.

Blocks are equinox modules: their constants are pytree leaves, so they can be
floats, arrays over instances, or batched with ``vmap`` over parameter sets.
Each constant is declared once, with :func:`aann.params.param` (unit, default,
sign, meaning); the TOML sections and the circuit follow from it. A block kind
(``multiplier``, ``activation``, ``derivative``, ``type2``, ``error``) has laws
chosen by name from a registry: :func:`register_law` adds one::

    @aann.register_law("multiplier", "cubic")
    class CubicMultiplier(aann.blocks.Multiplier):
        K3: float = aann.param(0.0, shown_unit="A/V^6", doc="cubic term")

        def current(self, V1, V2, m=jnp):
            p = V1 * V2
            return self.Km * p + self.K3 * p * p * p

after which ``[blocks.multiplier] law = "cubic"`` and ``K3`` work in TOML, in
the native engine and in the netlist.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .errors import ValidationError
from .params import Needs, Param, param, params_of


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
    def of(value) -> Expr:
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

    @staticmethod
    def clip(x, lo, hi):
        return Expr(f"min(max({Expr.of(x).text},{Expr.of(lo).text}),{Expr.of(hi).text})")


SPICE = _SpiceMath()


# --- the registry of laws ----------------------------------------------------

KINDS = ("multiplier", "activation", "derivative", "type2", "error")
LAWS: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}
DEFAULT_LAWS = {"multiplier": "ideal", "activation": "sigmoid", "derivative": "sigmoid",
                "type2": "linear", "error": "difference"}


def register_law(kind: str, name: str):
    """Class decorator: make a block class the law ``name`` of block ``kind``.

    Its declared constants join the ``[blocks.<kind>]`` section. A constant that
    another law of the kind also declares must be declared alike (one key, one
    meaning).
    """
    if kind not in LAWS:
        raise ValueError(f"unknown block kind {kind!r}; kinds: {', '.join(KINDS)}")

    def add(cls):
        known = section_params(kind)
        for key, p in params_of(cls).items():
            if key in known and known[key] != p:
                raise ValueError(f"law {name!r} declares {kind}.{key} unlike another law "
                                 f"of {kind}: {p} != {known[key]}")
        LAWS[kind][name] = cls
        cls.law = name
        return cls

    return add


def law_class(kind: str, name: str, where: str | None = None) -> type:
    """The block class registered as law ``name`` of ``kind`` (``where``: the TOML
    table that names it, for the message)."""
    try:
        return LAWS[kind][name]
    except KeyError:
        raise ValidationError(f"{where or 'blocks.' + kind}.law = {name!r} is not a known "
                              "law; use one of "
                              + ", ".join(repr(k) for k in LAWS[kind])) from None


def section_params(kind: str) -> dict[str, Param]:
    """Every constant of every law of ``kind``: the keys of ``[blocks.<kind>]``."""
    out: dict[str, Param] = {}
    for cls in LAWS[kind].values():
        for key, p in params_of(cls).items():
            out.setdefault(key, p)
    return out


# --- the blocks ---------------------------------------------------------------

ROLES = ("forward", "delta", "charge", "type2")
"""The four places a multiplier sits in the circuit, with its operands (input 1, input 2):
``forward`` (Vw, x) Eq. 1, 5; ``delta`` (VE, Vd) Vdelta = VE * Vd; ``charge``
(Vdelta, x) Eq. 9, 11; ``type2`` (Vdelta, Vw) Eq. 15-16."""

BLOCKS = ("multiplier.forward", "multiplier.delta", "multiplier.charge", "multiplier.type2",
          "activation", "derivative", "type2", "error", "charging")
"""The names of a circuit's blocks, as :meth:`aann.circuit.Circuit.block` and its
``instances`` (and ``[mismatch]``) use them."""


def instance_shapes(sizes, rule=None) -> list[dict[str, tuple]]:
    """Per layer, the shape of each block's instance array (:mod:`aann.circuit`):
    one per weight for ``multiplier.forward``, ``multiplier.charge`` and ``charging``;
    one per neuron for ``multiplier.delta``, ``activation``, ``derivative`` and
    ``error`` (output layer only); (n_out, n_in) for ``multiplier.type2`` and (n_in,)
    for ``type2`` (the error-summing stage of the layer below; not in layer 0).
    ``rule`` (:class:`aann.rules.Rule`; None: backprop's wiring): the Type2 multipliers
    of layer l are :meth:`~aann.rules.Rule.type2_shape`, under direct feedback
    alignment (n_out of the output layer, n_in)."""
    out = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        weights = (n_out, n_in + 1)
        shapes = {"multiplier.forward": weights, "multiplier.delta": (n_out,),
                  "multiplier.charge": weights, "activation": (n_out,),
                  "derivative": (n_out,), "charging": weights}
        if l > 0:
            type2 = (n_out, n_in) if rule is None else tuple(rule.type2_shape(sizes, l))
            shapes.update({"multiplier.type2": type2, "type2": (n_in,)})
        if l == len(sizes) - 2:
            shapes["error"] = (n_out,)
        out.append(shapes)
    return out


def bandwidth():
    """The ``f3dB`` field of a block with a first-order pole on its output (Hz).

    The pole is the block's output node charging through its output resistance:
    ``tau dy/dt = u - y`` with ``tau = 1 / (2 pi f3dB)``, ``u`` the law's value and
    ``y`` what the next block sees. 0 is no pole (the paper's instantaneous block).
    """
    return param(0.0, "Hz", sign="nonnegative",
                 doc="bandwidth: a first-order pole on the output, tau = 1/(2 pi f3dB); "
                     "0: none (instantaneous)")


SUPPLY = {"multiplier": 147.9e-6, "activation": 19.74e-6, "derivative": 13.93e-6,
          "error": 19.74e-6, "charging": 84.29e-6}
"""The default ``Isupply`` of each block (A): the SkyWater 130 nm cells' supply current
at zero signal, tt, 27 C, 1.8 V (:func:`aann.cells.supply.measure_supply`):
``aann_multiplier``, ``aann_sigmoid``, ``aann_derivative``, ``aann_charging`` (its
``vdd`` and ``vteach`` pins while learning). The error block has no cell: the
sigmoid's (a differential pair into a load resistor, as a subtractor would be). The
Type2 stage (:class:`Type2`) declares none: it is its multipliers (role ``type2``, each
drawing the multiplier's) summed into the resistor ``R_E``. docs/energy.md."""


def supply(kind: str):
    """The ``Isupply`` field of block ``kind``: its static supply current (A), drawn
    from ``[constants] Vdd`` whatever the signals; power only, no dynamics."""
    cell = {"multiplier": "aann_multiplier", "activation": "aann_sigmoid",
            "derivative": "aann_derivative", "charging": "aann_charging"}.get(kind)
    where = f"the SkyWater {cell} cell at zero signal" if cell else \
        "the sigmoid cell's (no cell of its own)"
    who = "charging source" if kind == "charging" else "instance"
    return param(SUPPLY[kind], "A", sign="nonnegative",
                 doc=f"static supply current of each {who}, from Vdd (power only); "
                     f"default: {where}")


def _is_zero(x) -> bool:
    """A literal 0 (a Python number), known when the code is traced."""
    return isinstance(x, (int, float)) and x == 0


def _shifted(V, offset):
    """``V + offset``, written only when the offset is not a literal 0 (so a circuit
    without offsets computes, and writes into a netlist, exactly what it did before
    offsets existed)."""
    return V if _is_zero(offset) else V + offset


class Multiplier(eqx.Module):
    """A four-quadrant multiplier: two voltages in, a current out (Fig. 2).

    A law defines :meth:`current`, the current of the ideal operands;
    :meth:`output` is what the block delivers: the law of the operands shifted by
    the input offsets ``Voff1``, ``Voff``, plus the output offset ``Ioff``.
    """

    Km: float = param(1e-4, shown_unit="A/V^2", sign="nonzero",
                      doc="gain (Eq. 5); a product is read through 1/Km")
    Voff1: float = param(0.0, "V", doc="offset of input 1")
    Voff: float = param(0.0, "V", doc="offset of input 2 (Eq. 17)")
    Ioff: float = param(0.0, "A", doc="offset of the output current")
    f3dB: float = bandwidth()
    Isupply: float = supply("multiplier")

    @abc.abstractmethod
    def current(self, V1, V2, m=jnp):
        """The law: output current in A for input voltages ``V1``, ``V2`` in V."""

    def output(self, V1, V2, m=jnp):
        """The block's output current (A): the law with the offsets."""
        return _shifted(self.current(_shifted(V1, self.Voff1), _shifted(V2, self.Voff), m),
                        self.Ioff)

    def product(self, V1, V2, m=jnp):
        """The output current read through a transresistance ``1/Km``, in V.

        This is how a multiplier's current becomes the voltage of the next block
        (e.g. ``VE * Vd``); with the ideal law it is exactly ``V1 * V2``.
        """
        return self.output(V1, V2, m) / self.Km

    # Multipliers whose output currents meet at one node add up there (Kirchhoff's
    # current law). A law may compute such a sum faster than multiplier by multiplier
    # (the ideal one as a matrix product); the result must be the same sum.

    def row_currents(self, M, v):
        """``sum_k I(M[j, k], v[k])`` for every row j (A): matrix on input 1."""
        return jnp.sum(self.output(M, v[None, :]), axis=-1)

    def column_currents(self, v, M):
        """``sum_k I(v[k], M[k, j])`` for every column j (A): vector on input 1."""
        return jnp.sum(self.output(v[:, None], M), axis=0)

    def _shared(self) -> bool:
        """Every constant one scalar (no per-instance values): sums may be factored.
        ``Isupply`` (power only) does not count."""
        return all(jnp.ndim(x) == 0 for x in jax.tree.leaves(
            dataclasses.replace(self, Isupply=0.0)))


@register_law("multiplier", "ideal")
class IdealMultiplier(Multiplier):
    """``I = Km * V1 * V2`` (Eq. 5)."""

    def current(self, V1, V2, m=jnp):
        return self.Km * V1 * V2

    # sum_k Km (M_jk + Voff1)(v_k + Voff) + Ioff, as a matrix product when the
    # constants are shared by every multiplier of the sum

    def row_currents(self, M, v):
        if not self._shared():
            return super().row_currents(M, v)
        total = self.Km * (_shifted(M, self.Voff1) @ _shifted(v, self.Voff))
        return _shifted(total, self.Ioff * M.shape[-1])

    def column_currents(self, v, M):
        if not self._shared():
            return super().column_currents(v, M)
        total = self.Km * (_shifted(v, self.Voff1) @ _shifted(M, self.Voff))
        return _shifted(total, self.Ioff * M.shape[0])


@register_law("multiplier", "parasitic")
class ParasiticMultiplier(Multiplier):
    """``I = KI * tanh(Km * V1 * V2 / KI)`` of the offset operands: with ``Voff`` on
    input 2 this is Eq. 17 (Fig. 12).

    Eq. 17 as printed omits the ``/KI`` inside tanh; without it the small-signal
    gain would be ``KI*Km`` instead of ``Km``. We keep the gain at ``Km`` so that
    the block tends to the ideal one for small products and no offsets.
    """

    KI: float = param(200e-6, "A", sign="positive", doc="parasitic only: saturation current")

    def current(self, V1, V2, m=jnp):
        return self.KI * m.tanh(self.Km * V1 * V2 / self.KI)


@register_law("multiplier", "sign")
class SignMultiplier(Multiplier):
    """A comparator pair steering a fixed current (meant for the ``charge`` role: a
    sign-sign update): ``I = Isign * tanh(V1 / Vedge) * tanh(V2 / Vedge)`` of the
    offset operands.

    Each input drives a comparator (a differential pair with finite gain); the two
    steer the current ``Isign`` to the output with the sign of ``V1 * V2``, as a
    Gilbert cell driven hard does. Away from the edges (``|V1|, |V2| >> Vedge``)
    ``|I| = Isign``; within ``Vedge`` of zero the comparator is linear with gain
    ``Isign / Vedge``. The finite edge keeps the vector field continuous with a
    bounded slope: a true sign would jump by ``2 Isign`` at every zero crossing, where
    an adaptive solver rejects steps down to its minimum (and chatters forever once the
    learning holds an operand at zero), and Newton's method in SPICE has no derivative
    to follow. The offsets ``Voff1``, ``Voff`` sit before the comparators and ``Ioff``
    after, as in every multiplier law. ``Km`` still reads the current as a voltage
    (``product``): ``Isign / Km`` is the saturated value, not ``V1 * V2``.
    """

    Isign: float = param(10e-6, "A", sign="positive",
                         doc="sign law only: the steered current, |I| away from the edge")
    Vedge: float = param(10e-3, "V", sign="positive",
                         doc="sign law only: each comparator's edge width, I = Isign * "
                             "tanh(V1/Vedge) * tanh(V2/Vedge)")

    def current(self, V1, V2, m=jnp):
        return self.Isign * m.tanh(V1 / self.Vedge) * m.tanh(V2 / self.Vedge)


@register_law("activation", "sigmoid")
class Activation(eqx.Module):
    """Sigmoid neuron: current ``Inet`` in, voltage out (Eq. 6, Fig. 3):
    ``Vout = Vamp / (1 + exp(-Inet / Iref))``."""

    Vamp: float = param(1.0, "V", sign="positive", doc="output swing")
    Iref: float = param(1e-4, "A", sign="positive", doc="input current scale")
    f3dB: float = bandwidth()
    Isupply: float = supply("activation")

    def Vout(self, Inet, m=jnp):
        # = Vamp / (1 + exp(-Inet/Iref)), written with tanh: one transcendental and no
        # division (the faster form on a CPU), and no overflow for any Inet
        return 0.5 * self.Vamp * (1.0 + m.tanh(Inet * (0.5 / self.Iref)))


@register_law("derivative", "sigmoid")
class Derivative(eqx.Module):
    """Sigmoid-derivative block (Eq. 7, Fig. 4): ``Vd = Kd e^(u/Vref)/(e^(u/Vref)+1)^2``.

    Its input ``u = Ru * Inet`` is a voltage image of the neuron's net current.
    With the defaults (``Ru = 1V/Iref``, ``Vref = 1V``, ``Kd = Vamp*Km/Iref = 1V``)
    ``Vd`` equals ``dVout/dnet`` in 1/V, read as volts. The law is evaluated as
    ``Kd (1 - tanh(u/(2 Vref))^2) / 4``, the same function, which cannot overflow.
    """

    Kd: float = param(1.0, "V", doc="gain")
    Vref: float = param(1.0, "V", sign="positive", doc="input voltage scale")
    Ru: float = param(1e4, "Ohm", sign="positive",
                      doc="transresistance Inet -> u; 1V/Iref gives dVout/dnet")
    f3dB: float = bandwidth()
    Isupply: float = supply("derivative")

    def Vd(self, Inet, m=jnp):
        # e^u / (e^u + 1)^2 = (1 - tanh(u/2)^2) / 4: one tanh, no division, no overflow
        t = m.tanh(Inet * (0.5 * self.Ru / self.Vref))
        return 0.25 * self.Kd * (1.0 - t * t)


@register_law("derivative", "constant")
class ConstantDerivative(eqx.Module):
    """No derivative block: ``Vd = Vd0``, a DC voltage for every neuron (the update is
    backprop with ``f'`` replaced by a constant).

    The default 0.25 V is the sigmoid derivative block's maximum, its value at
    ``Inet = 0`` (``Kd / 4``; ``Vamp / 4`` per ``Iref`` read as volts with the defaults).
    The law has no ``f3dB``: a pole on a DC voltage has nothing to filter (its output
    never moves), so ``Vd`` never lags and ``f3dB`` is refused with this law. The
    neuron's summing node still has a sense resistor ``Ru`` (the activation reads
    ``Inet`` from it, and the forward multipliers' pole charges it); it is not a key
    of this law, as no block reads ``u = Ru * Inet`` here.
    """

    Vd0: float = param(0.25, "V", doc="constant law only: the fixed Vd of every neuron; "
                                      "0.25 V = the sigmoid derivative's maximum, Kd/4")
    Ru: ClassVar[float] = 1e4  # Ohm: the summing node's sense resistor (1 V / Iref)
    shared: ClassVar[bool] = True  # one DC source for every neuron: no block per neuron
    # (aann.energy counts none, and it declares no Isupply)

    def Vd(self, Inet, m=jnp):
        if isinstance(Inet, Expr):  # in a netlist: a DC value in the B-source
            return Expr.of(self.Vd0)
        return jnp.zeros_like(Inet) + self.Vd0


@register_law("type2", "linear")
class Type2(eqx.Module):
    """Hidden-layer error (Eq. 15-16): ``VE_j = R_E * sum_k IE_kj`` with
    ``IE_kj = K_E * Vdelta_k * Vw_kj``."""

    R_E: float = param(1e4, "Ohm", sign="positive", doc="error summing resistor")
    K_E: float = param(1e-4, shown_unit="A/V^2",
                       doc="error multiplier gain; R_E * K_E = 1 gives the exact gradient")


@register_law("error", "difference")
class OutputError(eqx.Module):
    """Type1 error block (Eq. 14): ``VE = Vout - Vtarget + Voff``."""

    Voff: float = param(0.0, "V", doc="offset of the error output")
    f3dB: float = bandwidth()
    Isupply: float = supply("error")

    def VE(self, Vout, Vtarget, m=jnp):
        return _shifted(Vout - Vtarget, self.Voff)


K_BOLTZMANN = 1.380649e-23  # J/K (exact, SI 2019)
Q_ELECTRON = 1.602176634e-19  # C (exact, SI 2019)


class ChargingSource(eqx.Module):
    """Eq. 8-9: ``Icharged = -Keta * (Vteach / 1V) * VE * Vd * Vin`` into a capacitor ``C``,
    and that capacitor's node.

    ``Imax`` is the largest current the real source can deliver (the paper's
    100 uA). ``current_limit`` simulates the source as limited to it
    (``clip``: ``clip(I, -Imax, Imax)``; ``tanh``: ``Imax * tanh(I / Imax)``);
    with ``none`` ``Imax`` is only reported against. ``C``, ``Keta``, ``Imax`` are
    ``[constants]`` keys; the node's imperfections (:data:`NONIDEAL`) are
    ``[nonideal]`` keys: a leakage resistor ``R_leak`` to ground, supply rails the
    charging source cannot drive the node beyond, the charge ``Qinj`` the
    ``Vteach`` switch injects at each of its edges, and the source's input offset ``Voff``.
    """

    C: float = param(0.1e-12, "F", sign="positive", doc="weight capacitor")
    Keta: float = param(1.0, "S", sign="nonnegative",
                        doc="charging conductance; Keta/C = 1e13 1/s")
    Imax: float = param(100e-6, "A", sign="positive",
                        doc="largest current the charging source can deliver")
    Isupply: float = supply("charging")
    current_limit: str = param("none", choices=("none", "clip", "tanh"), static=True,
                               doc="the source limited to Imax: clip(I) or Imax*tanh(I/Imax)")
    R_leak: float = param(0.0, "Ohm", sign="nonnegative",
                          doc="leakage of every weight capacitor to ground; 0: none")
    rails: bool = param(False, choices=(False, True), static=True,
                        doc="true: the source cannot drive a weight beyond [Vmin, Vmax]")
    Vmin: float = param(0.0, "V", doc="lower supply rail (with rails = true)")
    Vmax: float = param(1.8, "V", doc="upper supply rail (with rails = true)")
    Qinj: float = param(0.0, "C", doc="charge the Vteach switch injects into every weight "
                                      "capacitor per volt of each Vteach edge")
    Voff: float = param(0.0, "V", doc="input offset of the charging source: it charges "
                                      "-Keta Vteach (Vgrad + Voff)")

    temperature: float = param(0.0, "K", sign="nonnegative",
                               doc="thermal noise of R_leak on every weight (needs R_leak; with "
                                   "autozero also kT/C_az); 0: none")
    shot_noise: bool = param(False, choices=(False, True), static=True,
                             doc="true: the charging current's shot noise, 2 q |I|")
    dead_zone: float = param(0.0, "V", sign="nonnegative",
                             doc="a comparator gates the source: no current while |Vgrad| < "
                                 "dead_zone; 0: none")
    dead_zone_edge: float = param(0.1e-3, "V", sign="positive",
                                  doc="the gate's edge: the current rises linearly from 0 at "
                                      "|Vgrad| = dead_zone to its full value at dead_zone + "
                                      "dead_zone_edge")

    NONIDEAL: ClassVar[tuple] = ("current_limit", "R_leak", "rails", "Vmin", "Vmax", "Qinj",
                                 "Voff", "temperature", "shot_noise", "dead_zone",
                                 "dead_zone_edge")
    NEEDS: ClassVar[dict] = {"Vmin": Needs(("rails", "=", True)),
                             "Vmax": Needs(("rails", "=", True)),
                             "dead_zone_edge": Needs(("dead_zone", ">", 0.0))}
    """The keys read only under a switch (given without it, they are refused). Every
    other key is always read: ``Imax`` is reported against without ``current_limit``,
    ``R_leak``, ``Qinj``, ``temperature`` and ``dead_zone`` are off at 0, and
    ``temperature > 0`` without ``R_leak`` is refused by the description (unless autozero
    reads it for kT/C_az; :class:`aann.spec.Config`)."""

    def current(self, Vteach, Vgrad, m=jnp):
        """Charging current in A; ``Vgrad`` is the multiplier's image of ``VE*Vd*Vin`` in V
        (what reaches the source's input).

        With ``dead_zone`` a comparator gates the source: the current is the ideal one
        times ``clip((|Vgrad| - dead_zone) / dead_zone_edge, 0, 1)``, exactly 0 while
        ``|Vgrad| < dead_zone`` and the ideal current from ``dead_zone + dead_zone_edge``
        on; the finite edge (a comparator of finite gain) keeps the current a
        continuous function of ``Vgrad`` (docs/cancellation.md).

        ``Voff``: the source's own input offset, added to what reaches its input (after
        the autozero's subtraction and the chopper's demodulator at the input: neither
        cancels it), so it charges ``-Keta Vteach Voff`` at zero gradient while it learns;
        a chopper demodulating the current (``demodulator = "output"``) chops it."""
        Vgrad = _shifted(Vgrad, self.Voff)
        ideal = -self.Keta * Vteach * Vgrad
        if not _is_zero(self.dead_zone):
            gate = self.gate(Vgrad, m)
            if not isinstance(self.dead_zone, (int, float)):  # an array (per network):
                gate = jnp.where(jnp.asarray(self.dead_zone) > 0, gate, 1.0)  # 0 is none
            ideal = ideal * gate
        if self.current_limit == "tanh":
            return self.Imax * m.tanh(ideal / self.Imax)
        if self.current_limit == "clip":
            return m.clip(ideal, -self.Imax, self.Imax)
        return ideal

    def gate(self, Vgrad, m=jnp):
        """The dead zone's comparator gate, 0 .. 1: ``clip((|Vgrad| - dead_zone) /
        dead_zone_edge, 0, 1)``."""
        return m.clip((m.abs(Vgrad) - self.dead_zone) / self.dead_zone_edge, 0.0, 1.0)

    def node_current(self, Icharged, Vw, dVteach_dt=None):
        """The current into the capacitor (A): the source's, less the leakage, plus the
        charge the ``Vteach`` switch injects while ``Vteach`` moves (``Qinj`` per volt);
        at a rail zero while it would push the weight outward."""
        R = self.R_leak
        if not _is_zero(R):  # an array (batched, mismatched) may hold 0 = none, too
            I = Icharged - (Vw / R if isinstance(R, (int, float)) else
                            jnp.where(R > 0, Vw / jnp.where(R > 0, R, 1.0), 0.0))
        else:
            I = Icharged
        if dVteach_dt is not None and not _is_zero(self.Qinj):
            I = I + self.Qinj * jnp.abs(dVteach_dt)
        if self.rails:
            outward = ((Vw >= self.Vmax) & (I > 0)) | ((Vw <= self.Vmin) & (I < 0))
            I = jnp.where(outward, 0.0, I)
        return I

    @property
    def noisy(self) -> bool:
        """Any noise source on: the flag, or a temperature above 0 (asked of a concrete
        circuit; an array of temperatures, e.g. stacked circuits, counts if any is)."""
        if self.shot_noise:
            return True
        T = self.temperature
        if isinstance(T, (int, float)):
            return T != 0
        return bool(np.any(np.asarray(T) != 0))

    def noise_density(self, Icharged):
        """The two-sided spectral density of the node's noise current (A^2/Hz = A^2 s):
        thermal ``2 k T / R_leak`` (one-sided ``4 k T / R``) and shot ``q |I|``
        (one-sided ``2 q |I|``). Over ``R_leak C`` the thermal part gives ``k T / C``."""
        S = jnp.zeros_like(Icharged)
        if not _is_zero(self.temperature):
            R = self.R_leak
            S = S + jnp.where(R > 0, 2 * K_BOLTZMANN * self.temperature /
                              jnp.where(R > 0, R, 1.0), 0.0)
        if self.shot_noise:
            S = S + Q_ELECTRON * jnp.abs(Icharged)
        return S

    def inject(self, Vw, dVteach):
        """``Vw`` after an ideal (zero-time) ``Vteach`` edge of ``dVteach`` volts."""
        if _is_zero(self.Qinj):
            return Vw
        return self.clamp(Vw + self.Qinj * jnp.abs(dVteach) / self.C)

    def clamp(self, Vw):
        """``Vw`` held within the rails (with ``rails``)."""
        return jnp.clip(Vw, self.Vmin, self.Vmax) if self.rails else Vw
