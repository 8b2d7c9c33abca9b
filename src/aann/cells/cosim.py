"""Co-simulation: a whole network of transistor-level cells in ngspice.

Every multiplier (forward, delta, charge, type2), neuron and derivative block is
its cell of :mod:`aann.cells.library`. What joins them, the glue, is chosen by
``glue``:

* ``"ideal"`` (the default): the Type1 error block is a B-source ``VE = Vout -
  Vtarget``, the transresistances ``1/Km`` that read a product (delta, type2 sums)
  as a voltage are ideal resistors, each neuron's net current is copied into its
  derivative cell by a current-controlled current source, and the charging source
  ``Icharged = -Keta (Vteach/1V) I_charge/Km`` is a B-source of the charge
  multiplier's measured output current;
* ``"cells"``: every one of these is a cell too (docs/cells.md, "Glue cells"): the
  ``error`` cell, ``aann_transresistance`` (an ``xhigh_po`` resistor drawn for the
  multiplier's ``Km`` at tt), ``aann_derivative_core`` on the neuron's own input
  node (no copy of ``Inet``), and per weight the charge multiplier's current read by
  a transresistance into the ``charging`` cell, whose ``Keta`` (49.7 uS at tt) is
  the cell's own: ``lambda = Keta t_row / C`` is set by ``C`` and ``t_row``, and
  ``Vteach`` is the cell's logic input (``vdd``: learn, 0: hold). ``weights``
  (glue cells only) says what holds a weight: ``"capacitor"`` (the default), the
  capacitor to ``Vcm`` that the charging cell charges directly; ``"integrator"``, the
  capacitor in the feedback of an ``aann_integrator`` whose virtual ground the
  charging cell drives (its ``vgrad`` and ``vcm`` ports swapped: the integrator
  inverts) through a ``switch`` cell, closed while ``Vteach`` is high: learning is
  switched off by the switch, the charging cell stays biased (docs/cells.md,
  "Integrator (weight cell)"); ``"chopped"``, the chopped differential path of
  :mod:`aann.cells.chopped` (below).

``weights = "chopped"`` (glue cells only; docs/cells.md, "Chopped charging path"): a
chopper of ``chopper_periods`` periods of its clock ``s`` a row at ``chopper_phase``
(:class:`aann.cancellation.Chopper`: at 0 ``s`` is high, ``+1``, in the first half of each
period; at 90 in its first and last quarters). Its input modulator is a quad of ``switch``
cells at each output's ``error`` cell, swapping ``Vout`` and ``Vtarget`` with ``s``: every
error, delta and gradient downstream is chopped. Per weight an ``aann_charging_diff`` reads
the charge multiplier's transresistance node (``vgrad``; its ``vteach`` at ``vdd``: always
biased, its common-mode loop running), its two output currents demodulated by a quad of
``switch`` cells into an ``aann_integrator_fd`` with ``C`` from ``inp`` to ``outn`` and
from ``inn`` to ``outp``: the weight is ``V(outp) - V(outn)``, ``dW/dt = -Keta Vgrad / C``
as on a capacitor. The quads' clocks are ``s`` and ``sb`` gated by ``Vteach`` (ideal PWL
sources ``cs = s AND teach``, ``cx = sb AND teach`` and their complements): in the read-out
epoch all four switches of every quad are open and ``s`` is held at ``+1`` (the modulator
straight), and two more ``switch`` cells per weight, clocked by ``Vteach``'s complement,
dump the cell's outputs into ``vcm`` (left floating, their nodes have only the switches'
junctions: ngspice then takes nanosecond steps). Every multiplier is the ``multiplier``
cell's variant with a reference port per input (``v1 v1r v2 v2r out vcm vdd vss``, the
gates of its two reference devices, tied to ``vcm`` in the cell): a multiplier reading a
weight reads ``V(outp) - V(outn)`` (forward: ``v1``/``v1r``; Type2: ``v2``/``v2r``), every
other input is referred to ``vcm``. ``.ic``: each side of a weight ``W0`` at ``Vcm +-
W0/2``, the virtual grounds at ``Vcm`` (a run that continues another takes them from its
``state``: :func:`cosim_netlist`).

``charging_periods`` (chopped weights only; ``[offset_cancellation] charging_periods``):
the charging cells' own chopper, nested inside the network's. The charging cell's mismatch offset
(some 200 to 330 nA, 4 to 6.5 mV at its input, with the PDK's mismatch; docs/cells.md,
"Chopped charging path") is inside the network's chopper, so it averages out over each
period but rides every weight as a triangle of ``lambda Voff / (4 chopper_periods)``:
tens of millivolts at one period a row, which the sigmoids bend into a bias. A second
clock ``s2`` of ``charging_periods`` periods a row at phase 90 swaps each cell's two
inputs (a quad of ``switch`` cells: the transresistance node and ``vcm`` into
``aann_charging_diff_ref``'s ``vgrad`` and ``vref``), and the demodulating quads switch
with ``s XOR s2``: the gradient passes (``s2^2 = 1``), the cell's offset is chopped by
``s s2`` and its triangle is ``charging_periods / chopper_periods`` times smaller. A whole
multiple of ``2 chopper_periods``, so that no edge of ``s2`` meets one of ``s`` (where the
demodulator would not switch and the triangle's middle would step with ``s``). ``s2`` is
held high in the read-out epoch.

``multiplier``: the cell in every multiplier role, ``"multiplier"`` or
``"multiplier_lm"``; with the glue cells the transresistances are drawn for its ``Km``
(``aann_transresistance``, or ``aann_transresistance_lm``: :data:`TRANSRESISTANCE_LM_L`).

The weight capacitors and the sources of the inputs, targets, ``Vbias`` and the
clocks are ideal in both. Signals are node voltages less ``Vcm``.

``trim``: a voltage source in series with each multiplier input and a current
source at its output that cancel the cell's offsets (``Voff1``, ``Voff``, ``Ioff``
in the law's convention; take them at the cell's null,
:meth:`~aann.cells.characterization.Characterization.null_offsets`): the "all
trimmed" case of ``aann reproduce transistor``, at transistor level.

``rule``: the learning rule (:mod:`aann.rules`, default the paper's backprop) says
what the delta, charge and Type2 multiplier cells read. Its operand methods are
called with the nodes' signals as :class:`aann.blocks.Expr` (``V(node) - V(vcm)``):
an operand that is a node's signal itself wires the cell input to that node; any
other expression (e.g. ``0.5 * Vw``, a constant) drives the cell input through an
ideal B-source ``V = expression`` above ``Vcm`` (glue: no cell computes it); the
rule's fixed feedback voltages (:meth:`aann.rules.Rule.feedback`) are ideal DC
sources above ``Vcm``. The Type2 cells that make a hidden layer's error read the
deltas of the layer the rule names (:meth:`aann.rules.Rule.type2_source`): under
direct feedback alignment the output layer's, one stage of ``(n_out, n_hidden)``
cells per hidden layer, whatever the depth.
"""

