"""The glue cells of a network of SkyWater 130 nm cells (docs/cells.md, "Glue cells"):
the Type1 error cell (its law, gain and offset, its fit.toml), the derivative core (the
derivative cell less its input resistor: with the resistor added back it is that cell),
the transresistance (the PDK's resistor equation, ``1/Km`` of the multiplier cell).
Marked ``ngspice`` and ``sky130`` as tests/test_cells.py; the derivative and multiplier
sweeps are that file's (shared under ``make test``, tests/conftest.py)."""

import tomllib

import numpy as np
import pytest

import aann
from aann.cells import CELLS, characterize
from aann.cells.characterization import evaluate, full_scale, measure

FIT_PCT = 2.0  # the analytic law, % of full scale over the fitted range (as every cell)
GAIN_BAND = 0.03  # |Ke - 1|: 2 Rl/Rs' with Rs' = Rs + 2/gm, Rl drawn for Ke = 1 at tt
OFFSET_V = 1e-3  # |Voff| at tt: a quarter of a percent of the +-0.4 V error range


@pytest.fixture(scope="module")
def error_cell():
    return characterize("error", points=9)


@pytest.mark.ngspice
@pytest.mark.sky130
def test_error_cell_is_the_difference_law_within_2pct(error_cell):
    """V(out) - Vcm = Vout - Vtarget + Voff within 2 % of full scale over +-0.2 V of each
    input (the engines' law: gain 1); the gain fitted beside it is 1 within the band the
    drawing allows, the offset at tt under 1 mV; the output rises with Vout and falls
    with Vtarget at every point."""
    ch = error_cell
    assert ch.best.law == "difference"  # the law fit.toml sets
    fs = full_scale(ch.sweep)
    pred = evaluate("error", ch.best.block("error"), ch.sweep.inputs)
    assert np.max(np.abs(pred - ch.sweep.y)) / fs * 100 <= FIT_PCT
    assert 0.7 < fs < 0.9  # the span of Vout - Vtarget, 0.8 V, times Ke
    gain = next(f for f in ch.fits if f.law == "gain")
    assert abs(gain.constants["Ke"] - 1) < GAIN_BAND
    assert abs(ch.best.constants["Voff"]) < OFFSET_V
    assert np.all(np.diff(ch.sweep.y, axis=0) > 0) and np.all(np.diff(ch.sweep.y, axis=1) < 0)
    assert ch.table_errors()[0] <= 0.5  # the table at the midpoints, as every cell's
    assert 1e5 < ch.extra["f3dB_Hz"] < 1e10 and ch.extra["Isupply_A"] > 0


@pytest.mark.ngspice
@pytest.mark.sky130
def test_error_fit_toml_loads_with_its_gain_as_a_comment(error_cell, tmp_path):
    from aann.cells.outputs import fit_toml, write_outputs

    text = fit_toml(error_cell, tmp_path / "sweep.csv")
    cfg = aann.spec.from_dict(tomllib.loads(text))
    assert cfg.blocks.error.law == "difference"
    assert cfg.blocks.error.Voff == pytest.approx(error_cell.best.constants["Voff"])
    assert cfg.blocks.error.f3dB == pytest.approx(error_cell.extra["f3dB_Hz"])
    assert "# the cell's gain: Ke = " in text and "table =" not in text
    paths = write_outputs(error_cell, tmp_path)
    assert all(p.stat().st_size > 0 for p in paths)
    header = (tmp_path / "sweep.csv").read_text().splitlines()[0]
    assert header == "Vout,Vtarget,VE_measured,VE_fit,VE_table"


@pytest.mark.ngspice
@pytest.mark.sky130
def test_derivative_core_with_its_resistor_is_the_derivative_cell():
    """The core plus the derivative cell's XRin, swept as the cell is, gives the cell's
    sweep: the same devices (the core is the cell's text less XRin)."""
    from aann.cells.glue import measure_derivative_core
    from aann.cells.library import GLUE

    assert "XRin" not in GLUE["derivative_core"].text
    cell, _ = measure(CELLS["derivative"], points=21)  # tests/test_cells.py's sweep
    core = measure_derivative_core(points=21)
    np.testing.assert_array_equal(core.axes[0], cell.axes[0])
    np.testing.assert_allclose(core.y, cell.y, rtol=0, atol=1e-9)
    assert np.ptp(cell.y) > 0.1


