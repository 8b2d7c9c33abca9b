"""Feedback alignment and direct feedback alignment (aann.rules): the update each rule
makes against a numpy transcription of the rule, ngspice against the native engine,
the fixed feedback matrices per network (reproducible, independent of batching), the
Type2 instances and poles under direct feedback alignment, and the rules' keys."""

import jax
import numpy as np
import pytest

import aann
from aann.batch import Variant, circuit_at, leaf_axes, network_circuits
from aann.blocks import instance_shapes
from aann.engines.spice import edge_time
from aann.rules import DirectFeedbackAlignment, FeedbackAlignment
from aann.study import prepare_variants

FA, DFA = "feedback_alignment", "direct_feedback_alignment"
XOR2 = aann.Dataset("xor-2out", np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
                    np.array([[0.1, 0.9], [0.9, 0.1], [0.9, 0.1], [0.1, 0.9]]))
TIGHT = {"stepping": "adaptive", "method": "dopri8", "rtol": 1e-10, "atol": 1e-12}


def config(rule: str, sizes=(2, 3, 3, 2), epochs: int = 10, seeds: int = 2, **training):
    return aann.Config(network={"sizes": list(sizes)},
                       training={"dataset": "xor", "epochs": epochs, "seeds": seeds,
                                 "rule": rule, **training})


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def numpy_rates(rule: str, W, B, x, y, Vteach=1.0, Keta_over_C=1e13, Vbias=1.0):
    """dVw/dt of the ideal circuit (the defaults: Km = Iref, Ru = 1/Iref, R_E K_E = 1) as
    the textbook writes each rule: delta_out = (Vout - y) f'; backprop delta_h =
    (W_{h+1}^T delta_{h+1}) f'; feedback alignment B_{h+1} in place of W_{h+1}; direct
    feedback alignment delta_h = (B_{h+1}^T delta_out) f' (B_{h+1}: (n_out, n_h))."""
    inputs, outs = [], []
    a = np.asarray(x, float)
    for Wl in W:
        xl = np.concatenate([[Vbias], a])
        a = sigmoid(Wl @ xl)
        inputs.append(xl)
        outs.append(a)
    n = len(W)
    deltas = [None] * n
    deltas[-1] = (outs[-1] - y) * outs[-1] * (1 - outs[-1])
    for h in reversed(range(n - 1)):
        if rule == "backprop":
            back = W[h + 1][:, 1:].T @ deltas[h + 1]
        elif rule == FA:
            back = B[h + 1].T @ deltas[h + 1]
        else:
            back = B[h + 1].T @ deltas[-1]
        deltas[h] = back * outs[h] * (1 - outs[h])
    return [-Keta_over_C * Vteach * np.outer(d, xl) for d, xl in zip(deltas, inputs)]


# --- (a) the update against a numpy transcription -------------------------------------

@pytest.mark.parametrize("rule", ["backprop", FA, DFA])
def test_each_rules_update_is_its_numpy_transcription(rule, rng):
    """The circuit's dVw/dt at one row (the small-step limit of one row's update) is the
    rule's textbook update, to 1e-9 relative, on 2-3-3-2."""
    cfg = config(rule)
    circuit = aann.build_circuit(cfg, seed=3)
    W = tuple(rng.uniform(-1.5, 1.5, s) for s in cfg.network.weight_shapes)
    x, y = np.array([0.3, 0.8]), np.array([0.1, 0.9])
    got = circuit.dVw_dt(tuple(np.asarray(w) for w in W), x, y, 1.0)
    B = getattr(circuit.rule, "B", None)
    want = numpy_rates(rule, W, B, x, y)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-9, atol=1e-9 * np.abs(w).max())
    if rule != "backprop":  # the rule acts: the hidden layers' updates differ from backprop
        plain = numpy_rates("backprop", W, None, x, y)
        assert np.abs(want[0] - plain[0]).max() > 1e-3 * np.abs(plain[0]).max()


