"""Mismatch: every instance of a block draws its own constants (Monte Carlo).

``[mismatch]`` gives a standard deviation per block constant, relative
(``"5%"``) or absolute in the constant's unit (``"2mV"``, ``"1uA"``; a bare
number is in SI units)::

    [mismatch]
    seed = 0
    "multiplier.Km" = "3%"              # every multiplier of every role
    "multiplier.charge.Voff1" = "2mV"   # the charge role only (overrides the above)
    "activation.Iref" = "2%"
    "derivative.Kd" = "2%"
    "C" = "1%"                          # a [constants] key of the charging source

Sample ``k`` of a description is the circuit whose every instance (each
multiplier of each role, each neuron's activation and derivative, each weight
capacitor and charging source; :func:`aann.circuit.instance_shapes`) has the
value ``nominal * (1 + sigma * z)`` (relative) or ``nominal + sigma * z``
(absolute), ``z`` standard normal. The ``z`` of one constant of one sample come
from a generator seeded with ``(seed, k, the constant's name)``: sample ``k`` is
the same whether it runs alone or in any batch, and adding a sigma for one
constant leaves the draws of the others unchanged.
"""

from __future__ import annotations

import dataclasses
import math
import zlib

import jax
import numpy as np

from . import blocks as _blocks
from .errors import ValidationError, short_repr
from .params import Param, params_of
from .units import parse_quantity


def _quantities(cls) -> dict[str, Param]:
    """The float constants of a block class (those that can be mismatched). Not
    ``f3dB``: a pole sits on a summing node (a neuron's multipliers share it), so it
    is one per node, not per instance."""
    return {k: p for k, p in params_of(cls).items() if isinstance(p.default, float)
            and not isinstance(p.default, bool) and p.choices is None and k != "f3dB"}


def mismatchable() -> dict[str, Param]:
    """Every key ``[mismatch]`` accepts, with its declaration."""
    out = {name: p for name, p in _quantities(_blocks.ChargingSource).items()}
    for kind in _blocks.KINDS:
        declared = {k: p for cls in _blocks.LAWS[kind].values()
                    for k, p in _quantities(cls).items()}
        out.update({f"{kind}.{k}": p for k, p in declared.items()})
        if kind == "multiplier":
            out.update({f"multiplier.{role}.{k}": p for role in _blocks.ROLES
                        for k, p in declared.items()})
    return out


class Mismatch:
    """The ``[mismatch]`` section: ``seed`` and a sigma per constant key.

    ``sigmas[key] = (value, relative)``: ``relative`` True for a fraction of the
    nominal value, False for an absolute value in SI units.
    """

    __slots__ = ("seed", "sigmas")

    def __init__(self, **values):
        known = mismatchable()
        seed = values.pop("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise ValidationError(f"mismatch.seed = {short_repr(seed)} must be an integer in "
                                  "0..2**63-1")
        sigmas = {}
        for key, value in values.items():
            if key not in known:
                raise ValidationError(
                    f"unknown key {key!r} in [mismatch]; use seed or a block constant such as "
                    "\"multiplier.Km\", \"multiplier.charge.Voff1\", \"activation.Iref\", "
                    "\"derivative.Kd\", \"C\" (keys: README, [mismatch])")
            sigmas[key] = _sigma(key, value, known[key])
        object.__setattr__(self, "seed", seed)
        object.__setattr__(self, "sigmas", sigmas)

    def __setattr__(self, name, value):
        raise AttributeError("[mismatch] is frozen; use Config.replace")

    @property
    def active(self) -> bool:
        """Any sigma above zero."""
        return any(v > 0 for v, _ in self.sigmas.values())

    def sigma(self, block: str, name: str):
        """``(value, relative)`` for constant ``name`` of circuit block ``block``
        (:data:`aann.circuit.BLOCKS`), or None. A role's own key wins over
        ``multiplier.<name>``; the charging source's keys are bare (``"C"``)."""
        if block == "charging":
            return self.sigmas.get(name)
        own = self.sigmas.get(f"{block}.{name}")
        if own is None and block.startswith("multiplier."):
            own = self.sigmas.get(f"multiplier.{name}")
        return own

    def to_dict(self) -> dict:
        return {"seed": self.seed, **{k: f"{v * 100:g}%" if rel else v
                                      for k, (v, rel) in self.sigmas.items()}}

    def __eq__(self, other):
        return type(other) is Mismatch and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(tuple(self.to_dict().items()))

    def __repr__(self):
        return f"Mismatch({self.to_dict()})"