@pytest.mark.ngspice
@pytest.mark.sky130
def test_transresistance_is_the_pdk_resistor_and_1_over_km():
    """R at Vcm is the PDK's equation for its drawn length (the 2 kOhm/sq poly with its
    heads, current crowding and substrate factor) within 0.1 %, linear within 0.1 % over
    +-0.2 V; and it is 1/Km of the multiplier cell at tt within 2 % (at ss and ff, each a
    model load more, R is the same: the resistor corner is nominal in each, docs/cells.md)."""
    from aann.cells.glue import measure_transresistance

    tt = measure_transresistance("tt")
    assert tt["R"] == pytest.approx(tt["R_pdk"], rel=1e-3)
    assert tt["nonlinearity_pct"] < 0.1
    mult = characterize("multiplier", points=7, bandwidth=False)  # tests/test_cells.py's
    assert tt["R"] * mult.best.constants["Km"] == pytest.approx(1.0, rel=0.02)


def test_pdk_resistance_follows_length_width_and_temperature():
    """The model equation: the body grows 2000 Ohm/sq * dl/weff' with the length, a wider
    resistor is smaller, and the body's temperature coefficient (-0.25 %/K) only with
    ``body_tc``."""
    from aann.cells.glue import pdk_resistance

    weff = 0.35 - 0.056 - 0.0672 * (0.69 - 0.35)
    dR = pdk_resistance(3.1, v_sub=0.0) - pdk_resistance(2.1, v_sub=0.0)
    assert dR == pytest.approx(2000 / weff, rel=1e-12)
    assert pdk_resistance(2.1) < pdk_resistance(2.1, v_sub=0.0)  # the substrate below
    assert pdk_resistance(2.1, width=0.69) < pdk_resistance(2.1)
    hot = pdk_resistance(2.1, temp=35.0, body_tc=True) / pdk_resistance(2.1, temp=35.0)
    assert hot == pytest.approx(1 - 2.47e-3 * 10 + 2.7e-6 * 100, rel=2e-3)
    with pytest.raises(aann.ValidationError, match="corner 'xx'"):
        pdk_resistance(2.1, corner="xx")


def test_glue_cells_put_a_cell_in_every_block_of_the_network():
    """With ``glue = "cells"`` the netlist of a 2-2-1 has no controlled source (no B, E,
    F, G, H element): one error cell per output, one derivative core and one charging
    cell per neuron and weight, a transresistance per delta, per charge multiplier and
    per Type2 sum; the ideal glue has its B-sources and current copies instead. Keta and
    Km are the cells' own there, so giving them is refused, as is an unknown glue."""
    from aann.cells.cosim import cosim_netlist

    sizes, W0 = (2, 2, 1), aann.random_weights((2, 2, 1), 0, 0.05)
    X, Y = np.array([[0.0, 0.2], [0.2, 0.0]]), np.array([[0.16], [0.16]])
    kw = dict(t_row=10e-6, epochs=1, C=16e-12, Vbias=0.2)
    text = cosim_netlist(sizes, W0, X, Y, Keta=None, Km=None, glue="cells", **kw)
    elements = [line.split()[0] for line in text.splitlines()
                if line and line[0].isalpha() and not line.startswith(".")]
    top = [e for e in elements if e[0] in "BEFGH"]
    assert top == []
    instances = [line.split()[-1] for line in text.splitlines() if line.startswith("X")]
    count = {name: instances.count(name) for name in
             ("aann_error", "aann_derivative_core", "aann_charging", "aann_transresistance",
              "aann_multiplier", "aann_derivative")}
    n_weights, n_neurons = 2 * 3 + 1 * 3, 3
    assert count == {"aann_error": 1, "aann_derivative_core": n_neurons,
                     "aann_charging": n_weights,
                     "aann_transresistance": n_neurons + n_weights + 2,
                     "aann_multiplier": 2 * n_weights + n_neurons + 2, "aann_derivative": 0}
    ideal = cosim_netlist(sizes, W0, X, Y, Keta=1e-6, Km=6.55e-5, **kw)
    assert {e[:2] for e in ideal.split() if e[:2] in ("Be", "Bc", "Fd")} == {"Be", "Bc", "Fd"}
    with pytest.raises(aann.ValidationError, match="own Keta"):
        cosim_netlist(sizes, W0, X, Y, Keta=1e-6, Km=None, glue="cells", **kw)
    with pytest.raises(aann.ValidationError, match="needs Keta and Km"):
        cosim_netlist(sizes, W0, X, Y, Keta=None, Km=None, **kw)
    with pytest.raises(aann.ValidationError, match="glue 'wires'"):
        cosim_netlist(sizes, W0, X, Y, Keta=None, Km=None, glue="wires", **kw)


