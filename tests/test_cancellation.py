"""Offset cancellation of the error path (chopper, autozero) and the dead zone
(docs/cancellation.md): the description's keys, what each technique does to the
learning with and without offsets, and the netlist against the native engine."""

import functools
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import aann
from aann.blocks import K_BOLTZMANN
from aann.cancellation import (
    Autozero,
    Chopper,
    chopped_chain,
    chopper_loss,
    chopper_settling,
    costs,
)
from aann.engines.native import simulate_rows
from aann.spec import OffsetCancellation, cancellation_needs

CHOPPER = {"method": "chopper"}
AUTOZERO = {"method": "autozero"}
EPS = np.finfo(float).eps
KETA_C = 1e13  # 1/s: the default Keta / C
HEUN = {"method": "heun"}
"""The solver of the runs whose fact is an identity of the model that holds for any
integration method (a run against one with the same steps, a weight that never moves, a
held value against a hand-computed one at the run's own weights): Heun's two stages
compile in about half the time of the default tsit5's seven, and compiles are most of
this file's time. Runs of the same settings share one compiled program (the engine keeps
it for the module), so those tests use the same networks, seeds and steps."""


def zero_offset_xor(epochs: int) -> aann.Config:
    """The default XOR 2-8-1, 3 networks, 12 Heun steps a row: the plain circuit of the
    zero-offset tests below, compiled once for them all (up to 20 epochs run one epoch a
    call, so the epochs do not change the program)."""
    return aann.Config(training={"epochs": epochs, "seeds": 3}, solver={**HEUN, "steps": 12})


