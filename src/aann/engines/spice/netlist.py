"""A behavioural SPICE netlist of exactly the circuit the native engine simulates.

Pure text, no subprocess. Every B-source expression is produced by calling the
block laws of :mod:`aann.blocks` with :class:`aann.blocks.Expr` inputs and
``m = aann.blocks.SPICE`` -- the same methods the native engine calls with JAX
arrays -- so the two engines read one definition of each law.

Layout (the paper's Fig. 6 and Fig. 7):

* one ``.subckt neuron_lL`` per layer L (layers are numbered as in the paper:
  the inputs are layer 1, so the first neurons are layer 2). Its ports are the
  Fig. 6 symbol: inputs ``x0`` (= ``Vbias``) .. ``xN``, weights ``w0`` .. ``wN``,
  ``vteach``, ``ve`` (error in), ``vout``, the probe points ``vd`` and ``vdelta``,
  and, for layers above the first hidden one, ``ie1`` .. ``ieN`` (the Type2
  currents ``IE`` into the error nodes of the layer below);
* the weight capacitors at the top level, one per weight, with ``IC=`` the
  initial weight and ``.tran ... uic``;
* PWL sources for ``Vin``, ``Vtarget`` and ``Vteach`` whose rows start with a
  linear edge of ``t_edge`` from the previous row's value (the native engine
  applies the same edges), a DC source ``Vbias``;
* the Type1 error ``VE = Vout - Vtarget`` as a B-source per output, the Type2
  error of a hidden neuron as the sum of the ``IE`` currents into a resistor
  ``R_E`` to ground; where the learning rule feeds a hidden layer's Type2 stage from
  the deltas of a layer other than the one above (direct feedback alignment,
  :meth:`aann.rules.Rule.type2_source`), that stage's multipliers are B-sources at
  the top level, from the source layer's ``vdelta`` nodes into the ``ve`` nodes, each
  beside a DC source of the rule's fixed voltage;
* a block's pole (``f3dB``) as an RC lag behind its B-source, or a capacitor
  beside the resistor of a summing node (``Ru``, ``R_E``), started by ``.ic``
  at the value the native engine starts from.

Node names use the paper's symbols: ``vin1``, ``vtarget1``, ``vteach``,
``vbias``, ``vw_l2_n1_i0`` (weight of neuron 1 of layer 2 from input 0, the
bias), ``vout_l2_n1``, ``vd_l2_n1``, ``vdelta_l2_n1``, ``ve_l2_n1``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ...blocks import SPICE, Expr
from ...cancellation import (
    Autozero,
    Chopper,
    check_edges,
    demodulator_signs,
    error_inputs,
    row_period,
    source_input,
    source_output,
    start_switches,
)
from ...circuit import Circuit
from ...spec import Network, row_learning_rate, weight_shapes
from ...stimulus import RowSchedule

EDGE_FRACTION = 0.01  # t_edge = 1% of t_row when the description says 0
SWITCH_EDGE = 1e-3
"""Offset cancellation (docs/cancellation.md): the rise/fall time of the chopper's square
wave and of the autozero phase signals, a fraction of the half period / of ``t_az``, each
edge centred on the native engine's switching instant (a linear edge so centred loses
nothing of the integral to first order)."""
SAMPLE_TAU = 0.02
"""The autozero sample-and-hold's tracking time constant ``C_az / G``, a fraction of
``t_az`` (the held value is then within ``exp(-49)`` of what reaches it at the end of the
phase, once the path has settled)."""


@dataclass(frozen=True)
class SpiceOptions:
    """Settings of the ngspice transient (``.options`` and ``.tran``).

    The circuit's natural scales are far from SPICE's defaults (which suit
    microsecond circuits with milliamp currents and volt-scale charges of nF
    capacitors): times are ~1e-13 s, charges ``C * Vw`` ~1e-13 C, currents up to
    ~0.1 A. So ``chgtol`` (default 1e-14 C, i.e. 10 % of a weight's charge) is
    set far below the charges, ``vntol`` below the 1 mV the weights must match
    to, ``reltol`` tight because a run integrates thousands of rows, and
    ``maxstep`` a fraction of ``t_row`` so that no row is crossed in one step.
    ``method = gear`` (BDF-2) damps the edge transients that ``trap`` rings on.
    """

    method: str = "gear"  # gear | trap
    maxord: int = 2
    reltol: float = 1e-6
    trtol: float = 1.0
    abstol: float = 1e-15  # A
    vntol: float = 1e-9  # V
    chgtol: float = 1e-24  # C
    steps_per_row: int = 10  # maxstep = t_row / steps_per_row
    edge_fraction: float = EDGE_FRACTION
    rail_conductance: float = 1e3  # S: the clamp of a supply rail ([nonideal] rails)

    def options_line(self) -> str:
        return (f".options method={self.method} maxord={self.maxord} reltol={self.reltol:g} "
                f"trtol={self.trtol:g} abstol={self.abstol:g} vntol={self.vntol:g} "
                f"chgtol={self.chgtol:g}")


def edge_time(t_row: float, t_edge: float, fraction: float = EDGE_FRACTION) -> float:
    """The rise/fall time used for the row edges (s): ``t_edge``, or ``fraction * t_row`` if 0."""
    return float(t_edge) if t_edge > 0 else fraction * float(t_row)


def with_edges(schedule: RowSchedule, options: SpiceOptions = SpiceOptions()) -> RowSchedule:
    """The schedule with a finite edge time (what a PWL source needs)."""
    return dataclasses.replace(
        schedule, t_edge=edge_time(schedule.t_row, schedule.t_edge, options.edge_fraction))


# --- node names --------------------------------------------------------------

def vw(L: int, j: int, i: int) -> str:
    """Weight node of neuron ``j`` (1-based) of layer ``L`` (2-based) from input ``i``
    (0 = bias)."""
    return f"vw_l{L}_n{j}_i{i}"


def vout(L: int, j: int) -> str:
    return f"vout_l{L}_n{j}"


def ve(L: int, j: int) -> str:
    return f"ve_l{L}_n{j}"


def weight_nodes(sizes) -> list[np.ndarray]:
    """Per layer, an array (n_out, n_in + 1) of weight node names (the W layout)."""
    return [np.array([[vw(l + 2, j + 1, i) for i in range(cols)] for j in range(rows)])
            for l, (rows, cols) in enumerate(weight_shapes(sizes))]


def layer_inputs(sizes, l: int) -> list[str]:
    """Input nodes ``x0..xN`` of layer index ``l`` (0-based): vbias then the layer below."""
    below = [f"vin{i + 1}" for i in range(sizes[0])] if l == 0 else \
        [vout(l + 1, i + 1) for i in range(sizes[l])]
    return ["vbias", *below]


# --- the block laws as expressions ------------------------------------------

def v(node: str) -> Expr:
    return Expr(f"v({node})")


def _sample_tau(autozero) -> float:
    return SAMPLE_TAU * autozero.t_az


def block_at(circuit: Circuit, name: str, l: int, index=()):
    """Block ``name`` of layer ``l`` with every per-instance constant taken at
    ``index`` (a scalar each): the one instance a netlist line describes."""
    block = circuit.block(name, l)
    own = {f.name: float(np.asarray(getattr(block, f.name))[index])
           for f in dataclasses.fields(block)
           if not f.metadata.get("static") and np.ndim(getattr(block, f.name))}
    return dataclasses.replace(block, **own) if own else block


def neuron_expressions(circuit: Circuit, l: int, j: int = 0) -> dict:
    """The B-source expressions of neuron ``j`` of layer index ``l`` (0-based), in
    subcircuit port names.

    Keys: ``Imult`` (list over inputs 0..N, the forward multiplier currents into
    node ``inet``, which has a resistor ``Ru`` to ground, so ``v(inet) = Ru * Inet``,
    the voltage image ``u`` of Eq. 7), ``Vout``, ``Vd``, ``Vdelta`` (voltages),
    ``Vgrad`` (list over inputs 0..N, the charge multipliers' products),
    ``Icharged`` (list over inputs 0..N, current into ``w_i``; it reads node
    ``vgrad<i>`` when the charge multipliers have a pole; with offset cancellation it
    reads port ``vchop`` (the chopper's demodulator) or the held node ``az<i>`` and is
    gated off by port ``vphase``, autozero), ``Ihold`` (autozero: list over inputs 0..N,
    the sample-and-hold's tracking current into ``az<i>`` while port ``vsample`` is 1;
    else empty), ``IE`` (list over inputs
    1..N, current into ``ie_i``), ``Ru``, ``tau`` (the time constant of each lagged
    signal of :meth:`aann.Circuit.lagged`, s). Written by the same block methods the native
    engine runs, each multiplier role its own block, each instance its own constants;
    the operands of the delta, charge and Type2 multipliers are those of the circuit's
    learning rule (:mod:`aann.rules`; its fixed feedback voltages, if any, on ports
    ``fb1..fbN``).
    """
    n_in = circuit.sizes[l]
    rule = circuit.rule
    x = [v(f"x{i}") for i in range(n_in + 1)]
    w = [v(f"w{i}") for i in range(n_in + 1)]
    act, der = block_at(circuit, "activation", l, j), block_at(circuit, "derivative", l, j)
    delta = block_at(circuit, "multiplier.delta", l, j)
    Inet = v("inet") / der.Ru  # the multiplier currents summed into the sense resistor Ru
    lagged = circuit.lagged()[l]
    Vgrad = [block_at(circuit, "multiplier.charge", l, (j, i)).product(
        *rule.charge_inputs(v("vdelta"), x[i], m=SPICE), m=SPICE) for i in range(n_in + 1)]
    # what reaches each charging source: Vgrad (its lagged node with a pole), behind the
    # chopper's demodulator or less the autozero capacitor's held value
    reaching = [v(f"vgrad{i}") if "Vgrad" in lagged else Vgrad[i] for i in range(n_in + 1)]
    cancel = circuit.cancellation
    sources, at_output = reaching, None
    if isinstance(cancel, Chopper):
        at_input, at_output = demodulator_signs(
            cancel, v("vchop"), v("vchop2") if cancel.charging_periods else None)
        sources = [source_input(r, sign=at_input) for r in reaching]
    elif isinstance(cancel, Autozero):
        sources = [source_input(r, held=v(f"az{i}") + cancel.Q_inj / cancel.C_az
                                if cancel.Q_inj != 0 else v(f"az{i}"))
                   for i, r in enumerate(reaching)]
    Icharged = [source_output(block_at(circuit, "charging", l, (j, i)).current(
        v("vteach"), sources[i], m=SPICE), sign=at_output) for i in range(n_in + 1)]
    if isinstance(cancel, Autozero):  # the source disconnected during the phase
        Icharged = [(1 - v("vphase")) * expr for expr in Icharged]
    out = {
        "Imult": [block_at(circuit, "multiplier.forward", l, (j, i)).output(w[i], x[i], m=SPICE)
                  for i in range(n_in + 1)],
        "Vout": act.Vout(Inet, m=SPICE),
        "Vd": der.Vd(Inet, m=SPICE),
        "Vdelta": delta.product(*rule.delta_inputs(v("ve"), v("vd"), m=SPICE), m=SPICE),
        "Vgrad": Vgrad,
        # with a pole on the charge multipliers, each current reads its lagged node vgrad<i>
        "Icharged": Icharged,
        # autozero: the sample-and-hold's tracking current into az<i> while vsample is on
        "Ihold": [] if not isinstance(cancel, Autozero) else [
            (cancel.C_az / _sample_tau(cancel)) * v("vsample") * (r - v(f"az{i}"))
            for i, r in enumerate(reaching)],
        "IE": [],
        "Ru": der.Ru,
        "tau": {name: time_constant(circuit, l, name) for name in lagged},
    }
    if has_type2(circuit, l):
        fixed = rule.feedback(l) is not None  # the rule's fixed voltages on ports fb<i>
        for i in range(1, n_in + 1):
            T = block_at(circuit, "type2", l, i - 1)
            M = block_at(circuit, "multiplier.type2", l, (j, i - 1))
            operands = rule.type2_inputs(v("vdelta"), w[i], m=SPICE,
                                         Vfb=v(f"fb{i}") if fixed else None)
            out["IE"].append(T.K_E * M.product(*operands, m=SPICE))
    return out


def has_type2(circuit: Circuit, l: int) -> bool:
    """The neurons of layer index ``l`` hold the Type2 multipliers of the error of the
    layer below (ports ``ie1..ieN``): ``l > 0`` and the rule feeds that stage from this
    layer's deltas (:meth:`aann.rules.Rule.type2_source`; backprop, feedback alignment)."""
    return l > 0 and circuit.rule.type2_source(l, len(circuit.sizes) - 1) == l


def has_feedback(circuit: Circuit, l: int) -> bool:
    """The rule gives the Type2 multipliers of layer index ``l``, held by its neurons,
    fixed voltages (ports ``fb1..fbN`` of its subcircuit, DC sources at the top level)."""
    return has_type2(circuit, l) and circuit.rule.feedback(l) is not None


def feedback_at(circuit: Circuit, l: int, j: int, i: int) -> float:
    """The rule's fixed voltage (V) for the Type2 multiplier of neuron ``j`` (0-based) of
    layer index ``l`` and its input ``i`` (1-based, the non-bias weight ``w<i>``)."""
    return float(np.asarray(circuit.rule.feedback(l))[j, i - 1])


def vfb(L: int, j: int, i: int) -> str:
    """Node of the rule's fixed voltage read by the Type2 multiplier of neuron ``j``
    (1-based) of layer ``L`` (2-based) beside weight ``vw(L, j, i)``."""
    return f"vfb_l{L}_n{j}_i{i}"


def direct_name(Ls: int, k: int, L: int, j: int) -> str:
    """The Type2 multiplier a rule such as direct feedback alignment places outside the
    neurons: from the delta of neuron ``k`` of layer ``Ls`` into the error of neuron
    ``j`` of layer ``L`` (all 1-/2-based as the nodes)."""
    return f"l{Ls}_n{k}_to_l{L}_n{j}"


def _direct_stage(circuit: Circuit, l: int) -> list[str]:
    """The Type2 stage of layer index ``l`` whose deltas come from another layer (the
    rule's :meth:`~aann.rules.Rule.type2_source`): per multiplier a DC source of the
    rule's fixed voltage (if any) and a B-source ``IE_kj`` into ``ve`` of neuron j of
    layer index ``l - 1``, with that instance's constants."""
    rule, sizes = circuit.rule, circuit.sizes
    source = rule.type2_source(l, len(sizes) - 1)
    Ls, L = source + 2, l + 1
    fixed = rule.feedback(l) is not None
    out = []
    for k in range(sizes[source + 1]):
        for j in range(sizes[l]):
            name = direct_name(Ls, k + 1, L, j + 1)
            Vfb = None
            if fixed:
                out.append(f"Vfb_{name} vfb_{name} 0 DC "
                           f"{_num(float(np.asarray(rule.feedback(l))[k, j]))}")
                Vfb = v(f"vfb_{name}")
            T = block_at(circuit, "type2", l, j)
            M = block_at(circuit, "multiplier.type2", l, (k, j))
            operands = rule.type2_inputs(v(f"vdelta_l{Ls}_n{k + 1}"), None, m=SPICE, Vfb=Vfb)
            out.append(f"Bie_{name} 0 {ve(L, j + 1)} I={T.K_E * M.product(*operands, m=SPICE)}")
    return out


def time_constant(circuit: Circuit, l: int, name: str) -> float:
    """``tau = 1 / (2 pi f3dB)`` (s) of the pole on signal ``name`` of layer ``l``."""
    return 1 / (2 * math.pi * float(circuit.pole_f3dB(l, name)))


# --- the netlist --------------------------------------------------------------

LAG_R = 1.0  # Ohm: the series resistor of a voltage lag; its capacitor is tau / LAG_R


def _output(name: str, node: str, expr, tau: float | None) -> list[str]:
    """A block's voltage output: the B-source on ``node``, or with a pole (``tau``, s)
    the B-source on ``node_u`` and an RC lag from there to ``node``."""
    if tau is None:
        return [f"B{name} {node} 0 V={expr}"]
    return [f"B{name} {node}_u 0 V={expr}",
            f"Rlag_{name} {node}_u {node} {_num(LAG_R)}",
            f"Clag_{name} {node} 0 {_num(tau / LAG_R)}"]

def _num(x) -> str:
    """A float as SPICE reads it, with every digit (``repr``)."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"cannot write {x} into a netlist")
    return repr(x)


def _pwl(name: str, node: str, times, values, per_line: int = 4) -> list[str]:
    pairs = [f"{_num(t)} {_num(val)}" for t, val in zip(times, values)]
    lines = [f"{name} {node} 0 PWL("]
    for k in range(0, len(pairs), per_line):
        lines.append("+ " + "  ".join(pairs[k:k + per_line]))
    lines.append("+ )")
    return lines


def source_breakpoints(schedule: RowSchedule, network: int = 0, period: float | None = None):
    """PWL breakpoints of the row schedule for one network.

    Returns ``time`` (P,), ``Vin`` (P, n_in), ``Vtarget`` (P, n_out), ``Vteach`` (P,).
    Row ``k`` starts at ``k * period`` (default ``t_row``; with autozero ``t_az + t_row``,
    the phase first) at the previous row's values and reaches its own values at
    ``k * period + t_edge``; the first row has no edge (the sources start at row 0's
    values, as in the native engine).
    """
    period = schedule.t_row if period is None else period
    if schedule.t_edge <= 0:
        raise ValueError("a PWL source needs t_edge > 0; use with_edges(schedule)")
    order = schedule.order[network if schedule.order.shape[0] > 1 else 0]  # (E, R)
    E, R = order.shape
    rows = order.reshape(-1)
    vteach = np.repeat(np.asarray(schedule.Vteach, float), R)
    X, Y = np.asarray(schedule.dataset.X, float), np.asarray(schedule.dataset.Y, float)
    k = np.arange(E * R)
    t0 = k * period
    times = np.empty(2 * E * R + 1)
    times[0::2][:-1], times[1::2] = t0, t0 + schedule.t_edge
    times[-1] = E * R * period
    idx = np.empty(2 * E * R + 1, int)
    prev = np.concatenate([[rows[0]], rows[:-1]])
    idx[0::2][:-1], idx[1::2], idx[-1] = prev, rows, rows[-1]
    vt_prev = np.concatenate([[vteach[0]], vteach[:-1]])
    vt = np.empty(2 * E * R + 1)
    vt[0::2][:-1], vt[1::2], vt[-1] = vt_prev, vteach, vteach[-1]
    return times, X[idx], Y[idx], vt


# Qinj: |dVteach/dt| is read as the current of a small capacitor on vteach, in series
# with a 0 V source. The solver integrates that current as it integrates the weight
# capacitors', so an edge injects exactly Qinj per volt (ngspice's ddt() differentiates
# the PWL corners numerically and was measured 5-10 % off per edge).
QINJ_SENSE_C = 1e-15  # F


def _qinj_sense(Vteach0: float) -> list[str]:
    """The sensing capacitor, charged to the first ``Vteach`` (``uic`` would else start
    it at 0 V and inject at t = 0)."""
    return ["* Vteach edges: the current of Cdvteach is QINJ_SENSE_C * dVteach/dt",
            f"Cdvteach vteach vdvteach {QINJ_SENSE_C!r} IC={_num(Vteach0)}",
            "Vdvteach vdvteach 0 DC 0"]


def _node_parts(node, name: str, vw_node: str, options) -> list[str]:
    """The weight node's imperfections ([nonideal]) as elements: the leakage resistor,
    the charge the Vteach switch injects while Vteach moves (Qinj per volt, a current
    Qinj*|dVteach/dt|), and the supply rails as a clamp: a current of
    ``options.rail_conductance`` times the overshoot draws the node back, so the
    node passes a rail by at most (current / conductance)."""
    out = []
    if node.R_leak != 0:
        out.append(f"Rleak_{name} {vw_node} 0 {_num(node.R_leak)}")
    if node.Qinj != 0:  # |dVteach/dt| from the sensing capacitor (see QINJ_SENSE)
        out.append(f"Bqinj_{name} 0 {vw_node} I={_num(node.Qinj / QINJ_SENSE_C)}"
                   "*abs(i(Vdvteach))")
    if node.rails:
        G, v = _num(options.rail_conductance), f"v({vw_node})"
        out.append(f"Brail_{name} {vw_node} 0 I={G}*(max({v}-{_num(node.Vmax)},0)"
                   f"+min({v}-{_num(node.Vmin)},0))")
    return out


SUPPLY = "Vdd"
"""The DC source of ``Vdd`` every block instance draws its ``Isupply`` from (node
``vdd``); ``-Vdd * i(Vdd)`` is the static power ngspice measures."""
SUPPLY_TAGS = {"multiplier.forward": "mf", "multiplier.delta": "md", "multiplier.charge": "mc",
               "multiplier.type2": "mt", "activation": "act", "derivative": "der",
               "type2": "t2", "error": "err", "charging": "ch"}


def supply_lines(circuit: Circuit) -> list[str]:
    """The supply (power only, :mod:`aann.energy`): a DC source ``Vdd`` on node ``vdd`` and
    per block instance a current source drawing its ``Isupply`` from it,
    ``Isup_<block>_l<L>_<index>`` (the instance's index in its layer's array,
    :func:`aann.blocks.instance_shapes`); instances that draw nothing are left out. Nothing
    else touches ``vdd``: the training transient is unchanged."""
    from ...blocks import instance_shapes

    out = ["* Supply (power only): each block instance draws its static Isupply from vdd;",
           "*   -Vdd*i(Vdd) is the static power (aann.energy)",
           f"{SUPPLY} vdd 0 DC {_num(circuit.Vdd)}"]
    for l, layer in enumerate(instance_shapes(circuit.sizes, circuit.rule)):
        for name, shape in layer.items():
            if not hasattr(circuit.block(name, l), "Isupply"):
                continue
            for index in np.ndindex(*shape):
                current = block_at(circuit, name, l, index).Isupply
                if float(current) != 0:
                    tag = "_".join(str(i + 1) for i in index)
                    out.append(f"Isup_{SUPPLY_TAGS[name]}_l{l + 2}_{tag} vdd 0 DC "
                               f"{_num(current)}")
    return out + [""]


def _subckt_name(L: int, j: int, per_neuron: bool) -> str:
    return f"neuron_l{L}_n{j + 1}" if per_neuron else f"neuron_l{L}"


def _subckt(circuit: Circuit, l: int, j: int | None) -> list[str]:
    """The subcircuit of layer index ``l`` (``j``: of its neuron j alone)."""
    out = []
    add = out.append
    n_in, L = circuit.sizes[l], l + 2
    ex = neuron_expressions(circuit, l, j or 0)
    ports = [f"x{i}" for i in range(n_in + 1)] + [f"w{i}" for i in range(n_in + 1)] + \
        ["vteach", "ve", "vout", "vd", "vdelta"]
    if has_type2(circuit, l):
        ports += [f"ie{i}" for i in range(1, n_in + 1)]
    if has_feedback(circuit, l):
        ports += [f"fb{i}" for i in range(1, n_in + 1)]
    ports += cancellation_ports(circuit, n_in)
    rule = circuit.rule
    who = f"Neuron {j + 1} of layer {L}" if j is not None else f"Neuron of layer {L}"
    add(f"* {who} ({n_in} inputs): x0 = Vbias, x1..x{n_in} inputs, w0..w{n_in}"
        " weight capacitor nodes,")
    add("*   vteach learning gate, ve error in, vout output, vd/vdelta probes"
        + (f", ie1..ie{n_in} Type2 error currents out" if has_type2(circuit, l) else "")
        + (f", fb1..fb{n_in} the rule's fixed feedback voltages." if has_feedback(circuit, l)
           else "."))
    add(f"* Learning rule {rule.name!r} (aann.rules): the operands of the delta, charge and "
        "Type2 multipliers")
    add(f".subckt {_subckt_name(L, j or 0, j is not None)} " + " ".join(ports))
    add("* Eq. 5: forward multipliers (role forward: input 1 = Vw, input 2 = x); their")
    add("* currents sum at node inet into Ru, so v(inet) = Ru * Inet, the voltage image u")
    add("* of Inet that Eq. 7 uses")
    tau = ex["tau"]
    if tau:
        add("* Bandwidth (f3dB): a pole on an output is an RC lag from the law's node <out>_u,")
        add(f"*   R = {LAG_R:g} Ohm, C = tau; the summing nodes inet and ve get C = tau / R")
    for i, expr in enumerate(ex["Imult"]):
        add(f"Bm{i} 0 inet I={expr}")
    add(f"Ru inet 0 {_num(ex['Ru'])}")
    if "u" in tau:
        add(f"Cu inet 0 {_num(tau['u'] / ex['Ru'])}")
    add("* Eq. 6: activation, Vout = sigmoid(Inet)")
    out.extend(_output("vout", "vout", ex["Vout"], tau.get("Vout")))
    add("* Eq. 7: sigmoid derivative of the same Inet")
    out.extend(_output("vd", "vd", ex["Vd"], tau.get("Vd")))
    a, b = rule.operands_text("delta", ("VE", "Vd"))
    add(f"* multiplier role delta (rule {rule.name}: input 1 = {a}, input 2 = {b}) read through "
        f"1/Km: Vdelta = {a} * {b}")
    out.extend(_output("vdelta", "vdelta", ex["Vdelta"], tau.get("Vdelta")))
    a, b = rule.operands_text("charge", ("Vdelta", "x_i"))
    add("* Eq. 9: charging currents into the weight capacitors, multiplier role charge")
    add(f"*   (rule {rule.name}: input 1 = {a}, input 2 = {b}): Icharged = -Keta*Vteach*{a}*{b}")
    if "Vgrad" in tau:
        for i, expr in enumerate(ex["Vgrad"]):
            out.extend(_output(f"vgrad{i}", f"vgrad{i}", expr, tau["Vgrad"]))
    cancel = circuit.cancellation
    if isinstance(cancel, Chopper):
        if cancel.demodulator == "output":
            add("* Chopper (docs/cancellation.md): each charging source's current is "
                "demodulated by")
            add("*   the square wave on port vchop, s = +-1: the capacitor gets s * Icharged")
            if cancel.charging_periods:
                add("*   and the sources' own chopper on port vchop2, s2 = +-1: each source "
                    "reads s2 * Vgrad, the capacitor gets s * s2 * Icharged")
        else:
            add("* Chopper (docs/cancellation.md): each charging source's input is "
                "demodulated by")
            add("*   the square wave on port vchop, s = +-1: the source reads s * Vgrad")
    if isinstance(cancel, Autozero):
        add("* Autozero (docs/cancellation.md): while port vsample is 1 (the phase, error forced")
        add("*   to 0) each C_az on port az<i> tracks what reaches the source (time constant "
            f"{_num(_sample_tau(cancel))} s),")
        add("*   then holds it; the source reads Vgrad - v(az<i>)"
            + (f" - Q_inj/C_az ({_num(cancel.Q_inj / cancel.C_az)} V)" if cancel.Q_inj != 0
               else "") + " and is off while port vphase is 1")
        for i, expr in enumerate(ex["Ihold"]):
            add(f"Caz{i} az{i} 0 {_num(cancel.C_az)}")
            add(f"Bsh{i} 0 az{i} I={expr}")
    for i, expr in enumerate(ex["Icharged"]):
        add(f"Bch{i} 0 w{i} I={expr}")
    if has_type2(circuit, l):
        a, b = rule.operands_text("type2", ("Vdelta", "Vw_i", "Vfb_i")[
            :3 if has_feedback(circuit, l) else 2])
        add(f"* Eq. 15-16: Type2 error currents IE_i = K_E * {a} * {b} into the layer below,")
        add(f"*   multiplier role type2 (rule {rule.name}: input 1 = {a}, input 2 = {b})")
        for i, expr in enumerate(ex["IE"], start=1):
            add(f"Bie{i} 0 ie{i} I={expr}")
    add(f".ends {_subckt_name(L, j or 0, j is not None)}")
    add("")
    return out


def cancellation_ports(circuit: Circuit, n_in: int) -> list[str]:
    """The ports a neuron's subcircuit has for the offset cancellation: ``vchop`` (the
    chopper's square wave; and ``vchop2``, the sources' own chopper's), or ``vphase``,
    ``vsample`` (the autozero phase and its sampling switch) and ``az0..azN`` (the held
    values, one per charging source)."""
    cancel = circuit.cancellation
    if isinstance(cancel, Chopper):
        return ["vchop", "vchop2"] if cancel.charging_periods else ["vchop"]
    if isinstance(cancel, Autozero):
        return ["vphase", "vsample", *(f"az{i}" for i in range(n_in + 1))]
    return []


def az_node(L: int, j: int, i: int) -> str:
    """The autozero capacitor's node of the charging source of weight ``vw(L, j, i)``."""
    return f"az_l{L}_n{j}_i{i}"


def _pulse(name: str, node: str, v1, v2, td, tr, tf, pw, per) -> str:
    return (f"{name} {node} 0 PULSE({_num(v1)} {_num(v2)} {_num(td)} {_num(tr)} {_num(tf)} "
            f"{_num(pw)} {_num(per)})")


def cancellation_sources(circuit: Circuit, t_row: float) -> list[str]:
    """The offset cancellation's clock sources (docs/cancellation.md), each edge
    ``SWITCH_EDGE`` of its interval long and centred on the native engine's instant:
    the chopper's square wave ``vchop`` (``s``: +1 in the first half of each of the
    ``periods_per_row`` periods of a row, -1 in the second; at ``phase`` 90 a quarter
    period earlier) and the sources' own ``vchop2`` (``s2``: ``charging_periods`` at
    phase 90); autozero's ``vphase`` (1 during ``[k T, k T + t_az]``, ``T = t_row +
    t_az``: error forced to 0, sources off) and ``vsample`` (the sampling switch, opened
    one edge before the phase ends)."""
    cancel = circuit.cancellation
    if isinstance(cancel, Chopper):
        h = cancel.half_period(t_row)
        tr = SWITCH_EDGE * h
        first = cancel.switching_times(t_row)[0]
        lines = ["* Chopper: s(t) = +-1, "
                 f"{cancel.periods_per_row} period(s) a row ({cancel.frequency(t_row):g} Hz)"
                 + (f", phase {cancel.phase}" if cancel.phase else ""),
                 _pulse("Vchop", "vchop", 1, -1, first - tr / 2, tr, tr, h - tr, 2 * h)]
        if cancel.charging_periods:
            h2 = t_row / (2 * cancel.charging_periods)
            tr2 = SWITCH_EDGE * h2
            lines += [f"* the sources' own chopper: s2(t) = +-1, {cancel.charging_periods} "
                      "period(s) a row, phase 90",
                      _pulse("Vchop2", "vchop2", 1, -1, h2 / 2 - tr2 / 2, tr2, tr2, h2 - tr2,
                             2 * h2)]
        return lines
    if isinstance(cancel, Autozero):
        T, t_az = cancel.row_period(t_row), cancel.t_az
        tr = SWITCH_EDGE * t_az
        return [f"* Autozero: a phase of {t_az:g} s before every row (rows every {T:g} s)",
                _pulse("Vphase", "vphase", 1, 0, t_az - tr / 2, tr, tr, t_row - tr, T),
                _pulse("Vsample", "vsample", 1, 0, t_az - 2 * tr, tr, tr, t_row + tr / 2, T)]
    return []


def _settled_lags(circuit: Circuit, W0, sources, lagged) -> list[str]:
    """``.ic`` lines starting every lagged node at its DC value for the initial weights
    and the first row (what the native engine starts from; ``uic`` would start them
    at 0 V)."""
    import jax.numpy as jnp

    settled = circuit.settle(tuple(jnp.asarray(w) for w in W0),
                             *(jnp.asarray(a, float) for a in sources), lagged,
                             start_switches(circuit.cancellation))
    out = ["* Bandwidth: the lagged nodes start settled (DC) at the first row"]
    for l, values in enumerate(settled):
        L = l + 2
        for name, value in values.items():
            value = np.asarray(value)
            for j in range(value.shape[0]):
                x = f"xn_l{L}_n{j + 1}"
                nodes = {"u": [f"{x}.inet"], "Vout": [vout(L, j + 1)], "Vd": [f"vd_l{L}_n{j + 1}"],
                         "Vdelta": [f"vdelta_l{L}_n{j + 1}"], "VE": [ve(L, j + 1)],
                         "Vgrad": [f"{x}.vgrad{i}" for i in range(value.shape[-1])]}[name]
                for node, x_ in zip(nodes, np.atleast_1d(value[j])):
                    out.append(f".ic v({node})={_num(x_)}")
    return out


def network_netlist(circuit: Circuit, W0, schedule: RowSchedule, network: int = 0,
                    options: SpiceOptions = SpiceOptions(), title: str | None = None,
                    save: str = "weights") -> str:
    """The netlist of one network (one set of initial weights ``W0``, per layer
    (n_out, n_in + 1) in V) trained by ``schedule`` (which must have ``t_edge > 0``).

    ``save``: ``"weights"`` saves the weights and the sources (what the engine
    reads back), ``"probes"`` adds every neuron's ``Vout``, ``VE``; ``"all"``
    writes no ``.save`` line (ngspice then saves every node).
    """
    sizes = tuple(circuit.sizes)
    W0 = [np.asarray(W, float) for W in W0]
    n_layers = len(sizes) - 1
    E, R = schedule.epochs, schedule.order.shape[-1]
    cancel = circuit.cancellation
    t_row, t_edge = schedule.t_row, schedule.t_edge
    check_edges(cancel, t_row, t_edge)
    period = row_period(cancel, t_row)  # with autozero the phase before every row
    t_stop = E * R * period
    c = circuit.charging
    lam = row_learning_rate(c.Keta, c.C, float(np.max(schedule.Vteach, initial=0.0)), t_row)
    out = []
    add = out.append
    add(f"* {title or 'aann: analogue neural network with learning by backpropagation'}")
    add("* Paulu & Hospodka, Radioengineering 30(2) 2021; behavioural circuit of Fig. 1/6/7.")
    add("* Written by aann (engines/spice/netlist.py); every B-source expression is the block")
    add("* law of aann.blocks written as a SPICE expression, so it matches the native engine.")
    add(f"* topology {'-'.join(map(str, sizes))}: {Network(sizes).n_capacitors}"
        f" weight capacitors; data set {schedule.dataset.name!r}, {R} rows x {E} epochs")
    add(f"* t_row = {t_row:g} s, row edges t_edge = {t_edge:g} s (linear PWL ramps), "
        f"run {t_stop:g} s, lambda = Keta/C*Vteach*t_row = {lam:g}")
    if cancel is not None:
        add(f"* Offset cancellation of the error path: {cancel.method} (docs/cancellation.md)")
    if circuit.charging.noisy:
        add("* NOTE: the description has noise ([nonideal] temperature / shot_noise); it is")
        add("* simulated by aann's native engine only: this netlist is the noiseless circuit.")
    add("* Units: V, A, s, F, Ohm. Nodes: vin<i>, vtarget<k>, vteach, vbias,")
    add("*   vw_l<L>_n<j>_i<i> weight of neuron j of layer L from input i (i=0: bias),")
    add("*   vout_l<L>_n<j>, vd_l<L>_n<j> (sigmoid derivative), vdelta_l<L>_n<j> (VE*Vd),")
    add("*   ve_l<L>_n<j> (error VE). Layer 1 is the inputs, as in the paper.")
    add("")

    # Subcircuits (the Fig. 6 symbol): one per layer, or one per neuron when the
    # instances have their own constants (a Monte Carlo sample).
    per_neuron = circuit.instances is not None
    if per_neuron:
        add("* Monte Carlo sample: every instance has its own constants, so every neuron has")
        add("* its own subcircuit (neuron_l<L>_n<j>), its capacitors their own C.")
        add("")
    for l in range(len(sizes) - 1):
        for j in range(sizes[l + 1] if per_neuron else 1):
            out.extend(_subckt(circuit, l, j if per_neuron else None))

    # Sources.
    times, Xs, Ys, Vts = source_breakpoints(schedule, network, period)
    add(f"* Sources: {E * R} rows, each starting with a {t_edge:g} s linear edge from the "
        "previous row")
    add(f"Vbias vbias 0 DC {_num(circuit.Vbias)}")
    for i in range(sizes[0]):
        out.extend(_pwl(f"Vin{i + 1}", f"vin{i + 1}", times, Xs[:, i]))
    for k in range(sizes[-1]):
        out.extend(_pwl(f"Vtarget{k + 1}", f"vtarget{k + 1}", times, Ys[:, k]))
    if np.all(Vts == Vts[0]):
        add(f"Vteach vteach 0 DC {_num(Vts[0])}")
    else:
        out.extend(_pwl("Vteach", "vteach", times, Vts))
    if np.any(np.asarray(circuit.block("charging", 0).Qinj) != 0) or any(
            np.any(np.asarray(circuit.block("charging", l).Qinj) != 0)
            for l in range(n_layers)):
        out.extend(_qinj_sense(Vts[0]))
    out.extend(cancellation_sources(circuit, t_row))
    add("")
    out.extend(supply_lines(circuit))

    # Weight capacitors and neurons.
    lagged = circuit.lagged()
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        L = l + 2
        x = layer_inputs(sizes, l)
        add(f"* Layer {L}: {n_out} neuron(s), {n_in} input(s) each")
        for j in range(n_out):
            ws = [vw(L, j + 1, i) for i in range(n_in + 1)]
            for i, node in enumerate(ws):
                node_block = block_at(circuit, "charging", l, (j, i))
                name = f"l{L}_n{j + 1}_i{i}"
                add(f"Cw_{name} {node} 0 {_num(node_block.C)} IC={_num(W0[l][j, i])}")
                out.extend(_node_parts(node_block, name, node, options))
            nodes = [*x, *ws, "vteach", ve(L, j + 1), vout(L, j + 1), f"vd_l{L}_n{j + 1}",
                     f"vdelta_l{L}_n{j + 1}"]
            if has_type2(circuit, l):
                nodes += [ve(L - 1, i) for i in range(1, n_in + 1)]
            if has_feedback(circuit, l):  # the rule's fixed voltages: DC sources
                for i in range(1, n_in + 1):
                    add(f"Vfb_l{L}_n{j + 1}_i{i} {vfb(L, j + 1, i)} 0 DC "
                        f"{_num(feedback_at(circuit, l, j, i))}")
                nodes += [vfb(L, j + 1, i) for i in range(1, n_in + 1)]
            nodes += [az_node(L, j + 1, int(p[2:])) if p.startswith("az") else p
                      for p in cancellation_ports(circuit, n_in)]
            add(f"Xn_l{L}_n{j + 1} " + " ".join(nodes) + f" {_subckt_name(L, j, per_neuron)}")
        # the pole of the error node: the error block's (output layer) or the Type2
        # multipliers' of the layer above (their currents summed into R_E)
        tau = time_constant(circuit, l, "VE") if "VE" in lagged[l] else None
        if l < n_layers - 1:
            source = circuit.rule.type2_source(l + 1, n_layers)
            add(f"* Type2 error of layer {L}: VE_j = R_E * sum_k IE_kj (the currents from "
                f"layer {L + 1})" if source == l + 1 else
                f"* Type2 error of layer {L}: VE_j = R_E * sum_k IE_kj, IE_kj from the deltas "
                f"of layer {source + 2} (rule {circuit.rule.name})")
            if source != l + 1:
                a, b = circuit.rule.operands_text("type2", ("Vdelta_k", "Vw_kj", "Vfb_kj")[
                    :3 if circuit.rule.feedback(l + 1) is not None else 2])
                add(f"*   multiplier role type2 (input 1 = {a}, input 2 = {b}); nodes "
                    f"vfb_l{source + 2}_n<k>_to_l{L}_n<j>")
                out.extend(_direct_stage(circuit, l + 1))
            for j in range(n_out):
                R_E = block_at(circuit, "type2", l + 1, j).R_E
                add(f"RE_l{L}_n{j + 1} {ve(L, j + 1)} 0 {_num(R_E)}")
                if tau is not None:  # the Type2 multipliers' pole at their summing node
                    add(f"CE_l{L}_n{j + 1} {ve(L, j + 1)} 0 {_num(tau / R_E)}")
        else:
            add("* Type1 error of the output layer (Eq. 14): VE = Vout - Vtarget"
                + {None: "", "chopper": "; the chopper swaps its inputs while vchop = -1",
                   "autozero": "; Vtarget replaced by Vout while vphase = 1 (the error "
                               "forced to 0)"}[None if cancel is None else cancel.method])
            for j in range(n_out):
                error = block_at(circuit, "error", l, j)
                expr = error.VE(*error_inputs(
                    v(vout(L, j + 1)), v(f"vtarget{j + 1}"),
                    sign=v("vchop") if isinstance(cancel, Chopper) else None,
                    phase=v("vphase") if isinstance(cancel, Autozero) else None), m=SPICE)
                out.extend(_output(f"E_l{L}_n{j + 1}", ve(L, j + 1), expr, tau))
        add("")
    if any(lagged):
        out.extend(_settled_lags(circuit, W0, (Xs[0], Ys[0], Vts[0]), lagged))
        add("")

    # Analysis.
    if save != "all":
        vectors = [f"v({n})" for W in weight_nodes(sizes) for n in W.reshape(-1)]
        vectors += [f"v(vin{i + 1})" for i in range(sizes[0])]
        vectors += [f"v(vtarget{k + 1})" for k in range(sizes[-1])]
        vectors += ["v(vteach)"] + [f"v({vout(n_layers + 1, k + 1)})" for k in range(sizes[-1])]
        if isinstance(cancel, Chopper):
            vectors += ["v(vchop)"] + (["v(vchop2)"] if cancel.charging_periods else [])
        if isinstance(cancel, Autozero):  # what the engine reads back for the currents
            vectors += ["v(vphase)"] + [f"v({az_node(l + 2, j + 1, i)})"
                                        for l, (rows_, cols) in enumerate(weight_shapes(sizes))
                                        for j in range(rows_) for i in range(cols)]
        vectors += [f"i({SUPPLY})"]  # the supply current: the static power
        if save == "probes":
            vectors += [f"v({f(l + 2, j + 1)})" for l in range(n_layers)
                        for j in range(sizes[l + 1]) for f in (vout, ve)]
        vectors = list(dict.fromkeys(vectors))
        add("* Vectors written to the raw file")
        for k in range(0, len(vectors), 6):
            add(".save " + " ".join(vectors[k:k + 6]))
    max_step = t_row / options.steps_per_row
    add("* Tolerances scaled to this circuit (ps times, 0.1 pF, up to ~0.1 A): see docs/spice.md")
    add(options.options_line())
    add(f".tran {_num(max_step)} {_num(t_stop)} 0 {_num(max_step)} uic")
    add(".end")
    return "\n".join(out) + "\n"
