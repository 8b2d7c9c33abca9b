"""A Monte Carlo sample, with offsets in every role, runs alike on ngspice and native."""

import numpy as np
import pytest
from test_spice_engine import TIGHT, XOR2

import aann
from aann.blocks import ROLES
from aann.engines.spice import edge_time
from aann.mismatch import mismatchable

pytestmark = pytest.mark.ngspice


def every_sigma(config) -> dict:
    """5 % on every block constant with a nonzero nominal value, 1 mV (0.05 uA) on the
    offsets ([nonideal] parts stay off)."""
    circuit = aann.build_circuit(config)
    out = {"seed": 11}
    for key, p in mismatchable().items():
        parts = key.split(".")
        if len(parts) == 3 or key in aann.ChargingSource.NONIDEAL:
            continue  # role keys: the general key covers them; the node's parts are off
        block = "charging" if len(parts) == 1 else parts[0]
        nominal = getattr(circuit.block("multiplier.forward" if block == "multiplier" else block,
                                        1), parts[-1], None)
        if nominal is None:  # a constant of another law of the kind
            continue
        out[key] = "5%" if nominal != 0 else ("0.05uA" if p.unit == "A" else "1mV")
    return out


def config_232():
    offsets = {"forward": {"Voff1": "2mV", "Voff": "-3mV", "Ioff": "0.1uA"},
               "delta": {"Voff1": "-2mV", "Voff": "1mV", "Ioff": "-0.05uA"},
               "charge": {"Voff1": "3mV", "Voff": "2mV", "Ioff": "0.02uA"},
               "type2": {"Voff1": "1mV", "Voff": "-2mV", "Ioff": "0.05uA"}}
    assert set(offsets) == set(ROLES)
    cfg = aann.Config(network={"sizes": [2, 3, 2]},
                      blocks={"multiplier": offsets, "error": {"Voff": "2mV"}},
                      training={"dataset": "xor", "epochs": 10, "seeds": 4})
    return cfg.replace(mismatch=every_sigma(cfg))


def test_sample_3_agrees_on_both_engines_within_1mV():
    cfg = config_232()
    W3 = [aann.random_weights((2, 3, 2), 3)]
    s = aann.train(cfg, engine="ngspice", dataset=XOR2, init_weights=W3, samples=[3])
    t_edge = s.engine_info.t_edge
    assert t_edge == edge_time(cfg.training.t_row, 0.0)
    n = aann.train(cfg.replace(training={"t_edge": t_edge}, solver=TIGHT), dataset=XOR2,
                   init_weights=W3, samples=[3])
    nominal = aann.train(cfg.replace(training={"t_edge": t_edge}, solver=TIGHT,
                                     mismatch={k: "0%" for k in cfg.mismatch.sigmas
                                               if cfg.mismatch.sigmas[k][1]}),
                         dataset=XOR2, init_weights=W3)
    dW = max(np.abs(a - b).max() for a, b in zip(s.W_epoch, n.W_epoch))
    print(f"2-3-2 sample 3: max |dVw| ngspice - native = {dW:.3g} V")
    assert dW < 1e-3
    assert s.samples == n.samples == [3]
    # the sample is not the nominal circuit, and training moved the weights
    assert max(np.abs(a - b).max() for a, b in zip(n.W_final, nominal.W_final)) > 1e-3
    assert max(np.abs(a - b).max() for a, b in zip(s.W_final, s.W_init)) > 1e-2


def test_the_netlist_of_a_sample_has_every_instance_constant(tmp_path):
    cfg = config_232()
    text, info = aann.netlist(cfg, seed=3, dataset=XOR2)
    assert info["sample"] == 3 and "Monte Carlo sample 3" in text
    circuit = aann.build_circuit(cfg, sample=3)
    C = circuit.block("charging", 1).C
    assert f"Cw_l3_n2_i1 vw_l3_n2_i1 0 {float(C[1, 1])!r}" in text
    assert ".subckt neuron_l2_n3 " in text and ".subckt neuron_l3_n2 " in text
    other, _ = aann.netlist(cfg, seed=3, sample=4, dataset=XOR2)
    assert other != text
    with pytest.raises(aann.ValidationError, match="no mismatch sigma"):
        aann.netlist(aann.Config(), sample=1)
