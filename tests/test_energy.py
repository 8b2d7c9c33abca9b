"""Power, energy and area (aann.energy, docs/energy.md): the blocks of a network counted by
hand, the static power the exact sum of every instance's Isupply * Vdd, the charging
energy against an independent integral of the charging currents, ngspice's supply against
the native figure, and a cell's supply current against an operating-point analysis."""

import json
import math
import re

import jax
import numpy as np
import pytest
import scipy.integrate

import aann
from aann import energy
from aann.blocks import BLOCKS, SUPPLY
from aann.cli import main
from aann.digital import sgd_flops
from aann.engines.spice import edge_time

XOR2 = aann.Dataset("xor-2out", np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
                    np.array([[0.1, 0.9], [0.9, 0.1], [0.9, 0.1], [0.1, 0.9]]))

# The blocks of one network, counted by hand: per weight (bias included) a forward and a
# charge multiplier, a charging source and a capacitor; per neuron a delta multiplier, an
# activation and a derivative block; per output an error block; per layer above the first
# n_out * n_in Type2 multipliers and n_in Type2 summing stages (the layer below's).
HAND = {
    (2, 8, 1): {  # weights 8*3 + 1*9 = 33; neurons 9
        "multiplier.forward": 33, "multiplier.delta": 9, "multiplier.charge": 33,
        "multiplier.type2": 8, "activation": 9, "derivative": 9, "type2": 8, "error": 1,
        "charging": 33, "capacitors": 33},
    (64, 16, 10): {  # weights 16*65 + 10*17 = 1210; neurons 26
        "multiplier.forward": 1210, "multiplier.delta": 26, "multiplier.charge": 1210,
        "multiplier.type2": 160, "activation": 26, "derivative": 26, "type2": 16, "error": 10,
        "charging": 1210, "capacitors": 1210},
}


@pytest.mark.parametrize("sizes", list(HAND))
def test_block_counts_equal_a_hand_count(sizes):
    circuit = aann.build_circuit(aann.Config(network={"sizes": sizes}))
    assert energy.block_counts(circuit) == HAND[sizes]


def test_a_fixed_derivative_has_no_blocks():
    cfg = aann.Config(blocks={"derivative": {"law": "constant"}})
    counts = energy.block_counts(aann.build_circuit(cfg))
    assert counts["derivative"] == 0 and counts["activation"] == 9
    with pytest.raises(aann.ValidationError, match="Isupply"):  # the law reads none
        aann.Config(blocks={"derivative": {"law": "constant", "Isupply": "1uA"}})


MISMATCHED = aann.Config(
    network={"sizes": [2, 3, 2]}, constants={"Vdd": "1.2V", "Isupply": "50uA"},
    blocks={"multiplier": {"Isupply": "100uA", "charge": {"Isupply": "30uA"}}},
    mismatch={"multiplier.Isupply": "5%", "multiplier.delta.Isupply": "20%",
              "activation.Isupply": "3%", "Isupply": "1%"},
    training={"dataset": "xor", "epochs": 4, "seeds": 2})
TRAINED = MISMATCHED.replace(training={"t_edge": edge_time(MISMATCHED.training.t_row, 0.0)})
"""The native run of test_ngspice_supply_power_equals_the_native_figure (ngspice's row
edges): trained once in this file, the program compiled once."""


def test_power_static_is_the_exact_sum_of_every_instance():
    """Without mismatch: the hand count times each block's Isupply times Vdd; with it:
    every drawn instance (read from the sample's instance arrays) times Vdd, summed
    exactly; the same figure per network in a training run's results (two Monte Carlo
    samples, each its own)."""
    nominal = aann.build_circuit(MISMATCHED)
    per = {"multiplier.forward": 100e-6, "multiplier.delta": 100e-6,
           "multiplier.charge": 30e-6, "multiplier.type2": 100e-6,
           "activation": SUPPLY["activation"], "derivative": SUPPLY["derivative"],
           "type2": 0.0, "error": SUPPLY["error"], "charging": 50e-6}
    counts = {"multiplier.forward": 17, "multiplier.delta": 5, "multiplier.charge": 17,
              "multiplier.type2": 6, "activation": 5, "derivative": 5, "type2": 3,
              "error": 2, "charging": 17}  # 2-3-2: weights 3*3 + 2*4 = 17
    # the Type2 summing stages (resistors) draw nothing
    hand = math.fsum(I * 1.2 for name in BLOCKS for I in [per[name]] * counts[name]
                     if name != "type2")
    assert energy.static_power(nominal) == hand
    res = aann.train(TRAINED, dataset=XOR2)
    assert res.samples == [0, 1]
    for b, sample in enumerate(res.samples):
        drawn = aann.mismatch.draw(nominal, MISMATCHED.mismatch, sample)
        powers = []
        for l, layer in enumerate(aann.blocks.instance_shapes(nominal.sizes)):
            for name, shape in layer.items():
                if name == "type2":
                    continue
                own = drawn[l].get(name, {}).get("Isupply")
                values = np.broadcast_to(per[name] if own is None else own, shape)
                powers += [float(I) * 1.2 for I in values.ravel()]
        assert len(powers) == sum(counts.values()) - counts["type2"]
        assert res.energy.power_static[b] == math.fsum(powers)
    assert len(set(res.energy.power_static.tolist())) == 2  # each sample its own


