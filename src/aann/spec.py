"""The description of a network and its training run: pure, validated data.

Every number is stored in SI units (seconds, volts, amperes, farads, siemens).
A :class:`Config` is built from Python (sections as objects or plain dicts) or
from a TOML file whose sections mirror it: ``[network]``, ``[constants]``,
``[blocks.<kind>]`` for every block kind, ``[training]``, ``[solver]``.

The keys of ``[constants]`` and ``[blocks.*]`` are not written here: they are
the constants the blocks declare (:mod:`aann.blocks`, with
:func:`aann.params.param`), so a new law or constant needs no change in this
file. This module runs no solver.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import types
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

from . import blocks as _blocks
from . import mismatch as _mismatch
from . import rules as _rules
from .errors import ValidationError
from .mismatch import Mismatch
from .params import Needs, Param, choice, param, params_of, parse_values, toml_text
from .units import format_quantity

MAX_STEPS = 10_000  # fixed steps per segment; more cost time and gain nothing over adaptive
MAX_SAMPLES_PER_ROW = 10_000  # waveform samples per segment


def row_learning_rate(Keta: float, C: float, Vteach: float, t_row: float) -> float:
    """``lambda = Keta/C * Vteach/1V * t_row``: one row held for ``t_row`` is one SGD
    step of this rate (ideal blocks, small lambda). ``inf`` where it overflows."""
    try:
        return Keta / C * Vteach * t_row
    except OverflowError:
        return math.inf


class _Fields:
    """Validation of a dataclass section whose fields are declared with ``param``."""

    _where = ""
    _checked_by_section = ()  # keys whose section validates them itself

    def __post_init__(self):
        for name, p in params_of(type(self)).items():
            if name not in self._checked_by_section:
                value = p.parse(getattr(self, name), f"{self._where}.{name}")
                object.__setattr__(self, name, value)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Table:
    """A frozen TOML table whose keys are declared elsewhere (by the blocks).

    Values are read as attributes (``constants.C``); :meth:`to_dict` gives them
    back in SI units, those that are read only: ``needs`` maps a key read only under
    a switch to its :class:`aann.params.Needs`; such a key given while its switch is
    off is refused, and left out of :meth:`to_dict` (its attribute keeps its default).
    """

    __slots__ = ("_where", "_values", "_needs")

    def __init__(self, where: str, declared: dict[str, Param], values: dict,
                 needs: dict | None = None):
        object.__setattr__(self, "_where", where)
        object.__setattr__(self, "_values", parse_values(declared, values, where))
        object.__setattr__(self, "_needs", needs or {})
        for _, message in switched_off(where, self._needs, self._values, values)[:1]:
            raise ValidationError(message)

    def __getattr__(self, name):
        try:
            return object.__getattribute__(self, "_values")[name]
        except KeyError:
            raise AttributeError(f"[{self._where}] has no key {name!r}") from None

    def __setattr__(self, name, value):
        raise dataclasses.FrozenInstanceError(f"[{self._where}] is frozen; use Config.replace")

    def __eq__(self, other):
        return type(other) is type(self) and (self._where, self.to_dict()) == (
            other._where, other.to_dict())

    def __hash__(self):
        return hash((self._where, _frozen(self.to_dict())))

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"{type(self).__name__}({inner})"

    def to_dict(self) -> dict:
        """The keys that are read, with their values in SI units."""
        return {k: v for k, v in self._values.items()
                if k not in self._needs or self._needs[k].met(self._values)}

    def all_values(self) -> dict:
        """Every declared key's value, read or not (unread keys hold their defaults)."""
        return dict(self._values)


def switched_off(where: str, needs: dict, values: dict, given) -> list[tuple[str, str]]:
    """``(key, message)`` of each key of ``given`` that its switch leaves unread
    (``needs``: key -> :class:`aann.params.Needs`; ``values``: the table's parsed values),
    the message naming the switch, its value and the fix."""
    out = []
    for key in given:
        need = needs.get(key)
        if need is not None and not need.met(values):
            shown = ", ".join(f"{s} = {toml_text(values[s])}" for s in need.switches)
            out.append((key, f"{where}.{key} is read only with {need} ({shown}); "
                             f"set {need}, or remove {key}"))
    return out


def _frozen(value):
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def constants_params() -> dict[str, Param]:
    """The keys of ``[constants]``: the charging source's constants, ``Vbias`` and
    the divergence bound."""
    from .circuit import Circuit

    source = {k: p for k, p in params_of(_blocks.ChargingSource).items()
              if k not in _blocks.ChargingSource.NONIDEAL}
    return {**source, **params_of(Circuit),
            "Vw_bound": Param(100.0, "V", "positive",
                              "|Vw| beyond this flags the run as diverged"),
            "C_density": Param(2e-3, sign="positive", shown_unit="F/m^2",
                               doc="capacitance per area of a weight capacitor (area only); "
                                   "2e-3 = 2 fF/um^2, the SkyWater MIM capacitor's")}


def nonideal_params() -> dict[str, Param]:
    """The keys of ``[nonideal]``: the weight node's imperfections (all off by default)."""
    declared = params_of(_blocks.ChargingSource)
    return {**{k: declared[k] for k in _blocks.ChargingSource.NONIDEAL},
            "noise_seed": Param(0, sign="nonnegative", maximum=2**63 - 1,
                                doc="the noise of the network of seed s is drawn from "
                                    "(noise_seed, s)")}


def nonideal_needs() -> dict[str, Needs]:
    """The keys of ``[nonideal]`` read only under a switch: the charging source's
    (:attr:`aann.blocks.ChargingSource.NEEDS`) and ``noise_seed``, read only when there
    is noise."""
    return {**_blocks.ChargingSource.NEEDS,
            "noise_seed": Needs(("temperature", ">", 0.0), ("shot_noise", "=", True))}


