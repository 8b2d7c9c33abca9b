"""The cell library: the paper's blocks as SkyWater 130 nm transistor-level subcircuits.

Every cell runs from one 1.8 V supply (``vdd``, ``vss``). A signal of the paper
(a signed voltage ``V``) is the node voltage ``V + Vcm``, around the reference
``vcm`` (:data:`VCM`, 0.9 V, mid-supply); a current is a current into or out of
a node held at ``vcm``. The port order is part of a cell's contract, and a
user's own ``.subckt`` with the same ports can take a cell's place:

===============  ======================================  ================================
cell             ports, in order                         law (docs/cells.md)
===============  ======================================  ================================
``multiplier``   ``v1 v2 out vcm vdd vss``               current ``I(V1, V2)`` out of ``out``
``sigmoid``      ``in out vcm vdd vss``                  ``Vout`` from the current into ``in``
``derivative``   ``in out vcm vdd vss``                  ``Vd`` from the current into ``in``
``charging``     ``vgrad vteach out vcm vdd vss``        ``Icharged`` out of ``out``
``switch``       ``a b clk clkb vdd vss``                ``a`` to ``b`` while ``clk`` is high
``error``        ``vout vtarget out vcm vdd vss``        ``VE = Ke (Vout - Vtarget)`` at ``out``
===============  ======================================  ================================

``multiplier_lm`` (:data:`MULTIPLIER_LM`) is a second ``multiplier``: the same ports and
law, sized for a small mismatch spread (docs/cells.md, "Low-mismatch multiplier").

The glue of a network of cells (:mod:`aann.cells.cosim`, ``glue = "cells"``) has two
more: ``aann_derivative_core`` (:data:`DERIVATIVE_CORE`, ports ``in out vcm vdd vss``),
the derivative cell without its input resistor, whose ``in`` is a gate that reads the
neuron's own input node; and ``aann_transresistance`` (:data:`TRANSRESISTANCE`, ports
``in vcm vss``), a resistor ``1/Km`` from a product node to ``vcm`` that reads a
multiplier's current as a voltage. Neither has a block law to fit; the core is the
derivative cell less ``XRin`` (the same devices), the resistor is measured by
:func:`aann.cells.glue.measure_transresistance`.

A weight that the charging cell charges directly leaks through the cell's output
resistance. ``aann_integrator`` (:data:`INTEGRATOR`, ports ``in out vcm vdd vss``, kind
``integrator``) holds it instead: a two-stage Miller amplifier, inverting input ``in``,
the other tied to ``vcm``; the weight capacitor goes outside, from ``in`` to ``out``, and
the charging cell drives ``in``, a virtual ground at ``vcm``. A current ``I`` into ``in``
moves the weight ``V(out) - V(in)`` at ``-I/C`` (the sign inverted: in a network the
charging cell's ``vgrad`` and ``vcm`` swap), and the cell's output resistance sees only
``-(V(out) - Vcm)/A``: a leak ``A`` (74 to 79 dB) times slower.
:mod:`aann.cells.integrator` measures it (gain, offset, integration, stability, supply,
the weight's drift).

``vteach`` is a logic level (``vdd``: learn, ``vss``: hold), not a signal around ``vcm``;
so are the switch's ``clk`` (``vdd``: closed) and ``clkb`` (its complement). The switch
(offset cancellation: the autozero's sampling switch, the chopper's modulators) has no
block law: :mod:`aann.cells.switch` measures its on-resistance, leakage and the charge it
injects into a hold capacitor on ``b`` as it opens (``aann characterize switch``).

The chopped differential charging path (:mod:`aann.cells.chopped`) has two more glue
cells: ``aann_charging_diff`` (:data:`CHARGING_DIFF`, ports ``vgrad vteach outp outn vcm
vdd vss``), the charging cell's input stage with two current outputs, ``I(outp) -
I(outn) = -Keta Vgrad``, their common mode held at ``vcm`` by a loop of its own; and
``aann_integrator_fd`` (:data:`INTEGRATOR_FD`, ports ``inp inn outp outn vcm vdd vss``),
a folded-cascode amplifier with common-mode feedback, the weight capacitors outside (``C``
from ``inp`` to ``outn``, from ``inn`` to ``outp``), the weight ``V(outp) - V(outn)``.
Between them a quad of ``switch`` cells demodulates the cell's current.
``aann_charging_diff_ref`` (:data:`CHARGING_DIFF_REF`, ports ``vgrad vref vteach outp outn
vcm vdd vss``) is ``aann_charging_diff`` with its input pair's reference gate on a port,
for the charging cells' own chopper that swaps its two inputs.

The schematics are drawn in docs/cells.md. Sizes (``W``, ``L``) are in um.
"""