def xor_at(target: float, sizes=(2, 3, 1)) -> aann.Dataset:
    """XOR's four inputs, every target ``target``."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return aann.Dataset("xor-flat", X, np.full((4, sizes[-1]), target))


def max_diff(a, b) -> float:
    return max(float(np.abs(np.asarray(x) - np.asarray(y)).max()) for x, y in zip(a, b))


# --- the description ----------------------------------------------------------------

def test_the_default_section_leaves_every_setting_and_circuit_as_it_was():
    cfg = aann.Config()
    assert "offset_cancellation" not in cfg.to_dict()  # fingerprints and digests unchanged
    assert aann.build_circuit(cfg).cancellation is None
    assert aann.spec.from_dict(cfg.to_dict()) == cfg
    chop = aann.Config(offset_cancellation={"method": "chopper", "periods_per_row": 3})
    assert chop.to_dict()["offset_cancellation"] == {"method": "chopper", "periods_per_row": 3,
                                                     "demodulator": "input", "phase": 0}
    assert aann.spec.from_dict(chop.to_dict()) == chop
    assert aann.build_circuit(chop).cancellation == Chopper(periods_per_row=3)
    nested = aann.Config(offset_cancellation={"method": "chopper", "periods_per_row": 2,
                                              "demodulator": "output", "charging_periods": 8})
    assert nested.to_dict()["offset_cancellation"]["charging_periods"] == 8
    assert aann.spec.from_dict(nested.to_dict()) == nested
    assert aann.build_circuit(nested).cancellation == Chopper(
        periods_per_row=2, demodulator="output", charging_periods=8)
    az = aann.Config(offset_cancellation={"method": "autozero", "t_az": "20fs",
                                          "C_az": "1pF", "Q_inj": "0.001fC"})
    assert set(az.to_dict()["offset_cancellation"]) == {"method", "t_az", "C_az", "Q_inj"}
    assert aann.build_circuit(az).cancellation == Autozero(t_az=20e-15, C_az=1e-12,
                                                           Q_inj=1e-18)
    assert "[offset_cancellation]" in aann.spec.default_toml()


@pytest.mark.parametrize("key", sorted(OffsetCancellation.METHOD_KEYS))
@pytest.mark.parametrize("method", ["none", "chopper", "autozero"])
def test_a_key_of_another_method_is_refused_naming_the_method_that_reads_it(key, method):
    reader = OffsetCancellation.METHOD_KEYS[key]
    default = aann.params.params_of(OffsetCancellation)[key].default
    section = {"method": method, key: default}
    if method == reader:
        shown = aann.Config(offset_cancellation=section).to_dict()["offset_cancellation"]
        if key == "charging_periods":  # 0 (none) left out: fingerprints from before it
            assert key not in shown
        else:
            assert shown[key] == default
        return
    with pytest.raises(aann.ValidationError) as e:
        aann.Config(offset_cancellation=section)  # even at its default: it was written
    assert (f'offset_cancellation.{key} is read only with method = "{reader}" (method = '
            f'"{method}"); set method = "{reader}", or remove {key}') in str(e.value)
    assert cancellation_needs()[key].switches == ("method",)


@pytest.mark.parametrize("section,match", [
    ({"method": "chopper", "periods_per_row": 0}, "periods_per_row = 0 must be a positive "
                                                  "integer"),
    ({"method": "chopper", "periods_per_row": 1.5}, "must be a positive integer"),
    ({"method": "chopper", "periods_per_row": 1001}, "above its limit 1000"),
    ({"method": "autozero", "t_az": "-1fs"}, "offset_cancellation.t_az must be positive"),
    ({"method": "autozero", "t_az": 0}, "offset_cancellation.t_az must be positive"),
    ({"method": "autozero", "C_az": "0pF"}, "offset_cancellation.C_az must be positive"),
    ({"method": "autozero", "Q_inj": "1uV"}, "offset_cancellation.Q_inj"),
    ({"method": "autozeroing"}, "offset_cancellation.method = 'autozeroing' is not allowed; "
                                "use one of 'none', 'chopper', 'autozero'"),
    ({"chop": True}, "unknown key 'chop' in \\[offset_cancellation\\]"),
])
def test_bad_input_is_refused_with_the_key_and_the_fix(section, match):
    with pytest.raises(aann.ValidationError, match=match):
        aann.Config(offset_cancellation=section)


def test_a_row_edge_must_end_within_the_first_segment():
    with pytest.raises(aann.ValidationError, match="t_edge = 3e-14 s is not shorter than the "
                                                   "chopper's first interval, a half period"):
        aann.Config(offset_cancellation={"method": "chopper", "periods_per_row": 2},
                    training={"t_edge": "30fs"})
    with pytest.raises(aann.ValidationError, match="a quarter period at phase 90 = 1.25e-14 s"):
        aann.Config(offset_cancellation={"method": "chopper", "periods_per_row": 2,
                                         "phase": 90}, training={"t_edge": "20fs"})
    with pytest.raises(aann.ValidationError, match="a quarter period of the sources' own "
                                                   "chopper = 6.25e-15 s"):  # 4 a row
        aann.Config(offset_cancellation={"method": "chopper", "demodulator": "output",
                                         "charging_periods": 4}, training={"t_edge": "20fs"})
    with pytest.raises(aann.ValidationError, match="phase = 45 is not allowed; use one of 0, 90"):
        aann.Config(offset_cancellation={"method": "chopper", "phase": 45})
    with pytest.raises(aann.ValidationError, match="not shorter than the autozero phase"):
        aann.Config(offset_cancellation={"method": "autozero", "t_az": "5fs"},
                    training={"t_edge": "5fs"})
    aann.Config(offset_cancellation={"method": "chopper", "periods_per_row": 2},
                training={"t_edge": "20fs"})


def test_the_dead_zone_keys_are_checked():
    with pytest.raises(aann.ValidationError, match="nonideal.dead_zone must not be negative"):
        aann.Config(nonideal={"dead_zone": "-1mV"})
    with pytest.raises(aann.ValidationError, match="nonideal.dead_zone_edge is read only "
                                                   "with dead_zone > 0"):
        aann.Config(nonideal={"dead_zone_edge": "1mV"})
    with pytest.raises(aann.ValidationError, match="nonideal.dead_zone_edge must be positive"):
        aann.Config(nonideal={"dead_zone": "1mV", "dead_zone_edge": 0})
    assert "dead_zone_edge" not in aann.Config().to_dict()["nonideal"]


def test_replace_drops_the_keys_the_new_method_does_not_read():
    chop = aann.Config(offset_cancellation={"method": "chopper", "periods_per_row": 4})
    az = chop.replace(offset_cancellation={"method": "autozero"})
    assert az.offset_cancellation.periods_per_row == 1  # dropped: back to its default
    assert az.to_dict()["offset_cancellation"]["t_az"] == 10e-15
    assert "offset_cancellation" not in az.replace(offset_cancellation={"method": "none"}
                                                   ).to_dict()
    with pytest.raises(aann.ValidationError, match="periods_per_row is read only with"):
        az.replace(offset_cancellation={"periods_per_row": 2})


def test_temperature_without_leakage_is_read_by_autozero_only():
    with pytest.raises(aann.ValidationError, match="thermal noise of R_leak"):
        aann.Config(nonideal={"temperature": 300})
    cfg = aann.Config(nonideal={"temperature": 300}, offset_cancellation=AUTOZERO)
    assert cfg.nonideal.temperature == 300


def test_what_cannot_run_a_technique_refuses_it():
    cfg = aann.Config(offset_cancellation=CHOPPER, training={"epochs": 1, "seeds": 1})
    stimulus = aann.Waveform([0, 1e-13], [[0, 0], [1, 1]], [0, 1], [1, 1])
    with pytest.raises(aann.ValidationError, match="runs on data rows, not under a PWL"):
        aann.simulate(cfg, stimulus=stimulus)
    from aann.cells.cosim import check_runnable

    for over in ({"offset_cancellation": CHOPPER}, {"nonideal": {"dead_zone": "1mV"}}):
        with pytest.raises(aann.ValidationError, match="no cells for offset cancellation"):
            check_runnable(aann.Config(**over))
    # the chopper of the chopped cells' path runs (tests/test_cells_glue.py)
    check_runnable(aann.load_toml(Path(__file__).parents[1] / "examples" / "cells_xor.toml"))


def test_costs_count_the_parts_and_the_time():
    az = costs(aann.Config(network={"sizes": [2, 8, 1]},
                           offset_cancellation={"method": "autozero", "t_az": "20fs"}))
    assert (az["switches_per_weight"], az["capacitors_per_weight"]) == (2, 1)
    assert az["capacitors"] == 33 and az["switches"] == 2 * 33 + 2
    assert az["time_factor"] == pytest.approx(1.2)
    chop = costs(aann.Config(offset_cancellation={"method": "chopper", "periods_per_row": 5}))
    assert chop["chopping_frequency"] == pytest.approx(5e13) and chop["capacitors"] == 0
    assert chop["switches"] == 4 * 33 + 4 and chop["time_factor"] == 1
    nested = costs(aann.Config(offset_cancellation={"method": "chopper", "periods_per_row": 5,
                                                    "demodulator": "output",
                                                    "charging_periods": 40}))
    assert nested["switches"] == 8 * 33 + 4  # the sources' own chopper: 4 more a source
    assert costs(aann.Config())["switches"] == 0


def test_autozero_adds_its_phase_to_the_physical_time():
    """What a run's results report as its circuit time (``Results.circuit_seconds`` is
    the prepared run's)."""
    cfg = aann.Config(offset_cancellation={"method": "autozero", "t_az": "30fs"},
                      training={"epochs": 2, "seeds": 1})
    assert aann.prepare(cfg).circuit_seconds == pytest.approx(2 * 4 * (100e-15 + 30e-15))
    for other in ({"method": "none"}, CHOPPER):
        assert aann.prepare(cfg.replace(offset_cancellation=other)
                            ).circuit_seconds == pytest.approx(2 * 4 * 100e-15)


# --- with every offset zero, each technique leaves the learning as it was ------------

def test_without_offsets_the_chopper_is_the_plain_circuit_at_the_same_steps():
    """Without poles and offsets ``s * f(s e) = f(e)`` exactly (the multiplier laws are
    odd in the error operand, and a sign flip is exact in floating point): the chopper's
    ripple is zero, and a run with ``S`` fixed steps a half period takes the very steps of
    a plain run with ``2 P S`` steps a row (any method: Heun's here). They agree to float64
    rounding: a few units in the last place per row (bound: 16 eps per row and weight
    volt)."""
    P, S = 2, 3
    cfg = zero_offset_xor(5)
    assert cfg.solver.steps == 2 * P * S
    plain = aann.train(cfg)
    chop = aann.train(cfg.replace(solver={"steps": S}, offset_cancellation={
        "method": "chopper", "periods_per_row": P}))
    rows = 5 * 4
    scale = max(np.abs(w).max() for w in plain.W_epoch)
    assert max_diff(plain.W_epoch, chop.W_epoch) <= 16 * EPS * rows * max(scale, 1.0)
    assert max_diff(plain.W_init, plain.W_final) > 1e-3  # it learned