def test_integrators_hold_the_weights_of_the_glue_cells():
    """``weights = "integrator"``: per weight an integrator cell with the capacitor from
    its virtual ground to the weight node, the charging cell's gradient and reference
    inputs swapped (the integrator inverts) and its output switched onto the virtual
    ground by a switch cell clocked by ``teach`` and its complement; still no controlled
    source. Refused with the ideal glue and for an unknown holder."""
    from aann.cells.cosim import cosim_netlist

    sizes, W0 = (1, 1, 1), aann.random_weights((1, 1, 1), 0, 0.05)
    X, Y = np.array([[0.0], [0.2]]), np.array([[0.16], [0.04]])
    kw = dict(t_row=10e-6, epochs=1, C=16e-12, Vbias=0.2, Keta=None, Km=None, glue="cells")
    text = cosim_netlist(sizes, W0, X, Y, weights="integrator", readout=True, **kw)
    lines = text.splitlines()
    assert [line.split()[0] for line in lines if line[:1] in ("B", "E", "F", "G", "H")] == []
    assert "Cw0_0_1 vgw0_0_1 w0_0_1 1.6e-11" in lines
    assert "Xiw0_0_1 vgw0_0_1 w0_0_1 vcm vdd 0 aann_integrator" in lines
    assert "Xcw0_0_1 vcm vdd cow0_0_1 cgw0_0_1 vdd 0 aann_charging" in lines
    assert "Xsww0_0_1 cow0_0_1 vgw0_0_1 teach teachb vdd 0 aann_switch" in lines
    teach = next(line for line in lines if line.startswith("Vteach "))
    teachb = next(line for line in lines if line.startswith("Vteachb "))
    # learning for the epoch's two rows, then held for the read-out epoch
    assert teach.endswith("PWL(0 1.8 2e-05 1.8 2.01e-05 0)")
    assert teachb.endswith("PWL(0 0 2e-05 0 2.01e-05 1.8)")
    assert sum(line.startswith("X") and line.endswith(" aann_integrator")
               for line in lines) == 4  # 2 + 2 weights
    with pytest.raises(aann.ValidationError, match="needs glue"):
        cosim_netlist(sizes, W0, X, Y, **{**kw, "glue": "ideal", "Keta": 1e-6, "Km": 1e-4},
                      weights="integrator")
    with pytest.raises(aann.ValidationError, match="weights 'wire'"):
        cosim_netlist(sizes, W0, X, Y, weights="wire", **kw)


@pytest.mark.ngspice
@pytest.mark.sky130
def test_charging_cell_leaks_its_weight_and_kicks_it_when_switched_off():
    """The charging cell at its weight node, zero gradient, tt (docs/cells.md, "A network
    with the glue cells"): learning, its output is a current ``I0`` of a few nA with an
    output resistance of about a megaohm (two L = 4 um mirrors at 20 uA), 1/(64 Keta):
    a leak of ``t_row/(R_out C)`` per row. Switched off by ``vteach``, it puts a charge
    into the weight that does not depend on the capacitor (a charge, not a voltage), and
    leaks nA into it in hold."""
    from aann.cells.glue import measure_charging_hold, measure_charging_output

    out = measure_charging_output("tt")
    assert 0.5e6 < out["R_out"] < 3e6 and 0 < out["I0"] < 50e-9
    assert out["G_max"] > 1 / out["R_out"]  # steeper towards the rails
    i = out["I"][np.argsort(out["V"])]
    assert np.all(np.diff(i) < 0)  # a leak: the higher the weight, the less current in
    small, large = (measure_charging_hold(C, "tt") for C in (1e-12, 16e-12))
    assert 50e-15 < small["Q_edge"] < 1e-12
    assert large["Q_edge"] == pytest.approx(small["Q_edge"], rel=0.15)
    assert abs(large["dV_edge"]) < abs(small["dV_edge"]) / 10
    assert 0.1e-9 < abs(large["I_hold"]) < 20e-9


def _pwl_of(line: str):
    """The points of a PWL source line: ``(times, values)``."""
    v = np.array(line.split("PWL(")[1].rstrip(")").split(), float)
    return v[0::2], v[1::2]