from __future__ import annotations

from dataclasses import dataclass

VDD = 1.8
"""Supply voltage (V)."""
VCM = 0.9
"""Common-mode reference (V): the paper's signal ``V`` is the node voltage ``V + VCM``."""

N = "sky130_fd_pr__nfet_01v8"
P = "sky130_fd_pr__pfet_01v8"
NL = "sky130_fd_pr__nfet_01v8_lvt"
PL = "sky130_fd_pr__pfet_01v8_lvt"
R = "sky130_fd_pr__res_xhigh_po_0p35"


@dataclass(frozen=True)
class Cell:
    """A cell: its subcircuit ``name``, ``ports`` in order, ``kind`` of block law
    (``multiplier``, ``activation``, ``derivative``) and its ``.subckt`` ``text``."""

    name: str
    kind: str
    ports: tuple
    text: str


PORTS = {
    "multiplier": ("v1", "v2", "out", "vcm", "vdd", "vss"),
    "activation": ("in", "out", "vcm", "vdd", "vss"),
    "derivative": ("in", "out", "vcm", "vdd", "vss"),
    "charging": ("vgrad", "vteach", "out", "vcm", "vdd", "vss"),
    "switch": ("a", "b", "clk", "clkb", "vdd", "vss"),
    "error": ("vout", "vtarget", "out", "vcm", "vdd", "vss"),
    "transresistance": ("in", "vcm", "vss"),
    "integrator": ("in", "out", "vcm", "vdd", "vss"),
    "charging_diff": ("vgrad", "vteach", "outp", "outn", "vcm", "vdd", "vss"),
    "charging_diff_ref": ("vgrad", "vref", "vteach", "outp", "outn", "vcm", "vdd", "vss"),
    "integrator_fd": ("inp", "inn", "outp", "outn", "vcm", "vdd", "vss"),
}
"""The port order of each kind of cell."""

MULTIPLIER = f"""\
* Four-quadrant multiplier (translinear Gilbert cell in weak inversion):
* I(out) = Km*(V1-Vcm)*(V2-Vcm), Km = 2/(I0*Rs1*Rs2)
.subckt aann_multiplier v1 v2 out vcm vdd vss
* bias: Rb into an NMOS diode sets 10 uA, mirrored into a PMOS diode
XRb vdd nb vss {R} l=17
XMnb nb nb vss vss {N} W=2 L=1
XMnp pb nb vss vss {N} W=2 L=1
XMpb pb pb vdd vdd {PL} W=32 L=2
* input 2 to currents: a PMOS pair degenerated by Rs2 on two I0 = 20 uA tails;
* Ia = I0 + V2/Rs2, Ib = I0 - V2/Rs2 into NMOS diodes
XMt1 s1 pb vdd vdd {PL} W=64 L=2
XMt2 s2 pb vdd vdd {PL} W=64 L=2
XRs2 s1 s2 vss {R} l=4
XM1 a vcm s1 s1 {PL} W=40 L=0.5
XM2 b v2 s2 s2 {PL} W=40 L=0.5
XMa a a vss vss {N} W=4 L=1
XMb b b vss vss {N} W=4 L=1
* input 1 to currents the same way: Ix = I0 + V1/Rs1, Iy = I0 - V1/Rs1 into
* weak-inversion NMOS diodes over Rk (bodies tied to sources: deep n-well)
XMt3 s3 pb vdd vdd {PL} W=64 L=2
XMt4 s4 pb vdd vdd {PL} W=64 L=2
XRs1 s3 s4 vss {R} l=4
XM7 x vcm s3 s3 {PL} W=40 L=0.5
XM8 y v1 s4 s4 {PL} W=40 L=0.5
XMx x x k k {NL} W=20 L=0.5
XMy y y k k {NL} W=20 L=0.5
XRk k vss vss {R} l=1
* the quad, its tails Ia, Ib mirrored; in weak inversion it steers (Ia - Ib) in the
* ratio (Ix - Iy)/(Ix + Iy): Ip - In = (2 V2/Rs2) (V1/(I0 Rs1))
XMta ta a vss vss {N} W=4 L=1
XMtb tb b vss vss {N} W=4 L=1
XM3 p x ta ta {NL} W=20 L=0.5
XM4 n y ta ta {NL} W=20 L=0.5
XM5 n x tb tb {NL} W=20 L=0.5
XM6 p y tb tb {NL} W=20 L=0.5
* output: Ip sourced, In sunk (two PMOS mirrors, one NMOS mirror). Each carries about
* I0 besides the signal, so a 1 % mirror error is an output offset of 8 % of full
* scale: long devices, and the NMOS diode sized to sit at Vcm like the output
* (Ioff 5 nA, 0.2 % of full scale, at tt)
XMpp p p vdd vdd {PL} W=16 L=4
XMpn n n vdd vdd {PL} W=16 L=4
XMpo out p vdd vdd {PL} W=16 L=4
XMpm m n vdd vdd {PL} W=16 L=4
XMm m m vss vss {N} W=8 L=8
XMno out m vss vss {N} W=8 L=8
.ends aann_multiplier
"""