from __future__ import annotations

import numpy as np

from ..blocks import SPICE, Expr
from .library import CELLS, GLUE, TRANSRESISTANCE, TRANSRESISTANCE_L, VCM, VDD, Cell
from .models import model_lines, run_with_models


def _pwl(times, values) -> str:
    return "PWL(" + " ".join(f"{t:.9g} {v:.9g}" for t, v in zip(times, values)) + ")"


def _row_waveform(values, t_row: float, epochs: int, t_edge: float, continued: bool = False):
    """PWL points holding ``values[r]`` over row r of every epoch, edges ``t_edge``;
    ``continued``: the first row too has its edge, from the last row's value (the rows
    of a run that continues another, as in one long run)."""
    times, out = ([0.0, t_edge], [values[-1], values[0]]) if continued else ([0.0], [values[0]])
    rows = len(values)
    for n in range(epochs * rows):
        v = values[n % rows]
        start = n * t_row
        if n:
            times.append(start + t_edge)
            out.append(v)
        times.append(start + t_row)
        out.append(v)
    return times, out


EDGE_FRACTION = 1e-2  # the row edges take this fraction of t_row
GLUES = ("ideal", "cells")
"""What joins the cells of a co-simulation (the module's docstring)."""
WEIGHTS = ("capacitor", "integrator", "chopped")
"""What holds a weight with the glue cells (the module's docstring)."""
MULTIPLIERS = ("multiplier", "multiplier_lm")
"""The cells that can take every multiplier role (``multiplier``)."""
KM_LM = 1.27e-4
"""A/V^2: ``Km`` of ``multiplier_lm`` at tt (docs/cells.md, "Low-mismatch multiplier")."""
KM_TT = {"multiplier": 6.55e-5, "multiplier_lm": KM_LM}
"""A/V^2: each multiplier cell's ``Km`` at tt, that its transresistance is drawn for."""
KETA_TT = 49.7e-6
"""S: the charging cell's ``Keta`` at tt (docs/cells.md, "Glue cells"; the chopped
differential path's, 49.5 uS, within 0.4 %)."""
CELL_CONSTANT_TOLERANCE = 0.05
"""How far a description's ``Keta``, ``Km`` may be from the cells' (:func:`check_runnable`)."""
TRANSRESISTANCE_LM_L = 1.1
"""The length (um) of ``aann_transresistance_lm``: ``1/Km`` = 7.87 kOhm for
``multiplier_lm``'s :data:`KM_LM`, chosen as :data:`aann.cells.library.TRANSRESISTANCE_L`
was: the PDK's resistor equation (:func:`aann.cells.glue.pdk_resistance`, 0.35 um
``xhigh_po`` at 27 C) solved for ``1/Km`` (1.097 um), rounded to 0.1 um (0.3 %)."""


def transresistance_cell(multiplier: str = "multiplier") -> Cell:
    """The transresistance ``1/Km`` for ``multiplier``'s ``Km``: the library's
    ``aann_transresistance`` for ``"multiplier"``; for ``"multiplier_lm"`` the same text
    with :data:`TRANSRESISTANCE_LM_L`, named ``aann_transresistance_lm``."""
    if multiplier == "multiplier":
        return GLUE["transresistance"]
    old = f"XR in vcm vss sky130_fd_pr__res_xhigh_po_0p35 l={TRANSRESISTANCE_L:g}"
    assert TRANSRESISTANCE.count(old) == 1 and TRANSRESISTANCE.count("15.3 kOhm") == 1
    text = (TRANSRESISTANCE.replace(old, old.replace(f"l={TRANSRESISTANCE_L:g}",
                                                     f"l={TRANSRESISTANCE_LM_L:g}"))
            .replace("15.3 kOhm for the Gilbert cell's Km = 6.55e-5",
                     f"{1 / KM_LM / 1e3:.2f} kOhm for multiplier_lm's Km = {KM_LM:g}")
            .replace("aann_transresistance", "aann_transresistance_lm"))
    return Cell("aann_transresistance_lm", "transresistance", GLUE["transresistance"].ports,
                text)