def test_with_a_pole_the_chopper_loses_what_a_first_order_lag_predicts():
    """A pole between the modulators (the charge multipliers', ``tau = t_row / 50``) and no
    offsets: at each of the ``2P - 1`` switching instants inside a row (the lags start
    settled at the row's first half period) the lagged ``s u`` slews from ``-u`` to ``u``:
    ``tau du/dt = s u - y``, so the demodulated signal lacks ``2 u exp(-t/tau)``, integral
    ``2 u tau (1 - exp(-h/tau))`` over the half period ``h``. The chopped run's weights
    then differ from the plain run's by ``Keta Vteach / C (2P - 1) 2 u tau (1 -
    exp(-h/tau))`` (the chopped run learns that much less), ``u`` the weight's ``Vgrad``.
    With ``lambda = 0.01`` ``u`` moves by O(lambda) within the row: agreement within
    ``2 lambda`` of the largest prediction."""
    t_row, P = 1e-15, 2  # lambda = Keta / C t_row = 0.01
    lam, tau, h = KETA_C * t_row, t_row / 50, t_row / (2 * P)
    one = aann.Dataset("one", np.array([[1.0, 0.0]]), np.array([[1.0]]))
    cfg = aann.Config(network={"sizes": [2, 3, 1]},
                      blocks={"multiplier": {"charge": {"f3dB": 1 / (2 * math.pi * tau)}}},
                      training={"t_row": t_row, "epochs": 1, "seeds": 2},
                      solver={"stepping": "adaptive", "rtol": 1e-10, "atol": 1e-14})
    plain = aann.train(cfg, dataset=one)
    chop = aann.train(cfg.replace(offset_cancellation={"method": "chopper",
                                                       "periods_per_row": P}), dataset=one)
    circuit = aann.build_circuit(cfg)
    charging = jax.jit(lambda W, x, y: circuit.charging_currents(W, x, y, 1.0))  # one compile
    for b in range(2):
        W0 = tuple(jnp.asarray(w[b]) for w in plain.W_init)
        currents, _ = charging(W0, jnp.asarray(one.X[0]), jnp.asarray(one.Y[0]))
        for l, I in enumerate(currents):
            u = -np.asarray(I)  # Vgrad = -I / (Keta Vteach)
            predicted = KETA_C * (2 * P - 1) * 2 * u * tau * (1 - math.exp(-h / tau))
            dW = chop.W_final[l][b] - plain.W_final[l][b]
            assert np.abs(dW - predicted).max() <= 2 * lam * np.abs(predicted).max()
            assert np.abs(predicted).max() > 1e-6  # the loss is there to see
    # the steady-state loss the docs state for this pole: 2 tau / h for h >> tau
    assert chopper_loss(tau, h) == pytest.approx(2 * tau / h, rel=3 * math.exp(-h / tau))


def test_the_chopped_chain_holds_the_poles_between_the_modulators_only():
    """The hidden layer's path: the error block, the output delta, the Type2 stage, the
    hidden delta, the hidden charge; the forward pass's poles are not chopped."""
    f = {"error": 80e12, "delta": 50e12, "type2": 70e12, "charge": 100e12}
    cfg = aann.Config(network={"sizes": [2, 3, 1]},
                      blocks={"multiplier": {"forward": {"f3dB": 1e12},
                                             **{r: {"f3dB": f[r]} for r in
                                                ("delta", "type2", "charge")}},
                              "error": {"f3dB": f["error"]}, "activation": {"f3dB": 1e12}})
    circuit = aann.build_circuit(cfg)
    chain = chopped_chain(circuit)
    taus = [1 / (2 * math.pi * f[k]) for k in ("error", "delta", "type2", "delta", "charge")]
    assert sorted(chain) == pytest.approx(sorted(taus), rel=1e-12)
    cost = chopper_settling(circuit, 2, 1e-12)
    assert cost["tau"] == pytest.approx(sum(taus)) and cost["half_period"] == 0.25e-12
    assert cost["loss"] == pytest.approx(chopper_loss(sum(taus), 0.25e-12))
    assert chopper_loss(cost["tau"], 20 * cost["tau"]) == pytest.approx(0.1)
    assert cost["max_frequency"] == pytest.approx(1 / (40 * sum(taus)))
    assert chopped_chain(aann.build_circuit(aann.Config())) == ()


def test_without_offsets_autozero_holds_exactly_zero_and_learns_as_before():
    """At zero offset the path's output at zero error is exactly 0 (``Vout - Vout``, and
    every product of a 0 operand), so every held value is 0 and ``Vgrad - 0`` is
    ``Vgrad``; the learned row is solved on the interval a run without the phase solves it
    on. What remains is float64 rounding of the compiled arithmetic (XLA fuses the two
    vector fields differently): 16 eps per row and weight volt. (Any method: Heun's, the
    plain run that of the chopper's test above.)"""
    cfg = zero_offset_xor(6)
    plain = aann.train(cfg)
    p = aann.prepare(cfg.replace(offset_cancellation=AUTOZERO))
    held = []
    run = simulate_rows(p.circuit, p.W0, p.schedule, p.solver(),
                        on_chunk=lambda e, state, records: held.append(state.held))
    assert held and all(np.all(np.asarray(h) == 0) for layers in held for h in layers)
    scale = max(np.abs(w).max() for w in plain.W_epoch)
    assert max_diff(plain.W_epoch, run.W_epoch) <= 16 * EPS * 6 * 4 * max(scale, 1.0)