def test_the_feedback_matrices_have_the_rules_shapes():
    sizes = (2, 4, 3, 2)
    fa = aann.build_circuit(config(FA, sizes)).rule
    dfa = aann.build_circuit(config(DFA, sizes)).rule
    assert fa.B[0] is None and dfa.B[0] is None
    assert [b.shape for b in fa.B[1:]] == [(3, 4), (2, 3)]  # W_l without its bias column
    assert [b.shape for b in dfa.B[1:]] == [(2, 4), (2, 3)]  # (n_out_last, n_h)
    assert [dfa.type2_source(l, 3) for l in (1, 2)] == [2, 2]
    assert [fa.type2_source(l, 3) for l in (1, 2)] == [1, 2]
    # with one hidden layer the two rules are one (the same draws)
    one_fa = aann.build_circuit(config(FA, (2, 3, 2)), seed=5).rule.B[1]
    one_dfa = aann.build_circuit(config(DFA, (2, 3, 2)), seed=5).rule.B[1]
    np.testing.assert_array_equal(one_fa, one_dfa)


def test_feedback_range_bounds_the_voltages():
    B = aann.build_circuit(config(FA, (2, 30, 30, 2), feedback_range="50mV")).rule.B
    assert all(np.abs(b).max() <= 0.05 for b in B[1:])
    assert all(np.abs(b).max() > 0.04 for b in B[1:])  # uniform over the range


# --- mismatch, poles, instance shapes under direct feedback alignment ----------------

def test_dfa_type2_instances_follow_the_rule_and_mismatch_draws_them(rng):
    """Under DFA the Type2 multipliers of layer l are (n_out_last, n_in of l); a sigma on
    their input-2 offset is drawn per instance of that shape and acts as the numpy
    transcription with B + Voff says."""
    sizes = (2, 3, 3, 2)
    rule = DirectFeedbackAlignment()
    shapes = instance_shapes(sizes, rule)
    assert shapes[1]["multiplier.type2"] == (2, 3) and shapes[2]["multiplier.type2"] == (2, 3)
    assert instance_shapes(sizes)[1]["multiplier.type2"] == (3, 3)
    assert instance_shapes(sizes, FeedbackAlignment())[1]["multiplier.type2"] == (3, 3)
    cfg = config(DFA).replace(mismatch={"multiplier.type2.Voff": "20mV"})
    circuit = aann.build_circuit(cfg, sample=1, seed=4)
    Voff = [circuit.instances[l]["multiplier.type2"]["Voff"] for l in (1, 2)]
    assert [v.shape for v in Voff] == [(2, 3), (2, 3)]
    B = circuit.rule.B
    np.testing.assert_array_equal(B[1], aann.build_circuit(cfg, seed=4).rule.B[1])
    W = tuple(rng.uniform(-1.5, 1.5, s) for s in cfg.network.weight_shapes)
    x, y = np.array([0.7, 0.2]), np.array([0.9, 0.1])
    got = circuit.dVw_dt(W, x, y, 1.0)
    want = numpy_rates(DFA, W, (None, B[1] + Voff[0], B[2] + Voff[1]), x, y)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-9, atol=1e-9 * np.abs(w).max())


def test_dfa_error_path_passes_one_type2_stage():
    """Poles on the Type2 multipliers only: backprop's error of the first hidden layer
    of 2-3-3-2 passes two of them, direct feedback alignment's one (settling_time
    counts the poles that run); feedback alignment keeps backprop's path."""
    poles = {"multiplier": {"type2": {"f3dB": 1e12}}}
    tau = 1 / (2 * np.pi * 1e12)
    times = {rule: aann.build_circuit(aann.Config(
        network={"sizes": [2, 3, 3, 2]}, blocks=poles, training={"rule": rule})
    ).settling_time() for rule in ("backprop", FA, DFA)}
    assert times["backprop"] == pytest.approx(aann.circuit.chain_settling([tau, tau]))
    assert times[FA] == times["backprop"]
    assert times[DFA] == pytest.approx(np.log(100) * tau, rel=1e-6)