def differential_multiplier(multiplier: str = "multiplier") -> Cell:
    """``multiplier``'s cell with a reference port per input, ``v1 v1r v2 v2r out vcm vdd
    vss``, named ``<cell>_diff``: the gate of input 1's reference device (``XM7``, tied to
    ``vcm`` in the cell) reads ``v1r``, that of input 2's (``XM1``) reads ``v2r``, so the
    law reads ``(V(v1) - V(v1r)) (V(v2) - V(v2r))``; the same devices otherwise (with
    both references at ``vcm`` it is the cell)."""
    cell = CELLS[multiplier]
    name = cell.name
    swaps = [(f".subckt {name} v1 v2 out vcm vdd vss",
              f".subckt {name}_diff v1 v1r v2 v2r out vcm vdd vss"),
             ("\nXM7 x vcm s3 s3 ", "\nXM7 x v1r s3 s3 "),
             ("\nXM1 a vcm s1 s1 ", "\nXM1 a v2r s1 s1 "),
             (f".ends {name}\n", f".ends {name}_diff\n")]
    text = cell.text
    for old, new in swaps:
        assert text.count(old) == 1, f"{name}: {old!r}"
        text = text.replace(old, new)
    head = (f"* {name} with a reference port per input (v1r: XM7's gate, v2r: XM1's; vcm "
            "in the cell)\n")
    return Cell(f"{name}_diff", "multiplier",
                ("v1", "v1r", "v2", "v2r", "out", "vcm", "vdd", "vss"), head + text)


def _spice_number(x: float) -> str:
    """``x`` in the shortest exponent form ngspice reads: 1e-4 -> ``1e-4``."""
    mantissa, exponent = f"{x:.6e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _glue_arguments(glue: str, Keta, Km, weights: str = "capacitor",
                    chopper_periods: int | None = None,
                    multiplier: str = "multiplier", chopper_phase: int = 0,
                    charging_periods: int | None = None) -> None:
    """A :class:`aann.ValidationError` for a ``glue`` not in :data:`GLUES`, for the
    ideal glue without its ``Keta`` and ``Km``, for ``Keta`` or ``Km`` given with
    the glue cells, whose charging cell and transresistances have their own, for
    ``weights`` not in :data:`WEIGHTS` or an integrator or chopper with the ideal glue,
    for ``chopper_periods`` not a whole number >= 1 with ``weights = "chopped"`` or given
    with other weights (``chopper_phase`` likewise: one of
    :data:`aann.cancellation.PHASES`, 0 unless chopped; ``charging_periods`` None or 0, or
    with chopped weights a whole multiple of ``2 chopper_periods``), and for a
    ``multiplier`` not in :data:`MULTIPLIERS`."""
    from ..cancellation import PHASES, nesting
    from ..errors import ValidationError

    if multiplier not in MULTIPLIERS:
        raise ValidationError(f"multiplier {multiplier!r} is not one of "
                              f"{', '.join(MULTIPLIERS)}")
    if weights == "chopped":
        if (isinstance(chopper_periods, bool) or not isinstance(chopper_periods, int)
                or chopper_periods < 1):
            raise ValidationError(f"weights = \"chopped\" needs chopper_periods, the "
                                  f"chopper's periods a row, a whole number >= 1 (got "
                                  f"{chopper_periods!r})")
        if isinstance(chopper_phase, bool) or chopper_phase not in PHASES:
            raise ValidationError(f"chopper_phase {chopper_phase!r} is not one of "
                                  f"{', '.join(map(str, PHASES))} (degrees)")
        why = nesting(charging_periods or 0, chopper_periods)
        if why:
            raise ValidationError(f"charging_periods = {charging_periods!r}: {why}")
    elif charging_periods:
        raise ValidationError(f"charging_periods is read only with weights = \"chopped\" "
                              f"(weights = {weights!r}): leave it 0")
    elif chopper_periods is not None:
        raise ValidationError(f"chopper_periods is read only with weights = \"chopped\" "
                              f"(weights = {weights!r}): leave it None")
    elif chopper_phase != 0:
        raise ValidationError(f"chopper_phase is read only with weights = \"chopped\" "
                              f"(weights = {weights!r}): leave it 0")
    if glue not in GLUES:
        raise ValidationError(f"glue {glue!r} is not one of {', '.join(GLUES)}")
    if weights not in WEIGHTS:
        raise ValidationError(f"weights {weights!r} is not one of {', '.join(WEIGHTS)}")
    if weights != "capacitor" and glue != "cells":
        raise ValidationError(f"weights = {weights!r} needs glue = \"cells\" (the ideal "
                              "glue's charging source drives the capacitor itself)")
    if glue == "ideal" and (Keta is None or Km is None):
        raise ValidationError("the ideal glue needs Keta and Km (its charging source and "
                              "transresistances)")
    if glue == "cells" and (Keta is not None or Km is not None):
        raise ValidationError("with glue = \"cells\" the charging cell and the "
                              "transresistances have their own Keta and 1/Km: pass "
                              "Keta = Km = None (set lambda with C and t_row)")


class _Signal(Expr):
    """A node's signal (its voltage above ``ref``, ``Vcm`` unless the signal is a
    differential weight's) as an expression that knows its node: what the rule's operand
    methods receive, so that an operand passed through unchanged is wired as the node
    itself (and ``ref`` as its reference, :func:`differential_multiplier`)."""

    __slots__ = ("node", "ref")

    def __init__(self, node: str, ref: str = "vcm"):
        super().__init__(f"(V({node})-V({ref}))")
        self.node, self.ref = node, ref