def training_needs() -> dict[str, Needs]:
    """The keys of ``[training]`` read only by some learning rules
    (:attr:`Training.RULE_KEYS`): each read with ``rule`` one of the registered rules
    that list it in :attr:`aann.rules.Rule.keys`."""
    return {key: Needs(*(("rule", "=", name) for name, cls in _rules.RULES.items()
                         if key in cls.keys))
            for key in Training.RULE_KEYS}


def cancellation_needs() -> dict[str, Needs]:
    """The keys of ``[offset_cancellation]`` read only by one method
    (:attr:`OffsetCancellation.METHOD_KEYS`): given with another, they are refused."""
    return {key: Needs(("method", "=", method))
            for key, method in OffsetCancellation.METHOD_KEYS.items()}


class Constants(Table):
    """Physical constants (SPEC section 4): ``Constants(C="0.1pF", Keta="1S")``."""

    __slots__ = ()

    def __init__(self, **values):
        super().__init__("constants", constants_params(), values)


class Nonideal(Table):
    """The real parts' imperfections at the weight nodes: ``Nonideal(R_leak="1e12ohm")``.
    Each key at its default is the ideal part (no leakage, no rails, no current
    limit, no injected charge)."""

    __slots__ = ()

    def __init__(self, **values):
        super().__init__("nonideal", nonideal_params(), values, nonideal_needs())


class BlockSpec(Table):
    """One block kind's section ``[blocks.<kind>]``: its ``law`` (a registered name)
    and the constants of every law of that kind (those of other laws are kept
    but unused, so one file can switch laws).

    ``[blocks.multiplier]`` may hold one sub-table per multiplier role
    (``forward``, ``delta``, ``charge``, ``type2``, :data:`aann.blocks.ROLES`)
    whose keys override the section's for that role only, ``law`` included.
    """

    __slots__ = ("_roles", "_overrides")

    def __init__(self, kind: str, _where: str | None = None, **values):
        if kind not in _blocks.KINDS:
            raise ValidationError(f"unknown block [blocks.{kind}]; known: "
                                  + ", ".join(_blocks.KINDS))
        where = _where or f"blocks.{kind}"
        roles = {}
        if kind == "multiplier" and _where is None:
            for role in _blocks.ROLES:
                if role in values:
                    values = dict(values)
                    roles[role] = values.pop(role)
                    if not isinstance(roles[role], dict):
                        raise ValidationError(f"[{where}.{role}] must be a table of key = value")
        law = values.get("law", _blocks.DEFAULT_LAWS[kind])
        if not isinstance(law, str):
            raise ValidationError(f"{where}.law = {law!r} must be a law's name")
        _blocks.law_class(kind, law, where)  # unknown law: a message listing the known ones
        declared = {"law": Param(law, choices=(law,)), **_blocks.section_params(kind)}
        super().__init__(where, declared, values)
        object.__setattr__(self, "_overrides", tuple(values))  # the keys given
        object.__setattr__(self, "_roles", {
            role: BlockSpec(kind, f"{where}.{role}", **{**self._values, **over})
            for role, over in roles.items()})
        for role, over in roles.items():  # a role keeps only the keys it overrides
            object.__setattr__(self._roles[role], "_overrides", tuple(over))
        if _where is None:
            for _, message in unread_block_keys(kind, {**values, **roles})[:1]:
                raise ValidationError(message)

    @property
    def kind(self) -> str:
        return self._where.split(".")[1]

    def role(self, name: str) -> BlockSpec:
        """The section of multiplier role ``name``: this one with the role's overrides."""
        return self._roles.get(name, self)

    def build(self, role: str | None = None):
        """The block object of this law (of multiplier ``role``), with its constants."""
        spec = self if role is None else self.role(role)
        cls = _blocks.law_class(self.kind, spec.law)
        return cls(**{k: spec._values[k] for k in params_of(cls)})

    def to_dict(self) -> dict:
        """``law`` and the constants it reads (those a role of ``[blocks.multiplier]``
        takes from the section and its law reads), then each role's overrides."""
        roles = {role: {k: spec._values[k] for k in spec._overrides}
                 for role, spec in self._roles.items()}
        out = {k: v for k, v in self._values.items()
               if k == "law" or any(k in _law_reads(self.kind, law)
                                    for law in _taking_laws(self.kind, self.law, roles, k))}
        return {**out, **roles}

    def __eq__(self, other):
        return type(other) is type(self) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash((self._where, _frozen(self.to_dict())))


def _law_reads(kind: str, law) -> frozenset:
    """The keys law ``law`` of block ``kind`` reads, ``law`` among them; empty for a name
    that is no law."""
    cls = _blocks.LAWS[kind].get(law) if isinstance(law, str) else None
    return frozenset() if cls is None else frozenset(("law", *params_of(cls)))


def _laws_declaring(kind: str, key: str) -> list[str]:
    return [name for name, cls in _blocks.LAWS[kind].items() if key in params_of(cls)]


def _taking_laws(kind: str, law, roles: dict, key: str) -> list:
    """The laws that take ``key`` from a ``[blocks.<kind>]`` section of law ``law``: its
    own; for the multiplier, those of the roles that do not set ``key`` themselves
    (``roles``: role -> its table, or the keys it sets)."""
    if kind != "multiplier":
        return [law]
    return [roles[r].get("law", law) if isinstance(roles.get(r), dict) else law
            for r in _blocks.ROLES if key not in roles.get(r, ())]


def _fix(key: str, laws: list[str], where: str) -> str:
    if len(laws) == 1:
        return f'set law = "{laws[0]}"{where} or remove {key}'
    return f"set law to one of them{where} or remove {key}"


