"""Declarations of named values: unit, default, sign, meaning, each written once.

A block declares its constants as fields made by :func:`param`::

    class ParasiticMultiplier(Multiplier):
        KI: float = param(200e-6, "A", sign="positive", doc="saturation current")

and everything else follows from that one declaration: the TOML section and
its validation (:mod:`aann.spec`), the TOML reference (docs/toml.md), and the circuit
(:func:`aann.circuit.build_circuit` passes the section's values by name).
The sections of run settings (``[training]``, ``[solver]``) use the same
declarations. This module imports nothing heavy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import ValidationError, short_repr
from .units import parse_quantity

SIGNS = ("any", "positive", "nonnegative", "nonzero")


@dataclass(frozen=True)
class Param:
    """One named value.

    ``unit``: the SI unit a string value must be written in (``"V"``, ``"A"``,
    ``"s"``...), or None for a bare number; ``shown_unit`` is what the docs
    print (e.g. ``"A/V^2"`` for a multiplier gain, which has no parseable unit).
    ``choices``: for a non-numeric value, the values allowed. The default's type
    sets the kind: a float is a quantity, an int an integer, a str (or None) a
    text such as a name or a path.
    """

    default: object
    unit: str | None = None
    sign: str = "any"
    doc: str = ""
    shown_unit: str | None = None
    choices: tuple | None = None
    maximum: float | None = None  # the largest value allowed (a bound on memory or time)

    def __post_init__(self):
        if self.sign not in SIGNS:
            raise ValueError(f"sign must be one of {SIGNS}, got {self.sign!r}")

    def parse(self, value, name: str):
        """``value`` checked and converted to SI units; ``name`` is its dotted key."""
        if self.choices is not None:
            if value not in self.choices or type(value) is not type(self.default):
                raise ValidationError(f"{name} = {value!r} is not allowed; use one of "
                                      + ", ".join(repr(c) for c in self.choices))
            return value
        if isinstance(self.default, str) or self.default is None:  # a text (a name, a path)
            if value is None and self.default is None:
                return None
            if not isinstance(value, str):
                raise ValidationError(f"{name} = {value!r} must be a text (a quoted string)")
            return value
        if isinstance(self.default, int) and not isinstance(self.default, bool):
            if isinstance(value, bool) or not isinstance(value, int) or (
                    self.sign == "positive" and value < 1) or (
                    self.sign == "nonnegative" and value < 0):
                kind = {"positive": "a positive ", "nonnegative": "a non-negative "}.get(
                    self.sign, "an ")
                raise ValidationError(f"{name} = {short_repr(value)} must be {kind}integer")
            self._check_maximum(value, name)
            return value
        number = parse_quantity(value, name, self.unit)
        if self.sign == "positive" and number <= 0:
            raise ValidationError(f"{name} must be positive, got {value!r}")
        if self.sign == "nonnegative" and number < 0:
            raise ValidationError(f"{name} must not be negative, got {value!r}")
        if self.sign == "nonzero" and number == 0:
            raise ValidationError(f"{name} must not be zero (it divides), got {value!r}")
        self._check_maximum(number, name)
        return number

    def _check_maximum(self, value, name: str) -> None:
        if self.maximum is not None and value > self.maximum:
            raise ValidationError(f"{name} = {short_repr(value)} is above its limit "
                                  f"{self.maximum:g} (docs/errors.md, \"Limits\")")

    @property
    def unit_text(self) -> str:
        return self.shown_unit or self.unit or ""


@dataclass(frozen=True)
class Needs:
    """The switch settings under which a key is read: any one of ``conditions``.

    Each condition is ``(switch, op, value)`` with ``op`` ``"="`` (the switch equals
    ``value``) or ``">"`` (it exceeds it): ``Needs(("rails", "=", True))``;
    ``Needs(("temperature", ">", 0.0), ("shot_noise", "=", True))`` for a key read when
    either is on. A key given while none holds is refused, naming them.
    """

    conditions: tuple

    def __init__(self, *conditions):
        for c in conditions:
            if len(c) != 3 or c[1] not in ("=", ">"):
                raise ValueError(f"a condition is (switch, '=' or '>', value), got {c!r}")
        object.__setattr__(self, "conditions", tuple(conditions))

    @property
    def switches(self) -> tuple:
        return tuple(dict.fromkeys(c[0] for c in self.conditions))

    def met(self, values) -> bool:
        """Whether ``values`` (a mapping of the switches' values) turns the key on."""
        return any(values[k] == v if op == "=" else values[k] > v
                   for k, op, v in self.conditions)

    def __str__(self) -> str:
        return " or ".join(f"{k} {op} {toml_text(v)}" for k, op, v in self.conditions)


def toml_text(value) -> str:
    """``value`` as TOML writes it (``true``, ``"clip"``, ``0``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def param(default, unit: str | None = None, *, sign: str = "any", doc: str = "",
          shown_unit: str | None = None, choices: tuple | None = None,
          maximum: float | None = None, static: bool = False):
    """A dataclass (or equinox) field declared with its :class:`Param`."""
    declared = Param(default, unit, sign, doc, shown_unit, choices, maximum)
    metadata = {"param": declared}
    if static:
        metadata["static"] = True  # equinox: not a pytree leaf
    return dataclasses.field(default=default, metadata=metadata)


def choice(default, *choices, doc: str = ""):
    """A field whose value is one of ``choices``."""
    return param(default, choices=choices, doc=doc)


def params_of(cls) -> dict[str, Param]:
    """The declared values of a dataclass (or equinox module), in field order."""
    return {f.name: f.metadata["param"] for f in dataclasses.fields(cls)
            if "param" in f.metadata}


def parse_values(declared: dict[str, Param], values: dict, where: str) -> dict:
    """``values`` checked against ``declared``: unknown keys are errors naming the
    known ones; missing keys take their defaults. ``where`` is the TOML table."""
    if not isinstance(values, dict):
        raise ValidationError(f"[{where}] must be a table of key = value")
    for key in values:
        if key not in declared:
            raise ValidationError(f"unknown key {key!r} in [{where}]; known keys: "
                                  + ", ".join(sorted(declared)))
    return {name: p.parse(values.get(name, p.default), f"{where}.{name}")
            for name, p in declared.items()}