@pytest.mark.parametrize("phase", [0, 90])
def test_chopped_weights_put_the_chopper_and_the_differential_path_in_the_network(phase):
    """``weights = "chopped"`` on a 2-3-1 of ``multiplier_lm``: still no controlled
    source; per weight one differential charging cell (its ``vteach`` at ``vdd``: always
    biased), one FD integrator with its two capacitors, a quad of switches and two
    that dump the cell's outputs into vcm while not learning, and per output an input
    modulator of four more; every multiplier is the cell's variant with
    reference ports, those reading a weight referred to its other side; the
    transresistances drawn for the low-mismatch cell's Km. The chopper's clocks: per row
    ``chopper_periods`` periods of ``s = sgn sin(2 pi t / period + phase)`` (high first),
    the quads' clocks ``s``/``sb`` gated by ``teach``, and in the read-out epoch ``s`` held
    high, every quad open and the dump switches (``teachb``) closed.
    The ``.ic`` splits each weight around Vcm."""
    from aann.cells.cosim import cosim_netlist
    from aann.cells.library import VCM, VDD

    sizes, W0 = (2, 3, 1), aann.random_weights((2, 3, 1), 0, 0.05)
    X = np.array([[-0.1, -0.1], [-0.1, 0.1], [0.1, -0.1], [0.1, 0.1]])
    Y = np.array([[-0.1], [0.1], [0.1], [-0.1]])
    t_row, epochs, periods = 10e-6, 2, 4
    text = cosim_netlist(sizes, W0, X, Y, t_row=t_row, epochs=epochs, C=16e-12, Vbias=0.2,
                         Keta=None, Km=None, glue="cells", weights="chopped",
                         chopper_periods=periods, multiplier="multiplier_lm", readout=True,
                         chopper_phase=phase)
    lines = text.splitlines()
    assert [line.split()[0] for line in lines if line[:1] in ("B", "E", "F", "G", "H")] == []
    top = lines[max(k for k, line in enumerate(lines) if line.startswith(".ends")):]
    instances = [line.split() for line in top if line.startswith("X")]
    names = [x[-1] for x in instances]
    n_weights, n_neurons, n_out, n_type2 = 3 * 3 + 1 * 4, 4, 1, 3
    count = {name: names.count(name) for name in set(names)}
    assert count == {"aann_charging_diff": n_weights, "aann_integrator_fd": n_weights,
                     "aann_switch": 6 * n_weights + 4 * n_out, "aann_error": n_out,
                     "aann_sigmoid": n_neurons, "aann_derivative_core": n_neurons,
                     "aann_multiplier_lm_diff": 2 * n_weights + n_neurons + n_type2,
                     "aann_transresistance_lm": n_weights + n_neurons + n_type2}
    assert all(x[2] == "vdd" for x in instances if x[-1] == "aann_charging_diff")
    # two more switches per weight dump the cell's outputs into vcm while not learning
    assert "Xqw0_1_2_5 cpw0_1_2 vcm teachb teach vdd 0 aann_switch" in lines
    for x in instances:
        if x[-1] == "aann_multiplier_lm_diff":  # v1 v1r v2 v2r out ...
            for node, ref in ((x[1], x[2]), (x[3], x[4])):
                assert ref == ("wn" + node[1:] if node.startswith("w") else "vcm")
    forward = [x for x in instances if x[-1] == "aann_multiplier_lm_diff" and
               x[1].startswith("w")]
    type2 = [x for x in instances if x[-1] == "aann_multiplier_lm_diff" and
             x[3].startswith("w")]
    assert len(forward) == n_weights and len(type2) == n_type2
    assert "Cpw0_1_2 vpw0_1_2 wn0_1_2 1.6e-11" in lines
    assert "Cnw0_1_2 vnw0_1_2 w0_1_2 1.6e-11" in lines
    assert "Xqw0_1_2_3 cpw0_1_2 vnw0_1_2 cx cxb vdd 0 aann_switch" in lines
    assert "Xe1_0 ea1_0 eb1_0 e1_0 vcm vdd 0 aann_error" in lines
    assert "Xqe1_0_3 o1_0 eb1_0 sb s vdd 0 aann_switch" in lines
    ic = dict(item.split("=") for item in next(
        line for line in lines if line.startswith(".ic ")).split()[1:])
    for l, layer in enumerate(W0):
        for (j, i), w in np.ndenumerate(np.asarray(layer)):
            p, n = float(ic[f"V(w{l}_{j}_{i})"]), float(ic[f"V(wn{l}_{j}_{i})"])
            assert p - n == pytest.approx(w, abs=1e-9)
            assert (p + n) / 2 == pytest.approx(VCM, abs=1e-9)
            assert float(ic[f"V(vpw{l}_{j}_{i})"]) == float(ic[f"V(vnw{l}_{j}_{i})"]) == VCM
    clocks = {line.split()[0]: _pwl_of(line) for line in lines
              if line.split()[0] in ("Vs", "Vsb", "Vcs", "Vcsb", "Vcx", "Vcxb")}
    assert len(clocks) == 6
    period, T_learn = t_row / periods, epochs * len(X) * t_row
    n = round(T_learn / period)
    mid = np.arange(4 * n) * period / 4 + period / 8  # the middle of every quarter period
    at = {k: np.interp(mid, *v) for k, v in clocks.items()}
    high = VDD * (np.sin(2 * np.pi * mid / period + np.radians(phase)) > 0)
    np.testing.assert_array_equal(at["Vs"], high)
    for name, level in (("Vsb", VDD - high), ("Vcs", high), ("Vcsb", VDD - high),
                        ("Vcx", VDD - high), ("Vcxb", high)):
        np.testing.assert_array_equal(at[name], level)
    read = T_learn + np.linspace(0.1, 0.9, 9) * len(X) * t_row  # the read-out epoch
    teachb = _pwl_of(next(line for line in lines if line.startswith("Vteachb ")))
    assert np.all(np.interp(mid, *teachb) == 0)
    for name, level in (("Vs", VDD), ("Vsb", 0), ("Vcs", 0), ("Vcx", 0), ("Vcsb", VDD),
                        ("Vcxb", VDD)):
        assert np.all(np.interp(read, *clocks[name]) == level), name
    assert np.all(np.interp(read, *teachb) == VDD)


