"""Bad descriptions, flags and library calls: a clean error naming the problem, quickly.

Each case is one a tester found ending in a traceback, a hang, or a silent
misreading (issue "Hardening"). The CLI cases check the promise itself: exit
code 2, one line ``error: ...``, no traceback.
"""

import io
import json
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import aann
from aann.cli import main

QUICK = ["--epochs", "2", "--seeds", "1"]


def refused(capsys, argv, *words):
    """The CLI refuses ``argv``: exit 2, one ``error:`` line containing ``words``."""
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    return err


# --- units by dimension, overflow -------------------------------------------------

@pytest.mark.parametrize("section,key,value", [
    ("blocks", "multiplier.Km", "100uA"), ("blocks", "type2.K_E", "5s"),
    ("solver", "rtol", "1Hz")])
def test_a_unit_on_a_unitless_key_is_refused(section, key, value):
    if section == "blocks":
        block, name = key.split(".")
        over = {"blocks": {block: {name: value}}}
    else:
        name, over = key, {section: {key: value}}
    with pytest.raises(aann.ValidationError, match=f"{name}: '{value}' has a unit"):
        aann.Config(**over)


def test_a_key_with_a_unit_refuses_another_dimension():
    with pytest.raises(aann.ValidationError, match="is in A, but training.t_row is in s"):
        aann.Config(training={"t_row": "1uA"})


@pytest.mark.parametrize("over,message", [
    ({"training": {"t_row": "1e999999999ps"}}, "is not a finite number"),
    ({"training": {"t_row": 10 ** 400}}, "is not a finite number"),
    ({"constants": {"C": "1e-99999999999F"}}, "must be positive")])  # underflows to 0
def test_values_beyond_floating_point_are_refused(over, message):
    with pytest.raises(aann.ValidationError, match=message):
        aann.Config(**over)


@pytest.mark.parametrize("over", [
    {"training": {"t_row": 1e300}}, {"constants": {"Keta": "1e300S", "C": "1e-300F"}}])
def test_an_overflowing_learning_rate_is_refused(over):
    with pytest.raises(aann.ValidationError, match="lambda = Keta/C \\* Vteach \\* t_row"):
        aann.Config(**over)


def test_km_zero_is_refused_and_init_range_beyond_the_bound():
    with pytest.raises(aann.ValidationError, match="Km must not be zero"):
        aann.Config(blocks={"multiplier": {"Km": 0}})
    with pytest.raises(aann.ValidationError, match="init_range = 1e\\+308 is above its limit"):
        aann.Config(training={"init_range": 1e308})


@pytest.mark.parametrize("key,value", [("dataset", 5), ("init_weights", 1.5),
                                       ("epochs", 2.0), ("teach", True)])
def test_a_value_of_the_wrong_type_is_refused(key, value):
    with pytest.raises(aann.ValidationError, match=f"training.{key}"):
        aann.Config(training={key: value})


# --- sizes that would exhaust memory or time: refused at once -----------------------

@pytest.mark.parametrize("over,words", [
    ({"network": {"sizes": [2, 1099511627776, 1]}}, "capacitors"),
    ({"training": {"epochs": 10 ** 12}}, "epochs"),
    ({"training": {"seeds": 10 ** 12}}, "network(s)"),
    ({"solver": {"steps": 10 ** 20}}, "above its limit"),
    ({"solver": {"samples_per_row": 10 ** 8}}, "above its limit")])
def test_sizes_beyond_the_limits_are_refused_quickly(over, words):
    started = time.perf_counter()
    with pytest.raises(aann.ValidationError, match="limit|GiB") as e:
        aann.train(aann.Config(**over))
    assert words in str(e.value)
    assert time.perf_counter() - started < 5


def test_memory_estimate_follows_the_environment(monkeypatch):
    monkeypatch.setenv("AANN_MEMORY_GB", "0.0001")
    with pytest.raises(aann.ValidationError, match="raise AANN_MEMORY_GB"):
        aann.prepare(aann.Config())
    monkeypatch.setenv("AANN_MEMORY_GB", "lots")
    with pytest.raises(aann.ValidationError, match="AANN_MEMORY_GB"):
        aann.prepare(aann.Config())


def test_netlist_of_a_huge_seed_is_quick(tmp_path, capsys):
    started = time.perf_counter()
    rc = main(["netlist", "--topology", "1-2-1", "--dataset", "two-row", "--epochs", "1",
               "--seed", str(10 ** 12), "-o", str(tmp_path / "n.cir")])
    assert rc == 0 and time.perf_counter() - started < 20
    assert f"seed {10 ** 12}" in (tmp_path / "n.cir").read_text()


