"""The SkyWater 130 nm switch cell (aann.cells.switch), the autozero's sampling switch:
its on-resistance against an independent operating point, the injected charge as a
charge (the same on two hold capacitors), the dummies' effect against the bare gate, the
leakage bound, the fitted line, and the CLI with its loadable fit.toml.

One characterization at 7 signal points (module scope; `aann characterize switch
--points 7` runs the same netlist, which tests/conftest.py shares). Marked ``ngspice``
and ``sky130`` like tests/test_cells.py."""

import tomllib

import numpy as np
import pytest

import aann
from aann.cells import CELLS
from aann.cells.models import model_lines, run_with_models
from aann.cells.switch import RON_DROP, characterize_switch, without_dummies
from aann.cli import main
from aann.errors import ValidationError

LINE_PCT = 2.0  # the line Q0 + Q1 V over its range, % of the largest |Q_inj| (docs/cells.md)


@pytest.fixture(scope="module")
def switch():
    return characterize_switch(points=7)


@pytest.mark.ngspice
@pytest.mark.sky130
def test_on_resistance_matches_an_operating_point_with_a_known_current(switch):
    """A different measurement of the same quantity: 2 uA forced out of b, a held at Vcm,
    R = (V(a) - V(b)) / 2 uA. That operating point sits at the mean signal -R I / 2 (not
    the sweep's 0 V): the two agree within the sweep's slope over that shift."""
    current = 2e-6
    cell = CELLS["switch"]
    text = "\n".join(["* Ron at a known current", model_lines().rstrip(), cell.text.strip(),
                      "Va a 0 0.9", "Vk k 0 1.8", "Vkb kb 0 0", "Vdd vdd 0 1.8",
                      f"X1 a b k kb vdd 0 {cell.name}", f"Iout b 0 DC {current:g}",
                      ".op", ".end", ""])
    op = run_with_models(text, name="ron")[0]
    r_op = float(op["v(a)"][0] - op["v(b)"][0]) / current
    r0 = switch.at(switch.ron)
    shift = r_op * current / 2 + RON_DROP / 2  # the two operating points' distance (V)
    k = int(np.searchsorted(switch.V, 0.0))
    slope = max(abs(np.diff(switch.ron)[k - 1:k + 1] / np.diff(switch.V)[k - 1:k + 1]))
    assert abs(r_op - r0) <= slope * shift + 1e-3 * r0
    assert 1e3 < r0 < 1e4  # the design's "a few kOhm" at mid-supply


@pytest.mark.ngspice
@pytest.mark.sky130
def test_injected_charge_is_a_charge_the_same_on_1_and_3_pF(switch):
    """dV goes as 1/C_h: C_h dV agrees at 1 and 3 pF within 5 % of the bare gate's largest
    charge (the hold node's own few fF are under 1 % of 1 pF; Ron C_h of 2.6 ns and more
    exceeds the 1 ns edge, so the channel charge splits about evenly). At 0.1 pF (Ron C_h
    0.26 ns, shorter than the edge) the hold side gets clearly less of it."""
    fs = np.max(np.abs(switch.q_plain[1e-12]))
    for q in (switch.q, switch.q_plain):
        assert np.max(np.abs(q[1e-12] - q[3e-12])) <= 0.05 * fs
    assert np.max(np.abs(switch.q_plain[0.1e-12])) < 0.95 * fs


@pytest.mark.ngspice
@pytest.mark.sky130
def test_dummies_cancel_most_of_the_injected_charge(switch):
    """The same gate without its dummies, run beside. Half-size dummies take up half the
    channel charge, what a fast edge leaves on the hold side: there (1 and 3 pF, Ron C_h
    beyond the edge) the largest |Q_inj| over the signal range is at least 5 times
    smaller with them; at 0.1 pF, where the hold side gets less than half, they
    overcompensate but still reduce it. At V = 0 (the autozero's held offsets) it is
    smaller on every hold capacitor."""
    for c in switch.holds:
        with_, bare = np.max(np.abs(switch.q[c])), np.max(np.abs(switch.q_plain[c]))
        assert with_ <= bare / (5 if c >= 1e-12 else 1)
        assert abs(switch.at(switch.q[c])) < abs(switch.at(switch.q_plain[c]))
    plain = without_dummies(CELLS["switch"])
    assert "XMdn" not in plain.text and "XMn " in plain.text
    with pytest.raises(ValidationError, match="no dummy"):
        without_dummies(plain)


@pytest.mark.ngspice
@pytest.mark.sky130
def test_leakage_and_static_current_below_a_picoampere(switch):
    """1 pA droops a 1 pF hold by 1 uV per microsecond row: negligible against the mV
    offsets the autozero holds. The clocks draw charge only while they switch."""
    assert np.max(np.abs(switch.leak)) < 1e-12
    assert max(abs(v) for v in switch.static.values()) < 1e-12
    assert np.all(switch.q_clk > 0) and np.all(switch.q_clkb > 0)


@pytest.mark.ngspice
@pytest.mark.sky130
@pytest.mark.parametrize("c", [1e-12, 3e-12])
def test_fitted_line_within_2_percent_over_its_range(switch, c):
    q0, q1, err, _ = switch.lines[c]
    inside = np.abs(switch.V) <= switch.fit_half + 1e-12
    miss = np.abs(q0 + q1 * switch.V[inside] - switch.q[c][inside])
    assert np.max(miss) / np.max(np.abs(switch.q[c])) * 100 == pytest.approx(err)
    assert err <= LINE_PCT


@pytest.mark.ngspice
@pytest.mark.sky130
def test_characterize_switch_writes_a_loadable_fit(switch, tmp_path, capsys):
    out = tmp_path / "sw"
    assert main(["characterize", "switch", "--corner", "tt", "--points", "7",
                 "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} >= {"fit.toml", "sweep.csv", "summary.json",
                                                "fit.png"}
    cfg = aann.spec.from_dict(tomllib.loads((out / "fit.toml").read_text()))
    oc = cfg.offset_cancellation
    assert oc.method == "autozero" and oc.C_az == 1e-12
    assert oc.Q_inj == pytest.approx(switch.lines[1e-12][0])
    rows = (out / "sweep.csv").read_text().splitlines()
    assert len(rows) == 1 + 7 and rows[0].startswith("V,Ron_ohm,Ileak_A")


def test_switch_bad_inputs(tmp_path, capsys):
    def error(*argv):
        assert main(list(argv)) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1
        return err

    out = str(tmp_path / "o")
    assert "odd number" in error("characterize", "switch", "--points", "8", "--out", out)
    assert "--kind" in error("characterize", "switch", "--kind", "sigmoid", "--out", out)
    assert "--mismatch" in error("characterize", "switch", "--mismatch", "4", "--out", out)
    assert "not known" in error("characterize", "switch", "--corner", "xx", "--out", out)
    with pytest.raises(ValidationError, match="characterize_switch"):
        aann.cells.characterize("switch")
    with pytest.raises(ValidationError, match="hold capacitors"):
        characterize_switch(holds=(0.0,))