def check_runnable(config) -> None:
    """A :class:`aann.ValidationError` for what the cells cannot run: ``teach`` other
    than ``always``, ``order = "shuffle"``, offset cancellation other than the chopper
    of ``[cells] weights = "chopped"``, a dead zone; with ``[cells] glue = "cells"``, a
    ``[constants] Keta`` (times ``Vteach``) or ``[blocks.multiplier] Km`` more than
    :data:`CELL_CONSTANT_TOLERANCE` from the cells' own at tt (:data:`KETA_TT`,
    :data:`KM_TT`): the cells would learn at another ``lambda`` than the description's."""
    from ..errors import ValidationError

    t, cells = config.training, config.cells
    if t.teach != "always" or t.order != "sequential":
        raise ValidationError("--cells sky130 runs teach = \"always\" and order = "
                              "\"sequential\" only")
    chopped = cells.weights == "chopped"  # the description then has the chopper (spec)
    if (config.offset_cancellation.method != "none" and not chopped) \
            or config.nonideal.dead_zone > 0:
        raise ValidationError("--cells sky130 has no cells for offset cancellation other "
                              "than the chopper of [cells] weights = \"chopped\", nor for "
                              "the dead zone ([offset_cancellation] method, [nonideal] "
                              "dead_zone); run them on the cells' fitted laws with the "
                              "native or ngspice engine, chop with [cells] glue = \"cells\", "
                              "weights = \"chopped\", or set method = \"none\" and "
                              "dead_zone = 0")
    if cells.glue != "cells":
        return
    for what, given, own, why in (
            ("[constants] Keta * Vteach", config.constants.Keta * t.Vteach, KETA_TT,
             "the charging cells' transconductance: lambda = Keta t_row / C"),
            ("[blocks.multiplier] Km", config.blocks.multiplier.build().Km,
             KM_TT[cells.multiplier], f"the {cells.multiplier} cell's, that the "
             "transresistances are drawn for")):
        if not abs(given / own - 1) <= CELL_CONSTANT_TOLERANCE:
            raise ValidationError(
                f"{what} = {given:.4g} is not the cells' own {own:.4g} at tt ({why}; within "
                f"{CELL_CONSTANT_TOLERANCE:.0%}): with [cells] glue = \"cells\" the cells "
                f"set it; give {own:.4g}, or use glue = \"ideal\"")