# --- (c) per network, reproducible, independent of batching --------------------------

def test_the_matrices_are_per_network_reproducible_and_batch_independent():
    cfg = config(DFA, seeds=10)
    prepared = aann.prepare(cfg, dataset=XOR2)
    B = prepared.circuit.rule.B
    assert all(b.shape[0] == 10 for b in B[1:])  # stacked along the network axis
    leaves = jax.tree.leaves(prepared.circuit)
    assert sum(a == 0 for a in prepared.axes) == 2 and all(
        np.ndim(x) == 3 for x, a in zip(leaves, prepared.axes) if a == 0)
    for s in (0, 3, 9):  # alone, as network s's own circuit, or in a batch of 10
        alone = aann.build_circuit(cfg, seed=s).rule.B
        for l in (1, 2):
            np.testing.assert_array_equal(B[l][s], alone[l])
    assert not np.array_equal(B[1][0], B[1][1])
    again = aann.prepare(cfg, dataset=XOR2).circuit.rule.B
    np.testing.assert_array_equal(again[2], B[2])
    # a batch of networks 7 and 3 (as a study builds it) gives each its own matrices
    variants = [Variant(cfg, seed=7), Variant(cfg, seed=3)]
    batch = prepare_variants(variants, dataset=XOR2).circuit.rule.B
    np.testing.assert_array_equal(batch[1][0], B[1][7])
    np.testing.assert_array_equal(batch[1][1], B[1][3])
    # a single network from a weights list: its seed's matrices
    one = aann.prepare(cfg, dataset=XOR2, init_weights=[
        {"seed": 9, "layers": aann.random_weights(cfg.network.sizes, 9)}]).circuit.rule.B
    np.testing.assert_array_equal(one[2][0], B[2][9])
    # another feedback_seed, other matrices
    other = aann.build_circuit(cfg.replace(training={"feedback_seed": 1}), seed=0).rule.B
    assert not np.array_equal(other[1], B[1][0])


def test_mismatch_and_the_rule_stack_together():
    """Monte Carlo samples and the networks' feedback matrices: both per network, both
    axis 0, drawn alike whatever the batch."""
    cfg = config(DFA, seeds=3).replace(mismatch={"multiplier.Km": "3%",
                                                 "multiplier.type2.Voff": "5mV"})
    circuit, axes = network_circuits(cfg, seeds=[0, 1, 2], samples=[0, 1, 2])
    paths = jax.tree_util.tree_flatten_with_path(circuit)[0]
    stacked = {jax.tree_util.keystr(p) for (p, _), a in zip(paths, axes) if a == 0}
    assert any(".rule.B" in p for p in stacked) and any(".instances" in p for p in stacked)
    one = aann.build_circuit(cfg, sample=2, seed=2)
    np.testing.assert_array_equal(circuit.instances[1]["multiplier.type2"]["Voff"][2],
                                  one.instances[1]["multiplier.type2"]["Voff"])
    np.testing.assert_array_equal(circuit.rule.B[1][2], one.rule.B[1])
    assert leaf_axes([aann.build_circuit(cfg), aann.build_circuit(cfg)]) is not None