def test_an_autozero_run_records_its_waveforms_row_after_row():
    """With waveforms each segment is solved by ``diffeqsolve`` on its own grid of fixed
    steps: over 30 epochs (120 rows, whose phase ends ``k (t_row + t_az) + t_az`` XLA once
    rounded one way for the grid and another for the solve, failing at row 5) every
    row runs, the waveform's clock runs on through the phases, and the weights are those
    of the run without waveforms (the fast path's same steps) to float64 rounding."""
    cfg = zero_offset_xor(30).replace(offset_cancellation=AUTOZERO)
    quiet = aann.train(cfg)
    waves = aann.train(cfg, waveforms=True)
    time = np.asarray(waves.waveforms["time"])
    assert np.all(np.diff(time) > 0)
    assert time[-1] == pytest.approx(30 * 4 * (100e-15 + 0.01e-12), rel=0.05)
    scale = max(np.abs(w).max() for w in quiet.W_epoch)
    assert max_diff(quiet.W_epoch, waves.W_epoch) <= 16 * EPS * 30 * 4 * max(scale, 1.0)


def test_a_dead_zone_of_0V_is_the_circuit_without_one_bit_for_bit():
    cfg = zero_offset_xor(20)
    zero = cfg.replace(nonideal={"dead_zone": 0.0})
    a, b = aann.train(cfg), aann.train(zero)
    assert all(np.array_equal(x, y) for x, y in zip(a.W_epoch, b.W_epoch))
    assert np.array_equal(a.mse, b.mse)


# --- what each technique does with offsets -------------------------------------------

OFFSETS = {"charge": {"Voff1": "10mV", "Ioff": "0.3uA"}, "delta": {"Voff1": "-4mV"},
           "type2": {"Voff1": "5mV"}}


def zero_error_config(**over):
    """2-3-1 whose forward multipliers have a gain of 1e-30 A/V^2: every ``Inet`` rounds
    to nothing, so every output is exactly ``Vamp / 2`` whatever the weights, and with
    every target 0.5 V the error is exactly zero while ``Vteach`` is on. Offsets in the
    error path: the charge, delta and type2 multipliers and the error block. Heun's
    method: within a half period the output layer's currents are constant and the hidden
    layer's linear in time (they are linear in the output weights), which a second-order
    method integrates exactly, as tsit5 does."""
    return aann.Config(
        network={"sizes": [2, 3, 1]},
        blocks={"multiplier": {"forward": {"Km": 1e-30}, **OFFSETS},
                "error": {"Voff": "2mV"}},
        training={"epochs": 6, "seeds": 2, **over.pop("training", {})},
        solver={**HEUN, "steps": 3}, **over)


@pytest.mark.parametrize("periods,phase", [(1, 0), (3, 0), (2, 90)])
def test_the_chopper_returns_every_weight_to_its_start_at_the_end_of_every_row(periods, phase):
    """A constant offset between the modulators, demodulated, is ``+c`` for half of each
    period and ``-c`` for the other half: over whole periods it moves no weight. With 3
    fixed steps a segment, a step across a switching instant would miss this by about a
    step's share of the ripple, ``lambda / (2P * 3) * 10 mV``. (Ideal row edges: an edge
    ramp moves ``x`` while ``s = +1``, and the offset term ``Voff1 x`` with it.) At phase
    90 the row's first and last quarter periods are its own segments."""
    flat = xor_at(0.5)
    cfg = zero_error_config()
    if periods == 1:
        plain = aann.train(cfg, dataset=flat)
        assert max_diff(plain.W_init, plain.W_final) > 1e-2  # the offsets drive every weight
    chopper = {"method": "chopper", "periods_per_row": periods, "phase": phase}
    chop = aann.train(cfg.replace(offset_cancellation=chopper), dataset=flat)
    for l, W in enumerate(chop.W_epoch):  # after every epoch: 4 rows of other inputs each
        assert np.abs(W - chop.W_init[l][:, None]).max() <= 1e-9
    # every row alone, from the start weights (each epoch one row): each returns them, so
    # in the run above every row ends where it started, not only every fourth
    for k in range(len(flat.X)):
        one = aann.Dataset("one-row", flat.X[k:k + 1], flat.Y[k:k + 1])
        row = aann.train(cfg.replace(offset_cancellation=chopper), dataset=one)
        for l, W in enumerate(row.W_epoch):
            assert np.abs(W - row.W_init[l][:, None]).max() <= 1e-9


def test_at_phase_90_the_ripple_leaves_the_stored_weights_where_the_row_learned():
    """A 2-1 learning one row (target 0.3 V) with the sources' own offset ``Voff`` = 2 mV
    chopped at their output: within each row every weight rides a triangle of peak
    ``lambda Voff / (2P)``. At phase 0 the triangle lies to one side of the row-end value,
    its mean ``m = lambda Voff / (4P)``: the network learns with its weights ``m`` off the
    stored ones, so read with learning off (at the stored weights) it misses the target
    by ``Vout(W) - Vout(W - m)`` (0.21 mV here; within 2 %). At 90 the triangle is odd
    about the row's middle, its mean zero, and the read-out is on the target within 2 %
    of that (what is left is the ripple's second order)."""
    one = aann.Dataset("one-row", np.array([[1.0, 0.0]]), np.array([[0.3]]))
    Voff, P = 2e-3, 1
    base = aann.Config(network={"sizes": [2, 1]}, training={"epochs": 200, "seeds": 1},
                       solver={**HEUN, "steps": 6}, nonideal={"Voff": Voff})
    x = jnp.asarray(one.X[0])
    missed = {}
    for phase in (0, 90):
        cfg = base.replace(offset_cancellation={"method": "chopper", "periods_per_row": P,
                                                "demodulator": "output", "phase": phase})
        circuit = aann.build_circuit(cfg)
        W = [jnp.asarray(np.asarray(w)[0]) for w in aann.train(cfg, dataset=one).W_final]
        v = float(np.asarray(circuit.output(W, x))[0])
        m = cfg.lam * Voff / (4 * P)
        shift = v - float(np.asarray(circuit.output([w - m for w in W], x))[0])
        missed[phase] = (v - 0.3, shift)
    (miss0, shift0), (miss90, _) = missed[0], missed[90]
    print(f"read-out - target: phase 0 {miss0:.3g} V (ripple mean's shift {shift0:.3g} V), "
          f"phase 90 {miss90:.3g} V")
    assert shift0 > 1e-4 and abs(miss0 - shift0) < 0.02 * shift0
    assert abs(miss90) < 0.02 * shift0


