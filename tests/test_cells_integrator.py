"""The integrator cell (``aann_integrator``, docs/cells.md "Integrator (weight cell)"): an
amplifier with the weight capacitor in its feedback, the charging cell at its virtual
ground. What it must do for a weight (docs/cells.md, "A network with the glue cells"): a
DC gain ``A`` of at least 60 dB over the weights' range (the native study: a leak of
``1/(1000 Keta R_out)`` per ``lambda`` is the most that XOR learns with), integrate a
current as ``-I/C``, stay stable with any weight capacitor, and so leak ``A`` times
slower than the charging cell on the capacitor alone. Marked ``ngspice`` and ``sky130``
as tests/test_cells.py; tt only (the corners are in docs/cells.md)."""

import numpy as np
import pytest

import aann

A_NEEDED_DB = 60.0  # the native study: A = 1000 learns XOR 8/8 where A = 100 does not


@pytest.fixture(scope="module")
def open_loop():
    from aann.cells.integrator import measure_open_loop

    return measure_open_loop("tt")


@pytest.fixture(scope="module")
def drift():
    from aann.cells.integrator import measure_drift

    return measure_drift(corner="tt")


@pytest.mark.ngspice
@pytest.mark.sky130
def test_integrator_gain_offset_supply_and_stability(open_loop):
    """Over the output range Vcm +- 0.4 V the DC gain is at least the 60 dB a weight
    needs; the servo's operating points agree with the AC gain (``V(in) - Vcm`` falls by
    ``1/A`` per volt of output: the slope at Vcm within 10 % of the AC gain there), and
    the loop gain with the feedback capacitor at the lowest frequency is that gain
    (``beta`` = C_f/(C_f + C_in) within 0.5 dB of 1: the input is a gate). The offset is
    under 1 mV (systematic only: nominal devices), the supply current the drawn bias
    (5 uA in Rb, 10 uA tail, 20 uA second stage: 35 uA) within 30 %, and the loop with 1
    and 20 pF in feedback and 1 pF on out has at least 45 degrees of phase margin."""
    from aann.cells.integrator import open_loop_testbench

    ol = open_loop
    assert ol.min_gain_dB >= A_NEEDED_DB
    mid = len(ol.V) // 2
    A_mid = 10 ** (ol.gain_dB[mid] / 20)
    slope = (ol.Vin[mid + 1] - ol.Vin[mid - 1]) / (ol.V[mid + 1] - ol.V[mid - 1])
    assert -slope * A_mid == pytest.approx(1.0, rel=0.1)
    for loop in ol.loop_gain_dB:
        assert abs(loop - ol.gain_dB[mid]) < 0.5
    assert abs(ol.Voff) < 1e-3
    assert 0.7 * 35e-6 < ol.Isupply < 1.3 * 35e-6
    assert ol.feedback == (1e-12, 20e-12)
    assert all(pm >= 45 for pm in ol.phase_margin)
    text = open_loop_testbench(points=3, feedback=(2e-12,))  # the copies it runs
    instances = [line for line in text.splitlines()
                 if line.startswith("X") and line.endswith(" aann_integrator")]
    assert len(instances) == 3 + 2 and "Cf00 n00 y00 2e-12" in text
    assert all(1e6 < f < 1e8 for f in ol.f_unity)


@pytest.mark.ngspice
@pytest.mark.sky130
def test_integrator_integrates_a_current_as_minus_i_over_c(open_loop):
    """10 nA into ``in`` with 1 pF from ``in`` to ``out``: ``V(out)`` ramps at ``-I/C`` =
    -10 mV/us as a straight line. The slope's error is ``-1/(1 + A)`` (0.02 % at the
    range's least gain) plus the transient's tolerance: within 0.1 %; the line misses by
    under 0.1 % of its span; the virtual ground moves by the output's span over ``A``."""
    from aann.cells.integrator import measure_integration

    it = measure_integration(10e-9, 1e-12, "tt")
    assert it.ideal == pytest.approx(-1e4)
    assert abs(it.error_pct) < 0.1
    assert it.line_pct < 0.1
    span = 0.9 * 2 * 0.3
    A_min, A_max = (10 ** (g / 20) for g in (min(open_loop.gain_dB), max(open_loop.gain_dB)))
    assert span / A_max * 0.9 < it.Vin_span < span / A_min * 1.1


@pytest.mark.ngspice
@pytest.mark.sky130
def test_integrator_holds_a_weight_a_gain_times_longer(open_loop, drift):
    """The charging cell (learning, ``Vgrad`` = 0) on a 16.6 pF weight from +-0.3 V. On
    the capacitor alone the weight leaks through the cell's output resistance (a chord
    of about a megaohm over +-0.3 V, at most ``R_out`` at Vcm: the conductance grows
    towards the rails). At the integrator's virtual ground the cell sees ``V(in) - Vcm``
    = ``Voff - W/A`` only: the leak is ``A R_out`` with ``A`` the chord gain over
    +-0.3 V (from the servo's operating points), within 10 %, so at least 1000 times
    (60 dB) slower than on the capacitor; what remains of the drift is the cell's offset
    current ``I0``, integrated (the same current as on its own, within 2 %)."""
    from aann.cells.glue import measure_charging_output
    from aann.cells.integrator import T_SETTLE

    out = measure_charging_output("tt")
    d = drift
    assert 0.5e6 < d.R_leak_direct <= out["R_out"] * 1.02
    k = [open_loop.V.index(pytest.approx(v)) for v in (-0.3, 0.3)]
    A_chord = 0.6 / (open_loop.Vin[k[0]] - open_loop.Vin[k[1]])
    assert d.R_leak_int == pytest.approx(A_chord * out["R_out"], rel=0.1)
    assert d.ratio >= 10 ** (A_NEEDED_DB / 20)
    # the rest is the cell's current at V(in) (the amplifier's offset, -0.2 mV, adds
    # -V(in)/R_out, about 1 % of I0): both weights ramp at -I/C together
    I_cell = out["I0"] - np.mean(d.Vin) / out["R_out"]
    assert d.I_int == pytest.approx(I_cell, rel=0.01)
    np.testing.assert_allclose(d.dW_int, -d.I_int / d.C * (d.t - T_SETTLE), rtol=0.01)
    # on the capacitor alone both weights fall towards I0 R_out, by 0.1 V and more here
    assert d.dW_direct[0][1] < -0.1 and d.dW_direct[1][1] > 0.1


def test_integrator_cell_text_and_argument_checks():
    """The cell is registered as glue with its own port kind, the weight capacitor is not
    inside it (the subcircuit's only capacitor is the compensation's), and the measurements
    refuse arguments they cannot use."""
    from aann.cells import integrator
    from aann.cells.library import GLUE, PORTS

    cell = GLUE["integrator"]
    assert cell.ports == PORTS["integrator"] == ("in", "out", "vcm", "vdd", "vss")
    assert cell.text.count("cap_mim") == 1 and ".subckt aann_integrator in out vcm" in cell.text
    with pytest.raises(aann.ValidationError, match="odd number"):
        integrator.open_loop_testbench(points=4)
    with pytest.raises(aann.ValidationError, match="I != 0"):
        integrator.measure_integration(0.0)
    with pytest.raises(aann.ValidationError, match="0 < W0"):
        integrator.measure_drift(W0=0.5)
    with pytest.raises(aann.ValidationError, match="corner 'xx'"):
        integrator.measure_open_loop("xx")