def unread_block_keys(kind: str, section: dict) -> list[tuple[tuple, str]]:
    """``(path, message)`` of every key given in ``section``, a ``[blocks.<kind>]``
    table as read from TOML (with its role sub-tables), that no law in use reads: a
    role's key must be read by that role's law; a section's key by the law of at
    least one role that takes it from the section. The message names the key, the
    law(s) that read it and the fix. Unknown keys and laws are left to the section."""
    where = f"blocks.{kind}"
    law = section.get("law", _blocks.DEFAULT_LAWS[kind])
    roles = {r: t for r, t in section.items()
             if kind == "multiplier" and r in _blocks.ROLES and isinstance(t, dict)}
    declared = _blocks.section_params(kind)
    out = []
    for key in section:
        if key == "law" or key in roles or key not in declared:
            continue
        laws = _taking_laws(kind, law, roles, key)
        reads = [_law_reads(kind, x) for x in laws]
        if not all(reads) or any(key in r for r in reads):
            continue  # an unknown law is reported by the section itself
        readers = _laws_declaring(kind, key)
        if not laws:
            out.append(((key,), f"{where}.{key} is read by no multiplier: every role sets its "
                                f"own {key}; remove it from [{where}]"))
            continue
        own = {r: t["law"] for r, t in roles.items() if "law" in t and key not in t}
        if own:
            takers = [r for r in _blocks.ROLES if key not in roles.get(r, {})]
            used = sorted(set(laws))
            now = (f"the roles that take it from this section, {', '.join(takers)}, use "
                   + ("law " if len(used) == 1 else "laws ")
                   + ", ".join(f'"{x}"' for x in used))
        else:
            now = f'this section\'s law is "{law}"'
        out.append(((key,), f"{where}.{key} is read only by {_laws_text(readers)} ({now}); "
                            + _fix(key, readers, "")))
    for role, table in roles.items():
        role_law = table.get("law", law)
        reads = _law_reads(kind, role_law)
        if not reads:
            continue
        for key in table:
            if key in declared and key not in reads:
                readers = _laws_declaring(kind, key)
                out.append(((role, key), f"{where}.{role}.{key} is read only by "
                                         f"{_laws_text(readers)} (this role's law is "
                                         f'"{role_law}"); '
                                         + _fix(key, readers, f" in [{where}.{role}]")))
    return out


def _laws_text(laws) -> str:
    return ("law " if len(laws) == 1 else "laws ") + ", ".join(f'"{x}"' for x in laws)


@dataclass(frozen=True)
class Network:
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
    def weight_shapes(self) -> list[tuple[int, int]]:
        """Per layer, the shape ``(n_out, n_in + 1)`` of its weights (column 0: bias)."""
        return weight_shapes(self.sizes)

    @property
    def n_capacitors(self) -> int:
        """Weight capacitors: ``N + 1`` per neuron with N inputs (17 for 2-3-2)."""
        return sum(a * b for a, b in self.weight_shapes)

    @property
    def topology(self) -> str:
        return "-".join(map(str, self.sizes))

    def to_dict(self) -> dict:
        return {"sizes": self.sizes}


