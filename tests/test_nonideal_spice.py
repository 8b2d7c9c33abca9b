"""The weight node's imperfections and the blocks' poles run alike on ngspice and native."""

import numpy as np
import pytest
from test_spice_engine import TIGHT, XOR2

import aann
from aann.engines.spice import edge_time

pytestmark = pytest.mark.ngspice

ALL_ON = {"R_leak": "1kohm", "rails": True, "Vmin": "-0.3V", "Vmax": "0.3V",
          "current_limit": "clip", "Qinj": "1fC",  # R_leak C = 100 ps, Qinj / C = 10 mV
          "Voff": "2mV"}  # the charging sources' input offset: 2 mV a row at lambda = 1
# t_row * f3dB = 2 .. 6: the poles settle in 1.7 t_row (8 of them on the longest path)
POLES = {"activation": {"f3dB": "20THz"}, "derivative": {"f3dB": "40THz"},
         "multiplier": {"f3dB": "60THz"}, "error": {"f3dB": "30THz"}}


def test_leakage_rails_limit_poles_and_Qinj_agree_on_both_engines_within_1mV():
    cfg = aann.Config(network={"sizes": [2, 3, 2]}, nonideal=ALL_ON, blocks=POLES,
                      training={"dataset": "xor", "epochs": 10, "seeds": 2,
                                "teach": "alternate", "init_range": "0.25V"})
    s = aann.train(cfg, engine="ngspice", dataset=XOR2)
    t_edge = s.engine_info.t_edge
    assert t_edge == edge_time(cfg.training.t_row, 0.0)
    n = aann.train(cfg.replace(training={"t_edge": t_edge}, solver=TIGHT), dataset=XOR2)
    dW = max(np.abs(a - b).max() for a, b in zip(s.W_epoch, n.W_epoch))
    print(f"2-3-2 with every node imperfection and poles: max |dVw| ngspice - native = "
          f"{dW:.3g} V")
    assert dW < 1e-3
    # every part acts: the rails hold weights that would pass them, the limit holds, the
    # run differs from the ideal one
    assert max(n.W_max.max(), -n.W_min.min()) <= 0.3
    free = aann.train(cfg.replace(nonideal={"rails": False}, training={"t_edge": t_edge},
                                  solver=TIGHT), dataset=XOR2)
    assert max(free.W_max.max(), -free.W_min.min()) > 0.3
    assert n.peak_current_max.max() <= 1e-4 * (1 + 1e-9)
    assert s.peak_current_max.max() <= 1e-4 * (1 + 1e-3)
    ideal = aann.train(cfg.replace(nonideal={"R_leak": 0, "rails": False, "Qinj": 0,
                                             "current_limit": "none", "Voff": 0},
                                   training={"t_edge": t_edge}, solver=TIGHT), dataset=XOR2)
    assert max(np.abs(a - b).max() for a, b in zip(ideal.W_final, n.W_final)) > 0.05


def test_poles_move_learning_and_agree_on_both_engines_within_1mV():
    cfg = aann.Config(network={"sizes": [2, 3, 2]}, blocks=POLES,
                      training={"dataset": "xor", "epochs": 10, "seeds": 2,
                                "init_range": "0.5V"})
    s = aann.train(cfg, engine="ngspice", dataset=XOR2)
    native = cfg.replace(training={"t_edge": s.engine_info.t_edge}, solver=TIGHT)
    n = aann.train(native, dataset=XOR2)
    dW = max(np.abs(a - b).max() for a, b in zip(s.W_epoch, n.W_epoch))
    instant = aann.train(native.replace(blocks={kind: {"f3dB": 0} for kind in POLES}),
                         dataset=XOR2)
    effect = max(np.abs(a - b).max() for a, b in zip(instant.W_epoch, n.W_epoch))
    print(f"2-3-2 with poles: ngspice - native {dW:.3g} V; poles - no poles {effect:.3g} V")
    assert dW < 1e-3 and effect > 10e-3


def test_the_netlist_has_each_node_part():
    cfg = aann.Config(network={"sizes": [2, 3, 2]}, nonideal=ALL_ON,
                      training={"dataset": "xor", "epochs": 2, "seeds": 1})
    text, _ = aann.netlist(cfg, dataset=XOR2)
    assert "Rleak_l2_n1_i0 vw_l2_n1_i0 0 1000.0" in text
    assert "Bqinj_l2_n1_i0 0 vw_l2_n1_i0 I=1.0*abs(i(Vdvteach))" in text
    assert "Brail_l3_n2_i3 vw_l3_n2_i3 0 I=1000.0*(max(v(vw_l3_n2_i3)-0.3,0)" in text
    assert "min(max(" in text  # the clipped charging source
    assert "/0.0001)+0.002)" in text  # the source's input offset, on its input Vgrad


def test_the_netlist_writes_each_pole_as_a_lag_started_settled():
    cfg = aann.Config(network={"sizes": [2, 3, 2]}, blocks=POLES,
                      training={"dataset": "xor", "epochs": 1, "seeds": 1})
    text, _ = aann.netlist(cfg, dataset=XOR2)
    tau = 1 / (2 * np.pi * 20e12)  # the activation's
    assert "Bvout vout_u 0 V=" in text and "Rlag_vout vout_u vout 1.0" in text
    assert f"Clag_vout vout 0 {tau!r}" in text
    assert "Cu inet 0 " in text and "CE_l2_n1 ve_l2_n1 0 " in text  # summing nodes
    assert "BE_l3_n1 ve_l3_n1_u 0 V=" in text
    assert "Bch0 0 w0 I=" in text and "v(vgrad0)" in text
    assert ".ic v(xn_l2_n1.inet)=" in text and ".ic v(vout_l3_n2)=" in text
    assert ".ic v(xn_l3_n2.vgrad3)=" in text