SIGMOID = f"""\
* Sigmoid neuron: Vout - Vcm = Vamp / (1 + exp(-Inet/Iref))
.subckt aann_sigmoid in out vcm vdd vss
* Inet -> V(in) - Vcm = Rin*Inet; Rin (about 50 kOhm) sets Iref = n*UT/Rin, about
* 0.7 uA, so one layer's gain Km*(0.2 V)*Vamp/(4*Iref) is about 0.9 within the
* multiplier's +-0.2 V (with a third of Rin it was 0.3: a 1-2-1 then needs weights
* far beyond that range to reach its targets)
XRin in vcm vss {R} l=9
* bias: Rb into an NMOS diode, mirrored as the tail It (about 8 uA)
XRb vdd nb vss {R} l=17
XMnb nb nb vss vss {N} W=2 L=1
XMt tail nb vss vss {N} W=2 L=1
* a differential pair in weak inversion: I1 = It / (1 + exp(-(V(in)-Vcm)/(n*UT)))
XM1 d1 in tail vss {N} W=20 L=0.5
XM2 d2 vcm tail vss {N} W=20 L=0.5
XMp1 d1 d1 vdd vdd {P} W=4 L=1
XMp2 d2 d2 vdd vdd {P} W=4 L=1
* I1 mirrored into Rl to Vcm: Vout - Vcm = Rl*I1, so Vamp = Rl*It
XMo out d1 vdd vdd {P} W=4 L=1
XRl out vcm vss {R} l=3.4
.ends aann_sigmoid
"""

DERIVATIVE = f"""\
* Sigmoid derivative (Delbrueck's bump): Vd - Vcm = Kd*s*(1-s), s the sigmoid of Inet
.subckt aann_derivative in out vcm vdd vss
* the neuron's Rin: the bump's width matches the sigmoid it differentiates
XRin in vcm vss {R} l=9
XRb vdd nb vss {R} l=17
XMnb nb nb vss vss {N} W=2 L=1
* a tail of about 2.5 uA (a quarter of the bias): every device in weak inversion
XMt tail nb vss vss {N} W=1 L=2
XM1 d1 in tail vss {N} W=20 L=0.5
XM2 d2 vcm tail vss {N} W=20 L=0.5
XMp1 d1 d1 vdd vdd {P} W=4 L=1
XMp2 d2 d2 vdd vdd {P} W=4 L=1
* I1, I2 mirrored into weak-inversion NMOS diodes x1, x2
XMq1 x1 d1 vdd vdd {P} W=4 L=1
XMq2 x2 d2 vdd vdd {P} W=4 L=1
XMx1 x1 x1 vss vss {N} W=20 L=1
XMx2 x2 x2 vss vss {N} W=20 L=1
* the series pair conducts I1*I2/(I1+I2) = It*s*(1-s) in weak inversion
XMs1 y x1 z vss {N} W=20 L=1
XMs2 z x2 vss vss {N} W=20 L=1
XMy y y vdd vdd {P} W=4 L=1
XMo out y vdd vdd {P} W=4 L=1
XRl out vcm vss {R} l=48
.ends aann_derivative
"""

CHARGING = f"""\
* Charging source (Eq. 9): I(out) = -Keta*(Vgrad-Vcm) while vteach is high (at vdd); the
* bias flows through Rb from vteach, so vteach low (at vss) switches every current off
.subckt aann_charging vgrad vteach out vcm vdd vss
XRb vteach nb vss {R} l=17
XMnb nb nb vss vss {N} W=2 L=1
XMnp pb nb vss vss {N} W=2 L=1
XMpb pb pb vdd vdd {PL} W=32 L=2
* Vgrad to currents: a PMOS pair degenerated by Rs on two I0 = 20 uA tails;
* Ia = I0 + Vgrad/Rs, Ib = I0 - Vgrad/Rs
XMt1 s1 pb vdd vdd {PL} W=64 L=2
XMt2 s2 pb vdd vdd {PL} W=64 L=2
XRs s1 s2 vss {R} l=4
XM1 a vcm s1 s1 {PL} W=40 L=0.5
XM2 b vgrad s2 s2 {PL} W=40 L=0.5
XMa a a vss vss {N} W=4 L=4
XMb b b vss vss {N} W=4 L=4
* out sinks Ia and sources Ib: I(out) = Ib - Ia = -2 Vgrad/Rs, so Keta = 2/Rs
XMoa out a vss vss {N} W=4 L=4
XMob c b vss vss {N} W=4 L=4
XMpc c c vdd vdd {PL} W=16 L=4
XMpo out c vdd vdd {PL} W=16 L=4
.ends aann_charging
"""