def weight_shapes(sizes) -> list[tuple[int, int]]:
    """Per layer, ``(n_out, n_in + 1)``: a row per neuron, column 0 its bias weight."""
    return [(n_out, n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def parse_topology(text: str) -> tuple:
    try:
        sizes = tuple(int(p) for p in text.split("-"))
    except ValueError:
        raise ValidationError(
            f"topology {text!r} is not of the form 2-8-1 (layer sizes joined by '-')"
        ) from None
    return sizes


@dataclass(frozen=True)
class Blocks:
    """One section per block kind; each a :class:`BlockSpec` (or a dict of its keys)."""

    multiplier: BlockSpec = None
    activation: BlockSpec = None
    derivative: BlockSpec = None
    type2: BlockSpec = None
    error: BlockSpec = None

    def __post_init__(self):
        for kind in _blocks.KINDS:
            value = getattr(self, kind)
            if isinstance(value, BlockSpec):
                if value.kind != kind:
                    raise ValidationError(f"[blocks.{value.kind}] given as [blocks.{kind}]")
                continue
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ValidationError(f"[blocks.{kind}] must be a table of key = value")
            object.__setattr__(self, kind, BlockSpec(kind, **value))

    def to_dict(self) -> dict:
        return {kind: getattr(self, kind).to_dict() for kind in _blocks.KINDS}


@dataclass(frozen=True)
class Training(_Fields):
    """The stimulus of a training run: data rows, each held for ``t_row``."""

    _where = "training"
    dataset: str = param("xor", doc="xor | parity3 | two-row | path to a CSV with columns "
                                    "x1.. and y1..")
    t_row: float = param(0.1e-12, "s", sign="positive", doc="time each row is held")
    epochs: int = param(1000, sign="positive", doc="passes over the data set")
    seeds: int = param(10, sign="positive", doc="random initial weight sets, seeds "
                                                "0..seeds-1")
    init_weights: str | None = param(None, doc="weights file; replaces seeds; relative to "
                                               "this file")
    init_range: float = param(1.0, "V", sign="positive", maximum=1e6,
                              doc="Vw(0) ~ uniform(-init_range, init_range)")
    teach: str = choice("always", "always", "off", "alternate",
                        doc="learn odd epochs, hold even ones with alternate (Fig. 8)")
    order: str = choice("sequential", "sequential", "shuffle",
                        doc="shuffle: a new permutation each epoch, from the seed")
    Vteach: float = param(1.0, "V", sign="nonnegative", doc="Vteach while learning; scales "
                                                            "lambda")
    record: str = choice("weights", "weights", "mse",
                         doc="kept after every epoch: the weights and the MSE, or the MSE "
                             "only (large batches)")
    t_edge: float = param(0.0, "s", sign="nonnegative",
                          doc="rise/fall time of the row edges, 0 <= t_edge < t_row; below "
                              "1e-12 of the run: 0")
    rule: str = param(_rules.DEFAULT_RULE, doc="the learning rule, a registered name "
                                                "(aann.rules); backprop: the paper's")
    feedback_range: float = param(1.0, "V", sign="positive", maximum=1e6,
                                  doc="fixed feedback voltages B ~ uniform(-feedback_range, "
                                      "feedback_range)")
    feedback_seed: int = param(0, sign="nonnegative", maximum=2**63 - 1,
                               doc="B of the network of seed s drawn from (feedback_seed, s, "
                                   "layer)")

    RULE_KEYS: ClassVar[tuple] = ("feedback_range", "feedback_seed")
    """The keys read only by some learning rules (:attr:`aann.rules.Rule.keys` says
    which): given with another rule, they are refused (:func:`training_needs`)."""

    def __post_init__(self):
        super().__post_init__()
        _rules.rule_class(self.rule, "training.rule")  # unknown: the known ones listed
        if self.t_edge >= self.t_row:
            raise ValidationError(
                f"training.t_edge ({self.t_edge:g} s) must be shorter than t_row "
                f"({self.t_row:g} s)")
        declared = params_of(Training)
        off = switched_off("training", training_needs(), self.all_values(),
                           [k for k in self.RULE_KEYS
                            if getattr(self, k) != declared[k].default])
        for _, message in off[:1]:  # a value set for a rule that does not read it
            raise ValidationError(message)

    def all_values(self) -> dict:
        """Every key's value, read or not (unread keys hold their defaults)."""
        return super().to_dict()

    def to_dict(self) -> dict:
        """The keys that are read (a rule's keys only with that rule), in SI units."""
        needs = training_needs()
        values = self.all_values()
        return {k: v for k, v in values.items() if k not in needs or needs[k].met(values)}


@dataclass(frozen=True)
class Data(_Fields):
    """How a data set becomes voltages and which rows are held out (:mod:`aann.datasets`,
    docs/tasks.md). Data given in volts (``xor``, ``parity3``, ``two-row``, a CSV with
    ``y1..``) is taken as it is unless ``scale`` says otherwise."""

    _where = "data"
    scale: str = choice("auto", "auto", "feature", "global", "none",
                        doc="inputs min-max into [Vin_low, Vin_high] per feature, or one "
                            "range for all (global), fitted on the training rows; auto: "
                            "none for data in volts, global for digits, else feature")
    Vin_low: float = param(0.0, "V", doc="the voltage of a feature's smallest training value")
    Vin_high: float = param(1.0, "V", doc="the voltage of a feature's largest training value")
    Vlow: float = param(0.2, "V", doc="a class's output voltage on the other classes' rows "
                                      "(and a regression target's lowest)")
    Vhigh: float = param(0.8, "V", doc="the output voltage of a row's own class")
    test_fraction: float = param(0.0, sign="nonnegative", maximum=0.9,
                                 doc="rows held out for testing, drawn per class")
    split_seed: int = param(0, sign="nonnegative", doc="the seed of that draw")
    test: str | None = param(None, doc="a CSV of held-out rows, the training data's columns; "
                                       "relative to this file")

    def __post_init__(self):
        super().__post_init__()
        if self.Vin_high == self.Vin_low:
            raise ValidationError("data.Vin_low and data.Vin_high are equal; give the input "
                                  "range, e.g. 0 V and 1 V")
        if self.Vhigh <= self.Vlow:
            raise ValidationError(f"data.Vhigh ({self.Vhigh:g} V) must be above data.Vlow "
                                  f"({self.Vlow:g} V): a row's own class reads high")
        if self.test is not None and self.test_fraction > 0:
            raise ValidationError("give [data] test (a file of held-out rows) or "
                                  "test_fraction, not both")

    @property
    def is_default(self) -> bool:
        return self == Data()


MAX_PERIODS_PER_ROW = 1000  # chopper half periods are segments: 2000 solves a row


@dataclass(frozen=True)
class OffsetCancellation(_Fields):
    """Dynamic offset cancellation of the error path (docs/cancellation.md); the default
    ``method = "none"`` is the circuit without it.

    ``chopper``: the error block's inputs and the charging sources' inputs are switched
    by one square wave ``s(t) = +-1`` of ``periods_per_row`` whole periods a row, so
    every offset added between them is modulated and cancels over each period;
    ``demodulator = "output"`` moves its demodulator from the sources' inputs to their
    output currents, so the sources' own offsets are chopped too; ``charging_periods``
    (with it) nests the sources' own faster chopper ``s2`` (each source's input swapped
    by ``s2``, its current demodulated by ``s s2``), against the ripple their offsets
    leave on the weights (docs/cells.md, "The charging cells' own chopper").
    ``autozero``: before every row a phase of ``t_az`` with learning off and the error
    forced to zero; what then reaches each charging source is held on its ``C_az``
    (with kT/C_az noise at ``[nonideal] temperature`` and the sampling switch's
    injected charge ``Q_inj``) and subtracted while the row is learned; every row
    lasts ``t_az`` longer. A key of one method given with another is refused.
    """

    _where = "offset_cancellation"
    method: str = choice("none", "none", "chopper", "autozero",
                         doc="dynamic offset cancellation of the error path")
    periods_per_row: int = param(1, sign="positive", maximum=MAX_PERIODS_PER_ROW,
                                 doc="chopper: whole periods of s(t) = +-1 in every row")
    demodulator: str = choice("input", "input", "output",
                              doc="chopper: where s(t) demodulates, at each charging source's "
                                  "input (its offset Voff outside) or on its output current "
                                  "(its offset and limit inside)")
    phase: int = choice(0, 0, 90,
                        doc="chopper: the clock's phase at each row's start (degrees): 0, "
                            "s = +1 in each period's first half; 90, in its first and last "
                            "quarters, so an offset's ripple on a weight averages to zero "
                            "over the row")
    charging_periods: int = param(0, sign="nonnegative", maximum=MAX_PERIODS_PER_ROW,
                                  doc="chopper, demodulator = \"output\": the charging "
                                      "sources' own chopper s2, periods a row at phase 90, "
                                      "a whole multiple of 2 periods_per_row (0: none)")
    t_az: float = param(0.01e-12, "s", sign="positive",
                        doc="autozero: the phase before every row (learning off, error "
                            "forced to 0); adds t_az to every row")
    C_az: float = param(0.1e-12, "F", sign="positive",
                        doc="autozero: the capacitor holding the path's offset, one per "
                            "charging source (kT/C_az noise)")
    Q_inj: float = param(0.0, "C", doc="autozero: charge the sampling switch injects into "
                                       "C_az as it opens (Q_inj/C_az on the held value)")

    METHOD_KEYS: ClassVar[dict] = {"periods_per_row": "chopper", "demodulator": "chopper",
                                   "phase": "chopper", "charging_periods": "chopper",
                                   "t_az": "autozero", "C_az": "autozero",
                                   "Q_inj": "autozero"}
    """The keys read by one method only, key -> method (:func:`cancellation_needs`)."""

    def __post_init__(self):
        super().__post_init__()
        declared = params_of(OffsetCancellation)
        off = switched_off(self._where, cancellation_needs(), self.all_values(),
                           [k for k in self.METHOD_KEYS
                            if getattr(self, k) != declared[k].default])
        for _, message in off[:1]:  # a value set for a method that does not read it
            raise ValidationError(message)
        if self.charging_periods and self.demodulator != "output":
            raise ValidationError(
                f"offset_cancellation.charging_periods = {self.charging_periods} chops the "
                "charging sources' own offsets, which the chopper reaches only with "
                "demodulator = \"output\": set it, or charging_periods = 0")
        from .cancellation import nesting

        why = nesting(self.charging_periods, self.periods_per_row)
        if why:
            raise ValidationError(f"offset_cancellation.charging_periods = "
                                  f"{self.charging_periods}: {why}")

    def all_values(self) -> dict:
        """Every key's value, read or not (unread keys hold their defaults)."""
        return super().to_dict()

    def to_dict(self) -> dict:
        """The keys the method reads, in SI units; ``charging_periods`` only where it is
        not 0 (none), so that a description from before it keeps its fingerprint."""
        needs, values = cancellation_needs(), self.all_values()
        return {k: v for k, v in values.items() if (k not in needs or needs[k].met(values))
                and not (k == "charging_periods" and v == 0)}

    @property
    def is_default(self) -> bool:
        """No cancellation (``method = "none"``)."""
        return self == OffsetCancellation()


@dataclass(frozen=True)
class CellNetwork(_Fields):
    """How ``--engine ngspice --cells sky130`` (and ``aann netlist --cells sky130``) builds
    the network of SkyWater 130 nm cells (docs/cells.md, "Co-simulation"); the other
    engines run the laws of ``[blocks]`` and record this section with the run.

    ``glue``: ``"ideal"`` (error block, transresistances, the ``Inet`` copy and the
    charging source ideal sources) or ``"cells"`` (each a cell too: ``Keta`` and the
    transresistances' ``1/Km`` are then the cells', and ``[constants] Keta`` and
    ``[blocks.multiplier] Km`` must agree with them, so that both engines learn at the
    same ``lambda``). ``weights`` (glue cells only): what holds a weight, the capacitor
    the charging cell charges, an ``integrator``, or the ``chopped`` differential path
    (needs ``[offset_cancellation] method = "chopper"``, ``demodulator = "output"``:
    its ``periods_per_row`` clock the cells' chopper, its ``charging_periods`` the
    charging cells' own: docs/cells.md, "The charging cells' own chopper").
    ``multiplier``: the cell in every multiplier role. ``reltol``: ngspice's relative
    tolerance.
    """

    _where = "cells"
    glue: str = choice("ideal", "ideal", "cells",
                       doc="what joins the cells: ideal sources, or cells too")
    weights: str = choice("capacitor", "capacitor", "integrator", "chopped",
                          doc="glue cells: what holds a weight")
    multiplier: str = choice("multiplier", "multiplier", "multiplier_lm",
                             doc="the cell in every multiplier role")
    reltol: float = param(1e-4, sign="positive", maximum=1e-2,
                          doc="ngspice's relative tolerance (the chopped network: 1e-3)")

    def __post_init__(self):
        super().__post_init__()
        if self.weights != "capacitor" and self.glue != "cells":
            raise ValidationError(f"cells.weights = {self.weights!r} is read with glue = "
                                  "\"cells\" only (the ideal glue's charging source drives "
                                  "the capacitor itself): set cells.glue = \"cells\"")

    @property
    def is_default(self) -> bool:
        return self == CellNetwork()


@dataclass(frozen=True)
class Solver(_Fields):
    """How the native engine integrates.

    ``fixed``: ``steps`` constant steps of ``method`` per segment (fast path);
    ``steps = "auto"`` takes ``clip(ceil(2 * lambda), 2, 64)``: on XOR 2-8-1 at
    lambda = 1 one epoch of Tsit5 agrees with 32 steps to ~5e-10 V. Over a long
    run the training itself can amplify such differences (by ~1e7 during the
    escape from XOR's plateau with 1 fs edges: 23 mV after 1000 epochs, against
    0.06 mV at 8 steps); compare with more steps where that matters. With block
    poles (``f3dB``) ``auto`` takes at least one step per time constant of the
    fastest pole, ``2 pi t_row f3dB`` steps per row: Tsit5 is unstable beyond about
    2.5 tau per step and errs by ~5e-7 V per row at one (docs/model.md, "Bandwidth").
    ``adaptive``: a PID step-size controller with ``rtol``/``atol``, restarted at
    every segment edge so that no step crosses a discontinuity.
    ``max_step_error`` (V): with fixed stepping, a step whose embedded error
    estimate is larger flags the run as diverged instead of returning garbage.
    """

    _where = "solver"
    _checked_by_section = ("steps",)
    method: str = choice("tsit5", "tsit5", "dopri5", "dopri8", "heun", "euler", "kvaerno5",
                         doc="a diffrax solver")
    stepping: str = choice("fixed", "fixed", "adaptive",
                           doc="fixed (fast) | adaptive (PID controller, for checking)")
    steps: int | str = param("auto", doc="fixed steps per segment; auto = clip(ceil(2 "
                                         "lambda), 2, 64), at least 2 pi t_row f3dB with "
                                         f"block poles; at most {MAX_STEPS}")
    rtol: float = param(1e-8, sign="positive",
                        doc="adaptive; fixed: the root finder of kvaerno5 (implicit)")
    atol: float = param(1e-10, "V", sign="positive",
                        doc="adaptive; fixed: the root finder of kvaerno5 (implicit)")
    samples_per_row: int = param(8, sign="positive", maximum=MAX_SAMPLES_PER_ROW,
                                 doc="waveform samples per segment (row, edge ramp or PWL "
                                     "piece)")
    max_step_error: float = param(1e-2, "V", sign="positive",
                                  doc="fixed stepping: a step whose error estimate exceeds "
                                      "this marks the run as diverged")

    def __post_init__(self):
        super().__post_init__()
        if self.steps != "auto":  # a number, or "auto"
            try:
                Param(1, sign="positive", maximum=MAX_STEPS).parse(self.steps, "solver.steps")
            except ValidationError as e:
                raise ValidationError(f"{e} or 'auto'" if "integer" in str(e) else e) from None

    def resolved(self, lam: float, stiffness: float = 0.0) -> Solver:
        """This solver with ``steps`` a number: for ``auto``, enough for a row learning
        rate ``lam`` and for the blocks' fastest pole (``stiffness``: the segment's
        length over that pole's ``tau``, 0 without poles; one step per ``tau``)."""
        if self.steps != "auto":
            return self
        steps = min(64, max(2, math.ceil(2 * lam))) if math.isfinite(lam) else 64
        if stiffness > steps:
            if stiffness > MAX_STEPS:
                raise ValidationError(
                    f"a block pole is {stiffness:.3g} times faster than a row (2 pi t_row "
                    f"f3dB); the native engine takes one step per time constant, at most "
                    f"{MAX_STEPS} per row: raise t_row, or set that block's f3dB = 0 (a "
                    f"pole that fast settles within 1/{stiffness / 4.6:.3g} of the row)")
            steps = math.ceil(stiffness)
        return dataclasses.replace(self, steps=int(steps))


_SECTIONS = {"network": Network, "constants": Constants, "blocks": Blocks,
             "mismatch": Mismatch, "nonideal": Nonideal, "training": Training,
             "data": Data, "solver": Solver, "offset_cancellation": OffsetCancellation,
             "cells": CellNetwork}
_OMITTED_AT_DEFAULT = ("data", "offset_cancellation", "cells")  # to_dict leaves them out


@dataclass(frozen=True)
class Config:
    """A whole description. Sections may be given as objects or as plain dicts
    (``Config(constants={"C": "0.1pF"})``), validated like TOML."""

    network: Network = None
    constants: Constants = None
    blocks: Blocks = None
    mismatch: Mismatch = None
    nonideal: Nonideal = None
    training: Training = None
    data: Data = None
    solver: Solver = None
    offset_cancellation: OffsetCancellation = None
    cells: CellNetwork = None

    def __post_init__(self):
        for name, cls in _SECTIONS.items():
            value = getattr(self, name)
            if isinstance(value, cls):
                continue
            if value is None:
                value = {}
            object.__setattr__(self, name, build_section(cls, value, name))
        if not math.isfinite(self.lam):
            raise ValidationError(
                "lambda = Keta/C * Vteach * t_row overflows (constants.Keta = "
                f"{self.constants.Keta:g} S, constants.C = {self.constants.C:g} F, "
                f"training.t_row = {self.training.t_row:g} s); choose values whose lambda "
                "is a finite number (1 is the paper's optimum)")
        _mismatch.check(self)
        n = self.nonideal
        autozero = self.offset_cancellation.method == "autozero"
        if n.temperature > 0 and n.R_leak == 0 and not autozero:  # autozero: kT/C_az
            raise ValidationError(
                f"nonideal.temperature = {n.temperature:g} K is the thermal noise of R_leak, "
                "but R_leak = 0 (none); give R_leak (e.g. \"1e12ohm\") or temperature = 0")
        _check_cancellation_timing(self)
        oc = self.offset_cancellation
        if self.cells.weights == "chopped" and (oc.method, oc.demodulator) != ("chopper",
                                                                            "output"):
            raise ValidationError(
                "cells.weights = \"chopped\" is the chopper's charging path: set "
                "[offset_cancellation] method = \"chopper\" and demodulator = \"output\" "
                "(its periods_per_row clock the cells' chopper), so that every engine runs "
                "the circuit the cells build")

    @property
    def lam(self) -> float:
        """Learning rate of one row: ``lambda = Keta/C * Vteach/1V * t_row``."""
        c, t = self.constants, self.training
        return row_learning_rate(c.Keta, c.C, t.Vteach, t.t_row)

    def to_dict(self) -> dict:
        """Every setting, by section, in SI units (what summary.json records). ``[data]``,
        ``[offset_cancellation]`` and ``[cells]`` only where they are not at their
        defaults: runs without them keep the settings, fingerprints and sweep digests they
        had before the sections existed."""
        return {name: getattr(self, name).to_dict() for name in _SECTIONS
                if name not in _OMITTED_AT_DEFAULT or not getattr(self, name).is_default}

    def replace(self, **sections) -> Config:
        """A copy with ``section={key: value}`` overrides, e.g. ``training={"epochs": 10}``.

        The overrides are checked like a TOML file's keys; a key of this configuration
        that the new laws or switches do not read (``KI`` once ``law = "ideal"``, ``Vmin``
        once ``rails = false``, a ``[mismatch]`` sigma of such a key) is dropped."""
        return from_dict(_merge(self.to_dict(), sections), given=sections)

    @classmethod
    def from_toml(cls, path) -> Config:
        return load_toml(path)


def _check_cancellation_timing(config) -> None:
    """The row edge ends where the offset cancellation's segments allow
    (:func:`aann.cancellation.check_edges`, on the clock alone: no circuit)."""
    from .cancellation import build_cancellation, check_edges

    check_edges(build_cancellation(config), config.training.t_row, config.training.t_edge)


def build_section(cls, values, where: str):
    """Section ``cls`` from a dict; unknown keys are errors naming the known ones."""
    if not isinstance(values, dict):
        raise ValidationError(f"[{where}] must be a table of key = value")
    if cls is Blocks:
        for key in values:
            if key not in _blocks.KINDS:
                raise ValidationError(f"unknown block [blocks.{key}]; known: "
                                      + ", ".join(_blocks.KINDS))
        return Blocks(**values)
    if cls is Constants:
        return Constants(**values)
    if cls is Mismatch:
        return Mismatch(**values)
    if cls is Nonideal:
        return Nonideal(**values)
    known = {f.name for f in fields(cls) if not f.name.startswith("_")}
    for key in values:
        if key not in known:
            raise ValidationError(
                f"unknown key {key!r} in [{where}]; known keys: {', '.join(sorted(known))}")
    section = cls(**values)
    if cls is Training:  # a rule's key given, even at its default, with another rule
        for _, message in switched_off(where, training_needs(), section.all_values(),
                                       list(values))[:1]:
            raise ValidationError(message)
    if cls is OffsetCancellation:  # a method's key given, even at its default, with another
        for _, message in switched_off(where, cancellation_needs(), section.all_values(),
                                       list(values))[:1]:
            raise ValidationError(message)
    return section


def from_dict(data: dict, *, given: dict | None = None) -> Config:
    """A :class:`Config` from nested dicts as read from TOML; unknown keys are errors, and
    so is a key that the chosen law or switch does not read.

    ``given``: the part of ``data`` given now, nested alike (what
    :meth:`Config.replace` changes); the other keys come from a configuration that
    read them, and those that the laws and switches of this one do not read are
    dropped instead of refused. None: every key is given."""
    if not isinstance(data, dict):
        raise ValidationError("a description must be a table of sections")
    for key in data:
        if key not in _SECTIONS:
            raise ValidationError(f"unknown section [{key}]; known: {', '.join(_SECTIONS)}")
    if given is not None:
        data = _drop_unread(data, given)
    return Config(**{name: build_section(cls, data.get(name, {}), name)
                     for name, cls in _SECTIONS.items()})


def _drop_unread(data: dict, given: dict) -> dict:
    """``data`` without the keys outside ``given`` that its laws and switches do not read
    (:func:`from_dict`); what cannot be read yet (a bad value) is left to be reported."""
    data = _copy(data)

    def is_given(*path) -> bool:
        table = given
        for part in path:
            if not isinstance(table, dict) or part not in table:
                return False
            table = table[part]
        return True

    blocks = data.get("blocks")
    if isinstance(blocks, dict):
        for kind, section in blocks.items():
            if kind not in _blocks.KINDS or not isinstance(section, dict):
                continue
            for path, _ in unread_block_keys(kind, section):
                if not is_given("blocks", kind, *path):
                    table = section[path[0]] if len(path) == 2 else section
                    del table[path[-1]]
    nonideal = data.get("nonideal")
    if isinstance(nonideal, dict):
        try:
            values = parse_values(nonideal_params(), nonideal, "nonideal")
        except ValidationError:
            values = None
        if values is not None:
            for key, _ in switched_off("nonideal", nonideal_needs(), values, list(nonideal)):
                if not is_given("nonideal", key):
                    del nonideal[key]
    training = data.get("training")
    if isinstance(training, dict):
        rule = training.get("rule", _rules.DEFAULT_RULE)
        if rule in _rules.RULES:  # an unknown rule is reported by the section
            values = {"rule": rule}
            for key, _ in switched_off("training", training_needs(), values,
                                       [k for k in list(training) if k in Training.RULE_KEYS]):
                if not is_given("training", key):
                    del training[key]
    cancellation = data.get("offset_cancellation")
    if isinstance(cancellation, dict):
        method = cancellation.get("method", "none")
        if isinstance(method, str):  # a bad method is reported by the section
            for key, _ in switched_off("offset_cancellation", cancellation_needs(),
                                       {"method": method},
                                       [k for k in list(cancellation)
                                        if k in OffsetCancellation.METHOD_KEYS]):
                if not is_given("offset_cancellation", key):
                    del cancellation[key]
    mismatch = data.get("mismatch")
    if isinstance(mismatch, dict):
        try:
            sections = types.SimpleNamespace(
                blocks=build_section(Blocks, data.get("blocks", {}), "blocks"),
                nonideal=build_section(Nonideal, data.get("nonideal", {}), "nonideal"),
                mismatch=build_section(Mismatch, mismatch, "mismatch"))
        except ValidationError:
            sections = None
        if sections is not None:
            for key, _ in _mismatch.unread(sections):
                if not is_given("mismatch", key):
                    del mismatch[key]
    return data


def _copy(d):
    return {k: _copy(v) for k, v in d.items()} if isinstance(d, dict) else d


def is_path(value) -> bool:
    """``value`` names a file: a ``str`` or an ``os.PathLike``."""
    return isinstance(value, (str, os.PathLike))


def read_toml(path, what: str = "config") -> dict:
    """The tables of TOML file ``path``; unreadable, non-UTF-8 or malformed files are a
    :class:`ValidationError` naming ``what`` the file is and the fix."""
    if not is_path(path):
        raise ValidationError(f"{what} must be the path of a TOML file (a str or "
                              f"os.PathLike), not {type(path).__name__}")
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise ValidationError(f"cannot read {what} {path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ValidationError(f"{what} {path} is not UTF-8 text (byte {e.start}); save it as "
                              "UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValidationError(f"malformed TOML in {what} {path}: {e}") from None
    except RecursionError:
        raise ValidationError(f"malformed TOML in {what} {path}: values nested too "
                              "deeply") from None


def as_config(config) -> Config:
    """``config`` as a :class:`Config`: one as it is, the path of a TOML file (a str or
    os.PathLike) loaded, None the defaults; anything else is a :class:`ValidationError`."""
    if config is None:
        return Config()
    if isinstance(config, Config):
        return config
    if is_path(config):
        return load_toml(config)
    raise ValidationError("config must be an aann.Config or the path of a TOML file, not "
                          f"{type(config).__name__}")


def load_toml(path) -> Config:
    """The :class:`Config` of TOML file ``path`` (a str or os.PathLike); relative paths
    in it (``init_weights``, a law's ``table``) are relative to the file."""
    data = read_toml(path)
    path = Path(path)
    for section in _tables_with_a_law(data):  # a law's table file, relative to the TOML file
        table = section.get("table")
        if isinstance(table, str) and table and not Path(table).is_absolute():
            section["table"] = str(path.parent / table)
    config = from_dict(data)
    init = config.training.init_weights
    if init is not None and not Path(init).is_absolute():  # relative to the TOML file
        config = config.replace(training={"init_weights": str(path.parent / init)})
    test = config.data.test
    if test is not None and not Path(test).is_absolute():  # relative to the TOML file
        config = config.replace(data={"test": str(path.parent / test)})
    return config


def _tables_with_a_law(data: dict) -> list:
    """The ``[blocks.<kind>]`` tables of a parsed TOML file and their role sub-tables."""
    blocks = data.get("blocks")
    if not isinstance(blocks, dict):
        return []
    kinds = [t for t in blocks.values() if isinstance(t, dict)]
    return kinds + [t for k in kinds for t in k.values() if isinstance(t, dict)]


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# --- the documented defaults ---------------------------------------------------

_EXAMPLE_FILES = {"test": "test.csv"}  # what a key whose default is None is shown with


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return repr(value)


def default_toml() -> str:
    """Every key of the description with its default, unit and meaning, as TOML.

    Written from the declarations (the TOML reference, docs/toml.md, shows exactly this
    text, tested), so a law or constant added anywhere appears here by itself.
    """
    lines = ["[network]", f"sizes = {_toml_value(Network().sizes):<20} "
             "# layer sizes, inputs first; also \"2-8-1\""]

    def table(name, declared: dict[str, Param], values: dict, off: dict | None = None):
        """``off``: the keys not read by default, commented out, each with what reads it."""
        off = off or {}
        lines.extend(["", f"[{name}]"])
        for key, p in declared.items():
            value = values[key]
            shown = value
            if p.unit and isinstance(value, float):
                shown = format_quantity(value, p.unit)
            text = f"{key} = {_toml_value(shown)}"
            if value is None:  # a file name, not given by default
                text = f'# {key} = "{_EXAMPLE_FILES.get(key, "w.json")}"'
            note = f"({p.unit_text}) " if p.unit_text else ""
            if p.choices is not None and not isinstance(p.default, bool):
                note += " | ".join(map(str, p.choices)) + ("; " if p.doc else "")
            sign = {"positive": ", > 0", "nonnegative": ", >= 0", "nonzero": ", != 0"}.get(
                p.sign, "")
            if p.maximum is not None:
                sign += f", <= {p.maximum:g}"
            if key in off:
                text = f"# {text}"
                sign += off[key](p.doc)
            lines.append(f"{text:<27}# {note}{p.doc}{sign}".rstrip())

    def read_by(laws):  # unless the meaning names the laws already
        return lambda doc: "" if any(law in doc for law in laws) else \
            f"; {_laws_text(laws)} only"

    def read_with(need):
        return lambda doc: "" if all(s in doc for s in need.switches) else \
            f"; read with {need}"

    table("constants", constants_params(), Constants().to_dict())
    for kind in _blocks.KINDS:
        spec = BlockSpec(kind)
        laws = _blocks.LAWS[kind]
        law_doc = " | ".join(f"{n} ({c.__name__})" for n, c in laws.items())
        declared = {"law": Param(spec.law, doc=law_doc), **_blocks.section_params(kind)}
        off = {k: read_by(_laws_declaring(kind, k)) for k in declared
               if k not in _law_reads(kind, spec.law)}
        table(f"blocks.{kind}", declared, spec.all_values(), off)
        if kind == "multiplier":
            lines.extend([
                "# [blocks.multiplier.forward]  (Vw, x)       any key above, for one role only",
                "# [blocks.multiplier.delta]    (VE, Vd)      Vdelta = VE * Vd",
                "# [blocks.multiplier.charge]   (Vdelta, x)   sets Icharged",
                "# [blocks.multiplier.type2]    (Vdelta, Vw)  error of the layer below"])
    nonideal = Nonideal()
    table("nonideal", nonideal_params(), nonideal.all_values(),
          {k: read_with(need) for k, need in nonideal_needs().items()
           if not need.met(nonideal.all_values())})
    cancellation = OffsetCancellation()
    table("offset_cancellation", params_of(OffsetCancellation), cancellation.all_values(),
          {k: read_with(need) for k, need in cancellation_needs().items()
           if not need.met(cancellation.all_values())})
    lines.extend([
        "", "[mismatch]",
        f"{'seed = 0':<27}# draws of Monte Carlo sample k: from (seed, k, constant)",
        '# "multiplier.Km" = "3%"   # sigma, relative or absolute ("2mV"); per instance',
        '# "multiplier.charge.Voff1" = "2mV"', '# "activation.Iref" = "2%"',
        '# "C" = "1%"'])
    training = Training()
    table("training", params_of(Training), training.all_values(),
          {k: read_with(need) for k, need in training_needs().items()
           if not need.met(training.all_values())})
    for name, cls in (("data", Data), ("solver", Solver), ("cells", CellNetwork)):
        table(name, params_of(cls), cls().to_dict())
    return "\n".join(lines) + "\n"