def test_the_charging_cells_own_chopper_swaps_their_inputs_and_the_demodulators_follow():
    """``charging_periods`` (``[offset_cancellation] charging_periods``) on the chopped
    2-3-1: every
    charging cell is ``aann_charging_diff_ref`` (the same devices, ``XM1``'s gate on
    ``vref``), fed by a quad of switches on ``s2`` that swaps the transresistance node and
    ``vcm``; those quads come after every other cell (which keep their order). ``s2``
    runs ``charging_periods`` periods a row at phase 90 and is held high in the read-out;
    the demodulators switch at every edge of ``s`` and of ``s2`` (their clocks ``s XOR
    s2``, gated by ``teach``), none of which meet.
    Without it the netlist is the one of ``charging_periods = 0``; a number that is not
    a whole multiple of ``2 chopper_periods``, or with other weights, is refused."""
    from aann.cells.cosim import cosim_netlist
    from aann.cells.library import GLUE, VDD

    sizes, W0 = (2, 3, 1), aann.random_weights((2, 3, 1), 0, 0.05)
    X = np.array([[-0.1, -0.1], [-0.1, 0.1], [0.1, -0.1], [0.1, 0.1]])
    Y = np.array([[-0.1], [0.1], [0.1], [-0.1]])
    t_row, epochs, P, P2 = 10e-6, 2, 1, 8
    kw = dict(t_row=t_row, epochs=epochs, C=16e-12, Vbias=0.2, Keta=None, Km=None,
              glue="cells", weights="chopped", chopper_periods=P, multiplier="multiplier_lm",
              readout=True, chopper_phase=90, pdk_sample=1)
    plain = cosim_netlist(sizes, W0, X, Y, **kw)
    assert cosim_netlist(sizes, W0, X, Y, charging_periods=0, **kw) == plain
    text = cosim_netlist(sizes, W0, X, Y, charging_periods=P2, **kw)
    lines = text.splitlines()
    ref, cd = GLUE["charging_diff_ref"].text, GLUE["charging_diff"].text
    assert ref.count("\nXM") == cd.count("\nXM") and "XM1 a vref s1 s1" in ref
    top = lines[max(k for k, line in enumerate(lines) if line.startswith(".ends")):]
    instances = [line for line in top if line.startswith("X")]
    assert "Xcw0_1_2 ipw0_1_2 irw0_1_2 vdd cpw0_1_2 cnw0_1_2 vcm vdd 0 aann_charging_diff_ref" \
        in instances
    assert "Xqiw0_1_2_3 cgw0_1_2 irw0_1_2 s2b s2 vdd 0 aann_switch" in instances
    quads = [x for x in instances if x.startswith("Xqi")]
    assert len(quads) == 4 * 13 and instances[-len(quads):] == quads
    # the other cells in the same order as without the chopper
    plain_top = plain.splitlines()[max(k for k, line in enumerate(plain.splitlines())
                                       if line.startswith(".ends")):]
    assert [x.split()[0] for x in instances if not x.startswith("Xqi")] == \
        [x.split()[0] for x in plain_top if x.startswith("X")]
    clocks = {line.split()[0]: _pwl_of(line) for line in lines
              if line.split()[0] in ("Vs", "Vs2", "Vcs", "Vcx")}
    T_learn = epochs * len(X) * t_row
    edges = {k: v[0][1:-1:2] for k, v in clocks.items()}  # each edge's start
    s_edges, s2_edges = edges["Vs"][edges["Vs"] < T_learn], edges["Vs2"]
    assert len(s2_edges) == 2 * P2 * epochs * len(X) and s2_edges.max() < T_learn
    assert np.min(np.abs(s_edges[:, None] - s2_edges[None, :])) >= t_row / (4 * P2) - 1e-12
    mid = (np.arange(8 * P2 * epochs * len(X) * 4) + 0.5) * t_row / (8 * P2 * 4)
    mid = mid[mid < T_learn]
    s = np.interp(mid, *clocks["Vs"]) > VDD / 2
    s2 = np.interp(mid, *clocks["Vs2"]) > VDD / 2
    np.testing.assert_array_equal(s2, np.sin(2 * np.pi * P2 * mid / t_row + np.pi / 2) > 0)
    np.testing.assert_array_equal(np.interp(mid, *clocks["Vcs"]) > VDD / 2, s == s2)
    np.testing.assert_array_equal(np.interp(mid, *clocks["Vcx"]) > VDD / 2, s != s2)
    read = T_learn + np.linspace(0.1, 0.9, 9) * len(X) * t_row
    assert np.all(np.interp(read, *clocks["Vs2"]) == VDD)
    assert np.all(np.interp(read, *clocks["Vcs"]) == 0)
    assert np.all(np.interp(read, *clocks["Vcx"]) == 0)
    for bad in (3, 4 * P + 1):
        with pytest.raises(aann.ValidationError, match="whole multiple of 2"):
            cosim_netlist(sizes, W0, X, Y, **{**kw, "charging_periods": bad})
    with pytest.raises(aann.ValidationError, match="charging_periods is read only"):
        cosim_netlist(sizes, W0, X, Y, **{**kw, "weights": "integrator", "chopper_periods": None,
                                          "chopper_phase": 0, "charging_periods": 8})
    from pathlib import Path

    from aann.cells.cosim import cell_arguments

    cfg = aann.load_toml(Path(__file__).parents[1] / "examples" / "cells_xor.toml")
    nested = cfg.replace(offset_cancellation={"charging_periods": 8})
    assert cell_arguments(nested)["charging_periods"] == 8
    with pytest.raises(aann.ValidationError, match="whole multiple of 2"):
        cfg.replace(offset_cancellation={"charging_periods": 5})
    with pytest.raises(aann.ValidationError, match="demodulator = \"output\""):
        aann.spec.from_dict({"offset_cancellation": {"method": "chopper",
                                                     "charging_periods": 8}})
    with pytest.raises(aann.ValidationError, match="method"):
        aann.spec.from_dict({"offset_cancellation": {"charging_periods": 8}})