def test_demodulating_the_sources_currents_chops_the_sources_own_offset_too():
    """``demodulator = "output"``: ``s`` multiplies each source's current, so its input
    offset ``Voff`` is modulated once like the multipliers' and every weight is back at
    its start at the end of every row (within 1e-9 V as above); demodulated at the
    input, the source's ``Voff`` is not chopped and moves every weight by ``lambda Voff``
    a row (``Keta/C t_row`` = 1 here: 2 mV a row, 24 rows)."""
    flat = xor_at(0.5)
    Voff = 2e-3
    cfg = zero_error_config(nonideal={"Voff": Voff})
    out = aann.train(cfg.replace(offset_cancellation={
        "method": "chopper", "periods_per_row": 1, "demodulator": "output"}), dataset=flat)
    for l, W in enumerate(out.W_epoch):
        assert np.abs(W - out.W_init[l][:, None]).max() <= 1e-9
    inp = aann.train(cfg.replace(offset_cancellation={"method": "chopper",
                                                      "periods_per_row": 1}), dataset=flat)
    moved = np.abs(inp.W_final[0] - inp.W_init[0])
    assert np.all(np.abs(moved - 24 * Voff) < 0.01 * 24 * Voff), moved


def test_the_charge_the_sources_move_counts_the_chopper_ripple_both_ways():
    """The source's own offset ``Voff`` chopped at the output, nothing else (the error
    exactly zero as above): each source charges ``+-Keta Vteach Voff`` for ``2P`` half
    periods, so its weight rises and falls by ``lambda Voff / (2P)`` each half and ends
    every row where it began, while the charge its source moved is ``C lambda Voff`` a
    row: ``energy_charging = Vdd C lambda Voff`` x rows x weights (Heun integrates the
    constant currents exactly), not the zero of the row's net travel."""
    flat, Voff, P = xor_at(0.5), 2e-3, 2
    cfg = aann.Config(
        network={"sizes": [2, 3, 1]}, blocks={"multiplier": {"forward": {"Km": 1e-30}}},
        training={"epochs": 3, "seeds": 2}, solver={**HEUN, "steps": 3},
        nonideal={"Voff": Voff},
        offset_cancellation={"method": "chopper", "periods_per_row": P,
                             "demodulator": "output"})
    res = aann.train(cfg, dataset=flat)
    for l, W in enumerate(res.W_epoch):
        assert np.abs(W - res.W_init[l][:, None]).max() <= 1e-9
    c = cfg.constants
    weights = 3 * 3 + 1 * 4
    want = c.Vdd * c.C * cfg.lam * Voff * 3 * 4 * weights
    np.testing.assert_allclose(res.energy.energy_charging, want, rtol=1e-9)


def test_without_offsets_either_demodulator_is_the_same_circuit():
    """``s (-Keta Vteach Vgrad) = -Keta Vteach (s Vgrad)``: a sign flip is exact, so with
    a linear source the two placements learn alike to float64 rounding (the bound of
    the plain-circuit test above)."""
    P, S = 2, 3
    cfg = zero_offset_xor(5).replace(solver={"steps": S})
    runs = [aann.train(cfg.replace(offset_cancellation={
        "method": "chopper", "periods_per_row": P, "demodulator": d}))
        for d in ("input", "output")]
    scale = max(np.abs(w).max() for w in runs[0].W_epoch)
    assert max_diff(runs[0].W_epoch, runs[1].W_epoch) <= 16 * EPS * 5 * 4 * max(scale, 1.0)
    assert max_diff(runs[0].W_init, runs[0].W_final) > 1e-3


def test_the_sources_own_chopper_passes_the_signal_and_shrinks_their_offsets_ripple():
    """``charging_periods`` (the sources' own chopper ``s2``, nested): each source reads
    ``s2 Vgrad`` and its current is demodulated by ``s s2``. The signal passes: without
    offsets XOR learns as without it, to tsit5's tolerance (measured 4e-13 V; the
    segments differ, so the steps do). The sources' own ``Voff`` (2 mV) is chopped at
    ``s s2``: a 2-1 whose output hangs on its weights by a gain of 1e-12 A/V^2 (so its
    error is nothing and its output follows the weights linearly) rides, within a row,
    the weights' triangle ``lambda Voff / (2 P)`` peak to peak at ``P`` = 1 (each weight
    the same: every source has the same offset), and one ``charging_periods / P`` = 8
    times smaller with ``s2``: both within 1 % of the output that triangle makes."""
    nested = {"method": "chopper", "periods_per_row": 2, "demodulator": "output"}
    cfg = aann.Config(training={"epochs": 5, "seeds": 3})
    runs = [aann.train(cfg.replace(offset_cancellation={**nested, "charging_periods": P2}))
            for P2 in (0, 8)]
    assert max_diff(runs[0].W_epoch, runs[1].W_epoch) < 1e-9
    assert max_diff(runs[0].W_init, runs[0].W_final) > 1e-2

    Voff, P = 2e-3, 1
    base = aann.Config(network={"sizes": [2, 1]}, training={"epochs": 1, "seeds": 1},
                       blocks={"multiplier": {"forward": {"Km": 1e-12}}},
                       nonideal={"Voff": Voff}, solver={"samples_per_row": 64})
    one = aann.Dataset("one-row", np.array([[1.0, 1.0]]), np.array([[0.5]]))
    circuit, x = aann.build_circuit(base), jnp.asarray(one.X[0])
    swing = {}
    for P2 in (0, 8):
        run = aann.train(base.replace(offset_cancellation={
            "method": "chopper", "periods_per_row": P, "demodulator": "output", "phase": 90,
            "charging_periods": P2}), dataset=one, waveforms=True)
        swing[P2] = float(np.ptp(np.asarray(run.waveforms["Vout"])[0, :, 0]))
        W = [jnp.asarray(np.asarray(w)[0]) for w in run.W_init]
    triangle = base.lam * Voff / (2 * P)
    made = abs(float(np.asarray(circuit.output([w + triangle for w in W], x))[0]
                     - np.asarray(circuit.output(W, x))[0]))
    print(f"Vout p-p {swing[0]:.4g} V, with s2 {swing[8]:.4g} V; the triangle's {made:.4g} V")
    assert swing[0] == pytest.approx(made, rel=0.01)
    assert swing[8] == pytest.approx(made / 8, rel=0.01)