SWITCH = f"""\
* Analogue switch (CMOS transmission gate) for offset cancellation: a conducts to b
* while clk is high (clkb low); b is the hold side (the capacitor), a the driven side.
* Ron about 2.6 kOhm at Vcm (1.4 to 4.3 kOhm over Vcm +- 0.3 V, tt); low-threshold
* devices, since the regular ones (L = 0.15 both) give 9.9 kOhm at Vcm, 12 kOhm at worst.
* Junctions drawn as the minimum diffusion (0.29 um beyond the gate): ad = 0.29 W,
* pd = 2 (W + 0.29); they set the hold node's leakage and part of its capacitance
.subckt aann_switch a b clk clkb vdd vss
XMn a clk b vss {NL} W=1 L=0.15 ad=0.29 as=0.29 pd=2.58 ps=2.58
XMp a clkb b vdd {PL} W=2 L=0.35 ad=0.58 as=0.58 pd=4.58 ps=4.58
* half-size dummies on the hold side, source and drain shorted to b, driven by the
* opposite clock: as the switch opens they take up channel charge and cancel the
* clock feedthrough of the switch's overlap capacitances
XMdn b clkb b vss {NL} W=0.5 L=0.15 ad=0.145 as=0.145 pd=1.58 ps=1.58
XMdp b clk b vdd {PL} W=1 L=0.35 ad=0.29 as=0.29 pd=2.58 ps=2.58
.ends aann_switch
"""

def _derivative_core(text: str) -> str:
    """The derivative cell's text less its input resistor ``XRin`` (and that line's
    comment), renamed ``aann_derivative_core``: the same devices, so the two cannot
    drift apart."""
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("XRin "))
    assert lines[k - 1].startswith("*"), "the comment above XRin"
    body = lines[2:k - 1] + lines[k + 1:]
    head = ["* Sigmoid derivative core: the derivative cell without its input resistor. Its",
            "* in is a gate (no DC load): wired to a neuron's input node, whose own Rin makes",
            "* V(in) - Vcm = Rin*Inet, it gives Vd - Vcm = Kd*s*(1-s) of that neuron's Inet",
            "* with no copy of Inet (the derivative cell = this core + Rin from in to vcm)",
            ".subckt aann_derivative_core in out vcm vdd vss"]
    return "\n".join(head + [line.replace("aann_derivative", "aann_derivative_core")
                             for line in body]) + "\n"


DERIVATIVE_CORE = _derivative_core(DERIVATIVE)

ERROR = f"""\
* Type1 error block (Eq. 14): V(out) - Vcm = Ke*(Vout - Vtarget), Ke = 2*Rl/Rs' = 1 at tt
* (Rs' = Rs plus the pair's 2/gm). Vout, Vtarget in +-0.2 V each (differences to +-0.4 V)
.subckt aann_error vout vtarget out vcm vdd vss
* bias as the charging cell's, from vdd: 10 uA mirrored into a PMOS diode
XRb vdd nb vss {R} l=17
XMnb nb nb vss vss {N} W=2 L=1
XMnp pb nb vss vss {N} W=2 L=1
XMpb pb pb vdd vdd {PL} W=32 L=2
* the charging cell's input stage with a longer Rs (44 kOhm: more degeneration, a gain
* flatter over +-0.4 V): a PMOS pair on two I0 = 20 uA tails, gates vout and vtarget;
* Ia = I0 - (Vout - Vtarget)/Rs', Ib = I0 + (Vout - Vtarget)/Rs'
XMt1 s1 pb vdd vdd {PL} W=64 L=2
XMt2 s2 pb vdd vdd {PL} W=64 L=2
XRs s1 s2 vss {R} l=6
XM1 a vout s1 s1 {PL} W=40 L=0.5
XM2 b vtarget s2 s2 {PL} W=40 L=0.5
* out sinks Ia and sources Ib: Ib - Ia = 2 (Vout - Vtarget)/Rs' into Rl to vcm. Long,
* wide mirrors: out swings +-0.4 V around Vcm at up to 30 uA
XMa a a vss vss {N} W=16 L=4
XMb b b vss vss {N} W=16 L=4
XMoa out a vss vss {N} W=16 L=4
XMob c b vss vss {N} W=16 L=4
XMpc c c vdd vdd {PL} W=16 L=4
XMpo out c vdd vdd {PL} W=16 L=4
* Rl = Rs'/2 (28 kOhm): Ke = 1
XRl out vcm vss {R} l=3.78
.ends aann_error
"""