def test_a_netlist_that_continues_a_run_starts_where_it_stopped():
    """``state`` (what :func:`aann.cells.cosim.run_cosim` returns): the ``.ic`` takes every
    node's voltage from it (the virtual grounds too), and each input and target source
    starts at the last row's value with its edge into row 1 (as row 1 of a second epoch
    does in one long run); the rest of the netlist is the same. A state that lacks a
    node of the ``.ic`` is refused, naming it."""
    from aann.cells.cosim import cosim_netlist

    sizes, W0 = (2, 3, 1), aann.random_weights((2, 3, 1), 0, 0.05)
    X = np.array([[0.0, 0.0], [0.0, 0.2], [0.2, 0.0], [0.2, 0.2]])
    Y = np.array([[0.04], [0.16], [0.16], [0.04]])
    kw = dict(t_row=10e-6, epochs=1, C=16e-12, Vbias=0.2, Keta=None, Km=None, glue="cells",
              weights="chopped", chopper_periods=1, multiplier="multiplier_lm",
              chopper_phase=90)
    fresh = cosim_netlist(sizes, W0, X, Y, **kw).splitlines()
    ic = next(line for line in fresh if line.startswith(".ic ")).split()[1:]
    state = {item.split("=")[0]: 0.9 + 1e-3 * k for k, item in enumerate(ic)}
    continued = cosim_netlist(sizes, W0, X, Y, state=state, **kw).splitlines()
    assert next(line for line in continued if line.startswith(".ic ")).split()[1:] == [
        f"{node}={value:.12g}" for node, value in state.items()]
    assert len(continued) == len(fresh)
    for line, old in zip(continued, fresh):
        name = line.split()[0] if line else ""
        if name in ("Vx1", "Vx2", "Vt1"):
            (t_new, v_new), (t_old, v_old) = _pwl_of(line), _pwl_of(old)
            column = X[:, int(name[2]) - 1] if name.startswith("Vx") else Y[:, 0]
            np.testing.assert_allclose(t_new[:2], [0.0, 0.01 * 10e-6], rtol=1e-8)
            assert (v_new[:2] == [column[-1], column[0]]).all()
            assert (t_new[2:] == t_old[1:]).all() and (v_new[2:] == v_old[1:]).all()
        elif name != ".ic":
            assert line == old
    del state[next(iter(state))]
    with pytest.raises(ValueError, match="state lacks V"):
        cosim_netlist(sizes, W0, X, Y, state=state, **kw)