def _sigma(key: str, value, p: Param) -> tuple[float, bool]:
    where = f'mismatch."{key}"'
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            number = float(value.strip()[:-1]) / 100
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 0:
            raise ValidationError(f"{where} = {value!r} must be a percentage >= 0, e.g. \"5%\"")
        return number, True
    number = parse_quantity(value, where, p.unit)
    if number < 0:
        raise ValidationError(f"{where} = {value!r} is a standard deviation; it must be >= 0")
    return number, False


def check(config) -> None:
    """A relative sigma needs a nonzero nominal value (an offset of 0 V has no 5 %)."""
    from .circuit import BLOCKS, build_circuit

    mismatch = config.mismatch
    if not mismatch.active:
        return
    circuit = build_circuit(config)
    for block in BLOCKS:
        nominal = circuit.block(block, 0)
        for name in _quantities(type(nominal)):
            s = mismatch.sigma(block, name)
            if s is not None and s[1] and s[0] > 0 and getattr(nominal, name) == 0:
                p = params_of(type(nominal))[name]
                raise ValidationError(
                    f"mismatch of {block}.{name} is relative ({s[0] * 100:g}%) but its nominal "
                    f"value is 0; give it in {p.unit_text or 'SI units'} (e.g. \"2m"
                    f"{p.unit or ''}\")")


def _key_seed(key: str) -> int:
    return zlib.crc32(key.encode())


def draw(circuit, mismatch: Mismatch, sample: int):
    """The per-instance constants of Monte Carlo sample ``sample`` of ``circuit`` (a
    nominal circuit): per layer ``{block: {constant: array}}`` as
    :attr:`aann.circuit.Circuit.instances` takes them, or None when no sigma is set."""
    from .circuit import instance_shapes

    shapes = instance_shapes(circuit.sizes)
    layers = [{} for _ in shapes]
    blocks = dict.fromkeys(b for layer in shapes for b in layer)
    for block in blocks:
        nominal = circuit.block(block, 0)
        for name, p in _quantities(type(nominal)).items():
            s = mismatch.sigma(block, name)
            if s is None or s[0] == 0:
                continue
            value, relative = s
            # one generator per (seed, sample, constant): all layers' instances at once
            at = [(l, layer[block]) for l, layer in enumerate(shapes) if block in layer]
            rng = np.random.default_rng([mismatch.seed, sample, _key_seed(f"{block}.{name}")])
            z = rng.standard_normal(sum(math.prod(shape) for _, shape in at))
            nom = float(getattr(nominal, name))
            drawn = nom * (1 + value * z) if relative else nom + value * z
            _check_sign(drawn, p, block, name, sample, s)
            offset = 0
            for l, shape in at:
                n = math.prod(shape)
                layers[l].setdefault(block, {})[name] = drawn[offset:offset + n].reshape(shape)
                offset += n
    if not any(layers):
        return None
    return tuple(layers)


def _check_sign(drawn, p: Param, block: str, name: str, sample: int, sigma) -> None:
    bad = {"positive": drawn <= 0, "nonnegative": drawn < 0, "nonzero": drawn == 0}.get(p.sign)
    if bad is not None and np.any(bad):
        shown = f"{sigma[0] * 100:g}%" if sigma[1] else f"{sigma[0]:g} {p.unit or ''}".strip()
        raise ValidationError(
            f"mismatch sample {sample} draws {block}.{name} = {drawn[bad][0]:g}, which must be "
            f"{p.sign}; its sigma {shown} is too wide for this constant: use a smaller one")


def sample_circuit(config, samples) -> tuple:
    """The nominal circuit of ``config`` with Monte Carlo samples ``samples`` (one per
    network) stacked along a leading axis: ``(circuit, batched)``; ``batched`` is
    False when ``[mismatch]`` draws nothing (the nominal circuit serves all)."""
    from .circuit import build_circuit

    nominal = build_circuit(config)
    draws = [draw(nominal, config.mismatch, k) for k in samples]
    if draws[0] is None:
        return nominal, False
    stacked = jax.tree.map(lambda *a: np.stack(a), *draws)
    return dataclasses.replace(nominal, instances=stacked), True