TRANSRESISTANCE_L = 2.1
"""The length (um) of the transresistance: ``1/Km`` = 15.3 kOhm for the multiplier's
``Km`` = 6.55e-5 A/V^2 at tt (docs/cells.md), 0.35 um wide ``xhigh_po`` at 27 C."""

TRANSRESISTANCE = f"""\
* Transresistance 1/Km: a multiplier's output current I into in, held near Vcm by this
* resistor, reads as V(in) - Vcm = I/Km (the product V1*V2 in volts): R = 1/(Km*1V),
* 15.3 kOhm for the Gilbert cell's Km = 6.55e-5 A/V^2 at tt
.subckt aann_transresistance in vcm vss
XR in vcm vss {R} l={TRANSRESISTANCE_L:g}
.ends aann_transresistance
"""

INTEGRATOR_CC = 25
"""The side (um) of the integrator's square MIM compensation capacitor
(``cap_mim_m3_1``, 2 fF/um^2: 1.25 pF)."""

INTEGRATOR = f"""\
* Integrator amplifier (a weight cell): a two-stage Miller OTA whose inverting input is
* in, its non-inverting input tied to vcm. The weight capacitor C goes outside, from in
* to out: a current I into in (the virtual ground, held at vcm) gives dV(out)/dt = -I/C,
* and the weight V(out) - V(in) leaks only through what sees V(in) - Vcm = -(V(out) -
* Vcm)/A. About 33 uA; A 74 to 79 dB over out = Vcm +- 0.4 V (tt, ss, ff)
.subckt aann_integrator in out vcm vdd vss
* bias: Rb into an NMOS diode sets about 5 uA (twice the multiplier's Rb: half the current)
XRb vdd nb vss {R} l=34
XMnb nb nb vss vss {N} W=2 L=2
* first stage: an NMOS pair on a 10 uA tail into a PMOS mirror; in rising, XM1 draws more
* from the diode XMp1, XMp2 sources that into d2 while XM2 draws less: d2 rises and out
* falls (in is the inverting input)
XMt tail nb vss vss {N} W=4 L=2
XM1 d1 in tail vss {N} W=10 L=1
XM2 d2 vcm tail vss {N} W=10 L=1
XMp1 d1 d1 vdd vdd {PL} W=4 L=2
XMp2 d2 d1 vdd vdd {PL} W=4 L=2
* second stage: a PMOS common source four times a mirror device into a 20 uA NMOS sink:
* at the mirror's current density d2 sits at d1's voltage at balance (no systematic
* offset from the stage); out swings Vcm +- 0.4 V with both devices saturated
XMo out d2 vdd vdd {PL} W=16 L=2
XMs out nb vss vss {N} W=8 L=2
* Miller compensation: Cc (MIM) from d2 to out through Rz (about 15 kOhm, above 1/gm of
* XMo: the zero in the left half-plane); phase margin above 70 degrees with 1 to 20 pF
* from out to in and 1 pF on out
XRz d2 z vss {R} l=2
XCc z out sky130_fd_pr__cap_mim_m3_1 w={INTEGRATOR_CC} l={INTEGRATOR_CC}
.ends aann_integrator
"""