# --- files -----------------------------------------------------------------------

def test_toml_that_is_not_utf8_or_nested_too_deeply(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'[training]\ndataset = "x\xff"\n')
    refused(capsys, ["train", str(bad)], "is not UTF-8")
    deep = tmp_path / "deep.toml"
    deep.write_text("[network]\nsizes = " + "[" * 3000 + "]" * 3000 + "\n")
    refused(capsys, ["train", str(deep)], "malformed TOML")


def test_damaged_checkpoints_are_refused(tmp_path, capsys):
    out = tmp_path / "o"
    cfg = aann.Config(training={"epochs": 2, "seeds": 1})
    out.mkdir()
    aann.train(cfg, checkpoint=out / "c.npz")
    good = (out / "c.npz").read_bytes()
    cases = {"truncated": good[: len(good) // 2], "not a zip": b"hello",
             "empty": b""}
    for why, data in cases.items():
        (out / "c.npz").write_bytes(data)
        with pytest.raises(aann.ValidationError, match="damaged|no readable") as e:
            aann.train(cfg, checkpoint=out / "c.npz", resume=True)
        assert "c.npz" in str(e.value), why
    # a valid archive, its arrays tampered with
    with np.load(io.BytesIO(good)) as f:
        arrays = {k: f[k] for k in f.files}
    for tamper in ("drop", "shape", "fingerprint", "rows done"):
        bad = dict(arrays)
        if tamper == "drop":
            bad.pop("mse")
        elif tamper == "shape":
            bad["state_0"] = np.zeros((7, 7))
        elif tamper == "rows done":  # the one scalar of the state: rows applied so far
            k = next(name for name, a in arrays.items() if name.startswith("state_")
                     and a.ndim == 0)
            bad[k] = arrays[k] + 1
        else:
            bad["fingerprint"] = np.array("{not json")
        np.savez(out / "c.npz", **bad)
        with pytest.raises(aann.ValidationError, match="damaged"):
            aann.train(cfg, checkpoint=out / "c.npz", resume=True)


def test_a_refused_run_leaves_no_output_folder(tmp_path, capsys):
    out = tmp_path / "never"
    refused(capsys, ["train", "--dataset", "nosuch", "--out", str(out)], "nosuch")
    refused(capsys, ["train", "--init-weights", str(tmp_path / "missing.json"), "--out",
                     str(out)], "missing.json")
    assert not out.exists()


def test_a_path_with_a_newline_stays_on_one_line(tmp_path, capsys):
    refused(capsys, ["train", str(tmp_path / "a\nb.toml")], "a\\nb.toml")


# --- flags and library calls ------------------------------------------------------

def test_no_arguments_show_the_help_without_an_empty_error(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert "Usage" in captured.out and "error" not in captured.err
    assert main(["reproduce"]) == 2
    assert "error" not in capsys.readouterr().err


def test_flag_combinations_are_checked(tmp_path, capsys):
    wave = tmp_path / "s.csv"
    wave.write_text("time,Vin1,Vin2,Vtarget1\n0,0,0,0\n1e-13,1,1,1\n")
    refused(capsys, ["train", "--stimulus", str(wave), "--engine", "foo"], "unknown engine")
    refused(capsys, ["reproduce", "fig8", "--epochs", "0", "--out", str(tmp_path / "r")],
            "--epochs")
    refused(capsys, ["train", *QUICK, "--resume", "--waveforms", "--out", str(tmp_path / "w")],
            "--resume")


def test_unknown_keywords_of_train_are_refused():
    with pytest.raises(aann.ValidationError, match="'epochs'"):
        aann.train(aann.Config(training={"epochs": 1, "seeds": 1}), epochs=5)
    with pytest.raises(aann.ValidationError, match="'waveform'"):
        aann.train(aann.Config(training={"epochs": 1, "seeds": 1}), waveform=True)


# 1-2-1 on two rows at fixed steps: the run with the default Keta (1 S; the circuit's
# constants are static in its compiled program) is compiled once for the two tests below
ONE_TWO_ONE = aann.Config(network={"sizes": [1, 2, 1]},
                          training={"dataset": "two-row", "epochs": 2, "seeds": 1},
                          solver={"steps": 8})  # the same steps for every Keta


def test_initial_weights_given_as_lists_are_checked():
    cfg = ONE_TWO_ONE
    good = [np.zeros((2, 2)), np.zeros((1, 3))]
    aann.train(cfg, init_weights=[good])
    bad_nan = [np.full((2, 2), np.nan), np.zeros((1, 3))]
    with pytest.raises(aann.ValidationError, match="NaN"):
        aann.train(cfg, init_weights=[bad_nan])
    with pytest.raises(aann.ValidationError, match="shape"):
        aann.train(cfg, init_weights=[[np.zeros((3, 2)), np.zeros((1, 3))]])
    with pytest.raises(aann.ValidationError, match="seed"):
        aann.train(cfg, init_weights=[{"seed": "abc", "layers": good}])
    with pytest.raises(aann.ValidationError, match="at least one"):
        aann.train(cfg, init_weights=[])


def test_a_batched_circuit_equals_separate_runs_and_is_checked():
    """Circuit constants batched over networks (one Keta per network) give each network
    the run it would have alone, whether every constant carries the network axis or
    only Keta; a circuit that fits neither sizes nor batch is refused."""
    cfg = ONE_TWO_ONE
    W = [np.array([[0.1, -0.2], [0.3, 0.4]]), np.array([[0.05, -0.1, 0.2]])]
    circuits = [aann.build_circuit(cfg.replace(constants={"Keta": k})) for k in (1.0, 2.0)]
    batched = jax.tree.map(lambda *x: jnp.stack(x), *circuits)
    only_keta = eqx.tree_at(lambda c: c.charging.Keta, circuits[0], jnp.array([1.0, 2.0]))
    alone = [aann.train(cfg.replace(constants={"Keta": k}), init_weights=[W])
             for k in (1.0, 2.0)]
    for circuit in (batched, only_keta):
        both = aann.train(cfg, init_weights=[W, W], circuit=circuit, circuit_batched=True)
        for b in range(2):
            for x, y in zip(both.W_final, alone[b].W_final):
                np.testing.assert_allclose(x[b], y[0], rtol=0, atol=1e-12)
    with pytest.raises(aann.ValidationError, match="leading axis of 3"):
        aann.train(cfg, init_weights=[W, W, W], circuit=batched, circuit_batched=True)
    with pytest.raises(aann.ValidationError, match="sizes"):
        aann.train(cfg.replace(network={"sizes": [1, 3, 1]}), circuit=circuits[0])
    with pytest.raises(aann.ValidationError, match="needs a circuit"):
        aann.train(cfg, circuit_batched=True)


@pytest.mark.ngspice
def test_a_failing_ngspice_run_keeps_its_netlist_and_says_so_in_one_line():
    from aann.engines.spice import run_ngspice

    text = "* broken\nV1 a 0 DC 1\nB1 o 0 V=tanh(v(a)*2\nR1 o 0 1k\n.tran 1p 10p\n.end\n"
    with pytest.raises(aann.SimulationError) as e:
        run_ngspice(text)
    message = str(e.value)
    assert "\n" not in message and "netlist line 3" in message
    kept = message.split(" in ", 1)[1].split(":", 1)[0]
    assert kept.endswith(".cir") and open(kept).read() == text
    log = message.rsplit("its messages are in ", 1)[1]
    assert "tanh" in open(log).read() or open(log).read()


def test_strict_json_for_a_diverged_run(tmp_path):
    import dataclasses

    r = aann.train(aann.Config(training={"epochs": 2, "seeds": 1, "t_row": "1ns"},
                               solver={"method": "euler", "steps": 2}))
    assert r.diverged_epoch[0] == 1
    W = [w.copy() for w in r.W_final]
    W[0][0, 0, 0], W[0][0, 0, 1] = np.nan, np.inf  # as a run that overflowed leaves them
    dataclasses.replace(r, W_final=tuple(W)).save(tmp_path, plots=False)
    def bare(constant):
        pytest.fail(f"bare {constant} in strict JSON")

    weights = json.loads((tmp_path / "weights.json").read_text(), parse_constant=bare)
    json.loads((tmp_path / "summary.json").read_text(), parse_constant=bare)
    assert None in np.ravel(weights["networks"][0]["layers"][0])  # a diverged weight: null


def test_netlist_output_paths_are_checked(tmp_path, capsys):
    base = ["netlist", "--topology", "1-2-1", "--dataset", "two-row", "--epochs", "1", "-o"]
    refused(capsys, base + [str(tmp_path / "missing" / "n.cir")], "does not exist")
    refused(capsys, base + [str(tmp_path)], "is a folder")
    refused(capsys, base + [""], "empty")
    (tmp_path / "file").write_text("")
    refused(capsys, base + [str(tmp_path / "file" / "n.cir")], "is not a folder")
    assert main(base + [str(tmp_path / "n.cir")]) == 0


# --- arguments of the wrong kind (issue 20) ------------------------------------------

SMALL_TOML = ('[network]\nsizes = [1, 1]\n'
              '[training]\ndataset = "two-row"\nepochs = 2\nseeds = 1\n')


def test_train_and_simulate_take_the_path_of_a_toml_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(SMALL_TOML)
    cfg = aann.load_toml(path)
    direct = aann.train(cfg)
    for given in (path, str(path)):
        np.testing.assert_array_equal(aann.train(given).W_final[0], direct.W_final[0])
    wave = aann.Waveform([0.0, 1e-13, 2e-13], [0.0, 1.0, 1.0], [0.8, 0.2, 0.2], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(aann.simulate(str(path), wave).W_final[0],
                                  aann.simulate(cfg, wave).W_final[0])
    with pytest.raises(aann.ValidationError, match="cannot read config .*missing.toml"):
        aann.train(tmp_path / "missing.toml")


@pytest.mark.parametrize("call,message", [
    (lambda: aann.train(5), "config must be an aann.Config or the path of a TOML file, not int"),
    (lambda: aann.simulate([1], "w.csv"),
     "config must be an aann.Config or the path of a TOML file, not list"),
    (lambda: aann.load_toml(5),
     "config must be the path of a TOML file (a str or os.PathLike), not int"),
    (lambda: aann.load_dataset(None),
     "dataset must be the name of a built-in data set (xor, parity3, two-row, iris, wine, "
     "breast_cancer, digits) or the path of a CSV file with columns x1..xN and y1..yM "
     "(targets in V) or class (integers 0, 1, ...), not NoneType"),
    (lambda: aann.simulate(aann.Config(), 5),
     "stimulus must be an aann.Waveform or the path of a CSV file with columns time, "
     "Vin1..VinN, Vtarget1..VtargetM and optionally Vteach, not int"),
    (lambda: aann.train(aann.Config(), stimulus=2.5), "stimulus must be an aann.Waveform"),
    (lambda: aann.Waveform.from_csv(None), "stimulus must be an aann.Waveform"),
])
def test_an_argument_of_the_wrong_kind_is_named(call, message):
    with pytest.raises(aann.ValidationError) as e:
        call()
    assert message in str(e.value)


@pytest.mark.parametrize("times,words", [
    ([0.0, 1e308], ["breakpoint 1 at 1e+308 s is beyond 1e+250 s", "overflows float64"]),
    ([-1e251, 0.0], ["breakpoint 0 at -1e+251 s is beyond 1e+250 s"]),
    ([0.0, 1e-260], ["a piece must last at least 1e-250 s", "smallest normal float64"])])
def test_waveform_times_beyond_what_the_solver_can_step_are_refused_at_load(
        tmp_path, times, words):
    path = tmp_path / "w.csv"
    path.write_text("time,Vin1,Vtarget1\n" + "".join(f"{t!r},0,0\n" for t in times))
    with pytest.raises(aann.ValidationError) as e:
        aann.Waveform.from_csv(path)
    assert str(path) in str(e.value)
    for w in words:
        assert w in str(e.value)


def test_waveform_times_at_the_bounds_run():
    cfg = aann.Config(network={"sizes": [1, 1]}, training={"seeds": 1})
    top, short = aann.stimulus.MAX_TIME, aann.stimulus.MIN_PIECE
    for t in ([-top, 0.0, top], [0.0, short, 2 * short]):
        r = aann.simulate(cfg, aann.Waveform(t, [0.0] * 3, [1.0] * 3, [0.0] * 3))
        np.testing.assert_array_equal(r.W_final[0], r.W_init[0])  # Vteach = 0: held


def test_validating_a_description_builds_no_circuit(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a circuit was built")

    monkeypatch.setattr(aann.circuit, "build_circuit", refuse)
    monkeypatch.setattr(aann.circuit.Circuit, "__init__", refuse)
    monkeypatch.setattr(aann.spec.BlockSpec, "build", refuse)
    cfg = aann.Config(blocks={"multiplier": {"law": "parasitic", "charge": {"Voff1": "1mV"}}},
                      mismatch={"multiplier.Km": "3%", "multiplier.charge.Voff1": "5%",
                                "C": "1%"})
    cfg.replace(training={"epochs": 3})
    with pytest.raises(aann.ValidationError, match="mismatch of multiplier.forward.Voff is "
                                                   "relative"):
        aann.Config(mismatch={"multiplier.Voff": "5%"})
