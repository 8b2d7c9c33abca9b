"""Power, energy and area: what training a network on this circuit costs (docs/energy.md).

Every block instance (each multiplier of each role, each neuron's activation, derivative
and error block, each Type2 summing stage, each charging source) draws its static supply
current ``Isupply`` (a constant of its law, :mod:`aann.blocks`, drawn per instance
under ``[mismatch]``) from ``[constants] Vdd``, whatever the signals. From a run:

* ``power_static``: ``Vdd * sum over instances of Isupply`` (W), per network;
* ``energy_charging``: what the charging sources move, ``Vdd * integral |Icharged|
  dt`` over the run (J): each source draws its output current from the supply
  whichever way it charges (a class-A source), and ``Icharged = C dVw/dt``, so the
  integral is ``C`` times the path each weight travelled (the native engine sums
  ``|Vw(row end) - Vw(row start)|`` over the rows, exact for a weight that moves one
  way within a row, and under the chopper over its half periods; ngspice integrates
  the currents over its time points);
* ``energy_training = power_static * T + energy_charging``, ``T`` the circuit time of
  the run (rows x epochs x ``t_row``); ``energy_epoch`` its mean per epoch;
* ``energy_inference = power_static * t_settle``: one forward pass, learning off, the
  whole circuit powered for the time its forward path (the poles of the forward
  multipliers' summing nodes and of the activations, layer after layer) takes to
  settle within 1 % (0 for blocks without a bandwidth: they settle at once);
* ``area``: every block instance at its SkyWater cell's area
  (:func:`aann.cells.supply.cell_area`: ``layout_factor`` x the MOSFETs' gate area +
  the resistors' area), every weight capacitor ``C / C_density`` (``[constants]
  C_density``, the SkyWater MIM capacitor's 2 fF/um^2 by default).

These are figures of a run, not of an epoch's network state: they are not registered
metrics (:mod:`aann.metrics` evaluates functions of the weights and outputs at each
epoch's end; a charge integral runs over the whole path), and they are in every
``Results`` (``res.energy``) and ``summary.json``.

Digital training for comparison: :func:`aann.digital.sgd_flops` counts the floating-point
operations of per-row SGD; :data:`J_PER_FLOP` prices them at the best measured
efficiencies of a CPU-only and a GPU system.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .blocks import BLOCKS, instance_shapes
from .circuit import chain_settling

CELL_OF = {"multiplier": "multiplier", "activation": "sigmoid", "derivative": "derivative",
           "error": "sigmoid", "charging": "charging", "type2": None}
"""The SkyWater cell whose area a block of each kind is given (:mod:`aann.cells.library`);
the error block has no cell (the sigmoid's, as for its supply current), the Type2 stage is
its multipliers (counted as such) into a resistor (not counted)."""

J_PER_FLOP = {"cpu": 1 / 16.876e9, "gpu": 1 / 73.282e9}
"""Energy per floating-point operation (J), the best measured system efficiencies on
High-Performance Linpack (FP64, whole system), set yours for your machine:

* ``cpu``: 16.876 GFLOPS/W, the Fugaku prototype (768 Fujitsu A64FX CPUs, no
  accelerator), No. 1 of the Green500 of November 2019 (Fujitsu and RIKEN press release,
  18 November 2019): 59.3 pJ/FLOP;
* ``gpu``: 73.282 GFLOPS/W, Kairos (NVIDIA GH200), No. 1 of the Green500 of November
  2025 (The Register, 21 November 2025): 13.6 pJ/FLOP.

Dense linear algebra near peak: per-row SGD of a small network runs far below peak, so
the energy at these figures is a lower bound on what the digital training costs."""

J_PER_FLOP_SOURCES = {
    "cpu": "Green500 Nov 2019 No. 1, Fugaku prototype (A64FX CPUs only), 16.876 GFLOPS/W "
           "(Fujitsu/RIKEN press release, 2019-11-18)",
    "gpu": "Green500 Nov 2025 No. 1, Kairos (NVIDIA GH200), 73.282 GFLOPS/W "
           "(The Register, 2025-11-21)"}


# --- the blocks of a circuit ----------------------------------------------------------

def block_counts(circuit) -> dict:
    """Instances of every block (:data:`aann.blocks.BLOCKS`) of one network, from its
    topology and rule (:func:`aann.blocks.instance_shapes`), and its ``capacitors``: one
    forward and one charge multiplier and one charging source per weight (bias
    included), one delta multiplier, activation and derivative block per neuron, one
    error block per output, the Type2 multipliers of each stage above the first layer
    (:meth:`aann.rules.Rule.type2_shape`) and one Type2 summing stage per neuron of the
    layer below. A law that is one source shared by every instance (``shared``: a fixed
    ``Vd``, no derivative blocks) counts 0."""
    counts = dict.fromkeys(BLOCKS, 0)
    shapes = instance_shapes(circuit.sizes, circuit.rule)
    for name in BLOCKS:
        if getattr(circuit.block(name, len(shapes) - 1), "shared", False):
            continue
        counts[name] = sum(math.prod(layer[name]) for layer in shapes if name in layer)
    counts["capacitors"] = sum(math.prod(layer["charging"]) for layer in shapes)
    return counts


def _instances(circuit):
    """``(name, layer, shape)`` of every block array of one network."""
    for l, layer in enumerate(instance_shapes(circuit.sizes, circuit.rule)):
        for name, shape in layer.items():
            yield name, l, shape


def instance_supplies(circuit) -> dict:
    """Per block name, every instance's ``Isupply`` (A), flat, in layer order (its
    mismatch draw where ``[mismatch]`` varies it); none for a block whose law declares no
    ``Isupply`` (the Type2 summing resistor, a fixed ``Vd``)."""
    out = {name: [] for name in BLOCKS}
    for name, l, shape in _instances(circuit):
        block = circuit.block(name, l)
        if hasattr(block, "Isupply"):
            out[name].extend(np.broadcast_to(np.asarray(block.Isupply, float),
                                             shape).ravel().tolist())
    return out


def static_power(circuit) -> float:
    """``Vdd * sum of Isupply`` over every block instance of one network (W), summed
    exactly (``math.fsum`` of each instance's ``Isupply * Vdd``)."""
    Vdd = float(circuit.Vdd)
    return math.fsum(I * Vdd for values in instance_supplies(circuit).values() for I in values)


def power_by_block(circuit) -> dict:
    """Per block name, the static power of its instances in one network (W)."""
    Vdd = float(circuit.Vdd)
    return {name: math.fsum(I * Vdd for I in values)
            for name, values in instance_supplies(circuit).items()}


def forward_settling_time(circuit, within: float = 0.01) -> float:
    """The time (s) a forward pass takes to settle within ``within`` after a step of the
    inputs: the chain of poles from the inputs to the outputs, each layer's summing node
    (``u``, the forward multipliers' ``f3dB``) and activation (``Vout``), the slowest
    instance of each; 0 without poles."""
    taus = []
    for l in range(len(circuit.sizes) - 1):
        for name in ("u", "Vout"):
            f = np.asarray(circuit.pole_f3dB(l, name), float)
            f = f[f > 0]
            if f.size:
                taus.append(1 / (2 * math.pi * float(f.min())))
    return chain_settling(taus, within)


@lru_cache(maxsize=8)
def block_areas(layout_factor: float | None = None) -> dict:
    """The area (m^2) of one instance of each block kind: its SkyWater cell's
    (:data:`CELL_OF`, :func:`aann.cells.supply.cell_area`); 0 for the Type2 stage (its
    resistor)."""
    from .cells.library import CELLS
    from .cells.supply import LAYOUT_FACTOR, cell_area

    factor = LAYOUT_FACTOR if layout_factor is None else layout_factor
    return {kind: 0.0 if cell is None else cell_area(CELLS[cell], factor)
            for kind, cell in CELL_OF.items()}


def area(circuit, C_density: float, layout_factor: float | None = None) -> dict:
    """The area (m^2) of one network: per block name its instances at their cell's area,
    ``capacitors`` every weight capacitor ``C / C_density``, and ``total``."""
    per = block_areas(layout_factor)
    counts = block_counts(circuit)
    out = {name: counts[name] * per[name.partition(".")[0]] for name in BLOCKS}
    caps = [np.broadcast_to(np.asarray(C, float), shape).sum()
            for C, shape in zip(circuit.capacitances(),
                                (layer["charging"] for layer in
                                 instance_shapes(circuit.sizes, circuit.rule)))]
    out["capacitors"] = float(math.fsum(caps)) / C_density
    out["total"] = math.fsum(out.values())
    return out


def assumptions(config, layout_factor: float | None = None) -> list[str]:
    """The assumptions behind the figures, as sentences (summary.json, the report)."""
    from .cells.supply import LAYOUT_FACTOR

    c = config.constants
    factor = LAYOUT_FACTOR if layout_factor is None else layout_factor
    return [
        f"every block draws its static Isupply from Vdd = {c.Vdd:g} V all the time (no "
        "power gating); defaults: the SkyWater 130 nm cells at zero signal, tt, 27 C",
        "each charging source draws |Icharged| from Vdd whichever way it charges; "
        "Icharged = C dVw/dt, integrated over the path each weight travelled (exact for a "
        "weight that moves one way within a row; with R_leak, rails or Qinj the net "
        "charge into the capacitor is counted)",
        "energy_training = power_static x circuit time + energy_charging; energy_epoch = "
        "energy_training / epochs",
        "energy_inference = power_static x the forward path's 1 % settling time (0 for "
        "blocks without a bandwidth f3dB)",
        f"area: each block its SkyWater cell's, {factor:g} x the MOSFETs' gate area + the "
        "resistors' drawn area (the error block the sigmoid cell's, the Type2 stage's "
        f"resistor not counted); each weight capacitor C / C_density, C_density = "
        f"{c.C_density:g} F/m^2 ({c.C_density * 1e3:g} fF/um^2)",
    ]


# --- the figures of a run -------------------------------------------------------------

@dataclass(frozen=True)
class Energy:
    """The power, energy and area figures of a run (per network where they may differ).

    ``blocks``: instance counts (:func:`block_counts`); ``power_static``,
    ``energy_charging`` (NaN: the engine does not measure it), ``settling_forward``
    (s): (B,) arrays; ``circuit_seconds``: the run's circuit time; ``epochs``: 0 under a
    PWL stimulus; ``area``, ``area_parts`` (m^2, the first network's);
    ``supply_power_measured``: (B,) the static power the engine measured itself
    (ngspice), or None; ``assumptions``: sentences."""

    blocks: dict
    Vdd: float
    power_static: np.ndarray
    energy_charging: np.ndarray
    circuit_seconds: float
    epochs: int
    settling_forward: np.ndarray
    area: float
    area_parts: dict = field(default_factory=dict)
    power_parts: dict = field(default_factory=dict)
    supply_power_measured: np.ndarray | None = None
    assumptions: tuple = ()

    @property
    def energy_static(self) -> np.ndarray:
        """(B,) the static energy of the run (J): ``power_static * circuit_seconds``."""
        return self.power_static * self.circuit_seconds

    @property
    def energy_training(self) -> np.ndarray:
        """(B,) J: static energy plus charging energy."""
        return self.energy_static + self.energy_charging

    @property
    def energy_epoch(self) -> np.ndarray:
        """(B,) J: the training energy's mean per epoch (NaN without epochs)."""
        return self.energy_training / self.epochs if self.epochs else \
            np.full_like(self.power_static, np.nan)

    @property
    def energy_inference(self) -> np.ndarray:
        """(B,) J: one settled forward pass, ``power_static * settling_forward``."""
        return self.power_static * self.settling_forward

    def to_dict(self) -> dict:
        """JSON-ready (lists per network; NaN as None)."""
        def listed(a):
            return None if a is None else [_num(x) for x in np.asarray(a, float)]

        return {"blocks": dict(self.blocks), "Vdd": self.Vdd,
                "power_static": listed(self.power_static),
                "energy_charging": listed(self.energy_charging),
                "circuit_seconds": self.circuit_seconds, "epochs": self.epochs,
                "settling_forward": listed(self.settling_forward), "area": self.area,
                "area_parts": dict(self.area_parts), "power_parts": dict(self.power_parts),
                "supply_power_measured": listed(self.supply_power_measured),
                "assumptions": list(self.assumptions)}

    @classmethod
    def from_dict(cls, d: dict) -> Energy:
        def arr(x):
            return None if x is None else np.array([np.nan if v is None else v for v in x],
                                                   float)

        return cls(blocks=dict(d["blocks"]), Vdd=d["Vdd"], power_static=arr(d["power_static"]),
                   energy_charging=arr(d["energy_charging"]),
                   circuit_seconds=d["circuit_seconds"], epochs=d["epochs"],
                   settling_forward=arr(d["settling_forward"]), area=d["area"],
                   area_parts=dict(d.get("area_parts", {})),
                   power_parts=dict(d.get("power_parts", {})),
                   supply_power_measured=arr(d.get("supply_power_measured")),
                   assumptions=tuple(d.get("assumptions", ())))

    def __eq__(self, other):
        if not isinstance(other, Energy):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None

    def summary(self) -> dict:
        """The keys summary.json holds: ``blocks``, ``power_static`` (W), ``energy_charging``,
        ``energy_training``, ``energy_epoch``, ``energy_inference`` (J), per network;
        ``area`` (m^2); ``energy_assumptions``."""
        def listed(a):
            return [_num(x) for x in np.asarray(a, float)]

        return {"blocks": dict(self.blocks), "power_static": listed(self.power_static),
                "energy_charging": listed(self.energy_charging),
                "energy_training": listed(self.energy_training),
                "energy_epoch": listed(self.energy_epoch),
                "energy_inference": listed(self.energy_inference),
                "area": _num(self.area),
                "supply_power_measured": None if self.supply_power_measured is None
                else listed(self.supply_power_measured),
                "energy_assumptions": list(self.assumptions)}


def eng(value: float, unit: str, digits: int = 3) -> str:
    """``0.0276841, "W"`` -> ``"27.7 mW"``: ``digits`` significant, an SI prefix."""
    if value is None or not math.isfinite(value):
        return "-"
    if value == 0:
        return f"0 {unit}"
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0),
                          ("m", 1e-3), ("u", 1e-6), ("n", 1e-9), ("p", 1e-12), ("f", 1e-15),
                          ("a", 1e-18)):
        if abs(value) >= scale * 0.9995:
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"