CHARGING_DIFF = f"""\
* Differential charging source (Eq. 9, the chopped path's): the charging cell's input
* stage, Ia = I0 + Vgrad/Rs, Ib = I0 - Vgrad/Rs, each sunk from its own output by a
* cascoded NMOS mirror, each output sourced I0 by a cascoded PMOS: I(outp) = I0 - Ia,
* I(outn) = I0 - Ib out of the cell, I(outp) - I(outn) = -Keta*(Vgrad-Vcm), Keta = 2/Rs.
* Both outputs sit at virtual grounds (the quad of switches, then aann_integrator_fd);
* their common mode is the cell's own loop's: it sets the PMOS sources so that the mean
* of outp and outn is vcm (the integrator's inputs have no other DC path)
.subckt aann_charging_diff vgrad vteach outp outn vcm vdd vss
XRb vteach nb vss {R} l=17
XMnb nb nb vss vss {N} W=2 L=1
XMnp pb nb vss vss {N} W=2 L=1
XMpb pb pb vdd vdd {PL} W=32 L=2
XMt1 s1 pb vdd vdd {PL} W=64 L=2
XMt2 s2 pb vdd vdd {PL} W=64 L=2
XRs s1 s2 vss {R} l=4
XM1 a vcm s1 s1 {PL} W=40 L=0.5
XM2 b vgrad s2 s2 {PL} W=40 L=0.5
* the mirrors four times wider than the charging cell's (0.72 V across the diodes
* instead of 0.92 V): room for a cascode under an output at Vcm
XMa a a vss vss {N} W=16 L=4
XMb b b vss vss {N} W=16 L=4
XMoa na a vss vss {N} W=16 L=4
XMob nn b vss vss {N} W=16 L=4
XMca outp vbn na vss {N} W=8 L=1
XMcb outn vbn nn vss {N} W=8 L=1
* the sources of I0, gate g set by the common-mode loop, cascoded
XMsa pa g vdd vdd {PL} W=64 L=8
XMsb pn g vdd vdd {PL} W=64 L=8
XMda outp vbp pa vdd {PL} W=16 L=1
XMdb outn vbp pn vdd {PL} W=16 L=1
* common-mode loop: two NMOS pairs (5 uA tails) compare outp and outn with vcm; their
* vcm halves (5 uA at balance) feed the PMOS diode g, 14/64 of a source (trimmed: the
* outputs' mean at vcm within 20 mV at tt): the outputs' mean rising lowers both
* sources. Small gates: outp, outn change sides at every chopper edge, and their
* capacitance carries the integrator's offset across
XMq1 vdd outp tq1 vss {NL} W=1 L=1
XMq2 g vcm tq1 vss {NL} W=1 L=1
XMq3 vdd outn tq2 vss {NL} W=1 L=1
XMq4 g vcm tq2 vss {NL} W=1 L=1
XMtq1 tq1 nb vss vss {N} W=1 L=1
XMtq2 tq2 nb vss vss {N} W=1 L=1
XMg g g vdd vdd {PL} W=14 L=8
* cascode biases (5 uA diodes): vbn about 1.13 V, vbp about 0.61 V
XMbn1 vbn vbn vss vss {N} W=1 L=8
XMbn2 vbn pb vdd vdd {PL} W=16 L=2
XMbp1 vbp vbp vdd vdd {PL} W=1 L=4
XMbp2 vbp nb vss vss {N} W=1 L=1
.ends aann_charging_diff
"""


def _with_reference(text: str) -> str:
    """:data:`CHARGING_DIFF` with its input pair's reference gate (``XM1``, on ``vcm``) on
    a port of its own, ``vref``, renamed ``aann_charging_diff_ref``: the same devices, so
    the two cannot drift apart. The charging cells' own chopper (``[offset_cancellation]
    charging_periods``) swaps ``vgrad`` and ``vref`` with a quad of switches."""
    swaps = ((".subckt aann_charging_diff vgrad vteach",
              ".subckt aann_charging_diff_ref vgrad vref vteach"),
             ("XM1 a vcm s1 s1", "XM1 a vref s1 s1"),
             (".ends aann_charging_diff", ".ends aann_charging_diff_ref"))
    for old, new in swaps:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    head = ["* The differential charging source with its reference input on a port (vref;",
            "* aann_charging_diff ties it to vcm): I(outp) - I(outn) = -Keta*(Vgrad - Vref).",
            "* For a chopper of its own that swaps vgrad and vref"]
    return "\n".join(head) + "\n" + text


CHARGING_DIFF_REF = _with_reference(CHARGING_DIFF)

