"""The chopped differential charging path (docs/cells.md, "Chopped charging path
(differential)"): ``aann_charging_diff`` -> a quad of ``switch`` cells (the demodulator) ->
``aann_integrator_fd``. What a weight needs from it (the native study, docs/cells.md "A
network with the glue cells"): the cell's offset inside the chopper (the residual at least
10 times below the un-chopped offset), ``Keta`` kept (the chopper costs only the edges'
settling), and a leak at least 1000 times slower than the charging cell's ``R_out`` on the
capacitor. Marked ``ngspice`` and ``sky130`` as tests/test_cells.py; tt only, one mismatch
sample (the corners and four samples are in docs/cells.md)."""

import numpy as np
import pytest

import aann

A_NEEDED_DB = 60.0  # the native study: an integrator of 60 dB learns XOR 8/8


@pytest.fixture(scope="module")
def open_loop():
    from aann.cells.chopped import measure_open_loop

    return measure_open_loop("tt")


@pytest.fixture(scope="module")
def path():
    from aann.cells.chopped import measure_path

    return measure_path("tt", periods=6, skip=3)


@pytest.fixture(scope="module")
def sample():
    from aann.cells.chopped import measure_path

    return measure_path("tt", periods=6, skip=3, seed=1, samples=1)


@pytest.mark.ngspice
@pytest.mark.sky130
def test_integrator_fd_gain_common_mode_and_stability(open_loop):
    """Over the differential output +-0.4 V the DC gain is at least the 60 dB a weight
    needs, and the operating points agree with it (``V(inp) - V(inn)`` moves by ``1/A``
    per volt of output: the slope at 0 within 10 % of the AC gain there); nominal devices
    are symmetric, so the offset is nil (under a microvolt); the common-mode feedback
    holds the outputs' mean within 0.1 V of Vcm over the range (74 mV at worst, fs). With
    1 and 20 pF per side the differential loop has at least 45 degrees of phase margin,
    its low-frequency gain the open-loop gain times the feedback factor ``C/(C + C_in)``:
    at most the open-loop gain and, ``C_in`` (the input pair's gates, ``W L Cox`` =
    2.7 pF, and the rest) under 5 pF, within 20 dB at 1 pF and 2 dB at 20 pF. The supply
    is at most the drawn 50 uA (ten times the 5 uA bias) and more than half of it."""
    from aann.cells.library import VCM

    ol = open_loop
    assert ol.min_gain_dB >= A_NEEDED_DB
    mid = len(ol.V) // 2
    A_mid = 10 ** (ol.gain_dB[mid] / 20)
    slope = (ol.Vin[mid + 1] - ol.Vin[mid - 1]) / (ol.V[mid + 1] - ol.V[mid - 1])
    assert slope * A_mid == pytest.approx(1.0, rel=0.1)
    assert abs(ol.Voff) < 1e-6
    assert max(abs(cm - VCM) for cm in ol.out_cm) < 0.1
    assert ol.feedback == (1e-12, 20e-12)
    assert all(pm >= 45 for pm in ol.phase_margin)
    assert all(loop <= ol.gain_dB[mid] + 0.1 for loop in ol.loop_gain_dB)
    assert ol.loop_gain_dB[0] > ol.gain_dB[mid] - 20 and ol.loop_gain_dB[1] > ol.gain_dB[mid] - 2
    assert 25e-6 < ol.Isupply <= 50e-6


@pytest.mark.ngspice
@pytest.mark.sky130
@pytest.mark.slow
def test_chopped_path_keeps_keta_and_has_no_nominal_offset(path):
    """The path's ``Keta`` (stopped, from ``+-Vg``) is the charging cell's: the same input
    stage, its currents mirrored 1:1 (within 3 %; the mirrors' drains differ, cascoded
    here). Chopped, with the gradient chopped as a network's modulators deliver it, it
    loses only what the edges cost: ``2 tau/h`` for the chain's settling ``tau`` (a few
    ns against the 1.25 us half period: between 0 and 3 %). At ``Vgrad`` = 0 the nominal
    path is symmetric: no offset current, chopped or not (under 0.1 pA, where the
    single-ended cell puts 12.7 nA into its weight), and no ripple (under 10 uV)."""
    from aann.cells.characterization import measure
    from aann.cells.library import CELLS

    sweep, _ = measure(CELLS["charging"], points=5, half=0.01)
    keta_cell = -np.polyfit(sweep.axes[0], sweep.y, 1)[0]
    assert path.keta_stopped == pytest.approx(keta_cell, rel=0.03)
    assert 0 < path.keta_loss < 0.03
    assert abs(path.I_chopped[0]) < 1e-13 and abs(path.I_stopped[0]) < 1e-13
    assert path.ripple[0] < 10e-6
    assert path.Q_edge[0] == pytest.approx(path.I_chopped[0] / (2 * path.f_chop))