def describe(energy: Energy) -> str:
    """One line for ``aann train``: blocks, static power, energy per training, per epoch
    and per inference, area (the median over networks where they differ)."""
    def med(a):
        a = np.asarray(a, float)
        a = a[np.isfinite(a)]
        return float(np.median(a)) if a.size else math.nan

    n = sum(v for k, v in energy.blocks.items() if k != "capacitors")
    settle = med(energy.settling_forward)
    inference = (f"inference {eng(med(energy.energy_inference), 'J')} (forward settling "
                 f"{eng(settle, 's')})" if settle > 0 else
                 "inference: no block bandwidth (f3dB = 0), a forward pass settles at once")
    charging = med(energy.energy_charging)
    training = eng(med(energy.energy_training), "J")
    return (f"energy: {n} blocks and {energy.blocks['capacitors']} capacitors, static power "
            f"{eng(med(energy.power_static), 'W')}; training {training}"
            + (f" (charging {eng(charging, 'J')})" if math.isfinite(charging) else
               " (charging not measured by this engine)")
            + (f", per epoch {eng(med(energy.energy_epoch), 'J')}" if energy.epochs else "")
            + f"; {inference}; area {energy.area * 1e6:.3g} mm^2 (docs/energy.md)")


def _num(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def run_energy(prepared, run, layout_factor: float | None = None) -> Energy:
    """The :class:`Energy` of ``run``, an engine's run of ``prepared``: each network's
    circuit (its mismatch sample, its constants in a batch) for the static power and the
    forward settling time, the run's charge (:attr:`aann.Run.charge`) for the charging
    energy."""
    from .batch import circuit_at

    circuit, axes, B = prepared.circuit, prepared.axes, prepared.n_networks
    nets = [circuit_at(circuit, axes, 0)] if axes is None else \
        [circuit_at(circuit, axes, b) for b in range(B)]
    power = np.array([static_power(c) for c in nets], float)
    settle = np.array([forward_settling_time(c) for c in nets], float)
    Vdd = np.array([float(c.Vdd) for c in nets], float)
    if axes is None:
        power, settle, Vdd = (np.full(B, x[0]) for x in (power, settle, Vdd))
    if run.charge is not None:
        moved = np.sum([np.asarray(q, float).reshape(B, -1).sum(axis=1) for q in run.charge],
                       axis=0)
        charging = Vdd * moved
    else:
        charging = np.full(B, np.nan)
    first = nets[0]
    cfg = prepared.config
    parts = area(first, cfg.constants.C_density, layout_factor)
    return Energy(blocks=block_counts(first), Vdd=float(first.Vdd), power_static=power,
                  energy_charging=charging, circuit_seconds=float(prepared.circuit_seconds),
                  epochs=0 if prepared.schedule is None else int(prepared.schedule.epochs),
                  settling_forward=settle, area=parts.pop("total"), area_parts=parts,
                  power_parts=power_by_block(first),
                  supply_power_measured=None if run.supply_power is None
                  else np.asarray(run.supply_power, float),
                  assumptions=tuple(assumptions(cfg, layout_factor)))


# --- against digital ---------------------------------------------------------------------

def digital_energy(flops: float, J_per_flop: dict | None = None) -> dict:
    """``flops`` priced at each device's energy per FLOP (J; default :data:`J_PER_FLOP`)."""
    prices = J_PER_FLOP if J_per_flop is None else J_per_flop
    return {device: flops * j for device, j in prices.items()}
