"""Learning rules: which signals drive the backward and charging blocks, written once.

The forward pass is the network; the *rule* is the wiring of the backward path: what
the delta multiplier, the charge multipliers and the Type2 multipliers read. Every
engine asks the circuit's rule (:attr:`aann.Circuit.rule`) for the two operands of
each such multiplier, and none spells the wiring out itself:

* the native circuit (:meth:`aann.Circuit.charging_currents`) with JAX arrays and
  ``m = jax.numpy``;
* the netlist writer (:mod:`aann.engines.spice.netlist`) with
  :class:`aann.blocks.Expr` node voltages and ``m = aann.blocks.SPICE``;
* the cells co-simulation (:mod:`aann.cells.cosim`) with its nodes as ``Expr``: an
  operand that is a node wires the cell input to that node, any other expression
  drives it through an ideal B-source (glue).

A rule is an equinox module (abstract :class:`Rule`, final rules registered by name),
so a later rule can hold arrays (a fixed random feedback matrix per layer) as pytree
leaves. Its operand methods are written once with a math namespace ``m`` exactly as
the block laws are (:mod:`aann.blocks`). The engines pass operands shaped so that
elementwise arithmetic broadcasts over the multipliers of the role (``n`` neurons in
the layer, ``N`` inputs):

* ``delta``: ``VE`` (n,), ``Vd`` (n,); in a netlist ``v(ve)``, ``v(vd)`` of neuron j;
* ``charge``: ``Vdelta`` (n, 1), ``x`` (1, N + 1), ``x_0 = Vbias``; in a netlist
  ``v(vdelta)``, ``v(x<i>)``;
* ``type2``: ``Vdelta`` (n, 1), ``Vw`` (n, N), the layer's weights without the bias
  column; in a netlist ``v(vdelta)``, ``v(w<i>)``, i >= 1. Their currents, summed
  into ``R_E``, are the error of the layer below.

An operand may be any expression of these signals (and of constants); it should keep
the shape the engine passes. A rule whose Type2 multipliers read fixed voltages
instead of the weights (feedback alignment) returns them from :meth:`Rule.feedback`;
every engine then provides them as fixed sources (arrays; DC sources in a netlist and
in the co-simulation) and passes them as ``Vfb`` (the shape of ``Vw``). A rule that
changes which layer's deltas make a hidden layer's error (direct feedback alignment)
needs one more method, not there yet: the engines wire the Type2 multipliers of layer
``l`` to the error of layer ``l - 1``.

``[training] rule = "backprop"`` (the paper's, the default) chooses the rule by
name; :func:`register_rule` adds one::

    @aann.register_rule("half_type2")
    class HalfType2(aann.rules.Backprop):
        def type2_inputs(self, Vdelta, Vw, m=jnp, *, Vfb=None):
            return Vdelta, 0.5 * Vw

after which ``rule = "half_type2"`` runs in the native engine, in ngspice and in the
cells co-simulation.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .errors import ValidationError

RULES: dict[str, type] = {}
"""The registered rules, name -> class (:func:`register_rule`)."""

DEFAULT_RULE = "backprop"


def register_rule(name: str):
    """Class decorator: make a :class:`Rule` subclass the learning rule ``name``
    (``[training] rule = name``)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a rule's name must be a non-empty text, not {name!r}")

    def add(cls):
        if not (isinstance(cls, type) and issubclass(cls, Rule)):
            raise TypeError(f"rule {name!r} must be a subclass of aann.rules.Rule")
        RULES[name] = cls
        cls.name = name
        return cls

    return add


def rule_class(name: str, where: str = "training.rule") -> type:
    """The rule class registered as ``name`` (``where``: the key that names it, for
    the message)."""
    try:
        return RULES[name]
    except (KeyError, TypeError):
        raise ValidationError(f"{where} = {name!r} is not a known learning rule; use one "
                              "of " + ", ".join(repr(k) for k in RULES)) from None


def build_rule(config) -> Rule:
    """The rule object ``[training] rule`` of :class:`aann.spec.Config` ``config`` names."""
    return rule_class(config.training.rule).from_config(config)


class Rule(eqx.Module):
    """A learning rule: the operands (input 1, input 2) of the backward and charging
    multipliers. Abstract; a rule is a registered subclass (:func:`register_rule`)."""

    name: ClassVar[str] = ""

    @classmethod
    def from_config(cls, config) -> Rule:
        """The rule a configuration describes (a rule with drawn arrays reads its keys
        here)."""
        return cls()

    @abc.abstractmethod
    def delta_inputs(self, VE, Vd, m=jnp):
        """Operands of the delta multiplier (``Vdelta``, read through ``1/Km``) from the
        neuron's error ``VE`` and derivative ``Vd``."""

    @abc.abstractmethod
    def charge_inputs(self, Vdelta, x, m=jnp):
        """Operands of the charge multipliers (``Vgrad``, which sets ``Icharged``) from
        the neuron's ``Vdelta`` and the layer's inputs ``x`` (``x_0 = Vbias``)."""

    @abc.abstractmethod
    def type2_inputs(self, Vdelta, Vw, m=jnp, *, Vfb=None):
        """Operands of the Type2 multipliers of a layer (their currents, summed into
        ``R_E``, are the error of the layer below) from the layer's ``Vdelta``, its
        non-bias weights ``Vw`` and, where :meth:`feedback` gives them, the fixed
        voltages ``Vfb`` (None otherwise)."""

    def feedback(self, l: int):
        """The fixed voltages (V, shape ``(n_out, n_in)`` of layer index ``l >= 1``)
        that the engines provide as ``Vfb`` to that layer's Type2 multipliers; None
        (the default): none."""
        return None

    def operands_text(self, role: str, names: tuple) -> tuple[str, str]:
        """The operands of multiplier ``role`` (``delta``, ``charge``, ``type2``) written
        in the signals' names ``names`` (as :class:`aann.blocks.Expr`): what netlist
        comments print."""
        from .blocks import SPICE, Expr

        method = {"delta": self.delta_inputs, "charge": self.charge_inputs,
                  "type2": self.type2_inputs}[role]
        a, b = method(*(Expr(n) for n in names[:2]), m=SPICE,
                      **({"Vfb": Expr(names[2])} if role == "type2" and len(names) > 2
                         else {}))
        return str(Expr.of(a)), str(Expr.of(b))


@register_rule("backprop")
class Backprop(Rule):
    """The paper's rule, exact backpropagation (Eq. 11-16): the delta multiplier reads
    ``(VE, Vd)``, the charge multipliers ``(Vdelta, x_i)``, the Type2 multipliers
    ``(Vdelta_k, Vw_kj)`` of the layer above."""

    def delta_inputs(self, VE, Vd, m=jnp):
        return VE, Vd

    def charge_inputs(self, Vdelta, x, m=jnp):
        return Vdelta, x

    def type2_inputs(self, Vdelta, Vw, m=jnp, *, Vfb=None):
        return Vdelta, Vw