@pytest.mark.ngspice
@pytest.mark.sky130
def test_chopped_path_leaks_a_thousand_times_slower_than_the_cell(path, open_loop):
    """The weight's leak, chopped or not, is at least 1000 times the charging cell's
    ``R_out`` (the native study's bound), and the chopper only adds to the conductance the
    cell's outputs present (their capacitance changes sides at every edge): the chopped
    leak is the faster. The supply currents: the cell's at most the drawn 110 uA (at a
    10 uA bias, which its ``Rb`` sets lower) and above half of it; each integrator's what
    it draws alone (within 1 %: the weights do not change a folded cascode's current)."""
    from aann.cells.glue import measure_charging_output

    R_out = measure_charging_output("tt")["R_out"]
    assert path.R_leak_stopped >= 1000 * R_out
    assert path.R_leak_chopped >= 1000 * R_out
    assert path.R_leak_chopped < path.R_leak_stopped
    assert 55e-6 < path.I_cell <= 110e-6
    assert path.I_integrator == pytest.approx(open_loop.Isupply, rel=0.01)


@pytest.mark.ngspice
@pytest.mark.sky130
@pytest.mark.slow
def test_chopper_cancels_the_mismatch_offset(sample):
    """One mismatch sample: stopped, the cell's mismatch (its mirrors carry 20 uA) is an
    offset current of tens to hundreds of nA; chopped it is demodulated: the weight
    ripples by that current over each half period, ``|I| T/(2C)`` on the capacitors, and
    the weight ``V(outp) - V(outn)`` besides steps by the virtual grounds' ``2|I|/gm`` at
    each edge (``gm`` of the amplifier's input pair in weak inversion, 5 uA/(n UT), about
    150 uS: 18 % more at 16.6 pF and 400 kHz; between 5 and 35 %); the residual drift is
    at least 10 times smaller (the chopper's purpose; measured: over a thousand times)."""
    s = sample
    assert abs(s.I_stopped[0]) > 1e-9
    assert abs(s.Voff_chopped[0]) * 10 <= abs(s.Voff_stopped[0])
    T = 1 / s.f_chop
    assert 1.05 < s.ripple[0] / (abs(s.I_stopped[0]) * T / (2 * s.C)) < 1.35


def test_the_path_with_the_cells_own_chopper_swaps_the_cells_inputs():
    """``f_inner``: each copy's cell is ``aann_charging_diff_ref``, fed by a quad on ``s2``
    (after every copy: the copies' devices come in the order they have without it), its
    demodulator clocked by ``d = s XOR s2``; ``s2`` at phase 90 toggles only while ``s``
    chops, and none of its edges meets one of ``s``."""
    from aann.cells import chopped
    from aann.cells.library import VDD

    plain = chopped.path_testbench(f_chop=100e3, periods=6, seed=1, samples=2)
    text = chopped.path_testbench(f_chop=100e3, periods=6, seed=1, samples=2, f_inner=800e3)
    lines = text.splitlines()
    inst = [line for line in lines if line.startswith("X")]
    quads = [line for line in inst if line.startswith("XI")]
    assert len(quads) == 4 * 3 and inst[-len(quads):] == quads
    assert [x.split()[0] for x in inst if not x.startswith("XI")] == [
        x.split()[0] for x in plain.splitlines() if x.startswith("X")]
    assert "Xcz1 gpz1 grz1 teach opz1 onz1 vcm vdc 0 aann_charging_diff_ref" in inst
    assert "XIk3 g grk s2b s2 vdd 0 aann_switch" in quads
    assert "XSz02 onz0 inz0 d db vdd 0 aann_switch" in inst
    pwl = {line.split()[0]: np.array(line.split("PWL(")[1].rstrip(")").split(), float)
           for line in lines if line.split()[0] in ("Vs", "Vs2", "Vd")}
    T, t_chop, t_stop, _ = chopped._timeline(100e3, 6)
    s_edges, s2_edges = pwl["Vs"][2:-2:4], pwl["Vs2"][2:-2:4]
    assert len(s2_edges) == 2 * 8 * 6 and t_chop < s2_edges.min() < s2_edges.max() < t_stop
    assert np.min(np.abs(s_edges[:, None] - s2_edges[None, :])) == pytest.approx(T / 32)
    mid = t_chop + (np.arange(32 * 6) + 0.5) * T / 32
    level = {k: np.interp(mid, v[0::2], v[1::2]) > VDD / 2 for k, v in pwl.items()}
    np.testing.assert_array_equal(level["Vd"], level["Vs"] == level["Vs2"])


