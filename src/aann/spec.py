"""The description of a network and its training run: pure, validated data.

Every number is stored in SI units (seconds, volts, amperes, farads, siemens).
A :class:`Config` is built from Python or from a TOML file whose sections
mirror the dataclasses here (``[network]``, ``[constants]``,
``[blocks.multiplier]``, ``[blocks.activation]``, ``[blocks.derivative]``,
``[blocks.type2]``, ``[training]``, ``[solver]``). This module imports no solver.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import ValidationError
from .units import parse_quantity


def _q(default, unit: str | None = None, positive: bool = False, nonnegative: bool = False):
    """A numeric field with its unit (for parsing) and its sign constraint."""
    return field(default=default, metadata={"unit": unit, "positive": positive,
                                            "nonnegative": nonnegative})


def _choice(default, *choices):
    return field(default=default, metadata={"choices": choices})


_SECTION_NAMES = {
    "Network": "network.", "Constants": "constants.", "MultiplierSpec": "blocks.multiplier.",
    "ActivationSpec": "blocks.activation.", "DerivativeSpec": "blocks.derivative.",
    "Type2Spec": "blocks.type2.", "Training": "training.", "Solver": "solver.",
}


class _Section:
    """Validation shared by every section: types, units, signs, choices."""

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            name = f"{_SECTION_NAMES.get(type(self).__name__, '')}{f.name}"
            if "choices" in f.metadata:
                if value not in f.metadata["choices"]:
                    raise ValidationError(
                        f"{name} = {value!r} is not allowed; use one of "
                        + ", ".join(repr(c) for c in f.metadata["choices"])
                    )
            elif "unit" in f.metadata:
                number = parse_quantity(value, name, f.metadata["unit"])
                if f.metadata["positive"] and number <= 0:
                    raise ValidationError(f"{name} must be positive, got {value!r}")
                if f.metadata["nonnegative"] and number < 0:
                    raise ValidationError(f"{name} must not be negative, got {value!r}")
                object.__setattr__(self, f.name, number)


@dataclass(frozen=True)
class Network(_Section):
    """Layer sizes, inputs first: ``Network((2, 8, 1))`` is the paper's XOR network."""

    sizes: tuple = (2, 8, 1)

    def __post_init__(self):
        sizes = self.sizes
        if isinstance(sizes, str):
            sizes = parse_topology(sizes)
        try:
            sizes = tuple(sizes)
            ok = len(sizes) >= 2 and all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)
        except TypeError:
            ok = False
        if not ok:
            raise ValidationError(
                f"network.sizes = {self.sizes!r} is not a list of at least two positive "
                "integers; write e.g. [2, 8, 1]"
            )
        object.__setattr__(self, "sizes", sizes)

    @property
    def n_capacitors(self) -> int:
        """Weight capacitors: ``N + 1`` per neuron with N inputs (17 for 2-3-2)."""
        return sum((a + 1) * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def topology(self) -> str:
        return "-".join(map(str, self.sizes))


def parse_topology(text: str) -> tuple:
    try:
        sizes = tuple(int(p) for p in text.split("-"))
    except ValueError:
        raise ValidationError(
            f"topology {text!r} is not of the form 2-8-1 (layer sizes joined by '-')"
        ) from None
    return sizes


@dataclass(frozen=True)
class Constants(_Section):
    """Physical constants (SPEC section 4)."""

    C: float = _q(0.1e-12, "F", positive=True)  # weight capacitor
    Keta: float = _q(1.0, "S", nonnegative=True)  # charging conductance, Keta/C = 1e13 1/s
    Imax: float = _q(100e-6, "A", positive=True)  # largest charging current of the source
    Vbias: float = _q(1.0, "V")  # bias input x_0
    saturate: bool = _choice(False, False, True)  # simulate the Imax limit (tanh)
    Vw_bound: float = _q(100.0, "V", positive=True)  # |Vw| beyond this flags divergence


@dataclass(frozen=True)
class MultiplierSpec(_Section):
    law: str = _choice("ideal", "ideal", "parasitic")
    Km: float = _q(1e-4)  # A/V^2
    KI: float = _q(200e-6, "A", positive=True)  # parasitic only
    Voff: float = _q(0.0, "V")  # parasitic only


@dataclass(frozen=True)
class ActivationSpec(_Section):
    Vamp: float = _q(1.0, "V", positive=True)
    Iref: float = _q(100e-6, "A", positive=True)


@dataclass(frozen=True)
class DerivativeSpec(_Section):
    Kd: float = _q(1.0, "V")
    Vref: float = _q(1.0, "V", positive=True)
    Ru: float = _q(1e4, "Ohm", positive=True)


@dataclass(frozen=True)
class Type2Spec(_Section):
    R_E: float = _q(1e4, "Ohm", positive=True)
    K_E: float = _q(1e-4)


@dataclass(frozen=True)
class Blocks:
    multiplier: MultiplierSpec = MultiplierSpec()
    activation: ActivationSpec = ActivationSpec()
    derivative: DerivativeSpec = DerivativeSpec()
    type2: Type2Spec = Type2Spec()


@dataclass(frozen=True)
class Training(_Section):
    """The stimulus of a training run: data rows, each held for ``t_row``."""

    dataset: str = "xor"  # xor | parity3 | two-row | path to CSV
    t_row: float = _q(0.1e-12, "s", positive=True)
    epochs: int = 1000
    seeds: int = 10  # number of initial weight sets, seeds 0..seeds-1
    init_weights: str | None = None  # JSON file; overrides seeds
    init_range: float = _q(1.0, "V", positive=True)  # Vw(0) ~ uniform(-r, r)
    teach: str = _choice("always", "always", "off", "alternate")
    order: str = _choice("sequential", "sequential", "shuffle")
    Vteach: float = _q(1.0, "V", nonnegative=True)  # level while learning
    t_edge: float = _q(0.0, "s", nonnegative=True)  # rise/fall time of the row edges

    def __post_init__(self):
        super().__post_init__()
        for name in ("epochs", "seeds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(
                    f"training.{name} = {value!r} must be a positive integer")
        if self.t_edge >= self.t_row:
            raise ValidationError(
                f"training.t_edge ({self.t_edge:g} s) must be shorter than t_row "
                f"({self.t_row:g} s)")


@dataclass(frozen=True)
class Solver(_Section):
    """How the native engine integrates.

    ``fixed``: ``steps`` constant steps of ``method`` per segment (fast path);
    ``steps = "auto"`` takes ``clip(ceil(2 * lambda), 2, 64)``: on XOR 2-8-1 at
    lambda = 1 one epoch of Tsit5 agrees with 32 steps to ~5e-10 V. Over a long
    run the training itself can amplify such differences (by ~1e7 during the
    escape from XOR's plateau with 1 fs edges: 23 mV after 1000 epochs, against
    0.06 mV at 8 steps); compare with more steps where that matters.
    ``adaptive``: a PID step-size controller with ``rtol``/``atol``, restarted at
    every segment edge so that no step crosses a discontinuity.
    ``max_step_error`` (V): with fixed stepping, a step whose embedded error
    estimate is larger flags the run as diverged instead of returning garbage.
    """

    method: str = _choice("tsit5", "tsit5", "dopri5", "dopri8", "heun", "euler", "kvaerno5")
    stepping: str = _choice("fixed", "fixed", "adaptive")
    steps: int | str = "auto"  # per segment (row), fixed stepping
    rtol: float = _q(1e-8, positive=True)
    atol: float = _q(1e-10, "V", positive=True)
    samples_per_row: int = 8  # waveform resolution
    max_step_error: float = _q(1e-2, "V", positive=True)  # a fixed step whose embedded
    # error estimate exceeds this marks the run as diverged (steps far too long)

    def __post_init__(self):
        super().__post_init__()
        for name in ("steps", "samples_per_row"):
            value = getattr(self, name)
            if name == "steps" and value == "auto":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(f"solver.{name} = {value!r} must be a positive integer"
                                      + (" or 'auto'" if name == "steps" else ""))

    def resolved(self, lam: float) -> "Solver":
        """This solver with ``steps`` a number, for a row learning rate ``lam``."""
        if self.steps != "auto":
            return self
        return dataclasses.replace(self, steps=int(min(64, max(2, math.ceil(2 * lam)))))


@dataclass(frozen=True)
class Config:
    network: Network = Network()
    constants: Constants = Constants()
    blocks: Blocks = Blocks()
    training: Training = Training()
    solver: Solver = Solver()

    @property
    def lam(self) -> float:
        """Learning rate of one row: ``lambda = Keta/C * Vteach/1V * t_row``."""
        c, t = self.constants, self.training
        return c.Keta / c.C * t.Vteach * t.t_row

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **sections) -> "Config":
        """A copy with ``section={key: value}`` overrides, e.g. ``training={"epochs": 10}``."""
        return from_dict(_merge(self.to_dict(), sections))

    @classmethod
    def from_toml(cls, path) -> "Config":
        return load_toml(path)