def test_a_sweep_over_the_rule_builds_each_runs_matrices(tmp_path):
    """A sweep whose base sets feedback_seed and whose grid switches the rule: the
    backprop point drops the key (as Config.replace does), and each batch's networks get
    the matrices of their seeds (the batches are prepared, not trained)."""
    from aann.sweep.plan import plan
    from aann.sweep.runner import prepare_batch, tasks

    path = tmp_path / "s.toml"
    path.write_text('[base.network]\nsizes = [2, 3, 3, 1]\n[base.training]\ndataset = "xor"\n'
                    'seeds = 3\nrule = "feedback_alignment"\nfeedback_seed = 5\n[grid]\n'
                    '"training.rule" = ["backprop", "feedback_alignment", '
                    '"direct_feedback_alignment"]\n')
    sweep = aann.load_sweep(path)
    assert [c.to_dict()["training"].get("feedback_seed") for c in sweep.configs] == \
        [None, 5, 5]
    the_plan = plan(sweep)
    for task in tasks(sweep, the_plan):
        prepared = prepare_batch(task)
        cfg = sweep.configs[task.runs[0][1]]
        for b, (_, _, seed) in enumerate(task.runs):
            rule = circuit_at(prepared.circuit, prepared.axes, b).rule
            if cfg.training.rule == "backprop":
                assert rule == aann.Backprop()
                continue
            alone = aann.build_circuit(cfg, seed=seed).rule.B
            for l in (1, 2):
                np.testing.assert_array_equal(rule.B[l], alone[l])


# --- (d) the keys ----------------------------------------------------------------------

@pytest.mark.parametrize("key,value", [("feedback_range", "1V"), ("feedback_seed", 0),
                                       ("feedback_seed", 3)])
def test_a_rule_key_with_backprop_is_refused(key, value, tmp_path):
    with pytest.raises(aann.ValidationError) as e:
        aann.Config(training={key: value})
    text = str(e.value)
    assert f"training.{key} is read only with rule = \"feedback_alignment\" or rule = " \
           "\"direct_feedback_alignment\" (rule = \"backprop\")" in text, text
    assert f"remove {key}" in text
    path = tmp_path / "c.toml"
    path.write_text(f"[training]\n{key} = {value!r}\n".replace("'", '"'))
    with pytest.raises(aann.ValidationError, match=f"training.{key} is read only with"):
        aann.load_toml(path)


def test_the_rule_keys_are_read_by_both_rules_and_written_back_only_there():
    for rule in (FA, DFA):
        cfg = aann.Config(training={"rule": rule, "feedback_range": "0.5V",
                                    "feedback_seed": 7})
        settings = cfg.to_dict()["training"]
        assert settings["feedback_range"] == 0.5 and settings["feedback_seed"] == 7
        assert aann.spec.from_dict(cfg.to_dict()) == cfg
        # switching to backprop drops them; giving one with backprop is refused
        plain = cfg.replace(training={"rule": "backprop"})
        assert not {"feedback_range", "feedback_seed"} & set(plain.to_dict()["training"])
        assert plain == aann.Config()
        with pytest.raises(aann.ValidationError, match="feedback_seed is read only"):
            cfg.replace(training={"rule": "backprop", "feedback_seed": 7})
    assert not {"feedback_range", "feedback_seed"} & set(aann.Config().to_dict()["training"])
    with pytest.raises(aann.ValidationError, match="feedback_range must be positive"):
        aann.Config(training={"rule": FA, "feedback_range": 0})
    with pytest.raises(aann.ValidationError, match="feedback_seed = -1 must be a non-negative"):
        aann.Config(training={"rule": FA, "feedback_seed": -1})
    toml = aann.spec.default_toml()
    assert '# feedback_range = "1V"' in toml and "# feedback_seed = 0" in toml


# --- the netlist and the co-simulation --------------------------------------------------