def test_the_demodulator_is_a_chopper_key():
    chop = aann.Config(offset_cancellation={"method": "chopper"})
    assert chop.to_dict()["offset_cancellation"]["demodulator"] == "input"
    out = chop.replace(offset_cancellation={"demodulator": "output"})
    assert out.to_dict()["offset_cancellation"]["demodulator"] == "output"
    assert aann.build_circuit(out).cancellation.demodulator == "output"
    with pytest.raises(aann.ValidationError, match="demodulator.*chopper"):
        aann.Config(offset_cancellation={"method": "autozero", "demodulator": "output"})
    with pytest.raises(aann.ValidationError, match="demodulator"):
        aann.Config(offset_cancellation={"method": "chopper", "demodulator": "middle"})


def test_autozero_holds_the_whole_paths_offset_within_1uV():
    """The held value, per charging source, against the path's offset computed here by
    hand from the laws (ideal multipliers: ``product(a, b) = (a + Voff1)(b + Voff) +
    Ioff/Km``; the error forced to 0 leaves the error block's ``Voff``; the hidden error
    is ``R_E K_E sum_k product_type2(Vdelta_k, Vw_kj)``), at the weights the phase sees.
    Poles on the error block, the deltas, the Type2 stage and the charge multipliers (5 on
    the hidden layer's path); ``t_az`` = 40 of their time constants, after a learned row
    moved the weights and the lags. (Heun's method: the lags settle to the fixed point of
    the phase's linear ODE, which every Runge-Kutta method keeps; the hand computation
    takes the run's own weights.)"""
    offsets = {"forward": {"Voff1": "1mV", "Ioff": "0.1uA"},
               "delta": {"Voff1": "-2mV", "Voff": "1mV", "Ioff": "-0.05uA"},
               "charge": {"Voff1": "3mV", "Voff": "2mV", "Ioff": "0.02uA"},
               "type2": {"Voff1": "1.5mV", "Voff": "-2mV", "Ioff": "0.05uA"}}
    f3dB = 50e12
    tau = 1 / (2 * math.pi * f3dB)
    cfg = aann.Config(network={"sizes": [2, 2, 1]},
                      blocks={"multiplier": {**offsets, "f3dB": f3dB},
                              "error": {"Voff": "2.5mV", "f3dB": f3dB}},
                      offset_cancellation={"method": "autozero", "t_az": 40 * tau},
                      training={"epochs": 2, "seeds": 2}, solver=HEUN)
    ds = aann.Dataset("one", np.array([[0.3, 0.8]]), np.array([[0.9]]))
    p = aann.prepare(cfg, dataset=ds)
    states = []
    simulate_rows(p.circuit, p.W0, p.schedule, p.solver(),
                  on_chunk=lambda e, state, records: states.append(state))
    assert len(states) == 2  # one epoch (one row) a chunk

    def product(role, a, b):
        o = {k: aann.parse_quantity(v, k, "A" if k == "Ioff" else "V")
             for k, v in offsets[role].items()}
        return (a + o.get("Voff1", 0)) * (b + o.get("Voff", 0)) + o.get("Ioff", 0) / 1e-4

    circuit = aann.build_circuit(cfg)
    forward = jax.jit(lambda W, x: circuit.forward(W, x))  # one compile, not one per operation
    for e in (0, 1):
        W = [np.asarray(w) for w in (p.W0 if e == 0 else states[0].W)]
        for b in range(2):
            fwd = forward(tuple(jnp.asarray(w[b]) for w in W), jnp.asarray(ds.X[0]))
            x = [np.asarray(v) for v in fwd.inputs]
            Vd = [np.asarray(v) for v in fwd.Vd]
            d_out = product("delta", np.full(1, 2.5e-3), Vd[1])
            expected_out = product("charge", d_out[:, None], x[1][None, :])
            VE_h = np.sum(product("type2", d_out[:, None], W[1][b][:, 1:]), axis=0)
            d_h = product("delta", VE_h, Vd[0])
            expected_h = product("charge", d_h[:, None], x[0][None, :])
            held = [np.asarray(h)[b] for h in states[e].held]
            assert np.abs(held[1] - expected_out).max() < 1e-6
            assert np.abs(held[0] - expected_h).max() < 1e-6
            assert np.abs(expected_h).max() > 1e-3  # a path offset of mV to hold
    assert max_diff(p.W0, states[0].W) > 1e-3  # the row in between learned


ONE_ROW = aann.Dataset("one", np.array([[1.0, 0.0]]), np.array([[1.0]]))


def charged_autozero(**over) -> aann.Config:
    """XOR 2-8-1, 3 mV on the charge multipliers' error operand, autozero on 0.1 pF, 20
    networks, Heun's method (the held values and a resumed run do not depend on it);
    ``over``: further sections. Its runs on :data:`ONE_ROW` with kT/C_az noise and
    ``Q_inj`` = -2 fC (:func:`hot_autozero`) serve two tests with one compile."""
    cfg = aann.Config(blocks={"multiplier": {"charge": {"Voff1": "3mV"}}},
                      offset_cancellation={"method": "autozero", "C_az": "0.1pF"},
                      training={"epochs": 1, "seeds": 20}, solver=HEUN)
    return cfg.replace(**over) if over else cfg


def hot_autozero(epochs: int = 1, noise_seed: int = 1) -> aann.Config:
    """:func:`charged_autozero` at 300 K (kT/C_az noise) with ``Q_inj`` = -2 fC."""
    return charged_autozero(nonideal={"temperature": 300, "noise_seed": noise_seed},
                            offset_cancellation={"Q_inj": "-2fC"},
                            training={"epochs": epochs})