def _row_sources(schedule):
    X, Y = schedule.dataset.X, schedule.dataset.Y
    return [(X[i], Y[i]) for e in range(schedule.epochs) for i in schedule.order[0, e]]


def test_energy_charging_equals_an_independent_integral_of_the_current():
    """Vdd * integral |Icharged| dt over a recorded waveform: the run integrated again by
    scipy's DOP853 (rtol 1e-10) from the circuit's own vector field, the charging currents
    computed by the circuit's law at 64 points per row and integrated by the trapezoidal
    rule; the engine's figure is within 1 % (lambda = 1, every weight moving)."""
    cfg = aann.Config(network={"sizes": [2, 4, 1]}, constants={"Vdd": "1.5V"},
                      training={"dataset": "xor", "epochs": 12, "seeds": 1})
    res = aann.train(cfg)
    prepared = aann.prepare(cfg)
    circuit, schedule = prepared.circuit, prepared.schedule
    shapes = [w.shape[1:] for w in prepared.W0]
    sizes = [int(np.prod(s)) for s in shapes]

    def unflat(v):
        parts = np.split(v, np.cumsum(sizes)[:-1])
        return tuple(p.reshape(s) for p, s in zip(parts, shapes))

    field = jax.jit(lambda W, x, y: circuit.dVw_dt(W, x, y, 1.0))
    currents = jax.jit(jax.vmap(lambda W, x, y: circuit.charging_currents(W, x, y, 1.0)[0],
                                in_axes=(0, None, None)))
    w = np.concatenate([np.asarray(w[0]).ravel() for w in prepared.W0])
    t_row, total = schedule.t_row, 0.0
    def rhs(t, v, x, y):
        return np.concatenate([np.asarray(d).ravel() for d in field(unflat(v), x, y)])

    for x, y in _row_sources(schedule):
        sol = scipy.integrate.solve_ivp(rhs, (0.0, t_row), w, method="DOP853", rtol=1e-10,
                                        atol=1e-12, dense_output=True, args=(x, y))
        ts = np.linspace(0.0, t_row, 64)
        Ws = sol.sol(ts).T
        I = currents(tuple(np.stack([unflat(v)[l] for v in Ws]) for l in range(len(shapes))),
                     x, y)
        total += sum(np.trapezoid(np.abs(np.asarray(i)).reshape(len(ts), -1).sum(axis=1), ts)
                     for i in I)
        w = Ws[-1]
    independent = 1.5 * total
    for a, b in zip(res.W_final, unflat(w)):  # the same run
        np.testing.assert_allclose(a[0], b, atol=1e-6)
    assert res.energy.energy_charging[0] == pytest.approx(independent, rel=1e-2)
    assert independent > 1e-13  # a run that moved charge


def test_the_charging_energy_does_not_depend_on_t_row_at_a_fixed_lambda():
    """Keta = C / t_row keeps lambda = 1: the weights take the same path, ten times
    slower, and the sources move the same charge."""
    cfg = aann.Config(training={"epochs": 8, "seeds": 2})
    fast = aann.train(cfg)
    slow = aann.train(cfg.replace(training={"t_row": "1ps"}, constants={"Keta": 0.1}))
    np.testing.assert_allclose(slow.energy.energy_charging, fast.energy.energy_charging,
                               rtol=1e-9)
    np.testing.assert_allclose(slow.peak_current_max, fast.peak_current_max / 10, rtol=1e-9)


