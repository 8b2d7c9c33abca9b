"""The weight node's imperfections run alike on ngspice and native."""

import numpy as np
import pytest
from test_spice_engine import TIGHT, XOR2

import aann
from aann.engines.spice import edge_time

pytestmark = pytest.mark.ngspice

ALL_ON = {"R_leak": "1kohm", "rails": True, "Vmin": "-0.3V", "Vmax": "0.3V",
          "current_limit": "clip", "Qinj": "1fC"}  # R_leak C = 100 ps, Qinj / C = 10 mV


def test_leakage_rails_limit_and_Qinj_agree_on_both_engines_within_1mV():
    cfg = aann.Config(network={"sizes": [2, 3, 2]}, nonideal=ALL_ON,
                      training={"dataset": "xor", "epochs": 10, "seeds": 2,
                                "teach": "alternate", "init_range": "0.25V"})
    s = aann.train(cfg, engine="ngspice", dataset=XOR2)
    t_edge = s.engine_info.t_edge
    assert t_edge == edge_time(cfg.training.t_row, 0.0)
    n = aann.train(cfg.replace(training={"t_edge": t_edge}, solver=TIGHT), dataset=XOR2)
    dW = max(np.abs(a - b).max() for a, b in zip(s.W_epoch, n.W_epoch))
    print(f"2-3-2 with every node imperfection: max |dVw| ngspice - native = {dW:.3g} V")
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
                                             "current_limit": "none"},
                                   training={"t_edge": t_edge}, solver=TIGHT), dataset=XOR2)
    assert max(np.abs(a - b).max() for a, b in zip(ideal.W_final, n.W_final)) > 0.05


def test_the_netlist_has_each_node_part():
    cfg = aann.Config(network={"sizes": [2, 3, 2]}, nonideal=ALL_ON,
                      training={"dataset": "xor", "epochs": 2, "seeds": 1})
    text, _ = aann.netlist(cfg, dataset=XOR2)
    assert "Rleak_l2_n1_i0 vw_l2_n1_i0 0 1000.0" in text
    assert "Bqinj_l2_n1_i0 0 vw_l2_n1_i0 I=1.0*abs(i(Vdvteach))" in text
    assert "Brail_l3_n2_i3 vw_l3_n2_i3 0 I=1000.0*(max(v(vw_l3_n2_i3)-0.3,0)" in text
    assert "min(max(" in text  # the clipped charging source