def test_the_held_value_carries_the_injected_charge_and_kTC_noise():
    """Against the noiseless held value (``Q_inj`` = 0, no temperature): ``Q_inj`` = -2 fC
    on 0.1 pF shifts every held value by -20 mV (100 sigma of the noise), and at 300 K
    each carries its own draw of kT/C_az noise, sigma = sqrt(k T / C_az) = 0.2 mV, from
    the network's noise seed."""

    def held(config):  # what the first row's phase holds, from the same initial weights
        from aann.engines.native import noise_keys

        p = aann.prepare(config, dataset=ONE_ROW)
        states = []
        simulate_rows(p.circuit, p.W0, p.schedule, p.solver(),
                      on_chunk=lambda e, state, records: states.append(state),
                      noise_keys=noise_keys(p))
        return [np.asarray(h) for h in states[0].held]

    clean = held(charged_autozero())
    noisy = held(hot_autozero())
    z = np.concatenate([(n - c).ravel() + 0.02 for n, c in zip(noisy, clean)])
    sigma = math.sqrt(K_BOLTZMANN * 300 / 0.1e-12)  # 0.2 mV
    # 660 draws: the sample mean and standard deviation within 4 of their standard errors
    assert abs(z.mean()) < 4 * sigma / math.sqrt(z.size)
    assert abs(z.std() / sigma - 1) < 4 / math.sqrt(2 * z.size)
    other = held(hot_autozero(noise_seed=2))  # seeded: another draw
    assert not np.array_equal(other[1], noisy[1])


def test_an_autozero_run_with_kTC_noise_resumes_bit_for_bit(tmp_path, monkeypatch):
    """The held values are state (kept in the checkpoint) and each row's kT/C_az draw
    comes from its own key: a run stopped after a chunk and resumed is the uninterrupted
    one. (The runs of the test above, over 4 epochs of its row: the same program.)"""
    from aann.engines import native

    cfg = hot_autozero(epochs=4)
    full = aann.train(cfg, dataset=ONE_ROW)
    real = native.simulate_rows

    class Stop(Exception):
        pass

    def stopping(*args, on_chunk=None, **kw):
        def cb(done, state, records):
            on_chunk(done, state, records)
            assert len(state.held) == 2  # per layer, saved with the state
            if done >= 2:
                raise Stop()
        return real(*args, on_chunk=cb, **kw)

    monkeypatch.setattr(native, "simulate_rows", stopping)
    ck = tmp_path / "checkpoint.npz"
    with pytest.raises(Stop):
        aann.train(cfg, checkpoint=ck, dataset=ONE_ROW)
    monkeypatch.setattr(native, "simulate_rows", real)
    resumed = aann.train(cfg, checkpoint=ck, resume=True, dataset=ONE_ROW)
    assert all(np.array_equal(a, b) for a, b in zip(full.W_epoch, resumed.W_epoch))
    other = aann.train(hot_autozero(epochs=4, noise_seed=2), dataset=ONE_ROW)
    assert max_diff(other.W_final, full.W_final) > 1e-6  # the noise is there


def test_no_weight_moves_while_its_vgrad_is_inside_the_dead_zone():
    """2-1, input 2 at 1 mV: its weight's ``Vgrad = VE Vd x_2`` is at most ``1 V * 0.25 V
    * 1 mV`` = 0.25 mV (``|VE| <= 1 V`` for outputs and targets in 0..1 V, ``Vd <= Kd/4``),
    inside a dead zone of 0.3 mV: that weight never moves, to the last bit, while the
    others (x0 = 1 V, x1 up to 1 V) learn. (Heun's method: a current of exactly 0 moves
    no weight in any method.)"""
    X = np.array([[0.0, 1e-3], [1.0, 1e-3], [0.5, 0.0], [1.0, 0.0]])
    ds = aann.Dataset("small-x2", X, np.array([[0.2], [0.8], [0.5], [0.7]]))
    cfg = aann.Config(network={"sizes": [2, 1]}, nonideal={"dead_zone": "0.3mV"},
                      training={"epochs": 30, "seeds": 4}, solver=HEUN)
    r = aann.train(cfg, dataset=ds)
    W = r.W_epoch[0]  # (networks, epochs, 1, 3)
    assert np.array_equal(W[..., 2], np.broadcast_to(r.W_init[0][:, None, :, 2], W.shape[:3]))
    assert np.abs(W[:, -1, :, :2] - r.W_init[0][:, :, :2]).min() > 1e-3
    free = aann.train(cfg.replace(nonideal={"dead_zone": 0.0}), dataset=ds)
    assert np.abs(free.W_final[0][..., 2] - free.W_init[0][..., 2]).min() > 1e-7


def test_the_dead_zone_gate_is_zero_inside_and_ideal_beyond_its_edge():
    node = aann.ChargingSource(dead_zone=2e-3, dead_zone_edge=0.5e-3)
    v = jnp.array([0.0, 1e-3, -1.999e-3, 2e-3, 2.25e-3, -2.25e-3, 2.5e-3, -0.3])
    I = np.asarray(node.current(1.0, v))
    np.testing.assert_array_equal(I[:4], 0.0)
    np.testing.assert_allclose(I[4:], -np.asarray(v[4:]) * np.array([0.5, 0.5, 1, 1]),
                               rtol=1e-12)
    assert float(node.current(1.0, jnp.asarray(0.3))) == -0.3  # beyond the edge: ideal


# --- the XOR study ----------------------------------------------------------------------

@pytest.mark.slow
def test_xor_with_10mV_on_the_charge_multipliers_learns_only_with_the_chopper():
    """The offsets study's XOR (2-8-1, t_row = 0.1 ps, 1000 epochs, seeds 0..9, learned:
    final MSE < 0.01 and not diverged) with ``charge.Voff1`` = 10 mV on every charge
    multiplier: no seed learns without a technique, at least 9 of 10 with the chopper."""
    from aann.experiments.offsets import _learned, base_config

    cfg = base_config(1000, 10).replace(blocks={"multiplier": {"charge": {"Voff1": "10mV"}}})
    none = _learned(aann.train(cfg))
    chop = _learned(aann.train(cfg.replace(offset_cancellation=CHOPPER)))
    print(f"XOR 2-8-1, charge.Voff1 = 10 mV: {none.sum()} of 10 learn without, "
          f"{chop.sum()} with the chopper")
    assert none.sum() == 0 and chop.sum() >= 9


# --- ngspice against the native engine --------------------------------------------------

