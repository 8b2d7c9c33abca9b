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