def test_training_energy_is_static_plus_charging_and_inference_the_settled_pass():
    cfg = aann.Config(blocks={"multiplier": {"f3dB": "1GHz"}, "activation": {"f3dB": "2GHz"}},
                      training={"epochs": 3, "seeds": 1, "t_row": "1ns"},
                      constants={"Keta": 1e-4})
    e = aann.train(cfg).energy
    T = 3 * 4 * 1e-9
    np.testing.assert_allclose(e.energy_training, e.power_static * T + e.energy_charging,
                               rtol=1e-12)
    np.testing.assert_allclose(e.energy_epoch, e.energy_training / 3, rtol=1e-12)
    # the forward path of 2-8-1: two layers of (u at 1 GHz, Vout at 2 GHz)
    tau1, tau2 = 1 / (2 * math.pi * 1e9), 1 / (2 * math.pi * 2e9)
    settle = aann.circuit.chain_settling([tau1, tau2, tau1, tau2])
    np.testing.assert_allclose(e.energy_inference, e.power_static * settle, rtol=1e-12)
    assert energy.forward_settling_time(aann.build_circuit(aann.Config())) == 0.0


def test_summary_json_and_the_printed_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "3", "--seeds", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"energy: 143 blocks and 33 capacitors, static power 27\.7 mW", printed)
    s = json.loads((out / "summary.json").read_text())
    assert s["blocks"] == HAND[(2, 8, 1)]
    for key in ("power_static", "energy_charging", "energy_training", "energy_epoch",
                "energy_inference"):
        assert len(s[key]) == 2 and all(v >= 0 for v in s[key]), key
    assert s["area"] > 0 and any("C_density" in a for a in s["energy_assumptions"])
    # the archive keeps them
    again = aann.Results.load(out)
    assert again.energy == aann.train(aann.Config(training={"epochs": 3, "seeds": 2})).energy


def test_area_of_the_cells_from_their_devices():
    """The sigmoid cell by hand: gate areas 2x1 (Mnb) + 2x1 (Mt) + 20x0.5 (M1, M2) + 4x1
    (Mp1, Mp2, Mo) = 36 um^2; resistors 0.35 um wide, 9 + 17 + 3.4 um long = 10.29 um^2."""
    from aann.cells import CELLS
    from aann.cells.supply import cell_area, device_area

    d = device_area(CELLS["sigmoid"])
    assert d["active_um2"] == pytest.approx(36.0) and d["passive_um2"] == pytest.approx(10.29)
    assert (d["mosfets"], d["resistors"], d["unknown"]) == (7, 3, [])
    assert cell_area(CELLS["sigmoid"], 2.0) == pytest.approx((72.0 + 10.29) * 1e-12)
    # a network: its instances at their cells' areas and C / C_density per capacitor
    cfg = aann.Config(constants={"C_density": 1e-3})
    a = energy.area(aann.build_circuit(cfg), 1e-3)
    per = energy.block_areas()
    assert a["capacitors"] == pytest.approx(33 * 0.1e-12 / 1e-3)
    assert a["activation"] == pytest.approx(9 * per["activation"])
    assert a["total"] == pytest.approx(sum(v for k, v in a.items() if k != "total"))


def test_sgd_flops_by_hand():
    """2-8-1: forward 2*(8*3 + 1*9) + 4*9 = 102; backward 4 (output delta) + 2*1*8 + 3*8
    (hidden deltas) + 33 (gradient) = 77; update 2*33 = 66."""
    f = sgd_flops((2, 8, 1))
    assert (f["forward"], f["backward"], f["update"], f["row"]) == (102, 77, 66, 245)
    assert energy.digital_energy(1e9, {"cpu": 1e-10})["cpu"] == pytest.approx(0.1)


def test_the_netlist_gives_every_powered_instance_its_supply():
    cfg = aann.Config(network={"sizes": [2, 3, 2]}, training={"epochs": 1, "seeds": 1})
    text, _ = aann.netlist(cfg, dataset=XOR2)
    lines = [ln for ln in text.splitlines() if ln.startswith("Isup_")]
    counts = energy.block_counts(aann.build_circuit(cfg))
    # the Type2 summing stages (resistors) draw nothing: no source
    assert len(lines) == sum(v for k, v in counts.items() if k not in ("capacitors", "type2"))
    assert "Vdd vdd 0 DC 1.8" in text and ".save" in text and "i(Vdd)" in text
    total = math.fsum(float(ln.split()[-1]) for ln in lines) * 1.8
    assert total == pytest.approx(energy.static_power(aann.build_circuit(cfg)), rel=1e-12)