def _offsets_everywhere(cfg):
    """Per-instance offsets in every role and at the error block: sigmas of 2 mV on
    ``Voff1`` and ``Voff`` and 0.2 uA (Km x 2 mV x 1 V) on ``Ioff`` of every multiplier,
    2 mV on the error block's ``Voff``; Monte Carlo sample 5."""
    return cfg.replace(mismatch={"seed": 5, "multiplier.Voff1": "2mV", "multiplier.Voff": "2mV",
                                 "multiplier.Ioff": "0.2uA", "error.Voff": "2mV"})


SPICE_W = [aann.random_weights((2, 3, 2), 1)]


def offsets_232(**sections) -> aann.Config:
    """2-3-2 on two-output XOR with :func:`_offsets_everywhere`, a pole on the charge
    multipliers, 4 epochs (every row 4 times), one network from :data:`SPICE_W`;
    ``sections``: the technique."""
    return _offsets_everywhere(aann.Config(
        network={"sizes": [2, 3, 2]}, blocks={"multiplier": {"charge": {"f3dB": "100THz"}}},
        training={"epochs": 4, "seeds": 1, "init_range": "0.5V"}, **sections))


def on_both_engines(cfg):
    """``cfg`` on ngspice, and natively with a tight solver on ngspice's row edges."""
    from test_spice_engine import TIGHT, XOR2

    s = aann.train(cfg, engine="ngspice", dataset=XOR2, init_weights=SPICE_W, samples=[5])
    n = aann.train(cfg.replace(training={"t_edge": s.engine_info.t_edge}, solver=TIGHT),
                   dataset=XOR2, init_weights=SPICE_W, samples=[5])
    return s, n


@functools.cache
def without_technique(t_edge: float):
    """:func:`offsets_232` without a technique, natively on ngspice's row edges: the
    reference of each technique's effect (asked above 10 mV), run once for the tests
    below. Heun's method at the fixed steps resolved for the pole: within 2e-7 V of the
    tight solver (measured), which the reference does not need."""
    from test_spice_engine import XOR2

    return aann.train(offsets_232().replace(training={"t_edge": t_edge}, solver=HEUN),
                      dataset=XOR2, init_weights=SPICE_W, samples=[5])


@pytest.mark.slow
@pytest.mark.ngspice
@pytest.mark.parametrize("cancellation", [
    {"method": "chopper", "periods_per_row": 2},
    {"method": "chopper", "periods_per_row": 2, "demodulator": "output"},
    {"method": "chopper", "periods_per_row": 2, "demodulator": "output", "phase": 90},
    {"method": "chopper", "periods_per_row": 2, "demodulator": "output", "phase": 90,
     "charging_periods": 8},
    {"method": "autozero", "t_az": "20fs", "Q_inj": "0.05fC"},
])
def test_ngspice_and_native_agree_within_1mV_with_offsets_in_every_role(cancellation):
    """With the chopper demodulating the sources' currents, the sources' own offset
    (``[nonideal] Voff`` 1 mV) is on too: it is what that placement chops (and, with
    ``charging_periods``, the sources' own chopper ``s2``)."""
    extra = {"nonideal": {"Voff": "1mV"}} if cancellation.get("demodulator") else {}
    s, n = on_both_engines(offsets_232(offset_cancellation=cancellation, **extra))
    dW = max_diff(s.W_epoch, n.W_epoch)
    dOut = np.abs(s.mse - n.mse).max()
    plain = without_technique(s.engine_info.t_edge)
    effect = max_diff(plain.W_final, n.W_final)
    print(f"2-3-2 {cancellation['method']}: ngspice - native {dW:.3g} V (MSE {dOut:.3g}); "
          f"technique - none {effect:.3g} V")
    assert dW < 1e-3 and effect > 1e-2
    assert s.circuit_seconds == pytest.approx(n.circuit_seconds)


@pytest.mark.slow
@pytest.mark.ngspice
def test_ngspice_and_native_agree_within_1mV_with_a_dead_zone():
    """The dead zone on the same circuit as the techniques above: its offsets are what a
    dead zone blocks; the reference without it is theirs."""
    s, n = on_both_engines(offsets_232(nonideal={"dead_zone": "20mV",
                                                 "dead_zone_edge": "1mV"}))
    free = without_technique(s.engine_info.t_edge)
    dW, effect = max_diff(s.W_epoch, n.W_epoch), max_diff(free.W_final, n.W_final)
    print(f"2-3-2 dead zone 20 mV: ngspice - native {dW:.3g} V; effect {effect:.3g} V")
    assert dW < 1e-3 and effect > 1e-2


def test_the_netlist_writes_the_modulators_and_the_sample_and_hold():
    chop, _ = aann.netlist(aann.Config(offset_cancellation={"method": "chopper",
                                                            "periods_per_row": 2},
                                       training={"epochs": 1}))
    assert "Vchop vchop 0 PULSE(1.0 -1.0 " in chop
    assert "v(vchop)" in chop.split("BE_l3_n1")[1].splitlines()[0]  # the error block's inputs
    assert "Bch0 0 w0 I=((-1.0*v(vteach))*(v(vchop)*" in chop
    out, _ = aann.netlist(aann.Config(offset_cancellation={
        "method": "chopper", "demodulator": "output"}, training={"epochs": 1}))
    assert "Bch0 0 w0 I=(v(vchop)*((-1.0*v(vteach))*" in out
    nested, _ = aann.netlist(aann.Config(offset_cancellation={
        "method": "chopper", "demodulator": "output", "charging_periods": 2},
        training={"epochs": 1}))
    assert "Vchop2 vchop2 0 PULSE(1.0 -1.0 " in nested  # s2: 2 periods a row, phase 90
    assert "Bch0 0 w0 I=((v(vchop)*v(vchop2))*((-1.0*v(vteach))*(v(vchop2)*" in nested
    az, _ = aann.netlist(aann.Config(offset_cancellation=AUTOZERO, training={"epochs": 2}))
    assert "Vphase vphase 0 PULSE(" in az and "Vsample vsample 0 PULSE(" in az
    assert "Caz0 az0 0 1e-13" in az and "(1.0-v(vphase))" in az
    # the run lasts the rows and their phases: 2 epochs of 4 rows of 110 fs
    assert az.splitlines()[-2].split()[2] == repr(8 * 110e-15)
    dz, _ = aann.netlist(aann.Config(nonideal={"dead_zone": "1mV"}, training={"epochs": 1}))
    assert "min(max(((abs(" in dz