@pytest.mark.ngspice
@pytest.mark.sky130
@pytest.mark.slow
def test_the_cells_own_chopper_shrinks_the_ripple_of_their_offset(sample):
    """The mismatch sample of ``test_chopper_cancels_the_mismatch_offset`` with the cell's
    own chopper at 4 times the path's (``f_inner``, 1.6 MHz): the cell's un-chopped offset
    is about the same sample's (its draws move a little with the four switches added:
    measured 11 %); chopped 4 times as often, its triangle on the weight is 4 times
    smaller, ``|I| T/(8 C)``, to which the virtual grounds' step (``2|I|/gm``, the same at
    every edge, 4 times as many edges) adds: between 1 and 2 times that (measured 1.69),
    and under half the ripple without it; the gradient still passes (``Keta`` chopped
    within 6 % of stopped: measured 4.2 %, the cell's edges at 1.6 MHz) and the residual
    drift stays 10 times below the offset (measured 600 times)."""
    from aann.cells.chopped import measure_path

    n = measure_path("tt", periods=6, skip=3, seed=1, samples=1, f_inner=4 * sample.f_chop)
    assert n.Voff_stopped[0] == pytest.approx(sample.Voff_stopped[0], rel=0.2)
    T = 1 / n.f_chop
    assert 1.0 < n.ripple[0] / (abs(n.I_stopped[0]) * T / (8 * n.C)) < 2.0
    assert n.ripple[0] < sample.ripple[0] / 2
    assert n.keta_loss < 0.06
    assert abs(n.Voff_chopped[0]) * 10 <= abs(n.Voff_stopped[0])


def test_chopped_cells_text_and_argument_checks():
    """Both cells are glue with their own port kinds; the weight capacitors are outside
    the integrator (no capacitor in either cell); the path testbench has four switches per
    copy and shares the clocks; bad arguments are refused."""
    from aann.cells import chopped
    from aann.cells.library import GLUE, PORTS

    cd, fd = GLUE["charging_diff"], GLUE["integrator_fd"]
    assert cd.ports == PORTS["charging_diff"] == ("vgrad", "vteach", "outp", "outn", "vcm",
                                                   "vdd", "vss")
    assert fd.ports == PORTS["integrator_fd"] == ("inp", "inn", "outp", "outn", "vcm", "vdd",
                                                  "vss")
    assert "cap_" not in cd.text + fd.text
    text = chopped.path_testbench(seed=3, samples=2)
    assert sum(line.startswith("XS") for line in text.splitlines()) == 4 * 3
    assert ".option seed=3" in text
    assert "Vosz0" not in text and "Vosz0 ipxz0 ipz0 0.001" in chopped.path_testbench(vos=1e-3)
    with pytest.raises(aann.ValidationError, match="at least two periods"):
        chopped.measure_path(periods=4, skip=3)
    with pytest.raises(aann.ValidationError, match="twentieth"):
        chopped.measure_path(f_chop=100e6)
    with pytest.raises(aann.ValidationError, match="0 < W0"):
        chopped.measure_path(W0=0.5)
    with pytest.raises(aann.ValidationError, match="samples"):
        chopped.measure_path(seed=1, samples=0)
    with pytest.raises(aann.ValidationError, match="even multiple of f_chop"):
        chopped.measure_path(f_inner=600e3)
    with pytest.raises(aann.ValidationError, match="even multiple of f_chop"):
        chopped.measure_path(f_inner=chopped.F_CHOP)
    with pytest.raises(aann.ValidationError, match="odd number"):
        chopped.open_loop_testbench(points=4)
    with pytest.raises(aann.ValidationError, match="corner 'xx'"):
        chopped.measure_path("xx")