INTEGRATOR_FD = f"""\
* Fully differential integrator amplifier (a differential weight cell): a folded cascode
* OTA with common-mode feedback, V(outp) - V(outn) = A*(V(inp) - V(inn)), the outputs'
* mean held near vcm. The weight capacitors go outside, C from inp to outn and C from inn
* to outp: a current I into inp and -I into inn gives d(V(outp) - V(outn))/dt = 2I/C.
* The inputs' common mode is not held (the caps carry it): the cell driving them must
* hold it (aann_charging_diff does). About 37 uA; A above 71 dB over +-0.4 V (tt to fs)
.subckt aann_integrator_fd inp inn outp outn vcm vdd vss
* bias: Rb into an NMOS diode sets about 5 uA; a PMOS diode pb at 5 uA
XRb vdd nb vss {R} l=34
XMnb nb nb vss vss {N} W=2 L=2
XMn2 pb nb vss vss {N} W=2 L=2
XMpb pb pb vdd vdd {PL} W=4 L=2
* an NMOS pair (large: its mismatch is the offset the chopped path does not cancel) on
* a 10 uA tail; inp rising draws more from fn, outn falls
XMt tail nb vss vss {N} W=4 L=2
XM1 fn inp tail vss {NL} W=160 L=2
XM2 fp inn tail vss {NL} W=160 L=2
* folded: 10 uA PMOS sources, PMOS cascodes down to the outputs, NMOS cascodes over
* 5 uA sinks whose gate cm the common-mode feedback sets
XMp3 fp pb vdd vdd {PL} W=32 L=8
XMp4 fn pb vdd vdd {PL} W=32 L=8
XMc3 outp vbp fp vdd {PL} W=8 L=1
XMc4 outn vbp fn vdd {PL} W=8 L=1
XMn3 outp vbn sp vss {N} W=4 L=1
XMn4 outn vbn sn vss {N} W=4 L=1
XMs3 sp cm vss vss {N} W=8 L=8
XMs4 sn cm vss vss {N} W=8 L=8
* CMFB: two PMOS pairs (5 uA tails, long: their current must not follow the outputs)
* compare outp and outn with vcm; their vcm halves feed the NMOS diode cm: the outputs'
* mean rising raises cm and the sinks pull it down. The sum of the vcm halves does not
* change with the differential output (each pair's share is an odd function of it)
XMk1 tk1 pb vdd vdd {PL} W=16 L=8
XMk2 tk2 pb vdd vdd {PL} W=16 L=8
XMr1 vss outp tk1 vdd {PL} W=4 L=1
XMr2 cm vcm tk1 vdd {PL} W=4 L=1
XMr3 vss outn tk2 vdd {PL} W=4 L=1
XMr4 cm vcm tk2 vdd {PL} W=4 L=1
XMcm cm cm vss vss {N} W=9 L=8
* cascode biases (5 uA diodes): vbp about 0.79 V, vbn about 1.13 V
XMbp1 vbp vbp vdd vdd {PL} W=1 L=2
XMbp2 vbp nb vss vss {N} W=2 L=2
XMbn1 vbn vbn vss vss {N} W=1 L=8
XMbn2 vbn pb vdd vdd {PL} W=4 L=2
.ends aann_integrator_fd
"""

R_WIDE = "sky130_fd_pr__res_xhigh_po_1p41"
R_WIDEST = "sky130_fd_pr__res_xhigh_po_5p73"

