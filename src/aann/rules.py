"""Learning rules: which signals drive the backward and charging blocks, written once.

The forward pass is the network; the *rule* is the wiring of the backward path: what
the delta multiplier, the charge multipliers and the Type2 multipliers read, and
which layer's deltas make each hidden layer's error. Every engine asks the circuit's
rule (:attr:`aann.Circuit.rule`) for the two operands of each such multiplier, and
none spells the wiring out itself:

* the native circuit (:meth:`aann.Circuit.charging_currents`) with JAX arrays and
  ``m = jax.numpy``;
* the netlist writer (:mod:`aann.engines.spice.netlist`) with
  :class:`aann.blocks.Expr` node voltages and ``m = aann.blocks.SPICE``;
* the cells co-simulation (:mod:`aann.cells.cosim`) with its nodes as ``Expr``: an
  operand that is a node wires the cell input to that node, any other expression
  drives it through an ideal B-source (glue).

A rule is an equinox module (abstract :class:`Rule`, final rules registered by name),
so a rule can hold arrays (a fixed random feedback matrix per layer) as pytree
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
the shape the engine passes. Two hooks change the backward path's structure:

* :meth:`Rule.feedback` (``l``): fixed voltages the Type2 multipliers of layer index
  ``l`` read (feedback alignment); every engine provides them as fixed sources
  (arrays; DC sources in a netlist and in the co-simulation) and passes them as
  ``Vfb``, one per multiplier;
* :meth:`Rule.type2_source` (``l``, ``n_layers``): the layer index whose deltas feed
  the Type2 stage that makes the error of layer ``l - 1`` (default ``l``, the layer
  above). Its multipliers are instances of layer ``l`` (``[mismatch]`` draws,
  ``multiplier.type2``, the ``VE`` pole of layer ``l - 1``) of shape
  :meth:`Rule.type2_shape`, ``(n_out of the source layer, n_in of layer l)``; where
  the source is not ``l`` no weights match them, and ``Vw`` is None.

A rule whose arrays are drawn per network (:attr:`Rule.per_network`) takes the
network's seed in :meth:`Rule.from_config`; the batch builders (:mod:`aann.batch`)
build each network's rule from its seed and stack the rule's arrays along the network
axis, so a network gets the same arrays alone or in any batch. The ``[training]``
keys a rule reads are its :attr:`Rule.keys` (declared in :class:`aann.spec.Training`);
given with a rule that does not read them, they are refused.

The registered rules (``[training] rule``):

``backprop`` (the paper's, the default)
    Exact backpropagation (Eq. 11-16): the Type2 multipliers of layer ``l`` read
    ``(Vdelta_k, Vw_kj)`` of that layer, so ``delta_h = (W_{h+1}^T delta_{h+1}) f'``.

``feedback_alignment`` (Lillicrap et al. 2016)
    The Type2 multipliers of layer ``l`` read ``(Vdelta_k, B_l[k, j])``, ``B_l`` a fixed
    random voltage of the shape of ``W_l`` without its bias column, ``(n_out, n_in)``:
    ``delta_h = (B_{h+1}^T delta_{h+1}) f'``. What it removes: the Type2 multipliers
    no longer read the weight capacitors (no wire from every weight to the backward
    path; the weights are read by the forward multipliers only).

``direct_feedback_alignment`` (Noekland 2016)
    Every hidden layer ``h``'s error comes from the *output* layer's deltas through its
    own fixed random matrix, one Type2 stage whatever the depth: ``VE_h = R_E sum_k
    K_E I(Vdelta_out_k, Vfb_h[k, j]) / Km``, ``Vfb_h`` of shape ``(n_out_last, n_h)``,
    so ``delta_h = (B_h^T delta_out) f'``. What it removes: the hidden error no longer
    waits for the layers above (the error path passes one Type2 stage, not one per
    layer above; :meth:`aann.Circuit.settling_time` counts the poles that run), and the
    Type2 multipliers read no weights. With one hidden layer it is feedback alignment.

Both draw ``B ~ uniform(-feedback_range, feedback_range)`` (V, default 1 V): the
network of seed ``s`` from a generator seeded with ``(feedback_seed, s, l)``, ``l`` the
layer index of the Type2 stage (1 for the stage beside ``W_1``), per layer.

:func:`register_rule` adds a rule::

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
import numpy as np

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


def build_rule(config, seed: int = 0) -> Rule:
    """The rule object ``[training] rule`` of :class:`aann.spec.Config` ``config`` names,
    for the network of seed ``seed`` (read by a rule with per-network arrays,
    :attr:`Rule.per_network`)."""
    cls = rule_class(config.training.rule)
    return cls.from_config(config, seed=seed) if cls.per_network else cls.from_config(config)


def per_network(config) -> bool:
    """The rule ``config`` names draws arrays per network (:attr:`Rule.per_network`)."""
    return rule_class(config.training.rule).per_network


class Rule(eqx.Module):
    """A learning rule: the operands (input 1, input 2) of the backward and charging
    multipliers. Abstract; a rule is a registered subclass (:func:`register_rule`)."""

    name: ClassVar[str] = ""
    keys: ClassVar[tuple] = ()
    """The ``[training]`` keys this rule reads (each declared in
    :class:`aann.spec.Training` and listed in its ``RULE_KEYS``)."""
    per_network: ClassVar[bool] = False
    """Its arrays are drawn per network: :meth:`from_config` takes the network's seed,
    and the batch builders stack every array leaf of the rule along the network axis."""

    @classmethod
    def from_config(cls, config, seed: int = 0) -> Rule:
        """The rule a configuration describes (a rule with drawn arrays reads its keys
        here; ``seed``: the network's, passed where :attr:`per_network`)."""
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
        ``R_E``, are the error of the layer below) from the deltas ``Vdelta`` of the
        layer :meth:`type2_source` names, the layer's non-bias weights ``Vw`` (None
        where that source is another layer: no weights match the multipliers) and,
        where :meth:`feedback` gives them, the fixed voltages ``Vfb`` (None otherwise)."""

    def feedback(self, l: int):
        """The fixed voltages (V, shape :meth:`type2_shape` of layer index ``l >= 1``)
        that the engines provide as ``Vfb`` to that layer's Type2 multipliers; None
        (the default): none."""
        return None

    def type2_source(self, l: int, n_layers: int) -> int:
        """The layer index whose deltas feed the Type2 multipliers of layer index ``l``
        (``1 <= l < n_layers``), whose currents make the error of layer ``l - 1``: ``l``
        (the default, the layer above, as backpropagation wires it)."""
        return l

    def type2_shape(self, sizes, l: int) -> tuple:
        """The Type2 multipliers of layer index ``l`` (``sizes``: the layer sizes, inputs
        first): ``(n_out of the source layer, n_in of layer l)``."""
        return (sizes[self.type2_source(l, len(sizes) - 1) + 1], sizes[l])

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


def draw_feedback(config, seed: int, shapes: dict) -> tuple:
    """Fixed random voltages ``uniform(-feedback_range, feedback_range)`` (V) for the
    Type2 stages ``shapes`` (layer index -> shape): that of layer ``l`` of the network of
    seed ``seed`` from a generator seeded with ``(feedback_seed, seed, l)``. Per layer
    index ``0 .. n_layers - 1``: the array, None where no stage is."""
    t = config.training
    n_layers = len(config.network.sizes) - 1
    out = []
    for l in range(n_layers):
        if l not in shapes:
            out.append(None)
            continue
        rng = np.random.default_rng([t.feedback_seed, seed, l])
        out.append(rng.uniform(-t.feedback_range, t.feedback_range, shapes[l]))
    return tuple(out)


@register_rule("feedback_alignment")
class FeedbackAlignment(Backprop):
    """Feedback alignment: the Type2 multipliers of layer ``l`` read ``(Vdelta_k,
    B_l[k, j])``, ``B_l`` fixed random voltages of the shape of ``W_l`` without its
    bias column (:func:`draw_feedback`), instead of the weights ``Vw_kj``."""

    B: tuple = ()  # per layer index: (n_out, n_in) V for l >= 1, None for l = 0
    keys: ClassVar[tuple] = ("feedback_range", "feedback_seed")
    per_network: ClassVar[bool] = True

    @classmethod
    def from_config(cls, config, seed: int = 0) -> Rule:
        rule = cls()
        sizes = tuple(config.network.sizes)
        return cls(B=draw_feedback(config, seed, {l: rule.type2_shape(sizes, l)
                                                  for l in range(1, len(sizes) - 1)}))

    def feedback(self, l: int):
        return self.B[l]

    def type2_inputs(self, Vdelta, Vw, m=jnp, *, Vfb=None):
        return Vdelta, Vfb


@register_rule("direct_feedback_alignment")
class DirectFeedbackAlignment(FeedbackAlignment):
    """Direct feedback alignment: the error of every hidden layer ``l - 1`` comes from
    the output layer's deltas through its own fixed random voltages ``B_l`` of shape
    ``(n_out_last, n_in of layer l)``: one Type2 stage whatever the depth."""

    def type2_source(self, l: int, n_layers: int) -> int:
        return n_layers - 1