def test_chopped_weights_are_refused_without_their_chopper_and_cells():
    """``chopper_periods`` is required (a whole number >= 1) with ``weights =
    "chopped"`` and refused with the other weights, as is a ``chopper_phase`` other than
    0 (and one not 0 or 90 anywhere); the chopped path needs the glue cells; the
    multiplier must be a known cell."""
    from aann.cells.cosim import cosim_netlist

    sizes, W0 = (1, 1, 1), aann.random_weights((1, 1, 1), 0, 0.05)
    X, Y = np.array([[0.0], [0.2]]), np.array([[0.16], [0.04]])
    kw = dict(t_row=10e-6, epochs=1, C=16e-12, Vbias=0.2, Keta=None, Km=None, glue="cells")
    for bad in (None, 0, 2.5, True):
        with pytest.raises(aann.ValidationError, match="needs chopper_periods"):
            cosim_netlist(sizes, W0, X, Y, weights="chopped", chopper_periods=bad, **kw)
    for weights in ("capacitor", "integrator"):
        with pytest.raises(aann.ValidationError, match="chopper_periods is read only"):
            cosim_netlist(sizes, W0, X, Y, weights=weights, chopper_periods=4, **kw)
    with pytest.raises(aann.ValidationError, match="needs glue"):
        cosim_netlist(sizes, W0, X, Y, **{**kw, "glue": "ideal", "Keta": 1e-6, "Km": 1e-4},
                      weights="chopped", chopper_periods=4)
    with pytest.raises(aann.ValidationError, match="multiplier 'gilbert'"):
        cosim_netlist(sizes, W0, X, Y, multiplier="gilbert", **kw)
    for bad in (45, True, "90"):
        with pytest.raises(aann.ValidationError, match="chopper_phase .* is not one of 0, 90"):
            cosim_netlist(sizes, W0, X, Y, weights="chopped", chopper_periods=2,
                          chopper_phase=bad, **kw)
    with pytest.raises(aann.ValidationError, match="chopper_phase is read only"):
        cosim_netlist(sizes, W0, X, Y, weights="integrator", chopper_phase=90, **kw)


def test_cells_section_builds_the_network_the_description_names():
    """``[cells]`` of a description reaches the netlist: ``aann netlist --cells sky130`` of
    examples/cells_xor.toml is :func:`cosim_netlist` with its glue, weights, multiplier,
    ``reltol``, the chopper's ``periods_per_row`` and ``phase`` and the charging cells'
    own chopper (no ``Keta``, ``Km``: the cells' own), and a description whose ``Keta``
    or ``Km`` is not the cells' (5 %) is refused with the glue cells, as are chopped
    weights without their chopper, the charging cells' chopper without the output
    demodulator, weights without the glue cells, and a description of the ideal glue
    keeps the netlist it had."""
    from pathlib import Path

    from aann.cells.cosim import check_runnable, cosim_netlist, network_cosim
    from aann.datasets import for_config

    cfg = aann.load_toml(Path(__file__).parents[1] / "examples" / "cells_xor.toml")
    assert cfg.lam == pytest.approx(30, rel=1e-4)
    check_runnable(cfg)
    text, info = network_cosim(cfg, 3)
    data = for_config(cfg)
    assert text == cosim_netlist(
        (2, 3, 1), aann.random_weights((2, 3, 1), 3, 0.1), data.X, data.Y * 1.0, t_row=10e-6,
        epochs=cfg.training.epochs, Keta=None, Km=None, C=cfg.constants.C, Vbias=0.2,
        glue="cells", weights="chopped", chopper_periods=1, chopper_phase=90,
        charging_periods=8, multiplier="multiplier_lm", reltol=1e-3)
    assert ".options method=gear reltol=1e-3" in text.splitlines()
    assert info["seed"] == 3
    own = "is not the cells' own"
    for over, match in (({"constants": {"Keta": "60uS"}}, rf"Keta \* Vteach = 6e-05 {own}"),
                        ({"blocks": {"multiplier": {"Km": 6.5e-5}}}, f"Km = 6.5e-05 {own}"),
                        ({"cells": {"multiplier": "multiplier"}}, f"0.0001273 {own} 6.55e-05")):
        with pytest.raises(aann.ValidationError, match=match):
            check_runnable(cfg.replace(**over))
    with pytest.raises(aann.ValidationError, match="chopper's charging path"):
        cfg.replace(offset_cancellation={"demodulator": "input", "charging_periods": 0})
    with pytest.raises(aann.ValidationError, match="demodulator = \"output\": set it"):
        cfg.replace(offset_cancellation={"demodulator": "input"})
    with pytest.raises(aann.ValidationError, match="read with glue = \"cells\" only"):
        aann.Config(cells={"weights": "integrator"})
    plain = aann.Config(network={"sizes": [1, 2, 1]}, training={"dataset": "two-row"})
    assert "cells" not in plain.to_dict()  # at its defaults: summaries as before
    assert network_cosim(plain)[0] == cosim_netlist(
        (1, 2, 1), aann.random_weights((1, 2, 1), 0, plain.training.init_range),
        for_config(plain).X, for_config(plain).Y * 1.0, t_row=plain.training.t_row,
        epochs=plain.training.epochs, Keta=plain.constants.Keta, C=plain.constants.C,
        Km=plain.blocks.multiplier.build().Km, Vbias=plain.constants.Vbias)