def test_the_dfa_netlist_has_one_stage_per_hidden_layer_from_the_output_deltas():
    cfg = config(DFA)
    text, info = aann.netlist(cfg, seed=1, dataset=XOR2)
    B = aann.build_circuit(cfg, seed=1).rule.B
    # the stage of hidden layer 2 (layer index 0) from the output layer 4's deltas
    assert f"Vfb_l4_n2_to_l2_n3 vfb_l4_n2_to_l2_n3 0 DC {float(B[1][1, 2])!r}" in text
    assert ("Bie_l4_n2_to_l2_n3 0 ve_l2_n3 I=(0.0001*(((0.0001*v(vdelta_l4_n2))"
            "*v(vfb_l4_n2_to_l2_n3))/0.0001))") in text
    # the stage of hidden layer 3 sits in the output neurons, as feedback alignment's
    assert f"Vfb_l4_n1_i3 vfb_l4_n1_i3 0 DC {float(B[2][0, 2])!r}" in text
    # layer 3's neurons feed no Type2 stage: no ie ports
    assert ".subckt neuron_l3 x0 x1 x2 x3 w0 w1 w2 w3 vteach ve vout vd vdelta\n" in text
    fa, _ = aann.netlist(config(FA), seed=1, dataset=XOR2)
    assert "_to_l" not in fa and ".subckt neuron_l3 x0 x1 x2 x3 w0 w1 w2 w3 vteach ve " \
        "vout vd vdelta ie1 ie2 ie3 fb1 fb2 fb3\n" in fa


def test_the_cells_cosimulation_wires_dfa_from_the_output_deltas():
    from aann.cells.cosim import cosim_netlist

    sizes, W0 = (2, 3, 3, 2), aann.random_weights((2, 3, 3, 2), 0)
    rule = aann.build_circuit(config(DFA)).rule
    text = cosim_netlist(sizes, W0, XOR2.X, XOR2.Y, t_row=1e-9, epochs=1, Keta=1e-6,
                         C=1e-12, Km=1e-4, Vbias=0.5, rule=rule)
    type2 = [x for x in text.splitlines() if x.startswith("Xm") and x.split()[3].startswith("e0_")]
    assert len(type2) == 2 * 3  # (n_out_last, n_h) cells into the first hidden layer
    assert all(" fb1_" in x for x in type2)
    assert "Vfb1_1_3 fb1_1_3 vcm DC" in text and "Vfb1_2_1" not in text
    assert "Bg" not in text


# --- (b) ngspice against the native engine ---------------------------------------------

def both_engines(cfg):
    """ngspice from the netlists, and the native engine on the same edges with a tight
    solver: the largest difference of the weights after every epoch, and the rule's
    effect (ngspice's run against backprop's in ngspice: a native compile fewer)."""
    s = aann.train(cfg, engine="ngspice", dataset=XOR2)
    t_edge = s.engine_info.t_edge
    assert t_edge == edge_time(cfg.training.t_row, 0.0)
    native = cfg.replace(training={"t_edge": t_edge}, solver=TIGHT)
    n = aann.train(native, dataset=XOR2)
    backprop = aann.train(cfg.replace(training={"rule": "backprop"}), engine="ngspice",
                          dataset=XOR2)
    dW = max(np.abs(a - b).max() for a, b in zip(s.W_epoch, n.W_epoch))
    effect = max(np.abs(a - b).max() for a, b in zip(s.W_epoch, backprop.W_epoch))
    return dW, effect


MISMATCH = {"multiplier.Km": "3%", "multiplier.type2.Voff": "5mV"}


@pytest.mark.ngspice
@pytest.mark.parametrize("rule,sizes,mismatch", [(FA, (2, 3, 2), {}),
                                                 (DFA, (2, 3, 3, 2), MISMATCH)])
def test_the_rule_agrees_on_both_engines_within_1mV(rule, sizes, mismatch):
    """Two networks, each its own feedback matrices; under DFA each also its own Monte
    Carlo sample (per-neuron subcircuits, the top-level Type2 stage per instance)."""
    dW, effect = both_engines(config(rule, sizes).replace(mismatch=mismatch))
    print(f"{'-'.join(map(str, sizes))}, rule {rule}{', mismatch' if mismatch else ''}: "
          f"ngspice - native {dW:.3g} V; rule - backprop {effect:.3g} V")
    assert dW < 1e-3
    assert effect > 20e-3  # the rule acts: the test cannot pass by ignoring it
