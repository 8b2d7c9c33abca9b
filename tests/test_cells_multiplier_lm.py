"""The low-mismatch multiplier cell (``multiplier_lm``, docs/cells.md "Low-mismatch
multiplier"): its nominal law fits as the other multiplier's does, at twice its ``Km``,
and the PDK's mismatch models spread its constants by the fraction of the old cell's
that a network of cells needs to learn XOR.

Marked ``ngspice`` and ``sky130`` (tests/conftest.py); the Monte Carlo test is ``slow``
(three sweeps, about 10 s)."""

import numpy as np
import pytest

from aann.cells import CELLS, characterize
from aann.cells.characterization import evaluate, full_scale
from aann.cells.mismatch import monte_carlo

FIT_PCT = 2.0  # the analytic law, % of full scale over the fitted range (docs/cells.md)
TABLE_PCT = 0.5  # the tabulated law at the midpoints between its grid points
KM_DESIGN = 1.31e-4  # A/V^2: the design point, twice the Gilbert cell's 6.55e-5 at tt

# The cell's sigmas over 8 samples at tt (aann characterize multiplier_lm --mismatch 8,
# docs/cells.md); the targets the native XOR study set are Km 0.4 %, Voff1 and Voff
# 1.2 mV, Ioff 0.11 uA, and the old cell's are 4 %, 11 mV, 13 mV, 0.75 uA.
SIGMA_8 = {"Km": 0.0023, "Voff1": 1.0e-3, "Voff": 0.9e-3, "Ioff": 60e-9}
SAMPLES = 3
# The standard deviation s of n samples of a normal variable: (n - 1) s^2 / sigma^2 is
# chi-square with n - 1 degrees of freedom; with n = 3, P(s > k sigma) = exp(-k^2), 1 %
# at k = 2.15. A bound of 2.15 x the 8-sample sigma (still 5 to 20 times below the old
# cell's) fails when the cell's spread grew, not by the draw of three samples.
K_99 = 2.15


@pytest.mark.ngspice
@pytest.mark.sky130
def test_nominal_law_fits_at_twice_the_gain():
    cell = CELLS["multiplier_lm"]
    assert cell.kind == "multiplier" and cell.ports == CELLS["multiplier"].ports
    ch = characterize("multiplier_lm", points=7, bandwidth=False)
    fs = full_scale(ch.sweep)
    pred = evaluate(ch.kind, ch.best.block(ch.kind), ch.sweep.inputs)
    assert np.max(np.abs(pred - ch.sweep.y)) / fs * 100 <= FIT_PCT
    assert ch.table_errors()[0] <= TABLE_PCT  # at the midpoints: not built from them
    Km = ch.best.constants["Km"]
    assert Km == pytest.approx(KM_DESIGN, rel=0.1)
    # the law's own full scale: Km x 0.2 V x 0.2 V, within the polynomial terms' share
    assert fs == pytest.approx(Km * 0.2 * 0.2, rel=0.1)
    null = ch.null_offsets()  # nominal offsets: far below the mismatch targets
    assert abs(null["Voff1"]) < 0.1e-3 and abs(null["Voff"]) < 0.1e-3
    assert abs(null["Ioff"]) < 10e-9


@pytest.mark.ngspice
@pytest.mark.sky130
@pytest.mark.slow
def test_mismatch_spread_is_within_the_targets():
    mc = monte_carlo(CELLS["multiplier_lm"], SAMPLES, points=7)
    sigmas = mc.sigmas()
    for key, sigma in SIGMA_8.items():
        assert sigmas[key][0] <= K_99 * sigma, key