def cosim_netlist(sizes, W0, X, Y, *, t_row: float, epochs: int, Keta: float | None,
                  C: float, Km: float | None, Vbias: float, corner: str = "tt",
                  temp: float = 27.0, trim: dict | None = None, steps_per_row: int = 20,
                  readout: bool = False, rule=None, save_read: bool = False,
                  glue: str = "ideal", weights: str = "capacitor",
                  chopper_periods: int | None = None, multiplier: str = "multiplier",
                  reltol: float = 1e-4, pdk_sample: int | None = None,
                  chopper_phase: int = 0, state: dict | None = None,
                  charging_periods: int | None = None) -> str:
    """The ngspice netlist of network ``sizes`` with initial weights ``W0`` (per layer,
    ``(n_out, n_in + 1)``, V) learning rows ``X`` -> ``Y`` (V) for ``epochs``; with
    ``readout``, one epoch more with ``Vteach`` = 0 (the weights held) to read the
    trained network's output on every row. ``rule``: the learning rule (None: backprop),
    whose operands drive the delta, charge and Type2 cells (see the module's docstring).
    ``save_read``: ngspice keeps only what :func:`run_cosim` reads (``.save``: the weights
    and the network's outputs), not every node of every cell (1-2-1: 8 vectors of 2391;
    writing them all took a fifth of the run); the simulation is the same. ``glue``:
    ``"ideal"`` (``Keta``, S, and ``Km``, A/V^2, required) or ``"cells"`` (both None), and
    ``weights``, ``chopper_periods``, ``chopper_phase`` and ``charging_periods``
    (``weights = "chopped"`` only) and ``multiplier``, see the module's docstring.
    ``reltol``: ngspice's relative tolerance (1e-4; the chopped XOR network runs at 1e-3:
    its weights within 13 uV of 1e-4's after an epoch, in 55 % of the time,
    docs/cells.md). ``pdk_sample``: with the
    corner's mismatch models (``tt_mm``...), every device its own draw, ngspice's generator
    seeded with ``pdk_sample + 1`` (Monte Carlo sample ``k`` of ``aann characterize
    --mismatch``).

    ``state``: the run continues one that ended its learning there (:func:`run_cosim`'s
    ``state``, ``W0`` its last weights): the ``.ic`` takes the nodes' voltages from it
    (their names as ``.ic`` has them, ``V(node)``), not from ``W0``, and every row source
    starts at the last row's value with its edge into row 1, as in one long run. Needed
    with mismatch: an integrator's virtual grounds sit at its offset, not at ``Vcm``, and
    restarting them at ``Vcm`` kicks the weights (up to 3 mV on the 2-3-1 of
    docs/cells.md, PDK sample 1), every restart the same way.

    Node names: weights ``w<l>_<j>_<i>`` (chopped: its ``outp``; ``outn`` is
    ``wn<l>_<j>_<i>``), neuron outputs ``o<l>_<j>``, errors ``e<l>_<j>``, deltas
    ``dl<l>_<j>``; layer ``l`` from 0.
    """
    _glue_arguments(glue, Keta, Km, weights, chopper_periods, multiplier, chopper_phase,
                    charging_periods)
    cell_glue, integrator = glue == "cells", weights == "integrator"
    chopped, nested = weights == "chopped", bool(charging_periods)
    X, Y = np.atleast_2d(X), np.atleast_2d(Y)
    t_edge = t_row * EDGE_FRACTION
    T_learn = epochs * len(X) * t_row
    epochs += bool(readout)
    T = epochs * len(X) * t_row
    mult = differential_multiplier(multiplier) if chopped else CELLS[multiplier]
    cells = [mult, CELLS["sigmoid"]]
    trans = transresistance_cell(multiplier)
    charging_diff = GLUE["charging_diff_ref" if nested else "charging_diff"]
    cells += ([CELLS["error"], (charging_diff if chopped else CELLS["charging"]),
               GLUE["derivative_core"], trans] if cell_glue else [CELLS["derivative"]])
    cells += [GLUE["integrator"], CELLS["switch"]] if integrator else []
    cells += [GLUE["integrator_fd"], CELLS["switch"]] if chopped else []
    sample = "" if pdk_sample is None else f", PDK mismatch sample {pdk_sample}"
    lines = [f"* aann co-simulation: {'-'.join(map(str, sizes))} of SkyWater 130 nm cells "
             f"({corner}, {temp:g} C{sample}), {glue} glue",
             model_lines(corner, temp, None if pdk_sample is None else pdk_sample + 1).rstrip()]
    lines += [c.text.strip() for c in cells]
    learn = VDD if cell_glue else 1.0  # the charging cell's logic level; 1 V in Eq. 9
    lines += [f"Vdd vdd 0 {VDD:g}", f"Vcm vcm 0 {VCM:g}", f"Vbias xb vcm DC {Vbias:g}",
              "Vteach teach 0 " + (_pwl([0, T_learn, T_learn + t_edge], [learn, learn, 0])
                                   if readout else f"DC {learn:g}")]
    if integrator or chopped:  # the switches' complementary clock
        lines.append("Vteachb teachb 0 " + (_pwl([0, T_learn, T_learn + t_edge], [0, 0, VDD])
                                            if readout else "DC 0"))
    if chopped:  # the chopper's clocks, s as the native engine switches it
        from ..cancellation import Chopper
        from .chopped import EDGE, toggles

        chopper = Chopper(periods_per_row=chopper_periods, phase=chopper_phase)
        inside = chopper.toggle_times(t_row, round(T_learn / t_row))
        # the demodulators switch with s XOR s2: at every edge of either (none meet)
        inside2 = (Chopper(periods_per_row=charging_periods, phase=90).toggle_times(
            t_row, round(T_learn / t_row)) if nested else [])
        demodulated = sorted(inside + inside2)
        # at the read-out the quads open and s is held at +1: at phase 0 s (low) goes back
        # up and cx falls with teach, at 90 (s high) cs falls with teach
        s_last = [T_learn] if readout and not chopper_phase else []
        cs_last = [T_learn] if readout and chopper_phase else []
        lines += ["* the chopper: s, sb (the modulators; s held at +1 in the read-out",
                  "* epoch), the demodulators' cs = s AND teach, cx = sb AND teach and their",
                  f"* complements csb, cxb; {chopper_periods} period(s) a row at phase "
                  f"{chopper_phase}",
                  f"Vs s 0 {toggles(True, inside + s_last, T, EDGE)}",
                  f"Vsb sb 0 {toggles(False, inside + s_last, T, EDGE)}",
                  f"Vcs cs 0 {toggles(True, demodulated + cs_last, T, EDGE)}",
                  f"Vcsb csb 0 {toggles(False, demodulated + cs_last, T, EDGE)}",
                  f"Vcx cx 0 {toggles(False, demodulated + s_last, T, EDGE)}",
                  f"Vcxb cxb 0 {toggles(True, demodulated + s_last, T, EDGE)}"]
        if nested:  # s2 ends every row high (phase 90): held so in the read-out
            lines += [f"* the charging cells' own chopper s2, s2b: {charging_periods} "
                      "period(s) a row at phase 90; the demodulators above: s XOR s2",
                      f"Vs2 s2 0 {toggles(True, inside2, T, EDGE)}",
                      f"Vs2b s2b 0 {toggles(False, inside2, T, EDGE)}"]
    continued = state is not None
    for i in range(X.shape[1]):
        lines.append(f"Vx{i + 1} x{i + 1} vcm " + _pwl(*_row_waveform(
            X[:, i], t_row, epochs, t_edge, continued)))
    for k in range(Y.shape[1]):
        lines.append(f"Vt{k + 1} t{k + 1} vcm " + _pwl(*_row_waveform(
            Y[:, k], t_row, epochs, t_edge, continued)))
    trim = trim or {}
    if rule is None:
        from ..rules import Backprop

        rule = Backprop()
    n_mult = [0]

    def node_of(operand, m: int, which: str) -> str:
        """The node carrying ``operand``: a node's own signal is that node; any other
        expression gets an ideal B-source glue node ``g<which><m>`` above Vcm."""
        if isinstance(operand, _Signal):
            return operand.node
        lines.append(f"Bg{which}{m} g{which}{m} vcm V = {Expr.of(operand)}")
        return f"g{which}{m}"

    def multiplier(a, b, out):
        """A multiplier cell on inputs ``a`` (input 1), ``b`` (input 2) into ``out``:
        node names, or the rule's operands (:class:`_Signal` or other expressions)."""
        n_mult[0] += 1
        m = n_mult[0]
        ra, rb = (x.ref if isinstance(x, _Signal) else "vcm" for x in (a, b))
        a = a if isinstance(a, str) else node_of(a, m, "a")
        b = b if isinstance(b, str) else node_of(b, m, "b")
        if trim:
            lines.append(f"Vta{m} {a} ta{m} DC {trim['Voff1']:.9g}")
            lines.append(f"Vtb{m} {b} tb{m} DC {trim['Voff']:.9g}")
            lines.append(f"Itr{m} 0 {out} DC {-trim['Ioff']:.9g}")
            a, b = f"ta{m}", f"tb{m}"
        lines.append(f"Xm{m} {a} {ra} {b} {rb} {out} vcm vdd 0 {mult.name}" if chopped else
                     f"Xm{m} {a} {b} {out} vcm vdd 0 {mult.name}")

    def transresistance(node: str) -> str:
        """``node`` to ``vcm`` through ``1/Km``: a multiplier's current as a voltage."""
        if cell_glue:
            return f"Xr{node} {node} vcm 0 {trans.name}"
        return f"R{node} {node} vcm {1 / Km:.9g}"

    L = len(sizes) - 1
    ics = []
    input_quads = []  # the charging cells' own choppers, after every other cell: those
    # come in the order they have without them (with mismatch their draws still move a
    # little: the path's offsets by up to 11 %)
    for l in range(L):
        n_in, n_out = sizes[l], sizes[l + 1]
        inputs = ["xb"] + ([f"x{i + 1}" for i in range(n_in)] if l == 0 else
                           [f"o{l - 1}_{i}" for i in range(n_in)])
        for j in range(n_out):
            for i, a in enumerate(inputs):
                w = f"w{l}_{j}_{i}"
                if integrator:  # C from the virtual ground vg<w> to the output w
                    lines += [f"C{w} vg{w} {w} {C:g}",
                              f"Xi{w} vg{w} {w} vcm vdd 0 aann_integrator"]
                    ics.append(f"V(vg{w})={VCM:.9g}")
                elif chopped:  # C from vp<w> to wn<w>, from vn<w> to w: W = V(w) - V(wn)
                    W = float(W0[l][j][i])
                    lines += [f"Xi{w} vp{w} vn{w} {w} wn{w[1:]} vcm vdd 0 aann_integrator_fd",
                              f"Cp{w} vp{w} wn{w[1:]} {C:g}", f"Cn{w} vn{w} {w} {C:g}"]
                    ics += [f"V({w})={VCM + W / 2:.9g}", f"V(wn{w[1:]})={VCM - W / 2:.9g}",
                            f"V(vp{w})={VCM:.9g}", f"V(vn{w})={VCM:.9g}"]
                    multiplier(_Signal(w, f"wn{w[1:]}"), a, f"net{l}_{j}")  # forward
                    continue
                else:
                    lines.append(f"C{w} {w} vcm {C:g}")
                ics.append(f"V({w})={VCM + float(W0[l][j][i]):.9g}")
                multiplier(w, a, f"net{l}_{j}")  # forward (Vw, x)
            if cell_glue:  # the derivative core reads the neuron's input node itself
                lines += [f"Xs{l}_{j} net{l}_{j} o{l}_{j} vcm vdd 0 aann_sigmoid",
                          f"Xd{l}_{j} net{l}_{j} d{l}_{j} vcm vdd 0 aann_derivative_core"]
            else:
                lines += [f"Vsn{l}_{j} net{l}_{j} in{l}_{j} 0",
                          f"Xs{l}_{j} in{l}_{j} o{l}_{j} vcm vdd 0 aann_sigmoid",
                          f"Fd{l}_{j} 0 din{l}_{j} Vsn{l}_{j} 1",
                          f"Xd{l}_{j} din{l}_{j} d{l}_{j} vcm vdd 0 aann_derivative"]
            # delta: Vdelta = product of the rule's operands (backprop: VE * Vd) read
            # through 1/Km
            multiplier(*rule.delta_inputs(_Signal(f"e{l}_{j}"), _Signal(f"d{l}_{j}"), m=SPICE),
                       f"dl{l}_{j}")
            lines.append(transresistance(f"dl{l}_{j}"))
            for i, a in enumerate(inputs):  # charge (backprop: Vdelta, x) -> Icharged
                w = f"w{l}_{j}_{i}"
                multiplier(*rule.charge_inputs(_Signal(f"dl{l}_{j}"), _Signal(a), m=SPICE),
                           f"cg{w}")
                if integrator:  # vgrad, vcm swapped; learning switched at the output
                    lines += [transresistance(f"cg{w}"),
                              f"Xc{w} vcm vdd co{w} cg{w} vdd 0 aann_charging",
                              f"Xsw{w} co{w} vg{w} teach teachb vdd 0 aann_switch"]
                elif chopped:  # the differential cell, always biased; the demodulator
                    lines.append(transresistance(f"cg{w}"))
                    if nested:  # its inputs swapped by s2
                        lines.append(f"Xc{w} ip{w} ir{w} vdd cp{w} cn{w} vcm vdd 0 "
                                     "aann_charging_diff_ref")
                        input_quads += [f"Xqi{w}_1 cg{w} ip{w} s2 s2b vdd 0 aann_switch",
                                        f"Xqi{w}_2 vcm ir{w} s2 s2b vdd 0 aann_switch",
                                        f"Xqi{w}_3 cg{w} ir{w} s2b s2 vdd 0 aann_switch",
                                        f"Xqi{w}_4 vcm ip{w} s2b s2 vdd 0 aann_switch"]
                    else:
                        lines.append(f"Xc{w} cg{w} vdd cp{w} cn{w} vcm vdd 0 "
                                     "aann_charging_diff")
                    lines += [f"Xq{w}_1 cp{w} vp{w} cs csb vdd 0 aann_switch",
                              f"Xq{w}_2 cn{w} vn{w} cs csb vdd 0 aann_switch",
                              f"Xq{w}_3 cp{w} vn{w} cx cxb vdd 0 aann_switch",
                              f"Xq{w}_4 cn{w} vp{w} cx cxb vdd 0 aann_switch",
                              f"Xq{w}_5 cp{w} vcm teachb teach vdd 0 aann_switch",
                              f"Xq{w}_6 cn{w} vcm teachb teach vdd 0 aann_switch"]
                elif cell_glue:  # I/Km across a transresistance drives the charging cell
                    lines += [transresistance(f"cg{w}"),
                              f"Xc{w} cg{w} teach {w} vcm vdd 0 aann_charging"]
                else:
                    lines += [f"Vcs{w} cg{w} vcm 0",
                              f"Bc{w} vcm {w} I = {-Keta / Km:.9g} * (V(teach)) * I(Vcs{w})"]
        if l == L - 1:
            for j in range(n_out):
                o, t, ea, eb = f"o{l}_{j}", f"t{j + 1}", f"ea{l}_{j}", f"eb{l}_{j}"
                if chopped:  # the input modulator: Vout, Vtarget swapped while s is low
                    lines += [f"Xqe{l}_{j}_1 {o} {ea} s sb vdd 0 aann_switch",
                              f"Xqe{l}_{j}_2 {t} {eb} s sb vdd 0 aann_switch",
                              f"Xqe{l}_{j}_3 {o} {eb} sb s vdd 0 aann_switch",
                              f"Xqe{l}_{j}_4 {t} {ea} sb s vdd 0 aann_switch",
                              f"Xe{l}_{j} {ea} {eb} e{l}_{j} vcm vdd 0 aann_error"]
                    continue
                lines.append(f"Xe{l}_{j} o{l}_{j} t{j + 1} e{l}_{j} vcm vdd 0 aann_error"
                             if cell_glue else
                             f"Be{l}_{j} e{l}_{j} 0 V = V(o{l}_{j}) - V(t{j + 1}) + {VCM:g}")
        if l > 0:  # type2 (backprop: Vdelta, Vw): the error of layer l-1, summed into 1/Km
            B = rule.feedback(l)
            source = rule.type2_source(l, L)  # whose deltas (backprop: this layer's)
            for i in range(n_in):
                for k in range(sizes[source + 1]):
                    fb = None
                    if B is not None:  # the rule's fixed voltage: an ideal DC source
                        fb = f"fb{l}_{k}_{i + 1}"
                        lines.append(f"Vfb{l}_{k}_{i + 1} {fb} vcm DC "
                                     f"{float(np.asarray(B)[k, i]):.9g}")
                        fb = _Signal(fb)
                    multiplier(*rule.type2_inputs(
                        _Signal(f"dl{source}_{k}"),
                        _Signal(f"w{l}_{k}_{i + 1}", f"wn{l}_{k}_{i + 1}" if chopped else
                                "vcm") if source == l else None, m=SPICE,
                        Vfb=fb), f"e{l - 1}_{i}")
                lines.append(transresistance(f"e{l - 1}_{i}"))
    if input_quads:
        lines += ["* the charging cells' input quads (s2)", *input_quads]
    step = t_row / steps_per_row
    if chopped:  # at least 8 steps a chopper period
        step = min(step, t_row / chopper_periods / 8)
    if save_read:
        lines.append(".save " + " ".join(
            [ic.split("=")[0].lower() for ic in ics]
            + [f"v(o{L - 1}_{k})" for k in range(sizes[-1])]))
    if continued:
        ics = _continued(ics, state)
    lines += [".ic " + " ".join(ics),
              f".options method=gear reltol={_spice_number(reltol)}",
              f".tran {step:.6g} {T:.9g} 0 {step:.6g}", ".end", ""]
    return "\n".join(lines)