MULTIPLIER_LM = f"""\
* Low-mismatch four-quadrant multiplier: the Gilbert cell of aann_multiplier (same ports,
* same law I(out) = Km*(V1-Vcm)*(V2-Vcm), Km = 2/(I0*Rs1'*Rs2'), Rs' = Rs + the pair's
* 2/gm), sized for the PDK's mismatch models: tt_mm, 8 samples, Km 0.23 %, Voff1 1.0 mV,
* Voff 0.9 mV, Ioff 0.06 uA rms against 4 %, 11 mV, 13 mV, 0.75 uA. Km 1.27e-4 A/V^2
* (twice the other's), V1 and V2 in +-0.2 V (V1 to +-0.3 V within 1.2 % of full scale);
* 97 uA, 7.7 times the area. The old cell's spread came from the quad and its diodes
* (weak inversion: their VT spread times I0*Rs1/(2 n UT) into Voff1, their pairs'
* mismatch times the quad's current into Ioff), the 0.35 um resistors (4 % each at
* l = 4: Km), the output mirrors (their mismatch times the 20 uA they carry: Ioff), the
* tail mirrors and the input pairs (Voff1, Voff): docs/cells.md
.subckt aann_multiplier_lm v1 v2 out vcm vdd vss
* bias: 10 uA as aann_multiplier's, from a wide resistor (1.41 um, about 124 kOhm: 0.3 %
* mismatch, not 1.4 %) and 8x8 NMOS diodes: I0 and so Km match from cell to cell
XRb vdd nb vss {R_WIDE} l=84
XMnb nb nb vss vss {N} W=8 L=8
XMnp pb nb vss vss {N} W=8 L=8
XMpb pb pb vdd vdd {PL} W=32 L=8
* input 2: a PMOS pair degenerated by Rs2 (5.73 um wide, about 16 kOhm) on two tails of
* I0' = 10 uA (half aann_multiplier's): the quad and the output mirrors carry 10 uA, not
* 20, and every offset current they make is half as large. Ia = I0' + V2/Rs2', Ib =
* I0' - V2/Rs2' (Rs2' = Rs2 + the pair's 2/gm) into long NMOS diodes (16x16: strong
* inversion, 0.2 mV of VT spread) mirrored 1:1 as the quad's tails
XMt1 s1 pb vdd vdd {PL} W=32 L=8
XMt2 s2 pb vdd vdd {PL} W=32 L=8
XRs2 s1 s2 vss {R_WIDEST} l=46
XM1 a vcm s1 s1 {PL} W=120 L=3
XM2 b v2 s2 s2 {PL} W=120 L=3
XMa a a vss vss {N} W=16 L=16
XMb b b vss vss {N} W=16 L=16
* input 1: the same on I0 = 20 uA tails and Rs1 (5.73 um wide, about 15 kOhm), Ix = I0 +
* V1/Rs1', Iy = I0 - V1/Rs1' into NMOS diodes over Rk (bodies tied to sources: deep
* n-well); pairs of 360 um^2 (Voff1, Voff: the pair's VT spread 1:1)
XMt3 s3 pb vdd vdd {PL} W=64 L=8
XMt4 s4 pb vdd vdd {PL} W=64 L=8
XRs1 s3 s4 vss {R_WIDEST} l=42
XM7 x vcm s3 s3 {PL} W=120 L=3
XM8 y v1 s4 s4 {PL} W=120 L=3
XMx x x k k {N} W=60 L=12
XMy y y k k {N} W=60 L=12
XRk k vss vss {R_WIDE} l=6
* the quad (regular NMOS, 360 um^2 each against aann_multiplier's 10, at half the diodes'
* current density as there): Ip - In = (Ia - Ib) (Ix - Iy)/(Ix + Iy), the polynomial
* law within 0.5 % of full scale though the devices are in moderate inversion
XMta ta a vss vss {N} W=16 L=16
XMtb tb b vss vss {N} W=16 L=16
XM3 p x ta ta {N} W=30 L=12
XM4 n y ta ta {N} W=30 L=12
XM5 n x tb tb {N} W=30 L=12
XM6 p y tb tb {N} W=30 L=12
* output: Ip sourced, In sunk, as in aann_multiplier, each mirror at 10 uA: PMOS 20x10
* and a long NMOS (10x20, strong inversion: about 0.2 %
* of its 10 uA)
XMpp p p vdd vdd {PL} W=20 L=10
XMpn n n vdd vdd {PL} W=20 L=10
XMpo out p vdd vdd {PL} W=20 L=10
XMpm m n vdd vdd {PL} W=20 L=10
XMm m m vss vss {N} W=10 L=20
XMno out m vss vss {N} W=10 L=20
.ends aann_multiplier_lm
"""

CELLS = {
    "multiplier": Cell("aann_multiplier", "multiplier", PORTS["multiplier"], MULTIPLIER),
    "sigmoid": Cell("aann_sigmoid", "activation", PORTS["activation"], SIGMOID),
    "derivative": Cell("aann_derivative", "derivative", PORTS["derivative"], DERIVATIVE),
    "charging": Cell("aann_charging", "charging", PORTS["charging"], CHARGING),
    "switch": Cell("aann_switch", "switch", PORTS["switch"], SWITCH),
    "error": Cell("aann_error", "error", PORTS["error"], ERROR),
    "multiplier_lm": Cell("aann_multiplier_lm", "multiplier", PORTS["multiplier"],
                          MULTIPLIER_LM),
}
"""The built-in cells by name (the ``CELL`` of ``aann characterize``)."""

GLUE = {
    "derivative_core": Cell("aann_derivative_core", "derivative_core", PORTS["derivative"],
                            DERIVATIVE_CORE),
    "transresistance": Cell("aann_transresistance", "transresistance",
                            PORTS["transresistance"], TRANSRESISTANCE),
    "integrator": Cell("aann_integrator", "integrator", PORTS["integrator"], INTEGRATOR),
    "charging_diff": Cell("aann_charging_diff", "charging_diff", PORTS["charging_diff"],
                          CHARGING_DIFF),
    "charging_diff_ref": Cell("aann_charging_diff_ref", "charging_diff_ref",
                              PORTS["charging_diff_ref"], CHARGING_DIFF_REF),
    "integrator_fd": Cell("aann_integrator_fd", "integrator_fd", PORTS["integrator_fd"],
                          INTEGRATOR_FD),
}
"""The cells of a network's glue that have no block law to characterize (the derivative
core reads a voltage, the transresistance is a resistor, the integrator is an amplifier
around a weight capacitor; the chopped path's differential charging cell and integrator,
which only work together): :mod:`aann.cells.glue`, :mod:`aann.cells.integrator`,
:mod:`aann.cells.chopped`."""
