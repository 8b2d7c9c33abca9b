"""Values with SI prefixes and units: ``"0.1ps"``, ``"100uA"``, ``"0.1pF"``, ``"1e-4"``."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from .errors import ValidationError, short_repr

PREFIXES = {
    "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "m": 1e-3,
    "": 1.0, "k": 1e3, "meg": 1e6, "M": 1e6, "G": 1e9, "T": 1e12,
}
UNITS = ("s", "V", "A", "F", "S", "Ohm", "ohm", "Ω", "Hz", "C", "K")

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_PATTERN = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-zµΩ]*)\s*$")


def parse_quantity(value, name: str, unit: str | None = None) -> float:
    """Return ``value`` in SI base units as a float.

    ``value`` is a number or a string such as ``"0.1ps"``. ``unit`` is the unit
    expected for ``name`` (``"s"``, ``"A"``...); a string in another unit is an
    error, and so is any unit when ``unit`` is None (a bare number, or a number
    with a prefix alone, e.g. ``"100u"``). A bare number is taken as already in
    SI units.
    """
    if isinstance(value, bool):
        raise ValidationError(f"{name}: expected a number, got {value!r}")
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            match = _PATTERN.match(value)
            if not match:
                raise ValidationError(
                    f"{name}: {value[:80]!r} is not a number; write e.g. '0.1ps', '100uA' or "
                    "'1e-4'")
            scale = _scale(match.group(2), name, value, unit)  # decimal: "100uA" is exactly 1e-4
            number = float(Decimal(match.group(1)) * Decimal(repr(scale)))
        else:
            raise ValidationError(f"{name}: expected a number, got {value!r}")
    except (OverflowError, ArithmeticError):  # a 400-digit integer, "1e999999999ps"
        number = math.inf
    if not math.isfinite(number):
        raise ValidationError(f"{name}: {short_repr(value)} is not a finite number")
    return number


def _scale(suffix: str, name: str, value: str, unit: str | None) -> float:
    if suffix == "":
        return 1.0
    for u in sorted(UNITS, key=len, reverse=True):
        if suffix.endswith(u):
            prefix = suffix[: -len(u)]
            if prefix in PREFIXES:
                if unit is None:
                    raise ValidationError(
                        f"{name}: {value!r} has a unit ({u}), but {name} is a plain number; "
                        "write it without a unit, e.g. '1e-4'")
                if _canonical(u) != _canonical(unit):
                    raise ValidationError(
                        f"{name}: {value!r} is in {u}, but {name} is in {unit}"
                    )
                return PREFIXES[prefix]
    if suffix in PREFIXES:  # a prefix alone: "100u"
        return PREFIXES[suffix]
    raise ValidationError(
        f"{name}: unknown unit {suffix!r} in {value!r}; use a prefix f p n u m k meg "
        f"with one of {', '.join(UNITS[:6])}"
    )


def _canonical(unit: str) -> str:
    return "Ohm" if unit in ("Ohm", "ohm", "Ω") else unit


def format_quantity(value: float, unit: str) -> str:
    """``1e-13, "s"`` -> ``"0.1ps"``: the shortest engineering form."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}{unit}"
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0),
                          ("m", 1e-3), ("u", 1e-6), ("n", 1e-9), ("p", 1e-12), ("f", 1e-15)):
        if abs(value) >= scale * 0.999999:
            return f"{value / scale:.6g}{prefix}{unit}"
    return f"{value:.6g}{unit}"