def _continued(ics: list, state: dict) -> list:
    """The ``.ic`` entries ``V(node)=value`` with each node's value from ``state``."""
    nodes = [ic.split("=")[0] for ic in ics]
    missing = sorted(set(nodes) - set(state))
    if missing:
        raise ValueError(f"state lacks {', '.join(missing[:3])}: give the state the run "
                         "this one continues ended with (run_cosim(...)['state'])")
    return [f"{node}={float(state[node]):.12g}" for node in nodes]


def run_cosim(sizes, W0, X, Y, *, t_row: float, epochs: int, Keta: float | None, C: float,
              Km: float | None, Vbias: float, corner: str = "tt", trim: dict | None = None,
              timeout: float = 1800, rule=None, glue: str = "ideal",
              weights: str = "capacitor", chopper_periods: int | None = None,
              multiplier: str = "multiplier", reltol: float = 1e-4,
              pdk_sample: int | None = None, readout: bool = True,
              chopper_phase: int = 0, state: dict | None = None,
              charging_periods: int | None = None) -> dict:
    """Run the co-simulation; the weights at the end of every epoch (per layer,
    ``(epochs, n_out, n_in + 1)``), each row's output at the end of the row in
    every epoch (``(epochs, rows, n_outputs)``) and, with ``readout``, from a read-out
    epoch after them with learning off, the trained network's output on every row
    (``(rows, n_outputs)``; else None), in signal volts. ``rule``: the learning rule (None:
    backprop); ``glue``, ``weights``, ``chopper_periods``, ``chopper_phase``, ``multiplier``: as
    :func:`cosim_netlist`'s (``weights = "chopped"``: a weight is ``V(w) - V(wn)``, its
    integrator's ``outp`` less its ``outn``), as are ``reltol``, ``pdk_sample`` and
    ``state``. Also ``state``: the ``.ic`` nodes' voltages where the learning ended (for
    the run that continues this one)."""
    X, Y = np.atleast_2d(X), np.atleast_2d(Y)
    net = cosim_netlist(sizes, W0, X, Y, t_row=t_row, epochs=epochs, Keta=Keta, C=C, Km=Km,
                        Vbias=Vbias, corner=corner, trim=trim, readout=readout, rule=rule,
                        save_read=True, glue=glue, weights=weights,
                        chopper_periods=chopper_periods, multiplier=multiplier,
                        reltol=reltol, pdk_sample=pdk_sample, chopper_phase=chopper_phase,
                        state=state, charging_periods=charging_periods)
    plot = run_with_models(net, name="cosim", timeout=timeout)[0]
    t = np.real(plot.sweep)
    rows = len(X)
    ends = np.array([(n + 1) * t_row for n in range((epochs + readout) * rows)]) * (1 - 1e-6)

    def at(name, times):
        return np.interp(times, t, plot[f"v({name})"]) - VCM

    def weight(l, j, i, times):
        if weights == "chopped":
            return at(f"w{l}_{j}_{i}", times) - at(f"wn{l}_{j}_{i}", times)
        return at(f"w{l}_{j}_{i}", times)

    L = len(sizes) - 1
    epoch_ends = ends[rows - 1:epochs * rows:rows]
    W = [np.stack([[weight(l, j, i, epoch_ends) for i in range(sizes[l] + 1)]
                   for j in range(sizes[l + 1])]).transpose(2, 0, 1) for l in range(L)]
    Vout = np.stack([at(f"o{L - 1}_{k}", ends) for k in range(sizes[-1])], axis=-1)
    ic_line = next(line for line in net.splitlines() if line.startswith(".ic "))
    end = epochs * rows * t_row * (1 - 1e-6)  # where the weights are read
    state = {ic.split("=")[0]: float(np.interp(end, t, plot[ic.split("=")[0].lower()]))
             for ic in ic_line.split()[1:]}
    return {"W_epoch": W, "Vout_rows": Vout[:epochs * rows].reshape(epochs, rows, sizes[-1]),
            "Vout_readout": Vout[epochs * rows:] if readout else None, "points": len(t),
            "state": state}