def test_multiplier_variants_are_the_cells_with_their_references_and_km():
    """The variant with reference ports is the cell with two gates moved (with both
    references at vcm it is the cell, device for device); ``multiplier_lm``'s
    transresistance is the PDK's resistor at ``1/Km`` of that cell (within the 0.1 um
    rounding of its length) and the glue cells read it with that cell; the default
    netlist keeps the old cell and resistor."""
    from aann.cells.cosim import (
        KM_LM,
        TRANSRESISTANCE_LM_L,
        cosim_netlist,
        differential_multiplier,
        transresistance_cell,
    )
    from aann.cells.glue import pdk_resistance

    for name in ("multiplier", "multiplier_lm"):
        cell, diff = CELLS[name], differential_multiplier(name)
        back = diff.text.split("\n", 1)[1].replace(" v1r ", " vcm ").replace(" v2r ", " vcm ")
        back = back.replace(f"{cell.name}_diff", cell.name).replace(
            f".subckt {cell.name} v1 vcm v2 vcm out", f".subckt {cell.name} v1 v2 out")
        assert back == cell.text
        assert diff.ports == ("v1", "v1r", "v2", "v2r", "out", "vcm", "vdd", "vss")
    step = 0.05 * 2000 / (0.35 - 0.056 - 0.0672 * (0.69 - 0.35))  # half a 0.1 um step
    assert abs(pdk_resistance(TRANSRESISTANCE_LM_L) - 1 / KM_LM) < step
    assert f"l={TRANSRESISTANCE_LM_L:g}" in transresistance_cell("multiplier_lm").text
    sizes, W0 = (1, 1, 1), aann.random_weights((1, 1, 1), 0, 0.05)
    X, Y = np.array([[0.0], [0.2]]), np.array([[0.16], [0.04]])
    kw = dict(t_row=10e-6, epochs=1, C=16e-12, Vbias=0.2, Keta=None, Km=None, glue="cells")
    for name, resistor in (("multiplier", "aann_transresistance"),
                           ("multiplier_lm", "aann_transresistance_lm")):
        lines = cosim_netlist(sizes, W0, X, Y, multiplier=name, **kw).splitlines()
        top = lines[max(k for k, line in enumerate(lines) if line.startswith(".ends")):]
        used = {line.split()[-1] for line in top if line.startswith("X")}
        assert {CELLS[name].name, resistor} <= used
        assert {"aann_multiplier", "aann_multiplier_lm", "aann_transresistance",
                "aann_transresistance_lm"} & used == {CELLS[name].name, resistor}


def test_run_cosim_reads_a_chopped_weight_across_its_integrator(monkeypatch):
    """``run_cosim`` reads a chopped weight as ``V(outp) - V(outn)`` (``w`` less ``wn``),
    any other as ``V(w) - Vcm`` (a stand-in for ngspice's plot: flat node voltages)."""
    from aann.cells import cosim
    from aann.cells.library import VCM

    class Plot:
        sweep = np.array([0.0, 1.0])

        def __getitem__(self, name):
            level = {"v(w": 0.1, "v(wn": -0.05}.get(name[:4] if name.startswith("v(wn")
                                                     else name[:3], 0.0)
            return np.full(2, VCM + level)

    monkeypatch.setattr(cosim, "run_with_models", lambda *a, **k: [Plot()])
    sizes, W0 = (1, 1, 1), aann.random_weights((1, 1, 1), 0, 0.05)
    X, Y = np.array([[0.0], [0.2]]), np.array([[0.16], [0.04]])
    kw = dict(t_row=0.1, epochs=1, C=16e-12, Vbias=0.2, Keta=None, Km=None, glue="cells")
    chopped = cosim.run_cosim(sizes, W0, X, Y, weights="chopped", chopper_periods=4, **kw)
    plain = cosim.run_cosim(sizes, W0, X, Y, **kw)
    for layer in chopped["W_epoch"]:
        np.testing.assert_allclose(layer, 0.15, atol=1e-12)
    for layer in plain["W_epoch"]:
        np.testing.assert_allclose(layer, 0.1, atol=1e-12)