@pytest.mark.parametrize("bad", [{"constants": {"Isupply": "-1uA"}},
                                 {"blocks": {"activation": {"Isupply": "-1uA"}}},
                                 {"constants": {"Vdd": 0}},
                                 {"constants": {"C_density": "-2"}}])
def test_bad_supply_values_are_refused(bad):
    with pytest.raises(aann.ValidationError):
        aann.Config(**bad)


@pytest.mark.ngspice
def test_ngspice_supply_power_equals_the_native_figure():
    """2-3-2 with its own Isupply per instance (a Monte Carlo sample each): the power
    ngspice measures, -Vdd i(Vdd), and the charge its sources move, within 1 % of the
    native engine's."""
    s = aann.train(MISMATCHED, engine="ngspice", dataset=XOR2)
    assert s.engine_info.t_edge == TRAINED.training.t_edge
    n = aann.train(TRAINED, dataset=XOR2)
    np.testing.assert_allclose(s.energy.supply_power_measured, n.energy.power_static,
                               rtol=1e-2)
    np.testing.assert_allclose(s.energy.energy_charging, n.energy.energy_charging, rtol=1e-2)
    assert n.energy.power_static[0] != n.energy.power_static[1]


@pytest.mark.ngspice
@pytest.mark.sky130
def test_a_cells_supply_current_from_characterize_equals_an_operating_point():
    """The charging cell (its bias runs from vteach): the supply current characterize reads
    from its DC sweep at zero signal, against an .op of the cell alone written here."""
    from aann.cells import CELLS, characterize
    from aann.cells.library import VCM, VDD
    from aann.cells.models import model_lines, run_with_models

    ch = characterize("charging", points=21, bandwidth=False)
    cell = CELLS["charging"]
    netlist = "\n".join([
        "* op of the charging cell", model_lines().rstrip(), cell.text.strip(),
        f"Vsup vdd 0 {VDD}", f"Vref vcm 0 {VCM}", f"Vlearn vteach 0 {VDD}",
        "Vin vgrad vcm 0", f"Vout out 0 {VCM}",
        f"X1 vgrad vteach out vcm vdd 0 {cell.name}", ".op", ".end", ""])
    op = run_with_models(netlist, name="op")[0]
    measured = -(float(op["i(vsup)"][0]) + float(op["i(vlearn)"][0]))
    assert ch.extra["Isupply_A"] == pytest.approx(measured, rel=1e-2)
    assert 1e-6 < measured < 1e-3


@pytest.mark.slow
@pytest.mark.ngspice
@pytest.mark.sky130
def test_the_default_supply_currents_are_the_cells():
    """The Isupply defaults (aann.blocks.SUPPLY) are the cells' operating points within
    1 %; a bias sweep moves supply current and bandwidth together."""
    from aann.cells import CELLS
    from aann.cells.supply import bias_sweep, measure_supply

    measured = measure_supply({"multiplier": CELLS["multiplier"],
                               "activation": CELLS["sigmoid"],
                               "derivative": CELLS["derivative"],
                               "charging": CELLS["charging"]})
    for kind, current in measured.items():
        assert SUPPLY[kind] == pytest.approx(current, rel=1e-2), kind
    rows = bias_sweep(CELLS["sigmoid"], [0.5, 1.0])
    assert rows[1]["Isupply_A"] == pytest.approx(measured["activation"], rel=1e-6)
    assert rows[0]["Isupply_A"] < rows[1]["Isupply_A"]
    assert 0 < rows[0]["f3dB_Hz"] < rows[1]["f3dB_Hz"]


def test_a_bias_sweep_needs_a_bias_resistor(tmp_path):
    from aann.cells import Cell
    from aann.cells.cli import parse_biases
    from aann.cells.supply import bias_length, with_bias

    bare = Cell("bare", "activation", ("in", "out", "vcm", "vdd", "vss"),
                ".subckt bare in out vcm vdd vss\nR1 in vcm 1k\n.ends bare\n")
    with pytest.raises(aann.ValidationError, match="XRb"):
        bias_length(bare)
    from aann.cells import CELLS

    doubled = with_bias(CELLS["sigmoid"], 2.0)
    assert bias_length(doubled) == pytest.approx(8.5) and ".subckt aann_sigmoid_bias2 " in \
        doubled.text
    for text in ("0", "-1", "a", ""):
        with pytest.raises(aann.ValidationError, match="--bias"):
            parse_biases(text)
    assert main(["characterize", "sigmoid", "--bias", "0,1", "--out", str(tmp_path)]) == 2