def network_cosim(config, seed: int | None = None, corner: str = "tt",
                  trim: dict | None = None) -> tuple[str, dict]:
    """The co-simulation netlist of the network ``config`` describes (``aann netlist
    --cells sky130``): its sizes, data set (rows in order), ``t_row``, ``epochs``,
    ``Vteach``, ``Keta``, ``C``, ``Vbias`` and, for the transresistances, the
    multiplier's ``Km`` (merge the cells' ``fit.toml`` into the description first);
    the initial weights of ``seed`` (default 0) or of ``init_weights``.

    Returns ``(text, info)``. Raises :class:`aann.ValidationError` for what the cells
    cannot run: ``teach`` other than ``always``, ``order = "shuffle"``.
    """
    from ..datasets import for_config
    from ..errors import ValidationError
    from ..io import check_seed, random_weights, read_weights
    from .models import check_corner

    t, c = config.training, config.constants
    check_runnable(config)
    check_corner(corner)
    sizes = config.network.sizes
    data = for_config(config)
    if t.init_weights is not None:
        networks = read_weights(t.init_weights, sizes)
        chosen = networks[0] if seed is None else next(
            (n for n in networks if n["seed"] == seed), None)
        if chosen is None:
            raise ValidationError(f"seed {seed} is not in {t.init_weights}")
        seed, W0 = chosen["seed"], chosen["layers"]
    else:
        seed = check_seed(0 if seed is None else seed, "netlist")
        W0 = random_weights(sizes, seed, t.init_range)
    from ..rules import build_rule

    Km = config.blocks.multiplier.build().Km
    text = cosim_netlist(sizes, W0, data.X, data.Y * 1.0, t_row=t.t_row, epochs=t.epochs,
                         C=c.C, Vbias=c.Vbias, corner=corner, trim=trim,
                         rule=build_rule(config, seed), **cell_arguments(config))
    return text, {"seed": seed, "corner": corner, "Km": Km}


def cell_arguments(config) -> dict:
    """What ``[cells]`` and the constants the cells take from the description pass to
    :func:`cosim_netlist` / :func:`run_cosim`: ``glue``, ``weights``, ``multiplier``,
    ``reltol``; ``Keta`` and ``Km`` for the ideal glue (None with the glue cells, whose
    own they are); ``chopper_periods``, ``chopper_phase`` and ``charging_periods`` for the
    chopped path (``[offset_cancellation] periods_per_row``, ``phase``,
    ``charging_periods``)."""
    cells, t, oc = config.cells, config.training, config.offset_cancellation
    ideal = cells.glue == "ideal"
    chopped = cells.weights == "chopped"
    return {"glue": cells.glue, "weights": cells.weights, "multiplier": cells.multiplier,
            "reltol": cells.reltol,
            "Keta": config.constants.Keta * t.Vteach if ideal else None,
            "Km": config.blocks.multiplier.build().Km if ideal else None,
            "chopper_periods": oc.periods_per_row if chopped else None,
            "chopper_phase": oc.phase if chopped else 0,
            "charging_periods": oc.charging_periods if chopped else None}