_SECTIONS = {"network": Network, "constants": Constants, "training": Training,
             "solver": Solver}
_BLOCKS = {"multiplier": MultiplierSpec, "activation": ActivationSpec, "derivative": DerivativeSpec,
           "type2": Type2Spec}


def _build(cls, values, where: str):
    if not isinstance(values, dict):
        raise ValidationError(f"[{where}] must be a table of key = value")
    known = {f.name for f in fields(cls)}
    for key in values:
        if key not in known:
            raise ValidationError(
                f"unknown key {key!r} in [{where}]; known keys: {', '.join(sorted(known))}")
    return cls(**values)


def from_dict(data: dict) -> Config:
    """A :class:`Config` from nested dicts as read from TOML; unknown keys are errors."""
    for key in data:
        if key not in (*_SECTIONS, "blocks"):
            raise ValidationError(
                f"unknown section [{key}]; known: {', '.join([*_SECTIONS, 'blocks'])}")
    blocks = data.get("blocks", {})
    if not isinstance(blocks, dict):
        raise ValidationError("[blocks] must hold tables such as [blocks.multiplier]")
    for key in blocks:
        if key not in _BLOCKS:
            raise ValidationError(
                f"unknown block [blocks.{key}]; known: {', '.join(_BLOCKS)}")
    parts = {name: _build(cls, data.get(name, {}), name) for name, cls in _SECTIONS.items()}
    parts["blocks"] = Blocks(**{name: _build(cls, blocks.get(name, {}), f"blocks.{name}")
                                for name, cls in _BLOCKS.items()})
    return Config(**parts)


def load_toml(path) -> Config:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ValidationError(f"cannot read config {path}: {e.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValidationError(f"malformed TOML in {path}: {e}") from None
    config = from_dict(data)
    init = config.training.init_weights
    if init is not None and not Path(init).is_absolute():  # relative to the TOML file
        config = config.replace(training={"init_weights": str(path.parent / init)})
    return config


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out

