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
capacitor and charging source; :func:`aann.blocks.instance_shapes`) has the
value ``nominal * (1 + sigma * z)`` (relative) or ``nominal + sigma * z``
(absolute), ``z`` standard normal. The ``z`` of one constant of one sample come
from a generator seeded with ``(seed, k, the constant's name)``: sample ``k`` is
the same whether it runs alone or in any batch, and adding a sigma for one
constant leaves the draws of the others unchanged.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from . import blocks as _blocks
from .errors import ValidationError, short_repr
from .params import Param, params_of, toml_text
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
                    "\"derivative.Kd\", \"C\" (keys: docs/toml.md, [mismatch])")
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
        (:data:`aann.blocks.BLOCKS`), or None. A role's own key wins over
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


def _section(config, block: str):
    """``(law class, values)`` of circuit block ``block`` as ``config`` describes it: the
    block's law and the section's constants (a multiplier role's own overrides in),
    read from the sections, with nothing built."""
    if block == "charging":
        values = {k: getattr(config.nonideal if k in _blocks.ChargingSource.NONIDEAL else
                             config.constants, k) for k in params_of(_blocks.ChargingSource)}
        return _blocks.ChargingSource, values
    kind, _, role = block.partition(".")
    spec = getattr(config.blocks, kind)
    if role:
        spec = spec.role(role)
    cls = _blocks.law_class(kind, spec.law)
    return cls, {k: getattr(spec, k) for k in params_of(cls)}


def unread(config) -> list[tuple[str, str]]:
    """The sigmas of ``[mismatch]`` that no block of ``config`` draws: ``(key,
    message)`` for a constant that no law in use has (``"multiplier.KI"`` when no
    multiplier role takes its law's ``KI`` from the section), or one its switch leaves
    unread (``"Vmin"`` without ``[nonideal] rails = true``)."""
    out = []
    multiplier = config.blocks.multiplier
    for key in config.mismatch.sigmas:
        where = f'mismatch."{key}"'
        if "." not in key:  # the charging source's
            needs = _blocks.ChargingSource.NEEDS.get(key)
            if needs is not None and not needs.met(config.nonideal.all_values()):
                shown = ", ".join(f"{s} = {toml_text(getattr(config.nonideal, s))}"
                                  for s in needs.switches)
                out.append((key, f"{where} is drawn only with [nonideal] {needs} "
                                 f"({shown}); set {needs}, or remove {where}"))
            continue
        kind, *rest = key.split(".")
        name = rest[-1]
        if kind == "multiplier":
            roles = (rest[0],) if len(rest) == 2 else tuple(
                r for r in _blocks.ROLES if f"multiplier.{r}.{name}" not in config.mismatch.sigmas)
            if not roles:
                out.append((key, f"{where} applies to no multiplier: every role has its own "
                                 f'sigma ("multiplier.<role>.{name}"); remove {where}'))
                continue
            laws = sorted({multiplier.role(r).law for r in roles})
            section = f"blocks.multiplier.{rest[0]}" if len(rest) == 2 else "blocks.multiplier"
            here = (f"{section}.law is" if len(rest) == 2 else
                    "the multiplier roles it applies to use law" + "s" * (len(laws) > 1))
        else:
            laws = [getattr(config.blocks, kind).law]
            section = f"blocks.{kind}"
            here = f"{section}.law is"
        if not any(name in params_of(_blocks.law_class(kind, law)) for law in laws):
            having = [law for law, cls in _blocks.LAWS[kind].items()
                      if name in _quantities(cls)]
            fix = f'= "{having[0]}"' if len(having) == 1 else "to one of them"
            out.append((key, f"{where} is drawn only for {_laws_text(having)} ({here} "
                             f"{_quoted(laws)}); set "
                             f"{section}.law {fix}, or remove {where}"))
    return out


def _quoted(names) -> str:
    return ", ".join(f'"{x}"' for x in names)


def _laws_text(laws) -> str:
    return ("law " if len(laws) == 1 else "laws ") + _quoted(laws)


def check(config) -> None:
    """Every sigma is drawn (:func:`unread`), and a relative sigma has a nonzero nominal
    value (an offset of 0 V has no 5 %). Read from the sections: nothing is built."""
    mismatch = config.mismatch
    if not mismatch.sigmas:
        return
    for _, message in unread(config)[:1]:
        raise ValidationError(message)
    if not mismatch.active:
        return
    for block in _blocks.BLOCKS:
        cls, values = _section(config, block)
        for name in _quantities(cls):
            s = mismatch.sigma(block, name)
            if s is not None and s[1] and s[0] > 0 and values[name] == 0:
                p = params_of(cls)[name]
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
    shapes = _blocks.instance_shapes(circuit.sizes, circuit.rule)
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
